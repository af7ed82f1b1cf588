/**
 * The time match: time of day, weekdays, days of the month and a date
 * window, in UTC unless --kerneltz.
 */
import { defineMatch, paramError, XtError, type OptionCall } from '../index-types.js';
import { cStrtoulU32 } from './rate-common.js';
import { RATE_HELP } from '../rate-help.js';
import type { PacketContext } from '../packet.js';

/** xt_time_info. */
export interface TimeInfo {
  /** Date window, seconds since the epoch (u32). */
  dateStart: number;
  dateStop: number;
  /** Daytime window, seconds since midnight. */
  daytimeStart: number;
  daytimeStop: number;
  /** Bit i set: day i of the month matches (1..31). */
  monthdaysMatch: number;
  /** Bit i set: weekday i matches (1 = Monday .. 7 = Sunday). */
  weekdaysMatch: number;
  /** XT_TIME_* flags. */
  flags: number;
}

/** XT_TIME_* flags. */
export const TIME_FLAG = { LOCAL_TZ: 1, CONTIGUOUS: 2 } as const;
const ALL_MONTHDAYS = 0xfffffffe;
const ALL_WEEKDAYS = 0xfe;
const MAX_DAYTIME = 24 * 60 * 60 - 1;
const INT_MAX = 0x7fffffff;
const WEEK_DAYS = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const O = {
  DATE_START: 0,
  DATE_STOP: 1,
  TIME_START: 2,
  TIME_STOP: 3,
  CONTIGUOUS: 4,
  MONTHDAYS: 5,
  WEEKDAYS: 6,
  LOCAL_TZ: 7,
  UTC: 8,
  KERNEL_TZ: 9,
} as const;

/** time_parse_date: "YYYY[-MM[-DD[Thh[:mm[:ss]]]]]" in UTC. */
function parseDate(cb: OptionCall<TimeInfo>, text: string): number {
  const bad = () =>
    paramError(`Invalid date "${text}" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]`);
  // Each field: its terminator set (besides end of text) and its maximum.
  const fields: [string, number, number][] = [
    ['-', 1970, 2038],
    ['-', 0, 12],
    ['T', 0, 31],
    [':', 0, 23],
    [':', 0, 59],
    ['', 0, 59],
  ];
  const vals = [0, 1, 1, 0, 0, 0];
  let pos = 0;
  for (let i = 0; i < fields.length; i++) {
    const [term, min, max] = fields[i]!;
    const r = cStrtoulU32(text.slice(pos), 10);
    const next = text[pos + r.end];
    if ((next !== undefined && next !== term) || r.value < min || r.value > max) throw bad();
    vals[i] = r.value;
    if (next === undefined) break;
    pos += r.end + 1;
  }
  const t = Date.UTC(vals[0]!, vals[1]! - 1, vals[2]!, vals[3]!, vals[4]!, vals[5]!) / 1000;
  if (t < 0) {
    // perror("mktime") reports whatever errno glibc left behind: ENOENT from its time zone lookup.
    cb.warn('mktime: No such file or directory\n');
    throw new XtError('mktime returned an error', 1);
  }
  return t >>> 0;
}

/** time_parse_minutes: "hh:mm[:ss]" as seconds since midnight. */
function parseDaytime(text: string): number {
  let seg = text;
  const bad = () =>
    paramError(`invalid time "${seg}" specified, should be hh:mm[:ss] format and within the boundaries`);
  const h = cStrtoulU32(seg, 10);
  if (seg[h.end] !== ':' || h.value > 23) throw bad();
  seg = seg.slice(h.end + 1);
  const m = cStrtoulU32(seg, 10);
  const mNext = seg[m.end];
  if ((mNext !== ':' && mNext !== undefined) || m.value > 59) throw bad();
  let sec = 0;
  if (mNext !== undefined) {
    seg = seg.slice(m.end + 1);
    const s = cStrtoulU32(seg, 10);
    if (seg[s.end] !== undefined || s.value > 59) throw bad();
    sec = s.value;
  }
  return 3600 * h.value + 60 * m.value + sec;
}

/** my_strseg: comma-separated pieces, each cut to `width` characters. */
function segments(arg: string, width: number): string[] {
  if (arg === '') return [];
  const parts = arg.split(',');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts.map((p) => p.slice(0, width));
}

/** time_parse_monthdays. */
function parseMonthdays(arg: string): number {
  let ret = 0;
  for (const day of segments(arg, 2)) {
    const r = cStrtoulU32(day, 0);
    if ((r.end !== day.length && day !== '') || r.value > 31)
      throw paramError(`${day} is not a valid day for --monthdays`);
    ret |= 1 << r.value;
  }
  return ret >>> 0;
}

