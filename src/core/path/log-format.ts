/**
 * The kernel log line of the LOG target for an IPv4 packet, byte for byte
 * as nf_log_syslog writes it: the prefix, the devices, the link header,
 * then the IP header and what follows it (TCP, UDP, UDP-Lite, ICMP with
 * the datagram an error quotes, AH, ESP, or just the protocol number),
 * the socket's owner and the packet mark. Fields end with a space, so a
 * line ends with one too, as in dmesg.
 */
import { get16, get32 } from '../wire/bytes.js';
import type { Skb } from './skb.js';

/** LOG flag: print TCP sequence and acknowledgement numbers (XT_LOG_TCPSEQ). */
export const LOGF_TCPSEQ = 0x01;
/** LOG flag: print TCP options in hex (XT_LOG_TCPOPT). */
export const LOGF_TCPOPT = 0x02;
/** LOG flag: print IP options in hex (XT_LOG_IPOPT). */
export const LOGF_IPOPT = 0x04;
/** LOG flag: print the UID and GID of a local socket (XT_LOG_UID). */
export const LOGF_UID = 0x08;
/** LOG flag: decode the Ethernet header into MACSRC/MACDST/MACPROTO (XT_LOG_MACDECODE). */
export const LOGF_MACDECODE = 0x20;

/** How the input device frames packets, which decides the MAC part of the line. */
export type LinkLayer = 'ether' | 'loopback' | 'none';

/** Everything one LOG line is made of besides the packet. */
export interface LogLineParams {
  /** The rule's prefix, printed as is before IN=. */
  prefix: string;
  /** LOGF_* bits. */
  logflags: number;
  /** Input device name, '' when none. */
  indev: string;
  /** Output device name, '' when none. */
  outdev: string;
  /**
   * The input device's link layer: Ethernet devices may be decoded with
   * --log-macdecode, loopback and others always print MAC=, devices
   * without a link header print an empty MAC=.
   */
  link: LinkLayer;
}

const HEX = '0123456789abcdef';
const HEX_UPPER = '0123456789ABCDEF';

/** Two lower-case hex digits. */
function hex2(b: number): string {
  return HEX[b >> 4]! + HEX[b & 15]!;
}

/** Two upper-case hex digits (the kernel's %02X). */
function hex2u(b: number): string {
  return HEX_UPPER[b >> 4]! + HEX_UPPER[b & 15]!;
}

/** Bytes [from, to) as upper-case hex without separators (option dumps). */
function hexRun(d: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += hex2u(d[i]!);
  return s;
}

/** A MAC address at `off` as %pM prints it. */
function macAt(m: Uint8Array, off: number): string {
  let s = hex2(m[off]!);
  for (let i = 1; i < 6; i++) s += ':' + hex2(m[off + i]!);
  return s;
}

/** The IPv4 address at `off` in dotted quad. */
function ipAt(d: Uint8Array, off: number): string {
  return `${d[off]}.${d[off + 1]}.${d[off + 2]}.${d[off + 3]}`;
}

/** skb->len - offset as the kernel's unsigned arithmetic prints it. */
function remaining(len: number, off: number): number {
  return (len - off) >>> 0;
}

/** The MAC part printed for packets that have an input device. */
function macPart(mac: Uint8Array | null, link: LinkLayer, logflags: number): string {
  if (logflags & LOGF_MACDECODE && link === 'ether') {
    // Without a full Ethernet header the decoded form prints nothing at all.
    if (!mac || mac.length < 14) return '';
    return `MACSRC=${macAt(mac, 6)} MACDST=${macAt(mac, 0)} MACPROTO=${hex2(mac[12]!)}${hex2(mac[13]!)} `;
  }
  let s = 'MAC=';
  if (link !== 'none' && mac && mac.length > 0) {
    s += hex2(mac[0]!);
    for (let i = 1; i < mac.length; i++) s += ':' + hex2(mac[i]!);
  }
  return s + ' ';
}

