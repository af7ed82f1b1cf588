/**
 * nc, as Debian 12's netcat-openbsd 1.219 behaves: connect to one or more
 * ports (ranges "20-23", service names) and report with -v ("Connection to
 * H P port [tcp/ssh] succeeded!", "nc: connect to H port P (tcp) failed:
 * Connection refused", "... timed out: Operation now in progress" after
 * -w; these reports only with -v); -z only probes; without -z standard input is sent and what arrives
 * is printed. UDP with -u (-zv probes with "X" writes for three seconds,
 * or -w, and stays silent when an ICMP port unreachable answers). Listen
 * mode with -l [-k] for TCP and UDP, also as a background program.
 *
 * Names are looked up in the host's /etc/hosts only (the lab has no DNS):
 * where Debian's nc asks getnameinfo about an address no line names (the
 * -l -v reports without -n), it prints the "nc: getnameinfo: Temporary
 * failure in name resolution" an offline machine gives.
 *
 * A client session the peer never ends, with nothing more to send and no
 * -w or -q, would wait for Ctrl-C: nflab ends it after INTERACTIVE_IDLE_S
 * seconds of silence as if Ctrl-C was pressed (the terminal shows "^C",
 * status 130). A listener waits as long as the lab runs (in the background
 * it goes on in later commands, re-listening silently).
 */
import type { Program, ProgramContext, ProgramBody, Wait } from './api.js';
import { STRERROR, type Errno, type TcpSocket, type UdpSocket } from '../stack/api.js';
import { EAI_AGAIN_TEXT, fromUtf8, getopt, lookupHost, ntoa, own, reverseLookup, serviceName, servicePort, utf8, waitConnect } from './common.js';

/** Seconds of silence after which nflab ends a session that only Ctrl-C would end. */
export const INTERACTIVE_IDLE_S = 10;

/** The three seconds Debian's nc spends probing a UDP port (UDP_SCAN_TIMEOUT). */
const UDP_SCAN_TIMEOUT = 3;

const USAGE =
  'usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n' +
  '\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n' +
  '\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n' +
  '\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n' +
  '\t  [destination] [port]\n';

const OPTSTRING = '46bCDdFhI:i:klM:m:NnO:P:p:q:rSs:T:tUuV:vW:w:X:x:Zz';

/** What the options ask for. */
interface NcOptions {
  listen: boolean;
  keep: boolean;
  udp: boolean;
  zero: boolean;
  verbose: boolean;
  numeric: boolean;
  shutdownOnEof: boolean;
  noStdin: boolean;
  /** -w in seconds, or -1. */
  timeout: number;
  /** -q in seconds, or -1 (wait forever). */
  quit: number;
  sourcePort?: string;
  sourceAddr?: string;
  operands: string[];
}

class Exit {
  constructor(
    readonly text: string,
    readonly status: number,
  ) {}
}

function parse(argv: string[]): NcOptions {
  const r = getopt('nc', argv.slice(1), OPTSTRING);
  if (r.error) throw new Exit(r.error + '\n' + USAGE, 1);
  const o: NcOptions = {
    listen: false,
    keep: false,
    udp: false,
    zero: false,
    verbose: false,
    numeric: false,
    shutdownOnEof: false,
    noStdin: false,
    timeout: -1,
    quit: -1,
    operands: r.operands,
  };
  for (const { opt, arg } of r.opts) {
    switch (opt) {
      case 'l':
        o.listen = true;
        break;
      case 'k':
        o.keep = true;
        break;
      case 'u':
        o.udp = true;
        break;
      case 'z':
        o.zero = true;
        break;
      case 'v':
        o.verbose = true;
        break;
      case 'n':
        o.numeric = true;
        break;
      case 'N':
        o.shutdownOnEof = true;
        break;
      case 'd':
        o.noStdin = true;
        break;
      case 'w': {
        const n = strtonum(arg!, 0, 100000000);
        if (typeof n === 'string') throw new Exit(`nc: timeout ${n}: ${arg}\n`, 1);
        o.timeout = n;
        break;
      }
      case 'q': {
        const n = Number(arg);
        if (!/^-?\d+$/.test(arg!)) throw new Exit(`nc: quit timer ${'invalid'}: ${arg}\n`, 1);
        o.quit = n;
        break;
      }
      case 'p':
        o.sourcePort = arg;
        break;
      case 's':
        o.sourceAddr = arg;
        break;
      case 'h':
        throw new Exit(USAGE, 1);
      default:
        break;
    }
  }
  return o;
}

