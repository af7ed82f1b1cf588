/** A FIFO of bytes (a socket's send or receive buffer) over one growable array. */
export class ByteQueue {
  private buf: Uint8Array;
  private head = 0;
  private tail = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  /** Bytes held. */
  get length(): number {
    return this.tail - this.head;
  }

  /** Appends bytes at the end. */
  push(data: Uint8Array): void {
    const need = this.tail + data.length;
    if (need > this.buf.length) {
      const len = this.length;
      if (len + data.length <= this.buf.length >> 1) {
        this.buf.copyWithin(0, this.head, this.tail);
      } else {
        const grown = new Uint8Array(Math.max(this.buf.length * 2, len + data.length));
        grown.set(this.buf.subarray(this.head, this.tail));
        this.buf = grown;
      }
      this.head = 0;
      this.tail = len;
    }
    this.buf.set(data, this.tail);
    this.tail += data.length;
  }

  /** A view of `len` bytes starting `from` bytes after the head (valid until the next push). */
  peek(from: number, len: number): Uint8Array {
    return this.buf.subarray(this.head + from, this.head + from + len);
  }

  /** Drops `n` bytes from the head. */
  drop(n: number): void {
    this.head += Math.min(n, this.length);
    if (this.head === this.tail) this.head = this.tail = 0;
  }

  /** Removes and returns up to `max` bytes from the head. */
  take(max: number): Uint8Array {
    const n = Math.min(max, this.length);
    const out = this.buf.slice(this.head, this.head + n);
    this.drop(n);
    return out;
  }

  /** Empties the queue. */
  clear(): void {
    this.head = this.tail = 0;
  }
}
