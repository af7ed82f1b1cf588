/**
 * The kernel side of the packet-level differential suite (test/pktdiff/):
 * the comparison rules on hand-made observations, then scenarios on the real
 * kernel whose every observation is predicted here: each expected
 * observation is what nflab will have to produce, and it must compare equal
 * to the kernel's.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { guardKernel, inCI } from './diff/suite.js';
import { ascii, fromDut, icmp, icmp6, internetChecksum, ipv4, ipv6, tcp, toDut, udp } from './pktdiff/build.js';
import { comparePacketObservations, formatObservation } from './pktdiff/compare.js';
import { decodeFrame, describeFrame } from './pktdiff/decode.js';
import { NETNS_PREFIX, kernelScenarioUnavailableReason, runKernelScenario } from './pktdiff/kernel.js';
import { maskFrame, maskLogLine } from './pktdiff/mask.js';
import type { EmittedFrame, PacketObservation, PacketScenario } from './pktdiff/types.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

/** An observation with nothing in it but what is given. */
function observation(o: Partial<PacketObservation>): PacketObservation {
  return { save: '', conntrack: [], conntrackAtMs: 0, log: [], emitted: [], sentAtMs: [], ...o };
}

function out(iface: 'eth0' | 'eth1', bytes: Uint8Array, afterFrame: number): EmittedFrame {
  return { iface, bytes, afterFrame };
}

const C = '10.0.0.2';
const S = '10.0.0.1';
const FAR = '10.0.1.2';

/** The SYN of the first kernel scenario and the reset the kernel answers it with, as captured. */
const SYN_1000 = toDut('eth0', ipv4({ src: C, dst: S, id: 0x1234 }, tcp({ sport: 1000, dport: 80, seq: 1000 })));
const RST_1000 = '02000000000202000000000108004500002800004000400626ce0a0000010a000002005003e800000000000003e95014000093ad0000';

function echoReply(id: number, ipId: number): Uint8Array {
  return fromDut('eth0', ipv4({ src: S, dst: C, id: ipId }, icmp({ type: 0, id, seq: 1, payload: ascii('nflab-ping') })));
}