/** OpenBSD's strtonum: the number, or its error word ("invalid", "too small", "too large"). */
function strtonum(text: string, min: number, max: number): number | string {
  if (!/^\s*[+-]?\d+$/.test(text)) return 'invalid';
  const n = Number(text);
  if (n < min) return 'too small';
  if (n > max) return 'too large';
  return n;
}

/** A port argument as nc reads it: a number, or a service name of the protocol. */
function portOf(text: string, proto: 'tcp' | 'udp'): number {
  const byName = servicePort(text, proto);
  if (byName !== null) return byName;
  const n = strtonum(text, 1, 65535);
  if (typeof n === 'string') throw new Exit(`nc: port number ${n}: ${text}\n`, 1);
  return n;
}

/** The ports of the port operands, ranges expanded low to high. */
function portList(args: string[], proto: 'tcp' | 'udp'): number[] {
  const out: number[] = [];
  for (const a of args) {
    const dash = a.indexOf('-');
    if (dash > 0) {
      let lo = portOf(a.slice(0, dash), proto);
      let hi = portOf(a.slice(dash + 1), proto);
      if (lo > hi) [lo, hi] = [hi, lo];
      for (let p = lo; p <= hi; p++) out.push(p);
    } else {
      out.push(portOf(a, proto));
    }
  }
  return out;
}

/** nc: netcat. */
export const nc: Program = function* (ctx: ProgramContext): ProgramBody {
  let o: NcOptions;
  try {
    o = parse(ctx.argv);
    if (o.listen) return yield* listenMode(ctx, o);
    return yield* clientMode(ctx, o);
  } catch (e) {
    if (e instanceof Exit) {
      ctx.err(e.text);
      return e.status;
    }
    throw e;
  }
};

function* clientMode(ctx: ProgramContext, o: NcOptions): Generator<Wait, number, void> {
  if (o.operands.length === 0) throw new Exit(USAGE, 1);
  if (o.operands.length === 1) throw new Exit('nc: missing port number\n', 1);
  const proto = o.udp ? 'udp' : 'tcp';
  const hostArg = o.operands[0]!;
  const ports = portList(o.operands.slice(1), proto);
  const host = lookupHost(ctx, hostArg);
  if (!host) throw new Exit(`nc: getaddrinfo for host "${hostArg}" port ${ports[0]}: ${EAI_AGAIN_TEXT}\n`, 1);
  if (o.numeric && !host.numeric) throw new Exit(`nc: getaddrinfo for host "${hostArg}" port ${ports[0]}: Name or service not known\n`, 1);
  const ipaddr = ntoa(host.addr);
  // connect reports name the address too when a name was given
  const where = hostArg === ipaddr ? hostArg : `${hostArg} (${ipaddr})`;
  const local = o.sourcePort !== undefined ? portOf(o.sourcePort, proto) : 0;
  const localAddr = o.sourceAddr !== undefined ? (lookupHost(ctx, o.sourceAddr)?.addr ?? 0) : 0;

  const info = (port: number): void => {
    let s = `Connection to ${hostArg}`;
    if (!o.numeric && hostArg !== ipaddr) s += ` (${ipaddr})`;
    const svc = o.numeric ? null : serviceName(port, proto);
    ctx.err(`${s} ${port} port [${proto}/${svc ?? '*'}] succeeded!\n`);
  };

  let ret = 1;
  for (const port of ports) {
    if (o.udp) {
      const sock = own(ctx, ctx.sockets.udp());
      if (local || localAddr) {
        const e = sock.bind(localAddr, local);
        if (e) throw new Exit(`nc: bind failed: ${STRERROR[e]}\n`, 1);
      }
      const e = sock.connect(host.addr, port);
      if (e) {
        if (o.verbose) ctx.err(`nc: connect to ${where} port ${port} (udp) failed: ${STRERROR[e]}\n`);
        sock.close();
        continue;
      }
      ret = 0;
      if (o.verbose) {
        const ok = yield* udpTest(ctx, sock, o);
        if (!ok) {
          ret = 1;
          sock.close();
          continue;
        }
        info(port);
      }
      if (!o.zero) {
        const status = yield* udpSession(ctx, sock, o);
        sock.close();
        return status ?? ret;
      }
      sock.close();
      continue;
    }
    const sock = own(ctx, ctx.sockets.tcp());
    if (local || localAddr) {
      const e = sock.bind(localAddr, local);
      if (e) throw new Exit(`nc: bind failed: ${STRERROR[e]}\n`, 1);
    }
    // nc's connect blocks unless -w gives it a timeout to poll with
    if (o.timeout >= 0) sock.nonBlocking = true;
    const immediate = sock.connect(host.addr, port);
    const outcome = immediate ?? (yield* waitConnect(ctx, sock, o.timeout >= 0 ? ctx.now() + o.timeout * 1e9 : Infinity));
    if (outcome === 'timeout') {
      sock.abort();
      if (o.verbose) ctx.err(`nc: connect to ${where} port ${port} (tcp) timed out: Operation now in progress\n`);
      continue;
    }
    if (outcome !== 'connected') {
      sock.close();
      if (o.verbose) ctx.err(`nc: connect to ${where} port ${port} (tcp) failed: ${STRERROR[outcome as Errno]}\n`);
      continue;
    }
    ret = 0;
    if (o.verbose) info(port);
    if (!o.zero) {
      const status = yield* tcpSession(ctx, sock, o, ctx.stdin);
      sock.close();
      if (status !== null) return status;
      continue;
    }
    sock.close();
  }
  return ret;
}

