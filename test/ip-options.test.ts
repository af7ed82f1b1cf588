/**
 * IPv4 options on receive, forward and in the host's replies
 * (src/core/path/ip-options.ts and its callers icmp-send.ts and
 * tcp-reset.ts), checked against the real kernel (Linux 6.18).
 *
 * The captures: three network namespaces, A (a0 10.0.1.2) -- R (r0
 * 10.0.1.1, r1 10.0.2.1, forwarding on, icmp_ratelimit 0, routes
 * 10.9.0.0/16 via 10.0.2.2 and default via 10.0.1.2) -- B (b0 10.0.2.2).
 * Frames with options were sent from A to R's r0; R logged every hook with
 * LOG --log-ip-options; what R sent back to A and forwarded to B was
 * captured on a0 and b0. Per case below: the datagram A sent, the options
 * (and destination) INPUT, FORWARD and POSTROUTING logged, the datagrams
 * R sent to A (its own ICMP messages and resets) and those it forwarded to
 * B. `ms` is the time R wrote into Timestamp options (milliseconds since
 * midnight UTC); the tests set the machine's clock to it. The IP ID of
 * ICMP messages is random in the kernel and masked with the header
 * checksum. Cases marked `srr` ran with net.ipv4.conf.all.accept_source_route=1.
 *
 * The last tests replay frames against the kernel in fresh namespaces
 * (test/pktdiff) and compare what it sends and logs with these functions.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { addAddress4 } from '../src/core/net/addr4.js';
import { routeInsert } from '../src/core/net/fib.js';
import { addLink, setLinkUp } from '../src/core/net/links.js';
import { emptyNetState, linkByName } from '../src/core/net/state.js';
import { sysctlWrite } from '../src/core/net/sysctl.js';
import type { NetState } from '../src/core/net/types.js';
import { icmpSend } from '../src/core/path/icmp-send.js';
import {
  inetCurrentTimestamp,
  ipDecreaseTtl,
  ipForwardOptions,
  ipForwardSourceRouteCheck,
  ipOptionsBuild,
  ipOptionsCopy,
  ipOptionsEcho,
  ipOptionsFragment,
  ipOptionsState,
  ipRcvOptions,
  NO_REPLY_OPTIONS,
} from '../src/core/path/ip-options.js';
import { localDeliver } from '../src/core/path/local-deliver.js';
import { NetOps } from '../src/core/path/net-ops.js';
import { newSkb, PacketType, type Skb } from '../src/core/path/skb.js';
import { nfChecksumOk } from '../src/core/path/tcp-reset.js';
import { REJECT, REJECT_WITH } from '../src/core/xt/target/REJECT.js';
import { verifyIpv4Checksum } from '../src/core/wire/checksum.js';
import type { KernelServices, PacketContext } from '../src/core/xt/packet.js';
import { fromDut, toDut } from './pktdiff/build.js';
import { runKernelScenario } from './pktdiff/kernel.js';
import { maskFrame } from './pktdiff/mask.js';
import type { Frame } from './pktdiff/types.js';

function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

function fromHex(h: string): Uint8Array {
  const b = new Uint8Array(h.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return b;
}

function ipNum(text: string): number {
  return text.split('.').reduce((a, x) => (a * 256 + Number(x)) >>> 0, 0);
}

function dotted(d: Uint8Array, off: number): string {
  return `${d[off]}.${d[off + 1]}.${d[off + 2]}.${d[off + 3]}`;
}

/** The option bytes of a datagram, as LOG --log-ip-options shows them (lower case). */
function optionsHex(d: Uint8Array): string {
  return toHex(d.subarray(20, (d[0]! & 15) * 4));
}

/** What one case showed: logged options per hook, datagrams sent back, datagrams forwarded. */
interface Seen {
  in?: string;
  fwd?: [string, string];
  post?: [string, string];
  sent: string[];
  out: string[];
}

/** One captured case (see the module comment). */
interface Case extends Seen {
  name: string;
  frame: string;
  ms?: number;
  srr?: boolean;
  /** A REJECT rule (its --reject-with) matched the packet in INPUT or FORWARD. */
  reject?: number;
}

/** Router R: its network, clock and the datagrams it sent itself. */
interface Router {
  net: NetState;
  kernel: KernelServices;
  ops: NetOps;
  sent: Uint8Array[];
  wall: number;
  logs: { level: number; text: string }[];
  clockMs: number;
}

function route(net: NetState, dst: string, len: number, gw: string, dev: string): void {
  const err = routeInsert(
    net,
    { table: 254, type: 'unicast', dst: ipNum(dst), dstLen: len, metric: 0, protocol: 3, scope: 0, prefsrc: 0, gateway: ipNum(gw), oif: linkByName(net, dev)!.index },
    { create: true, excl: true, replace: false, append: false },
  );
  assert.equal(err, undefined);
}

function router(sysctl: Record<string, string> = {}): Router {
  const net = emptyNetState();
  setLinkUp(net, linkByName(net, 'lo')!, true);
  for (const [dev, addr] of [
    ['r0', '10.0.1.1'],
    ['r1', '10.0.2.1'],
  ] as const) {
    addLink(net, dev, 'dummy');
    const link = linkByName(net, dev)!;
    setLinkUp(net, link, true);
    addAddress4(net, link, { local: ipNum(addr), address: ipNum(addr), prefixlen: 24, broadcast: 0, scope: 0 });
  }
  route(net, '10.9.0.0', 16, '10.0.2.2', 'r1');
  route(net, '0.0.0.0', 0, '10.0.1.2', 'r0');
  for (const [k, v] of Object.entries({ 'net.ipv4.ip_forward': '1', 'net.ipv4.icmp_ratelimit': '0', ...sysctl })) {
    assert.equal(sysctlWrite(net, k, v), undefined);
  }
  let seed = 4242;
  const r: Router = {
    net,
    ops: new NetOps(net),
    sent: [],
    wall: 1641600000,
    logs: [],
    clockMs: 0,
    kernel: {
      nowNs: () => r.clockMs * 1e6,
      jiffies: () => 300000 + Math.floor(r.clockMs / 4),
      wallSec: () => r.wall,
      random32: () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed;
      },
      net,
      shared: {},
      conntrack: { count: () => 0, forEach: () => {} },
      printk: (level, text) => r.logs.push({ level, text }),
      sendLocal: (datagram) => r.sent.push(datagram),
    },
  };
  return r;
}

