/**
 * `ip address`: add, change, replace, delete, flush and the listings shared
 * with `ip link show` (ipaddr_list_flush_or_save in iproute2).
 */
import { addAddress4, deleteAddress4, removeAddress4 } from '../../core/net/addr4.js';
import { nsidAlloc } from '../../core/net/nsid.js';
import type { Link } from '../../core/net/types.js';
import {
  AF_INET,
  AF_INET6,
  AF_PACKET,
  AF_UNSPEC,
  Args,
  duparg,
  duparg2,
  eprint,
  getAddr,
  getPrefix,
  IpExit,
  invarg,
  matches,
  nodev,
  print,
  reportNetError,
  scopeFromName,
  type IpContext,
  type Prefix,
  devByName,
} from './common.js';
import { ADDR_USAGE } from './usage.js';
import { addr4Brief, addr4Text, addr6Brief, addr6Text, familyShows, linkBrief, linkText, statsText } from './show.js';


function usage(ctx: IpContext): never {
  eprint(ctx, ADDR_USAGE);
  throw new IpExit(255);
}

/** The filter of a listing or flush. */
interface AddrFilter {
  dev?: Link;
  up: boolean;
  scope?: number;
  label?: string;
  master?: number;
  to?: Prefix;
  /** "secondary"/"primary" given: true for secondaries only, false for primaries only. */
  secondary?: boolean;
  /** "dynamic" given: no address here is dynamic. */
  dynamicOnly?: boolean;
  /** "type KIND": links of that kind; "type KIND_slave": ports of such a master. */
  kind?: string;
  slaveKind?: string;
}

function ifaScopeOk(f: AddrFilter, scope: number): boolean {
  return f.scope === undefined || f.scope === scope;
}

function prefixMatches(p: Prefix | undefined, addr: number): boolean {
  if (!p || p.family !== AF_INET) return true;
  const bits = p.bitlen;
  if (bits <= 0) return true;
  const mask = bits === 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
  return ((addr ^ p.addr) & mask) === 0;
}

function labelMatches(f: AddrFilter, label: string): boolean {
  if (f.label === undefined) return true;
  const pat = f.label;
  if (pat.endsWith('*')) return label.startsWith(pat.slice(0, -1));
  return label === pat;
}

