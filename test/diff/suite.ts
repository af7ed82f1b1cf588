/**
 * node:test glue: registers one test per case that runs it on the kernel and
 * on nflab and fails with the full report when anything differs. Without
 * root or `ip netns` the cases are skipped, except under CI (CI=true), where
 * a failing test says why: the differential suite must never vanish silently.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatOutcome, runCase } from './compare.js';
import { KernelBackend, kernelUnavailableReason } from './kernel.js';
import { NflabBackend } from './nflab.js';
import type { Case } from './types.js';

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
  if (reason === undefined) return undefined;
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
    const seen = new Set<string>();
    for (const c of cases) {
      if (seen.has(c.name)) throw new Error(`duplicate case name ${c.name}`);
      seen.add(c.name);
      it(c.name, skip === undefined ? {} : { skip }, async () => {
        const outcome = await runCase(c, kernel, nflab);
        if (outcome.mismatches.length > 0) assert.fail(formatOutcome(outcome));
      });
    }
  });
}
