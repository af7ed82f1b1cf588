/**
 * The link and routing layer of the packet path over a machine's NetState:
 * which frames a link takes, ARP (answering requests for local addresses,
 * learning neighbours, asking for unknown next hops), the input routing
 * decision as ip_route_input_slow makes it (martians, rp_filter,
 * forwarding), output routes, fragmentation and framing for the wire.
 */
import { fromHex, get32, put32, toHex } from '../wire/bytes.js';
import { fibLookup, isLocalAddress, linkByName, neighLearn, neighLookup, selectSourceAddress, SCOPE_LINK, type Link, type NetState } from '../net/index.js';
import { routeOutput } from '../net/output.js';
import { linkByIndex } from '../net/state.js';
import { fillIpv4Checksum } from '../wire/checksum.js';
import { formatMac, parseMacInto } from '../wire/mac.js';
import { ipOptionsFragment } from './ip-options.js';
import { PacketType } from './skb.js';
import type { Conn } from '../conntrack/types.js';

/** The input routing decision for a received datagram. */
export type InputRoute =
  | { kind: 'local'; type: 'local' | 'broadcast' | 'multicast' }
  /** `redirect`: it leaves by the interface it came in by, towards a source on that link (IPSKB_DOREDIRECT). */
  | { kind: 'forward'; type: 'unicast'; dev: string; gateway: number; redirect: boolean }
  /** `icmpCode`: ip_error answers with a destination unreachable of that code (a forwarding host without a usable route). */
  | { kind: 'drop'; why: string; icmpCode?: number };

/** An output route for a locally generated datagram. */
export type OutRoute =
  | { kind: 'ok'; type: 'local' | 'unicast' | 'broadcast' | 'multicast'; dev: string; gateway: number; src: number }
  | { kind: 'drop'; why: string; errno?: string };

const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

const isMulticast = (a: number) => a >>> 28 === 0xe;
const isLbcast = (a: number) => a === 0xffffffff;
const isZeronet = (a: number) => a >>> 24 === 0;
const isLoopback = (a: number) => a >>> 24 === 127;

/**
 * A neighbour being resolved (an INCOMPLETE entry): the datagrams waiting
 * for its address, the ARP probes sent and when the next one is due.
 * Kept in the machine state (JSON, datagrams as hex) between commands.
 */
export interface Resolving {
  dev: string;
  ip: number;
  /** Probes counted as the kernel counts them (starting at ucast_probes). */
  probes: number;
  /** Virtual time of the next retransmission, ns. */
  next: number;
  /** Waiting datagrams, hex. */
  queue: string[];
  /** For each waiting datagram, the id of the connection it holds a reference to (0: none). */
  conns?: number[];
}

/** ucast_probes, mcast_probes and retrans_time of the kernel's ARP defaults. */
const UCAST_PROBES = 3;
const MCAST_PROBES = 3;
const RETRANS_NS = 1_000_000_000;


/** Link and routing operations of one machine. */
export class NetOps {
  private readonly macCache = new Map<string, Uint8Array>();
  constructor(
    readonly net: NetState,
    /** Neighbours being resolved (persisted with the machine). */
    readonly resolving: Resolving[] = [],
  ) {}

  private readonly linkCache = new Map<string, Link | undefined>();

  /** The link named `name` (cached: links do not change while packets run). */
  link(name: string): Link | undefined {
    let l = this.linkCache.get(name);
    if (l === undefined && !this.linkCache.has(name)) {
      l = linkByName(this.net, name);
      this.linkCache.set(name, l);
    }
    return l;
  }

  /** The link's MAC as bytes. */
  mac(name: string): Uint8Array {
    let m = this.macCache.get(name);
    if (!m) {
      m = new Uint8Array(6);
      const l = this.link(name);
      if (l) parseMacInto(l.mac, m);
      this.macCache.set(name, m);
    }
    return m;
  }

  /** Whether the link exists and is administratively up. */
  isUp(name: string): boolean {
    return this.link(name)?.up ?? false;
  }

  /** Whether the link is the loopback device. */
  isLoopback(name: string): boolean {
    return this.link(name)?.kind === 'loopback';
  }

  /** The link's MTU. */
  mtu(name: string): number {
    return this.link(name)?.mtu ?? 1500;
  }

  /**
   * An integer sysctl (its first number), undefined when absent. Values are
   * cached: sysctls do not change while packets run.
   */
  sysctl(key: string): number | undefined {
    let v = this.sysctlCache.get(key);
    if (v === undefined && !this.sysctlCache.has(key)) {
      const text = this.net.sysctl[key];
      v = text === undefined ? undefined : Number(text.split(/\s+/)[0]);
      this.sysctlCache.set(key, v);
    }
    return v;
  }

