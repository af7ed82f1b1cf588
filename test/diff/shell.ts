/**
 * Helpers to write cases as the command lines people type: a small POSIX-ish
 * word splitter (quotes and backslashes, no expansion) and constructors for
 * steps and cases.
 */
import type { Case, CaseEnv, Step } from './types.js';

/**
 * Splits a command line into words like a POSIX shell would, without any
 * expansion: single quotes keep everything, double quotes keep everything but
 * \" and \\, a backslash outside quotes escapes the next character.
 */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < line.length) {
    const ch = line[i]!;
    if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated ' in: ${line}`);
      cur += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (ch === '"') {
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) i++;
        cur += line[i];
        i++;
      }
      if (i >= line.length) throw new Error(`unterminated " in: ${line}`);
      inWord = true;
      i++;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[i + 1];
      inWord = true;
      i += 2;
    } else if (ch === ' ' || ch === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else {
      cur += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** Quotes words back into one line for messages (only where needed). */
export function joinWords(argv: readonly string[]): string {
  return argv
    .map((w) => (w !== '' && /^[A-Za-z0-9_@%+=:,./!-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}

/** A step from a command line, e.g. `cmd('iptables -A INPUT -j ACCEPT')`. */
export function cmd(line: string, stdin?: string): Step {
  const argv = splitWords(line);
  if (argv.length === 0) throw new Error('empty command line');
  return stdin === undefined ? { argv } : { argv, stdin };
}

/** An iptables-restore step with the given input and extra options. */
export function restore(stdin: string, options = ''): Step {
  return cmd(`iptables-restore ${options}`.trim(), stdin);
}

/** A case from a name and command lines (strings are split with `splitWords`). */
export function kase(name: string, steps: readonly (string | Step)[], env?: CaseEnv): Case {
  const c: Case = { name, steps: steps.map((s) => (typeof s === 'string' ? cmd(s) : s)) };
  if (env !== undefined) c.env = env;
  return c;
}

/** A one-step case per command line, named `${prefix}/${index}: line`. */
export function singles(prefix: string, lines: readonly string[], setup: readonly string[] = []): Case[] {
  return lines.map((line, i) => kase(`${prefix}/${String(i + 1).padStart(3, '0')} ${line}`, [...setup, line]));
}
