/**
 * squid 3.5.20 (CentOS 7) as an HTTP proxy on 3128 (/etc/squid/squid.conf
 * http_port). CentOS's access rules are built in: clients from 10/8,
 * 172.16/12, 192.168/16 and localhost may use it, others get
 * ERR_ACCESS_DENIED; a request that is not for an absolute http:// URL gets
 * ERR_INVALID_URL. An allowed request is sent to the origin server over a
 * new connection and the answer relayed back unchanged (squid's own
 * rewriting of headers is not emulated); a name the host cannot resolve
 * gives ERR_DNS_FAIL, a refused or timed-out connection ERR_CONNECT_FAIL.
 * Error pages have squid's headers and a short body of nflab's own.
 * CONNECT (HTTPS tunnels) is not emulated and answered as an invalid URL.
 */
import type { Errno, TcpSocket } from '../../stack/api.js';
import { STRERROR } from '../../stack/api.js';
import type { Program, ProgramBody, ProgramContext } from '../api.js';
import { squidListen } from './config.js';
import { httpDate } from './http.js';
import { configFile, runDaemon, secondsNs, textOf, type Conn, type Session } from './serve.js';

const VERSION = 'squid/3.5.20';

/** errno numbers squid shows in X-Squid-Error. */
const ERRNO_NUM: Partial<Record<Errno, number>> = { ECONNREFUSED: 111, ETIMEDOUT: 110, EHOSTUNREACH: 113, ENETUNREACH: 101 };

/** Whether squid's default ACLs let this client in. */
function allowedClient(addr: number): boolean {
  const a = addr >>> 24;
  const b = (addr >>> 16) & 0xff;
  return a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168);
}

/** An error page with squid's headers. */
function errorPage(ctx: ProgramContext, status: string, code: string, errno: number, detail: string): string {
  const host = ctx.hostname;
  const body = `<!DOCTYPE html>\n<html><head><title>ERROR: The requested URL could not be retrieved</title></head>\n<body>\n<h1>ERROR</h1>\n<h2>The requested URL could not be retrieved</h2>\n<p>${detail}</p>\n<p>Generated ${httpDate(ctx.wallSec())} by ${host} (${VERSION})</p>\n</body></html>\n`;
  return (
    `HTTP/1.1 ${status}\r\nServer: ${VERSION}\r\nMime-Version: 1.0\r\nDate: ${httpDate(ctx.wallSec())}\r\n` +
    `Content-Type: text/html;charset=utf-8\r\nContent-Length: ${body.length}\r\nX-Squid-Error: ${code} ${errno}\r\n` +
    `Vary: Accept-Language\r\nContent-Language: en\r\nX-Cache: MISS from ${host}\r\nX-Cache-Lookup: NONE from ${host}:3128\r\n` +
    `Via: 1.1 ${host} (${VERSION})\r\nConnection: close\r\n\r\n${body}`
  );
}

function* proxySession(conn: Conn): Session {
  const ctx = conn.ctx;
  const deadline = ctx.now() + secondsNs(300);
  const first = yield* conn.line(deadline);
  if (first === null) return;
  const head: string[] = [];
  for (;;) {
    const l = yield* conn.line(deadline);
    if (l === null || l === '') break;
    head.push(l);
  }
  if (!allowedClient(conn.peer.addr)) {
    conn.send(errorPage(ctx, '403 Forbidden', 'ERR_ACCESS_DENIED', 0, 'Access control configuration prevents your request from being allowed at this time.'));
    return;
  }
  const m = /^([A-Z]+) http:\/\/([^/:\s]+)(?::(\d+))?(\/\S*)? (HTTP\/1\.[01])$/i.exec(first);
  if (!m) {
    conn.send(errorPage(ctx, '400 Bad Request', 'ERR_INVALID_URL', 0, 'Invalid URL.'));
    return;
  }
  const [, method, host, portText, path, version] = m;
  const addr = ctx.resolve(host!);
  if (addr === null) {
    conn.send(errorPage(ctx, '503 Service Unavailable', 'ERR_DNS_FAIL', 0, `Unable to determine IP address from host name ${host}.`));
    return;
  }
  const up: TcpSocket = ctx.sockets.tcp();
  up.owner = ctx;
  try {
    const port = portText ? Number(portText) : 80;
    let err = up.connect(addr, port);
    const giveUp = ctx.now() + secondsNs(60);
    while (err === null && up.state === 'SYN-SENT') {
      if (ctx.now() >= giveUp) {
        err = 'ETIMEDOUT';
        break;
      }
      yield giveUp;
    }
    if (err === null && up.state !== 'ESTAB' && up.state !== 'CLOSE-WAIT') err = up.error ?? 'ECONNREFUSED';
    if (err !== null) {
      const n = ERRNO_NUM[err] ?? 0;
      const status = err === 'ETIMEDOUT' ? '504 Gateway Timeout' : '503 Service Unavailable';
      conn.send(errorPage(ctx, status, 'ERR_CONNECT_FAIL', n, `The system returned: (${n}) ${STRERROR[err]}`));
      return;
    }
    const kept = head.filter((h) => !/^(proxy-connection|connection|keep-alive):/i.test(h));
    up.send(
      new Uint8Array(
        [...`${method} ${path ?? '/'} ${version}\r\n${kept.join('\r\n')}${kept.length ? '\r\n' : ''}Via: 1.1 ${ctx.hostname} (${VERSION})\r\nConnection: close\r\n\r\n`].map(
          (c) => c.charCodeAt(0) & 0xff,
        ),
      ),
    );
    const stop = ctx.now() + secondsNs(900);
    for (;;) {
      if (up.available > 0) conn.send(textOf(up.read()));
      if (up.eof || up.error !== null || up.state === 'CLOSED' || conn.ended || ctx.now() >= stop) break;
      yield stop;
    }
    if (up.available > 0) conn.send(textOf(up.read()));
  } finally {
    up.close();
  }
}

/** The squid program. */
export const squid: Program = function* (ctx: ProgramContext): ProgramBody {
  return yield* runDaemon(ctx, {
    tcp: squidListen(configFile(ctx, '/etc/squid/squid.conf')).map((a) => ({ ...a, backlog: 256, session: proxySession })),
    udp: [],
    bindError: (_addr, port) => `FATAL: Unable to open HTTP Socket\nSquid Cache (Version 3.5.20): Terminated abnormally.\nCannot open HTTP Port ${port}\n`,
    failStatus: 1,
  });
};
