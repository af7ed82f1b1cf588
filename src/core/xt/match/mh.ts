/**
 * The mh match (libip6t_mh): the Mobility Header type, one or a range, by
 * name or number; needs `-p mobility-header` (protocol 135). IPv6 only.
 */
import { strtoulRange } from '../../util/cnum.js';
import { requireProto } from '../protocheck.js';
import { defineMatch, paramError } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';
import { unknownInv } from './spi.js';

/** struct ip6t_mh. */
export interface MhInfo {
  types: [number, number];
  /** IP6T_MH_INV_TYPE (1). */
  invflags: number;
}

const INV = 0x01;

/** Mobility header type names, aliases after their type. */
const MH_NAMES: readonly [string, number][] = [
  ['binding-refresh-request', 0],
  ['brr', 0],
  ['home-test-init', 1],
  ['hoti', 1],
  ['careof-test-init', 2],
  ['coti', 2],
  ['home-test', 3],
  ['hot', 3],
  ['careof-test', 4],
  ['cot', 4],
  ['binding-update', 5],
  ['bu', 5],
  ['binding-acknowledgement', 6],
  ['ba', 6],
  ['binding-error', 7],
  ['be', 7],
];

/** name_to_type: the first name the word is a prefix of, unless a later one equals it; else a number 0-255. */
function nameToType(word: string): number {
  let match: [string, number] | undefined;
  for (const e of MH_NAMES) {
    if (!e[0].toLowerCase().startsWith(word.toLowerCase())) continue;
    if (match === undefined || e[0].length === word.length) match = e;
  }
  if (match) return match[1];
  const n = strtoulRange(word, 0, 255);
  if (n === undefined) throw paramError(`Invalid MH type \`${word}'`);
  return n;
}

function typeText(t: number, numeric: boolean): string {
  if (numeric) return String(t);
  return MH_NAMES.find(([, v]) => v === t)?.[0] ?? String(t);
}

/** The mh match definition (IPv6). */
export const mh = defineMatch<MhInfo>({
  name: 'mh',
  family: 'ipv6',
  help: () => IP6_HELP['mh']!,
  options: [{ name: 'mh-type', id: 0, type: 'string', invert: true }],
  init: () => ({ types: [0, 0xff], invflags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const arg = cb.arg!;
    const colon = arg.indexOf(':');
    if (colon < 0) {
      const t = nameToType(arg);
      cb.info.types = [t, t];
    } else {
      const a = arg.slice(0, colon);
      const b = arg.slice(colon + 1);
      const lo = a !== '' ? nameToType(a) : 0;
      const hi = b !== '' ? nameToType(b) : 0xff;
      if (lo > hi) throw paramError('Invalid MH type range (min > max)');
      cb.info.types = [lo, hi];
    }
    if (cb.invert) cb.info.invflags |= INV;
  },
  check(info, ctx) {
    if (info.invflags & ~INV) return { errno: 'EINVAL' };
    return requireProto(ctx, 135);
  },
  print(info, { numeric }) {
    let s = ' mh';
    const [lo, hi] = info.types;
    const inv = info.invflags & INV ? '!' : '';
    if (lo !== 0 || hi !== 0xff || inv)
      s += ` ${inv}${typeText(lo, numeric)}${lo === hi ? '' : `:${typeText(hi, numeric)}`}`;
    return s + unknownInv(info.invflags, INV);
  },
  save(info) {
    const [lo, hi] = info.types;
    if (lo === 0 && hi === 0xff) return '';
    return `${info.invflags & INV ? ' !' : ''} --mh-type ${lo !== hi ? `${lo}:${hi}` : lo}`;
  },
});
