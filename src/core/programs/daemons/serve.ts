/**
 * What the lab's daemons share: opening their listening sockets, going to
 * the background, and running one small session per TCP connection and one
 * answer per UDP datagram, all in the daemon's own task.
 *
 * A daemon opens every socket first and only then calls background(): a
 * daemon that cannot bind exits with its error before that, which is how
 * a unit's start learns that it failed. A session is a generator that
 * yields the virtual time (ns since boot) at which it wants to run again
 * at the latest; it is also run whenever any socket of the daemon changes,
 * so it always looks at its connection's state rather than assuming why it
 * was woken.
 */
import { formatIPv4 } from '../../addr/ipv4.js';
import type { Errno, SockAddr, TcpSocket, UdpSocket } from '../../stack/api.js';
import type { ProgramBody, ProgramContext } from '../api.js';

/** A session's body: yields its next deadline, returns when the connection is done. */
export type Session = Generator<number, void, void>;

/** A TCP service: where it listens and what it does with a connection. */
export interface TcpService {
  addr: number;
  port: number;
  /** listen(2) backlog (shown by `ss -l` as Send-Q). */
  backlog: number;
  session(conn: Conn): Session;
}

/** A UDP service: where it is bound and its answer to a datagram (null: none). */
export interface UdpService {
  addr: number;
  port: number;
  answer(data: Uint8Array, from: SockAddr, local: SockAddr): Uint8Array | null;
  /** A socket the daemon goes without when it cannot bind it (ntpd's per-address sockets). */
  optional?: boolean;
}

/** A daemon's sockets, and how it reports a socket it cannot open. */
export interface DaemonSpec {
  tcp: TcpService[];
  udp: UdpService[];
  /** The message for a failed bind (to stderr, then the daemon exits with `failStatus`). */
  bindError(addr: number, port: number, errno: Errno, proto: 'tcp' | 'udp'): string;
  failStatus: number;
}

/**
 * A configuration file as the daemon read it when it started: the host's
 * file on the first run, the same text when it goes on after an earlier
 * command (a daemon does not see edits until it is restarted or reloaded).
 */
export function configFile(ctx: ProgramContext, path: string): string | undefined {
  const saved = (ctx.saved ??= { files: {} }) as { files: Record<string, string | null> };
  saved.files ??= {};
  if (ctx.resumed && Object.hasOwn(saved.files, path)) return saved.files[path] ?? undefined;
  const text = ctx.fs.read(path);
  saved.files[path] = text ?? null;
  return text;
}

/** Bytes of a latin-1 string (protocol text is ASCII). */
export function bytesOf(text: string): Uint8Array {
  const b = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i) & 0xff;
  return b;
}

/** A latin-1 string of bytes. */
export function textOf(data: Uint8Array): string {
  let s = '';
  for (let i = 0; i < data.length; i++) s += String.fromCharCode(data[i]!);
  return s;
}

/** A TCP connection of a session: buffered input, text or bytes out. */
export class Conn {
  /** Received bytes not yet taken, as latin-1 text. */
  private pending = '';

  constructor(
    readonly sock: TcpSocket,
    readonly ctx: ProgramContext,
  ) {}

  /** The client's address and port. */
  get peer(): SockAddr {
    return this.sock.remote;
  }

  /** The address and port the client connected to. */
  get local(): SockAddr {
    return this.sock.local;
  }

  /** Sends text (latin-1) or bytes. */
  send(data: string | Uint8Array): void {
    this.sock.send(typeof data === 'string' ? bytesOf(data) : data);
  }

  /** True when no more input can come (the peer closed, or the connection failed). */
  get ended(): boolean {
    return this.sock.eof || this.sock.error !== null || this.sock.state === 'CLOSED';
  }

  private pull(): void {
    if (this.sock.available > 0) this.pending += textOf(this.sock.read());
  }

  /**
   * The next line (without its CR LF), or null at the end of input or at
   * `deadline` (virtual ns). A last line without a newline is returned at
   * the end of input.
   */
  *line(deadline = Infinity): Generator<number, string | null, void> {
    for (;;) {
      this.pull();
      const nl = this.pending.indexOf('\n');
      if (nl >= 0) {
        const line = this.pending.slice(0, nl).replace(/\r$/, '');
        this.pending = this.pending.slice(nl + 1);
        return line;
      }
      if (this.ended) {
        if (this.pending === '') return null;
        const rest = this.pending;
        this.pending = '';
        return rest;
      }
      if (this.ctx.now() >= deadline) return null;
      yield deadline;
    }
  }

