/**
 * The FTP helper and expectations, in-process: what the kernel-differential
 * suites (pktdiff-ftp, conntrack-expect) cannot set on the reference
 * machine (the `loose` parameter is global there), and the expectation
 * table's own rules (timeout, master gone, JSON form).
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatExpectation, listExpectations, procExpectText } from '../src/core/conntrack/expect.js';
import { ftpHelp } from '../src/core/conntrack/helper-ftp.js';
import { helperLogLine, type HelperEnv } from '../src/core/conntrack/helper.js';
import { ConntrackTable, conntrackFromJson, conntrackToJson } from '../src/core/conntrack/table.js';
import { IPS, type Conn } from '../src/core/conntrack/types.js';
import { CtInfo, newSkb } from '../src/core/path/skb.js';
import { NF_ACCEPT, NF_DROP } from '../src/core/xt/verdict.js';
import { ascii, ipv4, ipv4Bytes, tcp } from './pktdiff/build.js';

const addr = (s: string): number => {
  const b = ipv4Bytes(s);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
};
const CLIENT = addr('10.0.0.2');
const SERVER = addr('192.168.0.18');

/** A confirmed FTP control connection client:50000 -> server:21 with the helper. */
function control(table: ConntrackTable): Conn {
  const c: Conn = {
    id: 42,
    orig: { src: CLIENT, dst: SERVER, proto: 6, sport: 50000, dport: 21 },
    reply: { src: SERVER, dst: CLIENT, proto: 6, sport: 21, dport: 50000 },
    status: IPS.SEEN_REPLY | IPS.ASSURED,
    expires: 432000e9,
    mark: 0,
    secmark: 0,
    zone: 0,
    labels: [0, 0, 0, 0],
    helper: 'ftp',
    master: 0,
    l4: null,
    pkts: [0, 0],
    bytes: [0, 0],
  };
  table.insert(c);
  return c;
}

function env(table: ConntrackTable, now: { ns: number }, loose = false): HelperEnv {
  return {
    table,
    nowNs: () => now.ns,
    nat: { random32: () => 7, conntrack: table },
    ftpLoose: () => loose,
  };
}

/** A reply segment from the server carrying `text`, seq `seq`. */
function fromServer(text: string, seq: number) {
  const skb = newSkb(ipv4({ src: '192.168.0.18', dst: '10.0.0.2', id: 1 }, tcp({ sport: 21, dport: 50000, seq, ack: 1, flags: 'PA', payload: ascii(text) })), null, 'eth1');
  skb.ctinfo = CtInfo.ESTABLISHED_REPLY;
  return skb;
}

