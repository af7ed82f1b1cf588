/**
 * The IPv6 REJECT target (libip6t_REJECT): drops the packet and answers
 * with an ICMPv6 error or a TCP reset. Only the filter table's INPUT,
 * FORWARD and OUTPUT hooks accept it, and tcp-reset needs `-p tcp`.
 */
import { defineTarget, IPT_INV, paramError } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';
import { checkPlacement } from './target-util.js';

/** struct ip6t_reject_info. */
export interface Reject6Info {
  /** enum ip6t_reject_with value. */
  with: number;
}

/** ip6t_reject_with values. */
export const REJECT6_WITH = {
  NO_ROUTE: 0,
  ADM_PROHIBITED: 1,
  NOT_NEIGHBOUR: 2,
  ADDR_UNREACH: 3,
  PORT_UNREACH: 4,
  ECHOREPLY: 5,
  TCP_RESET: 6,
  POLICY_FAIL: 7,
  REJECT_ROUTE: 8,
} as const;

/** Reply types in table order: value, the printed name, the alias accepted. */
const TYPES: readonly (readonly [number, string, string])[] = [
  [REJECT6_WITH.NO_ROUTE, 'icmp6-no-route', 'no-route'],
  [REJECT6_WITH.ADM_PROHIBITED, 'icmp6-adm-prohibited', 'adm-prohibited'],
  [REJECT6_WITH.ADDR_UNREACH, 'icmp6-addr-unreachable', 'addr-unreach'],
  [REJECT6_WITH.PORT_UNREACH, 'icmp6-port-unreachable', 'port-unreach'],
  [REJECT6_WITH.TCP_RESET, 'tcp-reset', 'tcp-reset'],
  [REJECT6_WITH.POLICY_FAIL, 'icmp6-policy-fail', 'policy-fail'],
  [REJECT6_WITH.REJECT_ROUTE, 'icmp6-reject-route', 'reject-route'],
];

/** Whether `word` is a case-insensitive prefix of `name` (strncasecmp over the word's length). */
const isPrefixOf = (word: string, name: string) => name.toLowerCase().startsWith(word.toLowerCase());

/** The printed name of a reply type ("(null)" for values the table lacks, as printf shows them). */
function typeName(value: number): string {
  return TYPES.find(([v]) => v === value)?.[1] ?? '(null)';
}

/** The REJECT target for ip6tables. */
export const REJECT6 = defineTarget<Reject6Info>({
  name: 'REJECT',
  family: 'ipv6',
  help: () => IP6_HELP['REJECT']!,
  tables: ['filter'],
  hooks: ['INPUT', 'FORWARD', 'OUTPUT'],
  options: [{ name: 'reject-with', id: 0, type: 'string' }],
  init: () => ({ with: REJECT6_WITH.PORT_UNREACH }),
  parse(cb) {
    cb.parseGeneric();
    const word = cb.arg!;
    const hit = TYPES.find(([, name, alias]) => isPrefixOf(word, name) || isPrefixOf(word, alias));
    if (!hit) throw paramError(`unknown reject type "${word}"`);
    cb.info.with = hit[0];
  },
  check(info, ctx) {
    const where = checkPlacement(ctx, { table: 'filter', hooks: ['INPUT', 'FORWARD', 'OUTPUT'] });
    if (where) return where;
    if (info.with === REJECT6_WITH.ECHOREPLY) return { errno: 'EINVAL' };
    if (info.with === REJECT6_WITH.TCP_RESET && (ctx.rule.proto !== 6 || ctx.rule.invflags & IPT_INV.PROTO))
      return { errno: 'EINVAL' };
    return undefined;
  },
  print: (info) => ` reject-with ${typeName(info.with)}`,
  save: (info) => ` --reject-with ${typeName(info.with)}`,
});
