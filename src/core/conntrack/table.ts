/**
 * The connection tracking table: confirmed connections indexed by the
 * tuple of each direction, expiry on the virtual clock, the early drop the
 * kernel tries when the table is full, and the table's JSON form for the
 * lab state.
 *
 * A connection is created unconfirmed by the first packet (it rides on
 * that packet, skb.ct) and enters the table when the packet leaves the
 * last hook (conntrackConfirm). Expired entries are removed lazily: a
 * lookup, a count or a listing never sees them, as the kernel's lookups
 * and dumps skip them before its garbage collector runs.
 *
 * Listing order: the kernel lists by hash bucket, which depends on a hash
 * seed chosen at random each boot; this table lists in insertion order
 * (the order connections were confirmed). Comparisons with the real
 * kernel sort the lines.
 */
import type { ConntrackView } from '../xt/packet.js';
import { HZ, JIFFY_NS, jiffyFloorNs } from './sysctl.js';
import { type Expectation, type ExpectationJson, expectationsFromJson, expectationsToJson } from './expect.js';
import { KEY_SPACE, invertTuple, keyOf, tupleEquals, tupleKey } from './tuple.js';
import { Dir, IPS, type Conn, type Tuple } from './types.js';

/**
 * IPS_NAT_CLASH: a connection that lost an insertion race and entered the
 * table by its reply tuple only (the kernel reuses the UNTRACKED bit).
 */
export const IPS_NAT_CLASH = IPS.UNTRACKED;

/**
 * What the table keeps beyond the Conn contract, stored on the same plain
 * object: `acct` is set when the connection was created while
 * nf_conntrack_acct was on (the kernel attaches its counters extension
 * only then, and lists counters only for such connections); `tstamp`,
 * when it was created while nf_conntrack_timestamp was on, is the virtual
 * time (ns) it was confirmed (-1 until then).
 */
export interface ConnExtra {
  acct?: boolean;
  tstamp?: number;
}

/** One direction of a confirmed connection, as indexed (a tuplehash). */
export interface TupleRef {
  conn: Conn;
  dir: Dir;
  key: number;
}

/** Rate-limit state of a kernel message (net_ratelimit: 10 messages per 5 seconds). */
export interface RateLimitState {
  begin: number;
  printed: number;
  missed: number;
}

/** The tuple of a direction of a connection. */
export function connTuple(c: Conn, dir: Dir): Tuple {
  return dir === Dir.ORIGINAL ? c.orig : c.reply;
}

/** Whether a connection has expired at a virtual time (nf_ct_is_expired: on jiffy boundaries). */
export function connExpired(c: Conn, nowNs: number): boolean {
  return jiffyFloorNs(nowNs) >= c.expires;
}

/** Seconds left before a connection expires, as conntrack -L shows them (never negative). */
export function connSecondsLeft(c: Conn, nowNs: number): number {
  const left = Math.floor((c.expires - jiffyFloorNs(nowNs)) / JIFFY_NS);
  return left > 0 ? Math.floor(left / HZ) : 0;
}

/** The table. It implements the read view extensions get (count, forEach). */
export class ConntrackTable implements ConntrackView {
  /** The virtual clock (ns since boot), used when a caller gives no time. */
  clock: () => number;
  /** Fragment queues of defragmentation (owned by defrag.ts), persisted with the table. */
  frags: Map<string, unknown> = new Map();
  /** Rate-limit state of "table full" messages. */
  fullRateLimit: RateLimitState = { begin: 0, printed: 0, missed: 0 };
  /** Expectations helpers made (owned by expect.ts), oldest first. */
  expects: Expectation[] = [];

  private readonly byKey = new Map<number, TupleRef | TupleRef[]>();
  private readonly conns = new Set<Conn>();
  /**
   * Expiry wheel: entries by the second their expiry fell in when they
   * were filed, with a min-heap of those seconds. Filing is lazy: an entry
   * whose timeout was extended is found in an early bucket and filed
   * again; one whose timeout was shortened is filed again at once
   * (noteExpires). Purging thus costs little per entry and timeout.
   */
  private readonly wheel = new Map<number, Conn[]>();
  private readonly wheelHeap: number[] = [];
  /** Hash buckets for early drop, built the first time the table is full and kept up to date after. */
  private buckets: Map<number, TupleRef[]> | null = null;
  private bucketCount = 0;

  /** An empty table; `clock` gives the virtual time. */
  constructor(clock: () => number = () => 0) {
    this.clock = clock;
  }

