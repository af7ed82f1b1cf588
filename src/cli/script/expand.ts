/**
 * Word expansion for nflab scripts: parameters are replaced by their values,
 * and the values of unquoted parameters are split into fields at blanks, the
 * way the shell does with the default IFS. Nothing else is expanded.
 */
import type { WordToken } from './tokenize.js';

/** Looks up a parameter; undefined when it is unset. */
export type Lookup = (name: string) => string | undefined;

/** A parameter that `set -u` refuses to expand. */
export class UnboundVariable extends Error {
  constructor(
    /** The parameter's name. */
    readonly param: string,
  ) {
    super(`${param}: unbound variable`);
  }
}

function value(name: string, lookup: Lookup, nounset: boolean): string {
  const v = lookup(name);
  if (v === undefined && nounset && name !== '@' && name !== '*') throw new UnboundVariable(name);
  return v ?? '';
}

/** Expands a word into zero or more fields. */
export function expandWord(w: WordToken, lookup: Lookup, nounset = false): string[] {
  const fields: string[] = [];
  let cur = '';
  let has = false;
  for (const p of w.parts) {
    if (p.kind === 'text') {
      cur += p.text;
      has = true;
      continue;
    }
    const v = value(p.name, lookup, nounset);
    if (p.quoted) {
      cur += v;
      has = true;
      continue;
    }
    if (v === '') continue;
    v.split(/[ \t\n]+/).forEach((piece, k) => {
      if (k > 0) {
        if (has) fields.push(cur);
        cur = '';
        has = false;
      }
      if (piece !== '') {
        cur += piece;
        has = true;
      }
    });
  }
  if (has) fields.push(cur);
  return fields;
}

/** Expands a word as one string, without field splitting (assignment values). */
export function expandString(w: WordToken, lookup: Lookup, nounset = false): string {
  return w.parts.map((p) => (p.kind === 'text' ? p.text : value(p.name, lookup, nounset))).join('');
}

/**
 * When the word is an assignment (`NAME=value` with NAME unquoted), its name
 * and the word holding the value; otherwise undefined.
 */
export function splitAssignment(w: WordToken): { name: string; value: WordToken } | undefined {
  const first = w.parts[0];
  if (first?.kind !== 'text' || first.quoted) return undefined;
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=/.exec(first.text);
  if (!m) return undefined;
  const rest = first.text.slice(m[0].length);
  const parts = rest === '' ? w.parts.slice(1) : [{ ...first, text: rest }, ...w.parts.slice(1)];
  return { name: m[1]!, value: { kind: 'word', parts, line: w.line } };
}
