/**
 * The kernel halves of the targets MARK, CONNMARK, CT, NOTRACK, TRACE and
 * SET. Unit tests apply rules parsed by the real command-line code to
 * packets and connections built by hand; the differential part checks the
 * same rule sequences on the real kernel, reading the results through
 * conntrack -L and mark-matching counter rules.
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { findTarget } from '../src/core/xt/registry.js';
import { XT_CONTINUE } from '../src/core/xt/verdict.js';
import { CtInfo } from '../src/core/path/skb.js';
import type { Conn } from '../src/core/conntrack/types.js';
import { ctTemplateOf } from '../src/core/xt/target/ct-template.js';
import { IPS } from '../src/core/conntrack/types.js';
import {
  canRunKernel,
  conn,
  fakeKernel,
  kernelRunCommands,
  packetCtx,
  ruleFrom,
  tuple,
  udp,
  withConn,
  type FakeKernel,
} from './kernel-ext-util.js';
import type { PacketContext } from '../src/core/xt/packet.js';

/** Applies the targets of rules (built from "-t TABLE -A CHAIN"-less words) to one packet, in order. */
function apply(ctx: PacketContext, table: string, chain: string, ...rules: string[][]): number[] {
  return rules.map((args) => {
    const r = ruleFrom(args, table, chain);
    assert.equal(r.target.kind, 'ext');
    const t = r.target as { name: string; info: any; rt?: any };
    const def = findTarget(t.name, 'ipv4')!;
    assert.ok(def.target, `${t.name} has a kernel half`);
    if (def.runtime && t.rt === undefined) t.rt = def.runtime(t.info);
    return def.target!(t.info, ctx, t.rt);
  });
}

const flow = () => conn(tuple('10.9.0.2', '10.9.0.1', 17, 1000, 9));

describe('MARK', () => {
  it('clears the mask bits, then XORs the value, for every form', () => {
    const k = fakeKernel();
    const mark = (args: string[]) => {
      const ctx = packetCtx(k, udp(), { skb: { mark: 0xab } });
      assert.deepEqual(apply(ctx, 'mangle', 'PREROUTING', ['-j', 'MARK', ...args]), [XT_CONTINUE]);
      return ctx.skb.mark;
    };
    assert.equal(mark(['--set-xmark', '0x5/0xf']), 0xa5);
    assert.equal(mark(['--set-mark', '0x5/0xf']), 0xa5);
    assert.equal(mark(['--set-mark', '0x5']), 0x5);
    assert.equal(mark(['--and-mark', '0xf0']), 0xa0);
    assert.equal(mark(['--or-mark', '0x100']), 0x1ab);
    assert.equal(mark(['--xor-mark', '0xff']), 0x54);
    assert.equal(mark(['--set-xmark', '0xffffffff/0x0']), 0xffffff54);
  });
});

