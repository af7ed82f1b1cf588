/**
 * The stack against Linux: the same exchanges run with real sockets
 * (python3) between two network namespaces joined by a veth, captured
 * with tcpdump, and with the stack in the test network. Every segment is
 * compared — direction, flags, relative sequence and acknowledgement
 * numbers, window, option bytes, DF, a zero IP ID — with ports,
 * initial sequence numbers, timestamps and non-zero IP IDs masked; the
 * retransmission instants are compared exactly, up to where the kernel's
 * jiffies stood when the exchange began (the timer wheel rounds to
 * multiples of 2^k jiffies of that clock).
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe as suite, it } from 'node:test';
import { readPcap } from '../src/core/wire/pcap.js';
import { guardKernel } from './diff/suite.js';
import { describe, ip, TestNet, type Sent } from './stack-net.js';

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' };
const A = '10.9.250.1';
const B = '10.9.250.2';

/** A pair of namespaces a (A) and b (B) joined by a veth; deleted by `close`. */
class RealPair {
  readonly a = `nflabt-stk${process.pid}a`;
  readonly b = `nflabt-stk${process.pid}b`;
  readonly dir = mkdtempSync(join(tmpdir(), 'nflab-stack-'));

  constructor() {
    this.close();
    const steps = [
      ['netns', 'add', this.a],
      ['netns', 'add', this.b],
      ['-n', this.a, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.b],
      ['-n', this.a, 'addr', 'add', `${A}/24`, 'dev', 'eth0'],
      ['-n', this.b, 'addr', 'add', `${B}/24`, 'dev', 'eth0'],
      ['-n', this.a, 'link', 'set', 'lo', 'up'],
      ['-n', this.b, 'link', 'set', 'lo', 'up'],
      ['-n', this.a, 'link', 'set', 'eth0', 'up'],
      ['-n', this.b, 'link', 'set', 'eth0', 'up'],
    ];
    for (const s of steps) {
      const r = spawnSync('ip', s, { env: ENV, encoding: 'utf8' });
      if (r.status !== 0) {
        this.close();
        throw new Error(`ip ${s.join(' ')}: ${r.stderr}`);
      }
    }
  }

