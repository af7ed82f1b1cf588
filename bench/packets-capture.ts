/**
 * The packet benchmark's capture: a deterministic Ethernet capture of the traffic a stateful
 * firewall between an office LAN, a DMZ and the internet sees on its inside port, written as a
 * classic pcap file.
 *
 * Every frame is addressed to the firewall's MAC on eth0 (FW_MAC), both directions of every
 * flow included, as a capture replayed into a device under test from one port arrives. The
 * traffic is a mix of flows; exactly one packet of each flow (its first) finds no connection,
 * every other packet belongs to a connection that already exists:
 *
 * - TCP from LAN clients (10.1.0.0/16) to web servers (198.19.0.0/16, ports 443 and 80): the
 *   handshake, a request, a response of full-size segments acknowledged every second segment,
 *   then FIN, FIN, ACK; Linux options (MSS, SACK permitted, timestamps, window scale 7);
 * - TCP from the internet (198.18.64.0/18) to the DMZ (10.2.0.0/24): web downloads, and mail
 *   (port 25) uploads where the client sends the bulk;
 * - interactive SSH from an admin network (198.18.0.0/24) to 10.2.0.10, small packets both ways;
 * - DNS (to 198.18.53.1-4) and NTP (to 198.18.123.1-4) from the LAN: one query, one answer;
 * - pings from the internet to the DMZ: one echo request, one reply;
 * - blocked single packets: SYNs to 23, 445, 3389 or a random high port of the DMZ, SYNs from
 *   the LAN to port 25 outside, UDP to 161, 1900 or a random high port.
 *
 * Flows start at random times over the capture's duration (10 s by default, so 100,000 packets
 * per second of capture time); packets of all flows are interleaved in time order. Sequence and
 * acknowledgement numbers, windows, IP and transport checksums are all correct, so a tracking
 * kernel keeps every TCP connection valid.
 */
import { Rng } from './gen-ruleset.js';

/** The firewall's MAC address on eth0: the destination of every frame. */
export const FW_MAC = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01] as const;
/** The firewall's MAC address, as ip(8) writes it. */
export const FW_MAC_TEXT = '02:00:00:00:00:01';
/** Source MAC of frames coming from the LAN and the DMZ side, and from the internet side. */
const INSIDE_MAC = [0x02, 0x00, 0x00, 0x00, 0x01, 0x01];
const OUTSIDE_MAC = [0x02, 0x00, 0x00, 0x00, 0x02, 0x01];

/** Wall-clock second of the first packet (2023-11-14 22:13:20 UTC). */
const EPOCH = 1700000000;

/** Options of {@link generateCapture}. */
export interface CaptureOptions {
  /** Number of packets (1,000,000 in the benchmark). */
  packets: number;
  /** Share of packets that open a flow (0.1). */
  newShare: number;
  /** Capture duration in seconds. */
  durationSec: number;
  /** Seed of the pseudo-random generator. */
  seed: number;
}

/** Counts of what the capture holds. */
export interface CaptureStats {
  packets: number;
  bytes: number;
  /** Packets that open a flow (no connection exists yet). */
  newPackets: number;
  /** Packets of flows whose connection already exists. */
  establishedPackets: number;
  /** Flows by kind. */
  flows: Record<string, number>;
  /** Packets by protocol. */
  tcp: number;
  udp: number;
  icmp: number;
  /** Frames of 100 bytes or less, of 101..1000, of more than 1000. */
  small: number;
  medium: number;
  large: number;
  /** Virtual duration from first to last packet, seconds. */
  spanSec: number;
}

/** A generated capture: the pcap file's bytes and where each frame lies in them. */
export interface GeneratedCapture {
  pcap: Uint8Array;
  stats: CaptureStats;
}

/** The kinds of flow, with their share of all flows. */
const KINDS = [
  ['web-out', 0.5],
  ['dmz-web', 0.09],
  ['dmz-mail', 0.02],
  ['ssh', 0.004],
  ['dns', 0.22],
  ['ntp', 0.03],
  ['ping', 0.046],
  ['blocked', 0.09],
] as const;

type Kind = (typeof KINDS)[number][0];