/** Minimum ICMP message lengths (from the ICMP header) before the type's fields are printed. */
const ICMP_REQUIRED: readonly number[] = [4, 0, 0, 28, 28, 28, 0, 0, 4, 0, 0, 28, 28, 20, 20, 0, 0, 12, 12];

/** The line being built, shared by the nested dump functions. */
interface Out {
  s: string;
}

/** The TCP part; true when the dump ends here (nothing more is printed). */
function dumpTcp(o: Out, d: Uint8Array, fragment: boolean, off: number, logflags: number): boolean {
  o.s += 'PROTO=TCP ';
  if (fragment) return false;
  if (off + 20 > d.length) {
    o.s += `INCOMPLETE [${remaining(d.length, off)} bytes] `;
    return true;
  }
  o.s += `SPT=${get16(d, off)} DPT=${get16(d, off + 2)} `;
  if (logflags & LOGF_TCPSEQ) o.s += `SEQ=${get32(d, off + 4)} ACK=${get32(d, off + 8)} `;
  o.s += `WINDOW=${get16(d, off + 14)} `;
  const b12 = d[off + 12]!;
  const b13 = d[off + 13]!;
  o.s += `RES=0x${hex2((b12 & 0x0e) << 2)} `;
  if (b12 & 0x01) o.s += 'AE ';
  if (b13 & 0x80) o.s += 'CWR ';
  if (b13 & 0x40) o.s += 'ECE ';
  if (b13 & 0x20) o.s += 'URG ';
  if (b13 & 0x10) o.s += 'ACK ';
  if (b13 & 0x08) o.s += 'PSH ';
  if (b13 & 0x04) o.s += 'RST ';
  if (b13 & 0x02) o.s += 'SYN ';
  if (b13 & 0x01) o.s += 'FIN ';
  o.s += `URGP=${get16(d, off + 18)} `;
  const doff = (b12 >> 4) * 4;
  if (logflags & LOGF_TCPOPT && doff > 20) {
    if (off + doff > d.length) {
      o.s += 'OPT (TRUNCATED)';
      return true;
    }
    o.s += `OPT (${hexRun(d, off + 20, off + doff)}) `;
  }
  return false;
}

/** The UDP or UDP-Lite part; true when the dump ends here. */
function dumpUdp(o: Out, d: Uint8Array, proto: number, fragment: boolean, off: number): boolean {
  o.s += proto === 17 ? 'PROTO=UDP ' : 'PROTO=UDPLITE ';
  if (fragment) return false;
  if (off + 8 > d.length) {
    o.s += `INCOMPLETE [${remaining(d.length, off)} bytes] `;
    return true;
  }
  o.s += `SPT=${get16(d, off)} DPT=${get16(d, off + 2)} LEN=${get16(d, off + 4)} `;
  return false;
}

/** The ICMP part, recursing once into the datagram an error quotes. */
function dumpIcmp(o: Out, d: Uint8Array, iphoff: number, off: number, fragment: boolean, skb: Skb, logflags: number): void {
  o.s += 'PROTO=ICMP ';
  if (fragment) return;
  const avail = remaining(d.length, off);
  if (off + 8 > d.length) {
    o.s += `INCOMPLETE [${avail} bytes] `;
    return;
  }
  const type = d[off]!;
  const code = d[off + 1]!;
  o.s += `TYPE=${type} CODE=${code} `;
  if (type <= 18 && ICMP_REQUIRED[type]! && avail < ICMP_REQUIRED[type]!) {
    o.s += `INCOMPLETE [${avail} bytes] `;
    return;
  }
  switch (type) {
    case 0:
    case 8:
      o.s += `ID=${get16(d, off + 4)} SEQ=${get16(d, off + 6)} `;
      break;
    case 12:
      o.s += `PARAMETER=${d[off + 4]} `;
      break;
    case 5:
    case 3:
    case 4:
    case 11:
      if (type === 5) o.s += `GATEWAY=${ipAt(d, off + 4)} `;
      if (iphoff === 0) {
        o.s += '[';
        dumpIpv4(o, d, off + 8, skb, logflags);
        o.s += '] ';
      }
      if (type === 3 && code === 4) o.s += `MTU=${get16(d, off + 6)} `;
      break;
  }
}

