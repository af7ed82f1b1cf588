/**
 * The network of one lab machine (one network namespace): links, addresses,
 * routes, neighbours and sysctls. Everything here is plain data that survives
 * JSON.stringify/parse unchanged, so the whole state can be persisted in the
 * lab's state file and copied with structuredClone. IPv4 addresses are
 * unsigned 32-bit numbers; MAC addresses are lower-case "xx:xx:xx:xx:xx:xx".
 */

/** The kinds of link a lab machine can have. */
/** ('ether': a host's network card, joined to other hosts by a lab wire.) */
export type LinkKind = 'loopback' | 'dummy' | 'veth' | 'bridge' | 'ether';

/** Route scopes, numbered as the kernel numbers them (rtm_scope). */
export const SCOPE_UNIVERSE = 0;
/** Routes and addresses valid on the attached link only. */
export const SCOPE_LINK = 253;
/** Routes and addresses valid inside the machine only. */
export const SCOPE_HOST = 254;
/** "nowhere": the destination does not exist. */
export const SCOPE_NOWHERE = 255;

/** Routing table ids the kernel reserves. */
export const TABLE_MAIN = 254;
/** The table of local and broadcast routes. */
export const TABLE_LOCAL = 255;

/** Route types (rtm_type) nflab models. */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'multicast' | 'unreachable' | 'blackhole' | 'prohibit';

/** One IPv4 address on a link (struct in_ifaddr). */
export interface Inet4Addr {
  /** The address of this machine (ifa_local). */
  local: number;
  /** The peer or the address itself (ifa_address); differs only with `peer`. */
  address: number;
  /** Prefix length, 0..32. */
  prefixlen: number;
  /** Broadcast address; 0 when none was given. */
  broadcast: number;
  /** Scope: SCOPE_UNIVERSE (global), SCOPE_LINK, SCOPE_HOST or another number. */
  scope: number;
  /** The label (the device name unless `label` was given). */
  label: string;
  /** A secondary address (another primary of the same subnet exists). */
  secondary: boolean;
}

/** One IPv6 address on a link: only what the kernel sets up by itself (::1, link-locals). */
export interface Inet6Addr {
  /** The address, formatted as iproute2 prints it. */
  address: string;
  /** Prefix length. */
  prefixlen: number;
  /** 'host' for ::1, 'link' for fe80::/64 addresses. */
  scope: 'host' | 'link' | 'global';
}

/** A network device. */
export interface Link {
  /** Interface index, unique in the namespace, never reused. */
  index: number;
  /** Interface name (at most 15 characters). */
  name: string;
  kind: LinkKind;
  /** veth only: the interface index of the other end. */
  peer?: number;
  /** veth only: the namespace of the host the other end lives in, when it is not this one ('' is the host's own). */
  peerNetns?: string;
  /** veth whose other end is in another namespace: whether that end is up (kept in step by `ip`; gives this end its carrier). */
  peerUp?: boolean;
  /**
   * What the kernel's link watcher found when the carrier last went away:
   * the device with the index of the other end, looked up in this
   * namespace, had no carrier either (LOWERLAYERDOWN rather than DOWN).
   */
  operLower?: boolean;
  /** Hardware address. */
  mac: string;
  /** True once the address was set by the user (the bridge then stops following its ports). */
  macSet: boolean;
  mtu: number;
  /** bridge only: the MTU was set by the user, so it no longer follows the ports. */
  mtuSet?: boolean;
  /** Administrative state (IFF_UP). */
  up: boolean;
  /** Lower layer (carrier) present: IFF_LOWER_UP when up. */
  carrier: boolean;
  /** Whether the link was ever up: its qdisc is then noqueue instead of noop. */
  everUp: boolean;
  /** Interface index of the bridge this link is a port of. */
  master?: number;
  /** The port number the bridge gave this link (the lowest free from 1). */
  portNo?: number;
  /** Transmit queue length. */
  txqlen: number;
  /** Link group (0 is "default"). */
  group: number;
  /** IPv4 addresses in the kernel's list order (primaries first by scope, then secondaries). */
  inet: Inet4Addr[];
  /** IPv6 addresses. */
  inet6: Inet6Addr[];
  /** IPv4 is off on the link (its MTU went below 68): no addresses, no conf directory. */
  noInet?: boolean;
  /** IPv6 is off on the link (its MTU went below 1280). */
  noInet6?: boolean;
  /** Order in which IPv6 became ready on the link (0: not ready); orders its kernel IPv6 routes. */
  v6Ready: number;
  /** Carrier transitions so far (what `ip -s -s link` calls "transns"). */
  carrierChanges: number;
  /** Counters the packet path increments. */
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
}

/** One IPv4 route (a fib alias with its fib_info). */
export interface Route4 {
  table: number;
  type: RouteType;
  /** Destination network (host bits zero). */
  dst: number;
  dstLen: number;
  /** Metric (fib_priority). */
  metric: number;
  /** Protocol number: 2 kernel, 3 boot, 4 static, ... */
  protocol: number;
  /** Route scope. */
  scope: number;
  /** Preferred source address; 0 when none. */
  prefsrc: number;
  /** Gateway; 0 when none. */
  gateway: number;
  /** Interface index of the output device; 0 for unreachable/blackhole/prohibit. */
  oif: number;
}

/** Neighbour states (NUD_*). */
export type NudState = 'incomplete' | 'reachable' | 'stale' | 'delay' | 'probe' | 'failed' | 'noarp' | 'permanent' | 'none';

/** One IPv4 neighbour (ARP) entry. */
export interface Neigh {
  /** Interface index. */
  dev: number;
  /** The neighbour's address (0.0.0.0 on loopback, as the kernel keys it). */
  ip: number;
  /** Link-layer address, when known. */
  mac?: string;
  state: NudState;
}

/** The whole network state of one namespace. */
export interface NetState {
  /** Links in creation order (the kernel's device list order). */
  links: Link[];
  /** The next interface index to hand out. */
  nextIfindex: number;
  /** Counter for the deterministic MAC addresses of new links. */
  macCounter: number;
  /** Counter ordering IPv6 readiness of links. */
  v6Counter: number;
  /**
   * IPv4 routes of every table. Within a table the array is in the kernel's
   * dump order: destination ascending, longer prefixes first, then metric,
   * then insertion order (append/prepend).
   */
  routes: Route4[];
  /** Routing table ids that exist, in creation order (main and local always do). */
  tables: number[];
  /** IPv4 neighbour entries in creation order. */
  neigh: Neigh[];
  /** Every sysctl under /proc/sys/net, by dotted key. */
  sysctl: Record<string, string>;
  /** Per-device sysctl keys written explicitly (a write to "default" no longer reaches them). */
  sysctlSet: Record<string, true>;
  /**
   * The ids this namespace gave other namespaces of the host (peernet2id),
   * by namespace name ('' is the host's own); absent until one is given.
   */
  nsids?: Record<string, number>;
  /** Indexes of links whose carrier went away and that the link watcher has not looked at yet (runLinkwatch). */
  linkwatch?: number[];
}
