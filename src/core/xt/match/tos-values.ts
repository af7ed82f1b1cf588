/**
 * TOS symbol names shared by the tos match and the TOS target.
 */

/** The TOS symbols iptables prints, in lookup order. */
export const TOS_SYMBOLS: readonly [string, number][] = [
  ['Minimize-Delay', 0x10],
  ['Maximize-Throughput', 0x08],
  ['Maximize-Reliability', 0x04],
  ['Minimize-Cost', 0x02],
  ['Normal-Service', 0x00],
];

/** The symbol for `value` when the mask is 0x3f, else undefined (tos_try_print_symbolic). */
export function tosSymbol(value: number, mask: number): string | undefined {
  if (mask !== 0x3f) return undefined;
  return TOS_SYMBOLS.find(([, v]) => v === value)?.[0];
}

/** Two-digit lowercase hex with 0x, as %02x prints it. */
export function hex02(n: number): string {
  return `0x${n.toString(16).padStart(2, '0')}`;
}
