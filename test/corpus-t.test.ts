/**
 * The upstream iptables 1.8.9 .t corpus (IPv4 files), run through nflab in-process and compared line
 * by line with what the REAL iptables 1.8.9 (nf_tables) did on the reference machine.
 *
 * Asserts: (1) nflab agrees on at least 97% of the lines the real iptables passes; (2) the set of
 * disagreeing lines is exactly test/corpus/t-known-disagreements.txt — a new id is a regression, a
 * vanished id an improvement (then update the list: `node tools/corpus-report.mjs --write-known`).
 * The corpus is read from ../shared at run time (it is never copied into the project).
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { nflabBackend } from './corpus/backend.js';
import { corpusAvailable, T_DIR, T_KERNEL_RESULTS, T_KNOWN_DISAGREEMENTS } from './corpus/paths.js';
import type { TComparison } from './corpus/t-corpus.js';
import { compareFile, describeDisagreement, diffIds, lineId, percent, readKnownDisagreements, summarise } from './corpus/t-corpus.js';
import { loadTReference } from './corpus/t-reference.js';
import { runTFile } from './corpus/t-runner.js';
import { loadIpv4TFiles } from './corpus/tfile.js';

/** Minimum share of the lines the real iptables passes on which nflab must agree. */
const MIN_AGREEMENT = 0.97;

/** Explain how a set of disagreements differs from the known list. */
function explain(cmp: TComparison[], added: string[], removed: string[]): string {
  const byId = new Map(cmp.map((c) => [lineId(c.file, c.lineno), c]));
  const parts: string[] = [];
  if (added.length > 0) {
    parts.push(`${added.length} NEW disagreement(s) with the real iptables (regressions; not in ${T_KNOWN_DISAGREEMENTS}):`);
    for (const id of added) parts.push(byId.has(id) ? describeDisagreement(byId.get(id)!, true) : id);
  }
  if (removed.length > 0) {
    parts.push(`${removed.length} line(s) now AGREE with the real iptables (improvements: remove them from the list):`);
    parts.push(...removed.map((id) => `  ${id}`));
  }
  return parts.join('\n');
}

describe('upstream .t corpus: nflab vs real iptables 1.8.9 (nf_tables)', { skip: corpusAvailable() ? false : 'shared corpus not found (../shared or $NFLAB_SHARED)' }, () => {
  if (!corpusAvailable()) return;
  const tfiles = loadIpv4TFiles(T_DIR);
  const reference = loadTReference(T_KERNEL_RESULTS);
  const known = readKnownDisagreements(T_KNOWN_DISAGREEMENTS);
  const backend = nflabBackend();
  const all: TComparison[] = [];
  let filesRun = 0;

  for (const tf of tfiles) {
    it(tf.name, async () => {
      const result = await runTFile(backend, tf);
      const cmp = compareFile(result, reference.get(tf.name));
      all.push(...cmp);
      filesRun++;
      const actual = cmp.filter((c) => !c.agree).map((c) => lineId(c.file, c.lineno));
      const { added, removed } = diffIds(actual, known.filter((id) => id.startsWith(`${tf.name}:`)));
      if (added.length > 0 || removed.length > 0) assert.fail(explain(cmp, added, removed));
    });
  }

  it('agreement figure and the known-disagreement list', (t) => {
    assert.equal(filesRun, tfiles.length, 'every .t file must have run');
    const rep = summarise(all);
    const figure =
      `nflab agrees with the real iptables on ${rep.agreeOnRealPassed}/${rep.realPassed} lines the real one passes ` +
      `(${percent(rep.agreeOnRealPassed, rep.realPassed)}), ${rep.agree}/${rep.totalLines} lines overall ` +
      `(${percent(rep.agree, rep.totalLines)}); ${rep.disagreements.length} disagreement(s)`;
    t.diagnostic(figure);
    console.log(`[corpus-t] ${figure}`);
    const expectedLines = [...reference.values()].reduce((a, r) => a + r.tests, 0);
    assert.equal(rep.totalLines, expectedLines, 'line count must match the reference results');
    const { added, removed } = diffIds(rep.disagreements, known);
    if (added.length > 0 || removed.length > 0) assert.fail(explain(all, added, removed));
    assert.ok(
      rep.agreeOnRealPassed >= MIN_AGREEMENT * rep.realPassed,
      `agreement ${percent(rep.agreeOnRealPassed, rep.realPassed)} is below ${MIN_AGREEMENT * 100}%`,
    );
  });
});
