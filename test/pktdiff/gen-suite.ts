/**
 * Glue for the packet-level suites (pktdiff-seeds, pktdiff-fuzz): runs a
 * scenario on the real kernel and then through nflab, compares the two
 * observations, and keeps the list of known open differences honest.
 *
 * A known open difference is named, explained, and recognised by a
 * predicate over the comparison's messages; a suite asserts that the
 * scenarios that differ are exactly the ones its list expects, so fixing a
 * bug (or introducing one) changes the test's outcome.
 */
import { comparePacketObservations, formatObservation } from './compare.js';
import { kernelUptimeSeconds, runKernelScenario } from './kernel.js';
import { runNflabScenario, type NflabRunOptions } from './nflab.js';
import type { PacketObservation, PacketScenario } from './types.js';

/** Both sides' observations of one scenario and their differences. */
export interface PairResult {
  scenario: PacketScenario;
  kernel: PacketObservation;
  nflab: PacketObservation;
  /** comparePacketObservations(kernel, nflab): empty when they agree. */
  diffs: string[];
  /**
   * When nflab agreed only with its clock shifted by this many microseconds
   * (see TIMING_SHIFTS_US); undefined when it agreed as measured, or not at all.
   */
  shiftedUs?: number;
}

/**
 * Shifts of nflab's clock (microseconds) tried when a scenario differs.
 * The kernel's jiffies tick every 4 ms and nflab's tick in step with them
 * (runPair), but when the kernel ran a frame's hooks is only known to the
 * length of a send() call (tens of microseconds): a frame that close to a
 * tick may have been processed on either side of it, and rules that look
 * at jiffies (connlimit collects its list once per jiffy) can then decide
 * either way. A difference that goes away with the clock shifted by so
 * little is that uncertainty, not a bug; a shift never hides a difference
 * that does not depend on the clock.
 */
export const TIMING_SHIFTS_US: readonly number[] = [25, -25, 60, -60];

/**
 * Runs the kernel side, then nflab with the kernel's frame times and
 * listing time, its clock started where the kernel's monotonic clock was at
 * the first frame (so both count the same jiffies), and compares; when they
 * differ, nflab is run again with its clock shifted by TIMING_SHIFTS_US.
 */
export async function runPair(s: PacketScenario, opts: NflabRunOptions = {}): Promise<PairResult> {
  const kernel = await runKernelScenario(s);
  const startS = kernel.startMonotonicNs !== undefined ? kernel.startMonotonicNs / 1e9 : kernelUptimeSeconds();
  const run = (shiftUs: number): Promise<PacketObservation> =>
    runNflabScenario(s, kernel.sentAtMs, { uptimeS: startS + shiftUs / 1e6, listAtMs: kernel.conntrackAtMs, ...opts });
  const nflab = await run(0);
  const diffs = comparePacketObservations(kernel, nflab);
  if (diffs.length > 0 && kernel.startMonotonicNs !== undefined) {
    for (const shift of TIMING_SHIFTS_US) {
      const other = await run(shift);
      if (comparePacketObservations(kernel, other).length === 0) return { scenario: s, kernel, nflab: other, diffs: [], shiftedUs: shift };
    }
  }
  return { scenario: s, kernel, nflab, diffs };
}

/** A full account of a differing pair, for a failure message. */
export function explainPair(p: PairResult): string {
  return [
    `scenario ${p.scenario.name}: ${p.diffs.length} difference(s)`,
    ...p.diffs,
    '--- setup:',
    ...p.scenario.setup.map((l) => `  ${l}`),
    '--- rules:',
    ...p.scenario.rules.split('\n').filter(Boolean).map((l) => `  ${l}`),
    '--- kernel:',
    formatObservation(p.kernel, p.scenario),
    '--- nflab:',
    formatObservation(p.nflab, p.scenario),
  ].join('\n');
}

/** A difference between the kernel and nflab that is known and not yet fixed. */
export interface KnownDifference {
  /** Short stable name. */
  name: string;
  /** What differs, which side is right (checked on the kernel) and why. */
  diagnosis: string;
  /** Whether one scenario's list of differences is (entirely) this known difference. */
  explains: (diffs: readonly string[], s: PacketScenario) => boolean;
}

/**
 * The name of the known difference that explains a differing scenario,
 * or undefined when none does (a new failure).
 */
export function classify(known: readonly KnownDifference[], diffs: readonly string[], s: PacketScenario): string | undefined {
  if (diffs.length === 0) return undefined;
  return known.find((k) => k.explains(diffs, s))?.name;
}

/**
 * Starts `fn` on every item with at most `limit` in flight; one promise
 * per item, in order.
 */
export function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R>[] {
  const slots: { resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  const out = items.map(() => new Promise<R>((resolve, reject) => slots.push({ resolve, reject })));
  for (const p of out) p.catch(() => undefined);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        slots[i]!.resolve(await fn(items[i]!, i));
      } catch (e) {
        slots[i]!.reject(e);
      }
    }
  };
  for (let w = 0; w < Math.min(limit, items.length); w++) void worker();
  return out;
}
