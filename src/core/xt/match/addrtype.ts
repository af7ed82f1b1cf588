/**
 * The addrtype match (revision 1): the routing type (LOCAL, UNICAST,
 * BROADCAST, ...) of the source and/or destination address, optionally
 * looked up on the packet's own input or output device only.
 */
import { baseHook } from '../protocheck.js';
import { defineMatch, paramError } from '../index-types.js';
import { fibTableLookup, isErrorType } from '../../net/fib.js';
import { linkByName } from '../../net/state.js';
import { SCOPE_UNIVERSE, type Link, type NetState, type RouteType } from '../../net/types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_addrtype_info_v1 data. */
export interface AddrtypeInfo {
  /** Bit i set = route type i (RTN_*) accepted. */
  source: number;
  dest: number;
  /** XT_ADDRTYPE_* flags. */
  flags: number;
}

/** Flag bits of xt_addrtype_info_v1. */
export const ADDRTYPE = { INVERT_SOURCE: 0x1, INVERT_DEST: 0x2, LIMIT_IFACE_IN: 0x4, LIMIT_IFACE_OUT: 0x8 } as const;

/** Route type names, in RTN_* order. */
export const RTN_NAMES: readonly string[] = [
  'UNSPEC',
  'UNICAST',
  'LOCAL',
  'BROADCAST',
  'ANYCAST',
  'MULTICAST',
  'BLACKHOLE',
  'UNREACHABLE',
  'PROHIBIT',
  'THROW',
  'NAT',
  'XRESOLVE',
];

/** The first type whose name starts with `word` (any case), as a bit. */
function typeBit(word: string): number | undefined {
  const w = word.toUpperCase();
  const i = RTN_NAMES.findIndex((n) => n.startsWith(w));
  return i < 0 ? undefined : 1 << i;
}

/** Parses "TYPE[,TYPE...]" into a bit mask added to `mask`. */
function parseTypes(arg: string, mask: number): number {
  let rest = arg;
  let comma: number;
  while ((comma = rest.indexOf(',')) >= 0) {
    const bit = comma === 0 ? undefined : typeBit(rest.slice(0, comma));
    if (bit === undefined) throw paramError(`addrtype: bad type \`${rest}'`);
    mask |= bit;
    rest = rest.slice(comma + 1);
  }
  const bit = rest === '' ? undefined : typeBit(rest);
  if (bit === undefined) throw paramError(`addrtype: bad type "${rest}"`);
  return mask | bit;
}

function typeList(mask: number): string {
  return RTN_NAMES.filter((_, i) => mask & (1 << i)).join(',');
}

