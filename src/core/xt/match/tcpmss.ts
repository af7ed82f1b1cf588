/**
 * The tcpmss match: the MSS option of TCP SYN packets within a range.
 */
import { requireProto } from '../protocheck.js';
import { defineMatch, paramError } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_tcpmss_match_info data. */
export interface TcpmssInfo {
  mssMin: number;
  mssMax: number;
  invert: number;
}

function mssText(info: TcpmssInfo): string {
  return info.mssMin === info.mssMax ? String(info.mssMin) : `${info.mssMin}:${info.mssMax}`;
}

/** The tcpmss match definition. */
export const tcpmss = defineMatch<TcpmssInfo>({
  name: 'tcpmss',
  help: () => PROTO_HELP['tcpmss']!,
  options: [{ name: 'mss', id: 0, type: 'uint16rc', mandatory: true, invert: true }],
  init: () => ({ mssMin: 0, mssMax: 0, invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const r = cb.val.range!;
    cb.info.mssMin = r[0]!;
    cb.info.mssMax = r[0]!;
    if (cb.val.nvals === 2) {
      cb.info.mssMax = r[1]!;
      if (cb.info.mssMax < cb.info.mssMin) throw paramError('tcpmss: invalid range given');
    }
    if (cb.invert) cb.info.invert = 1;
  },
  check(_info, ctx) {
    return requireProto(ctx, 6);
  },
  print(info) {
    return ` tcpmss match ${info.invert ? '!' : ''}${mssText(info)}`;
  },
  save(info) {
    return `${info.invert ? ' !' : ''} --mss ${mssText(info)}`;
  },
  match(info, ctx) {
    const d = ctx.skb.data;
    const t = ctx.thoff;
    const inv = info.invert !== 0;
    // no fragment test: a later fragment is read at the transport offset too
    if (d.length < t + 20) return drop(ctx);
    const hl = (d[t + 12]! >> 4) * 4;
    if (hl < 20) return drop(ctx);
    const optlen = hl - 20;
    if (optlen === 0) return inv;
    const o = t + 20;
    if (d.length < o + optlen) return drop(ctx);
    for (let i = 0; i < optlen; ) {
      if (d[o + i] === 2 && optlen - i >= 4 && d[o + i + 1] === 4) {
        const mss = (d[o + i + 2]! << 8) | d[o + i + 3]!;
        return (mss >= info.mssMin && mss <= info.mssMax) !== inv;
      }
      if (d[o + i]! < 2) i++;
      else i += d[o + i + 1]! || 1;
    }
    return inv;
  },
});

/** Sets hotdrop and does not match. */
function drop(ctx: { hotdrop: boolean }): false {
  ctx.hotdrop = true;
  return false;
}
