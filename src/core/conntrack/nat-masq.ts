/**
 * The address-dependent NAT targets' kernel sides: MASQUERADE takes the
 * source address the output interface would use for the next hop
 * (nf_nat_masquerade_ipv4 with inet_select_addr), REDIRECT the input
 * interface's first address or 127.0.0.1 (nf_nat_redirect_ipv4), NETMAP
 * keeps the host part and replaces the network. A masqueraded connection
 * is forgotten when its interface goes down or loses the address it was
 * masqueraded to (the masquerade notifiers).
 */
import { selectSourceAddress } from '../net/fib.js';
import type { NetState } from '../net/types.js';
import type { Hook } from '../netfilter/tables.js';
import type { Skb } from '../path/skb.js';
import { NAT_FLAG, type NatRange } from '../xt/target/nat-range.js';
import type { KernelServices } from '../xt/packet.js';
import { NF_ACCEPT, NF_DROP } from '../xt/verdict.js';
import { hookManip, natSetupInfo, type NatConn, type NatEnv } from './nat.js';
import { natTable } from './nat-table.js';
import { killConn } from './table.js';
import { IPS, type Conn } from './types.js';

/** The range a target hands to nf_nat_setup_info: its own flags and ports with one address. */
function singleAddress(range: NatRange, addr: number): NatRange {
  return {
    rangesize: 1,
    flags: range.flags | NAT_FLAG.MAP_IPS,
    minIp: addr,
    maxIp: addr,
    minPort: range.minPort,
    maxPort: range.maxPort,
    basePort: 0,
  };
}

/**
 * nf_nat_masquerade_ipv4: source NAT of a new connection to the address
 * `out` would choose for the packet's next hop. A connection from 0.0.0.0
 * is left alone; without a usable address the packet is dropped with the
 * kernel's "ate my IP address" message.
 */
export function natMasquerade(kernel: KernelServices, skb: Skb, range: NatRange, out: string): number {
  const ct = skb.ct as NatConn | null;
  if (!ct) return NF_ACCEPT;
  if (ct.orig.src === 0) return NF_ACCEPT;
  const d = skb.data;
  const daddr = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
  const nh = skb.nexthop || daddr;
  const src = selectSourceAddress(kernel.net as NetState, out, nh, 0);
  if (!src) {
    kernel.printk(6, `${out} ate my IP address`);
    return NF_DROP;
  }
  // The NAT extension remembering the interface exists on a connection
  // from before it was confirmed (nf_ct_nat_ext_add adds none later).
  if (!(ct.status & IPS.CONFIRMED) || ct.masqDev !== undefined) ct.masqDev = out;
  return natSetupInfo(kernel, ct, singleAddress(range, src), 'SRC');
}

/**
 * nf_nat_redirect_ipv4: destination NAT to this machine: 127.0.0.1 for
 * locally generated packets (OUTPUT), else the first address of the input
 * interface; a packet arriving on an interface without one is dropped.
 */
export function natRedirect(kernel: KernelServices, skb: Skb, range: NatRange, hook: Hook): number {
  const ct = skb.ct;
  if (!ct) return NF_ACCEPT;
  let dst = 0;
  if (hook === 'OUTPUT') {
    dst = 0x7f000001;
  } else {
    const net = kernel.net as NetState;
    const link = net.links.find((l) => l.name === skb.indev);
    if (link && link.inet.length > 0) dst = link.inet[0]!.local;
    if (!dst) return NF_DROP;
  }
  return natSetupInfo(kernel, ct, singleAddress(range, dst), 'DST');
}

/**
 * netmap_tg4: maps the packet's destination (PREROUTING, OUTPUT) or
 * source (INPUT, POSTROUTING) onto the range's network, keeping the bits
 * outside its mask.
 */
export function natNetmap(kernel: KernelServices, skb: Skb, range: NatRange, hook: Hook): number {
  const ct = skb.ct;
  if (!ct) return NF_ACCEPT;
  const manip = hookManip(hook);
  const netmask = ~(range.minIp ^ range.maxIp) >>> 0;
  const d = skb.data;
  const at = manip === 'DST' ? 16 : 12;
  const cur = ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
  const addr = ((cur & ~netmask) | (range.minIp & netmask)) >>> 0;
  return natSetupInfo(kernel, ct, singleAddress(range, addr), manip);
}

/**
 * What the masquerade notifiers do when interface `dev` goes down
 * (`addr` undefined) or loses the IPv4 address `addr`: every connection
 * masqueraded through it (to that address) is removed from the table.
 * The kernel has these notifiers only while a MASQUERADE rule exists, so
 * the caller (the `ip` side) calls this only then. Returns the number of
 * connections removed.
 */
export function natForgetMasqueraded(env: NatEnv, dev: string, addr?: number): number {
  const victims: Conn[] = [];
  env.conntrack.forEach((c) => {
    const m = (c as NatConn).masqDev;
    if (m !== dev) return;
    if (addr !== undefined && c.reply.dst !== addr >>> 0) return;
    victims.push(c);
  });
  const table = natTable(env);
  for (const c of victims) killConn(table, c);
  return victims.length;
}
