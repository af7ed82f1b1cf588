/**
 * Services of the lab: `ss` against the real iproute2 6.1 on real sockets
 * in a network namespace, the daemons' protocol greetings and answers, and
 * the systemctl/service units that start and stop them.
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseIPv4Numeric } from '../src/core/addr/ipv4.js';
import type { SocketInfo, TcpState } from '../src/core/stack/api.js';
import { formatSs, parseSsArgs, ssNames } from '../src/core/programs/ss.js';
import { guardKernel } from './diff/suite.js';
import { runNflab } from '../src/cli/main.js';
import { loadWorld } from '../src/cli/lab/store.js';
import { World } from '../src/core/world/world.js';
import { createSocketLayer } from '../src/core/stack/index.js';
import type { HostFs, Program } from '../src/core/programs/api.js';
import { DAEMON_PROGRAMS } from '../src/core/programs/daemons/index.js';
import { sshd } from '../src/core/programs/daemons/sshd.js';
import { bytesOf, secondsNs, textOf } from '../src/core/programs/daemons/serve.js';

const NS_PREFIX = process.env['NFLAB_NETNS_PREFIX'] ?? 'nflabt-';
const TOOL_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', HOME: '/root' };

/** The ss of the reference machine. */
const SS_VERSION = 'ss utility, iproute2-6.1.0\n';

/** Runs a shell script in a fresh namespace (lo up); the namespace is deleted afterwards. */
function inNetns(script: string): string {
  const name = `${NS_PREFIX}svc${process.pid}`;
  spawnSync('ip', ['netns', 'add', name], { env: TOOL_ENV });
  try {
    const r = spawnSync('ip', ['netns', 'exec', name, 'sh', '-c', `ip link set lo up\n${script}`], {
      env: TOOL_ENV,
      encoding: 'utf8',
      timeout: 30_000,
    });
    return r.stdout;
  } finally {
    spawnSync('ip', ['netns', 'del', name], { env: TOOL_ENV });
  }
}

/** The sockets a real `ss -Htuwanp` line describes (port numbers for raw sockets are the protocol). */
function parseSsLine(line: string): SocketInfo {
  const f = line.trim().split(/\s+/);
  const addr = (s: string) => {
    const i = s.lastIndexOf(':');
    return { addr: parseIPv4Numeric(s.slice(0, i))!, port: s.slice(i + 1) === '*' ? 0 : Number(s.slice(i + 1)) };
  };
  const info: SocketInfo = {
    proto: f[0] as SocketInfo['proto'],
    state: f[1] as TcpState | 'UNCONN',
    recvQ: Number(f[2]),
    sendQ: Number(f[3]),
    local: addr(f[4]!),
    remote: addr(f[5]!),
  };
  const m = /users:\(\("([^"]+)",pid=(\d+),fd=(\d+)\)\)/.exec(line);
  if (m) info.process = { name: m[1]!, pid: Number(m[2]), fd: Number(m[3]) } as SocketInfo['process'];
  return info;
}

/** Option sets compared with the real ss (stdout and stderr). */
const SS_OPTIONS = [
  '-t',
  '-u',
  '-w',
  '-tn',
  '-tan',
  '-tanp',
  '-ant4p',
  '-ua',
  '-uan',
  '-wa',
  '-wan',
  '-l',
  '-ln',
  '-a',
  '-an',
  '-lp',
  '-lt',
  '-lnt',
  '-lntu',
  '-lntup',
  '-lnup',
  '-tua',
  '-tuan',
  '-tuanp',
  '-4',
  '-4n',
  '-l4n',
  '-lntuH',
  '-tanpH',
  '-p',
  '',
  '-n',
  '-x',
  '-xa',
  '-tx',
  '-tux',
  '-t4',
  '-u4',
  '-w4',
  '-6',
  '-t6',
];

