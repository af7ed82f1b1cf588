/**
 * A sampling CPU profile of one piece of work, through the inspector of the running process, and
 * a summary of it: self time by function and by file, with the share of the whole.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

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

/**
 * A sampling profiler on this thread, started and stopped synchronously (the inspector session
 * of the process itself answers before `post` returns), so that it covers exactly the work
 * between the two calls.
 */
export class Profiler {
  private readonly session = new Session();
  private profile: CpuProfile | null = null;

  /** Starts sampling every `intervalUs` microseconds. */
  start(intervalUs = 250): void {
    this.session.connect();
    this.session.post('Profiler.enable');
    this.session.post('Profiler.setSamplingInterval', { interval: intervalUs });
    this.session.post('Profiler.start');
  }

  /** Stops sampling and keeps the profile. */
  stop(): void {
    this.session.post('Profiler.stop', (err, res) => {
      if (err) throw err;
      this.profile = (res as unknown as { profile: CpuProfile }).profile;
    });
    this.session.disconnect();
  }

  /** Writes the profile as a .cpuprofile file (for DevTools) and returns its summary. */
  write(file: string): string {
    if (!this.profile) throw new Error('no profile was taken');
    writeFileSync(file, JSON.stringify(this.profile));
    return summariseProfile(this.profile);
  }
}

/** Where a function lies, relative to the repository's dist/ directory. */
function place(url: string, line: number): string {
  const i = url.indexOf('/dist/');
  const short = i >= 0 ? url.slice(i + 6) : url.replace(/^file:\/\//, '');
  return short ? `${short}:${line + 1}` : '';
}

/**
 * Self time by function (top 30), inclusive time by function (the share of samples whose stack
 * holds it, each function counted once per stack; top 30) and self time by file (top 15), in
 * milliseconds and shares of the whole.
 */
export function summariseProfile(p: CpuProfile): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (n: ProfileNode): string => `${n.callFrame.functionName || '(anonymous)'} ${place(n.callFrame.url, n.callFrame.lineNumber)}`.trim();
  const fn = new Map<string, number>();
  const incl = new Map<string, number>();
  const file = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)!;
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const where = place(n.callFrame.url, n.callFrame.lineNumber);
    const key = keyOf(n);
    fn.set(key, (fn.get(key) ?? 0) + dt);
    const f = where ? where.replace(/:\d+$/, '') : `(${n.callFrame.functionName || 'vm'})`;
    file.set(f, (file.get(f) ?? 0) + dt);
    const seen = new Set<string>();
    for (let id: number | undefined = n.id; id !== undefined; id = parent.get(id)) {
      const k = keyOf(byId.get(id)!);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  const rows = (m: Map<string, number>, top: number): string[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  // the frames above the replay itself (module evaluation, the benchmark's own functions)
  const outer = (k: string): boolean => /^\((root|program)\)|^evaluate$|node:internal|^(replayInProcess|worker|main) |^\(anonymous\) bench\//.test(k);
  const inclusive = new Map([...incl].filter(([k]) => !outer(k)));
  return [
    `profile: ${(total / 1e6).toFixed(2)} s sampled`,
    'self time by function:',
    ...rows(fn, 30),
    'inclusive time by function (callees included):',
    ...rows(inclusive, 30),
    'self time by file:',
    ...rows(file, 15),
  ].join('\n');
}