  /** Number of entries (nf_conntrack_count), expired ones removed first. */
  count(): number {
    this.purgeExpired(this.clock());
    return this.conns.size;
  }

  /** Calls fn for every live entry in listing order (clash losers, hidden from listings, excluded). */
  forEach(fn: (c: Conn) => void): void {
    this.purgeExpired(this.clock());
    for (const c of this.conns) if (!(c.status & IPS_NAT_CLASH)) fn(c);
  }

  /** The live entries in listing order (see forEach). */
  list(nowNs: number = this.clock()): Conn[] {
    this.purgeExpired(nowNs);
    const out: Conn[] = [];
    for (const c of this.conns) if (!(c.status & IPS_NAT_CLASH)) out.push(c);
    return out;
  }

  /** Every entry, hidden clash losers included, in insertion order (no expiry check). */
  entries(): Conn[] {
    return [...this.conns];
  }

  /**
   * The confirmed, live entry direction whose tuple is the given one in
   * the zone, or null. Expired entries met on the way are removed.
   */
  lookup(src: number, dst: number, proto: number, sport: number, dport: number, zone: number, nowNs: number): TupleRef | null {
    const key = tupleKey(src, dst, proto, sport, dport, zone);
    const e = this.byKey.get(key);
    if (e === undefined) return null;
    if (!Array.isArray(e)) {
      const c = e.conn;
      const t = e.dir === Dir.ORIGINAL ? c.orig : c.reply;
      if (t.src !== src || t.dst !== dst || t.proto !== proto || t.sport !== sport || t.dport !== dport || c.zone !== zone) return null;
      if (jiffyFloorNs(nowNs) >= c.expires) {
        this.remove(c);
        return null;
      }
      return e;
    }
    for (const r of e.slice()) {
      const c = r.conn;
      const t = r.dir === Dir.ORIGINAL ? c.orig : c.reply;
      if (t.src !== src || t.dst !== dst || t.proto !== proto || t.sport !== sport || t.dport !== dport || c.zone !== zone) continue;
      if (jiffyFloorNs(nowNs) >= c.expires) {
        this.remove(c);
        continue;
      }
      return r;
    }
    return null;
  }

  /** lookup() with a tuple object. */
  find(t: Tuple, zone: number, nowNs: number = this.clock()): TupleRef | null {
    return this.lookup(t.src, t.dst, t.proto, t.sport, t.dport, zone, nowNs);
  }

  /** The direction entries stored under a key (for clash checks). */
  refsAt(key: number): readonly TupleRef[] {
    const e = this.byKey.get(key);
    if (e === undefined) return [];
    return Array.isArray(e) ? e : [e];
  }

  /** Inserts a connection under both its tuples and marks it confirmed. */
  insert(c: Conn): void {
    const x = c as Conn & ConnExtra;
    if (x.tstamp === -1) x.tstamp = this.clock();
    this.addRef({ conn: c, dir: Dir.ORIGINAL, key: keyOf(c.orig, c.zone) });
    this.addRef({ conn: c, dir: Dir.REPLY, key: keyOf(c.reply, c.zone) });
    this.conns.add(c);
    c.status |= IPS.CONFIRMED;
    this.file(c);
  }

  /**
   * Inserts a connection under its reply tuple only, hidden from listings
   * (a clash loser: its original direction belongs to another entry).
   */
  insertReplyOnly(c: Conn): void {
    this.addRef({ conn: c, dir: Dir.REPLY, key: keyOf(c.reply, c.zone) });
    this.conns.add(c);
    c.status |= IPS.CONFIRMED;
    this.file(c);
  }

  /** Whether a connection is in the table. */
  has(c: Conn): boolean {
    return this.conns.has(c);
  }

  /** Removes a connection (no effect when it is not in the table). */
  remove(c: Conn): void {
    if (!this.conns.delete(c)) return;
    this.dropRef(c, keyOf(c.orig, c.zone));
    this.dropRef(c, keyOf(c.reply, c.zone));
  }

  /** Removes every entry. */
  clear(): void {
    this.expects.length = 0;
    this.byKey.clear();
    this.conns.clear();
    this.wheel.clear();
    this.wheelHeap.length = 0;
    if (this.buckets) this.buckets.clear();
  }

  /** Number of entries, expired ones not yet removed included (cheap). */
  size(): number {
    return this.conns.size;
  }

