/**
 * Random packet scenarios for the kernel-differential fuzz test
 * (test/pktdiff-fuzz.test.ts): a router with two interfaces, a random
 * ruleset over the filter, nat, mangle and raw tables, and a random
 * sequence of frames (TCP connections, UDP and ICMP exchanges, ICMP errors
 * quoting earlier packets, fragments, broken packets, forwarded traffic).
 *
 * Addresses and ports come from small pools so that rules hit. What the
 * kernel decides at random is kept out:
 *
 * - NAT rules never ask for a random port: no --random/--random-fully,
 *   source NAT maps to no port or a single one (a port range for source NAT
 *   starts its search at a random offset), and every flow uses a source
 *   port (or ICMP id) of its own, so connections seldom compete for one
 *   tuple (the kernel then picks a random port even without --random). They
 *   still can: a request dropped before its connection was confirmed leaves
 *   the reply to make its own, whose original tuple is the next request's
 *   reply tuple. runPair sets such ports aside (randomNatPorts).
 * - The host-wide ICMP rate limit takes 0, 1 or 2 credits of its 50 at
 *   random per message. Only four hosts ever send packets the machine could
 *   answer with an ICMP error, and the per-destination limit lets at most 6
 *   errors reach each of them within a second (scenarios last milliseconds),
 *   so at most 24 errors are sent and the host-wide bucket never runs dry.
 * - Jiffies: nflab's clock starts where the kernel's was (runPair), but on a
 *   busy machine the kernel's jiffies can lag its clock by a tick, so no
 *   outcome may depend on which side of a tick a frame falls. Frames follow
 *   each other closely (a scenario lasts a few milliseconds, far below the
 *   40 ms of redirect backoff); rate-based matches (limit, hashlimit) use
 *   rates of at most 5 per second, whose next token is 200 ms away; the one
 *   long pause some scenarios have (1.6 s, with conntrack timeouts of 1 s)
 *   is far from any multiple of a token's time. recent uses --seconds 60 and
 *   more. connlimit collects its lists at most once per jiffy, so scenarios
 *   with it space their frames a few jiffies apart (and then use per-minute
 *   rates and no redirects). The time match only with dates far in the past or future, the
 *   statistic match only in nth mode.
 *
 * Everything is drawn through fast-check (`fc.gen()`), so a scenario is a
 * function of its seed.
 */
import fc from 'fast-check';
import { ascii, icmp, ipv4, rawL4, tcp, toDut, udp, arp, type L4 } from './build.js';
import type { DutInterface, Frame, PacketScenario } from './types.js';

/** Draws values; a thin layer over fast-check's generator function. */
export class Dice {
  constructor(private readonly g: fc.GeneratorValue) {}

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return this.g(fc.integer, { min, max });
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.int(0, 9999) < p * 10000;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }

  /** One element, by weight. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((a, [w]) => a + w, 0);
    let r = this.int(0, total - 1);
    for (const [w, v] of items) {
      if (r < w) return v;
      r -= w;
    }
    return items[items.length - 1]![1];
  }

  /** A random subset (in the original order), possibly empty. */
  subset<T>(items: readonly T[], p = 0.5): T[] {
    return items.filter(() => this.chance(p));
  }
}

// ------------------------------------------------------------- topology

/** Hosts on eth0's side. */
export const SIDE_A = ['10.0.0.2', '10.0.0.3'] as const;
/** Hosts on eth1's side (192.0.2.1 is routed through 10.0.1.2). */
export const SIDE_B = ['10.0.1.2', '192.0.2.1'] as const;
/** The machine's own addresses. */
export const DUT_A = '10.0.0.1';
export const DUT_B = '10.0.1.1';

const BASE_SETUP = [
  'ip link set eth0 up',
  'ip link set eth1 up',
  `ip addr add ${DUT_A}/24 dev eth0`,
  `ip addr add ${DUT_B}/24 dev eth1`,
  'ip route add 192.0.2.0/24 via 10.0.1.2',
  'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
  'ip neigh add 10.0.0.3 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
  'ip neigh add 10.0.1.2 lladdr 02:00:00:00:01:02 dev eth1 nud permanent',
];

/** The side a host is on. */
function ifaceOf(host: string): DutInterface {
  return host.startsWith('10.0.0.') ? 'eth0' : 'eth1';
}

/** Well-known ports rules and flows share. */
const SERVICE_PORTS = [22, 53, 80, 443, 8080, 33434] as const;

// ---------------------------------------------------------------- rules

type Table = 'filter' | 'nat' | 'mangle' | 'raw';
type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