/** A midnight (UTC) plus `ms`, in the middle of that millisecond. */
function wallAt(ms: number): number {
  return 1641600000 + (ms + 0.4) / 1000;
}

/** A datagram received on r0 from A's MAC, before PREROUTING. */
function received(datagram: Uint8Array, dev = 'r0'): Skb {
  const mac = fromHex('020000000a01020000000a020800');
  const skb = newSkb(datagram, mac, dev);
  skb.pktType = PacketType.HOST;
  return skb;
}

/** Runs the kernel half of REJECT --reject-with `how` on the packet in `hook`. */
function reject(r: Router, skb: Skb, hook: 'INPUT' | 'FORWARD', how: number): void {
  const ctx: PacketContext = {
    skb,
    thoff: (skb.data[0]! & 15) * 4,
    fragoff: 0,
    family: 'ipv4',
    hook,
    table: 'filter',
    in: skb.indev,
    out: hook === 'FORWARD' ? skb.outdev : '',
    hotdrop: false,
    kernel: r.kernel,
  };
  REJECT.target!({ with: how }, ctx, undefined);
}

/**
 * The receive path of a machine around the functions under test, in the
 * kernel's order: routing, ip_rcv_options, then local delivery (INPUT
 * accepts everything unless `rejectWith` is given) or forwarding (TTL
 * check, strict route check, TTL decrease, FORWARD, ip_forward_options,
 * POSTROUTING).
 */
function pass(r: Router, datagram: Uint8Array, rejectWith?: number): Seen {
  const seen: Seen = { sent: [], out: [] };
  const skb = received(datagram);
  const d = skb.data;
  const src = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
  const dst = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
  const v = r.ops.routeInput(skb.indev, src, dst);
  if (v.kind !== 'drop') {
    skb.route = v.type;
    let forward = v.kind === 'forward';
    if (v.kind === 'forward') {
      skb.outdev = v.dev;
      skb.nexthop = v.gateway;
    }
    const o = (d[0]! & 15) > 5 ? ipRcvOptions(r.kernel, skb) : 'ok';
    if (o === 'forward') forward = true;
    if (o === 'drop') {
      // dropped
    } else if (!forward) {
      seen.in = optionsHex(skb.data);
      if (rejectWith !== undefined) reject(r, skb, 'INPUT', rejectWith);
      else localDeliver(r.kernel, skb);
    } else if (d[8]! <= 1) {
      icmpSend(r.kernel, skb, 11, 0);
    } else if (ipForwardSourceRouteCheck(r.kernel, skb) === 'ok') {
      ipDecreaseTtl(d);
      seen.fwd = [dotted(d, 16), optionsHex(d)];
      if (rejectWith !== undefined) {
        reject(r, skb, 'FORWARD', rejectWith);
        seen.sent = r.sent.map((x) => toHex(x));
        return seen;
      }
      ipForwardOptions(r.kernel, skb);
      seen.post = [dotted(d, 16), optionsHex(d)];
      seen.out.push(toHex(d));
    }
  }
  seen.sent = r.sent.map((x) => toHex(x));
  return seen;
}

/** A datagram with the IP ID and header checksum of the host's ICMP messages masked (the checksum checked first). */
function maskIcmp(hex: string): string {
  const d = fromHex(hex);
  if (d[9] !== 1) return hex;
  assert.ok(verifyIpv4Checksum(d, 0), `bad header checksum in ${hex}`);
  d[4] = d[5] = d[10] = d[11] = 0;
  return toHex(d);
}

function seenOf(c: Case): Seen {
  const s: Seen = { sent: c.sent.map(maskIcmp), out: c.out };
  if (c.in !== undefined) s.in = c.in;
  if (c.fwd) s.fwd = c.fwd;
  if (c.post) s.post = c.post;
  return s;
}

