/**
 * Unit tests of the network model (src/core/net): the fresh namespace, the
 * lookup functions the packet path uses, and fibLookup and the kernel's
 * automatic routes checked against the real kernel's `ip route get` and
 * `ip route show table all` in a fresh namespace.
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runIp } from '../src/cli/ip/index.js';
import { runSysctl } from '../src/cli/sysctl.js';
import {
  addressesOf,
  emptyNetState,
  fibLookup,
  isLocalAddress,
  linkByIndex,
  linkByName,
  neighLookup,
  selectSourceAddress,
  sysctlGet,
  sysctlInt,
  type NetState,
} from '../src/core/net/index.js';
import { linkLocalFor } from '../src/core/net/ipv6.js';
import { routeOutput } from '../src/core/net/output.js';
import { linkFlags, operState } from '../src/core/net/state.js';
import { KernelBackend } from './diff/kernel.js';
import { guardKernel } from './diff/suite.js';

/** Runs ip/sysctl command lines on a fresh state and returns the state. */
function build(lines: readonly string[]): NetState {
  let net = emptyNetState();
  for (const line of lines) {
    const argv = line.trim().split(/\s+/);
    const r = argv[0] === 'ip' ? runIp(argv.slice(1), net) : runSysctl(argv.slice(1), net);
    assert.equal(r.status, 0, `${line}: ${r.stderr}`);
    if (r.net) net = r.net;
  }
  return net;
}

const ip = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);

describe('fresh namespace', () => {
  it('has only lo, down, without addresses, routes or neighbours', () => {
    const net = emptyNetState();
    assert.equal(net.links.length, 1);
    const lo = net.links[0]!;
    assert.deepEqual([lo.index, lo.name, lo.kind, lo.up, lo.mtu, lo.mac, lo.txqlen], [1, 'lo', 'loopback', false, 65536, '00:00:00:00:00:00', 1000]);
    assert.deepEqual(lo.inet, []);
    assert.deepEqual(lo.inet6, []);
    assert.deepEqual(net.routes, []);
    assert.deepEqual(net.neigh, []);
    assert.equal(operState(net, lo), 'DOWN');
    assert.equal(linkFlags(net, lo), 0x8);
  });

  it('survives JSON unchanged', () => {
    const net = build(['ip link set lo up', 'ip link add v0 type veth peer name v1', 'ip addr add 10.0.0.1/24 dev v0', 'ip link set v0 up']);
    assert.deepEqual(JSON.parse(JSON.stringify(net)), net);
  });

  it('carries the namespace defaults of the sysctls', () => {
    const net = emptyNetState();
    assert.equal(sysctlGet(net, 'net.ipv4.ip_forward'), '0');
    assert.equal(sysctlGet(net, 'net.ipv4.conf.all.rp_filter'), '0');
    assert.equal(sysctlGet(net, 'net.ipv4.conf.lo.rp_filter'), '0');
    assert.equal(sysctlGet(net, 'net.ipv4.tcp_syncookies'), '1');
    assert.equal(sysctlGet(net, 'net.netfilter.nf_conntrack_tcp_timeout_established'), '432000');
    assert.equal(sysctlGet(net, 'net.netfilter.nf_conntrack_udp_timeout'), '30');
    assert.equal(sysctlInt(net, 'net.ipv4.ip_default_ttl'), 64);
    assert.equal(sysctlInt(net, 'net.ipv4.ip_local_port_range'), 32768);
    assert.equal(sysctlGet(net, 'net.ipv4.conf.v0.rp_filter'), undefined);
    assert.equal(sysctlInt(net, 'net.nope'), 0);
  });
});

