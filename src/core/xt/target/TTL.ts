/**
 * The TTL target (libipt_TTL, mangle table): sets, increments or decrements
 * the IPv4 time to live.
 */
import { requireTable } from '../protocheck.js';
import { defineTarget, paramError } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';
import { XT_CONTINUE } from '../verdict.js';
import { csumReplace2 } from './csum-update.js';

/** ipt_TTL_info data. */
export interface TtlTargetInfo {
  /** IPT_TTL_SET (0), INC (1), DEC (2). */
  mode: number;
  ttl: number;
}

const ANY = [0, 1, 2];

/** The TTL target definition (IPv4). */
export const TTL = defineTarget<TtlTargetInfo>({
  name: 'TTL',
  family: 'ipv4',
  help: () => PROTO_HELP['TTL']!,
  options: [
    { name: 'ttl-set', id: 0, type: 'uint8', excl: ANY },
    { name: 'ttl-dec', id: 2, type: 'uint8', excl: ANY, min: 1 },
    { name: 'ttl-inc', id: 1, type: 'uint8', excl: ANY, min: 1 },
  ],
  init: () => ({ mode: 0, ttl: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.ttl = cb.val.num!;
    cb.info.mode = cb.entry.id;
  },
  final(cb) {
    if (!(cb.xflags & 0x7)) throw paramError('TTL: You must specify an action');
  },
  check(info, ctx) {
    const t = requireTable(ctx, 'mangle');
    if (t) return t;
    if (info.mode > 2 || (info.mode !== 0 && info.ttl === 0)) return { errno: 'EINVAL' };
    return undefined;
  },
  print(info) {
    const what = ['set to', 'increment by', 'decrement by'][info.mode] ?? '';
    return ` TTL ${what} ${info.ttl}`;
  },
  save(info) {
    const opt = [' --ttl-set', ' --ttl-inc', ' --ttl-dec'][info.mode] ?? '';
    return `${opt} ${info.ttl}`;
  },
  target(info, ctx) {
    const d = ctx.skb.data;
    const ttl = d[8]!;
    let nt = ttl;
    if (info.mode === 0) nt = info.ttl;
    else if (info.mode === 1) nt = Math.min(255, ttl + info.ttl);
    else if (info.mode === 2) nt = Math.max(0, ttl - info.ttl);
    if (nt !== ttl) {
      // the TTL is the high byte of its header word
      csumReplace2(d, 10, ttl << 8, nt << 8);
      d[8] = nt;
    }
    return XT_CONTINUE;
  },
});
