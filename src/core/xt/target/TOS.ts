/**
 * The TOS target (revision 1, mangle table): sets TOS bits under a mask,
 * or ANDs, ORs or XORs the TOS byte.
 */
import { requireTable } from '../protocheck.js';
import { defineTarget, paramError } from '../index-types.js';
import { hex02, tosSymbol } from '../match/tos-values.js';
import { PROTO_HELP } from '../proto-help.js';
import { XT_CONTINUE } from '../verdict.js';
import { ipv4ChangeDsfield } from './csum-update.js';

/** xt_tos_target_info data: new TOS = (old & ~mask) ^ value. */
export interface TosTargetInfo {
  tosValue: number;
  tosMask: number;
}

const ANY = [0, 1, 2, 3];

/** The TOS target definition, revision 1. */
export const TOS = defineTarget<TosTargetInfo>({
  name: 'TOS',
  help: () => PROTO_HELP['TOS']!,
  revision: 1,
  options: [
    { name: 'set-tos', id: 0, type: 'tosmask', excl: ANY, max: 0x3f },
    { name: 'and-tos', id: 1, type: 'uint8', excl: ANY },
    { name: 'or-tos', id: 2, type: 'uint8', excl: ANY },
    { name: 'xor-tos', id: 3, type: 'uint8', excl: ANY },
  ],
  init: () => ({ tosValue: 0, tosMask: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const n = cb.val.num ?? 0;
    switch (cb.entry.id) {
      case 0:
        info.tosValue = cb.val.value!;
        info.tosMask = cb.val.mask!;
        break;
      case 1:
        info.tosValue = 0;
        info.tosMask = ~n & 0xff;
        break;
      case 2:
        info.tosValue = n;
        info.tosMask = n;
        break;
      case 3:
        info.tosValue = n;
        info.tosMask = 0;
        break;
    }
  },
  final(cb) {
    if (!(cb.xflags & 0xf)) throw paramError('TOS: An action is required');
  },
  check(_info, ctx) {
    return requireTable(ctx, 'mangle');
  },
  print(info, { numeric }) {
    const { tosValue: v, tosMask: m } = info;
    if (numeric) return ` TOS set ${hex02(v)}/${hex02(m)}`;
    const sym = tosSymbol(v, m);
    // iptables glues the symbol to its prefix: "  TOS setMinimize-Delay".
    if (sym !== undefined) return `  TOS set${sym}`;
    if (v === 0) return ` TOS and ${hex02(~m & 0xff)}`;
    if (v === m) return ` TOS or ${hex02(v)}`;
    if (m === 0) return ` TOS xor ${hex02(v)}`;
    return ` TOS set ${hex02(v)}/${hex02(m)}`;
  },
  save(info) {
    return ` --set-tos ${hex02(info.tosValue)}/${hex02(info.tosMask)}`;
  },
  target(info, ctx) {
    const d = ctx.skb.data;
    const orig = d[1]!;
    const nv = ((orig & ~info.tosMask) ^ info.tosValue) & 0xff;
    if (orig !== nv) ipv4ChangeDsfield(d, 0, 0, nv);
    return XT_CONTINUE;
  },
});
