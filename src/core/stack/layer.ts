/**
 * A namespace's socket layer: the tables of TCP, UDP and raw sockets,
 * port allocation, and the demultiplexing of delivered packets to them
 * (raw copies first, as raw_v4_input does, then the protocol's socket;
 * ICMP errors to the socket whose datagram caused them).
 */
import type { Skb } from '../path/skb.js';
import { PacketType } from '../path/skb.js';
import { get16, get32 } from '../wire/bytes.js';
import { checksumFinish, checksumPartial, pseudoHeaderSum } from '../wire/checksum.js';
import type { RawSocket, SocketDemux, SocketInfo, SocketLayer, StackEnv, TcpSocket, UdpSocket } from './api.js';
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_PARAMETERPROB, ICMP_TIME_EXCEEDED, isIcmpError, tcpIcmpError, udpIcmpError } from './icmp-errors.js';
import { HashedIpIds } from './ip-out.js';
import { RawSock } from './raw-socket.js';
import { sysctlInt, sysctlInts } from './sysctl.js';
import { newSegment, parseSegment, seqAdd, type Segment } from './tcp-segment.js';
import { TcpSock } from './tcp-socket.js';
import { UdpSock } from './udp-socket.js';

/** Key of the connection table: local and remote port. */
function portsKey(lport: number, rport: number): number {
  return ((lport << 16) | rport) >>> 0;
}

/** Whether a packet was made by this host (its checksums need no check). */
function locallyGenerated(skb: Skb): boolean {
  return skb.indev === '' && skb.mac === null;
}

/** The socket layer of one network namespace. */
export class Stack implements SocketLayer, SocketDemux {
  readonly ipIds: HashedIpIds;
  /** Every TCP socket with a port, in creation order (for ss). */
  private readonly tcpAll: TcpSock[] = [];
  /** Connections (and requests, TIME-WAIT) by local and remote port. */
  private readonly tcpConns = new Map<number, TcpSock[]>();
  /** Listeners by port. */
  private readonly tcpListeners = new Map<number, TcpSock[]>();
  private readonly udpAll: UdpSock[] = [];
  private readonly udpByPort = new Map<number, UdpSock[]>();
  private readonly raws: RawSock[] = [];
  private readonly seg: Segment = newSegment();

  /** The namespace's secret for initial sequence numbers, drawn at the first connection. */
  private isnSecret: number | null = null;

  constructor(readonly env: StackEnv) {
    this.ipIds = new HashedIpIds(env);
  }

  /**
   * The initial sequence number of a connection (secure_tcp_seq): a keyed
   * hash of the four-tuple plus the clock in 64 ns units, so that a new
   * connection on a four-tuple starts after the old one (which lets a SYN
   * through a TIME-WAIT socket).
   */
  isn(laddr: number, lport: number, raddr: number, rport: number): number {
    if (this.isnSecret === null) this.isnSecret = this.env.random32();
    let h = this.isnSecret;
    for (const v of [laddr, raddr, ((lport << 16) | rport) >>> 0]) {
      h = Math.imul(h ^ v, 0x9e3779b1) >>> 0;
      h = (h ^ (h >>> 15)) >>> 0;
    }
    return (h + Math.floor(this.env.nowNs() / 64)) >>> 0;
  }

  // ---- SocketLayer ----

  tcp(): TcpSocket {
    return new TcpSock(this);
  }

  udp(): UdpSocket {
    return new UdpSock(this);
  }

  raw(protocol: number): RawSocket {
    const s = new RawSock(this, protocol);
    this.raws.push(s);
    return s;
  }

  list(): SocketInfo[] {
    const out: SocketInfo[] = [];
    const info = (s: TcpSock): SocketInfo => {
      const listening = s.state === 'LISTEN';
      const i: SocketInfo = {
        proto: 'tcp',
        state: s.state,
        local: { ...s.local },
        remote: { ...s.remote },
        recvQ: listening ? s.acceptQueue.length : s.state === 'TIME-WAIT' ? 0 : s.recvQueued,
        sendQ: listening ? s.backlog : s.state === 'TIME-WAIT' ? 0 : s.sendQueued,
      };
      if (s.process && !s.orphan && s.state !== 'TIME-WAIT') i.process = s.process;
      return i;
    };
    for (const s of this.tcpAll) if (s.state === 'LISTEN') out.push(info(s));
    for (const s of this.tcpAll) if (s.state !== 'LISTEN' && s.state !== 'CLOSED') out.push(info(s));
    for (const s of this.udpAll) {
      const i: SocketInfo = {
        proto: 'udp',
        state: s.connected ? 'ESTAB' : 'UNCONN',
        local: { ...s.local },
        remote: { ...s.remote },
        recvQ: s.queued,
        sendQ: 0,
      };
      if (s.process) i.process = s.process;
      out.push(i);
    }
    for (const s of this.raws) {
      const i: SocketInfo = { proto: 'raw', state: 'UNCONN', local: { ...s.local }, remote: { addr: 0, port: 0 }, recvQ: 0, sendQ: 0 };
      if (s.process) i.process = s.process;
      out.push(i);
    }
    return out;
  }

