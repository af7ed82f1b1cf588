/**
 * The connbytes match: how many packets or bytes (or the average packet
 * size) a connection has carried in one or both directions, against a
 * range. Inversion is stored by swapping the bounds, as the kernel expects.
 * Counts are 64-bit and kept as decimal strings.
 */
import { defineMatch, paramError } from '../index-types.js';
import { parseU64Range, U64_MAX } from './conn-util.js';
import type { PacketContext } from '../packet.js';
import { isTemplate } from '../target/ct-template.js';

/** xt_connbytes_info; from/to are decimal strings of 64-bit values. */
export interface ConnbytesInfo {
  from: string;
  to: string;
  /** XT_CONNBYTES_PKTS (0), BYTES (1), AVGPKT (2). */
  what: number;
  /** XT_CONNBYTES_DIR_ORIGINAL (0), REPLY (1), BOTH (2). */
  direction: number;
}

const MODES = ['packets', 'bytes', 'avgpkt'];
const DIRS = ['original', 'reply', 'both'];

/** print_from_to: "!" when the bounds are swapped, ":to" unless it is 0 or the maximum. */
function fromTo(info: ConnbytesInfo, prefix: string): string {
  let from = BigInt(info.from);
  let to = BigInt(info.to);
  let s = '';
  if (from > to) {
    s = ' !';
    [from, to] = [to, from];
  }
  s += ` ${prefix}connbytes ${from}`;
  if (to !== 0n && to < U64_MAX) s += `:${to}`;
  return s;
}

/** What `iptables -m connbytes -h` adds after the general help. */
const HELP =
  'connbytes match options:\n' +
  ' [!] --connbytes from:[to]\n' +
  '     --connbytes-dir [original, reply, both]\n' +
  '     --connbytes-mode [packets, bytes, avgpkt]\n';

/** The connbytes match (-m connbytes). */
export const connbytes = defineMatch<ConnbytesInfo>({
  name: 'connbytes',
  help: () => HELP,
  options: [
    // a uint64 range, parsed here with exact 64-bit values
    { name: 'connbytes', id: 0, type: 'string', invert: true, mandatory: true },
    { name: 'connbytes-dir', id: 1, type: 'string', mandatory: true },
    { name: 'connbytes-mode', id: 2, type: 'string', mandatory: true },
  ],
  init: () => ({ from: '0', to: '0', what: 0, direction: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const arg = cb.arg ?? '';
    switch (cb.entry.id) {
      case 0: {
        const r = parseU64Range(cb.extName, cb.entry.name, arg);
        let from = r[0]!;
        let to = r.length === 2 ? r[1]! : U64_MAX;
        if (to < from) throw paramError(`${from} should be less than ${to}`);
        if (cb.invert) [from, to] = [to, from];
        info.from = from.toString();
        info.to = to.toString();
        break;
      }
      case 1: {
        const d = DIRS.indexOf(arg);
        if (d < 0) throw paramError(`Unknown --connbytes-dir \`${arg}'`);
        info.direction = d;
        break;
      }
      case 2: {
        const m = MODES.indexOf(arg);
        if (m < 0) throw paramError(`Unknown --connbytes-mode \`${arg}'`);
        info.what = m;
        break;
      }
    }
  },
  print: (info) =>
    `${fromTo(info, '')} connbytes mode ${MODES[info.what] ?? 'unknown'} connbytes direction ${DIRS[info.direction] ?? 'unknown'}`,
  save: (info) =>
    `${fromTo(info, '--')} --connbytes-mode ${MODES[info.what] ?? 'unknown'} --connbytes-dir ${DIRS[info.direction] ?? 'unknown'}`,
  match: connbytesMatch,
});

/** The bounds as numbers, and whether the rule is inverted (from > to), worked out once per rule. */
interface Bounds {
  from: number;
  to: number;
  inverted: boolean;
}

const boundsCache = new WeakMap<ConnbytesInfo, Bounds>();

function boundsOf(info: ConnbytesInfo): Bounds {
  let b = boundsCache.get(info);
  if (!b) {
    b = { from: Number(info.from), to: Number(info.to), inverted: BigInt(info.from) > BigInt(info.to) };
    boundsCache.set(info, b);
  }
  return b;
}

/** A per-direction counter for direction 0 (original), 1 (reply) or 2 (both). */
function inDirection(v: [number, number], dir: number): number {
  return dir === 0 ? v[0] : dir === 1 ? v[1] : v[0] + v[1];
}

/**
 * The kernel half: the connection's packet or byte count (or bytes per
 * packet, 0 before any packet) in the chosen direction(s), within
 * [from, to]; outside it when the bounds are swapped (inverted). Counts are
 * those of the connection's accounting, which includes the packet itself;
 * a CT template has none, so it never matches.
 */
function connbytesMatch(info: ConnbytesInfo, ctx: PacketContext): boolean {
  const ct = ctx.skb.ct;
  if (ct === null || isTemplate(ct)) return false;
  const dir = info.direction;
  let what: number;
  if (info.what === 0) what = inDirection(ct.pkts, dir);
  else if (info.what === 1) what = inDirection(ct.bytes, dir);
  else {
    const pkts = inDirection(ct.pkts, dir);
    what = pkts !== 0 ? Math.floor(inDirection(ct.bytes, dir) / pkts) : 0;
  }
  const b = boundsOf(info);
  if (!b.inverted) return what <= b.to && what >= b.from;
  return what < b.to || what > b.from;
}
