/**
 * The quota match: matches until a byte budget is used up (or, inverted,
 * once it is). The budget is a full 64-bit number, kept in decimal.
 */
import { defineMatch, paramError } from '../index-types.js';
import { U64_MAX, xtStrtoul } from './rate-common.js';
import { RATE_HELP } from '../rate-help.js';

/** xt_quota_info as the user sets it. */
export interface QuotaInfo {
  /** XT_QUOTA_INVERT (1) or 0. */
  flags: number;
  /** Byte budget, decimal (u64). */
  quota: string;
}

/** XT_QUOTA_INVERT. */
export const QUOTA_INVERT = 1;

/** The quota match extension. */
export const quota = defineMatch<QuotaInfo>({
  name: 'quota',
  help: () => RATE_HELP['quota']!,
  options: [{ name: 'quota', id: 0, type: 'string', mandatory: true, invert: true }],
  init: () => ({ flags: 0, quota: '0' }),
  parse(cb) {
    cb.parseGeneric();
    const arg = cb.arg!;
    const v = xtStrtoul(arg, 0n, U64_MAX);
    if (!v || v.end !== arg.length)
      throw paramError(`quota: bad value for option "--quota", or out of range (0-${U64_MAX}).\n`);
    cb.info.quota = String(v.value);
    if (cb.invert) cb.info.flags |= QUOTA_INVERT;
  },
  print: (info) => ` quota: ${info.quota} bytes`,
  save: (info) => `${info.flags & QUOTA_INVERT ? ' !' : ''} --quota ${info.quota}`,
});
