/**
 * The nf_tables debug lines `iptables -vv` prints for the batch it sends
 * (libnftnl's default snprintf of tables, chains and rules): which
 * expressions iptables-nft 1.8.9 builds for a rule (nft_ipv4_add: interface,
 * protocol, addresses, fragment, then the matches, a counter, the action).
 *
 * Covered: tables and chains being created, user chains added or deleted,
 * rules appended (without a position), with interfaces, protocol,
 * addresses with any mask, -f, native tcp/udp ports and flags, mark and
 * limit, every other match and target as an xt expression, NFLOG as a log
 * expression, verdicts, jumps and gotos. Not covered: rule handles and
 * positions (inserted, replaced and deleted rules, and the rule dumps of
 * commands that fetch the rule cache), chain "use" counts other than 0.
 */
import { ip6Bytes, type IPv6 } from '../../core/addr/ipv6.js';
import type { Rule } from '../../core/netfilter/rule.js';
import type { Chain } from '../../core/netfilter/ruleset.js';
import { tableInfo, type Hook, type TableName } from '../../core/netfilter/tables.js';
import { findMatch, findTarget } from '../../core/xt/registry.js';
import { IPT_INV, type Family } from '../../core/xt/types.js';

/** The nf_tables family name of a rule set: "ip" or "ip6". */
const nftFamily = (family: Family) => (family === 'ipv6' ? 'ip6' : 'ip');

/** "table filter ip flags 0 use 0 handle 0": a table being added. */
export function nftTableDebug(table: TableName, family: Family = 'ipv4'): string {
  return `table ${table} ${nftFamily(family)} flags 0 use 0 handle 0\n`;
}

const HOOK_NAMES: Record<Hook, string> = {
  PREROUTING: 'prerouting',
  INPUT: 'input',
  FORWARD: 'forward',
  OUTPUT: 'output',
  POSTROUTING: 'postrouting',
};

/** A chain being added or changed: built-in chains with their hook, priority, policy and counters. */
export function nftChainDebug(table: TableName, c: Chain, builtin: boolean, use = 0, family: Family = 'ipv4'): string {
  const fam = nftFamily(family);
  if (!builtin) return `${fam} ${table} ${c.name} use ${use}\n`;
  const hook = c.name as Hook;
  const type = table === 'nat' ? 'nat' : table === 'mangle' && hook === 'OUTPUT' ? 'route' : 'filter';
  const prio = tableInfo(table)!.priority(hook);
  return (
    `${fam} ${table} ${c.name} use ${use} type ${type} hook ${HOOK_NAMES[hook]} prio ${prio} ` +
    `policy ${(c.policy ?? 'ACCEPT').toLowerCase()} packets ${c.pkts} bytes ${c.bytes}\n`
  );
}

/** Little-endian 32-bit words of a byte string, as libnftnl prints register data. */
function words(bytes: readonly number[]): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4) {
    let w = 0;
    for (let j = 3; j >= 0; j--) w = w * 256 + (bytes[i + j] ?? 0);
    s += `0x${w.toString(16).padStart(8, '0')} `;
  }
  return s;
}

const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const text = (s: string) => [...s].map((ch) => ch.charCodeAt(0) & 0xff);

/** Builds the expression lines of one rule. */
class Exprs {
  lines: string[] = [];
  add(e: string): void {
    this.lines.push(`  [ ${e}]`);
  }
  meta(key: string): void {
    this.add(`meta load ${key} => reg 1 `);
  }
  payload(base: string, offset: number, len: number): void {
    this.add(`payload load ${len}b @ ${base} header + ${offset} => reg 1 `);
  }
  cmp(op: string, data: readonly number[]): void {
    this.add(`cmp ${op} reg 1 ${words(data)}`);
  }
  bitwise(mask: readonly number[]): void {
    this.add(`bitwise reg 1 = ( reg 1 & ${words(mask)}) ^ ${words(mask.map(() => 0))}`);
  }
}