  // ---- TCP tables (used by TcpSock) ----

  /** Adds the socket to the listing once it has a port. */
  tcpPortTaken(s: TcpSock): void {
    if (!this.tcpAll.includes(s)) this.tcpAll.push(s);
  }

  /** Removes a socket from the listing for good. */
  tcpRemove(s: TcpSock): void {
    const i = this.tcpAll.indexOf(s);
    if (i >= 0) this.tcpAll.splice(i, 1);
    this.tcpUnhash(s);
    this.tcpListenUnhash(s);
  }

  /** Files a connection (or request, TIME-WAIT) under its ports. */
  tcpHash(s: TcpSock): void {
    const k = portsKey(s.local.port, s.remote.port);
    const l = this.tcpConns.get(k);
    if (!l) this.tcpConns.set(k, [s]);
    else if (!l.includes(s)) l.push(s);
  }

  /** Takes a connection out of the connection table. */
  tcpUnhash(s: TcpSock): void {
    const k = portsKey(s.local.port, s.remote.port);
    const l = this.tcpConns.get(k);
    if (!l) return;
    const i = l.indexOf(s);
    if (i >= 0) l.splice(i, 1);
    if (l.length === 0) this.tcpConns.delete(k);
  }

  /** Files a listener under its port. */
  tcpListenHash(s: TcpSock): void {
    const l = this.tcpListeners.get(s.local.port);
    if (!l) this.tcpListeners.set(s.local.port, [s]);
    else if (!l.includes(s)) l.push(s);
  }

  /** Takes a listener out of the listener table. */
  tcpListenUnhash(s: TcpSock): void {
    const l = this.tcpListeners.get(s.local.port);
    if (!l) return;
    const i = l.indexOf(s);
    if (i >= 0) l.splice(i, 1);
    if (l.length === 0) this.tcpListeners.delete(s.local.port);
  }

  /** Requests (SYN-RECV, not yet established) of a listener. */
  tcpRequestsOf(listener: TcpSock): TcpSock[] {
    return this.tcpAll.filter((s) => s.parent === listener && s.state === 'SYN-RECV');
  }

  /** Whether binding `addr`:`port` clashes with another socket's port (TIME-WAIT ignored, as with SO_REUSEADDR). */
  tcpBindConflict(self: TcpSock, addr: number, port: number): boolean {
    for (const s of this.tcpAll) {
      if (s === self || s.local.port !== port || s.state === 'TIME-WAIT' || s.parent) continue;
      if (s.state === 'CLOSED' && !s.bound) continue;
      if (addr === 0 || s.local.addr === 0 || s.local.addr === addr) return true;
    }
    return false;
  }

  /** Whether another socket already listens on the socket's address and port. */
  tcpListenConflict(self: TcpSock): boolean {
    for (const s of this.tcpListeners.get(self.local.port) ?? []) {
      if (s === self) continue;
      if (self.local.addr === 0 || s.local.addr === 0 || s.local.addr === self.local.addr) return true;
    }
    return false;
  }

  private portRange(): [number, number] {
    const r = sysctlInts(this.env, 'net.ipv4.ip_local_port_range', [32768, 60999]);
    return [r[0]!, r[1]!];
  }

  /**
   * Walks the local port range from a random start, ports of one parity
   * first (`firstOdd`), then the other; returns the first port `ok` accepts.
   */
  private searchPorts(firstOdd: boolean, ok: (port: number) => boolean): number | null {
    const [low, high] = this.portRange();
    const n = high - low + 1;
    if (n <= 0) return null;
    const start = this.env.random32() % n;
    for (const parity of firstOdd ? [1, 0] : [0, 1]) {
      for (let i = 0; i < n; i++) {
        const port = low + ((start + i) % n);
        if ((port & 1) !== parity) continue;
        if (ok(port)) return port;
      }
    }
    return null;
  }

  /** An ephemeral port for bind(0) or listen() on an unbound socket (odd ports first, as inet_csk_get_port). */
  tcpBindEphemeral(addr: number): number | null {
    return this.searchPorts(true, (p) => !this.tcpAll.some((s) => s.local.port === p && (addr === 0 || s.local.addr === 0 || s.local.addr === addr)));
  }

