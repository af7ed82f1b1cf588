/**
 * traceroute and arp with scripted answers and tables; the expected text
 * follows what traceroute 2.1.2 and net-tools' arp printed here.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { traceroute } from '../src/core/programs/traceroute.js';
import { arp } from '../src/core/programs/arp.js';
import { icmpChecksum, ipDatagram, net10, runFake, type Delivery, type FakeNetwork } from './clients-fake.js';

const A = net10(1);
const ROUTER = net10(254);
const DST = 0x0a000102; // 10.0.1.2

/** An ICMP message from `from` quoting a UDP probe (header and 8 bytes). */
function icmpAbout(from: number, type: number, code: number, probe: Uint8Array): Uint8Array {
  const quoted = ipDatagram(A, DST, 17, 1, probe.slice(0, 8));
  const icmp = new Uint8Array(8 + quoted.length);
  icmp[0] = type;
  icmp[1] = code;
  icmp.set(quoted, 8);
  return ipDatagram(from, A, 1, 64, icmpChecksum(icmp));
}

/** A path of `hops` routers (the first is ROUTER, then 10.0.0.250 + n) to DST; `last` answers the probes that reach DST. */
function path(hops: number, last: (probe: Uint8Array) => Delivery[]): FakeNetwork {
  return {
    route: () => ({ src: A }),
    onRaw: (p, _to, o) => {
      const ttl = o?.ttl ?? 64;
      if (ttl <= hops) {
        const from = ttl === 1 ? ROUTER : net10(250 + ttl);
        return [{ afterNs: 100_000 * ttl, datagram: icmpAbout(from, 11, 0, p) }];
      }
      return last(p);
    },
  };
}

test('traceroute: routers, then the target answering with port unreachable', () => {
  const r = runFake(traceroute, ['traceroute', '10.0.1.2'], {
    net: path(1, (p) => [{ afterNs: 250_000, datagram: icmpAbout(DST, 3, 3, p) }]),
    files: { '/etc/hosts': '10.0.0.254 gw\n' },
  });
  assert.equal(
    r.out,
    'traceroute to 10.0.1.2 (10.0.1.2), 30 hops max, 60 byte packets\n' +
      ' 1  gw (10.0.0.254)  0.100 ms  0.100 ms  0.100 ms\n' +
      ' 2  10.0.1.2 (10.0.1.2)  0.250 ms  0.250 ms  0.250 ms\n',
  );
  assert.equal(r.status, 0);
});

test('traceroute: silence prints stars, -m ends it, -w sets the wait', () => {
  const r = runFake(traceroute, ['traceroute', '-n', '-m', '3', '-w', '1', '10.0.1.2'], { net: path(1, () => []) });
  assert.equal(r.out, 'traceroute to 10.0.1.2 (10.0.1.2), 3 hops max, 60 byte packets\n 1  10.0.0.254  0.100 ms  0.100 ms  0.100 ms\n 2  * * *\n 3  * * *\n');
  // the silent probes give up 10 times the round trip of an answered later hop, or after -w
  assert.ok(r.elapsedNs <= 1e9);
});

test('traceroute: unreachable marks end the trace at their hop', () => {
  for (const [code, mark] of [
    [13, '!X'],
    [1, '!H'],
    [0, '!N'],
    [10, '!X'],
    [2, '!P'],
  ] as const) {
    const r = runFake(traceroute, ['traceroute', '-n', '-q', '2', '10.0.1.2'], { net: path(1, (p) => [{ afterNs: 300_000, datagram: icmpAbout(ROUTER, 3, code, p) }]) });
    assert.equal(r.out, `traceroute to 10.0.1.2 (10.0.1.2), 30 hops max, 60 byte packets\n 1  10.0.0.254  0.100 ms  0.100 ms\n 2  10.0.0.254  0.300 ms ${mark}  0.300 ms ${mark}\n`);
  }
});

test('traceroute: the probes are UDP to 33434 and up with growing TTL and the @ABC pattern', () => {
  const seen: { port: number; ttl: number; len: number; data: number }[] = [];
  runFake(traceroute, ['traceroute', '-n', '-q', '1', '-m', '2', '10.0.1.2'], {
    net: {
      route: () => ({ src: A }),
      onRaw: (p, _to, o) => {
        seen.push({ port: (p[2]! << 8) | p[3]!, ttl: o!.ttl!, len: p.length, data: p[8]! });
        return [];
      },
    },
  });
  assert.deepEqual(seen, [
    { port: 33434, ttl: 1, len: 40, data: 0x40 },
    { port: 33435, ttl: 2, len: 40, data: 0x40 },
  ]);
});

