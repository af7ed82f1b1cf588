/**
 * NAT against the real kernel. A router namespace forwards between two
 * veth links (eth0: 10.0.0.1/24, eth1: 192.168.1.1/24) with a nat table
 * loaded by iptables-restore; raw Ethernet frames are injected from the
 * peer namespaces and the frames the router forwards are captured there
 * (AF_PACKET). The same frames go through nflab's conntrack and NAT hooks
 * with the same rules, and the forwarded frames (byte for byte), the
 * connection tuples (`conntrack -L`) and the nat table's counters
 * (`iptables-save -c -t nat`) must be the same. The scenarios avoid the
 * kernel's random choices (source port clashes), so every byte is
 * determined.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runNflab } from '../src/cli/main.js';
import { loadState, saveState } from '../src/cli/lab/store.js';
import type { ConntrackEnv } from '../src/core/conntrack/env.js';
import { conntrackConfirm, conntrackIn } from '../src/core/conntrack/hooks.js';
import { natHook } from '../src/core/conntrack/nat.js';
import { ConntrackTable } from '../src/core/conntrack/table.js';
import type { Conn, Tuple } from '../src/core/conntrack/types.js';
import type { NetState } from '../src/core/net/types.js';
import type { Hook } from '../src/core/netfilter/tables.js';
import { compileRuleset, flushCounters, runChain, type CompiledTable } from '../src/core/netfilter/traverse.js';
import { newSkb, type Skb } from '../src/core/path/skb.js';
import { fillIpv4Checksums } from '../src/core/wire/checksum.js';
import type { KernelServices, PacketContext } from '../src/core/xt/packet.js';
import { NF_ACCEPT } from '../src/core/xt/verdict.js';

const TOOL_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', HOME: '/root' };
const NS = `nflabt-nat${process.pid}`;
const R = `${NS}-r`;
const A = `${NS}-a`;
const B = `${NS}-b`;

const MAC = {
  r0: '02:00:00:00:01:00',
  r1: '02:00:00:00:01:01',
  a: '02:00:00:00:0a:02',
  b: '02:00:00:00:0b:02',
};

function run(argv: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { env: TOOL_ENV, encoding: 'utf8', input, timeout: 20_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function must(argv: string[], input?: string): string {
  const r = run(argv, input);
  assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function inNs(ns: string, ...argv: string[]): string[] {
  return ['ip', 'netns', 'exec', ns, ...argv];
}

/** Raw frame injection and capture on p0 of a peer namespace, driven by lines on stdin. */
const PEER = `
import socket, sys, threading
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
got = []
lock = threading.Lock()
def rx():
    while True:
        data, addr = s.recvfrom(65535)
        if addr[2] == socket.PACKET_OUTGOING or data[12:14] != b'\\x08\\x00':
            continue
        with lock:
            got.append(data.hex())
threading.Thread(target=rx, daemon=True).start()
print('READY', flush=True)
for line in sys.stdin:
    cmd = line.split()
    if cmd[0] == 'S':
        s.send(bytes.fromhex(cmd[1]))
        print('OK', flush=True)
    elif cmd[0] == 'D':
        with lock:
            out = got[:]
            got.clear()
        for h in out:
            print(h)
        print('END', flush=True)
`;

/** A peer namespace's injector and capture. */
class Peer {
  private readonly child: ChildProcessWithoutNullStreams;
  private buf = '';
  private waiting: ((line: string) => void)[] = [];
  private lines: string[] = [];

