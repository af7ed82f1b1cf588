/**
 * Capture files in the pcapng format: read (sections in either byte order,
 * interface descriptions with their name, timestamp resolution and offset,
 * enhanced, simple and obsolete packet blocks; other blocks skipped) and
 * written (little-endian, one interface description per interface, each
 * with its name and nanosecond resolution, and enhanced packet blocks).
 * Also `readCapture`, which takes either format.
 */
import { plainBytes } from './bytes.js';
import {
  type Capture,
  CaptureError,
  type CaptureInterface,
  type CapturedPacket,
  DEFAULT_SNAPLEN,
  LINKTYPE_ETHERNET,
  type PacketToWrite,
  isPcap,
  readPcap,
} from './pcap.js';

const BT_SHB = 0x0a0d0d0a;
const BT_IDB = 1;
const BT_PB = 2;
const BT_SPB = 3;
const BT_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

const OPT_ENDOFOPT = 0;
const OPT_COMMENT = 1;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const IF_TSOFFSET = 14;

/** Whether `bytes` start with a pcapng section header block. */
export function isPcapng(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x0a && bytes[1] === 0x0d && bytes[2] === 0x0d && bytes[3] === 0x0a;
}

/** An interface as the reader tracks it: its description plus how to turn timestamps into time. */
interface ReadInterface extends CaptureInterface {
  unitsPerSec: bigint;
  tsOffset: bigint;
}

const utf8 = new TextDecoder('utf-8');

/** Calls `each(code, valueOffset, length)` for the options in `[off, end)`; stops at the end marker. */
function forOptions(view: DataView, off: number, end: number, little: boolean, each: (code: number, at: number, len: number) => void): void {
  while (off + 4 <= end) {
    const code = view.getUint16(off, little);
    const len = view.getUint16(off + 2, little);
    if (code === OPT_ENDOFOPT) return;
    if (off + 4 + len > end) return;
    each(code, off + 4, len);
    off += 4 + ((len + 3) & ~3);
  }
}

function timestamp(iface: ReadInterface, high: number, low: number): { tsSec: number; tsNsec: number } {
  const ts = (BigInt(high) << 32n) | BigInt(low);
  const sec = ts / iface.unitsPerSec + iface.tsOffset;
  const frac = ts % iface.unitsPerSec;
  return { tsSec: Number(sec), tsNsec: Number((frac * 1_000_000_000n) / iface.unitsPerSec) };
}

