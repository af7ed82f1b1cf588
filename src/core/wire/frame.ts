/**
 * Whole frames as plain descriptions: `decodeFrame` turns Ethernet bytes
 * into a structured description (never throwing, noting truncation and
 * malformed headers), `encodeFrame` builds wire bytes from a description
 * written by hand, with scapy-like defaults, computing lengths and
 * checksums unless the description gives them.
 *
 * A decoded description holds every field explicitly (lengths, checksums),
 * so encoding it again gives back the same bytes for any frame whose
 * headers are complete. Addresses are strings here: dotted quads and
 * "xx:xx:xx:xx:xx:xx".
 */
import { formatIPv4, parseIPv4Numeric } from '../addr/ipv4.js';
import { get16, get32, plainBytes, put16, put32 } from './bytes.js';
import { internetChecksum, pseudoHeaderSum } from './checksum.js';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP } from './ethernet.js';
import { ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, ICMP_HLEN, ICMP_PARAMETERPROB, ICMP_REDIRECT, icmpHasIdSeq, icmpIsError } from './icmp.js';
import {
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  IPV4_HLEN,
  IP_CE,
  IP_DF,
  IP_MF,
  IP_OFFSET,
  type IpOption,
  ipv4OptionsLength,
  parseIpv4Options,
  writeIpv4Options,
} from './ipv4.js';
import { formatMac, parseMacInto } from './mac.js';
import { TCP_HLEN, type TcpOption, formatTcpFlags, parseTcpFlags, parseTcpOptions, tcpOptionsLength, writeTcpOptions } from './tcp.js';
import { UDP_HLEN } from './udp.js';

/** The Ethernet header. Defaults: broadcast destination, zero source, type from the content. */
export interface EthDesc {
  dst?: string;
  src?: string;
  type?: number;
}

/**
 * An ARP packet. Defaults: Ethernet/IPv4 (1, 0x0800, 6, 4), a request,
 * sender hardware address from the Ethernet source, zero otherwise. The
 * four addresses are present only when the lengths are 6 and 4.
 */
export interface ArpDesc {
  hwType?: number;
  protoType?: number;
  hwLen?: number;
  protoLen?: number;
  op?: number;
  sha?: string;
  spa?: string;
  tha?: string;
  tpa?: string;
}

/**
 * An IPv4 header. Defaults: version 4, tos 0, id 1, no flags, offset 0,
 * ttl 64, addresses 127.0.0.1, protocol from the transport header given
 * (else 0); `ihl`, `totLen` and `check` computed. `fragOff` is in 8-byte
 * units. `rf` is the reserved flag bit. `checkValid` is set by decoding.
 * The options are padded with zeros to a multiple of four bytes, or to
 * `ihl` words when that is longer; an `ihl` shorter than the options is
 * written as given, so a wrong one can be crafted.
 */
export interface Ipv4Desc {
  src?: string;
  dst?: string;
  version?: number;
  ihl?: number;
  tos?: number;
  totLen?: number;
  id?: number;
  rf?: boolean;
  df?: boolean;
  mf?: boolean;
  fragOff?: number;
  ttl?: number;
  proto?: number;
  check?: number;
  checkValid?: boolean;
  options?: IpOption[];
}

/**
 * A TCP header. Defaults (scapy's): ports 20 and 80, seq and ack 0, flags
 * "S", window 8192, urgent pointer 0; `dataOff` and `check` computed.
 * `flags` are letters (see formatTcpFlags) or the flags byte; decoding
 * gives letters. `reserved` is the four bits after the data offset. Options
 * are padded with zeros like the IPv4 ones, to four bytes or `dataOff`
 * words.
 */
export interface TcpDesc {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  dataOff?: number;
  reserved?: number;
  flags?: string | number;
  window?: number;
  check?: number;
  checkValid?: boolean;
  urgPtr?: number;
  options?: TcpOption[];
}

/**
 * A UDP header. Defaults (scapy's): ports 53 and 53; `len` and `check`
 * computed (a computed zero checksum is sent as 0xffff).
 */
export interface UdpDesc {
  sport?: number;
  dport?: number;
  len?: number;
  check?: number;
  checkValid?: boolean;
}

