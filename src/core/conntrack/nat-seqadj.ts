/**
 * TCP sequence adjustment (nf_conntrack_seqadj.c): when a NAT helper
 * changes the length of a segment's payload (a PORT line grows or shrinks
 * with the rewritten address), every later segment of that direction has
 * its sequence number moved by the difference, and the other direction's
 * acknowledgements (and SACK blocks) moved back, so that both ends keep
 * seeing a consistent byte stream.
 *
 * The state is kept on the connection (`SeqadjConn.seqadj`, plain JSON),
 * one record per direction, as the kernel keeps it.
 */
import { get32, put32 } from '../wire/bytes.js';
import { checksumReplace32 } from '../wire/checksum.js';
import { IPS, type Conn } from './types.js';

/** One direction's adjustment (struct nf_ct_seqadj). */
export interface SeqadjDir {
  /** Sequence number of the segment whose length changed last. */
  pos: number;
  /** Offset for segments up to and including `pos`. */
  before: number;
  /** Offset for segments after `pos`. */
  after: number;
}

/** A connection with sequence adjustment state. */
export interface SeqadjConn extends Conn {
  seqadj?: [SeqadjDir, SeqadjDir];
}

/** Whether sequence number a comes after b (the kernel's after(), modulo 2^32). */
function after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

/**
 * nf_ct_seqadj_set: records that the segment of direction `dir` starting
 * at `seq` changed length by `off` bytes.
 */
export function seqadjSet(ct: Conn, dir: 0 | 1, seq: number, off: number): void {
  if (off === 0) return;
  const c = ct as SeqadjConn;
  c.status |= IPS.SEQ_ADJUST;
  const s = (c.seqadj ??= [
    { pos: 0, before: 0, after: 0 },
    { pos: 0, before: 0, after: 0 },
  ]);
  const w = s[dir];
  if (w.before === w.after || after(seq >>> 0, w.pos)) {
    w.pos = seq >>> 0;
    w.before = w.after;
    w.after = (w.after + off) | 0;
  }
}

/**
 * nf_ct_seq_offset: the offset of direction `dir` for a sequence number
 * (the connection tracker takes it off acknowledgements before checking
 * them against the window).
 */
export function seqOffset(ct: Conn, dir: number, seq: number): number {
  const s = (ct as SeqadjConn).seqadj;
  if (!s) return 0;
  const w = s[dir as 0 | 1];
  return after(seq >>> 0, w.pos) ? w.after : w.before;
}

/** Replaces the 32-bit word at `at` of the TCP segment at `th`, keeping its checksum right. */
function replace32(data: Uint8Array, th: number, at: number, value: number): void {
  const old = get32(data, at);
  if (old === value) return;
  const check = (data[th + 16]! << 8) | data[th + 17]!;
  const c = checksumReplace32(check, old, value);
  put32(data, at, value);
  data[th + 16] = c >>> 8;
  data[th + 17] = c & 0xff;
}

/** The adjusted value of an acknowledged sequence number (or SACK edge) of the other direction. */
function ackAdjusted(w: SeqadjDir, v: number): number {
  const off = after((v - w.before) >>> 0, w.pos) ? w.after : w.before;
  return (v - off) >>> 0;
}

/** nf_ct_sack_adjust: moves the SACK blocks back; false when the options are malformed. */
function sackAdjust(data: Uint8Array, th: number, w: SeqadjDir): boolean {
  let p = th + 20;
  const end = th + ((data[th + 12]! >>> 4) << 2);
  while (p < end) {
    const kind = data[p]!;
    if (kind === 0) return true;
    if (kind === 1) {
      p++;
      continue;
    }
    if (p + 1 === end) return false;
    const len = data[p + 1]!;
    if (p + len > end || len < 2) return false;
    if (kind === 5 && len >= 10 && (len - 2) % 8 === 0) {
      for (let b = p + 2; b < p + len; b += 8) {
        replace32(data, th, b, ackAdjusted(w, get32(data, b)));
        replace32(data, th, b + 4, ackAdjusted(w, get32(data, b + 4)));
      }
    }
    p += len;
  }
  return true;
}

/**
 * nf_ct_seq_adjust: moves the sequence number of a TCP segment of
 * direction `dir` and its acknowledgement (and SACK blocks) by the
 * connection's offsets, checksum kept right. `th` is the TCP header's
 * offset. Returns false when the packet must be dropped (bad options).
 */
export function seqAdjust(ct: Conn, data: Uint8Array, th: number, dir: 0 | 1): boolean {
  const s = (ct as SeqadjConn).seqadj;
  if (!s || th + 20 > data.length) return true;
  const mine = s[dir];
  const other = s[1 - dir]!;
  const seq = get32(data, th + 4);
  const seqoff = after(seq, mine.pos) ? mine.after : mine.before;
  replace32(data, th, th + 4, (seq + seqoff) >>> 0);
  if (!(data[th + 13]! & 0x10)) return true;
  replace32(data, th, th + 8, ackAdjusted(other, get32(data, th + 8)));
  return sackAdjust(data, th, other);
}
