/** The UDP header (RFC 768): field accessors on a header held in a byte array at a given offset. */
import { get16, put16 } from './bytes.js';

/** Length of the UDP header. */
export const UDP_HLEN = 8;

/** Source port. */
export function udpSport(buf: Uint8Array, off: number): number {
  return get16(buf, off);
}

/** Destination port. */
export function udpDport(buf: Uint8Array, off: number): number {
  return get16(buf, off + 2);
}

/** Length field (header and data). */
export function udpLen(buf: Uint8Array, off: number): number {
  return get16(buf, off + 4);
}

/** Checksum field (zero: none). */
export function udpCheck(buf: Uint8Array, off: number): number {
  return get16(buf, off + 6);
}

/** Sets the source port. */
export function setUdpSport(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off, v);
}

/** Sets the destination port. */
export function setUdpDport(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 2, v);
}

/** Sets the length field. */
export function setUdpLen(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 4, v);
}

/** Sets the checksum field (see checksum.ts to compute it). */
export function setUdpCheck(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 6, v);
}
