/**
 * The conntrack command (conntrack-tools 1.4.7 with libnetfilter_conntrack
 * 1.0.9, as Debian 12 ships them) over the lab's connection table:
 * -L (with the filters -s/-d/-r/-q with --mask-src/--mask-dst, -p with
 * the protocol's port, state and ICMP options, -m, -u, -w, -f, the NAT
 * filters -n/-g/-j, -z, and -o extended|id|xml), -G, -D with the same
 * filters, -F, -C, -S, -V, -h, and the expectation, dying and unconfirmed
 * tables (always empty here). Output, messages and exit statuses are the
 * real tool's.
 *
 * Order: the kernel lists entries by hash bucket, which depends on a seed
 * chosen at random at boot; nflab lists them in the order they were
 * confirmed. Comparisons with the real tool sort the lines.
 *
 * Not supported: -I, -U, -A, -R (creating and updating entries) and -E
 * (events: the real tool waits for them until interrupted; here it
 * returns at once, as if interrupted).
 */
import { formatIPv4, inetAton } from '../core/addr/ipv4.js';
import { parseIPv6 } from '../core/addr/ipv6.js';
import { SCTP_STATE_NAMES, type SctpState } from '../core/conntrack/proto-sctp.js';
import { TCP_STATE_NAMES, type TcpState } from '../core/conntrack/proto-tcp.js';
import { flushExpectations, formatExpectation, formatExpectationXml, listExpectations, masterRefCounts } from '../core/conntrack/expect.js';
import { type ConnExtra, type ConntrackTable, connSecondsLeft } from '../core/conntrack/table.js';
import { IPS, type Conn, type Tuple } from '../core/conntrack/types.js';
import { createNameDb } from '../core/xt/namedb.js';
import { ctime } from './iptables/save.js';
import { Getopt, type LongOption } from './iptables/getopt.js';

/** What a conntrack invocation produced. */
export interface ConntrackCliResult {
  stdout: string;
  stderr: string;
  status: number;
  /** Whether the table was changed (entries deleted, flushed or counters zeroed). */
  changed: boolean;
}

/** Settings of the machine the command runs on. */
export interface ConntrackCliOptions {
  /** Number of CPUs (conntrack -S prints a line per CPU); 1 by default. */
  ncpu?: number;
  /**
   * The machine's wall clock at `nowNs`, seconds since the epoch (for the
   * timestamps of nf_conntrack_timestamp); by default it reads the time
   * since boot.
   */
  wallSec?: number;
}

const PROG = 'conntrack v1.4.7 (conntrack-tools): ';

const HELP =
  'Command line interface for the connection tracking system. Version 1.4.7\n' +
  'Usage: conntrack [commands] [options]\n\n' +
  'Commands:\n' +
  '  -L [table] [options]\t\tList conntrack or expectation table\n' +
  '  -G [table] parameters\t\tGet conntrack or expectation\n' +
  '  -D [table] parameters\t\tDelete conntrack or expectation\n' +
  '  -I [table] parameters\t\tCreate a conntrack or expectation\n' +
  '  -U [table] parameters\t\tUpdate a conntrack\n' +
  '  -E [table] [options]\t\tShow events\n' +
  '  -F [table]\t\t\tFlush table\n' +
  '  -C [table]\t\t\tShow counter\n' +
  '  -S\t\t\t\tShow statistics\n\n' +
  'Tables: conntrack, expect, dying, unconfirmed\n\n' +
  'Conntrack parameters and options:\n' +
  '  -n, --src-nat ip\t\t\tsource NAT ip\n' +
  '  -g, --dst-nat ip\t\t\tdestination NAT ip\n' +
  '  -j, --any-nat ip\t\t\tsource or destination NAT ip\n' +
  '  -m, --mark mark\t\t\tSet mark\n' +
  '  -c, --secmark secmark\t\t\tSet selinux secmark\n' +
  '  -e, --event-mask eventmask\t\tEvent mask, eg. NEW,DESTROY\n' +
  '  -z, --zero \t\t\t\tZero counters while listing\n' +
  '  -o, --output type[,...]\t\tOutput format, eg. xml\n' +
  '  -l, --label label[,...]\t\tconntrack labels\n\n' +
  'Expectation parameters and options:\n' +
  '  --tuple-src ip\tSource address in expect tuple\n' +
  '  --tuple-dst ip\tDestination address in expect tuple\n\n' +
  'Updating parameters and options:\n' +
  '  --label-add label\tAdd label\n' +
  '  --label-del label\tDelete label\n\n' +
  'Common parameters and options:\n' +
  '  -s, --src, --orig-src ip\t\tSource address from original direction\n' +
  '  -d, --dst, --orig-dst ip\t\tDestination address from original direction\n' +
  '  -r, --reply-src ip\t\tSource addres from reply direction\n' +
  '  -q, --reply-dst ip\t\tDestination address from reply direction\n' +
  "  -p, --protonum proto\t\tLayer 4 Protocol, eg. 'tcp'\n" +
  "  -f, --family proto\t\tLayer 3 Protocol, eg. 'ipv6'\n" +
  '  -t, --timeout timeout\t\tSet timeout\n' +
  '  -u, --status status\t\tSet status, eg. ASSURED\n' +
  '  -w, --zone value\t\tSet conntrack zone\n' +
  '  --orig-zone value\t\tSet zone for original direction\n' +
  '  --reply-zone value\t\tSet zone for reply direction\n' +
  '  -b, --buffer-size\t\tNetlink socket buffer size\n' +
  '  --mask-src ip\t\t\tSource mask address\n' +
  '  --mask-dst ip\t\t\tDestination mask address\n\n';

const OPTSTRING = ':L::I::U::D::G::E::F::hVs:d:r:q:p:t:u:e:a:z[:]:{:}:m:i:f:o:n::g::c:b:C::Sj::w:l:<:>:(:):AR:';