  /** Records that the expiry of a confirmed entry changed from `oldExpires` (needed when it got earlier). */
  noteExpires(c: Conn, oldExpires: number): void {
    if (c.expires < oldExpires) this.file(c);
  }

  /** Files an entry in the wheel bucket of its expiry second. */
  private file(c: Conn): void {
    const sec = Math.floor(c.expires / 1e9);
    const b = this.wheel.get(sec);
    if (b) {
      b.push(c);
      return;
    }
    this.wheel.set(sec, [c]);
    const h = this.wheelHeap;
    h.push(sec);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (h[p]! <= h[i]!) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  private popSecond(): void {
    const h = this.wheelHeap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]! < h[m]!) m = l;
      if (r < h.length && h[r]! < h[m]!) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }

  /** Removes every entry expired at `nowNs`. */
  purgeExpired(nowNs: number): void {
    const now = jiffyFloorNs(nowNs);
    const nowSec = Math.floor(now / 1e9);
    const h = this.wheelHeap;
    while (h.length > 0 && h[0]! <= nowSec) {
      const sec = h[0]!;
      const bucket = this.wheel.get(sec)!;
      if (sec === nowSec) {
        // the current second: only part of it has passed
        const keep: Conn[] = [];
        for (const c of bucket) {
          if (!this.conns.has(c)) continue;
          if (now >= c.expires) this.remove(c);
          else if (Math.floor(c.expires / 1e9) === sec) keep.push(c);
          else this.file(c);
        }
        if (keep.length > 0) {
          this.wheel.set(sec, keep);
          return;
        }
      }
      this.wheel.delete(sec);
      this.popSecond();
      if (sec === nowSec) continue;
      for (const c of bucket) {
        if (!this.conns.has(c)) continue;
        if (now >= c.expires) this.remove(c);
        else this.file(c);
      }
    }
  }


  /**
   * The kernel's early drop when the table is full: starting at the hash
   * bucket of `key` (a new connection's original tuple), look at 8
   * consecutive buckets of a table of `nBuckets`; in the first bucket
   * holding any entry that is neither assured nor dying, delete all such
   * entries. Returns whether anything was deleted.
   */
  earlyDrop(key: number, nBuckets: number, nowNs: number): boolean {
    const index = this.bucketIndex(nBuckets);
    let bucket = bucketOf(key, nBuckets);
    for (let i = 0; i < 8; i++) {
      if (i > 0) bucket = (bucket + 1) % nBuckets;
      const chain = index.get(bucket);
      if (chain === undefined) continue;
      let drops = 0;
      // newest first, as entries are added at the head of a kernel hash chain
      for (const r of chain.slice().reverse()) {
        const c = r.conn;
        if (!this.conns.has(c)) continue;
        if (connExpired(c, nowNs)) {
          this.remove(c);
          continue;
        }
        if (c.status & (IPS.ASSURED | IPS.DYING)) continue;
        c.status |= IPS.DYING;
        this.remove(c);
        drops++;
      }
      if (drops > 0) return true;
    }
    return false;
  }

  private bucketIndex(nBuckets: number): Map<number, TupleRef[]> {
    if (this.buckets && this.bucketCount === nBuckets) return this.buckets;
    const index = new Map<number, TupleRef[]>();
    this.buckets = index;
    this.bucketCount = nBuckets;
    for (const e of this.byKey.values()) {
      for (const r of Array.isArray(e) ? e : [e]) indexAdd(index, bucketOf(r.key, nBuckets), r);
    }
    return index;
  }

  private addRef(r: TupleRef): void {
    const e = this.byKey.get(r.key);
    if (e === undefined) this.byKey.set(r.key, r);
    else if (Array.isArray(e)) e.push(r);
    else this.byKey.set(r.key, [e, r]);
    if (this.buckets) indexAdd(this.buckets, bucketOf(r.key, this.bucketCount), r);
  }

  private dropRef(c: Conn, key: number): void {
    const e = this.byKey.get(key);
    if (e === undefined) return;
    let removed: TupleRef | undefined;
    if (!Array.isArray(e)) {
      if (e.conn === c) {
        this.byKey.delete(key);
        removed = e;
      }
    } else {
      const i = e.findIndex((r) => r.conn === c);
      if (i >= 0) {
        removed = e[i];
        e.splice(i, 1);
        if (e.length === 1) this.byKey.set(key, e[0]!);
        else if (e.length === 0) this.byKey.delete(key);
      }
    }
    if (removed && this.buckets) {
      const b = bucketOf(key, this.bucketCount);
      const chain = this.buckets.get(b);
      if (chain) {
        const i = chain.indexOf(removed);
        if (i >= 0) chain.splice(i, 1);
        if (chain.length === 0) this.buckets.delete(b);
      }
    }
    // a connection whose two tuples share a key has two entries under it
    if (removed && this.byKey.has(key)) {
      const again = this.byKey.get(key)!;
      if ((Array.isArray(again) ? again : [again]).some((r) => r.conn === c)) this.dropRef(c, key);
    }
  }
}

