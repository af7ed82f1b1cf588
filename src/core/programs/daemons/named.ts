/**
 * named (BIND 9.11 as CentOS 7 ships it) on UDP and TCP port 53, one
 * socket per local address as BIND binds them. /etc/named.conf decides
 * where it listens (`listen-on`; CentOS's file says 127.0.0.1 only, the
 * default when the host has no file), which clients it answers
 * (`allow-query`: localhost by default, `any`, or addresses), and its
 * master zones (`zone "NAME" { type master; file "F"; };`, files under
 * `directory`, /var/named by default).
 *
 * Queries for A records are answered from the zones (authoritative;
 * NXDOMAIN for a name of a zone that is missing, an empty answer when the
 * name has no A record) and otherwise from the host's /etc/hosts; any
 * other query is REFUSED (recursion to the Internet is not emulated). A
 * query with an OPT record gets one back (UDP size 4096); cookies are not
 * answered.
 */
import { parseIPv4Numeric } from '../../addr/ipv4.js';
import { parseHosts } from '../../xt/namedb.js';
import type { Program, ProgramBody, ProgramContext } from '../api.js';
import { namedListen, type ListenAt } from './config.js';
import { configFile, runDaemon, secondsNs, type Conn, type Session } from './serve.js';

/** A records of a zone by owner name (lowercase, no final dot); an owner with no A has an empty list. */
interface Zone {
  name: string;
  records: Map<string, { ttl: number; addr: number }[]>;
}

/** Parses the A records (and the owner names) of a zone file. */
export function parseZone(origin: string, text: string): Zone {
  const zone: Zone = { name: origin.toLowerCase(), records: new Map([[origin.toLowerCase(), []]]) };
  let org = origin.toLowerCase();
  let ttl = 86400;
  let owner = org;
  const abs = (n: string): string => {
    if (n === '@') return org;
    return n.endsWith('.') ? n.slice(0, -1).toLowerCase() : `${n.toLowerCase()}.${org}`;
  };
  for (const raw of text.replace(/\([^)]*\)/gs, (m) => m.replace(/\n/g, ' ')).split('\n')) {
    const line = raw.replace(/;.*$/, '');
    if (line.trim() === '') continue;
    const f = line.trim().split(/\s+/);
    if (f[0] === '$ORIGIN') {
      org = abs(f[1]!);
      continue;
    }
    if (f[0] === '$TTL') {
      ttl = Number(f[1]) || ttl;
      continue;
    }
    if (!/^\s/.test(line)) owner = abs(f.shift()!);
    let recTtl = ttl;
    while (f.length > 0 && (/^\d+$/.test(f[0]!) || /^(IN|CH|HS)$/i.test(f[0]!))) {
      const x = f.shift()!;
      if (/^\d+$/.test(x)) recTtl = Number(x);
    }
    const type = (f.shift() ?? '').toUpperCase();
    if (!zone.records.has(owner)) zone.records.set(owner, []);
    if (type === 'A' && f[0]) {
      const a = parseIPv4Numeric(f[0]);
      if (a !== undefined) zone.records.get(owner)!.push({ ttl: recTtl, addr: a >>> 0 });
    }
  }
  return zone;
}

/** The server's configuration. */
interface NamedConf {
  listen: ListenAt[];
  /** null: localhost only; 'any'; or addresses. */
  allow: null | 'any' | number[];
  zones: Zone[];
}

function readConf(ctx: ProgramContext): NamedConf {
  const text = configFile(ctx, '/etc/named.conf');
  const clean = (text ?? '').replace(/\/\/.*$|#.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
  const dir = /directory\s+"([^"]+)"/.exec(clean)?.[1] ?? '/var/named';
  let allow: NamedConf['allow'] = null;
  const am = /allow-query\s*\{([^}]*)\}/.exec(clean);
  if (am) {
    const items = am[1]!.split(';').map((s) => s.trim()).filter((s) => s !== '');
    if (items.includes('any')) allow = 'any';
    else if (!items.includes('localhost')) allow = items.map((s) => parseIPv4Numeric(s)).filter((a): a is number => a !== undefined);
  } else if (text !== undefined) allow = 'any';
  const zones: Zone[] = [];
  for (const m of clean.matchAll(/zone\s+"([^"]+)"\s*(?:IN\s*)?\{([^}]*)\}/g)) {
    if (!/type\s+master/.test(m[2]!)) continue;
    const file = /file\s+"([^"]+)"/.exec(m[2]!)?.[1];
    if (!file) continue;
    const z = configFile(ctx, file.startsWith('/') ? file : `${dir}/${file}`);
    if (z !== undefined) zones.push(parseZone(m[1]!.replace(/\.$/, ''), z));
  }
  return { listen: namedListen(text), allow, zones };
}

