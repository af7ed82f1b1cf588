/**
 * The conntrack match (revision 3, the one iptables 1.8.9 uses on current
 * kernels): connection state and status, the original and reply tuples
 * (addresses with masks, port ranges, protocol), remaining lifetime and
 * packet direction. The state match is an alias of it (see state.ts).
 */
import { defineMatch, paramError, type NameDb } from '../index-types.js';
import type { IPv6 } from '../../addr/ipv6.js';
import { dumpAddr6, parseHostMask6 } from '../addr6-opts.js';
import { badValue, dumpAddr, NO_NAMES, parseHostMask } from './conn-util.js';
import type { PacketContext } from '../packet.js';
import type { Conn } from '../../conntrack/types.js';
import { IPS } from '../../conntrack/types.js';

/**
 * xt_conntrack_mtinfo3: addresses and masks are unsigned 32-bit numbers in
 * iptables rules and four-word IPv6 values in ip6tables rules.
 */
export interface ConntrackInfo {
  origsrcAddr: number | IPv6;
  origsrcMask: number | IPv6;
  origdstAddr: number | IPv6;
  origdstMask: number | IPv6;
  replsrcAddr: number | IPv6;
  replsrcMask: number | IPv6;
  repldstAddr: number | IPv6;
  repldstMask: number | IPv6;
  expiresMin: number;
  expiresMax: number;
  l4proto: number;
  origsrcPort: number;
  origdstPort: number;
  replsrcPort: number;
  repldstPort: number;
  origsrcPortHigh: number;
  origdstPortHigh: number;
  replsrcPortHigh: number;
  repldstPortHigh: number;
  /** XT_CONNTRACK_* bits of the options given. */
  matchFlags: number;
  /** XT_CONNTRACK_* bits of the options negated (DIRECTION set means REPLY). */
  invertFlags: number;
  /** XT_CONNTRACK_STATE_* bits. */
  stateMask: number;
  /** IPS_* status bits. */
  statusMask: number;
}

/** match_flags / invert_flags bits (XT_CONNTRACK_*). */
export const CT = {
  STATE: 1 << 0,
  PROTO: 1 << 1,
  ORIGSRC: 1 << 2,
  ORIGDST: 1 << 3,
  REPLSRC: 1 << 4,
  REPLDST: 1 << 5,
  STATUS: 1 << 6,
  EXPIRES: 1 << 7,
  ORIGSRC_PORT: 1 << 8,
  ORIGDST_PORT: 1 << 9,
  REPLSRC_PORT: 1 << 10,
  REPLDST_PORT: 1 << 11,
  DIRECTION: 1 << 12,
  STATE_ALIAS: 1 << 13,
} as const;

/** State bits (XT_CONNTRACK_STATE_*), in the order iptables prints them. */
export const CT_STATES: readonly [string, number][] = [
  ['INVALID', 1 << 0],
  ['NEW', 1 << 3],
  ['RELATED', 1 << 2],
  ['ESTABLISHED', 1 << 1],
  ['UNTRACKED', 1 << 8],
  ['SNAT', 1 << 6],
  ['DNAT', 1 << 7],
];

/** The order parse_state tries the names in (each a case-insensitive prefix test). */
const STATE_PARSE_ORDER = ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED', 'SNAT', 'DNAT'];

/** Status bits (IPS_*), in print order. */
const CT_STATUS: readonly [string, number][] = [
  ['EXPECTED', 1 << 0],
  ['SEEN_REPLY', 1 << 1],
  ['ASSURED', 1 << 2],
  ['CONFIRMED', 1 << 3],
];

const STATUS_PARSE_ORDER: readonly [string, number][] = [['NONE', 0], ...CT_STATUS];

/** strncasecmp(word, name, word.length) === 0: `word` is a case-insensitive prefix of `name` (or equal). */
function prefixOf(word: string, name: string): boolean {
  return word.length <= name.length && name.slice(0, word.length).toLowerCase() === word.toLowerCase();
}

