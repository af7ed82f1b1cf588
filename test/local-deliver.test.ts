/**
 * What the host's own stack answers to packets delivered to it when no
 * program listens (local-deliver.ts). The expected bytes were first seen
 * from the real kernel (Linux 6.18): a namespace with eth0 10.1.51.165/16
 * (0a:11:d1:09:77:ce) and no rules received frames sent with scapy from a
 * peer namespace, 10.1.77.146 (0a:a2:e8:49:27:a3), and the replies were
 * captured there. The IP ID of ICMP replies is random in the kernel and is
 * masked. The last test replays a batch of frames against the kernel in
 * fresh namespaces (test/pktdiff) and compares its replies with ours.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { addAddress4 } from '../src/core/net/addr4.js';
import { fibLookup } from '../src/core/net/fib.js';
import { addLink, setLinkUp } from '../src/core/net/links.js';
import { emptyNetState, linkByName } from '../src/core/net/state.js';
import type { NetState } from '../src/core/net/types.js';
import { localDeliver } from '../src/core/path/local-deliver.js';
import { newSkb, PacketType, type Skb } from '../src/core/path/skb.js';
import type { KernelServices } from '../src/core/xt/packet.js';
import { ascii, fromDut, icmp, internetChecksum, ipv4, ipv4Bytes, macBytes, onesSum, rawL4, tcp, toDut, udp } from './pktdiff/build.js';
import { runKernelScenario } from './pktdiff/kernel.js';
import { maskFrame } from './pktdiff/mask.js';

function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

function fromHex(h: string): Uint8Array {
  const b = new Uint8Array(h.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return b;
}

function ipNum(text: string): number {
  const b = ipv4Bytes(text);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** A machine with lo and eth0 (address/prefix) whose sendLocal output is recorded. */
interface Machine {
  kernel: KernelServices;
  net: NetState;
  sent: { datagram: Uint8Array; attachCt: boolean }[];
  clockMs: number;
  /** Wall clock, seconds since the epoch. */
  wall: number;
}

function machine(cidr: string, sysctl: Record<string, string> = {}): Machine {
  const [addr, len] = cidr.split('/');
  const net = emptyNetState();
  setLinkUp(net, linkByName(net, 'lo')!, true);
  addLink(net, 'eth0', 'dummy');
  const eth0 = linkByName(net, 'eth0')!;
  setLinkUp(net, eth0, true);
  const local = ipNum(addr!);
  addAddress4(net, eth0, { local, address: local, prefixlen: Number(len), broadcast: 0, scope: 0 });
  for (const [k, v] of Object.entries(sysctl)) net.sysctl[`net.ipv4.${k}`] = v;
  let seed = 777;
  const m: Machine = {
    net,
    sent: [],
    clockMs: 0,
    wall: 1700000000,
    kernel: {
      nowNs: () => m.clockMs * 1e6,
      jiffies: () => 100000 + Math.floor(m.clockMs / 4),
      wallSec: () => m.wall,
      random32: () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed;
      },
      net,
      shared: {},
      conntrack: { count: () => 0, forEach: () => {} },
      printk: () => {},
      sendLocal: (datagram, _parent, attachCt) => m.sent.push({ datagram, attachCt: attachCt === true }),
    },
  };
  return m;
}

/** Delivers a received frame; returns what the host sent in answer. */
function deliver(m: Machine, frame: Uint8Array, indev = 'eth0'): Uint8Array[] {
  const skb: Skb = newSkb(frame.slice(14), frame.slice(0, 14), indev);
  if (frame[0]! & 1) skb.pktType = frame[0] === 0xff ? PacketType.BROADCAST : PacketType.MULTICAST;
  const d = skb.data;
  skb.route = fibLookup(m.net, ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0).type;
  const before = m.sent.length;
  localDeliver(m.kernel, skb);
  return m.sent.slice(before).map((s) => s.datagram);
}

const HOST_MAC = '0a:11:d1:09:77:ce';
const PEER_MAC = '0a:a2:e8:49:27:a3';
const P = { src: '10.1.77.146', dst: '10.1.51.165' };

