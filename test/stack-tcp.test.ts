/**
 * The TCP of the stack between two hosts of a test network (50 µs one
 * way): the segments Linux sends for a handshake, data and close, resets,
 * refusals, ICMP errors, and the retransmission timers on the virtual
 * clock. The expected segments and intervals are those measured on Linux
 * 6.18 (see src/core/stack/tcp-socket.ts).
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import type { TcpSocket } from '../src/core/stack/api.js';
import { fillTcpChecksum } from '../src/core/wire/checksum.js';
import { counter, icmpError, ip, TestNet } from './stack-net.js';

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

/** Two hosts and a listener on b:80; returns the connected pair. */
function connected(net: TestNet): { c: TcpSocket; s: TcpSocket; l: TcpSocket } {
  const a = net.hosts.find((h) => h.name === 'a') ?? net.host('a', '10.0.0.1');
  const b = net.hosts.find((h) => h.name === 'b') ?? net.host('b', '10.0.0.2');
  const l = b.sockets.tcp();
  assert.equal(l.bind(0, 80), null);
  assert.equal(l.listen(5), null);
  const c = a.sockets.tcp();
  assert.equal(c.connect(ip('10.0.0.2'), 80), null);
  net.advance(1e6);
  const s = l.accept();
  assert.ok(s);
  return { c, s, l };
}

/** Times (ms after t0, 3 decimals) of the logged segments from `from`. */
function times(net: TestNet, t0: number, from: string): string[] {
  return net.sent.filter((x) => x.from === from && x.ns >= t0).map((x) => ((x.ns - t0) / 1e6).toFixed(3));
}

test('handshake, data both ways and close: the segments Linux sends', () => {
  const net = new TestNet();
  const t0 = net.now;
  const { c, s, l } = connected(net);
  assert.equal(c.state, 'ESTAB');
  assert.equal(s.state, 'ESTAB');
  c.send(enc('hello\n'));
  net.advance(1e6);
  assert.equal(dec(s.read()), 'hello\n');
  s.send(enc('world\n'));
  net.advance(300e6);
  s.close();
  net.advance(0.2e6);
  assert.equal(c.state, 'CLOSE-WAIT');
  assert.equal(s.state, 'FIN-WAIT-1');
  assert.equal(c.eof, false);
  assert.equal(dec(c.read()), 'world\n');
  assert.equal(c.eof, true);
  c.close();
  net.advance(1e6);
  assert.equal(c.state, 'CLOSED');
  assert.equal(s.state, 'TIME-WAIT');
  assert.deepEqual(net.log(t0), [
    '0.000 10.0.0.1.35278 > 10.0.0.2.80 [S] seq 0 win 64240 len 0 opts 020405b40402080a<TS>0103030a DF',
    '0.050 10.0.0.2.80 > 10.0.0.1.35278 [S.] seq 0 ack 1 win 65160 len 0 opts 020405b40402080a<TS>0103030a DF id 0',
    '0.100 10.0.0.1.35278 > 10.0.0.2.80 [.] seq 1 ack 1 win 63 len 0 opts 0101080a<TS> DF',
    '1.000 10.0.0.1.35278 > 10.0.0.2.80 [P.] seq 1 ack 1 win 63 len 6 opts 0101080a<TS> DF',
    '1.050 10.0.0.2.80 > 10.0.0.1.35278 [.] seq 1 ack 7 win 64 len 0 opts 0101080a<TS> DF',
    '2.000 10.0.0.2.80 > 10.0.0.1.35278 [P.] seq 1 ack 7 win 64 len 6 opts 0101080a<TS> DF',
    '2.050 10.0.0.1.35278 > 10.0.0.2.80 [.] seq 7 ack 7 win 63 len 0 opts 0101080a<TS> DF',
    '302.000 10.0.0.2.80 > 10.0.0.1.35278 [F.] seq 7 ack 7 win 64 len 0 opts 0101080a<TS> DF',
    '302.200 10.0.0.1.35278 > 10.0.0.2.80 [F.] seq 7 ack 8 win 63 len 0 opts 0101080a<TS> DF',
    '302.250 10.0.0.2.80 > 10.0.0.1.35278 [.] seq 8 ack 8 win 64 len 0 opts 0101080a<TS> DF',
  ]);
  const b = net.hosts[1]!;
  assert.deepEqual(
    b.sockets.list().map((i) => `${i.state} ${i.recvQ} ${i.sendQ} ${i.local.port} ${i.remote.port}`),
    ['LISTEN 0 5 80 0', 'TIME-WAIT 0 0 80 35278'],
  );
  // TIME-WAIT lasts 60 s
  net.advance(59.9e9);
  assert.equal(b.sockets.list().length, 2);
  net.advance(0.2e9);
  assert.deepEqual(b.sockets.list().map((i) => i.state), ['LISTEN']);
  l.close();
  assert.deepEqual(b.sockets.list(), []);
});

