/**
 * Kernel-differential tests of `sysctl`: sequences run in a fresh network
 * namespace with the real procps sysctl (and `ip` to create links) and
 * through runSysctl/runIp on emptyNetState(); stdout, stderr and exit status
 * must match byte for byte.
 *
 * The lab has only the net.* tree, so listings of everything use
 * `-r '^net'`. One key is masked: net.netfilter.nf_hooks_lwtunnel is
 * machine-wide in the kernel (once switched on by anyone it stays on), so
 * its value depends on what ran before on the machine.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { runIp } from '../src/cli/ip/index.js';
import { runSysctl } from '../src/cli/sysctl.js';
import { emptyNetState } from '../src/core/net/state.js';
import type { NetState } from '../src/core/net/types.js';
import { KernelBackend } from './diff/kernel.js';
import { DIFF_JOBS, mapConcurrent } from './diff/pool.js';
import { guardKernel } from './diff/suite.js';
import { unifiedDiff } from './diff/textdiff.js';
import type { StepResult } from './diff/types.js';

/** A named sequence of commands, each an argv (tool name first). */
interface SysctlCase {
  name: string;
  steps: string[][];
}

const dir = mkdtempSync(join(tmpdir(), 'nflab-sysctl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a file both sides read with -p; returns its path. */
function confFile(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function readLabFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function nflabSide(steps: readonly string[][]): StepResult[] {
  let net: NetState = emptyNetState();
  return steps.map((argv) => {
    const r = argv[0] === 'ip' ? runIp(argv.slice(1), net) : runSysctl(argv.slice(1), net, readLabFile);
    if (r.net) net = r.net;
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  });
}

function mask(text: string): string {
  return text.replace(/^(net\.netfilter\.nf_hooks_lwtunnel = )\d+$/gm, '$1N').replace(/^\d+$/gm, (v) => v);
}

function report(c: SysctlCase, expected: StepResult[], actual: StepResult[]): string {
  let s = '';
  c.steps.forEach((argv, i) => {
    const e = expected[i]!;
    const a = actual[i]!;
    const eo = mask(e.stdout);
    const ao = mask(a.stdout);
    if (eo === ao && e.stderr === a.stderr && e.status === a.status) return;
    s += `\nstep ${i + 1}: ${JSON.stringify(argv)}\n`;
    if (eo !== ao) s += `stdout (- kernel, + nflab):\n${unifiedDiff(eo, ao)}\n`;
    if (e.stderr !== a.stderr) s += `stderr kernel: ${JSON.stringify(e.stderr)}\nstderr nflab:  ${JSON.stringify(a.stderr)}\n`;
    if (e.status !== a.status) s += `status kernel ${e.status}, nflab ${a.status}\n`;
  });
  return s === '' ? '' : `case ${c.name}:${s}\n  steps:\n${c.steps.map((x) => `    ${JSON.stringify(x)}`).join('\n')}`;
}

function sysctlDiffSuite(title: string, cases: readonly SysctlCase[]): void {
  describe(title, () => {
    const skip = guardKernel(title);
    const kernel = new KernelBackend();
    let runs: Promise<StepResult[]>[] | undefined;
    cases.forEach((c, index) => {
      it(c.name, skip === undefined ? {} : { skip }, async () => {
        runs ??= mapConcurrent(cases, DIFF_JOBS, (k) => kernel.run(k.steps.map((argv) => ({ argv }))));
        const expected = await runs[index]!;
        const r = report(c, expected, nflabSide(c.steps));
        if (r !== '') assert.fail(r);
      });
    });
  });
}

const sh = (line: string): string[] => line.trim().split(/\s+/);

const CONF = confFile(
  'sysctl.conf',
  'net.ipv4.ip_forward = 1\n# comment\n; comment\n\nnet.ipv4.tcp_syncookies=0\n-net.ipv4.nope = 3\nnet.ipv4.nope2 = 1\n bad line\nnet.ipv4.conf.*.rp_filter = 2\n-net.ipv4.conf.lo.rp_filter\nnet.ipv4.icmp_echo_ignore_all = 7\n',
);

/** Hand-written cases. */
export const SYSCTL_CASES: SysctlCase[] = [
  {
    name: 'reading',
    steps: [
      'sysctl net.ipv4.ip_forward',
      'sysctl net.ipv4.tcp_syncookies net.netfilter.nf_conntrack_max net.netfilter.nf_conntrack_tcp_timeout_established',
      'sysctl -n net.ipv4.ip_forward',
      'sysctl -n net.ipv4.ip_forward net.ipv4.tcp_syncookies',
      'sysctl -b net.ipv4.ip_forward',
      'sysctl -N net.ipv4.ip_forward',
      'sysctl -q net.ipv4.ip_forward',
      'sysctl net/ipv4/ip_forward',
      'sysctl net.ipv4.nope',
      'sysctl net.nope net.nope2',
      'sysctl -e net.ipv4.nope',
      'sysctl -q net.ipv4.nope',
      'sysctl net.ipv4.conf',
      'sysctl net.ipv4.route',
      'sysctl net.ipv4.route.flush',
      'sysctl net.ipv6.conf.all.stable_secret',
      'sysctl net.ipv6.conf.lo',
      'sysctl -N net.ipv4.conf.lo',
      'sysctl net.ipv4.neigh.lo.retrans_time',
      'sysctl net.ipv4//ip_forward',
      'sysctl net.netfilter',
      'sysctl net.core',
    ].map(sh),
  },
  {
    name: 'listing everything',
    steps: ['sysctl -a -r ^net', 'sysctl -A -r ^net.ipv4.conf', 'sysctl --deprecated -a -r ^net.ipv.\\.neigh', 'sysctl -N -a -r ^net', 'sysctl -n -a -r ^net.ipv4.tcp_', 'sysctl -a --pattern forward', 'sysctl -a -r rp_filter'].map(sh),
  },
  {
    name: 'writing',
    steps: [
      'sysctl -w net.ipv4.ip_forward=1',
      'sysctl net.ipv4.conf.all.forwarding net.ipv4.conf.default.forwarding net.ipv4.conf.lo.forwarding net.ipv4.conf.all.accept_redirects',
      'sysctl -w net.ipv4.ip_forward=2',
      'sysctl -w net.ipv4.ip_forward=abc',
      'sysctl -w net.ipv4.ip_forward=',
      'sysctl -w net.ipv4.ip_forward',
      'sysctl net.ipv4.ip_forward=1',
      'sysctl -w net.ipv4.ip_forward=0 net.ipv4.tcp_syncookies=0',
      'sysctl -w net.ipv4.ip_forward=99999999999',
      'sysctl -w net.ipv4.ip_forward=-1',
      'sysctl -w net.ipv4.ip_forward=0x1',
      'sysctl net.ipv4.ip_forward',
      'sysctl -w net.ipv4.ip_forward=010',
      'sysctl net.ipv4.ip_forward',
      'sysctl -w net.ipv4.ip_forward=+1',
      'sysctl -w net.ipv4.ip_forward=1x',
      'sysctl -w net.ipv4.ip_forward=2147483648',
      'sysctl -w net/ipv4/ip_forward=0',
      'sysctl -w net.ipv4.nope=1',
      'sysctl -e -w net.ipv4.nope=1',
      'sysctl -w net.core.rmem_max=1',
      'sysctl -w net.netfilter.nf_conntrack_max=1000',
      'sysctl -w net.netfilter.nf_conntrack_count=3',
      'sysctl -w net.ipv4.route.flush=1',
      'sysctl -w net.ipv4.route=1',
      'sysctl -w net.ipv4.conf.lo=1',
      'sysctl -w net.core.rmem_max=1 net.ipv4.ip_forward=1',
      'sysctl -qw net.ipv4.ip_forward=1',
      'sysctl -nw net.ipv4.ip_forward=0',
      'sysctl -N -w net.ipv4.ip_forward=0',
      'sysctl --dry-run -w net.ipv4.ip_forward=7',
      'sysctl net.ipv4.ip_forward',
      'sysctl -q -w net.ipv4.ip_forward=abc',
      'sysctl -w net..ipv4.ip_forward=0',
      'sysctl -w net.ipv4.conf.*.rp_filter=1',
      'sysctl -w net.ipv4.ip_local_port_range=1000',
      'sysctl -w net.ipv4.tcp_congestion_control=cubic',
      'sysctl -w net.ipv4.tcp_congestion_control=foo',
      'sysctl -w net.ipv4.tcp_congestion_control=reno',
      'sysctl net.ipv4.tcp_congestion_control',
      'sysctl -w net.ipv4.tcp_syncookies=5',
      'sysctl -w net.ipv4.icmp_echo_ignore_all=2',
      'sysctl -w net.netfilter.nf_conntrack_tcp_loose=5',
      'sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=100',
      'sysctl -w net.netfilter.nf_conntrack_tcp_timeout_established=0x10',
      'sysctl net.netfilter.nf_conntrack_tcp_timeout_established',
      'sysctl -w net.ipv4.ip_default_ttl=0',
      'sysctl -w net.ipv4.ip_default_ttl=255',
      'sysctl -w net.ipv4.tcp_rmem=1',
      'sysctl net.ipv4.tcp_rmem',
      'sysctl -w net.bridge.bridge-nf-call-iptables=2',
      'sysctl net.bridge.bridge-nf-call-iptables',
      'sysctl -w net.core.somaxconn=-5',
      'sysctl -w net.ipv4.neigh.lo.retrans_time_ms=1001',
      'sysctl net.ipv4.neigh.lo.retrans_time_ms',
      'sysctl -w net.ipv4.neigh.lo.anycast_delay=255',
      'sysctl net.ipv4.neigh.lo.anycast_delay',
    ].map(sh),
  },
  {
    name: 'values with spaces',
    steps: [
      ['sysctl', '-w', 'net.ipv4.ip_forward=1 2'],
      ['sysctl', '-w', 'net.ipv4.ip_forward= 1'],
      ['sysctl', '-w', ' net.ipv4.ip_forward=1'],
      ['sysctl', '-w', 'net.ipv4.ip_forward =1 '],
      ['sysctl', '-w', 'net.ipv4.ip_forward', '=', '1'],
      ['sysctl', '-w', 'net.ipv4.ip_forward=1 x'],
      ['sysctl', '-w', 'net.ipv4.tcp_rmem=4096 87380 6291456'],
      ['sysctl', 'net.ipv4.tcp_rmem'],
      ['sysctl', '-w', 'net.ipv4.ip_local_port_range=3000 2000'],
      ['sysctl', '-w', 'net.ipv4.ip_local_port_range=20000 30000'],
      ['sysctl', 'net.ipv4.ip_local_port_range'],
      ['sysctl', ''],
    ],
  },
  {
    name: 'per-device keys follow links',
    steps: [
      'sysctl -w net.ipv4.conf.default.rp_filter=2',
      'ip link add v0 type veth peer name v1',
      'sysctl net.ipv4.conf.v0.rp_filter net.ipv4.conf.lo.rp_filter',
      'sysctl -w net.ipv4.conf.v0.rp_filter=0',
      'sysctl -w net.ipv4.conf.default.rp_filter=1',
      'sysctl net.ipv4.conf.v0.rp_filter net.ipv4.conf.v1.rp_filter net.ipv4.conf.lo.rp_filter',
      'sysctl -w net.ipv4.conf.default.log_martians=1',
      'sysctl net.ipv4.conf.v0.log_martians net.ipv4.conf.v1.log_martians net.ipv4.conf.lo.log_martians',
      'ip link add br0 type bridge',
      'sysctl net.ipv4.conf.br0.log_martians net.ipv4.conf.br0.rp_filter',
      'sysctl -w net.ipv4.conf.default.log_martians=0',
      'sysctl net.ipv4.conf.br0.log_martians',
      'sysctl -w net.ipv4.ip_forward=1',
      'sysctl -a -r forwarding',
      'sysctl -w net.ipv6.conf.all.forwarding=1',
      'sysctl net.ipv6.conf.default.forwarding net.ipv6.conf.v0.forwarding',
      'ip link set v0 mtu 9000',
      'sysctl net.ipv6.conf.v0.mtu net.ipv6.conf.v1.mtu',
      'sysctl -a -r ^net.ipv4.conf.v0',
      'sysctl -a -r ^net.ipv6.conf.v1',
      'sysctl -a -r ^net.ipv4.neigh.br0',
      'ip link set v0 name vx',
      'sysctl net.ipv4.conf.vx.rp_filter net.ipv4.conf.v0.rp_filter',
      'ip link del vx',
      'sysctl net.ipv4.conf.v1.rp_filter',
      'sysctl -a -r ^net.ipv4.conf',
      'ip link set lo up',
      'sysctl -w net.ipv4.conf.default.rp_filter=0',
      'sysctl net.ipv4.conf.lo.rp_filter',
    ].map(sh),
  },
  {
    name: 'options and usage',
    steps: ['sysctl', 'sysctl -x', 'sysctl -z', 'sysctl -h', 'sysctl -V', 'sysctl --version', 'sysctl --foo', 'sysctl -Nq net.ipv4.ip_forward', 'sysctl --values net.ipv4.ip_forward', 'sysctl -r', 'sysctl --pattern=forward$ -a', 'sysctl net.ipv4.ip_forward -n'].map(sh),
  },
  {
    name: 'loading files',
    steps: [
      ['sysctl', '-p', CONF],
      ['sysctl', `-p${CONF}`],
      ['sysctl', '-q', '-p', CONF],
      ['sysctl', '-p', '/nonexistent'],
      ['sysctl', '-pnothere'],
      ['sysctl', '-p', CONF, '/nonexistent'],
      ['sysctl', 'net.ipv4.ip_forward', 'net.ipv4.conf.lo.rp_filter', 'net.ipv4.conf.all.rp_filter'],
    ],
  },
];

sysctlDiffSuite('sysctl (kernel vs nflab)', SYSCTL_CASES);

// ---------------------------------------------------------------------------
// Random sequences of writes and reads

const KEYS = [
  'net.ipv4.ip_forward',
  'net.ipv4.conf.all.forwarding',
  'net.ipv4.conf.default.forwarding',
  'net.ipv4.conf.all.rp_filter',
  'net.ipv4.conf.default.rp_filter',
  'net.ipv4.conf.v0.rp_filter',
  'net.ipv4.conf.lo.rp_filter',
  'net.ipv4.conf.default.accept_redirects',
  'net.ipv4.conf.v1.accept_redirects',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.icmp_echo_ignore_all',
  'net.ipv4.ip_default_ttl',
  'net.netfilter.nf_conntrack_tcp_timeout_established',
  'net.netfilter.nf_conntrack_udp_timeout',
  'net.netfilter.nf_conntrack_acct',
  'net.netfilter.nf_conntrack_max',
  'net.ipv6.conf.all.forwarding',
  'net.ipv6.conf.v0.forwarding',
  'net.core.somaxconn',
  'net.ipv4.ip_local_port_range',
];
const VALUES = ['0', '1', '2', '3', '-1', '255', '256', '65536', '0x10', '010', 'abc', '', '1 2', '40000 50000', '2147483647', '2147483648'];

const stepArb: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), fc.constantFrom(['-w'], ['-qw'], [])).map(([k, v, o]) => ['sysctl', ...o, `${k}=${v}`]) },
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }).map((ks) => ['sysctl', ...ks]) },
  fc.constantFrom<string[]>(
    ['ip', 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1'],
    ['ip', 'link', 'del', 'v0'],
    ['ip', 'link', 'set', 'lo', 'up'],
    ['ip', 'link', 'add', 'br0', 'type', 'bridge'],
    ['sysctl', '-a', '-r', 'forwarding|rp_filter'],
    ['sysctl', 'net.ipv4.conf.v0'],
    ['sysctl', '-n', 'net.ipv6.conf.v0.forwarding', 'net.ipv6.conf.default.forwarding'],
  ),
);

const FUZZ_RUNS = Number(process.env['NFLAB_SYSCTL_FUZZ_RUNS'] ?? 150) || 150;
const FUZZ_SEED = Number(process.env['NFLAB_SYSCTL_FUZZ_SEED'] ?? 4242);

const fuzzCases: SysctlCase[] = fc
  .sample(fc.array(stepArb, { minLength: 2, maxLength: 12 }), { numRuns: FUZZ_RUNS, seed: FUZZ_SEED })
  .map((steps, i) => ({ name: `fuzz ${i} (seed ${FUZZ_SEED})`, steps: [...steps, ['sysctl', '-a', '-r', '^net.ipv[46].conf|^net.ipv4.ip_|^net.netfilter.nf_conntrack_(tcp_timeout_est|udp_timeout$|acct|max)|^net.core.somax']] }));

sysctlDiffSuite('sysctl random sequences (kernel vs nflab)', fuzzCases);
