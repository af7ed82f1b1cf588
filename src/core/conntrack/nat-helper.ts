/**
 * What NAT helpers share (nf_nat_helper.c): rewriting a piece of a TCP
 * segment's payload (the address in FTP's PORT line) with the length
 * change recorded for sequence adjustment, choosing the port an expected
 * connection will use, and setting up an expected connection's NAT so it
 * follows its master's.
 */
import type { Skb } from '../path/skb.js';
import { put16 } from '../wire/bytes.js';
import { fillIpv4Checksum, fillTcpChecksum } from '../wire/checksum.js';
import { NAT_FLAG, type NatRange } from '../xt/target/nat-range.js';
import { expectRelated, type Expectation, type ExpectError, type ExpectPolicy } from './expect.js';
import { natSetupInfo, type NatEnv } from './nat.js';
import { seqadjSet } from './nat-seqadj.js';
import type { ConntrackTable } from './table.js';
import type { Conn } from './types.js';

/** The direction of a packet from its ctinfo (CTINFO2DIR). */
function dirOf(ctinfo: number): 0 | 1 {
  return ctinfo >= 3 ? 1 : 0;
}

/**
 * __nf_nat_mangle_tcp_packet: replaces `matchlen` bytes at `matchoff` of
 * the TCP payload of skb (TCP header at `protoff`) with `rep`, fixes the
 * IP length and both checksums, and records the length change for
 * sequence adjustment. The datagram is replaced when its length changes.
 * Returns false when the result would exceed 65535 bytes.
 */
export function mangleTcpPacket(skb: Skb, ct: Conn, ctinfo: number, protoff: number, matchoff: number, matchlen: number, rep: Uint8Array): boolean {
  const old = skb.data;
  const dataoff = protoff + ((old[protoff + 12]! >>> 4) << 2);
  const at = dataoff + matchoff;
  const len = old.length + rep.length - matchlen;
  if (len > 65535) return false;
  let d = old;
  if (rep.length !== matchlen) {
    d = new Uint8Array(len);
    d.set(old.subarray(0, at), 0);
    d.set(old.subarray(at + matchlen), at + rep.length);
  }
  d.set(rep, at);
  put16(d, 2, len);
  fillIpv4Checksum(d, 0);
  d[protoff + 16] = 0;
  d[protoff + 17] = 0;
  const src = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
  const dst = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
  fillTcpChecksum(d, protoff, len - protoff, src, dst);
  skb.data = d;
  if (rep.length !== matchlen) {
    const seq = ((d[protoff + 4]! << 24) | (d[protoff + 5]! << 16) | (d[protoff + 6]! << 8) | d[protoff + 7]!) >>> 0;
    seqadjSet(ct, dirOf(ctinfo), seq, rep.length - matchlen);
  }
  return true;
}

/**
 * nf_nat_exp_find_port: registers the expectation for `port`, or when
 * that clashes with another, for random ports above it (128 tries).
 * Returns the port, or 0 when none could be had.
 */
export function expectFindPort(env: NatEnv, table: ConntrackTable, e: Expectation, policy: ExpectPolicy, port: number, nowNs: number): number {
  const min = port;
  const range = 65535 - port;
  let left = Math.min(range, 128);
  for (;;) {
    e.tuple.dport = port;
    const r: ExpectError | null = expectRelated(table, e, policy, nowNs);
    if (r === null) return port;
    if (r !== 'EBUSY' || --left < 0) return 0;
    port = (min + ((env.random32() >>> 0) % range)) & 0xffff;
  }
}

/**
 * nf_nat_follow_master: a new connection that fulfils a NATed expectation
 * gets its source mapped to where the master sends to, and its
 * destination to where the master's peer really is, on the port saved in
 * the expectation.
 */
export function natFollowMaster(env: NatEnv, ct: Conn, e: Expectation): void {
  if (!e.nat) return;
  const m = e.master;
  const t = e.nat.dir === 0 ? m.reply : m.orig;
  const srcRange: NatRange = { rangesize: 1, flags: NAT_FLAG.MAP_IPS, minIp: t.dst, maxIp: t.dst, minPort: 0, maxPort: 0, basePort: 0 };
  natSetupInfo(env, ct, srcRange, 'SRC');
  const port = e.nat.savedPort;
  const dstRange: NatRange = {
    rangesize: 1,
    flags: NAT_FLAG.MAP_IPS | NAT_FLAG.PROTO_SPECIFIED,
    minIp: t.src,
    maxIp: t.src,
    minPort: port,
    maxPort: port,
    basePort: 0,
  };
  natSetupInfo(env, ct, dstRange, 'DST');
}

