/**
 * The world's queue of things due at a virtual time: frames in flight,
 * stack timers, program wake-ups. Events due at the same time run in the
 * order they were queued. A binary heap keyed by (time, sequence).
 */

interface Entry {
  at: number;
  seq: number;
  fn: (() => void) | null;
}

/** A min-heap of timed callbacks with cancellation by handle. */
export class EventQueue {
  private heap: Entry[] = [];
  private seq = 0;
  private readonly live = new Map<number, Entry>();

  /** Queues `fn` at `at` (ns); returns a handle for cancel. */
  push(at: number, fn: () => void): number {
    const e: Entry = { at, seq: ++this.seq, fn };
    this.live.set(e.seq, e);
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
    return e.seq;
  }

  /** Cancels a queued callback (nothing happens when it already ran). */
  cancel(handle: number): void {
    const e = this.live.get(handle);
    if (e) {
      e.fn = null;
      this.live.delete(handle);
    }
  }

  /** When the next live callback is due (Infinity when none). */
  nextAt(): number {
    this.dropCancelled();
    return this.heap.length ? this.heap[0]!.at : Infinity;
  }

  /** Takes the next callback due at or before `now`, or null. */
  popDue(now: number): (() => void) | null {
    this.dropCancelled();
    const h = this.heap;
    if (!h.length || h[0]!.at > now) return null;
    const e = this.pop();
    this.live.delete(e.seq);
    return e.fn;
  }

  private dropCancelled(): void {
    while (this.heap.length && this.heap[0]!.fn === null) this.pop();
  }

  private pop(): Entry {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
