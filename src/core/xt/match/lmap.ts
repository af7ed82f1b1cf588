/**
 * Number-or-name values with an optional mask, as libxtables parses and
 * prints them (xtables_parse_val_mask / xtables_print_val_mask) for the
 * realm and devgroup matches, with the name maps of iproute2's files.
 */
import { strtoulPrefix } from '../../util/cnum.js';
import { paramError, type OptionCall } from '../types.js';

/** An id ↔ name map read from an iproute2 file (xtables_lmap). */
export type Lmap = readonly [number, string][];

/** Debian 12's /etc/iproute2/rt_realms. */
export const RT_REALMS: Lmap = [[0, 'cosmos']];

/** Debian 12's /etc/iproute2/group. */
export const DEV_GROUPS: Lmap = [[0, 'default']];

/** Parses "value[/mask]" or a name from `lmap` into value and mask (mask ~0 when absent). */
export function parseValMaskNamed(cb: OptionCall<unknown>, lmap: Lmap): { value: number; mask: number } {
  const arg = cb.arg!;
  const opt = `"--${cb.entry.name}"`;
  const byName = () => {
    const e = lmap.find(([, n]) => n === arg);
    if (!e) throw paramError(`${cb.extName}: could not map name ${arg} to an integer value for option ${opt}.\n`);
    return { value: e[0], mask: 0xffffffff };
  };
  const v = strtoulPrefix(arg, 0, 0xffffffff);
  if (!v) return byName();
  if (v.end === arg.length) return { value: v.value, mask: 0xffffffff };
  if (arg[v.end] !== '/') return byName();
  const rest = arg.slice(v.end + 1);
  const m = strtoulPrefix(rest, 0, 0xffffffff);
  if (!m) throw paramError(`${cb.extName}: bad integer value for option ${opt}, or out of range.\n`);
  if (m.end !== rest.length) throw paramError(`${cb.extName}: trailing garbage after value for option ${opt}.\n`);
  return { value: v.value, mask: m.value };
}

/** " 0xV/0xM", " name" or " 0xV" (xtables_print_val_mask); no names when `lmap` is undefined. */
export function formatValMask(value: number, mask: number, lmap: Lmap | undefined): string {
  if (mask >>> 0 !== 0xffffffff) return ` 0x${value.toString(16)}/0x${mask.toString(16)}`;
  const name = lmap?.find(([id]) => id === value)?.[1];
  return name !== undefined ? ` ${name}` : ` 0x${value.toString(16)}`;
}
