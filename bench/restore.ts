/**
 * Benchmark of iptables-restore: nflab beside the real tools, in one run.
 *
 * Inputs: a generated 100,000-rule ruleset (deterministic seed) and the 5,556-rule university
 * dump from ../shared (read where it lies, never copied). For each input it measures, as separate
 * cold processes: `bin/nflab --lab <fresh dir> iptables-restore < file` followed by
 * `nflab iptables-save > /dev/null`, and the real `iptables-restore` / `iptables-legacy-restore`
 * (each followed by its save) in a fresh network namespace. Wall time and peak RSS come from GNU
 * time; every measurement is repeated and the median printed, with the ratios nflab/real.
 *
 * Usage: node dist/bench/restore.js [--runs N] [--rules N] [--seed N] [--tools nflab,nft,legacy]
 *        [--inputs gen,tum] [--input FILE]... [--json FILE] [--gen-out FILE] [--profile]
 *
 * --input adds any restore file as an input; --profile runs the in-process profile on the first
 * --input file, or on the generated ruleset when there is none.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateRuleset } from './gen-ruleset.js';
import { createNetns, deleteNetns, GNU_TIME, haveCommand, measure, median, runIn, type Sample } from './measure.js';
import { runProfile } from './profile.js';

/** Command-line options of the benchmark. */
interface BenchOptions {
  runs: number;
  rules: number;
  seed: number;
  tools: Set<string>;
  inputs: Set<string>;
  json?: string;
  genOut?: string;
  profile: boolean;
  /** Extra input files (--input FILE, repeatable). */
  files: string[];
}

/** One benchmark input. */
interface Input {
  name: string;
  file: string;
  rules: number;
}

/** One tool under test: how to restore and how to list. */
interface Tool {
  id: 'nflab' | 'nft' | 'legacy';
  label: string;
  saveLabel: string;
}

/** Samples of one (input, tool, operation) cell. */
interface Cell {
  input: string;
  tool: Tool['id'];
  op: 'restore' | 'save';
  samples: Sample[];
}

const HERE = dirname(fileURLToPath(import.meta.url));
/** dist/ (this file is dist/bench/restore.js). */
const DIST = resolve(HERE, '..');
/** The repository root. */
const ROOT = resolve(DIST, '..');
const NFLAB = join(ROOT, 'bin', 'nflab');
const SHARED = process.env.NFLAB_SHARED ?? resolve(ROOT, '..', 'shared');
const TUM = join(SHARED, 'corpus', 'rulesets-fixed', 'nn_tum_i8_2016-06-27.macfixed.v4');

const TOOLS: Tool[] = [
  { id: 'nflab', label: 'nflab iptables-restore', saveLabel: 'nflab iptables-save' },
  { id: 'nft', label: 'iptables-restore (nft)', saveLabel: 'iptables-save (nft)' },
  { id: 'legacy', label: 'iptables-legacy-restore', saveLabel: 'iptables-legacy-save' },
];

function parseArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = { runs: 3, rules: 100000, seed: 20240601, tools: new Set(['nflab', 'nft', 'legacy']), inputs: new Set(['gen', 'tum']), profile: false, files: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--runs') o.runs = Number(val());
    else if (a === '--rules') o.rules = Number(val());
    else if (a === '--seed') o.seed = Number(val());
    else if (a === '--tools') o.tools = new Set(val().split(','));
    else if (a === '--inputs') o.inputs = new Set(val().split(','));
    else if (a === '--json') o.json = val();
    else if (a === '--gen-out') o.genOut = val();
    else if (a === '--profile') o.profile = true;
    else if (a === '--input') o.files.push(resolve(val()));
    else if (a === '--help' || a === '-h') {
      console.log('usage: node dist/bench/restore.js [--runs N] [--rules N] [--seed N] [--tools nflab,nft,legacy] [--inputs gen,tum] [--input FILE]... [--json FILE] [--gen-out FILE] [--profile]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new Error('--runs must be a positive integer');
  if (!Number.isInteger(o.rules) || o.rules < 100) throw new Error('--rules must be an integer >= 100');
  return o;
}

/** Counts `-A` lines of a restore file or of iptables-save output. */
function countRules(text: string): number {
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith('-A ')) n++;
  return n;
}

/** iptables-save output without its dated comment lines, for comparing two tools. */
function stripComments(text: string): string {
  return text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

/** First differing line of two texts, or null when equal. */
function firstDiff(a: string, b: string): string | null {
  if (a === b) return null;
  const x = a.split('\n');
  const y = b.split('\n');
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] !== y[i]) return `line ${i + 1}: nflab "${x[i] ?? '<end>'}" vs real "${y[i] ?? '<end>'}"`;
  }
  return 'texts differ';
}

