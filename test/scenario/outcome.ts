/** What one side (the kernel or nflab) saw of a scenario. */

/** One command's result. */
export interface StepResult {
  stdout: string;
  stderr: string;
  status: number;
}

/** A step's result with when it ran (ms, wall clock on the kernel side). */
export interface TimedStepResult extends StepResult {
  startMs: number;
  endMs: number;
}

/** Everything compared for a scenario. */
export interface ScenarioOutcome {
  steps: TimedStepResult[];
  /** The background capture's stdout as lines (the last one after the final newline) and its stderr, when the scenario has one. */
  capture?: { lines: string[]; stderr: string };
  /** `iptables-save -c` per namespace. */
  saves: Record<string, string>;
  /** `conntrack -L` per namespace. */
  conntrack: Record<string, StepResult>;
  /** The LOG lines of the scenario's rules, without the kernel's timestamp. */
  log: string[];
}