const ORIGINAL_OPTS: LongOption[] = [
  { name: 'dump', hasArg: 'optional', val: 'L' },
  { name: 'create', hasArg: 'optional', val: 'I' },
  { name: 'add', hasArg: 'optional', val: 'A' },
  { name: 'delete', hasArg: 'optional', val: 'D' },
  { name: 'update', hasArg: 'optional', val: 'U' },
  { name: 'get', hasArg: 'optional', val: 'G' },
  { name: 'flush', hasArg: 'optional', val: 'F' },
  { name: 'event', hasArg: 'optional', val: 'E' },
  { name: 'counter', hasArg: 'optional', val: 'C' },
  { name: 'stats', hasArg: 'no', val: 'S' },
  { name: 'version', hasArg: 'no', val: 'V' },
  { name: 'help', hasArg: 'no', val: 'h' },
  { name: 'orig-src', hasArg: 'required', val: 's' },
  { name: 'src', hasArg: 'required', val: 's' },
  { name: 'orig-dst', hasArg: 'required', val: 'd' },
  { name: 'dst', hasArg: 'required', val: 'd' },
  { name: 'reply-src', hasArg: 'required', val: 'r' },
  { name: 'reply-dst', hasArg: 'required', val: 'q' },
  { name: 'protonum', hasArg: 'required', val: 'p' },
  { name: 'timeout', hasArg: 'required', val: 't' },
  { name: 'status', hasArg: 'required', val: 'u' },
  { name: 'zero', hasArg: 'no', val: 'z' },
  { name: 'event-mask', hasArg: 'required', val: 'e' },
  { name: 'tuple-src', hasArg: 'required', val: '[' },
  { name: 'tuple-dst', hasArg: 'required', val: ']' },
  { name: 'mask-src', hasArg: 'required', val: '{' },
  { name: 'mask-dst', hasArg: 'required', val: '}' },
  { name: 'nat-range', hasArg: 'required', val: 'a' },
  { name: 'mark', hasArg: 'required', val: 'm' },
  { name: 'secmark', hasArg: 'required', val: 'c' },
  { name: 'id', hasArg: 'required', val: 'i' },
  { name: 'family', hasArg: 'required', val: 'f' },
  { name: 'src-nat', hasArg: 'optional', val: 'n' },
  { name: 'dst-nat', hasArg: 'optional', val: 'g' },
  { name: 'output', hasArg: 'required', val: 'o' },
  { name: 'buffer-size', hasArg: 'required', val: 'b' },
  { name: 'any-nat', hasArg: 'optional', val: 'j' },
  { name: 'zone', hasArg: 'required', val: 'w' },
  { name: 'label', hasArg: 'required', val: 'l' },
  { name: 'label-add', hasArg: 'required', val: '<' },
  { name: 'label-del', hasArg: 'required', val: '>' },
  { name: 'orig-zone', hasArg: 'required', val: '(' },
  { name: 'reply-zone', hasArg: 'required', val: ')' },
];

// commands, in the order of their bits (enum ct_command)
const CMD = {
  LIST: 0,
  CREATE: 1,
  UPDATE: 2,
  DELETE: 3,
  GET: 4,
  FLUSH: 5,
  EVENT: 6,
  VERSION: 7,
  HELP: 8,
  EXP_LIST: 9,
  EXP_CREATE: 10,
  EXP_DELETE: 11,
  EXP_GET: 12,
  EXP_FLUSH: 13,
  EXP_EVENT: 14,
  COUNT: 15,
  EXP_COUNT: 16,
  STATS: 17,
  EXP_STATS: 18,
  ADD: 19,
} as const;

// options, in the order of their bits (enum ct_options), with the names errors use
const OPT_NAMES = [
  'src',
  'dst',
  'reply-src',
  'reply-dst',
  'protonum',
  'timeout',
  'status',
  'zero',
  'event-mask',
  'tuple-src',
  'tuple-dst',
  'mask-src',
  'mask-dst',
  'nat-range',
  'mark',
  'id',
  'family',
  'src-nat',
  'dst-nat',
  'output',
  'secmark',
  'buffer-size',
  'any-nat',
  'zone',
  'label',
  'label-add',
  'label-del',
  'orig-zone',
  'reply-zone',
] as const;
const OPT_BIT: Record<string, number> = Object.fromEntries(OPT_NAMES.map((n, i) => [n, i]));
const O = (name: (typeof OPT_NAMES)[number]): number => 1 << OPT_BIT[name]!;
const O_ORIG = O('src') | O('dst');
const O_REPL = O('reply-src') | O('reply-dst');
const O_COMPARISON = O('protonum') | O_ORIG | O_REPL | O('mark') | O('secmark') | O('status') | O('id') | O('zone') | O('label');

/**
 * Which options each command takes (commands_v_options): 0 illegal,
 * 1 required, 2 optional, 3 the address pairs (--src/--dst or
 * --reply-src/--reply-dst) needed as a whole. Columns follow OPT_NAMES.
 */
const row = (cols: string): string => cols.replace(/ /g, '');
const NONE_OPTS = '0'.repeat(OPT_NAMES.length);
const CMD_OPTS: Record<number, string> = {
  //                 s d r q p t u z e [ ] { } a m i f n g o c b j w l < > ( )
  [CMD.LIST]: row('2 2 2 2 2 0 2 2 0 0 0 2 2 0 2 0 2 2 2 2 2 0 2 2 2 0 0 2 2'),
  [CMD.CREATE]: row('3 3 3 3 1 1 2 0 0 0 0 0 0 2 2 0 0 2 2 0 0 0 0 2 0 2 0 2 2'),
  [CMD.UPDATE]: row('2 2 2 2 2 2 2 0 0 0 0 0 0 0 2 2 2 2 2 2 0 0 0 2 2 2 2 2 2'),
  [CMD.DELETE]: row('2 2 2 2 2 2 2 0 0 0 0 2 2 0 2 2 2 2 2 2 0 0 0 2 0 0 0 2 2'),
  [CMD.GET]: row('3 3 3 3 1 0 0 0 0 0 0 0 0 0 0 2 0 0 0 2 0 0 0 2 0 0 0 2 2'),
  [CMD.FLUSH]: NONE_OPTS,
  [CMD.EVENT]: row('2 2 2 2 2 0 0 0 2 0 0 0 0 0 2 0 0 2 2 2 2 2 2 2 2 0 0 2 2'),
  [CMD.VERSION]: NONE_OPTS,
  [CMD.HELP]: row('0 0 0 0 2 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0'),
  [CMD.EXP_LIST]: row('0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 0 0 2 0 0 0 0 0 0 0 0 0'),
  [CMD.EXP_CREATE]: row('1 1 2 2 1 1 2 0 0 1 1 1 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0'),
  [CMD.EXP_DELETE]: row('1 1 2 2 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0'),
  [CMD.EXP_GET]: row('1 1 2 2 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0'),
  [CMD.EXP_FLUSH]: NONE_OPTS,
  [CMD.EXP_EVENT]: row('0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0 0 0'),
  [CMD.COUNT]: NONE_OPTS,
  [CMD.EXP_COUNT]: NONE_OPTS,
  [CMD.STATS]: NONE_OPTS,
  [CMD.EXP_STATS]: NONE_OPTS,
  [CMD.ADD]: row('3 3 3 3 1 1 2 0 0 0 0 0 0 2 2 0 0 2 2 0 0 0 0 2 0 2 0 2 2'),
};

/** The real tool crashes (SIGSEGV): no output, exit status 139. */
class Crash extends Error {}
/** A parameter error: message, then the "Try" line, exit status 2. */
class ParamError extends Error {}
/** Another error: message only, exit status 1. */
class OtherError extends Error {}

/** A protocol's extra options (the conntrack-tools extension of -p). */
interface ProtoExt {
  name: string;
  /** Long options: name, key. */
  opts: { name: string; key: string }[];
  /** Option key to the name errors use, in flag bit order. */
  flagNames: string[];
  /** Per command: legality of each flag (as CMD_OPTS). */
  cmdOpts: Record<number, string>;
}

