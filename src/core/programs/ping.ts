/**
 * ping, as iputils 20221126 prints it on Debian 12, run by root in a
 * network namespace (where ping_group_range leaves only the raw ICMP
 * socket): echo requests with a random identifier, DF when they fit the
 * MTU (the socket's default), a timestamp and
 * the counting pattern as payload; replies, ICMP errors about our requests
 * ("From 10.0.0.1 icmp_seq=1 Destination Host Unreachable"), the summary
 * with loss, errors, rtt and pipe, and the exit status (0 when a reply
 * came, 1 when none did or the deadline passed short of the count, 2 for
 * setup errors).
 *
 * Times come from the lab's virtual clock. A send that the kernel refuses
 * (an OUTPUT rule dropping it: EPERM) counts as transmitted without a
 * message, as iputils does with a raw socket.
 *
 * Without -c and -w the real ping runs until interrupted; nflab stops it
 * as if Ctrl-C was pressed just before echo request number
 * UNLIMITED_COUNT + 1 would leave, and shows the "^C" the terminal echoes.
 */
import type { Program, ProgramContext, ProgramBody } from './api.js';
import type { RawSocket } from '../stack/api.js';
import { get16, get32, put16 } from '../wire/bytes.js';
import { fillIcmpChecksum, internetChecksum } from '../wire/checksum.js';
import { EAI_AGAIN_TEXT, getopt, lookupHost, ntoa, own, parseSeconds, reverseLookup } from './common.js';
import { STRERROR } from '../stack/api.js';

/** Echo requests a ping without -c or -w sends before nflab interrupts it. */
export const UNLIMITED_COUNT = 4;

const NS_PER_MS = 1_000_000;

/** The usage text iputils prints after an option error. */
export const PING_USAGE = `
Usage
  ping [options] <destination>

Options:
  <destination>      dns name or ip address
  -a                 use audible ping
  -A                 use adaptive ping
  -B                 sticky source address
  -c <count>         stop after <count> replies
  -C                 call connect() syscall on socket creation
  -D                 print timestamps
  -d                 use SO_DEBUG socket option
  -e <identifier>    define identifier for ping session, default is random for
                     SOCK_RAW and kernel defined for SOCK_DGRAM
                     Imply using SOCK_RAW (for IPv4 only for identifier 0)
  -f                 flood ping
  -h                 print help and exit
  -I <interface>     either interface name or address
  -i <interval>      seconds between sending each packet
  -L                 suppress loopback of multicast packets
  -l <preload>       send <preload> number of packages while waiting replies
  -m <mark>          tag the packets going out
  -M <pmtud opt>     define mtu discovery, can be one of <do|dont|want>
  -n                 no dns name resolution
  -O                 report outstanding replies
  -p <pattern>       contents of padding byte
  -q                 quiet output
  -Q <tclass>        use quality of service <tclass> bits
  -s <size>          use <size> as number of data bytes to be sent
  -S <size>          use <size> as SO_SNDBUF socket option value
  -t <ttl>           define time to live
  -U                 print user-to-user latency
  -v                 verbose output
  -V                 print version and exit
  -w <deadline>      reply wait <deadline> in seconds
  -W <timeout>       time to wait for response

IPv4 options:
  -4                 use IPv4
  -b                 allow pinging broadcast
  -R                 record route
  -T <timestamp>     define timestamp, can be one of <tsonly|tsandaddr|tsprespec>

IPv6 options:
  -6                 use IPv6
  -F <flowlabel>     define flow label, default is random
  -N <nodeinfo opt>  use icmp6 node info query, try <help> as argument

For more details see ping(8).
`;

const OPTSTRING = 'h?4bRT:6F:N:aABc:CdDe:fi:I:l:Lm:M:nOp:qQ:rs:S:t:UvVw:W:';

/** Thrown by option parsing: the message and exit status. */
class UsageExit {
  constructor(
    readonly message: string,
    readonly status: number,
  ) {}
}

/** strtol_or_err: a decimal integer within [min, max], or the exit iputils takes. */
function intArg(text: string, min: number, max: number, maxText: string): number {
  if (!/^\s*[+-]?\d+$/.test(text)) throw new UsageExit(`ping: invalid argument: '${text}'`, 1);
  const n = Number(text);
  if (n < min || n > max) throw new UsageExit(`ping: invalid argument: '${text}': out of range: ${min} <= value <= ${maxText}`, 1);
  return n;
}

const LONG_MAX = '9223372036854775807';
const INT_MAX = 2147483647;

