/**
 * Backends the corpus runners drive: nflab in-process, or the real iptables in a network namespace.
 *
 * A runner only ever asks a {@link Lab} to run one program invocation (argv[0] names the program:
 * `iptables`, `iptables-save`, `iptables-restore`, `ip6tables-restore`, ...). The same runner code
 * therefore measures nflab AND, for checking the runner itself, the real kernel.
 */
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What one program invocation produced. */
export interface RunResult {
  /** Everything written to standard output. */
  stdout: string;
  /** Everything written to standard error. */
  stderr: string;
  /** Exit status (0 = success). */
  status: number;
}

/** One isolated firewall state (a fresh nflab lab directory, or a fresh network namespace). */
export interface Lab {
  /** Run `argv` (argv[0] is the program) with `stdin` as standard input. */
  run(argv: string[], stdin?: string): Promise<RunResult>;
  /** Throw the state away. */
  close(): Promise<void>;
}

/** Makes fresh labs; `name` says which implementation answers. */
export interface Backend {
  /** 'nflab' or 'kernel'. */
  readonly name: string;
  /** A new, empty lab. */
  newLab(): Promise<Lab>;
}

/** Signature of nflab's in-process entry point (src/cli/main.ts). */
export type RunNflab = (
  args: string[],
  opts: { lab: string; stdin?: string },
) => Promise<{ stdout: string; stderr: string; status: number }>;

let cachedRunNflab: RunNflab | undefined;

/**
 * Load `runNflab` from the compiled CLI (dist/src/cli/main.js). The import is dynamic so that the
 * suites compile while the CLI is still being written; a missing CLI fails the suites at run time.
 */
export async function loadRunNflab(): Promise<RunNflab> {
  if (cachedRunNflab) return cachedRunNflab;
  const url = new URL('../../src/cli/main.js', import.meta.url);
  const mod = (await import(url.href)) as { runNflab?: RunNflab };
  if (typeof mod.runNflab !== 'function') throw new Error(`${url.pathname} exports no runNflab`);
  cachedRunNflab = mod.runNflab;
  return cachedRunNflab;
}

/** Lab directories made by this process and not yet removed (removed on exit if a run stops half-way). */
const openLabDirs = new Set<string>();
let labExitHookInstalled = false;

/**
 * nflab, run in-process; each lab is a fresh temporary directory. An exception thrown by nflab becomes
 * status 255 with `nflab threw: ...` on stderr.
 */
export function nflabBackend(): Backend {
  return {
    name: 'nflab',
    async newLab(): Promise<Lab> {
      const runNflab = await loadRunNflab();
      const dir = await mkdtemp(join(tmpdir(), 'nflab-corpus-'));
      openLabDirs.add(dir);
      if (!labExitHookInstalled) {
        labExitHookInstalled = true;
        process.on('exit', () => {
          for (const d of openLabDirs) rmSync(d, { recursive: true, force: true });
        });
      }
      return {
        async run(argv: string[], stdin?: string): Promise<RunResult> {
          const opts: { lab: string; stdin?: string } = { lab: dir };
          if (stdin !== undefined) opts.stdin = stdin;
          try {
            const r = await runNflab(argv, opts);
            return { stdout: r.stdout, stderr: r.stderr, status: r.status };
          } catch (e) {
            // A crash is reported as a failed command so that one bad line does not hide the rest.
            const what = e instanceof Error ? (e.stack ?? e.message) : String(e);
            return { stdout: '', stderr: `nflab threw: ${what.split('\n').slice(0, 3).join(' <- ')}\n`, status: 255 };
          }
        },
        async close(): Promise<void> {
          await rm(dir, { recursive: true, force: true });
          openLabDirs.delete(dir);
        },
      };
    },
  };
}

let nsCounter = 0;

/** Namespaces made by this process and not yet deleted (removed on exit if a run dies half-way). */
const openNamespaces = new Set<string>();
let exitHookInstalled = false;

/** Delete every namespace this process still holds. */
function deleteOpenNamespaces(): void {
  for (const ns of openNamespaces) spawnSync('ip', ['netns', 'del', ns]);
  openNamespaces.clear();
}

/**
 * The real iptables of this machine, one fresh network namespace per lab (needs root and iproute2).
 * Namespaces are named `<prefix><pid>-<n>` and deleted by `close()`; the prefix is
 * $NFLAB_NETNS_PREFIX when set, else `prefix`, else `nflabt-`.
 */
export function kernelBackend(prefix?: string): Backend {
  const pfx = process.env['NFLAB_NETNS_PREFIX'] ?? (prefix !== undefined ? `${prefix}-` : 'nflabt-');
  return {
    name: 'kernel',
    async newLab(): Promise<Lab> {
      const ns = `${pfx}${process.pid}-${nsCounter++}`;
      const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
      if (add.status !== 0) throw new Error(`ip netns add ${ns}: ${add.stderr}`);
      openNamespaces.add(ns);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on('exit', deleteOpenNamespaces);
      }
      return {
        run(argv: string[], stdin?: string): Promise<RunResult> {
          return new Promise((resolveRun, reject) => {
            const child = spawn('ip', ['netns', 'exec', ns, ...argv], {
              stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
            });
            const out: Buffer[] = [];
            const err: Buffer[] = [];
            child.stdout!.on('data', (b: Buffer) => out.push(b));
            child.stderr!.on('data', (b: Buffer) => err.push(b));
            child.on('error', reject);
            child.on('close', (code, signal) => {
              resolveRun({
                stdout: Buffer.concat(out).toString('utf8'),
                stderr: Buffer.concat(err).toString('utf8'),
                status: code ?? (signal ? 128 : 1),
              });
            });
            if (child.stdin) {
              child.stdin.on('error', () => undefined); // the program may exit without reading it all
              child.stdin.end(stdin);
            }
          });
        },
        async close(): Promise<void> {
          spawnSync('ip', ['netns', 'del', ns]);
          openNamespaces.delete(ns);
        },
      };
    },
  };
}

/** Run `body` with a fresh lab of `backend`, closing the lab afterwards whatever happens. */
export async function withLab<T>(backend: Backend, body: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await backend.newLab();
  try {
    return await body(lab);
  } finally {
    await lab.close();
  }
}

/**
 * Why the real-kernel backend cannot run here (not root, no `ip`, no iptables), or undefined when it
 * can. Suites use it to run their runner self-checks against the real iptables when possible.
 */
export function kernelUnavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.status !== 0) return 'iproute2 `ip netns` unavailable';
  const v = spawnSync('iptables', ['-V'], { encoding: 'utf8' });
  if (v.status !== 0 || !v.stdout.startsWith('iptables v1.8.9 (nf_tables)')) return 'iptables v1.8.9 (nf_tables) not installed';
  return undefined;
}
