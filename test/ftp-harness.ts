/**
 * A small stand-in for the lab's world, for the FTP programs' tests: hosts
 * with one address each, TCP sockets carried between them in memory on a
 * virtual clock, and a firewall predicate that decides which connection
 * attempts (SYN, SYN-ACK) get through. A SYN that is dropped is resent as
 * Linux does (1, 2, 4 ... seconds, net.ipv4.tcp_syn_retries = 6: the
 * connect fails with ETIMEDOUT after 127 seconds); a SYN to a port no one
 * listens on is answered with a reset (ECONNREFUSED). Segments of an
 * established connection always arrive, one hop later.
 */
import type { HostFs, Program, ProgramContext, Wait } from '../src/core/programs/api.js';
import type { Errno, SockAddr, SocketInfo, SocketLayer, TcpSocket, TcpState, UdpSocket, RawSocket, Waker } from '../src/core/stack/api.js';
import type { DirFs, FsEntry } from '../src/core/programs/vsftpd-ls.js';
import { parseIp } from '../src/core/programs/ftp-proto.js';

/** One hop, ns. */
export const HOP = 10_000;
const SEC = 1_000_000_000;

/** A segment that opens a connection, as the firewall predicate sees it. */
export interface Attempt {
  /** 'syn' from the connecting side, 'synack' back from the listener. */
  kind: 'syn' | 'synack';
  src: SockAddr;
  dst: SockAddr;
}

/** Files of a fake host: HostFs with directories (DirFs). */
export class MemFs implements HostFs, DirFs {
  readonly files = new Map<string, { text: string; mtimeSec: number }>();
  readonly dirs = new Map<string, number>([['/', 0]]);
  readonly dirSizes = new Map<string, number>();
  constructor(private readonly nowSec: () => number) {}
  addDir(path: string, mtimeSec: number, size = 4096): void {
    this.dirs.set(path, mtimeSec);
    this.dirSizes.set(path, size);
  }
  addFile(path: string, text: string, mtimeSec: number): void {
    this.files.set(path, { text, mtimeSec });
  }
  read(path: string): string | undefined {
    return this.files.get(path)?.text;
  }
  write(path: string, text: string): void {
    this.files.set(path, { text, mtimeSec: Math.floor(this.nowSec()) });
  }
  append(path: string, text: string): void {
    this.write(path, (this.read(path) ?? '') + text);
  }
  writeBytes(path: string, data: Uint8Array): void {
    this.write(path, new TextDecoder().decode(data));
  }
  list(path: string): FsEntry[] | undefined {
    if (!this.dirs.has(path)) return undefined;
    const prefix = path === '/' ? '/' : `${path}/`;
    const out: FsEntry[] = [];
    for (const [p, f] of this.files) {
      if (p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) {
        out.push({ name: p.slice(prefix.length), type: 'file', size: new TextEncoder().encode(f.text).length, mtimeSec: f.mtimeSec });
      }
    }
    for (const [p, m] of this.dirs) {
      if (p !== '/' && p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) {
        out.push({ name: p.slice(prefix.length), type: 'dir', size: this.dirSizes.get(p) ?? 4096, mtimeSec: m });
      }
    }
    return out;
  }
  stat(path: string): FsEntry | undefined {
    const f = this.files.get(path);
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (f) return { name, type: 'file', size: new TextEncoder().encode(f.text).length, mtimeSec: f.mtimeSec };
    const d = this.dirs.get(path);
    if (d !== undefined) return { name, type: 'dir', size: this.dirSizes.get(path) ?? 4096, mtimeSec: d };
    return undefined;
  }
}

class Task implements Waker {
  done = false;
  status = 0;
  ready = false;
  seq = 0;
  body!: Generator<Wait, number, void>;
  constructor(readonly net: FakeNet) {}
  wake(): void {
    if (this.done || this.ready) return;
    this.ready = true;
    this.net.ready.push(this);
  }
}

/** The virtual clock and the hosts. */
export class FakeNet {
  now = 0;
  readonly hosts = new Map<number, FakeHost>();
  readonly ready: Task[] = [];
  private timers: { at: number; seq: number; fn: () => void }[] = [];
  private seq = 0;
  private rand = 12345;
  /** True when the segment gets through (default: everything does). */
  allow: (a: Attempt) => boolean = () => true;
  /** Wall clock at virtual time 0 (seconds). */
  wallBase = 1_795_000_000;

