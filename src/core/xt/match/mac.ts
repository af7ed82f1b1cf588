/**
 * The mac match: the Ethernet source address of incoming frames.
 */
import { requireHooks } from '../protocheck.js';
import { defineMatch } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_mac_info data. */
export interface MacInfo {
  /** Six bytes. */
  srcaddr: number[];
  invert: number;
}

/** Formats six bytes as lowercase colon-separated hex (xtables_print_mac). */
export function formatMac(mac: readonly number[]): string {
  return mac.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** The mac match definition. */
export const mac = defineMatch<MacInfo>({
  name: 'mac',
  hooks: ['PREROUTING', 'INPUT', 'FORWARD'],
  help: () => PROTO_HELP['mac']!,
  options: [{ name: 'mac-source', id: 0, type: 'ethermac', mandatory: true, invert: true }],
  init: () => ({ srcaddr: [0, 0, 0, 0, 0, 0], invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.srcaddr = cb.val.mac!;
    if (cb.invert) cb.info.invert = 1;
  },
  check(_info, ctx) {
    return requireHooks(ctx, ['PREROUTING', 'INPUT', 'FORWARD']);
  },
  print(info) {
    return ` MAC ${info.invert ? '! ' : ''}${formatMac(info.srcaddr)}`;
  },
  save(info) {
    return `${info.invert ? ' !' : ''} --mac-source ${formatMac(info.srcaddr)}`;
  },
  match(info, ctx) {
    // no Ethernet header (a local packet, the loopback device): no match, inverted or not
    const m = ctx.skb.mac;
    if (m === null || m.length < 14 || ctx.skb.indev === 'lo') return false;
    const a = info.srcaddr;
    const same = m[6] === a[0] && m[7] === a[1] && m[8] === a[2] && m[9] === a[3] && m[10] === a[4] && m[11] === a[5];
    return same !== (info.invert !== 0);
  },
});
