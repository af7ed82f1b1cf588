/**
 * The SYNPROXY target: answers TCP SYNs itself with SYN cookies and only
 * hands the connection on once the handshake completes, announcing the
 * given TCP options.
 */
import { IPT_INV, defineTarget } from '../index-types.js';
import { baseChainOf } from '../match/rate-common.js';
import { RATE_HELP } from '../rate-help.js';

/** xt_synproxy_info. */
export interface SynproxyInfo {
  /** XT_SYNPROXY_OPT_* bits. */
  options: number;
  wscale: number;
  mss: number;
}

/** XT_SYNPROXY_OPT_*. */
export const SYNPROXY_OPT = { MSS: 1, WSCALE: 2, SACK_PERM: 4, TIMESTAMP: 8, ECN: 16 } as const;
const O = { SACK_PERM: 0, TIMESTAMP: 1, WSCALE: 2, MSS: 3, ECN: 4 } as const;

/** The SYNPROXY target extension. */
export const SYNPROXY = defineTarget<SynproxyInfo>({
  name: 'SYNPROXY',
  hooks: ['INPUT', 'FORWARD'],
  help: () => RATE_HELP['SYNPROXY']!,
  options: [
    { name: 'sack-perm', id: O.SACK_PERM, type: 'none' },
    { name: 'timestamp', id: O.TIMESTAMP, type: 'none' },
    { name: 'wscale', id: O.WSCALE, type: 'uint32' },
    { name: 'mss', id: O.MSS, type: 'uint32' },
    { name: 'ecn', id: O.ECN, type: 'none' },
  ],
  init: () => ({ options: 0, wscale: 0, mss: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case O.SACK_PERM:
        info.options |= SYNPROXY_OPT.SACK_PERM;
        break;
      case O.TIMESTAMP:
        info.options |= SYNPROXY_OPT.TIMESTAMP;
        break;
      case O.WSCALE:
        info.options |= SYNPROXY_OPT.WSCALE;
        info.wscale = cb.val.num! & 0xff;
        break;
      case O.MSS:
        info.options |= SYNPROXY_OPT.MSS;
        info.mss = cb.val.num! & 0xffff;
        break;
      case O.ECN:
        info.options |= SYNPROXY_OPT.ECN;
        break;
    }
  },
  check(_info, ctx) {
    const hook = baseChainOf(ctx);
    if (hook !== undefined && hook !== 'INPUT' && hook !== 'FORWARD') return { errno: 'EINVAL' };
    if (ctx.rule.proto !== 6 || ctx.rule.invflags & IPT_INV.PROTO) return { errno: 'EINVAL' };
    return undefined;
  },
  print(info) {
    let s = ' SYNPROXY ';
    if (info.options & SYNPROXY_OPT.SACK_PERM) s += 'sack-perm ';
    if (info.options & SYNPROXY_OPT.TIMESTAMP) s += 'timestamp ';
    if (info.options & SYNPROXY_OPT.WSCALE) s += `wscale ${info.wscale} `;
    if (info.options & SYNPROXY_OPT.MSS) s += `mss ${info.mss} `;
    if (info.options & SYNPROXY_OPT.ECN) s += 'ecn ';
    return s;
  },
  save(info) {
    let s = '';
    if (info.options & SYNPROXY_OPT.SACK_PERM) s += ' --sack-perm';
    if (info.options & SYNPROXY_OPT.TIMESTAMP) s += ' --timestamp';
    if (info.options & SYNPROXY_OPT.WSCALE) s += ` --wscale ${info.wscale}`;
    if (info.options & SYNPROXY_OPT.MSS) s += ` --mss ${info.mss}`;
    if (info.options & SYNPROXY_OPT.ECN) s += ' --ecn';
    return s;
  },
});
