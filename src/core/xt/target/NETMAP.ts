/**
 * The NETMAP target (libipt_NETMAP): maps a whole network onto another one
 * of the same size, keeping the host part. Any hook of the nat table
 * accepts it.
 */
import { formatIPv4, maskToPrefix } from '../../addr/ipv4.js';
import { defineTarget } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { emptyRange, NAT_FLAG, type NatRange } from './nat-range.js';
import { checkPlacement } from './target-util.js';
import { natNetmap } from '../../conntrack/nat-masq.js';

const HOOKS = ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'];

/** "addr/bits", or "addr/mask" when the mask has holes. */
function netmapText(r: NatRange): string {
  const mask = ~(r.minIp ^ r.maxIp) >>> 0;
  const bits = maskToPrefix(mask);
  return `${formatIPv4(r.minIp)}/${bits < 0 ? formatIPv4(mask) : bits}`;
}

export const NETMAP = defineTarget<NatRange>({
  name: 'NETMAP',
  family: 'ipv4',
  help: () => TARGET_HELP['NETMAP']!,
  tables: ['nat'],
  hooks: HOOKS,
  options: [{ name: 'to', id: 0, type: 'hostmask', mandatory: true }],
  init: () => ({ ...emptyRange(), rangesize: 1 }),
  parse(cb) {
    cb.parseGeneric();
    let mask = cb.val.hmask!;
    // libxtables turns a mask with holes into a prefix length it cannot
    // use, and ends up with a host mask.
    if (maskToPrefix(mask) < 0) mask = 0xffffffff;
    const info = cb.info;
    info.flags |= NAT_FLAG.MAP_IPS;
    info.minIp = (cb.val.addr! & mask) >>> 0;
    info.maxIp = (info.minIp | ~mask) >>> 0;
  },
  check(info, ctx) {
    const where = checkPlacement(ctx, { table: 'nat', hooks: HOOKS });
    if (where) return where;
    if (!(info.flags & NAT_FLAG.MAP_IPS) || info.rangesize !== 1) return { errno: 'EINVAL' };
    return undefined;
  },
  print: (info) => ` to:${netmapText(info)}`,
  save: (info) => ` --to ${netmapText(info)}`,
  target: (info, ctx) => natNetmap(ctx.kernel, ctx.skb, info, ctx.hook),
});
