/**
 * Pieces of tcpdump's output that are not protocol specific: the hex and
 * hex-and-ASCII dumps of -x/-X, the first text line of line-based
 * protocols (FTP, HTTP, SMTP), and printable renderings of bytes.
 */

const HEX = '0123456789abcdef';

function hex2(b: number): string {
  return HEX[b >>> 4]! + HEX[b & 15]!;
}

/** Whether `c` is a printable ASCII character other than space (isgraph). */
function isGraph(c: number): boolean {
  return c > 0x20 && c < 0x7f;
}

/** Whether `c` is printable ASCII, space included (isprint). */
export function isPrint(c: number): boolean {
  return c >= 0x20 && c < 0x7f;
}

/**
 * The -x dump of `buf[from, to)`: lines of eight 16-bit groups, each line
 * starting with `indent` and the offset ("\n\t0x0000:  4500 0054 ...").
 */
export function hexDump(buf: Uint8Array, from: number, to: number, indent = '\n\t'): string {
  let s = '';
  const len = to - from;
  let i = 0;
  let off = 0;
  for (let k = 0; k + 1 < len; k += 2) {
    if (i++ % 8 === 0) {
      s += `${indent}0x${off.toString(16).padStart(4, '0')}: `;
      off += 16;
    }
    s += ' ' + hex2(buf[from + k]!) + hex2(buf[from + k + 1]!);
  }
  if (len & 1) {
    if (i % 8 === 0) s += `${indent}0x${off.toString(16).padStart(4, '0')}: `;
    s += ' ' + hex2(buf[to - 1]!);
  }
  return s;
}

/** The -X dump of `buf[from, to)`: the hex groups padded to 40 columns, then the bytes as ASCII ('.' for the rest). */
export function hexAsciiDump(buf: Uint8Array, from: number, to: number, indent = '\n\t'): string {
  let s = '';
  let hex = '';
  let ascii = '';
  let groups = 0;
  let off = 0;
  const flush = () => {
    s += `${indent}0x${off.toString(16).padStart(4, '0')}: ${hex.padEnd(40)}  ${ascii}`;
    off += 16;
    hex = '';
    ascii = '';
    groups = 0;
  };
  const len = to - from;
  for (let k = 0; k + 1 < len; k += 2) {
    const a = buf[from + k]!;
    const b = buf[from + k + 1]!;
    hex += ' ' + hex2(a) + hex2(b);
    ascii += (isGraph(a) ? String.fromCharCode(a) : '.') + (isGraph(b) ? String.fromCharCode(b) : '.');
    if (++groups >= 8) flush();
  }
  if (len & 1) {
    const a = buf[to - 1]!;
    hex += ' ' + hex2(a);
    ascii += isGraph(a) ? String.fromCharCode(a) : '.';
    groups++;
  }
  if (groups > 0) flush();
  return s;
}

/** One byte as tcpdump shows untrusted text: "M-" for the high bit, "^X" for control characters. */
export function printableChar(c: number): string {
  let s = '';
  if (c > 0x7f) {
    c &= 0x7f;
    s += 'M-';
  }
  if (!isPrint(c)) {
    c ^= 0x40;
    s += '^';
  }
  return s + String.fromCharCode(c);
}

/** Thrown when a text line runs past the captured bytes. */
class CutShort extends Error {}

/**
 * One text line of `buf[idx, end)` as tcpdump's line printer takes it: the
 * line (without its LF or CR-LF) and the index after it; null when the
 * bytes are not a printable line; `truncated` when the text is all
 * printable but has no line end. Reading past `capEnd` throws CutShort.
 */
function textLine(buf: Uint8Array, idx: number, end: number, capEnd: number): { text: string; next: number; truncated: boolean } | null {
  const start = idx;
  while (idx < end) {
    if (idx >= capEnd) throw new CutShort();
    const c = buf[idx]!;
    if (c === 0x0a) return { text: ascii(buf, start, idx), next: idx + 1, truncated: false };
    if (c === 0x0d) {
      if (idx + 1 >= end) return null;
      if (idx + 1 >= capEnd) throw new CutShort();
      if (buf[idx + 1] === 0x0a) return { text: ascii(buf, start, idx), next: idx + 2, truncated: false };
      return null;
    }
    if (!isPrint(c) && c !== 0x09) return null;
    idx++;
  }
  return { text: ascii(buf, start, end), next: 0, truncated: true };
}

