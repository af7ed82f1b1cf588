/**
 * The limit match: a token bucket of --limit average packets per period
 * with --limit-burst tokens. iptables-nft stores it as a native nf_tables
 * `limit` expression (rate per unit), so the average read back is
 * recomputed from that pair and the kernel fills in a burst of 0 as 5.
 */
import { defineMatch, paramError } from '../index-types.js';
import { cAtoi, formatRate, rateMultiplier } from './rate-common.js';
import { RATE_HELP } from '../rate-help.js';

/** xt_rateinfo as the user sets it (the kernel's bookkeeping is not kept). */
export interface LimitInfo {
  /** Average time between matches, in 1/10000 s (XT_LIMIT_SCALE units). */
  avg: number;
  /** Tokens in a full bucket. */
  burst: number;
}

/** XT_LIMIT_SCALE: `avg` counts 1/10000ths of a second. */
export const LIMIT_SCALE = 10000;

/** Default burst of limit and hashlimit. */
const DEFAULT_BURST = 5;

/** parse_rate of libxt_limit: the average period for "N[/unit]", or undefined. */
function parseLimitRate(rate: string): number | undefined {
  const mult = rateMultiplier(rate);
  if (mult === undefined) return undefined;
  const r = cAtoi(rate) >>> 0;
  if (r === 0) return undefined;
  const avg = Math.floor((LIMIT_SCALE * mult) / r);
  if (avg === 0) throw paramError(`Rate too fast "${rate}"`);
  return avg;
}

/** What iptables-nft reads back after storing the limit as an nft `limit rate R/unit burst B`. */
function nftReadBack(info: LimitInfo): LimitInfo {
  const mults = [LIMIT_SCALE * 86400, LIMIT_SCALE * 3600, LIMIT_SCALE * 60, LIMIT_SCALE];
  let i = 1;
  for (; i < mults.length; i++) {
    const m = mults[i]!;
    if (info.avg > m || Math.floor(m / info.avg) < m % info.avg) break;
  }
  const rate = Math.floor(mults[i - 1]! / info.avg);
  const unit = mults[i - 1]! / LIMIT_SCALE;
  return {
    avg: Math.floor((LIMIT_SCALE * unit) / rate) >>> 0,
    burst: info.burst,
  };
}

/** The limit match extension. */
export const limit = defineMatch<LimitInfo>({
  name: 'limit',
  help: () => RATE_HELP['limit']!,
  options: [
    { name: 'limit', id: 0, type: 'string' },
    { name: 'limit-burst', id: 1, type: 'uint32', min: 0, max: 10000 },
  ],
  init: () => ({ avg: parseLimitRate('3/hour')!, burst: DEFAULT_BURST }),
  parse(cb) {
    cb.parseGeneric();
    if (cb.entry.id === 0) {
      const avg = parseLimitRate(cb.arg!);
      if (avg === undefined) throw paramError(`bad rate "${cb.arg}"'`);
      cb.info.avg = avg;
    } else {
      cb.info.burst = cb.val.num!;
    }
  },
  print(info) {
    return ` limit: avg${formatRate(BigInt(info.avg), BigInt(LIMIT_SCALE)).text} burst ${info.burst}`;
  },
  save(info) {
    let s = ` --limit${formatRate(BigInt(info.avg), BigInt(LIMIT_SCALE)).text}`;
    if (info.burst !== DEFAULT_BURST) s += ` --limit-burst ${info.burst}`;
    return s;
  },
  kernelForm: nftReadBack,
  // the kernel fills in a burst of 0 as 5 when it stores the limit
  storeForm: (info) => (info.burst === 0 ? { ...info, burst: DEFAULT_BURST } : info),
});
