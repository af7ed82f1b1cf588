/**
 * UDP (and UDP-Lite) tracking: malformed datagrams and bad checksums are
 * invalid; a flow is UNREPLIED until a reply is seen, and becomes an
 * ASSURED stream when it is still active more than two seconds after its
 * first packet, which also lengthens its timeout.
 */
import type { Skb } from '../path/skb.js';
import { verifyUdpChecksum } from '../wire/checksum.js';
import { get32 } from '../wire/bytes.js';
import { CT_INVALID, type ConntrackEnv, type ConntrackHook, logInvalid, refreshAcct } from './env.js';
import { CT, HZ, jiffiesAt, readSysctl } from './sysctl.js';
import { IPS_NAT_CLASH } from './table.js';
import { IPS, type Conn } from './types.js';

/** UDP per-connection state: the jiffy after which the flow counts as a stream. */
export interface UdpState {
  streamTs: number;
}

/** IPPROTO_UDPLITE. */
const UDPLITE = 136;

function udpError(env: ConntrackEnv, skb: Skb, dataoff: number, hook: ConntrackHook): boolean {
  const data = skb.data;
  const udplen = data.length - dataoff;
  if (udplen < 8) {
    logInvalid(env, skb, hook, 17, 'short packet');
    return true;
  }
  const len = (data[dataoff + 4]! << 8) | data[dataoff + 5]!;
  if (len > udplen || len < 8) {
    logInvalid(env, skb, hook, 17, 'truncated/malformed packet');
    return true;
  }
  if (data[dataoff + 6] === 0 && data[dataoff + 7] === 0) return false;
  if (hook === 'PREROUTING' && readSysctl(env.sysctl, CT.checksum) !== 0) {
    if (!verifyUdpChecksum(data, dataoff, udplen, get32(data, 12), get32(data, 16))) {
      logInvalid(env, skb, hook, 17, 'bad checksum');
      return true;
    }
  }
  return false;
}

function udpliteError(env: ConntrackEnv, skb: Skb, dataoff: number, hook: ConntrackHook): boolean {
  const data = skb.data;
  const udplen = data.length - dataoff;
  if (udplen < 8) {
    logInvalid(env, skb, hook, UDPLITE, 'short packet');
    return true;
  }
  let cscov = (data[dataoff + 4]! << 8) | data[dataoff + 5]!;
  if (cscov === 0) cscov = udplen;
  else if (cscov < 8 || cscov > udplen) {
    logInvalid(env, skb, hook, UDPLITE, 'invalid checksum coverage');
    return true;
  }
  if (data[dataoff + 6] === 0 && data[dataoff + 7] === 0) {
    logInvalid(env, skb, hook, UDPLITE, 'checksum missing');
    return true;
  }
  if (hook === 'PREROUTING' && readSysctl(env.sysctl, CT.checksum) !== 0) {
    let sum = (get32(data, 12) >>> 16) + (get32(data, 12) & 0xffff) + (get32(data, 16) >>> 16) + (get32(data, 16) & 0xffff);
    // the kernel verifies UDP-Lite with the UDP protocol number in the pseudo header
    sum += 17 + udplen;
    const end = dataoff + cscov;
    let i = dataoff;
    for (; i + 1 < end; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
    if (i < end) sum += data[i]! << 8;
    while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
    if ((~sum & 0xffff) !== 0) {
      logInvalid(env, skb, hook, UDPLITE, 'bad checksum');
      return true;
    }
  }
  return false;
}

/** nf_conntrack_udp_packet: the verdict for a UDP packet of `ct` (CT_INVALID when invalid). */
export function udpPacket(env: ConntrackEnv, ct: Conn, skb: Skb, dataoff: number, ctinfo: number, hook: ConntrackHook): number {
  if (udpError(env, skb, dataoff, hook)) return CT_INVALID;
  const jnow = jiffiesAt(env.nowNs());
  const status = ct.status;
  if (!(status & IPS.CONFIRMED)) ct.l4 = { streamTs: 2 * HZ + jnow } satisfies UdpState;
  if (status & IPS.SEEN_REPLY) {
    let extra = readSysctl(env.sysctl, CT.udp);
    let stream = false;
    if (jnow > (ct.l4 as UdpState).streamTs) {
      extra = readSysctl(env.sysctl, CT.udpStream);
      stream = (status & IPS.ASSURED) === 0;
    }
    refreshAcct(env, ct, ctinfo, skb.data.length, extra);
    if (status & IPS_NAT_CLASH) return 1;
    if (stream) ct.status |= IPS.ASSURED;
  } else {
    refreshAcct(env, ct, ctinfo, skb.data.length, readSysctl(env.sysctl, CT.udp));
  }
  return 1;
}

/** nf_conntrack_udplite_packet: like UDP, but assured as soon as a reply was seen. */
export function udplitePacket(env: ConntrackEnv, ct: Conn, skb: Skb, dataoff: number, ctinfo: number, hook: ConntrackHook): number {
  if (udpliteError(env, skb, dataoff, hook)) return CT_INVALID;
  if (ct.status & IPS.SEEN_REPLY) {
    refreshAcct(env, ct, ctinfo, skb.data.length, readSysctl(env.sysctl, CT.udpStream));
    if (ct.status & IPS_NAT_CLASH) return 1;
    ct.status |= IPS.ASSURED;
  } else {
    refreshAcct(env, ct, ctinfo, skb.data.length, readSysctl(env.sysctl, CT.udp));
  }
  return 1;
}
