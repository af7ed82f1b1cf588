/**
 * A small network for testing the stack alone: hosts with one address
 * each, every datagram a host sends arriving at its destination after a
 * fixed latency, one virtual clock with an event queue. Each host runs the
 * real socket layer and the real local delivery (resets and port
 * unreachables for what no socket takes). A filter can drop datagrams on
 * the way, or make OUTPUT refuse them (EPERM), and every datagram is
 * logged in a tcpdump-like line for exact assertions.
 */
import { addAddress4 } from '../src/core/net/addr4.js';
import { addLink, setLinkUp } from '../src/core/net/links.js';
import { emptyNetState, linkByName } from '../src/core/net/state.js';
import type { NetState } from '../src/core/net/types.js';
import { localDeliver } from '../src/core/path/local-deliver.js';
import { newSkb, PacketType } from '../src/core/path/skb.js';
import type { Errno, SocketDemux, SocketLayer, StackEnv } from '../src/core/stack/api.js';
import { createSocketLayer } from '../src/core/stack/index.js';
import { fillIcmpChecksum, fillIpv4Checksum } from '../src/core/wire/checksum.js';
import type { KernelServices } from '../src/core/xt/packet.js';

/** What the filter decides for a datagram. */
export type Verdict = 'pass' | 'drop' | 'eperm';

/** One host of the test network. */
export interface TestHost {
  name: string;
  addr: number;
  sockets: SocketLayer & SocketDemux;
  sysctl: Record<string, string>;
}

/** Dotted quad to number. */
export function ip(s: string): number {
  return s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
}

/** Number to dotted quad. */
export function dotted(a: number): string {
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
}

/** A logged datagram. */
export interface Sent {
  ns: number;
  from: string;
  data: Uint8Array;
  verdict: Verdict;
}

