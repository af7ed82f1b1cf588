/**
 * The benchmark's micro profile: runs nflab in-process (runNflab) on one ruleset and tells where
 * the time goes. Plain timers wrap what can be wrapped from outside the CLI (file I/O, JSON,
 * garbage collection, module loading); a sampling CPU profile splits the rest by file and by
 * function, so the numbers stay meaningful whatever the CLI's internal structure is.
 */
import { Session } from 'node:inspector/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The part of src/cli/main.ts the profile uses. */
interface NflabModule {
  runNflab(args: string[], opts: { lab?: string; stdin?: string }): Promise<{ stdout: string; stderr: string; status: number }>;
}

/** Time and call counts gathered by the wrappers. */
interface Counter {
  ms: number;
  calls: number;
  bytes: number;
}

/** One node of a V8 CPU profile (the fields used here). */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** A V8 CPU profile (the fields used here). */
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The CommonJS fs object: patching it (then syncBuiltinESMExports) reaches ESM importers too. */
const fsCjs = createRequire(import.meta.url)('node:fs') as Record<string, unknown>;

const counters = new Map<string, Counter>();

function count(name: string, ms: number, bytes: number): void {
  const c = counters.get(name) ?? { ms: 0, calls: 0, bytes: 0 };
  c.ms += ms;
  c.calls += 1;
  c.bytes += bytes;
  counters.set(name, c);
}

function sizeOf(v: unknown): number {
  if (typeof v === 'string') return Buffer.byteLength(v);
  if (v instanceof Uint8Array) return v.byteLength;
  return 0;
}

/** Live heap (after a full GC) at named moments; only with node --expose-gc. */
const liveHeap: [string, number][] = [];

/** Records the live heap size now, when a full GC can be forced (node --expose-gc). */
function noteLiveHeap(moment: string): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return;
  gc();
  liveHeap.push([moment, process.memoryUsage().heapUsed]);
}

/** Wraps the synchronous fs calls and JSON so their time is counted; returns an undo function. */
function installWrappers(): () => void {
  const fsAny = fsCjs as Record<string, (...a: unknown[]) => unknown>;
  const names = ['readFileSync', 'writeFileSync', 'writeSync', 'fsyncSync', 'renameSync', 'openSync', 'closeSync', 'mkdirSync', 'existsSync', 'unlinkSync', 'statSync', 'readdirSync'];
  const saved = new Map<string, (...a: unknown[]) => unknown>();
  for (const n of names) {
    const orig = fsAny[n];
    if (typeof orig !== 'function') continue;
    saved.set(n, orig);
    fsAny[n] = function (this: unknown, ...args: unknown[]) {
      const t0 = performance.now();
      const r = orig.apply(this, args);
      const bytes = n === 'readFileSync' ? sizeOf(r) : n === 'writeSync' || n === 'writeFileSync' ? sizeOf(args[1]) : 0;
      count(`fs.${n}`, performance.now() - t0, bytes);
      return r;
    };
  }
  syncBuiltinESMExports();
  const origParse = JSON.parse;
  const origStringify = JSON.stringify;
  JSON.parse = function (text: string, reviver?: (this: unknown, key: string, value: unknown) => unknown) {
    const t0 = performance.now();
    const r = origParse(text, reviver);
    count('JSON.parse', performance.now() - t0, text.length);
    noteLiveHeap('after JSON.parse');
    return r;
  } as typeof JSON.parse;
  let heapNoted = false;
  JSON.stringify = function (value: unknown, replacer?: unknown, space?: string | number) {
    // the state file is written in many small pieces: note the live heap once, at the first
    if (!heapNoted) {
      heapNoted = true;
      noteLiveHeap('when the state is first serialised');
    }
    const t0 = performance.now();
    const r = origStringify(value, replacer as (number | string)[] | null, space);
    count('JSON.stringify', performance.now() - t0, r?.length ?? 0);
    return r;
  } as typeof JSON.stringify;
  return () => {
    for (const [n, f] of saved) fsAny[n] = f;
    syncBuiltinESMExports();
    JSON.parse = origParse;
    JSON.stringify = origStringify;
  };
}

/** Sums garbage-collection pauses reported by perf_hooks while `fn` runs. */
async function withGcTime<T>(fn: () => Promise<T>): Promise<{ value: T; gcMs: number; gcCount: number }> {
  let gcMs = 0;
  let gcCount = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gcMs += e.duration;
      gcCount++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const value = await fn();
  // Entries are delivered asynchronously: let the observer drain.
  await new Promise((r) => setTimeout(r, 20));
  obs.disconnect();
  return { value, gcMs, gcCount };
}

