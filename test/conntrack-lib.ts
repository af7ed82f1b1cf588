/**
 * Shared pieces of the conntrack tests: a fake machine for the hook
 * functions (virtual clock, sysctls, kernel log), frame building, and
 * running packets through the hooks the way the kernel orders them for a
 * forwarded or local packet.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConntrack } from '../src/cli/conntrack.js';
import { conntrackConfirm, conntrackIn, type ConntrackEnv } from '../src/core/conntrack/hooks.js';
import { defragIn } from '../src/core/conntrack/defrag.js';
import { ConntrackTable } from '../src/core/conntrack/table.js';
import { CtInfo, newSkb, type Skb } from '../src/core/path/skb.js';
import { encodeIpv4, type PacketDesc } from '../src/core/wire/frame.js';
import { NF_ACCEPT } from '../src/core/xt/verdict.js';

/** A fake machine for conntrack: clock in ns, sysctl overrides, a log. */
export interface FakeMachine {
  env: ConntrackEnv;
  table: ConntrackTable;
  sysctls: Map<string, number>;
  log: string[];
  /** Virtual time, ns. */
  now: number;
  /** Advances the clock by seconds. */
  sleep(sec: number): void;
}

/** A fresh fake machine; ids come from a counter so listings are predictable. */
export function fakeMachine(startSec = 100): FakeMachine {
  const m: FakeMachine = {
    table: new ConntrackTable(() => m.now),
    sysctls: new Map(),
    log: [],
    now: startSec * 1e9,
    sleep(sec: number) {
      m.now += Math.round(sec * 1e9);
    },
    env: undefined as unknown as ConntrackEnv,
  };
  let id = 1000;
  m.env = {
    table: m.table,
    nowNs: () => m.now,
    sysctl: (name) => m.sysctls.get(name),
    printk: (level, text) => m.log.push(`<${level}>${text}`),
    random32: () => ++id,
  };
  return m;
}

/** Addresses of the two sides in the tests: B (original sender) and C (its peer). */
export const B = '10.9.1.2';
export const C = '10.9.2.2';

/** A datagram from a description, with default addresses by direction ('o': B to C, 'r': C to B). */
export function datagram(dir: 'o' | 'r', desc: PacketDesc): Uint8Array {
  const ipv4 = { src: dir === 'o' ? B : C, dst: dir === 'o' ? C : B, ...(desc.ipv4 ?? {}) };
  return encodeIpv4({ ...desc, ipv4 });
}

/** What happened to one packet in the fake forward path. */
export interface PathResult {
  verdict: number;
  skb: Skb | null;
}

/**
 * Runs a received datagram through defrag (-400), conntrack (-200) at
 * PREROUTING and confirmation at POSTROUTING (a forwarded packet), as the
 * kernel does when no rule drops it.
 */
export function forward(m: FakeMachine, data: Uint8Array, indev = 'a1', emulate?: Emulation): PathResult {
  const first = newSkb(data, new Uint8Array(14), indev);
  const skb = defragIn(m.env, first, 'PREROUTING');
  if (skb === null) return { verdict: NF_ACCEPT, skb: null };
  emulate?.(skb, 'raw');
  const v = conntrackIn(m.env, skb, 'PREROUTING');
  if (v !== NF_ACCEPT) return { verdict: v, skb };
  emulate?.(skb, 'forward');
  return { verdict: conntrackConfirm(m.env, skb), skb };
}

/**
 * What a scenario's rules do, done by hand on the nflab side (the rules'
 * kernel halves are not part of these tests): called in the raw table
 * (before conntrack) and in FORWARD (after it).
 */
export type Emulation = (skb: Skb, where: 'raw' | 'forward') => void;

// ------------------------------------------------------------ kernel side


/** One step of a scenario: a datagram in a direction, or a pause. */
export type Step = { dir: 'o' | 'r'; data: Uint8Array } | { sleep: number };

/** A scenario run on both the real kernel and nflab. */
export interface Scenario {
  name: string;
  /** Per-namespace sysctls set before any packet (full dotted names). */
  sysctls?: Record<string, number>;
  steps: Step[];
  /** iptables commands (arguments) run on the kernel side before any packet. */
  rules?: string[][];
  /** The same rules' effect on the nflab side. */
  emulate?: Emulation;
  /** conntrack invocations whose results are compared (default: -L). */
  commands?: string[][];
}

/** What a scenario gave: the -m state verdict of each packet, and the commands' results. */
export interface Outcome {
  /** Per packet step: INVALID, NEW, ESTABLISHED, RELATED, UNTRACKED, or NONE (not forwarded). */
  states: string[];
  results: { stdout: string; stderr: string; status: number }[];
  /** Real seconds the run took, packets and commands (timeouts on the kernel side may be lower by that much). */
  elapsed: number;
}

