/**
 * Kernel-differential fuzz test of the packet path: random rulesets over the
 * filter, nat, mangle and raw tables and random frame sequences
 * (test/pktdiff/gen.ts) run on the real kernel and through nflab; the
 * observations (frames sent, kernel log, counters, conntrack table) must be
 * the same.
 *
 * NFLAB_PKTFUZZ_RUNS scenarios (default 50) of NFLAB_PKTFUZZ_FRAMES frames
 * (default 40), scenario i drawn from seed NFLAB_PKTFUZZ_SEED + i (default
 * seed fixed); NFLAB_PKTFUZZ_PATH=i runs scenario i alone. A failure prints
 * the line that replays it. Every fourth scenario feeds nflab one frame per
 * `nflab replay` (the lab's saved state carries everything in between), the
 * others all frames in one capture.
 *
 * Differences still open are KNOWN_OPEN (named, diagnosed, recognised by
 * their messages); with the default seed and runs, the scenarios that
 * differ must be exactly EXPECTED_OPEN.
 */
import * as assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { guardKernel, inCI } from './diff/suite.js';
import { classify, explainPair, mapLimited, runPair, type KnownDifference, type PairResult } from './pktdiff/gen-suite.js';
import { icmp, ipv4, toDut, udp } from './pktdiff/build.js';
import { scenarioFromSeed, type GenAvoid } from './pktdiff/gen.js';
import { kernelScenarioUnavailableReason } from './pktdiff/kernel.js';
import type { PacketScenario } from './pktdiff/types.js';

const DEFAULT_SEED = 20240611;
const DEFAULT_RUNS = 50;
const DEFAULT_FRAMES = 40;

const envInt = (name: string, dflt: number): number => {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number(v);
};
const SEED = envInt('NFLAB_PKTFUZZ_SEED', DEFAULT_SEED);
const RUNS = envInt('NFLAB_PKTFUZZ_RUNS', DEFAULT_RUNS);
const FRAMES = envInt('NFLAB_PKTFUZZ_FRAMES', DEFAULT_FRAMES);
const PATH = process.env['NFLAB_PKTFUZZ_PATH'];
const JOBS = Math.max(1, envInt('NFLAB_PKTDIFF_JOBS', 2) || 2);
const DEFAULTS = RUNS === DEFAULT_RUNS && FRAMES === DEFAULT_FRAMES && PATH === undefined;

/**
 * A difference the fuzz test found that is not fixed yet: its diagnosis,
 * a minimal scenario that shows it (which must keep differing, and in the
 * way `explains` recognises, until the difference is fixed), and the part
 * of the generator kept out of the random scenarios meanwhile.
 */
interface OpenDifference extends KnownDifference {
  reproducer: PacketScenario;
  avoid: keyof GenAvoid;
}

const ROUTER = [
  'ip link set eth0 up',
  'ip link set eth1 up',
  'ip addr add 10.0.0.1/24 dev eth0',
  'ip addr add 10.0.1.1/24 dev eth1',
  'ip route add 192.0.2.0/24 via 10.0.1.2',
  'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
  'ip neigh add 10.0.1.2 lladdr 02:00:00:00:01:02 dev eth1 nud permanent',
  'sysctl -w net.ipv4.ip_forward=1',
];
const filterWith = (rules: string[]): string =>
  `*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n${rules.map((r) => r + '\n').join('')}COMMIT\n`;
const onlyKernelSent = (diffs: readonly string[], what: RegExp): boolean => diffs.some((d) => /only the kernel emitted/.test(d) && what.test(d));

