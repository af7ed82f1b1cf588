/**
 * Capture files: libpcap and pcapng read and written by src/core/wire,
 * checked against tcpdump (reading what nflab writes, writing what nflab
 * reads, and capturing real kernel packets in a private namespace) and
 * against scapy's writers.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, encodeIpv4, type FrameDesc } from '../src/core/wire/frame.js';
import {
  CaptureError,
  type CapturedPacket,
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  type PacketToWrite,
  readPcap,
  writePcap,
} from '../src/core/wire/pcap.js';
import { readCapture, readPcapng, writePcapng } from '../src/core/wire/pcapng.js';

const dir = mkdtempSync(join(tmpdir(), 'nflab-pcap-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TOOL_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', TZ: 'UTC' };

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

function file(name: string, bytes?: Uint8Array): string {
  const p = join(dir, name);
  if (bytes) writeFileSync(p, bytes);
  return p;
}

function run(cmd: string, args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { env: TOOL_ENV, encoding: 'utf8', input, timeout: 20_000 });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';

/** A handful of frames of every kind the decoder knows. */
const FRAMES: FrameDesc[] = [
  {
    eth: { src: A, dst: B },
    ipv4: { src: '10.0.0.2', dst: '10.0.0.1', df: true, id: 0x1c46 },
    tcp: { sport: 40000, dport: 22, seq: 1000, window: 64240, options: [{ mss: 1460 }, { sackOk: true }, { ts: [1, 0] }, { nop: true }, { wscale: 7 }] },
  },
  {
    eth: { src: B, dst: A },
    ipv4: { src: '10.0.0.1', dst: '10.0.0.2', df: true, id: 0, ttl: 63 },
    tcp: { sport: 22, dport: 40000, seq: 5000, ack: 1001, flags: 'SA', window: 65160, options: [{ mss: 1460 }] },
  },
  { eth: { src: A, dst: B }, ipv4: { src: '10.0.0.2', dst: '10.0.0.1', id: 7 }, udp: { sport: 5000, dport: 5001 }, payload: new TextEncoder().encode('hello') },
  { eth: { src: A, dst: B }, ipv4: { src: '10.0.0.2', dst: '10.0.0.1', id: 8 }, icmp: { type: 8, id: 0x77, seq: 1 }, payload: hex('0001020304050607') },
  { eth: { src: A, dst: 'ff:ff:ff:ff:ff:ff' }, arp: { spa: '10.0.0.2', tpa: '10.0.0.1' } },
  {
    eth: { src: B, dst: A },
    ipv4: { src: '10.0.0.1', dst: '10.0.0.2', tos: 0xc0, id: 9 },
    icmp: { type: 3, code: 3, quote: { ipv4: { src: '10.0.0.2', dst: '10.0.0.1', id: 7 }, udp: { sport: 5000, dport: 5001 }, payload: new TextEncoder().encode('hello') } },
  },
  { eth: { src: A, dst: B }, ipv4: { src: '10.0.0.2', dst: '10.0.0.1', id: 10, fragOff: 3, proto: 17 }, payload: new Uint8Array(16).fill(0x78) },
  { eth: { src: A, dst: B }, ipv4: { src: '10.0.0.2', dst: '10.0.0.1', check: 0xdead, id: 11 }, tcp: { sport: 1, dport: 2, flags: 'R', window: 0, check: 0xbeef } },
];

function packets(): PacketToWrite[] {
  return FRAMES.map((f, i) => ({
    tsSec: 1700000000 + i,
    tsNsec: i * 123456789 + 999,
    data: encodeFrame(f),
    ifName: i % 2 ? 'veth1' : 'eth0',
  }));
}

