/**
 * A line diff for failure messages: unified format (`-` expected, `+` actual), 3 lines of context.
 * Common head and tail are cut first; the middle is aligned with an LCS table when it is small
 * enough, otherwise it is shown as one replaced block.
 */

/** One diff operation on a line. */
interface Op {
  kind: ' ' | '-' | '+';
  text: string;
  /** 1-based line number in the expected text (for ' ' and '-') or the actual text (for '+'). */
  a: number;
  b: number;
}

/** Cells above which the middle is not aligned line by line. */
const MAX_LCS_CELLS = 4_000_000;

/** Align `a` and `b` (already without common head/tail) into operations. */
function alignMiddle(a: string[], b: string[], aBase: number, bBase: number): Op[] {
  const n = a.length;
  const m = b.length;
  const ops: Op[] = [];
  if (n * m > MAX_LCS_CELLS) {
    a.forEach((t, i) => ops.push({ kind: '-', text: t, a: aBase + i, b: bBase }));
    b.forEach((t, j) => ops.push({ kind: '+', text: t, a: aBase + n, b: bBase + j }));
    return ops;
  }
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ kind: ' ', text: a[i]!, a: aBase + i, b: bBase + j });
      i++;
      j++;
    } else if (i < n && (j >= m || lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!)) {
      ops.push({ kind: '-', text: a[i]!, a: aBase + i, b: bBase + j });
      i++;
    } else {
      ops.push({ kind: '+', text: b[j]!, a: aBase + i, b: bBase + j });
      j++;
    }
  }
  return ops;
}

/**
 * Unified diff of two texts, '' when they are equal. `maxLines` caps the output (a note says how many
 * lines were left out).
 */
export function unifiedDiff(expected: string, actual: string, labels = { a: 'real', b: 'nflab' }, maxLines = 200): string {
  if (expected === actual) return '';
  const a = expected.split('\n');
  const b = actual.split('\n');
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const ops: Op[] = [];
  for (let i = 0; i < head; i++) ops.push({ kind: ' ', text: a[i]!, a: i, b: i });
  ops.push(...alignMiddle(a.slice(head, a.length - tail), b.slice(head, b.length - tail), head, head));
  for (let k = tail; k > 0; k--) ops.push({ kind: ' ', text: a[a.length - k]!, a: a.length - k, b: b.length - k });
  // Group into hunks with 3 lines of context.
  const ctx = 3;
  const out: string[] = [`--- ${labels.a}`, `+++ ${labels.b}`];
  let k = 0;
  while (k < ops.length) {
    while (k < ops.length && ops[k]!.kind === ' ') k++;
    if (k >= ops.length) break;
    const start = Math.max(0, k - ctx);
    let end = k;
    let lastChange = k;
    while (end < ops.length && end - lastChange <= 2 * ctx) {
      if (ops[end]!.kind !== ' ') lastChange = end;
      end++;
    }
    end = Math.min(ops.length, lastChange + ctx + 1);
    const hunk = ops.slice(start, end);
    const aStart = hunk[0]!.a + 1;
    const bStart = hunk[0]!.b + 1;
    const aLen = hunk.filter((o) => o.kind !== '+').length;
    const bLen = hunk.filter((o) => o.kind !== '-').length;
    out.push(`@@ -${aStart},${aLen} +${bStart},${bLen} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.text}`);
    k = end;
  }
  if (out.length > maxLines) {
    const left = out.length - maxLines;
    return [...out.slice(0, maxLines), `... (${left} more diff lines)`].join('\n');
  }
  return out.join('\n');
}