/** ipaddr_list_flush_or_save() for listing and flushing. */
export function listAddrs(ctx: IpContext, argv: string[], doLink: boolean, flush = false): number {
  if (doLink) ctx.family = AF_PACKET;
  if (flush) {
    if (argv.length <= 0) {
      eprint(ctx, 'Flush requires arguments.\n');
      return -1;
    }
    if (ctx.family === AF_PACKET) {
      eprint(ctx, 'Cannot flush link addresses.\n');
      return -1;
    }
  }
  const f: AddrFilter = { up: false };
  let filterDev: string | undefined;
  const a = new Args(argv);
  while (a.left > 0) {
    const w = a.cur;
    if (w === 'to') {
      const v = a.next(ctx);
      f.to = getPrefix(ctx, v, ctx.family);
      if (ctx.family === AF_UNSPEC) ctx.family = f.to.family;
    } else if (w === 'scope') {
      const v = a.next(ctx);
      const s = scopeFromName(v);
      if (s === undefined) {
        if (v !== 'all') invarg(ctx, 'invalid "scope"\n', v);
      } else f.scope = s;
    } else if (w === 'up') {
      f.up = true;
    } else if (w === 'secondary' || w === 'temporary') {
      f.secondary = true;
    } else if (w === 'primary') {
      f.secondary = false;
    } else if (w === 'permanent') {
      // every address of the lab is permanent
    } else if (w === 'dynamic') {
      f.dynamicOnly = true;
    } else if (w === 'label') {
      f.label = a.next(ctx);
    } else if (w === 'master') {
      const v = a.next(ctx);
      const m = devByName(ctx, v);
      if (!m) invarg(ctx, 'Device does not exist\n', v);
      f.master = m.index;
    } else if (w === 'nomaster') {
      f.master = -1;
    } else if (w === 'type') {
      const v = a.next(ctx);
      if (v.endsWith('_slave')) f.slaveKind = v.slice(0, -'_slave'.length);
      else f.kind = v;
    } else {
      let v = w;
      if (w === 'dev') v = a.next(ctx);
      else if (matches(w, 'help') && w !== '') usage(ctx);
      if (filterDev !== undefined) duparg2(ctx, 'dev', v);
      filterDev = v;
    }
    a.skip();
  }
  if (filterDev !== undefined) {
    const l = devByName(ctx, filterDev);
    if (!l) {
      eprint(ctx, `Device "${filterDev}" does not exist.\n`);
      return -1;
    }
    f.dev = l;
  }
  if (flush) return flushAddrs(ctx, f);
  reportLinks(ctx, f, doLink);
  // the kernel dumps links by index
  const links = [...ctx.net.links].sort((x, y) => x.index - y.index).filter((l) => {
    if (f.dev && l !== f.dev) return false;
    if (f.up && !l.up) return false;
    if (f.master !== undefined && (f.master === -1 ? l.master !== undefined : l.master !== f.master)) return false;
    // the loopback device carries no link kind
    if (f.kind !== undefined && (l.kind === 'loopback' || l.kind !== f.kind)) return false;
    if (f.slaveKind !== undefined) {
      const m = l.master !== undefined ? ctx.net.links.find((x) => x.index === l.master) : undefined;
      if (!m || m.kind !== f.slaveKind) return false;
    }
    return true;
  });
  for (const l of links) {
    if (!doLink && !keepLink(ctx, f, l)) continue;
    if (ctx.brief) {
      let s = linkBrief(ctx, l, doLink);
      if (!doLink) s += addrsBrief(ctx, f, l) + '\n';
      print(ctx, s);
      continue;
    }
    // with a label filter the link lines are left out (print_linkinfo returns early)
    if (!(ctx.oneline && !doLink) && (doLink || f.label === undefined)) print(ctx, linkText(ctx, l, doLink));
    if (!doLink) {
      printAddrs(ctx, f, l);
      if (ctx.stats > 0) print(ctx, statsText(ctx, l) + (ctx.oneline ? '\\' : '\n'));
    }
  }
  return 0;
}

/**
 * The kernel fills one message per link it reports (one link for a device
 * filter, else those of the master and kind filters); a veth whose other
 * end is in another namespace gives that namespace an id then. The IPv6
 * link dump carries no ids.
 */
function reportLinks(ctx: IpContext, f: AddrFilter, doLink: boolean): void {
  if (ctx.family === AF_INET6 && !doLink) return;
  const net = ctx.net;
  for (const l of f.dev ? [f.dev] : net.links) {
    if (l.peerNetns === undefined) continue;
    if (!f.dev && f.master !== undefined && f.master !== -1 && l.master !== f.master) continue;
    if (!f.dev && f.kind !== undefined && l.kind !== f.kind) continue;
    nsidAlloc(net, l.peerNetns);
  }
}

/** ipaddr_filter(): with an address filter, links without a matching address are left out. */
function keepLink(ctx: IpContext, f: AddrFilter, l: Link): boolean {
  const any = l.inet.length + l.inet6.length > 0;
  const up = { ...f, up: false };
  if (shown4(ctx, up, l).length + shown6(ctx, up, l).length > 0) return true;
  return !any && (ctx.family === AF_UNSPEC || ctx.family === AF_PACKET);
}

function shown4(ctx: IpContext, f: AddrFilter, l: Link): typeof l.inet {
  if (!familyShows(ctx, AF_INET)) return [];
  if (f.up && !l.up) return [];
  if (f.dynamicOnly) return [];
  return l.inet.filter(
    (a) => ifaScopeOk(f, a.scope) && labelMatches(f, a.label) && prefixMatches(f.to, a.local) && (f.secondary === undefined || a.secondary === f.secondary),
  );
}