const MAC = { a1: '02:00:00:00:01:01', p1: '02:00:00:00:01:02', a2: '02:00:00:00:02:01', p2: '02:00:00:00:02:02' };
const STATES = ['INVALID', 'NEW', 'ESTABLISHED', 'RELATED', 'UNTRACKED'];
const TOOL_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', HOME: '/root' };

function macBytes(m: string): number[] {
  return m.split(':').map((h) => parseInt(h, 16));
}

/** The Ethernet frame carrying a step's datagram on the peer's interface. */
function frameHex(dir: 'o' | 'r', data: Uint8Array): string {
  const dst = dir === 'o' ? MAC.a1 : MAC.a2;
  const src = dir === 'o' ? MAC.p1 : MAC.p2;
  const bytes = [...macBytes(dst), ...macBytes(src), 0x08, 0x00, ...data];
  return Buffer.from(bytes).toString('hex');
}

const DRIVER = `
import json, socket, subprocess, sys, time
req = json.load(sys.stdin)
ns = req['ns']
socks = {}
def counters():
    out = subprocess.run(['ip', 'netns', 'exec', ns, 'iptables', '-w', '-L', 'FORWARD', '-v', '-x', '-n'], capture_output=True, text=True).stdout
    c = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and 'state' in f:
            c[f[f.index('state') + 1]] = int(f[0])
    return c
states = []
t0 = time.monotonic()
before = counters()
for st in req['steps']:
    if 'sleep' in st:
        time.sleep(st['sleep'])
        continue
    s = socks.get(st['ifc'])
    if s is None:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((st['ifc'], 0))
        socks[st['ifc']] = s
    s.send(bytes.fromhex(st['hex']))
    time.sleep(0.01)
    after = counters()
    moved = [k for k in after if after[k] != before.get(k, 0)]
    states.append(','.join(sorted(moved)) if moved else 'NONE')
    before = after
print(json.dumps({'states': states, 'elapsed': time.monotonic() - t0}))
`;

let nsCounter = 0;

function run(argv: string[], input?: string): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(argv[0]!, argv.slice(1), { env: TOOL_ENV, encoding: 'utf8', input, timeout: 120_000 });
  // a signal gives the status a shell reports (128 + its number)
  const status = r.status ?? (r.signal ? 128 + constants.signals[r.signal] : -1);
  return { stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : ''), status };
}

function must(argv: string[]): void {
  const r = run(argv);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
}

/**
 * Runs a scenario on the real kernel: a router namespace A (10.9.1.1 on
 * a1, 10.9.2.1 on a2, forwarding, counting rules per -m state value in
 * FORWARD) and a peer namespace P holding the other ends (p1 = B,
 * 10.9.1.2; p2 = C, 10.9.2.2) whose own stack ignores everything. Frames
 * are sent from P; the conntrack commands run in A. The namespaces are
 * deleted afterwards.
 */
