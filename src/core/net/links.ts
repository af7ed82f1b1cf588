/**
 * Link operations with their kernel side effects: creating dummy, veth and
 * bridge devices, deleting them, bringing them up and down (carrier, kernel
 * routes, neighbours, IPv6), and changing address, MTU and bridge master.
 *
 * New links get deterministic MAC addresses instead of the kernel's random
 * ones: locally administered 02:6e:6c:xx:xx:xx, where xx:xx:xx counts up
 * from the counter kept in the state (NetState.macCounter).
 */
import { destroyAddresses4 } from './addr4.js';
import { netError, type NetError } from './errors.js';
import { fibAddIfaddr, fibSyncDownDev } from './fib.js';
import { ipv6LinkDown, ipv6LinkReady } from './ipv6.js';
import { neighFlushDev } from './neigh.js';
import { nsidAlloc } from './nsid.js';
import { linkByIndex, linkByName } from './state.js';
import { addDeviceSysctls, removeDeviceSysctls } from './sysctl.js';
import type { Link, LinkKind, NetState } from './types.js';

/** Longest interface name the kernel accepts (IFNAMSIZ - 1). */
export const IFNAMSIZ_MAX = 15;

/** The next deterministic MAC address (see the module comment). */
export function nextMac(net: NetState): string {
  const n = ++net.macCounter;
  const hex = (v: number): string => v.toString(16).padStart(2, '0');
  return `02:6e:6c:${hex((n >>> 16) & 255)}:${hex((n >>> 8) & 255)}:${hex(n & 255)}`;
}

/**
 * The next free interface index (dev_index_reserve): the first index from
 * the namespace's counter on that no link has (links moved in from other
 * namespaces keep theirs).
 */
export function allocIfindex(net: NetState): number {
  let index = net.nextIfindex;
  while (linkByIndex(net, index)) index++;
  net.nextIfindex = index + 1;
  return index;
}

function newLink(net: NetState, name: string, kind: LinkKind): Link {
  return {
    index: allocIfindex(net),
    name,
    kind,
    mac: nextMac(net),
    macSet: false,
    mtu: 1500,
    up: false,
    carrier: kind === 'dummy',
    everUp: false,
    txqlen: 1000,
    group: 0,
    inet: [],
    inet6: [],
    v6Ready: 0,
    // a veth starts with its carrier switched off once
    carrierChanges: kind === 'veth' ? 1 : 0,
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
  };
}

function register(net: NetState, link: Link): void {
  net.links.push(link);
  addDeviceSysctls(net, link.name, link.mtu);
  // a new veth switches its carrier off: the link watcher will look at it
  if (link.kind === 'veth') queueLinkwatch(net, link.index);
}

/** Queues a link for the link watcher (its carrier went away). */
export function queueLinkwatch(net: NetState, index: number): void {
  const q = (net.linkwatch ??= []);
  if (!q.includes(index)) q.push(index);
}

/**
 * The link watcher's pass over the queued links (it runs after the command
 * that changed them): a link without carrier reports LOWERLAYERDOWN when
 * the device with its other end's index in this namespace has no carrier
 * either, else DOWN (default_operstate). The answer stays until the
 * carrier goes away again.
 */
export function runLinkwatch(net: NetState): void {
  const q = net.linkwatch;
  if (!q) return;
  delete net.linkwatch;
  for (const index of q) {
    const link = linkByIndex(net, index);
    if (!link || link.carrier || link.peer === undefined) continue;
    // an other end with this link's own index counts as none
    const other = link.peer === link.index ? undefined : linkByIndex(net, link.peer);
    link.operLower = other !== undefined && !other.carrier;
  }
}

/** A name the kernel accepts for a device (dev_valid_name). */
export function validIfname(name: string): boolean {
  if (name === '' || name.length > IFNAMSIZ_MAX) return false;
  if (name === '.' || name === '..') return false;
  return !/[/:\s]/.test(name);
}

/** The first free name made from a "%d" pattern (dev_alloc_name). */
function allocName(net: NetState, pattern: string): string {
  for (let i = 0; ; i++) {
    const name = pattern.replace('%d', String(i));
    if (!linkByName(net, name)) return name;
  }
}

/**
 * Creates a link (rtnl_newlink). A veth pair registers its peer first, so
 * the peer gets the lower index; without a peer name the kernel picks the
 * first free "vethN".
 */
