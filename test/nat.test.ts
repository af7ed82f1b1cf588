/**
 * Unit tests of NAT (src/core/conntrack/nat*.ts) and the NAT targets'
 * kernel halves, on connections and packets built by hand. The expected
 * addresses, ports, ids and packet bytes were measured on the real kernel
 * (Linux 6.18, iptables 1.8.9 nft) in network namespaces: a router between
 * 10.0.0.0/24 (eth0, 10.0.0.1) and 192.168.1.0/24 (eth1, 192.168.1.1),
 * frames injected from the peers and captured on the other side.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { jhashAddr, leWord, pickAddress, reciprocalScale } from '../src/core/conntrack/nat-hash.js';
import { csumReplace2, csumReplace4, manipIpv4 } from '../src/core/conntrack/nat-manip.js';
import { natForgetMasqueraded } from '../src/core/conntrack/nat-masq.js';
import { natHook, natNullBinding, natPacket, natRerouteNeeded, natSetupInfo, type NatConn } from '../src/core/conntrack/nat.js';
import { ConntrackTable } from '../src/core/conntrack/table.js';
import { IPS, type Conn, type Tuple } from '../src/core/conntrack/types.js';
import { selectSourceAddress } from '../src/core/net/fib.js';
import type { Inet4Addr, NetState } from '../src/core/net/types.js';
import type { Hook } from '../src/core/netfilter/tables.js';
import { CtInfo, newSkb, type Skb } from '../src/core/path/skb.js';
import { fillIpv4Checksums, verifyIpv4Checksum, verifyTcpChecksum, verifyUdpChecksum } from '../src/core/wire/checksum.js';
import type { KernelServices, PacketContext } from '../src/core/xt/packet.js';
import { DNAT } from '../src/core/xt/target/DNAT.js';
import { MASQUERADE } from '../src/core/xt/target/MASQUERADE.js';
import { NAT_FLAG, type NatRange } from '../src/core/xt/target/nat-range.js';
import { NETMAP } from '../src/core/xt/target/NETMAP.js';
import { REDIRECT } from '../src/core/xt/target/REDIRECT.js';
import { SNAT } from '../src/core/xt/target/SNAT.js';
import { NF_ACCEPT, NF_DROP } from '../src/core/xt/verdict.js';

/** An address in host order. */
function ip(s: string): number {
  return s.split('.').reduce((a, b) => a * 256 + Number(b), 0) >>> 0;
}

