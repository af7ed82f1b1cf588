/**
 * Developer CLI for the differential harness: runs hand-written cases (and
 * optionally random ones) on the real kernel and on nflab and prints every
 * difference.
 *
 *   node dist/test/diff/run.js [options] [filter...]
 *
 * A filter selects cases whose "list:name" contains it (or matches it, when
 * written /like this/). Options:
 *   -e 'LINE'         run these command lines as one ad-hoc case (repeatable;
 *                     the hand-written cases are then skipped)
 *   --list            list the selected cases and exit
 *   --kernel          run on the kernel only and print every step's output
 *   --nflab           run on nflab only and print every step's output
 *   --show            print both sides' output of every step, not only diffs
 *   --fuzz N          also run N random command sequences (see grammar.ts)
 *   --seed S          seed for --fuzz (default: NFLAB_FUZZ_SEED or the fixed one)
 *   --no-cases        with --fuzz: skip the hand-written cases
 *   --max-lines N     lines of output shown per side in reports (default 40)
 *   --json FILE       write every mismatch as JSON (for grouping and triage)
 *   --summary         print only the per-case verdicts and the totals
 * Exit status: 0 when nothing differs, 1 otherwise, 2 for usage errors.
 */
import { writeFileSync } from 'node:fs';
import { caseLists } from '../cases/index.js';
import { FINAL_DUMP, compareResults, describeStep, formatOutcome, maskDates, type CaseOutcome } from './compare.js';
import { DEFAULT_FUZZ_SEED, sampleSequences } from './grammar.js';
import { EXPECTED_IPTABLES_VERSION, KernelBackend, kernelUnavailableReason, probedIptablesVersion } from './kernel.js';
import { NflabBackend } from './nflab.js';
import { kase } from './shell.js';
import { DIFF_JOBS, mapConcurrent } from './pool.js';
import type { Backend, Case, StepResult } from './types.js';

interface Options {
  filters: string[];
  list: boolean;
  only: 'kernel' | 'nflab' | undefined;
  show: boolean;
  fuzz: number;
  seed: number;
  cases: boolean;
  maxLines: number;
  json: string | undefined;
  summary: boolean;
  lines: string[];
}

function usage(msg: string): never {
  process.stderr.write(`run.js: ${msg}\nusage: node dist/test/diff/run.js [-e LINE]... [--list|--kernel|--nflab|--show|--summary] [--fuzz N [--seed S] [--no-cases]] [--max-lines N] [--json FILE] [filter...]\n`);
  process.exit(2);
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    filters: [],
    list: false,
    only: undefined,
    show: false,
    fuzz: 0,
    seed: Number(process.env['NFLAB_FUZZ_SEED'] ?? DEFAULT_FUZZ_SEED),
    cases: true,
    maxLines: 40,
    json: undefined,
    summary: false,
    lines: [],
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v)) usage(`${a} needs an integer`);
      return v;
    };
    if (a === '--list') o.list = true;
    else if (a === '--kernel') o.only = 'kernel';
    else if (a === '--nflab') o.only = 'nflab';
    else if (a === '--show') o.show = true;
    else if (a === '--fuzz') o.fuzz = num();
    else if (a === '--seed') o.seed = num();
    else if (a === '--no-cases') o.cases = false;
    else if (a === '--max-lines') o.maxLines = num();
    else if (a === '--json') o.json = argv[++i] ?? usage('--json needs a file');
    else if (a === '--summary') o.summary = true;
    else if (a === '-e') o.lines.push(argv[++i] ?? usage('-e needs a command line'));
    else if (a === '-h' || a === '--help') usage('help');
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else o.filters.push(a);
  }
  return o;
}

function selected(o: Options): { list: string; c: Case }[] {
  const out: { list: string; c: Case }[] = [];
  const tests = o.filters.map((f) =>
    f.length > 2 && f.startsWith('/') && f.endsWith('/') ? new RegExp(f.slice(1, -1)) : { test: (s: string) => s.includes(f) },
  );
  if (o.lines.length > 0) {
    out.push({ list: 'adhoc', c: kase('command line', o.lines) });
    return out;
  }
  if (o.cases) {
    for (const [list, cases] of Object.entries(caseLists)) {
      for (const c of cases) {
        const key = `${list}:${c.name}`;
        if (tests.length === 0 || tests.some((t) => t.test(key))) out.push({ list, c });
      }
    }
  }
  if (o.fuzz > 0) {
    for (const c of sampleSequences(o.seed, o.fuzz))
      if (tests.length === 0 || tests.some((t) => t.test(`fuzz:${c.name}`))) out.push({ list: 'fuzz', c });
  }
  return out;
}

