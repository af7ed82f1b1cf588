/**
 * The icmp match (libipt_icmp): one ICMP type with an optional code range,
 * by name or number; loaded by -m icmp or implicitly by -p icmp.
 */
import { requireProto } from '../protocheck.js';
import { defineMatch } from '../index-types.js';
import { ICMP_NAMES, parseIcmpType, icmpTypeCodeText } from './icmp-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** ipt_icmp data. */
export interface IcmpInfo {
  /** Type; 0xff means any. */
  type: number;
  code: [number, number];
  /** IPT_ICMP_INV (1). */
  invflags: number;
}

const INV = 0x01;

/** The icmp match definition (-m icmp, -p icmp). */
export const icmp = defineMatch<IcmpInfo>({
  name: 'icmp',
  family: 'ipv4',
  help: () => PROTO_HELP['icmp']!,
  options: [{ name: 'icmp-type', id: 0, type: 'string', mandatory: true, invert: true }],
  init: () => ({ type: 0xff, code: [0, 0xff], invflags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const r = parseIcmpType(cb.arg!);
    cb.info.type = r.type;
    cb.info.code = r.code;
    if (cb.invert) cb.info.invflags |= INV;
  },
  check(_info, ctx) {
    return requireProto(ctx, 1);
  },
  print(info, { numeric }) {
    return ' icmp' + icmpTypeCodeText(ICMP_NAMES, info, INV, numeric);
  },
  save(info) {
    let s = info.invflags & INV ? ' !' : '';
    if (info.type === 0xff) return `${s} --icmp-type any`;
    s += ` --icmp-type ${info.type}`;
    if (info.code[0] !== 0 || info.code[1] !== 0xff) s += `/${info.code[0]}`;
    return s;
  },
  match(info, ctx) {
    if (ctx.fragoff !== 0) return false;
    const d = ctx.skb.data;
    const t = ctx.thoff;
    // the whole 8-byte struct icmphdr must be there
    if (d.length < t + 8) {
      ctx.hotdrop = true;
      return false;
    }
    const type = d[t]!;
    const code = d[t + 1]!;
    const hit = info.type === 0xff || (type === info.type && code >= info.code[0] && code <= info.code[1]);
    return hit !== ((info.invflags & INV) !== 0);
  },
});
