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
