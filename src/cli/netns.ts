/**
 * `nsenter` (util-linux 2.38) as far as the lab has namespaces: entering a
 * host's network namespace by file (`--net=/var/run/netns/NAME`,
 * `-n/run/netns/NAME`, `--net=/proc/PID/ns/net`) or by process
 * (`-t PID -n`), then running a command there. The other namespace kinds
 * (mount, uts, ipc, pid, cgroup, time) are the host's own in the lab:
 * entering them through a target changes nothing.
 */

/** What the parser needs to know about the host. */
export interface NsenterEnv {
  /** The namespace nsenter runs in ('' for the host's own). */
  current: string;
  /** Whether a named namespace exists (a file in /run/netns). */
  exists(name: string): boolean;
  /** The namespace of process `pid`, or undefined when there is none. */
  netnsOfPid(pid: number): string | undefined;
}

/** The outcome: a command to run in a namespace, or text to print and a status. */
export type NsenterResult =
  | {
      kind: 'run';
      /** The namespace to run in ('' for the host's own). */
      netns: string;
      /**
       * The command; empty means the user's shell ($SHELL, else /bin/sh).
       * When there is no such program nsenter prints
       * `nsenter: failed to execute NAME: No such file or directory` and exits 127.
       */
      argv: string[];
    }
  | { kind: 'done'; stdout: string; stderr: string; status: number };

const HELP = `
Usage:
 nsenter [options] [<program> [<argument>...]]

Run a program with namespaces of other processes.

Options:
 -a, --all              enter all namespaces
 -t, --target <pid>     target process to get namespaces from
 -m, --mount[=<file>]   enter mount namespace
 -u, --uts[=<file>]     enter UTS namespace (hostname etc)
 -i, --ipc[=<file>]     enter System V IPC namespace
 -n, --net[=<file>]     enter network namespace
 -p, --pid[=<file>]     enter pid namespace
 -C, --cgroup[=<file>]  enter cgroup namespace
 -U, --user[=<file>]    enter user namespace
 -T, --time[=<file>]    enter time namespace
 -S, --setuid <uid>     set uid in entered namespace
 -G, --setgid <gid>     set gid in entered namespace
     --preserve-credentials do not touch uids or gids
 -r, --root[=<dir>]     set the root directory
 -w, --wd[=<dir>]       set the working directory
 -W. --wdns <dir>       set the working directory in namespace
 -F, --no-fork          do not fork before exec'ing <program>
 -Z, --follow-context   set SELinux context according to --target PID

 -h, --help             display this help
 -V, --version          display version

For more details see nsenter(1).
`;

/** Namespace kinds in the order nsenter enters them, with their short options. */
const KINDS: [string, string, string][] = [
  ['user', 'U', 'user'],
  ['cgroup', 'C', 'cgroup'],
  ['ipc', 'i', 'ipc'],
  ['uts', 'u', 'uts'],
  ['net', 'n', 'net'],
  ['pid', 'p', 'pid'],
  ['mnt', 'm', 'mount'],
  ['time', 'T', 'time'],
];

/** Long options: name, short equivalent, argument ('none' | 'required' | 'optional'). */
const LONG: [string, string, 'none' | 'required' | 'optional'][] = [
  ['all', 'a', 'none'],
  ['help', 'h', 'none'],
  ['version', 'V', 'none'],
  ['target', 't', 'required'],
  ['mount', 'm', 'optional'],
  ['uts', 'u', 'optional'],
  ['ipc', 'i', 'optional'],
  ['net', 'n', 'optional'],
  ['pid', 'p', 'optional'],
  ['user', 'U', 'optional'],
  ['cgroup', 'C', 'optional'],
  ['time', 'T', 'optional'],
  ['setuid', 'S', 'required'],
  ['setgid', 'G', 'required'],
  ['root', 'r', 'optional'],
  ['wd', 'w', 'optional'],
  ['wdns', 'W', 'required'],
  ['no-fork', 'F', 'none'],
  ['preserve-credentials', '\u0001', 'none'],
  ['follow-context', 'Z', 'none'],
];

const SHORT_REQUIRED = new Set(['t', 'S', 'G', 'W']);
const SHORT_OPTIONAL = new Set(['m', 'u', 'i', 'n', 'p', 'U', 'C', 'T', 'r', 'w']);
const SHORT_NONE = new Set(['a', 'h', 'V', 'F', 'Z']);

function fail(msg: string, status = 1): NsenterResult {
  return { kind: 'done', stdout: '', stderr: `nsenter: ${msg}\n`, status };
}

function usageError(msg: string): NsenterResult {
  return { kind: 'done', stdout: '', stderr: `nsenter: ${msg}\nTry 'nsenter --help' for more information.\n`, status: 1 };
}