function fmt(a: number): string {
  return [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.');
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
}

function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** An IPv4 address of a link. */
function addr(a: string, prefixlen: number, scope = 0, secondary = false): Inet4Addr {
  return { local: ip(a), address: ip(a), prefixlen, broadcast: 0, scope, label: '', secondary };
}

/** The part of a machine's network state NAT reads: links in order with their addresses. */
function netOf(links: [string, Inet4Addr[]][]): NetState {
  return { links: links.map(([name, inet]) => ({ name, inet })), sysctl: {} } as unknown as NetState;
}

/** The links of the router the measurements were made on. */
function routerNet(): NetState {
  return netOf([
    ['lo', [addr('127.0.0.1', 8, 254)]],
    ['eth0', [addr('10.0.0.1', 24)]],
    ['eth1', [addr('192.168.1.1', 24)]],
  ]);
}

/** A machine: a real conntrack table, a scripted random source and a kernel log. */
function machine(randoms: number[] = [], net: NetState = routerNet()): { kernel: KernelServices; table: ConntrackTable; log: string[] } {
  const table = new ConntrackTable(() => 0);
  const log: string[] = [];
  let next = 0;
  const kernel: KernelServices = {
    nowNs: () => 0,
    jiffies: () => 0,
    wallSec: () => 0,
    random32: () => {
      assert.ok(next < randoms.length, 'NAT drew more random numbers than the test provides');
      return randoms[next++]!;
    },
    net,
    shared: {},
    conntrack: table,
    printk: (level, text) => log.push(`<${level}>${text}`),
    sendLocal: () => {},
  };
  return { kernel, table, log };
}

let nextId = 1;

function tuple(src: string, dst: string, proto: number, sport: number, dport: number): Tuple {
  return { src: ip(src), dst: ip(dst), proto, sport, dport };
}

/** A new, unconfirmed connection whose first packet has tuple `t`. */
function conn(t: Tuple, l4: any = null): NatConn {
  const reply: Tuple =
    t.proto === 1
      ? { src: t.dst, dst: t.src, proto: 1, sport: t.sport, dport: ((t.dport >>> 8) === 8 ? 0 : 8) << 8 }
      : { src: t.dst, dst: t.src, proto: t.proto, sport: t.dport, dport: t.sport };
  return {
    id: nextId++,
    orig: { ...t },
    reply,
    status: 0,
    expires: 1e15,
    mark: 0,
    secmark: 0,
    zone: 0,
    labels: [0, 0, 0, 0],
    helper: '',
    master: 0,
    l4,
    pkts: [0, 0],
    bytes: [0, 0],
  };
}

/** The reply tuple as conntrack -L prints it. */
function replyText(c: Conn): string {
  const r = c.reply;
  if (r.proto === 1) return `src=${fmt(r.src)} dst=${fmt(r.dst)} type=${r.dport >>> 8} code=${r.dport & 0xff} id=${r.sport}`;
  return `src=${fmt(r.src)} dst=${fmt(r.dst)} sport=${r.sport} dport=${r.dport}`;
}

function range(p: Partial<NatRange>): NatRange {
  return { rangesize: 1, flags: 0, minIp: 0, maxIp: 0, minPort: 0, maxPort: 0, basePort: 0, ...p };
}

/** A range of addresses and optionally ports. */
function to(lo: string, hi = lo, ports?: [number, number], extra = 0): NatRange {
  return range({
    flags: NAT_FLAG.MAP_IPS | (ports ? NAT_FLAG.PROTO_SPECIFIED : 0) | extra,
    minIp: ip(lo),
    maxIp: ip(hi),
    minPort: ports?.[0] ?? 0,
    maxPort: ports?.[1] ?? 0,
  });
}

/** Sets up `manip` for a new connection and confirms it, as its first packet leaving the machine would. */
function bind(table: ConntrackTable, kernel: KernelServices, c: Conn, r: NatRange, manip: 'SRC' | 'DST'): Conn {
  // PREROUTING (destination) comes before POSTROUTING (source).
  if (manip === 'SRC') assert.equal(natNullBinding(kernel, c, 'DST'), NF_ACCEPT);
  assert.equal(natSetupInfo(kernel, c, r, manip), NF_ACCEPT);
  if (manip === 'DST') assert.equal(natNullBinding(kernel, c, 'SRC'), NF_ACCEPT);
  table.insert(c);
  return c;
}

/** A packet context for a target's kernel half. */
function ctx(kernel: KernelServices, skb: Skb, hook: Hook, inIf = '', outIf = ''): PacketContext {
  return { skb, thoff: 20, fragoff: 0, family: 'ipv4', hook, table: 'nat', in: inIf, out: outIf, hotdrop: false, kernel };
}

/** ip_decrease_ttl, as forwarding does after PREROUTING. */
function decTtl(d: Uint8Array): void {
  let check = (d[10]! << 8) | d[11]!;
  check += 0x0100;
  check = (check + (check >= 0xffff ? 1 : 0)) & 0xffff;
  d[10] = check >>> 8;
  d[11] = check & 0xff;
  d[8]!--;
}

/** An IPv4 datagram with correct checksums. */
function datagram(src: string, dst: string, proto: number, l4: number[], ttl = 64): Uint8Array {
  const d = new Uint8Array(20 + l4.length);
  d.set([0x45, 0, 0, d.length >> 8 && 0, 0, 1, 0, 0, ttl, proto]);
  d[2] = d.length >> 8;
  d[3] = d.length & 0xff;
  d.set([...hex(ip(src).toString(16).padStart(8, '0')), ...hex(ip(dst).toString(16).padStart(8, '0'))], 12);
  d.set(l4, 20);
  fillIpv4Checksums(d, 0);
  return d;
}

function udp(sport: number, dport: number, payload: number[]): number[] {
  const len = 8 + payload.length;
  return [sport >> 8, sport & 255, dport >> 8, dport & 255, len >> 8, len & 255, 0, 0, ...payload];
}

function tcp(sport: number, dport: number, seq: number, flags: number, payload: number[] = []): number[] {
  return [sport >> 8, sport & 255, dport >> 8, dport & 255, seq >>> 24, (seq >>> 16) & 255, (seq >>> 8) & 255, seq & 255, 0, 0, 0, 0, 0x50, flags, 0x20, 0, 0, 0, 0, 0, ...payload];
}

describe('address choice from a range (find_best_ips_proto)', () => {
  it('hashes source and destination like the kernel: SNAT --to-source 192.168.1.10-192.168.1.20', () => {
    const got = [2, 3, 4, 5, 6, 7].map((s) => fmt(pickAddress(ip(`10.0.0.${s}`), ip('192.168.1.2'), ip('192.168.1.10'), ip('192.168.1.20'), false, 0)));
    assert.deepEqual(got, ['192.168.1.20', '192.168.1.14', '192.168.1.11', '192.168.1.15', '192.168.1.15', '192.168.1.12']);
  });

  it('--persistent leaves the destination out of the hash', () => {
    for (const d of ['192.168.1.2', '192.168.1.3']) {
      const got = [2, 3, 4, 5, 6, 7].map((s) => fmt(pickAddress(ip(`10.0.0.${s}`), ip(d), ip('192.168.1.10'), ip('192.168.1.20'), true, 0)));
      assert.deepEqual(got, ['192.168.1.20', '192.168.1.19', '192.168.1.12', '192.168.1.19', '192.168.1.10', '192.168.1.10']);
    }
  });

  it('a single address and the whole address space', () => {
    assert.equal(pickAddress(1, 2, ip('1.2.3.4'), ip('1.2.3.4'), false, 0), ip('1.2.3.4'));
    // The distance wraps to zero: the range's first address.
    assert.equal(pickAddress(ip('10.0.0.2'), ip('192.168.1.2'), 0, 0xffffffff, false, 0), 0);
  });

  it('the hash and the scaling are exact 32-bit arithmetic', () => {
    assert.equal(leWord(ip('10.0.0.2')), 0x0200000a);
    // Values of an independent lookup3 implementation.
    assert.equal(jhashAddr(leWord(ip('10.0.0.2')), leWord(ip('192.168.1.2'))), 0xf43da24c);
    assert.equal(jhashAddr(0, 0), 0xbaf9078c);
    assert.equal(reciprocalScale(0xffffffff, 11), 10);
    assert.equal(reciprocalScale(0x80000000, 11), 5);
    assert.equal(reciprocalScale(0xffffffff, 0), 0);
  });
});

describe('natSetupInfo', () => {
  it('DNAT to a port range: the first free port from the range start (measured)', () => {
    const { kernel, table } = machine();
    const r = to('192.168.1.2', '192.168.1.2', [8000, 8010]);
    const got = [80, 81, 82, 8000, 8001, 8005].map((dp) => {
      const c = bind(table, kernel, conn(tuple('10.0.0.2', '192.168.1.3', 6, 40000, dp)), r, 'DST');
      assert.equal(c.status & (IPS.DST_NAT | IPS.DST_NAT_DONE | IPS.SRC_NAT_DONE), IPS.DST_NAT | IPS.DST_NAT_DONE | IPS.SRC_NAT_DONE);
      return replyText(c);
    });
    assert.deepEqual(got, [
      'src=192.168.1.2 dst=10.0.0.2 sport=8000 dport=40000',
      'src=192.168.1.2 dst=10.0.0.2 sport=8001 dport=40000',
      'src=192.168.1.2 dst=10.0.0.2 sport=8002 dport=40000',
      'src=192.168.1.2 dst=10.0.0.2 sport=8003 dport=40000',
      'src=192.168.1.2 dst=10.0.0.2 sport=8004 dport=40000',
      'src=192.168.1.2 dst=10.0.0.2 sport=8005 dport=40000',
    ]);
  });

  it('a shifted port map 8000-8010/1000 maps by offset from the base port (measured)', () => {
    const { kernel, table } = machine();
    const r = to('192.168.1.2', '192.168.1.2', [8000, 8010], NAT_FLAG.PROTO_OFFSET);
    r.basePort = 1000;
    const got = [1005, 999, 1011, 2000].map((dp) => bind(table, kernel, conn(tuple('10.0.0.2', '192.168.1.3', 6, 40000, dp)), r, 'DST').reply.sport);
    assert.deepEqual(got, [8005, 8008, 8000, 8010]);
  });

  it('DNAT of pings: a clashing echo id becomes the first free id from 0 (measured)', () => {
    const { kernel, table } = machine();
    const r = to('192.168.1.2');
    const got = [
      ['192.168.1.5', 77],
      ['192.168.1.6', 77],
      ['192.168.1.7', 77],
      ['192.168.1.8', 1],
    ].map(([d, id]) => replyText(bind(table, kernel, conn(tuple('10.0.0.2', d as string, 1, id as number, 8 << 8)), r, 'DST')));
    assert.deepEqual(got, [
      'src=192.168.1.2 dst=10.0.0.2 type=0 code=0 id=77',
      'src=192.168.1.2 dst=10.0.0.2 type=0 code=0 id=0',
      'src=192.168.1.2 dst=10.0.0.2 type=0 code=0 id=1',
      'src=192.168.1.2 dst=10.0.0.2 type=0 code=0 id=2',
    ]);
  });

  it('SNAT to an address range: hashed address, kept port, an earlier mapping of the same source reused (measured)', () => {
    // The clash of 10.0.0.6 (same address and port as 10.0.0.5) draws one random number.
    const { kernel, table } = machine([0x12345678]);
    const r = to('192.168.1.10', '192.168.1.20');
    const got: string[] = [];
    for (let s = 2; s < 8; s++) {
      for (let d = 2; d < 8; d++) {
        const c = bind(table, kernel, conn(tuple(`10.0.0.${s}`, `192.168.1.${d}`, 17, 5000, 53)), r, 'SRC');
        if (d === 2 || s === 6) got.push(`${s}/${d} ${fmt(c.reply.dst)}:${c.reply.dport}`);
      }
    }
    const port = 1024 + (0x5678 % (65536 - 1024));
    assert.deepEqual(got, [
      '2/2 192.168.1.20:5000',
      '3/2 192.168.1.14:5000',
      '4/2 192.168.1.11:5000',
      '5/2 192.168.1.15:5000',
      ...[2, 3, 4, 5, 6, 7].map((d) => `6/${d} 192.168.1.15:${port}`),
      '7/2 192.168.1.12:5000',
    ]);
  });

  it('source ports below 512 and between 512 and 1023 stay in their class when remapped', () => {
    const { kernel, table } = machine([1000, 1000]);
    bind(table, kernel, conn(tuple('10.0.0.2', '192.168.1.2', 17, 80, 53)), to('192.168.1.1'), 'SRC');
    bind(table, kernel, conn(tuple('10.0.0.2', '192.168.1.2', 17, 700, 53)), to('192.168.1.1'), 'SRC');
    const low = bind(table, kernel, conn(tuple('10.0.0.3', '192.168.1.2', 17, 80, 53)), to('192.168.1.1'), 'SRC');
    const mid = bind(table, kernel, conn(tuple('10.0.0.3', '192.168.1.2', 17, 700, 53)), to('192.168.1.1'), 'SRC');
    assert.equal(low.reply.dport, 1 + (1000 % 511));
    assert.equal(mid.reply.dport, 600 + (1000 % 424));
  });

  it('--random draws the port even when the original one is free; --random-fully too', () => {
    const { kernel, table } = machine([7, 0xfffe]);
    const a = bind(table, kernel, conn(tuple('10.0.0.2', '192.168.1.2', 6, 40000, 80)), to('192.168.1.1', '192.168.1.1', undefined, NAT_FLAG.PROTO_RANDOM), 'SRC');
    const b = bind(table, kernel, conn(tuple('10.0.0.3', '192.168.1.2', 6, 40000, 80)), to('192.168.1.1', '192.168.1.1', [2000, 2009], NAT_FLAG.PROTO_RANDOM_FULLY), 'SRC');
    assert.equal(a.reply.dport, 1024 + 7);
    assert.equal(b.reply.dport, 2000 + (0xfffe % 10));
  });

  it('a port range with the port already in it keeps the port; a one-port range is not checked for clashes', () => {
    const { kernel, table } = machine([5]);
    const a = bind(table, kernel, conn(tuple('10.0.0.2', '192.168.1.2', 6, 2005, 80)), to('192.168.1.1', '192.168.1.1', [2000, 2009]), 'SRC');
    const b = bind(table, kernel, conn(tuple('10.0.0.3', '192.168.1.2', 6, 2005, 80)), to('192.168.1.1', '192.168.1.1', [3000, 3000]), 'SRC');
    const c = bind(table, kernel, conn(tuple('10.0.0.4', '192.168.1.2', 6, 3000, 80)), to('192.168.1.1', '192.168.1.1', [3000, 3000]), 'SRC');
    assert.deepEqual([a.reply.dport, b.reply.dport, c.reply.dport], [2005, 3000, 3000]);
  });

  it('a range search that finds everything taken leaves the last port tried', () => {
    const { kernel, table } = machine([0, 1, 0]);
    const r = to('192.168.1.1', '192.168.1.1', [5000, 5001]);
    const got = ['10.0.0.2', '10.0.0.3', '10.0.0.4'].map((s) => bind(table, kernel, conn(tuple(s, '192.168.1.2', 17, 1, 53)), r, 'SRC').reply.dport);
    assert.deepEqual(got, [5000, 5001, 5001]);
  });

  it('the null binding of a local connection clashing with a masqueraded one draws a new port (measured)', () => {
    const { kernel, table } = machine([0x4000]);
    bind(table, kernel, conn(tuple('10.0.0.2', '192.168.1.2', 17, 5000, 53)), to('192.168.1.1'), 'SRC');
    const local = conn(tuple('192.168.1.1', '192.168.1.2', 17, 5000, 53));
    assert.equal(natNullBinding(kernel, local, 'DST'), NF_ACCEPT);
    assert.equal(natNullBinding(kernel, local, 'SRC'), NF_ACCEPT);
    assert.equal(replyText(local), `src=192.168.1.2 dst=192.168.1.1 sport=53 dport=${1024 + 0x4000}`);
    assert.equal(local.status, IPS.SRC_NAT | IPS.SRC_NAT_DONE | IPS.DST_NAT_DONE);
    // Without a clash the null binding changes nothing.
    const other = conn(tuple('192.168.1.1', '192.168.1.2', 17, 80, 53));
    natNullBinding(kernel, other, 'DST');
    natNullBinding(kernel, other, 'SRC');
    assert.equal(replyText(other), 'src=192.168.1.2 dst=192.168.1.1 sport=53 dport=80');
    assert.equal(other.status, IPS.SRC_NAT_DONE | IPS.DST_NAT_DONE);
  });

  it('a confirmed connection is left alone; a manip set up twice drops', () => {
    const { kernel, table } = machine();
    const c = bind(table, kernel, conn(tuple('10.0.0.2', '192.168.1.2', 6, 1, 2)), to('192.168.1.9'), 'SRC');
    const before = replyText(c);
    assert.equal(natSetupInfo(kernel, c, to('192.168.1.8'), 'SRC'), NF_ACCEPT);
    assert.equal(replyText(c), before);
    const d = conn(tuple('10.0.0.2', '192.168.1.2', 6, 3, 4));
    natSetupInfo(kernel, d, to('192.168.1.8'), 'SRC');
    assert.equal(natSetupInfo(kernel, d, to('192.168.1.8'), 'SRC'), NF_DROP);
  });

  it('a new TCP connection takes over the port of a closed source-NATed one in its last tries', () => {
    const { kernel, table } = machine([0, 0]);
    const seen = (end: number) => [{ end, maxend: 0, maxwin: 0, maxack: 0, scale: 0, flags: 0 }, { end: 0, maxend: 0, maxwin: 0, maxack: 0, scale: 0, flags: 0 }];
    const old = bind(table, kernel, conn(tuple('10.0.0.2', '192.168.1.2', 6, 1000, 80), { state: 7, seen: seen(5000) }), to('192.168.1.1', '192.168.1.1', [3000, 3000]), 'SRC');
    assert.equal(old.status & IPS.SRC_NAT, IPS.SRC_NAT);
    // 3000 is held by the closed connection, whose sequence numbers the new one has passed: it goes.
    const fresh = conn(tuple('10.0.0.3', '192.168.1.2', 6, 1000, 80), { state: 1, seen: seen(9000) });
    assert.equal(natSetupInfo(kernel, fresh, to('192.168.1.1', '192.168.1.1', [3000, 3001]), 'SRC'), NF_ACCEPT);
    assert.equal(fresh.reply.dport, 3000);
    assert.equal(table.has(old), false);
    assert.equal(old.status & IPS.DYING, IPS.DYING);
  });
});

describe('packet rewriting', () => {
  it('a masqueraded UDP datagram, byte for byte as the kernel forwarded it', () => {
    const { kernel, table } = machine();
    const d = hex('45000021000100004011af1f0a000002c0a8010213880035000ddc9868656c6c6f');
    const skb = newSkb(d, null, 'eth0');
    const c = conn(tuple('10.0.0.2', '192.168.1.2', 17, 5000, 53));
    skb.ct = c;
    skb.ctinfo = CtInfo.NEW;
    assert.equal(natHook(kernel, skb, 'PREROUTING', () => NF_ACCEPT), NF_ACCEPT);
    decTtl(skb.data);
    skb.outdev = 'eth1';
    const masq = () => MASQUERADE.target!(range({}), ctx(kernel, skb, 'POSTROUTING', 'eth0', 'eth1'), undefined);
    assert.equal(natHook(kernel, skb, 'POSTROUTING', masq), NF_ACCEPT);
    table.insert(c);
    assert.equal(toHex(skb.data), '45000021000100003f11f877c0a80101c0a8010213880035000d24f168656c6c6f');
    assert.equal((c as NatConn).masqDev, 'eth1');
  });

  it('an ICMP error about a masqueraded connection: quoted header and outer destination rewritten (measured)', () => {
    const { kernel, table } = machine();
    const c = conn(tuple('10.0.0.2', '192.168.1.2', 17, 5000, 53));
    bind(table, kernel, c, to('192.168.1.1'), 'SRC');
    const d = hex('4500003d000700004001f765c0a80102c0a801010303806f0000000045000021000100003f11f877c0a80101c0a8010213880035000d24f168656c6c6f');
    const skb = newSkb(d, null, 'eth1');
    skb.ct = c;
    skb.ctinfo = CtInfo.RELATED_REPLY;
    assert.equal(natHook(kernel, skb, 'PREROUTING', () => assert.fail('no chain for related ICMP')), NF_ACCEPT);
    decTtl(skb.data);
    assert.equal(natHook(kernel, skb, 'POSTROUTING', () => assert.fail('no chain')), NF_ACCEPT);
    assert.equal(toHex(skb.data), '4500003d000700003f01b00dc0a801020a0000020303c8c70000000045000021000100003f11b01f0a000002c0a8010213880035000ddc9868656c6c6f');
  });

  it('ICMP echo id rewritten by DNAT (measured)', () => {
    const { kernel, table } = machine();
    const r = to('192.168.1.2');
    const first = conn(tuple('10.0.0.2', '192.168.1.5', 1, 77, 8 << 8));
    bind(table, kernel, first, r, 'DST');
    const d = hex('45000020000100004001af2c0a000002c0a80106080018e1004d000170696e67');
    const skb = newSkb(d, null, 'eth0');
    const c = conn(tuple('10.0.0.2', '192.168.1.6', 1, 77, 8 << 8));
    skb.ct = c;
    skb.ctinfo = CtInfo.NEW;
    const dnat = () => DNAT.target!(r, ctx(kernel, skb, 'PREROUTING', 'eth0'), undefined);
    assert.equal(natHook(kernel, skb, 'PREROUTING', dnat), NF_ACCEPT);
    decTtl(skb.data);
    assert.equal(natHook(kernel, skb, 'POSTROUTING', () => NF_ACCEPT), NF_ACCEPT);
    assert.equal(toHex(skb.data), '45000020000100003f01b0300a000002c0a801020800192e0000000170696e67');
  });

  it('both directions of a DNATed TCP connection keep correct checksums', () => {
    const { kernel, table } = machine();
    const c = conn(tuple('10.0.0.2', '192.168.1.3', 6, 40000, 80));
    bind(table, kernel, c, to('192.168.1.2', '192.168.1.2', [8080, 8080]), 'DST');
    const out = newSkb(datagram('10.0.0.2', '192.168.1.3', 6, tcp(40000, 80, 1000, 0x02, [1, 2, 3])), null, 'eth0');
    out.ct = c;
    out.ctinfo = CtInfo.NEW;
    natPacket(kernel, out, 'PREROUTING');
    const ref = datagram('10.0.0.2', '192.168.1.2', 6, tcp(40000, 8080, 1000, 0x02, [1, 2, 3]));
    assert.equal(toHex(out.data), toHex(ref));
    const back = newSkb(datagram('192.168.1.2', '10.0.0.2', 6, tcp(8080, 40000, 7, 0x12)), null, 'eth1');
    back.ct = c;
    back.ctinfo = CtInfo.ESTABLISHED_REPLY;
    natPacket(kernel, back, 'PREROUTING');
    assert.equal(toHex(back.data), toHex(datagram('192.168.1.2', '10.0.0.2', 6, tcp(8080, 40000, 7, 0x12))));
    natPacket(kernel, back, 'POSTROUTING');
    assert.equal(toHex(back.data), toHex(datagram('192.168.1.3', '10.0.0.2', 6, tcp(80, 40000, 7, 0x12))));
  });

  it('incremental checksum updates equal a full recomputation', () => {
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < 300; i++) {
      const proto = i % 2 ? 6 : 17;
      const payload = Array.from({ length: rnd() % 40 }, () => rnd() & 255);
      const sp = rnd() & 0xffff;
      const dp = rnd() & 0xffff;
      const l4 = proto === 6 ? tcp(sp, dp, rnd(), 0x18, payload) : udp(sp, dp, payload);
      const d = datagram(fmt(rnd()), fmt(rnd()), proto, l4);
      const na = rnd() >>> 0;
      const np = rnd() & 0xffff;
      const src = i % 3 === 0;
      assert.ok(manipIpv4(d, d.length, 0, proto, src, na, np, 0));
      const s = (d[12]! << 24 | d[13]! << 16 | d[14]! << 8 | d[15]!) >>> 0;
      const t = (d[16]! << 24 | d[17]! << 16 | d[18]! << 8 | d[19]!) >>> 0;
      assert.ok(verifyIpv4Checksum(d, 0));
      if (proto === 6) assert.ok(verifyTcpChecksum(d, 20, d.length - 20, s, t));
      else assert.ok(verifyUdpChecksum(d, 20, d.length - 20, s, t));
      const again = Uint8Array.from(d);
      fillIpv4Checksums(again, 0);
      // A UDP sum of zero is sent as 0xffff by both.
      assert.equal(toHex(d), toHex(again));
    }
  });

  it('the RFC 1624 updates of 16- and 32-bit words', () => {
    assert.equal(csumReplace2(0xdd2f, 0x5555, 0x3285), 0x0000);
    assert.equal(csumReplace2(0x0000, 0x3285, 0x5555), 0xdd2f);
    assert.equal(csumReplace4(0x1234, 0x0a000002, 0x0a000002), 0x1234);
  });

  it('a UDP datagram without checksum keeps none; a sum of zero becomes 0xffff', () => {
    const d = datagram('10.0.0.2', '192.168.1.2', 17, udp(1, 2, [9]));
    d[26] = d[27] = 0;
    manipIpv4(d, d.length, 0, 17, true, ip('192.168.1.1'), 7, 0);
    assert.equal((d[26]! << 8) | d[27]!, 0);
    // A port change whose updated sum is zero.
    const z = datagram('10.0.0.2', '192.168.1.2', 17, udp(1, 2, [9]));
    const check = (z[26]! << 8) | z[27]!;
    let newPort = 0;
    while (csumReplace2(check, 1, newPort) !== 0) newPort++;
    manipIpv4(z, z.length, 0, 17, true, ip('10.0.0.2'), newPort, 0);
    assert.equal((z[26]! << 8) | z[27]!, 0xffff);
  });

  it('a packet too short for its transport header is dropped; a quoted TCP header of 8 bytes gets ports only', () => {
    const short = datagram('10.0.0.2', '192.168.1.2', 6, [0, 1, 0, 2]);
    assert.equal(manipIpv4(short, short.length, 0, 6, true, 1, 1, 0), false);
    const eight = datagram('10.0.0.2', '192.168.1.2', 6, [0, 1, 0, 2, 0, 0, 0, 0]);
    assert.ok(manipIpv4(eight, eight.length, 0, 6, true, ip('10.0.0.9'), 0x1234, 0));
    assert.deepEqual([...eight.slice(20)], [0x12, 0x34, 0, 2, 0, 0, 0, 0]);
    assert.ok(verifyIpv4Checksum(eight, 0));
  });

  it('ICMP errors that cannot be translated are dropped: bad checksum, redirect about a NATed connection', () => {
    const { kernel, table } = machine();
    const c = conn(tuple('10.0.0.2', '192.168.1.2', 17, 5000, 53));
    bind(table, kernel, c, to('192.168.1.1'), 'SRC');
    const err = '4500003d000700004001f765c0a80102c0a801010303806f0000000045000021000100003f11f877c0a80101c0a8010213880035000d24f168656c6c6f';
    const bad = newSkb(hex(err), null, 'eth1');
    bad.data[22] ^= 1;
    bad.ct = c;
    bad.ctinfo = CtInfo.RELATED_REPLY;
    assert.equal(natHook(kernel, bad, 'PREROUTING', () => NF_ACCEPT), NF_DROP);
    const redirect = newSkb(hex(err), null, 'eth1');
    redirect.data[20] = 5;
    redirect.data[22] = (redirect.data[22]! - 2) & 0xff;
    redirect.ct = c;
    redirect.ctinfo = CtInfo.RELATED_REPLY;
    assert.equal(natHook(kernel, redirect, 'PREROUTING', () => NF_ACCEPT), NF_DROP);
  });
});

