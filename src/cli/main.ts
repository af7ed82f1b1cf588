/**
 * The nflab command: global options, then one program of the lab machine
 * (iptables, iptables-save, iptables-restore, ...). `runNflab` is the same
 * entry point in-process, for tests and scripts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { basename, join, resolve } from 'node:path';
import { emptyRuleset, keepHandleCounters, type Ruleset } from '../core/netfilter/ruleset.js';
import { appendKernelLog } from '../core/path/machine.js';
import { createNameDb } from '../core/xt/namedb.js';
import { openForWriteIn, runIptables, runIptablesRestore, runIptablesSave, type ToolResult } from './iptables/tool.js';
import { acquireLock, hostDir, labDir, labFile, LabDamaged, labRoot, loadState, readLabFile, saveState, worldOf, type LabState } from './lab/store.js';
import { autoloadHelperModule, helpersNamedByRules } from '../core/conntrack/modules.js';
import { closeLab, openLab } from './lab/session.js';
import { DEFAULT_HOST, netnsOfPid, type HostState } from '../core/world/state.js';
import { programByName } from '../core/programs/registry.js';
import { runHost, runModuleCommand, runWire } from './hosts.js';
import { initScriptService } from './script/resolve.js';
import { parseNsenter, type NsenterResult } from './netns.js';
import { runKill, runProgramCommand } from './world-run.js';
import type { LabContext } from './script/io.js';
import { appendSyslog, machineOf, runBridgeCommand, runConntrackCommand, runDmesg, runIpCommand, runReplay, runSleep, runSysctlCommand, type MachineCall, type MachineResult } from './machine.js';
import { runRunCommand } from './script/run.js';
import { runTrace } from './trace.js';
import { runService, runSystemctl } from './service.js';
import { runShell } from './shell.js';

/** Result of one nflab invocation. */
export interface RunResult {
  stdout: string;
  stderr: string;
  status: number;
}

/** Options for an in-process invocation. */
export interface RunOptions {
  /** Lab directory (overrides --lab, $NFLAB_LAB and ./.nflab). */
  lab?: string;
  /** Standard input, for iptables-restore without a file. */
  stdin?: string;
  /** Current directory for relative paths. */
  cwd?: string;
  /**
   * Receives output as it is produced (run, shell, service, systemctl stream
   * through it and then return empty stdout/stderr; other commands ignore it).
   */
  write?: (fd: 1 | 2, text: string) => void;
  /** The command runs on the lab machine (from a script or the shell): absolute paths are the machine's files. */
  onMachine?: boolean;
  /** The network namespace the command runs in ('' or absent: the host's own). */
  netns?: string;
  /** Started with `&` from a script or the shell: the job number it gets. */
  background?: { job: number };
  /** Where a background program's later output goes (machine files or /dev/null), as its command line redirected it. */
  redirect?: { stdout?: string; stderr?: string };
}

const USAGE = `Usage: nflab [--lab DIR] COMMAND [ARGS...]

Commands (run on the lab's machine):
  iptables ARGS...           iptables v1.8.9 (nf_tables)
  iptables-save [-c] [-t T]  dump the rules
  iptables-restore [FILE]    load rules (stdin when no file)
  ip6tables, ip6tables-save, ip6tables-restore
                             the same for the IPv6 rules
  service iptables ACTION    the iptables init script (start, stop, restart, save, status, ...)
  systemctl VERB iptables    the iptables.service unit (start, stop, restart, status, enable, ...)
  ip OBJECT ...              iproute2: link, addr, route, neigh of the machine
  sysctl [-w] KEY[=VALUE]    the machine's network sysctls
  replay FILE [--in IFACE] [--out FILE.pcapng] [-v]
                             feed captured Ethernet frames to the machine
  trace [-i IFACE] -p tcp -s SRC -d DST --dport N --syn ...
                             one packet's journey, as xtables-monitor --trace shows it (changes nothing)
  conntrack -L|-D|-F|-C ...  conntrack-tools on the machine's connection table
  sleep SECONDS              advance the machine's clock
  dmesg [-c|-C]              the machine's kernel log (LOG lines also go to /var/log/messages)
  run FILE [ARGS...]         run a shell-style script of these commands (stops at the first failure)
  shell [-c COMMANDS]        a prompt running these commands (reads stdin when it is not a terminal)

The lab is --lab DIR, else $NFLAB_LAB, else ./.nflab.
`;

