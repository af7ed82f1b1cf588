/**
 * The nflab command: global options, then one program of the lab machine
 * (iptables, iptables-save, iptables-restore, ...). `runNflab` is the same
 * entry point in-process, for tests and scripts.
 */
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { basename, resolve } from 'node:path';
import { emptyRuleset, keepHandleCounters, type Ruleset } from '../core/netfilter/ruleset.js';
import { appendKernelLog } from '../core/path/machine.js';
import { createNameDb } from '../core/xt/namedb.js';
import { openForWriteIn, runIptables, runIptablesRestore, runIptablesSave, type ToolResult } from './iptables/tool.js';
import { acquireLock, labDir, labFile, LabDamaged, loadState, readLabFile, saveState, type LabState } from './lab/store.js';
import type { LabContext } from './script/io.js';
import { appendSyslog, machineOf, runConntrackCommand, runDmesg, runIpCommand, runReplay, runSleep, runSysctlCommand, type MachineCall, type MachineResult } from './machine.js';
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
  let i = 0;
  while (i < args.length && args[i]!.startsWith('--lab')) {
    if (args[i] === '--lab') {
      if (args[i + 1] === undefined) return { stdout: '', stderr: 'nflab: --lab requires a directory\n', status: 2 };
      lab ??= args[i + 1];
      i += 2;
    } else {
      lab ??= args[i]!.slice('--lab='.length);
      i += 1;
    }
  }
  const rest = args.slice(i);
  if (rest.length === 0 || rest[0] === '--help' || rest[0] === 'help') {
    return { stdout: USAGE, stderr: '', status: rest.length === 0 ? 2 : 0 };
  }
  const dir = resolve(opts.cwd ?? process.cwd(), labDir(lab));
  const tool = basename(rest[0]!);
  const labCommand = Object.hasOwn(LAB_COMMANDS, tool) ? LAB_COMMANDS[tool] : undefined;
  if (labCommand) {
    const cwd = opts.cwd ?? process.cwd();
    return labCommand(rest.slice(1), {
      lab: dir,
      cwd,
      stdin: opts.stdin,
      write: opts.write,
      exec: (argv, io) => runNflab(argv, { lab: dir, cwd, stdin: io?.stdin, write: io?.write, onMachine: true }),
    });
  }
  const machineCommand = Object.hasOwn(MACHINE_COMMANDS, tool) ? MACHINE_COMMANDS[tool] : undefined;
  if (machineCommand) return machineCommand(rest.slice(1), { lab: dir, cwd: opts.cwd ?? process.cwd(), onMachine: opts.onMachine ?? false });
  if (!TOOLS.has(tool)) return { stdout: '', stderr: `nflab: unknown command '${rest[0]}'\n${USAGE}`, status: 127 };
  return runTool(dir, tool, rest.slice(1), opts);
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
    const state = loadState(lab);
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
      const saved = loadState(lab);
      const rs = v6 ? (saved.ruleset6 ?? emptyRuleset()) : saved.ruleset;
      const kept = keepHandleCounters(rs, r.handles);
      saveState(lab, v6 ? { ...saved, ruleset6: kept } : { ...saved, ruleset: kept });
    }
    if (r.ruleset) {
      const next = v6 ? { ...state, ruleset6: r.ruleset } : { ...state, ruleset: r.ruleset };
      const logged = next.machine?.logged ?? 0;
      forceAccounting(next, r.ruleset);
      saveState(lab, next);
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

/** Whether the command line is a restore that reads its rules from standard input. */
function readsStdin(args: string[]): boolean {
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
