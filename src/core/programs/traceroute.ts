/**
 * traceroute 2.1.2 (Debian 12): probes with growing TTL — UDP to ports
 * 33434 and up (default), ICMP echo (-I) or TCP SYN (-T, port 80 or -p) —
 * sent 16 at a time as traceroute does, each hop printed when its probes
 * are answered or expire: the address (with its /etc/hosts name unless
 * -n), the round trip "  0.052 ms" (virtual), " *" for silence, and the
 * marks of ICMP unreachables (!H, !N, !P, !X, !S, !F-mtu, !V, !C,
 * !<code>). A probe waits at most -w MAX seconds (5), HERE (3) times the
 * round trip of an answered probe of its hop, or NEAR (10) times that of a
 * later hop. The trace ends at the hop where a probe reached the target or
 * met an unreachable, or at -m (30).
 *
 * Probes go out through raw sockets with the TTL set; answers come back
 * as ICMP (and, for -T, the target's SYN-ACK or RST).
 */
import type { Program, ProgramContext, ProgramBody } from './api.js';
import { get16, get32, put16, put32 } from '../wire/bytes.js';
import { fillIcmpChecksum, fillTcpChecksum, fillUdpChecksum } from '../wire/checksum.js';
import { EAI_AGAIN_TEXT, lookupHost, ntoa, own, reverseLookup } from './common.js';
import { TRACEROUTE_USAGE } from './traceroute-usage.js';

/** One probe and what came back. */
interface Probe {
  ttl: number;
  sent: boolean;
  sentNs: number;
  doneNs: number;
  done: boolean;
  final: boolean;
  from: number | null;
  mark: string;
  /** What identifies its answers: UDP/TCP destination port, or ICMP sequence. */
  key: number;
  /** TCP: the sequence number of the SYN. */
  seq: number;
}

/** What the command line asks for. */
interface TraceOptions {
  method: 'udp' | 'icmp' | 'tcp';
  numeric: boolean;
  port?: number;
  nqueries: number;
  firstTtl: number;
  maxTtl: number;
  waitMax: number;
  waitHere: number;
  waitNear: number;
  simQueries: number;
  host: string;
  packetLen?: number;
}

class TraceExit {
  constructor(
    readonly text: string,
    readonly status: number,
  ) {}
}

const WITH_ARG = new Set(['f', 'g', 'i', 'm', 'N', 'p', 't', 'l', 'w', 'q', 's', 'z', 'M', 'O', 'P']);

function parse(args: string[]): TraceOptions {
  const o: TraceOptions = { method: 'udp', numeric: false, nqueries: 3, firstTtl: 1, maxTtl: 30, waitMax: 5, waitHere: 3, waitNear: 10, simQueries: 16, host: '' };
  const operands: string[] = [];
  const num = (name: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !/^\d+$/.test(v)) throw new TraceExit(`Cannot handle \`-${name}' option with arg \`${v ?? ''}' (argc ${0})\n`, 2);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--help') throw new TraceExit(TRACEROUTE_USAGE, 0);
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2);
      if (k === 'icmp') o.method = 'icmp';
      else if (k === 'tcp') o.method = 'tcp';
      else if (k === 'max-hops') o.maxTtl = num('m', v);
      else if (k === 'queries') o.nqueries = num('q', v);
      else if (k === 'port') o.port = num('p', v);
      continue;
    }
    if (a.length > 1 && a[0] === '-') {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (WITH_ARG.has(c)) {
          const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
          switch (c) {
            case 'm':
              o.maxTtl = num(c, v);
              break;
            case 'f':
              o.firstTtl = num(c, v);
              break;
            case 'q':
              o.nqueries = num(c, v);
              break;
            case 'p':
              o.port = num(c, v);
              break;
            case 'N':
              o.simQueries = num(c, v);
              break;
            case 'w': {
              const parts = (v ?? '').split(/[,/]/).map(Number);
              if (parts.some((x) => Number.isNaN(x))) throw new TraceExit(`Cannot handle \`-w' option with arg \`${v}' (argc ${i})\n`, 2);
              if (parts[0] !== undefined) o.waitMax = parts[0];
              if (parts[1] !== undefined) o.waitHere = parts[1];
              if (parts[2] !== undefined) o.waitNear = parts[2];
              if (parts.length === 1) {
                // one number is MAX only
              }
              break;
            }
            default:
              break;
          }
          break;
        }
        if (c === 'n') o.numeric = true;
        else if (c === 'I') o.method = 'icmp';
        else if (c === 'T') o.method = 'tcp';
        else if (c === 'U') o.method = 'udp';
        else if (c === 'V') throw new TraceExit('Modern traceroute for Linux, version 2.1.2\nCopyright (c) 2016  Dmitry Butskoy,   License: GPL v2 or any later\n', 0);
        else if (!'46dFreADL'.includes(c)) throw new TraceExit(`Bad option \`-${c}' (argc ${i + 1})\n`, 2);
      }
      continue;
    }
    operands.push(a);
  }
  if (operands.length === 0) throw new TraceExit(TRACEROUTE_USAGE, 0);
  o.host = operands[0]!;
  if (operands[1] !== undefined) o.packetLen = Number(operands[1]);
  if (o.maxTtl < 1 || o.maxTtl > 255) throw new TraceExit('max hops cannot be more than 255\n', 2);
  if (o.firstTtl < 1 || o.firstTtl > o.maxTtl) throw new TraceExit('first hop out of range\n', 2);
  return o;
}

