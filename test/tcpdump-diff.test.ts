/**
 * tcpdump against the real one: frames built here (and frames the real
 * tcpdump captured from real ping/nc traffic between two namespaces) are
 * written to a pcap file, printed by `tcpdump -r FILE OPTIONS` in a private
 * namespace (whose /etc/hosts names some addresses) and by nflab's tcpdump,
 * and compared byte for byte, standard output and standard error. Filters
 * are compared on random frames and random expressions (fast-check): the
 * set of packets `tcpdump -r FILE EXPR` keeps, or its error message.
 */
import { after, before, describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { HostFs, ProgramContext, TappedFrame, Wait } from '../src/core/programs/api.js';
import { onStop, tcpdump } from '../src/core/programs/tcpdump.js';
import { compileFilter } from '../src/core/programs/tcpdump-filter.js';
import { encodeFrame, type FrameDesc } from '../src/core/wire/frame.js';
import type { TcpOption } from '../src/core/wire/tcp.js';
import { readPcap, writePcap, type PacketToWrite } from '../src/core/wire/pcap.js';
import { fromHex } from '../src/core/wire/bytes.js';
import { createNameDb } from '../src/core/xt/namedb.js';
import { runNflab } from '../src/cli/main.js';

const NS = `nflabt-tcpdump-${process.pid}`;
const HOSTS = '127.0.0.1\tlocalhost\n10.0.0.1\talpha\n10.0.0.2\tbeta.example beta\n192.168.1.10\tgamma\n';
const ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', TZ: 'UTC' };
let dir = '';

function sh(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { env: ENV, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The real tcpdump reading `file` with `args`, in the test namespace. */
function realTcpdump(args: string[]): { status: number; stdout: string; stderr: string } {
  return sh('ip', ['netns', 'exec', NS, 'tcpdump', ...args]);
}

// ------------------------------------------------------------------ a fake program context

interface Fake {
  ctx: ProgramContext;
  out: string[];
  err: string[];
  files: Map<string, Uint8Array>;
  taps: ((f: TappedFrame) => void)[];
}

const te = new TextEncoder();
const td = new TextDecoder();

function fakeContext(argv: string[], files: Map<string, Uint8Array>, links: object[] = [], bootWall = 0): Fake {
  const out: string[] = [];
  const err: string[] = [];
  const taps: ((f: TappedFrame) => void)[] = [];
  const fs: HostFs & { readBytes(p: string): Uint8Array | undefined } = {
    read: (p) => (files.has(p) ? td.decode(files.get(p)!) : undefined),
    write: (p, t) => void files.set(p, te.encode(t)),
    append: (p, t) => void files.set(p, te.encode((files.has(p) ? td.decode(files.get(p)!) : '') + t)),
    writeBytes: (p, d) => void files.set(p, d.slice()),
    readBytes: (p) => files.get(p),
  };
  const ctx = {
    argv,
    pid: 100,
    where: { host: 'main', netns: '' },
    hostname: 'main',
    sockets: undefined as never,
    machine: { net: { links }, state: { bootWall } } as never,
    fs,
    stdin: '',
    resumed: false,
    saved: undefined as unknown,
    out: (t: string) => void out.push(t),
    err: (t: string) => void err.push(t),
    now: () => 0,
    wallSec: () => bootWall,
    sleep: (ns: number): Wait => ({ until: ns }),
    until: (ns: number): Wait => ({ until: ns }),
    background: () => {},
    tap: (_iface: string | null, fn: (f: TappedFrame) => void) => {
      taps.push(fn);
      return () => void taps.splice(taps.indexOf(fn), 1);
    },
    random32: () => 4,
    resolve: () => null,
    spawn: () => 0,
    wake: () => {},
  } as ProgramContext;
  return { ctx, out, err, files, taps };
}

/** nflab's tcpdump on a file: stdout, stderr and status. */
function nflabTcpdump(args: string[], file: Uint8Array): { status: number; stdout: string; stderr: string } {
  const files = new Map<string, Uint8Array>([
    ['/etc/hosts', te.encode(HOSTS)],
    ['/cap.pcap', file],
  ]);
  const f = fakeContext(['tcpdump', ...args.map((a) => (a === 'FILE' ? '/cap.pcap' : a))], files);
  const gen = tcpdump(f.ctx);
  let r = gen.next();
  while (!r.done) r = gen.next();
  return { status: r.value, stdout: f.out.join(''), stderr: f.err.join('').replaceAll('/cap.pcap', 'FILE') };
}

function compareRead(packets: PacketToWrite[], args: string[], label: string, linkType = 1): void {
  const bytes = writePcap(packets, { linkType });
  const path = join(dir, 'cap.pcap');
  writeFileSync(path, bytes);
  const real = realTcpdump(args.map((a) => (a === 'FILE' ? path : a)));
  real.stderr = real.stderr.replaceAll(path, 'FILE');
  const mine = nflabTcpdump(args, bytes);
  assert.deepEqual(mine.stdout.split('\n'), real.stdout.split('\n'), `${label}: stdout of tcpdump ${args.join(' ')}`);
  assert.equal(mine.stderr, real.stderr, `${label}: stderr of tcpdump ${args.join(' ')}`);
  assert.equal(mine.status, real.status, `${label}: status of tcpdump ${args.join(' ')}`);
}

// ------------------------------------------------------------------ frames

const MAC_A = '0a:11:22:33:44:01';
const MAC_B = '0a:11:22:33:44:02';
const ADDRS_PRINT = ['10.0.0.1', '10.0.0.2', '192.168.1.10', '8.8.8.8'];

function dnsName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.split('.').filter(Boolean)) out.push(label.length, ...te.encode(label));
  out.push(0);
  return out;
}

function dnsQuery(id: number, name: string, type: number, opt: boolean): Uint8Array {
  const b = [id >> 8, id & 255, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, opt ? 1 : 0, ...dnsName(name), 0, type, 0, 1];
  if (opt) b.push(0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8);
  return new Uint8Array(b);
}

function dnsAnswer(id: number, name: string, addrs: number[][], rcode = 0): Uint8Array {
  const b = [id >> 8, id & 255, 0x81, 0x80 | rcode, 0, 1, 0, addrs.length, 0, 0, 0, 0, ...dnsName(name), 0, 1, 0, 1];
  for (const a of addrs) b.push(0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, ...a);
  return new Uint8Array(b);
}

const SYN_OPTS: TcpOption[] = [{ mss: 1460 }, { sackOk: true as const }, { ts: [639860813, 0] as [number, number] }, { nop: true as const }, { wscale: 7 }];
const ACK_OPTS: TcpOption[] = [{ nop: true as const }, { nop: true as const }, { ts: [639860900, 160079924] as [number, number] }];

function tcp(src: string, dst: string, sport: number, dport: number, flags: string | number, seq: number, ack: number, payload = '', opts: TcpOption[] = ACK_OPTS, fromA = true): FrameDesc {
  return {
    eth: fromA ? { src: MAC_A, dst: MAC_B } : { src: MAC_B, dst: MAC_A },
    ipv4: { src, dst, id: 4000 + seq % 1000, df: true, ttl: 64 },
    tcp: { sport, dport, flags, seq, ack, window: 502, options: opts },
    payload: te.encode(payload),
  };
}

/** A corpus of frames covering what the lab's programs send. */
function corpus(): FrameDesc[] {
  const A = '10.0.0.1';
  const B = '10.0.0.2';
  const C = '192.168.1.10';
  const D = '172.16.5.4';
  const udpQuote = { ipv4: { src: A, dst: B, id: 77, ttl: 64 }, udp: { sport: 39686, dport: 53 }, payload: dnsQuery(63567, 'example.com', 1, true) };
  const tcpQuote = { ipv4: { src: A, dst: D, id: 78, ttl: 64, df: true }, tcp: { sport: 41000, dport: 22, flags: 'S', seq: 1000, window: 64240, options: SYN_OPTS } };
  return [
    { eth: { src: MAC_A, dst: 'ff:ff:ff:ff:ff:ff' }, arp: { op: 1, sha: MAC_A, spa: A, tha: '00:00:00:00:00:00', tpa: B } },
    { eth: { src: MAC_B, dst: MAC_A }, arp: { op: 2, sha: MAC_B, spa: B, tha: MAC_A, tpa: A } },
    { eth: { src: MAC_B, dst: MAC_A }, arp: { op: 2, sha: MAC_B, spa: B, tha: MAC_A, tpa: A }, trailer: new Uint8Array(18) },
    { eth: { src: MAC_A, dst: MAC_B }, arp: { op: 1, sha: MAC_A, spa: A, tha: MAC_B, tpa: C } },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 46345, df: true }, icmp: { type: 8, id: 28340, seq: 1 }, payload: new Uint8Array(56).map((_, i) => i + 8) },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 46984 }, icmp: { type: 0, id: 28340, seq: 1 }, payload: new Uint8Array(56).map((_, i) => i + 8) },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 2104 }, udp: { sport: 39686, dport: 53 }, payload: dnsQuery(63567, 'example.com', 1, true) },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 2105 }, udp: { sport: 53, dport: 39686 }, payload: dnsAnswer(63567, 'example.com', [[93, 184, 216, 34], [93, 184, 216, 35]]) },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 2106 }, udp: { sport: 53, dport: 39686 }, payload: dnsAnswer(1234, 'nosuch.example', [], 3) },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 2107 }, udp: { sport: 40000, dport: 53 }, payload: dnsQuery(77, 'gamma.lab', 28, false) },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 47053, tos: 0xc0 }, icmp: { type: 3, code: 3, quote: udpQuote } },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: D, dst: A, id: 9 }, icmp: { type: 3, code: 3, quote: tcpQuote } },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 10 }, icmp: { type: 3, code: 1, quote: tcpQuote } },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 11 }, icmp: { type: 3, code: 13, quote: tcpQuote } },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 12 }, icmp: { type: 3, code: 10, quote: tcpQuote } },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 13 }, icmp: { type: 3, code: 4, mtu: 1400, quote: tcpQuote } },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: C, dst: A, id: 14, ttl: 255 }, icmp: { type: 11, code: 0, quote: { ...udpQuote, ipv4: { ...udpQuote.ipv4, ttl: 1 } } } },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 15 }, icmp: { type: 5, code: 1, gateway: C, quote: tcpQuote } },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 16 }, icmp: { type: 12, code: 0, pointer: 20, quote: tcpQuote } },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 17 }, icmp: { type: 13, code: 0, id: 5, seq: 6 }, payload: new Uint8Array(12) },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 18 }, icmp: { type: 42, code: 0 } },
    tcp(A, B, 38240, 2222, 'S', 419697165, 0, '', SYN_OPTS),
    tcp(B, A, 2222, 38240, 'SA', 1462950617, 419697166, '', SYN_OPTS, false),
    tcp(A, B, 38240, 2222, 'A', 419697166, 1462950618),
    tcp(A, B, 38240, 2222, 'PA', 419697166, 1462950618, 'hello\n'),
    tcp(B, A, 2222, 38240, 'A', 1462950618, 419697172, '', ACK_OPTS, false),
    tcp(A, B, 38240, 2222, 'FA', 419697172, 1462950618),
    tcp(B, A, 2222, 38240, 'FA', 1462950618, 419697173, '', ACK_OPTS, false),
    tcp(A, B, 38240, 2222, 'A', 419697173, 1462950619),
    tcp(A, B, 37270, 22, 'S', 920400588, 0, '', SYN_OPTS),
    { ...tcp(B, A, 22, 37270, 'RA', 0, 920400589, '', [], false), ipv4: { src: B, dst: A, id: 0, df: true } },
    tcp(A, C, 50000, 21, 'S', 1000, 0, '', SYN_OPTS),
    tcp(C, A, 21, 50000, 'SA', 7000, 1001, '', SYN_OPTS, false),
    tcp(C, A, 21, 50000, 'PA', 7001, 1001, '220 (vsFTPd 3.0.3)\r\n', ACK_OPTS, false),
    tcp(A, C, 50000, 21, 'PA', 1001, 7021, 'USER anonymous\r\n'),
    tcp(C, A, 21, 50000, 'PA', 7021, 1017, '331 Please specify the password.\r\n', ACK_OPTS, false),
    tcp(A, C, 50000, 21, 'PA', 1017, 7055, 'PASV\r\n'),
    tcp(C, A, 21, 50000, 'PA', 7055, 1023, '227 Entering Passive Mode (192,168,1,10,195,80).\r\n', ACK_OPTS, false),
    tcp(C, A, 21, 50000, 'PA', 7106, 1023, '150 Here comes\r\n226 Done\r\n', ACK_OPTS, false),
    tcp(A, C, 50001, 80, 'PA', 1, 1, 'GET / HTTP/1.1\r\nHost: gamma\r\n\r\n'),
    tcp(C, A, 80, 50001, 'PA', 1, 34, 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi', ACK_OPTS, false),
    tcp(C, A, 80, 50001, 'PA', 50, 34, '<html>more body</html>', ACK_OPTS, false),
    tcp(C, A, 22, 50002, 'PA', 1, 1, 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n', ACK_OPTS, false),
    tcp(A, C, 50003, 25, 'PA', 1, 1, 'EHLO alpha\r\n'),
    tcp(A, D, 50004, 443, 0x62, 5, 0, '', [{ mss: 1400 }, { nop: true }, { wscale: 14 }, { sackOk: true }, { kind: 99, data: new Uint8Array([0, 1, 2]) }]),
    tcp(A, D, 50004, 443, 'A', 6, 9, '', [{ nop: true }, { nop: true }, { sack: [[100, 200], [300, 400]] }]),
    tcp(A, D, 50005, 443, 0xb8, 6, 9, 'x', []),
    tcp(A, D, 50006, 8080, 'R', 6, 0, 'reset text', []),
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 20, mf: true }, udp: { sport: 5000, dport: 6000 }, payload: new Uint8Array(100) },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 20, fragOff: 14, proto: 17 }, payload: new Uint8Array(40) },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 21, options: [{ kind: 148, data: new Uint8Array([0, 0]) }] }, udp: { sport: 5000, dport: 6000 }, payload: new Uint8Array(3) },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 22, check: 0x1234 }, udp: { sport: 5000, dport: 6000, check: 0x4321 }, payload: new Uint8Array(5) },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 23, tos: 0x03 }, udp: { sport: 5000, dport: 6000, check: 0 }, payload: new Uint8Array(5) },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 24, proto: 253 }, payload: new Uint8Array(8) },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 25, ttl: 0 }, tcp: { sport: 1, dport: 2, flags: 0, seq: 1, ack: 0 } },
    { eth: { src: MAC_A, dst: MAC_B, type: 0x88b5 }, payload: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) },
    { eth: { src: MAC_A, dst: '01:00:5e:00:00:01' }, ipv4: { src: A, dst: '224.0.0.1', id: 26, ttl: 1 }, udp: { sport: 5353, dport: 5354 }, payload: new Uint8Array(4) },
    // nmap's NTP probe, a server's answer (stratum 2, negative precision, a reference address), a control message.
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 27 }, udp: { sport: 40000, dport: 123 }, payload: fromHex('e30004fa000100000001000000000000000000000000000000000000000000000000000000000000c54f234b71b152f3') },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 28 }, udp: { sport: 123, dport: 40000 }, payload: fromHex('240206e8000003e80000080ac0a8010ae9e5a1e01c28f5c3c54f234b71b152f3e9e5a1f00000000ae9e5a1f012345678') },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 29 }, udp: { sport: 123, dport: 123 }, payload: fromHex('1c0106ec00000000000000004c4f434c00000000000000000000000000000000000000000000000000000000000000000000000a') },
    { eth: { src: MAC_B, dst: MAC_A }, ipv4: { src: B, dst: A, id: 30 }, udp: { sport: 123, dport: 40001 }, payload: fromHex('1e0100000000000000000000') },
    // nmap's SNMPv3 probe.
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 31 }, udp: { sport: 40000, dport: 161 }, payload: fromHex('303a020103300f02024a69020300ffe30401040201030410300e0400020100020100040004000400301204000400a00c020237f00201000201003000') },
    // nmap's SNMPv1 probe (community "public", left out of the line), and one with another community.
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 32 }, udp: { sport: 40000, dport: 161 }, payload: fromHex('301f02010004067075626c6963a112020100020100020100300730050601000500') },
    { eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: A, dst: B, id: 33 }, udp: { sport: 40000, dport: 161 }, payload: fromHex('302002010004077072697661746ea112020100020100020100300730050601000500') },
  ];
}

