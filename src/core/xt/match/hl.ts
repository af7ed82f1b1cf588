/**
 * The hl match (libip6t_hl): the IPv6 hop limit equal, not equal, below or
 * above a value. IPv6 only; the IPv4 counterpart is ttl.
 */
import { defineMatch, paramError } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';

/** struct ip6t_hl_info. */
export interface HlInfo {
  /** IP6T_HL_EQ (0), NE (1), LT (2), GT (3). */
  mode: number;
  hopLimit: number;
}

const ANY = [0, 1, 2];

/** The hl match definition (IPv6). */
export const hl = defineMatch<HlInfo>({
  name: 'hl',
  family: 'ipv6',
  help: () => IP6_HELP['hl']!,
  options: [
    { name: 'hl-lt', id: 1, type: 'uint8', excl: ANY },
    { name: 'hl-gt', id: 2, type: 'uint8', excl: ANY },
    { name: 'hl-eq', id: 0, type: 'uint8', excl: ANY, invert: true },
    { name: 'hl', id: 0, type: 'uint8', excl: ANY },
  ],
  init: () => ({ mode: 0, hopLimit: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.hopLimit = cb.val.num!;
    const id = cb.entry.id;
    cb.info.mode = id === 0 ? (cb.invert ? 1 : 0) : id === 1 ? 2 : 3;
  },
  final(cb) {
    if (!(cb.xflags & 0x7)) throw paramError("HL match: You must specify one of `--hl-eq', `--hl-lt', `--hl-gt'");
  },
  check(info) {
    return info.mode > 3 ? { errno: 'EINVAL' } : undefined;
  },
  print(info) {
    return ` HL match HL ${['==', '!=', '<', '>'][info.mode] ?? ''} ${info.hopLimit}`;
  },
  save(info) {
    return ` ${['--hl-eq', '! --hl-eq', '--hl-lt', '--hl-gt'][info.mode] ?? ''} ${info.hopLimit}`;
  },
});
