/**
 * dig from BIND 9.18 (Debian 12): one UDP query (EDNS with a client
 * cookie, RD and AD set, as dig sends by default) to @SERVER or the
 * host's /etc/resolv.conf nameserver, printed in dig's format: the header
 * and flags, the OPT pseudosection, question and answer sections in BIND's
 * tab columns, query time (virtual), SERVER, WHEN (the lab's wall clock)
 * and MSG SIZE; +short prints only the answers' data. Failures as dig
 * 9.18 prints them, all on standard output: ";; communications error to
 * S#53: timed out" (after +timeout, 5 s by default, for each of +tries,
 * 3 by default) or "...: connection refused" when an ICMP port
 * unreachable answers, then ";; no servers could be reached" and status
 * 9; a route error gives "UDP setup with ... failed: network unreachable.".
 */
import type { Program, ProgramContext, ProgramBody, Wait } from './api.js';
import type { Errno, UdpSocket } from '../stack/api.js';
import { get16, get32, put16 } from '../wire/bytes.js';
import { lookupHost, ntoa, own } from './common.js';

/** The version dig prints in its banner. */
export const DIG_VERSION = '9.18.49-1~deb12u3-Debian';

const TYPES: Record<string, number> = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, ANY: 255 };
const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(TYPES).map(([k, v]) => [v, k]));
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED', 'YXDOMAIN', 'YXRRSET', 'NXRRSET', 'NOTAUTH', 'NOTZONE'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** What the command line asks for. */
interface DigOptions {
  server?: string;
  name: string;
  qtype: number;
  short: boolean;
  edns: boolean;
  tries: number;
  timeoutS: number;
  port: number;
  rd: boolean;
}

function parse(args: string[]): DigOptions | string {
  const o: DigOptions = { name: '.', qtype: 1, short: false, edns: true, tries: 3, timeoutS: 5, port: 53, rd: true };
  let named = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('@')) {
      o.server = a.slice(1);
    } else if (a.startsWith('+')) {
      const [key, value] = a.slice(1).split('=', 2) as [string, string | undefined];
      const no = key.startsWith('no');
      const k = no ? key.slice(2) : key;
      if ('short'.startsWith(k) && k.length >= 2) o.short = !no;
      else if (k === 'edns') o.edns = !no;
      else if (k === 'tries' && value !== undefined) o.tries = Math.max(1, Number(value));
      else if (k === 'retry' && value !== undefined) o.tries = Number(value) + 1;
      else if (k === 'time' || k === 'timeout') o.timeoutS = Math.max(1, Number(value));
      else if (k === 'recurse') o.rd = !no;
    } else if (a === '-p') {
      o.port = Number(args[++i]);
    } else if (a === '-x') {
      const addr = args[++i] ?? '';
      o.name = addr.split('.').reverse().join('.') + '.in-addr.arpa';
      o.qtype = TYPES['PTR']!;
      named = true;
    } else if (a === '-t') {
      o.qtype = TYPES[(args[++i] ?? '').toUpperCase()] ?? 1;
    } else if (a.toUpperCase() in TYPES && named) {
      o.qtype = TYPES[a.toUpperCase()]!;
    } else if (a.toUpperCase() === 'IN') {
      // the only class
    } else if (!named) {
      o.name = a;
      named = true;
    } else if (a.toUpperCase() in TYPES) {
      o.qtype = TYPES[a.toUpperCase()]!;
    } else {
      o.name = a;
    }
  }
  return o;
}

/** A name in DNS wire form. */
function encodeName(name: string): number[] {
  const out: number[] = [];
  for (const label of name.replace(/\.$/, '').split('.')) {
    if (label === '') continue;
    out.push(label.length, ...[...label].map((c) => c.charCodeAt(0) & 0xff));
  }
  out.push(0);
  return out;
}

