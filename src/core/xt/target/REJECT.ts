/**
 * The IPv4 REJECT target (ipt_REJECT): drops the packet and answers with an
 * ICMP error or a TCP reset. Only the filter table's INPUT, FORWARD and
 * OUTPUT hooks accept it, and tcp-reset needs a rule limited to `-p tcp`.
 */
import { defineTarget, IPT_INV, paramError } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { checkPlacement } from './target-util.js';

/** struct ipt_reject_info. */
export interface RejectInfo {
  /** enum ipt_reject_with value. */
  with: number;
}

/** ipt_reject_with values. */
export const REJECT_WITH = {
  NET_UNREACHABLE: 0,
  HOST_UNREACHABLE: 1,
  PROT_UNREACHABLE: 2,
  PORT_UNREACHABLE: 3,
  ECHOREPLY: 4,
  NET_PROHIBITED: 5,
  HOST_PROHIBITED: 6,
  TCP_RESET: 7,
  ADMIN_PROHIBITED: 8,
} as const;

/** Reply types by value: the name iptables prints and the alias it accepts. */
const REJECT_TYPES: readonly (readonly [number, string, string])[] = [
  [REJECT_WITH.NET_UNREACHABLE, 'icmp-net-unreachable', 'net-unreach'],
  [REJECT_WITH.HOST_UNREACHABLE, 'icmp-host-unreachable', 'host-unreach'],
  [REJECT_WITH.PROT_UNREACHABLE, 'icmp-proto-unreachable', 'proto-unreach'],
  [REJECT_WITH.PORT_UNREACHABLE, 'icmp-port-unreachable', 'port-unreach'],
  [REJECT_WITH.NET_PROHIBITED, 'icmp-net-prohibited', 'net-prohib'],
  [REJECT_WITH.HOST_PROHIBITED, 'icmp-host-prohibited', 'host-prohib'],
  [REJECT_WITH.TCP_RESET, 'tcp-reset', 'tcp-rst'],
  [REJECT_WITH.ADMIN_PROHIBITED, 'icmp-admin-prohibited', 'admin-prohib'],
];

/** Whether `word` is a case-insensitive prefix of `name` (strncasecmp over the word's length). */
const isPrefixOf = (word: string, name: string) => name.toLowerCase().startsWith(word.toLowerCase());

/** The printed name of a reply type. */
export function rejectTypeName(value: number): string {
  return REJECT_TYPES.find(([v]) => v === value)?.[1] ?? '';
}

export const REJECT = defineTarget<RejectInfo>({
  name: 'REJECT',
  family: 'ipv4',
  help: () => TARGET_HELP['REJECT']!,
  tables: ['filter'],
  hooks: ['INPUT', 'FORWARD', 'OUTPUT'],
  options: [{ name: 'reject-with', id: 0, type: 'string' }],
  init: () => ({ with: REJECT_WITH.PORT_UNREACHABLE }),
  parse(cb) {
    cb.parseGeneric();
    const word = cb.arg!;
    // The first type whose name or alias starts with the word wins.
    const hit = REJECT_TYPES.find(([, name, alias]) => isPrefixOf(word, name) || isPrefixOf(word, alias));
    if (hit) {
      cb.info.with = hit[0];
      return;
    }
    if (isPrefixOf(word, 'echo-reply') || isPrefixOf(word, 'echoreply'))
      cb.warn('--reject-with echo-reply no longer supported\n');
    throw paramError(`unknown reject type "${word}"`);
  },
  check(info, ctx) {
    const where = checkPlacement(ctx, { table: 'filter', hooks: ['INPUT', 'FORWARD', 'OUTPUT'] });
    if (where) return where;
    if (info.with === REJECT_WITH.ECHOREPLY) return { errno: 'EINVAL' };
    if (info.with === REJECT_WITH.TCP_RESET && (ctx.rule.proto !== 6 || ctx.rule.invflags & IPT_INV.PROTO))
      return { errno: 'EINVAL' };
    return undefined;
  },
  print: (info) => ` reject-with ${rejectTypeName(info.with)}`,
  save: (info) => ` --reject-with ${rejectTypeName(info.with)}`,
});
