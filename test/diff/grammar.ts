/**
 * A fast-check grammar of iptables command sequences for the differential
 * fuzz test: mostly valid command lines (tables, built-in and user chains,
 * every command, address/port/interface forms, a handful of extensions and
 * targets) with a steady share of broken ones (unknown options, missing or bad
 * values, wrong chains, odd `!`), so both the accepting and the refusing
 * paths of the parser are compared.
 */
import fc from 'fast-check';
import type { Case, Step } from './types.js';

/** The fixed seed used when NFLAB_FUZZ_SEED is not set ("nfla"). */
export const DEFAULT_FUZZ_SEED = 0x6e666c61;

type Words = fc.Arbitrary<string[]>;

const TABLES = ['filter', 'nat', 'mangle', 'raw', 'security'] as const;
type Table = (typeof TABLES)[number];

const BUILTIN: Record<Table, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** User chains the sequences create, jump to, rename and delete. */
const USER_CHAINS = ['FOO', 'BAR', 'web-in'];
/** Chain names that are wrong in some way. */
const ODD_CHAINS = ['NOPE', 'input', 'PREROUTING', 'A'.repeat(29), 'A'.repeat(28), '-bad', 'has space', '!neg', 'ACCEPT', 'DROP', 'RETURN'];

/** A word list with probability `p` of being present. */
function maybe(arb: Words, freq = 1, emptyFreq = 2): Words {
  return fc.oneof({ arbitrary: fc.constant([] as string[]), weight: emptyFreq }, { arbitrary: arb, weight: freq });
}

/** Prefixes `!` (before the option) sometimes. */
function negatable(arb: Words): Words {
  return fc.tuple(fc.constantFrom(false, false, false, true), arb).map(([neg, w]) => (neg ? ['!', ...w] : w));
}

const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.oneof(
  fc.constantFrom('10.0.0.1', '192.168.0.0', '192.168.1.10', '0.0.0.0', '127.0.0.1', '255.255.255.255', '8.8.8.8'),
  fc.tuple(octet, octet, octet, octet).map((o) => o.join('.')),
);
const address = fc.oneof(
  { arbitrary: ipv4, weight: 4 },
  { arbitrary: fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([a, l]) => `${a}/${l}`), weight: 4 },
  { arbitrary: fc.tuple(ipv4, fc.constantFrom('255.255.255.0', '255.0.255.0', '0.0.0.0', '255.255.255.255', '255.255.0.255')).map(([a, m]) => `${a}/${m}`), weight: 2 },
  { arbitrary: fc.constantFrom('localhost', 'vm', '10.0.0.1,10.0.0.2', '1.2.3.4/24,5.6.7.8', '10.1', '10', '0/0', '1.2.3.4/'), weight: 2 },
  { arbitrary: fc.constantFrom('1.2.3.256', '1.2.3.4/33', '1.2.3.4/-1', 'no.such.host.invalid', '', '1.2.3.4/255.255.256.0', '::1'), weight: 1 },
);

const port = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 65535 }).map(String), weight: 3 },
  { arbitrary: fc.constantFrom('ssh', 'http', 'https', 'domain', 'ntp', 'www', 'smtp'), weight: 2 },
  { arbitrary: fc.constantFrom('65536', '-1', 'nosuchservice', '', '0x16', '22a'), weight: 1 },
);
const portRange = fc.oneof(
  { arbitrary: port, weight: 3 },
  { arbitrary: fc.tuple(port, port).map(([a, b]) => `${a}:${b}`), weight: 2 },
  { arbitrary: fc.constantFrom(':1024', '1024:', ':', '10:5', '1:2:3'), weight: 1 },
);
const portList = fc.oneof(
  fc.array(portRange, { minLength: 1, maxLength: 4 }).map((ps) => ps.join(',')),
  fc.constantFrom('1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16', '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15', '80,', ',80'),
);

const iface = fc.oneof(
  { arbitrary: fc.constantFrom('eth0', 'lo', 'eth+', 'br-lan', 'wlan0', 'veth1234', 'e'), weight: 6 },
  { arbitrary: fc.constantFrom('+', 'x'.repeat(15), 'x'.repeat(16), 'a b', 'eth0:1', 'eth/0', ''), weight: 1 },
);

