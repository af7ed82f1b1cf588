/**
 * The commands the script runner carries out itself, with bash's messages:
 * echo, true, false, :, exit, set (-e/+e, -u/+u), export, and cat, which
 * reads files of the lab machine (/etc/sysconfig/iptables is
 * <lab>/fs/etc/sysconfig/iptables; relative paths start at root's home).
 */
import { readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { labFile } from '../lab/store.js';
import { closeLab, openLab } from '../lab/session.js';
import { moduleFiles } from '../../core/conntrack/modules.js';
import { procExpectText } from '../../core/conntrack/expect.js';
import { conntrackFromJson, type ConntrackJson } from '../../core/conntrack/table.js';
import type { Output } from './io.js';

/** Variables and options of a running script or shell. */
export interface ShellState {
  vars: Map<string, string>;
  /** Positional parameters: $0 (the script's name), $1, ... */
  args: string[];
  /** Exit status of the last command ($?). */
  status: number;
  /** Stop at the first failing command (set -e); on by default in scripts. */
  errexit: boolean;
  /** Refuse to expand unset variables (set -u). */
  nounset: boolean;
  /** How many scripts deep we are (sh FILE inside a script). */
  depth: number;
  /** Jobs started with `&` so far (the next gets the next number). */
  jobs?: number;
  /** Namespaces entered with `nsenter --net=...` (innermost last); `exit` leaves the last. */
  netns?: string[];
}

/** What a builtin did: its status, and whether the script must end (exit). */
export interface BuiltinResult {
  status: number;
  exit?: boolean;
}

/** The machine's working directory for relative paths: root's home. */
const HOME = '/root';

const ECHO_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' };

/** bash's `echo -e` escapes; returns the text and whether \c stopped the output. */
function echoEscapes(s: string): { text: string; stop: boolean } {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const d = s[i + 1]!;
    if (d === 'c') return { text: out, stop: true };
    if (ECHO_ESCAPES[d] !== undefined) {
      out += ECHO_ESCAPES[d];
      i++;
    } else if (d === '0') {
      const m = /^[0-7]{0,3}/.exec(s.slice(i + 2))![0];
      out += String.fromCharCode(parseInt(m || '0', 8) & 0xff);
      i += 1 + m.length;
    } else if (d === 'x' && /^[0-9A-Fa-f]/.test(s.slice(i + 2))) {
      const m = /^[0-9A-Fa-f]{1,2}/.exec(s.slice(i + 2))![0];
      out += String.fromCharCode(parseInt(m, 16));
      i += 1 + m.length;
    } else {
      out += c;
    }
  }
  return { text: out, stop: false };
}

function echo(args: string[], out: Output): BuiltinResult {
  let newline = true;
  let escapes = false;
  let i = 0;
  while (i < args.length && /^-[neE]+$/.test(args[i]!)) {
    for (const f of args[i]!.slice(1)) {
      if (f === 'n') newline = false;
      else escapes = f === 'e';
    }
    i++;
  }
  let text = args.slice(i).join(' ');
  if (escapes) {
    const r = echoEscapes(text);
    text = r.text;
    if (r.stop) newline = false;
  }
  out.stdout(text + (newline ? '\n' : ''));
  return { status: 0 };
}

function exit(args: string[], state: ShellState, out: Output, where: string): BuiltinResult {
  if (args.length === 0) return { status: state.status, exit: true };
  if (!/^[+-]?[0-9]+$/.test(args[0]!)) {
    out.stderr(`${where}exit: ${args[0]}: numeric argument required\n`);
    return { status: 2, exit: true };
  }
  if (args.length > 1) {
    out.stderr(`${where}exit: too many arguments\n`);
    return { status: 1 };
  }
  return { status: ((Number(args[0]) % 256) + 256) % 256, exit: true };
}

function set(args: string[], state: ShellState, out: Output, where: string): BuiltinResult {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if ((a === '-o' || a === '+o') && ['errexit', 'nounset', 'pipefail'].includes(args[i + 1] ?? '')) {
      const on = a === '-o';
      if (args[i + 1] === 'errexit') state.errexit = on;
      if (args[i + 1] === 'nounset') state.nounset = on;
      i++;
      continue;
    }
    const m = /^([-+])([eu]+)$/.exec(a);
    if (!m) {
      out.stderr(`${where}set: ${a}: not supported by nflab scripts (only -e, +e, -u, +u)\n`);
      return { status: 2 };
    }
    for (const f of m[2]!) {
      if (f === 'e') state.errexit = m[1] === '-';
      else state.nounset = m[1] === '-';
    }
  }
  return { status: 0 };
}

function exportVars(args: string[], state: ShellState, out: Output, where: string): BuiltinResult {
  for (const a of args) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/s.exec(a);
    if (!m) {
      out.stderr(`${where}export: \`${a}': not a valid identifier\n`);
      return { status: 1 };
    }
    if (m[2] !== undefined) state.vars.set(m[1]!, m[2]);
  }
  return { status: 0 };
}

function cat(args: string[], lab: string, out: Output): BuiltinResult {
  let status = 0;
  for (const a of args) {
    if (a.startsWith('-') && a !== '-') {
      const bad = a.startsWith('--') ? `unrecognized option '${a}'` : `invalid option -- '${a[1]}'`;
      out.stderr(`cat: ${bad}\nTry 'cat --help' for more information.\n`);
      return { status: 1 };
    }
  }
  let kernelFiles: Record<string, string> | undefined;
  for (const a of args) {
    if (a === '-') continue;
    const abs = posix.resolve(HOME, a);
    if (abs.startsWith('/sys/') || abs.startsWith('/proc/')) {
      // the kernel's own files: module parameters, /proc/modules
      kernelFiles ??= kernelFilesOf(lab);
      const text = kernelFiles[abs];
      if (text === undefined) {
        out.stderr(`cat: ${a}: No such file or directory\n`);
        status = 1;
      } else out.stdout(text);
      continue;
    }
    const path = labFile(lab, abs);
    try {
      if (statSync(path).isDirectory()) {
        out.stderr(`cat: ${a}: Is a directory\n`);
        status = 1;
        continue;
      }
      out.stdout(readFileSync(path, 'utf8'));
    } catch {
      out.stderr(`cat: ${a}: No such file or directory\n`);
      status = 1;
    }
  }
  return { status };
}

/** The files the host's kernel shows under /sys and /proc (modules and their parameters). */
function kernelFilesOf(lab: string): Record<string, string> {
  const s = openLab(lab);
  try {
    const host = s.world.hosts[s.host]!;
    const files = moduleFiles(host);
    const m = host.netns['']?.machine;
    if (m) files['/proc/net/nf_conntrack_expect'] = procExpectText(conntrackFromJson(m.conntrack as ConntrackJson | undefined, () => m.clockNs), m.clockNs);
    return files;
  } finally {
    closeLab(s, false);
  }
}

/** Runs a builtin; `where` prefixes its error messages (e.g. "nflab: f.sh: line 3: "). */
export function runBuiltin(name: string, args: string[], state: ShellState, lab: string, out: Output, where: string): BuiltinResult {
  switch (name) {
    case 'echo':
      return echo(args, out);
    case 'true':
    case ':':
      return { status: 0 };
    case 'false':
      return { status: 1 };
    case 'exit':
      return exit(args, state, out, where);
    case 'set':
      return set(args, state, out, where);
    case 'export':
      return exportVars(args, state, out, where);
    case 'cat':
      return cat(args, lab, out);
    default:
      throw new Error(`no builtin ${name}`);
  }
}
