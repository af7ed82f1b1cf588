/**
 * `ip neigh` (neighbour, neighbor): add, change, replace, delete, show and
 * flush of IPv4 neighbour entries, as iproute2's ipneigh.c does them.
 * The kernel lists entries in hash order; nflab lists them in creation order.
 */
import { neighAdd, neighDelete } from '../../core/net/neigh.js';
import { linkByIndex } from '../../core/net/state.js';
import type { Neigh, NudState } from '../../core/net/types.js';
import {
  AF_INET6,
  AF_UNSPEC,
  Args,
  cUnsigned,
  duparg,
  duparg2,
  eprint,
  getAddr,
  getPrefix,
  IpExit,
  invarg,
  ipText,
  llAddrA2n,
  macText,
  matches,
  nodev,
  print,
  reportNetError,
  type IpContext,
  type Prefix,
  COLOR,
  devByName,
  paint,
  readAllLinks,
} from './common.js';
import { NEIGH_USAGE } from './usage.js';

/** NUD_* bits, used by filters. */
const NUD_BITS: Record<NudState, number> = {
  incomplete: 0x01,
  reachable: 0x02,
  stale: 0x04,
  delay: 0x08,
  probe: 0x10,
  failed: 0x20,
  noarp: 0x40,
  permanent: 0x80,
  none: 0x00,
};


function usage(ctx: IpContext): never {
  eprint(ctx, NEIGH_USAGE);
  throw new IpExit(255);
}

/** nud_state_a2n(): a state name, or a single NUD bit as a number. */
function nudFromName(s: string): NudState | undefined {
  if (matches(s, 'permanent')) return 'permanent';
  if (matches(s, 'reachable')) return 'reachable';
  if (s === 'noarp') return 'noarp';
  if (s === 'none') return 'none';
  if (s === 'stale') return 'stale';
  if (s === 'incomplete') return 'incomplete';
  if (s === 'delay') return 'delay';
  if (s === 'probe') return 'probe';
  if (matches(s, 'failed')) return 'failed';
  const n = cUnsigned(s, 0xffffffff);
  if (n === undefined || n >= 0x100 || (n & (n - 1)) !== 0) return undefined;
  for (const [name, bit] of Object.entries(NUD_BITS)) if (bit === n) return name as NudState;
  return undefined;
}

type NeighCmd = 'add' | 'change' | 'replace' | 'del';

/** ipneigh_modify(). */
function neighModify(ctx: IpContext, argv: string[], cmd: NeighCmd): number {
  let state: NudState = 'permanent';
  let dev: string | undefined;
  let dst: Prefix | undefined;
  let lla: string | undefined;
  const a = new Args(argv);
  while (a.left > 0) {
    const w = a.cur;
    if (matches(w, 'lladdr')) {
      const v = a.next(ctx);
      if (lla !== undefined) duparg(ctx, 'lladdr', v);
      lla = v;
    } else if (w === 'nud') {
      const v = a.next(ctx);
      const s = nudFromName(v);
      if (s === undefined) invarg(ctx, 'nud state is bad', v);
      state = s;
    } else if (w === 'dev') {
      dev = a.next(ctx);
    } else if (matches(w, 'proxy') || w === 'router' || w === 'use' || w === 'managed' || matches(w, 'extern_learn')) {
      eprint(ctx, `ip: "${w}" is not supported in this lab\n`);
      throw new IpExit(1);
    } else {
      let v = w;
      if (v === 'to') v = a.next(ctx);
      if (matches(v, 'help')) v = a.next(ctx);
      if (dst) duparg2(ctx, 'to', v);
      dst = getAddr(ctx, v, ctx.family);
    }
    a.skip();
  }
  if (dev === undefined || !dst || dst.family === AF_UNSPEC) {
    eprint(ctx, 'Device and destination are required arguments.\n');
    throw new IpExit(255);
  }
  let mac: string | undefined;
  let macLen = 6;
  if (lla !== undefined && lla !== 'null') {
    const bytes = llAddrA2n(ctx, lla);
    if (!bytes) return -1;
    macLen = bytes.length;
    mac = macText(bytes.slice(0, 6));
  }
  readAllLinks(ctx);
  const link = devByName(ctx, dev);
  if (!link) return nodev(ctx, dev);
  if (dst.family === AF_INET6) {
    eprint(ctx, 'ip: IPv6 neighbours cannot be configured in this lab\n');
    throw new IpExit(2);
  }
  if (cmd === 'del') {
    const e = neighDelete(ctx.net, link.index, dst.addr);
    if (e) {
      reportNetError(ctx, e);
      throw new IpExit(2);
    }
    return 0;
  }
  if (mac !== undefined && macLen < 6) {
    reportNetError(ctx, { errno: 'EINVAL', msg: 'Invalid link address' });
    throw new IpExit(2);
  }
  const e = neighAdd(ctx.net, link.index, dst.addr, mac, state, {
    create: cmd !== 'change',
    excl: cmd === 'add',
    replace: cmd !== 'add',
  });
  if (e) {
    reportNetError(ctx, e);
    throw new IpExit(2);
  }
  return 0;
}

/** The filter of a listing or flush. */
interface NeighFilter {
  dev?: number;
  /** NUD bits; 0x100 stands for "none". */
  state: number;
  pfx?: Prefix;
  master?: number;
}

