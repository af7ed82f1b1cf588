/**
 * `ip link`: add, set/change, delete and show, parsed as iproute2's
 * iplink_parse does and applied to the model in the kernel's order
 * (address, MTU, group, name, flags, master, queue length).
 */
import type { NetError } from '../../core/net/errors.js';
import { addLink, addVethPair, deleteLink, releasePort, setLinkMac, setLinkMaster, setLinkMtu, setLinkUp, unregisterLink, validIfname } from '../../core/net/links.js';
import { moveLink } from '../../core/net/netns.js';
import { nsidAlloc } from '../../core/net/nsid.js';
import { renameLink } from '../../core/net/rename.js';
import { linkByIndex, linkByName } from '../../core/net/state.js';
import type { Link } from '../../core/net/types.js';
import { netnsByFile } from './netns.js';
import { listAddrs } from './addr.js';
import {
  Args,
  duparg,
  duparg2,
  eprint,
  getInteger,
  IpExit,
  invarg,
  llAddrA2n,
  macText,
  matches,
  nodev,
  print,
  reportNetError,
  type IpContext,
  devByName,
} from './common.js';
import { BRIDGE_EXPLAIN, LINK_USAGE } from './usage.js';

/** What one iplink_parse() call collected. */
interface LinkRequest {
  up?: boolean;
  name?: string;
  dev?: string;
  address?: number[];
  mtu?: number;
  qlen?: number;
  /** Interface index of the master, 0 for nomaster. */
  master?: number;
  group?: number;
  /** `netns NAME|PID`: the namespace's name, or null for a process that does not exist. */
  netns?: string | null;
  type?: string;
  /** Arguments after "type KIND". */
  typeArgs: string[];
}

/** Link keywords nflab does not model; iproute2 would accept them. */
const UNSUPPORTED = new Set(['promisc', 'arp', 'multicast', 'allmulticast', 'trailers', 'carrier', 'vf', 'alias', 'mode', 'state', 'link', 'index']);

function unsupported(ctx: IpContext, word: string): never {
  eprint(ctx, `ip: "${word}" is not supported in this lab\n`);
  throw new IpExit(1);
}

/** iplink_parse(): reads options until "type"; returns the request. */
function parseLink(ctx: IpContext, argv: string[], create: boolean): LinkRequest {
  const req: LinkRequest = { typeArgs: [] };
  const a = new Args(argv);
  let name: string | undefined;
  let dev: string | undefined;
  while (a.left > 0) {
    const w = a.cur;
    if (w === 'up') req.up = true;
    else if (w === 'down') req.up = false;
    else if (w === 'name') {
      const v = a.next(ctx);
      if (name !== undefined) duparg(ctx, 'name', v);
      if (v === '' || v.length >= 16 || /[/\s]/.test(v)) invarg(ctx, '"name" not a valid ifname', v);
      name = v;
      if (dev === undefined) dev = name;
    } else if (matches(w, 'address')) {
      const v = a.next(ctx);
      const bytes = llAddrA2n(ctx, v);
      if (!bytes) throw new IpExit(1);
      req.address = bytes;
    } else if (matches(w, 'txqueuelen') || w === 'qlen' || matches(w, 'txqlen')) {
      const v = a.next(ctx);
      if (req.qlen !== undefined) duparg(ctx, 'txqueuelen', v);
      const n = getInteger(v);
      if (n === undefined) invarg(ctx, 'Invalid "txqueuelen" value\n', v);
      req.qlen = n;
    } else if (w === 'mtu') {
      const v = a.next(ctx);
      if (req.mtu !== undefined) duparg(ctx, 'mtu', v);
      const n = getInteger(v);
      if (n === undefined) invarg(ctx, 'Invalid "mtu" value\n', v);
      req.mtu = n;
    } else if (matches(w, 'master') && w !== '') {
      const v = a.next(ctx);
      const m = devByName(ctx, v);
      if (!m) invarg(ctx, 'Device does not exist\n', v);
      req.master = m.index;
    } else if (matches(w, 'nomaster') && w !== '') {
      req.master = 0;
    } else if (matches(w, 'type') && w !== '') {
      req.type = a.next(ctx);
      a.skip();
      req.typeArgs = a.rest();
      break;
    } else if (w === 'group') {
      const v = a.next(ctx);
      if (req.group !== undefined) duparg(ctx, 'group', v);
      const n = v === 'default' ? 0 : getInteger(v);
      if (n === undefined) invarg(ctx, 'Invalid "group" value\n', v);
      req.group = n;
    } else if (w === 'netns') {
      const v = a.next(ctx);
      if (req.netns !== undefined) duparg(ctx, 'netns', v);
      const byName = ctx.ns.available ? netnsByFile(ctx, v) : undefined;
      if (byName !== undefined) req.netns = byName;
      else {
        const pid = getInteger(v);
        if (pid === undefined) invarg(ctx, 'Invalid "netns" value\n', v);
        if (!ctx.ns.available) unsupported(ctx, w);
        req.netns = ctx.ns.netnsOfPid(pid) ?? null;
      }
    } else if (UNSUPPORTED.has(w)) {
      unsupported(ctx, w);
    } else {
      if (matches(w, 'help') && w !== '') {
        eprint(ctx, LINK_USAGE);
        throw new IpExit(255);
      }
      let v = w;
      if (w === 'dev') v = a.next(ctx);
      if (dev !== name) duparg2(ctx, 'dev', v);
      if (v === '' || /[/\s]/.test(v)) invarg(ctx, '"dev" not a valid ifname', v);
      dev = v;
    }
    a.skip();
  }
  if (name === undefined) name = dev;
  else if (dev === undefined) dev = name;
  req.name = name;
  req.dev = dev;
  if (create && name !== dev) {
    eprint(ctx, 'both "name" and "dev" cannot be used when creating devices.\n');
    throw new IpExit(255);
  }
  return req;
}


