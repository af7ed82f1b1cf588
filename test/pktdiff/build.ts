/**
 * Builders for the frames of scenarios: Ethernet, ARP, IPv4, IPv6, TCP, UDP,
 * ICMP and ICMPv6 with correct lengths and checksums unless told otherwise.
 * Plain, allocation-happy code: this runs when scenarios are written, not
 * per packet.
 */
import { DEFAULT_DUT_MACS, DEFAULT_PEER_MACS, type DutInterface, type Frame } from './types.js';

/** A transport-layer message waiting for its IP header (which fills in its checksum). */
export interface L4 {
  /** IP protocol number. */
  proto: number;
  bytes: Uint8Array;
  /** Offset of the checksum field in `bytes`, when the IP layer computes it. */
  checksumAt?: number;
  /** True when the checksum covers the IP pseudo-header (TCP, UDP, ICMPv6). */
  pseudo?: boolean;
  /** Added to the correct checksum: non-zero makes it wrong on purpose. */
  checksumError?: number;
}

/** Parses "a.b.c.d" into 4 bytes. */
export function ipv4Bytes(text: string): Uint8Array {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`bad IPv4 address ${text}`);
  return new Uint8Array(parts.map((p) => {
    const n = Number(p);
    if (!/^[0-9]{1,3}$/.test(p) || n > 255) throw new Error(`bad IPv4 address ${text}`);
    return n;
  }));
}

/** Parses an IPv6 address ("2001:db8::1", "::ffff:10.0.0.1") into 16 bytes. */
export function ipv6Bytes(text: string): Uint8Array {
  let head = text;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = ipv4Bytes(text.slice(lastColon + 1));
    head = text.slice(0, lastColon + 1) + `${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = head.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address ${text}`);
  const words = (s: string): number[] => (s === '' ? [] : s.split(':').map((w) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw new Error(`bad IPv6 address ${text}`);
    return parseInt(w, 16);
  }));
  const left = words(halves[0]!);
  const right = halves.length === 2 ? words(halves[1]!) : [];
  const fill = 8 - left.length - right.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) throw new Error(`bad IPv6 address ${text}`);
  const all = [...left, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...right];
  const out = new Uint8Array(16);
  all.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** Parses "02:00:00:00:00:01" into 6 bytes. */
export function macBytes(text: string): Uint8Array {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`bad MAC address ${text}`);
  return new Uint8Array(parts.map((p) => parseInt(p, 16)));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
}

function put32(b: Uint8Array, off: number, v: number): void {
  put16(b, off, (v >>> 16) & 0xffff);
  put16(b, off + 2, v & 0xffff);
}

/** One's complement sum of 16-bit words (odd length padded), not yet folded. */
export function onesSum(b: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length % 2 === 1) sum += b[b.length - 1]! << 8;
  return sum;
}

/** The Internet checksum of the bytes (plus an unfolded initial sum). */
export function internetChecksum(b: Uint8Array, initial = 0): number {
  let sum = onesSum(b, initial);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

/** TCP flags from letters: S SYN, A ACK, F FIN, R RST, P PSH, U URG, E ECE, C CWR. */
export function tcpFlagBits(flags: string): number {
  const bits: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80 };
  let v = 0;
  for (const ch of flags) {
    const b = bits[ch];
    if (b === undefined) throw new Error(`unknown TCP flag ${ch} in ${flags}`);
    v |= b;
  }
  return v;
}

/** Fields of a TCP segment; defaults give a plain SYN. */
export interface TcpFields {
  sport: number;
  dport: number;
  seq?: number;
  ack?: number;
  /** Letters, see tcpFlagBits; default "S". */
  flags?: string;
  window?: number;
  urg?: number;
  /** Raw option bytes, padded by the caller to a multiple of 4. */
  options?: Uint8Array;
  payload?: Uint8Array;
  checksumError?: number;
}

/** A TCP segment. */
export function tcp(f: TcpFields): L4 {
  const opts = f.options ?? new Uint8Array(0);
  if (opts.length % 4 !== 0) throw new Error('TCP options must be padded to 4 bytes');
  const h = new Uint8Array(20 + opts.length);
  put16(h, 0, f.sport);
  put16(h, 2, f.dport);
  put32(h, 4, f.seq ?? 0);
  put32(h, 8, f.ack ?? 0);
  h[12] = (h.length / 4) << 4;
  h[13] = tcpFlagBits(f.flags ?? 'S');
  put16(h, 14, f.window ?? 64240);
  put16(h, 18, f.urg ?? 0);
  h.set(opts, 20);
  return { proto: 6, bytes: concat(h, f.payload ?? new Uint8Array(0)), checksumAt: 16, pseudo: true, checksumError: f.checksumError ?? 0 };
}

