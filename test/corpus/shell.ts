/**
 * A small POSIX-shell word splitter.
 *
 * The reference runs passed each .t line through `sh -c`, so quotes were removed by the shell
 * (`--log-prefix "test: "` is ONE argument `test: `). We split the same way: blanks separate words,
 * '...' is literal, "..." keeps blanks and honours \\ \" \$ \` escapes, a backslash outside quotes
 * escapes the next character. No expansion of any kind is done (the corpus needs none).
 */

/** Split `text` into argv words the way `sh` would (quotes and backslashes only). */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unterminated single quote in: ${text}`);
      cur += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      inWord = true;
      for (;;) {
        if (i >= text.length) throw new Error(`unterminated double quote in: ${text}`);
        const d = text[i]!;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < text.length && '\\"$`\n'.includes(text[i + 1]!)) {
          if (text[i + 1] !== '\n') cur += text[i + 1];
          i += 2;
        } else {
          cur += d;
          i++;
        }
      }
    } else if (c === '\\' && i + 1 < text.length) {
      if (text[i + 1] !== '\n') cur += text[i + 1];
      inWord = true;
      i += 2;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