/** Lab commands that run other commands (scripts, the shell, the service managers). */
const LAB_COMMANDS: Record<string, (argv: string[], ctx: LabContext) => Promise<RunResult>> = {
  run: runRunCommand,
  shell: runShell,
  service: runService,
  systemctl: runSystemctl,
};

/** Machine programs outside iptables (network, clock, kernel log, packets). */
const MACHINE_COMMANDS: Record<string, (argv: string[], call: MachineCall) => MachineResult> = {
  ip: runIpCommand,
  sysctl: runSysctlCommand,
  dmesg: runDmesg,
  sleep: runSleep,
  replay: runReplay,
  trace: runTrace,
  conntrack: runConntrackCommand,
};

/** Machine programs that operate on the lab's kernel state (the -nft names are the same programs). */
const TOOLS = new Set(
  ['iptables', 'iptables-save', 'iptables-restore', 'ip6tables', 'ip6tables-save', 'ip6tables-restore'].flatMap((t) => [
    t,
    t.replace('tables', 'tables-nft'),
  ]),
);

/** Runs one nflab command line and returns its output and exit status. */
export async function runNflab(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  let lab = opts.lab;
  let host: string | undefined;
  let i = 0;
  while (i < args.length && (args[i]!.startsWith('--lab') || args[i]!.startsWith('--host'))) {
    const a = args[i]!;
    const opt = a.startsWith('--lab') ? 'lab' : 'host';
    let value: string | undefined;
    if (a === '--lab' || a === '--host') {
      value = args[i + 1];
      if (value === undefined) return { stdout: '', stderr: `nflab: --${opt} requires ${opt === 'lab' ? 'a directory' : 'a host name'}\n`, status: 2 };
      i += 2;
    } else if (a.startsWith(`--${opt}=`)) {
      value = a.slice(opt.length + 3);
      i += 1;
    } else break;
    if (opt === 'lab') lab ??= value;
    else host = value;
  }
  const rest = args.slice(i);
  if (rest.length === 0 || rest[0] === '--help' || rest[0] === 'help') {
    return { stdout: USAGE, stderr: '', status: rest.length === 0 ? 2 : 0 };
  }
  const cwd = opts.cwd ?? process.cwd();
  let dir = resolve(cwd, labDir(lab));
  host ??= opts.lab === undefined && lab === undefined ? process.env.NFLAB_HOST : undefined;
  if (host !== undefined) {
    const root = labRoot(dir).root;
    if (host !== DEFAULT_HOST && !existsSync(join(hostDir(root, host), '.host'))) {
      return { stdout: '', stderr: `nflab: no host '${host}' in the lab (nflab host add ${host})\n`, status: 1 };
    }
    dir = hostDir(root, host);
  }
  const netns = opts.netns ?? '';
  // an init script by its path is what `service NAME ...` runs
  const initScript = initScriptService(rest[0]!);
  if (initScript !== undefined) return runNflab(['service', initScript, ...rest.slice(1)], { ...opts, lab: dir, cwd, netns });
  const tool = basename(rest[0]!);
  const labCommand = Object.hasOwn(LAB_COMMANDS, tool) ? LAB_COMMANDS[tool] : undefined;
  if (labCommand) {
    return labCommand(rest.slice(1), {
      lab: dir,
      cwd,
      stdin: opts.stdin,
      write: opts.write,
      netns,
      exec: (argv, io) => runNflab(argv, { lab: dir, cwd, stdin: io?.stdin, write: io?.write, onMachine: true, netns: io?.netns ?? netns, background: io?.background, redirect: io?.redirect }),
    });
  }
  const call = { lab: dir, cwd, onMachine: opts.onMachine ?? false, netns };
  if (tool === 'host') return runHost(rest.slice(1), dir);
  if (tool === 'wire') return runWire(rest.slice(1), dir);
  if (tool === 'ip') {
    const r = runIpCommand(rest.slice(1), call);
    if (r.exec) {
      const sub = await enterNetns(r.exec.netns, r.exec.argv, { ...opts, lab: dir, cwd });
      return { stdout: r.stdout + sub.stdout, stderr: r.stderr + sub.stderr, status: sub.status };
    }
    if (r.execAll) {
      let stdout = r.stdout;
      let stderr = r.stderr;
      for (const ex of r.execAll) {
        const sub = await enterNetns(ex.netns, ex.argv, { ...opts, lab: dir, cwd });
        if (opts.write) {
          // each namespace's banner right before its own output
          opts.write(1, `\nnetns: ${ex.netns}\n`);
          opts.write(1, sub.stdout);
          opts.write(2, sub.stderr);
        } else {
          stdout += `\nnetns: ${ex.netns}\n` + sub.stdout;
          stderr += sub.stderr;
        }
      }
      return { stdout, stderr, status: 0 };
    }
    return r;
  }
  if (tool === 'nsenter') {
    const ex = nsenterCommand(rest.slice(1), dir, netns);
    if (ex.kind === 'done') return { stdout: ex.stdout, stderr: ex.stderr, status: ex.status };
    if (ex.argv.length === 0) return { stdout: '', stderr: 'nsenter: the lab has no interactive shell: give a command (in scripts, nsenter alone enters the namespace until exit)\n', status: 1 };
    return enterNetns(ex.netns, ex.argv, { ...opts, lab: dir, cwd }, 127, (c) => `nsenter: failed to execute ${c}: No such file or directory\n`);
  }
  if (tool === 'bridge') return runBridgeCommand(rest.slice(1), call);
  if (tool === 'modprobe' || tool === 'lsmod' || tool === 'rmmod' || tool === 'insmod') return runModuleCommand(tool, rest.slice(1), dir);
  if (tool === 'kill' || tool === 'pkill' || tool === 'killall') return runKill([tool, ...rest.slice(1)], call, { write: opts.write });
  const machineCommand = Object.hasOwn(MACHINE_COMMANDS, tool) ? MACHINE_COMMANDS[tool] : undefined;
  if (machineCommand) return machineCommand(rest.slice(1), call);
  if (programByName(tool)) return runProgramCommand([tool, ...rest.slice(1)], call, { stdin: opts.stdin, write: opts.write, background: opts.background, redirect: opts.redirect });
  if (!TOOLS.has(tool)) return { stdout: '', stderr: `nflab: unknown command '${rest[0]}'\n${USAGE}`, status: 127 };
  return runTool(dir, tool, rest.slice(1), opts);
}

