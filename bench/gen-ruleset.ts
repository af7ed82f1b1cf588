/**
 * Deterministic generator of large, realistic IPv4 iptables-restore inputs for the benchmark.
 *
 * The output mixes what real firewalls contain: addresses with masks, interface names with and
 * without `+` wildcards, tcp/udp ports and port ranges, state/conntrack, multiport, comments,
 * limit, LOG, REJECT, user chains reached through jumps and gotos, and the raw, mangle, nat and
 * filter tables. Every rule respects the hook restrictions of its table and chain, so both the
 * nf_tables and the legacy iptables-restore accept the file.
 */

/** Options for {@link generateRuleset}. */
export interface GenOptions {
  /** Total number of `-A` rules to emit (all tables together). */
  rules: number;
  /** Seed of the pseudo-random generator; the same seed always gives the same text. */
  seed: number;
}

/** A small, fast, seedable pseudo-random generator (mulberry32). */
export class Rng {
  private state: number;

  /** Creates a generator from a 32-bit seed. */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Returns a float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Returns an integer in [lo, hi] (both included). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Returns true with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Returns one element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }
}

/** Which packets a chain sees: decides whether -i and/or -o make sense and which targets are valid. */
type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

/** A chain being generated: its name, the hook that reaches it and its rule lines. */
interface ChainPlan {
  name: string;
  hook: Hook;
  builtin: boolean;
  lines: string[];
}

/** Share of all rules that goes to each table. */
const TABLE_SHARE = { raw: 0.02, mangle: 0.08, nat: 0.1, filter: 0.8 } as const;

const COMMON_PORTS = [
  20, 21, 22, 23, 25, 53, 67, 68, 80, 110, 123, 137, 138, 139, 143, 161, 389, 443, 445, 465, 514,
  587, 636, 873, 993, 995, 1194, 1433, 1521, 2049, 3128, 3306, 3389, 5060, 5432, 5900, 6379, 6443,
  8000, 8080, 8443, 9000, 9090, 9100, 10250, 11211, 27017,
];
const IN_IFACES = ['eth0', 'eth1', 'eth1.96', 'eth1.1011', 'ens3', 'enp0s31f6', 'wlan0', 'br0', 'bond0', 'vlan+', 'tap+', 'veth+'];
const OUT_IFACES = ['eth0', 'eth2', 'eth1.97', 'eth1.1024', 'ens4', 'ppp0', 'wg0', 'tun0', 'docker0', 'br-+', 'vif+'];
const STATES = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'NEW,ESTABLISHED', 'RELATED,ESTABLISHED', 'NEW,RELATED,ESTABLISHED'];
const CT_STATES = ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'DNAT', 'SNAT', 'RELATED,ESTABLISHED', 'NEW,UNTRACKED'];
const LIMITS = ['1/sec', '5/sec', '10/s', '3/min', '30/minute', '100/hour', '2/day'];
const LOG_LEVELS = ['4', '6', 'info', 'warning', 'debug', '7'];
const REJECTS_ANY = ['icmp-port-unreachable', 'icmp-host-unreachable', 'icmp-net-unreachable', 'icmp-admin-prohibited', 'icmp-proto-unreachable'];
const ICMP_TYPES = ['echo-request', 'echo-reply', 'destination-unreachable', 'time-exceeded', 'parameter-problem', '3/4', '8', 'redirect'];
const WORDS = ['web', 'dns', 'mail', 'backup', 'monitor', 'vpn', 'db', 'ldap', 'ntp', 'ssh', 'office', 'lab', 'guest', 'printer', 'k8s', 'ceph', 'nfs', 'voip'];

