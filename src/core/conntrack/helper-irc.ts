/**
 * The IRC conntrack helper (nf_conntrack_irc.c) and its NAT half
 * (nf_nat_irc.c): a client's `PRIVMSG nick :\1DCC SEND file ADDR PORT
 * SIZE\1` (or CHAT, MOVE, TSEND, SCHAT) on a connection given the helper
 * makes the helper expect a connection from anyone to ADDR:PORT. ADDR is
 * the client's address as one decimal number. On a NATed connection the
 * address and port are rewritten to the ones the server sees, and the
 * expectation follows the master's NAT.
 */
import type { Skb } from '../path/skb.js';
import { NF_ACCEPT, NF_DROP } from '../xt/verdict.js';
import { expectRelated, type Expectation, type ExpectPolicy } from './expect.js';
import type { HelperEnv } from './helper.js';
import { expectFindPort, mangleTcpPacket } from './nat-helper.js';
import { IPS, type Conn } from './types.js';

/** The IRC helper's expectation policy with the module's defaults (max_dcc_channels=8, dcc_timeout=300). */
export const IRC_POLICY: ExpectPolicy = { maxExpected: 8, timeoutSec: 300 };

/** The policy with the module's parameters (max_dcc_channels, dcc_timeout) when given. */
function ircPolicy(env: HelperEnv): ExpectPolicy {
  const max = Number(env.moduleParam?.('nf_conntrack_irc', 'max_dcc_channels') ?? IRC_POLICY.maxExpected);
  const timeout = Number(env.moduleParam?.('nf_conntrack_irc', 'dcc_timeout') ?? IRC_POLICY.timeoutSec);
  return { maxExpected: max >>> 0, timeoutSec: timeout >>> 0 };
}

/** MAX_SEARCH_SIZE: how much of a segment's payload the helper reads. */
const MAX_SEARCH = 4095;

const DCC_PROTOS = ['SEND ', 'CHAT ', 'MOVE ', 'TSEND ', 'SCHAT '];

function bytesEqual(d: Uint8Array, at: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (d[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

/** simple_strtoul in base 10: the value (modulo 2^32 is enough here) and where the digits end. */
function strtoul(d: Uint8Array, at: number, end: number): { value: number; next: number } {
  let v = 0;
  let i = at;
  while (i < end && d[i]! >= 0x30 && d[i]! <= 0x39) {
    v = v * 10 + d[i]! - 0x30;
    if (v > 0xffffffffff) v %= 0x100000000;
    i++;
  }
  return { value: v, next: i };
}

/** What parse_dcc finds: the address and port, and where their text starts and ends. */
interface Dcc {
  ip: number;
  port: number;
  /** The port as parsed before the range check (only ports up to 65535 pass). */
  begin: number;
  end: number;
}

/** parse_dcc: after the DCC argument (file name, "chat"), "ADDR PORT", with a line end in the packet. */
function parseDcc(d: Uint8Array, at: number, end: number): Dcc | null {
  let i = at;
  while (d[i++] !== 0x20) if (i > end - 12) return null;
  let nl = i;
  while (nl < end && d[nl] !== 0x0a) nl++;
  if (nl >= end) return null;
  const begin = i;
  const ip = strtoul(d, i, end);
  i = ip.next;
  while (d[i] === 0x20) {
    if (i >= end) return null;
    i++;
  }
  const port = strtoul(d, i, end);
  if (port.value > 65535) return null;
  return { ip: ip.value % 0x100000000, port: port.value, begin, end: port.next };
}

/**
 * The helper function for a segment of an IRC connection (only the
 * client's direction is read). Returns the verdict: dropped when the
 * expectation cannot be registered (or, NATed, no port is free or the
 * segment cannot be rewritten).
 */
export function ircHelp(env: HelperEnv, skb: Skb, ct: Conn, ctinfo: number): number {
  if (ctinfo !== 0) return NF_ACCEPT;
  const d = skb.data;
  const protoff = (d[0]! & 0x0f) << 2;
  if (protoff + 20 > d.length) return NF_ACCEPT;
  const dataoff = protoff + ((d[protoff + 12]! >>> 4) << 2);
  if (dataoff >= d.length) return NF_ACCEPT;
  const limit = dataoff + Math.min(d.length - dataoff, MAX_SEARCH);
  let i = dataoff;
  while (i < limit - 10 && (d[i] === 0x20 || d[i] === 0x0d || d[i] === 0x0a)) i++;
  if (i < limit - 10) {
    for (let k = 0; k < 8; k++) if (lower(d[i + k]!) !== lower('PRIVMSG '.charCodeAt(k))) return NF_ACCEPT;
    i += 8;
  }
  while (i < limit - 26) {
    if (d[i] !== 0x20 || d[i + 1] !== 0x3a) {
      i++;
      continue;
    }
    i += 2;
    if (!bytesEqual(d, i, '\x01DCC ')) return NF_ACCEPT;
    i += 5;
    for (const proto of DCC_PROTOS) {
      if (!bytesEqual(d, i, proto)) continue;
      i += proto.length;
      const dcc = parseDcc(d, i, limit);
      if (dcc === null) return NF_ACCEPT;
      // the address may be the client's own or, NATed, the one the server sees
      if ((ct.orig.src !== dcc.ip && ct.reply.dst !== dcc.ip) || dcc.port === 0) {
        env.printk?.(4, `nf_conntrack_irc: Forged DCC command from ${ipText(ct.orig.src)}: ${ipText(dcc.ip)}:${dcc.port}`);
        return NF_ACCEPT;
      }
      const e: Expectation = {
        tuple: { src: 0, dst: ct.reply.dst, proto: 6, sport: 0, dport: dcc.port },
        maskSrc: 0,
        maskSport: 0,
        master: ct,
        helper: ct.helper,
        cls: 0,
        flags: 0,
        expires: 0,
      };
      if (ct.status & (IPS.SRC_NAT | IPS.DST_NAT)) return natIrc(env, skb, ct, protoff, dcc.begin - dataoff, dcc.end - dcc.begin, e);
      if (expectRelated(env.table, e, ircPolicy(env), env.nowNs()) !== null) {
        env.logHelper?.(skb, `nf_ct_${ct.helper}: dropping packet: cannot add expectation `);
        return NF_DROP;
      }
      return NF_ACCEPT;
    }
  }
  return NF_ACCEPT;
}

function ipText(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`;
}

const enc = new TextEncoder();

/** nf_nat_irc: the address and port rewritten to where the server talks to, the expectation following the master. */
function natIrc(env: HelperEnv, skb: Skb, ct: Conn, protoff: number, matchoff: number, matchlen: number, e: Expectation): number {
  const newaddr = ct.reply.dst;
  const saved = e.tuple.dport;
  e.nat = { dir: 1, savedPort: saved };
  const port = expectFindPort(env.nat, env.table, e, ircPolicy(env), saved, env.nowNs());
  if (port === 0) {
    env.logHelper?.(skb, `nf_ct_${ct.helper}: dropping packet: all ports in use `);
    return NF_DROP;
  }
  if (!mangleTcpPacket(skb, ct, 0, protoff, matchoff, matchlen, enc.encode(`${newaddr >>> 0} ${port}`))) {
    env.logHelper?.(skb, `nf_ct_${ct.helper}: dropping packet: cannot mangle packet `);
    const i = env.table.expects.indexOf(e);
    if (i >= 0) env.table.expects.splice(i, 1);
    return NF_DROP;
  }
  return NF_ACCEPT;
}
