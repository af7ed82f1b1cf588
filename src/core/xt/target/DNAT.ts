/**
 * The DNAT target, revision 2 (nf_nat_range2): rewrites the destination
 * address and optionally the port to --to-destination, including shifted
 * port maps ("1000-2000/3000"). The nat table's PREROUTING and OUTPUT hooks
 * accept it.
 */
import { defineTarget } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { emptyRange, NAT_OPT, natRender, parseNatOption, type NatRange } from './nat-range.js';
import { checkPlacement } from './target-util.js';
import { natSetupInfo } from '../../conntrack/nat.js';
import { NF_ACCEPT } from '../verdict.js';

const HOOKS = ['PREROUTING', 'OUTPUT'];

export const DNAT = defineTarget<NatRange>({
  name: 'DNAT',
  family: 'ipv4',
  help: () => TARGET_HELP['DNAT']!,
  revision: 2,
  tables: ['nat'],
  hooks: HOOKS,
  options: [
    { name: 'to-destination', id: NAT_OPT.TO_DEST, type: 'string', mandatory: true },
    { name: 'random', id: NAT_OPT.RANDOM, type: 'none' },
    { name: 'persistent', id: NAT_OPT.PERSISTENT, type: 'none' },
  ],
  init: emptyRange,
  parse: (cb) => parseNatOption(cb, cb.info),
  check: (_info, ctx) => checkPlacement(ctx, { table: 'nat', hooks: HOOKS }),
  print: (info) => natRender(info, 'to:', '', false),
  save: (info) => natRender(info, '--to-destination ', '--', false),
  // xt_dnat_target_v2: the stored range is a nf_nat_range2.
  target: (info, ctx) => (ctx.skb.ct ? natSetupInfo(ctx.kernel, ctx.skb.ct, info, 'DST') : NF_ACCEPT),
});