const PORT_OPTS = [
  { name: 'orig-port-src', key: '1' },
  { name: 'sport', key: '1' },
  { name: 'orig-port-dst', key: '2' },
  { name: 'dport', key: '2' },
  { name: 'reply-port-src', key: '3' },
  { name: 'reply-port-dst', key: '4' },
  { name: 'mask-port-src', key: '5' },
  { name: 'mask-port-dst', key: '6' },
];
const PORT_FLAGS = ['sport', 'dport', 'reply-port-src', 'reply-port-dst', 'mask-port-src', 'mask-port-dst', 'state', 'tuple-port-src', 'tuple-port-dst'];
const PORT_CMD_OPTS: Record<number, string> = {
  [CMD.LIST]: '222200200',
  [CMD.CREATE]: '333300100',
  [CMD.UPDATE]: '222200200',
  [CMD.DELETE]: '222200200',
  [CMD.GET]: '333300200',
  [CMD.EVENT]: '222200200',
  [CMD.EXP_CREATE]: '111111011',
  [CMD.EXP_DELETE]: '111100000',
  [CMD.EXP_GET]: '111100000',
  [CMD.ADD]: '333300100',
};

function portExt(name: string, withState: boolean, extra: { name: string; key: string }[] = []): ProtoExt {
  const opts = [...PORT_OPTS];
  if (withState) opts.push({ name: 'state', key: '7' });
  opts.push({ name: 'tuple-port-src', key: '8' }, { name: 'tuple-port-dst', key: '9' }, ...extra);
  const flagNames = [...PORT_FLAGS, ...extra.map((o) => o.name)];
  // the extra options (SCTP tags, DCCP role) are for creating and updating entries only
  const cmdOpts: Record<number, string> = {};
  for (const [cmd, legal] of Object.entries(PORT_CMD_OPTS)) cmdOpts[Number(cmd)] = legal + '0'.repeat(extra.length);
  return { name, opts, flagNames, cmdOpts };
}

/** SCTP states as conntrack-tools parses them (HEARTBEAT_ACKED and unknown names crash the 1.4.7 tool). */
const SCTP_STATE_ARGS = ['NONE', 'CLOSED', 'COOKIE_WAIT', 'COOKIE_ECHOED', 'ESTABLISHED', 'SHUTDOWN_SENT', 'SHUTDOWN_RECD', 'SHUTDOWN_ACK_SENT', 'HEARTBEAT_SENT'];
/** DCCP states as conntrack-tools parses them. */
const DCCP_STATE_ARGS = ['NONE', 'REQUEST', 'RESPOND', 'PARTOPEN', 'OPEN', 'CLOSEREQ', 'CLOSING', 'TIMEWAIT', 'IGNORE', 'INVALID'];

const ICMP_FLAGS = ['icmp-type', 'icmp-code', 'icmp-id', 'reply-icmp-type', 'reply-icmp-code', 'reply-icmp-id'];
const ICMP_EXT: ProtoExt = {
  name: 'icmp',
  opts: [
    { name: 'icmp-type', key: '1' },
    { name: 'icmp-code', key: '2' },
    { name: 'icmp-id', key: '3' },
    { name: 'reply-icmp-type', key: '4' },
    { name: 'reply-icmp-code', key: '5' },
    { name: 'reply-icmp-id', key: '6' },
  ],
  flagNames: ICMP_FLAGS,
  cmdOpts: {
    [CMD.LIST]: '222000',
    [CMD.CREATE]: '111222',
    [CMD.UPDATE]: '222000',
    [CMD.DELETE]: '222000',
    [CMD.GET]: '111000',
    [CMD.EVENT]: '222000',
    [CMD.ADD]: '111222',
  },
};

const GRE_EXT: ProtoExt = {
  name: 'gre',
  opts: [
    { name: 'srckey', key: '1' },
    { name: 'dstkey', key: '2' },
    { name: 'reply-srckey', key: '3' },
    { name: 'reply-dstkey', key: '4' },
  ],
  flagNames: ['srckey', 'dstkey', 'reply-srckey', 'reply-dstkey'],
  cmdOpts: { [CMD.LIST]: '2222', [CMD.DELETE]: '2222', [CMD.UPDATE]: '2222', [CMD.GET]: '3333', [CMD.EVENT]: '2222' },
};

/** The protocols conntrack-tools has extensions for, by name and number. */
const PROTO_EXTS: { name: string; num: number; ext: ProtoExt }[] = [
  { name: 'tcp', num: 6, ext: portExt('tcp', true) },
  { name: 'udp', num: 17, ext: portExt('udp', false) },
  { name: 'udplite', num: 136, ext: portExt('udplite', false) },
  {
    name: 'sctp',
    num: 132,
    ext: portExt('sctp', true, [
      { name: 'orig-vtag', key: 'a' },
      { name: 'reply-vtag', key: 'b' },
    ]),
  },
  { name: 'dccp', num: 33, ext: portExt('dccp', true, [{ name: 'role', key: 'a' }]) },
  { name: 'icmp', num: 1, ext: ICMP_EXT },
  { name: 'gre', num: 47, ext: GRE_EXT },
];

/** Protocol names as the library prints them. */
const PROTO_NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 136: 'udplite', 1: 'icmp', 58: 'icmpv6', 132: 'sctp', 47: 'gre', 33: 'dccp' };

/** C atoi: leading blanks, a sign, decimal digits; 0 when there are none. */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)/.exec(s)!;
  const v = m[2] ? Number(m[2].slice(0, 15)) : 0;
  return m[1] === '-' ? -v : v;
}

/** C strtoul(s, NULL, 0) as an unsigned 32-bit value (what the tools keep); also where it stopped. */
function strtoul32(s: string): { value: number; end: number } {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)?/.exec(s)!;
  if (!m[2]) return { value: 0, end: 0 };
  let v: number;
  if (/^0[xX]/.test(m[2])) v = parseInt(m[2].slice(2, 12), 16);
  else if (m[2].startsWith('0')) v = parseInt(m[2], 8) || 0;
  else v = Number(m[2].slice(0, 20));
  const big = BigInt.asUintN(32, BigInt(Math.min(v, Number.MAX_SAFE_INTEGER)));
  let value = Number(big);
  if (m[1] === '-') value = (0x100000000 - value) % 0x100000000;
  return { value, end: m[0].length };
}

/** Parses an address as conntrack does: IPv4 (inet_aton) or IPv6. */
function parseAddr(s: string): { family: 4; v4: number } | { family: 6 } | null {
  const v4 = inetAton(s.replace(/[ \t\n].*$/s, ''));
  if (v4 !== undefined) return { family: 4, v4 };
  if (parseIPv6(s) !== undefined) return { family: 6 };
  return null;
}

