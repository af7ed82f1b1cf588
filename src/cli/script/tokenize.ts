/**
 * The lexer of nflab scripts: the part of the POSIX shell language that
 * tutorial firewall scripts use. It turns a script into words and the
 * operators between them, keeping the line each one starts on:
 *
 * - blank lines, `#` comments (a `#` that starts a word; the `#!` line is one);
 * - single quotes (everything literal), double quotes (`\` escapes only
 *   `$`, `` ` ``, `"`, `\` and newline), a backslash outside quotes escaping
 *   the next character, and backslash-newline joining lines anywhere but
 *   inside single quotes;
 * - `$NAME`, `${NAME}`, `$1`..`$9`, `$?` and `$#` as parameters, expanded later;
 * - the separators `;` and newline and the lists `&&` and `||`.
 *
 * - `&` after a command (a background job) and the redirections `>`,
 *   `>>`, `<`, `N>` and `N>&M`.
 *
 * Pipelines, here-documents, subshells and command
 * substitution are refused with a message saying so, rather than being
 * misread as arguments. There is no globbing (`*`, `?` and `[...]` stay
 * literal, as when nothing matches) and no brace or tilde expansion.
 * A carriage return before a newline is ignored, so CRLF scripts work.
 */

/** Part of a word: literal text, or a parameter to expand. `quoted` parts are not split into fields. */
export type WordPart = { kind: 'text'; text: string; quoted: boolean } | { kind: 'param'; name: string; quoted: boolean };

/** A word and the line it starts on. */
export interface WordToken {
  kind: 'word';
  parts: WordPart[];
  line: number;
}

/** An operator: a separator (`;` or a newline, written '\n') or a list operator. */
export interface OpToken {
  kind: 'op';
  op: ';' | '\n' | '&&' | '||' | '&';
  line: number;
}

/**
 * A redirection: `> FILE`, `>> FILE`, `< FILE`, `2> FILE`, `2>&1`
 * (the target is the next word; for `>&` it names a descriptor).
 */
export interface RedirToken {
  kind: 'redir';
  fd: number;
  op: '>' | '>>' | '<' | '>&';
  line: number;
}

/** One token of a script. */
export type Token = WordToken | OpToken | RedirToken;