/**
 * An ICMP header. Defaults: echo request (type 8, code 0), `check`
 * computed. Bytes 4-7 are built from `rest` (default 0) overlaid with the
 * fields given: `id` (bytes 4-5), `seq` (6-7), `gateway` (4-7, redirects),
 * `mtu` (6-7, fragmentation needed), `pointer` (4, parameter problem).
 * Decoding gives the fields that fit the type, and `rest` only when they do
 * not account for all four bytes. Errors quote a datagram: `quote`
 * describes it (encoded whole, or cut to `quoteLen` bytes); when decoding,
 * `quote` is the decoded quoted bytes, which are also the frame's
 * `payload`. An encoded `payload` replaces the quote.
 */
export interface IcmpDesc {
  type?: number;
  code?: number;
  check?: number;
  checkValid?: boolean;
  id?: number;
  seq?: number;
  gateway?: string;
  mtu?: number;
  pointer?: number;
  rest?: number;
  quote?: PacketDesc;
  quoteLen?: number;
}

/**
 * An IPv4 datagram: its header, at most one of tcp/udp/icmp, and the
 * payload after the last header given (for another protocol or a non-first
 * fragment, everything after the IPv4 header); `trailer` is what follows
 * the total length (written after the datagram). Decoding sets `truncated`
 * to the part the bytes ran out in ("ipv4", "ipv4 options", "ipv4 payload",
 * "tcp", "tcp options", "udp", "icmp") and `malformed` to the first header
 * value that stopped decoding (e.g. "ipv4 header length 3").
 */
export interface PacketDesc {
  ipv4?: Ipv4Desc;
  tcp?: TcpDesc;
  udp?: UdpDesc;
  icmp?: IcmpDesc;
  payload?: Uint8Array;
  trailer?: Uint8Array;
  truncated?: string;
  malformed?: string;
}

/**
 * An Ethernet frame: the header, then ARP, an IPv4 datagram, or (for any
 * other EtherType) `payload` as opaque bytes. `trailer` holds the bytes
 * after the ARP packet or the IPv4 total length (Ethernet padding).
 */
export interface FrameDesc extends PacketDesc {
  eth?: EthDesc;
  arp?: ArpDesc;
}

// ---------------------------------------------------------------- encoding

function addr(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const a = parseIPv4Numeric(text);
  if (a === undefined) throw new Error(`not an IPv4 address: ${text}`);
  return a;
}

function putMac(buf: Uint8Array, off: number, text: string | undefined, fallback: string): void {
  const t = text ?? fallback;
  if (!parseMacInto(t, buf, off)) throw new Error(`not a MAC address: ${t}`);
}

