/**
 * A TCP socket: the states, segments and timers of Linux 6.x's TCP as they
 * show on the wire and to programs. Measured against the kernel:
 *
 * - SYN options MSS, SACK permitted + timestamps, NOP, window scale (the
 *   scale from max(tcp_rmem[2], rmem_max): 10 with 6.18's 32 MB); window
 *   64240 (half of tcp_rmem[1] rounded down to the MSS); the SYN-ACK
 *   answers only the options the SYN offered, with window 65160 when
 *   timestamps take 12 bytes of each segment.
 * - SYN retransmissions after 1 s four times at a constant interval
 *   (tcp_syn_linear_timeouts), then doubling: 1,1,1,1,1,2,4,8,16,32,64 s,
 *   connect failing with ETIMEDOUT after ten retransmissions (~135 s);
 *   SYN-ACK retransmissions at 1,2,4,8,16 s and the request dropped 32 s
 *   after the fifth; every timer rounded as the kernel's timer wheel does.
 * - A SYN that OUTPUT drops is retransmitted like a lost one (connect
 *   still ends in ETIMEDOUT, not EPERM).
 * - Immediate ACKs while in quick-ACK mode (the first segments), delayed
 *   ACKs (40 ms) once the connection is interactive; a FIN received while
 *   established is acknowledged by the next jiffy's timer unless data or a
 *   FIN of ours goes first.
 * - close() with unread data sends RST|ACK from the socket.
 */
import type { Errno, SockAddr, TcpSocket, TcpState, Waker } from './api.js';
import { ByteQueue } from './byte-queue.js';
import { defaultTtl, pmtuDiscovery, ROOT_CRED, writeIpHeader } from './ip-out.js';
import type { Stack } from './layer.js';
import { sysctlInt, sysctlInts } from './sysctl.js';
import { after, before, optionsLength, seqAdd, writeOptions, type OutOptions, type Segment } from './tcp-segment.js';
import { fillTcpChecksum } from '../wire/checksum.js';
import { HZ, jiffiesAt, NS_PER_JIFFY, timerFireNs, usToJiffies } from './timer-wheel.js';

const FIN = 0x01;
const SYN = 0x02;
const RST = 0x04;
const PSH = 0x08;
const ACK = 0x10;

/** TCP_TIMEOUT_INIT: 1 s, in jiffies. */
const TIMEOUT_INIT = HZ;
/** TCP_RTO_MAX: 120 s. */
const RTO_MAX = 120 * HZ;
/** TCP_RTO_MIN: 200 ms, in microseconds (tcp_rto_min_us). */
const RTO_MIN_US = 200_000;
/** TCP_ATO_MIN and TCP_DELACK_MIN: 40 ms. */
const ATO_MIN = HZ / 25;
/** TCP_DELACK_MAX: 200 ms. */
const DELACK_MAX = HZ / 5;
/** TCP_TIMEWAIT_LEN: 60 s, in ns. */
const TIMEWAIT_NS = 60e9;
/** TCP_MAX_QUICKACKS. */
const MAX_QUICKACKS = 16;
/** TCP_MSS_DEFAULT: assumed when the peer announces none. */
const MSS_DEFAULT = 536;
/** TCP_INIT_CWND. */
const INIT_CWND = 10;
/** Memory a queued received segment costs besides its bytes (an estimate of skb truesize). */
const SKB_OVERHEAD = 4096;
/** Per-socket rate limit of out-of-window answers (tcp_invalid_ratelimit, 500 ms). */
const OOW_INTERVAL_NS = 500e6;

/** Who sent a packet, for -m owner. */
type Cred = { uid: number; gid: number; pid: number };

/** One TCP socket (also a listener's request and child sockets, and TIME-WAIT). */
export class TcpSock implements TcpSocket {
  readonly kind = 'tcp' as const;
  owner: Waker | null = null;
  state: TcpState = 'CLOSED';
  local: SockAddr = { addr: 0, port: 0 };
  remote: SockAddr = { addr: 0, port: 0 };
  error: Errno | null = null;
  synRetries?: number;
  /** O_NONBLOCK at connect(): an ICMP error to the first SYN ends the connect at once. */
  nonBlocking?: boolean;
  /** The program owning the socket, for `ss -p`. */
  process?: { name: string; pid: number };
  /** The credentials its packets carry for -m owner (root when unset). */
  cred?: Cred;

  /** sk_err_soft: an ICMP error kept until the connection times out. */
  softError: Errno | null = null;
  /** Bound by bind() (a port chosen by the program). */
  bound = false;
  /** Released by the program (close()); the kernel finishes the connection alone. */
  orphan = false;
  /** Listener this request or child came from, until accepted. */
  parent: TcpSock | null = null;
  /** Listener: connections ready for accept(). */
  acceptQueue: TcpSock[] = [];
  /** Listener: accept backlog. */
  backlog = 0;
  /** Child: the final ACK came while the accept queue was full (it waits for a SYN-ACK retransmission). */
  ackedWhileFull = false;

  // send side
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndWnd = 0;
  sndWl1 = 0;
  sndWscale = 0;
  /** Payload bytes per segment (mss_cache). */
  mss = MSS_DEFAULT;
  /** The MSS this side announces (route MTU - 40). */
  advmss = 1460;
  /** Bytes from sndUna: sent and unacknowledged, then not yet sent. */
  readonly sendQ = new ByteQueue();
  /** Sequence number at the end of the last write (segments ending there carry PSH). */
  pushSeq = 0;
  finQueued = false;
  finSent = false;
  /** End of the last small segment sent (Nagle, Minshall's variant). */
  sndSml = 0;
  cwnd = INIT_CWND;
  ssthresh = 0x7fffffff;

  // receive side
  irs = 0;
  rcvNxt = 0;
  rcvWnd = 0;
  rcvWup = 0;
  rcvWscale = 0;
  rcvSsthresh = 0;
  windowClamp = 0;
  readonly recvQ = new ByteQueue();
  /** Ends (sequence numbers) of received segments still queued, for the memory they hold. */
  private readonly queuedEnds: number[] = [];
  /** Sequence number of the first unread byte. */
  copiedSeq = 0;
  finReceived = false;

  // options
  tsOk = false;
  tsRecent = 0;
  tsOffset = 0;
  sackOk = false;
  wscaleOk = false;

  // timers and their state
  private rtxTimer: number | null = null;
  /** The retransmission timer is a tail loss probe (ICSK_TIME_LOSS_PROBE). */
  private probePending = false;
  /** The retransmission timer is the zero-window probe timer (ICSK_TIME_PROBE0). */
  private persistPending = false;
  /** Window probes sent without an answer (icsk_probes_out), and the probe timer's backoff. */
  private probesOut = 0;
  private probeBackoff = 0;
  /** snd_nxt when a loss probe went out, until an ACK covers it (tlp_high_seq); null when none is out. */
  private tlpHighSeq: number | null = null;
  /** In loss recovery after a timeout, until everything sent before it is acknowledged. */
  private lossHigh: number | null = null;
  private dackTimer: number | null = null;
  private dackAt = 0;
  private twTimer: number | null = null;
  /** Retransmission timeout, jiffies. */
  rto = TIMEOUT_INIT;
  retransmits = 0;
  totalRto = 0;
  /** When the segment now being retransmitted was first sent (ns), 0 when none is. */
  retransStamp = 0;
  /** Request socket: SYN-ACK timeouts so far. */
  numTimeout = 0;
  /** RTT estimator (microseconds, srtt scaled by 8). */
  srttUs = 0;
  mdevUs = 0;
  mdevMaxUs = 0;
  rttvarUs = 0;
  rttSeq = 0;
  /** Segments in flight: where each ends, when it was last sent (ns), whether it was retransmitted. */
  private flight: { end: number; at: number; retrans: boolean }[] = [];
  /** Highest sequence number sent (snd_nxt goes back to snd_una after a timeout). */
  sndMax = 0;
  /** Delayed ACK engine (icsk_ack). */
  ackPending = false;
  ato = 0;
  quick = 0;
  pingpong = 0;
  lrcvtime = 0;
  rcvMss = MSS_DEFAULT;
  /** Last out-of-window answer (ns), for rate limiting. */
  private lastOow = -Infinity;
  /** Per-connection IP ID counter. */
  ipId = 0;

