/**
 * The IPv4 REJECT target (ipt_REJECT): drops the packet and answers with an
 * ICMP error or a TCP reset. Only the filter table's INPUT, FORWARD and
 * OUTPUT hooks accept it, and tcp-reset needs a rule limited to `-p tcp`.
 */
import { icmpSend } from '../../path/icmp-send.js';
import { nfChecksumOk, sendRejectReset } from '../../path/tcp-reset.js';
import type { Skb } from '../../path/skb.js';
import { defineTarget, IPT_INV, paramError } from '../index-types.js';
import type { KernelServices } from '../packet.js';
import { TARGET_HELP } from '../target-help.js';
import { NF_DROP } from '../verdict.js';
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
  target(info, ctx) {
    if (info.with === REJECT_WITH.TCP_RESET) sendRejectReset(ctx.kernel, ctx.skb);
    else {
      const code = UNREACH_CODE[info.with];
      if (code !== undefined) sendUnreach(ctx.kernel, ctx.skb, code);
    }
    return NF_DROP;
  },
});

/** The destination unreachable code each reply type sends. */
const UNREACH_CODE: Readonly<Record<number, number>> = {
  [REJECT_WITH.NET_UNREACHABLE]: 0,
  [REJECT_WITH.HOST_UNREACHABLE]: 1,
  [REJECT_WITH.PROT_UNREACHABLE]: 2,
  [REJECT_WITH.PORT_UNREACHABLE]: 3,
  [REJECT_WITH.NET_PROHIBITED]: 9,
  [REJECT_WITH.HOST_PROHIBITED]: 10,
  [REJECT_WITH.ADMIN_PROHIBITED]: 13,
};

/**
 * Whether nf_send_unreach checks the packet's checksum before answering:
 * not for UDP without a checksum, nor for protocols whose checksum is not
 * a plain one over the whole payload (GRE, AH, ESP, SCTP, UDP-Lite, DCCP).
 */
function verifiesChecksum(d: Uint8Array, thoff: number, proto: number): boolean {
  switch (proto) {
    case 17:
      return thoff + 8 > d.length || d[thoff + 6] !== 0 || d[thoff + 7] !== 0;
    case 47:
    case 51:
    case 50:
    case 132:
    case 136:
    case 33:
      return false;
  }
  return true;
}

/**
 * nf_send_unreach: an ICMP destination unreachable with `code` about the
 * packet, unless it is a non-first fragment or fails its checksum.
 */
function sendUnreach(kernel: KernelServices, skb: Skb, code: number): void {
  const d = skb.data;
  if (((d[6]! << 8) | d[7]!) & 0x1fff) return;
  const thoff = (d[0]! & 15) * 4;
  const proto = d[9]!;
  if (verifiesChecksum(d, thoff, proto) && !nfChecksumOk(skb, thoff, proto)) return;
  icmpSend(kernel, skb, 3, code, 0);
}
