/**
 * Runs a scenario with real network namespaces and the Debian tools. The
 * namespaces are named nflabt-sc<pid>-<serial><NS>; they and every
 * background program started here are removed when the run ends, fails, or
 * the process exits. LOG lines are read from the kernel log (the machine
 * has net.netfilter.nf_log_all_netns=1, so every namespace logs there):
 * the lines after the run's start that begin with one of the scenario's
 * LOG prefixes.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { setupCommands, withNames, logPrefixesOf } from './build.js';
import type { ScenarioOutcome, StepResult, TimedStepResult } from './outcome.js';
import type { Scenario } from './types.js';

/** The environment of the real tools. */
export const TOOL_ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', HOME: '/root' };

const BASE = `${process.env['NFLAB_NETNS_PREFIX'] ?? 'nflabt-'}sc`;
const PREFIX = `${BASE}${process.pid}-`;
let serial = 0;
const liveNetns = new Set<string>();
const liveProcs = new Set<ChildProcess>();
let hooked = false;

/** Deletes every namespace and ends every program this module started and has not cleaned up yet. */
export function cleanupAll(): void {
  for (const p of liveProcs) {
    try {
      p.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  liveProcs.clear();
  for (const ns of liveNetns) spawnSync('ip', ['netns', 'del', ns], { env: TOOL_ENV });
  liveNetns.clear();
}

/** Deletes the namespaces of earlier runs whose process is gone (a run killed before it could clean up). */
function deleteOrphans(): void {
  const list = spawnSync('ip', ['netns', 'list'], { env: TOOL_ENV, encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0]!;
    if (!name.startsWith(BASE)) continue;
    const pid = Number(/^(\d+)-/.exec(name.slice(BASE.length))?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
      continue; // its run is still going
    } catch {
      // gone: its namespaces are left over, with the programs it started in them
    }
    const pids = (spawnSync('ip', ['netns', 'pids', name], { env: TOOL_ENV, encoding: 'utf8' }).stdout ?? '').split('\n').filter(Boolean);
    for (const p of pids) spawnSync('kill', ['-9', p]);
    spawnSync('ip', ['netns', 'del', name], { env: TOOL_ENV });
  }
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  deleteOrphans();
  process.on('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      cleanupAll();
      process.exit(130);
    });
  }
}

/** Why the kernel side cannot run here, or undefined. */
export function kernelScenarioUnavailable(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'not running as root';
  const tools = spawnSync('sh', ['-c', 'command -v ip && command -v iptables-restore && command -v conntrack && command -v nc && command -v nmap && command -v tcpdump && command -v ping && command -v ssh && command -v traceroute && command -v vsftpd && command -v ftp'], { env: TOOL_ENV });
  if (tools.status !== 0) return 'ip, iptables-restore, conntrack, nc, nmap, tcpdump, ping, ssh, traceroute, vsftpd or ftp is missing';
  const v = spawnSync('cat', ['/proc/sys/net/netfilter/nf_log_all_netns'], { encoding: 'utf8' });
  if (v.stdout.trim() !== '1') {
    const w = spawnSync('sysctl', ['-qw', 'net.netfilter.nf_log_all_netns=1'], { env: TOOL_ENV, encoding: 'utf8' });
    if (w.status !== 0) return `net.netfilter.nf_log_all_netns cannot be set: ${w.stderr.trim()}`;
  }
  return undefined;
}

/** Runs a command to its end; a hung command is killed after timeoutMs. */
export function run(argv: string[], stdin = '', timeoutMs = 60_000): Promise<StepResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: TOOL_ENV, stdio: [stdin === '' ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    liveProcs.add(child);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', (e) => (stderr += String(e)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      liveProcs.delete(child);
      resolve({ stdout, stderr, status: code ?? (signal ? 128 : -1) });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(stdin);
    }
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The kernel log as lines of [seconds, text]. */
function kernelLog(): [number, string][] {
  const r = spawnSync('dmesg', [], { env: TOOL_ENV, encoding: 'utf8', maxBuffer: 64 << 20 });
  const out: [number, string][] = [];
  for (const line of (r.stdout ?? '').split('\n')) {
    const m = /^\[\s*(\d+\.\d+)\] (.*)$/.exec(line);
    if (m) out.push([Number(m[1]), m[2]!]);
  }
  return out;
}

/**
 * Waits until every link of the namespaces that was set up is operationally
 * up: the kernel turns a device's carrier on (and gives it its queue)
 * from a deferred work item, up to a second after `ip link set up`;
 * packets sent before are lost (a bridge's first ping goes unanswered).
 * Someone typing the tutorial's commands never sees that.
 */
async function linksReady(namespaces: string[]): Promise<void> {
  for (let i = 0; i < 60; i++) {
    let pending = false;
    for (const ns of namespaces) {
      const r = await run(['ip', '-n', ns, '-o', 'link', 'show', 'up']);
      if (r.stdout.split('\n').some((l) => l !== '' && !/ state (UP|UNKNOWN) /.test(l))) pending = true;
    }
    if (!pending) return;
    await sleep(50);
  }
}

