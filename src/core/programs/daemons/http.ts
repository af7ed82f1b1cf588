/**
 * The web servers of the lab: Apache httpd 2.4.6 and nginx 1.20.1 as
 * CentOS 7 ships them. Both serve GET and HEAD from their document root on
 * the host's files, with the real servers' status lines, header order and
 * error pages; other methods get 501 (Apache) or 405 (nginx).
 *
 * The host's files have no modification times, so Last-Modified and ETag
 * use the machine's boot time. The welcome pages (Apache's "Testing 123"
 * answered with 403 when the document root has no index.html, nginx's
 * index.html) are short pages of nflab's own, not the distributions' text.
 */
import { formatIPv4 } from '../../addr/ipv4.js';
import { STRERROR } from '../../stack/api.js';
import type { Program, ProgramBody, ProgramContext } from '../api.js';
import { directive, httpdListen, nginxListen } from './config.js';
import { configFile, runDaemon, secondsNs, textOf, type Conn, type Session } from './serve.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An HTTP date (RFC 7231 IMF-fixdate). */
export function httpDate(sec: number): string {
  const d = new Date(Math.floor(sec) * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()]}, ${p(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`;
}

/** A parsed request head. */
interface Request {
  method: string;
  target: string;
  /** 10 for HTTP/1.0, 11 for HTTP/1.1. */
  version: number;
  headers: Map<string, string>;
}

/** What a response says before its body. */
interface Reply {
  status: number;
  reason: string;
  /** The body's bytes, one character per byte (files are sent as UTF-8). */
  body: string;
  /** Content-Type. */
  type: string;
  /** The file's time and size give Last-Modified, ETag, Accept-Ranges. */
  file: boolean;
  /** Close after it (errors in the request). */
  close: boolean;
}

/** How one server tells its answers. */
interface Flavor {
  /** The server's files root when the config does not name one. */
  root: string;
  /** Seconds an idle kept-alive connection stays open. */
  keepAliveS: number;
  welcome(ctx: ProgramContext, root: string): Reply | null;
  notFound(path: string): Reply;
  badRequest(): Reply;
  badMethod(method: string, path: string): Reply;
  headers(ctx: ProgramContext, req: Request | null, r: Reply, keepAlive: boolean): string;
}

function contentType(path: string, charset: string): string {
  if (/\.html?$/.test(path)) return `text/html${charset}`;
  if (/\.txt$/.test(path)) return `text/plain${charset}`;
  if (/\.css$/.test(path)) return 'text/css';
  if (/\.png$/.test(path)) return 'image/png';
  return 'application/octet-stream';
}

/** The machine's boot time, seconds (the files' time). */
function bootSec(ctx: ProgramContext): number {
  return Math.floor(ctx.wallSec() - ctx.now() / 1e9);
}

const APACHE_SERVER = 'Apache/2.4.6 (CentOS)';

function apacheError(status: number, reason: string, text: string): Reply {
  const body = `<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>${status} ${reason}</title>\n</head><body>\n<h1>${reason}</h1>\n<p>${text}</p>\n</body></html>\n`;
  return { status, reason, body, type: 'text/html; charset=iso-8859-1', file: false, close: status === 400 };
}

const APACHE: Flavor = {
  root: '/var/www/html',
  keepAliveS: 5,
  welcome: () => ({
    status: 403,
    reason: 'Forbidden',
    body: '<!DOCTYPE html>\n<html><head><title>Apache HTTP Server Test Page</title></head>\n<body>\n<h1>Testing 123..</h1>\n<p>This page is used to test the proper operation of the Apache HTTP server after it has been installed.</p>\n</body></html>\n',
    type: 'text/html; charset=UTF-8',
    file: true,
    close: false,
  }),
  notFound: (path) => apacheError(404, 'Not Found', `The requested URL ${path} was not found on this server.`),
  badRequest: () => apacheError(400, 'Bad Request', 'Your browser sent a request that this server could not understand.<br />\n'),
  badMethod: (method, path) => apacheError(501, 'Not Implemented', `${method} to ${path} not supported.<br />\n`),
  headers(ctx, req, r, keepAlive) {
    let h = `Date: ${httpDate(ctx.wallSec())}\r\nServer: ${APACHE_SERVER}\r\n`;
    if (r.file) {
      const t = bootSec(ctx);
      h += `Last-Modified: ${httpDate(t)}\r\nETag: "${r.body.length.toString(16)}-${(t * 1_000_000).toString(16)}"\r\nAccept-Ranges: bytes\r\n`;
    }
    h += `Content-Length: ${r.body.length}\r\n`;
    const token = /keep-alive/i.test(req?.headers.get('connection') ?? '');
    if (keepAlive && token) h += 'Keep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n';
    else if (!keepAlive && (r.close || (req !== null && req.version >= 11))) h += 'Connection: close\r\n';
    return h + `Content-Type: ${r.type}\r\n`;
  },
};

const NGINX_SERVER = 'nginx/1.20.1';

function nginxError(status: number, reason: string): Reply {
  const body = `<html>\r\n<head><title>${status} ${reason}</title></head>\r\n<body>\r\n<center><h1>${status} ${reason}</h1></center>\r\n<hr><center>${NGINX_SERVER}</center>\r\n</body>\r\n</html>\r\n`;
  return { status, reason, body, type: 'text/html', file: false, close: status === 400 };
}

const NGINX: Flavor = {
  root: '/usr/share/nginx/html',
  keepAliveS: 65,
  welcome: () => ({
    status: 200,
    reason: 'OK',
    body: '<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title></head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>The web server is installed and working.</p>\n</body></html>\n',
    type: 'text/html',
    file: true,
    close: false,
  }),
  notFound: () => nginxError(404, 'Not Found'),
  badRequest: () => nginxError(400, 'Bad Request'),
  badMethod: () => nginxError(405, 'Not Allowed'),
  headers(ctx, _req, r, keepAlive) {
    let h = `Server: ${NGINX_SERVER}\r\nDate: ${httpDate(ctx.wallSec())}\r\nContent-Type: ${r.type}\r\nContent-Length: ${r.body.length}\r\n`;
    const t = bootSec(ctx);
    if (r.file) h += `Last-Modified: ${httpDate(t)}\r\n`;
    h += `Connection: ${keepAlive ? 'keep-alive' : 'close'}\r\n`;
    if (r.file) h += `ETag: "${t.toString(16)}-${r.body.length.toString(16)}"\r\nAccept-Ranges: bytes\r\n`;
    return h;
  },
};

/** Reads a request head; null at the end of input or the timeout; 'bad' when malformed. */
function* readRequest(conn: Conn, deadline: number): Generator<number, Request | null | 'bad', void> {
  let first = yield* conn.line(deadline);
  while (first === '') first = yield* conn.line(deadline);
  if (first === null) return null;
  const m = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/.exec(first);
  const headers = new Map<string, string>();
  for (;;) {
    const l = yield* conn.line(deadline);
    if (l === null || l === '') break;
    const i = l.indexOf(':');
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  if (!m) return 'bad';
  return { method: m[1]!, target: m[2]!, version: m[3] === '1' ? 11 : 10, headers };
}

/** The answer to one request. */
function answer(ctx: ProgramContext, flavor: Flavor, root: string, req: Request): Reply {
  const path = req.target.replace(/[?#].*$/, '');
  if (req.method !== 'GET' && req.method !== 'HEAD') return flavor.badMethod(req.method, path);
  const file = path.endsWith('/') ? `${path}index.html` : path;
  const text = path.includes('..') ? undefined : ctx.fs.read(root + file);
  if (text !== undefined) {
    return { status: 200, reason: 'OK', body: textOf(new TextEncoder().encode(text)), type: contentType(file, flavor === APACHE ? '; charset=UTF-8' : ''), file: true, close: false };
  }
  if (/^\/+$/.test(path)) {
    const w = flavor.welcome(ctx, root);
    if (w) return w;
  }
  return flavor.notFound(path);
}

function* httpSession(conn: Conn, flavor: Flavor, root: string): Session {
  let deadline = conn.ctx.now() + secondsNs(60);
  for (;;) {
    const req = yield* readRequest(conn, deadline);
    if (req === null) return;
    const r = req === 'bad' ? flavor.badRequest() : answer(conn.ctx, flavor, root, req);
    const keep = req !== 'bad' && !r.close && (req.version >= 11 ? !/close/i.test(req.headers.get('connection') ?? '') : /keep-alive/i.test(req.headers.get('connection') ?? ''));
    let text = `HTTP/1.1 ${r.status} ${r.reason}\r\n${flavor.headers(conn.ctx, req === 'bad' ? null : req, r, keep)}\r\n`;
    if (req === 'bad' || req.method !== 'HEAD') text += r.body;
    conn.send(text);
    if (!keep) return;
    deadline = conn.ctx.now() + secondsNs(flavor.keepAliveS);
  }
}

/** Apache httpd (/etc/httpd/conf/httpd.conf: Listen, DocumentRoot). */
export const httpd: Program = function* (ctx: ProgramContext): ProgramBody {
  const conf = configFile(ctx, '/etc/httpd/conf/httpd.conf');
  const root = directive(conf, 'DocumentRoot') ?? APACHE.root;
  return yield* runDaemon(ctx, {
    tcp: httpdListen(conf).map((a) => ({ ...a, backlog: 511, session: (c: Conn) => httpSession(c, APACHE, root) })),
    udp: [],
    bindError: (addr, port, errno) =>
      `(${errno === 'EADDRINUSE' ? 98 : 99})${STRERROR[errno]}: AH00072: make_sock: could not bind to address ${formatIPv4(addr)}:${port}\nno listening sockets available, shutting down\nAH00015: Unable to open logs\n`,
    failStatus: 1,
  });
};

/** nginx (/etc/nginx/nginx.conf: listen, root). */
export const nginx: Program = function* (ctx: ProgramContext): ProgramBody {
  const conf = configFile(ctx, '/etc/nginx/nginx.conf');
  const root = directive(conf, 'root') ?? NGINX.root;
  return yield* runDaemon(ctx, {
    tcp: nginxListen(conf).map((a) => ({ ...a, backlog: 511, session: (c: Conn) => httpSession(c, NGINX, root) })),
    udp: [],
    bindError: (addr, port, errno) =>
      `nginx: [emerg] bind() to ${formatIPv4(addr)}:${port} failed (${errno === 'EADDRINUSE' ? 98 : 99}: ${STRERROR[errno]})\n`,
    failStatus: 1,
  });
};