// prettier-ignore
const CASES: Case[] = [
  {name: 'ping-rr', frame: '4f00004c1234000040013d540a0001020a0001010727040000000000000000000000000000000000000000000000000000000000000000000000000008006662000700016162636465666768', in: '0727080a000101000000000000000000000000000000000000000000000000000000000000000000', sent: ['4f00004c8f0c00004001b6650a0001010a00010207270c0a0001010a000101000000000000000000000000000000000000000000000000000000000000006e62000700016162636465666768'], out: []},
  {name: 'ping-ts0', frame: '4f00004c123400004001ff520a0001020a0001014428050000000000000000000000000000000000000000000000000000000000000000000000000008006662000700016162636465666768', in: '44280900011cdc640000000000000000000000000000000000000000000000000000000000000000', ms: 18668644, sent: ['4f00004c8f2c00004001bf580a0001010a00010244280d00011cdc64011cdc640000000000000000000000000000000000000000000000000000000000006e62000700016162636465666768'], out: []},
  {name: 'ping-ts1', frame: '4e000048123400004001005a0a0001020a00010144240501000000000000000000000000000000000000000000000000000000000000000008006662000700016162636465666768', in: '44240d010a000101011cdcfc000000000000000000000000000000000000000000000000', ms: 18668796, sent: ['4e0000488f4400004001a1150a0001010a000102442415010a000101011cdcfc0a000101011cdcfc0000000000000000000000000000000000006e62000700016162636465666768'], out: []},
  {name: 'ping-ts3', frame: '4a000038123400004001ed740a0001020a000101441405030a000101000000000a0002020000000008006662000700016162636465666768', in: '44140d030a000101011cdd940a00020200000000', ms: 18668948, sent: ['4a0000388f6800004001898f0a0001010a00010244140d030a000101011cdd940a0002020000000000006e62000700016162636465666768'], out: []},
  {name: 'udp-rr', frame: '4f0000461234000040113d4a0a0001020a0001010727040000000000000000000000000000000000000000000000000000000000000000000000000003e80009000a6d6d7879', in: '0727080a000101000000000000000000000000000000000000000000000000000000000000000000', sent: ['4fc0008a8f8a00004001b4e90a0001010a00010207270c0a0001010a000101000000000000000000000000000000000000000000000000000000000003030e10000000004f0000461234000040113d4a0a0001020a0001010727080a00010100000000000000000000000000000000000000000000000000000000000000000003e80009000a6d6d7879'], out: []},
  {name: 'tcp-rr', frame: '4f0000501234000040063d4b0a0001020a0001010727040000000000000000000000000000000000000000000000000000000000000000000000000003e8000900000005000000005002200075ea0000', in: '0727080a000101000000000000000000000000000000000000000000000000000000000000000000', sent: ['4f00005000004000400605690a0001010a00010207270c0a0001010a0001010000000000000000000000000000000000000000000000000000000000000903e800000000000000065014000095d70000'], out: []},
  {name: 'fwd-rr', frame: '4f0000461234000040113c490a0001020a0002020727040000000000000000000000000000000000000000000000000000000000000000000000000003e80009000a6c6c7879', fwd: ['10.0.2.2', '0727080a000101000000000000000000000000000000000000000000000000000000000000000000'], post: ['10.0.2.2', '0727080a000201000000000000000000000000000000000000000000000000000000000000000000'], sent: [], out: ['4f000046123400003f11383d0a0001020a0002020727080a00020100000000000000000000000000000000000000000000000000000000000000000003e80009000a6c6c7879']},
  {name: 'fwd-ts1', frame: '4e000042123400004011ff4e0a0001020a00020244240501000000000000000000000000000000000000000000000000000000000000000003e80009000a6c6c7879', fwd: ['10.0.2.2', '44240d010a000101011cdff2000000000000000000000000000000000000000000000000'], post: ['10.0.2.2', '44240d010a000101011cdff2000000000000000000000000000000000000000000000000'], ms: 18669554, sent: [], out: ['4e000042123400003f110c3f0a0001020a00020244240d010a000101011cdff200000000000000000000000000000000000000000000000003e80009000a6c6c7879']},
  {name: 'fwd-ts0full', frame: '4800002a12340000401197190a0001020a000202440c0d00111111112222222203e80009000a6c6c7879', fwd: ['10.0.2.2', '440c0d101111111122222222'], post: ['10.0.2.2', '440c0d101111111122222222'], sent: [], out: ['4800002a123400003f1198090a0001020a000202440c0d10111111112222222203e80009000a6c6c7879']},
  {name: 'fwd-rrfull', frame: '470000261234000040113a850a0001020a000202070708010203040003e80009000a6c6c7879', fwd: ['10.0.2.2', '0707080102030400'], post: ['10.0.2.2', '0707080102030400'], sent: [], out: ['47000026123400003f113b850a0001020a000202070708010203040003e80009000a6c6c7879']},
  {name: 'udp-ra', frame: '47000026123400004011bb8b0a0001020a000101010194040000000003e80009000a6d6d7879', in: '0101940400000000', sent: ['45c000428fcd00004001d42b0a0001010a0001020303131b0000000047000026123400004011bb8b0a0001020a000101010194040000000003e80009000a6d6d7879'], out: []},
  {name: 'bad-rrptr', frame: '47000026123400004011468a0a0001020a000101070703000000000003e80009000a6d6d7879', sent: ['45c000428fdf00004001d4190a0001010a0001020c00f41d1600000047000026123400004011468a0a0001020a000101070703000000000003e80009000a6d6d7879'], out: []},
  {name: 'lsrr', frame: '47000026123400004011c77d0a0001020a0001018307040a0002020003e80009000a6d6d7879', sent: [], out: []},
  {name: 'bad-len', frame: '47000026123400004011468a0a0001020a000101010709000000000003e80009000a6d6d7879', sent: ['45c000428fe300004001d4150a0001010a0001020c00f51d1500000047000026123400004011468a0a0001020a000101010709000000000003e80009000a6d6d7879'], out: []},
  {name: 'ttl1-rr', frame: '4f0000461234000001117b490a0001020a0002020727040000000000000000000000000000000000000000000000000000000000000000000000000003e80009000a6c6c7879', sent: ['4fc0008a8ffc00004001b4770a0001010a00010207270c0a0001010a00010100000000000000000000000000000000000000000000000000000000000b000714000000004f0000461234000001117b490a0001020a0002020727080a00010100000000000000000000000000000000000000000000000000000000000000000003e80009000a6c6c7879'], out: []},
  {name: 'part-rr-bad', frame: '4800002a123400004011fb810a0001020a00010107070400000000014403050003e80009000a6d6d7879', sent: ['47c0004e901e00004001c1bc0a0001010a0001020707080a000101000c00e8121d0000004800002a123400004011fb810a0001020a0001010707080a000101014403050003e80009000a6d6d7879'], out: []},
  {name: 'two-rr', frame: '4900002e1234000040113c770a0001020a0001010707040000000007070400000000000003e80009000a6d6d7879', sent: ['47c00052903300004001c1a30a0001010a0001020707080a000101000c00ea121b0000004900002e1234000040113c770a0001020a0001010707080a00010107070400000000000003e80009000a6d6d7879'], out: []},
  {name: 'ts-flag2', frame: '4800002a123400004011067f0a0001020a000101440c0502000000000000000003e80009000a6d6d7879', in: '440c05020000000000000000', sent: ['48c0005290540000400187860a0001010a000102440c050200000000000000000303131b000000004800002a123400004011067f0a0001020a000101440c0502000000000000000003e80009000a6d6d7879'], out: []},
  {name: 'ts-ovf15', frame: '4800002a123400004011972a0a0001020a000101440c0df0111111112222222203e80009000a6d6d7879', sent: ['45c00046906c00004001d3880a0001010a0001020c00f31d170000004800002a123400004011972a0a0001020a000101440c0df0111111112222222203e80009000a6d6d7879'], out: []},
  {name: 'ts-len3', frame: '4600002212340000401108920a0001020a0001014403050003e80009000a6d6d7879', sent: ['45c0003e908e00004001d36e0a0001010a0001020c00f51d150000004600002212340000401108920a0001020a0001014403050003e80009000a6d6d7879'], out: []},
  {name: 'ts-ptr4', frame: '4800002a12340000401107810a0001020a000101440c0400000000000000000003e80009000a6d6d7879', sent: ['45c00046909200004001d3620a0001010a0001020c00f41d160000004800002a12340000401107810a0001020a000101440c0400000000000000000003e80009000a6d6d7879'], out: []},
  {name: 'ts1-short', frame: '4800002a12340000401102800a0001020a000101440c0901000000000000000003e80009000a6d6d7879', sent: ['45c00046909c00004001d3580a0001010a0001020c00f41d160000004800002a12340000401102800a0001020a000101440c0901000000000000000003e80009000a6d6d7879'], out: []},
  {name: 'end-junk', frame: '460000221234000040114d890a0001020a0001010007040503e80009000a6d6d7879', in: '00000000', sent: ['45c0003e90ba00004001d3420a0001010a0001020303172700000000460000221234000040114d890a0001020a0001010000000003e80009000a6d6d7879'], out: []},
  {name: 'end-junk-fwd', frame: '460000221234000040114c880a0001020a0002020007040503e80009000a6c6c7879', fwd: ['10.0.2.2', '00000000'], post: ['10.0.2.2', '00000000'], sent: [], out: ['46000022123400003f1151940a0001020a0002020000000003e80009000a6c6c7879']},
  {name: 'lastbyte', frame: '460000221234000040114f8d0a0001020a0001010101010703e80009000a6d6d7879', sent: ['45c0003e910400004001d2f80a0001010a0001020c00f31d17000000460000221234000040114f8d0a0001020a0001010101010703e80009000a6d6d7879'], out: []},
  {name: 'cipso6', frame: '47000026123400004011ca890a0001020a000101860600000001000003e80009000a6d6d7879', sent: ['47c0004a9123000040014ac60a0001010a00010286060000000100000c00f51d1500000047000026123400004011ca890a0001020a000101860600000001000003e80009000a6d6d7879'], out: []},
  {name: 'cipso8', frame: '47000026123400004011ca870a0001020a000101860800000001000003e80009000a6d6d7879', sent: ['47c0004a9144000040014aa30a0001010a00010286080000000100000c00f41d1600000047000026123400004011ca870a0001020a000101860800000001000003e80009000a6d6d7879'], out: []},
  {name: 'sid', frame: '4700002612340000401134540a0001020a000101880412348204000003e80009000a6d6d7879', in: '8804123482040000', sent: ['45c00042915200004001d2a60a0001010a0001020303131b000000004700002612340000401134540a0001020a000101880412348204000003e80009000a6d6d7879'], out: []},
  {name: 'bcast-rr', frame: '47000026123400004011448c0a0001020a0001ff070704000000000003e80009000a6c6f7879', in: '0707080a00010100', sent: [], out: []},
  {name: 'rr-fwd-ttl-ts0', frame: '4900002e1234000040113a380a0001020a0002020707040000000044080500000000000003e80009000a6c6c7879', fwd: ['10.0.2.2', '0707080a00010144080900011cecf700'], post: ['10.0.2.2', '0707080a00020144080900011cecf700'], ms: 18672887, sent: [], out: ['4900002e123400003f11223a0a0001020a0002020707080a00020144080900011cecf70003e80009000a6c6c7879']},
  {name: 'rr-len2', frame: '4600002212340000401149920a0001020a0001010702010103e80009000a6d6d7879', sent: ['45c0003e918c00004001d2700a0001010a0001020c00f51d150000004600002212340000401149920a0001020a0001010702010103e80009000a6d6d7879'], out: []},
  {name: 'rr-ptr-last', frame: '4800002a1234000040113a7e0a0001020a000101070b0801020304000000000003e80009000a6d6d7879', in: '070b0c010203040a00010100', sent: ['48c0005291b000004001b51e0a0001010a000102070b0c010203040a0001010003030e10000000004800002a1234000040113a7e0a0001020a000101070b0c010203040a0001010003e80009000a6d6d7879'], out: []},
  {name: 'rr-ptr-mid', frame: '4800002a1234000040113a7f0a0001020a000101070a0801020304000000000003e80009000a6d6d7879', sent: ['45c0004691cf00004001d2250a0001010a0001020c00f41d160000004800002a1234000040113a7f0a0001020a000101070a0801020304000000000003e80009000a6d6d7879'], out: []},
  {name: 'ts-ptr-odd', frame: '4800002a12340000401105810a0001020a000101440c0600000000000000000003e80009000a6d6d7879', in: '440c0a0000011cef51000000', ms: 18673489, sent: [], out: []},
  {name: 'ts0-last-echo', frame: '4800002a123400004011e05e0a0001020a000101440c0900111111110000000003e80009000a6d6d7879', in: '440c0d0011111111011cefe7', ms: 18673639, sent: ['48c000529214000040016aa20a0001010a000102440c0d0011111111011cefe703031e17000000004800002a123400004011e05e0a0001020a000101440c0d0011111111011cefe703e80009000a6d6d7879'], out: []},
  {name: 'ts1-last-echo', frame: '4a000032123400004011d84b0a0001020a00010144140d010101010111111111000000000000000003e80009000a6d6d7879', in: '4414150101010101111111110a000101011cf080', ms: 18673792, sent: ['4ac0006292370000400152ca0a0001010a0001024414150101010101111111110a000101011cf08003030e7d000000004a000032123400004011d84b0a0001020a0001014414150101010101111111110a000101011cf08003e80009000a6d6d7879'], out: []},
  {name: 'ts3-next-ours', frame: '4a000032123400004011ed6b0a0001020a000101441405030a000101000000000a0002010000000003e80009000a6d6d7879', in: '44140d030a000101011cf1160a00020100000000', ms: 18673942, sent: ['4ac00062923c00004001781d0a0001010a000102441415030a000101011cf1160a000201011cf116030318e8000000004a000032123400004011ed6b0a0001020a00010144140d030a000101011cf1160a0002010000000003e80009000a6d6d7879'], out: []},
  {name: 'ts3-notours', frame: '4a000032123400004011ea670a0001020a000101441405030a000505000000000a0001010000000003e80009000a6d6d7879', in: '441405030a000505000000000a00010100000000', sent: ['4ac0006292440000400169770a0001010a000102441405030a000505000000000a000101000000000303131b000000004a000032123400004011ea670a0001020a000101441405030a000505000000000a0001010000000003e80009000a6d6d7879'], out: []},
  {name: 'ts3-full', frame: '4800002a123400004011f27b0a0001020a000202440c0d030a0001010000000003e80009000a6c6c7879', fwd: ['10.0.2.2', '440c0d030a00010100000000'], post: ['10.0.2.2', '440c0d030a00010100000000'], sent: [], out: ['4800002a123400003f11f37b0a0001020a000202440c0d030a0001010000000003e80009000a6c6c7879']},
  {name: 'ts3-full-ovf15', frame: '4800002a123400004011f18b0a0001020a000202440c0df30a0001010000000003e80009000a6c6c7879', fwd: ['10.0.2.2', '440c0df30a00010100000000'], post: ['10.0.2.2', '440c0df30a00010100000000'], sent: [], out: ['4800002a123400003f11f28b0a0001020a000202440c0df30a0001010000000003e80009000a6c6c7879']},
  {srr: true, name: 'lsrr-hop', frame: '47000026123400004011c77d0a0001020a0001018307040a0002020003e80009000a6d6d7879', fwd: ['10.0.1.1', '8307040a00020200'], post: ['10.0.2.2', '8307080a00020100'], sent: [], out: ['47000026123400003f11c47c0a0001020a0002028307080a0002010003e80009000a6d6d7879']},
  {srr: true, name: 'ssrr-hop', frame: '47000026123400004011c17d0a0001020a0001018907040a0002020003e80009000a6d6d7879', fwd: ['10.0.1.1', '8907040a00020200'], post: ['10.0.2.2', '8907080a00020100'], sent: [], out: ['47000026123400003f11be7c0a0001020a0002028907080a0002010003e80009000a6d6d7879']},
  {srr: true, name: 'ssrr-gw', frame: '47000026123400004011b57f0a0001020a0001018907040a0900050003e80009000a6d6d7879', sent: ['45c00042926900004001d18f0a0001010a000102030513190000000047000026123400004011b57f0a0001020a0001018907040a0900050003e80009000a6d6d7879'], out: []},
  {srr: true, name: 'lsrr-gw', frame: '47000026123400004011bb7f0a0001020a0001018307040a0900050003e80009000a6d6d7879', fwd: ['10.0.1.1', '8307040a09000500'], post: ['10.9.0.5', '8307080a00020100'], sent: [], out: ['47000026123400003f11c6700a0001020a0900058307080a0002010003e80009000a6d6d7879']},
  {srr: true, name: 'lsrr-transit', frame: '47000026123400004011ba7e0a0001020a0002028307040a0900050003e80009000a6c6c7879', fwd: ['10.0.2.2', '8307040a09000500'], post: ['10.0.2.2', '8307040a09000500'], sent: [], out: ['47000026123400003f11bb7e0a0001020a0002028307040a0900050003e80009000a6c6c7879']},
  {srr: true, name: 'ssrr-transit', frame: '47000026123400004011b47e0a0001020a0002028907040a0900050003e80009000a6c6c7879', sent: ['45c00042927500004001d1830a0001010a0001020c00fb1e1000000047000026123400004011b47e0a0001020a0002028907040a0900050003e80009000a6c6c7879'], out: []},
  {srr: true, name: 'lsrr-self', frame: '4800002a123400004011c5690a0001020a000101830b040a0002010a0002020003e80009000a6d6d7879', fwd: ['10.0.2.1', '830b040a0002010a00020200'], post: ['10.0.2.2', '830b0c0a0002010a00020100'], sent: [], out: ['4800002a123400003f11be680a0001020a000202830b0c0a0002010a0002010003e80009000a6d6d7879']},
  {srr: true, name: 'lsrr-done', frame: '4800002a123400004011aa620a0001020a000101830b0c0a0505050a0606060003e80009000a6d6d7879', in: '830b0c0a0505050a06060600', sent: ['48c0005216cc00004001b1ed0a0001010a060606830b040a0505050a000102000303131b000000004800002a123400004011aa620a0001020a000101830b0c0a0505050a0606060003e80009000a6d6d7879'], out: []},
  {srr: true, name: 'lsrr-done-src', frame: '4800002a123400004011b2660a0001020a000101830b0c0a0001020a0606060003e80009000a6d6d7879', in: '830b0c0a0001020a06060600', sent: ['47c0004e16e100004001bcef0a0001010a0606068307040a000102000303131b000000004800002a123400004011b2660a0001020a000101830b0c0a0001020a0606060003e80009000a6d6d7879'], out: []},
  {srr: true, name: 'lsrr-3done', frame: '4900002e12340000401197490a0001020a000101830f100a0505050a0606060a0707070003e80009000a6d6d7879', in: '830f100a0505050a0606060a07070700', sent: ['49c0005a4fc4000040016ad70a0001010a070707830f040a0606060a0505050a000102000303131b000000004900002e12340000401197490a0001020a000101830f100a0505050a0606060a0707070003e80009000a6d6d7879'], out: []},
  {srr: true, name: 'lsrr-short', frame: '4800002a123400004011ba740a0001020a0001018309080a050505000000000003e80009000a6d6d7879', sent: ['47c0004e44b90000400190190a0001010a0505058307040a000102000c00f41d160000004800002a123400004011ba740a0001020a0001018309080a050505000000000003e80009000a6d6d7879'], out: []},
  {srr: true, name: 'lsrr-rr', frame: '4c00003a12340000401172510a0001020a0001018307040a00020207070400000000440c05010000000000000000000003e80009000a6d6d7879', fwd: ['10.0.1.1', '8307040a0002020707080a000101440c0d010a000101011cfa6b0000'], post: ['10.0.2.2', '8307080a0002010707080a000201440c0d010a000201011cfa6b0000'], ms: 18676331, sent: [], out: ['4c00003a123400003f1153c20a0001020a0002028307080a0002010707080a000201440c0d010a000201011cfa6b000003e80009000a6d6d7879']},
  {srr: true, name: 'lsrr-unreach', frame: '47000026123400004011c80a0a0001020a0001018307047f0000010003e80009000a6d6d7879', sent: [], out: []},
  {srr: true, name: 'lsrr-ptr3', frame: '47000026123400004011c87d0a0001020a0001018307030a0002020003e80009000a6d6d7879', sent: ['45c0004292a500004001d1530a0001010a0001020c00f41d1600000047000026123400004011c87d0a0001020a0001018307030a0002020003e80009000a6d6d7879'], out: []},
  {srr: true, name: 'lsrr-len2', frame: '46000022123400004011cd910a0001020a0001018302010103e80009000a6d6d7879', sent: ['45c0003e92b800004001d1440a0001010a0001020c00f51d1500000046000022123400004011cd910a0001020a0001018302010103e80009000a6d6d7879'], out: []},
  {srr: true, name: 'two-srr', frame: '4900002e123400004011b1ec0a0001020a0001018307040a0002028307040a000202000003e80009000a6d6d7879', sent: ['45c0004a92c400004001d12c0a0001010a0001020c00ef1d1b0000004900002e123400004011b1ec0a0001020a0001018307040a0002028307040a000202000003e80009000a6d6d7879'], out: []},
  {srr: true, name: 'ping-lsrr-done', frame: '48000030123400004001aa6c0a0001020a000101830b0c0a0505050a0606060008006662000700016162636465666768', in: '830b0c0a0505050a06060600', sent: ['4800003017ef00004001b1ac0a0001010a060606830b040a0505050a0001020000006e62000700016162636465666768'], out: []},
  // REJECT in INPUT (udp dport 7: icmp-port-unreachable, tcp dport 7: tcp-reset) and
  // FORWARD (udp dport 7: icmp-host-prohibited): nothing is sent for a packet whose
  // options were written on receipt, as its header checksum no longer holds.
  {reject: REJECT_WITH.PORT_UNREACHABLE, name: 'rej-rrfull', frame: '470000261234000040113b860a0001020a000101070708010203040003e80007000a6d6f7879', in: '0707080102030400', sent: ['47c0004ae2fb0000400169ea0a0001010a00010207070801020304000303131b00000000470000261234000040113b860a0001020a000101070708010203040003e80007000a6d6f7879'], out: []},
  {reject: REJECT_WITH.TCP_RESET, name: 'rej-tcp-rrfull', frame: '470000301234000040063b870a0001020a000101070708010203040003e8000700000005000000005002200075ec0000', in: '0707080102030400', sent: ['4500002800004000400624ce0a0001010a000102000703e800000000000000065014000095d90000'], out: []},
  {reject: REJECT_WITH.HOST_PROHIBITED, name: 'rej-fwd-rrfull', frame: '470000261234000040113a850a0001020a000202070708010203040003e80007000a6c6e7879', fwd: ['10.0.2.2', '0707080102030400'], sent: ['47c0004ae3350000400169b00a0001010a0001020707080102030400030a14150000000047000026123400003f113b850a0001020a000202070708010203040003e80007000a6c6e7879'], out: []},
  {reject: REJECT_WITH.PORT_UNREACHABLE, name: 'rej-rr', frame: '47000026123400004011458a0a0001020a000101070704000000000003e80007000a6d6f7879', in: '0707080a00010100', sent: [], out: []},
  {reject: REJECT_WITH.HOST_PROHIBITED, name: 'rej-fwd-rr', frame: '4700002612340000401144890a0001020a000202070704000000000003e80007000a6c6e7879', fwd: ['10.0.2.2', '0707080a00010100'], sent: [], out: []},
];

