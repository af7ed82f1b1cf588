/**
 * The HL target (libip6t_HL): sets, decrements or increments the IPv6 hop
 * limit. The kernel allows it in the mangle table only. IPv6 only; the
 * IPv4 counterpart is TTL.
 */
import { defineTarget, paramError } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';
import { checkPlacement } from './target-util.js';

/** struct ip6t_HL_info. */
export interface HlTargetInfo {
  /** IP6T_HL_SET (0), INC (1), DEC (2). */
  mode: number;
  hopLimit: number;
}

const ANY = [0, 1, 2];

/** The HL target definition (IPv6). */
export const HL = defineTarget<HlTargetInfo>({
  name: 'HL',
  family: 'ipv6',
  help: () => IP6_HELP['HL']!,
  tables: ['mangle'],
  options: [
    { name: 'hl-set', id: 0, type: 'uint8', excl: ANY },
    { name: 'hl-dec', id: 2, type: 'uint8', excl: ANY, min: 1 },
    { name: 'hl-inc', id: 1, type: 'uint8', excl: ANY, min: 1 },
  ],
  init: () => ({ mode: 0, hopLimit: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.hopLimit = cb.val.num!;
    cb.info.mode = cb.entry.id;
  },
  final(cb) {
    if (!(cb.xflags & 0x7)) throw paramError('HL: You must specify an action');
  },
  check(info, ctx) {
    const where = checkPlacement(ctx, { table: 'mangle' });
    if (where) return where;
    if (info.mode > 2 || (info.mode !== 0 && info.hopLimit === 0)) return { errno: 'EINVAL' };
    return undefined;
  },
  print(info) {
    const what = ['set to', 'increment by', 'decrement by'][info.mode] ?? '';
    return ` HL ${what} ${info.hopLimit}`;
  },
  save(info) {
    const opt = [' --hl-set', ' --hl-inc', ' --hl-dec'][info.mode] ?? '';
    return `${opt} ${info.hopLimit}`;
  },
});
