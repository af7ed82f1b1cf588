/**
 * Expectations (nf_conntrack_expect.c): a helper that reads a control
 * connection (FTP's PORT or 227 reply) announces the connection that will
 * follow; when a new connection matches an expectation it becomes RELATED
 * to the control connection (its master), takes the master's marks, and,
 * when the expectation was NATed, follows the master's NAT.
 *
 * Expectations live in the connection table (`ConntrackTable.expects`)
 * and persist with it. An expectation goes away when it is used, when its
 * timer runs out, or when its master leaves the table (checked lazily,
 * like expiry).
 */
import { jiffyFloorNs, SEC_NS } from './sysctl.js';
import { connExpired, type ConntrackTable } from './table.js';
import { IPS, type Conn, type Tuple } from './types.js';

/** NF_CT_EXPECT_PERMANENT and the other expectation flags conntrack -L expect prints. */
export const EXPECT_F = {
  PERMANENT: 0x1,
  INACTIVE: 0x2,
  USERSPACE: 0x4,
} as const;

/** A connection a helper expects. */
export interface Expectation {
  /** The tuple the new connection's original direction will have (where the mask is set). */
  tuple: Tuple;
  /** Mask of the tuple's source address and source port (the destination always matches exactly). */
  maskSrc: number;
  maskSport: number;
  /** The control connection. */
  master: Conn;
  /** Helper name the listing shows ('ftp'). */
  helper: string;
  /** Expectation class (0 for FTP). */
  cls: number;
  /** EXPECT_F bits. */
  flags: number;
  /** When the expectation times out, ns since boot. */
  expires: number;
  /**
   * NAT: when set, a connection matching the expectation follows its
   * master's NAT (nf_nat_follow_master): `dir` is the master's direction
   * the new connection will travel like, `savedPort` the port it must be
   * sent to in the end.
   */
  nat?: { dir: 0 | 1; savedPort: number };
}

/** An expectation as stored in the lab state: the master by id. */
export interface ExpectationJson extends Omit<Expectation, 'master'> {
  masterId: number;
}

/** The policy of a helper's expectation class (nf_conntrack_expect_policy). */
export interface ExpectPolicy {
  maxExpected: number;
  timeoutSec: number;
}

/** The global limit of expectations per namespace (nf_ct_expect_max with the default table size). */
export const EXPECT_MAX = 4096;

/** Whether the master of an expectation is still a live connection of the table. */
function masterAlive(table: ConntrackTable, e: Expectation, nowNs: number): boolean {
  const m = e.master;
  return table.has(m) && !(m.status & IPS.DYING) && !connExpired(m, nowNs);
}

/** Drops expectations whose timer ran out or whose master is gone. */
export function purgeExpectations(table: ConntrackTable, nowNs: number): void {
  const list = table.expects;
  if (list.length === 0) return;
  const now = jiffyFloorNs(nowNs);
  let j = 0;
  for (const e of list) {
    if (now >= e.expires || !masterAlive(table, e, nowNs)) continue;
    list[j++] = e;
  }
  list.length = j;
}

/** The live expectations, oldest first. */
export function listExpectations(table: ConntrackTable, nowNs: number): Expectation[] {
  purgeExpectations(table, nowNs);
  return [...table.expects];
}

/** Whether `t` matches an expectation's tuple under its mask (nf_ct_tuple_mask_cmp). */
function tupleMatches(e: Expectation, t: Tuple): boolean {
  const x = e.tuple;
  return (
    x.proto === t.proto &&
    x.dst === t.dst &&
    x.dport === t.dport &&
    ((x.src ^ t.src) & e.maskSrc) === 0 &&
    ((x.sport ^ t.sport) & e.maskSport) === 0
  );
}

/**
 * nf_ct_find_expectation: the expectation a new connection with original
 * tuple `t` in `zone` fulfils, or null. A used expectation is removed
 * unless it is permanent. The master must be confirmed and alive.
 */
export function findExpectation(table: ConntrackTable, t: Tuple, zone: number, nowNs: number): Expectation | null {
  const list = table.expects;
  if (list.length === 0) return null;
  purgeExpectations(table, nowNs);
  for (let i = 0; i < list.length; i++) {
    const e = list[i]!;
    if (e.master.zone !== zone || e.flags & EXPECT_F.INACTIVE || !tupleMatches(e, t)) continue;
    if (!(e.master.status & IPS.CONFIRMED)) return null;
    if (!(e.flags & EXPECT_F.PERMANENT)) list.splice(i, 1);
    return e;
  }
  return null;
}

