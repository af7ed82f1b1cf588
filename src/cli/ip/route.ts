/**
 * `ip route`: add, change, replace, prepend, append, delete, flush, show
 * and get, parsed as iproute2's iproute_modify/iproute_list_flush_or_save/
 * iproute_get do and printed as print_route does.
 */
import { routeDelete, routeInsert, routeLinkdown, RTPROT_BOOT, type InsertFlags } from '../../core/net/fib.js';
import { ipv6Routes } from '../../core/net/ipv6.js';
import { routeOutput } from '../../core/net/output.js';
import { linkByIndex, linkByName } from '../../core/net/state.js';
import { SCOPE_HOST, SCOPE_LINK, SCOPE_NOWHERE, SCOPE_UNIVERSE, TABLE_LOCAL, TABLE_MAIN, type Route4, type RouteType } from '../../core/net/types.js';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  Args,
  cUnsigned,
  duparg2,
  eprint,
  getAddr,
  getPrefix,
  IpExit,
  invarg,
  ipText,
  matches,
  nodev,
  print,
  protoFromName,
  protoName,
  reportNetError,
  scopeFromName,
  scopeName,
  tableFromName,
  tableName,
  type IpContext,
  type Prefix,
  COLOR,
  devByName,
  paint,
} from './common.js';
import { ROUTE_USAGE } from './usage.js';


function usage(ctx: IpContext): never {
  eprint(ctx, ROUTE_USAGE);
  throw new IpExit(255);
}

/** rtnl_rtntype_a2n(): a route type keyword (or number). */
function typeFromName(s: string): RouteType | 'other' | undefined {
  if (s === 'local') return 'local';
  if (s === 'nat') return 'other';
  if (matches(s, 'broadcast') || s === 'brd') return 'broadcast';
  if (matches(s, 'anycast')) return 'other';
  if (matches(s, 'multicast')) return 'multicast';
  if (matches(s, 'prohibit')) return 'prohibit';
  if (matches(s, 'unreachable')) return 'unreachable';
  if (matches(s, 'blackhole')) return 'blackhole';
  if (matches(s, 'xresolve')) return 'other';
  if (matches(s, 'unicast')) return 'unicast';
  if (s === 'throw') return 'other';
  const n = cUnsigned(s, 255);
  if (n === undefined) return undefined;
  const byNum: Record<number, RouteType> = { 1: 'unicast', 2: 'local', 3: 'broadcast', 5: 'multicast', 6: 'blackhole', 7: 'unreachable', 8: 'prohibit' };
  return byNum[n] ?? 'other';
}

type ModifyCmd = 'add' | 'change' | 'replace' | 'prepend' | 'append' | 'test' | 'del';