/** dump_ipv4_packet: the IP header at `iphoff` and what follows it. */
function dumpIpv4(o: Out, d: Uint8Array, iphoff: number, skb: Skb, logflags: number): void {
  if (iphoff + 20 > d.length) {
    o.s += 'TRUNCATED';
    return;
  }
  const tos = d[iphoff + 1]!;
  const fragField = get16(d, iphoff + 6);
  const fragoff = fragField & 0x1fff;
  const ihl = (d[iphoff]! & 15) * 4;
  const proto = d[iphoff + 9]!;
  o.s += `SRC=${ipAt(d, iphoff + 12)} DST=${ipAt(d, iphoff + 16)} `;
  o.s += `LEN=${get16(d, iphoff + 2)} TOS=0x${hex2u(tos & 0x1e)} PREC=0x${hex2u(tos & 0xe0)} TTL=${d[iphoff + 8]} ID=${get16(d, iphoff + 4)} `;
  if (fragField & 0x8000) o.s += 'CE ';
  if (fragField & 0x4000) o.s += 'DF ';
  if (fragField & 0x2000) o.s += 'MF ';
  if (fragoff) o.s += `FRAG:${fragoff} `;
  if (logflags & LOGF_IPOPT && ihl > 20) {
    if (iphoff + ihl > d.length) {
      o.s += 'TRUNCATED';
      return;
    }
    o.s += `OPT (${hexRun(d, iphoff + 20, iphoff + ihl)}) `;
  }
  const l4 = iphoff + ihl;
  const fragment = fragoff !== 0;
  switch (proto) {
    case 6:
      if (dumpTcp(o, d, fragment, l4, logflags)) return;
      break;
    case 17:
    case 136:
      if (dumpUdp(o, d, proto, fragment, l4)) return;
      break;
    case 1:
      dumpIcmp(o, d, iphoff, l4, fragment, skb, logflags);
      break;
    case 51:
      // AH prints nothing at all for a non-first fragment.
      if (fragment) break;
      o.s += 'PROTO=AH ';
      if (l4 + 12 > d.length) o.s += `INCOMPLETE [${remaining(d.length, l4)} bytes] `;
      else o.s += `SPI=0x${get32(d, l4 + 4).toString(16)} `;
      break;
    case 50:
      o.s += 'PROTO=ESP ';
      if (fragment) break;
      if (l4 + 8 > d.length) o.s += `INCOMPLETE [${remaining(d.length, l4)} bytes] `;
      else o.s += `SPI=0x${get32(d, l4).toString(16)} `;
      break;
    default:
      o.s += `PROTO=${proto} `;
  }
  if (iphoff !== 0) return;
  if (logflags & LOGF_UID && skb.owner) o.s += `UID=${skb.owner.uid >>> 0} GID=${skb.owner.gid >>> 0} `;
  if (skb.mark) o.s += `MARK=0x${(skb.mark >>> 0).toString(16)} `;
}

/**
 * The text LOG hands to printk for an IPv4 packet (without the level):
 * `PREFIXIN=eth0 OUT= MAC=... SRC=... ... `. The MAC part appears only
 * when the packet has an input device.
 */
export function formatLogLine(skb: Skb, p: LogLineParams): string {
  const o: Out = { s: `${p.prefix}IN=${p.indev} OUT=${p.outdev} ` };
  if (p.indev !== '') o.s += macPart(skb.mac, p.link, p.logflags);
  dumpIpv4(o, skb.data, 0, skb, p.logflags);
  return o.s;
}
