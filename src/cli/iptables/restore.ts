/**
 * iptables-restore as iptables-nft 1.8.9 runs it: tables replaced whole
 * unless --noflush, commands queued and committed at each COMMIT (one
 * table at a time: a failure leaves earlier tables committed, exactly as
 * the real tool does), and every error message and exit status.
 */
import type { Ruleset } from '../../core/netfilter/ruleset.js';
import { isBuiltinChain, tableInfo, type TableName } from '../../core/netfilter/tables.js';
import type { NameDb } from '../../core/xt/namedb.js';
import { CommitParamError, paramError, XtError } from '../../core/xt/types.js';
import { CommandFailure, CommitFailure, nftStrerror, renderError } from './errors.js';
import { executeCommand, validateTable, type JumpAdded } from './execute.js';
import { Getopt } from './getopt.js';
import { assertValidChainName, parseCommand } from './parse.js';
import { addUserChain, initBuiltins } from '../../core/netfilter/ruleset.js';
import type { Hook } from '../../core/netfilter/tables.js';

/** Outcome of a restore: output, status, and the ruleset to keep. */
export interface RestoreResult {
  stdout: string;
  stderr: string;
  status: number;
  /** The state after the restore (committed tables applied). */
  ruleset: Ruleset;
  /** Whether anything was committed. */
  changed: boolean;
}

const VERSION = '1.8.9 (nf_tables)';

/** Splits a rule line into words the way add_param_to_argv does (double quotes, backslash inside quotes). */
export function splitRestoreLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quoteOpen = false;
  let escaped = false;
  for (const ch of line) {
    if (quoteOpen) {
      if (escaped) {
        cur += ch;
        escaped = false;
        continue;
      }
      if (ch === '\\') {
        escaped = true;
        continue;
      }
      if (ch === '"') {
        quoteOpen = false;
      } else {
        cur += ch;
        continue;
      }
    } else if (ch === '"') {
      quoteOpen = true;
      has = true;
      continue;
    }
    if (ch === '"') continue;
    if (ch === ' ' || ch === '\t' || ch === '\n') {
      if (cur.length === 0 && !has) continue;
      if (cur.length === 0) {
        has = false;
        continue;
      }
      out.push(cur);
      cur = '';
      has = false;
      continue;
    }
    cur += ch;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** Options of iptables-restore. */
interface RestoreOptions {
  counters: boolean;
  verbose: number;
  test: boolean;
  noflush: boolean;
  table?: string;
  file?: string;
}

/** Parses iptables-restore's own arguments; returns an early result for -h, -V and errors. */
export function parseRestoreArgs(argv: string[], program: string): RestoreOptions | { stdout: string; stderr: string; status: number } {
  const g = new Getopt(['iptables-restore', ...argv], 'bcvVthnM:T:wW', [
    { name: 'counters', hasArg: 'no', val: 'c' },
    { name: 'verbose', hasArg: 'no', val: 'v' },
    { name: 'version', hasArg: 'no', val: 'V' },
    { name: 'test', hasArg: 'no', val: 't' },
    { name: 'help', hasArg: 'no', val: 'h' },
    { name: 'noflush', hasArg: 'no', val: 'n' },
    { name: 'modprobe', hasArg: 'required', val: 'M' },
    { name: 'table', hasArg: 'required', val: 'T' },
    { name: 'ipv4', hasArg: 'no', val: '4' },
    { name: 'ipv6', hasArg: 'no', val: '6' },
    { name: 'wait', hasArg: 'optional', val: 'w' },
    { name: 'wait-interval', hasArg: 'optional', val: 'W' },
  ]);
  const o: RestoreOptions = { counters: false, verbose: 0, test: false, noflush: false };
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
        o.counters = true;
        break;
      case 'v':
        o.verbose++;
        break;
      case 'V':
        return { stdout: `${program} v${VERSION}\n`, stderr, status: 0 };
      case 't':
        o.test = true;
        break;
      case 'h':
        return { stdout: '', stderr: stderr + restoreUsage(program), status: 0 };
      case 'n':
        o.noflush = true;
        break;
      case 'M':
        break;
      case 'T':
        o.table = optarg;
        break;
      case '4':
      case '6':
        break;
      case 'w':
      case 'W':
        break;
      default:
        return { stdout: '', stderr: stderr + `Try \`${program} -h' for more information.\n`, status: 1 };
    }
  }
  // getopt without "-" permutes: operands may appear anywhere
  const rest = [...operands, ...argv.slice(g.optind - 1)];
  if (rest.length === 1) o.file = rest[0];
  else if (rest.length > 1) return { stdout: '', stderr: stderr + 'Unknown arguments found on commandline\n', status: 1 };
  return o;
}

