/**
 * The tutorial walkthroughs as scenarios (seeds 000 to 004): the same
 * stories the examples/lab-*.sh scripts tell, cut to what the real tools
 * can replay in a few seconds (ping -W 1, nc -w 1, nmap -T4 with few
 * retries where the outcome is the same).
 */
import { lemonApple, pair, routed } from './topologies.js';
import type { Scenario, Step } from './types.js';

/** An iptables-restore text of the filter table. */
export function filterTable(policies: { INPUT?: string; FORWARD?: string; OUTPUT?: string }, rules: string[]): string {
  return ['*filter', `:INPUT ${policies.INPUT ?? 'ACCEPT'} [0:0]`, `:FORWARD ${policies.FORWARD ?? 'ACCEPT'} [0:0]`, `:OUTPUT ${policies.OUTPUT ?? 'ACCEPT'} [0:0]`, ...rules, 'COMMIT', ''].join('\n');
}

const S = '10.9.0.2';
/** What the steps' real output must show. */
const OK = / 0% packet loss/;
const LOST = /100% packet loss/;
const OPEN = /succeeded!/;
const TIMEOUT = /timed out/;
const ping = (ns: string, to: string, count = 1, expect?: RegExp): Step => ({ ns, argv: ['ping', '-c', String(count), '-i', '0.2', '-W', '1', to], ...(expect ? { expect } : {}) });
const nc = (ns: string, to: string, port: number, expect?: RegExp): Step => ({ ns, argv: ['nc', '-zv', '-w', '2', to, String(port)], ...(expect ? { expect } : {}) });
const nmap = (ns: string, ...args: string[]): Step => ({ ns, argv: ['nmap', ...args], check: 'nmap' });
const ipt = (ns: string, rule: string): Step => ({ ns, argv: ['iptables', ...rule.split(' ')] });

/** Seed 000/002: the SSH-only server, rules in the right order. */
const SSH_ONLY = filterTable({ INPUT: 'DROP', FORWARD: 'DROP' }, [
  '-A INPUT -i lo -j ACCEPT',
  '-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT',
  '-A INPUT -p tcp --dport 22 -j ACCEPT',
]);

/** Seed 000: CentOS 6's default /etc/sysconfig/iptables. */
const CENTOS_DEFAULT = filterTable({}, [
  '-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT',
  '-A INPUT -p icmp -j ACCEPT',
  '-A INPUT -i lo -j ACCEPT',
  '-A INPUT -m state --state NEW -m tcp -p tcp --dport 22 -j ACCEPT',
  '-A INPUT -j REJECT --reject-with icmp-host-prohibited',
  '-A FORWARD -j REJECT --reject-with icmp-host-prohibited',
]);

