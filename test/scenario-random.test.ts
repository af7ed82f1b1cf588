/**
 * Random scenarios (test/scenario/random.ts) built with real namespaces
 * and in nflab, compared like the walkthroughs. NFLAB_SCENARIO_RUNS
 * scenarios (default 6), scenario i drawn from seed NFLAB_SCENARIO_SEED + i
 * (default fixed); a failing one prints its seed, and
 * NFLAB_SCENARIO_SEED=<seed> NFLAB_SCENARIO_RUNS=1 replays it.
 */
import * as assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { guardKernel, inCI } from './diff/suite.js';
import { compareOutcomes, formatDifferences, gapsOf } from './scenario/compare.js';
import { cleanupAll, kernelScenarioUnavailable, runKernelScenario } from './scenario/kernel.js';
import { runNflabScenario } from './scenario/nflab.js';
import { randomScenario } from './scenario/random.js';
import { scenarioScript } from './scenario/print.js';
import { knownInRandom } from './scenario/known.js';

const envInt = (name: string, dflt: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number.parseInt(v, 10);
};

const RUNS = envInt('NFLAB_SCENARIO_RUNS', 6);
const SEED = envInt('NFLAB_SCENARIO_SEED', 20261121);

after(cleanupAll);

/** The tools the scenarios need, when missing: under CI a failing test says so, elsewhere the scenarios are skipped. */
function scenarioToolsMissing(): string | undefined {
  const reason = kernelScenarioUnavailable();
  if (reason !== undefined && inCI()) it('the real tools are installed (required under CI)', () => assert.fail(reason));
  return reason;
}

describe(`random scenarios against real namespaces (seed ${SEED}, ${RUNS} runs)`, () => {
  const skip = guardKernel('random scenarios') ?? scenarioToolsMissing();
  for (let i = 0; i < RUNS; i++) {
    const seed = SEED + i;
    it(`seed ${seed}`, skip === undefined ? { timeout: 120_000 } : { skip }, async () => {
      const s = randomScenario(seed);
      const kernel = await runKernelScenario(s);
      s.steps.forEach((st, i) => {
        if (st.expect) assert.match(kernel.steps[i]!.stdout + kernel.steps[i]!.stderr, st.expect, `the real tools' story, step ${i + 1}`);
      });
      const nflab = await runNflabScenario(s, gapsOf(kernel));
      const races: string[] = [];
      const all = compareOutcomes(s, kernel, nflab, races);
      const diffs = all.filter((d) => knownInRandom(d) === undefined);
      for (const d of all) if (knownInRandom(d) !== undefined) console.log(`seed ${seed}: known difference: ${knownInRandom(d)}`);
      if (races.length > 0) console.log(`seed ${seed}: the kernel's timing race undone: ${races.join('; ')}`);
      const replay = `replay: NFLAB_SCENARIO_SEED=${seed} NFLAB_SCENARIO_RUNS=1 node --test dist/test/scenario-random.test.js\n${scenarioScript(s, true)}`;
      assert.equal(formatDifferences(s.name, diffs), '', `${diffs.length} difference(s); ${replay}`);
    });
  }
});
