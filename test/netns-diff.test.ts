/**
 * Kernel-differential tests of `ip netns`, `ip -n` and links moving between
 * namespaces. Each case runs its command lines on the real iproute2 inside
 * a sandbox: a fresh network namespace (the case's "host") with its own
 * mount namespace, a private /run/netns and its own process ids (pid 1 is
 * the sandbox, so `netns 1` stays inside), and through runIp with an
 * in-memory namespace directory on the nflab side (which also carries out
 * `ip netns exec NAME CMD`). stdout, stderr and exit status of every step
 * must match byte for byte, then a final dump of every namespace.
 *
 * Masked or arranged, and why:
 * - MAC addresses the case did not write are random on the kernel side and
 *   are replaced by <mac> on both sides.
 * - Every namespace the kernel side creates gets accept_dad=0 (hidden
 *   step), so IPv6 link-local addresses are final at once, as nflab has them.
 * - A namespace's devices die asynchronously after `ip netns del`: the
 *   kernel side pauses briefly after each deletion.
 * - The timers of a running bridge (`ip -d`) count in real time: masked.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { runBridge } from '../src/cli/ip/bridge.js';
import { runIp } from '../src/cli/ip/index.js';
import { parseNsenter } from '../src/cli/netns.js';
import { runSysctl } from '../src/cli/sysctl.js';
import type { NetnsDirectory } from '../src/core/net/netns.js';
import { emptyNetState } from '../src/core/net/state.js';
import type { NetState } from '../src/core/net/types.js';
import { NETNS_PREFIX } from './diff/kernel.js';
import { DIFF_JOBS, mapConcurrent } from './diff/pool.js';
import { guardKernel } from './diff/suite.js';
import { unifiedDiff } from './diff/textdiff.js';
import type { StepResult } from './diff/types.js';

/** A named list of command lines (words split on blanks; no shell). */
interface NetnsCase {
  name: string;
  steps: string[];
}

const DAD_OFF = 'sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0';

/** The words of a step; a leading "~" asks the kernel side to wait for the link watcher after it. */
function words(line: string): string[] {
  return line.replace(/^~/, '').trim().split(/\s+/);
}