  private readonly sysctlCache = new Map<string, number | undefined>();
  private readonly confCache = new Map<string, Map<string, number>>();

  private conf(dev: string, name: string): number {
    let perDev = this.confCache.get(dev);
    if (!perDev) this.confCache.set(dev, (perDev = new Map()));
    let v = perDev.get(name);
    if (v === undefined) {
      v = this.sysctl(`net.ipv4.conf.${dev}.${name}`) ?? this.sysctl(`net.ipv4.conf.default.${name}`) ?? 0;
      perDev.set(name, v);
    }
    return v;
  }

  /** Route lookups by destination (the network does not change while packets run). */
  private readonly fibCache = new Map<number, ReturnType<typeof fibLookup>>();

  private fib(dst: number): ReturnType<typeof fibLookup> {
    let r = this.fibCache.get(dst);
    if (!r) {
      r = fibLookup(this.net, dst);
      if (this.fibCache.size > 65536) this.fibCache.clear();
      this.fibCache.set(dst, r);
    }
    return r;
  }

  /** Counts a received frame. */
  countRx(name: string, bytes: number): void {
    const l = this.link(name);
    if (l) {
      l.rxPackets++;
      l.rxBytes += bytes;
    }
  }

  /** Counts a transmitted frame. */
  countTx(name: string, bytes: number): void {
    const l = this.link(name);
    if (l) {
      l.txPackets++;
      l.txBytes += bytes;
    }
  }

  /** eth_type_trans: how the link classifies a frame by its destination MAC. */
  classify(name: string, frame: Uint8Array): PacketType {
    if (frame[0]! & 1) {
      for (let i = 0; i < 6; i++) if (frame[i] !== 0xff) return PacketType.MULTICAST;
      return PacketType.BROADCAST;
    }
    const own = this.mac(name);
    for (let i = 0; i < 6; i++) if (frame[i] !== own[i]) return PacketType.OTHERHOST;
    return PacketType.HOST;
  }

  /** arp_process: answers requests for local addresses, learns senders, releases waiting datagrams. */
  arpReceive(dev: string, frame: Uint8Array, send: (frame: Uint8Array) => void): void {
    const a = frame.subarray(14);
    if (a.length < 28) return;
    const hrd = (a[0]! << 8) | a[1]!;
    const pro = (a[2]! << 8) | a[3]!;
    if (hrd !== 1 || pro !== 0x0800 || a[4] !== 6 || a[5] !== 4) return;
    const op = (a[6]! << 8) | a[7]!;
    const sha = a.subarray(8, 14);
    const sip = get32(a, 14);
    const tip = get32(a, 24);
    const link = this.link(dev);
    if (!link || link.kind === 'loopback') return;
    if (isMulticast(tip) || (isLoopback(tip) && !this.conf(dev, 'route_localnet'))) return;
    if (sha[0]! & 1) return;
    if (op === 1) {
      if (sip === 0) {
        // duplicate address detection probe: answered when the address is ours
        if (isLocalAddress(this.net, tip)) send(this.arpFrame(dev, 2, tip, sha, sip, sha));
        return;
      }
      const r = fibLookup(this.net, tip);
      if (r.type !== 'local') return;
      neighLearn(this.net, dev, sip, formatMac(sha, 0), 'stale');
      send(this.arpFrame(dev, 2, tip, sha, sip, sha));
      this.release(dev, sip, send);
      return;
    }
    if (op === 2) {
      // replies update entries we asked for; unsolicited ones are ignored (arp_accept=0)
      if (this.net.neigh.some((n) => n.ip === sip && linkByIndex(this.net, n.dev)?.name === dev)) {
        neighLearn(this.net, dev, sip, formatMac(sha, 0), 'reachable');
        this.release(dev, sip, send);
      }
    }
  }

  /** Builds an ARP frame from `dev`. */
  private arpFrame(dev: string, op: number, spa: number, dstMac: Uint8Array, tpa: number, tha: Uint8Array): Uint8Array {
    const f = new Uint8Array(42);
    const own = this.mac(dev);
    f.set(dstMac, 0);
    f.set(own, 6);
    f[12] = 0x08;
    f[13] = 0x06;
    f[14] = 0;
    f[15] = 1;
    f[16] = 0x08;
    f[17] = 0;
    f[18] = 6;
    f[19] = 4;
    f[20] = 0;
    f[21] = op;
    f.set(own, 22);
    put32(f, 28, spa);
    f.set(tha, 32);
    put32(f, 38, tpa);
    return f;
  }

