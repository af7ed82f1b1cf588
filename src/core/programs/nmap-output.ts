/**
 * nmap's report in its normal and grepable formats: the host header and
 * status, the "Not shown" summary of ignored port states grouped by
 * reason, the port table, the MAC line, and the closing line — with the
 * same grouping, ordering and number formats as nmap 7.93's output.cc.
 */
import { formatIPv4 } from '../addr/ipv4.js';
import { serviceName, type ScanProto } from './nmap-services.js';

/** A port state as nmap names it. */
export type PortState = 'open' | 'closed' | 'filtered' | 'unfiltered' | 'open|filtered' | 'closed|filtered';

/** nmap's state numbers (portlist.h): the order ties are broken in. */
const STATE_NUM: Record<PortState, number> = {
  closed: 1,
  open: 2,
  filtered: 3,
  unfiltered: 6,
  'open|filtered': 7,
  'closed|filtered': 8,
};

/** What nmap found for one port. */
export interface PortResult {
  port: number;
  proto: ScanProto;
  state: PortState;
  /** The reason, as --reason names it (syn-ack, reset, no-response, port-unreach...). */
  reason: string;
  /** TTL of the answer (0: none). */
  ttl: number;
  /** Source of an ICMP answer when another host sent it. */
  from?: number;
}

/** One scanned host as the report shows it. */
export interface HostReport {
  addr: number;
  /** The name the target was given by on the command line. */
  name?: string;
  /** The name a reverse lookup found (nmap reads /etc/hosts first). */
  rdns?: string;
  up: boolean;
  /** Why it is up (arp-response, echo-reply, user-set, localhost-response...). */
  reason: string;
  /** TTL of the answer that showed it up (0: none). */
  reasonTtl: number;
  /** Smoothed round trip in microseconds; -1 when never measured. */
  srttUs: number;
  /** The MAC address when the host is on a local Ethernet. */
  mac?: string;
  /** Port results, when ports were scanned. */
  ports?: PortResult[];
}

/** What changes the report's look. */
export interface ReportOptions {
  verbose: number;
  reason: boolean;
  /** --open (which also turns on --defeat-rst-ratelimit). */
  openOnly: boolean;
  /** A TCP scan ran. */
  tcpScan: boolean;
}

/** A number with `digits` significant digits, as nmap prints latencies (0.000029, 0.0000060, 0.00018). */
export function sigDigits(d: number, digits: number): string {
  let shift: number;
  if (d === 0) shift = -digits;
  else {
    shift = Math.floor(Math.log10(Math.abs(d))) - digits + 1;
    d = Math.floor(d / 10 ** shift + 0.5) * 10 ** shift;
  }
  return d.toFixed(Math.max(0, -shift));
}

/** "10.0.0.2" or "name (10.0.0.2)": the name given on the command line, else the reverse lookup's. */
export function nameIp(h: { addr: number; name?: string; rdns?: string }): string {
  const n = h.name ?? h.rdns;
  return n ? `${n} (${formatIPv4(h.addr)})` : formatIPv4(h.addr);
}

const VENDORS: Record<string, string> = {
  '525400': 'QEMU virtual NIC',
  '080027': 'Oracle VirtualBox virtual NIC',
  '00163E': 'Xensource',
  '000C29': 'VMware',
  '005056': 'VMware',
};

/** "MAC Address: 02:6E:6C:00:00:01 (Unknown)". */
export function macLine(mac: string): string {
  const up = mac.toUpperCase();
  const vendor = VENDORS[up.replace(/:/g, '').slice(0, 6)] ?? 'Unknown';
  return `MAC Address: ${up} (${vendor})\n`;
}

/** Whether nmap leaves a state out of its table (PortList::isIgnoredState). */
function isIgnored(state: PortState, count: number, o: ReportOptions): boolean {
  if (state === 'open') return false;
  if (state === 'open|filtered' && o.verbose > 2) return false;
  if (o.openOnly && state !== 'open|filtered' && state !== 'unfiltered' && count > 0) return true;
  let max = 25;
  if (o.verbose) max *= o.verbose + 1;
  return count > max;
}

