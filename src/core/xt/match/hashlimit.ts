/**
 * The hashlimit match (revision 3, the one iptables 1.8.9 uses with a
 * current kernel): limit per hash bucket, buckets keyed by any of source
 * and destination address (with prefix masks) and ports. Rates are packets
 * per period or bytes per second; --hashlimit-rate-match only measures.
 */
import { defineMatch, paramError, type CheckError } from '../index-types.js';
import { cAtoi, cAtollU64, formatRate, rateMultiplier, xtStrtoul, U64_MAX } from './rate-common.js';
import { RATE_HELP } from '../rate-help.js';
import { hashlimitMatch } from './hashlimit-table.js';

/** xt_hashlimit_mtinfo3 (name and cfg; the kernel's table pointer is not kept). */
export interface HashlimitInfo {
  /** Table name, shown under /proc/net/ipt_hashlimit/. */
  name: string;
  /** Packet mode: period in 1/1000000 s; byte mode: cost per 16-byte chunk. */
  avg: number;
  /** Bucket size: packets, or in byte mode how many rate-sized refills (decimal, u64). */
  burst: string;
  /** XT_HASHLIMIT_* bits. */
  mode: number;
  /** Hash buckets (0: the kernel chooses). */
  size: number;
  /** Maximum entries (0: the kernel chooses). */
  max: number;
  /** Garbage collection interval, ms. */
  gcInterval: number;
  /** Idle entry lifetime, ms. */
  expire: number;
  /** Measurement interval for rate-match, s. */
  interval: number;
  srcmask: number;
  dstmask: number;
  /** Seconds per rate period as parsed (parse-time only; removed by the final check). */
  mult?: number;
}

/** XT_HASHLIMIT_* mode bits. */
export const HL_MODE = {
  DIP: 1 << 0,
  DPT: 1 << 1,
  SIP: 1 << 2,
  SPT: 1 << 3,
  INVERT: 1 << 4,
  BYTES: 1 << 5,
  RATE_MATCH: 1 << 6,
} as const;

/** XT_HASHLIMIT_SCALE_v2: packet periods count microseconds. */
const SCALE = 1000000n;
const DEFAULT_BURST = 5;
const BURST_MAX = 1000000n;
const GC_INTERVAL = 1000;
/** Default expiry (s) of byte-mode entries without and with a burst. */
const BYTE_EXPIRE = 15;
const BYTE_EXPIRE_BURST = 60;
const U32_MAX = 0xffffffffn;

const O = {
  UPTO: 0,
  ABOVE: 1,
  MODE: 3,
  SRCMASK: 4,
  DSTMASK: 5,
  NAME: 6,
  BURST: 7,
  SIZE: 8,
  MAX: 9,
  GCINT: 10,
  EXPIRE: 11,
  RATEMATCH: 12,
  INTERVAL: 13,
} as const;

/** Bytes per second a byte-mode cost stands for (cost_to_bytes). */
function costToBytes(cost: bigint): bigint {
  const r = cost !== 0n ? U32_MAX / cost : U32_MAX;
  return BigInt.asUintN(64, (r - 1n) << 4n);
}

/** Byte-mode cost of a byte rate (bytes_to_cost); undefined where iptables would divide by zero. */
function bytesToCost(bytes: bigint): bigint | undefined {
  const r = BigInt.asUintN(32, bytes >> 4n);
  const d = BigInt.asUintN(32, r + 1n);
  return d === 0n ? undefined : U32_MAX / d;
}

/** Multiplier of a k/m suffix letter. */
function suffixFactor(c: string | undefined): bigint {
  return c === 'm' ? 1048576n : c === 'k' ? 1024n : 1n;
}

/** parse_bytes: "N[k|m]b/s"; undefined when the text is not a byte rate. */
function parseBytes(rate: string): bigint | undefined {
  const at = rate.indexOf('b/s');
  if (at <= 0) return undefined;
  const r = cAtollU64(rate);
  if (r === 0n) return undefined;
  const total = BigInt.asUintN(64, r * suffixFactor(rate[at - 1]));
  const cost = bytesToCost(total);
  if (cost === undefined) throw paramError(`Rate too high "${rate}"`);
  if (cost === 0n) throw paramError(`Rate too high "${rate}"`);
  return cost;
}

/** parse_rate (revision 3): period in microseconds for "N[/unit]"; undefined if malformed. */
function parseRate(rate: string): { avg: bigint; mult: number } | undefined {
  const mult = rateMultiplier(rate);
  if (mult === undefined) return undefined;
  const r = cAtollU64(rate);
  if (r === 0n) return undefined;
  const avg = (SCALE * BigInt(mult)) / r;
  if (avg === 0n) throw paramError(`Rate too fast "${rate}"`);
  return { avg, mult };
}