/** One state word, or undefined when it names none; `allowed` limits the names (state has no SNAT/DNAT). */
export function stateBit(word: string, allowed: readonly string[] = STATE_PARSE_ORDER): number | undefined {
  const name = allowed.find((n) => prefixOf(word, n));
  return name === undefined ? undefined : CT_STATES.find(([n]) => n === name)![1];
}

/**
 * A comma list of words as libxt_conntrack walks it: every word before a
 * comma must be known (else `bad(rest)`), then the last one.
 */
function parseList(arg: string, lookup: (w: string) => number | undefined, bad: (rest: string) => Error): number {
  let mask = 0;
  let rest = arg;
  for (let comma = rest.indexOf(','); comma >= 0; comma = rest.indexOf(',')) {
    const bit = comma === 0 ? undefined : lookup(rest.slice(0, comma));
    if (bit === undefined) throw bad(rest);
    mask |= bit;
    rest = rest.slice(comma + 1);
  }
  const bit = rest === '' ? undefined : lookup(rest);
  if (bit === undefined) throw bad(rest);
  return mask | bit;
}

/** Prints the state bits set in `mask`, comma separated, with a leading space. */
export function formatStates(mask: number): string {
  const names = CT_STATES.filter(([, bit]) => mask & bit).map(([n]) => n);
  return names.length ? ` ${names.join(',')}` : '';
}

function formatStatus(mask: number): string {
  const names = CT_STATUS.filter(([, bit]) => mask & bit).map(([n]) => n);
  if (mask === 0) names.push('NONE');
  return ` ${names.join(',')}`;
}

/** A zeroed xt_conntrack_mtinfo3. */
export function emptyConntrack(): ConntrackInfo {
  return {
    origsrcAddr: 0,
    origsrcMask: 0,
    origdstAddr: 0,
    origdstMask: 0,
    replsrcAddr: 0,
    replsrcMask: 0,
    repldstAddr: 0,
    repldstMask: 0,
    expiresMin: 0,
    expiresMax: 0,
    l4proto: 0,
    origsrcPort: 0,
    origdstPort: 0,
    replsrcPort: 0,
    repldstPort: 0,
    origsrcPortHigh: 0,
    origdstPortHigh: 0,
    replsrcPortHigh: 0,
    repldstPortHigh: 0,
    matchFlags: 0,
    invertFlags: 0,
    stateMask: 0,
    statusMask: 0,
  };
}

const ADDR_OPTS = [
  { id: 2, flag: CT.ORIGSRC, key: 'origsrc' },
  { id: 3, flag: CT.ORIGDST, key: 'origdst' },
  { id: 4, flag: CT.REPLSRC, key: 'replsrc' },
  { id: 5, flag: CT.REPLDST, key: 'repldst' },
] as const;

const PORT_OPTS = [
  { id: 6, flag: CT.ORIGSRC_PORT, key: 'origsrc' },
  { id: 7, flag: CT.ORIGDST_PORT, key: 'origdst' },
  { id: 8, flag: CT.REPLSRC_PORT, key: 'replsrc' },
  { id: 9, flag: CT.REPLDST_PORT, key: 'repldst' },
] as const;

/** conntrack_dump_ports: one port, or low:high when they differ and high is not 0. */
function dumpPorts(prefix: string, opt: string, low: number, high: number): string {
  return high === 0 || low === high ? ` ${prefix}${opt} ${low}` : ` ${prefix}${opt} ${low}:${high}`;
}

/**
 * conntrack_dump: the -L form (prefix "", names unless numeric) and the
 * save form (prefix "--", numeric). The state alias prints "state".
 */
