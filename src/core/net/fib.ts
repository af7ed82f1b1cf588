/**
 * The IPv4 forwarding information base: inserting, replacing and deleting
 * routes with the kernel's rules (fib_table_insert/fib_table_delete and the
 * checks of fib_create_info), the routes the kernel derives from addresses
 * (fib_add_ifaddr/fib_del_ifaddr), the clean-ups when links go down or
 * addresses vanish, and lookups.
 *
 * Without policy rules the kernel keeps the local and main tables in one
 * trie, so a lookup is a longest-prefix match over both; among routes of the
 * same prefix the local table's come first.
 */
import { netError, type NetError } from './errors.js';
import { ifaMatch, linkByIndex, maskOf } from './state.js';
import {
  SCOPE_HOST,
  SCOPE_LINK,
  SCOPE_NOWHERE,
  SCOPE_UNIVERSE,
  TABLE_LOCAL,
  TABLE_MAIN,
  type Inet4Addr,
  type Link,
  type NetState,
  type Route4,
  type RouteType,
} from './types.js';

/** The masks of prefix lengths 0..32. */
const MASKS: readonly number[] = Array.from({ length: 33 }, (_, n) => maskOf(n));

/** Route protocol "kernel": routes the kernel made from addresses. */
export const RTPROT_KERNEL = 2;
/** Route protocol "boot": the default of `ip route add`. */
export const RTPROT_BOOT = 3;

/** How a route is inserted (netlink flags of RTM_NEWROUTE). */
export interface InsertFlags {
  create: boolean;
  excl: boolean;
  replace: boolean;
  append: boolean;
}

/** Which route to delete: unset fields match anything. */
export interface RouteMatch {
  table: number;
  dst: number;
  dstLen: number;
  type?: RouteType;
  /** SCOPE_NOWHERE matches any scope. */
  scope: number;
  prefsrc?: number;
  protocol?: number;
  metric?: number;
  oif?: number;
  gateway?: number;
}

/** The minimum scope each route type may have (fib_props). */
const TYPE_SCOPE: Record<RouteType, number> = {
  unicast: SCOPE_UNIVERSE,
  local: SCOPE_HOST,
  broadcast: SCOPE_LINK,
  multicast: SCOPE_UNIVERSE,
  unreachable: SCOPE_UNIVERSE,
  blackhole: SCOPE_UNIVERSE,
  prohibit: SCOPE_UNIVERSE,
};

/** True for the route types that make a lookup fail. */
export function isErrorType(t: RouteType): boolean {
  return t === 'unreachable' || t === 'blackhole' || t === 'prohibit';
}

/** The errno a lookup returns when it lands on an error route. */
export function errorTypeErrno(t: RouteType): 'EHOSTUNREACH' | 'EINVAL' | 'EACCES' {
  return t === 'unreachable' ? 'EHOSTUNREACH' : t === 'blackhole' ? 'EINVAL' : 'EACCES';
}

function validKey(dst: number, dstLen: number): NetError | undefined {
  if (dstLen > 32) return netError('EINVAL', 'Invalid prefix length');
  if (dstLen < 32 && ((dst << dstLen) >>> 0) !== 0) return netError('EINVAL', 'Invalid prefix for given prefix length');
  return undefined;
}

/** Route identity as the kernel shares fib_info: everything but type and position. */
function sameInfo(a: Route4, b: Route4): boolean {
  return (
    a.protocol === b.protocol &&
    a.scope === b.scope &&
    a.prefsrc === b.prefsrc &&
    a.metric === b.metric &&
    a.gateway === b.gateway &&
    a.oif === b.oif
  );
}

function sameKey(r: Route4, table: number, dst: number, dstLen: number): boolean {
  return r.table === table && r.dst === dst && r.dstLen === dstLen;
}

