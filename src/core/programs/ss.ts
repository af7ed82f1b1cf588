/**
 * `ss` (iproute2 6.1) over a namespace's sockets: the options that select
 * sockets (-t -u -w -x -4 -6 -a -l), -n, -p, -H, and the column layout ss
 * uses when its output is not a terminal: every column as wide as its
 * widest field (header included), addresses right-aligned against their
 * ports.
 *
 * Tables are shown in ss's order (raw, udp, tcp), each in the order the
 * socket layer lists them. A raw socket's local port is its protocol
 * number (the kernel's inet_num), shown by name without -n. The kernel's
 * own netlink sockets are listed as a fresh namespace has them (`ss -l`,
 * `ss -a`); unix and packet sockets are not modelled (-x selects tables
 * that are empty in the lab). This kernel has no DCCP: when its table is
 * asked for, ss reports the kernel's refusal on stderr first.
 */
import { formatIPv4 } from '../addr/ipv4.js';
import { sysctlGet } from '../net/sysctl.js';
import { createNameDb } from '../xt/namedb.js';
import type { SocketInfo, TcpState } from '../stack/api.js';
import type { Program, ProgramBody, ProgramContext } from './api.js';

/** What the options asked for. */
export interface SsOptions {
  /** Socket tables to show. */
  tcp: boolean;
  udp: boolean;
  raw: boolean;
  /** More than one table (the Netid column is shown). */
  netid: boolean;
  /** The netlink table is selected (the kernel's own netlink sockets are listed). */
  netlink: boolean;
  /** The dccp table is selected: this kernel has no DCCP, and ss says so. */
  dccp: boolean;
  /** States to show (ss's names, UNCONN for SS_CLOSE). */
  states: ReadonlySet<TcpState | 'UNCONN'>;
  /** More than one state selectable (the State column is shown). */
  stateColumn: boolean;
  /** IPv4 sockets are selected (always true for the lab's sockets unless -6 alone). */
  ipv4: boolean;
  numeric: boolean;
  processes: boolean;
  header: boolean;
}

/** Kernel TCP states in ss's bit order (SS_ESTABLISHED = 1 ...). */
const STATE_BITS: (TcpState | 'UNCONN')[] = [
  'ESTAB',
  'SYN-SENT',
  'SYN-RECV',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'TIME-WAIT',
  'UNCONN',
  'CLOSE-WAIT',
  'LAST-ACK',
  'LISTEN',
  'CLOSING',
];
const bit = (s: TcpState | 'UNCONN'): number => 1 << (STATE_BITS.indexOf(s) + 1);
const SS_ALL = (1 << 12) - 1;
const SS_CONN = SS_ALL & ~(bit('LISTEN') | bit('UNCONN') | bit('TIME-WAIT') | bit('SYN-RECV'));

const TCP = 1 << 0;
const UDP = 1 << 1;
const RAW = 1 << 2;
/** The tables an IP family brings in (tcp, udp, raw, and the unmodelled mptcp, dccp, sctp). */
const INET_DBS = TCP | UDP | RAW | (1 << 3);
/** The unix socket tables (stream, datagram, seqpacket); the lab has no unix sockets. */
const UNIX_DBS = (1 << 4) | (1 << 5) | (1 << 6);
/** The netlink table. */
const NETLINK_DB = 1 << 7;
/** The dccp table (one of INET_DBS's unmodelled ones). */
const DCCP_DB = 1 << 3;
/** Every table of `ss` without a selection (unix, netlink and packet included). */
const ALL_DBS = INET_DBS | UNIX_DBS | NETLINK_DB;
/** Address families: IPv4, IPv6, unix. */
const AF_INET = 1;
const AF_INET6 = 2;
const AF_UNIX = 4;
/** Default states of each table. */
const DB_STATES: Record<number, number> = { [TCP]: SS_CONN, [UDP]: bit('ESTAB'), [RAW]: bit('ESTAB') };

/** ss's usage line when an option is wrong (printed with the full help by the real tool; shortened). */
const USAGE = 'Usage: ss [ OPTIONS ]\n       ss [ OPTIONS ] [ FILTER ]\n';

