/**
 * ping against a scripted network: the outputs below are what iputils'
 * ping printed in a namespace pair here for the same outcomes, with the
 * lab's exact virtual times in place of wall-clock figures.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ping, formatTripTime, formatG } from '../src/core/programs/ping.js';
import { echoReply, icmpError, net10, runFake, type FakeNetwork } from './clients-fake.js';

const A = net10(1);
const B = net10(2);

function lan(onEcho: FakeNetwork['onRaw']): FakeNetwork {
  return {
    route: (dst) => ((dst & 0xffffff00) === 0x0a000000 || dst === 0x7f000001 ? { src: dst === 0x7f000001 ? dst : A } : { errno: 'ENETUNREACH' }),
    onRaw: onEcho,
  };
}

const replying = lan((p, to) => [{ afterNs: 50_000, datagram: echoReply(to, A, p) }]);

test('ping: replies, summary and rtt from the virtual clock', () => {
  const r = runFake(ping, ['ping', '-c', '2', '-i', '0.2', '10.0.0.2'], { net: replying });
  assert.equal(
    r.both,
    'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n' +
      '64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.050 ms\n' +
      '64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=0.050 ms\n' +
      '\n--- 10.0.0.2 ping statistics ---\n' +
      '2 packets transmitted, 2 received, 0% packet loss, time 200ms\n' +
      'rtt min/avg/max/mdev = 0.050/0.050/0.050/0.000 ms\n',
  );
  assert.equal(r.status, 0);
  assert.equal(r.elapsedNs, 200_050_000);
});

test('ping: the echo request carries the identifier, sequence, timestamp and counting pattern', () => {
  const seen: Uint8Array[] = [];
  const opts: unknown[] = [];
  runFake(ping, ['ping', '-c', '1', '-t', '7', '10.0.0.2'], {
    net: lan((p, to, o) => {
      seen.push(p.slice());
      opts.push(o);
      return [{ afterNs: 1000, datagram: echoReply(to, A, p) }];
    }),
    wallStart: 1_700_000_000,
  });
  const p = seen[0]!;
  assert.equal(p.length, 64);
  assert.equal(p[0], 8);
  assert.equal((p[6]! << 8) | p[7]!, 1);
  assert.deepEqual([...p.slice(8, 12)], [0x00, 0xf1, 0x53, 0x65]); // 1700000000 little-endian
  assert.deepEqual([...p.slice(24, 28)], [0x10, 0x11, 0x12, 0x13]);
  assert.deepEqual(opts[0], { ttl: 7 });
});

test('ping: the mdev and rounding of differing round trips', () => {
  const delays = [1_234_567, 10_500_000, 150_000_000];
  const r = runFake(ping, ['ping', '-c', '3', '-i', '0.5', '-n', '10.0.0.2'], {
    net: lan((p, to, _o, n) => [{ afterNs: delays[n]!, datagram: echoReply(to, A, p, 63) }]),
  });
  assert.equal(
    r.out,
    'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n' +
      '64 bytes from 10.0.0.2: icmp_seq=1 ttl=63 time=1.23 ms\n' +
      '64 bytes from 10.0.0.2: icmp_seq=2 ttl=63 time=10.5 ms\n' +
      '64 bytes from 10.0.0.2: icmp_seq=3 ttl=63 time=150 ms\n' +
      '\n--- 10.0.0.2 ping statistics ---\n' +
      '3 packets transmitted, 3 received, 0% packet loss, time 1000ms\n' +
      'rtt min/avg/max/mdev = 1.234/53.911/150.000/68.050 ms\n',
  );
});

test('ping: Destination Host Unreachable from the sender after ARP fails, with pipe', () => {
  const r = runFake(ping, ['ping', '-c', '2', '-i', '0.2', '10.0.0.9'], {
    net: lan((p, to, _o, n) => [{ afterNs: 3_000_000_000 - n * 200_000_000, datagram: icmpError(A, A, to, 3, 1, p) }]),
  });
  assert.equal(
    r.both,
    'PING 10.0.0.9 (10.0.0.9) 56(84) bytes of data.\n' +
      'From 10.0.0.1 icmp_seq=1 Destination Host Unreachable\n' +
      'From 10.0.0.1 icmp_seq=2 Destination Host Unreachable\n' +
      '\n--- 10.0.0.9 ping statistics ---\n' +
      '2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 200ms\n' +
      'pipe 2\n',
  );
  assert.equal(r.status, 1);
});

test('ping: REJECT answers (host prohibited, net unreachable, port unreachable)', () => {
  for (const [code, text] of [
    [10, 'Destination Host Prohibited'],
    [0, 'Destination Net Unreachable'],
    [3, 'Destination Port Unreachable'],
  ] as const) {
    const r = runFake(ping, ['ping', '-c', '2', '-i', '0.2', '10.0.0.2'], {
      net: lan((p, to) => [{ afterNs: 40_000, datagram: icmpError(to, A, to, 3, code, p) }]),
    });
    assert.equal(
      r.both,
      'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n' +
        `From 10.0.0.2 icmp_seq=1 ${text}\n` +
        `From 10.0.0.2 icmp_seq=2 ${text}\n` +
        '\n--- 10.0.0.2 ping statistics ---\n' +
        '2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 200ms\n\n',
    );
    assert.equal(r.status, 1);
  }
});

test('ping: silence (DROP) waits the linger time; an OUTPUT drop looks the same', () => {
  for (const net of [lan(() => []), lan(() => 'EPERM')]) {
    const r = runFake(ping, ['ping', '-c', '2', '-i', '0.2', '10.0.0.2'], { net });
    assert.equal(
      r.both,
      'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n' +
        '\n--- 10.0.0.2 ping statistics ---\n' +
        '2 packets transmitted, 0 received, 100% packet loss, time 200ms\n\n',
    );
    assert.equal(r.status, 1);
    assert.equal(r.elapsedNs, 10_200_000_000);
  }
  const w = runFake(ping, ['ping', '-c', '2', '-i', '0.2', '-W', '0.5', '10.0.0.2'], { net: lan(() => []) });
  assert.equal(w.elapsedNs, 700_000_000);
});

test('ping: -w deadline keeps sending past -c and stops at the deadline', () => {
  const r = runFake(ping, ['ping', '-w', '1', '10.0.0.2'], { net: lan(() => []) });
  assert.equal(
    r.out,
    'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n' +
      '\n--- 10.0.0.2 ping statistics ---\n' +
      '1 packets transmitted, 0 received, 100% packet loss, time 0ms\n\n',
  );
  assert.equal(r.status, 1);
  const c = runFake(ping, ['ping', '-c', '2', '-i', '0.2', '-w', '3', '10.0.0.2'], { net: lan(() => []) });
  assert.match(c.out, /\n15 packets transmitted, 0 received, 100% packet loss, time 2800ms\n/);
  assert.equal(c.elapsedNs, 3e9);
});

test('ping: setup errors on stderr with status 2 or 1', () => {
  const cases: [string[], string, number][] = [
    [['ping', '-c', '2', 'nosuchhost'], 'ping: nosuchhost: Temporary failure in name resolution\n', 2],
    [['ping', '-c', '2', '192.168.5.5'], 'ping: connect: Network is unreachable\n', 2],
    [['ping', '-c', '1', '-I', 'nope', '10.0.0.2'], 'ping: SO_BINDTODEVICE nope: No such device\n', 2],
    [['ping'], 'ping: usage error: Destination address required\n', 1],
    [['ping', '-c', '0', '10.0.0.2'], "ping: invalid argument: '0': out of range: 1 <= value <= 9223372036854775807\n", 1],
    [['ping', '-c', 'x', '10.0.0.2'], "ping: invalid argument: 'x'\n", 1],
  ];
  for (const [argv, err, status] of cases) {
    const r = runFake(ping, argv, { net: replying, machine: { net: { links: [{ name: 'lo' }, { name: 'cl-a' }] } } });
    assert.equal(r.out, '');
    assert.equal(r.err, err, argv.join(' '));
    assert.equal(r.status, status);
  }
  const bad = runFake(ping, ['ping', '-x'], { net: replying });
  assert.ok(bad.err.startsWith("ping: invalid option -- 'x'\n\nUsage\n  ping [options] <destination>\n"));
  assert.ok(bad.err.endsWith('\nFor more details see ping(8).\n'));
  assert.equal(bad.status, 2);
});

test('ping: names from /etc/hosts, -n, -q, -s, -I', () => {
  const files = { '/etc/hosts': '127.0.0.1\tlocalhost\n10.0.0.2 server2 s2\n' };
  const machine = { net: { links: [{ name: 'lo' }, { name: 'cl-a' }] } };
  const named = runFake(ping, ['ping', '-c', '1', 's2'], { net: replying, files });
  assert.equal(
    named.out,
    'PING server2 (10.0.0.2) 56(84) bytes of data.\n' +
      '64 bytes from server2 (10.0.0.2): icmp_seq=1 ttl=64 time=0.050 ms\n' +
      '\n--- server2 ping statistics ---\n' +
      '1 packets transmitted, 1 received, 0% packet loss, time 0ms\n' +
      'rtt min/avg/max/mdev = 0.050/0.050/0.050/0.000 ms\n',
  );
  const n = runFake(ping, ['ping', '-c', '1', '-n', 's2'], { net: replying, files });
  assert.match(n.out, /^64 bytes from 10\.0\.0\.2: icmp_seq=1 /m);
  const q = runFake(ping, ['ping', '-c', '2', '-q', '-i', '0.2', '10.0.0.2'], { net: replying });
  assert.equal(
    q.out,
    'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n' +
      '\n--- 10.0.0.2 ping statistics ---\n' +
      '2 packets transmitted, 2 received, 0% packet loss, time 200ms\n' +
      'rtt min/avg/max/mdev = 0.050/0.050/0.050/0.000 ms\n',
  );
  const s = runFake(ping, ['ping', '-c', '1', '-s', '4', '10.0.0.2'], { net: replying });
  assert.equal(
    s.out,
    'PING 10.0.0.2 (10.0.0.2) 4(32) bytes of data.\n' +
      '12 bytes from 10.0.0.2: icmp_seq=1 ttl=64\n' +
      '\n--- 10.0.0.2 ping statistics ---\n' +
      '1 packets transmitted, 1 received, 0% packet loss, time 0ms\n\n',
  );
  const big = runFake(ping, ['ping', '-c', '1', '-s', '100', '10.0.0.2'], { net: replying });
  assert.match(big.out, /^PING 10\.0\.0\.2 \(10\.0\.0\.2\) 100\(128\) bytes of data\.\n108 bytes from 10\.0\.0\.2: icmp_seq=1 ttl=64 time=0\.050 ms\n/);
  const dev = runFake(ping, ['ping', '-c', '1', '-I', 'cl-a', '10.0.0.2'], { net: replying, machine });
  assert.match(dev.out, /^PING 10\.0\.0\.2 \(10\.0\.0\.2\) from 10\.0\.0\.1 cl-a: 56\(84\) bytes of data\.\n/);
  const src = runFake(ping, ['ping', '-c', '1', '-I', '10.0.0.1', '10.0.0.2'], { net: replying, machine });
  assert.match(src.out, /^PING 10\.0\.0\.2 \(10\.0\.0\.2\) from 10\.0\.0\.1 : 56\(84\) bytes of data\.\n/);
});

test('ping: without -c it stops as at Ctrl-C after four requests', () => {
  const r = runFake(ping, ['ping', '10.0.0.2'], { net: replying });
  assert.equal(
    r.out,
    'PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n' +
      '64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.050 ms\n' +
      '64 bytes from 10.0.0.2: icmp_seq=2 ttl=64 time=0.050 ms\n' +
      '64 bytes from 10.0.0.2: icmp_seq=3 ttl=64 time=0.050 ms\n' +
      '64 bytes from 10.0.0.2: icmp_seq=4 ttl=64 time=0.050 ms\n' +
      '^C\n--- 10.0.0.2 ping statistics ---\n' +
      '4 packets transmitted, 4 received, 0% packet loss, time 3000ms\n' +
      'rtt min/avg/max/mdev = 0.050/0.050/0.050/0.000 ms\n',
  );
  assert.equal(r.elapsedNs, 4e9);
});

test('ping: number formats of time= and the loss percentage', () => {
  assert.equal(formatTripTime(57), '0.057');
  assert.equal(formatTripTime(999), '0.999');
  assert.equal(formatTripTime(1000), '1.00');
  assert.equal(formatTripTime(9994), '9.99');
  assert.equal(formatTripTime(9995), '10.0');
  assert.equal(formatTripTime(99949), '99.9');
  assert.equal(formatTripTime(99950), '100');
  assert.equal(formatG(Math.fround(100 / 3)), '33.3333');
  assert.equal(formatG(Math.fround(200 / 3)), '66.6667');
  assert.equal(formatG(100), '100');
  assert.equal(formatG(25), '25');
  assert.equal(formatG(Math.fround(100 / 7)), '14.2857');
});
