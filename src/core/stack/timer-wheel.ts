/**
 * When a kernel timer really fires. Linux files a timer in a bucket of
 * its timer wheel whose granularity grows with the delay (1 jiffy up to
 * 62 jiffies, then 8, 64, 512, ... jiffies per level) and runs it when
 * the bucket comes due: the expiry is rounded up to the level's next
 * boundary, never down (calc_wheel_index). A one-second SYN retransmission
 * timer therefore fires 1.004 to 1.032 s later, a 64-second one up to 2 s
 * late. HZ is 250 (4 ms per jiffy), as in the rest of the machine.
 */

/** Nanoseconds per jiffy (HZ=250). */
export const NS_PER_JIFFY = 4_000_000;

/** Jiffies per second. */
export const HZ = 250;

/**
 * The machine's jiffies start 5 minutes before they wrap (INITIAL_JIFFIES);
 * bucket boundaries are multiples of powers of two of that unwrapped count.
 */
const JIFFIES_AT_BOOT = 2 ** 32 - 300 * HZ;

/** Bits of the wheel's clock per level, and levels (HZ > 100). */
const LVL_CLK_SHIFT = 3;
const LVL_BITS = 6;
const LVL_DEPTH = 9;

/** Delay (jiffies) from which level `n` is used. */
function levelStart(n: number): number {
  return ((1 << LVL_BITS) - 1) * 2 ** ((n - 1) * LVL_CLK_SHIFT);
}

/** The jiffies count (not wrapped) at virtual time `ns`. */
export function jiffiesAt(ns: number): number {
  return Math.floor(ns / NS_PER_JIFFY) + JIFFIES_AT_BOOT;
}

/** The virtual time (ns) at which jiffies reaches `j`. */
export function nsAtJiffies(j: number): number {
  return (j - JIFFIES_AT_BOOT) * NS_PER_JIFFY;
}

/** Whole jiffies for a duration in microseconds, rounded up (usecs_to_jiffies). */
export function usToJiffies(us: number): number {
  return Math.ceil(us / (1e6 / HZ));
}

/**
 * The virtual time at which a timer armed at `nowNs` to expire `delay`
 * jiffies later runs.
 */
export function timerFireNs(nowNs: number, delay: number): number {
  const now = jiffiesAt(nowNs);
  const d = Math.max(0, Math.floor(delay));
  let lvl = 0;
  while (lvl < LVL_DEPTH - 1 && d >= levelStart(lvl + 1)) lvl++;
  let expires = now + d;
  if (lvl === LVL_DEPTH - 1 && d >= levelStart(LVL_DEPTH)) expires = now + levelStart(LVL_DEPTH) - 1;
  const gran = 2 ** (lvl * LVL_CLK_SHIFT);
  const bucket = (Math.floor(expires / gran) + 1) * gran;
  return nsAtJiffies(bucket);
}