describe('ss (iproute2 6.1)', () => {
  const skip = guardKernel('ss against iproute2 6.1');
  it('prints what the real ss prints for the same sockets, for every option set', skip === undefined ? {} : { skip }, () => {
    assert.equal(spawnSync('ss', ['-V'], { env: TOOL_ENV, encoding: 'utf8' }).stdout, SS_VERSION);
    const dir = mkdtempSync(join(tmpdir(), 'nflab-ss-'));
    try {
      const py = join(dir, 'socks.py');
      writeFileSync(
        py,
        [
          'import socket, time',
          'L = []',
          'def tl(addr, port, backlog):',
          '    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((addr, port)); s.listen(backlog); L.append(s); return s',
          'a = tl("0.0.0.0", 22, 128)',
          'tl("10.9.0.1", 80, 511)',
          'tl("127.0.0.1", 3306, 80)',
          'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 123)); L.append(u)',
          'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 53)); L.append(u)',
          'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("10.9.0.1", 40000)); u.connect(("10.9.0.1", 53)); L.append(u)',
          'L.append(socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))',
          'c = socket.socket(); c.connect(("127.0.0.1", 22)); s2, _ = a.accept(); c.send(b"hello"); L += [c, s2]',
          'c = socket.socket(); c.connect(("10.9.0.1", 80)); L.append(c)',
          '# a closed connection: TIME-WAIT on the side that closed first',
          'c = socket.socket(); c.connect(("127.0.0.1", 22)); s3, _ = a.accept(); c.close(); time.sleep(0.1); s3.close()',
          '# half closed: FIN-WAIT-2 and CLOSE-WAIT',
          'c = socket.socket(); c.connect(("127.0.0.1", 3306)); L.append(c)',
          'b = [x for x in L if x.getsockname()[1] == 3306 and x.type == socket.SOCK_STREAM][0]',
          's4, _ = b.accept(); L.append(s4); c.shutdown(socket.SHUT_WR)',
          '# a connection nobody answers: SYN-SENT',
          'c = socket.socket(); c.setblocking(False); L.append(c)',
          'try:\n    c.connect(("10.9.0.77", 8080))\nexcept BlockingIOError:\n    pass',
          'open(__file__ + ".ready", "w").close()',
          'time.sleep(5)',
          '',
        ].join('\n'),
      );
      const marks = SS_OPTIONS.map((o) => `echo "@@ ${o}"; ss ${o} 2>&1`).join('; ');
      const out = inNetns(
        `ip link add va type veth peer name vb; ip addr add 10.9.0.1/24 dev va; ip link set va up; ip link set vb up
nc -l 2222 & NC=$!
/usr/bin/python3 ${py} & PY=$!
while [ ! -e ${py}.ready ]; do sleep 0.1; done
echo "@@ list"; ss -Htuwanp; ${marks}
kill $NC $PY; wait`,
      );
      const parts = new Map<string, string>();
      for (const chunk of out.split(/^@@ /m).slice(1)) {
        const nl = chunk.indexOf('\n');
        parts.set(chunk.slice(0, nl), chunk.slice(nl + 1));
      }
      const list = parts
        .get('list')!
        .split('\n')
        .filter((l) => l !== '')
        .map(parseSsLine);
      assert.equal(list.length, 16, parts.get('list'));
      for (const o of SS_OPTIONS) {
        const opts = parseSsArgs(o === '' ? [] : [o]);
        assert.ok(!('error' in opts));
        let real = parts.get(o)!;
        // ss's own diag socket: its pid, and its place beside the kernel's (hash order, either way round)
        const pid = Number(/tcpdiag:ss\/(\d+)|\b4:([1-9]\d*) /.exec(real)?.slice(1).find((x) => x !== undefined) ?? 0);
        real = real.replace(/^(nl +UNCONN +4352 .*\n)(nl +UNCONN +832 .*\n)/m, '$2$1');
        const err = opts.dccp ? 'RTNETLINK answers: Invalid argument\n' : '';
        assert.equal(err + formatSs(list, opts, ssNames(), pid), real, `ss ${o}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lays out listening sockets as ss -lntu does', () => {
    const opts = parseSsArgs(['-lntu']);
    assert.ok(!('error' in opts));
    const any = { addr: 0, port: 0 };
    const socks: SocketInfo[] = [
      { proto: 'tcp', state: 'LISTEN', local: { addr: 0, port: 22 }, remote: any, recvQ: 0, sendQ: 128 },
      { proto: 'tcp', state: 'ESTAB', local: { addr: 0x0a000001, port: 22 }, remote: { addr: 0x0a000002, port: 40000 }, recvQ: 0, sendQ: 0 },
      { proto: 'udp', state: 'UNCONN', local: { addr: 0x7f000001, port: 53 }, remote: any, recvQ: 0, sendQ: 0 },
    ];
    assert.equal(
      formatSs(socks, opts, ssNames()),
      'Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n' +
        'udp   UNCONN 0      0          127.0.0.1:53        0.0.0.0:*          \n' +
        'tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*          \n',
    );
  });

  it('refuses unknown options and filters', () => {
    assert.deepEqual(parseSsArgs(['-Q']), { error: "ss: invalid option -- 'Q'\nUsage: ss [ OPTIONS ]\n       ss [ OPTIONS ] [ FILTER ]\n", status: 255 });
    assert.deepEqual(parseSsArgs(['sport', '=', ':22']), { error: 'nflab: ss: filters are not emulated (sport)\n', status: 1 });
  });
});

// ---------------------------------------------------------------------------
// The daemons, on the lab's world with the real stack: a client namespace
// "c" (10.0.0.2) joined by a veth to the host (10.0.0.1), where the daemon runs.

/** Files of the server host. */
type Files = Record<string, string>;

/** A client that connects to ADDR:PORT, sends its lines one by one (each after what came before was answered), and prints what it received. */
function tcpClient(addr: string, port: number, lines: string[], waitS = 1): Program {
  return function* (ctx) {
    const s = ctx.sockets.tcp();
    s.owner = ctx;
    const e = s.connect(parseIPv4Numeric(addr)! >>> 0, port);
    let got = '';
    const take = () => {
      if (s.available > 0) got += textOf(s.read());
    };
    const done = () => s.eof || s.error !== null || s.state === 'CLOSED';
    if (e) {
      ctx.out(`connect: ${e}\n`);
      return 1;
    }
    while (s.state === 'SYN-SENT') yield ctx.until(Infinity);
    if (s.state !== 'ESTAB') {
      ctx.out(`connect: ${s.error}\n`);
      return 1;
    }
    for (const l of ['', ...lines]) {
      if (l !== '') s.send(bytesOf(l));
      const until = ctx.now() + secondsNs(waitS);
      while (!done() && ctx.now() < until) {
        take();
        yield ctx.until(until);
      }
      take();
    }
    ctx.out(got);
    ctx.out(done() ? '[closed]\n' : '[open]\n');
    s.close();
    return 0;
  };
}

/** A client sending one datagram and printing the answer's bytes in hex (or "no answer"). */
function udpClient(addr: string, port: number, data: Uint8Array): Program {
  return function* (ctx) {
    const s = ctx.sockets.udp();
    s.owner = ctx;
    s.send(data, { addr: parseIPv4Numeric(addr)! >>> 0, port });
    const until = ctx.now() + secondsNs(2);
    while (ctx.now() < until) {
      const m = s.recv();
      if (m) {
        ctx.out(`${[...m.data].map((b) => b.toString(16).padStart(2, '0')).join('')}\n`);
        s.close();
        return 0;
      }
      yield ctx.until(until);
    }
    ctx.out(`no answer${s.takeError() ? ` (${s.error ?? 'error'})` : ''}\n`);
    s.close();
    return 1;
  };
}

/** A lab with the server host and the client namespace; runs clients against a daemon started on the host. */
async function daemonLab(files: Files = {}, hostname = 'server1', rules: string[] = []): Promise<{
  start(program: Program, argv: string[], where?: 'host' | 'client'): { pid: number; out: string };
  run(client: Program, from?: 'host' | 'client'): string;
  sockets(): SocketInfo[];
  done(): void;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-daemons-'));
  process.env['NFLAB_EPOCH'] = '1504342308'; // Sat 2017-09-02 08:51:48 UTC, as in the VPC tutorial
  const lines = [
    'ip link set lo up',
    'ip netns add c',
    'ip link add va type veth peer name vb',
    'ip link set vb netns c',
    'ip addr add 10.0.0.1/24 dev va',
    'ip link set va up',
    'ip -n c addr add 10.0.0.2/24 dev vb',
    'ip -n c link set vb up',
    'ip -n c link set lo up',
    ...rules,
  ];
  for (const line of lines) {
    const r = await runNflab(line.split(' '), { lab: dir });
    assert.equal(r.status, 0, `${line}: ${r.stderr}`);
  }
  let out = '';
  const fs: HostFs = {
    read: (p) => files[p],
    write: (p, t) => void (files[p] = t),
    append: (p, t) => void (files[p] = (files[p] ?? '') + t),
    writeBytes: () => {},
  };
  const world = new World(loadWorld(dir), {
    fs: () => fs,
    hostname: () => hostname,
    write: (_fd, text) => void (out += text),
    bootWall: () => 1_504_342_308,
    createSockets: createSocketLayer,
    program: (name) => DAEMON_PROGRAMS[name],
  });
  const ref = (w: 'host' | 'client') => ({ host: 'main', netns: w === 'host' ? '' : 'c' });
  return {
    start(program, argv, where = 'host') {
      out = '';
      const pid = world.startBackground(ref(where), program, argv);
      return { pid, out };
    },
    run(client, from = 'client') {
      out = '';
      world.runForeground(ref(from), client, ['client']);
      return out;
    },
    sockets: () => world.runtime(ref('host')).sockets.list(),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

describe('daemons', () => {
  it('sshd greets with OpenSSH 7.4 and answers a line that is no SSH identification with "Protocol mismatch."', async () => {
    const lab = await daemonLab();
    try {
      lab.start(sshd, ['/usr/sbin/sshd', '-D']);
      assert.equal(lab.run(tcpClient('10.0.0.1', 22, ['hello\n'])), 'SSH-2.0-OpenSSH_7.4\r\nProtocol mismatch.\n[closed]\n');
      assert.equal(lab.run(tcpClient('10.0.0.1', 22, ['SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'])), 'SSH-2.0-OpenSSH_7.4\r\n[open]\n');
    } finally {
      lab.done();
    }
  });

  it('sshd listens on the ports of sshd_config, and says why it cannot bind', async () => {
    const lab = await daemonLab({ '/etc/ssh/sshd_config': '# changed\nPort 2222\nListenAddress 10.0.0.1\n' });
    try {
      lab.start(sshd, ['/usr/sbin/sshd', '-D']);
      assert.equal(lab.run(tcpClient('10.0.0.1', 22, [])), 'connect: ECONNREFUSED\n');
      assert.equal(lab.run(tcpClient('10.0.0.1', 2222, [])), 'SSH-2.0-OpenSSH_7.4\r\n[open]\n');
      assert.equal(lab.start(sshd, ['/usr/sbin/sshd', '-D']).out, 'Bind to port 2222 on 10.0.0.1 failed: Address already in use.\nCannot bind any address.\n');
    } finally {
      lab.done();
    }
  });
});

/** Prints what a probe received, with control bytes as escapes. */
function shown(text: string): string {
  return JSON.stringify(text);
}

describe('daemons behind the firewall', () => {
  it('the SSH-only server: 22 answers, 80 is dropped (the connection times out) or refused by a reset', async () => {
    const rules = ['iptables -A INPUT -p tcp --dport 22 -j ACCEPT', 'iptables -A INPUT -p tcp --dport 3306 -j REJECT --reject-with tcp-reset', 'iptables -A INPUT -p tcp -j DROP'];
    const lab = await daemonLab({}, 'server1', rules);
    try {
      lab.start(sshd, ['/usr/sbin/sshd', '-D']);
      lab.start(DAEMON_PROGRAMS['httpd']!, ['/usr/sbin/httpd']);
      lab.start(DAEMON_PROGRAMS['mysqld']!, ['/usr/libexec/mysqld']);
      assert.equal(lab.run(tcpClient('10.0.0.1', 22, [])), 'SSH-2.0-OpenSSH_7.4\r\n[open]\n');
      assert.equal(lab.run(tcpClient('10.0.0.1', 80, [])), 'connect: ETIMEDOUT\n');
      assert.equal(lab.run(tcpClient('10.0.0.1', 3306, [])), 'connect: ECONNREFUSED\n');
    } finally {
      lab.done();
    }
  });
});

describe('daemons (protocols)', () => {
  it('httpd answers GET and HEAD from its document root, 403 with the test page for an empty one, 404 otherwise', async () => {
    const lab = await daemonLab({ '/var/www/html/hello.html': 'hi\n' });
    try {
      lab.start(DAEMON_PROGRAMS['httpd']!, ['/usr/sbin/httpd', '-DFOREGROUND']);
      const got = lab.run(
        tcpClient('10.0.0.1', 80, [
          'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
          'HEAD /hello.html HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n',
          'GET /nope HTTP/1.0\r\n\r\n',
        ]),
      );
      const page =
        '<!DOCTYPE html>\n<html><head><title>Apache HTTP Server Test Page</title></head>\n<body>\n<h1>Testing 123..</h1>\n<p>This page is used to test the proper operation of the Apache HTTP server after it has been installed.</p>\n</body></html>\n';
      const notFound =
        '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL /nope was not found on this server.</p>\n</body></html>\n';
      const head = (date: string) => `Date: ${date}\r\nServer: Apache/2.4.6 (CentOS)\r\n`;
      assert.equal(
        got,
        `HTTP/1.1 403 Forbidden\r\n${head('Sat, 02 Sep 2017 08:51:49 GMT')}Last-Modified: Sat, 02 Sep 2017 08:51:48 GMT\r\nETag: "e9-55830fce39100"\r\nAccept-Ranges: bytes\r\nContent-Length: 233\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n${page}` +
          `HTTP/1.1 200 OK\r\n${head('Sat, 02 Sep 2017 08:51:50 GMT')}Last-Modified: Sat, 02 Sep 2017 08:51:48 GMT\r\nETag: "3-55830fce39100"\r\nAccept-Ranges: bytes\r\nContent-Length: 3\r\nKeep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n` +
          `HTTP/1.1 404 Not Found\r\n${head('Sat, 02 Sep 2017 08:51:51 GMT')}Content-Length: 202\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n${notFound}[closed]\n`,
      );
    } finally {
      lab.done();
    }
  });

  it('nginx answers with its header order and keeps the connection', async () => {
    const lab = await daemonLab({ '/usr/share/nginx/html/index.html': 'ok\n' });
    try {
      lab.start(DAEMON_PROGRAMS['nginx']!, ['/usr/sbin/nginx']);
      assert.equal(
        lab.run(tcpClient('10.0.0.1', 80, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'GET /x HTTP/1.1\r\nHost: x\r\n\r\n'])),
        'HTTP/1.1 200 OK\r\nServer: nginx/1.20.1\r\nDate: Sat, 02 Sep 2017 08:51:49 GMT\r\nContent-Type: text/html\r\nContent-Length: 3\r\nLast-Modified: Sat, 02 Sep 2017 08:51:48 GMT\r\nConnection: keep-alive\r\nETag: "59aa7124-3"\r\nAccept-Ranges: bytes\r\n\r\nok\n' +
          'HTTP/1.1 404 Not Found\r\nServer: nginx/1.20.1\r\nDate: Sat, 02 Sep 2017 08:51:50 GMT\r\nContent-Type: text/html\r\nContent-Length: 153\r\nConnection: keep-alive\r\n\r\n<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.20.1</center>\r\n</body>\r\n</html>\r\n[open]\n',
      );
    } finally {
      lab.done();
    }
  });

  it('mysqld greets local clients with the handshake and refuses other hosts with error 1130', async () => {
    const lab = await daemonLab();
    try {
      lab.start(DAEMON_PROGRAMS['mysqld']!, ['/usr/libexec/mysqld']);
      assert.equal(shown(lab.run(tcpClient('10.0.0.1', 3306, []))), shown("C\u0000\u0000\u0000\u00ffj\u0004Host '10.0.0.2' is not allowed to connect to this MariaDB server[closed]\n"));
      const g = lab.run(tcpClient('127.0.0.1', 3306, []), 'host');
      assert.equal(g.length, 4 + 82 + '[open]\n'.length);
      assert.equal(shown(g.slice(0, 20)), shown('R\u0000\u0000\u0000\n5.5.68-MariaDB\u0000'));
      assert.equal(shown(g.slice(20, 24)), shown('\u0002\u0000\u0000\u0000'));
      // filler, capabilities 0xf7ff, latin1, autocommit, capabilities 0xa00f, scramble length 21, reserved
      assert.equal(shown(g.slice(32, 51)), shown('\u0000\u00ff\u00f7\b\u0002\u0000\u000f\u00a0\u0015\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000'));
      assert.equal(g.slice(g.length - 29), 'mysql_native_password\u0000[open]\n');
    } finally {
      lab.done();
    }
  });

  it('postfix greets with its host name and speaks SMTP', async () => {
    const lab = await daemonLab();
    try {
      lab.start(DAEMON_PROGRAMS['master']!, ['/usr/libexec/postfix/master', '-w']);
      assert.equal(lab.run(tcpClient('10.0.0.1', 25, [])), 'connect: ECONNREFUSED\n');
      assert.equal(
        lab.run(tcpClient('127.0.0.1', 25, ['EHLO me\r\n', 'MAIL FROM:<a@b>\r\n', 'FOO\r\n', 'QUIT\r\n']), 'host'),
        '220 server1.localdomain ESMTP Postfix\r\n250-server1.localdomain\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n250 2.1.0 Ok\r\n502 5.5.2 Error: command not recognized\r\n221 2.0.0 Bye\r\n[closed]\n',
      );
    } finally {
      lab.done();
    }
  });

  it('postfix listens on every address with inet_interfaces = all', async () => {
    const lab = await daemonLab({ '/etc/postfix/main.cf': 'inet_interfaces = all\nmyhostname = mail.example.com\n' });
    try {
      lab.start(DAEMON_PROGRAMS['master']!, ['/usr/libexec/postfix/master', '-w']);
      assert.equal(lab.run(tcpClient('10.0.0.1', 25, ['QUIT\r\n'])), '220 mail.example.com ESMTP Postfix\r\n221 2.0.0 Bye\r\n[closed]\n');
    } finally {
      lab.done();
    }
  });

  it('dovecot greets on POP3 and IMAP, with LOGINDISABLED for remote clients', async () => {
    const lab = await daemonLab();
    try {
      lab.start(DAEMON_PROGRAMS['dovecot']!, ['/usr/sbin/dovecot']);
      assert.equal(
        lab.run(tcpClient('10.0.0.1', 143, ['a LOGOUT\r\n'])),
        '* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE STARTTLS LOGINDISABLED] Dovecot ready.\r\n* BYE Logging out\r\na OK Logout completed.\r\n[closed]\n',
      );
      assert.equal(
        lab.run(tcpClient('127.0.0.1', 143, []), 'host'),
        '* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE STARTTLS AUTH=PLAIN] Dovecot ready.\r\n[open]\n',
      );
      assert.equal(lab.run(tcpClient('10.0.0.1', 110, ['STAT\r\n', 'QUIT\r\n'])), '+OK Dovecot ready.\r\n-ERR Unknown command.\r\n+OK Logging out\r\n[closed]\n');
    } finally {
      lab.done();
    }
  });

  it('ntpd answers a client request as an unsynchronised server', async () => {
    const lab = await daemonLab();
    try {
      lab.start(DAEMON_PROGRAMS['ntpd']!, ['/usr/sbin/ntpd', '-u', 'ntp:ntp', '-g']);
      const q = new Uint8Array(48);
      q[0] = 0x23; // version 4, client
      q[2] = 6;
      q.set([0xdd, 0x55, 0x5d, 0x24, 0, 0, 0, 1], 40);
      // LI 3, VN 4, mode 4; stratum 16; poll 6; precision -23; refid INIT; origin = the request's transmit time
      assert.equal(lab.run(udpClient('10.0.0.1', 123, q)), 'e41006e90000000000000000494e49540000000000000000dd555d2400000001dd54efa40001f800dd54efa40001f800\n');
      assert.equal(lab.run(udpClient('10.0.0.1', 123, new Uint8Array(48).fill(0x24, 0, 1))), 'no answer\n');
    } finally {
      lab.done();
    }
  });

  it('squid relays a request of an allowed client and answers errors with its headers', async () => {
    const lab = await daemonLab({ '/var/www/html/hello.html': 'hi\n' });
    try {
      lab.start(DAEMON_PROGRAMS['httpd']!, ['/usr/sbin/httpd']);
      lab.start(DAEMON_PROGRAMS['squid']!, ['/usr/sbin/squid']);
      const squidHead = (status: string, err: string, len: number, date: string) =>
        `HTTP/1.1 ${status}\r\nServer: squid/3.5.20\r\nMime-Version: 1.0\r\nDate: ${date}\r\nContent-Type: text/html;charset=utf-8\r\nContent-Length: ${len}\r\nX-Squid-Error: ${err}\r\nVary: Accept-Language\r\nContent-Language: en\r\nX-Cache: MISS from server1\r\nX-Cache-Lookup: NONE from server1:3128\r\nVia: 1.1 server1 (squid/3.5.20)\r\nConnection: close\r\n\r\n`;
      assert.equal(
        lab.run(tcpClient('10.0.0.1', 3128, ['GET http://10.0.0.1/hello.html HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n'])),
        'HTTP/1.1 200 OK\r\nDate: Sat, 02 Sep 2017 08:51:49 GMT\r\nServer: Apache/2.4.6 (CentOS)\r\nLast-Modified: Sat, 02 Sep 2017 08:51:48 GMT\r\nETag: "3-55830fce39100"\r\nAccept-Ranges: bytes\r\nContent-Length: 3\r\nConnection: close\r\nContent-Type: text/html; charset=UTF-8\r\n\r\nhi\n[closed]\n',
      );
      const refused = lab.run(tcpClient('10.0.0.1', 3128, ['GET http://10.0.0.1:81/ HTTP/1.1\r\n\r\n']));
      assert.equal(refused.slice(0, refused.indexOf('<!DOCTYPE')), squidHead('503 Service Unavailable', 'ERR_CONNECT_FAIL 111', 311, 'Sat, 02 Sep 2017 08:51:50 GMT'));
      assert.ok(refused.includes('<p>The system returned: (111) Connection refused</p>\n'));
      const invalid = lab.run(tcpClient('10.0.0.1', 3128, ['GET / HTTP/1.1\r\n\r\n']));
      assert.equal(invalid.slice(0, invalid.indexOf('<!DOCTYPE')), squidHead('400 Bad Request', 'ERR_INVALID_URL 0', 278, 'Sat, 02 Sep 2017 08:51:51 GMT'));
    } finally {
      lab.done();
    }
  });

  it('named answers A queries from its zones and /etc/hosts, REFUSED otherwise, on UDP and TCP', async () => {
    const conf = 'options {\n  listen-on port 53 { any; };\n  directory "/var/named";\n  allow-query { any; };\n};\nzone "example.com" IN {\n  type master;\n  file "example.com.zone";\n};\n';
    const zone = '$TTL 3600\n@ IN SOA ns1 root 1 2 3 4 5\n  IN NS ns1\nns1 IN A 10.0.0.1\nwww 300 IN A 10.0.0.80\n';
    const lab = await daemonLab({ '/etc/named.conf': conf, '/var/named/example.com.zone': zone, '/etc/hosts': '127.0.0.1 localhost\n10.0.0.9 files.lan\n' });
    try {
      lab.start(DAEMON_PROGRAMS['named']!, ['/usr/sbin/named', '-u', 'named']);
      const query = (name: string, type = 1) => {
        const q: number[] = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for (const l of name.split('.')) q.push(l.length, ...[...l].map((c) => c.charCodeAt(0)));
        q.push(0, 0, type, 0, 1);
        return Uint8Array.from(q);
      };
      const qhex = (name: string) => [...query(name).subarray(12)].map((b) => b.toString(16).padStart(2, '0')).join('');
      // www.example.com A: authoritative answer, TTL 300
      assert.equal(lab.run(udpClient('10.0.0.1', 53, query('www.example.com'))), `123485800001000100000000${qhex('www.example.com')}c00c000100010000012c00040a000050\n`);
      // a name of the zone that does not exist: NXDOMAIN
      assert.equal(lab.run(udpClient('10.0.0.1', 53, query('nope.example.com'))), `123485830001000000000000${qhex('nope.example.com')}\n`);
      // from /etc/hosts: not authoritative
      assert.equal(lab.run(udpClient('10.0.0.1', 53, query('files.lan'))), `123481800001000100000000${qhex('files.lan')}c00c0001000100000e1000040a000009\n`);
      // anything else: REFUSED
      assert.equal(lab.run(udpClient('10.0.0.1', 53, query('www.google.com'))), `123481050001000000000000${qhex('www.google.com')}\n`);
      // over TCP: the same answer with its length first
      const q = query('www.example.com');
      const asText = (b: Uint8Array) => textOf(b);
      const tcp = lab.run(tcpClient('10.0.0.1', 53, [asText(Uint8Array.from([0, q.length, ...q]))]));
      const hex = [...bytesOf(tcp.slice(0, -'[open]\n'.length))].map((b) => b.toString(16).padStart(2, '0')).join('');
      assert.equal(hex, `0031123485800001000100000000${qhex('www.example.com')}c00c000100010000012c00040a000050`);
    } finally {
      lab.done();
    }
  });

  it('named with the CentOS default configuration listens on 127.0.0.1 only', async () => {
    const lab = await daemonLab();
    try {
      lab.start(DAEMON_PROGRAMS['named']!, ['/usr/sbin/named', '-u', 'named']);
      const opts = parseSsArgs(['-lntu']);
      assert.ok(!('error' in opts));
      assert.equal(
        formatSs(lab.sockets(), opts, ssNames()),
        'Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\nudp   UNCONN 0      0          127.0.0.1:53        0.0.0.0:*          \ntcp   LISTEN 0      10         127.0.0.1:53        0.0.0.0:*          \n',
      );
    } finally {
      lab.done();
    }
  });
});

// ---------------------------------------------------------------------------
// The units: systemctl (CentOS 7, systemd 219) and service (CentOS 6 init scripts).

/** A fresh lab; `sh` runs command lines through `nflab shell -c` and returns everything printed, in order. */
function unitLab(): { sh: (cmd: string) => Promise<string>; file: (path: string, text: string) => void; done: () => void } {
  const lab = mkdtempSync(join(tmpdir(), 'nflab-units-'));
  process.env['NFLAB_EPOCH'] = '1504342308';
  return {
    sh: async (cmd) => {
      let out = '';
      const r = await runNflab(['shell', '-c', cmd], { lab, write: (_fd, t) => void (out += t) });
      return out + r.stdout + r.stderr;
    },
    file: (path, text) => {
      mkdirSync(dirname(join(lab, 'fs', path)), { recursive: true });
      writeFileSync(join(lab, 'fs', path), text);
    },
    done: () => rmSync(lab, { recursive: true, force: true }),
  };
}

/** Replaces systemctl's times by fixed ones. */
function pinTimes(text: string): string {
  return text.replace(/ since [A-Z][a-z]{2} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC; [^\n]*$/gm, ' since DATE; AGO');
}

const OK_WORD = '[  OK  ]\r';
const LISTEN_HEAD = 'State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n';

describe('systemctl for the daemons', () => {
  it('starts sshd (listening on 22), shows its status, stops it', async () => {
    const t = unitLab();
    try {
      assert.equal(
        pinTimes(await t.sh('systemctl status sshd; echo rc=$?; systemctl is-enabled sshd; systemctl is-active sshd; echo rc=$?')),
        '● sshd.service - OpenSSH server daemon\n' +
          '   Loaded: loaded (/usr/lib/systemd/system/sshd.service; enabled; vendor preset: enabled)\n' +
          '   Active: inactive (dead)\n' +
          '     Docs: man:sshd(8)\n' +
          '           man:sshd_config(5)\n' +
          'rc=3\nenabled\ninactive\nrc=3\n',
      );
      assert.equal(await t.sh('systemctl start sshd; echo rc=$?; ss -lnt'), `rc=0\n${LISTEN_HEAD}LISTEN 0      128          0.0.0.0:22        0.0.0.0:*          \n`);
      assert.equal(
        pinTimes(await t.sh('systemctl status sshd; echo rc=$?; systemctl is-active sshd')),
        '● sshd.service - OpenSSH server daemon\n' +
          '   Loaded: loaded (/usr/lib/systemd/system/sshd.service; enabled; vendor preset: enabled)\n' +
          '   Active: active (running) since DATE; AGO\n' +
          '     Docs: man:sshd(8)\n' +
          '           man:sshd_config(5)\n' +
          ' Main PID: 1000 (sshd)\n' +
          '   CGroup: /system.slice/sshd.service\n' +
          '           └─1000 /usr/sbin/sshd -D\n' +
          'rc=0\nactive\n',
      );
      assert.equal(await t.sh('systemctl start sshd; echo rc=$?'), 'rc=0\n');
      assert.equal(await t.sh('systemctl stop sshd; echo rc=$?; ss -lnt'), 'rc=0\nState Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n');
      assert.equal(
        pinTimes(await t.sh('systemctl status sshd; echo rc=$?')),
        '● sshd.service - OpenSSH server daemon\n' +
          '   Loaded: loaded (/usr/lib/systemd/system/sshd.service; enabled; vendor preset: enabled)\n' +
          '   Active: inactive (dead) since DATE; AGO\n' +
          '     Docs: man:sshd(8)\n' +
          '           man:sshd_config(5)\n' +
          ' Main PID: 1000 (code=exited, status=0/SUCCESS)\n' +
          'rc=3\n',
      );
    } finally {
      t.done();
    }
  });

  it('a forking unit shows its ExecStart process; aliases name the real unit; enable and disable', async () => {
    const t = unitLab();
    try {
      assert.equal(await t.sh('systemctl start nginx mysqld; echo rc=$?'), 'rc=0\n');
      assert.equal(
        pinTimes(await t.sh('systemctl status nginx mysqld')),
        '● nginx.service - The nginx HTTP and reverse proxy server\n' +
          '   Loaded: loaded (/usr/lib/systemd/system/nginx.service; disabled; vendor preset: disabled)\n' +
          '   Active: active (running) since DATE; AGO\n' +
          '  Process: 999 ExecStart=/usr/sbin/nginx (code=exited, status=0/SUCCESS)\n' +
          ' Main PID: 1000 (nginx)\n' +
          '   CGroup: /system.slice/nginx.service\n' +
          '           └─1000 nginx: master process /usr/sbin/nginx\n' +
          '\n' +
          '● mariadb.service - MariaDB database server\n' +
          '   Loaded: loaded (/usr/lib/systemd/system/mariadb.service; disabled; vendor preset: disabled)\n' +
          '   Active: active (running) since DATE; AGO\n' +
          ' Main PID: 1001 (mysqld)\n' +
          '   CGroup: /system.slice/mariadb.service\n' +
          '           └─1001 /usr/libexec/mysqld --basedir=/usr --datadir=/var/lib/mysql --plugin-dir=/usr/lib64/mysql/plugin --log-error=/var/log/mariadb/mariadb.log --pid-file=/var/run/mariadb/mariadb.pid --socket=/var/lib/mysql/mysql.sock\n',
      );
      assert.equal(
        await t.sh('systemctl enable nginx; systemctl enable nginx; systemctl is-enabled nginx; systemctl disable nginx; systemctl is-enabled nginx; echo rc=$?'),
        'Created symlink from /etc/systemd/system/multi-user.target.wants/nginx.service to /usr/lib/systemd/system/nginx.service.\nenabled\n' +
          'Removed symlink /etc/systemd/system/multi-user.target.wants/nginx.service.\ndisabled\nrc=1\n',
      );
    } finally {
      t.done();
    }
  });

  it('httpd tells its status; reload applies to units that have it', async () => {
    const t = unitLab();
    try {
      assert.equal(
        pinTimes(await t.sh('systemctl start httpd; systemctl status httpd')),
        '● httpd.service - The Apache HTTP Server\n' +
          '   Loaded: loaded (/usr/lib/systemd/system/httpd.service; disabled; vendor preset: disabled)\n' +
          '   Active: active (running) since DATE; AGO\n' +
          '     Docs: man:httpd(8)\n' +
          '           man:apachectl(8)\n' +
          ' Main PID: 1000 (httpd)\n' +
          '   Status: "Total requests: 0; Current requests/sec: 0; Current traffic:   0 B/sec"\n' +
          '   CGroup: /system.slice/httpd.service\n' +
          '           └─1000 /usr/sbin/httpd -DFOREGROUND\n',
      );
      assert.equal(
        await t.sh('systemctl reload ntpd; echo rc=$?; systemctl reload sshd; echo rc=$?; systemctl reload httpd; echo rc=$?; systemctl is-active httpd'),
        'Failed to reload ntpd.service: Job type reload is not applicable for unit ntpd.service.\nrc=1\nJob for sshd.service invalid.\nrc=1\nrc=0\nactive\n',
      );
    } finally {
      t.done();
    }
  });

  it('a running daemon keeps the configuration it started with until it is restarted', async () => {
    const t = unitLab();
    try {
      assert.equal(await t.sh('systemctl start sshd; ss -lnt'), `${LISTEN_HEAD}LISTEN 0      128          0.0.0.0:22        0.0.0.0:*          \n`);
      t.file('/etc/ssh/sshd_config', 'Port 2222\n');
      assert.equal(await t.sh('ss -lnt'), `${LISTEN_HEAD}LISTEN 0      128          0.0.0.0:22        0.0.0.0:*          \n`);
      assert.equal(await t.sh('systemctl restart sshd; ss -lnt'), `${LISTEN_HEAD}LISTEN 0      128          0.0.0.0:2222      0.0.0.0:*          \n`);
    } finally {
      t.done();
    }
  });

  it('a daemon that cannot start fails its unit', async () => {
    const t = unitLab();
    try {
      t.file('/etc/ssh/sshd_config', 'Port 22\nListenAddress 10.9.9.9\n');
      assert.equal(
        await t.sh('systemctl start sshd; echo rc=$?; systemctl is-active sshd'),
        'Job for sshd.service failed because the control process exited with error code. See "systemctl status sshd.service" and "journalctl -xe" for details.\nrc=1\nfailed\n',
      );
      assert.equal(
        pinTimes(await t.sh('systemctl status sshd; echo rc=$?')),
        '● sshd.service - OpenSSH server daemon\n' +
          '   Loaded: loaded (/usr/lib/systemd/system/sshd.service; enabled; vendor preset: enabled)\n' +
          '   Active: failed (Result: exit-code) since DATE; AGO\n' +
          '     Docs: man:sshd(8)\n' +
          '           man:sshd_config(5)\n' +
          ' Main PID: 1000 (code=exited, status=1/FAILURE)\n' +
          'rc=3\n',
      );
    } finally {
      t.done();
    }
  });

  it('every daemon unit listens on its ports once started and on none once stopped', async () => {
    const t = unitLab();
    try {
      t.file('/etc/vsftpd/vsftpd.conf', 'listen=YES\n');
      const units = 'sshd httpd mariadb named postfix dovecot ntpd squid vsftpd';
      assert.equal(await t.sh(`ip link set lo up; systemctl start ${units}; echo rc=$?`), 'rc=0\n');
      assert.equal(
        await t.sh('ss -lntu'),
        'Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n' +
          'udp   UNCONN 0      0          127.0.0.1:53        0.0.0.0:*          \n' +
          'udp   UNCONN 0      0            0.0.0.0:123       0.0.0.0:*          \n' +
          'tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*          \n' +
          'tcp   LISTEN 0      511          0.0.0.0:80        0.0.0.0:*          \n' +
          'tcp   LISTEN 0      50           0.0.0.0:3306      0.0.0.0:*          \n' +
          'tcp   LISTEN 0      10         127.0.0.1:53        0.0.0.0:*          \n' +
          'tcp   LISTEN 0      100        127.0.0.1:25        0.0.0.0:*          \n' +
          'tcp   LISTEN 0      100          0.0.0.0:143       0.0.0.0:*          \n' +
          'tcp   LISTEN 0      100          0.0.0.0:993       0.0.0.0:*          \n' +
          'tcp   LISTEN 0      100          0.0.0.0:110       0.0.0.0:*          \n' +
          'tcp   LISTEN 0      100          0.0.0.0:995       0.0.0.0:*          \n' +
          'tcp   LISTEN 0      256          0.0.0.0:3128      0.0.0.0:*          \n' +
          'tcp   LISTEN 0      32           0.0.0.0:21        0.0.0.0:*          \n',
      );
      assert.equal(await t.sh(`systemctl is-active ${units}`), 'active\n'.repeat(9));
      assert.equal(await t.sh(`systemctl stop ${units}; ss -lntu; systemctl is-active ${units}`), 'Netid State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n' + 'inactive\n'.repeat(9));
    } finally {
      t.done();
    }
  });
});

describe('ss -p names the daemons', () => {
  it('shows the daemon and its descriptor for each listening socket', async () => {
    const t = unitLab();
    try {
      assert.equal(
        await t.sh('ip link set lo up; systemctl start sshd named; ss -lntup'),
        'Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess                         \n' +
          'udp   UNCONN 0      0          127.0.0.1:53        0.0.0.0:*    users:(("named",pid=1001,fd=4))\n' +
          'tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:(("sshd",pid=1000,fd=3)) \n' +
          'tcp   LISTEN 0      10         127.0.0.1:53        0.0.0.0:*    users:(("named",pid=1001,fd=3))\n',
      );
    } finally {
      t.done();
    }
  });
});

describe('service for the daemons (CentOS 6 init scripts)', () => {
  it('start, status, restart, stop with the scripts\' words and exit statuses', async () => {
    const t = unitLab();
    try {
      assert.equal(await t.sh('service sshd status; echo rc=$?'), 'openssh-daemon is stopped\nrc=3\n');
      assert.equal(await t.sh('service sshd start; echo rc=$?; service sshd start; echo rc=$?'), `Starting sshd: ${OK_WORD}\nrc=0\nrc=0\n`);
      assert.equal(await t.sh('service sshd status; echo rc=$?'), 'openssh-daemon (pid  1000) is running...\nrc=0\n');
      assert.equal(await t.sh('service sshd restart; echo rc=$?'), `Stopping sshd: ${OK_WORD}\nStarting sshd: ${OK_WORD}\nrc=0\n`);
      assert.equal(await t.sh('service sshd status'), 'openssh-daemon (pid  1001) is running...\n');
      assert.equal(await t.sh('service sshd stop; echo rc=$?; service sshd stop; echo rc=$?'), `Stopping sshd: ${OK_WORD}\nrc=0\nrc=0\n`);
      assert.equal(await t.sh('ip link set lo up; service httpd start; service postfix start; service ntpd start; service mysqld start'), `Starting httpd: ${OK_WORD}\nStarting postfix: ${OK_WORD}\nStarting ntpd: ${OK_WORD}\nStarting mysqld:  ${OK_WORD}\n`);
      assert.equal(await t.sh('service httpd status; service postfix status; service ntpd status; service mysqld status'), 'httpd (pid  1002) is running...\nmaster (pid  1003) is running...\nntpd (pid  1004) is running...\nmysqld (pid  1005) is running...\n');
      assert.equal(await t.sh('service postfix stop; service ntpd stop'), `Shutting down postfix: ${OK_WORD}\nShutting down ntpd: ${OK_WORD}\n`);
      assert.equal(await t.sh('service httpd bogus; echo rc=$?'), 'Usage: /etc/init.d/httpd {start|stop|restart|reload|force-reload|condrestart|try-restart|status}\nrc=2\n');
      assert.equal(await t.sh('service ntpd reload; echo rc=$?'), 'Usage: /etc/init.d/ntpd {start|stop|restart|condrestart|try-restart|status}\nrc=2\n');
      assert.equal(await t.sh('service sshd reload; echo rc=$?; service httpd reload; echo rc=$?'), `rc=7\nReloading httpd: ${OK_WORD}\nrc=0\n`);
    } finally {
      t.done();
    }
  });

  it('service --status-all runs every init script with status, in name order', async () => {
    const t = unitLab();
    try {
      assert.equal(
        await t.sh('service sshd start >/dev/null; service --status-all; echo rc=$?'),
        'dovecot is stopped\nhttpd is stopped\niptables: Firewall is not running.\nmysqld is stopped\nnamed is stopped\nnginx is stopped\nntpd is stopped\n' +
          'master is stopped\nsquid is stopped\nopenssh-daemon (pid  1000) is running...\nvsftpd is stopped\nrc=0\n',
      );
    } finally {
      t.done();
    }
  });

  it('starts the daemon in the namespace the command runs in', async () => {
    const t = unitLab();
    try {
      assert.equal(
        await t.sh('ip netns add blue; ip netns exec blue ip link set lo up; ip netns exec blue service postfix start; ip netns exec blue ss -lnt; ss -lnt'),
        `Starting postfix: ${OK_WORD}\n${LISTEN_HEAD}LISTEN 0      100        127.0.0.1:25        0.0.0.0:*          \nState Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n`,
      );
      assert.equal(
        await t.sh('ip netns add red; ip netns exec red service postfix stop; ip netns exec red service dovecot start; echo rc=$?'),
        `Shutting down postfix: ${OK_WORD}\nStarting Dovecot Imap: ${OK_WORD}\nrc=0\n`,
      );
    } finally {
      t.done();
    }
  });
});