/** Shapes of a TCP flow's middle part. */
const enum Shape {
  /** The server sends the bulk, the client acknowledges every second segment. */
  Down,
  /** The client sends the bulk. */
  Up,
  /** Small packets both ways (interactive). */
  Chat,
}

/** One flow to generate. */
interface Flow {
  kind: Kind;
  proto: number;
  /** Client (originator) and server addresses and ports; ICMP: id in cport. */
  caddr: number;
  saddr: number;
  cport: number;
  sport: number;
  /** Client-to-firewall and server-side TTLs. */
  cttl: number;
  sttl: number;
  /** TCP: the number of packets between the request and the FIN (at least 1). */
  middle: number;
  shape: Shape;
  /** Start time and round-trip time, microseconds. */
  start: number;
  rtt: number;
  /** Sizes drawn for the flow (request, last segment, UDP payloads). */
  a: number;
  b: number;
  /** Initial sequence numbers and IP ids of the two sides. */
  isnC: number;
  isnS: number;
  idC: number;
  idS: number;
}

/** TCP flag bits. */
const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;

/** Payload bytes of a full segment (MSS 1460 minus 12 bytes of timestamps). */
const SEG = 1448;

/** Descriptors of every packet, filled per flow, in columns. */
class Packets {
  readonly t: Float64Array;
  readonly flow: Int32Array;
  readonly dir: Uint8Array;
  readonly flags: Uint8Array;
  readonly seq: Uint32Array;
  readonly ack: Uint32Array;
  readonly len: Uint16Array;
  readonly id: Uint16Array;
  n = 0;

  constructor(cap: number) {
    this.t = new Float64Array(cap);
    this.flow = new Int32Array(cap);
    this.dir = new Uint8Array(cap);
    this.flags = new Uint8Array(cap);
    this.seq = new Uint32Array(cap);
    this.ack = new Uint32Array(cap);
    this.len = new Uint16Array(cap);
    this.id = new Uint16Array(cap);
  }

  add(t: number, flow: number, dir: number, flags: number, seq: number, ack: number, len: number, id: number): void {
    const i = this.n++;
    this.t[i] = t;
    this.flow[i] = flow;
    this.dir[i] = dir;
    this.flags[i] = flags;
    this.seq[i] = seq >>> 0;
    this.ack[i] = ack >>> 0;
    this.len[i] = len;
    this.id[i] = id & 0xffff;
  }
}

