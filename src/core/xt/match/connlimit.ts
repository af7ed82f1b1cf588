/**
 * The connlimit match (revision 1): how many connections the source (or
 * destination) address, grouped by a prefix, has open, compared with a
 * limit ("above" or "upto", which is stored as an inverted "above").
 */
import { ip6Ones, type IPv6 } from '../../addr/ipv6.js';
import { parsePlenMask6 } from '../addr6-opts.js';
import { defineMatch, paramError } from '../index-types.js';
import { parsePlenMask } from './conn-util.js';

/** xt_connlimit_info. */
export interface ConnlimitInfo {
  /** v4_mask as an unsigned 32-bit number, or v6_mask as four words in ip6tables rules. */
  mask: number | IPv6;
  limit: number;
  /** XT_CONNLIMIT_INVERT (1) and XT_CONNLIMIT_DADDR (2). */
  flags: number;
}

/** connlimit flag bits. */
export const CONNLIMIT = { INVERT: 1, DADDR: 2 } as const;

/** count_bits4/count_bits6: the width minus the positions of the highest clear bits, as iptables counts. */
function countBits(mask: number | IPv6): number {
  const words = typeof mask === 'number' ? [mask] : mask;
  let bits = 0;
  for (const w of words) for (let m = ~w >>> 0; m !== 0; m >>>= 1) bits++;
  return 32 * words.length - bits;
}

/** What `iptables -m connlimit -h` adds after the general help. */
const HELP =
  'connlimit match options:\n' +
  '  --connlimit-upto n     match if the number of existing connections is 0..n\n' +
  '  --connlimit-above n    match if the number of existing connections is >n\n' +
  '  --connlimit-mask n     group hosts using prefix length (default: max len)\n' +
  '  --connlimit-saddr      select source address for grouping\n' +
  '  --connlimit-daddr      select destination addresses for grouping\n';

/** The connlimit match (-m connlimit), revision 1. */
export const connlimit = defineMatch<ConnlimitInfo>({
  name: 'connlimit',
  help: () => HELP,
  revision: 1,
  options: [
    { name: 'connlimit-upto', id: 0, type: 'uint32', invert: true, excl: [1] },
    { name: 'connlimit-above', id: 1, type: 'uint32', invert: true, excl: [0] },
    // a plenmask, parsed here with getaddrinfo's rules
    { name: 'connlimit-mask', id: 2, type: 'string' },
    { name: 'connlimit-saddr', id: 3, type: 'none', excl: [4] },
    { name: 'connlimit-daddr', id: 4, type: 'none', excl: [3] },
  ],
  init: (family) => ({ mask: family === 'ipv6' ? ip6Ones() : 0xffffffff, limit: 0, flags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case 0:
        info.limit = cb.val.num!;
        if (!cb.invert) info.flags |= CONNLIMIT.INVERT;
        break;
      case 1:
        info.limit = cb.val.num!;
        if (cb.invert) info.flags |= CONNLIMIT.INVERT;
        break;
      case 2:
        info.mask =
          cb.family === 'ipv6'
            ? parsePlenMask6(cb.extName, cb.entry.name, cb.arg ?? '').mask
            : parsePlenMask(cb.extName, cb.entry.name, cb.arg ?? '').mask;
        break;
      case 3:
        info.flags &= ~CONNLIMIT.DADDR;
        break;
      case 4:
        info.flags |= CONNLIMIT.DADDR;
        break;
    }
  },
  final(cb) {
    if ((cb.xflags & 0b11) === 0) throw paramError('You must specify "--connlimit-above" or "--connlimit-upto".');
  },
  print: (info) =>
    ` #conn ${info.flags & CONNLIMIT.DADDR ? 'dst' : 'src'}/${countBits(info.mask)} ` +
    `${info.flags & CONNLIMIT.INVERT ? '<=' : '>'} ${info.limit}`,
  save: (info) =>
    ` --connlimit-${info.flags & CONNLIMIT.INVERT ? 'upto' : 'above'} ${info.limit}` +
    ` --connlimit-mask ${countBits(info.mask)} --connlimit-${info.flags & CONNLIMIT.DADDR ? 'daddr' : 'saddr'}`,
});