/** Short label of a script URL: a path relative to dist/, or the URL itself. */
function fileLabel(url: string, distRoot: string): string {
  if (url === '') return '(native/VM)';
  if (url.startsWith('file://')) {
    const rel = relative(distRoot, fileURLToPath(url));
    // The JSON/fs wrappers of this file only forward to the native functions.
    return rel === 'bench/profile.js' ? '(native: JSON, fs)' : rel;
  }
  return url;
}

/**
 * Phases of a command, by the nflab function whose frame is on the stack. A sample goes to the
 * first phase of the list found on its stack; names that do not exist are simply never seen.
 */
const PHASES: [label: string, functions: string[]][] = [
  ['GC (garbage collector)', ['(garbage collector)']],
  ['state read (loadState: file, JSON.parse, rebuild)', ['loadState']],
  ['state write (saveState: disk form, JSON, write, fsync)', ['saveState']],
  ['commit check (validateTable)', ['validateTable']],
  ['split lines into words (splitRestoreLine)', ['splitRestoreLine']],
  ['parse (parseCommand: getopt, options, extensions)', ['parseCommand']],
  ['execute (executeCommand: build rules, find chain, add)', ['executeCommand']],
  ['format (iptablesSave)', ['iptablesSave']],
  ['other nflab code (restore loop, tool, main)', ['runNflab']],
];

/** Splits sampled time into {@link PHASES}; the rest is "outside nflab". */
function phaseSplit(profile: CpuProfile): [string, number][] {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const phaseOf = new Map<number, number>();
  const lookup = (id: number): number => {
    const known = phaseOf.get(id);
    if (known !== undefined) return known;
    const names = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) names.add(byId.get(cur)?.callFrame.functionName ?? '');
    let idx = PHASES.findIndex(([, fns]) => fns.some((f) => names.has(f)));
    if (idx < 0) idx = PHASES.length;
    phaseOf.set(id, idx);
    return idx;
  };
  const ms = new Array<number>(PHASES.length + 1).fill(0);
  profile.samples.forEach((id, i) => {
    const name = byId.get(id)?.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') return;
    ms[lookup(id)] += (profile.timeDeltas[i] ?? 0) / 1000;
  });
  const out: [string, number][] = PHASES.map(([label], i) => [label, ms[i] as number]);
  out.push(['outside nflab (profiler, harness, idle)', ms[PHASES.length] as number]);
  return out.filter(([, v]) => v >= 0.5);
}

/** Self and inclusive time per key from a CPU profile. */
function aggregate(profile: CpuProfile, key: (n: ProfileNode) => string): { self: Map<string, number>; incl: Map<string, number>; totalMs: number } {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  let totalMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    totalMs += ms;
    const node = byId.get(id);
    if (!node) return;
    const k = key(node);
    self.set(k, (self.get(k) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const kk = key(byId.get(cur) as ProfileNode);
      if (seen.has(kk)) continue;
      seen.add(kk);
      incl.set(kk, (incl.get(kk) ?? 0) + ms);
    }
  });
  return { self, incl, totalMs };
}

function top(m: Map<string, number>, n: number, filter: (k: string) => boolean = () => true): [string, number][] {
  return [...m].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, n);
}

function fmtMs(ms: number): string {
  return `${(ms / 1000).toFixed(3).padStart(8)} s`;
}

function pct(ms: number, total: number): string {
  return `${((100 * ms) / total).toFixed(1).padStart(5)}%`;
}

/** Prints the wrapped counters, then resets them. */
function printCounters(total: number): void {
  const rows = [...counters].sort((a, b) => b[1].ms - a[1].ms);
  for (const [name, c] of rows) {
    if (c.ms < 0.5) continue;
    const mb = c.bytes ? `  ${(c.bytes / 1048576).toFixed(1)} MB` : '';
    console.log(`    ${name.padEnd(22)} ${fmtMs(c.ms)} ${pct(c.ms, total)}  ${String(c.calls).padStart(7)} calls${mb}`);
  }
  counters.clear();
}

