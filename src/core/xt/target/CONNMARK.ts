/**
 * The CONNMARK target, revision 2 (xt_connmark_tginfo2): set the
 * connection's mark (--set-xmark and its and/or/xor/set shorthands), save
 * the packet mark into it or restore it from it, under masks and with an
 * optional shift.
 */
import { defineTarget, paramError } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { markOperation } from './MARK.js';
import { hex } from './target-util.js';
import type { PacketContext } from '../packet.js';
import { XT_CONTINUE } from '../verdict.js';

/** struct xt_connmark_tginfo2. */
export interface ConnmarkTargetInfo {
  ctmark: number;
  ctmask: number;
  nfmask: number;
  /** XT_CONNMARK_SET, _SAVE or _RESTORE. */
  mode: number;
  /** 0 left, 1 right. */
  shiftDir: number;
  shiftBits: number;
}

/** XT_CONNMARK_* modes. */
export const CONNMARK_MODE = { SET: 0, SAVE: 1, RESTORE: 2 } as const;

const O = {
  SET_MARK: 0,
  SAVE_MARK: 1,
  RESTORE_MARK: 2,
  AND_MARK: 3,
  OR_MARK: 4,
  XOR_MARK: 5,
  LEFT_SHIFT_MARK: 6,
  RIGHT_SHIFT_MARK: 7,
  SET_XMARK: 8,
  CTMASK: 9,
  NFMASK: 10,
  MASK: 11,
} as const;

/** Options that pick the operation (F_OP_ANY). */
const OP_ANY: number[] = [O.SET_MARK, O.SAVE_MARK, O.RESTORE_MARK, O.AND_MARK, O.OR_MARK, O.XOR_MARK, O.SET_XMARK];
const OP_ANY_BITS = OP_ANY.reduce((a: number, id) => a | (1 << id), 0);

const SHIFT_NAMES = ['left-shift-mark', 'right-shift-mark'];

const ALL = 0xffffffff;

function operation(info: ConnmarkTargetInfo): string {
  switch (info.mode) {
    case CONNMARK_MODE.SET:
      return ` CONNMARK ${markOperation(info.ctmark, info.ctmask)}`;
    case CONNMARK_MODE.SAVE:
      if (info.nfmask === ALL && info.ctmask === ALL) return ' CONNMARK save';
      if (info.nfmask === info.ctmask) return ` CONNMARK save mask 0x${hex(info.nfmask)}`;
      return ` CONNMARK save nfmask 0x${hex(info.nfmask)} ctmask ~0x${hex(info.ctmask)}`;
    case CONNMARK_MODE.RESTORE:
      if (info.ctmask === ALL && info.nfmask === ALL) return ' CONNMARK restore';
      if (info.ctmask === info.nfmask) return ` CONNMARK restore mask 0x${hex(info.ctmask)}`;
      return ` CONNMARK restore ctmask 0x${hex(info.ctmask)} nfmask ~0x${hex(info.nfmask)}`;
    default:
      return ' ERROR: UNKNOWN CONNMARK MODE';
  }
}

function shift(info: ConnmarkTargetInfo, dashes: string): string {
  if (info.mode > CONNMARK_MODE.RESTORE || info.shiftBits === 0) return '';
  return ` ${dashes}${SHIFT_NAMES[info.shiftDir]} ${info.shiftBits}`;
}