/** Reads a pcapng file; packet data are copies. Throws CaptureError when it is not one or a block is cut short or inconsistent. */
export function readPcapng(input: Uint8Array): Capture {
  const bytes = plainBytes(input);
  if (!isPcapng(bytes)) throw new CaptureError('not a pcapng file: it does not start with a section header block');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const all: ReadInterface[] = [];
  let section: ReadInterface[] = [];
  const packets: CapturedPacket[] = [];
  let little = true;
  let off = 0;
  let blockNo = 0;
  while (off < bytes.length) {
    blockNo++;
    const left = bytes.length - off;
    if (left < 12) throw new CaptureError(`truncated pcapng file: block ${blockNo} at offset ${off} has ${left} bytes, fewer than a block header`);
    const type = view.getUint32(off, little);
    if (type === BT_SHB) {
      const magic = view.getUint32(off + 8, true);
      if (magic === BYTE_ORDER_MAGIC) little = true;
      else if (magic === 0x4d3c2b1a) little = false;
      else throw new CaptureError(`bad pcapng section header at offset ${off}: unknown byte-order magic`);
    }
    const len = view.getUint32(off + 4, little);
    if (len < 12 || len % 4 !== 0) throw new CaptureError(`bad pcapng block ${blockNo} at offset ${off}: length ${len}`);
    if (len > left) throw new CaptureError(`truncated pcapng file: block ${blockNo} at offset ${off} has length ${len}, only ${left} bytes left`);
    if (view.getUint32(off + len - 4, little) !== len) {
      throw new CaptureError(`bad pcapng block ${blockNo} at offset ${off}: trailing length differs from ${len}`);
    }
    const body = off + 8;
    const end = off + len - 4;
    const need = (n: number, what: string): void => {
      if (end - body < n) throw new CaptureError(`bad pcapng ${what} block ${blockNo} at offset ${off}: length ${len} too short`);
    };
    if (type === BT_SHB) {
      need(16, 'section header');
      const major = view.getUint16(body + 4, little);
      if (major !== 1) throw new CaptureError(`unsupported pcapng version ${major}.${view.getUint16(body + 6, little)}`);
      section = [];
    } else if (type === BT_IDB) {
      need(8, 'interface description');
      const iface: ReadInterface = {
        linkType: view.getUint16(body, little),
        snapLen: view.getUint32(body + 4, little),
        unitsPerSec: 1_000_000n,
        tsOffset: 0n,
      };
      forOptions(view, body + 8, end, little, (code, at, olen) => {
        if (code === IF_NAME) iface.name = utf8.decode(bytes.subarray(at, at + olen)).replace(/\0+$/, '');
        else if (code === IF_TSRESOL && olen >= 1) {
          const r = bytes[at]!;
          iface.unitsPerSec = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
        } else if (code === IF_TSOFFSET && olen >= 8) iface.tsOffset = view.getBigInt64(at, little);
      });
      section.push(iface);
      all.push(iface);
    } else if (type === BT_EPB || type === BT_PB) {
      const what = type === BT_EPB ? 'enhanced packet' : 'packet';
      need(20, what);
      const ifId = type === BT_EPB ? view.getUint32(body, little) : view.getUint16(body, little);
      const iface = section[ifId];
      if (iface === undefined) throw new CaptureError(`bad pcapng ${what} block ${blockNo} at offset ${off}: no interface ${ifId}`);
      const capLen = view.getUint32(body + 12, little);
      const origLen = view.getUint32(body + 16, little);
      const data = body + 20;
      if (capLen > end - data) throw new CaptureError(`bad pcapng ${what} block ${blockNo} at offset ${off}: captured length ${capLen} exceeds the block`);
      const p: CapturedPacket = {
        ...timestamp(iface, view.getUint32(body + 4, little), view.getUint32(body + 8, little)),
        data: bytes.slice(data, data + capLen),
        origLen,
        linkType: iface.linkType,
        ifIndex: all.indexOf(iface),
      };
      if (iface.name !== undefined) p.ifName = iface.name;
      forOptions(view, data + ((capLen + 3) & ~3), end, little, (code, at, olen) => {
        if (code === OPT_COMMENT) p.comment = utf8.decode(bytes.subarray(at, at + olen));
      });
      packets.push(p);
    } else if (type === BT_SPB) {
      need(4, 'simple packet');
      const iface = section[0];
      if (iface === undefined) throw new CaptureError(`bad pcapng simple packet block ${blockNo} at offset ${off}: no interface 0`);
      const origLen = view.getUint32(body, little);
      let capLen = Math.min(origLen, end - body - 4);
      if (iface.snapLen !== 0) capLen = Math.min(capLen, iface.snapLen);
      const p: CapturedPacket = {
        ...timestamp(iface, 0, 0), // no time stamp: the interface's offset, as libpcap gives
        data: bytes.slice(body + 4, body + 4 + capLen),
        origLen,
        linkType: iface.linkType,
        ifIndex: all.indexOf(iface),
      };
      if (iface.name !== undefined) p.ifName = iface.name;
      packets.push(p);
    }
    off += len;
  }
  const interfaces = all.map((i) => {
    const c: CaptureInterface = { linkType: i.linkType, snapLen: i.snapLen };
    if (i.name !== undefined) c.name = i.name;
    return c;
  });
  return { format: 'pcapng', interfaces, packets };
}

/** Reads a libpcap or pcapng file, whichever it is. Throws CaptureError otherwise. */
export function readCapture(bytes: Uint8Array): Capture {
  if (isPcapng(bytes)) return readPcapng(bytes);
  if (isPcap(bytes)) return readPcap(bytes);
  if (bytes.length === 0) throw new CaptureError('empty file: not a pcap or pcapng capture');
  throw new CaptureError('not a pcap or pcapng capture: unknown file format');
}

