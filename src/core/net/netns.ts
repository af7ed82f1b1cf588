/**
 * Network namespaces of one host as `ip` sees them: the directory of named
 * namespaces the caller hands in, and moving a link from one namespace to
 * another (dev_change_net_namespace) with everything that follows.
 */
import { netError, type NetError } from './errors.js';
import { allocIfindex, queueLinkwatch, releasePort, settleLinks, unregisterLink } from './links.js';
import { nsidAlloc } from './nsid.js';
import { linkByIndex, linkByName } from './state.js';
import { addDeviceSysctls } from './sysctl.js';
import type { Link, NetState } from './types.js';

/**
 * The network namespaces of the current host, as `ip netns` and
 * `ip -n NAME` reach them. '' names the host's initial namespace, which
 * always exists and is not listed.
 */
export interface NetnsDirectory {
  /** The namespace the command runs in ('' for the host's own). */
  readonly current: string;
  /** The named namespaces, oldest first (a name deleted and added again counts as new). */
  names(): string[];
  /** The network of a namespace ('' included); undefined when there is none by that name. */
  get(name: string): NetState | undefined;
  /** Stores the new network of an existing namespace. */
  set(name: string, net: NetState): void;
  /** Creates a namespace with network `net` (its rules, processes and machine start empty). */
  create(name: string, net: NetState): void;
  /** Removes a namespace with everything in it. */
  remove(name: string): void;
  /** The namespace of process `pid` of the host, or undefined when there is no such process. */
  netnsOfPid?(pid: number): string | undefined;
  /** The process ids of a namespace's programs, ascending. */
  pids?(name: string): number[];
  /**
   * Told first, for each link that changed namespace
   * (`ip link set DEV netns`, a card going back when its namespace is
   * deleted): where it was and where it is now, with its index in each.
   */
  moved?(from: string, fromIndex: number, to: string, toIndex: number): void;
}

/** A namespace's network with its name. */
export interface NamedNet {
  name: string;
  net: NetState;
}

/** Link kinds the kernel will not move to another namespace (NETIF_F_NETNS_LOCAL). */
function netnsLocal(link: Link): boolean {
  return link.kind === 'loopback' || link.kind === 'bridge';
}

/** Link kinds that die with their namespace; other devices go back to the initial one. */
export function diesWithNetns(link: Link): boolean {
  return link.kind === 'veth' || link.kind === 'dummy' || link.kind === 'bridge' || link.kind === 'loopback';
}

/**
 * Moves `link` from `src` to `dst`. The link leaves down, without
 * addresses, routes, neighbours or bridge; it keeps its index when `dst`
 * has no link with it, else gets the next free one there; its sysctl
 * directories start from `dst`'s defaults. `peer` is where a veth's other
 * end lives. `rename` is the pattern ("dev%d") used when the name is taken
 * (namespace deletion); without it a taken name is an error.
 */
export function moveLink(src: NamedNet, dst: NamedNet, link: Link, peer?: NamedNet, rename?: string): NetError | undefined {
  if (netnsLocal(link)) return netError('EINVAL', 'The interface netns is immutable');
  if (src.net === dst.net) return undefined;
  let name = link.name;
  if (linkByName(dst.net, name)) {
    if (rename === undefined) return netError('EEXIST', 'An interface with the same name exists in the target netns');
    for (let i = 0; ; i++) {
      name = rename.replace('%d', String(i));
      if (!linkByName(dst.net, name)) break;
    }
  }
  nsidAlloc(src.net, dst.name);
  const peerLink = peer && link.kind === 'veth' && link.peer !== undefined ? linkByIndex(peer.net, link.peer) : undefined;
  if (link.master !== undefined) releasePort(src.net, link);
  const hadCarrier = link.carrier;
  unregisterLink(src.net, link);
  if (src.net.linkwatch) {
    src.net.linkwatch = src.net.linkwatch.filter((i) => i !== link.index);
    if (src.net.linkwatch.length === 0) delete src.net.linkwatch;
  }
  const index = linkByIndex(dst.net, link.index) ? allocIfindex(dst.net) : link.index;
  link.index = index;
  link.name = name;
  link.up = false;
  link.everUp = false;
  link.carrier = link.kind === 'veth' ? false : link.carrier;
  link.inet = [];
  link.inet6 = [];
  link.v6Ready = 0;
  delete link.master;
  if (peerLink && peer) {
    peerLink.peer = index;
    if (peer.net === dst.net) {
      delete peerLink.peerNetns;
      delete peerLink.peerUp;
      delete link.peerNetns;
      delete link.peerUp;
    } else {
      peerLink.peerNetns = dst.name;
      peerLink.peerUp = false;
      link.peerNetns = peer.name;
      link.peerUp = peerLink.up;
    }
  }
  dst.net.links.push(link);
  if (hadCarrier && link.kind === 'veth') queueLinkwatch(dst.net, index);
  if (!link.noInet) addDeviceSysctls(dst.net, name, link.mtu, link.noInet6 ? 'ipv4' : undefined);
  else if (!link.noInet6) addDeviceSysctls(dst.net, name, link.mtu, 'ipv6');
  // the device announces itself in its new namespace
  if (link.peerNetns !== undefined) nsidAlloc(dst.net, link.peerNetns);
  if (peerLink && peer) settleLinks(peer.net);
  settleLinks(dst.net);
  return undefined;
}
