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

/** The bytes `buf[from, to)` as lower-case hex digits (for plain-JSON state and dumps). */
export function toHex(buf: Uint8Array, from = 0, to = buf.length): string {
  let s = '';
  for (let i = from; i < to; i++) s += (buf[i]! < 16 ? '0' : '') + buf[i]!.toString(16);
  return s;
}

/** Writes the bytes that hex digits (an even number of them) stand for into `out` at `at`. */
export function hexInto(hex: string, out: Uint8Array, at = 0): void {
  for (let i = 0; i < hex.length; i += 2) out[at + i / 2] = parseInt(hex.slice(i, i + 2), 16);
}

/** The bytes that hex digits (an even number of them) stand for. */
export function fromHex(hex: string): Uint8Array {
  const b = new Uint8Array(hex.length / 2);
  hexInto(hex, b);
  return b;
}