/** Emits a dotted IPv4 address from a 32-bit number. */
function dotted(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** Returns an address with a mask; mostly host routes and usual prefixes, host bits cleared. */
function addr(rng: Rng): string {
  const base = rng.pick([0x0a000000, 0xac100000, 0xc0a80000, 0x839f0000, 0x5b000000, 0xbc5fe900]);
  const raw = (base + rng.int(0, 0xffff)) >>> 0;
  const len = rng.pick([32, 32, 32, 32, 31, 30, 29, 28, 27, 26, 25, 24, 24, 24, 23, 22, 20, 16, 16, 12, 8]);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  const net = (raw & mask) >>> 0;
  if (len === 32) return rng.chance(0.5) ? dotted(net) : `${dotted(net)}/32`;
  // Now and then the dotted-mask form, which the tools normalise to a prefix length.
  if (rng.chance(0.05)) return `${dotted(net)}/${dotted(mask)}`;
  return `${dotted(net)}/${len}`;
}

/** Returns one port or a port range. */
function port(rng: Rng): string {
  if (rng.chance(0.15)) {
    const lo = rng.int(1024, 60000);
    return `${lo}:${lo + rng.int(1, 5000)}`;
  }
  return String(rng.pick(COMMON_PORTS));
}

/** Returns a multiport list that stays within the 15-port limit (a range counts twice). */
function portList(rng: Rng): string {
  const parts: string[] = [];
  let used = 0;
  const want = rng.int(2, 8);
  while (parts.length < want && used < 13) {
    if (rng.chance(0.15)) {
      const lo = rng.int(1024, 50000);
      parts.push(`${lo}:${lo + rng.int(1, 999)}`);
      used += 2;
    } else {
      parts.push(String(rng.pick(COMMON_PORTS)));
      used += 1;
    }
  }
  return parts.join(',');
}

/** Returns a quoted comment; some contain spaces, a few contain escaped quotes. */
function comment(rng: Rng, serial: number): string {
  const w = rng.pick(WORDS);
  switch (rng.int(0, 3)) {
    case 0:
      return `-m comment --comment ${w}-${serial}`;
    case 1:
      return `-m comment --comment "allow ${w} for ticket #${serial}"`;
    case 2:
      return `-m comment --comment "${w}: managed by ansible"`;
    default:
      return `-m comment --comment "rule ${serial} \\"${w}\\""`;
  }
}

/** Returns the interface part that suits a hook (never -i on OUTPUT/POSTROUTING, never -o on PREROUTING/INPUT). */
function ifaces(rng: Rng, hook: Hook): string {
  const parts: string[] = [];
  const canIn = hook === 'PREROUTING' || hook === 'INPUT' || hook === 'FORWARD';
  const canOut = hook === 'OUTPUT' || hook === 'POSTROUTING' || hook === 'FORWARD';
  if (canIn && rng.chance(0.45)) parts.push(`${rng.chance(0.05) ? '! ' : ''}-i ${rng.pick(IN_IFACES)}`);
  if (canOut && rng.chance(0.4)) parts.push(`${rng.chance(0.05) ? '! ' : ''}-o ${rng.pick(OUT_IFACES)}`);
  return parts.join(' ');
}

/** Protocol and port matches; returns the text and the protocol chosen ('' when none). */
function protoPart(rng: Rng): { text: string; proto: string } {
  const r = rng.next();
  if (r < 0.45) {
    const bits: string[] = ['-p tcp'];
    if (rng.chance(0.25)) {
      bits.push(`-m multiport ${rng.pick(['--dports', '--dports', '--sports', '--ports'])} ${portList(rng)}`);
    } else {
      bits.push('-m tcp');
      if (rng.chance(0.2)) bits.push(`--sport ${port(rng)}`);
      if (rng.chance(0.85)) bits.push(`${rng.chance(0.04) ? '! ' : ''}--dport ${port(rng)}`);
      if (rng.chance(0.08)) bits.push(rng.pick(['--syn', '! --syn', '--tcp-flags SYN,RST,ACK,FIN SYN', '--tcp-flags ALL NONE']));
    }
    return { text: bits.join(' '), proto: 'tcp' };
  }
  if (r < 0.7) {
    const bits: string[] = ['-p udp'];
    if (rng.chance(0.15)) {
      bits.push(`-m multiport --dports ${portList(rng)}`);
    } else {
      bits.push('-m udp');
      if (rng.chance(0.3)) bits.push(`--sport ${port(rng)}`);
      if (rng.chance(0.8)) bits.push(`--dport ${port(rng)}`);
    }
    return { text: bits.join(' '), proto: 'udp' };
  }
  if (r < 0.78) return { text: `-p icmp -m icmp --icmp-type ${rng.pick(ICMP_TYPES)}`, proto: 'icmp' };
  if (r < 0.8) return { text: rng.pick(['-p gre', '-p esp', '-p 41', '-p ah']), proto: 'other' };
  return { text: '', proto: '' };
}

/** State or conntrack match, or nothing. */
function statePart(rng: Rng): string {
  const r = rng.next();
  if (r < 0.15) return `-m state --state ${rng.pick(STATES)}`;
  if (r < 0.3) return `-m conntrack ${rng.chance(0.05) ? '! ' : ''}--ctstate ${rng.pick(CT_STATES)}`;
  return '';
}

/** Joins non-empty parts with single spaces. */
function join(parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ');
}

/** Source/destination part. */
function addrPart(rng: Rng): string {
  const parts: string[] = [];
  if (rng.chance(0.6)) parts.push(`${rng.chance(0.05) ? '! ' : ''}-s ${addr(rng)}`);
  if (rng.chance(0.45)) parts.push(`${rng.chance(0.05) ? '! ' : ''}-d ${addr(rng)}`);
  return parts.join(' ');
}

/** A rule of the filter table: matches plus a verdict, LOG, REJECT or (when given) a jump. */
function filterRule(rng: Rng, hook: Hook, serial: number, jumpTo: string | null): string {
  const p = protoPart(rng);
  const parts = [addrPart(rng), ifaces(rng, hook), p.text, statePart(rng)];
  if (rng.chance(0.04)) parts.push(`-m addrtype --dst-type ${rng.pick(['LOCAL', 'BROADCAST', 'MULTICAST', 'UNICAST'])}`);
  if (rng.chance(0.02)) parts.push(`-m mark --mark 0x${rng.int(1, 255).toString(16)}/0xff`);
  let target: string;
  if (jumpTo !== null) {
    target = `${rng.chance(0.1) ? '-g' : '-j'} ${jumpTo}`;
  } else {
    const t = rng.next();
    if (t < 0.4) target = '-j ACCEPT';
    else if (t < 0.62) target = '-j DROP';
    else if (t < 0.7) target = '-j RETURN';
    else if (t < 0.8) {
      const opts = p.proto === 'tcp' && rng.chance(0.5) ? 'tcp-reset' : rng.pick(REJECTS_ANY);
      target = rng.chance(0.2) ? '-j REJECT' : `-j REJECT --reject-with ${opts}`;
    } else if (t < 0.97) {
      if (rng.chance(0.6)) {
        // Legacy xt_limit refuses rate * burst above 2^32 in its units: keep slow rates' bursts small.
        const rate = rng.pick(LIMITS);
        const maxBurst = rate.endsWith('day') ? 2 : 50;
        parts.push(`-m limit --limit ${rate}${rng.chance(0.5) ? ` --limit-burst ${rng.int(1, maxBurst)}` : ''}`);
      }
      const bits = ['-j LOG'];
      if (rng.chance(0.8)) bits.push(`--log-prefix "${rng.pick(['DROP', 'ACCEPT', 'INVALID', 'SCAN', 'FW'])}-${serial % 1000}: "`);
      if (rng.chance(0.5)) bits.push(`--log-level ${rng.pick(LOG_LEVELS)}`);
      if (rng.chance(0.1)) bits.push('--log-tcp-options');
      if (rng.chance(0.1)) bits.push('--log-uid');
      target = bits.join(' ');
    } else {
      target = '';
    }
  }
  if (rng.chance(0.12)) parts.push(comment(rng, serial));
  return join([...parts, target]);
}

/** A rule of the nat table, valid for the hook given. */
function natRule(rng: Rng, hook: Hook, serial: number, jumpTo: string | null): string {
  const p = protoPart(rng);
  const ported = p.proto === 'tcp' || p.proto === 'udp';
  const parts = [addrPart(rng), ifaces(rng, hook), p.text];
  if (rng.chance(0.08)) parts.push(comment(rng, serial));
  let target: string;
  const host = dotted((0x0a000000 + rng.int(1, 0xfffff)) >>> 0);
  if (jumpTo !== null) target = `-j ${jumpTo}`;
  else if (rng.chance(0.1)) target = '-j RETURN';
  else if (hook === 'PREROUTING' || hook === 'OUTPUT') {
    if (ported && rng.chance(0.2)) target = `-j REDIRECT --to-ports ${rng.int(1024, 65000)}`;
    else target = `-j DNAT --to-destination ${host}${ported && rng.chance(0.6) ? `:${rng.pick(COMMON_PORTS)}` : ''}`;
  } else if (hook === 'POSTROUTING') {
    if (rng.chance(0.3)) target = `-j MASQUERADE${ported && rng.chance(0.2) ? ` --to-ports ${rng.int(1024, 30000)}-${rng.int(30001, 65000)}` : ''}`;
    else target = `-j SNAT --to-source ${host}${rng.chance(0.2) ? `-${dotted((0x0a100000 + rng.int(0, 0xffff)) >>> 0)}` : ''}`;
  } else {
    target = `-j SNAT --to-source ${host}`;
  }
  return join([...parts, target]);
}

/** A rule of the mangle table. */
function mangleRule(rng: Rng, hook: Hook, serial: number, jumpTo: string | null): string {
  const p = protoPart(rng);
  const parts = [addrPart(rng), ifaces(rng, hook)];
  if (jumpTo !== null) return join([...parts, p.text, `-j ${jumpTo}`]);
  const t = rng.next();
  let target: string;
  if (t < 0.35) target = `-j MARK --set-xmark 0x${rng.int(1, 0xffff).toString(16)}/0xffffffff`;
  else if (t < 0.5) target = `-j MARK --set-mark 0x${rng.int(1, 0xff).toString(16)}/0xff`;
  else if (t < 0.65) target = rng.pick(['-j CONNMARK --save-mark', '-j CONNMARK --restore-mark', `-j CONNMARK --set-mark ${rng.int(1, 100)}`]);
  else if (t < 0.8) target = `-j DSCP --set-dscp ${rng.int(0, 63)}`;
  else if (t < 0.9 && (hook === 'FORWARD' || hook === 'OUTPUT' || hook === 'POSTROUTING')) {
    return join([...parts, '-p tcp -m tcp --tcp-flags SYN,RST SYN', rng.chance(0.5) ? '-j TCPMSS --clamp-mss-to-pmtu' : `-j TCPMSS --set-mss ${rng.int(536, 1460)}`]);
  } else target = rng.chance(0.5) ? '-j ACCEPT' : '-j RETURN';
  if (rng.chance(0.2)) parts.push(`-m mark ${rng.chance(0.1) ? '! ' : ''}--mark 0x${rng.int(1, 0xff).toString(16)}`);
  if (rng.chance(0.05)) parts.push(comment(rng, serial));
  return join([...parts, p.text, target]);
}

/** A rule of the raw table. */
function rawRule(rng: Rng, hook: Hook, serial: number, jumpTo: string | null): string {
  const p = protoPart(rng);
  const parts = [addrPart(rng), ifaces(rng, hook), p.text];
  if (rng.chance(0.05)) parts.push(comment(rng, serial));
  let target: string;
  if (jumpTo !== null) target = `-j ${jumpTo}`;
  else if (rng.chance(0.6)) target = '-j CT --notrack';
  else if (rng.chance(0.5)) target = '-j NOTRACK';
  else target = rng.pick(['-j ACCEPT', '-j DROP', '-j RETURN']);
  return join([...parts, target]);
}

/** Rule factory per table. */
type RuleFn = (rng: Rng, hook: Hook, serial: number, jumpTo: string | null) => string;

/** Description of one table: its built-in chains and how to make its rules. */
interface TableSpec {
  name: string;
  builtins: Hook[];
  rule: RuleFn;
  /** How many rules a user chain holds on average. */
  chainSize: number;
  /** Prefix of user chain names. */
  prefix: string;
}

const TABLES: TableSpec[] = [
  { name: 'raw', builtins: ['PREROUTING', 'OUTPUT'], rule: rawRule, chainSize: 40, prefix: 'notrack_' },
  { name: 'mangle', builtins: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'], rule: mangleRule, chainSize: 25, prefix: 'qos_' },
  { name: 'nat', builtins: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'], rule: natRule, chainSize: 12, prefix: 'NAT-' },
  { name: 'filter', builtins: ['INPUT', 'FORWARD', 'OUTPUT'], rule: filterRule, chainSize: 60, prefix: '' },
];

/** User chain name for the filter table: a mix of styles seen in real dumps. */
function filterChainName(hook: Hook, i: number): string {
  switch (i % 4) {
    case 0:
      return `${hook.toLowerCase()}_zone_${i}`;
    case 1:
      return `SVC-${hook.slice(0, 3)}-${((i * 2654435761) >>> 0).toString(36).toUpperCase().slice(0, 5)}${i}`;
    case 2:
      return `filter_${1000 + i}`;
    default:
      return `LOG_${hook}_${i}`;
  }
}

/** Builds one table's text with `count` rules. */
function buildTable(rng: Rng, spec: TableSpec, count: number, serialBase: number): string {
  const nUser = Math.max(1, Math.round(count / spec.chainSize));
  const builtins: ChainPlan[] = spec.builtins.map((h) => ({ name: h, hook: h, builtin: true, lines: [] }));
  const users: ChainPlan[] = [];
  for (let i = 0; i < nUser; i++) {
    const hook = rng.pick(spec.builtins);
    const name = spec.name === 'filter' ? filterChainName(hook, i) : `${spec.prefix}${hook.toLowerCase()}_${i}`;
    users.push({ name, hook, builtin: false, lines: [] });
  }
  const byHook = new Map<Hook, ChainPlan[]>();
  for (const u of users) {
    const list = byHook.get(u.hook) ?? [];
    list.push(u);
    byHook.set(u.hook, list);
  }
  let serial = serialBase;
  let made = 0;
  // Two levels, as in kube-proxy or shorewall dumps: built-in chain -> dispatch chain -> leaf chain.
  // The first third of each hook's chains are dispatch chains jumped to from the built-in chain; the
  // rest are leaves, each jumped to from one dispatch chain. Leaves jump nowhere, which keeps the
  // graph shallow (the kernel's loop check walks every path without memo, so deep DAGs explode).
  const dispatchOf = new Map<ChainPlan, ChainPlan[]>();
  for (const [hook, peers] of byHook) {
    const parent = builtins.find((b) => b.hook === hook) as ChainPlan;
    const nDispatch = Math.max(1, Math.ceil(peers.length / 3));
    const dispatch = peers.slice(0, nDispatch);
    for (const d of dispatch) {
      parent.lines.push(`-A ${parent.name} ${spec.rule(rng, hook, serial++, d.name)}`);
      made++;
      dispatchOf.set(d, []);
    }
    for (const leaf of peers.slice(nDispatch)) {
      const d = rng.pick(dispatch);
      (dispatchOf.get(d) as ChainPlan[]).push(leaf);
      d.lines.push(`-A ${d.name} ${spec.rule(rng, hook, serial++, leaf.name)}`);
      made++;
    }
  }
  const remaining = count - made;
  const builtinShare = Math.floor(remaining * 0.1);
  for (let i = 0; i < builtinShare; i++) {
    const b = rng.pick(builtins);
    b.lines.push(`-A ${b.name} ${spec.rule(rng, b.hook, serial++, null)}`);
  }
  const left = remaining - builtinShare;
  for (let i = 0; i < left; i++) {
    const u = users[rng.int(0, users.length - 1)] as ChainPlan;
    const kids = dispatchOf.get(u);
    // A dispatch chain now and then jumps again to one of its own leaves (a second entry point).
    const jump = kids !== undefined && kids.length > 0 && rng.chance(0.03) ? rng.pick(kids).name : null;
    u.lines.push(`-A ${u.name} ${spec.rule(rng, u.hook, serial++, jump)}`);
  }
  const out: string[] = [`*${spec.name}`];
  for (const b of builtins) out.push(`:${b.name} ${spec.name === 'filter' && b.name !== 'OUTPUT' ? 'DROP' : 'ACCEPT'} [0:0]`);
  for (const u of users) out.push(`:${u.name} - [0:0]`);
  for (const b of builtins) out.push(...b.lines);
  for (const u of users) out.push(...u.lines);
  out.push('COMMIT');
  return out.join('\n');
}

/** Generates a complete iptables-restore input (IPv4) with exactly `opts.rules` rules. */
export function generateRuleset(opts: GenOptions): string {
  const rng = new Rng(opts.seed);
  const out: string[] = [`# nflab benchmark ruleset: ${opts.rules} rules, seed ${opts.seed}`];
  let assigned = 0;
  let serialBase = 1;
  TABLES.forEach((spec, i) => {
    const share = TABLE_SHARE[spec.name as keyof typeof TABLE_SHARE];
    const n = i === TABLES.length - 1 ? opts.rules - assigned : Math.round(opts.rules * share);
    assigned += n;
    out.push(buildTable(rng, spec, n, serialBase));
    serialBase += n;
  });
  return out.join('\n') + '\n';
}
