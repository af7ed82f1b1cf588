/**
 * Reading the few settings of the daemons' configuration files that decide
 * where they listen. Each reader takes the file's text (undefined when the
 * host has no such file) and falls back to the CentOS 7 package's default.
 */
import { parseIPv4Numeric } from '../../addr/ipv4.js';

/** An address and port to listen on (address 0: every address). */
export interface ListenAt {
  addr: number;
  port: number;
}

/** Lines without comments, trimmed, empty ones dropped. */
function lines(text: string | undefined, comment = '#'): string[] {
  if (text === undefined) return [];
  return text
    .split('\n')
    .map((l) => {
      const i = l.indexOf(comment);
      return (i >= 0 ? l.slice(0, i) : l).trim();
    })
    .filter((l) => l !== '');
}

/** `ADDR:PORT`, `PORT`, `*:PORT` (IPv6 forms are skipped: the lab's sockets are IPv4). */
function hostPort(text: string, dflt: number): ListenAt | null {
  if (text.startsWith('[')) return null;
  const m = /^(?:(\*|\d+\.\d+\.\d+\.\d+):)?(\d+)$/.exec(text);
  if (m) return { addr: m[1] && m[1] !== '*' ? (parseIPv4Numeric(m[1]) ?? 0) >>> 0 : 0, port: Number(m[2]) };
  const a = parseIPv4Numeric(text);
  return a === undefined ? null : { addr: a >>> 0, port: dflt };
}

/** Distinct entries, first occurrence kept. */
function unique(list: ListenAt[]): ListenAt[] {
  return list.filter((x, i) => list.findIndex((y) => y.addr === x.addr && y.port === x.port) === i);
}

/** /etc/ssh/sshd_config: `Port` (may repeat) and `ListenAddress ADDR[:PORT]`; default 0.0.0.0:22. */
export function sshdListen(text: string | undefined): ListenAt[] {
  const ports: number[] = [];
  const addrs: string[] = [];
  for (const l of lines(text)) {
    const [key, value] = l.split(/\s+/, 2);
    if (value === undefined) continue;
    if (key!.toLowerCase() === 'port' && /^\d+$/.test(value)) ports.push(Number(value));
    if (key!.toLowerCase() === 'listenaddress') addrs.push(value);
  }
  if (ports.length === 0) ports.push(22);
  if (addrs.length === 0) addrs.push('0.0.0.0');
  const out: ListenAt[] = [];
  for (const a of addrs) {
    if (/:\d+$/.test(a) && !a.startsWith('[')) {
      const h = hostPort(a, 22);
      if (h) out.push(h);
      continue;
    }
    for (const p of ports) {
      const h = hostPort(a, p);
      if (h) out.push(h);
    }
  }
  return unique(out);
}

/** /etc/httpd/conf/httpd.conf: `Listen [ADDR:]PORT`; default 80. */
export function httpdListen(text: string | undefined): ListenAt[] {
  if (text === undefined) return [{ addr: 0, port: 80 }];
  const out: ListenAt[] = [];
  for (const l of lines(text)) {
    const m = /^listen\s+(\S+)/i.exec(l);
    const h = m ? hostPort(m[1]!, 80) : null;
    if (h) out.push(h);
  }
  return unique(out);
}

/** A directive's value in Apache or nginx syntax (first occurrence), quotes removed. */
export function directive(text: string | undefined, name: string): string | undefined {
  for (const l of lines(text)) {
    const m = new RegExp(`^${name}\\s+"?([^";]+?)"?\\s*;?$`, 'i').exec(l);
    if (m) return m[1];
  }
  return undefined;
}

/** /etc/nginx/nginx.conf: every `listen [ADDR:]PORT ...;`; default 80. */
export function nginxListen(text: string | undefined): ListenAt[] {
  if (text === undefined) return [{ addr: 0, port: 80 }];
  const out: ListenAt[] = [];
  for (const l of lines(text)) {
    const m = /^listen\s+([^\s;]+)/.exec(l);
    const h = m ? hostPort(m[1]!, 80) : null;
    if (h) out.push(h);
  }
  return unique(out);
}

/** An INI file's key in a section ([mysqld] port=...). */
export function iniValue(text: string | undefined, section: string, key: string): string | undefined {
  let inSection = false;
  for (const l of lines(text)) {
    const s = /^\[(.+)\]$/.exec(l);
    if (s) {
      inSection = s[1]!.trim() === section;
      continue;
    }
    if (!inSection) continue;
    const m = /^([\w-]+)\s*=\s*(.*)$/.exec(l);
    if (m && m[1]!.replace(/_/g, '-') === key) return m[2]!.trim();
  }
  return undefined;
}

/** /etc/my.cnf's [mysqld] bind-address and port; default every address, 3306. */
export function mysqldListen(text: string | undefined): ListenAt {
  const port = Number(iniValue(text, 'mysqld', 'port') ?? 3306);
  const bind = iniValue(text, 'mysqld', 'bind-address');
  const addr = bind === undefined || bind === '*' ? 0 : (parseIPv4Numeric(bind) ?? 0) >>> 0;
  return { addr, port: Number.isInteger(port) ? port : 3306 };
}

/** `key = value` lines (postfix main.cf, dovecot.conf). */
export function keyValue(text: string | undefined, key: string): string | undefined {
  let v: string | undefined;
  for (const l of lines(text)) {
    const m = /^([\w.-]+)\s*=\s*(.*)$/.exec(l);
    if (m && m[1] === key) v = m[2]!.trim();
  }
  return v;
}

/** /etc/squid/squid.conf: `http_port [ADDR:]PORT`; default 3128. */
export function squidListen(text: string | undefined): ListenAt[] {
  if (text === undefined) return [{ addr: 0, port: 3128 }];
  const out: ListenAt[] = [];
  for (const l of lines(text)) {
    const m = /^http_port\s+(\S+)/.exec(l);
    const h = m ? hostPort(m[1]!, 3128) : null;
    if (h) out.push(h);
  }
  return unique(out);
}

/** named.conf's `listen-on [port N] { ADDR; ... };`; CentOS 7's file has 127.0.0.1 port 53. */
export function namedListen(text: string | undefined): ListenAt[] {
  if (text === undefined) return [{ addr: 0x7f000001, port: 53 }];
  const m = /listen-on\s+(?:port\s+(\d+)\s+)?\{([^}]*)\}/.exec(text.replace(/\/\/.*$|#.*$/gm, ''));
  if (!m) return [{ addr: 0, port: 53 }];
  const port = m[1] ? Number(m[1]) : 53;
  const out: ListenAt[] = [];
  for (const item of m[2]!.split(';').map((s) => s.trim())) {
    if (item === 'any') out.push({ addr: 0, port });
    else {
      const a = parseIPv4Numeric(item);
      if (a !== undefined) out.push({ addr: a >>> 0, port });
    }
  }
  return unique(out);
}