const TABLE_CHAINS: Record<Table, Hook[]> = {
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** What NAT rules map to, so that replies can be addressed to the mapped side. */
export interface NatFacts {
  snatAddrs: string[];
  dnatTargets: { addr: string; port?: number }[];
  redirectPorts: number[];
}

/** Where a rule is: its table and the hook of the built-in chain it is reached from. */
interface RuleContext {
  table: Table;
  hook: Hook;
  /** A user chain (RETURN makes sense there). */
  user: boolean;
  /** User chains this rule may jump or go to (owned by the same built-in chain, later in the list). */
  targets: string[];
}

const ADDRS = ['10.0.0.2', '10.0.0.3', '10.0.0.0/24', '10.0.1.2', '10.0.1.0/24', '192.0.2.1', '192.0.2.0/24', DUT_A, DUT_B, '10.0.0.0/8', '10.0.1.3'];

let ruleSerial = 0;

/** The protocol part of a rule, and what later matches may rely on. */
interface ProtoPart {
  text: string;
  /** The protocol when positively given. */
  proto: 'tcp' | 'udp' | 'icmp' | undefined;
}

function protoPart(d: Dice): ProtoPart {
  const p = d.weighted<'tcp' | 'udp' | 'icmp' | 'none' | 'neg'>([
    [30, 'none'],
    [35, 'tcp'],
    [20, 'udp'],
    [12, 'icmp'],
    [3, 'neg'],
  ]);
  if (p === 'none') return { text: '', proto: undefined };
  if (p === 'neg') return { text: ` ! -p ${d.pick(['tcp', 'udp', 'icmp'])}`, proto: undefined };
  let text = ` -p ${p}`;
  const port = (): string =>
    d.weighted([
      [6, String(d.pick(SERVICE_PORTS))],
      [2, d.pick(['1:1023', '1024:65535', '30000:30010', '1:65535', '1024:30010'])],
      [1, `30000:30020`],
    ]);
  const neg = (): string => (d.chance(0.15) ? '! ' : '');
  if (p === 'tcp' || p === 'udp') {
    if (d.chance(0.5)) text += ` ${neg()}--dport ${port()}`;
    if (d.chance(0.2)) text += ` ${neg()}--sport ${port()}`;
    if (p === 'tcp') {
      const flags = ['SYN', 'ACK', 'FIN', 'RST', 'PSH', 'URG'];
      const r = d.int(0, 9);
      if (r === 0) text += ' --syn';
      else if (r === 1) text += ' ! --syn';
      else if (r === 2) {
        const mask = d.pick(['ALL', 'SYN,ACK', 'FIN,SYN,RST,ACK', 'SYN,RST', 'FIN,ACK', 'ACK,RST']);
        const comp = d.pick(['NONE', 'ALL', 'SYN', 'ACK', 'SYN,ACK', 'FIN', 'RST', 'FIN,PSH,URG']);
        text += ` ${neg()}--tcp-flags ${mask} ${comp}`;
      } else if (r === 3) text += ` --tcp-flags ${d.subset(flags).join(',') || 'NONE'} ${d.subset(flags).join(',') || 'NONE'}`;
      else if (r === 4) text += ` ${neg()}--tcp-option ${d.pick([2, 3, 4, 8])}`;
    }
  } else if (p === 'icmp') {
    if (d.chance(0.6)) {
      text += ` ${neg()}--icmp-type ${d.pick(['echo-request', 'echo-reply', 'destination-unreachable', 'port-unreachable', 'time-exceeded', '8', '3/3', 'any', 'host-prohibited', 'timestamp-request'])}`;
    }
  }
  return { text, proto: p };
}

/** An extra match module with its options, or '' when none fits the context. */
function extraMatch(d: Dice, ctx: RuleContext, proto: ProtoPart['proto'], names: Set<string>): string {
  const inHooks = ctx.hook === 'PREROUTING' || ctx.hook === 'INPUT' || ctx.hook === 'FORWARD';
  const outHooks = ctx.hook === 'POSTROUTING' || ctx.hook === 'OUTPUT' || ctx.hook === 'FORWARD';
  const neg = (p = 0.15): string => (d.chance(p) ? '! ' : '');
  const choices: [number, () => string][] = [
    [4, () => `-m state ${neg(0.1)}--state ${stateList(d)}`],
    [
      4,
      () =>
        '-m conntrack ' +
        d.pick([
          () => `${neg(0.1)}--ctstate ${stateList(d, true)}`,
          () => `--ctstatus ${d.subset(['NONE', 'EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED']).join(',') || 'SEEN_REPLY'}`,
          () => `${neg()}--ctproto ${d.pick(['tcp', 'udp', 'icmp', '6'])}`,
          () => `${neg()}--ctorigsrc ${d.pick(ADDRS)}`,
          () => `${neg()}--ctorigdst ${d.pick(ADDRS)}`,
          () => `${neg()}--ctreplsrc ${d.pick(ADDRS)}`,
          () => `${neg()}--ctrepldst ${d.pick(ADDRS)}`,
          () => `--ctdir ${d.pick(['ORIGINAL', 'REPLY'])}`,
          () => `${neg()}--ctorigdstport ${d.pick(SERVICE_PORTS)}`,
          () => `--ctexpire ${d.pick(['0:60', '100:500000', '30'])}`,
          () => `--ctstate ${stateList(d, true)} --ctstatus ${d.pick(['SEEN_REPLY', 'ASSURED'])}`,
        ])(),
    ],
    [3, () => `-m mark ${neg()}--mark ${d.pick(['0x1', '0x2', '0x1/0xf', '0x0/0xff', '3'])}`],
    [2, () => `-m connmark ${neg()}--mark ${d.pick(['0x1', '0x2/0x2', '0', '0x4/0xf'])}`],
    [2, () => `-m iprange ${neg()}--${d.pick(['src', 'dst'])}-range ${d.pick(['10.0.0.2-10.0.0.3', '10.0.1.1-10.0.1.3', '192.0.2.0-192.0.2.10', '10.0.0.1-10.0.1.255'])}`],
    [2, () => `-m length ${neg()}--length ${d.pick(['0:60', '40', '61:1500', '28:40', '100:65535'])}`],
    [2, () => `-m ttl --ttl-${d.pick(['eq', 'lt', 'gt'])} ${d.pick([1, 2, 63, 64, 128])}`],
    [1, () => `-m tos ${neg()}--tos ${d.pick(['0x00', '0x10', 'Minimize-Delay', '0x08/0x08', '0xc0/0xfc'])}`],
    [2, () => `-m limit --limit ${d.int(1, 5)}/${d.pick(['second', 'minute', 'hour', 'day'])} --limit-burst ${d.int(1, 4)}`],
    [
      3,
      () => {
        const name = d.pick(['A', 'B']);
        const side = d.pick(['', ' --rsource', ' --rdest']);
        return d.pick([
          () => `-m recent --set --name ${name}${side}`,
          () => `-m recent ${neg(0.1)}--rcheck --name ${name}${side}${d.pick(['', ' --seconds 60', ` --hitcount ${d.int(1, 3)}`, ' --seconds 3600 --hitcount 2'])}`,
          () => `-m recent --update --name ${name}${side}${d.pick(['', ' --seconds 60', ` --hitcount ${d.int(2, 4)}`])}`,
          () => `-m recent --remove --name ${name}${side}`,
          () => `-m recent --rcheck --name ${name} --rttl`,
        ])();
      },
    ],
    [inHooks && ctx.hook !== 'FORWARD' ? 2 : inHooks ? 1 : 0, () => `-m mac ${neg()}--mac-source ${d.pick(['02:00:00:00:00:02', '02:00:00:00:01:02', '02:00:00:00:00:99'])}`],
    [
      3,
      () => {
        const t = (): string => d.pick(['LOCAL', 'UNICAST', 'BROADCAST', 'MULTICAST', 'UNREACHABLE', 'LOCAL,BROADCAST']);
        let s = `-m addrtype ${d.chance(0.5) ? `${neg()}--src-type ${t()}` : `${neg()}--dst-type ${t()}`}`;
        if (d.chance(0.3)) {
          if (inHooks && ctx.hook !== 'FORWARD') s += ' --limit-iface-in';
          else if (outHooks && ctx.hook !== 'FORWARD') s += ' --limit-iface-out';
        }
        return s;
      },
    ],
    [2, () => `-m pkttype ${neg()}--pkt-type ${d.pick(['unicast', 'broadcast', 'multicast', 'host'])}`],
    [1, () => `-m comment --comment "${d.pick(['allow', 'rule with spaces', 'x'])}"`],
    [1, () => `-m connbytes --connbytes ${d.pick(['0:200', '100:', '2:3', '0:1'])} --connbytes-dir ${d.pick(['original', 'reply', 'both'])} --connbytes-mode ${d.pick(['bytes', 'packets', 'avgpkt'])}`],
    [1, () => `-m connlimit --connlimit-${d.pick(['above', 'upto'])} ${d.int(0, 2)}${d.pick(['', ' --connlimit-mask 24', ' --connlimit-daddr'])}`],
    [1, () => `-m quota ${neg(0.1)}--quota ${d.pick([0, 100, 300, 1000])}`],
    [1, () => `-m statistic --mode nth --every ${d.int(2, 4)} --packet ${d.int(0, 1)}`],
    [
      1,
      () => {
        let name = `h${ruleSerial}`;
        while (names.has(name)) name += 'x';
        names.add(name);
        return `-m hashlimit --hashlimit-${d.pick(['upto', 'above'])} ${d.int(1, 5)}/${d.pick(['sec', 'min', 'hour'])} --hashlimit-burst ${d.int(1, 3)} --hashlimit-mode ${d.pick(['srcip', 'dstip', 'srcip,dstport', 'dstip,dstport'])} --hashlimit-name ${name}`;
      },
    ],
    [1, () => `-m time ${d.pick(['--datestop 2001-01-01T00:00:00', '--datestart 2001-01-01T00:00:00', '--datestart 2037-01-01T00:00:00'])}`],
    [
      proto === 'tcp' || proto === 'udp' ? 3 : 0,
      () => `-m multiport ${neg()}--${d.pick(['dports', 'sports', 'ports'])} ${d.pick(['22,80,443', '53,33434', '30000:30010,80', '8080', '1:1023'])}`,
    ],
  ];
  const usable = choices.filter(([w]) => w > 0);
  return d.weighted(usable.map(([w, f]) => [w, f] as const))();
}

function stateList(d: Dice, ct = false): string {
  const all = ct ? ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED', 'SNAT', 'DNAT'] : ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'];
  const s = d.subset(all, 0.35);
  return (s.length ? s : [d.pick(all)]).join(',');
}