/** The walkthrough scenarios. */
export const WALKTHROUGHS: Scenario[] = [
  {
    name: 'SSH-only server, rules before the policy (seed 000/002)',
    ...pair(),
    rules: { S: SSH_ONLY },
    services: [
      { kind: 'nc', ns: 'S', port: 22 },
      { kind: 'nc', ns: 'S', port: 80 },
    ],
    capture: { ns: 'S', dev: 'eth0', filter: ['tcp'] },
    steps: [nc('C', S, 22, OPEN), nc('C', S, 80, TIMEOUT), ping('C', S, 1, LOST), nc('C', S, 22, OPEN)],
  },
  {
    name: 'locked out: policy DROP before the SSH rule (seed 000)',
    ...pair('192.168.0.2', '192.168.0.18'),
    services: [{ kind: 'nc', ns: 'S', port: 22 }],
    steps: [
      nc('C', '192.168.0.18', 22, OPEN),
      ipt('S', '-P INPUT DROP'),
      nc('C', '192.168.0.18', 22, TIMEOUT),
      { ns: 'C', argv: ['ssh', '-o', 'ConnectTimeout=2', '-o', 'BatchMode=yes', 'root@192.168.0.18', 'true'] },
      ping('C', '192.168.0.18', 2, LOST),
      ipt('S', '-A INPUT -p tcp --dport 22 -j ACCEPT'),
      nc('C', '192.168.0.18', 22, OPEN),
    ],
  },
  {
    name: 'CentOS default ruleset: REJECT icmp-host-prohibited (seed 000)',
    ...pair('192.168.0.2', '192.168.0.18'),
    rules: { S: CENTOS_DEFAULT },
    services: [
      { kind: 'nc', ns: 'S', port: 22 },
      { kind: 'nc', ns: 'S', port: 80 },
    ],
    capture: { ns: 'C', dev: 'eth0', filter: ['icmp', 'or', 'tcp'] },
    steps: [
      ping('C', '192.168.0.18', 2, OK),
      nc('C', '192.168.0.18', 22, OPEN),
      nc('C', '192.168.0.18', 80, /No route to host/),
      ipt('S', '-I INPUT 5 -m state --state NEW -m tcp -p tcp --dport 80 -j ACCEPT'),
      nc('C', '192.168.0.18', 80, OPEN),
      { ns: 'S', argv: ['iptables', '-L', '-v', '-n', '--line-numbers'] },
    ],
  },
  {
    name: 'VPC pair: LOG, then DROP, then REJECT with the ICMP logged in OUTPUT (seed 004)',
    ...pair('10.1.77.146', '10.1.51.165', 16),
    services: [{ kind: 'nc', ns: 'S', port: 22 }],
    logPrefixes: ['[INPUT]', '[OUTPUT] '],
    steps: [
      ipt('S', '-A INPUT -s 10.1.77.146 -p icmp -j LOG --log-prefix [INPUT]'),
      ping('C', '10.1.51.165', 3, OK),
      ipt('S', '-A INPUT -s 10.1.77.146 -p icmp -j DROP'),
      ping('C', '10.1.51.165', 2, LOST),
      ipt('S', '-A INPUT -s 10.1.77.146 -p tcp --dport 22 -j REJECT'),
      { ns: 'S', argv: ['iptables', '-A', 'OUTPUT', '-p', 'icmp', '-j', 'LOG', '--log-prefix', '[OUTPUT] '] },
      nc('C', '10.1.51.165', 22, /Connection refused/),
      { ns: 'C', argv: ['ssh', '-o', 'BatchMode=yes', 'user@10.1.51.165', 'true'], expect: /Connection refused/ },
      { ns: 'S', argv: ['iptables', '-L', '-v', '-n'] },
    ],
  },
  {
    name: 'LEMON and APPLE on a veth: ping watched by tcpdump (seed 001)',
    namespaces: ['LEMON', 'APPLE'],
    links: [{ kind: 'veth', a: { ns: 'LEMON', dev: 'lemon_eth0', mac: '02:00:00:00:0a:02' }, b: { ns: 'APPLE', dev: 'apple_eth0', mac: '02:00:00:00:0a:03' } }],
    addrs: [
      ['LEMON', 'lemon_eth0', '10.10.10.2/24'],
      ['APPLE', 'apple_eth0', '10.10.10.3/24'],
    ],
    capture: { ns: 'APPLE', dev: 'apple_eth0', filter: [] },
    steps: [ping('LEMON', '10.10.10.3', 3), { ns: 'LEMON', argv: ['ip', 'neigh'] }, { ns: 'APPLE', argv: ['arp', '-n'] }],
  },
  {
    name: 'LEMON and APPLE behind a bridge, MASQUERADE to the Internet (seed 001)',
    ...lemonApple(),
    rules: {
      R: '*nat\n-A POSTROUTING -s 10.10.10.0/24 -j MASQUERADE\nCOMMIT\n*filter\n-A FORWARD -d 10.10.10.3/24 -j ACCEPT\nCOMMIT\n',
    },
    capture: { ns: 'I', dev: 'eth0', filter: ['icmp'] },
    steps: [
      ping('LEMON', '203.0.113.254', 1, OK),
      ping('APPLE', '203.0.113.254', 1, OK),
      ping('LEMON', '10.10.10.3', 1, OK),
      { ns: 'R', argv: ['iptables', '-t', 'nat', '-L', 'POSTROUTING', '-v', '-n'] },
    ],
  },
  {
    name: 'a router without NAT: the server answers the client\'s own address',
    ...routed(),
    services: [{ kind: 'nc', ns: 'S', port: 80 }],
    rules: { R: filterTable({ FORWARD: 'DROP' }, ['-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT', '-A FORWARD -p tcp --dport 80 -j ACCEPT', '-A FORWARD -p icmp -j REJECT --reject-with icmp-admin-prohibited']) },
    capture: { ns: 'S', dev: 'eth0', filter: ['tcp', 'or', 'icmp'] },
    steps: [nc('C', '10.2.0.2', 80, OPEN), nc('C', '10.2.0.2', 22, TIMEOUT), ping('C', '10.2.0.2', 1, /Packet filtered/)],
  },
  ...(
    [
      ['-sS', '-P0', '-F'],
      ['-sT', '-Pn', '-p', '20-25,80,443'],
      ['-sU', '-Pn', '-p', '53,123,161'],
      ['-sn'],
    ] as const
  ).map(
    (args): Scenario => ({
      name: `nmap ${args.join(' ')} against the hardened server (seed 002)`,
      ...pair(),
      rules: { S: SSH_ONLY },
      services: [{ kind: 'nc', ns: 'S', port: 22 }],
      // one probe a port: how often nmap retries an unanswered port depends on the real round-trip times
      steps: [nmap('C', '-n', ...args, ...(args[0] === '-sn' ? [] : ['--max-retries', '0']), S)],
    }),
  ),
  {
    name: 'NULL and XMAS scans dropped, the syn-flood rule (seed 000)',
    ...pair(),
    rules: {
      S: filterTable({}, ['-A INPUT -p tcp --tcp-flags ALL NONE -j DROP', '-A INPUT -p tcp ! --syn -m state --state NEW -j DROP', '-A INPUT -p tcp --tcp-flags ALL ALL -j DROP']),
    },
    services: [{ kind: 'nc', ns: 'S', port: 22 }],
    steps: [
      nmap('C', '-n', '-sN', '-p', '20-25', '-T4', '--max-retries', '1', S),
      nmap('C', '-n', '-sX', '-p', '20-25', '-T4', '--max-retries', '1', S),
      nmap('C', '-n', '-sS', '-p', '20-25', '-T4', S),
      nc('C', S, 22),
    ],
  },
];