export function runKernel(s: Scenario): Outcome {
  const id = `${process.pid}-${++nsCounter}`;
  const A = `nflabt-cta${id}`;
  const P = `nflabt-ctp${id}`;
  const dir = mkdtempSync(join(tmpdir(), 'nflab-ct-'));
  try {
    must(['ip', 'netns', 'add', A]);
    must(['ip', 'netns', 'add', P]);
    must(['ip', 'link', 'add', 'a1', 'netns', A, 'address', MAC.a1, 'type', 'veth', 'peer', 'name', 'p1', 'netns', P, 'address', MAC.p1]);
    must(['ip', 'link', 'add', 'a2', 'netns', A, 'address', MAC.a2, 'type', 'veth', 'peer', 'name', 'p2', 'netns', P, 'address', MAC.p2]);
    const inA = (...a: string[]): void => must(['ip', 'netns', 'exec', A, ...a]);
    const inP = (...a: string[]): void => must(['ip', 'netns', 'exec', P, ...a]);
    inA('ip', 'addr', 'add', '10.9.1.1/24', 'dev', 'a1');
    inA('ip', 'addr', 'add', '10.9.2.1/24', 'dev', 'a2');
    inP('ip', 'addr', 'add', '10.9.1.2/24', 'dev', 'p1');
    inP('ip', 'addr', 'add', '10.9.2.2/24', 'dev', 'p2');
    for (const l of ['lo', 'a1', 'a2']) inA('ip', 'link', 'set', l, 'up');
    for (const l of ['lo', 'p1', 'p2']) inP('ip', 'link', 'set', l, 'up');
    inA('ip', 'neigh', 'add', '10.9.1.2', 'lladdr', MAC.p1, 'dev', 'a1');
    inA('ip', 'neigh', 'add', '10.9.2.2', 'lladdr', MAC.p2, 'dev', 'a2');
    inA('sysctl', '-qw', 'net.ipv4.ip_forward=1');
    inP('iptables', '-t', 'raw', '-A', 'PREROUTING', '-j', 'DROP');
    for (const st of STATES) inA('iptables', '-A', 'FORWARD', '-m', 'state', '--state', st);
    for (const [k, v] of Object.entries(s.sysctls ?? {})) inA('sysctl', '-qw', `${k}=${v}`);
    for (const rule of s.rules ?? []) inA('iptables', ...rule);
    const steps = s.steps.map((st) => ('sleep' in st ? { sleep: st.sleep } : { ifc: st.dir === 'o' ? 'p1' : 'p2', hex: frameHex(st.dir, st.data) }));
    const script = join(dir, 'driver.py');
    writeFileSync(script, DRIVER);
    const t0 = performance.now();
    const d = run(['ip', 'netns', 'exec', P, '/usr/bin/python3', script], JSON.stringify({ ns: A, steps }));
    if (d.status !== 0) throw new Error(`driver failed: ${d.stderr}`);
    const got = JSON.parse(d.stdout) as { states: string[]; elapsed: number };
    const results = (s.commands ?? [['-L']]).map((c) => run(['ip', 'netns', 'exec', A, 'conntrack', ...c]));
    return { states: got.states, results, elapsed: (performance.now() - t0) / 1000 };
  } finally {
    run(['ip', 'netns', 'del', A]);
    run(['ip', 'netns', 'del', P]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The -m state value of a packet after conntrack (what the counting rules see). */
export function stateOf(r: PathResult): string {
  if (r.skb === null || r.verdict !== NF_ACCEPT) return 'NONE';
  const skb = r.skb;
  if (skb.untracked) return 'UNTRACKED';
  if (skb.ct === null) return 'INVALID';
  switch (skb.ctinfo) {
    case CtInfo.NEW:
      return 'NEW';
    case CtInfo.RELATED:
    case CtInfo.RELATED_REPLY:
      return 'RELATED';
    default:
      return 'ESTABLISHED';
  }
}

/** Runs a scenario on nflab: the same datagrams through the hooks, sleeps on the virtual clock. */
export function runNflab(s: Scenario): Outcome {
  const m = fakeMachine();
  for (const [k, v] of Object.entries(s.sysctls ?? {})) m.sysctls.set(k, v);
  const states: string[] = [];
  for (const st of s.steps) {
    if ('sleep' in st) m.sleep(st.sleep);
    else states.push(stateOf(forward(m, st.data, st.dir === 'o' ? 'a1' : 'a2', s.emulate)));
  }
  const results = (s.commands ?? [['-L']]).map((c) => {
    const r = runConntrack(c, m.table, m.now);
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  });
  return { states, results, elapsed: 0 };
}

/**
 * Compares a command's output from the kernel and from nflab: lines are
 * sorted (the kernel lists in hash order), connection ids masked (random
 * in the kernel), and each timeout of the kernel must be at most nflab's
 * and at least nflab's minus `slack` seconds (real time passed there).
 * Returns a description of the first difference, or '' when equal.
 */
export function compareListing(kernel: string, nflab: string, slack: number): string {
  const split = (text: string): { key: string; timeout: number; delta: number }[] =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        let timeout = -1;
        let delta = -1;
        let key = l.replace(/ id=\d+$/, ' id=ID').replace(/<id>\d+<\/id>/, '<id>ID</id>');
        key = key.replace(/\[start=[^\]]*\]/, '[start=S]').replace(/<start>\d+<\/start>/, '<start>S</start>');
        key = key.replace(/delta-time=(\d+)|<deltatime>(\d+)<\/deltatime>/, (m, a: string | undefined, b: string | undefined) => {
          delta = Number(a ?? b);
          return m.startsWith('<') ? '<deltatime>D</deltatime>' : 'delta-time=D';
        });
        key = key.replace(/^((?:ipv4 {5}2 )?\S+ +\d+ )(\d+) /, (_, head: string, t: string) => {
          timeout = Number(t);
          return `${head}T `;
        });
        key = key.replace(/<timeout>(\d+)<\/timeout>/, (_, t: string) => {
          timeout = Number(t);
          return '<timeout>T</timeout>';
        });
        return { key, timeout, delta };
      })
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const k = split(kernel);
  const n = split(nflab);
  const show = (): string => `kernel:\n${kernel}\nnflab:\n${nflab}`;
  if (k.length !== n.length) return `different line counts\n${show()}`;
  for (let i = 0; i < k.length; i++) {
    if (k[i]!.key !== n[i]!.key) return `line differs:\n  kernel: ${k[i]!.key}\n  nflab:  ${n[i]!.key}\n${show()}`;
    const kt = k[i]!.timeout;
    const nt = n[i]!.timeout;
    if (kt > nt || kt < nt - slack) return `timeout ${kt} (kernel) vs ${nt} (nflab) outside ${slack} s:\n${show()}`;
    const kd = k[i]!.delta;
    const nd = n[i]!.delta;
    if (kd < nd || kd > nd + slack) return `delta-time ${kd} (kernel) vs ${nd} (nflab) outside ${slack} s:\n${show()}`;
  }
  return '';
}
