/**
 * Reading the namespace's sysctls the stack depends on, with the kernel's
 * defaults. Parsed values are remembered per environment and key, and
 * parsed again only when the sysctl's text changes (the per-packet path
 * reads several of them).
 */
import type { StackEnv } from './api.js';

type Parsed = { raw: string | undefined; value: number | number[] };

const cache = new WeakMap<StackEnv, Map<string, Parsed>>();

function cached(env: StackEnv, key: string, parse: (raw: string | undefined) => number | number[]): number | number[] {
  let m = cache.get(env);
  if (!m) cache.set(env, (m = new Map()));
  const raw = env.sysctl(key);
  const hit = m.get(key);
  if (hit && hit.raw === raw) return hit.value;
  const value = parse(raw);
  m.set(key, { raw, value });
  return value;
}

/** An integer sysctl (dotted key), or `dflt` when unset or not a number. */
export function sysctlInt(env: StackEnv, key: string, dflt: number): number {
  return cached(env, key, (v) => {
    if (v === undefined) return dflt;
    const n = parseInt(v, 10);
    return Number.isNaN(n) ? dflt : n;
  }) as number;
}

/** A sysctl holding several integers (tcp_rmem, ip_local_port_range), or `dflt`. Do not modify the result. */
export function sysctlInts(env: StackEnv, key: string, dflt: readonly number[]): readonly number[] {
  return cached(env, key, (v) => {
    if (v === undefined) return [...dflt];
    const parts = v.trim().split(/\s+/).map((p) => parseInt(p, 10));
    if (parts.length < dflt.length || parts.some((n) => Number.isNaN(n))) return [...dflt];
    return parts;
  }) as number[];
}
