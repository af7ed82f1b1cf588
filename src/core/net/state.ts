/**
 * Creating and reading a NetState: the fresh namespace, link and address
 * lookups, and the flags and operational state the kernel reports for a
 * link (what `ip link` prints).
 */
import { initialSysctls } from './sysctl.js';
import type { Inet4Addr, Link, NetState } from './types.js';

/** IFF_* flag bits as in <linux/if.h>. */
export const IFF_UP = 0x1;
/** The link has a broadcast address. */
export const IFF_BROADCAST = 0x2;
/** The link is a loopback. */
export const IFF_LOOPBACK = 0x8;
/** Operational state is UP or UNKNOWN. */
export const IFF_RUNNING = 0x40;
/** No ARP on this link. */
export const IFF_NOARP = 0x80;
/** The link supports multicast. */
export const IFF_MULTICAST = 0x1000;
/** The lower layer (carrier) is up. */
export const IFF_LOWER_UP = 0x10000;

/** The loopback device of a fresh namespace: index 1, down, no addresses. */
function loopback(): Link {
  return {
    index: 1,
    name: 'lo',
    kind: 'loopback',
    mac: '00:00:00:00:00:00',
    macSet: false,
    mtu: 65536,
    up: false,
    carrier: true,
    everUp: false,
    txqlen: 1000,
    group: 0,
    inet: [],
    inet6: [],
    v6Ready: 0,
    carrierChanges: 0,
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
  };
}

/**
 * A fresh network namespace, as `ip netns add` makes it: only `lo`, down,
 * without addresses or routes, the kernel's default sysctls.
 */
export function emptyNetState(): NetState {
  return {
    links: [loopback()],
    nextIfindex: 2,
    macCounter: 0,
    v6Counter: 0,
    routes: [],
    tables: [254, 255],
    neigh: [],
    sysctl: initialSysctls(),
    sysctlSet: {},
  };
}

/**
 * Fills in fields that states saved by earlier versions lack (the list of
 * routing tables, carrier transition counts); returns the same object.
 */
export function normalizeNetState(net: NetState): NetState {
  if (!Array.isArray(net.tables)) {
    const ids = [254, 255];
    for (const r of net.routes) if (!ids.includes(r.table)) ids.push(r.table);
    net.tables = ids;
  }
  for (const l of net.links) if (typeof l.carrierChanges !== 'number') l.carrierChanges = 0;
  return net;
}

/** A deep copy that shares nothing with `net`. */
export function cloneNetState(net: NetState): NetState {
  return normalizeNetState(structuredClone(net));
}

/** The link called `name`, or undefined. */
export function linkByName(net: NetState, name: string): Link | undefined {
  const links = net.links;
  for (let i = 0; i < links.length; i++) if (links[i]!.name === name) return links[i];
  return undefined;
}

/** The link with interface index `index`, or undefined. */
export function linkByIndex(net: NetState, index: number): Link | undefined {
  const links = net.links;
  for (let i = 0; i < links.length; i++) if (links[i]!.index === index) return links[i];
  return undefined;
}

/** The name of the link with interface index `index` ("" when there is none). */
export function linkName(net: NetState, index: number): string {
  return linkByIndex(net, index)?.name ?? '';
}

/** The IPv4 addresses of link `dev`, in the kernel's order (empty for an unknown link). */
export function addressesOf(net: NetState, dev: string): readonly Inet4Addr[] {
  return linkByName(net, dev)?.inet ?? [];
}

/**
 * True when `addr` is an IPv4 address of one of the machine's links,
 * whatever the link's state (the kernel's __ip_dev_find).
 */
export function isLocalAddress(net: NetState, addr: number): boolean {
  const links = net.links;
  for (let i = 0; i < links.length; i++) {
    const inet = links[i]!.inet;
    for (let j = 0; j < inet.length; j++) if (inet[j]!.local === addr) return true;
  }
  return false;
}

/** The link owning IPv4 address `addr`, or undefined. */
export function linkOfAddress(net: NetState, addr: number): Link | undefined {
  for (const link of net.links) for (const a of link.inet) if (a.local === addr) return link;
  return undefined;
}

/** The mask of a prefix length, as an unsigned number. */
export function maskOf(prefixlen: number): number {
  return prefixlen === 0 ? 0 : (0xffffffff << (32 - prefixlen)) >>> 0;
}

/** Whether `addr` is in the subnet of `ifa` (inet_ifa_match). */
export function ifaMatch(addr: number, ifa: Inet4Addr): boolean {
  const m = maskOf(ifa.prefixlen);
  return ((addr ^ ifa.address) & m) === 0;
}

/**
 * The operational state (RFC 2863) the kernel reports: DOWN while the link is
 * administratively down; UNKNOWN for drivers that never report carrier
 * (loopback, dummy); UP or a down state from the carrier otherwise.
 */
export function operState(net: NetState, link: Link): 'UNKNOWN' | 'DOWN' | 'LOWERLAYERDOWN' | 'UP' {
  if (!link.up) return 'DOWN';
  if (link.kind === 'loopback' || link.kind === 'dummy') return 'UNKNOWN';
  if (link.carrier) return 'UP';
  if (link.kind === 'veth') {
    if (link.operLower !== undefined) return link.operLower ? 'LOWERLAYERDOWN' : 'DOWN';
    if (link.peerNetns !== undefined) {
      // default_operstate looks the other end's index up in this namespace
      const same = link.peer !== undefined && link.peer !== link.index ? linkByIndex(net, link.peer) : undefined;
      return !same || same.carrier ? 'DOWN' : 'LOWERLAYERDOWN';
    }
    const peer = link.peer !== undefined ? linkByIndex(net, link.peer) : undefined;
    return peer && peer.up ? 'DOWN' : 'LOWERLAYERDOWN';
  }
  return 'DOWN';
}

/** The link's flags as the kernel reports them (dev_get_flags). */
export function linkFlags(net: NetState, link: Link): number {
  let f = 0;
  switch (link.kind) {
    case 'loopback':
      f = IFF_LOOPBACK;
      break;
    case 'dummy':
      f = IFF_BROADCAST | IFF_NOARP;
      break;
    default:
      f = IFF_BROADCAST | IFF_MULTICAST;
  }
  if (link.up) {
    f |= IFF_UP;
    const st = operState(net, link);
    if (st === 'UP' || st === 'UNKNOWN') f |= IFF_RUNNING;
    if (link.carrier) f |= IFF_LOWER_UP;
  }
  return f;
}

/** True when the link is up and has carrier: routes through it are not "linkdown". */
export function linkHasCarrier(link: Link): boolean {
  return link.up && link.carrier;
}
