/**
 * The rt match (libip6t_rt): the IPv6 routing header's type, segments left
 * (a range) and length, and for type 0 the reserved field and the list of
 * addresses. IPv6 only.
 */
import { formatIPv6, parseIPv6, type IPv6 } from '../../addr/ipv6.js';
import { defineMatch, paramError } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';
import { unknownInv } from './spi.js';

/** struct ip6t_rt. */
export interface RtInfo {
  rtType: number;
  segsleft: [number, number];
  hdrlen: number;
  /** IP6T_RT_* bits of the options given. */
  flags: number;
  /** IP6T_RT_INV_* bits. */
  invflags: number;
  /** Type-0 addresses (at most IP6T_RT_HOPS). */
  addrs: IPv6[];
}

/** IP6T_RT_* flag bits. */
export const RT = { TYP: 0x01, SGS: 0x02, LEN: 0x04, RES: 0x08, FST: 0x10, FST_NSTRICT: 0x20 } as const;
/** IP6T_RT_INV_* bits. */
export const RT_INV = { TYP: 0x01, SGS: 0x02, LEN: 0x04, MASK: 0x07 } as const;
/** Most type-0 addresses a rule may list (IP6T_RT_HOPS). */
const RT_HOPS = 16;

const O = { TYPE: 0, SEGSLEFT: 1, LEN: 2, RES: 3, ADDRS: 4, NSTRICT: 5 } as const;

/** parse_addresses: a comma list of numeric IPv6 addresses, at most 16. */
function parseAddrs(text: string): IPv6[] {
  const out: IPv6[] = [];
  let rest: string | undefined = text;
  while (rest !== undefined && out.length < RT_HOPS) {
    const comma = rest.indexOf(',');
    const item = comma < 0 ? rest : rest.slice(0, comma);
    rest = comma < 0 ? undefined : rest.slice(comma + 1);
    const a = parseIPv6(item);
    if (!a) throw paramError(`bad address: ${item}`);
    out.push(a);
  }
  if (rest !== undefined) throw paramError('too many addresses specified');
  return out;
}

/** The rt match definition (IPv6). */
export const rt = defineMatch<RtInfo>({
  name: 'rt',
  family: 'ipv6',
  help: () => IP6_HELP['rt']!,
  options: [
    { name: 'rt-type', id: O.TYPE, type: 'uint32', invert: true },
    { name: 'rt-segsleft', id: O.SEGSLEFT, type: 'uint32rc', invert: true },
    { name: 'rt-len', id: O.LEN, type: 'uint32', invert: true },
    { name: 'rt-0-res', id: O.RES, type: 'none' },
    { name: 'rt-0-addrs', id: O.ADDRS, type: 'string' },
    { name: 'rt-0-not-strict', id: O.NSTRICT, type: 'none' },
  ],
  init: () => ({ rtType: 0, segsleft: [0, 0xffffffff], hdrlen: 0, flags: 0, invflags: 0, addrs: [] }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const type0 = () => (cb.xflags & (1 << O.TYPE)) !== 0 && info.rtType === 0 && !(info.invflags & RT_INV.TYP);
    switch (cb.entry.id) {
      case O.TYPE:
        info.rtType = cb.val.num!;
        if (cb.invert) info.invflags |= RT_INV.TYP;
        info.flags |= RT.TYP;
        break;
      case O.SEGSLEFT: {
        const r = cb.val.range!;
        info.segsleft = [r[0]!, cb.val.nvals === 1 ? r[0]! : r[1]!];
        if (cb.invert) info.invflags |= RT_INV.SGS;
        info.flags |= RT.SGS;
        break;
      }
      case O.LEN:
        info.hdrlen = cb.val.num!;
        if (cb.invert) info.invflags |= RT_INV.LEN;
        info.flags |= RT.LEN;
        break;
      case O.RES:
        if (!type0()) throw paramError("`--rt-type 0' required before `--rt-0-res'");
        info.flags |= RT.RES;
        break;
      case O.ADDRS:
        if (!type0()) throw paramError("`--rt-type 0' required before `--rt-0-addrs'");
        info.addrs = parseAddrs(cb.arg!);
        info.flags |= RT.FST;
        break;
      case O.NSTRICT:
        if (!(cb.xflags & (1 << O.ADDRS))) throw paramError("`--rt-0-addr ...' required before `--rt-0-not-strict'");
        info.flags |= RT.FST_NSTRICT;
        break;
    }
  },
  check(info) {
    if (info.invflags & ~RT_INV.MASK) return { errno: 'EINVAL' };
    if (info.flags & (RT.RES | RT.FST | RT.FST_NSTRICT) && (!(info.flags & RT.TYP) || info.rtType !== 0 || info.invflags & RT_INV.TYP))
      return { errno: 'EINVAL' };
    return undefined;
  },
  print(info) {
    let s = ' rt';
    if (info.flags & RT.TYP) s += ` type:${info.invflags & RT_INV.TYP ? '!' : ''}${info.rtType | 0}`;
    const [lo, hi] = info.segsleft;
    const sinv = (info.invflags & RT_INV.SGS) !== 0;
    if (lo !== 0 || hi !== 0xffffffff || sinv) s += lo === hi ? ` segsleft:${sinv ? '!' : ''}${lo}` : ` segslefts:${sinv ? '!' : ''}${lo}:${hi}`;
    if (info.flags & RT.LEN) s += ` length:${info.invflags & RT_INV.LEN ? '!' : ''}${info.hdrlen}`;
    if (info.flags & RT.RES) s += ' reserved';
    if (info.flags & RT.FST) s += ' 0-addrs';
    s += info.addrs.map((a, i) => (i === 0 ? ' ' : ',') + formatIPv6(a)).join('');
    if (info.flags & RT.FST_NSTRICT) s += ' 0-not-strict';
    return s + unknownInv(info.invflags, RT_INV.MASK);
  },
  save(info) {
    let s = '';
    if (info.flags & RT.TYP) s += `${info.invflags & RT_INV.TYP ? ' !' : ''} --rt-type ${info.rtType}`;
    const [lo, hi] = info.segsleft;
    if (!(lo === 0 && hi === 0xffffffff)) s += `${info.invflags & RT_INV.SGS ? ' !' : ''} --rt-segsleft ${lo !== hi ? `${lo}:${hi}` : lo}`;
    if (info.flags & RT.LEN) s += `${info.invflags & RT_INV.LEN ? ' !' : ''} --rt-len ${info.hdrlen}`;
    if (info.flags & RT.RES) s += ' --rt-0-res';
    if (info.flags & RT.FST) s += ' --rt-0-addrs';
    s += info.addrs.map((a, i) => (i === 0 ? ' ' : ',') + formatIPv6(a)).join('');
    if (info.flags & RT.FST_NSTRICT) s += ' --rt-0-not-strict';
    return s;
  },
});