  /** Whether a connection (or TIME-WAIT) already uses the four-tuple. */
  tcpTupleInUse(src: number, lport: number, dst: number, dport: number, self?: TcpSock): boolean {
    for (const s of this.tcpConns.get(portsKey(lport, dport)) ?? []) {
      if (s !== self && s.local.addr === src && s.remote.addr === dst) return true;
    }
    return false;
  }

  /**
   * The ephemeral port of a connect() (__inet_hash_connect): even ports
   * first; a port bound by bind() or a listener is skipped, one used by
   * other connections only if the four-tuple is free.
   */
  tcpConnectPort(src: number, dst: number, dport: number): number | null {
    return this.searchPorts(false, (p) => {
      for (const s of this.tcpAll) if (s.local.port === p && (s.bound || s.state === 'LISTEN')) return false;
      return !this.tcpTupleInUse(src, p, dst, dport);
    });
  }

  /** The connection a segment belongs to. */
  private tcpLookup(saddr: number, sport: number, daddr: number, dport: number): TcpSock | null {
    const l = this.tcpConns.get(portsKey(dport, sport));
    if (!l) return null;
    for (const s of l) if (s.remote.addr === saddr && s.local.addr === daddr) return s;
    return null;
  }

  /** The listener for a destination: one bound to the address before one bound to any. */
  private tcpListenerFor(daddr: number, dport: number): TcpSock | null {
    const l = this.tcpListeners.get(dport);
    if (!l) return null;
    let wild: TcpSock | null = null;
    for (const s of l) {
      if (s.local.addr === daddr) return s;
      if (s.local.addr === 0 && !wild) wild = s;
    }
    return wild;
  }

  /** A SYN a TIME-WAIT socket let through: the listener takes it with the given ISN. */
  tcpTimeWaitSyn(seg: Segment, isn: number): boolean {
    const l = this.tcpListenerFor(seg.daddr, seg.dport);
    if (!l) return false;
    return this.listenerRcv(l, seg, isn);
  }

  /** A segment for a listener (tcp_v4_conn_request). Returns false when a reset is due. */
  private listenerRcv(l: TcpSock, seg: Segment, isn?: number): boolean {
    const f = seg.flags;
    if (f & 0x04) return true;
    if (f & 0x10) return false;
    if (!(f & 0x02) || f & 0x01) return true;
    if (l.acceptQueue.length > l.backlog) return true;
    const env = this.env;
    const r = env.route(seg.saddr);
    if ('errno' in r) return true;
    const q = new TcpSock(this);
    q.state = 'SYN-RECV';
    q.parent = l;
    q.cred = l.cred;
    q.local = { addr: seg.daddr, port: l.local.port };
    q.remote = { addr: seg.saddr, port: seg.sport };
    q.setupMss(r.mtu);
    q.irs = seg.seq;
    q.rcvNxt = seqAdd(seg.seq, 1);
    q.rcvWup = q.rcvNxt;
    q.copiedSeq = q.rcvNxt;
    q.tsOk = sysctlInt(env, 'net.ipv4.tcp_timestamps', 1) !== 0 && seg.hasTs;
    q.sackOk = sysctlInt(env, 'net.ipv4.tcp_sack', 1) !== 0 && seg.sackOk;
    q.wscaleOk = sysctlInt(env, 'net.ipv4.tcp_window_scaling', 1) !== 0 && seg.wscale >= 0;
    q.sndWscale = q.wscaleOk ? seg.wscale : 0;
    q.tsRecent = seg.tsVal;
    q.tsOffset = env.random32();
    q.iss = isn ?? this.isn(seg.daddr, seg.dport, seg.saddr, seg.sport);
    q.sndUna = q.iss;
    q.sndNxt = seqAdd(q.iss, 1);
    q.sndMax = q.sndNxt;
    q.sndSml = q.sndNxt;
    q.pushSeq = q.sndNxt;
    q.sndWnd = seg.window;
    q.sndWl1 = seg.seq;
    q.mss = Math.max(Math.min(seg.mss || 536, r.mtu - 40) - (q.tsOk ? 12 : 0), sysctlInt(env, 'net.ipv4.tcp_min_snd_mss', 48));
    q.initRcvWindow(q.advmss - (q.tsOk ? 12 : 0), q.wscaleOk);
    q.rcvMss = Math.max(Math.min(q.advmss, q.mss, Math.floor(q.rcvWnd / 2), 536), 88);
    q.ipId = env.random32() & 0xffff;
    this.tcpAll.push(q);
    this.tcpHash(q);
    q.startRequest();
    return true;
  }

