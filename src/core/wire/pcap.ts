/**
 * Capture files in the classic libpcap format: read in either byte order
 * with microsecond or nanosecond timestamps (and the "modified" variant
 * with its longer record header); written little-endian with microsecond
 * (or on request nanosecond) timestamps. Also the types shared with the
 * pcapng reader and writer.
 */
import { plainBytes } from './bytes.js';

/** Link type of Ethernet frames. */
export const LINKTYPE_ETHERNET = 1;
/** Link type of raw IPv4 or IPv6 datagrams. */
export const LINKTYPE_RAW = 101;
/** Link type of the Linux "cooked" header (tcpdump -i any, older). */
export const LINKTYPE_LINUX_SLL = 113;
/** Link type of raw IPv4 datagrams. */
export const LINKTYPE_IPV4 = 228;
/** Link type of the Linux "cooked" header, version 2 (tcpdump -i any). */
export const LINKTYPE_LINUX_SLL2 = 276;

/** Snapshot length written when none is given (tcpdump's default). */
export const DEFAULT_SNAPLEN = 262144;

/**
 * One captured packet. `data` is what was captured (at most the snapshot
 * length), `origLen` the length on the wire. `ifIndex` (the interface's
 * position in the file) and `ifName` come from pcapng files; `comment` from
 * a pcapng packet comment.
 */
export interface CapturedPacket {
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  origLen: number;
  linkType: number;
  ifIndex?: number;
  ifName?: string;
  comment?: string;
}

/** A capture interface: the single one of a pcap file, or one pcapng IDB. */
export interface CaptureInterface {
  linkType: number;
  snapLen: number;
  name?: string;
}

/** A whole capture file: its format, interfaces and packets in file order. */
export interface Capture {
  format: 'pcap' | 'pcapng';
  interfaces: CaptureInterface[];
  packets: CapturedPacket[];
}

/** A packet to write: the fields of CapturedPacket, most optional. */
export interface PacketToWrite {
  tsSec: number;
  tsNsec: number;
  data: Uint8Array;
  origLen?: number;
  linkType?: number;
  ifIndex?: number;
  ifName?: string;
  comment?: string;
}

/** The error readers throw for a file they cannot read; its message is meant for the user. */
export class CaptureError extends Error {
  override name = 'CaptureError';
}

const MAGIC_USEC = 0xa1b2c3d4;
const MAGIC_NSEC = 0xa1b23c4d;
const MAGIC_MODIFIED = 0xa1b2cd34;
const FILE_HEADER_LEN = 24;

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Whether `bytes` start with a libpcap file magic number, in either byte order. */
export function isPcap(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const v = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, false);
  return [MAGIC_USEC, MAGIC_NSEC, MAGIC_MODIFIED].some((m) => v === m || v === swap32(m));
}

/** Reads a libpcap file; packet data are copies. Throws CaptureError when it is not one or is cut short. */
export function readPcap(input: Uint8Array): Capture {
  const bytes = plainBytes(input);
  if (bytes.length < 4 || !isPcap(bytes)) throw new CaptureError('not a pcap file: unknown magic number');
  if (bytes.length < FILE_HEADER_LEN) {
    throw new CaptureError(`truncated pcap file header: ${bytes.length} of ${FILE_HEADER_LEN} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const be = view.getUint32(0, false);
  const little = !(be === MAGIC_USEC || be === MAGIC_NSEC || be === MAGIC_MODIFIED);
  const magic = view.getUint32(0, little);
  const nanos = magic === MAGIC_NSEC;
  const recordLen = magic === MAGIC_MODIFIED ? 24 : 16;
  const major = view.getUint16(4, little);
  if (major !== 2) throw new CaptureError(`unsupported pcap version ${major}.${view.getUint16(6, little)}`);
  const snapLen = view.getUint32(16, little);
  const linkType = view.getUint32(20, little) & 0x03ffffff;
  const packets: CapturedPacket[] = [];
  let off = FILE_HEADER_LEN;
  while (off < bytes.length) {
    const n = packets.length + 1;
    if (bytes.length - off < recordLen) {
      throw new CaptureError(`truncated pcap record header of packet ${n} at offset ${off}: ${bytes.length - off} of ${recordLen} bytes`);
    }
    const tsSec = view.getUint32(off, little);
    const frac = view.getUint32(off + 4, little);
    const capLen = view.getUint32(off + 8, little);
    const origLen = view.getUint32(off + 12, little);
    const start = off + recordLen;
    if (capLen > bytes.length - start) {
      throw new CaptureError(`truncated pcap file: packet ${n} at offset ${off} has ${capLen} captured bytes, only ${bytes.length - start} left`);
    }
    packets.push({
      tsSec,
      tsNsec: nanos ? frac : frac * 1000,
      data: bytes.slice(start, start + capLen),
      origLen,
      linkType,
    });
    off = start + capLen;
  }
  return { format: 'pcap', interfaces: [{ linkType, snapLen }], packets };
}

/** Options of writePcap: link type (default Ethernet), snapshot length, nanosecond timestamps. */
export interface PcapWriteOptions {
  linkType?: number;
  snapLen?: number;
  nanosecond?: boolean;
}

/**
 * Writes packets as a little-endian libpcap file with microsecond
 * timestamps (nanosecond when asked). Every packet shares the file's one
 * link type; their own `linkType`, interface and comment are not written.
 */
export function writePcap(packets: readonly PacketToWrite[], options: PcapWriteOptions = {}): Uint8Array {
  let size = FILE_HEADER_LEN;
  for (const p of packets) size += 16 + p.data.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setUint32(0, options.nanosecond ? MAGIC_NSEC : MAGIC_USEC, true);
  view.setUint16(4, 2, true);
  view.setUint16(6, 4, true);
  view.setUint32(16, options.snapLen ?? DEFAULT_SNAPLEN, true);
  view.setUint32(20, options.linkType ?? LINKTYPE_ETHERNET, true);
  let off = FILE_HEADER_LEN;
  for (const p of packets) {
    view.setUint32(off, p.tsSec, true);
    view.setUint32(off + 4, options.nanosecond ? p.tsNsec : Math.floor(p.tsNsec / 1000), true);
    view.setUint32(off + 8, p.data.length, true);
    view.setUint32(off + 12, p.origLen ?? p.data.length, true);
    out.set(p.data, off + 16);
    off += 16 + p.data.length;
  }
  return out;
}
