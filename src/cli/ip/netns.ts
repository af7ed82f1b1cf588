/**
 * `ip netns` (iproute2 6.1): list, add, delete, set, list-id, identify,
 * pids and exec over the host's named network namespaces, with the ids
 * (nsid) the current namespace gave them. Names live in /run/netns, which
 * lists the newest first.
 */
import { diesWithNetns, moveLink } from '../../core/net/netns.js';
import { nsidAlloc, nsidOf, nsidUsed } from '../../core/net/nsid.js';
import { unregisterLink } from '../../core/net/links.js';
import { emptyNetState, linkByIndex } from '../../core/net/state.js';
import { eprint, getInteger, invarg, IpExit, matches, print, type IpContext } from './common.js';

/** The directory `ip netns` keeps names in (Debian's NETNS_RUN_DIR). */
export const NETNS_RUN_DIR = '/run/netns';

const USAGE =
  'Usage:\tip netns list\n' +
  '\tip netns add NAME\n' +
  '\tip netns attach NAME PID\n' +
  '\tip netns set NAME NETNSID\n' +
  '\tip [-all] netns delete [NAME]\n' +
  '\tip netns identify [PID]\n' +
  '\tip netns pids NAME\n' +
  '\tip [-all] netns exec [NAME] cmd ...\n' +
  '\tip netns monitor\n' +
  '\tip netns list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]\n' +
  'NETNSID := auto | POSITIVE-INT\n';

function usage(ctx: IpContext): never {
  eprint(ctx, USAGE);
  throw new IpExit(255);
}

/** iproute2's `matches(word, keyword) == 0`: a non-empty prefix. */
function is(word: string, keyword: string): boolean {
  return word !== '' && matches(word, keyword);
}

/** invalid_name(): empty, too long, with a slash, "." or "..". */
function invalidName(name: string): boolean {
  return name === '' || name.length > 255 || name.includes('/') || name === '.' || name === '..';
}

/** The name of the namespace a path under /run/netns or /proc (or a plain name) designates. */
function nameOfFile(ctx: IpContext, s: string): string | undefined {
  let name = s;
  if (s === '/proc/self/ns/net' || s === '/proc/thread-self/ns/net') return ctx.ns.current;
  const proc = /^\/proc\/(\d+)\/ns\/net$/.exec(s);
  if (proc) return ctx.ns.netnsOfPid(Number(proc[1]));
  if (s.includes('/')) {
    const prefixes = [`${NETNS_RUN_DIR}/`, `/var${NETNS_RUN_DIR}/`];
    const p = prefixes.find((x) => s.startsWith(x));
    if (!p) return undefined;
    name = s.slice(p.length);
  }
  return name !== '' && ctx.ns.exists(name) && !name.includes('/') ? name : undefined;
}

/** netns_get_fd() for `ip link ... netns NAME`: the namespace a name or path designates. */
export function netnsByFile(ctx: IpContext, s: string): string | undefined {
  return nameOfFile(ctx, s);
}

function list(ctx: IpContext): number {
  const net = ctx.net;
  for (const name of ctx.ns.names()) {
    const id = nsidOf(net, name);
    print(ctx, id === undefined ? `${name}\n` : `${name} (id: ${id})\n`);
  }
  return 0;
}

function nsidLine(id: number, name: string): string {
  return name === '' ? `nsid ${id} \n` : `nsid ${id} (iproute2 netns name: ${name})\n`;
}