/** What tcpdump -nn -e -vv prints for FRAMES (the µs digits are the same in both formats). */
const TCPDUMP_VV = `22:13:20.000000 02:00:00:00:00:0a > 02:00:00:00:00:0b, ethertype IPv4 (0x0800), length 74: (tos 0x0, ttl 64, id 7238, offset 0, flags [DF], proto TCP (6), length 60)
    10.0.0.2.40000 > 10.0.0.1.22: Flags [S], cksum 0x98cd (correct), seq 1000, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0
22:13:21.123457 02:00:00:00:00:0b > 02:00:00:00:00:0a, ethertype IPv4 (0x0800), length 58: (tos 0x0, ttl 63, id 0, offset 0, flags [DF], proto TCP (6), length 44)
    10.0.0.1.22 > 10.0.0.2.40000: Flags [S.], cksum 0xd1c3 (correct), seq 5000, ack 1001, win 65160, options [mss 1460], length 0
22:13:22.246914 02:00:00:00:00:0a > 02:00:00:00:00:0b, ethertype IPv4 (0x0800), length 47: (tos 0x0, ttl 64, id 7, offset 0, flags [none], proto UDP (17), length 33)
    10.0.0.2.5000 > 10.0.0.1.5001: [udp sum ok] UDP, length 5
22:13:23.370371 02:00:00:00:00:0a > 02:00:00:00:00:0b, ethertype IPv4 (0x0800), length 50: (tos 0x0, ttl 64, id 8, offset 0, flags [none], proto ICMP (1), length 36)
    10.0.0.2 > 10.0.0.1: ICMP echo request, id 119, seq 1, length 16
22:13:24.493828 02:00:00:00:00:0a > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Ethernet (len 6), IPv4 (len 4), Request who-has 10.0.0.1 tell 10.0.0.2, length 28
22:13:25.617284 02:00:00:00:00:0b > 02:00:00:00:00:0a, ethertype IPv4 (0x0800), length 75: (tos 0xc0, ttl 64, id 9, offset 0, flags [none], proto ICMP (1), length 61)
    10.0.0.1 > 10.0.0.2: ICMP 10.0.0.1 udp port 5001 unreachable, length 41
\t(tos 0x0, ttl 64, id 7, offset 0, flags [none], proto UDP (17), length 33)
    10.0.0.2.5000 > 10.0.0.1.5001: [udp sum ok] UDP, length 5
22:13:26.740741 02:00:00:00:00:0a > 02:00:00:00:00:0b, ethertype IPv4 (0x0800), length 50: (tos 0x0, ttl 64, id 10, offset 24, flags [none], proto UDP (17), length 36)
    10.0.0.2 > 10.0.0.1: ip-proto-17
22:13:27.864198 02:00:00:00:00:0a > 02:00:00:00:00:0b, ethertype IPv4 (0x0800), length 54: (tos 0x0, ttl 64, id 11, offset 0, flags [none], proto TCP (6), length 40, bad cksum dead (->66c3)!)
    10.0.0.2.1 > 10.0.0.1.2: Flags [R], cksum 0xbeef (incorrect -> 0x9bdb), seq 0, win 0, length 0
`;

test('pcap: written and read back exactly', () => {
  const ps = packets();
  const bytes = writePcap(ps);
  assert.equal(bytes.length, 24 + ps.reduce((n, p) => n + 16 + p.data.length, 0));
  assert.equal(toHex(bytes.subarray(0, 24)), 'd4c3b2a1020004000000000000000000000004000' + '1000000');
  const back = readCapture(bytes);
  assert.deepEqual(back.format, 'pcap');
  assert.deepEqual(back.interfaces, [{ linkType: 1, snapLen: 262144 }]);
  assert.deepEqual(
    back.packets,
    ps.map((p) => ({ tsSec: p.tsSec, tsNsec: Math.floor(p.tsNsec / 1000) * 1000, data: p.data, origLen: p.data.length, linkType: 1 })),
  );
  const nano = readPcap(writePcap(ps, { nanosecond: true, linkType: LINKTYPE_RAW, snapLen: 96 }));
  assert.deepEqual(nano.interfaces, [{ linkType: 101, snapLen: 96 }]);
  assert.deepEqual(nano.packets.map((p) => [p.tsSec, p.tsNsec, p.linkType]), ps.map((p) => [p.tsSec, p.tsNsec, 101]));
  // a shorter capture than the wire length
  const cut = readCapture(writePcap([{ tsSec: 1, tsNsec: 0, data: ps[0]!.data.subarray(0, 20), origLen: 74 }]));
  assert.deepEqual([cut.packets[0]!.data.length, cut.packets[0]!.origLen], [20, 74]);
});

