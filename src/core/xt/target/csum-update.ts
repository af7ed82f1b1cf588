/**
 * Checksum updates done the way the kernel's mangling targets do them, so
 * that the bytes come out identical, including which of the two ones'
 * complement zeros (0x0000 or 0xffff) a field ends up holding:
 *
 * - `csumReplace2`: csum_replace2, 16-bit arithmetic (IP header updates);
 * - `protoCsumReplace2/4`: inet_proto_csum_replace2/4 for a packet whose
 *   checksum is complete (not CHECKSUM_PARTIAL), which go through 32-bit
 *   sums and csum_fold (TCP header updates);
 * - `ipv4ChangeDsfield`: ipv4_change_dsfield's own carry arithmetic (TOS,
 *   DSCP).
 *
 * Values are big-endian words as they sit in the packet; the sums are
 * byte-order independent, so this gives what the little-endian kernel
 * stores.
 */

/** csum16_add: 16-bit addition with the carry folded back in. */
function csum16Add(sum: number, addend: number): number {
  const res = (sum + addend) & 0xffff;
  return (res + (res < addend ? 1 : 0)) & 0xffff;
}

/** csum_add: 32-bit addition with the carry folded back in. */
function csumAdd(sum: number, addend: number): number {
  const res = (sum + addend) >>> 0;
  return (res + (res < addend ? 1 : 0)) >>> 0;
}

/** csum_fold: a 32-bit partial sum folded to 16 bits and complemented. */
function csumFold(sum: number): number {
  let s = (sum & 0xffff) + (sum >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** The 16-bit checksum field at `off`. */
function getField(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

function putField(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

/** csum_replace2: the checksum at `off` after a 16-bit word it covers went from `from` to `to`. */
export function csumReplace2(buf: Uint8Array, off: number, from: number, to: number): void {
  const sum = getField(buf, off);
  const v = csum16Add(csum16Add(~sum & 0xffff, ~from & 0xffff), to & 0xffff);
  putField(buf, off, ~v & 0xffff);
}

/** csum_replace4 (inet_proto_csum_replace4 on a complete checksum): a 32-bit value went from `from` to `to`. */
export function protoCsumReplace4(buf: Uint8Array, off: number, from: number, to: number): void {
  const unfolded = getField(buf, off);
  const tmp = csumAdd(~unfolded >>> 0, ~from >>> 0);
  putField(buf, off, csumFold(csumAdd(tmp, to >>> 0)));
}

/** inet_proto_csum_replace2 on a complete checksum: a 16-bit word went from `from` to `to`. */
export function protoCsumReplace2(buf: Uint8Array, off: number, from: number, to: number): void {
  protoCsumReplace4(buf, off, from & 0xffff, to & 0xffff);
}

/**
 * ipv4_change_dsfield: sets the TOS byte of the IPv4 header at `ip` to
 * (tos & mask) | value and adjusts the header checksum with the kernel's
 * own carry handling.
 */
export function ipv4ChangeDsfield(buf: Uint8Array, ip: number, mask: number, value: number): void {
  const tos = buf[ip + 1]!;
  const dsfield = ((tos & mask) | value) & 0xff;
  let check = getField(buf, ip + 10);
  check += tos;
  if ((check + 1) >>> 16) check = (check + 1) & 0xffff;
  check = (check - dsfield) >>> 0;
  check = (check + (check >>> 16)) >>> 0;
  putField(buf, ip + 10, check & 0xffff);
  buf[ip + 1] = dsfield;
}
