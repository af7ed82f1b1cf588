/**
 * The ipv6header match (libip6t_ipv6header): which extension headers a
 * packet carries (exactly, or with --soft at least), by name or number.
 * IPv6 only.
 */
import { defineMatch, paramError, type NameDb } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';

/** struct ip6t_ipv6header_info. */
export interface Ipv6HeaderInfo {
  /** MASK_* bits of the headers named. */
  matchflags: number;
  /** 0xff when inverted. */
  invflags: number;
  /** 0xff with --soft. */
  modeflag: number;
}

/** Header names known without /etc/protocols, and the numbers as words. */
const CHAIN_PROTOS: readonly [string, number][] = [
  ['hop-by-hop', 0],
  ['protocol', 255],
  ['hop', 0],
  ['dst', 60],
  ['route', 43],
  ['frag', 44],
  ['auth', 51],
  ['esp', 50],
  ['none', 59],
  ['prot', 255],
  ['0', 0],
  ['60', 60],
  ['43', 43],
  ['44', 44],
  ['51', 51],
  ['50', 50],
  ['59', 59],
  ['255', 255],
];

/** Header protocol numbers and their mask bits, in print order. */
const CHAIN_FLAGS: readonly [number, number][] = [
  [0, 128],
  [60, 64],
  [43, 32],
  [44, 16],
  [51, 8],
  [50, 4],
  [59, 2],
  [255, 1],
];

function nameToProto(names: NameDb, word: string): number {
  const p = names.protoNumber(word);
  if (p !== undefined) return p;
  const known = CHAIN_PROTOS.find(([n]) => n === word);
  if (!known) throw paramError(`unknown header \`${word}' specified`);
  return known[1];
}

/** Netbase's names for the header protocols (getprotobynumber), 0 and 255 aside. */
const NETBASE: Readonly<Record<number, string>> = { 60: 'ipv6-opts', 43: 'ipv6-route', 44: 'ipv6-frag', 51: 'ah', 50: 'esp', 59: 'ipv6-nonxt' };

/** print_header: the names of the headers in `flags`, comma separated, or NONE. */
function headerNames(flags: number): string {
  const out: string[] = [];
  for (const [proto, bit] of CHAIN_FLAGS) if (flags & bit) out.push(NETBASE[proto] ?? CHAIN_PROTOS.find(([, v]) => v === proto)![0]);
  return out.length ? out.join(',') : 'NONE';
}

/** The ipv6header match definition (IPv6). */
export const ipv6header = defineMatch<Ipv6HeaderInfo>({
  name: 'ipv6header',
  family: 'ipv6',
  help: () => IP6_HELP['ipv6header']!,
  options: [
    { name: 'header', id: 0, type: 'string', mandatory: true, invert: true },
    { name: 'soft', id: 1, type: 'none' },
  ],
  init: () => ({ matchflags: 0, invflags: 0, modeflag: 0 }),
  parse(cb) {
    cb.parseGeneric();
    if (cb.entry.id === 1) {
      cb.info.modeflag |= 0xff;
      return;
    }
    let flags = 0;
    for (const word of cb.arg!.split(',')) {
      if (word === '') continue;
      const proto = nameToProto(cb.names, word);
      const bit = CHAIN_FLAGS.find(([p]) => p === proto);
      if (!bit) throw paramError(`unknown header \`${proto}' specified`);
      flags |= bit[1];
    }
    cb.info.matchflags = flags;
    if (!flags) throw paramError('ip6t_ipv6header: cannot parse header names');
    if (cb.invert) cb.info.invflags |= 0xff;
  },
  check(info) {
    return !info.modeflag && info.invflags !== 0 && info.invflags !== 0xff ? { errno: 'EINVAL' } : undefined;
  },
  print(info, { numeric }) {
    let s = ' ipv6header';
    if (info.matchflags || info.invflags) {
      s += ` flags:${info.invflags ? '!' : ''}`;
      s += numeric ? `0x${info.matchflags.toString(16).toUpperCase().padStart(2, '0')}` : headerNames(info.matchflags);
    }
    if (info.modeflag) s += ' soft';
    return s;
  },
  save(info) {
    let s = `${info.invflags ? ' !' : ''} --header ${headerNames(info.matchflags)}`;
    if (info.modeflag) s += ' --soft';
    return s;
  },
});