/** A name from a message (compression followed); its text with the final dot and the offset after it. */
function decodeName(m: Uint8Array, off: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  let p = off;
  for (let hops = 0; hops < 64 && p < m.length; hops++) {
    const len = m[p]!;
    if (len === 0) {
      if (next < 0) next = p + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (next < 0) next = p + 2;
      p = ((len & 0x3f) << 8) | m[p + 1]!;
      continue;
    }
    labels.push(String.fromCharCode(...m.slice(p + 1, p + 1 + len)));
    p += 1 + len;
  }
  return { name: labels.length ? labels.join('.') + '.' : '.', next };
}

/** The query dig sends. */
function buildQuery(o: DigOptions, id: number, cookie: number[]): Uint8Array {
  const bytes: number[] = [0, 0, o.rd ? 0x01 : 0x00, 0x20, 0, 1, 0, 0, 0, 0, 0, o.edns ? 1 : 0];
  bytes.push(...encodeName(o.name), 0, o.qtype, 0, 1);
  if (o.edns) bytes.push(0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 12, 0, 10, 0, 8, ...cookie);
  const m = Uint8Array.from(bytes);
  put16(m, 0, id);
  put16(m, 12 + encodeName(o.name).length, o.qtype);
  return m;
}

/** One resource record of a reply. */
interface Rr {
  name: string;
  type: number;
  cls: number;
  ttl: number;
  rdata: string;
}

/** A reply parsed for printing. */
interface Reply {
  id: number;
  flags: number;
  question: { name: string; type: number }[];
  answer: Rr[];
  authority: Rr[];
  additional: Rr[];
  opt: { udp: number; flags: number; version: number } | null;
}

function rdataText(m: Uint8Array, type: number, off: number, len: number): string {
  switch (type) {
    case 1:
      return ntoa(get32(m, off));
    case 2:
    case 5:
    case 12:
      return decodeName(m, off).name;
    case 15:
      return `${get16(m, off)} ${decodeName(m, off + 2).name}`;
    case 6: {
      const mname = decodeName(m, off);
      const rname = decodeName(m, mname.next);
      const p = rname.next;
      return `${mname.name} ${rname.name} ${get32(m, p)} ${get32(m, p + 4)} ${get32(m, p + 8)} ${get32(m, p + 12)} ${get32(m, p + 16)}`;
    }
    case 16: {
      const parts: string[] = [];
      for (let p = off; p < off + len; ) {
        const l = m[p]!;
        parts.push(`"${String.fromCharCode(...m.slice(p + 1, p + 1 + l))}"`);
        p += 1 + l;
      }
      return parts.join(' ');
    }
    default: {
      let hex = '';
      for (let i = off; i < off + len; i++) hex += m[i]!.toString(16).padStart(2, '0').toUpperCase();
      return `\\# ${len} ${hex}`;
    }
  }
}

function parseReply(m: Uint8Array): Reply | null {
  if (m.length < 12) return null;
  const counts = [get16(m, 4), get16(m, 6), get16(m, 8), get16(m, 10)];
  const r: Reply = { id: get16(m, 0), flags: get16(m, 2), question: [], answer: [], authority: [], additional: [], opt: null };
  let p = 12;
  for (let i = 0; i < counts[0]!; i++) {
    const n = decodeName(m, p);
    r.question.push({ name: n.name, type: get16(m, n.next) });
    p = n.next + 4;
  }
  const sections = [r.answer, r.authority, r.additional];
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < counts[s + 1]!; i++) {
      if (p >= m.length) return r;
      const n = decodeName(m, p);
      const type = get16(m, n.next);
      const cls = get16(m, n.next + 2);
      const ttl = get32(m, n.next + 4);
      const len = get16(m, n.next + 8);
      const off = n.next + 10;
      if (type === 41) r.opt = { udp: cls, version: (ttl >>> 16) & 0xff, flags: ttl & 0xffff };
      else sections[s]!.push({ name: n.name, type, cls, ttl, rdata: rdataText(m, type, off, len) });
      p = off + len;
    }
  }
  return r;
}