test('pcapng: one interface block per interface, names, nanosecond timestamps, comments', () => {
  const ps = packets();
  ps[2]!.comment = 'dropped by INPUT rule 3';
  const bytes = writePcapng(ps);
  const back = readCapture(bytes);
  assert.equal(back.format, 'pcapng');
  assert.deepEqual(back.interfaces, [
    { linkType: 1, snapLen: 262144, name: 'eth0' },
    { linkType: 1, snapLen: 262144, name: 'veth1' },
  ]);
  assert.deepEqual(
    back.packets,
    ps.map((p, i) => {
      const want: CapturedPacket = { tsSec: p.tsSec, tsNsec: p.tsNsec, data: p.data, origLen: p.data.length, linkType: 1, ifIndex: i % 2, ifName: p.ifName! };
      if (p.comment) want.comment = p.comment;
      return want;
    }),
  );
  // the layout, byte for byte: section header, then the first interface and packet
  const one = writePcapng([{ tsSec: 1, tsNsec: 2, data: hex('aabbcc'), ifName: 'eth0', comment: 'x' }]);
  assert.equal(
    toHex(one),
    '0a0d0d0a1c0000004d3c2b1a01000000ffffffffffffffff1c000000' + // SHB, no options
      '01000000' + '28000000' + '01000000' + '00000400' + '02000400' + '65746830' + '09000100' + '09000000' + '00000000' + '28000000' + // IDB: if_name, if_tsresol 9
      '06000000' + '30000000' + '00000000' + '00000000' + '02ca9a3b' + '03000000' + '03000000' + 'aabbcc00' + '01000100' + '78000000' + '00000000' + '30000000', // EPB with a comment
  );
  // explicit interfaces; packets pointing at them by index; other link types
  const raw = writePcapng(
    [
      { tsSec: 0, tsNsec: 0, data: encodeIpv4({ udp: {} }), ifIndex: 1 },
      { tsSec: 0, tsNsec: 1, data: hex('00'), linkType: LINKTYPE_RAW },
    ],
    { interfaces: [{ linkType: LINKTYPE_ETHERNET, snapLen: 65535, name: 'lo' }, { linkType: LINKTYPE_RAW, snapLen: 1500 }] },
  );
  const rb = readPcapng(raw);
  assert.deepEqual(rb.interfaces, [{ linkType: 1, snapLen: 65535, name: 'lo' }, { linkType: 101, snapLen: 1500 }]);
  assert.deepEqual(rb.packets.map((p) => [p.ifIndex, p.linkType, p.ifName]), [[1, 101, undefined], [1, 101, undefined]]);
  assert.throws(() => writePcapng([{ tsSec: 0, tsNsec: 0, data: hex('00'), ifIndex: 0 }]), /no interface 0/);
});

test('tcpdump reads the pcap and pcapng files nflab writes', () => {
  const ps = packets();
  for (const [name, bytes] of [
    ['out.pcap', writePcap(ps)],
    ['out.pcapng', writePcapng(ps)],
  ] as const) {
    const r = run('tcpdump', ['-r', file(name, bytes), '-nn', '-e', '-vv']);
    assert.equal(r.stderr, `reading from file ${join(dir, name)}, link-type EN10MB (Ethernet), snapshot length 262144\n`);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, TCPDUMP_VV);
  }
  // nanoseconds survive in pcapng and in nanosecond pcap
  const ns = ['-r', '', '-nn', '-tt', '--time-stamp-precision=nano', '-q'];
  const want = ps.map((p) => `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}`);
  for (const [name, bytes] of [
    ['ns.pcapng', writePcapng(ps)],
    ['ns.pcap', writePcap(ps, { nanosecond: true })],
  ] as const) {
    ns[1] = file(name, bytes);
    const r = run('tcpdump', ns);
    assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => l.split(' ')[0]), want);
  }
  // raw IPv4 datagrams
  const rawFile = file('raw.pcap', writePcap([{ tsSec: 0, tsNsec: 0, data: encodeIpv4({ ipv4: { src: '1.2.3.4', dst: '5.6.7.8' }, udp: { sport: 9, dport: 10 } }) }], { linkType: LINKTYPE_RAW }));
  const r = run('tcpdump', ['-r', rawFile, '-nn', '-vv', '-tt']);
  assert.equal(r.stderr, `reading from file ${rawFile}, link-type RAW (Raw IP), snapshot length 262144\n`);
  assert.equal(r.stdout, '0.000000 IP (tos 0x0, ttl 64, id 1, offset 0, flags [none], proto UDP (17), length 28)\n    1.2.3.4.9 > 5.6.7.8.10: [udp sum ok] UDP, length 0\n');
});