/** The text pr_icmph prints for an ICMP type and code (with its trailing newline where iputils has one). */
export function icmpText(type: number, code: number, info: number): string {
  switch (type) {
    case 0:
      return 'Echo Reply\n';
    case 3: {
      const texts = [
        'Destination Net Unreachable',
        'Destination Host Unreachable',
        'Destination Protocol Unreachable',
        'Destination Port Unreachable',
        `Frag needed and DF set (mtu = ${info >>> 0})`,
        'Source Route Failed',
        'Destination Net Unknown',
        'Destination Host Unknown',
        'Source Host Isolated',
        'Destination Net Prohibited',
        'Destination Host Prohibited',
        'Destination Net Unreachable for Type of Service',
        'Destination Host Unreachable for Type of Service',
        'Packet filtered',
        'Precedence Violation',
        'Precedence Cutoff',
      ];
      return (texts[code] ?? `Dest Unreachable, Bad Code: ${code}`) + '\n';
    }
    case 4:
      return 'Source Quench\n';
    case 5: {
      const texts = ['Redirect Network', 'Redirect Host', 'Redirect Type of Service and Network', 'Redirect Type of Service and Host'];
      return texts[code] ?? `Redirect, Bad Code: ${code}`;
    }
    case 8:
      return 'Echo Request\n';
    case 11:
      if (code === 0) return 'Time to live exceeded\n';
      if (code === 1) return 'Frag reassembly time exceeded\n';
      return `Time exceeded, Bad Code: ${code}\n`;
    case 12:
      return `Parameter problem: pointer = ${info >>> 24}\n`;
    case 13:
      return 'Timestamp\n';
    case 14:
      return 'Timestamp Reply\n';
    case 15:
      return 'Information Request\n';
    case 16:
      return 'Information Reply\n';
    case 17:
      return 'Address Mask Request\n';
    case 18:
      return 'Address Mask Reply\n';
    default:
      return `Bad ICMP type: ${type}\n`;
  }
}

/** A round-trip time in microseconds as iputils prints it after "time=". */
export function formatTripTime(us: number): string {
  if (us >= 100000 - 50) return `${Math.floor((us + 500) / 1000)}`;
  if (us >= 10000 - 5) return `${Math.floor((us + 50) / 1000)}.${Math.floor(((us + 50) % 1000) / 100)}`;
  if (us >= 1000) return `${Math.floor((us + 5) / 1000)}.${String(Math.floor(((us + 5) % 1000) / 10)).padStart(2, '0')}`;
  return `${Math.floor(us / 1000)}.${String(us % 1000).padStart(3, '0')}`;
}

