/**
 * The kernel half of the recent match (xt_recent): named lists of
 * addresses with the jiffies of their last sightings, shared by every rule
 * naming the list, at most ip_list_tot addresses each (the least recently
 * seen makes room), each keeping a ring of up to 32 time stamps (more when
 * a rule asks for a larger --hitcount, or ip_pkt_list_tot says so).
 * /proc/net/xt_recent/NAME is rendered by recentProcText and written by
 * recentProcWrite.
 *
 * Lists live in KernelServices.shared under RECENT_SHARED_KEY. The kernel
 * creates a list when the first rule naming it is inserted, with that
 * rule's --mask; here a rule joins its list when it first sees a packet
 * (creating it with its mask if needed). A rule wanting more time stamps
 * than the list keeps makes the kernel flush the list at insertion, when
 * it is normally still empty; here the list grows instead and keeps its
 * entries.
 */
import type { PacketContext } from '../packet.js';
import { get32 } from '../../wire/bytes.js';
import { formatIPv4 } from '../../addr/ipv4.js';

/** Key of the lists in KernelServices.shared. */
export const RECENT_SHARED_KEY = 'xt_recent';

/**
 * Key in KernelServices.shared of the module parameters
 * `{ ipListTot, ipPktListTot }` (absent: 100 and 0, the defaults).
 */
export const RECENT_PARAMS_SHARED_KEY = 'xt_recent_params';

/** The rule fields the kernel half reads (xt_recent_mtinfo_v1). */
export interface RecentRuleInfo {
  seconds: number;
  hitCount: number;
  checkSet: number;
  invert: boolean;
  name: string;
  side: number;
  mask: number;
}

/** XT_RECENT_* bits of checkSet. */
const CHECK = 1;
const SET = 2;
const UPDATE = 4;
const REMOVE = 8;
const TTL = 16;
const REAP = 32;
const DEST = 1;

const HZ = 250;

/** One address of a list (struct recent_entry). */
interface RecentEntry {
  addr: number;
  ttl: number;
  /** Where the next time stamp goes (1-based, wraps with the list's mask). */
  index: number;
  /** Time stamps in use. */
  nstamps: number;
  /** The ring of time stamps (jiffies), nstampsMaxMask + 1 long. */
  stamps: number[];
  /** Order of creation, for the /proc listing. */
  seq: number;
}

/** One list (struct recent_table). */
interface RecentTable {
  name: string;
  mask: number;
  /** Ring size minus one (a power of two minus one). */
  nstampsMaxMask: number;
  /** Entries from the least to the most recently seen (the LRU list). */
  lru: RecentEntry[];
  /** Next creation number. */
  seq: number;
}

/** Per-rule state: whether the rule has joined its list yet. */
export interface RecentRuntime {
  joined: boolean;
}

/** The module parameters. */
function params(shared: Record<string, any>): { ipListTot: number; ipPktListTot: number } {
  const p = shared[RECENT_PARAMS_SHARED_KEY];
  return { ipListTot: p?.ipListTot ?? 100, ipPktListTot: p?.ipPktListTot ?? 0 };
}

/** roundup_pow_of_two(n) - 1. */
function ringMask(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p - 1;
}

/** The ring size a rule needs (recent_mt_check). */
function ruleMask(info: RecentRuleInfo, ipPktListTot: number): number {
  if (ipPktListTot && info.hitCount < ipPktListTot) return ringMask(ipPktListTot);
  if (info.hitCount) return ringMask(info.hitCount);
  return 31;
}

function tables(shared: Record<string, any>): Record<string, RecentTable> {
  return (shared[RECENT_SHARED_KEY] ??= {});
}