function iface(x: Exprs, key: string, name: string, inv: boolean): void {
  x.meta(key);
  if (name.endsWith('+')) {
    if (name.length > 1) x.cmp(inv ? 'neq' : 'eq', text(name.slice(0, -1)));
    else if (inv) x.cmp('eq', [...text('INVAL/D'), 0]);
  } else {
    x.cmp(inv ? 'neq' : 'eq', [...text(name), 0]);
  }
}

function addr(x: Exprs, offset: number, a: number | IPv6, mask: number | IPv6, inv: boolean): void {
  const m = typeof mask === 'number' ? be32(mask) : ip6Bytes(mask);
  const bytes = typeof a === 'number' ? be32(a) : ip6Bytes(a);
  const size = m.length;
  let i = 0;
  let bitwise = false;
  for (; i < size; i++) {
    if (m[i] !== 0xff) {
      bitwise = m[i] !== 0;
      break;
    }
  }
  for (let j = i + 1; !bitwise && j < size; j++) bitwise = m[j] !== 0;
  const len = bitwise ? size : i;
  x.payload('network', offset, len);
  if (bitwise) x.bitwise(m);
  x.cmp(inv ? 'neq' : 'eq', bytes.slice(0, len));
}

/** add_nft_tcpudp: ports as payload comparisons (single ports of both ends in one 4-byte load). */
function ports(x: Exprs, src: [number, number], invSrc: boolean, dst: [number, number], invDst: boolean): void {
  if (src[0] && src[0] === src[1] && dst[0] && dst[0] === dst[1] && invSrc === invDst) {
    x.payload('transport', 0, 4);
    x.cmp(invSrc ? 'neq' : 'eq', [...be16(src[0]), ...be16(dst[0])]);
    return;
  }
  const range = (r: [number, number], inv: boolean) => {
    if (r[0] === r[1]) x.cmp(inv ? 'neq' : 'eq', be16(r[0]));
    else if (r[0] === 0 && r[1] < 0xffff) x.cmp(inv ? 'gt' : 'lte', be16(r[1]));
    else x.add(`range ${inv ? 'neq' : 'eq'} reg 1 ${words(be16(r[0]))}${words(be16(r[1]))}`);
  };
  if (src[0] || src[1] < 0xffff) {
    x.payload('transport', 0, 2);
    range(src, invSrc);
  }
  if (dst[0] || dst[1] < 0xffff) {
    x.payload('transport', 2, 2);
    range(dst, invDst);
  }
}

const LIMIT_MULT = [10000 * 24 * 60 * 60, 10000 * 60 * 60, 10000 * 60, 10000];
const LIMIT_UNITS: Record<number, string> = { 1: 'second', 60: 'minute', 3600: 'hour', 86400: 'day' };

/** One match: natively translated ones (tcp, udp, mark, limit) or an xt match expression. */
function match(x: Exprs, name: string, info: any, family: Family): void {
  const def = findMatch(name, family);
  if (def?.nativeMerge?.native(info) && (name === 'tcp' || name === 'udp')) {
    const inv = info.invflags as number;
    if (name === 'tcp' && info.flgMask) {
      x.payload('transport', 13, 1);
      x.bitwise([info.flgMask]);
      x.cmp(inv & 0x04 ? 'neq' : 'eq', [info.flgCmp]);
    }
    ports(x, info.spts, (inv & 0x01) !== 0, info.dpts, (inv & 0x02) !== 0);
    return;
  }
  if (name === 'mark' && info && typeof info.mark === 'number') {
    x.meta('mark');
    if (info.mask !== 0xffffffff) x.bitwise(le32(info.mask));
    x.cmp(info.invert ? 'neq' : 'eq', le32(info.mark));
    return;
  }
  if (name === 'limit' && info && typeof info.avg === 'number' && info.avg > 0) {
    let i = 1;
    for (; i < LIMIT_MULT.length; i++) {
      const m = LIMIT_MULT[i]!;
      if (info.avg > m || Math.floor(m / info.avg) < m % info.avg) break;
    }
    const rate = Math.floor(LIMIT_MULT[i - 1]! / info.avg);
    const unit = LIMIT_MULT[i - 1]! / 10000;
    x.add(`limit rate ${rate}/${LIMIT_UNITS[unit] ?? 'error'} burst ${info.burst} type packets flags 0x0 `);
    return;
  }
  x.add(`match name ${name} rev ${def?.revision ?? 0} `);
}

