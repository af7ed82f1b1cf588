/**
 * Benchmark of the packet path: a 1,000,000-packet capture replayed through a stateful firewall,
 * in nflab and in the kernel, with the same rules, in one run.
 *
 * The firewall forwards: frames arrive on eth0 and leave by eth1. A firewall with conntrack is
 * a router that sees both directions of every connection; replaying a capture to the machine's
 * own address instead would need sockets behind INPUT (nflab has none, so both kernels would
 * answer every TCP segment with a reset, tear the connections down and turn the "established"
 * traffic into something no firewall sees). Every frame of the capture is addressed to the
 * firewall's MAC on eth0, both directions of each flow included, as a capture replayed into a
 * device under test from one port arrives; the default route sends everything out of eth1,
 * whose driver drops it (see packets-nflab.ts), so the measure is the firewall's own work.
 *
 * Steps: generate the capture (packets-capture.ts) into a scratch directory /tmp/nflab-bench-*;
 * write the rule sets (packets-rules.ts: 10, 1,000 and 10,000 FORWARD rules); replay the capture
 * through nflab's in-process Machine (a child process pinned to one CPU, median of --runs runs,
 * only the replay loop timed); replay it into the kernel (packets-kernel.ts: a namespace pair,
 * tcpreplay --topspeed from the peer, pinned to the same CPU); compare the rule counters and
 * connection counts of both sides; replay it once through the command line (`nflab replay`) with
 * the 10-rule set. A row without rules (no conntrack either) shows the cost of the path alone.
 *
 * Usage: node dist/bench/packets.js [--packets N] [--rules 10,1000,10000] [--runs N]
 *        [--kernel-runs N] [--big-kernel-runs N] [--seed N] [--cpu N] [--no-kernel] [--no-cli]
 *        [--no-baseline] [--profile] [--keep] [--json FILE]
 *
 * Defaults: 1,000,000 packets, median of 3 nflab replays and of 3 kernel replays per rule set,
 * except one kernel replay for sets of 10,000 rules or more (--big-kernel-runs; one takes about a
 * minute), CPU 1. The whole run takes about 5 to 8 minutes on the 2-core VM, depending on load.
 *
 * --profile replays once with a CPU profile at each rule set size instead (10 and 1,000 by
 * default) and prints where the time goes; the .cpuprofile files stay in the scratch directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCapture, type CaptureStats } from './packets-capture.js';
import { kernelReplay, kernelSideAvailable, type KernelRun } from './packets-kernel.js';
import { firewallCommands, replayInProcess, stripSaveComments } from './packets-nflab.js';
import { Profiler } from './packets-profile.js';
import { benchRuleset } from './packets-rules.js';
import { measure, median } from './measure.js';

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file is dist/bench/packets.js). */
const ROOT = resolve(HERE, '..', '..');
const NFLAB = join(ROOT, 'bin', 'nflab');
const SELF = fileURLToPath(import.meta.url);

/** Command-line options. */
interface Options {
  packets: number;
  rules: number[];
  runs: number;
  kernelRuns: number;
  /** Kernel replays of rule sets of 10,000 rules or more (one takes about a minute). */
  bigKernelRuns: number;
  seed: number;
  cpu: number;
  kernel: boolean;
  cli: boolean;
  baseline: boolean;
  profile: boolean;
  keep: boolean;
  json?: string;
}

/** Options of the child process that replays through nflab. */
interface WorkerOptions {
  pcap: string;
  /** Rule file, or 'none' for a machine without rules. */
  rules: string;
  runs: number;
  out: string;
  /** Write a CPU profile of one replay here instead of measuring. */
  profileOut?: string;
}

/** What the nflab child reports. */
interface WorkerResult {
  secs: number[];
  /** CPU seconds of each run. */
  cpuSecs: number[];
  counters: string;
  /** Whether every run ended with the same counters. */
  stable: boolean;
  conntrack: number;
  sent: number;
  profile?: string;
}

const USAGE =
  'usage: node dist/bench/packets.js [--packets N] [--rules 10,1000,10000] [--runs N] [--kernel-runs N] [--seed N] [--cpu N]\n' +
  '       [--big-kernel-runs N] [--no-kernel] [--no-cli] [--no-baseline] [--profile] [--keep] [--json FILE]';

