/**
 * The TCP header (RFC 9293): flag bits, field accessors on a header held in
 * a byte array at a given offset, and the options, both as a list and
 * through a scan that fills a reusable summary without allocating.
 */
import { get16, get32, put16, put32 } from './bytes.js';

/** Length of a TCP header without options. */
export const TCP_HLEN = 20;

/** FIN flag bit (of the flags byte). */
export const TCP_FIN = 0x01;
/** SYN flag bit. */
export const TCP_SYN = 0x02;
/** RST flag bit. */
export const TCP_RST = 0x04;
/** PSH flag bit. */
export const TCP_PSH = 0x08;
/** ACK flag bit. */
export const TCP_ACK = 0x10;
/** URG flag bit. */
export const TCP_URG = 0x20;
/** ECE flag bit. */
export const TCP_ECE = 0x40;
/** CWR flag bit. */
export const TCP_CWR = 0x80;

/** TCP option kinds. */
export const TCPOPT_EOL = 0;
/** No operation (one byte). */
export const TCPOPT_NOP = 1;
/** Maximum segment size (length 4). */
export const TCPOPT_MSS = 2;
/** Window scale (length 3). */
export const TCPOPT_WINDOW = 3;
/** SACK permitted (length 2). */
export const TCPOPT_SACK_PERM = 4;
/** SACK blocks (length 2 + 8n). */
export const TCPOPT_SACK = 5;
/** Timestamps (length 10). */
export const TCPOPT_TIMESTAMP = 8;

/** Source port. */
export function tcpSport(buf: Uint8Array, off: number): number {
  return get16(buf, off);
}

/** Destination port. */
export function tcpDport(buf: Uint8Array, off: number): number {
  return get16(buf, off + 2);
}

/** Sequence number (unsigned 32-bit). */
export function tcpSeq(buf: Uint8Array, off: number): number {
  return get32(buf, off + 4);
}

/** Acknowledgment number (unsigned 32-bit). */
export function tcpAck(buf: Uint8Array, off: number): number {
  return get32(buf, off + 8);
}

/** Data offset field, in 32-bit words. */
export function tcpDataOff(buf: Uint8Array, off: number): number {
  return buf[off + 12]! >>> 4;
}

/** Header length in bytes (four times the data offset). */
export function tcpHeaderLen(buf: Uint8Array, off: number): number {
  return (buf[off + 12]! >>> 4) << 2;
}

/** The four reserved bits after the data offset. */
export function tcpReserved(buf: Uint8Array, off: number): number {
  return buf[off + 12]! & 0x0f;
}

/** The flags byte (TCP_FIN ... TCP_CWR). */
export function tcpFlags(buf: Uint8Array, off: number): number {
  return buf[off + 13]!;
}

/** Window field (unscaled). */
export function tcpWindow(buf: Uint8Array, off: number): number {
  return get16(buf, off + 14);
}

/** Checksum field. */
export function tcpCheck(buf: Uint8Array, off: number): number {
  return get16(buf, off + 16);
}

/** Urgent pointer. */
export function tcpUrgPtr(buf: Uint8Array, off: number): number {
  return get16(buf, off + 18);
}

/** Sets the source port. */
export function setTcpSport(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off, v);
}

/** Sets the destination port. */
export function setTcpDport(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 2, v);
}

/** Sets the sequence number. */
export function setTcpSeq(buf: Uint8Array, off: number, v: number): void {
  put32(buf, off + 4, v);
}

/** Sets the acknowledgment number. */
export function setTcpAck(buf: Uint8Array, off: number, v: number): void {
  put32(buf, off + 8, v);
}

/** Sets the data offset (in 32-bit words) and the reserved bits. */
export function setTcpDataOff(buf: Uint8Array, off: number, words: number, reserved = 0): void {
  buf[off + 12] = ((words & 0x0f) << 4) | (reserved & 0x0f);
}

/** Sets the flags byte. */
export function setTcpFlags(buf: Uint8Array, off: number, v: number): void {
  buf[off + 13] = v & 0xff;
}

/** Sets the window field. */
export function setTcpWindow(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 14, v);
}

/** Sets the checksum field (see checksum.ts to compute it). */
export function setTcpCheck(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 16, v);
}

/** Sets the urgent pointer. */
export function setTcpUrgPtr(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 18, v);
}

/** Flag letters in bit order, as scapy writes them: FIN SYN RST PSH ACK URG ECE CWR. */
const FLAG_LETTERS = 'FSRPAUEC';

