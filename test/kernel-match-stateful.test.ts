/**
 * The kernel halves of the stateful and conntrack matches: state,
 * conntrack, connmark, connbytes, connlimit, helper, connlabel, limit,
 * hashlimit, recent, time, quota, statistic, rateest and nfacct. Unit
 * tests run rules parsed by the real command-line code on a machine with a
 * controllable clock; expected values follow the kernel's arithmetic (and,
 * where marked, what the real kernel printed). The differential part runs
 * the same rules and packets on the real kernel in private namespaces.
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { CtInfo } from '../src/core/path/skb.js';
import { IPS, type Conn } from '../src/core/conntrack/types.js';
import { findMatch } from '../src/core/xt/registry.js';
import { compileRuleset, flushCounters, runChain } from '../src/core/netfilter/traverse.js';
import { emptyRuleset, initBuiltins } from '../src/core/netfilter/ruleset.js';
import { recentProcText, recentProcWrite, recentPrune, RECENT_PARAMS_SHARED_KEY } from '../src/core/xt/match/recent-table.js';
import { hashlimitProcText, hashlimitPrune } from '../src/core/xt/match/hashlimit-table.js';
import { estimatorCount, estimatorFor } from '../src/core/xt/match/rate-estimator.js';
import { SYS_TZ_SHARED_KEY } from '../src/core/xt/match/time.js';
import { NFACCT_SHARED_KEY } from '../src/core/xt/match/nfacct.js';
import {
  canRunKernel,
  conn,
  fakeKernel,
  INITIAL_JIFFIES,
  kernelRun,
  modelRun,
  packetCtx,
  ruleFrom,
  tcp,
  timed,
  tuple,
  udp,
  withConn,
  type FakeKernel,
  type RealPacket,
} from './kernel-ext-util.js';
import type { Skb } from '../src/core/path/skb.js';
import type { Rule } from '../src/core/netfilter/rule.js';

/** Runs the matches of one rule (built from its words) on a packet; the runtime state persists in the rule. */
function matcher(args: string[], table = 'filter', chain = 'INPUT') {
  const rule: Rule = ruleFrom(args, table, chain);
  const parts = rule.matches.map((m) => {
    const def = findMatch(m.name, 'ipv4')!;
    assert.ok(def.match, `${m.name} has a kernel half`);
    if (def.runtime && m.rt === undefined) m.rt = def.runtime(m.info);
    return { def, m };
  });
  return {
    rule,
    /** Whether every match of the rule matches; `hotdrop` is reported too. */
    test(k: FakeKernel, data: Uint8Array, skb: Partial<Skb> = {}, where: { out?: string } = {}): boolean | 'hotdrop' {
      const ctx = packetCtx(k, data, { skb, out: where.out });
      for (const { def, m } of parts) {
        const ok = def.match!(m.info, ctx, m.rt);
        if (ctx.hotdrop) return 'hotdrop';
        if (!ok) return false;
      }
      return true;
    },
  };
}

const SEC = 1_000_000_000;
const JIFFY = 4_000_000;

