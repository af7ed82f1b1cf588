/**
 * The kernel's side of the packet benchmark: the same firewall in a network namespace, eth0
 * being one end of a veth pair whose other end (p0) lies in a second namespace, from which
 * tcpreplay sends the capture at top speed. Both namespaces are fresh for each replay (an empty
 * conntrack table, zero counters) and deleted afterwards.
 */
import { spawnSync } from 'node:child_process';
import { createNetns, deleteNetns, runIn } from './measure.js';
import { firewallCommands, stripSaveComments } from './packets-nflab.js';

/** The outcome of one replay into the kernel. */
export interface KernelRun {
  /** Seconds tcpreplay took to send every packet (each is forwarded before its send returns, see below). */
  secs: number;
  /** Packets tcpreplay sent, by its own count. */
  sent: number;
  /** Packets per second: sent / secs. */
  pps: number;
  /** The filter table with counters afterwards (iptables-save -c form, comments removed); '' without rules. */
  counters: string;
  /** Connections in the namespace's table afterwards. */
  conntrack: number;
  /** eth0's receive counters: packets, and packets the backlog dropped. */
  rxPackets: number;
  rxDropped: number;
  /** Packets forwarded to eth1, which its veth driver dropped (its peer is down). */
  txDroppedEth1: number;
  /** CPU seconds tcpreplay's process used (user, system; softirq work done in its context counts as system). */
  userSecs: number;
  sysSecs: number;
}

function must(netns: string, argv: string[], input?: string): string {
  const r = runIn(netns, argv, input);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} in ${netns} failed (${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Interface counters from `ip -s link show DEV`: rx packets and drops, tx packets and drops. */
function linkCounters(netns: string, dev: string): { rx: number; rxDropped: number; tx: number; txDropped: number } {
  const lines = must(netns, ['ip', '-s', 'link', 'show', 'dev', dev]).split('\n').map((l) => l.trim());
  const rxAt = lines.findIndex((l) => l.startsWith('RX:'));
  const txAt = lines.findIndex((l) => l.startsWith('TX:'));
  const rx = (lines[rxAt + 1] ?? '').split(/\s+/).map(Number);
  const tx = (lines[txAt + 1] ?? '').split(/\s+/).map(Number);
  return { rx: rx[1] ?? NaN, rxDropped: rx[3] ?? NaN, tx: tx[1] ?? NaN, txDropped: tx[3] ?? NaN };
}

/** Whether the tools the kernel side needs are here and usable (root, ip netns, iptables, tcpreplay, taskset). */
export function kernelSideAvailable(): string | null {
  if (process.getuid?.() !== 0) return 'not root';
  for (const cmd of ['ip', 'iptables-restore', 'tcpreplay', 'taskset']) {
    if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) return `${cmd} is not installed`;
  }
  return null;
}

/**
 * Replays `pcapFile` into a fresh firewall namespace loaded with `rulesText` (no rules at all,
 * hence no connection tracking, when null): `tcpreplay --topspeed --preload-pcap -i p0` from the
 * peer namespace, pinned to `cpu`. A veth transmit hands the frame to the peer's backlog and the
 * softirq that follows, when the sender re-enables bottom halves on its way out of the send,
 * runs the whole receive path (ip_rcv, conntrack, FORWARD, the dummy's transmit) on the same
 * CPU, so tcpreplay's sending time is the time the kernel took to forward the capture.
 */
export function kernelReplay(rulesText: string | null, pcapFile: string, cpu: number): KernelRun {
  const peer = createNetns();
  const fw = createNetns();
  try {
    for (const ns of [peer, fw]) {
      must(ns, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    for (const argv of firewallCommands(peer)) must(fw, argv);
    must(peer, ['ip', 'link', 'set', 'dev', 'lo', 'up']);
    must(peer, ['ip', 'link', 'set', 'dev', 'p0', 'up']);
    if (rulesText !== null) must(fw, ['iptables-restore'], rulesText);
    const timeFile = `${pcapFile}.time`;
    const r = runIn(peer, ['/usr/bin/time', '-f', '%U %S', '-o', timeFile, 'taskset', '-c', String(cpu), 'tcpreplay', '--topspeed', '--preload-pcap', '-i', 'p0', pcapFile]);
    if (r.status !== 0) throw new Error(`tcpreplay failed (${r.status}): ${r.stderr.trim()}`);
    const out = r.stdout + r.stderr;
    const m = /Actual: (\d+) packets \((\d+) bytes\) sent in ([\d.]+) seconds/.exec(out);
    if (!m) throw new Error(`cannot read tcpreplay's output:\n${out}`);
    const sent = Number(m[1]);
    const secs = Number(m[3]);
    const [user = NaN, sys = NaN] = spawnSync('cat', [timeFile], { encoding: 'utf8' }).stdout.trim().split('\n').pop()!.split(' ').map(Number);
    spawnSync('rm', ['-f', timeFile]);
    const counters = rulesText === null ? '' : stripSaveComments(must(fw, ['iptables-save', '-c', '-t', 'filter']));
    const ct = runIn(fw, ['cat', '/proc/sys/net/netfilter/nf_conntrack_count']);
    const conntrack = ct.status === 0 ? Number(ct.stdout.trim()) : 0;
    const eth0 = linkCounters(fw, 'eth0');
    const eth1 = linkCounters(fw, 'eth1');
    return { secs, sent, pps: sent / secs, counters, conntrack, rxPackets: eth0.rx, rxDropped: eth0.rxDropped, txDroppedEth1: eth1.txDropped, userSecs: user, sysSecs: sys };
  } finally {
    deleteNetns(fw);
    deleteNetns(peer);
  }
}