/** The target part of a rule (with its leading " -j"/" -g"). */
function targetPart(d: Dice, ctx: RuleContext, proto: ProtoPart['proto'], nat: NatFacts, avoid: GenAvoid): string {
  const tcpOrUdp = proto === 'tcp' || proto === 'udp';
  const { table, hook } = ctx;
  const options: [number, () => string][] = [
    [table === 'nat' ? 3 : 8, () => ' -j ACCEPT'],
    [table === 'nat' ? 0 : table === 'filter' ? 7 : 2, () => ' -j DROP'],
    [ctx.user ? 3 : 1, () => ' -j RETURN'],
    [ctx.targets.length ? 6 : 0, () => ` -j ${d.pick(ctx.targets)}`],
    [ctx.targets.length ? 2 : 0, () => ` -g ${d.pick(ctx.targets)}`],
    [
      6,
      () => {
        const serial = ruleSerial;
        let s = ` -j LOG --log-prefix "${d.pick(['L', 'log', 'fw'])}${serial} "`;
        if (d.chance(0.3)) s += ` --log-level ${d.pick(['0', '4', '6', '7', 'debug', 'warning', 'info'])}`;
        for (const f of ['--log-tcp-sequence', '--log-tcp-options', '--log-ip-options', '--log-uid', '--log-macdecode']) if (d.chance(0.15)) s += ` ${f}`;
        return s;
      },
    ],
    [
      table === 'filter' && (hook === 'INPUT' || hook === 'FORWARD' || hook === 'OUTPUT') ? 5 : 0,
      () => {
        const kinds = ['icmp-net-unreachable', 'icmp-host-unreachable', 'icmp-port-unreachable', 'icmp-proto-unreachable', 'icmp-net-prohibited', 'icmp-host-prohibited', 'icmp-admin-prohibited'];
        if (proto === 'tcp') kinds.push('tcp-reset', 'tcp-reset', 'tcp-reset');
        return d.chance(0.2) ? ' -j REJECT' : ` -j REJECT --reject-with ${d.pick(kinds)}`;
      },
    ],
    [
      table === 'nat' ? 1 : 3,
      () =>
        ` -j MARK ${d.pick([
          '--set-mark 0x1',
          '--set-mark 2',
          '--set-xmark 0x4/0x6',
          '--or-mark 0x2',
          '--and-mark 0xfe',
          '--xor-mark 0x1',
          '--set-mark 0x1/0x1',
        ])}`,
    ],
    [
      table === 'nat' ? 1 : 3,
      () =>
        ` -j CONNMARK ${d.pick([
          '--set-mark 0x1',
          '--set-mark 0x4/0xf',
          '--save-mark',
          '--restore-mark',
          '--save-mark --mask 0x3',
          '--restore-mark --nfmask 0xff --ctmask 0x1',
          '--set-xmark 0x2/0x2',
        ])}`,
    ],
    [table === 'raw' ? 3 : 0, () => ` -j CT ${d.pick(['--notrack', '--zone 1', '--zone 2', '--ctevents new,destroy', avoid.directionalZones ? '--zone 3' : d.pick(['--zone-orig 3', '--zone-reply 3'])])}`],
    [table === 'raw' ? 2 : 0, () => ' -j NOTRACK'],
    [
      table === 'nat' && (hook === 'POSTROUTING' || hook === 'INPUT') ? 5 : 0,
      () => {
        const addr = d.pick(hook === 'INPUT' ? ['10.0.0.9', DUT_B, '10.0.1.9'] : [DUT_B, '10.0.1.9', '10.0.1.20-10.0.1.23', DUT_A]);
        const port = tcpOrUdp && d.chance(0.3) ? `:${d.pick([5000, 40000, 22])}` : '';
        for (const a of expandRange(addr)) nat.snatAddrs.push(a);
        return ` -j SNAT --to-source ${addr}${port}${d.chance(0.15) ? ' --persistent' : ''}`;
      },
    ],
    [
      table === 'nat' && hook === 'POSTROUTING' ? 5 : 0,
      () => {
        nat.snatAddrs.push(DUT_B, DUT_A);
        return ` -j MASQUERADE${tcpOrUdp && d.chance(0.25) ? ` --to-ports ${d.pick([5000, 40001])}` : ''}`;
      },
    ],
    [
      table === 'nat' && (hook === 'PREROUTING' || hook === 'OUTPUT') ? 5 : 0,
      () => {
        const addr = d.pick(['10.0.1.2', '192.0.2.1', '10.0.0.2', DUT_A, '10.0.0.2-10.0.0.3', '10.0.1.3']);
        const port = tcpOrUdp ? d.pick(['', '', ':80', ':8080-8082', ':22']) : '';
        for (const a of expandRange(addr)) nat.dnatTargets.push(port ? { addr: a, port: Number(port.slice(1).split('-')[0]) } : { addr: a });
        return ` -j DNAT --to-destination ${addr}${port}`;
      },
    ],
    [
      table === 'nat' && (hook === 'PREROUTING' || hook === 'OUTPUT') && tcpOrUdp ? 3 : 0,
      () => {
        const p = d.pick(['2222', '8080-8081', '53']);
        nat.redirectPorts.push(Number(p.split('-')[0]));
        return ` -j REDIRECT${d.chance(0.2) ? '' : ` --to-ports ${p}`}`;
      },
    ],
    [table === 'nat' && hook !== 'OUTPUT' ? 1 : 0, () => ` -j NETMAP --to ${d.pick(['192.0.2.0/24', '10.0.1.0/24', '10.0.0.0/24'])}`],
  ];
  return d.weighted(options.filter(([w]) => w > 0))();
}