function ip(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/**
 * TCP and UDP ports of the probes that explicit rules drop; the other probes go to 10000-10999
 * (TCP) or 20000-20999 (UDP), to the policy.
 */
const BLOCKED_TCP_PORTS = [23, 445, 3389] as const;
const BLOCKED_UDP_PORTS = [161, 1900] as const;

/** Packets of a TCP flow: SYN, SYN-ACK, ACK, request, the middle, FIN, FIN, ACK. */
function tcpLength(f: Flow): number {
  return 7 + f.middle;
}

function flowLength(f: Flow): number {
  if (f.proto === 6 && f.kind !== 'blocked') return tcpLength(f);
  return f.kind === 'blocked' ? 1 : 2;
}

/** Per-host source port counters, so that no two flows share a tuple. */
class Ports {
  private readonly next = new Map<number, number>();
  take(host: number, rng: Rng): number {
    let p = this.next.get(host);
    if (p === undefined) p = 32768 + rng.int(0, 20000);
    this.next.set(host, p + 1 + (p % 3));
    if (p > 60999) throw new Error('source ports exhausted');
    return p;
  }
}

/** Draws the flows: kinds in their shares, addresses, ports, sizes and timing. */
function drawFlows(o: CaptureOptions, rng: Rng): Flow[] {
  const count = Math.round(o.packets * o.newShare);
  const kinds: Kind[] = [];
  let assigned = 0;
  for (let k = 0; k < KINDS.length; k++) {
    const [kind, share] = KINDS[k]!;
    const n = k === KINDS.length - 1 ? count - assigned : Math.round(count * share);
    for (let i = 0; i < n; i++) kinds.push(kind);
    assigned += n;
  }
  // shuffle (Fisher-Yates) so that kinds interleave in time
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const ports = new Ports();
  const span = o.durationSec * 1e6;
  const lanHost = (): number => ip(10, 1, rng.int(0, 255), rng.int(1, 254));
  const netHost = (): number => ip(198, 18, rng.int(64, 127), rng.int(1, 254));
  const flows: Flow[] = [];
  for (const kind of kinds) {
    const f: Flow = {
      kind,
      proto: 6,
      caddr: 0,
      saddr: 0,
      cport: 0,
      sport: 0,
      cttl: 64,
      sttl: rng.int(44, 58),
      middle: 1,
      shape: Shape.Down,
      start: rng.next() * span * 0.97,
      rtt: rng.int(2000, 80000),
      a: 0,
      b: 0,
      isnC: rng.int(0, 0xffffffff),
      isnS: rng.int(0, 0xffffffff),
      idC: rng.int(0, 0xffff),
      idS: rng.int(0, 0xffff),
    };
    switch (kind) {
      case 'web-out': {
        f.caddr = lanHost();
        f.saddr = ip(198, 19, rng.int(0, 255), rng.int(1, 254));
        f.sport = rng.chance(0.8) ? 443 : 80;
        // response size: mostly small objects, some larger downloads
        const r = rng.next();
        f.middle = r < 0.6 ? rng.int(1, 6) : r < 0.92 ? rng.int(6, 16) : rng.int(16, 60);
        f.a = rng.int(180, 700);
        f.b = rng.int(60, SEG);
        break;
      }
      case 'dmz-web':
      case 'dmz-mail': {
        f.caddr = netHost();
        f.cttl = rng.int(44, 58);
        f.sttl = 64;
        f.saddr = kind === 'dmz-mail' ? ip(10, 2, 0, rng.int(25, 27)) : ip(10, 2, 0, rng.int(10, 40));
        f.sport = kind === 'dmz-mail' ? 25 : rng.chance(0.7) ? 443 : 80;
        f.shape = kind === 'dmz-mail' ? Shape.Up : Shape.Down;
        f.middle = rng.chance(0.6) ? rng.int(1, 8) : rng.int(8, 20);
        f.a = rng.int(40, 600);
        f.b = rng.int(60, SEG);
        break;
      }
      case 'ssh':
        f.caddr = ip(198, 18, 0, rng.int(1, 254));
        f.cttl = rng.int(44, 58);
        f.sttl = 64;
        f.saddr = ip(10, 2, 0, 10);
        f.sport = 22;
        f.shape = Shape.Chat;
        f.middle = rng.int(30, 240);
        f.a = rng.int(20, 40);
        f.rtt = rng.int(20000, 60000);
        // sessions start early enough to finish within the capture
        f.start = rng.next() * span * 0.3;
        break;
      case 'dns':
        f.proto = 17;
        f.caddr = lanHost();
        f.saddr = ip(198, 18, 53, rng.int(1, 4));
        f.sport = 53;
        f.a = rng.int(28, 60);
        f.b = f.a + rng.int(16, 300);
        break;
      case 'ntp':
        f.proto = 17;
        f.caddr = lanHost();
        f.saddr = ip(198, 18, 123, rng.int(1, 4));
        f.sport = 123;
        f.a = 48;
        f.b = 48;
        break;
      case 'ping':
        f.proto = 1;
        f.caddr = netHost();
        f.cttl = rng.int(44, 58);
        f.sttl = 64;
        f.saddr = ip(10, 2, 0, rng.int(10, 40));
        f.a = 56;
        break;
      case 'blocked': {
        const r = rng.next();
        if (r < 0.35) {
          f.caddr = netHost();
          f.saddr = ip(10, 2, 0, rng.int(1, 254));
          f.sport = rng.pick(BLOCKED_TCP_PORTS);
        } else if (r < 0.6) {
          f.caddr = netHost();
          f.saddr = ip(10, 2, 0, rng.int(1, 254));
          f.sport = rng.int(10000, 10999);
        } else if (r < 0.75) {
          f.caddr = lanHost();
          f.saddr = ip(198, 19, rng.int(0, 255), rng.int(1, 254));
          f.sport = 25;
        } else {
          f.proto = 17;
          f.caddr = netHost();
          f.saddr = ip(10, 2, 0, rng.int(1, 254));
          f.sport = r < 0.9 ? rng.pick(BLOCKED_UDP_PORTS) : rng.int(20000, 20999);
          f.a = rng.int(20, 120);
        }
        if (f.caddr >>> 24 === 198) f.cttl = rng.int(44, 58);
        break;
      }
    }
    f.cport = f.proto === 1 ? rng.int(1, 0xffff) : ports.take(f.caddr, rng);
    flows.push(f);
  }
  // total packets exactly as asked: lengthen or shorten web responses
  let total = 0;
  for (const f of flows) total += flowLength(f);
  const web = flows.filter((f) => f.kind === 'web-out');
  let guard = 0;
  while (total !== o.packets) {
    if (++guard > 50 * o.packets) throw new Error('cannot reach the packet count');
    const f = web[rng.int(0, web.length - 1)]!;
    if (total < o.packets) {
      f.middle++;
      total++;
    } else if (f.middle > 1) {
      f.middle--;
      total--;
    }
  }
  return flows;
}

/** Emits the packets of one TCP flow (dir 0: client to server). */
function tcpFlow(p: Packets, fi: number, f: Flow, rng: Rng): void {
  let t = f.start;
  let cseq = f.isnC;
  let sseq = f.isnS;
  let idC = f.idC;
  let idS = f.idS;
  if (f.kind === 'blocked') {
    p.add(t, fi, 0, SYN, cseq, 0, 0, idC);
    return;
  }
  p.add(t, fi, 0, SYN, cseq, 0, 0, idC++);
  cseq++;
  t += f.rtt;
  p.add(t, fi, 1, SYN | ACK, sseq, cseq, 0, 0);
  sseq++;
  t += 30 + rng.int(0, 40);
  p.add(t, fi, 0, ACK, cseq, sseq, 0, idC++);
  t += 20 + rng.int(0, 60);
  p.add(t, fi, 0, PSH | ACK, cseq, sseq, f.a, idC++);
  cseq += f.a;
  t += f.rtt + rng.int(50, 3000);
  // the middle: bulk data acknowledged every second segment, or small packets both ways
  const m = f.middle;
  if (f.shape === Shape.Chat) {
    for (let i = 0; i < m; i++) {
      const step = i % 3;
      if (step === 0) {
        const n = rng.int(36, 100);
        p.add(t, fi, 0, PSH | ACK, cseq, sseq, n, idC++);
        cseq += n;
        t += f.rtt / 2 + rng.int(100, 800);
      } else if (step === 1) {
        const n = rng.int(36, 240);
        p.add(t, fi, 1, PSH | ACK, sseq, cseq, n, idS++);
        sseq += n;
        t += 40 + rng.int(0, 200);
      } else {
        p.add(t, fi, 0, ACK, cseq, sseq, 0, idC++);
        t += rng.int(10000, 120000);
      }
    }
  } else {
    const up = f.shape === Shape.Up;
    const lastData = m - 1 - (m % 3 === 0 ? 1 : 0);
    for (let i = 0; i < m; i++) {
      if (i % 3 === 2) {
        // the receiver acknowledges the two segments before
        if (up) p.add(t, fi, 1, ACK, sseq, cseq, 0, idS++);
        else p.add(t, fi, 0, ACK, cseq, sseq, 0, idC++);
        t += 15 + rng.int(0, 30);
        if (i % 30 === 29) t += f.rtt;
        continue;
      }
      const n = i === lastData ? f.b : SEG;
      const flags = i === lastData ? PSH | ACK : ACK;
      if (up) {
        p.add(t, fi, 0, flags, cseq, sseq, n, idC++);
        cseq += n;
      } else {
        p.add(t, fi, 1, flags, sseq, cseq, n, idS++);
        sseq += n;
      }
      t += 12 + rng.int(0, 6);
    }
  }
  // the client closes; the server answers with its own FIN; the client's last ACK
  t += rng.int(100, 5000);
  p.add(t, fi, 0, FIN | ACK, cseq, sseq, 0, idC++);
  cseq++;
  t += f.rtt;
  p.add(t, fi, 1, FIN | ACK, sseq, cseq, 0, idS++);
  sseq++;
  t += 30 + rng.int(0, 40);
  p.add(t, fi, 0, ACK, cseq, sseq, 0, idC++);
}

/** Emits the packets of a UDP or ICMP flow: one request and (unless blocked) one answer. */
function datagramFlow(p: Packets, fi: number, f: Flow): void {
  p.add(f.start, fi, 0, 0, 0, 0, f.a, f.idC);
  if (f.kind !== 'blocked') p.add(f.start + f.rtt, fi, 1, 0, 0, 0, f.proto === 1 ? f.a : f.b, f.idS);
}

/** Length of the frame for packet `i`. */
function frameLength(p: Packets, flows: Flow[], i: number): number {
  const f = flows[p.flow[i]!]!;
  if (f.proto === 6) return 14 + 20 + (p.flags[i]! & SYN ? 40 : 32) + p.len[i]!;
  return 14 + 20 + 8 + p.len[i]!;
}

/** Sum of 16-bit words of `buf[off, off+len)` (even `off`), a ones'-complement partial sum. */
function sum16(buf: Uint8Array, off: number, len: number): number {
  let s = 0;
  const end = off + len - 1;
  let i = off;
  for (; i < end; i += 2) s += (buf[i]! << 8) | buf[i + 1]!;
  if (i === end) s += buf[i]! << 8;
  return s;
}

function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return ~s & 0xffff;
}