/** time_parse_weekdays: names (first two letters count) or numbers 1..7. */
function parseWeekdays(arg: string): number {
  let ret = 0;
  for (const day of segments(arg, 3)) {
    const r = cStrtoulU32(day, 0);
    if (r.end === day.length) {
      if (r.value === 0) throw paramError('No, the week does NOT begin with Sunday.');
      ret |= 1 << (r.value & 31);
      continue;
    }
    let valid = false;
    for (let i = 1; i < WEEK_DAYS.length; i++) {
      if (day.slice(0, 2) === WEEK_DAYS[i]!.slice(0, 2)) {
        ret |= 1 << i;
        valid = true;
      }
    }
    if (!valid) throw paramError(`${day} is not a valid day specifier`);
  }
  return ret >>> 0;
}

const two = (n: number) => String(n).padStart(2, '0');

/** hh:mm:ss of a daytime. */
function formatDaytime(t: number): string {
  return `${two(Math.floor(t / 3600))}:${two(Math.floor(t / 60) % 60)}:${two(t % 60)}`;
}

/** A date as "YYYY-MM-DD<sep>hh:mm:ss" in UTC. */
function formatDate(t: number, sep: string): string {
  const d = new Date(t * 1000);
  return (
    `${String(d.getUTCFullYear()).padStart(4, '0')}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}` +
    `${sep}${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`
  );
}

function formatMonthdays(mask: number, human: boolean): string {
  const out: string[] = [];
  for (let i = 1; i <= 31; i++) {
    if (!(mask & (1 << i))) continue;
    let s = String(i);
    if (human) s += ['th', 'st', 'nd', 'rd'][i % 10] ?? 'th';
    out.push(s);
  }
  return ' ' + out.join(',');
}

function formatWeekdays(mask: number): string {
  const out: string[] = [];
  for (let i = 1; i <= 7; i++) if (mask & (1 << i)) out.push(WEEK_DAYS[i]!);
  return ' ' + out.join(',');
}

const hasDaytime = (info: TimeInfo) => info.daytimeStart !== 0 || info.daytimeStop !== MAX_DAYTIME;

/** The time match extension. */
export const time = defineMatch<TimeInfo>({
  name: 'time',
  help: () => RATE_HELP['time']!,
  options: [
    { name: 'datestart', id: O.DATE_START, type: 'string' },
    { name: 'datestop', id: O.DATE_STOP, type: 'string' },
    { name: 'timestart', id: O.TIME_START, type: 'string' },
    { name: 'timestop', id: O.TIME_STOP, type: 'string' },
    { name: 'contiguous', id: O.CONTIGUOUS, type: 'none' },
    { name: 'weekdays', id: O.WEEKDAYS, type: 'string', invert: true },
    { name: 'monthdays', id: O.MONTHDAYS, type: 'string', invert: true },
    { name: 'localtz', id: O.LOCAL_TZ, type: 'none', excl: [O.UTC] },
    { name: 'utc', id: O.UTC, type: 'none', excl: [O.LOCAL_TZ, O.KERNEL_TZ] },
    { name: 'kerneltz', id: O.KERNEL_TZ, type: 'none', excl: [O.UTC] },
  ],
  init: () => ({
    dateStart: 0,
    dateStop: INT_MAX,
    daytimeStart: 0,
    daytimeStop: MAX_DAYTIME,
    monthdaysMatch: ALL_MONTHDAYS,
    weekdaysMatch: ALL_WEEKDAYS,
    flags: 0,
  }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const arg = cb.arg ?? '';
    switch (cb.entry.id) {
      case O.DATE_START:
        info.dateStart = parseDate(cb, arg);
        break;
      case O.DATE_STOP:
        info.dateStop = parseDate(cb, arg);
        break;
      case O.TIME_START:
        info.daytimeStart = parseDaytime(arg);
        break;
      case O.TIME_STOP:
        info.daytimeStop = parseDaytime(arg);
        break;
      case O.CONTIGUOUS:
        info.flags |= TIME_FLAG.CONTIGUOUS;
        break;
      case O.LOCAL_TZ:
        cb.warn(
          'WARNING: --localtz is being replaced by --kerneltz, since "local" is ambiguous. ' +
            'Note the kernel timezone has caveats - see manpage for details.\n',
        );
        info.flags |= TIME_FLAG.LOCAL_TZ;
        break;
      case O.KERNEL_TZ:
        info.flags |= TIME_FLAG.LOCAL_TZ;
        break;
      case O.MONTHDAYS:
        info.monthdaysMatch = parseMonthdays(arg);
        if (cb.invert) info.monthdaysMatch = (info.monthdaysMatch ^ ALL_MONTHDAYS) >>> 0;
        break;
      case O.WEEKDAYS:
        info.weekdaysMatch = parseWeekdays(arg);
        if (cb.invert) info.weekdaysMatch = (info.weekdaysMatch ^ ALL_WEEKDAYS) >>> 0;
        break;
    }
  },
  final(cb) {
    const info = cb.info;
    if (cb.xflags & (1 << O.CONTIGUOUS) && info.daytimeStart < info.daytimeStop)
      throw paramError('time: --contiguous only makes sense when stoptime is smaller than starttime');
  },
  print(info) {
    let s = ' TIME';
    if (hasDaytime(info)) s += ` from ${formatDaytime(info.daytimeStart)} to ${formatDaytime(info.daytimeStop)}`;
    if (info.weekdaysMatch !== ALL_WEEKDAYS) s += ` on${formatWeekdays(info.weekdaysMatch)}`;
    if (info.monthdaysMatch !== ALL_MONTHDAYS) s += ` on${formatMonthdays(info.monthdaysMatch, true)}`;
    if (info.dateStart !== 0) s += ` starting from ${formatDate(info.dateStart, ' ')}`;
    if (info.dateStop !== INT_MAX) s += ' until date' + (info.dateStop !== 0 ? ` ${formatDate(info.dateStop, ' ')}` : '');
    if (!(info.flags & TIME_FLAG.LOCAL_TZ)) s += ' UTC';
    if (info.flags & TIME_FLAG.CONTIGUOUS) s += ' contiguous';
    return s;
  },
  save(info) {
    let s = '';
    if (hasDaytime(info))
      s += ` --timestart ${formatDaytime(info.daytimeStart)} --timestop ${formatDaytime(info.daytimeStop)}`;
    if (info.monthdaysMatch !== ALL_MONTHDAYS) s += ` --monthdays${formatMonthdays(info.monthdaysMatch, false)}`;
    if (info.weekdaysMatch !== ALL_WEEKDAYS) s += ` --weekdays${formatWeekdays(info.weekdaysMatch)}`;
    if (info.dateStart !== 0) s += ` --datestart ${formatDate(info.dateStart, 'T')}`;
    if (info.dateStop !== 0) s += ` --datestop ${formatDate(info.dateStop, 'T')}`;
    if (info.flags & TIME_FLAG.LOCAL_TZ) s += ' --kerneltz';
    if (info.flags & TIME_FLAG.CONTIGUOUS) s += ' --contiguous';
    return s;
  },
  match: timeMatch,
});