/** Names of the restore/save commands of a real tool. */
function realCommands(tool: 'nft' | 'legacy'): { restore: string; save: string } {
  return tool === 'nft' ? { restore: 'iptables-restore', save: 'iptables-save' } : { restore: 'iptables-legacy-restore', save: 'iptables-legacy-save' };
}

/**
 * Checks that the real tool accepts the input and keeps every rule; returns its save output
 * without comments (the reference for nflab), or throws with the tool's error.
 */
function preflight(input: Input, tool: 'nft' | 'legacy'): string {
  const cmds = realCommands(tool);
  const ns = createNetns();
  try {
    const r = runIn(ns, [cmds.restore], readFileSync(input.file, 'utf8'));
    if (r.status !== 0) throw new Error(`${cmds.restore} refused ${input.name} (exit ${r.status}): ${r.stderr.trim()}`);
    const saved = runIn(ns, [cmds.save]);
    const kept = countRules(saved.stdout);
    if (kept !== input.rules) throw new Error(`${cmds.save} after ${input.name} lists ${kept} rules, expected ${input.rules}`);
    return stripComments(saved.stdout);
  } finally {
    deleteNetns(ns);
  }
}

/** Measures one restore + save of nflab on a fresh lab directory. */
async function runNflabOnce(input: Input, scratch: string): Promise<{ restore: Sample; save: Sample }> {
  const lab = mkdtempSync(join(scratch, 'lab-'));
  try {
    const restore = await measure([NFLAB, '--lab', lab, 'iptables-restore'], { stdinFile: input.file }, scratch);
    const save = await measure([NFLAB, '--lab', lab, 'iptables-save'], {}, scratch);
    return { restore, save };
  } finally {
    rmSync(lab, { recursive: true, force: true });
  }
}

/** Measures one restore + save of a real tool in a fresh namespace. */
async function runRealOnce(input: Input, tool: 'nft' | 'legacy', scratch: string): Promise<{ restore: Sample; save: Sample }> {
  const cmds = realCommands(tool);
  const ns = createNetns();
  try {
    const restore = await measure([cmds.restore], { stdinFile: input.file, netns: ns }, scratch);
    const save = await measure([cmds.save], { netns: ns }, scratch);
    return { restore, save };
  } finally {
    deleteNetns(ns);
  }
}

/** Cold start of nflab: `iptables-save` on a fresh, empty lab (node start, module load, lab creation). */
async function nflabStartup(runs: number, scratch: string): Promise<Sample[]> {
  const out: Sample[] = [];
  for (let i = 0; i < runs; i++) {
    const lab = mkdtempSync(join(scratch, 'lab-'));
    out.push(await measure([NFLAB, '--lab', lab, 'iptables-save'], {}, scratch));
    rmSync(lab, { recursive: true, force: true });
  }
  return out;
}

/** nflab's save output after a restore into a fresh lab (not measured), for the comparison. */
function nflabSaveText(input: Input, scratch: string): { status: number; text: string; stderr: string } {
  const lab = mkdtempSync(join(scratch, 'lab-'));
  try {
    // stdin is the file itself, as with `< file` (not a pipe: see the report about pipes).
    const fd = openSync(input.file, 'r');
    const r = spawnSync(NFLAB, ['--lab', lab, 'iptables-restore'], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 30 });
    closeSync(fd);
    if (r.status !== 0) return { status: r.status ?? 128, text: '', stderr: r.stderr };
    const s = spawnSync(NFLAB, ['--lab', lab, 'iptables-save'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    return { status: s.status ?? 128, text: stripComments(s.stdout), stderr: s.stderr };
  } finally {
    rmSync(lab, { recursive: true, force: true });
  }
}

/** Summary of one cell: medians, or the failure. */
interface Summary {
  ok: boolean;
  secs: number;
  peakMB: number;
  cpuSecs: number;
  runs: number[];
  error?: string;
}

function summarise(c: Cell | undefined): Summary | undefined {
  if (!c || c.samples.length === 0) return undefined;
  const bad = c.samples.find((s) => s.status !== 0 || Number.isNaN(s.secs));
  const runs = c.samples.map((s) => s.secs);
  if (bad) {
    const line = bad.stderr.trim().split('\n').slice(0, 2).join(' | ');
    return { ok: false, secs: NaN, peakMB: NaN, cpuSecs: NaN, runs, error: `exit ${bad.status}: ${line}` };
  }
  return { ok: true, secs: median(runs), peakMB: median(c.samples.map((s) => s.peakMB)), cpuSecs: median(c.samples.map((s) => s.cpuSecs)), runs };
}

function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : '-';
}