test('the IP IDs of a connection count up from a random start; SYN-ACK and resets carry 0', () => {
  const net = new TestNet();
  const { c, s } = connected(net);
  c.send(enc('x'));
  net.advance(1e6);
  s.read();
  c.close();
  net.advance(1e6);
  const ids = net.sent.map((x) => `${x.from} ${(x.data[4]! << 8) | x.data[5]!}`);
  const a = ids.filter((x) => x.startsWith('a ')).map((x) => Number(x.slice(2)));
  assert.deepEqual(a.map((x) => x - a[0]!), [0, 1, 2, 3]);
  assert.equal(ids[1], 'b 0');
});

test('a SYN nobody answers: four retransmissions a second apart, then doubling, ETIMEDOUT after the tenth', () => {
  const net = new TestNet(10e9 + 1_234_567);
  const a = net.host('a', '10.0.0.1');
  net.host('b', '10.0.0.2');
  net.filter = (h) => (h.name === 'a' ? 'drop' : 'pass');
  const c = a.sockets.tcp();
  const w = counter();
  c.owner = w;
  const t0 = net.now;
  assert.equal(c.connect(ip('10.0.0.2'), 81), null);
  net.advance(134e9);
  assert.equal(c.state, 'SYN-SENT');
  assert.equal(w.n, 0);
  net.advance(2e9);
  assert.equal(c.state, 'CLOSED');
  assert.equal(c.error, 'ETIMEDOUT');
  assert.equal(w.n, 1);
  assert.deepEqual(times(net, t0, 'a'), [
    '0.000', '1006.765', '2030.765', '3054.765', '4078.765', '5102.765', '7118.765', '11214.765', '19406.765', '35534.765', '68814.765',
  ]);
});

test('TCP_SYNCNT shortens the SYN retries', () => {
  const net = new TestNet(10e9);
  const a = net.host('a', '10.0.0.1');
  net.host('b', '10.0.0.2');
  net.filter = (h) => (h.name === 'a' ? 'drop' : 'pass');
  const c = a.sockets.tcp();
  c.synRetries = 1;
  const w = counter();
  c.owner = w;
  const t0 = net.now;
  c.connect(ip('10.0.0.2'), 81);
  // the time limit of one exponential retry (3 s) ends it before the count does (as on Linux: 3.08 s)
  let failedAt = 0;
  while (!failedAt) {
    net.advance(4e6);
    if (w.n) failedAt = net.now;
  }
  assert.equal(c.error, 'ETIMEDOUT');
  assert.equal(((failedAt - t0) / 1e9).toFixed(2), '3.06');
  assert.deepEqual(times(net, t0, 'a'), ['0.000', '1008.000', '2032.000']);
});

test('a SYN that OUTPUT drops (EPERM) is retried like a lost one and connect ends in ETIMEDOUT', () => {
  const net = new TestNet(10e9 + 1_234_567);
  const a = net.host('a', '10.0.0.1');
  net.host('b', '10.0.0.2');
  net.filter = (h) => (h.name === 'a' ? 'eperm' : 'pass');
  const c = a.sockets.tcp();
  const t0 = net.now;
  assert.equal(c.connect(ip('10.0.0.2'), 81), null);
  assert.equal(c.state, 'SYN-SENT');
  net.advance(140e9);
  assert.equal(c.error, 'ETIMEDOUT');
  assert.equal(times(net, t0, 'a').length, 11);
});