describe('natHook', () => {
  it('packets without a connection pass untouched and run no chain', () => {
    const { kernel } = machine();
    const skb = newSkb(datagram('10.0.0.2', '192.168.1.2', 17, udp(1, 2, [])), null, 'eth0');
    const before = toHex(skb.data);
    assert.equal(natHook(kernel, skb, 'PREROUTING', () => assert.fail('chain run')), NF_ACCEPT);
    assert.equal(toHex(skb.data), before);
  });

  it('the chain runs once per connection and hook; its DROP is returned; the null binding follows an ACCEPT', () => {
    const { kernel } = machine();
    const c = conn(tuple('10.0.0.2', '192.168.1.2', 17, 1, 2));
    const skb = newSkb(datagram('10.0.0.2', '192.168.1.2', 17, udp(1, 2, [])), null, 'eth0');
    skb.ct = c;
    skb.ctinfo = CtInfo.NEW;
    assert.equal(natHook(kernel, skb, 'PREROUTING', () => NF_DROP), NF_DROP);
    assert.equal(c.status, 0);
    let runs = 0;
    assert.equal(natHook(kernel, skb, 'PREROUTING', () => (runs++, NF_ACCEPT)), NF_ACCEPT);
    assert.equal(natHook(kernel, skb, 'PREROUTING', () => (runs++, NF_ACCEPT)), NF_ACCEPT);
    assert.equal(runs, 1);
    assert.equal(c.status, IPS.DST_NAT_DONE);
    skb.ctinfo = CtInfo.ESTABLISHED;
    assert.equal(natHook(kernel, skb, 'INPUT', () => assert.fail('chain run for an established packet')), NF_ACCEPT);
  });

  it('a masqueraded connection whose packets leave by another interface is killed and the packet dropped', () => {
    const { kernel, table } = machine();
    const c = conn(tuple('10.0.0.2', '192.168.1.2', 17, 5000, 53));
    const skb = newSkb(datagram('10.0.0.2', '192.168.1.2', 17, udp(5000, 53, [])), null, 'eth0');
    skb.ct = c;
    skb.ctinfo = CtInfo.NEW;
    skb.outdev = 'eth1';
    natHook(kernel, skb, 'PREROUTING', () => NF_ACCEPT);
    natHook(kernel, skb, 'POSTROUTING', () => MASQUERADE.target!(range({}), ctx(kernel, skb, 'POSTROUTING', 'eth0', 'eth1'), undefined));
    table.insert(c);
    const again = newSkb(datagram('10.0.0.2', '192.168.1.2', 17, udp(5000, 53, [])), null, 'eth0');
    again.ct = c;
    again.ctinfo = CtInfo.ESTABLISHED;
    again.outdev = 'eth2';
    assert.equal(natHook(kernel, again, 'POSTROUTING', () => NF_ACCEPT), NF_DROP);
    assert.equal(table.has(c), false);
    assert.deepEqual(c.pkts, [1, 0]);
  });

  it('DNAT in OUTPUT asks for a new route; a source rewrite does not', () => {
    const { kernel } = machine();
    const c = conn(tuple('10.0.0.1', '10.0.0.5', 6, 1, 80));
    const skb = newSkb(datagram('10.0.0.1', '10.0.0.5', 6, tcp(1, 80, 0, 2)), null, '');
    skb.ct = c;
    skb.ctinfo = CtInfo.NEW;
    assert.equal(natRerouteNeeded(skb), false);
    natHook(kernel, skb, 'OUTPUT', () => DNAT.target!(to('192.168.1.2'), ctx(kernel, skb, 'OUTPUT', '', ''), undefined));
    assert.equal(natRerouteNeeded(skb), true);
    assert.equal(fmt(((skb.data[16]! << 24) | (skb.data[17]! << 16) | (skb.data[18]! << 8) | skb.data[19]!) >>> 0), '192.168.1.2');
  });
});

