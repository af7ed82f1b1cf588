/**
 * The rpfilter match: reverse path filtering by a route lookup of the
 * source address, in PREROUTING of the raw or mangle table.
 */
import { requireHooks } from '../protocheck.js';
import { defineMatch } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_rpfilter_info data. */
export interface RpfilterInfo {
  /** XT_RPFILTER_* bits. */
  flags: number;
}

/** Option names in flag-bit order (LOOSE, VALID_MARK, ACCEPT_LOCAL, INVERT). */
const NAMES = ['loose', 'validmark', 'accept-local', 'invert'];

function words(info: RpfilterInfo, prefix: string): string {
  return NAMES.filter((_, i) => info.flags & (1 << i))
    .map((n) => ` ${prefix}${n}`)
    .join('');
}

/** The rpfilter match definition. */
export const rpfilter = defineMatch<RpfilterInfo>({
  name: 'rpfilter',
  hooks: ['PREROUTING'],
  help: () => PROTO_HELP['rpfilter']!,
  options: NAMES.map((name, id) => ({ name, id, type: 'none' as const })),
  init: () => ({ flags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.flags |= 1 << cb.entry.id;
  },
  check(info, ctx) {
    if (info.flags & ~0x0f) return { errno: 'EINVAL' };
    if (ctx.table !== 'mangle' && ctx.table !== 'raw') return { errno: 'EINVAL' };
    return requireHooks(ctx, ['PREROUTING']);
  },
  print(info) {
    return ' rpfilter' + words(info, '');
  },
  save(info) {
    return words(info, '--');
  },
});
