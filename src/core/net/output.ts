/**
 * The output route of a locally sent packet (ip_route_output_key_hash_rcu
 * and __mkroute_output): what `ip route get` shows and what a local sender
 * uses — the FIB result refined by the special addresses, the chosen source
 * address and the route flags.
 */
import { netError, type NetError } from './errors.js';
import { errorTypeErrno, fibTableLookup, isErrorType, selectSourceAddressOn } from './fib.js';
import { isLocalAddress, linkByIndex, linkOfAddress } from './state.js';
import { SCOPE_HOST, SCOPE_LINK, SCOPE_UNIVERSE, type Link, type NetState, type RouteType } from './types.js';

/** A resolved output route. */
export interface OutputRoute {
  type: RouteType;
  dst: number;
  /** Source address chosen (0 when none could be). */
  src: number;
  /** Next hop when the destination is not on the link, else 0. */
  gateway: number;
  /** Output device (lo for local destinations). */
  dev: Link;
  /** RTCF_LOCAL: delivered to this machine. */
  local: boolean;
  /** RTCF_BROADCAST. */
  broadcast: boolean;
  /** RTCF_MULTICAST. */
  multicast: boolean;
}

const LOOPBACK = 0x7f000001;

function isLbcast(a: number): boolean {
  return a === 0xffffffff;
}
function isMulticast(a: number): boolean {
  return a >>> 28 === 0xe;
}
function isLocalMulticast(a: number): boolean {
  return (a & 0xffffff00) >>> 0 === 0xe0000000;
}
function isZeronet(a: number): boolean {
  return a >>> 24 === 0;
}
function isLoopbackAddr(a: number): boolean {
  return a >>> 24 === 127;
}

function loopbackDev(net: NetState): Link {
  return net.links.find((l) => l.kind === 'loopback')!;
}

/**
 * Resolves the route a packet to `dst` would take when sent from this
 * machine, optionally from source `src` and through device index `oif`.
 */
export function routeOutput(net: NetState, dst: number, src = 0, oif = 0): OutputRoute | NetError {
  dst >>>= 0;
  src >>>= 0;
  let devOut: Link | undefined;
  if (src !== 0) {
    if (isMulticast(src) || isLbcast(src) || isZeronet(src)) return netError('EINVAL');
    if (oif === 0 && (isMulticast(dst) || isLbcast(dst))) {
      devOut = linkOfAddress(net, src);
      if (!devOut) return netError('ENETUNREACH');
      return makeRoute('unicast', dst, src, 0, devOut, 0);
    }
    if (!isLocalAddress(net, src)) return netError('ENETUNREACH');
  }
  if (oif !== 0) {
    devOut = linkByIndex(net, oif);
    if (!devOut) return netError('ENODEV');
    if (!devOut.up) return netError('ENETUNREACH');
    if (isLocalMulticast(dst) || isLbcast(dst)) {
      if (src === 0) src = selectSourceAddressOn(net, devOut, 0, SCOPE_LINK);
      return makeRoute('unicast', dst, src, 0, devOut, 0);
    }
    if (src === 0) {
      if (isMulticast(dst)) src = selectSourceAddressOn(net, devOut, 0, SCOPE_UNIVERSE);
      else if (dst === 0) src = selectSourceAddressOn(net, devOut, 0, SCOPE_HOST);
    }
  }
  if (dst === 0) {
    dst = src;
    if (dst === 0) dst = src = LOOPBACK;
    return makeRoute('local', dst, src, 0, loopbackDev(net), 0);
  }
  const r = fibTableLookup(net, dst, SCOPE_UNIVERSE, oif, false);
  if (!r) {
    if (oif !== 0 && devOut) {
      if (src === 0) src = selectSourceAddressOn(net, devOut, 0, SCOPE_LINK);
      return makeRoute('unicast', dst, src, 0, devOut, 0);
    }
    return netError('ENETUNREACH');
  }
  if (isErrorType(r.type)) return netError(errorTypeErrno(r.type));
  const dev = linkByIndex(net, r.oif);
  if (!dev) return netError('ENETUNREACH');
  if (r.type === 'local') {
    if (src === 0) src = r.prefsrc !== 0 ? r.prefsrc : dst;
    return makeRoute('local', dst, src, 0, loopbackDev(net), r.dstLen);
  }
  if (src === 0) src = r.prefsrc !== 0 ? r.prefsrc : selectSourceAddressOn(net, dev, r.gateway, r.scope);
  return makeRoute(r.type, dst, src, r.gateway, dev, r.dstLen);
}

function makeRoute(type: RouteType, dst: number, src: number, gateway: number, dev: Link, prefixlen: number): OutputRoute | NetError {
  if (isLoopbackAddr(src) && dev.kind !== 'loopback') return netError('EINVAL');
  if (isLbcast(dst)) type = 'broadcast';
  else if (isMulticast(dst)) type = 'multicast';
  else if (isZeronet(dst)) return netError('EINVAL');
  const route: OutputRoute = { type, dst, src, gateway, dev, local: dev.kind === 'loopback', broadcast: false, multicast: false };
  if (type === 'broadcast') {
    route.broadcast = true;
    route.local = true;
    route.gateway = 0;
  } else if (type === 'multicast') {
    route.multicast = true;
    // Every multicast-capable link that is up has joined 224.0.0.1.
    route.local = dst === 0xe0000001 && dev.kind !== 'dummy' && dev.up;
    if (prefixlen < 4) route.gateway = 0;
  }
  return route;
}