describe('pktdiff: comparing observations', () => {
  it('builds frames byte for byte like the ones the kernel sends', () => {
    const rst = fromDut('eth0', ipv4({ src: S, dst: C, df: true }, tcp({ sport: 80, dport: 1000, ack: 1001, flags: 'RA', window: 0 })));
    assert.equal(hex(rst), RST_1000);
  });

  it('describes frames in one line', () => {
    assert.equal(
      describeFrame(fromHex(RST_1000)),
      '02:00:00:00:00:01 > 02:00:00:00:00:02 IPv4 10.0.0.1 > 10.0.0.2 (ttl 64, id 0, DF, len 40) TCP 80 > 1000 [R.] seq 0 ack 1001 win 0',
    );
    assert.equal(
      describeFrame(SYN_1000.bytes),
      '02:00:00:00:00:02 > 02:00:00:00:00:01 IPv4 10.0.0.2 > 10.0.0.1 (ttl 64, id 4660, len 40) TCP 1000 > 80 [S] seq 1000 win 64240',
    );
    const unreach = fromDut(
      'eth0',
      ipv4({ src: S, dst: C, tos: 0xc0, id: 7 }, icmp({ type: 3, code: 3, rest: 0, payload: ipv4({ src: C, dst: S, id: 9 }, udp({ sport: 5, dport: 53 })) })),
    );
    assert.equal(
      describeFrame(unreach),
      '02:00:00:00:00:01 > 02:00:00:00:00:02 IPv4 10.0.0.1 > 10.0.0.2 (ttl 64, id 7, tos 0xc0, len 56) ' +
        'ICMP port unreachable [IPv4 10.0.0.2 > 10.0.0.1 (ttl 64, id 9, len 28) UDP 5 > 53, 0 bytes]',
    );
    const v6 = fromDut('eth0', ipv6({ src: '2001:db8::1', dst: '2001:db8::2', flowLabel: 0xeb46f }, icmp6({ type: 129, id: 1, seq: 2 })));
    assert.equal(
      describeFrame(v6),
      '02:00:00:00:00:01 > 02:00:00:00:00:02 IPv6 2001:db8::1 > 2001:db8::2 (hlim 64, flow 0xeb46f, plen 8) ICMPv6 echo reply id 1 seq 2, 0 bytes',
    );
  });

  it('finds equal observations equal', () => {
    const o = observation({ save: '*filter\nCOMMIT\n', emitted: [out('eth0', fromHex(RST_1000), 0)], log: ['X IN=eth0 '], sentAtMs: [0] });
    assert.deepEqual(comparePacketObservations(o, o), []);
  });

  it('names the fields that differ', () => {
    const k = observation({ emitted: [out('eth0', fromHex(RST_1000), 0)] });
    const other = fromDut('eth0', ipv4({ src: S, dst: C, df: true, ttl: 63 }, tcp({ sport: 80, dport: 1000, ack: 1001, flags: 'RA', window: 0 })));
    const d = comparePacketObservations(k, observation({ emitted: [out('eth0', other, 0)] }));
    assert.equal(d.length, 1);
    const lines = d[0]!.split('\n');
    assert.deepEqual(lines.slice(0, 5), [
      'eth0: frame #1 (kernel, after frame 0) and #1 (nflab, after frame 0) differ:',
      `  kernel: ${describeFrame(fromHex(RST_1000))}`,
      `  nflab:  ${describeFrame(other)}`,
      '  ip.ttl: kernel 64, nflab 63',
      '  ip.check: kernel 0x26ce, nflab 0x27ce',
    ]);
  });

  it('ignores the IP ID of the ICMP messages the kernel sends, but checks their header checksum', () => {
    const k = observation({ emitted: [out('eth0', echoReply(0x1234, 31743), 0)] });
    assert.deepEqual(comparePacketObservations(k, observation({ emitted: [out('eth0', echoReply(0x1234, 0), 0)] })), []);
    const broken = echoReply(0x1234, 0);
    broken[24] = 0x12; // header checksum
    assert.deepEqual(comparePacketObservations(k, observation({ emitted: [out('eth0', broken, 0)] })), [
      `eth0 nflab frame #1: ip.check 0x12${hex(broken.subarray(25, 26))} is wrong (should be 0x${hex(echoReply(0x1234, 0).subarray(24, 26))})\n  ${describeFrame(broken)}`,
    ]);
    // A reset is not masked: its ID is 0 with DF.
    const rst = fromHex(RST_1000);
    const rst2 = rst.slice();
    rst2[18] = 1;
    rst2[24] = internetChecksum(new Uint8Array([...rst2.subarray(14, 24), 0, 0, ...rst2.subarray(26, 34)])) >> 8;
    rst2[25] = internetChecksum(new Uint8Array([...rst2.subarray(14, 24), 0, 0, ...rst2.subarray(26, 34)])) & 0xff;
    const d = comparePacketObservations(observation({ emitted: [out('eth0', rst, 0)] }), observation({ emitted: [out('eth0', rst2, 0)] }));
    assert.equal(d.length, 1);
    assert.match(d[0]!, /\n {2}ip\.id: kernel 0 \(0x0000\), nflab 256 \(0x0100\)\n/);
  });

  it('masks the clock of ICMP timestamp replies and the flow label of generated IPv6 messages', () => {
    const ts = (t: number, id: number): Uint8Array => {
      const body = new Uint8Array(12);
      new DataView(body.buffer).setUint32(4, t);
      new DataView(body.buffer).setUint32(8, t);
      return fromDut('eth0', ipv4({ src: S, dst: C, id }, icmp({ type: 14, id: 9, seq: 1, payload: body })));
    };
    const m = maskFrame(ts(12345678, 99));
    assert.deepEqual(m.masked, ['ip.id', 'ip.check', 'icmp.receive-timestamp', 'icmp.transmit-timestamp', 'icmp.check']);
    assert.deepEqual(m.badChecksums, []);
    assert.deepEqual(
      comparePacketObservations(observation({ emitted: [out('eth0', ts(12345678, 99), 3)] }), observation({ emitted: [out('eth0', ts(1, 5), 3)] })),
      [],
    );
    const reply6 = (flow: number): Uint8Array =>
      fromDut('eth0', ipv6({ src: '2001:db8::1', dst: '2001:db8::2', flowLabel: flow }, icmp6({ type: 129, id: 1, seq: 1 })));
    assert.deepEqual(comparePacketObservations(observation({ emitted: [out('eth0', reply6(0xeb46f), 0)] }), observation({ emitted: [out('eth0', reply6(0), 0)] })), []);
    // A forwarded datagram keeps its flow label: compared.
    const fwd = (flow: number): Uint8Array =>
      fromDut('eth1', ipv6({ src: '2001:db8::2', dst: '2001:db8:1::2', flowLabel: flow, hopLimit: 63 }, udp({ sport: 1, dport: 2 })));
    const d = comparePacketObservations(observation({ emitted: [out('eth1', fwd(5), 0)] }), observation({ emitted: [out('eth1', fwd(6), 0)] }));
    assert.equal(d.length, 1);
    assert.match(d[0]!, /\n {2}ip6\.flow: kernel 0x00005, nflab 0x00006\n/);
  });

  it('reports missing, extra and late frames', () => {
    const rst = fromHex(RST_1000);
    const reply = echoReply(1, 0);
    const d = comparePacketObservations(
      observation({ emitted: [out('eth0', rst, 0), out('eth0', reply, 1)] }),
      observation({ emitted: [out('eth0', rst, 1), out('eth1', reply, 1)] }),
    );
    assert.deepEqual(d, [
      'eth0: the kernel emitted 2 frame(s), nflab 1',
      `eth0: frame #1 was emitted after frame 0 by the kernel, after frame 1 by nflab:\n  ${describeFrame(rst)}`,
      `eth0: only the kernel emitted frame #2 (after frame 1):\n  ${describeFrame(reply)}\n    0000: 02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00\n` +
        `    0010: 00 26 00 00 00 00 40 01 66 d5 0a 00 00 01 0a 00\n    0020: 00 02 00 00 e4 37 00 01 00 01 6e 66 6c 61 62 2d\n    0030: 70 69 6e 67`,
      'eth1: the kernel emitted 0 frame(s), nflab 1',
      `eth1: only nflab emitted frame #1 (after frame 1):\n  ${describeFrame(reply)}\n    0000: 02 00 00 00 00 02 02 00 00 00 00 01 08 00 45 00\n` +
        `    0010: 00 26 00 00 00 00 40 01 66 d5 0a 00 00 01 0a 00\n    0020: 00 02 00 00 e4 37 00 01 00 01 6e 66 6c 61 62 2d\n    0030: 70 69 6e 67`,
    ]);
  });

  it('compares conntrack listings in any order, timeouts within one second of the same expiry', () => {
    const a = 'icmp     1 29 src=10.0.0.2 dst=10.0.0.1 type=8 code=0 id=7 src=10.0.0.1 dst=10.0.0.2 type=0 code=0 id=7 mark=0 use=1';
    const b = 'tcp      6 119 SYN_SENT src=10.0.0.2 dst=10.0.1.2 sport=1 dport=80 [UNREPLIED] src=10.0.1.2 dst=10.0.0.2 sport=80 dport=1 mark=0 use=1';
    const k = observation({ conntrack: [a, b], conntrackAtMs: 20 });
    const n = (lines: string[], at: number): PacketObservation => observation({ conntrack: lines, conntrackAtMs: at });
    assert.deepEqual(comparePacketObservations(k, n([b.replace(' 119 ', ' 120 '), a.replace(' 29 ', ' 30 ')], 0)), []);
    assert.deepEqual(comparePacketObservations(k, n([b.replace(' 119 ', ' 118 '), a.replace(' 29 ', ' 28 ')], 1000)), []);
    assert.deepEqual(comparePacketObservations(k, n([b, a.replace(' 29 ', ' 31 ')], 20)), [
      `conntrack timeout differs: the kernel's entry expires 29.020 s after the first frame (timeout 29 listed at 0.020 s), ` +
        `nflab's 31.020 s (timeout 31 listed at 0.020 s):\n  ${a}\n  ${a.replace(' 29 ', ' 31 ')}`,
    ]);
    assert.deepEqual(comparePacketObservations(k, n([a], 20)), [
      `conntrack -L differs (- only the kernel's, + only nflab's; timeouts ignored):\n- ${b}`,
    ]);
  });

  it('prints an observation for people', () => {
    const o = observation({
      save: '*filter\nCOMMIT\n',
      sentAtMs: [0, 1.5],
      emitted: [out('eth0', fromHex(RST_1000), 0)],
      log: ['X IN=eth0 '],
      conntrack: ['icmp     1 29 src=10.0.0.2'],
      conntrackAtMs: 7,
    });
    const s: PacketScenario = { name: 'x', setup: [], rules: '', frames: [SYN_1000, SYN_1000] };
    assert.equal(
      formatObservation(o, s),
      [
        `frame 0 at 0.000 ms on eth0: ${describeFrame(SYN_1000.bytes)}`,
        `  -> eth0: ${describeFrame(fromHex(RST_1000))}`,
        `frame 1 at 1.500 ms on eth0: ${describeFrame(SYN_1000.bytes)}`,
        'kernel log (1 lines):',
        '  X IN=eth0 ',
        'conntrack -L at 7.000 ms (1 entries):',
        '  icmp     1 29 src=10.0.0.2',
        'iptables-save -c:',
        '  *filter',
        '  COMMIT',
      ].join('\n'),
    );
  });

  it('masks the random fields of log lines of packets the machine sent itself', () => {
    const line = (id: number, dir: string): string =>
      `P ${dir} SRC=10.0.0.1 DST=10.0.0.2 LEN=36 TOS=0x00 PREC=0x00 TTL=64 ID=${id} PROTO=ICMP TYPE=0 CODE=0 ID=7 SEQ=1 `;
    assert.equal(maskLogLine(line(31743, 'IN= OUT=eth0')), line(31743, 'IN= OUT=eth0').replace('ID=31743', 'ID=*'));
    assert.equal(maskLogLine(line(31743, 'IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00')), line(31743, 'IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00'));
    const rst = 'R IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=80 DPT=1 WINDOW=0 RES=0x00 ACK RST URGP=0 ';
    assert.equal(maskLogLine(rst), rst);
    const v6 = 'P IN= OUT=eth0 SRC=2001:0db8:0000:0000:0000:0000:0000:0001 DST=2001:0db8:0000:0000:0000:0000:0000:0002 LEN=48 TC=0 HOPLIMIT=64 FLOWLBL=963695 PROTO=ICMPv6 TYPE=129 CODE=0 ID=1 SEQ=1 ';
    assert.equal(maskLogLine(v6), v6.replace('FLOWLBL=963695', 'FLOWLBL=*'));
    assert.deepEqual(comparePacketObservations(observation({ log: [line(1, 'IN= OUT=eth0')] }), observation({ log: [line(2, 'IN= OUT=eth0')] })), []);
    assert.deepEqual(comparePacketObservations(observation({ log: ['a', 'b '] }), observation({ log: ['a', 'b'] })), [
      'kernel log differs (- kernel, + nflab):\n a$\n-b $\n+b$',
    ]);
  });
});