test('a closed port: the host resets the SYN and connect fails with ECONNREFUSED one round trip later', () => {
  const net = new TestNet();
  const a = net.host('a', '10.0.0.1');
  net.host('b', '10.0.0.2');
  const c = a.sockets.tcp();
  const t0 = net.now;
  c.connect(ip('10.0.0.2'), 81);
  net.advance(99_999);
  assert.equal(c.state, 'SYN-SENT');
  net.advance(1);
  assert.equal(c.error, 'ECONNREFUSED');
  assert.deepEqual(net.log(t0).slice(1), ['0.050 10.0.0.2.81 > 10.0.0.1.35278 [R.] seq 0 ack 1 win 0 len 0 DF id 0']);
});

test('no route: connect fails at once with ENETUNREACH', () => {
  const net = new TestNet();
  const a = net.host('a', '10.0.0.1');
  assert.equal(a.sockets.tcp().connect(ip('192.168.9.9'), 22), 'ENETUNREACH');
  assert.equal(net.sent.length, 0);
});

test('ICMP errors end a connect with their errno once the SYN was retransmitted; the first only sticks (veth timing); fragmentation needed never', () => {
  for (const [code, errno] of [
    [3, 'ECONNREFUSED'],
    [10, 'EHOSTUNREACH'],
    [13, 'EHOSTUNREACH'],
    [0, 'ENETUNREACH'],
    [1, 'EHOSTUNREACH'],
    [2, 'ENOPROTOOPT'],
    [9, 'ENETUNREACH'],
    [4, null],
  ] as const) {
    const net = new TestNet();
    const a = net.host('a', '10.0.0.1');
    const b = net.host('b', '10.0.0.2');
    net.reject(b, () => true, 3, code);
    const c = a.sockets.tcp();
    c.connect(ip('10.0.0.2'), 22);
    net.advance(1e6);
    assert.equal(c.state, 'SYN-SENT', `code ${code}`);
    assert.equal(c.error, null, `code ${code}`);
    net.advance(1.2e9);
    assert.equal(c.error, errno, `code ${code}`);
    assert.equal(c.state, errno ? 'CLOSED' : 'SYN-SENT', `code ${code}`);
  }
});

test('a non-blocking connect fails with the ICMP error to its first SYN, at once', () => {
  const net = new TestNet();
  const a = net.host('a', '10.0.0.1');
  const b = net.host('b', '10.0.0.2');
  net.reject(b, () => true, 3, 10);
  const c = a.sockets.tcp();
  c.nonBlocking = true;
  c.connect(ip('10.0.0.2'), 22);
  net.advance(1e6);
  assert.equal(c.error, 'EHOSTUNREACH');
  assert.equal(c.state, 'CLOSED');
  assert.equal(net.sent.filter((x) => x.from === 'a').length, 1);
});

test('an ICMP error to the first SYN only, then silence: connect times out with that errno', () => {
  const net = new TestNet();
  const a = net.host('a', '10.0.0.1');
  const b = net.host('b', '10.0.0.2');
  let answered = false;
  net.reject(b, () => !answered && (answered = true), 3, 10);
  net.filter = ((prev) => (h, d) => (h === a && answered && prev(h, d) === 'pass' ? 'drop' : prev(h, d)))(net.filter);
  const c = a.sockets.tcp();
  c.connect(ip('10.0.0.2'), 22);
  net.advance(134e9);
  assert.equal(c.state, 'SYN-SENT');
  net.advance(3e9);
  assert.equal(c.error, 'EHOSTUNREACH');
});

test('time exceeded for a SYN: EHOSTUNREACH; an ICMP error quoting another sequence number is ignored', () => {
  const net = new TestNet();
  const a = net.host('a', '10.0.0.1');
  net.host('b', '10.0.0.2');
  net.filter = (h) => (h.name === 'a' ? 'drop' : 'pass');
  const c = a.sockets.tcp();
  c.connect(ip('10.0.0.2'), 22);
  const wrong = net.sent[0]!.data.slice();
  wrong[24] ^= 0x80;
  net.inject(a, icmpError(3, 3, ip('10.0.0.254'), wrong));
  assert.equal(c.state, 'SYN-SENT');
  net.inject(a, icmpError(11, 0, ip('10.0.0.254'), net.sent[0]!.data));
  assert.equal(c.error, null);
  net.advance(1.1e9);
  net.inject(a, icmpError(11, 0, ip('10.0.0.254'), net.sent[1]!.data));
  assert.equal(c.error, 'EHOSTUNREACH');
});

