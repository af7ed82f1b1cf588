/**
 * nc against a scripted network; the expected lines are what
 * netcat-openbsd 1.219 printed in a namespace pair here for the same
 * outcomes.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { nc } from '../src/core/programs/nc.js';
import { net10, runFake, type FakeNetwork, type TcpScript } from './clients-fake.js';

const A = net10(1);

function net(tcp: (addr: number, port: number) => TcpScript, extra: Partial<FakeNetwork> = {}): FakeNetwork {
  return {
    route: (dst) => ((dst & 0xffffff00) === 0x0a000000 ? { src: A } : { errno: 'ENETUNREACH' }),
    tcp,
    ...extra,
  };
}

const only22 = net((_a, port) => (port === 22 ? { kind: 'accept', afterNs: 20_000 } : { kind: 'fail', afterNs: 20_000, errno: 'ECONNREFUSED' }));
const files = { '/etc/hosts': '127.0.0.1\tlocalhost\n10.0.0.2 server2 s2\n' };

test('nc -z: successes on stderr with -v, refusals, ranges, names and -n', () => {
  const cases: [string[], string, number][] = [
    [['nc', '-zv', '10.0.0.2', '22'], 'Connection to 10.0.0.2 22 port [tcp/ssh] succeeded!\n', 0],
    [['nc', '-zvn', '10.0.0.2', '22'], 'Connection to 10.0.0.2 22 port [tcp/*] succeeded!\n', 0],
    [['nc', '-zv', '10.0.0.2', 'ssh'], 'Connection to 10.0.0.2 22 port [tcp/ssh] succeeded!\n', 0],
    [['nc', '-zv', 's2', '22'], 'Connection to s2 (10.0.0.2) 22 port [tcp/ssh] succeeded!\n', 0],
    [['nc', '-z', '10.0.0.2', '22'], '', 0],
    [['nc', '-z', '10.0.0.2', '23'], '', 1],
    [
      ['nc', '-zv', '10.0.0.2', '20-23'],
      'nc: connect to 10.0.0.2 port 20 (tcp) failed: Connection refused\n' +
        'nc: connect to 10.0.0.2 port 21 (tcp) failed: Connection refused\n' +
        'Connection to 10.0.0.2 22 port [tcp/ssh] succeeded!\n' +
        'nc: connect to 10.0.0.2 port 23 (tcp) failed: Connection refused\n',
      0,
    ],
    [
      ['nc', '-zv', '10.0.0.2', '25-23'],
      'nc: connect to 10.0.0.2 port 23 (tcp) failed: Connection refused\n' +
        'nc: connect to 10.0.0.2 port 24 (tcp) failed: Connection refused\n' +
        'nc: connect to 10.0.0.2 port 25 (tcp) failed: Connection refused\n',
      1,
    ],
    [['nc', '-zv', '192.168.1.1', '22'], 'nc: connect to 192.168.1.1 port 22 (tcp) failed: Network is unreachable\n', 1],
    [['nc', '-zv', 'nosuch', '22'], 'nc: getaddrinfo for host "nosuch" port 22: Temporary failure in name resolution\n', 1],
    [['nc', '-zv', 's2', '23'], 'nc: connect to s2 (10.0.0.2) port 23 (tcp) failed: Connection refused\n', 1],
    [['nc', '-zvn', 's2', '22'], 'nc: getaddrinfo for host "s2" port 22: Name or service not known\n', 1],
    [['nc', '10.0.0.2'], 'nc: missing port number\n', 1],
    [['nc', '-z', '10.0.0.2', '70000'], 'nc: port number too large: 70000\n', 1],
    [['nc', '-z', '10.0.0.2', '0'], 'nc: port number too small: 0\n', 1],
    [['nc', '-z', '10.0.0.2', 'foo'], 'nc: port number invalid: foo\n', 1],
  ];
  for (const [argv, err, status] of cases) {
    const r = runFake(nc, argv, { net: only22, files });
    assert.equal(r.out, '', argv.join(' '));
    assert.equal(r.err, err, argv.join(' '));
    assert.equal(r.status, status, argv.join(' '));
  }
});

test('nc: errors of the connect as strerror words, and the -w timeout', () => {
  for (const [errno, text] of [
    ['EHOSTUNREACH', 'No route to host'],
    ['ENETUNREACH', 'Network is unreachable'],
    ['ETIMEDOUT', 'Connection timed out'],
  ] as const) {
    const r = runFake(nc, ['nc', '-zv', '10.0.0.2', '22'], { net: net(() => ({ kind: 'fail', afterNs: 1000, errno })) });
    assert.equal(r.err, `nc: connect to 10.0.0.2 port 22 (tcp) failed: ${text}\n`);
    assert.equal(r.status, 1);
  }
  const w = runFake(nc, ['nc', '-zv', '-w', '2', '10.0.0.2', '22'], { net: net(() => ({ kind: 'silent' })) });
  assert.equal(w.err, 'nc: connect to 10.0.0.2 port 22 (tcp) timed out: Operation now in progress\n');
  assert.equal(w.status, 1);
  assert.equal(w.elapsedNs, 2e9);
});

test('nc: usage on stderr for a bad option and no operands', () => {
  const usage =
    'usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n' +
    '\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n' +
    '\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n' +
    '\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n' +
    '\t  [destination] [port]\n';
  const none = runFake(nc, ['nc'], { net: only22 });
  assert.equal(none.err, usage);
  assert.equal(none.status, 1);
  const x = runFake(nc, ['nc', '-x'], { net: only22 });
  assert.equal(x.err, "nc: option requires an argument -- 'x'\n" + usage);
});

test('nc: a banner is printed, standard input is sent, the session ends when the peer closes', () => {
  let got = '';
  const r = runFake(nc, ['nc', '-N', '10.0.0.2', '22'], {
    stdin: 'hello\n',
    net: net(() => ({
      kind: 'accept',
      afterNs: 20_000,
      banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n',
      respond: (req) => ((got = req), ''),
      closeAfterResponse: true,
    })),
  });
  assert.equal(got, 'hello\n');
  assert.equal(r.out, 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
  assert.equal(r.err, '');
  assert.equal(r.status, 0);
});

test('nc: with -w the session ends after that much silence; without, nflab ends it as Ctrl-C', () => {
  const quiet = net(() => ({ kind: 'accept', afterNs: 20_000, banner: 'hi\n' }));
  const w = runFake(nc, ['nc', '-w', '1', '10.0.0.2', '22'], { net: quiet });
  assert.equal(w.out, 'hi\n');
  assert.equal(w.status, 0);
  assert.equal(w.elapsedNs, 1_000_020_000);
  const c = runFake(nc, ['nc', '10.0.0.2', '22'], { net: quiet });
  assert.equal(c.out, 'hi\n^C\n');
  assert.equal(c.status, 130);
});

test('nc -u -z: silent without -v; with -v three seconds of X probes, silence on a refusal', () => {
  const udp = (open: boolean): FakeNetwork =>
    net(() => ({ kind: 'silent' }), {
      onUdp: (_d, to) => (open || to.port === 53 ? [] : [{ afterNs: 30_000, datagram: new Uint8Array(0) }]),
    });
  const q = runFake(nc, ['nc', '-zu', '10.0.0.2', '54'], { net: udp(false) });
  assert.deepEqual([q.err, q.status, q.elapsedNs], ['', 0, 0]);
  const open = runFake(nc, ['nc', '-zvu', '10.0.0.2', '53'], { net: udp(false) });
  assert.deepEqual([open.err, open.status, open.elapsedNs], ['Connection to 10.0.0.2 53 port [udp/domain] succeeded!\n', 0, 3e9]);
  const w = runFake(nc, ['nc', '-zvu', '-w', '1', '10.0.0.2', '53'], { net: udp(false) });
  assert.equal(w.elapsedNs, 1e9);
  const closed = runFake(nc, ['nc', '-zvu', '10.0.0.2', '54'], { net: udp(false) });
  assert.deepEqual([closed.err, closed.status], ['', 1]);
  const range = runFake(nc, ['nc', '-zvu', '10.0.0.2', '52-54'], { net: udp(false) });
  assert.deepEqual([range.err, range.status], ['Connection to 10.0.0.2 53 port [udp/domain] succeeded!\n', 1]);
});
