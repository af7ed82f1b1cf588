/**
 * Helpers for the tests of the extensions' kernel halves: a machine with a
 * controllable clock, IPv4 packets built byte by byte, rules parsed by the
 * real command-line code, a model run of a chain over timed packets, and
 * the reference run of the same rules and packets on the real kernel in a
 * pair of private network namespaces.
 */
import { spawnSync } from 'node:child_process';
import '../src/core/xt/all.js';
import type { Conn, Tuple } from '../src/core/conntrack/types.js';
import { compileRuleset, flushCounters, runChain } from '../src/core/netfilter/traverse.js';
import { emptyRuleset, initBuiltins, type Ruleset } from '../src/core/netfilter/ruleset.js';
import type { Hook, TableName } from '../src/core/netfilter/tables.js';
import type { Rule } from '../src/core/netfilter/rule.js';
import { CtInfo, newSkb, type Skb } from '../src/core/path/skb.js';
import type { ConntrackView, KernelServices, PacketContext } from '../src/core/xt/packet.js';
import { fillIpv4Checksums } from '../src/core/wire/checksum.js';
import { parseCommand } from '../src/cli/iptables/parse.js';
import { buildRules } from '../src/cli/iptables/execute.js';
import { NO_NAMES } from '../src/core/xt/match/conn-util.js';

/** jiffies at boot with HZ=250 (INITIAL_JIFFIES: five minutes before the 32-bit wrap). */
export const INITIAL_JIFFIES = 2 ** 32 - 300 * 250;

/** A KernelServices whose clock, randomness and connections the test sets. */
export interface FakeKernel extends KernelServices {
  /** Virtual time, ns since boot. */
  t: number;
  /** Wall clock at boot, seconds since the epoch. */
  bootWall: number;
  /** The values random32() returns, in turn. */
  randoms: number[];
  /** Connections the conntrack view shows. */
  conns: Conn[];
  /** Kernel log lines written. */
  log: string[];
}

/** A fresh fake machine at time `t` ns. */
export function fakeKernel(t = 1_000_000_000): FakeKernel {
  const k: FakeKernel = {
    t,
    bootWall: 1_700_000_000,
    randoms: [],
    conns: [],
    log: [],
    nowNs: () => k.t,
    jiffies: () => INITIAL_JIFFIES + Math.floor(k.t / 4_000_000),
    wallSec: () => k.bootWall + k.t / 1e9,
    random32: () => {
      const v = k.randoms.shift();
      if (v === undefined) throw new Error('no random value left');
      return v >>> 0;
    },
    net: null,
    shared: {},
    conntrack: {
      count: () => k.conns.length,
      forEach: (fn) => k.conns.forEach(fn),
    } satisfies ConntrackView,
    printk: (_level, text) => {
      k.log.push(text);
    },
    sendLocal: () => {
      throw new Error('unexpected sendLocal');
    },
  };
  return k;
}

/** Dotted quad to an unsigned 32-bit number. */
export function ip(s: string): number {
  return s.split('.').reduce((a, p) => a * 256 + Number(p), 0);
}

/** Options of a built packet. */
export interface PktOpts {
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  ttl?: number;
  /** Payload bytes after the transport header. */
  payload?: number;
  /** TCP flags (TCP packets). */
  flags?: number;
}

function ipv4(proto: number, l4: Uint8Array, o: PktOpts): Uint8Array {
  const d = new Uint8Array(20 + l4.length);
  const len = d.length;
  d.set([0x45, 0, len >> 8, len & 255, 0, 1, 0, 0, o.ttl ?? 64, proto, 0, 0]);
  const put = (off: number, v: number) => d.set([v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255], off);
  put(12, ip(o.src ?? '10.9.0.2'));
  put(16, ip(o.dst ?? '10.9.0.1'));
  d.set(l4, 20);
  fillIpv4Checksums(d, 0);
  return d;
}

/** An IPv4 UDP datagram (default 10.9.0.2:1000 -> 10.9.0.1:9, TTL 64, no payload). */
export function udp(o: PktOpts = {}): Uint8Array {
  const n = 8 + (o.payload ?? 0);
  const l4 = new Uint8Array(n);
  const sp = o.sport ?? 1000;
  const dp = o.dport ?? 9;
  l4.set([sp >> 8, sp & 255, dp >> 8, dp & 255, n >> 8, n & 255]);
  for (let i = 8; i < n; i++) l4[i] = 0x78;
  return ipv4(17, l4, o);
}

/** An IPv4 TCP segment (default SYN 10.9.0.2:1000 -> 10.9.0.1:80). */
export function tcp(o: PktOpts = {}): Uint8Array {
  const l4 = new Uint8Array(20 + (o.payload ?? 0));
  const sp = o.sport ?? 1000;
  const dp = o.dport ?? 80;
  l4.set([sp >> 8, sp & 255, dp >> 8, dp & 255, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, o.flags ?? 2, 0xff, 0xff]);
  return ipv4(6, l4, o);
}