interface ReasonGroup {
  reason: string;
  proto: ScanProto | '';
  count: number;
  next: ReasonGroup | null;
}

/** nmap's linked-list merge sort of reason groups, larger counts first (ties as it leaves them). */
function reasonSort(list: ReasonGroup | null): ReasonGroup | null {
  if (!list) return null;
  let insize = 1;
  for (;;) {
    let p: ReasonGroup | null = list;
    list = null;
    let tail: ReasonGroup | null = null;
    let nmerges = 0;
    while (p) {
      nmerges++;
      let q: ReasonGroup | null = p;
      let psize = 0;
      for (let i = 0; i < insize; i++) {
        psize++;
        q = q!.next;
        if (!q) break;
      }
      let qsize = insize;
      while (psize > 0 || (qsize > 0 && q)) {
        let e: ReasonGroup;
        if (psize === 0) {
          e = q!;
          q = q!.next;
          qsize--;
        } else if (qsize === 0 || !q) {
          e = p!;
          p = p!.next;
          psize--;
        } else if (q.count < p!.count) {
          e = p!;
          p = p!.next;
          psize--;
        } else {
          e = q;
          q = q.next;
          qsize--;
        }
        if (tail) tail.next = e;
        else list = e;
        tail = e;
      }
      p = q;
    }
    if (!tail) return null;
    tail.next = null;
    if (nmerges <= 1) return list;
    insize *= 2;
  }
}

/** Ports in nmap's listing order: TCP then UDP, each ascending. */
function listingOrder(ports: readonly PortResult[]): PortResult[] {
  return [...ports].sort((a, b) => (a.proto === b.proto ? a.port - b.port : a.proto === 'tcp' ? -1 : 1));
}

/** The reason column: "syn-ack ttl 64", "no-response", "port-unreach ttl 64 from 10.0.0.1"-like. */
function reasonCell(p: PortResult): string {
  const base = p.from !== undefined ? `${p.reason} from ${formatIPv4(p.from)}` : p.reason;
  return p.ttl ? `${base} ttl ${p.ttl}` : base;
}

/** Lays out a table as NmapOutputTable does: columns left-aligned, one space apart. */
function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join(' ') + '\n').join('');
}

/**
 * The port part of a host's report: the "Not shown" line (or "All N
 * scanned ports ... ignored states."), the table, as printportoutput
 * prints them.
 */
export function portSection(h: HostReport, o: ReportOptions): string {
  const ports = listingOrder(h.ports ?? []);
  if (ports.length === 0) return '';
  const counts = new Map<PortState, number>();
  for (const p of ports) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
  const ignored = (s: PortState): boolean => isIgnored(s, counts.get(s) ?? 0, o);
  const numIgnored = ports.filter((p) => ignored(p.state)).length;
  let out = '';
  // ignored states, most ports first, ties by state number
  const states = ([...counts.keys()] as PortState[]).filter(ignored).sort((a, b) => counts.get(b)! - counts.get(a)! || STATE_NUM[a] - STATE_NUM[b]);
  states.forEach((st, idx) => {
    const n = counts.get(st)!;
    if (idx === 0) {
      if (numIgnored === ports.length) out += `All ${numIgnored} scanned ports on ${nameIp(h)} are in ignored states.\n`;
      out += 'Not shown: ';
    } else out += ', ';
    const head: ReasonGroup = { reason: '', proto: '', count: 0, next: null };
    for (const p of ports) {
      if (p.state !== st) continue;
      let g: ReasonGroup = head;
      for (;;) {
        if (g.reason === p.reason && g.proto === p.proto) break;
        if (!g.next) {
          g.next = { reason: p.reason, proto: p.proto, count: 0, next: null };
          g = g.next;
          break;
        }
        g = g.next;
      }
      g.count++;
    }
    const parts: string[] = [];
    for (let g = reasonSort(head); g; g = g.next) {
      if (g.count > 0) parts.push(`${g.count} ${st} ${g.proto} port${n === 1 ? '' : 's'} (${g.reason})`);
    }
    out += parts.join(', ');
  });
  out += '\n';
  if (numIgnored === ports.length) return out;
  if (o.openOnly && o.tcpScan && counts.has('filtered')) out += 'Some closed ports may be reported as filtered due to --defeat-rst-ratelimit\n';
  const header = ['PORT', 'STATE', 'SERVICE'];
  if (o.reason) header.push('REASON');
  const rows = [header];
  for (const p of ports) {
    if (ignored(p.state)) continue;
    const row = [`${p.port}/${p.proto}`, p.state, serviceName(p.port, p.proto)];
    if (o.reason) row.push(reasonCell(p));
    rows.push(row);
  }
  return out + table(rows);
}

