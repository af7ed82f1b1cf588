/**
 * The FTP conntrack helper (nf_conntrack_ftp.c) and its NAT half
 * (nf_nat_ftp.c). On a control connection the helper was assigned to
 * (`-j CT --helper ftp` in the raw table), it reads the client's PORT and
 * EPRT commands and the server's 227 (PASV) and 229 (EPSV) replies and
 * expects the data connection they announce, which then becomes RELATED.
 *
 * As the kernel does, it only reads a segment that starts right after a
 * line end it saw in that direction (so a command split over two segments
 * is missed), and the first segment of each direction only teaches it
 * where the next line starts. On a NATed control connection the address
 * and port in the line are rewritten to what the other side must use, and
 * the expectation follows.
 */
import type { Skb } from '../path/skb.js';
import { get32 } from '../wire/bytes.js';
import { NF_ACCEPT, NF_DROP } from '../xt/verdict.js';
import { expectRelated, type Expectation, type ExpectPolicy } from './expect.js';
import type { HelperEnv } from './helper.js';
import { expectFindPort, mangleTcpPacket } from './nat-helper.js';
import { IPS, type Conn } from './types.js';

/** The FTP helper's expectation policy: one expectation at a time, five minutes. */
export const FTP_POLICY: ExpectPolicy = { maxExpected: 1, timeoutSec: 300 };

/** The kind of line found (enum nf_ct_ftp_type). */
export const enum FtpType {
  PORT = 0,
  PASV = 1,
  EPRT = 2,
  EPSV = 3,
}

/** What the helper keeps per control connection (struct nf_ct_ftp_master). */
export interface FtpState {
  /** Per direction: sequence numbers that follow a line end (at most two). */
  nl: [number[], number[]];
  /** Per direction: pick up the next segment even without a known line start. */
  pickup: [boolean, boolean];
}

/** A control connection with the helper's state. */
export interface FtpConn extends Conn {
  ftp?: FtpState;
}

/** A parsed command: the address (IPv4) and port it names. */
interface FtpCmd {
  ip: number;
  port: number;
}

/** One pattern the helper looks for. */
interface Search {
  pattern: string;
  skip: number;
  term: number;
  type: FtpType;
  getnum: (d: Uint8Array, from: number, end: number, cmd: FtpCmd, term: number, off: { v: number }) => number;
}

const SP = 0x20;
const CR = 0x0d;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * try_number: `count` numbers separated by `sep`, ended by `term` (or by
 * anything when term is 0); the length read, or 0.
 */
function tryNumber(d: Uint8Array, from: number, end: number, out: number[], count: number, sep: number, term: number): number {
  for (let k = 0; k < count; k++) out[k] = 0;
  let i = 0;
  for (let len = 0; from + len < end && i < count; len++) {
    const c = d[from + len]!;
    if (isDigit(c)) out[i] = (out[i]! * 10 + c - 0x30) >>> 0;
    else if (c === sep) i++;
    else {
      if ((c === term || term === 0) && i === count - 1) return len;
      return 0;
    }
  }
  return 0;
}

const nums = [0, 0, 0, 0, 0, 0];

/** try_rfc959: "h1,h2,h3,h4,p1,p2". */
function tryRfc959(d: Uint8Array, from: number, end: number, cmd: FtpCmd, term: number): number {
  const len = tryNumber(d, from, end, nums, 6, 0x2c, term);
  if (len === 0) return 0;
  cmd.ip = ((nums[0]! << 24) | (nums[1]! << 16) | (nums[2]! << 8) | nums[3]!) >>> 0;
  cmd.port = ((nums[4]! << 8) | nums[5]!) & 0xffff;
  return len;
}

/** try_rfc1123: the 227 reply's numbers start at its first digit. */
function tryRfc1123(d: Uint8Array, from: number, end: number, cmd: FtpCmd, _term: number, off: { v: number }): number {
  let i = from;
  while (i < end && !isDigit(d[i]!)) i++;
  if (i === end) return 0;
  off.v += i - from;
  return tryRfc959(d, i, end, cmd, 0);
}

/** get_port: a port number up to `delim`; the index after the delimiter (relative to `base`), or 0. */
function getPort(d: Uint8Array, base: number, start: number, end: number, delim: number, cmd: FtpCmd): number {
  let port = 0;
  for (let i = base + start; i < end; i++) {
    const c = d[i]!;
    if (c === delim) {
      if (port === 0) break;
      cmd.port = port;
      return i + 1 - base;
    }
    if (isDigit(c)) port = (port * 10 + c - 0x30) & 0xffff;
    else break;
  }
  return 0;
}

