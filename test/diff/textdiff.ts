/**
 * A small line diff (longest common subsequence) printed in a unified-like
 * form: ' ' common, '-' expected (kernel) only, '+' actual (nflab) only, with
 * a few lines of context and '$' marking each line end so that trailing
 * blanks show.
 */

/** One line of an edit script. */
interface Edit {
  op: ' ' | '-' | '+';
  line: string;
}

function editScript(a: string[], b: string[]): Edit[] {
  // Trim the common head and tail first: outputs usually differ in a few lines.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  const n = am.length;
  const m = bm.length;
  const edits: Edit[] = a.slice(0, head).map((line) => ({ op: ' ', line }));
  if (n * m > 4_000_000) {
    // Too big for the table: show the middle as a plain replacement.
    for (const line of am) edits.push({ op: '-', line });
    for (const line of bm) edits.push({ op: '+', line });
  } else {
    const lcs: Uint32Array[] = [];
    for (let i = 0; i <= n; i++) lcs.push(new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i]![j] = am[i] === bm[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        edits.push({ op: ' ', line: am[i]! });
        i++;
        j++;
      } else if (i < n && (j >= m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
        edits.push({ op: '-', line: am[i]! });
        i++;
      } else {
        edits.push({ op: '+', line: bm[j]! });
        j++;
      }
    }
  }
  for (const line of a.slice(a.length - tail)) edits.push({ op: ' ', line });
  return edits;
}

/** Splits output into lines; a missing final newline shows as its own marker line. */
function lines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  else parts.push('\\ no newline at end');
  return parts;
}

/**
 * Diff of two texts with `context` lines around each change, or '' when they
 * are equal. '-' lines are `expected`, '+' lines are `actual`.
 */
export function unifiedDiff(expected: string, actual: string, context = 3): string {
  if (expected === actual) return '';
  const edits = editScript(lines(expected), lines(actual));
  const keep = new Array<boolean>(edits.length).fill(false);
  edits.forEach((e, k) => {
    if (e.op === ' ') return;
    for (let d = Math.max(0, k - context); d <= Math.min(edits.length - 1, k + context); d++) keep[d] = true;
  });
  const out: string[] = [];
  let skipped = false;
  edits.forEach((e, k) => {
    if (!keep[k]) {
      skipped = true;
      return;
    }
    if (skipped) out.push('@@');
    skipped = false;
    out.push(`${e.op}${e.line}$`);
  });
  return out.join('\n');
}
