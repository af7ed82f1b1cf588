/**
 * The standard target: ACCEPT, DROP, QUEUE and RETURN. It has no options
 * and prints nothing after its name.
 */
import { defineTarget } from '../index-types.js';

/** Which verdict the rule gives. */
export interface StandardInfo {
  verdict: string;
}

export const standard = defineTarget<StandardInfo>({
  name: 'standard',
  options: [],
  help: () => 'standard match options:\n(If target is DROP, ACCEPT, RETURN or nothing)\n',
  init: () => ({ verdict: 'ACCEPT' }),
  print: () => '',
  save: () => '',
});
