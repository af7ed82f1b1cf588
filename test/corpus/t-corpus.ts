/**
 * The .t corpus as a whole: run every IPv4 .t file, compare each line's outcome with what the real
 * iptables did (the reference), compute the agreement figures, and keep the list of disagreements.
 *
 * A line AGREES when nflab's outcome equals the real one's: both passed, or both went wrong in the same
 * chain with the same sentence (same error message, same save output). For lines the real iptables
 * passes this means "nflab behaves as the .t file says"; for the few it does not (extensions this
 * kernel lacks, ...), nflab must do what the real one actually did.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { Backend } from './backend.js';
import type { TFileReference } from './t-reference.js';
import type { TLineOutcome, TFileResult } from './t-runner.js';
import { runTFile } from './t-runner.js';
import { shellSplit } from './shell.js';
import { pySplitlines } from './pyfmt.js';
import type { TFile, TTestLine } from './tfile.js';

/** One test line: nflab's outcome next to the real one. */
export interface TComparison {
  /** .t file base name. */
  file: string;
  /** 1-based line number. */
  lineno: number;
  /** The parsed test line. */
  line: TTestLine;
  /** What nflab did. */
  got: TLineOutcome;
  /** Whether the real iptables passed the line. */
  realPass: boolean;
  /** The reference's sentence for what the real one did ('' when it passed). */
  realWhy: string;
  /** nflab did what the real one did. */
  agree: boolean;
}

/** Figures for one .t file. */
export interface TFileFigures {
  /** .t file base name. */
  file: string;
  /** Test lines. */
  lines: number;
  /** Lines the real iptables passed. */
  realPassed: number;
  /** Lines where nflab agrees with the real one. */
  agree: number;
  /** Lines the real one passed and nflab passed too. */
  agreeOnRealPassed: number;
}

/** The whole corpus compared. */
export interface TCorpusReport {
  /** Per line, in file then line order. */
  comparisons: TComparison[];
  /** Per file. */
  files: TFileFigures[];
  /** Test lines in all files. */
  totalLines: number;
  /** Lines the real iptables passed. */
  realPassed: number;
  /** Lines where nflab agrees with the real one (all lines). */
  agree: number;
  /** Lines the real one passed that nflab passes as well. */
  agreeOnRealPassed: number;
  /** `file:line` ids of every disagreeing line. */
  disagreements: string[];
  /** Per-file results, including `@`/`%` command outcomes. */
  raw: TFileResult[];
}

/** `file:line`, the id used in the known-disagreements list. */
export function lineId(file: string, lineno: number): string {
  return `${file}:${lineno}`;
}

/** Compare one file's results with its reference; throws if the two do not describe the same lines. */
export function compareFile(result: TFileResult, ref: TFileReference | undefined): TComparison[] {
  if (!ref) throw new Error(`${result.file}: no reference results`);
  if (ref.tests !== result.lines.length) {
    throw new Error(`${result.file}: reference counts ${ref.tests} test lines, the runner found ${result.lines.length}`);
  }
  for (const l of ref.failures.keys()) {
    if (!result.lines.some((r) => r.lineno === l)) throw new Error(`${result.file}: reference line ${l} is not a test line`);
  }
  return result.lines.map((r) => {
    const realWhy = ref.failures.get(r.lineno) ?? '';
    const realPass = !ref.failures.has(r.lineno);
    const agree = realPass ? r.outcome.pass : !r.outcome.pass && r.outcome.why === realWhy;
    return { file: r.file, lineno: r.lineno, line: r.line, got: r.outcome, realPass, realWhy, agree };
  });
}

/** Run every file on `backend` and compare with the reference. `onFile` sees each file as it completes. */
export async function runTCorpus(
  backend: Backend,
  tfiles: TFile[],
  reference: Map<string, TFileReference>,
  onFile?: (result: TFileResult, comparisons: TComparison[]) => void,
): Promise<TCorpusReport> {
  const raw: TFileResult[] = [];
  const comparisons: TComparison[] = [];
  for (const tf of tfiles) {
    const res = await runTFile(backend, tf);
    const cmp = compareFile(res, reference.get(tf.name));
    raw.push(res);
    comparisons.push(...cmp);
    onFile?.(res, cmp);
  }
  for (const name of reference.keys()) {
    if (!tfiles.some((t) => t.name === name)) throw new Error(`reference lists ${name}, which was not run`);
  }
  return summarise(comparisons, raw);
}

