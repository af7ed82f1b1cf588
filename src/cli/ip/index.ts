/**
 * iproute2's `ip` (6.1) on a lab machine: global options, object dispatch
 * with iproute2's abbreviations, exit statuses. Pure: the network state goes
 * in, text and the changed state come out.
 */
import { cloneNetState } from '../../core/net/state.js';
import type { NetState } from '../../core/net/types.js';
import { doIpAddr } from './addr.js';
import { AF_INET, AF_INET6, AF_PACKET, AF_UNSPEC, eprint, IpExit, matches, print, type IpContext } from './common.js';
import { doIpLink } from './link.js';
import { doIpNeigh } from './neigh.js';
import { doIpRoute } from './route.js';

/** What running a command produced. */
export interface IpResult {
  stdout: string;
  stderr: string;
  status: number;
  /** The new network state, present only when the command changed it. */
  net?: NetState;
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
  ['netns', notHere('netns')],
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
    } else if (opt === '-c' || matches(opt, '-color') || matches(opt, '-colour') || opt.startsWith('-color=') || opt.startsWith('-colour=')) {
      // colour only when writing to a terminal
    } else if (matches(opt, '-help')) usage(ctx);
    else if (matches(opt, '-netns')) {
      eprint(ctx, 'ip: -netns is not available in this lab\n');
      return 255;
    } else if (matches(opt, '-Numeric') || matches(opt, '-all') || opt === '-echo') {
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
 * Runs `ip ARGV` (ARGV without the leading "ip") on `net`. The input state
 * is never modified; `net` is returned when the command changed the state.
 */
export function runIp(argv: string[], net: NetState): IpResult {
  const work = cloneNetState(net);
  const ctx: IpContext = { net: work, out: [], err: [], family: AF_UNSPEC, stats: 0, details: 0, oneline: false, brief: false };
  let status: number;
  try {
    status = run(ctx, argv);
  } catch (e) {
    if (!(e instanceof IpExit)) throw e;
    status = e.status;
  }
  const result: IpResult = { stdout: ctx.out.join(''), stderr: ctx.err.join(''), status };
  if (JSON.stringify(work) !== JSON.stringify(net)) result.net = work;
  return result;
}
