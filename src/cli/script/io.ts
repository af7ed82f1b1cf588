/**
 * What the lab commands of this directory (run, shell, service, systemctl)
 * share: their result, the way they write output (streamed in order, or
 * collected), and how they run other programs of the lab machine.
 */

/** Result of one command: what it printed and its exit status. */
export interface CommandResult {
  stdout: string;
  stderr: string;
  status: number;
}

/** Receives output as it is produced: fd 1 is stdout, fd 2 stderr. */
export type OutputSink = (fd: 1 | 2, text: string) => void;

/**
 * Runs one program of the lab machine (argv[0] is its name) on the same
 * lab; `background`: started with `&`, as job number `job`; `netns`: in
 * that namespace (a shell entered with nsenter) instead of the caller's.
 */
export type Exec = (
  argv: string[],
  io?: { stdin?: string; write?: OutputSink; background?: { job: number }; netns?: string; redirect?: { stdout?: string; stderr?: string } },
) => Promise<CommandResult>;

/** Everything a lab command needs from its caller. */
export interface LabContext {
  /** Absolute lab directory. */
  lab: string;
  /** Current directory on the host, for script paths. */
  cwd: string;
  /** Standard input when it is given as text (tests, pipes read by the caller). */
  stdin?: string;
  /** Streams output in order; without it, output is collected into the result. */
  write?: OutputSink;
  /** Runs another program of the machine (iptables, service, ...). */
  exec: Exec;
  /** The network namespace commands run in ('' or absent: the host's own). */
  netns?: string;
}

/**
 * Where a command writes: straight to the sink when there is one, else into
 * two buffers returned with the exit status.
 */
export class Output {
  private out = '';
  private err = '';

  constructor(private readonly sink?: OutputSink) {}

  /** Writes to stdout. */
  stdout(text: string): void {
    if (text === '') return;
    if (this.sink) this.sink(1, text);
    else this.out += text;
  }

  /** Writes to stderr. */
  stderr(text: string): void {
    if (text === '') return;
    if (this.sink) this.sink(2, text);
    else this.err += text;
  }

  /** Passes on what another command printed (stdout first, then stderr). */
  pass(r: CommandResult): void {
    this.stdout(r.stdout);
    this.stderr(r.stderr);
  }

  /** The sink to hand to a nested command so its output keeps its place. */
  sinkForChild(): OutputSink {
    return (fd, text) => (fd === 1 ? this.stdout(text) : this.stderr(text));
  }

  /** The command's result: collected output (empty when streamed) and status. */
  result(status: number): CommandResult {
    return { stdout: this.out, stderr: this.err, status };
  }
}