/** Compute the figures of a list of comparisons. */
export function summarise(comparisons: TComparison[], raw: TFileResult[] = []): TCorpusReport {
  const byFile = new Map<string, TFileFigures>();
  for (const c of comparisons) {
    let f = byFile.get(c.file);
    if (!f) {
      f = { file: c.file, lines: 0, realPassed: 0, agree: 0, agreeOnRealPassed: 0 };
      byFile.set(c.file, f);
    }
    f.lines++;
    if (c.realPass) f.realPassed++;
    if (c.agree) f.agree++;
    if (c.realPass && c.agree) f.agreeOnRealPassed++;
  }
  const files = [...byFile.values()];
  const sum = (k: keyof Omit<TFileFigures, 'file'>): number => files.reduce((a, f) => a + f[k], 0);
  return {
    comparisons,
    files,
    totalLines: sum('lines'),
    realPassed: sum('realPassed'),
    agree: sum('agree'),
    agreeOnRealPassed: sum('agreeOnRealPassed'),
    disagreements: comparisons.filter((c) => !c.agree).map((c) => lineId(c.file, c.lineno)),
    raw,
  };
}

/** `n/d` as a percentage with two decimals. */
export function percent(n: number, d: number): string {
  return d === 0 ? 'n/a' : `${((100 * n) / d).toFixed(2)}%`;
}

/** A short, rule-free label for an outcome sentence (used in notes and tables). */
export function outcomeKind(pass: boolean, why: string): string {
  if (pass) return 'passes';
  if (why.startsWith('cannot load: ')) return 'refuses the rule';
  if (why.startsWith('should fail but loaded')) return 'accepts a rule that should be refused';
  if (why.startsWith('cannot find expected')) return 'saves it in another form';
  if (why.startsWith('should not match')) return 'saves a rule that should not show';
  if (why.startsWith(' | cannot delete')) return 'cannot delete it';
  return 'other';
}

/** Read the checked-in known-disagreement ids (`file:line`, one per line; `#` starts a comment). */
export function readKnownDisagreements(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const ids: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    ids.push(line.split(/\s+/)[0]!);
  }
  return ids;
}

/** Write the known-disagreement list for `report` (ids plus a rule-free note in our own words). */
export function writeKnownDisagreements(path: string, report: TCorpusReport): void {
  const out: string[] = [
    '# Lines of the upstream .t corpus (shared/corpus/iptables-t) where nflab does not do what the real',
    '# iptables 1.8.9 (nf_tables) did on the reference machine. test/corpus-t.test.ts fails when this',
    '# set changes either way: a new id is a regression, a vanished id an improvement (update the list).',
    '# Regenerate after checking: node tools/corpus-report.mjs --write-known',
    '# Format: <file>:<line>  # real: <what the real one does> / nflab: <what nflab does>',
  ];
  for (const c of report.comparisons) {
    if (c.agree) continue;
    const note = `real: ${outcomeKind(c.realPass, c.realWhy)} / nflab: ${outcomeKind(c.got.pass, c.got.why)}`;
    out.push(`${lineId(c.file, c.lineno).padEnd(28)} # ${note}`);
  }
  writeFileSync(path, out.join('\n') + '\n');
}

/** Set difference helpers for the known list check. */
export function diffIds(actual: string[], known: string[]): { added: string[]; removed: string[] } {
  const a = new Set(actual);
  const k = new Set(known);
  return { added: actual.filter((x) => !k.has(x)), removed: known.filter((x) => !a.has(x)) };
}

/** Shell-quote one argv word for a copy-pasteable reproduction command. */
export function shQuote(w: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/**
 * Describe one disagreement on several lines. With `ruleText`, the reproduction command (which
 * contains the corpus line) is included; without, only the outcomes are.
 */
export function describeDisagreement(c: TComparison, ruleText: boolean): string {
  const out = [`${lineId(c.file, c.lineno)}${c.got.chain ? ` [chain ${c.got.chain}]` : ''}`];
  if (ruleText) {
    const chain = c.line.chains[0] ?? 'INPUT';
    const fallback = shellSplit(c.line.table === '' ? `${chain} ${c.line.rule}` : `${chain} -t ${c.line.table} ${c.line.rule}`);
    const argv = c.got.argv ?? ['iptables', '-A', ...fallback];
    out.push(`  line : ${c.line.text}`);
    out.push(`  repro: nflab ${argv.map(shQuote).join(' ')}`);
  }
  out.push(`  real : ${c.realPass ? 'pass' : c.realWhy}`);
  out.push(`  nflab: ${c.got.pass ? 'pass' : c.got.why}`);
  if (c.got.stderr !== undefined && pySplitlines(c.got.stderr).length > 1) {
    out.push(...pySplitlines(c.got.stderr).map((l) => `         | ${l}`));
  }
  return out.join('\n');
}