  /** Exactly `n` bytes, or null when input ends first or at `deadline`. */
  *bytes(n: number, deadline = Infinity): Generator<number, Uint8Array | null, void> {
    for (;;) {
      this.pull();
      if (this.pending.length >= n) {
        const out = bytesOf(this.pending.slice(0, n));
        this.pending = this.pending.slice(n);
        return out;
      }
      if (this.ended || this.ctx.now() >= deadline) return null;
      yield deadline;
    }
  }

  /** Waits until the peer closes or `deadline` passes, dropping what it sends. */
  *drain(deadline = Infinity): Generator<number, void, void> {
    for (;;) {
      this.pull();
      this.pending = '';
      if (this.ended || this.ctx.now() >= deadline) return;
      yield deadline;
    }
  }
}

/**
 * Names the daemon as the socket's owner for `ss -p` (the stack's sockets
 * carry an optional owner; descriptors are numbered from 3 in the order
 * the daemon opened them).
 */
function tagOwner(ctx: ProgramContext, sock: object, fd: number): void {
  const argv0 = ctx.argv[0] ?? '';
  (sock as { process?: { name: string; pid: number; fd: number } }).process = { name: argv0.slice(argv0.lastIndexOf('/') + 1), pid: ctx.pid, fd };
}

/** A running session and its socket. */
interface Live {
  conn: Conn;
  body: Session;
  /** When the session asked to run again. */
  due: number;
}

/** Opens the daemon's sockets, goes to the background and serves until it is stopped. */
export function* runDaemon(ctx: ProgramContext, spec: DaemonSpec): ProgramBody {
  const listeners: { sock: TcpSocket; svc: TcpService }[] = [];
  const dgrams: { sock: UdpSocket; svc: UdpService }[] = [];
  const fail = (addr: number, port: number, errno: Errno, proto: 'tcp' | 'udp'): number => {
    for (const l of listeners) l.sock.close();
    for (const d of dgrams) d.sock.close();
    ctx.err(spec.bindError(addr, port, errno, proto));
    return spec.failStatus;
  };
  for (const svc of spec.tcp) {
    const sock = ctx.sockets.tcp();
    sock.owner = ctx;
    const e = sock.bind(svc.addr, svc.port) ?? sock.listen(svc.backlog);
    if (e) {
      sock.close();
      // going on after an earlier command: a socket that cannot come back (its address went away) is just missing
      if (ctx.resumed) continue;
      return fail(svc.addr, svc.port, e, 'tcp');
    }
    tagOwner(ctx, sock, 3 + listeners.length);
    listeners.push({ sock, svc });
  }
  for (const svc of spec.udp) {
    const sock = ctx.sockets.udp();
    sock.owner = ctx;
    const e = sock.bind(svc.addr, svc.port);
    if (e) {
      sock.close();
      if (svc.optional || ctx.resumed) continue;
      return fail(svc.addr, svc.port, e, 'udp');
    }
    tagOwner(ctx, sock, 3 + listeners.length + dgrams.length);
    dgrams.push({ sock, svc });
  }
  ctx.background();
  const live: Live[] = [];
  for (;;) {
    for (const l of listeners) {
      for (let s = l.sock.accept(); s !== null; s = l.sock.accept()) {
        s.owner = ctx;
        const conn = new Conn(s, ctx);
        live.push({ conn, body: l.svc.session(conn), due: 0 });
      }
    }
    for (const d of dgrams) {
      d.sock.takeError();
      for (let m = d.sock.recv(); m !== null; m = d.sock.recv()) {
        const reply = d.svc.answer(m.data, m.from, d.sock.local);
        if (reply) d.sock.send(reply, m.from);
      }
    }
    let next = Infinity;
    for (let i = 0; i < live.length; i++) {
      const s = live[i]!;
      const r = s.body.next();
      if (r.done) {
        s.conn.sock.close();
        live.splice(i--, 1);
        continue;
      }
      s.due = r.value;
      if (s.due < next) next = s.due;
    }
    yield ctx.until(next);
  }
}

/** `a.b.c.d`, or `0.0.0.0` for the wildcard. */
export function addrText(addr: number): string {
  return formatIPv4(addr);
}

/** Seconds to virtual nanoseconds. */
export function secondsNs(s: number): number {
  return s * 1_000_000_000;
}
