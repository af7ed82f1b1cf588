/**
 * The AUDIT target: records the packet in the audit log with an action
 * type (accept, drop or reject) and continues.
 */
import { defineTarget, paramError } from '../index-types.js';
import { RATE_HELP } from '../rate-help.js';
import { XT_CONTINUE } from '../verdict.js';

/** xt_audit_info. */
export interface AuditInfo {
  /** XT_AUDIT_TYPE_ACCEPT (0), DROP (1) or REJECT (2). */
  type: number;
}

const TYPES = ['accept', 'drop', 'reject'];

/** The AUDIT target extension. */
export const AUDIT = defineTarget<AuditInfo>({
  name: 'AUDIT',
  help: () => RATE_HELP['AUDIT']!,
  options: [{ name: 'type', id: 0, type: 'string', mandatory: true }],
  init: () => ({ type: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const t = TYPES.indexOf(cb.arg!.toLowerCase());
    if (t < 0) throw paramError(`Bad action type value "${cb.arg}"`);
    cb.info.type = t;
  },
  check: (info) => (info.type > 2 ? { errno: 'ERANGE' } : undefined),
  print: (info) => ` AUDIT ${TYPES[info.type] ?? ''}`,
  save: (info) => (TYPES[info.type] ? ` --type ${TYPES[info.type]}` : ''),
  // Auditing is off on the reference machine (no audit=1, no auditd), so
  // audit_tg records nothing and lets the packet go on.
  target: () => XT_CONTINUE,
});
