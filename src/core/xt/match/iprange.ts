/**
 * The iprange match (revision 1): source and/or destination address within
 * an inclusive range "a.b.c.d-e.f.g.h".
 */
import { formatIPv4, parseIPv4Numeric } from '../../addr/ipv4.js';
import { formatIPv6, ip6Bytes, parseIPv6, type IPv6 } from '../../addr/ipv6.js';
import { defineMatch, paramError, type OptionCall } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_iprange_mtinfo data (IPv4 addresses as unsigned 32-bit numbers, IPv6 ones as four words). */
export interface IprangeInfo {
  srcMin: number | IPv6;
  srcMax: number | IPv6;
  dstMin: number | IPv6;
  dstMax: number | IPv6;
  /** IPRANGE_* flags. */
  flags: number;
}

/** Flag bits of xt_iprange_mtinfo. */
export const IPRANGE = { SRC: 0x01, DST: 0x02, SRC_INV: 0x10, DST_INV: 0x20 } as const;

/** Writes a warning to stderr when the command layer offers a way to (OptionCall.warn). */
function warn(cb: OptionCall<unknown>, text: string): void {
  (cb as { warn?: (s: string) => void }).warn?.(text);
}

/** Orders two addresses as memcmp does on their network-order bytes. */
function compareAddr(a: number | IPv6, b: number | IPv6): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = ip6Bytes(a as IPv6);
  const y = ip6Bytes(b as IPv6);
  for (let i = 0; i < 16; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

/** An address in the rule's family, as -L and save print it. */
function addrText(a: number | IPv6): string {
  return typeof a === 'number' ? formatIPv4(a) : formatIPv6(a);
}

function parseRange(cb: OptionCall<IprangeInfo>, optname: string): [number | IPv6, number | IPv6] {
  const arg = cb.arg!;
  const dash = arg.indexOf('-');
  const from = dash < 0 ? arg : arg.slice(0, dash);
  const to = dash < 0 ? arg : arg.slice(dash + 1);
  if (cb.family === 'ipv6') {
    const addr6 = (s: string) => {
      const a = parseIPv6(s);
      if (a === undefined) throw paramError(`iprange: Bad value for "${optname}" option: "${s}"`);
      return a;
    };
    const lo6 = addr6(from);
    const hi6 = addr6(to);
    if (dash >= 0 && compareAddr(lo6, hi6) > 0) warn(cb, `xt_iprange: range ${from}-${to} is reversed and will never match\n`);
    return [lo6, hi6];
  }
  const addr = (s: string) => {
    const a = parseIPv4Numeric(s);
    if (a === undefined) throw paramError(`iprange: Bad value for "${optname}" option: "${s}"`);
    return a;
  };
  const lo = addr(from);
  const hi = addr(to);
  if (dash >= 0 && lo > hi) warn(cb, `xt_iprange: range ${from}-${to} is reversed and will never match\n`);
  return [lo, hi];
}

/** The iprange match definition, revision 1. */
export const iprange = defineMatch<IprangeInfo>({
  name: 'iprange',
  help: () => PROTO_HELP['iprange']!,
  revision: 1,
  options: [
    { name: 'src-range', id: 0, type: 'string', invert: true },
    { name: 'dst-range', id: 1, type: 'string', invert: true },
  ],
  init: () => ({ srcMin: 0, srcMax: 0, dstMin: 0, dstMax: 0, flags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    if (cb.entry.id === 0) {
      [info.srcMin, info.srcMax] = parseRange(cb, '--src-range');
      info.flags |= IPRANGE.SRC;
      if (cb.invert) info.flags |= IPRANGE.SRC_INV;
    } else {
      [info.dstMin, info.dstMax] = parseRange(cb, '--dst-range');
      info.flags |= IPRANGE.DST;
      if (cb.invert) info.flags |= IPRANGE.DST_INV;
    }
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError("iprange match: You must specify `--src-range' or `--dst-range'");
  },
  print(info) {
    let s = '';
    if (info.flags & IPRANGE.SRC)
      s += ` source IP range${info.flags & IPRANGE.SRC_INV ? ' !' : ''} ${addrText(info.srcMin)}-${addrText(info.srcMax)}`;
    if (info.flags & IPRANGE.DST)
      s += ` destination IP range${info.flags & IPRANGE.DST_INV ? ' !' : ''} ${addrText(info.dstMin)}-${addrText(info.dstMax)}`;
    return s;
  },
  save(info) {
    let s = '';
    if (info.flags & IPRANGE.SRC)
      s += `${info.flags & IPRANGE.SRC_INV ? ' !' : ''} --src-range ${addrText(info.srcMin)}-${addrText(info.srcMax)}`;
    if (info.flags & IPRANGE.DST)
      s += `${info.flags & IPRANGE.DST_INV ? ' !' : ''} --dst-range ${addrText(info.dstMin)}-${addrText(info.dstMax)}`;
    return s;
  },
  match(info, ctx) {
    const d = ctx.skb.data;
    if (info.flags & IPRANGE.SRC) {
      const a = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
      const out = a < (info.srcMin as number) || a > (info.srcMax as number);
      if (out !== ((info.flags & IPRANGE.SRC_INV) !== 0)) return false;
    }
    if (info.flags & IPRANGE.DST) {
      const a = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
      const out = a < (info.dstMin as number) || a > (info.dstMax as number);
      if (out !== ((info.flags & IPRANGE.DST_INV) !== 0)) return false;
    }
    return true;
  },
});