function corpusPackets(): PacketToWrite[] {
  return corpus().map((d, i) => ({ tsSec: 1795244397 + i * 61, tsNsec: ((i * 104729) % 1000000) * 1000, data: encodeFrame(d) }));
}

// ------------------------------------------------------------------ namespace setup

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'nflab-tcpdump-'));
  const add = sh('ip', ['netns', 'add', NS]);
  assert.equal(add.status, 0, add.stderr);
  mkdirSync(`/etc/netns/${NS}`, { recursive: true });
  writeFileSync(`/etc/netns/${NS}/hosts`, HOSTS);
});

after(() => {
  sh('ip', ['netns', 'del', NS]);
  rmSync(`/etc/netns/${NS}`, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
});

// ------------------------------------------------------------------ tests

const OPTION_SETS = [
  [], ['-n'], ['-e'], ['-en'], ['-v'], ['-nv'], ['-vv'], ['-vvv'], ['-q'], ['-qn'], ['-qe'], ['-x'], ['-xx'], ['-X'], ['-XX'], ['-A'],
  ['-t'], ['-tt'], ['-ttt'], ['-tttt'], ['-ttttt'], ['-S'], ['-#'], ['-env'], ['-nvX'], ['-c', '7'], ['-s', '60'], ['-s', '60', '-v'], ['--count'],
];

describe('tcpdump -r: the printer against the real tcpdump', () => {
  for (const opts of OPTION_SETS) {
    it(`prints the corpus with ${opts.join(' ') || 'no options'} as tcpdump 4.99.3 does`, () => {
      compareRead(corpusPackets(), ['-r', 'FILE', ...opts], 'corpus');
    });
  }

  it('prints with a filter, as the real tcpdump, and reports bad filters and files the same way', () => {
    const p = corpusPackets();
    compareRead(p, ['-r', 'FILE', '-n', 'tcp[tcpflags] & tcp-syn != 0'], 'syn filter');
    compareRead(p, ['-r', 'FILE', 'host', 'beta', 'and', 'not', 'icmp'], 'host beta');
    compareRead(p, ['-r', 'FILE', 'port', 'ftp', 'or', 'arp'], 'ftp or arp');
    compareRead(p, ['-r', 'FILE', 'host'], 'syntax error');
    compareRead(p, ['-r', 'FILE', 'udp', 'port', 'ssh'], 'udp port ssh');
    compareRead(p, ['-r', 'FILE', 'ip', 'and', 'arp'], 'rejects all');
    compareRead(p, ['-r', 'FILE', '-c', '0'], 'bad count');
    compareRead(p, ['-r', 'FILE', '-Y'], 'option not built in');
    compareRead(p, ['-r', 'FILE', '-g'], 'bad option');
    compareRead(p, ['-r', 'FILE', '-c'], 'missing argument');
    compareRead(p, ['-r', 'FILE', '--version'], 'version');
  });
});

/** Frames the real tcpdump captured from real traffic between two namespaces. */
describe('tcpdump: live captures of real traffic', () => {
  const A = `${NS}-a`;
  const B = `${NS}-b`;
  let captured: { args: string[]; stdout: string; stderr: string; pcap: Uint8Array }[] = [];

  before(async () => {
    sh('ip', ['netns', 'add', A]);
    sh('ip', ['netns', 'add', B]);
    for (const ns of [A, B]) {
      // No IPv6 chatter on the test link (inside the test namespaces only).
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1']);
      sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.default.disable_ipv6=1']);
    }
    sh('ip', ['link', 'add', 'nflabt-tdv1', 'type', 'veth', 'peer', 'name', 'nflabt-tdv2']);
    sh('ip', ['link', 'set', 'nflabt-tdv1', 'netns', A]);
    sh('ip', ['link', 'set', 'nflabt-tdv2', 'netns', B]);
    sh('ip', ['-n', A, 'link', 'set', 'nflabt-tdv1', 'name', 'veth0']);
    sh('ip', ['-n', B, 'link', 'set', 'nflabt-tdv2', 'name', 'veth0']);
    sh('ip', ['-n', A, 'addr', 'add', '10.0.0.1/24', 'dev', 'veth0']);
    sh('ip', ['-n', B, 'addr', 'add', '10.0.0.2/24', 'dev', 'veth0']);
    sh('ip', ['-n', A, 'link', 'set', 'veth0', 'up']);
    sh('ip', ['-n', B, 'link', 'set', 'veth0', 'up']);
    const runs: [string[], () => void][] = [
      [['-n', '-c', '6', 'icmp or arp'], () => sh('ip', ['netns', 'exec', A, 'ping', '-c', '3', '-i', '0.2', '10.0.0.2'])],
      [['-c', '10', 'tcp'], () => {
        const l = spawn('ip', ['netns', 'exec', B, 'nc', '-l', '2222'], { stdio: 'ignore' });
        spawnSync('sleep', ['0.3']);
        spawnSync('ip', ['netns', 'exec', A, 'nc', '-N', '10.0.0.2', '2222'], { input: 'hello\n' });
        spawnSync('ip', ['netns', 'exec', A, 'nc', '-z', '10.0.0.2', '22']);
        l.kill();
      }],
      [['-v', '-c', '2', 'udp or icmp'], () => sh('ip', ['netns', 'exec', A, 'dig', '+tries=1', '+timeout=1', '@10.0.0.2', 'example.com'])],
    ];
    for (const [args, traffic] of runs) {
      const file = join(dir, 'live.pcap');
      const cap = spawn('ip', ['netns', 'exec', A, 'tcpdump', '-i', 'veth0', '-w', file, '--print', ...args], { env: ENV });
      let stdout = '';
      let stderr = '';
      cap.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
      cap.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const done = new Promise<void>((res) => cap.on('close', () => res()));
      await new Promise((r) => setTimeout(r, 700));
      traffic();
      const timer = setTimeout(() => cap.kill('SIGINT'), 8000);
      await done;
      clearTimeout(timer);
      captured.push({ args, stdout, stderr, pcap: readFileSync(file) });
    }
    // The same pings seen on veth0 and on "any" at once.
    const eth = join(dir, 'eth.pcap');
    const any = join(dir, 'any.pcap');
    const caps = [
      spawn('ip', ['netns', 'exec', A, 'tcpdump', '-i', 'veth0', '-w', eth, '-c', '6', 'icmp'], { stdio: 'ignore' }),
      spawn('ip', ['netns', 'exec', A, 'tcpdump', '-i', 'any', '-w', any, '-c', '6', 'icmp'], { stdio: 'ignore' }),
    ];
    const ended = caps.map((c) => new Promise<void>((res) => c.on('close', () => res())));
    await new Promise((r) => setTimeout(r, 700));
    sh('ip', ['netns', 'exec', A, 'ping', '-c', '3', '-i', '0.2', '10.0.0.2']);
    const timer = setTimeout(() => caps.forEach((c) => c.kill('SIGINT')), 8000);
    await Promise.all(ended);
    clearTimeout(timer);
    anyCapture = { eth: readFileSync(eth), any: readFileSync(any) };
    linksA = (JSON.parse(sh('ip', ['-n', A, '-j', 'link', 'show']).stdout) as { ifindex: number; ifname: string; flags: string[]; link_type: string; address: string }[]).map((l) => ({
      index: l.ifindex,
      name: l.ifname,
      kind: l.link_type === 'loopback' ? 'loopback' : 'veth',
      up: l.flags.includes('UP'),
      carrier: l.flags.includes('LOWER_UP'),
      mac: l.address,
      inet: [],
    }));
    devicesA = sh('ip', ['netns', 'exec', A, 'tcpdump', '-D']).stdout;
  });

  let anyCapture: { eth: Uint8Array; any: Uint8Array } = { eth: new Uint8Array(0), any: new Uint8Array(0) };
  let linksA: { index: number; name: string; kind: string; up: boolean; carrier: boolean; mac: string; inet: never[] }[] = [];
  let devicesA = '';

  it('lists the devices as tcpdump -D does', () => {
    const f = fakeContext(['tcpdump', '-D'], new Map(), linksA);
    assert.equal(tcpdump(f.ctx).next().value, 0);
    assert.equal(f.out.join(''), devicesA);
  });

  it('captures on "any" with the cooked v2 header Linux gives, and prints it as tcpdump -r does', () => {
    const eth = readPcap(anyCapture.eth);
    const any = readPcap(anyCapture.any);
    const veth = linksA.find((l) => l.name === 'veth0')!;
    const f = fakeContext(['tcpdump', '-i', 'any', '-c', '6', '-w', '/any.pcap', 'icmp'], new Map(), linksA, eth.packets[0]!.tsSec);
    const gen = tcpdump(f.ctx);
    gen.next();
    for (const p of eth.packets) {
      const out = Array.from(p.data.subarray(6, 12)).map((b) => b.toString(16).padStart(2, '0')).join(':') === veth.mac;
      f.taps[0]!({ iface: 'veth0', dir: out ? 'out' : 'in', frame: p.data, ns: 0 });
      gen.next();
    }
    const mine = readPcap(f.files.get('/any.pcap')!);
    assert.equal(mine.interfaces[0]!.linkType, any.interfaces[0]!.linkType);
    assert.deepEqual(mine.packets.map((p) => Array.from(p.data)), any.packets.map((p) => Array.from(p.data)));
    for (const opts of [[], ['-e'], ['-v'], ['-q'], ['-x'], ['-en']]) compareRead(any.packets, ['-r', 'FILE', ...opts], 'any', any.interfaces[0]!.linkType);
  });

  after(() => {
    sh('ip', ['netns', 'del', A]);
    sh('ip', ['netns', 'del', B]);
  });

  it('prints the frames the real tcpdump saw, with the same banner and summary', () => {
    assert.equal(captured.length, 3);
    for (const c of captured) {
      const cap = readPcap(c.pcap);
      const boot = cap.packets[0]!.tsSec;
      const f = fakeContext(['tcpdump', '-i', 'veth0', '-w', '/live.pcap', '--print', ...c.args], new Map(), [
        { index: 1, name: 'lo', kind: 'loopback', up: true, carrier: true, inet: [], mac: '00:00:00:00:00:00' },
        { index: 2, name: 'veth0', kind: 'veth', up: true, carrier: true, inet: [{ prefixlen: 24 }], mac: '02:00:00:00:00:01' },
      ], boot);
      const gen = tcpdump(f.ctx);
      let r = gen.next();
      for (const p of cap.packets) {
        assert.ok(!r.done, 'the capture ended early');
        f.taps[0]!({ iface: 'veth0', dir: 'in', frame: p.data, ns: (p.tsSec - boot) * 1e9 + p.tsNsec });
        r = gen.next();
      }
      assert.ok(r.done, `tcpdump ${c.args.join(' ')} did not end after its count`);
      assert.equal(f.out.join(''), c.stdout, `stdout of tcpdump ${c.args.join(' ')}`);
      assert.equal(f.err.join(''), c.stderr, `stderr of tcpdump ${c.args.join(' ')}`);
      const written = readPcap(f.files.get('/live.pcap')!);
      assert.deepEqual(
        written.packets.map((p) => [p.tsSec, p.tsNsec, Array.from(p.data)]),
        cap.packets.map((p) => [p.tsSec, p.tsNsec, Array.from(p.data)]),
      );
    }
  });
});

describe('tcpdump: a background capture', () => {
  const links = [{ index: 2, name: 'veth0', kind: 'veth', up: true, carrier: true, inet: [{ prefixlen: 24 }], mac: MAC_A }];
  const frames = corpusPackets().slice(4, 6);

  it('prints its banner once, its lines as frames pass, and the summary when stopped', () => {
    const f = fakeContext(['tcpdump', '-i', 'veth0', '-n'], new Map(), links, 1795244397);
    const gen = tcpdump(f.ctx);
    assert.equal(gen.next().done, false);
    f.taps[0]!({ iface: 'veth0', dir: 'out', frame: frames[0]!.data, ns: 5_000_123_456 });
    assert.equal(gen.next().done, false);
    assert.equal(f.out.join(''), '07:00:02.000123 IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 28340, seq 1, length 64\n');
    // The next command resumes it: no banner, the count goes on.
    const g = fakeContext(['tcpdump', '-i', 'veth0', '-n'], new Map(), links, 1795244397);
    (g.ctx as { resumed: boolean }).resumed = true;
    g.ctx.saved = f.ctx.saved;
    const gen2 = tcpdump(g.ctx);
    gen2.next();
    g.taps[0]!({ iface: 'veth0', dir: 'in', frame: frames[1]!.data, ns: 6_000_000_000 });
    gen2.next();
    assert.equal(onStop(g.ctx), 0);
    assert.equal(g.taps.length, 0);
    assert.deepEqual(f.err, [
      'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n',
      'listening on veth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n',
    ]);
    assert.equal(g.out.join(''), '07:00:03.000000 IP 10.0.0.2 > 10.0.0.1: ICMP echo reply, id 28340, seq 1, length 64\n\n');
    assert.equal(g.err.join(''), '2 packets captured\n2 packets received by filter\n0 packets dropped by kernel\n');
  });

  it('takes a number for the device at that place in the -D list', () => {
    const f = fakeContext(['tcpdump', '-i', '1', '-c', '1'], new Map(), links);
    assert.equal(tcpdump(f.ctx).next().done, false);
    assert.equal(f.err.join(''), 'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\nlistening on veth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n');
    const g = fakeContext(['tcpdump', '-i', '42'], new Map(), links);
    assert.equal(tcpdump(g.ctx).next().value, 1);
    assert.equal(g.err.join(''), 'tcpdump: Invalid adapter index\n');
  });

  it('refuses an interface that does not exist or is down, as libpcap does', () => {
    const f = fakeContext(['tcpdump', '-i', 'eth9'], new Map(), links);
    assert.equal(tcpdump(f.ctx).next().value, 1);
    assert.equal(f.err.join(''), 'tcpdump: eth9: No such device exists\n(No such device exists)\n');
    const g = fakeContext(['tcpdump', '-i', 'veth0'], new Map(), [{ ...links[0], up: false }]);
    assert.equal(tcpdump(g.ctx).next().value, 1);
    assert.equal(g.err.join(''), 'tcpdump: veth0: That device is not up\n');
  });
});

// ------------------------------------------------------------------ printing random frames

const TEXTS = ['220 (vsFTPd 3.0.3)\r\n', 'USER anonymous\r\n', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'HTTP/1.1 404 Not Found\r\n', 'SSH-2.0-OpenSSH_9.2\r\n', 'binary\x00\x01\xff', 'partial line', '250-hello\r\n250 ok\r\n', 'a\rb\r', ''];
const PRINT_PORTS = [21, 22, 25, 53, 80, 8080, 1234, 40000, 5353];

const arbTcpOption: fc.Arbitrary<TcpOption> = fc.oneof(
  fc.integer({ min: 0, max: 65535 }).map((v) => ({ mss: v })),
  fc.integer({ min: 0, max: 20 }).map((v) => ({ wscale: v })),
  fc.constant({ sackOk: true as const }),
  fc.constant({ nop: true as const }),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => ({ ts: [a >>> 0, b >>> 0] as [number, number] })),
  fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 1, maxLength: 3 }).map((b) => ({ sack: b as [number, number][] })),
  fc.tuple(fc.constantFrom(6, 7, 19, 20, 28, 29, 34, 99, 200, 254), fc.uint8Array({ maxLength: 6 })).map(([kind, data]) => ({ kind, data })),
);

