/**
 * The lab on disk: one directory per virtual machine. Kernel state lives
 * in <lab>/state.json, the machine's files under <lab>/fs/. Every change
 * is written to a temporary file and renamed into place, and invocations
 * on one lab are serialised by a lock file, so a crash or a failing
 * command never leaves a half-written state.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { MachineState } from '../../core/path/machine.js';
import { DEFAULT_HOST, INIT_NETNS, newWorldState, type HostState, type NsState, type WorldState } from '../../core/world/state.js';
import { DEFAULT_HOSTS, DEFAULT_NETWORKS } from '../../core/xt/namedb.js';
import { rulesetFromDisk, writeRulesetJson } from './persist.js';

/** Version of the state file format (2: one machine; 3: hosts, namespaces and wires). */
const STATE_VERSION = 3;

/**
 * The state of the namespace a command runs in: its rules, its kernel state
 * and background programs (the init namespace of the lab's first host
 * unless the command says otherwise).
 */
export type LabState = NsState & { version?: number };

/** The lab's world each loaded namespace view belongs to (for saving it whole). */
const worldOfView = new WeakMap<object, { root: string; world: WorldState }>();

/** The lab root of a host directory: <root> for the first host, <root>/hosts/NAME for the others. */
export function labRoot(dir: string): { root: string; host: string } {
  const parent = dirname(dir);
  if (basename(parent) === 'hosts' && existsSync(join(dir, '.host'))) return { root: dirname(parent), host: basename(dir) };
  return { root: dir, host: DEFAULT_HOST };
}

