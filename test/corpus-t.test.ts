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
import { kernelBackend, kernelUnavailableReason, nflabBackend } from './corpus/backend.js';
import { corpusAvailable, T_DIR, T_KERNEL_RESULTS, T_KNOWN_DISAGREEMENTS } from './corpus/paths.js';
import type { TComparison } from './corpus/t-corpus.js';
import {
  compareFile,
  describeDisagreement,
  diffIds,
  lineId,
  percent,
  readKnownDisagreements,
  runTCorpus,
  summarise,
} from './corpus/t-corpus.js';
import { pyReprList, pySplitlines } from './corpus/pyfmt.js';
import { shellSplit } from './corpus/shell.js';
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

/** .t files whose lines, between them, show every kind of reference outcome (and quoting, -t, variants). */
const KERNEL_SAMPLE = ['iptables.t', 'libipt_LOG.t', 'libxt_LED.t', 'libxt_NFLOG.t', 'libxt_TCPMSS.t', 'libxt_recent.t', 'libxt_rateest.t'];

describe('.t corpus runner self-checks', { skip: corpusAvailable() ? false : 'shared corpus not found' }, () => {
  it('splits words like sh', () => {
    assert.deepEqual(shellSplit(`-j LOG --log-prefix "test: " --x 'a b' c\\ d`), ['-j', 'LOG', '--log-prefix', 'test: ', '--x', 'a b', 'c d']);
    assert.deepEqual(shellSplit(`  "" a"b"c  `), ['', 'abc']);
  });

  it('formats like Python', () => {
    assert.equal(pyReprList(['-A INPUT -j X', `it's`, 'a"b\'c', 'back\\slash']), `['-A INPUT -j X', "it's", 'a"b\\'c', 'back\\\\slash']`);
    assert.deepEqual(pySplitlines('a\r\nb\rc\n'), ['a', 'b', 'c']);
  });

  it('reads the reference: 87 files, 702 lines, 677 passed', () => {
    const ref = loadTReference(T_KERNEL_RESULTS);
    const files = [...ref.values()];
    assert.equal(files.length, 87);
    assert.equal(files.reduce((a, f) => a + f.tests, 0), 702);
    assert.equal(files.reduce((a, f) => a + f.passed, 0), 677);
    for (const f of files) assert.equal(f.failures.size, f.tests - f.passed, f.file);
    assert.deepEqual(loadIpv4TFiles(T_DIR).map((t) => t.name).sort(), [...ref.keys()].sort());
  });

  const noKernel = kernelUnavailableReason();
  it(`reproduces the reference exactly on the real iptables (${KERNEL_SAMPLE.length} files)`, { skip: noKernel ?? false }, async () => {
    const tfiles = loadIpv4TFiles(T_DIR).filter((t) => KERNEL_SAMPLE.includes(t.name));
    const ref = loadTReference(T_KERNEL_RESULTS);
    for (const k of [...ref.keys()]) if (!KERNEL_SAMPLE.includes(k)) ref.delete(k);
    const rep = await runTCorpus(kernelBackend('nflabtest'), tfiles, ref);
    const bad = rep.comparisons.filter((c) => !c.agree);
    assert.equal(bad.length, 0, bad.map((c) => describeDisagreement(c, true)).join('\n'));
    assert.ok(rep.totalLines > rep.realPassed, 'the sample must contain lines the real one does not pass');
  });
});
