/**
 * The rateest match: compares the rates measured by RATEEST estimators,
 * either one estimator against a given rate (absolute mode) or two
 * estimators against each other (relative mode), optionally as a
 * difference to given rates (--rateest-delta).
 */
import type { Rule } from '../../netfilter/rule.js';
import { defineMatch, paramError, type CheckContext } from '../index-types.js';
import { cStrtod, xtStrtoul } from './rate-common.js';
import { RATE_HELP } from '../rate-help.js';
import type { PacketContext } from '../packet.js';
import { estimatorRead, findEstimator } from './rate-estimator.js';

/** xt_rateest_match_info (without the kernel's estimator pointers). */
export interface RateestInfo {
  name1: string;
  name2: string;
  /** XT_RATEEST_MATCH_* flags. */
  flags: number;
  /** XT_RATEEST_MATCH_EQ/LT/GT, 0 when none was given. */
  mode: number;
  /** Bytes per second. */
  bps1: number;
  pps1: number;
  bps2: number;
  pps2: number;
}

/** XT_RATEEST_MATCH_* flags. */
export const RATEEST_FLAG = { INVERT: 1, ABS: 2, REL: 4, DELTA: 8, BPS: 16, PPS: 32 } as const;
/** XT_RATEEST_MATCH_* modes. */
export const RATEEST_MODE = { NONE: 0, EQ: 1, LT: 2, GT: 3 } as const;

const O = { RATEEST1: 0, RATEEST2: 1, BPS1: 2, PPS1: 3, BPS2: 4, PPS2: 5, DELTA: 6, LT: 7, GT: 8, EQ: 9 } as const;

/** Rate suffixes and their bits-per-second multipliers (iproute2's table). */
const RATE_SUFFIXES: readonly [string, number][] = [
  ['bit', 1],
  ['Kibit', 1024],
  ['kbit', 1000],
  ['Mibit', 1024 * 1024],
  ['mbit', 1000000],
  ['Gibit', 1024 * 1024 * 1024],
  ['gbit', 1000000000],
  ['Tibit', 1024 * 1024 * 1024 * 1024],
  ['tbit', 1000000000000],
  ['Bps', 8],
  ['KiBps', 8 * 1024],
  ['KBps', 8000],
  ['MiBps', 8 * 1024 * 1024],
  ['MBps', 8000000],
  ['GiBps', 8 * 1024 * 1024 * 1024],
  ['GBps', 8000000000],
  ['TiBps', 8 * 1024 * 1024 * 1024 * 1024],
  ['TBps', 8000000000000],
];

/** double → uint32_t as x86-64 code converts it (through a 64-bit integer). */
export function doubleToU32(d: number): number {
  if (!Number.isFinite(d)) return 0;
  const t = Math.trunc(d);
  if (Math.abs(t) >= 2 ** 63) return 0;
  return Number(BigInt.asUintN(32, BigInt(t)));
}

/** rateest_get_rate: a rate with an optional unit, in bytes per second; undefined if malformed. */
function parseRate(text: string): number | undefined {
  const d = cStrtod(text);
  if (d.end === 0) return undefined;
  const rest = text.slice(d.end);
  if (rest === '') return doubleToU32(d.value / 8);
  const suffix = RATE_SUFFIXES.find(([name]) => name.toLowerCase() === rest.toLowerCase());
  return suffix ? doubleToU32((d.value * suffix[1]) / 8) : undefined;
}

/** printf("%.0f") of a non-negative value: round half to even. */
export function printf0(x: number): string {
  const f = Math.floor(x);
  const diff = x - f;
  if (diff === 0.5) return String(f % 2 === 0 ? f : f + 1);
  return String(Math.round(x));
}

/** rateest_print_rate. */
function formatRate(rate: number, numeric: boolean): string {
  const bits = rate * 8;
  if (numeric) return ` ${rate}`;
  if (bits >= 1000 * 1000000) return ` ${printf0(bits / 1000000)}Mbit`;
  if (bits >= 1000 * 1000) return ` ${printf0(bits / 1000)}Kbit`;
  return ` ${printf0(bits)}bit`;
}

function formatMode(info: RateestInfo, prefix: string): string {
  const inv = info.flags & RATEEST_FLAG.INVERT ? ' !' : '';
  const name = ['', 'eq', 'lt', 'gt'][info.mode] ?? '';
  return `${inv} ${prefix}${name}`;
}

function saveRate(info: RateestInfo, name: string, r1: number, r2: number, numeric: boolean): string {
  let s: string;
  if (info.flags & RATEEST_FLAG.DELTA) {
    s = ` --rateest-${name}1${formatRate(r1, numeric)}${formatMode(info, '--rateest-')} --rateest-${name}2`;
  } else {
    s = `${formatMode(info, '--rateest-')} --rateest-${name}`;
  }
  if (info.flags & (RATEEST_FLAG.ABS | RATEEST_FLAG.DELTA)) s += formatRate(r2, numeric);
  return s;
}

