/**
 * The backend under test: nflab's iptables tools run in-process through
 * `runNflab`, one fresh temporary lab directory per case. The machine's
 * /etc/hosts is copied to <lab>/fs/etc/hosts first so that host names
 * resolve the same way on both sides (and /etc/networks, which listings
 * consult for network names).
 */
import { accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, CaseEnv, Step, StepResult } from './types.js';

/** The in-process entry point of src/cli/main.ts. */
export type RunNflab = (
  args: string[],
  opts: { lab: string; stdin?: string },
) => Promise<{ stdout: string; stderr: string; status: number }>;

/** Where the compiled nflab CLI lives, relative to this compiled file (dist/test/diff/). */
const MAIN_URL = new URL('../../src/cli/main.js', import.meta.url);

let loaded: RunNflab | undefined;

/** Loads runNflab from dist/src/cli/main.js; throws a clear error when nflab is not built. */
export async function loadRunNflab(): Promise<RunNflab> {
  if (loaded) return loaded;
  let mod: { runNflab?: RunNflab };
  try {
    mod = (await import(MAIN_URL.href)) as { runNflab?: RunNflab };
  } catch (e) {
    throw new Error(`cannot load nflab from ${MAIN_URL.pathname} (run \`npm run build\`): ${String(e)}`);
  }
  if (typeof mod.runNflab !== 'function') throw new Error(`${MAIN_URL.pathname} does not export runNflab`);
  loaded = mod.runNflab;
  return loaded;
}

/** Why the nflab backend cannot run, or undefined when dist/src/cli/main.js is there. */
export function nflabUnavailableReason(): string | undefined {
  return existsSync(MAIN_URL) ? undefined : `nflab is not built (${MAIN_URL.pathname} missing)`;
}

/**
 * Where lab directories go: NFLAB_DIFF_TMP, else /dev/shm when it exists (the
 * lab store syncs every write, and on tmpfs that costs nothing), else the
 * system temp dir.
 */
function labParent(): string {
  const given = process.env['NFLAB_DIFF_TMP'];
  if (given) return given;
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** nflab in a throw-away lab directory per case. */
export class NflabBackend implements Backend {
  readonly name = 'nflab';
  /** Keep lab directories after the case (for debugging), from NFLAB_DIFF_KEEP_LABS=1. */
  private readonly keep = process.env['NFLAB_DIFF_KEEP_LABS'] === '1';

  /** Runs the steps in-process on a new lab directory, removed afterwards. */
  async run(steps: readonly Step[], env?: CaseEnv): Promise<StepResult[]> {
    const runNflab = await loadRunNflab();
    const lab = mkdtempSync(join(labParent(), 'nflab-diff-'));
    try {
      mkdirSync(join(lab, 'fs', 'etc'), { recursive: true });
      for (const file of ['hosts', 'networks'] as const) {
        const dest = join(lab, 'fs', 'etc', file);
        const given = env?.[file];
        if (given !== undefined) writeFileSync(dest, given);
        else if (existsSync(`/etc/${file}`)) cpSync(`/etc/${file}`, dest);
      }
      const out: StepResult[] = [];
      for (const step of steps) {
        try {
          const opts: { lab: string; stdin?: string } = { lab };
          if (step.stdin !== undefined) opts.stdin = step.stdin;
          const r = await runNflab([...step.argv], opts);
          out.push({ stdout: r.stdout, stderr: r.stderr, status: r.status });
        } catch (e) {
          const err = e instanceof Error ? (e.stack ?? e.message) : String(e);
          out.push({ stdout: '', stderr: `[nflab threw] ${err}\n`, status: -1 });
        }
      }
      return out;
    } finally {
      if (!this.keep) rmSync(lab, { recursive: true, force: true });
    }
  }
}
