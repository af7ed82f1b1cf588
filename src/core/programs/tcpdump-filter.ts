/**
 * The capture filter language of tcpdump (libpcap's pcap-filter) for
 * Ethernet frames carrying IPv4 and ARP: primitives with qualifiers
 * (`[ip|arp|rarp|ether|tcp|udp] [src|dst|src or dst|src and dst]
 * [host|net|port|portrange] ID`, with names from the host's /etc/hosts
 * and services), protocol names, `less`/`greater`, broadcast and
 * multicast, `proto N`, byte comparisons (`tcp[tcpflags] & tcp-syn != 0`,
 * `ip[2:2] > 100`), and/or/not with parentheses, a bare ID after and/or
 * taking the qualifiers of the primitive before it, as pcap does.
 *
 * Compiling returns a predicate over a frame, or the error text libpcap
 * gives (tcpdump prints it after "tcpdump: "). As in BPF, reading past the
 * captured bytes rejects the whole packet.
 */
import { get16, get32 } from '../wire/bytes.js';

/** What a filter looks names up in (the host's /etc/hosts, services, /etc/ethers). */
export interface FilterNames {
  /** IPv4 addresses of a host name (/etc/hosts), empty when unknown. */
  hostAddrs(name: string): number[];
  /** Port of a service name for a protocol ('tcp' or 'udp'), or undefined. */
  servicePort(name: string, proto: 'tcp' | 'udp'): number | undefined;
  /** Network address of a name in /etc/networks, or undefined. */
  networkAddr?(name: string): number | undefined;
  /** The Ethernet address (six bytes) of a name in /etc/ethers, or undefined. */
  etherAddr?(name: string): Uint8Array | undefined;
}

/** A compiled filter: true when the frame (captured bytes, length on the wire) passes. */
export type FrameFilter = (data: Uint8Array, wireLen: number) => boolean;

/** Compiling's result: the filter, or libpcap's message for a bad expression. */
export type FilterResult = { ok: true; filter: FrameFilter } | { ok: false; error: string };

const ETH_IP = 0x0800;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const ETH_IP6 = 0x86dd;
/**
 * Where the EtherType and the network header are in a captured packet:
 * set for the link type of the filter being compiled (closures copy them
 * when they are built, so filters of several link types can coexist).
 */
let NL = 14;
let ET = 12;

/** The offsets of the EtherType (or protocol field) and the network header for a link type. */
function linkOffsets(linkType: number): { et: number; nl: number } {
  if (linkType === 276) return { et: 0, nl: 20 };
  if (linkType === 113) return { et: 14, nl: 16 };
  return { et: 12, nl: 14 };
}

class FilterError extends Error {}
class OutOfBounds extends Error {}
const OOB = new OutOfBounds();

/** A packet being filtered. */
interface Pkt {
  d: Uint8Array;
  len: number;
  /** Offset of the EtherType (the protocol field of cooked captures). */
  et: number;
  /** Offset of the network header. */
  nl: number;
}

type Pred = (p: Pkt) => boolean;

function ld8(p: Pkt, off: number): number {
  if (off < 0 || off >= p.d.length) throw OOB;
  return p.d[off]!;
}
function ld16(p: Pkt, off: number): number {
  if (off < 0 || off + 2 > p.d.length) throw OOB;
  return get16(p.d, off);
}
function ld32(p: Pkt, off: number): number {
  if (off < 0 || off + 4 > p.d.length) throw OOB;
  return get32(p.d, off);
}

// ------------------------------------------------------------------ expressions
// A compiled filter is a tree of tests. Each test compares one value read
// from the packet (named by `key`, as libpcap's optimizer numbers values)
// with a constant, the way a BPF jump does (jeq, jgt, jge); `sense` false
// negates it. The tree both runs on packets and is searched for a path
// that can pass, to refuse what libpcap's optimizer finds always false
// ("expression rejects all packets").

type Code = 'jeq' | 'jgt' | 'jge';

/** A node of a compiled filter. */
type Node =
  | { t: 'test'; key: string; code: Code; k: number; sense: boolean; read: (p: Pkt) => number }
  | { t: 'and' | 'or'; a: Node; b: Node }
  | { t: 'not'; a: Node }
  | { t: 'const'; v: boolean };

function test(key: string, code: Code, k: number, read: (p: Pkt) => number, sense = true): Node {
  return { t: 'test', key, code, k: k >>> 0, sense, read };
}
function eq(key: string, k: number, read: (p: Pkt) => number): Node {
  return test(key, 'jeq', k, read);
}
function and(a: Node, b: Node): Node {
  return { t: 'and', a, b };
}
function or(a: Node, b: Node): Node {
  return { t: 'or', a, b };
}
function not(a: Node): Node {
  return { t: 'not', a };
}
function constant(v: boolean): Node {
  return { t: 'const', v };
}

/** What a path through the tests has established: the jumps taken (value, code, constant, outcome). */
type Facts = readonly { key: string; code: Code; k: number; taken: boolean }[];

/** The outcome a test must have given `facts`, or undefined when they do not decide it (libpcap's fold_edge). */
function decided(facts: Facts, key: string, code: Code, k: number): boolean | undefined {
  for (const f of facts) {
    if (f.key !== key) continue;
    if (f.code === code && f.k === k) return f.taken;
    if (f.taken && f.code === 'jeq' && code === 'jeq') return false;
  }
  return undefined;
}

// ------------------------------------------------------------------ the jump graph
// The tree becomes a graph of jumps as libpcap generates it (each test
// jumps to the code for "true" or "false"), which is then simplified as
// its optimizer does: a jump whose test the tests before it decide goes
// straight to where that test would have sent it, and a test whose two
// jumps lead to the same place is dropped. What remains is what BPF runs:
// the same fields read in the same order, so a packet cut short is
// accepted or rejected as the kernel's filter would; a graph reduced to
// "reject" is libpcap's "expression rejects all packets".

type Test = Extract<Node, { t: 'test' }>;

/** A node of the jump graph: a test with its two successors, or a verdict. */
type Jump = { leaf: true; accept: boolean } | { leaf: false; test: Test; T: Jump; F: Jump };

const ACCEPT: Jump = { leaf: true, accept: true };
const REJECT: Jump = { leaf: true, accept: false };