function listId(ctx: IpContext, argv: string[]): number {
  let target = -1;
  let nsid = -1;
  for (let i = 0; i < argv.length; i++) {
    const w = argv[i]!;
    if (w === 'target-nsid' || w === 'nsid') {
      if ((w === 'nsid' ? nsid : target) >= 0) {
        eprint(ctx, `Error: duplicate "${w}": "${w}" is the second value.\n`);
        throw new IpExit(255);
      }
      i++;
      if (i >= argv.length) {
        eprint(ctx, 'Command line is not complete. Try option "help"\n');
        throw new IpExit(255);
      }
      const v = getInteger(argv[i]!);
      if (v === undefined) invarg(ctx, `"${w}" value is invalid`, argv[i]!);
      if (v < 0) invarg(ctx, `"${w}" value should be >= 0`, argv[i + 1] ?? '(null)');
      if (w === 'nsid') nsid = v;
      else target = v;
    } else usage(ctx);
  }
  if (target >= 0) {
    eprint(ctx, 'ip: "target-nsid" is not available in this lab\n');
    return -1;
  }
  const ids = ctx.net.nsids ?? {};
  const entries = Object.entries(ids).sort((a, b) => a[1] - b[1]);
  if (nsid >= 0) {
    const e = entries.find(([, id]) => id === nsid);
    if (!e) {
      eprint(ctx, 'Error: Peer netns reference is invalid.\n');
      return -2;
    }
    print(ctx, nsidLine(nsid, e[0]));
    return 0;
  }
  for (const [name, id] of entries) print(ctx, nsidLine(id, name));
  return 0;
}

function add(ctx: IpContext, argv: string[]): number {
  if (argv.length < 1) {
    eprint(ctx, 'No netns name specified\n');
    return -1;
  }
  const name = argv[0]!;
  if (ctx.ns.exists(name) && name !== '') {
    eprint(ctx, `Cannot create namespace file "${NETNS_RUN_DIR}/${name}": File exists\n`);
    return -1;
  }
  // the directory gives the new namespace its block of MAC addresses
  ctx.ns.create(name, emptyNetState());
  return 0;
}

/**
 * A namespace going away: its veths take their other ends with them, its
 * virtual devices die, other devices go back to the host's own namespace.
 */
function destroy(ctx: IpContext, name: string): void {
  const ns = ctx.ns;
  const net = ns.net(name)!;
  for (const link of [...net.links]) {
    if (link.kind === 'veth' && link.peerNetns !== undefined && link.peer !== undefined) {
      const other = ns.net(link.peerNetns);
      const peer = other ? linkByIndex(other, link.peer) : undefined;
      if (other && peer) unregisterLink(other, peer);
    }
    if (!diesWithNetns(link)) {
      const from = link.index;
      if (!moveLink(ns.named(name), ns.named(''), link, undefined, 'dev%d')) ns.noteMove(name, from, '', link.index);
    }
  }
  ns.remove(name);
  if (ns.current === name) {
    ns.current = '';
    ctx.net = ns.currentNet;
  }
}

function del(ctx: IpContext, argv: string[]): number {
  if (ctx.all) {
    for (const name of ctx.ns.names()) destroy(ctx, name);
    return 0;
  }
  if (argv.length < 1) {
    eprint(ctx, 'No netns name specified\n');
    return -1;
  }
  const name = argv[0]!;
  if (name === '' || !ctx.ns.exists(name)) {
    eprint(ctx, `Cannot remove namespace file "${NETNS_RUN_DIR}/${name}": No such file or directory\n`);
    return -1;
  }
  destroy(ctx, name);
  return 0;
}

function set(ctx: IpContext, argv: string[]): number {
  if (argv.length < 1) {
    eprint(ctx, 'No netns name specified\n');
    return -1;
  }
  if (argv.length < 2) {
    eprint(ctx, 'No nsid specified\n');
    return -1;
  }
  const name = argv[0]!;
  const v = argv[1]!;
  let id = -1;
  if (v !== 'auto') {
    const n = getInteger(v);
    if (n === undefined) invarg(ctx, 'Invalid "netnsid" value', v);
    if (n < 0) invarg(ctx, '"netnsid" value should be >= 0', v);
    id = n;
  }
  if (name === '' || !ctx.ns.exists(name)) {
    eprint(ctx, `Cannot open network namespace "${name}": No such file or directory\n`);
    return -1;
  }
  const net = ctx.net;
  if (nsidOf(net, name) !== undefined) {
    eprint(ctx, 'Error: Peer netns already has a nsid assigned.\n');
    return -2;
  }
  if (id < 0) {
    nsidAlloc(net, name);
    return 0;
  }
  if (nsidUsed(net, id)) {
    eprint(ctx, 'Error: The specified nsid is already used.\n');
    return -2;
  }
  (net.nsids ??= {})[name] = id;
  return 0;
}