/** Fields of a UDP datagram. */
export interface UdpFields {
  sport: number;
  dport: number;
  payload?: Uint8Array;
  /** True to send checksum 0 (no checksum, IPv4 only). */
  noChecksum?: boolean;
  checksumError?: number;
}

/** A UDP datagram. */
export function udp(f: UdpFields): L4 {
  const payload = f.payload ?? new Uint8Array(0);
  const h = new Uint8Array(8);
  put16(h, 0, f.sport);
  put16(h, 2, f.dport);
  put16(h, 4, 8 + payload.length);
  const l4: L4 = { proto: 17, bytes: concat(h, payload), pseudo: true, checksumError: f.checksumError ?? 0 };
  if (!f.noChecksum) l4.checksumAt = 6;
  return l4;
}

/** Fields of an ICMP or ICMPv6 message; `id`/`seq` fill the second word (echo), or `rest` does. */
export interface IcmpFields {
  type: number;
  code?: number;
  id?: number;
  seq?: number;
  /** The second 32-bit word, when not id/seq. */
  rest?: number;
  payload?: Uint8Array;
  checksumError?: number;
}

function icmpBody(f: IcmpFields): Uint8Array {
  const h = new Uint8Array(8);
  h[0] = f.type;
  h[1] = f.code ?? 0;
  if (f.rest !== undefined) put32(h, 4, f.rest);
  else {
    put16(h, 4, f.id ?? 0);
    put16(h, 6, f.seq ?? 0);
  }
  return concat(h, f.payload ?? new Uint8Array(0));
}

/** An ICMP (IPv4) message. */
export function icmp(f: IcmpFields): L4 {
  return { proto: 1, bytes: icmpBody(f), checksumAt: 2, pseudo: false, checksumError: f.checksumError ?? 0 };
}

/** An ICMPv6 message. */
export function icmp6(f: IcmpFields): L4 {
  return { proto: 58, bytes: icmpBody(f), checksumAt: 2, pseudo: true, checksumError: f.checksumError ?? 0 };
}

/** A payload of another protocol, sent as it is. */
export function rawL4(proto: number, bytes: Uint8Array): L4 {
  return { proto, bytes };
}

function fillL4Checksum(l4: L4, pseudoSum: number): Uint8Array {
  const bytes = l4.bytes.slice();
  if (l4.checksumAt === undefined) return bytes;
  put16(bytes, l4.checksumAt, 0);
  let c = internetChecksum(bytes, l4.pseudo ? pseudoSum : 0);
  if (c === 0 && l4.proto === 17) c = 0xffff;
  put16(bytes, l4.checksumAt, (c + (l4.checksumError ?? 0)) & 0xffff);
  return bytes;
}

/** Fields of an IPv4 header. */
export interface Ipv4Fields {
  src: string;
  dst: string;
  id?: number;
  ttl?: number;
  tos?: number;
  df?: boolean;
  mf?: boolean;
  /** Fragment offset in 8-byte units. */
  fragOffset?: number;
  /** Raw option bytes, padded by the caller to a multiple of 4. */
  options?: Uint8Array;
  /** Overrides the protocol number of the payload. */
  proto?: number;
  /** Overrides the total length field. */
  totalLength?: number;
  checksumError?: number;
}

