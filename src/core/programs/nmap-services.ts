/**
 * nmap's service table: the name it prints for a port, and the ports it
 * scans by default (the most often open ones first), from the table in
 * nmap-services-data.ts.
 */
import { TCP_NAMES, TCP_TOP, UDP_NAMES, UDP_TOP } from './nmap-services-data.js';

/** A transport protocol nmap scans ports of. */
export type ScanProto = 'tcp' | 'udp';

const nameTables: Partial<Record<ScanProto, Map<number, string>>> = {};
const topTables: Partial<Record<ScanProto, number[]>> = {};

function names(proto: ScanProto): Map<number, string> {
  let t = nameTables[proto];
  if (t) return t;
  t = new Map();
  let port = 0;
  for (const pair of (proto === 'tcp' ? TCP_NAMES : UDP_NAMES).split(',')) {
    const sp = pair.indexOf(' ');
    port += Number(pair.slice(0, sp));
    t.set(port, pair.slice(sp + 1));
  }
  nameTables[proto] = t;
  return t;
}

/** The service name nmap shows for a port ("unknown" when the table has none). */
export function serviceName(port: number, proto: ScanProto): string {
  return names(proto).get(port) ?? 'unknown';
}

/** The `n` (at most 1000) ports of `proto` nmap ranks most often open, best first. */
export function topPorts(proto: ScanProto, n: number): number[] {
  let t = topTables[proto];
  if (!t) topTables[proto] = t = (proto === 'tcp' ? TCP_TOP : UDP_TOP).split(',').map(Number);
  return t.slice(0, n);
}
