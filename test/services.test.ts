/**
 * Services of the lab: `ss` against the real iproute2 6.1 on real sockets
 * in a network namespace, the daemons' protocol greetings and answers, and
 * the systemctl/service units that start and stop them.
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * Option sets compared with the real ss. `ss -l` and `ss -a` without a
 * table also list the kernel's netlink sockets, which the lab does not have.
 */
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
          'open(__file__ + ".ready", "w").close()',
          'time.sleep(5)',
          '',
        ].join('\n'),
      );
      const marks = SS_OPTIONS.map((o) => `echo "@@ ${o}"; ss ${o}`).join('; ');
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
      assert.equal(list.length, 12, parts.get('list'));
      for (const o of SS_OPTIONS) {
        const opts = parseSsArgs(o === '' ? [] : [o]);
        assert.ok(!('error' in opts));
        assert.equal(formatSs(list, opts, ssNames()), parts.get(o), `ss ${o}`);
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
async function daemonLab(files: Files = {}, hostname = 'server1'): Promise<{
  start(program: Program, argv: string[], where?: 'host' | 'client'): { pid: number; out: string };
  run(client: Program, from?: 'host' | 'client'): string;
  sockets(): SocketInfo[];
  done(): void;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-daemons-'));
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
