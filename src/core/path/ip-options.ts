/**
 * IPv4 options as Linux 6.18 processes them on the way in, when
 * forwarding, and in the host's own replies (net/ipv4/ip_options.c and its
 * callers), measured against the kernel in network namespaces.
 *
 * What happens to a received datagram with options (ihl > 5):
 *
 * - PREROUTING sees the options as they arrived. After PREROUTING and the
 *   routing decision, ip_rcv_options checks them (ipRcvOptions): a bad
 *   option is answered with a parameter problem pointing at it and the
 *   datagram is dropped. The check writes into the datagram: the next free
 *   Record Route slot and the Timestamp option get this host's address
 *   (the destination for a local datagram, else the address routing picks
 *   for talking back to the source) and the time (milliseconds since
 *   midnight UTC), the pointers move on, a full Timestamp option counts
 *   its overflow, and bytes after an End of List become zero. The header
 *   checksum is NOT fixed: INPUT and FORWARD see the new bytes with the
 *   old checksum, ICMP errors quote it so, and REJECT, which sums the whole
 *   datagram (nf_ip_checksum), answers nothing for such a packet.
 * - Source routes (LSRR, SSRR) are dropped unless accept_source_route is
 *   set for "all" and for the input device (the default of "all" is 0);
 *   with log_martians "IPv4: source route option S -> D" is logged. When
 *   they are accepted and the datagram is for this host, the next listed
 *   address is routed and the datagram is forwarded there (FORWARD still
 *   sees the old destination).
 * - A forwarded datagram gets the outgoing interface's address in its
 *   Record Route slot (and in the source route and Timestamp address when
 *   source routed) after FORWARD, with the checksum recomputed
 *   (ipForwardOptions): POSTROUTING and the wire see that.
 * - ICMP messages and the TCP stack's resets echo the options
 *   (ipOptionsEcho, ipOptionsBuild): Record Route, Timestamp, the reversed
 *   source route and CIPSO, in that order, padded with End of List; the
 *   reply goes to the first hop of the reversed source route.
 *
 * What ip_options_compile learnt about a datagram (the kernel's
 * IPCB(skb)->opt) is kept here, keyed by the packet, for the later steps.
 */
import { get32, put32 } from '../wire/bytes.js';
import { fibLookup, inetAddrType, selectSourceAddress } from '../net/fib.js';
import { sysctlInt } from '../net/sysctl.js';
import { SCOPE_LINK, SCOPE_UNIVERSE, type NetState } from '../net/types.js';
import { fillIpv4Checksum } from '../wire/checksum.js';
import type { KernelServices } from '../xt/packet.js';
import { icmpSend } from './icmp-send.js';
import { NetOps } from './net-ops.js';
import { PacketType, type Skb } from './skb.js';

/** Option types (IPOPT_*). */
const IPOPT_END = 0;
const IPOPT_NOOP = 1;
const IPOPT_RR = 7;
const IPOPT_TIMESTAMP = 68;
const IPOPT_LSRR = 131;
const IPOPT_SSRR = 137;
const IPOPT_CIPSO = 134;
const IPOPT_RA = 148;

/** Timestamp option flags (the low 4 bits of its fourth byte). */
const TS_TSONLY = 0;
const TS_TSANDADDR = 1;
const TS_PRESPEC = 3;

/** printk levels used here. */
const KERN_CRIT = 2;
const KERN_INFO = 6;

/**
 * What the option check learnt about a datagram (struct ip_options in the
 * kernel's IPCB). Offsets count from the first byte of the IP header; 0
 * means the option is absent.
 */
export interface IpOptionsState {
  /** Length of the option area (ihl * 4 - 20). */
  optlen: number;
  /** Offset of the source route option. */
  srr: number;
  /** Offset of the Record Route option. */
  rr: number;
  /** Offset of the Timestamp option. */
  ts: number;
  /** Offset of a Router Alert option with value 0. */
  routerAlert: number;
  /** Offset of the CIPSO option. */
  cipso: number;
  /** The Record Route option had room: the slot before its pointer is this host's. */
  rrNeedAddr: boolean;
  /** The Timestamp option records addresses and had room. */
  tsNeedAddr: boolean;
  /** The Timestamp option had room for this host's time. */
  tsNeedTime: boolean;
  /** The source route is strict (SSRR). */
  strict: boolean;
  /** The datagram follows its source route through this host (forwarded to `nexthop`). */
  srrIsHit: boolean;
  /** The next address of the source route, when srrIsHit. */
  nexthop: number;
  /** The datagram's bytes changed since its checksum was last computed. */
  changed: boolean;
}

