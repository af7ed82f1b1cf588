/**
 * ICMP redirects a router sends when it forwards a datagram back out of
 * the interface it came in by, to a source on that link (ip_rt_send_redirect):
 * "use this gateway directly". They share the per-source state the ICMP
 * rate limit keeps (icmp-send.ts), so a redirect also delays the next
 * rate-limited error to that host, as in the kernel.
 */
import { elapsed, HZ, icmpSend, PEER_TTL } from './icmp-send.js';
import type { KernelServices } from '../xt/packet.js';
import type { Skb } from './skb.js';

/** ip_rt_redirect_number: redirects sent to a host before giving up. */
const REDIRECT_NUMBER = 9;
/** ip_rt_redirect_load: the first backoff step, in jiffies (HZ/50). */
const REDIRECT_LOAD = HZ / 50;
/** ip_rt_redirect_silence: quiet time after which the backoff starts again. */
const REDIRECT_SILENCE = REDIRECT_LOAD << (REDIRECT_NUMBER + 1);

/** A host's state (the inet_peer fields): shared with icmp-send.ts's rate limit. */
interface Peer {
  tokens: number;
  last: number;
  /** Redirects sent since the last quiet period (n_redirects). */
  redirects?: number;
}

/**
 * Sends the redirect for a forwarded datagram (`gateway` is the next hop
 * it was forwarded to), with the kernel's exponential backoff per source.
 */
export function sendRedirect(kernel: KernelServices, skb: Skb, gateway: number): void {
  const d = skb.data;
  const saddr = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
  const peers: Record<string, Peer> = (kernel.shared['icmpPeers'] ??= {});
  const now = kernel.jiffies();
  let p = peers[saddr];
  if (!p || elapsed(now, p.last) > PEER_TTL) {
    // a new peer starts as if last used a minute ago (inet_getpeer)
    p = peers[saddr] = { tokens: 0, last: (now - 60 * HZ) >>> 0 };
  }
  let n = p.redirects ?? 0;
  if (elapsed(now, p.last) > REDIRECT_SILENCE && elapsed(now, p.last) < 0x80000000) {
    p.tokens = 0;
    n = 0;
  }
  if (n >= REDIRECT_NUMBER) {
    p.last = now;
    p.redirects = n;
    return;
  }
  const wait = REDIRECT_LOAD << n;
  if (n === 0 || (elapsed(now, p.last) > wait && elapsed(now, p.last) < 0x80000000)) {
    icmpSend(kernel, skb, 5, 1, gateway);
    p.last = now;
    n++;
  }
  p.redirects = n;
}
