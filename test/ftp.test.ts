/**
 * The FTP programs end to end on the FTP test harness: vsftpd on the
 * tutorial's server, tnftp's `ftp` and the `filezilla` session on the
 * client, with the tutorial's firewall steps. Transcripts are exact; their
 * shape was taken from the real vsftpd 3.0.3 and tnftp (see
 * ftp-diff.test.ts, which compares them with the real tools).
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tutorialLab, tutorialConf, PORT21, FILE_TIME } from './ftp-scenario.js';
import { canonicalName, ftp, splitWords, transferSummary } from '../src/core/programs/ftp.js';
import { filezilla, parseFtpUrl } from '../src/core/programs/ftp-filezilla.js';
import { parseVsftpdConf, pasvPort, pasvRange } from '../src/core/programs/vsftpd-conf.js';
import { listLine, lsDate, resolvePath } from '../src/core/programs/vsftpd-ls.js';
import { vsftpd } from '../src/core/programs/vsftpd.js';
import { LineReader, connectTcp, readLine, utf8, parseIp } from '../src/core/programs/ftp-proto.js';
import type { Program } from '../src/core/programs/api.js';

const SEC = 1_000_000_000;
const LOGIN = [
  'Connected to 192.168.0.18.',
  '220 (vsFTPd 3.0.3)',
  '331 Please specify the password.',
  '230 Login successful.',
  'Remote system type is UNIX.',
  'Using binary mode to transfer files.',
];
const LISTING = [
  'drwxr-xr-x    2 1000     1000         4096 Nov 20 10:00 docs',
  '-rw-r--r--    1 1000     1000            6 Nov 20 10:00 hello.txt',
];
const lines = (...ls: string[]): string => ls.map((l) => `${l}\n`).join('');

describe('ftp (tnftp) against vsftpd', () => {
  it('passive listing through a firewall that only opens 21: the data connect times out, active fallback, 421 after 60 s', () => {
    const { net, client } = tutorialLab(PORT21);
    net.seed(7);
    const r = net.runProgram(client, ftp, ['ftp', '-nv', '192.168.0.18'], 'user test test123\nls\nbye\n');
    const port = /\|\|\|(\d+)\|/.exec(r.out)![1];
    assert.equal(
      r.out,
      lines(
        ...LOGIN,
        `229 Entering Extended Passive Mode (|||${port}|)`,
        '200 EPRT command successful. Consider using EPSV.',
        '421 Service not available, remote server timed out. Connection closed.',
      ),
    );
    assert.equal(r.err, `ftp: Can't connect to \`192.168.0.18:${port}': Connection timed out\n`);
    assert.equal(r.status, 0);
    // 127 s of SYN retries, then 60 s waiting for LIST's reply
    assert.ok(r.ns >= 187 * SEC && r.ns < 188 * SEC, String(r.ns));
  });

  it('active mode (-A) without 20/tcp: the server cannot connect back; the client gives up first', () => {
    const { net, client } = tutorialLab(PORT21);
    const r = net.runProgram(client, ftp, ['ftp', '-nvA', '192.168.0.18'], 'user test test123\nls\nbye\n');
    assert.equal(
      r.out,
      lines(...LOGIN, '200 EPRT command successful. Consider using EPSV.', '421 Service not available, remote server timed out. Connection closed.'),
    );
    assert.equal(r.err, '');
    assert.ok(r.ns >= 60 * SEC && r.ns < 61 * SEC, String(r.ns));
  });

  it('active mode with 20/tcp open lists the directory', () => {
    const { net, client } = tutorialLab({ ports: (p) => p === 21 || p === 20 });
    const r = net.runProgram(client, ftp, ['ftp', '-nvA', '192.168.0.18'], 'user test test123\nls\nbye\n');
    assert.equal(
      r.out,
      lines(
        ...LOGIN,
        '200 EPRT command successful. Consider using EPSV.',
        '150 Here comes the directory listing.',
        ...LISTING,
        '226 Directory send OK.',
        '221 Goodbye.',
      ),
    );
    assert.equal(r.err, '');
  });

  it('a passive port range opened in the firewall: the port is drawn in the range and the listing succeeds', () => {
    const { net, client } = tutorialLab(
      { ports: (p) => p === 21 || (p >= 10090 && p <= 10100) },
      tutorialConf('pasv_enable=Yes\npasv_min_port=10090\npasv_max_port=10100'),
    );
    const seen = new Set<number>();
    for (let i = 0; i < 12; i++) {
      const r = net.runProgram(client, ftp, ['ftp', '-nv', '192.168.0.18'], 'user test test123\nls\nbye\n');
      const port = Number(/\|\|\|(\d+)\|/.exec(r.out)![1]);
      assert.ok(port >= 10090 && port <= 10100, String(port));
      seen.add(port);
      assert.equal(
        r.out,
        lines(...LOGIN, `229 Entering Extended Passive Mode (|||${port}|)`, '150 Here comes the directory listing.', ...LISTING, '226 Directory send OK.', '221 Goodbye.'),
      );
    }
    assert.ok(seen.size > 3, `ports drawn: ${[...seen].join(' ')}`);
  });

  it('the helper case: RELATED data connections get in on any passive port', () => {
    const { net, client } = tutorialLab({ ports: (p) => p === 21, related: true });
    const r = net.runProgram(client, ftp, ['ftp', '-nv', '192.168.0.18'], 'user test test123\nls\nbye\n');
    const port = /\|\|\|(\d+)\|/.exec(r.out)![1];
    assert.equal(
      r.out,
      lines(...LOGIN, `229 Entering Extended Passive Mode (|||${port}|)`, '150 Here comes the directory listing.', ...LISTING, '226 Directory send OK.', '221 Goodbye.'),
    );
  });

  it('pwd, get, put, ls, nlist, cd, and the transfer figures from the virtual clock', () => {
    const { net, client, server } = tutorialLab(null);
    net.seed(1);
    client.fs.write('/root/up1.txt', 'from-client\n');
    const r = net.runProgram(
      client,
      ftp,
      ['ftp', '-nv', '192.168.0.18'],
      'user test test123\npwd\nget hello.txt\nput up1.txt\nls\nnlist\ncd docs\npwd\ncd nowhere\nbye\n',
    );
    const ports = [...r.out.matchAll(/\|\|\|(\d+)\|/g)].map((m) => m[1]);
    assert.equal(
      r.out,
      lines(
        ...LOGIN,
        'Remote directory: /home/test',
        'local: hello.txt remote: hello.txt',
        `229 Entering Extended Passive Mode (|||${ports[0]}|)`,
        '150 Opening BINARY mode data connection for hello.txt (6 bytes).',
        '226 Transfer complete.',
        '6 bytes received in 00:00 (292.96 KiB/s)',
        'local: up1.txt remote: up1.txt',
        `229 Entering Extended Passive Mode (|||${ports[1]}|)`,
        '150 Ok to send data.',
        '226 Transfer complete.',
        '12 bytes sent in 00:00 (585.93 KiB/s)',
        `229 Entering Extended Passive Mode (|||${ports[2]}|)`,
        '150 Here comes the directory listing.',
        ...LISTING,
        '-rw-r--r--    1 1000     1000           12 Nov 21 07:00 up1.txt',
        '226 Directory send OK.',
        `229 Entering Extended Passive Mode (|||${ports[3]}|)`,
        '150 Here comes the directory listing.',
        'docs',
        'hello.txt',
        'up1.txt',
        '226 Directory send OK.',
        '250 Directory successfully changed.',
        'Remote directory: /home/test/docs',
        '550 Failed to change directory.',
        '221 Goodbye.',
      ),
    );
    assert.equal(r.err, '');
    assert.equal(client.fs.read('/root/hello.txt'), 'hello\n');
    assert.equal(server.fs.read('/home/test/up1.txt'), 'from-client\n');
  });

  it('without -v only error replies show, without their code; a refused PORT leaves tnftp\'s bind warning', () => {
    const { net, client } = tutorialLab(null);
    const r = net.runProgram(client, ftp, ['ftp', '-n', '192.168.0.18'], 'user test wrong\nls\nbye\n');
    assert.equal(r.out, lines('Login incorrect.', 'Login failed.', 'Please login with USER and PASS.', 'Please login with USER and PASS.'));
    assert.equal(r.err, "ftp: Can't bind for data connection: Address already in use\n");
    // PAM's 2 s and vsftpd's delay_failed_login
    assert.ok(r.ns >= 3 * SEC && r.ns < 4 * SEC, String(r.ns));
  });

  it('without -n: the name and password come from standard input after the prompts', () => {
    const { net, client } = tutorialLab(null);
    const r = net.runProgram(client, ftp, ['ftp', '-v', '192.168.0.18'], 'test\ntest123\nls\nbye\n');
    const port = /\|\|\|(\d+)\|/.exec(r.out)![1];
    assert.equal(
      r.out,
      'Connected to 192.168.0.18.\n220 (vsFTPd 3.0.3)\nName (192.168.0.18:root): ' +
        lines(...LOGIN.slice(2), `229 Entering Extended Passive Mode (|||${port}|)`, '150 Here comes the directory listing.', ...LISTING, '226 Directory send OK.', '221 Goodbye.'),
    );
    assert.equal(r.err, 'Password: ');
  });

  it('a quiet session prints the listing only', () => {
    const { net, client } = tutorialLab(null);
    const r = net.runProgram(client, ftp, ['ftp', '-n', '192.168.0.18'], 'user test test123\nls\nget hello.txt\nbye\n');
    assert.equal(r.out, lines(...LISTING));
    assert.equal(r.err, '');
  });

  it('no server: refused, then "Not connected."', () => {
    const { net, client } = tutorialLab(null);
    const r2 = net.runProgram(client, ftp, ['ftp', '-nv', '192.168.0.2'], 'ls\nuser test x\nbye\n');
    assert.equal(r2.out, lines('Not connected.', 'Not connected.'));
    assert.equal(r2.err, "ftp: Can't connect to `192.168.0.2:21': Connection refused\nftp: Can't connect to `192.168.0.2:ftp'\n");
  });

  it('passive toggles and unknown commands, as tnftp prints them', () => {
    const { net, client } = tutorialLab(null);
    const r = net.runProgram(client, ftp, ['ftp', '-nv'], 'passive\npassive\npassive on\npassive off\npassive auto\npassive bogus\nfoo\nls\n');
    assert.equal(
      r.out,
      lines(
        'Passive mode: off; fallback to active mode: off.',
        'Passive mode: on; fallback to active mode: on.',
        'Passive mode: on; fallback to active mode: off.',
        'Passive mode: off; fallback to active mode: off.',
        'Passive mode: on; fallback to active mode: on.',
        'usage: passive [ on | off | auto ]',
        '?Invalid command.',
        'Not connected.',
      ),
    );
  });
});

describe('filezilla', () => {
  const HEAD = [
    'Status: Connecting to 192.168.0.18:21...',
    'Status: Connection established, waiting for welcome message...',
    'Response: 220 (vsFTPd 3.0.3)',
    'Command: AUTH TLS',
    'Response: 530 Please login with USER and PASS.',
    'Command: AUTH SSL',
    'Response: 530 Please login with USER and PASS.',
    'Status: Insecure server, it does not support FTP over TLS.',
    'Command: USER test',
    'Response: 331 Please specify the password.',
    'Command: PASS *******',
    'Response: 230 Login successful.',
    'Command: OPTS UTF8 ON',
    'Response: 200 Always in UTF8 mode.',
    'Status: Logged in',
    'Status: Retrieving directory listing...',
    'Command: PWD',
    'Response: 257 "/home/test" is the current directory',
    'Command: TYPE I',
    'Response: 200 Switching to Binary mode.',
  ];

  it("the tutorial's passive listing that times out after 20 seconds of inactivity", () => {
    const { net, client } = tutorialLab(PORT21);
    const r = net.runProgram(client, filezilla, ['filezilla', 'ftp://test:test123@192.168.0.18/']);
    const pasv = /\(192,168,0,18,\d+,\d+\)/.exec(r.out)![0];
    assert.equal(
      r.out,
      lines(
        ...HEAD,
        'Command: PASV',
        `Response: 227 Entering Passive Mode ${pasv}.`,
        'Command: LIST',
        'Error: Connection timed out after 20 seconds of inactivity',
        'Error: Failed to retrieve directory listing',
      ),
    );
    assert.equal(r.status, 1);
  });

  it('21/tcp closed: three attempts 20 s each, 5 s apart', () => {
    const { net, client } = tutorialLab({ ports: () => false });
    const r = net.runProgram(client, filezilla, ['filezilla', 'ftp://test:test123@192.168.0.18']);
    const attempt = ['Status: Connecting to 192.168.0.18:21...', 'Error: Connection timed out after 20 seconds of inactivity', 'Error: Could not connect to server'];
    assert.equal(r.out, lines(...attempt, 'Status: Waiting to retry...', ...attempt, 'Status: Waiting to retry...', ...attempt));
    assert.equal(r.ns, 70 * SEC);
  });

  it('no server: refused at once, with the retries', () => {
    const { net, client } = tutorialLab(null);
    const r = net.runProgram(client, filezilla, ['filezilla', '--retries', '1', 'ftp://192.168.0.2/']);
    const attempt = [
      'Status: Connecting to 192.168.0.2:21...',
      'Error: Connection attempt failed with "ECONNREFUSED - Connection refused by server".',
      'Error: Could not connect to server',
    ];
    assert.equal(r.out, lines(...attempt, 'Status: Waiting to retry...', ...attempt));
    assert.equal(r.status, 1);
  });

  it('active mode without 20/tcp: PORT accepted, LIST times out', () => {
    const { net, client } = tutorialLab(PORT21);
    const r = net.runProgram(client, filezilla, ['filezilla', '--active', 'ftp://test:test123@192.168.0.18/']);
    const port = /Command: PORT (192,168,0,2,\d+,\d+)/.exec(r.out)![1];
    assert.equal(
      r.out,
      lines(
        ...HEAD,
        `Command: PORT ${port}`,
        'Response: 200 PORT command successful. Consider using PASV.',
        'Command: LIST',
        'Error: Connection timed out after 20 seconds of inactivity',
        'Error: Failed to retrieve directory listing',
      ),
    );
  });

  it('with the passive range opened the listing succeeds', () => {
    const { net, client } = tutorialLab(
      { ports: (p) => p === 21 || (p >= 10090 && p <= 10100) },
      tutorialConf('pasv_enable=Yes\npasv_min_port=10090\npasv_max_port=10100'),
    );
    const r = net.runProgram(client, filezilla, ['filezilla', 'ftp://test:test123@192.168.0.18/']);
    const pasv = /\(192,168,0,18,(\d+),(\d+)\)/.exec(r.out)!;
    const port = Number(pasv[1]) * 256 + Number(pasv[2]);
    assert.ok(port >= 10090 && port <= 10100);
    assert.equal(
      r.out,
      lines(
        ...HEAD,
        'Command: PASV',
        `Response: 227 Entering Passive Mode ${pasv[0]}.`,
        'Command: LIST',
        'Response: 150 Here comes the directory listing.',
        'Response: 226 Directory send OK.',
        'Status: Directory listing of "/home/test" successful',
      ),
    );
    assert.equal(r.status, 0);
  });

  it('downloads and uploads, and the tutorial\'s active upload that times out without 20/tcp', () => {
    const { net, client, server } = tutorialLab({ ports: (p) => p === 21 || (p >= 10090 && p <= 10100) }, tutorialConf('pasv_min_port=10090\npasv_max_port=10100'));
    const get = net.runProgram(client, filezilla, ['filezilla', '--get', '/home/test/hello.txt', 'ftp://test:test123@192.168.0.18/']);
    const pasv = [...get.out.matchAll(/\(192,168,0,18,\d+,\d+\)/g)].map((m) => m[0]);
    assert.equal(
      get.out,
      lines(
        ...HEAD.slice(0, 15),
        'Status: Starting download of /home/test/hello.txt',
        'Command: TYPE I',
        'Response: 200 Switching to Binary mode.',
        'Command: PASV',
        `Response: 227 Entering Passive Mode ${pasv[0]}.`,
        'Command: RETR /home/test/hello.txt',
        'Response: 150 Opening BINARY mode data connection for /home/test/hello.txt (6 bytes).',
        'Response: 226 Transfer complete.',
        'Status: File transfer successful, transferred 6 bytes in less than one second',
      ),
    );
    assert.equal(client.fs.read('/root/hello.txt'), 'hello\n');
    client.fs.write('/root/big.iso', 'x'.repeat(1234));
    const put = net.runProgram(client, filezilla, ['filezilla', '--put', 'big.iso', 'ftp://test:test123@192.168.0.18/']);
    assert.match(put.out, /Status: Starting upload of \/root\/big.iso\n(.*\n)*Command: STOR big.iso\nResponse: 150 Ok to send data.\nResponse: 226 Transfer complete.\nStatus: File transfer successful, transferred 1,234 bytes in less than one second\n$/);
    assert.equal(server.fs.read('/home/test/big.iso')?.length, 1234);
    const active = net.runProgram(client, filezilla, ['filezilla', '--active', '--put', 'big.iso', 'ftp://test:test123@192.168.0.18/']);
    assert.match(active.out, /Command: STOR big.iso\nError: Connection timed out after 20 seconds of inactivity\nError: File transfer failed\n$/);
    assert.equal(active.status, 1);
  });

  it('URLs', () => {
    assert.deepEqual(parseFtpUrl('ftp://test:test123@192.168.0.18:2121/pub'), { user: 'test', pass: 'test123', host: '192.168.0.18', port: 2121, path: '/pub' });
    assert.deepEqual(parseFtpUrl('ftp://h'), { user: 'anonymous', pass: 'anonymous@example.com', host: 'h', port: 21, path: '' });
    assert.deepEqual(parseFtpUrl('ftp://a%40b:p%3Aw@h/x/y'), { user: 'a@b', pass: 'p:w', host: 'h', port: 21, path: '/x/y' });
    assert.equal(parseFtpUrl('ftp://h:0/'), null);
  });
});

/** A raw control connection: sends `commands`, collects what the server says; `connectData` opens the passive port. */
function rawClient(commands: string[], opts: { connectFrom?: 'self' | 'none'; linger?: boolean } = {}): Program {
  return function* (ctx) {
    const s = ctx.sockets.tcp();
    const c = yield* connectTcp(ctx, s, parseIp('192.168.0.18')!, 21, Infinity);
    if (c !== null) return 1;
    const r = new LineReader(s);
    const say = function* () {
      for (;;) {
        const l = yield* readLine(ctx, r, ctx.now() + 1000 * SEC);
        if (typeof l !== 'string' || l === 'eof' || l === 'timeout') return;
        ctx.out(`${l}\n`);
        if (/^\d{3} /.test(l)) return;
      }
    };
    yield* say();
    for (const cmd of commands) {
      s.send(utf8(`${cmd}\r\n`));
      ctx.out(`> ${cmd}\n`);
      yield* say();
      if (cmd === 'LIST' && opts.connectFrom !== 'none') yield* say();
    }
    if (opts.linger) yield* say();
    s.close();
    return 0;
  };
}