describe('state and conntrack', () => {
  const a = tuple('10.9.0.2', '10.9.0.1', 17, 1000, 9);
  const k = fakeKernel();
  const c = conn(a);
  it('state bits from ctinfo; no connection is INVALID, untracked is UNTRACKED', () => {
    const m = matcher(['-m', 'state', '--state', 'NEW']);
    assert.equal(m.test(k, udp(), withConn(c, CtInfo.NEW)), true);
    assert.equal(m.test(k, udp(), withConn(c, CtInfo.ESTABLISHED)), false);
    assert.equal(m.test(k, udp()), false);
    const inv = matcher(['-m', 'state', '--state', 'INVALID']);
    assert.equal(inv.test(k, udp()), true);
    assert.equal(inv.test(k, udp(), { untracked: true }), false);
    const untr = matcher(['-m', 'conntrack', '--ctstate', 'UNTRACKED']);
    assert.equal(untr.test(k, udp(), { untracked: true }), true);
    const er = matcher(['-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED']);
    assert.equal(er.test(k, udp(), withConn(c, CtInfo.ESTABLISHED_REPLY)), true);
    assert.equal(er.test(k, udp(), withConn(c, CtInfo.RELATED_REPLY)), true);
    assert.equal(er.test(k, udp(), withConn(c, CtInfo.NEW)), false);
  });
  it('a negated state test passes packets without a connection; other tests never do', () => {
    assert.equal(matcher(['-m', 'conntrack', '!', '--ctstate', 'NEW']).test(k, udp()), true);
    assert.equal(matcher(['-m', 'conntrack', '--ctproto', '17']).test(k, udp()), false);
    assert.equal(matcher(['-m', 'conntrack', '!', '--ctproto', '6']).test(k, udp()), false);
    assert.equal(matcher(['-m', 'conntrack', '!', '--ctproto', '6']).test(k, udp(), withConn(c, CtInfo.NEW)), true);
  });
  it('SNAT and DNAT come from the status bits', () => {
    const snat = conn(a, { status: IPS.SRC_NAT | IPS.CONFIRMED });
    const m = matcher(['-m', 'conntrack', '--ctstate', 'SNAT']);
    assert.equal(m.test(k, udp(), withConn(snat, CtInfo.ESTABLISHED)), true);
    assert.equal(m.test(k, udp(), withConn(c, CtInfo.ESTABLISHED)), false);
    assert.equal(matcher(['-m', 'conntrack', '--ctstate', 'DNAT']).test(k, udp(), withConn(snat, CtInfo.NEW)), false);
  });
  it('tuples: addresses under masks, port ranges, each inverted alone', () => {
    const natted = conn(a, { reply: tuple('192.168.1.5', '10.9.0.2', 17, 53, 1000) });
    const ok = (args: string[]) => matcher(['-m', 'conntrack', ...args]).test(k, udp(), withConn(natted, CtInfo.NEW));
    assert.equal(ok(['--ctorigsrc', '10.9.0.0/24']), true);
    assert.equal(ok(['--ctorigsrc', '10.9.1.0/24']), false);
    assert.equal(ok(['!', '--ctorigdst', '10.9.0.1']), false);
    assert.equal(ok(['--ctreplsrc', '192.168.1.5', '--ctrepldst', '10.9.0.2']), true);
    assert.equal(ok(['--ctorigdstport', '1:9']), true);
    assert.equal(ok(['--ctorigdstport', '10:']), false);
    assert.equal(ok(['!', '--ctreplsrcport', '53']), false);
    assert.equal(ok(['--ctrepldstport', '1000', '--ctorigsrcport', '1000']), true);
  });
  it('status: any of the bits; NONE (no bit) never matches', () => {
    const assured = conn(a, { status: IPS.ASSURED | IPS.CONFIRMED | IPS.SEEN_REPLY });
    assert.equal(matcher(['-m', 'conntrack', '--ctstatus', 'ASSURED']).test(k, udp(), withConn(assured, 0)), true);
    assert.equal(matcher(['-m', 'conntrack', '--ctstatus', 'EXPECTED']).test(k, udp(), withConn(assured, 0)), false);
    assert.equal(matcher(['-m', 'conntrack', '--ctstatus', 'NONE']).test(k, udp(), withConn(c, 0)), false);
    assert.equal(matcher(['-m', 'conntrack', '!', '--ctstatus', 'NONE']).test(k, udp(), withConn(c, 0)), true);
  });
  it('expire: whole seconds left, in jiffies', () => {
    const k2 = fakeKernel(10 * SEC);
    const m = matcher(['-m', 'conntrack', '--ctexpire', '100:200']);
    const confirmed = (expires: number): Conn => conn(a, { expires, status: IPS.CONFIRMED });
    assert.equal(m.test(k2, udp(), withConn(confirmed(k2.t + 150 * SEC), 0)), true);
    assert.equal(m.test(k2, udp(), withConn(confirmed(k2.t + 100 * SEC), 0)), true);
    assert.equal(m.test(k2, udp(), withConn(confirmed(k2.t + 100 * SEC - JIFFY), 0)), false);
    assert.equal(m.test(k2, udp(), withConn(confirmed(k2.t + 201 * SEC - JIFFY), 0)), true);
    assert.equal(m.test(k2, udp(), withConn(confirmed(k2.t + 201 * SEC), 0)), false);
    const zero = matcher(['-m', 'conntrack', '--ctexpire', '0']);
    assert.equal(zero.test(k2, udp(), withConn(confirmed(k2.t - 5 * SEC), 0)), true);
  });
  it('expire of a connection not confirmed yet: its timeout minus the 32-bit jiffies, as the kernel computes it', () => {
    // The first packet of a connection: ct->timeout still holds 30 s, not a jiffy.
    const zero = matcher(['-m', 'conntrack', '--ctexpire', '0']);
    const late = fakeKernel(600 * SEC); // up ten minutes: the counter has wrapped, 7500 - jiffies < 0
    assert.equal(zero.test(late, udp(), withConn(conn(a, { expires: late.t + 30 * SEC }), 0)), true);
    // In the first five minutes the counter is just below the wrap: 7500 - jiffies is positive, as a signed number.
    const early = fakeKernel(10 * SEC);
    const left = (30 * 250 - early.jiffies()) | 0; // 7500 + 75000 - 2500 jiffies
    assert.equal(left, 80000);
    assert.equal(matcher(['-m', 'conntrack', '--ctexpire', '320']).test(early, udp(), withConn(conn(a, { expires: early.t + 30 * SEC }), 0)), true);
  });
  it('direction', () => {
    const reply = matcher(['-m', 'conntrack', '--ctdir', 'REPLY']);
    assert.equal(reply.test(k, udp(), withConn(c, CtInfo.ESTABLISHED_REPLY)), true);
    assert.equal(reply.test(k, udp(), withConn(c, CtInfo.ESTABLISHED)), false);
    assert.equal(matcher(['-m', 'conntrack', '--ctdir', 'ORIGINAL']).test(k, udp(), withConn(c, CtInfo.NEW)), true);
  });
});

describe('connmark, connbytes, connlabel, helper', () => {
  const a = tuple('10.9.0.2', '10.9.0.1', 17, 1000, 9);
  const k = fakeKernel();
  it('connmark compares under the mask and never matches without a connection', () => {
    const c = conn(a, { mark: 0x301 });
    assert.equal(matcher(['-m', 'connmark', '--mark', '0x1/0xff']).test(k, udp(), withConn(c, 0)), true);
    assert.equal(matcher(['-m', 'connmark', '--mark', '0x301']).test(k, udp(), withConn(c, 0)), true);
    assert.equal(matcher(['-m', 'connmark', '!', '--mark', '0x301']).test(k, udp(), withConn(c, 0)), false);
    assert.equal(matcher(['-m', 'connmark', '!', '--mark', '0x1']).test(k, udp()), false);
  });
  it('connbytes counts packets, bytes or the average in a direction; inverted bounds', () => {
    const c = conn(a, { pkts: [2, 2], bytes: [300, 100] });
    const m = (args: string[]) => matcher(['-m', 'connbytes', ...args]).test(k, udp(), withConn(c, 0));
    assert.equal(m(['--connbytes', '4:', '--connbytes-dir', 'both', '--connbytes-mode', 'packets']), true);
    assert.equal(m(['--connbytes', '5:', '--connbytes-dir', 'both', '--connbytes-mode', 'packets']), false);
    assert.equal(m(['!', '--connbytes', '5:', '--connbytes-dir', 'both', '--connbytes-mode', 'packets']), true);
    assert.equal(m(['--connbytes', '0:200', '--connbytes-dir', 'original', '--connbytes-mode', 'bytes']), false);
    assert.equal(m(['--connbytes', '0:200', '--connbytes-dir', 'reply', '--connbytes-mode', 'bytes']), true);
    assert.equal(m(['--connbytes', '100:100', '--connbytes-dir', 'both', '--connbytes-mode', 'avgpkt']), true);
    assert.equal(m(['--connbytes', '150', '--connbytes-dir', 'original', '--connbytes-mode', 'avgpkt']), true);
    const fresh = conn(a);
    assert.equal(
      matcher(['-m', 'connbytes', '--connbytes', '0:0', '--connbytes-dir', 'both', '--connbytes-mode', 'avgpkt']).test(k, udp(), withConn(fresh, 0)),
      true,
    );
    assert.equal(
      matcher(['-m', 'connbytes', '!', '--connbytes', '0:', '--connbytes-dir', 'both', '--connbytes-mode', 'packets']).test(k, udp()),
      false,
    );
  });
  it('connlabel tests a bit and --set sets it', () => {
    const c = conn(a, { labels: [0, 1 << 8, 0, 0] });
    assert.equal(matcher(['-m', 'connlabel', '--label', '40']).test(k, udp(), withConn(c, 0)), true);
    assert.equal(matcher(['-m', 'connlabel', '--label', '5']).test(k, udp(), withConn(c, 0)), false);
    assert.equal(matcher(['-m', 'connlabel', '!', '--label', '5']).test(k, udp(), withConn(c, 0)), true);
    assert.equal(matcher(['-m', 'connlabel', '--label', '127', '--set']).test(k, udp(), withConn(c, 0)), true);
    assert.deepEqual(c.labels, [0, 256, 0, 0x80000000]);
    assert.equal(matcher(['-m', 'connlabel', '!', '--label', '5', '--set']).test(k, udp(), withConn(c, 0)), false);
    assert.deepEqual(c.labels, [32, 256, 0, 0x80000000]);
    assert.equal(matcher(['-m', 'connlabel', '!', '--label', '5']).test(k, udp()), true);
  });
  it("helper looks at the master connection's helper", () => {
    const k2 = fakeKernel();
    const master = conn(tuple('10.9.0.2', '10.9.0.1', 6, 1000, 21), { id: 5, helper: 'ftp' });
    const data = conn(tuple('10.9.0.2', '10.9.0.1', 6, 1001, 2000), { id: 6, master: 5 });
    k2.conns.push(master, data);
    const ok = (args: string[], c = data) => matcher(['-m', 'helper', ...args]).test(k2, tcp(), withConn(c, CtInfo.RELATED));
    assert.equal(ok(['--helper', 'ftp']), true);
    assert.equal(ok(['--helper', 'ftp-21']), true);
    assert.equal(ok(['--helper', 'tftp']), false);
    assert.equal(ok(['!', '--helper', 'tftp']), true);
    assert.equal(ok(['--helper', 'ftp'], master), false);
    assert.equal(ok(['!', '--helper', 'ftp'], master), true);
  });
});

