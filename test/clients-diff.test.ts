/**
 * The clients against the real ones: the same topology (two namespaces
 * joined by a veth, 10.9.0.1 and 10.9.0.2, loopbacks up) built with real
 * network namespaces and the Debian tools, and in an nflab lab; for each
 * case a rule in the server namespace (accept, REJECT, DROP) and a client
 * command in the other. stdout, stderr and the exit status must agree,
 * with only wall-clock figures masked (round-trip times, elapsed
 * milliseconds, dig's id and WHEN, MAC addresses).
 */
import { test, after } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRunNflab } from './diff/nflab.js';

const PREFIX = `nflabt-cl${process.pid % 10000}`;
const NS_A = `${PREFIX}a`;
const NS_B = `${PREFIX}b`;
const TOOL_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', HOME: '/root' };

/** One client command, with the rules of the server namespace (B) and of the client's (A) in force. */
interface Case {
  name: string;
  rulesB?: string[][];
  rulesA?: string[][];
  argv: string[];
  stdin?: string;
  /** The kernel lists neighbours in its hash table's order (random per boot): compare the lines as a set. */
  unordered?: boolean;
  /** A `nc -l PORT` in B answering every connection with this text (standard input of the listener). */
  server?: { port: number; response: string };
  /** Seconds to wait after the case (on both sides: the lab's clock follows), letting ICMP rate limits refill. */
  pauseAfterS?: number;
}