/** Whether two expectations would both match some tuple (expect_clash): the source compared under both masks. */
function clash(a: Expectation, b: Expectation): boolean {
  const ms = a.maskSrc & b.maskSrc;
  const mp = a.maskSport & b.maskSport;
  const x = a.tuple;
  const y = b.tuple;
  return (
    x.proto === y.proto &&
    x.dst === y.dst &&
    x.dport === y.dport &&
    ((x.src ^ y.src) & ms) === 0 &&
    ((x.sport ^ y.sport) & mp) === 0 &&
    a.master.zone === b.master.zone
  );
}

/** Whether two expectations are the same (expect_matches). */
function same(a: Expectation, b: Expectation): boolean {
  return (
    a.tuple.src === b.tuple.src &&
    a.tuple.dst === b.tuple.dst &&
    a.tuple.proto === b.tuple.proto &&
    a.tuple.sport === b.tuple.sport &&
    a.tuple.dport === b.tuple.dport &&
    a.maskSrc === b.maskSrc &&
    a.maskSport === b.maskSport &&
    a.master.zone === b.master.zone
  );
}

/** Why an expectation could not be added (the kernel's errno). */
export type ExpectError = 'EBUSY' | 'EMFILE' | 'EALREADY';

/**
 * nf_ct_expect_related: adds an expectation. The same expectation of the
 * same master is replaced; one that would clash with another master's is
 * refused (EBUSY); when the master already has as many of this class as
 * the policy allows, its oldest goes first. Returns null on success.
 */
export function expectRelated(table: ConntrackTable, e: Expectation, policy: ExpectPolicy, nowNs: number): ExpectError | null {
  purgeExpectations(table, nowNs);
  const list = table.expects;
  for (let i = 0; i < list.length; i++) {
    const o = list[i]!;
    if (o.master === e.master && same(o, e)) {
      if (o.cls !== e.cls) return 'EALREADY';
      list.splice(i, 1);
      break;
    }
    if (clash(o, e)) return 'EBUSY';
  }
  if (policy.maxExpected > 0) {
    const mine = list.filter((o) => o.master === e.master && o.cls === e.cls);
    if (mine.length >= policy.maxExpected) {
      // evict_oldest_expect: the oldest of this master's expectations of the class
      list.splice(list.indexOf(mine[0]!), 1);
    }
  }
  if (list.length >= EXPECT_MAX) return 'EMFILE';
  e.expires = jiffyFloorNs(nowNs) + policy.timeoutSec * SEC_NS;
  list.push(e);
  return null;
}

/** Removes an expectation (nf_ct_unexpect_related). */
export function unexpectRelated(table: ConntrackTable, e: Expectation): void {
  const i = table.expects.indexOf(e);
  if (i >= 0) table.expects.splice(i, 1);
}

/** Removes every expectation (conntrack -F expect). Returns how many there were. */
export function flushExpectations(table: ConntrackTable, nowNs: number): number {
  purgeExpectations(table, nowNs);
  const n = table.expects.length;
  table.expects.length = 0;
  return n;
}

/**
 * The references conntrack -L counts in use= besides the listing's own,
 * by connection id: one per connection whose master it is (an expected
 * connection holds its master). Connections without any are absent.
 */
export function masterRefCounts(table: ConntrackTable): Map<number, number> {
  const refs = new Map<number, number>();
  for (const o of table.entries()) if (o.master !== 0) refs.set(o.master, (refs.get(o.master) ?? 0) + 1);
  return refs;
}

/** Seconds left on an expectation's timer, as listings show them. */
export function expectSecondsLeft(e: Expectation, nowNs: number): number {
  const left = e.expires - jiffyFloorNs(nowNs);
  return left > 0 ? Math.floor(left / SEC_NS) : 0;
}

