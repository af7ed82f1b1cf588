/**
 * Kernel-differential tests of connection tracking: the same datagrams go
 * through a real Linux router namespace and through nflab's hooks; the
 * -m state value of every packet and `conntrack -L` must agree (lines
 * sorted, ids masked, timeouts within the real time the kernel run took).
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { PacketDesc } from '../src/core/wire/frame.js';
import type { TcpOption } from '../src/core/wire/tcp.js';
import { sctpChecksum } from '../src/core/conntrack/proto-sctp.js';
import { guardKernel } from './diff/suite.js';
import { type Scenario, type Step, compareListing, datagram, runKernel, runNflab } from './conntrack-lib.js';

/** A datagram step. */
function pkt(dir: 'o' | 'r', desc: PacketDesc): Step {
  return { dir, data: datagram(dir, desc) };
}

/** TCP between B:1000 and C:80 (ports swapped for replies). */
function tcp(dir: 'o' | 'r', flags: string, seq: number, ack = 0, opts: { window?: number; len?: number; options?: NonNullable<PacketDesc['tcp']>['options']; check?: number } = {}): Step {
  const sport = dir === 'o' ? 1000 : 80;
  const dport = dir === 'o' ? 80 : 1000;
  const desc: PacketDesc = {
    tcp: { sport, dport, flags, seq, ack, window: opts.window ?? 1000, options: opts.options, check: opts.check },
  };
  if (opts.len) desc.payload = new Uint8Array(opts.len).fill(0x61);
  return pkt(dir, desc);
}

const sleep = (s: number): Step => ({ sleep: s });

/** The fragments of a UDP datagram B:5000 -> C:53 with `len` payload bytes, cut at the given payload offsets. */
function udpFragments(len: number, cuts: number[], id = 77, order?: number[]): Step[] {
  const whole = datagram('o', { ipv4: { id }, udp: { sport: 5000, dport: 53 }, payload: new Uint8Array(len).fill(7) });
  const body = whole.subarray(20);
  const bounds = [0, ...cuts, body.length];
  const frags: Step[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const from = bounds[i]!;
    const to = bounds[i + 1]!;
    const last = i + 2 === bounds.length;
    frags.push(pkt('o', { ipv4: { id, proto: 17, mf: !last, fragOff: from / 8 }, payload: body.slice(from, to) }));
  }
  return order ? order.map((i) => frags[i]!) : frags;
}