function fromPeer(packet: Uint8Array, dstMac = HOST_MAC): Uint8Array {
  const f = new Uint8Array(14 + packet.length);
  f.set(macBytes(dstMac), 0);
  f.set(macBytes(PEER_MAC), 6);
  f[12] = 8;
  f.set(packet, 14);
  return f;
}

/** Our reply as a frame to the peer, masked like the kernel's. */
function masked(datagram: Uint8Array): string {
  const f = new Uint8Array(14 + datagram.length);
  f.set(macBytes(PEER_MAC), 0);
  f.set(macBytes(HOST_MAC), 6);
  f[12] = 8;
  f.set(datagram, 14);
  const mf = maskFrame(f);
  assert.deepEqual(mf.badChecksums, []);
  return toHex(mf.bytes);
}

function maskedCapture(hex: string): string {
  const mf = maskFrame(fromHex(hex));
  assert.deepEqual(mf.badChecksums, []);
  return toHex(mf.bytes);
}

test('TCP to a closed port: the resets of the capture', () => {
  const m = machine('10.1.51.165/16');
  const one = (packet: Uint8Array) => deliver(m, fromPeer(packet)).map((d) => toHex(d));
  // SYN with TOS 0x13: RST/ACK, ack = seq + 1, TOS without the ECN bits, ID 0, DF, TTL 64.
  assert.deepEqual(one(ipv4({ ...P, tos: 0x13, id: 777, ttl: 40 }, tcp({ sport: 40000, dport: 5555, seq: 1000, window: 1234 }))), [
    '45100028000040004006a5870a0133a50a014d9215b39c4000000000000003e95014000064bb0000',
  ]);
  // ACK: RST with seq = the ACK number, no ACK flag.
  assert.deepEqual(one(ipv4(P, tcp({ sport: 40001, dport: 5555, flags: 'A', seq: 1000, ack: 424242, window: 8192 }))), [
    '45000028000040004006a5970a0133a50a014d9215b39c41000679320000000050040000ef7a0000',
  ]);
  // FIN with 10 bytes and no ACK: ack = seq + 10 + 1.
  assert.deepEqual(one(ipv4(P, tcp({ sport: 40003, dport: 5555, flags: 'FP', seq: 1000, window: 8192, payload: ascii('zzzzzzzzzz') }))), [
    '45000028000040004006a5970a0133a50a014d9215b39c4300000000000003f35014000064ae0000',
  ]);
  // No reset for a reset, for a bad checksum, or for a broadcast destination.
  assert.deepEqual(one(ipv4(P, tcp({ sport: 40004, dport: 5555, flags: 'R', seq: 1000 }))), []);
  assert.deepEqual(one(ipv4(P, tcp({ sport: 40005, dport: 5555, checksumError: 1 }))), []);
  assert.deepEqual(one(ipv4({ src: P.src, dst: '10.1.255.255' }, tcp({ sport: 1, dport: 2 }))), []);
  // A frame for another MAC (broadcast) is not for this host's TCP.
  assert.deepEqual(deliver(m, fromPeer(ipv4(P, tcp({ sport: 1, dport: 2 })), 'ff:ff:ff:ff:ff:ff')), []);
  // The stack's reset does not take the segment's connection.
  assert.equal(m.sent.every((s) => !s.attachCt), true);
});