const arbPrintFrame: fc.Arbitrary<FrameDesc> = fc
  .record({
    src: fc.constantFrom(...ADDRS_PRINT),
    dst: fc.constantFrom(...ADDRS_PRINT),
    proto: fc.constantFrom('tcp', 'udp', 'icmp', 'icmp'),
    sport: fc.constantFrom(...PRINT_PORTS),
    dport: fc.constantFrom(...PRINT_PORTS),
    flags: fc.integer({ min: 0, max: 255 }),
    seq: fc.nat(),
    ack: fc.nat(),
    opts: fc.array(arbTcpOption, { maxLength: 5 }),
    text: fc.constantFrom(...TEXTS),
    tos: fc.constantFrom(0, 0x10, 0xc0, 3),
    ttl: fc.constantFrom(64, 1, 0, 255),
    df: fc.boolean(),
    icmpType: fc.constantFrom(0, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 17, 18, 99),
    icmpCode: fc.integer({ min: 0, max: 16 }),
    win: fc.integer({ min: 0, max: 65535 }),
    urg: fc.integer({ min: 0, max: 65535 }),
  })
  .map((r): FrameDesc => {
    const ipv4 = { src: r.src, dst: r.dst, id: 7, tos: r.tos, ttl: r.ttl, df: r.df };
    const eth = { src: MAC_A, dst: MAC_B };
    const payload = new Uint8Array([...r.text].map((c) => c.charCodeAt(0)));
    if (r.proto === 'tcp') return { eth, ipv4, tcp: { sport: r.sport, dport: r.dport, flags: r.flags, seq: r.seq, ack: r.ack, window: r.win, urgPtr: r.urg, options: r.opts }, payload };
    if (r.proto === 'udp') return { eth, ipv4, udp: { sport: r.sport, dport: r.dport }, payload };
    const quote = { ipv4: { src: r.dst, dst: r.src, id: 9, ttl: 3 }, udp: { sport: r.dport, dport: r.sport }, payload };
    if ([3, 4, 5, 11, 12].includes(r.icmpType)) return { eth, ipv4, icmp: { type: r.icmpType, code: r.icmpCode, quote } };
    return { eth, ipv4, icmp: { type: r.icmpType, code: r.icmpCode, id: 3, seq: 4 }, payload };
  });