function selected(ctx: IpContext, f: NeighFilter, n: Neigh): boolean {
  if (f.dev !== undefined && n.dev !== f.dev) return false;
  if (f.master !== undefined) {
    const l = linkByIndex(ctx.net, n.dev);
    if (f.master === -1 ? l?.master !== undefined : l?.master !== f.master) return false;
  }
  const bit = NUD_BITS[n.state];
  if (!(f.state & bit) && (bit !== 0 || !(f.state & 0x100))) return false;
  if (f.pfx && f.pfx.bitlen > 0) {
    const mask = f.pfx.bitlen >= 32 ? 0xffffffff : (0xffffffff << (32 - f.pfx.bitlen)) >>> 0;
    if (((n.ip ^ f.pfx.addr) & mask) !== 0) return false;
  }
  return true;
}

/** do_show_or_flush(). */
function neighShow(ctx: IpContext, argv: string[], flush: boolean): number {
  if (flush && argv.length <= 0) {
    eprint(ctx, 'Flush requires arguments.\n');
    return -1;
  }
  const f: NeighFilter = { state: flush ? ~(0x80 | 0x40) : 0xff & ~0x40 };
  let stateGiven = false;
  let filterDev: string | undefined;
  const a = new Args(argv);
  while (a.left > 0) {
    const w = a.cur;
    if (w === 'dev') {
      const v = a.next(ctx);
      if (filterDev !== undefined) duparg(ctx, 'dev', v);
      filterDev = v;
    } else if (w === 'master') {
      const v = a.next(ctx);
      const m = devByName(ctx, v);
      if (!m) invarg(ctx, 'Device does not exist\n', v);
      f.master = m.index;
    } else if (w === 'nomaster') {
      f.master = -1;
    } else if (w === 'nud') {
      const v = a.next(ctx);
      if (!stateGiven) {
        stateGiven = true;
        f.state = 0;
      }
      let bits: number;
      const s = nudFromName(v);
      if (s === undefined) {
        if (v !== 'all') invarg(ctx, 'nud state is bad', v);
        bits = ~0;
        if (flush) bits &= ~0x40;
      } else bits = NUD_BITS[s];
      if (bits === 0) bits = 0x100;
      f.state |= bits;
    } else if (w === 'proxy' || w === 'unused') {
      // no proxy entries; every entry counts as used
      if (w === 'proxy') f.state = 0;
    } else {
      let v = w;
      if (v === 'to') v = a.next(ctx);
      if (matches(v, 'help')) usage(ctx);
      f.pfx = getPrefix(ctx, v, ctx.family);
    }
    a.skip();
  }
  readAllLinks(ctx);
  if (filterDev !== undefined) {
    const l = devByName(ctx, filterDev);
    if (!l) return nodev(ctx, filterDev);
    f.dev = l.index;
  }
  if (ctx.family === AF_INET6) return 0;
  if (flush) {
    ctx.net.neigh = ctx.net.neigh.filter((n) => !selected(ctx, f, n));
    return 0;
  }
  let s = '';
  for (const n of ctx.net.neigh) {
    if (!selected(ctx, f, n)) continue;
    const dev = linkByIndex(ctx.net, n.dev)?.name ?? String(n.dev);
    const hasMac = n.mac !== undefined && n.state !== 'failed' && n.state !== 'incomplete' && n.state !== 'none';
    if (ctx.brief) {
      s += `${paint(ctx, COLOR.inet, `${ipText(n.ip).padEnd(39)} `)}${f.dev === undefined ? paint(ctx, COLOR.ifname, `${dev.padEnd(16)} `) : ''}${hasMac ? paint(ctx, COLOR.mac, n.mac!) : ''}\n`;
      continue;
    }
    s += paint(ctx, COLOR.inet, `${ipText(n.ip)} `);
    if (f.dev === undefined) s += `dev ${paint(ctx, COLOR.ifname, `${dev} `)}`;
    if (hasMac) s += `lladdr ${paint(ctx, COLOR.mac, `${n.mac} `)}`;
    if (n.state !== 'none') s += `${n.state.toUpperCase()} `;
    s += '\n';
  }
  print(ctx, s);
  return 0;
}

/** do_ipneigh(): dispatches `ip neigh ...`. */
export function doIpNeigh(ctx: IpContext, argv: string[]): number {
  if (argv.length < 1) return neighShow(ctx, [], false);
  const w = argv[0]!;
  const rest = argv.slice(1);
  if (matches(w, 'add')) return neighModify(ctx, rest, 'add');
  if (matches(w, 'change') || w === 'chg') return neighModify(ctx, rest, 'change');
  if (matches(w, 'replace')) return neighModify(ctx, rest, 'replace');
  if (matches(w, 'delete')) return neighModify(ctx, rest, 'del');
  if (matches(w, 'show') || matches(w, 'lst') || matches(w, 'list')) return neighShow(ctx, rest, false);
  if (matches(w, 'flush')) return neighShow(ctx, rest, true);
  if (matches(w, 'help')) usage(ctx);
  eprint(ctx, `Command "${w}" is unknown, try "ip neigh help".\n`);
  throw new IpExit(255);
}