function shown6(ctx: IpContext, f: AddrFilter, l: Link): typeof l.inet6 {
  if (!familyShows(ctx, AF_INET6)) return [];
  if (f.up && !l.up) return [];
  if (f.label !== undefined || (f.to && f.to.family === AF_INET)) return [];
  if (f.dynamicOnly || f.secondary === true) return [];
  return l.inet6.filter((a) => ifaScopeOk(f, a.scope === 'host' ? 254 : a.scope === 'link' ? 253 : 0));
}

function printAddrs(ctx: IpContext, f: AddrFilter, l: Link): void {
  for (const a of shown4(ctx, f, l)) print(ctx, addr4Text(ctx, l, a));
  for (const a of shown6(ctx, f, l)) print(ctx, addr6Text(ctx, l, a));
}

function addrsBrief(ctx: IpContext, f: AddrFilter, l: Link): string {
  let s = '';
  for (const a of shown4(ctx, f, l)) s += addr4Brief(ctx, a);
  for (const a of shown6(ctx, f, l)) s += addr6Brief(ctx, a);
  return s;
}

/** ipaddr_flush(): deletes every matching address, silently. */
function flushAddrs(ctx: IpContext, f: AddrFilter): number {
  const net = ctx.net;
  for (const l of net.links) {
    if (f.dev && l !== f.dev) continue;
    if (f.up && !l.up) continue;
    for (const a of shown4(ctx, f, l)) {
      if (l.inet.includes(a)) removeAddress4(net, l, a);
    }
    for (const a of shown6(ctx, f, l)) l.inet6 = l.inet6.filter((x) => x !== a);
  }
  return 0;
}