/** Whether a route's nexthop has lost its carrier (shown as "linkdown"). */
export function routeLinkdown(net: NetState, r: Route4): boolean {
  if (r.oif === 0 || r.scope === SCOPE_HOST) return false;
  const dev = linkByIndex(net, r.oif);
  return dev !== undefined && !(dev.up && dev.carrier);
}

/**
 * The route type of `addr` (inet_addr_type): broadcast for 0.0.0.0 and
 * 255.255.255.255, multicast for 224.0.0.0/4, else the type of the route the
 * local/main trie gives, unicast when none matches.
 */
export function inetAddrType(net: NetState, addr: number): RouteType {
  if (addr === 0 || addr === 0xffffffff) return 'broadcast';
  if (addr >>> 28 === 0xe) return 'multicast';
  const r = fibTableLookup(net, addr, SCOPE_UNIVERSE, 0, true);
  return r ? r.type : 'unicast';
}

/**
 * fib_table_lookup on the merged local/main trie: the best route for `dst`
 * whose scope is at least `flowScope` and, when `oif` is set, whose device is
 * `oif`. Error routes match whatever the device.
 */
export function fibTableLookup(
  net: NetState,
  dst: number,
  flowScope: number,
  oif: number,
  ignoreLinkstate: boolean,
): Route4 | undefined {
  const routes = net.routes;
  let best: Route4 | undefined;
  let bestLen = -1;
  let bestLocal = false;
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    const len = r.dstLen;
    if (len < bestLen) continue;
    if (((dst & MASKS[len]!) >>> 0) !== r.dst) continue;
    if (r.table !== TABLE_MAIN && r.table !== TABLE_LOCAL) continue;
    const isLocal = r.table === TABLE_LOCAL;
    if (len === bestLen && (bestLocal || !isLocal)) continue;
    if (r.scope < flowScope) continue;
    if (!isErrorType(r.type)) {
      if (oif !== 0 && r.oif !== oif) continue;
      if (!ignoreLinkstate && ignoresLinkdown(net, r) && routeLinkdown(net, r)) continue;
    }
    best = r;
    bestLen = len;
    bestLocal = isLocal;
  }
  return best;
}

function ignoresLinkdown(net: NetState, r: Route4): boolean {
  if (net.sysctl['net.ipv4.conf.all.ignore_routes_with_linkdown'] !== '0') return true;
  const dev = linkByIndex(net, r.oif);
  return dev !== undefined && net.sysctl[`net.ipv4.conf.${dev.name}.ignore_routes_with_linkdown`] !== '0';
}

/**
 * Checks a new route and resolves its nexthop as fib_create_info does;
 * returns the route to insert or the error.
 */
function createInfo(net: NetState, r: Route4): Route4 | NetError {
  if (TYPE_SCOPE[r.type] > r.scope) return netError('EINVAL', 'Invalid scope');
  if (isErrorType(r.type)) {
    if (r.gateway !== 0 || r.oif !== 0) {
      return netError('EINVAL', 'Gateway, device and multipath can not be specified for this route type');
    }
    return r;
  }
  if (r.scope > SCOPE_HOST) return netError('EINVAL', 'Invalid scope');
  let route = r;
  if (r.scope === SCOPE_HOST) {
    if (r.gateway !== 0) return netError('EINVAL', 'Route with host scope can not have a gateway');
    if (r.oif === 0 || !linkByIndex(net, r.oif)) return netError('ENODEV');
  } else if (r.gateway !== 0) {
    let flowScope = r.scope + 1;
    if (flowScope < SCOPE_LINK) flowScope = SCOPE_LINK;
    let gw: Route4 | undefined;
    if (r.table !== TABLE_MAIN && r.table !== TABLE_LOCAL) gw = tableLookup(net, r.table, r.gateway, flowScope, r.oif);
    if (!gw) gw = fibTableLookup(net, r.gateway, flowScope, r.oif, true);
    if (!gw || isErrorType(gw.type) || (gw.type !== 'unicast' && gw.type !== 'local')) {
      return netError('EINVAL', 'Nexthop has invalid gateway');
    }
    const dev = linkByIndex(net, gw.oif);
    if (!dev) return netError('EINVAL', 'No egress device for nexthop gateway');
    if (!dev.up) return netError('ENETDOWN');
    route = { ...r, oif: dev.index };
  } else {
    const dev = linkByIndex(net, r.oif);
    if (!dev || dev.noInet) return netError('ENODEV');
    if (!dev.up) return netError('ENETDOWN', 'Device for nexthop is not up');
  }
  if (route.prefsrc !== 0 && !validPrefsrc(net, route)) return netError('EINVAL', 'Invalid prefsrc address');
  return route;
}

