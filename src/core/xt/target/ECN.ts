/**
 * The ECN target (libipt_ECN, mangle table): clears the TCP ECN bits
 * (--ecn-tcp-remove), or sets CWR, ECE and the IP ECT codepoint.
 */
import { requireTable } from '../protocheck.js';
import { IPT_INV, defineTarget, paramError } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';
import { NF_DROP, XT_CONTINUE } from '../verdict.js';
import { csumReplace2, protoCsumReplace2 } from './csum-update.js';

/** ipt_ECN_info data. */
export interface EcnTargetInfo {
  /** IPT_ECN_OP_SET_* bits. */
  operation: number;
  ipEct: number;
  ece: number;
  cwr: number;
}

/** Operation bits of ipt_ECN_info. */
export const ECN_SET = { IP: 0x01, ECE: 0x10, CWR: 0x20 } as const;

function removes(info: EcnTargetInfo): boolean {
  return info.operation === (ECN_SET.ECE | ECN_SET.CWR) && info.ece === 0 && info.cwr === 0;
}

/** The ECN target definition (IPv4). */
export const ECN = defineTarget<EcnTargetInfo>({
  name: 'ECN',
  family: 'ipv4',
  help: () => PROTO_HELP['ECN']!,
  options: [
    { name: 'ecn-tcp-remove', id: 0, type: 'none', excl: [1, 2] },
    { name: 'ecn-tcp-cwr', id: 1, type: 'uint8', min: 0, max: 1, excl: [0] },
    { name: 'ecn-tcp-ece', id: 2, type: 'uint8', min: 0, max: 1, excl: [0] },
    { name: 'ecn-ip-ect', id: 3, type: 'uint8', min: 0, max: 3 },
  ],
  init: () => ({ operation: 0, ipEct: 0, ece: 0, cwr: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case 0:
        info.operation = ECN_SET.ECE | ECN_SET.CWR;
        info.ece = 0;
        info.cwr = 0;
        break;
      case 1:
        info.operation |= ECN_SET.CWR;
        info.cwr = cb.val.num!;
        break;
      case 2:
        info.operation |= ECN_SET.ECE;
        info.ece = cb.val.num!;
        break;
      case 3:
        info.operation |= ECN_SET.IP;
        info.ipEct = cb.val.num!;
        break;
    }
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError('ECN target: An operation is required');
  },
  check(info, ctx) {
    const t = requireTable(ctx, 'mangle');
    if (t) return t;
    if (info.operation & 0xce || info.ipEct & ~0x03) return { errno: 'EINVAL' };
    if (info.operation & (ECN_SET.ECE | ECN_SET.CWR) && (ctx.rule.proto !== 6 || ctx.rule.invflags & IPT_INV.PROTO))
      return { errno: 'EINVAL' };
    return undefined;
  },
  print(info) {
    if (removes(info)) return ' ECN TCP remove';
    let s = ' ECN';
    if (info.operation & ECN_SET.ECE) s += ` ECE=${info.ece}`;
    if (info.operation & ECN_SET.CWR) s += ` CWR=${info.cwr}`;
    if (info.operation & ECN_SET.IP) s += ` ECT codepoint=${info.ipEct}`;
    return s;
  },
  save(info) {
    if (removes(info)) return ' --ecn-tcp-remove';
    let s = '';
    if (info.operation & ECN_SET.ECE) s += ` --ecn-tcp-ece ${info.ece}`;
    if (info.operation & ECN_SET.CWR) s += ` --ecn-tcp-cwr ${info.cwr}`;
    if (info.operation & ECN_SET.IP) s += ` --ecn-ip-ect ${info.ipEct}`;
    return s;
  },
  target(info, ctx) {
    const d = ctx.skb.data;
    if (info.operation & ECN_SET.IP && (d[1]! & 0x03) !== (info.ipEct & 0x03)) {
      const old = d[1]!;
      d[1] = (old & ~0x03) | (info.ipEct & 0x03);
      csumReplace2(d, 10, old, d[1]!);
    }
    if (info.operation & (ECN_SET.ECE | ECN_SET.CWR) && d[9] === 6) {
      // at the transport offset even in a later fragment, as ipt_ECN does; a short header drops the packet
      const t = (d[0]! & 0x0f) * 4;
      if (d.length < t + 20) return NF_DROP;
      const flags = d[t + 13]!;
      const ece = (flags >> 6) & 1;
      const cwr = (flags >> 7) & 1;
      const eceOk = !(info.operation & ECN_SET.ECE) || ece === info.ece;
      const cwrOk = !(info.operation & ECN_SET.CWR) || cwr === info.cwr;
      if (!(eceOk && cwrOk)) {
        const oldWord = (d[t + 12]! << 8) | flags;
        let nf = flags;
        if (info.operation & ECN_SET.ECE) nf = (nf & ~0x40) | ((info.ece & 1) << 6);
        if (info.operation & ECN_SET.CWR) nf = (nf & ~0x80) | ((info.cwr & 1) << 7);
        d[t + 13] = nf;
        protoCsumReplace2(d, t + 16, oldWord, (d[t + 12]! << 8) | nf);
      }
    }
    return XT_CONTINUE;
  },
});
