/**
 * What NAT uses of the conntrack table: the table itself (KernelServices'
 * conntrack view is the ConntrackTable), the index of source-NAT bindings
 * by original source (the kernel's nf_nat_bysource hash), and two facts of
 * the TCP tracker for the eviction of closed connections.
 */
import type { KernelServices } from '../xt/packet.js';
import type { TcpState } from './proto-tcp.js';
import { ConntrackTable } from './table.js';
import { IPS, type Conn } from './types.js';

/** The machine's conntrack table; KernelServices.conntrack must be one. */
export function natTable(env: Pick<KernelServices, 'conntrack'>): ConntrackTable {
  const t = env.conntrack;
  if (!(t instanceof ConntrackTable)) throw new Error('NAT needs KernelServices.conntrack to be the ConntrackTable');
  return t;
}

/** The TCP tracker's state of a TCP connection (TCP_CONNTRACK_*), 0 when it has none. */
export function tcpState(c: Conn): number {
  const l4 = c.l4 as TcpState | null;
  return l4 ? l4.state : 0;
}

/** The TCP tracker's highest sequence end seen from the originator (seen[0].td_end), 0 when it has none. */
export function tcpSeenEnd(c: Conn): number {
  const l4 = c.l4 as TcpState | null;
  return l4 ? l4.seen[0].end : 0;
}

/**
 * Source-NAT bindings by original source (protocol, address, port), in
 * the order they were set up. The kernel keeps each connection on this
 * list from its source binding until it is destroyed; here entries no
 * longer in the table are skipped and pruned as they are met.
 */
interface BySource {
  map: Map<string, Conn[]>;
  size: number;
}

const bySourceOf = new WeakMap<ConntrackTable, BySource>();

function sourceKey(proto: number, src: number, sport: number): string {
  return `${proto}/${src}/${sport}`;
}

function addTo(idx: BySource, c: Conn): void {
  const k = sourceKey(c.orig.proto, c.orig.src, c.orig.sport);
  const list = idx.map.get(k);
  if (list) list.push(c);
  else idx.map.set(k, [c]);
  idx.size++;
}

/** The index of a table, built from its entries the first time (or after the table was reloaded). */
function bySource(table: ConntrackTable): BySource {
  let idx = bySourceOf.get(table);
  if (!idx) {
    idx = { map: new Map(), size: 0 };
    bySourceOf.set(table, idx);
    for (const c of table.entries()) if (c.status & IPS.SRC_NAT_DONE) addTo(idx, c);
  }
  return idx;
}

/** Records a connection's new source binding (made for a connection not yet in the table). */
export function noteSourceBinding(table: ConntrackTable, c: Conn): void {
  const idx = bySource(table);
  addTo(idx, c);
  // Drop what left the table once the index has grown well past it.
  if (idx.size > 64 && idx.size > 2 * table.count()) {
    bySourceOf.delete(table);
    const fresh = bySource(table);
    if (!table.has(c)) addTo(fresh, c);
  }
}

/**
 * Calls fn for the connections in the table bound with the given
 * original source, most recently bound first, until fn returns true.
 */
export function forEachSameSource(
  table: ConntrackTable,
  proto: number,
  src: number,
  sport: number,
  fn: (c: Conn) => boolean,
): void {
  const idx = bySource(table);
  const k = sourceKey(proto, src, sport);
  const list = idx.map.get(k);
  if (!list) return;
  for (let i = list.length - 1; i >= 0; i--) {
    const c = list[i]!;
    if (!table.has(c)) {
      // Not confirmed yet, or gone: only the latter is forgotten.
      if (c.status & (IPS.CONFIRMED | IPS.DYING)) {
        list.splice(i, 1);
        idx.size--;
      }
      continue;
    }
    if (fn(c)) break;
  }
  if (list.length === 0) idx.map.delete(k);
}