/** iproute_modify(): builds the request and hands it to the model. */
function routeModify(ctx: IpContext, argv: string[], cmd: ModifyCmd): number {
  const del = cmd === 'del';
  let type: RouteType | undefined = del ? undefined : 'unicast';
  let table = TABLE_MAIN;
  let tableOk = false;
  let scope = del ? SCOPE_NOWHERE : SCOPE_UNIVERSE;
  let scopeOk = false;
  let protocol = del ? 0 : RTPROT_BOOT;
  let metric: number | undefined;
  let gateway: Prefix | undefined;
  let prefsrc: Prefix | undefined;
  let dst: Prefix | undefined;
  let dev: string | undefined;
  let family = ctx.family;
  const a = new Args(argv);
  while (a.left > 0) {
    const w = a.cur;
    if (w === 'src') {
      prefsrc = getAddr(ctx, a.next(ctx), family);
      if (family === AF_UNSPEC) family = prefsrc.family;
    } else if (w === 'via') {
      if (gateway) invarg(ctx, 'use nexthop syntax to specify multiple via\n', w);
      let v = a.next(ctx);
      let fam = family;
      if (v === 'inet' || v === 'inet6') {
        fam = v === 'inet' ? AF_INET : AF_INET6;
        v = a.next(ctx);
      }
      gateway = getAddr(ctx, v, fam);
      if (family === AF_UNSPEC) family = gateway.family;
    } else if (matches(w, 'metric') || matches(w, 'priority') || w === 'preference') {
      const v = a.next(ctx);
      const n = cUnsigned(v, 0xffffffff);
      if (n === undefined) invarg(ctx, '"metric" value is invalid\n', v);
      metric = n;
    } else if (w === 'scope') {
      const v = a.next(ctx);
      const s = scopeFromName(v);
      if (s === undefined) invarg(ctx, 'invalid "scope" value\n', v);
      scope = s;
      scopeOk = true;
    } else if (matches(w, 'protocol') && w !== '') {
      const v = a.next(ctx);
      const p = protoFromName(v);
      if (p === undefined) invarg(ctx, '"protocol" value is invalid\n', v);
      protocol = p;
    } else if (matches(w, 'table') && w !== '') {
      const v = a.next(ctx);
      const t = tableFromName(v);
      if (t === undefined) invarg(ctx, '"table" value is invalid\n', v);
      table = t;
      tableOk = true;
    } else if (w === 'dev' || w === 'oif') {
      dev = a.next(ctx);
    } else if (w === 'onlink' || w === 'nexthop' || w === 'mtu' || w === 'advmss' || w === 'realm' || matches(w, 'realms') || w === 'tos') {
      eprint(ctx, `ip: "${w}" is not supported in this lab\n`);
      throw new IpExit(1);
    } else {
      let v = w;
      if (v === 'to') v = a.next(ctx);
      if ((v[0]! < '0' || v[0]! > '9') && typeFromName(v) !== undefined) {
        const t = typeFromName(v)!;
        if (t === 'other') {
          eprint(ctx, `ip: route type "${v}" is not supported in this lab\n`);
          throw new IpExit(1);
        }
        type = t;
        v = a.next(ctx);
      }
      if (matches(v, 'help') && v !== '') usage(ctx);
      if (dst) duparg2(ctx, 'to', v);
      dst = getPrefix(ctx, v, family);
      if (family === AF_UNSPEC) family = dst.family;
    }
    a.skip();
  }
  if (!dst) usage(ctx);
  let oif = 0;
  if (dev !== undefined) {
    const l = devByName(ctx, dev);
    if (!l) return nodev(ctx, dev);
    oif = l.index;
  }
  if (family === AF_INET6) {
    eprint(ctx, 'ip: IPv6 routes cannot be configured in this lab\n');
    return -2;
  }
  if (!tableOk && (type === 'local' || type === 'broadcast')) table = TABLE_LOCAL;
  if (table === 0) table = TABLE_MAIN;
  if (!scopeOk) {
    if (type === 'local') scope = SCOPE_HOST;
    else if (type === 'broadcast' || type === 'multicast') scope = SCOPE_LINK;
    else if (type === 'unicast' || type === undefined) {
      if (del) scope = SCOPE_NOWHERE;
      else if (!gateway) scope = SCOPE_LINK;
    }
  }
  const net = ctx.net;
  if (del) {
    const e = routeDelete(net, {
      table,
      dst: dst.addr,
      dstLen: dst.bitlen,
      type,
      scope,
      prefsrc: prefsrc?.addr ?? 0,
      protocol,
      metric: metric ?? 0,
      oif,
      gateway: gateway?.addr,
    });
    if (e) {
      reportNetError(ctx, e);
      return -2;
    }
    return 0;
  }
  const route: Route4 = {
    table,
    type: type ?? 'unicast',
    dst: dst.addr,
    dstLen: dst.bitlen,
    metric: metric ?? 0,
    protocol,
    scope,
    prefsrc: prefsrc?.addr ?? 0,
    gateway: gateway?.addr ?? 0,
    oif,
  };
  const flags: InsertFlags = {
    create: cmd !== 'change' && cmd !== 'test',
    excl: cmd === 'add' || cmd === 'test',
    replace: cmd === 'change' || cmd === 'replace',
    append: cmd === 'append',
  };
  const e = routeInsert(net, route, flags);
  if (e) {
    reportNetError(ctx, e);
    return -2;
  }
  return 0;
}

/** What `ip route show` selects. */
interface RouteFilter {
  /** 0: all tables. */
  table: number;
  protocol?: number;
  scope?: number;
  type?: RouteType;
  oif?: number;
  metric?: number;
  via?: Prefix;
  src?: Prefix;
  /** root: routes inside this prefix. */
  rdst?: Prefix;
  /** match: routes covering this prefix. */
  mdst?: Prefix;
}

function inPrefix(addr: number, p: Prefix, bits: number): boolean {
  if (bits <= 0) return true;
  const mask = bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
  return ((addr ^ p.addr) & mask) === 0;
}