export function dumpConntrack(info: ConntrackInfo, prefix: string, names: NameDb, numeric: boolean): string {
  const f = info.matchFlags;
  const inv = (bit: number) => (info.invertFlags & bit ? ' !' : '');
  let s = '';
  if (f & CT.STATE) s += `${inv(CT.STATE)} ${prefix}${f & CT.STATE_ALIAS ? 'state' : 'ctstate'}${formatStates(info.stateMask)}`;
  if (f & CT.PROTO) s += `${inv(CT.PROTO)} ${prefix}ctproto ${info.l4proto}`;
  for (const a of ADDR_OPTS) {
    if (!(f & a.flag)) continue;
    s += `${inv(a.flag)} ${prefix}ct${a.key}`;
    const addr = info[`${a.key}Addr`];
    const mask = info[`${a.key}Mask`];
    s += typeof addr === 'number' ? dumpAddr(names, addr, mask as number, numeric) : dumpAddr6(names, addr, mask as IPv6, numeric);
  }
  for (const p of PORT_OPTS) {
    if (!(f & p.flag)) continue;
    s += inv(p.flag) + dumpPorts(prefix, `ct${p.key}port`, info[`${p.key}Port`], info[`${p.key}PortHigh`]);
  }
  if (f & CT.STATUS) s += `${inv(CT.STATUS)} ${prefix}ctstatus${formatStatus(info.statusMask)}`;
  if (f & CT.EXPIRES) {
    const range = info.expiresMin === info.expiresMax ? `${info.expiresMin}` : `${info.expiresMin}:${info.expiresMax}`;
    s += `${inv(CT.EXPIRES)} ${prefix}ctexpire ${range}`;
  }
  if (f & CT.DIRECTION) s += ` ${prefix}ctdir ${info.invertFlags & CT.DIRECTION ? 'REPLY' : 'ORIGINAL'}`;
  return s;
}

/** XT_CONNTRACK_STATE_* bits the kernel half computes. */
const ST_INVALID = 1 << 0;
const ST_SNAT = 1 << 6;
const ST_DNAT = 1 << 7;
const ST_UNTRACKED = 1 << 8;

/** IP_CT_IS_REPLY: ctinfo values from here on are reply-direction packets. */
const IP_CT_IS_REPLY = 3;

/** Nanoseconds per jiffy (HZ=250). */
const NS_PER_JIFFY = 4_000_000;
/** HZ. */
const HZ = 250;

/** ((addr ^ want) & mask) == 0 for an IPv4 rule's unsigned 32-bit fields. */
function addrMatches(addr: number, want: number | IPv6, mask: number | IPv6): boolean {
  return ((addr ^ (want as number)) & (mask as number)) === 0;
}

/** low <= port <= high, inverted when asked (port_match). */
function portMatches(low: number, high: number, port: number, invert: boolean): boolean {
  return (port >= low && port <= high) !== invert;
}

/**
 * Seconds the connection has left (nf_ct_expires() / HZ): whole jiffies
 * between now and the expiry on the virtual clock, never negative.
 *
 * A connection not yet confirmed (the first packet is still on its way
 * through the hooks) keeps in ct->timeout its timeout itself, not the
 * jiffy it ends at: nf_ct_expires() subtracts the 32-bit jiffies counter
 * from it, as a signed 32-bit number. Once the machine has been up five
 * minutes (the counter starts five minutes before its wrap) that is
 * negative, so 0; `jiffies` is that counter.
 */
export function ctExpiresSeconds(c: Conn, nowNs: number, jiffies: number): number {
  let left = Math.floor(c.expires / NS_PER_JIFFY) - Math.floor(nowNs / NS_PER_JIFFY);
  if (!(c.status & IPS.CONFIRMED)) left = (left - jiffies) | 0;
  return left > 0 ? Math.floor(left / HZ) : 0;
}

/**
 * The kernel half of the conntrack match (revision 3) and of the state
 * match, its alias: the packet's state bits (with SNAT/DNAT from the
 * connection's status), direction, both tuples' addresses and ports,
 * protocol, status bits and remaining lifetime, each test inverted on its
 * own. A packet without a connection only passes when the rule tests its
 * state and that test passed.
 */
