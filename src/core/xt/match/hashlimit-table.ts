/**
 * The kernel half of hashlimit (xt_hashlimit revision 3): named tables of
 * token buckets, one bucket per key (masked source/destination address,
 * ports, as the table's mode says), shared by every rule naming the same
 * table. Credits are the kernel's 64-bit numbers (bigints here), refilled
 * per jiffy; idle entries expire and a garbage collection every
 * gcinterval removes them. /proc/net/ipt_hashlimit/NAME is rendered by
 * hashlimitProcText.
 *
 * Tables live in KernelServices.shared under HASHLIMIT_SHARED_KEY. The
 * kernel creates a table when the first rule naming it is inserted; here
 * it is created when such a rule first sees a packet (or when
 * hashlimitTableFor is called at insertion), with that rule's
 * configuration, and the garbage collection runs on that table's grid of
 * gcinterval steps, worked out lazily when the table is next used.
 */
import type { PacketContext } from '../packet.js';
import { get16, get32 } from '../../wire/bytes.js';
import { formatIPv4 } from '../../addr/ipv4.js';

/** Key of the tables in KernelServices.shared. */
export const HASHLIMIT_SHARED_KEY = 'xt_hashlimit';

/** The configuration fields the kernel half reads (hashlimit_cfg3), as stored in the rule. */
export interface HashlimitCfg {
  name: string;
  avg: number;
  burst: string;
  mode: number;
  size: number;
  max: number;
  gcInterval: number;
  expire: number;
  interval: number;
  srcmask: number;
  dstmask: number;
}

/** XT_HASHLIMIT_* mode bits (same values as HL_MODE of the userspace half). */
const DIP = 1 << 0;
const DPT = 1 << 1;
const SIP = 1 << 2;
const SPT = 1 << 3;
const INVERT = 1 << 4;
const BYTES = 1 << 5;
const RATE_MATCH = 1 << 6;

const HZ = 250;
/** CREDITS_PER_JIFFY of revision 2 and later: the power of two below 2^64 / (HZ × 86400). */
const CPJ = 1n << 39n;
/** CREDITS_PER_JIFFY_BYTES: the power of two below 2^32 / HZ. */
const CPJ_BYTES = 1n << 24n;
/** A full byte-mode bucket: one second of credit. */
const BYTES_FULL = CPJ_BYTES * BigInt(HZ);
/** XT_HASHLIMIT_SCALE_v2. */
const SCALE = 1_000_000n;
const U32 = 0xffffffffn;
/** Size of a table without --hashlimit-htable-size on a machine with more than 1 GiB of memory. */
const DEFAULT_SIZE = 8192;

/** One bucket (struct dsthash_ent). Token mode uses credit/creditCap/cost, rate-match mode the rest. */
interface Entry {
  src: number;
  dst: number;
  sport: number;
  dport: number;
  /** Jiffies when it expires. */
  expires: number;
  /** Jiffies of the last refill. */
  prev: number;
  credit: bigint;
  creditCap: bigint;
  cost: bigint;
  interval: number;
  prevWindow: number;
  currentRate: bigint;
  rate: bigint;
  burst: bigint;
}

/** The u64 fields of an entry, which JSON keeps as decimal strings. */
const BIG_FIELDS = ['credit', 'creditCap', 'cost', 'currentRate', 'rate', 'burst'] as const;

/**
 * The entries of a table by key: source, then destination, then both
 * ports, in nested maps of numbers (no key string to build per packet).
 */
class EntryIndex {
  /** Number of entries. */
  size = 0;
  readonly bySrc = new Map<number, Map<number, Map<number, Entry>>>();

  /** The entry of a key, if any. */
  get(src: number, dst: number, ports: number): Entry | undefined {
    return this.bySrc.get(src)?.get(dst)?.get(ports);
  }

  /** Adds an entry (its key must be free). */
  add(e: Entry): void {
    let byDst = this.bySrc.get(e.src);
    if (!byDst) this.bySrc.set(e.src, (byDst = new Map()));
    let byPorts = byDst.get(e.dst);
    if (!byPorts) byDst.set(e.dst, (byPorts = new Map()));
    byPorts.set(e.sport * 65536 + e.dport, e);
    this.size++;
  }