/**
 * Rules of the whole network namespace, when the command layer offers
 * them to checks (needed to know which rate estimators exist).
 */
export type RulesInNetns = CheckContext & { rulesInNetns?: () => Iterable<Rule> };

/** Whether an estimator of this name exists: some rule's RATEEST target or rateest match refers to it. */
export function estimatorExists(ctx: CheckContext, name: string): boolean {
  const rules = (ctx as RulesInNetns).rulesInNetns?.();
  if (!rules) return true;
  for (const r of rules) {
    if (r.target.kind === 'ext' && r.target.name === 'RATEEST' && r.target.info.name === name) return true;
    for (const m of r.matches)
      if (m.name === 'rateest' && (m.info.name1 === name || (m.info.flags & RATEEST_FLAG.REL && m.info.name2 === name)))
        return true;
  }
  return false;
}

/** Names are cut to IFNAMSIZ - 1 characters. */
const cutName = (s: string) => s.slice(0, 15);

/** The rateest match extension. */
export const rateest = defineMatch<RateestInfo>({
  name: 'rateest',
  help: () => RATE_HELP['rateest']!,
  oldStyle: true,
  options: [
    { name: 'rateest1', id: O.RATEEST1, type: 'string' },
    { name: 'rateest', id: O.RATEEST1, type: 'string' },
    { name: 'rateest2', id: O.RATEEST2, type: 'string' },
    { name: 'rateest-bps1', id: O.BPS1, type: 'none' },
    { name: 'rateest-pps1', id: O.PPS1, type: 'none' },
    { name: 'rateest-bps2', id: O.BPS2, type: 'none' },
    { name: 'rateest-pps2', id: O.PPS2, type: 'none' },
    { name: 'rateest-bps', id: O.BPS2, type: 'none' },
    { name: 'rateest-pps', id: O.PPS2, type: 'none' },
    { name: 'rateest-delta', id: O.DELTA, type: 'none' },
    { name: 'rateest-lt', id: O.LT, type: 'none' },
    { name: 'rateest-gt', id: O.GT, type: 'none' },
    { name: 'rateest-eq', id: O.EQ, type: 'none' },
  ],
  init: () => ({ name1: '', name2: '', flags: 0, mode: 0, bps1: 0, pps1: 0, bps2: 0, pps2: 0 }),
  parse(cb) {
    const info = cb.info;
    const id = cb.entry.id;
    const once = (what: string) => {
      if (cb.xflags & (1 << id)) throw paramError(`rateest: can't specify ${what} twice`);
    };
    const noInvert = (what: string) => {
      if (cb.invert) throw paramError(`rateest: ${what} can't be inverted`);
    };
    /** The optional value after --rateest-bps/pps, if the next word is one. */
    const optionalValue = (): string | undefined => {
      const next = cb.peekArg();
      if (next === undefined || next[0] === '-' || next[0] === '!') return undefined;
      return next;
    };
    switch (id) {
      case O.RATEEST1:
        noInvert('rateest');
        once('--rateest1');
        info.name1 = cutName(cb.arg!);
        break;
      case O.RATEEST2:
        noInvert('rateest');
        once('--rateest2');
        info.name2 = cutName(cb.arg!);
        info.flags |= RATEEST_FLAG.REL;
        break;
      case O.BPS1:
      case O.BPS2: {
        noInvert('rateest-bps');
        once(id === O.BPS1 ? '--rateest-bps1' : '--rateest-bps2');
        info.flags |= RATEEST_FLAG.BPS;
        const v = optionalValue();
        if (v === undefined) break;
        const rate = parseRate(v);
        if (rate === undefined) throw paramError(`rateest: could not parse rate \`${v}'`);
        if (id === O.BPS1) info.bps1 = rate;
        else info.bps2 = rate;
        cb.nextArg();
        break;
      }
      case O.PPS1:
      case O.PPS2: {
        noInvert('rateest-pps');
        once(id === O.PPS1 ? '--rateest-pps1' : '--rateest-pps2');
        info.flags |= RATEEST_FLAG.PPS;
        const v = optionalValue();
        if (v === undefined) break;
        const n = xtStrtoul(v, 0n, 0xffffffffn);
        if (!n || n.end !== v.length) throw paramError(`rateest: could not parse pps \`${v}'`);
        if (id === O.PPS1) info.pps1 = Number(n.value);
        else info.pps2 = Number(n.value);
        cb.nextArg();
        break;
      }
      case O.DELTA:
        noInvert('rateest-delta');
        once('--rateest-delta');
        info.flags |= RATEEST_FLAG.DELTA;
        break;
      case O.EQ:
      case O.LT:
      case O.GT:
        once('lt/gt/eq');
        info.mode = id === O.EQ ? RATEEST_MODE.EQ : id === O.LT ? RATEEST_MODE.LT : RATEEST_MODE.GT;
        if (cb.invert) info.flags |= RATEEST_FLAG.INVERT;
        break;
    }
  },
  final(cb) {
    if (!(cb.info.flags & RATEEST_FLAG.REL)) cb.info.flags |= RATEEST_FLAG.ABS;
  },
  check(info, ctx) {
    const absRel = info.flags & (RATEEST_FLAG.ABS | RATEEST_FLAG.REL);
    if (absRel !== RATEEST_FLAG.ABS && absRel !== RATEEST_FLAG.REL) return { errno: 'EINVAL' };
    if (!(info.flags & (RATEEST_FLAG.BPS | RATEEST_FLAG.PPS))) return { errno: 'EINVAL' };
    if (info.mode < RATEEST_MODE.EQ || info.mode > RATEEST_MODE.GT) return { errno: 'EINVAL' };
    if (!estimatorExists(ctx, info.name1)) return { errno: 'ENOENT' };
    if (info.flags & RATEEST_FLAG.REL && !estimatorExists(ctx, info.name2)) return { errno: 'ENOENT' };
    return undefined;
  },
  print(info, { numeric }) {
    const delta = (info.flags & RATEEST_FLAG.DELTA) !== 0;
    const abs = (info.flags & RATEEST_FLAG.ABS) !== 0;
    let s = ` rateest match ${info.name1}`;
    if (delta) s += ' delta';
    if (info.flags & RATEEST_FLAG.BPS) {
      s += ' bps';
      if (delta) s += formatRate(info.bps1, numeric);
      if (abs) s += formatRate(info.bps2, numeric) + formatMode(info, '');
    }
    if (info.flags & RATEEST_FLAG.PPS) {
      s += ' pps';
      if (delta) s += ` ${info.pps1}`;
      if (abs) s += `${formatMode(info, '')} ${info.pps2}`;
    }
    if (info.flags & RATEEST_FLAG.REL) {
      s += `${formatMode(info, '')} ${info.name2}`;
      if (info.flags & RATEEST_FLAG.BPS) {
        s += ' bps';
        if (delta) s += formatRate(info.bps2, numeric);
      }
      if (info.flags & RATEEST_FLAG.PPS) {
        s += ' pps';
        if (delta) s += ` ${info.pps2}`;
      }
    }
    return s;
  },
  save(info) {
    let s = info.flags & RATEEST_FLAG.DELTA ? ' --rateest-delta' : '';
    const rates = () =>
      (info.flags & RATEEST_FLAG.BPS ? saveRate(info, 'bps', info.bps1, info.bps2, false) : '') +
      (info.flags & RATEEST_FLAG.PPS ? saveRate(info, 'pps', info.pps1, info.pps2, true) : '');
    if (info.flags & RATEEST_FLAG.REL) s += ` --rateest1 ${info.name1}${rates()} --rateest2 ${info.name2}`;
    else s += ` --rateest ${info.name1}${rates()}`;
    return s;
  },
  match: rateestMatch,
});

