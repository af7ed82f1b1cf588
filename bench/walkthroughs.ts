/**
 * How long the tutorial walkthroughs (examples/lab-*.sh) take: each runs
 * as a user would run it (`bin/nflab run`, a fresh process and a fresh
 * lab), three times, and the median wall-clock and CPU time is set beside
 * the time the same story takes on real machines — the virtual time the
 * lab's clock moved (the pings' seconds, the timeouts' minutes), which is
 * what the real tools would wait.
 *
 *   node dist/bench/walkthroughs.js [NAME...]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const RUNS = 3;

/** The furthest any namespace's clock went, in seconds. */
function virtualSeconds(lab: string): number {
  const st = JSON.parse(readFileSync(join(lab, 'state.json'), 'utf8')) as { hosts: Record<string, { netns: Record<string, { machine?: { clockNs: number } }> }> };
  let ns = 0;
  for (const h of Object.values(st.hosts)) for (const n of Object.values(h.netns)) ns = Math.max(ns, n.machine?.clockNs ?? 0);
  return ns / 1e9;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const wanted = process.argv.slice(2);
const names = readdirSync(join(ROOT, 'examples'))
  .filter((f) => /^lab-.*\.sh$/.test(f))
  .map((f) => f.slice(0, -3))
  .filter((n) => wanted.length === 0 || wanted.includes(n));

console.log('| walkthrough | commands | real machines (virtual time) s | nflab wall s | nflab CPU s | speed-up |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const name of names) {
  const script = readFileSync(join(ROOT, 'examples', `${name}.sh`), 'utf8');
  const commands = script.split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#')).length;
  const walls: number[] = [];
  const cpus: number[] = [];
  let virtual = 0;
  for (let i = 0; i < RUNS; i++) {
    const lab = mkdtempSync(join(tmpdir(), 'nflab-bench-walk-'));
    try {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'nflab'), '--lab', lab, 'run', `examples/${name}.sh`], {
        cwd: ROOT,
        env: { ...process.env, NFLAB_EPOCH: '1504342677' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      if (r.status !== 0) throw new Error(`${name} failed (${r.status}): ${r.stderr}`);
      walls.push(wall);
      virtual = virtualSeconds(lab);
    } finally {
      rmSync(lab, { recursive: true, force: true });
    }
    cpus.push(cpuOf(name));
  }
  const wall = median(walls);
  console.log(`| ${name} | ${commands} | ${virtual.toFixed(1)} | ${wall.toFixed(2)} | ${median(cpus).toFixed(2)} | ${(virtual / wall).toFixed(0)}x |`);
}

/** CPU seconds (user + system) of one more run, measured by /usr/bin/time's format when present, else by the wall clock. */
function cpuOf(name: string): number {
  const lab = mkdtempSync(join(tmpdir(), 'nflab-bench-walk-'));
  try {
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, join(ROOT, 'bin', 'nflab'), '--lab', lab, 'run', `examples/${name}.sh`], {
      cwd: ROOT,
      env: { ...process.env, NFLAB_EPOCH: '1504342677' },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const last = r.stderr.trim().split('\n').pop() ?? '';
    const m = /^([\d.]+) ([\d.]+)$/.exec(last);
    return m ? Number(m[1]) + Number(m[2]) : NaN;
  } finally {
    rmSync(lab, { recursive: true, force: true });
  }
}
