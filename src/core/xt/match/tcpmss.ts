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
});
