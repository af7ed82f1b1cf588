/**
 * The kernel's text search algorithms as the string match uses them on a
 * packet held in one block: Boyer-Moore ("bm"), Knuth-Morris-Pratt ("kmp")
 * and the token state machine ("fsm"), with the kernel's tables, its case
 * folding (the Latin-1 ctype of lib/ctype.c) and its quirks, so that a
 * pattern is found exactly when the kernel finds it.
 */

/** Kernel toupper() for every byte value: a-z and the Latin-1 lower-case letters. */
const UPPER = new Uint8Array(256);
/** Kernel tolower() for every byte value. */
const LOWER = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const lower = (c >= 0x61 && c <= 0x7a) || (c >= 0xdf && c <= 0xff && c !== 0xf7);
  const upper = (c >= 0x41 && c <= 0x5a) || (c >= 0xc0 && c <= 0xde && c !== 0xd7);
  UPPER[c] = lower ? c - 32 : c;
  LOWER[c] = upper ? c + 32 : c;
}

/** A prepared search: `find` returns the offset of the first occurrence in text[from, end), or -1. */
export interface TextSearch {
  readonly patlen: number;
  find(text: Uint8Array, from: number, end: number): number;
}

/** Boyer-Moore as lib/ts_bm.c prepares and runs it. */
class BoyerMoore implements TextSearch {
  readonly patlen: number;
  private readonly pattern: Uint8Array;
  private readonly badShift = new Int32Array(256);
  private readonly goodShift: Int32Array;

  constructor(
    pattern: readonly number[],
    private readonly icase: boolean,
  ) {
    const len = pattern.length;
    this.patlen = len;
    this.pattern = Uint8Array.from(pattern, (b) => (icase ? UPPER[b & 0xff]! : b & 0xff));
    const p = this.pattern;
    this.badShift.fill(len);
    for (let i = 0; i < len - 1; i++) {
      this.badShift[p[i]!] = len - 1 - i;
      if (icase) this.badShift[LOWER[p[i]!]!] = len - 1 - i;
    }
    const good = new Int32Array(len);
    good[0] = 1;
    for (let i = 1; i < len; i++) good[i] = len;
    for (let i = len - 1, g = 1; i > 0; g++, i--) {
      for (let j = i - 1; j >= 1 - g; j--) {
        if (this.subpattern(i, j, g)) {
          good[g] = len - j - g;
          break;
        }
      }
    }
    this.goodShift = good;
  }

  /** ts_bm's subpattern(): whether the g bytes ending at i-1+g reoccur ending at j-1+g. */
  private subpattern(i: number, j: number, g: number): boolean {
    const p = this.pattern;
    let x = i + g - 1;
    let y = j + g - 1;
    for (;;) {
      const same = p[x--] === p[y--];
      if (!same) return false;
      if (y < 0) return true;
      if (--g === 0) return p[i - 1] !== p[j - 1];
    }
  }

  find(text: Uint8Array, from: number, end: number): number {
    const len = this.patlen;
    const p = this.pattern;
    const textLen = end - from;
    let shift = len - 1;
    while (shift < textLen) {
      let i = 0;
      for (; i < len; i++) {
        let t = text[from + shift - i]!;
        if (this.icase) t = UPPER[t]!;
        if (t !== p[len - 1 - i]) break;
      }
      if (i === len) return shift + 1 - len;
      const bs = this.badShift[text[from + shift - i]!]!;
      shift = Math.max(shift - i + bs, shift + this.goodShift[i]!);
    }
    return -1;
  }
}

/** Knuth-Morris-Pratt as lib/ts_kmp.c prepares and runs it. */
class KnuthMorrisPratt implements TextSearch {
  readonly patlen: number;
  private readonly pattern: Uint8Array;
  private readonly prefix: Int32Array;

  constructor(
    pattern: readonly number[],
    private readonly icase: boolean,
  ) {
    const len = pattern.length;
    this.patlen = len;
    const fold = (b: number) => (icase ? UPPER[b & 0xff]! : b & 0xff);
    // the prefix table is computed on the folded pattern, as compute_prefix_tbl does
    const prefix = new Int32Array(len);
    for (let k = 0, q = 1; q < len; q++) {
      while (k > 0 && fold(pattern[k]!) !== fold(pattern[q]!)) k = prefix[k - 1]!;
      if (fold(pattern[k]!) === fold(pattern[q]!)) k++;
      prefix[q] = k;
    }
    this.prefix = prefix;
    this.pattern = Uint8Array.from(pattern, fold);
  }

  find(text: Uint8Array, from: number, end: number): number {
    const p = this.pattern;
    const len = this.patlen;
    let q = 0;
    for (let i = from; i < end; i++) {
      const c = this.icase ? UPPER[text[i]!]! : text[i]!;
      while (q > 0 && p[q] !== c) q = this.prefix[q - 1]!;
      if (p[q] === c) q++;
      if (q === len) return i + 1 - len - from;
    }
    return -1;
  }
}

// ctype classes of lib/ts_fsm.c's lookup table
const C_U = 0x01, C_L = 0x02, C_D = 0x04, C_C = 0x08, C_P = 0x10, C_S = 0x20, C_X = 0x40, C_SP = 0x80, C_A = 0x100, C_W = 0x200;