test('nflab reads the pcap files tcpdump writes', () => {
  const ps = packets();
  const src = file('src.pcapng', writePcapng(ps));
  for (const [name, extra, nanos] of [
    ['us.pcap', [], false],
    ['ns.pcap', ['--time-stamp-precision=nano'], true],
  ] as const) {
    const out = file(name);
    const r = run('tcpdump', ['-r', src, ...extra, '-w', out]);
    assert.equal(r.status, 0, r.stderr);
    const back = readCapture(readFileSync(out));
    assert.equal(back.format, 'pcap');
    assert.deepEqual(back.interfaces, [{ linkType: 1, snapLen: 262144 }]);
    assert.deepEqual(
      back.packets,
      ps.map((p) => ({ tsSec: p.tsSec, tsNsec: nanos ? p.tsNsec : Math.floor(p.tsNsec / 1000) * 1000, data: p.data, origLen: p.data.length, linkType: 1 })),
    );
  }
});

const SCAPY_WRITERS = String.raw`
import sys
from scapy.all import RawPcapWriter, Ether, wrpcapng
d = sys.argv[1]
frames = [bytes.fromhex(h) for h in sys.stdin.read().split()]
for name, kw in (('le.pcap', {}), ('be.pcap', {'endianness': '>'}), ('nano.pcap', {'nano': True})):
    w = RawPcapWriter(d + '/' + name, linktype=1, **kw)
    w._write_header(None)
    for i, f in enumerate(frames):
        w.write_packet(f[:50], sec=1600000000 + i, usec=i * 1001, wirelen=len(f))
    w.close()
pkts = []
for i, f in enumerate(frames):
    p = Ether(f)
    p.time = 1600000000 + i + 0.5
    if i == 1: p.comment = b'second'
    pkts.append(p)
wrpcapng(d + '/scapy.pcapng', pkts)
`;

test('nflab reads the pcap and pcapng files scapy writes, in both byte orders', () => {
  const frames = FRAMES.map((f) => encodeFrame(f));
  const r = run('/usr/bin/python3', ['-c', SCAPY_WRITERS, dir], frames.map(toHex).join('\n'));
  assert.equal(r.status, 0, r.stderr);
  for (const [name, nanos] of [
    ['le.pcap', false],
    ['be.pcap', false],
    ['nano.pcap', true],
  ] as const) {
    const c = readCapture(readFileSync(join(dir, name)));
    assert.deepEqual(c.interfaces, [{ linkType: 1, snapLen: 65535 }], name);
    assert.deepEqual(
      c.packets,
      frames.map((f, i) => ({ tsSec: 1600000000 + i, tsNsec: nanos ? i * 1001 : i * 1001000, data: f.subarray(0, 50), origLen: f.length, linkType: 1 })),
      name,
    );
  }
  const ng = readCapture(readFileSync(join(dir, 'scapy.pcapng')));
  assert.deepEqual(ng.interfaces, [{ linkType: 1, snapLen: 262144 }]);
  assert.deepEqual(
    ng.packets,
    frames.map((f, i) => {
      const p: CapturedPacket = { tsSec: 1600000000 + i, tsNsec: 500000000, data: f, origLen: f.length, linkType: 1, ifIndex: 0 };
      if (i === 1) p.comment = 'second\n'; // scapy ends comments with a newline
      return p;
    }),
  );
});

/** pcapng blocks in either byte order, for files no tool here writes. */
function block(little: boolean, type: number, body: number[] | Uint8Array): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const out = new Uint8Array(12 + padded);
  const v = new DataView(out.buffer);
  v.setUint32(0, type, little);
  v.setUint32(4, out.length, little);
  out.set(body, 8);
  v.setUint32(out.length - 4, out.length, little);
  return out;
}

function fields(little: boolean, spec: [number, 'u8' | 'u16' | 'u32' | 'i64', number | bigint][] = []): Uint8Array {
  const size = { u8: 1, u16: 2, u32: 4, i64: 8 };
  const out = new Uint8Array(spec.reduce((n, [, t]) => n + size[t], 0));
  const v = new DataView(out.buffer);
  let o = 0;
  for (const [, t, x] of spec) {
    if (t === 'u8') v.setUint8(o, Number(x));
    else if (t === 'u16') v.setUint16(o, Number(x), little);
    else if (t === 'u32') v.setUint32(o, Number(x), little);
    else v.setBigInt64(o, BigInt(x), little);
    o += size[t];
  }
  return out;
}

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function option(little: boolean, code: number, value: Uint8Array): Uint8Array {
  const o = new Uint8Array(4 + ((value.length + 3) & ~3));
  const v = new DataView(o.buffer);
  v.setUint16(0, code, little);
  v.setUint16(2, value.length, little);
  o.set(value, 4);
  return o;
}