for (const c of CASES) {
  test(`kernel capture: ${c.name}`, () => {
    const r = router(c.srr ? { 'net.ipv4.conf.all.accept_source_route': '1' } : {});
    if (c.ms !== undefined) r.wall = wallAt(c.ms);
    const seen = pass(r, fromHex(c.frame), c.reject);
    seen.sent = seen.sent.map(maskIcmp);
    assert.deepEqual(seen, seenOf(c));
  });
}

test('source routes are dropped unless accepted for "all" and the device; log_martians reports them, rate limited', () => {
  const lsrr = CASES.find((c) => c.name === 'lsrr-hop')!;
  // accepted for all but not for r0
  const r = router({ 'net.ipv4.conf.all.accept_source_route': '1', 'net.ipv4.conf.r0.accept_source_route': '0' });
  assert.deepEqual(pass(r, fromHex(lsrr.frame)), { sent: [], out: [] });
  assert.deepEqual(r.logs, []);
  // the default: not accepted; with log_martians each drop is reported, ten per five seconds
  const m = router({ 'net.ipv4.conf.all.log_martians': '1' });
  for (let i = 0; i < 12; i++) assert.deepEqual(pass(m, fromHex(lsrr.frame)), { sent: [], out: [] });
  m.clockMs += 5100;
  pass(m, fromHex(lsrr.frame));
  const line = { level: 6, text: 'IPv4: source route option 10.0.1.2 -> 10.0.1.1' };
  assert.deepEqual(m.logs, [...Array(10).fill(line), { level: 4, text: 'net_ratelimit: 2 callbacks suppressed' }, line]);
});

