/**
 * The helper match: the name of the conntrack helper (ftp, sip ...) that
 * handles the connection. The kernel takes any name; it is cut to 29
 * characters (a 30-byte buffer).
 */
import { defineMatch } from '../index-types.js';
import { saveString } from './conn-util.js';
import { truncateBytes } from './comment.js';

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
});
