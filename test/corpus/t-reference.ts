/**
 * Reader for the reference results of the .t corpus (shared/corpus/iptables-t-kernel/full189_nft.txt):
 * what the real iptables 1.8.9 (nf_tables) on the reference machine did with every IPv4 test line.
 *
 * Format: a header `NAME.t [nft]: N tests, P passed` per file, then for each line that did not behave
 * as the file says `   line L: <text>` followed by `      -> <why>` (the why may run over several
 * physical lines when it quotes a multi-line error).
 */
import { readFileSync } from 'node:fs';

/** Reference results of one .t file. */
export interface TFileReference {
  /** .t file base name. */
  file: string;
  /** Number of test lines. */
  tests: number;
  /** Number of test lines that behaved as the file says. */
  passed: number;
  /** For each line that did not: line number -> the reference's sentence saying what happened. */
  failures: Map<number, string>;
}

/** Parse the reference results text. */
export function parseTReference(text: string): Map<string, TFileReference> {
  const files = new Map<string, TFileReference>();
  let cur: TFileReference | undefined;
  let curLine = -1;
  const header = /^(\S+) \[nft\]: (\d+) tests, (\d+) passed$/;
  const lineHead = /^ {3}line (\d+): /;
  const whyHead = /^ {6}-> (.*)$/s;
  for (const raw of readLines(text)) {
    const h = header.exec(raw);
    if (h) {
      cur = { file: h[1]!, tests: Number(h[2]), passed: Number(h[3]), failures: new Map() };
      files.set(cur.file, cur);
      curLine = -1;
      continue;
    }
    if (!cur) continue; // trailing summary or preamble
    const l = lineHead.exec(raw);
    if (l) {
      curLine = Number(l[1]);
      continue;
    }
    const w = whyHead.exec(raw);
    if (w && curLine >= 0 && !cur.failures.has(curLine)) {
      cur.failures.set(curLine, w[1]!);
      continue;
    }
    if (curLine >= 0 && cur.failures.has(curLine) && !raw.startsWith('{')) {
      cur.failures.set(curLine, cur.failures.get(curLine)! + '\n' + raw);
    }
  }
  return files;
}

/** Split into lines, dropping one final empty piece. */
function readLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Read and parse the reference results file. */
export function loadTReference(path: string): Map<string, TFileReference> {
  return parseTReference(readFileSync(path, 'utf8'));
}
