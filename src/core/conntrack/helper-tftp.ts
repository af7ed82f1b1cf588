/**
 * The TFTP conntrack helper (nf_conntrack_tftp.c) and its NAT half
 * (nf_nat_tftp.c): a read or write request (opcode 1 or 2) on a
 * connection the helper was given to makes the helper expect the
 * server's answer, which comes from another port, back to the client's
 * port. On a NATed request the expectation follows the master's NAT.
 */
import type { Skb } from '../path/skb.js';
import { NF_ACCEPT, NF_DROP } from '../xt/verdict.js';
import { expectRelated, type Expectation, type ExpectPolicy } from './expect.js';
import type { HelperEnv } from './helper.js';
import { IPS, type Conn } from './types.js';

/** The TFTP helper's expectation policy: one at a time, five minutes. */
export const TFTP_POLICY: ExpectPolicy = { maxExpected: 1, timeoutSec: 300 };

/**
 * The helper function for a datagram of a TFTP connection. Returns the
 * verdict: dropped when the expectation cannot be registered.
 */
export function tftpHelp(env: HelperEnv, skb: Skb, ct: Conn): number {
  const d = skb.data;
  const protoff = (d[0]! & 0x0f) << 2;
  // the UDP header and the 2-byte opcode
  if (protoff + 10 > d.length) return NF_ACCEPT;
  const opcode = (d[protoff + 8]! << 8) | d[protoff + 9]!;
  if (opcode !== 1 && opcode !== 2) return NF_ACCEPT;
  const t = ct.reply;
  const e: Expectation = {
    tuple: { src: t.src, dst: t.dst, proto: 17, sport: 0, dport: t.dport },
    maskSrc: 0xffffffff,
    maskSport: 0,
    master: ct,
    helper: ct.helper,
    cls: 0,
    flags: 0,
    expires: 0,
  };
  if (ct.status & (IPS.SRC_NAT | IPS.DST_NAT)) e.nat = { dir: 1, savedPort: ct.orig.sport };
  if (expectRelated(env.table, e, TFTP_POLICY, env.nowNs()) !== null) {
    env.logHelper?.(skb, `nf_ct_${ct.helper}: dropping packet: cannot add expectation `);
    return NF_DROP;
  }
  return NF_ACCEPT;
}