function restoreUsage(name: string): string {
  return (
    `Usage: ${name} [-c] [-v] [-V] [-t] [-h] [-n] [-T table] [-M command] [-4] [-6] [file]\n` +
    '\t   [ --counters ]\n\t   [ --verbose ]\n\t   [ --version]\n\t   [ --test ]\n\t   [ --help ]\n' +
    '\t   [ --noflush ]\n\t   [ --table=<TABLE> ]\n\t   [ --modprobe=<command> ]\n\t   [ --ipv4 ]\n\t   [ --ipv6 ]\n'
  );
}

/** A failure found while executing queued commands, reported at COMMIT. */
interface Deferred {
  err: unknown;
  line: number;
}

/** Runs iptables-restore over `input` starting from `start`. */
export function iptablesRestore(
  start: Ruleset,
  input: string,
  opts: RestoreOptions,
  names: NameDb,
  program = 'iptables-restore',
): RestoreResult {
  let committed = start;
  let changed = false;
  let pending: Ruleset | undefined;
  let curTable: TableName | undefined;
  let inTable = false;
  let deferred: Deferred | undefined;
  let lastJump: JumpAdded | undefined;
  let stdout = '';
  let warnings = '';
  const prog = { name: program, version: VERSION };

  const finish = (stderr: string, status: number): RestoreResult => ({
    stdout,
    stderr,
    status,
    ruleset: committed,
    changed,
  });
  const fail = (err: unknown, line: number): RestoreResult => {
    const r = renderError(err, { ...prog, line });
    return finish(warnings + r.stderr, r.status);
  };

  // fgets semantics: lines keep their newline; a final line without one still counts
  const lines = input.split(/(?<=\n)/);
  let lineNo = 0;
  for (const raw of lines) {
    lineNo++;
    const buffer = raw;
    try {
      if (buffer[0] === '\n') continue;
      if (buffer[0] === '#') {
        if (opts.verbose) stdout += buffer;
        continue;
      }
      if (inTable && buffer.startsWith('COMMIT') && (buffer.length === 6 || buffer[6] === '\n')) {
        if (!deferred) {
          try {
            validateTable(pending!, curTable!, lastJump);
          } catch (e) {
            deferred = { err: e, line: lastJump?.line ?? lineNo };
          }
        }
        if (deferred) return reportDeferred(deferred, lineNo);
        lastJump = undefined;
        if (!opts.test) {
          committed = pending!;
          changed = true;
        }
        pending = undefined;
        inTable = false;
        continue;
      }
      if (buffer[0] === '*' && !inTable) {
        const table = buffer.slice(1).split(/[ \t\n]/).filter((w) => w !== '')[0];
        if (!table) throw paramError(`${program}: line ${lineNo} table name invalid`);
        const info = tableInfo(table);
        if (!info) throw paramError(`${program}: line ${lineNo} table name '${table}' invalid`);
        curTable = info.name;
        if (opts.table !== undefined && opts.table !== table) continue;
        // Commands of this table touch only this table: share the others.
        pending = { tables: { ...committed.tables } };
        if (opts.noflush) {
          const t = committed.tables[info.name];
          if (t) pending.tables[info.name] = structuredClone(t);
        } else {
          delete pending.tables[info.name];
        }
        inTable = true;
        continue;
      }
      if (buffer[0] === ':' && inTable) {
        const words = buffer.slice(1).split(/[ \t\n]/).filter((w) => w !== '');
        const chain = words[0];
        if (!chain) throw paramError(`${program}: line ${lineNo} chain name invalid`);
        assertValidChainName(chain);
        const policy = words[1];
        if (!policy) throw paramError(`${program}: line ${lineNo} policy invalid`);
        if (deferred) continue;
        if (isBuiltinChain(curTable!, chain)) {
          let pc = 0;
          let bc = 0;
          if (opts.counters) {
            const m = words[2] !== undefined ? /^\[(\d+):(\d+)\]/.exec(words[2]) : null;
            if (!m) throw paramError(`invalid policy counters for chain '${chain}'`);
            pc = Number(m[1]);
            bc = Number(m[2]);
          }
          if (policy !== 'ACCEPT' && policy !== 'DROP' && policy !== '-') {
            deferred = { err: new CommandFailure('chain_set', 'EINVAL'), line: lineNo };
            continue;
          }
          const t = initBuiltins(pending!, curTable!, chain);
          const c = t.builtins[chain as Hook]!;
          if (policy !== '-') c.policy = policy;
          c.pkts = pc;
          c.bytes = bc;
        } else {
          const t = pending!.tables[curTable!];
          const existing = t?.user.find((c) => c.name === chain);
          if (existing) existing.rules = [];
          else addUserChain(pending!, curTable!, chain);
        }
        continue;
      }
      if (inTable) {
        let body = buffer;
        const argv: string[] = ['-t', curTable!];
        if (body[0] === '[') {
          const close = body.indexOf(']');
          if (close < 0) throw paramError(`Bad line ${lineNo}: need ]`);
          const inner = body.slice(1);
          const colon = inner.indexOf(':');
          if (colon < 0 || colon === 0) throw paramError(`Bad line ${lineNo}: need :`);
          const pcnt = inner.slice(0, colon);
          const bcntEnd = inner.indexOf(']', colon + 1);
          if (bcntEnd === colon + 1 || bcntEnd < 0) throw paramError(`Bad line ${lineNo}: need ]`);
          const bcnt = inner.slice(colon + 1, bcntEnd);
          body = inner.slice(bcntEnd + 1);
          if (opts.counters) argv.push('--set-counters', pcnt, bcnt);
        }
        argv.push(...splitRestoreLine(body));
        const parsed = parseCommand(argv, { names, restore: true, table: curTable!, program, version: VERSION }, (s) => {
          warnings += s;
        });
        if (deferred) continue;
        try {
          const r = executeCommand(parsed, pending!, { names, line: lineNo });
          stdout += r.stdout;
          if (r.jumpAdded) lastJump = r.jumpAdded;
        } catch (e) {
          // Errors found while building the rule are reported at once; the
          // kernel's and the missing jump target only when the table commits.
          if (e instanceof XtError && !(e instanceof CommitParamError)) throw e;
          deferred = { err: e, line: lineNo };
        }
      }
    } catch (e) {
      if (e instanceof XtError) return fail(e, lineNo);
      throw e;
    }
  }
  if (inTable) return finish(warnings + `${program}: COMMIT expected at line ${lineNo + 1}\n`, 1);
  return finish(warnings, 0);

  function reportDeferred(d: Deferred, commitLine: number): RestoreResult {
    const e = d.err;
    if (e instanceof CommandFailure) return finish(warnings + `${program}: line ${d.line} failed: ${nftStrerror(e.fn, e.errno)}.\n`, 1);
    if (e instanceof CommitFailure) {
      const r = renderError(new CommitFailure(e.op, e.errno, e.what, d.line), prog);
      return finish(warnings + r.stderr, r.status);
    }
    const r = renderError(e, { ...prog, line: commitLine });
    return finish(warnings + r.stderr, r.status);
  }
}

