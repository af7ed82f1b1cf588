/**
 * Network address translation for IPv4 connections, as Linux 6.x does it
 * (nf_nat_core.c, nf_nat_proto.c): a NAT target (or the null binding when
 * the nat chain ends without one) decides once per connection and per
 * manip type (source at POSTROUTING/INPUT, destination at PREROUTING/OUTPUT)
 * what the connection's reply tuple becomes; every later packet of the
 * connection, in both directions, is rewritten to match, and ICMP errors
 * about it have their quoted header rewritten too.
 *
 * Where the kernel draws a random number (the starting offset of a port
 * search for source NAT and for --random/--random-fully) nflab calls
 * `env.random32()`; everything else (the address picked from a range, the
 * destination port search, reuse of an existing mapping) is deterministic
 * and reproduced exactly.
 */
import type { Hook } from '../netfilter/tables.js';
import { CtInfo, type Skb } from '../path/skb.js';
import { NAT_FLAG, type NatRange } from '../xt/target/nat-range.js';
import type { KernelServices } from '../xt/packet.js';
import { NF_ACCEPT, NF_DROP } from '../xt/verdict.js';
import { icmpChecksum, manipIpv4 } from './nat-manip.js';
import { pickAddress } from './nat-hash.js';
import { forEachSameSource, natTable, noteSourceBinding, tcpSeenEnd, tcpState } from './nat-table.js';
import { alterReply, killConn, tupleInUse, type ConntrackTable } from './table.js';
import { Dir, IPS, type Conn, type Tuple } from './types.js';

/** Which end of a connection a binding rewrites. */
export type NatManip = 'SRC' | 'DST';

/** The machine services NAT uses: randomness and the conntrack table (KernelServices provides both). */
export type NatEnv = Pick<KernelServices, 'random32' | 'conntrack'>;

/**
 * A connection as NAT sees it: `masqDev` remembers the interface a
 * MASQUERADE binding was made for (nf_conn_nat.masq_index), so the
 * binding is forgotten when that interface goes down or loses the address.
 */
export interface NatConn extends Conn {
  masqDev?: string;
}

const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_GRE = 47;
const IPPROTO_SCTP = 132;
const IPPROTO_UDPLITE = 136;

/** NF_NAT_RANGE_PROTO_RANDOM_ALL. */
const RANDOM_ALL = NAT_FLAG.PROTO_RANDOM | NAT_FLAG.PROTO_RANDOM_FULLY;
/** IPS_NAT_MASK. */
const NAT_MASK = IPS.SRC_NAT | IPS.DST_NAT;
/** NF_NAT_MAX_ATTEMPTS: the port search gives up after this many tries per round. */
const MAX_ATTEMPTS = 128;
/** NF_NAT_HARDER_THRESH: in its last tries, a TCP search may evict a closed connection. */
const HARDER_THRESH = MAX_ATTEMPTS / 4;
/** TCP_CONNTRACK_SYN_SENT and TCP_CONNTRACK_TIME_WAIT. */
const TCP_SYN_SENT = 1;
const TCP_TIME_WAIT = 7;

/** The manip type a hook performs (HOOK2MANIP): source at POSTROUTING and INPUT, destination elsewhere. */
export function hookManip(hook: Hook): NatManip {
  return hook === 'POSTROUTING' || hook === 'INPUT' ? 'SRC' : 'DST';
}

/** Whether the binding for `manip` is already set up (nf_nat_initialized). */
export function natInitialized(ct: Conn, manip: NatManip): boolean {
  return (ct.status & (manip === 'SRC' ? IPS.SRC_NAT_DONE : IPS.DST_NAT_DONE)) !== 0;
}

/** The reply ICMP type of a query type (nf_ct_invert_tuple's invmap), or the type itself when it has none. */
function icmpReplyType(type: number): number {
  switch (type) {
    case 8: return 0;
    case 0: return 8;
    case 13: return 14;
    case 14: return 13;
    case 15: return 16;
    case 16: return 15;
    case 17: return 18;
    case 18: return 17;
    default: return type;
  }
}

