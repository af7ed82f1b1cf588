/**
 * The recent match (revision 1): keeps named lists of recently seen
 * source or destination addresses and matches, adds, refreshes or removes
 * the packet's address, optionally only within --seconds or after
 * --hitcount sightings.
 */
import { formatIPv4 } from '../../addr/ipv4.js';
import { formatIPv6, ip6Ones, type IPv6 } from '../../addr/ipv6.js';
import { defineMatch, paramError } from '../index-types.js';
import { checkProcName } from './hashlimit.js';
import { RATE_HELP } from '../rate-help.js';
import { recentMatch, type RecentRuntime } from './recent-table.js';

/** xt_recent_mtinfo_v1 (IPv4 mask). */
export interface RecentInfo {
  /** Lifetime window in seconds (0: any). */
  seconds: number;
  /** Sightings required (0: any). */
  hitCount: number;
  /** XT_RECENT_* operation and modifier bits. */
  checkSet: number;
  /** Whether the result is inverted. */
  invert: boolean;
  /** List name. */
  name: string;
  /** XT_RECENT_SOURCE (0) or XT_RECENT_DEST (1). */
  side: number;
  /** Mask applied to addresses before they are stored or looked up. */
  mask: number;
  /** The mask of an ip6tables rule (absent: all ones, what init leaves). */
  mask6?: IPv6;
}

/** The mask in the rule's family, as recent prints it. */
function maskText(info: RecentInfo, family: string | undefined): string {
  return family === 'ipv6' ? formatIPv6(info.mask6 ?? ip6Ones()) : formatIPv4(info.mask);
}

/** XT_RECENT_* bits of checkSet. */
export const RECENT = { CHECK: 1, SET: 2, UPDATE: 4, REMOVE: 8, TTL: 16, REAP: 32 } as const;

/** Which address of the packet is used. */
export const RECENT_SIDE = { SOURCE: 0, DEST: 1 } as const;

/** XT_RECENT_NAME_LEN. */
const NAME_LEN = 200;
/** Hit counts from this value on are refused by the kernel. */
const MAX_NSTAMPS = 65536;

const O = { SET: 0, RCHECK: 1, UPDATE: 2, REMOVE: 3, SECONDS: 4, REAP: 5, HITCOUNT: 6, RTTL: 7, NAME: 8, RSOURCE: 9, RDEST: 10, MASK: 11 } as const;
const ANY_OP = [O.SET, O.RCHECK, O.UPDATE, O.REMOVE];
const OPS: readonly [number, number][] = [
  [O.SET, RECENT.SET],
  [O.RCHECK, RECENT.CHECK],
  [O.UPDATE, RECENT.UPDATE],
  [O.REMOVE, RECENT.REMOVE],
];

/** printf("%d") of an unsigned 32-bit field. */
const signed32 = (n: number) => n | 0;

