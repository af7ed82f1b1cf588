/**
 * ARP (RFC 826) for Ethernet and IPv4: constants and accessors on a packet
 * held in a byte array at an offset (the offsets of the sender and target
 * fields assume 6-byte hardware and 4-byte protocol addresses).
 */
import { get16, get32, put16, put32 } from './bytes.js';

/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_LEN = 28;
/** Hardware type Ethernet. */
export const ARPHRD_ETHER = 1;
/** ARP request. */
export const ARPOP_REQUEST = 1;
/** ARP reply. */
export const ARPOP_REPLY = 2;

/** Offset of the sender hardware address. */
export const ARP_SHA_OFF = 8;
/** Offset of the sender protocol address. */
export const ARP_SPA_OFF = 14;
/** Offset of the target hardware address. */
export const ARP_THA_OFF = 18;
/** Offset of the target protocol address. */
export const ARP_TPA_OFF = 24;

/** Hardware type. */
export function arpHrd(buf: Uint8Array, off: number): number {
  return get16(buf, off);
}

/** Protocol type (an EtherType). */
export function arpPro(buf: Uint8Array, off: number): number {
  return get16(buf, off + 2);
}

/** Hardware address length. */
export function arpHln(buf: Uint8Array, off: number): number {
  return buf[off + 4]!;
}

/** Protocol address length. */
export function arpPln(buf: Uint8Array, off: number): number {
  return buf[off + 5]!;
}

/** Operation. */
export function arpOp(buf: Uint8Array, off: number): number {
  return get16(buf, off + 6);
}

/** Sender IPv4 address as an unsigned 32-bit number. */
export function arpSpa(buf: Uint8Array, off: number): number {
  return get32(buf, off + ARP_SPA_OFF);
}

/** Target IPv4 address as an unsigned 32-bit number. */
export function arpTpa(buf: Uint8Array, off: number): number {
  return get32(buf, off + ARP_TPA_OFF);
}

/** Sets the operation. */
export function setArpOp(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 6, v);
}

/** Sets the sender IPv4 address. */
export function setArpSpa(buf: Uint8Array, off: number, v: number): void {
  put32(buf, off + ARP_SPA_OFF, v);
}

/** Sets the target IPv4 address. */
export function setArpTpa(buf: Uint8Array, off: number, v: number): void {
  put32(buf, off + ARP_TPA_OFF, v);
}