/** The mark traceroute prints for an ICMP destination unreachable code ("" when the target answered). */
function unreachMark(code: number, info: number): string {
  switch (code) {
    case 0:
    case 6:
    case 8:
    case 11:
      return '!N';
    case 1:
    case 7:
    case 12:
      return '!H';
    case 2:
      return '!P';
    case 3:
      return '';
    case 4:
      return `!F-${info & 0xffff}`;
    case 5:
      return '!S';
    case 9:
    case 10:
    case 13:
      return '!X';
    case 14:
      return '!V';
    case 15:
      return '!C';
    default:
      return `!<${code}>`;
  }
}

/** traceroute: the route packets take to a host. */
export const traceroute: Program = function* (ctx: ProgramContext): ProgramBody {
  let o: TraceOptions;
  try {
    o = parse(ctx.argv.slice(1));
  } catch (e) {
    if (!(e instanceof TraceExit)) throw e;
    (e.status === 0 && !e.text.startsWith('Usage') ? ctx.out : ctx.err)(e.text);
    return e.status;
  }
  const host = lookupHost(ctx, o.host);
  if (!host) {
    ctx.err(`${o.host}: ${EAI_AGAIN_TEXT}\nCannot handle "host" cmdline arg \`${o.host}' on position 1 (argc 1)\n`);
    return 2;
  }
  const dst = host.addr;
  const probeSock = ctx.sockets.udp();
  const routeErr = probeSock.connect(dst, 1025);
  const src = probeSock.local.addr;
  probeSock.close();
  if (routeErr) {
    ctx.err(`connect: ${routeErr === 'ENETUNREACH' ? 'Network is unreachable' : 'No route to host'}\n`);
    return 1;
  }

  const proto = o.method === 'udp' ? 17 : o.method === 'tcp' ? 6 : 1;
  const send = own(ctx, ctx.sockets.raw(proto));
  const icmp = o.method === 'icmp' ? send : own(ctx, ctx.sockets.raw(1));
  const sport = o.method === 'icmp' ? ctx.pid & 0xffff : 32768 + (ctx.random32() % 28000);
  const packetLen = Math.max(o.packetLen ?? 60, o.method === 'tcp' ? 60 : 28);
  const dataLen = packetLen - (o.method === 'tcp' ? 40 : 28);
  const basePort = o.port ?? (o.method === 'udp' ? 33434 : o.method === 'tcp' ? 80 : 1);

  ctx.out(`traceroute to ${host.canonical} (${ntoa(dst)}), ${o.maxTtl} hops max, ${packetLen} byte packets`);

  const first = (o.firstTtl - 1) * o.nqueries;
  const probes: Probe[] = [];
  for (let ttl = 1; ttl <= o.maxTtl; ttl++) {
    for (let q = 0; q < o.nqueries; q++) probes.push({ ttl, sent: false, sentNs: 0, doneNs: 0, done: false, final: false, from: null, mark: '', key: 0, seq: 0 });
  }
  let start = first;
  let end = probes.length;

  const sendProbe = (pb: Probe, n: number): void => {
    pb.sent = true;
    pb.sentNs = ctx.now();
    if (o.method === 'udp') {
      pb.key = (basePort + n - first) & 0xffff;
      const u = new Uint8Array(8 + dataLen);
      put16(u, 0, sport);
      put16(u, 2, pb.key);
      put16(u, 4, u.length);
      for (let i = 0; i < dataLen; i++) u[8 + i] = 0x40 + (i & 0x3f);
      fillUdpChecksum(u, 0, u.length, src, dst);
      send.send(u, dst, { ttl: pb.ttl, df: false });
    } else if (o.method === 'icmp') {
      pb.key = (basePort + n - first) & 0xffff;
      const p = new Uint8Array(8 + dataLen);
      p[0] = 8;
      put16(p, 4, sport);
      put16(p, 6, pb.key);
      for (let i = 0; i < dataLen; i++) p[8 + i] = 0x40 + (i & 0x3f);
      fillIcmpChecksum(p, 0, p.length);
      send.send(p, dst, { ttl: pb.ttl, df: false });
    } else {
      pb.key = (sport + n - first) & 0xffff;
      pb.seq = ctx.random32();
      const t = new Uint8Array(40);
      put16(t, 0, pb.key);
      put16(t, 2, basePort);
      put32(t, 4, pb.seq);
      t[12] = 10 << 4;
      t[13] = 0x02;
      put16(t, 14, 5840);
      // MSS, SACK permitted, timestamps, window scale
      t.set([2, 4, 0x05, 0xb4, 4, 2, 8, 10], 20);
      put32(t, 28, Math.floor(ctx.now() / 1e6) >>> 0);
      t.set([0, 0, 0, 0, 1, 3, 3, 2], 32);
      fillTcpChecksum(t, 0, t.length, src, dst);
      send.send(t, dst, { ttl: pb.ttl, df: false });
    }
  };

  /** The probe an answer is about, by what it quotes. */
  const byKey = (key: number, seq?: number): Probe | undefined => {
    for (let n = start; n < end; n++) {
      const pb = probes[n]!;
      if (pb.sent && !pb.done && pb.key === key && (seq === undefined || pb.seq === seq)) return pb;
    }
    return undefined;
  };

  const answered = (pb: Probe, from: number, mark: string, final: boolean): void => {
    pb.done = true;
    pb.doneNs = ctx.now();
    pb.from = from;
    pb.mark = mark;
    pb.final = final;
  };

  const onIcmp = (d: Uint8Array): void => {
    const hl = (d[0]! & 15) * 4;
    if (d.length < hl + 8) return;
    const from = get32(d, 12);
    const type = d[hl]!;
    const code = d[hl + 1]!;
    if (type === 0 && o.method === 'icmp') {
      if (get16(d, hl + 4) !== sport) return;
      const pb = byKey(get16(d, hl + 6));
      if (pb) answered(pb, from, '', true);
      return;
    }
    if (type !== 11 && type !== 3) return;
    const inner = hl + 8;
    if (d.length < inner + 20) return;
    const ihl = (d[inner]! & 15) * 4;
    if (d.length < inner + ihl + 8 || get32(d, inner + 16) !== dst || d[inner + 9] !== proto) return;
    const t = inner + ihl;
    let pb: Probe | undefined;
    if (o.method === 'udp') pb = get16(d, t) === sport ? byKey(get16(d, t + 2)) : undefined;
    else if (o.method === 'icmp') pb = get16(d, t + 4) === sport ? byKey(get16(d, t + 6)) : undefined;
    else pb = byKey(get16(d, t), get32(d, t + 4));
    if (!pb) return;
    if (type === 11) {
      if (code === 0) answered(pb, from, '', false);
      else answered(pb, from, `!<11-${code}>`, true);
      return;
    }
    answered(pb, from, unreachMark(code, get32(d, hl + 4)), true);
  };

  const onTcp = (d: Uint8Array): void => {
    const hl = (d[0]! & 15) * 4;
    if (d.length < hl + 20 || get32(d, 12) !== dst) return;
    if (get16(d, hl) !== basePort) return;
    const flags = d[hl + 13]!;
    if (!(flags & 0x04) && !((flags & 0x12) === 0x12)) return;
    const ack = get32(d, hl + 8);
    const pb = byKey(get16(d, hl + 2), (ack - 1) >>> 0);
    if (pb) answered(pb, dst, '', true);
  };

  const addr = (a: number): string => {
    if (o.numeric) return ` ${ntoa(a)}`;
    return ` ${reverseLookup(ctx, a) ?? ntoa(a)} (${ntoa(a)})`;
  };

  const printProbe = (n: number): void => {
    const pb = probes[n]!;
    const np = n % o.nqueries;
    let s = np === 0 ? `\n${String(pb.ttl).padStart(2)} ` : '';
    if (pb.from === null) {
      s += ' *';
    } else {
      let prn = np === 0;
      if (np) {
        let k = n - 1;
        let left = np;
        while (left && probes[k]!.from === null) {
          k--;
          left--;
        }
        if (!left || probes[k]!.from !== pb.from) prn = true;
      }
      if (prn) s += addr(pb.from);
      s += `  ${((pb.doneNs - pb.sentNs) / 1e6).toFixed(3)} ms`;
      if (pb.mark) s += ` ${pb.mark}`;
    }
    ctx.out(s);
  };

  /** When probe n gives up: MAX, or HERE times a round trip of its hop, or NEAR times one of a later hop. */
  const expiry = (n: number): number => {
    const pb = probes[n]!;
    let exp = pb.sentNs + o.waitMax * 1e9;
    const hop0 = n - (n % o.nqueries);
    if (o.waitHere > 0) {
      for (let k = hop0; k < hop0 + o.nqueries; k++) {
        const p = probes[k]!;
        if (k !== n && p.done && p.from !== null) {
          exp = Math.min(exp, pb.sentNs + (p.doneNs - p.sentNs) * o.waitHere);
          break;
        }
      }
    }
    if (o.waitNear > 0) {
      for (let k = hop0 + o.nqueries; k < end; k++) {
        const p = probes[k]!;
        if (p.done && p.from !== null) {
          exp = Math.min(exp, pb.sentNs + (p.doneNs - p.sentNs) * o.waitNear);
          break;
        }
      }
    }
    return exp;
  };

  for (;;) {
    for (let d = icmp.recv(); d; d = icmp.recv()) onIcmp(d);
    if (o.method === 'tcp') for (let d = send.recv(); d; d = send.recv()) onTcp(d);
    const now = ctx.now();
    let wake = Infinity;
    let inFlight = 0;
    for (let n = start; n < end; n++) {
      const pb = probes[n]!;
      if (pb.sent && !pb.done) {
        const exp = expiry(n);
        if (exp <= now) {
          pb.done = true;
          pb.doneNs = now;
        } else {
          wake = Math.min(wake, exp);
        }
      }
      if (pb.done) {
        if (pb.final) end = Math.min(end, (Math.floor(n / o.nqueries) + 1) * o.nqueries);
        if (n === start) {
          printProbe(n);
          start++;
        }
        continue;
      }
      if (!pb.sent) {
        if (inFlight >= o.simQueries) break;
        sendProbe(pb, n);
        wake = Math.min(wake, pb.sentNs + o.waitMax * 1e9);
      }
      inFlight++;
      if (inFlight >= o.simQueries) break;
    }
    if (start >= end) break;
    yield ctx.until(wake);
  }
  ctx.out('\n');
  send.close();
  if (icmp !== send) icmp.close();
  return 0;
};