/** A valid EPRT/EPSV delimiter. */
function badDelim(c: number): boolean {
  return isDigit(c) || c < 33 || c > 126;
}

/** try_eprt: "|1|a.b.c.d|port|". */
function tryEprt(d: Uint8Array, from: number, end: number, cmd: FtpCmd): number {
  if (end - from <= 3) return 0;
  const delim = d[from]!;
  if (badDelim(delim) || d[from + 2] !== delim) return 0;
  if (d[from + 1] !== 0x31) return 0;
  const len = tryNumber(d, from + 3, end, nums, 4, 0x2e, delim);
  if (len === 0) return 0;
  cmd.ip = ((nums[0]! << 24) | (nums[1]! << 16) | (nums[2]! << 8) | nums[3]!) >>> 0;
  return getPort(d, from, 3 + len + 1, end, delim, cmd);
}

/** try_epsv_response: "|||port|". */
function tryEpsv(d: Uint8Array, from: number, end: number, cmd: FtpCmd): number {
  if (end - from <= 3) return 0;
  const delim = d[from]!;
  if (badDelim(delim) || d[from + 1] !== delim || d[from + 2] !== delim) return 0;
  return getPort(d, from, 3, end, delim, cmd);
}

/** The patterns by direction: the client's commands, the server's replies. */
const SEARCH: readonly [readonly Search[], readonly Search[]] = [
  [
    { pattern: 'PORT', skip: SP, term: CR, type: FtpType.PORT, getnum: tryRfc959 },
    { pattern: 'EPRT', skip: SP, term: CR, type: FtpType.EPRT, getnum: tryEprt },
  ],
  [
    { pattern: '227 ', skip: 0, term: 0, type: FtpType.PASV, getnum: tryRfc1123 },
    { pattern: '229 ', skip: 0x28, term: 0x29, type: FtpType.EPSV, getnum: tryEpsv },
  ],
];

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

/** strncasecmp of n bytes of d at `from` with the pattern. */
function caseEqual(d: Uint8Array, from: number, pattern: string, n: number): boolean {
  for (let i = 0; i < n; i++) if (lower(d[from + i]!) !== lower(pattern.charCodeAt(i))) return false;
  return true;
}

/** Where find_pattern found the numbers. */
interface Match {
  off: number;
  len: number;
}

/** find_pattern: 1 match, 0 none, -1 partial (the kernel then drops the packet). */
function findPattern(d: Uint8Array, from: number, end: number, s: Search, cmd: FtpCmd, m: Match): number {
  const dlen = end - from;
  const plen = s.pattern.length;
  if (dlen <= plen) return caseEqual(d, from, s.pattern, dlen) ? -1 : 0;
  if (!caseEqual(d, from, s.pattern, plen)) return 0;
  let i = plen;
  if (s.skip) {
    for (; d[from + i] !== s.skip; i++) if (i === dlen - 1) return -1;
    i++;
  }
  const off = { v: i };
  m.len = s.getnum(d, from + i, end, cmd, s.term, off);
  m.off = off.v;
  if (!m.len) return -1;
  return 1;
}

/** Whether sequence number a comes before b (modulo 2^32). */
function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** update_nl_seq: remembers that `seq` follows a line end (two kept; the older replaced by a newer). */
function updateNlSeq(st: FtpState, dir: 0 | 1, seq: number): void {
  const list = st.nl[dir];
  if (list.includes(seq)) return;
  if (list.length < 2) {
    list.push(seq);
    return;
  }
  const oldest = before(list[0]!, list[1]!) ? 0 : 1;
  if (before(list[oldest]!, seq)) list[oldest] = seq;
}

const enc = new TextEncoder();

/** nf_nat_ftp_fmt_cmd: the text that replaces the address and port. */
function formatCmd(type: FtpType, ip: number, port: number): string {
  const a = `${ip >>> 24},${(ip >>> 16) & 0xff},${(ip >>> 8) & 0xff},${ip & 0xff}`;
  switch (type) {
    case FtpType.PORT:
    case FtpType.PASV:
      return `${a},${port >>> 8},${port & 0xff}`;
    case FtpType.EPRT:
      return `|1|${a.replace(/,/g, '.')}|${port}|`;
    case FtpType.EPSV:
      return `|||${port}|`;
  }
}