  // ---- UDP tables ----

  /** Files a UDP socket under its port (and in the listing). */
  udpHash(s: UdpSock): void {
    if (!this.udpAll.includes(s)) this.udpAll.push(s);
    const l = this.udpByPort.get(s.local.port);
    if (!l) this.udpByPort.set(s.local.port, [s]);
    else if (!l.includes(s)) l.push(s);
  }

  /** Takes a UDP socket out of the tables. */
  udpUnhash(s: UdpSock): void {
    const i = this.udpAll.indexOf(s);
    if (i >= 0) this.udpAll.splice(i, 1);
    const l = this.udpByPort.get(s.local.port);
    if (!l) return;
    const j = l.indexOf(s);
    if (j >= 0) l.splice(j, 1);
    if (l.length === 0) this.udpByPort.delete(s.local.port);
  }

  /** Whether binding `addr`:`port` clashes with another UDP socket. */
  udpConflict(self: UdpSock, addr: number, port: number): boolean {
    for (const s of this.udpByPort.get(port) ?? []) {
      if (s !== self && (addr === 0 || s.local.addr === 0 || s.local.addr === addr)) return true;
    }
    return false;
  }

  /** An ephemeral UDP port: a random one of the range, any parity. */
  udpEphemeral(addr: number): number | null {
    const [low, high] = this.portRange();
    const n = high - low + 1;
    if (n <= 0) return null;
    const start = this.env.random32() % n;
    for (let i = 0; i < n; i++) {
      const p = low + ((start + i) % n);
      if (!(this.udpByPort.get(p) ?? []).some((s) => addr === 0 || s.local.addr === 0 || s.local.addr === addr)) return p;
    }
    return null;
  }

  /** The socket for a datagram (compute_score: bound address, connected peer and port each count). */
  private udpLookup(saddr: number, sport: number, daddr: number, dport: number): UdpSock | null {
    const l = this.udpByPort.get(dport);
    if (!l) return null;
    let best: UdpSock | null = null;
    let bestScore = -1;
    for (const s of l) {
      let score = 0;
      if (s.local.addr !== 0) {
        if (s.local.addr !== daddr) continue;
        score += 4;
      }
      if (s.connected) {
        if (s.remote.addr !== saddr || s.remote.port !== sport) continue;
        score += 8;
      }
      if (score > bestScore) {
        best = s;
        bestScore = score;
      }
    }
    return best;
  }

  /** Takes a raw socket out of the list. */
  rawUnhash(s: RawSock): void {
    const i = this.raws.indexOf(s);
    if (i >= 0) this.raws.splice(i, 1);
  }

  // ---- SocketDemux ----

  deliver(skb: Skb): boolean {
    const d = skb.data;
    if (d.length < 20) return false;
    const ihl = (d[0]! & 15) * 4;
    const proto = d[9]!;
    let rawTook = false;
    if (this.raws.length > 0) {
      for (const r of this.raws) {
        if (r.protocol === proto && !r.closed) {
          r.deliver(d);
          rawTook = true;
        }
      }
    }
    switch (proto) {
      case 6:
        return this.tcpRcv(skb, ihl);
      case 17:
        return this.udpRcv(skb, ihl);
      case 1:
        this.icmpRcv(d, ihl);
        return false;
      case 136:
        return false;
    }
    return rawTook;
  }

  private tcpRcv(skb: Skb, ihl: number): boolean {
    if (skb.pktType !== PacketType.HOST && skb.pktType !== PacketType.OUTGOING && skb.pktType !== PacketType.LOOPBACK) return false;
    if (skb.route === 'broadcast' || skb.route === 'multicast') return false;
    const d = skb.data;
    if (d.length < ihl + 20) return false;
    const saddr = get32(d, 12);
    const daddr = get32(d, 16);
    const sport = get16(d, ihl);
    const dport = get16(d, ihl + 2);
    const s = this.tcpLookup(saddr, sport, daddr, dport);
    const l = s ? null : this.tcpListenerFor(daddr, dport);
    if (!s && !l) return false;
    const seg = this.seg;
    if (!parseSegment(d, ihl, seg)) return false;
    if (!locallyGenerated(skb)) {
      const len = d.length - ihl;
      if (checksumFinish(checksumPartial(d, ihl, len, pseudoHeaderSum(seg.saddr, seg.daddr, 6, len))) !== 0) return true;
    }
    if (s) return s.receive(seg);
    return this.listenerRcv(l!, seg);
  }

