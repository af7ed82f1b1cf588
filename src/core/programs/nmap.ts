/**
 * nmap 7.93 as Debian 12 ships it, run by root in the lab: host discovery
 * (ARP ping on a local Ethernet, ICMP echo + TCP SYN to 443 + TCP ACK to
 * 80 + ICMP timestamp off-link, none with -Pn), then SYN, connect, ACK,
 * NULL, FIN, XMAS and UDP port scans, and nmap's report. Raw probes leave
 * through a raw socket with the header included; answers are read from
 * a capture of the interfaces, as nmap reads them with pcap. Times
 * (latencies, "scanned in") come from the virtual clock.
 */
import { formatIPv4 } from '../addr/ipv4.js';
import { STRERROR, type Errno, type TcpSocket } from '../stack/api.js';
import { parseMac } from '../wire/mac.js';
import type { Program, ProgramBody, ProgramContext } from './api.js';
import { newRtt, PING_TRY, timingTemplate, UltraScan, type RttEstimate, type TimingTemplate } from './nmap-engine.js';
import { expandTarget, parseNmapArgs, selectPorts, type NmapOptions, type TcpScanType } from './nmap-options.js';
import { doneLine, grepLines, hostBlock, nameIp, type HostReport, type PortResult, type ReportOptions } from './nmap-output.js';
import {
  arpReplyOf,
  arpRequest,
  classify,
  icmpProbe,
  ipOfFrame,
  readAnswer,
  SCAN_FLAGS,
  silentState,
  tcpProbe,
  udpPayloads,
  udpProbe,
  type Answer,
} from './nmap-probes.js';
import type { ScanProto } from './nmap-services.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const two = (n: number): string => String(n).padStart(2, '0');

/** "2026-11-21 07:02 UTC" (the lab's hosts keep UTC). */
function startStamp(sec: number): string {
  const d = new Date(Math.floor(sec) * 1000);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
}

