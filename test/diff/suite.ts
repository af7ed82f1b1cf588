/**
 * node:test glue: registers one test per case that runs it on the kernel and
 * on nflab and fails with the full report when anything differs. Without
 * root or `ip netns` the cases are skipped, except under CI (CI=true), where
 * a failing test says why: the differential suite must never vanish silently.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FINAL_DUMP, compareResults, formatOutcome } from './compare.js';
import { EXPECTED_IPTABLES_VERSION, KernelBackend, kernelUnavailableReason, probedIptablesVersion } from './kernel.js';
import { NflabBackend } from './nflab.js';
import { DIFF_JOBS, mapConcurrent } from './pool.js';
import type { Case, StepResult } from './types.js';

let cachedReason: string | undefined | null = null;

/** Why differential tests cannot run here (undefined when they can); probed once per process. */
export function diffUnavailableReason(): string | undefined {
  if (cachedReason === null) cachedReason = kernelUnavailableReason();
  return cachedReason;
}

/** True when running under CI, where skipping is not allowed. */
export function inCI(): boolean {
  const v = process.env['CI'];
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/**
 * Registers the guard test for a suite: under CI an unavailable kernel is a
 * failure. Returns the skip reason for the cases, or undefined to run them.
 */
export function guardKernel(title: string): string | undefined {
  const reason = diffUnavailableReason();
  if (reason === undefined) {
    // A different iptables would make every case fail for the wrong reason: say so once, everywhere.
    const version = probedIptablesVersion();
    if (version === EXPECTED_IPTABLES_VERSION) return undefined;
    it(`${title}: the reference iptables is ${EXPECTED_IPTABLES_VERSION}`, () => {
      assert.fail(`the machine's iptables says ${JSON.stringify(version)}; the reference must be ${EXPECTED_IPTABLES_VERSION} (Debian 12).`);
    });
    return `wrong reference iptables: ${version}`;
  }
  if (inCI()) {
    it(`${title}: kernel backend available (required under CI)`, () => {
      assert.fail(`the kernel-differential suite cannot run: ${reason}. CI must run as root with iproute2 and iptables installed.`);
    });
  }
  return `kernel backend unavailable: ${reason}`;
}

/** Registers a describe() block with one test per case. */
export function diffSuite(title: string, cases: readonly Case[]): void {
  describe(title, () => {
    const skip = guardKernel(title);
    const kernel = new KernelBackend();
    const nflab = new NflabBackend();
    // The kernel side of every case starts with the first test and runs a few at a time.
    let kernelRuns: Promise<StepResult[]>[] | undefined;
    const seen = new Set<string>();
    cases.forEach((c, index) => {
      if (seen.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
      seen.add(c.name);
      it(c.name, skip === undefined ? {} : { skip }, async () => {
        kernelRuns ??= mapConcurrent(cases, DIFF_JOBS, (k) => kernel.run([...k.steps, FINAL_DUMP], k.env));
        const steps = [...c.steps, FINAL_DUMP];
        const expected = await kernelRuns[index]!;
        const actual = await nflab.run(steps, c.env);
        const outcome = compareResults(c.name, steps, expected, actual);
        if (outcome.mismatches.length > 0) assert.fail(formatOutcome(outcome));
      });
    });
  });
}
