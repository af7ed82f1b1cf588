/**
 * The dscp match: the six DiffServ bits of the IPv4 TOS byte, by number or
 * by class name.
 */
import { defineMatch, paramError } from '../index-types.js';
import { classToDscp } from './dscp-classes.js';
import { hex02 } from './tos-values.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_dscp_info data. */
export interface DscpInfo {
  dscp: number;
  invert: number;
}

/** The dscp match definition. */
export const dscp = defineMatch<DscpInfo>({
  name: 'dscp',
  help: () => PROTO_HELP['dscp']!,
  options: [
    { name: 'dscp', id: 0, type: 'uint8', max: 0x3f, invert: true, excl: [1] },
    { name: 'dscp-class', id: 1, type: 'string', invert: true, excl: [0] },
  ],
  init: () => ({ dscp: 0, invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.dscp = cb.entry.id === 0 ? cb.val.num! : classToDscp(cb.arg!);
    if (cb.invert) cb.info.invert = 1;
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError('DSCP match: Parameter --dscp is required');
  },
  check(info) {
    return info.dscp > 0x3f ? { errno: 'EDOM' } : undefined;
  },
  print(info) {
    return ` DSCP match ${info.invert ? '!' : ''}${hex02(info.dscp)}`;
  },
  save(info) {
    return `${info.invert ? ' !' : ''} --dscp ${hex02(info.dscp)}`;
  },
  match: (info, ctx) => (ctx.skb.data[1]! >> 2 === info.dscp) !== (info.invert !== 0),
});
