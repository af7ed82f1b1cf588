/**
 * The reference backend: the real iptables tools against the real kernel,
 * one fresh network namespace per case (`ip netns add`), each step run with
 * `ip netns exec NS argv...` (no shell). The namespace is deleted after the
 * case, also when a step fails, and at process exit for anything left over.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Backend, CaseEnv, Step, StepResult } from './types.js';

/** Prefix of every namespace this harness creates (override with NFLAB_NETNS_PREFIX). */
export const NETNS_PREFIX = process.env['NFLAB_NETNS_PREFIX'] ?? 'nflabt-';

/** Seconds a single step may take before it is killed. */
const STEP_TIMEOUT_MS = 20_000;

/** Environment for the real tools: C locale, sbin on PATH, nothing else that could change output. */
const TOOL_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C',
  LC_ALL: 'C',
  HOME: '/root',
};

const live = new Set<string>();
let exitHookInstalled = false;
let counter = 0;

function ip(args: string[]): { status: number; stderr: string } {
  const r = spawnSync('ip', args, { env: TOOL_ENV, encoding: 'utf8', timeout: STEP_TIMEOUT_MS });
  return { status: r.status ?? -1, stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/** Runs `ip ARGS` without blocking the event loop. */
function ipAsync(args: string[]): Promise<{ status: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('ip', args, { env: TOOL_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.on('error', (e) => (stderr += String(e)));
    child.on('close', (code) => resolve({ status: code ?? -1, stderr }));
  });
}

/** True when the case brings its own /etc files. */
function hasFiles(env: CaseEnv | undefined): boolean {
  return env?.hosts !== undefined || env?.networks !== undefined;
}

function removeHostsDir(name: string): void {
  rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
  try {
    rmdirSync('/etc/netns'); // only succeeds when nothing else is in it
  } catch {
    // still in use, or never made
  }
}

function deleteNetns(name: string): void {
  ip(['netns', 'del', name]);
  removeHostsDir(name);
  live.delete(name);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const name of [...live]) deleteNetns(name);
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const name of [...live]) deleteNetns(name);
      process.exit(130);
    });
  }
}

/** The version line nflab reproduces; the reference tools must print exactly this. */
export const EXPECTED_IPTABLES_VERSION = 'iptables v1.8.9 (nf_tables)';

let probedVersion: string | undefined;

/** What `iptables --version` printed in the probe namespace (after kernelUnavailableReason ran). */
export function probedIptablesVersion(): string | undefined {
  return probedVersion;
}

/** Why the kernel backend cannot run here, or undefined when it can (root and `ip netns` work). */
export function kernelUnavailableReason(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not running as root';
  const probe = `${NETNS_PREFIX}probe-${process.pid}`;
  const add = ip(['netns', 'add', probe]);
  if (add.status !== 0) return `\`ip netns add\` failed: ${add.stderr.trim()}`;
  try {
    const r = spawnSync('ip', ['netns', 'exec', probe, 'iptables', '--version'], {
      env: TOOL_ENV,
      encoding: 'utf8',
      timeout: STEP_TIMEOUT_MS,
    });
    if (r.status !== 0) return `iptables does not run in a namespace: ${r.stderr || String(r.error)}`;
    probedVersion = r.stdout.trim();
  } finally {
    ip(['netns', 'del', probe]);
  }
  return undefined;
}

/** Runs one argv inside a namespace and captures what it printed. */
function execIn(ns: string, step: Step): Promise<StepResult> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', ns, ...step.argv], { env: TOOL_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let note = '';
    const timer = setTimeout(() => {
      note = `[harness: killed after ${STEP_TIMEOUT_MS} ms]`;
      child.kill('SIGKILL');
    }, STEP_TIMEOUT_MS);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let done = false;
    const finish = (code: number | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      const stderr = Buffer.concat(err).toString('utf8') + note;
      resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr, status: note === '' && code !== null ? code : -1 });
    };
    child.on('error', (e) => {
      note += `[harness: ${String(e)}]`;
      finish(null);
    });
    child.stdin.on('error', () => {
      // the tool may exit without reading its input
    });
    child.stdin.end(step.stdin ?? '');
    child.on('close', finish);
  });
}

/** The real iptables in a throw-away network namespace per case. */
export class KernelBackend implements Backend {
  readonly name = 'kernel';

  /** Runs the steps in a new namespace (with the case's /etc files, if any) and deletes it. */
  async run(steps: readonly Step[], env?: CaseEnv): Promise<StepResult[]> {
    installExitHook();
    const ns = `${NETNS_PREFIX}${process.pid}-${++counter}`;
    live.add(ns);
    const add = await ipAsync(['netns', 'add', ns]);
    if (add.status !== 0) {
      live.delete(ns);
      throw new Error(`ip netns add ${ns} failed: ${add.stderr.trim()}`);
    }
    try {
      if (hasFiles(env)) {
        // `ip netns exec` bind-mounts /etc/netns/NS/* over /etc/*.
        mkdirSync(`/etc/netns/${ns}`, { recursive: true });
        if (env?.hosts !== undefined) writeFileSync(`/etc/netns/${ns}/hosts`, env.hosts);
        if (env?.networks !== undefined) writeFileSync(`/etc/netns/${ns}/networks`, env.networks);
      }
      const results: StepResult[] = [];
      for (const step of steps) results.push(await execIn(ns, step));
      return results;
    } finally {
      await ipAsync(['netns', 'del', ns]);
      if (hasFiles(env)) removeHostsDir(ns);
      live.delete(ns);
    }
  }

  /** Deletes any namespace still alive (only after an interrupted run). */
  close(): void {
    for (const name of [...live]) deleteNetns(name);
  }
}
