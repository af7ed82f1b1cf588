/**
 * The lab machine's kernel outside iptables: the network (`ip`, `sysctl`),
 * the kernel log (`dmesg`, /var/log/messages), the clock (`sleep`) and the
 * packet path (`replay`). Each command loads the lab state under its lock,
 * runs, and saves what changed.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { formatDmesgLine, formatSyslogLine, type KernelLogLine } from '../core/path/kmsg.js';
import { appendKernelLog, Machine, newMachineState, type MachineOptions, type MachineState } from '../core/path/machine.js';
import { moduleParam } from '../core/conntrack/modules.js';
import type { HostState } from '../core/world/state.js';
import { UnsupportedInPath } from '../core/netfilter/traverse.js';
import { CaptureError, type PacketToWrite } from '../core/wire/pcap.js';
import { readCapture, writePcapng } from '../core/wire/pcapng.js';
import { conntrackFromJson, conntrackToJson, type ConntrackJson } from '../core/conntrack/table.js';
import { natForgetMasqueraded } from '../core/conntrack/nat-masq.js';
import type { Ruleset } from '../core/netfilter/ruleset.js';
import type { NetState } from '../core/net/index.js';
import { runConntrack } from './conntrack.js';
import { runIp } from './ip/index.js';
import { runBridge } from './ip/bridge.js';
import { labFile, LabDamaged, type LabState } from './lab/store.js';
import { withSession, type LabSession } from './lab/session.js';
import { freshMacBlock, INIT_NETNS, logsAllNamespaces, MAC_BLOCK, netnsOfPid, newNsState } from '../core/world/state.js';
import type { NetnsDirectory } from '../core/net/netns.js';
import type { NetnsExec } from './ip/index.js';
import { runInWorld } from './world-run.js';
import { runSysctl } from './sysctl.js';

/** What a machine command returns. */
export interface MachineResult {
  stdout: string;
  stderr: string;
  status: number;
}

/** Where a machine command runs. */
export interface MachineCall {
  /** The host's directory in the lab (the lab itself for its first host). */
  lab: string;
  /** The network namespace ('' is the host's own). */
  netns: string;
  /** Current directory for relative host paths. */
  cwd: string;
  /** Paths are the lab machine's own files (inside scripts and the shell). */
  onMachine: boolean;
}

/**
 * The wall clock a new lab's machine boots at: $NFLAB_EPOCH (seconds) when
 * set, for reproducible logs, else now.
 */
function bootTime(): number {
  const e = process.env.NFLAB_EPOCH;
  if (e !== undefined && /^\d+$/.test(e)) return Number(e);
  return Math.floor(Date.now() / 1000);
}

/** The machine state of a lab, created on first use. */
export function machineOf(state: LabState): MachineState {
  state.machine ??= newMachineState(bootTime());
  return state.machine;
}

/**
 * Runs `fn` on the state of the namespace `netns` of the lab host `lab`
 * under the lab's lock, and saves the lab when `fn` says it changed; kernel
 * log lines written meanwhile are appended to the hosts' /var/log/messages.
 */
export function withLab(lab: string, fn: (state: LabState, opts: MachineOptions, host: HostState) => { result: MachineResult; changed: boolean }, netns = INIT_NETNS): MachineResult {
  return withSession(lab, (session) => {
    const host = session.world.hosts[session.host]!;
    const state = host.netns[netns];
    if (!state) return { result: noNamespace(netns), changed: false };
    return fn(state, namespaceMachineOptions(host, netns), host);
  });
}

/** What a command in a namespace that does not exist prints. */
function noNamespace(netns: string): MachineResult {
  return { stdout: '', stderr: `Cannot open network namespace "${netns}": No such file or directory\n`, status: 1 };
}

export { appendSyslog } from './lab/session.js';

/**
 * How a machine of namespace `netns` of a host runs, as the lab's world
 * runs it: with the host's module parameters, and (outside the host's own
 * namespace) writing to the host's kernel log, LOG lines only when the
 * host's nf_log_all_netns is set.
 */
export function namespaceMachineOptions(host: HostState, netns: string): MachineOptions {
  const opts: MachineOptions = { moduleParam: (module, param) => moduleParam(host, module, param) };
  if (netns !== INIT_NETNS) {
    const hostState = (): MachineState => machineOf(host.netns[INIT_NETNS]!);
    opts.printk = (level, text) => appendKernelLog(hostState(), level, text);
    opts.logPacket = (level, text) => {
      if (logsAllNamespaces(hostState().net)) appendKernelLog(hostState(), level, text);
    };
  }
  return opts;
}

