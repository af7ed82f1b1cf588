/**
 * The eui64 match (libip6t_eui64): the source address's interface
 * identifier must be the EUI-64 derived from the source MAC. No options;
 * the kernel allows it only where a MAC header exists (PREROUTING, INPUT,
 * FORWARD). IPv6 only.
 */
import { requireHooks } from '../protocheck.js';
import { defineMatch } from '../index-types.js';

/** The eui64 match keeps no data of its own. */
export type Eui64Info = Record<string, never>;

/** The eui64 match definition (IPv6). */
export const eui64 = defineMatch<Eui64Info>({
  name: 'eui64',
  family: 'ipv6',
  hooks: ['PREROUTING', 'INPUT', 'FORWARD'],
  options: [],
  init: () => ({}),
  check(_info, ctx) {
    return requireHooks(ctx, ['PREROUTING', 'INPUT', 'FORWARD']);
  },
  print: () => '',
  save: () => '',
});
