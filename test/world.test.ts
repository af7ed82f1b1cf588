/**
 * The lab's world: frames cross veths between namespaces, lab wires between
 * hosts and Linux bridges inside a namespace, on one virtual clock, with
 * programs waiting on it. The namespaces are built with nflab's own `ip`
 * commands; a small program sends ICMP echo requests through the machine
 * and watches the wire with a capture.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNflab } from '../src/cli/main.js';
import { loadWorld } from '../src/cli/lab/store.js';
import { World, HOP_NS, type WorldEnv } from '../src/core/world/world.js';
import type { Program, TappedFrame } from '../src/core/programs/api.js';
import type { SocketDemux, SocketLayer } from '../src/core/stack/api.js';
import { fillIpv4Checksums } from '../src/core/wire/checksum.js';

async function sh(lab: string, lines: string[]): Promise<void> {
  for (const line of lines) {
    const r = await runNflab(line.split(' '), { lab });
    assert.equal(r.status, 0, `${line}: ${r.stderr}`);
  }
}

/** A socket layer with no sockets: every packet goes to the host's own handling. */
function noSockets(): SocketLayer & SocketDemux {
  const none = (): never => {
    throw new Error('no sockets in this test');
  };
  return { tcp: none, udp: none, raw: none, list: () => [], deliver: () => false };
}

function env(programs: Record<string, Program>, out: string[]): WorldEnv {
  return {
    fs: () => ({ read: () => undefined, write: () => {}, append: () => {}, writeBytes: () => {} }),
    hostname: (h) => h,
    write: (_fd, text) => out.push(text),
    bootWall: () => 1_700_000_000,
    createSockets: noSockets,
    program: (name) => programs[name],
  };
}

function ip(s: string): number {
  return s.split('.').reduce((a, b) => a * 256 + Number(b), 0) >>> 0;
}

/** An ICMP echo request from `src` to `dst` (DF, TTL 64). */
function echo(src: number, dst: number, id: number, seq: number): Uint8Array {
  const d = new Uint8Array(20 + 8 + 8);
  d[0] = 0x45;
  d[6] = 0x40;
  d[8] = 64;
  d[9] = 1;
  new DataView(d.buffer).setUint32(12, src);
  new DataView(d.buffer).setUint32(16, dst);
  d[20] = 8;
  d[24] = id >> 8;
  d[25] = id & 255;
  d[27] = seq;
  d[2] = 0;
  d[3] = d.length;
  fillIpv4Checksums(d, 0);
  return d;
}

/** Sends one echo request from its namespace and prints when the reply came back (or a timeout). */
function pinger(src: string, dst: string): Program {
  return function* (ctx) {
    const seen: TappedFrame[] = [];
    ctx.tap(null, (f) => seen.push(f));
    const t0 = ctx.now();
    ctx.machine.output(echo(ip(src), ip(dst), 7, 1));
    const deadline = ctx.now() + 1e9;
    while (ctx.now() < deadline) {
      const reply = seen.find((f) => f.dir === 'in' && f.frame[12] === 8 && f.frame[13] === 0 && f.frame[14 + 20] === 0);
      if (reply) {
        ctx.out(`reply after ${(reply.ns - t0) / 1000} us on ${reply.iface}\n`);
        return 0;
      }
      yield ctx.until(deadline);
    }
    ctx.out('no reply\n');
    return 1;
  };
}

test('frames cross a veth between two namespaces, ARP first, one hop each way', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-world-'));
  try {
    await sh(dir, [
      'ip netns add lemon',
      'ip netns add apple',
      'ip link add veth-l type veth peer name veth-a',
      'ip link set veth-l netns lemon',
      'ip link set veth-a netns apple',
      'ip -n lemon addr add 10.0.0.1/24 dev veth-l',
      'ip -n apple addr add 10.0.0.2/24 dev veth-a',
      'ip -n lemon link set veth-l up',
      'ip -n apple link set veth-a up',
    ]);
    const out: string[] = [];
    const world = new World(loadWorld(dir), env({}, out));
    const status = world.runForeground({ host: 'main', netns: 'lemon' }, pinger('10.0.0.1', '10.0.0.2'), ['pinger']);
    // ARP request, ARP reply, echo request, echo reply: four hops
    assert.deepEqual(out, [`reply after ${(4 * HOP_NS) / 1000} us on veth-l\n`]);
    assert.equal(status, 0);
    const w = world.save();
    const apple = w.hosts.main!.netns.apple!.machine!;
    assert.deepEqual(
      apple.net.links.map((l) => [l.name, l.rxPackets, l.txPackets]),
      [
        ['lo', 0, 0],
        ['veth-a', 2, 2],
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a frame sent to a namespace whose end is down is lost', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-world-'));
  try {
    await sh(dir, [
      'ip netns add a',
      'ip netns add b',
      'ip link add x type veth peer name y',
      'ip link set x netns a',
      'ip link set y netns b',
      'ip -n a addr add 10.0.0.1/24 dev x',
      'ip -n a link set x up',
      'ip -n a neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev x',
    ]);
    const out: string[] = [];
    const world = new World(loadWorld(dir), env({}, out));
    world.runForeground({ host: 'main', netns: 'a' }, pinger('10.0.0.1', '10.0.0.2'), ['pinger']);
    assert.deepEqual(out, ['no reply\n']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a wire joins two hosts; a bridge joins three namespaces', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-world-'));
  try {
    await sh(dir, ['host add server1 server2', 'wire add vpc server1:eth0 server2:eth0']);
    for (const [h, a] of [
      ['server1', '10.1.51.165/16'],
      ['server2', '10.1.77.146/16'],
    ] as const) {
      await sh(dir, [`--host ${h} ip addr add ${a} dev eth0`, `--host ${h} ip link set eth0 up`]);
    }
    await sh(dir, [
      'ip link add br0 type bridge',
      'ip link set br0 up',
      'ip netns add n1',
      'ip netns add n2',
      'ip link add p1 type veth peer name e1 netns n1',
      'ip link add p2 type veth peer name e2 netns n2',
      'ip link set p1 master br0',
      'ip link set p2 master br0',
      'ip link set p1 up',
      'ip link set p2 up',
      'ip -n n1 addr add 192.168.5.1/24 dev e1',
      'ip -n n2 addr add 192.168.5.2/24 dev e2',
      'ip -n n1 link set e1 up',
      'ip -n n2 link set e2 up',
    ]);
    const out: string[] = [];
    const world = new World(loadWorld(dir), env({}, out));
    assert.equal(world.runForeground({ host: 'server2', netns: '' }, pinger('10.1.77.146', '10.1.51.165'), ['pinger']), 0);
    // through the bridge: each frame crosses two veths
    assert.equal(world.runForeground({ host: 'main', netns: 'n1' }, pinger('192.168.5.1', '192.168.5.2'), ['pinger']), 0);
    assert.deepEqual(out, [`reply after ${(4 * HOP_NS) / 1000} us on eth0\n`, `reply after ${(8 * HOP_NS) / 1000} us on e1\n`]);
    const fdb = world.save().hosts.main!.netns['']!.machine!.shared['bridgeFdb'];
    assert.equal(Object.keys(Object.values(fdb as Record<string, object>)[0]!).length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