/** A UDP-Lite datagram B:5000 -> C:53 (full coverage) whose checksum uses `pseudoProto` in the pseudo header. */
function udplite(pseudoProto: number): Step {
  const d = datagram('o', { ipv4: { proto: 136 }, payload: new Uint8Array([0x13, 0x88, 0, 53, 0, 0, 0, 0, 1, 2, 3, 4]) });
  let sum = 0x0a09 + 0x0102 + 0x0a09 + 0x0202 + pseudoProto + 12;
  for (let i = 20; i < d.length; i += 2) sum += (d[i]! << 8) | d[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  d[26] = c >> 8;
  d[27] = c & 0xff;
  return { dir: 'o', data: d };
}

/** An SCTP chunk: type, flags and value (padded to four bytes). */
function chunk(type: number, value: number[] = [], flags = 0): number[] {
  const len = 4 + value.length;
  const out = [type, flags, len >> 8, len & 0xff, ...value];
  while (out.length % 4) out.push(0);
  return out;
}

const u32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
const initValue = (tag: number): number[] => [...u32(tag), ...u32(65536), 0, 10, 0, 10, ...u32(1)];

/** An SCTP packet B:5000 <-> C:80 with a verification tag and chunks; `badCrc` spoils the checksum. */
function sctp(dir: 'o' | 'r', vtag: number, chunks: number[][], badCrc = false): Step {
  const sport = dir === 'o' ? 5000 : 80;
  const dport = dir === 'o' ? 80 : 5000;
  const body = [sport >> 8, sport & 255, dport >> 8, dport & 255, ...u32(vtag), 0, 0, 0, 0, ...chunks.flat()];
  const data = datagram(dir, { ipv4: { proto: 132 }, payload: new Uint8Array(body) });
  const c = sctpChecksum(data, 20, data.length) ^ (badCrc ? 1 : 0);
  data.set(u32(c), 28);
  return { dir, data };
}

const TAG_B = 0x1111aaaa;
const TAG_C = 0x2222bbbb;
const SCTP_SETUP: Step[] = [
  sctp('o', 0, [chunk(1, initValue(TAG_B))]),
  sctp('r', TAG_B, [chunk(2, initValue(TAG_C))]),
  sctp('o', TAG_C, [chunk(10, [1, 2, 3, 4])]),
  sctp('r', TAG_B, [chunk(11)]),
];

const WSCALE_SYN: TcpOption[] = [{ mss: 1460 }, { nop: true }, { wscale: 7 }, { sackOk: true }];

/** The three-way handshake B(seq 100) <-> C(seq 5000). */
const HANDSHAKE: Step[] = [tcp('o', 'S', 100), tcp('r', 'SA', 5000, 101, { window: 2000 }), tcp('o', 'A', 101, 5001)];

const SCENARIOS: Scenario[] = [
  { name: 'tcp handshake', steps: HANDSHAKE },
  { name: 'tcp syn only', steps: [tcp('o', 'S', 100)] },
  { name: 'tcp retransmitted syn keeps its timeout', steps: [tcp('o', 'S', 100), sleep(2), tcp('o', 'S', 100)] },
  { name: 'tcp syn answered by rst', steps: [tcp('o', 'S', 100), tcp('r', 'RA', 0, 101)] },
  {
    name: 'tcp data and acks',
    steps: [...HANDSHAKE, tcp('o', 'PA', 101, 5001, { len: 100 }), tcp('r', 'A', 5001, 201, { window: 2000 })],
  },
  { name: 'tcp data not yet acked: unacknowledged timeout', steps: [...HANDSHAKE, tcp('o', 'PA', 101, 5001, { len: 100 })] },
  {
    name: 'tcp close: fin, ack, fin, ack to TIME_WAIT',
    steps: [...HANDSHAKE, tcp('o', 'FA', 101, 5001), tcp('r', 'A', 5001, 102, { window: 2000 }), tcp('r', 'FA', 5001, 102, { window: 2000 }), tcp('o', 'A', 102, 5002)],
  },
  { name: 'tcp close: fin then fin (LAST_ACK)', steps: [...HANDSHAKE, tcp('o', 'FA', 101, 5001), tcp('r', 'FA', 5001, 102, { window: 2000 })] },
  { name: 'tcp rst in window closes', steps: [...HANDSHAKE, tcp('r', 'R', 5001, 0, { window: 0 })] },
  { name: 'tcp rst out of window is invalid', steps: [...HANDSHAKE, tcp('r', 'R', 900000, 0, { window: 0 })] },
  { name: 'tcp out-of-window data is invalid', steps: [...HANDSHAKE, tcp('o', 'PA', 500000, 5001, { len: 10 })] },
  { name: 'tcp ack of unseen data is invalid', steps: [...HANDSHAKE, tcp('o', 'A', 101, 9000)] },
  { name: 'tcp syn in ESTABLISHED is ignored', steps: [...HANDSHAKE, tcp('o', 'S', 777)] },
  { name: 'tcp syn/ack retransmitted', steps: [tcp('o', 'S', 100), tcp('r', 'SA', 5000, 101), tcp('r', 'SA', 5000, 101)] },
  { name: 'tcp ack without syn: loose pickup', steps: [tcp('o', 'A', 100, 5000), tcp('r', 'A', 5000, 100)] },
  { name: 'tcp loose pickup refused with nf_conntrack_tcp_loose=0', sysctls: { 'net.netfilter.nf_conntrack_tcp_loose': 0 }, steps: [tcp('o', 'A', 100, 5000)] },
  { name: 'tcp invalid flags (syn+fin)', steps: [tcp('o', 'SF', 100)] },
  { name: 'tcp bad checksum', steps: [tcp('o', 'S', 100, 0, { check: 0x1234 })] },
  { name: 'tcp first packet fin is invalid', steps: [tcp('o', 'FA', 100, 5000)] },
  { name: 'tcp simultaneous open', steps: [tcp('o', 'S', 100), tcp('r', 'S', 5000), tcp('o', 'SA', 100, 5001), tcp('r', 'A', 5001, 101)] },
  {
    name: 'tcp reopen from TIME_WAIT',
    steps: [
      ...HANDSHAKE,
      tcp('o', 'FA', 101, 5001),
      tcp('r', 'FA', 5001, 102, { window: 2000 }),
      tcp('o', 'A', 102, 5002),
      tcp('o', 'S', 90000),
    ],
  },
  { name: 'udp unreplied', steps: [pkt('o', { udp: { sport: 5000, dport: 53 } })] },
  {
    name: 'udp replied within two seconds',
    steps: [pkt('o', { udp: { sport: 5000, dport: 53 } }), pkt('r', { udp: { sport: 53, dport: 5000 } }), pkt('o', { udp: { sport: 5000, dport: 53 } })],
  },
  {
    name: 'udp stream after two seconds',
    steps: [pkt('o', { udp: { sport: 5000, dport: 53 } }), pkt('r', { udp: { sport: 53, dport: 5000 } }), sleep(2.5), pkt('o', { udp: { sport: 5000, dport: 53 } })],
  },
  { name: 'udp bad checksum', steps: [pkt('o', { udp: { sport: 5000, dport: 53, check: 0x1234 } })] },
  { name: 'udp length beyond the datagram', steps: [pkt('o', { udp: { sport: 5000, dport: 53, len: 40 } })] },
  { name: 'icmp echo request and reply', steps: [pkt('o', { icmp: { type: 8, id: 7, seq: 1 } }), pkt('r', { icmp: { type: 0, id: 7, seq: 1 } })] },
  { name: 'icmp echo reply alone', steps: [pkt('r', { icmp: { type: 0, id: 9, seq: 1 } })] },
  {
    name: 'icmp port unreachable for a udp flow is related',
    steps: [
      pkt('o', { udp: { sport: 5000, dport: 53 } }),
      pkt('r', { icmp: { type: 3, code: 3, quote: { ipv4: { src: '10.9.1.2', dst: '10.9.2.2' }, udp: { sport: 5000, dport: 53 } } } }),
    ],
  },
  {
    name: 'icmp error for no connection is invalid',
    steps: [pkt('r', { icmp: { type: 3, code: 1, quote: { ipv4: { src: '10.9.1.2', dst: '10.9.2.2' }, udp: { sport: 6000, dport: 53 } } } })],
  },
  { name: 'icmp unknown type is invalid', steps: [pkt('o', { icmp: { type: 40 } })] },
  { name: 'icmp timestamp request', steps: [pkt('o', { icmp: { type: 13, id: 3, seq: 0 }, payload: new Uint8Array(12) })] },
  { name: 'generic protocol (esp)', steps: [pkt('o', { ipv4: { proto: 50 }, payload: new Uint8Array(16) }), pkt('r', { ipv4: { proto: 50 }, payload: new Uint8Array(16) })] },
  { name: 'gre', steps: [pkt('o', { ipv4: { proto: 47 }, payload: new Uint8Array([0, 0, 0x08, 0, 1, 2, 3, 4]) })] },
  {
    name: 'tcp window scaling: data beyond the unscaled window',
    steps: [
      tcp('o', 'S', 100, 0, { options: WSCALE_SYN }),
      tcp('r', 'SA', 5000, 101, { window: 100, options: WSCALE_SYN }),
      tcp('o', 'A', 101, 5001, { window: 100 }),
      tcp('o', 'PA', 101, 5001, { len: 1400, window: 100 }),
      tcp('o', 'PA', 1501, 5001, { len: 1400, window: 100 }),
      tcp('r', 'A', 5001, 2901, { window: 100 }),
    ],
  },
  {
    name: 'tcp without window scaling: data beyond the window',
    steps: [
      tcp('o', 'S', 100),
      tcp('r', 'SA', 5000, 101, { window: 100 }),
      tcp('o', 'A', 101, 5001),
      tcp('o', 'PA', 101, 5001, { len: 90 }),
      tcp('o', 'PA', 191, 5001, { len: 500 }),
    ],
  },
  {
    name: 'tcp sack beyond the acknowledgement',
    steps: [
      tcp('o', 'S', 100, 0, { options: [{ sackOk: true }] }),
      tcp('r', 'SA', 5000, 101, { window: 2000, options: [{ sackOk: true }] }),
      tcp('o', 'A', 101, 5001),
      tcp('o', 'PA', 101, 5001, { len: 100 }),
      tcp('o', 'PA', 201, 5001, { len: 100 }),
      tcp('r', 'A', 5001, 101, { window: 2000, options: [{ nop: true }, { nop: true }, { sack: [[201, 301]] }] }),
      tcp('r', 'A', 5001, 101, { window: 2000, options: [{ nop: true }, { nop: true }, { sack: [[201, 9999]] }] }),
    ],
  },
  { name: 'tcp duplicate acks: retransmission timeout', steps: [...HANDSHAKE, tcp('o', 'A', 101, 5001), tcp('o', 'A', 101, 5001), tcp('o', 'A', 101, 5001), tcp('o', 'A', 101, 5001)] },
  { name: 'tcp zero window', steps: [...HANDSHAKE, tcp('r', 'A', 5001, 101, { window: 0 })] },
  { name: 'tcp rst with inexact sequence keeps ESTABLISHED', steps: [...HANDSHAKE, tcp('r', 'R', 5051, 0, { window: 0 })] },
  { name: 'tcp rst+ack with zero ack', steps: [...HANDSHAKE, tcp('o', 'RA', 101, 0, { window: 0 })] },
  { name: 'tcp syn from the reply side in TIME_WAIT', steps: [...HANDSHAKE, tcp('o', 'FA', 101, 5001), tcp('r', 'FA', 5001, 102), tcp('o', 'A', 102, 5002), tcp('r', 'S', 80000)] },
  {
    name: 'tcp challenge ack in LAST_ACK',
    steps: [...HANDSHAKE, tcp('o', 'FA', 101, 5001), tcp('r', 'FA', 5001, 102), tcp('o', 'S', 20000), tcp('r', 'A', 5002, 102)],
  },
  { name: 'tcp ignored syn answered by syn/ack resyncs', steps: [...HANDSHAKE, tcp('o', 'S', 9000), tcp('r', 'SA', 7000, 9001), tcp('o', 'A', 9001, 7001)] },
  { name: 'tcp fin out of window on an assured connection', steps: [...HANDSHAKE, tcp('o', 'FA', 800000, 5001), tcp('r', 'FA', 800000, 101)] },
  { name: 'tcp reply ack before syn/ack', steps: [tcp('o', 'S', 100), tcp('r', 'A', 5000, 101), tcp('o', 'R', 101)] },
  { name: 'tcp loose pickup then both sides', steps: [tcp('o', 'A', 100, 5000), tcp('r', 'A', 5000, 100), tcp('o', 'PA', 100, 5000, { len: 10 }), tcp('r', 'A', 5000, 110)] },
  { name: 'tcp be_liberal accepts out-of-window data', sysctls: { 'net.netfilter.nf_conntrack_tcp_be_liberal': 1 }, steps: [...HANDSHAKE, tcp('o', 'PA', 500000, 5001, { len: 10 })] },
  { name: 'tcp syn retransmitted with a new sequence', steps: [tcp('o', 'S', 100), tcp('o', 'S', 300), tcp('r', 'SA', 5000, 301)] },
  { name: 'tcp urgent, push, ece and cwr flags', steps: [tcp('o', 'SEC', 100), tcp('r', 'SAE', 5000, 101), tcp('o', 'AU', 101, 5001), tcp('o', 'PAU', 101, 5001, { len: 5 })] },
  { name: 'tcp fin from the reply side in SYN_RECV', steps: [tcp('o', 'S', 100), tcp('r', 'SA', 5000, 101), tcp('r', 'FA', 5001, 101)] },
  { name: 'tcp keepalive', steps: [...HANDSHAKE, tcp('o', 'A', 100, 5001), tcp('r', 'A', 5001, 101)] },
  { name: 'tcp ignore_invalid_rst', sysctls: { 'net.netfilter.nf_conntrack_tcp_ignore_invalid_rst': 1 }, steps: [...HANDSHAKE, tcp('o', 'PA', 101, 5001, { len: 50 }), tcp('r', 'A', 5001, 151), tcp('o', 'R', 120)] },
  { name: 'tcp rst before the peer acknowledgement', steps: [...HANDSHAKE, tcp('o', 'PA', 101, 5001, { len: 50 }), tcp('r', 'A', 5001, 151), tcp('o', 'R', 120)] },
  { name: 'udp fragments in order', steps: udpFragments(40, [16]) },
  { name: 'udp fragments out of order', steps: udpFragments(60, [16, 40], 78, [2, 0, 1]) },
  { name: 'udp fragments overlapping', steps: [...udpFragments(40, [16], 79).slice(0, 1), pkt('o', { ipv4: { id: 79, proto: 17, mf: true, fragOff: 1 }, payload: new Uint8Array(16) }), ...udpFragments(40, [16], 79).slice(1)] },
  {
    name: 'udp fragment queue expires after ipfrag_time',
    sysctls: { 'net.ipv4.ipfrag_time': 1 },
    steps: [...udpFragments(40, [16], 81).slice(0, 1), sleep(1.6), ...udpFragments(40, [16], 81).slice(1), ...udpFragments(40, [16], 81).slice(0, 1)],
  },
  { name: 'udp first fragment not a multiple of 8 bytes long is cut', steps: udpFragments(40, [20], 82) },
  { name: 'udp fragment duplicated', steps: [...udpFragments(40, [16], 80).slice(0, 1), ...udpFragments(40, [16], 80)] },
  {
    name: 'icmp error with another outer destination is invalid',
    steps: [
      pkt('o', { udp: { sport: 5000, dport: 53 } }),
      pkt('r', { ipv4: { dst: '10.9.1.9' }, icmp: { type: 3, code: 3, quote: { ipv4: { src: '10.9.1.2', dst: '10.9.2.2' }, udp: { sport: 5000, dport: 53 } } } }),
    ],
  },
  {
    name: 'icmp error in the original direction',
    steps: [
      pkt('o', { udp: { sport: 5000, dport: 53 } }),
      pkt('o', { icmp: { type: 3, code: 3, quote: { ipv4: { src: '10.9.2.2', dst: '10.9.1.2' }, udp: { sport: 53, dport: 5000 } } } }),
    ],
  },
  {
    name: 'icmp time exceeded quoting tcp, cut to 8 bytes',
    steps: [
      ...HANDSHAKE,
      pkt('r', { icmp: { type: 11, code: 0, quoteLen: 28, quote: { ipv4: { src: '10.9.1.2', dst: '10.9.2.2' }, tcp: { sport: 1000, dport: 80, seq: 101 } } } }),
    ],
  },
  {
    name: 'icmp error quoting an echo request',
    steps: [pkt('o', { icmp: { type: 8, id: 3, seq: 1 } }), pkt('r', { icmp: { type: 3, code: 1, quote: { ipv4: { src: '10.9.1.2', dst: '10.9.2.2' }, icmp: { type: 8, id: 3, seq: 1 } } } })],
  },
  { name: 'udplite with a bad checksum', steps: [pkt('o', { ipv4: { proto: 136 }, payload: new Uint8Array([0x13, 0x88, 0, 53, 0, 8, 0x12, 0x34]) })] },
  // the kernel checks UDP-Lite with protocol 17 in the pseudo header: the right checksum is invalid there
  { name: 'udplite checksummed as the standard says', steps: [udplite(136)] },
  { name: 'udplite checksummed with protocol 17', steps: [udplite(17), pkt('r', { ipv4: { proto: 136 }, payload: new Uint8Array([0, 53, 0x13, 0x88, 0, 0, 0, 0]) })] },
  { name: 'sctp association setup', steps: [...SCTP_SETUP, sctp('o', TAG_C, [chunk(0, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9], 3)]), sctp('r', TAG_B, [chunk(3, [0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0])])] },
  { name: 'sctp init only', steps: [sctp('o', 0, [chunk(1, initValue(TAG_B))])] },
  { name: 'sctp init retransmitted', steps: [sctp('o', 0, [chunk(1, initValue(TAG_B))]), sleep(1), sctp('o', 0, [chunk(1, initValue(TAG_B))])] },
  { name: 'sctp init and init ack', steps: SCTP_SETUP.slice(0, 2) },
  { name: 'sctp data with a wrong verification tag', steps: [...SCTP_SETUP, sctp('o', 0x1234, [chunk(0, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9, 9], 3)])] },
  { name: 'sctp bad checksum', steps: [sctp('o', 0, [chunk(1, initValue(TAG_B))], true)] },
  { name: 'sctp shutdown', steps: [...SCTP_SETUP, sctp('o', TAG_C, [chunk(7, u32(1))]), sctp('r', TAG_B, [chunk(8)]), sctp('o', TAG_C, [chunk(14)])] },
  { name: 'sctp abort', steps: [...SCTP_SETUP, sctp('r', TAG_B, [chunk(6)])] },
  { name: 'sctp abort with a wrong tag', steps: [...SCTP_SETUP, sctp('r', 0x999, [chunk(6)])] },
  { name: 'sctp heartbeat starts a flow', steps: [sctp('o', 0x31, [chunk(4, [0, 1, 0, 8, 1, 2, 3, 4])]), sctp('r', 0x32, [chunk(5, [0, 1, 0, 8, 1, 2, 3, 4])])] },
  { name: 'sctp data first is invalid', steps: [sctp('o', 0x31, [chunk(0, [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 9], 3)])] },
  { name: 'sctp cookie echo not first is invalid', steps: [...SCTP_SETUP.slice(0, 2), sctp('o', TAG_C, [chunk(3, [0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]), chunk(10, [1, 2, 3, 4])])] },
  {
    name: 'accounting on',
    sysctls: { 'net.netfilter.nf_conntrack_acct': 1 },
    steps: [...HANDSHAKE, tcp('o', 'PA', 101, 5001, { len: 100 })],
  },
];

describe('conntrack against the kernel', () => {
  const skip = guardKernel('conntrack against the kernel');
  for (const s of SCENARIOS) {
    it(s.name, skip === undefined ? {} : { skip }, () => {
      const k = runKernel(s);
      const n = runNflab(s);
      assert.deepEqual(n.states, k.states, 'per-packet -m state values');
      const slack = Math.ceil(k.elapsed) + 1;
      k.results.forEach((kr, i) => {
        const nr = n.results[i]!;
        assert.equal(nr.stderr, kr.stderr);
        assert.equal(nr.status, kr.status);
        assert.equal(compareListing(kr.stdout, nr.stdout, slack), '');
      });
    });
  }
});
