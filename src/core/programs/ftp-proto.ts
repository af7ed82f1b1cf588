/**
 * Pieces of the FTP protocol shared by the lab's server (vsftpd) and its
 * clients (ftp, filezilla): reading CRLF lines from a TCP socket, waiting
 * on sockets with a deadline, FTP replies, and the address forms of PASV,
 * EPSV, PORT and EPRT.
 */
import type { ProgramContext, Wait } from './api.js';
import type { Errno, TcpSocket } from '../stack/api.js';

const encoder = new TextEncoder();

/** The bytes of a string, UTF-8 encoded. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Nanoseconds in a second. */
export const SEC = 1_000_000_000;

/** Reads lines (ending in LF, an optional CR before it removed) from a TCP socket. */
export class LineReader {
  private buf = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(readonly sock: TcpSocket) {}

  /** The next complete line, or null when no whole line has arrived yet. */
  next(): string | null {
    if (this.sock.available > 0) this.buf += this.decoder.decode(this.sock.read(), { stream: true });
    const nl = this.buf.indexOf('\n');
    if (nl < 0) return null;
    let line = this.buf.slice(0, nl);
    this.buf = this.buf.slice(nl + 1);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    return line;
  }

  /** True when the peer closed (or the connection failed) and no complete line is left. */
  get ended(): boolean {
    if (this.sock.available > 0) return false;
    if (this.buf.includes('\n')) return false;
    return this.sock.eof || this.sock.error !== null || this.sock.state === 'CLOSED';
  }
}

/** What waiting for a line gives: the line, 'eof' when the peer closed, 'timeout' at the deadline. */
export type LineResult = string | 'eof' | 'timeout';

/** Waits for the next line until `deadline` (virtual ns; Infinity: no limit). */
export function* readLine(ctx: ProgramContext, r: LineReader, deadline: number): Generator<Wait, LineResult> {
  for (;;) {
    const line = r.next();
    if (line !== null) return line;
    if (r.ended) return 'eof';
    if (ctx.now() >= deadline) return 'timeout';
    yield ctx.until(deadline);
  }
}

/** A new TCP socket whose changes wake the calling program (the stack wakes a socket's owner). */
export function openTcp(ctx: ProgramContext): TcpSocket {
  const s = ctx.sockets.tcp();
  s.owner = { wake: () => ctx.wake() };
  return s;
}

/** Outcome of a connect: null when established, the errno when it failed, 'timeout' at the deadline. */
export type ConnectResult = Errno | 'timeout' | null;

/** Starts a connect and waits until it is established, fails, or the deadline passes. */
export function* connectTcp(
  ctx: ProgramContext,
  sock: TcpSocket,
  addr: number,
  port: number,
  deadline: number,
): Generator<Wait, ConnectResult> {
  const immediate = sock.connect(addr, port);
  if (immediate) return immediate;
  for (;;) {
    if (sock.state === 'ESTAB' || sock.state === 'CLOSE-WAIT') return null;
    if (sock.error) return sock.error;
    if (sock.state === 'CLOSED') return 'ECONNREFUSED';
    if (ctx.now() >= deadline) return 'timeout';
    yield ctx.until(deadline);
  }
}

/** Waits for a connection on a listening socket until the deadline; null at the deadline. The connection wakes the caller. */
export function* acceptTcp(ctx: ProgramContext, listener: TcpSocket, deadline: number): Generator<Wait, TcpSocket | null> {
  for (;;) {
    const s = listener.accept();
    if (s) {
      s.owner = { wake: () => ctx.wake() };
      return s;
    }
    if (ctx.now() >= deadline) return null;
    yield ctx.until(deadline);
  }
}

/** Reads everything until the peer closes (or the connection fails, or `idleNs` passes with nothing new). */
export function* readAll(
  ctx: ProgramContext,
  sock: TcpSocket,
  idleNs: number,
): Generator<Wait, { data: Uint8Array; complete: boolean }> {
  const parts: Uint8Array[] = [];
  let total = 0;
  let deadline = ctx.now() + idleNs;
  for (;;) {
    if (sock.available > 0) {
      const p = sock.read();
      parts.push(p);
      total += p.length;
      deadline = ctx.now() + idleNs;
      continue;
    }
    if (sock.eof) return { data: concat(parts, total), complete: true };
    if (sock.error || sock.state === 'CLOSED') return { data: concat(parts, total), complete: false };
    if (ctx.now() >= deadline) return { data: concat(parts, total), complete: false };
    yield ctx.until(deadline);
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A reply of an FTP server: its code and every line as received. */
export interface FtpReply {
  code: number;
  lines: string[];
}

/** Reads one whole reply (a multi-line one up to its `NNN ` line); 'eof' or 'timeout' when it does not come. */
export function* readReply(
  ctx: ProgramContext,
  r: LineReader,
  timeoutNs: number,
): Generator<Wait, FtpReply | 'eof' | 'timeout'> {
  const lines: string[] = [];
  let code = 0;
  for (;;) {
    const line = yield* readLine(ctx, r, ctx.now() + timeoutNs);
    if (line === 'eof' || line === 'timeout') return line;
    lines.push(line);
    const m = /^(\d{3})([ -])/.exec(line);
    if (lines.length === 1) {
      if (!m) return { code: 0, lines };
      code = Number(m[1]);
      if (m[2] === ' ') return { code, lines };
    } else if (m && Number(m[1]) === code && m[2] === ' ') {
      return { code, lines };
    }
  }
}

/** A dotted quad from an unsigned 32-bit address. */
export function ipString(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

/** The address of a dotted quad, or null when it is not one. */
export function parseIp(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const b = [m[1], m[2], m[3], m[4]].map(Number);
  if (b.some((x) => x > 255)) return null;
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** The h1,h2,h3,h4,p1,p2 form of PORT and the 227 reply. */
export function hostPortCommas(addr: number, port: number): string {
  return `${ipString(addr).replace(/\./g, ',')},${port >> 8},${port & 255}`;
}

/** Parses h1,h2,h3,h4,p1,p2 (each 0-255); null when malformed. */
export function parseHostPortCommas(text: string): { addr: number; port: number } | null {
  const parts = text.split(',');
  if (parts.length !== 6) return null;
  const n: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p.trim())) return null;
    const v = Number(p.trim());
    if (v > 255) return null;
    n.push(v);
  }
  return { addr: ((n[0]! << 24) | (n[1]! << 16) | (n[2]! << 8) | n[3]!) >>> 0, port: (n[4]! << 8) | n[5]! };
}

/** The address and port of a 227 reply's `(h1,...,p2)`; null when there is none. */
export function parse227(line: string): { addr: number; port: number } | null {
  const m = /(\d+,\d+,\d+,\d+,\d+,\d+)/.exec(line);
  return m ? parseHostPortCommas(m[1]!) : null;
}

/** The port of a 229 reply's `(|||port|)`; null when there is none. */
export function parse229(line: string): number | null {
  const m = /\(\|\|\|(\d+)\|\)/.exec(line);
  if (!m) return null;
  const port = Number(m[1]);
  return port > 0 && port < 65536 ? port : null;
}

/** A user of the host's /etc/passwd. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** The users of a passwd file's text. */
export function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || f[0] === '' || line.startsWith('#')) continue;
    out.push({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! });
  }
  return out;
}
