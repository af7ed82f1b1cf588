/**
 * Measures the kernel side: the injector's frame rate in one long scenario,
 * and the time of a suite of many ordinary scenarios run one at a time and
 * several at once. Run as root after `npm run build`:
 *
 *   node dist/test/pktdiff/measure.js [scenarios=50] [frames=40] [jobs=3] [long=2000]
 */
import { mapConcurrent } from '../diff/pool.js';
import { ascii, icmp, ipv4, tcp, toDut, udp } from './build.js';
import { kernelScenarioUnavailableReason, runKernelScenario } from './kernel.js';
import type { Frame, PacketScenario } from './types.js';

const SETUP = [
  'ip addr add 10.0.0.1/24 dev eth0',
  'ip link set eth0 up',
  'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
  'ip addr add 10.0.1.1/24 dev eth1',
  'ip link set eth1 up',
  'ip neigh add 10.0.1.2 lladdr 02:00:00:00:01:02 dev eth1 nud permanent',
  'sysctl -w net.ipv4.ip_forward=1',
];

const RULES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp --dport 22 -j LOG --log-prefix "ssh "
-A INPUT -p tcp --dport 81 -j REJECT --reject-with tcp-reset
-A INPUT -p icmp -j ACCEPT
-A FORWARD -p udp --dport 53 -j ACCEPT
COMMIT
`;

/** A mix of frames: echo requests, SYNs to closed and logged ports, forwarded datagrams. */
function frames(n: number): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) {
    const id = i & 0xffff;
    switch (i % 4) {
      case 0:
        out.push(toDut('eth0', ipv4({ src: '10.0.0.2', dst: '10.0.0.1', id }, icmp({ type: 8, id: 7, seq: id, payload: ascii('x') }))));
        break;
      case 1:
        out.push(toDut('eth0', ipv4({ src: '10.0.0.2', dst: '10.0.0.1', id }, tcp({ sport: 1024 + (i % 60000), dport: 80 }))));
        break;
      case 2:
        out.push(toDut('eth0', ipv4({ src: '10.0.0.2', dst: '10.0.0.1', id }, tcp({ sport: 1024 + (i % 60000), dport: i % 8 === 2 ? 22 : 81 }))));
        break;
      default:
        out.push(toDut('eth0', ipv4({ src: '10.0.0.2', dst: '10.0.1.2', id }, udp({ sport: 1024 + (i % 60000), dport: 53 }))));
    }
  }
  return out;
}

function scenario(name: string, n: number): PacketScenario {
  return { name, setup: SETUP, rules: RULES, frames: frames(n) };
}

async function main(): Promise<void> {
  const [count = 50, perScenario = 40, jobs = 3, long = 2000] = process.argv.slice(2).map(Number);
  const reason = await kernelScenarioUnavailableReason();
  if (reason !== undefined) throw new Error(reason);

  const big = await runKernelScenario(scenario('long', long));
  const t = big.timing!;
  console.log(
    `one scenario of ${long} frames: ${big.emitted.length} frames back, ${big.log.length} log lines; ` +
      `frames phase ${t.framesMs.toFixed(0)} ms (${((long / t.framesMs) * 1000).toFixed(0)} frames/s including the injector's start), ` +
      `sending ${big.sentAtMs.at(-1)!.toFixed(1)} ms (${((long / big.sentAtMs.at(-1)!) * 1000).toFixed(0)} frames/s)`,
  );

  for (const j of [1, jobs]) {
    const list = Array.from({ length: count }, (_, i) => scenario(`s${i}`, perScenario));
    const start = performance.now();
    const results = await Promise.all(mapConcurrent(list, j, (s) => runKernelScenario(s)));
    const wall = performance.now() - start;
    const sum = (k: keyof NonNullable<(typeof results)[0]['timing']>): string =>
      (results.reduce((a, r) => a + r.timing![k], 0) / results.length).toFixed(0);
    console.log(
      `${count} scenarios x ${perScenario} frames, ${j} at a time: ${(wall / 1000).toFixed(1)} s; per scenario on average ` +
        `${sum('totalMs')} ms (topology ${sum('topologyMs')}, setup ${sum('setupMs')}, frames ${sum('framesMs')}, ` +
        `dump ${sum('dumpMs')}, teardown ${sum('teardownMs')})`,
    );
  }
}

await main();
