/**
 * The nfacct match: counts packets into a named extended accounting object
 * (nfacct add NAME). A lab machine has no such objects, so the kernel
 * refuses every rule with ENOENT, as it does on a fresh machine.
 */
import { defineMatch, paramError } from '../index-types.js';
import { saveString } from './conn-util.js';
import { truncateBytes } from './comment.js';
import type { PacketContext } from '../packet.js';

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
  match: nfacctMatch,
});

/** Key of the accounting objects in KernelServices.shared. */
export const NFACCT_SHARED_KEY = 'nfacct';

/** One accounting object's counters, as `nfacct list` shows them. */
export interface NfacctCounters {
  pkts: number;
  bytes: number;
}

/**
 * The kernel half: counts the packet into its accounting object and
 * matches, as an object without a quota always does.
 */
function nfacctMatch(info: NfacctInfo, ctx: PacketContext): boolean {
  const shared = ctx.kernel.shared;
  const objects: Record<string, NfacctCounters> = (shared[NFACCT_SHARED_KEY] ??= {});
  const c = (objects[info.name] ??= { pkts: 0, bytes: 0 });
  c.pkts++;
  c.bytes += ctx.skb.data.length;
  return true;
}
