/**
 * The ttl match (libipt_ttl): IPv4 time to live equal, not equal, below or
 * above a value.
 */
import { defineMatch, paramError } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** ipt_ttl_info data. */
export interface TtlInfo {
  /** IPT_TTL_EQ (0), NE (1), LT (2), GT (3). */
  mode: number;
  ttl: number;
}

const ANY = [0, 1, 2];

/** The ttl match definition (IPv4). */
export const ttl = defineMatch<TtlInfo>({
  name: 'ttl',
  family: 'ipv4',
  help: () => PROTO_HELP['ttl']!,
  options: [
    { name: 'ttl-lt', id: 1, type: 'uint8', excl: ANY },
    { name: 'ttl-gt', id: 2, type: 'uint8', excl: ANY },
    { name: 'ttl-eq', id: 0, type: 'uint8', excl: ANY, invert: true },
    { name: 'ttl', id: 0, type: 'uint8', excl: ANY },
  ],
  init: () => ({ mode: 0, ttl: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.ttl = cb.val.num!;
    const id = cb.entry.id;
    cb.info.mode = id === 0 ? (cb.invert ? 1 : 0) : id === 1 ? 2 : 3;
  },
  final(cb) {
    if (!(cb.xflags & 0x7))
      throw paramError("TTL match: You must specify one of `--ttl-eq', `--ttl-lt', `--ttl-gt");
  },
  print(info) {
    const op = ['==', '!=', '<', '>'][info.mode];
    return ` TTL match ${op === undefined ? '' : `TTL ${op}`} ${info.ttl}`;
  },
  save(info) {
    const opt = [' --ttl-eq', ' ! --ttl-eq', ' --ttl-lt', ' --ttl-gt'][info.mode] ?? '';
    return `${opt} ${info.ttl}`;
  },
  match(info, ctx) {
    const ttl = ctx.skb.data[8]!;
    switch (info.mode) {
      case 0:
        return ttl === info.ttl;
      case 1:
        return ttl !== info.ttl;
      case 2:
        return ttl < info.ttl;
      case 3:
        return ttl > info.ttl;
    }
    return false;
  },
});
