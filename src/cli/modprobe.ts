/**
 * `modprobe` and `lsmod` (kmod) on a lab host: loading a conntrack helper
 * module with its parameters (`modprobe nf_conntrack_ftp ports=21,2121`),
 * removing it (`modprobe -r`), listing what is loaded. Modules are kept in
 * HostState.modules (in load order); see src/core/conntrack/modules.ts
 * for what each module needs and the files it shows under /sys.
 */
import { KERNEL_RELEASE, MODULES, moduleHolders, resolveModule, lsmodText } from '../core/conntrack/modules.js';
import type { HostState, ModuleState } from '../core/world/state.js';

/** What a modprobe or lsmod run gives back. */
export interface ModprobeResult {
  stdout: string;
  stderr: string;
  status: number;
  /** Whether HostState.modules changed (the lab must be saved). */
  changed: boolean;
  /** Kernel log lines the module loader wrote (for the host's kernel log), level 4. */
  kmsg: string[];
}

const PROG = 'modprobe: ';

/** Every module `name` needs, in the order modprobe inserts them (deepest first), itself last. */
function insertOrder(name: string, out: string[] = []): string[] {
  const info = MODULES[name]!;
  for (const d of [...info.deps].reverse()) insertOrder(d, out);
  if (!out.includes(name)) out.push(name);
  return out;
}

/** The modules.dep list of a module: its dependencies and theirs, nearest first. */
function depList(name: string): string[] {
  const out: string[] = [];
  const walk = (n: string): void => {
    for (const d of MODULES[n]!.deps) {
      if (!out.includes(d)) out.push(d);
    }
    for (const d of MODULES[n]!.deps) walk(d);
  };
  walk(name);
  return out;
}

/** Whether a module is loaded. */
function isLoaded(host: HostState, name: string): boolean {
  return (host.modules ?? []).some((m) => m.name === name);
}

/** Checks `param=value` words against the module's parameters: an error message for the kernel log, or null. */
function checkParams(name: string, params: Record<string, string>, kmsg: string[]): boolean {
  const info = MODULES[name]!;
  for (const [k, v] of Object.entries(params)) {
    const p = info.params[k];
    if (!p) {
      kmsg.push(`${name}: unknown parameter '${k}' ignored`);
      continue;
    }
    let ok = true;
    if (p.kind === 'bool') ok = /^(y|Y|n|N|1|0|on|off)$/.test(v) || v === '';
    else if (p.kind === 'uint') ok = /^[0-9]+$/.test(v) && Number(v) <= 0xffffffff;
    else {
      const parts = v.split(',');
      if (parts.length > (p.max ?? 8)) {
        kmsg.push(`${k}: can only take ${p.max ?? 8} arguments`);
        return false;
      }
      for (const e of parts) {
        if (!/^[0-9]+$/.test(e) || Number(e) > 0xffff) {
          kmsg.push(`${name}: \`${e}' invalid for parameter \`${k}'`);
          return false;
        }
      }
    }
    if (!ok) {
      kmsg.push(`${name}: \`${v}' invalid for parameter \`${k}'`);
      return false;
    }
  }
  return true;
}

/** The parameters the module keeps (known ones only). */
function keptParams(name: string, params: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (MODULES[name]!.params[k]) out[k] = v;
  return out;
}

/** Parses modprobe's options; the rest are module names (and parameters). */
interface Opts {
  remove: boolean;
  verbose: boolean;
  dryRun: boolean;
  quiet: boolean;
  all: boolean;
  firstTime: boolean;
  words: string[];
}

function parseOpts(argv: readonly string[]): Opts | string {
  const o: Opts = { remove: false, verbose: false, dryRun: false, quiet: false, all: false, firstTime: false, words: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a.startsWith('--')) {
      const long: Record<string, keyof Opts> = { '--remove': 'remove', '--verbose': 'verbose', '--dry-run': 'dryRun', '--show': 'dryRun', '--quiet': 'quiet', '--all': 'all', '--first-time': 'firstTime' };
      const k = long[a];
      if (!k) return `modprobe: unrecognized option '${a}'\n`;
      (o as unknown as Record<string, boolean>)[k] = true;
      continue;
    }
    for (const c of a.slice(1)) {
      if (c === 'r') o.remove = true;
      else if (c === 'v') o.verbose = true;
      else if (c === 'n') o.dryRun = true;
      else if (c === 'q') o.quiet = true;
      else if (c === 'a') o.all = true;
      else return `modprobe: invalid option -- '${c}'\n`;
    }
  }
  o.words = argv.slice(i);
  return o;
}