  /** Runs a command in namespace `ns` and waits for it. */
  exec(ns: string, argv: string[]): string {
    const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], { env: ENV, encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: status ${r.status} ${r.signal ?? ''} ${r.stdout} ${r.stderr} ${r.error ?? ''}`);
    return r.stdout;
  }

  /**
   * Runs `server` (python) in b and `client` in a while tcpdump captures
   * b's eth0; returns the IPv4 datagrams and their capture times (ns).
   */
  async capture(server: string, client: string): Promise<{ data: Uint8Array; ns: number; fromA: boolean }[]> {
    const pcap = join(this.dir, 'cap.pcap');
    const dump = spawn('ip', ['netns', 'exec', this.b, 'tcpdump', '-i', 'eth0', '-n', '-U', '--immediate-mode', '-s', '0', '-w', pcap, 'ip'], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let dumpErr = '';
    await new Promise<void>((resolve) => {
      dump.stderr.on('data', (b: Buffer) => {
        dumpErr += b.toString();
        if (dumpErr.includes('listening on')) resolve();
      });
      setTimeout(resolve, 3000);
    });
    const srv = spawn('ip', ['netns', 'exec', this.b, 'python3', '-c', server], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise((r) => setTimeout(r, 300));
    let cliErr = '';
    const cli = await new Promise<number>((resolve) => {
      const c = spawn('ip', ['netns', 'exec', this.a, 'python3', '-c', client], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr.on('data', (b: Buffer) => (cliErr += b.toString()));
      c.on('close', (code) => resolve(code ?? -1));
    });
    await new Promise<void>((resolve) => {
      if (srv.exitCode !== null) resolve();
      srv.on('close', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 200));
    dump.kill('SIGTERM');
    await new Promise<void>((resolve) => dump.on('close', () => resolve()));
    assert.equal(cli, 0, `the client script failed: ${cliErr}`);
    const cap = readPcap(new Uint8Array(readFileSync(pcap)));
    return cap.packets
      .filter((p) => p.data.length > 34 && p.data[12] === 0x08 && p.data[13] === 0x00)
      .map((p) => {
        const data = p.data.slice(14);
        return { data, ns: p.tsSec * 1e9 + p.tsNsec, fromA: data[15] === 1 };
      });
  }

  close(): void {
    spawnSync('ip', ['netns', 'del', this.a], { env: ENV });
    spawnSync('ip', ['netns', 'del', this.b], { env: ENV });
  }

  cleanup(): void {
    this.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The comparable description of a segment: no time, client port masked, IP ID shown only when zero. */
function masked(s: Sent, isn: Map<string, number>, clientPort: number): string {
  return describe(s, 0, isn, false)
    .replace(/^\S+ /, '')
    .replaceAll(`.${clientPort} `, '.C ')
    .replace(`.${clientPort}$`, '.C');
}

function portOf(d: Uint8Array): number {
  return (d[20]! << 8) | d[21]!;
}

const enc = (s: string) => new TextEncoder().encode(s);

/**
 * How late a real timer may run: on a loaded machine the kernel's timers
 * fire up to a jiffy or so after their bucket (seen: 1 ms to 5 ms), and
 * capture times jitter a little.
 */
const TOLERANCE_NS = 6e6;

const SERVER_XCHG = `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 84)); s.listen(5)
c, _ = s.accept(); c.recv(100); c.send(b"world\\n"); time.sleep(0.3); c.close()
c, _ = s.accept(); time.sleep(0.3); c.close(); time.sleep(0.5)
`;
const CLIENT_XCHG = `
import socket, time
c = socket.create_connection(("${B}", 84)); c.send(b"hello\\n"); c.recv(100); c.recv(100); c.close()
time.sleep(0.5)
c = socket.create_connection(("${B}", 84)); c.send(b"unread\\n"); time.sleep(0.6)
try:
    c.recv(100)
except ConnectionResetError:
    pass
c.close()
`;

/** The same exchange on the stack. */
function stackExchange(): Sent[] {
  const net = new TestNet(10e9 + 1e6);
  const a = net.host('a', A);
  const b = net.host('b', B);
  const l = b.sockets.tcp();
  l.bind(0, 84);
  l.listen(5);
  const c = a.sockets.tcp();
  c.connect(ip(B), 84);
  net.advance(1e6);
  const s = l.accept()!;
  c.send(enc('hello\n'));
  net.advance(1e6);
  s.read();
  s.send(enc('world\n'));
  net.advance(1e6);
  c.read();
  net.advance(300e6);
  s.close();
  net.advance(0.1e6);
  c.read();
  c.close();
  net.advance(500e6);
  const c2 = a.sockets.tcp();
  c2.connect(ip(B), 84);
  net.advance(1e6);
  const s2 = l.accept()!;
  c2.send(enc('unread\n'));
  net.advance(300e6);
  s2.close();
  net.advance(300e6);
  c2.read();
  c2.close();
  net.advance(1e6);
  return net.sent;
}

/** The descriptions of a list of datagrams, each connection's client port masked. */
function describeAll(list: { data: Uint8Array }[]): string[] {
  const isn = new Map<string, number>();
  return list.map((x) => {
    const d = x.data;
    const fromClient = (d[20]! << 8 | d[21]!) !== 84;
    const port = fromClient ? portOf(d) : (d[22]! << 8) | d[23]!;
    return masked({ ns: 0, from: '', data: d, verdict: 'pass' }, isn, port);
  });
}

/**
 * Whether `real` instants (ns, first one the reference) are those the
 * stack gives for some position of the kernel's jiffies: `model(startNs)`
 * returns the stack's instants for an exchange starting at `startNs`.
 */
function matchesSomeAlignment(real: number[], model: (startNs: number) => number[], period: number, toleranceNs: number): { ok: boolean; best: string } {
  let best = '';
  let bestErr = Infinity;
  for (let j = 0; j < period; j++) {
    for (const frac of [0.1, 0.3, 0.5, 0.7, 0.9]) {
      const start = 100e9 + (j + frac) * 4e6;
      const m = model(start);
      if (m.length !== real.length) {
        if (bestErr === Infinity) best = `count ${m.length} vs ${real.length}`;
        continue;
      }
      let err = 0;
      for (let i = 1; i < m.length; i++) err = Math.max(err, Math.abs(m[i]! - m[0]! - (real[i]! - real[0]!)));
      if (err < bestErr) {
        bestErr = err;
        best = `max error ${(err / 1e6).toFixed(3)} ms; real ${real.map((t) => ((t - real[0]!) / 1e6).toFixed(1)).join(' ')}; stack ${m.map((t) => ((t - m[0]!) / 1e6).toFixed(1)).join(' ')}`;
      }
    }
  }
  return { ok: bestErr <= toleranceNs, best };
}

suite('the stack against Linux', () => {
  const skip = guardKernel('the stack against Linux');
  const opts = skip === undefined ? {} : { skip };

  it('a handshake, data both ways, an orderly close and a reset for unread data: the same segments', opts, async () => {
    const pair = new RealPair();
    try {
      const real = await pair.capture(SERVER_XCHG, CLIENT_XCHG);
      assert.deepEqual(describeAll(stackExchange()), describeAll(real));
    } finally {
      pair.cleanup();
    }
  });

  it('an interactive exchange: the answer carries the ACK, later data waits for the 40 ms delayed ACK', opts, async () => {
    const pair = new RealPair();
    try {
      const server = `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 84)); s.listen(5)
