/**
 * Generic tracking, for every protocol without a tracker of its own: the
 * connection is the address pair and the protocol, refreshed by every
 * packet with nf_conntrack_generic_timeout. Also GRE, whose tracker is
 * nearly as simple: keys in the tuple (PPTP's call id, else 0), a short
 * timeout until a reply is seen, then a longer one and ASSURED.
 */
import type { Skb } from '../path/skb.js';
import { type ConntrackEnv, refreshAcct } from './env.js';
import { CT, readSysctl } from './sysctl.js';
import { IPS_NAT_CLASH } from './table.js';
import { IPS, type Conn } from './types.js';

/** generic_packet: always valid. */
export function genericPacket(env: ConntrackEnv, ct: Conn, skb: Skb, ctinfo: number): number {
  refreshAcct(env, ct, ctinfo, skb.data.length, readSysctl(env.sysctl, CT.generic));
  return 1;
}

/** nf_conntrack_gre_packet. */
export function grePacket(env: ConntrackEnv, ct: Conn, skb: Skb, ctinfo: number): number {
  const status = ct.status;
  if (status & IPS.SEEN_REPLY) {
    refreshAcct(env, ct, ctinfo, skb.data.length, readSysctl(env.sysctl, CT.greStream));
    if (status & IPS_NAT_CLASH) return 1;
    ct.status |= IPS.ASSURED;
  } else {
    refreshAcct(env, ct, ctinfo, skb.data.length, readSysctl(env.sysctl, CT.gre));
  }
  return 1;
}
