/**
 * Number parsing with the exact semantics of C's strtoul/strtoull as the
 * iptables userspace uses them (xtables_strtoul): optional leading
 * whitespace, optional sign, base 0 meaning "0x" hex, leading-0 octal or
 * decimal, and range checks done by the caller.
 */

/** Result of a strtoul-style scan: the value and where scanning stopped. */
export interface CNumScan {
  /** The value read; Infinity when it overflowed 64 bits. */
  value: number;
  /** Index of the first character not consumed. */
  end: number;
  /** Whether any digit was consumed. */
  ok: boolean;
  /** Whether a minus sign was read (strtoul negates modulo 2^64). */
  negative: boolean;
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';

function digitValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 122) return code - 87;
  if (code >= 65 && code <= 90) return code - 55;
  return 99;
}

/** Scans `s` from `start` like strtoul(s, &end, base). */
export function scanUnsigned(s: string, base = 0, start = 0): CNumScan {
  let i = start;
  while (i < s.length && isSpace(s[i]!)) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  if ((base === 0 || base === 16) && s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && digitValue(s[i + 2] ?? '') < 16) {
    base = 16;
    i += 2;
  } else if (base === 0) {
    base = s[i] === '0' ? 8 : 10;
  }
  let value = 0;
  const first = i;
  while (i < s.length) {
    const d = digitValue(s[i]!);
    if (d >= base) break;
    value = value * base + d;
    i++;
  }
  if (i === first) return { value: 0, end: start, ok: false, negative: false };
  if (value > 18446744073709551615) value = Infinity;
  return { value, end: i, ok: true, negative };
}

/**
 * xtables_strtoul: the whole string must be a number within [min, max].
 * With `allowTrail`, returns the scan so the caller can read on.
 */
export function strtoulRange(s: string, min: number, max: number): number | undefined {
  const r = scanUnsigned(s, 0);
  if (!r.ok || r.end !== s.length) return undefined;
  if (r.negative) return undefined; // -N wraps to a huge value, which exceeds every max we use
  if (r.value < min || r.value > max) return undefined;
  return r.value;
}

/**
 * Like xtables_strtoul with an end pointer: the number may be followed by
 * other text. Returns undefined when no number or out of range.
 */
export function strtoulPrefix(s: string, min: number, max: number, base = 0): { value: number; end: number } | undefined {
  const r = scanUnsigned(s, base);
  if (!r.ok || r.negative) return undefined;
  if (r.value < min || r.value > max) return undefined;
  return { value: r.value, end: r.end };
}
