/**
 * The IPv4 header (RFC 791): protocol numbers, flag bits, field accessors
 * that read and write a header held in a byte array at a given offset, and
 * the options list.
 *
 * Addresses are unsigned 32-bit numbers here; the fragment offset is in
 * 8-byte units, as in the header.
 */
import { get16, get32, put16, put32 } from './bytes.js';

/** IPv4 protocol numbers (the header's protocol field). */
export const IPPROTO_IP = 0;
/** ICMP. */
export const IPPROTO_ICMP = 1;
/** IGMP. */
export const IPPROTO_IGMP = 2;
/** IPv4 in IPv4. */
export const IPPROTO_IPIP = 4;
/** TCP. */
export const IPPROTO_TCP = 6;
/** UDP. */
export const IPPROTO_UDP = 17;
/** IPv6 in IPv4. */
export const IPPROTO_IPV6 = 41;
/** GRE. */
export const IPPROTO_GRE = 47;
/** IPsec ESP. */
export const IPPROTO_ESP = 50;
/** IPsec AH. */
export const IPPROTO_AH = 51;
/** ICMPv6. */
export const IPPROTO_ICMPV6 = 58;
/** SCTP. */
export const IPPROTO_SCTP = 132;
/** UDP-Lite. */
export const IPPROTO_UDPLITE = 136;

/** Length of an IPv4 header without options. */
export const IPV4_HLEN = 20;
/** The reserved ("congestion") flag bit of the fragment field. */
export const IP_CE = 0x8000;
/** Don't fragment. */
export const IP_DF = 0x4000;
/** More fragments. */
export const IP_MF = 0x2000;
/** The fragment offset bits of the fragment field. */
export const IP_OFFSET = 0x1fff;

/** IPv4 option kinds. */
export const IPOPT_END = 0;
/** No operation (one byte). */
export const IPOPT_NOOP = 1;
/** Record route. */
export const IPOPT_RR = 7;
/** Timestamp. */
export const IPOPT_TS = 68;
/** Security. */
export const IPOPT_SEC = 130;
/** Loose source route. */
export const IPOPT_LSRR = 131;
/** Stream identifier. */
export const IPOPT_SID = 136;
/** Strict source route. */
export const IPOPT_SSRR = 137;
/** Router alert. */
export const IPOPT_RA = 148;

/** The version field (4 for IPv4). */
export function ipVersion(buf: Uint8Array, off: number): number {
  return buf[off]! >>> 4;
}

/** The header length field, in 32-bit words. */
export function ipIhl(buf: Uint8Array, off: number): number {
  return buf[off]! & 0x0f;
}

/** The header length in bytes (four times the header length field). */
export function ipHeaderLen(buf: Uint8Array, off: number): number {
  return (buf[off]! & 0x0f) << 2;
}

/** The type of service byte (DSCP and ECN). */
export function ipTos(buf: Uint8Array, off: number): number {
  return buf[off + 1]!;
}

/** The total length field. */
export function ipTotLen(buf: Uint8Array, off: number): number {
  return get16(buf, off + 2);
}

/** The identification field. */
export function ipId(buf: Uint8Array, off: number): number {
  return get16(buf, off + 4);
}

/** The whole 16-bit flags and fragment offset field. */
export function ipFragField(buf: Uint8Array, off: number): number {
  return get16(buf, off + 6);
}

/** The fragment offset, in 8-byte units. */
export function ipFragOff(buf: Uint8Array, off: number): number {
  return get16(buf, off + 6) & IP_OFFSET;
}

/** Whether the don't-fragment flag is set. */
export function ipDf(buf: Uint8Array, off: number): boolean {
  return (buf[off + 6]! & 0x40) !== 0;
}

/** Whether the more-fragments flag is set. */
export function ipMf(buf: Uint8Array, off: number): boolean {
  return (buf[off + 6]! & 0x20) !== 0;
}

/** Whether the datagram is a fragment (more fragments follow or the offset is not zero). */
export function ipIsFragment(buf: Uint8Array, off: number): boolean {
  return (get16(buf, off + 6) & (IP_MF | IP_OFFSET)) !== 0;
}

