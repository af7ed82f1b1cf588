/**
 * nflab's side of the packet benchmark: the firewall machine built with nflab's own `ip`,
 * `sysctl` and `iptables-restore`, and the capture replayed through the in-process `Machine`.
 */
import { iptablesRestore, parseRestoreArgs } from '../src/cli/iptables/restore.js';
import { saveTable } from '../src/cli/iptables/save.js';
import '../src/core/xt/all.js';
import { runIp } from '../src/cli/ip/index.js';
import { runSysctl } from '../src/cli/sysctl.js';
import { Machine, newMachineState, type MachineState } from '../src/core/path/machine.js';
import { emptyRuleset, type Ruleset } from '../src/core/netfilter/ruleset.js';
import { createNameDb } from '../src/core/xt/namedb.js';
import { captureFrames, FW_MAC_TEXT } from './packets-capture.js';

/** Conntrack timeouts both sides raise to an hour (see firewallCommands). */
const CT_TIMEOUTS = ['nf_conntrack_udp_timeout', 'nf_conntrack_udp_timeout_stream', 'nf_conntrack_icmp_timeout', 'nf_conntrack_tcp_timeout_time_wait'];

/**
 * The firewall's network, as commands of ip(8) and sysctl(8): eth0, the capture's port (a veth,
 * 10.0.0.1/24, the MAC every frame is sent to), and eth1, where the default route sends
 * everything: a veth whose peer p1 stays down, so the driver drops what eth1 sends (the
 * kernel here has no dummy devices), through a permanent neighbour (no ARP). Forwarding on,
 * reverse-path filtering off (both directions of every flow arrive on eth0). `peerNetns` names
 * the namespace of eth0's peer p0 on the kernel side; nflab keeps p0 in the same machine.
 */
export function firewallCommands(peerNetns: string | null): string[][] {
  return [
    ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'p0', ...(peerNetns ? ['netns', peerNetns] : [])],
    ['ip', 'link', 'set', 'dev', 'eth0', 'address', FW_MAC_TEXT],
    ['ip', 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'p1'],
    ['ip', 'link', 'set', 'dev', 'eth1', 'address', '02:00:00:00:00:02'],
    ['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0'],
    ['ip', 'addr', 'add', '10.255.0.1/30', 'dev', 'eth1'],
    ['ip', 'link', 'set', 'dev', 'lo', 'up'],
    ['ip', 'link', 'set', 'dev', 'eth0', 'up'],
    ['ip', 'link', 'set', 'dev', 'eth1', 'up'],
    ['ip', 'neigh', 'add', '10.255.0.2', 'lladdr', '02:00:00:00:00:03', 'dev', 'eth1', 'nud', 'permanent'],
    ['ip', 'route', 'add', 'default', 'via', '10.255.0.2', 'dev', 'eth1'],
    ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1'],
    ['sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=0'],
    ['sysctl', '-q', '-w', 'net.ipv4.conf.default.rp_filter=0'],
    ['sysctl', '-q', '-w', 'net.ipv4.conf.eth0.rp_filter=0'],
    // the kernel's connection timers run on the real clock: a slow replay (10,000 rules) lasts
    // longer than the 30 s UDP and ICMP timeouts, so both sides keep connections for an hour
    ...CT_TIMEOUTS.map((k) => ['sysctl', '-q', '-w', `net.netfilter.${k}=3600`]),
  ];
}

/** Boot time of the benchmark machine (fixed: the logs and timers do not depend on today). */
const BOOT_WALL = 1700000000;

/** A freshly booted nflab machine with the firewall's network. */
export function firewallState(): MachineState {
  const state = newMachineState(BOOT_WALL);
  const run = (argv: string[]): void => {
    const r = argv[0] === 'ip' ? runIp(argv.slice(1), state.net) : runSysctl(argv.slice(1), state.net);
    if (r.status !== 0) throw new Error(`nflab ${argv.join(' ')}: ${r.stderr.trim()}`);
    if (r.net) state.net = r.net;
  };
  for (const argv of firewallCommands(null)) run(argv);
  // eth0's peer is up on the kernel side (in its own namespace): here it is in the machine
  run(['ip', 'link', 'set', 'dev', 'p0', 'up']);
  return state;
}

/** The rule set of an iptables-restore input, through nflab's iptables-restore. */
export function loadRuleset(text: string): Ruleset {
  const opts = parseRestoreArgs([], 'iptables-restore');
  if ('status' in opts) throw new Error(opts.stderr);
  const r = iptablesRestore(emptyRuleset(), text, opts, createNameDb(), 'iptables-restore');
  if (r.status !== 0) throw new Error(`nflab iptables-restore: ${r.stderr.trim()}`);
  return r.ruleset;
}

/** The filter table with counters, as `iptables-save -c -t filter` prints it, without its comment lines. */
export function filterWithCounters(rs: Ruleset): string {
  return stripSaveComments(saveTable(rs, 'filter', true, createNameDb(), new Date(0), 'iptables-save'));
}

/** iptables-save output without its dated comment lines. */
export function stripSaveComments(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

/** The outcome of one replay through the in-process machine. */
export interface NflabRun {
  /** Wall-clock seconds of the replay loop. */
  secs: number;
  /** CPU seconds the process used meanwhile (the collector's threads included). */
  cpuSecs: number;
  /** Packets per second. */
  pps: number;
  /** The filter table with counters afterwards (iptables-save -c form, comments removed). */
  counters: string;
  /** Connections in the table afterwards. */
  conntrack: number;
  /** Frames the machine sent (forwarded out of eth1). */
  sent: number;
  /** Packets that left through each interface, by the machine's link counters. */
  txPackets: Record<string, number>;
}

/** Work to do right before and right after the timed loop (a profiler, for instance). */
export interface ReplayHooks {
  before?: () => void;
  after?: () => void;
}

/**
 * Replays the capture (a pcap file's bytes) through a fresh machine with the rule set: each
 * frame received on eth0, the clock moved to its timestamp first. The machine rewrites frames
 * in place (TTL, NAT), so each replay works on its own copy of the capture, made before the
 * clock starts. Only the loop is timed. Frames the machine sends are counted and let go (a long
 * replay would otherwise keep every one).
 */
export function replayInProcess(rulesText: string, pcap: Uint8Array, hooks: ReplayHooks = {}): NflabRun {
  const cap = captureFrames(pcap.slice());
  const state = firewallState();
  const ruleset = loadRuleset(rulesText);
  const machine = new Machine(state, ruleset);
  const frames = cap.frames;
  const us = cap.us;
  const n = frames.length;
  const sent = machine.sent;
  let sentTotal = 0;
  let prev = 0;
  hooks.before?.();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = us[i]!;
    if (t > prev) {
      machine.advance((t - prev) * 1000);
      prev = t;
    }
    machine.receive('eth0', frames[i]!);
    if (sent.length >= 1024) {
      sentTotal += sent.length;
      sent.length = 0;
    }
  }
  const secs = (performance.now() - t0) / 1000;
  const c1 = process.cpuUsage(c0);
  hooks.after?.();
  sentTotal += sent.length;
  sent.length = 0;
  machine.save();
  const txPackets: Record<string, number> = {};
  for (const l of machine.net.links) txPackets[l.name] = l.txPackets;
  return { secs, cpuSecs: (c1.user + c1.system) / 1e6, pps: n / secs, counters: filterWithCounters(ruleset), conntrack: machine.conntrack.count(), sent: sentTotal, txPackets };
}