function ascii(buf: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/** Reads one whitespace-delimited token at `idx` (tcpdump's fetch_token); null when none. */
function fetchToken(buf: Uint8Array, idx: number, end: number): { token: string; next: number } | null {
  let tok = '';
  for (; idx < end; idx++) {
    const c = buf[idx]!;
    if (c > 0x7f) return null;
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
    if (!isPrint(c)) return null;
    if (tok.length + 2 > 128) return null;
    tok += String.fromCharCode(c);
  }
  if (tok === '') return null;
  for (; idx < end; idx++) {
    const c = buf[idx]!;
    if (c === 0x0d || c === 0x0a) break;
    if (!isPrint(c)) break;
    if (c !== 0x20 && c !== 0x09) break;
  }
  return { token: tok, next: idx };
}

/** HTTP request methods tcpdump recognises at the start of a segment. */
export const HTTP_COMMANDS = [
  'GET', 'PUT', 'COPY', 'HEAD', 'LOCK', 'MOVE', 'POLL', 'POST', 'BCOPY', 'BMOVE', 'MKCOL', 'TRACE', 'LABEL', 'MERGE',
  'DELETE', 'SEARCH', 'UNLOCK', 'REPORT', 'UPDATE', 'NOTIFY', 'BDELETE', 'CONNECT', 'OPTIONS', 'CHECKIN', 'PROPFIND',
  'CHECKOUT', 'CCM_POST', 'SUBSCRIBE', 'PROPPATCH', 'BPROPFIND', 'BPROPPATCH', 'UNCHECKOUT', 'MKACTIVITY',
  'MKWORKSPACE', 'UNSUBSCRIBE', 'RPC_CONNECT', 'VERSION-CONTROL', 'BASELINE-CONTROL',
];

/**
 * A line-based protocol's summary (tcpdump's txtproto_print): the protocol
 * name in capitals, then at default verbosity ": " and the first line; with
 * -v ", length: N" and every printable line on its own "\n\t" line. With
 * `commands`, only segments starting with one of them or a three-digit
 * code (`codeSecond`: as the second token) get their text printed. `len`
 * is the payload's length on the wire, `capEnd` where the captured bytes
 * end; running into it ends the text with " [|name]" and calls `onCut`.
 */
export function textProtocol(
  name: string,
  buf: Uint8Array,
  from: number,
  len: number,
  capEnd: number,
  verbose: number,
  onCut: () => void,
  commands?: readonly string[],
  codeSecond = false,
): string {
  const end = from + len;
  const tokEnd = Math.min(end, capEnd);
  let printThis = true;
  if (commands) {
    printThis = false;
    let t = fetchToken(buf, from, tokEnd);
    if (t) {
      const up = t.token.toUpperCase();
      if (commands.includes(up)) printThis = true;
      if (codeSecond) t = fetchToken(buf, t.next, tokEnd);
      if (t && /^[0-9]{3}$/.test(t.token)) printThis = true;
    }
  }
  let s = name.toUpperCase();
  if (!printThis) return s;
  try {
    if (verbose) {
      s += `, length: ${len}`;
      let idx = from;
      while (idx < end) {
        const l = textLine(buf, idx, end, capEnd);
        if (!l) break;
        s += '\n\t' + l.text;
        if (l.truncated) {
          s += ` [|${name}]`;
          break;
        }
        idx = l.next;
      }
      return s;
    }
    const l = textLine(buf, from, end, capEnd);
    if (l) s += ': ' + l.text + (l.truncated ? ` [|${name}]` : '');
    return s;
  } catch (e) {
    if (!(e instanceof CutShort)) throw e;
    onCut();
    return s + ` [|${name}]`;
  }
}

/** The -A dump of `buf[from, to)`: a newline, then the bytes as text ('.' for what is not printable; line-ending CRs dropped). */
export function asciiDump(buf: Uint8Array, from: number, to: number): string {
  let s = '\n';
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c === 0x0d) {
      // A CR is shown as '.' only inside a line (more than one byte left, no LF next).
      if (to - i - 1 > 1 && buf[i + 1] !== 0x0a) s += '.';
    } else if (!isGraph(c) && c !== 0x09 && c !== 0x20 && c !== 0x0a) s += '.';
    else s += String.fromCharCode(c);
  }
  return s;
}
