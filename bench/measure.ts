/**
 * Measuring child processes for the benchmark: wall time and peak resident memory through GNU
 * time (`/usr/bin/time -f`), fresh network namespaces for the real tools, and medians.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** One measured run of a command. */
export interface Sample {
  /** Wall-clock seconds as GNU time reports them (10 ms resolution). */
  secs: number;
  /** Peak resident set size in MiB (GNU time's %M). */
  peakMB: number;
  /** User plus system CPU seconds. */
  cpuSecs: number;
  /** Exit status of the measured command. */
  status: number;
  /** The command's standard error (trimmed to the first 2,000 characters). */
  stderr: string;
}

/** Where a measured command reads and writes. */
export interface RunIo {
  /** File given as standard input, or none (/dev/null). */
  stdinFile?: string;
  /** File that receives standard output; /dev/null when absent. */
  stdoutFile?: string;
  /** Network namespace to run in (through `ip netns exec`), or none. */
  netns?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
}

/** Path of GNU time; the package `time` provides it on Debian. */
export const GNU_TIME = '/usr/bin/time';

let timeFileSerial = 0;

/**
 * Runs `argv` under GNU time and returns what it measured. Only the measured command runs under
 * time: `ip netns exec` wraps time, so the namespace switch costs nothing in the numbers.
 */
export function measure(argv: string[], io: RunIo, scratch: string): Promise<Sample> {
  const timeFile = join(scratch, `time-${process.pid}-${timeFileSerial++}.txt`);
  const timed = [GNU_TIME, '-f', '%e %M %U %S', '-o', timeFile, ...argv];
  const full = io.netns ? ['ip', 'netns', 'exec', io.netns, ...timed] : timed;
  const stdin = io.stdinFile ? openSync(io.stdinFile, 'r') : 'ignore';
  const stdout = openSync(io.stdoutFile ?? '/dev/null', 'w');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(full[0] as string, full.slice(1), {
      stdio: [stdin, stdout, 'pipe'],
      env: { ...process.env, ...io.env },
    });
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      if (stderr.length < 2000) stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (typeof stdin === 'number') closeSync(stdin);
      closeSync(stdout);
      let fields: number[] = [];
      try {
        // GNU time prints "Command exited with non-zero status N" before the format line.
        const lines = readFileSync(timeFile, 'utf8').trim().split('\n');
        fields = (lines[lines.length - 1] ?? '').split(' ').map(Number);
        rmSync(timeFile, { force: true });
      } catch {
        /* time did not run: reported through status */
      }
      const [secs = NaN, kb = NaN, user = NaN, sys = NaN] = fields;
      resolvePromise({ secs, peakMB: kb / 1024, cpuSecs: user + sys, status: code ?? 128, stderr: stderr.slice(0, 2000) });
    });
  });
}

/** Network namespaces this process created and has not deleted yet. */
const liveNamespaces = new Set<string>();
let nsSerial = 0;

/** Creates a fresh network namespace named with the helper tag, the pid and a counter. */
export function createNetns(): string {
  const name = `nflab-bench-${process.pid}-${nsSerial++}`;
  const r = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns add ${name} failed: ${r.stderr}`);
  liveNamespaces.add(name);
  return name;
}

/** Deletes a namespace made by {@link createNetns}. */
export function deleteNetns(name: string): void {
  spawnSync('ip', ['netns', 'del', name], { encoding: 'utf8' });
  liveNamespaces.delete(name);
}

/** Deletes every namespace still alive; also installed as an exit and signal handler. */
export function deleteAllNetns(): void {
  for (const name of [...liveNamespaces]) deleteNetns(name);
}

process.on('exit', deleteAllNetns);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    deleteAllNetns();
    process.exit(130);
  });
}

/** Runs a command inside a namespace without measuring it; returns stdout, stderr and status. */
export function runIn(netns: string | undefined, argv: string[], input?: string): { stdout: string; stderr: string; status: number } {
  const full = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
  const r = spawnSync(full[0] as string, full.slice(1), { encoding: 'utf8', input, maxBuffer: 1 << 30 });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? 128 };
}

/** Median of a non-empty list of numbers (mean of the middle two for even lengths). */
export function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = v.length >> 1;
  return v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2;
}

/** True when `cmd` can be found and started (used to skip tools that are not installed). */
export function haveCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}