function tcpFlagsValue(f: string | number | undefined): number {
  if (f === undefined) return 0x02;
  if (typeof f === 'number') return f & 0xff;
  const v = parseTcpFlags(f);
  if (v === undefined) throw new Error(`not TCP flags: ${f}`);
  return v;
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** The bytes of the ICMP message body after the header: the payload, or the encoded quote. */
function icmpBody(icmp: IcmpDesc, payload: Uint8Array | undefined): Uint8Array {
  if (payload !== undefined) return payload;
  if (icmp.quote === undefined) return new Uint8Array(0);
  const q = encodeIpv4(icmp.quote);
  return icmp.quoteLen !== undefined && icmp.quoteLen < q.length ? q.subarray(0, icmp.quoteLen) : q;
}

function icmpRestValue(icmp: IcmpDesc): number {
  let v = icmp.rest ?? 0;
  if (icmp.id !== undefined) v = (((icmp.id & 0xffff) << 16) | (v & 0xffff)) >>> 0;
  if (icmp.seq !== undefined) v = ((v & 0xffff0000) | (icmp.seq & 0xffff)) >>> 0;
  if (icmp.gateway !== undefined) v = addr(icmp.gateway, 0);
  if (icmp.mtu !== undefined) v = ((v & 0xffff0000) | (icmp.mtu & 0xffff)) >>> 0;
  if (icmp.pointer !== undefined) v = (((icmp.pointer & 0xff) << 24) | (v & 0xffffff)) >>> 0;
  return v;
}

/** Builds an IPv4 datagram (no Ethernet header) from a description. Throws on an address it cannot parse. */
export function encodeIpv4(desc: PacketDesc): Uint8Array {
  const ip = desc.ipv4 ?? {};
  const opts = ip.options ?? [];
  const hl = Math.max(IPV4_HLEN + pad4(ipv4OptionsLength(opts)), (ip.ihl ?? 0) << 2);
  let l4hl = 0;
  let body: Uint8Array;
  let proto: number;
  if (desc.tcp) {
    l4hl = Math.max(TCP_HLEN + pad4(tcpOptionsLength(desc.tcp.options ?? [])), (desc.tcp.dataOff ?? 0) << 2);
    body = desc.payload ?? new Uint8Array(0);
    proto = IPPROTO_TCP;
  } else if (desc.udp) {
    l4hl = UDP_HLEN;
    body = desc.payload ?? new Uint8Array(0);
    proto = IPPROTO_UDP;
  } else if (desc.icmp) {
    l4hl = ICMP_HLEN;
    body = icmpBody(desc.icmp, desc.payload);
    proto = IPPROTO_ICMP;
  } else {
    body = desc.payload ?? new Uint8Array(0);
    proto = 0;
  }
  const total = hl + l4hl + body.length;
  const trailer = desc.trailer;
  const buf = new Uint8Array(total + (trailer?.length ?? 0));
  if (trailer) buf.set(trailer, total);
  const src = addr(ip.src, 0x7f000001);
  const dst = addr(ip.dst, 0x7f000001);

  buf[0] = (((ip.version ?? 4) & 0x0f) << 4) | ((ip.ihl ?? hl >>> 2) & 0x0f);
  buf[1] = (ip.tos ?? 0) & 0xff;
  put16(buf, 2, ip.totLen ?? total);
  put16(buf, 4, ip.id ?? 1);
  let frag = (ip.fragOff ?? 0) & IP_OFFSET;
  if (ip.rf) frag |= IP_CE;
  if (ip.df) frag |= IP_DF;
  if (ip.mf) frag |= IP_MF;
  put16(buf, 6, frag);
  buf[8] = (ip.ttl ?? 64) & 0xff;
  buf[9] = (ip.proto ?? proto) & 0xff;
  put32(buf, 12, src);
  put32(buf, 16, dst);
  writeIpv4Options(buf, IPV4_HLEN, opts);
  put16(buf, 10, ip.check ?? internetChecksum(buf, 0, hl));

  const o = hl;
  buf.set(body, o + l4hl);
  const l4len = total - o;
  if (desc.tcp) {
    const t = desc.tcp;
    put16(buf, o, t.sport ?? 20);
    put16(buf, o + 2, t.dport ?? 80);
    put32(buf, o + 4, t.seq ?? 0);
    put32(buf, o + 8, t.ack ?? 0);
    buf[o + 12] = (((t.dataOff ?? l4hl >>> 2) & 0x0f) << 4) | ((t.reserved ?? 0) & 0x0f);
    buf[o + 13] = tcpFlagsValue(t.flags);
    put16(buf, o + 14, t.window ?? 8192);
    put16(buf, o + 18, t.urgPtr ?? 0);
    writeTcpOptions(buf, o + TCP_HLEN, t.options ?? []);
    const c = t.check ?? internetChecksum(buf, o, l4len, pseudoHeaderSum(src, dst, IPPROTO_TCP, l4len));
    put16(buf, o + 16, c);
  } else if (desc.udp) {
    const u = desc.udp;
    put16(buf, o, u.sport ?? 53);
    put16(buf, o + 2, u.dport ?? 53);
    const ulen = u.len ?? l4len;
    put16(buf, o + 4, ulen);
    const covered = ulen >= UDP_HLEN && ulen <= l4len ? ulen : l4len;
    const c = u.check ?? (internetChecksum(buf, o, covered, pseudoHeaderSum(src, dst, IPPROTO_UDP, covered)) || 0xffff);
    put16(buf, o + 6, c);
  } else if (desc.icmp) {
    const m = desc.icmp;
    buf[o] = (m.type ?? 8) & 0xff;
    buf[o + 1] = (m.code ?? 0) & 0xff;
    put32(buf, o + 4, icmpRestValue(m));
    put16(buf, o + 2, m.check ?? internetChecksum(buf, o, l4len));
  }
  return buf;
}

function encodeArp(arp: ArpDesc, ethSrc: string | undefined, payload: Uint8Array | undefined): Uint8Array {
  const hln = arp.hwLen ?? 6;
  const pln = arp.protoLen ?? 4;
  const standard = hln === 6 && pln === 4;
  const body = payload ?? new Uint8Array(0);
  const buf = new Uint8Array(8 + (standard ? 20 : 0) + body.length);
  put16(buf, 0, arp.hwType ?? 1);
  put16(buf, 2, arp.protoType ?? ETH_P_IP);
  buf[4] = hln & 0xff;
  buf[5] = pln & 0xff;
  put16(buf, 6, arp.op ?? 1);
  if (standard) {
    putMac(buf, 8, arp.sha, ethSrc ?? '00:00:00:00:00:00');
    put32(buf, 14, addr(arp.spa, 0));
    putMac(buf, 18, arp.tha, '00:00:00:00:00:00');
    put32(buf, 24, addr(arp.tpa, 0));
  }
  buf.set(body, buf.length - body.length);
  return buf;
}

/**
 * Builds an Ethernet frame from a description. The EtherType defaults to
 * ARP or IPv4 from the content; a frame with neither needs `eth.type`.
 * Throws on an address it cannot parse or a missing EtherType.
 */
export function encodeFrame(desc: FrameDesc): Uint8Array {
  const eth = desc.eth ?? {};
  let body: Uint8Array;
  let type: number;
  let trailer = desc.trailer ?? new Uint8Array(0);
  if (desc.arp) {
    body = encodeArp(desc.arp, eth.src, desc.payload);
    type = ETH_P_ARP;
  } else if (desc.ipv4 || desc.tcp || desc.udp || desc.icmp) {
    body = encodeIpv4(desc); // with the trailer
    trailer = new Uint8Array(0);
    type = ETH_P_IP;
  } else {
    if (eth.type === undefined) throw new Error('encodeFrame: eth.type is needed for a frame without arp or ipv4');
    body = desc.payload ?? new Uint8Array(0);
    type = eth.type;
  }
  const buf = new Uint8Array(ETH_HLEN + body.length + trailer.length);
  putMac(buf, 0, eth.dst, 'ff:ff:ff:ff:ff:ff');
  putMac(buf, 6, eth.src, '00:00:00:00:00:00');
  put16(buf, 12, eth.type ?? type);
  buf.set(body, ETH_HLEN);
  buf.set(trailer, ETH_HLEN + body.length);
  return buf;
}

// ---------------------------------------------------------------- decoding

function decodeTcp(b: Uint8Array, o: number, end: number, out: PacketDesc): void {
  const avail = end - o;
  const t: TcpDesc = {};
  out.tcp = t;
  if (avail >= 2) t.sport = get16(b, o);
  if (avail >= 4) t.dport = get16(b, o + 2);
  if (avail >= 8) t.seq = get32(b, o + 4);
  if (avail >= 12) t.ack = get32(b, o + 8);
  if (avail >= 13) {
    t.dataOff = b[o + 12]! >>> 4;
    t.reserved = b[o + 12]! & 0x0f;
  }
  if (avail >= 14) t.flags = formatTcpFlags(b[o + 13]!);
  if (avail >= 16) t.window = get16(b, o + 14);
  if (avail >= 18) t.check = get16(b, o + 16);
  if (avail >= 20) t.urgPtr = get16(b, o + 18);
  if (avail < TCP_HLEN) {
    out.truncated = 'tcp';
    return;
  }
  const hl = t.dataOff! << 2;
  if (hl < TCP_HLEN) {
    out.malformed = `tcp data offset ${t.dataOff}`;
    if (avail > TCP_HLEN) out.payload = b.slice(o + TCP_HLEN, end);
    return;
  }
  if (hl > avail) {
    out.truncated = 'tcp options';
    const opts = parseTcpOptions(b, o + TCP_HLEN, avail - TCP_HLEN);
    if (opts.length > 0) t.options = opts;
    return;
  }
  if (hl > TCP_HLEN) {
    const opts = parseTcpOptions(b, o + TCP_HLEN, hl - TCP_HLEN);
    if (opts.length > 0) t.options = opts;
  }
  if (avail > hl) out.payload = b.slice(o + hl, end);
}

function decodeUdp(b: Uint8Array, o: number, end: number, out: PacketDesc): void {
  const avail = end - o;
  const u: UdpDesc = {};
  out.udp = u;
  if (avail >= 2) u.sport = get16(b, o);
  if (avail >= 4) u.dport = get16(b, o + 2);
  if (avail >= 6) u.len = get16(b, o + 4);
  if (avail >= 8) u.check = get16(b, o + 6);
  if (avail < UDP_HLEN) {
    out.truncated = 'udp';
    return;
  }
  if (avail > UDP_HLEN) out.payload = b.slice(o + UDP_HLEN, end);
}

function decodeIcmp(b: Uint8Array, o: number, end: number, out: PacketDesc, nested: boolean): void {
  const avail = end - o;
  const m: IcmpDesc = {};
  out.icmp = m;
  if (avail >= 1) m.type = b[o]!;
  if (avail >= 2) m.code = b[o + 1]!;
  if (avail >= 4) m.check = get16(b, o + 2);
  if (avail < ICMP_HLEN) {
    out.truncated = 'icmp';
    return;
  }
  const type = m.type!;
  const rest = get32(b, o + 4);
  let covered = 0; // the value the named fields rebuild
  if (icmpHasIdSeq(type)) {
    m.id = rest >>> 16;
    m.seq = rest & 0xffff;
    covered = rest;
  } else if (type === ICMP_REDIRECT) {
    m.gateway = formatIPv4(rest);
    covered = rest;
  } else if (type === ICMP_DEST_UNREACH && m.code === ICMP_FRAG_NEEDED) {
    m.mtu = rest & 0xffff;
    covered = m.mtu;
  } else if (type === ICMP_PARAMETERPROB) {
    m.pointer = rest >>> 24;
    covered = (m.pointer << 24) >>> 0;
  }
  if (covered !== rest) m.rest = rest;
  if (avail > ICMP_HLEN) {
    out.payload = b.slice(o + ICMP_HLEN, end);
    if (!nested && icmpIsError(type)) m.quote = reorder(decodeDatagram(out.payload, 0, out.payload.length, true));
  }
}

/** Decodes the IPv4 datagram in `b[off, end)`; the result's `trailer` (bytes past the total length) is for the caller. */
function decodeDatagram(b: Uint8Array, off: number, end: number, nested: boolean): FrameDesc {
  const out: FrameDesc = {};
  const avail = end - off;
  if (avail < IPV4_HLEN) {
    out.truncated = 'ipv4';
    if (avail > 0) out.payload = b.slice(off, end);
    return out;
  }
  const ihl = b[off]! & 0x0f;
  const frag = get16(b, off + 6);
  const ip: Ipv4Desc = {
    version: b[off]! >>> 4,
    ihl,
    tos: b[off + 1]!,
    totLen: get16(b, off + 2),
    id: get16(b, off + 4),
    df: (frag & IP_DF) !== 0,
    mf: (frag & IP_MF) !== 0,
    fragOff: frag & IP_OFFSET,
    ttl: b[off + 8]!,
    proto: b[off + 9]!,
    check: get16(b, off + 10),
    src: formatIPv4(get32(b, off + 12)),
    dst: formatIPv4(get32(b, off + 16)),
  };
  if (frag & IP_CE) ip.rf = true;
  out.ipv4 = ip;
  const hl = ihl << 2;
  if (hl < IPV4_HLEN) {
    out.malformed = `ipv4 header length ${ihl}`;
    if (avail > IPV4_HLEN) out.payload = b.slice(off + IPV4_HLEN, end);
    return out;
  }
  if (hl > avail) {
    out.truncated = 'ipv4 options';
    const opts = parseIpv4Options(b, off + IPV4_HLEN, avail - IPV4_HLEN);
    if (opts.length > 0) ip.options = opts;
    return out;
  }
  if (hl > IPV4_HLEN) {
    const opts = parseIpv4Options(b, off + IPV4_HLEN, hl - IPV4_HLEN);
    if (opts.length > 0) ip.options = opts;
  }
  if (ip.version !== 4) {
    out.malformed = `ipv4 version ${ip.version}`;
    if (avail > hl) out.payload = b.slice(off + hl, end);
    return out;
  }
  ip.checkValid = internetChecksum(b, off, hl) === 0;
  const totLen = ip.totLen!;
  if (totLen < hl) {
    out.malformed = `ipv4 total length ${totLen}`;
    if (avail > hl) out.payload = b.slice(off + hl, end);
    return out;
  }
  let dend = off + totLen;
  if (dend > end) {
    out.truncated = 'ipv4 payload';
    dend = end;
  } else if (dend < end) {
    out.trailer = b.slice(dend, end);
  }
  const l4 = off + hl;
  if (ip.fragOff !== 0) {
    if (dend > l4) out.payload = b.slice(l4, dend);
    return out;
  }
  // the transport checksum is checkable only over a whole, unfragmented datagram
  const whole = out.truncated === undefined && !ip.mf;
  const l4len = dend - l4;
  const src = get32(b, off + 12);
  const dst = get32(b, off + 16);
  if (ip.proto === IPPROTO_TCP) {
    decodeTcp(b, l4, dend, out);
    if (whole && out.truncated === undefined && out.malformed === undefined) {
      out.tcp!.checkValid = internetChecksum(b, l4, l4len, pseudoHeaderSum(src, dst, IPPROTO_TCP, l4len)) === 0;
    }
  } else if (ip.proto === IPPROTO_UDP) {
    decodeUdp(b, l4, dend, out);
    const u = out.udp!;
    if (out.truncated === undefined) {
      const n = u.len!;
      if (n < UDP_HLEN || n > l4len) out.malformed = `udp length ${n}`;
      else if (whole) u.checkValid = u.check === 0 || internetChecksum(b, l4, n, pseudoHeaderSum(src, dst, IPPROTO_UDP, n)) === 0;
    }
  } else if (ip.proto === IPPROTO_ICMP) {
    decodeIcmp(b, l4, dend, out, nested);
    if (whole && out.truncated === undefined) out.icmp!.checkValid = internetChecksum(b, l4, l4len) === 0;
  } else if (dend > l4) {
    out.payload = b.slice(l4, dend);
  }
  return out;
}

/** Puts the keys of a decoded description in a fixed, readable order. */
function reorder(d: FrameDesc): FrameDesc {
  const out: FrameDesc = {};
  if (d.eth) out.eth = d.eth;
  if (d.arp) out.arp = d.arp;
  if (d.ipv4) out.ipv4 = d.ipv4;
  if (d.tcp) out.tcp = d.tcp;
  if (d.udp) out.udp = d.udp;
  if (d.icmp) out.icmp = d.icmp;
  if (d.payload) out.payload = d.payload;
  if (d.trailer) out.trailer = d.trailer;
  if (d.truncated !== undefined) out.truncated = d.truncated;
  if (d.malformed !== undefined) out.malformed = d.malformed;
  return out;
}

/**
 * Decodes an IPv4 datagram without an Ethernet header (raw IP link types).
 * Never throws; see PacketDesc for how truncation and bad headers show.
 */
export function decodeIpv4(bytes: Uint8Array): FrameDesc {
  const b = plainBytes(bytes);
  return reorder(decodeDatagram(b, 0, b.length, false));
}

function decodeArp(b: Uint8Array, off: number, out: FrameDesc): void {
  const avail = b.length - off;
  if (avail < 8) {
    out.truncated = 'arp';
    if (avail > 0) out.payload = b.slice(off);
    return;
  }
  const a: ArpDesc = {
    hwType: get16(b, off),
    protoType: get16(b, off + 2),
    hwLen: b[off + 4]!,
    protoLen: b[off + 5]!,
    op: get16(b, off + 6),
  };
  out.arp = a;
  if (a.hwLen !== 6 || a.protoLen !== 4) {
    if (avail > 8) out.payload = b.slice(off + 8);
    return;
  }
  if (avail < 28) {
    out.truncated = 'arp';
    if (avail > 8) out.payload = b.slice(off + 8);
    return;
  }
  a.sha = formatMac(b, off + 8);
  a.spa = formatIPv4(get32(b, off + 14));
  a.tha = formatMac(b, off + 18);
  a.tpa = formatIPv4(get32(b, off + 24));
  if (avail > 28) out.trailer = b.slice(off + 28);
}

/**
 * Decodes an Ethernet frame into a description. Never throws: a frame cut
 * short or with impossible header values is described as far as it goes,
 * with `truncated` or `malformed` saying where it stopped. Byte fields
 * (`payload`, `trailer`, option data) are copies.
 */
export function decodeFrame(input: Uint8Array): FrameDesc {
  const bytes = plainBytes(input);
  if (bytes.length < ETH_HLEN) {
    const out: FrameDesc = { truncated: 'ethernet' };
    if (bytes.length > 0) out.payload = bytes.slice();
    return out;
  }
  const eth: EthDesc = { dst: formatMac(bytes, 0), src: formatMac(bytes, 6), type: get16(bytes, 12) };
  let out: FrameDesc;
  if (eth.type === ETH_P_IP) {
    out = decodeDatagram(bytes, ETH_HLEN, bytes.length, false);
  } else {
    out = {};
    if (eth.type === ETH_P_ARP) decodeArp(bytes, ETH_HLEN, out);
    else if (bytes.length > ETH_HLEN) out.payload = bytes.slice(ETH_HLEN);
  }
  out.eth = eth;
  return reorder(out);
}
