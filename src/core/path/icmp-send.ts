/**
 * ICMP messages the host generates itself, as Linux 6.18's icmp_send and
 * icmp_reply build them: when nothing is sent (replies to broadcasts,
 * non-first fragments, ICMP errors), the two rate limits (the host-wide
 * token bucket of icmp_msgs_per_sec/icmp_msgs_burst and the per-destination
 * bucket of icmp_ratelimit/icmp_ratemask), the source address, TOS, TTL
 * and IP ID of the reply, the options of the original echoed
 * (ip-options.ts), and the quoted datagram cut to 576 bytes.
 *
 * Randomness: the kernel consumes 0, 1 or 2 host-wide credits per message
 * (get_random_u32_below(3)) and starts and advances IP ID counters by
 * random amounts; both come from kernel.random32() here, so they are
 * deterministic per lab but not equal to any one run of the real kernel.
 */
import { fibLookup, selectSourceAddress } from '../net/fib.js';
import { linkByName } from '../net/state.js';
import { sysctlInt } from '../net/sysctl.js';
import { SCOPE_LINK, type NetState } from '../net/types.js';
import { checksumFinish, checksumPartial, fillIpv4Checksum } from '../wire/checksum.js';
import type { KernelServices } from '../xt/packet.js';
import { ipOptionsBuild, ipOptionsEcho, type ReplyOptions } from './ip-options.js';
import { PacketType, type Skb } from './skb.js';

/** The kernel's clock rate: jiffies per second. */
export const HZ = 250;

/** ICMP types up to this one are known (NR_ICMP_TYPES). */
const NR_ICMP_TYPES = 18;

/** Source of errors when no address could be chosen (INADDR_DUMMY, 192.0.0.8). */
const INADDR_DUMMY = 0xc0000008;

/** Whether an ICMP type is an error message (icmp_pointers[].error). */
export function icmpTypeIsError(type: number): boolean {
  return type === 1 || type === 2 || type === 3 || type === 4 || type === 5 || type === 6 || type === 7 || type === 9 || type === 10 || type === 11 || type === 12;
}

/** The integer value of a net.ipv4 sysctl, or `dflt` when the machine has none. */
function ipv4Sysctl(net: NetState | undefined, name: string, dflt: number): number {
  const key = `net.ipv4.${name}`;
  if (!net || net.sysctl[key] === undefined) return dflt;
  return sysctlInt(net, key);
}

/** msecs_to_jiffies for HZ=250: milliseconds rounded up to 4 ms ticks. */
function msToJiffies(ms: number): number {
  return Math.ceil(ms / (1000 / HZ));
}

/** Jiffies from `then` to `now` on the kernel's wrapping 32-bit counter. */
export function elapsed(now: number, then: number): number {
  return (now - then) >>> 0;
}

/** get_random_u32_below(n): a uniform number in [0, n). */
function randomBelow(kernel: KernelServices, n: number): number {
  if (n <= 1) return 0;
  return Math.floor((kernel.random32() / 4294967296) * n);
}

/** Whether the named device is the loopback device (IFF_LOOPBACK). */
export function isLoopbackDev(net: NetState | undefined, name: string): boolean {
  if (name === '') return false;
  const link = net ? linkByName(net, name) : undefined;
  return link ? link.kind === 'loopback' : name === 'lo';
}

// ---------------------------------------------------------------------------
// IP identification

/** Number of IP ID counters (the kernel's ip_idents has at least 2048). */
const IDENT_BUCKETS = 2048;

/** ip_idents/ip_tstamps: per-bucket counters, kept in kernel.shared under 'ipIdent'. */
interface IdentState {
  /** Key of the bucket hash (the kernel's ip_id_key is random at boot). */
  key: number;
  /** Bucket number → counter and the jiffies of its last use. */
  buckets: Record<string, { id: number; stamp: number }>;
}

