/**
 * The nfacct match: counts packets into a named extended accounting object
 * (nfacct add NAME). A lab machine has no such objects, so the kernel
 * refuses every rule with ENOENT, as it does on a fresh machine.
 */
import { defineMatch, paramError } from '../index-types.js';
import { saveString } from './conn-util.js';
import { truncateBytes } from './comment.js';

/** xt_nfacct_match_info. */
export interface NfacctInfo {
  name: string;
}

/** NFACCT_NAME_MAX. */
const NAME_MAX = 32;

/** The lab's accounting objects. None exist yet. */
function nfacctExists(_name: string): boolean {
  return false;
}

/** What `iptables -m nfacct -h` adds after the general help. */
const HELP =
  'nfacct match options:\n' +
  ' --nfacct-name STRING\t\tName of accouting area\n';

/** The nfacct match (-m nfacct). */
export const nfacct = defineMatch<NfacctInfo>({
  name: 'nfacct',
  help: () => HELP,
  options: [{ name: 'nfacct-name', id: 0, type: 'string', mandatory: true, min: 1 }],
  init: () => ({ name: '' }),
  parse(cb) {
    cb.parseGeneric();
    const arg = cb.arg ?? '';
    cb.info.name = truncateBytes(arg, NAME_MAX - 1);
    if (arg.includes('\n')) throw paramError('Newlines not allowed in --nfacct-name');
  },
  check: (info) => (nfacctExists(info.name) ? undefined : { errno: 'ENOENT' }),
  print: (info) => ` nfacct-name ${saveString(info.name)}`,
  save: (info) => ` --nfacct-name ${saveString(info.name)}`,
});