/** The tuple of the opposite direction (nf_ct_invert_tuple); an ICMP type without a reply type is kept. */
function inverse(t: Tuple): Tuple {
  if (t.proto === IPPROTO_ICMP) {
    return { src: t.dst, dst: t.src, proto: t.proto, sport: t.sport, dport: (icmpReplyType(t.dport >>> 8) << 8) | (t.dport & 0xff) };
  }
  return { src: t.dst, dst: t.src, proto: t.proto, sport: t.dport, dport: t.sport };
}

/** Whether two tuples are the same (nf_ct_tuple_equal). */
function tupleEqual(a: Tuple, b: Tuple): boolean {
  return a.src === b.src && a.dst === b.dst && a.proto === b.proto && a.sport === b.sport && a.dport === b.dport;
}

function copyTuple(t: Tuple): Tuple {
  return { src: t.src, dst: t.dst, proto: t.proto, sport: t.sport, dport: t.dport };
}

/** Whether UDP-like clash resolution applies to the protocol (l4proto->allow_clash: UDP, UDP-Lite, and protocols conntrack tracks generically). */
function allowClash(proto: number): boolean {
  return proto !== IPPROTO_TCP && proto !== IPPROTO_ICMP && proto !== IPPROTO_SCTP && proto !== IPPROTO_GRE && proto !== 58;
}

/** nf_nat_used_tuple: whether a connection other than `ct` already has the reply `tuple` implies. */
function usedTuple(table: ConntrackTable, tuple: Tuple, ct: Conn): boolean {
  return tupleInUse(table, tuple, ct, ct.zone);
}

/**
 * nf_nat_used_tuple_new: as usedTuple, but a clash with a connection that
 * is the reverse of this one and neither uses NAT does not count.
 */
function usedTupleNew(table: ConntrackTable, tuple: Tuple, ct: Conn): boolean {
  if (!usedTuple(table, tuple, ct)) return false;
  if (!allowClash(ct.orig.proto)) return true;
  const usesNat = NAT_MASK | IPS.SEQ_ADJUST;
  if (ct.status & usesNat) return true;
  const other = table.find(tuple, ct.zone) ?? table.find(inverse(tuple), ct.zone);
  if (!other) return false;
  if (other.conn.status & usesNat) return true;
  return !tupleEqual(other.conn.orig, ct.reply);
}

/**
 * nf_nat_used_tuple_harder: usedTuple, except that in the last tries of a
 * TCP port search for a new connection (SYN sent) a clashing connection
 * that was source-NATed and is closed (TIME_WAIT or later), whose
 * sequence numbers this one has passed, is evicted and its port reused.
 */
function usedTupleHarder(table: ConntrackTable, tuple: Tuple, ct: Conn, attemptsLeft: number): boolean {
  if (attemptsLeft > HARDER_THRESH || tuple.proto !== IPPROTO_TCP || tcpState(ct) !== TCP_SYN_SENT) {
    return usedTuple(table, tuple, ct);
  }
  const found = table.find(inverse(tuple), ct.zone);
  if (!found) return false;
  if (found.dir === Dir.ORIGINAL || found.conn === ct) return true;
  const old = found.conn;
  if (tcpState(old) < TCP_TIME_WAIT) return true;
  if (old.status & (IPS.FIXED_TIMEOUT | IPS.DYING)) return true;
  if (!(old.status & IPS.SRC_NAT)) return true;
  // The new connection's sequence numbers must have moved past the old one's.
  if (((tcpSeenEnd(ct) - tcpSeenEnd(old)) | 0) <= 0) return true;
  if (old.status & IPS.DYING || !table.has(old)) return true;
  killConn(table, old);
  return false;
}

/** Whether the source address lies in the range (nf_nat_inet_in_range). */
function addrInRange(t: Tuple, r: NatRange): boolean {
  return t.src >= r.minIp && t.src <= r.maxIp;
}

/** l4proto_in_range: whether the manipulated port (or ICMP id) lies in the range's ports. */
function l4InRange(t: Tuple, manip: NatManip, r: NatRange): boolean {
  switch (t.proto) {
    case IPPROTO_ICMP:
      return t.sport >= r.minPort && t.sport <= r.maxPort;
    case IPPROTO_GRE:
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
    case IPPROTO_SCTP: {
      const port = manip === 'SRC' ? t.sport : t.dport;
      return port >= r.minPort && port <= r.maxPort;
    }
    default:
      return true;
  }
}

