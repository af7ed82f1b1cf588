/**
 * The tcp match: source and destination port ranges, TCP flags (--syn,
 * --tcp-flags) and --tcp-option, loaded by -m tcp or implicitly by -p tcp.
 */
import { parsePort, portName } from '../ports.js';
import { strtoulRange } from '../../util/cnum.js';
import { defineMatch, paramError, type NameDb } from '../index-types.js';
import type { PacketContext } from '../packet.js';

/** xt_tcp data. */
export interface TcpInfo {
  spts: [number, number];
  dpts: [number, number];
  option: number;
  flgMask: number;
  flgCmp: number;
  /** XT_TCP_INV_* bits. */
  invflags: number;
}

/** Inversion bits of xt_tcp. */
export const TCP_INV = { SRCPT: 0x01, DSTPT: 0x02, FLAGS: 0x04, OPTION: 0x08 } as const;

/** TCP flag names in the order iptables prints them. */
export const TCP_FLAG_NAMES: readonly [string, number][] = [
  ['FIN', 0x01],
  ['SYN', 0x02],
  ['RST', 0x04],
  ['PSH', 0x08],
  ['ACK', 0x10],
  ['URG', 0x20],
  ['ALL', 0x3f],
  ['NONE', 0],
];

/** Parses a comma-separated TCP flag list. */
export function parseTcpFlags(list: string): number {
  let ret = 0;
  for (const word of list.split(',').filter((w) => w !== '')) {
    const f = TCP_FLAG_NAMES.find(([n]) => n.toLowerCase() === word.toLowerCase());
    if (!f) throw paramError(`Unknown TCP flag \`${word}'`);
    ret |= f[1];
  }
  return ret;
}

/** Prints a flag set as names joined by commas, NONE when empty. */
export function formatTcpFlags(flags: number): string {
  const out: string[] = [];
  let f = flags;
  while (f) {
    const entry = TCP_FLAG_NAMES.find(([, bit]) => (f & bit) !== 0)!;
    out.push(entry[0]);
    f &= ~entry[1];
  }
  return out.length ? out.join(',') : 'NONE';
}

/** Parses "port", "port:port", ":port" or "port:" for tcp/udp. */
export function parsePortRange(names: NameDb, s: string, proto: string): [number, number] {
  const colon = s.indexOf(':');
  if (colon < 0) {
    const p = parsePort(names, s, proto);
    return [p, p];
  }
  const lo = s.slice(0, colon);
  const hi = s.slice(colon + 1);
  const a = lo ? parsePort(names, lo, proto) : 0;
  const b = hi ? parsePort(names, hi, proto) : 0xffff;
  if (a > b) throw paramError('invalid portrange (min > max)');
  return [a, b];
}

/** -L form of a port range ("spt:ssh", "dpts:1024:65535"), empty when it matches all. */
export function printPorts(
  names: NameDb,
  label: string,
  range: [number, number],
  invert: boolean,
  numeric: boolean,
  proto: string,
): string {
  const [min, max] = range;
  if (min === 0 && max === 0xffff && !invert) return '';
  const inv = invert ? '!' : '';
  if (min === max) return ` ${label}:${inv}${portName(names, min, proto, numeric)}`;
  return ` ${label}s:${inv}${portName(names, min, proto, numeric)}:${portName(names, max, proto, numeric)}`;
}

/**
 * What a port range looks like once iptables-nft has stored it as payload
 * comparisons and read it back: a range starting at 0 becomes "<= hi"
 * (inverted: "> hi", read back as hi+1..65535 without inversion); the
 * whole range stores nothing (undefined).
 */
export function nativeRange(r: [number, number], inv: boolean): { range: [number, number]; inv: boolean } | undefined {
  const [lo, hi] = r;
  if (lo === 0 && hi === 0xffff) return undefined;
  if (lo !== hi && lo === 0) {
    return inv ? { range: [Math.min(hi + 1, 0xffff), 0xffff], inv: false } : { range: [0, hi], inv: false };
  }
  return { range: [lo, hi], inv };
}

/** Save form of a port range option, empty when it matches all. */
export function savePorts(opt: string, range: [number, number], invert: boolean): string {
  const [min, max] = range;
  if (min === 0 && max === 0xffff) return '';
  return `${invert ? ' !' : ''} --${opt} ${min === max ? min : `${min}:${max}`}`;
}