/** An IPv4 packet around a transport message (whose checksum is filled in here). */
export function ipv4(f: Ipv4Fields, l4: L4): Uint8Array {
  const opts = f.options ?? new Uint8Array(0);
  if (opts.length % 4 !== 0) throw new Error('IPv4 options must be padded to 4 bytes');
  const src = ipv4Bytes(f.src);
  const dst = ipv4Bytes(f.dst);
  const pseudo = onesSum(concat(src, dst)) + l4.proto + l4.bytes.length;
  const body = fillL4Checksum(l4, pseudo);
  const h = new Uint8Array(20 + opts.length);
  h[0] = 0x40 | (h.length / 4);
  h[1] = f.tos ?? 0;
  put16(h, 2, f.totalLength ?? h.length + body.length);
  put16(h, 4, f.id ?? 0);
  put16(h, 6, (f.df ? 0x4000 : 0) | (f.mf ? 0x2000 : 0) | (f.fragOffset ?? 0));
  h[8] = f.ttl ?? 64;
  h[9] = f.proto ?? l4.proto;
  h.set(src, 12);
  h.set(dst, 16);
  h.set(opts, 20);
  put16(h, 10, (internetChecksum(h) + (f.checksumError ?? 0)) & 0xffff);
  return concat(h, body);
}

/** Fields of an IPv6 header. */
export interface Ipv6Fields {
  src: string;
  dst: string;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** Overrides the next header number of the payload. */
  nextHeader?: number;
}

/** An IPv6 packet around a transport message (no extension headers). */
export function ipv6(f: Ipv6Fields, l4: L4): Uint8Array {
  const src = ipv6Bytes(f.src);
  const dst = ipv6Bytes(f.dst);
  const pseudo = onesSum(concat(src, dst)) + l4.proto + l4.bytes.length;
  const body = fillL4Checksum(l4, pseudo);
  const h = new Uint8Array(40);
  const tc = f.trafficClass ?? 0;
  put32(h, 0, ((6 << 28) | (tc << 20) | (f.flowLabel ?? 0)) >>> 0);
  put16(h, 4, body.length);
  h[6] = f.nextHeader ?? l4.proto;
  h[7] = f.hopLimit ?? 64;
  h.set(src, 8);
  h.set(dst, 24);
  return concat(h, body);
}

/** An ARP message for IPv4 over Ethernet. */
export function arp(f: { op: 'request' | 'reply'; senderMac: string; senderIp: string; targetMac?: string; targetIp: string }): Uint8Array {
  const b = new Uint8Array(28);
  put16(b, 0, 1);
  put16(b, 2, 0x0800);
  b[4] = 6;
  b[5] = 4;
  put16(b, 6, f.op === 'request' ? 1 : 2);
  b.set(macBytes(f.senderMac), 8);
  b.set(ipv4Bytes(f.senderIp), 14);
  b.set(macBytes(f.targetMac ?? '00:00:00:00:00:00'), 18);
  b.set(ipv4Bytes(f.targetIp), 24);
  return b;
}

/** An Ethernet frame. */
export function ether(f: { dst: string; src: string; type: number }, payload: Uint8Array): Uint8Array {
  const h = new Uint8Array(14);
  h.set(macBytes(f.dst), 0);
  h.set(macBytes(f.src), 6);
  put16(h, 12, f.type);
  return concat(h, payload);
}

/** The EtherType of an IP packet from its version nibble. */
function etherTypeOf(packet: Uint8Array): number {
  return packet[0]! >> 4 === 6 ? 0x86dd : 0x0800;
}

/**
 * A frame received by the machine under test on `iface` from the far end,
 * with the default MAC addresses (destination: the interface's own).
 * `packet` is an IP packet (IPv4 or IPv6, from its version) unless `type` says otherwise.
 */
export function toDut(iface: DutInterface, packet: Uint8Array, opts: { type?: number; gapMs?: number; dst?: string } = {}): Frame {
  const bytes = ether(
    { dst: opts.dst ?? DEFAULT_DUT_MACS[iface], src: DEFAULT_PEER_MACS[iface], type: opts.type ?? etherTypeOf(packet) },
    packet,
  );
  return opts.gapMs === undefined ? { iface, bytes } : { iface, bytes, gapMs: opts.gapMs };
}

/**
 * A frame sent by the machine under test on `iface` to the far end, with the
 * default MAC addresses: what a test expects to see emitted.
 */
export function fromDut(iface: DutInterface, packet: Uint8Array, opts: { type?: number; dst?: string } = {}): Uint8Array {
  return ether(
    { dst: opts.dst ?? DEFAULT_PEER_MACS[iface], src: DEFAULT_DUT_MACS[iface], type: opts.type ?? etherTypeOf(packet) },
    packet,
  );
}

/** ASCII text as bytes (for payloads). */
export function ascii(text: string): Uint8Array {
  return new Uint8Array([...text].map((c) => c.charCodeAt(0) & 0xff));
}