function ip(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

/**
 * One expectation as `conntrack -L expect` prints it (conntrack-tools'
 * default expectation format), without the newline.
 */
export function formatExpectation(e: Expectation, nowNs: number): string {
  const t = e.tuple;
  const m = e.master.orig;
  let s = `${expectSecondsLeft(e, nowNs)} proto=${t.proto} `;
  s += `src=${ip(t.src)} dst=${ip(t.dst)} sport=${t.sport} dport=${t.dport} `;
  s += `mask-src=${ip(e.maskSrc)} mask-dst=255.255.255.255 sport=${e.maskSport} dport=65535 `;
  s += `master-src=${ip(m.src)} master-dst=${ip(m.dst)} sport=${m.sport} dport=${m.dport} `;
  const flags: string[] = [];
  if (e.flags & EXPECT_F.PERMANENT) flags.push('PERMANENT');
  if (e.flags & EXPECT_F.INACTIVE) flags.push('INACTIVE');
  if (e.flags & EXPECT_F.USERSPACE) flags.push('USERSPACE');
  if (flags.length) s += flags.join(',') + ' ';
  s += `class=${e.cls} `;
  if (e.helper) s += `helper=${e.helper} `;
  return s.slice(0, -1);
}

/** One expectation as `conntrack -L expect -o xml` prints it (a <flow> element, no newline). */
export function formatExpectationXml(e: Expectation, nowNs: number): string {
  const t = e.tuple;
  const m = e.master.orig;
  const l4name = t.proto === 6 ? 'tcp' : t.proto === 17 ? 'udp' : 'unknown';
  let s = '<flow><layer3 protonum="2" protoname="ipv4">';
  s += `<expected><src>${ip(t.src)}</src><dst>${ip(t.dst)}</dst></expected>`;
  s += `<mask><src>${ip(e.maskSrc)}</src><dst>255.255.255.255</dst></mask>`;
  s += `<master><src>${ip(m.src)}</src><dst>${ip(m.dst)}</dst></master></layer3>`;
  s += `<layer4 protonum="${t.proto}" protoname="${l4name}">`;
  s += `<expected><sport>${t.sport}</sport><dport>${t.dport}</dport></expected>`;
  s += `<mask><sport>${e.maskSport}</sport><dport>65535</dport></mask>`;
  s += `<master><sport>${m.sport}</sport><dport>${m.dport}</dport></master></layer4>`;
  s += '<meta>';
  if (e.helper) s += `<helper-name>${e.helper}</helper-name>`;
  s += `<timeout>${expectSecondsLeft(e, nowNs)}</timeout><class>${e.cls}</class></meta></flow>`;
  return s;
}

/** The contents of /proc/net/nf_conntrack_expect (exp_seq_show), one line per expectation. */
export function procExpectText(table: ConntrackTable, nowNs: number): string {
  let s = '';
  for (const e of listExpectations(table, nowNs)) {
    const t = e.tuple;
    s += `${expectSecondsLeft(e, nowNs)} l3proto = 2 proto=${t.proto} src=${ip(t.src)} dst=${ip(t.dst)} sport=${t.sport} dport=${t.dport} `;
    const flags: string[] = [];
    if (e.flags & EXPECT_F.PERMANENT) flags.push('PERMANENT');
    if (e.flags & EXPECT_F.INACTIVE) flags.push('INACTIVE');
    if (e.flags & EXPECT_F.USERSPACE) flags.push('USERSPACE');
    s += flags.join(',');
    s += `${e.helper}\n`;
  }
  return s;
}

/** The expectations in JSON form (masters by id). */
export function expectationsToJson(list: readonly Expectation[]): ExpectationJson[] {
  return list.map((e) => {
    const { master, ...rest } = e;
    return { ...rest, tuple: { ...e.tuple }, masterId: master.id };
  });
}

/** Expectations back from JSON, their masters found among `conns` (those whose master is gone are dropped). */
export function expectationsFromJson(json: readonly ExpectationJson[] | undefined, conns: readonly Conn[]): Expectation[] {
  if (!json || json.length === 0) return [];
  const byId = new Map<number, Conn>();
  for (const c of conns) byId.set(c.id, c);
  const out: Expectation[] = [];
  for (const j of json) {
    const master = byId.get(j.masterId);
    if (!master) continue;
    const { masterId: _id, ...rest } = j;
    out.push({ ...rest, master });
  }
  return out;
}
