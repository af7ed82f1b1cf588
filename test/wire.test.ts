/**
 * Packet codecs of src/core/wire: checksums, header accessors, option
 * lists, frame encoding and decoding.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  checksumFinish,
  checksumPartial,
  checksumReplace16,
  checksumReplace32,
  fillIpv4Checksum,
  fillIpv4Checksums,
  fillUdpChecksum,
  internetChecksum,
  ipv4HeaderChecksum,
  pseudoHeaderSum,
  verifyIcmpChecksum,
  verifyIpv4Checksum,
  verifyTcpChecksum,
  verifyUdpChecksum,
} from '../src/core/wire/checksum.js';
import * as arp from '../src/core/wire/arp.js';
import * as eth from '../src/core/wire/ethernet.js';
import { type FrameDesc, decodeFrame, decodeIpv4, encodeFrame, encodeIpv4 } from '../src/core/wire/frame.js';
import * as icmp from '../src/core/wire/icmp.js';
import * as ip from '../src/core/wire/ipv4.js';
import { formatMac, macEqual, macIsBroadcast, macIsMulticast, parseMac } from '../src/core/wire/mac.js';
import * as tcp from '../src/core/wire/tcp.js';
import * as udp from '../src/core/wire/udp.js';

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
}

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// An Ethernet/IPv4/TCP SYN with options, as scapy 2.5 builds it.
const SYN =
  '02fc0000000502fc0000000108004500003c000100004006aeb8c00002020a000001001400500000000000000000a00220005b960000020405b40402080a000000010000000201030307';

test('RFC 1071 example sum and odd lengths', () => {
  const b = hex('0001f203f4f5f6f7');
  assert.equal(checksumPartial(b, 0, 8), 0x2ddf0);
  assert.equal(checksumFinish(0x2ddf0), 0xffff - 0xddf2);
  // an odd length pads the last byte with a zero low byte
  assert.equal(internetChecksum(hex('0102ff'), 0, 3), 0xfffc); // 0x0102 + 0xff00 = 0x10002 folds to 3
  assert.equal(internetChecksum(new Uint8Array(0), 0, 0), 0xffff);
  // partial sums chain over even-length pieces
  assert.equal(internetChecksum(b, 4, 4, checksumPartial(b, 0, 4)), internetChecksum(b, 0, 8));
});

test('IPv4 and TCP checksums of a frame scapy built', () => {
  const f = hex(SYN);
  assert.ok(verifyIpv4Checksum(f, 14));
  assert.equal(ipv4HeaderChecksum(f, 14), 0xaeb8);
  const src = ip.ipSrc(f, 14);
  const dst = ip.ipDst(f, 14);
  assert.ok(verifyTcpChecksum(f, 34, 40, src, dst));
  const copy = f.slice();
  copy[24] = 0x12;
  copy[25] = 0x34;
  copy[50] = 0;
  copy[51] = 0;
  assert.equal(verifyIpv4Checksum(copy, 14), false);
  assert.equal(verifyTcpChecksum(copy, 34, 40, src, dst), false);
  assert.equal(ipv4HeaderChecksum(copy, 14), 0xaeb8);
  fillIpv4Checksums(copy, 14);
  assert.equal(toHex(copy), SYN);
  copy[24] = 0;
  fillIpv4Checksum(copy, 14);
  assert.equal(toHex(copy), SYN);
});

test('incremental checksum updates equal a full recomputation', () => {
  const f = hex(SYN);
  const check = ip.ipCheck(f, 14);
  const oldTtlProto = (ip.ipTtl(f, 14) << 8) | ip.ipProto(f, 14);
  ip.setIpTtl(f, 14, 63);
  assert.equal(checksumReplace16(check, oldTtlProto, (63 << 8) | 6), ipv4HeaderChecksum(f, 14));
  const oldSrc = ip.ipSrc(f, 14);
  const oldTcp = tcp.tcpCheck(f, 34);
  ip.setIpSrc(f, 14, 0xc0a80101);
  fillIpv4Checksum(f, 14);
  assert.ok(verifyIpv4Checksum(f, 14));
  tcp.setTcpCheck(f, 34, checksumReplace32(oldTcp, oldSrc, 0xc0a80101));
  assert.ok(verifyTcpChecksum(f, 34, 40, 0xc0a80101, ip.ipDst(f, 14)));
});

test('UDP: zero means no checksum, a computed zero is sent as ffff', () => {
  const src = 0x0a000001;
  const dst = 0x0a000002;
  const d = new Uint8Array(8);
  d[5] = 8;
  assert.ok(verifyUdpChecksum(d, 0, 8, src, dst));
  // choose ports so that the sum of everything is ffff: the checksum computes to 0
  const base = pseudoHeaderSum(src, dst, ip.IPPROTO_UDP, 8) + 8;
  let folded = base;
  while (folded > 0xffff) folded = (folded & 0xffff) + (folded >>> 16);
  d[0] = (0xffff - folded) >>> 8;
  d[1] = (0xffff - folded) & 0xff;
  fillUdpChecksum(d, 0, 8, src, dst);
  assert.deepEqual([d[6], d[7]], [0xff, 0xff]);
  assert.ok(verifyUdpChecksum(d, 0, 8, src, dst));
});

test('ICMP checksum', () => {
  // echo request id 1 seq 1 payload "abcde" (odd length), as scapy builds it
  const m = hex('0800ce36000100016162636465');
  assert.ok(verifyIcmpChecksum(m, 0, 13));
  m[12] = 0x66;
  assert.equal(verifyIcmpChecksum(m, 0, 13), false);
});

test('MAC addresses: lower-case format, lenient parse', () => {
  const m = parseMac('0A:11:d1:9:77:CE')!;
  assert.equal(formatMac(m), '0a:11:d1:09:77:ce');
  assert.equal(parseMac('0a:11:d1:09:77'), undefined);
  assert.equal(parseMac('0a:11:d1:09:77:ce:00'), undefined);
  assert.equal(parseMac('0a:11:d1:09:77:1ce'), undefined);
  assert.equal(parseMac('0a:11:d1:09:77:'), undefined);
  assert.equal(parseMac('0a-11-d1-09-77-ce'), undefined);
  assert.equal(parseMac('0a:11:d1:09:77:cg'), undefined);
  assert.ok(macIsBroadcast(parseMac('ff:ff:ff:ff:ff:ff')!));
  assert.ok(!macIsBroadcast(m));
  assert.ok(macIsMulticast(parseMac('01:00:5e:00:00:01')!));
  assert.ok(!macIsMulticast(m));
  const two = new Uint8Array(12);
  two.set(m, 6);
  assert.ok(macEqual(two, 6, m, 0));
  assert.ok(!macEqual(two, 0, m, 0));
  assert.equal(formatMac(two, 6), '0a:11:d1:09:77:ce');
});

test('field accessors read and write the bytes scapy put there', () => {
  const f = hex(SYN);
  assert.equal(eth.ethType(f, 0), eth.ETH_P_IP);
  const o = eth.ETH_HLEN;
  assert.deepEqual(
    [ip.ipVersion(f, o), ip.ipIhl(f, o), ip.ipHeaderLen(f, o), ip.ipTos(f, o), ip.ipTotLen(f, o), ip.ipId(f, o)],
    [4, 5, 20, 0, 60, 1],
  );
  assert.deepEqual([ip.ipFragField(f, o), ip.ipFragOff(f, o), ip.ipDf(f, o), ip.ipMf(f, o), ip.ipIsFragment(f, o)], [0, 0, false, false, false]);
  assert.deepEqual([ip.ipTtl(f, o), ip.ipProto(f, o), ip.ipCheck(f, o), ip.ipSrc(f, o), ip.ipDst(f, o)], [64, 6, 0xaeb8, 0xc0000202, 0x0a000001]);
  const t = o + 20;
  assert.deepEqual(
    [tcp.tcpSport(f, t), tcp.tcpDport(f, t), tcp.tcpSeq(f, t), tcp.tcpAck(f, t), tcp.tcpDataOff(f, t), tcp.tcpHeaderLen(f, t)],
    [20, 80, 0, 0, 10, 40],
  );
  assert.deepEqual([tcp.tcpReserved(f, t), tcp.tcpFlags(f, t), tcp.tcpWindow(f, t), tcp.tcpCheck(f, t), tcp.tcpUrgPtr(f, t)], [0, tcp.TCP_SYN, 8192, 0x5b96, 0]);

  const b = new Uint8Array(40);
  ip.setIpVersionIhl(b, 0, 4, 5);
  ip.setIpTos(b, 0, 0x10);
  ip.setIpTotLen(b, 0, 40);
  ip.setIpId(b, 0, 0xbeef);
  ip.setIpFragField(b, 0, ip.IP_MF | 185);
  ip.setIpTtl(b, 0, 255);
  ip.setIpProto(b, 0, ip.IPPROTO_TCP);
  ip.setIpSrc(b, 0, 0xffffffff);
  ip.setIpDst(b, 0, 0x01020304);
  ip.setIpCheck(b, 0, 0x1234);
  tcp.setTcpSport(b, 20, 65535);
  tcp.setTcpDport(b, 20, 1);
  tcp.setTcpSeq(b, 20, 0xfffffffe);
  tcp.setTcpAck(b, 20, 0x80000000);
  tcp.setTcpDataOff(b, 20, 5, 0xa);
  tcp.setTcpFlags(b, 20, tcp.TCP_FIN | tcp.TCP_ACK | tcp.TCP_CWR);
  tcp.setTcpWindow(b, 20, 512);
  tcp.setTcpCheck(b, 20, 0xabcd);
  tcp.setTcpUrgPtr(b, 20, 7);
  assert.equal(toHex(b), '45100028beef20b9ff061234ffffffff01020304ffff0001fffffffe80000000' + '5a91' + '0200abcd0007');
  assert.deepEqual([ip.ipFragOff(b, 0), ip.ipMf(b, 0), ip.ipDf(b, 0), ip.ipIsFragment(b, 0), ip.ipSrc(b, 0)], [185, true, false, true, 0xffffffff]);
  assert.deepEqual([tcp.tcpSeq(b, 20), tcp.tcpAck(b, 20), tcp.tcpReserved(b, 20), tcp.formatTcpFlags(tcp.tcpFlags(b, 20))], [0xfffffffe, 0x80000000, 0xa, 'FAC']);

  const u = new Uint8Array(8);
  udp.setUdpSport(u, 0, 53);
  udp.setUdpDport(u, 0, 40000);
  udp.setUdpLen(u, 0, 8);
  udp.setUdpCheck(u, 0, 0xffff);
  assert.equal(toHex(u), '00359c400008ffff');
  assert.deepEqual([udp.udpSport(u, 0), udp.udpDport(u, 0), udp.udpLen(u, 0), udp.udpCheck(u, 0)], [53, 40000, 8, 0xffff]);

  const m = new Uint8Array(8);
  icmp.setIcmpType(m, 0, icmp.ICMP_ECHO);
  icmp.setIcmpCode(m, 0, 0);
  icmp.setIcmpId(m, 0, 0x1234);
  icmp.setIcmpSeq(m, 0, 2);
  icmp.setIcmpCheck(m, 0, 0xfff0);
  assert.equal(toHex(m), '0800fff012340002');
  assert.deepEqual([icmp.icmpType(m, 0), icmp.icmpCode(m, 0), icmp.icmpCheck(m, 0), icmp.icmpId(m, 0), icmp.icmpSeq(m, 0)], [8, 0, 0xfff0, 0x1234, 2]);
  icmp.setIcmpRest(m, 0, 0x000005dc);
  assert.deepEqual([icmp.icmpRest(m, 0), icmp.icmpMtu(m, 0)], [0x5dc, 1500]);
  assert.deepEqual([0, 3, 4, 5, 8, 11, 12, 13].map(icmp.icmpIsError), [false, true, true, true, false, true, true, false]);
  assert.deepEqual([0, 3, 8, 13, 14, 15, 16, 17, 18, 19].map(icmp.icmpHasIdSeq), [true, false, true, true, true, true, true, true, true, false]);

  // an ARP request for 10.0.0.1 from 10.0.0.2 (02:00:00:00:00:02), as scapy builds it
  const a = hex('0001080006040001020000000002' + '0a000002' + '000000000000' + '0a000001');
  assert.deepEqual([arp.arpHrd(a, 0), arp.arpPro(a, 0), arp.arpHln(a, 0), arp.arpPln(a, 0), arp.arpOp(a, 0)], [1, 0x800, 6, 4, arp.ARPOP_REQUEST]);
  assert.deepEqual([arp.arpSpa(a, 0), arp.arpTpa(a, 0), formatMac(a, arp.ARP_SHA_OFF), formatMac(a, arp.ARP_THA_OFF)], [0x0a000002, 0x0a000001, '02:00:00:00:00:02', '00:00:00:00:00:00']);
  arp.setArpOp(a, 0, arp.ARPOP_REPLY);
  arp.setArpSpa(a, 0, 0x0a000001);
  arp.setArpTpa(a, 0, 0x0a000002);
  assert.equal(toHex(a), '00010800060400020200000000020a0000010000000000000a000002');
  eth.setEthType(f, 0, eth.ETH_P_ARP);
  assert.equal(eth.ethType(f, 0), 0x0806);
});

test('TCP flags as letters', () => {
  assert.equal(tcp.formatTcpFlags(0x12), 'SA');
  assert.equal(tcp.formatTcpFlags(0), '');
  assert.equal(tcp.formatTcpFlags(0xff), 'FSRPAUEC');
  assert.equal(tcp.parseTcpFlags('AS'), 0x12);
  assert.equal(tcp.parseTcpFlags(''), 0);
  assert.equal(tcp.parseTcpFlags('SX'), undefined);
  assert.equal(tcp.parseTcpFlags('s'), undefined);
});

test('TCP options: list, summary scan and lookup, malformed lengths reported', () => {
  // mss 1460, sackOK, TS 1/2, nop, wscale 7, sack 2 blocks, kind 30 len 4, eol, padding
  const area = hex('020405b4' + '0402' + '080a0000000100000002' + '01' + '030307' + '0512' + '0000000a00000014' + 'ffffff00ffffffff' + '1e04abcd' + '00000000');
  const opts = tcp.parseTcpOptions(area, 0, area.length);
  assert.deepEqual(opts, [
    { mss: 1460 },
    { sackOk: true },
    { ts: [1, 2] },
    { nop: true },
    { wscale: 7 },
    { sack: [[10, 20], [0xffffff00, 0xffffffff]] },
    { kind: 30, data: hex('abcd') },
  ]);
  assert.equal(tcp.tcpOptionsLength(opts), area.length - 4);
  const out = new Uint8Array(area.length);
  assert.equal(tcp.writeTcpOptions(out, 0, opts), area.length - 4);
  assert.equal(toHex(out), toHex(area));

  // unusual lengths of known kinds fall back to the raw form; junk after EOL is kept
  const odd = hex('0203aa' + '030400aa' + '00' + '0001');
  const oddOpts = tcp.parseTcpOptions(odd, 0, odd.length);
  assert.deepEqual(oddOpts, [{ kind: 2, data: hex('aa') }, { kind: 3, data: hex('00aa') }, { eol: true, rest: hex('0001') }]);
  const oddOut = new Uint8Array(odd.length);
  tcp.writeTcpOptions(oddOut, 0, oddOpts);
  assert.equal(toHex(oddOut), toHex(odd));

  // malformed: length below 2, past the end, missing
  assert.deepEqual(tcp.parseTcpOptions(hex('01' + '0201ffff'), 0, 5), [{ nop: true }, { kind: 2, len: 1, data: hex('ffff'), malformed: true }]);
  assert.deepEqual(tcp.parseTcpOptions(hex('080a0000'), 0, 4), [{ kind: 8, len: 10, data: hex('0000'), malformed: true }]);
  assert.deepEqual(tcp.parseTcpOptions(hex('0101' + '03'), 0, 3), [{ nop: true }, { nop: true }, { kind: 3, malformed: true }]);
  const bad: tcp.TcpOption[] = [{ nop: true }, { kind: 2, len: 1, data: hex('ffff'), malformed: true }, { kind: 3, malformed: true }];
  const badOut = new Uint8Array(tcp.tcpOptionsLength(bad));
  tcp.writeTcpOptions(badOut, 0, bad);
  assert.equal(toHex(badOut), '010201ffff03');

  // the scan over a whole header (40 bytes of options), without allocating a list
  const area40 = hex('020405b4' + '0402' + '080a0000000100000002' + '01' + '030307' + '050a0000000a00000014' + '1e04abcd' + '000000000000');
  const seg = new Uint8Array(20 + area40.length);
  tcp.setTcpDataOff(seg, 0, seg.length / 4);
  seg.set(area40, 20);
  const sum = tcp.newTcpOptionSummary();
  assert.equal(tcp.scanTcpOptions(seg, 0, seg.length, sum), sum);
  assert.deepEqual(sum, { mss: 1460, wscale: 7, sackPerm: true, hasTs: true, tsVal: 1, tsEcr: 2, malformed: false });
  assert.equal(tcp.findTcpOption(seg, 0, seg.length, tcp.TCPOPT_WINDOW), 20 + 17);
  assert.equal(tcp.findTcpOption(seg, 0, seg.length, tcp.TCPOPT_MSS), 20);
  assert.equal(tcp.findTcpOption(seg, 0, seg.length, 99), -1);
  // bounded by the bytes available
  tcp.scanTcpOptions(seg, 0, 24, sum);
  assert.deepEqual(sum, { mss: 1460, wscale: -1, sackPerm: false, hasTs: false, tsVal: 0, tsEcr: 0, malformed: false });
  tcp.scanTcpOptions(seg, 0, 30, sum);
  assert.equal(sum.malformed, true);
  assert.equal(tcp.findTcpOption(seg, 0, 30, tcp.TCPOPT_WINDOW), -1);
  const none = new Uint8Array(20);
  tcp.setTcpDataOff(none, 0, 5);
  tcp.scanTcpOptions(none, 0, 20, sum);
  assert.deepEqual(sum, tcp.newTcpOptionSummary());
  const badSeg = hex('0000000000000000000000006000000000000000' + '0300' + '0000');
  tcp.scanTcpOptions(badSeg, 0, badSeg.length, sum);
  assert.deepEqual([sum.malformed, sum.wscale], [true, -1]);
});

test('IPv4 options: kind, length and data, padding dropped, malformed reported', () => {
  // router alert, nop, record route with one slot, eol + padding
  const area = hex('94040000' + '01' + '070704' + '00000000' + '00' + '0000');
  const opts = ip.parseIpv4Options(area, 0, area.length);
  assert.deepEqual(opts, [{ kind: 148, data: hex('0000') }, { kind: 1 }, { kind: 7, data: hex('0400000000') }]);
  assert.equal(ip.ipv4OptionsLength(opts), 12);
  const out = new Uint8Array(area.length);
  assert.equal(ip.writeIpv4Options(out, 0, opts), 12);
  assert.equal(toHex(out), toHex(area));
  assert.deepEqual(ip.parseIpv4Options(hex('0001ff00'), 0, 4), [{ kind: 0, data: hex('01ff00') }]);
  assert.deepEqual(ip.parseIpv4Options(hex('0700ffff'), 0, 4), [{ kind: 7, len: 0, data: hex('ffff'), malformed: true }]);
  assert.deepEqual(ip.parseIpv4Options(hex('01018906'), 0, 4), [{ kind: 1 }, { kind: 1 }, { kind: 137, len: 6, data: hex(''), malformed: true }]);
  assert.deepEqual(ip.parseIpv4Options(hex('010101'), 0, 3).length, 3);
  assert.deepEqual(ip.parseIpv4Options(hex('01010194'), 0, 4).at(-1), { kind: 148, malformed: true });
  const bad: ip.IpOption[] = [{ kind: 0, data: hex('01ff00') }];
  const badOut = new Uint8Array(4);
  ip.writeIpv4Options(badOut, 0, bad);
  assert.equal(toHex(badOut), '0001ff00');
});

test('encodeFrame: a hand-written SYN gives the bytes scapy builds for the same fields', () => {
  const desc: FrameDesc = {
    eth: { src: '02:00:00:00:00:02', dst: '02:00:00:00:00:01' },
    ipv4: { src: '10.0.0.2', dst: '10.0.0.1', ttl: 64, id: 1, df: true },
    tcp: { sport: 40000, dport: 22, flags: 'S', seq: 1000, window: 64240, options: [{ mss: 1460 }] },
  };
  const bytes = encodeFrame(desc);
  assert.equal(toHex(bytes), '02000000000102000000000208004500002c00014000400626c90a0000020a0000019c400016000003e8000000006002faf0e8f40000020405b4');
  assert.deepEqual(decodeFrame(bytes), {
    eth: { dst: '02:00:00:00:00:01', src: '02:00:00:00:00:02', type: 0x0800 },
    ipv4: {
      version: 4, ihl: 5, tos: 0, totLen: 44, id: 1, df: true, mf: false, fragOff: 0, ttl: 64, proto: 6,
      check: 0x26c9, src: '10.0.0.2', dst: '10.0.0.1', checkValid: true,
    },
    tcp: {
      sport: 40000, dport: 22, seq: 1000, ack: 0, dataOff: 6, reserved: 0, flags: 'S', window: 64240,
      check: 0xe8f4, urgPtr: 0, options: [{ mss: 1460 }], checkValid: true,
    },
  });
  // the flags byte works as well as letters; no description at all gives scapy's defaults
  assert.equal(toHex(encodeFrame({ ...desc, tcp: { ...desc.tcp, flags: 0x02 } })), toHex(bytes));
  assert.equal(toHex(encodeIpv4({})), '45000014000100004000' + '7ce7' + '7f0000017f000001');
});

// What the Linux kernel sent on lo for a UDP datagram to a closed port (captured with tcpdump).
// The quoted UDP checksum is only the pseudo-header part: lo leaves it to "hardware".
const PORT_UNREACH =
  '000000000000000000000000080045c0003bbbe600004001c0197f0000017f0000010303bbd1000000004500001f79cf40004011c2fc7f0000017f000001d08e0009000bfe1e68690a';

test('decodeFrame: an ICMP port unreachable from the kernel, with its quoted datagram', () => {
  const bytes = hex(PORT_UNREACH);
  const d = decodeFrame(bytes);
  assert.deepEqual(d, {
    eth: { dst: '00:00:00:00:00:00', src: '00:00:00:00:00:00', type: 0x0800 },
    ipv4: {
      version: 4, ihl: 5, tos: 0xc0, totLen: 59, id: 48102, df: false, mf: false, fragOff: 0, ttl: 64, proto: 1,
      check: 0xc019, src: '127.0.0.1', dst: '127.0.0.1', checkValid: true,
    },
    icmp: {
      type: 3, code: 3, check: 0xbbd1,
      quote: {
        ipv4: {
          version: 4, ihl: 5, tos: 0, totLen: 31, id: 31183, df: true, mf: false, fragOff: 0, ttl: 64, proto: 17,
          check: 0xc2fc, src: '127.0.0.1', dst: '127.0.0.1', checkValid: true,
        },
        udp: { sport: 53390, dport: 9, len: 11, check: 0xfe1e, checkValid: false },
        payload: hex('68690a'),
      },
      checkValid: true,
    },
    payload: bytes.subarray(42),
  });
  assert.equal(toHex(encodeFrame(d)), PORT_UNREACH);
  // the same message built from its fields: the quote encoded from its description
  const built = encodeFrame({
    eth: { dst: '00:00:00:00:00:00' },
    ipv4: { src: '127.0.0.1', dst: '127.0.0.1', tos: 0xc0, id: 48102 },
    icmp: { type: 3, code: 3, quote: { ...d.icmp!.quote!, payload: hex('68690a') } },
  });
  assert.equal(toHex(built), PORT_UNREACH);
  // cut to the header and 8 bytes, as RFC 792 asks at least
  const short = decodeFrame(encodeFrame({ icmp: { type: 11, quote: d.icmp!.quote!, quoteLen: 28 } }));
  assert.deepEqual(short.icmp!.quote, {
    ipv4: d.icmp!.quote!.ipv4,
    udp: { sport: 53390, dport: 9, len: 11, check: 0xfe1e },
    truncated: 'ipv4 payload',
  });
  assert.equal(short.icmp!.checkValid, true);
});

test('ICMP bytes 4-7: the fields that fit the type, `rest` for what they leave out', () => {
  // checksums as scapy computes them for the same messages
  const icmpOf = (d: FrameDesc) => decodeFrame(encodeFrame(d)).icmp;
  assert.deepEqual(icmpOf({ icmp: { type: 0, id: 0x1234, seq: 7 } }), { type: 0, code: 0, check: 0xedc4, id: 0x1234, seq: 7, checkValid: true });
  assert.deepEqual(icmpOf({ icmp: { type: 5, code: 1, gateway: '10.0.0.254' } }), { type: 5, code: 1, check: 0xf000, gateway: '10.0.0.254', checkValid: true });
  assert.deepEqual(icmpOf({ icmp: { type: 3, code: 4, mtu: 1400 } }), { type: 3, code: 4, check: 0xf783, mtu: 1400, checkValid: true });
  assert.deepEqual(icmpOf({ icmp: { type: 3, code: 4, mtu: 1400, rest: 0x01000000 } }), {
    type: 3, code: 4, check: 0xf683, mtu: 1400, rest: 0x01000578, checkValid: true,
  });
  assert.deepEqual(icmpOf({ icmp: { type: 12, pointer: 9 } }), { type: 12, code: 0, check: 0xeaff, pointer: 9, checkValid: true });
  assert.deepEqual(icmpOf({ icmp: { type: 11, rest: 5 } }), { type: 11, code: 0, check: 0xf4fa, rest: 5, checkValid: true });
  assert.deepEqual(icmpOf({ icmp: { type: 11 } }), { type: 11, code: 0, check: 0xf4ff, checkValid: true });
});

test('ARP, Ethernet padding and other EtherTypes', () => {
  const req = hex('ffffffffffff020000000002080600010800060400010200000000020a0000020000000000000a000001');
  const desc: FrameDesc = { eth: { src: '02:00:00:00:00:02' }, arp: { spa: '10.0.0.2', tpa: '10.0.0.1' } };
  assert.equal(toHex(encodeFrame(desc)), toHex(req));
  const padded = encodeFrame({ ...desc, trailer: new Uint8Array(18) });
  assert.equal(padded.length, 60);
  assert.deepEqual(decodeFrame(padded), {
    eth: { dst: 'ff:ff:ff:ff:ff:ff', src: '02:00:00:00:00:02', type: 0x0806 },
    arp: { hwType: 1, protoType: 0x0800, hwLen: 6, protoLen: 4, op: 1, sha: '02:00:00:00:00:02', spa: '10.0.0.2', tha: '00:00:00:00:00:00', tpa: '10.0.0.1' },
    trailer: new Uint8Array(18),
  });
  // other address lengths: the body stays opaque
  const odd = encodeFrame({ arp: { hwType: 6, hwLen: 2, protoLen: 2 }, payload: hex('aabbccdd11112222') });
  assert.deepEqual(decodeFrame(odd).arp, { hwType: 6, protoType: 0x0800, hwLen: 2, protoLen: 2, op: 1 });
  assert.deepEqual(decodeFrame(odd).payload, hex('aabbccdd11112222'));
  // an IPv4 datagram shorter than the minimum frame keeps its padding as trailer
  const ping = encodeFrame({ ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, icmp: { id: 1, seq: 1 }, trailer: new Uint8Array(18) });
  assert.equal(ping.length, 60);
  const pd = decodeFrame(ping);
  assert.deepEqual([pd.ipv4!.totLen, pd.icmp!.checkValid, pd.trailer], [28, true, new Uint8Array(18)]);
  assert.equal(toHex(encodeFrame(pd)), toHex(ping));
  // IPv6 and anything else: opaque
  const v6 = encodeFrame({ eth: { type: 0x86dd }, payload: hex('6000000000003a40') });
  assert.deepEqual(decodeFrame(v6), {
    eth: { dst: 'ff:ff:ff:ff:ff:ff', src: '00:00:00:00:00:00', type: 0x86dd },
    payload: hex('6000000000003a40'),
  });
  assert.throws(() => encodeFrame({ payload: hex('00') }), /eth.type is needed/);
  assert.throws(() => encodeFrame({ eth: { src: '02:00' }, ipv4: {} }), /not a MAC address: 02:00/);
  assert.throws(() => encodeFrame({ ipv4: { src: '10.0.0.256' } }), /not an IPv4 address: 10.0.0.256/);
  assert.throws(() => encodeFrame({ tcp: { flags: 'SYN' } }), /not TCP flags: SYN/);
});

test('fragments: the first is decoded without a checksum verdict, the others stay opaque', () => {
  // UDP with 40 bytes of "x" from 10.0.0.2 to 10.0.0.1 (id 7) in 24-byte pieces, as scapy fragments it
  const first = hex('4500002c00072000401146b80a0000020a00000103e807d00030766a78787878787878787878787878787878');
  const second = hex('4500002c00070003401166b50a0000020a000001787878787878787878787878787878787878787878787878');
  const d1 = decodeIpv4(first);
  assert.deepEqual([d1.ipv4!.mf, d1.ipv4!.fragOff, d1.udp, d1.payload?.length], [true, 0, { sport: 1000, dport: 2000, len: 48, check: 0x766a }, 16]);
  assert.equal(d1.malformed, 'udp length 48'); // the datagram's length, longer than this piece
  const d2 = decodeIpv4(second);
  assert.deepEqual([d2.ipv4!.mf, d2.ipv4!.fragOff, d2.udp, d2.payload], [false, 3, undefined, new Uint8Array(24).fill(0x78)]);
  assert.equal(toHex(encodeIpv4(d1)), toHex(first));
  assert.equal(toHex(encodeIpv4(d2)), toHex(second));
  const tcpFirst = decodeIpv4(encodeIpv4({ ipv4: { mf: true }, tcp: {}, payload: new Uint8Array(8) }));
  assert.deepEqual([tcpFirst.tcp!.checkValid, tcpFirst.payload?.length, tcpFirst.malformed], [undefined, 8, undefined]);
});

test('crafted bad checksums and lengths are written as given and reported', () => {
  const base: FrameDesc = { ipv4: { src: '10.0.0.1', dst: '10.0.0.2' }, udp: { sport: 1, dport: 2 }, payload: hex('0102030405') };
  const good = decodeFrame(encodeFrame(base));
  assert.deepEqual([good.ipv4!.checkValid, good.udp!.checkValid, good.udp!.len], [true, true, 13]);
  const badSums = decodeFrame(encodeFrame({ ...base, ipv4: { ...base.ipv4, check: 0x1234 }, udp: { ...base.udp, check: 0x4321 } }));
  assert.deepEqual([badSums.ipv4!.check, badSums.ipv4!.checkValid, badSums.udp!.check, badSums.udp!.checkValid], [0x1234, false, 0x4321, false]);
  const noSum = decodeFrame(encodeFrame({ ...base, udp: { ...base.udp, check: 0 } }));
  assert.equal(noSum.udp!.checkValid, true);
  // a UDP length shorter than the datagram: the checksum covers that length, the rest is still payload
  const shortLen = decodeFrame(encodeFrame({ ...base, udp: { ...base.udp, len: 10 } }));
  assert.deepEqual([shortLen.udp!.len, shortLen.udp!.checkValid, shortLen.payload, shortLen.malformed], [10, true, hex('0102030405'), undefined]);
  const longLen = decodeFrame(encodeFrame({ ...base, udp: { ...base.udp, len: 14 } }));
  assert.deepEqual([longLen.udp!.checkValid, longLen.malformed], [undefined, 'udp length 14']);
  // IPv4 total length longer than the bytes, shorter than the header, shorter than the bytes
  const long = decodeFrame(encodeFrame({ ...base, ipv4: { ...base.ipv4, totLen: 100 } }));
  assert.deepEqual([long.truncated, long.udp!.checkValid, long.ipv4!.checkValid, long.payload], ['ipv4 payload', undefined, true, hex('0102030405')]);
  const tiny = decodeFrame(encodeFrame({ ...base, ipv4: { ...base.ipv4, totLen: 12 } }));
  assert.deepEqual([tiny.malformed, tiny.udp, tiny.payload?.length], ['ipv4 total length 12', undefined, 13]);
  const cut = decodeFrame(encodeFrame({ ...base, ipv4: { ...base.ipv4, totLen: 30 } }));
  assert.deepEqual([cut.udp!.len, cut.malformed, cut.payload, cut.trailer], [13, 'udp length 13', hex('0102'), hex('030405')]);
  // header length fields below the minimum; a version that is not 4
  const ihl3 = encodeFrame({ ...base, ipv4: { ...base.ipv4, ihl: 3 } });
  assert.deepEqual([decodeFrame(ihl3).malformed, decodeFrame(ihl3).udp, decodeFrame(ihl3).payload?.length], ['ipv4 header length 3', undefined, 13]);
  const v6 = decodeFrame(encodeFrame({ ...base, ipv4: { ...base.ipv4, version: 6 } }));
  assert.deepEqual([v6.malformed, v6.ipv4!.checkValid, v6.udp], ['ipv4 version 6', undefined, undefined]);
  const doff = decodeFrame(encodeFrame({ tcp: { dataOff: 2 }, payload: hex('aa') }));
  assert.deepEqual([doff.malformed, doff.tcp!.dataOff, doff.tcp!.checkValid, doff.payload], ['tcp data offset 2', 2, undefined, hex('aa')]);
  // an ihl or data offset longer than the options: padded with zeros
  const padded = encodeFrame({ ipv4: { ihl: 7, options: [{ kind: 1 }] }, tcp: { dataOff: 8, options: [{ wscale: 2 }] } });
  const pd = decodeFrame(padded);
  assert.deepEqual([pd.ipv4!.ihl, pd.ipv4!.options, pd.ipv4!.checkValid, pd.tcp!.dataOff, pd.tcp!.options, pd.tcp!.checkValid], [7, [{ kind: 1 }], true, 8, [{ wscale: 2 }], true]);
  assert.equal(padded.length, 14 + 28 + 32);
  for (const f of [ihl3, padded]) assert.equal(toHex(encodeFrame(decodeFrame(f))), toHex(f));
});

test('every prefix of a frame decodes without throwing and says where it was cut', () => {
  const frame = encodeFrame({
    ipv4: { options: [{ kind: 148, data: hex('0000') }] },
    tcp: { options: [{ mss: 1460 }, { nop: true }, { wscale: 7 }] },
    payload: hex('0102'),
  });
  const seen: string[] = [];
  for (let n = 0; n <= frame.length; n++) {
    const d = decodeFrame(frame.subarray(0, n));
    const label = d.truncated ?? 'complete';
    if (seen.at(-1) !== label) seen.push(label);
  }
  assert.deepEqual(seen, ['ethernet', 'ipv4', 'ipv4 options', 'tcp', 'tcp options', 'ipv4 payload', 'complete']);
  // the TCP header, when cut inside the datagram's own length: the fields that fit
  const d = decodeIpv4(encodeIpv4({ ipv4: { totLen: 100 }, tcp: { sport: 1, dport: 2, seq: 3 } }).subarray(0, 28));
  assert.deepEqual([d.tcp, d.truncated], [{ sport: 1, dport: 2, seq: 3 }, 'tcp']);
  const u = decodeIpv4(encodeIpv4({ udp: {} }).subarray(0, 25));
  assert.deepEqual([u.udp, u.truncated], [{ sport: 53, dport: 53 }, 'udp']);
  const m = decodeIpv4(encodeIpv4({ icmp: {} }).subarray(0, 23));
  assert.deepEqual([m.icmp, m.truncated], [{ type: 8, code: 0 }, 'icmp']);
  const o = decodeIpv4(encodeIpv4({ tcp: { options: [{ mss: 1 }, { ts: [1, 2] }] } }).subarray(0, 48));
  assert.deepEqual([o.tcp!.options, o.truncated], [[{ mss: 1 }, { kind: 8, len: 10, data: hex('0000'), malformed: true }], 'tcp options']);
  assert.deepEqual(decodeFrame(hex('0102')), { truncated: 'ethernet', payload: hex('0102') });
  assert.deepEqual(decodeFrame(new Uint8Array(0)), { truncated: 'ethernet' });
  assert.deepEqual(decodeFrame(hex('ffffffffffff0000000000000806' + '00010800')), {
    eth: { dst: 'ff:ff:ff:ff:ff:ff', src: '00:00:00:00:00:00', type: 0x0806 },
    payload: hex('00010800'),
    truncated: 'arp',
  });
});
