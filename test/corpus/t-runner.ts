/**
 * Runs .t files against a {@link Backend} with the semantics the reference results were made with:
 *
 * - one fresh lab per .t file;
 * - per test line, per chain in order: `iptables -A <chain> [-t <table>] <rule>`;
 *   FAIL lines must be refused; otherwise `iptables-save` must (OK) or must not (NOMATCH) contain the
 *   line `-A <chain> <expected>`; the rule is then deleted again with `-D` (a `-c`/`--set-counters`
 *   pair is dropped first); a failed delete is a failure too;
 * - the first chain that goes wrong ends the line (the table is flushed when the wrong thing is a
 *   bad save result or a failed delete);
 * - `@`/`%` lines are run as written and their outcome ignored.
 *
 * The outcome of a line is the same sentence the reference results use ('cannot load: ...',
 * 'should fail but loaded', 'cannot find expected "-A ..."; got [...]', 'should not match',
 * '... | cannot delete: ...'), or `pass`, so nflab and the real iptables can be compared exactly.
 */
import type { Backend, Lab, RunResult } from './backend.js';
import { withLab } from './backend.js';
import { pyReprList, pySplitlines, pyStrip } from './pyfmt.js';
import { shellSplit } from './shell.js';
import type { TFile, TTestLine } from './tfile.js';

/** How one test line went on one backend. */
export interface TLineOutcome {
  /** The line behaved as its .t file says (in every chain). */
  pass: boolean;
  /** '' when it passed, else the reference-style sentence saying what went wrong. */
  why: string;
  /** The chain where it went wrong (undefined when it passed). */
  chain?: string;
  /** The `-A` command (argv) of the chain where it went wrong, for reproduction. */
  argv?: string[];
  /** Full stderr of the command that went wrong (the sentence quotes only its last line). */
  stderr?: string;
}

/** One test line and what happened to it. */
export interface TLineResult {
  /** .t file base name. */
  file: string;
  /** 1-based line number in the .t file. */
  lineno: number;
  /** The test line as parsed. */
  line: TTestLine;
  /** What happened. */
  outcome: TLineOutcome;
}

/** What happened to one `@`/`%` command line. */
export interface TCommandResult {
  /** 1-based line number. */
  lineno: number;
  /** The command as written. */
  command: string;
  /** Its result. */
  result: RunResult;
}

/** All results of one .t file. */
export interface TFileResult {
  /** .t file base name. */
  file: string;
  /** One entry per test line, in file order. */
  lines: TLineResult[];
  /** One entry per command line, in file order. */
  commands: TCommandResult[];
}

/** Words of `text` split on blanks like Python's `str.split()`. */
function pySplit(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** Drop the first `-c PKTS BYTES` / `--set-counters PKTS,BYTES` from the words of a rule (as the reference does). */
export function stripCounters(words: string[]): string[] {
  const dr = [...words];
  for (let i = 0; i < dr.length; i++) {
    if (dr[i] === '-c' || dr[i] === '--set-counters') {
      dr.splice(i, 1);
      const value = dr.splice(i, 1)[0] ?? '';
      if (value.includes(',')) break;
      if (dr.length > i && /^\d+$/.test(dr[i]!)) dr.splice(i, 1);
      break;
    }
  }
  return dr;
}

/** The last line of stripped stderr, '' when there is none. */
function lastErrorLine(stderr: string): string {
  const lines = pySplitlines(pyStrip(stderr));
  return lines.length > 0 ? lines[lines.length - 1]! : '';
}

/** Run one test line in `lab`. */
export async function runTestLine(lab: Lab, line: TTestLine): Promise<TLineOutcome> {
  let ok = true;
  let why = '';
  let stderr = '';
  for (const chain of line.chains) {
    const ruleText = line.table === '' ? `${chain} ${line.rule}` : `${chain} -t ${line.table} ${line.rule}`;
    const ruleSave = `${chain} ${line.saved}`;
    const argv = ['iptables', '-A', ...shellSplit(ruleText)];
    const r = await lab.run(argv);
    if (r.status !== 0) {
      if (line.expect !== 'FAIL') {
        return { pass: false, why: `cannot load: ${lastErrorLine(r.stderr)}`, chain, argv, stderr: r.stderr };
      }
      continue;
    }
    if (line.expect === 'FAIL') {
      await lab.run(['iptables', '-D', ...shellSplit(ruleText)]);
      return { pass: false, why: 'should fail but loaded', chain, argv };
    }
    const out = (await lab.run(['iptables-save'])).stdout;
    const found = out.includes(`\n-A ${ruleSave}\n`);
    if (!found && line.expect === 'OK') {
      const got = pySplitlines(out).filter((l) => l.startsWith(`-A ${chain} `));
      ok = false;
      why = `cannot find expected "-A ${ruleSave}"; got ${pyReprList(got)}`;
    } else if (found && line.expect !== 'OK') {
      ok = false;
      why = 'should not match';
    }
    const del = stripCounters(pySplit(ruleText)).join(' ');
    const d = await lab.run(['iptables', '-D', ...shellSplit(del)]);
    if (d.status !== 0) {
      ok = false;
      why += ' | cannot delete: ' + pyStrip(d.stderr);
      stderr = d.stderr;
    }
    if (!ok) {
      await lab.run(['iptables', '-t', line.table === '' ? 'filter' : line.table, '-F']);
      return stderr === '' ? { pass: false, why, chain, argv } : { pass: false, why, chain, argv, stderr };
    }
  }
  return { pass: true, why: '' };
}

/** Run a whole .t file in one fresh lab of `backend`. */
export async function runTFile(backend: Backend, tfile: TFile): Promise<TFileResult> {
  return withLab(backend, async (lab) => {
    const lines: TLineResult[] = [];
    const commands: TCommandResult[] = [];
    for (const e of tfile.entries) {
      if (e.kind === 'command') {
        const result = await lab.run(shellSplit(e.command));
        commands.push({ lineno: e.lineno, command: e.command, result });
      } else {
        lines.push({ file: tfile.name, lineno: e.lineno, line: e, outcome: await runTestLine(lab, e) });
      }
    }
    return { file: tfile.name, lines, commands };
  });
}