function shb(little: boolean): Uint8Array {
  return block(little, 0x0a0d0d0a, fields(little, [[0, 'u32', 0x1a2b3c4d], [0, 'u16', 1], [0, 'u16', 0], [0, 'i64', -1n]]));
}

function idb(little: boolean, linkType: number, snapLen: number, opts: Uint8Array[]): Uint8Array {
  return block(little, 1, cat(fields(little, [[0, 'u16', linkType], [0, 'u16', 0], [0, 'u32', snapLen]]), ...opts, new Uint8Array(4)));
}

function epb(little: boolean, ifId: number, ts: bigint, data: Uint8Array, origLen = data.length): Uint8Array {
  const head = fields(little, [[0, 'u32', ifId], [0, 'u32', Number(ts >> 32n)], [0, 'u32', Number(ts & 0xffffffffn)], [0, 'u32', data.length], [0, 'u32', origLen]]);
  const padded = new Uint8Array((data.length + 3) & ~3);
  padded.set(data);
  return block(little, 6, cat(head, padded));
}

test('pcapng from elsewhere: big-endian, binary and decimal resolutions, offsets, simple and obsolete packet blocks', () => {
  const be = false;
  const [f0, f1, f2, f3] = FRAMES.slice(0, 4).map((f) => encodeFrame(f));
  const bytes = cat(
    shb(be),
    block(be, 0x00000bad, [1, 2, 3, 4, 5]), // an unknown block, skipped
    idb(be, 1, 64, [option(be, 2, new TextEncoder().encode('wan0')), option(be, 9, Uint8Array.of(0x80 | 20)), option(be, 14, fields(be, [[0, 'i64', 100n]]))]),
    idb(be, 1, 64, [option(be, 9, Uint8Array.of(3))]),
    block(be, 3, cat(fields(be, [[0, 'u32', f0!.length]]), f0!)), // simple: cut to interface 0's snapshot length
    epb(be, 0, (1_700_000_000n << 20n) + 3n * (1n << 18n), f1!), // 0.75 s in 2^-20 units
    epb(be, 1, 1_700_000_000_123n, f2!, 1000), // milliseconds
    block(be, 2, cat(fields(be, [[0, 'u16', 1], [0, 'u16', 0], [0, 'u32', 0], [0, 'u32', 1_700_000_001_999 % 2 ** 32], [0, 'u32', f3!.length], [0, 'u32', f3!.length]]), f3!, new Uint8Array(2))),
  );
  const mine = readCapture(bytes);
  assert.deepEqual(mine.interfaces, [{ linkType: 1, snapLen: 64, name: 'wan0' }, { linkType: 1, snapLen: 64 }]);
  const got = mine.packets.map((p) => [p.tsSec, p.tsNsec, p.data.length, p.origLen, p.ifIndex, p.ifName ?? '-']);
  assert.deepEqual(got, [
    [100, 0, 64, f0!.length, 0, 'wan0'], // no time stamp: the interface's offset
    [1_700_000_100, 750_000_000, f1!.length, f1!.length, 0, 'wan0'],
    [1_700_000_000, 123_000_000, f2!.length, 1000, 1, '-'],
    [Math.floor((1_700_000_001_999 % 2 ** 32) / 1000), ((1_700_000_001_999 % 2 ** 32) % 1000) * 1_000_000, f3!.length, f3!.length, 1, '-'],
  ]);
  // libpcap reads the same file to the same times and lengths
  const r = run('tcpdump', ['-r', file('be.pcapng', bytes), '-nn', '-tt', '--time-stamp-precision=nano', '-e']);
  assert.equal(r.status, 0, r.stderr);
  const theirs = r.stdout.trimEnd().split('\n').map((l) => {
    const m = /^(\d+)\.(\d{9}) .*, length (\d+):/.exec(l)!;
    return [Number(m[1]), Number(m[2]), Number(m[3])];
  });
  assert.deepEqual(theirs, mine.packets.map((p) => [p.tsSec, p.tsNsec, p.origLen]));

  // two sections in different byte orders: each has its own interfaces
  const two = cat(shb(true), idb(true, 1, 0, [option(true, 2, new TextEncoder().encode('a'))]), epb(true, 0, 5n, f0!), shb(false), idb(false, 101, 0, []), epb(false, 0, 6n, hex('45')));
  const t = readPcapng(two);
  assert.deepEqual(t.interfaces, [{ linkType: 1, snapLen: 0, name: 'a' }, { linkType: 101, snapLen: 0 }]);
  assert.deepEqual(t.packets.map((p) => [p.ifIndex, p.linkType, p.tsNsec, p.data.length]), [[0, 1, 5000, f0!.length], [1, 101, 6000, 1]]);
});

