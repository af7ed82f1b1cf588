/**
 * Kernel-differential tests of connection tracking: the same datagrams go
 * through a real Linux router namespace and through nflab's hooks; the
 * -m state value of every packet and `conntrack -L` must agree (lines
 * sorted, ids masked, timeouts within the real time the kernel run took).
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { PacketDesc } from '../src/core/wire/frame.js';
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
