/**
 * nmap's command line: scan types, host discovery, port selection,
 * timing, output options and targets, with the messages nmap 7.93 gives
 * for the mistakes a tutorial reader makes. Checks that nmap makes only
 * after printing its "Starting Nmap" banner are left to `checkPorts`.
 */
import { topPorts, type ScanProto } from './nmap-services.js';

/** The port scan techniques supported (-sS, -sT, -sA, -sN, -sF, -sX; -sU is separate). */
export type TcpScanType = 'syn' | 'connect' | 'ack' | 'null' | 'fin' | 'xmas';

/** What the command line asks for. */
export interface NmapOptions {
  /** The TCP scan (null: none). */
  tcpScan: TcpScanType | null;
  /** -sU. */
  udpScan: boolean;
  /** -sn: host discovery only. */
  pingOnly: boolean;
  /** -Pn / -P0: every target is taken to be up. */
  noPing: boolean;
  /** -n: no reverse DNS. */
  noDns: boolean;
  /** -F. */
  fast: boolean;
  /** -p's argument, unparsed. */
  portSpec: string | null;
  /** --top-ports N. */
  topN: number | null;
  /** -r: ports in order instead of shuffled. */
  sequential: boolean;
  /** -T level 0..5. */
  timing: number;
  /** --max-retries. */
  maxRetries: number | null;
  verbose: number;
  /** --reason. */
  reason: boolean;
  /** --open. */
  openOnly: boolean;
  /** -oN file. */
  normalFile: string | null;
  /** -oG file ("-" for standard output). */
  grepFile: string | null;
  /** Target specifications, in order. */
  targets: string[];
}

/** A command line nmap refuses before its banner: the message (stderr) and exit status. */
export interface OptionError {
  error: string;
  status: number;
}

const TIMING_NAMES: Record<string, number> = { paranoid: 0, sneaky: 1, polite: 2, normal: 3, aggressive: 4, insane: 5 };

/** Options that take an argument (without their leading dashes). */
const WITH_ARG = new Set(['p', 'T', 'oN', 'oG', 'oX', 'oA', 'e', 'top-ports', 'max-retries', 'host-timeout', 'S', 'g', 'source-port', 'exclude', 'iL', 'max-rtt-timeout', 'min-rtt-timeout', 'initial-rtt-timeout', 'scan-delay', 'min-rate', 'max-rate']);

/** Real nmap options the lab's nmap does not do: version and OS detection, scripts, IPv6, idle and IP protocol scans. */
const UNSUPPORTED = /^(-sV|-sC|-sO|-sI|-sY|-sZ|-sW|-sM|-sR|-O|-A|-6|--script(=.*)?|--osscan-.*|--version-.*|-b)$/;

