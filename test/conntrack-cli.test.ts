/**
 * The conntrack command against the real conntrack-tools 1.4.7: the same
 * connections are made in a kernel namespace and in nflab, then the same
 * command lines run on both; stdout (lines sorted, ids masked, timeouts
 * within the time the kernel run took), stderr and the exit status must
 * agree. Commands run in order, so the deleting ones come last.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { runConntrack } from '../src/cli/conntrack.js';
import { newTemplate } from '../src/core/conntrack/hooks.js';
import { sctpChecksum } from '../src/core/conntrack/proto-sctp.js';
import { ConntrackTable } from '../src/core/conntrack/table.js';
import type { PacketDesc } from '../src/core/wire/frame.js';
import { guardKernel } from './diff/suite.js';
import { type Emulation, type Scenario, type Step, compareListing, datagram, runKernel, runNflab } from './conntrack-lib.js';

function pkt(dir: 'o' | 'r', desc: PacketDesc): Step {
  return { dir, data: datagram(dir, desc) };
}

const u32 = (v: number): number[] => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

/** An SCTP packet B:5000 <-> C:80 with one chunk (bytes given whole). */
function sctp(dir: 'o' | 'r', vtag: number, chunkBytes: number[]): Step {
  const sport = dir === 'o' ? 5000 : 80;
  const dport = dir === 'o' ? 80 : 5000;
  const data = datagram(dir, { ipv4: { proto: 132 }, payload: new Uint8Array([sport >> 8, sport & 255, dport >> 8, dport & 255, ...u32(vtag), 0, 0, 0, 0, ...chunkBytes]) });
  data.set(u32(sctpChecksum(data, 20, data.length)), 28);
  return { dir, data };
}

function tcp(dir: 'o' | 'r', sport: number, dport: number, flags: string, seq: number, ack = 0): Step {
  return pkt(dir, { tcp: { sport, dport, flags, seq, ack, window: 1000 } });
}

const STEPS: Step[] = [
  tcp('o', 1000, 80, 'S', 100),
  tcp('r', 80, 1000, 'SA', 5000, 101),
  tcp('o', 1000, 80, 'A', 101, 5001),
  tcp('o', 1001, 22, 'S', 100),
  pkt('o', { udp: { sport: 53, dport: 53 } }),
  pkt('o', { udp: { sport: 5353, dport: 99 } }),
  pkt('o', { icmp: { type: 8, id: 7, seq: 1 } }),
  pkt('r', { icmp: { type: 0, id: 7, seq: 1 } }),
  pkt('o', { ipv4: { proto: 50 }, payload: new Uint8Array(16) }),
  pkt('o', { ipv4: { proto: 47 }, payload: new Uint8Array([0, 0, 0x08, 0, 1, 2, 3, 4]) }),
  // an SCTP association: INIT, INIT ACK, COOKIE ECHO, COOKIE ACK
  sctp('o', 0, [1, 0, 0, 20, ...u32(0x1111aaaa), ...u32(65536), 0, 10, 0, 10, ...u32(1)]),
  sctp('r', 0x1111aaaa, [2, 0, 0, 20, ...u32(0x2222bbbb), ...u32(65536), 0, 10, 0, 10, ...u32(1)]),
  sctp('o', 0x2222bbbb, [10, 0, 0, 8, 1, 2, 3, 4]),
  sctp('r', 0x1111aaaa, [11, 0, 0, 4]),
];

/** CONNMARK --set-mark 42 on UDP in mangle FORWARD, CT --zone 7 on UDP to port 99 in raw PREROUTING. */
const RULES = [
  ['-t', 'mangle', '-A', 'FORWARD', '-p', 'udp', '-j', 'CONNMARK', '--set-mark', '42'],
  ['-t', 'raw', '-A', 'PREROUTING', '-p', 'udp', '--dport', '99', '-j', 'CT', '--zone', '7'],
];
const emulate: Emulation = (skb, where) => {
  if (skb.data[9] !== 17) return;
  if (where === 'raw' && ((skb.data[22]! << 8) | skb.data[23]!) === 99) skb.ct = newTemplate(7);
  if (where === 'forward' && skb.ct) skb.ct.mark = 42;
};

