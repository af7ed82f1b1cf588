/**
 * The NFLOG target: hands packets to a netlink log group. iptables-nft
 * 1.8.9 turns it into a native nf_tables `log` expression, so what reads
 * back is what that expression holds: the prefix up to 127 characters (not
 * the 63 of xt_nflog_info), and no --nflog-range (it is never stored).
 */
import { defineTarget, paramError } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { XT_CONTINUE } from '../verdict.js';
import { saveString, truncateBytes, warnOn } from './target-util.js';

/** struct xt_nflog_info, with the longer prefix of the nf_tables form. */
export interface NflogInfo {
  /** Bytes to copy (--nflog-size, or the ignored --nflog-range). */
  len: number;
  group: number;
  threshold: number;
  /** XT_NFLOG_F_COPY_LEN when --nflog-size was given. */
  flags: number;
  prefix: string;
}

/** XT_NFLOG_F_COPY_LEN. */
const F_COPY_LEN = 0x1;

/** Longest prefix the nf_tables log expression keeps (NF_LOG_PREFIXLEN - 1). */
const PREFIX_MAX = 127;

const O = { GROUP: 0, PREFIX: 1, RANGE: 2, SIZE: 3, THRESHOLD: 4 } as const;

function render(info: NflogInfo, dashes: string): string {
  let s = '';
  if (info.prefix !== '') s += ` ${dashes}nflog-prefix${saveString(info.prefix)}`;
  if (info.group) s += ` ${dashes}nflog-group ${info.group}`;
  if (info.flags & F_COPY_LEN) s += ` ${dashes}nflog-size ${info.len}`;
  else if (info.len) s += ` ${dashes}nflog-range ${info.len}`;
  if (info.threshold !== 0) s += ` ${dashes}nflog-threshold ${info.threshold}`;
  return s;
}

export const NFLOG = defineTarget<NflogInfo>({
  name: 'NFLOG',
  help: () => TARGET_HELP['NFLOG']!,
  options: [
    { name: 'nflog-group', id: O.GROUP, type: 'uint16' },
    { name: 'nflog-prefix', id: O.PREFIX, type: 'string', min: 1 },
    { name: 'nflog-range', id: O.RANGE, type: 'uint32', excl: [O.SIZE] },
    { name: 'nflog-size', id: O.SIZE, type: 'uint32', excl: [O.RANGE] },
    { name: 'nflog-threshold', id: O.THRESHOLD, type: 'uint16' },
  ],
  init: () => ({ len: 0, group: 0, threshold: 0, flags: 0, prefix: '' }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case O.GROUP:
        info.group = cb.val.num!;
        break;
      case O.PREFIX:
        if (cb.arg!.includes('\n')) throw paramError('Newlines not allowed in --log-prefix');
        info.prefix = truncateBytes(cb.arg!, PREFIX_MAX);
        break;
      case O.RANGE:
      case O.SIZE:
        info.len = cb.val.num!;
        break;
      case O.THRESHOLD:
        info.threshold = cb.val.num!;
        break;
    }
  },
  final(cb) {
    if (cb.xflags & (1 << O.RANGE))
      warnOn(cb, 'warn: --nflog-range has never worked and is no longer supported, please use --nflog-size instead\n');
    if (cb.xflags & (1 << O.SIZE)) cb.info.flags |= F_COPY_LEN;
  },
  // The log expression has no room for a length without --nflog-size.
  kernelForm: (info) => (info.flags & F_COPY_LEN ? info : { ...info, len: 0 }),
  print: (info) => render(info, ''),
  save: (info) => render(info, '--'),
  // No program listens on any netlink log group: nothing is seen, and the
  // traversal goes on with the next rule.
  target: () => XT_CONTINUE,
});