/**
 * Runs a command inside a network namespace of the host (`ip netns exec`,
 * `nsenter --net`): the namespace must exist; the command is any nflab
 * command.
 */
async function enterNetns(
  netns: string,
  argv: string[],
  opts: RunOptions,
  missingStatus = 1,
  missing: (cmd: string) => string = (c) => `exec of "${c}" failed: No such file or directory\n`,
): Promise<RunResult> {
  const dir = opts.lab!;
  let exists = false;
  try {
    const s = openLab(dir);
    try {
      exists = s.world.hosts[s.host]?.netns[netns] !== undefined;
    } finally {
      closeLab(s, false);
    }
  } catch (e) {
    if (e instanceof LabDamaged) return { stdout: '', stderr: e.message + '\n', status: 1 };
    throw e;
  }
  if (!exists) return { stdout: '', stderr: `Cannot open network namespace "${netns}": No such file or directory\n`, status: 255 };
  let cmd = argv;
  while (cmd.length > 1 && cmd[0] === 'sudo') cmd = cmd.slice(1);
  const name = basename(cmd[0]!);
  if (!isLabCommand(name)) return { stdout: '', stderr: missing(cmd[0]!), status: missingStatus };
  return runNflab(cmd, { ...opts, netns, onMachine: true });
}

/** Whether `name` is a command nflab runs on a lab machine. */
function isLabCommand(name: string): boolean {
  return (
    Object.hasOwn(LAB_COMMANDS, name) ||
    Object.hasOwn(MACHINE_COMMANDS, name) ||
    TOOLS.has(name) ||
    programByName(name) !== undefined ||
    ['ip', 'nsenter', 'bridge', 'kill', 'pkill', 'killall', 'modprobe', 'lsmod', 'rmmod', 'host', 'wire'].includes(name)
  );
}