export const tcp = defineMatch<TcpInfo>({
  name: 'tcp',
  oldStyle: true,
  help: () => TCP_HELP,
  options: [
    { name: 'source-port', id: 0, type: 'string' },
    { name: 'sport', id: 0, type: 'string' },
    { name: 'destination-port', id: 1, type: 'string' },
    { name: 'dport', id: 1, type: 'string' },
    { name: 'syn', id: 2, type: 'none' },
    { name: 'tcp-flags', id: 3, type: 'string' },
    { name: 'tcp-option', id: 4, type: 'string' },
  ],
  init: () => ({ spts: [0, 0xffff], dpts: [0, 0xffff], option: 0, flgMask: 0, flgCmp: 0, invflags: 0 }),
  parse(cb) {
    const info = cb.info;
    const has = (bit: number) => (cb.xflags & (1 << bit)) !== 0;
    switch (cb.entry.id) {
      case 0:
        if (has(0)) throw paramError("Only one `--source-port' allowed");
        info.spts = parsePortRange(cb.names, cb.arg!, 'tcp');
        if (cb.invert) info.invflags |= TCP_INV.SRCPT;
        break;
      case 1:
        if (has(1)) throw paramError("Only one `--destination-port' allowed");
        info.dpts = parsePortRange(cb.names, cb.arg!, 'tcp');
        if (cb.invert) info.invflags |= TCP_INV.DSTPT;
        break;
      case 2:
      case 3: {
        if (has(2) || has(3)) throw paramError("Only one of `--syn' or `--tcp-flags'  allowed");
        let mask = 'SYN,RST,ACK,FIN';
        let comp = 'SYN';
        if (cb.entry.id === 3) {
          const next = cb.peekArg();
          if (next === undefined || next[0] === '-' || next[0] === '!')
            throw paramError('--tcp-flags requires two args.');
          mask = cb.arg!;
          comp = cb.nextArg()!;
        }
        info.flgMask = parseTcpFlags(mask);
        info.flgCmp = parseTcpFlags(comp);
        if (cb.invert) info.invflags |= TCP_INV.FLAGS;
        // --syn and --tcp-flags share one flag bit in iptables
        cb.xflags |= (1 << 2) | (1 << 3);
        break;
      }
      case 4: {
        if (has(4)) throw paramError("Only one `--tcp-option' allowed");
        const n = strtoulRange(cb.arg!, 1, 255);
        if (n === undefined) throw paramError(`Bad TCP option "${cb.arg}"`);
        info.option = n;
        if (cb.invert) info.invflags |= TCP_INV.OPTION;
        break;
      }
    }
  },
  check(info, ctx) {
    const allZero =
      info.spts[0] === 0 && info.spts[1] === 0xffff && info.dpts[0] === 0 && info.dpts[1] === 0xffff &&
      info.option === 0 && info.flgMask === 0 && info.flgCmp === 0 && info.invflags === 0;
    const native = !(info.invflags & TCP_INV.OPTION) && info.option === 0 && !allZero;
    if (native && ctx.rule.proto !== 6) throw paramError("TCP match requires '-p tcp'");
    return undefined;
  },
  kernelForm(info) {
    // The native form: ports as payload comparisons, flags as a masked compare.
    const native = !(info.invflags & ~(TCP_INV.SRCPT | TCP_INV.DSTPT | TCP_INV.FLAGS)) && info.option === 0 && !tcpAllZero(info);
    if (!native) return info;
    const out: TcpInfo = { spts: [0, 0xffff], dpts: [0, 0xffff], option: 0, flgMask: 0, flgCmp: 0, invflags: 0 };
    const s = nativeRange(info.spts, (info.invflags & TCP_INV.SRCPT) !== 0);
    const d = nativeRange(info.dpts, (info.invflags & TCP_INV.DSTPT) !== 0);
    if (s) {
      out.spts = s.range;
      if (s.inv) out.invflags |= TCP_INV.SRCPT;
    }
    if (d) {
      out.dpts = d.range;
      if (d.inv) out.invflags |= TCP_INV.DSTPT;
    }
    if (info.flgMask) {
      out.flgMask = info.flgMask;
      out.flgCmp = info.flgCmp;
      out.invflags |= info.invflags & TCP_INV.FLAGS;
    }
    // nothing emitted: the match does not come back
    return s || d || info.flgMask ? out : null;
  },
  nativeMerge: {
    // add_nft_tcp: ports and flags become payload expressions unless the match
    // has --tcp-option, an inversion nf_tables cannot express, or nothing set
    native: (info) => !(info.invflags & ~(TCP_INV.SRCPT | TCP_INV.DSTPT | TCP_INV.FLAGS)) && info.option === 0 && !tcpAllZero(info),
    merge(first, later) {
      const out: TcpInfo = { ...first, spts: [...first.spts], dpts: [...first.dpts] };
      if (!isAllPorts(later.spts)) {
        out.spts = [...later.spts];
        out.invflags |= later.invflags & TCP_INV.SRCPT;
      }
      if (!isAllPorts(later.dpts)) {
        out.dpts = [...later.dpts];
        out.invflags |= later.invflags & TCP_INV.DSTPT;
      }
      if (later.flgMask) {
        out.flgMask = later.flgMask;
        out.flgCmp = later.flgCmp;
        out.invflags |= later.invflags & TCP_INV.FLAGS;
      }
      return out;
    },
  },
  print(info, { names, numeric }) {
    let s = ' tcp';
    s += printPorts(names, 'spt', info.spts, (info.invflags & TCP_INV.SRCPT) !== 0, numeric, 'tcp');
    s += printPorts(names, 'dpt', info.dpts, (info.invflags & TCP_INV.DSTPT) !== 0, numeric, 'tcp');
    if (info.option || info.invflags & TCP_INV.OPTION)
      s += ` option=${info.invflags & TCP_INV.OPTION ? '!' : ''}${info.option}`;
    if (info.flgMask || info.invflags & TCP_INV.FLAGS) {
      s += ` flags:${info.invflags & TCP_INV.FLAGS ? '!' : ''}`;
      s += numeric ? `0x${hex2(info.flgMask)}/0x${hex2(info.flgCmp)}` : `${formatTcpFlags(info.flgMask)}/${formatTcpFlags(info.flgCmp)}`;
    }
    return s;
  },
  save(info) {
    let s = savePorts('sport', info.spts, (info.invflags & TCP_INV.SRCPT) !== 0);
    s += savePorts('dport', info.dpts, (info.invflags & TCP_INV.DSTPT) !== 0);
    if (info.option || info.invflags & TCP_INV.OPTION)
      s += `${info.invflags & TCP_INV.OPTION ? ' !' : ''} --tcp-option ${info.option}`;
    if (info.flgMask || info.invflags & TCP_INV.FLAGS)
      s += `${info.invflags & TCP_INV.FLAGS ? ' !' : ''} --tcp-flags ${formatTcpFlags(info.flgMask)} ${formatTcpFlags(info.flgCmp)}`;
    return s;
  },
  match: (info, ctx) => (tcpIsNative(info) ? tcpNativeMatch(info, ctx) : tcpXtMatch(info, ctx)),
});

