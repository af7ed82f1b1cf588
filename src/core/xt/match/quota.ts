/**
 * The quota match: matches until a byte budget is used up (or, inverted,
 * once it is). The budget is a full 64-bit number, kept in decimal. The
 * kernel counts the remainder down in its private copy: the rule itself
 * (and so iptables-save) keeps showing the budget it was given.
 */
import { defineMatch, paramError } from '../index-types.js';
import { U64_MAX, xtStrtoul } from './rate-common.js';
import { RATE_HELP } from '../rate-help.js';
import type { PacketContext } from '../packet.js';

/** xt_quota_info as the user sets it. */
export interface QuotaInfo {
  /** XT_QUOTA_INVERT (1) or 0. */
  flags: number;
  /** Byte budget, decimal (u64). */
  quota: string;
}

/** XT_QUOTA_INVERT. */
export const QUOTA_INVERT = 1;

/** The quota match extension. */
export const quota = defineMatch<QuotaInfo>({
  name: 'quota',
  help: () => RATE_HELP['quota']!,
  options: [{ name: 'quota', id: 0, type: 'string', mandatory: true, invert: true }],
  init: () => ({ flags: 0, quota: '0' }),
  parse(cb) {
    cb.parseGeneric();
    const arg = cb.arg!;
    const v = xtStrtoul(arg, 0n, U64_MAX);
    if (!v || v.end !== arg.length)
      throw paramError(`quota: bad value for option "--quota", or out of range (0-${U64_MAX}).\n`);
    cb.info.quota = String(v.value);
    if (cb.invert) cb.info.flags |= QUOTA_INVERT;
  },
  print: (info) => ` quota: ${info.quota} bytes`,
  save: (info) => `${info.flags & QUOTA_INVERT ? ' !' : ''} --quota ${info.quota}`,
  runtime: (info): QuotaRuntime => {
    const q = BigInt(info.quota);
    return { remaining: q <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(q) : info.quota };
  },
  match: quotaMatch,
});

/** The bytes left (struct xt_quota_priv); a decimal string when beyond 2^53. */
export interface QuotaRuntime {
  remaining: number | string;
}

/**
 * The kernel half: a packet that fits in what is left uses it up and
 * matches; the first one that does not fit empties the quota, so that no
 * packet, however small, matches afterwards. Inverted, the other way round.
 */
function quotaMatch(info: QuotaInfo, ctx: PacketContext, rt: QuotaRuntime): boolean {
  const invert = (info.flags & QUOTA_INVERT) !== 0;
  const len = ctx.skb.data.length;
  if (typeof rt.remaining === 'string') {
    const left = BigInt(rt.remaining);
    const fits = left >= BigInt(len);
    const next = fits ? left - BigInt(len) : 0n;
    rt.remaining = next <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(next) : next.toString();
    return fits !== invert;
  }
  if (rt.remaining >= len) {
    rt.remaining -= len;
    return !invert;
  }
  rt.remaining = 0;
  return invert;
}