/** The Ethernet header of a frame from the peer (02:..:02) to the machine (02:..:01). */
export const PEER_MAC_HEADER = new Uint8Array([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0]);

/** The context of one packet at one hook and table. */
export function packetCtx(
  kernel: KernelServices,
  data: Uint8Array,
  where: { hook?: Hook; table?: TableName; in?: string; out?: string; skb?: Partial<Skb> } = {},
): PacketContext {
  const inDev = where.in ?? 'd0';
  const skb = newSkb(data, PEER_MAC_HEADER, inDev);
  Object.assign(skb, where.skb ?? {});
  return {
    skb,
    thoff: (data[0]! & 15) * 4,
    fragoff: (((data[6]! << 8) | data[7]!) & 0x1fff) * 8,
    family: 'ipv4',
    hook: where.hook ?? 'INPUT',
    table: where.table ?? 'filter',
    in: inDev,
    out: where.out ?? '',
    hotdrop: false,
    kernel,
  };
}

/** A tuple. */
export function tuple(src: string, dst: string, proto: number, sport: number, dport: number): Tuple {
  return { src: ip(src), dst: ip(dst), proto, sport, dport };
}

/** A connection with the given original tuple and its plain reply; fields overridable. */
export function conn(orig: Tuple, over: Partial<Conn> = {}): Conn {
  return {
    id: 1,
    orig,
    reply: { src: orig.dst, dst: orig.src, proto: orig.proto, sport: orig.dport, dport: orig.sport },
    status: 0,
    expires: 0,
    mark: 0,
    secmark: 0,
    zone: 0,
    labels: [0, 0, 0, 0],
    helper: '',
    master: 0,
    l4: null,
    pkts: [0, 0],
    bytes: [0, 0],
    ...over,
  };
}

/** The packet with a connection attached as conntrack would attach it. */
export function withConn(ct: Conn, ctinfo: CtInfo): Partial<Skb> {
  return { ct, ctinfo };
}

/** One rule as iptables (1.8.9, nft) stores it, from its command-line words after "-A CHAIN". */
export function ruleFrom(args: string[], table = 'filter', chain = 'INPUT'): Rule {
  const p = parseCommand(
    ['-t', table, '-A', chain, ...args],
    { names: NO_NAMES, restore: false, table, program: 'iptables', version: '1.8.9 (nf_tables)' },
    () => {},
  );
  const built = buildRules(p, table, chain, undefined);
  if (built[0]!.reject) throw new Error(`rule refused: ${built[0]!.reject}`);
  return built[0]!.rule;
}

/** A packet at a virtual time. */
export interface TimedPacket {
  data: Uint8Array;
  /** Nanoseconds after the first packet. */
  atNs: number;
}

/** A table and one of its built-in chains. */
export interface ChainRef {
  table: TableName;
  chain: Hook;
}

const FILTER_INPUT: ChainRef = { table: 'filter', chain: 'INPUT' };

/**
 * Runs packets arriving on d0 through one built-in chain (by default
 * filter INPUT) holding the given rules, at their times, and returns each
 * rule's packet and byte counters plus the machine (for its shared state).
 * Nothing else happens to the packets: no connection tracking.
 */
export function modelRun(
  rules: string[][],
  packets: TimedPacket[],
  kernel: FakeKernel = fakeKernel(),
  where: ChainRef = FILTER_INPUT,
): { counters: [number, number][]; kernel: FakeKernel; ruleset: Ruleset } {
  const rs = emptyRuleset();
  const t = initBuiltins(rs, where.table);
  const chain = t.builtins[where.chain]!;
  for (const r of rules) chain.rules.push(ruleFrom(r, where.table, where.chain));
  const compiled = compileRuleset(rs)[where.table]!;
  const start = kernel.t;
  for (const p of packets) {
    kernel.t = start + p.atNs;
    runChain(compiled.hooks[where.chain]!, packetCtx(kernel, p.data, { hook: where.chain, table: where.table }), null);
  }
  flushCounters(compiled);
  const counters = chain.rules.map((r): [number, number] => [Number(r.pkts), Number(r.bytes)]);
  return { counters, kernel, ruleset: rs };
}

/** Whether the real kernel can be used: root, `ip` and the system Python. */
export function canRunKernel(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('ip', ['netns', 'list']).status === 0 && spawnSync('/usr/bin/python3', ['-c', '']).status === 0;
}

/** Sends frames on p0: each line of stdin is "HEX SLEEP_SECONDS". */
const SENDER = `
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(('p0', 0))
for line in sys.stdin:
    hexdata, pause = line.split()
    s.send(bytes.fromhex(hexdata))
    if float(pause) > 0:
        time.sleep(float(pause))
`;

let nsCounter = 0;