  constructor(readonly stack: Stack) {}

  // ---- socket calls ----

  get available(): number {
    return this.recvQ.length;
  }

  get eof(): boolean {
    return this.finReceived && this.recvQ.length === 0;
  }

  bind(addr: number, port: number): Errno | null {
    if (this.state !== 'CLOSED' || this.bound || this.local.port !== 0) return 'EINVAL';
    addr >>>= 0;
    if (addr !== 0 && !this.stack.env.isLocalAddress(addr)) return 'EADDRNOTAVAIL';
    if (port === 0) {
      const p = this.stack.tcpBindEphemeral(addr);
      if (p === null) return 'EADDRINUSE';
      port = p;
    } else if (this.stack.tcpBindConflict(this, addr, port)) {
      return 'EADDRINUSE';
    }
    this.local = { addr, port };
    this.bound = true;
    this.stack.tcpPortTaken(this);
    return null;
  }

  listen(backlog = 128): Errno | null {
    if (this.state === 'LISTEN') {
      this.backlog = this.clampBacklog(backlog);
      return null;
    }
    if (this.state !== 'CLOSED') return 'EINVAL';
    if (this.local.port === 0) {
      const p = this.stack.tcpBindEphemeral(this.local.addr);
      if (p === null) return 'EADDRINUSE';
      this.local = { addr: this.local.addr, port: p };
      this.stack.tcpPortTaken(this);
    } else if (this.stack.tcpListenConflict(this)) {
      return 'EADDRINUSE';
    }
    this.backlog = this.clampBacklog(backlog);
    this.state = 'LISTEN';
    this.stack.tcpListenHash(this);
    return null;
  }

  private clampBacklog(b: number): number {
    const max = sysctlInt(this.stack.env, 'net.core.somaxconn', 4096);
    return Math.max(0, Math.min(b, max));
  }

  accept(): TcpSocket | null {
    if (this.state !== 'LISTEN') return null;
    const c = this.acceptQueue.shift();
    if (!c) return null;
    c.parent = null;
    return c;
  }

  connect(addr: number, port: number): Errno | null {
    addr >>>= 0;
    if (this.state !== 'CLOSED' || this.orphan) return 'EINVAL';
    this.error = null;
    this.softError = null;
    const env = this.stack.env;
    const r = env.route(addr);
    if ('errno' in r) return r.errno;
    const src = this.local.addr || r.src;
    let lport = this.local.port;
    if (lport === 0) {
      const p = this.stack.tcpConnectPort(src, addr, port);
      if (p === null) return 'EADDRNOTAVAIL';
      lport = p;
    } else if (this.stack.tcpTupleInUse(src, lport, addr, port, this)) {
      return 'EADDRNOTAVAIL';
    }
    this.local = { addr: src, port: lport };
    this.remote = { addr, port };
    this.stack.tcpPortTaken(this);
    this.setupMss(r.mtu);
    this.iss = this.stack.isn(src, lport, addr, port);
    this.tsOffset = env.random32();
    this.ipId = env.random32() & 0xffff;
    this.sndUna = this.iss;
    this.sndNxt = seqAdd(this.iss, 1);
    this.sndMax = this.sndNxt;
    this.pushSeq = this.sndNxt;
    this.sndSml = this.sndUna;
    this.initRcvWindow(this.advmss, true);
    this.tsOk = sysctlInt(env, 'net.ipv4.tcp_timestamps', 1) !== 0;
    this.sackOk = sysctlInt(env, 'net.ipv4.tcp_sack', 1) !== 0;
    this.wscaleOk = sysctlInt(env, 'net.ipv4.tcp_window_scaling', 1) !== 0;
    if (!this.wscaleOk) this.rcvWscale = 0;
    this.state = 'SYN-SENT';
    this.stack.tcpHash(this);
    this.rto = TIMEOUT_INIT;
    this.retransStamp = env.nowNs();
    this.flight = [{ end: this.sndNxt, at: env.nowNs(), retrans: false }];
    this.sendSyn();
    this.armRtx(this.rto);
    return null;
  }

  send(data: Uint8Array): Errno | null {
    if (this.error) return this.error;
    switch (this.state) {
      case 'ESTAB':
      case 'CLOSE-WAIT':
        break;
      case 'SYN-SENT':
      case 'SYN-RECV':
        break;
      default:
        return 'EPIPE';
    }
    if (this.finQueued) return 'EPIPE';
    if (data.length === 0) return null;
    this.sendQ.push(data);
    this.pushSeq = seqAdd(this.sndUna, this.sendQ.length);
    if (this.state === 'ESTAB' || this.state === 'CLOSE-WAIT') this.pushPending();
    return null;
  }

  read(max?: number): Uint8Array {
    const n = max === undefined ? this.recvQ.length : Math.max(0, Math.min(max, this.recvQ.length));
    const out = this.recvQ.take(n);
    this.copiedSeq = seqAdd(this.copiedSeq, n);
    if (this.finReceived && this.recvQ.length === 0) this.finConsumed = true;
    while (this.queuedEnds.length > 0 && !after(this.queuedEnds[0]!, this.copiedSeq)) this.queuedEnds.shift();
    if (n > 0) this.cleanupRbuf();
    return out;
  }

  /**
   * tcp_cleanup_rbuf: when reading freed enough room to at least double
   * the window the peer was last told, tell it now (a window update).
   */
  private cleanupRbuf(): void {
    if (this.finReceived) return;
    if (this.state !== 'ESTAB' && this.state !== 'FIN-WAIT-1' && this.state !== 'FIN-WAIT-2') return;
    const now = Math.max(0, this.rcvWup + this.rcvWnd - this.rcvNxt);
    if (2 * now > this.windowClamp) return;
    const w = this.chooseWindow();
    if (w && w >= 2 * now) this.sendAck();
  }

  shutdown(): void {
    if (this.state === 'ESTAB' || this.state === 'CLOSE-WAIT' || this.state === 'SYN-RECV') {
      this.queueFin();
    } else if (this.state === 'SYN-SENT') {
      this.finQueued = true;
    }
  }

  close(): void {
    if (this.orphan) return;
    this.orphan = true;
    switch (this.state) {
      case 'LISTEN':
        this.closeListener();
        return;
      case 'CLOSED':
        this.stack.tcpRemove(this);
        return;
      case 'SYN-SENT':
        this.done();
        return;
    }
    if (this.recvQ.length > 0) {
      // tcp_close: unread data means the peer is told with a reset
      this.sendActiveReset();
      this.done();
      return;
    }
    if (this.state === 'ESTAB' || this.state === 'CLOSE-WAIT' || this.state === 'SYN-RECV') this.queueFin();
    else if (this.state === 'FIN-WAIT-2') {
      // closed after shutdown() with our FIN acknowledged: a FIN-WAIT-2 timewait socket for tcp_fin_timeout
      const finTimeout = sysctlInt(this.stack.env, 'net.ipv4.tcp_fin_timeout', 60);
      this.armTw(this.stack.env.nowNs() + finTimeout * 1e9, () => this.timeWaitOver());
      if (finTimeout <= 60) this.twFinWait2 = true;
    }
  }

  abort(): void {
    this.orphan = true;
    if (this.state === 'LISTEN') {
      this.closeListener();
      return;
    }
    if (this.needsReset()) this.sendActiveReset();
    this.done();
  }

  /** tcp_need_reset: the states in which a disconnect tells the peer. */
  private needsReset(): boolean {
    return this.state === 'ESTAB' || this.state === 'CLOSE-WAIT' || this.state === 'FIN-WAIT-1' || this.state === 'FIN-WAIT-2' || this.state === 'SYN-RECV';
  }

  private closeListener(): void {
    // inet_csk_listen_stop: pending requests vanish, established children are reset
    this.stack.tcpListenUnhash(this);
    for (const req of this.stack.tcpRequestsOf(this)) req.done();
    for (const c of this.acceptQueue) {
      c.orphan = true;
      if (c.needsReset()) c.sendActiveReset();
      c.done();
    }
    this.acceptQueue = [];
    this.state = 'CLOSED';
    this.stack.tcpRemove(this);
  }