/** Parses ss's options; returns the selection or an error message and status. */
export function parseSsArgs(argv: string[]): SsOptions | { error: string; status: number; version?: boolean } {
  let dbs = 0;
  let states = 0;
  let families = 0;
  let stateFilter = 0;
  let doDefault = true;
  const o = { numeric: false, processes: false, header: true };
  const longs: Record<string, string> = {
    numeric: 'n',
    processes: 'p',
    tcp: 't',
    udp: 'u',
    raw: 'w',
    all: 'a',
    listening: 'l',
    ipv4: '4',
    ipv6: '6',
    'no-header': 'H',
    version: 'V',
    help: 'h',
  };
  const flags: string[] = [];
  for (const a of argv) {
    if (a.startsWith('--')) {
      const name = a.slice(2);
      const hit = Object.keys(longs).filter((k) => k.startsWith(name));
      const exact = longs[name];
      if (exact === undefined && hit.length !== 1) {
        return { error: `ss: ${hit.length > 1 ? 'option' : 'unrecognized option'} '${a}'${hit.length > 1 ? ' is ambiguous' : ''}\n${USAGE}`, status: 255 };
      }
      flags.push(exact ?? longs[hit[0]!]!);
    } else if (a.startsWith('-') && a.length > 1) {
      for (const c of a.slice(1)) flags.push(c);
    } else {
      return { error: `nflab: ss: filters are not emulated (${a})\n`, status: 1 };
    }
  }
  for (const c of flags) {
    switch (c) {
      case 'n':
        o.numeric = true;
        break;
      case 'p':
        o.processes = true;
        break;
      case 'H':
        o.header = false;
        break;
      case 't':
      case 'u':
      case 'w': {
        const db = c === 't' ? TCP : c === 'u' ? UDP : RAW;
        dbs |= db;
        states |= DB_STATES[db]!;
        doDefault = false;
        break;
      }
      case 'a':
        stateFilter = SS_ALL;
        break;
      case 'l':
        stateFilter = bit('LISTEN') | bit('UNCONN');
        break;
      case '4':
      case '6':
      case 'x':
        families |= c === '4' ? AF_INET : c === '6' ? AF_INET6 : AF_UNIX;
        states |= SS_CONN;
        doDefault = false;
        break;
      case 'V':
        return { error: '', status: 0, version: true };
      case 'r':
      case 'e':
      case 'o':
      case 'm':
      case 'i':
      case 's':
      case 'h':
        return { error: `nflab: ss: option -${c} is not emulated\n`, status: 1 };
      default:
        return { error: `ss: invalid option -- '${c}'\n${USAGE}`, status: 255 };
    }
  }
  if (doDefault) {
    if (stateFilter === 0) stateFilter = SS_CONN;
    dbs = ALL_DBS;
  }
  if (stateFilter !== 0) states = stateFilter;
  // ss's filter_merge_defaults: a table brings its families, a family its tables
  if ((dbs & INET_DBS) !== 0 && (families & (AF_INET | AF_INET6)) === 0) families |= AF_INET | AF_INET6;
  if ((dbs & UNIX_DBS) !== 0 && (families & AF_UNIX) === 0) families |= AF_UNIX;
  if ((families & (AF_INET | AF_INET6)) !== 0 && (dbs & INET_DBS) === 0) dbs |= INET_DBS;
  if ((families & AF_UNIX) !== 0 && (dbs & UNIX_DBS) === 0) dbs |= UNIX_DBS;
  const set = new Set<TcpState | 'UNCONN'>(STATE_BITS.filter((s) => (states & bit(s)) !== 0));
  return {
    tcp: (dbs & TCP) !== 0,
    udp: (dbs & UDP) !== 0,
    raw: (dbs & RAW) !== 0,
    netid: (dbs & (dbs - 1)) !== 0,
    netlink: (dbs & NETLINK_DB) !== 0,
    dccp: (dbs & DCCP_DB) !== 0,
    states: set,
    stateColumn: (states & (states - 1)) !== 0,
    ipv4: (families & AF_INET) !== 0,
    ...o,
  };
}

/** How ports and protocol numbers get their names. */
export interface SsNames {
  /** /etc/services name of a port (getservbyport), or undefined. */
  service(port: number, proto: string): string | undefined;
  /** /etc/protocols name of a protocol number, or undefined. */
  protocol(num: number): string | undefined;
  /** net.ipv4.ip_local_port_range: ports in it are never named. */
  ephemeral: [number, number];
}

/** A column of ss's table. */
interface Column {
  header: string;
  right: boolean;
  delim: string;
  enabled: boolean;
}

function portText(port: number, proto: 'tcp' | 'udp' | 'raw', opts: SsOptions, names: SsNames): string {
  if (port === 0) return '*';
  if (opts.numeric) return String(port);
  if (proto === 'raw') return names.protocol(port) ?? String(port);
  if (port >= names.ephemeral[0] && port <= names.ephemeral[1]) return String(port);
  return names.service(port, proto) ?? String(port);
}

/** The socket's fields for the ten columns. */
function rowOf(s: SocketInfo, opts: SsOptions, names: SsNames): string[] {
  const p = s.process;
  // ss -p shows the descriptor; the layer may not know it (a program's first socket is fd 3).
  const fd = (p as { fd?: number } | undefined)?.fd ?? 3;
  return [
    s.proto,
    s.state,
    String(s.recvQ).padEnd(6),
    String(s.sendQ).padEnd(6),
    `${formatIPv4(s.local.addr)}:`,
    portText(s.local.port, s.proto, opts, names),
    `${formatIPv4(s.remote.addr)}:`,
    portText(s.remote.port, s.proto, opts, names),
    opts.processes && p ? ` users:(("${p.name}",pid=${p.pid},fd=${fd}))` : '',
    '',
  ];
}