const CASES: Case[] = [
  // first: B's ICMP rate limit towards A is still full (later the real kernel's refills with wall time, the lab's does not)
  { name: 'traceroute host prohibited', rulesB: [['-A', 'INPUT', '-p', 'udp', '-j', 'REJECT', '--reject-with', 'icmp-host-prohibited']], argv: ['traceroute', '-n', '-q', '1', '10.9.0.2'], pauseAfterS: 6 },
  { name: 'ping replies', argv: ['ping', '-c', '2', '-i', '0.2', '10.9.0.2'] },
  { name: 'ping -q -n', argv: ['ping', '-q', '-n', '-c', '2', '-i', '0.2', '10.9.0.2'] },
  { name: 'ping -s 4 (no timing)', argv: ['ping', '-c', '1', '-s', '4', '10.9.0.2'] },
  { name: 'ping -s 2000 (fragments)', argv: ['ping', '-c', '1', '-s', '2000', '10.9.0.2'] },
  { name: 'ping -I iface', argv: ['ping', '-c', '1', '-I', `${PREFIX}x`, '10.9.0.2'] },
  { name: 'ping host prohibited', rulesB: [['-A', 'INPUT', '-p', 'icmp', '-j', 'REJECT', '--reject-with', 'icmp-host-prohibited']], argv: ['ping', '-c', '2', '-i', '0.2', '10.9.0.2'] },
  { name: 'ping port unreachable', rulesB: [['-A', 'INPUT', '-p', 'icmp', '-j', 'REJECT']], argv: ['ping', '-c', '2', '-i', '0.2', '10.9.0.2'] },
  { name: 'ping net unreachable', rulesB: [['-A', 'INPUT', '-p', 'icmp', '-j', 'REJECT', '--reject-with', 'icmp-net-unreachable']], argv: ['ping', '-c', '1', '10.9.0.2'] },
  { name: 'ping dropped', rulesB: [['-A', 'INPUT', '-p', 'icmp', '-j', 'DROP']], argv: ['ping', '-c', '2', '-i', '0.2', '-W', '1', '10.9.0.2'] },
  { name: 'ping dropped, -w', rulesB: [['-A', 'INPUT', '-p', 'icmp', '-j', 'DROP']], argv: ['ping', '-w', '1', '10.9.0.2'] },
  { name: 'ping OUTPUT drop', rulesA: [['-A', 'OUTPUT', '-p', 'icmp', '-j', 'DROP']], argv: ['ping', '-c', '1', '-W', '1', '10.9.0.2'] },
  { name: 'ping no neighbour', argv: ['ping', '-c', '2', '-i', '0.5', '10.9.0.77'] },
  { name: 'ping no route', argv: ['ping', '-c', '1', '192.168.77.1'] },
  { name: 'ping unknown name', argv: ['ping', '-c', '1', 'no-such-host-here'] },
  { name: 'nc refused', argv: ['nc', '-zv', '10.9.0.2', '22'] },
  { name: 'nc refused, no -v', argv: ['nc', '-z', '10.9.0.2', '22'] },
  { name: 'nc range', argv: ['nc', '-zvn', '10.9.0.2', '20-23'] },
  { name: 'nc host prohibited', rulesB: [['-A', 'INPUT', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'icmp-host-prohibited']], argv: ['nc', '-zv', '10.9.0.2', '22'] },
  { name: 'nc net unreachable', rulesB: [['-A', 'INPUT', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'icmp-net-unreachable']], argv: ['nc', '-zv', '10.9.0.2', '22'] },
  { name: 'nc tcp-reset', rulesB: [['-A', 'INPUT', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset']], argv: ['nc', '-zv', '10.9.0.2', '80'] },
  { name: 'nc dropped, -w 1', rulesB: [['-A', 'INPUT', '-p', 'tcp', '-j', 'DROP']], argv: ['nc', '-zv', '-w', '1', '10.9.0.2', '22'] },
  { name: 'nc no route', argv: ['nc', '-zv', '192.168.77.1', '22'] },
  { name: 'nc udp closed', argv: ['nc', '-zvu', '10.9.0.2', '53'] },
  { name: 'ssh refused', argv: ['ssh', '-o', 'BatchMode=yes', '10.9.0.2', 'true'] },
  { name: 'ssh no route to host', rulesB: [['-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'REJECT', '--reject-with', 'icmp-host-prohibited']], argv: ['ssh', '-p', '22', '10.9.0.2', 'true'] },
  { name: 'ssh ConnectTimeout', rulesB: [['-A', 'INPUT', '-p', 'tcp', '-j', 'DROP']], argv: ['ssh', '-o', 'ConnectTimeout=1', '10.9.0.2', 'true'] },
  { name: 'ssh network unreachable', argv: ['ssh', '192.168.77.1', 'true'] },
  { name: 'curl refused', argv: ['curl', '-sS', 'http://10.9.0.2/'] },
  { name: 'curl refused -v', argv: ['curl', '-sv', 'http://10.9.0.2:8080/x'] },
  { name: 'curl no route', rulesB: [['-A', 'INPUT', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'icmp-host-prohibited']], argv: ['curl', '-sSv', 'http://10.9.0.2/'] },
  { name: 'curl connect timeout', rulesB: [['-A', 'INPUT', '-p', 'tcp', '-j', 'DROP']], argv: ['curl', '-sSv', '--connect-timeout', '1', 'http://10.9.0.2/'] },
  { name: 'curl max time', rulesB: [['-A', 'INPUT', '-p', 'tcp', '-j', 'DROP']], argv: ['curl', '-sS', '-m', '1', 'http://10.9.0.2/'] },
  { name: 'dig refused', argv: ['dig', '@10.9.0.2', 'example.com', '+tries=2'] },
  { name: 'dig timed out', rulesB: [['-A', 'INPUT', '-p', 'udp', '-j', 'DROP']], argv: ['dig', '@10.9.0.2', 'example.com', '+tries=1', '+timeout=1'] },
  { name: 'dig no route', argv: ['dig', '@192.168.77.1', 'example.com', '+short'] },
  { name: 'traceroute one hop', argv: ['traceroute', '-n', '10.9.0.2'] },
  { name: 'traceroute icmp', argv: ['traceroute', '-n', '-I', '-w', '5,0,0', '10.9.0.2'] },
  { name: 'arp table', argv: ['arp', '-n'], unordered: true },
  { name: 'arp bsd style', argv: ['arp', '-an'], unordered: true },
  { name: 'arp no entry', argv: ['arp', '-n', '10.9.0.99'] },
];

/** Cases run while an SSH server listens in B (the real sshd, and the lab's). */
const SSHD_CASES: Case[] = [
  { name: 'nc to sshd', argv: ['nc', '-zv', '10.9.0.2', '22'] },
  { name: 'nc range over sshd', argv: ['nc', '-zv', '10.9.0.2', '21-23'] },
  { name: 'ssh to sshd', argv: ['ssh', '-o', 'BatchMode=yes', '10.9.0.2', 'true'] },
  { name: 'curl to sshd', argv: ['curl', '-sS', 'http://10.9.0.2:22/'] },
  // one probe a hop: with three, the real one's later probes expire when an answer takes over 3 times the first's few microseconds
  { name: 'traceroute tcp to sshd', argv: ['traceroute', '-n', '-q', '1', '-T', '-p', '22', '10.9.0.2'] },
];

const HTTP_OK = 'HTTP/1.1 200 OK\r\nServer: nc\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n';

/** Cases against a `nc -l` in B playing a server (the same program on both sides). */
const SERVER_CASES: Case[] = [
  { name: 'curl success -v', server: { port: 8080, response: HTTP_OK }, argv: ['curl', '-sv', 'http://10.9.0.2:8080/index.html'] },
  { name: 'curl -I', server: { port: 8081, response: HTTP_OK.replace('hello\n', '') }, argv: ['curl', '-sI', 'http://10.9.0.2:8081/'] },
  { name: 'curl -i, a body without length that never ends', server: { port: 8082, response: 'HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\n\r\n<h1>no</h1>\n' }, argv: ['curl', '-sSi', '-m', '1', 'http://10.9.0.2:8082/x'] },
  { name: 'nc prints a banner, -w ends it', server: { port: 8083, response: 'SSH-2.0-Test\r\n' }, argv: ['nc', '-w', '1', '10.9.0.2', '8083'] },
  { name: 'nc -zv to a listener', server: { port: 8084, response: '' }, argv: ['nc', '-zv', '10.9.0.2', '8084'] },
];

/** Masks what depends on the wall clock or on random numbers. */
function mask(text: string): string {
  return text
    .replace(/time=\d+(\.\d+)? ms/g, 'time=T ms')
    .replace(/, time \d+ms/g, ', time Tms')
    .replace(/rtt min\/avg\/max\/mdev = [\d./]+ ms/g, 'rtt min/avg/max/mdev = T ms')
    .replace(/after \d+ ms/g, 'after T ms')
    .replace(/after \d+ milliseconds/g, 'after T milliseconds')
    .replace(/id: \d+/g, 'id: N')
    .replace(/Query time: \d+ msec/g, 'Query time: T msec')
    .replace(/WHEN: .*/g, 'WHEN: W')
    .replace(/ {2}\d+\.\d{3} ms/g, '  T ms')
    .replace(/([0-9a-f]{2}:){5}[0-9a-f]{2}/g, 'MAC')
    // curl -v notes the data it does not show when standard output is not a terminal (nflab's is one)
    .replace(/^\{ \[\d+ bytes data\]\n/gm, '');
}

interface Outcome {
  stdout: string;
  stderr: string;
  status: number;
}

function sh(argv: string[], input?: string): Outcome {
  const r = spawnSync(argv[0]!, argv.slice(1), { env: TOOL_ENV, encoding: 'utf8', input: input ?? '', timeout: 30_000 });
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status ?? -1 };
}

/** The topology, as commands; `run` takes an argv in the host's namespace. */
function topology(a: string, b: string, ifA: string, ifB: string): string[][] {
  return [
    ['ip', 'netns', 'add', a],
    ['ip', 'netns', 'add', b],
    ['ip', 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB],
    ['ip', 'link', 'set', ifA, 'netns', a],
    ['ip', 'link', 'set', ifB, 'netns', b],
    ['ip', '-n', a, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', b, 'link', 'set', 'lo', 'up'],
    ['ip', '-n', a, 'link', 'set', ifA, 'up'],
    ['ip', '-n', b, 'link', 'set', ifB, 'up'],
    ['ip', '-n', a, 'addr', 'add', '10.9.0.1/24', 'dev', ifA],
    ['ip', '-n', b, 'addr', 'add', '10.9.0.2/24', 'dev', ifB],
  ];
}

function cleanupReal(): void {
  sh(['ip', 'netns', 'del', NS_A]);
  sh(['ip', 'netns', 'del', NS_B]);
}

/** Ends the real sshd this test started (by the pid it wrote). */
function stopRealSshd(): void {
  const file = `/run/${PREFIX}-sshd.pid`;
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (pid > 1) {
    try {
      process.kill(pid);
    } catch {
      // already gone
    }
  }
  rmSync(file, { force: true });
}

after(() => {
  stopRealSshd();
  cleanupReal();
});

test('clients agree with the real tools in a namespace pair', { timeout: 300_000 }, async () => {
  const runNflab = await loadRunNflab();
  const lab = mkdtempSync('/tmp/nflab-clients-');
  mkdirSync(join(lab, 'fs', 'etc'), { recursive: true });
  mkdirSync(join(lab, 'fs', 'root'), { recursive: true });
  writeFileSync(join(lab, 'fs', 'etc', 'hosts'), '127.0.0.1\tlocalhost\n');
  const nflab = async (argv: string[], stdin?: string): Promise<Outcome> => {
    const r = await runNflab(argv, stdin === undefined ? { lab } : { lab, stdin });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };
  cleanupReal();
  try {
    for (const argv of topology(NS_A, NS_B, `${PREFIX}x`, `${PREFIX}y`)) {
      const r = sh(argv);
      assert.equal(r.status, 0, `real: ${argv.join(' ')}: ${r.stderr}`);
      const n = await nflab(argv);
      assert.equal(n.status, 0, `nflab: ${argv.join(' ')}: ${n.stderr}`);
    }
    const differences: string[] = [];
    const realSshd = ['ip', 'netns', 'exec', NS_B, '/usr/sbin/sshd', '-o', `PidFile=/run/${PREFIX}-sshd.pid`];
    let lastEnd = 0;
    const all = [...CASES, ...SERVER_CASES, { name: 'start sshd', argv: [] }, ...SSHD_CASES];
    for (const c of all) {
      if (c.argv.length === 0) {
        mkdirSync('/run/sshd', { recursive: true });
        assert.equal(sh(realSshd).status, 0, 'real sshd starts');
        // the daemon goes to the background (its start's status is the lab runtime's business)
        await nflab(['ip', 'netns', 'exec', NS_B, 'sshd']);
        continue;
      }
      for (const [ns, rules] of [
        [NS_A, c.rulesA],
        [NS_B, c.rulesB],
      ] as const) {
        for (const rule of rules ?? []) {
          sh(['ip', 'netns', 'exec', ns, 'iptables', ...rule]);
          await nflab(['ip', 'netns', 'exec', ns, 'iptables', ...rule]);
        }
      }
      let server: ChildProcess | undefined;
      let serverOut = '';
      if (c.server) {
        server = spawn('ip', ['netns', 'exec', NS_B, 'nc', '-l', String(c.server.port)], { env: TOOL_ENV, stdio: ['pipe', 'pipe', 'ignore'] });
        server.stdin!.end(c.server.response);
        serverOut = '';
        server.stdout!.on('data', (b: Buffer) => (serverOut += b.toString('utf8')));
        writeFileSync(join(lab, 'fs', 'root', `resp-${c.server.port}`), c.server.response);
        await new Promise((r) => setTimeout(r, 300));
      }
      // the lab's clock moves as much as the kernel's did since the last case (ICMP rate limits refill with it)
      const started = Date.now();
      if (lastEnd !== 0) await nflab(['sleep', ((started - lastEnd) / 1000).toFixed(3)]);
      const real = sh(['ip', 'netns', 'exec', NS_A, ...c.argv], c.stdin);
      lastEnd = Date.now();
      let ours: Outcome;
      if (c.server) {
        // the lab's listener and the client in one script; the listener prints the request it gets on the same terminal
        writeFileSync(
          join(lab, 'server.sh'),
          `ip netns exec ${NS_B} nc -l ${c.server.port} < /root/resp-${c.server.port} &\nip netns exec ${NS_A} ${c.argv.map((a) => `'${a}'`).join(' ')}\n`,
        );
        ours = await nflab(['run', join(lab, 'server.sh')]);
      } else {
        ours = await nflab(['ip', 'netns', 'exec', NS_A, ...c.argv], c.stdin);
      }
      if (c.pauseAfterS) sh(['sleep', String(c.pauseAfterS)]);
      if (server && server.exitCode === null) server.kill();
      for (const ns of [NS_A, NS_B]) {
        sh(['ip', 'netns', 'exec', ns, 'iptables', '-F']);
        await nflab(['ip', 'netns', 'exec', ns, 'iptables', '-F']);
      }
      if (server) {
        await new Promise((r) => setTimeout(r, 100));
        // on one terminal, the real listener's output (the request) comes before the client's
        real.stdout = serverOut + real.stdout;
        ours.stderr = ours.stderr.replace(/^nflab: \S+server\.sh: line \d+: command failed with exit status \d+\n/m, '');
      }
      const norm = (t: string): string => (c.unordered ? mask(t).split('\n').sort().join('\n') : mask(t));
      const r = { stdout: norm(real.stdout), stderr: norm(real.stderr), status: real.status };
      const o = { stdout: norm(ours.stdout), stderr: norm(ours.stderr), status: ours.status };
      if (JSON.stringify(r) !== JSON.stringify(o)) {
        differences.push(`${c.name}: ${c.argv.join(' ')}\n  real:  ${JSON.stringify(r)}\n  nflab: ${JSON.stringify(o)}`);
      }
    }
    assert.equal(differences.join('\n'), '', `${differences.length} of ${all.length - 1} cases differ`);
  } finally {
    stopRealSshd();
    cleanupReal();
    rmSync(lab, { recursive: true, force: true });
  }
});

const NS_R = [`${PREFIX}r`, `${PREFIX}s`, `${PREFIX}t`] as const;

/** Client (10.9.0.1) — router (10.9.0.2, 10.9.1.1, forwarding) — server (10.9.1.2), default routes through the router. */
function routed(): string[][] {
  const [c, r, s] = NS_R;
  return [
    ['ip', 'netns', 'add', c],
    ['ip', 'netns', 'add', r],
    ['ip', 'netns', 'add', s],
    ['ip', 'link', 'add', `${PREFIX}p`, 'type', 'veth', 'peer', 'name', `${PREFIX}q`],
    ['ip', 'link', 'add', `${PREFIX}u`, 'type', 'veth', 'peer', 'name', `${PREFIX}v`],
    ['ip', 'link', 'set', `${PREFIX}p`, 'netns', c],
    ['ip', 'link', 'set', `${PREFIX}q`, 'netns', r],
    ['ip', 'link', 'set', `${PREFIX}u`, 'netns', r],
    ['ip', 'link', 'set', `${PREFIX}v`, 'netns', s],
    ...NS_R.map((n) => ['ip', '-n', n, 'link', 'set', 'lo', 'up']),
    ['ip', '-n', c, 'link', 'set', `${PREFIX}p`, 'up'],
    ['ip', '-n', r, 'link', 'set', `${PREFIX}q`, 'up'],
    ['ip', '-n', r, 'link', 'set', `${PREFIX}u`, 'up'],
    ['ip', '-n', s, 'link', 'set', `${PREFIX}v`, 'up'],
    ['ip', '-n', c, 'addr', 'add', '10.9.0.1/24', 'dev', `${PREFIX}p`],
    ['ip', '-n', r, 'addr', 'add', '10.9.0.2/24', 'dev', `${PREFIX}q`],
    ['ip', '-n', r, 'addr', 'add', '10.9.1.1/24', 'dev', `${PREFIX}u`],
    ['ip', '-n', s, 'addr', 'add', '10.9.1.2/24', 'dev', `${PREFIX}v`],
    ['ip', '-n', c, 'route', 'add', 'default', 'via', '10.9.0.2'],
    ['ip', '-n', s, 'route', 'add', 'default', 'via', '10.9.1.1'],
    ['ip', 'netns', 'exec', r, 'sysctl', '-q', 'net.ipv4.ip_forward=1'],
  ];
}

/** Cases through the router; rules go into the router's FORWARD chain. */
const ROUTED_CASES: Case[] = [
  // -w 5,0,0: no waits cut by other probes' round trips (microseconds here, whose jitter makes the real one print stars)
  { name: 'traceroute two hops', argv: ['traceroute', '-n', '-w', '5,0,0', '10.9.1.2'], pauseAfterS: 6 },
  { name: 'traceroute icmp two hops', argv: ['traceroute', '-n', '-I', '-w', '5,0,0', '10.9.1.2'], pauseAfterS: 6 },
  { name: 'ping through the router', argv: ['ping', '-c', '2', '-i', '0.2', '10.9.1.2'] },
  { name: 'ping ttl exceeded', argv: ['ping', '-c', '1', '-t', '1', '10.9.1.2'] },
  { name: 'ping forward prohibited', rulesB: [['-A', 'FORWARD', '-p', 'icmp', '-j', 'REJECT', '--reject-with', 'icmp-host-prohibited']], argv: ['ping', '-c', '1', '10.9.1.2'] },
  { name: 'nc refused by the far host', argv: ['nc', '-zv', '10.9.1.2', '22'] },
  { name: 'nc forward dropped', rulesB: [['-A', 'FORWARD', '-p', 'tcp', '-j', 'DROP']], argv: ['nc', '-zv', '-w', '1', '10.9.1.2', '22'] },
  { name: 'ssh forward prohibited', rulesB: [['-A', 'FORWARD', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'icmp-host-prohibited']], argv: ['ssh', '10.9.1.2', 'true'] },
];

test('clients agree with the real tools through a router', { timeout: 300_000 }, async () => {
  const runNflab = await loadRunNflab();
  const lab = mkdtempSync('/tmp/nflab-clients-');
  mkdirSync(join(lab, 'fs', 'etc'), { recursive: true });
  writeFileSync(join(lab, 'fs', 'etc', 'hosts'), '127.0.0.1\tlocalhost\n');
  const nflab = async (argv: string[]): Promise<Outcome> => {
    const r = await runNflab(argv, { lab });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };
  const clean = (): void => {
    for (const n of NS_R) sh(['ip', 'netns', 'del', n]);
  };
  clean();
  try {
    for (const argv of routed()) {
      const r = sh(argv);
      assert.equal(r.status, 0, `real: ${argv.join(' ')}: ${r.stderr}`);
      const n = await nflab(argv);
      assert.equal(n.status, 0, `nflab: ${argv.join(' ')}: ${n.stderr}`);
    }
    const differences: string[] = [];
    let lastEnd = 0;
    for (const c of ROUTED_CASES) {
      for (const rule of c.rulesB ?? []) {
        sh(['ip', 'netns', 'exec', NS_R[1], 'iptables', ...rule]);
        await nflab(['ip', 'netns', 'exec', NS_R[1], 'iptables', ...rule]);
      }
      const started = Date.now();
      if (lastEnd !== 0) await nflab(['sleep', ((started - lastEnd) / 1000).toFixed(3)]);
      const real = sh(['ip', 'netns', 'exec', NS_R[0], ...c.argv]);
      lastEnd = Date.now();
      const ours = await nflab(['ip', 'netns', 'exec', NS_R[0], ...c.argv]);
      if (c.pauseAfterS) sh(['sleep', String(c.pauseAfterS)]);
      sh(['ip', 'netns', 'exec', NS_R[1], 'iptables', '-F']);
      await nflab(['ip', 'netns', 'exec', NS_R[1], 'iptables', '-F']);
      const r = { stdout: mask(real.stdout), stderr: mask(real.stderr), status: real.status };
      const o = { stdout: mask(ours.stdout), stderr: mask(ours.stderr), status: ours.status };
      if (JSON.stringify(r) !== JSON.stringify(o)) {
        differences.push(`${c.name}: ${c.argv.join(' ')}\n  real:  ${JSON.stringify(r)}\n  nflab: ${JSON.stringify(o)}`);
      }
    }
    assert.equal(differences.join('\n'), '', `${differences.length} of ${ROUTED_CASES.length} cases differ`);
  } finally {
    clean();
    rmSync(lab, { recursive: true, force: true });
  }
});
