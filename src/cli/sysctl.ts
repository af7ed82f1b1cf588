/**
 * procps-ng 4.0.2's `sysctl` on a lab machine, over the namespace's net.*
 * keys (NetState.sysctl): reading keys and directories, -a, -w and
 * KEY=VALUE writes with the kernel's parsing, -n/-b/-N/-q/-e/-r/--dry-run,
 * and -p FILE through a file reader the caller provides. Other top-level
 * directories (kernel.*, vm.*) do not exist in the lab.
 */
import {
  DEPRECATED_SYSCTL_NAMES,
  sysctlIsDirectory,
  sysctlKeys,
  sysctlSpec,
  sysctlWrite,
} from '../core/net/sysctl.js';
import { cloneNetState } from '../core/net/state.js';
import type { NetState } from '../core/net/types.js';

/** What running sysctl produced (`net` only when it changed). */
export interface SysctlResult {
  stdout: string;
  stderr: string;
  status: number;
  net?: NetState;
}

/** Reads a file of the lab machine (for -p); undefined when it does not exist. */
export type ReadLabFile = (path: string) => string | undefined;

const PROC = '/proc/sys/';

const USAGE =
  '\nUsage:\n' +
  ' sysctl [options] [variable[=value] ...]\n' +
  '\nOptions:\n' +
  '  -a, --all            display all variables\n' +
  '  -A                   alias of -a\n' +
  '  -X                   alias of -a\n' +
  '      --deprecated     include deprecated parameters to listing\n' +
  '      --dry-run        Print the key and values but do not write\n' +
  '  -b, --binary         print value without new line\n' +
  '  -e, --ignore         ignore unknown variables errors\n' +
  '  -N, --names          print variable names without values\n' +
  '  -n, --values         print only values of the given variable(s)\n' +
  '  -p, --load[=<file>]  read values from file\n' +
  '  -f                   alias of -p\n' +
  '      --system         read values from all system directories\n' +
  '  -r, --pattern <expression>\n' +
  '                       select setting that match expression\n' +
  '  -q, --quiet          do not echo variable set\n' +
  '  -w, --write          enable writing a value to variable\n' +
  '  -o                   does nothing\n' +
  '  -x                   does nothing\n' +
  '  -d                   alias of -h\n' +
  '\n' +
  ' -h, --help     display this help and exit\n' +
  ' -V, --version  output version information and exit\n' +
  '\nFor more details see sysctl(8).\n';

class Exit extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

/** One invocation's options and output. */
interface Run {
  net: NetState;
  out: string[];
  err: string[];
  printName: boolean;
  printNewline: boolean;
  ignoreError: boolean;
  nameOnly: boolean;
  quiet: boolean;
  dryRun: boolean;
  ignoreDeprecated: boolean;
  pattern?: RegExp;
  /** Errno text left over from the last failing call (xwarn prints it). */
  lastErrno: string;
}

function warnx(r: Run, msg: string): void {
  r.err.push(`sysctl: ${msg}\n`);
}

/** slashdot(): swaps '.' and '/' unless the first separator is already `to`; warns on repeats. */
function slashdot(r: Run, s: string, from: string, to: string): string {
  // the first separator decides: already in the wanted form, nothing to do
  const first = s.search(/[./]/);
  if (first < 0) return s;
  if (s[first] === to) return s;
  let warned = false;
  let out = s.slice(0, first);
  for (let i = first; i < s.length; i++) {
    const c = s[i]!;
    if (c === '.' || c === '/') {
      const next = s[i + 1];
      if ((next === '/' || next === '.') && !warned) {
        warnx(r, `separators should not be repeated: ${s.slice(i)}`);
        warned = true;
      }
      out += c === from ? to : c === to ? from : c;
    } else out += c;
  }
  return out;
}

type Node = { kind: 'file'; key: string } | { kind: 'dir'; key: string } | undefined;

function lookup(r: Run, path: string): Node {
  // Repeated slashes are one separator in a path; a dot inside a component
  // (device names such as "eth0.1") names nothing in the lab.
  const parts = path.slice(PROC.length).split('/').filter((p) => p !== '');
  if (parts.length === 0) return { kind: 'dir', key: '' };
  if (parts.some((p) => p.includes('.'))) return undefined;
  const key = parts.join('.');
  if (key in r.net.sysctl) return { kind: 'file', key };
  if (sysctlIsDirectory(r.net, key)) return { kind: 'dir', key };
  return undefined;
}

