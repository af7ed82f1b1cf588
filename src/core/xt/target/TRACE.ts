/**
 * The TRACE target: marks packets so that every rule they traverse is
 * logged. It has no options and prints nothing after its name.
 */
import { defineTarget } from '../index-types.js';

/** TRACE carries no data. */
export type TraceInfo = Record<string, never>;

export const TRACE = defineTarget<TraceInfo>({
  name: 'TRACE',
  options: [],
  init: () => ({}),
  print: () => '',
  save: () => '',
});
