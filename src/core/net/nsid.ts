/**
 * Namespace ids (nsid): the number a network namespace gives another one
 * (peernet2id_alloc). The kernel hands the lowest free id out the first
 * time the namespace reports something about the other one: a device
 * moving there, or a veth whose other end lives there being listed or
 * changing. `ip netns list` shows them, `ip link` names veth peers with them.
 */
import type { NetState } from './types.js';

/** The id `net` gave the namespace `peer` ('' is the host's own), or undefined. */
export function nsidOf(net: NetState, peer: string): number | undefined {
  return net.nsids?.[peer];
}

/** Whether `id` is taken in `net`. */
export function nsidUsed(net: NetState, id: number): boolean {
  const ids = net.nsids;
  if (!ids) return false;
  for (const k in ids) if (ids[k] === id) return true;
  return false;
}

/** The lowest id `net` has not given out. */
export function nsidFree(net: NetState): number {
  let id = 0;
  while (nsidUsed(net, id)) id++;
  return id;
}

/** The id of `peer` in `net`, given out now when there is none yet. */
export function nsidAlloc(net: NetState, peer: string): number {
  const have = nsidOf(net, peer);
  if (have !== undefined) return have;
  const id = nsidFree(net);
  (net.nsids ??= {})[peer] = id;
  return id;
}

/** Forgets the id of a namespace that went away. */
export function nsidForget(net: NetState, peer: string): void {
  if (!net.nsids || !(peer in net.nsids)) return;
  delete net.nsids[peer];
  if (Object.keys(net.nsids).length === 0) delete net.nsids;
}