  /** Removes the entries the predicate selects. */
  removeIf(pred: (e: Entry) => boolean): void {
    for (const [src, byDst] of this.bySrc) {
      for (const [dst, byPorts] of byDst) {
        for (const [k, e] of byPorts) {
          if (!pred(e)) continue;
          byPorts.delete(k);
          this.size--;
        }
        if (byPorts.size === 0) byDst.delete(dst);
      }
      if (byDst.size === 0) this.bySrc.delete(src);
    }
  }

  /** Every entry. */
  *values(): IterableIterator<Entry> {
    for (const byDst of this.bySrc.values()) for (const byPorts of byDst.values()) yield* byPorts.values();
  }
}

/**
 * One table (struct xt_hashlimit_htable). It keeps bigints in memory and
 * turns them into strings when serialised; `tableFrom` rebuilds it.
 */
class HashlimitTable {
  constructor(
    readonly name: string,
    readonly family: string,
    readonly cfg: HashlimitCfg,
    readonly entries: EntryIndex,
    /** Jiffies of the next garbage collection. */
    public nextGc: number,
  ) {}

  /** The plain-data form. */
  toJSON(): object {
    const entries: Record<string, unknown>[] = [];
    for (const e of this.entries.values()) {
      const plain: Record<string, unknown> = { ...e };
      for (const f of BIG_FIELDS) plain[f] = e[f].toString();
      entries.push(plain);
    }
    return { name: this.name, family: this.family, cfg: this.cfg, entries, nextGc: this.nextGc };
  }
}

/** A table from its stored form (or itself, or a structured clone of it). */
function tableFrom(t: any): HashlimitTable {
  if (t instanceof HashlimitTable) return t;
  const entries = new EntryIndex();
  // JSON gives a list; a structured clone keeps the nested maps without the class
  const list: any[] = Array.isArray(t.entries) ? t.entries : [...EntryIndex.prototype.values.call(t.entries)];
  for (const e of list) {
    const live = { ...e } as Entry;
    for (const f of BIG_FIELDS) live[f] = BigInt(e[f]);
    entries.add(live);
  }
  return new HashlimitTable(t.name, t.family, t.cfg, entries, t.nextGc);
}

/** msecs_to_jiffies with HZ=250: rounded up to whole 4 ms jiffies. */
function msToJiffies(ms: number): number {
  return Math.ceil(ms / 4);
}

const keyCache = new WeakMap<HashlimitCfg, string>();

/** "family/name", made once per rule (a string built per packet would cost more than the lookup). */
function tableKey(family: string, cfg: HashlimitCfg): string {
  let k = keyCache.get(cfg);
  if (k === undefined) {
    k = `${family}/${cfg.name}`;
    keyCache.set(cfg, k);
  }
  return k;
}

/**
 * The table of this name and family, created with the rule's
 * configuration when missing (htable_create: a size of 0 becomes 8192 and
 * a max of 0 eight times the size, a max below the size the size).
 */
export function hashlimitTableFor(shared: Record<string, any>, family: string, cfg: HashlimitCfg, now: number): HashlimitTable {
  const all: Record<string, any> = (shared[HASHLIMIT_SHARED_KEY] ??= {});
  const key = tableKey(family, cfg);
  const stored = all[key];
  if (stored !== undefined) {
    const t = tableFrom(stored);
    if (t !== stored) all[key] = t;
    return t;
  }
  const size = cfg.size || DEFAULT_SIZE;
  const max = cfg.max === 0 ? 8 * size : cfg.max < size ? size : cfg.max;
  const own: HashlimitCfg = { ...cfg, size, max };
  const t = new HashlimitTable(cfg.name, family, own, new EntryIndex(), now + msToJiffies(cfg.gcInterval));
  all[key] = t;
  return t;
}

/** The garbage collections due by `now`: entries expired at the latest of them go. */
function collect(t: HashlimitTable, now: number): void {
  if (now < t.nextGc) return;
  const step = msToJiffies(t.cfg.gcInterval);
  const last = t.nextGc + step * Math.floor((now - t.nextGc) / step);
  t.entries.removeIf((e) => last >= e.expires);
  t.nextGc = last + step;
}

