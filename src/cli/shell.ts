/**
 * `nflab shell`: a prompt on the lab machine running the same commands as
 * scripts (iptables, service, systemctl, echo, cat, variables, `sh FILE`...).
 *
 * On a terminal it shows a CentOS-style prompt, keeps its history in
 * <lab>/.nflab_history, and ends with `exit` or Ctrl-D (Ctrl-C drops the line
 * being typed). When standard input is not a terminal it reads commands line
 * by line without prompts, like `bash < file`. Unlike scripts it does not
 * stop when a command fails (no `set -e`), as shells don't; its exit status is
 * that of the last command. `nflab shell -c 'COMMANDS'` runs one string.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type ShellState } from './script/builtins.js';
import { Output, type CommandResult, type LabContext } from './script/io.js';
import { parseScript } from './script/parse.js';
import { newState, runLists, type Where } from './script/run.js';
import { ScriptSyntaxError } from './script/tokenize.js';

/** The prompt, as on the tutorials' CentOS machines. */
export const PS1 = '[root@localhost ~]# ';
/** The prompt for a command's next line. */
export const PS2 = '> ';

/** How many history lines are kept. */
const HISTORY_SIZE = 1000;

/** Path of the shell's history file in a lab. */
export function historyPath(lab: string): string {
  return join(lab, '.nflab_history');
}

/** The lab's history, oldest first. */
export function loadHistory(lab: string): string[] {
  try {
    return readFileSync(historyPath(lab), 'utf8').split('\n').filter((l) => l !== '').slice(-HISTORY_SIZE);
  } catch {
    return [];
  }
}

/** Adds a line to the lab's history. */
export function appendHistory(lab: string, line: string): void {
  if (line.trim() === '') return;
  mkdirSync(lab, { recursive: true });
  appendFileSync(historyPath(lab), line.replace(/\n/g, ' ') + '\n');
}

/** Whether the text ends with a backslash-newline (the command goes on). */
function continues(text: string): boolean {
  const m = /(\\*)\n$/.exec(text);
  return m !== null && m[1]!.length % 2 === 1;
}

/**
 * Reads commands one line at a time and runs each complete command. Lines
 * that leave a quote open, end in `\` or `&&`/`||` wait for more.
 */
export class LineShell {
  readonly state: ShellState;
  private buffer = '';
  private bufferLine = 1;
  private lineNo = 0;
  private ended = false;

  constructor(
    private readonly ctx: LabContext,
    private readonly out: Output,
    private readonly interactive: boolean,
  ) {
    this.state = newState('nflab', []);
    this.state.errexit = false;
  }

  /** True once `exit` ran (or a fatal error). */
  get done(): boolean {
    return this.ended;
  }

  /** True while a command waits for its next line. */
  get pending(): boolean {
    return this.buffer !== '';
  }

  private where: Where = (line) => (this.interactive ? 'nflab: ' : `nflab: line ${line}: `);

  /** Drops a half-typed command (Ctrl-C). */
  cancel(): void {
    this.buffer = '';
  }

  /** Feeds one line (without its newline). */
  async feed(line: string): Promise<void> {
    this.lineNo++;
    if (this.buffer === '') this.bufferLine = this.lineNo;
    this.buffer += line + '\n';
    if (continues(this.buffer)) return;
    let lists;
    try {
      lists = parseScript(this.buffer, this.bufferLine);
    } catch (e) {
      if (!(e instanceof ScriptSyntaxError)) throw e;
      if (e.incomplete) return;
      this.out.stderr(`${this.where(e.line)}${e.message}\n`);
      this.state.status = 2;
      this.buffer = '';
      return;
    }
    this.buffer = '';
    const o = await runLists(lists, this.state, this.ctx, this.out, this.where);
    if (o.ended) this.ended = true;
  }

  /** Called at the end of input: a command still open is a syntax error. */
  finish(): void {
    if (this.buffer === '' || continues(this.buffer)) {
      this.buffer = '';
      return;
    }
    try {
      parseScript(this.buffer, this.bufferLine);
    } catch (e) {
      if (!(e instanceof ScriptSyntaxError)) throw e;
      this.out.stderr(`${this.where(e.line)}${e.message}\n`);
      this.state.status = 2;
    }
    this.buffer = '';
  }
}

/** Runs the shell over a text (tests, `-c`): no prompts, no history. */
async function runText(text: string, shell: LineShell): Promise<void> {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const l of lines) {
    await shell.feed(l.replace(/\r$/, ''));
    if (shell.done) return;
  }
  shell.finish();
}

/** Runs the shell over process.stdin: prompts and history on a terminal. */
async function runStdin(ctx: LabContext, shell: LineShell, interactive: boolean): Promise<void> {
  const rl = createInterface({
    input: process.stdin,
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
    history: interactive ? loadHistory(ctx.lab).reverse() : [],
    historySize: HISTORY_SIZE,
  });
  const prompt = (): void => {
    if (!interactive) return;
    rl.setPrompt(shell.pending ? PS2 : PS1);
    rl.prompt();
  };
  rl.on('SIGINT', () => {
    // Like bash: show ^C, forget the line (and any unfinished command), prompt afresh.
    process.stdout.write('^C\n');
    shell.cancel();
    rl.setPrompt(PS1);
    rl.write(null, { ctrl: true, name: 'e' });
    rl.write(null, { ctrl: true, name: 'u' });
  });
  prompt();
  for await (const line of rl) {
    if (interactive) appendHistory(ctx.lab, line);
    await shell.feed(line);
    if (shell.done) break;
    prompt();
  }
  if (!shell.done) shell.finish();
  rl.close();
}

/** `nflab shell [-c COMMANDS]`. */
export async function runShell(argv: string[], ctx: LabContext): Promise<CommandResult> {
  const fromText = argv[0] === '-c' ? argv[1] : ctx.stdin;
  if ((argv[0] === '-c' && argv.length !== 2) || (argv[0] !== '-c' && argv.length > 0)) {
    const out = new Output(ctx.write);
    out.stderr("Usage: nflab shell [-c 'COMMANDS']\n");
    return out.result(2);
  }
  const interactive = fromText === undefined && process.stdin.isTTY === true;
  const sink = ctx.write ?? (fromText === undefined ? (fd: 1 | 2, s: string) => void (fd === 1 ? process.stdout : process.stderr).write(s) : undefined);
  const out = new Output(sink);
  const shell = new LineShell({ ...ctx, write: sink }, out, interactive);
  if (fromText !== undefined) await runText(fromText, shell);
  else await runStdin(ctx, shell, interactive);
  if (interactive) out.stderr('exit\n');
  return out.result(shell.state.status);
}