/** Lookup in one table that is not part of the local/main trie. */
function tableLookup(net: NetState, table: number, dst: number, flowScope: number, oif: number): Route4 | undefined {
  let best: Route4 | undefined;
  for (const r of net.routes) {
    if (r.table !== table) continue;
    if (best && r.dstLen <= best.dstLen) continue;
    if (((dst & maskOf(r.dstLen)) >>> 0) !== r.dst) continue;
    if (r.scope < flowScope) continue;
    if (!isErrorType(r.type) && oif !== 0 && r.oif !== oif) continue;
    best = r;
  }
  return best;
}

function validPrefsrc(net: NetState, r: Route4): boolean {
  if (r.type === 'local' && r.dst !== 0 && r.dst === r.prefsrc) return true;
  return inetAddrType(net, r.prefsrc) === 'local';
}

/**
 * Inserts a route with the kernel's rules: a same-metric route of the same
 * prefix makes `excl` fail; `replace` replaces the first of them; `append`
 * goes after them, otherwise before; an identical route is EEXIST.
 */
export function routeInsert(net: NetState, spec: Route4, flags: InsertFlags): NetError | undefined {
  // inet_rtm_newroute creates the table before it tries the insert
  if (!net.tables.includes(spec.table)) net.tables.push(spec.table);
  const keyErr = validKey(spec.dst, spec.dstLen);
  if (keyErr) return keyErr;
  const made = createInfo(net, spec);
  if ('errno' in made) return made;
  const route = made;
  const routes = net.routes;
  const { table, dst, dstLen, metric } = route;
  // First route of the group with a metric >= ours (fib_find_alias).
  let fa = -1;
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    if (sameKey(r, table, dst, dstLen) && r.metric >= metric) {
      fa = i;
      break;
    }
  }
  if (fa >= 0 && routes[fa]!.metric === metric) {
    if (flags.excl) return netError('EEXIST');
    let last = fa;
    let match = -1;
    for (let i = fa; i < routes.length; i++) {
      const r = routes[i]!;
      if (!sameKey(r, table, dst, dstLen)) continue;
      if (r.metric !== metric) break;
      last = i;
      if (match < 0 && r.type === route.type && sameInfo(r, route)) match = i;
    }
    if (flags.replace) {
      if (match >= 0) return match === fa ? undefined : netError('EEXIST');
      routes[fa] = route;
      return undefined;
    }
    if (match >= 0) return netError('EEXIST');
    if (!flags.create) return netError('ENOENT');
    routes.splice(flags.append ? last + 1 : fa, 0, route);
    return undefined;
  }
  if (!flags.create) return netError('ENOENT');
  if (fa >= 0) routes.splice(fa, 0, route);
  else routes.push(route);
  return undefined;
}

