/**
 * The TEE target (revision 1): sends a copy of the packet to a gateway,
 * optionally through a given output interface; the original continues.
 */
import { formatIPv4 } from '../../addr/ipv4.js';
import { addrToAnyName } from '../namedb.js';
import { defineTarget } from '../index-types.js';
import { RATE_HELP } from '../rate-help.js';

/** xt_tee_tginfo (IPv4 gateway). */
export interface TeeInfo {
  gw: number;
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
    if (cb.entry.id === O.GATEWAY) cb.info.gw = cb.val.addr!;
    else cb.info.oif = cb.val.str!;
  },
  check: (info) => (info.gw === 0 ? { errno: 'EINVAL' } : undefined),
  print(info, { numeric, names }) {
    const gw = numeric ? formatIPv4(info.gw) : addrToAnyName(names, info.gw);
    return ` TEE gw:${gw}${info.oif !== '' ? ` oif=${info.oif}` : ''}`;
  },
  save: (info) => ` --gateway ${formatIPv4(info.gw)}${info.oif !== '' ? ` --oif ${info.oif}` : ''}`,
});
