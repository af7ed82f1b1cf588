/**
 * The Internet checksum (RFC 1071) and the IPv4, TCP, UDP and ICMP checksum
 * fields computed, checked and updated in place.
 *
 * A "sum" here is the ones' complement sum before folding: a plain number
 * that stays well below 2^53 for any datagram, so partial sums can be added
 * together. Only the last step (`checksumFinish`) folds it to 16 bits and
 * complements it.
 */
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, ipDst, ipHeaderLen, ipProto, ipSrc, ipTotLen } from './ipv4.js';

/** The DataView of the last buffer summed (words are read through it). */
let viewOf: ArrayBufferLike | null = null;
let view: DataView | null = null;

/**
 * Adds the 16-bit big-endian words of `buf[off, off+len)` to `initial`.
 * An odd last byte counts as the high byte of a word padded with zero, so
 * a range may only be followed by further ranges when its length is even.
 */
export function checksumPartial(buf: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  if (len >= 64) {
    // 32-bit big-endian words: their sum is congruent (mod 0xffff) to the sum of the 16-bit ones
    if (buf.buffer !== viewOf) {
      viewOf = buf.buffer;
      view = new DataView(buf.buffer);
    }
    const v = view!;
    const base = buf.byteOffset + off;
    const n = len & ~3;
    let acc = 0;
    for (let j = 0; j < n; j += 4) acc += v.getUint32(base + j);
    sum += (acc % 0x10000) + Math.floor(acc / 0x10000);
    off += n;
    len -= n;
  }
  const end = off + len - 1;
  let i = off;
  for (; i < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i === end) sum += buf[i]! << 8;
  return sum;
}

/** Folds a sum to 16 bits and complements it: the value a checksum field holds. */
export function checksumFinish(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** The Internet checksum of `buf[off, off+len)`, starting from the partial sum `initial`. */
export function internetChecksum(buf: Uint8Array, off: number, len: number, initial = 0): number {
  return checksumFinish(checksumPartial(buf, off, len, initial));
}

/** The sum of the IPv4 pseudo header: source, destination, protocol and transport length. */
export function pseudoHeaderSum(src: number, dst: number, proto: number, len: number): number {
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + proto + len;
}

/**
 * The checksum after one 16-bit word covered by it changed from `oldWord`
 * to `newWord` (RFC 1624, eqn. 3), as NAT and TTL updates need.
 */
export function checksumReplace16(check: number, oldWord: number, newWord: number): number {
  return checksumFinish((~check & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff));
}

/** The checksum after one 32-bit value covered by it (an address) changed. */
export function checksumReplace32(check: number, oldValue: number, newValue: number): number {
  const sum =
    (~check & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) +
    (~oldValue & 0xffff) +
    (newValue >>> 16) +
    (newValue & 0xffff);
  return checksumFinish(sum);
}

/** The IPv4 header checksum the header at `off` should carry (its own field counted as zero). */
export function ipv4HeaderChecksum(buf: Uint8Array, off: number): number {
  const hl = ipHeaderLen(buf, off);
  const field = (buf[off + 10]! << 8) | buf[off + 11]!;
  return checksumFinish(checksumPartial(buf, off, hl) - field);
}

/** Writes the IPv4 header checksum of the header at `off`. */
export function fillIpv4Checksum(buf: Uint8Array, off: number): void {
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  const c = internetChecksum(buf, off, ipHeaderLen(buf, off));
  buf[off + 10] = c >>> 8;
  buf[off + 11] = c & 0xff;
}

/** Whether the IPv4 header at `off` carries a correct checksum. */
export function verifyIpv4Checksum(buf: Uint8Array, off: number): boolean {
  return internetChecksum(buf, off, ipHeaderLen(buf, off)) === 0;
}

/**
 * The TCP (or UDP) checksum over a segment at `off` of `len` bytes between
 * `src` and `dst`, with the checksum field at `off + fieldAt` counted as zero.
 */
function transportChecksum(buf: Uint8Array, off: number, len: number, src: number, dst: number, proto: number, fieldAt: number): number {
  const field = (buf[off + fieldAt]! << 8) | buf[off + fieldAt + 1]!;
  return checksumFinish(checksumPartial(buf, off, len, pseudoHeaderSum(src, dst, proto, len)) - field);
}

/** Writes the checksum of the TCP segment at `off` (`len` bytes, header included). */
export function fillTcpChecksum(buf: Uint8Array, off: number, len: number, src: number, dst: number): void {
  const c = transportChecksum(buf, off, len, src, dst, IPPROTO_TCP, 16);
  buf[off + 16] = c >>> 8;
  buf[off + 17] = c & 0xff;
}

/** Whether the TCP segment at `off` (`len` bytes) carries a correct checksum. */
export function verifyTcpChecksum(buf: Uint8Array, off: number, len: number, src: number, dst: number): boolean {
  return internetChecksum(buf, off, len, pseudoHeaderSum(src, dst, IPPROTO_TCP, len)) === 0;
}

/**
 * Writes the checksum of the UDP datagram at `off` (`len` bytes, header
 * included); a computed zero is sent as 0xffff, zero meaning "no checksum".
 */
export function fillUdpChecksum(buf: Uint8Array, off: number, len: number, src: number, dst: number): void {
  const c = transportChecksum(buf, off, len, src, dst, IPPROTO_UDP, 6) || 0xffff;
  buf[off + 6] = c >>> 8;
  buf[off + 7] = c & 0xff;
}

/** Whether the UDP datagram at `off` (`len` bytes) has no checksum (zero) or a correct one. */
export function verifyUdpChecksum(buf: Uint8Array, off: number, len: number, src: number, dst: number): boolean {
  if (buf[off + 6] === 0 && buf[off + 7] === 0) return true;
  return internetChecksum(buf, off, len, pseudoHeaderSum(src, dst, IPPROTO_UDP, len)) === 0;
}

/** Writes the checksum of the ICMP message at `off` (`len` bytes). */
export function fillIcmpChecksum(buf: Uint8Array, off: number, len: number): void {
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  const c = internetChecksum(buf, off, len);
  buf[off + 2] = c >>> 8;
  buf[off + 3] = c & 0xff;
}

/** Whether the ICMP message at `off` (`len` bytes) carries a correct checksum. */
export function verifyIcmpChecksum(buf: Uint8Array, off: number, len: number): boolean {
  return internetChecksum(buf, off, len) === 0;
}

/**
 * Recomputes the checksums of a whole unfragmented IPv4 datagram at `off`:
 * the header's, and the TCP, UDP or ICMP one when the datagram carries that
 * protocol and is not a fragment. The total length field bounds the data.
 */
export function fillIpv4Checksums(buf: Uint8Array, off: number): void {
  fillIpv4Checksum(buf, off);
  const frag = ((buf[off + 6]! << 8) | buf[off + 7]!) & 0x3fff;
  if (frag !== 0) return;
  const hl = ipHeaderLen(buf, off);
  const l4 = off + hl;
  const len = ipTotLen(buf, off) - hl;
  const proto = ipProto(buf, off);
  if (proto === IPPROTO_TCP && len >= 20) fillTcpChecksum(buf, l4, len, ipSrc(buf, off), ipDst(buf, off));
  else if (proto === IPPROTO_UDP && len >= 8) fillUdpChecksum(buf, l4, len, ipSrc(buf, off), ipDst(buf, off));
  else if (proto === IPPROTO_ICMP && len >= 4) fillIcmpChecksum(buf, l4, len);
}
