/**
 * Renders rules and chains the way iptables 1.8.9 prints them: the -L
 * table (print_header, print_rule_details, print_ifaces, addresses,
 * extension print forms) and the save form used by -S and iptables-save.
 */
import { formatIPv4, maskToListSuffix, maskToSave } from '../../core/addr/ipv4.js';
import { formatIPv6, ip6IsZero, ip6MaskToCidr, ip6MaskToNumeric, ip6SaveForm, type IPv6 } from '../../core/addr/ipv6.js';
import type { Chain } from '../../core/netfilter/ruleset.js';
import { ruleFamily, targetName, type Rule } from '../../core/netfilter/rule.js';
import { addr6ToAnyName, addrToAnyName, type NameDb } from '../../core/xt/namedb.js';
import { findMatch, findTarget } from '../../core/xt/registry.js';
import { IPT_INV, type RuleHeaderView } from '../../core/xt/types.js';
import { protoToName } from './parse.js';

/** -L format flags (FMT_*). */
export interface ListFormat {
  numeric: boolean;
  /** -v: counters and interfaces. */
  verbose: boolean;
  /** -x: exact counters instead of K/M/G. */
  expanded: boolean;
  lineNumbers: boolean;
}

const padEnd = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const padStart = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

const U64 = 1n << 64n;

/**
 * xtables_print_num: exact, or rounded to K/M/G/T in steps of 1000. The
 * rounding adds 500 in 64-bit arithmetic, so values near 2^64 wrap round
 * (2^64-1 prints as "0K"), as in iptables.
 */
export function formatNum(n: bigint, kmg: boolean, notable = false): string {
  if (!kmg) return notable ? `${n} ` : `${padStart(String(n), 8)} `;
  if (n <= 99999n) return notable ? `${n} ` : `${padStart(String(n), 5)} `;
  const units = ['K', 'M', 'G', 'T'];
  let v = n;
  for (let i = 0; i < units.length; i++) {
    v = ((v + 500n) % U64) / 1000n;
    if (v <= 9999n || i === units.length - 1) return notable ? `${v}${units[i]} ` : `${padStart(String(v), 4)}${units[i]} `;
  }
  return `${v} `;
}

/** The chain header and column titles. */
export function listHeader(chain: Chain, refs: number, f: ListFormat): string {
  let s = `Chain ${chain.name}`;
  if (chain.policy) {
    s += ` (policy ${chain.policy}`;
    if (f.verbose) s += ` ${formatNum(chain.pkts, !f.expanded, true)}packets, ${formatNum(chain.bytes, !f.expanded, true)}bytes`;
    s += ')\n';
  } else {
    s += ` (${refs} references)\n`;
  }
  if (f.lineNumbers) s += padEnd('num', 4) + ' ';
  if (f.verbose) {
    if (!f.expanded) s += `${padStart('pkts', 5)} ${padStart('bytes', 5)} `;
    else s += `${padStart('pkts', 8)} ${padStart('bytes', 10)} `;
  }
  s += padEnd('target', 9) + ' ';
  s += ' prot ';
  s += 'opt';
  if (f.verbose) s += ` ${padEnd('in', 6)} ${padEnd('out', 6)} `;
  s += ` ${padEnd('source', 19)} `;
  s += ` ${padEnd('destination', 19)} `;
  return s + '\n';
}

function addrForList(names: NameDb, addr: number, mask: number, numeric: boolean): string {
  if (mask === 0 && !numeric) return 'anywhere';
  const a = numeric ? formatIPv4(addr) : addrToAnyName(names, addr);
  return a + (mask === 0 ? '/0' : maskToListSuffix(mask));
}

/** ipv6_addr_to_string: "anywhere" for the address :: unless numeric, else address and mask suffix. */
function addr6ForList(names: NameDb, addr: IPv6, mask: IPv6, numeric: boolean): string {
  if (ip6IsZero(addr) && !numeric) return 'anywhere';
  return (numeric ? formatIPv6(addr) : addr6ToAnyName(names, addr)) + ip6MaskToNumeric(mask);
}

/** The source and destination columns' text of a rule, in its family. */
function ruleAddrs(rule: Rule, names: NameDb, numeric: boolean): [string, string] {
  if (rule.src6) return [addr6ForList(names, rule.src6, rule.smsk6!, numeric), addr6ForList(names, rule.dst6!, rule.dmsk6!, numeric)];
  return [addrForList(names, rule.src, rule.smsk, numeric), addrForList(names, rule.dst, rule.dmsk, numeric)];
}

/** Read-only header view of a stored rule, for extension renderers. */
export function headerOf(rule: Rule): RuleHeaderView {
  return { proto: rule.proto, invflags: rule.invflags, fragment: rule.fragment };
}

