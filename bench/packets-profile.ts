/**
 * A sampling CPU profile of one piece of work, through the inspector of the running process, and
 * a summary of it: self time by function and by file, with the share of the whole.
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';

/** One node of a V8 CPU profile (the fields used here). */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** A V8 CPU profile (the fields used here). */
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A profiler session started by {@link startProfile}. */
export interface RunningProfile {
  stop(file: string): Promise<string>;
}

/** Starts sampling every `intervalUs` microseconds; `stop` writes the .cpuprofile file and returns the summary. */
export async function startProfile(intervalUs = 250): Promise<RunningProfile> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: intervalUs });
  await session.post('Profiler.start');
  return {
    async stop(file: string): Promise<string> {
      const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: CpuProfile };
      session.disconnect();
      writeFileSync(file, JSON.stringify(profile));
      return summariseProfile(profile);
    },
  };
}

/** Where a function lies, relative to the repository's dist/ directory. */
function place(url: string, line: number): string {
  const i = url.indexOf('/dist/');
  const short = i >= 0 ? url.slice(i + 6) : url.replace(/^file:\/\//, '');
  return short ? `${short}:${line + 1}` : '';
}

/** Self time by function (top 30) and by file (top 15), in milliseconds and shares. */
export function summariseProfile(p: CpuProfile): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!)!;
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const where = place(n.callFrame.url, n.callFrame.lineNumber);
    const key = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + dt);
    const f = where ? where.replace(/:\d+$/, '') : `(${n.callFrame.functionName || 'vm'})`;
    file.set(f, (file.get(f) ?? 0) + dt);
  }
  const rows = (m: Map<string, number>, top: number): string[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `  ${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  return [
    `profile: ${(total / 1e6).toFixed(2)} s sampled`,
    'self time by function:',
    ...rows(fn, 30),
    'self time by file:',
    ...rows(file, 15),
  ].join('\n');
}
