/**
 * The socket match (revision 3): whether a local socket matches the
 * packet, optionally only transparent ones, also wildcard listeners, and
 * restoring the socket mark. Only in PREROUTING and INPUT.
 */
import { defineMatch } from '../index-types.js';
import { hooksOnly } from './conn-util.js';

/** xt_socket_mtinfo3. */
export interface SocketInfo {
  /** XT_SOCKET_TRANSPARENT (1), NOWILDCARD (2), RESTORESKMARK (4). */
  flags: number;
}

const FLAG_NAMES: readonly [string, number][] = [
  ['transparent', 1],
  ['nowildcard', 2],
  ['restore-skmark', 4],
];

function render(info: SocketInfo): string {
  return FLAG_NAMES.filter(([, bit]) => info.flags & bit)
    .map(([n]) => ` --${n}`)
    .join('');
}

/** What `iptables -m socket -h` adds after the general help. */
const HELP =
  'socket match options:\n' +
  '  --nowildcard     Do not ignore LISTEN sockets bound on INADDR_ANY\n' +
  '  --transparent    Ignore non-transparent sockets\n' +
  '  --restore-skmark Set the packet mark to the socket mark if\n' +
  '                   the socket matches and transparent / \n' +
  '                   nowildcard conditions are satisfied\n' +
  '\n';

/** The socket match (-m socket), revision 3. */
export const socket = defineMatch<SocketInfo>({
  name: 'socket',
  hooks: ['PREROUTING', 'INPUT'],
  help: () => HELP,
  revision: 3,
  options: [
    { name: 'transparent', id: 0, type: 'none' },
    { name: 'nowildcard', id: 1, type: 'none' },
    { name: 'restore-skmark', id: 2, type: 'none' },
  ],
  init: () => ({ flags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.flags |= FLAG_NAMES[cb.entry.id]![1];
  },
  check: (_info, ctx) => hooksOnly(ctx, ['PREROUTING', 'INPUT']),
  print: (info) => ` socket${render(info)}`,
  save: (info) => render(info),
  // the lab machine has no sockets, so no lookup ever finds one
  match: () => false,
});
