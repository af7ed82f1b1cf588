/**
 * The MARK target, revision 2 (xt_mark_tginfo2): every form (--set-xmark,
 * --set-mark, --and-mark, --or-mark, --xor-mark) becomes "clear the mask
 * bits, then XOR the value", which is what iptables-save prints.
 */
import { defineTarget, paramError } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { hex } from './target-util.js';
import type { PacketContext } from '../packet.js';
import { XT_CONTINUE } from '../verdict.js';

/** struct xt_mark_tginfo2: nfmark = (nfmark & ~mask) ^ mark. */
export interface MarkTargetInfo {
  mark: number;
  mask: number;
}

const O = { SET_MARK: 0, AND_MARK: 1, OR_MARK: 2, XOR_MARK: 3, SET_XMARK: 4 } as const;
const ANY = [O.SET_MARK, O.AND_MARK, O.OR_MARK, O.XOR_MARK, O.SET_XMARK];

/** The -L wording shared by MARK and CONNMARK (or, and, xor, set or xset). */
export function markOperation(mark: number, mask: number): string {
  if (mark === 0) return `and 0x${hex(~mask)}`;
  if (mark === mask) return `or 0x${hex(mark)}`;
  if (mask === 0) return `xor 0x${hex(mark)}`;
  if (mask === 0xffffffff) return `set 0x${hex(mark)}`;
  return `xset 0x${hex(mark)}/0x${hex(mask)}`;
}

export const MARK = defineTarget<MarkTargetInfo>({
  name: 'MARK',
  help: () => TARGET_HELP['MARK']!,
  revision: 2,
  options: [
    { name: 'set-xmark', id: O.SET_XMARK, type: 'markmask32', excl: ANY },
    { name: 'set-mark', id: O.SET_MARK, type: 'markmask32', excl: ANY },
    { name: 'and-mark', id: O.AND_MARK, type: 'uint32', excl: ANY },
    { name: 'or-mark', id: O.OR_MARK, type: 'uint32', excl: ANY },
    { name: 'xor-mark', id: O.XOR_MARK, type: 'uint32', excl: ANY },
  ],
  init: () => ({ mark: 0, mask: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const v = cb.val;
    switch (cb.entry.id) {
      case O.SET_XMARK:
        info.mark = v.value!;
        info.mask = v.mask!;
        break;
      case O.SET_MARK:
        info.mark = v.value!;
        info.mask = (v.value! | v.mask!) >>> 0;
        break;
      case O.AND_MARK:
        info.mark = 0;
        info.mask = ~v.num! >>> 0;
        break;
      case O.OR_MARK:
        info.mark = v.num!;
        info.mask = v.num!;
        break;
      case O.XOR_MARK:
        info.mark = v.num!;
        info.mask = 0;
        break;
    }
  },
  final(cb) {
    if (cb.xflags === 0)
      throw paramError('MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required');
  },
  print: (info) => ` MARK ${markOperation(info.mark, info.mask)}`,
  save: (info) => ` --set-xmark 0x${hex(info.mark)}/0x${hex(info.mask)}`,
  target: markTarget,
});

/** The kernel half: nfmark = (nfmark & ~mask) ^ mark; the traversal goes on. */
function markTarget(info: MarkTargetInfo, ctx: PacketContext): number {
  const skb = ctx.skb;
  skb.mark = ((skb.mark & ~info.mask) ^ info.mark) >>> 0;
  return XT_CONTINUE;
}
