/**
 * The statistic match: random sampling with a probability, or every nth
 * packet counted from an initial value.
 */
import { defineMatch, paramError } from '../index-types.js';
import { cStrtod } from './rate-common.js';
import { RATE_HELP } from '../rate-help.js';
import type { PacketContext } from '../packet.js';

/** xt_statistic_info as the user sets it. */
export interface StatisticInfo {
  /** 0 random, 1 nth. */
  mode: number;
  /** XT_STATISTIC_INVERT (1) or 0. */
  flags: number;
  /** Random mode: probability scaled to 2^31. */
  probability: number;
  /** Nth mode: n - 1. */
  every: number;
  /** Nth mode: initial counter value. */
  packet: number;
  /** Nth mode: where the kernel's counter starts (every - packet). */
  count: number;
}

/** XT_STATISTIC_MODE_*. */
export const STATISTIC_MODE = { RANDOM: 0, NTH: 1 } as const;
const INVERT = 1;
const O = { MODE: 0, PROBABILITY: 1, EVERY: 2, PACKET: 3 } as const;
const TWO31 = 0x80000000n;

/** printf("%.11f", p / 2^31), exactly, with glibc's round-half-to-even. */
function formatProbability(p: number): string {
  const scaled = BigInt(p) * 100000000000n;
  let q = scaled / TWO31;
  const r = scaled % TWO31;
  if (r * 2n > TWO31 || (r * 2n === TWO31 && q % 2n === 1n)) q += 1n;
  const digits = q.toString().padStart(12, '0');
  return `${digits.slice(0, -11)}.${digits.slice(-11)}`;
}

/** The statistic match extension. */
export const statistic = defineMatch<StatisticInfo>({
  name: 'statistic',
  help: () => RATE_HELP['statistic']!,
  options: [
    { name: 'mode', id: O.MODE, type: 'string', mandatory: true },
    { name: 'probability', id: O.PROBABILITY, type: 'string', invert: true, excl: [O.EVERY, O.PACKET] },
    { name: 'every', id: O.EVERY, type: 'uint32', min: 1, invert: true, excl: [O.PROBABILITY], also: [O.PACKET] },
    { name: 'packet', id: O.PACKET, type: 'uint32', excl: [O.PROBABILITY], also: [O.EVERY] },
  ],
  init: () => ({ mode: STATISTIC_MODE.RANDOM, flags: 0, probability: 0, every: 0, packet: 0, count: 0 }),
  parse(cb) {
    const info = cb.info;
    if (cb.invert) info.flags |= INVERT;
    cb.parseGeneric();
    switch (cb.entry.id) {
      case O.MODE:
        if (cb.arg === 'random') info.mode = STATISTIC_MODE.RANDOM;
        else if (cb.arg === 'nth') info.mode = STATISTIC_MODE.NTH;
        else throw paramError(`Bad mode "${cb.arg}"`);
        break;
      case O.PROBABILITY: {
        const arg = cb.arg!;
        const d = cStrtod(arg);
        if (d.end === 0 || d.end !== arg.length || d.value < 0 || d.value > 1)
          throw paramError('statistic: bad value for option "--probability", or out of range (0-1).\n');
        info.probability = Math.round(0x80000000 * d.value) >>> 0;
        break;
      }
      case O.EVERY:
        info.every = (cb.val.num! - 1) >>> 0;
        break;
      case O.PACKET:
        info.packet = cb.val.num!;
        break;
    }
  },
  final(cb) {
    const info = cb.info;
    if (info.mode === STATISTIC_MODE.RANDOM && !(cb.xflags & (1 << O.PROBABILITY)))
      throw paramError('--probability must be specified when using random mode');
    if (info.mode === STATISTIC_MODE.NTH && !(cb.xflags & ((1 << O.EVERY) | (1 << O.PACKET))))
      throw paramError('--every and --packet must be specified when using nth mode');
    if (info.packet > info.every) throw paramError('the --packet p must be 0 <= p <= n-1');
    info.count = (info.every - info.packet) >>> 0;
  },
  print: (info) => ' statistic' + render(info, ''),
  save: (info) => render(info, '--'),
  runtime: (info): StatisticRuntime => ({ count: info.count }),
  match: statisticMatch,
});

/** The nth counter of a rule (xt_statistic_priv), starting at every - packet. */
export interface StatisticRuntime {
  count: number;
}

/**
 * The kernel half: random mode matches when 31 random bits fall below the
 * probability; nth mode steps the counter (back to 0 after `every`) and
 * matches when it reaches 0. Inverted when asked.
 */
function statisticMatch(info: StatisticInfo, ctx: PacketContext, rt: StatisticRuntime): boolean {
  const invert = (info.flags & INVERT) !== 0;
  if (info.mode === STATISTIC_MODE.RANDOM) {
    return ((ctx.kernel.random32() & 0x7fffffff) >>> 0 < info.probability) !== invert;
  }
  if (info.mode === STATISTIC_MODE.NTH) {
    const next = rt.count === info.every ? 0 : rt.count + 1;
    rt.count = next;
    return (next === 0) !== invert;
  }
  return invert;
}

/** print_match: the shared body of the -L and save forms. */
function render(info: StatisticInfo, prefix: string): string {
  const inv = info.flags & INVERT ? ' !' : '';
  if (info.mode === STATISTIC_MODE.RANDOM)
    return ` ${prefix}mode random${inv} ${prefix}probability ${formatProbability(info.probability)}`;
  if (info.mode === STATISTIC_MODE.NTH) {
    let s = ` ${prefix}mode nth${inv} ${prefix}every ${(info.every + 1) >>> 0}`;
    if (info.packet || prefix) s += ` ${prefix}packet ${info.packet}`;
    return s;
  }
  return '';
}
