/**
 * The tos match (revision 1): the IPv4 TOS byte under a mask, given as
 * value[/mask] or a symbolic name (mask 0x3f).
 */
import { defineMatch } from '../index-types.js';
import { hex02, tosSymbol } from './tos-values.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_tos_match_info data. */
export interface TosInfo {
  tosMask: number;
  tosValue: number;
  invert: number;
}

/** The tos match definition, revision 1. */
export const tos = defineMatch<TosInfo>({
  name: 'tos',
  help: () => PROTO_HELP['tos']!,
  revision: 1,
  options: [{ name: 'tos', id: 1, type: 'tosmask', invert: true, mandatory: true, max: 0x3f }],
  init: () => ({ tosMask: 0, tosValue: 0, invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.tosValue = cb.val.value!;
    cb.info.tosMask = cb.val.mask!;
    if (cb.invert) cb.info.invert = 1;
  },
  print(info, { numeric }) {
    const sym = numeric ? undefined : tosSymbol(info.tosValue, info.tosMask);
    const inv = info.invert ? '!' : '';
    return ` tos match${inv}${sym !== undefined ? ` ${sym}` : `${hex02(info.tosValue)}/${hex02(info.tosMask)}`}`;
  },
  save(info) {
    return `${info.invert ? ' !' : ''} --tos ${hex02(info.tosValue)}/${hex02(info.tosMask)}`;
  },
  match: (info, ctx) => ((ctx.skb.data[1]! & info.tosMask) === info.tosValue) !== (info.invert !== 0),
});
