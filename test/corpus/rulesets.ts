/**
 * The real-world rulesets: `iptables-restore < FILE` then `iptables-save`, compared with what the real
 * iptables 1.8.9 (nf_tables) did with the same file on the reference machine.
 *
 * Inputs: shared/corpus/rulesets/* (as found) and rulesets-fixed/* (mended copies). Expected results:
 * rulesets-kernel/results.tsv (accepted, or status + exact stderr with ' | ' between lines),
 * rulesets-kernel/nft/NAME.save and rulesets-fixed/saved-nft/NAME.save (the real save output).
 * `*.v6` files are IPv6 and go through ip6tables-restore / ip6tables-save.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend, RunResult } from './backend.js';
import { withLab } from './backend.js';
import { unifiedDiff } from './diff.js';
import { pySplitlines, pyStrip } from './pyfmt.js';
import { RULESETS_DIR, RULESETS_FIXED_DIR, RULESETS_KERNEL_DIR } from './paths.js';

/** The real tool accepted the file; its save output is in `savePath`. */
export interface ExpectAccepted {
  kind: 'accepted';
  /** The real `*-save` output after the restore. */
  savePath: string;
  /** Number of `-A` lines in it. */
  rules: number;
}

/** The real tool refused the file. */
export interface ExpectRefused {
  kind: 'refused';
  /** Its exit status. */
  status: number;
  /** Its stderr, lines joined with ' | ' (Python splitlines of the stripped text). */
  stderr: string;
  /** Exact stderr and what the real `*-save` showed afterwards (tables committed before the failing one stay). */
  after?: FailureState;
}

/** The exact stderr of a refused restore, and the tables / rule count the real `*-save` showed after it. */
export interface FailureState {
  /** The exact stderr (results.tsv keeps only its first three lines). */
  stderr: string;
  /** Tables (`*name` lines) in save order. */
  tables: string[];
  /** Number of `-A` lines. */
  rules: number;
}

/** One ruleset file and what must happen to it. */
export interface RulesetCase {
  /** File base name. */
  name: string;
  /** 'rulesets' or 'rulesets-fixed'. */
  group: string;
  /** Absolute path. */
  path: string;
  /** 'ipv4' or 'ipv6' (*.v6). */
  family: 'ipv4' | 'ipv6';
  /** The restore program (`iptables-restore` / `ip6tables-restore`). */
  restore: string;
  /** The save program (`iptables-save` / `ip6tables-save`). */
  save: string;
  /** What the real tool did. */
  expect: ExpectAccepted | ExpectRefused;
}

/** Pieces shared by several measured error messages. */
const V = 'iptables-restore v1.8.9 (nf_tables): ';
const TRY = "Try `iptables-restore -h' or 'iptables-restore --help' for more information.\n";
const BADMAC = 'Invalid MAC address specified.';

/**
 * What the real tool printed on stderr, and what ip(6)tables-save showed afterwards, for each refused
 * restore; measured on the reference machine
 * (Debian 12, iptables 1.8.9 nf_tables, one fresh netns per file; re-measure with
 * `node tools/corpus-report.mjs --backend kernel`). nf_tables restore commits table by table, so the
 * tables before the failing one remain.
 */
export const FAILURE_STATES: Readonly<Record<string, FailureState>> = {
  'is_parser_test.v4': { tables: [], rules: 0, stderr: `${V}unknown option "--something-else"\nError occurred at line: 12\n${TRY}` },
  'k8s_kubeproxy_TestOverallIPTablesRules.restore': {
    tables: [],
    rules: 0,
    stderr: `${V}\nline 14: RULE_APPEND failed (No such file or directory): rule in chain KUBE-FORWARD\n`,
  },
  'nn_ipv6_webserver.v6': { tables: ['mangle', 'filter'], rules: 27, stderr: 'ip6tables-restore: line 46 failed\n' },
  'nn_openwrt_AA_raw.v4': { tables: [], rules: 0, stderr: 'iptables-restore: line 1 failed\n' },
  'nn_private_root.v4': { tables: ['mangle', 'nat'], rules: 0, stderr: `${V}host/network \`<private_ip>' not found\nError occurred at line: 23\n${TRY}` },
  'nn_qubesos.v4': { tables: [], rules: 0, stderr: 'iptables-restore: line 1 failed\n' },
  'nn_tum_i8_2013-10-20.v4': { tables: ['raw', 'nat'], rules: 23, stderr: `${V}${BADMAC}\nError occurred at line: 1154\n${TRY}` },
  'nn_tum_i8_2015-05-13.v4': { tables: ['raw', 'nat'], rules: 27, stderr: `${V}${BADMAC}\nError occurred at line: 1696\n${TRY}` },
  'nn_tum_i8_2016-06-27.v4': { tables: ['raw', 'nat'], rules: 27, stderr: `${V}${BADMAC}\nError occurred at line: 1826\n${TRY}` },
  'nn_tum_i8_2016-06-27.v6': {
    tables: [],
    rules: 0,
    stderr: `ip6tables-restore v1.8.9 (nf_tables): ${BADMAC}\nError occurred at line: 2486\n${TRY.replace(/iptables/g, 'ip6tables')}`,
  },
  'nn_ugent.v4': { tables: ['filter'], rules: 58, stderr: `Bad argument \`192.168.122.0/255.255.255.0'\nError occurred at line: 71\n${TRY}` },
  'nn_veroneau_net.v4': { tables: [], rules: 0, stderr: `Bad argument \`COMMIT'\nError occurred at line: 269\n${TRY}` },
  'nn_vsrv.v4': { tables: [], rules: 0, stderr: `${V}iptables-restore: line 2 table name 'nat\r' invalid\nError occurred at line: 2\n${TRY}` },
};