function expandRange(addr: string): string[] {
  const m = /^(\d+\.\d+\.\d+\.)(\d+)-\d+\.\d+\.\d+\.(\d+)$/.exec(addr);
  if (!m) return [addr];
  const out: string[] = [];
  for (let i = Number(m[2]); i <= Number(m[3]); i++) out.push(`${m[1]}${i}`);
  return out;
}

/** One rule for a chain (without the "-A CHAIN" head). */
function rule(d: Dice, ctx: RuleContext, nat: NatFacts, names: Set<string>, avoid: GenAvoid): string {
  ruleSerial++;
  const p = protoPart(d);
  let s = '';
  const neg = (): string => (d.chance(0.15) ? '! ' : '');
  if (d.chance(0.25)) s += ` ${neg()}-s ${d.pick(ADDRS)}`;
  if (d.chance(0.25)) s += ` ${neg()}-d ${d.pick(ADDRS)}`;
  const canIn = ctx.hook === 'PREROUTING' || ctx.hook === 'INPUT' || ctx.hook === 'FORWARD';
  const canOut = ctx.hook === 'POSTROUTING' || ctx.hook === 'OUTPUT' || ctx.hook === 'FORWARD';
  if (canIn && d.chance(0.2)) s += ` ${neg()}-i ${d.pick(['eth0', 'eth1', 'eth+', 'lo'])}`;
  if (canOut && d.chance(0.2)) s += ` ${neg()}-o ${d.pick(['eth0', 'eth1', 'eth+', 'lo'])}`;
  if (d.chance(0.03)) s += ` ${neg()}-f`;
  s += p.text;
  const extras = d.weighted([
    [5, 0],
    [4, 1],
    [1, 2],
  ]);
  for (let i = 0; i < extras; i++) {
    const m = extraMatch(d, ctx, p.proto, names);
    if (m) s += ` ${m}`;
  }
  s += targetPart(d, ctx, p.proto, nat, avoid);
  return s.trimStart();
}

/** A random iptables-restore input, and what its NAT rules map to. */
export function genRules(d: Dice, avoid: GenAvoid = {}): { rules: string; nat: NatFacts } {
  const nat: NatFacts = { snatAddrs: [], dnatTargets: [], redirectPorts: [] };
  const names = new Set<string>();
  const tables: Table[] = (['raw', 'mangle', 'nat', 'filter'] as Table[]).filter((t) =>
    d.chance({ raw: 0.3, mangle: 0.4, nat: 0.5, filter: 0.92 }[t]),
  );
  let out = '';
  for (const table of tables) {
    const hooks = TABLE_CHAINS[table];
    // User chains, each owned by one built-in chain (so its rules fit that hook).
    const users: { name: string; owner: Hook }[] = [];
    const nUsers = d.weighted([
      [4, 0],
      [3, 1],
      [2, 2],
      [1, 3],
    ]);
    for (let i = 0; i < nUsers; i++) users.push({ name: `${table.toUpperCase()}_U${i}`, owner: d.pick(hooks) });
    out += `*${table}\n`;
    for (const h of hooks) {
      const policy = table === 'nat' ? 'ACCEPT' : d.chance(table === 'filter' ? 0.3 : 0.08) ? 'DROP' : 'ACCEPT';
      out += `:${h} ${policy} [0:0]\n`;
    }
    for (const u of users) out += `:${u.name} - [0:0]\n`;
    for (const h of hooks) {
      const mine = users.filter((u) => u.owner === h).map((u) => u.name);
      const n = d.weighted([
        [2, 0],
        [3, 1],
        [3, 2],
        [2, 3],
        [1, 5],
      ]);
      for (let i = 0; i < n; i++) out += `-A ${h} ${rule(d, { table, hook: h, user: false, targets: mine }, nat, names, avoid)}\n`;
      // Make sure user chains get used now and then.
      if (mine.length && d.chance(0.7)) out += `-A ${h} -j ${mine[0]}\n`;
    }
    for (const [i, u] of users.entries()) {
      const later = users.slice(i + 1).filter((v) => v.owner === u.owner).map((v) => v.name);
      const n = d.int(1, 4);
      for (let k = 0; k < n; k++) out += `-A ${u.name} ${rule(d, { table, hook: u.owner, user: true, targets: later }, nat, names, avoid)}\n`;
    }
    out += 'COMMIT\n';
  }
  return { rules: out, nat };
}

