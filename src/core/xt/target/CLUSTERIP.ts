/**
 * The CLUSTERIP target (IPv4 only): shares one address among cluster
 * nodes by a multicast MAC and a hash of the source. The module was
 * removed from Linux 6.3, so the reference kernel refuses every rule with
 * ENOENT; only the command-line checks remain.
 */
import { defineTarget, paramError } from '../index-types.js';
import { RATE_HELP } from '../rate-help.js';

/** ipt_clusterip_tgt_info (the parts user space sets). */
export interface ClusteripInfo {
  /** CLUSTERIP_FLAG_NEW (1) or 0. */
  flags: number;
  clustermac: number[];
  numTotalNodes: number;
  numLocalNodes: number;
  localNodes: number[];
  /** 1 sourceip, 2 sourceip-sourceport, 3 sourceip-sourceport-destport. */
  hashMode: number;
  hashInitval: number;
}

/** CLUSTERIP_MAX_NODES. */
const MAX_NODES = 16;
const O = { NEW: 0, HASHMODE: 1, CLUSTERMAC: 2, TOTAL_NODES: 3, LOCAL_NODE: 4, HASH_INIT: 5 } as const;
const FULL = (1 << O.NEW) | (1 << O.HASHMODE) | (1 << O.CLUSTERMAC) | (1 << O.TOTAL_NODES) | (1 << O.LOCAL_NODE);
const HASHMODES = ['', 'sourceip', 'sourceip-sourceport', 'sourceip-sourceport-destport'];

const macText = (mac: number[]) => mac.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(':');

/** The values print and save show for a --new rule. */
function fields(info: ClusteripInfo) {
  return {
    mode: HASHMODES[info.hashMode] || 'unknown-error',
    mac: macText(info.clustermac),
    total: info.numTotalNodes,
    local: info.localNodes[0] ?? 0,
    init: info.hashInitval,
  };
}

/** The CLUSTERIP target extension. */
export const CLUSTERIP = defineTarget<ClusteripInfo>({
  name: 'CLUSTERIP',
  kernelMissing: true,
  family: 'ipv4',
  help: () => RATE_HELP['CLUSTERIP']!,
  options: [
    { name: 'new', id: O.NEW, type: 'none' },
    { name: 'hashmode', id: O.HASHMODE, type: 'string' },
    { name: 'clustermac', id: O.CLUSTERMAC, type: 'ethermac' },
    { name: 'total-nodes', id: O.TOTAL_NODES, type: 'uint16', max: MAX_NODES },
    { name: 'local-node', id: O.LOCAL_NODE, type: 'uint16', max: MAX_NODES },
    { name: 'hash-init', id: O.HASH_INIT, type: 'uint32' },
  ],
  init: () => ({
    flags: 0,
    clustermac: [0, 0, 0, 0, 0, 0],
    numTotalNodes: 0,
    numLocalNodes: 0,
    localNodes: [],
    hashMode: 0,
    hashInitval: 0,
  }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case O.NEW:
        info.flags |= 1;
        break;
      case O.HASHMODE: {
        const m = HASHMODES.indexOf(cb.arg!);
        if (m <= 0) throw paramError(`Unknown hashmode "${cb.arg}"`);
        info.hashMode = m;
        break;
      }
      case O.CLUSTERMAC:
        info.clustermac = cb.val.mac!;
        if (!(info.clustermac[0]! & 1)) throw paramError('MAC has to be a multicast ethernet address');
        break;
      case O.TOTAL_NODES:
        info.numTotalNodes = cb.val.num!;
        break;
      case O.LOCAL_NODE:
        info.localNodes = [cb.val.num!];
        info.numLocalNodes = 1;
        break;
      case O.HASH_INIT:
        info.hashInitval = cb.val.num!;
        break;
    }
  },
  final(cb) {
    if (cb.xflags === 0 || (cb.xflags & FULL) === FULL) return;
    throw paramError('CLUSTERIP target: Invalid parameter combination');
  },
  // xt_CLUSTERIP no longer exists in the reference kernel.
  check: () => ({ errno: 'ENOENT' }),
  print(info) {
    if (!(info.flags & 1)) return ' CLUSTERIP';
    const { mode, mac, total, local, init } = fields(info);
    return ` CLUSTERIP hashmode=${mode} clustermac=${mac} total_nodes=${total} local_node=${local} hash_init=${init}`;
  },
  save(info) {
    if (!(info.flags & 1)) return '';
    const { mode, mac, total, local, init } = fields(info);
    return ` --new --hashmode ${mode} --clustermac ${mac} --total-nodes ${total} --local-node ${local} --hash-init ${init}`;
  },
});