/**
 * Key in KernelServices.shared of the kernel's time zone (sys_tz, set by
 * settimeofday): `{ minutesWest: number }`. Absent means 0, the zone of a
 * machine whose clock runs in UTC; only --kerneltz rules use it.
 */
export const SYS_TZ_SHARED_KEY = 'sys_tz';

const SECONDS_PER_DAY = 86400;

/**
 * The kernel half (time_mt): the wall clock in whole seconds, moved by the
 * kernel's time zone with --kerneltz, must lie in the date window, its time
 * of day in the daytime window (which wraps past midnight when start >
 * stop; with --contiguous the early part counts as the previous day), its
 * weekday and its day of the month in the masks.
 */
function timeMatch(info: TimeInfo, ctx: PacketContext): boolean {
  let stamp = Math.floor(ctx.kernel.wallSec());
  if (info.flags & TIME_FLAG.LOCAL_TZ) stamp -= 60 * (ctx.kernel.shared[SYS_TZ_SHARED_KEY]?.minutesWest ?? 0);
  if (stamp < info.dateStart || stamp > info.dateStop) return false;
  const packetTime = ((stamp % SECONDS_PER_DAY) + SECONDS_PER_DAY) % SECONDS_PER_DAY;
  if (info.daytimeStart < info.daytimeStop) {
    if (packetTime < info.daytimeStart || packetTime > info.daytimeStop) return false;
  } else {
    if (packetTime < info.daytimeStart && packetTime > info.daytimeStop) return false;
    if (info.flags & TIME_FLAG.CONTIGUOUS && packetTime <= info.daytimeStop) stamp -= SECONDS_PER_DAY;
  }
  const days = Math.floor(stamp / SECONDS_PER_DAY);
  // 1970-01-01 was a Thursday; weekdays count 1 (Monday) to 7 (Sunday)
  const weekday = ((((4 + days - 1) % 7) + 7) % 7) + 1;
  if (!(info.weekdaysMatch & (1 << weekday))) return false;
  if (info.monthdaysMatch !== ALL_MONTHDAYS) {
    const monthday = new Date(days * SECONDS_PER_DAY * 1000).getUTCDate();
    if (!(info.monthdaysMatch & (1 << monthday))) return false;
  }
  return true;
}
