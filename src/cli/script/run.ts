/**
 * The script runner: executes parsed nflab scripts command by command, the
 * way `bash -e` would. Every command's output is passed on as it comes, in
 * order. Machine programs go to the same in-process dispatcher as the
 * `nflab` command line (so they share the lab's state); the iptables init
 * script and a few builtins run here.
 *
 * Unlike plain bash, a script stops at the first command that fails (as if
 * it began with `set -e`; `set +e` turns that off), naming the line:
 * `nflab: myfirewall: line 12: command failed with exit status 2`.
 * `nflab run FILE [ARGS...]` is the command line entry point.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { DEFAULT_HOST } from '../../core/world/state.js';
import { deferSync, holdLab, hostDir, labFile, labRoot } from '../lab/store.js';
import { closeLab, openLab } from '../lab/session.js';
import { writeModuleFile } from '../../core/conntrack/modules.js';
import { runBuiltin, type ShellState } from './builtins.js';
import { expandString, expandWord, splitAssignment, UnboundVariable, type Lookup } from './expand.js';
import { runIptablesInit } from './initscript.js';
import { Output, type CommandResult, type LabContext } from './io.js';
import { parseScript, type AndOrList, type SimpleCommand } from './parse.js';
import { resolveCommand } from './resolve.js';
import { ScriptSyntaxError } from './tokenize.js';

/** How deep scripts may call scripts (sh FILE) before the runner refuses. */
const MAX_DEPTH = 16;

/** Prefix of messages about a line, e.g. "nflab: myfirewall: line 12: ". */
export type Where = (line: number) => string;

/** What running some commands did: `ended` when the script or shell must stop (exit, set -e). */
export interface ListsOutcome {
  ended: boolean;
}

interface CommandOutcome {
  status: number;
  /** The command already printed why it failed (not found, unbound variable). */
  reported?: boolean;
  /** `exit` was run, or a fatal error happened. */
  ended?: boolean;
}

/** A fresh state for a script: errexit on, like nflab promises. */
export function newState(name: string, args: string[], depth = 0): ShellState {
  return { vars: new Map(), args: [name, ...args], status: 0, errexit: true, nounset: false, depth };
}

function lookupIn(state: ShellState): Lookup {
  return (name) => {
    if (name === '?') return String(state.status);
    if (name === '#') return String(state.args.length - 1);
    if (/^[0-9]+$/.test(name)) return state.args[Number(name)];
    return state.vars.get(name);
  };
}

async function runSimple(cmd: SimpleCommand, state: ShellState, ctx: LabContext, out: Output, where: Where, background = false): Promise<CommandOutcome> {
  const lookup = lookupIn(state);
  let fields: string[];
  const assigns: { name: string; value: string }[] = [];
  try {
    let i = 0;
    for (; i < cmd.words.length; i++) {
      const a = splitAssignment(cmd.words[i]!);
      if (!a) break;
      assigns.push({ name: a.name, value: expandString(a.value, lookup, state.nounset) });
    }
    fields = cmd.words.slice(i).flatMap((w) => expandWord(w, lookup, state.nounset));
    if (i === cmd.words.length) {
      for (const a of assigns) state.vars.set(a.name, a.value);
      return { status: 0 };
    }
  } catch (e) {
    if (!(e instanceof UnboundVariable)) throw e;
    out.stderr(`${where(cmd.line)}${e.message}\n`);
    return { status: 1, reported: true, ended: true };
  }
  if (fields.length === 0) return { status: 0 };
  if (cmd.redirects.length === 0) return runFields(fields, cmd.line, state, ctx, out, where, background, '');
  return runRedirected(cmd, fields, lookup, state, ctx, out, where, background);
}

/**
 * A command with redirections: standard input from a file, standard output
 * and error into files (appended with >>), or into each other (2>&1). Inside
 * the lab, absolute paths are the machine's files (writing under
 * /proc/sys/ sets that sysctl, /dev/null swallows); relative paths are the
 * host's, from the current directory.
 */
