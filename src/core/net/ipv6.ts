/**
 * The IPv6 the kernel sets up by itself: ::1 on lo when it comes up, an
 * EUI-64 link-local address on other links once they are up with carrier
 * (duplicate address detection is taken as finished at once), and the
 * routes those imply. Addresses go away when the link goes down.
 */
import { formatIPv6, ip6FromBytes, parseIPv6 } from '../addr/ipv6.js';
import { parseMac } from '../wire/mac.js';
import type { Link, NetState } from './types.js';

/** The fe80::/64 address the kernel derives from a MAC address (EUI-64). */
export function linkLocalFor(mac: string): string {
  const m = parseMac(mac) ?? new Uint8Array(6);
  const b = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, m[0]! ^ 2, m[1]!, m[2]!, 0xff, 0xfe, m[3]!, m[4]!, m[5]!];
  return formatIPv6(ip6FromBytes(b));
}

/** Whether IPv6 may run on the link at all (enough MTU, not disabled). */
function ipv6Allowed(net: NetState, link: Link): boolean {
  if (link.mtu < 1280 || link.noInet6) return false;
  if (net.sysctl[`net.ipv6.conf.${link.name}.disable_ipv6`] === '1') return false;
  return net.sysctl['net.ipv6.conf.all.disable_ipv6'] !== '1';
}

/**
 * Brings IPv6 up on a link that is up with carrier and not yet configured
 * (addrconf NETDEV_UP / NETDEV_CHANGE): ::1 on loopback, the EUI-64
 * link-local address elsewhere.
 */
export function ipv6LinkReady(net: NetState, link: Link): void {
  if (!link.up || !link.carrier || link.v6Ready !== 0) return;
  if (!ipv6Allowed(net, link)) return;
  link.v6Ready = ++net.v6Counter;
  if (link.kind === 'loopback') {
    link.inet6 = [{ address: '::1', prefixlen: 128, scope: 'host' }];
    return;
  }
  const mode = net.sysctl[`net.ipv6.conf.${link.name}.addr_gen_mode`] ?? '0';
  if (mode !== '0') return;
  const mac = link.mac;
  if (mac === '00:00:00:00:00:00') return;
  link.inet6 = [{ address: linkLocalFor(mac), prefixlen: 64, scope: 'link' }];
}

/** Takes IPv6 down on a link that went down (addrconf_ifdown). */
export function ipv6LinkDown(link: Link): void {
  link.inet6 = [];
  link.v6Ready = 0;
}

/** One IPv6 route as `ip -6 route` prints it. */
export interface Route6View {
  table: 'main' | 'local';
  type: 'unicast' | 'local' | 'multicast';
  dst: string;
  dstLen: number;
  dev: string;
  metric: number;
  /** The link is up without carrier. */
  linkdown: boolean;
}

function sortKey(addr: string): string {
  const a = parseIPv6(addr);
  if (!a) return addr;
  return a.map((w) => w.toString(16).padStart(8, '0')).join('');
}

/**
 * The IPv6 routes the kernel holds for the links' automatic addresses, in
 * the order `ip -6 route show table all` lists them: main (fe80::/64 per
 * link), then local (local addresses by address, then multicast ff00::/8).
 */
export function ipv6Routes(net: NetState): Route6View[] {
  const ready = net.links.filter((l) => l.v6Ready !== 0).sort((a, b) => a.v6Ready - b.v6Ready);
  const main: Route6View[] = [];
  const locals: { key: string; order: number; view: Route6View }[] = [];
  const mcast: Route6View[] = [];
  for (const l of ready) {
    const linkdown = l.up && !l.carrier;
    for (const a of l.inet6) {
      if (a.scope === 'link') main.push({ table: 'main', type: 'unicast', dst: 'fe80::', dstLen: 64, dev: l.name, metric: 256, linkdown });
      locals.push({
        key: sortKey(a.address),
        order: l.v6Ready,
        view: { table: 'local', type: 'local', dst: a.address, dstLen: 128, dev: l.name, metric: 0, linkdown: false },
      });
    }
    if (l.kind !== 'loopback') {
      mcast.push({ table: 'local', type: 'multicast', dst: 'ff00::', dstLen: 8, dev: l.name, metric: 256, linkdown });
    }
  }
  locals.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.order - y.order));
  return [...main, ...locals.map((x) => x.view), ...mcast];
}
