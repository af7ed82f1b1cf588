/**
 * Every hand-written case list, by file name. The tests and the developer
 * CLI (test/diff/run.ts) both read this map.
 */
import type { Case } from '../diff/types.js';
import { commitCases } from './commit.js';
import { errorCases } from './errors.js';
import { formCases } from './forms.js';
import { ip6Cases } from './ip6.js';
import { seedCases } from './seeds.js';

/** Case lists by name. */
export const caseLists: Record<string, Case[]> = {
  seeds: seedCases,
  errors: errorCases,
  forms: formCases,
  ip6: ip6Cases,
  commit: commitCases,
};
