/**
 * The nflab command: global options, then one program of the lab machine
 * (iptables, iptables-save, iptables-restore, ...). `runNflab` is the same
 * entry point in-process, for tests and scripts.
 */
import { readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { createNameDb } from '../core/xt/namedb.js';
import { runIptables, runIptablesRestore, runIptablesSave, type ToolResult } from './iptables/tool.js';
import { acquireLock, labDir, LabDamaged, loadState, readLabFile, saveState } from './lab/store.js';

/** Result of one nflab invocation. */
export interface RunResult {
  stdout: string;
  stderr: string;
  status: number;
}

/** Options for an in-process invocation. */
export interface RunOptions {
  /** Lab directory (overrides --lab, $NFLAB_LAB and ./.nflab). */
  lab?: string;
  /** Standard input, for iptables-restore without a file. */
  stdin?: string;
  /** Current directory for relative paths. */
  cwd?: string;
}

const USAGE = `Usage: nflab [--lab DIR] COMMAND [ARGS...]

Commands (run on the lab's machine):
  iptables ARGS...           iptables v1.8.9 (nf_tables)
  iptables-save [-c] [-t T]  dump the rules
  iptables-restore [FILE]    load rules (stdin when no file)

The lab is --lab DIR, else $NFLAB_LAB, else ./.nflab.
`;

/** Machine programs that operate on the lab's kernel state. */
const TOOLS = new Set(['iptables', 'iptables-nft', 'iptables-save', 'iptables-nft-save', 'iptables-restore', 'iptables-nft-restore']);

/** Runs one nflab command line and returns its output and exit status. */
export async function runNflab(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  let lab = opts.lab;
  let i = 0;
  while (i < args.length && args[i]!.startsWith('--lab')) {
    if (args[i] === '--lab') {
      if (args[i + 1] === undefined) return { stdout: '', stderr: 'nflab: --lab requires a directory\n', status: 2 };
      lab ??= args[i + 1];
      i += 2;
    } else {
      lab ??= args[i]!.slice('--lab='.length);
      i += 1;
    }
  }
  const rest = args.slice(i);
  if (rest.length === 0 || rest[0] === '--help' || rest[0] === 'help') {
    return { stdout: USAGE, stderr: '', status: rest.length === 0 ? 2 : 0 };
  }
  const dir = resolve(opts.cwd ?? process.cwd(), labDir(lab));
  const tool = basename(rest[0]!);
  if (!TOOLS.has(tool)) return { stdout: '', stderr: `nflab: unknown command '${rest[0]}'\n${USAGE}`, status: 127 };
  return runTool(dir, tool.replace('-nft', ''), rest.slice(1), opts);
}

function runTool(lab: string, tool: string, argv: string[], opts: RunOptions): RunResult {
  const release = acquireLock(lab);
  try {
    const state = loadState(lab);
    const names = createNameDb(readLabFile(lab, '/etc/hosts') ?? '', readLabFile(lab, '/etc/networks'));
    let r: ToolResult;
    if (tool === 'iptables') {
      r = runIptables(argv, state.ruleset, names);
    } else if (tool === 'iptables-save') {
      r = runIptablesSave(argv, state.ruleset, names, new Date());
    } else {
      r = runIptablesRestore(argv, state.ruleset, names, (file) => {
        if (file === undefined) return opts.stdin ?? '';
        try {
          return readFileSync(resolve(opts.cwd ?? process.cwd(), file), 'utf8');
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          return { error: `Can't open ${file}: ${err.code === 'ENOENT' ? 'No such file or directory' : err.message}\n` };
        }
      });
    }
    if (r.ruleset) saveState(lab, { ...state, ruleset: r.ruleset });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  } catch (e) {
    if (e instanceof LabDamaged) return { stdout: '', stderr: e.message + '\n', status: 1 };
    throw e;
  } finally {
    release();
  }
}

/** Entry point of bin/nflab. */
export async function main(args: string[]): Promise<void> {
  const needsStdin = args.some((a) => a.endsWith('iptables-restore') || a.endsWith('iptables-nft-restore'));
  let stdin: string | undefined;
  if (needsStdin && !process.stdin.isTTY) {
    try {
      stdin = readFileSync(0, 'utf8');
    } catch {
      stdin = '';
    }
  }
  const r = await runNflab(args, { stdin });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  process.exitCode = r.status;
}
