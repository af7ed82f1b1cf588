/**
 * tcpdump 4.99's packet lines for Ethernet captures: the timestamp (-t,
 * -tt, -ttt, -tttt, -ttttt), the link header (-e), ARP, IPv4 and its
 * payloads (see print-ip.ts), and the -x/-xx/-X/-XX dumps. A printer keeps
 * the state tcpdump keeps between packets: relative TCP sequence numbers,
 * the previous timestamp, names already looked up.
 */
import { formatIPv4 } from '../addr/ipv4.js';
import { get16, get32 } from './bytes.js';
import { formatMac } from './mac.js';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2 } from './pcap.js';
import { formatIpv4, type IpPrintState, type PrintNames, type PrintOptions } from './print-ip.js';
import { asciiDump, hexAsciiDump, hexDump } from './print-text.js';

export type { PrintNames, PrintOptions } from './print-ip.js';

/** Everything that shapes the output: the protocol options plus timestamps and dumps. */
export interface PrinterOptions extends PrintOptions {
  /** Number of -t flags (0: time of day; 1: none; 2: epoch seconds; 3: delta from previous; 4: date and time; 5: delta from first). */
  tsMode: number;
  /** Number of -x flags (1: packet without link header in hex; 2: with it). */
  hex: number;
  /** Number of -X flags (hex and ASCII). */
  hexAscii: number;
  /** Number of -A flags (ASCII). */
  ascii?: number;
  /** --number: each line starts with the packet's number. */
  number?: boolean;
}

/** One packet to print: its capture time, bytes captured and length on the wire. */
export interface PrintablePacket {
  tsSec: number;
  tsUsec: number;
  data: Uint8Array;
  origLen: number;
}

const ETHERTYPES: Record<number, string> = {
  0x0800: 'IPv4', 0x8847: 'MPLS unicast', 0x8848: 'MPLS multicast', 0x86dd: 'IPv6', 0x8100: '802.1Q',
  0x9100: '802.1Q-9100', 0x88a8: '802.1Q-QinQ', 0x9200: '802.1Q-9200', 0x88e5: '802.1AE MACsec', 0x0200: 'PUP',
  0x0806: 'ARP', 0x8035: 'Reverse ARP', 0x0600: 'NS', 0x0500: 'Sprite', 0x1000: 'Trail', 0x6001: 'MOP DL',
  0x6002: 'MOP RC', 0x6003: 'DN', 0x6004: 'LAT', 0x6007: 'SCA', 0x6558: 'TEB', 0x8038: 'Lanbridge',
  0x803c: 'DEC DNS', 0x803e: 'DEC DTS', 0x805b: 'VEXP', 0x805c: 'VPROD', 0x809b: 'Appletalk', 0x80f3: 'Appletalk ARP',
  0x8137: 'IPX', 0x880b: 'PPP', 0x8808: 'MPCP', 0x8809: 'Slow Protocols', 0x8863: 'PPPoE D', 0x8864: 'PPPoE S',
  0x888e: 'EAPOL', 0x8899: 'Realtek protocols', 0x886f: 'MS NLB heartbeat', 0x8870: 'Jumbo', 0x894f: 'NSH',
  0x9000: 'Loopback', 0xfefe: 'OSI', 0x00fe: 'GRE-OSI', 0xabcd: 'CFM (old)', 0x8902: 'CFM', 0x893a: 'IEEE1905.1',
  0x88cc: 'LLDP', 0x88ca: 'TIPC', 0x0707: 'GeoNet (old)', 0x8947: 'GeoNet', 0x1111: 'CALM FAST', 0x88a2: 'AoE',
  0x88f7: 'PTP', 0xd28b: 'Arista Vendor Specific Protocol',
};

const OUIS: Record<number, string> = {
  0x000000: 'Ethernet', 0x00000c: 'Cisco', 0x00005e: 'IANA', 0x000081: 'Nortel Networks SONMP', 0x0000f8: 'Cisco bridged',
  0x0080c2: 'Ethernet bridged', 0x00a03e: 'ATM Forum', 0x00e02f: 'DOCSIS Spanning Tree', 0x080007: 'Appletalk',
  0x009069: 'Juniper', 0x080009: 'Hewlett-Packard', 0x00120f: 'IEEE 802.3 Private', 0x0012bb: 'ANSI/TIA',
  0x001b21: 'DCBX', 0x002320: 'Nicira Networks', 0x5c16c7: 'Big Switch Networks', 0xb0d2f5: 'Vello Systems',
  0x002481: 'HP', 0x0004ea: 'HP-Labs', 0x748771: 'Infoblox Inc', 0xa42305: 'Open Networking Lab',
  0x00049f: 'Freescale', 0x0015ad: 'Netronome', 0x001018: 'Broadcom', 0x00e004: 'PMC-Sierra', 0xd0f0db: 'Ericsson',
};