describe('CONNMARK', () => {
  const k = fakeKernel();
  it('sets the connection mark, with an optional shift', () => {
    const c = flow();
    c.mark = 0x1ff;
    const ctx = packetCtx(k, udp(), { skb: withConn(c, CtInfo.NEW) });
    apply(ctx, 'mangle', 'PREROUTING', ['-j', 'CONNMARK', '--set-xmark', '0x5/0xf']);
    assert.equal(c.mark, 0x1f5);
    apply(ctx, 'mangle', 'PREROUTING', ['-j', 'CONNMARK', '--set-mark', '0x2/0xff', '--left-shift-mark', '4']);
    assert.equal(c.mark, 0x1020);
    apply(ctx, 'mangle', 'PREROUTING', ['-j', 'CONNMARK', '--or-mark', '0x80000000']);
    assert.equal(c.mark, 0x80001020);
    apply(ctx, 'mangle', 'PREROUTING', ['-j', 'CONNMARK', '--xor-mark', '0x1', '--right-shift-mark', '31']);
    assert.equal(c.mark, 1);
  });
  it('saves the packet mark and restores it, under masks and shifts', () => {
    const c = flow();
    const ctx = packetCtx(k, udp(), { skb: { ...withConn(c, CtInfo.NEW), mark: 0x1234 } });
    apply(ctx, 'mangle', 'PREROUTING', ['-j', 'CONNMARK', '--save-mark', '--nfmask', '0xff00', '--ctmask', '0xff', '--right-shift-mark', '8']);
    assert.equal(c.mark, 0x12);
    apply(ctx, 'mangle', 'PREROUTING', ['-j', 'CONNMARK', '--save-mark']);
    assert.equal(c.mark, 0x1234);
    c.mark = 0x5;
    ctx.skb.mark = 0xab;
    apply(ctx, 'mangle', 'PREROUTING', ['-j', 'CONNMARK', '--restore-mark', '--ctmask', '0xff', '--nfmask', '0xf0', '--left-shift-mark', '4']);
    assert.equal(ctx.skb.mark, 0x5b);
    apply(ctx, 'mangle', 'PREROUTING', ['-j', 'CONNMARK', '--restore-mark', '--mask', '0xf']);
    assert.equal(ctx.skb.mark, 0x55);
    assert.equal(c.mark, 0x5);
  });
  it('does nothing to a packet without a connection', () => {
    const ctx = packetCtx(k, udp(), { skb: { mark: 7 } });
    assert.deepEqual(apply(ctx, 'mangle', 'PREROUTING', ['-j', 'CONNMARK', '--restore-mark'], ['-j', 'CONNMARK', '--set-mark', '1']), [
      XT_CONTINUE,
      XT_CONTINUE,
    ]);
    assert.equal(ctx.skb.mark, 7);
  });
});

describe('CT and NOTRACK', () => {
  const k = fakeKernel();
  it('--notrack and NOTRACK mark the packet untracked', () => {
    for (const args of [['-j', 'CT', '--notrack'], ['-j', 'NOTRACK']]) {
      const ctx = packetCtx(k, udp(), { hook: 'PREROUTING', table: 'raw' });
      assert.deepEqual(apply(ctx, 'raw', 'PREROUTING', args), [XT_CONTINUE]);
      assert.equal(ctx.skb.untracked, true);
      assert.equal(ctx.skb.ctinfo, CtInfo.NONE);
      assert.equal(ctTemplateOf(ctx.skb), null);
    }
  });
  it('other CT rules attach a template where the connection goes: zone, zone from the mark, helper, events', () => {
    const ctx = packetCtx(k, udp(), { hook: 'PREROUTING', table: 'raw' });
    apply(ctx, 'raw', 'PREROUTING', ['-p', 'udp', '-j', 'CT', '--zone', '5', '--helper', 'tftp', '--ctevents', 'new,destroy']);
    const t = ctTemplateOf(ctx.skb)!;
    assert.equal(ctx.skb.ct, t);
    assert.equal(ctx.skb.ctinfo, CtInfo.NEW);
    assert.deepEqual(
      [t.status, t.zone, t.zoneDir, t.helper, t.timeout, t.ctEvents, t.expEvents],
      [IPS.TEMPLATE, 5, 3, 'tftp', '', 0b101, 0],
    );
    assert.equal(ctx.skb.untracked, false);
    const m = packetCtx(k, udp(), { hook: 'PREROUTING', table: 'raw', skb: { mark: 0x10007 } });
    apply(m, 'raw', 'PREROUTING', ['-j', 'CT', '--zone-orig', 'mark']);
    assert.deepEqual([ctTemplateOf(m.skb)!.zone, ctTemplateOf(m.skb)!.zoneDir], [7, 1]);
    // a later packet with another mark gets its own zone
    const m2 = packetCtx(k, udp(), { hook: 'PREROUTING', table: 'raw', skb: { mark: 0x2 } });
    apply(m2, 'raw', 'PREROUTING', ['-j', 'CT', '--zone-orig', 'mark']);
    assert.equal(ctTemplateOf(m2.skb)!.zone, 2);
  });
  it('the first CT rule wins; a packet with a connection is left alone', () => {
    const ctx = packetCtx(k, udp(), { hook: 'PREROUTING', table: 'raw' });
    apply(ctx, 'raw', 'PREROUTING', ['-j', 'NOTRACK'], ['-j', 'CT', '--zone', '3']);
    assert.equal(ctTemplateOf(ctx.skb), null);
    const z = packetCtx(k, udp(), { hook: 'PREROUTING', table: 'raw' });
    apply(z, 'raw', 'PREROUTING', ['-j', 'CT', '--zone', '9'], ['-j', 'CT', '--notrack'], ['-j', 'CT', '--zone', '3']);
    assert.equal(ctTemplateOf(z.skb)!.zone, 9);
    assert.equal(z.skb.untracked, false);
    const c: Conn = flow();
    const seen = packetCtx(k, udp(), { hook: 'OUTPUT', table: 'raw', skb: withConn(c, CtInfo.NEW) });
    apply(seen, 'raw', 'OUTPUT', ['-j', 'CT', '--notrack']);
    assert.equal(seen.skb.untracked, false);
    assert.equal(seen.skb.ct, c);
  });
});