export function addLink(net: NetState, name: string, kind: Exclude<LinkKind, 'loopback'>, peerName?: string): NetError | undefined {
  if (name.length > IFNAMSIZ_MAX) return netError('EINVAL', 'Attribute failed policy validation');
  if (!validIfname(name)) return netError('EINVAL');
  if (linkByName(net, name)) return netError('EEXIST');
  if (kind !== 'veth') {
    register(net, newLink(net, name, kind));
    return undefined;
  }
  if (peerName !== undefined && peerName.length > IFNAMSIZ_MAX) return netError('EINVAL', 'Attribute failed policy validation');
  const pname = peerName ?? allocName(net, 'veth%d');
  if (!validIfname(pname)) return netError('EINVAL');
  if (linkByName(net, pname)) return netError('EEXIST');
  if (pname === name) {
    // The peer registers, then the device itself fails: the index is spent.
    net.nextIfindex++;
    net.macCounter++;
    return netError('EEXIST');
  }
  const peer = newLink(net, pname, 'veth');
  const dev = newLink(net, name, 'veth');
  peer.peer = dev.index;
  dev.peer = peer.index;
  register(net, peer);
  register(net, dev);
  return undefined;
}

/** A namespace's network with its name ('' is the host's own). */
export interface NetRef {
  name: string;
  net: NetState;
}

/**
 * Creates a veth pair whose ends live in different namespaces: the peer
 * registers first in its namespace (taking its next index there), then
 * the device. The device's namespace gives the peer's an id (the new
 * device is announced); the peer's was announced before the two were
 * joined, so its namespace gives none.
 */
export function addVethPair(dev: NetRef, name: string, peer: NetRef, peerName?: string): NetError | undefined {
  if (name.length > IFNAMSIZ_MAX) return netError('EINVAL', 'Attribute failed policy validation');
  if (!validIfname(name)) return netError('EINVAL');
  if (linkByName(dev.net, name)) return netError('EEXIST');
  if (peerName !== undefined && peerName.length > IFNAMSIZ_MAX) return netError('EINVAL', 'Attribute failed policy validation');
  const pname = peerName ?? allocName(peer.net, 'veth%d');
  if (!validIfname(pname)) return netError('EINVAL');
  if (linkByName(peer.net, pname)) return netError('EEXIST');
  const p = newLink(peer.net, pname, 'veth');
  register(peer.net, p);
  const d = newLink(dev.net, name, 'veth');
  register(dev.net, d);
  p.peer = d.index;
  p.peerNetns = dev.name;
  p.peerUp = false;
  d.peer = p.index;
  d.peerNetns = peer.name;
  d.peerUp = false;
  nsidAlloc(dev.net, peer.name);
  return undefined;
}

/**
 * Deletes a link; a veth takes its peer along when the peer is in the same
 * namespace (the caller removes a peer elsewhere with unregisterLink); lo
 * cannot go (EOPNOTSUPP).
 */
export function deleteLink(net: NetState, link: Link): NetError | undefined {
  if (link.kind === 'loopback') return netError('EOPNOTSUPP');
  const victims = [link];
  if (link.kind === 'veth' && link.peer !== undefined && link.peerNetns === undefined) {
    const peer = linkByIndex(net, link.peer);
    if (peer) victims.push(peer);
  }
  for (const v of victims) unregisterLink(net, v);
  return undefined;
}

/**
 * Takes a link out of the namespace with everything that follows: down,
 * out of its bridge (or its ports out of it), addresses, routes,
 * neighbours and sysctl directories gone.
 */
export function unregisterLink(net: NetState, link: Link): void {
  if (link.up) setLinkUp(net, link, false);
  if (link.kind === 'bridge') {
    for (const port of net.links) if (port.master === link.index) releasePort(net, port);
  }
  if (link.master !== undefined) releasePort(net, link);
  destroyAddresses4(net, link);
  fibSyncDownDev(net, link, true);
  neighFlushDev(net, link.index, true);
  net.links = net.links.filter((l) => l !== link);
  removeDeviceSysctls(net, link.name);
}