/** Widens an entry's ring, keeping its stamps in order (oldest first). */
function growEntry(e: RecentEntry, oldMask: number, newMask: number): void {
  const size = oldMask + 1;
  const ordered: number[] = [];
  if (e.nstamps < size) for (let i = 0; i < e.nstamps; i++) ordered.push(e.stamps[i]!);
  else for (let i = 0; i < size; i++) ordered.push(e.stamps[(e.index + i) % size]!);
  e.stamps = ordered.concat(new Array(newMask + 1 - ordered.length).fill(0));
  e.index = ordered.length;
}

/**
 * Makes the rule a user of its list (recent_mt_check): creates the list
 * with the rule's mask, or widens the rings when the rule needs more time
 * stamps. Call it when the rule is inserted; the match calls it on its
 * first packet otherwise.
 */
export function recentJoin(shared: Record<string, any>, info: RecentRuleInfo): void {
  const all = tables(shared);
  const mask = ruleMask(info, params(shared).ipPktListTot);
  const t = all[info.name];
  if (t === undefined) {
    all[info.name] = { name: info.name, mask: info.mask >>> 0, nstampsMaxMask: mask, lru: [], seq: 0 };
    return;
  }
  if (mask > t.nstampsMaxMask) {
    for (const e of t.lru) growEntry(e, t.nstampsMaxMask, mask);
    t.nstampsMaxMask = mask;
  }
}

/** recent_entry_lookup: an entry for the address, with a matching TTL when one is asked for (0: any). */
function lookup(t: RecentTable, addr: number, ttl: number): RecentEntry | undefined {
  for (const e of t.lru) if (e.addr === addr && (ttl === e.ttl || ttl === 0 || e.ttl === 0)) return e;
  return undefined;
}

function removeEntry(t: RecentTable, e: RecentEntry): void {
  const i = t.lru.indexOf(e);
  if (i >= 0) t.lru.splice(i, 1);
}

/** recent_entry_init: a new entry seen now, evicting the least recently seen one when the list is full. */
function addEntry(t: RecentTable, addr: number, ttl: number, now: number, ipListTot: number): RecentEntry {
  if (t.lru.length >= ipListTot) t.lru.shift();
  const stamps = new Array<number>(t.nstampsMaxMask + 1).fill(0);
  stamps[0] = now;
  const e: RecentEntry = { addr, ttl, index: 1, nstamps: 1, stamps, seq: t.seq++ };
  t.lru.push(e);
  return e;
}

/** recent_entry_update: one more sighting now; the entry becomes the most recently seen. */
function touch(t: RecentTable, e: RecentEntry, now: number): void {
  e.index &= t.nstampsMaxMask;
  e.stamps[e.index++] = now;
  if (e.index > e.nstamps) e.nstamps = e.index;
  removeEntry(t, e);
  t.lru.push(e);
}

/**
 * The kernel half (recent_mt). The address is the packet's source (or
 * destination) under the list's mask; the TTL is the one the packet had
 * before this host forwarded it.
 */
export function recentMatch(info: RecentRuleInfo, ctx: PacketContext, rt: RecentRuntime): boolean {
  const kernel = ctx.kernel;
  const all = tables(kernel.shared);
  if (!rt.joined || all[info.name] === undefined) {
    recentJoin(kernel.shared, info);
    rt.joined = true;
  }
  const t = all[info.name]!;
  const d = ctx.skb.data;
  const raw = info.side === DEST ? get32(d, 16) : get32(d, 12);
  let ttl = d[8]!;
  // forwarded (and other socketless) packets on their way out: the TTL as received
  if (ctx.out !== '' && ctx.skb.owner === null) ttl = (ttl + 1) & 0xff;
  const addr = (raw & t.mask) >>> 0;
  const now = kernel.jiffies();
  let ret = info.invert;
  const e = lookup(t, addr, info.checkSet & TTL ? ttl : 0);
  if (e === undefined) {
    if (!(info.checkSet & SET)) return ret;
    addEntry(t, addr, ttl, now, params(kernel.shared).ipListTot);
    return !ret;
  }
  if (info.checkSet & SET) ret = !ret;
  else if (info.checkSet & REMOVE) {
    removeEntry(t, e);
    ret = !ret;
  } else if (info.checkSet & (CHECK | UPDATE)) {
    // the window start: seconds * HZ is computed in 32 bits
    const since = now - ((info.seconds * HZ) % 2 ** 32);
    let hits = 0;
    for (let i = 0; i < e.nstamps; i++) {
      if (info.seconds && since > e.stamps[i]!) continue;
      if (!info.hitCount || ++hits >= info.hitCount) {
        ret = !ret;
        break;
      }
    }
    if (info.checkSet & REAP) {
      const oldest = t.lru[0]!;
      const updating = (info.checkSet & UPDATE) !== 0 && ret;
      if (!(oldest === e && updating) && since > oldest.stamps[oldest.index - 1]!) removeEntry(t, oldest);
    }
  }
  if (info.checkSet & SET || (info.checkSet & UPDATE && ret)) {
    touch(t, e, now);
    e.ttl = ttl;
  }
  return ret;
}