describe('TRACE and SET', () => {
  it('TRACE marks the packet traced and goes on', () => {
    const k = fakeKernel();
    const ctx = packetCtx(k, udp(), { hook: 'PREROUTING', table: 'raw' });
    assert.deepEqual(apply(ctx, 'raw', 'PREROUTING', ['-j', 'TRACE']), [XT_CONTINUE]);
    assert.equal(ctx.skb.trace, true);
  });
  it('SET changes nothing without ipsets and goes on', () => {
    const k: FakeKernel = fakeKernel();
    const ctx = packetCtx(k, udp(), { skb: { mark: 3 } });
    const def = findTarget('SET', 'ipv4')!;
    const info = def.init();
    assert.equal(def.target!(info, ctx, undefined), XT_CONTINUE);
    assert.equal(ctx.skb.mark, 3);
  });
});

/**
 * The same sequences on the real kernel: marks are read back through
 * "-m mark" counter rules in filter INPUT and through conntrack -L (mark,
 * zone), untracked packets through "-m state --state UNTRACKED".
 */
describe('against the real kernel', { skip: !canRunKernel() && 'needs root, ip and /usr/bin/python3' }, () => {
  it('MARK forms, CONNMARK save/restore with shifts, CT zones, NOTRACK', () => {
    const r = kernelRunCommands(
      [
        ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '-j', 'MARK', '--set-mark', '0xab'],
        ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '--dport', '1', '-j', 'MARK', '--set-xmark', '0x5/0xf'],
        ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '--dport', '2', '-j', 'MARK', '--and-mark', '0xf0'],
        ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '--dport', '3', '-j', 'MARK', '--xor-mark', '0xff'],
        ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '--dport', '12', '-j', 'MARK', '--set-mark', '0x1234'],
        ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '--dport', '12', '-j', 'CONNMARK', '--save-mark', '--nfmask', '0xff00', '--ctmask', '0xff', '--right-shift-mark', '8'],
        ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '--dport', '13', '-j', 'CONNMARK', '--set-xmark', '0x5/0xf'],
        ['-t', 'mangle', '-A', 'PREROUTING', '-p', 'udp', '--dport', '13', '-j', 'CONNMARK', '--restore-mark', '--ctmask', '0xff', '--nfmask', '0xf0', '--left-shift-mark', '4'],
        ['-t', 'raw', '-A', 'PREROUTING', '-p', 'udp', '--dport', '9', '-j', 'CT', '--zone', '5'],
        ['-t', 'raw', '-A', 'PREROUTING', '-p', 'udp', '--dport', '10', '-j', 'MARK', '--set-mark', '0x10007'],
        ['-t', 'raw', '-A', 'PREROUTING', '-p', 'udp', '--dport', '10', '-j', 'CT', '--zone-orig', 'mark'],
        ['-t', 'raw', '-A', 'PREROUTING', '-p', 'udp', '--dport', '10', '-j', 'CT', '--zone', '9'],
        ['-t', 'raw', '-A', 'PREROUTING', '-p', 'udp', '--dport', '11', '-j', 'NOTRACK'],
        ['-t', 'raw', '-A', 'PREROUTING', '-p', 'udp', '--dport', '11', '-j', 'CT', '--zone', '3'],
        ['-A', 'INPUT', '-p', 'udp', '--dport', '1', '-m', 'mark', '--mark', '0xa5'],
        ['-A', 'INPUT', '-p', 'udp', '--dport', '2', '-m', 'mark', '--mark', '0xa0'],
        ['-A', 'INPUT', '-p', 'udp', '--dport', '3', '-m', 'mark', '--mark', '0x54'],
        ['-A', 'INPUT', '-p', 'udp', '--dport', '13', '-m', 'mark', '--mark', '0x5b'],
        ['-A', 'INPUT', '-p', 'udp', '--dport', '11', '-m', 'state', '--state', 'UNTRACKED'],
      ],
      [1, 2, 3, 9, 10, 11, 12, 13].map((dport) => ({ data: udp({ dport }) })),
      [['conntrack', '-L']],
    );
    // every mark and state the unit tests compute was seen by the kernel
    assert.deepEqual(r.counters, [
      [1, 28],
      [1, 28],
      [1, 28],
      [1, 28],
      [1, 28],
    ]);
    const flows = r.outputs[0]!
      .split('\n')
      .filter((l) => l.startsWith('udp'))
      .map((l) => {
        const dport = / dport=(\d+) /.exec(l)![1];
        const zone = / (zone(?:-orig)?=\d+) /.exec(l)?.[1] ?? '';
        const mark = / mark=(\d+) /.exec(l)![1];
        return `${dport} ${zone} mark=${mark}`;
      })
      .sort();
    assert.deepEqual(flows, ['1  mark=0', '10 zone-orig=7 mark=0', '12  mark=18', '13  mark=5', '2  mark=0', '3  mark=0', '9 zone=5 mark=0']);
    // the model gives the same marks and zones for the same rule sequences
    const k = fakeKernel();
    const c12 = flow();
    const p12 = packetCtx(k, udp({ dport: 12 }), { skb: withConn(c12, CtInfo.NEW) });
    apply(p12, 'mangle', 'PREROUTING', ['-j', 'MARK', '--set-mark', '0x1234'], ['-j', 'CONNMARK', '--save-mark', '--nfmask', '0xff00', '--ctmask', '0xff', '--right-shift-mark', '8']);
    assert.equal(c12.mark, 18);
    const c13 = flow();
    const p13 = packetCtx(k, udp({ dport: 13 }), { skb: { ...withConn(c13, CtInfo.NEW), mark: 0xab } });
    apply(p13, 'mangle', 'PREROUTING', ['-j', 'CONNMARK', '--set-xmark', '0x5/0xf'], ['-j', 'CONNMARK', '--restore-mark', '--ctmask', '0xff', '--nfmask', '0xf0', '--left-shift-mark', '4']);
    assert.deepEqual([c13.mark, p13.skb.mark], [5, 0x5b]);
    const p10 = packetCtx(k, udp({ dport: 10 }), { hook: 'PREROUTING', table: 'raw' });
    apply(p10, 'raw', 'PREROUTING', ['-j', 'MARK', '--set-mark', '0x10007'], ['-j', 'CT', '--zone-orig', 'mark'], ['-j', 'CT', '--zone', '9']);
    assert.deepEqual([ctTemplateOf(p10.skb)!.zone, ctTemplateOf(p10.skb)!.zoneDir], [7, 1]);
    const p11 = packetCtx(k, udp({ dport: 11 }), { hook: 'PREROUTING', table: 'raw' });
    apply(p11, 'raw', 'PREROUTING', ['-j', 'NOTRACK'], ['-j', 'CT', '--zone', '3']);
    assert.deepEqual([p11.skb.untracked, ctTemplateOf(p11.skb)], [true, null]);
  });
});