function fail(ctx: IpContext, e: NetError): number {
  reportNetError(ctx, e);
  return -2;
}

/** Applies the settings of a request to an existing link, in the kernel's order. */
function applySettings(ctx: IpContext, link: Link, req: LinkRequest, rename: boolean): number {
  const net = ctx.net;
  if (req.address) {
    if (req.address.length !== 6) {
      eprint(ctx, `Invalid address length ${req.address.length} - must be 6 bytes\n`);
      return -1;
    }
  }
  if (req.address) {
    const e = setLinkMac(net, link, macText(req.address));
    if (e) return fail(ctx, e);
  }
  if (req.mtu !== undefined) {
    const e = setLinkMtu(net, link, req.mtu);
    if (e) return fail(ctx, e);
  }
  if (req.group !== undefined) link.group = req.group;
  if (rename && req.name !== undefined && req.name !== link.name) {
    const e = renameLink(net, link, req.name);
    if (e) return fail(ctx, e);
  }
  if (req.up !== undefined) setLinkUp(net, link, req.up);
  if (req.master !== undefined) {
    if (req.master === 0) releasePort(net, link);
    else {
      const m = net.links.find((l) => l.index === req.master);
      if (!m) return fail(ctx, { errno: 'EINVAL' });
      const e = setLinkMaster(net, link, m);
      if (e) return fail(ctx, e);
    }
  }
  if (req.qlen !== undefined) {
    if (req.qlen < 0) return fail(ctx, { errno: 'EINVAL' });
    link.txqlen = req.qlen;
  }
  return 0;
}

function linkAdd(ctx: IpContext, argv: string[]): number {
  const req = parseLink(ctx, argv, true);
  if (req.type === undefined) {
    eprint(ctx, 'Not enough information: "type" argument is required\n');
    return -1;
  }
  const kind = req.type;
  let peerReq: LinkRequest | undefined;
  if (kind === 'veth') {
    if (req.typeArgs.length > 0) {
      if (req.typeArgs[0] !== 'peer') {
        print(ctx, "Usage: ip link <options> type veth [peer <options>]\nTo get <options> type 'ip link add help'\n");
        return -1;
      }
      peerReq = parseLink(ctx, req.typeArgs.slice(1), true);
      if (peerReq.type !== undefined) duparg(ctx, 'type', peerReq.type);
    }
  } else if (kind === 'dummy' || kind === 'bridge') {
    if (req.typeArgs.length > 0) {
      if (kind === 'bridge') {
        eprint(ctx, `bridge: unknown command "${req.typeArgs[0]}"?\n${BRIDGE_EXPLAIN}`);
        return -1;
      }
      eprint(ctx, `Garbage instead of arguments "${req.typeArgs[0]} ...". Try "ip link help".\n`);
      return -1;
    }
  } else {
    reportNetError(ctx, { errno: 'EOPNOTSUPP', msg: 'Unknown device type' });
    return -2;
  }
  if (req.name === undefined) {
    reportNetError(ctx, { errno: 'EINVAL' });
    return -2;
  }
  if (req.address && req.address.length !== 6) return fail(ctx, { errno: 'EINVAL' });
  if (req.netns === null || peerReq?.netns === null) return fail(ctx, { errno: 'ESRCH' });
  const devNs = req.netns ?? ctx.ns.current;
  const net = ctx.ns.net(devNs)!;
  let e;
  if (kind === 'veth' && (peerReq?.netns ?? ctx.ns.current) !== devNs) {
    const peerNs = peerReq?.netns ?? ctx.ns.current;
    e = addVethPair(ctx.ns.named(devNs), req.name, ctx.ns.named(peerNs), peerReq?.name);
  } else e = addLink(net, req.name, kind, peerReq?.name);
  if (e) return fail(ctx, e);
  const link = linkByName(net, req.name)!;
  const settle = (l: Link, r: LinkRequest): number => {
    const { up, master, ...rest } = r;
    let rc = applySettings(ctx, l, { ...rest, typeArgs: [] }, false);
    if (rc !== 0) return rc;
    rc = applySettings(ctx, l, { master, typeArgs: [] }, false);
    if (rc !== 0) return rc;
    if (up !== undefined) setLinkUp(ctx.net, l, up);
    return 0;
  };
  if (peerReq && link.peer !== undefined) {
    const peerNet = link.peerNetns !== undefined ? ctx.ns.net(link.peerNetns)! : net;
    const peer = linkByIndex(peerNet, link.peer)!;
    const saved = ctx.net;
    ctx.net = peerNet;
    const rc = settle(peer, peerReq);
    ctx.net = saved;
    if (rc !== 0) return rc;
  }
  const saved = ctx.net;
  ctx.net = net;
  const rc = settle(link, req);
  ctx.net = saved;
  return rc;
}