test('an ICMP error on an established connection is soft: kept until the connection times out', () => {
  const net = new TestNet();
  const { c } = connected(net);
  net.filter = (h) => (h.name === 'a' ? 'drop' : 'pass');
  const a = net.hosts[0]!;
  c.send(enc('data'));
  const last = net.sent[net.sent.length - 1]!.data;
  net.inject(a, icmpError(3, 1, ip('10.0.0.254'), last));
  assert.equal(c.state, 'ESTAB');
  assert.equal(c.error, null);
  net.advance(1000e9);
  assert.equal(c.state, 'CLOSED');
  assert.equal(c.error, 'EHOSTUNREACH');
});

test('data nobody acknowledges: a tail loss probe, retransmissions with exponential backoff, ETIMEDOUT after tcp_retries2', () => {
  const net = new TestNet();
  const { c } = connected(net);
  net.filter = (h) => (h.name === 'a' ? 'drop' : 'pass');
  const w = counter();
  c.owner = w;
  const t0 = net.now;
  c.send(enc('hello'));
  let failedAt = 0;
  while (!failedAt && net.now - t0 < 1200e9) {
    net.advance(4e6);
    if (w.n) failedAt = net.now;
  }
  assert.equal(c.state, 'CLOSED');
  assert.equal(c.error, 'ETIMEDOUT');
  // as Linux 6.18 (tcp_retries2=15): the probe after 2 RTT + 200 ms, then the RTO doubling from 208 ms up to 120 s
  assert.deepEqual(times(net, t0, 'a'), [
    '0.000', '207.000', '415.000', '847.000', '1679.000', '3343.000', '6863.000', '13519.000', '26831.000', '54479.000',
    '107727.000', '214223.000', '335055.000', '455887.000', '576719.000', '697551.000', '818383.000',
  ]);
  // 924.6 s after the probe the next timeout gives up (Linux: 937.9 s after the data was sent)
  assert.equal(((failedAt - t0) / 1e9).toFixed(1), '939.2');
});

test('close() with unread data resets the connection; the peer gets ECONNRESET', () => {
  const net = new TestNet();
  const t0 = net.now;
  const { c, s } = connected(net);
  c.send(enc('unread\n'));
  net.advance(300e6);
  assert.equal(s.available, 7);
  s.close();
  net.advance(1e6);
  assert.equal(c.state, 'CLOSED');
  assert.equal(c.error, 'ECONNRESET');
  assert.equal(c.send(enc('more')), 'ECONNRESET');
  assert.equal(net.log(t0)[5], '301.000 10.0.0.2.80 > 10.0.0.1.35278 [R.] seq 1 ack 8 win 64 len 0 opts 0101080a<TS> DF');
});

test('a reset from the peer after our FIN... in CLOSE-WAIT gives EPIPE', () => {
  const net = new TestNet();
  const { c, s } = connected(net);
  s.shutdown();
  net.advance(1e6);
  assert.equal(c.state, 'CLOSE-WAIT');
  s.abort();
  net.advance(1e6);
  assert.equal(c.error, 'EPIPE');
});

test('abort() sends RST|ACK; a segment for the closed connection is answered with a reset by the host', () => {
  const net = new TestNet();
  const t0 = net.now;
  const { c, s } = connected(net);
  c.abort();
  net.advance(1e6);
  assert.equal(s.state, 'CLOSED');
  assert.equal(s.error, 'ECONNRESET');
  assert.deepEqual(net.log(t0).slice(3), ['1.000 10.0.0.1.35278 > 10.0.0.2.80 [R.] seq 1 ack 1 win 63 len 0 opts 0101080a<TS> DF']);
});