async function runRedirected(cmd: SimpleCommand, fields: string[], lookup: Lookup, state: ShellState, ctx: LabContext, out: Output, where: Where, background: boolean): Promise<CommandOutcome> {
  let stdin = '';
  const sinks: Record<number, { path: string; append: boolean; text: string } | 'out' | 'err'> = { 1: 'out', 2: 'err' };
  for (const r of cmd.redirects) {
    const target = expandString(r.target, lookup, state.nounset);
    if (r.op === '>&') {
      if (target === '1' || target === '2') sinks[r.fd] = sinks[Number(target)]!;
      else {
        out.stderr(`${where(cmd.line)}${target}: ambiguous redirect\n`);
        return { status: 1, reported: true };
      }
    } else if (r.op === '<') {
      const text = readRedirectSource(ctx, target);
      if (text === undefined) {
        out.stderr(`${where(cmd.line)}${target}: No such file or directory\n`);
        return { status: 1, reported: true };
      }
      stdin = text;
    } else sinks[r.fd] = { path: target, append: r.op === '>>', text: '' };
  }
  const route = (fd: 1 | 2, text: string): void => {
    const s = sinks[fd]!;
    if (s === 'out') out.stdout(text);
    else if (s === 'err') out.stderr(text);
    else s.text += text;
  };
  const inner = new Output((fd, text) => route(fd, text));
  // a background program keeps writing where its redirections point (machine files and /dev/null)
  const later = (s: (typeof sinks)[number] | undefined): string | undefined =>
    s === undefined || typeof s === 'string' ? undefined : s.path === '/dev/null' || s.path.startsWith('/') ? s.path : undefined;
  const redirect = background ? { stdout: later(sinks[1]), stderr: sinks[2] === 'out' ? later(sinks[1]) : later(sinks[2]) } : undefined;
  const o = await runFields(fields, cmd.line, state, ctx, inner, where, background, stdin, redirect);
  for (const fd of [1, 2]) {
    const s = sinks[fd];
    if (!s || typeof s === 'string') continue;
    const err = await writeRedirectTarget(ctx, s.path, s.text, s.append);
    if (err) {
      out.stderr(`${where(cmd.line)}${s.path}: ${err}\n`);
      return { status: 1, reported: true };
    }
  }
  return o;
}

/** The text a `< FILE` redirection reads, or undefined when there is no such file. */
function readRedirectSource(ctx: LabContext, path: string): string | undefined {
  try {
    return readFileSync(path.startsWith('/') ? labFile(ctx.lab, path) : resolve(ctx.cwd, path), 'utf8');
  } catch {
    return undefined;
  }
}

