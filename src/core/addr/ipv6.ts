/**
 * IPv6 addresses and masks, parsed and printed the way the iptables
 * userspace does: glibc's inet_pton/inet_ntop text forms (with the embedded
 * dotted-quad forms), masks given as a prefix length or as a full address,
 * and xtables_ip6parse_multiple's comma lists.
 */
import { strtoulRange } from '../util/cnum.js';

/**
 * An IPv6 address or mask: four unsigned 32-bit words in network order
 * (word 0 holds the first four bytes). Plain numbers so it persists as JSON.
 */
export type IPv6 = number[];

/** An address with its mask, as -s/-d produce them. */
export interface AddrMask6 {
  addr: IPv6;
  mask: IPv6;
}

/** The unspecified address `::` (also the empty mask). */
export function ip6Zero(): IPv6 {
  return [0, 0, 0, 0];
}

/** The all-ones mask (/128). */
export function ip6Ones(): IPv6 {
  return [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff];
}

/** Whether `a` is `::` (IN6_IS_ADDR_UNSPECIFIED). */
export function ip6IsZero(a: IPv6): boolean {
  return a[0] === 0 && a[1] === 0 && a[2] === 0 && a[3] === 0;
}

/** Whether two addresses are equal. */
export function ip6Equal(a: IPv6, b: IPv6): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** Bitwise AND of an address and a mask. */
export function ip6And(a: IPv6, m: IPv6): IPv6 {
  return [(a[0]! & m[0]!) >>> 0, (a[1]! & m[1]!) >>> 0, (a[2]! & m[2]!) >>> 0, (a[3]! & m[3]!) >>> 0];
}

/** The 16 bytes of an address. */
export function ip6Bytes(a: IPv6): number[] {
  const out: number[] = [];
  for (const w of a) out.push(w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255);
  return out;
}