/** Everything the command line asked for. */
interface Request {
  command: number;
  cmd: number;
  table: 'conntrack' | 'expect' | 'dying' | 'unconfirmed';
  options: number;
  family: 0 | 4 | 6;
  origSrc?: number;
  origDst?: number;
  replSrc?: number;
  replDst?: number;
  maskSrc?: number;
  maskDst?: number;
  addrFamily6: boolean;
  proto?: number;
  ext?: ProtoExt;
  l4flags: number;
  sport?: number;
  dport?: number;
  rsport?: number;
  rdport?: number;
  tcpState?: number;
  sctpState?: number;
  dccpState?: number;
  icmpType?: number;
  icmpCode?: number;
  icmpId?: number;
  status: number;
  mark?: { value: number; mask: number };
  zone?: number;
  /** -t: compared with the seconds left by the commands that filter (an exact match). */
  timeout?: number;
  /** -i: compared with the connection id. */
  id?: number;
  outXml: boolean;
  outExt: boolean;
  outId: boolean;
  outKtms: boolean;
  snat?: { ip?: number; port?: number };
  dnat?: { ip?: number; port?: number };
  warnings: string;
}

function exitParam(msg: string): never {
  throw new ParamError(msg);
}

function setFamily(r: Request, f: 4 | 6): void {
  if (r.family === 0) r.family = f;
  else if (r.family !== f) exitParam('mismatched address family');
}

function addCommand(r: Request, bit: number): void {
  if (r.command) exitParam('Invalid commands combination');
  r.command = 1 << bit;
  r.cmd = bit;
}

/** The optional table name after a command (get_table/check_type). */
function checkType(g: Getopt, optarg: string | undefined): Request['table'] {
  let table: string | undefined;
  if (optarg !== undefined) return 'conntrack';
  const next = g.argv[g.optind];
  if (next !== undefined && next[0] !== '-' && next[0] !== '!') {
    table = next;
    g.optind++;
  }
  if (table === undefined) return 'conntrack';
  if ('expect'.startsWith(table)) return 'expect';
  if ('conntrack'.startsWith(table)) return 'conntrack';
  if ('dying'.startsWith(table)) return 'dying';
  if ('unconfirmed'.startsWith(table)) return 'unconfirmed';
  exitParam(`unknown type \`${table}'`);
}

const STATUS_WORDS: [string, number][] = [
  ['ASSURED', IPS.ASSURED],
  ['SEEN_REPLY', IPS.SEEN_REPLY],
  ['UNSET', 0],
  ['FIXED_TIMEOUT', IPS.FIXED_TIMEOUT],
  ['EXPECTED', IPS.EXPECTED],
];
const OUTPUT_WORDS: [string, string][] = [
  ['xml', 'xml'],
  ['extended', 'ext'],
  ['timestamp', 'tms'],
  ['id', 'id'],
  ['ktimestamp', 'ktms'],
  ['labels', 'labels'],
];

/** parse_parameter: a comma-separated list of words, each matched as a case-insensitive prefix. */
function parseWords<T>(arg: string, words: [string, T][], r: Request, nat: boolean): T[] {
  const out: T[] = [];
  const one = (w: string): boolean => {
    const n = w.length;
    if (nat && 'SRC_NAT'.slice(0, n).toLowerCase() === w.toLowerCase()) {
      r.warnings += 'WARNING: ignoring SRC_NAT, use --src-nat instead\n';
      return true;
    }
    if (nat && 'DST_NAT'.slice(0, n).toLowerCase() === w.toLowerCase()) {
      r.warnings += 'WARNING: ignoring DST_NAT, use --dst-nat instead\n';
      return true;
    }
    for (const [name, v] of words) {
      if (name.slice(0, n).toLowerCase() === w.toLowerCase()) {
        out.push(v);
        return true;
      }
    }
    return false;
  };
  let rest = arg;
  for (;;) {
    const comma = rest.indexOf(',');
    if (comma < 0) break;
    if (comma === 0 || !one(rest.slice(0, comma))) exitParam(`Bad parameter \`${rest}'`);
    rest = rest.slice(comma + 1);
  }
  if (rest.length === 0 || !one(rest)) exitParam(`Bad parameter \`${rest}'`);
  return out;
}

/** findproto: a known protocol, a name from /etc/protocols, or a number 0-255. */
function findProto(name: string): { num: number; ext?: ProtoExt } | null {
  const known = PROTO_EXTS.find((p) => p.name === name);
  if (known) return { num: known.num, ext: known.ext };
  const byName = createNameDb().protoNumber(name);
  if (byName !== undefined) return { num: byName, ext: PROTO_EXTS.find((p) => p.num === byName)?.ext };
  const n = strtoul32(name);
  if (n.end === name.length && n.end > 0 && !/^\s*-/.test(name) && n.value <= 255) {
    return { num: n.value, ext: PROTO_EXTS.find((p) => p.num === n.value)?.ext };
  }
  return null;
}

/** nat_parse: "ip[:port]" of --src-nat/--dst-nat/--any-nat. */
function natParse(arg: string): { ip?: number; port?: number } {
  const out: { ip?: number; port?: number } = {};
  let a = arg;
  const colon = a.indexOf(':');
  if (colon >= 0) {
    const portText = a.slice(colon + 1);
    const port = atoi(portText) & 0xffff;
    if (port === 0) exitParam(portText.length === 0 ? "No port specified after `:'" : `Port \`${portText}' not valid`);
    if (portText.includes(':')) exitParam('Invalid port:port syntax');
    out.port = port;
    a = a.slice(0, colon);
  }
  const p = parseAddr(a);
  if (p === null) exitParam(a.length === 0 ? 'No IP specified' : `Invalid IP address \`${a}'`);
  if (p.family === 4) out.ip = p.v4;
  return out;
}

/** generic_opt_check: illegal and missing options, then the address pairs. */
function optCheck(options: number, legal: string, names: readonly string[], pairs: number[], pairMsgs: string[]): void {
  let special = false;
  for (let i = 0; i < names.length; i++) {
    const want = legal[i] ?? '0';
    if (!(options & (1 << i))) {
      if (want === '1') exitParam(`You need to supply the \`--${names[i]}' option for this command`);
    } else if (want === '0') {
      exitParam(`Illegal option \`--${names[i]}' with this command`);
    }
    if (want === '3') special = true;
  }
  if (!special) return;
  let partial = -1;
  for (let i = 0; i < pairs.length; i++) {
    if ((options & pairs[i]!) === pairs[i]) return;
    if (options & pairs[i]! && partial < 0) partial = i;
  }
  exitParam(pairMsgs[partial <= 0 ? 0 : partial]!);
}

/** A request with nothing asked yet. */
function emptyRequest(): Request {
  return {
    command: 0,
    cmd: -1,
    table: 'conntrack',
    options: 0,
    family: 0,
    addrFamily6: false,
    l4flags: 0,
    status: 0,
    outXml: false,
    outExt: false,
    outId: false,
    outKtms: false,
    warnings: '',
  };
}

