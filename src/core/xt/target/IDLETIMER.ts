/**
 * The IDLETIMER target (revision 1): (re)arms a named timer whenever a
 * packet passes; when it expires the kernel notifies user space through
 * sysfs. Labels are shared by all rules using them.
 */
import { defineTarget } from '../index-types.js';
import type { RulesInNetns } from '../match/rateest.js';
import { checkProcName } from '../match/hashlimit.js';
import { RATE_HELP } from '../rate-help.js';
import { XT_CONTINUE } from '../verdict.js';

/** idletimer_tg_info_v1 (without the kernel's timer pointer). */
export interface IdletimerInfo {
  /** Seconds. */
  timeout: number;
  label: string;
  /** XT_IDLETIMER_ALARM (1) or 0. */
  timerType: number;
}

/** MAX_IDLETIMER_LABEL_SIZE. */
const LABEL_SIZE = 28;
const O = { TIMEOUT: 0, LABEL: 1, ALARM: 2 } as const;

/** The IDLETIMER target extension. */
export const IDLETIMER = defineTarget<IdletimerInfo>({
  name: 'IDLETIMER',
  help: () => RATE_HELP['IDLETIMER']!,
  revision: 1,
  options: [
    { name: 'timeout', id: O.TIMEOUT, type: 'uint32', mandatory: true },
    { name: 'label', id: O.LABEL, type: 'string', mandatory: true, size: LABEL_SIZE },
    { name: 'alarm', id: O.ALARM, type: 'none' },
  ],
  init: () => ({ timeout: 0, label: '', timerType: 0 }),
  parse(cb) {
    cb.parseGeneric();
    if (cb.entry.id === O.TIMEOUT) cb.info.timeout = cb.val.num!;
    else if (cb.entry.id === O.LABEL) cb.info.label = cb.val.str!;
    else cb.info.timerType = 1;
  },
  check(info, ctx) {
    if (info.timeout === 0 || info.timeout >= Math.floor(0x7fffffff / 1000)) return { errno: 'EINVAL' };
    if (info.label === '') return { errno: 'EINVAL' };
    const rules = (ctx as RulesInNetns).rulesInNetns?.() ?? [];
    for (const r of rules) {
      const t = r.target;
      if (t.kind === 'ext' && t.name === 'IDLETIMER' && t.info.label === info.label)
        return t.info.timerType === info.timerType ? undefined : { errno: 'EINVAL' };
    }
    // A new timer gets a sysfs file named after its label.
    const bad = checkProcName(info.label, LABEL_SIZE);
    if (bad) return bad;
    if (['power', 'subsystem', 'uevent'].includes(info.label)) return { errno: 'EINVAL' };
    return undefined;
  },
  print: (info) => ` timeout:${info.timeout} label:${info.label}${info.timerType === 1 ? ' alarm' : ''}`,
  save: (info) => ` --timeout ${info.timeout} --label ${info.label}${info.timerType === 1 ? ' --alarm' : ''}`,
  target(info, ctx) {
    // re-arm the label's timer; its expiry would only show in sysfs, which a lab machine has not
    const timers = (ctx.kernel.shared['IDLETIMER'] ??= {}) as Record<string, IdleTimer>;
    const k = ctx.kernel;
    timers[info.label] =
      info.timerType === 1 ? { alarm: true, expires: k.nowNs() + info.timeout * 1e9 } : { alarm: false, expires: k.jiffies() + info.timeout * 250 };
    return XT_CONTINUE;
  },
});

/** One label's timer: its expiry in nanoseconds (alarm) or jiffies. */
export interface IdleTimer {
  alarm: boolean;
  expires: number;
}
