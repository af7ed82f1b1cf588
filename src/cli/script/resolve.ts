/**
 * Which program a script's command names: the machine's programs (found
 * under their usual directories or by bare name), the iptables init script
 * under its paths, the runner's builtins, another script on the host, or
 * nothing. A leading `sudo` is dropped: the lab machine is run as root.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { programByName } from '../../core/programs/registry.js';

/** The programs of the machine that `nflab` runs (through the same dispatcher as its command line). */
export const MACHINE_PROGRAMS: ReadonlySet<string> = new Set([
  'iptables',
  'iptables-save',
  'iptables-restore',
  'iptables-nft',
  'iptables-nft-save',
  'iptables-nft-restore',
  'ip6tables',
  'ip6tables-save',
  'ip6tables-restore',
  'ip6tables-nft',
  'ip6tables-nft-save',
  'ip6tables-nft-restore',
  'service',
  'systemctl',
  'ip',
  'sysctl',
  'dmesg',
  'sleep',
  'replay',
  'conntrack',
  'trace',
  'host',
  'wire',
  'nsenter',
  'kill',
  'pkill',
  'killall',
  'modprobe',
  'lsmod',
  'rmmod',
]);

/** Whether `name` is a program of the machine: the fixed ones, or one of the lab's network programs. */
export function isMachineProgram(name: string): boolean {
  return MACHINE_PROGRAMS.has(name) || programByName(name) !== undefined;
}

/** Directories the machine's PATH holds them in (CentOS root's PATH). */
const BIN_DIRS = new Set(['/sbin', '/usr/sbin', '/bin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin']);

/** Paths of the iptables init script: CentOS 6 (/etc/init.d) and iptables-services on CentOS 7. */
export const INIT_SCRIPT_PATHS: ReadonlySet<string> = new Set([
  '/etc/init.d/iptables',
  '/etc/rc.d/init.d/iptables',
  '/usr/libexec/iptables/iptables.init',
]);

/**
 * The service an init script path runs (`/etc/init.d/NAME`, also under
 * /etc/rc.d, and iptables-services' iptables.init), or undefined.
 */
export function initScriptService(path: string): string | undefined {
  if (INIT_SCRIPT_PATHS.has(path)) return 'iptables';
  return /^\/etc\/(?:rc\.d\/)?init\.d\/([a-z0-9_-]+)$/.exec(path)?.[1];
}

/** Commands the runner carries out itself. */
export const BUILTINS: ReadonlySet<string> = new Set(['echo', 'true', 'false', ':', 'exit', 'set', 'export', 'cat']);

/** What a command line runs. */
export type Resolved =
  | { kind: 'program'; argv: string[] }
  | { kind: 'init'; args: string[] }
  | { kind: 'builtin'; name: string; args: string[] }
  | { kind: 'script'; path: string; args: string[]; source: boolean }
  | { kind: 'notfound'; name: string; reason: string };

function isHostFile(cwd: string, path: string): boolean {
  try {
    return existsSync(resolve(cwd, path)) && statSync(resolve(cwd, path)).isFile();
  } catch {
    return false;
  }
}

/** Resolves a command's fields (after expansion; never empty). */
export function resolveCommand(fields: string[], cwd: string): Resolved {
  let argv = fields;
  while (argv.length > 1 && (argv[0] === 'sudo' || argv[0] === 'nflab')) argv = argv.slice(1);
  const name = argv[0]!;
  const args = argv.slice(1);
  // `nflab --host NAME CMD...`: a command for another host of the lab
  if (fields[0] !== name && (name === '--host' || name.startsWith('--host='))) return { kind: 'program', argv };
  if (argv.length === 1 && (name === 'sudo' || name === 'nflab')) return { kind: 'notfound', name, reason: 'needs a command to run' };
  if (name.includes('/')) {
    if (INIT_SCRIPT_PATHS.has(name)) return { kind: 'init', args };
    // a daemon's init script: what `service NAME ARGS` runs
    const service = initScriptService(name);
    if (service !== undefined) return { kind: 'program', argv: ['service', service, ...args] };
    if (BIN_DIRS.has(dirname(name)) && isMachineProgram(basename(name))) return { kind: 'program', argv: [basename(name), ...args] };
    if (isHostFile(cwd, name)) return { kind: 'script', path: name, args, source: false };
    return { kind: 'notfound', name, reason: 'No such file or directory' };
  }
  if (isMachineProgram(name)) return { kind: 'program', argv };
  if (BUILTINS.has(name)) return { kind: 'builtin', name, args };
  if ((name === 'sh' || name === 'bash' || name === 'source' || name === '.') && args.length > 0) {
    if (!isHostFile(cwd, args[0]!)) return { kind: 'notfound', name: args[0]!, reason: 'No such file or directory' };
    return { kind: 'script', path: args[0]!, args: args.slice(1), source: name === 'source' || name === '.' };
  }
  return { kind: 'notfound', name, reason: 'command not found' };
}