/** withLab in the call's host and namespace. */
export function withLabAt(call: MachineCall, fn: (state: LabState, opts: MachineOptions, host: HostState) => { result: MachineResult; changed: boolean }): MachineResult {
  return withLab(call.lab, fn, call.netns);
}

/** What `ip` returns: its output, and the command(s) `ip netns exec` asks to run. */
export interface IpCommandResult extends MachineResult {
  exec?: NetnsExec;
  execAll?: NetnsExec[];
}

/** `ip ARGS`: iproute2 on the network of the call's namespace, reaching the host's other namespaces. */
export function runIpCommand(argv: string[], call: MachineCall): IpCommandResult {
  return withSession(call.lab, (session) => {
    let changed = false;
    const state = session.world.hosts[session.host]!.netns[call.netns];
    if (!state) return { result: noNamespace(call.netns), changed };
    const fresh = state.machine === undefined;
    const m = machineOf(state);
    const r = runIp(argv, m.net, netnsDirectory(session, call.netns, () => (changed = true)));
    if (r.net) {
      if (hasMasquerade(state.ruleset)) forgetMasqueraded(m, m.net, r.net);
      m.net = r.net;
      changed = true;
    }
    const out: IpCommandResult = { stdout: r.stdout, stderr: r.stderr, status: r.status };
    if (r.exec) out.exec = r.exec;
    if (r.execAll) out.execAll = r.execAll;
    return { result: out, changed: changed || fresh };
  });
}

/** `bridge ARGS`: iproute2's bridge tool on the call's namespace. */
export function runBridgeCommand(argv: string[], call: MachineCall): MachineResult {
  return withSession(call.lab, (session) => {
    let changed = false;
    const state = session.world.hosts[session.host]!.netns[call.netns];
    if (!state) return { result: noNamespace(call.netns), changed };
    const m = machineOf(state);
    const r = runBridge(argv, m.net, netnsDirectory(session, call.netns, () => (changed = true)));
    if (r.net) {
      m.net = r.net;
      changed = true;
    }
    return { result: { stdout: r.stdout, stderr: r.stderr, status: r.status }, changed };
  });
}

/** The host's namespaces as `ip` reaches them (`ip netns`, `ip -n`, moving links). */
function netnsDirectory(s: LabSession, current: string, touched: () => void): NetnsDirectory {
  const host = s.world.hosts[s.host]!;
  const hostMachine = (): MachineState => machineOf(host.netns[INIT_NETNS]!);
  // creation order (object keys would put names that look like numbers first)
  const order = (): string[] => {
    host.netnsOrder = (host.netnsOrder ?? Object.keys(host.netns)).filter((n) => n !== INIT_NETNS && host.netns[n]);
    return host.netnsOrder;
  };
  return {
    current,
    names: () => [...order()],
    moved: (from, fromIndex, to, toIndex) => {
      // a wired card that changes namespace takes its wire along
      for (const w of s.world.wires) {
        for (const e of w.ends) {
          if (e.host === s.host && e.netns === from && e.ifindex === fromIndex) {
            e.netns = to;
            e.ifindex = toIndex;
          }
        }
      }
      touched();
    },
    get: (name) => {
      const ns = host.netns[name];
      if (!ns) return undefined;
      return (ns.machine ?? newNsMachine(hostMachine())).net;
    },
    set: (name, net) => {
      const ns = host.netns[name];
      if (!ns) return;
      ns.machine ??= newNsMachine(hostMachine());
      if (hasMasquerade(ns.ruleset)) forgetMasqueraded(ns.machine, ns.machine.net, net);
      ns.machine.net = net;
      touched();
    },
    create: (name, net) => {
      const ns = newNsState();
      ns.machine = newNsMachine(hostMachine());
      ns.machine.net = net;
      if (net.macCounter < MAC_BLOCK) net.macCounter = freshMacBlock(s.world) + net.macCounter;
      host.netns[name] = ns;
      host.netnsOrder = [...order(), name];
      touched();
    },
    remove: (name) => {
      delete host.netns[name];
      host.netnsOrder = order().filter((n) => n !== name);
      s.world.wires = s.world.wires.filter((w) => !w.ends.some((e) => e.host === s.host && e.netns === name));
      touched();
    },
    netnsOfPid: (pid) => netnsOfPid(host, pid),
    pids: (name) => (host.netns[name]?.procs ?? []).map((p) => p.pid).sort((a, b) => a - b),
  };
}

/** A new namespace's kernel state: it shares the host's boot time and clock. */
function newNsMachine(host: MachineState): MachineState {
  const m = newMachineState(host.bootWall);
  m.clockNs = host.clockNs;
  return m;
}