  /** The neighbour's address arrived: its waiting datagrams go out. */
  private release(dev: string, ip: number, send: (frame: Uint8Array) => void): void {
    const i = this.resolving.findIndex((r) => r.dev === dev && r.ip === ip);
    if (i < 0) return;
    const [r] = this.resolving.splice(i, 1);
    this.unhold(r!);
    const mac = neighLookup(this.net, dev, ip);
    if (!mac) return;
    for (const h of r!.queue) send(this.frame(dev, mac, fromHex(h)));
  }

  /** Finds a connection by id, for the references queued datagrams hold. */
  connById: (id: number) => Conn | undefined = () => undefined;

  /** The queued datagrams of `r` leave the queue: their connections are no longer held. */
  private unhold(r: Resolving): void {
    for (const id of r.conns ?? []) {
      const c = id ? (this.connById(id) as (Conn & { held?: number }) | undefined) : undefined;
      if (c && c.held) c.held--;
    }
  }

  private hold(r: Resolving, ct: Conn | null): void {
    (r.conns ??= []).push(ct ? ct.id : 0);
    if (ct) {
      const c = ct as Conn & { held?: number };
      c.held = (c.held ?? 0) + 1;
    }
  }

  /** The ARP request for `target` on `dev` (arp_solicit, arp_announce=0). */
  private solicit(dev: string, target: number, datagram: Uint8Array, send: (frame: Uint8Array) => void): void {
    const saddr = get32(datagram, 12);
    const spa = isLocalAddress(this.net, saddr) ? saddr : selectSourceAddress(this.net, dev, target, SCOPE_LINK);
    send(this.arpFrame(dev, 1, spa, BROADCAST_MAC, target, new Uint8Array(6)));
  }

  /**
   * The neighbour timers due by `now` (neigh_timer_handler): another ARP
   * request each second, and after the last one the entry fails: its
   * datagrams are dropped, each answered by `unreachable` (the kernel's
   * host unreachable, arp_error_report).
   */
  runTimers(now: number, send: (dev: string, frame: Uint8Array) => void, unreachable: (datagram: Uint8Array) => void): void {
    for (let i = 0; i < this.resolving.length; ) {
      const r = this.resolving[i]!;
      if (r.next > now) {
        i++;
        continue;
      }
      if (r.probes >= UCAST_PROBES + MCAST_PROBES) {
        this.resolving.splice(i, 1);
        this.unhold(r);
        const link = this.link(r.dev);
        const n = link && this.net.neigh.find((x) => x.dev === link.index && x.ip === r.ip);
        if (n && n.state === 'incomplete') n.state = 'failed';
        for (const h of r.queue) unreachable(fromHex(h));
        continue;
      }
      r.probes++;
      r.next += RETRANS_NS;
      this.solicit(r.dev, r.ip, fromHex(r.queue[r.queue.length - 1]!), (f) => send(r.dev, f));
      i++;
    }
  }

  /** When the next neighbour timer is due, Infinity when none. */
  nextTimer(): number {
    let t = Infinity;
    for (const r of this.resolving) if (r.next < t) t = r.next;
    return t;
  }

  /** Neighbour MACs already parsed, by their text. */
  private readonly parsedMacs = new Map<string, Uint8Array>();

  private macBytes(text: string): Uint8Array {
    let m = this.parsedMacs.get(text);
    if (!m) {
      m = new Uint8Array(6);
      parseMacInto(text, m, 0);
      this.parsedMacs.set(text, m);
    }
    return m;
  }

  /**
   * The frame of a datagram. `inPlace`: the 14 bytes before the datagram in
   * its buffer are its own (the link header it was received with), so the new
   * header is written there and nothing is allocated or copied.
   */
  private frame(dev: string, dstMac: string | Uint8Array, datagram: Uint8Array, inPlace = false): Uint8Array {
    const f = inPlace ? new Uint8Array(datagram.buffer, datagram.byteOffset - 14, datagram.length + 14) : new Uint8Array(14 + datagram.length);
    f.set(typeof dstMac === 'string' ? this.macBytes(dstMac) : dstMac, 0);
    const link = this.link(dev);
    if (link && link.kind !== 'loopback') f.set(this.mac(dev), 6);
    f[12] = 0x08;
    f[13] = 0x00;
    if (!inPlace) f.set(datagram, 14);
    return f;
  }

