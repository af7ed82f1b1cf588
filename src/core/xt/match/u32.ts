/**
 * The u32 match: up to ten tests, each reading a 32-bit word at a location
 * computed with &, <<, >> and @ (follow a pointer) and comparing it with a
 * list of values and ranges.
 */
import { strtoulPrefix } from '../../util/cnum.js';
import { defineMatch, paramError } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** One location step: the operator joining it to the previous value, and its number. */
export interface U32Location {
  /** XT_U32_AND (0), LEFTSH (1), RIGHTSH (2), AT (3); unused for the first step. */
  nextop: number;
  number: number;
}

/** One test: a location and the accepted ranges. */
export interface U32Test {
  location: U32Location[];
  value: { min: number; max: number }[];
}

/** xt_u32 data (only the used tests, steps and values are kept). */
export interface U32Info {
  tests: U32Test[];
  invert: number;
}

/** XT_U32_MAXSIZE: tests per rule, and steps and values per test. */
const MAXSIZE = 10;

const OPS = ['&', '<<', '>>', '@'];

const isSpace = (c: string | undefined) => c !== undefined && ' \t\n\v\f\r'.includes(c);

/** Parses a u32 test expression with iptables' messages (character positions included). */
export function parseU32(arg: string): U32Test[] {
  const tests: U32Test[] = [];
  let ct: U32Test = { location: [], value: [] };
  let i = 0;
  let state = 0;
  const num = (): number => {
    const pos = i;
    const r = strtoulPrefix(arg.slice(i), 0, 0xffffffff);
    if (!r) throw paramError(`u32: at char ${pos}: not a number or out of range`);
    i += r.end;
    return r.value;
  };
  for (;;) {
    while (isSpace(arg[i])) i++;
    if (i >= arg.length) {
      if (state === 0) throw paramError('u32: abrupt end of input after location specifier');
      if (ct.value.length === 0) throw paramError('u32: test ended with no value specified');
      tests.push(ct);
      if (tests.length > MAXSIZE) throw paramError(`u32: at char ${i}: too many "&&"s`);
      return tests;
    }
    const c = arg[i];
    if (state === 0) {
      if (c === '=') {
        if (ct.location.length === 0) throw paramError(`u32: at char ${i}: location spec missing`);
        i++;
        state = 1;
        continue;
      }
      let nextop = 0;
      if (ct.location.length !== 0) {
        if (c === '&') nextop = 0;
        else if (c === '<' || c === '>') {
          i++;
          if (arg[i] !== c) throw paramError(`u32: at char ${i}: a second '${c}' was expected`);
          nextop = c === '<' ? 1 : 2;
        } else if (c === '@') nextop = 3;
        else throw paramError(`u32: at char ${i}: operator expected`);
        i++;
      }
      ct.location.push({ nextop, number: num() });
      if (ct.location.length > MAXSIZE) throw paramError(`u32: at char ${i}: too many operators`);
    } else if (c === '&') {
      i++;
      if (arg[i] !== '&') throw paramError(`u32: at char ${i}: a second '&' was expected`);
      if (ct.value.length === 0) throw paramError(`u32: at char ${i}: value spec missing`);
      tests.push(ct);
      ct = { location: [], value: [] };
      if (tests.length > MAXSIZE) throw paramError(`u32: at char ${i}: too many "&&"s`);
      i++;
      state = 0;
    } else {
      if (ct.value.length > 0) {
        if (c !== ',') throw paramError(`u32: at char ${i}: expected "," or "&&"`);
        i++;
      }
      const min = num();
      while (isSpace(arg[i])) i++;
      let max = min;
      if (arg[i] === ':') {
        i++;
        max = num();
      }
      ct.value.push({ min, max });
      if (ct.value.length > MAXSIZE) throw paramError(`u32: at char ${i}: too many ","s`);
    }
  }
}

const hex = (n: number) => `0x${n.toString(16)}`;

/** The quoted expression iptables prints back. */
function dump(info: U32Info): string {
  const parts = info.tests.map((t) => {
    let s = t.location.map((l, k) => (k ? OPS[l.nextop] ?? '' : '') + hex(l.number)).join('');
    s += '=' + t.value.map((v) => (v.min === v.max ? hex(v.min) : `${hex(v.min)}:${hex(v.max)}`)).join(',');
    return s;
  });
  return ` "${parts.join('&&')}"`;
}

/** The u32 match definition. */
export const u32 = defineMatch<U32Info>({
  name: 'u32',
  help: () => PROTO_HELP['u32']!,
  options: [{ name: 'u32', id: 0, type: 'string', mandatory: true, invert: true }],
  init: () => ({ tests: [], invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.invert = cb.invert ? 1 : 0;
    cb.info.tests = parseU32(cb.arg!);
  },
  print(info) {
    return ` u32${info.invert ? ' !' : ''}${dump(info)}`;
  },
  save(info) {
    return `${info.invert ? ' !' : ''} --u32${dump(info)}`;
  },
  match: (info, ctx) => u32Tests(info, ctx.skb.data) !== (info.invert !== 0),
});

/** The 32-bit big-endian word at `pos`. */
function word(d: Uint8Array, pos: number): number {
  return ((d[pos]! << 24) | (d[pos + 1]! << 16) | (d[pos + 2]! << 8) | d[pos + 3]!) >>> 0;
}

/** u32_match_it: every test's location read and its value in one of the ranges. */
function u32Tests(info: U32Info, d: Uint8Array): boolean {
  const len = d.length;
  for (const t of info.tests) {
    let at = 0;
    let pos = t.location[0]!.number >>> 0;
    if (len < 4 || pos > len - 4) return false;
    let val = word(d, pos);
    for (let i = 1; i < t.location.length; i++) {
      const n = t.location[i]!.number >>> 0;
      switch (t.location[i]!.nextop) {
        case 0:
          val = (val & n) >>> 0;
          break;
        case 1:
          val = (val << n) >>> 0;
          break;
        case 2:
          val = val >>> n;
          break;
        case 3: {
          // "@": move the base by the value read so far; all in unsigned 32-bit arithmetic
          if (at + val > 0xffffffff) return false;
          at += val;
          pos = n;
          if (at + 4 > 0xffffffff || len < at + 4 || pos > len - at - 4) return false;
          val = word(d, at + pos);
          break;
        }
      }
    }
    let hit = false;
    for (const v of t.value) {
      if ((v.min >>> 0) <= val && val <= (v.max >>> 0)) {
        hit = true;
        break;
      }
    }
    if (!hit) return false;
  }
  return true;
}