function hasMasquerade(rs: Ruleset): boolean {
  const nat = rs.tables.nat;
  if (!nat) return false;
  return [...Object.values(nat.builtins), ...nat.user].some((c) => c!.rules.some((r) => r.target.kind === 'ext' && r.target.name === 'MASQUERADE'));
}

/**
 * While a MASQUERADE rule exists the kernel watches the network: the
 * connections masqueraded through a link that goes down, or to an
 * address that goes away, are removed from the conntrack table.
 */
function forgetMasqueraded(m: MachineState, before: NetState, after: NetState): void {
  const table = conntrackFromJson(m.conntrack as ConntrackJson | undefined, () => m.clockNs);
  const env = { random32: () => 0, conntrack: table };
  let n = 0;
  for (const old of before.links) {
    const now = after.links.find((l) => l.index === old.index);
    if (old.up && (!now || !now.up)) n += natForgetMasqueraded(env, old.name);
    for (const a of old.inet) {
      if (!now || !now.inet.some((b) => b.local === a.local)) n += natForgetMasqueraded(env, old.name, a.local);
    }
  }
  if (n) m.conntrack = conntrackToJson(table);
}

/** `sysctl ARGS`: procps' sysctl on the machine's /proc/sys/net. */
export function runSysctlCommand(argv: string[], call: MachineCall): MachineResult {
  return withLabAt(call, (state) => {
    const fresh = state.machine === undefined;
    const m = machineOf(state);
    // only the host's own namespace has nf_log_all_netns; the lab's first host otherwise lists
    // the sysctls of a fresh namespace, so the key appears once a command names it
    const key = 'net.netfilter.nf_log_all_netns';
    const named = call.netns === INIT_NETNS && m.net.sysctl[key] === undefined && argv.some((a) => a.replace(/\//g, '.').includes(key));
    if (named) m.net.sysctl[key] = '0';
    const r = runSysctl(argv, m.net, (path) => readMachineFile(call, path));
    if (r.net) m.net = r.net;
    return { result: r, changed: r.net !== undefined || fresh || named };
  });
}

/** A file named on a command line: the machine's own inside the lab, else the host's. */
function readMachineFile(call: MachineCall, path: string): string | undefined {
  try {
    return readFileSync(call.onMachine && path.startsWith('/') ? labFile(call.lab, path) : resolve(call.cwd, path), 'utf8');
  } catch {
    return undefined;
  }
}

/** `conntrack ARGS`: conntrack-tools on the machine's connection tracking table. */
export function runConntrackCommand(argv: string[], call: MachineCall): MachineResult {
  return withLabAt(call, (state) => {
    const m = machineOf(state);
    const table = conntrackFromJson(m.conntrack as ConntrackJson | undefined, () => m.clockNs);
    const r = runConntrack(argv, table, m.clockNs, { wallSec: m.bootWall + m.clockNs / 1e9 });
    if (r.changed) m.conntrack = conntrackToJson(table);
    return { result: r, changed: r.changed };
  });
}

/** `dmesg [-c|-C]`: the machine's kernel log. */
export function runDmesg(argv: string[], call: MachineCall): MachineResult {
  let clear = false;
  let print = true;
  for (const a of argv) {
    if (a === '-c' || a === '--read-clear') clear = true;
    else if (a === '-C' || a === '--clear') {
      clear = true;
      print = false;
    } else return { stdout: '', stderr: `dmesg: invalid option -- '${a.replace(/^-+/, '')}'\nTry 'dmesg --help' for more information.\n`, status: 1 };
  }
  return withLabAt(call, (state) => {
    const m = machineOf(state);
    const out = print ? m.kmsg.map(formatDmesgLine).join('') : '';
    if (clear) m.kmsg = [];
    return { result: { stdout: out, stderr: '', status: 0 }, changed: clear };
  });
}

/** `sleep SECONDS`: the machine's clock moves on (timeouts expire, rate limits refill). */
export function runSleep(argv: string[], call: MachineCall): MachineResult {
  if (argv.length === 0) return { stdout: '', stderr: "sleep: missing operand\nTry 'sleep --help' for more information.\n", status: 1 };
  let total = 0;
  for (const a of argv) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$/.exec(a);
    if (!m) return { stdout: '', stderr: `sleep: invalid time interval '${a}'\nTry 'sleep --help' for more information.\n`, status: 1 };
    total += Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  }
  return runInWorld(call, (world) => {
    world.sleep(Math.round(total * 1e9));
    return 0;
  });
}

const REPLAY_USAGE = 'Usage: nflab replay FILE.pcap|FILE.pcapng [--in IFACE] [--out FILE.pcapng] [-v]\n';

/**
 * `replay FILE [--in IFACE] [--out FILE.pcapng] [-v]`: feeds the capture's
 * Ethernet frames to the machine as if received on IFACE (or, for pcapng
 * files, on the interface each packet names); the capture's timestamps
 * move the clock, starting from the machine's present. `--out` writes
 * every frame the machine transmitted, with its interface.
 */
export function runReplay(argv: string[], call: MachineCall): MachineResult {
  let file: string | undefined;
  let inIface: string | undefined;
  let outFile: string | undefined;
  let verbose = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--in' || a === '-i') inIface = argv[++i];
    else if (a === '--out' || a === '-w') outFile = argv[++i];
    else if (a === '-v' || a === '--verbose') verbose = true;
    else if (a.startsWith('-') || file !== undefined) return { stdout: '', stderr: REPLAY_USAGE, status: 2 };
    else file = a;
  }
  if (file === undefined || (argv.includes('--in') && !inIface) || (argv.includes('--out') && !outFile)) return { stdout: '', stderr: REPLAY_USAGE, status: 2 };
  const path = call.onMachine && file.startsWith('/') ? labFile(call.lab, file) : resolve(call.cwd, file);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    return { stdout: '', stderr: `nflab replay: cannot read ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}\n`, status: 1 };
  }
  let capture;
  try {
    capture = readCapture(bytes);
  } catch (e) {
    if (e instanceof CaptureError) return { stdout: '', stderr: `nflab replay: ${file}: ${e.message}\n`, status: 1 };
    throw e;
  }
  for (const p of capture.packets) {
    if (p.linkType !== 1) return { stdout: '', stderr: `nflab replay: ${file}: only Ethernet captures can be replayed (link type ${p.linkType})\n`, status: 1 };
    if (!inIface && !p.ifName) return { stdout: '', stderr: `nflab replay: ${file} does not name the interfaces: give --in IFACE\n`, status: 2 };
  }
  return withLabAt(call, (state, machineOpts) => {
    const m = machineOf(state);
    for (const p of capture.packets) {
      const dev = inIface ?? p.ifName!;
      if (!m.net.links.some((l) => l.name === dev))
        return { result: { stdout: '', stderr: `nflab replay: Cannot find device "${dev}"\n`, status: 1 }, changed: false };
    }
    let machine: Machine;
    const fates: string[] = [];
    try {
      machine = new Machine(m, state.ruleset, verbose ? { ...machineOpts, listener: (e) => e.kind === 'fate' && fates.push(describeFate(e.fate)) } : machineOpts);
    } catch (e) {
      if (e instanceof UnsupportedInPath) return { result: { stdout: '', stderr: `nflab replay: ${e.message}\n`, status: 1 }, changed: false };
      throw e;
    }
    const t0 = capture.packets.length ? capture.packets[0]!.tsSec * 1e9 + capture.packets[0]!.tsNsec : 0;
    const start = m.clockNs;
    let out = '';
    for (const p of capture.packets) {
      machine.advanceTo(start + (p.tsSec * 1e9 + p.tsNsec - t0));
      const first = fates.length;
      machine.receive(inIface ?? p.ifName!, p.data);
      if (verbose) out += `${inIface ?? p.ifName}: ${fates.slice(first).join('; ')}\n`;
    }
    machine.save();
    if (outFile) {
      const packets: PacketToWrite[] = machine.sent.map((f) => {
        // seconds and nanoseconds apart: epoch nanoseconds do not fit a double exactly
        const ns = Math.round(f.ns);
        return { tsSec: m.bootWall + Math.floor(ns / 1e9), tsNsec: ns % 1e9, data: f.frame, ifName: f.iface };
      });
      const target = call.onMachine && outFile.startsWith('/') ? labFile(call.lab, outFile) : resolve(call.cwd, outFile);
      writeFileSync(target, writePcapng(packets));
    }
    const n = capture.packets.length;
    out += `replayed ${n} frame${n === 1 ? '' : 's'}; the machine sent ${machine.sent.length} frame${machine.sent.length === 1 ? '' : 's'}\n`;
    return { result: { stdout: out, stderr: '', status: 0 }, changed: true };
  });
}

/** A packet's fate in words. */
export function describeFate(f: import('../core/path/events.js').Fate): string {
  switch (f.what) {
    case 'delivered':
      return `delivered (${f.to})`;
    case 'forwarded':
      return `forwarded out of ${f.out}`;
    case 'sent':
      return `sent out of ${f.out}`;
    case 'dropped':
      return `dropped: ${f.by}`;
    case 'queued':
      return `held: ${f.why}`;
    case 'stolen':
      return `taken by ${f.by}`;
  }
}