/** Filler of payloads: pseudo-random bytes, copied at an offset that depends on the packet. */
function payloadBlock(rng: Rng): Uint8Array {
  const b = new Uint8Array(4096);
  for (let i = 0; i < b.length; i++) b[i] = rng.int(0, 255);
  return b;
}

/** Writes packet `i` as a frame at `buf[o..]`; returns the frame length. */
function writeFrame(buf: Uint8Array, o: number, p: Packets, flows: Flow[], i: number, fill: Uint8Array): number {
  const f = flows[p.flow[i]!]!;
  const dir = p.dir[i]!;
  const flags = p.flags[i]!;
  const plen = p.len[i]!;
  const src = dir === 0 ? f.caddr : f.saddr;
  const dst = dir === 0 ? f.saddr : f.caddr;
  buf.set(FW_MAC, o);
  buf.set(dir === 0 === (f.caddr >>> 24 === 10) ? INSIDE_MAC : OUTSIDE_MAC, o + 6);
  buf[o + 12] = 0x08;
  buf[o + 13] = 0x00;
  const iph = o + 14;
  const l4 = iph + 20;
  let l4len: number;
  if (f.proto === 6) {
    const hl = flags & SYN ? 40 : 32;
    l4len = hl + plen;
    const sp = dir === 0 ? f.cport : f.sport;
    const dp = dir === 0 ? f.sport : f.cport;
    buf[l4] = sp >>> 8;
    buf[l4 + 1] = sp & 255;
    buf[l4 + 2] = dp >>> 8;
    buf[l4 + 3] = dp & 255;
    const seq = p.seq[i]!;
    const ack = p.ack[i]!;
    buf[l4 + 4] = seq >>> 24;
    buf[l4 + 5] = (seq >>> 16) & 255;
    buf[l4 + 6] = (seq >>> 8) & 255;
    buf[l4 + 7] = seq & 255;
    buf[l4 + 8] = ack >>> 24;
    buf[l4 + 9] = (ack >>> 16) & 255;
    buf[l4 + 10] = (ack >>> 8) & 255;
    buf[l4 + 11] = ack & 255;
    buf[l4 + 12] = (hl / 4) << 4;
    buf[l4 + 13] = flags;
    // windows: unscaled in the SYNs, scaled by 2^7 afterwards (Linux's defaults)
    const win = flags & SYN ? (dir === 0 ? 64240 : 65160) : dir === 0 ? 502 : 509;
    buf[l4 + 14] = win >>> 8;
    buf[l4 + 15] = win & 255;
    buf[l4 + 16] = 0;
    buf[l4 + 17] = 0;
    buf[l4 + 18] = 0;
    buf[l4 + 19] = 0;
    const tsval = (Math.floor(p.t[i]! / 1000) + (dir === 0 ? f.isnC : f.isnS)) >>> 0;
    const tsecr = flags & SYN && dir === 0 ? 0 : (Math.floor(Math.max(0, p.t[i]! - f.rtt) / 1000) + (dir === 0 ? f.isnS : f.isnC)) >>> 0;
    let q = l4 + 20;
    if (flags & SYN) {
      // MSS 1460, SACK permitted, timestamps, NOP, window scale 7
      buf[q++] = 2;
      buf[q++] = 4;
      buf[q++] = 0x05;
      buf[q++] = 0xb4;
      buf[q++] = 4;
      buf[q++] = 2;
    } else {
      buf[q++] = 1;
      buf[q++] = 1;
    }
    buf[q++] = 8;
    buf[q++] = 10;
    buf[q++] = tsval >>> 24;
    buf[q++] = (tsval >>> 16) & 255;
    buf[q++] = (tsval >>> 8) & 255;
    buf[q++] = tsval & 255;
    buf[q++] = tsecr >>> 24;
    buf[q++] = (tsecr >>> 16) & 255;
    buf[q++] = (tsecr >>> 8) & 255;
    buf[q++] = tsecr & 255;
    if (flags & SYN) {
      buf[q++] = 1;
      buf[q++] = 3;
      buf[q++] = 3;
      buf[q++] = 7;
    }
    if (plen) buf.set(fill.subarray((i * 7) & 2047, ((i * 7) & 2047) + plen), q);
    const c = fold(sum16(buf, l4, l4len) + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + l4len);
    buf[l4 + 16] = c >>> 8;
    buf[l4 + 17] = c & 255;
  } else if (f.proto === 17) {
    l4len = 8 + plen;
    const sp = dir === 0 ? f.cport : f.sport;
    const dp = dir === 0 ? f.sport : f.cport;
    buf[l4] = sp >>> 8;
    buf[l4 + 1] = sp & 255;
    buf[l4 + 2] = dp >>> 8;
    buf[l4 + 3] = dp & 255;
    buf[l4 + 4] = l4len >>> 8;
    buf[l4 + 5] = l4len & 255;
    buf[l4 + 6] = 0;
    buf[l4 + 7] = 0;
    if (f.sport === 123) {
      // NTP: mode 3 (client) or 4 (server), version 4
      buf.fill(0, l4 + 8, l4 + 8 + plen);
      buf[l4 + 8] = dir === 0 ? 0x23 : 0x24;
    } else buf.set(fill.subarray((i * 5) & 2047, ((i * 5) & 2047) + plen), l4 + 8);
    if (f.sport === 53) {
      // DNS: the same id in query and answer, the QR bit in the answer
      buf[l4 + 8] = f.cport >>> 8;
      buf[l4 + 9] = f.cport & 255;
      buf[l4 + 10] = dir === 0 ? 0x01 : 0x81;
      buf[l4 + 11] = dir === 0 ? 0x00 : 0x80;
    }
    const c = fold(sum16(buf, l4, l4len) + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 17 + l4len) || 0xffff;
    buf[l4 + 6] = c >>> 8;
    buf[l4 + 7] = c & 255;
  } else {
    // ICMP echo request or reply with 56 bytes of data
    l4len = 8 + plen;
    buf[l4] = dir === 0 ? 8 : 0;
    buf[l4 + 1] = 0;
    buf[l4 + 2] = 0;
    buf[l4 + 3] = 0;
    buf[l4 + 4] = f.cport >>> 8;
    buf[l4 + 5] = f.cport & 255;
    buf[l4 + 6] = 0;
    buf[l4 + 7] = 1;
    buf.set(fill.subarray(64, 64 + plen), l4 + 8);
    const c = fold(sum16(buf, l4, l4len));
    buf[l4 + 2] = c >>> 8;
    buf[l4 + 3] = c & 255;
  }
  const tot = 20 + l4len;
  const ttl = dir === 0 ? f.cttl : f.sttl;
  const df = f.proto === 6 || (f.proto === 1 && dir === 1);
  buf[iph] = 0x45;
  buf[iph + 1] = 0;
  buf[iph + 2] = tot >>> 8;
  buf[iph + 3] = tot & 255;
  const id = p.id[i]!;
  buf[iph + 4] = id >>> 8;
  buf[iph + 5] = id & 255;
  buf[iph + 6] = df ? 0x40 : 0;
  buf[iph + 7] = 0;
  buf[iph + 8] = ttl;
  buf[iph + 9] = f.proto;
  buf[iph + 10] = 0;
  buf[iph + 11] = 0;
  buf[iph + 12] = src >>> 24;
  buf[iph + 13] = (src >>> 16) & 255;
  buf[iph + 14] = (src >>> 8) & 255;
  buf[iph + 15] = src & 255;
  buf[iph + 16] = dst >>> 24;
  buf[iph + 17] = (dst >>> 16) & 255;
  buf[iph + 18] = (dst >>> 8) & 255;
  buf[iph + 19] = dst & 255;
  const hc = fold(sum16(buf, iph, 20));
  buf[iph + 10] = hc >>> 8;
  buf[iph + 11] = hc & 255;
  return 14 + tot;
}

