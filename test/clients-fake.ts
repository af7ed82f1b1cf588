/**
 * A small stand-in for the lab's runtime, to test client programs alone:
 * one virtual clock, a program driven as the scheduler drives it (resumed
 * at its wait's time or when a socket wakes it), and sockets whose peers
 * are scripted by the test (what answers an echo request, what a connect
 * gets, which datagrams come back when).
 */
import type { HostFs, Program, ProgramContext, TappedFrame, Wait } from '../src/core/programs/api.js';
import type { Errno, RawSocket, SockAddr, SocketInfo, SocketLayer, TcpSocket, TcpState, UdpSocket, Waker } from '../src/core/stack/api.js';
import type { Machine } from '../src/core/path/machine.js';

/** What a scripted peer does with a TCP connect. */
export type TcpScript =
  | { kind: 'accept'; afterNs: number; banner?: string; respond?: (request: string) => string | null; closeAfterResponse?: boolean }
  | { kind: 'fail'; afterNs: number; errno: Errno }
  | { kind: 'silent'; giveUpNs?: number };

/** A datagram the test network delivers to the program's raw/udp socket after a delay. */
export interface Delivery {
  afterNs: number;
  datagram: Uint8Array;
  from?: SockAddr;
}

/** The scripted network around the program. */
export interface FakeNetwork {
  /** Local address the namespace uses to reach `dst`, or the routing error. */
  route(dst: number): { src: number } | { errno: Errno };
  /** What happens to an ICMP (raw) datagram the program sends. */
  onRaw?(payload: Uint8Array, to: number, opts: { ttl?: number; df?: boolean } | undefined, seqNo: number): Delivery[] | Errno;
  /** What happens to a UDP datagram sent to `to`. */
  onUdp?(data: Uint8Array, to: SockAddr, from: SockAddr): Delivery[] | Errno;
  /** What a TCP connect to `addr:port` meets. */
  tcp?(addr: number, port: number): TcpScript;
}

/** The outcome of running a program. */
export interface RunResult {
  out: string;
  err: string;
  /** stdout and stderr interleaved in the order written, stderr lines prefixed "E: ". */
  both: string;
  status: number;
  /** Virtual time the run took. */
  elapsedNs: number;
}

/** The virtual clock and its event queue. */
class Clock {
  now = 0;
  private events: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  at(at: number, fn: () => void): void {
    this.events.push({ at, seq: this.seq++, fn });
    this.events.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }
  nextAt(): number {
    return this.events.length ? this.events[0]!.at : Infinity;
  }
  runDue(): void {
    while (this.events.length && this.events[0]!.at <= this.now) this.events.shift()!.fn();
  }
}

function wakeOwner(o: Waker | null): void {
  o?.wake();
}

class FakeRaw implements RawSocket {
  readonly kind = 'raw' as const;
  owner: Waker | null = null;
  error: Errno | null = null;
  local: SockAddr = { addr: 0, port: 0 };
  queue: Uint8Array[] = [];
  sent = 0;
  constructor(
    readonly protocol: number,
    private readonly clock: Clock,
    private readonly net: FakeNetwork,
    private readonly all: FakeRaw[],
  ) {
    all.push(this);
  }
  send(payload: Uint8Array, to: number, opts?: { hdrincl?: boolean; ttl?: number; df?: boolean; tos?: number }): Errno | null {
    const r = this.net.onRaw ? this.net.onRaw(payload, to, opts, this.sent++) : [];
    if (typeof r === 'string') return r;
    for (const d of r) {
      this.clock.at(this.clock.now + d.afterNs, () => {
        // every raw socket of the datagram's protocol gets a copy, as raw_v4_input gives them
        for (const s of this.all) {
          if (s.protocol !== d.datagram[9]) continue;
          s.queue.push(d.datagram.slice());
          wakeOwner(s.owner);
        }
      });
    }
    return null;
  }
  recv(): Uint8Array | null {
    return this.queue.shift() ?? null;
  }
  close(): void {}
}