function routeSelected(f: RouteFilter, r: Route4): boolean {
  if (f.table !== 0 && r.table !== f.table) return false;
  if (f.protocol !== undefined && r.protocol !== f.protocol) return false;
  if (f.scope !== undefined && r.scope !== f.scope) return false;
  if (f.type !== undefined && r.type !== f.type) return false;
  if (f.rdst && (f.rdst.bitlen > r.dstLen || !inPrefix(r.dst, f.rdst, f.rdst.bitlen))) return false;
  if (f.mdst && (f.mdst.bitlen < r.dstLen || !inPrefix(f.mdst.addr, { ...f.mdst, addr: r.dst }, r.dstLen))) return false;
  if (f.via && !(r.gateway !== 0 && inPrefix(r.gateway, f.via, f.via.bitlen))) return false;
  if (f.src && !(r.prefsrc !== 0 && inPrefix(r.prefsrc, f.src, f.src.bitlen))) return false;
  if (f.oif !== undefined && r.oif !== f.oif) return false;
  if (f.metric !== undefined && r.metric !== f.metric) return false;
  return true;
}

/**
 * The order tables come out of a dump: the kernel's table hash has 256
 * buckets (id modulo 256) and puts the newest table first in its bucket.
 */
function tableOrder(tables: readonly number[], t: number): number {
  return (t & 255) * 1e6 + (1e6 - 1 - tables.indexOf(t));
}

/** IPv4 routes in dump order. */
function sortedRoutes(tables: readonly number[], routes: readonly Route4[]): Route4[] {
  return routes
    .map((r, i) => ({ r, i }))
    .sort((x, y) => {
      const a = x.r;
      const b = y.r;
      if (a.table !== b.table) return tableOrder(tables, a.table) - tableOrder(tables, b.table);
      if (a.dst !== b.dst) return a.dst - b.dst;
      if (a.dstLen !== b.dstLen) return b.dstLen - a.dstLen;
      return x.i - y.i;
    })
    .map((x) => x.r);
}

/** print_route() for one IPv4 route. */
function routeLine(ctx: IpContext, f: RouteFilter, r: Route4): string {
  let s = '';
  if (r.type !== 'unicast') s += `${r.type} `;
  s += r.dstLen === 0 ? 'default ' : paint(ctx, COLOR.inet, r.dstLen === 32 ? `${ipText(r.dst)} ` : `${ipText(r.dst)}/${r.dstLen} `);
  if (r.gateway !== 0 && !(f.via && f.via.bitlen === 32)) s += `via ${paint(ctx, COLOR.inet, `${ipText(r.gateway)} `)}`;
  if (r.oif !== 0 && f.oif === undefined) s += `dev ${paint(ctx, COLOR.ifname, `${linkByIndex(ctx.net, r.oif)?.name ?? r.oif} `)}`;
  if (r.table !== TABLE_MAIN && f.table === 0) s += `table ${tableName(r.table)} `;
  if (r.protocol !== RTPROT_BOOT && f.protocol === undefined) s += `proto ${protoName(r.protocol)} `;
  if (r.scope !== SCOPE_UNIVERSE && f.scope === undefined) s += `scope ${scopeName(r.scope)} `;
  if (r.prefsrc !== 0 && !(f.src && f.src.bitlen === 32)) s += `src ${paint(ctx, COLOR.inet, `${ipText(r.prefsrc)} `)}`;
  if (r.metric !== 0 && f.metric === undefined) s += `metric ${r.metric} `;
  if (routeLinkdown(ctx.net, r)) s += 'linkdown ';
  return s + '\n';
}

/** The IPv6 routes that the listing selects, printed. */
function ipv6Lines(ctx: IpContext, f: RouteFilter): string {
  let s = '';
  for (const r of ipv6Routes(ctx.net)) {
    const tid = r.table === 'main' ? TABLE_MAIN : TABLE_LOCAL;
    if (f.table !== 0 && f.table !== tid) continue;
    if (f.protocol !== undefined && f.protocol !== 2) continue;
    if (f.type !== undefined && f.type !== r.type) continue;
    if (f.scope !== undefined && f.scope !== SCOPE_UNIVERSE) continue;
    if (f.rdst || f.mdst || f.via || f.src) continue;
    const dev = linkByName(ctx.net, r.dev);
    if (f.oif !== undefined && dev?.index !== f.oif) continue;
    if (f.metric !== undefined && f.metric !== r.metric) continue;
    let line = r.type !== 'unicast' ? `${r.type} ` : '';
    line += paint(ctx, COLOR.inet6, r.dstLen === 128 ? `${r.dst} ` : `${r.dst}/${r.dstLen} `);
    if (f.oif === undefined) line += `dev ${paint(ctx, COLOR.ifname, `${r.dev} `)}`;
    if (r.table !== 'main' && f.table === 0) line += `table ${r.table} `;
    if (f.protocol === undefined) line += 'proto kernel ';
    if (f.metric === undefined) line += `metric ${r.metric} `;
    if (r.linkdown) line += 'linkdown ';
    s += `${line}pref medium\n`;
  }
  return s;
}

