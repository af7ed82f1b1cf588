/**
 * ICMP for IPv4 (RFC 792): message types and codes, and field accessors on
 * a message held in a byte array at a given offset.
 */
import { get16, get32, put16, put32 } from './bytes.js';

/** Length of the ICMP header (type, code, checksum and the 4-byte rest). */
export const ICMP_HLEN = 8;

/** Echo reply. */
export const ICMP_ECHOREPLY = 0;
/** Destination unreachable. */
export const ICMP_DEST_UNREACH = 3;
/** Source quench. */
export const ICMP_SOURCE_QUENCH = 4;
/** Redirect. */
export const ICMP_REDIRECT = 5;
/** Echo request. */
export const ICMP_ECHO = 8;
/** Router advertisement. */
export const ICMP_ROUTERADVERT = 9;
/** Router solicitation. */
export const ICMP_ROUTERSOLICIT = 10;
/** Time exceeded. */
export const ICMP_TIME_EXCEEDED = 11;
/** Parameter problem. */
export const ICMP_PARAMETERPROB = 12;
/** Timestamp request. */
export const ICMP_TIMESTAMP = 13;
/** Timestamp reply. */
export const ICMP_TIMESTAMPREPLY = 14;
/** Information request. */
export const ICMP_INFO_REQUEST = 15;
/** Information reply. */
export const ICMP_INFO_REPLY = 16;
/** Address mask request. */
export const ICMP_ADDRESS = 17;
/** Address mask reply. */
export const ICMP_ADDRESSREPLY = 18;

/** Destination unreachable code: network unreachable. */
export const ICMP_NET_UNREACH = 0;
/** Destination unreachable code: host unreachable. */
export const ICMP_HOST_UNREACH = 1;
/** Destination unreachable code: protocol unreachable. */
export const ICMP_PROT_UNREACH = 2;
/** Destination unreachable code: port unreachable. */
export const ICMP_PORT_UNREACH = 3;
/** Destination unreachable code: fragmentation needed and DF set (next-hop MTU in bytes 6-7). */
export const ICMP_FRAG_NEEDED = 4;
/** Destination unreachable code: source route failed. */
export const ICMP_SR_FAILED = 5;
/** Destination unreachable code: destination network unknown. */
export const ICMP_NET_UNKNOWN = 6;
/** Destination unreachable code: destination host unknown. */
export const ICMP_HOST_UNKNOWN = 7;
/** Destination unreachable code: source host isolated. */
export const ICMP_HOST_ISOLATED = 8;
/** Destination unreachable code: network administratively prohibited. */
export const ICMP_NET_ANO = 9;
/** Destination unreachable code: host administratively prohibited. */
export const ICMP_HOST_ANO = 10;
/** Destination unreachable code: network unreachable for TOS. */
export const ICMP_NET_UNR_TOS = 11;
/** Destination unreachable code: host unreachable for TOS. */
export const ICMP_HOST_UNR_TOS = 12;
/** Destination unreachable code: communication administratively prohibited (filtered). */
export const ICMP_PKT_FILTERED = 13;
/** Destination unreachable code: host precedence violation. */
export const ICMP_PREC_VIOLATION = 14;
/** Destination unreachable code: precedence cutoff in effect. */
export const ICMP_PREC_CUTOFF = 15;

/** Redirect code: for the network. */
export const ICMP_REDIR_NET = 0;
/** Redirect code: for the host. */
export const ICMP_REDIR_HOST = 1;
/** Redirect code: for the network and TOS. */
export const ICMP_REDIR_NETTOS = 2;
/** Redirect code: for the host and TOS. */
export const ICMP_REDIR_HOSTTOS = 3;

/** Time exceeded code: TTL exceeded in transit. */
export const ICMP_EXC_TTL = 0;
/** Time exceeded code: fragment reassembly time exceeded. */
export const ICMP_EXC_FRAGTIME = 1;

/** Whether `type` is an error message that quotes the offending datagram (as the kernel's icmp_is_err). */
export function icmpIsError(type: number): boolean {
  return (
    type === ICMP_DEST_UNREACH ||
    type === ICMP_SOURCE_QUENCH ||
    type === ICMP_REDIRECT ||
    type === ICMP_TIME_EXCEEDED ||
    type === ICMP_PARAMETERPROB
  );
}

/** Whether messages of `type` carry an identifier and a sequence number in bytes 4-7. */
export function icmpHasIdSeq(type: number): boolean {
  return type === ICMP_ECHOREPLY || type === ICMP_ECHO || (type >= ICMP_TIMESTAMP && type <= ICMP_ADDRESSREPLY);
}

/** Type. */
export function icmpType(buf: Uint8Array, off: number): number {
  return buf[off]!;
}

/** Code. */
export function icmpCode(buf: Uint8Array, off: number): number {
  return buf[off + 1]!;
}

/** Checksum field. */
export function icmpCheck(buf: Uint8Array, off: number): number {
  return get16(buf, off + 2);
}

/** Identifier (echo, timestamp, information and address mask messages). */
export function icmpId(buf: Uint8Array, off: number): number {
  return get16(buf, off + 4);
}

/** Sequence number (echo, timestamp, information and address mask messages). */
export function icmpSeq(buf: Uint8Array, off: number): number {
  return get16(buf, off + 6);
}

/** Bytes 4-7 as an unsigned 32-bit number (the redirect's gateway address). */
export function icmpRest(buf: Uint8Array, off: number): number {
  return get32(buf, off + 4);
}

/** Next-hop MTU of a fragmentation-needed message (bytes 6-7). */
export function icmpMtu(buf: Uint8Array, off: number): number {
  return get16(buf, off + 6);
}

/** Sets the type. */
export function setIcmpType(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
}

/** Sets the code. */
export function setIcmpCode(buf: Uint8Array, off: number, v: number): void {
  buf[off + 1] = v & 0xff;
}

/** Sets the checksum field (see checksum.ts to compute it). */
export function setIcmpCheck(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 2, v);
}

/** Sets the identifier. */
export function setIcmpId(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 4, v);
}

/** Sets the sequence number. */
export function setIcmpSeq(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 6, v);
}

/** Sets bytes 4-7 from an unsigned 32-bit number. */
export function setIcmpRest(buf: Uint8Array, off: number, v: number): void {
  put32(buf, off + 4, v);
}
