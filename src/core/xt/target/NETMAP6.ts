/**
 * The IPv6 NETMAP target (libip6t_NETMAP): maps a whole network onto
 * another one of the same size, keeping the host part. Any hook of the nat
 * table accepts it.
 */
import { formatIPv6, ip6And, ip6MaskToCidr, ip6Zero, type IPv6 } from '../../addr/ipv6.js';
import { defineTarget } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { NAT_FLAG } from './nat-range.js';
import { checkPlacement } from './target-util.js';

const HOOKS = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'];

/** struct nf_nat_range as NETMAP fills it (addresses only). */
export interface Netmap6Info {
  flags: number;
  minAddr: IPv6;
  maxAddr: IPv6;
}

/** "addr/bits", or "addr/mask" when the mask has holes. */
function netmapText(r: Netmap6Info): string {
  const mask = r.minAddr.map((w, i) => ~(w ^ r.maxAddr[i]!) >>> 0);
  const bits = ip6MaskToCidr(mask);
  return `${formatIPv6(r.minAddr)}/${bits < 0 ? formatIPv6(mask) : bits}`;
}

/** The NETMAP target for ip6tables. */
export const NETMAP6 = defineTarget<Netmap6Info>({
  name: 'NETMAP',
  family: 'ipv6',
  help: () => TARGET_HELP['NETMAP']!,
  tables: ['nat'],
  hooks: HOOKS,
  options: [{ name: 'to', id: 0, type: 'hostmask', mandatory: true }],
  init: () => ({ flags: 0, minAddr: ip6Zero(), maxAddr: ip6Zero() }),
  parse(cb) {
    cb.parseGeneric();
    const mask = cb.val.hmask6!;
    const info = cb.info;
    info.flags |= NAT_FLAG.MAP_IPS;
    info.minAddr = ip6And(cb.val.addr6!, mask);
    info.maxAddr = info.minAddr.map((w, i) => (w | ~mask[i]!) >>> 0);
  },
  check(info, ctx) {
    const where = checkPlacement(ctx, { table: 'nat', hooks: HOOKS });
    if (where) return where;
    return info.flags & NAT_FLAG.MAP_IPS ? undefined : { errno: 'EINVAL' };
  },
  print: (info) => ` to:${netmapText(info)}`,
  save: (info) => ` --to ${netmapText(info)}`,
});
