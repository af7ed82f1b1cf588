/**
 * The packets nmap sends (TCP probes with the flags of each scan type,
 * UDP probes with nmap's payloads for well-known ports, ICMP echo and
 * timestamp requests, ARP requests) and the reading of what comes back:
 * which probe an answer belongs to and what it says about the port, as
 * nmap 7.93's scan_engine_raw.cc decides it.
 */
import { get16, put16, put32 } from '../wire/bytes.js';
import { fillIcmpChecksum, fillIpv4Checksum, fillTcpChecksum, fillUdpChecksum } from '../wire/checksum.js';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP } from '../wire/ethernet.js';
import { IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP } from '../wire/ipv4.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../wire/tcp.js';
import type { PortState } from './nmap-output.js';
import type { TcpScanType } from './nmap-options.js';
import { UDP_PAYLOADS } from './nmap-payloads-data.js';

/** The TCP flags each scan type's probes carry. */
export const SCAN_FLAGS: Record<TcpScanType, number> = {
  syn: TCP_SYN,
  connect: TCP_SYN,
  ack: TCP_ACK,
  null: 0,
  fin: TCP_FIN,
  xmas: TCP_FIN | TCP_PSH | TCP_URG,
};

/** An IPv4 header for a probe (the ID and TTL nmap picks at random). */
function ipHeader(buf: Uint8Array, proto: number, src: number, dst: number, id: number, ttl: number): void {
  buf[0] = 0x45;
  put16(buf, 2, buf.length);
  put16(buf, 4, id & 0xffff);
  buf[8] = ttl;
  buf[9] = proto;
  put32(buf, 12, src);
  put32(buf, 16, dst);
  fillIpv4Checksum(buf, 0);
}

/** What varies from probe to probe. */
export interface ProbeIds {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  /** IP ID. */
  id: number;
  ttl: number;
  /** TCP sequence number (TCP only). */
  seq?: number;
  /** TCP acknowledgment number (ACK probes). */
  ack?: number;
}

/** A TCP probe: window 1024, an MSS option of 1460 on SYNs (44 bytes), 40 bytes otherwise. */
export function tcpProbe(p: ProbeIds, flags: number): Uint8Array {
  const opt = flags & TCP_SYN ? 4 : 0;
  const d = new Uint8Array(40 + opt);
  put16(d, 20, p.sport);
  put16(d, 22, p.dport);
  put32(d, 24, p.seq ?? 0);
  put32(d, 28, flags & TCP_ACK ? (p.ack ?? 0) : 0);
  d[32] = (5 + opt / 4) << 4;
  d[33] = flags;
  put16(d, 34, 1024);
  if (opt) {
    d[40] = 2;
    d[41] = 4;
    put16(d, 42, 1460);
  }
  fillTcpChecksum(d, 20, d.length - 20, p.src, p.dst);
  ipHeader(d, IPPROTO_TCP, p.src, p.dst, p.id, p.ttl);
  return d;
}

/** A UDP probe carrying `payload`. */
export function udpProbe(p: ProbeIds, payload: Uint8Array): Uint8Array {
  const d = new Uint8Array(28 + payload.length);
  put16(d, 20, p.sport);
  put16(d, 22, p.dport);
  put16(d, 24, 8 + payload.length);
  d.set(payload, 28);
  fillUdpChecksum(d, 20, d.length - 20, p.src, p.dst);
  ipHeader(d, IPPROTO_UDP, p.src, p.dst, p.id, p.ttl);
  return d;
}

/** An ICMP echo (type 8) or timestamp (type 13) request, as nmap's ping probes send them. */
export function icmpProbe(p: ProbeIds, type: 8 | 13, ident: number, seq: number): Uint8Array {
  const len = type === 8 ? 8 : 20;
  const d = new Uint8Array(20 + len);
  d[20] = type;
  put16(d, 24, ident);
  put16(d, 26, seq);
  fillIcmpChecksum(d, 20, len);
  ipHeader(d, IPPROTO_ICMP, p.src, p.dst, p.id, p.ttl);
  return d;
}