/** Reads the command line into `r` (throws ParamError/OtherError as the tool exits). */
function parseArgs(argv: readonly string[], r: Request): void {
  let longopts = ORIGINAL_OPTS;
  const g = new Getopt(['conntrack', ...argv], OPTSTRING, longopts);
  for (;;) {
    const { c, optarg } = g.next();
    if (c === null) break;
    const arg = optarg ?? '';
    switch (c) {
      case 'L': {
        r.table = checkType(g, optarg);
        addCommand(r, r.table === 'expect' ? CMD.EXP_LIST : CMD.LIST);
        break;
      }
      case 'I':
      case 'D':
      case 'G':
      case 'F':
      case 'E':
      case 'V':
      case 'h':
      case 'C':
      case 'S':
      case 'A': {
        const t = c === 'V' || c === 'h' || c === 'S' || c === 'A' ? 'conntrack' : checkType(g, optarg);
        if (t === 'dying' || t === 'unconfirmed') exitParam("Can't do that command with tables `dying' and `unconfirmed'");
        r.table = t;
        const exp = t === 'expect';
        const map: Record<string, [number, number]> = {
          I: [CMD.CREATE, CMD.EXP_CREATE],
          D: [CMD.DELETE, CMD.EXP_DELETE],
          G: [CMD.GET, CMD.EXP_GET],
          F: [CMD.FLUSH, CMD.EXP_FLUSH],
          E: [CMD.EVENT, CMD.EXP_EVENT],
          V: [CMD.VERSION, CMD.VERSION],
          h: [CMD.HELP, CMD.HELP],
          C: [CMD.COUNT, CMD.EXP_COUNT],
          S: [CMD.STATS, CMD.EXP_STATS],
          A: [CMD.ADD, CMD.ADD],
        };
        addCommand(r, map[c]![exp ? 1 : 0]);
        break;
      }
      case 'U': {
        const t = checkType(g, optarg);
        if (t === 'dying' || t === 'unconfirmed') exitParam("Can't do that command with tables `dying' and `unconfirmed'");
        if (t !== 'conntrack') exitParam("Can't update expectations");
        addCommand(r, CMD.UPDATE);
        break;
      }
      case 'R':
        throw new OtherError('Operation failed: Operation not supported');
      case 's':
      case 'd':
      case 'r':
      case 'q': {
        const bit = { s: O('src'), d: O('dst'), r: O('reply-src'), q: O('reply-dst') }[c];
        r.options |= bit;
        const p = parseAddr(arg);
        if (p === null) exitParam(`Invalid IP address \`${arg}'`);
        setFamily(r, p.family);
        const v = p.family === 4 ? p.v4 : 0;
        if (c === 's') r.origSrc = v;
        else if (c === 'd') r.origDst = v;
        else if (c === 'r') r.replSrc = v;
        else r.replDst = v;
        break;
      }
      case '{':
      case '}':
      case '[':
      case ']': {
        const bit = { '{': O('mask-src'), '}': O('mask-dst'), '[': O('tuple-src'), ']': O('tuple-dst') }[c];
        r.options |= bit;
        const p = parseAddr(arg);
        if (p === null) exitParam(`Invalid IP address \`${arg}'`);
        setFamily(r, p.family);
        if (c === '{') r.maskSrc = p.family === 4 ? p.v4 : 0;
        if (c === '}') r.maskDst = p.family === 4 ? p.v4 : 0;
        break;
      }
      case 'p': {
        r.options |= O('protonum');
        const p = findProto(arg);
        if (p === null) exitParam(`\`${arg}' unsupported protocol`);
        r.proto = p.num;
        if (p.ext) {
          r.ext = p.ext;
          longopts = [...longopts, ...p.ext.opts.map((o) => ({ name: o.name, hasArg: 'required' as const, val: `x${p.num}:${o.key}` }))];
          g.longopts = longopts;
        }
        break;
      }
      case 't':
        r.options |= O('timeout');
        r.timeout = atoi(arg) >>> 0;
        break;
      case 'u': {
        r.options |= O('status');
        for (const v of parseWords(arg, STATUS_WORDS, r, true)) r.status |= v;
        break;
      }
      case 'e':
        r.options |= O('event-mask');
        parseWords(
          arg,
          [
            ['ALL', 0],
            ['NEW', 0],
            ['UPDATES', 0],
            ['DESTROY', 0],
          ],
          r,
          true,
        );
        break;
      case 'o': {
        r.options |= O('output');
        for (const v of parseWords(arg, OUTPUT_WORDS, r, true)) {
          if (v === 'xml') r.outXml = true;
          else if (v === 'ext') r.outExt = true;
          else if (v === 'id') r.outId = true;
          else if (v === 'ktms') r.outKtms = true;
          else if (v === 'labels') r.warnings += 'nfct_labelmap_new: No such file or directory\n';
        }
        break;
      }
      case 'z':
        r.options |= O('zero');
        break;
      case 'n':
      case 'g':
      case 'j': {
        r.options |= { n: O('src-nat'), g: O('dst-nat'), j: O('any-nat') }[c];
        if (optarg !== undefined) break;
        const next = g.argv[g.optind];
        if (next === undefined || next[0] === '-' || next[0] === '!') break;
        g.optind++;
        setFamily(r, 4);
        const nat = natParse(next);
        if (c === 'n' || c === 'j') r.snat = nat;
        if (c === 'g' || c === 'j') r.dnat = nat;
        break;
      }
      case 'w':
        r.options |= O('zone');
        r.zone = strtoul32(arg).value & 0xffff;
        break;
      case '(':
        r.options |= O('orig-zone');
        break;
      case ')':
        r.options |= O('reply-zone');
        break;
      case 'i':
        r.options |= O('id');
        r.id = strtoul32(arg).value;
        break;
      case 'c':
        r.options |= O('secmark');
        break;
      case 'm': {
        r.options |= O('mark');
        const v = strtoul32(arg);
        const rest = arg.slice(v.end);
        const mask = rest.startsWith('/') ? strtoul32(rest.slice(1)).value : 0xffffffff;
        r.mark = { value: v.value, mask };
        break;
      }
      case 'l':
        r.options |= O('label');
        r.warnings += 'nfct_labelmap_new: No such file or directory\n';
        exitParam(`unknown label '${arg.split(',')[0]}'`);
      // falls through (unreachable)
      case '<':
      case '>':
        r.options |= O(c === '<' ? 'label-add' : 'label-del');
        r.warnings += 'nfct_labelmap_new: No such file or directory\n';
        exitParam(`unknown label '${arg.split(',')[0]}'`);
      // falls through (unreachable)
      case 'a':
        r.warnings += `WARNING: ignoring -${c}, deprecated option.\n`;
        break;
      case 'f':
        r.options |= O('family');
        if (arg.startsWith('ipv4')) setFamily(r, 4);
        else if (arg.startsWith('ipv6')) setFamily(r, 6);
        else exitParam(`\`${arg}' unsupported protocol`);
        break;
      case 'b':
        r.options |= O('buffer-size');
        break;
      case ':':
        exitParam(`option \`${g.argv[g.optind - 1]}' requires an argument`);
      // falls through (unreachable)
      case '?':
        exitParam(`unknown option \`${g.argv[g.optind - 1]}'`);
      // falls through (unreachable)
      default:
        if (c.startsWith('x')) parseProtoOpt(r, c.slice(c.indexOf(':') + 1), arg);
        break;
    }
  }
  if (r.family === 0) r.family = 4;
  if (r.options & O('any-nat') && r.options & (O('src-nat') | O('dst-nat'))) {
    exitParam("cannot specify `--src-nat' or `--dst-nat' with `--any-nat'");
  }
  if (r.command === 0) return;
  optCheck(r.options, CMD_OPTS[r.cmd]!, OPT_NAMES, [O_ORIG, O_REPL], ["you have to specify `--src' and `--dst'", "you have to specify `--reply-src' and `--reply-dst'"]);
  if (r.cmd !== CMD.HELP && r.ext) {
    const legal = r.ext.cmdOpts[r.cmd] ?? '0'.repeat(r.ext.flagNames.length);
    const ports = r.ext.name === 'icmp' ? [] : [3, 12];
    const msgs = r.ext.name === 'icmp' ? [] : ["you have to specify `--sport' and `--dport'", "you have to specify `--reply-port-src' and `--reply-port-dst'"];
    optCheck(r.l4flags, legal, r.ext.flagNames, ports, msgs);
  }
  if (r.options & O('mask-src') && !(r.options & O('src'))) exitParam("Can't use --mask-src without --src");
  if (r.options & O('mask-dst') && !(r.options & O('dst'))) exitParam("Can't use --mask-dst without --dst");
}

