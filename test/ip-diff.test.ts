/**
 * Kernel-differential tests of `ip`: each case runs as a sequence of
 * commands in a fresh network namespace with the real iproute2 and through
 * runIp on emptyNetState(); stdout, stderr and exit status must match byte
 * for byte.
 *
 * What is masked or arranged, and why:
 * - The kernel gives new links random MAC addresses (nflab counts them).
 *   MAC addresses that the case itself never wrote are replaced by <mac> on
 *   both sides. Cases that bring links up set their MACs first, so the
 *   IPv6 link-local addresses derived from them are deterministic.
 * - The kernel side starts with accept_dad=0 (all, default): link-local
 *   addresses are then final at once, as nflab models them (it takes
 *   duplicate address detection as finished).
 * - The kernel lists neighbours in hash order: listings of `ip neigh` are
 *   compared as sorted lines.
 * - A bridge's carrier change reaches its operational state only when the
 *   kernel's link watcher runs (up to a second later): steps marked "~" are
 *   followed by a pause on the kernel side.
 * - The fuzz sequences use no bridges (for that last reason) and no
 *   counters of links that are up (the kernel sends IPv6 packets by itself).
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { runIp } from '../src/cli/ip/index.js';
import { runSysctl } from '../src/cli/sysctl.js';
import { emptyNetState } from '../src/core/net/state.js';
import type { NetState } from '../src/core/net/types.js';
import { KernelBackend } from './diff/kernel.js';
import { DIFF_JOBS, mapConcurrent } from './diff/pool.js';
import { guardKernel } from './diff/suite.js';
import { unifiedDiff } from './diff/textdiff.js';
import type { Step, StepResult } from './diff/types.js';

/** A named sequence of command lines ("ip ...", "sysctl ..."); a leading "~" asks the kernel side to settle after it. */
interface IpCase {
  name: string;
  steps: string[];
}

const PREAMBLE: Step = { argv: ['sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'] };
const SETTLE: Step = { argv: ['sleep', '1.2'] };

function words(line: string): string[] {
  return line.replace(/^~/, '').trim().split(/\s+/);
}

/** Runs the steps on the real tools; returns one result per case step. */
async function kernelSide(kernel: KernelBackend, steps: readonly string[]): Promise<StepResult[]> {
  const real: Step[] = [PREAMBLE];
  const keep: number[] = [];
  for (const s of steps) {
    keep.push(real.length);
    real.push({ argv: words(s) });
    if (s.startsWith('~')) real.push(SETTLE);
  }
  const results = await kernel.run(real);
  return keep.map((i) => results[i]!);
}

/** Runs the steps through runIp. */
function nflabSide(steps: readonly string[]): StepResult[] {
  let net: NetState = emptyNetState();
  return steps.map((s) => {
    const argv = words(s);
    if (argv[0] !== 'ip' && argv[0] !== 'sysctl') throw new Error(`not an ip or sysctl command: ${s}`);
    const r = argv[0] === 'ip' ? runIp(argv.slice(1), net) : runSysctl(argv.slice(1), net);
    if (r.net) net = r.net;
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  });
}

const MAC = /\b[0-9a-f]{2}(?::[0-9a-f]{2}){5}\b/g;

/** Masks MAC addresses the case did not write; sorts neighbour listings. */
function normalise(steps: readonly string[], index: number, text: string): string {
  const written = new Set<string>(['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff']);
  for (const s of steps) for (const m of s.toLowerCase().matchAll(MAC)) written.add(m[0]);
  let out = text.replace(MAC, (m) => (written.has(m) ? m : '<mac>'));
  const argv = words(steps[index]!);
  const obj = argv.find((w, i) => i > 0 && !w.startsWith('-')) ?? '';
  if (['n', 'ne', 'nei', 'neig', 'neigh', 'neighbor', 'neighbour'].includes(obj)) {
    out = out.split('\n').filter((l) => l !== '').sort().join('\n');
  }
  return out;
}

