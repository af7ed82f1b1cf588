/**
 * The NFQUEUE target, revision 3: hands packets to a userspace queue, one
 * (--queue-num) or a balanced range (--queue-balance), optionally letting
 * them through when nobody listens (--queue-bypass) or picking the queue by
 * CPU (--queue-cpu-fanout).
 */
import { defineTarget, paramError } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { NF_ACCEPT, NF_DROP } from '../verdict.js';

/** struct xt_NFQ_info_v3. */
export interface NfqueueInfo {
  queuenum: number;
  /** Number of queues balanced over (16 bits: 65536 wraps to 0). */
  queuesTotal: number;
  /** NFQ_FLAG_* bits. */
  flags: number;
}

/** NFQ_FLAG_* bits. */
export const NFQ_FLAG = { BYPASS: 0x01, CPU_FANOUT: 0x02 } as const;

const O = { QUEUE_NUM: 0, QUEUE_BALANCE: 1, QUEUE_BYPASS: 2, QUEUE_CPU_FANOUT: 3 } as const;

function render(info: NfqueueInfo, label: (word: string) => string): string {
  let s = '';
  if (info.queuesTotal > 1) s += `${label('balance')} ${info.queuenum}:${info.queuesTotal + info.queuenum - 1}`;
  else s += `${label('num')} ${info.queuenum}`;
  if (info.flags & NFQ_FLAG.BYPASS) s += label('bypass');
  if (info.flags & NFQ_FLAG.CPU_FANOUT) s += label('cpu-fanout');
  return s;
}

export const NFQUEUE = defineTarget<NfqueueInfo>({
  name: 'NFQUEUE',
  help: () => TARGET_HELP['NFQUEUE']!,
  revision: 3,
  options: [
    { name: 'queue-num', id: O.QUEUE_NUM, type: 'uint16', excl: [O.QUEUE_BALANCE] },
    { name: 'queue-balance', id: O.QUEUE_BALANCE, type: 'uint16rc', excl: [O.QUEUE_NUM] },
    { name: 'queue-bypass', id: O.QUEUE_BYPASS, type: 'none' },
    { name: 'queue-cpu-fanout', id: O.QUEUE_CPU_FANOUT, type: 'none', also: [O.QUEUE_BALANCE] },
  ],
  init: () => ({ queuenum: 0, queuesTotal: 1, flags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case O.QUEUE_NUM:
        info.queuenum = cb.val.num!;
        break;
      case O.QUEUE_BALANCE: {
        const r = cb.val.range!;
        if (cb.val.nvals !== 2) throw paramError(`Bad range "${cb.arg}"`);
        if (r[0]! >= r[1]!) throw paramError(`${r[0]} should be less than ${r[1]}`);
        info.queuenum = r[0]!;
        info.queuesTotal = (r[1]! - r[0]! + 1) & 0xffff;
        break;
      }
      case O.QUEUE_BYPASS:
        info.flags |= NFQ_FLAG.BYPASS;
        break;
      case O.QUEUE_CPU_FANOUT:
        info.flags |= NFQ_FLAG.CPU_FANOUT;
        break;
    }
  },
  check(info) {
    if (info.queuesTotal === 0) return { errno: 'EINVAL' };
    if (info.queuesTotal - 1 + info.queuenum > 0xffff) return { errno: 'ERANGE' };
    return undefined;
  },
  print: (info) => ' NFQUEUE' + render(info, (w) => ` ${w}`),
  save: (info) => render(info, (w) => ` --queue-${w}`),
  // No program listens on any queue: nf_queue finds no instance, so the
  // packet is dropped, or with --queue-bypass goes on to the next hook
  // function as if accepted here.
  target: (info) => (info.flags & NFQ_FLAG.BYPASS ? NF_ACCEPT : NF_DROP),
});