/** One rule line of -L. */
export function listRule(rule: Rule, num: number, f: ListFormat, names: NameDb): string {
  let s = '';
  if (f.lineNumbers) s += padEnd(String(num), 4) + ' ';
  if (f.verbose) s += formatNum(rule.pkts, !f.expanded) + formatNum(rule.bytes, !f.expanded);
  s += padEnd(targetName(rule.target), 9) + ' ';
  s += rule.invflags & IPT_INV.PROTO ? '!' : ' ';
  const pname = protoToName(rule.proto, f.numeric, names);
  s += padEnd(f.numeric || pname === undefined ? String(rule.proto) : pname, 4) + ' ';
  // ip6tables prints a fixed "--" (print_fragment's fake)
  s += (rule.invflags & IPT_INV.FRAG && !rule.src6 ? '!' : '-') + (rule.fragment ? 'f' : '-') + ' ';
  if (f.verbose) {
    const any = f.numeric ? '*' : 'any';
    s += ` ${padEnd((rule.invflags & IPT_INV.VIA_IN ? '!' : '') + (rule.iniface || any), 6)} `;
    s += `${padEnd((rule.invflags & IPT_INV.VIA_OUT ? '!' : '') + (rule.outiface || any), 6)} `;
  }
  const [src, dst] = ruleAddrs(rule, names, f.numeric);
  s += (rule.invflags & IPT_INV.SRCIP ? '!' : ' ') + padEnd(src, 19) + ' ';
  s += (rule.invflags & IPT_INV.DSTIP ? '!' : ' ') + padEnd(dst, 19) + ' ';
  if (rule.target.kind === 'jump' && rule.target.goto) s += '[goto] ';
  const family = ruleFamily(rule);
  const ctx = { numeric: f.numeric, names, rule: headerOf(rule), family };
  for (const m of rule.matches) {
    const def = findMatch(m.name, family);
    if (def) s += def.print(m.info, ctx);
  }
  if (rule.target.kind === 'ext') {
    const def = findTarget(rule.target.name, family);
    if (def) s += def.print(rule.target.info, ctx);
  }
  return s + '\n';
}

function saveIface(letter: string, iface: string, invert: boolean): string {
  if (iface === '') return '';
  return `${invert ? ' !' : ''} -${letter} ${iface}`;
}

/** The save form of a rule after "-A CHAIN" (leading space included), with -c counters when asked. */
export function saveRuleBody(rule: Rule, counters: boolean, names: NameDb): string {
  let s = '';
  const inv = rule.invflags;
  if (rule.src6) {
    // save_ipv6_addr: nothing for a /0 that is not inverted
    if (ip6MaskToCidr(rule.smsk6!) !== 0 || inv & IPT_INV.SRCIP) s += `${inv & IPT_INV.SRCIP ? ' !' : ''} -s ${ip6SaveForm(rule.src6, rule.smsk6!)}`;
    if (ip6MaskToCidr(rule.dmsk6!) !== 0 || inv & IPT_INV.DSTIP) s += `${inv & IPT_INV.DSTIP ? ' !' : ''} -d ${ip6SaveForm(rule.dst6!, rule.dmsk6!)}`;
  } else {
    if (rule.smsk !== 0 || inv & IPT_INV.SRCIP || rule.src !== 0)
      s += `${inv & IPT_INV.SRCIP ? ' !' : ''} -s ${formatIPv4(rule.src)}/${maskToSave(rule.smsk)}`;
    if (rule.dmsk !== 0 || inv & IPT_INV.DSTIP || rule.dst !== 0)
      s += `${inv & IPT_INV.DSTIP ? ' !' : ''} -d ${formatIPv4(rule.dst)}/${maskToSave(rule.dmsk)}`;
  }
  s += saveIface('i', rule.iniface, (inv & IPT_INV.VIA_IN) !== 0);
  s += saveIface('o', rule.outiface, (inv & IPT_INV.VIA_OUT) !== 0);
  if (rule.proto > 0) {
    const pname = protoToName(rule.proto, false, names);
    s += `${inv & IPT_INV.PROTO ? ' !' : ''} -p ${pname ?? rule.proto}`;
  }
  if (rule.fragment) s += `${inv & IPT_INV.FRAG ? ' !' : ''} -f`;
  const family = ruleFamily(rule);
  const ctx = { rule: headerOf(rule), family };
  for (const m of rule.matches) {
    const def = findMatch(m.name, family);
    s += ` -m ${m.name}`;
    if (def) s += def.save(m.info, ctx);
  }
  if (counters) s += ` -c ${rule.pkts} ${rule.bytes}`;
  const t = rule.target;
  if (t.kind === 'ext') {
    const def = findTarget(t.name, family);
    s += ` -j ${def?.saveName?.(t.info) ?? t.name}`;
    if (def) s += def.save(t.info, ctx);
  } else if (t.kind === 'verdict') {
    s += ` -j ${t.verdict}`;
  } else if (t.kind === 'jump') {
    s += ` -${t.goto ? 'g' : 'j'} ${t.chain}`;
  }
  return s;
}

/** A rule as -v prints it while adding, deleting or checking (print_rule with FMT_NOTABLE). */
export function verboseRule(rule: Rule, names: NameDb): string {
  const inv = rule.invflags;
  let s = `${targetName(rule.target)} `;
  s += inv & IPT_INV.PROTO ? '!' : ' ';
  s += `${protoToName(rule.proto, true, names) ?? rule.proto} `;
  s += `opt ${inv & IPT_INV.FRAG && !rule.src6 ? '!' : '-'}${rule.fragment ? 'f' : '-'} `;
  s += `in ${inv & IPT_INV.VIA_IN ? '!' : ''}${rule.iniface || '*'} `;
  s += `out ${inv & IPT_INV.VIA_OUT ? '!' : ''}${rule.outiface || '*'} `;
  const [src, dst] = ruleAddrs(rule, names, true);
  s += `${inv & IPT_INV.SRCIP ? '!' : ' '}${src} `;
  s += `${inv & IPT_INV.DSTIP ? '!' : ' '}-> ${dst}`;
  s += '  ';
  if (rule.target.kind === 'jump' && rule.target.goto) s += '[goto] ';
  const family = ruleFamily(rule);
  const ctx = { numeric: true, names, rule: headerOf(rule), family };
  for (const m of rule.matches) s += findMatch(m.name, family)?.print(m.info, ctx) ?? '';
  if (rule.target.kind === 'ext') s += findTarget(rule.target.name, family)?.print(rule.target.info, ctx) ?? '';
  return s + '\n';
}
