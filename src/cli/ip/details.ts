/**
 * What `ip -d` adds after a link's link-layer line: promiscuity, MTU
 * limits, the kind with its attributes (a bridge's and a bridge port's
 * settings), and the queue and offload sizes, as iproute2 6.1 prints them
 * from Linux 6.x. Timers of a running bridge count in real time on Linux;
 * the lab shows them stopped.
 */
import { linkByIndex } from '../../core/net/state.js';
import type { Link, NetState } from '../../core/net/types.js';
import type { IpContext } from './common.js';

/** "8000.2:0:0:0:a:2": a bridge id as iproute2 prints it (priority, MAC bytes without leading zeros). */
function bridgeId(mac: string): string {
  return `8000.${mac.split(':').map((b) => parseInt(b, 16).toString(16)).join(':')}`;
}

/** A bridge timer ("%4i.%.2i"); the lab's timers are stopped. */
function timer(): string {
  return '   0.00';
}

function mtuLimits(link: Link): [number, number] {
  return link.kind === 'veth' || link.kind === 'bridge' || link.kind === 'ether' ? [68, 65535] : [0, 0];
}

function queues(link: Link): number {
  // a veth has one queue per possible CPU (two here)
  return link.kind === 'veth' ? 2 : 1;
}

/** A bridge's id: its own address when set by hand, else its ports' (none without ports). */
function bridgeIdOf(net: NetState, br: Link): string {
  const ports = net.links.some((l) => l.master === br.index);
  return bridgeId(br.macSet || ports ? br.mac : '00:00:00:00:00:00');
}

function bridgeText(net: NetState, br: Link): string {
  const id = bridgeIdOf(net, br);
  return (
    `forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 vlan_filtering 0 bridge_id ${id} designated_root ${id} ` +
    `root_port 0 root_path_cost 0 topology_change 0 topology_change_detected 0 hello_timer ${timer()} tcn_timer ${timer()} topology_change_timer ${timer()} gc_timer ${timer()} ` +
    'group_fwd_mask 0 group_address 01:80:c2:00:00:00 mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0 mcast_router 1 mcast_query_use_ifaddr 0 mcast_querier 0 ' +
    'mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2 mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000 ' +
    'mcast_querier_interval 25500 mcast_query_interval 12500 mcast_query_response_interval 1000 mcast_startup_query_interval 3124 mcast_stats_enabled 0 mcast_igmp_version 2 ' +
    'mcast_mld_version 1 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 '
  );
}

function portText(net: NetState, port: Link, br: Link): string {
  const id = bridgeIdOf(net, br);
  const no = port.portNo ?? 1;
  // without STP a port forwards while the bridge is up and the port has carrier
  const state = br.up && port.up && port.carrier ? 'forwarding' : 'disabled';
  // the path cost follows the port's speed: 10 Gb/s for a veth
  const cost = port.kind === 'veth' ? 2 : 100;
  return (
    `bridge_slave state ${state} priority 32 cost ${cost} hairpin off guard off root_block off fastleave off learning on flood on ` +
    `port_id 0x${(0x8000 + no).toString(16)} port_no 0x${no.toString(16)} designated_port ${0x8000 + no} designated_cost 0 designated_bridge ${id} designated_root ${id} ` +
    `hold_timer ${timer()} message_age_timer ${timer()} forward_delay_timer ${timer()} topology_change_ack 0 config_pending 0 proxy_arp off proxy_arp_wifi off ` +
    'mcast_router 1 mcast_fast_leave off mcast_flood on bcast_flood on mcast_to_unicast off neigh_suppress off group_fwd_mask 0 group_fwd_mask_str 0x0 ' +
    'vlan_tunnel off isolated off locked off '
  );
}

/** The `-d` text that follows the link-layer line (starting with " promiscuity"), without a final newline. */
export function detailsText(ctx: IpContext, link: Link, doLink: boolean, nl: string): string {
  const net = ctx.net;
  const br = link.master !== undefined ? linkByIndex(net, link.master) : undefined;
  const port = br !== undefined && br.kind === 'bridge';
  const [min, max] = mtuLimits(link);
  let s = ` promiscuity ${port ? 1 : 0}  allmulti ${port ? 1 : 0} minmtu ${min} maxmtu ${max} `;
  // devices without a link type (lo, a network card) print no kind line
  if (link.kind !== 'loopback' && link.kind !== 'ether') {
    s += `${nl}    ${link.kind} `;
    if (link.kind === 'bridge') s += bridgeText(net, link);
  }
  if (port && br) s += `${nl}    ${portText(net, link, br)}`;
  if (doLink && !link.noInet6) s += 'addrgenmode eui64 ';
  const q = queues(link);
  // a bridge takes its ports' largest TSO size; alone it has the generic one
  const tso = link.kind === 'ether' || (link.kind === 'bridge' && !net.links.some((l) => l.master === link.index)) ? 65536 : 524280;
  s += `numtxqueues ${q} numrxqueues ${q} gso_max_size 65536 gso_max_segs 65535 tso_max_size ${tso} tso_max_segs 65535 gro_max_size 65536 `;
  // a network card is a virtio device of the virtual machine, numbered in order
  if (link.kind === 'ether') s += `parentbus virtio parentdev virtio${net.links.filter((l) => l.kind === 'ether' && l.index < link.index).length} `;
  return s;
}
