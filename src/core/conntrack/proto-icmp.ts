/**
 * ICMP tracking. Queries (echo, timestamp, information, address mask)
 * make connections whose reply tuple carries the answer type; an answer
 * without its query is invalid. Errors (unreachable, time exceeded, ...)
 * are not connections of their own: they are RELATED to the connection
 * of the datagram they quote, or invalid when there is none.
 */
import type { Skb } from '../path/skb.js';
import { CtInfo } from '../path/skb.js';
import { get32 } from '../wire/bytes.js';
import { verifyIcmpChecksum } from '../wire/checksum.js';
import { CT_INVALID, type ConntrackEnv, type ConntrackHook, logInvalid, refreshAcct } from './env.js';
import { CT, readSysctl } from './sysctl.js';
import { connTuple } from './table.js';
import {
  ICMP_ADDRESS,
  ICMP_ECHO,
  ICMP_INFO_REQUEST,
  ICMP_TIMESTAMP,
  NR_ICMP_TYPES,
  icmpInverseType,
  icmpIsError,
} from './tuple.js';
import { Dir, type Conn } from './types.js';

/** nf_conntrack_icmp_packet: only queries may create connections. */
export function icmpPacket(env: ConntrackEnv, ct: Conn, skb: Skb, ctinfo: number): number {
  const type = ct.orig.dport >>> 8;
  if (type !== ICMP_ECHO && type !== ICMP_TIMESTAMP && type !== ICMP_INFO_REQUEST && type !== ICMP_ADDRESS) return CT_INVALID;
  refreshAcct(env, ct, ctinfo, skb.data.length, readSysctl(env.sysctl, CT.icmp));
  return 1;
}

/**
 * The ports of the transport header at `off` of a datagram (the tuple's
 * protocol part), written to `out` as [sport, dport]; false when the
 * header is cut short. For protocols without ports both are 0.
 */
export function transportPorts(data: Uint8Array, off: number, proto: number, out: number[]): boolean {
  switch (proto) {
    case 1:
      if (off + 8 > data.length) return false;
      out[0] = (data[off + 4]! << 8) | data[off + 5]!;
      out[1] = (data[off]! << 8) | data[off + 1]!;
      return true;
    case 6:
    case 17:
    case 136:
    case 132:
      if (off + 4 > data.length) return false;
      out[0] = (data[off]! << 8) | data[off + 1]!;
      out[1] = (data[off + 2]! << 8) | data[off + 3]!;
      return true;
    case 47:
      // GRE: version 1 (PPTP) carries the call id, which is the destination key
      out[0] = 0;
      out[1] = 0;
      if (off + 4 > data.length || (data[off + 1]! & 7) !== 1) return true;
      if (off + 8 > data.length) return true;
      if (((data[off + 2]! << 8) | data[off + 3]!) !== 0x880b) return false;
      out[1] = (data[off + 6]! << 8) | data[off + 7]!;
      return true;
    default:
      out[0] = 0;
      out[1] = 0;
      return true;
  }
}

const innerPorts = [0, 0];

/**
 * nf_conntrack_icmpv4_error: checks an ICMP message at `dataoff`. Returns
 * 1 with skb.ct left null for a query (normal tracking follows), 1 with
 * skb.ct set for an error RELATED to a known connection, CT_INVALID
 * otherwise.
 */
export function icmpError(env: ConntrackEnv, skb: Skb, dataoff: number, hook: ConntrackHook, zone: number): number {
  const data = skb.data;
  const len = data.length;
  if (dataoff + 8 > len) {
    logInvalid(env, skb, hook, 1, 'short packet');
    return CT_INVALID;
  }
  if (hook === 'PREROUTING' && readSysctl(env.sysctl, CT.checksum) !== 0 && !verifyIcmpChecksum(data, dataoff, len - dataoff)) {
    logInvalid(env, skb, hook, 1, 'bad hw icmp checksum');
    return CT_INVALID;
  }
  const type = data[dataoff]!;
  if (type > NR_ICMP_TYPES) {
    logInvalid(env, skb, hook, 1, 'invalid icmp type');
    return CT_INVALID;
  }
  if (!icmpIsError(type)) return 1;

  // the quoted datagram: its tuple, inverted, names the connection
  const inner = dataoff + 8;
  if (inner + 20 > len) return CT_INVALID;
  if (((data[inner + 6]! << 8) | data[inner + 7]!) & 0x1fff) return CT_INVALID;
  const innerOff = inner + (data[inner]! & 0x0f) * 4;
  if (innerOff > len) return CT_INVALID;
  const proto = data[inner + 9]!;
  if (!transportPorts(data, innerOff, proto, innerPorts)) return CT_INVALID;
  const src = get32(data, inner + 12);
  const dst = get32(data, inner + 16);
  let sport = innerPorts[0]!;
  let dport = innerPorts[1]!;
  if (proto === 1) {
    const inv = icmpInverseType(dport >>> 8);
    if (inv < 0) return CT_INVALID;
    dport = (inv << 8) | (dport & 0xff);
  } else {
    const t = sport;
    sport = dport;
    dport = t;
  }
  const ref = env.table.lookup(dst, src, proto, sport, dport, zone, env.nowNs());
  if (ref === null) return CT_INVALID;
  const ct = ref.conn;
  const outerDst = get32(data, 16);
  if (connTuple(ct, ref.dir).dst !== outerDst) {
    if (env.logInvalid && readSysctl(env.sysctl, CT.logInvalid) !== 0) {
      logInvalid(env, skb, hook, 1, `outer daddr ${dotted(outerDst)} != inner ${dotted(connTuple(ct, ref.dir).dst)}`);
    }
    return CT_INVALID;
  }
  skb.ct = ct;
  skb.ctinfo = ref.dir === Dir.REPLY ? CtInfo.RELATED_REPLY : CtInfo.RELATED;
  return 1;
}

function dotted(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}