  // ---- set-up helpers ----

  /** Sets the MSS this side announces and the segment size from the route MTU. */
  setupMss(mtu: number): void {
    // ipv4_default_advmss: at least ip_rt_min_advmss (256), at most 65535 - 40 (loopback's 64 KiB MTU gives 65495)
    this.advmss = Math.min(Math.max(mtu - 40, 256), 65495);
    this.mss = Math.min(this.advmss, MSS_DEFAULT);
  }

  /** tcp_full_space with the initial scaling ratio: half of the receive buffer. */
  private fullSpace(): number {
    const rmem = sysctlInts(this.stack.env, 'net.ipv4.tcp_rmem', [4096, 131072, 33554432]);
    return Math.floor(rmem[1]! / 2);
  }

  /** tcp_select_initial_window: the first receive window and our window scale. */
  initRcvWindow(mss: number, scaleOk: boolean): void {
    let space = this.fullSpace();
    const clamp = 65535 * 2 ** 14;
    space = Math.min(space, clamp);
    if (space > mss) space = Math.floor(space / mss) * mss;
    this.rcvWnd = space;
    let wscale = 0;
    if (scaleOk) {
      const env = this.stack.env;
      const rmem = sysctlInts(env, 'net.ipv4.tcp_rmem', [4096, 131072, 33554432]);
      let s = Math.max(space, rmem[2]!, sysctlInt(env, 'net.core.rmem_max', 4194304));
      s = Math.min(s, clamp);
      wscale = Math.max(0, Math.min(14, Math.floor(Math.log2(s)) - 15));
    }
    this.rcvWscale = wscale;
    this.windowClamp = Math.min(65535 * 2 ** wscale, clamp);
    this.rcvSsthresh = this.rcvWnd;
  }

  // ---- output ----

  /** The owner of packets this socket sends, for -m owner (none once closed or in TIME-WAIT). */
  private outCred(): Cred | undefined {
    if (this.orphan || this.state === 'TIME-WAIT') return undefined;
    if (this.parent) return this.state === 'SYN-RECV' ? this.parent.credOrRoot() : undefined;
    return this.credOrRoot();
  }

  private credOrRoot(): Cred {
    return this.cred ?? ROOT_CRED;
  }

  /** The TCP timestamp clock (ms) of this connection. */
  tsNow(): number {
    return (Math.floor(this.stack.env.nowNs() / 1e6) + this.tsOffset) >>> 0;
  }

  /**
   * Builds and sends one segment. `id` is the IP ID (the connection's
   * counter unless given). Returns the error OUTPUT gave.
   */
  xmit(flags: number, seq: number, payload: Uint8Array | null, opts: OutOptions, window: number, id?: number): Errno | null {
    const env = this.stack.env;
    const olen = optionsLength(opts);
    const thl = 20 + olen;
    const plen = payload ? payload.length : 0;
    const d = new Uint8Array(20 + thl + plen);
    let ipid: number;
    if (id !== undefined) ipid = id;
    else {
      ipid = this.ipId;
      this.ipId = (this.ipId + 1) & 0xffff;
    }
    writeIpHeader(d, { tos: 0, id: ipid, df: pmtuDiscovery(env), ttl: defaultTtl(env), proto: 6, src: this.local.addr, dst: this.remote.addr });
    const t = 20;
    d[t] = this.local.port >>> 8;
    d[t + 1] = this.local.port & 0xff;
    d[t + 2] = this.remote.port >>> 8;
    d[t + 3] = this.remote.port & 0xff;
    put32(d, t + 4, seq);
    put32(d, t + 8, flags & ACK ? this.rcvNxt : 0);
    d[t + 12] = (thl / 4) << 4;
    d[t + 13] = flags;
    d[t + 14] = window >>> 8;
    d[t + 15] = window & 0xff;
    writeOptions(d, t + 20, opts);
    if (payload) d.set(payload, t + thl);
    fillTcpChecksum(d, t, thl + plen, this.local.addr, this.remote.addr);
    return env.output(d, this.outCred());
  }

  /** Options of a segment after the handshake: timestamps when agreed. */
  private dataOptions(): OutOptions {
    return { mss: 0, ts: this.tsOk, tsVal: this.tsOk ? this.tsNow() : 0, tsEcr: this.tsRecent, sackPerm: false, wscale: -1 };
  }

  /** The SYN (first and retransmitted). */
  private sendSyn(): void {
    const ts = this.tsOk;
    this.xmit(SYN, this.iss, null, {
      mss: this.advmss,
      ts,
      tsVal: ts ? this.tsNow() : 0,
      tsEcr: 0,
      sackPerm: this.sackOk,
      wscale: this.wscaleOk ? this.rcvWscale : -1,
    }, Math.min(this.rcvWnd, 65535));
  }

  /** Starts a request socket: its first SYN-ACK and the timer of its retransmissions. */
  startRequest(): void {
    this.sendSynAck();
    this.armRtx(TIMEOUT_INIT);
  }

  /**
   * ICMP "fragmentation needed" lowered the path MTU to `mtu`: smaller
   * segments from now on, and what is in flight is sent again in them
   * (tcp_v4_mtu_reduced, tcp_simple_retransmit).
   */
  pmtuReduced(mtu: number): void {
    const mss = Math.max(mtu - 40 - (this.tsOk ? 12 : 0), 48);
    if (mss >= this.mss) return;
    this.mss = mss;
    if (this.state === 'SYN-SENT' || this.inflight() === 0) return;
    this.sndNxt = this.sndUna;
    this.finSent = false;
    this.pushPending();
  }

  /** Bytes queued to send and not acknowledged, SYN and FIN counted (write_seq - snd_una). */
  get sendQueued(): number {
    let n = this.sendQ.length;
    if (this.state === 'SYN-SENT' || (this.state === 'SYN-RECV' && this.parent)) n += 1;
    if (this.finQueued && !(this.finSent && this.sndUna === this.sndMax && this.sndMax !== 0 && this.state !== 'FIN-WAIT-1' && this.state !== 'CLOSING' && this.state !== 'LAST-ACK')) n += 1;
    return n;
  }

  /** Bytes received and not read, the FIN counted until the program has seen the end (rcv_nxt - copied_seq). */
  get recvQueued(): number {
    return this.recvQ.length + (this.finReceived && !this.finConsumed ? 1 : 0);
  }

  /** The program has read the end of the stream. */
  finConsumed = false;

  /** The SYN-ACK of a request socket; IP ID 0 as ip_build_and_send_pkt gives it. */
  sendSynAck(): void {
    if (this.synAckSentAt === 0) this.synAckSentAt = this.stack.env.nowNs();
    const ts = this.tsOk;
    this.xmit(SYN | ACK, this.iss, null, {
      mss: this.advmss,
      ts,
      tsVal: ts ? this.tsNow() : 0,
      tsEcr: this.tsRecent,
      sackPerm: this.sackOk,
      wscale: this.wscaleOk ? this.rcvWscale : -1,
    }, Math.min(this.rcvWnd, 65535), 0);
  }

  /** tcp_space: window the free receive memory allows. */
  private freeSpace(): number {
    const rmem = sysctlInts(this.stack.env, 'net.ipv4.tcp_rmem', [4096, 131072, 33554432]);
    const alloc = this.recvQ.length + this.queuedEnds.length * SKB_OVERHEAD;
    return Math.max(0, Math.floor((rmem[1]! - alloc) / 2));
  }

