/**
 * nmap against the real nmap 7.93: each case builds the same network
 * twice — with real namespaces (the scanner 10.9.0.1 and the target
 * 10.9.0.2 joined by a veth, the target's rules set with the real
 * iptables, TCP listeners started with `nc -lk`, UDP services as a small
 * responder) and in nflab — runs nmap with the same arguments on both,
 * and compares the whole output: every port's state and reason, the "Not
 * shown" lines, the host lines and the exit status.
 *
 * The nflab side is the lab itself, driven through its command line
 * (`ip netns add`, a veth pair, `ip netns exec B iptables ...`, `nc -lk
 * PORT &` from a script, `ip netns exec A nmap ...`), except for the cases
 * with UDP services that answer or read silently: the lab has no such
 * program yet, so those run in test/nmap-world.ts's two-host lab, whose
 * target answers in their place.
 *
 * Masked, because they depend on the wall clock: the dates and times
 * (the "Starting Nmap" line, the verbose progress lines, the grepable
 * header and footer), the latency, the elapsed and "scanned in" seconds.
 * Arranged: both sides give the interfaces the same MAC addresses; where
 * the target sends ICMP errors for many ports, its ICMP rate limits are
 * switched off on both sides (net.ipv4.icmp_ratelimit=0 and a large
 * icmp_msgs_per_sec/icmp_msgs_burst), or which ports get an answer would
 * depend on real time.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { runNflab } from '../src/cli/main.js';
import { nmap } from '../src/core/programs/nmap.js';
import { guardKernel } from './diff/suite.js';
import { NETNS_PREFIX } from './diff/kernel.js';
import { runInLab, SCANNER, TARGET, type ScanLab } from './nmap-world.js';

/** One scan to compare. */
interface ScanCase {
  name: string;
  lab: ScanLab;
  /** nmap's arguments. */
  args: string[];
  /** The target sits behind a router, on 10.9.1.0/24 (ROUTED_TARGET). */
  routed?: boolean;
  /** The scanner's /etc/hosts. */
  hosts?: string;
  /** A file nmap writes (-oN, -oG), compared too. */
  outFile?: string;
  /** iptables commands on the scanner. */
  scannerRules?: string[];
}

/** The target's address in the routed cases. */
const ROUTED_TARGET = '10.9.1.2';

/**
 * The network as `ip` commands, the same on both sides: {A} the scanner,
 * {B} the target, {R} the router of the routed cases.
 */