/** printf's %g for the loss percentage (6 significant digits, trailing zeros dropped). */
export function formatG(v: number): string {
  if (v === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(v)));
  if (exp < -4 || exp >= 6) {
    const s = v.toExponential(5).replace(/\.?0+e/, 'e');
    return s.replace(/e([+-])(\d)$/, 'e$10$2');
  }
  const s = v.toFixed(Math.max(0, 5 - exp));
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** Integer square root as iputils computes mdev (Newton's method from the value itself). */
function llsqrt(a: bigint): bigint {
  let x = a;
  if (x > 0n) {
    let prev: bigint | null = null;
    while (prev === null || x < prev) {
      prev = x;
      x = (x + a / x) / 2n;
    }
  }
  return x;
}

function ms3(us: bigint): string {
  const neg = us < 0n;
  const a = neg ? -us : us;
  return `${neg ? '-' : ''}${a / 1000n}.${String(a % 1000n).padStart(3, '0')}`;
}

/** Options of one ping run. */
interface PingOptions {
  count: number;
  deadline: number;
  intervalMs: number;
  lingerMs: number;
  datalen: number;
  ttl?: number;
  quiet: boolean;
  numeric: boolean;
  verbose: boolean;
  device?: string;
  source?: number;
  timestamps: boolean;
  target: string;
}

function parseOptions(argv: string[]): PingOptions {
  const r = getopt('ping', argv.slice(1), OPTSTRING);
  if (r.error) throw new UsageExit(r.error + '\n' + PING_USAGE.slice(0, -1), 2);
  const o: PingOptions = {
    count: 0,
    deadline: 0,
    intervalMs: 1000,
    lingerMs: 10000,
    datalen: 56,
    quiet: false,
    numeric: false,
    verbose: false,
    timestamps: false,
    target: '',
  };
  for (const { opt, arg } of r.opts) {
    const a = arg ?? '';
    switch (opt) {
      case 'c':
        o.count = intArg(a, 1, Number.MAX_SAFE_INTEGER, LONG_MAX);
        break;
      case 'i': {
        const v = parseSeconds(a);
        if (Number.isNaN(v) || v > INT_MAX / 1000) throw new UsageExit(`ping: bad timing interval: ${a}`, 2);
        o.intervalMs = Math.floor(v * 1000);
        break;
      }
      case 'W': {
        const v = parseSeconds(a);
        if (Number.isNaN(v) || v < 0 || v > INT_MAX / 1000) throw new UsageExit(`ping: bad linger time: ${a}`, 2);
        o.lingerMs = Math.floor(v * 1000);
        break;
      }
      case 'w':
        o.deadline = intArg(a, 0, INT_MAX, String(INT_MAX));
        break;
      case 's':
        o.datalen = intArg(a, 0, INT_MAX, String(INT_MAX));
        break;
      case 't':
        o.ttl = intArg(a, 0, 255, '255');
        break;
      case 'q':
        o.quiet = true;
        break;
      case 'n':
        o.numeric = true;
        break;
      case 'v':
        o.verbose = true;
        break;
      case 'D':
        o.timestamps = true;
        break;
      case 'I': {
        const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
        if (m && m.slice(1).every((p) => Number(p) <= 255)) {
          o.source = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
        } else {
          o.device = a;
        }
        break;
      }
      case 'h':
      case '?':
        throw new UsageExit(PING_USAGE.slice(1, -1), 2);
      case 'V':
        throw new UsageExit('ping from iputils 20221126', 0);
      default:
        // accepted and ignored: options whose effect the lab does not model
        break;
    }
  }
  if (r.operands.length === 0) throw new UsageExit('ping: usage error: Destination address required', 1);
  o.target = r.operands[r.operands.length - 1]!;
  return o;
}

/** Counters and times of a run (iputils' ping_rts). */
interface PingRun {
  ntransmitted: number;
  nreceived: number;
  nrepeats: number;
  nerrors: number;
  pipesize: number;
  acked: number;
  tmin: number;
  tmax: number;
  tsum: bigint;
  tsum2: bigint;
  received: Set<number>;
  sentAt: Map<number, number>;
}

/** ping: ICMP echo to a host. */
export const ping: Program = function* (ctx: ProgramContext): ProgramBody {
  let o: PingOptions;
  try {
    o = parseOptions(ctx.argv);
  } catch (e) {
    if (e instanceof UsageExit) {
      (e.status === 0 ? ctx.out : ctx.err)(e.message + '\n');
      return e.status;
    }
    throw e;
  }

  const host = lookupHost(ctx, o.target);
  if (!host) {
    ctx.err(`ping: ${o.target}: ${EAI_AGAIN_TEXT}\n`);
    return 2;
  }
  const whereto = host.addr;
  const hostname = host.canonical;
  const numeric = o.numeric || host.numeric;

  if (o.device !== undefined && !ctx.machine.net.links.some((l) => l.name === o.device)) {
    ctx.err(`ping: SO_BINDTODEVICE ${o.device}: No such device\n`);
    return 2;
  }

  // the source address: what a UDP socket connected to the target gets
  let source = o.source ?? 0;
  if (source === 0) {
    const probe = ctx.sockets.udp();
    const err = probe.connect(whereto, 1025);
    if (err) {
      probe.close();
      if (err === 'EACCES') {
        ctx.err('ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n');
      } else {
        ctx.err(`ping: connect: ${STRERROR[err]}\n`);
      }
      return 2;
    }
    source = probe.local.addr;
    probe.close();
  }

  const sock = own(ctx, ctx.sockets.raw(1));
  if (o.source !== undefined) {
    const err = ctxBindRaw(sock, o.source);
    if (err) {
      ctx.err(`ping: bind: ${STRERROR[err]}\n`);
      sock.close();
      return 2;
    }
  }
  const ident = ctx.random32() & 0xffff;
  const timing = o.datalen >= 16;

  let head = `PING ${hostname} (${ntoa(whereto)}) `;
  if (o.device !== undefined || o.source !== undefined) head += `from ${ntoa(source)} ${o.device ?? ''}: `;
  head += `${o.datalen}(${o.datalen + 28}) bytes of data.\n`;
  ctx.out(head);

  const rts: PingRun = {
    ntransmitted: 0,
    nreceived: 0,
    nrepeats: 0,
    nerrors: 0,
    pipesize: 0,
    acked: 0,
    tmin: Number.MAX_SAFE_INTEGER,
    tmax: 0,
    tsum: 0n,
    tsum2: 0n,
    received: new Set(),
    sentAt: new Map(),
  };

  const interrupted = o.count === 0 && o.deadline === 0;
  const npackets = interrupted ? 0 : o.count;
  const intervalNs = o.intervalMs * NS_PER_MS;
  const start = ctx.now();
  const deadlineAt = o.deadline ? start + o.deadline * 1e9 : Infinity;
  let lastSend = start;
  let nextSend = start;
  let exitAt = Infinity;
  let exiting = false;

  const packet = new Uint8Array(8 + o.datalen);
  for (let i = 0; i < o.datalen; i++) packet[8 + i] = i & 0xff;

  const addrText = (addr: number): string => {
    const a = ntoa(addr);
    if (numeric) return a;
    const name = reverseLookup(ctx, addr);
    return name ? `${name} (${a})` : a;
  };
  const stamp = (): string => (o.timestamps ? `[${ctx.wallSec().toFixed(6)}] ` : '');

  const acknowledge = (seq: number): void => {
    const diff = (rts.ntransmitted - seq) & 0xffff;
    if (diff <= 0x7fff) {
      if (diff + 1 > rts.pipesize) rts.pipesize = diff + 1;
      if (((seq - rts.acked) << 16) >> 16 > 0 || ((rts.ntransmitted - rts.acked) & 0xffff) > 0x7fff) rts.acked = seq;
    }
  };

  const sendProbe = (): void => {
    const seq = (rts.ntransmitted + 1) & 0xffff;
    packet[0] = 8;
    packet[1] = 0;
    put16(packet, 2, 0);
    put16(packet, 4, ident);
    put16(packet, 6, seq);
    if (timing) {
      const wall = ctx.wallSec();
      const sec = Math.floor(wall);
      const usec = Math.floor((wall - sec) * 1e6);
      writeLe64(packet, 8, sec);
      writeLe64(packet, 16, usec);
    }
    fillIcmpChecksum(packet, 0, packet.length);
    rts.sentAt.set(seq, ctx.now());
    // DF as the socket's default gives it (set when the datagram fits the MTU); errors
    // (EPERM from an OUTPUT rule...) leave no message with a raw socket
    sock.send(packet.slice(), whereto, o.ttl === undefined ? undefined : { ttl: o.ttl });
    rts.ntransmitted++;
    lastSend = ctx.now();
  };

  const onDatagram = (d: Uint8Array): void => {
    if (d.length < 20) return;
    const hlen = (d[0]! & 15) * 4;
    if (d.length < hlen + 8) return;
    const from = get32(d, 12);
    const cc = d.length - hlen;
    const type = d[hlen]!;
    if (type === 0) {
      if (get16(d, hlen + 4) !== ident) return;
      const seq = get16(d, hlen + 6);
      const csfailed = internetChecksum(d, hlen, cc) !== 0;
      const wrongSource = from !== whereto;
      let triptime = 0;
      if (timing && cc >= 8 + 16) {
        const sent = rts.sentAt.get(seq);
        triptime = sent === undefined ? 0 : Math.floor((ctx.now() - sent) / 1000);
        if (!csfailed) {
          const t = BigInt(triptime);
          rts.tsum += t;
          rts.tsum2 += t * t;
          if (triptime < rts.tmin) rts.tmin = triptime;
          if (triptime > rts.tmax) rts.tmax = triptime;
        }
      }
      rts.nreceived++;
      if (!csfailed) acknowledge(seq);
      let dup = false;
      if (csfailed) {
        rts.nreceived--;
      } else if (rts.received.has(seq)) {
        rts.nrepeats++;
        rts.nreceived--;
        dup = true;
      } else {
        rts.received.add(seq);
      }
      if (o.quiet) return;
      let line = `${stamp()}${cc} bytes from ${addrText(from)}: icmp_seq=${seq}`;
      if (o.verbose) line += ` ident=${ident}`;
      line += ` ttl=${d[8]!}`;
      if (cc < o.datalen + 8) {
        ctx.out(line + ' (truncated)\n');
        return;
      }
      if (timing) line += ` time=${formatTripTime(triptime)} ms`;
      if (dup) line += ' (DUP!)';
      if (csfailed) line += ' (BAD CHECKSUM!)';
      if (wrongSource) line += ' (DIFFERENT ADDRESS!)';
      ctx.out(line + '\n');
      return;
    }
    if (type !== 3 && type !== 4 && type !== 5 && type !== 11 && type !== 12) return;
    // an error about one of our echo requests: the quoted header and 8 bytes
    const inner = hlen + 8;
    if (cc < 8 + 20 + 8) return;
    const ihl = (d[inner]! & 15) * 4;
    if (d.length < inner + ihl + 8) return;
    if (d[inner + 9] !== 1 || d[inner + ihl] !== 8 || get32(d, inner + 16) !== whereto || get16(d, inner + ihl + 4) !== ident) return;
    const seq = get16(d, inner + ihl + 6);
    const code = d[hlen + 1]!;
    const info = get32(d, hlen + 4);
    if (type === 4 || type === 5) {
      if (o.quiet) return;
      let text = `${stamp()}From ${addrText(from)}: icmp_seq=${seq} ${icmpText(type, code, info)}`;
      if (type === 5) text += `(New nexthop: ${addrText(info)})\n`;
      ctx.out(text);
      return;
    }
    // what the socket's error queue reports (IP_RECVERR)
    acknowledge(seq);
    rts.nerrors++;
    if (o.quiet) return;
    const mtu = type === 3 && code === 4 ? info & 0xffff : info;
    ctx.out(`${stamp()}From ${addrText(from)} icmp_seq=${seq} ${icmpText(type, code, mtu)}`);
  };

  const allSent = (): boolean => npackets !== 0 && rts.ntransmitted >= npackets && !o.deadline;

  for (;;) {
    for (let d = sock.recv(); d; d = sock.recv()) onDatagram(d);
    const now = ctx.now();
    if (now >= deadlineAt) exiting = true;
    if (now >= exitAt) exiting = true;
    if (exiting) break;
    if (npackets && rts.nreceived + rts.nerrors >= npackets) break;
    if (o.deadline && rts.nerrors) break;
    if (interrupted && rts.ntransmitted >= UNLIMITED_COUNT && now >= nextSend) break;

    if (!allSent() && now >= nextSend) {
      sendProbe();
      nextSend += intervalNs;
      if (nextSend < now) nextSend = now;
      if (allSent() && exitAt === Infinity) {
        let wait: number;
        if (rts.nreceived) {
          wait = 2 * rts.tmax;
          if (wait < 1000 * o.intervalMs) wait = 1000 * o.intervalMs;
        } else {
          wait = o.lingerMs * 1000;
        }
        exitAt = now + wait * 1000;
      }
      continue;
    }
    let wake = Math.min(deadlineAt, exitAt);
    if (!allSent()) wake = Math.min(wake, nextSend);
    yield ctx.until(wake);
  }
  sock.close();
  if (interrupted) ctx.out('^C');
  ctx.out(finish(rts, hostname, lastSend - start, timing));
  return !rts.nreceived || (o.deadline && rts.nreceived < npackets) ? 1 : 0;
};

/** Binds a raw socket to a local address when the stack offers it (ping -I ADDR). */
function ctxBindRaw(sock: RawSocket, addr: number): import('../stack/api.js').Errno | null {
  const b = (sock as unknown as { bind?: (a: number, p: number) => import('../stack/api.js').Errno | null }).bind;
  return b ? b.call(sock, addr, 0) : null;
}

function writeLe64(buf: Uint8Array, off: number, v: number): void {
  let x = v;
  for (let i = 0; i < 8; i++) {
    buf[off + i] = x % 256;
    x = Math.floor(x / 256);
  }
}

/** The statistics iputils prints at the end. */
function finish(rts: PingRun, hostname: string, elapsedNs: number, timing: boolean): string {
  let s = '\n';
  s += `--- ${hostname} ping statistics ---\n`;
  s += `${rts.ntransmitted} packets transmitted, ${rts.nreceived} received`;
  if (rts.nrepeats) s += `, +${rts.nrepeats} duplicates`;
  if (rts.nerrors) s += `, +${rts.nerrors} errors`;
  if (rts.ntransmitted) {
    const loss = Math.fround(((rts.ntransmitted - rts.nreceived) * 100.0) / rts.ntransmitted);
    s += `, ${formatG(loss)}% packet loss`;
    const sec = Math.floor(elapsedNs / 1e9);
    const nsec = elapsedNs - sec * 1e9;
    s += `, time ${1000 * sec + Math.floor((nsec + 500000) / 1000000)}ms`;
  }
  s += '\n';
  let comma = '';
  if (rts.nreceived && timing) {
    const total = BigInt(rts.nreceived + rts.nrepeats);
    const tmavg = rts.tsum / total;
    const tmvar = rts.tsum < BigInt(INT_MAX) ? (rts.tsum2 - (rts.tsum * rts.tsum) / total) / total : rts.tsum2 / total - tmavg * tmavg;
    const tmdev = llsqrt(tmvar);
    s += `rtt min/avg/max/mdev = ${ms3(BigInt(rts.tmin))}/${ms3(tmavg)}/${ms3(BigInt(rts.tmax))}/${ms3(tmdev)} ms`;
    comma = ', ';
  }
  if (rts.pipesize > 1) s += `${comma}pipe ${rts.pipesize}`;
  return s + '\n';
}
