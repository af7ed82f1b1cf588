/**
 * The string match (revision 1): searches the packet between --from and
 * --to for a pattern given as text (--string) or with |hex| blocks
 * (--hex-string), with the kernel's bm, kmp or fsm text search.
 */
import { defineMatch, paramError } from '../index-types.js';
import { RATE_HELP } from '../rate-help.js';
import { findText, prepareSearch, type TextSearch } from './textsearch.js';

/** xt_string_info (revision 1). */
export interface StringInfo {
  fromOffset: number;
  toOffset: number;
  /** Text search algorithm name. */
  algo: string;
  /** Pattern bytes (at most 128). */
  pattern: number[];
  /** XT_STRING_FLAG_* bits. */
  flags: number;
}

/** XT_STRING_FLAG_*. */
export const STRING_FLAG = { INVERT: 1, IGNORECASE: 2 } as const;
/** XT_STRING_MAX_PATTERN_SIZE. */
const MAX_PATTERN = 128;
/** XT_STRING_MAX_ALGO_NAME_SIZE. */
const MAX_ALGO = 16;
const O = { FROM: 0, TO: 1, ALGO: 2, ICASE: 3, STRING: 4, HEX_STRING: 5 } as const;

const utf8 = new TextEncoder();

/** The bytes of a command-line word. */
function bytesOf(s: string): number[] {
  return [...utf8.encode(s)];
}

/** A byte as %c prints it (ASCII shown as itself). */
const charOf = (b: number) => String.fromCharCode(b);

/** parse_hex_string: text with |hex hex| blocks and \-escaped literals. */
function parseHexString(arg: string): number[] {
  const s = bytesOf(arg);
  const slen = s.length;
  if (slen === 0) throw paramError('STRING must contain at least one char');
  const out: number[] = [];
  const BS = 0x5c;
  const BAR = 0x7c;
  const SP = 0x20;
  const isXdigit = (b: number | undefined) => b !== undefined && /[0-9a-fA-F]/.test(charOf(b));
  let i = 0;
  let hex = false;
  let literal = false;
  while (i < slen) {
    if (out.length >= MAX_PATTERN) throw paramError(`STRING too long "${arg}"`);
    if (s[i] === BS && !hex) {
      literal = true;
    } else if (s[i] === BS) {
      throw paramError('Cannot include literals in hex data');
    } else if (s[i] === BAR) {
      if (hex) hex = false;
      else {
        hex = true;
        while (s[i + 1] === SP) i++;
      }
      if (i + 1 >= slen) break;
      i++;
    }
    if (literal) {
      if (i + 1 >= slen) throw paramError('Bad literal placement at end of string');
      out.push(s[i + 1]!);
      i += 2;
      literal = false;
    } else if (hex) {
      if (i + 1 >= slen) throw paramError('Odd number of hex digits');
      if (i + 2 >= slen) throw paramError('Invalid hex block');
      if (!isXdigit(s[i])) throw paramError(`Invalid hex char '${charOf(s[i]!)}'`);
      if (!isXdigit(s[i + 1])) throw paramError(`Invalid hex char '${charOf(s[i + 1]!)}'`);
      out.push(parseInt(charOf(s[i]!) + charOf(s[i + 1]!), 16));
      i += s[i + 2] === SP ? 3 : 2;
    } else {
      out.push(s[i]!);
      i++;
    }
  }
  return out;
}

/** Whether the save form must use hex: a byte outside printable ASCII, or a trailing backslash. */
function needsHex(p: number[]): boolean {
  if (p.some((b) => b < 0x20 || b > 0x7e)) return true;
  return p.length > 0 && p[p.length - 1] === 0x5c;
}

/** The pattern as a quoted argument: "|hex|" or "text" with \" and \\ escaped. */
function quotePattern(p: number[]): string {
  if (needsHex(p)) return ` "|${p.map((b) => b.toString(16).padStart(2, '0')).join('')}|"`;
  return ` "${p.map((b) => (b === 0x22 || b === 0x5c ? '\\' : '') + charOf(b)).join('')}"`;
}