describe('links', () => {
  it('veth peers register first; indexes are never reused; MACs are deterministic', () => {
    const net = build(['ip link add v0 type veth peer name v1', 'ip link del v0', 'ip link add va type veth peer name vb', 'ip link add br0 type bridge']);
    assert.deepEqual(
      net.links.map((l) => [l.index, l.name, l.mac]),
      [
        [1, 'lo', '00:00:00:00:00:00'],
        [4, 'vb', '02:6e:6c:00:00:03'],
        [5, 'va', '02:6e:6c:00:00:04'],
        [6, 'br0', '02:6e:6c:00:00:05'],
      ],
    );
    assert.equal(linkByName(net, 'va')!.peer, 4);
    assert.equal(linkByIndex(net, 6)!.name, 'br0');
    assert.equal(linkByName(net, 'v0'), undefined);
  });

  it('derive IPv6 link-local addresses with EUI-64', () => {
    assert.equal(linkLocalFor('02:00:00:00:00:01'), 'fe80::ff:fe00:1');
    assert.equal(linkLocalFor('92:96:07:ae:00:c7'), 'fe80::9096:7ff:feae:c7');
  });

  it('dummy links are up without carrier handling (state UNKNOWN)', () => {
    const net = build(['ip link add d0 type dummy', 'ip link set d0 address 02:00:00:00:00:05', 'ip link set d0 up', 'ip addr add 10.5.0.1/24 dev d0']);
    const d0 = linkByName(net, 'd0')!;
    assert.equal(operState(net, d0), 'UNKNOWN');
    const out = runIp(['link', 'show', 'd0'], net).stdout;
    assert.equal(
      out,
      '2: d0: <BROADCAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\n' +
        '    link/ether 02:00:00:00:00:05 brd ff:ff:ff:ff:ff:ff\n',
    );
    assert.deepEqual(fibLookup(net, ip('10.5.0.9')), { type: 'unicast', dev: 'd0', gateway: 0, prefsrc: ip('10.5.0.1') });
  });
});

describe('lookups for the packet path', () => {
  const net = build([
    'ip link set lo up',
    'ip link add v0 type veth peer name v1',
    'ip link set v0 up',
    'ip link set v1 up',
    'ip addr add 10.0.0.1/24 dev v0',
    'ip addr add 10.0.0.2/24 dev v0',
    'ip addr add 192.168.1.1/24 dev v1',
    'ip route add default via 10.0.0.254',
    'ip route add 172.16.0.0/16 via 192.168.1.254 src 10.0.0.1',
    'ip route add blackhole 10.66.0.0/16',
    'ip neigh add 10.0.0.254 lladdr 02:00:00:00:00:fe dev v0',
    'ip neigh add 10.0.0.9 dev v0 nud failed',
  ]);

  it('addressesOf and isLocalAddress', () => {
    assert.deepEqual(
      addressesOf(net, 'v0').map((a) => [a.local, a.prefixlen, a.secondary]),
      [
        [ip('10.0.0.1'), 24, false],
        [ip('10.0.0.2'), 24, true],
      ],
    );
    assert.deepEqual(addressesOf(net, 'nope'), []);
    assert.equal(isLocalAddress(net, ip('10.0.0.2')), true);
    assert.equal(isLocalAddress(net, ip('127.0.0.1')), true);
    assert.equal(isLocalAddress(net, ip('10.0.0.3')), false);
  });

  it('selectSourceAddress picks the primary in the destination subnet, else the first primary, else another link', () => {
    assert.equal(selectSourceAddress(net, 'nope', 0, 0), 0);
    assert.equal(selectSourceAddress(net, 'v0', ip('10.0.0.77'), 0), ip('10.0.0.1'));
    assert.equal(selectSourceAddress(net, 'v1', ip('10.0.0.77'), 0), ip('192.168.1.1'));
    // lo's own address is host-scoped: the first suitable one in device order (v1 was registered before v0)
    assert.equal(selectSourceAddress(net, 'lo', 0, 0), ip('192.168.1.1'));
    assert.equal(selectSourceAddress(net, 'lo', 0, 254), ip('127.0.0.1'));
  });

  it('neighLookup returns only known link-layer addresses', () => {
    assert.equal(neighLookup(net, 'v0', ip('10.0.0.254')), '02:00:00:00:00:fe');
    assert.equal(neighLookup(net, 'v0', ip('10.0.0.9')), undefined);
    assert.equal(neighLookup(net, 'v1', ip('10.0.0.254')), undefined);
  });

  it('fibLookup: local, broadcast, connected, gateway, blackhole, unreachable', () => {
    assert.deepEqual(fibLookup(net, ip('10.0.0.2')), { type: 'local', dev: 'v0', gateway: 0, prefsrc: ip('10.0.0.1') });
    assert.deepEqual(fibLookup(net, ip('10.0.0.255')), { type: 'broadcast', dev: 'v0', gateway: 0, prefsrc: ip('10.0.0.1') });
    assert.deepEqual(fibLookup(net, ip('10.0.0.5')), { type: 'unicast', dev: 'v0', gateway: 0, prefsrc: ip('10.0.0.1') });
    assert.deepEqual(fibLookup(net, ip('8.8.8.8')), { type: 'unicast', dev: 'v0', gateway: ip('10.0.0.254'), prefsrc: ip('10.0.0.1') });
    assert.deepEqual(fibLookup(net, ip('172.16.3.4')), { type: 'unicast', dev: 'v1', gateway: ip('192.168.1.254'), prefsrc: ip('10.0.0.1') });
    assert.deepEqual(fibLookup(net, ip('10.66.1.1')), { type: 'blackhole', dev: '', gateway: 0, prefsrc: 0 });
    assert.deepEqual(fibLookup(net, ip('127.3.4.5')), { type: 'local', dev: 'lo', gateway: 0, prefsrc: ip('127.0.0.1') });
    assert.deepEqual(fibLookup(net, ip('8.8.8.8'), undefined, 'v1'), { type: 'unreachable', dev: '', gateway: 0, prefsrc: 0 });
    assert.deepEqual(fibLookup(net, ip('192.168.1.7'), undefined, 'v1'), { type: 'unicast', dev: 'v1', gateway: 0, prefsrc: ip('192.168.1.1') });
    const bare = build(['ip link add v0 type veth peer name v1']);
    assert.deepEqual(fibLookup(bare, ip('8.8.8.8')), { type: 'unreachable', dev: '', gateway: 0, prefsrc: 0 });
  });

  it('routes through a link vanish when it goes down; local routes stay', () => {
    const down = build(['ip link add v0 type veth peer name v1', 'ip link set v0 up', 'ip addr add 10.0.0.1/24 dev v0', 'ip route add 10.9.0.0/16 dev v0', 'ip link set v0 down']);
    assert.deepEqual(fibLookup(down, ip('10.9.0.1')).type, 'unreachable');
    assert.deepEqual(fibLookup(down, ip('10.0.0.1')).type, 'local');
  });
});

