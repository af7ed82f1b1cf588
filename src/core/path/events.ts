/**
 * What happens to packets, as one stream of events: the machine reports
 * every frame it receives and sends, every hook a packet passes, every
 * rule that matched a traced packet, and each packet's fate. Counters,
 * LOG and TRACE act inside the traversal; `nflab trace`, `nflab replay`'s
 * summary and the browser view read this stream.
 */
import type { Hook, TableName } from '../netfilter/tables.js';

/** One step in a packet's life. */
export type PathEvent =
  /** A frame arrived on an interface. */
  | { kind: 'rx'; iface: string; frame: Uint8Array; ns: number; packet: number }
  /** A frame left through an interface. */
  | { kind: 'tx'; iface: string; frame: Uint8Array; ns: number; packet: number }
  /** A traced packet in a table's base chain, as it was at the chain's first trace event. */
  | { kind: 'chain'; packet: number; table: TableName; hook: Hook; datagram: Uint8Array; in: string; out: string; mac: Uint8Array | null; mark: number }
  /** A rule matched a traced packet (index from 1), with the target's verdict. */
  | { kind: 'rule'; packet: number; table: TableName; chain: string; index: number; verdict: string; ruleText: string }
  /** A base chain's policy decided. */
  | { kind: 'policy'; packet: number; table: TableName; chain: string; verdict: string }
  /** Where the packet ended: delivered, forwarded, sent, dropped (and by what), stolen... */
  | { kind: 'fate'; packet: number; fate: Fate };

/** The end of a packet's journey through the machine. */
export type Fate =
  | { what: 'delivered'; to: string }
  | { what: 'forwarded'; out: string }
  | { what: 'sent'; out: string }
  | { what: 'dropped'; by: string }
  | { what: 'queued'; why: string }
  | { what: 'stolen'; by: string };

/** Receives the machine's events. */
export type PathListener = (e: PathEvent) => void;
