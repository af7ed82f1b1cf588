/**
 * The iptables, iptables-save and iptables-restore programs over a lab's
 * ruleset: argument handling, output, exit status, and whether the new
 * state is to be kept.
 */
import '../../core/xt/all.js';
import { appendFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Ruleset } from '../../core/netfilter/ruleset.js';
import type { TableName } from '../../core/netfilter/tables.js';
import type { NameDb } from '../../core/xt/namedb.js';
import type { Family } from '../../core/xt/types.js';
import { renderError } from './errors.js';
import { executeCommand, Txn } from './execute.js';
import { Getopt } from './getopt.js';
import { ip6tablesHelp, iptablesHelp } from './help.js';
import { parseCommand } from './parse.js';
import { iptablesRestore, parseRestoreArgs } from './restore.js';
import { iptablesSave } from './save.js';

/** What a program run produced; `ruleset` is set when the state changed and must be saved. */
export interface ToolResult {
  stdout: string;
  stderr: string;
  status: number;
  ruleset?: Ruleset;
  /**
   * A failed command whose batch reached the kernel: the handle counters
   * its tables keep (the rules and chains themselves are not kept).
   */
  handles?: Map<TableName, number>;
}

const VERSION = '1.8.9 (nf_tables)';

/** `iptables ARGS`, or `ip6tables ARGS` with `family` 'ipv6' (over the IPv6 rule set). */
export function runIptables(argv: string[], current: Ruleset, names: NameDb, program = 'iptables', family: Family = 'ipv4'): ToolResult {
  let warnings = '';
  // The state is re-read from disk for every invocation and saved only on
  // success, so the command may work on it in place.
  const txn = new Txn(current, names, 0, family);
  try {
    const help = family === 'ipv6' ? ip6tablesHelp : iptablesHelp;
    const parsed = parseCommand(argv, { names, restore: false, table: 'filter', program, version: VERSION, help, family }, (s) => {
      warnings += s;
    });
    if (parsed.output !== undefined) return { stdout: parsed.output, stderr: warnings, status: 0 };
    executeCommand(parsed, txn);
    txn.commit();
    return { stdout: txn.stdout, stderr: warnings, status: 0, ruleset: txn.changed ? current : undefined };
  } catch (e) {
    // what was printed before the failure stays printed
    const r = renderError(e, { name: program, version: VERSION });
    // the kernel keeps the handles a refused batch used up
    const handles = txn.abortedHandles();
    return { stdout: txn.stdout, stderr: warnings + r.stderr, status: r.status, handles: handles.size ? handles : undefined };
  }
}

/**
 * Opens a file for writing as fopen(path, "w") does (created or truncated at
 * once): a writer for the text to go there, or the strerror text of the
 * failure (e.g. "No such file or directory").
 */
export type OpenForWrite = (file: string) => { write(text: string): void } | { error: string };

/** strerror texts for the errors opening a file can give. */
const OPEN_ERRORS: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EROFS: 'Read-only file system',
  ENAMETOOLONG: 'File name too long',
};

/** An OpenForWrite on the real filesystem, relative paths taken from `cwd`. */
export function openForWriteIn(cwd: string): OpenForWrite {
  return (file) => {
    const path = resolve(cwd, file);
    try {
      writeFileSync(path, '');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      return { error: OPEN_ERRORS[code] ?? (e as Error).message };
    }
    return { write: (text) => appendFileSync(path, text) };
  };
}

const SAVE_LONGOPTS = [
  { name: 'counters', hasArg: 'no', val: 'c' },
  { name: 'version', hasArg: 'no', val: 'V' },
  { name: 'dump', hasArg: 'no', val: 'd' },
  { name: 'table', hasArg: 'required', val: 't' },
  { name: 'modprobe', hasArg: 'required', val: 'M' },
  { name: 'file', hasArg: 'required', val: 'f' },
] as const;

/**
 * `iptables-save ARGS` (xtables_save_main): getopt's own messages, -f FILE
 * sending the dump (and anything else printed on stdout) to FILE, -d
 * exiting 0 whatever happened. `openFile` opens -f's file (default: the
 * real filesystem, relative to the process's directory).
 */
export function runIptablesSave(
  argv: string[],
  current: Ruleset,
  names: NameDb,
  now: Date,
  program = 'iptables-save',
  openFile?: OpenForWrite,
): ToolResult {
  const g = new Getopt([program, ...argv], 'bcdt:M:f:V', SAVE_LONGOPTS.map((o) => ({ ...o })));
  let counters = false;
  let dump = false;
  let table: string | undefined;
  let stderr = '';
  let out: { write(text: string): void } | undefined;
  // stdout goes to the -f file once one is open
  const finish = (stdout: string, status: number): ToolResult => {
    if (out) {
      out.write(stdout);
      return { stdout: '', stderr, status };
    }
    return { stdout, stderr, status };
  };
  for (;;) {
    const { c, optarg } = g.next();
    stderr += g.errors;
    g.errors = '';
    if (c === null) break;
    switch (c) {
      case 'b':
        stderr += '-b/--binary option is not implemented\n';
        break;
      case 'c':
        counters = true;
        break;
      case 't':
        table = optarg;
        break;
      case 'M':
        break;
      case 'f': {
        const f = (openFile ?? openForWriteIn(process.cwd()))(optarg!);
        if ('error' in f) {
          stderr += `Failed to open file, error: ${f.error}\n`;
          return finish('', 1);
        }
        out = f;
        break;
      }
      case 'd':
        dump = true;
        break;
      case 'V':
        return finish(`${program} v${VERSION}\n`, 0);
      default:
        stderr += `Look at manual page \`${program}.8' for more information.\n`;
        return finish('', 1);
    }
  }
  if (g.optind < g.argv.length) {
    stderr += 'Unknown arguments found on commandline\n';
    return finish('', 1);
  }
  const r = iptablesSave(current, { counters, table }, names, now, program);
  stderr += r.stderr;
  return finish(r.stdout, dump ? 0 : r.status);
}

/** `iptables-restore ARGS` (ip6tables-restore with `family` 'ipv6') with the given input (a file's contents or stdin). */
export function runIptablesRestore(
  argv: string[],
  current: Ruleset,
  names: NameDb,
  readInput: (file: string | undefined) => string | { error: string },
  program = 'iptables-restore',
  family: Family = 'ipv4',
): ToolResult {
  const opts = parseRestoreArgs(argv, program);
  if ('status' in opts) return opts;
  const input = readInput(opts.file);
  if (typeof input !== 'string') return { stdout: '', stderr: input.error, status: 1 };
  const r = iptablesRestore(current, input, opts, names, program, family);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, ruleset: r.changed ? r.ruleset : undefined };
}