c, _ = s.accept(); c.recv(100); c.send(b"a1"); c.recv(100); time.sleep(0.3); c.close(); time.sleep(0.2)
`;
      const client = `
import socket, time
c = socket.create_connection(("${B}", 84)); c.send(b"q1"); c.recv(100); time.sleep(0.05); c.send(b"q2"); c.recv(100); c.close(); time.sleep(0.2)
`;
      const real = await pair.capture(server, client);
      const net = new TestNet(10e9 + 1e6);
      const a = net.host('a', A);
      const b = net.host('b', B);
      const l = b.sockets.tcp();
      l.bind(0, 84);
      l.listen(5);
      const k = a.sockets.tcp();
      k.connect(ip(B), 84);
      net.advance(1e6);
      const s = l.accept()!;
      k.send(enc('q1'));
      net.advance(0.2e6);
      s.read();
      s.send(enc('a1'));
      net.advance(0.2e6);
      k.read();
      net.advance(50e6);
      k.send(enc('q2'));
      net.advance(0.2e6);
      s.read();
      net.advance(300e6);
      s.close();
      net.advance(0.2e6);
      k.read();
      k.close();
      net.advance(200e6);
      assert.deepEqual(describeAll(net.sent), describeAll(real));
      // the delayed ACK of q2: 40 to 44 ms after it (the next jiffy tick after 40 ms)
      const delay = (list: { data: Uint8Array; ns: number }[]) => {
        const q2 = list.findIndex((x, i) => i > 4 && x.data.length > 52 && x.data[15] === 1);
        return Math.round((list[q2 + 1]!.ns - list[q2]!.ns) / 1e6);
      };
      const realDelay = delay(real);
      const stackDelay = delay(net.sent);
      assert.ok(realDelay >= 40 && realDelay <= 48, `kernel: ${realDelay} ms`);
      assert.ok(stackDelay >= 40 && stackDelay <= 44, `stack: ${stackDelay} ms`);
    } finally {
      pair.cleanup();
    }
  });

  it('a new connection on the four-tuple of a TIME-WAIT socket is accepted', opts, async () => {
    const pair = new RealPair();
    try {
      const server = `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 84)); s.listen(5)
c, _ = s.accept(); c.close()
c, _ = s.accept(); c.recv(100); c.close(); time.sleep(0.3)
`;
      const client = `
