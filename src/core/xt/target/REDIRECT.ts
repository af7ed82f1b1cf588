/**
 * The REDIRECT target (revision 0): destination NAT to the local machine,
 * optionally to a port range. The nat table's PREROUTING and OUTPUT hooks
 * accept it; shifted port maps are refused by iptables itself.
 */
import { defineTarget, paramError } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { emptyRange, NAT_FLAG, NAT_OPT, natRender, parseNatCompat, type NatRange } from './nat-range.js';
import { checkPlacement } from './target-util.js';
import { natRedirect } from '../../conntrack/nat-masq.js';

const HOOKS = ['PREROUTING', 'OUTPUT'];

export const REDIRECT = defineTarget<NatRange>({
  name: 'REDIRECT',
  family: 'ipv4',
  help: () => TARGET_HELP['REDIRECT']!,
  tables: ['nat'],
  hooks: HOOKS,
  options: [
    { name: 'to-ports', id: NAT_OPT.TO_PORTS, type: 'string' },
    { name: 'random', id: NAT_OPT.RANDOM, type: 'none' },
  ],
  init: emptyRange,
  parse: parseNatCompat,
  final(cb) {
    cb.info.rangesize = 1;
    if (cb.info.flags & NAT_FLAG.PROTO_OFFSET) throw paramError('Shifted portmap ranges not supported with this kernel');
  },
  check(info, ctx) {
    const where = checkPlacement(ctx, { table: 'nat', hooks: HOOKS });
    if (where) return where;
    if (info.flags & NAT_FLAG.MAP_IPS || info.rangesize !== 1) return { errno: 'EINVAL' };
    return undefined;
  },
  print: (info) => natRender(info, 'redir ports ', '', true),
  save: (info) => natRender(info, '--to-ports ', '--', true),
  target: (info, ctx) => natRedirect(ctx.kernel, ctx.skb, info, ctx.hook),
});