/** A script that cannot be read: the line and what is wrong there. */
export class ScriptSyntaxError extends Error {
  constructor(
    /** 1-based line number. */
    readonly line: number,
    message: string,
    /** The text ended in the middle of something (an open quote, a trailing `&&`): more lines would complete it. */
    readonly incomplete = false,
  ) {
    super(message);
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Splits a script into tokens; throws ScriptSyntaxError on what it cannot read. `firstLine` numbers the first line. */
export function tokenize(src: string, firstLine = 1): Token[] {
  const toks: Token[] = [];
  const n = src.length;
  let line = firstLine;
  let i = 0;
  let parts: WordPart[] | null = null;
  let wordLine = 0;

  const add = (part: WordPart): void => {
    if (!parts) {
      parts = [];
      wordLine = line;
    }
    const last = parts[parts.length - 1];
    if (part.kind === 'text' && last?.kind === 'text' && last.quoted === part.quoted) last.text += part.text;
    else parts.push(part);
  };
  const text = (t: string, quoted: boolean): void => add({ kind: 'text', text: t, quoted });
  const endWord = (): void => {
    if (parts) toks.push({ kind: 'word', parts, line: wordLine });
    parts = null;
  };
  const op = (o: OpToken['op']): void => {
    endWord();
    toks.push({ kind: 'op', op: o, line });
  };
  const unsupported = (what: string): never => {
    throw new ScriptSyntaxError(line, `${what} not supported by nflab scripts`);
  };

  /** Reads a `$...` at src[i]; returns the index after it. */
  const param = (quoted: boolean): number => {
    const next = src[i + 1];
    if (next === '{') {
      const close = src.indexOf('}', i + 2);
      const name = close < 0 ? '' : src.slice(i + 2, close);
      if (close < 0 || !(NAME.test(name) || /^([0-9]+|[?#])$/.test(name))) unsupported(`'\${...}' forms other than \${NAME} are`);
      add({ kind: 'param', name, quoted });
      return close + 1;
    }
    if (next !== undefined && /[A-Za-z_]/.test(next)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      add({ kind: 'param', name: src.slice(i + 1, j), quoted });
      return j;
    }
    if (next !== undefined && /[0-9?#]/.test(next)) {
      add({ kind: 'param', name: next, quoted });
      return i + 2;
    }
    if (next === '(') unsupported("command substitution '$(...)' is");
    text('$', quoted);
    return i + 1;
  };

  while (i < n) {
    const c = src[i]!;
    if (c === '\\') {
      const d = src[i + 1];
      if (d === '\n') {
        line++;
        i += 2;
      } else if (d === '\r' && src[i + 2] === '\n') {
        line++;
        i += 3;
      } else if (d === undefined) {
        text('\\', false);
        i++;
      } else {
        text(d, true);
        i += 2;
      }
    } else if (c === "'") {
      const close = src.indexOf("'", i + 1);
      if (close < 0) throw new ScriptSyntaxError(line, "unexpected end of file while looking for the matching `''", true);
      const body = src.slice(i + 1, close);
      text(body, true);
      line += body.split('\n').length - 1;
      i = close + 1;
    } else if (c === '"') {
      const start = line;
      text('', true);
      i++;
      for (;;) {
        if (i >= n) throw new ScriptSyntaxError(start, 'unexpected end of file while looking for the matching `"\'', true);
        const ch = src[i]!;
        if (ch === '"') {
          i++;
          break;
        }
        if (ch === '\\') {
          const d = src[i + 1];
          if (d === '\n') {
            line++;
            i += 2;
          } else if (d !== undefined && '$`"\\'.includes(d)) {
            text(d, true);
            i += 2;
          } else {
            text('\\', true);
            i++;
          }
        } else if (ch === '$') {
          i = param(true);
        } else if (ch === '`') {
          unsupported("command substitution '`...`' is");
        } else {
          if (ch === '\n') line++;
          text(ch, true);
          i++;
        }
      }
    } else if (c === '$') {
      i = param(false);
    } else if (c === '`') {
      unsupported("command substitution '`...`' is");
    } else if (c === ' ' || c === '\t') {
      endWord();
      i++;
    } else if (c === '\r' && src[i + 1] === '\n') {
      i++;
    } else if (c === '\n') {
      op('\n');
      line++;
      i++;
    } else if (c === '#' && !parts) {
      while (i < n && src[i] !== '\n') i++;
    } else if (c === ';') {
      if (src[i + 1] === ';') throw new ScriptSyntaxError(line, "syntax error near unexpected token `;;'");
      op(';');
      i++;
    } else if (c === '&') {
      if (src[i + 1] === '&') {
        op('&&');
        i += 2;
      } else {
        op('&');
        i++;
      }
    } else if (c === '|') {
      if (src[i + 1] !== '|') unsupported("pipelines '|' are");
      op('||');
      i += 2;
    } else if (c === '<' || c === '>') {
      // a word of one digit right before the operator names the descriptor (2>)
      let fd = c === '<' ? 0 : 1;
      const p = parts as WordPart[] | null;
      if (p && p.length === 1 && p[0]!.kind === 'text' && !p[0]!.quoted && /^[0-9]$/.test(p[0]!.text)) {
        fd = Number(p[0]!.text);
        parts = null;
      } else endWord();
      let o: RedirToken['op'] = c;
      i++;
      if (c === '>' && src[i] === '>') {
        o = '>>';
        i++;
      } else if (c === '>' && src[i] === '&') {
        o = '>&';
        i++;
      } else if (c === '<' && src[i] === '<') unsupported("here-documents '<<' are");
      toks.push({ kind: 'redir', fd, op: o, line });
    } else if (c === '(' || c === ')') {
      unsupported(`subshells '${c}' are`);
    } else {
      text(c, false);
      i++;
    }
  }
  endWord();
  return toks;
}

/** The text of a word without parameters (tests, messages); parameters appear as `${NAME}`. */
export function wordText(w: WordToken): string {
  return w.parts.map((p) => (p.kind === 'text' ? p.text : `\${${p.name}}`)).join('');
}