/** The same scenario with nflab's namespaces as lab hosts joined by wires (`nflab host add`, `nflab wire add`, `nflab --host`). */
export function onLabHosts(s: Scenario): Scenario {
  return { ...s, name: `${s.name} [nflab: lab hosts and wires]`, nflabHosts: true };
}

/** vsftpd for anonymous logins (the ftp user's empty home), as the FTP scenarios run it. */
const FTP_CONF = ['listen=YES', 'listen_ipv6=NO', 'anonymous_enable=YES', 'local_enable=NO', 'dirmessage_enable=YES', 'connect_from_port_20=YES'].join('\n');
const FTP_RANGE = `${FTP_CONF}\npasv_enable=YES\npasv_min_port=10090\npasv_max_port=10100`;
const FTP_SESSION = 'user anonymous guest@\nls\nbye\n';
/** tnftp: -q 2 gives up a stalled transfer after 2 seconds (its default waits a minute). */
const ftp = (mode: 'passive' | 'active', lists: boolean): Step => ({
  ns: 'C',
  argv: ['ftp', mode === 'active' ? '-nvA' : '-nv', '-q', '2', S],
  stdin: FTP_SESSION,
  expect: lists ? /226 Directory send OK\./ : /^(?![^]*226 Directory send OK)/,
});
/** Seed 003's server: the control port open, everything else to it dropped. */
const ftpRules = (extra: string[], raw = ''): string => `${raw}${filterTable({ INPUT: 'DROP' }, ['-A INPUT -i lo -j ACCEPT', '-A INPUT -p tcp --dport 21 -j ACCEPT', ...extra])}`;

/** Seed 003: FTP through the firewall, broken and fixed each way. */
export const FTP_WALKTHROUGHS: Scenario[] = [
  {
    name: 'FTP passive with only 21 open: the listing stalls (seed 003)',
    ...pair(),
    rules: { S: ftpRules([]) },
    services: [{ kind: 'vsftpd', ns: 'S', conf: FTP_CONF }],
    capture: { ns: 'S', dev: 'eth0', filter: ['tcp'] },
    steps: [ftp('passive', false)],
  },
  {
    name: 'FTP active with only 21 open: the data connection never opens (seed 003)',
    ...pair(),
    rules: { S: ftpRules([]) },
    services: [{ kind: 'vsftpd', ns: 'S', conf: FTP_CONF }],
    steps: [ftp('active', false)],
  },
  {
    name: 'FTP active with 20 open too (seed 003)',
    ...pair(),
    rules: { S: ftpRules(['-A INPUT -p tcp --dport 20 -j ACCEPT']) },
    services: [{ kind: 'vsftpd', ns: 'S', conf: FTP_CONF }],
    capture: { ns: 'S', dev: 'eth0', filter: ['tcp'] },
    steps: [ftp('active', true)],
  },
  {
    name: 'FTP passive fixed with a passive port range (seed 003)',
    ...pair(),
    rules: { S: ftpRules(['-A INPUT -p tcp --dport 10090:10100 -j ACCEPT']) },
    services: [{ kind: 'vsftpd', ns: 'S', conf: FTP_RANGE }],
    steps: [ftp('passive', true)],
  },
  {
    name: 'FTP passive fixed with the conntrack helper (-j CT --helper ftp) (seed 003)',
    ...pair(),
    rules: { S: ftpRules(['-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT'], '*raw\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n') },
    services: [{ kind: 'vsftpd', ns: 'S', conf: FTP_CONF }],
    steps: [ftp('passive', true), ftp('active', true)],
  },
];