/** user2credits (revision 3): credits for a period in microseconds, with 64-bit wraparound. */
function userToCredits(user: bigint): bigint {
  return BigInt.asUintN(64, user * ((BigInt(HZ) * CPJ) / SCALE));
}

/** user2credits_byte: the credits one 16-byte chunk costs. */
function userToCreditsByte(user: number): bigint {
  return ((BigInt(user >>> 0) * BYTES_FULL) >> 32n) & U32;
}

/** A new entry's buckets (rateinfo_init), from the table's configuration. */
function initEntry(e: Entry, cfg: HashlimitCfg, now: number): void {
  e.prev = now;
  const avg = BigInt(cfg.avg);
  const burst = BigInt(cfg.burst);
  if (cfg.mode & RATE_MATCH) {
    e.prevWindow = 0;
    e.currentRate = 0n;
    if (cfg.mode & BYTES) {
      const a = avg & U32;
      e.rate = ((a !== 0n ? U32 / a : U32) - 1n) << 4n;
      e.burst = burst !== 0n ? BigInt.asUintN(64, burst * e.rate) : e.rate;
    } else {
      e.rate = avg !== 0n ? SCALE / avg : 0n;
      e.burst = BigInt.asUintN(64, burst + e.rate);
    }
    e.interval = cfg.interval;
  } else if (cfg.mode & BYTES) {
    e.credit = BYTES_FULL;
    e.cost = userToCreditsByte(cfg.avg);
    e.creditCap = burst;
  } else {
    e.credit = userToCredits(BigInt.asUintN(64, avg * burst));
    e.cost = userToCredits(avg);
    e.creditCap = e.credit;
  }
}

/** Refill for the jiffies since the last refill (rateinfo_recalc), or start a new rate window. */
function recalc(e: Entry, now: number, mode: number): void {
  const delta = now - e.prev;
  if (delta === 0) return;
  if (mode & RATE_MATCH) {
    // interval * HZ is computed in 32 bits
    const interval = BigInt((e.interval * HZ) % 2 ** 32);
    const d = BigInt(delta);
    if (d < interval) return;
    e.prev = now;
    e.prevWindow = BigInt.asUintN(64, e.currentRate * interval) > BigInt.asUintN(64, d * e.rate) ? 1 : 0;
    e.currentRate = 0n;
    return;
  }
  e.prev = now;
  let cap: bigint;
  if (mode & BYTES) {
    const before = e.credit;
    e.credit = BigInt.asUintN(64, e.credit + CPJ_BYTES * BigInt(delta));
    cap = BYTES_FULL;
    if (before >= e.credit) {
      e.credit = cap;
      return;
    }
  } else {
    e.credit = BigInt.asUintN(64, e.credit + BigInt.asUintN(64, BigInt(delta) * CPJ));
    cap = e.creditCap;
  }
  if (e.credit > cap) e.credit = cap;
}

/** hashlimit_byte_cost: credits for a packet of `len` bytes, refilling from the burst when short. */
function byteCost(len: number, e: Entry): bigint {
  let cost = BigInt((len >>> 4) + 1) * e.cost;
  if (cost > BYTES_FULL) cost = BYTES_FULL;
  if (e.credit < cost && e.creditCap !== 0n) {
    e.creditCap--;
    e.credit = BYTES_FULL;
  }
  return cost & U32;
}

/** Bytes from the transport header where proto_ports_offset finds the ports (-1: none). */
function portsOffset(proto: number): number {
  switch (proto) {
    case 6:
    case 17:
    case 33:
    case 50:
    case 132:
    case 136:
      return 0;
    case 51:
      return 4;
    default:
      return -1;
  }
}

/** maskl: the address with only its first `len` bits kept. */
function maskAddr(a: number, len: number): number {
  return len === 0 ? 0 : (a & (0xffffffff << (32 - len))) >>> 0;
}

/**
 * The kernel half (hashlimit_mt_common). `cfg` is the rule's own
 * configuration; the table's decides the key, the buckets and expiry.
 */
