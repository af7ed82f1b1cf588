/**
 * The lab on disk: one directory per virtual machine. Kernel state lives
 * in <lab>/state.json, the machine's files under <lab>/fs/. Every change
 * is written to a temporary file and renamed into place, and invocations
 * on one lab are serialised by a lock file, so a crash or a failing
 * command never leaves a half-written state.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { emptyRuleset, type Ruleset } from '../../core/netfilter/ruleset.js';
import type { MachineState } from '../../core/path/machine.js';
import { DEFAULT_HOSTS, DEFAULT_NETWORKS } from '../../core/xt/namedb.js';
import { rulesetFromDisk, writeRulesetJson } from './persist.js';

/** Version of the state file format. */
const STATE_VERSION = 2;

/** The persistent kernel state of a lab machine. */
export interface LabState {
  version: number;
  /** The IPv4 rule set. */
  ruleset: Ruleset;
  /** The IPv6 rule set (ip6tables); absent in labs that never used it. */
  ruleset6?: Ruleset;
  /** The machine's kernel state besides the rules (network, clock, conntrack, logs); absent until first used. */
  machine?: MachineState;
}

/** A lab whose state file cannot be read. */
export class LabDamaged extends Error {}

/** Resolves the lab directory: --lab, else $NFLAB_LAB, else ./.nflab. */
export function labDir(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return explicit ?? env.NFLAB_LAB ?? join(process.cwd(), '.nflab');
}

/** Path of a machine file inside the lab (`/etc/hosts` → <lab>/fs/etc/hosts). */
export function labFile(lab: string, path: string): string {
  return join(lab, 'fs', path.replace(/^\/+/, ''));
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
function sleepMs(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How long ago the lock file was last written (Infinity when it is gone). */
function lockAgeMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return Infinity;
  }
}

/** Holds the lab's lock; waits for other invocations, takes over locks of dead processes. */
export function acquireLock(lab: string): () => void {
  mkdirSync(lab, { recursive: true });
  const path = join(lab, '.lock');
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = NaN;
      try {
        holder = Number(readFileSync(path, 'utf8'));
      } catch {
        continue;
      }
      // A lock without a live holder is stale: its process died, possibly
      // before it could even write its pid (an empty lock file older than a second).
      const unreadable = !(Number.isInteger(holder) && holder > 0);
      if (unreadable ? lockAgeMs(path) > 1000 : !pidAlive(holder)) {
        try {
          const now = Number(readFileSync(path, 'utf8'));
          if (now === holder || (unreadable && !(now > 0))) unlinkSync(path);
        } catch {
          /* someone else took it over */
        }
        continue;
      }
      sleepMs(5);
    }
  }
}

/** Writes a file atomically: temporary file, fsync, rename. */
export function writeFileAtomic(path: string, data: string): void {
  writeFileAtomicChunks(path, (write) => write(data));
}

/** Like writeFileAtomic, with the content produced in pieces. */
export function writeFileAtomicChunks(path: string, produce: (write: (chunk: string) => void) => void): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    let pending: string[] = [];
    let size = 0;
    const flush = () => {
      if (pending.length) writeSync(fd, pending.join(''));
      pending = [];
      size = 0;
    };
    produce((chunk) => {
      pending.push(chunk);
      size += chunk.length;
      if (size > 1 << 20) flush();
    });
    flush();
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Creates what a new lab needs, keeping any files the user already put under fs/. */
function initLab(lab: string): void {
  mkdirSync(join(lab, 'fs', 'etc'), { recursive: true });
  if (!existsSync(labFile(lab, '/etc/hosts'))) writeFileAtomic(labFile(lab, '/etc/hosts'), DEFAULT_HOSTS);
  if (!existsSync(labFile(lab, '/etc/networks'))) writeFileAtomic(labFile(lab, '/etc/networks'), DEFAULT_NETWORKS);
}

/** Loads the lab's state, creating a fresh lab when there is none. */
export function loadState(lab: string): LabState {
  const path = join(lab, 'state.json');
  if (!existsSync(path)) {
    initLab(lab);
    return { version: STATE_VERSION, ruleset: emptyRuleset() };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new LabDamaged(`nflab: lab state ${path} is damaged (${(e as Error).message}); not touching it`);
  }
  const st = parsed as { version?: unknown; ruleset?: unknown; ruleset6?: unknown; machine?: unknown };
  if (!st || typeof st !== 'object' || st.version !== STATE_VERSION)
    throw new LabDamaged(`nflab: lab state ${path} is damaged (unknown format); not touching it`);
  try {
    const state: LabState = { version: STATE_VERSION, ruleset: rulesetFromDisk(st.ruleset) };
    if (st.ruleset6 !== undefined) state.ruleset6 = rulesetFromDisk(st.ruleset6, true);
    if (st.machine !== undefined) {
      if (!st.machine || typeof st.machine !== 'object' || !('net' in st.machine)) throw new Error('bad machine state');
      state.machine = st.machine as MachineState;
    }
    return state;
  } catch (e) {
    throw new LabDamaged(`nflab: lab state ${path} is damaged (${(e as Error).message}); not touching it`);
  }
}

/** Saves the lab's state atomically. */
export function saveState(lab: string, state: LabState): void {
  writeFileAtomicChunks(join(lab, 'state.json'), (write) => {
    write(`{"version":${STATE_VERSION},"ruleset":`);
    writeRulesetJson(state.ruleset, write);
    if (state.ruleset6 && Object.keys(state.ruleset6.tables).length) {
      write(',"ruleset6":');
      writeRulesetJson(state.ruleset6, write);
    }
    if (state.machine) write(',"machine":' + JSON.stringify(state.machine));
    write('}');
  });
}

/** Reads a machine file, or undefined when it does not exist. */
export function readLabFile(lab: string, path: string): string | undefined {
  try {
    return readFileSync(labFile(lab, path), 'utf8');
  } catch {
    return undefined;
  }
}
