/**
 * The iprange match (revision 1): source and/or destination address within
 * an inclusive range "a.b.c.d-e.f.g.h".
 */
import { formatIPv4, parseIPv4Numeric } from '../../addr/ipv4.js';
import { defineMatch, paramError, type OptionCall } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_iprange_mtinfo data (IPv4 addresses as unsigned 32-bit numbers). */
export interface IprangeInfo {
  srcMin: number;
  srcMax: number;
  dstMin: number;
  dstMax: number;
  /** IPRANGE_* flags. */
  flags: number;
}

/** Flag bits of xt_iprange_mtinfo. */
export const IPRANGE = { SRC: 0x01, DST: 0x02, SRC_INV: 0x10, DST_INV: 0x20 } as const;

/** Writes a warning to stderr when the command layer offers a way to (OptionCall.warn). */
function warn(cb: OptionCall<unknown>, text: string): void {
  (cb as { warn?: (s: string) => void }).warn?.(text);
}

function parseRange(cb: OptionCall<IprangeInfo>, optname: string): [number, number] {
  const arg = cb.arg!;
  const dash = arg.indexOf('-');
  const from = dash < 0 ? arg : arg.slice(0, dash);
  const to = dash < 0 ? arg : arg.slice(dash + 1);
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
      s += ` source IP range${info.flags & IPRANGE.SRC_INV ? ' !' : ''} ${formatIPv4(info.srcMin)}-${formatIPv4(info.srcMax)}`;
    if (info.flags & IPRANGE.DST)
      s += ` destination IP range${info.flags & IPRANGE.DST_INV ? ' !' : ''} ${formatIPv4(info.dstMin)}-${formatIPv4(info.dstMax)}`;
    return s;
  },
  save(info) {
    let s = '';
    if (info.flags & IPRANGE.SRC)
      s += `${info.flags & IPRANGE.SRC_INV ? ' !' : ''} --src-range ${formatIPv4(info.srcMin)}-${formatIPv4(info.srcMax)}`;
    if (info.flags & IPRANGE.DST)
      s += `${info.flags & IPRANGE.DST_INV ? ' !' : ''} --dst-range ${formatIPv4(info.dstMin)}-${formatIPv4(info.dstMax)}`;
    return s;
  },
});
