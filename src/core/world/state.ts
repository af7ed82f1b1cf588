/**
 * The persistent state of a whole lab: its hosts (separate machines, each
 * with its own files, kernel log and network namespaces), and the wires
 * joining their interfaces. Everything is plain JSON.
 *
 * A host's namespaces share its kernel (modules, the kernel log, the clock)
 * but each has its own network, rules, connection table and processes,
 * exactly as `ip netns add` gives on Linux.
 */
import { emptyRuleset, type Ruleset } from '../netfilter/ruleset.js';
import type { MachineState } from '../path/machine.js';

/** The name of the lab's first host, whose files live in <lab>/fs. */
export const DEFAULT_HOST = 'main';

/** The key of a host's initial network namespace in `HostState.netns`. */
export const INIT_NETNS = '';

/** Where a command runs: a host and one of its network namespaces. */
export interface NsRef {
  /** Host name (a key of `WorldState.hosts`). */
  host: string;
  /** Namespace name as `ip netns` knows it; INIT_NETNS for the host's own. */
  netns: string;
}

/** A program left running in the background (a daemon, `nc -l`, `tcpdump ... &`). */
export interface ProcState {
  /** Process id, unique in the host. */
  pid: number;
  /** Program name (argv[0] without its directory). */
  program: string;
  argv: string[];
  /** The service unit that started it, if any (sshd, vsftpd, ...). */
  unit?: string;
  /** Virtual time it started, ns since boot. */
  startedNs: number;
  /** Shell job number when it was started with `&` from a script or the shell. */
  job?: number;
  /** What the program keeps between invocations (its own JSON). */
  saved?: unknown;
  /** Where its standard output goes (a machine file, or /dev/null) when it was redirected; else the terminal. */
  stdout?: string;
  /** Where its standard error goes, likewise. */
  stderr?: string;
}

/** The state of one network namespace: rules, kernel network state, processes. */
export interface NsState {
  /** The IPv4 rule set. */
  ruleset: Ruleset;
  /** The IPv6 rule set (ip6tables); absent when never used. */
  ruleset6?: Ruleset;
  /** Kernel state besides the rules (network, clock, conntrack, logs); absent until first used. */
  machine?: MachineState;
  /** Background programs running in this namespace. */
  procs?: ProcState[];
}

/** A loaded kernel module and the parameters it was loaded with. */
export interface ModuleState {
  name: string;
  /** Parameters as `name=value` given to modprobe. */
  params: Record<string, string>;
}

/** One machine of the lab. */
export interface HostState {
  /** Network namespaces by name; INIT_NETNS is the host's own. */
  netns: Record<string, NsState>;
  /** Names of the named namespaces in creation order (`ip netns list` shows them newest first). */
  netnsOrder?: string[];
  /** Modules loaded with modprobe (besides what is built in). */
  modules?: ModuleState[];
  /** Service units: enabled at boot, and state kept by the unit (systemctl). */
  units?: Record<string, { enabled?: boolean; active?: boolean; since?: number; data?: unknown }>;
  /** The next process id. */
  nextPid?: number;
}

/** One end of a wire: an interface of a namespace of a host. */
export interface WireEnd {
  host: string;
  netns: string;
  /** Interface index in that namespace. */
  ifindex: number;
}

/** A cable or a switched segment joining interfaces of different hosts. */
export interface WireState {
  /** The wire's name (`nflab wire` lists it). */
  name: string;
  /** Two ends for a cable; more for a switch. */
  ends: WireEnd[];
}

/** Everything a lab holds. */
export interface WorldState {
  /** Hosts by name; DEFAULT_HOST always exists. */
  hosts: Record<string, HostState>;
  /** Wires between hosts. */
  wires: WireState[];
}

/** A namespace with no rules and a machine not yet booted. */
export function newNsState(): NsState {
  return { ruleset: emptyRuleset() };
}

/** A new host with its initial namespace. */
export function newHostState(): HostState {
  return { netns: { [INIT_NETNS]: newNsState() } };
}

/** A new lab: the default host only. */
export function newWorldState(): WorldState {
  return { hosts: { [DEFAULT_HOST]: newHostState() }, wires: [] };
}

/** The namespace of the host a background program runs in (pid 1, init, in the host's own), or undefined. */
export function netnsOfPid(host: HostState, pid: number): string | undefined {
  if (pid === 1) return INIT_NETNS;
  for (const [name, ns] of Object.entries(host.netns)) if (ns.procs?.some((p) => p.pid === pid)) return name;
  return undefined;
}

/** The namespace a reference names, or undefined when the host or namespace does not exist. */
export function nsOf(world: WorldState, ref: NsRef): NsState | undefined {
  return world.hosts[ref.host]?.netns[ref.netns];
}

/** Every namespace of the lab with its reference, hosts in creation order. */
export function allNamespaces(world: WorldState): { ref: NsRef; ns: NsState }[] {
  const out: { ref: NsRef; ns: NsState }[] = [];
  for (const [host, h] of Object.entries(world.hosts)) {
    for (const [netns, ns] of Object.entries(h.netns)) out.push({ ref: { host, netns }, ns });
  }
  return out;
}

/** How many MAC addresses each namespace's counter may hand out before it meets the next one's. */
export const MAC_BLOCK = 4096;

/**
 * A fresh block of the deterministic MAC address counter for a new
 * namespace or host: every namespace of the lab counts in its own block,
 * so two links never get the same address (the kernel picks random ones).
 */
export function freshMacBlock(world: WorldState): number {
  let top = 0;
  for (const { ns } of allNamespaces(world)) {
    const c = ns.machine?.net.macCounter ?? 0;
    top = Math.max(top, Math.floor(c / MAC_BLOCK) + 1);
  }
  return top * MAC_BLOCK;
}

/**
 * Whether LOG lines of a host's other namespaces reach its kernel log: the
 * host's own namespace has net.netfilter.nf_log_all_netns set to anything
 * but 0 (a fresh namespace has no such key).
 */
export function logsAllNamespaces(hostNet: { sysctl: Record<string, string> }): boolean {
  const v = hostNet.sysctl['net.netfilter.nf_log_all_netns'];
  return v !== undefined && Number(v) !== 0;
}
