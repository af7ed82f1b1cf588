/**
 * The IPv4 neighbour (ARP) table: what `ip neigh add/replace/change/del`
 * do (neigh_add, neigh_delete, __neigh_update), the flushes the kernel
 * performs when links go down or lose carrier, and lookups for the packet
 * path. Entries of a loopback device are keyed by 0.0.0.0, as the kernel
 * keys them.
 */
import { netError, type NetError } from './errors.js';
import { inetAddrType } from './fib.js';
import { linkByIndex, linkByName } from './state.js';
import type { Neigh, NetState, NudState } from './types.js';

/** States in which the link-layer address is known (NUD_VALID). */
const VALID: ReadonlySet<NudState> = new Set<NudState>(['permanent', 'noarp', 'reachable', 'probe', 'stale', 'delay']);

/** True when a state carries a usable link-layer address. */
export function nudValid(state: NudState): boolean {
  return VALID.has(state);
}

/** How an update is requested (netlink flags of RTM_NEWNEIGH). */
export interface NeighFlags {
  create: boolean;
  excl: boolean;
  replace: boolean;
}

function find(net: NetState, dev: number, key: number): Neigh | undefined {
  for (const n of net.neigh) if (n.dev === dev && n.ip === key) return n;
  return undefined;
}

/** The state and address a new entry starts with (arp_constructor). */
function initialEntry(net: NetState, dev: number, ip: number): Neigh {
  const link = linkByIndex(net, dev);
  if (link && (link.kind === 'loopback' || link.kind === 'dummy')) {
    return { dev, ip: link.kind === 'loopback' ? 0 : ip, mac: link.mac, state: 'noarp' };
  }
  const type = inetAddrType(net, ip);
  if (type === 'broadcast') return { dev, ip, mac: 'ff:ff:ff:ff:ff:ff', state: 'noarp' };
  if (type === 'multicast') {
    const hex = (v: number): string => v.toString(16).padStart(2, '0');
    return { dev, ip, mac: `01:00:5e:${hex((ip >>> 16) & 0x7f)}:${hex((ip >>> 8) & 255)}:${hex(ip & 255)}`, state: 'noarp' };
  }
  return { dev, ip, state: 'none' };
}

/**
 * Adds or updates an entry (neigh_add): EEXIST with `excl` when it exists,
 * ENOENT without `create` when it does not; a valid state needs an address
 * unless the entry already has one. On a loopback device every address
 * lands in the one entry keyed 0.0.0.0, which a lookup by address never finds.
 */
export function neighAdd(net: NetState, dev: number, ip: number, mac: string | undefined, state: NudState, flags: NeighFlags): NetError | undefined {
  ip >>>= 0;
  // A DELAY entry's timer fires at once and turns it into PROBE.
  if (state === 'delay') state = 'probe';
  let n = find(net, dev, ip);
  if (!n) {
    if (!flags.create) return netError('ENOENT');
    const fresh = initialEntry(net, dev, ip);
    n = find(net, dev, fresh.ip);
    if (!n) {
      n = fresh;
      net.neigh.push(n);
    }
  } else if (flags.excl) {
    return netError('EEXIST');
  }
  if (!VALID.has(state)) {
    n.state = state;
    return undefined;
  }
  if (mac === undefined) {
    if (!VALID.has(n.state) || n.mac === undefined) return netError('EINVAL', 'No link layer address given');
    mac = n.mac;
  }
  n.mac = mac;
  n.state = state;
  return undefined;
}

/** Deletes an entry (neigh_delete); ENOENT when there is none. */
export function neighDelete(net: NetState, dev: number, ip: number): NetError | undefined {
  const i = net.neigh.findIndex((n) => n.dev === dev && n.ip === ip >>> 0);
  if (i < 0) return netError('ENOENT');
  net.neigh.splice(i, 1);
  return undefined;
}

/**
 * Removes the entries of a device: all of them (the device went down or lost
 * its last address), or all but the permanent ones (carrier lost).
 */
export function neighFlushDev(net: NetState, dev: number, includePermanent: boolean): void {
  net.neigh = net.neigh.filter((n) => !(n.dev === dev && (includePermanent || n.state !== 'permanent')));
}

/** The link-layer address of neighbour `ip` on link `dev`, when it is known. */
export function neighLookup(net: NetState, dev: string, ip: number): string | undefined {
  const link = linkByName(net, dev);
  if (!link) return undefined;
  const key = link.kind === 'loopback' ? 0 : ip >>> 0;
  for (const n of net.neigh) if (n.dev === link.index && n.ip === key) return VALID.has(n.state) ? n.mac : undefined;
  return undefined;
}

/**
 * Records what the packet path learned (an ARP reply or request): creates or
 * updates the entry unless it is permanent or noarp.
 */
export function neighLearn(net: NetState, dev: string, ip: number, mac: string, state: NudState = 'reachable'): void {
  const link = linkByName(net, dev);
  if (!link) return;
  const key = link.kind === 'loopback' ? 0 : ip >>> 0;
  const n = find(net, link.index, key);
  if (!n) {
    net.neigh.push({ dev: link.index, ip: key, mac, state });
    return;
  }
  if (n.state === 'permanent' || n.state === 'noarp') return;
  n.mac = mac;
  n.state = state;
}