/** Lays out `n` as jumps that go to `T` when it is true and to `F` when it is false. */
function layout(n: Node, T: Jump, F: Jump): Jump {
  switch (n.t) {
    case 'const':
      return n.v ? T : F;
    case 'not':
      return layout(n.a, F, T);
    case 'and':
      return layout(n.a, layout(n.b, T, F), F);
    case 'or':
      return layout(n.a, T, layout(n.b, T, F));
    case 'test':
      return n.sense ? { leaf: false, test: n, T, F } : { leaf: false, test: { ...n, sense: true }, T: F, F: T };
  }
}

/** The test nodes reachable from `entry`, each before every node it jumps to. */
function topological(entry: Jump): Extract<Jump, { leaf: false }>[] {
  const seen = new Set<Jump>();
  const post: Extract<Jump, { leaf: false }>[] = [];
  const visit = (j: Jump) => {
    if (j.leaf || seen.has(j)) return;
    seen.add(j);
    visit(j.T);
    visit(j.F);
    post.push(j);
  };
  visit(entry);
  return post.reverse();
}

function factKey(f: Facts[number]): string {
  return `${f.key}|${f.code}|${f.k}|${f.taken}`;
}

/** Passes of simplification before giving up (the graph is then used as it is). */
const OPTIMIZE_PASSES = 50;

/** Simplifies the graph as libpcap's optimizer does (edge folding, redundant tests); returns the new entry. */
function optimize(entry: Jump): Jump {
  const skipRedundant = (j: Jump): Jump => {
    while (!j.leaf && j.T === j.F) j = j.T;
    return j;
  };
  for (let pass = 0; pass < OPTIMIZE_PASSES; pass++) {
    let changed = false;
    entry = skipRedundant(entry);
    const order = topological(entry);
    const incoming = new Map<Jump, Facts>();
    incoming.set(entry, []);
    for (const node of order) {
      const facts = incoming.get(node) ?? [];
      for (const taken of [true, false]) {
        const edge: Facts = [...facts, { key: node.test.key, code: node.test.code, k: node.test.k, taken }];
        let c = taken ? node.T : node.F;
        for (;;) {
          c = skipRedundant(c);
          if (c.leaf) break;
          const d = decided(edge, c.test.key, c.test.code, c.test.k);
          if (d === undefined) break;
          c = d ? c.T : c.F;
          changed = true;
        }
        if (taken) {
          if (node.T !== c) changed = true;
          node.T = c;
        } else {
          if (node.F !== c) changed = true;
          node.F = c;
        }
        if (!c.leaf) {
          const before = incoming.get(c);
          if (before === undefined) incoming.set(c, edge);
          else {
            const keep = new Set(edge.map(factKey));
            incoming.set(c, before.filter((f) => keep.has(factKey(f))));
          }
        }
      }
    }
    entry = skipRedundant(entry);
    if (pullUp(entry, false) || pullUp(entry, true)) changed = true;
    if (!changed) break;
  }
  return skipRedundant(entry);
}

type TestJump = Extract<Jump, { leaf: false }>;

/**
 * libpcap's or_pullup (and, with `and`, and_pullup): in a chain of tests
 * that all jump to the same place when true (false for `and`), a test of
 * the value the tests before the chain read is moved up ahead of tests of
 * other values, so the value already loaded decides first. Returns true
 * when it moved one.
 */
function pullUp(entry: Jump, and: boolean): boolean {
  const order = topological(entry);
  const preds = new Map<Jump, TestJump[]>();
  for (const n of order) {
    for (const c of [n.T, n.F]) {
      if (c.leaf) continue;
      const list = preds.get(c) ?? [];
      if (!list.includes(n)) list.push(n);
      preds.set(c, list);
    }
  }
  // Dominators: the nodes every path from the entry to a node goes through.
  const dom = new Map<Jump, Set<Jump>>();
  for (const n of order) {
    const ps = preds.get(n) ?? [];
    let d: Set<Jump> | undefined;
    for (const p of ps) {
      const pd = dom.get(p)!;
      d = d === undefined ? new Set(pd) : new Set([...d].filter((x) => pd.has(x)));
    }
    const mine = d ?? new Set<Jump>();
    mine.add(n);
    dom.set(n, mine);
  }
  const same = (n: TestJump) => (and ? n.F : n.T);
  const next = (n: TestJump) => (and ? n.T : n.F);
  const setNext = (n: TestJump, to: Jump) => {
    if (and) n.T = to;
    else n.F = to;
  };
  for (const b of order) {
    const ps = preds.get(b);
    if (!ps || ps.length === 0) continue;
    const val = ps[0]!.test.key;
    if (ps.some((p) => p.test.key !== val)) continue;
    // diff: the first test along the chain from b that reads another value.
    let diffOwner: TestJump | null = null;
    let diff: Jump = b;
    for (;;) {
      if (diff.leaf || same(diff) !== same(b) || !dom.get(diff)!.has(b)) {
        diff = REJECT;
        break;
      }
      if (diff.test.key !== val) break;
      diffOwner = diff;
      diff = next(diff);
    }
    if (diff.leaf) continue;
    let sameOwner: TestJump = diff;
    let pull: Jump = next(diff);
    for (;;) {
      if (pull.leaf || same(pull) !== same(b) || !dom.get(pull)!.has(b)) {
        pull = REJECT;
        break;
      }
      if (pull.test.key === val) break;
      sameOwner = pull;
      pull = next(pull);
    }
    if (pull.leaf) continue;
    setNext(sameOwner, next(pull));
    setNext(pull, diff);
    if (diffOwner === null) {
      for (const p of ps) {
        if (p.T === b) p.T = pull;
        if (p.F === b) p.F = pull;
      }
    } else setNext(diffOwner, pull);
    return true;
  }
  return false;
}

/** Runs the graph on a packet: the verdict it reaches (a read past the capture ends it with "reject"). */
function runJumps(entry: Jump, p: Pkt): boolean {
  let j = entry;
  while (!j.leaf) {
    const t = j.test;
    const v = t.read(p);
    const r = t.code === 'jeq' ? v === t.k : t.code === 'jgt' ? v > t.k : v >= t.k;
    j = r ? j.T : j.F;
  }
  return j.accept;
}

// ------------------------------------------------------------------ lexer

type Tok =
  | { t: 'num'; v: number; text: string }
  | { t: 'hid'; text: string }
  | { t: 'eid'; text: string }
  | { t: 'id'; text: string }
  | { t: 'range'; text: string }
  | { t: 'op'; text: string }
  | { t: 'end' };