  constructor(ns: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, '/usr/bin/python3', '-c', PEER, 'p0'], { env: TOOL_ENV });
    this.child.stdout.on('data', (b: Buffer) => {
      this.buf += b.toString('utf8');
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        const w = this.waiting.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
  }

  private next(): Promise<string> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async ready(): Promise<void> {
    assert.equal(await this.next(), 'READY');
  }

  async send(frame: Uint8Array): Promise<void> {
    this.child.stdin.write(`S ${Buffer.from(frame).toString('hex')}\n`);
    assert.equal(await this.next(), 'OK');
  }

  async dump(): Promise<string[]> {
    this.child.stdin.write('D\n');
    const out: string[] = [];
    for (;;) {
      const l = await this.next();
      if (l === 'END') return out;
      out.push(l);
    }
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

function ip(s: string): number {
  return s.split('.').reduce((a, b) => a * 256 + Number(b), 0) >>> 0;
}

function fmt(a: number): string {
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
}

function macBytes(m: string): number[] {
  return m.split(':').map((x) => parseInt(x, 16));
}

/** An IPv4 datagram with correct checksums. */
function datagram(src: string, dst: string, proto: number, l4: number[], id = 1): Uint8Array {
  const d = new Uint8Array(20 + l4.length);
  d.set([0x45, 0, d.length >> 8, d.length & 0xff, id >> 8, id & 0xff, 0, 0, 64, proto]);
  for (let i = 0; i < 4; i++) {
    d[12 + i] = (ip(src) >>> (24 - 8 * i)) & 0xff;
    d[16 + i] = (ip(dst) >>> (24 - 8 * i)) & 0xff;
  }
  d.set(l4, 20);
  fillIpv4Checksums(d, 0);
  return d;
}

function udp(sport: number, dport: number, payload: number[] = [104, 105]): number[] {
  const len = 8 + payload.length;
  return [sport >> 8, sport & 255, dport >> 8, dport & 255, len >> 8, len & 255, 0, 0, ...payload];
}

function tcp(sport: number, dport: number, seq: number, ack: number, flags: number): number[] {
  const n = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  return [sport >> 8, sport & 255, dport >> 8, dport & 255, ...n(seq), ...n(ack), 0x50, flags, 0xfa, 0xf0, 0, 0, 0, 0];
}

function icmp(type: number, code: number, rest: number, payload: Uint8Array | number[]): number[] {
  return [type, code, 0, 0, rest >>> 24, (rest >>> 16) & 255, (rest >>> 8) & 255, rest & 255, ...payload];
}

/** A frame a peer sends: from A to the router's eth0, or from B to its eth1. */
interface Frame {
  from: 'a' | 'b';
  bytes: Uint8Array;
}

function frame(from: 'a' | 'b', d: Uint8Array): Frame {
  const dst = from === 'a' ? MAC.r0 : MAC.r1;
  const src = from === 'a' ? MAC.a : MAC.b;
  return { from, bytes: Uint8Array.from([...macBytes(dst), ...macBytes(src), 8, 0, ...d]) };
}

/** What can be seen of the router from outside after a scenario. */
interface Observation {
  /** Frames captured at A (sent by the router's eth0) and at B (eth1), in order, hex. */
  a: string[];
  b: string[];
  /** Connection tuples, one line each, sorted. */
  conntrack: string[];
  /** iptables-save -c -t nat without its comment lines. */
  save: string;
}

interface Scenario {
  name: string;
  rules: string;
  frames: Frame[];
  /**
   * False when the router itself answers (local delivery: port
   * unreachable), which this harness does not model: only the tuples and
   * counters are compared then.
   */
  compareFrames?: boolean;
}

const TUPLE_RE = /src=\S+ dst=\S+ (?:sport=\d+ dport=\d+|type=\d+ code=\d+ id=\d+)/g;

function kernelConntrack(): string[] {
  const out = must(inNs(R, 'conntrack', '-L'));
  return out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => `${l.split(/\s+/)[0]} ${[...l.matchAll(TUPLE_RE)].map((m) => m[0]).join(' ')}`)
    .sort();
}

function withoutComments(save: string): string {
  return save
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('\n');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let peers: { a: Peer; b: Peer } | null = null;

async function kernelSide(sc: Scenario): Promise<Observation> {
  must(inNs(R, 'iptables-restore'), sc.rules);
  run(inNs(R, 'conntrack', '-F'));
  const p = peers!;
  await p.a.dump();
  await p.b.dump();
  for (const f of sc.frames) {
    await (f.from === 'a' ? p.a : p.b).send(f.bytes);
    await sleep(40);
  }
  await sleep(200);
  return {
    a: await p.a.dump(),
    b: await p.b.dump(),
    conntrack: kernelConntrack(),
    save: withoutComments(must(inNs(R, 'iptables-save', '-c', '-t', 'nat'))),
  };
}

/** The router as nflab sees it: links and addresses. */
const ROUTER_NET = {
  links: [
    ['lo', '127.0.0.1', 8, 254],
    ['eth0', '10.0.0.1', 24, 0],
    ['eth1', '192.168.1.1', 24, 0],
  ].map(([name, a, prefixlen, scope]) => ({
    name,
    inet: [{ local: ip(a as string), address: ip(a as string), prefixlen, broadcast: 0, scope, label: name, secondary: false }],
  })),
  sysctl: {},
} as unknown as NetState;

function tupleText(t: Tuple): string {
  if (t.proto === 1) return `src=${fmt(t.src)} dst=${fmt(t.dst)} type=${t.dport >>> 8} code=${t.dport & 0xff} id=${t.sport}`;
  return `src=${fmt(t.src)} dst=${fmt(t.dst)} sport=${t.sport} dport=${t.dport}`;
}

function connText(c: Conn): string {
  const name = c.orig.proto === 6 ? 'tcp' : c.orig.proto === 17 ? 'udp' : c.orig.proto === 1 ? 'icmp' : 'unknown';
  return `${name} ${tupleText(c.orig)} ${tupleText(c.reply)}`;
}

/** ip_decrease_ttl, as forwarding does. */
function decTtl(d: Uint8Array): void {
  let check = (d[10]! << 8) | d[11]!;
  check += 0x0100;
  check = (check + (check >= 0xffff ? 1 : 0)) & 0xffff;
  d[10] = check >>> 8;
  d[11] = check & 0xff;
  d[8]!--;
}

/** The router's forwarding path with nflab's conntrack and NAT, for the scenario's frames. */
async function nflabSide(sc: Scenario): Promise<Observation> {
  const lab = mkdtempSync(join(tmpdir(), 'nflab-nat-diff-'));
  try {
    const r = await runNflab(['iptables-restore'], { lab, stdin: sc.rules });
    assert.equal(r.status, 0, r.stderr);
    const state = loadState(lab);
    const nat = compileRuleset(state.ruleset).nat as CompiledTable;
    let now = 1_000_000_000;
    const table = new ConntrackTable(() => now);
    const ctEnv: ConntrackEnv = { table, nowNs: () => now, sysctl: () => undefined, printk: () => {}, random32: () => 0x5eed };
    const kernel: KernelServices = {
      nowNs: () => now,
      jiffies: () => 0,
      wallSec: () => 0,
      random32: () => assert.fail('a scenario made NAT draw a random number'),
      net: ROUTER_NET,
      shared: {},
      conntrack: table,
      printk: () => {},
      sendLocal: () => {},
    };
    const hookNat = (skb: Skb, hook: Hook): number =>
      natHook(kernel, skb, hook, () => {
        const chain = nat.hooks[hook];
        if (!chain) return NF_ACCEPT;
        const ctx: PacketContext = {
          skb,
          thoff: (skb.data[0]! & 15) * 4,
          fragoff: 0,
          family: 'ipv4',
          hook,
          table: 'nat',
          in: skb.indev,
          out: skb.outdev,
          hotdrop: false,
          kernel,
        };
        return runChain(chain, ctx, null);
      });
    const out: Observation = { a: [], b: [], conntrack: [], save: '' };
    for (const f of sc.frames) {
      now += 40_000_000;
      const skb = newSkb(f.bytes.slice(14), f.bytes.slice(0, 14), f.from === 'a' ? 'eth0' : 'eth1');
      if (conntrackIn(ctEnv, skb, 'PREROUTING') !== NF_ACCEPT) continue;
      if (hookNat(skb, 'PREROUTING') !== NF_ACCEPT) continue;
      const d = skb.data;
      const dst = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
      if (dst === ip('10.0.0.1') || dst === ip('192.168.1.1')) {
        if (hookNat(skb, 'INPUT') !== NF_ACCEPT) continue;
        conntrackConfirm(ctEnv, skb);
        continue;
      }
      const toA = dst >>> 8 === ip('10.0.0.0') >>> 8;
      skb.outdev = toA ? 'eth0' : 'eth1';
      decTtl(d);
      if (hookNat(skb, 'POSTROUTING') !== NF_ACCEPT) continue;
      if (conntrackConfirm(ctEnv, skb) !== NF_ACCEPT) continue;
      const eth = toA ? [...macBytes(MAC.a), ...macBytes(MAC.r0)] : [...macBytes(MAC.b), ...macBytes(MAC.r1)];
      (toA ? out.a : out.b).push(Buffer.from(Uint8Array.from([...eth, 8, 0, ...skb.data])).toString('hex'));
    }
    out.conntrack = table.list().map(connText).sort();
    flushCounters(nat);
    saveState(lab, state);
    const save = await runNflab(['iptables-save', '-c', '-t', 'nat'], { lab });
    out.save = withoutComments(save.stdout);
    return out;
  } finally {
    rmSync(lab, { recursive: true, force: true });
  }
}

function setUp(): void {
  for (const n of [R, A, B]) {
    run(['ip', 'netns', 'del', n]);
    must(['ip', 'netns', 'add', n]);
    for (const k of ['all', 'default']) must(inNs(n, 'sysctl', '-qw', `net.ipv6.conf.${k}.disable_ipv6=1`));
  }
  must(['ip', '-n', R, 'link', 'add', 'eth0', 'address', MAC.r0, 'type', 'veth', 'peer', 'name', 'p0', 'address', MAC.a, 'netns', A]);
  must(['ip', '-n', R, 'link', 'add', 'eth1', 'address', MAC.r1, 'type', 'veth', 'peer', 'name', 'p0', 'address', MAC.b, 'netns', B]);
  must(['ip', '-n', R, 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0']);
  must(['ip', '-n', R, 'addr', 'add', '192.168.1.1/24', 'dev', 'eth1']);
  for (const n of [R, A, B]) must(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
  for (const dev of ['eth0', 'eth1']) must(['ip', '-n', R, 'link', 'set', dev, 'up']);
  for (const n of [A, B]) must(['ip', '-n', n, 'link', 'set', 'p0', 'up', 'promisc', 'on']);
  must(inNs(R, 'sysctl', '-qw', 'net.ipv4.ip_forward=1'));
  must(inNs(R, 'sysctl', '-qw', 'net.ipv4.conf.all.send_redirects=0'));
  for (let i = 2; i <= 20; i++) {
    must(['ip', '-n', R, 'neigh', 'replace', `10.0.0.${i}`, 'lladdr', MAC.a, 'dev', 'eth0', 'nud', 'permanent']);
    must(['ip', '-n', R, 'neigh', 'replace', `192.168.1.${i}`, 'lladdr', MAC.b, 'dev', 'eth1', 'nud', 'permanent']);
  }
}

function tearDown(): void {
  peers?.a.close();
  peers?.b.close();
  peers = null;
  for (const n of [R, A, B]) run(['ip', 'netns', 'del', n]);
}

const NAT_HEAD = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n';

const SCENARIOS: Scenario[] = [
  {
    name: 'MASQUERADE: UDP both ways, an ICMP error about it, a TCP handshake, a ping and its reply',
    rules: `${NAT_HEAD}-A POSTROUTING -o eth1 -j MASQUERADE\nCOMMIT\n`,
    frames: [
      frame('a', datagram('10.0.0.2', '192.168.1.2', 17, udp(5000, 53, [104, 101, 108, 108, 111]))),
      frame('b', datagram('192.168.1.2', '192.168.1.1', 17, udp(53, 5000, [111, 107]), 9)),
      frame(
        'b',
        datagram('192.168.1.2', '192.168.1.1', 1, icmp(3, 3, 0, (() => {
          const q = datagram('192.168.1.1', '192.168.1.2', 17, udp(5000, 53, [104, 101, 108, 108, 111]));
          q[8] = 63;
          fillIpv4Checksums(q, 0);
          return q;
        })()), 7),
      ),
      frame('a', datagram('10.0.0.2', '192.168.1.2', 6, tcp(40000, 80, 1000, 0, 0x02))),
      frame('b', datagram('192.168.1.2', '192.168.1.1', 6, tcp(80, 40000, 5000, 1001, 0x12), 3)),
      frame('a', datagram('10.0.0.2', '192.168.1.2', 6, tcp(40000, 80, 1001, 5001, 0x10), 2)),
      frame('a', datagram('10.0.0.2', '192.168.1.2', 1, icmp(8, 0, (77 << 16) | 1, [112, 105, 110, 103]), 4)),
      frame('b', datagram('192.168.1.2', '192.168.1.1', 1, icmp(0, 0, (77 << 16) | 1, [112, 105, 110, 103]), 5)),
    ],
  },
  {
    name: 'SNAT to an address range: hashed addresses, --persistent, a source keeping its mapping, replies',
    rules:
      `${NAT_HEAD}-A POSTROUTING -o eth1 -p udp -j SNAT --to-source 192.168.1.10-192.168.1.20\n` +
      `-A POSTROUTING -o eth1 -p tcp -j SNAT --to-source 192.168.1.10-192.168.1.20 --persistent\nCOMMIT\n`,
    frames: [
      ...[2, 3, 4, 5, 7].flatMap((s) => [2, 3, 4].map((d) => frame('a', datagram(`10.0.0.${s}`, `192.168.1.${d}`, 17, udp(5000, 53))))),
      frame('b', datagram('192.168.1.3', '192.168.1.20', 17, udp(53, 5000, [1]), 11)),
      ...[2, 3, 4, 5, 6, 7].flatMap((s) => [2, 3].map((d) => frame('a', datagram(`10.0.0.${s}`, `192.168.1.${d}`, 6, tcp(6000 + s, 443, 77, 0, 0x02))))),
    ],
  },
  {
    name: 'DNAT to a port range and of pings, a shifted port map, replies and an ICMP error back through it',
    rules:
      `${NAT_HEAD}-A PREROUTING -i eth0 -p tcp -j DNAT --to-destination 192.168.1.2:8000-8010\n` +
      `-A PREROUTING -i eth0 -p icmp -j DNAT --to-destination 192.168.1.2\n` +
      `-A PREROUTING -i eth0 -p udp -j DNAT --to-destination 192.168.1.3:1000-2000/500\nCOMMIT\n`,
    frames: [
      ...[80, 81, 82, 8000, 8001, 8005].map((dp) => frame('a', datagram('10.0.0.2', '192.168.1.3', 6, tcp(40000, dp, 1000, 0, 0x02)))),
      frame('b', datagram('192.168.1.2', '10.0.0.2', 6, tcp(8001, 40000, 9000, 1001, 0x12), 21)),
      frame(
        'b',
        datagram('192.168.1.2', '10.0.0.2', 1, icmp(3, 1, 0, (() => {
          const q = datagram('10.0.0.2', '192.168.1.2', 6, tcp(40000, 8000, 1000, 0, 0x02));
          q[8] = 63;
          fillIpv4Checksums(q, 0);
          return q.slice(0, 28);
        })()), 22),
      ),
      ...(
        [
          ['192.168.1.5', 77],
          ['192.168.1.6', 77],
          ['192.168.1.7', 77],
          ['192.168.1.8', 1],
        ] as const
      ).map(([d, id]) => frame('a', datagram('10.0.0.2', d, 1, icmp(8, 0, (id << 16) | 1, [1, 2, 3, 4])))),
      frame('b', datagram('192.168.1.2', '10.0.0.2', 1, icmp(0, 0, (0 << 16) | 1, [1, 2, 3, 4]), 23)),
      ...[700, 499, 1600].map((dp) => frame('a', datagram('10.0.0.4', '192.168.1.9', 17, udp(3333, dp)))),
    ],
  },
  {
    name: 'NETMAP of destinations in PREROUTING and of sources in POSTROUTING, and the reply',
    rules:
      `${NAT_HEAD}-A PREROUTING -i eth0 -d 192.168.2.0/24 -j NETMAP --to 192.168.1.0/24\n` +
      `-A POSTROUTING -o eth1 -s 10.0.0.0/28 -j NETMAP --to 172.20.0.16/28\nCOMMIT\n`,
    frames: [
      frame('a', datagram('10.0.0.3', '192.168.2.7', 17, udp(5000, 53))),
      frame('a', datagram('10.0.0.12', '192.168.1.8', 17, udp(5000, 53))),
      frame('b', datagram('192.168.1.7', '172.20.0.19', 17, udp(53, 5000), 31)),
    ],
  },
  {
    name: 'REDIRECT to the input interface address, SNAT in INPUT (local delivery: tuples and counters)',
    rules:
      `${NAT_HEAD}-A PREROUTING -i eth0 -p udp -d 192.168.1.5 -j REDIRECT --to-ports 5353-5360\n` +
      `-A INPUT -p udp -s 10.0.0.3 -j SNAT --to-source 10.0.0.99\nCOMMIT\n`,
    frames: [
      frame('a', datagram('10.0.0.2', '192.168.1.5', 17, udp(4000, 53))),
      frame('a', datagram('10.0.0.2', '192.168.1.5', 17, udp(4001, 5355))),
      frame('a', datagram('10.0.0.3', '10.0.0.1', 17, udp(4000, 7))),
    ],
    compareFrames: false,
  },
];

describe('NAT against the real kernel', () => {
  before(async () => {
    setUp();
    peers = { a: new Peer(A), b: new Peer(B) };
    await peers.a.ready();
    await peers.b.ready();
  });
  after(() => tearDown());

  for (const sc of SCENARIOS) {
    it(sc.name, async () => {
      const kernel = await kernelSide(sc);
      const mine = await nflabSide(sc);
      // NAT_DIFF_SHOW=1 prints both observations.
      if (process.env['NAT_DIFF_SHOW']) console.log(JSON.stringify({ kernel, mine }, null, 1));
      if (sc.compareFrames !== false) {
        assert.ok(kernel.a.length + kernel.b.length > 0, 'the kernel forwarded nothing');
        assert.deepEqual(mine.b, kernel.b, 'frames forwarded out of eth1');
        assert.deepEqual(mine.a, kernel.a, 'frames forwarded out of eth0');
      }
      assert.deepEqual(mine.conntrack, kernel.conntrack, 'conntrack -L tuples');
      assert.equal(mine.save, kernel.save, 'iptables-save -c -t nat');
    });
  }
});