const LIST_COMMANDS = `-L
-L -p tcp
-L -p 6
-L -p udp
-L -p icmp
-L -p gre
-L -p 47
-L -p esp
-L -p 50
-L -p 255
-L -p 256
-L -p 0
-L -p foo
-L -p TCP --sport 1000
-L -p 6x
-L -p tcp --state ESTABLISHED
-L -p tcp --state SYN_SENT
-L -p tcp --state LISTEN
-L -p tcp --state established
-L -p udp --state ESTABLISHED
-L -p tcp --sport 1000
-L -p tcp --dport 80
-L -p tcp --orig-port-dst 80
-L -p tcp --reply-port-src 80
-L -p tcp --reply-port-dst 1000 --reply-port-src 80
-L -p tcp --sport 66536
-L -p tcp --sport foo
-L -p tcp --dport
-L -p tcp --mask-port-src 1
-L --sport 1000 -p tcp
-L -p icmp --icmp-type 8
-L -p icmp --icmp-id 7
-L -p icmp --icmp-code 1
-L -p icmp --sport 1
-L -p udp --sport 53
-L -p udp --dport 99 --zone 7
-L -p gre --srckey 0
-L -p sctp
-L -p sctp --state ESTABLISHED
-L -p sctp --state CLOSED
-L -p sctp --state FOO
-L -p sctp --state HEARTBEAT_ACKED
-L -p sctp --sport 5000
-L -p sctp --orig-vtag 1
-L -p dccp --state FOO
-L -p dccp --state OPEN
-L -p dccp --role client
-L -p udplite --sport 1
-L -s 10.9.1.2
-L -d 10.9.2.2
-L -r 10.9.2.2
-L -q 10.9.1.2
-L -s 10.9.1.3
-L -s 10.9.1.0 --mask-src 255.255.255.0
-L -s 10.0.0.0 --mask-src 255.0.0.0
-L --mask-src 255.0.0.0
-L -s 10.9.1.2 --mask-dst 255.0.0.0
-L -s foo
-L -s
-L -s 1.1.1.1 -s 10.9.1.2
-L -s ::1
-L -f ipv4 -s ::1
-L -m 42
-L -m 0x2a
-L -m 0
-L -m 2/2
-L --mark 42
-L -m foo
-L -u ASSURED
-L -u SEEN_REPLY
-L -u assured
-L -u ASS
-L -u EXPECTED
-L -u FIXED_TIMEOUT
-L -u ASSURED,SEEN_REPLY
-L -u UNSET
-L -u S
-L -u FOO
-L -u ,
-L -u ASSURED,
-L --zone 7
-L -w 0
-L --orig-zone 7
-L -o extended
-L -o id
-L -o extended,id
-L -o ext
-L -o xml
-L -o XML
-L -o timestamp
-L -o foo
-L -o extended,
-L -o labels
-L -l foo
-L -f ipv4
-L -f ipv6
-L -f inet
-L -c 1
-L -n
-L -g
-L -j
-L -n -j
-L -p tcp -z
-L -p tcp -p udp
-L -t 10
-L -e NEW
-L -i 1
-L -b 100
-L -x
-L --s 1.2.3.4
-L --pro tcp
-L conntrack
-L conn
-L expect
-L expect -p tcp
-L dying
-L unconfirmed
-L foo
-L -L
-L -D
-L -h
-h -L
-G
-G -p tcp
-G -p tcp -s 10.9.1.2 -d 10.9.2.2 --sport 1000 --dport 80
-G -p tcp -s 10.9.1.2 -d 10.9.2.2 --sport 1000 --dport 81
-C
-C conntrack
-C expect
-C -p tcp
-F -p tcp
-F expect
-V
-h
foo
-D -p udp --dport 99
-D -p udp --dport 99
-D -s 10.9.1.2 -p tcp --state SYN_SENT -o id
-D -p icmp -o xml
-D -t 5 -p gre
-C
-F
-C
-L`;

const COMMANDS = LIST_COMMANDS.split('\n').map((l) => (l === '' ? [] : l.split(' ')));

const SCENARIO: Scenario = { name: 'cli', steps: STEPS, rules: RULES, emulate, commands: COMMANDS };

describe('conntrack command against conntrack-tools 1.4.7', () => {
  const skip = guardKernel('conntrack command against conntrack-tools 1.4.7');
  it('every command line gives the same output, messages and status', skip === undefined ? {} : { skip }, () => {
    const k = runKernel(SCENARIO);
    const n = runNflab(SCENARIO);
    assert.deepEqual(n.states, k.states);
    const slack = Math.ceil(k.elapsed) + 2;
    const diffs: string[] = [];
    COMMANDS.forEach((c, i) => {
      const kr = k.results[i]!;
      const nr = n.results[i]!;
      const what = `conntrack ${c.join(' ')}`;
      if (nr.stderr !== kr.stderr) diffs.push(`${what}: stderr\n  kernel: ${JSON.stringify(kr.stderr)}\n  nflab:  ${JSON.stringify(nr.stderr)}`);
      if (nr.status !== kr.status) diffs.push(`${what}: status ${kr.status} (kernel) vs ${nr.status} (nflab)`);
      const d = compareListing(kr.stdout, nr.stdout, slack);
      if (d) diffs.push(`${what}: stdout ${d}`);
    });
    assert.equal(diffs.join('\n'), '');
  });

  it('counters with accounting on, and -z zeroing them', skip === undefined ? {} : { skip }, () => {
    const s: Scenario = {
      name: 'acct',
      sysctls: { 'net.netfilter.nf_conntrack_acct': 1 },
      steps: STEPS,
      commands: [['-L'], ['-L', '-z'], ['-L'], ['-L', '-o', 'xml'], ['-D', '-p', 'tcp']],
    };
    const k = runKernel(s);
    const n = runNflab(s);
    s.commands!.forEach((c, i) => {
      assert.equal(n.results[i]!.stderr, k.results[i]!.stderr, c.join(' '));
      assert.equal(compareListing(k.results[i]!.stdout, n.results[i]!.stdout, Math.ceil(k.elapsed) + 2), '', c.join(' '));
    });
  });
});

