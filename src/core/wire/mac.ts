/** Ethernet (MAC) addresses: six bytes, written as lower-case "0a:11:d1:09:77:ce". */

const HEX = '0123456789abcdef';

/** Formats the six bytes at `off` as "xx:xx:xx:xx:xx:xx" in lower case. */
export function formatMac(buf: Uint8Array, off = 0): string {
  let s = '';
  for (let i = 0; i < 6; i++) {
    const b = buf[off + i]!;
    if (i > 0) s += ':';
    s += HEX[b >>> 4]! + HEX[b & 15]!;
  }
  return s;
}

/**
 * Parses six colon-separated groups of one or two hex digits (either case)
 * into `out` at `off`; returns false, leaving `out` unspecified, when the
 * text is not such an address.
 */
export function parseMacInto(text: string, out: Uint8Array, off = 0): boolean {
  const parts = text.split(':');
  if (parts.length !== 6) return false;
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return false;
    out[off + i] = parseInt(p, 16);
  }
  return true;
}

/** Parses a MAC address (see parseMacInto) into new bytes, or undefined. */
export function parseMac(text: string): Uint8Array | undefined {
  const out = new Uint8Array(6);
  return parseMacInto(text, out) ? out : undefined;
}

/** Whether the address at `off` is ff:ff:ff:ff:ff:ff. */
export function macIsBroadcast(buf: Uint8Array, off = 0): boolean {
  for (let i = 0; i < 6; i++) if (buf[off + i] !== 0xff) return false;
  return true;
}

/** Whether the address at `off` is a group (multicast or broadcast) address. */
export function macIsMulticast(buf: Uint8Array, off = 0): boolean {
  return (buf[off]! & 1) !== 0;
}

/** Whether the six bytes at `aOff` in `a` equal those at `bOff` in `b`. */
export function macEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}
