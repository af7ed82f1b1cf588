/**
 * The CHECKSUM target (mangle table): computes missing checksums of
 * packets (--checksum-fill).
 */
import { requireTable } from '../protocheck.js';
import { defineTarget } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';
import { XT_CONTINUE } from '../verdict.js';

/** xt_CHECKSUM_info data. */
export interface ChecksumInfo {
  /** XT_CHECKSUM_OP_FILL (1). */
  operation: number;
}

/** The CHECKSUM target definition. */
export const CHECKSUM = defineTarget<ChecksumInfo>({
  name: 'CHECKSUM',
  help: () => PROTO_HELP['CHECKSUM']!,
  options: [{ name: 'checksum-fill', id: 0, type: 'none', mandatory: true }],
  init: () => ({ operation: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.operation = 1;
  },
  check(info, ctx) {
    const t = requireTable(ctx, 'mangle');
    if (t) return t;
    return info.operation & ~1 || !info.operation ? { errno: 'EINVAL' } : undefined;
  },
  print(info) {
    return ` CHECKSUM${info.operation & 1 ? ' fill' : ''}`;
  },
  save(info) {
    return info.operation & 1 ? ' --checksum-fill' : '';
  },
  // Only a checksum left for the device to compute (CHECKSUM_PARTIAL) is
  // filled in; the lab's packets always carry complete checksums, so there
  // is nothing to do.
  target: () => XT_CONTINUE,
});
