/**
 * The parts of what a machine emits that the kernel fills with values nobody
 * can reproduce, and how they are masked before two observations are
 * compared. Measured on Linux 6.x (see README.md, "Unpredictable fields"):
 *
 * - IPv4 ID of the ICMP messages the kernel sends itself (echo and
 *   timestamp replies, every error, redirects): they leave without DF from a
 *   socket with no peer, so the ID comes from a per-namespace keyed hash of
 *   the addresses plus a counter advanced by a random step. TCP resets (from
 *   the stack and from REJECT) carry DF and ID 0 and are compared exactly.
 * - IPv4 header checksum of those messages, which depends on the ID: it is
 *   masked too, but must verify on both sides.
 * - Receive and transmit timestamps of ICMP timestamp replies (milliseconds
 *   since midnight UTC, from the wall clock), and the ICMP checksum with
 *   them, which must verify on both sides.
 * - IPv6 flow label of the ICMPv6 messages and TCP resets the stack sends
 *   itself: a hash of the flow under a secret drawn at boot. (The resets of
 *   ip6tables' REJECT have flow label 0, forwarded packets keep theirs; only
 *   forwarded ICMPv6 and RST packets are thus masked without need.)
 *
 * Kernel log lines of packets the machine generated (`IN=` empty, or an
 * input interface with `MAC=` empty for its broadcasts looped back to
 * itself) have the same fields: `ID=` of IPv4 packets without DF and
 * `FLOWLBL=` of IPv6 packets are masked.
 */
import { decodeFrame, icmp6IsError, icmpIsError } from './decode.js';

/** What masking did to one frame. */
export interface MaskedFrame {
  /** A copy of the frame with the unpredictable bits set to zero. */
  bytes: Uint8Array;
  /** Names of the masked fields, e.g. ["ip.id", "ip.check"]. */
  masked: string[];
  /** Checksums over masked fields that do not verify (must be empty on both sides). */
  badChecksums: string[];
}

const get16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;

/** Offset and EtherType of the network header (after one optional 802.1Q tag). */
function networkHeader(b: Uint8Array): { type: number; off: number } | undefined {
  if (b.length < 14) return undefined;
  let off = 12;
  let type = get16(b, off);
  if (type === 0x8100 && b.length >= 18) {
    off += 4;
    type = get16(b, off);
  }
  return { type, off: off + 2 };
}

/** ICMP (IPv4) types the kernel answers or reports with, from icmp_reply() and icmp_send(). */
function kernelIcmpType(type: number): boolean {
  return type === 0 || type === 14 || icmpIsError(type);
}

/** Masks the unpredictable fields of one emitted frame (see the module comment). */
export function maskFrame(frame: Uint8Array): MaskedFrame {
  // a copy even when the frame is a Buffer (whose slice() is a view)
  const b = new Uint8Array(frame);
  const masked: string[] = [];
  const nh = networkHeader(b);
  if (nh === undefined) return { bytes: b, masked, badChecksums: [] };
  const { type, off } = nh;
  if (type === 0x0800 && b.length >= off + 20 && b[off]! >> 4 === 4) {
    const ihl = (b[off]! & 0x0f) * 4;
    const frag = get16(b, off + 6);
    const proto = b[off + 9]!;
    const l4 = off + ihl;
    if (proto === 1 && (frag & 0x4000) === 0 && (frag & 0x1fff) === 0 && b.length >= l4 + 1 && kernelIcmpType(b[l4]!)) {
      b[off + 4] = 0;
      b[off + 5] = 0;
      b[off + 10] = 0;
      b[off + 11] = 0;
      masked.push('ip.id', 'ip.check');
      if (b[l4] === 14 && b.length >= l4 + 20) {
        b.fill(0, l4 + 12, l4 + 20);
        b[l4 + 2] = 0;
        b[l4 + 3] = 0;
        masked.push('icmp.receive-timestamp', 'icmp.transmit-timestamp', 'icmp.check');
      }
    }
  } else if (type === 0x86dd && b.length >= off + 40 && b[off]! >> 4 === 6) {
    const next = b[off + 6]!;
    const l4 = off + 40;
    const icmp6 = next === 58 && b.length > l4 && (icmp6IsError(b[l4]!) || b[l4] === 129);
    const rst = next === 6 && b.length >= l4 + 14 && (b[l4 + 13]! & 0x04) !== 0;
    if (icmp6 || rst) {
      b[off + 1] = b[off + 1]! & 0xf0;
      b[off + 2] = 0;
      b[off + 3] = 0;
      masked.push('ip6.flow');
    }
  }
  let badChecksums: string[] = [];
  if (masked.length > 0) {
    // The masked fields are checked here: the original frame's checksums must hold.
    const wanted = new Set(masked.filter((m) => m.endsWith('.check')));
    badChecksums = decodeFrame(frame).badChecksums.filter((c) => wanted.has(c.split(' ')[0]!));
  }
  return { bytes: b, masked, badChecksums };
}

/**
 * Masks the unpredictable values of one kernel log line (see the module
 * comment): lines of packets the machine sent (`IN=` empty), and of its own
 * broadcasts looped back to it (an input interface but `MAC=` empty).
 */
export function maskLogLine(line: string): string {
  if (!/(^|\s)IN= /.test(line) && !/(^|\s)IN=\S+ OUT=\S* MAC= /.test(line)) return line;
  if (/ FLOWLBL=\d+ /.test(line)) return line.replace(/ FLOWLBL=\d+ /, ' FLOWLBL=* ');
  const id = / ID=\d+ (?:(?:CE |DF |MF |FRAG:\d+ )*)/.exec(line);
  if (id && !/ DF /.test(id[0])) return line.replace(/ ID=\d+ /, ' ID=* ');
  return line;
}
