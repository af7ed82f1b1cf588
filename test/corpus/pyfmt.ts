/**
 * The few Python string behaviours the reference results were written with, so that nflab's outcome
 * text can be compared with the reference text byte for byte.
 */

/** Python `str.splitlines()`: split on every line boundary Python knows, drop the final empty piece. */
export function pySplitlines(s: string): string[] {
  if (s === '') return [];
  const parts = s.split(/\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/);
  if (/(?:\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029])$/.test(s)) parts.pop();
  return parts;
}

/** Python `str.strip()` (whitespace as Python's `str.isspace` sees it, ASCII + JS `\s`). */
export function pyStrip(s: string): string {
  return s.replace(/^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/g, '');
}

/** Python `repr()` of a str. */
export function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa1) || cp === 0xad) out += '\\x' + cp.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

/** Python `repr()` of a list of str. */
export function pyReprList(items: string[]): string {
  return '[' + items.map(pyRepr).join(', ') + ']';
}
