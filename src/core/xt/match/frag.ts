/**
 * The frag match (libip6t_frag): the IPv6 fragment header's identification
 * (a range), length, reserved field, and whether the packet is the first,
 * a middle or the last fragment. IPv6 only.
 */
import { defineMatch } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';
import { unknownInv } from './spi.js';

/** struct ip6t_frag. */
export interface FragInfo {
  ids: [number, number];
  hdrlen: number;
  /** IP6T_FRAG_* bits. */
  flags: number;
  /** IP6T_FRAG_INV_* bits. */
  invflags: number;
}

/** IP6T_FRAG_* flag bits. */
export const FRAG = { IDS: 0x01, LEN: 0x02, RES: 0x04, FST: 0x08, MF: 0x10, NMF: 0x20 } as const;
/** IP6T_FRAG_INV_* bits. */
export const FRAG_INV = { IDS: 0x01, LEN: 0x02, MASK: 0x03 } as const;

const O = { ID: 0, LEN: 1, RES: 2, FIRST: 3, MORE: 4, LAST: 5 } as const;

/** The frag match definition (IPv6). */
export const frag = defineMatch<FragInfo>({
  name: 'frag',
  family: 'ipv6',
  help: () => IP6_HELP['frag']!,
  options: [
    { name: 'fragid', id: O.ID, type: 'uint32rc', invert: true },
    { name: 'fraglen', id: O.LEN, type: 'uint32', invert: true },
    { name: 'fragres', id: O.RES, type: 'none' },
    { name: 'fragfirst', id: O.FIRST, type: 'none' },
    { name: 'fragmore', id: O.MORE, type: 'none', excl: [O.LAST] },
    { name: 'fraglast', id: O.LAST, type: 'none', excl: [O.MORE] },
  ],
  init: () => ({ ids: [0, 0xffffffff], hdrlen: 0, flags: 0, invflags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case O.ID: {
        const r = cb.val.range!;
        info.ids = [r[0]!, cb.val.nvals === 1 ? r[0]! : r[1]!];
        if (cb.invert) info.invflags |= FRAG_INV.IDS;
        info.flags |= FRAG.IDS;
        break;
      }
      case O.LEN:
        info.hdrlen = cb.val.num!;
        if (cb.invert) info.invflags |= FRAG_INV.LEN;
        info.flags |= FRAG.LEN;
        break;
      case O.RES:
        info.flags |= FRAG.RES;
        break;
      case O.FIRST:
        info.flags |= FRAG.FST;
        break;
      case O.MORE:
        info.flags |= FRAG.MF;
        break;
      case O.LAST:
        info.flags |= FRAG.NMF;
        break;
    }
  },
  check(info) {
    return info.invflags & ~FRAG_INV.MASK ? { errno: 'EINVAL' } : undefined;
  },
  print(info) {
    let s = ' frag ';
    const [lo, hi] = info.ids;
    const inv = info.invflags & FRAG_INV.IDS ? '!' : '';
    if (lo !== 0 || hi !== 0xffffffff || inv) s += lo === hi ? `id:${inv}${lo}` : `ids:${inv}${lo}:${hi}`;
    if (info.flags & FRAG.LEN) s += ` length:${info.invflags & FRAG_INV.LEN ? '!' : ''}${info.hdrlen}`;
    if (info.flags & FRAG.RES) s += ' reserved';
    if (info.flags & FRAG.FST) s += ' first';
    if (info.flags & FRAG.MF) s += ' more';
    if (info.flags & FRAG.NMF) s += ' last';
    return s + unknownInv(info.invflags, FRAG_INV.MASK);
  },
  save(info) {
    let s = '';
    const [lo, hi] = info.ids;
    if (!(lo === 0 && hi === 0xffffffff)) s += `${info.invflags & FRAG_INV.IDS ? ' !' : ''} --fragid ${lo !== hi ? `${lo}:${hi}` : lo}`;
    if (info.flags & FRAG.LEN) s += `${info.invflags & FRAG_INV.LEN ? ' !' : ''} --fraglen ${info.hdrlen}`;
    if (info.flags & FRAG.RES) s += ' --fragres';
    if (info.flags & FRAG.FST) s += ' --fragfirst';
    if (info.flags & FRAG.MF) s += ' --fragmore';
    if (info.flags & FRAG.NMF) s += ' --fraglast';
    return s;
  },
});
