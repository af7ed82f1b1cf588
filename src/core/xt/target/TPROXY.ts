/**
 * The TPROXY target (revision 1): delivers a TCP or UDP packet to a local
 * socket listening on --on-port (and --on-ip) without changing its
 * addresses, and marks it. Valid only in mangle PREROUTING.
 */
import { formatIPv4 } from '../../addr/ipv4.js';
import { formatIPv6, type IPv6 } from '../../addr/ipv6.js';
import { IPT_INV, defineTarget } from '../index-types.js';
import { baseChainOf } from '../match/rate-common.js';
import { RATE_HELP } from '../rate-help.js';
import { NF_DROP } from '../verdict.js';

/** xt_tproxy_target_info_v1 (IPv4), port in host order. */
export interface TproxyInfo {
  markMask: number;
  markValue: number;
  laddr: number | IPv6;
  lport: number;
}

const O = { PORT: 0, ADDR: 1, MARK: 2 } as const;

/** The TPROXY target extension. */
export const TPROXY = defineTarget<TproxyInfo>({
  name: 'TPROXY',
  tables: ['mangle'],
  hooks: ['PREROUTING'],
  help: () => RATE_HELP['TPROXY']!,
  revision: 1,
  options: [
    { name: 'on-port', id: O.PORT, type: 'port', mandatory: true },
    { name: 'on-ip', id: O.ADDR, type: 'host' },
    { name: 'tproxy-mark', id: O.MARK, type: 'markmask32' },
  ],
  init: () => ({ markMask: 0, markValue: 0, laddr: 0, lport: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    if (cb.entry.id === O.PORT) info.lport = cb.val.num!;
    else if (cb.entry.id === O.ADDR) info.laddr = cb.family === 'ipv6' ? cb.val.addr6! : cb.val.addr!;
    else {
      info.markValue = cb.val.value!;
      info.markMask = cb.val.mask!;
    }
  },
  check(_info, ctx) {
    if (ctx.table !== 'mangle') return { errno: 'EINVAL' };
    const hook = baseChainOf(ctx);
    if (hook !== undefined && hook !== 'PREROUTING') return { errno: 'EINVAL' };
    const proto = ctx.rule.proto;
    if ((proto !== 6 && proto !== 17) || ctx.rule.invflags & IPT_INV.PROTO) return { errno: 'EINVAL' };
    return undefined;
  },
  print: (info, ctx) =>
    ` TPROXY redirect ${laddrText(info.laddr, ctx.family)}:${info.lport} mark 0x${info.markValue.toString(16)}/0x${info.markMask.toString(16)}`,
  save: (info, ctx) =>
    ` --on-port ${info.lport} --on-ip ${laddrText(info.laddr, ctx.family)} --tproxy-mark 0x${info.markValue.toString(16)}/0x${info.markMask.toString(16)}`,
  // A fragment, a short header, or (always, on a lab machine, which has no
  // sockets) no established or listening transparent socket: dropped.
  target: () => NF_DROP,
});

/** The local address in the rule's family (an IPv6 rule without --on-ip has ::). */
function laddrText(a: number | IPv6, family: string | undefined): string {
  if (typeof a !== 'number') return formatIPv6(a);
  return family === 'ipv6' ? formatIPv6([0, 0, 0, a]) : formatIPv4(a);
}