  /** __tcp_select_window. */
  private chooseWindow(): number {
    let mss = this.rcvMss;
    let free = this.freeSpace();
    const allowed = this.fullSpace();
    const full = Math.min(this.windowClamp, allowed);
    if (mss > full) {
      mss = full;
      if (mss <= 0) return 0;
    }
    if (free < full >> 1) {
      this.quick = 0;
      free = Math.floor(free / 2 ** this.rcvWscale) * 2 ** this.rcvWscale;
      if (free < allowed >> 4 || free < mss) return 0;
    }
    if (free > this.rcvSsthresh) free = this.rcvSsthresh;
    if (this.rcvWscale) {
      const unit = 2 ** this.rcvWscale;
      return Math.ceil(free / unit) * unit;
    }
    let window = this.rcvWnd;
    if (window <= free - mss || window > free) window = Math.floor(free / mss) * mss;
    else if (mss === full && free > window + (full >> 1)) window = free;
    return window;
  }

  /** tcp_select_window: the window field of the next segment; the window never shrinks. */
  private windowField(): number {
    const cur = Math.max(0, this.rcvWup + this.rcvWnd - this.rcvNxt);
    let w = this.chooseWindow();
    const unit = 2 ** this.rcvWscale;
    if (w < cur) w = Math.ceil(cur / unit) * unit;
    this.rcvWnd = w;
    this.rcvWup = this.rcvNxt;
    return Math.min(w / unit, 65535);
  }

  /** Sends a bare ACK now (tcp_send_ack). */
  sendAck(): void {
    this.ackSent();
    this.xmit(ACK, this.sndNxt, null, this.dataOptions(), this.windowField());
  }

  /** An ACK answering an unacceptable segment, at most one per 500 ms (tcp_send_dupack / challenge ACK). */
  private sendOowAck(): void {
    const now = this.stack.env.nowNs();
    if (now - this.lastOow < OOW_INTERVAL_NS) return;
    this.lastOow = now;
    this.sendAck();
  }

  /** RST|ACK from the socket (tcp_send_active_reset). */
  private sendActiveReset(): void {
    this.xmit(RST | ACK, this.sndNxt, null, this.dataOptions(), this.windowField());
  }

  /** What tcp_event_ack_sent does: the pending ACK is gone, one quick ACK used. */
  private ackSent(): void {
    if (this.quick) {
      const pkts = this.ackPending ? 1 : 0;
      if (pkts >= this.quick) {
        this.quick = 0;
        this.ato = ATO_MIN;
      } else this.quick -= pkts;
    }
    this.ackPending = false;
    if (this.dackTimer !== null) {
      this.stack.env.clearTimer(this.dackTimer);
      this.dackTimer = null;
    }
  }

  /** Unsent bytes waiting in the send queue. */
  private unsentBytes(): number {
    const sentData = this.finSent ? this.sendQ.length : ((this.sndNxt - this.sndUna) >>> 0);
    return this.sendQ.length - Math.min(sentData, this.sendQ.length);
  }

  /** Bytes (and a FIN) in flight. */
  private inflight(): number {
    return (this.sndNxt - this.sndUna) >>> 0;
  }

  private queueFin(): void {
    if (this.finQueued) return;
    this.finQueued = true;
    if (this.state === 'ESTAB' || this.state === 'SYN-RECV') this.state = 'FIN-WAIT-1';
    else if (this.state === 'CLOSE-WAIT') this.state = 'LAST-ACK';
    this.pushPending();
  }

  /** tcp_write_xmit: sends what the windows, the congestion window and Nagle allow. */
  pushPending(): void {
    let sent = false;
    let windowShut = false;
    for (;;) {
      const unsent = this.unsentBytes();
      if (unsent > 0) {
        const len = Math.min(this.mss, unsent);
        const wndEnd = seqAdd(this.sndUna, this.sndWnd);
        if (after(seqAdd(this.sndNxt, len), wndEnd)) {
          windowShut = true;
          break;
        }
        const segsInFlight = Math.ceil(this.inflight() / this.mss);
        if (segsInFlight >= this.cwnd) break;
        const last = len === unsent;
        const fin = last && this.finQueued;
        if (len < this.mss && last && !fin && this.inflight() > 0 && after(this.sndSml, this.sndUna)) break;
        const off = (this.sndNxt - this.sndUna) >>> 0;
        const payload = this.sendQ.peek(off, len).slice();
        const end = seqAdd(this.sndNxt, len);
        let flags = ACK;
        if (end === this.pushSeq || last) flags |= PSH;
        if (fin) flags |= FIN;
        this.dataSent();
        const segEnd = seqAdd(end, fin ? 1 : 0);
        this.noteSent(segEnd);
        this.xmit(flags, this.sndNxt, payload, this.dataOptions(), this.windowField());
        this.ackSent();
        this.sndNxt = segEnd;
        if (after(segEnd, this.sndMax)) this.sndMax = segEnd;
        if (fin) this.finSent = true;
        if (len < this.mss) this.sndSml = this.sndNxt;
        sent = true;
        continue;
      }
      if (this.finQueued && !this.finSent) {
        this.noteSent(seqAdd(this.sndNxt, 1));
        this.xmit(FIN | ACK, this.sndNxt, null, this.dataOptions(), this.windowField());
        this.ackSent();
        this.sndNxt = seqAdd(this.sndNxt, 1);
        if (after(this.sndNxt, this.sndMax)) this.sndMax = this.sndNxt;
        this.finSent = true;
        sent = true;
      }
      break;
    }
    if (sent) {
      this.probeBackoff = 0;
      if (!this.scheduleLossProbe(false) && (this.rtxTimer === null || this.persistPending)) this.armRtx(this.rto);
    } else if (windowShut && this.inflight() === 0 && this.rtxTimer === null) {
      this.armPersist();
    }
  }

  /** tcp_check_probe_timer: data waits for a window and nothing is in flight; probe when the timer runs out. */
  private armPersist(): void {
    const base = Math.max(this.rto, Math.ceil((RTO_MIN_US * HZ) / 1e6));
    this.armRtx(Math.min(base * 2 ** this.probeBackoff, RTO_MAX));
    this.persistPending = true;
  }

  /**
   * tcp_probe_timer / tcp_write_wakeup: what fits in a window that is not
   * zero goes out (with PSH); into a zero window an ACK one below snd_una
   * asks for the window again. The timer backs off; when tcp_retries2
   * probes get no answer the connection is given up.
   */
  private onPersist(): void {
    if (this.unsentBytes() === 0 || this.inflight() > 0) return;
    const env = this.stack.env;
    const room = (seqAdd(this.sndUna, this.sndWnd) - this.sndNxt) | 0;
    if (room > 0) {
      const len = Math.min(room, this.mss, this.unsentBytes());
      const off = (this.sndNxt - this.sndUna) >>> 0;
      const payload = this.sendQ.peek(off, len).slice();
      const end = seqAdd(this.sndNxt, len);
      this.noteSent(end);
      this.xmit(ACK | PSH, this.sndNxt, payload, this.dataOptions(), this.windowField());
      this.ackSent();
      this.sndNxt = end;
      if (after(end, this.sndMax)) this.sndMax = end;
      this.armRtx(this.rto);
      return;
    }
    if (this.probesOut >= sysctlInt(env, 'net.ipv4.tcp_retries2', 15)) {
      this.fail(this.softError ?? 'ETIMEDOUT');
      return;
    }
    this.xmit(ACK, seqAdd(this.sndUna, -1), null, this.dataOptions(), this.windowField());
    this.ackSent();
    this.probesOut++;
    this.probeBackoff++;
    this.armPersist();
  }

  /** Records a segment ending at `end` as sent now (a retransmission when it was sent before). */
  private noteSent(end: number): void {
    const now = this.stack.env.nowNs();
    for (const f of this.flight) {
      if (f.end === end) {
        f.at = now;
        f.retrans = true;
        return;
      }
    }
    this.flight.push({ end, at: now, retrans: !after(end, this.sndMax) });
  }

  /** tcp_event_data_sent: answering within ATO of the last data received makes the connection interactive. */
  private dataSent(): void {
    const now = jiffiesAt(this.stack.env.nowNs());
    if (now - this.lrcvtime < this.ato) this.pingpong = Math.min(this.pingpong + 1, 255);
  }

  private inPingpong(): boolean {
    return this.pingpong >= sysctlInt(this.stack.env, 'net.ipv4.tcp_pingpong_thresh', 1);
  }

  // ---- timers ----

