/**
 * The CLASSIFY target: sets the packet's traffic-control class
 * (skb->priority) from "MAJOR:MINOR" in hexadecimal. The kernel accepts it
 * in chains reached from OUTPUT, FORWARD and POSTROUTING.
 */
import { defineTarget, paramError } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { checkPlacement, hex } from './target-util.js';
import { XT_CONTINUE } from '../verdict.js';

/** struct xt_classify_target_info. */
export interface ClassifyInfo {
  /** TC handle: major in the high 16 bits, minor in the low 16. */
  priority: number;
}

const HOOKS = ['OUTPUT', 'FORWARD', 'POSTROUTING'];

const isSpace = (c: string | undefined) => c !== undefined && ' \t\n\v\f\r'.includes(c);
const hexDigit = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);

/**
 * One scanf "%x" conversion into an unsigned int from `s` at `i`: blanks,
 * a sign, an optional 0x, hex digits; the value wraps like strtoul's.
 */
function scanHex(s: string, i: number): { value: number; end: number } | undefined {
  while (isSpace(s[i])) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') negative = s[i++] === '-';
  // glibc takes "0x" as the number 0 even when no hex digit follows
  const prefixed = s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X');
  if (prefixed) i += 2;
  const start = i;
  while (hexDigit(s[i])) i++;
  if (i === start && !prefixed) return undefined;
  const max = (1n << 64n) - 1n;
  let v = BigInt(`0x0${s.slice(start, i)}`);
  if (v > max) v = max;
  else if (negative) v = ((1n << 64n) - v) & max;
  return { value: Number(v & 0xffffffffn), end: i };
}

/** sscanf(s, "%x:%x"): the two numbers, or undefined when either is missing. */
function parseClass(s: string): number | undefined {
  const major = scanHex(s, 0);
  if (!major || s[major.end] !== ':') return undefined;
  const minor = scanHex(s, major.end + 1);
  if (!minor) return undefined;
  return (((major.value << 16) & 0xffff0000) | (minor.value & 0xffff)) >>> 0;
}

export const CLASSIFY = defineTarget<ClassifyInfo>({
  name: 'CLASSIFY',
  help: () => TARGET_HELP['CLASSIFY']!,
  hooks: HOOKS,
  options: [{ name: 'set-class', id: 0, type: 'string', mandatory: true }],
  init: () => ({ priority: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const p = parseClass(cb.arg!);
    if (p === undefined) throw paramError(`Bad class value "${cb.arg}"`);
    cb.info.priority = p;
  },
  check: (_info, ctx) => checkPlacement(ctx, { hooks: HOOKS }),
  print: (info) => ` CLASSIFY set ${hex(info.priority >>> 16)}:${hex(info.priority & 0xffff)}`,
  save: (info) =>
    ` --set-class ${hex(info.priority >>> 16).padStart(4, '0')}:${hex(info.priority & 0xffff).padStart(4, '0')}`,
  target(info, ctx) {
    ctx.skb.priority = info.priority >>> 0;
    return XT_CONTINUE;
  },
});