/** The differences of a case as a readable report, or '' when there are none. */
function report(c: IpCase, expected: StepResult[], actual: StepResult[]): string {
  let s = '';
  c.steps.forEach((step, i) => {
    const e = expected[i]!;
    const a = actual[i]!;
    const eo = normalise(c.steps, i, e.stdout);
    const ao = normalise(c.steps, i, a.stdout);
    if (eo === ao && e.stderr === a.stderr && e.status === a.status) return;
    s += `\nstep ${i + 1}: ${step}\n`;
    if (eo !== ao) s += `stdout (- kernel, + nflab):\n${unifiedDiff(eo, ao)}\n`;
    if (e.stderr !== a.stderr) s += `stderr kernel: ${JSON.stringify(e.stderr)}\nstderr nflab:  ${JSON.stringify(a.stderr)}\n`;
    if (e.status !== a.status) s += `status kernel ${e.status}, nflab ${a.status}\n`;
  });
  return s === '' ? '' : `case ${c.name}:${s}\n  steps:\n${c.steps.map((x) => `    ${x}`).join('\n')}`;
}

/** Registers one test per case, running the kernel sides a few at a time. */
function ipDiffSuite(title: string, cases: readonly IpCase[]): void {
  describe(title, () => {
    const skip = guardKernel(title);
    const kernel = new KernelBackend();
    let runs: Promise<StepResult[]>[] | undefined;
    cases.forEach((c, index) => {
      it(c.name, skip === undefined ? {} : { skip }, async () => {
        runs ??= mapConcurrent(cases, DIFF_JOBS, (k) => kernelSide(kernel, k.steps));
        const expected = await runs[index]!;
        const actual = nflabSide(c.steps);
        const r = report(c, expected, actual);
        if (r !== '') assert.fail(r);
      });
    });
  });
}

const SETUP_PAIR = [
  'ip link add v0 type veth peer name v1',
  'ip link set v0 address 02:00:00:00:00:01',
  'ip link set v1 address 02:00:00:00:00:02',
];