  at(t: number, fn: () => void): void {
    this.timers.push({ at: t, seq: this.seq++, fn });
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  random32(): number {
    this.rand = (Math.imul(this.rand, 1103515245) + 12345) >>> 0;
    return this.rand;
  }

  /** Sets the next random numbers the programs draw. */
  seed(n: number): void {
    this.rand = n >>> 0;
  }

  host(ip: string, name = ip): FakeHost {
    const h = new FakeHost(this, parseIp(ip)!, name);
    this.hosts.set(h.addr, h);
    return h;
  }

  /** Runs until `stop` holds (checked between steps) or no event is left. */
  runUntil(stop: () => boolean, limitNs = 3600 * SEC): void {
    for (;;) {
      while (this.ready.length > 0) {
        const t = this.ready.shift()!;
        t.ready = false;
        this.step(t);
      }
      if (stop()) return;
      const next = this.timers.shift();
      if (!next || next.at > limitNs) return;
      if (next.at > this.now) this.now = next.at;
      next.fn();
    }
  }

  step(t: Task): void {
    if (t.done) return;
    const r = t.body.next();
    if (r.done) {
      t.done = true;
      t.status = r.value;
      return;
    }
    const mySeq = ++t.seq;
    if (r.value.until !== Infinity) {
      this.at(Math.max(this.now, r.value.until), () => {
        if (t.seq === mySeq) t.wake();
      });
    }
  }

  /** Starts a program on a host; returns its task. */
  start(host: FakeHost, program: Program, argv: string[], stdin = '', out?: (s: string) => void, err?: (s: string) => void): Task {
    const t = new Task(this);
    const ctx = host.context(t, argv, stdin, out ?? ((s) => host.out.push(s)), err ?? ((s) => host.err.push(s)));
    t.body = program(ctx);
    t.wake();
    return t;
  }

  /** Runs a foreground program to its end; returns its status, output and error text. */
  runProgram(host: FakeHost, program: Program, argv: string[], stdin = ''): { status: number; out: string; err: string; ns: number } {
    let out = '';
    let err = '';
    const start = this.now;
    const t = this.start(host, program, argv, stdin, (s) => (out += s), (s) => (err += s));
    this.runUntil(() => t.done);
    return { status: t.status, out, err, ns: this.now - start };
  }
}

/** A host with one address, its files, sockets and programs. */
export class FakeHost {
  readonly fs: MemFs;
  readonly listeners = new Map<number, FakeTcp>();
  readonly bound = new Set<number>();
  readonly out: string[] = [];
  readonly err: string[] = [];
  private nextPort = 40000;
  private pid = 100;
  constructor(
    readonly net: FakeNet,
    readonly addr: number,
    readonly name: string,
  ) {
    this.fs = new MemFs(() => net.wallBase + net.now / SEC);
  }

  ephemeral(): number {
    while (this.bound.has(this.nextPort)) this.nextPort++;
    return this.nextPort++;
  }

  context(task: Task, argv: string[], stdin: string, out: (s: string) => void, err: (s: string) => void): ProgramContext {
    const host = this;
    const net = this.net;
    const sockets: SocketLayer = {
      tcp: () => {
        const s = new FakeTcp(host);
        s.owner = task;
        return s;
      },
      udp: (): UdpSocket => {
        throw new Error('no UDP in the FTP harness');
      },
      raw: (): RawSocket => {
        throw new Error('no raw sockets in the FTP harness');
      },
      list: (): SocketInfo[] => [],
    };
    const ctx: ProgramContext = {
      argv,
      pid: this.pid++,
      where: { host: this.name, netns: '' },
      hostname: this.name,
      sockets,
      machine: undefined as never,
      fs: this.fs,
      stdin,
      resumed: false,
      saved: undefined,
      out,
      err,
      now: () => net.now,
      wallSec: () => net.wallBase + net.now / SEC,
      sleep: (ns) => ({ until: net.now + ns }),
      until: (ns) => ({ until: ns }),
      background: () => undefined,
      tap: () => () => undefined,
      random32: () => net.random32(),
      resolve: (name) => {
        const ip = parseIp(name);
        if (ip !== null) return ip;
        for (const h of net.hosts.values()) if (h.name === name) return h.addr;
        return null;
      },
      spawn: (program, args) => {
        net.start(host, program, args);
        return this.pid++;
      },
      wake: () => task.wake(),
    };
    return ctx;
  }
}

/** A TCP socket of the harness. */
export class FakeTcp implements TcpSocket {
  readonly kind = 'tcp' as const;
  owner: Waker | null = null;
  error: Errno | null = null;
  state: TcpState = 'CLOSED';
  local: SockAddr = { addr: 0, port: 0 };
  remote: SockAddr = { addr: 0, port: 0 };
  eof = false;
  peer: FakeTcp | null = null;
  private buf: Uint8Array[] = [];
  private backlog: FakeTcp[] = [];
  private attempt = 0;
  /** Whether this socket holds its local port (an accepted one shares its listener's). */
  private ownsPort = false;
  synRetries = 6;

  constructor(readonly host: FakeHost) {}

  private changed(): void {
    this.owner?.wake();
  }