function burstError(): never {
  throw paramError(`bad value for option "--hashlimit-burst", or out of range (1-${BURST_MAX}).`);
}

/** parse_burst (revision 2+): a number with an optional k/m suffix. */
function parseBurst(text: string): bigint {
  const v = xtStrtoul(text, 1n, U64_MAX);
  if (!v || (v.end === text.length && v.value > BURST_MAX)) burstError();
  return BigInt.asUintN(64, v.value * suffixFactor(text[v.end]));
}

/** parse_mode: comma- or bar-separated hash keys. */
function parseMode(text: string): number | undefined {
  let mode = 0;
  for (const tok of text.split(/[,|]/)) {
    if (tok === '') continue;
    if (tok === 'dstip') mode |= HL_MODE.DIP;
    else if (tok === 'srcip') mode |= HL_MODE.SIP;
    else if (tok === 'srcport') mode |= HL_MODE.SPT;
    else if (tok === 'dstport') mode |= HL_MODE.DPT;
    else return undefined;
  }
  return mode;
}

function badValue(opt: string, arg: string): never {
  throw paramError(`hashlimit: Bad value for "${opt}" option: "${arg}"`);
}

/** Sets avg (and the bytes flag) from an --hashlimit-upto/above argument. */
function setRate(info: HashlimitInfo, opt: string, arg: string): void {
  const cost = parseBytes(arg);
  if (cost !== undefined) {
    info.avg = Number(cost);
    info.mode |= HL_MODE.BYTES;
    info.mult = BYTE_EXPIRE;
    return;
  }
  const r = parseRate(arg);
  if (!r) badValue(opt, arg);
  info.avg = Number(r.avg);
  info.mult = r.mult;
}

const UNITS: readonly [string, bigint][] = [
  ['m', 1048576n],
  ['k', 1024n],
  ['', 1n],
];

/** print_bytes: " Nkb/s" and, with a burst, " PREFIXburst Nkb"; returns the default expiry (ms). */
function formatBytes(avg: bigint, burst: bigint, prefix: string): { text: string; quantum: number } {
  let r = costToBytes(avg);
  let i = 0;
  for (; i < UNITS.length - 1; i++) {
    const t = UNITS[i]![1];
    if (r >= t && bytesToCost(r & ~(t - 1n)) === avg) break;
  }
  let text = ` ${r / UNITS[i]![1]}${UNITS[i]![0]}b/s`;
  if (burst === 0n) return { text, quantum: BYTE_EXPIRE * 1000 };
  r = BigInt.asUintN(64, r * burst);
  for (i = 0; i < UNITS.length - 1; i++) if (r >= UNITS[i]![1]) break;
  text += ` ${prefix}burst ${r / UNITS[i]![1]}${UNITS[i]![0]}b`;
  return { text, quantum: BYTE_EXPIRE_BURST * 1000 };
}

/** print_mode: the hash keys joined by `sep`. */
function formatMode(mode: number, sep: string): string {
  const out: string[] = [];
  if (mode & HL_MODE.SIP) out.push('srcip');
  if (mode & HL_MODE.SPT) out.push('srcport');
  if (mode & HL_MODE.DIP) out.push('dstip');
  if (mode & HL_MODE.DPT) out.push('dstport');
  return ' ' + out.join(sep);
}

const HASH_BITS = HL_MODE.SIP | HL_MODE.SPT | HL_MODE.DIP | HL_MODE.DPT;

/** Parameters of the kernel's credit arithmetic (HZ × CREDITS_PER_JIFFY, equal for HZ 100..1000). */
const HZ_CPJ = 137438953472000n;
const HZ_CPJ_BYTES = 4194304000n;

/** user2credits (revision 3): credits for a period, with the kernel's 64-bit wraparound. */
function userToCredits(user: bigint): bigint {
  return BigInt.asUintN(64, user * (HZ_CPJ / SCALE));
}

/** xt_check_proc_name. */
export function checkProcName(name: string, size: number): CheckError | undefined {
  if (name === '') return { errno: 'EINVAL' };
  if (name.length >= size) return { errno: 'ENAMETOOLONG' };
  if (name === '.' || name === '..' || name.includes('/')) return { errno: 'EINVAL' };
  return undefined;
}