/** The flags byte as letters in bit order ("S", "SA", "FA", "PA", "" for none). */
export function formatTcpFlags(flags: number): string {
  let s = '';
  for (let i = 0; i < 8; i++) if (flags & (1 << i)) s += FLAG_LETTERS[i];
  return s;
}

/** Parses flag letters (any order, case-sensitive as formatTcpFlags writes them); undefined on an unknown letter. */
export function parseTcpFlags(text: string): number | undefined {
  let v = 0;
  for (const c of text) {
    const i = FLAG_LETTERS.indexOf(c);
    if (i < 0) return undefined;
    v |= 1 << i;
  }
  return v;
}

/**
 * One TCP option. The named forms are the well-formed common kinds; any
 * other kind, or a common kind whose length is not its usual one, is the
 * raw form `{ kind, data }` (length byte `len`, by default
 * `2 + data.length`). `malformed` marks an option whose length byte is
 * missing, below 2 or runs past the header; parsing stops there and `data`
 * holds the bytes that were left. An end of list followed only by zero
 * bytes is padding and is not listed; otherwise `rest` holds the bytes
 * after it.
 */
export type TcpOption =
  | { mss: number }
  | { wscale: number }
  | { sackOk: true }
  | { sack: [number, number][] }
  | { ts: [number, number] }
  | { nop: true }
  | { eol: true; rest?: Uint8Array }
  | { kind: number; len?: number; data?: Uint8Array; malformed?: true };

/** Parses the option area `buf[off, off+len)` of a TCP header; never throws. */
export function parseTcpOptions(buf: Uint8Array, off: number, len: number): TcpOption[] {
  const out: TcpOption[] = [];
  const end = off + len;
  let i = off;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === TCPOPT_EOL) {
      const rest = buf.subarray(i + 1, end);
      if (rest.some((b) => b !== 0)) out.push({ eol: true, rest: rest.slice() });
      break;
    }
    if (kind === TCPOPT_NOP) {
      out.push({ nop: true });
      i++;
      continue;
    }
    if (i + 1 >= end) {
      out.push({ kind, malformed: true });
      break;
    }
    const olen = buf[i + 1]!;
    if (olen < 2 || i + olen > end) {
      out.push({ kind, len: olen, data: buf.slice(i + 2, end), malformed: true });
      break;
    }
    if (kind === TCPOPT_MSS && olen === 4) out.push({ mss: get16(buf, i + 2) });
    else if (kind === TCPOPT_WINDOW && olen === 3) out.push({ wscale: buf[i + 2]! });
    else if (kind === TCPOPT_SACK_PERM && olen === 2) out.push({ sackOk: true });
    else if (kind === TCPOPT_TIMESTAMP && olen === 10) out.push({ ts: [get32(buf, i + 2), get32(buf, i + 6)] });
    else if (kind === TCPOPT_SACK && olen >= 10 && (olen - 2) % 8 === 0) {
      const blocks: [number, number][] = [];
      for (let j = i + 2; j < i + olen; j += 8) blocks.push([get32(buf, j), get32(buf, j + 4)]);
      out.push({ sack: blocks });
    } else out.push({ kind, data: buf.slice(i + 2, i + olen) });
    i += olen;
  }
  return out;
}

/** The number of bytes one option takes on the wire. */
function optionLength(o: TcpOption): number {
  if ('mss' in o) return 4;
  if ('wscale' in o) return 3;
  if ('sackOk' in o) return 2;
  if ('sack' in o) return 2 + 8 * o.sack.length;
  if ('ts' in o) return 10;
  if ('nop' in o) return 1;
  if ('eol' in o) return 1 + (o.rest?.length ?? 0);
  const data = o.data?.length ?? 0;
  return o.kind < 2 || (o.malformed && o.len === undefined) ? 1 + data : 2 + data;
}

/** The number of bytes `opts` take on the wire, before padding to a multiple of four. */
export function tcpOptionsLength(opts: readonly TcpOption[]): number {
  let n = 0;
  for (const o of opts) n += optionLength(o);
  return n;
}

