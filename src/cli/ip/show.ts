/**
 * `ip link show` and `ip addr show` output: the link line with its flags,
 * the link/ether line, statistics, IPv4 and IPv6 address lines, and the
 * brief (-br) and one-line (-o) variants, laid out as iproute2 6.1 does.
 */
import { IFF_BROADCAST, IFF_LOOPBACK, IFF_LOWER_UP, IFF_MULTICAST, IFF_NOARP, IFF_RUNNING, IFF_UP, linkByIndex, linkFlags, operState } from '../../core/net/state.js';
import { nsidOf } from '../../core/net/nsid.js';
import { detailsText } from './details.js';
import type { Inet4Addr, Inet6Addr, Link, NetState } from '../../core/net/types.js';
import { AF_INET6, AF_PACKET, AF_UNSPEC, COLOR, ipText, paint, paintState, scopeName, type IpContext } from './common.js';

/** "<FLAGS>" as print_link_flags prints it, with NO-CARRIER and M-DOWN. */
export function flagsText(flags: number, mdown: boolean): string {
  const parts: string[] = [];
  if (flags & IFF_UP && !(flags & IFF_RUNNING)) parts.push('NO-CARRIER');
  const order: [number, string][] = [
    [IFF_LOOPBACK, 'LOOPBACK'],
    [IFF_BROADCAST, 'BROADCAST'],
    [IFF_MULTICAST, 'MULTICAST'],
    [IFF_NOARP, 'NOARP'],
    [IFF_UP, 'UP'],
    [IFF_LOWER_UP, 'LOWER_UP'],
  ];
  for (const [bit, name] of order) if (flags & bit) parts.push(name);
  return `<${parts.join(',')}${mdown ? ',M-DOWN' : ''}>`;
}

/** The veth peer, when the link has one in the same namespace. */
function peerOf(net: NetState, link: Link): Link | undefined {
  return link.peer !== undefined && link.peerNetns === undefined ? linkByIndex(net, link.peer) : undefined;
}

/**
 * "name" or "name@peer" and whether the peer is down (M-DOWN). A peer in
 * another namespace is "@ifINDEX"; the IPv6 link dump (`v6dump`) carries
 * no namespace id, so iproute2 looks the index up where it runs.
 */
export function nameAndLink(net: NetState, link: Link, v6dump = false): { name: string; mdown: boolean } {
  if (link.peerNetns !== undefined && link.peer !== undefined) {
    if (!v6dump) return { name: `${link.name}@if${link.peer}`, mdown: false };
    // an index unknown here has all flags set for iproute2 (ll_index_to_flags gives -1)
    const here = linkByIndex(net, link.peer);
    return { name: `${link.name}@${here ? here.name : `if${link.peer}`}`, mdown: here ? !here.up : false };
  }
  const peer = peerOf(net, link);
  if (!peer) return { name: link.name, mdown: false };
  return { name: `${link.name}@${peer.name}`, mdown: !peer.up };
}

/** " link-netns NAME" or " link-netnsid ID" for a veth whose other end is in another namespace. */
export function linkNetnsText(net: NetState, link: Link): string {
  if (link.peerNetns === undefined) return '';
  const id = nsidOf(net, link.peerNetns);
  if (id === undefined) return ' link-netnsid unknown';
  return link.peerNetns !== '' ? ` link-netns ${link.peerNetns}` : ` link-netnsid ${id}`;
}

function linkType(link: Link): string {
  return link.kind === 'loopback' ? 'loopback' : 'ether';
}

function brdOf(link: Link): string {
  return link.kind === 'loopback' ? '00:00:00:00:00:00' : 'ff:ff:ff:ff:ff:ff';
}

function qdiscOf(link: Link): string {
  if (!link.everUp) return 'noop';
  // a network card gets the default queueing discipline (net.core.default_qdisc), virtual devices none
  return link.kind === 'ether' ? 'pfifo_fast' : 'noqueue';
}