/** Prints the CPU profile split by file and by function. */
function printProfile(profile: CpuProfile, distRoot: string, wallMs: number): void {
  const byFile = aggregate(profile, (n) => fileLabel(n.callFrame.url, distRoot));
  console.log(`  phases (CPU profile, ${profile.samples.length} samples, ${(byFile.totalMs / 1000).toFixed(3)} s sampled)`);
  for (const [k, ms] of phaseSplit(profile)) console.log(`    ${k.padEnd(56)} ${fmtMs(ms)} ${pct(ms, wallMs)}`);
  console.log('  self time by file');
  for (const [k, ms] of top(byFile.self, 14)) console.log(`    ${k.padEnd(44)} ${fmtMs(ms)} ${pct(ms, wallMs)}`);
  const fnKey = (n: ProfileNode): string => {
    const f = n.callFrame;
    const name = f.functionName || '(anonymous)';
    const file = fileLabel(f.url, distRoot);
    if (file.startsWith('(native')) return `${name} (native)`;
    return f.url ? `${name} ${file}:${f.lineNumber + 1}` : name;
  };
  const byFn = aggregate(profile, fnKey);
  console.log('  inclusive time by function (nflab code, top 22)');
  for (const [k, ms] of top(byFn.incl, 22, (k) => k.includes(' src/'))) console.log(`    ${k.padEnd(64)} ${fmtMs(ms)} ${pct(ms, wallMs)}`);
  console.log('  self time by function (top 22)');
  for (const [k, ms] of top(byFn.self, 22)) console.log(`    ${k.padEnd(64)} ${fmtMs(ms)} ${pct(ms, wallMs)}`);
}

/** Runs one nflab command in-process under the timers and the CPU profiler, and prints the split. */
async function profiledRun(label: string, nflab: NflabModule, args: string[], lab: string, stdin: string | undefined, distRoot: string): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  const undo = installWrappers();
  await session.post('Profiler.start');
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const { value: r, gcMs, gcCount } = await withGcTime(() => nflab.runNflab(['--lab', lab, ...args], { lab, stdin }));
  const wallMs = performance.now() - t0 - 20;
  const { profile } = (await session.post('Profiler.stop')) as { profile: CpuProfile };
  undo();
  session.disconnect();
  const mem = process.memoryUsage();
  console.log(`\n${label}: ${fmtMs(wallMs).trim()} (exit ${r.status}, stdout ${(r.stdout.length / 1048576).toFixed(1)} MB)`);
  if (r.status !== 0) console.log(`  stderr: ${r.stderr.slice(0, 400).trim()}`);
  console.log(`  heap used now ${(mem.heapUsed / 1048576).toFixed(0)} MB (was ${(heapBefore / 1048576).toFixed(0)} MB), rss now ${(mem.rss / 1048576).toFixed(0)} MB, process peak rss ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
  console.log(`  timers (wrapped from outside):`);
  console.log(`    ${'GC pauses'.padEnd(22)} ${fmtMs(gcMs)} ${pct(gcMs, wallMs)}  ${String(gcCount).padStart(7)} pauses`);
  printCounters(wallMs);
  for (const [moment, bytes] of liveHeap.splice(0)) console.log(`    live heap ${moment}: ${(bytes / 1048576).toFixed(0)} MB (after a full GC)`);
  if (!(globalThis as { gc?: unknown }).gc) console.log('    (run node --expose-gc dist/bench/restore.js --profile to see the live heap at the state write)');
  printProfile(profile, distRoot, wallMs);
}

/**
 * The --profile mode: loads nflab in this process, restores `file` into a fresh lab, then lists
 * it with iptables-save, printing the time split of each.
 */
export async function runProfile(file: string, rules: number, distRoot: string): Promise<void> {
  const text = readFileSync(file, 'utf8');
  console.log(`micro profile: nflab in-process on ${file} (${rules} rules, ${(text.length / 1048576).toFixed(1)} MB)`);
  const t0 = performance.now();
  const nflab = (await import(pathToFileURL(join(distRoot, 'src/cli/main.js')).href)) as NflabModule;
  console.log(`load nflab modules: ${fmtMs(performance.now() - t0).trim()}`);
  const lab = mkdtempSync(join(tmpdir(), 'nflab-bench-profile-'));
  try {
    await profiledRun('iptables-restore (fresh lab)', nflab, ['iptables-restore'], lab, text, distRoot);
    await profiledRun('iptables-save', nflab, ['iptables-save'], lab, undefined, distRoot);
    await profiledRun('iptables -A INPUT (one rule into the big lab)', nflab, ['iptables', '-A', 'INPUT', '-s', '192.0.2.1', '-j', 'DROP'], lab, undefined, distRoot);
  } finally {
    rmSync(lab, { recursive: true, force: true });
  }
}