/** The carrier a link would have now, from its own and its neighbours' state. */
function computeCarrier(net: NetState, link: Link): boolean {
  switch (link.kind) {
    case 'loopback':
    case 'dummy':
      return true;
    case 'veth': {
      if (link.peerNetns !== undefined) return link.up && link.peerUp === true;
      const peer = link.peer !== undefined ? linkByIndex(net, link.peer) : undefined;
      return link.up && peer !== undefined && peer.up;
    }
    case 'bridge':
      return link.up && net.links.some((p) => p.master === link.index && p.up && p.carrier);
    case 'ether':
      // a network card on a lab wire: the cable is always plugged in
      return link.up;
  }
}

/**
 * Recomputes carriers after a change and applies what follows from each
 * change: neighbours evicted on carrier loss, IPv6 configured on the link
 * that came up (`first`, NETDEV_UP) and then on each link whose carrier came
 * (NETDEV_CHANGE), in that order.
 */
function settleCarriers(net: NetState, first?: Link): void {
  const order = first ? [first, ...net.links.filter((l) => l !== first)] : [...net.links];
  const gained: Link[] = [];
  for (let pass = 0; pass < 3; pass++) {
    let changed = false;
    for (const l of order) {
      const c = computeCarrier(net, l);
      if (c === l.carrier) continue;
      l.carrier = c;
      l.carrierChanges++;
      changed = true;
      // the change is reported, with the id of the namespace of a veth's other end
      if (l.peerNetns !== undefined) nsidAlloc(net, l.peerNetns);
      if (c) gained.push(l);
      else {
        queueLinkwatch(net, l.index);
        if (l.up && net.sysctl[`net.ipv4.conf.${l.name}.arp_evict_nocarrier`] !== '0') neighFlushDev(net, l.index, false);
      }
    }
    if (!changed) break;
  }
  if (first) ipv6LinkReady(net, first);
  for (const l of gained) if (l.carrier) ipv6LinkReady(net, l);
}

/** Recomputes every carrier of the namespace (after a veth's other end elsewhere changed). */
export function settleLinks(net: NetState): void {
  settleCarriers(net);
}

/** Sets a link administratively up or down, with everything that follows. */
export function setLinkUp(net: NetState, link: Link, up: boolean): void {
  if (link.up === up) return;
  if (up) {
    link.up = true;
    link.everUp = true;
    if (link.kind === 'loopback') {
      addLoopbackAddress(net, link);
      for (const k of Object.keys(net.sysctl)) if (k.startsWith('net.ipv4.conf.lo.')) net.sysctlSet[k] = true;
    }
    for (const ifa of [...link.inet]) fibAddIfaddr(net, link, ifa);
    settleCarriers(net, link);
    return;
  }
  link.up = false;
  fibSyncDownDev(net, link, false);
  neighFlushDev(net, link.index, true);
  ipv6LinkDown(link);
  settleCarriers(net);
}

/** lo coming up always (re)adds 127.0.0.1/8 (inetdev_event NETDEV_UP). */
function addLoopbackAddress(net: NetState, link: Link): void {
  if (link.noInet) return;
  const lo = 0x7f000001;
  if (link.inet.some((a) => a.local === lo && a.prefixlen === 8)) return;
  const ifa = { local: lo, address: lo, prefixlen: 8, broadcast: 0, scope: 254, label: link.name, secondary: false };
  let at = 0;
  for (let i = 0; i < link.inet.length; i++) if (!link.inet[i]!.secondary && ifa.scope <= link.inet[i]!.scope) at = i + 1;
  link.inet.splice(at, 0, ifa);
  fibAddIfaddr(net, link, ifa);
}

/** Whether a MAC address is a valid unicast Ethernet address (is_valid_ether_addr). */
function validEtherAddr(mac: string): boolean {
  if (mac === '00:00:00:00:00:00') return false;
  return (parseInt(mac.slice(0, 2), 16) & 1) === 0;
}

/** Sets the hardware address (dev_set_mac_address). */
export function setLinkMac(net: NetState, link: Link, mac: string): NetError | undefined {
  const m = mac.toLowerCase();
  if (!validEtherAddr(m)) return netError('EADDRNOTAVAIL');
  link.mac = m;
  link.macSet = true;
  if (link.master !== undefined) {
    const br = linkByIndex(net, link.master);
    if (br) recalcBridgeId(net, br);
  }
  return undefined;
}

/** The MTU limits of each kind of link (min_mtu, max_mtu; 0 is no limit). */
function mtuLimits(link: Link): [number, number] {
  switch (link.kind) {
    case 'veth':
    case 'bridge':
      return [68, 65535];
    default:
      return [0, 0];
  }
}