const NAMED_NUMBERS: Record<string, number> = {
  icmptype: 0, icmpcode: 1, 'icmp-echoreply': 0, 'icmp-unreach': 3, 'icmp-sourcequench': 4, 'icmp-redirect': 5,
  'icmp-echo': 8, 'icmp-routeradvert': 9, 'icmp-routersolicit': 10, 'icmp-timxceed': 11, 'icmp-paramprob': 12,
  'icmp-tstamp': 13, 'icmp-tstampreply': 14, 'icmp-ireq': 15, 'icmp-ireqreply': 16, 'icmp-maskreq': 17,
  'icmp-maskreply': 18, tcpflags: 13, 'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08,
  'tcp-ack': 0x10, 'tcp-urg': 0x20, 'tcp-ece': 0x40, 'tcp-cwr': 0x80,
};

const KEYWORDS = new Set([
  'host', 'net', 'port', 'portrange', 'src', 'dst', 'ether', 'fddi', 'tr', 'wlan', 'link', 'ip', 'arp', 'rarp', 'tcp',
  'udp', 'icmp', 'ip6', 'igmp', 'sctp', 'proto', 'and', 'or', 'not', 'less', 'greater', 'len', 'length', 'broadcast',
  'multicast', 'gateway', 'mask', 'inbound', 'outbound', 'vlan', 'mpls', 'protochain', 'icmp6', 'ah', 'esp', 'pim',
  'vrrp', 'carp', 'igrp', 'atalk', 'decnet', 'lat', 'sca', 'moprc', 'mopdl', 'iso', 'esis', 'isis', 'clnp', 'stp',
  'ipx', 'netbeui',
]);

function parseNumber(text: string): number {
  let v: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) v = parseInt(text.slice(2), 16);
  else if (/^0[0-7]+$/.test(text)) v = parseInt(text, 8);
  else v = parseInt(text, 10);
  if (v > 0xffffffff) throw new FilterError(`number ${text} overflows 32 bits`);
  return v;
}

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const rest = () => src.slice(i);
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    let m: RegExpMatchArray | null;
    const two = src.slice(i, i + 2);
    if (['>=', '<=', '==', '!=', '&&', '||', '<<', '>>'].includes(two)) {
      out.push({ t: 'op', text: two === '&&' ? 'and' : two === '||' ? 'or' : two });
      i += 2;
      continue;
    }
    if ((m = rest().match(/^[0-9a-fA-F]{1,2}([:.-])[0-9a-fA-F]{1,2}(\1[0-9a-fA-F]{1,2}){4}(?![0-9A-Za-z:.])/)) ||
      (m = rest().match(/^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}(?![0-9A-Za-z.])/))) {
      out.push({ t: 'eid', text: m[0] });
      i += m[0].length;
      continue;
    }
    if ((m = rest().match(/^[0-9]+(\.[0-9]+){1,3}(?![0-9A-Za-z_.-])/))) {
      out.push({ t: 'hid', text: m[0] });
      i += m[0].length;
      continue;
    }
    if ((m = rest().match(/^[0-9]+-[0-9]+(?![0-9A-Za-z_.])/))) {
      out.push({ t: 'range', text: m[0] });
      i += m[0].length;
      continue;
    }
    if ((m = rest().match(/^(0[xX][0-9a-fA-F]+|[0-9]+)(?![0-9A-Za-z_.-])/))) {
      out.push({ t: 'num', v: parseNumber(m[0]), text: m[0] });
      i += m[0].length;
      continue;
    }
    if ((m = rest().match(/^\\?[A-Za-z0-9_]([-_.A-Za-z0-9]*[_A-Za-z0-9])?/))) {
      const text = m[0];
      i += text.length;
      if (text.startsWith('\\')) out.push({ t: 'id', text: text.slice(1) });
      else if (text in NAMED_NUMBERS) out.push({ t: 'num', v: NAMED_NUMBERS[text]!, text });
      else if (KEYWORDS.has(text)) out.push({ t: 'op', text: text === 'length' ? 'len' : text });
      else out.push({ t: 'id', text });
      continue;
    }
    if ('()[]:!<>=+-*/%&|^'.includes(c)) {
      out.push({ t: 'op', text: c });
      i++;
      continue;
    }
    throw new FilterError("can't parse filter expression: syntax error");
  }
  out.push({ t: 'end' });
  return out;
}

// ------------------------------------------------------------------ qualifiers

type Proto = 'default' | 'link' | 'ip' | 'arp' | 'rarp' | 'tcp' | 'udp' | 'icmp' | 'ip6' | 'sctp' | 'igmp';
type Dir = 'default' | 'src' | 'dst' | 'or' | 'and';
type Addr = 'default' | 'host' | 'net' | 'port' | 'portrange' | 'proto' | 'gateway';

/** The qualifiers an ID is read with; null when the term before gave none (pcap's qerr). */
type Qual = { proto: Proto; dir: Dir; addr: Addr } | null;

const PNAMES: Record<string, Proto> = {
  ether: 'link', link: 'link', fddi: 'link', tr: 'link', wlan: 'link', ip: 'ip', arp: 'arp', rarp: 'rarp', tcp: 'tcp',
  udp: 'udp', icmp: 'icmp', ip6: 'ip6', sctp: 'sctp', igmp: 'igmp',
};

const SYNTAX = "can't parse filter expression: syntax error";

// ------------------------------------------------------------------ generators

const rd8 = (off: number) => (p: Pkt) => ld8(p, off);
const rd16 = (off: number) => (p: Pkt) => ld16(p, off);
const rd32 = (off: number) => (p: Pkt) => ld32(p, off);

function etherType(t: number): Node {
  return eq(`ld16@${ET}`, t, rd16(ET));
}

/** The IPv4 header's protocol, or IPv6's next header (directly, or after a fragment header), as pcap tests them. */
function ipProto(proto: number, v6 = proto !== 1): Node {
  const v4 = and(etherType(ETH_IP), eq(`ld8@${NL + 9}`, proto, rd8(NL + 9)));
  if (!v6) return v4;
  return or(v4, and(etherType(ETH_IP6), ip6Next(proto)));
}

