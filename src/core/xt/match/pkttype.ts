/**
 * The pkttype match: link-layer packet type (unicast to us, broadcast,
 * multicast, to another host).
 */
import { defineMatch, paramError } from '../index-types.js';
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
});