/** Whether iptables-nft gave the kernel this instance as native payload expressions (add_nft_tcp). */
function tcpIsNative(info: TcpInfo): boolean {
  return !(info.invflags & ~(TCP_INV.SRCPT | TCP_INV.DSTPT | TCP_INV.FLAGS)) && info.option === 0 && !tcpAllZero(info);
}

/**
 * Ports as iptables-nft's payload expressions test them (add_nft_tcpudp):
 * single source and destination ports with the same inversion are one
 * 32-bit comparison, so "! --sport A ! --dport B" means "not both"; every
 * other port test is a range comparison of its own. A header too short for
 * a load makes the rule not match. These loads take nf_tables' fast path,
 * which does not look at the fragment offset: a later fragment's first
 * bytes are read as ports.
 */
export function nativePortsMatch(spts: [number, number], invS: boolean, dpts: [number, number], invD: boolean, ctx: PacketContext): boolean {
  const d = ctx.skb.data;
  const t = ctx.thoff;
  if (spts[0] !== 0 && spts[0] === spts[1] && dpts[0] !== 0 && dpts[0] === dpts[1] && invS === invD) {
    if (d.length < t + 4) return false;
    const both = ((d[t]! << 8) | d[t + 1]!) === spts[0] && ((d[t + 2]! << 8) | d[t + 3]!) === dpts[0];
    return both !== invS;
  }
  if (spts[0] !== 0 || spts[1] < 0xffff) {
    if (d.length < t + 2) return false;
    const p = (d[t]! << 8) | d[t + 1]!;
    if ((p >= spts[0] && p <= spts[1]) === invS) return false;
  }
  if (dpts[0] !== 0 || dpts[1] < 0xffff) {
    if (d.length < t + 4) return false;
    const p = (d[t + 2]! << 8) | d[t + 3]!;
    if ((p >= dpts[0] && p <= dpts[1]) === invD) return false;
  }
  return true;
}

