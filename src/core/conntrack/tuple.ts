/**
 * Connection tuples: equality, inversion (the tuple replies carry) and the
 * numeric key the table is indexed by.
 *
 * The key is a 30-bit hash of the tuple and the zone: a small integer, so
 * a lookup builds no string and allocates nothing (larger numbers would be
 * boxed). Different tuples may share a key: the table keeps a short list
 * per key and compares tuples.
 */
import type { Tuple } from './types.js';

import {
  ICMP_ADDRESS,
  ICMP_ADDRESSREPLY,
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_ECHOREPLY,
  ICMP_INFO_REPLY,
  ICMP_INFO_REQUEST,
  ICMP_PARAMETERPROB,
  ICMP_REDIRECT,
  ICMP_SOURCE_QUENCH,
  ICMP_TIME_EXCEEDED,
  ICMP_TIMESTAMP,
  ICMP_TIMESTAMPREPLY,
} from '../wire/icmp.js';

/** ICMP types, from the wire module. */
export {
  ICMP_ADDRESS,
  ICMP_ADDRESSREPLY,
  ICMP_DEST_UNREACH,
  ICMP_ECHO,
  ICMP_ECHOREPLY,
  ICMP_INFO_REPLY,
  ICMP_INFO_REQUEST,
  ICMP_PARAMETERPROB,
  ICMP_REDIRECT,
  ICMP_SOURCE_QUENCH,
  ICMP_TIME_EXCEEDED,
  ICMP_TIMESTAMP,
  ICMP_TIMESTAMPREPLY,
} from '../wire/icmp.js';

/** The highest ICMP type the kernel knows (NR_ICMP_TYPES). */
export const NR_ICMP_TYPES = 18;

/**
 * For each ICMP query type, its answer type plus one (zero: no inverse),
 * like the kernel's invmap.
 */
const ICMP_INVMAP: readonly number[] = (() => {
  const m: number[] = new Array(NR_ICMP_TYPES + 1).fill(0);
  m[ICMP_ECHO] = ICMP_ECHOREPLY + 1;
  m[ICMP_ECHOREPLY] = ICMP_ECHO + 1;
  m[ICMP_TIMESTAMP] = ICMP_TIMESTAMPREPLY + 1;
  m[ICMP_TIMESTAMPREPLY] = ICMP_TIMESTAMP + 1;
  m[ICMP_INFO_REQUEST] = ICMP_INFO_REPLY + 1;
  m[ICMP_INFO_REPLY] = ICMP_INFO_REQUEST + 1;
  m[ICMP_ADDRESS] = ICMP_ADDRESSREPLY + 1;
  m[ICMP_ADDRESSREPLY] = ICMP_ADDRESS + 1;
  return m;
})();

/** Whether an ICMP type is an error quoting another datagram (icmp_is_err). */
export function icmpIsError(type: number): boolean {
  return (
    type === ICMP_DEST_UNREACH ||
    type === ICMP_SOURCE_QUENCH ||
    type === ICMP_REDIRECT ||
    type === ICMP_TIME_EXCEEDED ||
    type === ICMP_PARAMETERPROB
  );
}

/** The answer type of an ICMP query type, or -1 when it has none. */
export function icmpInverseType(type: number): number {
  const v = type <= NR_ICMP_TYPES ? ICMP_INVMAP[type]! : 0;
  return v - 1;
}

/** A new tuple. */
export function makeTuple(src: number, dst: number, proto: number, sport: number, dport: number): Tuple {
  return { src: src >>> 0, dst: dst >>> 0, proto, sport, dport };
}

/** Whether two tuples are the same. */
export function tupleEquals(a: Tuple, b: Tuple): boolean {
  return a.src === b.src && a.dst === b.dst && a.proto === b.proto && a.sport === b.sport && a.dport === b.dport;
}

/**
 * The tuple a reply to `t` carries (nf_ct_invert_tuple), or null when the
 * protocol has no answer for it (an ICMP type without a reply type).
 */
export function invertTuple(t: Tuple): Tuple | null {
  if (t.proto === 1) {
    const inv = icmpInverseType(t.dport >>> 8);
    if (inv < 0) return null;
    return { src: t.dst, dst: t.src, proto: 1, sport: t.sport, dport: (inv << 8) | (t.dport & 0xff) };
  }
  return { src: t.dst, dst: t.src, proto: t.proto, sport: t.dport, dport: t.sport };
}

/** Number of distinct keys (2^30). */
export const KEY_SPACE = 1 << 30;

/** The table key of a tuple in a zone: a murmur-style mix of its fields, 30 bits. */
export function tupleKey(src: number, dst: number, proto: number, sport: number, dport: number, zone: number): number {
  const ports = ((sport & 0xffff) << 16) | (dport & 0xffff);
  let h = 0x2545f491 ^ (proto & 0xff) ^ ((zone & 0xffff) << 8);
  h = Math.imul(h ^ src, 0xcc9e2d51);
  h = (h << 15) | (h >>> 17);
  h = Math.imul(h ^ dst, 0x1b873593);
  h = (h << 13) | (h >>> 19);
  h = Math.imul(h ^ ports, 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 13;
  return h >>> 2;
}

/** The key of a tuple object in a zone. */
export function keyOf(t: Tuple, zone: number): number {
  return tupleKey(t.src, t.dst, t.proto, t.sport, t.dport, zone);
}
