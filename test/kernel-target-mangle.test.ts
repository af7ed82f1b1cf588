/**
 * The kernel halves of the packet-mangling targets and the targets with
 * nothing to mangle: exact unit tests, and differential runs against the
 * real kernel. For mangling, frames are forwarded through a namespace twice,
 * first without rules (what reaches POSTROUTING, captured on the far side),
 * then with mangle POSTROUTING rules; the model applies the same rules to
 * the first capture and must produce the second one byte for byte, with the
 * same drops and the same counters.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { findTarget } from '../src/core/xt/registry.js';
import { NF_ACCEPT, NF_DROP, XT_CONTINUE } from '../src/core/xt/verdict.js';
import type { PacketContext } from '../src/core/xt/packet.js';
import { csumReplace2, ipv4ChangeDsfield, protoCsumReplace2 } from '../src/core/xt/target/csum-update.js';
import { jhash1word, jhash3words, reciprocalScale } from '../src/core/xt/jhash.js';
import {
  KernelLab,
  cksum,
  contextFor,
  frame,
  icmp,
  ip,
  ipv4,
  kernelUnavailable,
  modelKernel,
  modelNet,
  modelRuleset,
  modelRun,
  modelSave,
  perPacketRuleset,
  tcp,
  udp,
  type Frame,
} from './kernel-stateless-net.js';

/** Runs the target of `spec` (a rule in `table` `hook`) on a copy of `data`; returns the verdict and the context. */
function fire(spec: string, data: Uint8Array, opts: Parameters<typeof contextFor>[1] = {}): { verdict: number; ctx: PacketContext } {
  const table = opts.table ?? 'mangle';
  const hook = opts.hook ?? 'POSTROUTING';
  const ctx = contextFor(data.slice(), { out: hook === 'POSTROUTING' || hook === 'FORWARD' ? 'd1' : '', ...opts, table, hook });
  const rs = modelRuleset(`*${table}\n-A ${hook} ${spec}\nCOMMIT\n`);
  const t = rs.tables[table]!.builtins[hook]!.rules[0]!.target;
  if (t.kind !== 'ext') throw new Error('not an extension target');
  const def = findTarget(t.name, 'ipv4');
  if (!def?.target) throw new Error(`no kernel half for ${t.name}`);
  return { verdict: def.target(t.info, ctx, def.runtime?.(t.info)), ctx };
}

/** Whether the IPv4 header checksum of `d` verifies. */
function ipSumOk(d: Uint8Array): boolean {
  return cksum(d, 0, (d[0]! & 0x0f) * 4) === 0;
}

/** Whether the TCP checksum of `d` verifies (the pseudo header included). */
function tcpSumOk(d: Uint8Array): boolean {
  const hl = (d[0]! & 0x0f) * 4;
  const len = d.length - hl;
  const w = (o: number) => (d[o]! << 8) | d[o + 1]!;
  const pseudo = w(12) + w(14) + w(16) + w(18) + 6 + len;
  return cksum(d, hl, len, pseudo) === 0;
}

const hex = (d: Uint8Array) => Buffer.from(d).toString('hex');