describe('connlimit', () => {
  /**
   * The scenario checked on the real 6.18 kernel: one UDP connection is
   * accepted; a second is refused and dies unconfirmed; the first one's
   * later packets still see two (confirmed connections skip the clean-up);
   * a third new connection cleans the dead one out but counts two again.
   * The kernel counted 1 accepted and 5 dropped.
   */
  it('counts like nf_conncount, confirmed connections included', () => {
    const k = fakeKernel();
    const rs = emptyRuleset();
    const t = initBuiltins(rs, 'filter');
    t.builtins.INPUT!.rules.push(ruleFrom(['-i', 'd0', '-p', '17', '-m', 'connlimit', '--connlimit-above', '1', '-j', 'DROP']));
    t.builtins.INPUT!.rules.push(ruleFrom(['-i', 'd0', '-p', '17', '-j', 'ACCEPT']));
    const ch = compileRuleset(rs).filter!;
    let id = 1;
    const send = (sport: number) => {
      let c = k.conns.find((x) => x.orig.sport === sport);
      const isNew = c === undefined;
      c ??= conn(tuple('10.9.0.2', '10.9.0.1', 17, sport, 9), { id: id++ });
      const verdict = runChain(ch.hooks.INPUT!, packetCtx(k, udp({ sport }), { skb: withConn(c, isNew ? CtInfo.NEW : CtInfo.ESTABLISHED) }), null);
      if (isNew && verdict === 1) {
        c.status |= IPS.CONFIRMED;
        k.conns.push(c);
      }
    };
    send(1000);
    send(1001);
    k.t += 50_000_000;
    send(1000);
    send(1000);
    k.t += 50_000_000;
    send(1002);
    k.t += 50_000_000;
    send(1000);
    flushCounters(ch);
    assert.deepEqual(
      t.builtins.INPUT!.rules.map((r) => Number(r.pkts)),
      [5, 1],
    );
  });
  it('drops closed TCP connections and those gone from the table; keys by masked address', () => {
    const k = fakeKernel();
    const m = matcher(['-m', 'connlimit', '--connlimit-upto', '2', '--connlimit-mask', '24']);
    const mk = (src: string, sport: number, idn: number) => conn(tuple(src, '10.9.0.1', 6, sport, 80), { id: idn });
    const c1 = mk('10.9.0.2', 1000, 1);
    const c2 = mk('10.9.0.3', 1001, 2);
    const c3 = mk('10.9.0.4', 1002, 3);
    assert.equal(m.test(k, tcp(), withConn(c1, CtInfo.NEW)), true);
    k.conns.push({ ...c1, status: IPS.CONFIRMED });
    assert.equal(m.test(k, tcp({ src: '10.9.0.3', sport: 1001 }), withConn(c2, CtInfo.NEW)), true);
    k.conns.push({ ...c2, status: IPS.CONFIRMED });
    k.t += JIFFY;
    assert.equal(m.test(k, tcp({ src: '10.9.0.4', sport: 1002 }), withConn(c3, CtInfo.NEW)), false);
    // c1 reaches TIME_WAIT and c3 never made it into the table
    k.conns[0]!.l4 = { state: 'TIME_WAIT' };
    k.t += JIFFY;
    const c4 = mk('10.9.0.5', 1003, 4);
    assert.equal(m.test(k, tcp({ src: '10.9.0.5', sport: 1003 }), withConn(c4, CtInfo.NEW)), true);
    // another /24 has its own count
    const c5 = mk('10.9.1.2', 1004, 5);
    assert.equal(
      matcher(['-m', 'connlimit', '--connlimit-above', '0', '--connlimit-mask', '24']).test(
        k,
        tcp({ src: '10.9.1.2', sport: 1004 }),
        withConn(c5, CtInfo.NEW),
      ),
      true,
    );
  });
  it('adds a confirmed connection it has not seen yet (a reply the host sends, counted in OUTPUT)', () => {
    // As measured on the kernel: echo replies and a reset sent by the host,
    // each for a connection confirmed on the way in, count 1, 1, 2.
    const k = fakeKernel();
    const m = matcher(['-m', 'connlimit', '--connlimit-above', '1', '--connlimit-mask', '24', '--connlimit-saddr']);
    const a = conn(tuple('10.9.0.2', '10.9.0.1', 1, 7, 0), { id: 1, status: IPS.CONFIRMED });
    const b = conn(tuple('10.9.0.2', '10.9.0.1', 6, 1000, 22), { id: 2, status: IPS.CONFIRMED });
    k.conns.push(a, b);
    const reply = (c: Conn) => withConn(c, CtInfo.ESTABLISHED_REPLY);
    assert.equal(m.test(k, udp({ src: '10.9.0.1', dst: '10.9.0.2' }), reply(a)), false);
    k.t += 3 * JIFFY;
    assert.equal(m.test(k, udp({ src: '10.9.0.1', dst: '10.9.0.2' }), reply(a)), false);
    k.t += 3 * JIFFY;
    assert.equal(m.test(k, tcp({ src: '10.9.0.1', dst: '10.9.0.2' }), reply(b)), true);
  });
  it('counts by destination, and a packet without a connection by its own tuple', () => {
    const k = fakeKernel();
    const m = matcher(['-m', 'connlimit', '--connlimit-above', '1', '--connlimit-daddr']);
    assert.equal(m.test(k, udp({ sport: 1 })), false);
    // same jiffy: no clean-up, the second tuple is added
    assert.equal(m.test(k, udp({ src: '10.9.0.7', sport: 2 })), true);
    // a jiffy later the clean-up finds neither tuple in the table and drops both
    k.t += JIFFY;
    assert.equal(m.test(k, udp({ src: '10.9.0.8', sport: 3 })), false);
    // a fragment other than the first has no tuple: dropped on the spot
    const frag = udp();
    frag[6] = 0;
    frag[7] = 10;
    assert.equal(m.test(k, frag), 'hotdrop');
    // GRE version 1 (PPTP) must carry PPP: anything else has no tuple (gre_pkt_to_tuple), as the kernel measured
    const gre = udp();
    gre[9] = 47;
    gre.set([0x00, 0x01, 0x08, 0x00, 0, 0, 0, 0], 20);
    assert.equal(m.test(k, gre), 'hotdrop');
    // version 0 GRE counts like a protocol without ports
    gre[21] = 0x00;
    assert.notEqual(m.test(k, gre), 'hotdrop');
  });
});