test('files that are not captures or are cut short: a clear error, never a crash', () => {
  const good = writePcap(packets().slice(0, 2));
  const goodNg = writePcapng(packets().slice(0, 2));
  const cases: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), 'empty file: not a pcap or pcapng capture'],
    ['text', new TextEncoder().encode('*filter\n:INPUT ACCEPT [0:0]\n'), 'not a pcap or pcapng capture: unknown file format'],
    ['short magic', hex('d4c3'), 'not a pcap or pcapng capture: unknown file format'],
    ['pcap header cut', good.subarray(0, 10), 'truncated pcap file header: 10 of 24 bytes'],
    ['pcap version', cat(good.subarray(0, 4), hex('0300'), good.subarray(6)), 'unsupported pcap version 3.4'],
    ['record header cut', good.subarray(0, 24 + 16 + 74 + 5), 'truncated pcap record header of packet 2 at offset 114: 5 of 16 bytes'],
    ['record data cut', good.subarray(0, 24 + 16 + 30), 'truncated pcap file: packet 1 at offset 24 has 74 captured bytes, only 30 left'],
    ['pcapng cut in a block', goodNg.subarray(0, goodNg.length - 8), 'truncated pcapng file: block 5 at offset 220 has length 92, only 84 bytes left'],
    ['pcapng cut in a header', goodNg.subarray(0, 30), 'truncated pcapng file: block 2 at offset 28 has 2 bytes, fewer than a block header'],
    ['pcapng bad order magic', cat(goodNg.subarray(0, 8), hex('01020304'), goodNg.subarray(12)), 'bad pcapng section header at offset 0: unknown byte-order magic'],
    ['pcapng odd length', cat(shb(true), hex('0100000015000000'), new Uint8Array(16)), 'bad pcapng block 2 at offset 28: length 21'],
    ['pcapng trailing length', cat(shb(true), block(true, 1, new Uint8Array(8)).fill(9, 16)), 'bad pcapng block 2 at offset 28: trailing length differs from 20'],
    ['pcapng no interface', cat(shb(true), epb(true, 0, 0n, hex('00'))), 'bad pcapng enhanced packet block 2 at offset 28: no interface 0'],
    ['pcapng simple without interface', cat(shb(true), block(true, 3, fields(true, [[0, 'u32', 1]]))), 'bad pcapng simple packet block 2 at offset 28: no interface 0'],
    ['pcapng short idb', cat(shb(true), block(true, 1, new Uint8Array(4))), 'bad pcapng interface description block 2 at offset 28: length 16 too short'],
    ['pcapng caplen', cat(shb(true), idb(true, 1, 0, []), block(true, 6, fields(true, [[0, 'u32', 0], [0, 'u32', 0], [0, 'u32', 0], [0, 'u32', 9], [0, 'u32', 9]]))), 'bad pcapng enhanced packet block 3 at offset 52: captured length 9 exceeds the block'],
    ['pcapng version', cat(block(true, 0x0a0d0d0a, fields(true, [[0, 'u32', 0x1a2b3c4d], [0, 'u16', 2], [0, 'u16', 0], [0, 'i64', -1n]]))), 'unsupported pcapng version 2.0'],
  ];
  for (const [what, bytes, message] of cases) {
    let error: unknown;
    try {
      readCapture(bytes);
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof CaptureError, `${what}: ${String(error)}`);
    assert.equal(error.message, message, what);
    // libpcap refuses every one of them too (tcpdump prints what it read before a cut)
    const r = run('tcpdump', ['-r', file('bad', bytes), '-nn']);
    assert.notEqual(r.status, 0, `${what}: tcpdump accepted it`);
  }
});