test('UDP to a closed port: port unreachable, none for bad checksums or broadcasts', () => {
  const m = machine('10.1.51.165/16', { icmp_ratelimit: '0' });
  const one = (frame: Uint8Array) => deliver(m, frame).map((d) => masked(d));
  assert.deepEqual(one(fromPeer(ipv4({ ...P, tos: 0xb9, id: 777, ttl: 40 }, udp({ sport: 40000, dport: 5555, payload: ascii('uuuuu') })))), [
    maskedCapture('0aa2e84927a30a11d10977ce080045d8003d0c1900004001d8960a0133a50a014d92030392540000000045b90021030900002811f9d10a014d920a0133a59c4015b3000d58bc7575757575'),
  ]);
  assert.deepEqual(one(fromPeer(ipv4({ ...P, id: 1 }, udp({ sport: 40001, dport: 5555, noChecksum: true, payload: ascii('uuuuu') })))), [
    maskedCapture('0aa2e84927a30a11d10977ce080045c0003d0c1a00004001d8ad0a0133a50a014d920303eb0f0000000045000021000100004011e5920a014d920a0133a59c4115b3000d00007575757575'),
  ]);
  assert.deepEqual(one(fromPeer(ipv4(P, udp({ sport: 40002, dport: 5555, checksumError: 1 })))), []);
  assert.deepEqual(one(fromPeer(ipv4({ src: P.src, dst: '10.1.255.255' }, udp({ sport: 40003, dport: 5555 })), 'ff:ff:ff:ff:ff:ff')), []);
  assert.deepEqual(one(fromPeer(ipv4(P, udp({ sport: 40004, dport: 5555 })), 'ff:ff:ff:ff:ff:ff')), []);
  // The UDP stack dropped the conntrack reference before answering.
  assert.equal(m.sent.every((s) => !s.attachCt), true);
});

test('ICMP: echo and timestamp requests answered, other messages consumed', () => {
  const m = machine('10.1.51.165/16');
  m.wall = 1700000000 + 0.25; // 22:13:20.250 UTC
  const one = (packet: Uint8Array) => deliver(m, fromPeer(packet)).map((d) => masked(d));
  // Echo with TOS 0x13 and code 5: the reply keeps both, clears DF.
  assert.deepEqual(one(ipv4({ ...P, tos: 0x13, id: 777, ttl: 40, df: true }, icmp({ type: 8, code: 5, id: 77, seq: 9, payload: ascii('eee') }))), [
    maskedCapture('0aa2e84927a30a11d10977ce08004513001f91110000400154810a0133a50a014d920005353f004d0009656565'),
  ]);
  // Timestamp: originate copied, receive and transmit the milliseconds since midnight UTC.
  const ts = deliver(m, fromPeer(ipv4(P, icmp({ type: 13, id: 5, seq: 6, payload: new Uint8Array([0, 1, 0xe2, 0x40, 0, 0, 0, 0, 0, 0, 0, 0]) }))));
  assert.equal(masked(ts[0]!), maskedCapture('0aa2e84927a30a11d10977ce080045000028912200004001547a0a0133a50a014d920e00e33e000500060001e2400102153801021538'));
  assert.equal(toHex(ts[0]!.subarray(32, 40)), '04c4b4fa04c4b4fa');
  for (const type of [17, 15, 0, 3, 42, 19]) assert.deepEqual(one(ipv4(P, icmp({ type }))), []);
  assert.deepEqual(one(ipv4(P, icmp({ type: 8, checksumError: 0x1111 }))), []);
  assert.deepEqual(one(ipv4(P, icmp({ type: 13, payload: ascii('ab') }))), []);
  m.net.sysctl['net.ipv4.icmp_echo_ignore_all'] = '1';
  assert.deepEqual(one(ipv4(P, icmp({ type: 8 }))), []);
});

test('echo requests to a broadcast address: ignored unless icmp_echo_ignore_broadcasts is 0', () => {
  const m = machine('10.1.51.165/16');
  const req = fromPeer(ipv4({ src: P.src, dst: '10.1.255.255' }, icmp({ type: 8, id: 1, seq: 1 })), 'ff:ff:ff:ff:ff:ff');
  assert.deepEqual(deliver(m, req), []);
  m.net.sysctl['net.ipv4.icmp_echo_ignore_broadcasts'] = '0';
  const r = deliver(m, req);
  assert.equal(r.length, 1);
  // Answered from the address routing picks for the requester.
  assert.deepEqual([...r[0]!.subarray(12, 20)], [10, 1, 51, 165, 10, 1, 77, 146]);
});