  /**
   * The frame for a datagram to `nexthop` (or its destination) on `dev`;
   * null when the neighbour is unknown: an ARP request goes out through
   * `send` and the datagram waits for the reply.
   */
  resolveAndFrame(dev: string, nexthop: number, datagram: Uint8Array, send: (frame: Uint8Array) => void, now = 0, ct: Conn | null = null, inPlace = false): Uint8Array | null {
    const link = this.link(dev);
    if (!link) return null;
    if (link.kind === 'loopback') return this.frame(dev, new Uint8Array(6), datagram);
    const target = nexthop || get32(datagram, 16);
    if (link.kind === 'dummy') return this.frame(dev, this.mac(dev), datagram);
    // a broadcast destination (a broadcast route) needs no neighbour: the frame goes to ff:ff:ff:ff:ff:ff
    if (isLbcast(target) || this.isSubnetBroadcast(link, target) || this.fib(target).type === 'broadcast') return this.frame(dev, BROADCAST_MAC, datagram);
    if (isMulticast(target)) {
      const m = new Uint8Array([0x01, 0x00, 0x5e, (target >>> 16) & 0x7f, (target >>> 8) & 255, target & 255]);
      return this.frame(dev, m, datagram);
    }
    const mac = neighLookup(this.net, dev, target);
    if (mac) return this.frame(dev, mac, datagram, inPlace);
    // __neigh_event_send: an INCOMPLETE entry only queues; a new (or failed) one starts resolving with a probe
    const r = this.resolving.find((x) => x.dev === dev && x.ip === target);
    if (r) {
      r.queue.push(toHex(datagram));
      this.hold(r, ct);
      return null;
    }
    const n = this.net.neigh.find((x) => x.dev === link.index && x.ip === target);
    if (n) n.state = 'incomplete';
    else this.net.neigh.push({ dev: link.index, ip: target, state: 'incomplete' });
    const fresh: Resolving = { dev, ip: target, probes: UCAST_PROBES + 1, next: now + RETRANS_NS, queue: [toHex(datagram)] };
    this.hold(fresh, ct);
    this.resolving.push(fresh);
    this.solicit(dev, target, datagram, send);
    return null;
  }

  private isSubnetBroadcast(link: Link, a: number): boolean {
    return link.inet.some((i) => i.broadcast === a && i.broadcast !== 0);
  }

  /**
   * ip_route_input_slow for a datagram from `src` to `dst` received on
   * `dev`: local delivery, forwarding, or a drop with the reason.
   */
  routeInput(dev: string, src: number, dst: number): InputRoute {
    const loopDev = this.isLoopback(dev);
    if (isMulticast(src) || isLbcast(src)) return { kind: 'drop', why: 'martian source' };
    if (isLbcast(dst) || (src === 0 && dst === 0)) return this.brdInput(dev, src);
    if (src === 0) return { kind: 'drop', why: 'martian source' };
    if (isMulticast(dst)) return { kind: 'local', type: 'multicast' };
    if (isZeronet(dst)) return { kind: 'drop', why: 'martian destination' };
    if (!loopDev && !this.conf(dev, 'route_localnet')) {
      if (isLoopback(dst)) return { kind: 'drop', why: 'martian destination' };
      if (isLoopback(src)) return { kind: 'drop', why: 'martian source' };
    }
    const r = this.fib(dst);
    if (r.type === 'broadcast') return this.brdInput(dev, src);
    if (r.type === 'local') {
      const bad = this.validateSource(dev, src);
      if (bad) return { kind: 'drop', why: bad };
      return { kind: 'local', type: 'local' };
    }
    if (!this.conf(dev, 'forwarding')) return { kind: 'drop', why: 'not for this host and forwarding is off' };
    if (r.type !== 'unicast') {
      const why = r.dev === '' && r.type === 'unreachable' && !this.hasRoute(dst) ? 'no route' : `route to ${dst >>> 24}.${(dst >>> 16) & 255}.${(dst >>> 8) & 255}.${dst & 255} is ${r.type}`;
      // ip_error: no route is ENETUNREACH, an unreachable route EHOSTUNREACH, prohibit EACCES; a blackhole says nothing
      const icmpCode = why === 'no route' ? 0 : r.type === 'unreachable' ? 1 : r.type === 'prohibit' ? 13 : undefined;
      return icmpCode === undefined ? { kind: 'drop', why } : { kind: 'drop', why, icmpCode };
    }
    const bad = this.validateSource(dev, src);
    if (bad) return { kind: 'drop', why: bad };
    return { kind: 'forward', type: 'unicast', dev: r.dev, gateway: r.gateway, redirect: this.doRedirect(dev, r.dev, src) };
  }