/** The bucket of a key in a table of n buckets (reciprocal_scale of the hash). */
function bucketOf(key: number, n: number): number {
  return Math.floor((key * n) / KEY_SPACE);
}

function indexAdd(index: Map<number, TupleRef[]>, b: number, r: TupleRef): void {
  const chain = index.get(b);
  if (chain) chain.push(r);
  else index.set(b, [r]);
}

/**
 * Whether a NAT mapping is taken (nf_nat_used_tuple): `tuple` is the
 * original-direction tuple a connection would have after the mapping; it
 * is taken when some other live entry of the zone already has its inverse
 * (the reply such a connection would get) as one of its tuples. An entry
 * whose original tuple is the same as `ignore`'s is not counted: both are
 * the same flow, which insertion resolves later.
 */
export function tupleInUse(table: ConntrackTable, tuple: Tuple, ignore: Conn | null, zone: number): boolean {
  const reply = invertTuple(tuple);
  if (reply === null) return false;
  const nowNs = table.clock();
  for (const r of table.refsAt(keyOf(reply, zone)).slice()) {
    const c = r.conn;
    if (c === ignore) continue;
    if (c.zone !== zone || !tupleEquals(connTuple(c, r.dir), reply)) continue;
    if (connExpired(c, nowNs)) {
      table.remove(c);
      continue;
    }
    if (ignore && c.zone === ignore.zone && tupleEquals(c.orig, ignore.orig)) continue;
    return true;
  }
  return false;
}

/**
 * Changes the reply tuple of a connection not yet confirmed
 * (nf_conntrack_alter_reply), as NAT does when it picks a mapping; the
 * connection enters the table under the new tuple when it is confirmed.
 */
export function alterReply(c: Conn, reply: Tuple): void {
  if (c.status & IPS.CONFIRMED) throw new Error('alterReply: the connection is already confirmed');
  c.reply = { src: reply.src >>> 0, dst: reply.dst >>> 0, proto: reply.proto, sport: reply.sport, dport: reply.dport };
}

/**
 * Kills a connection (nf_ct_delete): marks it dying and removes it from
 * the table. An unconfirmed connection marked dying is refused at
 * confirmation, and its packet dropped.
 */
export function killConn(table: ConntrackTable, c: Conn): void {
  c.status |= IPS.DYING;
  table.remove(c);
}

/** The table's JSON form: plain data for the lab state. */
export interface ConntrackJson {
  /** Confirmed entries in listing order (the objects themselves, with their extra fields). */
  conns: Conn[];
  /** Fragment queues (see defrag.ts). */
  frags: [string, unknown][];
  /** Rate-limit state of the "table full" message. */
  fullRateLimit: RateLimitState;
  /** Expectations (see expect.ts); absent when there are none. */
  expects?: ExpectationJson[];
}

/**
 * The table as plain JSON-serialisable data (expired entries dropped).
 * It shares the connection objects with the table: serialise it before
 * the table changes again.
 */
export function conntrackToJson(table: ConntrackTable): ConntrackJson {
  table.purgeExpired(table.clock());
  const json: ConntrackJson = { conns: table.entries(), frags: [...table.frags], fullRateLimit: { ...table.fullRateLimit } };
  if (table.expects.length > 0) json.expects = expectationsToJson(table.expects);
  return json;
}

/** A table rebuilt from its JSON form; `clock` gives the virtual time. */
export function conntrackFromJson(json: ConntrackJson | null | undefined, clock: () => number = () => 0): ConntrackTable {
  const t = new ConntrackTable(clock);
  if (!json) return t;
  for (const c of json.conns ?? []) {
    if (c.status & IPS_NAT_CLASH) t.insertReplyOnly(c);
    else t.insert(c);
  }
  for (const [k, v] of json.frags ?? []) t.frags.set(k, v);
  if (json.fullRateLimit) t.fullRateLimit = { ...json.fullRateLimit };
  t.expects = expectationsFromJson(json.expects, json.conns ?? []);
  return t;
}