/** Hand-written cases: listings, kernel routes, errors. */
export const IP_CASES: IpCase[] = [
  { name: 'fresh namespace', steps: ['ip link', 'ip addr', 'ip route show table all', 'ip -br link', 'ip -br addr', 'ip -o link', 'ip -o addr', 'ip -s link', 'ip neigh', 'ip route', 'ip -6 route'] },
  {
    name: 'lo up and down',
    steps: ['ip link set lo up', 'ip link', 'ip addr', 'ip route show table all', 'ip -s link show lo', 'ip link set lo down', 'ip addr', 'ip route show table all', 'ip route get 127.0.0.1', 'ip link set lo up', 'ip route show table local'],
  },
  {
    name: 'veth pair listings',
    steps: [
      ...SETUP_PAIR,
      'ip link',
      'ip link show v0',
      'ip link show dev v1',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip route show table all',
      'ip link set v0 up',
      'ip link',
      'ip route show table all',
      'ip link set v1 up',
      'ip addr',
      'ip route show table all',
      'ip -br link',
      'ip -br addr',
      'ip -o link',
      'ip -o addr',
      'ip -4 addr',
      'ip -6 addr',
      'ip -4 -o addr show dev v0',
      'ip a s v0',
      'ip addr show up',
      'ip link show up',
      'ip link show type veth',
      'ip link show type bridge',
      'ip link show type bridge_slave',
      'ip -br link show type veth',
      'ip -6 route',
      'ip -6 route show table local',
      'ip link set v1 down',
      'ip addr',
      'ip route show table all',
      'ip link set v0 down',
      'ip route show table all',
    ],
  },
  {
    name: 'addresses: order, secondaries, broadcast, peer',
    steps: [
      ...SETUP_PAIR,
      'ip link set v0 up',
      'ip link set v1 up',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip addr add 10.0.0.2/24 dev v0',
      'ip addr add 10.0.0.1/16 dev v0',
      'ip addr add 10.1.0.1/24 brd + dev v0',
      'ip addr add 192.168.1.1/32 dev v0',
      'ip addr add 192.168.2.1/31 dev v0',
      'ip addr add 192.168.3.1/30 brd 192.168.3.2 dev v0',
      'ip addr add 172.16.0.0/24 dev v0',
      'ip addr add 10.2.0.1/16 dev v0 scope link',
      'ip addr add 10.3.0.1/16 dev v0 scope host',
      'ip addr add 10.4.0.1/16 dev v0 label v0:1',
      'ip addr add 10.7.0.1/24 peer 10.7.0.2 dev v0',
      'ip addr add 10.5.0.1 dev v0',
      'ip addr add 10.6.0.1/24 dev v0 brd 1.2.3',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip addr add 10.0.0.3/24 dev v0 scope link',
      'ip addr show dev v0',
      'ip -br addr',
      'ip -o addr show v0',
      'ip route show table all',
      'ip route get 10.0.0.2',
      'ip route get 10.0.0.255',
      'ip route get 10.1.0.255',
      'ip route get 10.7.0.2',
      'ip addr del 10.0.0.1/24 dev v0',
      'ip addr show dev v0',
      'ip route show table all',
      'ip addr del 10.1.0.1 dev v0',
      'ip addr del 10.99.0.1/24 dev v0',
      'ip addr flush dev v0',
      'ip addr show dev v0',
      'ip route show table all',
    ],
  },
  {
    name: 'small MTUs switch IPv4 and IPv6 off',
    steps: [
      'ip link set lo up',
      ...SETUP_PAIR,
      'ip link set v0 up',
      'ip link set v1 up',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip link set v0 mtu 1000',
      'ip addr show dev v0',
      'ip -6 route show table all',
      'ip link set v0 mtu 1500',
      'ip addr show dev v0',
      'ip link set v0 down',
      'ip link set v0 up',
      'ip addr show dev v0',
      'ip link set lo mtu 1000',
      'ip addr show dev lo',
      'ip link set lo mtu 60',
      'ip addr show dev lo',
      'ip route show table all',
      'ip addr add 127.0.0.2/8 dev lo',
      'ip route add 10.9.0.0/16 dev lo',
      'ip link set lo mtu 65536',
      'ip addr show dev lo',
      'ip link set lo down',
      'ip link set lo up',
      'ip addr show dev lo',
      'ip route show table all',
    ],
  },
  {
    name: 'statistics',
    steps: [
      'ip link add v0 type veth peer name v1',
      'ip link add br0 type bridge',
      'ip -s -s link show v0',
      'ip -s -s link show br0',
      'ip link set v0 up',
      'ip -s -s link show v0',
      'ip -s link show v0',
      'ip -s -s link show lo',
      'ip -s addr show lo',
      'ip link set v0 down',
      'ip -s -s link show v0',
      'ip -s -o link show v0',
    ],
  },
  {
    name: 'address filters',
    steps: [
      ...SETUP_PAIR,
      'ip addr add 10.0.0.1/24 dev v0',
      'ip addr add 10.0.0.2/24 dev v0',
      'ip addr add 10.1.0.1/24 dev v0 scope link',
      'ip addr add 10.2.0.1/24 dev v1 label v1:x',
      'ip addr show secondary',
      'ip addr show primary',
      'ip addr show permanent',
      'ip addr show dynamic',
      'ip addr show scope link',
      'ip addr show scope global',
      'ip addr show label v1:x',
      'ip addr show label v1*',
      'ip addr show to 10.0.0.0/24',
      'ip -4 addr show to 10.2.0.1',
      'ip addr show master nope',
      'ip -br addr show dev v1',
    ],
  },
  {
    name: 'promote secondaries',
    steps: [
      'sysctl -qw net.ipv4.conf.all.promote_secondaries=1',
      ...SETUP_PAIR,
      'ip link set v0 up',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip addr add 10.0.0.2/24 dev v0',
      'ip addr add 10.0.0.3/24 dev v0',
      'ip addr add 10.9.0.1/24 dev v0',
      'ip route add 10.20.0.0/16 dev v0 src 10.0.0.1',
      'ip route add 10.21.0.0/16 dev v0 src 10.0.0.2',
      'ip addr del 10.0.0.2/24 dev v0',
      'ip route',
      'ip addr add 10.0.0.2/24 dev v0',
      'ip addr del 10.0.0.1/24 dev v0',
      'ip addr show dev v0',
      'ip route show table all',
    ],
  },
  {
    name: 'secondaries go with their primary',
    steps: [
      ...SETUP_PAIR,
      'ip link set v0 up',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip addr add 10.0.0.2/24 dev v0',
      'ip addr add 10.0.0.3/24 dev v0',
      'ip route add 10.20.0.0/16 dev v0 src 10.0.0.2',
      'ip addr del 10.0.0.1/24 dev v0',
      'ip addr show dev v0',
      'ip route show table all',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip route add 10.21.0.0/16 dev v0',
      'ip addr del 10.0.0.1/24 dev v0',
      'ip route show table all',
    ],
  },
  {
    name: 'user routes',
    steps: [
      'ip link set lo up',
      ...SETUP_PAIR,
      'ip route add 10.9.0.0/16 dev v0',
      'ip route add 10.9.0.0/16 via 10.0.0.254',
      'ip link set v0 up',
      'ip route add 10.9.0.0/16 dev v0',
      'ip route add 10.9.0.0/16 via 10.0.0.254',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip route add 10.9.0.0/16 via 10.0.0.254',
      'ip route add 10.9.0.0/16 dev v0 metric 5',
      'ip route add 10.9.0.0/16 via 10.0.0.253 metric 5',
      'ip route append 10.9.0.0/16 via 10.0.0.253 metric 5',
      'ip route prepend 10.9.0.0/16 via 10.0.0.252 metric 5',
      'ip route add default via 10.0.0.254',
      'ip route add default via 10.0.0.254',
      'ip route add 10.8.0.0/16 via 10.0.0.1',
      'ip route add 10.7.0.0/16 via 10.0.0.255',
      'ip route add 10.6.0.0/16 via 10.9.0.1',
      'ip route add 10.5.0.0/16 via 10.0.0.254 dev v1',
      'ip route add 10.4.0.0/16 dev v0 src 10.0.0.1',
      'ip route add 10.3.0.0/16 dev v0 src 10.0.0.7',
      'ip route add 10.2.0.0/16 dev v0 proto static scope link metric 100',
      'ip route add 10.1.0.0/16 dev v0 table 100',
      'ip route add 10.1.0.0/16 via 10.0.0.254 table 100',
      'ip route add unreachable 10.20.0.0/16',
      'ip route add blackhole 10.21.0.0/16',
      'ip route add prohibit 10.22.0.0/16',
      'ip route add unreachable 10.23.0.0/16 dev v0',
      'ip route add local 10.24.0.1 dev v0',
      'ip route add 10.25.0.0/16 dev v0 scope host',
      'ip route add 10.0.0.0/8 dev v0',
      'ip route add 10.0.0.0/24 dev v0 proto static',
      'ip route add 10.0.0.1/8 dev v0',
      'ip route',
      'ip route show table all',
      'ip route show table 100',
      'ip route show table local',
      'ip route list',
      'ip r',
      'ip route show 10.9.0.0/16',
      'ip route show root 10.0.0.0/8',
      'ip route show match 10.9.1.1',
      'ip route show proto static',
      'ip route show dev v0',
      'ip route show scope link',
      'ip route show type unreachable',
      'ip route show default',
      'ip route show metric 5',
      'ip route show via 10.0.0.253',
      'ip route get 10.9.1.1',
      'ip route get 10.20.1.1',
      'ip route get 10.21.1.1',
      'ip route get 10.22.1.1',
      'ip route get 1.1.1.1',
      'ip route get 10.25.0.1',
      'ip route get 10.24.0.1',
      'ip route del 10.9.0.0/16',
      'ip route',
      'ip route del 10.9.0.0/16 via 10.0.0.252',
      'ip route del 10.9.0.0/16 metric 5',
      'ip route del 10.9.0.0/16 metric 7',
      'ip route del 10.99.0.0/16',
      'ip route replace 10.9.0.0/16 dev v0 metric 5',
      'ip route replace 10.30.0.0/16 via 10.0.0.254',
      'ip route change 10.30.0.0/16 via 10.0.0.253',
      'ip route change 10.31.0.0/16 via 10.0.0.253',
      'ip route',
      'ip route del default',
      'ip route del default',
      'ip link set v1 up',
      'ip route',
      'ip route flush table 100',
      'ip route show table 100',
      'ip link set v0 down',
      'ip route show table all',
    ],
  },
  {
    name: 'route get',
    steps: [
      'ip link set lo up',
      ...SETUP_PAIR,
      'ip link set v0 up',
      'ip link set v1 up',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip route get 10.0.0.5',
      'ip route get 10.0.0.1',
      'ip route get 8.8.8.8',
      'ip route add default via 10.0.0.254',
      'ip route get 8.8.8.8',
      'ip route get 255.255.255.255',
      'ip route get 224.0.0.1',
      'ip route get 224.0.0.5',
      'ip route get 0.0.0.0',
      'ip route get 127.0.0.1',
      'ip route get 127.1.2.3',
      'ip route get 10.0.0.9 from 10.0.0.1',
      'ip route get 10.0.0.9 from 10.0.0.2',
      'ip route get 10.0.0.9 oif v0',
      'ip route get 8.8.8.8 oif v1',
      'ip route get to 8.8.8.8',
      'ip route get 8.8.8.8/24',
      'ip route get foo',
      'ip route get',
      'ip route get 8.8.8.8 oif nope',
    ],
  },
  {
    name: 'bridge',
    steps: [
      ...SETUP_PAIR,
      'ip link add br0 type bridge',
      'ip link set br0 address 02:00:00:00:00:09',
      '~ip link set br0 up',
      'ip link set v0 up',
      'ip link set v1 up',
      '~ip link set v0 master br0',
      'ip link show br0',
      'ip link show v0',
      'ip addr',
      'ip route show table all',
      '~ip link set v0 nomaster',
      'ip link show br0',
      '~ip link set v0 master br0',
      '~ip link set v1 down',
      'ip link show br0',
      'ip link show v0',
      '~ip link set v1 up',
      'ip link show br0',
      'ip -br link show type bridge_slave',
      'ip -br link show master br0',
      'ip -br link show type bridge',
      'ip link add br1 type bridge',
      'ip link set v0 master br1',
      'ip link show v0',
      'ip link set br1 master br0',
      'ip link set lo master br0',
      'ip link set v1 master v0',
      'ip link set v1 master nope',
      'ip link set br0 mtu 9000',
      'ip link show br0',
      '~ip link del br1',
      'ip link',
    ],
  },
  {
    name: 'bridge follows its ports',
    steps: [
      ...SETUP_PAIR,
      'ip link add br0 type bridge',
      'ip link set v0 mtu 1400',
      'ip link set v0 master br0',
      'ip link show br0',
      'ip link set v1 master br0',
      'ip link show br0',
      'ip link set v0 nomaster',
      'ip link show br0',
      'ip link set v1 nomaster',
      'ip link show br0',
    ],
  },
  {
    name: 'neighbours',
    steps: [
      'ip link set lo up',
      ...SETUP_PAIR,
      'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev v0',
      'ip link set v0 up',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev v0',
      'ip neigh add 10.0.0.3 lladdr 02:00:00:00:00:03 dev v0 nud reachable',
      'ip neigh add 10.0.0.4 lladdr 02:00:00:00:00:04 dev v0 nud stale',
      'ip neigh add 10.0.0.5 lladdr 02:00:00:00:00:05 dev v0 nud noarp',
      'ip neigh add 10.0.0.6 lladdr 02:00:00:00:00:06 dev v0 nud permanent',
      'ip neigh add 10.0.0.7 dev v0',
      'ip neigh add 10.0.0.8 lladdr 02:00:00:00:00:08 dev v0 nud delay',
      'ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev v0 nud failed',
      'ip neigh add 10.0.0.10 lladdr 02:00:00:00:00:0a dev v0 nud none',
      'ip neigh add 10.0.0.11 lladdr 02:00:00:00:00:0b dev v0 nud incomplete',
      'ip neigh add 10.0.0.255 dev v0',
      'ip neigh add 224.0.0.9 dev v0',
      'ip neigh add 10.0.0.12 lladdr 2:0:0:0:0:c dev lo',
      'ip neigh add 10.0.0.13 dev lo',
      'ip neigh',
      'ip neigh show',
      'ip neigh show dev v0',
      'ip neigh show nud all',
      'ip neigh show nud permanent',
      'ip neigh show 10.0.0.0/30',
      'ip -br neigh',
      'ip -o neigh',
      'ip n',
      'ip neighbor',
      'ip neigh replace 10.0.0.2 lladdr 02:00:00:00:00:22 dev v0',
      'ip neigh replace 10.0.0.20 lladdr 02:00:00:00:00:20 dev v0',
      'ip neigh change 10.0.0.3 lladdr 02:00:00:00:00:33 dev v0',
      'ip neigh change 10.0.0.30 lladdr 02:00:00:00:00:30 dev v0',
      'ip neigh del 10.0.0.4 dev v0',
      'ip neigh del 10.0.0.4 dev v0',
      'ip neigh del 10.0.0.12 dev lo',
      'ip neigh',
      'ip neigh flush dev v0',
      'ip neigh show nud all',
      'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev v0',
      'ip link set v0 down',
      'ip neigh',
      'ip link set v0 up',
      'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev v0',
      'ip addr flush dev v0',
      'ip neigh',
      'ip neigh flush all',
      'ip neigh show nud all',
    ],
  },
  {
    name: 'link errors',
    steps: [
      'ip link add x type foo',
      'ip link add x',
      'ip link add',
      'ip link add v5 type veth',
      'ip link add v0 type veth peer name v1',
      'ip link add v0 type veth peer name v2',
      'ip link add v2 type veth peer name v0',
      'ip link add v6 type veth peer v7',
      'ip link add v8 type veth peer name v8',
      'ip link add abcdefghijklmnop type bridge',
      'ip link add abcdefghijklmno type bridge',
      'ip link add br0 type bridge',
      'ip link add br0 type bridge',
      'ip link add name br1 type bridge',
      'ip link add dev br2 type bridge',
      'ip link add br3 type bridge foo',
      'ip link add v9 type veth foo',
      'ip link show',
      'ip link set v0 address 02:00:00:00:00:01',
      'ip link set v0 address 01:00:00:00:00:01',
      'ip link set v0 address zz',
      'ip link set v0 address 02:00:00:00:00',
      'ip link set v0 address 2:0:0:0:0:3',
      'ip link set v0 address 02:00:00:00:00:01:02',
      'ip link set v0 address 00:00:00:00:00:00',
      'ip link set lo address 02:00:00:00:00:09',
      'ip link set v0 mtu 9000',
      'ip link set v0 mtu 67',
      'ip link set v0 mtu 65536',
      'ip link set v0 mtu 65535',
      'ip link set v0 mtu abc',
      'ip link set v0 mtu',
      'ip link set lo mtu 100000',
      'ip link set v0 txqueuelen 500',
      'ip link set v0 group 7',
      'ip link set nope up',
      'ip link set dev nope up',
      'ip link set v0 up down',
      'ip link set v0 foo',
      'ip link set v0',
      'ip link set',
      'ip link show dev v0',
      'ip link show nope',
      'ip link show dev',
      'ip link del nope',
      'ip link del',
      'ip link set v0 up',
      'ip link set v0 name v9',
      'ip link set v0 down',
      'ip link set v0 name v5',
      'ip link set v0 name v9',
      'ip link show',
      'ip link del v1',
      'ip link del br0',
      'ip link delete br1',
      'ip link del lo',
      'ip link set lo down',
      'ip link show lo',
      'ip link show',
    ],
  },
  {
    name: 'address and route errors',
    steps: [
      'ip addr show nope',
      'ip addr add 10.6.0.1/33 dev lo',
      'ip addr add 10.6.0.1/24 dev nope',
      'ip addr add 10.6.0.1/24',
      'ip addr add foo dev lo',
      'ip addr add 10.6.0.1/24 dev lo bogus',
      'ip addr del 10.99.0.1/24 dev lo',
      'ip addr del dev lo',
      'ip addr add 1.2.3.4/24 dev lo brd 1.2.3',
      'ip addr add 1.2.3.4/24 dev lo brd',
      'ip addr add 1.2.3.4/24 dev lo scope foo',
      'ip addr add 1.2.3.4/24 dev lo',
      'ip addr add 1.2.3.5/24 dev lo scope link',
      'ip addr add 1.2.3.5/255.255.255.0 dev lo',
      'ip addr add 1.2.3.6/255.0.255.0 dev lo',
      'ip addr add 0x01.0.0.010/8 dev lo',
      'ip addr flush',
      'ip addr flush dev nope',
      'ip addr',
      'ip route add 10.0.0.0/8 foo',
      'ip route add 10.0.0.1/8 dev lo',
      'ip route add 10.0.0.0/8 dev nope',
      'ip route add 10.0.0.0/8 via foo',
      'ip route add 10.0.0.0/8 table foo dev lo',
      'ip route add 10.0.0.0/8 metric x dev lo',
      'ip route add 10.0.0.0/8 scope foo dev lo',
      'ip route add 10.0.0.0/8 proto foo dev lo',
      'ip route add',
      'ip route del',
      'ip route show table foo',
      'ip route flush',
      'ip route add local 10.5.0.1 dev lo scope link',
      'ip route add 10.5.0.0/16 via 1.2.3.4 scope host',
      'ip link set lo up',
      'ip route add 10.5.0.0/16 dev lo proto static metric 7',
      'ip route show table all',
    ],
  },
  {
    name: 'command and option errors',
    steps: [
      'ip xyz',
      'ip link xyz',
      'ip addr xyz',
      'ip route xyz',
      'ip neigh xyz',
      'ip -foo link',
      'ip',
      'ip help',
      'ip -V',
      'ip link help',
      'ip addr help',
      'ip route help',
      'ip neigh help',
      'ip neigh add 10.0.0.8 lladdr 02:00:00:00:00:08',
      'ip neigh add 10.0.0.8 lladdr zz dev lo',
      'ip neigh add 10.0.0.8 lladdr 02:00:00:00:00:08 dev nope',
      'ip neigh add 10.0.0.8 lladdr 02:00:00:00:00:08 dev lo nud foo',
      'ip neigh add 10.0.0.8 lladdr 02:00 dev lo',
      'ip neigh del 10.0.0.40',
      'ip neigh del 10.0.0.40 dev lo',
      'ip neigh flush',
      'ip neigh show dev nope',
      'ip neigh show nud foo',
      'ip -f foo link',
      'ip -family inet addr',
      'ip -4 link',
      'ip -0 addr',
      'ip -brief address',
      'ip -oneline link',
      'ip -stats link',
      'ip address',
      'ip ad',
      'ip addr list',
      'ip addr lst',
      'ip l',
      'ip li',
      'ip lin',
      'ip ro',
      'ip rou li',
    ],
  },
];

