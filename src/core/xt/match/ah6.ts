/**
 * The IPv6 ah match (libip6t_ah): the SPI of an IPsec AH extension header
 * (one value or a range), its length and reserved field. The IPv4 ah match
 * is a different module with fewer options.
 */
import { defineMatch } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';
import { unknownInv } from './spi.js';

/** struct ip6t_ah. */
export interface Ah6Info {
  spis: [number, number];
  hdrlen: number;
  /** 1 when --ahres was given. */
  hdrres: number;
  /** IP6T_AH_INV_SPI (1), IP6T_AH_INV_LEN (2). */
  invflags: number;
}

const INV_SPI = 0x01;
const INV_LEN = 0x02;
const INV_MASK = 0x03;

/** The ah match definition (IPv6). */
export const ah6 = defineMatch<Ah6Info>({
  name: 'ah',
  family: 'ipv6',
  help: () => IP6_HELP['ah']!,
  options: [
    { name: 'ahspi', id: 0, type: 'uint32rc', invert: true },
    { name: 'ahlen', id: 1, type: 'uint32', invert: true },
    { name: 'ahres', id: 2, type: 'none' },
  ],
  init: () => ({ spis: [0, 0xffffffff], hdrlen: 0, hdrres: 0, invflags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case 0: {
        const r = cb.val.range!;
        info.spis = [r[0]!, cb.val.nvals === 1 ? r[0]! : r[1]!];
        if (cb.invert) info.invflags |= INV_SPI;
        break;
      }
      case 1:
        info.hdrlen = cb.val.num!;
        if (cb.invert) info.invflags |= INV_LEN;
        break;
      case 2:
        info.hdrres = 1;
        break;
    }
  },
  check(info) {
    return info.invflags & ~INV_MASK ? { errno: 'EINVAL' } : undefined;
  },
  print(info) {
    let s = ' ah ';
    const [lo, hi] = info.spis;
    const inv = info.invflags & INV_SPI ? '!' : '';
    if (lo !== 0 || hi !== 0xffffffff || inv) s += lo === hi ? `spi:${inv}${lo}` : `spis:${inv}${lo}:${hi}`;
    const linv = info.invflags & INV_LEN ? '!' : '';
    if (info.hdrlen !== 0 || linv) s += `length:${linv}${info.hdrlen}`;
    if (info.hdrres) s += ' reserved';
    return s + unknownInv(info.invflags, INV_MASK);
  },
  save(info) {
    let s = '';
    const [lo, hi] = info.spis;
    if (!(lo === 0 && hi === 0xffffffff)) s += `${info.invflags & INV_SPI ? ' !' : ''} --ahspi ${lo !== hi ? `${lo}:${hi}` : lo}`;
    if (info.hdrlen !== 0 || info.invflags & INV_LEN) s += `${info.invflags & INV_LEN ? ' !' : ''} --ahlen ${info.hdrlen}`;
    if (info.hdrres !== 0) s += ' --ahres';
    return s;
  },
});
