/**
 * The hbh and dst matches (libip6t_hbh, libip6t_dst): the IPv6 hop-by-hop
 * and destination options headers, by length and by a list of option types
 * with optional lengths. Both share the kernel's struct ip6t_opts and
 * differ only in option names and two messages. IPv6 only.
 */
import { scanUnsigned } from '../../util/cnum.js';
import { defineMatch, paramError, type MatchDef } from '../index-types.js';
import { IP6_HELP } from '../ip6-help.js';
import { unknownInv } from './spi.js';

/** struct ip6t_opts. */
export interface OptsInfo {
  hdrlen: number;
  /** IP6T_OPTS_* bits. */
  flags: number;
  /** IP6T_OPTS_INV_* bits. */
  invflags: number;
  /** Options as type << 8 | length (0xff: any length). */
  opts: number[];
}

/** IP6T_OPTS_* flag bits. */
export const OPTS = { LEN: 0x01, OPTS: 0x02, NSTRICT: 0x04 } as const;
const INV_LEN = 0x01;
const INV_MASK = 0x01;
/** Most options a rule may list (IP6T_OPTS_OPTSNR). */
const OPTSNR = 16;

/** parse_opts_num: strtoul base 0 over the whole word. */
function optsNum(ext: string, word: string, what: string): number {
  const r = scanUnsigned(word, 0);
  if (!r.ok) throw paramError(`${ext}: no valid digits in ${what} \`${word}'`);
  if (r.value === Infinity) throw paramError(`${what} \`${word}' specified too big: would overflow`);
  if (word !== '' && r.end !== word.length) throw paramError(`${ext}: error parsing ${what} \`${word}'`);
  // only the low byte is kept; strtoul negates modulo 2^64
  return r.negative ? Number(BigInt.asUintN(8, -BigInt(r.value))) : r.value % 256;
}

/** parse_options: "type[:len],..." into type << 8 | len words. */
function parseOpts(ext: string, text: string, pad0: string): number[] {
  const out: number[] = [];
  let rest: string | undefined = text;
  while (rest !== undefined && out.length < OPTSNR) {
    const comma = rest.indexOf(',');
    let item = comma < 0 ? rest : rest.slice(0, comma);
    rest = comma < 0 ? undefined : rest.slice(comma + 1);
    const colon = item.indexOf(':');
    let len: string | undefined;
    if (colon >= 0) {
      if (out.length === OPTSNR - 1) throw paramError('too many ports specified');
      len = item.slice(colon + 1);
      item = item.slice(0, colon);
    }
    let word = (optsNum(ext, item, 'opt') & 0xff) << 8;
    if (len !== undefined) {
      if (word === 0) throw paramError(pad0);
      word |= optsNum(ext, len, 'length') & 0xff;
    } else word |= 0xff;
    out.push(word);
  }
  if (rest !== undefined) throw paramError('too many addresses specified');
  return out;
}

function printOpts(opts: readonly number[]): string {
  return opts.map((o, i) => `${i === 0 ? ' ' : ','}${o >> 8}${(o & 0xff) !== 0xff ? `:${o & 0xff}` : ''}`).join('');
}

/** Builds the hbh or dst match. */
function optsMatch(name: 'hbh' | 'dst', pad0: string): MatchDef<OptsInfo> {
  return defineMatch<OptsInfo>({
    name,
    family: 'ipv6',
    help: () => IP6_HELP[name]!,
    options: [
      { name: `${name}-len`, id: 0, type: 'uint32', invert: true },
      { name: `${name}-opts`, id: 1, type: 'string' },
    ],
    init: () => ({ hdrlen: 0, flags: 0, invflags: 0, opts: [] }),
    parse(cb) {
      cb.parseGeneric();
      const info = cb.info;
      if (cb.entry.id === 0) {
        info.hdrlen = cb.val.num!;
        if (cb.invert) info.invflags |= INV_LEN;
        info.flags |= OPTS.LEN;
      } else {
        info.opts = parseOpts(name, cb.arg!, pad0);
        info.flags |= OPTS.OPTS;
      }
    },
    check(info) {
      if (info.invflags & ~INV_MASK) return { errno: 'EINVAL' };
      if (info.flags & OPTS.NSTRICT) return { errno: 'EINVAL' };
      return undefined;
    },
    print(info) {
      let s = ` ${name}`;
      if (info.flags & OPTS.LEN) s += ` length:${info.invflags & INV_LEN ? '!' : ''}${info.hdrlen}`;
      if (info.flags & OPTS.OPTS) s += ' opts';
      return s + printOpts(info.opts) + unknownInv(info.invflags, INV_MASK);
    },
    save(info) {
      let s = '';
      if (info.flags & OPTS.LEN) s += `${info.invflags & INV_LEN ? ' !' : ''} --${name}-len ${info.hdrlen}`;
      if (info.flags & OPTS.OPTS) s += ` --${name}-opts`;
      return s + printOpts(info.opts);
    },
  });
}

/** The hbh match (hop-by-hop options header). */
export const hbh = optsMatch('hbh', 'PAD0 has not got length');
/** The dst match (destination options header). */
export const dst = optsMatch('dst', "PAD0 hasn't got length");
