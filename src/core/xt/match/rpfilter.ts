/**
 * The rpfilter match: reverse path filtering by a route lookup of the
 * source address, in PREROUTING of the raw or mangle table.
 */
import { requireHooks } from '../protocheck.js';
import { defineMatch } from '../index-types.js';
import { fibTableLookup, isErrorType } from '../../net/fib.js';
import { linkByName } from '../../net/state.js';
import { SCOPE_UNIVERSE, type NetState } from '../../net/types.js';
import { PacketType } from '../../path/skb.js';
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
  match(info, ctx) {
    const invert = (info.flags & F.INVERT) !== 0;
    const net = ctx.kernel.net as NetState;
    const indev = linkByName(net, ctx.in);
    if (ctx.skb.pktType === PacketType.LOOPBACK || indev?.kind === 'loopback') return !invert;
    const d = ctx.skb.data;
    const saddr = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
    const daddr = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
    // DHCP-style sources (0.0.0.0) are let through towards broadcast and local multicast
    if (saddr === 0 && (daddr === 0xffffffff || daddr >>> 8 === 0xe00000)) return !invert;
    // the reverse lookup (without policy rules, source, mark and TOS do not choose the route)
    const r = fibTableLookup(net, saddr, SCOPE_UNIVERSE, 0, true);
    let ok = false;
    if (r && !isErrorType(r.type) && (r.type === 'unicast' || (r.type === 'local' && info.flags & F.ACCEPT_LOCAL))) {
      ok = (indev !== undefined && r.oif === indev.index) || (info.flags & F.LOOSE) !== 0;
    }
    return ok !== invert;
  },
});

/** XT_RPFILTER_* bits. */
const F = { LOOSE: 1, VALID_MARK: 2, ACCEPT_LOCAL: 4, INVERT: 8 } as const;
