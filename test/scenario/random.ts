/**
 * Random scenarios: a client and a server, joined directly or through a
 * router that may MASQUERADE; random rules on the server (and the router)
 * over the services' ports (ACCEPT, DROP, REJECT variants, state matches,
 * policies, a LOG rule, a port forwarded by DNAT; rules in the client's
 * own OUTPUT); random client steps (ping, nc -z, a small nmap scan,
 * traceroute); sometimes a capture on the server; on nflab's side the
 * namespaces are sometimes lab hosts joined by wires. Scenario i of a run is drawn
 * from seed SEED + i, so a failure names the seed that replays it.
 */
import fc from 'fast-check';
import { filterTable } from './scenarios.js';
import { pair, routed } from './topologies.js';
import type { Scenario, Step } from './types.js';

/** The ports rules and steps are about; listeners sit on some of them. */
const PORTS = [22, 80, 443, 8080];

const arbTarget = fc.oneof(
  fc.constant('ACCEPT'),
  fc.constant('DROP'),
  fc.constant('REJECT'),
  fc.constant('REJECT --reject-with tcp-reset'),
  fc.constant('REJECT --reject-with icmp-host-prohibited'),
  fc.constant('REJECT --reject-with icmp-admin-prohibited'),
  fc.constant('REJECT --reject-with icmp-net-unreachable'),
);

/** One rule of a chain; `from` is the client's address as the chain sees it. */
function arbRule(chain: string, from: string): fc.Arbitrary<string> {
  const match = fc.oneof(
    fc.constantFrom(...PORTS).map((p) => `-p tcp --dport ${p}`),
    fc.constant('-p tcp'),
    fc.constant('-p icmp'),
    fc.constant(`-s ${from}`),
    fc.constantFrom(...PORTS).map((p) => `-s ${from} -p tcp --dport ${p}`),
  );
  const state = fc.constantFrom('', ' -m state --state NEW', ' -m conntrack --ctstate NEW', ' -m state --state ESTABLISHED,RELATED');
  return fc.tuple(match, state, arbTarget).map(([m, st, t]) => {
    // tcp-reset is for TCP rules only
    let target = t.includes('tcp-reset') && !m.includes('-p tcp') ? 'REJECT' : t;
    // an ICMP REJECT of a connection's later packets is a known difference (known.ts, ICMP_AFTER_HANDSHAKE): DROP there
    if (st.includes('ESTABLISHED') && target.startsWith('REJECT') && !target.includes('tcp-reset')) target = 'DROP';
    return `-A ${chain} ${m}${st} -j ${target}`;
  });
}

/** A rule of the client's OUTPUT chain (what it may send). */
const arbOutputRule = fc.tuple(fc.oneof(fc.constantFrom(...PORTS).map((p) => `-p tcp --dport ${p}`), fc.constant('-p icmp')), arbTarget).map(([m, t]) => {
  const target = t.includes('tcp-reset') && !m.includes('-p tcp') ? 'REJECT' : t;
  return `-A OUTPUT ${m} -j ${target}`;
});

/** The random scenario's shape before it becomes a Scenario. */
const arbShape = fc.record({
  topology: fc.constantFrom('pair', 'routed', 'nat'),
  listeners: fc.subarray(PORTS.slice(0, 3), { minLength: 0, maxLength: 3 }),
  inputPolicy: fc.constantFrom('ACCEPT', 'DROP'),
  established: fc.boolean(),
  log: fc.boolean(),
  inputRules: fc.integer({ min: 0, max: 4 }),
  forwardPolicy: fc.constantFrom('ACCEPT', 'DROP'),
  forwardRules: fc.integer({ min: 0, max: 2 }),
  capture: fc.boolean(),
  dnat: fc.boolean(),
  routerLog: fc.boolean(),
  clientRules: fc.array(arbOutputRule, { minLength: 0, maxLength: 2 }),
  labHosts: fc.boolean(),
  seedRules: fc.array(fc.integer({ min: 0, max: 1 << 30 }), { minLength: 6, maxLength: 6 }),
  steps: fc.array(
    fc.oneof(
      { weight: 2, arbitrary: fc.constant<['ping']>(['ping']) },
      { weight: 4, arbitrary: fc.constantFrom(...PORTS).map((p): ['nc', number] => ['nc', p]) },
      { weight: 1, arbitrary: fc.constant<['nmap']>(['nmap']) },
      { weight: 2, arbitrary: fc.constant<['forwarded']>(['forwarded']) },
      { weight: 1, arbitrary: fc.constant<['traceroute']>(['traceroute']) },
    ),
    { minLength: 1, maxLength: 4 },
  ),
});

