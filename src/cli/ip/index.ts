/**
 * iproute2's `ip` (6.1) on a lab machine: global options, object dispatch
 * with iproute2's abbreviations, exit statuses. Pure: the network state goes
 * in, text and the changed state come out.
 */
import type { NetnsDirectory } from '../../core/net/netns.js';
import type { NetState } from '../../core/net/types.js';
import { doIpAddr } from './addr.js';
import { AF_INET, AF_INET6, AF_PACKET, AF_UNSPEC, colorOption, eprint, IpExit, matches, print, type IpContext, type NetnsExec } from './common.js';
import { doIpLink } from './link.js';
import { IpNamespaces } from './namespaces.js';
import { doIpNeigh } from './neigh.js';
import { doIpNetns } from './netns.js';
import { doIpRoute } from './route.js';

export type { NetnsExec } from './common.js';

/** What running a command produced. */
export interface IpResult {
  stdout: string;
  stderr: string;
  /** Exit status; meaningless when `exec` is set (the command run decides it). */
  status: number;
  /** The new network of the directory's current namespace, present only when the command changed it. */
  net?: NetState;
  /**
   * `ip netns exec NAME CMD...`: the caller runs CMD in NAME after printing
   * stdout/stderr; ip's exit status is CMD's. When NAME has no such
   * program the real ip prints `exec of "CMD" failed: No such file or
   * directory` and exits 1.
   */
  exec?: NetnsExec;
  /**
   * `ip -all netns exec CMD...`: for each entry in order the caller prints
   * `\nnetns: NAME\n` on stdout, then runs the command there; ip exits 0
   * whatever the commands return.
   */
  execAll?: NetnsExec[];
}

const USAGE =
  'Usage: ip [ OPTIONS ] OBJECT { COMMAND | help }\n' +
  '       ip [ -force ] -batch filename\n' +
  'where  OBJECT := { address | addrlabel | amt | fou | help | ila | ioam | l2tp |\n' +
  '                   link | macsec | maddress | monitor | mptcp | mroute | mrule |\n' +
  '                   neighbor | neighbour | netconf | netns | nexthop | ntable |\n' +
  '                   ntbl | route | rule | sr | tap | tcpmetrics |\n' +
  '                   token | tunnel | tuntap | vrf | xfrm }\n' +
  '       OPTIONS := { -V[ersion] | -s[tatistics] | -d[etails] | -r[esolve] |\n' +
  '                    -h[uman-readable] | -iec | -j[son] | -p[retty] |\n' +
  '                    -f[amily] { inet | inet6 | mpls | bridge | link } |\n' +
  '                    -4 | -6 | -M | -B | -0 |\n' +
  '                    -l[oops] { maximum-addr-flush-attempts } | -br[ief] |\n' +
  '                    -o[neline] | -t[imestamp] | -ts[hort] | -b[atch] [filename] |\n' +
  '                    -rc[vbuf] [size] | -n[etns] name | -N[umeric] | -a[ll] |\n' +
  '                    -c[olor]}\n';

function usage(ctx: IpContext): never {
  eprint(ctx, USAGE);
  throw new IpExit(255);
}

type Handler = (ctx: IpContext, argv: string[]) => number;

function notHere(name: string): Handler {
  return (ctx) => {
    eprint(ctx, `ip: "${name}" is not available in this lab\n`);
    return -1;
  };
}

/** iproute2's object table, in its order (abbreviations take the first match). */
const OBJECTS: [string, Handler][] = [
  ['address', doIpAddr],
  ['addrlabel', notHere('addrlabel')],
  ['maddress', notHere('maddress')],
  ['route', doIpRoute],
  ['rule', notHere('rule')],
  ['neighbor', doIpNeigh],
  ['neighbour', doIpNeigh],
  ['ntable', notHere('ntable')],
  ['ntbl', notHere('ntbl')],
  ['link', doIpLink],
  ['l2tp', notHere('l2tp')],
  ['fou', notHere('fou')],
  ['ila', notHere('ila')],
  ['macsec', notHere('macsec')],
  ['tunnel', notHere('tunnel')],
  ['tunl', notHere('tunl')],
  ['tuntap', notHere('tuntap')],
  ['tap', notHere('tap')],
  ['token', notHere('token')],
  ['tcpmetrics', notHere('tcpmetrics')],
  ['tcp_metrics', notHere('tcp_metrics')],
  ['monitor', notHere('monitor')],
  ['xfrm', notHere('xfrm')],
  ['mroute', notHere('mroute')],
  ['mrule', notHere('mrule')],
  ['netns', doIpNetns],
  ['netconf', notHere('netconf')],
  ['vrf', notHere('vrf')],
  ['sr', notHere('sr')],
  ['nexthop', notHere('nexthop')],
  ['mptcp', notHere('mptcp')],
  ['ioam', notHere('ioam')],
  ['help', (ctx) => usage(ctx)],
  ['stats', notHere('stats')],
];

