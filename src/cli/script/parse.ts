/**
 * The grammar of nflab scripts over the lexer's tokens: simple commands
 * joined by `&&` and `||` into lists, lists separated by `;` or newlines.
 * A newline may follow `&&` or `||`, as in the shell. Compound commands
 * (if, for, while, case, functions, `{ }`, `!`) are refused up front, so a
 * script never half-runs before hitting something nflab cannot do.
 */
import { ScriptSyntaxError, tokenize, type RedirToken, type Token, type WordToken } from './tokenize.js';

/** A redirection of a command, its target unexpanded. */
export interface Redirect {
  fd: number;
  op: '>' | '>>' | '<' | '>&';
  target: WordToken;
}

/** A command: its words and redirections, unexpanded, and the line it starts on. */
export interface SimpleCommand {
  words: WordToken[];
  redirects: Redirect[];
  line: number;
}

/** `a && b || c`: commands and the operators between them (ops.length = commands.length - 1). */
export interface AndOrList {
  commands: SimpleCommand[];
  ops: ('&&' | '||')[];
  /** Ended by `&`: it runs in the background (a single command only). */
  background?: boolean;
}

/** Words the shell would read as the start of a compound command. */
const KEYWORDS = new Set(['if', 'then', 'else', 'elif', 'fi', 'for', 'while', 'until', 'do', 'done', 'case', 'esac', 'function', 'select', '{', '}', '!', '[[', ']]']);

function keyword(w: WordToken): string | undefined {
  const p = w.parts;
  if (p.length === 1 && p[0]!.kind === 'text' && !p[0]!.quoted && KEYWORDS.has(p[0]!.text)) return p[0]!.text;
  if (p.length === 1 && p[0]!.kind === 'text' && !p[0]!.quoted && /^[A-Za-z_][A-Za-z0-9_]*\(\)$/.test(p[0]!.text)) return 'function';
  return undefined;
}

/** Parses a token list into and-or lists; throws ScriptSyntaxError. */
export function parseTokens(tokens: Token[]): AndOrList[] {
  const lists: AndOrList[] = [];
  let cur: AndOrList | null = null;
  let words: WordToken[] = [];
  let redirects: Redirect[] = [];
  let pendingRedir: RedirToken | null = null;
  let pendingOp = false;

  const endCommand = (): void => {
    const kw = keyword(words[0]!);
    if (kw !== undefined) throw new ScriptSyntaxError(words[0]!.line, `shell keyword '${kw}' (compound commands) not supported by nflab scripts`);
    cur ??= { commands: [], ops: [] };
    cur.commands.push({ words, redirects, line: words[0]!.line });
    words = [];
    redirects = [];
    pendingOp = false;
  };

  for (const t of tokens) {
    if (pendingRedir) {
      if (t.kind !== 'word') throw new ScriptSyntaxError(t.line, `syntax error near unexpected token \`${t.kind === 'op' ? (t.op === '\n' ? 'newline' : t.op) : t.op}'`);
      redirects.push({ fd: pendingRedir.fd, op: pendingRedir.op, target: t });
      pendingRedir = null;
      continue;
    }
    if (t.kind === 'redir') {
      if (words.length === 0) throw new ScriptSyntaxError(t.line, 'redirections before the command are not supported by nflab scripts');
      pendingRedir = t;
      continue;
    }
    if (t.kind === 'word') {
      words.push(t);
    } else if (t.op === '&&' || t.op === '||') {
      if (words.length === 0) throw new ScriptSyntaxError(t.line, `syntax error near unexpected token \`${t.op}'`);
      endCommand();
      cur!.ops.push(t.op);
      pendingOp = true;
    } else if (words.length > 0) {
      endCommand();
      if (t.op === '&') {
        if (cur!.commands.length > 1) throw new ScriptSyntaxError(t.line, "background lists ('a && b &') not supported by nflab scripts");
        cur!.background = true;
      }
      lists.push(cur!);
      cur = null;
    } else if (pendingOp) {
      if (t.op === ';') throw new ScriptSyntaxError(t.line, "syntax error near unexpected token `;'");
    } else if (t.op === ';' || t.op === '&') {
      throw new ScriptSyntaxError(t.line, `syntax error near unexpected token \`${t.op}'`);
    }
  }
  if (pendingRedir) throw new ScriptSyntaxError(pendingRedir.line, "syntax error near unexpected token `newline'");
  if (words.length > 0) {
    endCommand();
    lists.push(cur!);
  } else if (pendingOp) {
    throw new ScriptSyntaxError(tokens[tokens.length - 1]!.line, 'syntax error: unexpected end of file', true);
  }
  return lists;
}

/** Reads a whole script; throws ScriptSyntaxError. `firstLine` numbers its first line. */
export function parseScript(src: string, firstLine = 1): AndOrList[] {
  return parseTokens(tokenize(src, firstLine));
}