test('traceroute: usage, bad options and unknown names', () => {
  const none = runFake(traceroute, ['traceroute'], { net: path(0, () => []) });
  assert.ok(none.err.startsWith('Usage:\n  traceroute [ -46dFITnreAUDV ]'));
  assert.equal(none.status, 0);
  const bad = runFake(traceroute, ['traceroute', '-x', '10.0.0.2'], { net: path(0, () => []) });
  assert.deepEqual([bad.err, bad.status], ["Bad option `-x' (argc 1)\n", 2]);
  const name = runFake(traceroute, ['traceroute', 'nosuch'], { net: path(0, () => []) });
  assert.deepEqual([name.err, name.status], ["nosuch: Temporary failure in name resolution\nCannot handle \"host\" cmdline arg `nosuch' on position 1 (argc 1)\n", 2]);
});

const machine = {
  net: {
    links: [
      { index: 1, name: 'lo' },
      { index: 2, name: 'eth0' },
      { index: 3, name: 'eth1' },
    ],
    neigh: [
      { dev: 1, ip: 0, mac: '00:00:00:00:00:00', state: 'noarp' },
      { dev: 2, ip: 0x0a000009, state: 'incomplete' },
      { dev: 2, ip: 0x0a000002, mac: 'e6:0e:ef:de:a4:d5', state: 'reachable' },
      { dev: 2, ip: 0x0a000007, mac: '02:00:00:00:00:07', state: 'permanent' },
      { dev: 3, ip: 0x0a000105, state: 'failed' },
      { dev: 3, ip: 0x0a000106, mac: '02:00:00:00:01:06', state: 'stale' },
    ],
  },
};

test('arp: the Linux-style table, names from /etc/hosts unless -n', () => {
  const files = { '/etc/hosts': '10.0.0.2 server2 s2\n' };
  const r = runFake(arp, ['arp'], { net: path(0, () => []), machine, files });
  assert.equal(
    r.out,
    'Address                  HWtype  HWaddress           Flags Mask            Iface\n' +
      '10.0.0.9                         (incomplete)                              eth0\n' +
      'server2                  ether   e6:0e:ef:de:a4:d5   C                     eth0\n' +
      '10.0.0.7                 ether   02:00:00:00:00:07   CM                    eth0\n' +
      '10.0.1.5                         (incomplete)                              eth1\n' +
      '10.0.1.6                 ether   02:00:00:00:01:06   C                     eth1\n',
  );
  const n = runFake(arp, ['arp', '-n', '-i', 'eth1'], { net: path(0, () => []), machine, files });
  assert.equal(
    n.out,
    'Address                  HWtype  HWaddress           Flags Mask            Iface\n' +
      '10.0.1.5                         (incomplete)                              eth1\n' +
      '10.0.1.6                 ether   02:00:00:00:01:06   C                     eth1\n',
  );
});

test('arp -a: the BSD style; filters that match nothing', () => {
  const files = { '/etc/hosts': '10.0.0.2 server2 s2\n' };
  const a = runFake(arp, ['arp', '-a', '-i', 'eth0'], { net: path(0, () => []), machine, files });
  assert.equal(
    a.out,
    '? (10.0.0.9) at <incomplete> on eth0\n' + 'server2 (10.0.0.2) at e6:0e:ef:de:a4:d5 [ether] on eth0\n' + '? (10.0.0.7) at 02:00:00:00:00:07 [ether] PERM on eth0\n',
  );
  const lo = runFake(arp, ['arp', '-i', 'lo'], { net: path(0, () => []), machine });
  assert.equal(lo.out, 'arp: in 5 entries no match found.\n');
  const none = runFake(arp, ['arp', '-n', '10.0.0.77'], { net: path(0, () => []), machine });
  assert.equal(none.out, '10.0.0.77 (10.0.0.77) -- no entry\n');
  const one = runFake(arp, ['arp', '-n', '10.0.0.2'], { net: path(0, () => []), machine });
  assert.equal(one.out, 'Address                  HWtype  HWaddress           Flags Mask            Iface\n10.0.0.2                 ether   e6:0e:ef:de:a4:d5   C                     eth0\n');
});