const states = new WeakMap<Skb, IpOptionsState>();

/** What the option check recorded for a packet, or undefined when its options were never checked. */
export function ipOptionsState(skb: Skb): IpOptionsState | undefined {
  return states.get(skb);
}

/**
 * Gives `to` the option state of `from`: a datagram reassembled from
 * fragments carries the state of its first fragment (offset 0), as the
 * kernel's reassembly keeps that fragment's control block.
 */
export function ipOptionsCopy(from: Skb, to: Skb): void {
  const s = states.get(from);
  if (s) states.set(to, { ...s });
  else states.delete(to);
}

function freshState(optlen: number): IpOptionsState {
  return {
    optlen,
    srr: 0,
    rr: 0,
    ts: 0,
    routerAlert: 0,
    cipso: 0,
    rrNeedAddr: false,
    tsNeedAddr: false,
    tsNeedTime: false,
    strict: false,
    srrIsHit: false,
    nexthop: 0,
    changed: false,
  };
}

/** inet_current_timestamp: milliseconds since midnight UTC by the machine's wall clock. */
export function inetCurrentTimestamp(kernel: KernelServices): number {
  return Math.floor(kernel.wallSec() * 1000) % 86400000;
}

/** The integer value of a sysctl, `dflt` when the machine has no such key. */
function sysctlOr(net: NetState | undefined, key: string, dflt: number): number {
  if (!net || net.sysctl[key] === undefined) return dflt;
  return sysctlInt(net, key);
}

/** A per-device IPv4 setting, read from the device's key or else the default's. */
function devConf(net: NetState | undefined, dev: string, name: string, dflt: number): number {
  const key = `net.ipv4.conf.${dev}.${name}`;
  if (net && net.sysctl[key] !== undefined) return sysctlInt(net, key);
  return sysctlOr(net, `net.ipv4.conf.default.${name}`, dflt);
}

/** State of net_ratelimit (one per machine), in kernel.shared under 'netRatelimit'. */
interface RatelimitState {
  begin: number;
  printed: number;
  missed: number;
}

/** net_ratelimit: at most 10 messages per 5 seconds, then a count of those suppressed. */
function netRatelimit(kernel: KernelServices): boolean {
  const rs: RatelimitState = (kernel.shared['netRatelimit'] ??= { begin: 0, printed: 0, missed: 0 });
  const j = kernel.jiffies();
  if (!rs.begin) rs.begin = j;
  if (((j - rs.begin) >>> 0) > 5 * 250) {
    if (rs.missed) kernel.printk(4, `net_ratelimit: ${rs.missed} callbacks suppressed`);
    rs.begin = j;
    rs.printed = 0;
    rs.missed = 0;
  }
  if (rs.printed < 10) {
    rs.printed++;
    return true;
  }
  rs.missed++;
  return false;
}