/** The time to live. */
export function ipTtl(buf: Uint8Array, off: number): number {
  return buf[off + 8]!;
}

/** The protocol field. */
export function ipProto(buf: Uint8Array, off: number): number {
  return buf[off + 9]!;
}

/** The header checksum field. */
export function ipCheck(buf: Uint8Array, off: number): number {
  return get16(buf, off + 10);
}

/** The source address as an unsigned 32-bit number. */
export function ipSrc(buf: Uint8Array, off: number): number {
  return get32(buf, off + 12);
}

/** The destination address as an unsigned 32-bit number. */
export function ipDst(buf: Uint8Array, off: number): number {
  return get32(buf, off + 16);
}

/** Sets the version and header length (in 32-bit words) byte. */
export function setIpVersionIhl(buf: Uint8Array, off: number, version: number, ihl: number): void {
  buf[off] = ((version & 0x0f) << 4) | (ihl & 0x0f);
}

/** Sets the type of service byte. */
export function setIpTos(buf: Uint8Array, off: number, v: number): void {
  buf[off + 1] = v & 0xff;
}

/** Sets the total length field. */
export function setIpTotLen(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 2, v);
}

/** Sets the identification field. */
export function setIpId(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 4, v);
}

/** Sets the whole flags and fragment offset field. */
export function setIpFragField(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 6, v);
}

/** Sets the time to live. */
export function setIpTtl(buf: Uint8Array, off: number, v: number): void {
  buf[off + 8] = v & 0xff;
}

/** Sets the protocol field. */
export function setIpProto(buf: Uint8Array, off: number, v: number): void {
  buf[off + 9] = v & 0xff;
}

/** Sets the header checksum field (see checksum.ts to compute it). */
export function setIpCheck(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 10, v);
}

/** Sets the source address. */
export function setIpSrc(buf: Uint8Array, off: number, v: number): void {
  put32(buf, off + 12, v);
}

/** Sets the destination address. */
export function setIpDst(buf: Uint8Array, off: number, v: number): void {
  put32(buf, off + 16, v);
}

/**
 * One IPv4 option as it appears on the wire. End of list (0) and no
 * operation (1) are one byte; every other kind is followed by a length byte
 * (`len`, by default `2 + data.length`) and its data. An end of list
 * followed only by zero bytes is padding and is not listed; otherwise its
 * `data` holds the bytes left after it in the option area.
 * `malformed` marks an option whose length byte is missing, below 2 or runs
 * past the header; its `data` is then whatever bytes were left.
 */
export interface IpOption {
  kind: number;
  len?: number;
  data?: Uint8Array;
  malformed?: true;
}

/** Parses the option area `buf[off, off+len)` of an IPv4 header; never throws. */
export function parseIpv4Options(buf: Uint8Array, off: number, len: number): IpOption[] {
  const out: IpOption[] = [];
  const end = off + len;
  let i = off;
  while (i < end) {
    const kind = buf[i]!;
    if (kind === IPOPT_END) {
      const rest = buf.subarray(i + 1, end);
      if (rest.some((b) => b !== 0)) out.push({ kind, data: rest.slice() });
      break;
    }
    if (kind === IPOPT_NOOP) {
      out.push({ kind });
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
    out.push({ kind, data: buf.slice(i + 2, i + olen) });
    i += olen;
  }
  return out;
}

/** The number of bytes `opts` take on the wire, before padding to a multiple of four. */
export function ipv4OptionsLength(opts: readonly IpOption[]): number {
  let n = 0;
  for (const o of opts) n += o.kind < 2 || (o.malformed && o.len === undefined) ? 1 + (o.data?.length ?? 0) : 2 + (o.data?.length ?? 0);
  return n;
}

/** Writes `opts` at `off` and returns the offset after them (no padding). */
export function writeIpv4Options(buf: Uint8Array, off: number, opts: readonly IpOption[]): number {
  let i = off;
  for (const o of opts) {
    buf[i++] = o.kind;
    const data = o.data ?? new Uint8Array(0);
    if (!(o.kind < 2 || (o.malformed && o.len === undefined))) buf[i++] = o.len ?? data.length + 2;
    buf.set(data, i);
    i += data.length;
  }
  return i;
}