/** Files in the corpus directories that are documentation, not rulesets. */
const NOT_RULESETS = new Set(['SOURCE.txt', 'README.txt', 'saved-nft']);

/** Count `-A` lines. */
function countRules(saveText: string): number {
  return saveText.split('\n').filter((l) => l.startsWith('-A ')).length;
}

/** Build the case description of one file. */
function makeCase(name: string, group: string, path: string, expect: RulesetCase['expect']): RulesetCase {
  const v6 = name.endsWith('.v6');
  return {
    name,
    group,
    path,
    family: v6 ? 'ipv6' : 'ipv4',
    restore: v6 ? 'ip6tables-restore' : 'iptables-restore',
    save: v6 ? 'ip6tables-save' : 'iptables-save',
    expect,
  };
}

/** Parse results.tsv into name -> row (column name -> value). */
function readResultsTsv(): Map<string, Record<string, string>> {
  const text = readFileSync(join(RULESETS_KERNEL_DIR, 'results.tsv'), 'utf8');
  const lines = text.split('\n').filter((l) => l !== '');
  const head = lines[0]!.split('\t');
  const rows = new Map<string, Record<string, string>>();
  for (const l of lines.slice(1)) {
    const cells = l.split('\t');
    const row: Record<string, string> = {};
    head.forEach((h, i) => (row[h] = cells[i] ?? ''));
    rows.set(row['file']!, row);
  }
  return rows;
}

/**
 * Every ruleset case, originals first then the mended copies, each sorted by name. Throws when a file
 * has no reference result or the reference is inconsistent (that is a corpus problem, not nflab's).
 */
export function loadRulesetCases(): RulesetCase[] {
  const rows = readResultsTsv();
  const cases: RulesetCase[] = [];
  const sorted = (dir: string): string[] =>
    readdirSync(dir)
      .filter((n) => !NOT_RULESETS.has(n))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of sorted(RULESETS_DIR)) {
    const row = rows.get(name);
    if (!row) throw new Error(`rulesets/${name}: no line in results.tsv`);
    const res = row['nft_result'] ?? '';
    if (res === 'OK') {
      const savePath = join(RULESETS_KERNEL_DIR, 'nft', `${name}.save`);
      const rules = Number(row['nft_rules_after_save']);
      if (countRules(readFileSync(savePath, 'utf8')) !== rules) throw new Error(`${savePath}: rule count differs from results.tsv`);
      cases.push(makeCase(name, 'rulesets', join(RULESETS_DIR, name), { kind: 'accepted', savePath, rules }));
    } else {
      const m = /^FAIL\(rc=(\d+)\)$/.exec(res);
      if (!m) throw new Error(`results.tsv: ${name}: unknown result ${res}`);
      const expect: ExpectRefused = { kind: 'refused', status: Number(m[1]), stderr: row['nft_stderr'] ?? '' };
      const after = FAILURE_STATES[name];
      if (after) {
        if (tsvStderr(after.stderr) !== expect.stderr) throw new Error(`rulesets.ts: measured stderr of ${name} disagrees with results.tsv`);
        expect.after = after;
      }
      cases.push(makeCase(name, 'rulesets', join(RULESETS_DIR, name), expect));
    }
  }
  for (const name of sorted(RULESETS_FIXED_DIR)) {
    const savePath = join(RULESETS_FIXED_DIR, 'saved-nft', `${name}.save`);
    if (!existsSync(savePath)) throw new Error(`rulesets-fixed/${name}: no saved-nft/${name}.save`);
    const rules = countRules(readFileSync(savePath, 'utf8'));
    cases.push(makeCase(name, 'rulesets-fixed', join(RULESETS_FIXED_DIR, name), { kind: 'accepted', savePath, rules }));
  }
  return cases;
}