describe('limit (nft_limit: nanosecond token bucket)', () => {
  it('lets a burst through, then one packet per period', () => {
    const k = fakeKernel();
    const m = matcher(['-m', 'limit', '--limit', '2/sec', '--limit-burst', '3']);
    const at = (ms: number) => {
      k.t = 1 * SEC + ms * 1e6;
      return m.test(k, udp());
    };
    assert.deepEqual([at(0), at(0), at(0), at(0)], [true, true, true, false]);
    assert.deepEqual([at(500), at(600), at(999), at(1000), at(1000)], [true, false, false, true, false]);
    // a long pause refills the bucket only up to the burst
    assert.deepEqual([at(9000), at(9000), at(9000), at(9000)], [true, true, true, false]);
  });
  it('default burst 5 and rates read back from nft (7/min)', () => {
    const k = fakeKernel();
    const m = matcher(['-m', 'limit', '--limit', '7/min']);
    const r: boolean[] = [];
    for (let i = 0; i < 7; i++) r.push(m.test(k, udp()) as boolean);
    assert.deepEqual(r, [true, true, true, true, true, false, false]);
    k.t += Math.floor(60e9 / 7) - 1;
    assert.equal(m.test(k, udp()), false);
    k.t += 1;
    assert.equal(m.test(k, udp()), true);
  });
  it('buckets larger than 2^53 ns are exact, and the state survives JSON', () => {
    const k = fakeKernel();
    const m = matcher(['-m', 'limit', '--limit', '1/day', '--limit-burst', '200']);
    let passed = 0;
    for (let i = 0; i < 201; i++) if (m.test(k, udp()) === true) passed++;
    assert.equal(passed, 200);
    m.rule.matches[0]!.rt = JSON.parse(JSON.stringify(m.rule.matches[0]!.rt));
    k.t += 86400 * SEC - 1;
    assert.equal(m.test(k, udp()), false);
    k.t += 86400 * SEC + 1;
    assert.equal(m.test(k, udp()), true);
  });
});