const ARP_OPS: Record<number, string> = {
  1: 'Request', 2: 'Reply', 3: 'Reverse Request', 4: 'Reverse Reply', 8: 'Inverse Request', 9: 'Inverse Reply', 10: 'NACK Reply',
};

const ARP_HRDS: Record<number, string> = {
  1: 'Ethernet', 6: 'TokenRing', 7: 'ArcNet', 15: 'FrameRelay', 19: 'ATM', 31: 'IEEE 1394', 32: 'InfiniBand', 0x9: 'Strip',
};

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** Prints packets one after another as a tcpdump run would. */
export class PacketPrinter {
  private readonly st: IpPrintState;
  private refSec = 0;
  private refUsec = 0;
  private haveRef = false;
  private readonly macCache = new Map<string, string>();
  private count = 0;

  constructor(readonly opts: PrinterOptions, names: PrintNames) {
    this.st = { opts, names, tcpSeq: new Map(), hostCache: new Map(), jumped: false };
  }

  /** The time the next -ttt/-ttttt delta is taken from (seconds, microseconds), once a packet set it. */
  reference(): [number, number] | undefined {
    return this.haveRef ? [this.refSec, this.refUsec] : undefined;
  }

  /** Sets the time deltas are taken from (a capture resumed in a later command). */
  setReference(sec: number, usec: number): void {
    this.refSec = sec;
    this.refUsec = usec;
    this.haveRef = true;
  }

  /** The timestamp prefix of a line (with its trailing space), as -t flags choose. */
  timestamp(sec: number, usec: number): string {
    switch (this.opts.tsMode) {
      case 1:
        return '';
      case 2:
        return `${sec}.${String(usec).padStart(6, '0')} `;
      case 3:
      case 5: {
        if (!this.haveRef) {
          this.refSec = sec;
          this.refUsec = usec;
          this.haveRef = true;
        }
        let dSec = sec - this.refSec;
        let dUsec = usec - this.refUsec;
        let neg = false;
        if (dSec < 0 || (dSec === 0 && dUsec < 0)) {
          neg = true;
          dSec = -dSec;
          dUsec = -dUsec;
        }
        if (dUsec < 0) {
          dSec -= 1;
          dUsec += 1_000_000;
        }
        if (this.opts.tsMode === 3) {
          this.refSec = sec;
          this.refUsec = usec;
        }
        return (neg ? '-' : ' ') + clock(dSec, dUsec, false) + ' ';
      }
      case 4:
        return clock(sec, usec, true) + ' ';
      default:
        return clock(sec, usec, false) + ' ';
    }
  }

  /** -x, -X and -q stop the hex dump of what tcpdump cannot decode. */
  private suppressDefault(): boolean {
    return this.opts.hex > 0 || this.opts.hexAscii > 0 || this.opts.quiet;
  }

  /** An Ethernet address as tcpdump shows it: "Broadcast", a name from /etc/ethers, or hex with its OUI unless -n. */
  mac(buf: Uint8Array, off: number): string {
    const hex = formatMac(buf, off);
    if (this.opts.numeric) return hex;
    let s = this.macCache.get(hex);
    if (s === undefined) {
      const named = this.st.names.etherName?.(hex);
      if (named !== undefined) s = named;
      else if (hex === 'ff:ff:ff:ff:ff:ff') s = 'Broadcast';
      else s = `${hex} (oui ${OUIS[(buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!] ?? 'Unknown'})`;
      this.macCache.set(hex, s);
    }
    return s;
  }

  /**
   * The whole output for one packet: timestamp, decoded line, dumps, ending
   * with a newline. `linkType` is the capture's: Ethernet (1) or Linux
   * cooked v2 (276, what `-i any` captures).
   */
  format(p: PrintablePacket, linkType = LINKTYPE_ETHERNET): string {
    const caplen = p.data.length;
    const len = p.origLen;
    if (caplen === 0 || len === 0 || len < caplen) {
      const parts: string[] = [];
      if (caplen === 0) parts.push(' caplen==0');
      if (len === 0) parts.push(' len==0');
      else if (len < caplen) parts.push(` len(${len}) < caplen(${caplen})`);
      return `[Invalid header:${parts.join(',')}]\n`;
    }
    this.count++;
    let s = this.opts.number ? `${String(this.count).padStart(5)}  ` : '';
    s += this.timestamp(p.tsSec, p.tsUsec);
    this.st.jumped = false;
    const decoded =
      linkType === LINKTYPE_LINUX_SLL2
        ? this.sll2(p.data, len, caplen)
        : linkType === LINKTYPE_LINUX_SLL
          ? this.sll(p.data, len, caplen)
          : this.ether(p.data, len, caplen);
    const text = decoded.text;
    const hdrlen = this.st.jumped ? 0 : decoded.hdrlen;
    s += text;
    if (this.opts.hexAscii) {
      if (this.opts.hexAscii > 1) s += hexAsciiDump(p.data, 0, caplen);
      else if (caplen > hdrlen) s += hexAsciiDump(p.data, hdrlen, caplen);
    } else if (this.opts.hex) {
      if (this.opts.hex > 1) s += hexDump(p.data, 0, caplen);
      else if (caplen > hdrlen) s += hexDump(p.data, hdrlen, caplen);
    } else if (this.opts.ascii) {
      if (this.opts.ascii > 1) s += asciiDump(p.data, 0, caplen);
      else if (caplen > hdrlen) s += asciiDump(p.data, hdrlen, caplen);
    }
    return s + '\n';
  }

