/**
 * The on-disk form of a ruleset: the same data as in memory with default
 * fields left out, so large rulesets load and save quickly. Tables, chains
 * and rules carry their nf_tables handles (`h`); a state stored before
 * handles were kept gets those of a fresh iptables-restore.
 */
import { ip6IsZero, ip6Zero, type IPv6 } from '../../core/addr/ipv6.js';
import { emptyRule, type Rule } from '../../core/netfilter/rule.js';
import { numberAsRestored, type Chain, type Ruleset, type Table } from '../../core/netfilter/ruleset.js';

/** A rule as stored: only non-default fields. */
interface DiskRule {
  s?: [number, number];
  d?: [number, number];
  /** IPv6 source and destination (ip6tables rules), when not ::/0. */
  s6?: [IPv6, IPv6];
  d6?: [IPv6, IPv6];
  i?: string;
  o?: string;
  p?: number;
  v?: number;
  f?: 1;
  m?: [string, unknown, unknown?][];
  t?: Rule['target'];
  c?: [DiskCounter, DiskCounter];
  /** nf_tables handle. */
  h?: number;
}

/** A 64-bit counter on disk: a JSON number while exact, a decimal string beyond 2^53. */
type DiskCounter = number | string;

function counterToDisk(v: bigint): DiskCounter {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function counterFromDisk(v: DiskCounter): bigint {
  return BigInt(v);
}

function ruleToDisk(r: Rule): DiskRule {
  const d: DiskRule = {};
  if (r.src || r.smsk) d.s = [r.src, r.smsk];
  if (r.dst || r.dmsk) d.d = [r.dst, r.dmsk];
  if (r.src6 && (!ip6IsZero(r.src6) || !ip6IsZero(r.smsk6!))) d.s6 = [r.src6, r.smsk6!];
  if (r.dst6 && (!ip6IsZero(r.dst6) || !ip6IsZero(r.dmsk6!))) d.d6 = [r.dst6, r.dmsk6!];
  if (r.iniface) d.i = r.iniface;
  if (r.outiface) d.o = r.outiface;
  if (r.proto) d.p = r.proto;
  if (r.invflags) d.v = r.invflags;
  if (r.fragment) d.f = 1;
  if (r.matches.length) d.m = r.matches.map((m) => (m.rt === undefined ? [m.name, m.info] : [m.name, m.info, m.rt]));
  if (r.target.kind !== 'none') d.t = r.target;
  if (r.pkts || r.bytes) d.c = [counterToDisk(r.pkts), counterToDisk(r.bytes)];
  if (r.handle) d.h = r.handle;
  return d;
}

function ruleFromDisk(d: DiskRule, v6: boolean): Rule {
  const r = emptyRule();
  if (d.s) [r.src, r.smsk] = d.s;
  if (d.d) [r.dst, r.dmsk] = d.d;
  if (v6) {
    [r.src6, r.smsk6] = d.s6 ?? [ip6Zero(), ip6Zero()];
    [r.dst6, r.dmsk6] = d.d6 ?? [ip6Zero(), ip6Zero()];
  }
  if (d.i) r.iniface = d.i;
  if (d.o) r.outiface = d.o;
  if (d.p) r.proto = d.p;
  if (d.v) r.invflags = d.v;
  if (d.f) r.fragment = true;
  if (d.m) r.matches = d.m.map(([name, info, rt]) => (rt === undefined ? { name, info } : { name, info, rt }));
  if (d.t) r.target = d.t;
  if (d.c) [r.pkts, r.bytes] = [counterFromDisk(d.c[0]), counterFromDisk(d.c[1])];
  if (d.h) r.handle = d.h;
  return r;
}

function chainToDisk(c: Chain): unknown {
  const d: Record<string, unknown> = { n: c.name, p: c.policy, c: [counterToDisk(c.pkts), counterToDisk(c.bytes)], h: c.handle, r: c.rules.map(ruleToDisk) };
  if (c.uncounted) d.u = 1;
  return d;
}

function chainFromDisk(d: any, v6: boolean): Chain {
  return {
    name: d.n,
    policy: d.p,
    pkts: counterFromDisk(d.c[0]),
    bytes: counterFromDisk(d.c[1]),
    rules: (d.r as DiskRule[]).map((r) => ruleFromDisk(r, v6)),
    handle: typeof d.h === 'number' ? d.h : 0,
    ...(d.u ? { uncounted: true as const } : {}),
  };
}

/** Converts a ruleset to its stored JSON value. */
export function rulesetToDisk(rs: Ruleset): unknown {
  const tables: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(rs.tables)) {
    if (!t) continue;
    const builtins: Record<string, unknown> = {};
    for (const [hook, c] of Object.entries(t.builtins)) if (c) builtins[hook] = chainToDisk(c);
    tables[name] = { b: builtins, u: t.user.map(chainToDisk), h: t.lastHandle };
  }
  return tables;
}

/**
 * Writes the same JSON as JSON.stringify(rulesetToDisk(rs)) in pieces of a
 * few hundred rules, so a large ruleset is never held twice in memory.
 */
export function writeRulesetJson(rs: Ruleset, emit: (chunk: string) => void): void {
  const chain = (c: Chain) => {
    const counters = JSON.stringify([counterToDisk(c.pkts), counterToDisk(c.bytes)]);
    emit(`{"n":${JSON.stringify(c.name)},"p":${JSON.stringify(c.policy)},"c":${counters},"h":${c.handle}${c.uncounted ? ',"u":1' : ''},"r":[`);
    for (let i = 0; i < c.rules.length; i += 500) {
      const part = c.rules.slice(i, i + 500).map((r) => JSON.stringify(ruleToDisk(r)));
      emit((i ? ',' : '') + part.join(','));
    }
    emit(']}');
  };
  emit('{');
  let firstTable = true;
  for (const [name, t] of Object.entries(rs.tables)) {
    if (!t) continue;
    emit(`${firstTable ? '' : ','}${JSON.stringify(name)}:{"b":{`);
    firstTable = false;
    let first = true;
    for (const [hook, c] of Object.entries(t.builtins)) {
      if (!c) continue;
      emit(`${first ? '' : ','}${JSON.stringify(hook)}:`);
      first = false;
      chain(c);
    }
    emit('},"u":[');
    t.user.forEach((c, i) => {
      if (i) emit(',');
      chain(c);
    });
    emit(`],"h":${t.lastHandle}}`);
  }
  emit('}');
}

/**
 * Rebuilds a ruleset from its stored JSON value (`v6`: the ip6tables rule
 * set, whose rules all get IPv6 addresses); throws on a malformed value.
 */
export function rulesetFromDisk(v: unknown, v6 = false): Ruleset {
  if (!v || typeof v !== 'object') throw new Error('ruleset is not an object');
  const rs: Ruleset = { tables: {} };
  for (const [name, raw] of Object.entries(v as Record<string, any>)) {
    const t: Table = { name: name as Table['name'], builtins: {}, user: [], lastHandle: 0 };
    for (const [hook, c] of Object.entries(raw.b as Record<string, unknown>)) t.builtins[hook as keyof Table['builtins']] = chainFromDisk(c, v6);
    t.user = (raw.u as unknown[]).map((c) => chainFromDisk(c, v6));
    if (typeof raw.h === 'number') t.lastHandle = raw.h;
    else numberAsRestored(t);
    rs.tables[t.name] = t;
  }
  return rs;
}