describe('checksum updates', () => {
  it('csum_replace2 and the proto variant agree with a fresh sum on ordinary values', () => {
    const p = ipv4({ proto: 6, ttl: 64, payload: tcp({ seq: 5 }) });
    csumReplace2(p, 10, 64 << 8, 10 << 8);
    p[8] = 10;
    assert.ok(ipSumOk(p));
    const t = 20;
    const old = (p[t + 12]! << 8) | p[t + 13]!;
    p[t + 13] = 0x42;
    protoCsumReplace2(p, t + 16, old, (p[t + 12]! << 8) | 0x42);
    assert.ok(tcpSumOk(p));
  });
  it('gives the zero the kernel arithmetic gives', () => {
    // csum_replace2: ~csum16_add(csum16_add(~sum, ~old), new); 0xffff only from 0xffff, old 0xffff, new 0
    const a = Uint8Array.from([0xff, 0xff]);
    csumReplace2(a, 0, 0x1234, 0x1234);
    assert.equal(hex(a), '0000');
    const b = Uint8Array.from([0xff, 0xff]);
    csumReplace2(b, 0, 0xffff, 0x0000);
    assert.equal(hex(b), 'ffff');
    // the 32-bit path (csum_replace4, csum_fold) never gives 0xffff
    const c = Uint8Array.from([0xff, 0xff]);
    protoCsumReplace2(c, 0, 0xffff, 0x0000);
    assert.equal(hex(c), '0000');
  });
  it('ipv4_change_dsfield keeps the header checksum right', () => {
    for (const tos of [0, 1, 0x10, 0xb8, 0xff]) {
      for (const v of [0, 0x03, 0x10, 0xfc, 0xff]) {
        const p = ipv4({ proto: 17, tos, payload: udp(1, 2) });
        ipv4ChangeDsfield(p, 0, 0, v);
        assert.equal(p[1], v);
        assert.ok(ipSumOk(p), `tos ${tos} -> ${v}`);
      }
    }
  });
  it('reciprocal_scale, and jhash words as unsigned 32-bit values (the HMARK run below checks them against the kernel)', () => {
    for (const v of [jhash1word(0, 0), jhash1word(0xffffffff, 0xffffffff), jhash3words(1, 2, 3, 0), jhash3words(0xffffffff, 0, 7, 0xdeadbeef)]) {
      assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff);
    }
    assert.notEqual(jhash3words(1, 2, 3, 0), jhash3words(1, 2, 3, 1));
    assert.equal(reciprocalScale(0xffffffff, 10), 9);
    assert.equal(reciprocalScale(0x80000000, 10), 5);
    assert.equal(reciprocalScale(0, 10), 0);
  });
});

describe('IP header targets', () => {
  const p = ipv4({ proto: 17, ttl: 64, tos: 0x11, payload: udp(1, 2) });
  it('TTL set, increase (capped at 255), decrease (floored at 0)', () => {
    assert.equal(fire('-j TTL --ttl-set 5', p).ctx.skb.data[8], 5);
    assert.equal(fire('-j TTL --ttl-inc 250', p).ctx.skb.data[8], 255);
    assert.equal(fire('-j TTL --ttl-dec 100', p).ctx.skb.data[8], 0);
    const r = fire('-j TTL --ttl-dec 1', p);
    assert.equal(r.verdict, XT_CONTINUE);
    assert.equal(r.ctx.skb.data[8], 63);
    assert.ok(ipSumOk(r.ctx.skb.data));
  });
  it('TOS set under a mask, and, or, xor; DSCP keeps the ECN bits', () => {
    assert.equal(fire('-j TOS --set-tos 0x08/0x3f', p).ctx.skb.data[1], 0x08);
    assert.equal(fire('-j TOS --and-tos 0x0f', p).ctx.skb.data[1], 0x01);
    assert.equal(fire('-j TOS --or-tos 0x40', p).ctx.skb.data[1], 0x51);
    assert.equal(fire('-j TOS --xor-tos 0x11', p).ctx.skb.data[1], 0x00);
    const d = fire('-j DSCP --set-dscp-class EF', p).ctx.skb.data;
    assert.equal(d[1], 0xb9);
    assert.ok(ipSumOk(d));
  });
  it('ECN: the IP codepoint, and the TCP bits only on TCP with a whole header', () => {
    const q = fire('-j ECN --ecn-ip-ect 2', p).ctx.skb.data;
    assert.equal(q[1], 0x12);
    assert.ok(ipSumOk(q));
    const syn = ipv4({ proto: 6, payload: tcp({ flags: 0xc2 }) });
    const r = fire('-p tcp -j ECN --ecn-tcp-remove', syn).ctx.skb.data;
    assert.equal(r[20 + 13], 0x02);
    assert.ok(tcpSumOk(r));
    const c = fire('-p tcp -j ECN --ecn-tcp-cwr 1', ipv4({ proto: 6, payload: tcp({ flags: 0x02 }) })).ctx.skb.data;
    assert.equal(c[20 + 13], 0x82);
    assert.equal(fire('-p tcp -j ECN --ecn-tcp-remove', ipv4({ proto: 6, payload: [1, 2, 3] })).verdict, NF_DROP);
  });
  it('CLASSIFY sets the priority; CHECKSUM, NFLOG, AUDIT go on without a change', () => {
    const r = fire('-j CLASSIFY --set-class 1:10', p);
    assert.equal(r.ctx.skb.priority, 0x00010010);
    assert.equal(r.verdict, XT_CONTINUE);
    for (const spec of ['-j CHECKSUM --checksum-fill', '-j NFLOG --nflog-group 3', '-j AUDIT --type drop']) {
      const x = fire(spec, p);
      assert.equal(x.verdict, XT_CONTINUE, spec);
      assert.equal(hex(x.ctx.skb.data), hex(p), spec);
    }
  });
});