// -------------------------------------------------------------- frames

interface FlowCtx {
  d: Dice;
  nat: NatFacts;
  /** Next IP ID per sending host. */
  ipIds: Map<string, number>;
  /** Next unique source port / ICMP id. */
  nextPort: number;
  /** Packets sent so far (for ICMP errors quoting them): the IP packet and the host that sent it. */
  sent: { packet: Uint8Array; from: string }[];
  avoid: GenAvoid;
}

function nextId(c: FlowCtx, host: string): number {
  const v = c.ipIds.get(host) ?? 1000 + c.d.int(0, 50000);
  c.ipIds.set(host, (v + 1) & 0xffff);
  return v;
}

/** A frame carrying `packet` from `from` into the machine on `from`'s side. */
function frameFrom(c: FlowCtx, from: string, packet: Uint8Array, opts: { dstMac?: string } = {}): Frame {
  c.sent.push({ packet, from });
  return toDut(ifaceOf(from), packet, opts.dstMac ? { dst: opts.dstMac } : {});
}

/** Who the far end sees as the client, and who answers in place of the server. */
function replyEnds(c: FlowCtx, client: string, server: string, dport: number): { to: string; from: string; fromPort: number } {
  const d = c.d;
  let to = client;
  let from = server;
  let fromPort = dport;
  if (ifaceOf(client) !== ifaceOf(server) || server === DUT_A || server === DUT_B) {
    // The reply may be addressed to a source NAT address.
    if (c.nat.snatAddrs.length && d.chance(0.6)) to = d.pick(c.nat.snatAddrs);
    else if (d.chance(0.15)) to = ifaceOf(server) === 'eth0' ? DUT_A : DUT_B;
  }
  if (c.nat.dnatTargets.length && d.chance(0.5)) {
    const t = d.pick(c.nat.dnatTargets);
    from = t.addr;
    if (t.port !== undefined) fromPort = t.port;
  } else if (c.nat.redirectPorts.length && d.chance(0.2)) {
    fromPort = d.pick(c.nat.redirectPorts);
  }
  // Only the four hosts (or, as a martian source, the machine's own addresses) ever send.
  if (![...SIDE_A, ...SIDE_B, DUT_A, DUT_B].includes(from)) from = ifaceOf(from) === 'eth0' ? SIDE_A[0] : SIDE_B[0];
  return { to, from, fromPort };
}

/** A host that sends into the machine (one of the four that may get ICMP errors back). */
function pickClient(d: Dice): string {
  return d.weighted([
    [4, SIDE_A[0]],
    [2, SIDE_A[1]],
    [3, SIDE_B[0]],
    [2, SIDE_B[1]],
  ]);
}

/** A destination for a client: across the router, the machine itself, or odd ones. */
function pickServer(d: Dice, client: string): string {
  const across = ifaceOf(client) === 'eth0' ? [...SIDE_B] : [...SIDE_A];
  return d.weighted([
    [5, d.pick(across)],
    [3, ifaceOf(client) === 'eth0' ? DUT_A : DUT_B],
    [1, ifaceOf(client) === 'eth0' ? DUT_B : DUT_A],
    [1, '10.0.1.3'],
    [1, d.pick(ifaceOf(client) === 'eth0' ? [...SIDE_A] : [...SIDE_B])],
  ]);
}

function tcpOptions(d: Dice): Uint8Array | undefined {
  if (!d.chance(0.5)) return undefined;
  const o: number[] = [];
  if (d.chance(0.8)) o.push(2, 4, 5, d.pick([0xb4, 0x78]));
  if (d.chance(0.5)) o.push(4, 2);
  if (d.chance(0.5)) o.push(8, 10, 0, 0, 0x12, 0x34, 0, 0, 0, 0);
  if (d.chance(0.5)) o.push(1, 3, 3, d.int(0, 9));
  while (o.length % 4) o.push(1);
  return new Uint8Array(o);
}