export const CONNMARK = defineTarget<ConnmarkTargetInfo>({
  name: 'CONNMARK',
  help: () => TARGET_HELP['CONNMARK']!,
  revision: 2,
  options: [
    { name: 'set-xmark', id: O.SET_XMARK, type: 'markmask32', excl: OP_ANY },
    { name: 'set-mark', id: O.SET_MARK, type: 'markmask32', excl: OP_ANY },
    { name: 'and-mark', id: O.AND_MARK, type: 'uint32', excl: OP_ANY },
    { name: 'or-mark', id: O.OR_MARK, type: 'uint32', excl: OP_ANY },
    { name: 'xor-mark', id: O.XOR_MARK, type: 'uint32', excl: OP_ANY },
    { name: 'save-mark', id: O.SAVE_MARK, type: 'none', excl: OP_ANY },
    { name: 'restore-mark', id: O.RESTORE_MARK, type: 'none', excl: OP_ANY },
    { name: 'left-shift-mark', id: O.LEFT_SHIFT_MARK, type: 'uint8', min: 0, max: 32 },
    { name: 'right-shift-mark', id: O.RIGHT_SHIFT_MARK, type: 'uint8', min: 0, max: 32 },
    { name: 'ctmask', id: O.CTMASK, type: 'uint32', excl: [O.MASK] },
    { name: 'nfmask', id: O.NFMASK, type: 'uint32', excl: [O.MASK] },
    { name: 'mask', id: O.MASK, type: 'uint32', excl: [O.CTMASK, O.NFMASK] },
  ],
  init: () => ({ ctmark: 0, ctmask: ALL, nfmask: ALL, mode: CONNMARK_MODE.SET, shiftDir: 0, shiftBits: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const v = cb.val;
    switch (cb.entry.id) {
      case O.SET_XMARK:
        info.mode = CONNMARK_MODE.SET;
        info.ctmark = v.value!;
        info.ctmask = v.mask!;
        break;
      case O.SET_MARK:
        info.mode = CONNMARK_MODE.SET;
        info.ctmark = v.value!;
        info.ctmask = (v.value! | v.mask!) >>> 0;
        break;
      case O.AND_MARK:
        info.mode = CONNMARK_MODE.SET;
        info.ctmark = 0;
        info.ctmask = ~v.num! >>> 0;
        break;
      case O.OR_MARK:
        info.mode = CONNMARK_MODE.SET;
        info.ctmark = v.num!;
        info.ctmask = v.num!;
        break;
      case O.XOR_MARK:
        info.mode = CONNMARK_MODE.SET;
        info.ctmark = v.num!;
        info.ctmask = 0;
        break;
      case O.SAVE_MARK:
        info.mode = CONNMARK_MODE.SAVE;
        break;
      case O.RESTORE_MARK:
        info.mode = CONNMARK_MODE.RESTORE;
        break;
      case O.CTMASK:
        info.ctmask = v.num!;
        break;
      case O.NFMASK:
        info.nfmask = v.num!;
        break;
      case O.MASK:
        info.nfmask = v.num!;
        info.ctmask = v.num!;
        break;
      case O.LEFT_SHIFT_MARK:
        info.shiftDir = 0;
        info.shiftBits = v.num!;
        break;
      case O.RIGHT_SHIFT_MARK:
        info.shiftDir = 1;
        info.shiftBits = v.num!;
        break;
    }
  },
  final(cb) {
    if (!(cb.xflags & OP_ANY_BITS)) throw paramError('CONNMARK target: No operation specified');
  },
  check(info) {
    // connmark_tg_check: a shift of the whole width is refused
    if (info.shiftBits > 31) return { errno: 'EINVAL' };
    return undefined;
  },
  print: (info) => operation(info) + shift(info, ''),
  save(info) {
    let s: string;
    switch (info.mode) {
      case CONNMARK_MODE.SET:
        s = ` --set-xmark 0x${hex(info.ctmark)}/0x${hex(info.ctmask)}`;
        break;
      case CONNMARK_MODE.SAVE:
        s = ` --save-mark --nfmask 0x${hex(info.nfmask)} --ctmask 0x${hex(info.ctmask)}`;
        break;
      case CONNMARK_MODE.RESTORE:
        s = ` --restore-mark --nfmask 0x${hex(info.nfmask)} --ctmask 0x${hex(info.ctmask)}`;
        break;
      default:
        s = ' ERROR: UNKNOWN CONNMARK MODE';
    }
    return s + shift(info, '--');
  },
  target: connmarkTarget,
});

/** Shifts a 32-bit value left (direction 0) or right by the rule's bit count. */
function shifted(info: ConnmarkTargetInfo, v: number): number {
  const n = info.shiftBits;
  return (info.shiftDir === 1 ? v >>> n : v << n) >>> 0;
}

/**
 * The kernel half (connmark_tg_shift): set the connection's mark
 * ((ctmark & ~ctmask) ^ value, then shifted), save the packet mark into it
 * (packet bits under nfmask, shifted, replace the bits under ctmask) or
 * restore it (connection bits under ctmask, shifted, replace the packet's
 * bits under nfmask). Nothing happens to a packet without a connection.
 */
function connmarkTarget(info: ConnmarkTargetInfo, ctx: PacketContext): number {
  const skb = ctx.skb;
  const ct = skb.ct;
  if (ct === null) return XT_CONTINUE;
  switch (info.mode) {
    case CONNMARK_MODE.SET:
      ct.mark = shifted(info, ((ct.mark & ~info.ctmask) ^ info.ctmark) >>> 0);
      break;
    case CONNMARK_MODE.SAVE:
      ct.mark = ((ct.mark & ~info.ctmask) ^ shifted(info, (skb.mark & info.nfmask) >>> 0)) >>> 0;
      break;
    case CONNMARK_MODE.RESTORE:
      skb.mark = ((skb.mark & ~info.nfmask) ^ shifted(info, (ct.mark & info.ctmask) >>> 0)) >>> 0;
      break;
  }
  return XT_CONTINUE;
}