/** An ARP request frame for `target` from `src` (MAC bytes) at `srcIp`, broadcast. */
export function arpRequest(srcMac: Uint8Array, srcIp: number, target: number): Uint8Array {
  const f = new Uint8Array(42);
  f.fill(0xff, 0, 6);
  f.set(srcMac, 6);
  put16(f, 12, ETH_P_ARP);
  put16(f, 14, 1);
  put16(f, 16, ETH_P_IP);
  f[18] = 6;
  f[19] = 4;
  put16(f, 20, 1);
  f.set(srcMac, 22);
  put32(f, 28, srcIp);
  put32(f, 38, target);
  return f;
}

/** An ARP reply in a frame: who answered, and its MAC as text; null for anything else. */
export function arpReplyOf(frame: Uint8Array): { ip: number; mac: string } | null {
  if (frame.length < 42 || get16(frame, 12) !== ETH_P_ARP || get16(frame, 20) !== 2) return null;
  const ip = ((frame[28]! << 24) | (frame[29]! << 16) | (frame[30]! << 8) | frame[31]!) >>> 0;
  const hex = (b: number): string => b.toString(16).padStart(2, '0');
  const mac = [...frame.subarray(22, 28)].map(hex).join(':');
  return { ip, mac };
}

/** The IPv4 datagram in an Ethernet frame, or null. */
export function ipOfFrame(frame: Uint8Array): Uint8Array | null {
  if (frame.length < ETH_HLEN + 20 || get16(frame, 12) !== ETH_P_IP) return null;
  const ip = frame.subarray(ETH_HLEN);
  if (ip[0]! >> 4 !== 4) return null;
  const tot = get16(ip, 2);
  return tot >= 20 && tot <= ip.length ? ip.subarray(0, tot) : ip;
}

const addrAt = (b: Uint8Array, off: number): number => ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;

/** An answer read from a datagram: which probe it belongs to and what it says. */
export interface Answer {
  /** The probed host (for ICMP errors: the destination of the quoted probe). */
  target: number;
  proto: 'tcp' | 'udp' | 'icmp';
  /** The probed port (0 for ICMP pings). */
  port: number;
  /** Our source port the answer was sent to (it tells the try). */
  sport: number;
  /** TCP flags of a TCP answer. */
  flags?: number;
  /** ICMP type and code of an ICMP answer. */
  icmpType?: number;
  icmpCode?: number;
  /** Identifier of an ICMP echo/timestamp reply. */
  icmpId?: number;
  /** Who sent it and with which TTL. */
  from: number;
  ttl: number;
}

/** Reads an answer to one of our probes from a received datagram (addressed to `self`). */
export function readAnswer(ip: Uint8Array, self: number): Answer | null {
  const ihl = (ip[0]! & 15) * 4;
  if (ip.length < ihl + 8 || addrAt(ip, 16) !== self) return null;
  const from = addrAt(ip, 12);
  const ttl = ip[8]!;
  const proto = ip[9];
  const l4 = ip.subarray(ihl);
  if (proto === IPPROTO_TCP) {
    if (l4.length < 14) return null;
    return { target: from, proto: 'tcp', port: get16(l4, 0), sport: get16(l4, 2), flags: l4[13]!, from, ttl };
  }
  if (proto === IPPROTO_UDP) return { target: from, proto: 'udp', port: get16(l4, 0), sport: get16(l4, 2), from, ttl };
  if (proto !== IPPROTO_ICMP) return null;
  const type = l4[0]!;
  const code = l4[1]!;
  if (type === 0 || type === 14) return { target: from, proto: 'icmp', port: 0, sport: 0, icmpType: type, icmpCode: code, icmpId: get16(l4, 4), from, ttl };
  if (type !== 3 && type !== 11) return null;
  // an error quoting our probe: its header and first 8 bytes
  const q = l4.subarray(8);
  if (q.length < 20) return null;
  const qihl = (q[0]! & 15) * 4;
  if (q.length < qihl + 4 || addrAt(q, 12) !== self) return null;
  const target = addrAt(q, 16);
  const qproto = q[9];
  const ql4 = q.subarray(qihl);
  if (qproto === IPPROTO_TCP || qproto === IPPROTO_UDP)
    return { target, proto: qproto === IPPROTO_TCP ? 'tcp' : 'udp', port: get16(ql4, 2), sport: get16(ql4, 0), icmpType: type, icmpCode: code, from, ttl };
  if (qproto === IPPROTO_ICMP && ql4.length >= 8) return { target, proto: 'icmp', port: 0, sport: 0, icmpType: type, icmpCode: code, icmpId: get16(ql4, 4), from, ttl };
  return null;
}