describe('tcpdump -r: random frames against the real tcpdump', () => {
  for (const seed of [1, 2, 3]) {
    it(`prints 300 random TCP/UDP/ICMP frames (seed ${seed}), some cut short, as tcpdump does with each option`, () => {
      const packets = fc.sample(arbPrintFrame, { numRuns: 300, seed }).map((d, i) => {
        const data = encodeFrame(d);
        return { tsSec: 1000 + i, tsNsec: 0, data: i % 11 === 3 ? data.subarray(0, 54) : data, origLen: data.length };
      });
      for (const opts of [[], ['-v'], ['-vv'], ['-n'], ['-q'], ['-e'], ['-x'], ['-A'], ['-S']]) compareRead(packets, ['-r', 'FILE', '-tt', ...opts], `seed ${seed}`);
    });
  }
});

// ------------------------------------------------------------------ DNS messages

const DNS_NAMES = ['example.com', 'www.example.com', 'a.b.c.lab', '', 'mail.example.com', 'x-y.example.org', 'in-addr.arpa'];

/** Wire form of a name (labels, then the zero length). */
function wireName(n: string): number[] {
  return dnsName(n);
}

const arbRecord = fc.record({
  n: fc.constantFrom(...DNS_NAMES, '@ptr'),
  type: fc.constantFrom(1, 2, 5, 6, 12, 15, 16, 28, 33, 41, 99, 255),
  cls: fc.constantFrom(1, 1, 1, 3, 255),
  ttl: fc.constantFrom(0, 59, 3600, 86400, 90061),
  data: fc.constantFrom(...DNS_NAMES),
  n1: fc.nat(65535),
});
type DnsRecord = typeof arbRecord extends fc.Arbitrary<infer T> ? T : never;