/** Walkthroughs run again on lab hosts: the tutorials' separate machines. */
export const HOST_WALKTHROUGHS: Scenario[] = WALKTHROUGHS.filter((s) => /^(SSH-only server|CentOS default|VPC pair|a router without NAT)/.test(s.name)).map(onLabHosts);

/**
 * Small scenarios that reproduce the differences found: those still open
 * are known differences (test/scenario/known.ts); fixed ones stay as
 * regression tests.
 */
export const REPRODUCERS: Scenario[] = [
  {
    name: "reproducer: an ICMP error answering the handshake's last ACK fails the connect",
    ...pair(),
    rules: { S: filterTable({}, ['-A INPUT -p tcp --dport 443 -m state --state ESTABLISHED,RELATED -j REJECT --reject-with icmp-host-prohibited']) },
    services: [{ kind: 'nc', ns: 'S', port: 443 }],
    steps: [{ ns: 'C', argv: ['nc', '-zv', '-w', '2', S, '443'], expect: /No route to host/ }],
  },
  {
    name: "reproducer: nmap -Pn, a probe REJECTed by the scanner's own OUTPUT",
    ...routed(),
    rules: {
      S: filterTable({ INPUT: 'DROP' }, []),
      C: filterTable({}, ['-A OUTPUT -p tcp --dport 443 -j REJECT --reject-with icmp-host-prohibited', '-A OUTPUT -p tcp --dport 444 -j REJECT --reject-with tcp-reset']),
    },
    steps: [
      { ns: 'C', argv: ['nmap', '-n', '-Pn', '-r', '--max-retries', '0', '-p', '443', '10.2.0.2'], check: 'nmap' },
      { ns: 'C', argv: ['nmap', '-n', '-Pn', '-r', '--max-retries', '0', '-p', '444', '10.2.0.2'], check: 'nmap' },
    ],
  },
  {
    name: "reproducer: nmap's probe refused by the scanner's own OUTPUT",
    ...routed(),
    rules: { C: filterTable({}, ['-A OUTPUT -p tcp --dport 80 -j DROP']) },
    steps: [{ ns: 'C', argv: ['nmap', '-n', '-Pn', '-r', '--max-retries', '0', '-p', '80', '10.2.0.2'], check: 'nmap' }],
  },
  {
    name: 'reproducer: traceroute probes go without DF',
    ...pair(),
    rules: { S: filterTable({}, ['-A INPUT -p udp -j LOG --log-prefix "[UDP] "']) },
    steps: [{ ns: 'C', argv: ['traceroute', '-n', '-q', '1', '-w', '1', '-m', '1', S] }],
  },
  {
    name: 'reproducer: nc -w 1 against REJECT gets the ICMP error at once',
    ...pair(),
    rules: {
      S: filterTable({}, ['-A INPUT -p tcp --dport 22 -j REJECT', '-A INPUT -p tcp --dport 80 -j REJECT --reject-with icmp-host-prohibited']),
    },
    steps: [
      { ns: 'C', argv: ['nc', '-zv', '-w', '1', S, '22'] },
      { ns: 'C', argv: ['nc', '-zv', '-w', '1', S, '80'] },
    ],
  },
  {
    name: 'reproducer: ssh marks its SYN with TOS 0x10',
    ...pair(),
    rules: { S: filterTable({}, ['-A INPUT -p tcp --dport 22 -j LOG --log-prefix "[SSH] "', '-A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset']) },
    steps: [{ ns: 'C', argv: ['ssh', '-o', 'BatchMode=yes', `root@${S}`, 'true'] }],
  },
  {
    name: 'reproducer: bridged frames cross the bridge namespace\'s FORWARD chain',
    namespaces: ['LEMON', 'APPLE', 'R'],
    links: [
      { kind: 'veth', a: { ns: 'LEMON', dev: 'eth0', mac: '02:00:00:00:0a:02' }, b: { ns: 'R', dev: 'lemon_br', mac: '02:00:00:00:0b:02' } },
      { kind: 'veth', a: { ns: 'APPLE', dev: 'eth0', mac: '02:00:00:00:0a:03' }, b: { ns: 'R', dev: 'apple_br', mac: '02:00:00:00:0b:03' } },
      { kind: 'bridge', ns: 'R', dev: 'br0', mac: '02:00:00:00:0a:01', ports: ['lemon_br', 'apple_br'] },
    ],
    addrs: [
      ['LEMON', 'eth0', '10.10.10.2/24'],
      ['APPLE', 'eth0', '10.10.10.3/24'],
    ],
    rules: { R: filterTable({ FORWARD: 'DROP' }, []) },
    steps: [ping('LEMON', '10.10.10.3', 1, LOST)],
  },
];
