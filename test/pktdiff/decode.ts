/**
 * A small decoder for the frames of the differential suite: named fields
 * with their byte ranges (to say which field differs), a one-line summary
 * in the spirit of tcpdump, and checksum verification. Ethernet (with one
 * 802.1Q tag), ARP, IPv4, IPv6 (with its usual extension headers), TCP, UDP, ICMP and
 * ICMPv6, including the packet quoted by an ICMP error.
 */
import { internetChecksum, onesSum } from './build.js';

/** One decoded field: where it is in the frame and its value as text. */
export interface FieldSpan {
  /** Dotted name, e.g. "ip.id", "tcp.flags", "icmp.orig.ip.src". */
  name: string;
  offset: number;
  length: number;
  text: string;
}

/** What the decoder found in a frame. */
export interface DecodedFrame {
  /** Fields in frame order; the innermost field is the last one covering a byte. */
  fields: FieldSpan[];
  /** One line: addresses, protocols and the interesting header values. */
  summary: string;
  /** Checksums that do not verify, e.g. "ip.check 0x1234 (should be 0x4321)". */
  badChecksums: string[];
}

const get16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const get32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const hex2 = (v: number): string => `0x${v.toString(16).padStart(2, '0')}`;
const hex4 = (v: number): string => `0x${v.toString(16).padStart(4, '0')}`;