/** "Host is up (0.000029s latency).", with --reason "Host is up, received arp-response (...)". */
export function hostStatusLine(h: HostReport, o: ReportOptions): string {
  let s = 'Host is up';
  if (o.reason) s += `, received ${h.reason}`;
  if (o.reason && h.reasonTtl) s += ` ttl ${h.reasonTtl}`;
  if (h.srttUs !== -1) s += ` (${sigDigits(h.srttUs / 1e6, 2)}s latency)`;
  return s + '.\n';
}

/** A host's whole block of the normal report (nothing for a down host unless verbose). */
export function hostBlock(h: HostReport, o: ReportOptions, portScan: boolean): string {
  if (!h.up) {
    if (!o.verbose) return '';
    return `Nmap scan report for ${nameIp(h)} [host down${o.reason ? `, received ${h.reason}` : ''}]\n`;
  }
  let out = `Nmap scan report for ${nameIp(h)}\n` + hostStatusLine(h, o);
  if (h.name && h.rdns && h.name !== h.rdns) out += `rDNS record for ${formatIPv4(h.addr)}: ${h.rdns}\n`;
  if (portScan) out += portSection(h, o);
  if (h.mac) out += macLine(h.mac);
  if (portScan) out += '\n';
  return out;
}

/** The closing line: "Nmap done: 1 IP address (1 host up) scanned in 1.23 seconds". */
export function doneLine(scanned: number, up: number, seconds: number): string {
  return `Nmap done: ${scanned} ${scanned === 1 ? 'IP address' : 'IP addresses'} (${up} ${up === 1 ? 'host' : 'hosts'} up) scanned in ${seconds.toFixed(2)} seconds\n`;
}

/** The grepable lines of a host (-oG). */
export function grepLines(h: HostReport, portScan: boolean, o: ReportOptions): string {
  const head = `Host: ${formatIPv4(h.addr)} (${h.rdns ?? ''})`;
  if (!h.up) return `${head}\tStatus: Down\n`;
  let out = `${head}\tStatus: Up\n`;
  if (!portScan || !h.ports) return out;
  const ports = listingOrder(h.ports);
  const counts = new Map<PortState, number>();
  for (const p of ports) counts.set(p.state, (counts.get(p.state) ?? 0) + 1);
  const shown = ports.filter((p) => !isIgnored(p.state, counts.get(p.state)!, o));
  const ignoredStates = [...counts.keys()].filter((s) => isIgnored(s, counts.get(s)!, o));
  out += `${head}\tPorts: ` + shown.map((p) => `${p.port}/${p.state}/${p.proto}//${serviceName(p.port, p.proto)}///`).join(', ');
  if (ignoredStates.length === 1) out += `\tIgnored State: ${ignoredStates[0]} (${counts.get(ignoredStates[0]!)})`;
  return out + '\n';
}