/** BIND's indent(): tabs (and spaces) from column `cur` to column `to`, tab stops every 8. */
function indent(cur: number, to: number): { text: string; col: number } {
  if (cur >= to - 1) to = cur + 2;
  const ntabs = Math.floor(to / 8) - Math.floor(cur / 8);
  const nspaces = ntabs > 0 ? to % 8 : to - cur;
  return { text: '\t'.repeat(Math.max(0, ntabs)) + ' '.repeat(nspaces), col: to };
}

/** A record in dig's columns: owner, TTL at 24, class at 32, type at 40, data at 48. */
function rrLine(rr: Rr): string {
  let s = rr.name;
  let col = rr.name.length;
  const add = (to: number, text: string): void => {
    const t = indent(col, to);
    s += t.text + text;
    col = t.col + text.length;
  };
  add(24, String(rr.ttl));
  add(32, 'IN');
  add(40, TYPE_NAMES[rr.type] ?? `TYPE${rr.type}`);
  const t = indent(col, 48);
  return s + t.text + rr.rdata;
}

function questionLine(q: { name: string; type: number }): string {
  let col = q.name.length;
  const t1 = indent(col, 32);
  col = t1.col + 2;
  const t2 = indent(col, 40);
  return `;${q.name}${t1.text}IN${t2.text}${TYPE_NAMES[q.type] ?? `TYPE${q.type}`}`;
}

function flagsText(flags: number): string {
  const names: [number, string][] = [
    [0x8000, 'qr'],
    [0x0400, 'aa'],
    [0x0200, 'tc'],
    [0x0100, 'rd'],
    [0x0080, 'ra'],
    [0x0020, 'ad'],
    [0x0010, 'cd'],
  ];
  return names
    .filter(([bit]) => flags & bit)
    .map(([, n]) => n)
    .join(' ');
}

/** strftime's "%a %b %d %H:%M:%S %Z %Y" in UTC. */
function whenText(sec: number): string {
  const d = new Date(Math.floor(sec) * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} UTC ${d.getUTCFullYear()}`;
}

/** The full answer as dig prints it. */
function formatReply(r: Reply, o: DigOptions, banner: string, server: string, rttMs: number, when: number, size: number): string {
  let s = banner;
  s += ';; Got answer:\n';
  s += `;; ->>HEADER<<- opcode: QUERY, status: ${RCODES[r.flags & 15] ?? `RESERVED${r.flags & 15}`}, id: ${r.id}\n`;
  s += `;; flags: ${flagsText(r.flags)}; QUERY: ${r.question.length}, ANSWER: ${r.answer.length}, AUTHORITY: ${r.authority.length}, ADDITIONAL: ${r.additional.length + (r.opt ? 1 : 0)}\n`;
  if (o.rd && !(r.flags & 0x0080)) s += ';; WARNING: recursion requested but not available\n';
  s += '\n';
  if (r.opt) {
    s += ';; OPT PSEUDOSECTION:\n';
    s += `; EDNS: version: ${r.opt.version}, flags:${r.opt.flags & 0x8000 ? ' do' : ''}; udp: ${r.opt.udp}\n`;
  }
  s += ';; QUESTION SECTION:\n';
  for (const q of r.question) s += questionLine(q) + '\n';
  for (const [title, list] of [
    ['ANSWER', r.answer],
    ['AUTHORITY', r.authority],
    ['ADDITIONAL', r.additional],
  ] as const) {
    if (list.length === 0) continue;
    s += `\n;; ${title} SECTION:\n`;
    for (const rr of list) s += rrLine(rr) + '\n';
  }
  s += '\n';
  s += `;; Query time: ${rttMs} msec\n`;
  s += `;; SERVER: ${server}#${o.port}(${server}) (UDP)\n`;
  s += `;; WHEN: ${whenText(when)}\n`;
  s += `;; MSG SIZE  rcvd: ${size}\n\n`;
  return s;
}