const protocol = fc.oneof(
  { arbitrary: fc.constantFrom('tcp', 'udp', 'icmp'), weight: 8 },
  { arbitrary: fc.constantFrom('all', '6', '17', '1', 'sctp', 'udplite', 'esp', 'ah', 'gre', 'TCP', '0', '47', 'ipv6-icmp'), weight: 2 },
  { arbitrary: fc.constantFrom('256', 'nosuchproto', '-1', ''), weight: 1 },
);

const tcpFlags = fc.constantFrom('SYN', 'ACK', 'FIN', 'RST', 'URG', 'PSH', 'ALL', 'NONE', 'SYN,ACK', 'SYN,RST,ACK,FIN', 'BOGUS');
const icmpType = fc.constantFrom('echo-request', 'echo-reply', '8', '0', '3/3', 'destination-unreachable', 'port-unreachable', 'any', 'nosuch', '255', '3/300', 'time-exceeded');
const stateList = fc
  .subarray(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'], { minLength: 1 })
  .map((s) => s.join(','));
const ctStateList = fc
  .subarray(['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED', 'SNAT', 'DNAT'], { minLength: 1 })
  .map((s) => s.join(','));

/** Protocol-specific options for a given `-p`, or an implicit/explicit `-m` of it. */
function protoOptions(proto: string): Words {
  if (proto === 'tcp' || proto === '6' || proto === 'TCP') {
    return fc
      .array(
        fc.oneof(
          negatable(fc.tuple(fc.constantFrom('--sport', '--dport', '--source-port', '--destination-port', '--dp', '--sp'), portRange).map(([o, p]) => [o, p])),
          fc.constant(['--syn']),
          negatable(fc.constant(['--syn'])),
          fc.tuple(tcpFlags, tcpFlags).map(([m, c]) => ['--tcp-flags', m, c]),
          fc.integer({ min: 0, max: 256 }).map((n) => ['--tcp-option', String(n)]),
        ),
        { maxLength: 2 },
      )
      .map((xs) => xs.flat());
  }
  if (proto === 'udp' || proto === '17') {
    return fc
      .array(negatable(fc.tuple(fc.constantFrom('--sport', '--dport'), portRange).map(([o, p]) => [o, p])), { maxLength: 2 })
      .map((xs) => xs.flat());
  }
  if (proto === 'icmp' || proto === '1') {
    return maybe(negatable(icmpType.map((t) => ['--icmp-type', t])), 2, 1);
  }
  return fc.constant([]);
}

/** `-m NAME opts`: the match extensions the fuzz covers. */
const matchExt: Words = fc.oneof(
  stateList.map((s) => ['-m', 'state', '--state', s]),
  negatable(stateList.map((s) => ['--state', s])).map((w) => ['-m', 'state', ...w]),
  ctStateList.map((s) => ['-m', 'conntrack', '--ctstate', s]),
  fc.tuple(protocol, address).map(([p, a]) => ['-m', 'conntrack', '--ctproto', p, '--ctorigsrc', a]),
  fc.constantFrom('--ctstatus', '--ctdir').chain((o) =>
    fc.constantFrom('EXPECTED', 'SEEN_REPLY', 'ASSURED', 'CONFIRMED', 'ORIGINAL', 'REPLY', 'NONE').map((v) => ['-m', 'conntrack', o, v]),
  ),
  fc.tuple(fc.constantFrom('--dports', '--sports', '--ports', '--destination-ports', '--dport'), portList).map(([o, l]) => ['-m', 'multiport', o, l]),
  fc
    .tuple(
      fc.oneof(fc.integer({ min: 0, max: 100 }).map(String), fc.constantFrom('x', '')),
      fc.constantFrom('', '/sec', '/second', '/s', '/minute', '/min', '/hour', '/h', '/day', '/d', '/fortnight'),
      maybe(fc.integer({ min: 0, max: 10001 }).map((b) => ['--limit-burst', String(b)])),
    )
    .map(([n, u, b]) => ['-m', 'limit', '--limit', `${n}${u}`, ...b]),
  fc.constantFrom('hello', 'ssh in', 'x'.repeat(256), 'x'.repeat(255), '', 'quote"in', "it's", '--not-an-option').map((c) => ['-m', 'comment', '--comment', c]),
  negatable(fc.constantFrom('0x1', '1', '0xff/0xff', '0x10/0xf0', '4294967295', '4294967296', 'abc', '1/').map((m) => ['--mark', m])).map((w) => ['-m', 'mark', ...w]),
  fc.constantFrom<string[]>(['-m', 'tcp', '--dport', '22'], ['-m', 'udp', '--sport', '53'], ['-m', 'icmp', '--icmp-type', '8'], ['-m', 'nosuchmatch'], ['-m']),
);

/** Targets: standard verdicts, user chains, and LOG/REJECT/MARK with options. */
function target(table: Table): Words {
  const common: Words[] = [
    fc.constantFrom('ACCEPT', 'DROP', 'RETURN', ...USER_CHAINS).map((t) => ['-j', t]),
    fc.constantFrom(...USER_CHAINS).map((t) => ['-g', t]),
    fc
      .tuple(
        maybe(fc.constantFrom('[IN] ', 'drop: ', 'x'.repeat(30), 'p'.repeat(29), '').map((p) => ['--log-prefix', p])),
        maybe(fc.constantFrom('4', 'warning', 'debug', 'emerg', '7', '8', 'info', 'alert').map((l) => ['--log-level', l])),
        maybe(fc.constantFrom<string[]>(['--log-tcp-sequence'], ['--log-tcp-options'], ['--log-ip-options'], ['--log-uid'], ['--log-macdecode'])),
      )
      .map(([p, l, f]) => ['-j', 'LOG', ...p, ...l, ...f]),
    fc.constantFrom<string[]>(['-j', 'NOSUCHTARGET'], ['-j'], ['-j', 'accept'], ['-j', 'LOG', '--log-level', 'loud']),
  ];
  if (table === 'filter') {
    common.push(
      maybe(
        fc
          .constantFrom('icmp-net-unreachable', 'icmp-host-unreachable', 'icmp-port-unreachable', 'icmp-proto-unreachable', 'icmp-net-prohibited', 'icmp-host-prohibited', 'icmp-admin-prohibited', 'tcp-reset', 'net-unreach', 'nosuch')
          .map((r) => ['--reject-with', r]),
        2,
        1,
      ).map((w) => ['-j', 'REJECT', ...w]),
    );
  }
  if (table === 'mangle') {
    common.push(
      fc
        .tuple(fc.constantFrom('--set-mark', '--set-xmark', '--and-mark', '--or-mark', '--xor-mark'), fc.constantFrom('1', '0x10', '0xff/0xf', '0x1/0x1', '4294967296', 'x'))
        .map(([o, v]) => ['-j', 'MARK', o, v]),
      fc.constant(['-j', 'MARK']),
    );
  }
  if (table === 'nat') common.push(fc.constantFrom<string[]>(['-j', 'MASQUERADE'], ['-j', 'DNAT', '--to-destination', '10.0.0.1'], ['-j', 'SNAT', '--to-source', '1.2.3.4']));
  return fc.oneof(...common);
}

/** Rule body: addresses, protocol + its options, interfaces, -f, extensions, a target. */
function ruleSpec(table: Table): Words {
  return fc
    .tuple(
      maybe(negatable(fc.tuple(fc.constantFrom('-s', '--source', '--src', '-d', '--destination', '--dst'), address).map(([o, a]) => [o, a]))),
      maybe(negatable(fc.tuple(fc.constantFrom('-s', '-d'), address).map(([o, a]) => [o, a])), 1, 6),
      maybe(negatable(fc.tuple(fc.constantFrom('-i', '-o', '--in-interface', '--out-interface'), iface).map(([o, i]) => [o, i])), 1, 3),
      fc.oneof({ arbitrary: fc.constant<string | undefined>(undefined), weight: 1 }, { arbitrary: protocol, weight: 2 }),
      fc.constantFrom(false, false, false, false, true),
      fc.array(matchExt, { maxLength: 2 }),
      fc.oneof({ arbitrary: target(table), weight: 8 }, { arbitrary: fc.constant([] as string[]), weight: 1 }),
      fc.constantFrom<string[]>([], [], [], [], [], [], [], [], ['-c', '10', '20'], ['-c', 'x', '1'], ['--bogus'], ['-x'], ['!'], ['extra']),
    )
    .chain(([a1, a2, io, proto, frag, exts, tgt, junk]) =>
      (proto === undefined ? fc.constant([] as string[]) : protoOptions(proto)).chain((popts) =>
        fc.constant([
          ...a1,
          ...a2,
          ...io,
          ...(proto === undefined ? [] : ['-p', proto, ...popts]),
          ...(frag ? ['-f'] : []),
          ...exts.flat(),
          ...tgt,
          ...junk,
        ]),
      ),
    );
}

function chainFor(table: Table): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...BUILTIN[table]), weight: 6 },
    { arbitrary: fc.constantFrom(...USER_CHAINS), weight: 3 },
    { arbitrary: fc.constantFrom(...ODD_CHAINS), weight: 1 },
  );
}

