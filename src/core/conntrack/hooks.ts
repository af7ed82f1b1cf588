/**
 * The conntrack hook functions the traversal calls:
 *
 * - conntrackIn at PREROUTING and OUTPUT, priority -200 (nf_conntrack_in):
 *   finds or creates the packet's connection and runs its protocol
 *   tracker, setting skb.ct and skb.ctinfo;
 * - conntrackConfirm at INPUT and POSTROUTING, last priority (nf_confirm):
 *   puts a new connection into the table.
 *
 * Invalid packets go on without a connection (skb.ct null, ctinfo NONE,
 * which -m state sees as INVALID); conntrack itself drops a packet only
 * when the table is full and nothing can be evicted, when a new TCP
 * connection clashes at confirmation, or when a connection was killed
 * before its first packet was confirmed.
 */
import { CtInfo, type Skb } from '../path/skb.js';
import { get32 } from '../wire/bytes.js';
import { NF_ACCEPT, NF_DROP } from '../xt/verdict.js';
import { CT_INVALID, CT_REPEAT, type ConntrackEnv, type ConntrackHook, ctinfoDir } from './env.js';
import { genericPacket, grePacket } from './proto-generic.js';
import { sctpPacket } from './proto-sctp.js';
import { icmpError, icmpPacket, transportPorts } from './proto-icmp.js';
import { TCP, type TcpState, tcpPacket } from './proto-tcp.js';
import { udpPacket, udplitePacket } from './proto-udp.js';
import { CT, SEC_NS, jiffiesAt, jiffyFloorNs, readSysctl } from './sysctl.js';
import { type ConnExtra, IPS_NAT_CLASH, type TupleRef, connExpired } from './table.js';
import { findExpectation } from './expect.js';
import { confirmHelpers } from './helper.js';
import { natFollowMaster } from './nat-helper.js';
import { icmpInverseType, keyOf, tupleEquals, tupleKey } from './tuple.js';
import { IPS, type Conn, type Tuple } from './types.js';

/** The machine interface and hook names, defined in env.ts. */
export type { ConntrackEnv, ConntrackHook } from './env.js';

/**
 * A template connection, as the CT target attaches to a packet in the raw
 * table (zone, helper): conntrackIn takes the zone and helper of a
 * template found on skb.ct, then replaces it with the real connection.
 */
export function newTemplate(zone: number, helper = ''): Conn {
  return {
    id: 0,
    orig: { src: 0, dst: 0, proto: 0, sport: 0, dport: 0 },
    reply: { src: 0, dst: 0, proto: 0, sport: 0, dport: 0 },
    status: IPS.TEMPLATE,
    expires: 0,
    mark: 0,
    secmark: 0,
    zone,
    labels: [0, 0, 0, 0],
    helper,
    master: 0,
    l4: null,
    pkts: [0, 0],
    bytes: [0, 0],
  };
}

const ports = [0, 0];

function invalid(skb: Skb): number {
  skb.ct = null;
  skb.ctinfo = CtInfo.NONE;
  return NF_ACCEPT;
}

/** net_ratelimit: at most 10 messages per 5 seconds, then a count of the suppressed ones. */
function rateLimited(env: ConntrackEnv): boolean {
  const rs = env.table.fullRateLimit;
  const j = jiffiesAt(env.nowNs());
  if (!rs.begin) rs.begin = j;
  if (rs.begin + 5 * 250 < j) {
    if (rs.missed) {
      env.printk(4, `net_ratelimit: ${rs.missed} callbacks suppressed`);
      rs.missed = 0;
    }
    rs.begin = j;
    rs.printed = 0;
  }
  if (rs.printed < 10) {
    rs.printed++;
    return true;
  }
  rs.missed++;
  return false;
}

/**
 * init_conntrack: a new unconfirmed connection for the tuple, or null when
 * the tuple has no inverse (an ICMP type without an answer), or 'full'
 * when the table is full and early drop freed nothing.
 */
