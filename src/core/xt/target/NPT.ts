/**
 * The DNPT and SNPT targets (libip6t_DNPT, libip6t_SNPT): IPv6-to-IPv6
 * network prefix translation (RFC 6296) of the destination or source
 * prefix. Mangle table only; DNPT at PREROUTING and OUTPUT, SNPT at INPUT
 * and POSTROUTING; both prefixes at most /64 with no host bits set.
 */
import { formatIPv6, ip6And, ip6Equal, ip6IsZero, ip6PrefixMask, ip6Zero, type IPv6 } from '../../addr/ipv6.js';
import { defineTarget, type TargetDef } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';
import { checkPlacement } from './target-util.js';

/** struct ip6t_npt_tginfo (the kernel's adjustment left out). */
export interface NptInfo {
  srcPfx: IPv6;
  dstPfx: IPv6;
  srcPfxLen: number;
  dstPfxLen: number;
}

/** Builds DNPT or SNPT. */
function npt(name: 'DNPT' | 'SNPT', hooks: readonly string[]): TargetDef<NptInfo> {
  return defineTarget<NptInfo>({
    name,
    family: 'ipv6',
    help: () => IP6_HELP[name]!,
    tables: ['mangle'],
    hooks,
    options: [
      { name: 'src-pfx', id: 1, type: 'hostmask', mandatory: true },
      { name: 'dst-pfx', id: 2, type: 'hostmask', mandatory: true },
    ],
    init: () => ({ srcPfx: ip6Zero(), dstPfx: ip6Zero(), srcPfxLen: 0, dstPfxLen: 0 }),
    parse(cb) {
      cb.parseGeneric();
      if (cb.entry.id === 1) {
        cb.info.srcPfx = cb.val.addr6!;
        cb.info.srcPfxLen = cb.val.hlen!;
      } else {
        cb.info.dstPfx = cb.val.addr6!;
        cb.info.dstPfxLen = cb.val.hlen!;
      }
    },
    check(info, ctx) {
      const where = checkPlacement(ctx, { table: 'mangle', hooks });
      if (where) return where;
      if (info.srcPfxLen > 64 || info.dstPfxLen > 64) return { errno: 'EINVAL' };
      const clean = (a: IPv6, len: number) => ip6Equal(ip6And(a, ip6PrefixMask(len)), a);
      if (!clean(info.srcPfx, info.srcPfxLen) || !clean(info.dstPfx, info.dstPfxLen)) return { errno: 'EINVAL' };
      return undefined;
    },
    print: (info) =>
      ` ${name} src-pfx ${formatIPv6(info.srcPfx)}/${info.srcPfxLen} dst-pfx ${formatIPv6(info.dstPfx)}/${info.dstPfxLen}`,
    save(info) {
      let s = '';
      if (!ip6IsZero(info.srcPfx) || info.srcPfxLen !== 0) s += ` --src-pfx ${formatIPv6(info.srcPfx)}/${info.srcPfxLen}`;
      if (!ip6IsZero(info.dstPfx) || info.dstPfxLen !== 0) s += ` --dst-pfx ${formatIPv6(info.dstPfx)}/${info.dstPfxLen}`;
      return s;
    },
  });
}

/** The DNPT target (destination prefix). */
export const DNPT = npt('DNPT', ['PREROUTING', 'OUTPUT']);
/** The SNPT target (source prefix). */
export const SNPT = npt('SNPT', ['INPUT', 'POSTROUTING']);
