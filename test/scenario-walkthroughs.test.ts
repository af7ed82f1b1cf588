/**
 * The tutorial walkthroughs built twice, with real namespaces and the
 * Debian tools and in nflab, compared outcome by outcome (see
 * test/scenario/). Known differences are listed in KNOWN with their
 * reason and asserted to still differ.
 */
import * as assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { guardKernel, inCI } from './diff/suite.js';
import { compareOutcomes, formatDifferences, gapsOf } from './scenario/compare.js';
import { cleanupAll, kernelScenarioUnavailable, runKernelScenario } from './scenario/kernel.js';
import { runNflabScenario } from './scenario/nflab.js';
import { FTP_WALKTHROUGHS, HOST_WALKTHROUGHS, REPRODUCERS, WALKTHROUGHS } from './scenario/scenarios.js';
import { KNOWN } from './scenario/known.js';

after(cleanupAll);

/** The tools the scenarios need, when missing: under CI a failing test says so, elsewhere the scenarios are skipped. */
function scenarioToolsMissing(): string | undefined {
  const reason = kernelScenarioUnavailable();
  if (reason !== undefined && inCI()) it('the real tools are installed (required under CI)', () => assert.fail(reason));
  return reason;
}

describe('tutorial walkthroughs against real namespaces', () => {
  const skip = guardKernel('scenario walkthroughs') ?? scenarioToolsMissing();
  for (const s of [...WALKTHROUGHS, ...FTP_WALKTHROUGHS, ...HOST_WALKTHROUGHS, ...REPRODUCERS]) {
    it(s.name, skip === undefined ? { timeout: 120_000 } : { skip }, async () => {
      const kernel = await runKernelScenario(s);
      s.steps.forEach((st, i) => {
        if (st.expect) assert.match(kernel.steps[i]!.stdout + kernel.steps[i]!.stderr, st.expect, `the real tools' story, step ${i + 1}`);
      });
      const started = performance.now();
      const nflab = await runNflabScenario(s, gapsOf(kernel));
      const ms = performance.now() - started;
      const races: string[] = [];
      const diffs = compareOutcomes(s, kernel, nflab, races);
      if (races.length > 0) console.log(`${s.name}: the kernel's timing race undone: ${races.join('; ')}`);
      const known = KNOWN.filter((k) => k.scenario === s.name);
      const unexplained = diffs.filter((d) => !known.some((k) => k.where.test(d.where)));
      assert.equal(formatDifferences(s.name, unexplained), '', `${unexplained.length} difference(s)`);
      for (const k of known) assert.ok(diffs.some((d) => k.where.test(d.where)), `known difference no longer seen (${k.reason}): ${k.where}`);
      console.log(`${s.name}: ${s.steps.length} steps, nflab ${ms.toFixed(0)} ms of real time`);
      assert.ok(ms < 3000, `nflab took ${ms.toFixed(0)} ms`);
    });
  }
});
