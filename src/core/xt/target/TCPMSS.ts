/**
 * The TCPMSS target: rewrites the MSS option of TCP SYN packets to a fixed
 * value or clamps it to the path MTU.
 */
import { baseHook, requireProto } from '../protocheck.js';
import { defineTarget, paramError } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';
import { fibLookup } from '../../net/fib.js';
import { linkByName } from '../../net/state.js';
import type { NetState } from '../../net/types.js';
import type { PacketContext } from '../packet.js';
import { NF_DROP, XT_CONTINUE } from '../verdict.js';
import { csumReplace2, protoCsumReplace2, protoCsumReplace4 } from './csum-update.js';

/** xt_tcpmss_info data. */
export interface TcpmssTargetInfo {
  /** The MSS to set, or 0xffff (XT_TCPMSS_CLAMP_PMTU) to clamp. */
  mss: number;
}

/** XT_TCPMSS_CLAMP_PMTU. */
export const CLAMP_PMTU = 0xffff;

/** The TCPMSS target definition. */
export const TCPMSS = defineTarget<TcpmssTargetInfo>({
  name: 'TCPMSS',
  help: () => PROTO_HELP['TCPMSS']!,
  options: [
    { name: 'set-mss', id: 0, type: 'uint16', max: 0xffff - 20 },
    { name: 'clamp-mss-to-pmtu', id: 1, type: 'none' },
  ],
  init: () => ({ mss: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.mss = cb.entry.id === 1 ? CLAMP_PMTU : cb.val.num!;
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError('TCPMSS target: At least one parameter is required');
  },
  check(info, ctx) {
    const proto = requireProto(ctx, 6);
    if (proto) return proto;
    // Clamping needs the route, known only after routing: FORWARD, OUTPUT and POSTROUTING.
    const hook = baseHook(ctx);
    if (info.mss === CLAMP_PMTU && hook !== undefined && !['FORWARD', 'OUTPUT', 'POSTROUTING'].includes(hook))
      return { errno: 'EINVAL' };
    return undefined;
  },
  print(info) {
    return info.mss === CLAMP_PMTU ? ' TCPMSS clamp to PMTU' : ` TCPMSS set ${info.mss}`;
  },
  save(info) {
    return info.mss === CLAMP_PMTU ? ' --clamp-mss-to-pmtu' : ` --set-mss ${info.mss}`;
  },
  target(info, ctx) {
    const grown = mangle(info, ctx);
    if (grown < 0) return NF_DROP;
    if (grown > 0) {
      const d = ctx.skb.data;
      const oldLen = (d[2]! << 8) | d[3]!;
      const newLen = (oldLen + grown) & 0xffff;
      csumReplace2(d, 10, oldLen, newLen);
      d[2] = newLen >> 8;
      d[3] = newLen & 0xff;
    }
    return XT_CONTINUE;
  },
});

/** IP_MAX_MTU: what ipv4_mtu caps a route's MTU at. */
const IP_MAX_MTU = 0xfff0;

/** dst_mtu of a route through `dev` (no route metrics, no learned path MTU in a lab). */
function deviceMtu(net: NetState, dev: string): number {
  const link = linkByName(net, dev);
  return Math.min(link ? link.mtu : IP_MAX_MTU, IP_MAX_MTU);
}

/** tcpmss_reverse_mtu: the MTU of the output route back to `saddr`, all ones when there is none. */
function reverseMtu(net: NetState, saddr: number): number {
  if (saddr === 0) return deviceMtu(net, 'lo');
  const r = fibLookup(net, saddr);
  if (r.type === 'local') return deviceMtu(net, 'lo');
  if (r.dev === '') return 0xffffffff;
  return deviceMtu(net, r.dev);
}

/** The walk step over TCP options: one byte for EOL, NOP or a zero length. */
function optlen(d: Uint8Array, at: number): number {
  return d[at]! <= 1 || d[at + 1] === 0 ? 1 : d[at + 1]!;
}

/**
 * tcpmss_mangle_packet: lowers an MSS option above the new value, or adds
 * one (at most 536) to a header that has none and carries no data. Returns
 * the bytes the segment grew by, or -1 to drop the packet.
 */
function mangle(info: TcpmssTargetInfo, ctx: PacketContext): number {
  if (ctx.fragoff !== 0) return 0;
  const skb = ctx.skb;
  let d = skb.data;
  const th = ctx.thoff;
  const len = d.length - th;
  if (len < 20) return -1;
  const hl = (d[th + 12]! >> 4) * 4;
  if (len < hl || hl < 20) return -1;
  let newmss: number;
  if (info.mss === CLAMP_PMTU) {
    const net = ctx.kernel.net as NetState;
    const saddr = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
    const minMtu = Math.min(deviceMtu(net, ctx.out), reverseMtu(net, saddr));
    if (minMtu <= 40) return -1;
    newmss = (minMtu - 40) & 0xffff;
  } else {
    newmss = info.mss;
  }
  for (let i = 20; i <= hl - 4; i += optlen(d, th + i)) {
    if (d[th + i] === 2 && d[th + i + 1] === 4) {
      const oldmss = (d[th + i + 2]! << 8) | d[th + i + 3]!;
      // never raised
      if (oldmss <= newmss) return 0;
      d[th + i + 2] = newmss >> 8;
      d[th + i + 3] = newmss & 0xff;
      protoCsumReplace2(d, th + 16, oldmss, newmss);
      return 0;
    }
  }
  // data after the header, or no room left in the data offset: leave it
  if (len > hl || hl >= 60) return 0;
  const bigger = new Uint8Array(d.length + 4);
  bigger.set(d);
  skb.data = d = bigger;
  newmss = Math.min(newmss, 536);
  const opt = th + 20;
  d.copyWithin(opt + 4, opt, opt + len - 20);
  protoCsumReplace2(d, th + 16, len, len + 4);
  d[opt] = 2;
  d[opt + 1] = 4;
  d[opt + 2] = newmss >> 8;
  d[opt + 3] = newmss & 0xff;
  protoCsumReplace4(d, th + 16, 0, ((d[opt]! << 24) | (d[opt + 1]! << 16) | (d[opt + 2]! << 8) | d[opt + 3]!) >>> 0);
  const oldWord = (d[th + 12]! << 8) | d[th + 13]!;
  d[th + 12] = (d[th + 12]! + 0x10) & 0xff;
  protoCsumReplace2(d, th + 16, oldWord, (d[th + 12]! << 8) | d[th + 13]!);
  return 4;
}