/** The network namespace a file designates, or undefined when it cannot be opened. */
function netnsOfFile(env: NsenterEnv, file: string): string | undefined {
  const named = /^(?:\/var)?\/run\/netns\/([^/]+)$/.exec(file);
  if (named) return env.exists(named[1]!) ? named[1]! : undefined;
  if (file === '/proc/self/ns/net' || file === '/proc/thread-self/ns/net') return env.current;
  const proc = /^\/proc\/(\d+)\/ns\/net$/.exec(file);
  if (proc) return env.netnsOfPid(Number(proc[1]));
  return undefined;
}

/** Parses `nsenter ARGV` (without "nsenter"). */
export function parseNsenter(argv: string[], env: NsenterEnv): NsenterResult {
  const want = new Map<string, string | null>();
  let target: string | undefined;
  let all = false;
  let netns = env.current;
  let i = 0;
  const option = (short: string, value: string | undefined): NsenterResult | undefined => {
    if (short === 'h') return { kind: 'done', stdout: HELP, stderr: '', status: 0 };
    if (short === 'V') return { kind: 'done', stdout: 'nsenter from util-linux 2.38.1\n', stderr: '', status: 0 };
    if (short === 'a') all = true;
    else if (short === 't') target = value;
    else {
      const kind = KINDS.find((k) => k[1] === short);
      if (kind) {
        if (value !== undefined) {
          if (kind[0] === 'net') {
            const ns = netnsOfFile(env, value);
            if (ns === undefined) return fail(`cannot open ${value}: No such file or directory`);
            netns = ns;
          }
          want.set(kind[0], value);
        } else want.set(kind[0], null);
      }
    }
    return undefined;
  };
  while (i < argv.length) {
    const w = argv[i]!;
    if (w === '--') {
      i++;
      break;
    }
    if (!w.startsWith('-') || w === '-') break;
    if (w.startsWith('--')) {
      const eq = w.indexOf('=');
      const name = w.slice(2, eq >= 0 ? eq : undefined);
      const exact = LONG.find((l) => l[0] === name);
      const found = exact ? [exact] : LONG.filter((l) => l[0].startsWith(name));
      if (found.length !== 1) {
        return usageError(found.length === 0 ? `unrecognized option '${w}'` : `option '${w}' is ambiguous`);
      }
      const [lname, short, arg] = found[0]!;
      let value: string | undefined = eq >= 0 ? w.slice(eq + 1) : undefined;
      if (arg === 'none' && value !== undefined) return usageError(`option '--${lname}' doesn't allow an argument`);
      if (arg === 'required' && value === undefined) {
        i++;
        if (i >= argv.length) return usageError(`option '--${lname}' requires an argument`);
        value = argv[i]!;
      }
      const r = option(short, value);
      if (r) return r;
      i++;
      continue;
    }
    for (let j = 1; j < w.length; j++) {
      const c = w[j]!;
      if (SHORT_NONE.has(c)) {
        const r = option(c, undefined);
        if (r) return r;
        continue;
      }
      if (SHORT_OPTIONAL.has(c)) {
        const rest = w.slice(j + 1);
        const r = option(c, rest === '' ? undefined : rest);
        if (r) return r;
        break;
      }
      if (SHORT_REQUIRED.has(c)) {
        let value = w.slice(j + 1);
        if (value === '') {
          i++;
          if (i >= argv.length) return usageError(`option requires an argument -- '${c}'`);
          value = argv[i]!;
        }
        const r = option(c, value);
        if (r) return r;
        break;
      }
      return usageError(`invalid option -- '${c}'`);
    }
    i++;
  }
  let pid = 0;
  if (target !== undefined) {
    const m = /^\s*(-?)(\d+)$/.exec(target);
    if (!m) return fail(`failed to parse pid: '${target}'`);
    pid = Number(m[2]);
    if (m[1] === '-' && pid !== 0) pid = 4294967296 - pid;
  }
  if (all && pid !== 0) for (const k of KINDS) if (k[0] !== 'user' && !want.has(k[0])) want.set(k[0], null);
  for (const [kind] of KINDS) {
    if (!want.has(kind) || want.get(kind) !== null) continue;
    if (pid === 0) return fail(`neither filename nor target pid supplied for ns/${kind}`);
    if (kind === 'user') return fail(`reassociate to namespace 'ns/user' failed: Invalid argument`);
    const ns = env.netnsOfPid(pid);
    if (ns === undefined) return fail(`cannot open /proc/${pid}/ns/${kind}: No such file or directory`);
    if (kind === 'net') netns = ns;
  }
  return { kind: 'run', netns, argv: argv.slice(i) };
}
