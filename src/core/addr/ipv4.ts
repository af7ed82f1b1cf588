/**
 * IPv4 addresses and masks as unsigned 32-bit numbers, parsed and printed
 * the way the iptables userspace does (libxtables): dotted quads with
 * per-part strtoul semantics, short network forms ("10" is 10.0.0.0),
 * prefix lengths and dotted (possibly non-contiguous) masks.
 */
import { strtoulPrefix, strtoulRange } from '../util/cnum.js';

/** An IPv4 address or mask held as an unsigned 32-bit integer. */
export type IPv4 = number;

/** Formats an address as a dotted quad. */
export function formatIPv4(a: IPv4): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/**
 * Parses a dotted address as xtables_numeric_to_ipaddr does. Each part is a
 * C number (hex and octal accepted) from 0 to 255; fewer than four parts
 * fill the rest with zeros unless `isMask` is set.
 */
export function parseIPv4Numeric(text: string, isMask = false): IPv4 | undefined {
  const fast = parsePlainDotted(text);
  if (fast !== undefined) return fast;
  const s = text.length > 19 ? text.slice(0, 19) : text;
  const parts = s.split('.');
  if (parts.length > 4) {
    // the fourth part holds the rest, dots included, and fails the number check
    parts[3] = parts.slice(3).join('.');
    parts.length = 4;
  }
  if (parts.length < 4 && isMask) return undefined;
  let value = 0;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    if (p === undefined) {
      value = value * 256;
      continue;
    }
    const b = strtoulRange(p, 0, 255);
    if (b === undefined) return undefined;
    value = value * 256 + b;
  }
  return value >>> 0;
}

/** A mask of `bits` leading ones. */
export function prefixMask(bits: number): IPv4 {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** The prefix length of a contiguous mask, or -1 when it is not contiguous. */
export function maskToPrefix(mask: IPv4): number {
  if (mask === 0) return 0;
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  let bits = 32;
  let m = inv;
  while (m) {
    bits--;
    m >>>= 1;
  }
  return bits;
}

/** The mask suffix -L prints: "" for /32, "/N" for contiguous, "/a.b.c.d" otherwise. */
export function maskToListSuffix(mask: IPv4): string {
  if (mask === 0xffffffff) return '';
  const p = maskToPrefix(mask);
  return p >= 0 ? `/${p}` : `/${formatIPv4(mask)}`;
}

/** The mask as iptables-save prints it after the slash: a prefix length or a dotted mask. */
export function maskToSave(mask: IPv4): string {
  const p = maskToPrefix(mask);
  return p >= 0 ? String(p) : formatIPv4(mask);
}

/** Whether `addr` falls in `net/mask`. */
export function inNetwork(addr: IPv4, net: IPv4, mask: IPv4): boolean {
  return ((addr & mask) >>> 0) === ((net & mask) >>> 0);
}

/** Fast path for the common "a.b.c.d" with plain decimal parts (no leading zeros). */
function parsePlainDotted(s: string): IPv4 | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined; // leading zero: octal rules apply
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return undefined;
    } else if (c === 46) {
      if (digits === 0 || parts === 3) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      parts++;
    } else {
      return undefined;
    }
  }
  if (parts !== 3 || digits === 0) return undefined;
  return (value * 256 + part) >>> 0;
}

/**
 * inet_aton in its exact form (as getaddrinfo uses it): one to four parts,
 * each a C number (hex, octal, decimal), the last filling the remaining
 * bytes; nothing may follow.
 */
export function inetAton(s: string): IPv4 | undefined {
  if (s === '') return undefined;
  const parts = s.split('.');
  if (parts.length > 4) return undefined;
  const nums: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]/.test(p)) return undefined;
    const v = strtoulPrefix(p, 0, 0xffffffff);
    if (!v || v.end !== p.length) return undefined;
    nums.push(v.value);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255)) return undefined;
  const lastBytes = 4 - nums.length;
  if (last >= 2 ** (8 * lastBytes)) return undefined;
  let v = 0;
  for (const n of nums) v = v * 256 + n;
  return (v * 2 ** (8 * lastBytes) + last) >>> 0;
}