function printResult(label: string, r: StepResult): void {
  process.stdout.write(`  [${label}] status ${r.status}\n`);
  if (r.stdout) process.stdout.write(maskDates(r.stdout).replace(/^/gm, `  [${label} out] `).replace(/\n?$/, '\n'));
  if (r.stderr) process.stdout.write(maskDates(r.stderr).replace(/^/gm, `  [${label} err] `).replace(/\n?$/, '\n'));
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2));
  const cases = selected(o);
  if (o.list) {
    for (const { list, c } of cases) process.stdout.write(`${list}:${c.name}\n`);
    return 0;
  }
  const why = o.only === 'nflab' ? undefined : kernelUnavailableReason();
  if (why !== undefined) {
    process.stderr.write(`run.js: the kernel backend cannot run: ${why}\n`);
    return 2;
  }
  if (o.only !== 'nflab' && probedIptablesVersion() !== EXPECTED_IPTABLES_VERSION) {
    process.stderr.write(`run.js: warning: the reference is ${JSON.stringify(probedIptablesVersion())}, not ${EXPECTED_IPTABLES_VERSION}\n`);
  }
  const kernel = new KernelBackend();
  const nflab = new NflabBackend();

  const kernelRuns = o.only === 'nflab' ? [] : mapConcurrent(cases, DIFF_JOBS, ({ c }) => kernel.run([...c.steps, FINAL_DUMP], c.env));
  if (o.only !== undefined) {
    const backend: Backend = o.only === 'kernel' ? kernel : nflab;
    for (const [i, { list, c }] of cases.entries()) {
      const steps = [...c.steps, FINAL_DUMP];
      const results = o.only === 'kernel' ? await kernelRuns[i]! : await backend.run(steps, c.env);
      process.stdout.write(`=== ${list}:${c.name}\n`);
      steps.forEach((s, i) => {
        process.stdout.write(`$ ${describeStep(s)}\n`);
        printResult(backend.name, results[i]!);
      });
    }
    return 0;
  }

  const outcomes: (CaseOutcome & { list: string })[] = [];
  let failedSteps = 0;
  let totalSteps = 0;
  for (const [i, { list, c }] of cases.entries()) {
    const steps = [...c.steps, FINAL_DUMP];
    const expected = await kernelRuns[i]!;
    const actual = await nflab.run(steps, c.env);
    const outcome = compareResults(c.name, steps, expected, actual);
    outcomes.push({ ...outcome, list });
    totalSteps += steps.length;
    failedSteps += outcome.mismatches.length;
    const verdict = outcome.mismatches.length === 0 ? 'ok  ' : 'DIFF';
    if (o.summary || outcome.mismatches.length === 0) {
      process.stdout.write(`${verdict} ${list}:${c.name}${outcome.mismatches.length ? ` (${outcome.mismatches.length} steps)` : ''}\n`);
    } else {
      process.stdout.write(`${verdict} ${list}:${c.name}\n${formatOutcome(outcome, o.maxLines)}\n\n`);
    }
    if (o.show) {
      steps.forEach((s, i) => {
        process.stdout.write(`$ ${describeStep(s)}\n`);
        printResult('kernel', expected[i]!);
        printResult('nflab', actual[i]!);
      });
    }
  }
  const failedCases = outcomes.filter((x) => x.mismatches.length > 0);
  process.stdout.write(
    `\n${cases.length} cases, ${totalSteps} steps (incl. final dumps): ${failedCases.length} cases and ${failedSteps} steps differ\n`,
  );
  if (o.json !== undefined) {
    const rows = failedCases.flatMap((x) =>
      x.mismatches.map((m) => ({
        list: x.list,
        case: x.name,
        step: m.index + 1,
        final: m.final,
        command: describeStep(m.step),
        fields: m.fields,
        kernel: { ...m.expected, stdout: maskDates(m.expected.stdout) },
        nflab: { ...m.actual, stdout: maskDates(m.actual.stdout) },
      })),
    );
    writeFileSync(o.json, JSON.stringify(rows, null, 1));
  }
  kernel.close();
  return failedCases.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`run.js: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