/** Runs the scenario on the real kernel. */
export async function runKernelScenario(s: Scenario): Promise<ScenarioOutcome> {
  hook();
  const id = `${serial++}`;
  const names = new Map(s.namespaces.map((ns) => [ns, `${PREFIX}${id}${ns}`]));
  const mine: ChildProcess[] = [];
  const tempFiles: string[] = [];
  const vsftpdIn: string[] = [];
  const background = (argv: string[]): ChildProcess => {
    const child = spawn(argv[0]!, argv.slice(1), { env: TOOL_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    liveProcs.add(child);
    mine.push(child);
    return child;
  };
  try {
    for (const ns of names.values()) liveNetns.add(ns);
    for (const c of setupCommands(s, names)) {
      const r = await run(c.argv, c.stdin ?? '');
      if (r.status !== 0) throw new Error(`kernel setup: ${c.argv.join(' ')}: ${r.stderr}`);
    }
    await linksReady([...names.values()]);
    for (const svc of s.services ?? []) {
      const ns = names.get(svc.ns)!;
      let child: ChildProcess;
      if (svc.kind === 'nc') child = background(['ip', 'netns', 'exec', ns, 'nc', '-l', '-k', String(svc.port)]);
      else {
        const conf = `/tmp/${ns}-vsftpd.conf`;
        writeFileSync(conf, `${svc.conf}\nbackground=NO\nsecure_chroot_dir=/var/run/vsftpd/empty\n`);
        tempFiles.push(conf);
        child = background(['ip', 'netns', 'exec', ns, 'vsftpd', conf]);
        vsftpdIn.push(ns);
        for (let i = 0; i < 50; i++) {
          if ((await run(['ip', 'netns', 'exec', ns, 'ss', '-Hltn', 'sport = :21'])).stdout.includes(':21')) break;
          await sleep(50);
        }
      }
      child.stdout?.resume();
      child.stderr?.resume();
    }
    let capture: { lines: string[]; stderr: string } | undefined;
    let captureDone: Promise<void> | undefined;
    let captureProc: ChildProcess | undefined;
    if (s.capture) {
      const c = s.capture;
      const cap = { out: '', err: '' };
      captureProc = background(['ip', 'netns', 'exec', names.get(c.ns)!, 'tcpdump', '-l', '-n', '-i', c.dev, ...c.filter]);
      captureProc.stdout!.on('data', (d: Buffer) => (cap.out += d.toString('utf8')));
      captureProc.stderr!.on('data', (d: Buffer) => (cap.err += d.toString('utf8')));
      captureDone = new Promise((r) => captureProc!.on('close', () => r()));
      for (let i = 0; i < 60 && !cap.err.includes('listening on'); i++) await sleep(50);
      capture = { lines: [], stderr: '' };
      const done = captureDone;
      captureDone = done.then(() => {
        capture!.lines = cap.out.split('\n');
        capture!.stderr = cap.err;
      });
    }
    if ((s.services ?? []).length > 0) await sleep(300);
    const logStart = kernelLog().at(-1)?.[0] ?? 0;
    const steps: TimedStepResult[] = [];
    for (const step of s.steps) {
      const startMs = Date.now();
      const r = await run(['ip', 'netns', 'exec', names.get(step.ns)!, ...withNames(step.argv, names)], step.stdin ?? '');
      steps.push({ ...r, startMs, endMs: Date.now() });
    }
    if (captureProc) {
      await sleep(300);
      captureProc.kill('SIGINT');
      await captureDone;
    }
    const saves: Record<string, string> = {};
    const conntrack: Record<string, StepResult> = {};
    for (const [ns, real] of names) {
      saves[ns] = (await run(['ip', 'netns', 'exec', real, 'iptables-save', '-c'])).stdout;
      conntrack[ns] = await run(['ip', 'netns', 'exec', real, 'conntrack', '-L']);
    }
    const prefixes = logPrefixesOf(s);
    const log = kernelLog()
      .filter(([t, text]) => t > logStart && prefixes.some((p) => text.startsWith(p) && text.slice(p.length).startsWith('IN=')))
      .map(([, text]) => text);
    const out: ScenarioOutcome = { steps, saves, conntrack, log };
    if (capture) out.capture = capture;
    return out;
  } finally {
    // vsftpd's session processes: every process left in a namespace where this run started one
    for (const ns of vsftpdIn) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      for (const pid of pids) spawnSync('kill', ['-9', pid]);
    }
    for (const f of tempFiles) rmSync(f, { force: true });
    for (const p of mine) {
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
      liveProcs.delete(p);
    }
    for (const ns of names.values()) {
      spawnSync('ip', ['netns', 'del', ns], { env: TOOL_ENV });
      liveNetns.delete(ns);
    }
  }
}
