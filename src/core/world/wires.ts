/**
 * The network cards lab wires plug into: plain Ethernet devices (as a
 * virtual machine's eth0 is), created on a host when a wire names them.
 */
import { allocIfindex, validIfname } from '../net/links.js';
import { addDeviceSysctls } from '../net/sysctl.js';
import type { Link, NetState } from '../net/types.js';
import type { WorldState } from './state.js';

/**
 * Adds the network card `name` to a host's network for a wire (or takes
 * the card of that name when it exists and no wire uses it). Returns its
 * interface index, or why it cannot.
 */
export function addWiredLink(net: NetState, name: string, world: WorldState, host: string): number | string {
  if (!validIfname(name)) return 'invalid interface name';
  const existing = net.links.find((l) => l.name === name);
  if (existing) {
    if (existing.kind !== 'ether') return `a ${existing.kind} device of that name exists`;
    if (world.wires.some((w) => w.ends.some((e) => e.host === host && e.netns === '' && e.ifindex === existing.index))) return 'already on a wire';
    return existing.index;
  }
  const link: Link = {
    index: allocIfindex(net),
    name,
    kind: 'ether',
    mac: cardMac(world, host, net),
    macSet: false,
    mtu: 1500,
    up: false,
    carrier: false,
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
  net.links.push(link);
  addDeviceSysctls(net, name, link.mtu);
  return link.index;
}

/**
 * A card's MAC address, unique in the lab: 52:54:00 (the prefix virtual
 * machines' cards get), then the host's number and a count of the host's
 * links.
 */
function cardMac(world: WorldState, host: string, net: NetState): string {
  const h = Object.keys(world.hosts).indexOf(host) + 1;
  const n = ++net.macCounter;
  const hex = (v: number): string => (v & 255).toString(16).padStart(2, '0');
  return `52:54:00:${hex(h)}:${hex(n >>> 8)}:${hex(n)}`;
}
