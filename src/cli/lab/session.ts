/**
 * One command's hold on a lab: the lock, the whole world loaded, and on
 * the way out the world saved with every host's new kernel log lines
 * appended to its /var/log/messages (as rsyslog would).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { formatSyslogLine } from '../../core/path/kmsg.js';
import type { MachineState } from '../../core/path/machine.js';
import { DEFAULT_HOST, INIT_NETNS, type WorldState } from '../../core/world/state.js';
import { acquireLock, hostDir, labFile, LabDamaged, labRoot, loadWorld, readLabFile, saveWorld } from './store.js';

/** A lab held by this command. */
export interface LabSession {
  /** The lab's root directory. */
  root: string;
  /** The host the command runs on. */
  host: string;
  world: WorldState;
  /** How many kernel log lines each host had written when the session opened. */
  logged: Map<string, number>;
  release: () => void;
}

/** Takes the lab's lock and loads it (`dir`: a host's directory). */
export function openLab(dir: string): LabSession {
  const { root, host } = labRoot(dir);
  const release = acquireLock(root);
  try {
    const world = loadWorld(root);
    const logged = new Map<string, number>();
    for (const [name, h] of Object.entries(world.hosts)) logged.set(name, h.netns[INIT_NETNS]?.machine?.logged ?? 0);
    return { root, host, world, logged, release };
  } catch (e) {
    release();
    throw e;
  }
}

/** Saves the world (when `save`) with the hosts' new log lines, and lets the lab go. */
export function closeLab(s: LabSession, save: boolean): void {
  try {
    if (!save) return;
    saveWorld(s.root, s.world);
    for (const [name, h] of Object.entries(s.world.hosts)) {
      const m = h.netns[INIT_NETNS]?.machine;
      if (!m) continue;
      const fresh = Math.min(m.logged - (s.logged.get(name) ?? 0), m.kmsg.length);
      if (fresh > 0) appendSyslog(hostDir(s.root, name), m, m.kmsg.slice(m.kmsg.length - fresh));
    }
  } finally {
    s.release();
  }
}

/** Appends kernel log lines to a host's /var/log/messages, as rsyslog would. */
export function appendSyslog(dir: string, m: MachineState, lines: MachineState['kmsg']): void {
  const host = hostnameOf(dir);
  const path = labFile(dir, '/var/log/messages');
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, lines.map((l) => formatSyslogLine(l, m.bootWall, host)).join(''));
}

/** The short host name syslog writes: /etc/hostname's first label, else the lab host's default. */
export function hostnameOf(dir: string): string {
  const { host } = labRoot(dir);
  const fallback = host === DEFAULT_HOST ? 'localhost' : host;
  return (readLabFile(dir, '/etc/hostname') ?? fallback).trim().split('.')[0] || fallback;
}

/** What a command run on a held lab gives back: its result, and whether the lab changed (to be saved). */
export interface SessionOutcome<R> {
  result: R;
  changed: boolean;
}

/**
 * Runs `fn` on the lab of `dir` under its lock, saving the lab when `fn`
 * says it changed; a damaged lab is reported as the commands report it.
 */
export function withSession<R extends { stdout: string; stderr: string; status: number }>(dir: string, fn: (s: LabSession) => SessionOutcome<R>): R | { stdout: string; stderr: string; status: number } {
  let s: LabSession;
  try {
    s = openLab(dir);
  } catch (e) {
    if (e instanceof LabDamaged) return { stdout: '', stderr: e.message + '\n', status: 1 };
    throw e;
  }
  let changed = false;
  try {
    const o = fn(s);
    changed = o.changed;
    return o.result;
  } finally {
    closeLab(s, changed);
  }
}
