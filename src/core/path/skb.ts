/**
 * A packet inside the machine, the equivalent of the kernel's sk_buff as
 * netfilter sees it: the IPv4 datagram (network header first), the link
 * header it arrived with, and the metadata hooks and targets read or set.
 */
import type { Conn } from '../conntrack/types.js';

/** skb->pkt_type: how the link layer classified the frame. */
export const enum PacketType {
  /** Addressed to this host's MAC. */
  HOST = 0,
  BROADCAST = 1,
  MULTICAST = 2,
  /** Addressed to another host's MAC (promiscuous capture). */
  OTHERHOST = 3,
  /** Sent by this host. */
  OUTGOING = 4,
  LOOPBACK = 5,
}

/**
 * skb->_nfct's ctinfo: how the packet relates to its connection
 * (enum ip_conntrack_info).
 */
export const enum CtInfo {
  ESTABLISHED = 0,
  RELATED = 1,
  NEW = 2,
  ESTABLISHED_REPLY = 3,
  RELATED_REPLY = 4,
  /** The packet has no valid conntrack entry (INVALID, or untracked: see Skb.untracked). */
  NONE = 7,
}

/** One packet in flight. */
export interface Skb {
  /** The IPv4 datagram from its first header byte; its length is the packet's length. */
  data: Uint8Array;
  /** The link-layer header it was received with (14 bytes of Ethernet), or null when locally generated. */
  mac: Uint8Array | null;
  /** Input device name, '' when there is none (locally generated). */
  indev: string;
  /** Output device name once routed, '' before. */
  outdev: string;
  /** How the link layer classified the frame. */
  pktType: PacketType;
  /** nfmark (MARK, -m mark). */
  mark: number;
  /** skb->priority (CLASSIFY). */
  priority: number;
  /** Security mark (SECMARK). */
  secmark: number;
  /** The connection the packet belongs to, null when none. */
  ct: Conn | null;
  /** How it belongs to it; NONE when ct is null. */
  ctinfo: CtInfo;
  /** Marked untracked (NOTRACK, CT --notrack): conntrack leaves it alone and -m state sees UNTRACKED. */
  untracked: boolean;
  /** nf_trace: set by -j TRACE, makes the traversal report every rule it passes. */
  trace: boolean;
  /** The next hop chosen by routing (0 when the destination is on-link or not yet routed). */
  nexthop: number;
  /** The route type chosen for it, once routed. */
  route: 'local' | 'unicast' | 'broadcast' | 'multicast' | 'unreachable' | 'blackhole' | 'prohibit' | null;
  /** Socket owner of a locally generated packet (for -m owner), when any. */
  owner: { uid: number; gid: number } | null;
}

/** A fresh packet around an IPv4 datagram, with no metadata yet. */
export function newSkb(data: Uint8Array, mac: Uint8Array | null, indev: string): Skb {
  return {
    data,
    mac,
    indev,
    outdev: '',
    pktType: mac ? PacketType.HOST : PacketType.OUTGOING,
    mark: 0,
    priority: 0,
    secmark: 0,
    ct: null,
    ctinfo: CtInfo.NONE,
    untracked: false,
    trace: false,
    nexthop: 0,
    route: null,
    owner: null,
  };
}