  private armRtx(delay: number, probe = false): void {
    const env = this.stack.env;
    this.probePending = probe;
    this.persistPending = false;
    if (this.rtxTimer !== null) env.clearTimer(this.rtxTimer);
    this.rtxTimer = env.setTimer(timerFireNs(env.nowNs(), delay), () => {
      this.rtxTimer = null;
      this.onRtxTimer();
    });
  }

  private clearRtx(): void {
    this.probePending = false;
    this.persistPending = false;
    if (this.rtxTimer !== null) {
      this.stack.env.clearTimer(this.rtxTimer);
      this.rtxTimer = null;
    }
  }

  private armTw(atNs: number, fn: () => void): void {
    const env = this.stack.env;
    if (this.twTimer !== null) env.clearTimer(this.twTimer);
    this.twTimer = env.setTimer(atNs, () => {
      this.twTimer = null;
      fn();
    });
  }

  /** tcp_model_timeout: how long `boundary` exponential retransmissions from `rtoBase` jiffies last, in ms. */
  private modelTimeoutMs(boundary: number, rtoBase: number): number {
    const thresh = Math.floor(Math.log2(RTO_MAX / rtoBase));
    const j = boundary <= thresh ? (2 ** (boundary + 1) - 1) * rtoBase : (2 ** (thresh + 1) - 1) * rtoBase + (boundary - thresh) * RTO_MAX;
    return (j * 1000) / HZ;
  }

  /** retransmits_timed_out. */
  private timedOut(boundary: number, rtoBase: number): boolean {
    if (this.retransmits === 0) return false;
    const elapsedMs = Math.floor(this.stack.env.nowNs() / 1e6) - Math.floor(this.retransStamp / 1e6);
    return elapsedMs >= this.modelTimeoutMs(boundary, rtoBase);
  }

  /**
   * tcp_schedule_loss_probe: with SACK agreed and no recovery under way,
   * the timer after new data is a tail loss probe two RTTs ahead (plus
   * 200 ms when a single segment is out, for the peer's delayed ACK),
   * unless the retransmission timeout comes first. Returns false when no
   * probe applies.
   */
  private scheduleLossProbe(advancingRto: boolean): boolean {
    const env = this.stack.env;
    const early = sysctlInt(env, 'net.ipv4.tcp_early_retrans', 3);
    if ((early !== 3 && early !== 4) || this.inflight() === 0 || !this.sackOk || this.lossHigh !== null) return false;
    if (this.state === 'SYN-SENT' || this.state === 'SYN-RECV') return false;
    let timeout: number;
    if (this.srttUs) {
      const segsOut = Math.max(this.flight.length, 1);
      timeout = usToJiffies((this.srttUs >> 2) + (segsOut === 1 ? RTO_MIN_US : 2000));
    } else timeout = TIMEOUT_INIT;
    let rtoDeltaUs: number;
    if (advancingRto || this.flight.length === 0) rtoDeltaUs = (this.rto * 1e6) / HZ;
    else rtoDeltaUs = (this.flight[0]!.at - env.nowNs()) / 1000 + (this.rto * 1e6) / HZ;
    if (rtoDeltaUs > 0) timeout = Math.min(timeout, usToJiffies(rtoDeltaUs));
    this.armRtx(timeout, true);
    return true;
  }

  /** tcp_send_loss_probe: new data if the window allows, else the last segment again; then the timeout. */
  private onLossProbe(): void {
    if (this.tlpHighSeq === null && this.inflight() > 0) {
      if (this.unsentBytes() > 0) {
        const before = this.sndNxt;
        this.pushPending();
        if (this.sndNxt !== before) this.tlpHighSeq = this.sndNxt;
      } else if (this.flight.length > 0) {
        const last = this.flight[this.flight.length - 1]!;
        const start = this.flight.length > 1 ? this.flight[this.flight.length - 2]!.end : this.sndUna;
        const finIn = this.finSent && last.end === this.sndMax;
        const dataLen = Math.max(0, Math.min(((last.end - start) >>> 0) - (finIn ? 1 : 0), this.sendQ.length - ((start - this.sndUna) >>> 0)));
        const payload = dataLen > 0 ? this.sendQ.peek((start - this.sndUna) >>> 0, dataLen).slice() : null;
        let flags = ACK;
        if (dataLen > 0 && seqAdd(start, dataLen) === this.pushSeq) flags |= PSH;
        if (finIn) flags |= FIN;
        this.noteSent(last.end);
        this.xmit(flags, start, payload, this.dataOptions(), this.windowField());
        this.ackSent();
        this.tlpHighSeq = this.sndNxt;
      }
    }
    this.armRtx(this.rto);
  }

  private onRtxTimer(): void {
    if (this.persistPending) {
      this.persistPending = false;
      if (this.state !== 'CLOSED' && this.state !== 'TIME-WAIT' && this.state !== 'LISTEN') this.onPersist();
      return;
    }
    if (this.probePending) {
      this.probePending = false;
      if (this.state !== 'CLOSED' && this.state !== 'TIME-WAIT' && this.state !== 'LISTEN') this.onLossProbe();
      return;
    }
    if (this.state === 'SYN-RECV' && this.parent) {
      this.onSynAckTimer();
      return;
    }
    if (this.state === 'CLOSED' || this.state === 'LISTEN' || this.state === 'TIME-WAIT') return;
    if (this.inflight() === 0) return;
    const env = this.stack.env;
    // tcp_write_timeout
    let expired: boolean;
    if (this.state === 'SYN-SENT') {
      const retryUntil = this.synRetries ?? sysctlInt(env, 'net.ipv4.tcp_syn_retries', 6);
      const max = retryUntil + sysctlInt(env, 'net.ipv4.tcp_syn_linear_timeouts', 4);
      expired = this.retransmits >= max || this.timedOut(retryUntil, TIMEOUT_INIT);
    } else {
      let retryUntil = sysctlInt(env, 'net.ipv4.tcp_retries2', 15);
      if (this.orphan) {
        const alive = this.rto < RTO_MAX;
        let r = sysctlInt(env, 'net.ipv4.tcp_orphan_retries', 0);
        if (this.softError && !alive) r = 0;
        if (r === 0 && alive) r = 8;
        retryUntil = r;
      }
      expired = this.timedOut(retryUntil, RTO_MIN_US / (1e6 / HZ));
    }
    if (expired) {
      this.fail(this.softError ?? 'ETIMEDOUT');
      return;
    }
    // tcp_enter_loss, then retransmit the head
    if (this.state !== 'SYN-SENT') {
      this.ssthresh = Math.max(Math.ceil(this.inflight() / this.mss) >> 1, 2);
      this.cwnd = 1;
      this.lossHigh = this.sndMax;
      this.tlpHighSeq = null;
    }
    this.retransmits++;
    this.totalRto++;
    if (this.retransStamp === 0) this.retransStamp = this.flight.length > 0 ? this.flight[0]!.at : env.nowNs();
    this.retransmitHead();
    if (this.state !== 'SYN-SENT' || this.totalRto > sysctlInt(env, 'net.ipv4.tcp_syn_linear_timeouts', 4)) {
      this.rto = Math.min(this.rto * 2, RTO_MAX);
    }
    this.armRtx(this.rto);
  }

  /**
   * Sends the first unacknowledged segment again; everything after it
   * follows as ACKs open the congestion window again (tcp_enter_loss
   * marks it all lost).
   */
  private retransmitHead(): void {
    if (this.state === 'SYN-SENT') {
      for (const f of this.flight) f.retrans = true;
      this.sendSyn();
      return;
    }
    this.sndNxt = this.sndUna;
    this.finSent = false;
    this.sndSml = this.sndUna;
    this.pushPending();
  }

  /** reqsk_timer_handler: SYN-ACK retransmissions of a request, then it is dropped. */
  private onSynAckTimer(): void {
    const env = this.stack.env;
    const max = sysctlInt(env, 'net.ipv4.tcp_synack_retries', 5);
    if (this.numTimeout >= max) {
      this.done();
      return;
    }
    this.sendSynAck();
    this.numTimeout++;
    this.armRtx(Math.min(TIMEOUT_INIT * 2 ** this.numTimeout, RTO_MAX));
  }