test('a listener retransmits its SYN-ACK at 1, 3, 7, 15 and 31 s and drops the request at 63 s', () => {
  const net = new TestNet(20e9);
  const a = net.host('a', '10.0.0.1');
  const b = net.host('b', '10.0.0.2');
  const l = b.sockets.tcp();
  l.bind(0, 82);
  l.listen(5);
  net.filter = (h) => (h.name === 'b' ? 'drop' : 'pass');
  // a bare SYN without options, as a raw socket sends it
  const raw = a.sockets.raw(6);
  const syn = new Uint8Array(20);
  syn[0] = 40000 >> 8;
  syn[1] = 40000 & 255;
  syn[3] = 82;
  syn[7] = 0xe8;
  syn[6] = 0x03;
  syn[12] = 0x50;
  syn[13] = 0x02;
  syn[14] = 0xfa;
  syn[15] = 0xf0;
  fillTcpChecksum(syn, 0, 20, ip('10.0.0.1'), ip('10.0.0.2'));
  const t0 = net.now;
  assert.equal(raw.send(syn, ip('10.0.0.2')), null);
  net.advance(63e9);
  assert.deepEqual(b.sockets.list().map((i) => i.state), ['LISTEN', 'SYN-RECV']);
  net.advance(3e9);
  assert.deepEqual(b.sockets.list().map((i) => i.state), ['LISTEN']);
  // intervals as on Linux 6.18: 1.01, 2.016, 4.16, 8.192, 16.128 s (the 4 s one rounds with the jiffies' alignment)
  assert.deepEqual(times(net, t0, 'b'), ['0.050', '1024.000', '3040.000', '7104.000', '15296.000', '31424.000']);
  const first = net.log(t0)[1]!;
  assert.equal(first, '0.050 10.0.0.2.82 > 10.0.0.1.40000 [S.] seq 0 ack 1 win 64240 len 0 opts 020405b4 DF id 0 [drop]');
});

test('SYN-ACK options follow the SYN: without timestamps the window is 64240, without scaling no wscale', () => {
  const net = new TestNet();
  net.host('a', '10.0.0.1', { 'net.ipv4.tcp_timestamps': '0', 'net.ipv4.tcp_window_scaling': '0' });
  const t0 = net.now;
  const { c } = connected(net);
  c.close();
  net.advance(1e6);
  assert.deepEqual(net.log(t0).slice(0, 4), [
    '0.000 10.0.0.1.35278 > 10.0.0.2.80 [S] seq 0 win 64240 len 0 opts 020405b401010402 DF',
    '0.050 10.0.0.2.80 > 10.0.0.1.35278 [S.] seq 0 ack 1 win 64240 len 0 opts 020405b401010402 DF id 0',
    '0.100 10.0.0.1.35278 > 10.0.0.2.80 [.] seq 1 ack 1 win 64240 len 0 DF',
    '1.000 10.0.0.1.35278 > 10.0.0.2.80 [F.] seq 1 ack 1 win 64240 len 0 DF',
  ]);
});

test('a FIN received while established is acknowledged at the next jiffy when the program does not answer', () => {
  const net = new TestNet(10e9 + 1e6);
  const t0 = net.now;
  const { c, s } = connected(net);
  c.close();
  net.advance(10e6);
  assert.equal(s.state, 'CLOSE-WAIT');
  assert.equal(c.state, 'FIN-WAIT-2');
  assert.deepEqual(net.log(t0).slice(3), [
    '1.000 10.0.0.1.35278 > 10.0.0.2.80 [F.] seq 1 ack 1 win 63 len 0 opts 0101080a<TS> DF',
    '3.000 10.0.0.2.80 > 10.0.0.1.35278 [.] seq 1 ack 2 win 64 len 0 opts 0101080a<TS> DF',
  ]);
});

test('an interactive connection delays its ACKs by 40 ms', () => {
  const net = new TestNet(10e9);
  const t0 = net.now;
  const { c, s } = connected(net);
  c.send(enc('q1'));
  net.advance(1e6);
  s.read();
  s.send(enc('a1'));
  net.advance(1e6);
  c.read();
  c.send(enc('q2'));
  net.advance(100e6);
  assert.deepEqual(net.log(t0).slice(3), [
    '1.000 10.0.0.1.35278 > 10.0.0.2.80 [P.] seq 1 ack 1 win 63 len 2 opts 0101080a<TS> DF',
    '1.050 10.0.0.2.80 > 10.0.0.1.35278 [.] seq 1 ack 3 win 64 len 0 opts 0101080a<TS> DF',
    '2.000 10.0.0.2.80 > 10.0.0.1.35278 [P.] seq 1 ack 3 win 64 len 2 opts 0101080a<TS> DF',
    '2.050 10.0.0.1.35278 > 10.0.0.2.80 [.] seq 3 ack 3 win 63 len 0 opts 0101080a<TS> DF',
    '3.000 10.0.0.1.35278 > 10.0.0.2.80 [P.] seq 3 ack 3 win 63 len 2 opts 0101080a<TS> DF',
    '44.000 10.0.0.2.80 > 10.0.0.1.35278 [.] seq 3 ack 5 win 64 len 0 opts 0101080a<TS> DF',
  ]);
});