test('later fragments of a forwarded datagram carry only the options with the copied flag, as No Operation bytes elsewhere', () => {
  // A 1028-byte UDP datagram with Record Route, Router Alert and Timestamp forwarded
  // out of a link with MTU 600: the first fragment's header and the second's options.
  const first = fromHex('4a000258123420003f1125980a0001020a0002020707080a00020194040000440809000119d0cf00');
  const later = first.slice();
  ipOptionsFragment(later);
  assert.equal(optionsHex(later), '0101010101010194040000010101010101010100');
  assert.equal(toHex(later.subarray(0, 20)), toHex(first.subarray(0, 20)));
  // a source route is copied; a malformed option stops the rewrite
  const srr = fromHex('470000260000000040110000000000000000000083070401020304000');
  ipOptionsFragment(srr);
  assert.equal(optionsHex(srr), '8307040102030400');
  const bad = fromHex('4700002600000000401100000000000000000000070904000000000000');
  ipOptionsFragment(bad);
  assert.equal(optionsHex(bad), '0709040000000000');
});

test('a reassembled datagram answers with the options of its first fragment', () => {
  // The kernel received two fragments, the first with a Record Route option of two
  // slots, and answered the reassembled datagram with a port unreachable.
  const firstFragment = fromHex('48000030555720004011e1580a0001020a000101070b0400000000000000000003e80009002000007171717171717171');
  const reply = '48c0006877f000004001d3c10a0001010a000102070b0c0a0001010a000101000303a79a0000000048000040555700004011fc3d0a0001020a000101070b080a000101000000000003e8000900200000' + '71'.repeat(24);
  const whole = fromHex(reply).slice(40);
  for (const carry of [true, false]) {
    const r = router();
    const f = received(firstFragment.slice());
    f.route = 'local';
    assert.equal(ipRcvOptions(r.kernel, f), 'ok');
    assert.equal(optionsHex(f.data), optionsHex(whole));
    const skb = received(whole.slice());
    skb.route = 'local';
    if (carry) ipOptionsCopy(f, skb);
    localDeliver(r.kernel, skb);
    // without the first fragment's state the reply has no options
    const expected = carry ? maskIcmp(reply) : '45c0005c00000000400100000a0001010a0001020303a79a00000000' + toHex(whole);
    assert.deepEqual(r.sent.map((x) => maskIcmp(toHex(x))), [expected]);
  }
});

