/**
 * The ecn match: the ECN codepoint of the IP header and the CWR/ECE bits
 * of the TCP header.
 */
import { IPT_INV, defineMatch, paramError } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_ecn_info data. */
export interface EcnInfo {
  /** XT_ECN_OP_MATCH_* bits. */
  operation: number;
  invert: number;
  ipEct: number;
}

/** Operation bits of xt_ecn_info. */
export const ECN_OP = { IP: 0x01, ECE: 0x10, CWR: 0x20, MASK: 0xce } as const;

/** The ecn match definition. */
export const ecn = defineMatch<EcnInfo>({
  name: 'ecn',
  help: () => PROTO_HELP['ecn']!,
  options: [
    { name: 'ecn-tcp-cwr', id: 0, type: 'none', invert: true },
    { name: 'ecn-tcp-ece', id: 1, type: 'none', invert: true },
    { name: 'ecn-ip-ect', id: 2, type: 'uint8', min: 0, max: 3, invert: true },
  ],
  init: () => ({ operation: 0, invert: 0, ipEct: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const bit = [ECN_OP.CWR, ECN_OP.ECE, ECN_OP.IP][cb.entry.id]!;
    cb.info.operation |= bit;
    if (cb.invert) cb.info.invert |= bit;
    if (cb.entry.id === 2) cb.info.ipEct = cb.val.num!;
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError('ECN match: some option required');
  },
  check(info, ctx) {
    const valid = ECN_OP.IP | ECN_OP.ECE | ECN_OP.CWR;
    if (info.operation & ~valid || info.invert & ~valid) return { errno: 'EINVAL' };
    // The TCP bits need TCP.
    if (info.operation & (ECN_OP.ECE | ECN_OP.CWR) && (ctx.rule.proto !== 6 || ctx.rule.invflags & IPT_INV.PROTO))
      return { errno: 'EINVAL' };
    return undefined;
  },
  print(info) {
    let s = ' ECN match';
    const inv = (bit: number) => (info.invert & bit ? '!' : '');
    if (info.operation & ECN_OP.ECE) s += ` ${inv(ECN_OP.ECE)}ECE`;
    if (info.operation & ECN_OP.CWR) s += ` ${inv(ECN_OP.CWR)}CWR`;
    if (info.operation & ECN_OP.IP) s += ` ${inv(ECN_OP.IP)}ECT=${info.ipEct}`;
    return s;
  },
  save(info) {
    let s = '';
    const inv = (bit: number) => (info.invert & bit ? ' !' : '');
    if (info.operation & ECN_OP.ECE) s += `${inv(ECN_OP.ECE)} --ecn-tcp-ece`;
    if (info.operation & ECN_OP.CWR) s += `${inv(ECN_OP.CWR)} --ecn-tcp-cwr`;
    if (info.operation & ECN_OP.IP) s += `${inv(ECN_OP.IP)} --ecn-ip-ect ${info.ipEct}`;
    return s;
  },
  match(info, ctx) {
    const d = ctx.skb.data;
    if (info.operation & ECN_OP.IP && ((d[1]! & 0x03) === info.ipEct) === ((info.invert & ECN_OP.IP) !== 0)) return false;
    if (info.operation & (ECN_OP.ECE | ECN_OP.CWR)) {
      // read at the transport offset even in a later fragment, as xt_ecn does; too short: no match
      const t = ctx.thoff;
      if (d.length < t + 20) return false;
      const flags = d[t + 13]!;
      if (info.operation & ECN_OP.ECE && ((flags & 0x40) !== 0) === ((info.invert & ECN_OP.ECE) !== 0)) return false;
      if (info.operation & ECN_OP.CWR && ((flags & 0x80) !== 0) === ((info.invert & ECN_OP.CWR) !== 0)) return false;
    }
    return true;
  },
});