function displayAll(r: Run, dirKey: string): number {
  let rc = 0;
  const prefix = dirKey === '' ? '' : `${dirKey}.`;
  const depth = dirKey === '' ? 0 : dirKey.split('.').length;
  const seenDirs = new Set<string>();
  for (const k of sysctlKeys(r.net)) {
    if (!k.startsWith(prefix)) continue;
    const parts = k.split('.');
    const name = parts[depth]!;
    if (r.ignoreDeprecated && DEPRECATED_SYSCTL_NAMES.has(name) && parts.length === depth + 1) continue;
    if (parts.length > depth + 1) {
      const sub = parts.slice(0, depth + 1).join('.');
      if (seenDirs.has(sub)) continue;
      seenDirs.add(sub);
      displayAll(r, sub);
    } else {
      rc |= readSetting(r, parts.join('/'));
    }
  }
  return rc;
}

function readSetting(r: Run, name: string): number {
  if (name === '') {
    warnx(r, '"" is an unknown key');
    return -1;
  }
  slashdot(r, name, '/', '.');
  const tmp = PROC + slashdot(r, name, '.', '/');
  // procps converts the display name twice (and warns twice)
  const outname = slashdot(r, name, '/', '.');
  const node = lookup(r, tmp);
  if (!node) {
    if (!r.ignoreError) {
      warnx(r, `cannot stat ${tmp}: No such file or directory`);
      return 1;
    }
    return 0;
  }
  if (node.kind === 'dir') return displayAll(r, node.key);
  const spec = sysctlSpec(r.net, node.key)!;
  if ((spec.mode & 0o400) === 0) return 0;
  if (r.pattern && !r.pattern.test(outname)) return 0;
  if (r.nameOnly) {
    r.out.push(`${outname}\n`);
    return 0;
  }
  if (node.key.endsWith('.stable_secret')) return 1;
  const value = r.net.sysctl[node.key]!;
  if (r.printName) r.out.push(`${outname} = ${value}\n`);
  else r.out.push(r.printNewline ? `${value}\n` : value);
  return 0;
}

const ERRNO_TEXT: Record<string, string> = {
  EINVAL: 'Invalid argument',
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
};

function writeSetting(r: Run, path: string, value: string): number {
  const node = lookup(r, path);
  if (!node) {
    if (!r.ignoreError) {
      warnx(r, `cannot stat ${path}: No such file or directory`);
      return 1;
    }
    return 0;
  }
  const dotted = slashdot(r, path.slice(PROC.length), '/', '.');
  const writable = node.kind === 'file' && (sysctlSpec(r.net, node.key)!.mode & 0o200) !== 0;
  if (!writable) {
    warnx(r, `setting key "${dotted}": ${r.lastErrno}`);
    return 0;
  }
  if (!r.dryRun) {
    const e = sysctlWrite(r.net, node.key, `${value}\n`);
    if (e) {
      warnx(r, `setting key "${dotted}": ${ERRNO_TEXT[e]}`);
      return 1;
    }
  }
  if (!r.quiet || r.dryRun) {
    if (r.nameOnly) r.out.push(`${value}\n`);
    else if (r.printName) r.out.push(`${dotted} = ${value}\n`);
    else r.out.push(r.printNewline ? `${value}\n` : value);
  }
  return 0;
}

/** A parsed KEY=VALUE (or -KEY) line. */
interface Setting {
  key: string;
  path: string;
  value?: string;
  ignoreFailure: boolean;
  globExclude: boolean;
}

function lstrip(s: string): string {
  return s.replace(/^\s+/, '');
}
function rstrip(s: string): string {
  return s.replace(/\s+$/, '');
}