/** A 32-bit mix of the three hashed values (stands in for siphash_3u32). */
function identHash(a: number, b: number, c: number, key: number): number {
  let h = (key ^ Math.imul(a, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 15) ^ b, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13) ^ c, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The IP ID of a datagram sent without DF by a socket that is not
 * connected (__ip_select_ident): a counter per hash bucket of (destination,
 * source, protocol) that goes up by one per datagram, plus a random amount
 * below the number of jiffies since the bucket was last used.
 */
export function ipSelectIdent(kernel: KernelServices, src: number, dst: number, proto: number): number {
  const st: IdentState = (kernel.shared['ipIdent'] ??= { key: kernel.random32(), buckets: {} });
  const bucket = identHash(dst, src, proto, st.key) % IDENT_BUCKETS;
  const now = kernel.jiffies();
  // The counters start random; their time stamps start at zero.
  const e = (st.buckets[bucket] ??= { id: kernel.random32(), stamp: 0 });
  let delta = 0;
  if (e.stamp !== now) {
    delta = randomBelow(kernel, elapsed(now, e.stamp));
    e.stamp = now;
  }
  const id = (e.id + delta) >>> 0;
  e.id = (id + 1) >>> 0;
  return id & 0xffff;
}

// ---------------------------------------------------------------------------
// Rate limits

/** The host-wide bucket (net->ipv4.icmp_global_*), in kernel.shared under 'icmpGlobal'. */
interface GlobalBucket {
  credit: number;
  /** Jiffies of the last refill, null before the first. */
  stamp: number | null;
}

/** Per-destination buckets (inet_peer rate_tokens/rate_last), in kernel.shared under 'icmpPeers'. */
type PeerBuckets = Record<string, { tokens: number; last: number }>;

/** How long an unused destination's bucket is kept (the inet_peer maximum TTL, 10 minutes). */
export const PEER_TTL = 600 * HZ;

/** Burst of the per-destination bucket, in messages (XRLIM_BURST_FACTOR). */
const XRLIM_BURST_FACTOR = 6;

/** icmpv4_mask_allow: true when the type is exempt from rate limiting. */
function maskAllow(net: NetState | undefined, type: number, code: number): boolean {
  if (type > NR_ICMP_TYPES) return true;
  if (type === 3 && code === 4) return true; // path MTU discovery is never limited
  return ((1 << type) & ipv4Sysctl(net, 'icmp_ratemask', 0x1818)) === 0;
}

/** icmp_global_allow: whether the host-wide bucket has credit, refilling it first when empty. */
function globalAllow(kernel: KernelServices, net: NetState | undefined): boolean {
  const g: GlobalBucket = (kernel.shared['icmpGlobal'] ??= { credit: 0, stamp: null });
  if (g.credit > 0) return true;
  const now = kernel.jiffies();
  const delta = g.stamp === null ? HZ : Math.min(elapsed(now, g.stamp), HZ);
  if (delta < HZ / 50) return false;
  const incr = Math.floor((ipv4Sysctl(net, 'icmp_msgs_per_sec', 1000) * delta) / HZ);
  if (!incr) return false;
  g.stamp = now;
  g.credit = Math.min(g.credit + incr, ipv4Sysctl(net, 'icmp_msgs_burst', 50));
  return true;
}

/** icmp_global_consume: takes 0, 1 or 2 credits at random (the credit may go below zero). */
function globalConsume(kernel: KernelServices): void {
  const g: GlobalBucket = kernel.shared['icmpGlobal'];
  g.credit -= randomBelow(kernel, 3);
}

/** inet_peer_xrlim_allow on the destination's bucket. */
function peerAllow(kernel: KernelServices, daddr: number, timeout: number): boolean {
  const peers: PeerBuckets = (kernel.shared['icmpPeers'] ??= {});
  const now = kernel.jiffies();
  let p = peers[daddr];
  if (!p || elapsed(now, p.last) > PEER_TTL) {
    for (const k of Object.keys(peers)) if (elapsed(now, peers[k]!.last) > PEER_TTL) delete peers[k];
    // A new peer starts as if last used a minute ago.
    p = peers[daddr] = { tokens: 0, last: (now - 60 * HZ) >>> 0 };
  }
  let token = p.tokens + elapsed(now, p.last);
  p.last = now;
  if (token > XRLIM_BURST_FACTOR * timeout) token = XRLIM_BURST_FACTOR * timeout;
  let rc = false;
  if (token >= timeout) {
    token -= timeout;
    rc = true;
  }
  p.tokens = token;
  return rc;
}

/**
 * icmpv4_xrlim_allow: the per-destination limit, applied only when the
 * host-wide check ran; every message it lets through consumes host-wide
 * credit.
 */
function xrlimAllow(kernel: KernelServices, net: NetState | undefined, daddr: number, outLoopback: boolean, apply: boolean): boolean {
  if (!apply) return true;
  const timeout = msToJiffies(ipv4Sysctl(net, 'icmp_ratelimit', 1000));
  const rc = timeout === 0 || outLoopback || peerAllow(kernel, daddr, timeout);
  if (rc) globalConsume(kernel);
  return rc;
}

/**
 * The host-wide check before building a message: false when the message
 * must not be sent; `apply` tells whether the per-destination limit applies.
 */
function globalCheck(kernel: KernelServices, net: NetState | undefined, type: number, code: number): { ok: boolean; apply: boolean } {
  if (maskAllow(net, type, code)) return { ok: true, apply: false };
  if (globalAllow(kernel, net)) return { ok: true, apply: true };
  return { ok: false, apply: false };
}

// ---------------------------------------------------------------------------
// Building and sending

/** The output route of a reply: device, source, MTU; null when there is none. */
interface ReplyRoute {
  src: number;
  mtu: number;
  /** The route leads back into the host (local destination): it leaves through lo. */
  loopback: boolean;
}

/** ip_route_output_key for a reply to `daddr` from `saddr` (0: let routing choose). */
function routeReply(net: NetState | undefined, daddr: number, saddr: number): ReplyRoute | null {
  if (!net) return null;
  const r = fibLookup(net, daddr, saddr || undefined);
  if (r.type === 'unreachable' || r.type === 'blackhole' || r.type === 'prohibit') return null;
  const loopback = r.type === 'local' || isLoopbackDev(net, r.dev);
  const dev = loopback ? linkByName(net, 'lo') : linkByName(net, r.dev);
  return {
    src: r.prefsrc,
    mtu: dev ? dev.mtu : 1500,
    loopback,
  };
}

/** The TTL of datagrams the host sends (no per-route hop limit is modelled). */
export function defaultTtl(kernel: KernelServices): number {
  return ipv4Sysctl(kernel.net, 'ip_default_ttl', 64);
}

/**
 * An IPv4 datagram with a header of 20 bytes plus `optlen` bytes of
 * options and room for `payload` bytes after it, left for the caller. DF
 * clear, options and checksum not yet filled.
 */
function ipDatagram(payload: number, tos: number, id: number, ttl: number, proto: number, src: number, dst: number, optlen = 0): Uint8Array {
  const len = 20 + optlen + payload;
  const d = new Uint8Array(len);
  d[0] = 0x45 + (optlen >>> 2);
  d[1] = tos;
  d[2] = len >>> 8;
  d[3] = len & 0xff;
  d[4] = id >>> 8;
  d[5] = id & 0xff;
  d[8] = ttl;
  d[9] = proto;
  d[12] = src >>> 24;
  d[13] = (src >>> 16) & 0xff;
  d[14] = (src >>> 8) & 0xff;
  d[15] = src & 0xff;
  d[16] = dst >>> 24;
  d[17] = (dst >>> 16) & 0xff;
  d[18] = (dst >>> 8) & 0xff;
  d[19] = dst & 0xff;
  return d;
}

/**
 * An ICMP message from `src` to `dst` around `body` (the 8-byte header
 * already written into it), carrying the reply options `opts` for the
 * original sender `finalDst` (dst is the first hop of a reversed source
 * route, else finalDst itself).
 */
function icmpDatagram(kernel: KernelServices, body: Uint8Array, tos: number, src: number, dst: number, opts: ReplyOptions, finalDst: number): Uint8Array {
  const optlen = opts.data.length;
  const d = ipDatagram(body.length, tos, ipSelectIdent(kernel, src, dst, 1), defaultTtl(kernel), 1, src, dst, optlen);
  if (optlen) ipOptionsBuild(kernel, d, opts, finalDst);
  const at = 20 + optlen;
  d.set(body, at);
  d[at + 2] = 0;
  d[at + 3] = 0;
  const c = checksumFinish(checksumPartial(d, at, body.length));
  d[at + 2] = c >>> 8;
  d[at + 3] = c & 0xff;
  fillIpv4Checksum(d, 0);
  return d;
}

function addr(d: Uint8Array, off: number): number {
  return ((d[off]! << 24) | (d[off + 1]! << 16) | (d[off + 2]! << 8) | d[off + 3]!) >>> 0;
}

/** Options of icmpSend. */
export interface IcmpSendOptions {
  /**
   * The error goes to the original packet's connection (nf_ct_attach in
   * icmp_glue_bits); false when the caller dropped the packet's conntrack
   * reference first (the UDP stack does, nf_reset_ct). Default true.
   */
  attachCt?: boolean;
  /** Bytes of the datagram that count as its length (the UDP stack trims to the UDP length). */
  length?: number;
}

/**
 * Sends an ICMP error about `skb` back to its source, as __icmp_send does
 * (used by REJECT, the host's own stack and forwarding): returns whether a
 * message was sent. `info` is the 32-bit field after the checksum (the
 * next-hop MTU of "fragmentation needed", the gateway of a redirect).
 */
export function icmpSend(kernel: KernelServices, skb: Skb, type: number, code: number, info = 0, sendOpts: IcmpSendOptions = {}): boolean {
  const d = skb.data;
  const net: NetState | undefined = kernel.net;
  if (d.length < 20 || skb.route === null) return false;
  // No replies to link-level broadcast or multicast, or to another host's frames.
  if (skb.pktType !== PacketType.HOST && skb.pktType !== PacketType.OUTGOING) return false;
  if (skb.route === 'broadcast' || skb.route === 'multicast') return false;
  // Only the first fragment gets an answer.
  if (((d[6]! << 8) | d[7]!) & 0x1fff) return false;
  const ihl = (d[0]! & 15) * 4;
  const isError = icmpTypeIsError(type);
  if (isError && d[9] === 1) {
    // Never an error about an error (unknown types count as errors).
    if (ihl >= d.length) return false;
    const inner = d[ihl]!;
    if (inner > NR_ICMP_TYPES || icmpTypeIsError(inner)) return false;
  }
  // Errors about packets that came in over loopback skip the host-wide limit.
  let apply = false;
  if (!isLoopbackDev(net, skb.indev)) {
    const g = globalCheck(kernel, net, type, code);
    if (!g.ok) return false;
    apply = g.apply;
  }
  const origSrc = addr(d, 12);
  let saddr = addr(d, 16);
  if (skb.route !== 'local') {
    saddr = 0;
    if (skb.indev !== '' && ipv4Sysctl(net, 'icmp_errors_use_inbound_ifaddr', 0) && net) {
      saddr = selectSourceAddress(net, skb.indev, origSrc, SCOPE_LINK);
    }
  }
  const tos = isError ? (d[1]! & 0x1e) | 0xc0 : d[1]!;
  // The options of the packet, echoed; the message goes back along a source route.
  const opts = ipOptionsEcho(kernel, skb);
  if (!opts) return false;
  const daddr = opts.faddr || origSrc;
  // A datagram that came from a broadcast address (which is no martian
  // source while rp_filter is off) gets its error sent to that broadcast.
  const rt = routeReply(net, daddr, saddr);
  if (!rt) return false;
  if (!xrlimAllow(kernel, net, daddr, rt.loopback, apply)) return false;
  // RFC 1812: as much of the datagram as fits in 576 bytes.
  const room = Math.min(rt.mtu, 576) - 20 - opts.data.length - 8;
  if (room <= 20) return false;
  const dataLen = Math.min(sendOpts.length ?? d.length, d.length, room);
  const body = new Uint8Array(8 + dataLen);
  body[0] = type;
  body[1] = code;
  body[4] = info >>> 24;
  body[5] = (info >>> 16) & 0xff;
  body[6] = (info >>> 8) & 0xff;
  body[7] = info & 0xff;
  body.set(d.subarray(0, dataLen), 8);
  const src = rt.src || INADDR_DUMMY;
  kernel.sendLocal(icmpDatagram(kernel, body, tos, src, daddr, opts, origSrc), skb, isError && sendOpts.attachCt !== false);
  return true;
}

/**
 * Sends an ICMP reply (echo or timestamp reply) to the source of `skb`, as
 * icmp_reply does: `body` is the whole ICMP message (header first, checksum
 * left to this function). The source is the address the request was sent
 * to, or for a broadcast request the address routing picks for the
 * requester; the TOS is the request's. Returns whether it was sent.
 */
export function icmpReply(kernel: KernelServices, skb: Skb, body: Uint8Array): boolean {
  const d = skb.data;
  const net: NetState | undefined = kernel.net;
  // The request's options, echoed; the reply goes back along a source route.
  const opts = ipOptionsEcho(kernel, skb);
  if (!opts) return false;
  const type = body[0]!;
  const g = globalCheck(kernel, net, type, body[1]!);
  if (!g.ok) return false;
  const origSrc = addr(d, 12);
  const daddr = opts.faddr || origSrc;
  // fib_compute_spec_dst: the local destination itself, else the route's source.
  const saddr = skb.route === 'local' ? addr(d, 16) : 0;
  const rt = routeReply(net, daddr, saddr);
  if (!rt) return false;
  if (!xrlimAllow(kernel, net, daddr, rt.loopback, g.apply)) return false;
  kernel.sendLocal(icmpDatagram(kernel, body, d[1]!, rt.src, daddr, opts, origSrc), skb, false);
  return true;
}
