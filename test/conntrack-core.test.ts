/**
 * Unit tests of connection tracking: the table, the hook functions and the
 * UDP, ICMP and generic trackers, with exact expectations.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { CtInfo } from '../src/core/path/skb.js';
import { IPS } from '../src/core/conntrack/types.js';
import { connSecondsLeft } from '../src/core/conntrack/table.js';
import { NF_ACCEPT } from '../src/core/xt/verdict.js';
import { datagram, fakeMachine, forward } from './conntrack-lib.js';

test('udp: new, unreplied, reply, stream after two seconds', () => {
  const m = fakeMachine();
  const r1 = forward(m, datagram('o', { udp: { sport: 5000, dport: 53 } }));
  assert.equal(r1.verdict, NF_ACCEPT);
  assert.equal(r1.skb!.ctinfo, CtInfo.NEW);
  const ct = r1.skb!.ct!;
  assert.equal(ct.status, IPS.CONFIRMED);
  assert.equal(connSecondsLeft(ct, m.now), 30);
  m.sleep(1);
  const r2 = forward(m, datagram('r', { udp: { sport: 53, dport: 5000 } }));
  assert.equal(r2.skb!.ctinfo, CtInfo.ESTABLISHED_REPLY);
  assert.equal(r2.skb!.ct, ct);
  assert.equal(ct.status, IPS.CONFIRMED | IPS.SEEN_REPLY);
  assert.equal(connSecondsLeft(ct, m.now), 30);
  m.sleep(1.5);
  const r3 = forward(m, datagram('o', { udp: { sport: 5000, dport: 53 } }));
  assert.equal(r3.skb!.ctinfo, CtInfo.ESTABLISHED);
  assert.equal(ct.status, IPS.CONFIRMED | IPS.SEEN_REPLY | IPS.ASSURED);
  assert.equal(connSecondsLeft(ct, m.now), 120);
  assert.deepEqual(ct.pkts, [2, 1]);
  assert.deepEqual(ct.bytes, [56, 28]);
  assert.equal(m.table.count(), 1);
  m.sleep(120);
  assert.equal(m.table.count(), 0);
});

test('icmp: echo request and reply; a reply alone is invalid', () => {
  const m = fakeMachine();
  const r1 = forward(m, datagram('o', { icmp: { type: 8, id: 7, seq: 1 } }));
  assert.equal(r1.skb!.ctinfo, CtInfo.NEW);
  const ct = r1.skb!.ct!;
  assert.deepEqual(ct.reply, { src: 0x0a090202, dst: 0x0a090102, proto: 1, sport: 7, dport: 0 });
  const r2 = forward(m, datagram('r', { icmp: { type: 0, id: 7, seq: 1 } }));
  assert.equal(r2.skb!.ctinfo, CtInfo.ESTABLISHED_REPLY);
  const r3 = forward(m, datagram('r', { icmp: { type: 0, id: 8, seq: 1 } }));
  assert.equal(r3.verdict, NF_ACCEPT);
  assert.equal(r3.skb!.ct, null);
  assert.equal(m.table.count(), 1);
});

test('icmp error quoting a udp flow is RELATED; quoting nothing is invalid', () => {
  const m = fakeMachine();
  forward(m, datagram('o', { udp: { sport: 5000, dport: 53 } }));
  const quote = { ipv4: { src: '10.9.1.2', dst: '10.9.2.2' }, udp: { sport: 5000, dport: 53 } };
  const r = forward(m, datagram('r', { icmp: { type: 3, code: 3, quote } }));
  assert.equal(r.skb!.ctinfo, CtInfo.RELATED_REPLY);
  const other = { ipv4: { src: '10.9.1.2', dst: '10.9.2.2' }, udp: { sport: 5001, dport: 53 } };
  const r2 = forward(m, datagram('r', { icmp: { type: 3, code: 3, quote: other } }));
  assert.equal(r2.skb!.ct, null);
  assert.equal(m.table.count(), 1);
});

test('generic protocol: 600 s, unreplied until the other side answers', () => {
  const m = fakeMachine();
  const r = forward(m, datagram('o', { ipv4: { proto: 50 }, payload: new Uint8Array(8) }));
  const ct = r.skb!.ct!;
  assert.equal(connSecondsLeft(ct, m.now), 600);
  forward(m, datagram('r', { ipv4: { proto: 50 }, payload: new Uint8Array(8) }));
  assert.equal(ct.status & IPS.SEEN_REPLY, IPS.SEEN_REPLY);
});

test('tcp: handshake to ESTABLISHED and ASSURED', () => {
  const m = fakeMachine();
  const syn = forward(m, datagram('o', { tcp: { sport: 1000, dport: 80, flags: 'S', seq: 100, window: 1000 } }));
  const ct = syn.skb!.ct!;
  assert.equal(connSecondsLeft(ct, m.now), 120);
  forward(m, datagram('r', { tcp: { sport: 80, dport: 1000, flags: 'SA', seq: 5000, ack: 101, window: 2000 } }));
  assert.equal(connSecondsLeft(ct, m.now), 60);
  const ack = forward(m, datagram('o', { tcp: { sport: 1000, dport: 80, flags: 'A', seq: 101, ack: 5001, window: 1000 } }));
  assert.equal(ack.skb!.ctinfo, CtInfo.ESTABLISHED);
  assert.equal(ct.status, IPS.CONFIRMED | IPS.SEEN_REPLY | IPS.ASSURED);
  assert.equal(connSecondsLeft(ct, m.now), 432000);
});
