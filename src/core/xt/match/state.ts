/**
 * The state match. iptables 1.8.9 implements it as an alias of conntrack
 * revision 3: the kernel gets a conntrack match carrying only a state mask
 * and the STATE_ALIAS flag, and listing prints it back as "-m state
 * --state ..." with the states in the fixed order INVALID, NEW, RELATED,
 * ESTABLISHED, UNTRACKED.
 */
import { defineMatch, paramError } from '../index-types.js';
import { NO_NAMES } from './conn-util.js';
import { CT, conntrackMatch, dumpConntrack, emptyConntrack, stateBit, type ConntrackInfo } from './conntrack.js';

/** The names --state knows, in the order state_parse_state tries them. */
const STATE_NAMES = ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED'];

/** state_parse_states: a comma list; an empty last word gets its own message. */
function parseStates(arg: string): number {
  let mask = 0;
  let rest = arg;
  const bad = () => paramError(`Bad state "${rest}"`);
  for (let comma = rest.indexOf(','); comma >= 0; comma = rest.indexOf(',')) {
    const bit = comma === 0 ? undefined : stateBit(rest.slice(0, comma), STATE_NAMES);
    if (bit === undefined) throw bad();
    mask |= bit;
    rest = rest.slice(comma + 1);
  }
  if (rest === '')
    throw paramError('"--state" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED');
  const bit = stateBit(rest, STATE_NAMES);
  if (bit === undefined) throw bad();
  return mask | bit;
}

/** What `iptables -m state -h` adds after the general help. */
const HELP =
  'state match options:\n' +
  ' [!] --state [INVALID|ESTABLISHED|NEW|RELATED|UNTRACKED][,...]\n' +
  '\t\t\t\tState(s) to match\n';

/** The state match (-m state), an alias of conntrack revision 3. */
export const state = defineMatch<ConntrackInfo>({
  name: 'state',
  help: () => HELP,
  revision: 3,
  options: [{ name: 'state', id: 0, type: 'string', invert: true, mandatory: true }],
  init: emptyConntrack,
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    info.matchFlags = CT.STATE | CT.STATE_ALIAS;
    info.stateMask = parseStates(cb.arg ?? '');
    if (cb.invert) info.invertFlags |= CT.STATE;
  },
  print: (info, ctx) => dumpConntrack(info, '', ctx.names, ctx.numeric),
  save: (info) => dumpConntrack(info, '--', NO_NAMES, true),
  // the kernel sees a conntrack match: the same kernel half
  match: (info, ctx) => conntrackMatch(info, ctx),
});