/** "aa:bb:cc:dd:ee:ff" from 6 bytes at `off`. */
export function formatMac(b: Uint8Array, off: number): string {
  return Array.from(b.subarray(off, off + 6), (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Dotted quad from 4 bytes at `off`. */
export function formatIpv4(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** RFC 5952 text of 16 bytes at `off` (longest run of two or more zero words compressed). */
export function formatIpv6(b: Uint8Array, off: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(get16(b, off + 2 * i));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const part = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return part(words);
  return `${part(words.slice(0, bestStart))}::${part(words.slice(bestStart + bestLen))}`;
}

/** tcpdump's letters for TCP flags: S, F, R, P, U, E, W, and "." for ACK. */
export function formatTcpFlags(flags: number): string {
  let s = '';
  if (flags & 0x02) s += 'S';
  if (flags & 0x01) s += 'F';
  if (flags & 0x04) s += 'R';
  if (flags & 0x08) s += 'P';
  if (flags & 0x20) s += 'U';
  if (flags & 0x40) s += 'E';
  if (flags & 0x80) s += 'W';
  if (flags & 0x10) s += '.';
  return s === '' ? 'none' : s;
}

const ICMP_NAMES: Record<number, string> = {
  0: 'echo reply',
  3: 'unreachable',
  4: 'source quench',
  5: 'redirect',
  8: 'echo request',
  11: 'time exceeded',
  12: 'parameter problem',
  13: 'timestamp request',
  14: 'timestamp reply',
};

const ICMP_UNREACH: Record<number, string> = {
  0: 'net',
  1: 'host',
  2: 'protocol',
  3: 'port',
  4: 'need-frag',
  9: 'net-prohibited',
  10: 'host-prohibited',
  13: 'admin-prohibited',
};

const ICMP6_NAMES: Record<number, string> = {
  1: 'unreachable',
  2: 'packet too big',
  3: 'time exceeded',
  4: 'parameter problem',
  128: 'echo request',
  129: 'echo reply',
  130: 'multicast listener query',
  131: 'multicast listener report',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
  137: 'redirect',
  143: 'multicast listener report v2',
};

/** True for ICMP (IPv4) types that quote the offending packet. */
export function icmpIsError(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** True for ICMPv6 types that quote the offending packet. */
export function icmp6IsError(type: number): boolean {
  return type >= 1 && type <= 4;
}

class Decoder {
  readonly fields: FieldSpan[] = [];
  readonly bad: string[] = [];
  readonly parts: string[] = [];

  constructor(readonly b: Uint8Array) {}

  field(name: string, offset: number, length: number, text: string): void {
    if (offset + length > this.b.length) {
      this.fields.push({ name, offset, length: Math.max(0, this.b.length - offset), text: `${text} (truncated)` });
      return;
    }
    this.fields.push({ name, offset, length, text });
  }

  rest(name: string, offset: number, end: number): void {
    if (end > offset) this.field(name, offset, end - offset, `${end - offset} bytes`);
  }

  has(offset: number, length: number): boolean {
    return offset + length <= this.b.length;
  }

  ethernet(): void {
    const b = this.b;
    if (!this.has(0, 14)) {
      this.rest('truncated', 0, b.length);
      this.parts.push(`truncated frame of ${b.length} bytes`);
      return;
    }
    this.field('eth.dst', 0, 6, formatMac(b, 0));
    this.field('eth.src', 6, 6, formatMac(b, 6));
    let off = 12;
    let type = get16(b, off);
    let vlan = '';
    if (type === 0x8100 && this.has(off, 6)) {
      this.field('vlan.tpid', off, 2, hex4(type));
      this.field('vlan.tci', off + 2, 2, `vlan ${get16(b, off + 2) & 0xfff} prio ${get16(b, off + 2) >> 13}`);
      vlan = ` vlan ${get16(b, off + 2) & 0xfff}`;
      off += 4;
      type = get16(b, off);
    }
    this.field('eth.type', off, 2, hex4(type));
    this.parts.push(`${formatMac(b, 6)} > ${formatMac(b, 0)}${vlan}`);
    off += 2;
    if (type === 0x0800) this.ipv4(off, b.length, 'ip', false);
    else if (type === 0x86dd) this.ipv6(off, b.length, 'ip6', false);
    else if (type === 0x0806) this.arp(off);
    else {
      this.parts.push(`ethertype ${hex4(type)}, ${b.length - off} bytes`);
      this.rest('payload', off, b.length);
    }
  }

  arp(off: number): void {
    const b = this.b;
    if (!this.has(off, 28)) {
      this.parts.push('ARP, truncated');
      this.rest('arp.truncated', off, b.length);
      return;
    }
    const op = get16(b, off + 6);
    this.field('arp.hrd', off, 2, String(get16(b, off)));
    this.field('arp.pro', off + 2, 2, hex4(get16(b, off + 2)));
    this.field('arp.hln', off + 4, 1, String(b[off + 4]));
    this.field('arp.pln', off + 5, 1, String(b[off + 5]));
    this.field('arp.op', off + 6, 2, op === 1 ? 'request' : op === 2 ? 'reply' : String(op));
    this.field('arp.sha', off + 8, 6, formatMac(b, off + 8));
    this.field('arp.spa', off + 14, 4, formatIpv4(b, off + 14));
    this.field('arp.tha', off + 18, 6, formatMac(b, off + 18));
    this.field('arp.tpa', off + 24, 4, formatIpv4(b, off + 24));
    const tpa = formatIpv4(b, off + 24);
    const spa = formatIpv4(b, off + 14);
    this.parts.push(
      op === 1 ? `ARP who-has ${tpa} tell ${spa}` : op === 2 ? `ARP reply ${spa} is-at ${formatMac(b, off + 8)}` : `ARP op ${op}`,
    );
    this.rest('padding', off + 28, b.length);
  }

  /** An IPv4 header at `off` whose packet ends at or before `end`; `quoted` inside an ICMP error. */
  ipv4(off: number, end: number, p: string, quoted: boolean): void {
    const b = this.b;
    if (end - off < 20) {
      this.parts.push('IPv4, truncated');
      this.rest(`${p}.truncated`, off, end);
      return;
    }
    const ihl = (b[off]! & 0x0f) * 4;
    const totLen = get16(b, off + 2);
    const id = get16(b, off + 4);
    const frag = get16(b, off + 6);
    const ttl = b[off + 8]!;
    const proto = b[off + 9]!;
    const src = formatIpv4(b, off + 12);
    const dst = formatIpv4(b, off + 16);
    this.field(`${p}.vhl`, off, 1, `version ${b[off]! >> 4} ihl ${ihl}`);
    this.field(`${p}.tos`, off + 1, 1, hex2(b[off + 1]!));
    this.field(`${p}.len`, off + 2, 2, String(totLen));
    this.field(`${p}.id`, off + 4, 2, `${id} (${hex4(id)})`);
    const fragText = [frag & 0x8000 ? 'CE' : '', frag & 0x4000 ? 'DF' : '', frag & 0x2000 ? 'MF' : '', `offset ${(frag & 0x1fff) * 8}`];
    this.field(`${p}.frag`, off + 6, 2, fragText.filter((x) => x !== '').join(' '));
    this.field(`${p}.ttl`, off + 8, 1, String(ttl));
    this.field(`${p}.proto`, off + 9, 1, String(proto));
    this.field(`${p}.check`, off + 10, 2, hex4(get16(b, off + 10)));
    this.field(`${p}.src`, off + 12, 4, src);
    this.field(`${p}.dst`, off + 16, 4, dst);
    if (ihl > 20) this.field(`${p}.options`, off + 20, ihl - 20, `${ihl - 20} bytes`);
    if (!quoted && ihl >= 20 && off + ihl <= end && internetChecksum(b.subarray(off, off + ihl)) !== 0) {
      this.bad.push(`${p}.check ${hex4(get16(b, off + 10))} is wrong (should be ${hex4(correctIpv4Check(b, off, ihl))})`);
    }
    const flags = `ttl ${ttl}, id ${id}${frag & 0x4000 ? ', DF' : ''}${frag & 0x2000 ? ', MF' : ''}${frag & 0x1fff ? `, offset ${(frag & 0x1fff) * 8}` : ''}${b[off + 1] ? `, tos ${hex2(b[off + 1]!)}` : ''}, len ${totLen}`;
    const l4End = quoted ? end : Math.min(end, off + totLen);
    if (!quoted && off + totLen < end) this.rest('padding', off + totLen, end);
    const l4 = off + ihl;
    const firstFragment = (frag & 0x1fff) === 0;
    const complete = !quoted && (frag & 0x3fff) === 0 && off + totLen <= end;
    const pseudo = onesSum(b.subarray(off + 12, off + 20)) + proto + (totLen - ihl);
    const summary = this.transport(proto, l4, l4End, p === 'ip' ? '' : `${p.replace(/\.ip$/, '')}.`, complete, pseudo, 'v4', firstFragment);
    this.parts.push(`IPv4 ${src} > ${dst} (${flags}) ${summary}`.trimEnd());
  }

  ipv6(off: number, end: number, p: string, quoted: boolean): void {
    const b = this.b;
    if (end - off < 40) {
      this.parts.push('IPv6, truncated');
      this.rest(`${p}.truncated`, off, end);
      return;
    }
    const word0 = get32(b, off);
    const tclass = (word0 >>> 20) & 0xff;
    const flow = word0 & 0xfffff;
    const plen = get16(b, off + 4);
    const next = b[off + 6]!;
    const hlim = b[off + 7]!;
    const src = formatIpv6(b, off + 8);
    const dst = formatIpv6(b, off + 24);
    this.field(`${p}.vtc`, off, 2, `version ${word0 >>> 28} class ${hex2(tclass)}`);
    this.field(`${p}.flow`, off + 1, 3, `0x${flow.toString(16).padStart(5, '0')}`);
    this.field(`${p}.plen`, off + 4, 2, String(plen));
    this.field(`${p}.next`, off + 6, 1, String(next));
    this.field(`${p}.hlim`, off + 7, 1, String(hlim));
    this.field(`${p}.src`, off + 8, 16, src);
    this.field(`${p}.dst`, off + 24, 16, dst);
    const l4End = quoted ? end : Math.min(end, off + 40 + plen);
    if (!quoted && off + 40 + plen < end) this.rest('padding', off + 40 + plen, end);
    // Extension headers: hop-by-hop, routing, fragment, destination options.
    let proto = next;
    let l4 = off + 40;
    let first = true;
    const exts: string[] = [];
    while ((proto === 0 || proto === 43 || proto === 44 || proto === 60) && l4 + 8 <= l4End) {
      const len = proto === 44 ? 8 : (b[l4 + 1]! + 1) * 8;
      const name = proto === 0 ? 'hbh' : proto === 43 ? 'rthdr' : proto === 44 ? 'frag' : 'dstopts';
      this.field(`${p}.${name}`, l4, Math.min(len, l4End - l4), `next ${b[l4]}, ${len} bytes`);
      if (proto === 44) {
        const fo = get16(b, l4 + 2);
        first = (fo & 0xfff8) === 0;
        exts.push(`frag offset ${fo & 0xfff8}${fo & 1 ? ' M' : ''} id ${get32(b, l4 + 4)}`);
      } else exts.push(name);
      proto = b[l4]!;
      l4 += len;
    }
    const complete = !quoted && off + 40 + plen <= end && first && !exts.some((e) => e.startsWith('frag'));
    const pseudo = onesSum(b.subarray(off + 8, off + 40)) + proto + (off + 40 + plen - l4);
    const flags = `hlim ${hlim}${flow ? `, flow 0x${flow.toString(16).padStart(5, '0')}` : ''}${tclass ? `, class ${hex2(tclass)}` : ''}, plen ${plen}${exts.length ? `, ${exts.join(', ')}` : ''}`;
    const summary = this.transport(proto, l4, l4End, p === 'ip6' ? '' : `${p.replace(/\.ip6$/, '')}.`, complete, pseudo, 'v6', first);
    this.parts.push(`IPv6 ${src} > ${dst} (${flags}) ${summary}`.trimEnd());
  }

  /** Decodes a transport header; returns its summary. `prefix` is "" or "icmp.orig." for quoted packets. */
  transport(proto: number, off: number, end: number, prefix: string, complete: boolean, pseudo: number, family: 'v4' | 'v6', first: boolean): string {
    const b = this.b;
    const verify = (name: string, at: number, withPseudo: boolean): void => {
      if (!complete || at + 2 > end) return;
      const sum = internetChecksum(b.subarray(off, end), withPseudo ? pseudo : 0);
      if (sum !== 0) this.bad.push(`${prefix}${name} ${hex4(get16(b, at))} is wrong`);
    };
    if (!first) {
      this.rest(`${prefix}fragment`, off, end);
      return `fragment, ${end - off} bytes`;
    }
    if (proto === 6 && end - off >= 20) {
      const p = `${prefix}tcp`;
      const doff = (b[off + 12]! >> 4) * 4;
      const flags = b[off + 13]!;
      this.field(`${p}.sport`, off, 2, String(get16(b, off)));
      this.field(`${p}.dport`, off + 2, 2, String(get16(b, off + 2)));
      this.field(`${p}.seq`, off + 4, 4, String(get32(b, off + 4)));
      this.field(`${p}.ack`, off + 8, 4, String(get32(b, off + 8)));
      this.field(`${p}.doff`, off + 12, 1, `${doff} bytes${b[off + 12]! & 0x0f ? ` reserved ${b[off + 12]! & 0x0f}` : ''}`);
      this.field(`${p}.flags`, off + 13, 1, `[${formatTcpFlags(flags)}]`);
      this.field(`${p}.window`, off + 14, 2, String(get16(b, off + 14)));
      this.field(`${p}.check`, off + 16, 2, hex4(get16(b, off + 16)));
      this.field(`${p}.urg`, off + 18, 2, String(get16(b, off + 18)));
      if (doff > 20) this.field(`${p}.options`, off + 20, Math.min(doff, end - off) - 20, `${doff - 20} bytes`);
      this.rest(`${p}.payload`, off + Math.max(20, doff), end);
      verify('tcp.check', off + 16, true);
      const data = end - off - doff;
      return `TCP ${get16(b, off)} > ${get16(b, off + 2)} [${formatTcpFlags(flags)}] seq ${get32(b, off + 4)}${flags & 0x10 ? ` ack ${get32(b, off + 8)}` : ''} win ${get16(b, off + 14)}${data > 0 ? `, ${data} bytes` : ''}`;
    }
    if (proto === 17 && end - off >= 8) {
      const p = `${prefix}udp`;
      this.field(`${p}.sport`, off, 2, String(get16(b, off)));
      this.field(`${p}.dport`, off + 2, 2, String(get16(b, off + 2)));
      this.field(`${p}.len`, off + 4, 2, String(get16(b, off + 4)));
      this.field(`${p}.check`, off + 6, 2, hex4(get16(b, off + 6)));
      this.rest(`${p}.payload`, off + 8, end);
      if (get16(b, off + 6) !== 0 || family === 'v6') verify('udp.check', off + 6, true);
      return `UDP ${get16(b, off)} > ${get16(b, off + 2)}, ${get16(b, off + 4) - 8} bytes`;
    }
    if ((proto === 1 && family === 'v4') || (proto === 58 && family === 'v6')) {
      const v6 = proto === 58;
      const p = `${prefix}${v6 ? 'icmp6' : 'icmp'}`;
      if (end - off < 4) {
        this.rest(`${p}.truncated`, off, end);
        return `${v6 ? 'ICMPv6' : 'ICMP'}, truncated`;
      }
      const type = b[off]!;
      const code = b[off + 1]!;
      this.field(`${p}.type`, off, 1, String(type));
      this.field(`${p}.code`, off + 1, 1, String(code));
      this.field(`${p}.check`, off + 2, 2, hex4(get16(b, off + 2)));
      verify(`${v6 ? 'icmp6' : 'icmp'}.check`, off + 2, v6);
      const name = (v6 ? ICMP6_NAMES : ICMP_NAMES)[type] ?? `type ${type}`;
      const isError = v6 ? icmp6IsError(type) : icmpIsError(type);
      if (end - off < 8) {
        this.rest(`${p}.body`, off + 4, end);
        return `${v6 ? 'ICMPv6' : 'ICMP'} ${name} code ${code}`;
      }
      if (isError && prefix === '') {
        this.field(`${p}.rest`, off + 4, 4, hex4(get32(b, off + 4)));
        const inner = off + 8;
        const before = this.parts.length;
        if (v6) this.ipv6(inner, end, `${p}.orig.ip6`, true);
        else this.ipv4(inner, end, `${p}.orig.ip`, true);
        const quoted = this.parts.splice(before).join(' ');
        const what = !v6 && type === 3 ? `${ICMP_UNREACH[code] ?? `code ${code}`} unreachable` : `${name} code ${code}`;
        return `${v6 ? 'ICMPv6' : 'ICMP'} ${what} [${quoted}]`;
      }
      const echo = v6 ? type === 128 || type === 129 : type === 0 || type === 8 || type === 13 || type === 14;
      if (echo) {
        this.field(`${p}.id`, off + 4, 2, String(get16(b, off + 4)));
        this.field(`${p}.seq`, off + 6, 2, String(get16(b, off + 6)));
        this.rest(`${p}.payload`, off + 8, end);
        return `${v6 ? 'ICMPv6' : 'ICMP'} ${name} id ${get16(b, off + 4)} seq ${get16(b, off + 6)}, ${end - off - 8} bytes`;
      }
      this.field(`${p}.rest`, off + 4, 4, hex4(get32(b, off + 4)));
      this.rest(`${p}.payload`, off + 8, end);
      return `${v6 ? 'ICMPv6' : 'ICMP'} ${name} code ${code}, ${end - off - 8} bytes`;
    }
    this.rest(`${prefix}payload`, off, end);
    return `proto ${proto}, ${end - off} bytes`;
  }
}

function correctIpv4Check(b: Uint8Array, off: number, ihl: number): number {
  const copy = b.slice(off, off + ihl);
  copy[10] = 0;
  copy[11] = 0;
  return internetChecksum(copy);
}

/** Decodes a whole Ethernet frame. */
export function decodeFrame(bytes: Uint8Array): DecodedFrame {
  const d = new Decoder(bytes);
  d.ethernet();
  return { fields: d.fields, summary: d.parts.join(' '), badChecksums: d.bad };
}

/** One line describing a frame, e.g. "02:00:00:00:00:01 > 02:00:00:00:00:02 IPv4 10.0.0.1 > 10.0.0.2 (...) TCP 80 > 1000 [R.] ...". */
export function describeFrame(bytes: Uint8Array): string {
  return decodeFrame(bytes).summary;
}

/** The innermost decoded field that covers byte `offset`, or undefined past the decoded part. */
export function fieldAt(fields: readonly FieldSpan[], offset: number): FieldSpan | undefined {
  let found: FieldSpan | undefined;
  for (const f of fields) if (offset >= f.offset && offset < f.offset + f.length) found = f;
  return found;
}

/** Lines of "offset: 16 hex bytes" for a frame. */
export function hexLines(bytes: Uint8Array): string[] {
  const lines: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = Array.from(bytes.subarray(i, i + 16), (x) => x.toString(16).padStart(2, '0'));
    lines.push(`${i.toString(16).padStart(4, '0')}: ${row.join(' ')}`);
  }
  return lines;
}