/** IPv6's next header (after a fragment header, or directly), in libpcap's order. */
function ip6Next(proto: number): Node {
  const nh = rd8(NL + 6);
  return or(and(eq(`ld8@${NL + 6}`, 44, nh), eq(`ld8@${NL + 40}`, proto, rd8(NL + 40))), eq(`ld8@${NL + 6}`, proto, nh));
}

/** The destination Ethernet address is a group address. */
function etherMulticast(): Node {
  return test('(ld8@0&1)', 'jeq', 0, (p) => ld8(p, 0) & 1, false);
}

function protoAbbrev(pr: Proto): Node {
  switch (pr) {
    case 'ip':
      return etherType(ETH_IP);
    case 'arp':
      return etherType(ETH_ARP);
    case 'rarp':
      return etherType(ETH_RARP);
    case 'ip6':
      return etherType(ETH_IP6);
    case 'tcp':
      return ipProto(6);
    case 'udp':
      return ipProto(17);
    case 'icmp':
      return ipProto(1);
    case 'sctp':
      return ipProto(132);
    case 'igmp':
      return ipProto(2, false);
    default:
      throw new FilterError(SYNTAX);
  }
}

/** The IPv4 fragment offset is zero. */
function notFragment(): Node {
  const off = NL + 6;
  return eq(`(ld16@${off}&8191)`, 0, (p) => ld16(p, off) & 0x1fff);
}

/** A test of a 32-bit address field under a mask. */
function addrTest(off: number, addr: number, mask: number): Node {
  if (mask === 0xffffffff) return eq(`ld32@${off}`, addr, rd32(off));
  // Masked with zero, the value is known without reading it: the optimizer drops the read.
  if (mask === 0) return constant(addr === 0);
  const m = mask >>> 0;
  return eq(`(ld32@${off}&${m})`, addr & m, (p) => (ld32(p, off) & m) >>> 0);
}

function byDir(dir: Dir, src: Node, dst: Node): Node {
  switch (dir) {
    case 'src':
      return src;
    case 'dst':
      return dst;
    case 'and':
      return and(src, dst);
    default:
      return or(src, dst);
  }
}

function ipHostNode(addr: number, mask: number, dir: Dir, srcOff: number, dstOff: number, type: number): Node {
  return and(etherType(type), byDir(dir, addrTest(NL + srcOff, addr, mask), addrTest(NL + dstOff, addr, mask)));
}

function hostNode(addr: number, mask: number, q: { proto: Proto; dir: Dir }, what: 'host' | 'net'): Node {
  switch (q.proto) {
    case 'default': {
      const ip = ipHostNode(addr, mask, q.dir, 12, 16, ETH_IP);
      const arp = ipHostNode(addr, mask, q.dir, 14, 24, ETH_ARP);
      const rarp = ipHostNode(addr, mask, q.dir, 14, 24, ETH_RARP);
      return or(or(ip, arp), rarp);
    }
    case 'ip':
      return ipHostNode(addr, mask, q.dir, 12, 16, ETH_IP);
    case 'arp':
      return ipHostNode(addr, mask, q.dir, 14, 24, ETH_ARP);
    case 'rarp':
      return ipHostNode(addr, mask, q.dir, 14, 24, ETH_RARP);
    case 'link':
      throw new FilterError('illegal link layer address');
    default:
      throw new FilterError(`'${q.proto}' modifier applied to ${what}`);
  }
}

/** The transport header's 16-bit field at `at` (0: source port, 2: destination port) in an IPv4 datagram. */
function l4Port(at: number): (p: Pkt) => number {
  const nl = NL;
  return (p) => ld16(p, nl + (ld8(p, nl) & 0x0f) * 4 + at);
}

function portRange(key: string, read: (p: Pkt) => number, lo: number, hi: number): Node {
  if (lo === hi) return eq(key, lo, read);
  return and(test(key, 'jge', lo, read), test(key, 'jgt', hi, read, false));
}

function portNode(lo: number, hi: number, proto: number | 'any', dir: Dir): Node {
  const one = (pr: number): Node => {
    const v4 = and(
      and(and(etherType(ETH_IP), eq(`ld8@${NL + 9}`, pr, rd8(NL + 9))), notFragment()),
      byDir(dir, portRange(`x+ld16@${NL}`, l4Port(0), lo, hi), portRange(`x+ld16@${NL + 2}`, l4Port(2), lo, hi)),
    );
    // IPv6: the next header itself only (no fragment header), then the ports right after the fixed header.
    const six = and(
      and(etherType(ETH_IP6), eq(`ld8@${NL + 6}`, pr, rd8(NL + 6))),
      byDir(dir, portRange(`ld16@${NL + 40}`, rd16(NL + 40), lo, hi), portRange(`ld16@${NL + 42}`, rd16(NL + 42), lo, hi)),
    );
    return or(v4, six);
  };
  if (proto === 'any') return or(or(one(6), one(17)), one(132));
  return one(proto);
}