/** Writes what a command printed into a redirection's target; returns an error text, or null. */
async function writeRedirectTarget(ctx: LabContext, path: string, text: string, append: boolean): Promise<string | null> {
  if (path === '/dev/null') return null;
  if (path.startsWith('/proc/sys/')) {
    // what `echo 1 > /proc/sys/net/ipv4/ip_forward` does: a sysctl write
    const key = path.slice('/proc/sys/'.length).replace(/\//g, '.');
    const r = await ctx.exec(['sysctl', '-q', '-w', `${key}=${text.trim()}`], { stdin: '' });
    return r.status === 0 ? null : r.stderr.replace(/^sysctl: /, '').trim() || 'Invalid argument';
  }
  if (path.startsWith('/sys/')) {
    // module parameters the kernel lets root change (nf_conntrack_ftp's loose)
    const s = openLab(ctx.lab);
    let changed = false;
    try {
      const e = writeModuleFile(s.world.hosts[s.host]!, path, text);
      changed = e === null;
      return e === null ? null : e === 'EINVAL' ? 'Invalid argument' : e === 'EACCES' ? 'Permission denied' : 'No such file or directory';
    } finally {
      closeLab(s, changed);
    }
  }
  const file = path.startsWith('/') ? labFile(ctx.lab, path) : resolve(ctx.cwd, path);
  try {
    mkdirSync(dirname(file), { recursive: true });
    if (append) appendFileSync(file, text);
    else writeFileSync(file, text);
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EISDIR' ? 'Is a directory' : 'No such file or directory';
  }
}

/** `nflab [--lab DIR] --host NAME CMD...` inside a script: CMD runs on another host of the lab. */
function otherHost(fields: string[]): { host: string; rest: string[] } | undefined {
  let f = fields;
  while (f.length > 1 && f[0] === 'sudo') f = f.slice(1);
  if (f[0] !== 'nflab') return undefined;
  if (f[1] === '--host' && f.length > 3) return { host: f[2]!, rest: f.slice(3) };
  if (f[1]?.startsWith('--host=') && f.length > 2) return { host: f[1].slice(7), rest: f.slice(2) };
  return undefined;
}

/** Runs a command's expanded fields. */
async function runFields(
  fields: string[],
  line: number,
  state: ShellState,
  ctx: LabContext,
  out: Output,
  where: Where,
  background: boolean,
  stdin: string,
  redirect?: { stdout?: string; stderr?: string },
): Promise<CommandOutcome> {
  const other = otherHost(fields);
  if (other) {
    const root = labRoot(ctx.lab).root;
    const dir = hostDir(root, other.host);
    if (other.host !== DEFAULT_HOST && !existsSync(join(dir, '.host'))) {
      out.stderr(`${where(line)}nflab: no host '${other.host}' in the lab (nflab host add ${other.host})\n`);
      return { status: 1, reported: true };
    }
    const hostCtx: LabContext = {
      ...ctx,
      lab: dir,
      netns: '',
      exec: (argv, io) => ctx.exec(['--host', other.host, ...argv], { ...io, netns: io?.netns ?? '' }),
    };
    // the namespace a shell entered belongs to this host, not the other
    const saved = state.netns;
    state.netns = undefined;
    try {
      return await runFields(other.rest, line, state, hostCtx, out, where, background, stdin, redirect);
    } finally {
      state.netns = saved;
    }
  }
  const entering = namespaceShell(fields);
  if (entering !== undefined) {
    // `nsenter --net=/var/run/netns/NS` or `ip netns exec NS bash`: the following commands run in NS until `exit`
    const res = await ctx.exec(['ip', 'netns', 'exec', entering, 'sleep', '0'], { stdin: '', netns: state.netns?.at(-1) });
    out.pass(res);
    if (res.status !== 0) return { status: res.status };
    (state.netns ??= []).push(entering);
    return { status: 0 };
  }
  if (fields[0] === 'exit' && state.netns?.length) {
    state.netns.pop();
    return { status: 0 };
  }
  const r = resolveCommand(fields, ctx.cwd);
  switch (r.kind) {
    case 'program': {
      const job = background ? { job: (state.jobs = (state.jobs ?? 0) + 1) } : undefined;
      const res = await ctx.exec(r.argv, { stdin, write: out.sinkForChild(), background: job, netns: state.netns?.at(-1), redirect });
      out.pass(res);
      // a job started in the background leaves $? at 0
      return { status: background ? 0 : res.status };
    }
    case 'init':
      return { status: await runIptablesInit(r.args, { lab: ctx.lab, exec: ctx.exec, out }) };
    case 'builtin': {
      const b = runBuiltin(r.name, r.args, state, ctx.lab, out, where(line));
      return { status: b.status, ended: b.exit };
    }
    case 'script': {
      if (state.depth + 1 >= MAX_DEPTH) {
        out.stderr(`${where(line)}${r.path}: scripts nested too deeply\n`);
        return { status: 1, reported: true };
      }
      const src = readFileSync(resolve(ctx.cwd, r.path), 'utf8');
      if (r.source) {
        const saved = state.args;
        if (r.args.length > 0) state.args = [saved[0]!, ...r.args];
        const st = await runSource(r.path, src, state, ctx, out);
        state.args = saved;
        return st;
      }
      return { status: await runScriptText(r.path, src, r.args, ctx, out, state.depth + 1) };
    }
    case 'notfound':
      out.stderr(`${where(line)}${r.name}: ${r.reason}\n`);
      return { status: 127, reported: true };
  }
}

/** The shells that enter a namespace: the namespace, or undefined for any other command. */
function namespaceShell(fields: string[]): string | undefined {
  let f = fields;
  while (f.length > 1 && f[0] === 'sudo') f = f.slice(1);
  if (f[0] === 'nsenter' && f.length === 2) {
    const m = /^(?:--net=|-n)\/(?:var\/)?run\/netns\/([^/]+)$/.exec(f[1]!);
    if (m) return m[1];
  }
  if (f[0] === 'nsenter' && f.length === 3 && (f[1] === '--net' || f[1] === '-n')) {
    const m = /^\/(?:var\/)?run\/netns\/([^/]+)$/.exec(f[2]!);
    if (m) return m[1];
  }
  if (f[0] === 'ip' && f[1] === 'netns' && f[2] === 'exec' && f.length === 5 && ['bash', 'sh', '/bin/bash', '/bin/sh'].includes(f[4]!)) return f[3];
  return undefined;
}

/** Runs `. FILE`: the file's commands in the current state. */
async function runSource(name: string, src: string, state: ShellState, ctx: LabContext, out: Output): Promise<CommandOutcome> {
  let lists: AndOrList[];
  try {
    lists = parseScript(src);
  } catch (e) {
    if (!(e instanceof ScriptSyntaxError)) throw e;
    out.stderr(`nflab: ${name}: line ${e.line}: ${e.message}\n`);
    return { status: 2, reported: true };
  }
  state.depth++;
  const o = await runLists(lists, state, ctx, out, (line) => `nflab: ${name}: line ${line}: `);
  state.depth--;
  return { status: state.status, ended: o.ended, reported: true };
}

/**
 * Runs and-or lists in order with the given state. With errexit, a failing
 * command that ends its list stops everything, with a message naming its line.
 */
export async function runLists(lists: AndOrList[], state: ShellState, ctx: LabContext, out: Output, where: Where): Promise<ListsOutcome> {
  for (const list of lists) {
    let k = 0;
    let o = await runSimple(list.commands[0]!, state, ctx, out, where, list.background === true);
    state.status = o.status;
    for (let j = 0; j < list.ops.length && !o.ended; j++) {
      const op = list.ops[j]!;
      if ((op === '&&') !== (state.status === 0)) continue;
      k = j + 1;
      o = await runSimple(list.commands[k]!, state, ctx, out, where);
      state.status = o.status;
    }
    if (o.ended) return { ended: true };
    if (state.status !== 0 && state.errexit && k === list.commands.length - 1) {
      if (!o.reported) out.stderr(`${where(list.commands[k]!.line)}command failed with exit status ${state.status}\n`);
      return { ended: true };
    }
  }
  return { ended: false };
}

/** Runs a whole script text as `name` with arguments; returns its exit status. */
export async function runScriptText(name: string, src: string, args: string[], ctx: LabContext, out: Output, depth = 0): Promise<number> {
  let lists: AndOrList[];
  try {
    lists = parseScript(src);
  } catch (e) {
    if (!(e instanceof ScriptSyntaxError)) throw e;
    out.stderr(`nflab: ${name}: line ${e.line}: ${e.message}\n`);
    return 2;
  }
  const state = newState(name, args, depth);
  await runLists(lists, state, ctx, out, (line) => `nflab: ${name}: line ${line}: `);
  return state.status;
}

const RUN_USAGE = 'Usage: nflab run FILE [ARGS...]   (FILE - reads the script from standard input)\n';

/** `nflab run FILE [ARGS...]`: runs a script of nflab commands on the lab. */
export async function runRunCommand(argv: string[], ctx: LabContext): Promise<CommandResult> {
  const out = new Output(ctx.write);
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h') {
    (argv.length === 0 ? out.stderr.bind(out) : out.stdout.bind(out))(RUN_USAGE);
    return out.result(argv.length === 0 ? 2 : 0);
  }
  const [file, ...args] = argv as [string, ...string[]];
  let src: string;
  try {
    src = file === '-' ? (ctx.stdin ?? readFileSync(0, 'utf8')) : readFileSync(resolve(ctx.cwd, file), 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    out.stderr(`nflab: ${file}: ${err.code === 'ENOENT' ? 'No such file or directory' : err.code === 'EISDIR' ? 'Is a directory' : err.message}\n`);
    return out.result(127);
  }
  const synced = deferSync();
  const release = holdLab(ctx.lab);
  try {
    return out.result(await runScriptText(file === '-' ? 'stdin' : file, src, args, ctx, out));
  } finally {
    try {
      release();
    } finally {
      synced();
    }
  }
}