/** iproute_list_flush_or_save() for show and flush. */
function routeList(ctx: IpContext, argv: string[], flush: boolean): number {
  const f: RouteFilter = { table: TABLE_MAIN };
  let family = ctx.family;
  let od: string | undefined;
  if (flush && argv.length <= 0) {
    eprint(ctx, '"ip route flush" requires arguments.\n');
    return -1;
  }
  const a = new Args(argv);
  while (a.left > 0) {
    const w = a.cur;
    if (matches(w, 'table') && w !== '') {
      const v = a.next(ctx);
      const t = tableFromName(v);
      if (t === undefined) {
        if (v === 'all') f.table = 0;
        else if (v === 'help') usage(ctx);
        else if (v !== 'cache') invarg(ctx, 'table id value is invalid\n', v);
      } else f.table = t;
    } else if (matches(w, 'protocol') && w !== '') {
      const v = a.next(ctx);
      const p = protoFromName(v);
      if (p === undefined) {
        if (v !== 'all') invarg(ctx, 'invalid "protocol"\n', v);
      } else f.protocol = p;
    } else if (matches(w, 'scope') && w !== '') {
      const v = a.next(ctx);
      const s = scopeFromName(v);
      if (s === undefined) {
        if (v !== 'all') invarg(ctx, 'invalid "scope"\n', v);
      } else f.scope = s;
    } else if (matches(w, 'type') && w !== '') {
      const v = a.next(ctx);
      const t = typeFromName(v);
      if (t === undefined) invarg(ctx, 'node type value is invalid\n', v);
      if (t !== 'other') f.type = t;
    } else if (w === 'dev' || w === 'oif') {
      od = a.next(ctx);
    } else if (matches(w, 'metric') || matches(w, 'priority') || w === 'preference') {
      const v = a.next(ctx);
      const n = cUnsigned(v, 0xffffffff);
      if (n === undefined) invarg(ctx, '"metric" value is invalid\n', v);
      f.metric = n;
    } else if (w === 'via') {
      f.via = getPrefix(ctx, a.next(ctx), family);
    } else if (w === 'src') {
      f.src = getPrefix(ctx, a.next(ctx), family);
    } else {
      let v = w;
      if (matches(v, 'to') && v !== '') v = a.next(ctx);
      if (matches(v, 'root') && v !== '') f.rdst = getPrefix(ctx, a.next(ctx), family);
      else if (matches(v, 'match') && v !== '') f.mdst = getPrefix(ctx, a.next(ctx), family);
      else {
        if (matches(v, 'exact') && v !== '') v = a.next(ctx);
        f.mdst = getPrefix(ctx, v, family);
        f.rdst = f.mdst;
      }
    }
    a.skip();
  }
  if (family === AF_UNSPEC && f.table !== 0) family = AF_INET;
  if (od !== undefined) {
    const l = devByName(ctx, od);
    if (!l) return nodev(ctx, od);
    f.oif = l.index;
  }
  if (family === AF_INET && f.table !== 0 && !ctx.net.tables.includes(f.table)) {
    eprint(ctx, `Error: ipv4: FIB table does not exist.\n${flush ? 'Flush' : 'Dump'} terminated\n`);
    return -2;
  }
  if (flush) {
    let n = 0;
    if (family !== AF_INET6) {
      const victims = ctx.net.routes.filter((r) => routeSelected(f, r));
      n = victims.length;
      ctx.net.routes = ctx.net.routes.filter((r) => !victims.includes(r));
    }
    if (ctx.stats > 0) {
      if (n === 0) print(ctx, 'Nothing to flush.\n');
      else print(ctx, `\n*** Round 1, deleting ${n} entries ***\n*** Flush is complete after 1 round ***\n`);
    }
    return 0;
  }
  let s = '';
  if (family !== AF_INET6) for (const r of sortedRoutes(ctx.net.tables, ctx.net.routes)) if (routeSelected(f, r)) s += routeLine(ctx, f, r);
  if (family !== AF_INET) s += ipv6Lines(ctx, f);
  print(ctx, s);
  return 0;
}

