/**
 * The extension registry: every match and target module, looked up by the
 * name given to -m or -j and the program's family (iptables or ip6tables).
 * An extension without a family serves both; one name may have a separate
 * module per family (REJECT, ah, NETMAP ...). Modules register themselves
 * in `all.ts`.
 */
import type { ExtensionDef, Family, MatchDef, TargetDef } from './types.js';

const matches = new Map<string, MatchDef[]>();
const targets = new Map<string, TargetDef[]>();

function add<D extends ExtensionDef>(map: Map<string, D[]>, d: D): void {
  const list = map.get(d.name) ?? [];
  // a module for the same name and family replaces the earlier one
  const kept = list.filter((o) => (o.family ?? 'both') !== (d.family ?? 'both'));
  kept.push(d);
  map.set(d.name, kept);
}

function pick<D extends ExtensionDef>(list: D[] | undefined, family: Family): D | undefined {
  if (!list) return undefined;
  return list.find((d) => d.family === family) ?? list.find((d) => d.family === undefined);
}

/** Adds extensions to the registry. */
export function register(...defs: ExtensionDef[]): void {
  for (const d of defs) {
    if (d.kind === 'match') add(matches, d);
    else add(targets, d);
  }
}

/** Names xtables_find_match takes for icmp6 ("This is ugly as hell", it says). */
const ICMP6_ALIASES = ['icmpv6', 'ipv6-icmp'];

/** The match extension named `name` for `family` (default IPv4), if nflab knows it. */
export function findMatch(name: string, family: Family = 'ipv4'): MatchDef | undefined {
  return pick(matches.get(ICMP6_ALIASES.includes(name) ? 'icmp6' : name), family);
}

/** The target extension named `name` for `family` (default IPv4), if nflab knows it. */
export function findTarget(name: string, family: Family = 'ipv4'): TargetDef | undefined {
  return pick(targets.get(name), family);
}

/** Names of the matches and targets available in `family` (default IPv4), for help and tests. */
export function registeredNames(family: Family = 'ipv4'): { matches: string[]; targets: string[] } {
  const names = <D extends ExtensionDef>(map: Map<string, D[]>) =>
    [...map.keys()].filter((n) => pick(map.get(n), family) !== undefined).sort();
  return { matches: names(matches), targets: names(targets) };
}
