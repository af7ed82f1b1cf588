/**
 * The pkttype match: link-layer packet type (unicast to us, broadcast,
 * multicast, to another host).
 */
import { defineMatch, paramError } from '../index-types.js';
import { PacketType } from '../../path/skb.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_pkttype_info data. */
export interface PkttypeInfo {
  /** PACKET_HOST (0), PACKET_BROADCAST (1), PACKET_MULTICAST (2), PACKET_OTHERHOST (3). */
  pkttype: number;
  invert: number;
}

/** Names in lookup order; the first name of a type is the one printed. */
const TYPES: readonly [string, number][] = [
  ['unicast', 0],
  ['broadcast', 1],
  ['multicast', 2],
  ['otherhost', 3],
  ['bcast', 1],
  ['mcast', 2],
  ['host', 0],
];

function typeName(t: number): string {
  return TYPES.find(([, v]) => v === t)?.[0] ?? String(t);
}

/** The pkttype match definition. */
export const pkttype = defineMatch<PkttypeInfo>({
  name: 'pkttype',
  help: () => PROTO_HELP['pkttype']!,
  options: [{ name: 'pkt-type', id: 0, type: 'string', mandatory: true, invert: true }],
  init: () => ({ pkttype: 0, invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const arg = cb.arg!;
    const t = TYPES.find(([n]) => n.toLowerCase() === arg.toLowerCase());
    if (!t) throw paramError(`Bad packet type '${arg}'`);
    cb.info.pkttype = t[1];
    if (cb.invert) cb.info.invert = 1;
  },
  print(info) {
    return ` PKTTYPE ${info.invert ? '!' : ''}= ${typeName(info.pkttype)}`;
  },
  save(info) {
    return `${info.invert ? ' !' : ''} --pkt-type ${typeName(info.pkttype)}`;
  },
  match(info, ctx) {
    let type: number = ctx.skb.pktType;
    if (type === PacketType.OUTGOING) {
      // a packet this host sends carries PACKET_HOST through the hooks
      type = PacketType.HOST;
    } else if (type === PacketType.LOOPBACK) {
      // looped back: multicast or broadcast by its destination address
      type = ctx.skb.data[16]! >> 4 === 0xe ? PacketType.MULTICAST : PacketType.BROADCAST;
    }
    return (type === info.pkttype) !== (info.invert !== 0);
  },
});