/** Deletes the first route matching `m` (fib_table_delete); ESRCH when there is none. */
export function routeDelete(net: NetState, m: RouteMatch): NetError | undefined {
  if (!net.tables.includes(m.table)) return netError('ESRCH', 'FIB table does not exist');
  const keyErr = validKey(m.dst, m.dstLen);
  if (keyErr) return keyErr;
  const routes = net.routes;
  for (let i = 0; i < routes.length; i++) {
    const r = routes[i]!;
    if (r.table !== m.table) continue;
    if (r.dst !== m.dst || r.dstLen !== m.dstLen) continue;
    if (m.type !== undefined && r.type !== m.type) continue;
    if (m.scope !== SCOPE_NOWHERE && r.scope !== m.scope) continue;
    if (m.prefsrc && r.prefsrc !== m.prefsrc) continue;
    if (m.protocol && r.protocol !== m.protocol) continue;
    if (m.metric && r.metric !== m.metric) continue;
    if (m.oif && r.oif !== m.oif) continue;
    if (m.gateway !== undefined && m.gateway !== 0 && r.gateway !== m.gateway) continue;
    routes.splice(i, 1);
    return undefined;
  }
  return netError('ESRCH');
}

// ---------------------------------------------------------------------------
// Routes derived from addresses

function magic(net: NetState, add: boolean, type: RouteType, dst: number, dstLen: number, link: Link, prim: Inet4Addr): void {
  const table = type === 'unicast' ? TABLE_MAIN : TABLE_LOCAL;
  const scope = type === 'local' ? SCOPE_HOST : SCOPE_LINK;
  if (add) {
    const route: Route4 = {
      table,
      type,
      dst,
      dstLen,
      metric: 0,
      protocol: RTPROT_KERNEL,
      scope,
      prefsrc: prim.local,
      gateway: 0,
      oif: link.index,
    };
    routeInsert(net, route, { create: true, excl: false, replace: false, append: true });
  } else {
    routeDelete(net, { table, dst, dstLen, type, scope, prefsrc: prim.local, protocol: RTPROT_KERNEL, oif: link.index });
  }
}

function isZeronet(a: number): boolean {
  return a >>> 24 === 0;
}

/** The first address of `link` in the subnet prefix/prefixlen (inet_ifa_byprefix). */
export function ifaByPrefix(link: Link, prefix: number, prefixlen: number): Inet4Addr | undefined {
  for (const a of link.inet) if (a.prefixlen === prefixlen && ifaMatch(prefix, a)) return a;
  return undefined;
}

/** Adds the routes an address brings (fib_add_ifaddr). */
export function fibAddIfaddr(net: NetState, link: Link, ifa: Inet4Addr): void {
  const mask = maskOf(ifa.prefixlen);
  const prefix = (ifa.address & mask) >>> 0;
  let prim = ifa;
  if (ifa.secondary) {
    const p = ifaByPrefix(link, prefix, ifa.prefixlen);
    if (!p) return;
    prim = p;
  }
  magic(net, true, 'local', ifa.local, 32, link, prim);
  if (!link.up) return;
  if (ifa.broadcast !== 0 && ifa.broadcast !== 0xffffffff) magic(net, true, 'broadcast', ifa.broadcast, 32, link, prim);
  if (!isZeronet(prefix) && !ifa.secondary && (prefix !== ifa.local || ifa.prefixlen < 32)) {
    magic(net, true, link.kind === 'loopback' ? 'local' : 'unicast', prefix, ifa.prefixlen, link, prim);
    if (ifa.prefixlen < 31) magic(net, true, 'broadcast', (prefix | ~mask) >>> 0, 32, link, prim);
  }
}

/**
 * Removes the routes of a vanishing address unless another address still
 * needs them (fib_del_ifaddr). `iprim` is the primary being replaced during
 * a promotion; `dead` is set while the whole link is being removed.
 */
