/**
 * The MASQUERADE target (revision 0): source NAT to the outgoing
 * interface's address, with an optional port range. Only the nat table's
 * POSTROUTING hook accepts it.
 */
import { defineTarget } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { emptyRange, NAT_FLAG, NAT_OPT, natRender, parseNatCompat, type NatRange } from './nat-range.js';
import { checkPlacement } from './target-util.js';
import { natMasquerade } from '../../conntrack/nat-masq.js';

const HOOKS = ['POSTROUTING'];

export const MASQUERADE = defineTarget<NatRange>({
  name: 'MASQUERADE',
  family: 'ipv4',
  help: () => TARGET_HELP['MASQUERADE']!,
  tables: ['nat'],
  hooks: HOOKS,
  options: [
    { name: 'to-ports', id: NAT_OPT.TO_PORTS, type: 'string' },
    { name: 'random', id: NAT_OPT.RANDOM, type: 'none' },
    { name: 'random-fully', id: NAT_OPT.RANDOM_FULLY, type: 'none' },
  ],
  init: emptyRange,
  parse: parseNatCompat,
  final(cb) {
    cb.info.rangesize = 1;
  },
  check(info, ctx) {
    const where = checkPlacement(ctx, { table: 'nat', hooks: HOOKS });
    if (where) return where;
    if (info.flags & NAT_FLAG.MAP_IPS || info.rangesize !== 1) return { errno: 'EINVAL' };
    return undefined;
  },
  print: (info) => natRender(info, 'masq ports: ', '', true),
  save: (info) => natRender(info, '--to-ports ', '--', true),
  target: (info, ctx) => natMasquerade(ctx.kernel, ctx.skb, info, ctx.out),
});
