/**
 * `nflab trace` against the kernel's own trace: the same rules in a fresh
 * namespace whose raw PREROUTING starts with `-j TRACE`, a frame injected
 * from a peer namespace, `xtables-monitor --trace` recording; then the same
 * frame given to `nflab trace --hex` on a lab with the same links and
 * rules. The PACKET and TRACE lines must be the same, the trace id (a hash
 * keyed at boot) aside.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runNflab } from '../src/cli/main.js';
import { encodeFrame, type FrameDesc } from '../src/core/wire/frame.js';
import { guardKernel } from './diff/suite.js';

const DUT_MAC = '02:00:00:00:00:01';
const PEER_MAC = '02:00:00:00:00:02';

const SETUP = [
  'ip link set lo up',
  'ip link set eth0 up',
  'ip addr add 10.0.0.1/24 dev eth0',
  `ip neigh add 10.0.0.2 lladdr ${PEER_MAC} dev eth0 nud permanent`,
];

/** One case: rules (the raw PREROUTING TRACE rule is added first) and a frame. */
interface TraceCase {
  name: string;
  rules: string;
  frame: FrameDesc;
}

const eth = { src: PEER_MAC, dst: DUT_MAC };

const CASES: TraceCase[] = [
  {
    name: 'SSH SYN through a user chain to the policy',
    rules: `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:X - [0:0]
-A INPUT -m state --state ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 22 -j X
-A INPUT -j LOG --log-prefix "[INPUT]"
-A X -s 10.0.0.9 -j DROP
COMMIT
`,
    frame: { eth, ipv4: { src: '10.0.0.2', dst: '10.0.0.1', id: 7 }, tcp: { sport: 40000, dport: 22, flags: 'S', seq: 1000 } },
  },
  {
    name: 'REJECT with the reply traced through OUTPUT, marks and goto',
    rules: `*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -p udp -j MARK --set-mark 0x2a
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:Y - [0:0]
:Z - [0:0]
-A INPUT -p udp -g Y
-A Y -m mark --mark 0x2a -j Z
-A Y -j ACCEPT
-A Z -p udp --dport 53 -j RETURN
-A Z -j REJECT --reject-with icmp-admin-prohibited
COMMIT
`,
    frame: { eth, ipv4: { src: '10.0.0.2', dst: '10.0.0.1', id: 9, ttl: 5 }, udp: { sport: 5353, dport: 54 }, payload: new Uint8Array([1, 2, 3]) },
  },
  {
    name: 'a dropped ping with IP options',
    rules: `*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p tcp -j ACCEPT
COMMIT
`,
    frame: { eth, ipv4: { src: '10.0.0.2', dst: '10.0.0.1', id: 3, tos: 0x10, df: true, options: [{ kind: 1 }, { kind: 1 }, { kind: 1 }, { kind: 0 }] }, icmp: { type: 8, id: 1, seq: 2 } },
  },
];

function sh(argv: string[], input?: string): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function withTrace(rules: string): string {
  const raw = `*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -j TRACE\n-A OUTPUT -j TRACE\nCOMMIT\n`;
  return raw + rules;
}

/**
 * The PACKET and TRACE lines, trace ids replaced by a mark; so is the IP id
 * of packets the machine itself sends without ports (its ICMP messages,
 * whose ids are drawn from keyed hashes).
 */
function traceLines(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('PACKET: ') || l.startsWith(' TRACE: '))
    .map((l) => l.replace(/^(PACKET|\s*TRACE): (\d+) [0-9a-f]{8} /, (_m, w: string, f: string) => `${w}: ${f} ID `))
    .map((l) => (l.startsWith('PACKET: ') && !l.includes(' IN=') && !l.includes(' SPORT=') ? l.replace(/ ID=\d+ /, ' ID=* ') : l));
}

let seq = 0;

async function kernelTrace(c: TraceCase): Promise<string[]> {
  const id = `${process.pid}-${seq++}`;
  const dut = `nflabt-trd-${id}`;
  const inj = `nflabt-tri-${id}`;
  try {
    sh(['ip', 'netns', 'add', dut]);
    sh(['ip', 'netns', 'add', inj]);
    for (const ns of [dut, inj]) sh(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    sh(['ip', '-n', dut, 'link', 'add', 'eth0', 'address', DUT_MAC, 'type', 'veth', 'peer', 'name', 'p0', 'netns', inj, 'address', PEER_MAC]);
    sh(['ip', '-n', inj, 'link', 'set', 'p0', 'up']);
    for (const line of SETUP) sh(['ip', 'netns', 'exec', dut, ...line.split(' ')]);
    sh(['ip', 'netns', 'exec', dut, 'iptables-restore'], withTrace(c.rules));
    const mon = spawn('ip', ['netns', 'exec', dut, 'xtables-monitor', '--trace'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    mon.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 400));
    const hex = Buffer.from(encodeFrame(c.frame)).toString('hex');
    sh([
      'ip', 'netns', 'exec', inj, '/usr/bin/python3', '-c',
      `import socket; s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW); s.bind(("p0", 0)); s.send(bytes.fromhex("${hex}"))`,
    ]);
    await new Promise((r) => setTimeout(r, 400));
    mon.kill();
    await new Promise((r) => mon.on('close', r));
    return traceLines(out);
  } finally {
    spawnSync('ip', ['netns', 'del', dut]);
    spawnSync('ip', ['netns', 'del', inj]);
  }
}

async function nflabTrace(c: TraceCase): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-trace-'));
  const lab = join(dir, 'lab');
  const must = async (argv: string[], stdin?: string) => {
    const r = await runNflab(['--lab', lab, ...argv], { stdin });
    if (r.status !== 0) throw new Error(`nflab ${argv.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  try {
    await must(['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'p0']);
    await must(['ip', 'link', 'set', 'p0', 'up']);
    await must(['ip', 'link', 'set', 'eth0', 'address', DUT_MAC]);
    for (const line of SETUP) await must(line.split(' '));
    await must(['iptables-restore'], withTrace(c.rules));
    const hex = Buffer.from(encodeFrame(c.frame)).toString('hex');
    return traceLines(await must(['trace', '-i', 'eth0', '--hex', hex]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('nflab trace against xtables-monitor --trace', () => {
  const skip = guardKernel('trace-diff');
  for (const c of CASES) {
    it(c.name, { skip }, async () => {
      const [k, n] = await Promise.all([kernelTrace(c), nflabTrace(c)]);
      assert.ok(k.length > 0, 'the kernel printed a trace');
      assert.deepEqual(n, k);
    });
  }
});