  private ether(b: Uint8Array, length: number, caplen: number): { text: string; hdrlen: number } {
    if (caplen < 14) return { text: ' [|ether]', hdrlen: 0 };
    const e = this.opts.ether;
    let s = '';
    const addrs = () => `${this.mac(b, 6)} > ${this.mac(b, 0)}, `;
    const typeText = (t: number) =>
      this.opts.quiet ? ETHERTYPES[t] ?? `Unknown Ethertype (0x${t.toString(16).padStart(4, '0')})` : `ethertype ${ETHERTYPES[t] ?? 'Unknown'} (0x${t.toString(16).padStart(4, '0')})`;
    if (e) s += addrs();
    let off = 12;
    let type = get16(b, off);
    off += 2;
    let printedLength = false;
    while (type === 0x8100 || type === 0x88a8 || type === 0x9100 || type === 0x9200) {
      if (caplen - off < 4 || length - off < 4) return { text: s + ' [|vlan]', hdrlen: off };
      if (e) {
        const tag = get16(b, off);
        s += typeText(type);
        s += printedLength ? ', ' : `, length ${length}: `;
        printedLength = true;
        s += `vlan ${tag & 0xfff}, p ${tag >>> 13}${tag & 0x1000 ? ', DEI' : ''}, `;
      }
      type = get16(b, off + 2);
      off += 4;
    }
    if (type <= 1500) {
      // 802.3 length field: an LLC frame, shown as raw bytes here.
      if (e) s += '802.3' + (printedLength ? '' : `, length ${Math.min(type, length - off)}: `);
      else s += `${this.mac(b, 6)} > ${this.mac(b, 0)}, 802.3, length ${Math.min(type, length - off)}: `;
      return { text: s + (this.suppressDefault() ? '' : hexAsciiDump(b, off, Math.min(caplen, off + type))), hdrlen: off };
    }
    if (e) {
      s += typeText(type);
      s += printedLength ? ', ' : `, length ${length}: `;
    }
    const end = caplen;
    if (type === 0x0800) return { text: s + formatIpv4(this.st, b, off, length - off, end), hdrlen: off };
    if (type === 0x0806 || type === 0x8035) return { text: s + this.arp(b, off, length - off, end), hdrlen: off };
    if (!e) s += addrs() + typeText(type) + `, length ${length}: `;
    if (!this.suppressDefault()) s += hexAsciiDump(b, off, caplen);
    return { text: s, hdrlen: off };
  }

  /** A Linux cooked v1 packet (the default "any" capture): only -e shows its header. */
  private sll(b: Uint8Array, length: number, caplen: number): { text: string; hdrlen: number } {
    if (caplen < 16) return { text: ' [|sll]', hdrlen: 0 };
    const type = get16(b, 14);
    const header = () => {
      let h = (['In', 'B', 'M', 'P', 'Out'][get16(b, 0)] ?? '?').padStart(3) + ' ';
      if (get16(b, 4) === 6) h += this.mac(b, 6) + ' ';
      if (!this.opts.quiet) {
        h += type <= 1500 ? `ethertype Unknown (0x${type.toString(16).padStart(4, '0')})` : `ethertype ${ETHERTYPES[type] ?? 'Unknown'} (0x${type.toString(16).padStart(4, '0')})`;
        h += `, length ${length}: `;
      }
      return h;
    };
    let s = this.opts.ether ? header() : '';
    const off = 16;
    if (type === 0x0800) return { text: s + formatIpv4(this.st, b, off, length - off, caplen), hdrlen: off };
    if (type === 0x0806 || type === 0x8035) return { text: s + this.arp(b, off, length - off, caplen), hdrlen: off };
    if (!this.opts.ether) s += header();
    if (!this.suppressDefault()) s += hexAsciiDump(b, off, caplen);
    return { text: s, hdrlen: off };
  }