/** `nsenter ...` parsed against the host's namespaces and processes. */
function nsenterCommand(args: string[], dir: string, current: string): NsenterResult {
  const s = openLab(dir);
  try {
    const host = s.world.hosts[s.host]!;
    return parseNsenter(args, {
      current,
      exists: (name) => host.netns[name] !== undefined && name !== '',
      netnsOfPid: (pid) => netnsOfPid(host, pid),
    });
  } finally {
    closeLab(s, false);
  }
}

/**
 * Runs iptables, iptables-save or iptables-restore (or their ip6tables
 * counterparts, over the IPv6 rule set) as `invoked` (a -nft name is the
 * same program; save and restore print the name they were invoked by).
 */
function runTool(lab: string, invoked: string, argv: string[], opts: RunOptions): RunResult {
  const tool = invoked.replace('-nft', '');
  const v6 = tool.startsWith('ip6tables');
  const release = acquireLock(lab);
  try {
    const state = loadState(lab, opts.netns ?? '');
    const names = createNameDb(readLabFile(lab, '/etc/hosts') ?? '', readLabFile(lab, '/etc/networks'));
    let r: ToolResult;
    const family = v6 ? 'ipv6' : 'ipv4';
    const ruleset = v6 ? (state.ruleset6 ?? emptyRuleset()) : state.ruleset;
    if (tool === 'iptables' || tool === 'ip6tables') {
      r = runIptables(argv, ruleset, names, tool, family);
    } else if (tool.endsWith('-save')) {
      // Inside the lab (scripts, the shell), -f /path names the machine's file.
      const cwd = opts.cwd ?? process.cwd();
      r = runIptablesSave(argv, ruleset, names, new Date(), invoked, (f) =>
        openForWriteIn(cwd)(opts.onMachine && f.startsWith('/') ? labFile(lab, f) : f),
      );
    } else {
      r = runIptablesRestore(argv, ruleset, names, (file) => {
        if (file === undefined) return opts.stdin ?? '';
        // Commands run inside the lab (scripts, the shell) name the machine's files.
        const path = opts.onMachine && file.startsWith('/') ? labFile(lab, file) : resolve(opts.cwd ?? process.cwd(), file);
        try {
          return readFileSync(path, 'utf8');
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          return { error: `Can't open ${file}: ${err.code === 'ENOENT' ? 'No such file or directory' : err.message}\n` };
        }
      }, invoked, family);
    }
    if (!r.ruleset && r.handles) {
      // the command changed the loaded state in place: start again from the saved one
      const saved = loadState(lab, opts.netns ?? '');
      const rs = v6 ? (saved.ruleset6 ?? emptyRuleset()) : saved.ruleset;
      const kept = keepHandleCounters(rs, r.handles);
      saveState(lab, saved, v6 ? { ...saved, ruleset6: kept } : { ...saved, ruleset: kept });
    }
    if (r.ruleset) {
      const next = v6 ? { ...state, ruleset6: r.ruleset } : { ...state, ruleset: r.ruleset };
      const logged = next.machine?.logged ?? 0;
      forceAccounting(next, r.ruleset);
      autoloadHelpers(state, r.ruleset);
      saveState(lab, state, next);
      const m = next.machine;
      if (m && m.logged > logged) appendSyslog(lab, m, m.kmsg.slice(-(m.logged - logged)));
    }
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  } catch (e) {
    if (e instanceof LabDamaged) return { stdout: '', stderr: e.message + '\n', status: 1 };
    throw e;
  } finally {
    release();
  }
}