/** A protocol extension's option. */
function parseProtoOpt(r: Request, key: string, arg: string): void {
  const ext = r.ext!;
  if (ext.name === 'icmp') {
    const v = atoi(arg);
    if (key === '1') r.icmpType = v & 0xff;
    else if (key === '2') r.icmpCode = v & 0xff;
    else if (key === '3') r.icmpId = v & 0xffff;
    r.l4flags |= 1 << (Number(key) - 1);
    return;
  }
  if (ext.name === 'gre') {
    const v = strtoul32(arg).value & 0xffff;
    if (key === '1') r.sport = v;
    else if (key === '2') r.dport = v;
    else if (key === '3') r.rsport = v;
    else if (key === '4') r.rdport = v;
    r.l4flags |= 1 << (Number(key) - 1);
    return;
  }
  const port = atoi(arg) & 0xffff;
  switch (key) {
    case '1':
      r.sport = port;
      break;
    case '2':
      r.dport = port;
      break;
    case '3':
      r.rsport = port;
      break;
    case '4':
      r.rdport = port;
      break;
    case '7': {
      if (ext.name === 'sctp') {
        const i = SCTP_STATE_ARGS.indexOf(arg);
        if (i < 0) throw new Crash();
        r.sctpState = i;
      } else if (ext.name === 'dccp') {
        const i = DCCP_STATE_ARGS.indexOf(arg);
        if (i < 0) exitParam(`Unknown DCCP state \`${arg}'`);
        r.dccpState = i;
      } else {
        let i = TCP_STATE_NAMES.indexOf(arg);
        if (arg === 'LISTEN') i = 9;
        if (i < 0) exitParam(`unknown TCP state \`${arg}'`);
        r.tcpState = i;
      }
      break;
    }
    default:
      break;
  }
  r.l4flags |= 1 << (key === 'a' ? 9 : key === 'b' ? 10 : Number(key) - 1);
}

// ------------------------------------------------------------------ output

function tcpStateOf(c: Conn): number {
  const st = c.l4 as TcpState | null;
  return st ? st.state : 0;
}

function sctpStateOf(c: Conn): number {
  const st = c.l4 as SctpState | null;
  return st ? st.state : 0;
}

function protoPart(t: Tuple): string {
  switch (t.proto) {
    case 6:
    case 17:
    case 136:
    case 132:
    case 33:
      return `sport=${t.sport} dport=${t.dport} `;
    case 47:
      return `srckey=0x${t.sport.toString(16)} dstkey=0x${t.dport.toString(16)} `;
    case 1:
      return `type=${t.dport >>> 8} code=${t.dport & 0xff} id=${t.sport} `;
    default:
      return '';
  }
}

/** The wall clock of a listing: the time now, virtual and real. */
export interface ListClock {
  nowNs: number;
  wallSec: number;
}

/** Start (wall ns) of a timestamped connection, or undefined. */
function startWallNs(c: Conn, clock: ListClock): number | undefined {
  const t = (c as Conn & ConnExtra).tstamp;
  if (t === undefined || t < 0) return undefined;
  return Math.round(clock.wallSec * 1e9 - (clock.nowNs - t));
}

/** delta-time: whole seconds now minus whole seconds at the start. */
function deltaTime(start: number, clock: ListClock): number {
  return Math.floor(clock.wallSec) - Math.floor(start / 1e9);
}

/** One entry as __snprintf_conntrack_default prints it. */
/** Packets still holding a reference to the connection (queued for a neighbour), counted in use=. */
function heldBy(c: Conn, refs?: Map<number, number>): number {
  const held = (c as Conn & { held?: number }).held ?? 0;
  return refs ? held + (refs.get(c.id) ?? 0) : held;
}

export function formatConn(c: Conn, nowNs: number, ext = false, withId = false, use = 1, clock?: ListClock, ktms = false): string {
  const acct = (c as Conn & ConnExtra).acct === true;
  const name = PROTO_NAMES[c.orig.proto] ?? 'unknown';
  let s = ext ? 'ipv4     2 ' : '';
  s += `${name.padEnd(8)} ${c.orig.proto} `;
  s += `${connSecondsLeft(c, nowNs)} `;
  if (c.orig.proto === 6) s += `${TCP_STATE_NAMES[tcpStateOf(c)]} `;
  else if (c.orig.proto === 132) s += `${SCTP_STATE_NAMES[sctpStateOf(c)]} `;
  s += `src=${formatIPv4(c.orig.src)} dst=${formatIPv4(c.orig.dst)} ` + protoPart(c.orig);
  if (acct) s += `packets=${c.pkts[0]} bytes=${c.bytes[0]} `;
  if (!(c.status & IPS.SEEN_REPLY)) s += '[UNREPLIED] ';
  s += `src=${formatIPv4(c.reply.src)} dst=${formatIPv4(c.reply.dst)} ` + protoPart(c.reply);
  if (acct) s += `packets=${c.pkts[1]} bytes=${c.bytes[1]} `;
  if (c.status & IPS.ASSURED) s += '[ASSURED] ';
  s += `mark=${c.mark >>> 0} `;
  if (c.zone) s += `zone=${c.zone} `;
  const start = clock ? startWallNs(c, clock) : undefined;
  if (start !== undefined) {
    s += `delta-time=${deltaTime(start, clock!)} `;
    if (ktms) s += `[start=${ctime(new Date(Math.floor(start / 1e6)))}] `;
  }
  if (c.helper) s += `helper=${c.helper} `;
  s += `use=${use} `;
  if (withId) s += `id=${c.id >>> 0} `;
  return s.slice(0, -1);
}