// ------------------------------------------------------------ on the kernel

/** A host: 10.0.0.1/24 on eth0, its neighbour 10.0.0.2 known. */
const HOST = [
  'ip addr add 10.0.0.1/24 dev eth0',
  'ip link set eth0 up',
  'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
];

/** A router between 10.0.0.0/24 (eth0) and 10.0.1.0/24 (eth1). */
const ROUTER = [
  ...HOST,
  'modprobe nf_conntrack',
  'ip addr add 10.0.1.1/24 dev eth1',
  'ip link set eth1 up',
  'ip neigh add 10.0.1.2 lladdr 02:00:00:00:01:02 dev eth1 nud permanent',
  'sysctl -w net.ipv4.ip_forward=1',
];

/** An empty filter table with its counters. */
function filter(input: string, forward: string, output: string, rules: string[] = []): string {
  return `*filter\n:INPUT ${input}\n:FORWARD ${forward}\n:OUTPUT ${output}\n${rules.map((r) => `${r}\n`).join('')}COMMIT\n`;
}

const reasonPromise = kernelScenarioUnavailableReason();
const unavailable = await reasonPromise;
const timings: { name: string; totalMs: number; frames: number }[] = [];

/** Runs a scenario on the kernel, records its time, and checks it against the expected observation. */
async function expectKernel(s: PacketScenario, expected: (k: PacketObservation) => PacketObservation): Promise<PacketObservation> {
  const k = await runKernelScenario(s);
  timings.push({ name: s.name, totalMs: k.timing?.totalMs ?? NaN, frames: s.frames.length });
  assert.equal(k.sentAtMs.length, s.frames.length);
  assert.equal(k.sentAtMs[0], 0);
  assert.ok(k.conntrackAtMs > (k.sentAtMs.at(-1) ?? 0) && k.conntrackAtMs < 5000, `conntrack listed at ${k.conntrackAtMs} ms`);
  const diffs = comparePacketObservations(k, expected(k));
  assert.deepEqual(diffs, [], diffs.join('\n\n'));
  return k;
}