const ruleNum = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 4 }).map(String), weight: 6 },
  { arbitrary: fc.constantFrom('0', '-1', '99', 'x', '1x'), weight: 1 },
);

const listOpts = fc.subarray(['-n', '-v', '-x', '--line-numbers']);

/** One iptables command line (without the leading 'iptables'). */
const command: Words = fc
  .tuple(
    fc.constantFrom<Table>('filter', 'filter', 'filter', 'nat', 'mangle', 'raw', 'security'),
    fc.constantFrom(true, true, false),
  )
  .chain(([table, explicitFilter]) => {
    const t = table === 'filter' && !explicitFilter ? [] : ['-t', table];
    const chain = chainFor(table);
    const spec = ruleSpec(table);
    return fc
      .oneof(
        { arbitrary: fc.tuple(chain, spec).map(([c, s]) => ['-A', c, ...s]), weight: 12 },
        { arbitrary: fc.tuple(chain, maybe(ruleNum.map((n) => [n])), spec).map(([c, n, s]) => ['-I', c, ...n, ...s]), weight: 4 },
        { arbitrary: fc.tuple(chain, spec).map(([c, s]) => ['-D', c, ...s]), weight: 2 },
        { arbitrary: fc.tuple(chain, ruleNum).map(([c, n]) => ['-D', c, n]), weight: 2 },
        { arbitrary: fc.tuple(chain, ruleNum, spec).map(([c, n, s]) => ['-R', c, n, ...s]), weight: 2 },
        { arbitrary: fc.tuple(chain, spec).map(([c, s]) => ['-C', c, ...s]), weight: 2 },
        { arbitrary: fc.constantFrom(...USER_CHAINS, ...ODD_CHAINS).map((c) => ['-N', c]), weight: 3 },
        { arbitrary: maybe(chain.map((c) => [c]), 3, 1).map((c) => ['-X', ...c]), weight: 2 },
        { arbitrary: fc.tuple(chain, fc.constantFrom(...USER_CHAINS, ...ODD_CHAINS)).map(([a, b]) => ['-E', a, b]), weight: 1 },
        { arbitrary: fc.tuple(chain, fc.constantFrom('ACCEPT', 'DROP', 'ACCEPT', 'RETURN', 'FOO', 'REJECT')).map(([c, p]) => ['-P', c, p]), weight: 2 },
        { arbitrary: maybe(chain.map((c) => [c]), 1, 2).map((c) => ['-F', ...c]), weight: 2 },
        { arbitrary: fc.tuple(maybe(chain.map((c) => [c])), maybe(ruleNum.map((n) => [n]), 1, 3)).map(([c, n]) => ['-Z', ...c, ...(c.length ? n : [])]), weight: 1 },
        { arbitrary: fc.tuple(maybe(chain.map((c) => [c])), listOpts, fc.constantFrom<string[]>([], [], ['-Z'])).map(([c, o, z]) => ['-L', ...c, ...o, ...z]), weight: 5 },
        { arbitrary: fc.tuple(maybe(chain.map((c) => [c])), fc.subarray(['-v'])).map(([c, o]) => ['-S', ...c, ...o]), weight: 4 },
      )
      .map((words) => [...t, ...words]);
  });

/** A random case: optional user chains, then 1 to 8 commands. */
export const arbCase: fc.Arbitrary<Step[]> = fc
  .tuple(fc.subarray(USER_CHAINS.map((c) => ['iptables', '-N', c])), fc.array(command, { minLength: 1, maxLength: 8 }))
  .map(([setup, cmds]) => [...setup, ...cmds.map((w) => ['iptables', ...w])].map((argv) => ({ argv })));

/** `count` random cases from `seed`, named fuzz/<seed>/<index> (for the developer CLI). */
export function sampleSequences(seed: number, count: number): Case[] {
  return fc.sample(arbCase, { seed, numRuns: count }).map((steps, i) => ({ name: `fuzz/${seed}/${i}`, steps }));
}
