/**
 * The TRACE target: marks packets so that every rule they traverse is
 * logged. It has no options and prints nothing after its name.
 */
import { defineTarget } from '../index-types.js';
import type { PacketContext } from '../packet.js';
import { XT_CONTINUE } from '../verdict.js';

/** TRACE carries no data. */
export type TraceInfo = Record<string, never>;

export const TRACE = defineTarget<TraceInfo>({
  name: 'TRACE',
  options: [],
  init: () => ({}),
  print: () => '',
  save: () => '',
  target: traceTarget,
});

/**
 * The kernel half: iptables-nft turns TRACE into `meta nftrace set 1`,
 * which marks the packet for tracing and lets the traversal go on.
 */
function traceTarget(_info: TraceInfo, ctx: PacketContext): number {
  ctx.skb.trace = true;
  return XT_CONTINUE;
}
