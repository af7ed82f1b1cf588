/**
 * The TCPMSS target: rewrites the MSS option of TCP SYN packets to a fixed
 * value or clamps it to the path MTU.
 */
import { baseHook, requireProto } from '../protocheck.js';
import { defineTarget, paramError } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_tcpmss_info data. */
export interface TcpmssTargetInfo {
  /** The MSS to set, or 0xffff (XT_TCPMSS_CLAMP_PMTU) to clamp. */
  mss: number;
}

/** XT_TCPMSS_CLAMP_PMTU. */
export const CLAMP_PMTU = 0xffff;

/** The TCPMSS target definition. */
export const TCPMSS = defineTarget<TcpmssTargetInfo>({
  name: 'TCPMSS',
  help: () => PROTO_HELP['TCPMSS']!,
  options: [
    { name: 'set-mss', id: 0, type: 'uint16', max: 0xffff - 20 },
    { name: 'clamp-mss-to-pmtu', id: 1, type: 'none' },
  ],
  init: () => ({ mss: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.mss = cb.entry.id === 1 ? CLAMP_PMTU : cb.val.num!;
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError('TCPMSS target: At least one parameter is required');
  },
  check(info, ctx) {
    const proto = requireProto(ctx, 6);
    if (proto) return proto;
    // Clamping needs the route, known only after routing: FORWARD, OUTPUT and POSTROUTING.
    const hook = baseHook(ctx);
    if (info.mss === CLAMP_PMTU && hook !== undefined && !['FORWARD', 'OUTPUT', 'POSTROUTING'].includes(hook))
      return { errno: 'EINVAL' };
    return undefined;
  },
  print(info) {
    return info.mss === CLAMP_PMTU ? ' TCPMSS clamp to PMTU' : ` TCPMSS set ${info.mss}`;
  },
  save(info) {
    return info.mss === CLAMP_PMTU ? ' --clamp-mss-to-pmtu' : ` --set-mss ${info.mss}`;
  },
});
