/**
 * The connlimit match (revision 1): how many connections the source (or
 * destination) address, grouped by a prefix, has open, compared with a
 * limit ("above" or "upto", which is stored as an inverted "above").
 */
import { ip6Ones, type IPv6 } from '../../addr/ipv6.js';
import { parsePlenMask6 } from '../addr6-opts.js';
import { defineMatch, paramError } from '../index-types.js';
import { parsePlenMask } from './conn-util.js';
import type { PacketContext } from '../packet.js';
import type { Conn, Tuple } from '../../conntrack/types.js';
import { get32 } from '../../wire/bytes.js';
import { conntrackIndex, findConn, packetTuple, sameTuple, tcpClosed, tupleKey } from './ct-util.js';
import { isTemplate } from '../target/ct-template.js';

/** xt_connlimit_info. */
export interface ConnlimitInfo {
  /** v4_mask as an unsigned 32-bit number, or v6_mask as four words in ip6tables rules. */
  mask: number | IPv6;
  limit: number;
  /** XT_CONNLIMIT_INVERT (1) and XT_CONNLIMIT_DADDR (2). */
  flags: number;
}

/** connlimit flag bits. */
export const CONNLIMIT = { INVERT: 1, DADDR: 2 } as const;

/** count_bits4/count_bits6: the width minus the positions of the highest clear bits, as iptables counts. */
function countBits(mask: number | IPv6): number {
  const words = typeof mask === 'number' ? [mask] : mask;
  let bits = 0;
  for (const w of words) for (let m = ~w >>> 0; m !== 0; m >>>= 1) bits++;
  return 32 * words.length - bits;
}

/** What `iptables -m connlimit -h` adds after the general help. */
const HELP =
  'connlimit match options:\n' +
  '  --connlimit-upto n     match if the number of existing connections is 0..n\n' +
  '  --connlimit-above n    match if the number of existing connections is >n\n' +
  '  --connlimit-mask n     group hosts using prefix length (default: max len)\n' +
  '  --connlimit-saddr      select source address for grouping\n' +
  '  --connlimit-daddr      select destination addresses for grouping\n';

/** The connlimit match (-m connlimit), revision 1. */
export const connlimit = defineMatch<ConnlimitInfo>({
  name: 'connlimit',
  help: () => HELP,
  revision: 1,
  options: [
    { name: 'connlimit-upto', id: 0, type: 'uint32', invert: true, excl: [1] },
    { name: 'connlimit-above', id: 1, type: 'uint32', invert: true, excl: [0] },
    // a plenmask, parsed here with getaddrinfo's rules
    { name: 'connlimit-mask', id: 2, type: 'string' },
    { name: 'connlimit-saddr', id: 3, type: 'none', excl: [4] },
    { name: 'connlimit-daddr', id: 4, type: 'none', excl: [3] },
  ],
  init: (family) => ({ mask: family === 'ipv6' ? ip6Ones() : 0xffffffff, limit: 0, flags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case 0:
        info.limit = cb.val.num!;
        if (!cb.invert) info.flags |= CONNLIMIT.INVERT;
        break;
      case 1:
        info.limit = cb.val.num!;
        if (cb.invert) info.flags |= CONNLIMIT.INVERT;
        break;
      case 2:
        info.mask =
          cb.family === 'ipv6'
            ? parsePlenMask6(cb.extName, cb.entry.name, cb.arg ?? '').mask
            : parsePlenMask(cb.extName, cb.entry.name, cb.arg ?? '').mask;
        break;
      case 3:
        info.flags &= ~CONNLIMIT.DADDR;
        break;
      case 4:
        info.flags |= CONNLIMIT.DADDR;
        break;
    }
  },
  final(cb) {
    if ((cb.xflags & 0b11) === 0) throw paramError('You must specify "--connlimit-above" or "--connlimit-upto".');
  },
  print: (info) =>
    ` #conn ${info.flags & CONNLIMIT.DADDR ? 'dst' : 'src'}/${countBits(info.mask)} ` +
    `${info.flags & CONNLIMIT.INVERT ? '<=' : '>'} ${info.limit}`,
  save: (info) =>
    ` --connlimit-${info.flags & CONNLIMIT.INVERT ? 'upto' : 'above'} ${info.limit}` +
    ` --connlimit-mask ${countBits(info.mask)} --connlimit-${info.flags & CONNLIMIT.DADDR ? 'daddr' : 'saddr'}`,
  runtime: (): ConnlimitRuntime => ({ lists: {} }),
  match: connlimitMatch,
});

/** One connection a rule counts (struct nf_conncount_tuple). */
interface CountedConn {
  tuple: Tuple;
  zone: number;
  /** (u32)jiffies when it was added. */
  jiffies: number;
}

