/**
 * The cluster match: spreads connections over the nodes of a cluster by
 * hashing; a rule matches the share of this node (a node number, or a
 * mask of them). It is always saved as --cluster-local-nodemask.
 */
import { defineMatch, paramError } from '../index-types.js';
import type { Conn } from '../../conntrack/types.js';
import { PacketType } from '../../path/skb.js';
import { hostOrder32, jhash1word, reciprocalScale } from '../jhash.js';
import type { PacketContext } from '../packet.js';

/** xt_cluster_match_info. */
export interface ClusterInfo {
  totalNodes: number;
  nodeMask: number;
  hashSeed: number;
  /** XT_CLUSTER_F_INV (1). */
  flags: number;
}

/** XT_CLUSTER_NODES_MAX. */
const NODES_MAX = 32;
const F_INV = 1;

const hex8 = (n: number) => (n >>> 0).toString(16).padStart(8, '0');

/** What `iptables -m cluster -h` adds after the general help. */
const HELP =
  'cluster match options:\n' +
  '  --cluster-total-nodes <num>\t\tSet number of total nodes in cluster\n' +
  '  [!] --cluster-local-node <num>\tSet the local node number\n' +
  '  [!] --cluster-local-nodemask <num>\tSet the local node mask\n' +
  '  --cluster-hash-seed <num>\t\tSet seed value of the Jenkins hash\n';

/** The cluster match (-m cluster). */
export const cluster = defineMatch<ClusterInfo>({
  name: 'cluster',
  help: () => HELP,
  options: [
    { name: 'cluster-total-nodes', id: 0, type: 'uint32', min: 1, max: NODES_MAX, mandatory: true },
    { name: 'cluster-local-node', id: 1, type: 'uint32', min: 1, max: NODES_MAX, invert: true, excl: [2] },
    { name: 'cluster-local-nodemask', id: 2, type: 'uint32', min: 1, max: NODES_MAX, invert: true, excl: [1] },
    { name: 'cluster-hash-seed', id: 3, type: 'uint32', mandatory: true },
  ],
  init: () => ({ totalNodes: 0, nodeMask: 0, hashSeed: 0, flags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const v = cb.val.num!;
    switch (cb.entry.id) {
      case 0:
        info.totalNodes = v;
        break;
      case 1:
        if (cb.invert) info.flags |= F_INV;
        info.nodeMask = (1 << (v - 1)) >>> 0;
        break;
      case 2:
        if (cb.invert) info.flags |= F_INV;
        info.nodeMask = v;
        break;
      case 3:
        info.hashSeed = v;
        break;
    }
  },
  final(cb) {
    const info = cb.info;
    const x = cb.xflags;
    const limit = 2 ** info.totalNodes;
    if ((x & 0b1011) === 0b1011) {
      if (info.nodeMask >= limit)
        throw paramError("cluster match: `--cluster-local-node' must be <= `--cluster-total-nodes'");
      return;
    }
    if ((x & 0b1101) === 0b1101) {
      if (info.nodeMask >= limit)
        throw paramError("cluster match: `--cluster-local-nodemask' too big for `--cluster-total-nodes'");
      return;
    }
    if (!(x & 0b0110)) throw paramError("cluster match: `--cluster-local-node' or`--cluster-local-nodemask' is missing");
  },
  print: (info) =>
    ` cluster ${info.flags & F_INV ? '!' : ''}node_mask=0x${hex8(info.nodeMask)}` +
    ` total_nodes=${info.totalNodes} hash_seed=0x${hex8(info.hashSeed)}`,
  save: (info) =>
    `${info.flags & F_INV ? ' !' : ''} --cluster-local-nodemask 0x${hex8(info.nodeMask)}` +
    ` --cluster-total-nodes ${info.totalNodes} --cluster-hash-seed 0x${hex8(info.hashSeed)}`,
  match(info, ctx) {
    const skb = ctx.skb;
    // a unicast destination reached through a multicast MAC is taken as meant for this host
    if (skb.pktType === PacketType.MULTICAST && skb.data[16]! >> 4 !== 0xe) skb.pktType = PacketType.HOST;
    let ct = skb.untracked ? null : skb.ct;
    if (ct === null) return false;
    if (ct.master !== 0) ct = findConn(ctx, ct.master) ?? ct;
    // the original source address as a little-endian CPU reads it, hashed with the seed
    const hash = reciprocalScale(jhash1word(hostOrder32(ct.orig.src), info.hashSeed), info.totalNodes);
    return ((((1 << hash) & info.nodeMask) >>> 0) !== 0) !== ((info.flags & F_INV) !== 0);
  },
});

/** The connection with id `id`, if it is still in the table. */
function findConn(ctx: PacketContext, id: number): Conn | undefined {
  let found: Conn | undefined;
  ctx.kernel.conntrack.forEach((c) => {
    if (c.id === id) found = c;
  });
  return found;
}
