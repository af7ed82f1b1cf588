/**
 * The on-disk form of a ruleset: the same data as in memory with default
 * fields left out, so large rulesets load and save quickly.
 */
import { emptyRule, type Rule } from '../../core/netfilter/rule.js';
import type { Chain, Ruleset, Table } from '../../core/netfilter/ruleset.js';

/** A rule as stored: only non-default fields. */
interface DiskRule {
  s?: [number, number];
  d?: [number, number];
  i?: string;
  o?: string;
  p?: number;
  v?: number;
  f?: 1;
  m?: [string, unknown][];
  t?: Rule['target'];
  c?: [DiskCounter, DiskCounter];
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
  if (r.iniface) d.i = r.iniface;
  if (r.outiface) d.o = r.outiface;
  if (r.proto) d.p = r.proto;
  if (r.invflags) d.v = r.invflags;
  if (r.fragment) d.f = 1;
  if (r.matches.length) d.m = r.matches.map((m) => [m.name, m.info]);
  if (r.target.kind !== 'none') d.t = r.target;
  if (r.pkts || r.bytes) d.c = [counterToDisk(r.pkts), counterToDisk(r.bytes)];
  return d;
}

function ruleFromDisk(d: DiskRule): Rule {
  const r = emptyRule();
  if (d.s) [r.src, r.smsk] = d.s;
  if (d.d) [r.dst, r.dmsk] = d.d;
  if (d.i) r.iniface = d.i;
  if (d.o) r.outiface = d.o;
  if (d.p) r.proto = d.p;
  if (d.v) r.invflags = d.v;
  if (d.f) r.fragment = true;
  if (d.m) r.matches = d.m.map(([name, info]) => ({ name, info }));
  if (d.t) r.target = d.t;
  if (d.c) [r.pkts, r.bytes] = [counterFromDisk(d.c[0]), counterFromDisk(d.c[1])];
  return r;
}

function chainToDisk(c: Chain): unknown {
  return { n: c.name, p: c.policy, c: [counterToDisk(c.pkts), counterToDisk(c.bytes)], r: c.rules.map(ruleToDisk) };
}

function chainFromDisk(d: any): Chain {
  return { name: d.n, policy: d.p, pkts: counterFromDisk(d.c[0]), bytes: counterFromDisk(d.c[1]), rules: (d.r as DiskRule[]).map(ruleFromDisk) };
}

/** Converts a ruleset to its stored JSON value. */
export function rulesetToDisk(rs: Ruleset): unknown {
  const tables: Record<string, unknown> = {};
  for (const [name, t] of Object.entries(rs.tables)) {
    if (!t) continue;
    const builtins: Record<string, unknown> = {};
    for (const [hook, c] of Object.entries(t.builtins)) if (c) builtins[hook] = chainToDisk(c);
    tables[name] = { b: builtins, u: t.user.map(chainToDisk) };
  }
  return tables;
}

/**
 * Writes the same JSON as JSON.stringify(rulesetToDisk(rs)) in pieces of a
 * few hundred rules, so a large ruleset is never held twice in memory.
 */
export function writeRulesetJson(rs: Ruleset, emit: (chunk: string) => void): void {
  const chain = (c: Chain) => {
    emit(`{"n":${JSON.stringify(c.name)},"p":${JSON.stringify(c.policy)},"c":${JSON.stringify([counterToDisk(c.pkts), counterToDisk(c.bytes)])},"r":[`);
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
    emit(']}');
  }
  emit('}');
}

/** Rebuilds a ruleset from its stored JSON value; throws on a malformed value. */
export function rulesetFromDisk(v: unknown): Ruleset {
  if (!v || typeof v !== 'object') throw new Error('ruleset is not an object');
  const rs: Ruleset = { tables: {} };
  for (const [name, raw] of Object.entries(v as Record<string, any>)) {
    const t: Table = { name: name as Table['name'], builtins: {}, user: [] };
    for (const [hook, c] of Object.entries(raw.b as Record<string, unknown>)) t.builtins[hook as keyof Table['builtins']] = chainFromDisk(c);
    t.user = (raw.u as unknown[]).map(chainFromDisk);
    rs.tables[t.name] = t;
  }
  return rs;
}