/** The first line of a link (up to "qlen N"), without a newline. */
function linkHead(ctx: IpContext, link: Link, doLink: boolean): string {
  const net = ctx.net;
  const { name, mdown } = nameAndLink(net, link, ctx.family === AF_INET6 && !doLink);
  const st = operState(net, link);
  let s = `${link.index}: ${paint(ctx, COLOR.ifname, `${name}: `)}${flagsText(linkFlags(net, link), mdown)} mtu ${link.mtu} `;
  if (ctx.family === AF_INET6 && !doLink) {
    // The IPv6 link dump carries neither qdisc, master, mode nor group.
    s += `state ${paintState(ctx, st, `${st} `)}`;
    s += `qlen ${link.txqlen}`;
    return s;
  }
  s += `qdisc ${qdiscOf(link)} `;
  if (link.master !== undefined) s += `master ${linkByIndex(net, link.master)?.name ?? link.master} `;
  s += `state ${paintState(ctx, st, `${st} `)}`;
  if (doLink) s += 'mode DEFAULT ';
  s += `group ${link.group === 0 ? 'default' : link.group} `;
  s += `qlen ${link.txqlen}`;
  return s;
}

function sl(ctx: IpContext): string {
  return ctx.oneline ? '\\' : '\n';
}

function num(width: number, v: number): string {
  return `${String(v).padStart(width)} `;
}

/** The "RX:/TX:" statistics block of `ip -s link` (without a final newline). */
export function statsText(ctx: IpContext, link: Link): string {
  const nl = sl(ctx);
  const cols = [10, 7, 6, 7, 7, 7, 10, 9];
  const widen = (i: number, v: number): void => {
    const len = String(v).length;
    if (len > cols[i]!) cols[i] = len;
  };
  const rx = [link.rxBytes, link.rxPackets, 0, 0, 0, 0];
  const tx = [link.txBytes, link.txPackets, 0, 0, 0, 0];
  rx.forEach((v, i) => widen(i, v));
  tx.forEach((v, i) => widen(i, v));
  const c = cols;
  let s = `    RX: ${'bytes'.padStart(c[0]! - 4)} ${'packets'.padStart(c[1]!)} ${'errors'.padStart(c[2]!)} ${'dropped'.padStart(c[3]!)} ${'missed'.padStart(c[4]!)} ${'mcast'.padStart(c[5]!)} ${''.padStart(c[6]!)}${nl}`;
  s += '    ' + rx.map((v, i) => num(c[i]!, v)).join('');
  if (ctx.stats > 1) {
    s += nl;
    s += `    RX errors:${''.padStart(c[0]! - 10)} ${'length'.padStart(c[1]!)} ${'crc'.padStart(c[2]!)} ${'frame'.padStart(c[3]!)} ${'fifo'.padStart(c[4]!)} ${'overrun'.padStart(c[5]!)}${nl}`;
    s += ''.padStart(c[0]! + 5) + [0, 0, 0, 0, 0].map((v, i) => num(c[i + 1]!, v)).join('');
  }
  s += nl;
  s += `    TX: ${'bytes'.padStart(c[0]! - 4)} ${'packets'.padStart(c[1]!)} ${'errors'.padStart(c[2]!)} ${'dropped'.padStart(c[3]!)} ${'carrier'.padStart(c[4]!)} ${'collsns'.padStart(c[5]!)} ${''.padStart(c[6]!)}${nl}`;
  s += '    ' + tx.map((v, i) => num(c[i]!, v)).join('');
  if (ctx.stats > 1) {
    s += nl;
    s += `    TX errors:${''.padStart(c[0]! - 10)} ${'aborted'.padStart(c[1]!)} ${'fifo'.padStart(c[2]!)} ${'window'.padStart(c[3]!)} ${'heartbt'.padStart(c[4]!)} ${'transns'.padStart(c[5]!)}${nl}`;
    s += ''.padStart(c[0]! + 5) + [0, 0, 0, 0, link.carrierChanges].map((v, i) => num(c[i + 1]!, v)).join('');
  }
  return s;
}