/** Lays the rows out as ss does without a terminal; `rows` include the header when shown. */
function render(rows: string[][], columns: Column[]): string {
  const width = columns.map(() => 0);
  const maxLen = columns.map((_, i) => Math.max(0, ...rows.map((r) => r[i]!.length)));
  let first = true;
  for (let i = 0; i < columns.length; i++) {
    if (!columns[i]!.enabled) continue;
    width[i] = !first && maxLen[i]! > 0 ? maxLen[i]! + columns[i]!.delim.length : maxLen[i]!;
    if (width[i]! > 0) first = false;
  }
  let out = '';
  for (const r of rows) {
    let started = false;
    for (let i = 0; i < columns.length; i++) {
      const c = columns[i]!;
      if (!c.enabled) continue;
      const text = r[i]!;
      let printed = 0;
      if (started) {
        out += c.delim;
        printed = c.delim.length;
      }
      started = true;
      if (width[i]! > 0 && c.right) {
        const s = width[i]! - text.length - printed;
        if (s > 0) {
          out += ' '.repeat(s);
          printed += s;
        }
      }
      out += text;
      printed += text.length;
      if (width[i]! > 0 && !c.right && width[i]! - printed > 0) out += ' '.repeat(width[i]! - printed);
    }
    out += '\n';
  }
  return out;
}

/**
 * The netlink sockets every namespace's kernel has, with ss's own diag
 * socket (its queue as measured on this machine's kernel): protocol name,
 * number, owner, Recv-Q.
 */
const KERNEL_NETLINK: [string, number, 'kernel' | 'ss', number][] = [
  ['rtnl', 0, 'kernel', 0],
  ['tcpdiag', 4, 'kernel', 832],
  ['tcpdiag', 4, 'ss', 4352],
  ['xfrm', 6, 'kernel', 0],
  ['audit', 9, 'kernel', 0],
  ['fiblookup', 10, 'kernel', 0],
  ['nft', 12, 'kernel', 0],
  ['uevent', 15, 'kernel', 0],
  ['genl', 16, 'kernel', 0],
];

/** The rows of the netlink sockets; `ssPid` is the pid of the ss listing them. */
function netlinkRows(opts: SsOptions, ssPid: number): string[][] {
  return KERNEL_NETLINK.map(([name, num, owner, recvQ]) => [
    'nl',
    'UNCONN',
    String(recvQ).padEnd(6),
    '0     ',
    opts.numeric ? `${num}:` : `${name}:`,
    owner === 'kernel' ? (opts.numeric ? '0' : 'kernel') : opts.numeric ? String(ssPid) : `ss/${ssPid}`,
    '*',
    '',
    '',
    '',
  ]);
}

/** What `ss` prints for these sockets (the socket layer's list); `ssPid` is the listing ss's own pid. */
export function formatSs(sockets: readonly SocketInfo[], opts: SsOptions, names: SsNames, ssPid = 0): string {
  const columns: Column[] = [
    { header: 'Netid', right: false, delim: '', enabled: opts.netid },
    { header: 'State', right: false, delim: ' ', enabled: opts.stateColumn },
    { header: 'Recv-Q', right: false, delim: ' ', enabled: true },
    { header: 'Send-Q', right: false, delim: ' ', enabled: true },
    { header: 'Local Address:', right: true, delim: ' ', enabled: true },
    { header: 'Port', right: false, delim: '', enabled: true },
    { header: 'Peer Address:', right: true, delim: ' ', enabled: true },
    { header: 'Port', right: false, delim: '', enabled: true },
    { header: 'Process', right: false, delim: '', enabled: true },
    { header: '', right: false, delim: '', enabled: true },
  ];
  const rows: string[][] = [];
  if (opts.header) rows.push(columns.map((c) => c.header));
  if (opts.netlink && opts.states.has('UNCONN')) rows.push(...netlinkRows(opts, ssPid));
  if (opts.ipv4) {
    for (const proto of ['raw', 'udp', 'tcp'] as const) {
      if (!opts[proto]) continue;
      for (const s of sockets) {
        if (s.proto === proto && opts.states.has(s.state)) rows.push(rowOf(s, opts, names));
      }
    }
  }
  return rows.length === 0 ? '' : render(rows, columns);
}

/** Names from the lab's netbase lists and the namespace's port range. */
export function ssNames(ephemeral: [number, number] = [32768, 60999]): SsNames {
  const db = createNameDb();
  return { service: (port, proto) => db.serviceName(port, proto), protocol: (n) => db.protoName(n), ephemeral };
}

/** `ss [OPTIONS]`: the namespace's sockets. */
export const ss: Program = function* (ctx: ProgramContext): ProgramBody {
  const opts = parseSsArgs(ctx.argv.slice(1));
  if ('error' in opts) {
    if (opts.version) ctx.out('ss utility, iproute2-6.1.0\n');
    else ctx.err(opts.error);
    return opts.status;
  }
  const range = (sysctlGet(ctx.machine.net, 'net.ipv4.ip_local_port_range') ?? '32768\t60999').split(/\s+/).map(Number);
  if (opts.dccp) ctx.err('RTNETLINK answers: Invalid argument\n');
  ctx.out(formatSs(ctx.sockets.list(), opts, ssNames([range[0] ?? 32768, range[1] ?? 60999]), ctx.pid));
  return 0;
};