// ---------------------------------------------------------------------------
// Against the real kernel

/** Parses `ip route get` output into the fields fibLookup reports. */
function parseRouteGet(text: string): { type: string; dev: string; gateway: string; src: string } | { error: string } {
  if (!text.includes(' dev ')) return { error: text.trim() };
  const words = text.split(/\s+/);
  const type = ['local', 'broadcast', 'multicast'].includes(words[0]!) ? words[0]! : 'unicast';
  const after = (k: string): string => {
    const i = words.indexOf(k);
    return i >= 0 ? words[i + 1]! : '';
  };
  return { type, dev: after('dev'), gateway: after('via'), src: after('src') };
}

const ipText = (a: number): string => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;

interface Scenario {
  name: string;
  setup: string[];
  probes: string[];
}

const SCENARIOS: Scenario[] = [
  {
    name: 'two subnets, default route, secondaries',
    setup: [
      'ip link set lo up',
      'ip link add v0 type veth peer name v1',
      'ip link set v0 up',
      'ip link set v1 up',
      'ip addr add 10.0.0.1/24 dev v0',
      'ip addr add 10.0.0.2/24 dev v0',
      'ip addr add 10.0.1.1/16 dev v0',
      'ip addr add 192.168.7.1/24 brd + dev v1',
      'ip addr add 192.168.8.1/32 dev v1',
      'ip route add default via 10.0.0.254',
      'ip route add 172.16.0.0/12 via 192.168.7.254',
      'ip route add 172.16.5.0/24 dev v1 metric 10',
      'ip route add 172.16.5.0/24 via 10.0.0.253 metric 5',
      'ip route add unreachable 10.99.0.0/16',
      'ip route add prohibit 10.98.0.0/16',
      'ip route add blackhole 10.97.0.0/16',
      'ip route add 127.0.0.5/32 dev lo',
      'ip route add local 10.55.0.0/16 dev v1',
    ],
    probes: [
      '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.255', '10.0.255.255', '10.0.1.1', '10.0.200.9', '192.168.7.1', '192.168.7.2',
      '192.168.7.255', '192.168.8.1', '172.16.5.9', '172.17.0.1', '8.8.8.8', '10.99.1.1', '10.98.1.1', '10.97.1.1', '127.0.0.1',
      '127.0.0.5', '127.9.9.9', '10.55.3.3', '224.0.0.1', '255.255.255.255', '0.0.0.0',
    ],
  },
  {
    name: 'link without carrier, down link, no default',
    setup: [
      'ip link add v0 type veth peer name v1',
      'ip link add v2 type veth peer name v3',
      'ip link set v0 up',
      'ip addr add 10.1.0.1/24 dev v0',
      'ip addr add 10.2.0.1/24 dev v2',
      'ip link set v2 up',
      'ip link set v3 up',
      'ip route add 10.3.0.0/16 via 10.2.0.9',
      'ip link set v2 down',
    ],
    probes: ['10.1.0.5', '10.1.0.1', '10.2.0.1', '10.2.0.5', '10.3.0.1', '1.1.1.1', '127.0.0.1'],
  },
];

