/**
 * The DSCP target (mangle table): sets the DiffServ codepoint, by number or
 * by class name.
 */
import { requireTable } from '../protocheck.js';
import { defineTarget, paramError } from '../index-types.js';
import { classToDscp } from '../match/dscp-classes.js';
import { hex02 } from '../match/tos-values.js';
import { PROTO_HELP } from '../proto-help.js';
import { XT_CONTINUE } from '../verdict.js';
import { ipv4ChangeDsfield } from './csum-update.js';

/** xt_DSCP_info data. */
export interface DscpTargetInfo {
  dscp: number;
}

/** The DSCP target definition. */
export const DSCP = defineTarget<DscpTargetInfo>({
  name: 'DSCP',
  help: () => PROTO_HELP['DSCP']!,
  options: [
    { name: 'set-dscp', id: 0, type: 'uint8', max: 0x3f, excl: [1] },
    { name: 'set-dscp-class', id: 1, type: 'string', excl: [0] },
  ],
  init: () => ({ dscp: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.dscp = cb.entry.id === 0 ? cb.val.num! : classToDscp(cb.arg!);
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError('DSCP target: Parameter --set-dscp is required');
  },
  check(info, ctx) {
    return requireTable(ctx, 'mangle') ?? (info.dscp > 0x3f ? { errno: 'EDOM' } : undefined);
  },
  print(info) {
    return ` DSCP set ${hex02(info.dscp)}`;
  },
  save(info) {
    return ` --set-dscp ${hex02(info.dscp)}`;
  },
  target(info, ctx) {
    const d = ctx.skb.data;
    // the ECN bits stay
    if (d[1]! >> 2 !== info.dscp) ipv4ChangeDsfield(d, 0, 0x03, (info.dscp << 2) & 0xff);
    return XT_CONTINUE;
  },
});