/** Parses nmap's arguments (argv without the program name). */
export function parseNmapArgs(args: readonly string[]): NmapOptions | OptionError {
  const o: NmapOptions = {
    tcpScan: null,
    udpScan: false,
    pingOnly: false,
    noPing: false,
    noDns: false,
    fast: false,
    portSpec: null,
    topN: null,
    sequential: false,
    timing: 3,
    maxRetries: null,
    verbose: 0,
    reason: false,
    openOnly: false,
    normalFile: null,
    grepFile: null,
    targets: [],
  };
  const quit = (msg: string): OptionError => ({ error: msg + '\nQUITTING!\n', status: 1 });
  const setTcp = (t: TcpScanType): OptionError | null => {
    if (o.tcpScan && o.tcpScan !== t)
      return quit('You specified more than one type of TCP scan.  Please choose only one of -sA, -b, -sT, -sF, -sI, -sM, -sN, -sS, -sW, and -sX');
    o.tcpScan = t;
    return null;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-') || a === '-') {
      o.targets.push(a);
      continue;
    }
    let name = a.replace(/^--?/, '');
    let value: string | undefined;
    const eq = a.startsWith('--') ? name.indexOf('=') : -1;
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    // single-letter options with the value attached: -p22, -T4, -oNfile
    if (!a.startsWith('--')) {
      for (const short of ['oN', 'oG', 'oX', 'oA', 'p', 'T', 'e']) {
        if (name.length > short.length && name.startsWith(short) && !WITH_ARG.has(name) && !/^P[nN0]$/.test(name)) {
          value = name.slice(short.length);
          name = short;
          break;
        }
      }
    }
    if (WITH_ARG.has(name) && value === undefined) {
      if (i + 1 >= args.length) {
        if (name === 'p') return quit('Error #487: Your port specifications are illegal.  Example of proper form: "-100,200-1024,T:3000-4000,U:60000-"');
        return { error: `nmap: option requires an argument -- '${name}'\nSee the output of nmap -h for a summary of options.\n`, status: 255 };
      }
      value = args[++i]!;
    }
    if (UNSUPPORTED.test(a)) return { error: `nmap: ${a}: not supported in the lab (port scans and host discovery only)\n`, status: 1 };
    if (name.startsWith('s') && name.length >= 2 && !a.startsWith('--')) {
      for (const c of name.slice(1)) {
        let err: OptionError | null = null;
        if (c === 'S') err = setTcp('syn');
        else if (c === 'T') err = setTcp('connect');
        else if (c === 'A') err = setTcp('ack');
        else if (c === 'N') err = setTcp('null');
        else if (c === 'F') err = setTcp('fin');
        else if (c === 'X') err = setTcp('xmas');
        else if (c === 'U') o.udpScan = true;
        else if (c === 'n' || c === 'P') o.pingOnly = true;
        else return { error: `Scantype ${c} not supported\n`, status: 255 };
        if (err) return err;
      }
      continue;
    }
    switch (name) {
      case 'Pn':
      case 'P0':
      case 'PN':
        o.noPing = true;
        break;
      case 'n':
        o.noDns = true;
        break;
      case 'R':
        o.noDns = false;
        break;
      case 'F':
        o.fast = true;
        break;
      case 'r':
        o.sequential = true;
        break;
      case 'p':
        o.portSpec = value!;
        break;
      case 'top-ports': {
        const n = Number(value);
        if (!/^\d+$/.test(value!) || n < 1) return quit('--top-ports should be an integer 1 or greater');
        o.topN = n;
        break;
      }
      case 'max-retries':
        if (!/^\d+$/.test(value!)) return quit('max-retries must be a non-negative integer');
        o.maxRetries = Number(value);
        break;
      case 'T': {
        const v = value!.toLowerCase();
        const n = /^[0-5]$/.test(v) ? Number(v) : TIMING_NAMES[v];
        if (n === undefined)
          return quit(
            'Unknown timing mode (-T argument).  Use either "Paranoid", "Sneaky", "Polite", "Normal", "Aggressive", "Insane" or a number from 0 (Paranoid) to 5 (Insane)',
          );
        o.timing = n;
        break;
      }
      case 'reason':
        o.reason = true;
        break;
      case 'open':
        o.openOnly = true;
        break;
      case 'oN':
        o.normalFile = value!;
        break;
      case 'oG':
        o.grepFile = value!;
        break;
      default:
        if (/^v+$/.test(name)) {
          o.verbose += name.length;
          break;
        }
        if (/^v\d$/.test(name)) {
          o.verbose = Number(name.slice(1));
          break;
        }
        return { error: `nmap: unrecognized option '${a}'\nSee the output of nmap -h for a summary of options.\n`, status: 255 };
    }
  }
  // a root user without a scan type gets a SYN scan
  if (!o.tcpScan && !o.udpScan && !o.pingOnly) o.tcpScan = 'syn';
  if (o.pingOnly && (o.tcpScan || o.udpScan)) {
    // -sn with a port scan type: nmap says so after its banner
  }
  return o;
}

/** The ports to scan per protocol, in the order nmap lists them (ascending). */
export interface PortSelection {
  tcp: number[];
  udp: number[];
  /** Warnings nmap prints (stderr) before scanning. */
  warnings: string[];
}

const ILLEGAL = 'Error #487: Your port specifications are illegal.  Example of proper form: "-100,200-1024,T:3000-4000,U:60000-"';

/**
 * The ports the options select, or the message (after the banner) that
 * makes nmap quit. Without -p: the top 1000 ports (-F: 100) of each
 * protocol scanned.
 */
