/**
 * What the host's own stack does with a packet INPUT accepted for one of
 * its addresses when no program takes it (ip_local_deliver_finish and the
 * protocol handlers of Linux 6.18): TCP answers with a reset, UDP with a
 * port unreachable, ICMP echo and timestamp requests get their replies,
 * other ICMP messages, IGMP and PIM are consumed, any other protocol gets a
 * protocol unreachable. Packets with a bad checksum or a malformed header
 * are dropped without a word.
 *
 * The namespace's sockets (src/core/stack) see every packet first: raw
 * sockets take copies, a TCP or UDP socket consumes what is addressed to
 * it, ICMP errors reach the socket that caused them. What no socket
 * consumes gets the host's answer below.
 */
import { get16, get32 } from '../wire/bytes.js';
import { checksumFinish, checksumPartial, pseudoHeaderSum, verifyIcmpChecksum } from '../wire/checksum.js';
import type { KernelServices } from '../xt/packet.js';
import { icmpReply, icmpSend } from './icmp-send.js';
import { inetCurrentTimestamp } from './ip-options.js';
import { PacketType, type Skb } from './skb.js';
import { sendStackReset } from './tcp-reset.js';

/** Protocols this kernel has a handler for besides TCP, UDP, UDP-Lite and ICMP: IGMP and PIM consume what they get. */
const CONSUMED_PROTOCOLS: ReadonlySet<number> = new Set([2, 103]);

/** Whether the segment or datagram at `off` (`len` bytes) sums to zero with its pseudo header. */
function pseudoChecksumOk(d: Uint8Array, off: number, len: number, proto: number, pseudoLen = len): boolean {
  return checksumFinish(checksumPartial(d, off, len, pseudoHeaderSum(get32(d, 12), get32(d, 16), proto, pseudoLen))) === 0;
}

/** An integer sysctl of net.ipv4, or `dflt` when the machine has none. */
function ipv4Sysctl(kernel: KernelServices, name: string, dflt: number): number {
  const v = kernel.net?.sysctl?.[`net.ipv4.${name}`];
  if (v === undefined) return dflt;
  const n = parseInt(v, 10);
  return Number.isNaN(n) ? 0 : n;
}

/**
 * Delivers a packet INPUT accepted to the host's own stack (called by the
 * traversal for packets routed to a local, broadcast or multicast address
 * of this host, fragments already reassembled).
 */
export function localDeliver(kernel: KernelServices, skb: Skb): void {
  const d = skb.data;
  if (d.length < 20) return;
  const ihl = (d[0]! & 15) * 4;
  const proto = d[9]!;
  if (kernel.sockets?.deliver(skb)) return;
  switch (proto) {
    case 1:
      icmpRcv(kernel, skb, ihl);
      return;
    case 6:
      tcpRcv(kernel, skb, ihl);
      return;
    case 17:
    case 136:
      udpRcv(kernel, skb, ihl, proto);
      return;
  }
  if (CONSUMED_PROTOCOLS.has(proto)) return;
  icmpSend(kernel, skb, 3, 2, 0);
}

/** tcp_v4_rcv without a socket (or with one that resets the segment): a reset for anything but a reset. */
function tcpRcv(kernel: KernelServices, skb: Skb, ihl: number): void {
  const d = skb.data;
  if (skb.pktType !== PacketType.HOST && skb.pktType !== PacketType.OUTGOING) return;
  const len = d.length - ihl;
  if (len < 20) return;
  const doff = (d[ihl + 12]! >> 4) * 4;
  if (doff < 20 || doff > len) return;
  if (!pseudoChecksumOk(d, ihl, len, 6)) return;
  sendStackReset(kernel, skb, ihl);
}

/** __udp4_lib_rcv without a socket: a port unreachable for a sound unicast datagram. */
function udpRcv(kernel: KernelServices, skb: Skb, ihl: number, proto: number): void {
  const d = skb.data;
  const len = d.length - ihl;
  if (len < 8) return;
  const ulen = get16(d, ihl + 4);
  if (ulen > len) return;
  // UDP ignores what follows its length; for UDP-Lite the field is the checksum coverage.
  let length = len;
  let covered = len;
  const check = get16(d, ihl + 6);
  if (proto === 17) {
    if (ulen < 8) return;
    length = covered = ulen;
  } else {
    if (check === 0) return;
    if (ulen !== 0 && ulen < 8) return;
    if (ulen !== 0) covered = ulen;
  }
  if (skb.route === 'broadcast' || skb.route === 'multicast') return;
  // Drop silently when the checksum is wrong (a zero UDP checksum means none).
  if ((proto !== 17 || check !== 0) && !pseudoChecksumOk(d, ihl, covered, proto, length)) return;
  // The stack dropped the packet's conntrack reference before answering.
  icmpSend(kernel, skb, 3, 3, 0, { attachCt: false, length: ihl + length });
}

/** icmp_rcv: echo and timestamp requests are answered, everything else consumed. */
function icmpRcv(kernel: KernelServices, skb: Skb, ihl: number): void {
  const d = skb.data;
  const len = d.length - ihl;
  if (!verifyIcmpChecksum(d, ihl, len)) return;
  if (len < 8) return;
  const type = d[ihl]!;
  if (type > 18) return; // includes extended echo (probes are off by default) and its reply
  if (skb.route === 'broadcast' || skb.route === 'multicast') {
    if ((type === 8 || type === 13) && ipv4Sysctl(kernel, 'icmp_echo_ignore_broadcasts', 1)) return;
    if (type !== 8 && type !== 13 && type !== 17 && type !== 18) return;
  }
  if (type === 8) {
    if (ipv4Sysctl(kernel, 'icmp_echo_ignore_all', 0)) return;
    const body = d.slice(ihl);
    body[0] = 0;
    icmpReply(kernel, skb, body);
  } else if (type === 13) {
    if (len - 8 < 4) return;
    const body = new Uint8Array(20);
    body.set(d.subarray(ihl, ihl + 8));
    body[0] = 14;
    body[1] = 0;
    body.set(d.subarray(ihl + 8, ihl + 12), 8);
    const now = inetCurrentTimestamp(kernel);
    for (const at of [12, 16]) {
      body[at] = now >>> 24;
      body[at + 1] = (now >>> 16) & 0xff;
      body[at + 2] = (now >>> 8) & 0xff;
      body[at + 3] = now & 0xff;
    }
    icmpReply(kernel, skb, body);
  }
}