describe('TCP option targets', () => {
  const mss = (n: number) => [2, 4, n >> 8, n & 255];
  it('TCPMSS --set-mss lowers the option, never raises it', () => {
    const p = ipv4({ proto: 6, payload: tcp({ options: mss(1460) }) });
    const d = fire('-p tcp -j TCPMSS --set-mss 1200', p).ctx.skb.data;
    assert.deepEqual([...d.slice(40, 44)], mss(1200));
    assert.ok(tcpSumOk(d));
    assert.equal(hex(fire('-p tcp -j TCPMSS --set-mss 1500', p).ctx.skb.data), hex(p));
  });
  it('TCPMSS adds an option of at most 536 to a header without one and without data', () => {
    const p = ipv4({ proto: 6, payload: tcp({}) });
    const d = fire('-p tcp -j TCPMSS --set-mss 1000', p).ctx.skb.data;
    assert.equal(d.length, p.length + 4);
    assert.deepEqual([...d.slice(40, 44)], mss(536));
    assert.equal(d[20 + 12], 6 << 4);
    assert.equal((d[2]! << 8) | d[3]!, d.length);
    assert.ok(ipSumOk(d) && tcpSumOk(d));
    const withData = ipv4({ proto: 6, payload: tcp({ data: [1] }) });
    assert.equal(hex(fire('-p tcp -j TCPMSS --set-mss 1000', withData).ctx.skb.data), hex(withData));
  });
  it('TCPMSS --clamp-mss-to-pmtu takes the smaller of the way out and the way back', () => {
    const k = modelKernel(modelNet(1400));
    const p = ipv4({ proto: 6, src: ip('10.0.0.2'), dst: ip('8.8.8.8'), payload: tcp({ options: mss(1460) }) });
    const d = fire('-p tcp -j TCPMSS --clamp-mss-to-pmtu', p, { kernel: k }).ctx.skb.data;
    assert.deepEqual([...d.slice(40, 44)], mss(1360));
    const back = ipv4({ proto: 6, src: ip('8.8.8.8'), dst: ip('10.0.0.2'), payload: tcp({ options: mss(1460) }) });
    const e = fire('-p tcp -j TCPMSS --clamp-mss-to-pmtu', back, { kernel: k, out: 'd0' }).ctx.skb.data;
    assert.deepEqual([...e.slice(40, 44)], mss(1360));
  });
  it('TCPMSS drops a short header, leaves later fragments alone', () => {
    assert.equal(fire('-p tcp -j TCPMSS --set-mss 1000', ipv4({ proto: 6, payload: [0, 1, 2, 3] })).verdict, NF_DROP);
    const frag = ipv4({ proto: 6, frag: 3, payload: [0, 1, 2, 3] });
    assert.equal(fire('-p tcp -j TCPMSS --set-mss 1000', frag).verdict, XT_CONTINUE);
  });
  it('TCPOPTSTRIP replaces the options with NOPs, one checksum update per byte', () => {
    const p = ipv4({ proto: 6, payload: tcp({ options: [1, 3, 3, 7, ...mss(1460), 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8] }) });
    const d = fire('-p tcp -j TCPOPTSTRIP --strip-options mss,wscale', p).ctx.skb.data;
    assert.deepEqual([...d.slice(40, 48)], [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.deepEqual([...d.slice(48, 52)], [4, 2, 8, 10]);
    assert.ok(tcpSumOk(d));
    assert.equal(fire('-p tcp -j TCPOPTSTRIP --strip-options mss', ipv4({ proto: 6, payload: [0, 1] })).verdict, NF_DROP);
  });
});

describe('targets that decide or keep state', () => {
  const p = ipv4({ proto: 17, payload: udp(1, 2) });
  it('NFQUEUE without a listener: dropped, or accepted with --queue-bypass', () => {
    assert.equal(fire('-j NFQUEUE --queue-num 4', p).verdict, NF_DROP);
    assert.equal(fire('-j NFQUEUE --queue-balance 1:3 --queue-bypass', p).verdict, NF_ACCEPT);
  });
  it('TPROXY finds no socket and drops', () => {
    assert.equal(fire('-p udp -j TPROXY --on-port 8080', p, { hook: 'PREROUTING' }).verdict, NF_DROP);
  });
  it('HMARK: the same mark both ways, within offset .. offset+mod-1', () => {
    const a = ipv4({ proto: 6, src: ip('1.2.3.4'), dst: ip('5.6.7.8'), payload: tcp({ sport: 1000, dport: 80 }) });
    const b = ipv4({ proto: 6, src: ip('5.6.7.8'), dst: ip('1.2.3.4'), payload: tcp({ sport: 80, dport: 1000 }) });
    const spec = '-j HMARK --hmark-tuple src,dst,sport,dport,proto --hmark-mod 16 --hmark-rnd 0xabcd --hmark-offset 100';
    const ma = fire(spec, a, { hook: 'PREROUTING' }).ctx.skb.mark;
    assert.equal(fire(spec, b, { hook: 'PREROUTING' }).ctx.skb.mark, ma);
    assert.ok(ma >= 100 && ma < 116);
    // without conntrack the ct tuple is missing: no mark
    assert.equal(fire('-j HMARK --hmark-tuple ct --hmark-mod 4 --hmark-rnd 1', a, { hook: 'PREROUTING' }).ctx.skb.mark, 0);
  });
  it('RATEEST adds the packet to its estimator and goes on', () => {
    const k = modelKernel();
    fire('-j RATEEST --rateest-name e1 --rateest-interval 250ms --rateest-ewmalog 1s', p, { kernel: k });
    const r = fire('-j RATEEST --rateest-name e1 --rateest-interval 250ms --rateest-ewmalog 1s', p, { kernel: k });
    assert.equal(r.verdict, XT_CONTINUE);
    assert.deepEqual(k.shared['RATEEST'], { e1: { bytes: 2 * p.length, packets: 2 } });
  });
  it('IDLETIMER re-arms its label; CONNSECMARK copies only what is missing', () => {
    const r = fire('-j IDLETIMER --timeout 10 --label t1', p);
    assert.equal(r.verdict, XT_CONTINUE);
    assert.deepEqual(r.ctx.kernel.shared['IDLETIMER'], { t1: { alarm: false, expires: 4294892296 + 250 + 2500 } });
    const conn = { secmark: 0 } as never as import('../src/core/conntrack/types.js').Conn;
    const s = fire('-j CONNSECMARK --save', p, { skb: { secmark: 9, ct: conn } });
    assert.equal(s.ctx.skb.ct!.secmark, 9);
    const t = fire('-j CONNSECMARK --restore', p, { skb: { secmark: 0, ct: { secmark: 4 } as never } });
    assert.equal(t.ctx.skb.secmark, 4);
  });
});

// ---------------------------------------------------------------------------
// The real kernel

const unavailable = kernelUnavailable();

/** Sets IP id `id` and fixes the header checksum. */
function withId(data: Uint8Array, id: number): Uint8Array {
  const d = data.slice();
  d[4] = id >> 8;
  d[5] = id & 0xff;
  d[10] = 0;
  d[11] = 0;
  const c = cksum(d, 0, (d[0]! & 0x0f) * 4);
  d[10] = c >> 8;
  d[11] = c & 0xff;
  return d;
}

/** The IP id of a datagram. */
const idOf = (d: Uint8Array) => (d[4]! << 8) | d[5]!;

/**
 * Forwards the datagrams through D without rules and then with the mangle
 * POSTROUTING `rules`, and checks the model turns the first capture into
 * the second (same bytes, same drops, same counters).
 */
async function mangleDifferential(
  lab: KernelLab,
  rules: readonly string[],
  datagrams: readonly Uint8Array[],
): Promise<{ model: string; kernel: string }> {
  const frames: Frame[] = datagrams.map((d, i) => frame(withId(d, i + 1)));
  lab.restore('*mangle\nCOMMIT\n');
  const before = await lab.sendAndCapture(frames);
  assert.equal(before.length, frames.length, 'every frame crosses D without rules');
  let text = '*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n';
  for (const r of rules) text += `-A POSTROUTING ${r}\n`;
  text += '-A POSTROUTING\nCOMMIT\n';
  lab.restore(text);
  const afterCapture = await lab.sendAndCapture(frames);
  const rs = modelRuleset(text);
  const { verdicts, out } = modelRun(
    rs,
    'mangle',
    'POSTROUTING',
    before.map((d) => frame(d)),
    modelKernel(modelNet(1400)),
  );
  const got = new Map(afterCapture.map((d) => [idOf(d), d]));
  before.forEach((input, i) => {
    const id = idOf(input);
    const k = got.get(id);
    const m = verdicts[i] === NF_DROP ? undefined : out[i]!;
    if (k === undefined && m === undefined) return;
    assert.equal(m === undefined ? 'dropped' : hex(m), k === undefined ? 'dropped' : hex(k), `packet id ${id}, at POSTROUTING: ${hex(input)}`);
  });
  // the model ran POSTROUTING only: that chain's policy and rules
  const postrouting = (t: string) => t.split('\n').filter((l) => l.includes('POSTROUTING')).join('\n');
  return { model: postrouting(modelSave(rs, 'mangle')), kernel: postrouting(lab.save('mangle')) };
}

/** Counter lines with the byte counts left out. */
const packetsOnly = (t: string) => t.replace(/\[(\d+):\d+\]/g, '[$1]');

const checksum = fc.oneof(fc.constantFrom(0, 0xffff, 1, 0xfffe, 0x8000), fc.integer({ min: 0, max: 0xffff }));
const mssOpt = fc.oneof(fc.constantFrom(536, 1200, 1360, 1460, 1461, 0, 65535), fc.integer({ min: 0, max: 65535 })).map((n) => [2, 4, n >> 8, n & 255]);
const optionBytes = fc.oneof(
  fc.constant<number[]>([]),
  fc.tuple(fc.array(fc.constantFrom(1), { maxLength: 3 }), mssOpt, fc.constantFrom<number[]>([], [4, 2], [3, 3, 7], [8, 10, 1, 2, 3, 4, 5, 6, 7, 8], [1, 3, 3, 2])).map(([a, b, c]) => [...a, ...b, ...c]),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
);

/** Forwardable TCP segments: random flags, options, checksum field, TOS, TTL; sometimes data, sometimes fragments. */
const tcpSegment = fc
  .record({
    tos: fc.integer({ min: 0, max: 255 }),
    ttl: fc.integer({ min: 2, max: 255 }),
    flags: fc.integer({ min: 0, max: 255 }),
    options: optionBytes,
    data: fc.oneof({ weight: 3, arbitrary: fc.constant<number[]>([]) }, { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 20 }) }),
    check: checksum,
    frag: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 100 }) }),
    keep: fc.oneof({ weight: 8, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 30 }) }),
    dst: fc.constantFrom('10.0.1.2', '8.8.8.8', '192.0.2.1'),
  })
  .map((r) => {
    let seg = tcp({ flags: r.flags, options: r.options, data: r.data, check: r.check });
    if (r.keep !== null) seg = seg.slice(0, Math.min(r.keep, seg.length));
    return ipv4({ proto: 6, tos: r.tos, ttl: r.ttl, frag: r.frag, dst: ip(r.dst), payload: seg });
  });