function topology(routed: boolean): string[][] {
  const up = (ns: string, dev: string, addr: string): string[][] => [
    ['ip', '-n', ns, 'addr', 'add', addr, 'dev', dev],
    ['ip', '-n', ns, 'link', 'set', dev, 'up'],
  ];
  const lo = (ns: string): string[] => ['ip', '-n', ns, 'link', 'set', 'lo', 'up'];
  if (!routed)
    return [
      ['ip', 'netns', 'add', '{A}'],
      ['ip', 'netns', 'add', '{B}'],
      ['ip', '-n', '{A}', 'link', 'add', 'eth0', 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', 'eth0', 'address', '02:00:00:00:00:02', 'netns', '{B}'],
      ...up('{A}', 'eth0', `${SCANNER}/24`),
      ...up('{B}', 'eth0', `${TARGET}/24`),
      lo('{A}'),
      lo('{B}'),
    ];
  return [
    ['ip', 'netns', 'add', '{A}'],
    ['ip', 'netns', 'add', '{R}'],
    ['ip', 'netns', 'add', '{B}'],
    ['ip', '-n', '{A}', 'link', 'add', 'eth0', 'address', '02:00:00:00:00:01', 'type', 'veth', 'peer', 'name', 'eth0', 'address', '02:00:00:00:00:fe', 'netns', '{R}'],
    ['ip', '-n', '{B}', 'link', 'add', 'eth0', 'address', '02:00:00:00:00:02', 'type', 'veth', 'peer', 'name', 'eth1', 'address', '02:00:00:00:00:fd', 'netns', '{R}'],
    ...up('{A}', 'eth0', `${SCANNER}/24`),
    ...up('{R}', 'eth0', '10.9.0.254/24'),
    ...up('{R}', 'eth1', '10.9.1.254/24'),
    ...up('{B}', 'eth0', `${ROUTED_TARGET}/24`),
    lo('{A}'),
    lo('{R}'),
    lo('{B}'),
    ['ip', '-n', '{A}', 'route', 'add', 'default', 'via', '10.9.0.254'],
    ['ip', '-n', '{B}', 'route', 'add', 'default', 'via', '10.9.1.254'],
    ['ip', 'netns', 'exec', '{R}', 'sysctl', '-qw', 'net.ipv4.ip_forward=1'],
  ];
}

/** A command of `topology` with the namespace names of one side. */
function named(argv: string[], names: Record<string, string>): string[] {
  return argv.map((w) => w.replace(/\{([ABR])\}/g, (_, k: string) => names[k]!));
}

const NO_ICMP_LIMITS = { 'net.ipv4.icmp_ratelimit': '0', 'net.ipv4.icmp_msgs_per_sec': '1000000', 'net.ipv4.icmp_msgs_burst': '1000000' };

const HOSTS = '127.0.0.1\tlocalhost\n10.9.0.2\tsrv.lab srv\n';

const SSH_ONLY = ['-P INPUT DROP', '-P FORWARD DROP', '-P OUTPUT ACCEPT', '-F', '-A INPUT -p tcp --dport 22 -j ACCEPT'];

const CASES: ScanCase[] = [
  { name: 'SSH-only server with policy DROP, default 1000 ports', lab: { targetRules: SSH_ONLY, services: { tcp: [22] } }, args: ['-n', TARGET] },
  { name: 'the seed\'s scan: -P0 -sS -F of the SSH-only server', lab: { targetRules: SSH_ONLY, services: { tcp: [22] } }, args: ['-n', '-P0', '-sS', '-F', TARGET] },
  { name: 'SSH-only server with --reason', lab: { targetRules: SSH_ONLY, services: { tcp: [22] } }, args: ['-n', '-F', '--reason', TARGET] },
  { name: 'open and closed ports, no rules', lab: { services: { tcp: [22, 80] } }, args: ['-n', '-p', '20-25,80,443', TARGET] },
  { name: 'open and closed ports, default 1000', lab: { services: { tcp: [22, 80] } }, args: ['-n', TARGET] },
  {
    name: 'DROP, REJECT variants and reset in one scan, with reasons',
    lab: {
      targetRules: [
        '-A INPUT -p tcp --dport 23 -j DROP',
        '-A INPUT -p tcp --dport 24 -j REJECT',
        '-A INPUT -p tcp --dport 25 -j REJECT --reject-with icmp-host-prohibited',
        '-A INPUT -p tcp --dport 26 -j REJECT --reject-with tcp-reset',
        '-A INPUT -p tcp --dport 27 -j REJECT --reject-with icmp-net-unreachable',
        '-A INPUT -p tcp --dport 28 -j REJECT --reject-with icmp-admin-prohibited',
      ],
      targetSysctl: NO_ICMP_LIMITS,
      services: { tcp: [22] },
    },
    args: ['-n', '--reason', '-p', '20-28', TARGET],
  },
  {
    name: 'REJECT for every port but SSH (port-unreach for 999)',
    lab: { targetRules: ['-A INPUT -p tcp ! --dport 22 -j REJECT'], targetSysctl: NO_ICMP_LIMITS, services: { tcp: [22] } },
    args: ['-n', TARGET],
  },
  {
    name: 'REJECT with tcp-reset for every port but SSH',
    lab: { targetRules: ['-A INPUT -p tcp ! --dport 22 -j REJECT --reject-with tcp-reset'], services: { tcp: [22] } },
    args: ['-n', '-F', TARGET],
  },
  {
    name: 'everything dropped: all ports in ignored states',
    lab: { targetRules: ['-P INPUT DROP'] },
    args: ['-n', '-p', '1-40', TARGET],
  },
  {
    name: 'ACK scan: unfiltered and filtered',
    lab: { targetRules: ['-A INPUT -p tcp --dport 22 -j ACCEPT', '-A INPUT -p tcp --dport 80 -j ACCEPT', '-A INPUT -p tcp -j DROP'], services: { tcp: [22] } },
    args: ['-n', '-sA', '-p', '20-25,80', TARGET],
  },
  {
    name: 'UDP scan: an answering service, a silent listener, closed ports',
    lab: { targetSysctl: NO_ICMP_LIMITS, services: { udpAnswer: [53], udpSilent: [161] } },
    args: ['-n', '-sU', '-p', '22,53,123,161', TARGET],
  },
  {
    name: 'UDP scan through a firewall dropping everything but DNS',
    lab: { targetRules: ['-A INPUT -p udp --dport 53 -j ACCEPT', '-A INPUT -p udp -j DROP'], services: { udpAnswer: [53] } },
    args: ['-n', '-sU', '-p', '53,67,123,161', TARGET],
  },
  {
    name: 'two reasons with the same count (tie order of the "Not shown" groups)',
    lab: { targetRules: ['-A INPUT -p tcp --dport 1:30 -j DROP', '-A INPUT -p tcp --dport 31:60 -j REJECT'], targetSysctl: NO_ICMP_LIMITS },
    args: ['-n', '-p', '1-60', TARGET],
  },
  {
    name: 'two ignored states with the same count',
    lab: { targetRules: ['-A INPUT -p tcp --dport 1:40 -j DROP'], services: { tcp: [80] } },
    args: ['-n', '-p', '1-80', TARGET],
  },
  {
    name: 'closed, filtered by port-unreach and by no-response, all ignored',
    lab: { targetRules: ['-A INPUT -p tcp --dport 1:30 -j DROP', '-A INPUT -p tcp --dport 31:90 -j REJECT'], targetSysctl: NO_ICMP_LIMITS },
    args: ['-n', '-p', '1-200', TARGET],
  },
  {
    name: 'verbose scan (progress lines)',
    lab: { targetRules: ['-A INPUT -p tcp --dport 23 -j DROP'], services: { tcp: [22] } },
    args: ['-n', '-v', '-p', '21-23', TARGET],
  },
  {
    name: 'grepable output to standard output',
    lab: { targetRules: ['-A INPUT -p tcp --dport 23 -j DROP'], services: { tcp: [22] } },
    args: ['-n', '-oG', '-', '-p', '21-23', TARGET],
  },
  {
    name: 'normal output to a file',
    outFile: '/tmp/nflabt-nmap-normal.txt',
    lab: { targetRules: ['-A INPUT -p tcp --dport 23 -j DROP'], services: { tcp: [22] } },
    args: ['-n', '-oN', '/tmp/nflabt-nmap-normal.txt', '-p', '21-23', TARGET],
  },
  {
    name: 'grepable output to a file, one ignored state',
    outFile: '/tmp/nflabt-nmap-grep.txt',
    lab: { services: { tcp: [22] } },
    args: ['-n', '-oG', '/tmp/nflabt-nmap-grep.txt', '-p', '1-40', TARGET],
  },
  {
    name: 'SYN scan from a scanner whose OUTPUT drops everything',
    scannerRules: ['-P OUTPUT DROP'],
    lab: { services: { tcp: [22] } },
    args: ['-n', '-sS', '-p', '22', TARGET],
  },
  {
    name: 'UDP scan from a scanner whose OUTPUT drops everything',
    scannerRules: ['-P OUTPUT DROP'],
    lab: {},
    args: ['-n', '-sU', '-p', '53', TARGET],
  },
  { name: 'a target without a route', lab: {}, args: ['-n', '-sn', '10.77.0.1'] },
  { name: 'open ports only', lab: { targetRules: ['-A INPUT -p tcp --dport 23 -j DROP'], services: { tcp: [22] } }, args: ['-n', '--open', '-p', '21-23', TARGET] },
  {
    name: 'NULL scan against the seed\'s NULL-packet rule',
    lab: { targetRules: ['-A INPUT -p tcp --tcp-flags ALL NONE -j DROP'], services: { tcp: [22] } },
    args: ['-n', '-sN', '-p', '20-25', TARGET],
  },
  {
    name: 'XMAS scan against the seed\'s XMAS rule (nmap sets FIN PSH URG, not ALL)',
    lab: { targetRules: ['-A INPUT -p tcp --tcp-flags ALL ALL -j DROP'], services: { tcp: [22] } },
    args: ['-n', '-sX', '-F', TARGET],
  },
  {
    name: 'FIN scan against the seed\'s syn-flood rule',
    lab: { targetRules: ['-A INPUT -p tcp ! --syn -m state --state NEW -j DROP'], services: { tcp: [22] } },
    args: ['-n', '-sF', '-p', '20-25', TARGET],
  },
  {
    name: 'ACK scan against the seed\'s syn-flood rule',
    lab: { targetRules: ['-A INPUT -p tcp ! --syn -m state --state NEW -j DROP'], services: { tcp: [22] } },
    args: ['-n', '-sA', '--reason', '-p', '20-25', TARGET],
  },
  { name: 'connect scan of open and closed ports', lab: { services: { tcp: [22, 80] } }, args: ['-n', '-sT', '-p', '20-25,80', TARGET] },
  { name: 'connect scan of the SSH-only server', lab: { targetRules: SSH_ONLY, services: { tcp: [22] } }, args: ['-n', '-sT', '-F', '--reason', TARGET] },
  {
    name: 'connect scan through REJECT variants (port-unreach refuses the connection)',
    lab: {
      targetRules: [
        '-A INPUT -p tcp --dport 23 -j DROP',
        '-A INPUT -p tcp --dport 24 -j REJECT',
        '-A INPUT -p tcp --dport 25 -j REJECT --reject-with icmp-host-prohibited',
        '-A INPUT -p tcp --dport 26 -j REJECT --reject-with tcp-reset',
        '-A INPUT -p tcp --dport 27 -j REJECT --reject-with icmp-net-unreachable',
        '-A INPUT -p tcp --dport 28 -j REJECT --reject-with icmp-admin-prohibited',
      ],
      targetSysctl: NO_ICMP_LIMITS,
      services: { tcp: [22] },
    },
    args: ['-n', '-sT', '--reason', '-p', '20-28', TARGET],
  },
  { name: 'ping scan of a host behind a router (echo reply)', routed: true, lab: {}, args: ['-n', '-sn', ROUTED_TARGET] },
  { name: 'ping scan of a host behind a router, with reasons', routed: true, lab: {}, args: ['-n', '-sn', '--reason', ROUTED_TARGET] },
  { name: 'ping scan behind a router of a host dropping all input', routed: true, lab: { targetRules: ['-P INPUT DROP'] }, args: ['-n', '-sn', ROUTED_TARGET] },
  { name: 'the SSH-only server behind a router seems down', routed: true, lab: { targetRules: SSH_ONLY, services: { tcp: [22] } }, args: ['-n', '-F', ROUTED_TARGET] },
  { name: 'the SSH-only server behind a router with -Pn', routed: true, lab: { targetRules: SSH_ONLY, services: { tcp: [22] } }, args: ['-n', '-Pn', '-F', '--reason', ROUTED_TARGET] },
  {
    name: 'host discovery by the SYN to 443 behind a router (ICMP dropped)',
    routed: true,
    lab: { targetRules: ['-A INPUT -p icmp -j DROP'], services: { tcp: [443] } },
    args: ['-n', '--reason', '-p', '22,443', ROUTED_TARGET],
  },
  {
    name: 'host discovery by the ACK to 80 behind a router (ICMP and 443 dropped)',
    routed: true,
    lab: { targetRules: ['-A INPUT -p icmp -j DROP', '-A INPUT -p tcp --dport 443 -j DROP'] },
    args: ['-n', '--reason', '-sn', ROUTED_TARGET],
  },
  { name: 'a target named in /etc/hosts, with -n', hosts: HOSTS, lab: { services: { tcp: [22] } }, args: ['-n', '-p', '22', 'srv'] },
  { name: 'reverse names from /etc/hosts', hosts: HOSTS, lab: { services: { tcp: [22] } }, args: ['-p', '22', TARGET] },
  { name: 'a target by name and its reverse name', hosts: HOSTS, lab: { services: { tcp: [22] } }, args: ['-v', '-p', '22', 'srv'] },
  { name: 'a name nobody knows', hosts: HOSTS, lab: {}, args: ['-n', '-p', '22', 'nosuchhost'] },
  {
    name: 'SYN and UDP scans together',
    lab: { targetSysctl: NO_ICMP_LIMITS, services: { tcp: [22] } },
    args: ['-n', '-sS', '-sU', '-p', 'T:20-25,U:53,123', TARGET],
  },
  { name: 'the scanner\'s own address', lab: {}, args: ['-n', '-p', '20-25', SCANNER] },
  { name: 'ping scan of the loopback address', lab: {}, args: ['-n', '-sn', '127.0.0.1'] },
  { name: 'two targets, one down', lab: { services: { tcp: [22] } }, args: ['-n', '-p', '22', TARGET, '10.9.0.3'] },
  { name: 'aggressive timing', lab: { targetRules: SSH_ONLY, services: { tcp: [22] } }, args: ['-n', '-T4', '-F', TARGET] },
  { name: 'no retransmissions', lab: { targetRules: SSH_ONLY, services: { tcp: [22] } }, args: ['-n', '--max-retries', '0', '-p', '20-25', TARGET] },
  { name: 'ping scan of a host that is up', lab: { targetRules: SSH_ONLY }, args: ['-n', '-sn', TARGET] },
  { name: 'ping scan of an address nobody has', lab: {}, args: ['-n', '-sn', '10.9.0.3'] },
  { name: 'ping scan of a small network', lab: {}, args: ['-n', '-sn', '10.9.0.0/29'] },
  { name: 'verbose ping scan of a small network', lab: {}, args: ['-n', '-v', '-sn', '10.9.0.0/29'] },
  { name: 'verbose ping scan behind a router', routed: true, lab: {}, args: ['-n', '-v', '-sn', '--reason', '10.9.1.1-3'] },
  { name: 'port scan of an address nobody has', lab: {}, args: ['-n', '-p', '22', '10.9.0.3'] },
  { name: 'option errors: two TCP scan types', lab: {}, args: ['-sS', '-sT', TARGET] },
  { name: 'option errors: a backwards range', lab: {}, args: ['-n', '-p', '25-20', TARGET] },
  { name: 'option errors: -sn with -p', lab: {}, args: ['-n', '-sn', '-p', '22', TARGET] },
];

/** Environment for the real tools. */
const ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', HOME: '/root' };

function sh(argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { env: ENV, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

const UDP_RESPONDER = [
  'import socket, sys',
  's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
  "s.bind(('0.0.0.0', int(sys.argv[1])))",
  'while True:',
  '    d, a = s.recvfrom(2048)',
  "    s.sendto(b'ok\\n\\0', a)",
].join('\n');

const UDP_SILENT = ['import socket, sys', 's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)', "s.bind(('0.0.0.0', int(sys.argv[1])))", 'while True:', '    s.recvfrom(2048)'].join('\n');

let serial = 0;

/** Runs the case with real namespaces and the real nmap. */
async function realScan(c: ScanCase): Promise<{ stdout: string; stderr: string; status: number; file?: string }> {
  const id = `${process.pid % 100000}x${serial++}`;
  const a = `${NETNS_PREFIX}nma${id}`;
  const b = `${NETNS_PREFIX}nmb${id}`;
  const r = `${NETNS_PREFIX}nmr${id}`;
  const daemons: ChildProcess[] = [];
  try {
    for (const argv of topology(c.routed ?? false)) sh(named(argv, { A: a, B: b, R: r }));
    if (c.hosts !== undefined) {
      mkdirSync(`/etc/netns/${a}`, { recursive: true });
      writeFileSync(`/etc/netns/${a}/hosts`, c.hosts);
    }
    for (const [k, v] of Object.entries(c.lab.targetSysctl ?? {})) sh(['ip', 'netns', 'exec', b, 'sysctl', '-qw', `${k}=${v}`]);
    for (const rule of c.scannerRules ?? []) sh(['ip', 'netns', 'exec', a, 'iptables', ...rule.split(' ')]);
    for (const rule of c.lab.targetRules ?? []) sh(['ip', 'netns', 'exec', b, 'iptables', ...rule.split(' ')]);
    const s = c.lab.services ?? {};
    for (const port of s.tcp ?? []) daemons.push(spawn('ip', ['netns', 'exec', b, 'nc', '-lk', String(port)], { env: ENV, stdio: 'ignore' }));
    for (const port of s.udpAnswer ?? []) daemons.push(spawn('ip', ['netns', 'exec', b, 'python3', '-c', UDP_RESPONDER, String(port)], { env: ENV, stdio: 'ignore' }));
    for (const port of s.udpSilent ?? []) daemons.push(spawn('ip', ['netns', 'exec', b, 'python3', '-c', UDP_SILENT, String(port)], { env: ENV, stdio: 'ignore' }));
    if (daemons.length) await new Promise((r) => setTimeout(r, 400));
    return await new Promise((resolve) => {
      const child = spawn('ip', ['netns', 'exec', a, 'nmap', ...c.args], { env: ENV });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
      child.on('close', (code) => {
        let file: string | undefined;
        if (c.outFile && existsSync(c.outFile)) {
          file = readFileSync(c.outFile, 'utf8');
          rmSync(c.outFile);
        }
        resolve({ stdout, stderr, status: code ?? -1, file });
      });
    });
  } finally {
    for (const d of daemons) d.kill();
    spawnSync('ip', ['netns', 'del', a], { env: ENV });
    spawnSync('ip', ['netns', 'del', b], { env: ENV });
    if (c.routed) spawnSync('ip', ['netns', 'del', r], { env: ENV });
    if (c.hosts !== undefined) rmSync(`/etc/netns/${a}`, { recursive: true, force: true });
  }
}

/** Runs the case in nflab through its command line; the UDP-service cases in the two-host test lab. */
async function labScan(c: ScanCase): Promise<{ stdout: string; stderr: string; status: number; file?: string }> {
  const s = c.lab.services ?? {};
  if (s.udpAnswer?.length || s.udpSilent?.length) {
    if (c.routed) throw new Error('the two-host test lab has no router');
    return runInLab(c.lab, nmap, ['nmap', ...c.args]);
  }
  const lab = mkdtempSync('/tmp/nflabt-nmap-');
  try {
    const must = async (argv: string[]): Promise<void> => {
      const r = await runNflab(argv, { lab });
      if (r.status !== 0) throw new Error(`nflab ${argv.join(' ')}: ${r.stderr}`);
    };
    for (const argv of topology(c.routed ?? false)) await must(named(argv, { A: 'A', B: 'B', R: 'R' }));
    if (c.hosts !== undefined) {
      mkdirSync(`${lab}/fs/etc`, { recursive: true });
      writeFileSync(`${lab}/fs/etc/hosts`, c.hosts);
    }
    for (const [k, v] of Object.entries(c.lab.targetSysctl ?? {})) await must(['ip', 'netns', 'exec', 'B', 'sysctl', '-qw', `${k}=${v}`]);
    for (const rule of c.scannerRules ?? []) await must(['ip', 'netns', 'exec', 'A', 'iptables', ...rule.split(' ')]);
    for (const rule of c.lab.targetRules ?? []) await must(['ip', 'netns', 'exec', 'B', 'iptables', ...rule.split(' ')]);
    if (s.tcp?.length) {
      writeFileSync(`${lab}/listeners.sh`, s.tcp.map((p) => `ip netns exec B nc -lk ${p} &\n`).join(''));
      await must(['run', `${lab}/listeners.sh`]);
    }
    const r = await runNflab(['ip', 'netns', 'exec', 'A', 'nmap', ...c.args], { lab });
    const inLab = c.outFile ? `${lab}/fs${c.outFile}` : undefined;
    return { stdout: r.stdout, stderr: r.stderr, status: r.status, file: inLab && existsSync(inLab) ? readFileSync(inLab, 'utf8') : undefined };
  } finally {
    rmSync(lab, { recursive: true, force: true });
  }
}

/** Hides the random parts of the probes nmap's error messages describe (source port, TTL, IP ID, sequence number). */
function maskProbes(s: string): string {
  return s.replace(/^(Offending packet: \w+ [\d.]+:)\d+/gm, '$1<port>').replace(/ttl=\d+ id=\d+/g, 'ttl=<ttl> id=<id>').replace(/ seq=\d+/g, ' seq=<seq>');
}

/** Hides what depends on the wall clock. */
export function maskTimes(s: string): string {
  return s
    .replace(/^(Starting Nmap 7\.93 \( https:\/\/nmap\.org \) at ).*$/gm, '$1<date>')
    .replace(/\(\d[\d.]*s latency\)/g, '(<latency>)')
    .replace(/scanned in \d+\.\d\d seconds/g, 'scanned in <seconds> seconds')
    .replace(/^((?:Initiating|Completed) .* at )\d\d:\d\d/gm, '$1<time>')
    .replace(/, \d+\.\d\ds elapsed/g, ', <elapsed> elapsed')
    .replace(/^(# Nmap 7\.93 scan initiated ).*( as: )/gm, '$1<date>$2')
    .replace(/^(# Nmap done at ).*( -- )/gm, '$1<date>$2');
}

describe('nmap against the real nmap 7.93', () => {
  const skip = guardKernel('nmap against the real nmap 7.93');
  const haveNmap = spawnSync('nmap', ['--version'], { env: ENV, encoding: 'utf8' }).stdout?.startsWith('Nmap version 7.93') ?? false;
  for (const c of CASES) {
    it(c.name, skip === undefined ? {} : { skip }, async () => {
      assert.ok(haveNmap, 'nmap 7.93 must be installed for this test');
      const real = await realScan(c);
      const lab = await labScan(c);
      assert.equal(maskTimes(lab.stdout), maskTimes(real.stdout), `stdout of nmap ${c.args.join(' ')}`);
      assert.equal(maskProbes(lab.stderr), maskProbes(real.stderr), `stderr of nmap ${c.args.join(' ')}`);
      assert.equal(lab.status, real.status, `exit status of nmap ${c.args.join(' ')}`);
      if (c.outFile) {
        assert.ok(real.file !== undefined, `the real nmap wrote ${c.outFile}`);
        assert.equal(maskTimes(lab.file ?? '(no file)'), maskTimes(real.file), `${c.outFile} as nmap ${c.args.join(' ')} wrote it`);
      }
    });
  }
});
