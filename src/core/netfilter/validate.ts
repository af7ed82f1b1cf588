/**
 * The kernel's view of a table as a whole: which user chains the built-in
 * chains reach through jumps, the checks nf_tables makes when a batch
 * commits (jump depth and loops, extensions reached from hooks they refuse),
 * and when two rules are the same rule.
 */
import { ip6Equal, type IPv6 } from '../addr/ipv6.js';
import { findMatch, findTarget } from '../xt/registry.js';
import type { ExtensionDef } from '../xt/types.js';
import { ruleFamily, type Rule } from './rule.js';
import type { Chain, Table } from './ruleset.js';
import { tableInfo } from './tables.js';

/** Which rules take part in a validation (the table as it stood after some batch element). */
export type RuleFilter = (r: Rule) => boolean;

/** Names of the user chains reachable from `start` through jumps and gotos. */
export function reachableFrom(t: Table, start: Chain, include: RuleFilter): Set<string> {
  const user = new Map(t.user.map((c) => [c.name, c]));
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length) {
    const c = todo.pop()!;
    for (const r of c.rules) {
      if (r.target.kind !== 'jump' || seen.has(r.target.chain) || !include(r)) continue;
      const next = user.get(r.target.chain);
      if (!next) continue;
      seen.add(next.name);
      todo.push(next);
    }
  }
  return seen;
}

/** Two optional IPv6 values are equal (both absent counts as equal). */
function same6(a: IPv6 | undefined, b: IPv6 | undefined): boolean {
  return a === undefined || b === undefined ? a === b : ip6Equal(a, b);
}

/** Rules compare equal when the kernel holds the same data for both (counters aside). */
export function sameRule(a: Rule, b: Rule): boolean {
  return (
    a.src === b.src &&
    a.smsk === b.smsk &&
    a.dst === b.dst &&
    a.dmsk === b.dmsk &&
    same6(a.src6, b.src6) &&
    same6(a.smsk6, b.smsk6) &&
    same6(a.dst6, b.dst6) &&
    same6(a.dmsk6, b.dmsk6) &&
    a.iniface === b.iniface &&
    a.outiface === b.outiface &&
    a.proto === b.proto &&
    a.invflags === b.invflags &&
    a.fragment === b.fragment &&
    a.matches.length === b.matches.length &&
    a.matches.every((m, i) => m.name === b.matches[i]!.name && JSON.stringify(m.info) === JSON.stringify(b.matches[i]!.info)) &&
    JSON.stringify(withoutRuntime(a.target)) === JSON.stringify(withoutRuntime(b.target))
  );
}

/** A target without its kernel runtime state, which is not part of the rule's identity. */
function withoutRuntime(t: Rule['target']): Rule['target'] {
  if (t.kind !== 'ext' || t.rt === undefined) return t;
  return { kind: 'ext', name: t.name, info: t.info };
}

/** NFT_JUMP_STACK_SIZE: a chain reached through this many jumps is refused (EMLINK). */
const JUMP_STACK_SIZE = 16;

/**
 * Why the kernel finds the table invalid with the rules `include` admits,
 * as an errno: a chain reached through 16 jumps or gotos (so any loop
 * reachable from a base chain) gives EMLINK; an extension in a user chain
 * refusing a hook the chain is reached from gives its own errno (EINVAL).
 */
export function tableInvalid(t: Table, include: RuleFilter): string | undefined {
  if (jumpDepthExceeded(t, include)) return 'EMLINK';
  const user = new Map(t.user.map((c) => [c.name, c]));
  for (const h of tableInfo(t.name)!.chains) {
    const base = t.builtins[h];
    if (!base) continue;
    for (const name of reachableFrom(t, base, include)) {
      const c = user.get(name)!;
      for (const r of c.rules) {
        if (!include(r)) continue;
        const family = ruleFamily(r);
        const ctx = { table: t.name, chain: name, hooks: [h], rule: { proto: r.proto, invflags: r.invflags, fragment: r.fragment }, family };
        const defs: (ExtensionDef | undefined)[] = r.matches.map((m) => findMatch(m.name, family));
        for (const m of r.matches) {
          const err = findMatch(m.name, family)?.check?.(m.info, ctx);
          if (err) return err.errno;
        }
        if (r.target.kind === 'ext') {
          const def = findTarget(r.target.name, family);
          defs.push(def);
          const err = def?.check?.(r.target.info, ctx);
          if (err) return err.errno;
        }
        // Extensions limited to some hooks must not be reachable from others through jumps.
        if (defs.some((d) => d?.hooks && !d.hooks.includes(h))) return 'EINVAL';
      }
    }
  }
  return undefined;
}

/** Whether some chain is reached from a base chain through JUMP_STACK_SIZE jumps (loops included). */
function jumpDepthExceeded(t: Table, include: RuleFilter): boolean {
  const user = new Map(t.user.map((c) => [c.name, c]));
  // longest jump path below each chain; Infinity on a loop
  const depth = new Map<string, number>();
  const onPath = new Set<string>();
  const longest = (c: Chain): number => {
    const known = depth.get(c.name);
    if (known !== undefined) return known;
    if (onPath.has(c.name)) return Infinity;
    onPath.add(c.name);
    let best = 0;
    for (const r of c.rules) {
      if (r.target.kind !== 'jump' || !include(r)) continue;
      const next = user.get(r.target.chain);
      if (next) best = Math.max(best, 1 + longest(next));
      if (best >= JUMP_STACK_SIZE) break;
    }
    onPath.delete(c.name);
    depth.set(c.name, best);
    return best;
  };
  for (const c of Object.values(t.builtins)) if (c && longest(c) >= JUMP_STACK_SIZE) return true;
  return false;
}