export function fibDelIfaddr(net: NetState, link: Link, ifa: Inet4Addr, iprim: Inet4Addr | undefined, dead: boolean): void {
  const mask = maskOf(ifa.prefixlen);
  const brd = (ifa.address | ~mask) >>> 0;
  const any = (ifa.address & mask) >>> 0;
  const LOCAL_OK = 1;
  const BRD_OK = 2;
  const BRD0_OK = 4;
  const BRD1_OK = 8;
  let ok = 0;
  let subnet = false;
  let gone = true;
  let sameSrc = false;
  let prim = ifa;
  if (ifa.secondary) {
    const p = ifaByPrefix(link, any, ifa.prefixlen);
    if (!p) return;
    if (iprim && iprim !== p) return;
    prim = p;
  } else if (!isZeronet(any) && (any !== ifa.local || ifa.prefixlen < 32)) {
    magic(net, false, link.kind === 'loopback' ? 'local' : 'unicast', any, ifa.prefixlen, link, prim);
    subnet = true;
  }
  if (!dead) {
    let prim1: Inet4Addr | undefined;
    for (const ifa1 of link.inet) {
      if (ifa1 === ifa) {
        gone = false;
        continue;
      }
      if (iprim && ifa1.prefixlen === iprim.prefixlen && ifaMatch(ifa1.address, iprim)) continue;
      if (ifa1.secondary) {
        if (ifa1.prefixlen === prim.prefixlen && ifaMatch(ifa1.address, prim)) {
          prim1 = prim;
        } else {
          if (!sameSrc) continue;
          if (!prim1 || ifa1.prefixlen !== prim1.prefixlen || !ifaMatch(ifa1.address, prim1)) {
            prim1 = ifaByPrefix(link, ifa1.address, ifa1.prefixlen);
          }
          if (!prim1) continue;
          if (prim1.local !== prim.local) continue;
        }
      } else {
        if (prim.local !== ifa1.local) continue;
        prim1 = ifa1;
        if (prim !== prim1) sameSrc = true;
      }
      if (ifa.local === ifa1.local) ok |= LOCAL_OK;
      if (ifa.broadcast === ifa1.broadcast) ok |= BRD_OK;
      if (brd === ifa1.broadcast) ok |= BRD1_OK;
      if (any === ifa1.broadcast) ok |= BRD0_OK;
      if (prim1 === ifa1 && ifa1.prefixlen < 31) {
        const m1 = maskOf(ifa1.prefixlen);
        const brd1 = (ifa1.address | ~m1) >>> 0;
        const any1 = (ifa1.address & m1) >>> 0;
        if (!isZeronet(any1)) {
          if (ifa.broadcast === brd1 || ifa.broadcast === any1) ok |= BRD_OK;
          if (brd === brd1 || brd === any1) ok |= BRD1_OK;
          if (any === brd1 || any === any1) ok |= BRD0_OK;
        }
      }
    }
  }
  if (!(ok & BRD_OK)) magic(net, false, 'broadcast', ifa.broadcast, 32, link, prim);
  if (subnet && ifa.prefixlen < 31) {
    if (!(ok & BRD1_OK)) magic(net, false, 'broadcast', brd, 32, link, prim);
    if (!(ok & BRD0_OK)) magic(net, false, 'broadcast', any, 32, link, prim);
  }
  if (!(ok & LOCAL_OK)) {
    magic(net, false, 'local', ifa.local, 32, link, prim);
    if (gone && addrTypeDev(net, link, ifa.local) !== 'local') fibSyncDownAddr(net, ifa.local);
  }
}

/** inet_addr_type_dev_table: the type of `addr`'s route when it goes through `link`. */
function addrTypeDev(net: NetState, link: Link, addr: number): RouteType {
  if (addr === 0 || addr === 0xffffffff) return 'broadcast';
  if (addr >>> 28 === 0xe) return 'multicast';
  const r = fibTableLookup(net, addr, SCOPE_UNIVERSE, 0, true);
  if (!r) return 'unicast';
  return r.oif === link.index || isErrorType(r.type) ? r.type : 'unicast';
}

/** Removes the main-table routes whose preferred source was `addr` (fib_sync_down_addr). */
export function fibSyncDownAddr(net: NetState, addr: number): void {
  if (addr === 0) return;
  net.routes = net.routes.filter((r) => !(r.table === TABLE_MAIN && r.prefsrc === addr));
}

/**
 * Removes the routes through `link` when it goes down (fib_sync_down_dev):
 * all of them with `force`, else all but the host-scope ones.
 */
