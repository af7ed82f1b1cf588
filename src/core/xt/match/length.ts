/**
 * The length match: the packet's layer-3 length, one value or a range.
 */
import { defineMatch } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_length_info data. */
export interface LengthInfo {
  min: number;
  max: number;
  invert: number;
}

function lengthText(info: LengthInfo): string {
  return info.min === info.max ? String(info.min) : `${info.min}:${info.max}`;
}

/** The length match definition. */
export const length = defineMatch<LengthInfo>({
  name: 'length',
  help: () => PROTO_HELP['length']!,
  options: [{ name: 'length', id: 0, type: 'uint16rc', mandatory: true, invert: true }],
  init: () => ({ min: 0, max: 0, invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const r = cb.val.range!;
    cb.info.min = r[0]!;
    cb.info.max = r.length >= 2 ? r[1]! : r[0]!;
    if (cb.invert) cb.info.invert = 1;
  },
  print(info) {
    return ` length ${info.invert ? '!' : ''}${lengthText(info)}`;
  },
  save(info) {
    return `${info.invert ? ' !' : ''} --length ${lengthText(info)}`;
  },
  match(info, ctx) {
    // the IP header's total length field, not the buffer's length
    const d = ctx.skb.data;
    const len = (d[2]! << 8) | d[3]!;
    return (len >= info.min && len <= info.max) !== (info.invert !== 0);
  },
});
