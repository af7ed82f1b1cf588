/**
 * `ip link`: add, set/change, delete and show, parsed as iproute2's
 * iplink_parse does and applied to the model in the kernel's order
 * (address, MTU, group, name, flags, master, queue length).
 */
import type { NetError } from '../../core/net/errors.js';
import { addLink, deleteLink, releasePort, setLinkMac, setLinkMaster, setLinkMtu, setLinkUp, validIfname } from '../../core/net/links.js';
import { renameLink } from '../../core/net/rename.js';
import { linkByName } from '../../core/net/state.js';
import type { Link } from '../../core/net/types.js';
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
  type?: string;
  /** Arguments after "type KIND". */
  typeArgs: string[];
}

/** Link keywords nflab does not model; iproute2 would accept them. */
const UNSUPPORTED = new Set(['promisc', 'arp', 'multicast', 'allmulticast', 'trailers', 'carrier', 'netns', 'vf', 'alias', 'mode', 'state', 'link', 'index']);

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
      const m = linkByName(ctx.net, v);
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
  const net = ctx.net;
  const e = addLink(net, req.name, kind, peerReq?.name);
  if (e) return fail(ctx, e);
  const link = linkByName(net, req.name)!;
  const settle = (l: Link, r: LinkRequest): number => {
    const { up, master, ...rest } = r;
    let rc = applySettings(ctx, l, { ...rest, typeArgs: [] }, false);
    if (rc !== 0) return rc;
    rc = applySettings(ctx, l, { master, typeArgs: [] }, false);
    if (rc !== 0) return rc;
    if (up !== undefined) setLinkUp(net, l, up);
    return 0;
  };
  if (peerReq && link.peer !== undefined) {
    const peer = net.links.find((l) => l.index === link.peer)!;
    const rc = settle(peer, peerReq);
    if (rc !== 0) return rc;
  }
  return settle(link, req);
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
  const link = linkByName(ctx.net, req.dev);
  if (!link) return nodev(ctx, req.dev);
  if (req.address && req.address.length !== 6) {
    eprint(ctx, `Invalid address length ${req.address.length} - must be 6 bytes\n`);
    return -1;
  }
  if (req.name !== undefined && req.name !== req.dev && !validIfname(req.name)) return fail(ctx, { errno: 'EINVAL' });
  return applySettings(ctx, link, req, true);
}

function linkDelete(ctx: IpContext, argv: string[]): number {
  const req = parseLink(ctx, argv, false);
  if (req.dev === undefined) {
    eprint(ctx, 'Not enough information: "dev" argument is required.\n');
    throw new IpExit(255);
  }
  const link = linkByName(ctx.net, req.dev);
  if (!link) return nodev(ctx, req.dev);
  const e = deleteLink(ctx.net, link);
  if (e) return fail(ctx, e);
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