/** The recent match extension. */
export const recent = defineMatch<RecentInfo>({
  name: 'recent',
  help: () => RATE_HELP['recent']!,
  revision: 1,
  options: [
    { name: 'set', id: O.SET, type: 'none', invert: true, excl: ANY_OP },
    { name: 'rcheck', id: O.RCHECK, type: 'none', invert: true, excl: ANY_OP },
    { name: 'update', id: O.UPDATE, type: 'none', invert: true, excl: ANY_OP },
    { name: 'remove', id: O.REMOVE, type: 'none', invert: true, excl: ANY_OP },
    { name: 'seconds', id: O.SECONDS, type: 'uint32', min: 1 },
    { name: 'reap', id: O.REAP, type: 'none', also: [O.SECONDS] },
    { name: 'hitcount', id: O.HITCOUNT, type: 'uint32' },
    { name: 'rttl', id: O.RTTL, type: 'none', excl: [O.SET, O.REMOVE] },
    { name: 'name', id: O.NAME, type: 'string', size: NAME_LEN },
    { name: 'rsource', id: O.RSOURCE, type: 'none' },
    { name: 'rdest', id: O.RDEST, type: 'none' },
    { name: 'mask', id: O.MASK, type: 'host' },
  ],
  init: () => ({
    seconds: 0,
    hitCount: 0,
    checkSet: 0,
    invert: false,
    name: 'DEFAULT',
    side: RECENT_SIDE.SOURCE,
    mask: 0xffffffff,
  }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const id = cb.entry.id;
    const op = OPS.find(([o]) => o === id);
    if (op) {
      info.checkSet |= op[1];
      if (cb.invert) info.invert = true;
      return;
    }
    switch (id) {
      case O.SECONDS:
        info.seconds = cb.val.num!;
        break;
      case O.HITCOUNT:
        info.hitCount = cb.val.num!;
        break;
      case O.RTTL:
        info.checkSet |= RECENT.TTL;
        break;
      case O.REAP:
        info.checkSet |= RECENT.REAP;
        break;
      case O.NAME:
        info.name = cb.val.str!;
        break;
      case O.RSOURCE:
        info.side = RECENT_SIDE.SOURCE;
        break;
      case O.RDEST:
        info.side = RECENT_SIDE.DEST;
        break;
      case O.MASK:
        if (cb.family === 'ipv6') info.mask6 = cb.val.addr6!;
        else info.mask = cb.val.addr!;
        break;
    }
  },
  final(cb) {
    if (!ANY_OP.some((o) => cb.xflags & (1 << o)))
      throw paramError("recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'");
  },
  check(info) {
    const ops = info.checkSet & (RECENT.SET | RECENT.REMOVE | RECENT.CHECK | RECENT.UPDATE);
    if (ops === 0 || (ops & (ops - 1)) !== 0) return { errno: 'EINVAL' };
    if (ops & (RECENT.SET | RECENT.REMOVE) && (info.seconds || info.hitCount || info.checkSet & (RECENT.TTL | RECENT.REAP)))
      return { errno: 'EINVAL' };
    if (info.checkSet & RECENT.REAP && !info.seconds) return { errno: 'EINVAL' };
    if (info.hitCount >= MAX_NSTAMPS) return { errno: 'EINVAL' };
    return checkProcName(info.name, NAME_LEN);
  },
  print(info, ctx) {
    let s = info.invert ? ' !' : '';
    s += ' recent:';
    if (info.checkSet & RECENT.SET) s += ' SET';
    if (info.checkSet & RECENT.CHECK) s += ' CHECK';
    if (info.checkSet & RECENT.UPDATE) s += ' UPDATE';
    if (info.checkSet & RECENT.REMOVE) s += ' REMOVE';
    if (info.seconds) s += ` seconds: ${signed32(info.seconds)}`;
    if (info.checkSet & RECENT.REAP) s += ' reap';
    if (info.hitCount) s += ` hit_count: ${signed32(info.hitCount)}`;
    if (info.checkSet & RECENT.TTL) s += ' TTL-Match';
    s += ` name: ${info.name}`;
    if (info.side === RECENT_SIDE.SOURCE) s += ' side: source';
    if (info.side === RECENT_SIDE.DEST) s += ' side: dest';
    return s + ` mask: ${maskText(info, ctx.family)}`;
  },
  save(info, ctx) {
    let s = info.invert ? ' !' : '';
    if (info.checkSet & RECENT.SET) s += ' --set';
    if (info.checkSet & RECENT.CHECK) s += ' --rcheck';
    if (info.checkSet & RECENT.UPDATE) s += ' --update';
    if (info.checkSet & RECENT.REMOVE) s += ' --remove';
    if (info.seconds) s += ` --seconds ${signed32(info.seconds)}`;
    if (info.checkSet & RECENT.REAP) s += ' --reap';
    if (info.hitCount) s += ` --hitcount ${signed32(info.hitCount)}`;
    if (info.checkSet & RECENT.TTL) s += ' --rttl';
    s += ` --name ${info.name} --mask ${maskText(info, ctx.family)}`;
    if (info.side === RECENT_SIDE.SOURCE) s += ' --rsource';
    if (info.side === RECENT_SIDE.DEST) s += ' --rdest';
    return s;
  },
  // the lists are shared by name (see recent-table.ts)
  runtime: (): RecentRuntime => ({ joined: false }),
  match: (info, ctx, rt) => recentMatch(info, ctx, rt),
});
