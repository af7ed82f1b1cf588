/**
 * What the kernel halves of matches and targets see for one packet: the
 * packet, where it is in the path, and the machine's services they may
 * call (clock, randomness, network state, conntrack, logging, sending).
 * The equivalent of the kernel's xt_action_param plus the globals its
 * extensions reach for.
 */
import type { SocketDemux } from '../stack/api.js';
import type { Conn } from '../conntrack/types.js';
import type { Hook, TableName } from '../netfilter/tables.js';
import type { Skb } from '../path/skb.js';
import type { Family } from './types.js';

/** Read access to the connection tracking table, for matches that count connections. */
export interface ConntrackView {
  /** Number of entries (nf_conntrack_count). */
  count(): number;
  /** Calls fn for every entry. */
  forEach(fn: (c: Conn) => void): void;
}

/** The machine's services available to extensions while a packet is processed. */
export interface KernelServices {
  /** Virtual time since boot, in nanoseconds. */
  nowNs(): number;
  /** The kernel's jiffies counter (HZ=250) at the current virtual time. */
  jiffies(): number;
  /** Wall clock of the machine, seconds since the epoch (for -m time). */
  wallSec(): number;
  /** A pseudo-random unsigned 32-bit number (deterministic per lab). */
  random32(): number;
  /**
   * The machine's network state (links, addresses, routes, sysctls) as
   * src/core/net models it; typed loosely here to keep the layers apart.
   */
  net: any;
  /**
   * State extensions share by name across rules (recent lists, hashlimit
   * tables, quota2 counters, ...), persisted with the machine. Each
   * extension keeps its data under its own key and must keep it
   * JSON-serialisable.
   */
  shared: Record<string, any>;
  /** The connection tracking table. */
  conntrack: ConntrackView;
  /** Writes a kernel log line (printk level 0..7) to the machine's kernel log. */
  printk(level: number, text: string): void;
  /**
   * Writes a packet log line (the LOG target, nf_log): like printk, except
   * that a namespace other than the host's own logs nothing unless
   * net.netfilter.nf_log_all_netns is set there. Absent: printk.
   */
  logPacket?(level: number, text: string): void;
  /** The sockets of the namespace, which local delivery offers packets to; absent or null: none. */
  sockets?: SocketDemux | null;
  /**
   * Sends a locally generated IPv4 datagram (a REJECT reply, ...): it is
   * routed and goes through OUTPUT and POSTROUTING like any local packet.
   * `parent` is the packet that caused it (for the log of what happened).
   * `attachCt`: the new packet takes the parent's connection, as
   * nf_ct_attach does for a REJECT's TCP reset (RELATED in the opposite
   * direction), so conntrack does not track it on its own.
   */
  sendLocal(datagram: Uint8Array, parent: Skb, attachCt?: boolean): void;
}

/** One packet at one rule of one chain: the argument of every kernel half. */
export interface PacketContext {
  /** The packet. */
  skb: Skb;
  /** Offset of the transport header in skb.data (after the IP header and its options). */
  thoff: number;
  /** Fragment offset in bytes (0 for an unfragmented packet or a first fragment). */
  fragoff: number;
  /** The rule's family. */
  family: Family;
  /** The hook being traversed. */
  hook: Hook;
  /** The table being traversed. */
  table: TableName;
  /** Input device name ('' when none). */
  in: string;
  /** Output device name ('' when none). */
  out: string;
  /** Set by a match to drop the packet at once (hotdrop). */
  hotdrop: boolean;
  /** The machine. */
  kernel: KernelServices;
}