import socket, time
c = socket.create_connection(("${B}", 84)); port = c.getsockname()[1]; c.recv(100); c.close(); time.sleep(0.2)
c = socket.socket(); c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); c.bind(("0.0.0.0", port)); c.connect(("${B}", 84)); c.send(b"again"); time.sleep(0.1); c.close(); time.sleep(0.2)
`;
      const real = await pair.capture(server, client);
      const net = new TestNet(10e9 + 1e6);
      const a = net.host('a', A);
      const b = net.host('b', B);
      const l = b.sockets.tcp();
      l.bind(0, 84);
      l.listen(5);
      const k = a.sockets.tcp();
      k.connect(ip(B), 84);
      net.advance(0.2e6);
      const port = k.local.port;
      l.accept()!.close();
      net.advance(0.2e6);
      k.read();
      k.close();
      net.advance(200e6);
      const k2 = a.sockets.tcp();
      k2.bind(0, port);
      k2.connect(ip(B), 84);
      net.advance(0.2e6);
      k2.send(enc('again'));
      net.advance(0.2e6);
      const s2 = l.accept()!;
      s2.read();
      s2.close();
      net.advance(100e6);
      k2.close();
      net.advance(200e6);
      assert.deepEqual(describeAll(net.sent), describeAll(real));
    } finally {
      pair.cleanup();
    }
  });

  it('a client that closes at once while the server greets it (nc -z against sshd): the reset', opts, async () => {
    const pair = new RealPair();
    try {
      const server = `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 84)); s.listen(5)
c, _ = s.accept(); time.sleep(0.1); c.send(b"SSH-2.0-OpenSSH_7.4" + bytes([13, 10])); time.sleep(0.1)
try:
    c.recv(100)
except OSError:
    pass
c.close(); time.sleep(0.2)
`;
      const client = `
import socket, time
c = socket.create_connection(("${B}", 84)); c.close(); time.sleep(0.4)
`;
      const real = await pair.capture(server, client);
      const net = new TestNet(10e9 + 1e6);
      const a = net.host('a', A);
      const b = net.host('b', B);
      const l = b.sockets.tcp();
      l.bind(0, 84);
      l.listen(5);
      const k = a.sockets.tcp();
      k.connect(ip(B), 84);
      net.advance(0.1e6);
      k.close();
      net.advance(100e6);
      const s = l.accept()!;
      s.send(enc('SSH-2.0-OpenSSH_7.4\r\n'));
      net.advance(100e6);
      // the reset finds the server's socket in CLOSE-WAIT: tcp_reset reports EPIPE there
      assert.equal(s.error, 'EPIPE');
      s.close();
      net.advance(200e6);
      assert.deepEqual(describeAll(net.sent), describeAll(real));
    } finally {
      pair.cleanup();
    }
  });

  it('the SYN options and the SYN-ACK answering them for each combination of timestamps, SACK and window scaling', opts, async () => {
    const pair = new RealPair();
    const combos = [
      { ts: 1, sack: 1, ws: 1 },
      { ts: 0, sack: 1, ws: 1 },
      { ts: 1, sack: 0, ws: 1 },
      { ts: 1, sack: 1, ws: 0 },
      { ts: 0, sack: 0, ws: 1 },
      { ts: 0, sack: 1, ws: 0 },
      { ts: 1, sack: 0, ws: 0 },
      { ts: 0, sack: 0, ws: 0 },
    ];
    try {
      const server = `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 84)); s.listen(50)
time.sleep(${combos.length * 0.3 + 1})`;
      const client = combos
        .map(
          (c) => `
for k, v in (("tcp_timestamps", ${c.ts}), ("tcp_sack", ${c.sack}), ("tcp_window_scaling", ${c.ws})):
    open("/proc/sys/net/ipv4/" + k, "w").write(str(v))
