/**
 * Reader for the upstream iptables extension test files (*.t).
 *
 * Per line: `#` comment or blank = ignored; `:A,B` = the chains following test lines run in;
 * `*table` = the table (none given = filter, and no `-t` is passed); `@cmd` / `%cmd` = a command run
 * as written; anything else = a test line `rule;expected;RESULT[;VARIANT[;ALTRESULT]]`.
 * Line numbers are 1-based over all physical lines, as in the reference results.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** What a test line says must happen on the nf_tables backend. */
export type TExpect = 'OK' | 'FAIL' | 'NOMATCH';

/** One test line of a .t file. */
export interface TTestLine {
  kind: 'test';
  /** 1-based physical line number. */
  lineno: number;
  /** The physical line, trailing blanks removed (for display only). */
  text: string;
  /** The rule text as written (shell syntax: quotes not yet removed). */
  rule: string;
  /** What iptables-save must show after `-A <chain> ` (quotes as written); '' for FAIL lines. */
  saved: string;
  /** Expected result for the nf_tables backend, after applying any NFT/LEGACY variant. */
  expect: TExpect;
  /** The chains (in order) the line runs in. */
  chains: string[];
  /** The table named by the last `*table` line, '' when none (then no `-t` is given). */
  table: string;
}

/** A `@` / `%` line: a command to run as written. */
export interface TCommandLine {
  kind: 'command';
  /** 1-based physical line number. */
  lineno: number;
  /** The command without its `@`/`%` sigil. */
  command: string;
}

/** One meaningful line of a .t file. */
export type TEntry = TTestLine | TCommandLine;

/** A parsed .t file. */
export interface TFile {
  /** Base name, e.g. `libxt_tcp.t`. */
  name: string;
  /** Test and command lines in file order. */
  entries: TEntry[];
}

/** The result a line holds on the other backend when only its variant's result is given. */
const INVERSE: Record<string, TExpect> = { OK: 'FAIL', FAIL: 'OK', NOMATCH: 'OK' };

/** Resolve RESULT;VARIANT;ALTRESULT for the nf_tables backend. */
function nftExpect(result: string, variant: string | undefined, alt: string | undefined): TExpect {
  let r = result;
  if (variant !== undefined && variant !== 'NFT') {
    if (variant !== 'LEGACY') throw new Error(`unknown variant ${variant}`);
    r = alt !== undefined ? alt : (INVERSE[result] ?? '');
  }
  if (r !== 'OK' && r !== 'FAIL' && r !== 'NOMATCH') throw new Error(`unknown result ${r}`);
  return r;
}

/** Parse the text of one .t file. */
export function parseTFile(name: string, text: string): TFile {
  const entries: TEntry[] = [];
  let chains: string[] = [];
  let table = '';
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, idx) => {
    const lineno = idx + 1;
    if (line.startsWith('#') || line.trim() === '') return;
    const bare = line.trimEnd();
    if (line.startsWith(':')) {
      chains = bare.slice(1).split(',');
    } else if (line.startsWith('@') || line.startsWith('%')) {
      entries.push({ kind: 'command', lineno, command: bare.slice(1) });
    } else if (line.startsWith('*')) {
      table = bare.slice(1);
    } else {
      const f = line.split(';');
      if (f.length < 3) throw new Error(`${name}:${lineno}: malformed test line`);
      const rule = f[0]!;
      const expect = nftExpect(f[2]!.trimEnd(), f[3]?.trimEnd(), f[4]?.trimEnd());
      entries.push({
        kind: 'test',
        lineno,
        text: bare,
        rule,
        saved: f[1] === '=' ? rule : f[1]!,
        expect,
        chains: [...chains],
        table,
      });
    }
  });
  return { name, entries };
}

/** True for the IPv4 .t files run with iptables: iptables.t, libipt_*.t, libxt_*.t. */
export function isIpv4TFile(name: string): boolean {
  return name.endsWith('.t') && (name === 'iptables.t' || name.startsWith('libipt_') || name.startsWith('libxt_'));
}

/** Read and parse every IPv4 .t file of `dir`, sorted by name (byte order). */
export function loadIpv4TFiles(dir: string): TFile[] {
  return readdirSync(dir)
    .filter(isIpv4TFile)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => parseTFile(n, readFileSync(join(dir, n), 'utf8')));
}