/** The native form: flags as a masked byte comparison, then the ports (later fragments included, see nativePortsMatch). */
function tcpNativeMatch(info: TcpInfo, ctx: PacketContext): boolean {
  if (info.flgMask) {
    const d = ctx.skb.data;
    if (d.length < ctx.thoff + 14) return false;
    if (((d[ctx.thoff + 13]! & info.flgMask) === info.flgCmp) === ((info.invflags & TCP_INV.FLAGS) !== 0)) return false;
  }
  return nativePortsMatch(info.spts, (info.invflags & TCP_INV.SRCPT) !== 0, info.dpts, (info.invflags & TCP_INV.DSTPT) !== 0, ctx);
}

/** xt_tcp's tcp_mt, for instances kept as an xt match (--tcp-option, or nothing given). */
function tcpXtMatch(info: TcpInfo, ctx: PacketContext): boolean {
  if (ctx.fragoff !== 0) {
    // a fragment at offset 8 could rewrite the flags of the first one
    if (ctx.fragoff === 8) ctx.hotdrop = true;
    return false;
  }
  const d = ctx.skb.data;
  const t = ctx.thoff;
  if (d.length < t + 20) {
    ctx.hotdrop = true;
    return false;
  }
  const sp = (d[t]! << 8) | d[t + 1]!;
  if ((sp >= info.spts[0] && sp <= info.spts[1]) === ((info.invflags & TCP_INV.SRCPT) !== 0)) return false;
  const dp = (d[t + 2]! << 8) | d[t + 3]!;
  if ((dp >= info.dpts[0] && dp <= info.dpts[1]) === ((info.invflags & TCP_INV.DSTPT) !== 0)) return false;
  if (((d[t + 13]! & info.flgMask) === info.flgCmp) === ((info.invflags & TCP_INV.FLAGS) !== 0)) return false;
  if (info.option) {
    const hl = (d[t + 12]! >> 4) * 4;
    if (hl < 20) {
      ctx.hotdrop = true;
      return false;
    }
    return tcpFindOption(info.option, ctx, hl - 20, (info.invflags & TCP_INV.OPTION) !== 0);
  }
  return true;
}

/** tcp_find_option: whether option `kind` is among the `optlen` bytes of options (xor `invert`). */
function tcpFindOption(kind: number, ctx: PacketContext, optlen: number, invert: boolean): boolean {
  if (optlen === 0) return invert;
  const d = ctx.skb.data;
  const o = ctx.thoff + 20;
  if (d.length < o + optlen) {
    ctx.hotdrop = true;
    return false;
  }
  for (let i = 0; i < optlen; ) {
    const b = d[o + i]!;
    if (b === kind) return !invert;
    if (b < 2) {
      i++;
      continue;
    }
    if (i + 1 >= optlen) break;
    i += d[o + i + 1]! || 1;
  }
  return invert;
}

/** A port range that matches every port (no expression is generated for it). */
export function isAllPorts(r: [number, number]): boolean {
  return r[0] === 0 && r[1] === 0xffff;
}

function tcpAllZero(info: TcpInfo): boolean {
  return isAllPorts(info.spts) && isAllPorts(info.dpts) && info.option === 0 && info.flgMask === 0 && info.flgCmp === 0 && info.invflags === 0;
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}

const TCP_HELP = "tcp match options:\n[!] --tcp-flags mask comp\tmatch when TCP flags & mask == comp\n\t\t\t\t(Flags: SYN ACK FIN RST URG PSH ALL NONE)\n[!] --syn\t\t\tmatch when only SYN flag set\n\t\t\t\t(equivalent to --tcp-flags SYN,RST,ACK,FIN SYN)\n[!] --source-port port[:port]\n --sport ...\n\t\t\t\tmatch source port(s)\n[!] --destination-port port[:port]\n --dport ...\n\t\t\t\tmatch destination port(s)\n[!] --tcp-option number        match if TCP option set\n";