/** An address from 16 bytes. */
export function ip6FromBytes(b: readonly number[]): IPv6 {
  const out: IPv6 = [];
  for (let i = 0; i < 16; i += 4) out.push(((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0);
  return out;
}

/** The eight 16-bit groups of an address. */
function words16(a: IPv6): number[] {
  const out: number[] = [];
  for (const w of a) out.push(w >>> 16, w & 0xffff);
  return out;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** glibc inet_pton4 over s[start..]: four decimal parts, no leading zeros. */
function pton4(s: string, start: number, out: number[]): boolean {
  let sawDigit = false;
  let octets = 0;
  let cur = 0;
  const parts: number[] = [];
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      const v = cur * 10 + (c - 48);
      if (sawDigit && cur === 0) return false;
      if (v > 255) return false;
      cur = v;
      if (!sawDigit) {
        if (++octets > 4) return false;
        sawDigit = true;
      }
    } else if (c === 46 && sawDigit) {
      if (octets === 4) return false;
      parts.push(cur);
      cur = 0;
      sawDigit = false;
    } else {
      return false;
    }
  }
  if (octets < 4) return false;
  parts.push(cur);
  out.push(...parts);
  return true;
}

/**
 * inet_pton(AF_INET6) as glibc implements it: hex groups of at most four
 * digits, one `::`, an optional dotted quad in the last 32 bits. Returns
 * undefined for anything else (no brackets, no scope ids, no spaces).
 */
export function parseIPv6(s: string): IPv6 | undefined {
  const bytes: number[] = [];
  let colonAt = -1;
  let i = 0;
  if (s.length === 0) return undefined;
  if (s[0] === ':') {
    i++;
    if (i >= s.length || s[i] !== ':') return undefined;
  }
  let curtok = i;
  let digits = 0;
  let val = 0;
  while (i < s.length) {
    const ch = s.charCodeAt(i++);
    const d = hexValue(ch);
    if (d >= 0) {
      if (digits === 4) return undefined;
      val = (val << 4) | d;
      digits++;
      continue;
    }
    if (ch === 58) {
      curtok = i;
      if (digits === 0) {
        if (colonAt >= 0) return undefined;
        colonAt = bytes.length;
        continue;
      } else if (i >= s.length) return undefined;
      if (bytes.length + 2 > 16) return undefined;
      bytes.push((val >> 8) & 0xff, val & 0xff);
      digits = 0;
      val = 0;
      continue;
    }
    if (ch === 46 && bytes.length + 4 <= 16) {
      const quad: number[] = [];
      if (pton4(s, curtok, quad)) {
        bytes.push(...quad);
        digits = 0;
        break;
      }
    }
    return undefined;
  }
  if (digits > 0) {
    if (bytes.length + 2 > 16) return undefined;
    bytes.push((val >> 8) & 0xff, val & 0xff);
  }
  if (colonAt >= 0) {
    if (bytes.length === 16) return undefined;
    const tail = bytes.splice(colonAt);
    while (bytes.length + tail.length < 16) bytes.push(0);
    bytes.push(...tail);
  }
  if (bytes.length !== 16) return undefined;
  return ip6FromBytes(bytes);
}

/**
 * inet_ntop(AF_INET6) as glibc prints it: lower-case hex, the first longest
 * run of two or more zero groups as `::`, and the dotted forms `::a.b.c.d`
 * and `::ffff:a.b.c.d`.
 */
export function formatIPv6(a: IPv6): string {
  const w = words16(a);
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (w[i] === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (bestBase === -1 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase !== -1 && (bestBase === -1 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase !== -1 && bestLen < 2) bestBase = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      const last = a[3]!;
      s += `${last >>> 24}.${(last >>> 16) & 255}.${(last >>> 8) & 255}.${last & 255}`;
      return s;
    }
    s += w[i]!.toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ':';
  return s;
}

/** A mask of `bits` (0-128) leading ones. */
export function ip6PrefixMask(bits: number): IPv6 {
  const out: IPv6 = [];
  for (let i = 0; i < 4; i++) {
    const b = Math.max(0, Math.min(32, bits - 32 * i));
    out.push(b === 0 ? 0 : (0xffffffff << (32 - b)) >>> 0);
  }
  return out;
}

/** xtables_ip6mask_to_cidr: the prefix length of a contiguous mask, else -1. */
export function ip6MaskToCidr(m: IPv6): number {
  let bits = 0;
  let i = 0;
  while (i < 4 && m[i] === 0xffffffff) {
    bits += 32;
    i++;
  }
  if (i === 4) return 128;
  const w = m[i]!;
  const inv = ~w >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  bits += Math.clz32(inv);
  for (let j = i + 1; j < 4; j++) if (m[j] !== 0) return -1;
  return bits;
}

/** xtables_ip6mask_to_numeric: "" for /128, "/N" when contiguous, else "/" and the mask as an address. */
export function ip6MaskToNumeric(m: IPv6): string {
  const l = ip6MaskToCidr(m);
  if (l === -1) return `/${formatIPv6(m)}`;
  return l === 128 ? '' : `/${l}`;
}

/** The address and mask as ip6tables-save writes them after -s/-d: "addr/len" or "addr/mask". */
export function ip6SaveForm(addr: IPv6, mask: IPv6): string {
  const l = ip6MaskToCidr(mask);
  return `${formatIPv6(addr)}/${l === -1 ? formatIPv6(mask) : l}`;
}

/** A parameter problem raised by the address parsers; the caller turns it into its own error type. */
export class Ip6ParseError extends Error {}

/**
 * parse_ip6mask: no mask is /128; a mask is either an address (inet_pton)
 * or a prefix length 0-128 in C number syntax.
 */
export function parseIp6Mask(text: string | undefined): IPv6 {
  if (text === undefined) return ip6Ones();
  const asAddr = parseIPv6(text);
  if (asAddr) return asAddr;
  const bits = strtoulRange(text, 0, 128);
  if (bits === undefined) throw new Ip6ParseError(`invalid mask \`${text}' specified`);
  return ip6PrefixMask(bits);
}

/** Looks a host name up for IPv6 (getaddrinfo with AF_INET6): its IPv6 addresses, possibly none. */
export type Host6Lookup = (name: string) => IPv6[];

/**
 * ip6parse_hostnetwork: a numeric address, else the host's IPv6 addresses;
 * throws "host/network `NAME' not found" otherwise.
 */
export function ip6HostNetwork(name: string, lookup: Host6Lookup): IPv6[] {
  const n = parseIPv6(name);
  if (n) return [n];
  const found = lookup(name);
  if (found.length) return found;
  throw new Ip6ParseError(`host/network \`${name}' not found`);
}

/**
 * xtables_ip6parse_multiple: a comma-separated list of address[/mask]
 * items (leading blanks skipped), names expanding to all their addresses,
 * each address masked. A zero mask makes the name irrelevant ("any/0").
 */
export function ip6ParseMultiple(spec: string, lookup: Host6Lookup): AddrMask6[] {
  const out: AddrMask6[] = [];
  for (const raw of spec.split(',')) {
    let item = raw.replace(/^[ \t\n\v\f\r]+/, '');
    if (item.length > 255) throw new Ip6ParseError('Hostname too long');
    const slash = item.lastIndexOf('/');
    let mask: IPv6;
    if (slash >= 0) {
      mask = parseIp6Mask(item.slice(slash + 1));
      item = item.slice(0, slash);
    } else {
      mask = parseIp6Mask(undefined);
    }
    if (ip6IsZero(mask)) item = '::';
    for (const a of ip6HostNetwork(item, lookup)) out.push({ addr: ip6And(a, mask), mask });
  }
  return out;
}

/**
 * xtables_ip6parse_any: one address[/mask] (names may give several
 * addresses, duplicates after masking dropped), used by extensions.
 */
export function ip6ParseAny(spec: string, lookup: Host6Lookup): { addrs: IPv6[]; mask: IPv6 } {
  let item = spec.slice(0, 255);
  const slash = item.lastIndexOf('/');
  let mask: IPv6;
  if (slash >= 0) {
    mask = parseIp6Mask(item.slice(slash + 1));
    item = item.slice(0, slash);
  } else mask = parseIp6Mask(undefined);
  if (ip6IsZero(mask)) item = '::';
  const addrs: IPv6[] = [];
  for (const a of ip6HostNetwork(item, lookup)) {
    const m = ip6And(a, mask);
    if (!addrs.some((x) => ip6Equal(x, m))) addrs.push(m);
  }
  return { addrs, mask };
}

/** Parses the address lines of an /etc/hosts text into IPv6 entries, in file order. */
export function parseHosts6(text: string): { addr: IPv6; names: string[] }[] {
  const out: { addr: IPv6; names: string[] }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [addrText, ...names] = line.split(/\s+/);
    if (!addrText || names.length === 0) continue;
    const addr = parseIPv6(addrText);
    if (addr) out.push({ addr, names });
  }
  return out;
}
