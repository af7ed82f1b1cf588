/**
 * Helpers for the tests of the stateless matches and the mangling targets:
 * IPv4 datagrams built byte by byte, a packet context around them, a model
 * run of an iptables-restore rule set over a batch of frames, and the same
 * batch on the real kernel in private network namespaces.
 *
 * Real side: namespace S (sender, link s0) and D (machine under test, link
 * d0 towards S and d1 towards R), and for forwarding tests R (receiver,
 * link r0). Frames are sent raw from S with an AF_PACKET socket and, when
 * asked, captured raw on R; counters come from `iptables-save -c` in D.
 * Every namespace is deleted afterwards, also on failure.
 */
import { spawn, spawnSync } from 'node:child_process';
import '../src/core/xt/all.js';
import { runIptablesRestore } from '../src/cli/iptables/tool.js';
import { iptablesSave } from '../src/cli/iptables/save.js';
import { compileRuleset, flushCounters, runChain } from '../src/core/netfilter/traverse.js';
import { emptyRuleset, type Ruleset } from '../src/core/netfilter/ruleset.js';
import type { Hook, TableName } from '../src/core/netfilter/tables.js';
import { newSkb, PacketType, type Skb } from '../src/core/path/skb.js';
import type { KernelServices, PacketContext } from '../src/core/xt/packet.js';
import { createNameDb } from '../src/core/xt/namedb.js';
import { addLink, setLinkMac, setLinkMtu, setLinkUp } from '../src/core/net/links.js';
import { addAddress4 } from '../src/core/net/addr4.js';
import { routeInsert } from '../src/core/net/fib.js';
import { emptyNetState, linkByName } from '../src/core/net/state.js';
import { SCOPE_UNIVERSE, TABLE_MAIN, type NetState } from '../src/core/net/types.js';

// ---------------------------------------------------------------------------
// Packets

/** Dotted quad to an unsigned 32-bit number. */
export function ip(s: string): number {
  return s.split('.').reduce((a, p) => a * 256 + Number(p), 0) >>> 0;
}

