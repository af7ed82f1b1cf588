/**
 * Commands that run the lab's world: programs (ping, nc, nmap, tcpdump,
 * daemons...), `sleep`, `kill`. Each loads the whole lab under its lock,
 * restarts the background programs where the last command left them, runs,
 * and saves everything with the hosts' new log lines.
 */
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync, appendFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FsEntry } from '../core/programs/vsftpd-ls.js';
import { World, type WorldEnv } from '../core/world/world.js';
import { programByName, stopHookByName } from '../core/programs/registry.js';
import type { HostFs } from '../core/programs/api.js';
import { createSocketLayer } from '../core/stack/index.js';
import { UnsupportedInPath } from '../core/netfilter/traverse.js';
import type { NsRef } from '../core/world/state.js';
import { closeLab, hostnameOf, openLab, type LabSession } from './lab/session.js';
import { hostDir, labFile, LabDamaged } from './lab/store.js';
import type { MachineCall, MachineResult } from './machine.js';

/** How a program command was started. */
export interface ProgramCallOptions {
  /** Standard input. */
  stdin?: string;
  /** Streams output as it happens (else it is collected into the result). */
  write?: (fd: 1 | 2, text: string) => void;
  /** Started with `&`: it runs on in the background (its job number is the next free one). */
  background?: { job: number };
  /** Where its later output goes when started in the background with redirections. */
  redirect?: { stdout?: string; stderr?: string };
}

/** A host's files, on disk under its directory. */
export function hostFs(dir: string): HostFs {
  return {
    read: (path) => {
      try {
        return readFileSync(labFile(dir, path), 'utf8');
      } catch {
        return undefined;
      }
    },
    write: (path, text) => {
      const f = labFile(dir, path);
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(`${f}.tmp-${process.pid}`, text);
      renameSync(`${f}.tmp-${process.pid}`, f);
    },
    append: (path, text) => {
      const f = labFile(dir, path);
      mkdirSync(dirname(f), { recursive: true });
      appendFileSync(f, text);
    },
    writeBytes: (path, data) => {
      const f = labFile(dir, path);
      mkdirSync(dirname(f), { recursive: true });
      writeFileSync(f, data);
    },
    readBytes: (path: string) => {
      try {
        return new Uint8Array(readFileSync(labFile(dir, path)));
      } catch {
        return undefined;
      }
    },
    // directories, for servers that list them (vsftpd's LIST)
    list: (path: string) => {
      try {
        return readdirSync(labFile(dir, path))
          .sort()
          .map((name) => entryOf(join(labFile(dir, path), name), name))
          .filter((e): e is FsEntry => e !== undefined);
      } catch {
        return undefined;
      }
    },
    stat: (path: string) => entryOf(labFile(dir, path), path.replace(/\/+$/, '').split('/').pop() || '/'),
  } as HostFs;
}

/** A file of the host as a directory listing shows it. */
function entryOf(file: string, name: string): FsEntry | undefined {
  try {
    const st = statSync(file);
    return { name, type: st.isDirectory() ? 'dir' : 'file', size: st.isDirectory() ? 4096 : st.size, mtimeSec: Math.floor(st.mtimeMs / 1000), mode: st.isDirectory() ? 0o755 : 0o644, uid: 0, gid: 0, nlink: st.isDirectory() ? 2 : 1 };
  } catch {
    return undefined;
  }
}

/** The wall clock a machine booting now starts at: $NFLAB_EPOCH when set (reproducible logs), else now. */
export function bootTime(): number {
  const e = process.env.NFLAB_EPOCH;
  if (e !== undefined && /^\d+$/.test(e)) return Number(e);
  return Math.floor(Date.now() / 1000);
}

/** The world's surroundings for a session: the hosts' files, and output into `write`. */
function worldEnv(s: LabSession, write: (fd: 1 | 2, text: string) => void, cwdFs?: (host: string) => HostFs): WorldEnv {
  return {
    fs: (host) => cwdFs?.(host) ?? hostFs(hostDir(s.root, host)),
    hostname: (host) => hostnameOf(hostDir(s.root, host)),
    write,
    bootWall: bootTime,
    createSockets: createSocketLayer,
    program: programByName,
    onStop: stopHookByName,
  };
}