function parseArgs(argv: string[]): Options {
  const o: Options = { packets: 1_000_000, rules: [10, 1000, 10000], runs: 3, kernelRuns: 3, bigKernelRuns: 1, seed: 20240611, cpu: 1, kernel: true, cli: true, baseline: true, profile: false, keep: false };
  let rulesGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--packets') o.packets = Number(val());
    else if (a === '--rules') {
      o.rules = val().split(',').map(Number);
      rulesGiven = true;
    } else if (a === '--runs') o.runs = Number(val());
    else if (a === '--kernel-runs') o.kernelRuns = Number(val());
    else if (a === '--big-kernel-runs') o.bigKernelRuns = Number(val());
    else if (a === '--seed') o.seed = Number(val());
    else if (a === '--cpu') o.cpu = Number(val());
    else if (a === '--no-kernel') o.kernel = false;
    else if (a === '--no-cli') o.cli = false;
    else if (a === '--no-baseline') o.baseline = false;
    else if (a === '--profile') o.profile = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--json') o.json = val();
    else if (a === '--help' || a === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  if (o.profile && !rulesGiven) o.rules = [10, 1000];
  if (!Number.isInteger(o.packets) || o.packets < 1000) throw new Error('--packets must be an integer >= 1000');
  if (o.rules.some((r) => !Number.isInteger(r) || r < 10)) throw new Error('--rules takes sizes of at least 10');
  if (![o.runs, o.kernelRuns, o.bigKernelRuns].every((n) => Number.isInteger(n) && n >= 1)) throw new Error('--runs, --kernel-runs and --big-kernel-runs must be positive integers');
  return o;
}

// ---- the nflab child ----

function worker(o: WorkerOptions): void {
  const bytes = readFileSync(o.pcap);
  const pcap = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const rules = o.rules === 'none' ? '' : readFileSync(o.rules, 'utf8');
  const result: WorkerResult = { secs: [], cpuSecs: [], counters: '', stable: true, conntrack: 0, sent: 0 };
  if (o.profileOut) {
    const prof = new Profiler();
    const run = replayInProcess(rules, pcap, { before: () => prof.start(), after: () => prof.stop() });
    result.profile = prof.write(o.profileOut);
    result.secs.push(run.secs);
    result.cpuSecs.push(run.cpuSecs);
    result.counters = run.counters;
    result.conntrack = run.conntrack;
    result.sent = run.sent;
  } else {
    for (let i = 0; i < o.runs; i++) {
      const run = replayInProcess(rules, pcap);
      result.secs.push(run.secs);
      result.cpuSecs.push(run.cpuSecs);
      if (i === 0) {
        result.counters = run.counters;
        result.conntrack = run.conntrack;
        result.sent = run.sent;
      } else if (run.counters !== result.counters || run.conntrack !== result.conntrack) result.stable = false;
    }
  }
  writeFileSync(o.out, JSON.stringify(result));
}

function parseWorkerArgs(argv: string[]): WorkerOptions {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  return { pcap: get('--pcap')!, rules: get('--rules-file')!, runs: Number(get('--runs') ?? 1), out: get('--out')!, profileOut: get('--profile-out') };
}

/** Runs the nflab child pinned to one CPU (all its threads, the collector's too). */
function runWorker(cpu: number, w: WorkerOptions): WorkerResult {
  const args = ['-c', String(cpu), process.execPath, '--max-old-space-size=8192', SELF, '--worker', '--pcap', w.pcap, '--rules-file', w.rules, '--runs', String(w.runs), '--out', w.out];
  if (w.profileOut) args.push('--profile-out', w.profileOut);
  const r = spawnSync('taskset', args, { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`the nflab replay failed (status ${r.status})`);
  return JSON.parse(readFileSync(w.out, 'utf8')) as WorkerResult;
}

// ---- comparisons and output ----

/** Packets counted by FORWARD's rules and policy in iptables-save -c output. */
function forwardPackets(save: string): number {
  let n = 0;
  for (const line of save.split('\n')) {
    const rule = /^\[(\d+):\d+\] -A FORWARD /.exec(line);
    const policy = /^:FORWARD \S+ \[(\d+):\d+\]$/.exec(line);
    if (rule) n += Number(rule[1]);
    else if (policy) n += Number(policy[1]);
  }
  return n;
}

/** Lines with non-zero counters (and the chain lines), for printing. */
function countedLines(save: string): string[] {
  return save.split('\n').filter((l) => l.startsWith(':') || (/^\[\d+:\d+\]/.test(l) && !l.startsWith('[0:0]')));
}

/** Compares two iptables-save -c texts; returns the differing lines (empty when identical). */
function diffCounters(nflab: string, kernel: string): string[] {
  const a = nflab.split('\n');
  const b = kernel.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) out.push(`  line ${i + 1}: nflab  ${a[i] ?? '(none)'}`, `  ${' '.repeat(String(i + 1).length + 6)}kernel ${b[i] ?? '(none)'}`);
    if (out.length >= 20) break;
  }
  return out;
}

