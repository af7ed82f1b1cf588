/**
 * The lab's daemons by program name (the process name `ss -p` shows), for
 * the program registry, and their service units.
 */
import type { Program } from '../api.js';
import { httpd, nginx } from './http.js';
import { dovecot, postfix } from './mail.js';
import { mysqld } from './mysqld.js';
import { named } from './named.js';
import { ntpd } from './ntpd.js';
import { squid } from './squid.js';
import { sshd } from './sshd.js';

export { DAEMON_UNITS, daemonUnit, initScriptUnit, type DaemonUnit } from './units.js';

/** Daemon programs by the name their process has (postfix's is `master`). */
export const DAEMON_PROGRAMS: Readonly<Record<string, Program>> = {
  sshd,
  httpd,
  nginx,
  mysqld,
  named,
  master: postfix,
  dovecot,
  ntpd,
  squid,
};