c = socket.create_connection(("${B}", 84)); time.sleep(0.1); c.close(); time.sleep(0.2)`,
        )
        .join('\n');
      const real = await pair.capture(server, `import socket, time\n${client}`);
      const sent: Sent[] = [];
      const closers: (() => void)[] = [];
      for (const c of combos) {
        const net = new TestNet();
        const a = net.host('a', A, { 'net.ipv4.tcp_timestamps': String(c.ts), 'net.ipv4.tcp_sack': String(c.sack), 'net.ipv4.tcp_window_scaling': String(c.ws) });
        const b = net.host('b', B);
        const l = b.sockets.tcp();
        l.bind(0, 84);
        l.listen(50);
        const k = a.sockets.tcp();
        k.connect(ip(B), 84);
        net.advance(100e6);
        k.close();
        net.advance(200e6);
        sent.push(...net.sent);
        // the server's exit closes the listener: the connections it never accepted are reset, in the order they came
        closers.push(() => {
          const from = net.sent.length;
          l.close();
          sent.push(...net.sent.slice(from));
        });
      }
      for (const close of closers) close();
      assert.deepEqual(describeAll(sent), describeAll(real));
    } finally {
      pair.cleanup();
    }
  });

  it('connect meeting each REJECT of the server, and a UDP socket meeting a closed port: the errno', opts, async () => {
    const pair = new RealPair();
    // REJECT's ICMP types and codes; the stack's peer answers with the same messages
    const rejects: [number, string, number, number][] = [
      [91, 'icmp-port-unreachable', 3, 3],
      [92, 'icmp-host-prohibited', 3, 10],
      [93, 'icmp-net-unreachable', 3, 0],
      [94, 'icmp-host-unreachable', 3, 1],
      [95, 'icmp-proto-unreachable', 3, 2],
      [96, 'icmp-net-prohibited', 3, 9],
      [97, 'icmp-admin-prohibited', 3, 13],
    ];
    try {
      // fourteen errors in seven seconds would exceed the per-destination ICMP rate limit
      pair.exec(pair.b, ['sysctl', '-q', '-w', 'net.ipv4.icmp_ratelimit=0']);
      for (const [port, how] of rejects) {
        pair.exec(pair.b, ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', String(port), '-j', 'REJECT', '--reject-with', how]);
      }
      const ports = rejects.map((r) => r[0]).join(', ');
      let out = pair.exec(pair.a, [
        'python3',
        '-c',
        `
import socket, errno, time
for p in (${ports}, 98):
    s = socket.socket()
    t = time.time()
    try:
        s.connect(("${B}", p)); print(p, "connected")
    except OSError as e:
        print(p, errno.errorcode[e.errno], round(time.time() - t))
    s.close()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.connect(("${B}", 9999)); u.send(b"x"); time.sleep(0.2)
try:
    u.recv(10)
except OSError as e:
    print("udp", errno.errorcode[e.errno])
try:
    u.send(b"y"); print("udp send ok")
except OSError as e:
    print("udp send", errno.errorcode[e.errno])
`,
      ]);
      const lines: string[] = [];
      out += pair.exec(pair.a, [
        'python3',
        '-c',
        `