/** The nameservers of /etc/resolv.conf (127.0.0.1 when it names none). */
function resolvConfServers(ctx: ProgramContext): string[] {
  const text = ctx.fs.read('/etc/resolv.conf') ?? '';
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out.length ? out : ['127.0.0.1'];
}

/** dig: a DNS lookup. */
export const dig: Program = function* (ctx: ProgramContext): ProgramBody {
  const args = ctx.argv.slice(1);
  const parsed = parse(args);
  if (typeof parsed === 'string') {
    ctx.err(parsed);
    return 1;
  }
  const o = parsed;
  const servers = o.server !== undefined ? [o.server] : resolvConfServers(ctx);
  const serverArg = servers[0]!;
  const host = lookupHost(ctx, serverArg);
  if (!host) {
    ctx.err(`dig: couldn't get address for '${serverArg}': failure\n`);
    return 10;
  }
  const server = ntoa(host.addr);
  const banner =
    `\n; <<>> DiG ${DIG_VERSION} <<>> ${args.join(' ')}\n` +
    (o.server !== undefined ? `; (1 server found)\n` : '') +
    ';; global options: +cmd\n';

  const qname = o.name.endsWith('.') ? o.name : o.name + '.';
  let sentAny = false;
  for (let attempt = 0; attempt < o.tries; attempt++) {
    const sock = own(ctx, ctx.sockets.udp());
    const e = sock.connect(host.addr, o.port);
    if (e) {
      sock.close();
      ctx.out(`;; UDP setup with ${server}#${o.port}(${server}) for ${qname.replace(/\.$/, '') || '.'} failed: ${errnoWords(e)}.\n`);
      ctx.out(';; no servers could be reached\n');
      continue;
    }
    sentAny = true;
    const id = ctx.random32() & 0xffff;
    const cookie: number[] = [];
    for (let i = 0; i < 2; i++) {
      const r = ctx.random32();
      cookie.push(r >>> 24, (r >>> 16) & 255, (r >>> 8) & 255, r & 255);
    }
    const sentAt = ctx.now();
    const sendErr = sock.send(buildQuery(o, id, cookie));
    const outcome = sendErr ?? (yield* waitAnswer(ctx, sock, id, sentAt + o.timeoutS * 1e9));
    sock.close();
    if (outcome === 'timeout') {
      ctx.out(`;; communications error to ${server}#${o.port}: timed out\n`);
      continue;
    }
    if (typeof outcome === 'string') {
      ctx.out(`;; communications error to ${server}#${o.port}: ${outcome === 'ECONNREFUSED' ? 'connection refused' : errnoWords(outcome)}\n`);
      continue;
    }
    const reply = parseReply(outcome);
    if (!reply) continue;
    if (o.short) {
      for (const rr of reply.answer) ctx.out(rr.rdata + '\n');
      return 0;
    }
    const rtt = Math.floor((ctx.now() - sentAt) / 1e6);
    ctx.out(formatReply(reply, o, banner, server, rtt, ctx.wallSec(), outcome.length));
    return 0;
  }
  // route errors were reported with each try already
  if (sentAny) ctx.out(banner + ';; no servers could be reached\n');
  return 9;
};

function errnoWords(e: Errno): string {
  switch (e) {
    case 'ENETUNREACH':
      return 'network unreachable';
    case 'EHOSTUNREACH':
      return 'host unreachable';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EPERM':
      return 'permission denied';
    default:
      return 'failure';
  }
}

/** Waits for the reply with our id; the errno an ICMP error left on the socket; or 'timeout'. */
function* waitAnswer(ctx: ProgramContext, sock: UdpSocket, id: number, deadline: number): Generator<Wait, Uint8Array | Errno | 'timeout', void> {
  for (;;) {
    for (let d = sock.recv(); d; d = sock.recv()) {
      if (d.data.length >= 12 && get16(d.data, 0) === id) return d.data;
    }
    const e = sock.takeError();
    if (e) return e;
    if (ctx.now() >= deadline) return 'timeout';
    yield ctx.until(deadline);
  }
}