describe('fibLookup and automatic routes against the kernel', () => {
  const skip = guardKernel('net units');
  const kernel = new KernelBackend();
  for (const sc of SCENARIOS) {
    it(sc.name, skip === undefined ? {} : { skip }, async () => {
      const steps = [...sc.setup, 'ip route show table all', ...sc.probes.map((p) => `ip route get ${p}`)].map((l) => ({ argv: l.split(' ') }));
      const results = await kernel.run(steps);
      const net = build(sc.setup);
      const table = results[sc.setup.length]!;
      // IPv6 lines depend on duplicate address detection timing; compare the IPv4 part.
      const v4 = (t: string): string => t.split('\n').filter((l) => !/^(local |multicast )?(fe80|ff00|::1)/.test(l)).join('\n');
      assert.equal(v4(runIp(['route', 'show', 'table', 'all'], net).stdout), v4(table.stdout));
      sc.probes.forEach((p, i) => {
        const k = parseRouteGet(results[sc.setup.length + 1 + i]!.stdout + results[sc.setup.length + 1 + i]!.stderr);
        const f = fibLookup(net, ip(p));
        const o = routeOutput(net, ip(p));
        if ('error' in k) {
          assert.ok('errno' in o, `${p}: kernel says ${k.error}, nflab routes it`);
          return;
        }
        assert.ok(!('errno' in o), `${p}: kernel routes it (${JSON.stringify(k)}), nflab fails`);
        assert.equal(o.type, k.type, `${p}: type`);
        assert.equal(o.dev.name, k.dev, `${p}: dev`);
        assert.equal(o.gateway === 0 ? '' : ipText(o.gateway), k.gateway, `${p}: gateway`);
        assert.equal(o.src === 0 ? '' : ipText(o.src), k.src, `${p}: src`);
        if (k.type === 'unicast' && p !== '0.0.0.0') {
          assert.equal(f.dev, k.dev, `${p}: fibLookup dev`);
          assert.equal(f.gateway === 0 ? '' : ipText(f.gateway), k.gateway, `${p}: fibLookup gateway`);
          if (k.src !== '') assert.equal(ipText(f.prefsrc), k.src, `${p}: fibLookup prefsrc`);
        }
        if (k.type === 'local' && p !== '0.0.0.0') assert.equal(f.type, 'local', `${p}: fibLookup type`);
      });
    });
  }
});

describe('older saved states', () => {
  it('gain the fields added since (tables, carrier transitions)', () => {
    const net = build(['ip link set lo up', 'ip route add 10.1.0.0/16 dev lo table 7']);
    const old = JSON.parse(JSON.stringify(net)) as Record<string, unknown>;
    delete old['tables'];
    for (const l of old['links'] as Record<string, unknown>[]) delete l['carrierChanges'];
    const r = runIp(['route', 'show', 'table', '7'], old as unknown as NetState);
    assert.deepEqual([r.stdout, r.stderr, r.status], ['10.1.0.0/16 dev lo scope link \n', '', 0]);
    const s = runIp(['-s', '-s', 'link', 'show', 'lo'], old as unknown as NetState);
    assert.match(s.stdout, /transns\n {21}0 {6}0 {7}0 {7}0 {7}0 \n$/);
  });
});