test('other protocols: protocol unreachable, except IGMP and PIM', () => {
  const m = machine('10.1.51.165/16', { icmp_ratelimit: '0' });
  const answered: number[] = [];
  // The capture: 0, 3, 4, 33, 41, 46, 47, 50, 51, 89, 108, 112, 115, 132, 137, 253, 255 answered; 2, 103 not.
  for (const proto of [0, 2, 3, 4, 33, 41, 46, 47, 50, 51, 89, 103, 108, 112, 115, 132, 137, 253, 255]) {
    const r = deliver(m, fromPeer(ipv4({ ...P, id: proto }, rawL4(proto, new Uint8Array(24)))));
    if (r.length) {
      assert.deepEqual([r[0]![20], r[0]![21]], [3, 2]);
      answered.push(proto);
    }
  }
  assert.deepEqual(answered, [0, 3, 4, 33, 41, 46, 47, 50, 51, 89, 108, 112, 115, 132, 137, 253, 255]);
  // Those errors do take the packet's connection.
  assert.equal(m.sent.every((s) => s.attachCt), true);
});

test('replies take their TTL from net.ipv4.ip_default_ttl', () => {
  // Seen with ip_default_ttl=100 on the kernel: echo reply, port unreachable
  // and the stack's reset (and REJECT's reset) all left with TTL 100.
  const m = machine('10.1.51.165/16', { ip_default_ttl: '100', icmp_ratelimit: '0' });
  const ttls = [ipv4(P, icmp({ type: 8, id: 1, seq: 1 })), ipv4(P, udp({ sport: 1, dport: 81 })), ipv4(P, tcp({ sport: 1, dport: 81 }))].map(
    (p) => deliver(m, fromPeer(p))[0]![8],
  );
  assert.deepEqual(ttls, [100, 100, 100]);
});

/** A UDP-Lite datagram with checksum coverage `cscov` (0: all) and a correct checksum unless told. */
function udplite(src: string, dst: string, sport: number, dport: number, cscov: number, payload: Uint8Array, zeroCheck = false): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  b.set([sport >> 8, sport & 255, dport >> 8, dport & 255, cscov >> 8, cscov & 255], 0);
  b.set(payload, 8);
  if (!zeroCheck) {
    const pseudo = onesSum(new Uint8Array([...ipv4Bytes(src), ...ipv4Bytes(dst)])) + 136 + b.length;
    const c = internetChecksum(b.subarray(0, cscov || b.length), pseudo) || 0xffff;
    b[6] = c >> 8;
    b[7] = c & 255;
  }
  return ipv4({ src, dst }, rawL4(136, b));
}

