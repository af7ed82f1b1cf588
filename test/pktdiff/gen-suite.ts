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
}

/**
 * Runs the kernel side, then nflab with the kernel's frame times and
 * listing time, its clock started where the kernel's monotonic clock was at
 * the first frame (so both count the same jiffies), and compares.
 */
export async function runPair(s: PacketScenario, opts: NflabRunOptions = {}): Promise<PairResult> {
  const kernel = await runKernelScenario(s);
  const nflab = await runNflabScenario(s, kernel.sentAtMs, { uptimeS: kernel.startMonotonicNs !== undefined ? kernel.startMonotonicNs / 1e9 : kernelUptimeSeconds(), listAtMs: kernel.conntrackAtMs, ...opts });
  return { scenario: s, kernel, nflab, diffs: comparePacketObservations(kernel, nflab) };
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