/** A TCP connection's frames in order (either side may stop early or misbehave). */
function tcpFlow(c: FlowCtx): Frame[] {
  const d = c.d;
  const client = pickClient(d);
  const server = pickServer(d, client);
  const sport = c.nextPort++;
  const dport = d.pick(SERVICE_PORTS);
  const ends = replyEnds(c, client, server, dport);
  let cseq = d.int(1, 0x7fffffff);
  let sseq = d.int(1, 0x7fffffff);
  const out: Frame[] = [];
  const ttl = (): number => d.weighted([
    [12, 64],
    [1, 1],
    [1, 2],
  ]);
  const fromClient = (flags: string, payload?: Uint8Array, extra: { ack?: number; checksumError?: number } = {}): void => {
    const seg = tcp({ sport, dport, seq: cseq, ack: extra.ack ?? (flags.includes('A') ? sseq : 0), flags, payload, options: flags.includes('S') ? tcpOptions(d) : undefined, checksumError: extra.checksumError ?? 0 });
    out.push(frameFrom(c, client, ipv4({ src: client, dst: server, id: nextId(c, client), ttl: ttl(), df: d.chance(0.5) }, seg)));
  };
  const fromServer = (flags: string, payload?: Uint8Array): void => {
    const seg = tcp({ sport: ends.fromPort, dport: sport, seq: sseq, ack: flags.includes('A') ? cseq : 0, flags, payload, options: flags.includes('S') ? tcpOptions(d) : undefined });
    out.push(frameFrom(c, ends.from, ipv4({ src: ends.from, dst: ends.to, id: nextId(c, ends.from), ttl: d.pick([64, 55, 1]), df: true }, seg)));
  };
  const randomFlags = (): string => d.subset(['F', 'S', 'R', 'P', 'A', 'U', 'E', 'C'], 0.3).join('');
  // Handshake.
  if (d.chance(0.9)) {
    fromClient(d.chance(0.9) ? 'S' : randomFlags());
    cseq = (cseq + 1) >>> 0;
  } else fromClient(randomFlags());
  if (d.chance(0.75)) {
    fromServer(d.weighted([
      [8, 'SA'],
      [1, 'RA'],
      [1, randomFlags()],
    ]));
    sseq = (sseq + 1) >>> 0;
  } else if (d.chance(0.3)) {
    // An ICMP error instead of an answer.
    out.push(icmpErrorAbout(c, c.sent[c.sent.length - 1]!));
  }
  const steps = d.int(0, 5);
  for (let i = 0; i < steps; i++) {
    const r = d.int(0, 9);
    if (r <= 2) fromClient('A');
    else if (r <= 4) {
      const payload = ascii('x'.repeat(d.pick([1, 10, 100])));
      fromClient('PA', payload, d.chance(0.1) ? { checksumError: 1 } : {});
      cseq = (cseq + payload.length) >>> 0;
    } else if (r <= 6) {
      const payload = ascii('y'.repeat(d.pick([1, 20, 300])));
      fromServer('PA', payload);
      sseq = (sseq + payload.length) >>> 0;
    } else if (r === 7) {
      fromClient(d.chance(0.5) ? 'FA' : 'R');
      cseq = (cseq + 1) >>> 0;
    } else if (r === 8) {
      fromServer(d.chance(0.5) ? 'FA' : 'R');
      sseq = (sseq + 1) >>> 0;
    } else {
      // Out of window, or odd flags.
      if (d.chance(0.5)) cseq = (cseq + 0x40000000) >>> 0;
      fromClient(randomFlags() || 'A');
    }
  }
  return out;
}

function udpFlow(c: FlowCtx): Frame[] {
  const d = c.d;
  const client = pickClient(d);
  const server = pickServer(d, client);
  const sport = c.nextPort++;
  const dport = d.pick(SERVICE_PORTS);
  const ends = replyEnds(c, client, server, dport);
  const out: Frame[] = [];
  const n = d.int(1, 3);
  for (let i = 0; i < n; i++) {
    const payload = ascii('q'.repeat(d.pick([0, 5, 30, 200])));
    out.push(frameFrom(c, client, ipv4({ src: client, dst: server, id: nextId(c, client), ttl: d.weighted([[10, 64], [1, 1]]), tos: d.pick([0, 0, 0x10, 0xb8]) }, udp({ sport, dport, payload, noChecksum: d.chance(0.1), checksumError: d.chance(0.05) ? 7 : 0 }))));
    const r = d.int(0, 9);
    if (r <= 4) {
      out.push(frameFrom(c, ends.from, ipv4({ src: ends.from, dst: ends.to, id: nextId(c, ends.from) }, udp({ sport: ends.fromPort, dport: sport, payload: ascii('r'.repeat(d.pick([1, 40]))) }))));
    } else if (r <= 6) out.push(icmpErrorAbout(c, c.sent[c.sent.length - 1]!));
  }
  return out;
}

function pingFlow(c: FlowCtx): Frame[] {
  const d = c.d;
  const client = pickClient(d);
  const server = d.chance(0.15) ? d.pick(['10.0.0.255', '10.0.1.255', '255.255.255.255']) : pickServer(d, client);
  const id = c.nextPort++;
  const ends = replyEnds(c, client, server, 0);
  const out: Frame[] = [];
  const n = d.int(1, 3);
  for (let seq = 1; seq <= n; seq++) {
    const type = d.weighted([
      [10, 8],
      [1, 13],
      [1, 0],
    ]);
    const payload = type === 13 ? new Uint8Array(12) : ascii('p'.repeat(d.pick([0, 8, 56])));
    const bcast = server.endsWith('.255');
    out.push(frameFrom(c, client, ipv4({ src: client, dst: server, id: nextId(c, client), ttl: d.weighted([[10, 64], [1, 1]]) }, icmp({ type, id, seq, payload })), bcast ? { dstMac: 'ff:ff:ff:ff:ff:ff' } : {}));
    if (!bcast && d.chance(0.5)) {
      out.push(frameFrom(c, ends.from, ipv4({ src: ends.from, dst: ends.to, id: nextId(c, ends.from) }, icmp({ type: type === 13 ? 14 : 0, id, seq, payload: type === 13 ? new Uint8Array(12) : payload }))));
    }
  }
  return out;
}