describe('hashlimit', () => {
  it('one bucket per key; /proc/net/ipt_hashlimit as the real kernel printed it', () => {
    const k = fakeKernel();
    const m = matcher(['-m', 'hashlimit', '--hashlimit-name', 'H1', '--hashlimit-upto', '2/min', '--hashlimit-burst', '3', '--hashlimit-mode', 'srcip,dstport']);
    const r: (boolean | string)[] = [];
    for (let i = 0; i < 5; i++) r.push(m.test(k, udp()));
    for (let i = 0; i < 2; i++) r.push(m.test(k, udp({ src: '10.9.0.3', ttl: 9 })));
    assert.deepEqual(r, [true, true, true, false, false, true, true]);
    // read 6 jiffies later (numbers as the kernel showed them for the same run)
    const text = hashlimitProcText(k.shared, 'H1', 'ipv4', k.jiffies() + 6);
    assert.equal(
      text,
      '59 10.9.0.2:0->0.0.0.0:9 3298534883328 12369505770000000 4123168590000000\n' +
        '59 10.9.0.3:0->0.0.0.0:9 4126467124883328 12369505770000000 4123168590000000\n',
    );
    assert.equal(hashlimitProcText(k.shared, 'H2', 'ipv4', k.jiffies()), undefined);
  });
  it('--hashlimit-above matches the packets over the rate; masks group addresses', () => {
    const k = fakeKernel();
    const args = ['-m', 'hashlimit', '--hashlimit-name', 'A', '--hashlimit-above', '1/sec', '--hashlimit-burst', '2', '--hashlimit-mode', 'srcip', '--hashlimit-srcmask', '24'];
    const m = matcher([...args, '--hashlimit-htable-expire', '10000']);
    const r = [m.test(k, udp()), m.test(k, udp({ src: '10.9.0.77' })), m.test(k, udp({ src: '10.9.0.99' })), m.test(k, udp({ src: '10.9.1.1' }))];
    assert.deepEqual(r, [false, false, true, false]);
    // one second refills one packet's credit
    k.t += SEC;
    assert.deepEqual([m.test(k, udp()), m.test(k, udp())], [false, true]);
    // with the default expiry (one period) the idle bucket is collected after a second: a full burst again
    const k2 = fakeKernel();
    const short = matcher(args);
    assert.deepEqual([short.test(k2, udp()), short.test(k2, udp()), short.test(k2, udp())], [false, false, true]);
    k2.t += SEC;
    assert.deepEqual([short.test(k2, udp()), short.test(k2, udp()), short.test(k2, udp())], [false, false, true]);
  });
  it('rules naming one table share it, with the first rule’s configuration', () => {
    const k = fakeKernel();
    const m1 = matcher(['-m', 'hashlimit', '--hashlimit-name', 'S', '--hashlimit-upto', '1/min', '--hashlimit-burst', '2']);
    const m2 = matcher(['-m', 'hashlimit', '--hashlimit-name', 'S', '--hashlimit-upto', '100/sec', '--hashlimit-burst', '50']);
    assert.deepEqual([m1.test(k, udp()), m2.test(k, udp()), m2.test(k, udp()), m1.test(k, udp())], [true, true, false, false]);
  });
  it('idle entries expire and the garbage collection removes them on its interval', () => {
    const k = fakeKernel();
    const m = matcher(['-m', 'hashlimit', '--hashlimit-name', 'G', '--hashlimit-upto', '1/hour', '--hashlimit-burst', '1', '--hashlimit-htable-expire', '2000', '--hashlimit-htable-gcinterval', '1000']);
    const t0 = k.t;
    assert.equal(m.test(k, udp()), true);
    // expired at +2 s, but the collections run at +1 s, +2 s, +3 s ...
    k.t = t0 + 1500 * 1e6;
    assert.equal(m.test(k, udp()), false);
    k.t = t0 + 3400 * 1e6;
    // credit: 850 jiffies of refill (a failed packet keeps what it found), cap = cost = 3600 s of credit
    assert.equal(
      hashlimitProcText(k.shared, 'G', 'ipv4', k.jiffies()),
      '0 0.0.0.0:0->0.0.0.0:0 467292441804800 494780230800000000 494780230800000000\n',
    );
    k.t = t0 + 5000 * 1e6;
    assert.equal(hashlimitProcText(k.shared, 'G', 'ipv4', k.jiffies()), '');
    assert.equal(m.test(k, udp()), true);
  });
  it('byte mode: cost per 16-byte chunk, the burst refills the bucket', () => {
    const k = fakeKernel();
    const m = matcher(['-m', 'hashlimit', '--hashlimit-name', 'B', '--hashlimit-upto', '1kb/s', '--hashlimit-burst', '2kb']);
    const r: (boolean | string)[] = [];
    for (let i = 0; i < 5; i++) r.push(m.test(k, udp({ payload: 500 })));
    assert.deepEqual(r, [true, true, true, false, false]);
  });
  it('rate-match: counts within the interval, and a busy interval blocks the next one', () => {
    const k = fakeKernel();
    const m = matcher(['-m', 'hashlimit', '--hashlimit-name', 'R', '--hashlimit-upto', '3/sec', '--hashlimit-rate-match', '--hashlimit-htable-expire', '10000']);
    const r: (boolean | string)[] = [];
    for (let i = 0; i < 10; i++) r.push(m.test(k, udp()));
    assert.deepEqual(r, [true, true, true, true, true, true, true, true, false, false]);
    k.t += SEC;
    assert.equal(m.test(k, udp()), false);
    k.t += SEC;
    assert.equal(m.test(k, udp()), true);
  });
  it('the tables survive JSON and structured cloning', () => {
    const k = fakeKernel();
    const m = matcher(['-m', 'hashlimit', '--hashlimit-name', 'J', '--hashlimit-upto', '1/hour', '--hashlimit-burst', '2', '--hashlimit-mode', 'srcip']);
    assert.deepEqual([m.test(k, udp()), m.test(k, udp({ src: '10.9.0.3' }))], [true, true]);
    const before = hashlimitProcText(k.shared, 'J', 'ipv4', k.jiffies());
    k.shared = JSON.parse(JSON.stringify(k.shared));
    assert.equal(hashlimitProcText(k.shared, 'J', 'ipv4', k.jiffies()), before);
    assert.deepEqual([m.test(k, udp()), m.test(k, udp())], [true, false]);
    k.shared = structuredClone(k.shared);
    assert.deepEqual([m.test(k, udp({ src: '10.9.0.3' })), m.test(k, udp({ src: '10.9.0.3' }))], [true, false]);
  });
  it('a full table drops new keys with a kernel log line', () => {
    const k = fakeKernel();
    const m = matcher(['-m', 'hashlimit', '--hashlimit-name', 'F', '--hashlimit-upto', '1/sec', '--hashlimit-mode', 'srcip', '--hashlimit-htable-size', '2', '--hashlimit-htable-max', '2']);
    assert.deepEqual([m.test(k, udp()), m.test(k, udp({ src: '10.9.0.3' })), m.test(k, udp({ src: '10.9.0.4' }))], [true, true, 'hotdrop']);
    assert.deepEqual(k.log, ['xt_hashlimit: max count of 2 reached']);
  });
});