const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');

function describeCapture(s: CaptureStats, file: string, genSecs: number): string {
  const pct = (n: number): string => `${((100 * n) / s.packets).toFixed(1)}%`;
  const flows = Object.entries(s.flows)
    .map(([k, v]) => `${k} ${fmt(v)}`)
    .join(', ');
  return [
    `capture: ${fmt(s.packets)} packets, ${fmt(s.bytes)} bytes (mean frame ${(s.bytes / s.packets).toFixed(0)} bytes), ${s.spanSec.toFixed(2)} s of capture time; generated in ${genSecs.toFixed(1)} s`,
    `  ${file}`,
    `  established: ${fmt(s.establishedPackets)} (${pct(s.establishedPackets)}: their connection already exists), new: ${fmt(s.newPackets)} (${pct(s.newPackets)}: the first packet of each flow)`,
    `  tcp ${pct(s.tcp)}, udp ${pct(s.udp)}, icmp ${pct(s.icmp)}; frames <=100 bytes ${pct(s.small)}, 101-1000 ${pct(s.medium)}, >1000 ${pct(s.large)}`,
    `  flows: ${flows}`,
  ].join('\n');
}

const KERNEL_NOTE = `What the kernel figure means: tcpreplay (--topspeed --preload-pcap) sends each frame with a
packet-socket write on p0 in the peer namespace. The veth transmit hands the frame to the
firewall namespace's per-CPU backlog and raises the receive softirq, which runs as soon as the
sending thread re-enables bottom halves at the end of its transmit, on the same CPU: ip_rcv,
conntrack, the FORWARD rules, routing and the transmit on eth1 (dropped by the veth driver, its
peer being down) all happen before the send returns. tcpreplay's elapsed time is therefore the
time the kernel took, including the cost of the injection itself (the system call, the
packet-socket and veth transmit paths); the row without rules shows that fixed part. The
softirq work is charged to tcpreplay as system time (the per-run figures above; they also
cover loading the capture into memory, which the elapsed time does not). Everything
runs on one CPU of this 2-core VM (taskset), like the nflab child; the checks below confirm that
every packet reached FORWARD (rule and policy counters add up to the capture) and none was
dropped by the backlog.`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--worker') return worker(parseWorkerArgs(argv.slice(1)));
  const o = parseArgs(argv);
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  const scratch = mkdtempSync(join(tmpdir(), 'nflab-bench-'));
  const cleanup = (): void => {
    if (!o.keep) rmSync(scratch, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  try {
    // 1. the capture and the rule sets
    let t = performance.now();
    const gen = generateCapture({ packets: o.packets, newShare: 0.1, durationSec: 10, seed: o.seed });
    const genSecs = (performance.now() - t) / 1000;
    const pcapFile = join(scratch, 'capture.pcap');
    writeFileSync(pcapFile, gen.pcap);
    console.log(describeCapture(gen.stats, pcapFile, genSecs));
    const ruleFiles = new Map<number, string>();
    for (const n of o.rules) {
      const f = join(scratch, `forward-${n}.rules`);
      writeFileSync(f, benchRuleset(n, o.seed));
      ruleFiles.set(n, f);
    }
    console.log(`rule sets: ${o.rules.map((n) => `${fmt(n)} FORWARD rules`).join(', ')} (state rule first, the capture's services last, policy DROP)\n`);

    // profile mode: one profiled replay per size, then stop
    if (o.profile) {
      for (const n of o.rules) {
        const prof = join(scratch, `nflab-${n}.cpuprofile`);
        const r = runWorker(o.cpu, { pcap: pcapFile, rules: ruleFiles.get(n)!, runs: 1, out: join(scratch, `profile-${n}.json`), profileOut: prof });
        console.log(`nflab, ${fmt(n)} rules, one replay under the profiler: ${r.secs[0]!.toFixed(2)} s (${fmt(o.packets / r.secs[0]!)} packets/s with the profiler on)`);
        console.log(r.profile);
        console.log(`  (${prof}${o.keep ? '' : ', removed at exit: use --keep to keep it'})\n`);
      }
      return;
    }

    const sizes: (number | 'none')[] = [...(o.baseline ? (['none'] as const) : []), ...o.rules];
    const rulesOf = (n: number | 'none'): string => (n === 'none' ? 'none' : ruleFiles.get(n)!);
    const label = (n: number | 'none'): string => (n === 'none' ? 'no rules, no conntrack' : `${fmt(n)} rules`);

    // 2. nflab in-process
    const nflab = new Map<number | 'none', WorkerResult>();
    for (const n of sizes) {
      t = performance.now();
      const r = runWorker(o.cpu, { pcap: pcapFile, rules: rulesOf(n), runs: o.runs, out: join(scratch, `nflab-${n}.json`) });
      nflab.set(n, r);
      console.log(
        `nflab ${label(n)}: ${r.secs.map((s, i) => `${s.toFixed(2)} s (cpu ${r.cpuSecs[i]!.toFixed(2)})`).join(', ')} -> median ${fmt(o.packets / median(r.secs))} packets/s  [${elapsed()}]`,
      );
    }

    // 3. the kernel
    const kernel = new Map<number | 'none', KernelRun[]>();
    const why = o.kernel ? kernelSideAvailable() : 'skipped (--no-kernel)';
    if (why) console.log(`kernel: ${why}`);
    else {
      for (const n of sizes) {
        const runs: KernelRun[] = [];
        const count = n !== 'none' && n >= 10000 ? o.bigKernelRuns : o.kernelRuns;
        for (let i = 0; i < count; i++) runs.push(kernelReplay(n === 'none' ? null : readFileSync(ruleFiles.get(n)!, 'utf8'), pcapFile, o.cpu));
        kernel.set(n, runs);
        const cpu = runs.map((r) => `${r.secs.toFixed(2)} s (tcpreplay user ${r.userSecs.toFixed(2)}, sys ${r.sysSecs.toFixed(2)})`).join(', ');
        console.log(`kernel ${label(n)}: ${cpu} -> median ${fmt(median(runs.map((r) => r.pps)))} packets/s  [${elapsed()}]`);
      }
    }

    // 4. the command line, once, with the smallest rule set
    let cli: { secs: number; peakMB: number; counters: string; stdout: string } | null = null;
    if (o.cli && o.rules.length) {
      const n = o.rules[0]!;
      const lab = join(scratch, 'lab');
      const env = { NFLAB_EPOCH: '1700000000' };
      const nflabCmd = (args: string[]): string => {
        const r = spawnSync(NFLAB, ['--lab', lab, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
        if (r.status !== 0) throw new Error(`nflab ${args.join(' ')}: ${r.stderr}`);
        return r.stdout;
      };
      for (const c of firewallCommands(null)) nflabCmd(c);
      nflabCmd(['ip', 'link', 'set', 'dev', 'p0', 'up']);
      nflabCmd(['iptables-restore', ruleFiles.get(n)!]);
      const outFile = join(scratch, 'replay.out');
      const s = await measure(['taskset', '-c', String(o.cpu), NFLAB, '--lab', lab, 'replay', pcapFile, '--in', 'eth0'], { env, stdoutFile: outFile }, scratch);
      if (s.status !== 0) throw new Error(`nflab replay failed (${s.status}): ${s.stderr}`);
      cli = { secs: s.secs, peakMB: s.peakMB, counters: stripSaveComments(nflabCmd(['iptables-save', '-c', '-t', 'filter'])), stdout: readFileSync(outFile, 'utf8').trim() };
      console.log(`nflab replay (command line, ${fmt(n)} rules): ${s.secs.toFixed(2)} s, peak RSS ${s.peakMB.toFixed(0)} MiB: "${cli.stdout}"  [${elapsed()}]`);
    }

    // 5. the table and the checks
    console.log('\nPackets per second replaying the capture through a stateful FORWARD chain (one CPU):\n');
    const header = ['rule set', 'nflab pps', 'kernel pps', 'nflab/kernel', 'nflab pps by CPU time'];
    const rows = sizes.map((n) => {
      const nr = nflab.get(n)!;
      const np = o.packets / median(nr.secs);
      const kr = kernel.get(n);
      const kp = kr ? median(kr.map((r) => r.pps)) : NaN;
      return [label(n), fmt(np), fmt(kp), Number.isFinite(kp) ? (np / kp).toFixed(2) : '-', fmt(o.packets / median(nr.cpuSecs))];
    });
    if (cli) rows.push([`${fmt(o.rules[0]!)} rules, nflab replay (CLI)`, fmt(o.packets / cli.secs), '', '', '']);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log(line(header));
    console.log(widths.map((w) => '-'.repeat(w)).join('  '));
    for (const r of rows) console.log(line(r));
    console.log(`\nnflab: median of ${o.runs} replays of the in-process Machine, the replay loop only (capture generation and parsing excluded).`);
    console.log('"by CPU time": packets over the CPU seconds the nflab process used during its loop; above the wall-clock figure when other work shared the CPU.');
    if (cli) console.log(`nflab replay (CLI): one cold process, wall clock by GNU time: start, reading and parsing the pcap, the replay, saving the lab state.`);
    if (kernel.size) {
      const times = (k: number): string => (k === 1 ? 'one replay' : `median of ${k} replays`);
      console.log(`kernel: ${times(o.kernelRuns)} per rule set (${times(o.bigKernelRuns)} from 10,000 rules), each into fresh namespaces.\n\n${KERNEL_NOTE}`);
    }

    let allSame = true;
    console.log('\nCounters after the replay (iptables-save -c -t filter, nflab against the kernel):');
    for (const n of o.rules) {
      const nr = nflab.get(n)!;
      const kr = kernel.get(n)?.[0];
      const parts = [`${label(n)}: FORWARD counted ${fmt(forwardPackets(nr.counters))} packets in nflab`];
      if (!nr.stable) parts.push('(nflab runs ended with different counters!)');
      if (kr) {
        const d = diffCounters(nr.counters, kr.counters);
        const kernelStable = kernel.get(n)!.every((r) => r.counters === kr.counters);
        parts.push(`${fmt(forwardPackets(kr.counters))} in the kernel (eth0 received ${fmt(kr.rxPackets)}, backlog drops ${fmt(kr.rxDropped)})`);
        parts.push(d.length ? 'counters DIFFER' : 'counters identical');
        if (!kernelStable) parts.push('(kernel runs ended with different counters!)');
        parts.push(`connections: nflab ${fmt(nr.conntrack)}, kernel ${fmt(kr.conntrack)}${nr.conntrack === kr.conntrack ? '' : ' DIFFER'}`);
        console.log(parts.join('; '));
        if (d.length || nr.conntrack !== kr.conntrack) allSame = false;
        for (const l of d) console.log(l);
      } else console.log(parts.join('; '));
    }
    const first = o.rules[0];
    if (cli && first !== undefined) {
      const ref = kernel.get(first)?.[0]?.counters ?? nflab.get(first)!.counters;
      const d = diffCounters(cli.counters, ref);
      console.log(`nflab replay (CLI), ${fmt(first)} rules: counters ${d.length ? 'DIFFER from' : 'identical to'} the ${kernel.get(first) ? 'kernel' : 'in-process'} run's`);
      for (const l of d) console.log(l);
      if (d.length) allSame = false;
    }
    const biggest = o.rules[o.rules.length - 1];
    if (biggest !== undefined) {
      console.log(`\nCounted rules of the ${fmt(biggest)}-rule set (nflab; rules and policy with packets):`);
      for (const l of countedLines(nflab.get(biggest)!.counters)) console.log(`  ${l}`);
    }
    console.log(`\n${kernel.size ? (allSame ? 'nflab and the kernel agree on every counter and connection count.' : 'nflab and the kernel DISAGREE (see above).') : ''} Total time ${elapsed()}.`);
    console.log(`Command: node dist/bench/packets.js ${argv.join(' ')}`.trimEnd());

    if (o.json) {
      const out = {
        capture: gen.stats,
        rules: o.rules,
        nflab: Object.fromEntries([...nflab].map(([n, r]) => [n, { secs: r.secs, cpuSecs: r.cpuSecs, pps: o.packets / median(r.secs), conntrack: r.conntrack }])),
        kernel: Object.fromEntries([...kernel].map(([n, rs]) => [n, rs.map((r) => ({ ...r, counters: undefined }))])),
        cli: cli ? { secs: cli.secs, peakMB: cli.peakMB, pps: o.packets / cli.secs } : null,
        agree: allSame,
      };
      writeFileSync(o.json, JSON.stringify(out, null, 2));
    }
  } finally {
    cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
