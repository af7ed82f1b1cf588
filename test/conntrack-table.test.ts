/**
 * Unit tests of the conntrack table and hooks beyond the trackers: table
 * full and early drop with its kernel message, the JSON form, NAT's
 * helpers (tupleInUse, alterReply), insertion clashes, zones, untracked
 * and looped-back packets, the OUTPUT hook, logging of invalid packets
 * and reassembly.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { runConntrack } from '../src/cli/conntrack.js';
import { defragIn, reassembledMaxSize } from '../src/core/conntrack/defrag.js';
import { conntrackConfirm, conntrackIn, newTemplate } from '../src/core/conntrack/hooks.js';
import { alterReply, conntrackFromJson, conntrackToJson, connSecondsLeft, tupleInUse } from '../src/core/conntrack/table.js';
import { IPS } from '../src/core/conntrack/types.js';
import { CtInfo, newSkb } from '../src/core/path/skb.js';
import { verifyIpv4Checksum } from '../src/core/wire/checksum.js';
import { NF_ACCEPT, NF_DROP } from '../src/core/xt/verdict.js';
import { datagram, fakeMachine, forward } from './conntrack-lib.js';

const udp = (sport: number, dport = 53): Uint8Array => datagram('o', { udp: { sport, dport } });
const MAX = 'net.netfilter.nf_conntrack_max';
const BUCKETS = 'net.netfilter.nf_conntrack_buckets';
const FULL = '<4>nf_conntrack: nf_conntrack: table full, dropping packet';

test('table full: early drop evicts the unassured entries of the first bucket holding any', () => {
  const m = fakeMachine();
  m.sysctls.set(MAX, 2);
  m.sysctls.set(BUCKETS, 1);
  forward(m, udp(5000));
  forward(m, udp(5001));
  const r = forward(m, udp(5002));
  assert.equal(r.verdict, NF_ACCEPT);
  assert.deepEqual(
    m.table.list().map((c) => c.orig.sport),
    [5002],
  );
  assert.deepEqual(m.log, []);
});

test('table full: assured entries are never evicted; the packet is dropped with a rate-limited message', () => {
  const m = fakeMachine();
  m.sysctls.set(MAX, 1);
  m.sysctls.set(BUCKETS, 1);
  forward(m, udp(5000));
  forward(m, datagram('r', { udp: { sport: 53, dport: 5000 } }));
  m.sleep(3);
  forward(m, udp(5000));
  assert.equal(m.table.list()[0]!.status & IPS.ASSURED, IPS.ASSURED);
  for (let i = 0; i < 12; i++) {
    const r = forward(m, udp(6000 + i));
    assert.equal(r.verdict, NF_DROP);
    assert.equal(r.skb!.ct, null);
  }
  assert.deepEqual(m.log, new Array(10).fill(FULL));
  m.sleep(5.1);
  forward(m, udp(7000));
  assert.deepEqual(m.log.slice(10), ['<4>net_ratelimit: 2 callbacks suppressed', FULL]);
  assert.equal(m.table.count(), 1);
});

test('table full with many buckets: nothing near the new entry, so it is dropped', () => {
  const m = fakeMachine();
  m.sysctls.set(MAX, 2);
  forward(m, udp(5000));
  forward(m, udp(5001));
  assert.equal(forward(m, udp(5002)).verdict, NF_DROP);
  assert.deepEqual(m.log, [FULL]);
});

test('the JSON form restores an identical table', () => {
  const m = fakeMachine();
  forward(m, datagram('o', { tcp: { sport: 1000, dport: 80, flags: 'S', seq: 1 } }));
  forward(m, datagram('r', { tcp: { sport: 80, dport: 1000, flags: 'SA', seq: 9, ack: 2 } }));
  forward(m, udp(5000));
  const before = runConntrack(['-L', '-o', 'id'], m.table, m.now);
  const json = JSON.parse(JSON.stringify(conntrackToJson(m.table)));
  const t = conntrackFromJson(json, () => m.now);
  assert.deepEqual(runConntrack(['-L', '-o', 'id'], t, m.now), before);
  m.table = t;
  m.env.table = t;
  const r = forward(m, datagram('o', { tcp: { sport: 1000, dport: 80, flags: 'A', seq: 2, ack: 10 } }));
  assert.equal(r.skb!.ctinfo, CtInfo.ESTABLISHED);
  assert.equal(r.skb!.ct!.status & IPS.ASSURED, IPS.ASSURED);
});

test('tupleInUse: a mapping is taken when its reply is some entry tuple, except for the same flow', () => {
  const m = fakeMachine();
  const s1 = newSkb(udp(5000), null, 'a1');
  const s2 = newSkb(udp(5000), null, 'a1');
  conntrackIn(m.env, s1, 'PREROUTING');
  conntrackIn(m.env, s2, 'PREROUTING');
  conntrackConfirm(m.env, s1);
  const a = s1.ct!;
  const taken = { ...a.orig };
  assert.equal(tupleInUse(m.table, taken, null, 0), true);
  assert.equal(tupleInUse(m.table, { ...a.orig, sport: 5001 }, null, 0), false);
  assert.equal(tupleInUse(m.table, taken, null, 1), false);
  // the entry itself, and another (unconfirmed) entry of the same flow, do not count
  assert.equal(tupleInUse(m.table, taken, a, 0), false);
  assert.equal(tupleInUse(m.table, taken, s2.ct, 0), false);
  // mapping a new flow onto the reply of an entry: its inverse is the entry's original tuple
  const other = newSkb(udp(6000), null, 'a1');
  conntrackIn(m.env, other, 'PREROUTING');
  assert.equal(tupleInUse(m.table, { ...a.reply }, other.ct, 0), true);
});

test('alterReply: the entry enters the table under its new reply tuple', () => {
  const m = fakeMachine();
  const skb = newSkb(udp(5000), null, 'a1');
  conntrackIn(m.env, skb, 'PREROUTING');
  const ct = skb.ct!;
  alterReply(ct, { src: 0x0a090202, dst: 0x01020304, proto: 17, sport: 53, dport: 40000 });
  assert.equal(conntrackConfirm(m.env, skb), NF_ACCEPT);
  const back = forward(m, datagram('r', { ipv4: { dst: '1.2.3.4' }, udp: { sport: 53, dport: 40000 } }));
  assert.equal(back.skb!.ct, ct);
  assert.equal(back.skb!.ctinfo, CtInfo.ESTABLISHED_REPLY);
  assert.throws(() => alterReply(ct, ct.orig), /already confirmed/);
});

test('insertion clash: UDP takes over the entry already confirmed, TCP is dropped', () => {
  for (const [proto, verdict] of [
    ['udp', NF_ACCEPT],
    ['tcp', NF_DROP],
  ] as const) {
    const m = fakeMachine();
    const data = proto === 'udp' ? udp(5000) : datagram('o', { tcp: { sport: 1000, dport: 80, flags: 'S', seq: 1 } });
    const s1 = newSkb(data, null, 'a1');
    const s2 = newSkb(data, null, 'a1');
    conntrackIn(m.env, s1, 'PREROUTING');
    conntrackIn(m.env, s2, 'PREROUTING');
    assert.notEqual(s1.ct, s2.ct);
    assert.equal(conntrackConfirm(m.env, s1), NF_ACCEPT);
    assert.equal(conntrackConfirm(m.env, s2), verdict, proto);
    if (proto === 'udp') {
      assert.equal(s2.ct, s1.ct);
      assert.deepEqual(s1.ct!.pkts, [2, 0]);
    }
    assert.equal(m.table.count(), 1);
  }
});

test('insertion clash with a NAT-changed reply: the loser enters by its reply only, for one second, unlisted', () => {
  const m = fakeMachine();
  const s1 = newSkb(udp(5000), null, 'a1');
  const s2 = newSkb(udp(5000), null, 'a1');
  conntrackIn(m.env, s1, 'PREROUTING');
  conntrackIn(m.env, s2, 'PREROUTING');
  conntrackConfirm(m.env, s1);
  alterReply(s2.ct!, { src: 0x0a090202, dst: 0x01020304, proto: 17, sport: 53, dport: 40000 });
  assert.equal(conntrackConfirm(m.env, s2), NF_ACCEPT);
  assert.equal(s2.ct!.status & (IPS.FIXED_TIMEOUT | IPS.CONFIRMED), IPS.FIXED_TIMEOUT | IPS.CONFIRMED);
  assert.equal(connSecondsLeft(s2.ct!, m.now), 1);
  assert.equal(m.table.count(), 2);
  assert.equal(m.table.list().length, 1);
  const back = forward(m, datagram('r', { ipv4: { dst: '1.2.3.4' }, udp: { sport: 53, dport: 40000 } }));
  assert.equal(back.skb!.ct, s2.ct);
  m.sleep(1);
  assert.equal(m.table.count(), 1);
});

test('a template gives the zone; zones keep entries apart', () => {
  const m = fakeMachine();
  const skb = newSkb(udp(5000), null, 'a1');
  skb.ct = newTemplate(5);
  conntrackIn(m.env, skb, 'PREROUTING');
  conntrackConfirm(m.env, skb);
  assert.equal(skb.ct!.zone, 5);
  const other = forward(m, udp(5000));
  assert.equal(other.skb!.ctinfo, CtInfo.NEW);
  assert.equal(m.table.count(), 2);
  assert.equal(runConntrack(['-L', '--zone', '5'], m.table, m.now).stdout, 'udp      17 30 src=10.9.1.2 dst=10.9.2.2 sport=5000 dport=53 [UNREPLIED] src=10.9.2.2 dst=10.9.1.2 sport=53 dport=5000 mark=0 zone=5 use=1\n');
});

test('untracked packets and packets already carrying a connection are left alone', () => {
  const m = fakeMachine();
  const u = newSkb(udp(5000), null, 'a1');
  u.untracked = true;
  assert.equal(conntrackIn(m.env, u, 'PREROUTING'), NF_ACCEPT);
  assert.equal(u.ct, null);
  const first = forward(m, udp(5000)).skb!;
  const looped = newSkb(udp(5000), null, 'lo');
  looped.ct = first.ct;
  looped.ctinfo = CtInfo.NEW;
  assert.equal(conntrackIn(m.env, looped, 'PREROUTING'), NF_ACCEPT);
  assert.deepEqual(first.ct!.pkts, [1, 0]);
});

test('checksums are verified at PREROUTING only', () => {
  const m = fakeMachine();
  const bad = datagram('o', { tcp: { sport: 1000, dport: 80, flags: 'S', seq: 1, check: 0x1111 } });
  const pre = newSkb(bad, null, 'a1');
  conntrackIn(m.env, pre, 'PREROUTING');
  assert.equal(pre.ct, null);
  const out = newSkb(bad, null, '');
  conntrackIn(m.env, out, 'OUTPUT');
  assert.equal(out.ctinfo, CtInfo.NEW);
  m.sysctls.set('net.netfilter.nf_conntrack_checksum', 0);
  const pre2 = newSkb(bad, null, 'a1');
  conntrackIn(m.env, pre2, 'PREROUTING');
  assert.equal(pre2.ctinfo, CtInfo.NEW);
});

test('nf_conntrack_log_invalid logs invalid packets of the chosen protocol', () => {
  const m = fakeMachine();
  const logged: string[] = [];
  m.env.logInvalid = (skb, hook, prefix) => logged.push(`${hook} ${skb.indev} ${prefix}`);
  const bad = datagram('o', { tcp: { sport: 1000, dport: 80, flags: 'SF', seq: 1 } });
  forward(m, bad);
  assert.deepEqual(logged, []);
  m.sysctls.set('net.netfilter.nf_conntrack_log_invalid', 6);
  forward(m, bad);
  forward(m, datagram('o', { udp: { sport: 1, dport: 2, len: 99 } }));
  m.sysctls.set('net.netfilter.nf_conntrack_log_invalid', 255);
  forward(m, datagram('o', { udp: { sport: 1, dport: 2, len: 99 } }));
  assert.deepEqual(logged, ['PREROUTING a1 nf_ct_proto_6: invalid tcp flag combination ', 'PREROUTING a1 nf_ct_proto_17: truncated/malformed packet ']);
});

test('an ICMP error does not refresh the connection it is related to', () => {
  const m = fakeMachine();
  const ct = forward(m, udp(5000)).skb!.ct!;
  m.sleep(10);
  const quote = { ipv4: { src: '10.9.1.2', dst: '10.9.2.2' }, udp: { sport: 5000, dport: 53 } };
  forward(m, datagram('r', { icmp: { type: 3, code: 3, quote } }));
  assert.equal(connSecondsLeft(ct, m.now), 20);
  assert.deepEqual(ct.pkts, [1, 0]);
});

test('reassembly: out-of-order fragments give the original datagram back, with the largest fragment size', () => {
  const m = fakeMachine();
  const whole = datagram('o', { ipv4: { id: 9 }, udp: { sport: 5000, dport: 53 }, payload: new Uint8Array(50).map((_, i) => i) });
  const body = whole.subarray(20);
  const frag = (from: number, to: number, mf: boolean) => datagram('o', { ipv4: { id: 9, proto: 17, mf, fragOff: from / 8 }, payload: body.slice(from, to) });
  assert.equal(defragIn(m.env, newSkb(frag(32, 58, false), null, 'a1')), null);
  assert.equal(defragIn(m.env, newSkb(frag(0, 16, true), null, 'a1')), null);
  const r = defragIn(m.env, newSkb(frag(16, 32, true), null, 'a1'))!;
  assert.deepEqual([...r.data], [...whole]);
  assert.equal(verifyIpv4Checksum(r.data, 0), true);
  assert.equal(reassembledMaxSize(r), 46);
  assert.equal(m.table.frags.size, 0);
  const plain = newSkb(udp(1), null, 'a1');
  assert.equal(defragIn(m.env, plain), plain);
  assert.equal(reassembledMaxSize(plain), 0);
});

test('which rules turn conntrack and defragmentation on', async () => {
  const { needsConntrack, needsDefrag } = await import('../src/core/conntrack/users.js');
  assert.equal(needsConntrack('match', 'state'), true);
  assert.equal(needsConntrack('match', 'mark'), false);
  assert.equal(needsConntrack('target', 'CT', { flags: 0 }), true);
  assert.equal(needsConntrack('target', 'CT', { flags: 1 }), false);
  assert.equal(needsConntrack('target', 'LOG'), false);
  assert.equal(needsConntrack('target', 'MASQUERADE'), true);
  assert.equal(needsDefrag('match', 'socket'), true);
  assert.equal(needsConntrack('match', 'socket'), false);
  assert.equal(needsDefrag('target', 'TPROXY'), true);
});

test('conntrack turned on again: established TCP connections learn their windows anew', async () => {
  const { conntrackActivated } = await import('../src/core/conntrack/hooks.js');
  const m = fakeMachine();
  const t = (dir: 'o' | 'r', flags: string, seq: number, ack: number) =>
    datagram(dir, { tcp: { sport: dir === 'o' ? 1000 : 80, dport: dir === 'o' ? 80 : 1000, flags, seq, ack, window: 1000 } });
  forward(m, t('o', 'S', 100, 0));
  forward(m, t('r', 'SA', 5000, 101));
  forward(m, t('o', 'A', 101, 5001));
  // while conntrack was off the connection moved on by far more than a window
  assert.equal(forward(m, t('o', 'A', 900101, 5001)).skb!.ct, null);
  conntrackActivated(m.env);
  const r = forward(m, t('o', 'A', 900101, 5001));
  assert.equal(r.skb!.ctinfo, CtInfo.ESTABLISHED);
  assert.equal(forward(m, t('r', 'A', 5001, 900101)).skb!.ctinfo, CtInfo.ESTABLISHED_REPLY);
});

test('local fragments are not tracked at OUTPUT', () => {
  const m = fakeMachine();
  const frag = datagram('o', { ipv4: { id: 3, proto: 17, mf: true }, payload: new Uint8Array(16) });
  const skb = newSkb(frag, null, '');
  skb.ct = newTemplate(2);
  assert.equal(conntrackIn(m.env, skb, 'OUTPUT'), NF_ACCEPT);
  assert.equal(skb.ct, null);
  assert.equal(m.table.count(), 0);
});

test('expiry: count and listings drop exactly the expired entries, timeouts raised or lowered', () => {
  const m = fakeMachine();
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const alive = (): number => m.table.entries().filter((c) => m.now < c.expires).length;
  for (let step = 0; step < 400; step++) {
    const port = 1000 + rnd(60);
    const kind = rnd(4);
    if (kind === 0) forward(m, datagram('o', { tcp: { sport: port, dport: 80, flags: 'S', seq: 5 } }));
    else if (kind === 1) forward(m, datagram('r', { tcp: { sport: 80, dport: port, flags: 'RA', seq: 0, ack: 6 } }));
    else if (kind === 2) forward(m, datagram('o', { udp: { sport: port, dport: 53 } }));
    else m.sleep(rnd(20) + rnd(1000) / 1000);
    if (step % 7 === 0) {
      const expected = alive();
      assert.equal(m.table.count(), expected, `step ${step}`);
      assert.equal(m.table.list().length, expected);
    }
  }
});
