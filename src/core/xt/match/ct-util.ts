/**
 * What the kernel halves of the conntrack-family extensions need from a
 * packet and the connection table: the tuple a packet would have
 * (nf_ct_get_tuplepr), finding a connection by one of its tuples
 * (nf_conntrack_find_get), and whether a TCP connection is already over.
 * Only the committed contracts (Conn, Tuple, Skb) are relied upon.
 */
import type { Conn, Tuple } from '../../conntrack/types.js';
import type { Skb } from '../../path/skb.js';
import type { ConntrackView } from '../packet.js';
import { get16, get32 } from '../../wire/bytes.js';
import { transportPorts } from '../../conntrack/proto-icmp.js';

const ports = [0, 0];

/**
 * The original-direction tuple the packet would get (nf_ct_get_tuplepr):
 * addresses, protocol and the protocol's part (ports; for ICMP the echo id
 * and type/code; for PPTP's GRE the call id). Null where the kernel gives
 * up: a fragment other than the first, an IP header longer than the
 * packet, a transport header too short, or GRE version 1 carrying
 * something else than PPP (gre_pkt_to_tuple).
 */
export function packetTuple(skb: Skb): Tuple | null {
  const d = skb.data;
  if (d.length < 20) return null;
  if (get16(d, 6) & 0x1fff) return null;
  const thoff = (d[0]! & 0x0f) << 2;
  if (thoff > d.length) return null;
  const proto = d[9]!;
  if (!transportPorts(d, thoff, proto, ports)) return null;
  return { src: get32(d, 12), dst: get32(d, 16), proto, sport: ports[0]!, dport: ports[1]! };
}

/** Whether two tuples are the same (nf_ct_tuple_equal). */
export function sameTuple(a: Tuple, b: Tuple): boolean {
  return a.src === b.src && a.dst === b.dst && a.proto === b.proto && a.sport === b.sport && a.dport === b.dport;
}

/** A string naming a tuple and zone, for maps keyed by connection. */
export function tupleKey(t: Tuple, zone: number): string {
  return `${t.src}/${t.dst}/${t.proto}/${t.sport}/${t.dport}/${zone}`;
}

/**
 * Every connection of the table by the keys of both its tuples, built in
 * one pass: the equivalent of the conntrack hash for several lookups.
 */
export function conntrackIndex(table: ConntrackView): Map<string, Conn> {
  const index = new Map<string, Conn>();
  table.forEach((c) => {
    index.set(tupleKey(c.orig, c.zone), c);
    index.set(tupleKey(c.reply, c.zone), c);
  });
  return index;
}

/** The connection with this tuple in either direction and this zone, or null. */
export function findConn(table: ConntrackView, t: Tuple, zone: number): Conn | null {
  let found: Conn | null = null;
  table.forEach((c) => {
    if (found === null && c.zone === zone && (sameTuple(c.orig, t) || sameTuple(c.reply, t))) found = c;
  });
  return found;
}

/** TCP_CONNTRACK_TIME_WAIT and TCP_CONNTRACK_CLOSE. */
const TCP_TIME_WAIT = 7;
const TCP_CLOSE = 8;

/**
 * already_closed() of nf_conncount: a TCP connection in TIME_WAIT or CLOSE.
 * The TCP tracker keeps its state in `conn.l4.state`, by name
 * ('TIME_WAIT', 'CLOSE') or by the kernel's number (7, 8).
 */
export function tcpClosed(c: Conn): boolean {
  if (c.orig.proto !== 6) return false;
  const s = c.l4?.state;
  return s === 'TIME_WAIT' || s === 'CLOSE' || s === TCP_TIME_WAIT || s === TCP_CLOSE;
}

/** The connection with this id (a RELATED connection's master), or null. */
export function connById(table: ConntrackView, id: number): Conn | null {
  let found: Conn | null = null;
  table.forEach((c) => {
    if (found === null && c.id === id) found = c;
  });
  return found;
}
