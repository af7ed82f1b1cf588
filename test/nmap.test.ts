/**
 * nmap's parts alone: the command line, port selection from the
 * nmap-services table, target expansion, number formats, the report's
 * grouping and ordering rules, and the virtual durations of scans in the
 * two-host test lab (deterministic; the real nmap's durations on the
 * same network are given beside them).
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nmap } from '../src/core/programs/nmap.js';
import { newRtt, PING_TRY, timingTemplate, UltraScan } from '../src/core/programs/nmap-engine.js';
import { expandTarget, parseNmapArgs, selectPorts, type NmapOptions } from '../src/core/programs/nmap-options.js';
import { doneLine, hostStatusLine, portSection, sigDigits, type HostReport, type PortResult } from '../src/core/programs/nmap-output.js';
import { serviceName, topPorts } from '../src/core/programs/nmap-services.js';
import { runInLab, TARGET } from './nmap-world.js';

function opts(args: string[]): NmapOptions {
  const o = parseNmapArgs(args);
  if ('error' in o) throw new Error(o.error);
  return o;
}

describe('nmap command line', () => {
  it('refuses what nmap 7.93 refuses, with its messages and statuses', () => {
    assert.deepEqual(parseNmapArgs(['-sS', '-sT', 'x']), {
      error: 'You specified more than one type of TCP scan.  Please choose only one of -sA, -b, -sT, -sF, -sI, -sM, -sN, -sS, -sW, and -sX\nQUITTING!\n',
      status: 1,
    });
    assert.deepEqual(parseNmapArgs(['-T9']), {
      error:
        'Unknown timing mode (-T argument).  Use either "Paranoid", "Sneaky", "Polite", "Normal", "Aggressive", "Insane" or a number from 0 (Paranoid) to 5 (Insane)\nQUITTING!\n',
      status: 1,
    });
    assert.deepEqual(parseNmapArgs(['--bogus']), { error: "nmap: unrecognized option '--bogus'\nSee the output of nmap -h for a summary of options.\n", status: 255 });
    assert.deepEqual(parseNmapArgs(['-sQ']), { error: 'Scantype Q not supported\n', status: 255 });
  });

  it('says plainly which real nmap features the lab does not have', () => {
    assert.deepEqual(parseNmapArgs(['-sV', 'x']), { error: 'nmap: -sV: not supported in the lab (port scans and host discovery only)\n', status: 1 });
    assert.deepEqual(parseNmapArgs(['-A', 'x']), { error: 'nmap: -A: not supported in the lab (port scans and host discovery only)\n', status: 1 });
  });

  it('takes options the ways nmap does: joined values, combined scan letters, -P0 and -Pn, timing names', () => {
    const o = opts(['-p22,80', '-sSU', '-P0', '-Taggressive', '-vv', '--reason', '10.0.0.1']);
    assert.equal(o.portSpec, '22,80');
    assert.equal(o.tcpScan, 'syn');
    assert.equal(o.udpScan, true);
    assert.equal(o.noPing, true);
    assert.equal(o.timing, 4);
    assert.equal(o.verbose, 2);
    assert.equal(o.reason, true);
    assert.deepEqual(o.targets, ['10.0.0.1']);
    assert.equal(opts(['-Pn', 'h']).noPing, true);
    assert.equal(opts(['h']).tcpScan, 'syn', 'root gets a SYN scan by default');
  });

  it('selects the top ports of nmap-services, ascending', () => {
    const fast = selectPorts(opts(['-F', 'x']));
    assert.ok(!('error' in fast));
    assert.equal(fast.tcp.length, 100);
    assert.deepEqual(fast.tcp.slice(0, 5), [7, 9, 13, 21, 22]);
    assert.deepEqual(fast.tcp.slice(-3), [49155, 49156, 49157]);
    const dflt = selectPorts(opts(['x']));
    assert.ok(!('error' in dflt));
    assert.equal(dflt.tcp.length, 1000);
    assert.deepEqual(dflt.tcp.slice(-3), [65000, 65129, 65389]);
    const udp = selectPorts(opts(['-sU', '-F', 'x']));
    assert.ok(!('error' in udp));
    assert.deepEqual(udp.udp.slice(0, 8), [7, 9, 17, 19, 49, 53, 67, 68]);
    assert.deepEqual(udp.tcp, []);
    assert.deepEqual(topPorts('tcp', 5), [80, 23, 443, 21, 22]);
  });

  it('reads port lists, ranges, open ends and protocol prefixes', () => {
    assert.deepEqual(selectPorts(opts(['-sS', '-p', 'U:53,T:22,80', 'x'])), {
      tcp: [22, 80],
      udp: [],
      warnings: ['WARNING: Your ports include "U:" but you haven\'t specified UDP scan with -sU.'],
    });
    assert.deepEqual(selectPorts(opts(['-sS', '-sU', '-p', 'T:22-24,U:53', 'x'])), { tcp: [22, 23, 24], udp: [53], warnings: [] });
    const all = selectPorts(opts(['-p-', 'x']));
    assert.ok(!('error' in all));
    assert.equal(all.tcp.length, 65535);
    const tail = selectPorts(opts(['-p', '65530-', 'x']));
    assert.ok(!('error' in tail));
    assert.deepEqual(tail.tcp, [65530, 65531, 65532, 65533, 65534, 65535]);
    assert.deepEqual(selectPorts(opts(['-p', '70000', 'x'])), { error: 'Ports specified must be between 0 and 65535 inclusive' });
    assert.deepEqual(selectPorts(opts(['-p', '22x', 'x'])), {
      error: 'Error #487: Your port specifications are illegal.  Example of proper form: "-100,200-1024,T:3000-4000,U:60000-"',
    });
    assert.deepEqual(selectPorts(opts(['-p', '5-2', 'x'])), { error: 'Your port range 5-2 is backwards. Did you mean 2-5?' });
  });

  it('expands targets: CIDR blocks whole, octet ranges and lists, names through the resolver', () => {
    const r = (n: string): number | null => (n === 'srv' ? 0x0a000005 : /^\d+\.\d+\.\d+\.\d+$/.test(n) ? n.split('.').reduce((a, b) => a * 256 + Number(b), 0) : null);
    assert.deepEqual(expandTarget('10.0.0.1-3', r), [0x0a000001, 0x0a000002, 0x0a000003]);
    assert.deepEqual(expandTarget('10.0.0.9/30', r), [0x0a000008, 0x0a000009, 0x0a00000a, 0x0a00000b]);
    assert.equal(expandTarget('10.0.0.*', r)!.length, 256);
    assert.deepEqual(expandTarget('10.0.1,2.7', r), [0x0a000107, 0x0a000207]);
    assert.deepEqual(expandTarget('srv', r), [0x0a000005]);
    assert.equal(expandTarget('nosuchhost', r), null);
  });
});

describe('nmap report', () => {
  it('prints latencies with two significant digits, as nmap does', () => {
    assert.deepEqual(
      [0.000029, 0.000006, 0.00018, 0.0012345, 0, 1.5].map((x) => sigDigits(x, 2)),
      ['0.000029', '0.0000060', '0.00018', '0.0012', '0.00', '1.5'],
    );
  });

  const host = (ports: PortResult[]): HostReport => ({ addr: 0x0a090002, up: true, reason: 'arp-response', reasonTtl: 0, srttUs: 29, ports });
  const many = (from: number, n: number, state: PortResult['state'], reason: string): PortResult[] =>
    Array.from({ length: n }, (_, i) => ({ port: from + i, proto: 'tcp' as const, state, reason, ttl: 0 }));
  const ro = { verbose: 0, reason: false, openOnly: false, tcpScan: true };

  it('groups ignored ports by state and reason; equal reason counts come in nmap\'s merge-sort order', () => {
    const ports = [...many(1, 30, 'filtered', 'no-response'), ...many(31, 30, 'filtered', 'port-unreach'), ...many(61, 40, 'closed', 'reset')];
    assert.equal(
      portSection(host(ports), ro),
      'All 100 scanned ports on 10.9.0.2 are in ignored states.\nNot shown: 30 filtered tcp ports (port-unreach), 30 filtered tcp ports (no-response), 40 closed tcp ports (reset)\n',
    );
  });

  it('shows states of 25 ports or fewer, more with -v; the table columns one space apart', () => {
    const ports = [...many(1, 26, 'closed', 'reset'), ...many(100, 25, 'filtered', 'no-response'), { port: 22, proto: 'tcp' as const, state: 'open' as const, reason: 'syn-ack', ttl: 64 }];
    const plain = portSection(host(ports), ro);
    assert.equal(plain.split('\n')[0], 'Not shown: 26 closed tcp ports (reset)');
    assert.equal(plain.split('\n')[1], 'PORT    STATE    SERVICE');
    assert.equal(plain.split('\n').length, 1 + 1 + 26 + 1);
    const verbose = portSection(host(ports), { ...ro, verbose: 1, reason: true });
    assert.equal(verbose.split('\n')[0], '');
    assert.equal(verbose.split('\n')[1], 'PORT    STATE    SERVICE     REASON');
    assert.match(verbose, /\n22\/tcp  open     ssh         syn-ack ttl 64\n/);
  });

  it('writes the host status and closing lines', () => {
    assert.equal(hostStatusLine(host([]), ro), 'Host is up (0.000029s latency).\n');
    assert.equal(hostStatusLine({ ...host([]), srttUs: -1 }, { ...ro, reason: true }), 'Host is up, received arp-response.\n');
    assert.equal(doneLine(8, 2, 1.254), 'Nmap done: 8 IP addresses (2 hosts up) scanned in 1.25 seconds\n');
    assert.equal(doneLine(1, 0, 0.5), 'Nmap done: 1 IP address (0 hosts up) scanned in 0.50 seconds\n');
    assert.equal(serviceName(22, 'tcp'), 'ssh');
    assert.equal(serviceName(8, 'udp'), 'unknown');
  });
});

describe('nmap scan timing', () => {
  it('tries a silent item twice, pausing a second before the first retransmission', () => {
    const t = timingTemplate(3);
    const rtt = newRtt(t);
    rtt.timeout = t.minRttNs;
    const scan = new UltraScan(3, t, rtt, 0);
    assert.deepEqual(scan.due(0), [
      { item: 0, tryno: 0 },
      { item: 1, tryno: 0 },
      { item: 2, tryno: 0 },
    ]);
    assert.equal(scan.nextWake(), 100_000_000);
    assert.deepEqual(scan.due(100_000_000), []);
    assert.equal(scan.nextWake(), 1_100_000_000, 'rate-limit detection waits a second');
    assert.deepEqual(scan.due(1_100_000_000), [
      { item: 0, tryno: 1 },
      { item: 1, tryno: 1 },
      { item: 2, tryno: 1 },
    ]);
    assert.equal(scan.answer(1, 1, 1_100_020_000), true);
    assert.deepEqual(scan.due(1_200_000_000), [], 'an answer to try 1 allows try 2, after another pause');
    assert.equal(scan.nextWake(), 2_200_000_000);
    assert.deepEqual(scan.due(2_200_000_000), [
      { item: 0, tryno: 2 },
      { item: 2, tryno: 2 },
    ]);
    assert.equal(PING_TRY, -1);
  });

  it('takes as long in virtual time as the real nmap does on the same network', () => {
    // the real nmap 7.93 between two namespaces: 4.83 s and 1.81 s
    const lab = { targetRules: ['-P INPUT DROP', '-A INPUT -p tcp --dport 22 -j ACCEPT'], services: { tcp: [22] } };
    const full = runInLab(lab, nmap, ['nmap', '-n', TARGET]);
    assert.match(full.stdout, /\nNot shown: 999 filtered tcp ports \(no-response\)\n/);
    assert.match(full.stdout, /\nNmap done: 1 IP address \(1 host up\) scanned in 4\.68 seconds\n$/);
    const fast = runInLab(lab, nmap, ['nmap', '-n', '-F', TARGET]);
    // a host that is not there: 1.43 s for the real nmap's ARP ping
    const gone = runInLab({}, nmap, ['nmap', '-n', '-sn', '10.9.0.3']);
    assert.equal(gone.stdout.split('\n').slice(1).join('\n'), 'Note: Host seems down. If it is really up, but blocking our ping probes, try -Pn\nNmap done: 1 IP address (0 hosts up) scanned in 1.44 seconds\n');
    // every port dropped: 21.17 s for the real nmap
    const dropped = runInLab({ targetRules: ['-P INPUT DROP'] }, nmap, ['nmap', '-n', TARGET]);
    assert.match(dropped.stdout, /\nAll 1000 scanned ports on 10\.9\.0\.2 are in ignored states\.\nNot shown: 1000 filtered tcp ports \(no-response\)\n/);
    assert.match(dropped.stdout, /scanned in 21\.08 seconds\n$/);
    assert.match(fast.stdout, /scanned in 1\.98 seconds\n$/);
    // the real nmap: all 100 closed in 102.03 s (a Linux host limiting its port unreachables to one a second)
    const udp = runInLab({}, nmap, ['nmap', '-n', '-sU', '-p', '1-100', TARGET]);
    assert.match(udp.stdout, /\nAll 100 scanned ports on 10\.9\.0\.2 are in ignored states\.\nNot shown: 100 closed udp ports \(port-unreach\)\n/);
    assert.match(udp.stdout, /scanned in 101\.28 seconds\n$/);
  });
});