function createConn(env: ConntrackEnv, src: number, dst: number, proto: number, sport: number, dport: number, tmpl: Conn | null, nowNs: number): Conn | null | 'full' {
  let rsport = dport;
  let rdport = sport;
  if (proto === 1) {
    const inv = icmpInverseType(dport >>> 8);
    if (inv < 0) return null;
    rsport = sport;
    rdport = (inv << 8) | (dport & 0xff);
  }
  const zone = tmpl ? tmpl.zone : 0;
  const max = readSysctl(env.sysctl, CT.max);
  if (max > 0 && env.table.size() + 1 > max && env.table.count() + 1 > max) {
    const buckets = readSysctl(env.sysctl, CT.buckets) || 1;
    if (!env.table.earlyDrop(tupleKey(src, dst, proto, sport, dport, zone), buckets, nowNs)) {
      if (rateLimited(env)) env.printk(4, 'nf_conntrack: nf_conntrack: table full, dropping packet');
      return 'full';
    }
  }
  const c: Conn & ConnExtra = {
    id: env.random32() >>> 0,
    orig: { src, dst, proto, sport, dport },
    reply: { src: dst, dst: src, proto, sport: rsport, dport: rdport },
    status: 0,
    expires: 0,
    mark: 0,
    secmark: 0,
    zone,
    labels: [0, 0, 0, 0],
    helper: tmpl ? tmpl.helper : '',
    master: 0,
    l4: null,
    pkts: [0, 0],
    bytes: [0, 0],
  };
  if (readSysctl(env.sysctl, CT.acct) !== 0) c.acct = true;
  if (readSysctl(env.sysctl, CT.timestamp) !== 0) c.tstamp = -1;
  if (env.table.expects.length > 0) {
    // a connection a helper expects: RELATED to its master, with its marks
    const e = findExpectation(env.table, c.orig, zone, nowNs);
    if (e !== null) {
      c.status |= IPS.EXPECTED;
      c.master = e.master.id;
      c.mark = e.master.mark;
      c.secmark = e.master.secmark;
      c.helper = '';
      if (e.nat) natFollowMaster({ random32: () => env.random32(), conntrack: env.table }, c, e);
    }
  }
  return c;
}

/** Runs the protocol tracker of the connection. */
function handlePacket(env: ConntrackEnv, ct: Conn, skb: Skb, dataoff: number, ctinfo: number, hook: ConntrackHook): number {
  switch (ct.orig.proto) {
    case 6:
      return tcpPacket(env, ct, skb, dataoff, ctinfo, hook);
    case 17:
      return udpPacket(env, ct, skb, dataoff, ctinfo, hook);
    case 1:
      return icmpPacket(env, ct, skb, ctinfo);
    case 136:
      return udplitePacket(env, ct, skb, dataoff, ctinfo, hook);
    case 47:
      return grePacket(env, ct, skb, ctinfo);
    case 132:
      return sctpPacket(env, ct, skb, dataoff, ctinfo, hook);
    default:
      return genericPacket(env, ct, skb, ctinfo);
  }
}

/**
 * nf_conntrack_in, for PREROUTING and OUTPUT at priority -200. Returns
 * the verdict (NF_ACCEPT, or NF_DROP when the table is full or a TCP
 * reopening could not proceed). Packets marked untracked, and packets
 * already carrying a connection (looped back), are left alone. A template
 * on skb.ct (CT --zone, see newTemplate) gives the zone.
 */
export function conntrackIn(env: ConntrackEnv, skb: Skb, hook: ConntrackHook): number {
  if (skb.untracked) return NF_ACCEPT;
  let tmpl: Conn | null = null;
  if (skb.ct !== null) {
    if (!(skb.ct.status & IPS.TEMPLATE)) return NF_ACCEPT;
    tmpl = skb.ct;
    skb.ct = null;
    skb.ctinfo = CtInfo.NONE;
  }
  const data = skb.data;
  const len = data.length;
  // a local fragment (sent with IP_NODEFRAG) is not tracked at all (ipv4_conntrack_local)
  if (hook === 'OUTPUT' && len >= 20 && ((data[6]! << 8) | data[7]!) & 0x3fff) {
    skb.ct = null;
    skb.ctinfo = CtInfo.NONE;
    return NF_ACCEPT;
  }
  // ipv4_get_l4proto: no tracking of non-first fragments or bogus headers
  if (len < 20 || ((data[6]! << 8) | data[7]!) & 0x1fff) return invalid(skb);
  const dataoff = (data[0]! & 0x0f) * 4;
  if (dataoff > len) return invalid(skb);
  const proto = data[9]!;
  const zone = tmpl ? tmpl.zone : 0;

  if (proto === 1) {
    const r = icmpError(env, skb, dataoff, hook, zone);
    if (r <= 0) return invalid(skb);
    if (skb.ct !== null) return NF_ACCEPT;
  }

  if (!transportPorts(data, dataoff, proto, ports)) return invalid(skb);
  const src = get32(data, 12);
  const dst = get32(data, 16);
  const sport = ports[0]!;
  const dport = ports[1]!;
  const nowNs = env.nowNs();

  for (;;) {
    const ref: TupleRef | null = env.table.lookup(src, dst, proto, sport, dport, zone, nowNs);
    let ct: Conn;
    let ctinfo: number;
    if (ref !== null) {
      ct = ref.conn;
      if (ref.dir === 1) ctinfo = CtInfo.ESTABLISHED_REPLY;
      else if (ct.status & IPS.SEEN_REPLY) ctinfo = CtInfo.ESTABLISHED;
      else if (ct.status & IPS.EXPECTED) ctinfo = CtInfo.RELATED;
      else ctinfo = CtInfo.NEW;
    } else {
      const c = createConn(env, src, dst, proto, sport, dport, tmpl, nowNs);
      if (c === 'full') {
        skb.ct = null;
        skb.ctinfo = CtInfo.NONE;
        return NF_DROP;
      }
      if (c === null) return invalid(skb);
      ct = c;
      ctinfo = c.status & IPS.EXPECTED ? CtInfo.RELATED : CtInfo.NEW;
    }
    skb.ct = ct;
    skb.ctinfo = ctinfo;

    const ret = handlePacket(env, ct, skb, dataoff, ctinfo, hook);
    if (ret <= 0) {
      skb.ct = null;
      skb.ctinfo = CtInfo.NONE;
      if (ret === CT_REPEAT) continue;
      return ret === CT_INVALID ? NF_ACCEPT : NF_DROP;
    }
    if (ctinfo === CtInfo.ESTABLISHED_REPLY) ct.status |= IPS.SEEN_REPLY;
    return NF_ACCEPT;
  }
}