/** Prints the result table and the verdict on the targets. */
function report(inputs: Input[], cells: Cell[], checks: Map<string, string>): void {
  const header = ['input', 'tool', 'median s', 'runs (s)', 'peak MB', 'cpu s', 'nflab/nft', 'nflab/legacy'];
  const rows: string[][] = [];
  const failures: string[] = [];
  for (const input of inputs) {
    for (const op of ['restore', 'save'] as const) {
      const get = (tool: Tool['id']): Summary | undefined => summarise(cells.find((c) => c.input === input.name && c.tool === tool && c.op === op));
      for (const tool of TOOLS) {
        const s = get(tool.id);
        if (!s) continue;
        const restoreFailed = op === 'save' && summarise(cells.find((c) => c.input === input.name && c.tool === tool.id && c.op === 'restore'))?.ok === false;
        const label = op === 'restore' ? tool.label : `${tool.saveLabel}${restoreFailed ? ' (partial)' : ''}`;
        let rNft = '';
        let rLeg = '';
        if (tool.id === 'nflab' && s.ok && !restoreFailed) {
          const nft = get('nft');
          const leg = get('legacy');
          rNft = nft?.ok ? `${fmt(s.secs / nft.secs)}x` : '';
          rLeg = leg?.ok ? `${fmt(s.secs / leg.secs)}x` : '';
        }
        if (!s.ok) {
          rows.push([input.name, label, 'FAILED', s.runs.map((x) => fmt(x)).join(' '), '-', '-', '', '']);
          failures.push(`${input.name} ${label} failed: ${s.error ?? ''}`);
        }
        else rows.push([input.name, label, fmt(s.secs), s.runs.map((x) => fmt(x)).join(' '), fmt(s.peakMB, 1), fmt(s.cpuSecs), rNft, rLeg]);
      }
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i < 2 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('');
  for (const f of failures) console.log(f);
  for (const input of inputs) {
    const s = summarise(cells.find((c) => c.input === input.name && c.tool === 'nflab' && c.op === 'restore'));
    const leg = summarise(cells.find((c) => c.input === input.name && c.tool === 'legacy' && c.op === 'restore'));
    if (s?.ok) {
      const speed = leg?.ok ? `${s.secs <= leg.secs ? 'PASS' : 'MISS'} (${fmt(s.secs)} s vs legacy ${fmt(leg.secs)} s)` : 'n/a';
      console.log(`${input.name}: target "no slower than iptables-legacy-restore": ${speed}; target "peak < 200 MB": ${s.peakMB < 200 ? 'PASS' : 'MISS'} (${fmt(s.peakMB, 1)} MB)`);
    }
    const chk = checks.get(input.name);
    if (chk) console.log(`${input.name}: ${chk}`);
  }
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const scratch = mkdtempSync(join(tmpdir(), 'nflab-bench-'));
  try {
    const genFile = opts.genOut ?? join(scratch, `generated-${opts.rules}-seed${opts.seed}.v4`);
    const t0 = performance.now();
    writeFileSync(genFile, generateRuleset({ rules: opts.rules, seed: opts.seed }));
    console.log(`generated ${opts.rules} rules (seed ${opts.seed}) in ${((performance.now() - t0) / 1000).toFixed(2)} s -> ${genFile}`);
    if (opts.genOut) return;
    if (opts.profile) {
      const file = opts.files[0] ?? genFile;
      await runProfile(file, countRules(readFileSync(file, 'utf8')), DIST);
      return;
    }
    const inputs: Input[] = [];
    if (opts.inputs.has('gen')) inputs.push({ name: `generated-${Math.round(opts.rules / 1000)}k`, file: genFile, rules: opts.rules });
    if (opts.inputs.has('tum')) {
      if (existsSync(TUM)) inputs.push({ name: 'tum-i8-2016', file: TUM, rules: countRules(readFileSync(TUM, 'utf8')) });
      else console.log(`skipping the university dump: ${TUM} not found (set NFLAB_SHARED)`);
    }
    for (const f of opts.files) inputs.push({ name: basename(f), file: f, rules: countRules(readFileSync(f, 'utf8')) });
    if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} missing: apt-get install time`);
    const isRoot = process.getuid?.() === 0;
    const tools = TOOLS.filter((t) => opts.tools.has(t.id)).filter((t) => {
      if (t.id === 'nflab') return existsSync(join(DIST, 'src/cli/main.js')) || (console.log('skipping nflab: run npm run build first'), false);
      const ok = isRoot && haveCommand(realCommands(t.id).restore) && haveCommand('ip');
      if (!ok) console.log(`skipping ${t.label}: needs root, iproute2 and the iptables package`);
      return ok;
    });
    const checks = new Map<string, string>();
    for (const input of inputs) {
      let reference: string | undefined;
      for (const t of tools) {
        if (t.id === 'nflab') continue;
        const saved = preflight(input, t.id);
        if (t.id === 'nft') reference = saved;
        console.log(`checked: ${realCommands(t.id).restore} accepts ${input.name} (${input.rules} rules kept)`);
      }
      if (tools.some((t) => t.id === 'nflab')) {
        const n = nflabSaveText(input, scratch);
        if (n.status !== 0) checks.set(input.name, `nflab refused the input (exit ${n.status}): ${n.stderr.trim().split('\n').slice(0, 2).join(' | ')}`);
        else if (reference !== undefined) {
          const d = firstDiff(n.text, reference);
          checks.set(input.name, d === null ? 'nflab iptables-save output is identical to the real iptables-save (comment lines aside)' : `nflab iptables-save (${countRules(n.text)} rules) differs from the real one (${countRules(reference)} rules): ${d}`);
        }
      }
    }
    const cells: Cell[] = [];
    const cell = (input: string, tool: Tool['id'], op: Cell['op']): Cell => {
      let c = cells.find((x) => x.input === input && x.tool === tool && x.op === op);
      if (!c) cells.push((c = { input, tool, op, samples: [] }));
      return c;
    };
    for (const input of inputs) {
      for (let run = 0; run < opts.runs; run++) {
        // Tools alternate within a round so background noise spreads over all of them.
        for (const t of tools) {
          const r = t.id === 'nflab' ? await runNflabOnce(input, scratch) : await runRealOnce(input, t.id, scratch);
          cell(input.name, t.id, 'restore').samples.push(r.restore);
          cell(input.name, t.id, 'save').samples.push(r.save);
          console.log(`  ${input.name} run ${run + 1}/${opts.runs} ${t.label}: ${fmt(r.restore.secs)} s, ${fmt(r.restore.peakMB, 1)} MB` + ` (exit ${r.restore.status}); save ${fmt(r.save.secs)} s, ${fmt(r.save.peakMB, 1)} MB (exit ${r.save.status})`);
        }
      }
    }
    report(inputs, cells, checks);
    if (tools.some((t) => t.id === 'nflab')) {
      const st = await nflabStartup(opts.runs, scratch);
      console.log(`nflab cold start (iptables-save on an empty lab): median ${fmt(median(st.map((x) => x.secs)))} s, ${fmt(median(st.map((x) => x.peakMB)), 1)} MB peak`);
    }
    if (opts.json) {
      const out = inputs.flatMap((i) => TOOLS.flatMap((t) => (['restore', 'save'] as const).map((op) => ({ input: i.name, rules: i.rules, tool: t.id, op, ...summarise(cells.find((c) => c.input === i.name && c.tool === t.id && c.op === op)) }))));
      writeFileSync(opts.json, JSON.stringify({ runs: opts.runs, seed: opts.seed, results: out.filter((r) => r.runs !== undefined), checks: Object.fromEntries(checks) }, null, 2));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
});
