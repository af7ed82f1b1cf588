/**
 * The ICMP type names iptables knows (libxt_icmp.h's table, IPv4 part) and
 * the parser for --icmp-type values: a name or unique name prefix, or
 * "type[/code[:code]]" in numbers.
 */
import { strtoulPrefix } from '../../util/cnum.js';
import { paramError } from '../types.js';

/** One named ICMP type or type/code range. */
export interface IcmpName {
  name: string;
  type: number;
  codeMin: number;
  codeMax: number;
}

const n = (name: string, type: number, codeMin: number, codeMax: number): IcmpName => ({ name, type, codeMin, codeMax });

/** IPv4 ICMP names in table order (the order matters for prefix ambiguity and printing). */
export const ICMP_NAMES: readonly IcmpName[] = [
  n('any', 0xff, 0, 0xff),
  n('echo-reply', 0, 0, 0xff),
  n('pong', 0, 0, 0xff),
  n('destination-unreachable', 3, 0, 0xff),
  n('network-unreachable', 3, 0, 0),
  n('host-unreachable', 3, 1, 1),
  n('protocol-unreachable', 3, 2, 2),
  n('port-unreachable', 3, 3, 3),
  n('fragmentation-needed', 3, 4, 4),
  n('source-route-failed', 3, 5, 5),
  n('network-unknown', 3, 6, 6),
  n('host-unknown', 3, 7, 7),
  n('network-prohibited', 3, 9, 9),
  n('host-prohibited', 3, 10, 10),
  n('TOS-network-unreachable', 3, 11, 11),
  n('TOS-host-unreachable', 3, 12, 12),
  n('communication-prohibited', 3, 13, 13),
  n('host-precedence-violation', 3, 14, 14),
  n('precedence-cutoff', 3, 15, 15),
  n('source-quench', 4, 0, 0xff),
  n('redirect', 5, 0, 0xff),
  n('network-redirect', 5, 0, 0),
  n('host-redirect', 5, 1, 1),
  n('TOS-network-redirect', 5, 2, 2),
  n('TOS-host-redirect', 5, 3, 3),
  n('echo-request', 8, 0, 0xff),
  n('ping', 8, 0, 0xff),
  n('router-advertisement', 9, 0, 0xff),
  n('router-solicitation', 10, 0, 0xff),
  n('time-exceeded', 11, 0, 0xff),
  n('ttl-exceeded', 11, 0, 0xff),
  n('ttl-zero-during-transit', 11, 0, 0),
  n('ttl-zero-during-reassembly', 11, 1, 1),
  n('parameter-problem', 12, 0, 0xff),
  n('ip-header-bad', 12, 0, 0),
  n('required-option-missing', 12, 1, 1),
  n('timestamp-request', 13, 0, 0xff),
  n('timestamp-reply', 14, 0, 0xff),
  n('address-mask-request', 17, 0, 0xff),
  n('address-mask-reply', 18, 0, 0xff),
];

/** Reads "N" or "N:M" (0-255 each) from the start of `s`; undefined when no number. */
function numRange(s: string): { lo: number; hi: number; end: number } | undefined {
  const a = strtoulPrefix(s, 0, 255);
  if (!a) return undefined;
  if (s[a.end] !== ':') return { lo: a.value, hi: a.value, end: a.end };
  const rest = s.slice(a.end + 1);
  const b = strtoulPrefix(rest, 0, 255);
  if (!b) return undefined;
  return { lo: a.value, hi: b.value, end: a.end + 1 + b.end };
}

/** Parses an --icmp-type value into a type and code range, with iptables' messages. */
export function parseIcmpType(
  text: string,
  table: readonly IcmpName[] = ICMP_NAMES,
  what = 'ICMP',
): { type: number; code: [number, number] } {
  let found: IcmpName | undefined;
  const lower = text.toLowerCase();
  for (const e of table) {
    if (!e.name.toLowerCase().startsWith(lower)) continue;
    if (found) throw paramError(`Ambiguous ${what} type \`${text}': \`${found.name}' or \`${e.name}'?`);
    found = e;
  }
  if (found) return { type: found.type, code: [found.codeMin, found.codeMax] };
  const t = numRange(text);
  if (!t) throw paramError(`Unknown ${what} type \`${text}'`);
  let code: [number, number] = [0, 0xff];
  const rest = text.slice(t.end);
  if (rest !== '') {
    if (rest[0] !== '/') throw paramError(`unknown character ${rest[0]}`);
    const c = numRange(rest.slice(1));
    if (!c) throw paramError(`Unknown ${what} code \`${text}'`);
    code = [c.lo, c.hi];
    const after = rest.slice(1 + c.end);
    if (after !== '') throw paramError(`unknown character ${after[0]}`);
  }
  if (t.lo !== t.hi) throw paramError(`${what} type range not supported`);
  return { type: t.lo, code };
}

/**
 * The -L text of an ICMP or ICMPv6 type/code match after its label: the
 * type's name when one fits (unless numeric), else "type T code C",
 * "type T codes L-H" or just "type T", with the inversion and any unknown
 * inversion bits as iptables prints them.
 */
export function icmpTypeCodeText(
  names: readonly IcmpName[],
  info: { type: number; code: [number, number]; invflags: number },
  invBit: number,
  numeric: boolean,
): string {
  const inv = (info.invflags & invBit) !== 0;
  const [lo, hi] = info.code;
  const named = numeric ? undefined : names.find((e) => e.type === info.type && e.codeMin === lo && e.codeMax === hi);
  let s = '';
  if (named) s += ` ${inv ? '!' : ''}${named.name}`;
  else {
    if (inv) s += ' !';
    s += `type ${info.type}`;
    if (lo === hi) s += ` code ${lo}`;
    else if (lo !== 0 || hi !== 0xff) s += ` codes ${lo}-${hi}`;
  }
  if (info.invflags & ~invBit) s += ` Unknown invflags: 0x${(info.invflags & ~invBit).toString(16).toUpperCase()}`;
  return s;
}