test('packets whose options were never checked (generated here) get replies without options', () => {
  const r = router();
  const skb = newSkb(fromHex(CASES.find((c) => c.name === 'udp-rr')!.frame), null, '');
  skb.route = 'local';
  assert.equal(ipOptionsState(skb), undefined);
  assert.equal(ipOptionsEcho(r.kernel, skb), NO_REPLY_OPTIONS);
  ipForwardOptions(r.kernel, skb);
  assert.equal(toHex(skb.data), CASES.find((c) => c.name === 'udp-rr')!.frame);
});

test('ip_options_build fills the reply entries from the reply header', () => {
  const r = router();
  r.wall = wallAt(0x01020304);
  const skb = received(fromHex(CASES.find((c) => c.name === 'ping-ts1')!.frame));
  skb.route = 'local';
  assert.equal(ipRcvOptions(r.kernel, skb), 'ok');
  const opts = ipOptionsEcho(r.kernel, skb)!;
  assert.equal(toHex(opts.data), '442415010a00010101020304' + '00'.repeat(24));
  assert.deepEqual([opts.ts, opts.tsNeedAddr, opts.tsNeedTime, opts.rr, opts.srr, opts.faddr], [20, true, true, 0, 0, 0]);
  const d = new Uint8Array(20 + opts.data.length);
  d[0] = 0x45 + opts.data.length / 4;
  d.set([192, 0, 2, 1], 12);
  r.wall = wallAt(0x04030201);
  ipOptionsBuild(r.kernel, d, opts, 0);
  assert.equal(optionsHex(d), '44241501' + '0a00010101020304' + 'c000020104030201' + '00'.repeat(16));
  assert.equal(inetCurrentTimestamp(r.kernel), 0x04030201);
});