/**
 * To call when conntrack becomes active again in a namespace (a rule
 * needing it was added after none did, see users.ts): as nf_ct_tcp_fixup
 * does when the hooks are registered, established TCP connections forget
 * their windows, which are learned again from the next packets (traffic
 * seen meanwhile was not tracked).
 */
export function conntrackActivated(env: ConntrackEnv): void {
  for (const c of env.table.entries()) {
    const st = c.l4 as TcpState | null;
    if (c.orig.proto !== 6 || !st || st.state !== TCP.ESTABLISHED) continue;
    st.seen[0].maxwin = 0;
    st.seen[1].maxwin = 0;
  }
}

/** Whether two connections are the same flow, either way round (nf_ct_can_merge). */
function canMerge(a: Conn, b: Conn): boolean {
  if (a.zone !== b.zone) return false;
  return (tupleEquals(a.orig, b.orig) && tupleEquals(a.reply, b.reply)) || (tupleEquals(a.orig, b.reply) && tupleEquals(a.reply, b.orig));
}

/** The live entry of the zone holding `t` under key `key`, if any. */
function clashAt(env: ConntrackEnv, t: Tuple, zone: number, nowNs: number): TupleRef | null {
  for (const r of env.table.refsAt(keyOf(t, zone)).slice()) {
    const c = r.conn;
    const rt = r.dir === 0 ? c.orig : c.reply;
    if (c.zone !== zone || !tupleEquals(rt, t)) continue;
    if (connExpired(c, nowNs)) {
      env.table.remove(c);
      continue;
    }
    return r;
  }
  return null;
}

/** __nf_ct_resolve_clash: the packet takes over the winner when both are the same flow. */
function mergeInto(skb: Skb, winner: Conn, loser: Conn): number {
  if (!canMerge(winner, loser)) return NF_DROP;
  const dir = ctinfoDir(skb.ctinfo);
  winner.pkts[dir]++;
  winner.bytes[dir] += loser.bytes[dir];
  skb.ct = winner;
  return NF_ACCEPT;
}

/**
 * nf_confirm / __nf_conntrack_confirm, for INPUT and POSTROUTING at the
 * last priority: the connection's helper reads the packet and NAT's
 * sequence adjustment applies (helper.ts), then a new connection enters
 * the table. When its tuples are
 * already taken (a packet that raced with another of the same flow), UDP
 * and protocols without a tracker resolve the clash as the kernel does;
 * other protocols drop the packet.
 */
export function conntrackConfirm(env: ConntrackEnv, skb: Skb): number {
  const ct = skb.ct;
  if (ct === null || ct.status & IPS.TEMPLATE) return NF_ACCEPT;
  if (ct.helper !== '' || ct.status & IPS.SEQ_ADJUST) {
    const v = confirmHelpers(env, skb, ct);
    if (v !== NF_ACCEPT) return v;
  }
  if (ct.status & IPS.CONFIRMED) return NF_ACCEPT;
  if (ctinfoDir(skb.ctinfo) !== 0) return NF_ACCEPT;
  if (ct.status & IPS.DYING) return NF_DROP;
  const nowNs = env.nowNs();
  const h = clashAt(env, ct.orig, ct.zone, nowNs) ?? clashAt(env, ct.reply, ct.zone, nowNs);
  if (h === null) {
    env.table.insert(ct);
    return NF_ACCEPT;
  }
  // nf_ct_resolve_clash
  const proto = h.conn.orig.proto;
  if (proto === 6 || proto === 1) return NF_DROP;
  if (mergeInto(skb, h.conn, ct) === NF_ACCEPT) return NF_ACCEPT;
  const rh = clashAt(env, ct.reply, ct.zone, nowNs);
  if (rh !== null) return mergeInto(skb, rh.conn, ct);
  // the reply direction is free: enter by it alone, to go away within a second
  ct.expires = jiffyFloorNs(nowNs) + SEC_NS;
  ct.status |= IPS.FIXED_TIMEOUT | IPS_NAT_CLASH;
  env.table.insertReplyOnly(ct);
  return NF_ACCEPT;
}