/** nf_in_range: whether source-mapping to `t` satisfies the range. */
function inRange(t: Tuple, r: NatRange): boolean {
  if (r.flags & NAT_FLAG.MAP_IPS && !addrInRange(t, r)) return false;
  if (!(r.flags & NAT_FLAG.PROTO_SPECIFIED)) return true;
  return l4InRange(t, 'SRC', r);
}

/**
 * find_appropriate_src: the source mapping an existing connection from
 * the same source (address, port, protocol) already got, when it fits the
 * range; the most recently set up one first, as the kernel's per-source
 * list holds them.
 */
function findAppropriateSrc(table: ConntrackTable, orig: Tuple, r: NatRange, ct: Conn): Tuple | null {
  let found: Tuple | null = null;
  forEachSameSource(table, orig.proto, orig.src, orig.sport, (c) => {
    if (c === ct || c.zone !== ct.zone) return false;
    const result = inverse(c.reply);
    result.dst = orig.dst;
    result.dport = orig.dport;
    if (!inRange(result, r)) return false;
    found = result;
    return true;
  });
  return found;
}

/** find_best_ips_proto: puts the range's address for this connection into the manipulated side of `t`. */
function findBestIps(t: Tuple, r: NatRange, ct: Conn, manip: NatManip): void {
  if (!(r.flags & NAT_FLAG.MAP_IPS)) return;
  const addr = pickAddress(t.src, t.dst, r.minIp, r.maxIp, (r.flags & NAT_FLAG.PERSISTENT) !== 0, ct.zone);
  if (manip === 'SRC') t.src = addr;
  else t.dst = addr;
}

/**
 * nf_nat_l4proto_unique_tuple: searches the port (or ICMP id) range for a
 * value that makes `t` unique, from an offset that is random for source
 * NAT and --random, the shifted-map offset for "a-b/base", and zero (the
 * first port of the range) otherwise; at most 128 tries, then rounds of
 * halving size from a new random offset.
 */
function l4UniqueTuple(env: NatEnv, table: ConntrackTable, t: Tuple, r: NatRange, manip: NatManip, ct: Conn): void {
  let min: number;
  let size: number;
  let key: 'sport' | 'dport';
  const specified = (r.flags & NAT_FLAG.PROTO_SPECIFIED) !== 0;
  switch (t.proto) {
    case IPPROTO_ICMP:
      // The id is the same field in both directions.
      key = 'sport';
      if (!specified) {
        min = 0;
        size = 65536;
      } else {
        min = r.minPort;
        size = r.maxPort - r.minPort + 1;
      }
      break;
    case IPPROTO_GRE:
      // Only PPTP's GRE (a connection with a master) has keys to change.
      if (!ct.master) return;
      key = manip === 'SRC' ? 'sport' : 'dport';
      if (!specified) {
        min = 1;
        size = 65535;
      } else {
        min = r.minPort;
        size = r.maxPort - min + 1;
      }
      break;
    case IPPROTO_TCP:
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
    case IPPROTO_SCTP: {
      key = manip === 'SRC' ? 'sport' : 'dport';
      if (!specified) {
        // A destination rewrite without ports keeps the port.
        if (manip === 'DST') return;
        const port = t[key];
        if (port < 1024) {
          // Low ports stay low; 512-1023 is the credential-passing convention.
          if (port < 512) {
            min = 1;
            size = 511;
          } else {
            min = 600;
            size = 1023 - 600 + 1;
          }
        } else {
          min = 1024;
          size = 65535 - 1024 + 1;
        }
      } else {
        let lo = r.minPort;
        let hi = r.maxPort;
        if (hi < lo) [lo, hi] = [hi, lo];
        min = lo;
        size = hi - lo + 1;
      }
      break;
    }
    default:
      return;
  }
  // The offset is a u16 in the kernel: it wraps at 65536.
  let off: number;
  if (r.flags & NAT_FLAG.PROTO_OFFSET) off = (t[key] - r.basePort) & 0xffff;
  else if (r.flags & RANDOM_ALL || manip !== 'DST') off = env.random32() & 0xffff;
  else off = 0;
  // The size is unsigned: a reversed ICMP or GRE range wraps to a huge one.
  size = size >>> 0;
  let attempts = Math.min(size, MAX_ATTEMPTS);
  for (;;) {
    for (let i = 0; i < attempts; i++, off = (off + 1) & 0xffff) {
      t[key] = (min + (off % size)) & 0xffff;
      if (!usedTupleHarder(table, t, ct, attempts - i)) return;
    }
    if (attempts >= size || attempts < 16) return;
    attempts = attempts >>> 1;
    off = env.random32() & 0xffff;
  }
}

