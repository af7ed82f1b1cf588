/**
 * Kernel-differential fuzz test: random sequences of valid and invalid
 * iptables command lines (test/diff/grammar.ts) must print the same on the
 * real kernel and on nflab, step by step, and leave the same
 * `iptables-save -c` dump.
 *
 * NFLAB_FUZZ_RUNS sets the number of sequences (default 300, about a minute), NFLAB_FUZZ_SEED
 * the seed (default fixed), NFLAB_FUZZ_PATH replays one shrunk failure. The
 * failure message prints all three.
 */
import * as assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { FINAL_DUMP, compareResults, formatOutcome } from './diff/compare.js';
import { DEFAULT_FUZZ_SEED, arbCase } from './diff/grammar.js';
import { KernelBackend } from './diff/kernel.js';
import { NflabBackend } from './diff/nflab.js';
import { guardKernel } from './diff/suite.js';

const runs = Number(process.env['NFLAB_FUZZ_RUNS'] ?? 300);
const seed = Number(process.env['NFLAB_FUZZ_SEED'] ?? DEFAULT_FUZZ_SEED);
const path = process.env['NFLAB_FUZZ_PATH'];

const skip = guardKernel('fuzz');

it(`random command sequences (seed ${seed}, ${runs} runs)`, skip === undefined ? {} : { skip }, async () => {
  const kernel = new KernelBackend();
  const nflab = new NflabBackend();
  let lastReport = '';
  const property = fc.asyncProperty(arbCase, async (steps) => {
    const all = [...steps, FINAL_DUMP];
    const expected = await kernel.run(all);
    const actual = await nflab.run(all);
    const outcome = compareResults('fuzz', all, expected, actual);
    if (outcome.mismatches.length > 0) {
      lastReport = formatOutcome(outcome);
      return false;
    }
    return true;
  });
  const params: fc.Parameters<[import('./diff/types.js').Step[]]> = { seed, numRuns: runs, endOnFailure: false };
  if (path !== undefined) params.path = path;
  const details = await fc.check(property, params);
  if (details.failed) {
    const replay = `NFLAB_FUZZ_SEED=${details.seed} NFLAB_FUZZ_PATH=${details.counterexamplePath ?? ''} NFLAB_FUZZ_RUNS=${runs}`;
    let report = lastReport;
    const counterexample = details.counterexample?.[0];
    if (counterexample !== undefined) {
      const all = [...counterexample, FINAL_DUMP];
      report = formatOutcome(compareResults('fuzz (shrunk)', all, await kernel.run(all), await nflab.run(all)));
    }
    const thrown = details.errorInstance;
    const error = thrown === undefined || /returning false/.test(String(thrown)) ? '' : `\nerror: ${String(thrown)}`;
    assert.fail(
      `fuzz found a difference after ${details.numRuns} runs and ${details.numShrinks} shrinks.\n` +
        `replay: ${replay} node --test dist/test/fuzz-diff.test.js${error}\n\n${report}`,
    );
  }
});
