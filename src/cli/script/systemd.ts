/**
 * The systemd side of the lab machine (CentOS 7, systemd 219): the
 * iptables.service unit of iptables-services and `systemctl` verbs on it.
 *
 * The unit is Type=oneshot with RemainAfterExit=yes and
 * AssertPathExists=/etc/sysconfig/iptables; its ExecStart/ExecStop/ExecReload
 * run the init script, whose messages go to the journal rather than the
 * terminal (they are not kept, so `systemctl status` ends without the
 * journal lines systemd would add). Unit state (active, enabled, timestamps,
 * process ids) lives in <lab>/systemd.json. Times are printed in UTC.
 *
 * The daemons' units (sshd, httpd, nginx, vsftpd, mariadb, named, postfix,
 * dovecot, ntpd, squid) run their program as a background program of the
 * host's initial namespace, recorded with the unit's name; the unit is
 * running while that program is. Their journal lines are not kept either.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { daemonUnit, type DaemonUnit } from '../../core/programs/daemons/index.js';
import { programByName } from '../../core/programs/registry.js';
import { INIT_NETNS } from '../../core/world/state.js';
import { closeLab, openLab } from '../lab/session.js';
import { acquireLock, labFile, writeFileAtomic } from '../lab/store.js';
import { runInWorld } from '../world-run.js';
import { IPTABLES_DATA, runIptablesInit } from './initscript.js';
import { Output, type Exec } from './io.js';

/** A command the unit ran last: its process id and exit status. */
interface ExecRecord {
  pid: number;
  status: number;
}

/** What systemd remembers about one unit. */
interface UnitState {
  enabled: boolean;
  active: 'inactive' | 'active' | 'failed';
  /** Result of the last job: success or exit-code. */
  result: string;
  /** When the unit last became active / inactive (ms since the epoch). */
  activeEnter?: number;
  inactiveEnter?: number;
  execStart?: ExecRecord;
  execReload?: ExecRecord;
  execStop?: ExecRecord;
  mainPid?: ExecRecord;
  /** When the last start was refused by an assertion, until a start passes it. */
  assertFailedAt?: number;
}

/** The state file. */
interface SystemdState {
  version: 1;
  nextPid: number;
  units: Record<string, UnitState>;
}

/** A unit the machine has. */
interface UnitFile {
  description: string;
  path: string;
  wantedBy: string;
  assertPath: string;
  script: string;
}

const UNITS: Record<string, UnitFile> = {
  'iptables.service': {
    description: 'IPv4 firewall with iptables',
    path: '/usr/lib/systemd/system/iptables.service',
    wantedBy: 'basic.target',
    assertPath: IPTABLES_DATA,
    script: '/usr/libexec/iptables/iptables.init',
  },
};

/** First process id handed out in a fresh lab. */
const FIRST_PID = 1000;

function statePath(lab: string): string {
  return join(lab, 'systemd.json');
}

function loadSystemd(lab: string): SystemdState {
  try {
    const s = JSON.parse(readFileSync(statePath(lab), 'utf8')) as SystemdState;
    if (s && s.version === 1 && typeof s.units === 'object') return s;
  } catch {
    /* none yet, or unreadable: start afresh */
  }
  return { version: 1, nextPid: FIRST_PID, units: {} };
}

function unitState(s: SystemdState, name: string, daemon?: DaemonUnit): UnitState {
  // a package whose vendor preset is enabled was enabled when it was installed (sshd)
  s.units[name] ??= { enabled: daemon?.vendorPreset === 'enabled', active: 'inactive', result: 'success' };
  return s.units[name]!;
}

/** Changes the unit state under the lab lock (never held while programs run). */
function update(lab: string, fn: (s: SystemdState) => void): void {
  const release = acquireLock(lab);
  try {
    const s = loadSystemd(lab);
    fn(s);
    writeFileAtomic(statePath(lab), JSON.stringify(s));
  } finally {
    release();
  }
}

function takePid(lab: string): number {
  let pid = FIRST_PID;
  update(lab, (s) => {
    pid = s.nextPid++;
  });
  return pid;
}

