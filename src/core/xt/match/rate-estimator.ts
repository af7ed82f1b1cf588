/**
 * The kernel's generic rate estimator (gen_estimator) as the RATEEST
 * target feeds it and the rateest match reads it: every interval a timer
 * folds the bytes and packets counted since the previous tick into
 * exponentially weighted averages. Here the ticks are worked out when the
 * estimator is next used, which gives the same values on the virtual
 * clock. Estimators live in KernelServices.shared under RATEEST_SHARED_KEY,
 * by name, as plain data.
 */

/** Key of the estimators in KernelServices.shared. */
export const RATEEST_SHARED_KEY = 'rateest';

/** One estimator (struct net_rate_estimator with its counters). */
export interface EstimatorState {
  /** Interval as 2^intvlLog quarter seconds (RATEEST's interval + 2). */
  intvlLog: number;
  ewmaLog: number;
  /** Bytes and packets counted so far. */
  bytes: number;
  packets: number;
  /** The counters at the last tick. */
  lastBytes: number;
  lastPackets: number;
  /** Averages in bytes and packets per second, scaled by 2^8. */
  avbps: number;
  avpps: number;
  /** Jiffies of the next tick. */
  nextJiffies: number;
}

/** HZ / 4 in the kernel's integer arithmetic (62 with HZ=250): jiffies per quarter second. */
const QUARTER = 62;

/** Jiffies between two ticks. */
function period(est: EstimatorState): number {
  return QUARTER * 2 ** est.intvlLog;
}

/** x >> n for a non-negative value. */
function shr(x: number, n: number): number {
  return Math.floor(x / 2 ** n);
}

/** One tick of est_timer. */
function tick(est: EstimatorState): void {
  const scale = 2 ** (10 - est.intvlLog);
  const brate = shr((est.bytes - est.lastBytes) * scale, est.ewmaLog) - shr(est.avbps, est.ewmaLog);
  const prate = shr((est.packets - est.lastPackets) * scale, est.ewmaLog) - shr(est.avpps, est.ewmaLog);
  est.avbps += brate;
  est.avpps += prate;
  est.lastBytes = est.bytes;
  est.lastPackets = est.packets;
  est.nextJiffies += period(est);
}

/**
 * Runs the ticks due up to `now` (jiffies). Once nothing new was counted
 * and the averages no longer move, the remaining ticks are skipped at once.
 */
export function estimatorAdvance(est: EstimatorState, now: number): void {
  while (now >= est.nextJiffies) {
    const idle = est.bytes === est.lastBytes && est.packets === est.lastPackets;
    if (idle && shr(est.avbps, est.ewmaLog) === 0 && shr(est.avpps, est.ewmaLog) === 0) {
      const p = period(est);
      est.nextJiffies += p * (Math.floor((now - est.nextJiffies) / p) + 1);
      return;
    }
    tick(est);
  }
}

/**
 * The estimator of this name, created (gen_new_estimator) when missing:
 * `interval` and `ewmaLog` as the RATEEST target stores them.
 */
export function estimatorFor(
  shared: Record<string, any>,
  name: string,
  interval: number,
  ewmaLog: number,
  now: number,
): EstimatorState {
  const all: Record<string, EstimatorState> = (shared[RATEEST_SHARED_KEY] ??= {});
  let est = all[name];
  if (!est) {
    const intvlLog = interval + 2;
    est = { intvlLog, ewmaLog, bytes: 0, packets: 0, lastBytes: 0, lastPackets: 0, avbps: 0, avpps: 0, nextJiffies: 0 };
    est.nextJiffies = now + period(est);
    all[name] = est;
  }
  return est;
}

/** Counts one packet of `len` bytes (what the RATEEST target does). */
export function estimatorCount(est: EstimatorState, len: number, now: number): void {
  estimatorAdvance(est, now);
  est.bytes += len;
  est.packets++;
}

/** The current rates (gen_estimator_read): bytes and packets per second. */
export function estimatorRead(est: EstimatorState, now: number): { bps: number; pps: number } {
  estimatorAdvance(est, now);
  return { bps: shr(est.avbps, 8), pps: shr(est.avpps, 8) };
}

/** The estimator of this name, or undefined when no RATEEST rule made one. */
export function findEstimator(shared: Record<string, any>, name: string): EstimatorState | undefined {
  return (shared[RATEEST_SHARED_KEY] as Record<string, EstimatorState> | undefined)?.[name];
}