test('ip_decrease_ttl keeps a valid checksum valid and a stale one stale', () => {
  let seed = 99;
  const rnd = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24;
  for (let i = 0; i < 2000; i++) {
    const d = new Uint8Array(24);
    for (let j = 0; j < 24; j++) d[j] = rnd();
    d[0] = 0x46;
    d[8] = 2 + (rnd() % 250);
    d[10] = d[11] = 0;
    const c = (() => {
      let s = 0;
      for (let j = 0; j < 24; j += 2) s += (d[j]! << 8) | d[j + 1]!;
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      return ~s & 0xffff;
    })();
    d[10] = c >>> 8;
    d[11] = c & 0xff;
    const ttl = d[8]!;
    ipDecreaseTtl(d);
    assert.equal(d[8], ttl - 1);
    assert.ok(verifyIpv4Checksum(d, 0), toHex(d));
  }
  // Record Route written on receipt: the checksum stays wrong by the same amount
  const r = router();
  const skb = received(fromHex(CASES.find((c) => c.name === 'fwd-rr')!.frame));
  skb.route = 'unicast';
  skb.outdev = 'r1';
  assert.equal(ipRcvOptions(r.kernel, skb), 'ok');
  assert.ok(!verifyIpv4Checksum(skb.data, 0));
  assert.ok(!nfChecksumOk(skb, 60, 17));
  ipDecreaseTtl(skb.data);
  assert.ok(!verifyIpv4Checksum(skb.data, 0));
  ipForwardOptions(r.kernel, skb);
  assert.ok(verifyIpv4Checksum(skb.data, 0));
});