function recordData(r: DnsRecord): number[] {
  switch (r.type) {
    case 1:
      return [10, 0, 0, r.n1 & 255];
    case 28:
      return [0x20, 1, 0xd, 0xb8, ...new Array<number>(11).fill(0), r.n1 & 255];
    case 2:
    case 5:
    case 12:
      return wireName(r.data);
    case 15:
      return [r.n1 >> 8, r.n1 & 255, ...wireName(r.data)];
    case 16:
      return [5, ...te.encode('hello'), 3, ...te.encode('a"b')];
    case 6:
      return [...wireName(r.data), ...wireName('hostmaster.' + r.data), 0, 0, 0, 1, 0, 0, 0x0e, 0x10, 0, 0, 3, 0x84, 0, 0x09, 0x3a, 0x80, 0, 0, 0x0e, 0x10];
    case 33:
      return [0, 10, 0, 5, r.n1 >> 8, r.n1 & 255, ...wireName(r.data)];
    case 41:
      return [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
    default:
      return [1, 2, 3];
  }
}

const arbDns = fc
  .record({
    id: fc.nat(65535),
    flags: fc.nat(65535),
    qn: fc.constantFrom(...DNS_NAMES),
    qt: fc.constantFrom(1, 28, 15, 255, 12, 6, 16),
    qc: fc.constantFrom(1, 1, 3),
    an: fc.array(arbRecord, { maxLength: 3 }),
    ns: fc.array(arbRecord, { maxLength: 2 }),
    ar: fc.array(arbRecord, { maxLength: 2 }),
    qd: fc.constantFrom(1, 1, 1, 0, 2),
  })
  .map((m) => {
    const b = [m.id >> 8, m.id & 255, m.flags >> 8, m.flags & 255, 0, m.qd, 0, m.an.length, 0, m.ns.length, 0, m.ar.length];
    for (let i = 0; i < m.qd; i++) b.push(...wireName(m.qn), 0, m.qt, 0, m.qc);
    for (const r of [...m.an, ...m.ns, ...m.ar]) {
      if (r.n === '@ptr' && m.qd > 0) b.push(0xc0, 12);
      else b.push(...wireName(r.n === '@ptr' ? 'p.lab' : r.n));
      const rd = recordData(r);
      const cls = r.type === 41 ? 1232 : r.cls;
      b.push(0, r.type, cls >> 8, cls & 255, (r.ttl >>> 24) & 255, (r.ttl >>> 16) & 255, (r.ttl >>> 8) & 255, r.ttl & 255, rd.length >> 8, rd.length & 255, ...rd);
    }
    return new Uint8Array(b);
  });

describe('tcpdump -r: random DNS messages against the real tcpdump', () => {
  for (const seed of [1, 2]) {
    it(`prints 300 random queries and answers (seed ${seed}), some cut short, at every verbosity`, () => {
      const packets = fc.sample(arbDns, { numRuns: 300, seed }).map((payload, i) => {
        const data = encodeFrame({ eth: { src: MAC_A, dst: MAC_B }, ipv4: { src: '10.0.0.1', dst: '10.0.0.2', id: 5 }, udp: { sport: i % 2 ? 53 : 40000, dport: i % 2 ? 40000 : 53 }, payload });
        return { tsSec: 1000 + i, tsNsec: 0, data: i % 9 === 4 ? data.subarray(0, 60) : data, origLen: data.length };
      });
      for (const opts of [['-n'], ['-nv'], ['-nvv'], ['-nvvv']]) compareRead(packets, ['-r', 'FILE', '-tt', ...opts], `dns seed ${seed}`);
    });
  }
});

// ------------------------------------------------------------------ filters on random frames

const ADDRS = ['10.0.0.1', '10.0.0.2', '192.168.1.10', '255.255.255.255', '224.0.0.5'];
const PORTS = [20, 21, 22, 53, 80, 2222, 40000];
const MACS = [MAC_A, MAC_B, 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:05'];

const arbFrame: fc.Arbitrary<FrameDesc> = fc.oneof(
  fc
    .record({ op: fc.constantFrom(1, 2), spa: fc.constantFrom(...ADDRS), tpa: fc.constantFrom(...ADDRS), src: fc.constantFrom(...MACS), dst: fc.constantFrom(...MACS), rarp: fc.boolean() })
    .map(({ op, spa, tpa, src, dst, rarp }) => ({ eth: { src, dst, ...(rarp ? { type: 0x8035 } : {}) }, arp: { op, sha: src, spa, tha: dst, tpa } })),
  fc
    .record({
      src: fc.constantFrom(...ADDRS),
      dst: fc.constantFrom(...ADDRS),
      proto: fc.constantFrom('tcp', 'udp', 'icmp', 'gre', 'igmp'),
      sport: fc.constantFrom(...PORTS),
      dport: fc.constantFrom(...PORTS),
      flags: fc.integer({ min: 0, max: 255 }),
      frag: fc.constantFrom(0, 0, 0, 3),
      mf: fc.boolean(),
      icmpType: fc.constantFrom(0, 3, 8, 11),
      len: fc.integer({ min: 0, max: 40 }),
      esrc: fc.constantFrom(...MACS),
      edst: fc.constantFrom(...MACS),
      ttl: fc.constantFrom(1, 64, 255),
      ihl: fc.constantFrom(5, 5, 6),
    })
    .map((r): FrameDesc => {
      const ipv4 = {
        src: r.src,
        dst: r.dst,
        id: 1,
        fragOff: r.frag,
        mf: r.mf,
        ttl: r.ttl,
        ...(r.ihl === 6 ? { options: [{ kind: 1 }, { kind: 1 }, { kind: 1 }, { kind: 1 }] } : {}),
        ...(r.proto === 'gre' ? { proto: 47 } : r.proto === 'igmp' ? { proto: 2 } : {}),
      };
      const base: FrameDesc = { eth: { src: r.esrc, dst: r.edst }, ipv4, payload: new Uint8Array(r.len) };
      if (r.frag) return { ...base, ipv4: { ...ipv4, proto: r.proto === 'tcp' ? 6 : r.proto === 'udp' ? 17 : 1 } };
      if (r.proto === 'tcp') return { ...base, tcp: { sport: r.sport, dport: r.dport, flags: r.flags, seq: 1, ack: 2 } };
      if (r.proto === 'udp') return { ...base, udp: { sport: r.sport, dport: r.dport } };
      if (r.proto === 'icmp') return { ...base, icmp: { type: r.icmpType, code: 0 } };
      return base;
    }),
);

const arbPrim: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'tcp', 'udp', 'icmp', 'arp', 'rarp', 'ip', 'ip6', 'igmp', 'ether broadcast', 'broadcast', 'multicast', 'ip broadcast', 'ip multicast',
    'ether multicast', 'ip proto 47', 'proto 2', 'ip proto \\udp', 'ether proto \\arp', 'ether proto 0x8035',
  ),
  fc.tuple(fc.constantFrom('', 'src ', 'dst ', 'src or dst ', 'src and dst '), fc.constantFrom('', 'ip ', 'arp ', 'rarp '), fc.constantFrom(...ADDRS, 'alpha', 'beta', 'gamma')).map(([d, p, a]) => `${p}${d}host ${a}`),
  fc.tuple(fc.constantFrom('', 'src ', 'dst '), fc.constantFrom('10.0.0.0/24', '192.168.0.0/16', '10', '172.16', '10.0.0.0 mask 255.0.0.0', '224.0.0.0/4', '0.0.0.0/0')).map(([d, n]) => `${d}net ${n}`),
  fc.tuple(fc.constantFrom('', 'tcp ', 'udp '), fc.constantFrom('', 'src ', 'dst ', 'src or dst '), fc.constantFrom(...PORTS.map(String), 'ssh', 'domain', 'ftp', 'http', 'ftp-data')).map(([p, d, n]) => `${p}${d}port ${n}`),
  fc.tuple(fc.constantFrom('', 'tcp ', 'udp '), fc.constantFrom('20-22', '50-100', '2000-50000', '22-20')).map(([p, r]) => `${p}portrange ${r}`),
  fc.tuple(fc.constantFrom('', 'src ', 'dst '), fc.constantFrom(...MACS)).map(([d, m]) => `ether ${d}host ${m}`),
  fc.constantFrom(
    'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn', 'tcp[13] = 18', 'tcp[tcpflags] & tcp-rst != 0', 'tcp[tcpflags] == 0',
    'icmp[icmptype] = icmp-echo', 'icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply', 'ip[8] = 64', 'ip[6:2] & 0x1fff != 0',
    'ip[0] & 0xf > 5', 'udp[4:2] > 20', 'len > 60', 'len <= 60', 'less 60', 'greater 80', 'ether[0] & 1 != 0', 'arp[7] = 2', 'tcp[0:2] > 1000',
    'ip[2:2] - 20 > 30', 'ip[2:2] * 2 >= 120', 'tcp[20] = 0', 'udp[8:4] = 0', 'ip[9] == 6', 'tcp[12] >> 4 > 5', 'ip[1] | 1 = 1', 'tcp[2:2] = 22',
    'udp[2:2] = 53', 'ether[12:2] = 0x806', 'len - 14 > 40', '(ip[2:2] + 14) = len',
  ),
);