describe('conntrack command with timestamps', () => {
  const skip = guardKernel('conntrack command with timestamps');
  it('nf_conntrack_timestamp gives delta-time and the start time', skip === undefined ? {} : { skip }, () => {
    const s: Scenario = {
      name: 'tstamp',
      sysctls: { 'net.netfilter.nf_conntrack_timestamp': 1 },
      steps: [...STEPS.slice(0, 5), { sleep: 2.2 }],
      commands: [['-L'], ['-L', '-o', 'ktimestamp,extended,id'], ['-L', '-o', 'xml'], ['-L', '-o', 'xml,ktimestamp'], ['-D', '-p', 'udp', '-o', 'ktimestamp']],
    };
    const k = runKernel(s);
    const n = runNflab(s);
    s.commands!.forEach((c, i) => {
      assert.equal(n.results[i]!.stderr, k.results[i]!.stderr, c.join(' '));
      assert.equal(compareListing(k.results[i]!.stdout, n.results[i]!.stdout, Math.ceil(k.elapsed) + 2), '', c.join(' '));
    });
  });

  it('prints the start time in local time', () => {
    const m = { now: 5e9 };
    const t = new ConntrackTable(() => m.now);
    const c = {
      id: 1,
      orig: { src: 1, dst: 2, proto: 17, sport: 3, dport: 4 },
      reply: { src: 2, dst: 1, proto: 17, sport: 4, dport: 3 },
      status: 0,
      expires: 30e9,
      mark: 0,
      secmark: 0,
      zone: 0,
      labels: [0, 0, 0, 0],
      helper: '',
      master: 0,
      l4: null,
      pkts: [1, 0] as [number, number],
      bytes: [28, 0] as [number, number],
      tstamp: -1,
    };
    t.insert(c);
    m.now = 7.5e9;
    const wall = Date.UTC(2024, 0, 2, 3, 4, 5) / 1000;
    const line = runConntrack(['-L', '-o', 'ktimestamp'], t, m.now, { wallSec: wall }).stdout;
    const start = new Date((wall - 2.5) * 1000);
    const pad = (v: number): string => String(v).padStart(2, '0');
    const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
    const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
    const text = `${days[start.getDay()]} ${months[start.getMonth()]} ${String(start.getDate()).padStart(2, ' ')} ${pad(start.getHours())}:${pad(start.getMinutes())}:${pad(start.getSeconds())} ${start.getFullYear()}`;
    assert.equal(
      line,
      `udp      17 22 src=0.0.0.1 dst=0.0.0.2 sport=3 dport=4 [UNREPLIED] src=0.0.0.2 dst=0.0.0.1 sport=4 dport=3 mark=0 delta-time=3 [start=${text}] use=1\n`,
    );
  });
});

describe('conntrack command, exact output', () => {
  it('lists an empty table', () => {
    const r = runConntrack(['-L'], new ConntrackTable(), 0);
    assert.deepEqual(r, { stdout: '', stderr: 'conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n', status: 0, changed: false });
  });

  it('reports a flush as a change', () => {
    const r = runConntrack(['-F'], new ConntrackTable(), 0);
    assert.deepEqual(r, {
      stdout: '',
      stderr: 'conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\n',
      status: 0,
      changed: true,
    });
  });

  it('lists TCP in the format and order it was confirmed', () => {
    const s: Scenario = { name: 'x', steps: STEPS.slice(0, 5), commands: [['-L'], ['-L', '-o', 'extended,id']] };
    const n = runNflab(s);
    assert.equal(
      n.results[0]!.stdout,
      'tcp      6 432000 ESTABLISHED src=10.9.1.2 dst=10.9.2.2 sport=1000 dport=80 src=10.9.2.2 dst=10.9.1.2 sport=80 dport=1000 [ASSURED] mark=0 use=1\n' +
        'tcp      6 120 SYN_SENT src=10.9.1.2 dst=10.9.2.2 sport=1001 dport=22 [UNREPLIED] src=10.9.2.2 dst=10.9.1.2 sport=22 dport=1001 mark=0 use=1\n' +
        'udp      17 30 src=10.9.1.2 dst=10.9.2.2 sport=53 dport=53 [UNREPLIED] src=10.9.2.2 dst=10.9.1.2 sport=53 dport=53 mark=0 use=1\n',
    );
    assert.equal(
      n.results[1]!.stdout.split('\n')[1],
      'ipv4     2 tcp      6 120 SYN_SENT src=10.9.1.2 dst=10.9.2.2 sport=1001 dport=22 [UNREPLIED] src=10.9.2.2 dst=10.9.1.2 sport=22 dport=1001 mark=0 use=1 id=1002',
    );
  });
});
