/**
 * Port parsing and printing shared by the extensions that take ports
 * (xtables_parse_port, xtables_service_to_port and the -L service names).
 */
import { strtoulRange } from '../util/cnum.js';
import type { NameDb } from './namedb.js';
import { paramError } from './types.js';

/** xtables_parse_port: a number 0-65535 or a service name for `proto`. */
export function parsePort(names: NameDb, port: string, proto: string): number {
  const n = strtoulRange(port, 0, 65535);
  if (n !== undefined) return n;
  const s = names.servicePort(port, proto);
  if (s !== undefined) return s;
  throw paramError(`invalid port/service \`${port}' specified`);
}

/** A port for -L: the service name for `proto` unless numeric or unknown. */
export function portName(names: NameDb, port: number, proto: string, numeric: boolean): string {
  if (numeric) return String(port);
  return names.serviceName(port, proto) ?? String(port);
}