/** Writes `opts` at `off` and returns the offset after them (no padding). */
export function writeTcpOptions(buf: Uint8Array, off: number, opts: readonly TcpOption[]): number {
  let i = off;
  for (const o of opts) {
    if ('mss' in o) {
      buf[i] = TCPOPT_MSS;
      buf[i + 1] = 4;
      put16(buf, i + 2, o.mss);
    } else if ('wscale' in o) {
      buf[i] = TCPOPT_WINDOW;
      buf[i + 1] = 3;
      buf[i + 2] = o.wscale & 0xff;
    } else if ('sackOk' in o) {
      buf[i] = TCPOPT_SACK_PERM;
      buf[i + 1] = 2;
    } else if ('sack' in o) {
      buf[i] = TCPOPT_SACK;
      buf[i + 1] = 2 + 8 * o.sack.length;
      o.sack.forEach(([l, r], k) => {
        put32(buf, i + 2 + 8 * k, l);
        put32(buf, i + 6 + 8 * k, r);
      });
    } else if ('ts' in o) {
      buf[i] = TCPOPT_TIMESTAMP;
      buf[i + 1] = 10;
      put32(buf, i + 2, o.ts[0]);
      put32(buf, i + 6, o.ts[1]);
    } else if ('nop' in o) {
      buf[i] = TCPOPT_NOP;
    } else if ('eol' in o) {
      buf[i] = TCPOPT_EOL;
      if (o.rest) buf.set(o.rest, i + 1);
    } else {
      buf[i] = o.kind;
      const data = o.data ?? new Uint8Array(0);
      if (o.kind < 2 || (o.malformed && o.len === undefined)) buf.set(data, i + 1);
      else {
        buf[i + 1] = o.len ?? data.length + 2;
        buf.set(data, i + 2);
      }
    }
    i += optionLength(o);
  }
  return i;
}

/**
 * What the options of one segment say, as connection tracking and the MSS
 * clamp need it. `mss` and `wscale` are -1 when absent; `tsVal`/`tsEcr`
 * are meaningful only when `hasTs`. `malformed` is set when an option's
 * length was bad (the scan stops there, like the kernel's).
 */
export interface TcpOptionSummary {
  mss: number;
  wscale: number;
  sackPerm: boolean;
  hasTs: boolean;
  tsVal: number;
  tsEcr: number;
  malformed: boolean;
}

/** A fresh summary, to be reused across calls of scanTcpOptions. */
export function newTcpOptionSummary(): TcpOptionSummary {
  return { mss: -1, wscale: -1, sackPerm: false, hasTs: false, tsVal: 0, tsEcr: 0, malformed: false };
}

/**
 * Reads the options of the TCP header at `off` (bounded by its data offset
 * and by `end`, the end of the bytes available) into `out`, without
 * allocating, and returns `out`. Options of an unusual length are skipped.
 */
export function scanTcpOptions(buf: Uint8Array, off: number, end: number, out: TcpOptionSummary): TcpOptionSummary {
  out.mss = -1;
  out.wscale = -1;
  out.sackPerm = false;
  out.hasTs = false;
  out.tsVal = 0;
  out.tsEcr = 0;
  out.malformed = false;
  const stop = Math.min(off + tcpHeaderLen(buf, off), end);
  let i = off + TCP_HLEN;
  while (i < stop) {
    const kind = buf[i]!;
    if (kind === TCPOPT_EOL) break;
    if (kind === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= stop) {
      out.malformed = true;
      break;
    }
    const olen = buf[i + 1]!;
    if (olen < 2 || i + olen > stop) {
      out.malformed = true;
      break;
    }
    if (kind === TCPOPT_MSS && olen === 4) out.mss = get16(buf, i + 2);
    else if (kind === TCPOPT_WINDOW && olen === 3) out.wscale = buf[i + 2]!;
    else if (kind === TCPOPT_SACK_PERM && olen === 2) out.sackPerm = true;
    else if (kind === TCPOPT_TIMESTAMP && olen === 10) {
      out.hasTs = true;
      out.tsVal = get32(buf, i + 2);
      out.tsEcr = get32(buf, i + 6);
    }
    i += olen;
  }
  return out;
}

/**
 * The offset of the first option of `kind` in the TCP header at `off`
 * (bounded by its data offset and by `end`), or -1 when there is none or an
 * earlier option is malformed.
 */
export function findTcpOption(buf: Uint8Array, off: number, end: number, kind: number): number {
  const stop = Math.min(off + tcpHeaderLen(buf, off), end);
  let i = off + TCP_HLEN;
  while (i < stop) {
    const k = buf[i]!;
    if (k === TCPOPT_EOL) return kind === TCPOPT_EOL ? i : -1;
    if (k === kind) return i;
    if (k === TCPOPT_NOP) {
      i++;
      continue;
    }
    if (i + 1 >= stop) return -1;
    const olen = buf[i + 1]!;
    if (olen < 2 || i + olen > stop) return -1;
    i += olen;
  }
  return -1;
}