/** "07:02", as the verbose progress lines show the time. */
function clockStamp(sec: number): string {
  const d = new Date(Math.floor(sec) * 1000);
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/** ctime's "Sat Nov 21 07:02:47 2026". */
function ctimeStamp(sec: number): string {
  const d = new Date(Math.floor(sec) * 1000);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** The names of the scans in the verbose progress lines. */
const SCAN_NAMES: Record<TcpScanType | 'udp', string> = {
  syn: 'SYN Stealth Scan',
  connect: 'Connect Scan',
  ack: 'ACK Scan',
  null: 'NULL Scan',
  fin: 'FIN Scan',
  xmas: 'XMAS Scan',
  udp: 'UDP Scan',
};

/** A target while it is scanned. */
interface Target extends HostReport {
  /** How discovery reaches it. */
  via: 'arp' | 'ip' | 'local';
  rtt: RttEstimate;
  /** The retransmission-cap warning was printed. */
  cappedWarned?: boolean;
}

/** The raw side of a scan: sending probes, collecting what the capture saw. */
class RawIo {
  readonly frames: Uint8Array[] = [];
  private readonly stop: () => void;
  private rawSock: ReturnType<ProgramContext['sockets']['raw']> | null = null;
  sentPackets = 0;
  sentBytes = 0;
  rcvdPackets = 0;
  rcvdBytes = 0;

  constructor(private readonly ctx: ProgramContext) {
    this.stop = ctx.tap(null, (f) => {
      if (f.dir !== 'in') return;
      this.frames.push(f.frame);
      ctx.wake();
    });
  }

  /** Sends an IPv4 datagram we built whole; a refusal (a rule in OUTPUT) is reported as nmap reports it. */
  sendIp(d: Uint8Array): void {
    this.rawSock ??= this.ctx.sockets.raw(255);
    const dst = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
    const err = this.rawSock.send(d, dst, { hdrincl: true });
    if (err) {
      this.ctx.err(`sendto in send_ip_packet_sd: sendto(4, packet, ${d.length}, 0, ${formatIPv4(dst)}, 16) => ${STRERROR[err]}\nOffending packet: ${describeProbe(d)}\n`);
      return;
    }
    this.sentPackets++;
    this.sentBytes += d.length;
  }

  /** Puts an Ethernet frame on `dev` (ARP requests), as nmap does through libdnet. */
  sendFrame(dev: string, frame: Uint8Array): void {
    this.ctx.machine.transmit(dev, frame);
    this.sentPackets++;
    this.sentBytes += frame.length - 14;
  }

  /** Counts an answer nmap's capture filter lets through. */
  counted(len: number): void {
    this.rcvdPackets++;
    this.rcvdBytes += len;
  }

  close(): void {
    this.stop();
    this.rawSock?.close();
  }
}

/** nmap's one-line description of a probe (ippackethdrinfo), as its error messages show it. */
export function describeProbe(d: Uint8Array): string {
  const ihl = (d[0]! & 15) * 4;
  const at16 = (o: number): number => (d[o]! << 8) | d[o + 1]!;
  const at32 = (o: number): number => ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
  const src = formatIPv4(at32(12));
  const dst = formatIPv4(at32(16));
  const ip = `ttl=${d[8]} id=${at16(4)} iplen=${d.length}`;
  if (d[9] === 6) {
    const f = d[ihl + 13]!;
    const names = [
      [0x02, 'S'],
      [0x01, 'F'],
      [0x04, 'R'],
      [0x08, 'P'],
      [0x10, 'A'],
      [0x20, 'U'],
      [0x40, 'E'],
      [0x80, 'C'],
    ] as const;
    const flags = names.filter(([b]) => f & b).map(([, n]) => n).join('');
    const mss = (d[ihl + 12]! >> 4) * 4 > 20 && d[ihl + 20] === 2 ? `<mss ${at16(ihl + 22)}>` : '';
    return `TCP ${src}:${at16(ihl)} > ${dst}:${at16(ihl + 2)} ${flags} ${ip}  seq=${at32(ihl + 4)} win=${at16(ihl + 14)} ${mss}`;
  }
  if (d[9] === 17) return `UDP ${src}:${at16(ihl)} > ${dst}:${at16(ihl + 2)} ${ip} `;
  const type = d[ihl]!;
  const what = type === 8 ? 'Echo request' : type === 13 ? 'Timestamp request' : 'ICMP';
  return `ICMP [${src} > ${dst} ${what} (type=${type}/code=${d[ihl + 1]}) id=${at16(ihl + 4)} seq=${at16(ihl + 6)}] IP [${ip}]`;
}

/** The options of the report. */
function reportOptions(o: NmapOptions): ReportOptions {
  return { verbose: o.verbose, reason: o.reason, openOnly: o.openOnly, tcpScan: o.tcpScan !== null && !o.pingOnly };
}

/** Reverse lookup in the host's /etc/hosts (nmap reads it before asking DNS). */
function reverseName(ctx: ProgramContext, addr: number): string | undefined {
  const text = ctx.fs.read('/etc/hosts') ?? '';
  const ip = formatIPv4(addr);
  for (const line of text.split('\n')) {
    const f = line.replace(/#.*/, '').trim().split(/\s+/);
    if (f.length >= 2 && f[0] === ip) return f[1];
  }
  return undefined;
}

/** The time the verbose lines report for a phase: "0.03s". */
const elapsed = (fromNs: number, toNs: number): string => ((toNs - fromNs) / 1e9).toFixed(2) + 's';

/** How long an ARP ping waits for its reply (measured: the retry comes 1.2 s after the first request, the end 0.2 s later). */
const ARP_TIMEOUT_NS = 200_000_000;

/** Virtual time nmap spends starting before its first packet (measured: 30-45 ms). */
const STARTUP_NS = 35_000_000;

/** Virtual time between host discovery and the first port probe (measured: 40-90 ms). */
const SCAN_SETUP_NS = 40_000_000;

/**
 * A wait until `ns`, never at or before the present (a scan must not spin
 * on the same instant), and never forever while a scan is unfinished.
 */
function waitUntil(ctx: ProgramContext, ns: number): ReturnType<ProgramContext['until']> {
  if (ns === Infinity) return ctx.until(ctx.now() + 1_000_000_000);
  return ctx.until(ns > ctx.now() ? ns : ctx.now() + 1_000_000);
}

/** Host discovery: which targets are up, with their round trip and MAC. */
function* discover(ctx: ProgramContext, o: NmapOptions, io: RawIo, targets: Target[], timing: TimingTemplate, say: (s: string) => void): Generator<ReturnType<ProgramContext['until']>, void, void> {
  const todo: Target[] = [];
  const macOnly: Target[] = [];
  for (const t of targets) {
    if (t.via === 'local') {
      t.up = true;
      t.reason = 'localhost-response';
      continue;
    }
    if (o.noPing) {
      t.up = true;
      t.reason = 'user-set';
      // nmap still asks for the MAC address of a target on the local Ethernet
      if (t.via === 'arp') macOnly.push(t);
      continue;
    }
    todo.push(t);
  }
  if (macOnly.length) yield* resolveMacs(ctx, io, macOnly, timing);
  if (todo.length === 0) return;
  const arp = todo.every((t) => t.via === 'arp');
  const started = ctx.now();
  if (o.verbose) {
    say(`Initiating ${arp ? 'ARP Ping Scan' : 'Ping Scan'} at ${clockStamp(ctx.wallSec())}\n`);
    say(`Scanning ${todo.length === 1 ? nameIp(todo[0]!) : `${todo.length} hosts`} [${arp ? '1 port' : '4 ports'}${todo.length === 1 ? '' : '/host'}]\n`);
  }
  // an ARP ping waits 200 ms for a reply and pauses a second before asking again, as nmap's does
  const est = newRtt(timing);
  if (arp) est.timeout = ARP_TIMEOUT_NS;
  const scan = new UltraScan(todo.length, timing, est, ctx.now(), false, arp ? 'always' : 'off');
  const ident = ctx.random32() & 0xffff;
  const sport = 40000 + (ctx.random32() % 20000);
  const seq = ctx.random32();
  const byAddr = new Map<number, number>();
  todo.forEach((t, i) => byAddr.set(t.addr, i));
  const sentAt = new Map<number, number>();
  while (!scan.done()) {
    for (const p of scan.due(ctx.now())) {
      const t = todo[p.item]!;
      sentAt.set(p.item, ctx.now());
      const r = ctx.machine.ops.routeOutput(t.addr);
      if (r.kind !== 'ok') continue;
      if (t.via === 'arp') {
        const link = ctx.machine.net.links.find((l) => l.name === r.dev);
        const mac = link ? parseMac(link.mac) : undefined;
        if (mac) io.sendFrame(r.dev, arpRequest(mac, r.src, t.addr));
        continue;
      }
      const ids = { src: r.src, dst: t.addr, sport: sport + p.tryno, dport: 443, id: ctx.random32(), ttl: 37 + (ctx.random32() % 23), seq };
      io.sendIp(icmpProbe(ids, 8, ident, p.tryno));
      io.sendIp(tcpProbe(ids, SCAN_FLAGS.syn));
      io.sendIp(tcpProbe({ ...ids, dport: 80, ack: 0 }, SCAN_FLAGS.ack));
      io.sendIp(icmpProbe(ids, 13, ident, p.tryno));
    }
    for (const f of io.frames.splice(0)) {
      const a = arpReplyOf(f);
      if (a) {
        const i = byAddr.get(a.ip);
        if (i === undefined || todo[i]!.via !== 'arp') continue;
        const t = todo[i]!;
        io.counted(28);
        if (scan.answer(i, undefined, ctx.now())) {
          t.up = true;
          t.reason = 'arp-response';
          t.mac = a.mac;
          t.rtt.srtt = -1;
          sampleInto(t, ctx.now() - (sentAt.get(i) ?? ctx.now()), timing);
        }
        continue;
      }
      const ip = ipOfFrame(f);
      if (!ip) continue;
      const ans = readAnswer(ip, ((ip[16]! << 24) | (ip[17]! << 16) | (ip[18]! << 8) | ip[19]!) >>> 0);
      if (!ans) continue;
      const i = byAddr.get(ans.target);
      if (i === undefined || todo[i]!.via !== 'ip') continue;
      const t = todo[i]!;
      const mine =
        (ans.proto === 'icmp' && ans.icmpId === ident) || (ans.proto === 'tcp' && ans.sport >= sport && ans.sport <= sport + timing.maxRetries && (ans.port === 443 || ans.port === 80));
      if (!mine) continue;
      io.counted(ip.length);
      if (ans.icmpType === 3 || ans.icmpType === 11) {
        if (ans.from !== t.addr) continue; // an error from a router leaves the host down
      }
      if (scan.answer(i, undefined, ctx.now())) {
        t.up = true;
        t.reason =
          ans.proto === 'tcp' && ans.icmpType === undefined
            ? ans.flags! & 0x04
              ? 'reset'
              : 'syn-ack'
            : ans.icmpType === 0
              ? 'echo-reply'
              : ans.icmpType === 14
                ? 'timestamp-reply'
                : 'unknown-response';
        t.reasonTtl = ans.ttl;
        sampleInto(t, ctx.now() - (sentAt.get(i) ?? ctx.now()), timing);
      }
    }
    if (scan.done()) break;
    yield waitUntil(ctx, scan.nextWake());
  }
  for (const i of scan.silent) {
    todo[i]!.up = false;
    todo[i]!.reason = 'no-response';
  }
  if (o.verbose) say(`Completed ${arp ? 'ARP Ping Scan' : 'Ping Scan'} at ${clockStamp(ctx.wallSec())}, ${elapsed(started, ctx.now())} elapsed (${todo.length} total hosts)\n`);
}

/** ARP requests for targets taken to be up (-Pn), for their MAC addresses only. */
function* resolveMacs(ctx: ProgramContext, io: RawIo, targets: Target[], timing: TimingTemplate): Generator<ReturnType<ProgramContext['until']>, void, void> {
  const scan = new UltraScan(targets.length, timing, newRtt(timing), ctx.now(), false, 'off');
  const sentAt = new Map<number, number>();
  while (!scan.done()) {
    for (const p of scan.due(ctx.now())) {
      const t = targets[p.item]!;
      sentAt.set(p.item, ctx.now());
      const r = ctx.machine.ops.routeOutput(t.addr);
      if (r.kind !== 'ok') continue;
      const link = ctx.machine.net.links.find((l) => l.name === r.dev);
      const mac = link ? parseMac(link.mac) : undefined;
      if (mac) io.sendFrame(r.dev, arpRequest(mac, r.src, t.addr));
    }
    for (const f of io.frames.splice(0)) {
      const a = arpReplyOf(f);
      const i = a ? targets.findIndex((t) => t.addr === a.ip) : -1;
      if (i < 0 || !scan.answer(i, undefined, ctx.now())) continue;
      // the ARP exchange also gives nmap the target's round trip
      targets[i]!.mac = a!.mac;
      sampleInto(targets[i]!, ctx.now() - (sentAt.get(i) ?? ctx.now()), timing);
    }
    if (scan.done()) break;
    yield waitUntil(ctx, scan.nextWake());
  }
}

/** Folds a measured round trip into a target's estimate and its reported latency. */
function sampleInto(t: Target, deltaNs: number, timing: TimingTemplate): void {
  const before = t.rtt.srtt;
  const est = t.rtt;
  const US = 1000;
  const delta = Math.max(0, Math.floor(deltaNs / US));
  if (before < 0) {
    est.srtt = delta;
    est.rttvar = Math.max(5000, Math.min(delta, 2_000_000));
  } else {
    const d = delta - est.srtt;
    est.srtt += Math.trunc(d / 8);
    est.rttvar = Math.min(est.rttvar + Math.trunc((Math.abs(d) - est.rttvar) / 4), 2_000_000);
  }
  est.timeout = Math.max(timing.minRttNs, Math.min(timing.maxRttNs, (est.srtt + 4 * est.rttvar) * US));
  t.srttUs = est.srtt;
}

/** A deterministic shuffle with the lab's random numbers (nmap scans ports in random order). */
function shuffled<T>(ctx: ProgramContext, list: readonly T[]): T[] {
  const a = [...list];
  for (let i = a.length - 1; i > 0; i--) {
    const j = ctx.random32() % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** "Warning: 10.0.0.2 giving up on port because retransmission cap hit (0).", once per host. */
function warnCapped(scan: UltraScan, t: Target, say: (s: string) => void): void {
  if (scan.cappedTryno === null || t.cappedWarned) return;
  t.cappedWarned = true;
  say(`Warning: ${formatIPv4(t.addr)} giving up on port because retransmission cap hit (${scan.cappedTryno}).\n`);
}

/** Popular TCP ports nmap moves to the front of its shuffled list (random_port_cheat). */
const POPULAR_TCP = [80, 23, 443, 21, 22, 25, 3389, 110, 445, 139, 143, 53, 135, 3306, 8080, 1723, 111, 995, 993, 5900, 1025, 587, 8888, 199, 1720, 113, 554, 256];

/** Moves the popular ports to the front, in the order they appear, as nmap does after shuffling. */
function popularFirst(ports: number[]): number[] {
  let early = 0;
  for (let i = 0; i < ports.length; i++) {
    if (!POPULAR_TCP.includes(ports[i]!)) continue;
    if (i !== early) [ports[i], ports[early]] = [ports[early]!, ports[i]!];
    early++;
  }
  return ports;
}

/** The order nmap probes ports in: shuffled (TCP: popular ones first), or ascending with -r. */
function probeOrder(ctx: ProgramContext, o: NmapOptions, ports: number[], proto: ScanProto): number[] {
  if (o.sequential) return ports;
  const s = shuffled(ctx, ports);
  return proto === 'tcp' ? popularFirst(s) : s;
}

/** One raw port scan (SYN, ACK, NULL, FIN, XMAS or UDP) of one host. */
function* rawPortScan(
  ctx: ProgramContext,
  o: NmapOptions,
  io: RawIo,
  t: Target,
  kind: TcpScanType | 'udp',
  ports: number[],
  timing: TimingTemplate,
  say: (s: string) => void,
): Generator<ReturnType<ProgramContext['until']>, PortResult[], void> {
  const proto: ScanProto = kind === 'udp' ? 'udp' : 'tcp';
  const order = probeOrder(ctx, o, ports, proto);
  const index = new Map<number, number>();
  order.forEach((p, i) => index.set(p, i));
  const scan = new UltraScan(order.length, timing, t.rtt, ctx.now(), kind === 'udp');
  const sportBase = 33000 + (ctx.random32() % 28000);
  // timing pings go from their own port, past every try's
  const pingSport = sportBase + timing.maxRetries + 3;
  const seq = ctx.random32();
  const results: PortResult[] = [];
  while (!scan.done()) {
    for (const p of scan.due(ctx.now())) {
      const port = order[p.item]!;
      const r = ctx.machine.ops.routeOutput(t.addr);
      if (r.kind !== 'ok') continue;
      const sport = p.tryno === PING_TRY ? pingSport : sportBase + p.tryno;
      const ids = { src: r.src, dst: t.addr, sport, dport: port, id: ctx.random32(), ttl: 37 + (ctx.random32() % 23), seq: kind === 'ack' ? 0 : seq, ack: kind === 'ack' ? seq : undefined };
      if (kind !== 'udp') io.sendIp(tcpProbe(ids, SCAN_FLAGS[kind]));
      // every payload of a try shares the try's IP ID; each gets its own TTL
      else for (const [n, payload] of udpPayloads(port).entries()) io.sendIp(udpProbe(n === 0 ? ids : { ...ids, ttl: 37 + (ctx.random32() % 23) }, payload));
    }
    for (const f of io.frames.splice(0)) {
      const ip = ipOfFrame(f);
      if (!ip) continue;
      const self = ((ip[16]! << 24) | (ip[17]! << 16) | (ip[18]! << 8) | ip[19]!) >>> 0;
      const a: Answer | null = readAnswer(ip, self);
      if (!a || a.target !== t.addr || a.proto !== proto) continue;
      if (a.sport === pingSport) {
        if (scan.pingOutstanding() && classify(kind, a, t.addr)) {
          io.counted(ip.length);
          scan.pingAnswered(ctx.now());
        }
        continue;
      }
      if (a.sport < sportBase || a.sport > sportBase + timing.maxRetries) continue;
      const i = index.get(a.port);
      if (i === undefined) continue;
      io.counted(ip.length);
      const c = classify(kind, a, t.addr);
      if (!c) continue;
      const tryno = a.sport - sportBase;
      // "filtered" answers are ICMP errors, often rate-limited: they neither slow the scan nor serve as pings
      const noRespOpen = kind === 'udp' || kind === 'null' || kind === 'fin' || kind === 'xmas';
      const filtered = c.state === 'filtered' && !noRespOpen;
      if (!scan.answer(i, tryno, ctx.now(), !(filtered && tryno > 0))) continue;
      if (!filtered) scan.setPingItem(i);
      t.srttUs = t.rtt.srtt;
      const res: PortResult = { port: a.port, proto, state: c.state, reason: c.reason, ttl: a.ttl };
      if (a.icmpType !== undefined && a.from !== t.addr) res.from = a.from;
      results.push(res);
      if (c.state === 'open' && o.verbose) say(`Discovered open port ${a.port}/${proto} on ${formatIPv4(t.addr)}\n`);
    }
    warnCapped(scan, t, say);
    if (scan.done()) break;
    yield waitUntil(ctx, scan.nextWake());
  }
  for (const i of scan.silent) results.push({ port: order[i]!, proto, state: silentState(kind), reason: 'no-response', ttl: 0 });
  return results;
}

/** One connect() try of a connect scan. */
interface ConnectTry {
  sock: TcpSocket;
  item: number;
  tryno: number;
  sentNs: number;
  closed: boolean;
}

/** What a connect's error says about the port (scan_engine_connect.cc); other errors leave the try to time out. */
const CONNECT_ERRORS: Partial<Record<Errno, [PortResult['state'], string]>> = {
  ECONNREFUSED: ['closed', 'conn-refused'],
  EHOSTUNREACH: ['filtered', 'host-unreach'],
  ENETUNREACH: ['filtered', 'net-unreach'],
  EACCES: ['filtered', 'admin-prohibited'],
  ENOPROTOOPT: ['filtered', 'proto-unreach'],
  ETIMEDOUT: ['filtered', 'no-response'],
};

/** A connect() scan of one host through the namespace's TCP sockets. */
function* connectScan(
  ctx: ProgramContext,
  o: NmapOptions,
  t: Target,
  ports: number[],
  timing: TimingTemplate,
  say: (s: string) => void,
): Generator<ReturnType<ProgramContext['until']>, PortResult[], void> {
  const order = probeOrder(ctx, o, ports, 'tcp');
  const scan = new UltraScan(order.length, timing, t.rtt, ctx.now());
  /** Sockets in the order their tries were sent; `changed` holds the ones the stack woke us for. */
  const open: ConnectTry[] = [];
  let changed: ConnectTry[] = [];
  const results: PortResult[] = [];
  const finish = (item: number, tryno: number, state: PortResult['state'], reason: string): void => {
    if (!scan.answer(item, tryno, ctx.now())) return;
    t.srttUs = t.rtt.srtt;
    const port = order[item]!;
    results.push({ port, proto: 'tcp', state, reason, ttl: 0 });
    if (state === 'open' && o.verbose) say(`Discovered open port ${port}/tcp on ${formatIPv4(t.addr)}\n`);
  };
  const look = (c: ConnectTry, err: Errno | null): void => {
    if (c.closed || scan.isFinished(c.item)) return;
    if (c.sock.state === 'ESTAB') return finish(c.item, c.tryno, 'open', 'syn-ack');
    const outcome = err ? CONNECT_ERRORS[err] : undefined;
    if (outcome) finish(c.item, c.tryno, outcome[0], outcome[1]);
  };
  const release = (c: ConnectTry): void => {
    if (c.closed) return;
    c.closed = true;
    c.sock.owner = null;
    c.sock.close();
  };
  while (!scan.done()) {
    for (const p of scan.due(ctx.now())) {
      if (p.tryno === PING_TRY) continue;
      const c: ConnectTry = { sock: ctx.sockets.tcp(), item: p.item, tryno: p.tryno, sentNs: ctx.now(), closed: false };
      // nmap connects with O_NONBLOCK: an ICMP error to the first SYN ends the connect at once
      c.sock.nonBlocking = true;
      c.sock.owner = {
        wake: () => {
          changed.push(c);
          ctx.wake();
        },
      };
      open.push(c);
      const err = c.sock.connect(t.addr, order[p.item]!);
      if (err) {
        look(c, err);
        release(c);
      }
    }
    const now = changed;
    changed = [];
    for (const c of now) look(c, c.sock.error);
    // a try that timed out loses its socket, as nmap frees it (late answers are not taken)
    const keep = scan.rtt.timeout;
    while (open.length > 0 && (open[0]!.closed || scan.isFinished(open[0]!.item) || ctx.now() - open[0]!.sentNs >= keep)) release(open.shift()!);
    for (const c of now) if (scan.isFinished(c.item)) release(c);
    warnCapped(scan, t, say);
    if (scan.done()) break;
    yield waitUntil(ctx, scan.nextWake());
  }
  for (const c of open) release(c);
  for (const i of scan.silent) results.push({ port: order[i]!, proto: 'tcp', state: 'filtered', reason: 'no-response', ttl: 0 });
  return results;
}

/** nmap: scans the targets on the command line and prints its report. */
export const nmap: Program = function* (ctx: ProgramContext): ProgramBody {
  const parsed = parseNmapArgs(ctx.argv.slice(1));
  if ('error' in parsed) {
    ctx.err(parsed.error);
    return parsed.status;
  }
  const o = parsed;
  const startNs = ctx.now();
  const startWall = ctx.wallSec();
  const ro = reportOptions(o);
  let normalText = '';
  let grepText = '';
  const toStdout = o.grepFile !== '-';
  const say = (s: string): void => {
    if (toStdout) ctx.out(s);
  };
  const report = (s: string): void => {
    say(s);
    normalText += s;
  };
  const grep = (s: string): void => {
    if (o.grepFile === '-') ctx.out(s);
    grepText += s;
  };
  const cmdline = ['nmap', ...ctx.argv.slice(1)].join(' ');
  say(`Starting Nmap 7.93 ( https://nmap.org ) at ${startStamp(startWall)}\n`);
  grep(`# Nmap 7.93 scan initiated ${ctimeStamp(startWall)} as: ${cmdline}\n`);
  const sel = selectPorts(o);
  if ('error' in sel) {
    ctx.err(sel.error + '\nQUITTING!\n');
    return 1;
  }
  for (const w of sel.warnings) ctx.err(w + '\n');
  const timing = timingTemplate(o.timing);
  if (o.maxRetries !== null) timing.maxRetries = o.maxRetries;

  const targets: Target[] = [];
  for (const spec of o.targets) {
    const addrs = expandTarget(spec, (n) => ctx.resolve(n));
    if (!addrs) {
      ctx.err(`Failed to resolve "${spec}".\n`);
      continue;
    }
    const given = /^[\d.,*\-/]+$/.test(spec) ? undefined : spec;
    for (const addr of addrs) {
      const r = ctx.machine.ops.routeOutput(addr);
      if (r.kind !== 'ok') {
        ctx.err(`setup_target: failed to determine route to ${formatIPv4(addr)}\n`);
        continue;
      }
      let via: Target['via'] = 'ip';
      if (r.kind === 'ok' && r.type === 'local') via = 'local';
      else if (r.kind === 'ok' && !r.gateway) {
        const link = ctx.machine.net.links.find((l) => l.name === r.dev);
        if (link && link.kind !== 'loopback') via = 'arp';
      }
      const rdns = o.noDns ? undefined : reverseName(ctx, addr);
      targets.push({ addr, name: given, rdns, up: false, reason: '', reasonTtl: 0, srttUs: -1, via, rtt: newRtt(timing) });
    }
  }
  const io = new RawIo(ctx);
  try {
    // nmap's own start-up (data files, interfaces, routes) before its first packet
    if (targets.length) yield ctx.sleep(STARTUP_NS);
    yield* discover(ctx, o, io, targets, timing, say);
    const portScan = !o.pingOnly;
    const up = targets.filter((t) => t.up);
    // and the setting up of the port scan after host discovery
    if (portScan && up.length) yield ctx.sleep(SCAN_SETUP_NS);
    if (portScan) {
      for (const t of up) {
        t.ports = [];
        const scans: [TcpScanType | 'udp', number[]][] = [];
        if (o.tcpScan && sel.tcp.length) scans.push([o.tcpScan, sel.tcp]);
        if (o.udpScan && sel.udp.length) scans.push(['udp', sel.udp]);
        for (const [kind, ports] of scans) {
          const began = ctx.now();
          if (o.verbose) {
            say(`Initiating ${SCAN_NAMES[kind]} at ${clockStamp(ctx.wallSec())}\n`);
            say(`Scanning ${nameIp(t)} [${ports.length} port${ports.length === 1 ? '' : 's'}]\n`);
          }
          const res =
            kind === 'connect'
              ? yield* connectScan(ctx, o, t, ports, timing, say)
              : yield* rawPortScan(ctx, o, io, t, kind, ports, timing, say);
          t.ports.push(...res);
          if (o.verbose) say(`Completed ${SCAN_NAMES[kind]} at ${clockStamp(ctx.wallSec())}, ${elapsed(began, ctx.now())} elapsed (${ports.length} total ports)\n`);
        }
      }
    }
    // the report: hosts in target order, this machine's own addresses last
    const ordered = [...targets.filter((t) => t.via !== 'local'), ...targets.filter((t) => t.via === 'local')];
    for (const t of ordered) {
      const block = hostBlock(t, ro, portScan);
      if (block) report(block);
      if (t.up || o.verbose) grep(grepLines(t, portScan, ro));
    }
    const seconds = (ctx.now() - startNs) / 1e9;
    if (targets.length === 0) ctx.err('WARNING: No targets were specified, so 0 hosts scanned.\n');
    if (targets.length === 1 && up.length === 0) report('Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn\n');
    // the line names where nmap read its data files from: nmap-services for a port scan, nmap-mac-prefixes for a MAC address
    if (o.verbose && (portScan || targets.some((t) => t.mac))) say('Read data files from: /usr/bin/../share/nmap\n');
    const done = doneLine(targets.length, up.length, seconds);
    say(done);
    if (o.verbose && (o.tcpScan !== 'connect' || o.udpScan || targets.some((t) => t.via !== 'local' && !o.noPing)))
      say(`           Raw packets sent: ${io.sentPackets} (${kb(io.sentBytes)}) | Rcvd: ${io.rcvdPackets} (${kb(io.rcvdBytes)})\n`);
    const tail = `# Nmap done at ${ctimeStamp(ctx.wallSec())} -- ${done.slice('Nmap done: '.length)}`;
    grep(tail);
    if (o.normalFile) ctx.fs.write(o.normalFile, `# Nmap 7.93 scan initiated ${ctimeStamp(startWall)} as: ${cmdline}\n` + normalText + tail);
    if (o.grepFile && o.grepFile !== '-') ctx.fs.write(o.grepFile, grepText);
  } finally {
    io.close();
  }
  return 0;
};

/** nmap's byte counts: "336B", "88.072KB". */
function kb(n: number): string {
  if (n < 1000) return `${n}B`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(3)}KB`;
  return `${(n / 1_000_000).toFixed(3)}MB`;
}