test('a SYN on the four-tuple of a TIME-WAIT socket opens a new connection', () => {
  const net = new TestNet();
  const { c, s, l } = connected(net);
  const port = c.local.port;
  s.close();
  net.advance(1e6);
  c.close();
  net.advance(1e6);
  const b = net.hosts[1]!;
  assert.deepEqual(b.sockets.list().map((i) => i.state), ['LISTEN', 'TIME-WAIT']);
  const c2 = net.hosts[0]!.sockets.tcp();
  assert.equal(c2.bind(0, port), null);
  assert.equal(c2.connect(ip('10.0.0.2'), 80), null);
  net.advance(1e6);
  assert.equal(c2.state, 'ESTAB');
  assert.ok(l.accept());
  assert.deepEqual(b.sockets.list().map((i) => i.state), ['LISTEN', 'ESTAB']);
});

test('connecting from a port whose four-tuple is in our own TIME-WAIT: EADDRNOTAVAIL', () => {
  const net = new TestNet();
  const { c, s } = connected(net);
  const port = c.local.port;
  c.close();
  net.advance(1e6);
  s.close();
  net.advance(1e6);
  assert.equal(c.state, 'TIME-WAIT');
  const c2 = net.hosts[0]!.sockets.tcp();
  assert.equal(c2.bind(0, port), null);
  assert.equal(c2.connect(ip('10.0.0.2'), 80), 'EADDRNOTAVAIL');
});

test('listen backlog: a SYN finding the accept queue full is dropped until accept() makes room', () => {
  const net = new TestNet();
  const a = net.host('a', '10.0.0.1');
  const b = net.host('b', '10.0.0.2');
  const l = b.sockets.tcp();
  l.bind(0, 80);
  l.listen(0);
  const c1 = a.sockets.tcp();
  c1.connect(ip('10.0.0.2'), 80);
  net.advance(1e6);
  const c2 = a.sockets.tcp();
  c2.connect(ip('10.0.0.2'), 80);
  net.advance(500e6);
  assert.equal(c1.state, 'ESTAB');
  assert.equal(c2.state, 'SYN-SENT');
  assert.ok(l.accept());
  net.advance(1e9);
  assert.equal(c2.state, 'ESTAB');
});

test('bind conflicts and ephemeral ports: connect takes even ports, bind(0) odd ones', () => {
  const net = new TestNet();
  const a = net.host('a', '10.0.0.1');
  net.host('b', '10.0.0.2');
  const l = a.sockets.tcp();
  assert.equal(l.bind(0, 22), null);
  assert.equal(l.listen(), null);
  const l2 = a.sockets.tcp();
  assert.equal(l2.bind(ip('10.0.0.1'), 22), 'EADDRINUSE');
  assert.equal(l2.bind(ip('10.0.0.9'), 23), 'EADDRNOTAVAIL');
  const e = a.sockets.tcp();
  assert.equal(e.bind(0, 0), null);
  assert.equal(e.local.port % 2, 1);
  for (let i = 0; i < 5; i++) {
    const c = a.sockets.tcp();
    c.connect(ip('10.0.0.2'), 80);
    assert.equal(c.local.port % 2, 0);
    assert.ok(c.local.port >= 32768 && c.local.port <= 60999);
  }
});

test('ss: a listener shows its accept queue and backlog, SYN-SENT one byte to send', () => {
  const net = new TestNet();
  const a = net.host('a', '10.0.0.1');
  const b = net.host('b', '10.0.0.2');
  const l = b.sockets.tcp();
  l.bind(0, 80);
  l.listen(7);
  const c = a.sockets.tcp();
  c.connect(ip('10.0.0.2'), 80);
  const d = a.sockets.tcp();
  net.filter = (h, dg) => (h.name === 'a' && dg[23] === 81 ? 'drop' : 'pass');
  d.connect(ip('10.0.0.2'), 81);
  net.advance(1e6);
  c.send(enc('abc'));
  net.advance(1e6);
  assert.deepEqual(b.sockets.list().map((i) => `${i.state} ${i.recvQ} ${i.sendQ}`), ['LISTEN 1 7', 'ESTAB 3 0']);
  assert.deepEqual(a.sockets.list().map((i) => `${i.state} ${i.recvQ} ${i.sendQ}`), ['ESTAB 0 0', 'SYN-SENT 0 1']);
});