function parseSettingLine(r: Run, where: string, linenum: number, line: string): Setting | undefined {
  let key = lstrip(line);
  if (key.length < 2) return undefined;
  if (key[0] === '#' || key[0] === ';') return undefined;
  if (r.pattern && !r.pattern.test(key)) return undefined;
  const eq = key.indexOf('=');
  let value: string | undefined;
  let ignoreFailure = false;
  let globExclude = false;
  if (eq < 0) {
    if (key[0] === '-') {
      globExclude = true;
      key = rstrip(key.slice(1));
    } else {
      warnx(r, `${where}(${linenum}): invalid syntax, continuing...`);
      return undefined;
    }
  } else {
    value = rstrip(lstrip(key.slice(eq + 1)));
    key = key.slice(0, eq);
    if (key[0] === '-') {
      ignoreFailure = true;
      key = key.slice(1);
    }
    key = rstrip(key);
  }
  const path = PROC + slashdot(r, key, '.', '/');
  return { key, path, value, ignoreFailure, globExclude };
}

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const c of glob) {
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function preload(r: Run, list: Setting[], file: string, readFile: ReadLabFile | undefined): number {
  const text = readFile?.(file);
  if (text === undefined) {
    warnx(r, `cannot open "${file}": No such file or directory`);
    return 1;
  }
  const lines = text.split(/(?<=\n)/);
  let n = 0;
  for (const line of lines) {
    n++;
    if (line.length < 2) continue;
    const s = parseSettingLine(r, file, n, line);
    if (s) list.push(s);
  }
  return 0;
}

function writeSettingList(r: Run, list: Setting[]): number {
  let rc = 0;
  for (const s of list) {
    if (s.globExclude) continue;
    if (/[*?[]/.test(s.path)) {
      const re = globToRegExp(s.path);
      for (const k of sysctlKeys(r.net)) {
        const p = PROC + k.replace(/\./g, '/');
        if (!re.test(p)) continue;
        if (list.some((o) => o.path === p)) continue;
        rc |= writeSetting(r, p, s.value ?? '');
      }
    } else rc |= writeSetting(r, s.path, s.value ?? '');
  }
  return rc;
}

const LONG: [string, string, 'none' | 'optional' | 'required'][] = [
  ['all', 'a', 'none'],
  ['deprecated', 'deprecated', 'none'],
  ['dry-run', 'dry-run', 'none'],
  ['binary', 'b', 'none'],
  ['ignore', 'e', 'none'],
  ['names', 'N', 'none'],
  ['values', 'n', 'none'],
  ['load', 'p', 'optional'],
  ['quiet', 'q', 'none'],
  ['write', 'w', 'none'],
  ['system', 'system', 'none'],
  ['pattern', 'r', 'required'],
  ['help', 'h', 'none'],
  ['version', 'V', 'none'],
];
const SHORT_ARG: Record<string, 'none' | 'optional' | 'required'> = { p: 'optional', r: 'required' };
const SHORT = 'bneNwfpqoxaAXrVdh';

function usageTo(r: Run, toStdout: boolean): never {
  (toStdout ? r.out : r.err).push(USAGE);
  throw new Exit(toStdout ? 0 : 1);
}

function main(r: Run, argv: string[], readFile: ReadLabFile | undefined): number {
  if (argv.length < 1) usageTo(r, false);
  let writeMode = false;
  let displayAllOpt = false;
  let preloadOpt = false;
  let preloadFile: string | undefined;
  const operands: string[] = [];
  const opts: [string, string | undefined][] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const body = a.slice(2);
      const eq = body.indexOf('=');
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const exact = LONG.find((l) => l[0] === name);
      const cands = exact ? [exact] : LONG.filter((l) => l[0].startsWith(name));
      if (cands.length !== 1) {
        if (cands.length === 0) warnx(r, `unrecognized option '${a}'`);
        else warnx(r, `option '${a}' is ambiguous; possibilities:${cands.map((c) => ` '--${c[0]}'`).join('')}`);
        usageTo(r, true);
      }
      const [lname, id, hasArg] = cands[0]!;
      let arg: string | undefined;
      if (eq >= 0) {
        if (hasArg === 'none') {
          warnx(r, `option '--${lname}' doesn't allow an argument`);
          usageTo(r, true);
        }
        arg = body.slice(eq + 1);
      } else if (hasArg === 'required') {
        if (i + 1 >= argv.length) {
          warnx(r, `option '--${lname}' requires an argument`);
          usageTo(r, true);
        }
        arg = argv[++i];
      }
      opts.push([id, arg]);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (!SHORT.includes(c)) {
          warnx(r, `invalid option -- '${c}'`);
          usageTo(r, true);
        }
        const kind = SHORT_ARG[c];
        if (kind === 'optional') {
          opts.push([c, j + 1 < a.length ? a.slice(j + 1) : undefined]);
          break;
        }
        if (kind === 'required') {
          let arg = a.slice(j + 1);
          if (arg === '') {
            if (i + 1 >= argv.length) {
              warnx(r, `option requires an argument -- '${c}'`);
              usageTo(r, true);
            }
            arg = argv[++i]!;
          }
          opts.push([c, arg]);
          break;
        }
        opts.push([c, undefined]);
      }
      continue;
    }
    operands.push(a);
  }
  for (const [id, arg] of opts) {
    switch (id) {
      case 'b':
        r.printNewline = false;
        r.printName = false;
        break;
      case 'n':
        r.printName = false;
        break;
      case 'e':
        r.ignoreError = true;
        break;
      case 'N':
        r.nameOnly = true;
        break;
      case 'w':
        writeMode = true;
        break;
      case 'f':
      case 'p':
        preloadOpt = true;
        if (arg !== undefined) preloadFile = arg;
        break;
      case 'q':
        r.quiet = true;
        break;
      case 'o':
      case 'x':
        break;
      case 'a':
      case 'A':
      case 'X':
        displayAllOpt = true;
        break;
      case 'deprecated':
        r.ignoreDeprecated = false;
        break;
      case 'system':
        warnx(r, '--system is not available in this lab');
        return 1;
      case 'dry-run':
        r.dryRun = true;
        break;
      case 'r':
        try {
          r.pattern = new RegExp(arg ?? '');
        } catch {
          r.pattern = /(?!)/;
        }
        break;
      case 'V':
        r.out.push('sysctl from procps-ng 4.0.2\n');
        return 0;
      default:
        usageTo(r, true);
    }
  }
  if (displayAllOpt) return displayAll(r, '');
  if (preloadOpt) {
    let ret = 0;
    const list: Setting[] = [];
    if (preloadFile === undefined) {
      if (operands.length === 0) ret |= preload(r, list, '/etc/sysctl.conf', readFile);
    } else ret |= preload(r, list, preloadFile, readFile);
    for (const f of operands) ret |= preload(r, list, f, readFile);
    ret |= writeSettingList(r, list);
    return ret;
  }
  if (operands.length < 1) {
    warnx(r, "no variables specified\nTry `sysctl --help' for more information.");
    return 1;
  }
  if (r.nameOnly && r.quiet) {
    warnx(r, "options -N and -q cannot coexist\nTry `sysctl --help' for more information.");
    return 1;
  }
  let rc = 0;
  for (const op of operands) {
    if (writeMode || op.includes('=')) {
      const s = parseSettingLine(r, 'command line', 0, op);
      if (s) rc |= writeSetting(r, s.path, s.value ?? '');
      else rc |= 1;
    } else rc += readSetting(r, op);
  }
  return rc;
}

/**
 * Runs `sysctl ARGV` on `net` (never modified); `net` is returned when the
 * command changed a value. `readFile` serves -p.
 */
export function runSysctl(argv: string[], net: NetState, readFile?: ReadLabFile): SysctlResult {
  const work = cloneNetState(net);
  const r: Run = {
    net: work,
    out: [],
    err: [],
    printName: true,
    printNewline: true,
    ignoreError: false,
    nameOnly: false,
    quiet: false,
    dryRun: false,
    ignoreDeprecated: true,
    lastErrno: 'Invalid argument',
  };
  let status: number;
  try {
    status = main(r, argv, readFile);
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    status = e.status;
  }
  const result: SysctlResult = { stdout: r.out.join(''), stderr: r.err.join(''), status: status & 255 };
  if (JSON.stringify(work.sysctl) !== JSON.stringify(net.sysctl) || JSON.stringify(work.sysctlSet) !== JSON.stringify(net.sysctlSet)) {
    result.net = work;
  }
  return result;
}