function quote(w: string): string {
  return `'${w.replace(/'/g, `'\\''`)}'`;
}

/** The final dump: every namespace's links, addresses, routes and ids, as `ip -all netns exec` prints them. */
const FINAL = ['ip netns list', 'ip -all netns exec ip addr', 'ip -all netns exec ip route', 'ip addr', 'ip route', 'ip netns list-id'];

let sandboxes = 0;
const liveSandboxes = new Set<string>();
process.on('exit', () => {
  for (const ns of liveSandboxes) spawnSync('ip', ['netns', 'del', ns]);
});

/** Runs the steps in a sandbox (see the module comment); one result per step. */
async function kernelSide(steps: readonly string[]): Promise<StepResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-netns-'));
  const ns = `${NETNS_PREFIX}ns${process.pid}-${++sandboxes}`;
  let script = `cd /tmp\nrun() { i=$1; shift; "$@" >${dir}/$i.out 2>${dir}/$i.err; echo $? >${dir}/$i.rc; }\n${DAD_OFF}\n`;
  steps.forEach((s, i) => {
    const argv = words(s);
    script += `run ${i} ${argv.map(quote).join(' ')}\n`;
    if (s.startsWith('~')) script += 'sleep 1.2\n';
    const at = argv.lastIndexOf('netns');
    if (at > 0 && argv[at - 1] !== 'set' && argv[at + 1] !== undefined) {
      const sub = argv[at + 1]!;
      if ('add'.startsWith(sub) && argv[at + 2]) script += `ip netns exec ${quote(argv[at + 2]!)} ${DAD_OFF} 2>/dev/null\n`;
      if ('delete'.startsWith(sub)) script += 'sleep 0.3\n';
    }
  });
  script += 'ip -all netns del 2>/dev/null\n';
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`ip netns add ${ns}: ${add.stderr}`);
  liveSandboxes.add(ns);
  try {
    await new Promise<void>((resolve) => {
      const child = spawn(
        'ip',
        ['netns', 'exec', ns, 'unshare', '-m', '-p', '-f', '--mount-proc', '--propagation', 'private', 'bash', '-c', `mount -t tmpfs nflabt /run/netns && bash -c ${quote(script)}`],
        { stdio: 'ignore', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C' } },
      );
      child.on('close', () => resolve());
      child.on('error', () => resolve());
    });
    return steps.map((_, i) => {
      const read = (ext: string): string => {
        try {
          return readFileSync(join(dir, `${i}.${ext}`), 'utf8');
        } catch {
          return '';
        }
      };
      return { stdout: read('out'), stderr: read('err'), status: Number(read('rc').trim() || -1) };
    });
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
    liveSandboxes.delete(ns);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The namespaces of one nflab host, in memory. */
class Host {
  order: string[] = [];
  nets = new Map<string, NetState>([['', emptyNetState()]]);

  /** A directory seen from namespace `current`. */
  dir(current: string): NetnsDirectory {
    return {
      current,
      names: () => [...this.order],
      get: (name) => this.nets.get(name),
      set: (name, net) => void this.nets.set(name, net),
      create: (name, net) => {
        this.order.push(name);
        this.nets.set(name, net);
      },
      remove: (name) => {
        this.order = this.order.filter((n) => n !== name);
        this.nets.delete(name);
      },
      netnsOfPid: (pid) => (pid === 1 ? '' : undefined),
    };
  }

  /** Runs one command in a namespace, carrying out `ip netns exec`. */
  run(argv: string[], netns: string): StepResult {
    const net = this.nets.get(netns)!;
    if (argv[0] === 'sysctl') {
      const r = runSysctl(argv.slice(1), net);
      if (r.net) this.nets.set(netns, r.net);
      return { stdout: r.stdout, stderr: r.stderr, status: r.status };
    }
    if (argv[0] === 'nsenter') {
      const r = parseNsenter(argv.slice(1), { current: netns, exists: (n) => this.order.includes(n), netnsOfPid: (pid) => (pid === 1 ? '' : undefined) });
      if (r.kind === 'done') return { stdout: r.stdout, stderr: r.stderr, status: r.status };
      if (!['ip', 'sysctl', 'nsenter', 'bridge'].includes(r.argv[0]!)) {
        return { stdout: '', stderr: `nsenter: failed to execute ${r.argv[0]}: No such file or directory\n`, status: 127 };
      }
      return this.run(r.argv, r.netns);
    }
    if (argv[0] === 'bridge') {
      const r = runBridge(argv.slice(1), net, this.dir(netns));
      if (r.net) this.nets.set(netns, r.net);
      return { stdout: r.stdout, stderr: r.stderr, status: r.status };
    }
    if (argv[0] !== 'ip') return { stdout: '', stderr: `exec of "${argv[0]}" failed: No such file or directory\n`, status: 1 };
    const r = runIp(argv.slice(1), net, this.dir(netns));
    if (r.net) this.nets.set(netns, r.net);
    if (r.exec) {
      const sub = this.run(r.exec.argv, r.exec.netns);
      return { stdout: r.stdout + sub.stdout, stderr: r.stderr + sub.stderr, status: sub.status };
    }
    if (r.execAll) {
      let stdout = r.stdout;
      let stderr = r.stderr;
      for (const e of r.execAll) {
        const sub = this.run(e.argv, e.netns);
        stdout += `\nnetns: ${e.netns}\n${sub.stdout}`;
        stderr += sub.stderr;
      }
      return { stdout, stderr, status: 0 };
    }
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  }
}

function nflabSide(steps: readonly string[]): StepResult[] {
  const host = new Host();
  return steps.map((s) => host.run(words(s), ''));
}

const MAC = /(?<![0-9a-f:])[0-9a-f]{2}(?::[0-9a-f]{2}){5}(?![0-9a-f:])/g;

function normalise(steps: readonly string[], text: string): string {
  const written = new Set<string>(['00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff']);
  for (const s of steps) for (const m of s.toLowerCase().matchAll(MAC)) written.add(m[0]);
  // a running bridge's timers count in real time on Linux
  return text.replace(MAC, (m) => (written.has(m) ? m : '<mac>')).replace(/(_timer) +\d+\.\d\d/g, '$1 <t>');
}

function report(c: NetnsCase, steps: string[], expected: StepResult[], actual: StepResult[]): string {
  let s = '';
  steps.forEach((step, i) => {
    const e = expected[i]!;
    const a = actual[i]!;
    const eo = normalise(steps, e.stdout);
    const ao = normalise(steps, a.stdout);
    if (eo === ao && e.stderr === a.stderr && e.status === a.status) return;
    s += `\nstep ${i + 1}: ${step}\n`;
    if (eo !== ao) s += `stdout (- kernel, + nflab):\n${unifiedDiff(eo, ao)}\n`;
    if (e.stderr !== a.stderr) s += `stderr kernel: ${JSON.stringify(e.stderr)}\nstderr nflab:  ${JSON.stringify(a.stderr)}\n`;
    if (e.status !== a.status) s += `status kernel ${e.status}, nflab ${a.status}\n`;
  });
  return s === '' ? '' : `case ${c.name}:${s}`;
}

function netnsDiffSuite(title: string, cases: readonly NetnsCase[]): void {
  describe(title, () => {
    const skip = guardKernel(title);
    let runs: Promise<StepResult[]>[] | undefined;
    const full = cases.map((c) => [...c.steps, ...FINAL]);
    cases.forEach((c, index) => {
      it(c.name, skip === undefined ? {} : { skip }, async () => {
        runs ??= mapConcurrent(full, Math.min(DIFF_JOBS, 3), (steps) => kernelSide(steps));
        const expected = await runs[index]!;
        const actual = nflabSide(full[index]!);
        const r = report(c, full[index]!, expected, actual);
        if (r !== '') assert.fail(r);
      });
    });
  });
}

const PAIR_MACS = ['ip link set veth0 address 02:00:00:00:00:01', 'ip link set veth1 address 02:00:00:00:00:02'];

/** Hand-written cases. */
export const NETNS_CASES: NetnsCase[] = [
  {
    name: 'names: add, list order, delete, errors',
    steps: [
      'ip netns list',
      'ip netns',
      'ip netns add A',
      'ip netns add B',
      'ip netns add C',
      'ip netns del B',
      'ip netns add B',
      'ip netns add D',
      'ip netns list',
      'ip netns show',
      'ip netns lst',
      'ip netns add A',
      'ip netns del Z',
      'ip netns add',
      'ip netns del',
      'ip netns add a/b',
      'ip netns add .',
      'ip netns delete D',
      'ip netns frob',
      'ip netns help',
      'ip netns exec A',
      'ip netns exec Z ip link',
      'ip netns exec A nonexistent-program',
      'ip -n Z link',
      'ip -netns Z addr',
      'ip -n',
      'ip netns pids',
      'ip netns pids Z',
      'ip netns pids A B',
      'ip netns identify',
      'ip netns identify abc',
      'ip netns identify 1 2',
      'ip netns identify 1',
      'ip -n A netns identify',
      'ip netns exec C ip netns identify',
      'ip netns exec A ip link',
      'ip -n A link',
      'ip -n A -br addr',
      'ip -all netns exec ip -br link',
      'ip -all netns exec',
      'ip -all netns delete',
      'ip netns list',
    ],
  },
  {
    name: 'an other end whose index names another device here',
    steps: [
      'sysctl -qw net.ipv6.conf.all.accept_dad=0',
      'ip link add d0 address 02:00:00:00:00:01 type veth peer name d1 address 02:00:00:00:00:02',
      'ip netns add A',
      'ip -n A link add x0 address 02:00:00:00:00:03 type veth peer name y0 address 02:00:00:00:00:04 netns 1',
      'ip link set y0 up',
      'ip link set d1 up',
      'ip -n A link set x0 up',
      'ip link',
      'ip -6 a',
      'ip -6 -br a',
      'ip -br l',
      'ip link set d1 down',
      'ip -6 a',
      'ip -n A link set x0 down',
      'ip link',
      'ip -n A link set x0 up',
      'ip link',
    ],
  },
  {
    name: 'a namespace deleted from inside',
    steps: [
      'ip netns add A',
      'ip netns add B',
      'ip link add v0 type veth peer name v1 netns A',
      'ip netns exec A ip netns del A',
      'ip netns list',
      'ip link',
      'ip -n B netns del B',
      'ip netns list',
      'ip netns exec A ip link',
    ],
  },
  {
    name: 'nsids: set, auto, list-id, errors',
    steps: [
      'ip netns add A',
      'ip netns add B',
      'ip netns add C',
      'ip netns set A 5',
      'ip netns list',
      'ip netns set A 6',
      'ip netns set B 5',
      'ip netns set Z 5',
      'ip netns set A',
      'ip netns set A -1',
      'ip netns set A abc',
      'ip netns set C auto',
      'ip netns set B auto',
      'ip netns list',
      'ip netns list-id',
      'ip netns list-id nsid 5',
      'ip netns list-id nsid 7',
      'ip netns list-id nsid x',
      'ip netns list-id foo',
      'ip -n A netns list',
      'ip -n A netns list-id',
      'ip -n A netns set A 3',
      'ip -n A netns list',
      'ip netns del A',
      'ip netns list-id',
      'ip netns add A',
      'ip netns list',
    ],
  },
  {
    name: 'seed 001: LEMON and APPLE joined by a veth',
    steps: [
      'ip link add lemon_eth0 type veth peer name apple_eth0',
      'ip link set lemon_eth0 address 02:00:00:00:00:0a',
      'ip link set apple_eth0 address 02:00:00:00:00:0b',
      'ip netns',
      'ip netns add LEMON',
      'ip netns add APPLE',
      'ip link set lemon_eth0 netns LEMON',
      'ip link set apple_eth0 netns APPLE',
      'ip netns',
      'ip link',
      'ip netns exec LEMON ip link set lemon_eth0 up',
      'ip netns exec APPLE ip link set apple_eth0 up',
      'ip netns exec LEMON ip addr add 10.10.10.2/24 dev lemon_eth0',
      'ip netns exec APPLE ip addr add 10.10.10.3/24 dev apple_eth0',
      'ip netns exec LEMON ip a',
      'ip netns exec APPLE ip -4 a',
      'ip netns exec APPLE ip -6 a',
      'ip -n LEMON -br a',
      'ip -n LEMON -br link',
      'ip -n LEMON -o link',
      'ip -n LEMON r',
      'ip -n LEMON neighbor',
      'ip -n LEMON neighbour',
      'ip -n LEMON neigh',
      'ip -n LEMON n',
      'ip -n LEMON l',
      'ip -n LEMON a',
      'ip -n LEMON -4 a',
      'ip -n LEMON -br a',
      'ip -n LEMON -br l',
      'ip -n LEMON -c a',
      'ip -n LEMON -color=never a',
      'ip -n LEMON -c=auto -br a',
      'ip -netns LEMON -4 r',
      'ip -ne LEMON -4 r',
      'ip -n LEMON netns identify',
      'ip -n LEMON -n APPLE -br a',
      'ip netns exec LEMON ip netns list-id',
      'ip netns list',
      'ip netns del LEMON',
      'ip -n APPLE link',
      'ip netns del APPLE',
      'ip link',
    ],
  },
  {
    name: 'moves: index kept or renumbered, addresses and routes gone, carriers',
    steps: [
      'ip netns add A',
      'ip netns add B',
      'ip link add veth0 type veth peer name veth1',
      ...PAIR_MACS,
      'ip addr add 10.0.0.1/24 dev veth1',
      'ip link set veth1 up',
      'ip link set veth0 up',
      'ip link set veth1 netns A',
      'ip netns list',
      'ip -n A addr',
      'ip addr',
      'ip -br link',
      'ip -br addr',
      'ip -o link',
      'ip -o addr',
      'ip -4 addr',
      'ip -6 addr',
      'ip -6 -br addr',
      'ip link show veth0',
      'ip -n A link set veth1 up',
      'ip -n A addr add 10.0.0.2/24 dev veth1',
      'ip link',
      'ip -n A addr',
      'ip -n A route show table all',
      'ip -n A link set veth1 netns B',
      'ip netns list',
      'ip -n A netns list-id',
      'ip -n B netns list-id',
      'ip netns list',
      'ip link',
      'ip netns list',
      'ip -n B link set veth1 netns 1',
      'ip link',
      'ip -n A link add w0 type veth peer name w1',
      'ip -n A link add w2 type veth peer name w3',
      'ip link set veth0 netns A',
      'ip -n A link',
      'ip -n A link set w3 netns B up',
      'ip -n B link',
      'ip -n A link set w2 up',
      'ip -n B link',
      'ip -n A link',
      'ip -n A link del w2',
      'ip -n B link',
      'ip -n A link set w0 netns /proc/1/ns/net',
      'ip link set w0 netns /proc/self/ns/net',
      'ip link',
      'ip -n A link set veth0 netns /run/netns/B',
      'ip -n B link set veth0 netns /var/run/netns/A',
      'ip -n A link',
      'ip netns list',
    ],
  },
  {
    name: 'moves: errors',
    steps: [
      'ip netns add A',
      'ip link add veth0 type veth peer name veth1',
      'ip link set lo netns A',
      'ip link add br0 type bridge',
      'ip link set br0 netns A',
      'ip link set veth1 netns A',
      'ip link add veth1 type veth peer name x1',
      'ip link set veth1 netns A',
      'ip link set veth1 netns 999999',
      'ip link set veth1 netns abc',
      'ip link set veth1 netns A netns B',
      'ip link set veth1 netns',
      'ip link set nope netns A',
      'ip link set x1 netns A',
      'ip link set veth0 master br0',
      'ip link show master br0',
      'ip link set veth0 netns A',
      'ip link show master br0',
      'ip -n A link',
      'ip link',
    ],
  },
  {
    name: 'veth created with its ends in other namespaces',
    steps: [
      'ip netns add A',
      'ip netns add B',
      'ip link add w0 type veth peer name w1 netns A',
      'ip netns list',
      'ip -n A netns list-id',
      'ip link',
      'ip -n A link',
      'ip -n A netns list-id',
      'ip link add x0 netns B type veth peer name x1',
      'ip netns list',
      'ip -n B netns list-id',
      'ip link',
      'ip -n B link',
      'ip link add y0 netns A type veth peer name y1 netns B',
      'ip -n A link',
      'ip -n B link',
      'ip netns list',
      'ip -n A netns list-id',
      'ip -n B netns list-id',
      'ip link add z0 type veth peer name w1 netns A',
      'ip link add w0 type veth peer name z1 netns A',
      'ip -n A link',
      'ip link add v0 type veth peer netns A',
      'ip -n A link',
      'ip link del w0',
      'ip -n A link',
      'ip -n B link del x0',
      'ip link',
    ],
  },
  {
    name: 'ids given when a command names a device or reads every link',
    steps: [
      'ip netns add T',
      'ip link add va type veth peer name vb netns T',
      'ip -n T route',
      'ip -n T -6 addr',
      'ip -n T -br -6 addr',
      'ip -n T link show type bridge',
      'ip -n T addr show dev lo',
      'ip -n T netns list-id',
      'ip -n T neigh',
      'ip -n T netns list-id',
      'ip netns add U',
      'ip link add vc type veth peer name vd netns U',
      'ip -n U addr add 10.2.2.2/24 dev vd',
      'ip -n U netns list-id',
      'ip netns add V',
      'ip link add vm type veth peer name vn netns V',
      'ip -n V link set vn down',
      'ip -n V netns list-id',
      'ip netns add W',
      'ip link add vg type veth peer name vh netns W',
      'ip -n W neigh add 10.1.1.9 lladdr 02:00:00:00:00:09 dev lo',
      'ip -n W netns list-id',
      'ip netns add X',
      'ip link add vi type veth peer name vj netns X',
      'ip -n X -4 -br addr',
      'ip -n X netns list-id',
      'ip netns add Y',
      'ip link add vk type veth peer name vl netns Y',
      'ip -n Y route add 10.9.0.0/16 dev vl',
      'ip -n Y netns list-id',
      'ip netns list',
    ],
  },
  {
    name: 'a moved link takes its new namespace\'s default sysctls',
    steps: [
      'ip netns add A',
      'ip netns exec A sysctl -w net.ipv4.conf.default.rp_filter=2',
      'ip netns exec A sysctl -w net.ipv6.conf.default.hop_limit=33',
      'ip link add v0 type veth peer name v1',
      'sysctl -w net.ipv4.conf.v1.rp_filter=1',
      'sysctl -w net.ipv4.conf.v1.arp_ignore=2',
      'ip link set v1 mtu 1400',
      'ip link set v1 netns A',
      'ip netns exec A sysctl net.ipv4.conf.v1.rp_filter net.ipv4.conf.v1.arp_ignore net.ipv6.conf.v1.hop_limit net.ipv6.conf.v1.mtu',
      'sysctl net.ipv4.conf.v1.rp_filter',
      'ip -n A link set v1 mtu 1000',
      'ip -n A link set v1 netns 1',
      'sysctl net.ipv6.conf.v1.mtu',
      'sysctl net.ipv4.conf.v1.rp_filter',
      'ip link set v1 mtu 60',
      'ip link set v1 netns A',
      'ip netns exec A sysctl net.ipv4.conf.v1.rp_filter',
      'ip -n A link',
    ],
  },
  {
    name: 'colours (-c)',
    steps: [
      'ip link set lo up',
      'ip link add v0 address 02:00:00:00:00:01 type veth peer name v1 address 02:00:00:00:00:02',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip addr add 10.0.0.5/24 dev v0',
      'ip addr add 10.7.0.1/24 peer 10.7.0.2 dev v0',
      'ip -c a',
      'ip -c l',
      'ip -c -br a',
      'ip -c -br l',
      'ip link set v0 up',
      'ip link set v1 up',
      'ip link add br0 type bridge',
      'ip route add default via 10.0.0.254',
      'ip route add 10.9.0.0/16 via 10.0.0.253 dev v0 metric 5',
      'ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev v0',
      'ip -c a',
      'ip -c -br a',
      'ip -c -br l',
      'ip -c -o a',
      'ip -c -o l',
      'ip -c -6 a',
      'ip -c -4 a',
      'ip -c r',
      'ip -c r show table all',
      'ip -c -6 r',
      'ip -c r get 10.9.1.1',
      'ip -c r get 10.9.1.1 from 10.0.0.1',
      'ip -c n',
      'ip -c -br n',
      'ip -c n show dev v0',
      'ip -c -s l show lo',
      'ip -c=always -br a',
      'ip -c=never a show lo',
      'ip -c=auto a show lo',
      'ip -color=auto -br l',
      'ip -col a show lo',
      'ip -colour a show lo',
      'ip -c=sometimes a show lo',
    ],
  },
  {
    name: 'details (-d)',
    steps: [
      'ip netns add A',
      'ip link add v0 address 02:00:00:00:00:01 type veth peer name v1 address 02:00:00:00:0a:02',
      'ip link add w0 address 02:00:00:00:00:03 type veth peer name w1 address 02:00:00:00:00:04 netns A',
      'ip link add br0 type bridge',
      'ip link add br1 type bridge',
      'ip -d l',
      'ip link set v1 master br0',
      'ip -d l',
      'ip -d a',
      'ip -d -br l',
      'ip -d -o l show v0',
      'ip -s -d l show v0',
      'ip -d -4 a show w0',
      'ip -n A -d l',
      'ip link set v0 master br1',
      'ip link set v0 up',
      'ip link set v1 up',
      '~ip link set br0 up',
      'ip -d l show v1',
      'ip -d l show br0',
      'ip -d l show v0',
      'ip link set v0 mtu 1000',
      'ip -d l show v0',
      'ip -d a show br1',
      'ip -d a show lo',
      'ip link set lo up',
      'ip -d l show lo',
      'ip link add v2 address 02:00:00:00:00:05 type veth peer name v3 address 02:00:00:00:00:06',
      'ip link set v2 master br0',
      'ip link set v3 master br0',
      'ip link set v2 nomaster',
      'ip link add v4 address 02:00:00:00:00:07 type veth peer name v5 address 02:00:00:00:00:08',
      'ip link set v4 master br0',
      'ip -d l show master br0',
    ],
  },
  {
    name: 'bridge link',
    steps: [
      'ip netns add A',
      'ip link add v0 address 02:00:00:00:00:01 type veth peer name v1 address 02:00:00:00:0a:02',
      'ip link add v2 address 02:00:00:00:00:03 type veth peer name v3 address 02:00:00:00:0a:04',
      'bridge link',
      'ip link add br0 type bridge',
      'ip link set v1 master br0',
      'ip link set v3 master br0',
      'bridge link',
      'bridge link show',
      'bridge link show dev v1',
      'bridge -d link show dev v1',
      'bridge -d -o link',
      'ip link set v0 up',
      'ip link set v1 up',
      '~ip link set br0 up',
      'bridge link',
      'bridge link show dev v9',
      'bridge link show master br0',
      'bridge link show dev',
      'bridge lnk',
      'bridge l',
      'bridge',
      'bridge -c link',
      'bridge -color=never link',
      'bridge foo',
      'bridge -V',
      'bridge -x link',
      'bridge link frob',
      'ip link set v2 netns A',
      'bridge link',
      'bridge -n A link',
      'ip netns exec A bridge link',
      'ip -n A link add br1 type bridge',
      'ip -n A link set v2 master br1',
      'bridge -n A link',
    ],
  },
  {
    name: 'nsenter',
    steps: [
      'ip netns add LEMON',
      'ip link add lemon_eth0 type veth peer name apple_eth0',
      'ip link set lemon_eth0 netns LEMON',
      'nsenter --net=/var/run/netns/LEMON ip -br link',
      'nsenter --net=/run/netns/LEMON ip addr add 10.10.10.2/24 dev lemon_eth0',
      'nsenter -n/var/run/netns/LEMON ip -4 -o a',
      'nsenter --net /var/run/netns/LEMON ip -br link',
      'nsenter -n /var/run/netns/LEMON ip -br link',
      'nsenter --net=/var/run/netns/NOPE ip link',
      'nsenter -n ip link',
      'nsenter ip -br link',
      'nsenter -t 1 -n ip -br link',
      'nsenter --target 1 --net ip -br link',
      'nsenter --tar=1 --ne ip -br link',
      'nsenter -t1 -n ip -br link',
      'nsenter -t 99999 -n ip link',
      'nsenter -t abc -n ip link',
      'nsenter -t -5 -n ip link',
      'nsenter -t 0 -n ip link',
      'nsenter -t',
      'nsenter -t 1 -U ip link',
      'nsenter -t 1 -n -m -u -i ip -br link',
      'nsenter -t 1 -a ip -br link',
      'nsenter --net=/proc/1/ns/net ip -br link',
      'nsenter --net=/proc/self/ns/net ip -br link',
      'nsenter --net=/var/run/netns/LEMON nosuchprog',
      'nsenter --bogus',
      'nsenter --ne',
      'nsenter -x',
      'nsenter --net=/var/run/netns/LEMON -- ip -br link',
      'nsenter -n/var/run/netns/LEMON -m ip link',
      'nsenter -h',
      'nsenter -V',
      'nsenter --net= ip link',
      'ip netns exec LEMON nsenter --net=/proc/1/ns/net ip -br link',
      'nsenter --net=/var/run/netns/LEMON nsenter --net=/proc/self/ns/net ip -br link',
    ],
  },
];

netnsDiffSuite('netns: hand-written cases', NETNS_CASES);

// ---- random sequences ----

const NAMES = ['A', 'B', 'C'];
const WHERE = ['', 'A', 'B', 'C'];
const LINKS = ['v0', 'v1', 'v2', 'v3', 'w0', 'w1'];
const MAC_OF: Record<string, string> = Object.fromEntries(LINKS.map((l, i) => [l, `02:00:00:00:00:${(0x10 + i).toString(16)}`]));

const pick = <T>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
const inNs = (x: string): string => (x === '' ? 'ip' : `ip -n ${x}`);

/** One command of a random sequence. */
const stepArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: pick(NAMES).map((n) => `ip netns add ${n}`) },
  { weight: 1, arbitrary: pick(NAMES).map((n) => `ip netns del ${n}`) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(pick(WHERE), pick(LINKS), pick(LINKS), fc.option(pick([...NAMES, '1']), { nil: undefined }))
      .map(([x, a, b, to]) => `${inNs(x)} link add ${a} address ${MAC_OF[a]} type veth peer name ${b} address ${MAC_OF[b]}${to ? ` netns ${to}` : ''}`),
  },
  { weight: 4, arbitrary: fc.tuple(pick(WHERE), pick(LINKS), pick([...NAMES, '1'])).map(([x, l, to]) => `${inNs(x)} link set ${l} netns ${to}`) },
  { weight: 4, arbitrary: fc.tuple(pick(WHERE), pick(LINKS), pick(['up', 'down'])).map(([x, l, s]) => `${inNs(x)} link set ${l} ${s}`) },
  { weight: 2, arbitrary: fc.tuple(pick(WHERE), pick(LINKS), fc.integer({ min: 1, max: 3 })).map(([x, l, h]) => `${inNs(x)} addr add 10.0.0.${h}/24 dev ${l}`) },
  { weight: 1, arbitrary: fc.tuple(pick(WHERE), pick(LINKS)).map(([x, l]) => `${inNs(x)} link del ${l}`) },
  { weight: 1, arbitrary: fc.tuple(pick(NAMES), fc.integer({ min: 0, max: 3 })).map(([n, id]) => `ip netns set ${n} ${id}`) },
  { weight: 1, arbitrary: pick(WHERE).map((x) => `${inNs(x)} link set lo up`) },
  {
    weight: 5,
    arbitrary: fc
      .tuple(pick(WHERE), pick(['link', '-br addr', 'addr', 'netns list', 'netns list-id', 'route', 'neigh', '-o link', '-6 addr']))
      .map(([x, what]) => `${inNs(x)} ${what}`),
  },
  { weight: 1, arbitrary: fc.constant('ip -all netns exec ip -br link') },
  { weight: 1, arbitrary: fc.tuple(pick(WHERE), pick(LINKS), pick(NAMES)).map(([x, l, to]) => `${inNs(x)} link set ${l} netns ${to} up`) },
  { weight: 1, arbitrary: fc.tuple(pick(WHERE), pick(LINKS), pick(LINKS)).map(([x, l, m]) => `${inNs(x)} link set ${l} name ${m}`) },
  { weight: 1, arbitrary: fc.tuple(pick(WHERE), pick(LINKS)).map(([x, l]) => `${inNs(x)} link set ${l} mtu 1400`) },
  { weight: 1, arbitrary: fc.tuple(pick(WHERE), pick(LINKS)).map(([x, l]) => `${inNs(x)} route add 10.1.0.0/16 dev ${l}`) },
  { weight: 1, arbitrary: fc.tuple(pick(WHERE), pick(LINKS)).map(([x, l]) => `${inNs(x)} neigh add 10.0.0.9 lladdr 02:00:00:00:00:99 dev ${l}`) },
  { weight: 1, arbitrary: fc.tuple(pick(NAMES), pick(['ip -br addr', 'ip route', 'ip netns list'])).map(([n, c]) => `ip netns exec ${n} ${c}`) },
);

const FUZZ_SEED = Number(process.env['NFLAB_FUZZ_SEED'] ?? 4242);
const FUZZ_RUNS = Number(process.env['NFLAB_FUZZ_RUNS'] ?? 16);

/** Random sequences of namespace and link commands, the same on every run unless NFLAB_FUZZ_SEED changes. */
export const NETNS_FUZZ: NetnsCase[] = fc
  .sample(fc.array(stepArb, { minLength: 8, maxLength: 30 }), { numRuns: FUZZ_RUNS, seed: FUZZ_SEED })
  .map((steps, i) => ({ name: `random ${i} (seed ${FUZZ_SEED})`, steps }));

netnsDiffSuite('netns: random sequences', NETNS_FUZZ);