/** An ICMP error about a packet sent earlier, from its destination (or a router), as it would have arrived there. */
function icmpErrorAbout(c: FlowCtx, about: { packet: Uint8Array; from: string }): Frame {
  const d = c.d;
  const q = about.packet.slice();
  const dst = `${q[16]}.${q[17]}.${q[18]}.${q[19]}`;
  let origSrc = `${q[12]}.${q[13]}.${q[14]}.${q[15]}`;
  // The quoted packet as the far side saw it: one hop less, maybe source-NATed.
  if (q[8]! > 1) q[8] = q[8]! - 1;
  if (c.nat.snatAddrs.length && d.chance(0.5)) {
    origSrc = d.pick(c.nat.snatAddrs);
    q.set(origSrc.split('.').map(Number), 12);
  }
  refreshIpChecksum(q);
  const errorFrom = [DUT_A, DUT_B].includes(dst) || dst.endsWith('.255') || dst === '10.0.1.3' ? (ifaceOf(about.from) === 'eth0' ? SIDE_B[0] : SIDE_A[0]) : d.chance(0.8) ? dst : d.pick(ifaceOf(dst) === 'eth1' ? ['10.0.1.2'] : ['10.0.0.2']);
  const [type, code] = d.pick([
    [3, 3],
    [3, 1],
    [3, 13],
    [3, 4],
    [11, 0],
    [12, 0],
    [4, 0],
  ] as const);
  const quote = d.chance(0.5) ? q.subarray(0, Math.min(q.length, ((q[0]! & 15) * 4) + 8)) : q;
  const packet = ipv4({ src: errorFrom, dst: origSrc, id: nextId(c, errorFrom), tos: 0xc0 }, icmp({ type, code, rest: type === 3 && code === 4 ? 1400 : 0, payload: quote }));
  return frameFrom(c, errorFrom, packet);
}