/**
 * nf_nat_ftp: the expectation is registered on a free port, and the line
 * rewritten to name the address and port the other side must use.
 */
function natFtp(env: HelperEnv, skb: Skb, ct: Conn, ctinfo: number, type: FtpType, protoff: number, m: Match, e: Expectation): number {
  const dir = ctinfo >= 3 ? 1 : 0;
  const newaddr = (dir === 0 ? ct.reply : ct.orig).dst;
  const saved = e.tuple.dport;
  e.nat = { dir: dir === 0 ? 1 : 0, savedPort: saved };
  const port = expectFindPort(env.nat, env.table, e, FTP_POLICY, saved, env.nowNs());
  if (port === 0) {
    helperLog(env, skb, ct, 'all ports in use');
    return NF_DROP;
  }
  const text = formatCmd(type, newaddr, port);
  if (!mangleTcpPacket(skb, ct, ctinfo, protoff, m.off, m.len, enc.encode(text))) {
    helperLog(env, skb, ct, 'cannot mangle packet');
    const i = env.table.expects.indexOf(e);
    if (i >= 0) env.table.expects.splice(i, 1);
    return NF_DROP;
  }
  return NF_ACCEPT;
}

/** nf_ct_helper_log: "nf_ct_NAME: dropping packet: MSG" through the packet logger, when the machine has one. */
function helperLog(env: HelperEnv, skb: Skb, ct: Conn, msg: string): void {
  env.logHelper?.(skb, `nf_ct_${ct.helper}: dropping packet: ${msg} `);
}

/**
 * The helper function (help() of nf_conntrack_ftp) for a packet of a
 * control connection, as nf_confirm calls it. Returns the verdict: the
 * packet is dropped only when a line is cut short or its expectation
 * cannot be registered.
 */
export function ftpHelp(env: HelperEnv, skb: Skb, ct: Conn, ctinfo: number): number {
  if (ctinfo !== 0 && ctinfo !== 3) return NF_ACCEPT;
  const d = skb.data;
  const protoff = (d[0]! & 0x0f) << 2;
  if (protoff + 20 > d.length) return NF_ACCEPT;
  const dataoff = protoff + ((d[protoff + 12]! >>> 4) << 2);
  const end = d.length;
  if (dataoff >= end) return NF_ACCEPT;
  const dir: 0 | 1 = ctinfo === 3 ? 1 : 0;
  const fc = ct as FtpConn;
  const st = (fc.ftp ??= { nl: [[], []], pickup: [false, false] });
  const endsInNl = d[end - 1] === 0x0a;
  const thSeq = get32(d, protoff + 4);
  const seq = (thSeq + (end - dataoff)) >>> 0;
  let ret = NF_ACCEPT;
  parse: {
    if (!st.nl[dir].includes(thSeq)) {
      if (!st.pickup[dir]) break parse;
      st.pickup[dir] = false;
    }
    const own = dir === 0 ? ct.orig : ct.reply;
    const cmd: FtpCmd = { ip: own.src, port: 0 };
    const m: Match = { off: 0, len: 0 };
    let found = 0;
    let s: Search | undefined;
    for (s of SEARCH[dir]) {
      found = findPattern(d, dataoff, end, s, cmd, m);
      if (found) break;
    }
    if (found === -1) {
      helperLog(env, skb, ct, `partial matching of \`${s!.pattern}'`);
      return NF_DROP;
    }
    if (found === 0) break parse;
    const other = dir === 0 ? ct.reply : ct.orig;
    let daddr = other.dst;
    if (cmd.ip !== own.src) {
      // an address other than the sender's: only followed with loose=1
      if (!env.ftpLoose?.()) break parse;
      daddr = cmd.ip;
    }
    const e: Expectation = {
      tuple: { src: other.src, dst: daddr, proto: 6, sport: 0, dport: cmd.port },
      maskSrc: 0xffffffff,
      maskSport: 0,
      master: ct,
      helper: ct.helper,
      cls: 0,
      flags: 0,
      expires: 0,
    };
    if (ct.status & (IPS.SRC_NAT | IPS.DST_NAT)) {
      ret = natFtp(env, skb, ct, ctinfo, s!.type, protoff, m, e);
    } else if (expectRelated(env.table, e, FTP_POLICY, env.nowNs()) !== null) {
      helperLog(env, skb, ct, 'cannot add expectation');
      ret = NF_DROP;
    }
  }
  if (endsInNl) updateNlSeq(st, dir, seq);
  return ret;
}

