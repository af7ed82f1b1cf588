/**
 * The TEE target (revision 1): sends a copy of the packet to a gateway,
 * optionally through a given output interface; the original continues.
 */
import { formatIPv4 } from '../../addr/ipv4.js';
import { formatIPv6, ip6IsZero, type IPv6 } from '../../addr/ipv6.js';
import { addr6ToAnyName, addrToAnyName } from '../namedb.js';
import { defineTarget } from '../index-types.js';
import { RATE_HELP } from '../rate-help.js';

/** xt_tee_tginfo (an IPv4 gateway as a number, an IPv6 one as four words). */
export interface TeeInfo {
  gw: number | IPv6;
  oif: string;
}

const O = { GATEWAY: 0, OIF: 1 } as const;

/** The TEE target extension. */
export const TEE = defineTarget<TeeInfo>({
  name: 'TEE',
  help: () => RATE_HELP['TEE']!,
  revision: 1,
  options: [
    { name: 'gateway', id: O.GATEWAY, type: 'host', mandatory: true },
    { name: 'oif', id: O.OIF, type: 'string', size: 16 },
  ],
  init: () => ({ gw: 0, oif: '' }),
  parse(cb) {
    cb.parseGeneric();
    if (cb.entry.id === O.GATEWAY) cb.info.gw = cb.family === 'ipv6' ? cb.val.addr6! : cb.val.addr!;
    else cb.info.oif = cb.val.str!;
  },
  check: (info) => (info.gw === 0 || (typeof info.gw !== 'number' && ip6IsZero(info.gw)) ? { errno: 'EINVAL' } : undefined),
  print(info, { numeric, names }) {
    const g = info.gw;
    const gw =
      typeof g === 'number' ? (numeric ? formatIPv4(g) : addrToAnyName(names, g)) : numeric ? formatIPv6(g) : addr6ToAnyName(names, g);
    return ` TEE gw:${gw}${info.oif !== '' ? ` oif=${info.oif}` : ''}`;
  },
  save: (info) => ` --gateway ${typeof info.gw === 'number' ? formatIPv4(info.gw) : formatIPv6(info.gw)}${info.oif !== '' ? ` --oif ${info.oif}` : ''}`,
});