const arbExpr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    arbPrim,
    fc.tuple(tie('e'), fc.constantFrom(' and ', ' or ', ' && ', ' || '), tie('e')).map(([a, op, b]) => `${a}${op}${b}`),
    tie('e').map((a) => `not ${a}`),
    tie('e').map((a) => `! ${a}`),
    tie('e').map((a) => `(${a})`),
    fc.tuple(arbPrim, fc.constantFrom(' and ', ' or ', ' and not '), fc.constantFrom(...ADDRS, ...PORTS.map(String), 'alpha', '(10.0.0.1 or 10.0.0.2)')).map(([a, op, b]) => `${a}${op}${b}`),
  ),
})).e;

describe('tcpdump filters against libpcap', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`keeps the same packets as the real tcpdump for 300 random expressions on 150 random frames (seed ${seed})`, () => {
      const packets: PacketToWrite[] = fc.sample(arbFrame, { numRuns: 150, seed }).map((d, i) => {
        const data = encodeFrame(d);
        // Some frames are captured short, as with a small snapshot length.
        const cut = i % 13 === 5 ? data.subarray(0, 38) : i % 17 === 7 ? data.subarray(0, 30) : data;
        return { tsSec: 1000 + i, tsNsec: 0, data: cut, origLen: data.length };
      });
      const path = join(dir, 'filter.pcap');
      writeFileSync(path, writePcap(packets));
      const db = createNameDb(HOSTS);
      const names = { hostAddrs: (n: string) => db.hostAddrs(n), servicePort: (n: string, p: 'tcp' | 'udp') => db.servicePort(n, p), networkAddr: (n: string) => db.networkAddr(n) };
      let compared = 0;
      let refused = 0;
      for (const expr of fc.sample(arbExpr, { numRuns: 300, seed: seed * 7 })) {
        const real = realTcpdump(['-r', path, '-tt', '-n', expr]);
        const mine = compileFilter(expr, names);
        if (real.status !== 0) {
          const msg = real.stderr.split('\n').find((l) => l.startsWith('tcpdump: '));
          assert.equal(mine.ok ? 'accepted' : `tcpdump: ${mine.error}`, msg, `error for ${expr}`);
          refused++;
          continue;
        }
        if (!mine.ok) assert.fail(`nflab refused ${expr}: ${mine.error}`);
        const keep = mine.filter;
        const want = real.stdout.split('\n').filter(Boolean).map((l) => Number(l.slice(0, l.indexOf('.'))) - 1000);
        const got = packets.flatMap((p, i) => (keep(p.data, p.origLen!) ? [i] : []));
        assert.deepEqual(got, want, `packets kept by ${expr}`);
        compared++;
      }
      assert.ok(compared > 200 && refused > 5, `compared ${compared}, refused ${refused}`);
    });
  }
});

