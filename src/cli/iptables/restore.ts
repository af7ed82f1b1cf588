/**
 * iptables-restore as iptables-nft 1.8.9 runs it: tables replaced whole
 * unless --noflush, commands queued and committed at each COMMIT (one
 * table at a time: a failure leaves earlier tables committed, exactly as
 * the real tool does), and every error message and exit status. The
 * commands of a table are carried out as they are read, but what they print
 * and the userspace failures they meet only show at COMMIT, where
 * iptables-nft prepares its batch (--test never prepares it).
 */
import { addUserChain, incompatibleChains, initBuiltins, keepHandleCounters, type Ruleset } from '../../core/netfilter/ruleset.js';
import { isBuiltinChain, tableInfo, type Hook, type TableName } from '../../core/netfilter/tables.js';
import type { NameDb } from '../../core/xt/namedb.js';
import { CommitParamError, paramError, XtError, type Family } from '../../core/xt/types.js';
import { CommandFailure, nftStrerror, renderError } from './errors.js';
import { buildRules, executeCommand, Txn } from './execute.js';
import { Getopt } from './getopt.js';
import { assertValidChainName, CMD, parseCommand } from './parse.js';

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
  /** What the argument parsing printed on stderr without failing (e.g. about -b). */
  warnings?: string;
}

const RESTORE_LONGOPTS = [
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
] as const;

/**
 * Parses iptables-restore's own arguments (getopt_long with its messages,
 * non-options permuted to the end); returns an early result for -h, -V and
 * errors. --ipv4/--ipv6 exist as long options only and, handled by no case,
 * end in the usage error like an unknown option.
 */
export function parseRestoreArgs(argv: string[], program: string): RestoreOptions | { stdout: string; stderr: string; status: number } {
  const g = new Getopt([program, ...argv], 'bcvVthnM:T:wW', RESTORE_LONGOPTS.map((o) => ({ ...o })));
  const o: RestoreOptions = { counters: false, verbose: 0, test: false, noflush: false };
  let stderr = '';
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
      case 'w':
      case 'W': {
        // ignored, with a separate value word skipped (xs_has_arg)
        const next = g.argv[g.optind];
        if (optarg === undefined && next !== undefined && next[0] !== '-' && next[0] !== '!') g.optind++;
        break;
      }
      default:
        return { stdout: '', stderr: stderr + `Try \`${program} -h' for more information.\n`, status: 1 };
    }
  }
  const rest = g.argv.slice(g.optind);
  if (rest.length === 1) o.file = rest[0];
  else if (rest.length > 1) return { stdout: '', stderr: stderr + 'Unknown arguments found on commandline\n', status: 1 };
  if (stderr) o.warnings = stderr;
  return o;
}

function restoreUsage(name: string): string {
  return (
    `Usage: ${name} [-c] [-v] [-V] [-t] [-h] [-n] [-T table] [-M command] [-4] [-6] [file]\n` +
    '\t   [ --counters ]\n\t   [ --verbose ]\n\t   [ --version]\n\t   [ --test ]\n\t   [ --help ]\n' +
    '\t   [ --noflush ]\n\t   [ --table=<TABLE> ]\n\t   [ --modprobe=<command> ]\n\t   [ --ipv4 ]\n\t   [ --ipv6 ]\n'
  );
}

/** The first userspace failure while preparing a table's batch: reported at COMMIT. */
interface Deferred {
  err: unknown;
  line: number;
}