/** Options of writePcapng: interfaces to declare up front (packets refer to them by `ifIndex` or name). */
export interface PcapngWriteOptions {
  interfaces?: CaptureInterface[];
}

const utf8enc = new TextEncoder();

/** Bytes one option takes: code, length, value padded to four. */
function optionSize(valueLen: number): number {
  return 4 + ((valueLen + 3) & ~3);
}

/**
 * Writes packets as a little-endian pcapng file: a section header, one
 * interface description per interface (with `if_name` when named and
 * `if_tsresol` 9, nanoseconds), then an enhanced packet block per packet
 * (with its comment when it has one). A packet goes to interface `ifIndex`
 * of `options.interfaces` when given, otherwise to the interface with its
 * name and link type (default Ethernet), declared when first seen.
 */
export function writePcapng(packets: readonly PacketToWrite[], options: PcapngWriteOptions = {}): Uint8Array {
  const ifaces: CaptureInterface[] = [...(options.interfaces ?? [])];
  const ifOf: number[] = [];
  for (const p of packets) {
    if (p.ifIndex !== undefined) {
      if (p.ifIndex >= ifaces.length) throw new Error(`writePcapng: no interface ${p.ifIndex}`);
      ifOf.push(p.ifIndex);
      continue;
    }
    const linkType = p.linkType ?? LINKTYPE_ETHERNET;
    let i = ifaces.findIndex((f) => f.name === p.ifName && f.linkType === linkType);
    if (i < 0) {
      const f: CaptureInterface = { linkType, snapLen: DEFAULT_SNAPLEN };
      if (p.ifName !== undefined) f.name = p.ifName;
      i = ifaces.push(f) - 1;
    }
    ifOf.push(i);
  }
  const names = ifaces.map((f) => (f.name === undefined ? undefined : utf8enc.encode(f.name)));
  const comments = packets.map((p) => (p.comment === undefined ? undefined : utf8enc.encode(p.comment)));
  let size = 28;
  for (const n of names) size += 20 + (n ? optionSize(n.length) : 0) + optionSize(1) + 4;
  packets.forEach((p, k) => {
    const c = comments[k];
    size += 32 + ((p.data.length + 3) & ~3) + (c ? optionSize(c.length) + 4 : 0);
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let off = 0;
  const option = (code: number, value: Uint8Array): void => {
    view.setUint16(off, code, true);
    view.setUint16(off + 2, value.length, true);
    out.set(value, off + 4);
    off += optionSize(value.length);
  };
  const endBlock = (start: number): void => {
    const len = off + 4 - start;
    view.setUint32(start + 4, len, true);
    view.setUint32(off, len, true);
    off += 4;
  };

  view.setUint32(0, BT_SHB, true);
  view.setUint32(8, BYTE_ORDER_MAGIC, true);
  view.setUint16(12, 1, true);
  view.setUint16(14, 0, true);
  view.setBigInt64(16, -1n, true); // section length not given
  off = 24;
  endBlock(0);

  ifaces.forEach((f, k) => {
    const start = off;
    view.setUint32(off, BT_IDB, true);
    view.setUint16(off + 8, f.linkType, true);
    view.setUint32(off + 12, f.snapLen, true);
    off += 16;
    const n = names[k];
    if (n) option(IF_NAME, n);
    option(IF_TSRESOL, Uint8Array.of(9));
    off += 4; // end of options
    endBlock(start);
  });

  packets.forEach((p, k) => {
    const start = off;
    const ts = BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec);
    view.setUint32(off, BT_EPB, true);
    view.setUint32(off + 8, ifOf[k]!, true);
    view.setUint32(off + 12, Number(ts >> 32n), true);
    view.setUint32(off + 16, Number(ts & 0xffffffffn), true);
    view.setUint32(off + 20, p.data.length, true);
    view.setUint32(off + 24, p.origLen ?? p.data.length, true);
    out.set(p.data, off + 28);
    off += 28 + ((p.data.length + 3) & ~3);
    const c = comments[k];
    if (c) {
      option(OPT_COMMENT, c);
      off += 4;
    }
    endBlock(start);
  });
  return out;
}
