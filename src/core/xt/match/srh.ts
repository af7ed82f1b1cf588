/**
 * The srh match (libip6t_srh, revision 1): fields of the IPv6 Segment
 * Routing Header (next header, length, segments left, last entry, tag) and
 * the previous, next and last SIDs with masks. IPv6 only.
 */
import { formatIPv6, ip6MaskToCidr, ip6Zero, type IPv6 } from '../../addr/ipv6.js';
import { defineMatch } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';

/** struct ip6t_srh1. */
export interface SrhInfo {
  nextHdr: number;
  hdrLen: number;
  segsLeft: number;
  lastEntry: number;
  tag: number;
  psidAddr: IPv6;
  nsidAddr: IPv6;
  lsidAddr: IPv6;
  psidMsk: IPv6;
  nsidMsk: IPv6;
  lsidMsk: IPv6;
  /** IP6T_SRH_* bits; the option ids are the bit positions. */
  mtFlags: number;
  /** IP6T_SRH_INV_* bits (same positions). */
  mtInvflags: number;
}

type NumKey = 'nextHdr' | 'hdrLen' | 'segsLeft' | 'lastEntry' | 'tag';
type SidKey = 'psid' | 'nsid' | 'lsid';

/** Options in id order (id = flag bit position): name, the -L word, the field it sets. */
const NUM_OPTS: readonly [string, string, NumKey][] = [
  ['srh-next-hdr', 'next-hdr', 'nextHdr'],
  ['srh-hdr-len-eq', 'hdr-len-eq', 'hdrLen'],
  ['srh-hdr-len-gt', 'hdr-len-gt', 'hdrLen'],
  ['srh-hdr-len-lt', 'hdr-len-lt', 'hdrLen'],
  ['srh-segs-left-eq', 'segs-left-eq', 'segsLeft'],
  ['srh-segs-left-gt', 'segs-left-gt', 'segsLeft'],
  ['srh-segs-left-lt', 'segs-left-lt', 'segsLeft'],
  ['srh-last-entry-eq', 'last-entry-eq', 'lastEntry'],
  ['srh-last-entry-gt', 'last-entry-gt', 'lastEntry'],
  ['srh-last-entry-lt', 'last-entry-lt', 'lastEntry'],
  ['srh-tag', 'tag', 'tag'],
];
const SID_OPTS: readonly SidKey[] = ['psid', 'nsid', 'lsid'];

const FLAG_MASK = 0x3fff;

/** The srh match definition (IPv6). */
export const srh = defineMatch<SrhInfo>({
  name: 'srh',
  family: 'ipv6',
  revision: 1,
  help: () => IP6_HELP['srh']!,
  options: [
    ...NUM_OPTS.map(([name], id) => ({ name, id, type: (id === 10 ? 'uint16' : 'uint8') as 'uint8' | 'uint16', invert: true })),
    ...SID_OPTS.map((k, i) => ({ name: `srh-${k}`, id: 11 + i, type: 'hostmask' as const, invert: true })),
  ],
  init: () => ({
    nextHdr: 0,
    hdrLen: 0,
    segsLeft: 0,
    lastEntry: 0,
    tag: 0,
    psidAddr: ip6Zero(),
    nsidAddr: ip6Zero(),
    lsidAddr: ip6Zero(),
    psidMsk: ip6Zero(),
    nsidMsk: ip6Zero(),
    lsidMsk: ip6Zero(),
    mtFlags: 0,
    mtInvflags: 0,
  }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const id = cb.entry.id;
    if (id < NUM_OPTS.length) info[NUM_OPTS[id]![2]] = cb.val.num!;
    else {
      const k = SID_OPTS[id - NUM_OPTS.length]!;
      info[`${k}Addr`] = cb.val.addr6!;
      info[`${k}Msk`] = cb.val.hmask6!;
    }
    info.mtFlags |= 1 << id;
    if (cb.invert) info.mtInvflags |= 1 << id;
  },
  check(info) {
    return info.mtFlags & ~FLAG_MASK || info.mtInvflags & ~FLAG_MASK ? { errno: 'EINVAL' } : undefined;
  },
  print(info) {
    let s = ' srh';
    NUM_OPTS.forEach(([, word, key], id) => {
      if (info.mtFlags & (1 << id)) s += ` ${word}:${info.mtInvflags & (1 << id) ? '!' : ''}${info[key]}`;
    });
    SID_OPTS.forEach((k, i) => {
      const bit = 1 << (NUM_OPTS.length + i);
      if (info.mtFlags & bit)
        s += ` ${k} ${info.mtInvflags & bit ? '!' : ''} ${formatIPv6(info[`${k}Addr`])}/${ip6MaskToCidr(info[`${k}Msk`]) >>> 0}`;
    });
    return s;
  },
  save(info) {
    let s = '';
    NUM_OPTS.forEach(([name, , key], id) => {
      if (info.mtFlags & (1 << id)) s += `${info.mtInvflags & (1 << id) ? ' !' : ''} --${name} ${info[key]}`;
    });
    SID_OPTS.forEach((k, i) => {
      const bit = 1 << (NUM_OPTS.length + i);
      if (info.mtFlags & bit)
        s += `${info.mtInvflags & bit ? ' !' : ''} --srh-${k} ${formatIPv6(info[`${k}Addr`])}/${ip6MaskToCidr(info[`${k}Msk`]) >>> 0}`;
    });
    return s;
  },
});