describe('FTP helper', () => {
  it('reads a reply only at a known line start; the first segment only teaches it', () => {
    const table = new ConntrackTable(() => 0);
    const now = { ns: 1e9 };
    const ct = control(table);
    const e = env(table, now);
    const reply = '227 Entering Passive Mode (192,168,0,18,39,118).\r\n';
    // the first server segment is the 227 itself: not read
    assert.equal(ftpHelp(e, fromServer(reply, 5001), ct, CtInfo.ESTABLISHED_REPLY), NF_ACCEPT);
    assert.equal(table.expects.length, 0);
    // the same reply again at the line start it learned: read
    assert.equal(ftpHelp(e, fromServer(reply, 5001 + reply.length), ct, CtInfo.ESTABLISHED_REPLY), NF_ACCEPT);
    assert.deepEqual(
      listExpectations(table, now.ns).map((x) => formatExpectation(x, now.ns + 0.5e9)),
      ['299 proto=6 src=10.0.0.2 dst=192.168.0.18 sport=0 dport=10102 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=10.0.0.2 master-dst=192.168.0.18 sport=50000 dport=21 class=0 helper=ftp'],
    );
    // the kernel's /proc/net/nf_conntrack_expect line for the same expectation
    assert.equal(procExpectText(table, now.ns + 0.5e9), '299 l3proto = 2 proto=6 src=10.0.0.2 dst=192.168.0.18 sport=0 dport=10102 ftp\n');
  });

  it('follows another address than the server\'s only with loose=1', () => {
    for (const loose of [false, true]) {
      const table = new ConntrackTable(() => 0);
      const now = { ns: 1e9 };
      const ct = control(table);
      const e = env(table, now, loose);
      const banner = '220 hi\r\n';
      ftpHelp(e, fromServer(banner, 5001), ct, CtInfo.ESTABLISHED_REPLY);
      const v = ftpHelp(e, fromServer('227 Entering Passive Mode (192,168,0,99,39,118).\r\n', 5001 + banner.length), ct, CtInfo.ESTABLISHED_REPLY);
      assert.equal(v, NF_ACCEPT);
      assert.deepEqual(
        table.expects.map((x) => formatExpectation(x, now.ns)),
        loose
          ? ['300 proto=6 src=10.0.0.2 dst=192.168.0.99 sport=0 dport=10102 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=10.0.0.2 master-dst=192.168.0.18 sport=50000 dport=21 class=0 helper=ftp']
          : [],
      );
    }
  });

  it('logs a dropped packet as the kernel does, without devices', () => {
    // as the kernel logged frame 7 of pktdiff-ftp's ftp-port-split scenario
    const skb = newSkb(ipv4({ src: '10.0.0.2', dst: '192.168.0.18', id: 5, ttl: 63, df: true }, tcp({ sport: 50000, dport: 21, seq: 1011, ack: 5055, flags: 'PA', payload: ascii('PORT 10,0,0') })), null, 'eth0');
    assert.equal(
      helperLogLine(skb, "nf_ct_ftp: dropping packet: partial matching of `PORT' "),
      "nf_ct_ftp: dropping packet: partial matching of `PORT' IN= OUT= SRC=10.0.0.2 DST=192.168.0.18 LEN=51 TOS=0x00 PREC=0x00 TTL=63 ID=5 DF PROTO=TCP SPT=50000 DPT=21 SEQ=1011 ACK=5055 WINDOW=64240 RES=0x00 ACK PSH URGP=0 ",
    );
  });

  it('drops a reply cut short, without learning its end', () => {
    const table = new ConntrackTable(() => 0);
    const ct = control(table);
    const e = env(table, { ns: 0 });
    const banner = '220 hi\r\n';
    ftpHelp(e, fromServer(banner, 5001), ct, CtInfo.ESTABLISHED_REPLY);
    assert.equal(ftpHelp(e, fromServer('22', 5001 + banner.length), ct, CtInfo.ESTABLISHED_REPLY), NF_DROP);
    assert.deepEqual((ct as Conn & { ftp: { nl: number[][] } }).ftp.nl, [[], [5001 + banner.length]]);
  });
});

describe('expectations', () => {
  it('time out after five minutes, go with their master, and persist as JSON', () => {
    const table = new ConntrackTable(() => 0);
    const now = { ns: 1e9 };
    const ct = control(table);
    const e = env(table, now);
    const banner = '220 hi\r\n';
    ftpHelp(e, fromServer(banner, 5001), ct, CtInfo.ESTABLISHED_REPLY);
    ftpHelp(e, fromServer('229 Entering Extended Passive Mode (|||10103|)\r\n', 5001 + banner.length), ct, CtInfo.ESTABLISHED_REPLY);
    assert.equal(listExpectations(table, now.ns + 299.9e9).length, 1);
    assert.equal(listExpectations(table, now.ns + 300e9).length, 0);

    ftpHelp(e, fromServer('229 Entering Extended Passive Mode (|||10104|)\r\n', 5001 + banner.length), ct, CtInfo.ESTABLISHED_REPLY);
    const json = JSON.parse(JSON.stringify(conntrackToJson(table)));
    assert.deepEqual(json.expects, [
      {
        tuple: { src: CLIENT, dst: SERVER, proto: 6, sport: 0, dport: 10104 },
        maskSrc: 0xffffffff,
        maskSport: 0,
        helper: 'ftp',
        cls: 0,
        flags: 0,
        expires: 301e9,
        masterId: 42,
      },
    ]);
    const back = conntrackFromJson(json, () => now.ns);
    assert.equal(back.expects.length, 1);
    assert.equal(back.expects[0]!.master, back.entries()[0]);
    // the master leaves the table: its expectation goes too
    back.remove(back.entries()[0]!);
    assert.equal(listExpectations(back, now.ns).length, 0);
  });
});
