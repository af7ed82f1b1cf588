/**
 * Helpers shared by the rate-group matches (limit, hashlimit, quota,
 * rateest ...): C number conversions with 64-bit semantics (atoi, atoll,
 * strtoumax) done on bigints, and the "N/unit" rate syntax and rendering.
 */

/** 2^64 - 1. */
export const U64_MAX = (1n << 64n) - 1n;

const SPACE = /^[ \t\n\v\f\r]*/;

/** C strtol(s, NULL, 10) as a bigint clamped to the 64-bit long range. */
export function cStrtol(s: string): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(s)!;
  if (m[2] === '') return 0n;
  let v = BigInt(m[2]!);
  if (m[1] === '-') v = -v;
  const max = (1n << 63n) - 1n;
  const min = -(1n << 63n);
  return v > max ? max : v < min ? min : v;
}

/** C atoi: strtol truncated to a 32-bit int. */
export function cAtoi(s: string): number {
  return Number(BigInt.asIntN(32, cStrtol(s)));
}

/** C atoll converted to an unsigned 64-bit value, as code storing it in a uint64_t sees it. */
export function cAtollU64(s: string): bigint {
  return BigInt.asUintN(64, cStrtol(s));
}

/** Result of {@link cStrtoumax}. */
export interface BigScan {
  /** The value, meaningful when `ok` and not `overflow`. */
  value: bigint;
  /** Index just past the digits. */
  end: number;
  /** Whether any digit was read. */
  ok: boolean;
  /** The number did not fit in 64 bits (ERANGE). */
  overflow: boolean;
  /** A minus sign preceded the digits. */
  negative: boolean;
}

/** C strtoumax(s, &end, base) with base 0 or 10..16, on bigints. */
export function cStrtoumax(s: string, base = 0): BigScan {
  let i = SPACE.exec(s)![0].length;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  const hexDigit = (c: string | undefined) => c !== undefined && /[0-9a-fA-F]/.test(c);
  if ((base === 0 || base === 16) && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && hexDigit(s[i + 2])) {
    base = 16;
    i += 2;
  } else if (base === 0) {
    base = s[i] === '0' ? 8 : 10;
  }
  const first = i;
  let v = 0n;
  const b = BigInt(base);
  while (i < s.length) {
    const d = parseInt(s[i]!, 36);
    if (Number.isNaN(d) || d >= base) break;
    v = v * b + BigInt(d);
    i++;
  }
  if (i === first) return { value: 0n, end: 0, ok: false, overflow: false, negative: false };
  const overflow = v > U64_MAX;
  if (negative && !overflow) v = BigInt.asUintN(64, -v);
  return { value: overflow ? U64_MAX : v, end: i, ok: true, overflow, negative };
}

/**
 * xtables_strtoul with an end pointer: a non-negative number in
 * [min, max] (max 0n = no bound), possibly followed by other text.
 */
export function xtStrtoul(s: string, min: bigint, max: bigint): { value: bigint; end: number } | undefined {
  const lead = SPACE.exec(s)![0].length;
  if (s[lead] === '-') return undefined;
  const r = cStrtoumax(s, 0);
  if (!r.ok || r.overflow) return undefined;
  if (r.value < min || (max !== 0n && r.value > max)) return undefined;
  return { value: r.value, end: r.end };
}

/** Seconds per unit named after the slash of a rate. */
const RATE_UNITS: readonly [string, number][] = [
  ['second', 1],
  ['minute', 60],
  ['hour', 3600],
  ['day', 86400],
];

/**
 * Seconds per period for the text after "/" in a rate ("s", "sec",
 * "minute", "HOUR", ...): any case-insensitive prefix of the unit names,
 * tried in order. Undefined for an empty or unknown suffix.
 */
export function rateUnitSeconds(suffix: string): number | undefined {
  if (suffix === '') return undefined;
  const lower = suffix.toLowerCase();
  for (const [name, secs] of RATE_UNITS) if (name.startsWith(lower)) return secs;
  return undefined;
}

/**
 * The seconds-per-period of a rate "N[/unit]": 1 with no slash, undefined
 * when the unit is empty or unknown.
 */
export function rateMultiplier(rate: string): number | undefined {
  const slash = rate.indexOf('/');
  return slash < 0 ? 1 : rateUnitSeconds(rate.slice(slash + 1));
}

/** The unit names print_rate chooses from, longest period first. */
const PRINT_UNITS: readonly [string, number][] = [
  ['day', 86400],
  ['hour', 3600],
  ['min', 60],
  ['sec', 1],
];

/**
 * Renders an average period (in 1/scale seconds) as " N/unit", choosing
 * the largest unit that still divides evenly enough (print_rate). Returns
 * the text and the chosen unit's length in seconds (0 for an infinite rate).
 */
export function formatRate(period: bigint, scale: bigint): { text: string; unitSecs: number } {
  if (period === 0n) return { text: ' inf', unitSecs: 0 };
  let i = 1;
  for (; i < PRINT_UNITS.length; i++) {
    const mult = BigInt(PRINT_UNITS[i]![1]) * scale;
    if (period > mult || mult / period < mult % period) break;
  }
  const [name, secs] = PRINT_UNITS[i - 1]!;
  return { text: ` ${(BigInt(secs) * scale) / period}/${name}`, unitSecs: secs };
}

/**
 * C strtod(s, &end): leading white space, then a decimal or hexadecimal
 * floating-point number, "inf"/"infinity" or "nan[(...)]", any case.
 * Returns the value and the index where the number ends (0 if none).
 */
export function cStrtod(s: string): { value: number; end: number } {
  const lead = SPACE.exec(s)![0].length;
  const rest = s.slice(lead);
  const special = /^([+-]?)(infinity|inf|nan(\([0-9A-Za-z_]*\))?)/i.exec(rest);
  if (special) {
    const neg = special[1] === '-';
    const v = special[2]!.toLowerCase().startsWith('inf') ? Infinity : NaN;
    return { value: neg ? -v : v, end: lead + special[0].length };
  }
  const hex = /^([+-]?)0[xX](([0-9a-fA-F]+)(\.([0-9a-fA-F]*))?|\.([0-9a-fA-F]+))([pP][+-]?[0-9]+)?/.exec(rest);
  if (hex) {
    const int = hex[3] ?? '';
    const frac = hex[5] ?? hex[6] ?? '';
    let v = 0;
    for (const c of int + frac) v = v * 16 + parseInt(c, 16);
    v /= 16 ** frac.length;
    if (hex[7]) v *= 2 ** Number(hex[7].slice(1));
    return { value: hex[1] === '-' ? -v : v, end: lead + hex[0].length };
  }
  const dec = /^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?/.exec(rest);
  if (dec) return { value: Number(dec[0]), end: lead + dec[0].length };
  return { value: 0, end: 0 };
}

/**
 * C `(unsigned int) strtoul(s, &end, base)`: the value truncated to 32 bits
 * and the index where scanning stopped (0 when there were no digits).
 */
export function cStrtoulU32(s: string, base = 10): { value: number; end: number } {
  const r = cStrtoumax(s, base);
  if (!r.ok) return { value: 0, end: 0 };
  return { value: Number(BigInt.asUintN(32, r.value)), end: r.end };
}

/**
 * The built-in chain (hook) a rule is being added to, or undefined for a
 * user-defined chain: nf_tables only checks an xtables extension's hooks
 * when its rule sits directly in a base chain.
 */
export function baseChainOf(ctx: { chain: string; hooks: readonly string[] }): string | undefined {
  return ctx.hooks.length === 1 && ctx.hooks[0] === ctx.chain ? ctx.chain : undefined;
}