  /** tcp_send_delayed_ack. */
  private scheduleDelayedAck(): void {
    const env = this.stack.env;
    const now = jiffiesAt(env.nowNs());
    let ato = this.ato;
    if (ato > ATO_MIN) {
      let maxAto = HZ / 2;
      if (this.inPingpong()) maxAto = DELACK_MAX;
      if (this.srttUs) {
        const rtt = Math.max(usToJiffies(this.srttUs / 8), ATO_MIN);
        if (rtt < maxAto) maxAto = rtt;
      }
      ato = Math.min(ato, maxAto);
    }
    ato = Math.min(ato, DELACK_MAX);
    let timeout = now + ato;
    if (this.dackTimer !== null) {
      if (this.dackAt <= now + (ato >> 2)) {
        this.sendAck();
        return;
      }
      if (!(timeout < this.dackAt)) timeout = this.dackAt;
      env.clearTimer(this.dackTimer);
    }
    this.ackPending = true;
    this.dackAt = timeout;
    this.dackTimer = env.setTimer(timerFireNs(env.nowNs(), timeout - now), () => {
      this.dackTimer = null;
      this.onDelackTimer();
    });
  }

  private onDelackTimer(): void {
    if (!this.ackPending || this.state === 'CLOSED' || this.state === 'TIME-WAIT') return;
    if (!this.inPingpong()) this.ato = Math.min(this.ato * 2, this.rto);
    else {
      this.pingpong = 0;
      this.ato = ATO_MIN;
    }
    this.sendAck();
  }

  // ---- ends ----

  /** tcp_done: the socket is closed and leaves the tables. */
  done(): void {
    this.clearRtx();
    const env = this.stack.env;
    if (this.dackTimer !== null) env.clearTimer(this.dackTimer);
    if (this.twTimer !== null) env.clearTimer(this.twTimer);
    this.dackTimer = this.twTimer = null;
    this.ackPending = false;
    const wasRequest = this.state === 'SYN-RECV' && this.parent !== null;
    this.state = 'CLOSED';
    this.stack.tcpUnhash(this);
    // inet_put_port: a port the program did not bind goes back to the pool
    if (!this.bound && !this.parent) this.local = { addr: 0, port: 0 };
    if (this.parent) {
      const q = this.parent.acceptQueue;
      const i = q.indexOf(this);
      if (i >= 0) q.splice(i, 1);
      if (wasRequest) this.parent = null;
    }
    if (this.orphan || wasRequest) this.stack.tcpRemove(this);
    this.wakeOwner();
  }

  /** Ends the connection with an error (tcp_done_with_error). */
  fail(err: Errno): void {
    this.error = err;
    this.sendQ.clear();
    this.done();
  }

  /** tcp_reset: the peer reset the connection. */
  private resetByPeer(): void {
    const err: Errno = this.state === 'SYN-SENT' ? 'ECONNREFUSED' : this.state === 'CLOSE-WAIT' ? 'EPIPE' : 'ECONNRESET';
    this.fail(err);
  }

  /** Moves to TIME-WAIT for 60 s (tcp_time_wait). */
  private enterTimeWait(): void {
    this.clearRtx();
    if (this.dackTimer !== null) {
      this.stack.env.clearTimer(this.dackTimer);
      this.dackTimer = null;
    }
    this.ackPending = false;
    this.state = 'TIME-WAIT';
    this.sendQ.clear();
    this.armTw(this.stack.env.nowNs() + TIMEWAIT_NS, () => this.timeWaitOver());
    this.wakeOwner();
  }

  private timeWaitOver(): void {
    this.state = 'CLOSED';
    this.stack.tcpUnhash(this);
    this.stack.tcpRemove(this);
  }

  /** Wakes the program of the socket (of its listener until it is accepted). */
  wakeOwner(): void {
    const o = this.owner ?? (this.parent && this.parent.state === 'LISTEN' ? this.parent.owner : null);
    o?.wake();
  }

  // ---- input ----

  /** The RTT estimator (tcp_rtt_estimator and tcp_set_rto). */
  private rttSample(us: number): void {
    let m = Math.max(us, 1);
    if (this.srttUs !== 0) {
      m -= this.srttUs >> 3;
      this.srttUs += m;
      if (m < 0) {
        m = -m;
        m -= this.mdevUs >> 2;
        if (m > 0) m >>= 3;
      } else {
        m -= this.mdevUs >> 2;
      }
      this.mdevUs += m;
      if (this.mdevUs > this.mdevMaxUs) {
        this.mdevMaxUs = this.mdevUs;
        if (this.mdevMaxUs > this.rttvarUs) this.rttvarUs = this.mdevMaxUs;
      }
      if (after(this.sndUna, this.rttSeq)) {
        if (this.mdevMaxUs < this.rttvarUs) this.rttvarUs -= (this.rttvarUs - this.mdevMaxUs) >> 2;
        this.rttSeq = this.sndNxt;
        this.mdevMaxUs = RTO_MIN_US;
      }
    } else {
      this.srttUs = m << 3;
      this.mdevUs = m << 1;
      this.rttvarUs = Math.max(this.mdevUs, RTO_MIN_US);
      this.mdevMaxUs = this.rttvarUs;
      this.rttSeq = this.sndNxt;
    }
    this.srttUs = Math.max(1, this.srttUs);
    this.rto = Math.min(usToJiffies((this.srttUs >> 3) + this.rttvarUs), RTO_MAX);
  }

  /** An RTT sample for what an ACK newly acknowledged: the send time, or the echoed timestamp after a retransmission. */
  private rttFromAck(seg: Segment): void {
    const now = this.stack.env.nowNs();
    let first = -1;
    let anyAcked = false;
    while (this.flight.length > 0 && !after(this.flight[0]!.end, seg.ack)) {
      const f = this.flight.shift()!;
      anyAcked = true;
      if (!f.retrans && first < 0) first = f.at;
    }
    if (!anyAcked) return;
    if (first >= 0) this.rttSample(Math.floor((now - first) / 1000));
    else if (this.tsOk && seg.hasTs && seg.tsEcr !== 0) {
      const delta = (this.tsNow() - seg.tsEcr) >>> 0;
      if (delta < 0x7fffffff / 1000) this.rttSample(Math.max(delta, 1) * 1000);
    }
  }

  /** Takes the peer's options from its SYN or SYN-ACK. */
  private takeSynOptions(seg: Segment, mtu: number): void {
    const env = this.stack.env;
    this.wscaleOk = this.wscaleOk && seg.wscale >= 0;
    this.sndWscale = this.wscaleOk ? seg.wscale : 0;
    if (!this.wscaleOk) {
      this.rcvWscale = 0;
      this.windowClamp = Math.min(this.windowClamp, 65535);
    }
    this.tsOk = this.tsOk && seg.hasTs;
    if (this.tsOk) this.tsRecent = seg.tsVal;
    this.sackOk = this.sackOk && seg.sackOk;
    const peerMss = seg.mss || MSS_DEFAULT;
    // tcp_sync_mss: never below tcp_min_snd_mss, whatever the peer announces
    this.mss = Math.max(Math.min(peerMss, mtu - 40) - (this.tsOk ? 12 : 0), sysctlInt(env, 'net.ipv4.tcp_min_snd_mss', 48));
  }

  /** Counts a data segment received (tcp_event_data_recv and tcp_measure_rcv_mss). */
  private dataReceived(len: number): void {
    const now = jiffiesAt(this.stack.env.nowNs());
    if (len >= this.rcvMss) this.rcvMss = Math.min(len, this.advmss);
    if (this.ato === 0) {
      this.incrQuickack();
      this.ato = ATO_MIN;
    } else {
      const m = now - this.lrcvtime;
      if (m <= ATO_MIN / 2) this.ato = (this.ato >> 1) + ATO_MIN / 2;
      else if (m < this.ato) {
        this.ato = (this.ato >> 1) + m;
        if (this.ato > this.rto) this.ato = this.rto;
      } else if (m > this.rto) this.incrQuickack();
    }
    this.lrcvtime = now;
  }