/** Drop the dated `# Generated by` / `# Completed on` comment lines of a save output. */
export function withoutSaveComments(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('# Generated') && !l.startsWith('# Completed'))
    .join('\n');
}

/** stderr in the results.tsv form: stripped, Python-splitlines, the first three lines joined with ' | '. */
export function tsvStderr(stderr: string): string {
  return pySplitlines(pyStrip(stderr)).slice(0, 3).join(' | ');
}

/** Tables and rule count of a save output. */
export function saveState(saveText: string): Omit<FailureState, 'stderr'> {
  const lines = saveText.split('\n');
  return { tables: lines.filter((l) => l.startsWith('*')).map((l) => l.slice(1)), rules: countRules(saveText) };
}

/** What running one ruleset produced. */
export interface RulesetRun {
  /** The restore invocation. */
  restore: RunResult;
  /** The save invocation that followed. */
  save: RunResult;
}

/** Restore the file into a fresh lab, then save. */
export async function runRuleset(backend: Backend, c: RulesetCase): Promise<RulesetRun> {
  const input = readFileSync(c.path, 'utf8');
  return withLab(backend, async (lab) => {
    const restore = await lab.run([c.restore], input);
    const save = await lab.run([c.save]);
    return { restore, save };
  });
}

/** Everything that differs from the real tool, '' when nothing does. */
export function checkRuleset(c: RulesetCase, run: RulesetRun): string {
  const problems: string[] = [];
  const reproduce = `reproduce: nflab ${c.restore} < ${c.path}; nflab ${c.save}`;
  if (c.expect.kind === 'accepted') {
    if (run.restore.status !== 0 || run.restore.stderr !== '') {
      problems.push(
        `${c.restore} must succeed silently (the real one did)\n` +
          `  status: real 0, nflab ${run.restore.status}\n  stderr: nflab ${JSON.stringify(run.restore.stderr)}`,
      );
    }
    if (run.save.status !== 0) problems.push(`${c.save} exited with ${run.save.status}: ${run.save.stderr}`);
    const expected = withoutSaveComments(readFileSync(c.expect.savePath, 'utf8'));
    const actual = withoutSaveComments(run.save.stdout);
    const d = unifiedDiff(expected, actual, { a: `real ${c.save} (${c.expect.savePath})`, b: `nflab ${c.save}` });
    if (d !== '') {
      problems.push(`${c.save} output differs (rules: real ${c.expect.rules}, nflab ${countRules(run.save.stdout)}):\n${d}`);
    }
  } else {
    const gotErr = tsvStderr(run.restore.stderr);
    if (run.restore.status !== c.expect.status) {
      problems.push(`${c.restore} exit status: real ${c.expect.status}, nflab ${run.restore.status}`);
    }
    if (c.expect.after) {
      if (run.restore.stderr !== c.expect.after.stderr) {
        problems.push(
          `${c.restore} stderr:\n  real : ${JSON.stringify(c.expect.after.stderr)}\n  nflab: ${JSON.stringify(run.restore.stderr)}`,
        );
      }
    } else if (gotErr !== c.expect.stderr) {
      problems.push(`${c.restore} stderr (first lines joined with ' | '):\n  real : ${c.expect.stderr}\n  nflab: ${gotErr}`);
    }
    if (c.expect.after) {
      const got = saveState(run.save.stdout);
      const want = c.expect.after;
      if (got.tables.join(',') !== want.tables.join(',') || got.rules !== want.rules) {
        problems.push(
          `state after the refused restore (${c.save}): real tables [${want.tables.join(', ')}] with ${want.rules} rules, ` +
            `nflab tables [${got.tables.join(', ')}] with ${got.rules} rules`,
        );
      }
    }
  }
  return problems.length === 0 ? '' : `${c.group}/${c.name}: ${problems.length} problem(s); ${reproduce}\n${problems.join('\n')}`;
}

/**
 * Whether `backend` has the program `save` (e.g. ip6tables-save): it must exit 0 on an empty lab.
 * Returns undefined when supported, else the first stderr line as the reason.
 */
export async function unsupportedReason(backend: Backend, save: string): Promise<string | undefined> {
  return withLab(backend, async (lab) => {
    try {
      const r = await lab.run([save]);
      if (r.status === 0) return undefined;
      return `${save} exits ${r.status}: ${r.stderr.split('\n')[0] ?? ''}`;
    } catch (e) {
      return `${save} throws: ${e instanceof Error ? e.message : String(e)}`;
    }
  });
}
