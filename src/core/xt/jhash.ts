/**
 * The kernel's Jenkins hash of one to three 32-bit words (jhash_1word,
 * jhash_3words) and reciprocal_scale, as the cluster match and the HMARK
 * target use them. All arithmetic is unsigned 32-bit.
 */

const JHASH_INITVAL = 0xdeadbeef;

function rol32(w: number, s: number): number {
  return ((w << s) | (w >>> (32 - s))) >>> 0;
}

/** __jhash_nwords: the final mix of three words with `initval` added to each. */
function jhashNwords(a0: number, b0: number, c0: number, initval: number): number {
  let a = (a0 + initval) >>> 0;
  let b = (b0 + initval) >>> 0;
  let c = (c0 + initval) >>> 0;
  c = ((c ^ b) - rol32(b, 14)) >>> 0;
  a = ((a ^ c) - rol32(c, 11)) >>> 0;
  b = ((b ^ a) - rol32(a, 25)) >>> 0;
  c = ((c ^ b) - rol32(b, 16)) >>> 0;
  a = ((a ^ c) - rol32(c, 4)) >>> 0;
  b = ((b ^ a) - rol32(a, 14)) >>> 0;
  c = ((c ^ b) - rol32(b, 24)) >>> 0;
  return c;
}

/** jhash_3words(a, b, c, initval). */
export function jhash3words(a: number, b: number, c: number, initval: number): number {
  return jhashNwords(a, b, c, (initval + JHASH_INITVAL + (3 << 2)) >>> 0);
}

/** jhash_1word(a, initval). */
export function jhash1word(a: number, initval: number): number {
  return jhashNwords(a, 0, 0, (initval + JHASH_INITVAL + (1 << 2)) >>> 0);
}

/** reciprocal_scale: `value` scaled into [0, n) as (value * n) >> 32. */
export function reciprocalScale(value: number, n: number): number {
  // (hi * 2^16 + lo) * n / 2^32 without leaving exact double arithmetic
  const v = value >>> 0;
  const m = n >>> 0;
  const x = (v >>> 16) * m + Math.floor(((v & 0xffff) * m) / 0x10000);
  return Math.floor(x / 0x10000);
}

/** The 32-bit value a little-endian CPU reads from the network-order bytes of `v` (an address as the kernel hashes it). */
export function hostOrder32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