/**
 * get_unique_tuple: the tuple the connection's packets will look like
 * after this manip, for a connection whose current view is `orig`.
 */
function getUniqueTuple(env: NatEnv, table: ConntrackTable, orig: Tuple, r: NatRange, ct: Conn, manip: NatManip): Tuple {
  // 1) Source NAT keeps the connection's own source, or reuses the mapping
  //    of an earlier connection from the same source, when that fits.
  if (manip === 'SRC' && !(r.flags & RANDOM_ALL)) {
    if (inRange(orig, r)) {
      if (!usedTupleNew(table, orig, ct)) return copyTuple(orig);
    } else {
      const found = findAppropriateSrc(table, orig, r, ct);
      if (found && !usedTuple(table, found, ct)) return found;
    }
  }
  // 2) The address for this connection out of the range.
  const t = copyTuple(orig);
  findBestIps(t, r, ct, manip);
  // 3) Keep the port when it is in range and the result unique.
  if (!(r.flags & RANDOM_ALL)) {
    if (r.flags & NAT_FLAG.PROTO_SPECIFIED) {
      if (
        !(r.flags & NAT_FLAG.PROTO_OFFSET) &&
        l4InRange(t, manip, r) &&
        (r.minPort === r.maxPort || !usedTuple(table, t, ct))
      ) {
        return t;
      }
    } else if (!usedTuple(table, t, ct)) {
      return t;
    }
  }
  // 4) Search the port range.
  l4UniqueTuple(env, table, t, r, manip, ct);
  return t;
}

/**
 * nf_nat_setup_info: binds the connection's `manip` side into `range`,
 * rewriting `ct.reply` when the connection's packets must change and
 * setting IPS_SRC_NAT/IPS_DST_NAT and the matching _DONE bit. Returns the
 * verdict (NF_ACCEPT, or NF_DROP when the manip was already set up).
 * A confirmed connection is left alone.
 */
export function natSetupInfo(env: NatEnv, ct: Conn, range: NatRange, manip: NatManip): number {
  if (ct.status & IPS.CONFIRMED) return NF_ACCEPT;
  if (natInitialized(ct, manip)) return NF_DROP;
  const table = natTable(env);
  const curr = inverse(ct.reply);
  const next = getUniqueTuple(env, table, curr, range, ct, manip);
  if (!tupleEqual(next, curr)) {
    alterReply(ct, inverse(next));
    ct.status |= manip === 'SRC' ? IPS.SRC_NAT : IPS.DST_NAT;
  }
  if (manip === 'SRC') noteSourceBinding(table, ct);
  ct.status |= manip === 'SRC' ? IPS.SRC_NAT_DONE : IPS.DST_NAT_DONE;
  return NF_ACCEPT;
}

/**
 * nf_nat_alloc_null_binding: the binding of a new connection whose nat
 * chain set none: its own address, and a port that is changed only when
 * the connection would otherwise clash with another one.
 */
export function natNullBinding(env: NatEnv, ct: Conn, manip: NatManip): number {
  // The reply tuple, in case an earlier manip already changed it.
  const ip = manip === 'SRC' ? ct.reply.dst : ct.reply.src;
  const range: NatRange = { rangesize: 1, flags: NAT_FLAG.MAP_IPS, minIp: ip, maxIp: ip, minPort: 0, maxPort: 0, basePort: 0 };
  return natSetupInfo(env, ct, range, manip);
}