/** The hashlimit match extension. */
export const hashlimit = defineMatch<HashlimitInfo>({
  name: 'hashlimit',
  help: () => RATE_HELP['hashlimit']!,
  revision: 3,
  options: [
    { name: 'hashlimit-upto', id: O.UPTO, type: 'string', invert: true, excl: [O.ABOVE] },
    { name: 'hashlimit-above', id: O.ABOVE, type: 'string', invert: true, excl: [O.UPTO] },
    { name: 'hashlimit', id: O.UPTO, type: 'string', invert: true, excl: [O.ABOVE] },
    { name: 'hashlimit-srcmask', id: O.SRCMASK, type: 'plen' },
    { name: 'hashlimit-dstmask', id: O.DSTMASK, type: 'plen' },
    { name: 'hashlimit-burst', id: O.BURST, type: 'string' },
    { name: 'hashlimit-htable-size', id: O.SIZE, type: 'uint32' },
    { name: 'hashlimit-htable-max', id: O.MAX, type: 'uint32' },
    { name: 'hashlimit-htable-gcinterval', id: O.GCINT, type: 'uint32' },
    { name: 'hashlimit-htable-expire', id: O.EXPIRE, type: 'uint32' },
    { name: 'hashlimit-mode', id: O.MODE, type: 'string' },
    { name: 'hashlimit-name', id: O.NAME, type: 'string', mandatory: true, min: 1, size: 255 },
    { name: 'hashlimit-rate-match', id: O.RATEMATCH, type: 'none' },
    { name: 'hashlimit-rate-interval', id: O.INTERVAL, type: 'string' },
  ],
  init: (family) => ({
    name: '',
    avg: 0,
    burst: String(DEFAULT_BURST),
    mode: 0,
    size: 0,
    max: 0,
    gcInterval: GC_INTERVAL,
    expire: 0,
    interval: 0,
    srcmask: family === 'ipv6' ? 128 : 32,
    dstmask: family === 'ipv6' ? 128 : 32,
    mult: 0,
  }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const arg = cb.arg ?? '';
    switch (cb.entry.id) {
      case O.BURST:
        info.burst = String(parseBurst(arg));
        break;
      case O.UPTO:
        if (cb.invert) info.mode |= HL_MODE.INVERT;
        setRate(info, '--hashlimit-upto', arg);
        break;
      case O.ABOVE:
        if (!cb.invert) info.mode |= HL_MODE.INVERT;
        setRate(info, '--hashlimit-above', arg);
        break;
      case O.MODE: {
        const m = parseMode(arg);
        if (m === undefined) badValue('--hashlimit-mode', arg);
        info.mode |= m;
        break;
      }
      case O.SRCMASK:
        info.srcmask = cb.val.hlen!;
        break;
      case O.DSTMASK:
        info.dstmask = cb.val.hlen!;
        break;
      case O.NAME:
        info.name = cb.val.str!;
        break;
      case O.SIZE:
        info.size = cb.val.num!;
        break;
      case O.MAX:
        info.max = cb.val.num!;
        break;
      case O.GCINT:
        info.gcInterval = cb.val.num!;
        break;
      case O.EXPIRE:
        info.expire = cb.val.num!;
        break;
      case O.RATEMATCH:
        info.mode |= HL_MODE.RATE_MATCH;
        break;
      case O.INTERVAL: {
        const n = cAtoi(arg);
        if (n <= 0) badValue('--hashlimit-rate-interval', arg);
        info.interval = n;
        break;
      }
    }
  },
  final(cb) {
    const info = cb.info;
    const has = (id: number) => (cb.xflags & (1 << id)) !== 0;
    const mult = info.mult ?? 0;
    delete info.mult;
    if (!has(O.UPTO) && !has(O.ABOVE)) throw paramError('You have to specify --hashlimit');
    if (!has(O.EXPIRE)) info.expire = (mult * 1000) >>> 0;
    if (info.mode & HL_MODE.BYTES) {
      let burst = 0n;
      if (has(O.BURST)) {
        const per = costToBytes(BigInt(info.avg));
        const given = BigInt(info.burst);
        if (given < per) throw paramError(`burst cannot be smaller than ${per}b`);
        burst = BigInt.asUintN(32, BigInt.asUintN(32, given) / per + (given % per !== 0n ? 1n : 0n));
        if (!has(O.EXPIRE)) info.expire = BYTE_EXPIRE_BURST * 1000;
      }
      info.burst = String(burst);
    } else if (BigInt(info.burst) > BURST_MAX) {
      burstError();
    }
    if (has(O.RATEMATCH)) {
      if (!(info.mode & HL_MODE.BYTES)) info.avg = Math.floor(info.avg / mult);
      if (info.interval === 0) info.interval = info.mode & HL_MODE.BYTES ? 1 : mult;
    }
  },
  check(info, ctx) {
    const bad = checkProcName(info.name, 255);
    if (bad) return bad;
    if (info.gcInterval === 0 || info.expire === 0) return { errno: 'EINVAL' };
    const plen = ctx.family === 'ipv6' ? 128 : 32;
    if (info.srcmask > plen || info.dstmask > plen) return { errno: 'EINVAL' };
    const avg = BigInt(info.avg);
    if (info.mode & HL_MODE.RATE_MATCH) {
      if (avg === 0n || avg > U32_MAX) return { errno: 'ERANGE' };
      if (info.interval === 0) return { errno: 'EINVAL' };
    } else if (info.mode & HL_MODE.BYTES) {
      if (((BigInt.asUintN(32, avg) * HZ_CPJ_BYTES) >> 32n) === 0n) return { errno: 'EINVAL' };
    } else {
      const burst = BigInt(info.burst);
      if (burst === 0n || userToCredits(BigInt.asUintN(64, avg * burst)) < userToCredits(avg))
        return { errno: 'ERANGE' };
    }
    return undefined;
  },
  print(info, ctx) {
    const avg = BigInt(info.avg);
    const burst = BigInt(info.burst);
    let s = info.mode & HL_MODE.INVERT ? ' limit: above' : ' limit: up to';
    let quantum: number;
    if (info.mode & HL_MODE.BYTES) {
      const b = formatBytes(avg, burst, '');
      s += b.text;
      quantum = b.quantum;
    } else {
      const period = info.interval !== 0 ? BigInt.asUintN(64, avg * BigInt(info.interval)) : avg;
      const r = formatRate(period, SCALE);
      s += `${r.text} burst ${burst}`;
      quantum = r.unitSecs * 1000;
    }
    if (info.mode & HASH_BITS) s += ` mode${formatMode(info.mode, '-')}`;
    if (info.size !== 0) s += ` htable-size ${info.size}`;
    if (info.max !== 0) s += ` htable-max ${info.max}`;
    if (info.gcInterval !== GC_INTERVAL) s += ` htable-gcinterval ${info.gcInterval}`;
    if (info.expire !== quantum) s += ` htable-expire ${info.expire}`;
    const plen = ctx.family === 'ipv6' ? 128 : 32;
    if (info.srcmask !== plen) s += ` srcmask ${info.srcmask}`;
    if (info.dstmask !== plen) s += ` dstmask ${info.dstmask}`;
    if (info.mode & HL_MODE.RATE_MATCH) {
      s += ' rate-match';
      if (info.interval !== 1) s += ` rate-interval ${info.interval}`;
    }
    return s;
  },
  save(info, ctx) {
    const avg = BigInt(info.avg);
    const burst = BigInt(info.burst);
    let s = info.mode & HL_MODE.INVERT ? ' --hashlimit-above' : ' --hashlimit-upto';
    let quantum: number;
    if (info.mode & HL_MODE.BYTES) {
      const b = formatBytes(avg, burst, '--hashlimit-');
      s += b.text;
      quantum = b.quantum;
    } else {
      const r = formatRate(avg, SCALE);
      s += `${r.text} --hashlimit-burst ${burst}`;
      quantum = r.unitSecs * 1000;
    }
    if (info.mode & HASH_BITS) s += ` --hashlimit-mode${formatMode(info.mode, ',')}`;
    s += ` --hashlimit-name ${info.name}`;
    if (info.size !== 0) s += ` --hashlimit-htable-size ${info.size}`;
    if (info.max !== 0) s += ` --hashlimit-htable-max ${info.max}`;
    if (info.gcInterval !== GC_INTERVAL) s += ` --hashlimit-htable-gcinterval ${info.gcInterval}`;
    if (info.expire !== quantum) s += ` --hashlimit-htable-expire ${info.expire}`;
    const plen = ctx.family === 'ipv6' ? 128 : 32;
    if (info.srcmask !== plen) s += ` --hashlimit-srcmask ${info.srcmask}`;
    if (info.dstmask !== plen) s += ` --hashlimit-dstmask ${info.dstmask}`;
    if (info.mode & HL_MODE.RATE_MATCH) {
      s += ' --hashlimit-rate-match';
      if (info.interval !== 1) s += ` --hashlimit-rate-interval ${info.interval}`;
    }
    return s;
  },
  // the table of buckets is shared by name (see hashlimit-table.ts)
  match: (info, ctx) => hashlimitMatch(info, ctx),
});