/**
 * Runs `fn` on the lab's running world (background programs restarted)
 * and saves the lab. `fn` returns the exit status.
 */
export function runInWorld(call: MachineCall, fn: (world: World, ref: NsRef, write: (fd: 1 | 2, text: string) => void) => number, opts: { write?: (fd: 1 | 2, text: string) => void } = {}): MachineResult {
  let session: LabSession;
  try {
    session = openLab(call.lab);
  } catch (e) {
    if (e instanceof LabDamaged) return { stdout: '', stderr: e.message + '\n', status: 1 };
    throw e;
  }
  let stdout = '';
  let stderr = '';
  const write =
    opts.write ??
    ((fd: 1 | 2, text: string) => {
      if (fd === 1) stdout += text;
      else stderr += text;
    });
  let save = false;
  try {
    const ref = { host: session.host, netns: call.netns };
    if (!session.world.hosts[ref.host]?.netns[ref.netns]) {
      return { stdout: '', stderr: `Cannot open network namespace "${call.netns}": No such file or directory\n`, status: 1 };
    }
    let world: World;
    try {
      world = new World(session.world, worldEnv(session, write));
      world.resumeBackground();
    } catch (e) {
      if (e instanceof UnsupportedInPath) return { stdout: '', stderr: `nflab: ${e.message}\n`, status: 1 };
      throw e;
    }
    const status = fn(world, ref, write);
    world.save();
    save = true;
    return { stdout, stderr, status };
  } finally {
    closeLab(session, save);
  }
}

/** Runs a lab program (ping, nc, nmap, ...) in the foreground, or starts it in the background. */
export function runProgramCommand(argv: string[], call: MachineCall, opts: ProgramCallOptions = {}): MachineResult {
  const program = programByName(argv[0]!);
  if (!program) return { stdout: '', stderr: `nflab: unknown command '${argv[0]}'\n`, status: 127 };
  return runInWorld(
    call,
    (world, ref) => {
      if (opts.background) {
        world.startBackground(ref, program, argv, { job: world.nextJob(), stdin: opts.stdin, ...opts.redirect });
        return 0;
      }
      return world.runForeground(ref, program, argv, opts.stdin ?? '');
    },
    { write: opts.write },
  );
}

/** The process a `kill` argument names on this host: a pid, or %N for a job of the shell. */
function findProcess(world: World, host: string, arg: string): number | undefined {
  const procs = world.processes(host);
  if (arg.startsWith('%')) {
    const job = Number(arg.slice(1));
    return procs.find((p) => p.proc.job === job)?.proc.pid;
  }
  const pid = Number(arg);
  return procs.find((p) => p.proc.pid === pid)?.proc.pid;
}

/** `kill [-SIG] PID|%JOB...`, `pkill NAME`, `killall NAME`: ends background programs of the host. */
export function runKill(argv: string[], call: MachineCall, opts: ProgramCallOptions = {}): MachineResult {
  const name = argv[0]!;
  const args = argv.slice(1).filter((a) => !/^-(\d+|[A-Z]+|s)$/.test(a));
  return runInWorld(
    call,
    (world, ref, write) => {
      let status = 0;
      if (name === 'kill') {
        if (args.length === 0) {
          write(2, 'kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n');
          return 2;
        }
        for (const a of args) {
          const pid = findProcess(world, ref.host, a);
          if (pid === undefined || !world.kill(ref.host, pid)) {
            write(2, a.startsWith('%') ? `kill: ${a}: no such job\n` : `kill: (${a}) - No such process\n`);
            status = 1;
          }
        }
        return status;
      }
      // pkill / killall by program name
      const target = args[args.length - 1];
      const victims = world.processes(ref.host).filter((p) => p.proc.program === target);
      for (const v of victims) world.kill(ref.host, v.proc.pid);
      if (victims.length === 0) {
        if (name === 'killall') write(2, `${target}: no process found\n`);
        return 1;
      }
      return 0;
    },
    { write: opts.write },
  );
}
