/** Reading the namespace's sysctls the stack depends on, with the kernel's defaults. */
import type { StackEnv } from './api.js';

/** An integer sysctl (dotted key), or `dflt` when unset or not a number. */
export function sysctlInt(env: StackEnv, key: string, dflt: number): number {
  const v = env.sysctl(key);
  if (v === undefined) return dflt;
  const n = parseInt(v, 10);
  return Number.isNaN(n) ? dflt : n;
}

/** A sysctl holding several integers (tcp_rmem, ip_local_port_range), or `dflt`. */
export function sysctlInts(env: StackEnv, key: string, dflt: readonly number[]): number[] {
  const v = env.sysctl(key);
  if (v === undefined) return [...dflt];
  const parts = v.trim().split(/\s+/).map((p) => parseInt(p, 10));
  if (parts.length < dflt.length || parts.some((n) => Number.isNaN(n))) return [...dflt];
  return parts;
}