/** Whether a packet in direction `dir` is rewritten by a `manip` hook (the NAT status bit, inverted for replies). */
function needsManip(ct: Conn, manip: NatManip, dir: Dir): boolean {
  let bit: number = manip === 'SRC' ? IPS.SRC_NAT : IPS.DST_NAT;
  if (dir === Dir.REPLY) bit ^= NAT_MASK;
  return (ct.status & bit) !== 0;
}

/** The direction of a packet from its ctinfo (CTINFO2DIR). */
function ctinfoDir(ctinfo: CtInfo): Dir {
  return ctinfo >= CtInfo.ESTABLISHED_REPLY ? Dir.REPLY : Dir.ORIGINAL;
}

/**
 * Rewrites the packet's `manip` side to look like the inverse of the
 * other direction's tuple (nf_nat_manip_pkt at offset `iph`). `other` is
 * the tuple of the opposite direction; `len` the packet's length.
 */
function manipToInverse(data: Uint8Array, len: number, iph: number, other: Tuple, proto: number, manip: NatManip): boolean {
  // The target is the inverse of `other`: its source is other's destination.
  if (manip === 'SRC') return manipIpv4(data, len, iph, proto, true, other.dst, other.dport, other.sport);
  return manipIpv4(data, len, iph, proto, false, other.src, other.sport, other.sport);
}

/**
 * nf_nat_packet: rewrites a packet of a NATed connection for the hook's
 * manip type, when its direction needs it. Returns NF_ACCEPT, or NF_DROP
 * when the packet is too short to rewrite.
 */
export function natPacket(_env: NatEnv, skb: Skb, hook: Hook): number {
  const ct = skb.ct;
  if (!ct) return NF_ACCEPT;
  const manip = hookManip(hook);
  const dir = ctinfoDir(skb.ctinfo);
  if (!needsManip(ct, manip, dir)) return NF_ACCEPT;
  const other = dir === Dir.ORIGINAL ? ct.reply : ct.orig;
  const data = skb.data;
  return manipToInverse(data, data.length, 0, other, ct.orig.proto, manip) ? NF_ACCEPT : NF_DROP;
}

/**
 * nf_nat_icmp_reply_translation: an ICMP error RELATED to a NATed
 * connection gets the header it quotes rewritten like the packet it
 * quotes was (the inverse manip), its ICMP checksum recomputed, and its
 * own addresses rewritten like a packet of that direction. Returns false
 * when the packet must be dropped (too short, bad ICMP checksum, or a
 * redirect about a NATed connection).
 */
export function natIcmpReplyTranslation(skb: Skb, hook: Hook): boolean {
  const ct = skb.ct!;
  const data = skb.data;
  const len = data.length;
  const hl = (data[0]! & 0x0f) << 2;
  // The ICMP header and the quoted IP header must be there.
  if (hl + 8 + 20 > len) return false;
  if (icmpChecksum(data, hl, len) !== 0) return false;
  if (data[hl] === 5) {
    // Redirects are only passed for connections with null bindings both ways.
    if ((ct.status & (IPS.SRC_NAT_DONE | IPS.DST_NAT_DONE)) !== (IPS.SRC_NAT_DONE | IPS.DST_NAT_DONE)) return false;
    if (ct.status & NAT_MASK) return false;
  }
  const manip = hookManip(hook);
  const dir = ctinfoDir(skb.ctinfo);
  if (!needsManip(ct, manip, dir)) return true;
  const other = dir === Dir.ORIGINAL ? ct.reply : ct.orig;
  const proto = ct.orig.proto;
  // The quoted packet travelled the other way: it gets the other manip,
  // towards `other` itself rather than its inverse.
  const inner = hl + 8;
  const innerOk =
    manip === 'SRC'
      ? manipIpv4(data, len, inner, proto, false, other.dst, other.dport, other.sport)
      : manipIpv4(data, len, inner, proto, true, other.src, other.sport, other.sport);
  if (!innerOk) return false;
  data[hl + 2] = 0;
  data[hl + 3] = 0;
  const sum = icmpChecksum(data, hl, len);
  data[hl + 2] = sum >>> 8;
  data[hl + 3] = sum & 0xff;
  // The outer header: as a packet of this direction, with the ICMP rules
  // (an error's own header has no id to change).
  return manipToInverse(data, len, 0, other, IPPROTO_ICMP, manip);
}