/** Loads one module and what it needs. */
function insert(host: HostState, alias: string, paramWords: string[], o: Opts, r: ModprobeResult): void {
  const name = resolveModule(alias);
  if (!name) {
    if (!o.quiet) r.stderr += `${PROG}FATAL: Module ${alias} not found in directory /lib/modules/${KERNEL_RELEASE}\n`;
    r.status = 1;
    return;
  }
  if (isLoaded(host, name)) {
    if (o.firstTime) {
      if (!o.quiet) r.stderr += `${PROG}ERROR: could not insert '${name}': Module already in kernel\n`;
      r.status = 1;
    }
    return;
  }
  const params: Record<string, string> = {};
  for (const w of paramWords) {
    const eq = w.indexOf('=');
    if (eq < 0) params[w] = '';
    else params[w.slice(0, eq)] = w.slice(eq + 1);
  }
  for (const m of insertOrder(name)) {
    if (isLoaded(host, m)) continue;
    const mine = m === name;
    if (o.verbose || o.dryRun) r.stdout += `insmod /lib/modules/${KERNEL_RELEASE}/${MODULES[m]!.path} ${mine ? paramWords.join(' ') : ''}\n`;
    if (o.dryRun) continue;
    if (mine && !checkParams(m, params, r.kmsg)) {
      if (!o.quiet) r.stderr += `${PROG}ERROR: could not insert '${m}': Invalid argument\n`;
      r.status = 1;
      return;
    }
    const entry: ModuleState = { name: m, params: mine ? keptParams(m, params) : {} };
    (host.modules ??= []).push(entry);
    r.changed = true;
  }
}

/** Removes one module, then what it needed and nothing else uses. */
function remove(host: HostState, alias: string, o: Opts, r: ModprobeResult): void {
  const name = resolveModule(alias);
  if (!name) {
    if (!o.quiet) r.stderr += `${PROG}FATAL: Module ${alias} not found.\n`;
    r.status = 1;
    return;
  }
  if (!isLoaded(host, name)) {
    if (!o.quiet) r.stderr += `${PROG}FATAL: Module ${name} is not in kernel.\n`;
    r.status = 1;
    return;
  }
  if (moduleHolders(host, name).length > 0) {
    if (!o.quiet) r.stderr += `${PROG}FATAL: Module ${name} is in use.\n`;
    r.status = 1;
    return;
  }
  const drop = (m: string): void => {
    if (o.verbose || o.dryRun) r.stdout += `rmmod ${m}\n`;
    if (o.dryRun) return;
    host.modules = (host.modules ?? []).filter((x) => x.name !== m);
    r.changed = true;
  };
  drop(name);
  for (const d of depList(name)) {
    if (isLoaded(host, d) && moduleHolders(host, d).length === 0) drop(d);
  }
}

/** Runs `modprobe ARGS...` (argv without the program name) on a host. */
export function runModprobe(argv: readonly string[], host: HostState): ModprobeResult {
  const r: ModprobeResult = { stdout: '', stderr: '', status: 0, changed: false, kmsg: [] };
  const o = parseOpts(argv);
  if (typeof o === 'string') return { ...r, stderr: o, status: 1 };
  if (o.words.length === 0) return { ...r, stderr: `${PROG}ERROR: missing parameters. See -h.\n`, status: 1 };
  if (o.remove || o.all) {
    // -r and -a take module names only
    for (const w of o.words) {
      if (o.remove) remove(host, w, o, r);
      else insert(host, w, [], o, r);
    }
    return r;
  }
  insert(host, o.words[0]!, o.words.slice(1), o, r);
  return r;
}

/** Runs `lsmod` (argv without the program name) on a host. */
export function runLsmod(argv: readonly string[], host: HostState): ModprobeResult {
  const r: ModprobeResult = { stdout: '', stderr: '', status: 0, changed: false, kmsg: [] };
  if (argv.length > 0 && !argv.every((a) => a === '-v' || a === '--verbose' || a === '-s' || a === '--syslog')) {
    if (argv.some((a) => !a.startsWith('-'))) return { ...r, stderr: 'lsmod: ERROR: too many arguments provided.\n', status: 1 };
    return { ...r, stderr: `lsmod: unrecognized option '${argv.find((a) => a.startsWith('-'))}'\n`, status: 1 };
  }
  r.stdout = lsmodText(host);
  return r;
}
