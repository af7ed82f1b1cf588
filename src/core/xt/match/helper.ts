/**
 * The helper match: the name of the conntrack helper (ftp, sip ...) that
 * handles the connection. The kernel takes any name; it is cut to 29
 * characters (a 30-byte buffer).
 */
import { defineMatch } from '../index-types.js';
import { saveString } from './conn-util.js';
import { truncateBytes } from './comment.js';
import type { PacketContext } from '../packet.js';
import { connById } from './ct-util.js';

/** xt_helper_info. */
export interface HelperInfo {
  name: string;
  invert: boolean;
}

/** What `iptables -m helper -h` adds after the general help. */
const HELP =
  'helper match options:\n' +
  '[!] --helper string        Match helper identified by string\n';

/** The helper match (-m helper). */
export const helper = defineMatch<HelperInfo>({
  name: 'helper',
  help: () => HELP,
  options: [{ name: 'helper', id: 0, type: 'string', invert: true, mandatory: true }],
  init: () => ({ name: '', invert: false }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.name = truncateBytes(cb.arg ?? '', 29);
    if (cb.invert) cb.info.invert = true;
  },
  print: (info) => ` helper match ${info.invert ? '! ' : ''}"${info.name}"`,
  save: (info) => `${info.invert ? ' !' : ''} --helper${saveString(info.name)}`,
  match: helperMatch,
});

/**
 * The kernel half: the helper of the connection's master (so only
 * connections a helper expected, RELATED ones, can match). An empty name
 * matches any helper; otherwise the rule's name must start with the
 * helper's name (strncmp over the helper name's length).
 */
function helperMatch(info: HelperInfo, ctx: PacketContext): boolean {
  const ct = ctx.skb.ct;
  if (ct === null || ct.master === 0) return info.invert;
  const master = connById(ctx.kernel.conntrack, ct.master);
  if (master === null || master.helper === '') return info.invert;
  if (info.name === '') return !info.invert;
  return info.name.startsWith(master.helper) !== info.invert;
}
