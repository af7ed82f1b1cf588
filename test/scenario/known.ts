/**
 * Differences between the kernel and nflab that are known and reported,
 * kept here with their reason: each must still be seen in its scenario
 * (when it is fixed, the test says so and the entry goes).
 */
import type { Difference } from './compare.js';

/** A known difference: in which scenario, where (a pattern over the difference's place), and why. */
export interface KnownDifference {
  scenario: string;
  where: RegExp;
  reason: string;
  /** Also tolerated in random scenarios (where `matches` says it is this difference). */
  anywhere?: boolean;
  matches?: (d: Difference) => boolean;
}

/** The known differences. */
export const KNOWN: KnownDifference[] = [];
