/**
 * UDP and raw sockets of the stack between two hosts of a test network:
 * datagrams both ways, ICMP port unreachable reaching a connected socket
 * only, the IP IDs Linux 6.18 gives them, and raw sockets' copies.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { counter, ip, TestNet } from './stack-net.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function pair(): { net: TestNet; a: ReturnType<TestNet['host']>; b: ReturnType<TestNet['host']> } {
  const net = new TestNet();
  return { net, a: net.host('a', '10.0.0.1'), b: net.host('b', '10.0.0.2') };
}

test('UDP: a bound socket receives, answers to the sender; ss shows UNCONN and ESTAB', () => {
  const { net, a, b } = pair();
  const srv = b.sockets.udp();
  assert.equal(srv.bind(0, 53), null);
  const w = counter();
  srv.owner = w;
  const cli = a.sockets.udp();
  assert.equal(cli.connect(ip('10.0.0.2'), 53), null);
  assert.equal(cli.send(enc('query')), null);
  net.advance(1e6);
  assert.equal(w.n, 1);
  const m = srv.recv()!;
  assert.equal(dec(m.data), 'query');
  assert.equal(m.from.addr, ip('10.0.0.1'));
  assert.equal(m.from.port, cli.local.port);
  assert.equal(srv.send(enc('answer'), m.from), null);
  net.advance(1e6);
  assert.equal(dec(cli.recv()!.data), 'answer');
  assert.equal(cli.recv(), null);
  assert.deepEqual(b.sockets.list().map((i) => `${i.proto} ${i.state} ${i.local.port}`), ['udp UNCONN 53']);
  assert.deepEqual(a.sockets.list().map((i) => `${i.proto} ${i.state} ${i.remote.port}`), ['udp ESTAB 53']);
  assert.deepEqual(net.log(), [
    '10000.000 10.0.0.1.35277 > 10.0.0.2.53 udp len 5 DF',
    '10001.000 10.0.0.2.53 > 10.0.0.1.35277 udp len 6 DF',
  ]);
});

test('UDP: port unreachable reaches a connected socket once (ECONNREFUSED), an unconnected one never', () => {
  const { net, a } = pair();
  const cli = a.sockets.udp();
  cli.connect(ip('10.0.0.2'), 9999);
  const w = counter();
  cli.owner = w;
  cli.send(enc('x'));
  net.advance(1e6);
  assert.equal(w.n, 1);
  assert.equal(cli.error, 'ECONNREFUSED');
  assert.equal(cli.takeError(), 'ECONNREFUSED');
  assert.equal(cli.takeError(), null);
  cli.send(enc('y'));
  net.advance(1e6);
  assert.equal(cli.send(enc('z')), 'ECONNREFUSED');
  const un = a.sockets.udp();
  un.send(enc('x'), { addr: ip('10.0.0.2'), port: 9999 });
  net.advance(1e6);
  assert.equal(un.error, null);
  assert.deepEqual(net.log().map((l) => l.slice(10)), [
    '10.0.0.1.35277 > 10.0.0.2.9999 udp len 1 DF',
    '10.0.0.2 > 10.0.0.1 icmp type 3 code 3',
    '10.0.0.1.35277 > 10.0.0.2.9999 udp len 1 DF',
    '10.0.0.2 > 10.0.0.1 icmp type 3 code 3',
    '10.0.0.1.44153 > 10.0.0.2.9999 udp len 1 DF',
    '10.0.0.2 > 10.0.0.1 icmp type 3 code 3',
  ]);
});

test('UDP IP IDs: a connected socket counts from its own start; unconnected datagrams take the per-destination counter; big ones are fragmented without DF', () => {
  const { net, a, b } = pair();
  b.sockets.udp().bind(0, 5000);
  const un = a.sockets.udp();
  un.send(enc('a'), { addr: ip('10.0.0.2'), port: 5000 });
  un.send(enc('b'), { addr: ip('10.0.0.2'), port: 5000 });
  const c = a.sockets.udp();
  c.connect(ip('10.0.0.2'), 5000);
  c.send(enc('c'));
  c.send(enc('d'));
  c.send(new Uint8Array(3000));
  const ids = net.sent.map((s) => (s.data[4]! << 8) | s.data[5]!);
  assert.equal(ids[1], ids[0]! + 1);
  assert.equal(ids[3], ids[2]! + 1);
  assert.equal(ids[4], ids[3]! + 1);
  assert.deepEqual(net.sent.map((s) => s.data[6]! & 0x40), [0x40, 0x40, 0x40, 0x40, 0]);
});

test('UDP bind: a port taken is EADDRINUSE, an address not ours EADDRNOTAVAIL; close frees the port', () => {
  const { a } = pair();
  const s1 = a.sockets.udp();
  assert.equal(s1.bind(0, 123), null);
  const s2 = a.sockets.udp();
  assert.equal(s2.bind(ip('10.0.0.1'), 123), 'EADDRINUSE');
  assert.equal(s2.bind(ip('10.9.9.9'), 124), 'EADDRNOTAVAIL');
  s1.close();
  assert.equal(s2.bind(ip('10.0.0.1'), 123), null);
  assert.deepEqual(a.sockets.list().map((i) => `${i.local.addr === ip('10.0.0.1')} ${i.local.port}`), ['true 123']);
});

test('UDP: sending where no route leads fails with ENETUNREACH, OUTPUT dropping it with EPERM', () => {
  const { net, a } = pair();
  const s = a.sockets.udp();
  assert.equal(s.send(enc('x'), { addr: ip('192.168.1.1'), port: 1 }), 'ENETUNREACH');
  net.filter = () => 'eperm';
  assert.equal(s.send(enc('x'), { addr: ip('10.0.0.2'), port: 1 }), 'EPERM');
});

test('raw ICMP socket: a copy of every ICMP message delivered, and the host still answers echo requests', () => {
  const { net, a, b } = pair();
  const ra = a.sockets.raw(1);
  const rb = b.sockets.raw(1);
  const echo = new Uint8Array([8, 0, 0xf7, 0xfe, 0, 1, 0, 0]);
  assert.equal(ra.send(echo, ip('10.0.0.2')), null);
  net.advance(1e6);
  const req = rb.recv()!;
  assert.equal(req[20], 8);
  assert.equal(req[9], 1);
  const rep = ra.recv()!;
  assert.equal(rep[20], 0);
  assert.deepEqual(net.log().map((l) => l.slice(10)), ['10.0.0.1 > 10.0.0.2 icmp type 8 code 0 DF', '10.0.0.2 > 10.0.0.1 icmp type 0 code 0']);
  // a datagram that does not fit the MTU: DF dropped unless asked for, then EMSGSIZE
  assert.equal(ra.send(new Uint8Array(2000), ip('10.0.0.2'), { df: true }), 'EMSGSIZE');
  assert.equal(ra.send(new Uint8Array(2000), ip('10.0.0.2')), null);
  assert.equal(net.sent[net.sent.length - 1]!.data[6]! & 0x40, 0);
});

test('raw socket of another protocol: it takes the datagrams, so the host sends no protocol unreachable', () => {
  const { net, a, b } = pair();
  const sa = a.sockets.raw(253);
  sa.send(enc('one'), ip('10.0.0.2'));
  net.advance(1e6);
  const rb = b.sockets.raw(253);
  sa.send(enc('two'), ip('10.0.0.2'));
  net.advance(1e6);
  assert.equal(dec(rb.recv()!.subarray(20)), 'two');
  assert.deepEqual(net.log().map((l) => l.slice(10)), [
    '10.0.0.1 > 10.0.0.2 proto 253 len 23 DF',
    '10.0.0.2 > 10.0.0.1 icmp type 3 code 2',
    '10.0.0.1 > 10.0.0.2 proto 253 len 23 DF',
  ]);
});

test('raw IP_HDRINCL: the kernel fills the total length, checksum, a zero source and a zero ID', () => {
  const { net, a } = pair();
  const r = a.sockets.raw(255);
  const d = new Uint8Array(28);
  d[0] = 0x45;
  d[8] = 33;
  d[9] = 17;
  d.set([10, 0, 0, 2], 16);
  assert.equal(r.send(d, ip('10.0.0.2'), { hdrincl: true }), null);
  const out = net.sent[0]!.data;
  assert.deepEqual([...out.subarray(12, 16)], [10, 0, 0, 1]);
  assert.equal((out[2]! << 8) | out[3]!, 28);
  assert.equal(out[8], 33);
  assert.notEqual((out[4]! << 8) | out[5]!, 0);
  const sum = out.reduce((acc, _v, i) => (i < 20 && i % 2 === 0 ? acc + ((out[i]! << 8) | out[i + 1]!) : acc), 0);
  assert.equal((sum % 0xffff), 0);
});