function xmlTuple(c: Conn, t: Tuple, dir: 'original' | 'reply', idx: 0 | 1): string {
  const name = PROTO_NAMES[t.proto] ?? 'unknown';
  let s = `<meta direction="${dir}"><layer3 protonum="2" protoname="ipv4"><src>${formatIPv4(t.src)}</src><dst>${formatIPv4(t.dst)}</dst></layer3>`;
  s += `<layer4 protonum="${t.proto}" protoname="${name}">`;
  switch (t.proto) {
    case 6:
    case 17:
    case 136:
    case 132:
    case 33:
      s += `<sport>${t.sport}</sport><dport>${t.dport}</dport>`;
      break;
    case 47:
      s += `<srckey>0x${t.sport.toString(16)}</srckey><dstkey>0x${t.dport.toString(16)}</dstkey>`;
      break;
    default:
      break;
  }
  s += '</layer4>';
  if ((c as Conn & ConnExtra).acct === true) s += `<counters><packets>${c.pkts[idx]}</packets><bytes>${c.bytes[idx]}</bytes></counters>`;
  return s + '</meta>';
}

/** One entry as __snprintf_conntrack_xml prints it. */
export function formatConnXml(c: Conn, nowNs: number, use = 1, clock?: ListClock, ktms = false): string {
  let s = '<flow>' + xmlTuple(c, c.orig, 'original', 0) + xmlTuple(c, c.reply, 'reply', 1);
  s += '<meta direction="independent">';
  if (c.orig.proto === 6) s += `<state>${TCP_STATE_NAMES[tcpStateOf(c)]}</state>`;
  // the library prints SCTP states with the TCP names in XML
  else if (c.orig.proto === 132) s += `<state>${TCP_STATE_NAMES[sctpStateOf(c)]}</state>`;
  s += `<timeout>${connSecondsLeft(c, nowNs)}</timeout><mark>${c.mark >>> 0}</mark>`;
  if (c.zone) s += `<zone>${c.zone}</zone>`;
  s += `<use>${use}</use><id>${c.id >>> 0}</id>`;
  if (c.status & IPS.ASSURED) s += '<assured/>';
  if (!(c.status & IPS.SEEN_REPLY)) s += '<unreplied/>';
  const start = clock ? startWallNs(c, clock) : undefined;
  if (start !== undefined) {
    if (ktms) s += `<timestamp><start>${start}</start></timestamp>`;
    s += `<deltatime>${deltaTime(start, clock!)}</deltatime>`;
  }
  s += '</meta>';
  if (c.helper) s += `<helper>${c.helper}</helper>`;
  return s + '</flow>';
}

// ------------------------------------------------------------------ filters

function natMatches(r: Request, c: Conn): boolean {
  const o = r.options;
  if (!(o & (O('src-nat') | O('dst-nat') | O('any-nat')))) return true;
  const isSnat = (c.status & IPS.SRC_NAT_DONE) !== 0 && c.reply.dst !== c.orig.src;
  const isSpat = (c.status & IPS.SRC_NAT_DONE) !== 0 && c.reply.dport !== c.orig.sport;
  const isDnat = (c.status & IPS.DST_NAT_DONE) !== 0 && c.reply.src !== c.orig.dst;
  const isDpat = (c.status & IPS.DST_NAT_DONE) !== 0 && c.reply.sport !== c.orig.dport;
  const any = (o & O('any-nat')) !== 0;
  let hasSrc = false;
  let hasDst = false;
  const check = (want: { ip?: number; port?: number } | undefined, isAddr: boolean, isPort: boolean, ipOf: number, portOf: number): boolean => {
    let has = false;
    const checkAddr = want?.ip !== undefined;
    const checkPort = want?.port !== undefined;
    if (checkAddr && isAddr && want!.ip === ipOf) has = true;
    if (checkPort) {
      const ok = isPort && want!.port === portOf;
      if (checkAddr && has && !ok) has = false;
      if (!checkAddr && ok) has = true;
    }
    if (!checkAddr && !checkPort && (isAddr || isPort)) has = true;
    return has;
  };
  if (any || o & O('src-nat')) hasSrc = check(r.snat, isSnat, isSpat, c.reply.dst, c.reply.dport);
  if (any || o & O('dst-nat')) hasDst = check(r.dnat, isDnat, isDpat, c.reply.src, c.reply.sport);
  if (any) return hasSrc || hasDst;
  if (o & O('src-nat') && o & O('dst-nat')) return hasSrc && hasDst;
  if (o & O('src-nat')) return hasSrc;
  return hasDst;
}

function matches(r: Request, c: Conn, nowNs: number): boolean {
  if (r.family !== 4) return false;
  if (!natMatches(r, c)) return false;
  const o = r.options;
  if (o & O('mark') && ((c.mark >>> 0) & r.mark!.mask) >>> 0 !== r.mark!.value) return false;
  // every attribute given is compared once any filtering option is (nfct_cmp): the timeout and id too
  if (o & O_COMPARISON) {
    if (o & O('timeout') && connSecondsLeft(c, nowNs) !== r.timeout) return false;
    if (o & O('id') && c.id >>> 0 !== r.id) return false;
  }
  if (o & (O('orig-zone') | O('reply-zone'))) return false;
  if (o & O('src')) {
    const m = o & O('mask-src') ? r.maskSrc! : 0xffffffff;
    if (((c.orig.src & m) >>> 0) !== ((r.origSrc! & m) >>> 0)) return false;
  }
  if (o & O('dst')) {
    const m = o & O('mask-dst') ? r.maskDst! : 0xffffffff;
    if (((c.orig.dst & m) >>> 0) !== ((r.origDst! & m) >>> 0)) return false;
  }
  if (o & O('reply-src') && c.reply.src !== r.replSrc) return false;
  if (o & O('reply-dst') && c.reply.dst !== r.replDst) return false;
  if (o & O('protonum') && c.orig.proto !== r.proto) return false;
  if (o & O('status') && (c.status & r.status) !== r.status) return false;
  if (o & O('zone') && c.zone !== r.zone) return false;
  if (r.ext) {
    if (r.ext.name === 'icmp') {
      if (r.icmpType !== undefined && c.orig.dport >>> 8 !== r.icmpType) return false;
      if (r.icmpCode !== undefined && (c.orig.dport & 0xff) !== r.icmpCode) return false;
      if (r.icmpId !== undefined && c.orig.sport !== r.icmpId) return false;
    } else {
      if (r.sport !== undefined && c.orig.sport !== r.sport) return false;
      if (r.dport !== undefined && c.orig.dport !== r.dport) return false;
      if (r.rsport !== undefined && c.reply.sport !== r.rsport) return false;
      if (r.rdport !== undefined && c.reply.dport !== r.rdport) return false;
      if (r.tcpState !== undefined && tcpStateOf(c) !== r.tcpState) return false;
      if (r.sctpState !== undefined && (c.orig.proto !== 132 || sctpStateOf(c) !== r.sctpState)) return false;
      if (r.dccpState !== undefined) return false;
    }
  }
  return true;
}

// ------------------------------------------------------------------ commands

function statsText(ncpu: number): string {
  let s = '';
  for (let i = 0; i < ncpu; i++) {
    s += `cpu=${String(i).padEnd(4)}\tfound=0 invalid=0 insert=0 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 \n`;
  }
  return s;
}