/** udptest(): "X" twice, then once a second; false when the port answers with a refusal. */
function* udpTest(ctx: ProgramContext, sock: UdpSocket, o: NcOptions): Generator<Wait, boolean, void> {
  const x = utf8('X');
  const write = (): boolean => {
    const pending = sock.takeError();
    if (pending) return false;
    return sock.send(x) === null;
  };
  if (!write()) return false;
  // the second write fails when the first one's refusal is already back
  yield ctx.sleep(0);
  if (!write()) return false;
  const t = o.timeout === -1 ? UDP_SCAN_TIMEOUT : o.timeout;
  for (let i = 0; i < t; i++) {
    yield ctx.sleep(1e9);
    const e = sock.takeError();
    if (e === 'ECONNREFUSED') return false;
    if (sock.send(x) !== null) return false;
  }
  return true;
}

/** Sends standard input as one datagram and prints what comes back until the session would end. */
function* udpSession(ctx: ProgramContext, sock: UdpSocket, o: NcOptions): Generator<Wait, number | null, void> {
  if (!o.noStdin && ctx.stdin.length > 0) sock.send(utf8(ctx.stdin));
  let last = ctx.now();
  for (;;) {
    for (let d = sock.recv(); d; d = sock.recv()) {
      ctx.out(fromUtf8(d.data));
      last = ctx.now();
    }
    sock.takeError();
    const idle = o.timeout >= 0 ? o.timeout : o.quit >= 0 ? o.quit : INTERACTIVE_IDLE_S;
    const end = last + idle * 1e9;
    if (ctx.now() >= end) {
      if (o.timeout >= 0 || o.quit >= 0) return 0;
      ctx.out('^C\n');
      return 130;
    }
    yield ctx.until(end);
  }
}

/**
 * readwrite() over TCP: standard input goes out (then FIN with -N), what
 * arrives is printed; ends when the peer closes, after -w seconds of
 * silence, -q seconds after standard input ended, or at the interactive
 * limit. Returns the status to exit with, or null to go on (-k listeners).
 */
function* tcpSession(ctx: ProgramContext, sock: TcpSocket, o: NcOptions, input: string, capped = true): Generator<Wait, number | null, void> {
  const stdinDone = ctx.now();
  if (!o.noStdin && input.length > 0) sock.send(utf8(input));
  if (o.shutdownOnEof) sock.shutdown();
  let last = ctx.now();
  for (;;) {
    if (sock.available > 0) {
      ctx.out(fromUtf8(sock.read()));
      last = ctx.now();
    }
    if (sock.eof || sock.state === 'CLOSED' || sock.state === 'TIME-WAIT' || sock.state === 'LAST-ACK') return null;
    let end = Infinity;
    if (o.timeout >= 0) end = last + o.timeout * 1e9;
    if (o.quit >= 0) end = Math.min(end, stdinDone + o.quit * 1e9);
    const interactive = end === Infinity;
    if (interactive && capped) end = last + INTERACTIVE_IDLE_S * 1e9;
    if (ctx.now() >= end) {
      if (!interactive) return 0;
      ctx.out('^C\n');
      return 130;
    }
    yield ctx.until(end);
  }
}

