/**
 * iproute2's `bridge` (6.1) as far as the lab's bridges go: `bridge link`
 * lists the bridge ports with their state, priority and cost (`-d` adds
 * their flags). `bridge fdb`, `mdb`, `vlan` and changes to ports are not
 * modelled.
 */
import type { NetnsDirectory } from '../../core/net/netns.js';
import { linkByIndex, linkFlags } from '../../core/net/state.js';
import type { Link, NetState } from '../../core/net/types.js';
import { COLOR, colorOption, devByName, eprint, IpExit, matches, paint, print, readAllLinks, type IpContext } from './common.js';
import { IpNamespaces } from './namespaces.js';
import { flagsText, nameAndLink } from './show.js';

/** What running `bridge` produced. */
export interface BridgeResult {
  stdout: string;
  stderr: string;
  status: number;
  /** The new network of the directory's current namespace when it changed (ids given by listing). */
  net?: NetState;
}

const USAGE =
  'Usage: bridge [ OPTIONS ] OBJECT { COMMAND | help }\n' +
  '       bridge [ -force ] -batch filename\n' +
  'where  OBJECT := { link | fdb | mdb | vlan | monitor }\n' +
  '       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] |\n' +
  '                    -o[neline] | -t[imestamp] | -n[etns] name |\n' +
  '                    -c[ompressvlans] -color -p[retty] -j[son] }\n';

function usage(ctx: IpContext): never {
  eprint(ctx, USAGE);
  throw new IpExit(255);
}

/** iproute2's `matches(word, keyword) == 0`. */
function is(word: string, keyword: string): boolean {
  return word !== '' && matches(word, keyword);
}

/** The port state of a bridge port: without STP it forwards while the bridge is up and the port has carrier. */
function portState(port: Link, br: Link): string {
  return br.up && port.up && port.carrier ? 'forwarding' : 'disabled';
}

const PORT_FLAGS =
  'hairpin off guard off root_block off fastleave off learning on flood on mcast_flood on bcast_flood on mcast_router 1 mcast_to_unicast off neigh_suppress off vlan_tunnel off isolated off locked off ';

function linkShow(ctx: IpContext, argv: string[]): number {
  let dev: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] !== 'dev') continue;
    i++;
    if (i >= argv.length) {
      eprint(ctx, 'Command line is not complete. Try option "help"\n');
      throw new IpExit(255);
    }
    if (dev !== undefined) {
      eprint(ctx, `Error: duplicate "dev": "${argv[i]}" is the second value.\n`);
      throw new IpExit(255);
    }
    dev = argv[i]!;
  }
  let only: Link | undefined;
  if (dev !== undefined) {
    only = devByName(ctx, dev);
    if (!only) {
      eprint(ctx, `Cannot find device "${dev}"\n`);
      return -1;
    }
  }
  const net = ctx.net;
  const nl = ctx.oneline ? '\\' : '\n';
  for (const link of [...net.links].sort((a, b) => a.index - b.index)) {
    if (only && link !== only) continue;
    const br = link.master !== undefined ? linkByIndex(net, link.master) : undefined;
    if (!br || br.kind !== 'bridge') continue;
    const { name, mdown } = nameAndLink(net, link);
    let s = `${link.index}: ${paint(ctx, COLOR.ifname, `${name}: `)}${flagsText(linkFlags(net, link), mdown)} mtu ${link.mtu} master ${br.name} `;
    s += `state ${portState(link, br)} priority 32 cost ${link.kind === 'veth' ? 2 : 100} `;
    if (ctx.details > 0) s += `${nl}    ${PORT_FLAGS}`;
    print(ctx, `${s}\n`);
  }
  return 0;
}

function doLink(ctx: IpContext, argv: string[]): number {
  readAllLinks(ctx);
  if (argv.length === 0) return linkShow(ctx, []);
  const w = argv[0]!;
  if (is(w, 'set') || is(w, 'change')) {
    eprint(ctx, 'bridge: changing bridge ports is not available in this lab\n');
    return -1;
  }
  if (is(w, 'show') || is(w, 'lst') || is(w, 'list')) return linkShow(ctx, argv.slice(1));
  if (is(w, 'help')) {
    eprint(ctx, 'Usage: bridge link set dev DEV [ cost COST ] [ priority PRIO ] [ state STATE ]\n');
    throw new IpExit(255);
  }
  eprint(ctx, `Command "${w}" is unknown, try "bridge link help".\n`);
  throw new IpExit(255);
}

function run(ctx: IpContext, argv: string[]): number {
  let i = 0;
  while (i < argv.length) {
    let opt = argv[i]!;
    if (opt === '--') {
      i++;
      break;
    }
    if (opt[0] !== '-') break;
    if (opt[1] === '-') opt = opt.slice(1);
    if (is(opt, '-help')) usage(ctx);
    else if (is(opt, '-Version')) {
      print(ctx, 'bridge utility, 6.1.0\n');
      return 0;
    } else if (is(opt, '-stats') || is(opt, '-statistics')) ctx.stats++;
    else if (is(opt, '-details')) ctx.details++;
    else if (is(opt, '-oneline')) ctx.oneline = true;
    else if (is(opt, '-timestamp') || is(opt, '-force') || opt === '-4' || opt === '-6') {
      // no effect on what the lab prints
    } else if (is(opt, '-netns')) {
      i++;
      const name = i < argv.length ? argv[i]! : '(null)';
      if (!ctx.ns.available || name === '' || !ctx.ns.exists(name)) {
        eprint(ctx, `Cannot open network namespace "${name}": No such file or directory\n`);
        throw new IpExit(255);
      }
      ctx.ns.current = name;
      ctx.net = ctx.ns.currentNet;
    } else if (colorOption(opt) !== undefined) ctx.color = colorOption(opt) === 'always';
    else if (is(opt, '-compressvlans')) {
      // vlans are not modelled
    } else if (is(opt, '-json') || is(opt, '-pretty') || is(opt, '-batch') || is(opt, '-family')) {
      eprint(ctx, `bridge: "${opt}" is not available in this lab\n`);
      return 1;
    } else {
      eprint(ctx, `Option "${opt}" is unknown, try "bridge help".\n`);
      throw new IpExit(255);
    }
    i++;
  }
  if (i >= argv.length) usage(ctx);
  const obj = argv[i]!;
  const rest = argv.slice(i + 1);
  if (is(obj, 'link')) return doLink(ctx, rest);
  for (const other of ['fdb', 'mdb', 'vlan', 'monitor']) {
    if (is(obj, other)) {
      eprint(ctx, `bridge: "${other}" is not available in this lab\n`);
      return -1;
    }
  }
  eprint(ctx, `Object "${obj}" is unknown, try "bridge help".\n`);
  return -1;
}

/**
 * Runs `bridge ARGV` (without "bridge") on `net`, the current namespace's
 * network; `dir` as for runIp (for `bridge -n NAME`).
 */
export function runBridge(argv: string[], net: NetState, dir?: NetnsDirectory): BridgeResult {
  const ns = new IpNamespaces(dir, net);
  const ctx: IpContext = { net: ns.currentNet, ns, out: [], err: [], family: 0, stats: 0, details: 0, oneline: false, brief: false };
  let status: number;
  try {
    status = run(ctx, argv) & 255;
  } catch (e) {
    if (!(e instanceof IpExit)) throw e;
    status = e.status;
  }
  const result: BridgeResult = { stdout: ctx.out.join(''), stderr: ctx.err.join(''), status };
  const changed = ns.commit();
  if (changed) result.net = changed;
  return result;
}
