/**
 * The shapes shared by every part of the differential harness: a step is one
 * command line, a case is a list of steps run against one fresh firewall, a
 * backend runs a case and returns what each step printed.
 */

/** One command line: argv[0] is the tool ('iptables', 'iptables-save', 'iptables-restore'). */
export interface Step {
  /** The words of the command line, tool name first. No shell is involved. */
  argv: string[];
  /** Text fed to the command's standard input (iptables-restore). */
  stdin?: string;
}

/** What one step printed and how it exited. */
export interface StepResult {
  stdout: string;
  stderr: string;
  /** Exit status; -1 when the command could not be run or died from a signal. */
  status: number;
}

/** A named list of steps, run in order against one fresh, empty firewall. */
export interface Case {
  /** Unique, human-readable name ("seed000/ssh-only", "err/bad-port-range"). */
  name: string;
  steps: Step[];
  /** The machine the case runs on; by default the host's own files. */
  env?: CaseEnv;
}

/** Per-case machine files, seen identically by both backends. */
export interface CaseEnv {
  /**
   * Content of /etc/hosts for this case (the kernel side bind-mounts it with
   * /etc/netns/NS/hosts, nflab gets it as <lab>/fs/etc/hosts). Default: the
   * machine's /etc/hosts.
   */
  hosts?: string;
  /** Content of /etc/networks (getnetbyname/getnetbyaddr), handled like `hosts`. */
  networks?: string;
}

/**
 * One implementation of the iptables tools. Every call to `run` starts from an
 * empty firewall (a new network namespace, a new lab directory) and throws it
 * away afterwards.
 */
export interface Backend {
  /** Short name used in messages: 'kernel' or 'nflab'. */
  readonly name: string;
  /** Runs the steps in order on one fresh firewall; one result per step. */
  run(steps: readonly Step[], env?: CaseEnv): Promise<StepResult[]>;
  /** Releases whatever the backend still holds (idempotent). */
  close?(): void;
}