function refreshIpChecksum(p: Uint8Array): void {
  const ihl = (p[0]! & 15) * 4;
  p[10] = 0;
  p[11] = 0;
  let sum = 0;
  for (let i = 0; i < ihl; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  p[10] = c >> 8;
  p[11] = c & 0xff;
}

/** A UDP or ICMP datagram cut into fragments, sent in order or not, sometimes incomplete. */
function fragmentFlow(c: FlowCtx): Frame[] {
  const d = c.d;
  const client = pickClient(d);
  const server = pickServer(d, client);
  const id = nextId(c, client);
  const l4: L4 = d.chance(0.5)
    ? udp({ sport: c.nextPort++, dport: d.pick(SERVICE_PORTS), payload: ascii('f'.repeat(d.pick([40, 100, 300]))) })
    : icmp({ type: 8, id: c.nextPort++, seq: 1, payload: ascii('g'.repeat(d.pick([40, 100, 300]))) });
  const whole = ipv4({ src: client, dst: server, id }, l4);
  const body = whole.subarray(20);
  const pieceLen = d.pick([16, 24, 48]);
  const pieces: Uint8Array[] = [];
  for (let off = 0; off < body.length; off += pieceLen) {
    const part = body.subarray(off, Math.min(off + pieceLen, body.length));
    const more = off + pieceLen < body.length;
    pieces.push(ipv4({ src: client, dst: server, id, mf: more, fragOffset: off / 8, proto: whole[9]! }, rawL4(whole[9]!, part)));
  }
  let order = pieces.map((_, i) => i);
  const r = d.int(0, 5);
  if (r === 1) order.reverse();
  else if (r === 2) order = [order[order.length - 1]!, ...order.slice(0, -1)];
  else if (r === 3 && order.length > 2) order = order.filter((i) => i !== 1);
  else if (r === 4) order = [...order, order[0]!];
  return order.map((i) => frameFrom(c, client, pieces[i]!));
}

/** Odd frames: other protocols, bad headers, broadcasts, ARP, frames for another MAC address. */
function oddFrame(c: FlowCtx): Frame[] {
  const d = c.d;
  const client = pickClient(d);
  const server = pickServer(d, client);
  const id = nextId(c, client);
  switch (d.int(0, 8)) {
    case 0: {
      const proto = d.pick([47, 132, 132, 50, 99]);
      const l4 = proto === 132 ? sctpInit(c.nextPort++, d.pick(SERVICE_PORTS), d.chance(0.7)) : rawL4(proto, ascii('raw-payload!'));
      return [frameFrom(c, client, ipv4({ src: client, dst: server, id }, l4))];
    }
    case 1:
      return [frameFrom(c, client, ipv4({ src: client, dst: server, id, checksumError: 1 }, udp({ sport: c.nextPort++, dport: 53 })))];
    case 2:
      // A source that is the machine's own address, or a broadcast.
      return [frameFrom(c, client, ipv4({ src: d.pick([DUT_A, DUT_B, c.avoid.broadcastSources ? '0.0.0.0' : '10.0.0.255', '0.0.0.0', '127.0.0.1']), dst: server, id }, udp({ sport: c.nextPort++, dport: 53 })))];
    case 3: {
      // IP options: record route, or a router alert.
      const opts = d.chance(0.5) ? new Uint8Array([7, 7, 4, 0, 0, 0, 0, 1]) : new Uint8Array([0x94, 4, 0, 0]);
      return [frameFrom(c, client, ipv4({ src: client, dst: server, id, options: opts }, tcp({ sport: c.nextPort++, dport: d.pick(SERVICE_PORTS) })))];
    }
    case 4: {
      const f = frameFrom(c, client, ipv4({ src: client, dst: server, id }, icmp({ type: 8, id: c.nextPort++, seq: 1 })), { dstMac: '02:00:00:00:00:99' });
      return [f];
    }
    case 5: {
      const iface = ifaceOf(client);
      const target = d.pick(iface === 'eth0' ? [DUT_A, DUT_B, '10.0.0.9'] : [DUT_B, DUT_A, '10.0.1.9']);
      const peer = iface === 'eth0' ? '02:00:00:00:00:02' : '02:00:00:00:01:02';
      const sender = iface === 'eth0' ? SIDE_A[0] : SIDE_B[0];
      return [toDut(iface, arp({ op: 'request', senderMac: peer, senderIp: sender, targetIp: target }), { type: 0x0806, dst: 'ff:ff:ff:ff:ff:ff' })];
    }
    case 6:
      // A TCP header cut short, or a total length beyond the frame.
      return [
        d.chance(0.5)
          ? frameFrom(c, client, ipv4({ src: client, dst: server, id, proto: 6 }, rawL4(6, new Uint8Array([0x75, 0x30, 0, 22, 0, 0]))))
          : frameFrom(c, client, ipv4({ src: client, dst: server, id, totalLength: 200 }, udp({ sport: c.nextPort++, dport: 53 }))),
      ];
    case 7:
      return [frameFrom(c, client, ipv4({ src: client, dst: server, id, ttl: d.pick([0, 1]) }, tcp({ sport: c.nextPort++, dport: d.pick(SERVICE_PORTS) })))];
    default:
      if (c.sent.length) return [icmpErrorAbout(c, d.pick(c.sent))];
      return [];
  }
}

/** CRC32c (Castagnoli, reflected), SCTP's checksum. */
export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

/** An SCTP packet with one INIT chunk; `valid` false spoils its checksum. */
export function sctpInit(sport: number, dport: number, valid: boolean): L4 {
  const b = new Uint8Array(32);
  const v = new DataView(b.buffer);
  v.setUint16(0, sport);
  v.setUint16(2, dport);
  b[12] = 1; // INIT
  v.setUint16(14, 20);
  v.setUint32(16, 0x12345678); // initiate tag
  v.setUint32(20, 65536); // advertised receiver window
  v.setUint16(24, 10); // outbound streams
  v.setUint16(26, 10); // inbound streams
  v.setUint32(28, 1); // initial TSN
  v.setUint32(8, crc32c(b) ^ (valid ? 0 : 1), true);
  return rawL4(132, b);
}

/** Interleaves flows, keeping each flow's own order. */
function interleave(d: Dice, flows: Frame[][], limit: number): Frame[] {
  const out: Frame[] = [];
  const pos = flows.map(() => 0);
  while (out.length < limit) {
    const live = flows.map((_, i) => i).filter((i) => pos[i]! < flows[i]!.length);
    if (!live.length) break;
    const i = d.chance(0.6) ? live[0]! : d.pick(live);
    out.push(flows[i]![pos[i]!++]!);
  }
  return out;
}

/**
 * Behaviour the generator keeps out of scenarios because it still differs
 * (each is a known open difference of the fuzz test, with a reproducer
 * that must keep failing until the difference is fixed).
 */
export interface GenAvoid {
  /** Packets from a subnet's broadcast address (the machine answers them to that broadcast). */
  broadcastSources?: boolean;
  /** CT --zone-orig / --zone-reply (a zone for one direction only). */
  directionalZones?: boolean;
  /**
   * Several ARP retries due in the same second (scenarios with the long
   * pause give every address a permanent neighbour entry instead).
   */
  timerOrder?: boolean;
}

/** Options of genScenario. */
export interface GenOptions {
  /** Frames per scenario. */
  frames: number;
  avoid?: GenAvoid;
}

/** One random scenario. */
export function genScenario(d: Dice, name: string, opts: GenOptions): PacketScenario {
  ruleSerial = 0;
  const { rules, nat } = genRules(d, opts.avoid);
  const setup = [...BASE_SETUP];
  if (d.chance(0.85)) setup.push('sysctl -w net.ipv4.ip_forward=1');
  if (d.chance(0.1)) setup.push('sysctl -w net.ipv4.conf.all.rp_filter=1');
  if (d.chance(0.1)) setup.push('sysctl -w net.netfilter.nf_conntrack_tcp_loose=0');
  if (d.chance(0.1)) setup.push('sysctl -w net.ipv4.icmp_echo_ignore_broadcasts=0');
  const c: FlowCtx = { d, nat, ipIds: new Map(), nextPort: 30000, sent: [], avoid: opts.avoid ?? {} };
  const flows: Frame[][] = [];
  let total = 0;
  while (total < opts.frames) {
    const kind = d.weighted<() => Frame[]>([
      [40, () => tcpFlow(c)],
      [20, () => udpFlow(c)],
      [15, () => pingFlow(c)],
      [7, () => fragmentFlow(c)],
      [12, () => oddFrame(c)],
    ]);
    const f = kind();
    flows.push(f);
    total += f.length;
  }
  const frames = interleave(d, flows, opts.frames);
  let finalRules = rules;
  if (/ -m connlimit /.test(rules)) {
    // connlimit collects its lists at most once per jiffy: which frames share
    // a jiffy must not matter, so each gets its own (10 ms apart; the
    // kernel's jiffies may lag its clock by a tick on a busy machine). Over
    // those 400 ms rates must not refill mid-scenario (per minute, not per
    // second) and redirect backoff (40 ms, 80 ms, ...) must not come into play.
    for (const f of frames.slice(1)) f.gapMs = 10;
    finalRules = rules.replace(/(--(?:limit|hashlimit-upto|hashlimit-above) \d+)\/(second|sec)\b/g, '$1/minute');
    for (const dev of ['all', 'eth0', 'eth1']) setup.push(`sysctl -w net.ipv4.conf.${dev}.send_redirects=0`);
  }
  if (frames.length > 4 && d.chance(0.15)) {
    // Short conntrack timeouts and one pause longer than them: entries expire mid-scenario.
    for (const t of ['udp_timeout', 'icmp_timeout', 'generic_timeout', 'tcp_timeout_syn_sent', 'tcp_timeout_syn_recv', 'tcp_timeout_close']) {
      setup.push(`sysctl -w net.netfilter.nf_conntrack_${t}=1`);
    }
    frames[d.int(1, frames.length - 1)]!.gapMs = 1600;
    if (opts.avoid?.timerOrder) {
      for (const a of ['10.0.0.9']) setup.push(`ip neigh add ${a} lladdr 02:00:00:00:00:02 dev eth0 nud permanent`);
      for (const a of ['10.0.1.3', '10.0.1.9', '10.0.1.20', '10.0.1.21', '10.0.1.22', '10.0.1.23']) setup.push(`ip neigh add ${a} lladdr 02:00:00:00:01:02 dev eth1 nud permanent`);
    }
  }
  return { name, setup, rules: finalRules, frames };
}

/** The arbitrary of scenarios (named by the caller). */
export function scenarioArbitrary(name: string, opts: GenOptions): fc.Arbitrary<PacketScenario> {
  return fc.gen().map((g) => genScenario(new Dice(g), name, opts));
}

/** The scenario a seed gives: the same seed always gives the same scenario. */
export function scenarioFromSeed(seed: number, name: string, opts: GenOptions): PacketScenario {
  return fc.sample(scenarioArbitrary(name, opts), { seed, numRuns: 1 })[0]!;
}