export function conntrackMatch(info: ConntrackInfo, ctx: PacketContext): boolean {
  const skb = ctx.skb;
  const ct = skb.ct;
  const flags = info.matchFlags;
  const inv = info.invertFlags;
  if (flags & CT.STATE) {
    let statebit: number;
    if (ct !== null) {
      statebit = 1 << ((skb.ctinfo % IP_CT_IS_REPLY) + 1);
      if (ct.status & IPS.SRC_NAT) statebit |= ST_SNAT;
      if (ct.status & IPS.DST_NAT) statebit |= ST_DNAT;
    } else {
      statebit = skb.untracked ? ST_UNTRACKED : ST_INVALID;
    }
    if (((info.stateMask & statebit) !== 0) === ((inv & CT.STATE) !== 0)) return false;
  }
  if (ct === null) return (flags & CT.STATE) !== 0;
  if (flags & CT.DIRECTION) {
    const original = skb.ctinfo < IP_CT_IS_REPLY;
    if (original === ((inv & CT.DIRECTION) !== 0)) return false;
  }
  const o = ct.orig;
  const r = ct.reply;
  if (flags & CT.ORIGSRC && addrMatches(o.src, info.origsrcAddr, info.origsrcMask) === ((inv & CT.ORIGSRC) !== 0)) return false;
  if (flags & CT.ORIGDST && addrMatches(o.dst, info.origdstAddr, info.origdstMask) === ((inv & CT.ORIGDST) !== 0)) return false;
  if (flags & CT.REPLSRC && addrMatches(r.src, info.replsrcAddr, info.replsrcMask) === ((inv & CT.REPLSRC) !== 0)) return false;
  if (flags & CT.REPLDST && addrMatches(r.dst, info.repldstAddr, info.repldstMask) === ((inv & CT.REPLDST) !== 0)) return false;
  if (flags & CT.PROTO && (o.proto === info.l4proto) === ((inv & CT.PROTO) !== 0)) return false;
  if (flags & CT.ORIGSRC_PORT && !portMatches(info.origsrcPort, info.origsrcPortHigh, o.sport, (inv & CT.ORIGSRC_PORT) !== 0))
    return false;
  if (flags & CT.ORIGDST_PORT && !portMatches(info.origdstPort, info.origdstPortHigh, o.dport, (inv & CT.ORIGDST_PORT) !== 0))
    return false;
  if (flags & CT.REPLSRC_PORT && !portMatches(info.replsrcPort, info.replsrcPortHigh, r.sport, (inv & CT.REPLSRC_PORT) !== 0))
    return false;
  if (flags & CT.REPLDST_PORT && !portMatches(info.repldstPort, info.repldstPortHigh, r.dport, (inv & CT.REPLDST_PORT) !== 0))
    return false;
  if (flags & CT.STATUS && ((info.statusMask & ct.status) !== 0) === ((inv & CT.STATUS) !== 0)) return false;
  if (flags & CT.EXPIRES) {
    const left = ctExpiresSeconds(ct, ctx.kernel.nowNs(), ctx.kernel.jiffies());
    if ((left >= info.expiresMin && left <= info.expiresMax) === ((inv & CT.EXPIRES) !== 0)) return false;
  }
  return true;
}

/** What `iptables -m conntrack -h` adds after the general help. */
const HELP =
  'conntrack match options:\n' +
  '[!] --ctstate {INVALID|ESTABLISHED|NEW|RELATED|UNTRACKED|SNAT|DNAT}[,...]\n' +
  '                               State(s) to match\n' +
  '[!] --ctproto proto            Protocol to match; by number or name, e.g. "tcp"\n' +
  '[!] --ctorigsrc address[/mask]\n' +
  '[!] --ctorigdst address[/mask]\n' +
  '[!] --ctreplsrc address[/mask]\n' +
  '[!] --ctrepldst address[/mask]\n' +
  '                               Original/Reply source/destination address\n' +
  '[!] --ctorigsrcport port\n' +
  '[!] --ctorigdstport port\n' +
  '[!] --ctreplsrcport port\n' +
  '[!] --ctrepldstport port\n' +
  '                               TCP/UDP/SCTP orig./reply source/destination port\n' +
  '[!] --ctstatus {NONE|EXPECTED|SEEN_REPLY|ASSURED|CONFIRMED}[,...]\n' +
  '                               Status(es) to match\n' +
  '[!] --ctexpire time[:time]     Match remaining lifetime in seconds against\n' +
  '                               value or range of values (inclusive)\n' +
  '    --ctdir {ORIGINAL|REPLY}   Flow direction of packet\n';