/** Forwardable UDP and ICMP datagrams with random TOS and TTL. */
const otherDatagram = fc
  .record({ proto: fc.constantFrom(1, 17), tos: fc.integer({ min: 0, max: 255 }), ttl: fc.integer({ min: 2, max: 255 }) })
  .map((r) => ipv4({ proto: r.proto, tos: r.tos, ttl: r.ttl, dst: ip('10.0.1.2'), payload: r.proto === 17 ? udp(53, 53, [1, 2, 3]) : icmp(8, 0) }));

function draw<T>(arb: fc.Arbitrary<T>, seed: number): T {
  return fc.sample(arb, { seed, numRuns: 1 })[0]!;
}

describe('against the real kernel', { skip: unavailable }, () => {
  let lab: KernelLab;
  let optionRun: { model: string; kernel: string } | undefined;
  before(() => {
    lab = KernelLab.create({ receiver: true, d1Mtu: 1400 });
    lab.ns(lab.r!, ['iptables', '-P', 'INPUT', 'DROP']);
    lab.ns(lab.r!, ['iptables', '-P', 'OUTPUT', 'DROP']);
  });
  after(() => lab?.destroy());

  it('TTL, TOS, DSCP and the ECN codepoint: header bytes and checksums as the kernel writes them', async () => {
    const rules = [
      '-m ttl --ttl-gt 200 -j TTL --ttl-inc 100',
      '-m ttl --ttl-lt 10 -j TTL --ttl-dec 5',
      '-p udp -j TTL --ttl-set 77',
      '-m tos --tos 0x04/0x04 -j TOS --set-tos 0x10/0x3f',
      '-m tos --tos 0x08/0x08 -j TOS --xor-tos 0xa5',
      '-p icmp -j TOS --and-tos 0xc3',
      '-m tos --tos 0x01/0x01 -j DSCP --set-dscp 0x2e',
      '-m tos --tos 0x02/0x02 -j ECN --ecn-ip-ect 1',
      '-p tcp -j TOS --or-tos 0x20',
    ];
    const c = await mangleDifferential(lab, rules, draw(fc.array(fc.oneof(tcpSegment, otherDatagram), { minLength: 150, maxLength: 150 }), 21));
    assert.equal(c.model, c.kernel);
  });
  it('ECN TCP bits, TCPMSS (set, clamp, added option) and TCPOPTSTRIP on random segments and checksums', async () => {
    const rules = [
      '-p tcp -m tos --tos 0x01/0x01 -j ECN --ecn-tcp-remove',
      '-p tcp -m tos --tos 0x02/0x02 -j ECN --ecn-tcp-cwr 1 --ecn-tcp-ece 0',
      '-p tcp -m tos --tos 0x04/0x04 -j ECN --ecn-tcp-ece 1',
      '-p tcp -m tos --tos 0x08/0x08 -j TCPMSS --set-mss 1000',
      '-p tcp -m tos --tos 0x10/0x10 -j TCPMSS --clamp-mss-to-pmtu',
      '-p tcp -m tos --tos 0x20/0x20 -j TCPOPTSTRIP --strip-options mss,sack-permitted,timestamp',
      '-p tcp -m tos --tos 0x40/0x40 -j TCPOPTSTRIP --strip-options wscale,7,200',
    ];
    optionRun = await mangleDifferential(lab, rules, draw(fc.array(tcpSegment, { minLength: 200, maxLength: 200 }), 22));
    assert.equal(packetsOnly(optionRun.model), packetsOnly(optionRun.kernel));
  });
  it(
    'byte counters of the rules after an added MSS option count the longer packet',
    () => {
      assert.ok(optionRun, 'the TCPMSS run above ran');
      assert.equal(optionRun.model, optionRun.kernel);
    },
  );
  it('NFQUEUE drops or, with --queue-bypass, accepts; CHECKSUM, NFLOG, AUDIT, CLASSIFY, IDLETIMER go on', async () => {
    const rules = [
      '-p icmp -j NFQUEUE --queue-num 7',
      '-p udp -j NFQUEUE --queue-balance 2:5 --queue-bypass',
      '-p tcp -j CHECKSUM --checksum-fill',
      '-p tcp -j NFLOG --nflog-group 9 --nflog-prefix x',
      '-p tcp -j AUDIT --type accept',
      '-p tcp -j CLASSIFY --set-class 1:2',
      '-p tcp -j IDLETIMER --timeout 60 --label lab',
      '-p tcp -j TTL --ttl-dec 1',
    ];
    const c = await mangleDifferential(lab, rules, draw(fc.array(fc.oneof(tcpSegment, otherDatagram), { minLength: 90, maxLength: 90 }), 23));
    assert.equal(c.model, c.kernel);
  });
  it('HMARK marks, read back by -m mark, for TCP, UDP, ICMP errors and fragments', () => {
    const spec = '-j HMARK --hmark-tuple src,dst,sport,dport,proto --hmark-mod 6 --hmark-rnd 0x1234abcd --hmark-offset 40';
    const spec2 = '-j HMARK --hmark-src-prefix 16 --hmark-dst-prefix 24 --hmark-sport-mask 0xff00 --hmark-dport 0x50 --hmark-proto-mask 0x0f --hmark-mod 5 --hmark-rnd 7';
    const marks = (from: number, n: number) => Array.from({ length: n }, (_, i) => `-m mark --mark ${from + i}`);
    const rules = [spec, ...marks(40, 6), spec2, ...marks(0, 5), '-j HMARK --hmark-tuple src,dst,spi --hmark-mod 3 --hmark-rnd 9', ...marks(0, 3)];
    const quoted = fc.record({ sport: fc.integer({ min: 0, max: 65535 }), dport: fc.integer({ min: 0, max: 65535 }), type: fc.constantFrom(3, 11, 0, 8, 19) }).map((r) => {
      const inner = ipv4({ proto: 17, src: ip('10.0.1.2'), dst: ip('10.0.0.2'), payload: udp(r.sport, r.dport) });
      return ipv4({ proto: 1, payload: icmp(r.type, 0, [0, 0, 0, 0, ...inner.slice(0, 28)]) });
    });
    const spi = fc.integer({ min: 0, max: 0xffffffff }).map((s) => ipv4({ proto: 50, payload: [s >>> 24, (s >>> 16) & 255, (s >>> 8) & 255, s & 255, 0, 0, 0, 1] }));
    const addrs = fc.record({ s: fc.integer({ min: 0, max: 0xffffffff }), d: fc.integer({ min: 0, max: 0xffffffff }), sp: fc.integer({ min: 0, max: 65535 }), dp: fc.integer({ min: 0, max: 65535 }), udp: fc.boolean() });
    const flows = addrs.map((r) => ipv4({ proto: r.udp ? 17 : 6, src: r.s, dst: r.d, payload: r.udp ? udp(r.sp, r.dp, [], r.s, r.d) : tcp({ sport: r.sp, dport: r.dp }, r.s, r.d) }));
    const pkts = draw(fc.array(fc.oneof(flows, quoted, spi, tcpSegment), { minLength: 120, maxLength: 120 }), 24);
    const framesIn: Frame[] = pkts.map((d, i) => frame(withId(d, i + 1)));
    const text = perPacketRuleset(framesIn.length, rules, 'mangle');
    lab.restore(text);
    lab.send(framesIn);
    const noOutput = (t: string) => t.replace(/^:(OUTPUT|POSTROUTING|INPUT|FORWARD) .*\n/gm, '');
    const real = noOutput(lab.save('mangle'));
    const rs = modelRuleset(text);
    modelRun(rs, 'mangle', 'PREROUTING', framesIn, modelKernel(modelNet(1400)));
    assert.equal(noOutput(modelSave(rs, 'mangle')), real);
  });
  it('TPROXY drops every segment it sees (no sockets); the rule also turns reassembly on', () => {
    const pkts = draw(fc.array(fc.oneof(tcpSegment, otherDatagram), { minLength: 60, maxLength: 60 }), 25).map((d) => {
      const c = d.slice();
      c[6] = 0;
      c[7] = 0;
      return c;
    });
    const framesIn = pkts.map((d, i) => frame(withId(d, i + 1)));
    const text = perPacketRuleset(framesIn.length, ['-p tcp -j TPROXY --on-port 3128 --tproxy-mark 0x1/0x1', '-p udp -j TPROXY --on-port 53 --on-ip 127.0.0.1'], 'mangle');
    lab.restore(text);
    lab.send(framesIn);
    const noOutput = (t: string) => t.replace(/^:(OUTPUT|POSTROUTING|INPUT|FORWARD) .*\n/gm, '');
    const real = noOutput(lab.save('mangle'));
    const rs = modelRuleset(text);
    modelRun(rs, 'mangle', 'PREROUTING', framesIn, modelKernel(modelNet(1400)));
    assert.equal(noOutput(modelSave(rs, 'mangle')), real);
  });
});
