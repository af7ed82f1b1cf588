/**
 * ssh's connection outcomes against a scripted network; the expected
 * messages are what OpenSSH 9.2's client printed here for the same ones.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { ssh } from '../src/core/programs/ssh.js';
import { net10, runFake, type FakeNetwork, type TcpScript } from './clients-fake.js';

function net(tcp: (addr: number, port: number) => TcpScript): FakeNetwork {
  return { route: (dst) => ((dst & 0xffffff00) === 0x0a000000 ? { src: net10(1) } : { errno: 'ENETUNREACH' }), tcp };
}
const files = { '/etc/hosts': '127.0.0.1\tlocalhost\n10.0.0.2 server1\n' };

test('ssh: refused, no route, unreachable network, unknown name', () => {
  const cases: [string[], TcpScript, string][] = [
    [['ssh', '-o', 'BatchMode=yes', '10.0.0.2', 'true'], { kind: 'fail', afterNs: 1e4, errno: 'ECONNREFUSED' }, 'ssh: connect to host 10.0.0.2 port 22: Connection refused\r\n'],
    [['ssh', '-i', '.ssh/key.pem', 'user@server1'], { kind: 'fail', afterNs: 1e4, errno: 'ECONNREFUSED' }, 'ssh: connect to host server1 port 22: Connection refused\r\n'],
    [['ssh', '-p', '2222', '10.0.0.2'], { kind: 'fail', afterNs: 1e4, errno: 'ECONNREFUSED' }, 'ssh: connect to host 10.0.0.2 port 2222: Connection refused\r\n'],
    [['ssh', '10.0.0.2'], { kind: 'fail', afterNs: 1e4, errno: 'EHOSTUNREACH' }, 'ssh: connect to host 10.0.0.2 port 22: No route to host\r\n'],
    [['ssh', '192.168.1.1'], { kind: 'silent' }, 'ssh: connect to host 192.168.1.1 port 22: Network is unreachable\r\n'],
    [['ssh', 'nosuch'], { kind: 'silent' }, 'ssh: Could not resolve hostname nosuch: Temporary failure in name resolution\r\n'],
    [['ssh', '10.0.0.2'], { kind: 'silent', giveUpNs: 127e9 }, 'ssh: connect to host 10.0.0.2 port 22: Connection timed out\r\n'],
  ];
  for (const [argv, script, err] of cases) {
    const r = runFake(ssh, argv, { net: net(() => script), files });
    assert.equal(r.out, '');
    assert.equal(r.err, err, argv.join(' '));
    assert.equal(r.status, 255);
  }
});

test('ssh: ConnectTimeout ends a silent connect; stdin given and no command warns about the terminal', () => {
  const r = runFake(ssh, ['ssh', '-o', 'ConnectTimeout=2', '10.0.0.2'], { net: net(() => ({ kind: 'silent' })), stdin: 'x\n' });
  assert.equal(
    r.err,
    'Pseudo-terminal will not be allocated because stdin is not a terminal.\r\n' + 'ssh: connect to host 10.0.0.2 port 22: Connection timed out\r\n',
  );
  assert.equal(r.elapsedNs, 2e9);
});

test('ssh: a server that speaks SSH ends at host key verification; one that closes at the identification', () => {
  let sent = '';
  const ok = runFake(ssh, ['ssh', '-o', 'BatchMode=yes', '10.0.0.2', 'true'], {
    net: net(() => ({ kind: 'accept', afterNs: 1e4, banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n', respond: (q) => ((sent = q), null) })),
  });
  assert.equal(ok.err, 'Host key verification failed.\r\n');
  assert.equal(ok.status, 255);
  assert.equal(sent, 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
  const closed = runFake(ssh, ['ssh', '-p', '2222', '10.0.0.2', 'true'], {
    net: net(() => ({ kind: 'accept', afterNs: 1e4, respond: () => '\n', closeAfterResponse: true })),
  });
  assert.equal(closed.err, 'kex_exchange_identification: Connection closed by remote host\r\nConnection closed by 10.0.0.2 port 2222\r\n');
  assert.equal(closed.status, 255);
});

test('ssh: options after the destination, the command after them', () => {
  const r = runFake(ssh, ['ssh', '10.0.0.2', '-p', '2222', 'ls', '-l'], { net: net(() => ({ kind: 'fail', afterNs: 1e4, errno: 'ECONNREFUSED' })) });
  assert.equal(r.err, 'ssh: connect to host 10.0.0.2 port 2222: Connection refused\r\n');
});
