/**
 * The icmp6 match (libip6t_icmp6): one ICMPv6 type with an optional code
 * range, by name or number; loaded by -m icmp6 (or its aliases icmpv6 and
 * ipv6-icmp) or implicitly by -p icmpv6. IPv6 only.
 */
import { requireProto } from '../protocheck.js';
import { defineMatch } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';
import { icmpTypeCodeText, parseIcmpType, type IcmpName } from './icmp-types.js';

/** struct ip6t_icmp. */
export interface Icmp6Info {
  type: number;
  code: [number, number];
  /** IP6T_ICMP_INV (1). */
  invflags: number;
}

const INV = 0x01;

const n = (name: string, type: number, codeMin: number, codeMax: number): IcmpName => ({ name, type, codeMin, codeMax });

/** ICMPv6 type names in the order libxtables keeps them (prefix lookups and printing depend on it). */
export const ICMP6_NAMES: readonly IcmpName[] = [
  n('destination-unreachable', 1, 0, 0xff),
  n('no-route', 1, 0, 0),
  n('communication-prohibited', 1, 1, 1),
  n('beyond-scope', 1, 2, 2),
  n('address-unreachable', 1, 3, 3),
  n('port-unreachable', 1, 4, 4),
  n('failed-policy', 1, 5, 5),
  n('reject-route', 1, 6, 6),
  n('packet-too-big', 2, 0, 0xff),
  n('time-exceeded', 3, 0, 0xff),
  n('ttl-exceeded', 3, 0, 0xff),
  n('ttl-zero-during-transit', 3, 0, 0),
  n('ttl-zero-during-reassembly', 3, 1, 1),
  n('parameter-problem', 4, 0, 0xff),
  n('bad-header', 4, 0, 0),
  n('unknown-header-type', 4, 1, 1),
  n('unknown-option', 4, 2, 2),
  n('echo-request', 128, 0, 0xff),
  n('ping', 128, 0, 0xff),
  n('echo-reply', 129, 0, 0xff),
  n('pong', 129, 0, 0xff),
  n('router-solicitation', 133, 0, 0xff),
  n('router-advertisement', 134, 0, 0xff),
  n('neighbour-solicitation', 135, 0, 0xff),
  n('neighbor-solicitation', 135, 0, 0xff),
  n('neighbour-advertisement', 136, 0, 0xff),
  n('neighbor-advertisement', 136, 0, 0xff),
  n('redirect', 137, 0, 0xff),
];

/** The icmp6 match definition (-m icmp6, -p icmpv6). */
export const icmp6 = defineMatch<Icmp6Info>({
  name: 'icmp6',
  family: 'ipv6',
  help: () => IP6_HELP['icmp6']!,
  options: [{ name: 'icmpv6-type', id: 0, type: 'string', mandatory: true, invert: true }],
  init: () => ({ type: 0, code: [0, 0xff], invflags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const r = parseIcmpType(cb.arg!, ICMP6_NAMES, 'ICMPv6');
    cb.info.type = r.type;
    cb.info.code = r.code;
    if (cb.invert) cb.info.invflags |= INV;
  },
  check(info, ctx) {
    if (info.invflags & ~INV) return { errno: 'EINVAL' };
    return requireProto(ctx, 58);
  },
  print(info, { numeric }) {
    return ' ipv6-icmp' + icmpTypeCodeText(ICMP6_NAMES, info, INV, numeric);
  },
  save(info) {
    let s = info.invflags & INV ? ' !' : '';
    s += ` --icmpv6-type ${info.type}`;
    if (info.code[0] !== 0 || info.code[1] !== 0xff) s += `/${info.code[0]}`;
    return s;
  },
});
