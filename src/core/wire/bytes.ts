/**
 * Big-endian (network order) reads and writes of 16- and 32-bit unsigned
 * values in a byte array, without allocating.
 */

/** The unsigned 16-bit big-endian value at `off`. */
export function get16(buf: Uint8Array, off: number): number {
  return (buf[off]! << 8) | buf[off + 1]!;
}

/** The unsigned 32-bit big-endian value at `off`. */
export function get32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

/** Writes the low 16 bits of `v` big-endian at `off`. */
export function put16(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 8) & 0xff;
  buf[off + 1] = v & 0xff;
}

/** Writes the low 32 bits of `v` big-endian at `off`. */
export function put32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/**
 * `b` as a plain Uint8Array over the same memory: subclasses (such as the
 * Buffer a Node caller may pass) make `slice` a view instead of a copy and
 * show differently in comparisons, so readers work on a plain view.
 */
export function plainBytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