test('a bulk transfer to a slow reader: the window closes and reopens as the program reads, every byte arrives in order', () => {
  const net = new TestNet();
  const { c, s } = connected(net);
  const data = new Uint8Array(300_000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 255;
  assert.equal(c.send(data), null);
  c.close();
  const got: Uint8Array[] = [];
  let total = 0;
  for (let round = 0; round < 4000 && !s.eof; round++) {
    net.advance(5e6);
    const part = s.read(1024);
    got.push(part);
    total += part.length;
  }
  assert.equal(total, data.length);
  assert.equal(s.eof, true);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of got) {
    all.set(p, at);
    at += p.length;
  }
  assert.deepEqual(all, data);
  // the receiver's window closed (to one unit of 1024 bytes) and opened again as the program read
  const wins = net.sent.filter((x) => x.from === 'b').map((x) => (x.data[34]! << 8) | x.data[35]!);
  const low = wins.indexOf(1);
  assert.ok(low > 0 && wins.slice(low).some((w) => w > 1), `windows ${[...new Set(wins)].join(' ')}`);
  s.close();
  net.advance(1e9);
  assert.equal(c.state, 'TIME-WAIT');
  assert.equal(s.state, 'CLOSED');
});

test('over a 64 KiB MTU (loopback) the MSS is 65495 and the SYN and SYN-ACK windows 65495 and 65483, as Linux sends them', () => {
  const net = new TestNet();
  net.mtu = 65536;
  const t0 = net.now;
  const { c } = connected(net);
  c.send(enc('hi'));
  net.advance(1e6);
  assert.deepEqual(net.log(t0).slice(0, 4), [
    '0.000 10.0.0.1.35278 > 10.0.0.2.80 [S] seq 0 win 65495 len 0 opts 0204ffd70402080a<TS>0103030a DF',
    '0.050 10.0.0.2.80 > 10.0.0.1.35278 [S.] seq 0 ack 1 win 65483 len 0 opts 0204ffd70402080a<TS>0103030a DF id 0',
    '0.100 10.0.0.1.35278 > 10.0.0.2.80 [.] seq 1 ack 1 win 64 len 0 opts 0101080a<TS> DF',
    '1.000 10.0.0.1.35278 > 10.0.0.2.80 [P.] seq 1 ack 1 win 64 len 2 opts 0101080a<TS> DF',
  ]);
});

test('a receiver that never reads: the window closes, the sender probes it with backoff and the connection lives on', () => {
  const net = new TestNet();
  const t0 = net.now;
  const { c, s } = connected(net);
  assert.equal(c.send(new Uint8Array(200_000)), null);
  net.advance(60e9);
  assert.equal(c.state, 'ESTAB');
  const probes = net.log(t0).filter((l) => l.includes('10.0.0.1.35278 > ') && / len 0 /.test(l) && l.includes('[.]') && !l.includes(' seq 1 ack 1 '));
  // each probe is an ACK one below the unacknowledged data, answered with the closed window
  assert.ok(probes.length >= 6, probes.join('\n'));
  const times = probes.map((l) => Number(l.split(' ')[0]));
  const gaps = times.slice(1).map((t, i) => t - times[i]!);
  assert.ok(gaps.every((g, i) => i === 0 || g >= gaps[i - 1]! * 1.9), gaps.join(' '));
  // once the program reads, the transfer goes on
  let total = 0;
  for (let i = 0; i < 400 && total < 200_000; i++) {
    total += s.read().length;
    net.advance(50e6);
  }
  assert.equal(total, 200_000);
});

test('shutdown(), then close() in FIN-WAIT-2: the socket waits tcp_fin_timeout for the peer, then is gone', () => {
  const net = new TestNet();
  const { c } = connected(net);
  c.shutdown();
  net.advance(10e6);
  assert.equal(c.state, 'FIN-WAIT-2');
  c.close();
  const a = net.hosts[0]!;
  net.advance(59e9);
  assert.deepEqual(a.sockets.list().map((i) => i.state), ['FIN-WAIT-2']);
  net.advance(2e9);
  assert.deepEqual(a.sockets.list(), []);
});