/** ipaddr_modify() for add, change, replace and delete. */
function addrModify(ctx: IpContext, argv: string[], cmd: 'add' | 'change' | 'replace' | 'del'): number {
  const a = new Args(argv);
  let dev: string | undefined;
  let label: string | undefined;
  let local: Prefix | undefined;
  let peer: Prefix | undefined;
  let brd: number | undefined;
  let brdMode: '+' | '-' | undefined;
  let brdGiven = false;
  let scope: number | undefined;
  while (a.left > 0) {
    const w = a.cur;
    if (w === 'peer' || w === 'remote') {
      const v = a.next(ctx);
      if (peer) duparg(ctx, 'peer', v);
      peer = getPrefix(ctx, v, ctx.family);
      if (ctx.family === AF_UNSPEC) ctx.family = peer.family;
    } else if (matches(w, 'broadcast') || w === 'brd') {
      const v = a.next(ctx);
      if (brdGiven) duparg(ctx, 'broadcast', v);
      brdGiven = true;
      if (v === '+') brdMode = '+';
      else if (v === '-') brdMode = '-';
      else {
        const b = getAddr(ctx, v, ctx.family);
        if (ctx.family === AF_UNSPEC) ctx.family = b.family;
        brd = b.addr;
      }
    } else if (w === 'scope') {
      const v = a.next(ctx);
      const s = scopeFromName(v);
      if (s === undefined) invarg(ctx, 'invalid scope value.', v);
      scope = s;
    } else if (w === 'dev') {
      dev = a.next(ctx);
    } else if (w === 'label') {
      label = a.next(ctx);
    } else if (matches(w, 'valid_lft') || matches(w, 'preferred_lft')) {
      const v = a.next(ctx);
      if (v !== 'forever') {
        eprint(ctx, `ip: address lifetimes other than "forever" are not supported in this lab\n`);
        throw new IpExit(1);
      }
    } else {
      let v = w;
      if (w === 'local') v = a.next(ctx);
      if (matches(v, 'help') && v !== '') usage(ctx);
      if (local) duparg2(ctx, 'local', v);
      local = getPrefix(ctx, v, ctx.family);
      if (ctx.family === AF_UNSPEC) ctx.family = local.family;
    }
    a.skip();
  }
  if (dev === undefined) {
    eprint(ctx, 'Not enough information: "dev" argument is required.\n');
    return -1;
  }
  let prefixlen = peer ? peer.bitlen : 0;
  let address: number | undefined = peer ? peer.addr : undefined;
  let wildcard = false;
  if (!peer && local) {
    if (cmd === 'del' && local.family === AF_INET && !local.lenSpecified) {
      eprint(
        ctx,
        'Warning: Executing wildcard deletion to stay compatible with old scripts.\n' +
          `         Explicitly specify the prefix length (${argvLocal(argv)}/${local.family === AF_INET ? 32 : 128}) to avoid this warning.\n` +
          '         This special behaviour is likely to disappear in further releases,\n' +
          '         fix your scripts!\n',
      );
      wildcard = true;
    } else {
      address = local.addr;
    }
  }
  if (prefixlen === 0 && local) prefixlen = local.bitlen;
  if (brdMode !== undefined && cmd !== 'del') {
    if (ctx.family !== AF_INET) {
      eprint(ctx, 'Broadcast can be set only for IPv4 addresses\n');
      return -1;
    }
    const base = peer ?? local;
    if (base && base.bitlen <= 30) {
      const host = base.bitlen === 0 ? 0xffffffff : ~((0xffffffff << (32 - base.bitlen)) >>> 0) >>> 0;
      brd = brdMode === '+' ? (base.addr | host) >>> 0 : (base.addr & ~host) >>> 0;
    }
  }
  if (scope === undefined && cmd !== 'del') scope = local && local.family === AF_INET && local.addr >>> 24 === 127 ? 254 : 0;
  const link = devByName(ctx, dev);
  if (!link) return nodev(ctx, dev);
  if (!local || local.family === AF_UNSPEC) {
    reportNetError(ctx, { errno: 'EOPNOTSUPP' });
    return -2;
  }
  if (local.family === AF_INET6) {
    eprint(ctx, 'ip: IPv6 addresses cannot be configured in this lab\n');
    return -2;
  }
  if (cmd === 'del') {
    const e = deleteAddress4(ctx.net, link, {
      local: local.addr,
      label,
      ...(wildcard ? {} : { address: address ?? local.addr, prefixlen }),
    });
    if (e) {
      reportNetError(ctx, e);
      return -2;
    }
    return 0;
  }
  if (cmd !== 'add') {
    const existing = link.inet.find((x) => x.local === local.addr && x.prefixlen === prefixlen);
    if (existing) {
      existing.broadcast = brd ?? 0;
      existing.scope = scope ?? 0;
      if (label !== undefined) existing.label = label;
      return 0;
    }
    if (cmd === 'change') {
      reportNetError(ctx, { errno: 'ENOENT' });
      return -2;
    }
  }
  const e = addAddress4(ctx.net, link, {
    local: local.addr,
    address: address ?? local.addr,
    prefixlen,
    broadcast: brd ?? 0,
    scope: scope ?? 0,
    label,
  });
  if (e) {
    reportNetError(ctx, e);
    return -2;
  }
  return 0;
}

/** The text of the local address as it was typed (for the wildcard warning). */
function argvLocal(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (['peer', 'remote', 'broadcast', 'brd', 'scope', 'dev', 'label', 'valid_lft', 'preferred_lft'].includes(w) || matches(w, 'broadcast')) {
      i++;
      continue;
    }
    if (w === 'local') return argv[i + 1] ?? '';
    return w;
  }
  return '';
}

/** do_ipaddr(): dispatches `ip address ...`. */
export function doIpAddr(ctx: IpContext, argv: string[]): number {
  if (argv.length < 1) return listAddrs(ctx, [], false);
  const w = argv[0]!;
  const rest = argv.slice(1);
  if (matches(w, 'add')) return addrModify(ctx, rest, 'add');
  if (matches(w, 'change') || w === 'chg') return addrModify(ctx, rest, 'change');
  if (matches(w, 'replace')) return addrModify(ctx, rest, 'replace');
  if (matches(w, 'delete')) return addrModify(ctx, rest, 'del');
  if (matches(w, 'list') || matches(w, 'show') || matches(w, 'lst')) return listAddrs(ctx, rest, false);
  if (matches(w, 'flush')) return listAddrs(ctx, rest, false, true);
  if (matches(w, 'help')) usage(ctx);
  eprint(ctx, `Command "${w}" is unknown, try "ip address help".\n`);
  throw new IpExit(255);
}