function execute(r: Request, table: ConntrackTable, nowNs: number, opts: ConntrackCliOptions): ConntrackCliResult {
  const res: ConntrackCliResult = { stdout: '', stderr: r.warnings, status: 0, changed: false };
  const clock: ListClock = { nowNs, wallSec: opts.wallSec ?? nowNs / 1e9 };
  const summary = (n: number, what: string): void => {
    res.stderr += `${PROG}${n} ${what}.\n`;
  };
  const filtered = (): boolean => (r.options & O_COMPARISON) !== 0;
  const badStatus = (): void => {
    if (r.options & O('status') && r.status === 0) throw new OtherError('Operation failed: invalid parameters');
  };

  switch (r.command ? r.cmd : -1) {
    case CMD.LIST: {
      if (r.table === 'dying' || r.table === 'unconfirmed') {
        summary(0, 'flow entries have been shown');
        return res;
      }
      if (filtered() && r.options & O('zero')) exitParam("Can't use -z with filtering parameters");
      badStatus();
      let n = 0;
      let xmlHeader = false;
      const listed = table.list(nowNs);
      // expected connections hold their masters
      const refs = masterRefCounts(table);
      for (const c of listed) {
        if (!matches(r, c, nowNs)) continue;
        if (r.outXml) {
          if (!xmlHeader) {
            res.stdout += '<?xml version="1.0" encoding="utf-8"?>\n<conntrack>\n';
            xmlHeader = true;
          }
          res.stdout += formatConnXml(c, nowNs, 1, clock, r.outKtms) + '\n';
        } else {
          res.stdout += formatConn(c, nowNs, r.outExt, r.outId, 1 + heldBy(c, refs), clock, r.outKtms) + '\n';
        }
        if (r.options & O('zero')) {
          c.pkts[0] = c.pkts[1] = 0;
          c.bytes[0] = c.bytes[1] = 0;
          res.changed = true;
        }
        n++;
      }
      if (xmlHeader) res.stdout += '</conntrack>\n';
      summary(n, 'flow entries have been shown');
      return res;
    }
    case CMD.DELETE: {
      badStatus();
      let n = 0;
      for (const c of table.list(nowNs)) {
        if (!matches(r, c, nowNs)) continue;
        table.remove(c);
        c.status |= IPS.DYING;
        res.changed = true;
        res.stdout += (r.outXml ? formatConnXml(c, nowNs, 1 + heldBy(c), clock) : formatConn(c, nowNs, r.outExt, r.outId, 1 + heldBy(c), clock)) + '\n';
        n++;
      }
      summary(n, 'flow entries have been deleted');
      if (n === 0) res.status = 1;
      return res;
    }
    case CMD.GET: {
      const found = table.list(nowNs).find((c) => {
        if (c.orig.proto !== r.proto) return false;
        if (r.options & O_ORIG && (c.orig.src !== r.origSrc || c.orig.dst !== r.origDst)) return false;
        if (!(r.options & O_ORIG) && (c.reply.src !== r.replSrc || c.reply.dst !== r.replDst)) return false;
        if (r.ext && r.ext.name !== 'icmp') {
          if (r.options & O_ORIG && (c.orig.sport !== r.sport || c.orig.dport !== r.dport)) return false;
          if (!(r.options & O_ORIG) && (c.reply.sport !== r.rsport || c.reply.dport !== r.rdport)) return false;
        }
        return c.zone === (r.zone ?? 0);
      });
      if (!found) throw new OtherError("Operation failed: such conntrack doesn't exist");
      let n = 0;
      if (matches(r, found, nowNs)) {
        // the answer to a get is printed while the kernel still holds a reference for it
        const use = 2 + heldBy(found, masterRefCounts(table));
        res.stdout += (r.outXml ? formatConnXml(found, nowNs, use, clock, r.outKtms) : formatConn(found, nowNs, r.outExt, r.outId, use, clock, r.outKtms)) + '\n';
        n = 1;
      }
      summary(n, 'flow entries have been shown');
      return res;
    }
    case CMD.FLUSH:
      for (const c of table.entries()) c.status |= IPS.DYING;
      table.clear();
      res.changed = true;
      res.stderr += `${PROG}connection tracking table has been emptied.\n`;
      return res;
    case CMD.COUNT:
      res.stdout += `${table.count()}\n`;
      return res;
    case CMD.EXP_LIST: {
      const list = listExpectations(table, nowNs);
      if (r.outXml && list.length > 0) {
        res.stdout += '<?xml version="1.0" encoding="utf-8"?>\n<expect>\n';
        for (const e of list) res.stdout += formatExpectationXml(e, nowNs) + '\n';
        res.stdout += '</expect>\n';
      } else {
        for (const e of list) res.stdout += formatExpectation(e, nowNs) + '\n';
      }
      summary(list.length, 'expectations have been shown');
      return res;
    }
    case CMD.EXP_FLUSH:
      if (flushExpectations(table, nowNs) > 0) res.changed = true;
      res.stderr += `${PROG}expectation table has been emptied.\n`;
      return res;
    case CMD.EXP_COUNT:
      res.stdout += `${listExpectations(table, nowNs).length}\n`;
      return res;
    case CMD.EXP_DELETE:
    case CMD.EXP_GET:
      throw new OtherError("Operation failed: such conntrack doesn't exist");
    case CMD.EVENT:
      summary(0, 'flow events have been shown');
      return res;
    case CMD.EXP_EVENT:
      summary(0, 'expectation events have been shown');
      return res;
    case CMD.VERSION:
      res.stdout += 'conntrack v1.4.7 (conntrack-tools)\n';
      return res;
    case CMD.STATS:
    case CMD.EXP_STATS:
      res.stdout += statsText(opts.ncpu ?? 1);
      return res;
    case CMD.CREATE:
    case CMD.UPDATE:
    case CMD.ADD:
    case CMD.EXP_CREATE:
      throw new OtherError('Operation failed: Operation not supported');
    default:
      res.stdout += HELP;
      return res;
  }
}

/**
 * Runs `conntrack ARGS...` (argv without the program name) against the
 * table at virtual time `nowNs`.
 */
export function runConntrack(argv: readonly string[], table: ConntrackTable, nowNs: number, opts: ConntrackCliOptions = {}): ConntrackCliResult {
  const r = emptyRequest();
  try {
    parseArgs(argv, r);
    return execute(r, table, nowNs, opts);
  } catch (e) {
    const warnings = r.warnings;
    if (e instanceof ParamError) {
      return {
        stdout: '',
        stderr: `${warnings}${PROG}${e.message}\nTry \`conntrack -h' or 'conntrack --help' for more information.\n`,
        status: 2,
        changed: false,
      };
    }
    if (e instanceof OtherError) return { stdout: '', stderr: `${warnings}${PROG}${e.message}\n`, status: 1, changed: false };
    if (e instanceof Crash) return { stdout: '', stderr: warnings, status: 139, changed: false };
    throw e;
  }
}
