/**
 * The connmark match (revision 1): the connection's mark compared under a
 * mask. Note the -L form has two spaces before the value unless inverted
 * ("connmark match  0x1", "connmark match ! 0x1"), as iptables prints it.
 */
import { defineMatch } from '../index-types.js';
import { printMarkMask } from './conn-util.js';
import type { PacketContext } from '../packet.js';

/** xt_connmark_mtinfo1. */
export interface ConnmarkInfo {
  mark: number;
  mask: number;
  invert: boolean;
}

/** What `iptables -m connmark -h` adds after the general help. */
const HELP =
  'connmark match options:\n' +
  '[!] --mark value[/mask]    Match ctmark value with optional mask\n';

/** The connmark match (-m connmark), revision 1. */
export const connmark = defineMatch<ConnmarkInfo>({
  name: 'connmark',
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
  print: (info) => ` connmark match ${info.invert ? '!' : ''}${printMarkMask(info.mark, info.mask)}`,
  save: (info) => `${info.invert ? ' !' : ''} --mark${printMarkMask(info.mark, info.mask)}`,
  match: connmarkMatch,
});

/** The kernel half: (ctmark & mask) == mark, inverted when asked; never for a packet without a connection. */
function connmarkMatch(info: ConnmarkInfo, ctx: PacketContext): boolean {
  const ct = ctx.skb.ct;
  if (ct === null) return false;
  return (((ct.mark & info.mask) >>> 0) === info.mark >>> 0) !== info.invert;
}
