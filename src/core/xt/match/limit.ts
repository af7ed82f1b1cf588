/**
 * The limit match: a token bucket of --limit average packets per period
 * with --limit-burst tokens. iptables-nft stores it as a native nf_tables
 * `limit` expression (rate per unit), so the average read back is
 * recomputed from that pair and the kernel fills in a burst of 0 as 5.
 * The kernel half is therefore nft_limit's bucket, counted in nanoseconds
 * of the monotonic clock, not xt_limit's credits in jiffies.
 */
import { defineMatch, paramError } from '../index-types.js';
import { cAtoi, formatRate, rateMultiplier } from './rate-common.js';
import { RATE_HELP } from '../rate-help.js';
import type { PacketContext } from '../packet.js';

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

/**
 * The nft `limit rate R/unit` iptables-nft sends for an average period
 * (add_nft_limit): the largest unit that still divides evenly enough.
 */
export function nftRate(avg: number): { rate: number; unit: number } {
  const mults = [LIMIT_SCALE * 86400, LIMIT_SCALE * 3600, LIMIT_SCALE * 60, LIMIT_SCALE];
  let i = 1;
  for (; i < mults.length; i++) {
    const m = mults[i]!;
    if (avg > m || Math.floor(m / avg) < m % avg) break;
  }
  return { rate: Math.floor(mults[i - 1]! / avg), unit: mults[i - 1]! / LIMIT_SCALE };
}

/** What iptables-nft reads back after storing the limit as an nft `limit rate R/unit burst B`. */
function nftReadBack(info: LimitInfo): LimitInfo {
  const { rate, unit } = nftRate(info.avg);
  return {
    avg: Math.floor((LIMIT_SCALE * unit) / rate) >>> 0,
    burst: info.burst,
  };
}

/**
 * The bucket of one limit rule (struct nft_limit): tokens are nanoseconds
 * of credit. `tokens` null means a full bucket, as the rule starts (its
 * fill time does not matter: a full bucket stays full). Values beyond 2^53
 * are kept as decimal strings and computed exactly.
 */
export interface LimitRuntime {
  tokens: number | string | null;
  /** Virtual time of the last packet, ns. */
  last: number;
}

/** The bucket's constants for a rule: cost of a packet and bucket size, in ns. */
interface Bucket {
  cost: number;
  max: number;
  /** The size exceeds 2^53: use exact arithmetic. */
  big: boolean;
  bigCost: bigint;
  bigMax: bigint;
}

const bucketCache = new WeakMap<LimitInfo, Bucket>();

/** nft_limit_pkts_init: cost = unit / rate, bucket = cost × burst (a burst of 0 counts as 5). */
function bucketOf(info: LimitInfo): Bucket {
  let b = bucketCache.get(info);
  if (!b) {
    const { rate, unit } = nftRate(info.avg);
    const burst = info.burst === 0 ? DEFAULT_BURST : info.burst;
    const bigCost = (BigInt(unit) * 1_000_000_000n) / BigInt(rate);
    const bigMax = bigCost * BigInt(burst);
    b = { cost: Number(bigCost), max: Number(bigMax), big: bigMax > BigInt(Number.MAX_SAFE_INTEGER), bigCost, bigMax };
    bucketCache.set(info, b);
  }
  return b;
}

/**
 * The kernel half (nft_limit_eval): the bucket gains one token per
 * nanosecond since the last packet, up to its size; a packet that finds
 * `cost` tokens takes them and matches, any other leaves them and does
 * not match.
 */
function limitMatch(info: LimitInfo, ctx: PacketContext, rt: LimitRuntime): boolean {
  const b = bucketOf(info);
  const now = ctx.kernel.nowNs();
  if (b.big) {
    let tokens = rt.tokens === null ? b.bigMax : BigInt(rt.tokens) + BigInt(now - rt.last);
    if (tokens > b.bigMax) tokens = b.bigMax;
    rt.last = now;
    const ok = tokens >= b.bigCost;
    rt.tokens = (ok ? tokens - b.bigCost : tokens).toString();
    return ok;
  }
  let tokens = rt.tokens === null ? b.max : (rt.tokens as number) + (now - rt.last);
  if (tokens > b.max) tokens = b.max;
  rt.last = now;
  if (tokens >= b.cost) {
    rt.tokens = tokens - b.cost;
    return true;
  }
  rt.tokens = tokens;
  return false;
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
  runtime: (): LimitRuntime => ({ tokens: null, last: 0 }),
  match: limitMatch,
});
