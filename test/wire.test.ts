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
import * as ip from '../src/core/wire/ipv4.js';
import * as tcp from '../src/core/wire/tcp.js';

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)));
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