ipDiffSuite('ip (kernel vs nflab)', IP_CASES);

// ---------------------------------------------------------------------------
// Random sequences

const DEVS = ['v0', 'v1', 'v2', 'v3', 'lo', 'nope'];
const ADDRS = ['10.0.0.1', '10.0.0.2', '10.0.0.9', '10.0.1.1', '192.168.1.1', '172.16.0.5', '127.0.0.7'];
const PLENS = ['8', '16', '24', '30', '31', '32'];
const PREFIXES = ['10.0.0.0/24', '10.9.0.0/16', '10.0.0.0/8', '192.168.0.0/16', 'default', '10.9.1.0/24', '0.0.0.0/0'];
const MACS = ['02:00:00:00:00:11', '02:00:00:00:00:12', '02:aa:00:00:00:13', '01:00:00:00:00:14'];

const pick = <T>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
const opt = (a: fc.Arbitrary<string>): fc.Arbitrary<string> => fc.oneof(fc.constant(''), a);

/** One or a few command lines. */
const stepArb: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom<string[]>(
    ['ip link add v0 type veth peer name v1', 'ip link set v0 address 02:00:00:00:00:01', 'ip link set v1 address 02:00:00:00:00:02'],
    ['ip link add v2 type veth peer name v3', 'ip link set v2 address 02:00:00:00:00:03', 'ip link set v3 address 02:00:00:00:00:04'],
  ) },
  fc.tuple(pick(['del', 'delete']), pick(DEVS)).map(([c, d]) => [`ip link ${c} ${d}`]),
  { weight: 4, arbitrary: fc.tuple(pick(DEVS), pick(['up', 'down'])).map(([d, s]) => [`ip link set ${d} ${s}`]) },
  fc.tuple(pick(DEVS), pick(['67', '68', '1280', '1500', '9000', '65535', '65536', 'x'])).map(([d, m]) => [`ip link set dev ${d} mtu ${m}`]),
  fc.tuple(pick(DEVS), pick(MACS)).map(([d, m]) => [`ip link set ${d} address ${m}`]),
  { weight: 5, arbitrary: fc
    .tuple(pick(ADDRS), pick(PLENS), pick(DEVS), opt(pick([' brd +', ' scope link', ' brd 10.0.0.77', ' peer 10.0.0.99'])))
    .map(([a, p, d, x]) => [`ip addr add ${a}/${p} dev ${d}${x}`]) },
  { weight: 2, arbitrary: fc.tuple(pick(ADDRS), opt(pick(PLENS.map((p) => `/${p}`))), pick(DEVS)).map(([a, p, d]) => [`ip addr del ${a}${p} dev ${d}`]) },
  fc.tuple(pick(DEVS)).map(([d]) => [`ip addr flush dev ${d}`]),
  { weight: 5, arbitrary: fc
    .tuple(
      pick(['add', 'del', 'replace', 'append', 'prepend', 'change']),
      opt(pick(['unreachable ', 'blackhole ', 'prohibit ', 'local '])),
      pick(PREFIXES),
      opt(pick([' via 10.0.0.254', ' via 10.0.0.1', ' via 10.0.1.9', ' via 192.168.1.1'])),
      opt(pick(DEVS.map((d) => ` dev ${d}`))),
      opt(pick([' metric 5', ' metric 10'])),
      opt(pick([' src 10.0.0.1', ' src 10.0.0.9', ' table 100', ' proto static', ' scope link', ' scope host'])),
    )
    .map(([c, t, p, v, d, m, x]) => [`ip route ${c} ${t}${p}${v}${d}${m}${x}`]) },
  { weight: 3, arbitrary: fc
    .tuple(pick(['10.0.0.5', '10.9.1.1', '8.8.8.8', '10.0.0.1', '127.0.0.1', '10.0.0.255', '192.168.1.1']), opt(pick([' from 10.0.0.1', ' from 10.0.0.2', ' oif v0', ' oif v1'])))
    .map(([a, x]) => [`ip route get ${a}${x}`]) },
  { weight: 2, arbitrary: fc
    .tuple(pick(['add', 'replace', 'change', 'del']), pick(['10.0.0.2', '10.0.0.3', '10.0.0.255']), opt(pick(MACS.map((m) => ` lladdr ${m}`))), pick(DEVS), opt(pick([' nud reachable', ' nud stale', ' nud noarp', ' nud failed'])))
    .map(([c, a, m, d, n]) => [`ip neigh ${c} ${a}${m} dev ${d}${n}`]) },
  fc.tuple(pick(DEVS)).map(([d]) => [`ip neigh flush dev ${d}`]),
  { weight: 6, arbitrary: pick([
    'ip link', 'ip addr', 'ip -4 addr', 'ip -6 addr', 'ip -br link', 'ip -br addr', 'ip -o addr', 'ip -o link',
    'ip route', 'ip route show table all', 'ip route show table local', 'ip route show table 100', 'ip neigh',
    'ip neigh show nud all', 'ip -6 route', 'ip addr show dev v0', 'ip link show v1', 'ip -s link show lo',
  ]).map((l) => [l]) },
);

const FUZZ_RUNS = Number(process.env['NFLAB_IP_FUZZ_RUNS'] ?? 200) || 200;
const FUZZ_SEED = Number(process.env['NFLAB_IP_FUZZ_SEED'] ?? 20260701);

const fuzzCases: IpCase[] = fc
  .sample(fc.array(stepArb, { minLength: 2, maxLength: 12 }), { numRuns: FUZZ_RUNS, seed: FUZZ_SEED })
  .map((groups, i) => ({ name: `fuzz ${i} (seed ${FUZZ_SEED})`, steps: ['ip link set lo up', ...groups.flat()] }));

ipDiffSuite('ip random sequences (kernel vs nflab)', fuzzCases);