// ------------------------------------------------------------------ the lab end to end

describe('tcpdump in a lab: what the lab\'s programs send, printed as the real tcpdump prints it', () => {
  it('prints a background capture of ping, nc and nmap the way tcpdump -r prints the same frames', async () => {
    const lab = mkdtempSync(join(tmpdir(), 'nflab-tcpdump-lab-'));
    const script = join(lab, 'walk.sh');
    writeFileSync(
      script,
      [
        'ip link add lemon_eth0 type veth peer name apple_eth0',
        'ip netns add LEMON',
        'ip netns add APPLE',
        'ip link set lemon_eth0 netns LEMON',
        'ip link set apple_eth0 netns APPLE',
        'ip netns exec LEMON ip link set lemon_eth0 up',
        'ip netns exec APPLE ip link set apple_eth0 up',
        'ip netns exec LEMON ip addr add 10.10.10.2/24 dev lemon_eth0',
        'ip netns exec APPLE ip addr add 10.10.10.3/24 dev apple_eth0',
        'ip netns exec APPLE tcpdump -i apple_eth0 -w /tmp/all.pcap &',
        'ip netns exec APPLE tcpdump -i apple_eth0 -vv &',
        'ip netns exec APPLE nc -l 2222 &',
        'ip netns exec LEMON ping -c 2 10.10.10.3',
        'ip netns exec LEMON nc -zv 10.10.10.3 2222',
        'ip netns exec LEMON nmap -sS -p 21-23,80,443 10.10.10.3',
        'ip netns exec LEMON nmap -sU -p 53,111,123,137,161 10.10.10.3',
        'ip netns exec LEMON ping -c 1 -s 1200 10.10.10.3',
        '',
      ].join('\n'),
    );
    let output = '';
    const epoch = process.env['NFLAB_EPOCH'];
    process.env['NFLAB_EPOCH'] = '1504342677';
    try {
      const r = await runNflab(['run', script], { lab: join(lab, 'lab'), cwd: lab, write: (_fd, text) => void (output += text) });
      assert.equal(r.status, 0, output + r.stdout + r.stderr);
      const printed = output.split('\n').filter((l) => /^(\d\d:\d\d:\d\d\.\d{6} |    |\t)/.test(l));
      const real = realTcpdump(['-r', join(lab, 'lab', 'fs', 'tmp', 'all.pcap'), '-vv']);
      assert.equal(real.status, 0, real.stderr);
      assert.ok(printed.length > 40, `only ${printed.length} lines printed`);
      assert.deepEqual(printed, real.stdout.split('\n').filter(Boolean));
    } finally {
      if (epoch === undefined) delete process.env['NFLAB_EPOCH'];
      else process.env['NFLAB_EPOCH'] = epoch;
      rmSync(lab, { recursive: true, force: true });
    }
  });
});