describe('recent', () => {
  it('--set and --rcheck --hitcount; /proc/net/xt_recent as the kernel prints it', () => {
    const k = fakeKernel();
    const set = matcher(['-m', 'recent', '--name', 'T1', '--set']);
    const check = matcher(['-m', 'recent', '--name', 'T1', '--rcheck', '--hitcount', '3']);
    const r: boolean[] = [];
    const send = (d: Uint8Array) => {
      assert.equal(set.test(k, d), true);
      r.push(check.test(k, d) as boolean);
    };
    for (let i = 0; i < 5; i++) send(udp());
    for (let i = 0; i < 2; i++) send(udp({ src: '10.9.0.3', ttl: 9 }));
    assert.deepEqual(r, [false, false, true, true, true, false, false]);
    const j = k.jiffies();
    assert.equal(
      recentProcText(k.shared, 'T1'),
      `src=10.9.0.2 ttl: 64 last_seen: ${j} oldest_pkt: 5 ${j}, ${j}, ${j}, ${j}, ${j}\n` +
        `src=10.9.0.3 ttl: 9 last_seen: ${j} oldest_pkt: 2 ${j}, ${j}\n`,
    );
    assert.equal(j, INITIAL_JIFFIES + 250);
  });
  it('--update --seconds renews only hits inside the window; ! inverts', () => {
    const k = fakeKernel();
    const set = matcher(['-m', 'recent', '--name', 'U', '--set']);
    const upd = matcher(['-m', 'recent', '--name', 'U', '--update', '--seconds', '10', '--hitcount', '2']);
    assert.equal(upd.test(k, udp()), false);
    set.test(k, udp());
    assert.equal(upd.test(k, udp()), false);
    k.t += 5 * SEC;
    set.test(k, udp());
    assert.equal(upd.test(k, udp()), true);
    // the update itself added a sighting: three within 10 s now
    k.t += 8 * SEC;
    assert.equal(upd.test(k, udp()), true);
    k.t += 11 * SEC;
    assert.equal(upd.test(k, udp()), false);
    const notUpd = matcher(['-m', 'recent', '--name', 'U', '!', '--update', '--seconds', '1']);
    assert.equal(notUpd.test(k, udp()), true);
    assert.equal(upd.test(k, udp()), false);
  });
  it('--rttl, --remove, --rdest and --mask', () => {
    const k = fakeKernel();
    matcher(['-m', 'recent', '--name', 'L', '--set', '--mask', '255.255.255.0']).test(k, udp({ ttl: 64 }));
    const ttl = matcher(['-m', 'recent', '--name', 'L', '--rcheck', '--rttl']);
    assert.equal(ttl.test(k, udp({ src: '10.9.0.200', ttl: 64 })), true);
    assert.equal(ttl.test(k, udp({ ttl: 63 })), false);
    // on the way out of a forwarded packet the TTL is the one it arrived with
    assert.equal(ttl.test(k, udp({ ttl: 63 }), {}, { out: 'd1' }), true);
    const rm = matcher(['-m', 'recent', '--name', 'L', '--remove']);
    assert.equal(rm.test(k, udp({ src: '10.9.0.5' })), true);
    assert.equal(rm.test(k, udp()), false);
    assert.equal(recentProcText(k.shared, 'L'), '');
    matcher(['-m', 'recent', '--name', 'D', '--set', '--rdest']).test(k, udp());
    assert.match(recentProcText(k.shared, 'D')!, /^src=10\.9\.0\.1 ttl: 64 /);
  });
  it('--reap drops the least recently seen address once it is out of the window', () => {
    const k = fakeKernel();
    const set = matcher(['-m', 'recent', '--name', 'P', '--set']);
    const reap = matcher(['-m', 'recent', '--name', 'P', '--rcheck', '--seconds', '5', '--reap']);
    set.test(k, udp({ src: '10.9.0.3' }));
    k.t += 10 * SEC;
    set.test(k, udp());
    assert.equal(reap.test(k, udp()), true);
    assert.deepEqual(
      recentProcText(k.shared, 'P')!.split('\n').map((l) => l.split(' ')[0]),
      ['src=10.9.0.2', ''],
    );
  });
  it('ip_list_tot evicts the least recently seen; the stamp ring wraps at 32', () => {
    const k = fakeKernel();
    k.shared[RECENT_PARAMS_SHARED_KEY] = { ipListTot: 2, ipPktListTot: 0 };
    const set = matcher(['-m', 'recent', '--name', 'E', '--set']);
    set.test(k, udp({ src: '10.9.0.3' }));
    set.test(k, udp({ src: '10.9.0.4' }));
    set.test(k, udp({ src: '10.9.0.3' }));
    set.test(k, udp({ src: '10.9.0.5' }));
    assert.deepEqual(
      recentProcText(k.shared, 'E')!.split('\n').map((l) => l.split(' ')[0]),
      ['src=10.9.0.3', 'src=10.9.0.5', ''],
    );
    const w = fakeKernel();
    const s2 = matcher(['-m', 'recent', '--name', 'W', '--set']);
    for (let i = 0; i < 33; i++) {
      s2.test(w, udp());
      w.t += JIFFY;
    }
    const line = recentProcText(w.shared, 'W')!;
    const j0 = INITIAL_JIFFIES + 250;
    assert.ok(line.startsWith(`src=10.9.0.2 ttl: 64 last_seen: ${j0 + 32} oldest_pkt: 1 ${j0 + 32}, ${j0 + 1}, `), line);
    assert.equal(line.split(',').length, 32);
  });
  it('writes to /proc add, refresh, remove and flush', () => {
    const k = fakeKernel();
    matcher(['-m', 'recent', '--name', 'W', '--rcheck']).test(k, udp());
    const j = k.jiffies();
    assert.deepEqual(recentProcWrite(k.shared, 'W', '+10.1.2.3\n', j), {});
    assert.deepEqual(recentProcWrite(k.shared, 'W', '+10.1.2.3\n', j + 1), {});
    assert.equal(recentProcText(k.shared, 'W'), `src=10.1.2.3 ttl: 0 last_seen: ${j + 1} oldest_pkt: 2 ${j}, ${j + 1}\n`);
    assert.deepEqual(recentProcWrite(k.shared, 'W', 'x', j), { errno: 'EINVAL', log: 'xt_recent: Need "+ip", "-ip" or "/"' });
    assert.deepEqual(recentProcWrite(k.shared, 'W', '+10.1.2\n', j), { errno: 'EINVAL', log: 'xt_recent: illegal address written to procfs' });
    assert.deepEqual(recentProcWrite(k.shared, 'W', '-10.1.2.3\n', j), {});
    assert.equal(recentProcText(k.shared, 'W'), '');
    recentProcWrite(k.shared, 'W', '+10.1.2.4', j);
    recentProcWrite(k.shared, 'W', '/', j);
    assert.equal(recentProcText(k.shared, 'W'), '');
  });
});

describe('lists and tables no rule uses any more', () => {
  it('are dropped by the prune functions and made again by a rule that sees a packet', () => {
    const k = fakeKernel();
    const r = matcher(['-m', 'recent', '--name', 'A', '--set']);
    const h = matcher(['-m', 'hashlimit', '--hashlimit-name', 'A', '--hashlimit-upto', '1/hour', '--hashlimit-burst', '1']);
    r.test(k, udp());
    assert.deepEqual([h.test(k, udp()), h.test(k, udp())], [true, false]);
    recentPrune(k.shared, new Set(['B']));
    hashlimitPrune(k.shared, new Set(['ipv4/B']));
    assert.equal(recentProcText(k.shared, 'A'), undefined);
    assert.equal(hashlimitProcText(k.shared, 'A', 'ipv4', k.jiffies()), undefined);
    r.test(k, udp({ src: '10.9.0.3' }));
    assert.match(recentProcText(k.shared, 'A')!, /^src=10\.9\.0\.3 /);
    assert.equal(h.test(k, udp()), true);
  });
});