/** The connections counted under one key (struct nf_conncount_list). */
interface CountList {
  conns: CountedConn[];
  /** (u32)jiffies of the last garbage collection of the list. */
  lastGc: number;
  /** Length of the list right after that collection. */
  lastGcCount: number;
}

/**
 * Per-rule state of connlimit (the rule's nf_conncount_data): the lists of
 * counted connections by key, the masked address and the zone.
 */
export interface ConnlimitRuntime {
  lists: Record<string, CountList>;
}

/** CONNCOUNT_GC_MAX_COLLECT: entries one collection may drop; also how many additions skip it. */
const GC_MAX_COLLECT = 64;

/** What get_ct_or_tuple_from_skb finds: the tuple, its zone, and the connection when one exists. */
interface PacketConn {
  tuple: Tuple;
  zone: number;
  ct: Conn | null;
}

/**
 * The packet's connection and original tuple, or the tuple read from the
 * packet (in the zone of the CT template it may carry) and the connection
 * the table has for it; null when the packet has no usable tuple.
 */
function packetConn(ctx: PacketContext): PacketConn | null {
  const ct = ctx.skb.ct;
  if (ct !== null && !isTemplate(ct)) return { tuple: ct.orig, zone: ct.zone, ct };
  const tuple = packetTuple(ctx.skb);
  if (tuple === null) return null;
  const zone = ct !== null ? ct.zone : 0;
  return { tuple, zone, ct: findConn(ctx.kernel.conntrack, tuple, zone) };
}

/**
 * __nf_conncount_add as Linux 6.18 has it: unless the list was collected
 * this jiffy, it is scanned: stale entries are dropped (gone from the
 * table, or TCP connections already closed), and meeting the packet's own
 * connection ends the scan without adding it again (nor marking the list
 * collected). Otherwise the connection is added, whether it is new or
 * confirmed long ago (a reply the host sends for a connection the rule
 * never saw is counted then). Returns false when the packet has no tuple.
 */
function addToList(list: CountList, pc: PacketConn | null, ctx: PacketContext, now: number): boolean {
  if (pc === null) return false;
  if (!(now === list.lastGc && list.conns.length - list.lastGcCount < GC_MAX_COLLECT)) {
    const index = conntrackIndex(ctx.kernel.conntrack);
    let collect = 0;
    const kept: CountedConn[] = [];
    const conns = list.conns;
    let i = 0;
    for (; i < conns.length; i++) {
      if (collect > GC_MAX_COLLECT) break;
      const c = conns[i]!;
      const found = index.get(tupleKey(c.tuple, c.zone));
      if (found === undefined) {
        collect++;
        continue;
      }
      if (sameTuple(c.tuple, pc.tuple) && found.zone === pc.zone) {
        list.conns = kept.concat(conns.slice(i));
        return true;
      }
      if (tcpClosed(found)) {
        collect++;
        continue;
      }
      kept.push(c);
    }
    list.conns = kept.concat(conns.slice(i));
    list.lastGc = now;
    list.lastGcCount = list.conns.length;
  }
  list.conns.push({ tuple: pc.tuple, zone: pc.zone, jiffies: now });
  list.lastGc = now;
  return true;
}

/**
 * nf_conncount_count for one key: add the packet's connection to the
 * key's list (or start the list with it) and give the list's length; 0
 * when the packet cannot be counted.
 */
function countKey(rt: ConnlimitRuntime, key: string, ctx: PacketContext): number {
  const now = ctx.kernel.jiffies() >>> 0;
  const list = rt.lists[key];
  if (list !== undefined) return addToList(list, packetConn(ctx), ctx, now) ? list.conns.length : 0;
  const pc = packetConn(ctx);
  if (pc === null) return 0;
  rt.lists[key] = { conns: [{ tuple: pc.tuple, zone: pc.zone, jiffies: now }], lastGc: now, lastGcCount: 0 };
  return 1;
}

/**
 * The kernel half: counts the connections of the packet's source (or
 * destination) address under the mask, in the packet's zone, and compares
 * the count with the limit. The packet is dropped at once (hotdrop) when
 * it cannot be counted.
 */
function connlimitMatch(info: ConnlimitInfo, ctx: PacketContext, rt: ConnlimitRuntime): boolean {
  const d = ctx.skb.data;
  const addr = info.flags & CONNLIMIT.DADDR ? get32(d, 16) : get32(d, 12);
  const ct = ctx.skb.ct;
  const key = `${(addr & (info.mask as number)) >>> 0}/${ct !== null ? ct.zone : 0}`;
  const connections = countKey(rt, key, ctx);
  if (connections === 0) {
    ctx.hotdrop = true;
    return false;
  }
  return (connections > info.limit) !== ((info.flags & CONNLIMIT.INVERT) !== 0);
}