/** An estimator's current rates; zero when it does not exist (yet). */
function rates(ctx: PacketContext, name: string): { bps: number; pps: number } {
  const est = findEstimator(ctx.kernel.shared, name);
  return est ? estimatorRead(est, ctx.kernel.jiffies()) : { bps: 0, pps: 0 };
}

/**
 * The kernel half: the first estimator's rates (with --rateest-delta, how
 * far they stay below the given rates) compared with the given rates
 * (absolute mode) or with the second estimator's (relative mode), by
 * bytes and/or packets per second; every chosen comparison must hold.
 */
function rateestMatch(info: RateestInfo, ctx: PacketContext): boolean {
  const delta = (info.flags & RATEEST_FLAG.DELTA) !== 0;
  const s1 = rates(ctx, info.name1);
  const bps1 = delta ? (info.bps1 >= s1.bps ? info.bps1 - s1.bps : 0) : s1.bps;
  const pps1 = delta ? (info.pps1 >= s1.pps ? info.pps1 - s1.pps : 0) : s1.pps;
  let bps2: number;
  let pps2: number;
  if (info.flags & RATEEST_FLAG.ABS) {
    bps2 = info.bps2;
    pps2 = info.pps2;
  } else {
    const s2 = rates(ctx, info.name2);
    bps2 = delta ? (info.bps2 >= s2.bps ? info.bps2 - s2.bps : 0) : s2.bps;
    pps2 = delta ? (info.pps2 >= s2.pps ? info.pps2 - s2.pps : 0) : s2.pps;
  }
  const bps = (info.flags & RATEEST_FLAG.BPS) !== 0;
  const pps = (info.flags & RATEEST_FLAG.PPS) !== 0;
  let ret = true;
  switch (info.mode) {
    case RATEEST_MODE.LT:
      if (bps) ret &&= bps1 < bps2;
      if (pps) ret &&= pps1 < pps2;
      break;
    case RATEEST_MODE.GT:
      if (bps) ret &&= bps1 > bps2;
      if (pps) ret &&= pps1 > pps2;
      break;
    case RATEEST_MODE.EQ:
      if (bps) ret &&= bps1 === bps2;
      if (pps) ret &&= pps1 === pps2;
      break;
  }
  return ret !== ((info.flags & RATEEST_FLAG.INVERT) !== 0);
}