describe('time', () => {
  // Friday 2024-03-15 13:30:00 UTC
  const friday = 1710509400;
  const at = (wall: number, args: string[], tz?: number) => {
    const k = fakeKernel();
    k.bootWall = wall - k.t / 1e9;
    if (tz !== undefined) k.shared[SYS_TZ_SHARED_KEY] = { minutesWest: tz };
    return matcher(['-m', 'time', ...args]).test(k, udp());
  };
  it('daytime, weekdays, monthdays and dates in UTC', () => {
    assert.equal(at(friday, ['--timestart', '13:00', '--timestop', '14:00']), true);
    assert.equal(at(friday, ['--timestart', '13:31', '--timestop', '14:00']), false);
    assert.equal(at(friday, ['--weekdays', 'Fr']), true);
    assert.equal(at(friday, ['--weekdays', 'Sa,Su']), false);
    assert.equal(at(friday, ['!', '--weekdays', 'Sa,Su']), true);
    assert.equal(at(friday, ['--monthdays', '15']), true);
    assert.equal(at(friday, ['--monthdays', '14,16']), false);
    assert.equal(at(friday, ['--datestart', '2024-03-15T13:30']), true);
    assert.equal(at(friday, ['--datestart', '2024-03-15T13:30:01']), false);
    assert.equal(at(friday, ['--datestop', '2024-03-15T13:29:59']), false);
  });
  it('--kerneltz moves the clock by the kernel time zone', () => {
    assert.equal(at(friday, ['--timestart', '13:00', '--timestop', '14:00', '--kerneltz'], -120), false);
    assert.equal(at(friday, ['--timestart', '15:00', '--timestop', '16:00', '--kerneltz'], -120), true);
    assert.equal(at(friday, ['--timestart', '15:00', '--timestop', '16:00']), false);
  });
  it('a window across midnight; --contiguous counts its morning as the day before', () => {
    const saturday1am = friday + 11.5 * 3600;
    assert.equal(at(saturday1am, ['--timestart', '22:00', '--timestop', '02:00', '--weekdays', 'Fr']), false);
    assert.equal(at(saturday1am, ['--timestart', '22:00', '--timestop', '02:00', '--weekdays', 'Fr', '--contiguous']), true);
    assert.equal(at(saturday1am, ['--timestart', '22:00', '--timestop', '02:00', '--weekdays', 'Sa']), true);
    assert.equal(at(friday, ['--timestart', '22:00', '--timestop', '02:00']), false);
  });
});

describe('quota, statistic, rateest, nfacct', () => {
  it('quota counts down, then refuses even small packets; ! inverts', () => {
    const k = fakeKernel();
    const q = matcher(['-m', 'quota', '--quota', '100']);
    assert.deepEqual([1, 2, 3, 4].map(() => q.test(k, udp())), [true, true, true, false]);
    const inv = matcher(['-m', 'quota', '!', '--quota', '50']);
    assert.deepEqual([1, 2, 3].map(() => inv.test(k, udp())), [false, true, true]);
    const big = matcher(['-m', 'quota', '--quota', '18446744073709551615']);
    assert.equal(big.test(k, udp()), true);
    assert.deepEqual(big.rule.matches[0]!.rt, { remaining: '18446744073709551587' });
    // the stored rule keeps the budget it was given, as iptables-save shows it
    assert.equal(q.rule.matches[0]!.info.quota, '100');
  });
  it('statistic nth steps its counter from every - packet; random compares 31 bits', () => {
    const k = fakeKernel();
    const nth = matcher(['-m', 'statistic', '--mode', 'nth', '--every', '3', '--packet', '1']);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => nth.test(k, udp())), [false, true, false, false, true, false]);
    const rnd = matcher(['-m', 'statistic', '--mode', 'random', '--probability', '0.5']);
    k.randoms.push(0x3fffffff, 0xc0000000, 0x40000000, 0xbfffffff);
    assert.deepEqual([1, 2, 3, 4].map(() => rnd.test(k, udp())), [true, false, false, true]);
    const never = matcher(['-m', 'statistic', '--mode', 'random', '!', '--probability', '0']);
    k.randoms.push(0);
    assert.equal(never.test(k, udp()), true);
  });
  it('rateest reads the estimator the RATEEST rule feeds', () => {
    const k = fakeKernel();
    const est = estimatorFor(k.shared, 'E1', 0, 1, k.jiffies());
    for (let i = 0; i < 10; i++) estimatorCount(est, 100, k.jiffies());
    const gt = matcher(['-m', 'rateest', '--rateest', 'E1', '--rateest-gt', '--rateest-bps', '3000bit']);
    const pps = matcher(['-m', 'rateest', '--rateest', 'E1', '--rateest-eq', '--rateest-pps', '5']);
    assert.equal(gt.test(k, udp()), false);
    // one tick (62 × 4 jiffies): 1000 bytes and 10 packets in a second, halved by ewmalog 1
    k.t += 248 * JIFFY;
    assert.deepEqual([gt.test(k, udp()), pps.test(k, udp())], [true, true]);
    k.t += 248 * JIFFY;
    assert.deepEqual([gt.test(k, udp()), pps.test(k, udp())], [false, false]);
    assert.equal(matcher(['-m', 'rateest', '--rateest', 'none', '--rateest-lt', '--rateest-pps', '1']).test(k, udp()), true);
  });
  it('nfacct counts into its object and matches', () => {
    const k = fakeKernel();
    const def = findMatch('nfacct', 'ipv4')!;
    const ctx = packetCtx(k, udp({ payload: 10 }));
    assert.equal(def.match!({ name: 'web' }, ctx, undefined), true);
    assert.equal(def.match!({ name: 'web' }, ctx, undefined), true);
    assert.deepEqual(k.shared[NFACCT_SHARED_KEY], { web: { pkts: 2, bytes: 76 } });
  });
});

/** A burst of identical packets, sent back to back. */
function burst(n: number, data: Uint8Array, pauseAfterSec = 0): RealPacket[] {
  const out: RealPacket[] = [];
  for (let i = 0; i < n; i++) out.push({ data, pauseSec: i === n - 1 ? pauseAfterSec : 0 });
  return out;
}

/**
 * Differential checks: the same rules and packets on the real kernel (in
 * private namespaces, packets sent back to back from a peer) and in the
 * model (same order; pauses become virtual gaps). Outcomes were chosen not
 * to depend on a few milliseconds of timing.
 */