/** What each token type (TS_FSM_*) accepts, as class bits; 0 means "this exact byte". */
const TOKEN_CLASSES = [0, C_W, C_D, C_D | C_X, C_P | C_U | C_L | C_D | C_SP, C_U | C_L, C_U | C_L | C_D, C_A, C_C, C_P | C_U | C_L | C_D, C_L, C_U, C_P, C_S];

/** The class bits of every byte value (ts_fsm's token_lookup_tbl). */
const BYTE_CLASSES = new Uint16Array(256);
for (let c = 0; c < 256; c++) {
  let v = C_W;
  if (c < 128) v |= C_A;
  if (c < 32 || c === 127) v |= C_C;
  if ((c >= 9 && c <= 13) || c === 32 || c === 160) v |= C_S;
  if (c === 32 || c === 160) v |= C_SP;
  if (c >= 0x30 && c <= 0x39) v |= C_D;
  if ((c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)) v |= C_X;
  if ((c >= 0x41 && c <= 0x5a) || (c >= 0xc0 && c <= 0xde && c !== 0xd7)) v |= C_U;
  if ((c >= 0x61 && c <= 0x7a) || (c >= 0xdf && c <= 0xff && c !== 0xf7)) v |= C_L;
  const punct = (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126) || (c >= 161 && c <= 191) || c === 0xd7 || c === 0xf7;
  if (punct) v |= C_P;
  BYTE_CLASSES[c] = v;
}

/** Token repetitions (TS_FSM_SINGLE ... TS_FSM_HEAD_IGNORE). */
const SINGLE = 0, PERHAPS = 1, ANY = 2, MULTI = 3, HEAD_IGNORE = 4;

interface FsmToken {
  classes: number;
  recur: number;
  value: number;
}

/**
 * The finite state machine of lib/ts_fsm.c: tokens of (type, repetition,
 * byte); strict unless the first token ignores a head; the tokens must
 * account for the data to its end, and a mismatch starts over one byte
 * after the byte that failed.
 */
class FiniteStateMachine implements TextSearch {
  readonly patlen: number;
  private readonly tokens: FsmToken[] = [];

  constructor(pattern: readonly number[]) {
    // the length skb_find_text checks against is the pattern's, in bytes
    this.patlen = pattern.length;
    for (let i = 0; i + 4 <= pattern.length; i += 4) {
      const type = pattern[i]! | (pattern[i + 1]! << 8);
      this.tokens.push({ classes: TOKEN_CLASSES[type] ?? 0, recur: pattern[i + 2]!, value: pattern[i + 3]! });
    }
  }

  private static accepts(t: FsmToken, b: number): boolean {
    return t.classes !== 0 ? (BYTE_CLASSES[b]! & t.classes) !== 0 : t.value === b;
  }

  find(text: Uint8Array, from: number, end: number): number {
    const toks = this.tokens;
    const n = toks.length;
    if (from >= end) return -1;
    const strict = toks[0]!.recur !== HEAD_IGNORE;
    const ok = FiniteStateMachine.accepts;
    let i = from;
    startover: for (;;) {
      let matchStart = i;
      for (let k = 0; k < n; k++) {
        const cur = toks[k]!;
        const next = k < n - 1 ? toks[k + 1]! : null;
        switch (cur.recur) {
          case SINGLE:
            if (i >= end) return -1;
            if (!ok(cur, text[i]!)) {
              if (strict) return -1;
              i++;
              continue startover;
            }
            break;
          case PERHAPS:
            if (i >= end || !ok(cur, text[i]!)) continue;
            break;
          case MULTI:
          case ANY:
            if (cur.recur === MULTI) {
              if (i >= end) return -1;
              if (!ok(cur, text[i]!)) {
                if (strict) return -1;
                i++;
                continue startover;
              }
              i++;
            }
            if (next === null) return matchStart - from;
            if (i >= end) continue;
            while (!ok(next, text[i]!)) {
              if (!ok(cur, text[i]!)) {
                if (strict) return -1;
                i++;
                continue startover;
              }
              i++;
              if (i >= end) return -1;
            }
            continue;
          case HEAD_IGNORE:
            if (i >= end) continue;
            while (!ok(next!, text[i]!)) {
              if (!ok(cur, text[i]!)) return -1;
              i++;
              if (i >= end) return -1;
            }
            matchStart = i;
            continue;
        }
        i++;
      }
      return i >= end ? matchStart - from : -1;
    }
  }
}

/** A prepared search for `algo` ('bm', 'kmp' or 'fsm'); undefined for other algorithms or an empty pattern. */
export function prepareSearch(algo: string, pattern: readonly number[], icase: boolean): TextSearch | undefined {
  if (pattern.length === 0) return undefined;
  if (algo === 'bm') return new BoyerMoore(pattern, icase);
  if (algo === 'kmp') return new KnuthMorrisPratt(pattern, icase);
  if (algo === 'fsm' && pattern.length % 4 === 0 && !icase) return new FiniteStateMachine(pattern);
  return undefined;
}

/**
 * skb_find_text on a linear packet: the search runs from `from` to the end
 * of the packet, and counts only when the first occurrence ends at or
 * before `to`.
 */
export function findText(search: TextSearch, data: Uint8Array, from: number, to: number): boolean {
  if (from >= data.length || from >= to) return false;
  const pos = search.find(data, from, data.length);
  return pos >= 0 && pos + search.patlen <= to - from;
}