  private udpRcv(skb: Skb, ihl: number): boolean {
    const d = skb.data;
    const len = d.length - ihl;
    if (len < 8) return false;
    const ulen = get16(d, ihl + 4);
    if (ulen < 8 || ulen > len) return false;
    const saddr = get32(d, 12);
    const daddr = get32(d, 16);
    const sport = get16(d, ihl);
    const dport = get16(d, ihl + 2);
    if (skb.route === 'broadcast' || skb.route === 'multicast') {
      let took = false;
      for (const s of this.udpByPort.get(dport) ?? []) {
        if (s.local.addr !== 0 && s.local.addr !== daddr) continue;
        if (s.connected && (s.remote.addr !== saddr || s.remote.port !== sport)) continue;
        if (!took && !udpChecksumOk(skb, ihl, ulen, saddr, daddr)) return true;
        s.deliver(d.slice(ihl + 8, ihl + ulen), { addr: saddr, port: sport });
        took = true;
      }
      return took;
    }
    const s = this.udpLookup(saddr, sport, daddr, dport);
    if (!s) return false;
    if (udpChecksumOk(skb, ihl, ulen, saddr, daddr)) s.deliver(d.slice(ihl + 8, ihl + ulen), { addr: saddr, port: sport });
    return true;
  }

  /** ICMP errors reach the TCP or UDP socket whose datagram is quoted in them. */
  private icmpRcv(d: Uint8Array, ihl: number): void {
    if (d.length < ihl + 8 + 20) return;
    const type = d[ihl]!;
    const code = d[ihl + 1]!;
    if (!isIcmpError(type)) return;
    const inner = ihl + 8;
    const ihl2 = (d[inner]! & 15) * 4;
    if (ihl2 < 20 || d.length < inner + ihl2 + 8) return;
    const proto = d[inner + 9]!;
    const src = get32(d, inner + 12);
    const dst = get32(d, inner + 16);
    const t = inner + ihl2;
    const sport = get16(d, t);
    const dport = get16(d, t + 2);
    if (proto === 6) this.tcpErr(type, code, d, ihl, src, sport, dst, dport, get32(d, t + 4));
    else if (proto === 17) this.udpErr(type, code, src, sport, dst, dport);
  }

  /** tcp_v4_err. */
  private tcpErr(type: number, code: number, d: Uint8Array, ihl: number, src: number, sport: number, dst: number, dport: number, seq: number): void {
    const s = this.tcpLookup(dst, dport, src, sport);
    if (!s || s.state === 'TIME-WAIT') return;
    if (s.state === 'SYN-RECV' && s.parent) {
      // tcp_req_err: a request is dropped on the errors that say the peer is gone
      const abort = type === ICMP_PARAMETERPROB || type === ICMP_TIME_EXCEEDED || (type === ICMP_DEST_UNREACH && (code === 0 || code === 1));
      if (seq === s.iss && abort) s.done();
      return;
    }
    if (before32(seq, s.sndUna) || after32(seq, s.sndMax)) return;
    if (type === ICMP_DEST_UNREACH && code === ICMP_FRAG_NEEDED) {
      s.pmtuReduced(get16(d, ihl + 6));
      return;
    }
    const err = tcpIcmpError(type, code);
    if (!err) return;
    // Between namespaces joined by veths the answer to the first SYN comes
    // back while a blocking connect() still holds the socket: the error is
    // only kept (sk_err_soft), and the answer to the first retransmission,
    // a second later, ends the connect. A non-blocking connect has let go
    // of the socket and fails at once. Measured on Linux 6.18 for every
    // REJECT --reject-with.
    if (s.state === 'SYN-SENT' && (s.retransmits > 0 || s.nonBlocking)) {
      s.fail(err);
      return;
    }
    s.softError = err;
  }

  /** __udp4_lib_err: without IP_RECVERR only hard errors, and only on connected sockets. */
  private udpErr(type: number, code: number, src: number, sport: number, dst: number, dport: number): void {
    const s = this.udpLookup(dst, dport, src, sport);
    if (!s) return;
    const e = udpIcmpError(type, code);
    if (!e || !e.fatal || !s.connected) return;
    s.error = e.errno;
    s.owner?.wake();
  }
}

/** Whether a UDP datagram's checksum is absent (zero), not needed (sent by this host) or right. */
function udpChecksumOk(skb: Skb, ihl: number, ulen: number, saddr: number, daddr: number): boolean {
  const d = skb.data;
  if (get16(d, ihl + 6) === 0 || locallyGenerated(skb)) return true;
  return checksumFinish(checksumPartial(d, ihl, ulen, pseudoHeaderSum(saddr, daddr, 17, ulen))) === 0;
}

function before32(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

function after32(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}