describe('pktdiff: scenarios on the real kernel', () => {
  let skip = guardKernel('pktdiff kernel scenarios');
  if (skip === undefined && unavailable !== undefined) {
    skip = unavailable;
    if (inCI()) it('packet scenarios can run (required under CI)', () => assert.fail(unavailable));
  }
  const opts = skip === undefined ? {} : { skip };

  after(() => {
    if (timings.length === 0) return;
    const total = timings.reduce((a, t) => a + t.totalMs, 0);
    console.log(`# pktdiff: ${timings.length} scenarios, ${total.toFixed(0)} ms, ${(total / timings.length).toFixed(0)} ms each on average`);
  });

  it('answers a SYN to a closed port with a reset, counted in INPUT and OUTPUT', opts, async () => {
    const k = await expectKernel(
      { name: 'closed-port', setup: HOST, rules: filter('ACCEPT [0:0]', 'ACCEPT [0:0]', 'ACCEPT [0:0]'), frames: [SYN_1000] },
      () => observation({ save: filter('ACCEPT [1:40]', 'ACCEPT [0:0]', 'ACCEPT [1:40]'), emitted: [out('eth0', fromHex(RST_1000), 0)] }),
    );
    assert.equal(hex(k.emitted[0]!.bytes), RST_1000);
    assert.deepEqual(k.log, []);
    assert.deepEqual(k.conntrack, []);
  });

  it('answers an echo request with an echo reply (random IP ID, valid checksum)', opts, async () => {
    const ping = toDut('eth0', ipv4({ src: C, dst: S, id: 0x0100 }, icmp({ type: 8, id: 0x1234, seq: 1, payload: ascii('nflab-ping') })));
    const k = await expectKernel(
      { name: 'ping', setup: HOST, rules: filter('ACCEPT [0:0]', 'ACCEPT [0:0]', 'ACCEPT [0:0]'), frames: [ping] },
      () => observation({ save: filter('ACCEPT [1:38]', 'ACCEPT [0:0]', 'ACCEPT [1:38]'), emitted: [out('eth0', echoReply(0x1234, 0), 0)] }),
    );
    const m = maskFrame(k.emitted[0]!.bytes);
    assert.deepEqual(m.masked, ['ip.id', 'ip.check']);
    assert.deepEqual(decodeFrame(k.emitted[0]!.bytes).badChecksums, []);
  });

  it('writes LOG lines to the kernel log, with the prefix, for received and sent packets', opts, async () => {
    const syn = toDut('eth0', ipv4({ src: C, dst: S, id: 0x4242 }, tcp({ sport: 40001, dport: 22, seq: 1 })));
    const ping = toDut('eth0', ipv4({ src: C, dst: S, id: 0x0100 }, icmp({ type: 8, id: 0x1234, seq: 1, payload: ascii('nflab-ping') })));
    const rules = [
      '-A INPUT -p tcp -m tcp --dport 22 -j LOG --log-prefix "X "',
      '-A OUTPUT -p tcp -j LOG --log-prefix "RST "',
      '-A OUTPUT -p icmp -j LOG --log-prefix "PONG " --log-level 6',
    ];
    const k = await expectKernel(
      { name: 'log', setup: HOST, rules: filter('ACCEPT [0:0]', 'ACCEPT [0:0]', 'ACCEPT [0:0]', rules), frames: [syn, ping] },
      () =>
        observation({
          save: filter('ACCEPT [2:78]', 'ACCEPT [0:0]', 'ACCEPT [2:78]', [
            '[1:40] -A INPUT -p tcp -m tcp --dport 22 -j LOG --log-prefix "X "',
            '[1:40] -A OUTPUT -p tcp -j LOG --log-prefix "RST "',
            '[1:38] -A OUTPUT -p icmp -j LOG --log-prefix "PONG " --log-level 6',
          ]),
          log: [
            'X IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=10.0.0.2 DST=10.0.0.1 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=16962 PROTO=TCP SPT=40001 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ',
            'RST IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=0 DF PROTO=TCP SPT=22 DPT=40001 WINDOW=0 RES=0x00 ACK RST URGP=0 ',
            'PONG IN= OUT=eth0 SRC=10.0.0.1 DST=10.0.0.2 LEN=38 TOS=0x00 PREC=0x00 TTL=64 ID=0 PROTO=ICMP TYPE=0 CODE=0 ID=4660 SEQ=1 ',
          ],
          emitted: [
            out('eth0', fromDut('eth0', ipv4({ src: S, dst: C, df: true }, tcp({ sport: 22, dport: 40001, ack: 2, flags: 'RA', window: 0 }))), 0),
            out('eth0', echoReply(0x1234, 0), 1),
          ],
        }),
    );
    assert.equal(k.log[0], 'X IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=10.0.0.2 DST=10.0.0.1 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=16962 PROTO=TCP SPT=40001 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ');
  });

  it('tracks connections when a rule uses conntrack', opts, async () => {
    const ping = (seq: number): ReturnType<typeof toDut> =>
      toDut('eth0', ipv4({ src: C, dst: S, id: seq }, icmp({ type: 8, id: 0x1234, seq, payload: ascii('nflab-ping') })));
    const syn = toDut('eth0', ipv4({ src: C, dst: S, id: 3 }, tcp({ sport: 40002, dport: 80, seq: 1 })));
    const reply = (seq: number): Uint8Array =>
      fromDut('eth0', ipv4({ src: S, dst: C }, icmp({ type: 0, id: 0x1234, seq, payload: ascii('nflab-ping') })));
    await expectKernel(
      {
        name: 'state',
        setup: HOST,
        rules: filter('ACCEPT [0:0]', 'ACCEPT [0:0]', 'ACCEPT [0:0]', [
          '-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT',
          '-A INPUT -p icmp -j ACCEPT',
          '-A INPUT -j DROP',
        ]),
        frames: [ping(1), ping(2), syn],
      },
      (k) =>
        observation({
          save: filter('ACCEPT [0:0]', 'ACCEPT [0:0]', 'ACCEPT [2:76]', [
            '[1:38] -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT',
            '[1:38] -A INPUT -p icmp -j ACCEPT',
            '[1:40] -A INPUT -j DROP',
          ]),
          // The entry was last refreshed by the second request, with icmp's 30 s.
          conntrack: ['icmp     1 30 src=10.0.0.2 dst=10.0.0.1 type=8 code=0 id=4660 src=10.0.0.1 dst=10.0.0.2 type=0 code=0 id=4660 mark=0 use=1'],
          conntrackAtMs: k.sentAtMs[1]!,
          emitted: [out('eth0', reply(1), 0), out('eth0', reply(2), 1)],
        }),
    );
  });

  it('forwards and source-NATs a TCP handshake between its two interfaces', opts, async () => {
    const frames = [
      toDut('eth0', ipv4({ src: C, dst: FAR, id: 1 }, tcp({ sport: 40003, dport: 80, seq: 1000 }))),
      toDut('eth1', ipv4({ src: FAR, dst: '10.0.1.1', id: 2 }, tcp({ sport: 80, dport: 40003, seq: 5000, ack: 1001, flags: 'SA' }))),
      toDut('eth0', ipv4({ src: C, dst: FAR, id: 3 }, tcp({ sport: 40003, dport: 80, seq: 1001, ack: 5001, flags: 'A' }))),
    ];
    const rules =
      '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n' +
      '-A POSTROUTING -o eth1 -j SNAT --to-source 10.0.1.1\nCOMMIT\n' +
      filter('ACCEPT [0:0]', 'DROP [0:0]', 'ACCEPT [0:0]', [
        '-A FORWARD -i eth0 -o eth1 -p tcp --dport 80 -j ACCEPT',
        '-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT',
      ]);
    await expectKernel({ name: 'snat', setup: ROUTER, rules, frames }, (k) =>
      observation({
        save:
          filter('ACCEPT [0:0]', 'DROP [0:0]', 'ACCEPT [0:0]', [
            '[2:80] -A FORWARD -i eth0 -o eth1 -p tcp -m tcp --dport 80 -j ACCEPT',
            '[1:40] -A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT',
          ]) +
          '*nat\n:PREROUTING ACCEPT [1:40]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n' +
          '[1:40] -A POSTROUTING -o eth1 -j SNAT --to-source 10.0.1.1\nCOMMIT\n',
        conntrack: [
          'tcp      6 432000 ESTABLISHED src=10.0.0.2 dst=10.0.1.2 sport=40003 dport=80 src=10.0.1.2 dst=10.0.1.1 sport=80 dport=40003 [ASSURED] mark=0 use=1',
        ],
        conntrackAtMs: k.sentAtMs[2]!,
        emitted: [
          out('eth1', fromDut('eth1', ipv4({ src: '10.0.1.1', dst: FAR, id: 1, ttl: 63 }, tcp({ sport: 40003, dport: 80, seq: 1000 }))), 0),
          out('eth0', fromDut('eth0', ipv4({ src: FAR, dst: C, id: 2, ttl: 63 }, tcp({ sport: 80, dport: 40003, seq: 5000, ack: 1001, flags: 'SA' }))), 1),
          out('eth1', fromDut('eth1', ipv4({ src: '10.0.1.1', dst: FAR, id: 3, ttl: 63 }, tcp({ sport: 40003, dport: 80, seq: 1001, ack: 5001, flags: 'A' }))), 2),
        ],
      }),
    );
  });

  it('rejects with a TCP reset and with ICMP errors quoting the packet', opts, async () => {
    const syn81 = ipv4({ src: C, dst: S, id: 10 }, tcp({ sport: 40004, dport: 81, seq: 7 }));
    const syn82 = ipv4({ src: C, dst: S, id: 11 }, tcp({ sport: 40005, dport: 82, seq: 7 }));
    const dns = ipv4({ src: C, dst: S, id: 12 }, udp({ sport: 40006, dport: 53, payload: ascii('query') }));
    const rules = filter('ACCEPT [0:0]', 'ACCEPT [0:0]', 'ACCEPT [0:0]', [
      '-A INPUT -p tcp --dport 81 -j REJECT --reject-with tcp-reset',
      '-A INPUT -p tcp --dport 82 -j REJECT',
      '-A INPUT -p udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited',
    ]);
    const error = (code: number, quoted: Uint8Array): Uint8Array =>
      fromDut('eth0', ipv4({ src: S, dst: C, tos: 0xc0 }, icmp({ type: 3, code, rest: 0, payload: quoted })));
    await expectKernel({ name: 'reject', setup: HOST, rules, frames: [syn81, syn82, dns].map((p) => toDut('eth0', p)) }, () =>
      observation({
        save: filter('ACCEPT [0:0]', 'ACCEPT [0:0]', 'ACCEPT [3:169]', [
          '[1:40] -A INPUT -p tcp -m tcp --dport 81 -j REJECT --reject-with tcp-reset',
          '[1:40] -A INPUT -p tcp -m tcp --dport 82 -j REJECT --reject-with icmp-port-unreachable',
          '[1:33] -A INPUT -p udp -m udp --dport 53 -j REJECT --reject-with icmp-admin-prohibited',
        ]),
        emitted: [
          out('eth0', fromDut('eth0', ipv4({ src: S, dst: C, df: true }, tcp({ sport: 81, dport: 40004, ack: 8, flags: 'RA', window: 0 }))), 0),
          out('eth0', error(3, syn82), 1),
          out('eth0', error(13, dns), 2),
        ],
      }),
    );
  });

  it('asks for the MAC address of a neighbour it does not know', opts, async () => {
    const ping = toDut('eth0', ipv4({ src: C, dst: S, id: 1 }, icmp({ type: 8, id: 1, seq: 1 })));
    const request =
      'ffffffffffff' + '020000000001' + '0806' + '0001' + '0800' + '06' + '04' + '0001' + '020000000001' + '0a000001' + '000000000000' + '0a000002';
    await expectKernel({ name: 'arp', setup: HOST.slice(0, 2), rules: '', frames: [ping] }, () =>
      observation({ emitted: [out('eth0', fromHex(request), 0)] }),
    );
  });

  it('keeps the gaps between frames and ignores frames for other MAC addresses', opts, async () => {
    const ping = (seq: number, opts: { gapMs?: number; dst?: string } = {}): ReturnType<typeof toDut> =>
      toDut('eth0', ipv4({ src: C, dst: S, id: seq }, icmp({ type: 8, id: 5, seq })), opts);
    const reply = (seq: number): Uint8Array => fromDut('eth0', ipv4({ src: S, dst: C }, icmp({ type: 0, id: 5, seq })));
    const k = await expectKernel(
      { name: 'gaps', setup: HOST, rules: '', frames: [ping(1), ping(2, { gapMs: 40 }), ping(3, { dst: '02:00:00:00:00:99' }), ping(4, { gapMs: 25 })] },
      () => observation({ emitted: [out('eth0', reply(1), 0), out('eth0', reply(2), 1), out('eth0', reply(4), 3)] }),
    );
    assert.ok(k.sentAtMs[1]! >= 40 && k.sentAtMs[1]! < 140, `second frame sent at ${k.sentAtMs[1]} ms`);
    assert.ok(k.sentAtMs[3]! - k.sentAtMs[2]! >= 25, `fourth frame sent at ${k.sentAtMs[3]} ms`);
  });

  it('speaks IPv6 when a scenario enables it quietly, with ip6tables rules and LOG', opts, async () => {
    const C6 = '2001:db8::2';
    const S6 = '2001:db8::1';
    const payload = ascii('nflab-ping6');
    const ping = toDut('eth0', ipv6({ src: C6, dst: S6 }, icmp6({ type: 128, id: 0x1234, seq: 1, payload })));
    const setup = [
      // No link-local address (so no DAD, no router solicitation), MLDv1 reports done at once.
      'sysctl -w net.ipv6.conf.eth0.addr_gen_mode=1',
      'sysctl -w net.ipv6.conf.eth0.force_mld_version=1',
      'sysctl -w net.ipv6.conf.eth0.mldv1_unsolicited_report_interval=1',
      'sysctl -w net.ipv6.conf.eth0.disable_ipv6=0',
      'ip link set eth0 up',
      'ip -6 addr add 2001:db8::1/64 dev eth0 nodad',
      'ip -6 neigh add 2001:db8::2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
    ];
    const rules6 = filter('ACCEPT [0:0]', 'ACCEPT [0:0]', 'ACCEPT [0:0]', ['-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type echo-request -j LOG --log-prefix "P6 "']);
    await expectKernel({ name: 'ipv6', setup, rules: '', rules6, frames: [ping] }, () =>
      observation({
        save6: filter('ACCEPT [1:59]', 'ACCEPT [0:0]', 'ACCEPT [1:59]', ['[1:59] -A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j LOG --log-prefix "P6 "']),
        log: [
          'P6 IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:86:dd SRC=2001:0db8:0000:0000:0000:0000:0000:0002 DST=2001:0db8:0000:0000:0000:0000:0000:0001 LEN=59 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=ICMPv6 TYPE=128 CODE=0 ID=4660 SEQ=1 ',
        ],
        emitted: [out('eth0', fromDut('eth0', ipv6({ src: S6, dst: C6 }, icmp6({ type: 129, id: 0x1234, seq: 1, payload }))), 0)],
      }),
    );
  });

  it('fails on a broken setup command and still removes its namespaces', opts, async () => {
    const before = ourNamespaces();
    await assert.rejects(
      runKernelScenario({ name: 'broken', setup: ['ip addr add 10.0.0.1/24 dev eth7'], rules: '', frames: [SYN_1000] }),
      /^Error: `ip netns exec nflabt-dut-[0-9]+-[0-9]+ ip addr add 10\.0\.0\.1\/24 dev eth7` exited with 1: Cannot find device "eth7"$/,
    );
    assert.deepEqual(ourNamespaces(), before);
  });
});

/** The namespaces of this process still listed by `ip netns`. */
function ourNamespaces(): string[] {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  return list
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith(`${NETNS_PREFIX}dut-${process.pid}-`) || n.startsWith(`${NETNS_PREFIX}inj-${process.pid}-`));
}
