/**
 * The CONNSECMARK target: copies the security mark from the packet to its
 * connection (--save) or back (--restore). Only the mangle and security
 * tables take it.
 */
import { defineTarget, paramError } from '../index-types.js';
import { RATE_HELP } from '../rate-help.js';
import { XT_CONTINUE } from '../verdict.js';

/** xt_connsecmark_target_info. */
export interface ConnsecmarkInfo {
  /** CONNSECMARK_SAVE (1) or CONNSECMARK_RESTORE (2). */
  mode: number;
}

const O = { SAVE: 0, RESTORE: 1 } as const;
const MODES = ['', 'save', 'restore'];

/** The CONNSECMARK target extension. */
export const CONNSECMARK = defineTarget<ConnsecmarkInfo>({
  name: 'CONNSECMARK',
  help: () => RATE_HELP['CONNSECMARK']!,
  options: [
    { name: 'save', id: O.SAVE, type: 'none', excl: [O.RESTORE] },
    { name: 'restore', id: O.RESTORE, type: 'none', excl: [O.SAVE] },
  ],
  init: () => ({ mode: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.mode = cb.entry.id === O.SAVE ? 1 : 2;
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError('CONNSECMARK target: parameter required');
  },
  check(info, ctx) {
    if (ctx.table !== 'mangle' && ctx.table !== 'security') return { errno: 'EINVAL' };
    return info.mode === 1 || info.mode === 2 ? undefined : { errno: 'EINVAL' };
  },
  print: (info) => ` CONNSECMARK ${MODES[info.mode] ?? ''}`,
  save: (info) => ` --${MODES[info.mode] ?? ''}`,
  target(info, ctx) {
    const skb = ctx.skb;
    const ct = skb.untracked ? null : skb.ct;
    if (info.mode === 1) {
      // save: only into a connection that has no security mark yet
      if (skb.secmark !== 0 && ct !== null && ct.secmark === 0) ct.secmark = skb.secmark;
    } else if (info.mode === 2) {
      if (skb.secmark === 0 && ct !== null && ct.secmark !== 0) skb.secmark = ct.secmark;
    }
    return XT_CONTINUE;
  },
});