/** The question of a query: name (lowercase), type, class, and where the question ends. */
function question(msg: Uint8Array): { name: string; type: number; cls: number; end: number } | null {
  let i = 12;
  const labels: string[] = [];
  while (i < msg.length) {
    const n = msg[i]!;
    if (n === 0) {
      i++;
      break;
    }
    if (n > 63 || i + 1 + n > msg.length) return null;
    let s = '';
    for (let k = 1; k <= n; k++) s += String.fromCharCode(msg[i + k]!);
    labels.push(s.toLowerCase());
    i += n + 1;
  }
  if (i + 4 > msg.length) return null;
  return { name: labels.join('.'), type: (msg[i]! << 8) | msg[i + 1]!, cls: (msg[i + 2]! << 8) | msg[i + 3]!, end: i + 4 };
}

/** Whether the query carries an OPT record (EDNS). */
function hasOpt(msg: Uint8Array, end: number): boolean {
  const ar = (msg[10]! << 8) | msg[11]!;
  return ar > 0 && end + 11 <= msg.length && msg[end] === 0 && msg[end + 1] === 0 && msg[end + 2] === 41;
}

/** The answer to a DNS query from `from` (null: no answer). */
export function answerQuery(conf: NamedConf, hosts: string, msg: Uint8Array, from: number, isLocal: (a: number) => boolean): Uint8Array | null {
  if (msg.length < 12 || (msg[2]! & 0x80) !== 0) return null;
  const q = question(msg);
  const opcode = (msg[2]! >> 3) & 0xf;
  const rd = msg[2]! & 1;
  const out: number[] = [msg[0]!, msg[1]!, 0x80 | (opcode << 3) | rd, 0, 0, q ? 1 : 0, 0, 0, 0, 0, 0, 0];
  if (q) for (let i = 12; i < q.end; i++) out.push(msg[i]!);
  const opt = q !== null && hasOpt(msg, q.end);
  const finish = (rcode: number, aa: boolean, ra: boolean, answers: { ttl: number; addr: number }[]): Uint8Array => {
    if (aa) out[2]! |= 0x04;
    out[3] = (ra ? 0x80 : 0) | rcode;
    out[7] = answers.length;
    for (const a of answers) {
      out.push(0xc0, 12, 0, 1, 0, 1, (a.ttl >>> 24) & 0xff, (a.ttl >> 16) & 0xff, (a.ttl >> 8) & 0xff, a.ttl & 0xff, 0, 4);
      out.push((a.addr >>> 24) & 0xff, (a.addr >> 16) & 0xff, (a.addr >> 8) & 0xff, a.addr & 0xff);
    }
    if (opt) {
      out[11] = 1;
      out.push(0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0);
    }
    return Uint8Array.from(out);
  };
  if (!q || opcode !== 0) return finish(q ? 4 : 1, false, false, []);
  const allowed = conf.allow === 'any' || (conf.allow === null ? isLocal(from) : conf.allow.includes(from));
  if (!allowed) return finish(5, false, false, []);
  const zone = conf.zones
    .filter((z) => q.name === z.name || q.name.endsWith(`.${z.name}`))
    .sort((a, b) => b.name.length - a.name.length)[0];
  if (zone) {
    const recs = zone.records.get(q.name);
    if (!recs) return finish(3, true, true, []);
    return finish(0, true, true, q.type === 1 && q.cls === 1 ? recs : []);
  }
  if (q.type === 1 && q.cls === 1) {
    const found = parseHosts(hosts).filter((h) => h.names.some((n) => n.toLowerCase() === q.name));
    if (found.length > 0) return finish(0, false, true, found.map((h) => ({ ttl: 3600, addr: h.addr >>> 0 })));
  }
  return finish(5, false, false, []);
}

/** Every IPv4 address of the namespace, lo's first, in interface order. */
function localAddrs(ctx: ProgramContext): number[] {
  const out: number[] = [];
  for (const l of ctx.machine.net.links) if (l.up) for (const a of l.inet) out.push(a.local >>> 0);
  return out;
}

/** The named program. */
export const named: Program = function* (ctx: ProgramContext): ProgramBody {
  const conf = readConf(ctx);
  const own = localAddrs(ctx);
  const isLocal = (a: number): boolean => own.includes(a) || a >>> 24 === 127;
  const at = conf.listen.flatMap((l) => (l.addr === 0 ? own.map((addr) => ({ addr, port: l.port })) : [l]));
  const reply = (data: Uint8Array, from: number): Uint8Array | null => answerQuery(conf, ctx.fs.read('/etc/hosts') ?? '', data, from, isLocal);
  function* tcpSession(conn: Conn): Session {
    for (;;) {
      const deadline = conn.ctx.now() + secondsNs(30);
      const len = yield* conn.bytes(2, deadline);
      if (!len) return;
      const msg = yield* conn.bytes((len[0]! << 8) | len[1]!, deadline);
      if (!msg) return;
      const r = reply(msg, conn.peer.addr);
      if (!r) return;
      conn.send(Uint8Array.from([r.length >> 8, r.length & 0xff, ...r]));
    }
  }
  return yield* runDaemon(ctx, {
    udp: at.map((a) => ({ ...a, answer: (data, from) => reply(data, from.addr) })),
    tcp: at.map((a) => ({ ...a, backlog: 10, session: tcpSession })),
    bindError: () => 'loading configuration: failed\nexiting (due to fatal error)\n',
    failStatus: 1,
  });
};
