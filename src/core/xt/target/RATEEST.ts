/**
 * The RATEEST target: feeds packets into a named rate estimator (the
 * kernel's generic estimator, as tc uses) that rateest matches read.
 * Interval and averaging constant are kept in the kernel's coded form.
 */
import { defineTarget, paramError, type CheckContext } from '../index-types.js';
import type { RulesInNetns } from '../match/rateest.js';
import { cStrtod } from '../match/rate-common.js';
import { RATE_HELP } from '../rate-help.js';
import { XT_CONTINUE } from '../verdict.js';

/** xt_rateest_target_info (without the kernel's estimator pointer). */
export interface RateestTargetInfo {
  name: string;
  /** Measurement interval: 2^(interval + 2) quarter seconds (-2..3). */
  interval: number;
  /** Averaging time constant: interval × 2^ewmaLog. */
  ewmaLog: number;
  /** Times as given, in µs (parse-time only; removed by the final check). */
  givenInterval?: number;
  givenEwma?: number;
}

const O = { NAME: 0, INTERVAL: 1, EWMALOG: 2 } as const;
const US_PER_SEC = 1000000;

/** RATEEST_get_time: "N[s|ms|us...]" in microseconds (truncated to 32 bits); undefined if malformed. */
function parseTime(text: string): number | undefined {
  const d = cStrtod(text);
  if (d.end === 0) return undefined;
  let t = d.value;
  const unit = text.slice(d.end).toLowerCase();
  if (unit !== '') {
    if (['s', 'sec', 'secs'].includes(unit)) t *= US_PER_SEC;
    else if (['ms', 'msec', 'msecs'].includes(unit)) t *= US_PER_SEC / 1000;
    else if (['us', 'usec', 'usecs'].includes(unit)) t *= 1;
    else return undefined;
  }
  if (!Number.isFinite(t) || Math.abs(t) >= 2 ** 63) return 0;
  return Number(BigInt.asUintN(32, BigInt(Math.trunc(t))));
}

/** RATEEST_print_time. */
function formatTime(us: number): string {
  if (us >= US_PER_SEC) return ` ${(us / US_PER_SEC).toFixed(1)}s`;
  if (us >= US_PER_SEC / 1000) return ` ${(us / 1000).toFixed(1)}ms`;
  return ` ${us}us`;
}

/** The interval and time constant in µs, as the print functions compute them (32-bit arithmetic). */
function decoded(info: RateestTargetInfo): { interval: number; ewma: number } {
  const interval = Math.floor((US_PER_SEC * 2 ** (info.interval + 2)) / 4) >>> 0;
  const ewma = Number(BigInt.asUintN(32, BigInt(interval) * (1n << BigInt(info.ewmaLog))));
  return { interval, ewma };
}

function render(info: RateestTargetInfo, prefix: string): string {
  const d = decoded(info);
  return ` ${prefix}name ${info.name} ${prefix}interval${formatTime(d.interval)} ${prefix}ewmalog${formatTime(d.ewma)}`;
}

/** The RATEEST target extension. */
export const RATEEST = defineTarget<RateestTargetInfo>({
  name: 'RATEEST',
  help: () => RATE_HELP['RATEEST']!,
  options: [
    { name: 'rateest-name', id: O.NAME, type: 'string', mandatory: true, size: 16 },
    { name: 'rateest-interval', id: O.INTERVAL, type: 'string', mandatory: true },
    { name: 'rateest-ewmalog', id: O.EWMALOG, type: 'string', mandatory: true },
  ],
  init: () => ({ name: '', interval: 0, ewmaLog: 0, givenInterval: 0, givenEwma: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case O.NAME:
        info.name = cb.val.str!;
        break;
      case O.INTERVAL: {
        const t = parseTime(cb.arg!);
        if (t === undefined) throw paramError(`RATEEST: bad interval value "${cb.arg}"`);
        info.givenInterval = t;
        break;
      }
      case O.EWMALOG: {
        const t = parseTime(cb.arg!);
        if (t === undefined) throw paramError(`RATEEST: bad ewmalog value "${cb.arg}"`);
        info.givenEwma = t;
        break;
      }
    }
  },
  final(cb) {
    const info = cb.info;
    const interval = info.givenInterval ?? 0;
    const ewma = info.givenEwma ?? 0;
    delete info.givenInterval;
    delete info.givenEwma;
    let i = 0;
    for (; i <= 5; i++) if (interval <= 2 ** i * (US_PER_SEC / 4)) break;
    if (i > 5) throw paramError('RATEEST: interval value is too large');
    info.interval = i - 2;
    let e = 1;
    for (; e < 32; e++) {
      const w = 1.0 - 1.0 / 2 ** e;
      if (interval / -Math.log(w) > ewma) break;
    }
    e--;
    if (e === 0 || e >= 31) throw paramError('RATEEST: ewmalog value is out of range');
    info.ewmaLog = e;
  },
  check(info, ctx: CheckContext) {
    const rules = (ctx as RulesInNetns).rulesInNetns?.();
    if (!rules) return undefined;
    for (const r of rules) {
      const t = r.target;
      if (t.kind !== 'ext' || t.name !== 'RATEEST' || t.info.name !== info.name) continue;
      // An existing estimator of that name must have the same parameters.
      if (t.info.interval !== info.interval || t.info.ewmaLog !== info.ewmaLog) return { errno: 'EINVAL' };
      return undefined;
    }
    return undefined;
  },
  print: (info) => render(info, ''),
  save: (info) => render(info, '--rateest-'),
  // xt_rateest_tg only adds the packet to its estimator's byte and packet
  // counts; the estimator's timer turns those into rates for -m rateest.
  target(info, ctx) {
    const all = (ctx.kernel.shared['RATEEST'] ??= {}) as Record<string, RateestCounts>;
    const c = (all[info.name] ??= { bytes: 0, packets: 0 });
    c.bytes += ctx.skb.data.length;
    c.packets += 1;
    return XT_CONTINUE;
  },
});

/** The running totals of one named estimator, kept in KernelServices.shared['RATEEST']. */
export interface RateestCounts {
  bytes: number;
  packets: number;
}