/** iproute_get(): resolves one destination and prints the route. */
function routeGet(ctx: IpContext, argv: string[]): number {
  let family = ctx.family;
  let dst: Prefix | undefined;
  let from: Prefix | undefined;
  let odev: string | undefined;
  const a = new Args(argv);
  while (a.left > 0) {
    const w = a.cur;
    if (matches(w, 'from') && w !== '') {
      const v = a.next(ctx);
      if (matches(v, 'help') && v !== '') usage(ctx);
      from = getPrefix(ctx, v, family);
      if (family === AF_UNSPEC) family = from.family;
    } else if ((matches(w, 'oif') && w !== '') || w === 'dev') {
      odev = a.next(ctx);
    } else if ((matches(w, 'iif') && w !== '') || (matches(w, 'mark') && w !== '') || w === 'tos') {
      eprint(ctx, `ip: "${w}" is not supported in this lab\n`);
      throw new IpExit(1);
    } else if (matches(w, 'connected') && w !== '') {
      // nothing to do without an input interface
    } else {
      let v = w;
      if (v === 'to') v = a.next(ctx);
      if (matches(v, 'help') && v !== '') usage(ctx);
      dst = getPrefix(ctx, v, family);
      if (family === AF_UNSPEC) family = dst.family;
      if (dst.family === AF_INET && dst.bitlen !== 32) eprint(ctx, `Warning: /${dst.bitlen} as prefix is invalid, only /32 (or none) is supported.\n`);
    }
    a.skip();
  }
  if (!dst) {
    eprint(ctx, 'need at least a destination address\n');
    return -1;
  }
  let oif = 0;
  if (odev !== undefined) {
    const l = devByName(ctx, odev);
    if (!l) return nodev(ctx, odev);
    oif = l.index;
  }
  if (family === AF_INET6) {
    eprint(ctx, 'ip: IPv6 route lookups are not supported in this lab\n');
    return -2;
  }
  const src = from?.addr ?? 0;
  const r = routeOutput(ctx.net, dst.addr, src, oif);
  if ('errno' in r) {
    reportNetError(ctx, { errno: r.errno });
    return -2;
  }
  let s = r.type !== 'unicast' ? `${r.type} ` : '';
  s += paint(ctx, COLOR.inet, `${ipText(dst.addr)} `);
  if (from) s += paint(ctx, COLOR.inet, `from ${ipText(src)} `);
  if (r.gateway !== 0) s += `via ${paint(ctx, COLOR.inet, `${ipText(r.gateway)} `)}`;
  s += `dev ${paint(ctx, COLOR.ifname, `${r.dev.name} `)}`;
  if (r.src !== src) s += `src ${paint(ctx, COLOR.inet, `${ipText(r.src)} `)}`;
  // RTCF_MULTICAST shares its bit with RTM_F_OFFLOAD_FAILED, which iproute2 names.
  if (r.multicast) s += 'rt_offload_failed ';
  s += 'uid 0 \n    cache ';
  const flags: string[] = [];
  if (r.local) flags.push('local');
  if (r.multicast) flags.push('mc');
  if (r.broadcast) flags.push('brd');
  if (flags.length > 0) s += `<${flags.join(',')}> `;
  print(ctx, s + '\n');
  return 0;
}

/** do_iproute(): dispatches `ip route ...`. */
export function doIpRoute(ctx: IpContext, argv: string[]): number {
  if (argv.length < 1) return routeList(ctx, [], false);
  const w = argv[0]!;
  const rest = argv.slice(1);
  if (matches(w, 'add')) return routeModify(ctx, rest, 'add');
  if (matches(w, 'change') || w === 'chg') return routeModify(ctx, rest, 'change');
  if (matches(w, 'replace')) return routeModify(ctx, rest, 'replace');
  if (matches(w, 'prepend')) return routeModify(ctx, rest, 'prepend');
  if (matches(w, 'append')) return routeModify(ctx, rest, 'append');
  if (matches(w, 'test')) return routeModify(ctx, rest, 'test');
  if (matches(w, 'delete')) return routeModify(ctx, rest, 'del');
  if (matches(w, 'list') || matches(w, 'show') || matches(w, 'lst')) return routeList(ctx, rest, false);
  if (matches(w, 'get')) return routeGet(ctx, rest);
  if (matches(w, 'flush')) return routeList(ctx, rest, true);
  if (matches(w, 'help')) usage(ctx);
  eprint(ctx, `Command "${w}" is unknown, try "ip route help".\n`);
  throw new IpExit(255);
}