/** The directory of a host of the lab rooted at `root` (its files are under <dir>/fs). */
export function hostDir(root: string, host: string): string {
  return host === DEFAULT_HOST ? root : join(root, 'hosts', host);
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

/**
 * A lab a script holds for its whole run: the lock is taken once, the world
 * is read from disk once and kept in memory, and every command works on a
 * copy of it, as it would on the file (a failing command's copy is simply
 * dropped); the world goes back to disk when the script ends.
 */
interface HeldLab {
  root: string;
  world: WorldState | null;
  dirty: boolean;
}

let held: HeldLab | null = null;

/** Holds the lab of `dir` until the returned function is called (nested holds of the same lab are free). */
export function holdLab(dir: string): () => void {
  const root = labRoot(dir).root;
  if (held) return () => {};
  const release = acquireLock(root);
  const h: HeldLab = { root, world: null, dirty: false };
  held = h;
  return () => {
    held = null;
    try {
      if (h.dirty && h.world) writeWorld(root, h.world);
    } finally {
      release();
    }
  };
}

/** Loads the whole lab: every host, namespace and wire (a fresh lab when there is none). */
export function loadWorld(root: string): WorldState {
  if (held && held.root === root) {
    held.world ??= readWorld(root);
    return structuredClone(held.world);
  }
  return readWorld(root);
}

/** Saves the whole lab atomically (into the held copy while a script holds the lab). */
export function saveWorld(root: string, world: WorldState): void {
  if (held && held.root === root) {
    held.world = world;
    held.dirty = true;
    return;
  }
  writeWorld(root, world);
}

/** Holds the lab's lock (at its root, for all its hosts); waits for other invocations, takes over locks of dead processes. */
export function acquireLock(dir: string): () => void {
  const lab = labRoot(dir).root;
  if (held && held.root === lab) return () => {};
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
    if (deferredSync) unsynced.add(path);
    else fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * While a script runs, files are renamed into place without waiting for
 * the disk (a killed process still leaves the old or the new file whole;
 * only a power cut could lose the newest); the script's end syncs them.
 */
let deferredSync = false;
const unsynced = new Set<string>();

/** Defers the disk syncs of atomic writes until `syncDeferred` (nested calls count as one). */
export function deferSync(): () => void {
  if (deferredSync) return () => {};
  deferredSync = true;
  return () => {
    deferredSync = false;
    syncDeferred();
  };
}

/** Syncs the files written since deferSync to the disk. */
function syncDeferred(): void {
  for (const path of unsynced) {
    try {
      const fd = openSync(path, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      /* replaced or removed since */
    }
  }
  unsynced.clear();
}

/**
 * The accounts of a new lab host, as a CentOS 7 server has them, plus the
 * user `test` (password `test`) the FTP tutorial logs in as.
 */
export const DEFAULT_PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  'bin:x:1:1:bin:/bin:/sbin/nologin',
  'daemon:x:2:2:daemon:/sbin:/sbin/nologin',
  'adm:x:3:4:adm:/var/adm:/sbin/nologin',
  'lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin',
  'sync:x:5:0:sync:/sbin:/bin/sync',
  'shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown',
  'halt:x:7:0:halt:/sbin:/sbin/halt',
  'mail:x:8:12:mail:/var/spool/mail:/sbin/nologin',
  'operator:x:11:0:operator:/root:/sbin/nologin',
  'games:x:12:100:games:/usr/games:/sbin/nologin',
  'ftp:x:14:50:FTP User:/var/ftp:/sbin/nologin',
  'nobody:x:99:99:Nobody:/:/sbin/nologin',
  'sshd:x:74:74:Privilege-separated SSH:/var/empty/sshd:/sbin/nologin',
  'test:x:1000:1000::/home/test:/bin/bash',
  '',
].join('\n');

/** Creates what a new lab host needs, keeping any files the user already put under fs/. */
export function initHostFiles(lab: string): void {
  mkdirSync(join(lab, 'fs', 'etc'), { recursive: true });
  if (!existsSync(labFile(lab, '/etc/hosts'))) writeFileAtomic(labFile(lab, '/etc/hosts'), DEFAULT_HOSTS);
  if (!existsSync(labFile(lab, '/etc/networks'))) writeFileAtomic(labFile(lab, '/etc/networks'), DEFAULT_NETWORKS);
  if (!existsSync(labFile(lab, '/etc/passwd'))) writeFileAtomic(labFile(lab, '/etc/passwd'), DEFAULT_PASSWD);
  mkdirSync(labFile(lab, '/home/test'), { recursive: true });
  mkdirSync(labFile(lab, '/var/ftp/pub'), { recursive: true });
  // Debian's home of the ftp user, for labs that give it Debian's accounts
  mkdirSync(labFile(lab, '/srv/ftp'), { recursive: true });
}

/** Creates what a new lab needs. */
function initLab(lab: string): void {
  initHostFiles(lab);
}

/** Reads the whole lab from disk: every host, namespace and wire (a fresh lab when there is none). */
function readWorld(root: string): WorldState {
  const path = join(root, 'state.json');
  if (!existsSync(path)) {
    initLab(root);
    return newWorldState();
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new LabDamaged(`nflab: lab state ${path} is damaged (${(e as Error).message}); not touching it`);
  }
  const st = parsed as { version?: unknown; hosts?: unknown; wires?: unknown };
  if (!st || typeof st !== 'object' || (st.version !== STATE_VERSION && st.version !== 2))
    throw new LabDamaged(`nflab: lab state ${path} is damaged (unknown format); not touching it`);
  try {
    if (st.version === 2) {
      // a lab of one machine: it becomes the first host's own namespace
      const world = newWorldState();
      world.hosts[DEFAULT_HOST]!.netns[INIT_NETNS] = nsFromDisk(st);
      return world;
    }
    if (!st.hosts || typeof st.hosts !== 'object' || !Array.isArray(st.wires)) throw new Error('bad world');
    const world: WorldState = { hosts: {}, wires: st.wires as WorldState['wires'] };
    for (const [name, h] of Object.entries(st.hosts as Record<string, Record<string, unknown>>)) {
      const { netns, ...rest } = h as { netns: Record<string, unknown> };
      if (!netns || typeof netns !== 'object') throw new Error(`bad host ${name}`);
      const host = { ...rest, netns: {} } as HostState;
      for (const [nsName, ns] of Object.entries(netns)) host.netns[nsName] = nsFromDisk(ns);
      world.hosts[name] = host;
    }
    if (!world.hosts[DEFAULT_HOST]) throw new Error('no first host');
    return world;
  } catch (e) {
    throw new LabDamaged(`nflab: lab state ${path} is damaged (${(e as Error).message}); not touching it`);
  }
}

/** A namespace as stored. */
function nsFromDisk(v: unknown): NsState {
  const st = v as { ruleset?: unknown; ruleset6?: unknown; machine?: unknown; procs?: unknown };
  if (!st || typeof st !== 'object') throw new Error('bad namespace');
  const ns: NsState = { ruleset: rulesetFromDisk(st.ruleset) };
  if (st.ruleset6 !== undefined) ns.ruleset6 = rulesetFromDisk(st.ruleset6, true);
  if (st.machine !== undefined) {
    if (!st.machine || typeof st.machine !== 'object' || !('net' in st.machine)) throw new Error('bad machine state');
    ns.machine = st.machine as MachineState;
  }
  if (st.procs !== undefined) {
    if (!Array.isArray(st.procs)) throw new Error('bad process list');
    ns.procs = st.procs as NsState['procs'];
  }
  return ns;
}

/** Writes the whole lab to disk atomically. */
function writeWorld(root: string, world: WorldState): void {
  writeFileAtomicChunks(join(root, 'state.json'), (write) => {
    write(`{"version":${STATE_VERSION},"hosts":{`);
    let firstHost = true;
    for (const [name, h] of Object.entries(world.hosts)) {
      if (!firstHost) write(',');
      firstHost = false;
      const { netns, ...rest } = h;
      write(`${JSON.stringify(name)}:{`);
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) write(`${JSON.stringify(k)}:${JSON.stringify(v)},`);
      write('"netns":{');
      let firstNs = true;
      for (const [nsName, ns] of Object.entries(netns)) {
        if (!firstNs) write(',');
        firstNs = false;
        write(`${JSON.stringify(nsName)}:{"ruleset":`);
        writeRulesetJson(ns.ruleset, write);
        if (ns.ruleset6 && Object.keys(ns.ruleset6.tables).length) {
          write(',"ruleset6":');
          writeRulesetJson(ns.ruleset6, write);
        }
        if (ns.machine) write(',"machine":' + JSON.stringify(ns.machine));
        if (ns.procs && ns.procs.length) write(',"procs":' + JSON.stringify(ns.procs));
        write('}');
      }
      write('}}');
    }
    write(`},"wires":${JSON.stringify(world.wires)}}`);
  });
}

/**
 * Loads the state of one namespace of a host (`dir` is the host's
 * directory; `netns` '' is the host's own). The view is live: saveState
 * writes the whole lab it belongs to.
 */
export function loadState(dir: string, netns = INIT_NETNS): LabState {
  const { root, host } = labRoot(dir);
  const world = loadWorld(root);
  const h = world.hosts[host];
  if (!h) throw new LabDamaged(`nflab: host ${host} does not exist in lab ${root}`);
  const ns = h.netns[netns];
  if (!ns) throw new LabDamaged(`Cannot open network namespace "${netns}": No such file or directory`);
  worldOfView.set(ns, { root, world });
  return ns;
}

/** The world a namespace view belongs to. */
export function worldOf(view: LabState): { root: string; world: WorldState } | undefined {
  return worldOfView.get(view);
}

/**
 * Saves the lab a namespace view belongs to. `replace`: a new state for
 * that namespace (its rules replaced wholesale).
 */
export function saveState(dir: string, view: LabState, replace?: LabState): void {
  const w = worldOfView.get(view);
  if (!w) throw new Error('saveState: a view not loaded by loadState');
  if (replace && replace !== view) {
    for (const h of Object.values(w.world.hosts)) {
      for (const [k, ns] of Object.entries(h.netns)) if (ns === view) h.netns[k] = replace;
    }
    worldOfView.set(replace, w);
  }
  saveWorld(w.root, w.world);
}

/** Reads a machine file, or undefined when it does not exist. */
export function readLabFile(lab: string, path: string): string | undefined {
  try {
    return readFileSync(labFile(lab, path), 'utf8');
  } catch {
    return undefined;
  }
}
