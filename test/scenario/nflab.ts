/**
 * Runs a scenario in a fresh nflab lab through nflab's command line, in
 * process (runNflab): the same setup commands as the kernel side, the
 * services and the capture started from a script with `&`, each step as
 * `ip netns exec NS ...`. Between two steps the lab's clock is moved on by
 * the time the kernel side spent between them, so rate limits and
 * timeouts see the same gaps. The background capture prints its lines
 * into the output of whatever command runs: they are told apart by their
 * timestamp and moved to the capture.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRunNflab } from '../diff/nflab.js';
import { setupCommands, withNames, logPrefixesOf, type SetupCommand } from './build.js';
import type { ScenarioOutcome, StepResult, TimedStepResult } from './outcome.js';
import type { Scenario } from './types.js';

/** A tcpdump line as tcpdump prints it without -t (-n: IP, ARP and the other link types' lines). */
const CAPTURE_LINE = /\d\d:\d\d:\d\d\.\d{6} [^\n]*\n/g;

function labParent(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

const quote = (w: string): string => (/^[A-Za-z0-9_./:=%,+-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/**
 * The setup on lab hosts: each namespace a host, each veth pair a wire
 * with the two ends' MAC addresses set, every other command run on its
 * host with `--host`.
 */
function hostSetup(s: Scenario, names: ReadonlyMap<string, string>): SetupCommand[] {
  const out: SetupCommand[] = [{ argv: ['host', 'add', ...s.namespaces] }];
  s.links.forEach((l, i) => {
    if (l.kind !== 'veth') throw new Error(`${s.name}: lab hosts are joined by wires, not bridges`);
    out.push({ argv: ['wire', 'add', `w${i}`, `${l.a.ns}:${l.a.dev}`, `${l.b.ns}:${l.b.dev}`] });
    for (const end of [l.a, l.b]) out.push({ argv: ['--host', end.ns, 'ip', 'link', 'set', end.dev, 'address', end.mac] });
  });
  for (const c of setupCommands(s, names)) {
    const [a, b, c2, d] = c.argv;
    if (a === 'ip' && b === 'netns' && c2 === 'add') continue;
    if (a === 'ip' && b === '-n' && c.argv.includes('type') && c.argv.includes('veth')) continue;
    if (a === 'ip' && b === '-n') out.push({ ...c, argv: ['--host', c2!, 'ip', ...c.argv.slice(3)] });
    else if (a === 'ip' && b === 'netns' && c2 === 'exec') out.push({ ...c, argv: ['--host', d!, ...c.argv.slice(4)] });
    else throw new Error(`${s.name}: no lab-host form for ${c.argv.join(' ')}`);
  }
  return out;
}

/** Runs the scenario in nflab; `gapsMs[i]` is the time to let pass before step i. */
export async function runNflabScenario(s: Scenario, gapsMs: readonly number[] = []): Promise<ScenarioOutcome> {
  const runNflab = await loadRunNflab();
  const lab = mkdtempSync(join(labParent(), 'nflabt-scenario-'));
  try {
    mkdirSync(join(lab, 'fs', 'etc'), { recursive: true });
    writeFileSync(join(lab, 'fs', 'etc', 'hosts'), '127.0.0.1\tlocalhost\n');
    const names = new Map(s.namespaces.map((ns) => [ns, ns]));
    const call = async (argv: string[], stdin?: string): Promise<StepResult> => {
      try {
        return await runNflab(argv, stdin === undefined ? { lab } : { lab, stdin });
      } catch (e) {
        return { stdout: '', stderr: `[nflab threw] ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`, status: -1 };
      }
    };
    const hosts = s.nflabHosts === true;
    // where a command runs: in a namespace of the lab's host, or on a lab host of its own
    const at = (ns: string): string[] => (hosts ? ['--host', ns] : ['ip', 'netns', 'exec', ns]);
    const atScript = (ns: string): string => (hosts ? `nflab --host ${ns}` : `ip netns exec ${ns}`);
    for (const c of hosts ? hostSetup(s, names) : setupCommands(s, names)) {
      const r = await call(c.argv, c.stdin);
      if (r.status !== 0) throw new Error(`nflab setup: ${c.argv.join(' ')}: ${r.stderr}`);
    }
    // the machine this suite runs on has nf_log_all_netns=1 (the kernel side needs it to see LOG lines of namespaces)
    if (!hosts) {
      const r = await call(['sysctl', '-q', '-w', 'net.netfilter.nf_log_all_netns=1']);
      if (r.status !== 0) throw new Error(`nflab setup: nf_log_all_netns: ${r.stderr}`);
    }
    const script: string[] = [];
    for (const svc of s.services ?? []) {
      if (svc.kind === 'nc') script.push(`${atScript(svc.ns)} nc -l -k ${svc.port} &`);
      else {
        mkdirSync(join(lab, 'fs', 'etc', 'vsftpd'), { recursive: true });
        mkdirSync(join(lab, 'fs', 'srv', 'ftp'), { recursive: true });
        writeFileSync(join(lab, 'fs', 'etc', 'vsftpd', 'vsftpd.conf'), `${svc.conf}\n`);
        writeFileSync(join(lab, 'fs', 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/bash\nftp:x:103:106:ftp daemon,,,:/srv/ftp:/usr/sbin/nologin\n');
        if (hosts) throw new Error('vsftpd on a lab host of its own: not in these scenarios');
        script.push(`ip netns exec ${svc.ns} vsftpd /etc/vsftpd/vsftpd.conf &`);
      }
    }
    const captureJob = script.length + 1;
    if (s.capture) {
      const c = s.capture;
      script.push(`${atScript(c.ns)} tcpdump -l -n -i ${c.dev} ${c.filter.map(quote).join(' ')} &`.replace(/ +&$/, ' &'));
    }
    const capture = { lines: [] as string[], stderr: '' };
    // the capture's stdout as lines: the captured packets, then what tcpdump prints when it is ended
    // a capture line can land in the middle of a program's line (written in pieces): taken out wherever it is
    const take = (r: StepResult): StepResult => {
      if (!s.capture) return r;
      const stdout = r.stdout.replace(CAPTURE_LINE, (line: string) => {
        capture.lines.push(line.replace(/\n$/, ''));
        return '';
      });
      return { ...r, stdout };
    };
    if (script.length > 0) {
      writeFileSync(join(lab, 'services.sh'), script.join('\n') + '\n');
      const r = take(await call(['run', join(lab, 'services.sh')]));
      if (r.status !== 0) throw new Error(`nflab services: ${r.stderr}`);
      capture.stderr += r.stderr;
    }
    const steps: TimedStepResult[] = [];
    let clock = 0;
    for (const [i, step] of s.steps.entries()) {
      const gap = gapsMs[i] ?? 0;
      if (gap > 0) {
        take(await call(['sleep', (gap / 1000).toFixed(3)]));
        clock += gap;
      }
      const r = take(await call([...at(step.ns), ...withNames(step.argv, names)], step.stdin));
      steps.push({ ...r, startMs: clock, endMs: clock });
    }
    if (s.capture) {
      // a lab host's jobs are ended from that host
      const r = take(await call([...(hosts ? ['--host', s.capture.ns] : []), 'kill', `%${captureJob}`]));
      capture.lines.push(...r.stdout.split('\n'));
      capture.stderr += r.stderr;
    }
    const saves: Record<string, string> = {};
    const conntrack: Record<string, StepResult> = {};
    const log: string[] = [];
    const prefixes = logPrefixesOf(s);
    for (const ns of s.namespaces) {
      saves[ns] = take(await call([...at(ns), 'iptables-save', '-c'])).stdout;
      conntrack[ns] = take(await call([...at(ns), 'conntrack', '-L']));
    }
    if (prefixes.length > 0) {
      // the namespaces log to their host's kernel log, as every namespace of the machine does to its one log; lab hosts each to their own
      for (const where of hosts ? s.namespaces.map((ns) => ['--host', ns]) : [[]]) {
        const d = take(await call([...where, 'dmesg']));
        for (const line of d.stdout.split('\n')) {
          const text = line.replace(/^\[\s*\d+\.\d+\] /, '');
          if (prefixes.some((p) => text.startsWith(p) && text.slice(p.length).startsWith('IN='))) log.push(text);
        }
      }
    }
    const out: ScenarioOutcome = { steps, saves, conntrack, log };
    if (s.capture) out.capture = capture;
    return out;
  } finally {
    rmSync(lab, { recursive: true, force: true });
  }
}