export function fibSyncDownDev(net: NetState, link: Link, force: boolean): void {
  net.routes = net.routes.filter((r) => !(r.oif === link.index && (force || r.scope !== SCOPE_HOST)));
}

// ---------------------------------------------------------------------------
// Lookups

/** The result of fibLookup. */
export interface FibResult {
  /** Route type; 'unreachable' also when no route matches. */
  type: RouteType;
  /** The output device's name ("" for unreachable/blackhole/prohibit). */
  dev: string;
  /** The gateway, 0 when the destination is on the link. */
  gateway: number;
  /** The source address the kernel would use for this route (0 when none). */
  prefsrc: number;
}

/**
 * The kernel's route lookup for `dst` (fib_lookup without policy rules):
 * longest prefix over the local and main tables, lowest metric first among
 * equal prefixes, optionally restricted to output device `oif`; 'unreachable'
 * when nothing matches. `src` only fills `prefsrc` when given.
 */
export function fibLookup(net: NetState, dst: number, src?: number, oif?: string): FibResult {
  let oifIndex = 0;
  if (oif !== undefined && oif !== '') {
    const l = net.links.find((x) => x.name === oif);
    if (!l) return { type: 'unreachable', dev: '', gateway: 0, prefsrc: 0 };
    oifIndex = l.index;
  }
  const r = fibTableLookup(net, dst >>> 0, SCOPE_UNIVERSE, oifIndex, false);
  if (!r) return { type: 'unreachable', dev: '', gateway: 0, prefsrc: 0 };
  if (isErrorType(r.type)) return { type: r.type, dev: '', gateway: 0, prefsrc: 0 };
  const link = linkByIndex(net, r.oif);
  const name = link ? link.name : '';
  let prefsrc = src ?? 0;
  if (!prefsrc) {
    if (r.type === 'local') prefsrc = r.prefsrc || dst >>> 0;
    else prefsrc = r.prefsrc || (link ? selectSourceAddressOn(net, link, r.gateway, r.scope) : 0);
  }
  return { type: r.type, dev: name, gateway: r.gateway, prefsrc };
}

/**
 * The source address for talking to `dst` through `dev` at most `scope`
 * wide (inet_select_addr): the device's first primary address in dst's
 * subnet, else its first primary, else the first suitable address of any
 * device, loopback first. 0 when there is none.
 */
export function selectSourceAddress(net: NetState, dev: string, dst: number, scope: number): number {
  const link = net.links.find((l) => l.name === dev);
  if (!link) return 0;
  return selectSourceAddressOn(net, link, dst, scope);
}

function routeLocalnet(net: NetState, link: Link): boolean {
  const all = net.sysctl['net.ipv4.conf.all.route_localnet'];
  const dev = net.sysctl[`net.ipv4.conf.${link.name}.route_localnet`];
  return (all !== undefined && all !== '0') || (dev !== undefined && dev !== '0');
}

/** inet_select_addr on a link object. */
export function selectSourceAddressOn(net: NetState, link: Link, dst: number, scope: number): number {
  let localnetScope = -1;
  let addr = 0;
  const inet = link.inet;
  for (let i = 0; i < inet.length; i++) {
    const ifa = inet[i]!;
    if (ifa.secondary) continue;
    if (ifa.scope > scope) {
      // route_localnet lets host-scoped addresses serve as link-scoped ones
      if (localnetScope < 0) localnetScope = routeLocalnet(net, link) ? SCOPE_LINK : SCOPE_HOST;
      if (Math.min(ifa.scope, localnetScope) > scope) continue;
    }
    if (dst === 0 || ifaMatch(dst, ifa)) return ifa.local;
    if (addr === 0) addr = ifa.local;
  }
  if (addr !== 0) return addr;
  for (const l of net.links) {
    for (const ifa of l.inet) {
      if (!ifa.secondary && ifa.scope !== SCOPE_LINK && ifa.scope <= scope) return ifa.local;
    }
  }
  return 0;
}
