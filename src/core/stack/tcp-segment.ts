/**
 * A received TCP segment as the stack reads it (parsed once into a reused
 * object), and the options Linux puts in the segments it builds.
 */
import { get16, get32 } from '../wire/bytes.js';

/** A received segment: the IP addresses, the TCP header fields and the options Linux looks at. */
export interface Segment {
  /** The datagram (IP header first). */
  data: Uint8Array;
  saddr: number;
  daddr: number;
  tos: number;
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  /** Offset and length of the payload in `data`. */
  payloadOff: number;
  payloadLen: number;
  /** MSS option, 0 when absent. */
  mss: number;
  /** Window scale option, -1 when absent. */
  wscale: number;
  sackOk: boolean;
  hasTs: boolean;
  tsVal: number;
  tsEcr: number;
}

/** A blank segment record to parse into. */
export function newSegment(): Segment {
  return {
    data: new Uint8Array(0),
    saddr: 0,
    daddr: 0,
    tos: 0,
    sport: 0,
    dport: 0,
    seq: 0,
    ack: 0,
    flags: 0,
    window: 0,
    payloadOff: 0,
    payloadLen: 0,
    mss: 0,
    wscale: -1,
    sackOk: false,
    hasTs: false,
    tsVal: 0,
    tsEcr: 0,
  };
}

/**
 * Reads the segment of datagram `d` (TCP header at `ihl`) into `s`.
 * Returns false when the header is malformed. The SYN-only options (MSS,
 * window scale, SACK permitted) are read only on SYN segments, as Linux does.
 */
export function parseSegment(d: Uint8Array, ihl: number, s: Segment): boolean {
  const len = d.length - ihl;
  if (len < 20) return false;
  const doff = (d[ihl + 12]! >> 4) * 4;
  if (doff < 20 || doff > len) return false;
  s.data = d;
  s.saddr = get32(d, 12);
  s.daddr = get32(d, 16);
  s.tos = d[1]!;
  s.sport = get16(d, ihl);
  s.dport = get16(d, ihl + 2);
  s.seq = get32(d, ihl + 4);
  s.ack = get32(d, ihl + 8);
  s.flags = d[ihl + 13]!;
  s.window = get16(d, ihl + 14);
  s.payloadOff = ihl + doff;
  s.payloadLen = len - doff;
  s.mss = 0;
  s.wscale = -1;
  s.sackOk = false;
  s.hasTs = false;
  s.tsVal = 0;
  s.tsEcr = 0;
  const syn = (s.flags & 0x02) !== 0;
  let i = ihl + 20;
  const end = ihl + doff;
  while (i < end) {
    const kind = d[i]!;
    if (kind === 0) break;
    if (kind === 1) {
      i++;
      continue;
    }
    if (i + 1 >= end) break;
    const olen = d[i + 1]!;
    if (olen < 2 || i + olen > end) break;
    if (kind === 2 && olen === 4 && syn) s.mss = get16(d, i + 2);
    else if (kind === 3 && olen === 3 && syn) s.wscale = Math.min(d[i + 2]!, 14);
    else if (kind === 4 && olen === 2 && syn) s.sackOk = true;
    else if (kind === 8 && olen === 10) {
      s.hasTs = true;
      s.tsVal = get32(d, i + 2);
      s.tsEcr = get32(d, i + 6);
    }
    i += olen;
  }
  return true;
}

/** Which options a segment carries, in the order tcp_options_write lays them out. */
export interface OutOptions {
  /** MSS to announce (SYN, SYN-ACK), 0 for none. */
  mss: number;
  /** Timestamps: value and echo, when `ts`. */
  ts: boolean;
  tsVal: number;
  tsEcr: number;
  /** SACK permitted (SYN, SYN-ACK). */
  sackPerm: boolean;
  /** Window scale to announce (SYN, SYN-ACK), -1 for none. */
  wscale: number;
}

/** Length of the options block. */
export function optionsLength(o: OutOptions): number {
  let n = 0;
  if (o.mss) n += 4;
  if (o.ts) n += 12;
  else if (o.sackPerm) n += 4;
  if (o.wscale >= 0) n += 4;
  return n;
}

/**
 * Writes the options at `at`: MSS; timestamps (behind SACK permitted when
 * both, else behind two NOPs); SACK permitted alone behind two NOPs; a NOP
 * and the window scale.
 */
export function writeOptions(b: Uint8Array, at: number, o: OutOptions): void {
  if (o.mss) {
    b[at] = 2;
    b[at + 1] = 4;
    b[at + 2] = o.mss >>> 8;
    b[at + 3] = o.mss & 0xff;
    at += 4;
  }
  if (o.ts) {
    if (o.sackPerm) {
      b[at] = 4;
      b[at + 1] = 2;
    } else {
      b[at] = 1;
      b[at + 1] = 1;
    }
    b[at + 2] = 8;
    b[at + 3] = 10;
    put32(b, at + 4, o.tsVal);
    put32(b, at + 8, o.tsEcr);
    at += 12;
  } else if (o.sackPerm) {
    b[at] = 1;
    b[at + 1] = 1;
    b[at + 2] = 4;
    b[at + 3] = 2;
    at += 4;
  }
  if (o.wscale >= 0) {
    b[at] = 1;
    b[at + 1] = 3;
    b[at + 2] = 3;
    b[at + 3] = o.wscale;
  }
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}

/** Sequence arithmetic: a is before b (mod 2^32). */
export function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** a is after b (mod 2^32). */
export function after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

/** a + n, mod 2^32. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}