function isPid(s: string): boolean {
  return /^[0-9]*$/.test(s);
}

function identify(ctx: IpContext, argv: string[]): number {
  if (argv.length > 1) {
    eprint(ctx, 'extra arguments specified\n');
    return -1;
  }
  let ns: string | undefined = ctx.ns.current;
  if (argv.length === 1) {
    const p = argv[0]!;
    if (!isPid(p)) {
      eprint(ctx, `Specified string '${p}' is not a pid\n`);
      return -1;
    }
    ns = p === '' ? undefined : ctx.ns.netnsOfPid(Number(p));
    if (ns === undefined) {
      eprint(ctx, 'Cannot open network namespace: No such file or directory\n');
      return -1;
    }
  }
  print(ctx, `${ns}\n`);
  return 0;
}

function pids(ctx: IpContext, argv: string[]): number {
  if (argv.length < 1) {
    eprint(ctx, 'No netns name specified\n');
    return -1;
  }
  if (argv.length > 1) {
    eprint(ctx, 'extra arguments specified\n');
    return -1;
  }
  const name = argv[0]!;
  if (name === '' || !ctx.ns.exists(name)) {
    eprint(ctx, 'Cannot open network namespace: No such file or directory\n');
    return -1;
  }
  for (const pid of ctx.ns.pids(name)) print(ctx, `${pid}\n`);
  return 0;
}

function exec(ctx: IpContext, argv: string[]): number {
  if (argv.length < 1 && !ctx.all) {
    eprint(ctx, 'No netns name specified\n');
    return -1;
  }
  if ((argv.length < 2 && !ctx.all) || (argv.length < 1 && ctx.all)) {
    eprint(ctx, 'No command specified\n');
    return -1;
  }
  if (ctx.all) {
    ctx.execAll = ctx.ns.names().map((netns) => ({ netns, argv: [...argv] }));
    return 0;
  }
  const name = argv[0]!;
  if (!ctx.ns.exists(name) || name === '') {
    eprint(ctx, `Cannot open network namespace "${name}": No such file or directory\n`);
    return 1;
  }
  ctx.exec = { netns: name, argv: argv.slice(1) };
  return 0;
}

/** do_netns(): dispatches `ip netns ...`; returns iproute2's return value. */
export function doIpNetns(ctx: IpContext, argv: string[]): number {
  if (!ctx.ns.available) {
    eprint(ctx, 'ip: "netns" is not available in this lab\n');
    return -1;
  }
  if (argv.length < 1) return list(ctx);
  if (!ctx.all && argv.length > 1 && invalidName(argv[1]!)) {
    eprint(ctx, `Invalid netns name "${argv[1]}"\n`);
    throw new IpExit(255);
  }
  const w = argv[0]!;
  const rest = argv.slice(1);
  if (is(w, 'list') || is(w, 'show') || is(w, 'lst')) return list(ctx);
  if (is(w, 'list-id')) return listId(ctx, rest);
  if (is(w, 'help')) usage(ctx);
  if (is(w, 'add')) return add(ctx, rest);
  if (is(w, 'set')) return set(ctx, rest);
  if (is(w, 'delete')) return del(ctx, rest);
  if (is(w, 'identify')) return identify(ctx, rest);
  if (is(w, 'pids')) return pids(ctx, rest);
  if (is(w, 'exec')) return exec(ctx, rest);
  if (is(w, 'monitor') || is(w, 'attach')) {
    eprint(ctx, `ip: "netns ${w}" is not available in this lab\n`);
    return -1;
  }
  eprint(ctx, `Command "${w}" is unknown, try "ip netns help".\n`);
  throw new IpExit(255);
}