/** What the kernel's textsearch_prepare says about the pattern; an errno name or undefined. */
function textsearchError(info: StringInfo): string | undefined {
  const len = info.pattern.length;
  switch (info.algo) {
    case 'bm':
    case 'kmp':
      return len === 0 ? 'EINVAL' : undefined;
    case 'fsm': {
      // struct ts_fsm_token { u16 type; u8 recur; u8 value; }, little-endian.
      if (len === 0 || len % 4 !== 0) return 'EINVAL';
      if (info.flags & STRING_FLAG.IGNORECASE) return 'EINVAL';
      const n = len / 4;
      for (let t = 0; t < n; t++) {
        const type = info.pattern[4 * t]! | (info.pattern[4 * t + 1]! << 8);
        const recur = info.pattern[4 * t + 2]!;
        if (type > 13 || recur > 4) return 'EINVAL';
        if (recur === 4 && (t !== 0 || t === n - 1)) return 'EINVAL';
      }
      return undefined;
    }
    default:
      return len === 0 ? 'EINVAL' : 'ENOENT';
  }
}

/** The string match extension. */
export const string = defineMatch<StringInfo>({
  name: 'string',
  help: () => RATE_HELP['string']!,
  revision: 1,
  options: [
    { name: 'from', id: O.FROM, type: 'uint16' },
    { name: 'to', id: O.TO, type: 'uint16' },
    { name: 'algo', id: O.ALGO, type: 'string', mandatory: true, size: MAX_ALGO },
    { name: 'string', id: O.STRING, type: 'string', invert: true, excl: [O.HEX_STRING] },
    { name: 'hex-string', id: O.HEX_STRING, type: 'string', invert: true, excl: [O.STRING] },
    { name: 'icase', id: O.ICASE, type: 'none' },
  ],
  init: () => ({ fromOffset: 0, toOffset: 0xffff, algo: '', pattern: [], flags: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    switch (cb.entry.id) {
      case O.FROM:
        info.fromOffset = cb.val.num!;
        break;
      case O.TO:
        info.toOffset = cb.val.num!;
        break;
      case O.ALGO:
        info.algo = cb.val.str!;
        break;
      case O.STRING: {
        const bytes = bytesOf(cb.arg!);
        if (bytes.length > MAX_PATTERN) throw paramError(`STRING too long "${cb.arg}"`);
        const nul = bytes.indexOf(0);
        info.pattern = nul >= 0 ? bytes.slice(0, nul) : bytes;
        if (cb.invert) info.flags |= STRING_FLAG.INVERT;
        break;
      }
      case O.HEX_STRING:
        info.pattern = parseHexString(cb.arg!);
        if (cb.invert) info.flags |= STRING_FLAG.INVERT;
        break;
      case O.ICASE:
        info.flags |= STRING_FLAG.IGNORECASE;
        break;
    }
  },
  final(cb) {
    if (!(cb.xflags & ((1 << O.STRING) | (1 << O.HEX_STRING))))
      throw paramError("STRING match: You must specify `--string' or `--hex-string'");
  },
  check(info) {
    if (info.fromOffset > info.toOffset) return { errno: 'EINVAL' };
    const err = textsearchError(info);
    return err ? { errno: err } : undefined;
  },
  print(info) {
    let s = ` STRING match ${info.flags & STRING_FLAG.INVERT ? '!' : ''}${quotePattern(info.pattern)}`;
    s += ` ALGO name ${info.algo}`;
    if (info.fromOffset !== 0) s += ` FROM ${info.fromOffset}`;
    if (info.toOffset !== 0xffff) s += ` TO ${info.toOffset}`;
    if (info.flags & STRING_FLAG.IGNORECASE) s += ' ICASE';
    return s;
  },
  save(info) {
    const inv = info.flags & STRING_FLAG.INVERT ? ' !' : '';
    let s = `${inv} --${needsHex(info.pattern) ? 'hex-string' : 'string'}${quotePattern(info.pattern)}`;
    s += ` --algo ${info.algo}`;
    if (info.fromOffset !== 0) s += ` --from ${info.fromOffset}`;
    if (info.toOffset !== 0xffff) s += ` --to ${info.toOffset}`;
    if (info.flags & STRING_FLAG.IGNORECASE) s += ' --icase';
    return s;
  },
  match(info, ctx) {
    let search = prepared.get(info);
    if (search === undefined) {
      search = prepareSearch(info.algo, info.pattern, (info.flags & STRING_FLAG.IGNORECASE) !== 0) ?? null;
      prepared.set(info, search);
    }
    const found = search !== null && findText(search, ctx.skb.data, info.fromOffset, info.toOffset);
    return found !== ((info.flags & STRING_FLAG.INVERT) !== 0);
  },
});

/** Search tables prepared once per rule (textsearch_prepare at insert time). */
const prepared = new WeakMap<StringInfo, TextSearch | null>();