/** The addrtype match definition, revision 1. */
export const addrtype = defineMatch<AddrtypeInfo>({
  name: 'addrtype',
  help: () => PROTO_HELP['addrtype']!,
  revision: 1,
  options: [
    { name: 'src-type', id: 0, type: 'string', invert: true },
    { name: 'dst-type', id: 1, type: 'string', invert: true },
    { name: 'limit-iface-in', id: 2, type: 'none', excl: [3] },
    { name: 'limit-iface-out', id: 3, type: 'none', excl: [2] },
  ],
  init: () => ({ source: 0, dest: 0, flags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case 0:
        info.source = parseTypes(cb.arg!, info.source);
        if (cb.invert) info.flags |= ADDRTYPE.INVERT_SOURCE;
        break;
      case 1:
        info.dest = parseTypes(cb.arg!, info.dest);
        if (cb.invert) info.flags |= ADDRTYPE.INVERT_DEST;
        break;
      case 2:
        info.flags |= ADDRTYPE.LIMIT_IFACE_IN;
        break;
      case 3:
        info.flags |= ADDRTYPE.LIMIT_IFACE_OUT;
        break;
    }
  },
  final(cb) {
    if (!(cb.xflags & 0x3)) throw paramError('addrtype: you must specify --src-type or --dst-type');
  },
  check(info, ctx) {
    const f = info.flags;
    if (f & ADDRTYPE.LIMIT_IFACE_IN && f & ADDRTYPE.LIMIT_IFACE_OUT) return { errno: 'EINVAL' };
    const hook = baseHook(ctx);
    const has = (h: string) => hook === h;
    if (f & ADDRTYPE.LIMIT_IFACE_OUT && (has('PREROUTING') || has('INPUT'))) return { errno: 'EINVAL' };
    if (f & ADDRTYPE.LIMIT_IFACE_IN && (has('POSTROUTING') || has('OUTPUT'))) return { errno: 'EINVAL' };
    if (ctx.family === 'ipv6') {
      // IPv6 routes know no BLACKHOLE, PROHIBIT and later types, nor BROADCAST
      const both = info.source | info.dest;
      if (both & (1 << 6) || both >= 1 << 8 || both & (1 << 3)) return { errno: 'EINVAL' };
    }
    return undefined;
  },
  print(info) {
    let s = ' ADDRTYPE match';
    if (info.source) s += ` src-type ${info.flags & ADDRTYPE.INVERT_SOURCE ? '!' : ''}${typeList(info.source)}`;
    if (info.dest) s += ` dst-type ${info.flags & ADDRTYPE.INVERT_DEST ? '!' : ''}${typeList(info.dest)}`;
    if (info.flags & ADDRTYPE.LIMIT_IFACE_IN) s += ' limit-in';
    if (info.flags & ADDRTYPE.LIMIT_IFACE_OUT) s += ' limit-out';
    return s;
  },
  save(info) {
    let s = '';
    if (info.source) s += `${info.flags & ADDRTYPE.INVERT_SOURCE ? ' !' : ''} --src-type ${typeList(info.source)}`;
    if (info.dest) s += `${info.flags & ADDRTYPE.INVERT_DEST ? ' !' : ''} --dst-type ${typeList(info.dest)}`;
    if (info.flags & ADDRTYPE.LIMIT_IFACE_IN) s += ' --limit-iface-in';
    if (info.flags & ADDRTYPE.LIMIT_IFACE_OUT) s += ' --limit-iface-out';
    return s;
  },
  match(info, ctx) {
    const net = ctx.kernel.net as NetState;
    let dev: Link | undefined;
    if (info.flags & ADDRTYPE.LIMIT_IFACE_IN) dev = linkByName(net, ctx.in);
    else if (info.flags & ADDRTYPE.LIMIT_IFACE_OUT) dev = linkByName(net, ctx.out);
    const d = ctx.skb.data;
    if (info.source) {
      const a = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
      const hit = (info.source & (1 << devAddrType(net, dev, a))) !== 0;
      if (hit === ((info.flags & ADDRTYPE.INVERT_SOURCE) !== 0)) return false;
    }
    if (info.dest) {
      const a = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
      const hit = (info.dest & (1 << devAddrType(net, dev, a))) !== 0;
      if (hit === ((info.flags & ADDRTYPE.INVERT_DEST) !== 0)) return false;
    }
    return true;
  },
});

/** RTN_* numbers of the route types. */
const RTN: Record<RouteType, number> = { unicast: 1, local: 2, broadcast: 3, multicast: 5, blackhole: 6, unreachable: 7, prohibit: 8 };

/**
 * inet_dev_addr_type: 0.0.0.0 and 255.255.255.255 are BROADCAST,
 * 224.0.0.0/4 MULTICAST; else the type of the route the local/main trie
 * gives. No route, an error route (the lookup fails), or a route through
 * another device than `dev` all count as UNICAST.
 */
function devAddrType(net: NetState, dev: Link | undefined, addr: number): number {
  if (addr === 0 || addr === 0xffffffff) return RTN.broadcast;
  if (addr >>> 28 === 0xe) return RTN.multicast;
  const r = fibTableLookup(net, addr, SCOPE_UNIVERSE, 0, false);
  if (!r || isErrorType(r.type)) return RTN.unicast;
  if (dev !== undefined && r.oif !== dev.index) return RTN.unicast;
  return RTN[r.type];
}