function run(argv: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    input,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' },
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(argv: string[], input?: string): string {
  const r = run(argv, input);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** What the real kernel did: iptables-save -c of the filter table (rule lines) and files read afterwards. */
export interface KernelResult {
  /** Packet and byte counters of the INPUT rules, in order. */
  counters: [number, number][];
  /** The rule lines of iptables-save -c. */
  saveLines: string[];
  /** Contents of the files asked for. */
  files: Record<string, string>;
}

/** A packet for the real kernel, and how long to wait after sending it. */
export interface RealPacket {
  data: Uint8Array;
  /** Seconds to sleep after sending it. */
  pauseSec?: number;
}

/**
 * Runs the rules (filter INPUT) in a fresh namespace whose interface d0
 * (10.9.0.1/24) faces a peer namespace, sends the packets from the peer as
 * Ethernet frames, then reads the counters and the files. Both namespaces
 * are deleted afterwards, also on failure.
 */
export function kernelRun(rules: string[][], packets: RealPacket[], files: string[] = [], where: ChainRef = FILTER_INPUT): KernelResult {
  const r = kernelRunCommands(
    rules.map((x) => ['-t', where.table, '-A', where.chain, ...x]),
    packets,
    files.map((f) => ['cat', f]),
    where,
  );
  const out: Record<string, string> = {};
  files.forEach((f, i) => (out[f] = r.outputs[i]!));
  return { counters: r.counters, saveLines: r.saveLines.filter((l) => l.includes(` -A ${where.chain} `)), files: out };
}

/** What kernelRunCommands gives back. */
export interface KernelCommandsResult {
  /** Packet and byte counters of the rules of the chain counted (filter INPUT by default), in order. */
  counters: [number, number][];
  /** The rule lines (with counters) of iptables-save -c, all tables. */
  saveLines: string[];
  /** Output of each command run afterwards. */
  outputs: string[];
}

/**
 * Like kernelRun with whole iptables argument lists (`-t raw -A
 * PREROUTING ...`), and any commands run in the machine's namespace
 * afterwards (`conntrack -L`, `cat FILE` ...), whose outputs are returned.
 */
export function kernelRunCommands(
  iptables: string[][],
  packets: RealPacket[],
  after: string[][] = [],
  counted: ChainRef = FILTER_INPUT,
): KernelCommandsResult {
  const id = `${process.pid}-${nsCounter++}`;
  const dut = `nflabt-h5b-${id}d`;
  const peer = `nflabt-h5b-${id}p`;
  const inDut = (...argv: string[]) => must(['ip', 'netns', 'exec', dut, ...argv]);
  try {
    must(['ip', 'netns', 'add', dut]);
    must(['ip', 'netns', 'add', peer]);
    must(['ip', 'link', 'add', 'd0', 'netns', dut, 'type', 'veth', 'peer', 'name', 'p0', 'netns', peer]);
    inDut('sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    inDut('sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0');
    inDut('sysctl', '-qw', 'net.ipv4.conf.default.rp_filter=0');
    must(['ip', 'netns', 'exec', peer, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    inDut('ip', 'link', 'set', 'd0', 'address', '02:00:00:00:00:01');
    must(['ip', '-n', peer, 'link', 'set', 'p0', 'address', '02:00:00:00:00:02']);
    inDut('ip', 'addr', 'add', '10.9.0.1/24', 'dev', 'd0');
    inDut('ip', 'link', 'set', 'd0', 'up');
    must(['ip', '-n', peer, 'link', 'set', 'p0', 'up']);
    for (const r of iptables) inDut('iptables', ...r);
    const lines = packets.map((p) => `${Buffer.from([...PEER_MAC_HEADER, ...p.data]).toString('hex')} ${p.pauseSec ?? 0}`);
    must(['ip', 'netns', 'exec', peer, '/usr/bin/python3', '-c', SENDER], lines.join('\n') + '\n');
    const table = inDut('iptables-save', '-c', '-t', counted.table).split('\n').filter((l) => l.startsWith('['));
    const counters = table
      .filter((l) => l.includes(` -A ${counted.chain} `))
      .map((l): [number, number] => {
        const m = /^\[(\d+):(\d+)\]/.exec(l)!;
        return [Number(m[1]), Number(m[2])];
      });
    const saveLines = inDut('iptables-save', '-c').split('\n').filter((l) => l.startsWith('['));
    const outputs = after.map((cmd) => run(['ip', 'netns', 'exec', dut, ...cmd]).stdout);
    return { counters, saveLines, outputs };
  } finally {
    run(['ip', 'netns', 'del', dut]);
    run(['ip', 'netns', 'del', peer]);
  }
}

/** The model's packets for the real run's: the pauses become virtual gaps. */
export function timed(packets: RealPacket[]): TimedPacket[] {
  let t = 0;
  return packets.map((p) => {
    const at = t;
    t += Math.round((p.pauseSec ?? 0) * 1e9) + 1000;
    return { data: p.data, atNs: at };
  });
}