describe('target kernel halves', () => {
  function newConnSkb(src: string, dst: string, indev: string): { skb: Skb; c: NatConn } {
    const c = conn(tuple(src, dst, 17, 5000, 53));
    const skb = newSkb(datagram(src, dst, 17, udp(5000, 53, [])), null, indev);
    skb.ct = c;
    skb.ctinfo = CtInfo.NEW;
    return { skb, c };
  }

  it('MASQUERADE: the output interface address matching the next hop, else its first primary (measured)', () => {
    const net = routerNet();
    net.links[2]!.inet.push(addr('172.16.0.1', 16), addr('192.168.1.50', 24, 0, true));
    const { kernel } = machine([], net);
    const cases: [string, number, string][] = [
      ['172.16.5.5', 0, '172.16.0.1'],
      ['8.8.8.8', ip('192.168.1.254'), '192.168.1.1'],
      ['9.9.9.9', 0, '192.168.1.1'],
      ['192.168.1.7', 0, '192.168.1.1'],
    ];
    for (const [dst, nh, want] of cases) {
      const { skb, c } = newConnSkb('10.0.0.2', dst, 'eth0');
      skb.nexthop = nh;
      assert.equal(MASQUERADE.target!(range({}), ctx(kernel, skb, 'POSTROUTING', 'eth0', 'eth1'), undefined), NF_ACCEPT);
      assert.equal(fmt(c.reply.dst), want, dst);
    }
    // An interface without addresses: the first global address of the machine.
    net.links.push({ name: 'eth9', inet: [] } as any);
    assert.equal(selectSourceAddress(net, 'eth9', 0, 0), ip('10.0.0.1'));
  });

  it('MASQUERADE: no address drops with the kernel message; a 0.0.0.0 source is left alone; --to-ports', () => {
    const net = netOf([
      ['lo', []],
      ['eth1', []],
    ]);
    const { kernel, log } = machine([3], net);
    const { skb, c } = newConnSkb('10.0.0.2', '192.168.1.2', 'eth0');
    assert.equal(MASQUERADE.target!(range({}), ctx(kernel, skb, 'POSTROUTING', 'eth0', 'eth1'), undefined), NF_DROP);
    assert.deepEqual(log, ['<6>eth1 ate my IP address']);
    assert.equal(c.status, 0);
    const zero = newConnSkb('0.0.0.0', '255.255.255.255', 'eth0');
    assert.equal(MASQUERADE.target!(range({}), ctx(kernel, zero.skb, 'POSTROUTING', '', 'eth1'), undefined), NF_ACCEPT);
    assert.equal(zero.c.status, 0);
    const m2 = machine([3]);
    const p = newConnSkb('10.0.0.2', '192.168.1.2', 'eth0');
    const r = range({ flags: NAT_FLAG.PROTO_SPECIFIED, minPort: 10000, maxPort: 10009 });
    MASQUERADE.target!(r, ctx(m2.kernel, p.skb, 'POSTROUTING', 'eth0', 'eth1'), undefined);
    assert.equal(replyText(p.c), 'src=192.168.1.2 dst=192.168.1.1 sport=53 dport=10003');
  });

  it('interface down or address removed: the masqueraded connections through it are forgotten (measured)', () => {
    const { kernel, table } = machine();
    const mk = (dst: string, via: string, addr: string) => {
      const c = conn(tuple('10.0.0.2', dst, 17, 5000, 53));
      c.masqDev = via;
      natSetupInfo(kernel, c, to(addr), 'SRC');
      table.insert(c);
      return c;
    };
    const a = mk('172.16.5.5', 'eth1', '172.16.0.1');
    const b = mk('8.8.8.8', 'eth1', '192.168.1.1');
    const plain = conn(tuple('10.0.0.3', '192.168.1.2', 17, 1, 2));
    table.insert(plain);
    assert.equal(natForgetMasqueraded(kernel, 'eth1', ip('172.16.0.1')), 1);
    assert.deepEqual([table.has(a), table.has(b), table.has(plain)], [false, true, true]);
    assert.equal(natForgetMasqueraded(kernel, 'eth1'), 1);
    assert.deepEqual([table.has(b), table.has(plain)], [false, true]);
  });

  it('REDIRECT: the input interface first address, 127.0.0.1 from OUTPUT, drop without an address', () => {
    const { kernel } = machine();
    const r = range({ flags: NAT_FLAG.PROTO_SPECIFIED, minPort: 8080, maxPort: 8090 });
    const a = newConnSkb('10.0.0.2', '192.168.1.3', 'eth0');
    assert.equal(REDIRECT.target!(r, ctx(kernel, a.skb, 'PREROUTING', 'eth0'), undefined), NF_ACCEPT);
    assert.equal(replyText(a.c), 'src=10.0.0.1 dst=10.0.0.2 sport=8080 dport=5000');
    const b = newConnSkb('192.168.1.1', '192.168.1.3', '');
    assert.equal(REDIRECT.target!(range({}), ctx(kernel, b.skb, 'OUTPUT'), undefined), NF_ACCEPT);
    assert.equal(replyText(b.c), 'src=127.0.0.1 dst=192.168.1.1 sport=53 dport=5000');
    const c = newConnSkb('10.0.0.2', '192.168.1.3', 'eth5');
    assert.equal(REDIRECT.target!(range({}), ctx(kernel, c.skb, 'PREROUTING', 'eth5'), undefined), NF_DROP);
  });

  it('NETMAP: destination in PREROUTING, source in POSTROUTING, host bits kept (measured)', () => {
    const { kernel } = machine();
    const { skb, c } = newConnSkb('10.0.0.3', '192.168.2.77', 'eth0');
    const pre = range({ flags: NAT_FLAG.MAP_IPS, minIp: ip('192.168.1.0'), maxIp: ip('192.168.1.255') });
    assert.equal(NETMAP.target!(pre, ctx(kernel, skb, 'PREROUTING', 'eth0'), undefined), NF_ACCEPT);
    natPacket(kernel, skb, 'PREROUTING');
    const post = range({ flags: NAT_FLAG.MAP_IPS, minIp: ip('172.20.0.16'), maxIp: ip('172.20.0.31') });
    assert.equal(NETMAP.target!(post, ctx(kernel, skb, 'POSTROUTING', 'eth0', 'eth1'), undefined), NF_ACCEPT);
    assert.equal(replyText(c), 'src=192.168.1.77 dst=172.20.0.19 sport=53 dport=5000');
  });

  it('SNAT and DNAT hand their stored ranges to natSetupInfo', () => {
    const { kernel } = machine();
    const a = newConnSkb('10.0.0.2', '192.168.1.3', 'eth0');
    assert.equal(DNAT.target!(to('192.168.1.2', '192.168.1.2', [53, 53]), ctx(kernel, a.skb, 'PREROUTING', 'eth0'), undefined), NF_ACCEPT);
    assert.equal(SNAT.target!(to('192.168.1.1'), ctx(kernel, a.skb, 'POSTROUTING', 'eth0', 'eth1'), undefined), NF_ACCEPT);
    assert.equal(replyText(a.c), 'src=192.168.1.2 dst=192.168.1.1 sport=53 dport=5000');
    assert.equal(a.c.status, IPS.SRC_NAT | IPS.DST_NAT | IPS.SRC_NAT_DONE | IPS.DST_NAT_DONE);
  });
});