/** sscanf("[%llu:%llu]") == 2 for a chain line's counters. */
function parsePolicyCounters(s: string | undefined): [bigint, bigint] | undefined {
  const m = s === undefined ? null : /^\[\s*([+-]?\d+):\s*([+-]?\d+)/.exec(s);
  if (!m) return undefined;
  const U64 = 1n << 64n;
  const num = (t: string) => {
    const neg = t.startsWith('-');
    const v = BigInt(t.replace(/^[+-]/, ''));
    if (v >= U64) return U64 - 1n;
    return neg ? (U64 - v) % U64 : v;
  };
  return [num(m[1]!), num(m[2]!)];
}

/** Runs iptables-restore over `input` starting from `start`. */
export function iptablesRestore(
  start: Ruleset,
  input: string,
  opts: RestoreOptions,
  names: NameDb,
  program = 'iptables-restore',
  family: Family = 'ipv4',
): RestoreResult {
  let committed = start;
  let changed = false;
  let txn: Txn | undefined;
  let curTable: TableName | undefined;
  let inTable = false;
  let deferred: Deferred | undefined;
  let stdout = '';
  let warnings = opts.warnings ?? '';
  const prog = { name: program, version: VERSION };
  const verbose = opts.verbose > 0;

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
  const lines = splitLinesKeepingNewline(input);
  let lineNo = 0;
  for (const raw of lines) {
    lineNo++;
    const buffer = raw;
    try {
      if (buffer[0] === '\n') continue;
      if (buffer[0] === '#') {
        if (verbose) stdout += buffer;
        continue;
      }
      if (inTable && buffer.startsWith('COMMIT') && (buffer.length === 6 || buffer[6] === '\n')) {
        inTable = false;
        if (opts.test) {
          // nft_abort: the batch is dropped unprepared
          txn = undefined;
          deferred = undefined;
          continue;
        }
        stdout += txn!.stdout;
        txn!.stdout = '';
        if (deferred) return reportDeferred(deferred, lineNo);
        try {
          txn!.commit();
        } catch (e) {
          stdout += txn!.stdout;
          // the kernel keeps the handles the aborted batch used up
          const kept = txn!.abortedHandles();
          if (kept.size) {
            committed = keepHandleCounters(committed, kept);
            changed = true;
          }
          return fail(e, lineNo);
        }
        stdout += txn!.stdout;
        committed = txn!.rs;
        changed = true;
        txn = undefined;
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
        const pending: Ruleset = { tables: { ...committed.tables } };
        const t = committed.tables[info.name];
        if (t) pending.tables[info.name] = structuredClone(t);
        txn = new Txn(pending, names, 0, family);
        deferred = undefined;
        if (!opts.noflush) flushTable(txn, info.name, verbose);
        inTable = true;
        continue;
      }
      if (buffer[0] === ':' && inTable) {
        const words = buffer.slice(1).split(/[ \t\n]/).filter((w) => w !== '');
        const chain = words[0];
        if (!chain) throw paramError(`${program}: line ${lineNo} chain name invalid`);
        assertValidChainName(chain, family, true);
        const policy = words[1];
        if (!policy) throw paramError(`${program}: line ${lineNo} policy invalid`);
        const pending = txn!.rs;
        if (isBuiltinChain(curTable!, chain)) {
          let counts: [bigint, bigint] = [0n, 0n];
          if (opts.counters) {
            const c = parsePolicyCounters(words[2]);
            if (!c) throw paramError(`invalid policy counters for chain '${chain}'`);
            counts = c;
          }
          if (deferred) continue;
          if (policy !== 'ACCEPT' && policy !== 'DROP' && policy !== '-') {
            deferred = { err: new CommandFailure('chain_set', 'EINVAL'), line: lineNo };
            continue;
          }
          const lost = pending.tables[curTable!]?.builtins[chain as Hook];
          // a chain the cache lost is added again first (with policy ACCEPT)
          if (lost && txn!.uncached.has(lost)) txn!.recache(lost);
          const t = initBuiltins(pending, curTable!, chain);
          const c = t.builtins[chain as Hook]!;
          txn!.nextSeq();
          if (policy !== '-') c.policy = policy;
          [c.pkts, c.bytes] = counts;
          // the chain line's NEWCHAIN carries counters
          delete c.uncounted;
        } else {
          if (deferred) continue;
          txn!.nextSeq();
          const t = pending.tables[curTable!];
          const existing = t?.user.find((c) => c.name === chain);
          if (existing) {
            existing.rules = [];
            // nft_chain_restore unsets the cached chain's handle
            txn!.created.add(existing);
          } else txn!.created.add(addUserChain(pending, curTable!, chain));
        }
        continue;
      }
      if (inTable) {
        let body = buffer;
        const argv: string[] = ['-t', curTable!];
        if (!opts.noflush) for (let i = 0; i < opts.verbose; i++) argv.push('-v');
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
        const parsed = parseCommand(argv, { names, restore: true, table: curTable!, program, version: VERSION, family }, (s) => {
          warnings += s;
        });
        if (deferred) {
          // still translated at once: its userspace errors show now
          if (parsed.command & (CMD.APPEND | CMD.INSERT | CMD.REPLACE | CMD.DELETE | CMD.CHECK))
            buildRules(parsed, parsed.table, parsed.chain ?? '', txn!.rs);
          continue;
        }
        try {
          executeCommand(parsed, txn!, { line: lineNo });
        } catch (e) {
          // Errors of the translation are reported at once; those of the
          // preparation (missing chains, rules, jump targets) only at COMMIT.
          if (e instanceof XtError && !(e instanceof CommitParamError)) throw e;
          deferred = { err: e, line: lineNo };
        }
        continue;
      }
      // a line outside any table (a rule before *table, a stray COMMIT or chain line): ret stays 0
      if (opts.table !== undefined && curTable !== undefined && opts.table !== curTable) continue;
      return finish(warnings + `${program}: line ${lineNo} failed\n`, 1);
    } catch (e) {
      if (e instanceof XtError) return fail(e, lineNo);
      throw e;
    }
  }
  if (inTable) return finish(warnings + `${program}: COMMIT expected at line ${lineNo + 1}\n`, 1);
  return finish(warnings, 0);

  function reportDeferred(d: Deferred, commitLine: number): RestoreResult {
    const e = d.err;
    if (e instanceof CommandFailure) {
      const msg = nftStrerror(e.fn, e.errno);
      return finish(warnings + `${program}: line ${d.line} failed${e.errno === '0' ? '' : `: ${msg}.`}\n`, 1);
    }
    const r = renderError(e, { ...prog, line: commitLine });
    return finish(warnings + r.stderr, r.status);
  }
}

/**
 * The flush that starts a table's block (nft_cmd_table_flush): the table
 * deleted whole; with -v, every chain flushed and deleted one by one
 * instead, printing each, which keeps the table and any built-in chain
 * whose policy is not ACCEPT (in the kernel: the cache forgets it too).
 */
function flushTable(txn: Txn, table: TableName, verbose: boolean): void {
  const rs = txn.rs;
  txn.nextSeq();
  if (!verbose) {
    delete rs.tables[table];
    txn.cacheTables.delete(table);
    return;
  }
  const t = initBuiltins(rs, table);
  const info = tableInfo(table)!;
  const builtins = info.chains.map((h) => t.builtins[h]!);
  const users = txn.cacheUserChains(table, true);
  for (const c of [...builtins, ...users]) {
    txn.stdout += `Flushing chain \`${c.name}'\n`;
    c.rules = [];
  }
  for (const c of users) txn.stdout += `Deleting chain \`${c.name}'\n`;
  // chains iptables does not recognise are not in its cache, so they stay
  t.user = incompatibleChains(t);
  for (const h of info.chains) {
    const c = t.builtins[h]!;
    if (txn.cachePolicy(c) === 'ACCEPT') delete t.builtins[h];
    else txn.uncached.add(c);
  }
}

/** Splits text into lines that keep their newline, as fgets returns them. */
function splitLinesKeepingNewline(input: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < input.length) {
    const j = input.indexOf('\n', i);
    if (j < 0) {
      out.push(input.slice(i));
      break;
    }
    out.push(input.slice(i, j + 1));
    i = j + 1;
  }
  return out;
}