  private incrQuickack(): void {
    let q = Math.floor(this.rcvWnd / (2 * this.rcvMss));
    if (q === 0) q = 2;
    q = Math.min(q, MAX_QUICKACKS);
    if (q > this.quick) this.quick = q;
  }

  /** __tcp_ack_snd_check: ACK now or later. */
  private ackCheck(): void {
    if (!this.ackPending) return;
    const quickMode = this.quick > 0 && !this.inPingpong();
    if (((this.rcvNxt - this.rcvWup) >>> 0) > this.rcvMss || quickMode) {
      this.sendAck();
      return;
    }
    this.scheduleDelayedAck();
  }

  /**
   * Handles a segment for this socket (any state but LISTEN). Returns
   * false when the kernel would answer it with a reset of its own
   * (tcp_v4_send_reset, which the host sends), true when consumed.
   */
  receive(seg: Segment): boolean {
    switch (this.state) {
      case 'SYN-SENT':
        return this.rcvSynSent(seg);
      case 'SYN-RECV':
        return this.parent ? this.rcvRequest(seg) : this.rcvEstablished(seg);
      case 'TIME-WAIT':
        return this.rcvTimeWait(seg);
      case 'FIN-WAIT-2':
        return this.twFinWait2 ? this.rcvTimeWaitFinWait2(seg) : this.rcvEstablished(seg);
      case 'CLOSED':
        return false;
      default:
        return this.rcvEstablished(seg);
    }
  }

  private rcvSynSent(seg: Segment): boolean {
    const f = seg.flags;
    if (f & ACK) {
      if (!after(seg.ack, this.iss) || after(seg.ack, this.sndNxt)) {
        return (f & RST) !== 0; // a reset with a bad ACK is ignored, anything else is reset
      }
      if (f & RST) {
        this.resetByPeer();
        return true;
      }
      if (!(f & SYN)) return true;
      const env = this.stack.env;
      const r = env.route(this.remote.addr);
      const mtu = 'errno' in r ? this.advmss + 40 : r.mtu;
      this.irs = seg.seq;
      this.rcvNxt = seqAdd(seg.seq, 1);
      this.rcvWup = this.rcvNxt;
      this.copiedSeq = this.rcvNxt;
      this.takeSynOptions(seg, mtu);
      this.sndWnd = seg.window;
      this.sndWl1 = seg.seq;
      this.rttFromAck(seg);
      this.sndUna = seg.ack;
      this.retransmits = 0;
      this.retransStamp = 0;
      this.clearRtx();
      this.state = 'ESTAB';
      this.lrcvtime = jiffiesAt(env.nowNs());
      this.rcvMss = Math.max(Math.min(this.advmss, this.mss, Math.floor(this.rcvWnd / 2), MSS_DEFAULT), 88);
      this.pushSeq = seqAdd(this.sndUna, this.sendQ.length);
      this.sendAck();
      if (this.finQueued) {
        this.finQueued = false;
        this.queueFin();
      } else this.pushPending();
      this.wakeOwner();
      return true;
    }
    return true; // RST without ACK, bare SYN (simultaneous open is not modelled): dropped
  }

  /** A segment for a request socket (tcp_check_req). */
  private rcvRequest(seg: Segment): boolean {
    const f = seg.flags;
    if (seg.seq === this.irs && (f & (SYN | ACK | RST)) === SYN) {
      // the client retransmitted its SYN: send the SYN-ACK again
      const now = this.stack.env.nowNs();
      if (now - this.lastOow >= OOW_INTERVAL_NS) {
        this.lastOow = now;
        this.sendSynAck();
      }
      return true;
    }
    if ((f & ACK) && seg.ack !== seqAdd(this.iss, 1)) return false;
    if (f & RST) {
      if (seg.seq === this.rcvNxt) this.done();
      return true;
    }
    if (f & SYN) return false;
    if (!(f & ACK)) return true;
    const listener = this.parent!;
    if (listener.acceptQueue.length > listener.backlog) {
      // the accept queue is full: the ACK is forgotten; a SYN-ACK retransmission brings another
      this.ackedWhileFull = true;
      return true;
    }
    // the connection is established: the child goes to the accept queue
    this.clearRtx();
    if (this.numTimeout === 0) this.rttSample(Math.floor((this.stack.env.nowNs() - this.synAckSentAt) / 1000));
    else if (this.tsOk && seg.hasTs && seg.tsEcr !== 0) this.rttSample(Math.max((this.tsNow() - seg.tsEcr) >>> 0, 1) * 1000);
    this.sndUna = seg.ack;
    this.sndWnd = seg.window * 2 ** this.sndWscale;
    this.sndWl1 = seg.seq;
    if (this.tsOk && seg.hasTs) this.tsRecent = seg.tsVal;
    this.state = 'ESTAB';
    this.lrcvtime = jiffiesAt(this.stack.env.nowNs());
    this.rto = this.srttUs ? this.rto : TIMEOUT_INIT;
    listener.acceptQueue.push(this);
    listener.owner?.wake();
    if (seg.payloadLen > 0 || (f & FIN)) return this.rcvEstablished(seg);
    return true;
  }

  /** When the first SYN-ACK left (ns), for the RTT sample of the final ACK. */
  synAckSentAt = 0;

  /** An orphan in FIN-WAIT-2 handled as a timewait socket: what it sends comes from the kernel's control socket. */
  private twFinWait2 = false;

