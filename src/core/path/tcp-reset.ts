/**
 * TCP resets the host sends: the one of REJECT --reject-with tcp-reset
 * (nf_send_reset) and the one of the TCP stack for a segment no socket
 * wants (tcp_v4_send_reset). Both answer from the segment's destination to
 * its source with a bare 20-byte header and window 0: seq = the segment's
 * ACK number when it has the ACK flag, else seq 0 with ACK set and
 * ack = seq + SYN + FIN + payload length. Both carry IP ID 0 and DF and the
 * default TTL; REJECT's has TOS 0, the stack's the segment's TOS without
 * the ECN bits. The stack's reset echoes the segment's IP options
 * (ip-options.ts), REJECT's has none. Also the checksum test netfilter's
 * reject code applies to the packet it answers (nf_ip_checksum).
 */
import { checksumFinish, checksumPartial, fillIpv4Checksum, pseudoHeaderSum } from '../wire/checksum.js';
import type { KernelServices } from '../xt/packet.js';
import { defaultTtl } from './icmp-send.js';
import { ipOptionsBuild, ipOptionsEcho, NO_REPLY_OPTIONS, type ReplyOptions } from './ip-options.js';
import type { Skb } from './skb.js';

/** Whether the packet was made by this host (its checksums are not checked: CHECKSUM_PARTIAL). */
function locallyGenerated(skb: Skb): boolean {
  return skb.indev === '' && skb.mac === null;
}

/**
 * nf_ip_checksum as REJECT applies it to the packet it answers: for TCP
 * and UDP the transport checksum with its pseudo header, for any other
 * protocol the Internet checksum of the whole datagram (the IP header sums
 * to zero, so in effect the payload's own). Packets of this host pass.
 */
export function nfChecksumOk(skb: Skb, dataoff: number, proto: number): boolean {
  if (locallyGenerated(skb)) return true;
  const d = skb.data;
  let sum = 0;
  if (proto === 6 || proto === 17) {
    const src = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
    const dst = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
    sum = pseudoHeaderSum(src, dst, proto, d.length - dataoff);
  }
  return checksumFinish(checksumPartial(d, 0, d.length, sum)) === 0;
}

/**
 * A reset answering the TCP segment at `thoff` in `d`, carrying the reply
 * options `opts` (a reversed source route makes its first hop the header's
 * destination; the TCP checksum is still that of the segment's sender).
 */
function buildReset(kernel: KernelServices, d: Uint8Array, thoff: number, tos: number, ttl: number, opts: ReplyOptions): Uint8Array {
  const optlen = opts.data.length;
  const t = 20 + optlen;
  const r = new Uint8Array(t + 20);
  r[0] = 0x45 + (optlen >>> 2);
  r[1] = tos;
  r[3] = r.length;
  r[6] = 0x40; // DF, ID 0
  r[8] = ttl;
  r[9] = 6;
  r.set(d.subarray(16, 20), 12);
  r.set(d.subarray(12, 16), 16);
  if (optlen) {
    const finalDst = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
    if (opts.faddr) {
      r[16] = opts.faddr >>> 24;
      r[17] = (opts.faddr >>> 16) & 0xff;
      r[18] = (opts.faddr >>> 8) & 0xff;
      r[19] = opts.faddr & 0xff;
    }
    ipOptionsBuild(kernel, r, opts, finalDst);
  }
  r.set(d.subarray(thoff + 2, thoff + 4), t);
  r.set(d.subarray(thoff, thoff + 2), t + 2);
  const flags = d[thoff + 13]!;
  if (flags & 0x10) {
    r.set(d.subarray(thoff + 8, thoff + 12), t + 4);
    r[t + 13] = 0x04;
  } else {
    const seq = ((d[thoff + 4]! << 24) | (d[thoff + 5]! << 16) | (d[thoff + 6]! << 8) | d[thoff + 7]!) >>> 0;
    const doff = (d[thoff + 12]! >> 4) * 4;
    const ack = (seq + ((flags >> 1) & 1) + (flags & 1) + (d.length - thoff - doff)) >>> 0;
    r[t + 8] = ack >>> 24;
    r[t + 9] = (ack >>> 16) & 0xff;
    r[t + 10] = (ack >>> 8) & 0xff;
    r[t + 11] = ack & 0xff;
    r[t + 13] = 0x14;
  }
  r[t + 12] = 0x50;
  // the pseudo header: from the segment's destination back to its sender
  const pseudo = checksumPartial(d, 12, 8, 6 + 20);
  const c = checksumFinish(checksumPartial(r, t, 20, pseudo));
  r[t + 16] = c >>> 8;
  r[t + 17] = c & 0xff;
  fillIpv4Checksum(r, 0);
  return r;
}

/**
 * REJECT --reject-with tcp-reset (nf_send_reset): answers the packet with
 * a reset unless it is a non-first fragment, not TCP, too short for a TCP
 * header, a reset itself, fails its checksum, or was routed as broadcast
 * or multicast. The reset takes the packet's connection and goes out
 * through OUTPUT. Returns whether one was sent.
 */
export function sendRejectReset(kernel: KernelServices, skb: Skb): boolean {
  const d = skb.data;
  if (d.length < 20 || ((d[6]! << 8) | d[7]!) & 0x1fff || d[9] !== 6) return false;
  const thoff = (d[0]! & 15) * 4;
  if (thoff + 20 > d.length) return false;
  if (d[thoff + 13]! & 0x04) return false;
  if (!nfChecksumOk(skb, thoff, 6)) return false;
  if (skb.route === 'broadcast' || skb.route === 'multicast') return false;
  kernel.sendLocal(buildReset(kernel, d, thoff, 0, defaultTtl(kernel), NO_REPLY_OPTIONS), skb, true);
  return true;
}

/**
 * The TCP stack's reset for a segment delivered to this host that no
 * socket takes (tcp_v4_send_reset without a socket): none for a reset, or
 * for a segment whose destination is not a local unicast address. The
 * caller has checked the header and checksum. Returns whether one was sent.
 */
export function sendStackReset(kernel: KernelServices, skb: Skb, thoff: number): boolean {
  const d = skb.data;
  if (d[thoff + 13]! & 0x04) return false;
  if (skb.route !== 'local') return false;
  // ip_send_unicast_reply: the segment's options, echoed
  const opts = ipOptionsEcho(kernel, skb);
  if (!opts) return false;
  kernel.sendLocal(buildReset(kernel, d, thoff, d[1]! & ~3, defaultTtl(kernel), opts), skb, false);
  return true;
}