export function selectPorts(o: NmapOptions): PortSelection | { error: string } {
  const warnings: string[] = [];
  const tcpWanted = o.tcpScan !== null;
  const udpWanted = o.udpScan;
  if (o.pingOnly && (o.portSpec !== null || o.fast)) return { error: 'You cannot use -F (fast scan) or -p (explicit port selection) when not doing a port scan' };
  if (o.fast && o.portSpec !== null) return { error: 'You cannot use -F (fast scan) with -p (explicit port selection) but see --top-ports and --port-ratio to fast scan a range of ports' };
  if (o.portSpec === null) {
    const n = o.topN ?? (o.fast ? 100 : 1000);
    const sorted = (p: ScanProto): number[] => topPorts(p, n).sort((a, b) => a - b);
    return { tcp: tcpWanted ? sorted('tcp') : [], udp: udpWanted ? sorted('udp') : [], warnings };
  }
  const tcp = new Set<number>();
  const udp = new Set<number>();
  let sawU = false;
  let sawT = false;
  let proto: 'both' | 'tcp' | 'udp' = 'both';
  for (let item of o.portSpec.split(',')) {
    item = item.trim();
    const m = /^([TUS]):(.*)$/.exec(item);
    if (m) {
      if (m[1] === 'S') return { error: ILLEGAL };
      proto = m[1] === 'T' ? 'tcp' : 'udp';
      if (proto === 'tcp') sawT = true;
      else sawU = true;
      item = m[2]!;
    }
    const r = /^(\d*)(-?)(\d*)$/.exec(item);
    if (!r || item === '') return { error: ILLEGAL };
    let lo: number;
    let hi: number;
    if (r[2] === '') {
      if (r[1] === '') return { error: ILLEGAL };
      lo = hi = Number(r[1]);
    } else {
      lo = r[1] === '' ? 1 : Number(r[1]);
      hi = r[3] === '' ? 65535 : Number(r[3]);
    }
    if (lo > 65535 || hi > 65535) return { error: 'Ports specified must be between 0 and 65535 inclusive' };
    if (lo > hi) return { error: `Your port range ${lo}-${hi} is backwards. Did you mean ${hi}-${lo}?` };
    for (let p = lo; p <= hi; p++) {
      if (proto !== 'udp') tcp.add(p);
      if (proto !== 'tcp') udp.add(p);
    }
  }
  if (sawU && !udpWanted) warnings.push('WARNING: Your ports include "U:" but you haven\'t specified UDP scan with -sU.');
  if (sawT && !tcpWanted) warnings.push('WARNING: Your ports include "T:" but you haven\'t specified any TCP scan type.');
  const tcpList = tcpWanted ? [...tcp].sort((a, b) => a - b) : [];
  const udpList = udpWanted ? [...udp].sort((a, b) => a - b) : [];
  if (tcpWanted && tcpList.length === 0) warnings.push('WARNING: a TCP scan type was requested, but no tcp ports were specified.  Skipping this scan type.');
  if (udpWanted && udpList.length === 0) warnings.push('WARNING: UDP scan was requested, but no udp ports were specified.  Skipping this scan type.');
  return { tcp: tcpList, udp: udpList, warnings };
}

/**
 * Expands one target specification into addresses: a dotted quad, a
 * CIDR block (every address, network and broadcast included), octet
 * ranges and lists (10.0.0.1-5, 10.0.0.*, 10.0.1,2.3), or a host name
 * through `resolve`. Null when it is neither.
 */
export function expandTarget(spec: string, resolve: (name: string) => number | null): number[] | null {
  const cidr = /^(.+)\/(\d{1,2})$/.exec(spec);
  if (cidr) {
    const base = /^\d+\.\d+\.\d+\.\d+$/.test(cidr[1]!) ? resolve(cidr[1]!) : resolve(cidr[1]!);
    const bits = Number(cidr[2]);
    if (base === null || bits > 32) return null;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    const first = (base & mask) >>> 0;
    const n = 2 ** (32 - bits);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((first + i) >>> 0);
    return out;
  }
  const parts = spec.split('.');
  if (parts.length === 4 && parts.every((p) => /^[\d,*-]+$/.test(p))) {
    const octets: number[][] = [];
    for (const p of parts) {
      const vals: number[] = [];
      for (const item of p.split(',')) {
        if (item === '*') {
          for (let v = 0; v <= 255; v++) vals.push(v);
          continue;
        }
        const r = /^(\d*)-(\d*)$/.exec(item);
        const lo = r ? (r[1] === '' ? 0 : Number(r[1])) : Number(item);
        const hi = r ? (r[2] === '' ? 255 : Number(r[2])) : lo;
        if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi || hi > 255) return null;
        for (let v = lo; v <= hi; v++) vals.push(v);
      }
      octets.push(vals);
    }
    const out: number[] = [];
    for (const a of octets[0]!) for (const b of octets[1]!) for (const c of octets[2]!) for (const d of octets[3]!) out.push(((a << 24) | (b << 16) | (c << 8) | d) >>> 0);
    return out;
  }
  const one = resolve(spec);
  return one === null ? null : [one >>> 0];
}
