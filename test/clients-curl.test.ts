/**
 * curl against a scripted network and server; the expected text is what
 * curl 7.88.1 printed here for the same outcomes (stdout a terminal: no
 * progress meter), with virtual times in the "after N ms" figures.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { curl } from '../src/core/programs/curl.js';
import { net10, runFake, type FakeNetwork, type TcpScript } from './clients-fake.js';

function net(tcp: (addr: number, port: number) => TcpScript): FakeNetwork {
  return { route: (dst) => ((dst & 0xffffff00) === 0x0a000000 ? { src: net10(1) } : { errno: 'ENETUNREACH' }), tcp };
}
const http11 =
  'HTTP/1.1 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.7\r\nDate: Sat, 21 Nov 2026 07:21:01 GMT\r\nContent-type: text/html\r\nContent-Length: 15\r\n\r\n<h1>hello</h1>\n';
const http10 = http11.replace('HTTP/1.1', 'HTTP/1.0');
let lastRequest = '';
const server = (reply: string, close = false): FakeNetwork =>
  net(() => ({ kind: 'accept', afterNs: 1e5, respond: (q) => (q.endsWith('\r\n\r\n') ? ((lastRequest = q), reply) : null), closeAfterResponse: close }));

test('curl: the body on stdout; -v traces the request and response on stderr', () => {
  const r = runFake(curl, ['curl', '-v', 'http://10.0.0.2/'], { net: server(http11) });
  assert.equal(r.out, '<h1>hello</h1>\n');
  assert.equal(
    r.err,
    '*   Trying 10.0.0.2:80...\n' +
      '* Connected to 10.0.0.2 (10.0.0.2) port 80 (#0)\n' +
      '> GET / HTTP/1.1\r\n> Host: 10.0.0.2\r\n> User-Agent: curl/7.88.1\r\n> Accept: */*\r\n> \r\n' +
      '< HTTP/1.1 200 OK\r\n< Server: SimpleHTTP/0.6 Python/3.11.7\r\n< Date: Sat, 21 Nov 2026 07:21:01 GMT\r\n< Content-type: text/html\r\n< Content-Length: 15\r\n< \r\n' +
      '* Connection #0 to host 10.0.0.2 left intact\n',
  );
  assert.equal(r.status, 0);
  assert.equal(lastRequest, 'GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n');
  const old = runFake(curl, ['curl', '-sv', 'http://10.0.0.2/'], { net: server(http10, true) });
  assert.match(old.err, /> \r\n\* HTTP 1\.0, assume close after body\n< HTTP\/1\.0 200 OK\r\n/);
  assert.ok(old.err.endsWith('< \r\n* Closing connection 0\n'));
});

test('curl -I prints the headers; a port in the URL goes into Host', () => {
  const r = runFake(curl, ['curl', '-I', 'http://10.0.0.2:8080/'], { net: server(http11.replace('\r\n\r\n<h1>hello</h1>\n', '\r\n\r\n')) });
  assert.equal(r.out, 'HTTP/1.1 200 OK\r\nServer: SimpleHTTP/0.6 Python/3.11.7\r\nDate: Sat, 21 Nov 2026 07:21:01 GMT\r\nContent-type: text/html\r\nContent-Length: 15\r\n\r\n');
  assert.equal(lastRequest, 'HEAD / HTTP/1.1\r\nHost: 10.0.0.2:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n');
});