function macNode(mac: Uint8Array, dir: Dir): Node {
  const hi = ((mac[0]! << 8) | mac[1]!) >>> 0;
  const lo = ((mac[2]! << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0;
  const at = (off: number) => and(eq(`ld32@${off + 2}`, lo, rd32(off + 2)), eq(`ld16@${off}`, hi, rd16(off)));
  return byDir(dir, at(6), at(0));
}

function parseMacText(text: string): Uint8Array | undefined {
  let hex: string[];
  if (/^[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}$/.test(text)) {
    const h = text.replace(/\./g, '');
    hex = [0, 2, 4, 6, 8, 10].map((i) => h.slice(i, i + 2));
  } else hex = text.split(/[:.-]/);
  if (hex.length !== 6) return undefined;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) out[i] = parseInt(hex[i]!, 16);
  return out;
}

/** A dotted address with 1 to 4 parts: its value promoted to the top and the number of bits given. */
function partialAddr(text: string): { v: number; bits: number } | undefined {
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  let v = 0;
  for (const x of parts) {
    const n = Number(x);
    if (!Number.isInteger(n) || n > 255) return undefined;
    v = v * 256 + n;
  }
  const bits = parts.length * 8;
  return { v: bits === 32 ? v >>> 0 : (v * 2 ** (32 - bits)) >>> 0, bits };
}

function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

// ------------------------------------------------------------------ arithmetic

/** A value of the arithmetic sublanguage: protocol guards, its computation (which may read the packet), and its name for the optimizer. */
interface Arith {
  guard: Node | null;
  value: (p: Pkt) => number;
  key: string;
  constant?: number;
}

const LOAD_PROTOS: Record<string, Proto> = { ether: 'link', link: 'link', ip: 'ip', arp: 'arp', rarp: 'rarp', tcp: 'tcp', udp: 'udp', icmp: 'icmp', igmp: 'igmp', sctp: 'sctp', ip6: 'ip6' };

function load(proto: Proto, index: Arith, size: number): Arith {
  if (size !== 1 && size !== 2 && size !== 4) throw new FilterError('data size must be 1, 2, or 4');
  const rd = size === 1 ? ld8 : size === 2 ? ld16 : ld32;
  const idx = index.value;
  let guard: Node | null = index.guard;
  let value: (p: Pkt) => number;
  let key: string;
  const where = (base: number) => (index.constant !== undefined ? `${base + index.constant}` : `[${base}+${index.key}]`);
  switch (proto) {
    case 'link':
      value = (p) => rd(p, idx(p) >>> 0);
      key = `ld${size * 8}@${where(0)}`;
      break;
    case 'ip':
    case 'arp':
    case 'rarp':
    case 'ip6': {
      const g = protoAbbrev(proto);
      guard = guard ? and(guard, g) : g;
      const nl = NL;
      value = (p) => rd(p, nl + (idx(p) >>> 0));
      key = `ld${size * 8}@${where(nl)}`;
      break;
    }
    default: {
      // Transport protocols: the header after the IPv4 header, in unfragmented datagrams.
      // libpcap tests: IPv4, the index's own guards, the protocol, not a later fragment.
      const g = and(protoAbbrev(proto), notFragment());
      guard = and(etherType(ETH_IP), guard ? and(guard, g) : g);
      const nl = NL;
      value = (p) => rd(p, nl + (ld8(p, nl) & 0x0f) * 4 + (idx(p) >>> 0));
      key = `x+ld${size * 8}@${where(nl)}`;
    }
  }
  return { guard, value, key };
}

const ARITH_OPS: Record<string, (x: number, y: number) => number> = {
  '+': (x, y) => (x + y) >>> 0,
  '-': (x, y) => (x - y) >>> 0,
  '*': (x, y) => Math.imul(x, y) >>> 0,
  '/': (x, y) => (y === 0 ? NaN : Math.floor(x / y) >>> 0),
  '%': (x, y) => (y === 0 ? NaN : x % y >>> 0),
  '&': (x, y) => (x & y) >>> 0,
  '|': (x, y) => (x | y) >>> 0,
  '^': (x, y) => (x ^ y) >>> 0,
  '<<': (x, y) => (y >= 32 ? 0 : (x << y) >>> 0),
  '>>': (x, y) => (y >= 32 ? 0 : x >>> y),
};

function arith2(op: string, a: Arith, b: Arith): Arith {
  if (op === '/' && b.constant === 0) throw new FilterError('division by zero');
  if (op === '%' && b.constant === 0) throw new FilterError('modulus by zero');
  const fa = a.value;
  const fb = b.value;
  const f = ARITH_OPS[op]!;
  const guard = a.guard && b.guard ? and(a.guard, b.guard) : a.guard ?? b.guard;
  const out: Arith = {
    guard,
    value: (p) => {
      const r = f(fa(p), fb(p));
      // A division by a zero read from the packet ends the filter program: the packet is rejected.
      if (Number.isNaN(r)) throw OOB;
      return r;
    },
    key: `(${a.key}${op}${b.key})`,
  };
  if (a.constant !== undefined && b.constant !== undefined) {
    const r = f(a.constant, b.constant);
    if (!Number.isNaN(r)) {
      out.constant = r;
      out.key = String(r);
    }
  } else if ((op === '&' || op === '*') && (a.constant === 0 || b.constant === 0)) {
    // Known to be zero whatever the packet holds: nothing is read.
    return { guard, value: () => 0, key: '0', constant: 0 };
  }
  return out;
}

/** A comparison of two values (pcap's gen_relation), behind the protocol guards of both. */
function relation(op: string, a: Arith, b: Arith): Node {
  let n: Node;
  const jump: Record<string, [Code, boolean]> = {
    '=': ['jeq', true], '==': ['jeq', true], '!=': ['jeq', false], '>': ['jgt', true], '<=': ['jgt', false], '>=': ['jge', true], '<': ['jge', false],
  };
  const [code, sense] = jump[op]!;
  if (a.constant !== undefined && b.constant !== undefined) {
    const x = a.constant;
    const y = b.constant;
    const r = code === 'jeq' ? x === y : code === 'jgt' ? x > y : x >= y;
    n = constant(r === sense);
  } else if (b.constant !== undefined) {
    n = test(a.key, code, b.constant, a.value, sense);
  } else {
    const fa = a.value;
    const fb = b.value;
    // Both sides vary: compare the left one with the right one as libpcap does (A against X).
    const cmp = code === 'jeq' ? (x: number, y: number) => x === y : code === 'jgt' ? (x: number, y: number) => x > y : (x: number, y: number) => x >= y;
    n = test(`${a.key}?${code}?${b.key}`, 'jeq', 1, (p) => (cmp(fa(p), fb(p)) ? 1 : 0), sense);
  }
  if (a.guard && b.guard) return and(and(a.guard, b.guard), n);
  if (a.guard || b.guard) return and((a.guard ?? b.guard)!, n);
  return n;
}

// ------------------------------------------------------------------ parser

class Parser {
  pos = 0;
  constructor(readonly toks: Tok[], readonly names: FilterNames, readonly netmask: number) {}

  peek(k = 0): Tok {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)]!;
  }
  isOp(text: string, k = 0): boolean {
    const t = this.peek(k);
    return t.t === 'op' && t.text === text;
  }
  take(): Tok {
    return this.toks[this.pos++]!;
  }
  expectOp(text: string): void {
    if (!this.isOp(text)) throw new FilterError(SYNTAX);
    this.pos++;
  }

  program(): Node {
    if (this.peek().t === 'end') return constant(true);
    const r = this.expr(null);
    if (this.peek().t !== 'end') throw new FilterError(SYNTAX);
    return r.n;
  }

  /** expr: term, then ("and"|"or") (term | id) left to right, both at one precedence. */
  expr(inherited: Qual): { n: Node; q: Qual } {
    let left = this.term(inherited);
    for (;;) {
      const isAnd = this.isOp('and');
      const isOr = this.isOp('or');
      if (!isAnd && !isOr) return left;
      this.pos++;
      let right: { n: Node; q: Qual };
      if (this.startsId()) right = this.id(left.q);
      else right = this.term(left.q);
      left = { n: isAnd ? and(left.n, right.n) : or(left.n, right.n), q: right.q };
    }
  }

  /** Whether an ID (not a new term) starts here: an address, number, name, or "not"/"(" before one. */
  startsId(): boolean {
    let k = 0;
    while (this.isOp('not', k) || this.isOp('!', k)) k++;
    const t = this.peek(k);
    if (t.t === 'hid' || t.t === 'eid' || t.t === 'id') return true;
    if (t.t === 'num') {
      // A number followed by an operator of arithmetic starts a relation, not an ID.
      const n = this.peek(k + 1);
      return !(n.t === 'op' && ['>', '<', '>=', '<=', '=', '==', '!=', '+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>'].includes(n.text));
    }
    if (t.t === 'op' && t.text === '(') {
      // "(ID ...)" after and/or is a group of IDs read with the same qualifiers.
      const n = this.peek(k + 1);
      return n.t === 'hid' || n.t === 'eid' || n.t === 'id';
    }
    return false;
  }

  /** id: an ID read with inherited qualifiers; "not id"; "(id and|or id ...)". */
  id(q: Qual): { n: Node; q: Qual } {
    if (this.isOp('not') || this.isOp('!')) {
      this.pos++;
      const r = this.id(q);
      return { n: not(r.n), q: r.q };
    }
    if (this.isOp('(')) {
      this.pos++;
      let r = this.id(q);
      for (;;) {
        if (this.isOp('and') || this.isOp('or')) {
          const isAnd = this.isOp('and');
          this.pos++;
          const s = this.id(r.q);
          r = { n: isAnd ? and(r.n, s.n) : or(r.n, s.n), q: s.q };
          continue;
        }
        break;
      }
      this.expectOp(')');
      return r;
    }
    if (q === null) throw new FilterError('syntax error in filter expression');
    return { n: this.idValue(q), q };
  }

  term(inherited: Qual): { n: Node; q: Qual } {
    if (this.isOp('not') || this.isOp('!')) {
      this.pos++;
      const r = this.term(inherited);
      return { n: not(r.n), q: r.q };
    }
    return this.rterm(inherited);
  }

  rterm(inherited: Qual): { n: Node; q: Qual } {
    // A relation of arithmetic expressions, tried first where one could start.
    if (this.mayStartArith()) {
      const save = this.pos;
      try {
        const a = this.arith();
        const t = this.peek();
        if (t.t === 'op' && ['>', '<', '>=', '<=', '=', '==', '!='].includes(t.text)) {
          this.pos++;
          const b = this.arith();
          return { n: relation(t.text, a, b), q: null };
        }
      } catch (e) {
        if (!(e instanceof FilterError) || e.message !== SYNTAX) throw e;
      }
      this.pos = save;
    }
    if (this.isOp('(')) {
      this.pos++;
      const r = this.expr(inherited);
      this.expectOp(')');
      return { n: r.n, q: inherited };
    }
    const t = this.peek();
    if (t.t !== 'op') throw new FilterError(SYNTAX);
    switch (t.text) {
      case 'less':
      case 'greater': {
        this.pos++;
        const n = this.take();
        if (n.t !== 'num') throw new FilterError(SYNTAX);
        const v = n.v;
        return { n: t.text === 'less' ? test('len', 'jgt', v, (p) => p.len, false) : test('len', 'jge', v, (p) => p.len), q: null };
      }
      case 'broadcast':
        this.pos++;
        return { n: macNode(new Uint8Array([255, 255, 255, 255, 255, 255]), 'dst'), q: null };
      case 'multicast':
        this.pos++;
        return { n: etherMulticast(), q: null };
      case 'inbound':
      case 'outbound':
      case 'vlan':
      case 'mpls':
        throw new FilterError(`'${t.text}' not supported in this configuration`);
      case 'gateway':
        throw new FilterError("'gateway' not supported in this configuration");
    }
    // head: [pname] [dqual] [aqual], or pname proto, then an ID; or a bare pname.
    let proto: Proto = 'default';
    let hadHead = false;
    if (t.text in PNAMES) {
      proto = PNAMES[t.text]!;
      this.pos++;
      hadHead = true;
      if (this.isOp('broadcast')) {
        this.pos++;
        if (proto === 'link') return { n: macNode(new Uint8Array([255, 255, 255, 255, 255, 255]), 'dst'), q: null };
        if (proto === 'ip') {
          const hm = ~this.netmask >>> 0;
          const dstOff = NL + 16;
          const rd = (p: Pkt) => (ld32(p, dstOff) & hm) >>> 0;
          const key = `(ld32@${NL + 16}&${hm})`;
          return { n: and(etherType(ETH_IP), or(eq(key, 0, rd), eq(key, hm, rd))), q: null };
        }
        throw new FilterError('only link-layer/IP broadcast filters supported');
      }
      if (this.isOp('multicast')) {
        this.pos++;
        if (proto === 'link') return { n: etherMulticast(), q: null };
        if (proto === 'ip') return { n: and(etherType(ETH_IP), test(`ld8@${NL + 16}`, 'jge', 224, rd8(NL + 16))), q: null };
        throw new FilterError('link-layer multicast filters supported only on ethernet/FDDI/token ring/ARCNET/802.11/ATM LANE/Fibre Channel');
      }
      if (this.isOp('proto')) {
        this.pos++;
        const q = { proto, dir: 'default' as Dir, addr: 'proto' as Addr };
        return { n: this.idValue(q), q };
      }
    }
    let dir: Dir = 'default';
    if (this.isOp('src') || this.isOp('dst')) {
      const first = this.take() as { text: string };
      dir = first.text as Dir;
      hadHead = true;
      if ((this.isOp('or') || this.isOp('and')) && (this.isOp('src', 1) || this.isOp('dst', 1)) && (this.peek(1) as { text: string }).text !== first.text) {
        dir = this.isOp('or') ? 'or' : 'and';
        this.pos += 2;
      }
    }
    let addr: Addr = 'default';
    if (this.isOp('host') || this.isOp('net') || this.isOp('port') || this.isOp('portrange')) {
      addr = (this.take() as { text: string }).text as Addr;
      hadHead = true;
    } else if (this.isOp('proto') && proto === 'default' && dir === 'default') {
      this.pos++;
      const q = { proto, dir, addr: 'proto' as Addr };
      return { n: this.idValue(q), q };
    } else if (this.isOp('gateway')) {
      throw new FilterError("'gateway' not supported in this configuration");
    }
    if (!hadHead) throw new FilterError(SYNTAX);
    const q = { proto, dir, addr };
    if (dir === 'default' && addr === 'default') {
      // A bare protocol name.
      if (this.startsIdAfterHead()) return this.idAfterHead(q);
      return { n: protoAbbrev(proto), q: null };
    }
    return this.idAfterHead(q);
  }

  startsIdAfterHead(): boolean {
    const t = this.peek();
    return t.t === 'hid' || t.t === 'eid' || t.t === 'id' || t.t === 'range' || (t.t === 'num' && !this.isArithOpAt(1));
  }

  isArithOpAt(k: number): boolean {
    const n = this.peek(k);
    return n.t === 'op' && ['>', '<', '>=', '<=', '=', '==', '!=', '+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>'].includes(n.text);
  }

  idAfterHead(q: { proto: Proto; dir: Dir; addr: Addr }): { n: Node; q: Qual } {
    const t = this.peek();
    if (t.t === 'op' && t.text === '(') {
      const r = this.id(q);
      return r;
    }
    if (t.t === 'op' && (t.text === 'not' || t.text === '!')) return this.id(q);
    if (!(t.t === 'hid' || t.t === 'eid' || t.t === 'id' || t.t === 'num' || t.t === 'range')) throw new FilterError(SYNTAX);
    return { n: this.idValue(q), q };
  }

  /** The primitive an ID makes with its qualifiers (pcap's gen_scode/gen_ncode/gen_mcode/gen_ecode). */
  idValue(q: { proto: Proto; dir: Dir; addr: Addr }): Node {
    const t = this.take();
    if (t.t === 'range') {
      if (q.addr !== 'portrange') {
        if (q.addr === 'port') throw new FilterError(`unknown port '${t.text}'`);
        throw new FilterError(`unknown host '${t.text}'`);
      }
      const [a, b] = t.text.split('-').map(Number) as [number, number];
      for (const v of [a, b]) if (v > 65535) throw new FilterError(`illegal port number ${v} > 65535`);
      return this.portPrim(Math.min(a, b), Math.max(a, b), q, 'any');
    }
    if (t.t === 'eid') {
      const mac = parseMacText(t.text);
      if (!mac) throw new FilterError(`bogus ethernet address ${t.text}`);
      if (q.proto === 'link' && (q.addr === 'default' || q.addr === 'host')) return macNode(mac, q.dir);
      throw new FilterError('ethernet address used in non-ether expression');
    }
    if (t.t === 'hid') {
      if (q.addr === 'port') throw new FilterError("'port' modifier applied to ip host");
      if (q.addr === 'portrange') throw new FilterError("'portrange' modifier applied to ip host");
      if (q.addr === 'proto') throw new FilterError("'proto' modifier applied to ip host");
      const pa = partialAddr(t.text);
      if (!pa) throw new FilterError(`unknown host '${t.text}'`);
      let v = pa.v;
      let mask = maskOf(pa.bits);
      if (this.isOp('/') && this.peek(1).t === 'num') {
        this.pos++;
        const n = (this.take() as { v: number }).v;
        if (n > 32) throw new FilterError('mask length must be <= 32');
        mask = maskOf(n);
        v = partialAddr(t.text)!.v;
        if (((v & ~mask) >>> 0) !== 0) throw new FilterError(`non-network bits set in "${t.text}/${n}"`);
        return this.netPrim(v, mask, q);
      }
      if (this.isOp('mask') && this.peek(1).t === 'hid') {
        this.pos++;
        const mt = (this.take() as { text: string }).text;
        const m = partialAddr(mt);
        if (!m || m.bits !== 32) throw new FilterError(`invalid IPv4 address '${mt}'`);
        if (((v & ~m.v) >>> 0) !== 0) throw new FilterError(`non-network bits set in "${t.text} mask ${mt}"`);
        return this.netPrim(v, m.v, q);
      }
      if (q.addr === 'net' || pa.bits < 32) return this.netPrim(v, mask, q);
      return this.netPrim(v, 0xffffffff, q);
    }
    if (t.t === 'num') {
      const v = t.v;
      switch (q.addr) {
        case 'port':
        case 'portrange':
          if (v > 65535) throw new FilterError(`illegal port number ${v} > 65535`);
          return this.portPrim(v, v, q, 'any');
        case 'proto':
          return this.protoPrim(v, q.proto);
        default: {
          if (q.proto === 'link') throw new FilterError('illegal link layer address');
          // A plain number: a host as is; a network shifted up until its top byte is set.
          let n = v >>> 0;
          let mask = 0xffffffff;
          if (q.addr === 'net') {
            while (n && (n & 0xff000000) === 0) {
              n = (n << 8) >>> 0;
              mask = (mask << 8) >>> 0;
            }
          }
          return this.netPrim(n, mask, q);
        }
      }
    }
    if (t.t === 'id') {
      const name = t.text;
      switch (q.addr) {
        case 'port': {
          const tp = this.names.servicePort(name, 'tcp');
          const up = this.names.servicePort(name, 'udp');
          if (tp === undefined && up === undefined) throw new FilterError(`unknown port '${name}'`);
          let real: number | 'any' = tp !== undefined && up !== undefined && tp === up ? 'any' : tp !== undefined ? 6 : 17;
          const port = tp ?? up!;
          if (q.proto === 'udp') {
            if (real === 6) throw new FilterError(`port '${name}' is tcp`);
            real = 17;
          } else if (q.proto === 'tcp') {
            if (real === 17) throw new FilterError(`port '${name}' is udp`);
            real = 6;
          }
          return this.portPrim(port, port, q, real);
        }
        case 'portrange':
          throw new FilterError(`unknown port in range '${name}'`);
        case 'proto': {
          const nums: Record<string, number> = { ip: 0, icmp: 1, igmp: 2, tcp: 6, udp: 17, ipv6: 41, gre: 47, esp: 50, ah: 51, sctp: 132, arp: 0x806, rarp: 0x8035 };
          if (q.proto === 'link') {
            const e: Record<string, number> = { ip: ETH_IP, arp: ETH_ARP, rarp: ETH_RARP, ip6: ETH_IP6 };
            if (!(name in e)) throw new FilterError(`unknown ether proto '${name}'`);
            return this.protoPrim(e[name]!, q.proto);
          }
          if (!(name in nums)) throw new FilterError(`unknown ip proto '${name}'`);
          return this.protoPrim(nums[name]!, q.proto);
        }
        case 'net': {
          const a = this.names.networkAddr?.(name);
          if (a === undefined) throw new FilterError(`unknown network '${name}'`);
          let bits = 32;
          let x = a;
          let m = 0xffffffff;
          while (bits > 0 && (x & 0xff) === 0 && x !== 0) {
            x >>>= 8;
            bits -= 8;
          }
          m = maskOf(bits);
          return this.netPrim(a, m, q);
        }
        default: {
          if (q.proto === 'link') {
            const mac = this.names.etherAddr?.(name);
            if (!mac) throw new FilterError(`unknown ether host '${name}'`);
            return macNode(mac, q.dir);
          }
          const addrs = this.names.hostAddrs(name);
          if (addrs.length === 0) throw new FilterError(`unknown host '${name}'`);
          let n: Node | null = null;
          for (const a of addrs) {
            const h = hostNode(a, 0xffffffff, q, 'host');
            n = n ? or(n, h) : h;
          }
          return n!;
        }
      }
    }
    throw new FilterError(SYNTAX);
  }

  netPrim(v: number, mask: number, q: { proto: Proto; dir: Dir; addr: Addr }): Node {
    if (q.addr === 'port' || q.addr === 'portrange') throw new FilterError(`'${q.addr}' modifier applied to ip host`);
    return hostNode(v, mask, q, q.addr === 'net' ? 'net' : 'host');
  }

  portPrim(lo: number, hi: number, q: { proto: Proto; dir: Dir }, real: number | 'any'): Node {
    switch (q.proto) {
      case 'default':
        return portNode(lo, hi, real, q.dir);
      case 'tcp':
        return portNode(lo, hi, 6, q.dir);
      case 'udp':
        return portNode(lo, hi, 17, q.dir);
      case 'sctp':
        return portNode(lo, hi, 132, q.dir);
      default:
        throw new FilterError("illegal qualifier of 'port'");
    }
  }

  protoPrim(v: number, proto: Proto): Node {
    switch (proto) {
      case 'link':
        return etherType(v);
      case 'ip':
        return ipProto(v, false);
      case 'default':
        if (v === 6 || v === 17 || v === 132) return ipProto(v);
        return ipProto(v, true);
      case 'ip6':
        return and(etherType(ETH_IP6), ip6Next(v));
      default:
        throw new FilterError(`'${proto}' modifier applied to proto`);
    }
  }

  mayStartArith(): boolean {
    const t = this.peek();
    if (t.t === 'num') return true;
    if (t.t !== 'op') return false;
    if (t.text === 'len' || t.text === '(' || t.text === '-') return true;
    return t.text in LOAD_PROTOS && this.isOp('[', 1);
  }

  // arith, by precedence: '|' '^' < '&' < shifts < '+' '-' < '*' '/' '%' < unary minus.
  arith(): Arith {
    return this.arithLevel(0);
  }

  static readonly LEVELS = [['|', '^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

  arithLevel(level: number): Arith {
    if (level >= Parser.LEVELS.length) return this.arithUnary();
    let a = this.arithLevel(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.t === 'op' && Parser.LEVELS[level]!.includes(t.text)) {
        this.pos++;
        const b = this.arithLevel(level + 1);
        a = arith2(t.text, a, b);
      } else return a;
    }
  }

  arithUnary(): Arith {
    if (this.isOp('-')) {
      this.pos++;
      const a = this.arithUnary();
      const f = a.value;
      const out: Arith = { guard: a.guard, value: (p) => -f(p) >>> 0, key: `-${a.key}` };
      if (a.constant !== undefined) {
        out.constant = -a.constant >>> 0;
        out.key = String(out.constant);
      }
      return out;
    }
    const t = this.take();
    if (t.t === 'num') return { guard: null, value: () => t.v, constant: t.v, key: String(t.v) };
    if (t.t === 'op' && t.text === 'len') return { guard: null, value: (p) => p.len, key: 'len' };
    if (t.t === 'op' && t.text === '(') {
      const a = this.arith();
      this.expectOp(')');
      return a;
    }
    if (t.t === 'op' && t.text in LOAD_PROTOS && this.isOp('[')) {
      this.pos++;
      const idx = this.arith();
      let size = 1;
      if (this.isOp(':')) {
        this.pos++;
        const s = this.take();
        if (s.t !== 'num') throw new FilterError(SYNTAX);
        size = s.v;
      }
      this.expectOp(']');
      return load(LOAD_PROTOS[t.text]!, idx, size);
    }
    throw new FilterError(SYNTAX);
  }
}

/**
 * Compiles a filter expression (the words after tcpdump's options, joined
 * with spaces). `netmask` is the capture interface's (0 when reading a
 * file), used by `ip broadcast`; `linkType` the capture's (Ethernet, or
 * Linux cooked v1/v2 for "any"), which places the headers.
 */
export function compileFilter(expr: string, names: FilterNames, netmask = 0, linkType = 1): FilterResult {
  const { et, nl } = linkOffsets(linkType);
  ET = et;
  NL = nl;
  try {
    const p = new Parser(lex(expr), names, netmask);
    const n = p.program();
    const entry = optimize(layout(n, ACCEPT, REJECT));
    if (entry === REJECT) return { ok: false, error: 'expression rejects all packets' };
    const pkt: Pkt = { d: new Uint8Array(0), len: 0, et, nl };
    return {
      ok: true,
      filter: (data, wireLen) => {
        pkt.d = data;
        pkt.len = wireLen;
        try {
          return runJumps(entry, pkt);
        } catch (e) {
          if (e === OOB) return false;
          throw e;
        }
      },
    };
  } catch (e) {
    if (e instanceof FilterError) return { ok: false, error: e.message };
    throw e;
  }
}