/** The Internet checksum of `b[off, off+len)` starting from partial sum `init`. */
export function cksum(b: Uint8Array, off: number, len: number, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < len; i += 2) s += (b[off + i]! << 8) | b[off + i + 1]!;
  if (len & 1) s += b[off + len - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** The IPv4 header fields a test sets; everything else gets a plain default. */
export interface Ip4 {
  src?: number;
  dst?: number;
  proto: number;
  ttl?: number;
  tos?: number;
  id?: number;
  /** Flags and fragment offset field (DF 0x4000, MF 0x2000, offset in 8-byte units). */
  frag?: number;
  /** IP options, a multiple of 4 bytes. */
  options?: number[];
  /** The transport header and payload. */
  payload: Uint8Array | number[];
}

/** An IPv4 datagram with a correct header checksum. */
export function ipv4(h: Ip4): Uint8Array {
  const opts = h.options ?? [];
  const hl = 20 + opts.length;
  const body = h.payload instanceof Uint8Array ? h.payload : Uint8Array.from(h.payload);
  const d = new Uint8Array(hl + body.length);
  d[0] = 0x40 | (hl / 4);
  d[1] = h.tos ?? 0;
  d[2] = d.length >> 8;
  d[3] = d.length & 0xff;
  const id = h.id ?? 1;
  d[4] = id >> 8;
  d[5] = id & 0xff;
  const frag = h.frag ?? 0;
  d[6] = frag >> 8;
  d[7] = frag & 0xff;
  d[8] = h.ttl ?? 64;
  d[9] = h.proto;
  put32(d, 12, h.src ?? ip('10.0.0.2'));
  put32(d, 16, h.dst ?? ip('10.0.0.1'));
  d.set(opts, 20);
  const c = cksum(d, 0, hl);
  d[10] = c >> 8;
  d[11] = c & 0xff;
  d.set(body, hl);
  return d;
}

/** Writes a 32-bit big-endian value. */
export function put32(d: Uint8Array, off: number, v: number): void {
  d[off] = (v >>> 24) & 0xff;
  d[off + 1] = (v >>> 16) & 0xff;
  d[off + 2] = (v >>> 8) & 0xff;
  d[off + 3] = v & 0xff;
}

/** TCP header fields. */
export interface Tcp {
  sport?: number;
  dport?: number;
  seq?: number;
  flags?: number;
  window?: number;
  /** Options; padded with EOL to a multiple of 4. */
  options?: number[];
  data?: number[];
  /** The checksum field as is (no computation). */
  check?: number;
}

/** A TCP segment (header, options, data); the checksum is computed against `src`/`dst` unless given. */
export function tcp(t: Tcp, src = ip('10.0.0.2'), dst = ip('10.0.0.1')): Uint8Array {
  const opts = [...(t.options ?? [])];
  while (opts.length % 4) opts.push(0);
  const hl = 20 + opts.length;
  const data = t.data ?? [];
  const s = new Uint8Array(hl + data.length);
  s[0] = (t.sport ?? 1234) >> 8;
  s[1] = (t.sport ?? 1234) & 0xff;
  s[2] = (t.dport ?? 80) >> 8;
  s[3] = (t.dport ?? 80) & 0xff;
  put32(s, 4, t.seq ?? 1000);
  s[12] = (hl / 4) << 4;
  s[13] = t.flags ?? 0x02;
  s[14] = (t.window ?? 64240) >> 8;
  s[15] = (t.window ?? 64240) & 0xff;
  s.set(opts, 20);
  s.set(data, hl);
  const check = t.check ?? transportSum(s, src, dst, 6);
  s[16] = check >> 8;
  s[17] = check & 0xff;
  return s;
}

/** A UDP datagram with a computed checksum. */
export function udp(sport: number, dport: number, data: number[] = [], src = ip('10.0.0.2'), dst = ip('10.0.0.1')): Uint8Array {
  const s = new Uint8Array(8 + data.length);
  s[0] = sport >> 8;
  s[1] = sport & 0xff;
  s[2] = dport >> 8;
  s[3] = dport & 0xff;
  s[4] = s.length >> 8;
  s[5] = s.length & 0xff;
  s.set(data, 8);
  const c = transportSum(s, src, dst, 17) || 0xffff;
  s[6] = c >> 8;
  s[7] = c & 0xff;
  return s;
}

/** An ICMP message with a computed checksum. */
export function icmp(type: number, code: number, rest: number[] = [0, 0, 0, 0]): Uint8Array {
  const s = Uint8Array.from([type, code, 0, 0, ...rest]);
  const c = cksum(s, 0, s.length);
  s[2] = c >> 8;
  s[3] = c & 0xff;
  return s;
}

function transportSum(s: Uint8Array, src: number, dst: number, proto: number): number {
  const pseudo = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + s.length;
  s[proto === 6 ? 16 : 6] = 0;
  s[proto === 6 ? 17 : 7] = 0;
  return cksum(s, 0, s.length, pseudo);
}

/** MAC addresses of the test links. */
export const MAC = {
  s0: [0x02, 0, 0, 0, 0, 0x0a],
  d0: [0x02, 0, 0, 0, 0, 0x0b],
  d1: [0x02, 0, 0, 0, 1, 0x0b],
  r0: [0x02, 0, 0, 0, 1, 0x0c],
} as const;

/** A frame to D's d0: Ethernet header (to `dstMac`, D's own by default) and the datagram. */
export interface Frame {
  mac: Uint8Array;
  data: Uint8Array;
}

/** Wraps a datagram in an Ethernet header from S to `dstMac`. */
export function frame(data: Uint8Array, dstMac: readonly number[] = MAC.d0): Frame {
  const mac = Uint8Array.from([...dstMac, ...MAC.s0, 0x08, 0x00]);
  return { mac, data };
}

function macText(m: readonly number[]): string {
  return m.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** How the Ethernet layer classifies a frame arriving on d0. */
function pktTypeOf(mac: Uint8Array): PacketType {
  if (mac.slice(0, 6).every((b) => b === 0xff)) return PacketType.BROADCAST;
  if (mac[0]! & 1) return PacketType.MULTICAST;
  return mac.slice(0, 6).every((b, i) => b === MAC.d0[i]) ? PacketType.HOST : PacketType.OTHERHOST;
}

// ---------------------------------------------------------------------------
// The model side

/** D's network as the model sees it: d0 10.0.0.1/24, d1 10.0.1.1/24 (mtu as given), default via 10.0.1.2. */
export function modelNet(d1Mtu = 1500): NetState {
  const net = emptyNetState();
  setLinkUp(net, linkByName(net, 'lo')!, true);
  addAddress4(net, linkByName(net, 'lo')!, { local: ip('127.0.0.1'), address: ip('127.0.0.1'), prefixlen: 8, broadcast: 0, scope: 254, label: 'lo' });
  for (const [name, a] of [
    ['d0', '10.0.0.1'],
    ['d1', '10.0.1.1'],
  ] as const) {
    addLink(net, name, 'dummy');
    const l = linkByName(net, name)!;
    setLinkMac(net, l, macText(name === 'd0' ? MAC.d0 : MAC.d1));
    if (name === 'd1') setLinkMtu(net, l, d1Mtu);
    setLinkUp(net, l, true);
    addAddress4(net, l, { local: ip(a), address: ip(a), prefixlen: 24, broadcast: (ip(a) | 0xff) >>> 0, scope: 0, label: name });
  }
  routeInsert(
    net,
    { table: TABLE_MAIN, type: 'unicast', dst: 0, dstLen: 0, metric: 0, protocol: 3, scope: SCOPE_UNIVERSE, prefsrc: 0, gateway: ip('10.0.1.2'), oif: 0 },
    { create: true, excl: true, replace: false, append: false },
  );
  return net;
}

/** A KernelServices for the model runs: fixed clock, no randomness needed, D's network. */
export function modelKernel(net: NetState | null = null): KernelServices {
  let rnd = 0x12345678;
  return {
    nowNs: () => 1_000_000_000,
    jiffies: () => 4294892296 + 250,
    wallSec: () => 1_700_000_000,
    random32: () => (rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0),
    net,
    shared: {},
    conntrack: { count: () => 0, forEach: () => undefined },
    printk: () => undefined,
    sendLocal: () => {
      throw new Error('unexpected sendLocal');
    },
  };
}

/** A packet context for `data` at `hook` of `table`, as it arrives on d0 (or is sent, for OUTPUT). */
export function contextFor(
  data: Uint8Array,
  opts: { mac?: Uint8Array | null; hook?: Hook; table?: TableName; in?: string; out?: string; kernel?: KernelServices; skb?: Partial<Skb> } = {},
): PacketContext {
  const mac = opts.mac === undefined ? frame(data).mac : opts.mac;
  const inDev = opts.in ?? (mac ? 'd0' : '');
  const skb = newSkb(data, mac, inDev);
  if (mac) skb.pktType = pktTypeOf(mac);
  Object.assign(skb, opts.skb ?? {});
  return {
    skb,
    thoff: (data[0]! & 0x0f) * 4,
    fragoff: (((data[6]! << 8) | data[7]!) & 0x1fff) * 8,
    family: 'ipv4',
    hook: opts.hook ?? 'PREROUTING',
    table: opts.table ?? 'raw',
    in: inDev,
    out: opts.out ?? '',
    hotdrop: false,
    kernel: opts.kernel ?? modelKernel(),
  };
}

const names = createNameDb();

/** Loads an iptables-restore text into an empty model rule set (throws on any error). */
export function modelRuleset(text: string): Ruleset {
  const r = runIptablesRestore([], emptyRuleset(), names, () => text);
  if (r.status !== 0 || !r.ruleset) throw new Error(`model iptables-restore failed (${r.status}): ${r.stderr}`);
  return r.ruleset;
}

/** iptables-save -c -t TABLE of the model, without the date lines. */
export function modelSave(rs: Ruleset, table: TableName): string {
  return dropDates(iptablesSave(rs, { counters: true, table }, names, new Date(0), 'iptables-save').stdout);
}

/**
 * Runs each frame through the base chain `hook` of `table` in the model,
 * as received on d0 (PREROUTING, or FORWARD/POSTROUTING towards d1), and
 * returns the final verdicts and the datagrams as they left.
 */
export function modelRun(
  rs: Ruleset,
  table: TableName,
  hook: Hook,
  frames: readonly Frame[],
  kernel: KernelServices = modelKernel(),
  prepare?: (ctx: PacketContext) => void,
): { verdicts: number[]; out: Uint8Array[] } {
  const tables = compileRuleset(rs);
  const t = tables[table];
  if (!t) throw new Error(`no table ${table}`);
  const chain = t.hooks[hook];
  if (!chain) throw new Error(`no chain ${hook} in ${table}`);
  const verdicts: number[] = [];
  const out: Uint8Array[] = [];
  for (const f of frames) {
    const forward = hook === 'FORWARD' || hook === 'POSTROUTING';
    const ctx = contextFor(f.data.slice(), { mac: f.mac, hook, table, out: forward ? 'd1' : '', kernel });
    if (hook === 'POSTROUTING') ctx.in = '';
    prepare?.(ctx);
    verdicts.push(runChain(chain, ctx, null));
    out.push(ctx.skb.data);
  }
  flushCounters(t);
  return { verdicts, out };
}

/** Removes iptables-save's date comment lines. */
export function dropDates(text: string): string {
  return text.replace(/^# (Generated by .*|Completed) on .*\n/gm, '');
}

// ---------------------------------------------------------------------------
// The real kernel

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', HOME: '/root' };
let seq = 0;
const live = new Set<string>();
let hooked = false;

function sh(argv: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { env: ENV, encoding: 'utf8', input, timeout: 60_000, maxBuffer: 64 << 20 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(argv: string[], input?: string): string {
  const r = sh(argv, input);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Why the real-kernel tests cannot run here, or undefined when they can. */
export function kernelUnavailable(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not root';
  if (sh(['ip', 'netns', 'list']).status !== 0) return 'no ip netns';
  if (sh(['/usr/bin/python3', '-c', 'import socket']).status !== 0) return 'no python3';
  return undefined;
}

/** A set of namespaces around a machine under test D. */
export class KernelLab {
  readonly s: string;
  readonly d: string;
  readonly r: string | undefined;

  private constructor(withReceiver: boolean) {
    const n = `${process.pid}-${++seq}`;
    this.s = `nflabt-kss-${n}`;
    this.d = `nflabt-ksd-${n}`;
    this.r = withReceiver ? `nflabt-ksr-${n}` : undefined;
  }

  /** Creates S and D (and R) linked by veth pairs, addressed as modelNet describes. */
  static create(opts: { receiver?: boolean; d1Mtu?: number } = {}): KernelLab {
    if (!hooked) {
      hooked = true;
      process.on('exit', () => {
        for (const ns of live) sh(['ip', 'netns', 'del', ns]);
      });
    }
    const lab = new KernelLab(opts.receiver ?? false);
    try {
      lab.setUp(opts.d1Mtu ?? 1500);
    } catch (e) {
      lab.destroy();
      throw e;
    }
    return lab;
  }

  private setUp(d1Mtu: number): void {
    const all = [this.s, this.d, ...(this.r ? [this.r] : [])];
    for (const ns of all) {
      must(['ip', 'netns', 'add', ns]);
      live.add(ns);
      this.ns(ns, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      this.ns(ns, ['ip', 'link', 'set', 'lo', 'up']);
    }
    // no reverse-path filtering: forwarded test packets come from any source
    this.ns(this.d, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0']);
    must(['ip', 'link', 'add', 's0', 'netns', this.s, 'address', macText(MAC.s0), 'type', 'veth', 'peer', 'd0', 'netns', this.d, 'address', macText(MAC.d0)]);
    this.ns(this.s, ['ip', 'addr', 'add', '10.0.0.2/24', 'dev', 's0']);
    this.ns(this.s, ['ip', 'link', 'set', 's0', 'up']);
    this.ns(this.d, ['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'd0']);
    this.ns(this.d, ['ip', 'link', 'set', 'd0', 'up']);
    if (this.r) {
      must(['ip', 'link', 'add', 'd1', 'netns', this.d, 'address', macText(MAC.d1), 'type', 'veth', 'peer', 'r0', 'netns', this.r, 'address', macText(MAC.r0)]);
      this.ns(this.d, ['ip', 'link', 'set', 'd1', 'mtu', String(d1Mtu)]);
      this.ns(this.d, ['ip', 'addr', 'add', '10.0.1.1/24', 'dev', 'd1']);
      this.ns(this.d, ['ip', 'link', 'set', 'd1', 'up']);
      this.ns(this.r, ['ip', 'addr', 'add', '10.0.1.2/24', 'dev', 'r0']);
      this.ns(this.r, ['ip', 'link', 'set', 'r0', 'up']);
      this.ns(this.d, ['ip', 'neigh', 'replace', '10.0.1.2', 'lladdr', macText(MAC.r0), 'dev', 'd1', 'nud', 'permanent']);
      this.ns(this.d, ['ip', 'route', 'add', 'default', 'via', '10.0.1.2']);
      this.ns(this.d, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    }
  }

  /** Runs argv in namespace `ns`; throws when it fails. */
  ns(ns: string, argv: string[], input?: string): string {
    return must(['ip', 'netns', 'exec', ns, ...argv], input);
  }

  /** iptables-restore in D. */
  restore(text: string): void {
    this.ns(this.d, ['iptables-restore'], text);
  }

  /** iptables-save -c -t TABLE in D, without the date lines. */
  save(table: TableName): string {
    return dropDates(this.ns(this.d, ['iptables-save', '-c', '-t', table]));
  }

  /** Sends the frames from S, in order, with a short pause every few frames so no queue overflows. */
  send(frames: readonly Frame[]): void {
    const hex = frames.map((f) => Buffer.concat([f.mac, f.data]).toString('hex')).join('\n');
    const py = [
      'import os, socket, sys, time',
      // the receiving side runs on the sender's CPU: CPU 0, like nflab's machine (-m cpu)
      'os.sched_setaffinity(0, {0})',
      's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)',
      "s.bind(('s0', 0))",
      'for i, line in enumerate(sys.stdin.read().split()):',
      '    s.send(bytes.fromhex(line))',
      '    if i % 50 == 49: time.sleep(0.02)',
      'time.sleep(0.2)',
    ].join('\n');
    this.ns(this.s, ['/usr/bin/python3', '-c', py], hex);
  }

  /**
   * Sends the frames from S and captures what R receives on r0 meanwhile;
   * returns the received datagrams (Ethernet header removed), in order.
   */
  async sendAndCapture(frames: readonly Frame[]): Promise<Uint8Array[]> {
    if (!this.r) throw new Error('no receiver namespace');
    const py = [
      'import socket, sys, select, time',
      's = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))',
      "s.bind(('r0', 0))",
      "print('ready', flush=True)",
      'deadline = None',
      'while True:',
      '    r, _, _ = select.select([s] if deadline else [s, sys.stdin], [], [], 0.5)',
      '    if sys.stdin in r:',
      '        sys.stdin.read()',
      '        deadline = time.time() + 0.5',
      '    if s in r:',
      '        data, addr = s.recvfrom(70000)',
      '        if addr[2] != socket.PACKET_OUTGOING:',
      '            print(data.hex(), flush=True)',
      '    if deadline is not None and time.time() > deadline:',
      '        break',
    ].join('\n');
    const child = spawn('ip', ['netns', 'exec', this.r, '/usr/bin/python3', '-c', py], { env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.startsWith('ready\n')) resolve();
      });
      child.on('close', () => reject(new Error(`capture ended early: ${err}`)));
    });
    this.send(frames);
    child.stdin.end('stop\n');
    await done;
    return out
      .split('\n')
      .slice(1)
      .filter((l) => l !== '')
      .map((l) => Uint8Array.from(Buffer.from(l, 'hex').subarray(14)));
  }

  /** Deletes every namespace of the lab. */
  destroy(): void {
    for (const ns of [this.s, this.d, this.r]) {
      if (!ns) continue;
      sh(['ip', 'netns', 'del', ns]);
      live.delete(ns);
    }
  }
}

/**
 * A restore text for `table` (raw by default) that sends packet i (IP id
 * i+1) from PREROUTING to its own chain Pi holding `rules` (iptables rule
 * specs without -A), followed by an empty rule that counts the packets no
 * rule dropped.
 */
export function perPacketRuleset(count: number, rules: readonly string[], table: 'raw' | 'mangle' = 'raw'): string {
  let s = `*${table}\n:PREROUTING ACCEPT [0:0]\n`;
  if (table === 'mangle') s += ':INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n';
  s += ':OUTPUT ACCEPT [0:0]\n';
  if (table === 'mangle') s += ':POSTROUTING ACCEPT [0:0]\n';
  for (let i = 0; i < count; i++) s += `:P${i} - [0:0]\n`;
  for (let i = 0; i < count; i++) s += `-A PREROUTING -m u32 --u32 "4>>16=${i + 1}" -j P${i}\n`;
  for (let i = 0; i < count; i++) {
    for (const r of rules) s += `-A P${i} ${r}\n`;
    s += `-A P${i}\n`;
  }
  return s + 'COMMIT\n';
}
