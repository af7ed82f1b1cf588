/**
 * Small helpers shared by the target modules: where the kernel lets a
 * target be used (xt_check_target's table and hook tests), the string
 * quoting of xtables_save_string, strict inet_pton, and warnings printed
 * while parsing.
 */
import type { CheckContext, CheckError } from '../types.js';

/** Where the kernel accepts a target: its xt_target .table and .hooks. */
export interface Placement {
  /** The only table the target may be used in; any table when absent. */
  table?: string;
  /** Hooks (built-in chain names) the rule may be reached from; any when absent. */
  hooks?: readonly string[];
}

/**
 * xt_check_target's table and hook tests as nft_compat applies them: a
 * target used outside its table, or in a chain reachable from a hook it
 * does not serve, is refused with EINVAL.
 */
export function checkPlacement(ctx: CheckContext, where: Placement): CheckError | undefined {
  if (where.table !== undefined && ctx.table !== where.table) return { errno: 'EINVAL' };
  const allowed = where.hooks;
  if (allowed !== undefined && ctx.hooks.some((h) => !allowed.includes(h))) return { errno: 'EINVAL' };
  return undefined;
}

const NO_QUOTE = /^[_\-0-9a-zA-Z]+$/;

/**
 * A string argument in save form (xtables_save_string): a leading space,
 * then the value bare when it is made of letters, digits, '_' and '-' only,
 * otherwise in double quotes with '"', '\' and '\'' backslashed.
 */
export function saveString(value: string): string {
  if (NO_QUOTE.test(value)) return ` ${value}`;
  return ` "${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** inet_pton(AF_INET): exactly four decimal parts 0-255, no leading zeros. */
export function inetPton4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || (p.length > 1 && p[0] === '0')) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** Formats an unsigned 32-bit number as printf's "%x". */
export function hex(n: number): string {
  return (n >>> 0).toString(16);
}

/**
 * A sink for the warnings some extensions print to stderr while parsing
 * (e.g. "warn: --nflog-range has never worked"). The command layer may
 * provide one as `warn` on the parse and final-check calls.
 */
export type WarnSink = { warn?: (text: string) => void };

/** Prints a parse-time warning when the command layer offers a sink for it. */
export function warnOn(cb: object, text: string): void {
  (cb as WarnSink).warn?.(text);
}

/**
 * Truncates a string so that its UTF-8 form fits in `bytes` bytes, as a C
 * buffer of `bytes + 1` characters would keep it.
 */
export function truncateBytes(s: string, bytes: number): string {
  const enc = new TextEncoder();
  if (enc.encode(s).length <= bytes) return s;
  let out = '';
  let used = 0;
  for (const ch of s) {
    const n = enc.encode(ch).length;
    if (used + n > bytes) break;
    out += ch;
    used += n;
  }
  return out;
}