test('the kernel and the host stack agree on a batch of frames (live namespaces)', async () => {
  const Q = { src: '10.0.0.2', dst: '10.0.0.1' };
  const packets: { p: Uint8Array; dst?: string }[] = [
    { p: ipv4({ ...Q, tos: 0x13, id: 1 }, tcp({ sport: 40000, dport: 5555, seq: 1000 })) },
    { p: ipv4(Q, tcp({ sport: 40001, dport: 5555, flags: 'A', seq: 7, ack: 0xdeadbeef })) },
    { p: ipv4(Q, tcp({ sport: 40002, dport: 5555, flags: 'SF', seq: 0xffffffff, payload: ascii('data') })) },
    { p: ipv4(Q, tcp({ sport: 40003, dport: 5555, flags: 'R' })) },
    { p: ipv4(Q, tcp({ sport: 40004, dport: 5555, checksumError: 3 })) },
    { p: ipv4(Q, rawL4(6, new Uint8Array([0x9c, 0x40, 0x15, 0xb3, 0, 0, 0, 1, 0, 0, 0, 0, 0x40, 0x02, 0, 0, 0, 0, 0, 0]))) },
    { p: ipv4(Q, rawL4(6, new Uint8Array(10))) },
    { p: ipv4({ src: Q.src, dst: '10.0.0.255' }, tcp({ sport: 40005, dport: 5555 })) },
    { p: ipv4({ ...Q, tos: 0xfe }, udp({ sport: 50000, dport: 5555, payload: ascii('hello') })) },
    { p: ipv4(Q, udp({ sport: 50001, dport: 5555, noChecksum: true })) },
    { p: ipv4(Q, udp({ sport: 50002, dport: 5555, checksumError: 9 })) },
    { p: ipv4({ src: Q.src, dst: '10.0.0.255' }, udp({ sport: 50003, dport: 5555 })), dst: 'ff:ff:ff:ff:ff:ff' },
    { p: ipv4(Q, udp({ sport: 50004, dport: 5555, payload: new Uint8Array(1400).fill(0x61) })) },
    { p: udplite(Q.src, Q.dst, 50005, 5555, 0, ascii('lite')) },
    { p: udplite(Q.src, Q.dst, 50006, 5555, 8, ascii('partial')) },
    { p: udplite(Q.src, Q.dst, 50007, 5555, 0, ascii('zero'), true) },
    { p: ipv4({ ...Q, tos: 0x04, df: true }, icmp({ type: 8, code: 3, id: 0x1234, seq: 1, payload: ascii('abcdefgh') })) },
    { p: ipv4(Q, icmp({ type: 8, id: 1, seq: 2, checksumError: 5 })) },
    { p: ipv4(Q, icmp({ type: 13, id: 9, seq: 9, payload: new Uint8Array(12).fill(1) })) },
    { p: ipv4(Q, icmp({ type: 13, payload: ascii('abc') })) },
    { p: ipv4(Q, icmp({ type: 17, payload: new Uint8Array(4) })) },
    { p: ipv4(Q, icmp({ type: 3, code: 3, payload: ipv4({ src: Q.dst, dst: Q.src }, udp({ sport: 5, dport: 6 })) })) },
    { p: ipv4({ src: Q.src, dst: '10.0.0.255' }, icmp({ type: 8, id: 7, seq: 7 })), dst: 'ff:ff:ff:ff:ff:ff' },
    { p: ipv4(Q, rawL4(2, new Uint8Array([0x11, 0x64, 0xee, 0x9b, 0, 0, 0, 0]))) },
    { p: ipv4(Q, rawL4(47, new Uint8Array(12))) },
    { p: ipv4(Q, rawL4(253, ascii('whatever'))) },
    // UDP length 10 with 12 bytes after the header: the quote stops at the UDP length.
    { p: ipv4(Q, rawL4(17, new Uint8Array([0, 1, 0, 81, 0, 10, 0, 0, 1, 2, 3, 4]))) },
    { p: ipv4(Q, tcp({ sport: 1, dport: 81, seq: 100, options: new Uint8Array([2, 4, 5, 0xb4]), payload: new Uint8Array(7) })) },
  ];
  const frames = packets.map((x) => (x.dst ? toDut('eth0', x.p, { dst: x.dst }) : toDut('eth0', x.p)));
  const observed = await runKernelScenario({
    name: 'local-deliver-batch',
    setup: [
      'ip link set lo up',
      'ip link set eth0 up',
      'ip addr add 10.0.0.1/24 dev eth0',
      'ip neigh replace 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
      'sysctl -qw net.ipv4.icmp_ratelimit=0',
    ],
    rules: '',
    frames,
  });
  const m = machine('10.0.0.1/24', { icmp_ratelimit: '0' });
  const ours: string[] = [];
  frames.forEach((f, i) => {
    for (const d of deliver(m, f.bytes)) ours.push(`${i} ${toHex(maskFrame(fromDut('eth0', d)).bytes)}`);
  });
  const theirs = observed.emitted.map((e) => `${e.afterFrame} ${toHex(maskFrame(e.bytes).bytes)}`);
  // The frames the kernel answered (the others get nothing).
  assert.equal(theirs.map((t) => t.split(' ')[0]).join(','), '0,1,2,8,9,12,13,14,16,18,24,25,26,27');
  assert.deepEqual(ours, theirs);
});