  /** A Linux cooked v2 packet: "veth0 Out IP ...", with -e the index, address and EtherType. */
  private sll2(b: Uint8Array, length: number, caplen: number): { text: string; hdrlen: number } {
    if (caplen < 20) return { text: ' [|sll2]', hdrlen: 0 };
    const ifindex = get32(b, 4);
    const pkttype = b[10]!;
    const halen = b[11]!;
    const name = this.st.names.ifName?.(ifindex) ?? '?';
    let s = name.padEnd(5) + ' ' + (['In', 'B', 'M', 'P', 'Out'][pkttype] ?? '?').padEnd(3) + ' ';
    const type = get16(b, 0);
    const header = () => {
      let h = `ifindex ${ifindex} `;
      if (halen === 6) h += this.mac(b, 12) + ' ';
      if (!this.opts.quiet) {
        h += type <= 1500 ? `ethertype Unknown (0x${type.toString(16).padStart(4, '0')})` : `ethertype ${ETHERTYPES[type] ?? 'Unknown'} (0x${type.toString(16).padStart(4, '0')})`;
        h += `, length ${length}: `;
      }
      return h;
    };
    if (this.opts.ether) s += header();
    const off = 20;
    if (type === 0x0800) return { text: s + formatIpv4(this.st, b, off, length - off, caplen), hdrlen: off };
    if (type === 0x0806 || type === 0x8035) return { text: s + this.arp(b, off, length - off, caplen), hdrlen: off };
    if (!this.opts.ether) s += header();
    if (!this.suppressDefault()) s += hexAsciiDump(b, off, caplen);
    return { text: s, hdrlen: off };
  }

  private arp(b: Uint8Array, off: number, length: number, end: number): string {
    if (off + 8 > end) return ' [|arp]';
    const hrd = get16(b, off);
    const pro = get16(b, off + 2);
    const hln = b[off + 4]!;
    const pln = b[off + 5]!;
    const op = get16(b, off + 6);
    const sha = off + 8;
    const spa = sha + hln;
    const tha = spa + pln;
    const tpa = tha + hln;
    if (tpa + pln > end) return ' [|arp]';
    let s = this.opts.ether ? '' : 'ARP, ';
    const v = this.opts.verbose;
    if ((pro !== 0x0800 && pro !== 0x1000) || pln !== 4 || hln === 0 || v) {
      s += `${ARP_HRDS[hrd] ?? `Unknown Hardware (${hrd})`} (len ${hln}), ${ETHERTYPES[pro] ?? `Unknown Protocol (0x${pro.toString(16).padStart(4, '0')})`} (len ${pln})`;
      if (!v) return s + `, length ${length}`;
    }
    s += `${v ? ', ' : ''}${ARP_OPS[op] ?? `Unknown (${op})`} `;
    const ip = (at: number) =>
      pro !== 0x0800 && pro !== 0x1000 ? '<wrong proto type>' : pln !== 4 ? '<wrong len>' : this.host(get32(b, at));
    const link = (at: number) => (hln === 6 ? this.mac(b, at) : linkAddr(b, at, hln));
    switch (op) {
      case 1: {
        s += 'who-has ' + ip(tpa);
        let nz = false;
        for (let i = 0; i < hln; i++) if (b[tha + i] !== 0) nz = true;
        if (nz) s += ` (${link(tha)})`;
        s += ' tell ' + ip(spa);
        break;
      }
      case 2:
        s += `${ip(spa)} is-at ${link(sha)}`;
        break;
      case 3:
      case 8:
        s += `who-is ${link(tha)} tell ${link(sha)}`;
        break;
      case 4:
        s += `${link(tha)} at ${ip(tpa)}`;
        break;
      case 9:
        s += `${link(sha)} at ${ip(spa)}`;
        break;
      default:
        return s + hexAsciiDump(b, off, end);
    }
    return s + `, length ${length}`;
  }

  private host(addr: number): string {
    if (this.opts.numeric) return formatIPv4(addr);
    let s = this.st.hostCache.get(addr);
    if (s === undefined) {
      s = this.st.names.hostName(addr) ?? formatIPv4(addr);
      this.st.hostCache.set(addr, s);
    }
    return s;
  }
}

function linkAddr(b: Uint8Array, at: number, len: number): string {
  if (len === 0) return '<empty>';
  const parts: string[] = [];
  for (let i = 0; i < len; i++) parts.push(b[at + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** "HH:MM:SS.uuuuuu" (UTC, the lab's local time), with the date first when asked. */
function clock(sec: number, usec: number, withDate: boolean): string {
  const d = new Date(sec * 1000);
  let s = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(usec).padStart(6, '0')}`;
  if (withDate) s = `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${s}`;
  return s;
}