describe('vsftpd', () => {
  it('a passive data connection from another address: "425 Security: Bad IP connecting."', () => {
    const { net, client } = tutorialLab(null);
    const intruder = net.host('192.168.0.66', 'intruder');
    let pasvPort = 0;
    // the client asks for PASV; before its LIST, another host connects to the port
    const steal: Program = function* (ctx) {
      const s = ctx.sockets.tcp();
      s.owner = { wake: () => ctx.wake() };
      const r = yield* connectTcp(ctx, s, parseIp('192.168.0.18')!, pasvPort, Infinity);
      ctx.out(r === null ? 'connected\n' : `failed ${r}\n`);
      return 0;
    };
    const victim: Program = function* (ctx) {
      const s = ctx.sockets.tcp();
      s.owner = { wake: () => ctx.wake() };
      if ((yield* connectTcp(ctx, s, parseIp('192.168.0.18')!, 21, Infinity)) !== null) return 1;
      const r = new LineReader(s);
      const next = function* () {
        const l = yield* readLine(ctx, r, ctx.now() + 100 * SEC);
        ctx.out(`${l}\n`);
        return typeof l === 'string' ? l : '';
      };
      yield* next();
      for (const cmd of ['USER test', 'PASS test123', 'PASV']) {
        s.send(utf8(`${cmd}\r\n`));
        const l = yield* next();
        const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(l);
        if (m) pasvPort = Number(m[5]) * 256 + Number(m[6]);
      }
      const t = net.start(intruder, steal, ['steal'], '', (x) => ctx.out(`intruder: ${x}`));
      while (!t.done) yield ctx.sleep(SEC / 1000);
      s.send(utf8('LIST\r\n'));
      yield* next();
      s.close();
      return 0;
    };
    const out = net.runProgram(client, victim, ['victim']).out;
    assert.equal(
      out.replace(/\(192,168,0,18,\d+,\d+\)/, '(P)'),
      lines(
        '220 (vsFTPd 3.0.3)',
        '331 Please specify the password.',
        '230 Login successful.',
        '227 Entering Passive Mode (P).',
        'intruder: connected',
        '425 Security: Bad IP connecting.',
      ),
    );
  });

  it('accept_timeout: a LIST after PASV with no data connection gets 425 after 60 s', () => {
    const { net, client } = tutorialLab(null, tutorialConf('pasv_address=10.0.0.1'));
    net.seed(3);
    const r = net.runProgram(client, rawClient(['USER test', 'PASS test123', 'PASV', 'LIST', 'QUIT'], { connectFrom: 'none' }), ['raw']);
    const pasv = /10,0,0,1,\d+,\d+/.exec(r.out)![0];
    assert.equal(
      r.out,
      lines(
        '220 (vsFTPd 3.0.3)',
        '> USER test',
        '331 Please specify the password.',
        '> PASS test123',
        '230 Login successful.',
        '> PASV',
        `227 Entering Passive Mode (${pasv}).`,
        '> LIST',
        '425 Failed to establish connection.',
        '> QUIT',
        '221 Goodbye.',
      ),
    );
    assert.ok(r.ns >= 60 * SEC && r.ns < 61 * SEC);
  });

  it('idle_session_timeout, FEAT, SYST, TYPE, unknown commands, anonymous refused', () => {
    const { net, client } = tutorialLab(null, tutorialConf('idle_session_timeout=30'));
    const r = net.runProgram(
      client,
      rawClient(['FEAT', 'SYST', 'USER anonymous', 'PASS x', 'USER test', 'PASS test123', 'TYPE I', 'TYPE A', 'TYPE X', 'XYZ', 'PASS y', 'LIST', 'SIZE hello.txt', 'MDTM hello.txt', 'NOOP'], { connectFrom: 'none' }),
      ['raw'],
    );
    assert.equal(
      r.out,
      lines(
        '220 (vsFTPd 3.0.3)',
        '> FEAT',
        '211-Features:',
        ' EPRT',
        ' EPSV',
        ' MDTM',
        ' PASV',
        ' REST STREAM',
        ' SIZE',
        ' TVFS',
        '211 End',
        '> SYST',
        '530 Please login with USER and PASS.',
        '> USER anonymous',
        '331 Please specify the password.',
        '> PASS x',
        '530 Login incorrect.',
        '> USER test',
        '331 Please specify the password.',
        '> PASS test123',
        '230 Login successful.',
        '> TYPE I',
        '200 Switching to Binary mode.',
        '> TYPE A',
        '200 Switching to ASCII mode.',
        '> TYPE X',
        '500 Unrecognised TYPE command.',
        '> XYZ',
        '500 Unknown command.',
        '> PASS y',
        '230 Already logged in.',
        '> LIST',
        '425 Use PORT or PASV first.',
        '> SIZE hello.txt',
        '213 6',
        '> MDTM hello.txt',
        '213 20261120100000',
        '> NOOP',
        '200 NOOP ok.',
      ),
    );
    // an idle client is dropped after idle_session_timeout
    const idle = net.runProgram(client, rawClient(['USER test'], { linger: true }), ['raw']);
    assert.equal(idle.out, lines('220 (vsFTPd 3.0.3)', '> USER test', '331 Please specify the password.', '421 Timeout.'));
    assert.ok(idle.ns >= 30 * SEC && idle.ns < 31 * SEC);
  });

  it("CentOS's packaged files: user_list refuses root before the password", () => {
    const { net, client, server } = tutorialLab(null, tutorialConf());
    server.fs.files.delete('/etc/vsftpd/vsftpd.conf');
    for (const s of net.hosts.get(server.addr)!.listeners.values()) s.close();
    net.start(server, vsftpd, ['vsftpd', '/etc/vsftpd/vsftpd.conf']);
    net.runUntil(() => false, net.now + 1000);
    assert.match(server.fs.read('/etc/vsftpd/user_list') ?? '', /^root$/m);
    const r = net.runProgram(client, rawClient(['USER root', 'USER ftp', 'PASS x', 'QUIT']), ['raw']);
    assert.equal(
      r.out,
      lines('220 (vsFTPd 3.0.3)', '> USER root', '530 Permission denied.', '> USER ftp', '331 Please specify the password.', '> PASS x', '230 Login successful.', '> QUIT', '221 Goodbye.'),
    );
  });

  it('anonymous logins are chrooted to the ftp user\'s home', () => {
    const { net, client, server } = tutorialLab(null, tutorialConf().replace('anonymous_enable=NO', 'anonymous_enable=YES'));
    server.fs.addDir('/var', FILE_TIME);
    server.fs.addDir('/var/ftp', FILE_TIME);
    const r = net.runProgram(client, rawClient(['USER ftp', 'PASS me@', 'PWD', 'CWD /home', 'STOR x']), ['raw']);
    assert.equal(
      r.out,
      lines(
        '220 (vsFTPd 3.0.3)',
        '> USER ftp',
        '331 Please specify the password.',
        '> PASS me@',
        '230 Login successful.',
        '> PWD',
        '257 "/" is the current directory',
        '> CWD /home',
        '550 Failed to change directory.',
        '> STOR x',
        '550 Permission denied.',
      ),
    );
  });

  it('refuses a configuration it does not know, as vsftpd does', () => {
    const { net, server } = tutorialLab(null);
    server.fs.write('/etc/vsftpd/bad.conf', 'listen=YES\nlisten_porrt=21\n');
    const r = net.runProgram(server, vsftpd, ['vsftpd', '/etc/vsftpd/bad.conf']);
    assert.equal(r.err, '500 OOPS: unrecognised variable in config file: listen_porrt\r\n');
    assert.equal(r.status, 2);
    server.fs.write('/etc/vsftpd/inetd.conf', 'listen=NO\n');
    assert.equal(net.runProgram(server, vsftpd, ['vsftpd', '/etc/vsftpd/inetd.conf']).err, '500 OOPS: vsftpd: not configured for standalone, must be started from inetd\r\n');
    server.fs.write('/etc/vsftpd/both.conf', 'listen=YES\nlisten_ipv6=YES\n');
    assert.equal(net.runProgram(server, vsftpd, ['vsftpd', '/etc/vsftpd/both.conf']).err, '500 OOPS: run two copies of vsftpd for IPv4 and IPv6\r\n');
    assert.equal(net.runProgram(server, vsftpd, ['vsftpd', '/etc/none.conf']).err, '500 OOPS: cannot read config file: /etc/none.conf\r\n');
    // a package's file is put in place when it is missing: Debian's listens on IPv6 (and so on port 21 already taken here)
    assert.equal(net.runProgram(server, vsftpd, ['vsftpd', '/etc/vsftpd.conf']).err, '500 OOPS: could not bind listening IPv6 socket\r\n');
    assert.match(server.fs.read('/etc/vsftpd.conf') ?? '', /^listen_ipv6=YES$/m);
    assert.match(server.fs.read('/etc/ftpusers') ?? '', /^root$/m);
    assert.deepEqual(parseVsftpdConf('pasv_enable=maybe'), { error: 'bad bool value in config file for: pasv_enable' });
    assert.deepEqual(parseVsftpdConf('accept_timeout='), { error: 'missing value in config file for: accept_timeout' });
    const ok = parseVsftpdConf('# c\n  pasv_enable=Yes\nlocal_umask=022\nftpd_banner=Welcome.\n');
    assert.ok('conf' in ok);
    if ('conf' in ok) {
      assert.equal(ok.conf.pasv_enable, true);
      assert.equal(ok.conf.local_umask, 0o22);
      assert.equal(ok.conf.ftpd_banner, 'Welcome.');
    }
    const again = net.runProgram(server, vsftpd, ['vsftpd']);
    assert.equal(again.err, '500 OOPS: could not bind listening IPv4 socket\r\n');
  });

  it('passive ports: vsftpd\'s clamping and scaling', () => {
    const conf = (extra: string) => {
      const r = parseVsftpdConf(extra);
      assert.ok('conf' in r);
      return 'conf' in r ? r.conf : (undefined as never);
    };
    assert.deepEqual(pasvRange(conf('')), { min: 1024, max: 65535 });
    assert.deepEqual(pasvRange(conf('pasv_min_port=10090\npasv_max_port=10100')), { min: 10090, max: 10100 });
    assert.deepEqual(pasvRange(conf('pasv_min_port=10090\npasv_max_port=100')), { min: 10090, max: 65535 });
    assert.equal(pasvPort({ min: 10090, max: 10100 }, 0), 10090);
    assert.equal(pasvPort({ min: 10090, max: 10100 }, 65535), 10100);
    assert.equal(pasvPort({ min: 1024, max: 65535 }, 0x8000), 33280);
  });

  it("ls lines in vsftpd's format", () => {
    const now = Date.UTC(2026, 10, 21, 7, 0) / 1000;
    assert.equal(lsDate(FILE_TIME, now), 'Nov 20 10:00');
    assert.equal(lsDate(Date.UTC(2025, 0, 5) / 1000, now), 'Jan 05  2025');
    assert.equal(lsDate(now + 100, now), 'Nov 21  2026');
    assert.equal(
      listLine({ name: 'big.iso', type: 'file', size: 3972005888, mtimeSec: FILE_TIME, mode: 0o600, nlink: 1 }, now, { uid: 1000, gid: 1000 }),
      '-rw-------    1 1000     1000     3972005888 Nov 20 10:00 big.iso',
    );
    assert.equal(resolvePath('/home/test', '../x/./y'), '/home/x/y');
  });
});

describe('pieces', () => {
  it("tnftp's transfer summary", () => {
    assert.equal(transferSummary(6, 'received', 255_000), '6 bytes received in 00:00 (22.97 KiB/s)');
    assert.equal(transferSummary(1, 'sent', 2 * SEC), '1 byte sent in 00:02 (0.00 KiB/s)');
    assert.equal(transferSummary(3972005888, 'sent', 165 * SEC), '3972005888 bytes sent in 02:45 (22.95 MiB/s)');
    assert.equal(transferSummary(10, 'received', 3725 * SEC), '10 bytes received in  1:02:05 (0.00 KiB/s)');
  });
  it('canonical host names from /etc/hosts', () => {
    assert.equal(canonicalName('127.0.0.1 localhost\n192.168.0.18 server1 s1 # the FTP server\n', 's1'), 'server1');
    assert.equal(canonicalName(undefined, '192.168.0.18'), '192.168.0.18');
  });
  it('command words', () => {
    assert.deepEqual(splitWords(' get  "a b" c '), ['get', 'a b', 'c']);
  });
});