/** The reason nmap names for an ICMP type and code (icmpv4_to_reason). */
export function icmpReason(type: number, code: number): string {
  if (type === 0) return 'echo-reply';
  if (type === 3) {
    const byCode: Record<number, string> = { 0: 'net-unreach', 1: 'host-unreach', 2: 'proto-unreach', 3: 'port-unreach', 9: 'net-prohibited', 10: 'host-prohibited', 13: 'admin-prohibited' };
    return byCode[code] ?? 'dest-unreach';
  }
  if (type === 4) return 'source-quench';
  if (type === 11) return 'time-exceeded';
  if (type === 14) return 'timestamp-reply';
  if (type === 18) return 'addressmask-reply';
  return 'unknown-response';
}

/** What an answer means for a port, or null when nmap ignores it. */
export function classify(scan: TcpScanType | 'udp', a: Answer, target: number): { state: PortState; reason: string } | null {
  if (a.proto === 'tcp' && a.icmpType === undefined) {
    const f = a.flags!;
    if (scan === 'syn' && (f & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) return { state: 'open', reason: 'syn-ack' };
    if (f & TCP_RST) return { state: scan === 'ack' ? 'unfiltered' : 'closed', reason: 'reset' };
    if (scan === 'syn' && f & TCP_SYN) return { state: 'open', reason: 'split-handshake-syn' };
    return null;
  }
  if (a.proto === 'udp' && a.icmpType === undefined) return { state: 'open', reason: 'udp-response' };
  const reason = icmpReason(a.icmpType!, a.icmpCode!);
  if (a.icmpType === 11) return { state: 'filtered', reason };
  if (a.icmpType !== 3) return null;
  switch (a.icmpCode) {
    case 0:
    case 1:
    case 2:
    case 9:
    case 10:
    case 13:
      return { state: 'filtered', reason };
    case 3:
      return { state: scan === 'udp' && a.from === target ? 'closed' : 'filtered', reason };
    default:
      return null;
  }
}

/** The state of a port that never answered, per scan type. */
export function silentState(scan: TcpScanType | 'udp'): PortState {
  return scan === 'udp' || scan === 'null' || scan === 'fin' || scan === 'xmas' ? 'open|filtered' : 'filtered';
}

const hex = (s: string): Uint8Array => (s === '' ? new Uint8Array(0) : new Uint8Array(s.match(/../g)!.map((h) => parseInt(h, 16))));

/** Whether a port list of nmap-payloads ("53,5353", "1025-1199") names `port`. */
function listsPort(spec: string, port: number): boolean {
  for (const part of spec.split(',')) {
    const dash = part.indexOf('-');
    if (dash < 0 ? Number(part) === port : Number(part.slice(0, dash)) <= port && port <= Number(part.slice(dash + 1))) return true;
  }
  return false;
}

/**
 * The datagrams nmap sends to a UDP port in each try: every payload
 * nmap-payloads lists for it, in file order (a DNS status request and a
 * version.bind query for 53, an NTP request for 123, ...), or one empty
 * datagram.
 */
export function udpPayloads(port: number): Uint8Array[] {
  const out = UDP_PAYLOADS.filter(([spec]) => listsPort(spec, port)).map(([, h]) => hex(h));
  return out.length ? out : [new Uint8Array(0)];
}