/** The test network. */
export class TestNet {
  now = 0;
  private events: { at: number; seq: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  private rng = 0x12345678;
  readonly hosts: TestHost[] = [];
  readonly sent: Sent[] = [];
  /** Decides the fate of each datagram (default: pass). */
  filter: (from: TestHost, d: Uint8Array) => Verdict = () => 'pass';
  /** One-way latency, ns. */
  latencyNs = 50_000;
  /** Route MTU. */
  mtu = 1500;
  /** Each host's kernel network state (for the host's own ICMP answers). */
  private readonly nets = new Map<TestHost, NetState>();
  private readonly shared = new Map<TestHost, Record<string, unknown>>();

  constructor(startNs = 10e9) {
    this.now = startNs;
  }

  random32(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return this.rng;
  }

  at(atNs: number, fn: () => void): number {
    const id = ++this.seq;
    this.events.push({ at: Math.max(atNs, this.now), seq: id, fn, id });
    return id;
  }

  cancel(id: number): void {
    const i = this.events.findIndex((e) => e.id === id);
    if (i >= 0) this.events.splice(i, 1);
  }

  /** Runs events up to and including `untilNs`. */
  run(untilNs: number): void {
    for (;;) {
      let best = -1;
      for (let i = 0; i < this.events.length; i++) {
        const e = this.events[i]!;
        if (e.at > untilNs) continue;
        if (best < 0 || e.at < this.events[best]!.at || (e.at === this.events[best]!.at && e.seq < this.events[best]!.seq)) best = i;
      }
      if (best < 0) break;
      const e = this.events.splice(best, 1)[0]!;
      this.now = e.at;
      e.fn();
    }
    this.now = Math.max(this.now, untilNs);
  }

  /** Runs for `ns` more. */
  advance(ns: number): void {
    this.run(this.now + ns);
  }

  host(name: string, addr: string, sysctl: Record<string, string> = {}): TestHost {
    const h = { name, addr: ip(addr), sysctl } as TestHost;
    const net = emptyNetState();
    setLinkUp(net, linkByName(net, 'lo')!, true);
    addLink(net, 'eth0', 'dummy');
    const eth0 = linkByName(net, 'eth0')!;
    setLinkUp(net, eth0, true);
    addAddress4(net, eth0, { local: h.addr, address: h.addr, prefixlen: 24, broadcast: 0, scope: 0 });
    this.nets.set(h, net);
    const env: StackEnv = {
      nowNs: () => this.now,
      random32: () => this.random32(),
      setTimer: (atNs, fn) => this.at(atNs, fn),
      clearTimer: (id) => this.cancel(id),
      output: (d) => this.transmit(h, d),
      route: (dst) => (this.hosts.some((x) => x.addr === dst) || dst === 0x0a0000fe ? { src: h.addr, dev: 'eth0', mtu: this.mtu } : { errno: 'ENETUNREACH' as Errno }),
      isLocalAddress: (a) => a === h.addr,
      sysctl: (k) => h.sysctl[k],
    };
    h.sockets = createSocketLayer(env);
    this.hosts.push(h);
    return h;
  }

  /** A datagram leaves host `h`. */
  transmit(h: TestHost, d: Uint8Array): Errno | null {
    const verdict = this.filter(h, d);
    this.sent.push({ ns: this.now, from: h.name, data: d, verdict });
    if (verdict === 'eperm') return 'EPERM';
    if (verdict === 'drop') return null;
    const dst = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
    const to = this.hosts.find((x) => x.addr === dst);
    if (to) this.at(this.now + this.latencyNs, () => this.receive(to, d));
    return null;
  }

  /** Makes host `by` answer datagrams that `match` selects with ICMP `type`/`code` instead of passing them (iptables REJECT). */
  reject(by: TestHost, match: (d: Uint8Array) => boolean, type: number, code: number): void {
    const prev = this.filter;
    this.filter = (from, d) => {
      if (from !== by && match(d)) {
        const to = from;
        this.at(this.now + this.latencyNs, () => this.transmit(by, icmpError(type, code, by.addr, d)));
        void to;
        return 'drop';
      }
      return prev(from, d);
    };
  }

  /** Delivers `d` to host `h` now, as if it came from the wire (an ICMP error from a router, ...). */
  inject(h: TestHost, d: Uint8Array): void {
    this.receive(h, d);
  }

  /** A datagram arrives at host `h`: the real local delivery with the host's sockets. */
  private receive(h: TestHost, d: Uint8Array): void {
    const skb = newSkb(d, new Uint8Array(14), 'eth0');
    skb.pktType = PacketType.HOST;
    skb.route = 'local';
    const kernel = {
      nowNs: () => this.now,
      jiffies: () => (Math.floor(this.now / 4e6) - 75000) >>> 0,
      wallSec: () => 1.7e9 + this.now / 1e9,
      random32: () => this.random32(),
      net: this.nets.get(h),
      shared: this.shared.get(h) ?? this.shared.set(h, {}).get(h),
      conntrack: { count: () => 0, forEach: () => {} },
      printk: () => {},
      sendLocal: (out: Uint8Array) => {
        this.transmit(h, out);
      },
      sockets: h.sockets,
    } as unknown as KernelServices;
    localDeliver(kernel, skb);
  }

  /** The log, one line per datagram, times in ms relative to `t0`. */
  log(t0 = 0, opts: { ids?: boolean } = {}): string[] {
    const isn = new Map<string, number>();
    return this.sent.map((s) => describe(s, t0, isn, opts.ids ?? false));
  }
}

/** A tcpdump-like description of a logged datagram, sequence numbers relative to each side's first. */
export function describe(s: Sent, t0: number, isn: Map<string, number>, ids: boolean): string {
  const d = s.data;
  const ihl = (d[0]! & 15) * 4;
  const src = dotted(((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0);
  const dst = dotted(((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0);
  const t = ((s.ns - t0) / 1e6).toFixed(3);
  const id = (d[4]! << 8) | d[5]!;
  const df = d[6]! & 0x40 ? ' DF' : '';
  const mark = s.verdict === 'pass' ? '' : ` [${s.verdict}]`;
  const idText = ids ? ` id ${id}` : id === 0 ? ' id 0' : '';
  const proto = d[9]!;
  if (proto === 6) {
    const sp = (d[ihl]! << 8) | d[ihl + 1]!;
    const dp = (d[ihl + 2]! << 8) | d[ihl + 3]!;
    const seq = ((d[ihl + 4]! << 24) | (d[ihl + 5]! << 16) | (d[ihl + 6]! << 8) | d[ihl + 7]!) >>> 0;
    const ack = ((d[ihl + 8]! << 24) | (d[ihl + 9]! << 16) | (d[ihl + 10]! << 8) | d[ihl + 11]!) >>> 0;
    const flags = d[ihl + 13]!;
    const doff = (d[ihl + 12]! >> 4) * 4;
    const win = (d[ihl + 14]! << 8) | d[ihl + 15]!;
    const len = d.length - ihl - doff;
    const me = `${src}:${sp}`;
    const peer = `${dst}:${dp}`;
    if (flags & 2) isn.set(`${me}>${peer}`, seq);
    const base = isn.get(`${me}>${peer}`) ?? seq;
    const pbase = isn.get(`${peer}>${me}`);
    const f = (flags & 2 ? 'S' : '') + (flags & 1 ? 'F' : '') + (flags & 4 ? 'R' : '') + (flags & 8 ? 'P' : '') + (flags & 16 ? '.' : '');
    let text = `${t} ${src}.${sp} > ${dst}.${dp} [${f}] seq ${(seq - base) >>> 0}`;
    if (flags & 16) text += ` ack ${pbase === undefined ? ack : (ack - pbase) >>> 0}`;
    text += ` win ${win} len ${len}${doff > 20 ? ` opts ${hex(d, ihl + 20, ihl + doff, flags & 2 ? 'syn' : 'ts')}` : ''}${df}${idText}${mark}`;
    return text;
  }
  if (proto === 17) {
    const sp = (d[ihl]! << 8) | d[ihl + 1]!;
    const dp = (d[ihl + 2]! << 8) | d[ihl + 3]!;
    return `${t} ${src}.${sp} > ${dst}.${dp} udp len ${d.length - ihl - 8}${df}${idText}${mark}`;
  }
  if (proto === 1) return `${t} ${src} > ${dst} icmp type ${d[ihl]} code ${d[ihl + 1]}${df}${idText}${mark}`;
  return `${t} ${src} > ${dst} proto ${proto} len ${d.length}${df}${idText}${mark}`;
}

/** Option bytes in hex with the timestamp values masked as TS. */
function hex(d: Uint8Array, from: number, to: number, _kind: string): string {
  let out = '';
  let i = from;
  while (i < to) {
    const k = d[i]!;
    if (k === 8 && d[i + 1] === 10) {
      out += '080a<TS>';
      i += 10;
      continue;
    }
    out += k.toString(16).padStart(2, '0');
    i++;
  }
  return out;
}

/**
 * An ICMP error from `from` to the sender of `quoted` (its IP header and
 * first 8 bytes are quoted), with the checksums filled in.
 */
export function icmpError(type: number, code: number, from: number, quoted: Uint8Array, info = 0): Uint8Array {
  const qlen = ((quoted[0]! & 15) * 4) + 8;
  const d = new Uint8Array(20 + 8 + qlen);
  d[0] = 0x45;
  d[2] = d.length >> 8;
  d[3] = d.length & 255;
  d[8] = 64;
  d[9] = 1;
  d[12] = from >>> 24;
  d[13] = (from >>> 16) & 255;
  d[14] = (from >>> 8) & 255;
  d[15] = from & 255;
  d.set(quoted.subarray(12, 16), 16);
  d[20] = type;
  d[21] = code;
  d[24] = (info >>> 24) & 255;
  d[25] = (info >>> 16) & 255;
  d[26] = (info >>> 8) & 255;
  d[27] = info & 255;
  d.set(quoted.subarray(0, qlen), 28);
  fillIcmpChecksum(d, 20, d.length - 20);
  fillIpv4Checksum(d, 0);
  return d;
}

/** A waker that counts wake-ups. */
export function counter(): { wake(): void; n: number } {
  const w = { n: 0, wake() { w.n++; } };
  return w;
}