const OPEN: readonly OpenDifference[] = [
  {
    name: 'icmp-redirect',
    avoid: 'redirects',
    diagnosis:
      'A packet forwarded back out of the interface it came in on, to a gateway on the sender\'s own subnet, makes the ' +
      'kernel send an ICMP host redirect to the sender (ip_forward, ip_rt_send_redirect); nflab forwards it silently. The ' +
      'redirect also stamps the sender\'s inet_peer (rate_last), so an ICMP error to the same host right after it is ' +
      'held back by the per-destination limit: the kernel sends no time exceeded for the second datagram, nflab does. ' +
      'Owner: the forward path (src/core/path/machine.ts); the peer bucket it must share is in icmp-send.ts (peerAllow).',
    explains: (diffs) => onlyKernelSent(diffs, /ICMP redirect/),
    reproducer: {
      name: 'open-icmp-redirect',
      setup: ROUTER,
      rules: '',
      frames: [
        toDut('eth1', ipv4({ src: '10.0.1.2', dst: '192.0.2.1', id: 1 }, udp({ sport: 30000, dport: 53, payload: new Uint8Array(4) }))),
        toDut('eth1', ipv4({ src: '10.0.1.2', dst: '192.0.2.1', id: 2, ttl: 1 }, udp({ sport: 30001, dport: 53, payload: new Uint8Array(4) }))),
      ],
    },
  },
  {
    name: 'connbytes-turns-on-accounting',
    avoid: 'connbytesAcct',
    diagnosis:
      'Loading a connbytes rule switches connection accounting on for the namespace (connbytes_mt_check sets ' +
      'net.netfilter.nf_conntrack_acct to 1: "Forcing CT accounting to be enabled"), so connections made afterwards ' +
      'carry counters and conntrack -L prints packets= and bytes=. nflab leaves the sysctl at 0. Owner: rule loading ' +
      '(the machine must see the sysctl change when a ruleset with connbytes is committed).',
    explains: (diffs) => diffs.length === 1 && diffs[0]!.startsWith('conntrack -L differs') && /packets=1 bytes=/.test(diffs[0]!),
    reproducer: {
      name: 'open-connbytes-acct',
      setup: ROUTER.slice(0, -1),
      rules: filterWith(['-A INPUT -m connbytes --connbytes 100: --connbytes-dir both --connbytes-mode bytes -j DROP']),
      frames: [toDut('eth0', ipv4({ src: '10.0.0.2', dst: '10.0.0.1', id: 1 }, icmp({ type: 8, id: 7, seq: 1 })))],
    },
  },
  {
    name: 'arp-queue',
    avoid: 'unresolvedNeighbours',
    diagnosis:
      'Packets for a neighbour whose address is being resolved wait in its queue: the kernel sends one ARP request for ' +
      'the first and none for the next ones until its retransmit timer (neigh_event_send on an INCOMPLETE entry only ' +
      'queues); nflab sends a request for every packet. Each queued packet also holds a reference to its connection, ' +
      'so the kernel lists it with use=2, 3, ... while nflab says use=1. Owner: src/core/net (neighbours).',
    explains: (diffs) => diffs.some((d) => /only nflab emitted/.test(d) && /ARP who-has/.test(d)),
    reproducer: {
      name: 'open-arp-queue',
      setup: ROUTER,
      rules: filterWith(['-A FORWARD -m state --state NEW -j ACCEPT']),
      frames: [
        toDut('eth0', ipv4({ src: '10.0.0.2', dst: '10.0.1.3', id: 1 }, udp({ sport: 30000, dport: 53 }))),
        toDut('eth0', ipv4({ src: '10.0.0.2', dst: '10.0.1.3', id: 2 }, udp({ sport: 30000, dport: 53 }))),
        toDut('eth0', ipv4({ src: '10.0.0.2', dst: '10.0.1.3', id: 3 }, udp({ sport: 30001, dport: 53 }))),
      ],
    },
  },
];

/** The generator keeps out what the open differences are about. */
const AVOID: GenAvoid = Object.fromEntries(OPEN.map((o) => [o.avoid, true]));

const indexes = PATH !== undefined ? [Number(PATH)] : Array.from({ length: RUNS }, (_, i) => i);
const scenarios = indexes.map((i) => ({ index: i, scenario: scenarioFromSeed((SEED + i) | 0, `fuzz-${SEED}-${i}`, { frames: FRAMES, avoid: AVOID }) }));

const replayLine = (i: number): string =>
  `NFLAB_PKTFUZZ_SEED=${SEED} NFLAB_PKTFUZZ_FRAMES=${FRAMES} NFLAB_PKTFUZZ_PATH=${i} node --test dist/test/pktdiff-fuzz.test.js`;

const unavailable = await kernelScenarioUnavailableReason();

describe(`pktdiff fuzz: random rulesets and frames (seed ${SEED}, ${indexes.length} scenarios of ${FRAMES} frames)`, () => {
  let skip = guardKernel('pktdiff fuzz');
  if (skip === undefined && unavailable !== undefined) {
    skip = unavailable;
    if (inCI()) it('packet scenarios can run (required under CI)', () => assert.fail(unavailable));
  }
  const opts = skip === undefined ? {} : { skip };
  let runs: Promise<PairResult>[] | undefined;
  const start = (): Promise<PairResult>[] =>
    (runs ??= mapLimited(scenarios, JOBS, ({ index, scenario }) => runPair(scenario, { replay: index % 4 === 3 ? 'each' : 'once' })));
  let reproducers: Promise<PairResult>[] | undefined;
  const startReproducers = (): Promise<PairResult>[] => (reproducers ??= mapLimited(OPEN, 1, (o) => runPair(o.reproducer)));
  const seen: number[] = [];
  after(() => {
    if (seen.length === 0) return;
    console.log(`# pktdiff fuzz: seed ${SEED}, ${seen.length} scenarios, ${seen.reduce((a, n) => a + n, 0)} frames`);
  });

  for (const [k, { index, scenario }] of scenarios.entries()) {
    it(`scenario ${index}`, opts, async () => {
      const r = await start()[k]!;
      seen.push(scenario.frames.length);
      if (r.diffs.length > 0) assert.fail(`replay: ${replayLine(index)}\n${explainPair(r)}`);
    });
  }

  if (PATH === undefined) {
    it(`ran at least ${DEFAULTS ? 2000 : 0} frames`, opts, async () => {
      const all = await Promise.all(start());
      const frames = all.reduce((a, r) => a + r.scenario.frames.length, 0);
      if (DEFAULTS) assert.ok(frames >= 2000, `only ${frames} frames`);
    });

    for (const [k, o] of OPEN.entries()) {
      it(`open difference ${o.name} still shows (the generator avoids ${o.avoid})`, opts, async () => {
        const r = await startReproducers()[k]!;
        if (process.env['NFLAB_PKTDIFF_SHOW']) console.log(`# ${o.name}:\n${explainPair(r)}`);
        assert.ok(r.diffs.length > 0, `${o.name} is fixed: its reproducer now compares equal. Remove it from OPEN (the generator then covers it again).`);
        assert.equal(classify([o], r.diffs, o.reproducer), o.name, `${o.name}'s reproducer differs otherwise than expected:\n${explainPair(r)}`);
      });
    }
  }
});