function linkSet(ctx: IpContext, argv: string[]): number {
  const req = parseLink(ctx, argv, false);
  if (req.type !== undefined) {
    eprint(ctx, `Garbage instead of arguments "${req.type} ...". Try "ip link help".\n`);
    return -1;
  }
  if (req.dev === undefined) {
    eprint(ctx, 'Not enough information: "dev" argument is required.\n');
    throw new IpExit(255);
  }
  const link = devByName(ctx, req.dev);
  if (!link) return nodev(ctx, req.dev);
  if (req.address && req.address.length !== 6) {
    eprint(ctx, `Invalid address length ${req.address.length} - must be 6 bytes\n`);
    return -1;
  }
  if (req.name !== undefined && req.name !== req.dev && !validIfname(req.name)) return fail(ctx, { errno: 'EINVAL' });
  if (req.netns !== undefined) {
    // do_setlink moves the device first; the other settings apply in its new namespace
    if (req.netns === null) return fail(ctx, { errno: 'ESRCH' });
    const e = moveTo(ctx, link, req.netns);
    if (e) return fail(ctx, e);
    const saved = ctx.net;
    ctx.net = ctx.ns.net(req.netns)!;
    const rc = applySettings(ctx, link, req, true);
    ctx.net = saved;
    return rc;
  }
  const rc = applySettings(ctx, link, req, true);
  // the change is reported, naming the namespace of a veth's other end
  if (rc === 0 && link.peerNetns !== undefined) nsidAlloc(ctx.net, link.peerNetns);
  return rc;
}

/** Moves a link of the current namespace to namespace `to`. */
function moveTo(ctx: IpContext, link: Link, to: string): NetError | undefined {
  const ns = ctx.ns;
  const peerName = link.kind === 'veth' && link.peer !== undefined ? (link.peerNetns ?? ns.current) : undefined;
  const peer = peerName !== undefined ? ns.named(peerName) : undefined;
  const from = link.index;
  const e = moveLink(ns.named(ns.current), ns.named(to), link, peer);
  if (!e && to !== ns.current) ns.noteMove(ns.current, from, to, link.index);
  return e;
}

function linkDelete(ctx: IpContext, argv: string[]): number {
  const req = parseLink(ctx, argv, false);
  if (req.dev === undefined) {
    eprint(ctx, 'Not enough information: "dev" argument is required.\n');
    throw new IpExit(255);
  }
  const link = devByName(ctx, req.dev);
  if (!link) return nodev(ctx, req.dev);
  const e = deleteLink(ctx.net, link);
  if (e) return fail(ctx, e);
  if (link.peerNetns !== undefined && link.peer !== undefined) {
    // the other end of a veth dies in its own namespace
    const other = ctx.ns.net(link.peerNetns);
    const peer = other ? linkByIndex(other, link.peer) : undefined;
    if (other && peer) unregisterLink(other, peer);
  }
  return 0;
}

/** do_iplink(): dispatches `ip link ...`; returns iproute2's return value. */
export function doIpLink(ctx: IpContext, argv: string[]): number {
  if (argv.length < 1) return listAddrs(ctx, [], true);
  const w = argv[0]!;
  const rest = argv.slice(1);
  if (matches(w, 'add')) return linkAdd(ctx, rest);
  if (matches(w, 'set') || matches(w, 'change')) return linkSet(ctx, rest);
  if (matches(w, 'replace')) return linkSet(ctx, rest);
  if (matches(w, 'delete')) return linkDelete(ctx, rest);
  if (matches(w, 'show') || matches(w, 'lst') || matches(w, 'list')) return listAddrs(ctx, rest, true);
  if (matches(w, 'help')) {
    eprint(ctx, LINK_USAGE);
    throw new IpExit(255);
  }
  eprint(ctx, `Command "${w}" is unknown, try "ip link help".\n`);
  throw new IpExit(255);
}
