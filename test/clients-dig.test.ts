/**
 * dig against a scripted DNS server; the expected text is what dig 9.18
 * printed here against a small server answering the same way, with the
 * lab's virtual query time and wall clock.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { dig } from '../src/core/programs/dig.js';
import { net10, runFake, type FakeNetwork } from './clients-fake.js';

/** Answers like the measuring server: aa, rd copied, an A record 10.0.0.2 for NOERROR, OPT udp 4096 when asked with one. */
function answer(q: Uint8Array, rcode: number): Uint8Array {
  let i = 12;
  while (q[i] !== 0) i += q[i]! + 1;
  const question = q.slice(12, i + 5);
  const hasOpt = q[11]! > 0;
  const flags = 0x8400 | ((q[2]! << 8) & 0x0100) | rcode;
  const out = [q[0]!, q[1]!, flags >> 8, flags & 255, 0, 1, 0, rcode === 0 ? 1 : 0, 0, 0, 0, hasOpt ? 1 : 0, ...question];
  if (rcode === 0) out.push(0xc0, 0x0c, 0, 1, 0, 1, 0, 1, 0x51, 0x80, 0, 4, 10, 0, 0, 2);
  if (hasOpt) out.push(0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0);
  return Uint8Array.from(out);
}

function dns(behaviour: 'answer' | 'nx' | 'refused' | 'closed' | 'drop'): FakeNetwork {
  return {
    route: (dst) => ((dst & 0xffffff00) === 0x0a000000 ? { src: net10(1) } : { errno: 'ENETUNREACH' }),
    onUdp: (q, to) => {
      if (behaviour === 'drop') return [];
      if (behaviour === 'closed') return [{ afterNs: 40_000, datagram: new Uint8Array(0) }];
      return [{ afterNs: 4_000_000, datagram: answer(q, behaviour === 'nx' ? 3 : behaviour === 'refused' ? 5 : 0), from: to }];
    },
  };
}
const wallStart = Date.UTC(2026, 10, 21, 7, 22, 33) / 1000;

test('dig: an answer in dig 9.18 format', () => {
  const r = runFake(dig, ['dig', '@10.0.0.2', 'example.com'], { net: dns('answer'), wallStart, seed: 7 });
  const id = /id: (\d+)/.exec(r.out)![1];
  assert.equal(
    r.out,
    '\n; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> @10.0.0.2 example.com\n' +
      '; (1 server found)\n' +
      ';; global options: +cmd\n' +
      ';; Got answer:\n' +
      `;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: ${id}\n` +
      ';; flags: qr aa rd; QUERY: 1, ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1\n' +
      ';; WARNING: recursion requested but not available\n' +
      '\n' +
      ';; OPT PSEUDOSECTION:\n' +
      '; EDNS: version: 0, flags:; udp: 4096\n' +
      ';; QUESTION SECTION:\n' +
      ';example.com.\t\t\tIN\tA\n' +
      '\n' +
      ';; ANSWER SECTION:\n' +
      'example.com.\t\t86400\tIN\tA\t10.0.0.2\n' +
      '\n' +
      ';; Query time: 4 msec\n' +
      ';; SERVER: 10.0.0.2#53(10.0.0.2) (UDP)\n' +
      ';; WHEN: Sat Nov 21 07:22:33 UTC 2026\n' +
      ';; MSG SIZE  rcvd: 56\n\n',
  );
  assert.equal(r.status, 0);
  const www = runFake(dig, ['dig', '@10.0.0.2', 'www.example.com', 'A'], { net: dns('answer'), wallStart });
  assert.match(www.out, /\n;www\.example\.com\.\t\tIN\tA\n\n;; ANSWER SECTION:\nwww\.example\.com\.\t86400\tIN\tA\t10\.0\.0\.2\n/);
  assert.match(www.out, /;; MSG SIZE {2}rcvd: 60\n\n$/);
  const noedns = runFake(dig, ['dig', '+noedns', '@10.0.0.2', 'example.com'], { net: dns('answer'), wallStart });
  assert.match(noedns.out, /ADDITIONAL: 0\n;; WARNING: recursion requested but not available\n\n;; QUESTION SECTION:\n/);
  assert.match(noedns.out, /rcvd: 45\n/);
  const short = runFake(dig, ['dig', '@10.0.0.2', 'example.com', '+short'], { net: dns('answer') });
  assert.equal(short.out, '10.0.0.2\n');
});

test('dig: NXDOMAIN and REFUSED are answers (status 0)', () => {
  const nx = runFake(dig, ['dig', '@10.0.0.2', 'nx.example.com'], { net: dns('nx'), wallStart });
  assert.match(nx.out, /status: NXDOMAIN, id: \d+\n;; flags: qr aa rd; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1\n/);
  assert.match(nx.out, /;; QUESTION SECTION:\n;nx\.example\.com\.\t\t\tIN\tA\n\n;; Query time: 4 msec\n/);
  assert.match(nx.out, /rcvd: 43\n\n$/);
  assert.equal(nx.status, 0);
  const nxs = runFake(dig, ['dig', '@10.0.0.2', 'nx.example.com', '+short'], { net: dns('nx') });
  assert.deepEqual([nxs.out, nxs.status], ['', 0]);
  const ref = runFake(dig, ['dig', '@10.0.0.2', 'example.com'], { net: dns('refused'), wallStart });
  assert.match(ref.out, /status: REFUSED/);
  assert.match(ref.out, /rcvd: 40\n\n$/);
});

test('dig: refused, timed out and unreachable servers', () => {
  const tail = '\n; <<>> DiG 9.18.49-1~deb12u3-Debian <<>> ARGS\n; (1 server found)\n;; global options: +cmd\n;; no servers could be reached\n';
  const closed = runFake(dig, ['dig', '@10.0.0.2', 'example.com'], { net: dns('closed') });
  assert.equal(closed.out, ';; communications error to 10.0.0.2#53: connection refused\n'.repeat(3) + tail.replace('ARGS', '@10.0.0.2 example.com'));
  assert.equal(closed.status, 9);
  const short = runFake(dig, ['dig', '@10.0.0.2', 'example.com', '+short'], { net: dns('closed') });
  assert.equal(short.out, ';; communications error to 10.0.0.2#53: connection refused\n'.repeat(3) + tail.replace('ARGS', '@10.0.0.2 example.com +short'));
  const drop = runFake(dig, ['dig', '@10.0.0.2', 'example.com'], { net: dns('drop') });
  assert.equal(drop.out, ';; communications error to 10.0.0.2#53: timed out\n'.repeat(3) + tail.replace('ARGS', '@10.0.0.2 example.com'));
  assert.equal(drop.elapsedNs, 15e9);
  const once = runFake(dig, ['dig', '@10.0.0.2', 'example.com', '+tries=1', '+timeout=1'], { net: dns('drop') });
  assert.equal(once.out, ';; communications error to 10.0.0.2#53: timed out\n' + tail.replace('ARGS', '@10.0.0.2 example.com +tries=1 +timeout=1'));
  assert.equal(once.elapsedNs, 1e9);
  const unreach = runFake(dig, ['dig', '@192.168.1.1', 'example.com'], { net: dns('answer') });
  assert.equal(unreach.out, ';; UDP setup with 192.168.1.1#53(192.168.1.1) for example.com failed: network unreachable.\n;; no servers could be reached\n'.repeat(3));
  assert.equal(unreach.status, 9);
});