/**
 * Generates the capture (the same bytes for the same options) as a little-endian pcap file with
 * microsecond timestamps and Ethernet link type.
 */
export function generateCapture(o: CaptureOptions): GeneratedCapture {
  const rng = new Rng(o.seed);
  const flows = drawFlows(o, rng);
  const p = new Packets(o.packets);
  for (let fi = 0; fi < flows.length; fi++) {
    const f = flows[fi]!;
    if (f.proto === 6) tcpFlow(p, fi, f, rng);
    else datagramFlow(p, fi, f);
  }
  if (p.n !== o.packets) throw new Error(`generated ${p.n} packets instead of ${o.packets}`);
  // time order; a flow's own packets have increasing times, ties keep generation order
  const order = new Uint32Array(p.n);
  for (let i = 0; i < p.n; i++) order[i] = i;
  const t = p.t;
  const sorted = Array.from(order).sort((a, b) => t[a]! - t[b]! || a - b);
  const stats: CaptureStats = {
    packets: p.n,
    bytes: 0,
    newPackets: flows.length,
    establishedPackets: p.n - flows.length,
    flows: {},
    tcp: 0,
    udp: 0,
    icmp: 0,
    small: 0,
    medium: 0,
    large: 0,
    spanSec: 0,
  };
  for (const f of flows) stats.flows[f.kind] = (stats.flows[f.kind] ?? 0) + 1;
  let size = 24;
  for (let i = 0; i < p.n; i++) size += 16 + frameLength(p, flows, i);
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  view.setUint32(0, 0xa1b2c3d4, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, 262144, true);
  view.setUint32(20, 1, true);
  const fill = payloadBlock(rng);
  const t0 = Math.floor(t[sorted[0]!]!);
  let off = 24;
  for (const i of sorted) {
    const us = Math.floor(t[i]!) - t0;
    const n = writeFrame(buf, off + 16, p, flows, i, fill);
    view.setUint32(off, EPOCH + Math.floor(us / 1e6), true);
    view.setUint32(off + 4, us % 1e6, true);
    view.setUint32(off + 8, n, true);
    view.setUint32(off + 12, n, true);
    off += 16 + n;
    stats.bytes += n;
    const proto = flows[p.flow[i]!]!.proto;
    if (proto === 6) stats.tcp++;
    else if (proto === 17) stats.udp++;
    else stats.icmp++;
    if (n <= 100) stats.small++;
    else if (n <= 1000) stats.medium++;
    else stats.large++;
    stats.spanSec = us / 1e6;
  }
  if (off !== size) throw new Error('capture size mismatch');
  return { pcap: buf, stats };
}

/** A capture's frames as views into the file's bytes, with their timestamps in microseconds. */
export interface CaptureFrames {
  frames: Uint8Array[];
  /** Microseconds since the first packet. */
  us: Float64Array;
}

/** Reads the records of a little-endian microsecond pcap file (as generateCapture writes). */
export function captureFrames(pcap: Uint8Array): CaptureFrames {
  const view = new DataView(pcap.buffer, pcap.byteOffset, pcap.byteLength);
  if (view.getUint32(0, true) !== 0xa1b2c3d4) throw new Error('not a little-endian microsecond pcap file');
  const frames: Uint8Array[] = [];
  const times: number[] = [];
  let off = 24;
  let first = -1;
  while (off + 16 <= pcap.length) {
    const us = view.getUint32(off, true) * 1e6 + view.getUint32(off + 4, true);
    if (first < 0) first = us;
    const n = view.getUint32(off + 8, true);
    frames.push(pcap.subarray(off + 16, off + 16 + n));
    times.push(us - first);
    off += 16 + n;
  }
  return { frames, us: Float64Array.from(times) };
}