/** Draws the rules with their own seeds (so that the shape's numbers say how many). */
function rules(chain: string, from: string, n: number, seed: number): string[] {
  return n === 0 ? [] : fc.sample(fc.array(arbRule(chain, from), { minLength: n, maxLength: n }), { seed, numRuns: 1 })[0]!;
}

/** The random scenario drawn from `seed`. */
export function randomScenario(seed: number): Scenario {
  const shape = fc.sample(arbShape, { seed, numRuns: 1 })[0]!;
  const direct = shape.topology === 'pair';
  const topo = direct ? pair() : routed();
  const server = direct ? '10.9.0.2' : '10.2.0.2';
  // the client's address as the server sees it: the router's when it masquerades
  const seenFrom = direct ? '10.9.0.1' : shape.topology === 'nat' ? '10.2.0.1' : '10.1.0.2';
  const input: string[] = [];
  if (shape.log) input.push('-A INPUT -p tcp -m state --state NEW -j LOG --log-prefix "[RND] "');
  if (shape.established) input.push('-A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT');
  input.push(...rules('INPUT', seenFrom, shape.inputRules, shape.seedRules[0]!));
  const ruleText: Record<string, string> = { S: filterTable({ INPUT: shape.inputPolicy }, input) };
  if (shape.clientRules.length > 0) ruleText['C'] = filterTable({}, shape.clientRules);
  if (!direct) {
    const fwd = ['-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT', ...rules('FORWARD', '10.1.0.2', shape.forwardRules, shape.seedRules[1]!)];
    if (shape.routerLog) fwd.unshift('-A FORWARD -m state --state NEW -j LOG --log-prefix "[FWD] "');
    let r = filterTable({ FORWARD: shape.forwardPolicy }, fwd);
    const nat = [
      ...(shape.dnat ? ['-A PREROUTING -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 10.2.0.2:80'] : []),
      ...(shape.topology === 'nat' ? ['-A POSTROUTING -o eth1 -j MASQUERADE'] : []),
    ];
    if (nat.length > 0) r = `*nat\n${nat.join('\n')}\nCOMMIT\n${r}`;
    ruleText['R'] = r;
  }
  // nmap against REJECTs in its own host's OUTPUT is a known difference (see known.ts, NMAP_ROUTED_LATENCY): ping there instead
  const ownReject = shape.clientRules.some((r) => r.includes('-p tcp') && r.includes('REJECT'));
  const steps: Step[] = shape.steps.map((st) => (ownReject && st[0] === 'nmap' ? (['ping'] as const) : st)).map((st): Step => {
    // one probe a hop, three hops at most, a second's wait: a filtered hop costs a second
    if (st[0] === 'traceroute') return { ns: 'C', argv: ['traceroute', '-n', '-q', '1', '-w', '1', '-m', '3', server] };
    if (st[0] === 'ping') return { ns: 'C', argv: ['ping', '-c', '1', '-W', '1', server] };
    if (st[0] === 'nc') return { ns: 'C', argv: ['nc', '-zv', '-w', '2', server, String(st[1])] };
    // the router's port 8080 (forwarded to the server's 80 when the router has DNAT); the server's 8080 when there is no router
    if (st[0] === 'forwarded') return { ns: 'C', argv: ['nc', '-zv', '-w', '2', direct ? server : '10.1.0.1', '8080'] };
    return { ns: 'C', argv: ['nmap', '-n', '-Pn', '-r', '--max-retries', '0', '-p', PORTS.join(','), server], check: 'nmap' }; // -r: ports in order, so that captures and logs can be compared line by line
  });
  const s: Scenario = {
    name: `random scenario (seed ${seed})`,
    ...topo,
    rules: ruleText,
    services: shape.listeners.map((port) => ({ kind: 'nc' as const, ns: 'S', port })),
    steps,
  };
  if (shape.capture) s.capture = { ns: 'S', dev: 'eth0', filter: ['tcp', 'or', 'icmp'] };
  if (shape.labHosts) s.nflabHosts = true;
  return s;
}
