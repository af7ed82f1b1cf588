/**
 * How NAT picks an address out of a range (find_best_ips_proto): a Jenkins
 * hash (lookup3, as the kernel's jhash2) of the connection's source
 * address, seeded with its destination address unless --persistent, scaled
 * onto the range. No boot-time secret takes part, so the choice is the
 * same on every machine and across reboots, and nflab reproduces it
 * exactly.
 *
 * The kernel hashes the 16-byte address union (the IPv4 address and three
 * zero words) and reads addresses in memory order on a little-endian
 * machine, which is what `leWord` reproduces.
 */

/** Rotates a 32-bit value left by `k` bits. */
function rol32(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The IPv4 address `a` (host order) as the 32-bit word a little-endian CPU reads from its network-order bytes. */
export function leWord(a: number): number {
  return (((a & 0xff) << 24) | ((a >>> 8) & 0xff) << 16 | ((a >>> 16) & 0xff) << 8 | (a >>> 24)) >>> 0;
}

/**
 * jhash2 of the four words [w0, 0, 0, 0] with the given initial value:
 * the kernel's hash of an IPv4 address stored in a nf_inet_addr.
 */
export function jhashAddr(w0: number, initval: number): number {
  let a = (0xdeadbeef + 16 + initval) >>> 0;
  let b = a;
  let c = a;
  // First three words, then __jhash_mix.
  a = (a + w0) >>> 0;
  a = (a - c) >>> 0; a = (a ^ rol32(c, 4)) >>> 0; c = (c + b) >>> 0;
  b = (b - a) >>> 0; b = (b ^ rol32(a, 6)) >>> 0; a = (a + c) >>> 0;
  c = (c - b) >>> 0; c = (c ^ rol32(b, 8)) >>> 0; b = (b + a) >>> 0;
  a = (a - c) >>> 0; a = (a ^ rol32(c, 16)) >>> 0; c = (c + b) >>> 0;
  b = (b - a) >>> 0; b = (b ^ rol32(a, 19)) >>> 0; a = (a + c) >>> 0;
  c = (c - b) >>> 0; c = (c ^ rol32(b, 4)) >>> 0; b = (b + a) >>> 0;
  // The fourth word (zero) is added to a, then __jhash_final.
  c = (c ^ b) >>> 0; c = (c - rol32(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 24)) >>> 0;
  return c;
}

/** reciprocal_scale: `value` (32-bit) mapped onto [0, n) as (value * n) >> 32. */
export function reciprocalScale(value: number, n: number): number {
  // value * n can exceed 2^53; split value into halves to stay exact.
  const hi = (value >>> 16) * n;
  const lo = (value & 0xffff) * n;
  return Math.floor((hi + Math.floor(lo / 0x10000)) / 0x10000) >>> 0;
}

/**
 * The address find_best_ips_proto gives a connection from `src` to `dst`
 * (host order) within [minIp, maxIp], in zone `zone`; `persistent` drops
 * the destination from the hash (--persistent).
 */
export function pickAddress(src: number, dst: number, minIp: number, maxIp: number, persistent: boolean, zone: number): number {
  if (minIp === maxIp) return minIp;
  const seed = persistent ? 0 : (leWord(dst) ^ zone) >>> 0;
  const j = jhashAddr(leWord(src), seed);
  // The distance wraps to 0 for the whole address space, as the u32 does.
  const dist = (maxIp - minIp + 1) >>> 0;
  return (minIp + reciprocalScale(j, dist)) >>> 0;
}
