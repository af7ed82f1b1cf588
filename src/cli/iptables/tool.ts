/**
 * The iptables, iptables-save and iptables-restore programs over a lab's
 * ruleset: argument handling, output, exit status, and whether the new
 * state is to be kept.
 */
import '../../core/xt/all.js';
import type { Ruleset } from '../../core/netfilter/ruleset.js';
import type { NameDb } from '../../core/xt/namedb.js';
import { renderError } from './errors.js';
import { executeCommand, validateTable } from './execute.js';
import { tableInfo } from '../../core/netfilter/tables.js';
import { Getopt } from './getopt.js';
import { iptablesHelp } from './help.js';
import { parseCommand } from './parse.js';
import { iptablesRestore, parseRestoreArgs } from './restore.js';
import { iptablesSave } from './save.js';

/** What a program run produced; `ruleset` is set when the state changed and must be saved. */
export interface ToolResult {
  stdout: string;
  stderr: string;
  status: number;
  ruleset?: Ruleset;
}

const VERSION = '1.8.9 (nf_tables)';

/** `iptables ARGS`. */
export function runIptables(argv: string[], current: Ruleset, names: NameDb, program = 'iptables'): ToolResult {
  let warnings = '';
  // The state is re-read from disk for every invocation and saved only on
  // success, so the command may work on it in place.
  const rs = current;
  try {
    const parsed = parseCommand(argv, { names, restore: false, table: 'filter', program, version: VERSION, help: iptablesHelp }, (s) => {
      warnings += s;
    });
    if (parsed.output !== undefined) return { stdout: parsed.output, stderr: warnings, status: 0 };
    const out = executeCommand(parsed, rs, { names });
    if (out.jumpAdded) validateTable(rs, tableInfo(parsed.table)!.name, out.jumpAdded);
    return { stdout: out.stdout, stderr: warnings, status: 0, ruleset: out.changed ? rs : undefined };
  } catch (e) {
    const r = renderError(e, { name: program, version: VERSION });
    return { stdout: '', stderr: warnings + r.stderr, status: r.status };
  }
}

/** `iptables-save ARGS`. */
export function runIptablesSave(argv: string[], current: Ruleset, names: NameDb, now: Date, program = 'iptables-save'): ToolResult {
  const g = new Getopt([program, ...argv], 'bcdt:M:f:V', [
    { name: 'binary', hasArg: 'no', val: 'b' },
    { name: 'counters', hasArg: 'no', val: 'c' },
    { name: 'dump', hasArg: 'no', val: 'd' },
    { name: 'table', hasArg: 'required', val: 't' },
    { name: 'modprobe', hasArg: 'required', val: 'M' },
    { name: 'file', hasArg: 'required', val: 'f' },
    { name: 'version', hasArg: 'no', val: 'V' },
  ]);
  let counters = false;
  let table: string | undefined;
  let stderr = '';
  const operands: string[] = [];
  for (;;) {
    const { c, optarg } = g.next();
    if (c === null) break;
    switch (c) {
      case '\x01':
        operands.push(optarg!);
        break;
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
      case 'd':
      case 'f':
        break;
      case 'V':
        return { stdout: `${program} v${VERSION}\n`, stderr, status: 0 };
      default:
        return { stdout: '', stderr: stderr + `Look at manual page \`${program}.8' for more information.\n`, status: 1 };
    }
  }
  if (operands.length || g.optind < argv.length + 1)
    return { stdout: '', stderr: stderr + 'Unknown arguments found on commandline\n', status: 1 };
  const r = iptablesSave(current, { counters, table }, names, now);
  return { stdout: r.stdout, stderr: stderr + r.stderr, status: r.status };
}

/** `iptables-restore ARGS` with the given input (a file's contents or stdin). */
export function runIptablesRestore(
  argv: string[],
  current: Ruleset,
  names: NameDb,
  readInput: (file: string | undefined) => string | { error: string },
  program = 'iptables-restore',
): ToolResult {
  const opts = parseRestoreArgs(argv, program);
  if ('status' in opts) return opts;
  const input = readInput(opts.file);
  if (typeof input !== 'string') return { stdout: '', stderr: input.error, status: 1 };
  const r = iptablesRestore(current, input, opts, names, program);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, ruleset: r.changed ? r.ruleset : undefined };
}