test('curl: connection errors, timeouts and their exit codes', () => {
  const cases: [string[], TcpScript, string, string, number][] = [
    [['curl', 'http://10.0.0.2/'], { kind: 'fail', afterNs: 1e5, errno: 'ECONNREFUSED' }, '', "curl: (7) Failed to connect to 10.0.0.2 port 80 after 0 ms: Couldn't connect to server\n", 7],
    [['curl', '-s', 'http://10.0.0.2/'], { kind: 'fail', afterNs: 1e5, errno: 'ECONNREFUSED' }, '', '', 7],
    [['curl', '-sS', '10.0.0.2:8080'], { kind: 'fail', afterNs: 1e5, errno: 'EHOSTUNREACH' }, '', "curl: (7) Failed to connect to 10.0.0.2 port 8080 after 0 ms: Couldn't connect to server\n", 7],
    [['curl', 'http://192.168.1.1/'], { kind: 'silent' }, '', "curl: (7) Failed to connect to 192.168.1.1 port 80 after 0 ms: Couldn't connect to server\n", 7],
    [['curl', 'http://nosuch/'], { kind: 'silent' }, '', 'curl: (6) Could not resolve host: nosuch\n', 6],
    [['curl', '--connect-timeout', '2', 'http://10.0.0.2/'], { kind: 'silent' }, '', 'curl: (28) Failed to connect to 10.0.0.2 port 80 after 2000 ms: Timeout was reached\n', 28],
    [['curl', '-m', '2', 'http://10.0.0.2/'], { kind: 'silent' }, '', 'curl: (28) Connection timed out after 2000 milliseconds\n', 28],
    [['curl', '-sS', 'http://10.0.0.2/'], { kind: 'silent', giveUpNs: 3_063_000_000 }, '', "curl: (28) Failed to connect to 10.0.0.2 port 80 after 3063 ms: Couldn't connect to server\n", 28],
    [['curl', '-sS', 'htp://10.0.0.2/'], { kind: 'silent' }, '', 'curl: (1) Protocol "htp" not supported or disabled in libcurl\n', 1],
  ];
  for (const [argv, script, out, err, status] of cases) {
    const r = runFake(curl, argv, { net: net(() => script) });
    assert.equal(r.out, out, argv.join(' '));
    assert.equal(r.err, err, argv.join(' '));
    assert.equal(r.status, status, argv.join(' '));
  }
});

test('curl -v on failures: the trace lines before the error', () => {
  const refused = runFake(curl, ['curl', '-v', 'http://10.0.0.2/'], { net: net(() => ({ kind: 'fail', afterNs: 1e5, errno: 'ECONNREFUSED' })) });
  assert.equal(
    refused.err,
    '*   Trying 10.0.0.2:80...\n' +
      '* connect to 10.0.0.2 port 80 failed: Connection refused\n' +
      "* Failed to connect to 10.0.0.2 port 80 after 0 ms: Couldn't connect to server\n" +
      '* Closing connection 0\n' +
      "curl: (7) Failed to connect to 10.0.0.2 port 80 after 0 ms: Couldn't connect to server\n",
  );
  const slow = runFake(curl, ['curl', '-sSv', '--connect-timeout', '1', 'http://10.0.0.2/'], { net: net(() => ({ kind: 'silent' })) });
  assert.equal(
    slow.err,
    '*   Trying 10.0.0.2:80...\n' +
      '* ipv4 connect timeout after 1000ms, move on!\n' +
      '* Failed to connect to 10.0.0.2 port 80 after 1000 ms: Timeout was reached\n' +
      '* Closing connection 0\n' +
      'curl: (28) Failed to connect to 10.0.0.2 port 80 after 1000 ms: Timeout was reached\n',
  );
  const m = runFake(curl, ['curl', '-v', '-m', '1', 'http://10.0.0.2/'], { net: net(() => ({ kind: 'silent' })) });
  assert.equal(m.err, '*   Trying 10.0.0.2:80...\n* Connection timed out after 1000 milliseconds\n* Closing connection 0\ncurl: (28) Connection timed out after 1000 milliseconds\n');
});

test('curl: no URL, empty reply, -f, -o and -w', () => {
  const none = runFake(curl, ['curl'], { net: server(http11) });
  assert.equal(none.err, "curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information\n");
  assert.equal(none.status, 2);
  const empty = runFake(curl, ['curl', 'http://10.0.0.2/'], { net: server('', true) });
  assert.equal(empty.err, 'curl: (52) Empty reply from server\n');
  assert.equal(empty.status, 52);
  const nf = runFake(curl, ['curl', '-sf', 'http://10.0.0.2/x'], { net: server('HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno\n') });
  assert.deepEqual([nf.out, nf.err, nf.status], ['', '', 22]);
  const w = runFake(curl, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}\\n', 'http://10.0.0.2/'], { net: server(http11) });
  assert.equal(w.out, '200\n');
});
