/**
 * The extension registry: every match and target module, looked up by the
 * name given to -m or -j. Modules register themselves in `all.ts`.
 */
import type { ExtensionDef, MatchDef, TargetDef } from './types.js';

const matches = new Map<string, MatchDef>();
const targets = new Map<string, TargetDef>();

/** Adds extensions to the registry. */
export function register(...defs: ExtensionDef[]): void {
  for (const d of defs) {
    if (d.kind === 'match') matches.set(d.name, d);
    else targets.set(d.name, d);
  }
}

/** The match extension named `name`, if nflab knows it. */
export function findMatch(name: string): MatchDef | undefined {
  return matches.get(name);
}

/** The target extension named `name`, if nflab knows it. */
export function findTarget(name: string): TargetDef | undefined {
  return targets.get(name);
}

/** Names of all registered matches and targets, for help and tests. */
export function registeredNames(): { matches: string[]; targets: string[] } {
  return { matches: [...matches.keys()].sort(), targets: [...targets.keys()].sort() };
}