/**
 * nf_nat_oif_changed: a masqueraded connection whose original-direction
 * packets now leave by another interface than the one it was bound to.
 */
function oifChanged(ct: NatConn, hook: Hook, dir: Dir, out: string): boolean {
  return hook === 'POSTROUTING' && dir === Dir.ORIGINAL && ct.masqDev !== undefined && ct.masqDev !== '' && ct.masqDev !== out;
}

/** nf_ct_kill_acct for a connection whose interface changed: the packet is counted, the connection killed and the packet dropped. */
function killForOif(env: NatEnv, skb: Skb, ct: Conn): number {
  ct.pkts[ctinfoDir(skb.ctinfo)]++;
  ct.bytes[ctinfoDir(skb.ctinfo)] += skb.data.length;
  killConn(natTable(env), ct);
  return NF_DROP;
}

/**
 * The NAT hook function (nf_nat_ipv4_fn and nf_nat_inet_fn) the traversal
 * calls at each of the four NAT hooks (PREROUTING, OUTPUT, INPUT,
 * POSTROUTING) once the nat table exists (the kernel registers all four
 * as soon as any nat chain does). For a packet of a new connection (NEW
 * or RELATED) whose manip for this hook is not set up yet it calls
 * `runNatChain` (the nat table's chain for this hook; its verdict, and
 * NF_ACCEPT when the table has no chain there), then the null binding if
 * the chain set none; then rewrites the packet. ICMP errors related to a
 * connection are translated instead. A masqueraded connection whose
 * packet now leaves by another interface is killed and the packet
 * dropped. Packets without a connection pass untouched.
 *
 * Rerouting: the traversal routes after PREROUTING, so a DNAT there needs
 * nothing more; after OUTPUT it must re-route when `natRerouteNeeded`
 * says so (ip_route_me_harder).
 */
export function natHook(env: NatEnv, skb: Skb, hook: Hook, runNatChain: () => number): number {
  const ct = skb.ct as NatConn | null;
  if (!ct) return NF_ACCEPT;
  const ctinfo = skb.ctinfo;
  if (ctinfo === CtInfo.RELATED || ctinfo === CtInfo.RELATED_REPLY) {
    if (skb.data[9] === IPPROTO_ICMP) return natIcmpReplyTranslation(skb, hook) ? NF_ACCEPT : NF_DROP;
  }
  const manip = hookManip(hook);
  const dir = ctinfoDir(ctinfo);
  if (ctinfo === CtInfo.NEW || ctinfo === CtInfo.RELATED || ctinfo === CtInfo.RELATED_REPLY) {
    if (!natInitialized(ct, manip)) {
      const verdict = runNatChain();
      if (verdict !== NF_ACCEPT) return verdict;
      if (!natInitialized(ct, manip)) {
        const v = natNullBinding(env, ct, manip);
        if (v !== NF_ACCEPT) return v;
      }
    } else if (oifChanged(ct, hook, dir, skb.outdev)) {
      return killForOif(env, skb, ct);
    }
  } else if (oifChanged(ct, hook, dir, skb.outdev)) {
    return killForOif(env, skb, ct);
  }
  return natPacket(env, skb, hook);
}

/**
 * After the OUTPUT NAT hook: whether the packet's destination was
 * translated, so that it must be routed again (nf_nat_ipv4_local_fn
 * compares the direction's destination with the other direction's
 * source).
 */
export function natRerouteNeeded(skb: Skb): boolean {
  const ct = skb.ct;
  if (!ct) return false;
  const dir = ctinfoDir(skb.ctinfo);
  const here = dir === Dir.ORIGINAL ? ct.orig : ct.reply;
  const there = dir === Dir.ORIGINAL ? ct.reply : ct.orig;
  return here.dst !== there.src;
}