test('random damage to capture files gives packets or a CaptureError, nothing else', () => {
  const files = [writePcap(packets()), writePcapng(packets())];
  fc.assert(
    fc.property(fc.nat(1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), fc.nat(), (which, pokes, cut) => {
      const b = files[which]!.slice(0, 8 + (cut % files[which]!.length));
      for (const [at, v] of pokes) b[at % b.length] = v;
      try {
        const c = readCapture(b);
        for (const p of c.packets) decodeFrame(p.data);
      } catch (e) {
        if (!(e instanceof CaptureError)) throw e;
      }
    }),
    { seed: 7, numRuns: 3000 },
  );
});

/** Runs `tcpdump -w` in a fresh namespace on lo while python talks to closed ports, returning the file. */
async function captureKernelPackets(ns: string, out: string): Promise<void> {
  const ip = (...a: string[]) => assert.equal(run('ip', a).status, 0, `ip ${a.join(' ')}`);
  ip('netns', 'add', ns);
  try {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    const dump = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', 'lo', '-U', '--immediate-mode', '-c', '4', '-w', out], { env: TOOL_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    const done = new Promise<number>((resolve) => dump.on('close', (c) => resolve(c ?? -1)));
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start: ${err}`)), 10_000);
      dump.stderr.on('data', (b: Buffer) => {
        err += b.toString();
        if (err.includes('listening on lo')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const py = run('ip', ['netns', 'exec', ns, '/usr/bin/python3', '-c',
      'import socket\n' +
      's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.sendto(b"hi\\n", ("127.0.0.1", 9))\n' +
      't = socket.socket()\ntry:\n    t.connect(("127.0.0.1", 9))\nexcept ConnectionRefusedError:\n    pass\n']);
    assert.equal(py.status, 0, py.stderr);
    const timer = setTimeout(() => dump.kill(), 10_000);
    assert.equal(await done, 0);
    clearTimeout(timer);
  } finally {
    run('ip', ['netns', 'del', ns]);
  }
}

test('packets the kernel sent, captured by tcpdump: decoded with the checksum verdicts tcpdump gives', async () => {
  const out = file('kernel.pcap');
  await captureKernelPackets(`nflabt-wire-${process.pid}`, out);
  const c = readCapture(readFileSync(out));
  assert.equal(c.packets.length, 4);
  const [udpOut, unreach, syn, rst] = c.packets.map((p) => decodeFrame(p.data));
  assert.deepEqual([udpOut!.udp?.dport, unreach!.icmp?.type, unreach!.icmp?.code, syn!.tcp?.flags, rst!.tcp?.flags], [9, 3, 3, 'S', 'RA']);
  // the error quotes the whole datagram it answers; the reset acknowledges the SYN
  assert.equal(toHex(unreach!.payload!), toHex(c.packets[0]!.data.subarray(14)));
  assert.equal(rst!.tcp!.ack, (syn!.tcp!.seq! + 1) >>> 0);
  for (const p of c.packets) assert.equal(toHex(encodeFrame(decodeFrame(p.data))), toHex(p.data));
  // tcpdump's verdict on each checksum is nflab's (lo leaves outgoing TCP/UDP sums partial)
  const r = run('tcpdump', ['-r', out, '-nn', '-vv']);
  const theirs = r.stdout
    .split('\n')
    .filter((l) => /cksum|sum ok|IP \(/.test(l))
    .flatMap((l) => {
      const v: boolean[] = [];
      if (/^\S+ IP \(/.test(l)) v.push(!/bad cksum/.test(l));
      if (/udp sum ok|cksum 0x[0-9a-f]+ \(correct\)/.test(l)) v.push(true);
      if (/bad udp cksum|\(incorrect/.test(l)) v.push(false);
      return v;
    });
  const mine = [udpOut!, unreach!, syn!, rst!].flatMap((d) => {
    const v = [d.ipv4!.checkValid!];
    const l4 = d.tcp ?? d.udp;
    if (l4) v.push(l4.checkValid!);
    const q = d.icmp?.quote;
    if (q) v.push((q.tcp ?? q.udp)!.checkValid!);
    return v;
  });
  assert.deepEqual(theirs, mine);
});
