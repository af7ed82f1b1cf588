/**
 * The reference backend: the real iptables tools against the real kernel,
 * one fresh network namespace per case (`ip netns add`), each step run with
 * `ip netns exec NS argv...` (no shell). The namespace is deleted after the
 * case, also when a step fails, and at process exit for anything left over.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import type { Backend, CaseEnv, Step, StepResult } from './types.js';

/** Prefix of every namespace this harness creates (override with NFLAB_NETNS_PREFIX). */
export const NETNS_PREFIX = process.env['NFLAB_NETNS_PREFIX'] ?? 'hA-';

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

function deleteNetns(name: string): void {
  ip(['netns', 'del', name]);
  rmSync(`/etc/netns/${name}`, { recursive: true, force: true });
  try {
    rmdirSync('/etc/netns'); // only succeeds when nothing else is in it
  } catch {
    // still in use, or never made
  }
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
  } finally {
    ip(['netns', 'del', probe]);
  }
  return undefined;
}

/** Runs one argv inside a namespace and captures what it printed. */
function execIn(ns: string, step: Step): StepResult {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...step.argv], {
    env: TOOL_ENV,
    input: step.stdin ?? '',
    encoding: 'utf8',
    timeout: STEP_TIMEOUT_MS,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error && r.status === null) {
    return { stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}[harness: ${String(r.error)}]`, status: -1 };
  }
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}

/** The real iptables in a throw-away network namespace per case. */
export class KernelBackend implements Backend {
  readonly name = 'kernel';

  async run(steps: readonly Step[], env?: CaseEnv): Promise<StepResult[]> {
    return this.runSync(steps, env);
  }

  /** Synchronous form of `run`. */
  runSync(steps: readonly Step[], env?: CaseEnv): StepResult[] {
    installExitHook();
    const ns = `${NETNS_PREFIX}${process.pid}-${++counter}`;
    const add = ip(['netns', 'add', ns]);
    if (add.status !== 0) throw new Error(`ip netns add ${ns} failed: ${add.stderr.trim()}`);
    live.add(ns);
    try {
      if (env?.hosts !== undefined) {
        // `ip netns exec` bind-mounts /etc/netns/NS/* over /etc/*.
        mkdirSync(`/etc/netns/${ns}`, { recursive: true });
        writeFileSync(`/etc/netns/${ns}/hosts`, env.hosts);
      }
      return steps.map((step) => execIn(ns, step));
    } finally {
      deleteNetns(ns);
    }
  }

  close(): void {
    for (const name of [...live]) deleteNetns(name);
  }
}