export function hashlimitMatch(cfg: HashlimitCfg, ctx: PacketContext): boolean {
  const kernel = ctx.kernel;
  const now = kernel.jiffies();
  const t = hashlimitTableFor(kernel.shared, ctx.family, cfg, now);
  const tc = t.cfg;
  const d = ctx.skb.data;
  const src = tc.mode & SIP ? maskAddr(get32(d, 12), tc.srcmask) : 0;
  const dst = tc.mode & DIP ? maskAddr(get32(d, 16), tc.dstmask) : 0;
  let sport = 0;
  let dport = 0;
  if (tc.mode & (SPT | DPT)) {
    const poff = portsOffset(d[9]!);
    if (poff >= 0) {
      const at = ctx.thoff + poff;
      if (at + 4 > d.length) {
        ctx.hotdrop = true;
        return false;
      }
      if (tc.mode & SPT) sport = get16(d, at);
      if (tc.mode & DPT) dport = get16(d, at + 2);
    }
  }
  collect(t, now);
  let e = t.entries.get(src, dst, sport * 65536 + dport);
  if (e === undefined) {
    if (t.entries.size >= tc.max) {
      kernel.printk(3, `xt_hashlimit: max count of ${tc.max} reached`);
      ctx.hotdrop = true;
      return false;
    }
    e = {
      src,
      dst,
      sport,
      dport,
      expires: now + msToJiffies(tc.expire),
      prev: now,
      credit: 0n,
      creditCap: 0n,
      cost: 0n,
      interval: 0,
      prevWindow: 0,
      currentRate: 0n,
      rate: 0n,
      burst: 0n,
    };
    initEntry(e, tc, now);
    t.entries.add(e);
  } else {
    e.expires = now + msToJiffies(tc.expire);
    recalc(e, now, tc.mode);
  }
  const invert = (cfg.mode & INVERT) !== 0;
  if (cfg.mode & RATE_MATCH) {
    e.currentRate += cfg.mode & BYTES ? BigInt(d.length) : 1n;
    return e.prevWindow === 0 && e.currentRate <= e.burst ? !invert : invert;
  }
  const cost = cfg.mode & BYTES ? byteCost(d.length, e) : e.cost;
  if (e.credit >= cost) {
    e.credit -= cost;
    return !invert;
  }
  return invert;
}

/**
 * What /proc/net/ipt_hashlimit/NAME shows (dl_seq_show): per entry the
 * seconds left, source:port->destination:port and three numbers (credit,
 * credit cap and cost; in rate-match mode the fields sharing their place).
 * Reading refills the buckets first, as the kernel does. Entries are
 * grouped by source, then destination, each in the order first seen (the
 * kernel lists them in the order of its hash buckets).
 * Undefined when no table of that name exists.
 */
export function hashlimitProcText(shared: Record<string, any>, name: string, family: string, now: number): string | undefined {
  const stored = shared[HASHLIMIT_SHARED_KEY]?.[`${family}/${name}`];
  if (stored === undefined) return undefined;
  const t = tableFrom(stored);
  shared[HASHLIMIT_SHARED_KEY][`${family}/${name}`] = t;
  collect(t, now);
  let out = '';
  for (const e of t.entries.values()) {
    recalc(e, now, t.cfg.mode);
    const left = Math.trunc((e.expires - now) / HZ);
    let a: bigint;
    let b: bigint;
    let c: bigint;
    if (t.cfg.mode & RATE_MATCH) {
      a = BigInt(e.interval >>> 0) + (BigInt(e.prevWindow) << 32n);
      b = e.currentRate;
      c = e.rate;
    } else {
      a = e.credit;
      b = e.creditCap;
      c = e.cost;
    }
    out += `${left} ${formatIPv4(e.src)}:${e.sport}->${formatIPv4(e.dst)}:${e.dport} ${a} ${b} ${c}\n`;
  }
  return out;
}

/**
 * Drops the tables no rule names any more (the kernel frees a table with
 * the last rule using it). `keys` holds "family/name" of the rules in place.
 */
export function hashlimitPrune(shared: Record<string, any>, keys: ReadonlySet<string>): void {
  const all = shared[HASHLIMIT_SHARED_KEY] as Record<string, unknown> | undefined;
  if (!all) return;
  for (const k of Object.keys(all)) if (!keys.has(k)) delete all[k];
}