/** The conntrack match (-m conntrack), revision 3. */
export const conntrack = defineMatch<ConntrackInfo>({
  name: 'conntrack',
  help: () => HELP,
  revision: 3,
  options: [
    { name: 'ctstate', id: 0, type: 'string', invert: true },
    { name: 'ctproto', id: 1, type: 'protocol', invert: true },
    // hostmask options are parsed here (exact getaddrinfo rules), hence 'string'
    { name: 'ctorigsrc', id: 2, type: 'string', invert: true },
    { name: 'ctorigdst', id: 3, type: 'string', invert: true },
    { name: 'ctreplsrc', id: 4, type: 'string', invert: true },
    { name: 'ctrepldst', id: 5, type: 'string', invert: true },
    { name: 'ctstatus', id: 10, type: 'string', invert: true },
    { name: 'ctexpire', id: 11, type: 'uint32rc', invert: true },
    { name: 'ctorigsrcport', id: 6, type: 'portrc', invert: true },
    { name: 'ctorigdstport', id: 7, type: 'portrc', invert: true },
    { name: 'ctreplsrcport', id: 8, type: 'portrc', invert: true },
    { name: 'ctrepldstport', id: 9, type: 'portrc', invert: true },
    { name: 'ctdir', id: 12, type: 'string' },
  ],
  init: emptyConntrack,
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const id = cb.entry.id;
    const arg = cb.arg ?? '';
    const mark = (flag: number) => {
      info.matchFlags |= flag;
      if (cb.invert) info.invertFlags |= flag;
    };
    const addr = ADDR_OPTS.find((a) => a.id === id);
    if (addr) {
      const hm =
        cb.family === 'ipv6'
          ? parseHostMask6(cb.names, cb.extName, cb.entry.name, arg)
          : parseHostMask(cb.names, cb.extName, cb.entry.name, arg);
      info[`${addr.key}Addr`] = hm.addr;
      info[`${addr.key}Mask`] = hm.mask;
      mark(addr.flag);
      return;
    }
    const port = PORT_OPTS.find((p) => p.id === id);
    if (port) {
      const range = cb.val.range!;
      info[`${port.key}Port`] = range[0]!;
      info[`${port.key}PortHigh`] = range[1]!;
      mark(port.flag);
      return;
    }
    switch (id) {
      case 0:
        info.stateMask |= parseList(arg, (w) => stateBit(w), (rest) => paramError(`Bad ctstate "${rest}"`));
        mark(CT.STATE);
        break;
      case 1:
        info.l4proto = cb.val.num!;
        // the kernel header's XT_INV_PROTO (0x40) is the STATUS bit here: a quirk iptables has
        if (info.l4proto === 0 && info.invertFlags & 0x40)
          throw paramError('conntrack: rule would never match protocol');
        mark(CT.PROTO);
        break;
      case 10:
        info.statusMask |= parseList(
          arg,
          (w) => STATUS_PARSE_ORDER.find(([n]) => prefixOf(w, n))?.[1],
          (rest) => paramError(`Bad ctstatus "${rest}"`),
        );
        mark(CT.STATUS);
        break;
      case 11: {
        const r = cb.val.range!;
        info.expiresMin = r[0]!;
        info.expiresMax = (cb.val.nvals ?? 1) >= 2 ? r[1]! : r[0]!;
        mark(CT.EXPIRES);
        break;
      }
      case 12:
        if (arg.toLowerCase() === 'original') {
          info.matchFlags |= CT.DIRECTION;
          info.invertFlags &= ~CT.DIRECTION;
        } else if (arg.toLowerCase() === 'reply') {
          info.matchFlags |= CT.DIRECTION;
          info.invertFlags |= CT.DIRECTION;
        } else {
          throw badValue('conntrack', '--ctdir', arg);
        }
        break;
    }
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError('conntrack: At least one option is required');
  },
  print: (info, ctx) => dumpConntrack(info, '', ctx.names, ctx.numeric),
  save: (info, ctx) => dumpConntrack(info, '--', NO_NAMES, true),
  match: (info, ctx) => conntrackMatch(info, ctx),
});