class FakeUdp implements UdpSocket {
  readonly kind = 'udp' as const;
  owner: Waker | null = null;
  error: Errno | null = null;
  local: SockAddr = { addr: 0, port: 0 };
  remote: SockAddr = { addr: 0, port: 0 };
  queue: { data: Uint8Array; from: SockAddr }[] = [];
  constructor(
    private readonly clock: Clock,
    private readonly net: FakeNetwork,
    private readonly ports: { next: number },
  ) {}
  bind(addr: number, port: number): Errno | null {
    this.local = { addr, port: port || this.ports.next++ };
    return null;
  }
  connect(addr: number, port: number): Errno | null {
    const r = this.net.route(addr);
    if ('errno' in r) return r.errno;
    this.local = { addr: r.src, port: this.local.port || this.ports.next++ };
    this.remote = { addr, port };
    return null;
  }
  send(data: Uint8Array, to?: SockAddr): Errno | null {
    const dst = to ?? this.remote;
    if (!this.local.port) {
      const r = this.net.route(dst.addr);
      if ('errno' in r) return r.errno;
      this.local = { addr: r.src, port: this.ports.next++ };
    }
    const r = this.net.onUdp ? this.net.onUdp(data, dst, this.local) : [];
    if (typeof r === 'string') return r;
    for (const d of r) {
      this.clock.at(this.clock.now + d.afterNs, () => {
        if (d.datagram.length === 0 && d.from === undefined) {
          this.error = 'ECONNREFUSED';
        } else {
          this.queue.push({ data: d.datagram, from: d.from ?? dst });
        }
        wakeOwner(this.owner);
      });
    }
    return null;
  }
  recv(): { data: Uint8Array; from: SockAddr } | null {
    return this.queue.shift() ?? null;
  }
  takeError(): Errno | null {
    const e = this.error;
    this.error = null;
    return e;
  }
  close(): void {}
}

class FakeTcp implements TcpSocket {
  readonly kind = 'tcp' as const;
  owner: Waker | null = null;
  error: Errno | null = null;
  state: TcpState = 'CLOSED';
  local: SockAddr = { addr: 0, port: 0 };
  remote: SockAddr = { addr: 0, port: 0 };
  eof = false;
  synRetries?: number;
  private inbuf: number[] = [];
  private script: TcpScript | null = null;
  private request = '';
  constructor(
    private readonly clock: Clock,
    private readonly net: FakeNetwork,
    private readonly ports: { next: number },
  ) {}
  get available(): number {
    return this.inbuf.length;
  }
  bind(addr: number, port: number): Errno | null {
    this.local = { addr, port };
    return null;
  }
  listen(): Errno | null {
    this.state = 'LISTEN';
    return null;
  }
  accept(): TcpSocket | null {
    return null;
  }
  connect(addr: number, port: number): Errno | null {
    const r = this.net.route(addr);
    if ('errno' in r) return r.errno;
    this.local = { addr: r.src, port: this.local.port || this.ports.next++ };
    this.remote = { addr, port };
    this.state = 'SYN-SENT';
    const s = this.net.tcp ? this.net.tcp(addr, port) : ({ kind: 'fail', afterNs: 50_000, errno: 'ECONNREFUSED' } as TcpScript);
    this.script = s;
    if (s.kind === 'accept') {
      this.clock.at(this.clock.now + s.afterNs, () => {
        if (this.state !== 'SYN-SENT') return;
        this.state = 'ESTAB';
        if (s.banner) this.deliver(s.banner);
        wakeOwner(this.owner);
      });
    } else if (s.kind === 'fail') {
      this.clock.at(this.clock.now + s.afterNs, () => {
        if (this.state !== 'SYN-SENT') return;
        this.state = 'CLOSED';
        this.error = s.errno;
        wakeOwner(this.owner);
      });
    } else if (s.giveUpNs !== undefined) {
      this.clock.at(this.clock.now + s.giveUpNs, () => {
        if (this.state !== 'SYN-SENT') return;
        this.state = 'CLOSED';
        this.error = 'ETIMEDOUT';
        wakeOwner(this.owner);
      });
    }
    return null;
  }
  private deliver(text: string): void {
    for (const b of new TextEncoder().encode(text)) this.inbuf.push(b);
  }
  send(data: Uint8Array): Errno | null {
    if (this.state !== 'ESTAB' && this.state !== 'CLOSE-WAIT') return 'EPIPE';
    const s = this.script;
    this.request += new TextDecoder().decode(data);
    if (s && s.kind === 'accept' && s.respond) {
      const reply = s.respond(this.request);
      if (reply !== null) {
        this.request = '';
        this.clock.at(this.clock.now + s.afterNs, () => {
          this.deliver(reply);
          if (s.closeAfterResponse) {
            this.eof = true;
            this.state = 'CLOSE-WAIT';
          }
          wakeOwner(this.owner);
        });
      }
    }
    return null;
  }
  read(max?: number): Uint8Array {
    const n = max === undefined ? this.inbuf.length : Math.min(max, this.inbuf.length);
    return Uint8Array.from(this.inbuf.splice(0, n));
  }
  shutdown(): void {}
  abort(): void {
    this.state = 'CLOSED';
  }
  close(): void {
    this.state = 'CLOSED';
  }
}

/** Options of a fake run. */
export interface FakeRunOptions {
  net: FakeNetwork;
  files?: Record<string, string>;
  stdin?: string;
  /** Wall clock at virtual time 0, seconds since the epoch. */
  wallStart?: number;
  /** The namespace's kernel, for programs that read it (arp). */
  machine?: unknown;
  /** First value of the random generator. */
  seed?: number;
  /** Give up (fail the test) past this much virtual time. */
  limitNs?: number;
}