/** print_linkinfo(): the full text of one link for `ip link` (doLink) or `ip addr`. */
export function linkText(ctx: IpContext, link: Link, doLink: boolean): string {
  const nl = sl(ctx);
  const net = ctx.net;
  let s = linkHead(ctx, link, doLink);
  const showLl = ctx.family === AF_UNSPEC || ctx.family === AF_PACKET || ctx.details > 0;
  if (showLl) s += `${nl}    link/${linkType(link)} ${paint(ctx, COLOR.mac, link.mac)} brd ${paint(ctx, COLOR.mac, brdOf(link))}`;
  if (!(ctx.family === AF_INET6 && !doLink)) s += linkNetnsText(net, link);
  if (ctx.details > 0 && !(ctx.family === AF_INET6 && !doLink)) s += detailsText(ctx, link, doLink, nl);
  if (doLink && ctx.stats > 0) s += nl + statsText(ctx, link);
  return s + '\n';
}

/** print_linkinfo_brief(): name and state columns (and for links: MAC and flags). */
export function linkBrief(ctx: IpContext, link: Link, doLink: boolean): string {
  const net = ctx.net;
  const { name, mdown } = nameAndLink(net, link, ctx.family === AF_INET6 && !doLink);
  const st = operState(net, link);
  let s = paint(ctx, COLOR.ifname, `${name.padEnd(16)} `) + paintState(ctx, st, `${st.padEnd(14)} `);
  if (doLink) s += `${paint(ctx, COLOR.mac, `${link.mac} `)}${flagsText(linkFlags(net, link), mdown)} \n`;
  return s;
}

/** One IPv4 address line as print_addrinfo prints it (with its lifetime line). */
export function addr4Text(ctx: IpContext, link: Link, a: Inet4Addr): string {
  const nl = sl(ctx);
  let s = ctx.oneline ? `${link.index}: ${link.name}` : '';
  s += `    inet ${paint(ctx, COLOR.inet, ipText(a.local))}`;
  if (a.address !== a.local) s += ` peer ${paint(ctx, COLOR.inet, ipText(a.address))}`;
  s += `/${a.prefixlen} `;
  if (a.broadcast !== 0) s += `brd ${ipText(a.broadcast)} `;
  s += `scope ${scopeName(a.scope)} `;
  if (a.secondary) s += 'secondary ';
  s += a.label;
  s += `${nl}       valid_lft forever preferred_lft forever\n`;
  return s;
}

/** One IPv6 address line. */
export function addr6Text(ctx: IpContext, link: Link, a: Inet6Addr): string {
  const nl = sl(ctx);
  let s = ctx.oneline ? `${link.index}: ${link.name}` : '';
  s += `    inet6 ${paint(ctx, COLOR.inet6, a.address)}/${a.prefixlen} scope ${a.scope} `;
  s += `${nl}       valid_lft forever preferred_lft forever\n`;
  return s;
}

/** The brief form of an IPv4 address ("a.b.c.d/len " or with peer). */
export function addr4Brief(ctx: IpContext, a: Inet4Addr): string {
  let s = paint(ctx, COLOR.inet, ipText(a.local));
  if (a.address !== a.local) s += ` peer ${paint(ctx, COLOR.inet, ipText(a.address))}`;
  return `${s}/${a.prefixlen} `;
}

/** The brief form of an IPv6 address. */
export function addr6Brief(ctx: IpContext, a: Inet6Addr): string {
  return `${paint(ctx, COLOR.inet6, a.address)}/${a.prefixlen} `;
}

/** Whether a family filter lets IPv4 (or IPv6) addresses through. */
export function familyShows(ctx: IpContext, family: number): boolean {
  return ctx.family === AF_UNSPEC || ctx.family === family;
}
