/**
 * The programs of the lab's machines that run on the world's clock
 * (clients, daemons, captures), by the name a command line uses.
 */
import type { Program } from './api.js';

/** Programs by name (aliases included). */
export const PROGRAMS: Readonly<Record<string, Program>> = {};

/** The program `name` runs (its directory ignored), or undefined. */
export function programByName(name: string): Program | undefined {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return Object.hasOwn(PROGRAMS, base) ? PROGRAMS[base] : undefined;
}
