/**
 * IPv4 addresses on links: adding (__inet_insert_ifa), deleting with the
 * kernel's secondary handling (__inet_del_ifa, optional promotion), and the
 * route and neighbour clean-up that follows (fib_inetaddr_event).
 */
import { netError, type NetError } from './errors.js';
import { fibAddIfaddr, fibDelIfaddr, fibSyncDownDev } from './fib.js';
import { neighFlushDev } from './neigh.js';
import { ifaMatch } from './state.js';
import type { Inet4Addr, Link, NetState } from './types.js';

/** An address to add: what `ip addr add` sends. */
export interface NewAddr4 {
  local: number;
  /** The peer, or `local` when there is none. */
  address: number;
  prefixlen: number;
  broadcast: number;
  scope: number;
  /** Label; the device name when undefined. */
  label?: string;
}

/** Which address `ip addr del` names: unset fields match any. */
export interface AddrMatch4 {
  local?: number;
  /** With `address`: the prefix length that must match too. */
  prefixlen?: number;
  address?: number;
  label?: string;
}

/** Adds an address to `link` with the kernel's ordering and checks; routes follow. */
export function addAddress4(net: NetState, link: Link, a: NewAddr4): NetError | undefined {
  if (a.prefixlen > 32) return netError('EINVAL');
  if (link.noInet) return netError('ENOBUFS');
  const ifa: Inet4Addr = {
    local: a.local >>> 0,
    address: a.address >>> 0,
    prefixlen: a.prefixlen,
    broadcast: a.broadcast >>> 0,
    scope: a.scope,
    label: a.label ?? link.name,
    secondary: false,
  };
  const list = link.inet;
  let insertAt = 0;
  for (let i = 0; i < list.length; i++) {
    const other = list[i]!;
    if (!other.secondary && ifa.scope <= other.scope) insertAt = i + 1;
    if (other.prefixlen === ifa.prefixlen && ifaMatch(other.address, ifa)) {
      if (other.local === ifa.local) return netError('EEXIST', 'ipv4: Address already assigned');
      if (other.scope !== ifa.scope) return netError('EINVAL', 'ipv4: Invalid scope value');
      ifa.secondary = true;
    }
  }
  if (ifa.secondary) list.push(ifa);
  else list.splice(insertAt, 0, ifa);
  fibAddIfaddr(net, link, ifa);
  return undefined;
}

/** Deletes the first address matching `m` (inet_rtm_deladdr). */
export function deleteAddress4(net: NetState, link: Link, m: AddrMatch4): NetError | undefined {
  for (const ifa of link.inet) {
    if (m.local !== undefined && ifa.local !== m.local >>> 0) continue;
    if (m.label !== undefined && ifa.label !== m.label) continue;
    if (m.address !== undefined && (m.prefixlen !== ifa.prefixlen || !ifaMatch(m.address >>> 0, ifa))) continue;
    removeAddress4(net, link, ifa);
    return undefined;
  }
  return netError('EADDRNOTAVAIL', 'ipv4: Address not found');
}

function promotes(net: NetState, link: Link): boolean {
  const s = net.sysctl;
  return s['net.ipv4.conf.all.promote_secondaries'] !== '0' || (s[`net.ipv4.conf.${link.name}.promote_secondaries`] ?? '0') !== '0';
}

/** The notifier side of an address going away (fib_inetaddr_event NETDEV_DOWN). */
function addressGone(net: NetState, link: Link, ifa: Inet4Addr): void {
  fibDelIfaddr(net, link, ifa, undefined, false);
  if (link.inet.length === 0) {
    fibSyncDownDev(net, link, true);
    neighFlushDev(net, link.index, true);
  }
}

/**
 * Removes `ifa` from `link` as __inet_del_ifa does: a primary takes the
 * secondaries of its subnet with it, or, with promote_secondaries, the first
 * of them becomes the primary.
 */
export function removeAddress4(net: NetState, link: Link, ifa1: Inet4Addr): void {
  const list = link.inet;
  const doPromote = promotes(net, link);
  let promote: Inet4Addr | undefined;
  let prevProm: Inet4Addr | undefined;
  let lastPrim: Inet4Addr | undefined;
  if (!ifa1.secondary) {
    let j = list.indexOf(ifa1) + 1;
    while (j < list.length) {
      const ifa = list[j]!;
      if (!ifa.secondary && ifa1.scope <= ifa.scope) lastPrim = ifa;
      if (!ifa.secondary || ifa1.prefixlen !== ifa.prefixlen || !ifaMatch(ifa1.address, ifa)) {
        prevProm = ifa;
        j++;
        continue;
      }
      if (!doPromote) {
        list.splice(j, 1);
        addressGone(net, link, ifa);
        continue;
      }
      promote = ifa;
      break;
    }
  }
  if (promote) {
    for (let j = list.indexOf(promote); j < list.length; j++) {
      const ifa = list[j]!;
      if (ifa1.prefixlen === ifa.prefixlen && ifaMatch(ifa1.address, ifa)) fibDelIfaddr(net, link, ifa, ifa1, false);
    }
  }
  const pos = list.indexOf(ifa1);
  list.splice(pos, 1);
  addressGone(net, link, ifa1);
  if (promote) {
    const promIdx = list.indexOf(promote);
    const nextSec = list.slice(promIdx + 1);
    if (prevProm) {
      list.splice(promIdx, 1);
      const at = lastPrim ? list.indexOf(lastPrim) + 1 : pos;
      list.splice(at, 0, promote);
    }
    promote.secondary = false;
    fibAddIfaddr(net, link, promote);
    for (const ifa of nextSec) {
      if (ifa1.prefixlen !== ifa.prefixlen || !ifaMatch(ifa1.address, ifa)) continue;
      fibAddIfaddr(net, link, ifa);
    }
  }
}

/** Removes every IPv4 address of a link that is being deleted (inetdev_destroy). */
export function destroyAddresses4(net: NetState, link: Link): void {
  while (link.inet.length > 0) {
    const ifa = link.inet.shift()!;
    fibDelIfaddr(net, link, ifa, undefined, true);
  }
}