function dotted(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/**
 * fib_compute_spec_dst: the address this host records for a received
 * datagram, its destination when it is a local unicast one, else the
 * source address routing picks for talking back to the sender.
 */
function specDst(net: NetState | undefined, skb: Skb): number {
  const d = skb.data;
  if (skb.route === 'local') return get32(d, 16);
  if (!net) return 0;
  const saddr = get32(d, 12);
  if (saddr >>> 24 === 0) return selectSourceAddress(net, skb.indev, saddr, SCOPE_LINK);
  const r = fibLookup(net, saddr);
  if (r.type === 'unicast' || r.type === 'local' || r.type === 'broadcast' || r.type === 'multicast') return r.prefsrc;
  return selectSourceAddress(net, skb.indev, saddr, SCOPE_UNIVERSE);
}

/**
 * ip_rt_get_source for a forwarded datagram: the source address of the
 * route to its current destination through the output device.
 */
function forwardSource(net: NetState | undefined, skb: Skb): number {
  if (!net) return 0;
  const daddr = get32(skb.data, 16);
  const r = fibLookup(net, daddr, undefined, skb.outdev);
  if (r.type === 'unicast' || r.type === 'local' || r.type === 'broadcast' || r.type === 'multicast') return r.prefsrc;
  return selectSourceAddress(net, skb.outdev, skb.nexthop || daddr, SCOPE_UNIVERSE);
}

/**
 * __ip_options_compile on a received datagram: checks every option and
 * fills in what this host records. Returns 0, or the offset of the bad
 * byte (the parameter problem's pointer).
 */
function compile(kernel: KernelServices, skb: Skb, o: IpOptionsState): number {
  const d = skb.data;
  const net: NetState | undefined = kernel.net;
  let spec = -1;
  const here = (): number => (spec < 0 ? (spec = specDst(net, skb)) : spec);
  let p = 20;
  let l = o.optlen;
  while (l > 0) {
    const type = d[p]!;
    if (type === IPOPT_END) {
      for (p++, l--; l > 0; p++, l--) {
        if (d[p] !== IPOPT_END) {
          d[p] = IPOPT_END;
          o.changed = true;
        }
      }
      return 0;
    }
    if (type === IPOPT_NOOP) {
      l--;
      p++;
      continue;
    }
    if (l < 2) return p;
    const len = d[p + 1]!;
    if (len < 2 || len > l) return p;
    switch (type) {
      case IPOPT_SSRR:
      case IPOPT_LSRR:
        if (len < 3) return p + 1;
        if (d[p + 2]! < 4) return p + 2;
        if (o.srr) return p;
        o.strict = type === IPOPT_SSRR;
        o.srr = p;
        break;
      case IPOPT_RR: {
        if (o.rr) return p;
        if (len < 3) return p + 1;
        const ptr = d[p + 2]!;
        if (ptr < 4) return p + 2;
        if (ptr <= len) {
          if (ptr + 3 > len) return p + 2;
          put32(d, p + ptr - 1, here());
          o.changed = true;
          d[p + 2] = ptr + 4;
          o.rrNeedAddr = true;
        }
        o.rr = p;
        break;
      }
      case IPOPT_TIMESTAMP: {
        if (o.ts) return p;
        if (len < 4) return p + 1;
        const ptr = d[p + 2]!;
        if (ptr < 5) return p + 2;
        const flag = d[p + 3]! & 0xf;
        if (ptr <= len) {
          if (ptr + 3 > len) return p + 2;
          let timeAt = 0;
          if (flag === TS_TSONLY) {
            timeAt = p + ptr - 1;
            o.tsNeedTime = true;
            d[p + 2] = ptr + 4;
          } else if (flag === TS_TSANDADDR) {
            if (ptr + 7 > len) return p + 2;
            put32(d, p + ptr - 1, here());
            timeAt = p + ptr + 3;
            o.tsNeedAddr = true;
            o.tsNeedTime = true;
            d[p + 2] = ptr + 8;
          } else if (flag === TS_PRESPEC) {
            if (ptr + 7 > len) return p + 2;
            // only a listed address of this host (or any non-unicast one) takes the time
            if (net && inetAddrType(net, get32(d, p + ptr - 1)) !== 'unicast') {
              timeAt = p + ptr + 3;
              o.tsNeedTime = true;
              d[p + 2] = ptr + 8;
            }
          }
          if (timeAt) {
            put32(d, timeAt, inetCurrentTimestamp(kernel));
            o.changed = true;
          }
        } else if (flag !== TS_PRESPEC) {
          const overflow = d[p + 3]! >> 4;
          if (overflow === 15) return p + 3;
          d[p + 3] = flag | ((overflow + 1) << 4);
          o.changed = true;
        }
        o.ts = p;
        break;
      }
      case IPOPT_RA:
        if (len < 4) return p + 1;
        if (d[p + 2] === 0 && d[p + 3] === 0) o.routerAlert = p;
        break;
      case IPOPT_CIPSO:
        if (o.cipso) return p;
        o.cipso = p;
        // cipso_v4_validate: no CIPSO domain of interpretation is ever configured here
        return len < 8 ? p + 1 : p + 2;
      default:
        // Security, Stream ID and unknown options pass unchecked
        break;
    }
    l -= len;
    p += len;
  }
  return 0;
}

/** Whether source-routed datagrams are accepted on `dev` (IN_DEV_SOURCE_ROUTE: "all" and the device). */
function sourceRouteAccepted(net: NetState | undefined, dev: string): boolean {
  return sysctlOr(net, 'net.ipv4.conf.all.accept_source_route', 0) !== 0 && devConf(net, dev, 'accept_source_route', 1) !== 0;
}

/** Whether martians are logged for `dev` (IN_DEV_LOG_MARTIANS: "all" or the device). */
function logMartians(net: NetState | undefined, dev: string): boolean {
  return sysctlOr(net, 'net.ipv4.conf.all.log_martians', 0) !== 0 || devConf(net, dev, 'log_martians', 0) !== 0;
}

/**
 * ip_options_rcv_srr: a source-routed datagram for this host is sent on to
 * the next listed address. Local hops are skipped (the destination becomes
 * each of them in turn); the first other one is routed and the packet
 * becomes a forwarded one.
 */
function rcvSourceRoute(kernel: KernelServices, skb: Skb, o: IpOptionsState): 'ok' | 'drop' | 'forward' {
  const d = skb.data;
  if (skb.pktType !== PacketType.HOST) return 'drop';
  if (skb.route === 'unicast') {
    if (!o.strict) return 'ok';
    icmpSend(kernel, skb, 12, 0, (16 << 24) >>> 0);
    return 'drop';
  }
  if (skb.route !== 'local') return 'drop';
  const start = o.srr;
  const space = d[start + 1]!;
  const saddr = get32(d, 12);
  let ptr = d[start + 2]!;
  let nexthop = 0;
  let ops: NetOps | null = null;
  for (; ptr <= space; ptr += 4) {
    if (ptr + 3 > space) {
      icmpSend(kernel, skb, 12, 0, ((o.srr + 2) << 24) >>> 0);
      return 'drop';
    }
    nexthop = get32(d, start + ptr - 1);
    ops ??= new NetOps(kernel.net);
    const r = ops.routeInput(skb.indev, saddr, nexthop);
    if (r.kind === 'drop' || (r.kind === 'local' && r.type !== 'local')) return 'drop';
    if (r.kind === 'forward') {
      skb.route = 'unicast';
      skb.outdev = r.dev;
      skb.nexthop = r.gateway;
      break;
    }
    // a hop that is this host: on to the next one at once
    put32(d, 16, nexthop);
    o.changed = true;
  }
  if (ptr <= space) {
    o.srrIsHit = true;
    o.nexthop = nexthop;
    o.changed = true;
    return 'forward';
  }
  return 'ok';
}

/**
 * ip_rcv_options, for a received datagram whose header has options
 * (ihl > 5). Called by the machine's receive path (ip_rcv_finish_core)
 * after PREROUTING and the input routing decision, with skb.route set
 * (and skb.outdev, skb.nexthop for a forwarded packet), before local
 * delivery or forwarding; fragments are checked one by one, before
 * reassembly.
 *
 * Returns 'drop' when the datagram must be dropped (a parameter problem
 * may have been sent), 'forward' when its source route sends it on
 * (skb.route, skb.outdev and skb.nexthop now describe the new route: hand
 * it to forwarding even if it was routed to this host), else 'ok'.
 */
export function ipRcvOptions(kernel: KernelServices, skb: Skb): 'ok' | 'drop' | 'forward' {
  const d = skb.data;
  const optlen = (d[0]! & 15) * 4 - 20;
  if (optlen <= 0) return 'ok';
  const o = freshState(optlen);
  states.set(skb, o);
  const bad = compile(kernel, skb, o);
  if (bad) {
    icmpSend(kernel, skb, 12, 0, (bad << 24) >>> 0);
    return 'drop';
  }
  if (!o.srr) return 'ok';
  const net: NetState | undefined = kernel.net;
  if (!sourceRouteAccepted(net, skb.indev)) {
    if (logMartians(net, skb.indev) && netRatelimit(kernel)) {
      kernel.printk(KERN_INFO, `IPv4: source route option ${dotted(get32(d, 12))} -> ${dotted(get32(d, 16))}`);
    }
    return 'drop';
  }
  return rcvSourceRoute(kernel, skb, o);
}

/**
 * The strict source route check of ip_forward: a datagram on a strict
 * source route whose next hop is not directly attached (the route uses a
 * gateway) gets "source route failed" (ICMP 3/5) and is dropped. Called by
 * the forwarding path after the TTL check, before the MTU check; returns
 * 'drop' when the packet must go.
 */
export function ipForwardSourceRouteCheck(kernel: KernelServices, skb: Skb): 'ok' | 'drop' {
  if ((skb.data[0]! & 15) === 5) return 'ok';
  const o = states.get(skb);
  if (!o || !o.strict || skb.nexthop === 0) return 'ok';
  icmpSend(kernel, skb, 3, 5, 0);
  return 'drop';
}

/**
 * ip_forward_options: called by the forwarding path when FORWARD accepted
 * the packet (ip_forward_finish), before POSTROUTING. Writes the outgoing
 * interface's address into the Record Route slot this host filled on
 * receipt; for a source-routed datagram also sets the destination to the
 * next hop, records this host in the source route and in the Timestamp
 * address. The header checksum is recomputed when anything in the header
 * changed since it arrived (including what the receive check wrote).
 */
export function ipForwardOptions(kernel: KernelServices, skb: Skb): void {
  if ((skb.data[0]! & 15) === 5) return;
  const o = states.get(skb);
  if (!o || !o.optlen) return;
  const d = skb.data;
  const net: NetState | undefined = kernel.net;
  if (o.rrNeedAddr) {
    put32(d, o.rr + d[o.rr + 2]! - 5, forwardSource(net, skb));
    o.changed = true;
  }
  if (o.srrIsHit) {
    const start = o.srr;
    const space = d[start + 1]!;
    let ptr = d[start + 2]!;
    for (; ptr <= space; ptr += 4) {
      if (ptr + 3 > space) break;
      if (get32(d, start + ptr - 1) === o.nexthop) break;
    }
    if (ptr + 3 <= space) {
      o.changed = true;
      put32(d, 16, o.nexthop);
      put32(d, start + ptr - 1, forwardSource(net, skb));
      d[start + 2] = ptr + 4;
    } else if (netRatelimit(kernel)) {
      kernel.printk(KERN_CRIT, 'IPv4: ip_forward_options(): Argh! Destination lost!');
    }
    if (o.tsNeedAddr) {
      put32(d, o.ts + d[o.ts + 2]! - 9, forwardSource(net, skb));
      o.changed = true;
    }
  }
  if (o.changed) {
    o.changed = false;
    fillIpv4Checksum(d, 0);
  }
}

/**
 * ip_decrease_ttl: TTL minus one with the header checksum adjusted by the
 * difference only, so a checksum that was already stale (options written
 * on receipt) stays stale, as in the kernel.
 */
export function ipDecreaseTtl(d: Uint8Array): void {
  // the kernel adds htons(0x0100) to the field as a little-endian 16-bit number
  let c = d[10]! | (d[11]! << 8);
  c += 1;
  if (c >= 0xffff) c += 1;
  d[10] = c & 0xff;
  d[11] = (c >>> 8) & 0xff;
  d[8] = d[8]! - 1;
}

/**
 * ip_options_fragment: in the header of the fragments after the first,
 * options without the "copied" flag (Record Route, Timestamp, ...) become
 * No Operation bytes; the header keeps its length. Changes `header` (a
 * copy of the first fragment's header) in place.
 */
export function ipOptionsFragment(header: Uint8Array): void {
  let p = 20;
  let l = (header[0]! & 15) * 4 - 20;
  while (l > 0) {
    const type = header[p]!;
    if (type === IPOPT_END) return;
    if (type === IPOPT_NOOP) {
      l--;
      p++;
      continue;
    }
    const len = header[p + 1]!;
    if (len < 2 || len > l) return;
    if (!(type & 0x80)) header.fill(IPOPT_NOOP, p, p + len);
    l -= len;
    p += len;
  }
}

// ---------------------------------------------------------------------------
// Replies

/**
 * The options of a reply to a received datagram, as __ip_options_echo
 * prepares them: the bytes and where the reply's own entries go. Offsets
 * count from the first byte of the reply's IP header (the options start
 * at 20); 0 means absent.
 */
export interface ReplyOptions {
  /** The option bytes, a multiple of 4 long (empty when the reply has none). */
  data: Uint8Array;
  /** Record Route option, and whether the reply records its source in it. */
  rr: number;
  rrNeedAddr: boolean;
  /** Timestamp option, and whether the reply records its address and time in it. */
  ts: number;
  tsNeedAddr: boolean;
  tsNeedTime: boolean;
  /** The reversed source route option. */
  srr: number;
  /** The first hop of the reversed source route: the destination of the reply's header (0 when none). */
  faddr: number;
}

/** The reply options of a datagram that had none (shared: do not change it). */
export const NO_REPLY_OPTIONS: ReplyOptions = Object.freeze({
  data: new Uint8Array(0),
  rr: 0,
  rrNeedAddr: false,
  ts: 0,
  tsNeedAddr: false,
  tsNeedTime: false,
  srr: 0,
  faddr: 0,
});

/**
 * __ip_options_echo: the options an ICMP message (error or echo/timestamp
 * reply) or the TCP stack's reset about `skb` must carry, from what the
 * receive check recorded for it (a datagram whose options were never
 * checked, such as one this host generated, gets none). Record Route and
 * Timestamp are copied with room taken for the reply's own entries, the
 * source route is reversed, CIPSO copied; other options are left out.
 * Returns null when the options leave no valid reply (a Timestamp or
 * Record Route pointer too close to the end): no reply may then be sent.
 * Callers: icmpSend, icmpReply, sendStackReset, before routing the reply
 * (its destination is `faddr` when set).
 */
export function ipOptionsEcho(kernel: KernelServices, skb: Skb): ReplyOptions | null {
  if ((skb.data[0]! & 15) === 5) return NO_REPLY_OPTIONS;
  const o = states.get(skb);
  if (!o || o.optlen === 0) return NO_REPLY_OPTIONS;
  const d = skb.data;
  const net: NetState | undefined = kernel.net;
  const out = new Uint8Array(44);
  const r: ReplyOptions = { data: out, rr: 0, rrNeedAddr: false, ts: 0, tsNeedAddr: false, tsNeedTime: false, srr: 0, faddr: 0 };
  let n = 0;
  if (o.rr) {
    const len = d[o.rr + 1]!;
    const soff = d[o.rr + 2]!;
    r.rr = 20 + n;
    out.set(d.subarray(o.rr, o.rr + len), n);
    if (o.rrNeedAddr && soff <= len) {
      if (soff + 3 > len) return null;
      out[n + 2] = soff + 4;
      r.rrNeedAddr = true;
    }
    n += len;
  }
  if (o.ts) {
    const len = d[o.ts + 1]!;
    let soff = d[o.ts + 2]!;
    r.ts = 20 + n;
    out.set(d.subarray(o.ts, o.ts + len), n);
    if (soff <= len) {
      if (o.tsNeedAddr) {
        if (soff + 3 > len) return null;
        r.tsNeedAddr = true;
        soff += 4;
      }
      if (o.tsNeedTime) {
        if (soff + 3 > len) return null;
        if ((out[n + 3]! & 0xf) !== TS_PRESPEC) {
          r.tsNeedTime = true;
          soff += 4;
        } else if (soff + 7 <= len) {
          // a prespecified list: the reply stamps only when the next address is this host's
          const next = get32(out, n + soff - 1);
          if (net && inetAddrType(net, next) !== 'unicast') {
            r.tsNeedTime = true;
            soff += 8;
          }
        }
      }
      out[n + 2] = soff;
    }
    n += len;
  }
  if (o.srr) {
    const start = o.srr;
    const len = d[start + 1]!;
    let soff = d[start + 2]!;
    let doff = 0;
    let faddr = 0;
    if (soff > len) soff = len + 1;
    soff -= 4;
    if (soff > 3) {
      // the last address passed is the first hop back; the others follow in reverse
      faddr = get32(d, start + soff - 1);
      for (soff -= 4, doff = 4; soff > 3; soff -= 4, doff += 4) out.set(d.subarray(start + soff - 1, start + soff + 3), n + doff - 1);
      // RFC 1812: no hop back to the sender itself
      if (get32(d, 12) === get32(d, start + soff + 3)) doff -= 4;
    }
    if (doff > 3) {
      r.faddr = faddr;
      out[n] = d[start]!;
      out[n + 1] = doff + 3;
      out[n + 2] = 4;
      r.srr = 20 + n;
      n += doff + 3;
    }
  }
  if (o.cipso) {
    const len = d[o.cipso + 1]!;
    out.set(d.subarray(o.cipso, o.cipso + len), n);
    n += len;
  }
  while (n & 3) out[n++] = IPOPT_END;
  r.data = out.slice(0, n);
  return r;
}

/**
 * ip_options_build for a reply: copies the options into the header of
 * `datagram` (whose ihl already counts them, source and destination
 * written) and fills the reply's own entries: its source address in the
 * Record Route slot and Timestamp address, the current time in the
 * Timestamp, and the final destination `finalDst` (the original sender)
 * at the end of the reversed source route. The header checksum is left to
 * the caller.
 */
export function ipOptionsBuild(kernel: KernelServices, datagram: Uint8Array, opts: ReplyOptions, finalDst: number): void {
  const d = datagram;
  d.set(opts.data, 20);
  if (opts.srr) put32(d, opts.srr + d[opts.srr + 1]! - 4, finalDst);
  const src = get32(d, 12);
  if (opts.rrNeedAddr) put32(d, opts.rr + d[opts.rr + 2]! - 5, src);
  if (opts.tsNeedAddr) put32(d, opts.ts + d[opts.ts + 2]! - 9, src);
  if (opts.tsNeedTime) put32(d, opts.ts + d[opts.ts + 2]! - 5, inetCurrentTimestamp(kernel));
}