/** getnameinfo as the -l -v reports use it: the name, the number with -n, or the offline failure. */
function nameOrFail(ctx: ProgramContext, addr: number, numeric: boolean): string | null {
  if (numeric) return ntoa(addr);
  const name = reverseLookup(ctx, addr);
  if (name) return name;
  ctx.err(`nc: getnameinfo: ${EAI_AGAIN_TEXT}\n`);
  return null;
}

/** State a background listener keeps between commands. */
interface ListenSaved {
  connections: number;
  /** Standard input not sent yet (a listener sends it to its first connection, even one that comes in a later command). */
  pending?: string;
}

function* listenMode(ctx: ProgramContext, o: NcOptions): Generator<Wait, number, void> {
  const proto = o.udp ? 'udp' : 'tcp';
  let addrArg: string | undefined;
  let portArg: string | undefined = o.sourcePort;
  if (o.operands.length >= 2) {
    addrArg = o.operands[0];
    portArg = o.operands[1];
  } else if (o.operands.length === 1) {
    if (portArg === undefined) portArg = o.operands[0];
    else addrArg = o.operands[0];
  }
  if (portArg === undefined) throw new Exit('nc: missing port number\n', 1);
  const port = portOf(portArg, proto);
  let bindAddr = 0;
  if (addrArg !== undefined) {
    const h = lookupHost(ctx, addrArg);
    if (!h) throw new Exit(`nc: getaddrinfo for host "${addrArg}" port ${port}: ${EAI_AGAIN_TEXT}\n`, 1);
    bindAddr = h.addr;
  }
  const saved = (ctx.saved as ListenSaved | undefined) ?? { connections: 0, pending: o.noStdin ? '' : ctx.stdin };
  ctx.saved = saved;
  const report = (what: string, addr: number, p: number): void => {
    const name = nameOrFail(ctx, addr, o.numeric);
    if (name !== null) ctx.err(`${what} ${name} ${p}\n`);
  };

  if (o.udp) {
    const sock = own(ctx, ctx.sockets.udp());
    const e = sock.bind(bindAddr, port);
    if (e) throw new Exit(`nc: bind failed: ${STRERROR[e]}\n`, 1);
    if (o.verbose && !ctx.resumed) report('Bound on', bindAddr, port);
    let peer: { addr: number; port: number } | null = null;
    let last = ctx.now();
    for (;;) {
      for (let d = sock.recv(); d; d = sock.recv()) {
        if (!peer) {
          peer = d.from;
          if (o.verbose) report('Connection received on', d.from.addr, d.from.port);
        }
        ctx.out(fromUtf8(d.data));
        last = ctx.now();
      }
      yield ctx.until(Infinity);
    }
  }

  const lsock = own(ctx, ctx.sockets.tcp());
  const e = lsock.bind(bindAddr, port);
  if (e) throw new Exit(`nc: ${STRERROR[e]}\n`, 1);
  const le = lsock.listen(1);
  if (le) throw new Exit(`nc: listen: ${STRERROR[le]}\n`, 1);
  if (o.verbose && !ctx.resumed) report('Listening on', bindAddr, port);
  for (;;) {
    const conn = lsock.accept();
    if (!conn) {
      yield ctx.until(Infinity);
      continue;
    }
    own(ctx, conn);
    saved.connections++;
    if (o.verbose) report('Connection received on', conn.remote.addr, conn.remote.port);
    const input = saved.pending ?? '';
    saved.pending = '';
    const status = yield* tcpSession(ctx, conn, { ...o, quit: -1 }, input, false);
    conn.close();
    if (status !== null) {
      lsock.close();
      return status;
    }
    if (!o.keep) {
      lsock.close();
      return 0;
    }
  }
}
