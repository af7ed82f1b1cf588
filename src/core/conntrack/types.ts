/**
 * Connection tracking records, shaped like the kernel's nf_conn: the two
 * tuples, the status bits, the expiry on the virtual clock and the marks
 * rules read and set. Plain data, so the table persists as JSON.
 */

/**
 * One direction of a connection (nf_conntrack_tuple). For ICMP, `sport`
 * holds the echo id and `dport` the type and code as (type << 8) | code,
 * the way the kernel stores them; other protocols without ports keep 0.
 */
export interface Tuple {
  /** Source address, unsigned 32-bit. */
  src: number;
  /** Destination address, unsigned 32-bit. */
  dst: number;
  /** Layer-4 protocol number. */
  proto: number;
  sport: number;
  dport: number;
}

/** Direction of a packet within its connection (IP_CT_DIR_*). */
export const enum Dir {
  ORIGINAL = 0,
  REPLY = 1,
}

/** Status bits of a connection (IPS_*), as conntrack-tools decodes them. */
export const IPS = {
  EXPECTED: 1 << 0,
  SEEN_REPLY: 1 << 1,
  ASSURED: 1 << 2,
  CONFIRMED: 1 << 3,
  SRC_NAT: 1 << 4,
  DST_NAT: 1 << 5,
  SEQ_ADJUST: 1 << 6,
  SRC_NAT_DONE: 1 << 7,
  DST_NAT_DONE: 1 << 8,
  DYING: 1 << 9,
  FIXED_TIMEOUT: 1 << 10,
  TEMPLATE: 1 << 11,
  UNTRACKED: 1 << 12,
  HELPER: 1 << 13,
  OFFLOAD: 1 << 14,
} as const;

/** A tracked connection. */
export interface Conn {
  /** Unique id (conntrack -L -o id shows it). */
  id: number;
  /** The tuple of the first packet's direction. */
  orig: Tuple;
  /** The tuple replies carry (after NAT: what they really carry). */
  reply: Tuple;
  /** IPS_* bits. */
  status: number;
  /** Expiry on the virtual clock, in nanoseconds since boot. */
  expires: number;
  /** ctmark (CONNMARK, -m connmark). */
  mark: number;
  /** Security mark (CONNSECMARK). */
  secmark: number;
  /** Conntrack zone (CT --zone); 0 by default. */
  zone: number;
  /** Connection labels (128 bits as four unsigned 32-bit words, bit 0 in word 0's low bit). */
  labels: number[];
  /** Helper attached to the connection ('ftp', ...), or '' when none. */
  helper: string;
  /** Id of the connection that expected this one (RELATED), 0 when none. */
  master: number;
  /** Per-protocol state (the TCP state machine and window tracking, ...); owned by the protocol module. */
  l4: any;
  /** Packets and bytes per direction, [original, reply] (kept always, printed when accounting is on). */
  pkts: [number, number];
  bytes: [number, number];
}