/** The machine under test of the differential checks: R, with eth0 for r0 and eth1 for r1. */
function kernelSetup(srr: boolean): string[] {
  return [
    'ip link set lo up',
    'ip link set eth0 up',
    'ip link set eth1 up',
    'ip addr add 10.0.1.1/24 dev eth0',
    'ip addr add 10.0.2.1/24 dev eth1',
    'ip neigh replace 10.0.1.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
    'ip neigh replace 10.0.2.2 lladdr 02:00:00:00:01:02 dev eth1 nud permanent',
    'ip route add 10.9.0.0/16 via 10.0.2.2',
    'ip route add default via 10.0.1.2',
    'sysctl -qw net.ipv4.ip_forward=1',
    'sysctl -qw net.ipv4.icmp_ratelimit=0',
    ...(srr ? ['sysctl -qw net.ipv4.conf.all.accept_source_route=1'] : []),
  ];
}

/** LOG at every hook a packet from eth0 passes, and the REJECT rules of the reject cases. */
const KERNEL_RULES = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -i eth0 -j LOG --log-prefix "ipopt-PRE " --log-ip-options
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A INPUT -i eth0 -j LOG --log-prefix "ipopt-IN " --log-ip-options
-A FORWARD -i eth0 -j LOG --log-prefix "ipopt-FWD " --log-ip-options
-A POSTROUTING -o eth1 -j LOG --log-prefix "ipopt-POST " --log-ip-options
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -p udp -m udp --dport 7 -j REJECT --reject-with icmp-port-unreachable
-A INPUT -p tcp -m tcp --dport 7 -j REJECT --reject-with tcp-reset
-A FORWARD -p udp -m udp --dport 7 -j REJECT --reject-with icmp-host-prohibited
COMMIT
`;

/**
 * Replays the cases whose outcome does not depend on the clock against the
 * kernel and compares the frames it sends (ICMP IDs masked) and the options
 * it logs at each hook with ours.
 */
async function differential(srr: boolean): Promise<void> {
  const cases = CASES.filter((c) => (c.srr ?? false) === srr && c.ms === undefined);
  const frames: Frame[] = cases.map((c) => toDut('eth0', fromHex(c.frame)));
  const observed = await runKernelScenario({ name: `ip-options-${srr ? 'srr' : 'plain'}`, setup: kernelSetup(srr), rules: KERNEL_RULES, frames });
  const ours = { emitted: [] as string[], log: [] as string[] };
  cases.forEach((c, i) => {
    const r = router(srr ? { 'net.ipv4.conf.all.accept_source_route': '1' } : {});
    const frame = fromHex(c.frame);
    const seen = pass(r, frame.slice(), c.reject);
    ours.log.push(`PRE ${dotted(frame, 16)} ${optionsHex(frame)}`);
    if (seen.in !== undefined) ours.log.push(`IN ${dotted(frame, 16)} ${seen.in}`);
    if (seen.fwd) ours.log.push(`FWD ${seen.fwd.join(' ')}`);
    if (seen.post) ours.log.push(`POST ${seen.post.join(' ')}`);
    for (const x of seen.sent) ours.emitted.push(`${i} eth0 ${toHex(maskFrame(fromDut('eth0', fromHex(x))).bytes)}`);
    for (const x of seen.out) ours.emitted.push(`${i} eth1 ${toHex(maskFrame(fromDut('eth1', fromHex(x))).bytes)}`);
  });
  const theirs = {
    emitted: observed.emitted.map((e) => `${e.afterFrame} ${e.iface} ${toHex(maskFrame(e.bytes).bytes)}`),
    log: observed.log
      .filter((l) => l.startsWith('ipopt-') && / IN=eth0 /.test(l))
      .map((l) => `${l.slice(6, l.indexOf(' '))} ${/ DST=(\S+)/.exec(l)![1]} ${(/ OPT \(([0-9A-F]+)\)/.exec(l)?.[1] ?? '').toLowerCase()}`),
  };
  // every frame was logged in PREROUTING and at least once more, or dropped on its options
  assert.ok(theirs.log.length > cases.length && theirs.emitted.length > cases.length / 3);
  assert.deepEqual(ours.log, theirs.log);
  assert.deepEqual([...ours.emitted].sort(), [...theirs.emitted].sort());
}

test('differential: the kernel sends and logs what these functions predict (source routes refused)', async () => {
  await differential(false);
});

test('differential: the kernel sends and logs what these functions predict (source routes accepted)', async () => {
  await differential(true);
});