describe('against the real kernel', { skip: !canRunKernel() && 'needs root, ip and /usr/bin/python3' }, () => {
  const same = (rules: string[][], packets: RealPacket[], files: string[] = []) => {
    const real = kernelRun(rules, packets, files);
    const model = modelRun(rules, timed(packets));
    assert.deepEqual(model.counters, real.counters);
    return { real, model };
  };
  it('limit: bursts and refills', () => {
    same(
      [
        ['-i', 'd0', '-p', 'udp', '--dport', '9', '-m', 'limit', '--limit', '2/min', '--limit-burst', '4', '-j', 'ACCEPT'],
        ['-i', 'd0', '-p', 'udp', '--dport', '10', '-m', 'limit', '--limit', '4/sec', '--limit-burst', '2', '-j', 'ACCEPT'],
        ['-i', 'd0', '-p', 'udp'],
      ],
      [...burst(12, udp()), ...burst(5, udp({ dport: 10 }), 0.4), ...burst(4, udp({ dport: 10 }))],
    );
  });
  it('quota: counts down and the rule keeps its budget', () => {
    const { real } = same(
      [
        ['-i', 'd0', '-p', 'udp', '-m', 'quota', '--quota', '100'],
        ['-i', 'd0', '-p', 'udp', '-m', 'quota', '!', '--quota', '50'],
      ],
      burst(6, udp()),
    );
    assert.match(real.saveLines[0]!, / -m quota --quota 100$/);
  });
  it('hashlimit: per-source buckets, above, byte mode', () => {
    const { real, model } = same(
      [
        ['-i', 'd0', '-p', 'udp', '--dport', '9', '-m', 'hashlimit', '--hashlimit-name', 'H1', '--hashlimit-upto', '2/min', '--hashlimit-burst', '3', '--hashlimit-mode', 'srcip,dstport', '-j', 'ACCEPT'],
        ['-i', 'd0', '-p', 'udp', '--dport', '10', '-m', 'hashlimit', '--hashlimit-name', 'H2', '--hashlimit-above', '1/sec', '--hashlimit-burst', '2', '--hashlimit-mode', 'dstport', '-j', 'DROP'],
        ['-i', 'd0', '-p', 'udp', '--dport', '11', '-m', 'hashlimit', '--hashlimit-name', 'H3', '--hashlimit-upto', '1kb/s', '--hashlimit-burst', '2kb', '-j', 'ACCEPT'],
        ['-i', 'd0', '-p', 'udp'],
      ],
      [
        ...burst(5, udp()),
        ...burst(2, udp({ src: '10.9.0.3' })),
        ...burst(5, udp({ dport: 10 })),
        ...burst(5, udp({ dport: 11, payload: 500 })),
      ],
      ['/proc/net/ipt_hashlimit/H1'],
    );
    // keys, seconds left and the bucket sizes agree; credits depend on the time of reading
    const cols = (text: string) =>
      text
        .trim()
        .split('\n')
        .map((l) => l.split(' ').filter((_, i) => i !== 2).join(' '))
        .sort();
    const now = model.kernel.jiffies() + 2;
    assert.deepEqual(cols(real.files['/proc/net/ipt_hashlimit/H1']!), cols(hashlimitProcText(model.kernel.shared, 'H1', 'ipv4', now)!));
  });
  it('recent: set, rcheck with hitcount, update, remove, rttl; /proc/net/xt_recent', () => {
    const { real, model } = same(
      [
        ['-i', 'd0', '-p', 'udp', '--dport', '9', '-m', 'recent', '--name', 'T1', '--set'],
        ['-i', 'd0', '-p', 'udp', '--dport', '9', '-m', 'recent', '--name', 'T1', '--rcheck', '--hitcount', '3'],
        ['-i', 'd0', '-p', 'udp', '--dport', '10', '-m', 'recent', '--name', 'T1', '--update', '--seconds', '60', '--rttl'],
        ['-i', 'd0', '-p', 'udp', '--dport', '11', '-m', 'recent', '--name', 'T1', '--remove'],
        ['-i', 'd0', '-p', 'udp', '-m', 'recent', '--name', 'T2', '--set', '--mask', '255.255.255.0', '--rdest'],
      ],
      [
        ...burst(5, udp()),
        ...burst(2, udp({ src: '10.9.0.3', ttl: 9 })),
        ...burst(2, udp({ dport: 10, ttl: 9 })),
        ...burst(2, udp({ dport: 10, src: '10.9.0.3', ttl: 9 })),
        ...burst(1, udp({ dport: 11, src: '10.9.0.4' })),
        ...burst(1, udp({ dport: 11, src: '10.9.0.3' })),
      ],
      ['/proc/net/xt_recent/T1', '/proc/net/xt_recent/T2'],
    );
    // everything happened within a jiffy or two: compare with the stamps blanked out
    const shape = (text: string) => text.replace(/\d{7,}/g, 'J');
    assert.equal(shape(real.files['/proc/net/xt_recent/T1']!), shape(recentProcText(model.kernel.shared, 'T1')!));
    assert.equal(shape(real.files['/proc/net/xt_recent/T2']!), shape(recentProcText(model.kernel.shared, 'T2')!));
  });
  it('the raw table before connection tracking: INVALID, then a CT template as the connection', () => {
    const rules = [
      ['-p', 'udp', '-m', 'state', '--state', 'INVALID'],
      ['-p', 'udp', '--dport', '9', '-j', 'CT', '--zone', '5'],
      ['-p', 'udp', '-m', 'state', '--state', 'NEW'],
      ['-p', 'udp', '-m', 'conntrack', '--ctstatus', 'NONE'],
      ['-p', 'udp', '-m', 'conntrack', '!', '--ctstatus', 'NONE'],
      ['-p', 'udp', '-m', 'connbytes', '--connbytes', '0:', '--connbytes-dir', 'both', '--connbytes-mode', 'packets'],
      ['-p', 'udp', '-m', 'connlabel', '!', '--label', '3'],
      ['-p', 'udp', '-m', 'connmark', '--mark', '0'],
    ];
    const packets: RealPacket[] = [{ data: udp({ dport: 9 }) }, { data: udp({ dport: 10 }) }];
    const where = { table: 'raw', chain: 'PREROUTING' } as const;
    const real = kernelRun(rules, packets, [], where);
    assert.deepEqual(real.counters.map((c) => c[0]), [2, 1, 1, 0, 1, 0, 2, 1]);
    assert.deepEqual(modelRun(rules, timed(packets), undefined, where).counters, real.counters);
  });
  it('statistic nth', () => {
    same(
      [
        ['-i', 'd0', '-p', 'udp', '-m', 'statistic', '--mode', 'nth', '--every', '3', '--packet', '1'],
        ['-i', 'd0', '-p', 'udp', '-m', 'statistic', '--mode', 'nth', '!', '--every', '4', '--packet', '0'],
      ],
      burst(10, udp()),
    );
  });
});