/**
 * What /proc/net/xt_recent/NAME shows: one line per address with its TTL,
 * last sighting, ring position and every time stamp kept. Addresses are
 * listed in the order they were added (the kernel lists them in hash
 * order). Undefined when the list does not exist.
 */
export function recentProcText(shared: Record<string, any>, name: string): string | undefined {
  const t = tables(shared)[name];
  if (t === undefined) return undefined;
  let out = '';
  for (const e of [...t.lru].sort((a, b) => a.seq - b.seq)) {
    const last = e.stamps[(e.index - 1) & t.nstampsMaxMask]!;
    out += `src=${formatIPv4(e.addr)} ttl: ${e.ttl} last_seen: ${last} oldest_pkt: ${e.index}`;
    for (let i = 0; i < e.nstamps; i++) out += `${i ? ',' : ''} ${e.stamps[i]}`;
    out += '\n';
  }
  return out;
}

/** in4_pton with '\n' as the delimiter: four decimal parts 0-255, then the end or a newline. */
function parseIPv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(\n|$)/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1, 5).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/**
 * A write to /proc/net/xt_recent/NAME (recent_mt_proc_write): "/" empties
 * the list, "+ADDR" adds the address (or records one more sighting),
 * "-ADDR" removes it. Returns the errno of a refused write and the kernel
 * log line it causes, if any. IPv6 addresses are not supported here.
 */
export function recentProcWrite(
  shared: Record<string, any>,
  name: string,
  text: string,
  now: number,
): { errno?: 'EINVAL' | 'ENOENT'; log?: string } {
  const t = tables(shared)[name];
  if (t === undefined) return { errno: 'ENOENT' };
  if (text === '') return {};
  const input = text.slice(0, 41);
  const op = input[0];
  if (op === '/') {
    t.lru = [];
    return {};
  }
  if (op !== '+' && op !== '-') return { errno: 'EINVAL', log: 'xt_recent: Need "+ip", "-ip" or "/"' };
  const addr = input.includes(':') ? undefined : parseIPv4(input.slice(1));
  if (addr === undefined) return { errno: 'EINVAL', log: 'xt_recent: illegal address written to procfs' };
  const e = lookup(t, addr, 0);
  if (e === undefined) {
    if (op === '+') addEntry(t, addr, 0, now, params(shared).ipListTot);
  } else if (op === '+') touch(t, e, now);
  else removeEntry(t, e);
  return {};
}

/**
 * Drops the lists no rule names any more (the kernel frees a list with the
 * last rule using it). `names` holds the list names of the rules in place.
 */
export function recentPrune(shared: Record<string, any>, names: ReadonlySet<string>): void {
  const all = shared[RECENT_SHARED_KEY] as Record<string, RecentTable> | undefined;
  if (!all) return;
  for (const n of Object.keys(all)) if (!names.has(n)) delete all[n];
}