  bind(addr: number, port: number): Errno | null {
    if (port !== 0 && this.host.bound.has(port)) return 'EADDRINUSE';
    if (port === 0) port = this.host.ephemeral();
    this.host.bound.add(port);
    this.ownsPort = true;
    this.local = { addr: addr || this.host.addr, port };
    return null;
  }

  listen(): Errno | null {
    if (this.local.port === 0) this.bind(0, 0);
    this.state = 'LISTEN';
    this.host.listeners.set(this.local.port, this);
    return null;
  }

  accept(): TcpSocket | null {
    return this.backlog.shift() ?? null;
  }

  connect(addr: number, port: number): Errno | null {
    if (this.local.port === 0) this.bind(0, 0);
    this.remote = { addr, port };
    this.state = 'SYN-SENT';
    this.sendSyn();
    return null;
  }

  private sendSyn(): void {
    const net = this.host.net;
    const start = net.now;
    const target = net.hosts.get(this.remote.addr);
    const through = target !== undefined && net.allow({ kind: 'syn', src: this.local, dst: this.remote });
    if (through) {
      net.at(start + HOP, () => {
        if (this.state !== 'SYN-SENT') return;
        const l = target!.listeners.get(this.remote.port);
        if (!l || l.state !== 'LISTEN') {
          net.at(net.now + HOP, () => this.fail('ECONNREFUSED'));
          return;
        }
        if (!net.allow({ kind: 'synack', src: this.remote, dst: this.local })) return;
        net.at(net.now + HOP, () => {
          if (this.state !== 'SYN-SENT' || l.state !== 'LISTEN') return;
          const srv = new FakeTcp(target!);
          srv.local = { ...this.remote };
          srv.remote = { ...this.local };
          srv.state = 'ESTAB';
          srv.peer = this;
          srv.owner = l.owner;
          this.peer = srv;
          this.state = 'ESTAB';
          this.changed();
          net.at(net.now + HOP, () => {
            l.backlog.push(srv);
            l.changed();
          });
        });
      });
    }
    // retransmission timer (1 s doubling); the last wait ends the attempt
    const rto = SEC * 2 ** this.attempt;
    net.at(start + rto, () => {
      if (this.state !== 'SYN-SENT') return;
      if (this.attempt >= this.synRetries) {
        this.fail('ETIMEDOUT');
        return;
      }
      this.attempt++;
      this.sendSyn();
    });
  }

  private fail(e: Errno): void {
    if (this.state !== 'SYN-SENT') return;
    this.error = e;
    this.state = 'CLOSED';
    this.changed();
  }

  send(data: Uint8Array): Errno | null {
    if (this.state !== 'ESTAB' && this.state !== 'CLOSE-WAIT') return 'EPIPE';
    const peer = this.peer!;
    const copy = data.slice();
    this.host.net.at(this.host.net.now + HOP, () => {
      if (peer.state === 'CLOSED') return;
      peer.buf.push(copy);
      peer.changed();
    });
    return null;
  }

  get available(): number {
    return this.buf.reduce((n, b) => n + b.length, 0);
  }

  read(max?: number): Uint8Array {
    const all = new Uint8Array(this.available);
    let at = 0;
    for (const b of this.buf) {
      all.set(b, at);
      at += b.length;
    }
    const n = max === undefined ? all.length : Math.min(max, all.length);
    this.buf = n < all.length ? [all.slice(n)] : [];
    return all.subarray(0, n);
  }

  shutdown(): void {
    this.finToPeer();
  }

  private finToPeer(): void {
    const peer = this.peer;
    if (!peer) return;
    this.host.net.at(this.host.net.now + HOP, () => {
      peer.eof = true;
      if (peer.state === 'ESTAB') peer.state = 'CLOSE-WAIT';
      peer.changed();
    });
  }

  close(): void {
    if (this.state === 'LISTEN') {
      this.host.listeners.delete(this.local.port);
      this.release();
      for (const s of this.backlog) s.abort();
      this.backlog = [];
      this.state = 'CLOSED';
      return;
    }
    if (this.state === 'SYN-SENT') {
      this.state = 'CLOSED';
      return;
    }
    if (this.available > 0) {
      this.abort();
      return;
    }
    if (this.state === 'ESTAB' || this.state === 'CLOSE-WAIT') this.finToPeer();
    this.state = 'CLOSED';
    this.release();
  }

  private release(): void {
    if (this.ownsPort) this.host.bound.delete(this.local.port);
    this.ownsPort = false;
  }

  abort(): void {
    const peer = this.peer;
    const wasOpen = this.state === 'ESTAB' || this.state === 'CLOSE-WAIT';
    this.state = 'CLOSED';
    this.release();
    if (peer && wasOpen) {
      this.host.net.at(this.host.net.now + HOP, () => {
        if (peer.state === 'CLOSED') return;
        peer.error = 'ECONNRESET';
        peer.state = 'CLOSED';
        peer.changed();
      });
    }
  }
}