/** `Sat 2017-09-02 08:51:48 UTC` (systemd's format_timestamp, in UTC). */
export function formatTimestamp(ms: number): string {
  const d = new Date(ms);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]} ${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC`;
}

/** `6s ago`, `2min 3s ago`, ... (systemd 219's format_timestamp_relative). */
export function formatRelative(thenMs: number, nowMs: number): string {
  const US = 1000;
  let d = Math.round((nowMs - thenMs) * US);
  const s = d >= 0 ? 'ago' : 'left';
  d = Math.abs(d);
  const SEC = 1_000_000;
  const MIN = 60 * SEC;
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;
  const WEEK = 7 * DAY;
  const MONTH = 2_629_800 * SEC;
  const YEAR = 31_557_600 * SEC;
  const f = Math.floor;
  if (d >= YEAR) return `${f(d / YEAR)} years ${f((d % YEAR) / MONTH)} months ${s}`;
  if (d >= MONTH) return `${f(d / MONTH)} months ${f((d % MONTH) / DAY)} days ${s}`;
  if (d >= WEEK) return `${f(d / WEEK)} weeks ${f((d % WEEK) / DAY)} days ${s}`;
  if (d >= 2 * DAY) return `${f(d / DAY)} days ${s}`;
  if (d >= 25 * HOUR) return `1 day ${f((d - DAY) / HOUR)}h ${s}`;
  if (d >= 6 * HOUR) return `${f(d / HOUR)}h ${s}`;
  if (d >= HOUR) return `${f(d / HOUR)}h ${f((d % HOUR) / MIN)}min ${s}`;
  if (d >= 5 * MIN) return `${f(d / MIN)}min ${s}`;
  if (d >= MIN) return `${f(d / MIN)}min ${f((d % MIN) / SEC)}s ${s}`;
  if (d >= SEC) return `${f(d / SEC)}s ${s}`;
  if (d >= 1000) return `${f(d / 1000)}ms ${s}`;
  if (d > 0) return `${d}us ${s}`;
  return 'now';
}

/** `0/SUCCESS`, `1/FAILURE`, ... (exit_status_to_string for the codes an init script returns). */
function exitStatusText(status: number): string {
  const names: Record<number, string> = {
    0: 'SUCCESS',
    1: 'FAILURE',
    2: 'INVALIDARGUMENT',
    3: 'NOTIMPLEMENTED',
    4: 'NOPERMISSION',
    5: 'NOTINSTALLED',
    6: 'NOTCONFIGURED',
    7: 'NOTRUNNING',
  };
  return names[status] !== undefined ? `${status}/${names[status]}` : String(status);
}

/** `systemctl status UNIT` for a known unit: the text and the exit status. */
function statusText(name: string, unit: UnitFile, st: UnitState, now: number): { text: string; status: number } {
  let t = `● ${name} - ${unit.description}\n`;
  t += `   Loaded: loaded (${unit.path}; ${st.enabled ? 'enabled' : 'disabled'}; vendor preset: disabled)\n`;
  const sub = st.active === 'active' ? 'exited' : st.active === 'inactive' ? 'dead' : 'failed';
  t += `   Active: ${st.active}${sub !== st.active ? ` (${sub})` : ''}`;
  if (st.result !== 'success') t += ` (Result: ${st.result})`;
  const since = st.active === 'active' ? st.activeEnter : st.inactiveEnter;
  t += since !== undefined ? ` since ${formatTimestamp(since)}; ${formatRelative(since, now)}\n` : '\n';
  if (st.assertFailedAt !== undefined) {
    t += `   Assert: start assertion failed at ${formatTimestamp(st.assertFailedAt)}; ${formatRelative(st.assertFailedAt, now)}\n`;
    t += `           AssertPathExists=${unit.assertPath} was not met\n`;
  }
  const execs: [string, string, ExecRecord | undefined][] = [
    ['ExecStop', 'stop', st.execStop],
    ['ExecReload', 'reload', st.execReload],
    ['ExecStart', 'start', st.execStart],
  ];
  for (const [prop, arg, rec] of execs) {
    if (rec) t += `  Process: ${rec.pid} ${prop}=${unit.script} ${arg} (code=exited, status=${exitStatusText(rec.status)})\n`;
  }
  if (st.mainPid) t += ` Main PID: ${st.mainPid.pid} (code=exited, status=${exitStatusText(st.mainPid.status)})\n`;
  return { text: t, status: st.active === 'active' ? 0 : 3 };
}

/** Normalises a unit argument: `iptables` is `iptables.service`. */
function unitName(arg: string): string {
  return /\.(service|socket|target|timer|mount|path|device|scope|slice|swap|automount)$/.test(arg) ? arg : `${arg}.service`;
}

const VERBS = ['start', 'stop', 'restart', 'reload', 'try-restart', 'condrestart', 'status', 'enable', 'disable', 'is-active', 'is-enabled'];

/** What systemctl needs. */
export interface SystemctlEnv {
  lab: string;
  exec: Exec;
  out: Output;
  /** Current time in ms (tests can pin it). */
  now?: () => number;
}

/** Runs the unit's init script with its output sent to the journal (dropped). */
async function runUnitScript(env: SystemctlEnv, action: string): Promise<{ pid: number; status: number }> {
  const pid = takePid(env.lab);
  const status = await runIptablesInit([action], { lab: env.lab, exec: env.exec, out: new Output(() => {}) });
  return { pid, status };
}

async function start(env: SystemctlEnv, name: string, unit: UnitFile): Promise<number> {
  const now = env.now ?? Date.now;
  const st = unitState(loadSystemd(env.lab), name);
  if (st.active === 'active') return 0;
  if (!existsSync(labFile(env.lab, unit.assertPath))) {
    update(env.lab, (s) => {
      unitState(s, name).assertFailedAt = now();
    });
    env.out.stderr(`Assertion failed on job for ${name}.\n`);
    return 1;
  }
  const r = await runUnitScript(env, 'start');
  const at = now();
  update(env.lab, (s) => {
    const u = unitState(s, name);
    delete u.assertFailedAt;
    u.execStart = r;
    u.mainPid = r;
    if (r.status === 0) {
      u.active = 'active';
      u.result = 'success';
      u.activeEnter = at;
    } else {
      u.active = 'failed';
      u.result = 'exit-code';
      u.inactiveEnter = at;
    }
  });
  if (r.status === 0) return 0;
  env.out.stderr(
    `Job for ${name} failed because the control process exited with error code. See "systemctl status ${name}" and "journalctl -xe" for details.\n\n`,
  );
  return 1;
}

async function stop(env: SystemctlEnv, name: string): Promise<number> {
  const now = env.now ?? Date.now;
  const st = unitState(loadSystemd(env.lab), name);
  if (st.active !== 'active') return 0;
  const r = await runUnitScript(env, 'stop');
  const at = now();
  update(env.lab, (s) => {
    const u = unitState(s, name);
    u.execStop = r;
    u.active = r.status === 0 ? 'inactive' : 'failed';
    u.result = r.status === 0 ? 'success' : 'exit-code';
    u.inactiveEnter = at;
  });
  return 0;
}

async function reload(env: SystemctlEnv, name: string): Promise<number> {
  const st = unitState(loadSystemd(env.lab), name);
  if (st.active !== 'active') {
    env.out.stderr(`Job for ${name} invalid.\n`);
    return 1;
  }
  const r = await runUnitScript(env, 'reload');
  update(env.lab, (s) => {
    unitState(s, name).execReload = r;
  });
  if (r.status === 0) return 0;
  env.out.stderr(
    `Job for ${name} failed because the control process exited with error code. See "systemctl status ${name}" and "journalctl -xe" for details.\n\n`,
  );
  return 1;
}

/** One verb on one known unit. */
async function verbOnUnit(env: SystemctlEnv, verb: string, name: string, unit: UnitFile, quiet: boolean): Promise<number> {
  const st = unitState(loadSystemd(env.lab), name);
  const link = `/etc/systemd/system/${unit.wantedBy}.wants/${name}`;
  switch (verb) {
    case 'start':
      return start(env, name, unit);
    case 'stop':
      return stop(env, name);
    case 'restart':
      await stop(env, name);
      return start(env, name, unit);
    case 'try-restart':
    case 'condrestart':
      if (st.active !== 'active') return 0;
      await stop(env, name);
      return start(env, name, unit);
    case 'reload':
      return reload(env, name);
    case 'status': {
      const r = statusText(name, unit, st, (env.now ?? Date.now)());
      env.out.stdout(r.text);
      return r.status;
    }
    case 'enable':
    case 'disable': {
      const on = verb === 'enable';
      if (st.enabled !== on) {
        update(env.lab, (s) => {
          unitState(s, name).enabled = on;
        });
        if (!quiet) env.out.stderr(on ? `Created symlink from ${link} to ${unit.path}.\n` : `Removed symlink ${link}.\n`);
      }
      return 0;
    }
    case 'is-active':
      if (!quiet) env.out.stdout(`${st.active}\n`);
      return st.active === 'active' ? 0 : 3;
    case 'is-enabled':
      if (!quiet) env.out.stdout(`${st.enabled ? 'enabled' : 'disabled'}\n`);
      return st.enabled ? 0 : 1;
    default:
      return 1;
  }
}

/** One verb on a unit the machine does not have. */
function verbOnMissing(env: SystemctlEnv, verb: string, name: string, quiet: boolean): number {
  switch (verb) {
    case 'status':
      env.out.stderr(`Unit ${name} could not be found.\n`);
      return 4;
    case 'is-active':
      if (!quiet) env.out.stdout('unknown\n');
      return 3;
    case 'is-enabled':
      env.out.stderr(`Failed to get unit file state for ${name}: No such file or directory\n`);
      return 1;
    case 'enable':
    case 'disable':
      env.out.stderr('Failed to execute operation: No such file or directory\n');
      return 1;
    case 'stop':
      env.out.stderr(`Failed to stop ${name}: Unit ${name} not loaded.\n`);
      return 5;
    default:
      env.out.stderr(`Failed to ${verb === 'condrestart' ? 'try-restart' : verb} ${name}: Unit not found.\n`);
      return 5;
  }
}

/** `systemctl ARGS` on the lab machine; returns the exit status. */
export async function systemctl(argv: string[], env: SystemctlEnv): Promise<number> {
  let quiet = false;
  const words: string[] = [];
  for (const a of argv) {
    if (a === '-q' || a === '--quiet') quiet = true;
    else if (['--no-pager', '-l', '--full', '--no-legend', '--no-ask-password', '--system'].includes(a)) continue;
    else if (a.startsWith('-')) {
      env.out.stderr(a.startsWith('--') ? `systemctl: unrecognized option '${a}'\n` : `systemctl: invalid option -- '${a[1]}'\n`);
      return 1;
    } else words.push(a);
  }
  const [verb, ...units] = words;
  if (verb === undefined) {
    env.out.stderr(`nflab: systemctl: listing units is not emulated; use one of: ${VERBS.join(', ')} with a unit\n`);
    return 1;
  }
  if (!VERBS.includes(verb)) {
    env.out.stderr(`Unknown operation '${verb}'.\n`);
    return 1;
  }
  if (units.length === 0) {
    if (verb === 'status') {
      env.out.stderr('nflab: systemctl: the status of the whole system is not emulated; name a unit (iptables)\n');
      return 1;
    }
    env.out.stderr('Too few arguments.\n');
    return 1;
  }
  let status = 0;
  for (const [k, u] of units.entries()) {
    const name = unitName(u);
    const unit = UNITS[name];
    const daemon = unit ? undefined : daemonUnit(name);
    if (verb === 'status' && k > 0) env.out.stdout('\n');
    const r = unit
      ? await verbOnUnit(env, verb, name, unit, quiet)
      : daemon
        ? daemonVerb(env, verb, daemon, quiet)
        : verbOnMissing(env, verb, name, quiet);
    if (r !== 0 && status === 0) status = r;
  }
  return status;
}

// ---------------------------------------------------------------------------
// The daemons' units: their programs on the lab's world.

/** A daemon a unit runs: its process id and when it started (virtual ns). */
export interface RunningDaemon {
  pid: number;
  netns: string;
}

/** The unit's running daemon on the host whose directory is `lab`, if any (reads the lab, changes nothing). */
export function daemonRunning(lab: string, unit: DaemonUnit): RunningDaemon | undefined {
  const s = openLab(lab);
  try {
    for (const [netns, ns] of Object.entries(s.world.hosts[s.host]?.netns ?? {})) {
      const p = (ns.procs ?? []).find((x) => x.unit === unit.unit);
      if (p) return { pid: p.pid, netns };
    }
    return undefined;
  } finally {
    closeLab(s, false);
  }
}

/**
 * Starts the unit's daemon in namespace `netns` of the host; returns its
 * pid when it runs, or its exit (and what it printed) when it could not
 * start.
 */
export function startDaemon(lab: string, netns: string, unit: DaemonUnit): { pid: number; running: boolean; printed: string } {
  const program = programByName(unit.program);
  let printed = '';
  let pid = 0;
  let running = false;
  if (!program) return { pid, running, printed: `nflab: the program of ${unit.unit} is not in the lab\n` };
  runInWorld(
    { lab, netns, cwd: '/', onMachine: true },
    (world, ref) => {
      pid = world.startBackground(ref, program, unit.argv, { unit: unit.unit });
      running = world.processes(ref.host).some((p) => p.proc.pid === pid);
      return 0;
    },
    { write: (_fd, text) => void (printed += text) },
  );
  return { pid, running, printed };
}

/** Ends the unit's daemons on the host; returns how many were running. */
export function stopDaemon(lab: string, unit: DaemonUnit): number {
  let n = 0;
  runInWorld({ lab, netns: INIT_NETNS, cwd: '/', onMachine: true }, (world, ref) => {
    for (const p of world.processes(ref.host)) {
      if (p.proc.unit === unit.unit && world.kill(ref.host, p.proc.pid)) n++;
    }
    return 0;
  });
  return n;
}

/** Where the unit files live. */
function daemonUnitPath(u: DaemonUnit): string {
  return `/usr/lib/systemd/system/${u.unit}`;
}

/** `systemctl status` of a daemon's unit (systemd 219): the text and exit status. */
function daemonStatusText(u: DaemonUnit, st: UnitState, running: RunningDaemon | undefined, now: number): { text: string; status: number } {
  let t = `● ${u.unit} - ${u.description}\n`;
  t += `   Loaded: loaded (${daemonUnitPath(u)}; ${st.enabled ? 'enabled' : 'disabled'}; vendor preset: ${u.vendorPreset})\n`;
  const active = running ? 'active' : st.active === 'failed' ? 'failed' : 'inactive';
  t += `   Active: ${active}${running ? ' (running)' : active === 'inactive' ? ' (dead)' : ''}`;
  if (active === 'failed') t += ` (Result: ${st.result})`;
  const since = running ? st.activeEnter : st.inactiveEnter;
  t += since !== undefined ? ` since ${formatTimestamp(since)}; ${formatRelative(since, now)}\n` : '\n';
  u.docs.forEach((d, i) => (t += `${i === 0 ? '     Docs: ' : '           '}${d}\n`));
  const name = u.argv[0]!.slice(u.argv[0]!.lastIndexOf('/') + 1);
  if (u.type === 'forking' && st.execStart) {
    t += `  Process: ${st.execStart.pid} ExecStart=${u.execStart} (code=exited, status=${exitStatusText(st.execStart.status)})\n`;
  }
  if (running) {
    t += ` Main PID: ${running.pid} (${name})\n`;
    if (u.notifyStatus !== undefined) t += `   Status: "${u.notifyStatus}"\n`;
    t += `   CGroup: /system.slice/${u.unit}\n           └─${running.pid} ${u.title ?? u.argv.join(' ')}\n`;
  } else if (st.mainPid) {
    t += ` Main PID: ${st.mainPid.pid} (code=exited, status=${exitStatusText(st.mainPid.status)})\n`;
  }
  return { text: t, status: running ? 0 : 3 };
}

/** Starts a daemon's unit; 0 when it runs. */
function daemonStart(env: SystemctlEnv, u: DaemonUnit): number {
  const now = env.now ?? Date.now;
  if (daemonRunning(env.lab, u)) return 0;
  const r = startDaemon(env.lab, INIT_NETNS, u);
  const at = now();
  update(env.lab, (s) => {
    const st = unitState(s, u.unit, u);
    if (r.running) {
      st.active = 'active';
      st.result = 'success';
      st.activeEnter = at;
      st.execStart = { pid: r.pid - 1, status: 0 };
      delete st.mainPid;
    } else {
      // the lab does not keep a failed program's exit status: 1 stands for it
      st.active = 'failed';
      st.result = 'exit-code';
      st.inactiveEnter = at;
      st.execStart = { pid: r.pid, status: 1 };
      if (u.type === 'forking') delete st.mainPid;
      else st.mainPid = { pid: r.pid, status: 1 };
    }
  });
  if (r.running) return 0;
  env.out.stderr(
    `Job for ${u.unit} failed because the control process exited with error code. See "systemctl status ${u.unit}" and "journalctl -xe" for details.\n`,
  );
  return 1;
}

/** Stops a daemon's unit (nothing to do when it is not running). */
function daemonStop(env: SystemctlEnv, u: DaemonUnit): number {
  const now = env.now ?? Date.now;
  const running = daemonRunning(env.lab, u);
  if (!running) return 0;
  stopDaemon(env.lab, u);
  const at = now();
  update(env.lab, (s) => {
    const st = unitState(s, u.unit, u);
    st.active = 'inactive';
    st.result = 'success';
    st.inactiveEnter = at;
    st.mainPid = { pid: running.pid, status: 0 };
  });
  return 0;
}

/** One verb on a daemon's unit. */
function daemonVerb(env: SystemctlEnv, verb: string, u: DaemonUnit, quiet: boolean): number {
  const st = unitState(loadSystemd(env.lab), u.unit, u);
  const link = `/etc/systemd/system/multi-user.target.wants/${u.unit}`;
  switch (verb) {
    case 'start':
      return daemonStart(env, u);
    case 'stop':
      return daemonStop(env, u);
    case 'restart':
      daemonStop(env, u);
      return daemonStart(env, u);
    case 'try-restart':
    case 'condrestart':
      if (!daemonRunning(env.lab, u)) return 0;
      daemonStop(env, u);
      return daemonStart(env, u);
    case 'reload':
      if (!u.reload) {
        env.out.stderr(`Failed to reload ${u.unit}: Job type reload is not applicable for unit ${u.unit}.\n`);
        return 1;
      }
      if (!daemonRunning(env.lab, u)) {
        env.out.stderr(`Job for ${u.unit} invalid.\n`);
        return 1;
      }
      daemonStop(env, u);
      return daemonStart(env, u);
    case 'status': {
      const r = daemonStatusText(u, st, daemonRunning(env.lab, u), (env.now ?? Date.now)());
      env.out.stdout(r.text);
      return r.status;
    }
    case 'enable':
    case 'disable': {
      const on = verb === 'enable';
      if (st.enabled !== on) {
        update(env.lab, (s) => {
          unitState(s, u.unit, u).enabled = on;
        });
        if (!quiet) env.out.stderr(on ? `Created symlink from ${link} to ${daemonUnitPath(u)}.\n` : `Removed symlink ${link}.\n`);
      }
      return 0;
    }
    case 'is-active': {
      const running = daemonRunning(env.lab, u) !== undefined;
      const word = running ? 'active' : st.active === 'failed' ? 'failed' : 'inactive';
      if (!quiet) env.out.stdout(`${word}\n`);
      return running ? 0 : 3;
    }
    case 'is-enabled':
      if (!quiet) env.out.stdout(`${st.enabled ? 'enabled' : 'disabled'}\n`);
      return st.enabled ? 0 : 1;
    default:
      return 1;
  }
}