function readFamily(s: string): number {
  if (s === 'inet') return AF_INET;
  if (s === 'inet6') return AF_INET6;
  if (s === 'link') return AF_PACKET;
  return AF_UNSPEC;
}

/** Parses the global options and runs the object; returns the exit status. */
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
    if (matches(opt, '-loops')) {
      i++;
      if (i >= argv.length) usage(ctx);
    } else if (matches(opt, '-family')) {
      i++;
      if (i >= argv.length) usage(ctx);
      const v = argv[i]!;
      if (v === 'help') usage(ctx);
      ctx.family = readFamily(v);
      if (ctx.family === AF_UNSPEC) {
        eprint(ctx, `Error: argument "${v}" is wrong: invalid protocol family\n`);
        throw new IpExit(255);
      }
    } else if (opt === '-4') ctx.family = AF_INET;
    else if (opt === '-6') ctx.family = AF_INET6;
    else if (opt === '-0') ctx.family = AF_PACKET;
    else if (matches(opt, '-human') || matches(opt, '-human-readable')) {
      // numbers stay exact: counters start at zero
    } else if (matches(opt, '-iec')) {
      // as above
    } else if (matches(opt, '-stats') || matches(opt, '-statistics')) ctx.stats++;
    else if (matches(opt, '-details')) ctx.details++;
    else if (matches(opt, '-resolve')) {
      // names of addresses are not resolved in the lab
    } else if (matches(opt, '-oneline')) ctx.oneline = true;
    else if (matches(opt, '-timestamp') || matches(opt, '-tshort')) {
      // only matters for monitor
    } else if (matches(opt, '-Version')) {
      print(ctx, 'ip utility, iproute2-6.1.0, libbpf 1.1.2\n');
      return 0;
    } else if (matches(opt, '-force')) {
      // only matters for batch
    } else if (matches(opt, '-batch')) {
      eprint(ctx, 'ip: -batch is not available in this lab\n');
      return 1;
    } else if (matches(opt, '-brief')) ctx.brief = true;
    else if (matches(opt, '-json') || matches(opt, '-pretty')) {
      eprint(ctx, 'ip: JSON output is not available in this lab\n');
      return 1;
    } else if (matches(opt, '-rcvbuf')) {
      i++;
      if (i >= argv.length) usage(ctx);
    } else if (colorOption(opt) !== undefined) {
      // "auto" colours a terminal only: the lab's output is never one
      ctx.color = colorOption(opt) === 'always';
    } else if (matches(opt, '-help')) usage(ctx);
    else if (matches(opt, '-netns')) {
      i++;
      // a missing name reaches netns_switch as a null pointer
      const name = i < argv.length ? argv[i]! : '(null)';
      if (!ctx.ns.available) {
        eprint(ctx, 'ip: -netns is not available in this lab\n');
        return 255;
      }
      if (name === '' || !ctx.ns.exists(name)) {
        eprint(ctx, `Cannot open network namespace "${name}": No such file or directory\n`);
        throw new IpExit(255);
      }
      ctx.ns.current = name;
      ctx.net = ctx.ns.currentNet;
    } else if (matches(opt, '-all')) ctx.all = true;
    else if (matches(opt, '-Numeric') || opt === '-echo') {
      // no effect on what the lab prints
    } else {
      eprint(ctx, `Option "${opt}" is unknown, try "ip -help".\n`);
      throw new IpExit(255);
    }
    i++;
  }
  if (i >= argv.length) usage(ctx);
  const obj = argv[i]!;
  const rest = argv.slice(i + 1);
  for (const [name, fn] of OBJECTS) {
    if (matches(obj, name)) return -fn(ctx, rest) & 255;
  }
  eprint(ctx, `Object "${obj}" is unknown, try "ip help".\n`);
  return 1;
}

/**
 * Runs `ip ARGV` (ARGV without the leading "ip") on `net`, the network of
 * the current namespace. With `dir`, the command also reaches the host's
 * other namespaces (`ip netns`, `ip -n`, `ip link set DEV netns NAME`):
 * their new networks are handed back with `dir.set`, namespaces added and
 * deleted with `dir.create` and `dir.remove`, all when the command ends.
 * No input state is modified; the current namespace's new network comes
 * back as `net` when it changed.
 */
export function runIp(argv: string[], net: NetState, dir?: NetnsDirectory): IpResult {
  const ns = new IpNamespaces(dir, net);
  const ctx: IpContext = { net: ns.currentNet, ns, out: [], err: [], family: AF_UNSPEC, stats: 0, details: 0, oneline: false, brief: false };
  let status: number;
  try {
    status = run(ctx, argv);
  } catch (e) {
    if (!(e instanceof IpExit)) throw e;
    status = e.status;
  }
  const result: IpResult = { stdout: ctx.out.join(''), stderr: ctx.err.join(''), status };
  const changed = ns.commit();
  if (changed) result.net = changed;
  if (ctx.exec) result.exec = ctx.exec;
  if (ctx.execAll) result.execAll = ctx.execAll;
  return result;
}
