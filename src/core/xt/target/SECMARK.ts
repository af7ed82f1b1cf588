/**
 * The SECMARK target (revision 1): sets the packet's security mark from
 * an SELinux context. Only the mangle and security tables take it; the
 * reference kernel has no LSM to resolve contexts, so even there the rule
 * is refused with ENOENT.
 */
import { defineTarget } from '../index-types.js';
import { RATE_HELP } from '../rate-help.js';

/** xt_secmark_target_info_v1 (without the resolved secid). */
export interface SecmarkInfo {
  /** SECMARK_MODE_SEL (1). */
  mode: number;
  secctx: string;
}

/** SECMARK_SECCTX_MAX. */
const SECCTX_MAX = 256;

/** The SECMARK target extension. */
export const SECMARK = defineTarget<SecmarkInfo>({
  name: 'SECMARK',
  help: () => RATE_HELP['SECMARK']!,
  revision: 1,
  options: [{ name: 'selctx', id: 0, type: 'string', mandatory: true, size: SECCTX_MAX }],
  init: () => ({ mode: 0, secctx: '' }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.secctx = cb.val.str!;
    cb.info.mode = 1;
  },
  check(_info, ctx) {
    if (ctx.table !== 'mangle' && ctx.table !== 'security') return { errno: 'EINVAL' };
    return { errno: 'ENOENT' };
  },
  print: (info) => ` SECMARK selctx ${info.secctx}`,
  save: (info) => ` --selctx ${info.secctx}`,
});