  /** Whether some route of the main or local table covers `dst` (an explicit unreachable route counts). */
  private hasRoute(dst: number): boolean {
    return this.net.routes.some((r) => (r.table === 254 || r.table === 255) && (r.dstLen === 0 || (dst >>> (32 - r.dstLen)) === (r.dst >>> (32 - r.dstLen))));
  }

  /**
   * __mkroute_input's redirect decision: out by the input interface, which
   * sends redirects, with the source directly on that link (the source
   * check then finds a gatewayless route back through it).
   */
  private doRedirect(inDev: string, outDev: string, src: number): boolean {
    if (inDev !== outDev) return false;
    if (!(this.sysctl('net.ipv4.conf.all.send_redirects') || this.conf(inDev, 'send_redirects'))) return false;
    const back = this.fib(src);
    return back.type === 'unicast' && back.dev === inDev && back.gateway === 0;
  }

  private brdInput(dev: string, src: number): InputRoute {
    if (src !== 0 && !isZeronet(src)) {
      const bad = this.validateSource(dev, src);
      if (bad) return { kind: 'drop', why: bad };
    }
    return { kind: 'local', type: 'broadcast' };
  }

  /** fib_validate_source: rp_filter and local source addresses. */
  private validateSource(dev: string, src: number): string | null {
    const rpf = Math.max(this.sysctl('net.ipv4.conf.all.rp_filter') ?? 0, this.conf(dev, 'rp_filter'));
    const acceptLocal = this.conf(dev, 'accept_local');
    if (!rpf) {
      if (acceptLocal) return null;
      if (isLocalAddress(this.net, src) && !this.isLoopback(dev)) return 'martian source (one of our own addresses)';
      return null;
    }
    const r = this.fib(src);
    if (r.type !== 'unicast' && (r.type !== 'local' || !acceptLocal)) return 'rp_filter: no route back to the source';
    if (rpf === 1 && r.dev !== dev) return `rp_filter: the route back to the source leaves through ${r.dev}`;
    return null;
  }

  /** The output route for a locally generated datagram to `dst`. */
  routeOutput(dst: number): OutRoute {
    const r = routeOutput(this.net, dst);
    if ('errno' in r) {
      const errno = (r as { errno: string }).errno;
      return { kind: 'drop', why: `no route (${errno})`, errno };
    }
    const type = r.type === 'local' || r.type === 'broadcast' || r.type === 'multicast' ? r.type : 'unicast';
    return { kind: 'ok', type, dev: r.dev.name, gateway: r.gateway, src: r.src };
  }

  /**
   * ip_do_fragment (slow path): splits a datagram into fragments of at most
   * `mtu` bytes; options are copied into later fragments only when their
   * copied flag is set.
   */
  fragment(d: Uint8Array, mtu: number): Uint8Array[] {
    const ihl = (d[0]! & 15) * 4;
    const payload = d.subarray(ihl);
    const first = d.subarray(0, ihl);
    const later = laterHeader(first);
    const out: Uint8Array[] = [];
    const baseOff = ((d[6]! << 8) | d[7]!) & 0x1fff;
    const origMf = (d[6]! & 0x20) !== 0;
    let off = 0;
    while (off < payload.length) {
      const hdr = off === 0 ? first : later;
      let len = Math.min(payload.length - off, mtu - hdr.length);
      if (off + len < payload.length) len &= ~7;
      const f = new Uint8Array(hdr.length + len);
      f.set(hdr, 0);
      f[0] = 0x40 | (hdr.length / 4);
      f.set(payload.subarray(off, off + len), hdr.length);
      const more = off + len < payload.length || origMf;
      const field = ((d[6]! << 8) & 0xc000) | (more ? 0x2000 : 0) | (baseOff + off / 8);
      f[6] = field >>> 8;
      f[7] = field & 255;
      f[2] = f.length >>> 8;
      f[3] = f.length & 255;
      fillIpv4Checksum(f, 0);
      out.push(f);
      off += len;
    }
    return out;
  }
}

/**
 * The header of a non-first fragment (ip_options_fragment): the same
 * length, options without the copied flag turned into No Operation bytes.
 */
function laterHeader(first: Uint8Array): Uint8Array {
  if (first.length === 20) return first;
  const h = first.slice();
  ipOptionsFragment(h);
  return h;
}