import socket, errno, time, select
s = socket.socket(); s.setblocking(False); t = time.time(); s.connect_ex(("${B}", 92)); select.select([], [s], [], 5)
print("nonblocking", errno.errorcode[s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)], round(time.time() - t))
`,
      ]);
      for (const [port, , type, code] of [...rejects, [98, '', -1, -1] as [number, string, number, number]]) {
        const net = new TestNet();
        const a = net.host('a', A);
        net.host('b', B);
        const b = net.hosts[1]!;
        if (type >= 0) net.reject(b, () => true, type, code);
        const k = a.sockets.tcp();
        const t0 = net.now;
        k.connect(ip(B), port);
        while (k.state === 'SYN-SENT') net.advance(1e6);
        lines.push(`${port} ${k.state === 'ESTAB' ? 'connected' : k.error} ${((net.now - t0) / 1e9).toFixed(0)}`);
      }
      const net = new TestNet();
      const a = net.host('a', A);
      net.host('b', B);
      const u = a.sockets.udp();
      u.connect(ip(B), 9999);
      u.send(enc('x'));
      net.advance(200e6);
      lines.push(`udp ${u.takeError()}`);
      const e = u.send(enc('y'));
      lines.push(e ? `udp send ${e}` : 'udp send ok');
      {
        const net = new TestNet();
        const a = net.host('a', A);
        const b = net.host('b', B);
        net.reject(b, () => true, 3, 10);
        const k = a.sockets.tcp();
        k.nonBlocking = true;
        const t0 = net.now;
        k.connect(ip(B), 92);
        while (k.state === 'SYN-SENT') net.advance(1e6);
        lines.push(`nonblocking ${k.error} ${((net.now - t0) / 1e9).toFixed(0)}`);
      }
      assert.equal(lines.join('\n') + '\n', out);
    } finally {
      pair.cleanup();
    }
  });

  it('SYN retransmissions with TCP_SYNCNT=2: the instants, and ETIMEDOUT', opts, async () => {
    const pair = new RealPair();
    try {
      pair.exec(pair.b, ['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '81', '-j', 'DROP']);
      const client = `
import socket
s = socket.socket(); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_SYNCNT, 2)
try:
    s.connect(("${B}", 81))
except TimeoutError:
    pass
`;
      const real = (await pair.capture('import time; time.sleep(0.1)', client)).filter((p) => p.fromA).map((p) => p.ns);
      const model = (start: number) => {
        const net = new TestNet(start);
        const a = net.host('a', A);
        net.host('b', B);
        net.filter = (h) => (h.name === 'a' ? 'drop' : 'pass');
        const k = a.sockets.tcp();
        k.synRetries = 2;
        k.connect(ip(B), 81);
        net.advance(20e9);
        assert.equal(k.error, 'ETIMEDOUT');
        return net.sent.map((x) => x.ns);
      };
      const m = matchesSomeAlignment(real, model, 64, TOLERANCE_NS);
      assert.ok(m.ok, m.best);
    } finally {
      pair.cleanup();
    }
  });

  it('data retransmissions until tcp_retries2 gives up (tcp_retries2=4): the instants', opts, async () => {
    const pair = new RealPair();
    try {
      pair.exec(pair.b, ['sysctl', '-q', '-w', 'net.ipv4.tcp_retries2=4']);
      const server = `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 85)); s.listen(5)
c, _ = s.accept(); c.recv(10); time.sleep(1); c.send(b"hello")
try:
    c.recv(10)
except TimeoutError:
    pass
`;
      const client = `
import socket, time, subprocess
c = socket.create_connection(("${B}", 85)); c.send(b"go"); time.sleep(0.5)
subprocess.run(["iptables", "-A", "INPUT", "-j", "DROP"], check=True)
time.sleep(9)
`;
      const cap = await pair.capture(server, client);
      const real = cap.filter((p) => !p.fromA && !(p.data[33]! & 0x02) && p.data.length > 20 + (p.data[32]! >> 4) * 4).map((p) => p.ns);
      const model = (start: number) => {
        const net = new TestNet(start);
        net.latencyNs = 20_000;
        const a = net.host('a', A);
        const b = net.host('b', B, { 'net.ipv4.tcp_retries2': '4' });
        const l = b.sockets.tcp();
        l.bind(0, 85);
        l.listen(5);
        const k = a.sockets.tcp();
        k.connect(ip(B), 85);
        net.advance(1e6);
        const s = l.accept()!;
        k.send(enc('go'));
        net.advance(1e6);
        s.read();
        net.filter = (h) => (h.name === 'b' ? 'drop' : 'pass');
        const from = net.sent.length;
        s.send(enc('hello'));
        net.advance(10e9);
        assert.equal(s.error, 'ETIMEDOUT');
        return net.sent.slice(from).filter((x) => x.from === 'b').map((x) => x.ns);
      };
      const m = matchesSomeAlignment(real, model, 64, TOLERANCE_NS);
      assert.ok(m.ok, m.best);
    } finally {
      pair.cleanup();
    }
  });
});
