/**
 * The SNAT target (revision 0, nf_nat_ipv4_multi_range_compat): rewrites
 * the source address, and optionally the port, to --to-source. The nat
 * table's POSTROUTING and INPUT hooks accept it.
 */
import { defineTarget } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { emptyRange, NAT_OPT, natRender, parseNatCompat, type NatRange } from './nat-range.js';
import { checkPlacement } from './target-util.js';
import { natSetupInfo } from '../../conntrack/nat.js';
import { NF_ACCEPT } from '../verdict.js';

const HOOKS = ['POSTROUTING', 'INPUT'];

export const SNAT = defineTarget<NatRange>({
  name: 'SNAT',
  family: 'ipv4',
  help: () => TARGET_HELP['SNAT']!,
  tables: ['nat'],
  hooks: HOOKS,
  options: [
    { name: 'to-source', id: NAT_OPT.TO_SRC, type: 'string', mandatory: true },
    { name: 'random', id: NAT_OPT.RANDOM, type: 'none' },
    { name: 'random-fully', id: NAT_OPT.RANDOM_FULLY, type: 'none' },
    { name: 'persistent', id: NAT_OPT.PERSISTENT, type: 'none' },
  ],
  init: emptyRange,
  parse: parseNatCompat,
  final(cb) {
    cb.info.rangesize = 1;
  },
  check: (info, ctx) => checkPlacement(ctx, { table: 'nat', hooks: HOOKS }) ?? (info.rangesize !== 1 ? { errno: 'EINVAL' } : undefined),
  print: (info) => natRender(info, 'to:', '', false),
  save: (info) => natRender(info, '--to-source ', '--', false),
  // xt_snat_target_v0: the compat range (its base port stays 0).
  target: (info, ctx) => (ctx.skb.ct ? natSetupInfo(ctx.kernel, ctx.skb.ct, info, 'SRC') : NF_ACCEPT),
});
