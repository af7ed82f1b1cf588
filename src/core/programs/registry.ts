/**
 * The programs of the lab's machines that run on the world's clock
 * (clients, daemons, captures), by the name a command line uses.
 */
import type { Program, ProgramContext } from './api.js';
import { ftp } from './ftp.js';
import { ss } from './ss.js';
import { nmap } from './nmap.js';
import { nc } from './nc.js';
import { ping } from './ping.js';
import { ssh } from './ssh.js';
import { curl } from './curl.js';
import { dig } from './dig.js';
import { traceroute } from './traceroute.js';
import { arp } from './arp.js';
import { filezilla } from './ftp-filezilla.js';
import { onStop as tcpdumpStop, tcpdump } from './tcpdump.js';
import { vsftpd } from './vsftpd.js';
import { DAEMON_PROGRAMS } from './daemons/index.js';

/** Programs by name (aliases included). */
export const PROGRAMS: Readonly<Record<string, Program>> = {
  filezilla,
  ftp,
  ss,
  nmap,
  nc,
  ping,
  ssh,
  curl,
  dig,
  traceroute,
  arp,
  tcpdump,
  vsftpd,
  ...DAEMON_PROGRAMS,
};

/** What programs print when a signal ends them (kill, pkill): their stop hooks by name. */
export const STOP_HOOKS: Readonly<Record<string, (ctx: ProgramContext, opts?: { ctrlC?: boolean }) => number>> = {
  tcpdump: tcpdumpStop,
};

/** The stop hook of a program name, if it has one. */
export function stopHookByName(name: string): ((ctx: ProgramContext, opts?: { ctrlC?: boolean }) => number) | undefined {
  return Object.hasOwn(STOP_HOOKS, name) ? STOP_HOOKS[name] : undefined;
}

/** The program `name` runs (its directory ignored), or undefined. */
export function programByName(name: string): Program | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return Object.hasOwn(PROGRAMS, base) ? PROGRAMS[base] : undefined;
}
