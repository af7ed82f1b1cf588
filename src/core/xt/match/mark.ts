/**
 * The mark match (revision 1): the packet mark compared under a mask.
 * iptables-nft stores it as native nf_tables expressions (meta mark, an
 * optional bitwise and, cmp) and rebuilds "-m mark" when listing; the
 * value and mask come back exactly as given, so no kernelForm is needed.
 */
import { defineMatch } from '../index-types.js';
import { printMarkMask } from './conn-util.js';

/** xt_mark_mtinfo1. */
export interface MarkInfo {
  mark: number;
  mask: number;
  invert: boolean;
}

/** What `iptables -m mark -h` adds after the general help. */
const HELP =
  'mark match options:\n' +
  '[!] --mark value[/mask]    Match nfmark value with optional mask\n';

/** The mark match (-m mark), revision 1, native in nf_tables. */
export const mark = defineMatch<MarkInfo>({
  name: 'mark',
  help: () => HELP,
  revision: 1,
  options: [{ name: 'mark', id: 0, type: 'markmask32', invert: true, mandatory: true }],
  init: () => ({ mark: 0, mask: 0, invert: false }),
  parse(cb) {
    cb.parseGeneric();
    if (cb.invert) cb.info.invert = true;
    cb.info.mark = cb.val.value!;
    cb.info.mask = cb.val.mask!;
  },
  print: (info) => ` mark match${info.invert ? ' !' : ''}${printMarkMask(info.mark, info.mask)}`,
  save: (info) => `${info.invert ? ' !' : ''} --mark${printMarkMask(info.mark, info.mask)}`,
  // meta mark, an "and" with the mask unless it is all ones, then cmp eq/neq
  match: (info, ctx) => ((ctx.skb.mark & info.mask) >>> 0 === info.mark >>> 0) !== info.invert,
});