/** The rule-flush element of `-F CHAIN`: a rule object naming only table and chain. */
export function nftFlushDebug(table: TableName, chain: string): string {
  return `${table} ${chain}\n\n`;
}

/** nftnl_rule_snprintf of a rule being added to `chain` (no handle, no position). */
export function nftRuleDebug(table: TableName, chain: string, r: Rule, family: Family = 'ipv4'): string {
  const x = new Exprs();
  const inv = r.invflags;
  if (r.iniface) iface(x, 'iifname', r.iniface, (inv & IPT_INV.VIA_IN) !== 0);
  if (r.outiface) iface(x, 'oifname', r.outiface, (inv & IPT_INV.VIA_OUT) !== 0);
  if (r.proto !== 0) {
    x.meta('l4proto');
    x.cmp(inv & IPT_INV.PROTO ? 'neq' : 'eq', [r.proto]);
  }
  if (r.src6 && r.smsk6 && r.dst6 && r.dmsk6) {
    const set = (a: IPv6, m: IPv6) => a.some((w) => w !== 0) || m.some((w) => w !== 0);
    if (set(r.src6, r.smsk6) || inv & IPT_INV.SRCIP) addr(x, 8, r.src6, r.smsk6, (inv & IPT_INV.SRCIP) !== 0);
    if (set(r.dst6, r.dmsk6) || inv & IPT_INV.DSTIP) addr(x, 24, r.dst6, r.dmsk6, (inv & IPT_INV.DSTIP) !== 0);
  } else {
    if (r.src || r.smsk || inv & IPT_INV.SRCIP) addr(x, 12, r.src, r.smsk, (inv & IPT_INV.SRCIP) !== 0);
    if (r.dst || r.dmsk || inv & IPT_INV.DSTIP) addr(x, 16, r.dst, r.dmsk, (inv & IPT_INV.DSTIP) !== 0);
  }
  if (r.fragment) {
    x.payload('network', 6, 2);
    x.bitwise(be16(0x1fff));
    x.cmp(inv & IPT_INV.FRAG ? 'eq' : 'neq', [0, 0]);
  }
  for (const m of r.matches) match(x, m.name, m.info, family);
  x.add(`counter pkts ${r.pkts} bytes ${r.bytes} `);
  const t = r.target;
  if (t.kind === 'verdict') x.add(`immediate reg 0 ${t.verdict.toLowerCase()} `);
  else if (t.kind === 'jump') x.add(`immediate reg 0 ${t.goto ? 'goto' : 'jump'} -> ${t.chain} `);
  else if (t.kind === 'ext' && t.name === 'NFLOG') {
    const info = t.info;
    let s = 'log ';
    if (info.prefix) s += `prefix ${info.prefix} `;
    s += `group ${info.group} snaplen ${info.flags & 1 ? info.len : 0} qthreshold ${info.threshold} `;
    x.add(s);
  } else if (t.kind === 'ext' && t.name === 'standard') x.add(`target name ${t.info?.verdict ?? ''} rev 0 `);
  else if (t.kind === 'ext') x.add(`target name ${t.name} rev ${findTarget(t.name, family)?.revision ?? 0} `);
  return `${nftFamily(family)} ${table} ${chain}\n${x.lines.map((l) => l + '\n').join('')}\n`;
}
