/**
 * The udp match: source and destination port ranges, loaded by -m udp or
 * implicitly by -p udp. iptables-nft turns it into native payload
 * comparisons, which changes a few forms on the way back (see kernelForm).
 */
import { nativePortsMatch, nativeRange, printPorts, savePorts } from './tcp.js';
import type { PacketContext } from '../packet.js';
import { requireProto } from '../protocheck.js';
import { defineMatch, paramError } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_udp data. */
export interface UdpInfo {
  spts: [number, number];
  dpts: [number, number];
  /** XT_UDP_INV_* bits. */
  invflags: number;
}

/** Inversion bits of xt_udp. */
export const UDP_INV = { SRCPT: 0x01, DSTPT: 0x02, MASK: 0x03 } as const;

const ALL: [number, number] = [0, 0xffff];

function isAll(r: [number, number]): boolean {
  return r[0] === 0 && r[1] === 0xffff;
}

/** Nothing set at all: iptables-nft keeps such a match as an xt match ("-m udp"). */
function allZero(info: UdpInfo): boolean {
  return isAll(info.spts) && isAll(info.dpts) && info.invflags === 0;
}

/** The udp match definition (-m udp, -p udp). */
export const udp = defineMatch<UdpInfo>({
  name: 'udp',
  help: () => PROTO_HELP['udp']!,
  options: [
    { name: 'source-port', id: 0, type: 'portrc', invert: true },
    { name: 'sport', id: 0, type: 'portrc', invert: true },
    { name: 'destination-port', id: 1, type: 'portrc', invert: true },
    { name: 'dport', id: 1, type: 'portrc', invert: true },
  ],
  init: () => ({ spts: [...ALL], dpts: [...ALL], invflags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const range = cb.val.range!;
    const r: [number, number] = [range[0]!, range[1]!];
    if (cb.entry.id === 0) {
      cb.info.spts = r;
      if (cb.invert) cb.info.invflags |= UDP_INV.SRCPT;
    } else {
      cb.info.dpts = r;
      if (cb.invert) cb.info.invflags |= UDP_INV.DSTPT;
    }
  },
  check(info, ctx) {
    // add_nft_udp: a match with anything set becomes native expressions, which need -p udp.
    // Otherwise it stays an xt match, which the kernel binds to UDP.
    if (allZero(info) || info.invflags > UDP_INV.MASK) return requireProto(ctx, 17);
    if (ctx.rule.proto !== 17) throw paramError("UDP match requires '-p udp'");
    return undefined;
  },
  kernelForm(info) {
    if (allZero(info) || info.invflags > UDP_INV.MASK) return info;
    const out: UdpInfo = { spts: [...ALL], dpts: [...ALL], invflags: 0 };
    const s = nativeRange(info.spts, (info.invflags & UDP_INV.SRCPT) !== 0);
    const d = nativeRange(info.dpts, (info.invflags & UDP_INV.DSTPT) !== 0);
    if (!s && !d) return null;
    if (s) {
      out.spts = s.range;
      if (s.inv) out.invflags |= UDP_INV.SRCPT;
    }
    if (d) {
      out.dpts = d.range;
      if (d.inv) out.invflags |= UDP_INV.DSTPT;
    }
    return out;
  },
  nativeMerge: {
    native: (info) => !allZero(info) && info.invflags <= UDP_INV.MASK,
    merge(first, later) {
      const out: UdpInfo = { ...first, spts: [...first.spts], dpts: [...first.dpts] };
      if (!isAll(later.spts)) {
        out.spts = [...later.spts];
        out.invflags |= later.invflags & UDP_INV.SRCPT;
      }
      if (!isAll(later.dpts)) {
        out.dpts = [...later.dpts];
        out.invflags |= later.invflags & UDP_INV.DSTPT;
      }
      return out;
    },
  },
  print(info, { names, numeric }) {
    let s = ' udp';
    s += printPorts(names, 'spt', info.spts, (info.invflags & UDP_INV.SRCPT) !== 0, numeric, 'udp');
    s += printPorts(names, 'dpt', info.dpts, (info.invflags & UDP_INV.DSTPT) !== 0, numeric, 'udp');
    if (info.invflags & ~UDP_INV.MASK) s += ` Unknown invflags: 0x${(info.invflags & ~UDP_INV.MASK).toString(16).toUpperCase()}`;
    return s;
  },
  save(info) {
    return (
      savePorts('sport', info.spts, (info.invflags & UDP_INV.SRCPT) !== 0) +
      savePorts('dport', info.dpts, (info.invflags & UDP_INV.DSTPT) !== 0)
    );
  },
  match(info, ctx) {
    const invS = (info.invflags & UDP_INV.SRCPT) !== 0;
    const invD = (info.invflags & UDP_INV.DSTPT) !== 0;
    if (!allZero(info) && info.invflags <= UDP_INV.MASK) return nativePortsMatch(info.spts, invS, info.dpts, invD, ctx);
    return udpXtMatch(info, ctx, invS, invD);
  },
});

/** xt_udp's udp_mt, for an instance kept as an xt match ("-m udp" with nothing given). */
function udpXtMatch(info: UdpInfo, ctx: PacketContext, invS: boolean, invD: boolean): boolean {
  if (ctx.fragoff !== 0) return false;
  const d = ctx.skb.data;
  const t = ctx.thoff;
  if (d.length < t + 8) {
    ctx.hotdrop = true;
    return false;
  }
  const sp = (d[t]! << 8) | d[t + 1]!;
  const dp = (d[t + 2]! << 8) | d[t + 3]!;
  return (sp >= info.spts[0] && sp <= info.spts[1]) !== invS && (dp >= info.dpts[0] && dp <= info.dpts[1]) !== invD;
}