/** Sets the MTU (dev_set_mtu) within the link's limits. */
export function setLinkMtu(net: NetState, link: Link, mtu: number): NetError | undefined {
  const [min, max] = mtuLimits(link);
  if (mtu < min) return netError('EINVAL', 'mtu less than device minimum');
  if (max > 0 && mtu > max) return netError('EINVAL', 'mtu greater than device maximum');
  applyMtu(net, link, mtu);
  if (link.kind === 'bridge') link.mtuSet = true;
  if (link.master !== undefined) {
    const br = linkByIndex(net, link.master);
    if (br) adjustBridgeMtu(net, br);
  }
  return undefined;
}

/**
 * A new MTU and its consequences: below 68 IPv4 leaves the link (addresses,
 * routes and its sysctl directories go), below 1280 IPv6 does (on lo only
 * its addresses); above the limits they come back, unconfigured.
 */
function applyMtu(net: NetState, link: Link, mtu: number): void {
  link.mtu = mtu;
  if (mtu < 68) {
    if (!link.noInet) {
      destroyAddresses4(net, link);
      fibSyncDownDev(net, link, true);
      neighFlushDev(net, link.index, true);
      removeDeviceSysctls(net, link.name, 'ipv4');
      link.noInet = true;
    }
  } else if (link.noInet) {
    addDeviceSysctls(net, link.name, mtu, 'ipv4');
    delete link.noInet;
  }
  if (mtu < 1280) {
    ipv6LinkDown(link);
    if (link.kind !== 'loopback' && !link.noInet6) {
      removeDeviceSysctls(net, link.name, 'ipv6');
      link.noInet6 = true;
    }
  } else if (link.noInet6) {
    // a new inet6 device on a running link with carrier is ready at once
    addDeviceSysctls(net, link.name, mtu, 'ipv6');
    delete link.noInet6;
    const key = `net.ipv6.conf.${link.name}.mtu`;
    net.sysctl[key] = String(mtu);
    ipv6LinkReady(net, link);
  }
  const key = `net.ipv6.conf.${link.name}.mtu`;
  if (key in net.sysctl) net.sysctl[key] = String(mtu);
}

function adjustBridgeMtu(net: NetState, br: Link): void {
  if (br.mtuSet) return;
  const ports = net.links.filter((p) => p.master === br.index);
  const mtu = ports.length === 0 ? 1500 : Math.min(...ports.map((p) => p.mtu));
  if (mtu !== br.mtu) applyMtu(net, br, mtu);
}

/** The bridge follows the lowest port MAC unless its address was set by hand. */
function recalcBridgeId(net: NetState, br: Link): void {
  if (br.macSet) return;
  let best: string | undefined;
  for (const p of net.links) if (p.master === br.index && (best === undefined || p.mac < best)) best = p.mac;
  br.mac = best ?? '00:00:00:00:00:00';
}

/**
 * Makes `port` a port of `bridge` (do_set_master): EOPNOTSUPP when the master
 * is no bridge, EINVAL for loopback or a port without a valid address.
 */
export function setLinkMaster(net: NetState, port: Link, bridge: Link): NetError | undefined {
  if (port.master === bridge.index) return undefined;
  if (bridge.kind !== 'bridge') return netError('EOPNOTSUPP');
  if (port.master !== undefined) releasePort(net, port);
  if (port.kind === 'loopback' || !validEtherAddr(port.mac)) return netError('EINVAL');
  if (port.kind === 'bridge') return netError('ELOOP', 'Can not enslave a bridge to a bridge');
  if (port === bridge) return netError('ELOOP');
  port.master = bridge.index;
  let no = 1;
  while (net.links.some((l) => l.master === bridge.index && l !== port && l.portNo === no)) no++;
  port.portNo = no;
  recalcBridgeId(net, bridge);
  adjustBridgeMtu(net, bridge);
  settleCarriers(net);
  return undefined;
}

/** Removes `port` from its bridge (nomaster). */
export function releasePort(net: NetState, port: Link): void {
  if (port.master === undefined) return;
  const br = linkByIndex(net, port.master);
  delete port.master;
  delete port.portNo;
  if (!br) return;
  recalcBridgeId(net, br);
  adjustBridgeMtu(net, br);
  settleCarriers(net);
}
