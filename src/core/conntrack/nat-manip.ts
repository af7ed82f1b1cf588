/**
 * Rewriting a datagram's source or destination for NAT, in place, the way
 * nf_nat_proto.c does it: the transport header first (ports or the ICMP
 * query id, with the checksum updated incrementally, RFC 1624 eqn. 3, as
 * inet_proto_csum_replace*), then the IPv4 address with its header
 * checksum (csum_replace4). The same code rewrites the header quoted
 * inside an ICMP error (at an offset), where a truncated transport header
 * gets its ports but no checksum update.
 *
 * Checksums are treated as complete (CHECKSUM_NONE): a locally generated
 * packet here already carries its full checksum, which the incremental
 * update keeps exact.
 */

import { get16, get32, put16, put32 } from '../wire/bytes.js';
import { checksumReplace16, checksumReplace32 } from '../wire/checksum.js';
import { IPPROTO_GRE, IPPROTO_ICMP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE } from '../wire/ipv4.js';

/** Folds a ones' complement sum (below 2^31) to 16 bits and complements it (csum_fold). */
function fold(sum: number): number {
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The checksum field `check` after a 16-bit word it covers changed from `from` to `to` (csum_replace2). */
export const csumReplace2 = checksumReplace16;

/** The checksum field `check` after a 32-bit value it covers (an address) changed (csum_replace4). */
export const csumReplace4 = checksumReplace32;

/** Updates the 16-bit checksum at `at` for a 32-bit value that changes from `from` to `to`. */
function fix4(b: Uint8Array, at: number, from: number, to: number): void {
  put16(b, at, csumReplace4(get16(b, at), from, to));
}

/** Updates the 16-bit checksum at `at` for a 16-bit value that changes from `from` to `to`. */
function fix2(b: Uint8Array, at: number, from: number, to: number): void {
  put16(b, at, csumReplace2(get16(b, at), from, to));
}

let crcTable: Uint32Array | null = null;

/** CRC32c (Castagnoli, reflected), the SCTP checksum, over buf[off, end). */
function crc32c(buf: Uint8Array, off: number, end: number): number {
  let t = crcTable;
  if (!t) {
    t = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      t[i] = c >>> 0;
    }
    crcTable = t;
  }
  let crc = 0xffffffff;
  for (let i = off; i < end; i++) crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return ~crc >>> 0;
}

/** ICMP types whose header carries a query id (echo, timestamp, information, address mask). */
function icmpHasId(type: number): boolean {
  return type === 0 || type === 8 || type === 13 || type === 14 || type === 15 || type === 16 || type === 17 || type === 18;
}

/**
 * Rewrites the source (`src` true) or destination of the IPv4 datagram
 * whose header starts at `iph` in `buf`, of which `len` bytes are the
 * packet (skb->len: the end of the outer datagram). `proto` is the
 * connection's protocol (which transport rewrite applies), `addr` the new
 * address, `port` the new port (TCP, UDP, UDP-Lite, SCTP; GRE's call id
 * for a destination), `icmpId` the new ICMP query id. Returns false when
 * the packet is too short for the headers the rewrite must touch (the
 * kernel then drops it).
 */
export function manipIpv4(
  buf: Uint8Array,
  len: number,
  iph: number,
  proto: number,
  src: boolean,
  addr: number,
  port: number,
  icmpId: number,
): boolean {
  if (iph + 20 > len) return false;
  const hdr = iph + ((buf[iph]! & 0x0f) << 2);
  const addrAt = src ? iph + 12 : iph + 16;
  switch (proto) {
    case IPPROTO_TCP: {
      // Conntrack guarantees 8 bytes; a quoted header may have no more.
      if (hdr + 8 > len) return false;
      const portAt = src ? hdr : hdr + 2;
      const oldPort = get16(buf, portAt);
      put16(buf, portAt, port);
      if (hdr + 20 > len) break;
      fix4(buf, hdr + 16, get32(buf, addrAt), addr);
      fix2(buf, hdr + 16, oldPort, port);
      break;
    }
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE: {
      if (hdr + 8 > len) return false;
      const portAt = src ? hdr : hdr + 2;
      // A UDP checksum of zero means none; UDP-Lite always has one.
      if (proto === IPPROTO_UDPLITE || buf[hdr + 6] !== 0 || buf[hdr + 7] !== 0) {
        fix4(buf, hdr + 6, get32(buf, addrAt), addr);
        fix2(buf, hdr + 6, get16(buf, portAt), port);
        if (buf[hdr + 6] === 0 && buf[hdr + 7] === 0) put16(buf, hdr + 6, 0xffff);
      }
      put16(buf, portAt, port);
      break;
    }
    case IPPROTO_SCTP: {
      if (hdr + 8 > len) return false;
      put16(buf, src ? hdr : hdr + 2, port);
      // The checksum is recomputed only when the whole 12-byte header is there.
      if (hdr + 12 <= len) {
        buf[hdr + 8] = buf[hdr + 9] = buf[hdr + 10] = buf[hdr + 11] = 0;
        const crc = crc32c(buf, hdr, len);
        // The CRC goes on the wire least significant byte first.
        buf[hdr + 8] = crc & 0xff;
        buf[hdr + 9] = (crc >>> 8) & 0xff;
        buf[hdr + 10] = (crc >>> 16) & 0xff;
        buf[hdr + 11] = crc >>> 24;
      }
      break;
    }
    case IPPROTO_ICMP: {
      if (hdr + 8 > len) return false;
      if (icmpHasId(buf[hdr]!)) {
        fix2(buf, hdr + 2, get16(buf, hdr + 4), icmpId);
        put16(buf, hdr + 4, icmpId);
      }
      break;
    }
    case IPPROTO_GRE: {
      if (hdr + 8 > len) return false;
      // Only the PPTP call id (GRE version 1) of a destination rewrite.
      if (!src) {
        const version = buf[hdr + 1]! & 0x07;
        if (version === 1) put16(buf, hdr + 6, port);
        else if (version !== 0) return false;
      }
      break;
    }
    default:
      break;
  }
  fix4(buf, iph + 10, get32(buf, addrAt), addr);
  put32(buf, addrAt, addr);
  return true;
}

/** The Internet checksum of buf[off, end) (an ICMP message), as the field should hold it. */
export function icmpChecksum(buf: Uint8Array, off: number, end: number): number {
  let sum = 0;
  let i = off;
  for (; i + 1 < end; i += 2) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    // Keep the sum small: fold the carries back in now and then.
    if (sum > 0x7fff0000) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += buf[i]! << 8;
  return fold(sum);
}
