/**
 * The comment match: a text of up to 255 bytes carried by the rule and
 * printed back ("/* text *\/" in -L, --comment with iptables-save quoting).
 * iptables-nft 1.8.9 keeps it as an xt match, so it stays where it was
 * given among the rule's matches.
 */
import { defineMatch } from '../index-types.js';
import { saveString } from './conn-util.js';

/** xt_comment_info. */
export interface CommentInfo {
  comment: string;
}

/** XT_MAX_COMMENT_LEN: the buffer, terminator included. */
const MAX_COMMENT_LEN = 256;

/** Cuts `text` to at most `max` UTF-8 bytes (whole characters only). */
export function truncateBytes(text: string, max: number): string {
  const enc = new TextEncoder();
  if (enc.encode(text).length <= max) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const n = enc.encode(ch).length;
    if (used + n > max) break;
    out += ch;
    used += n;
  }
  return out;
}

/** What `iptables -m comment -h` adds after the general help. */
const HELP =
  'comment match options:\n' +
  '--comment COMMENT             Attach a comment to a rule\n';

/** The comment match (-m comment). */
export const comment = defineMatch<CommentInfo>({
  name: 'comment',
  help: () => HELP,
  options: [{ name: 'comment', id: 0, type: 'string', mandatory: true }],
  init: () => ({ comment: '' }),
  parse(cb) {
    cb.parseGeneric();
    // XTOPT_PUT into a 256-byte buffer: longer texts are silently cut
    cb.info.comment = truncateBytes(cb.arg ?? '', MAX_COMMENT_LEN - 1);
  },
  print: (info) => ` /* ${info.comment} */`,
  save: (info) => ` --comment${saveString(info.comment)}`,
  match: () => true,
});
