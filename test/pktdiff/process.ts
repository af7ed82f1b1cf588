/**
 * Child processes for the kernel side: one-shot commands with a time limit,
 * and the long-running injector spoken to in JSON lines.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Environment for the real tools: C locale, sbin on PATH, nothing else that could change output. */
export const TOOL_ENV: NodeJS.ProcessEnv = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C',
  LC_ALL: 'C',
  HOME: '/root',
};

/** What a finished command printed and how it exited. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit status; -1 when it could not be run, died from a signal or was killed. */
  status: number;
}

/** Runs argv (no shell) with optional standard input; kills it after `timeoutMs`. */
export function runCommand(argv: readonly string[], stdin = '', timeoutMs = 20_000): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: TOOL_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let note = '';
    const timer = setTimeout(() => {
      note = `[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let done = false;
    const finish = (code: number | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + note,
        status: note === '' && code !== null ? code : -1,
      });
    };
    child.on('error', (e) => {
      note += `[${String(e)}]`;
      finish(null);
    });
    child.stdin.on('error', () => {
      // the command may exit without reading its input
    });
    child.stdin.end(stdin);
    child.on('close', finish);
  });
}

/** Runs a command and throws with its output when it does not exit with status 0. */
export async function mustRun(argv: readonly string[], stdin = '', timeoutMs?: number): Promise<CommandResult> {
  const r = await runCommand(argv, stdin, timeoutMs);
  if (r.status !== 0) {
    throw new Error(`\`${argv.join(' ')}\` exited with ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  }
  return r;
}

/**
 * A child process that answers one JSON line with one JSON line. The first
 * line it prints is a greeting, returned by `ready()`.
 */
export class JsonLineProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private readonly lines: unknown[] = [];
  private stderr = '';
  private exited: Error | undefined;

  /** Starts argv; `name` is used in error messages. */
  constructor(
    argv: readonly string[],
    private readonly name: string,
  ) {
    this.child = spawn(argv[0]!, argv.slice(1), { env: TOOL_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (b: Buffer) => (this.stderr += b.toString('utf8')));
    this.child.stdin.on('error', () => {
      // reported through the exit below
    });
    const rl = createInterface({ input: this.child.stdout });
    rl.on('line', (line) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        this.fail(new Error(`${this.name} printed something that is not JSON: ${line}`));
        return;
      }
      const w = this.waiting.shift();
      if (w) w.resolve(value);
      else this.lines.push(value);
    });
    this.child.on('error', (e) => this.fail(new Error(`${this.name}: ${String(e)}`)));
    this.child.on('close', (code, signal) => {
      this.fail(new Error(`${this.name} exited (${signal ?? code})${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
    });
  }

  private fail(e: Error): void {
    this.exited ??= e;
    for (const w of this.waiting.splice(0)) w.reject(this.exited);
  }

  /** The next line it prints, parsed; rejects after `timeoutMs` or when the process ends first. */
  next(timeoutMs: number): Promise<unknown> {
    if (this.lines.length > 0) return Promise.resolve(this.lines.shift());
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new Error(`${this.name} did not answer within ${timeoutMs} ms${this.stderr ? `: ${this.stderr.trim()}` : ''}`));
      }, timeoutMs);
      const entry = {
        resolve: (v: unknown) => {
          clearTimeout(timer);
          resolve(v);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.waiting.push(entry);
    });
  }

  /** Sends one request and returns the answer. */
  request(value: unknown, timeoutMs: number): Promise<unknown> {
    if (this.exited) return Promise.reject(this.exited);
    this.child.stdin.write(`${JSON.stringify(value)}\n`);
    return this.next(timeoutMs);
  }

  /** Ends it at once (its work is done or abandoned) and waits until it is gone. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    this.child.kill('SIGKILL');
    await closed;
  }
}