  /** A segment for a timewait socket in FIN-WAIT-2 (tcp_timewait_state_process). Returns false when a reset is due. */
  private rcvTimeWaitFinWait2(seg: Segment): boolean {
    const f = seg.flags;
    const endSeq = seqAdd(seg.seq, seg.payloadLen + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0));
    const sWin = this.rcvNxt;
    const eWin = seqAdd(this.rcvNxt, this.rcvWnd);
    const inWindow = seg.seq === sWin || (after(endSeq, sWin) && before(seg.seq, eWin)) || (seg.seq === eWin && seg.seq === endSeq);
    if (!inWindow) {
      const now = this.stack.env.nowNs();
      if (!(f & RST) && now - this.lastOow >= OOW_INTERVAL_NS) {
        this.lastOow = now;
        this.sendTimeWaitAck();
      }
      return true;
    }
    if (f & RST) {
      this.timeWaitOver();
      return true;
    }
    if (f & SYN && !before(seg.seq, this.rcvNxt)) return false;
    if (!(f & ACK) || !after(endSeq, this.rcvNxt) || endSeq === seg.seq) return true;
    if (!(f & FIN) || endSeq !== seqAdd(this.rcvNxt, 1)) {
      this.timeWaitOver();
      return false;
    }
    this.rcvNxt = endSeq;
    this.state = 'TIME-WAIT';
    this.armTw(this.stack.env.nowNs() + TIMEWAIT_NS, () => this.timeWaitOver());
    this.sendTimeWaitAck();
    return true;
  }

  /** A segment for a TIME-WAIT socket (tcp_timewait_state_process). Returns false when a reset is due. */
  private rcvTimeWait(seg: Segment): boolean {
    const f = seg.flags;
    if (seg.seq === this.rcvNxt && (seg.payloadLen === 0 || (f & RST)) && !(f & FIN) && !(f & SYN)) {
      if (f & RST) {
        if (sysctlInt(this.stack.env, 'net.ipv4.tcp_rfc1337', 0) === 0) this.timeWaitOver();
        return true;
      }
      this.armTw(this.stack.env.nowNs() + TIMEWAIT_NS, () => this.timeWaitOver());
      return true;
    }
    if ((f & (SYN | RST | ACK)) === SYN && (after(seg.seq, this.rcvNxt) || (this.tsOk && seg.hasTs && ((this.tsRecent - seg.tsVal) | 0) < 0))) {
      // a new connection on the same four-tuple: the TIME-WAIT socket gives way to the listener
      const isn = seqAdd(this.sndNxt, 65535 + 2);
      this.clearTw();
      this.timeWaitOver();
      return this.stack.tcpTimeWaitSyn(seg, isn);
    }
    if (f & RST) return true;
    if (f & ACK) this.armTw(this.stack.env.nowNs() + TIMEWAIT_NS, () => this.timeWaitOver());
    const now = this.stack.env.nowNs();
    if (now - this.lastOow >= OOW_INTERVAL_NS) {
      this.lastOow = now;
      this.sendTimeWaitAck();
    }
    return true;
  }

  private clearTw(): void {
    if (this.twTimer !== null) {
      this.stack.env.clearTimer(this.twTimer);
      this.twTimer = null;
    }
  }

  /** The ACK of a TIME-WAIT socket: sent by the kernel's control socket, IP ID 0. */
  private sendTimeWaitAck(): void {
    const unit = 2 ** this.rcvWscale;
    this.xmit(ACK, this.sndNxt, null, this.dataOptions(), Math.min(Math.floor(this.rcvWnd / unit), 65535), 0);
  }

  /** The segment processing of a synchronized connection (tcp_rcv_state_process / tcp_rcv_established). */
  private rcvEstablished(seg: Segment): boolean {
    const f = seg.flags;
    const len = seg.payloadLen;
    const endSeq = seqAdd(seg.seq, len + (f & SYN ? 1 : 0) + (f & FIN ? 1 : 0));
    // tcp_sequence: the segment must overlap the receive window
    const winEnd = seqAdd(this.rcvWup, this.rcvWnd);
    const acceptable = !before(endSeq, this.rcvWup) && !after(seg.seq, winEnd) && !(len === 0 && !(f & FIN) && after(seg.seq, winEnd));
    if (!acceptable) {
      if (!(f & RST)) this.sendOowAck();
      return true;
    }
    if (f & RST) {
      const exact = seg.seq === this.rcvNxt;
      const finState = this.state === 'CLOSE-WAIT' || this.state === 'LAST-ACK' || this.state === 'CLOSING';
      if (exact || (finState && seg.seq === seqAdd(this.rcvNxt, 1))) this.resetByPeer();
      else this.sendOowAck();
      return true;
    }
    if (this.tsOk && seg.hasTs && !after(seg.seq, this.rcvNxt)) this.tsRecent = seg.tsVal;
    if (f & SYN) {
      this.sendOowAck();
      return true;
    }
    if (!(f & ACK)) return true;
    // ACK processing (tcp_ack)
    if (after(seg.ack, this.sndMax)) {
      this.sendOowAck();
      return true;
    }
    if (after(seg.ack, this.sndUna) || after(seg.seq, this.sndWl1) || (seg.seq === this.sndWl1 && seg.window * 2 ** this.sndWscale > this.sndWnd)) {
      this.sndWnd = seg.window * 2 ** this.sndWscale;
      this.sndWl1 = seg.seq;
    }
    this.probesOut = 0;
    if (after(seg.ack, this.sndUna)) this.ackNewData(seg);
    // state changes on the ACK of our FIN
    const finAcked = this.finQueued && this.finSent && seg.ack === this.sndMax;
    if (finAcked) {
      if (this.state === 'FIN-WAIT-1') {
        this.state = 'FIN-WAIT-2';
        if (this.orphan) {
          if (len > 0 && after(seqAdd(endSeq, f & FIN ? -1 : 0), this.rcvNxt)) {
            this.done();
            return false;
          }
          const finTimeout = sysctlInt(this.stack.env, 'net.ipv4.tcp_fin_timeout', 60);
          this.armTw(this.stack.env.nowNs() + finTimeout * 1e9, () => this.timeWaitOver());
          // without a FIN in the same segment the socket gives way to a FIN-WAIT-2 timewait socket (tcp_time_wait)
          if (!(f & FIN) && finTimeout <= 60) {
            this.twFinWait2 = true;
            this.clearRtx();
            return true;
          }
        }
        this.wakeOwner();
      } else if (this.state === 'CLOSING') {
        this.enterTimeWait();
        return true;
      } else if (this.state === 'LAST-ACK') {
        this.done();
        return true;
      }
    }
    // data and FIN (tcp_data_queue)
    if (len > 0 || (f & FIN)) {
      if ((this.state === 'FIN-WAIT-1' || this.state === 'FIN-WAIT-2') && this.orphan && len > 0) {
        // data after close(): the connection is reset (tcp_rcv_state_process)
        this.done();
        return false;
      }
      if (this.state === 'CLOSE-WAIT' || this.state === 'CLOSING' || this.state === 'LAST-ACK' || this.state === 'TIME-WAIT') {
        return true;
      }
      this.dataQueue(seg, len, (f & FIN) !== 0);
    }
    if (this.state !== 'CLOSED' && this.state !== 'TIME-WAIT') {
      this.pushPending();
      this.ackCheck();
    }
    return true;
  }

  /** ACK of new data: the send queue shrinks, the RTT is sampled, the timer is rearmed. */
  private ackNewData(seg: Segment): void {
    const acked = (seg.ack - this.sndUna) >>> 0;
    const dataAcked = Math.min(acked, this.sendQ.length);
    this.rttFromAck(seg);
    this.sendQ.drop(dataAcked);
    this.sndUna = seg.ack;
    if (after(this.sndUna, this.sndNxt)) {
      this.sndNxt = this.sndUna;
      if (this.finQueued && this.sndUna === this.sndMax) this.finSent = true;
    }
    if (!after(this.sndSml, this.sndUna)) this.sndSml = this.sndUna;
    this.retransmits = 0;
    this.retransStamp = 0;
    const segs = Math.max(1, Math.ceil(dataAcked / this.mss));
    if (this.cwnd < this.ssthresh) this.cwnd += segs;
    else this.cwnd += 1 / this.cwnd;
    if (this.tlpHighSeq !== null && !before(seg.ack, this.tlpHighSeq)) this.tlpHighSeq = null;
    if (this.lossHigh !== null && !before(seg.ack, this.lossHigh)) this.lossHigh = null;
    if (this.inflight() === 0) this.clearRtx();
    else if (!this.scheduleLossProbe(true)) this.armRtx(this.rto);
    this.wakeOwner();
  }

  /** Queues in-order data (and a FIN); answers anything else with an immediate ACK. */
  private dataQueue(seg: Segment, len: number, fin: boolean): void {
    let seq = seg.seq;
    let off = seg.payloadOff;
    let n = len;
    if (before(seq, this.rcvNxt)) {
      const skip = (this.rcvNxt - seq) >>> 0;
      if (skip >= n + (fin ? 1 : 0)) {
        // a retransmission of what we have: ACK at once (quick-ACK mode)
        this.incrQuickack();
        this.ackPending = true;
        this.sendAck();
        return;
      }
      const s = Math.min(skip, n);
      seq = seqAdd(seq, s);
      off += s;
      n -= s;
    }
    if (seq !== this.rcvNxt) {
      // out of order: no reassembly queue here; the duplicate ACK asks for the gap
      this.incrQuickack();
      this.ackPending = true;
      this.sendAck();
      return;
    }
    const winRoom = (seqAdd(this.rcvWup, this.rcvWnd) - this.rcvNxt) >>> 0;
    if (n > winRoom) {
      n = winRoom;
      fin = false;
    }
    if (n > 0) {
      this.dataReceived(n);
      this.recvQ.push(seg.data.subarray(off, off + n));
      this.rcvNxt = seqAdd(this.rcvNxt, n);
      this.queuedEnds.push(this.rcvNxt);
      this.ackPending = true;
    }
    if (fin) {
      this.rcvNxt = seqAdd(this.rcvNxt, 1);
      this.finReceived = true;
      this.ackPending = true;
      this.queuedEnds.push(this.rcvNxt);
      switch (this.state) {
        case 'SYN-RECV':
        case 'ESTAB':
          this.state = 'CLOSE-WAIT';
          this.pingpong = 255;
          break;
        case 'FIN-WAIT-1':
          this.sendAck();
          this.state = 'CLOSING';
          break;
        case 'FIN-WAIT-2':
          this.sendAck();
          this.enterTimeWait();
          break;
      }
    }
    this.wakeOwner();
  }
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

/** Nanoseconds per jiffy, re-exported for tests that compute timer instants. */
export { NS_PER_JIFFY };