/** Runs `program` with `argv` against the scripted network; returns its output and status. */
export function runFake(program: Program, argv: string[], opts: FakeRunOptions): RunResult {
  const clock = new Clock();
  const ports = { next: 40000 };
  const raws: FakeRaw[] = [];
  const files = { ...(opts.files ?? {}) };
  let out = '';
  let err = '';
  let both = '';
  let woken = false;
  let rng = opts.seed ?? 0x1234;
  const fs: HostFs = {
    read: (p) => files[p],
    write: (p, t) => void (files[p] = t),
    append: (p, t) => void (files[p] = (files[p] ?? '') + t),
    writeBytes: () => {},
  };
  const sockets: SocketLayer = {
    tcp: () => new FakeTcp(clock, opts.net, ports),
    udp: () => new FakeUdp(clock, opts.net, ports),
    raw: (p) => new FakeRaw(p, clock, opts.net, raws),
    list: (): SocketInfo[] => [],
  };
  const ctx: ProgramContext = {
    argv,
    pid: 100,
    where: { host: 'main', netns: '' },
    hostname: 'main',
    sockets,
    machine: (opts.machine ?? {}) as Machine,
    fs,
    stdin: opts.stdin ?? '',
    resumed: false,
    saved: undefined,
    out(t) {
      out += t;
      both += t;
    },
    err(t) {
      err += t;
      both += t
        .split(/(?<=\n)/)
        .map((l) => 'E: ' + l)
        .join('');
    },
    now: () => clock.now,
    wallSec: () => (opts.wallStart ?? 1_700_000_000) + clock.now / 1e9,
    sleep: (ns): Wait => ({ until: clock.now + ns }),
    until: (ns): Wait => ({ until: ns }),
    background() {},
    tap(_iface: string | null, _fn: (f: TappedFrame) => void) {
      return () => {};
    },
    random32() {
      rng ^= rng << 13;
      rng ^= rng >>> 17;
      rng ^= rng << 5;
      rng >>>= 0;
      return rng;
    },
    resolve: () => null,
    spawn: () => 0,
    wake() {
      woken = true;
    },
  };
  const limit = opts.limitNs ?? 3600e9;
  const gen = program(ctx);
  let r = gen.next();
  while (!r.done) {
    const until = r.value.until;
    woken = false;
    for (;;) {
      const next = Math.min(clock.nextAt(), until);
      if (next === Infinity) throw new Error('program waits forever');
      if (next > limit) throw new Error('program ran past the time limit');
      if (next > clock.now) clock.now = next;
      clock.runDue();
      if (woken || clock.now >= until) break;
    }
    r = gen.next();
  }
  return { out, err, both, status: r.value, elapsedNs: clock.now };
}

/** Builds an IPv4 datagram (no options) around `payload`. */
export function ipDatagram(src: number, dst: number, proto: number, ttl: number, payload: Uint8Array): Uint8Array {
  const d = new Uint8Array(20 + payload.length);
  d[0] = 0x45;
  d[2] = d.length >> 8;
  d[3] = d.length & 255;
  d[8] = ttl;
  d[9] = proto;
  for (let i = 0; i < 4; i++) {
    d[12 + i] = (src >>> (24 - 8 * i)) & 255;
    d[16 + i] = (dst >>> (24 - 8 * i)) & 255;
  }
  d.set(payload, 20);
  return d;
}

/** The ICMP checksum over `b`, written in place. */
export function icmpChecksum(b: Uint8Array): Uint8Array {
  b[2] = 0;
  b[3] = 0;
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  b[2] = c >> 8;
  b[3] = c & 255;
  return b;
}

/** An echo reply to an echo request payload (ICMP header first). */
export function echoReply(src: number, dst: number, request: Uint8Array, ttl = 64): Uint8Array {
  const icmp = request.slice();
  icmp[0] = 0;
  return ipDatagram(src, dst, 1, ttl, icmpChecksum(icmp));
}

/** An ICMP error from `from` quoting the echo request `request` sent from `src` to `dst`. */
export function icmpError(from: number, src: number, dst: number, type: number, code: number, request: Uint8Array): Uint8Array {
  const quoted = ipDatagram(src, dst, 1, 64, request).slice(0, 28);
  const icmp = new Uint8Array(8 + quoted.length);
  icmp[0] = type;
  icmp[1] = code;
  icmp.set(quoted, 8);
  return ipDatagram(from, src, 1, 64, icmpChecksum(icmp));
}

/** 10.0.0.N as a number. */
export function net10(n: number): number {
  return (0x0a000000 | n) >>> 0;
}