/**
 * A CT --helper rule makes the kernel load the helper's module
 * (request_module), as `lsmod` then shows.
 */
function autoloadHelpers(view: LabState, rs: Ruleset): void {
  const host = hostOfView(view);
  if (!host) return;
  for (const helper of helpersNamedByRules(rs)) autoloadHelperModule(host, helper);
}

/** The host a namespace view belongs to. */
function hostOfView(view: LabState): HostState | undefined {
  const w = worldOf(view);
  if (!w) return undefined;
  return Object.values(w.world.hosts).find((h) => Object.values(h.netns).includes(view));
}

/**
 * A connbytes rule needs per-connection counters: when one is committed
 * while accounting is off, the kernel switches it on for the namespace
 * (and says so in its log), and it stays on.
 */
function forceAccounting(state: LabState, rs: Ruleset): void {
  const uses = Object.values(rs.tables).some((t) =>
    [...Object.values(t!.builtins), ...t!.user].some((c) => c!.rules.some((r) => r.matches.some((m) => m.name === 'connbytes'))),
  );
  if (!uses) return;
  const m = machineOf(state);
  const key = 'net.netfilter.nf_conntrack_acct';
  if (m.net.sysctl[key] !== undefined && m.net.sysctl[key] !== '0') return;
  m.net.sysctl[key] = '1';
  appendKernelLog(m, 6, 'xt_connbytes: Forcing CT accounting to be enabled');
}

/** Entry point of bin/nflab. */
export async function main(args: string[]): Promise<void> {
  let stdin: string | undefined;
  if (readsStdin(args) && !isatty(0)) stdin = await readAll(process.stdin);
  const r = await runNflab(args, { stdin, write: (fd, text) => void (fd === 1 ? process.stdout : process.stderr).write(text) });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.status;
}

/** Lab programs that read standard input when it is a pipe or a file (data to send, commands). */
const STDIN_PROGRAMS = new Set(['nc', 'ftp', 'run', 'shell']);

/** Whether the command line reads standard input: a restore without a file, or a program fed by a pipe. */
function readsStdin(args: string[]): boolean {
  let k = 0;
  while (k < args.length && /^--(lab|host)$/.test(args[k]!)) k += 2;
  while (k < args.length && /^--(lab|host)=/.test(args[k]!)) k++;
  const prog = args[k] === undefined ? '' : basename(args[k]!);
  if (STDIN_PROGRAMS.has(prog) && !(prog === 'run' && args[k + 1] !== '-') && prog !== 'shell') return true;
  return readsRestoreStdin(args);
}

/** Whether the command line is a restore that reads its rules from standard input. */
function readsRestoreStdin(args: string[]): boolean {
  const i = args.findIndex((a) => /(^|\/)(ip6?tables(-nft)?-restore)$/.test(a));
  if (i < 0) return false;
  const rest = args.slice(i + 1);
  for (let j = 0; j < rest.length; j++) {
    const a = rest[j]!;
    if (a === '-T' || a === '-M' || a === '--table' || a === '--modprobe') j++;
    else if (!a.startsWith('-')) return false;
  }
  return true;
}

/** Reads a whole stream (a pipe may deliver its data late: never a non-blocking read). */
async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
