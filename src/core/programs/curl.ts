/**
 * curl 7.88 (Debian 12) for http:// URLs: GET or HEAD (-I), the body (or
 * -I's headers, -i's headers and body) on standard output or into -o FILE,
 * -v's trace on standard error ("*   Trying 10.0.0.2:80...", "> GET /
 * HTTP/1.1", "< HTTP/1.1 200 OK", "* Closing connection 0"), -s/-S, -f,
 * -m/--max-time, --connect-timeout, and the errors with their exit codes:
 * (6) name not resolved, (7) connection failed, (28) timeouts, (52) empty
 * reply, (56) receive failure, (1) unsupported protocol.
 *
 * nflab's terminal is a terminal: curl shows no progress meter when its
 * output goes there, and -v leaves out the "{ [N bytes data]" lines; with
 * -o nflab shows no meter either (it would be all wall-clock figures).
 * https:// URLs reach the connect and its errors; a TLS handshake is not
 * modelled (the lab's servers speak plain HTTP), so a connected https
 * transfer fails as curl does against a plain HTTP server.
 */
import type { Program, ProgramContext, ProgramBody, Wait } from './api.js';
import { STRERROR, type TcpSocket } from '../stack/api.js';
import { fromUtf8, lookupHost, ntoa, own, utf8, waitConnect } from './common.js';

const VERSION = '7.88.1';

/** What the command line asks for. */
interface CurlOptions {
  url?: string;
  silent: boolean;
  showError: boolean;
  verbose: boolean;
  head: boolean;
  include: boolean;
  fail: boolean;
  output?: string;
  method?: string;
  headers: string[];
  userAgent: string;
  maxTimeS?: number;
  connectTimeoutS?: number;
  writeOut?: string;
}

class CurlExit {
  constructor(
    readonly code: number,
    readonly message: string,
  ) {}
}

const LONG_FLAGS: Record<string, keyof CurlOptions> = {
  silent: 'silent',
  'show-error': 'showError',
  verbose: 'verbose',
  head: 'head',
  include: 'include',
  fail: 'fail',
};
const LONG_ARGS = new Set(['output', 'request', 'header', 'user-agent', 'max-time', 'connect-timeout', 'write-out', 'url']);
const SHORT_FLAGS: Record<string, keyof CurlOptions | null> = { s: 'silent', S: 'showError', v: 'verbose', I: 'head', i: 'include', f: 'fail', L: null, k: null, '4': null, N: null };
const SHORT_ARGS: Record<string, string> = { o: 'output', X: 'request', H: 'header', A: 'user-agent', m: 'max-time', w: 'write-out' };

function setArg(o: CurlOptions, name: string, value: string): void {
  switch (name) {
    case 'output':
      o.output = value;
      break;
    case 'request':
      o.method = value;
      break;
    case 'header':
      o.headers.push(value);
      break;
    case 'user-agent':
      o.userAgent = value;
      break;
    case 'max-time':
    case 'connect-timeout': {
      const v = Number(value);
      if (!/^\d*\.?\d+$/.test(value) || !Number.isFinite(v)) throw new CurlExit(2, `option --${name}: expected a proper numerical parameter`);
      if (name === 'max-time') o.maxTimeS = v;
      else o.connectTimeoutS = v;
      break;
    }
    case 'write-out':
      o.writeOut = value;
      break;
    case 'url':
      o.url = value;
      break;
  }
}

function parse(args: string[]): CurlOptions {
  const o: CurlOptions = { silent: false, showError: false, verbose: false, head: false, include: false, fail: false, headers: [], userAgent: `curl/${VERSION}` };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--') && a.length > 2) {
      let name = a.slice(2);
      const negate = name.startsWith('no-');
      if (negate) name = name.slice(3);
      const flag = LONG_FLAGS[name];
      if (flag) {
        (o as unknown as Record<string, boolean>)[flag] = !negate;
        continue;
      }
      if (LONG_ARGS.has(name)) {
        const v = args[++i];
        if (v === undefined) throw new CurlExit(2, `option ${a}: requires parameter`);
        setArg(o, name, v);
        continue;
      }
      if (['location', 'insecure', 'ipv4', 'no-buffer'].includes(name)) continue;
      throw new CurlExit(2, `option ${a}: is unknown`);
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (c in SHORT_FLAGS) {
          const f = SHORT_FLAGS[c];
          if (f) (o as unknown as Record<string, boolean>)[f] = true;
          continue;
        }
        const long = SHORT_ARGS[c];
        if (!long) throw new CurlExit(2, `option -${c}: is unknown`);
        const v = j + 1 < a.length ? a.slice(j + 1) : args[++i];
        if (v === undefined) throw new CurlExit(2, `option -${c}: requires parameter`);
        setArg(o, long, v);
        break;
      }
      continue;
    }
    o.url ??= a;
  }
  return o;
}

/** A parsed URL: scheme, host, port, path. */
interface Url {
  scheme: string;
  host: string;
  port: number;
  explicitPort: boolean;
  path: string;
}

function parseUrl(text: string): Url {
  let rest = text;
  let scheme = 'http';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(rest);
  if (m) {
    scheme = m[1]!.toLowerCase();
    rest = rest.slice(m[0].length);
  }
  const defaults: Record<string, number> = { http: 80, https: 443, ftp: 21 };
  if (!(scheme in defaults)) throw new CurlExit(1, `Protocol "${scheme}" not supported or disabled in libcurl`);
  const slash = rest.search(/[/?#]/);
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  let path = slash < 0 ? '/' : rest.slice(slash);
  if (path.startsWith('?')) path = '/' + path;
  path = path.replace(/#.*$/, '');
  const hostPort = authority.slice(authority.lastIndexOf('@') + 1);
  const pm = /^([^:]*)(?::(\d*))?$/.exec(hostPort);
  if (!pm || pm[1] === '') throw new CurlExit(3, 'URL using bad/illegal format or missing URL');
  const explicitPort = pm[2] !== undefined && pm[2] !== '';
  const port = explicitPort ? Number(pm[2]) : defaults[scheme]!;
  if (port > 65535) throw new CurlExit(3, 'URL using bad/illegal format or missing URL');
  return { scheme, host: pm[1]!, port, explicitPort: explicitPort && port !== defaults[scheme], path };
}

/** curl: an HTTP client. */
export const curl: Program = function* (ctx: ProgramContext): ProgramBody {
  let o: CurlOptions;
  try {
    o = parse(ctx.argv.slice(1));
  } catch (e) {
    if (!(e instanceof CurlExit)) throw e;
    ctx.err(`curl: ${e.message}\ncurl: try 'curl --help' or 'curl --manual' for more information\n`);
    return e.code;
  }
  if (o.url === undefined) {
    ctx.err("curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information\n");
    return 2;
  }
  const trace = (line: string): void => {
    if (o.verbose) ctx.err(line);
  };
  try {
    return yield* transfer(ctx, o, trace);
  } catch (e) {
    if (!(e instanceof CurlExit)) throw e;
    if (!o.silent || o.showError) ctx.err(`curl: (${e.code}) ${e.message}\n`);
    return e.code;
  }
};

function* transfer(ctx: ProgramContext, o: CurlOptions, trace: (line: string) => void): Generator<Wait, number, void> {
  const url = parseUrl(o.url!);
  const host = lookupHost(ctx, url.host);
  if (!host) {
    throw new CurlExit(6, `Could not resolve host: ${url.host}`);
  }
  const ip = ntoa(host.addr);
  const start = ctx.now();
  const elapsedMs = (): number => Math.floor((ctx.now() - start) / 1e6);
  const maxAt = o.maxTimeS !== undefined && o.maxTimeS > 0 ? start + o.maxTimeS * 1e9 : Infinity;
  // curl's own connect timeout is 300 s when none is given; the kernel's SYN retries end sooner
  const connectAt = Math.min(maxAt, start + (o.connectTimeoutS !== undefined && o.connectTimeoutS > 0 ? o.connectTimeoutS : 300) * 1e9);

  trace(`*   Trying ${ip}:${url.port}...\n`);
  const sock = own(ctx, ctx.sockets.tcp());
  // curl connects without blocking and polls
  sock.nonBlocking = true;
  const immediate = sock.connect(host.addr, url.port);
  const outcome = immediate ?? (yield* waitConnect(ctx, sock, connectAt));
  if (outcome === 'timeout') {
    sock.abort();
    if (ctx.now() >= maxAt) {
      const text = `Connection timed out after ${elapsedMs()} milliseconds`;
      trace(`* ${text}\n* Closing connection 0\n`);
      throw new CurlExit(28, text);
    }
    trace(`* ipv4 connect timeout after ${Math.round((connectAt - start) / 1e6)}ms, move on!\n`);
    const text = `Failed to connect to ${url.host} port ${url.port} after ${elapsedMs()} ms: Timeout was reached`;
    trace(`* ${text}\n* Closing connection 0\n`);
    throw new CurlExit(28, text);
  }
  if (outcome !== 'connected') {
    sock.close();
    trace(`* connect to ${ip} port ${url.port} failed: ${STRERROR[outcome]}\n`);
    const text = `Failed to connect to ${url.host} port ${url.port} after ${elapsedMs()} ms: Couldn't connect to server`;
    trace(`* ${text}\n* Closing connection 0\n`);
    throw new CurlExit(outcome === 'ETIMEDOUT' ? 28 : 7, text);
  }
  trace(`* Connected to ${url.host} (${ip}) port ${url.port} (#0)\n`);
  if (url.scheme !== 'http') {
    sock.abort();
    trace('* Closing connection 0\n');
    throw new CurlExit(url.scheme === 'https' ? 35 : 8, url.scheme === 'https' ? 'error:0A00010B:SSL routines::wrong version number' : 'Weird server reply');
  }

  const method = o.method ?? (o.head ? 'HEAD' : 'GET');
  const lines = [`${method} ${url.path} HTTP/1.1`, `Host: ${url.host}${url.explicitPort ? ':' + url.port : ''}`];
  const userHeaders = new Map(o.headers.map((h) => [h.slice(0, h.indexOf(':')).trim().toLowerCase(), h]));
  if (userHeaders.has('host')) lines[1] = userHeaders.get('host')!;
  if (!userHeaders.has('user-agent')) lines.push(`User-Agent: ${o.userAgent}`);
  if (!userHeaders.has('accept')) lines.push('Accept: */*');
  for (const [k, h] of userHeaders) if (k !== 'host') lines.push(h);
  const request = lines.map((l) => l + '\r\n').join('') + '\r\n';
  for (const l of lines) trace(`> ${l}\r\n`);
  trace('> \r\n');
  sock.send(utf8(request));

  const response = yield* readResponse(ctx, sock, method === 'HEAD', maxAt, start);
  if (response.kind === 'empty') {
    sock.close();
    trace('* Empty reply from server\n* Closing connection 0\n');
    throw new CurlExit(52, 'Empty reply from server');
  }
  if (response.kind === 'http09') {
    sock.close();
    trace('* Received HTTP/0.9 when not allowed\n* Closing connection 0\n');
    throw new CurlExit(1, 'Received HTTP/0.9 when not allowed');
  }
  if (response.kind === 'reset') {
    sock.close();
    trace('* Recv failure: Connection reset by peer\n* Closing connection 0\n');
    throw new CurlExit(56, 'Recv failure: Connection reset by peer');
  }
  if (response.kind === 'timeout') {
    sock.abort();
    // what arrived is written as it arrives
    if (response.partial && o.output === undefined) ctx.out(response.partial.replace(/^[\s\S]*?\r\n\r\n/, (h) => (o.include || o.head ? h : '')));
    const of = response.length !== undefined ? ` out of ${response.length}` : '';
    const text = `Operation timed out after ${elapsedMs()} milliseconds with ${response.received}${of} bytes received`;
    trace(`* ${text}\n* Closing connection 0\n`);
    throw new CurlExit(28, text);
  }
  const { head, body, status, http10, close } = response;
  if (http10) trace('* HTTP 1.0, assume close after body\n');
  for (const l of head.split('\r\n')) trace(`< ${l}\r\n`);
  trace('< \r\n');
  if (o.fail && status >= 400) {
    sock.close();
    trace('* The requested URL returned error: ' + status + '\n* Closing connection 0\n');
    throw new CurlExit(22, `The requested URL returned error: ${status}`);
  }
  let shown = '';
  if (o.head || o.include) shown += head + '\r\n\r\n';
  if (!o.head) shown += body;
  if (o.output !== undefined && o.output !== '-') {
    if (o.output !== '/dev/null') ctx.fs.write(o.output, shown);
  } else {
    ctx.out(shown);
  }
  if (o.writeOut !== undefined) ctx.out(writeOut(o.writeOut, status, body.length));
  if (http10 || close) {
    sock.close();
    trace('* Closing connection 0\n');
  } else {
    sock.close();
    trace(`* Connection #0 to host ${url.host} left intact\n`);
  }
  return 0;
}

/** The -w format with the variables nflab knows. */
function writeOut(format: string, status: number, size: number): string {
  return format
    .replace(/%\{http_code\}|%\{response_code\}/g, String(status).padStart(3, '0'))
    .replace(/%\{size_download\}/g, String(size))
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t');
}

type Response =
  | { kind: 'ok'; head: string; body: string; status: number; http10: boolean; close: boolean }
  | { kind: 'empty' }
  | { kind: 'reset' }
  | { kind: 'http09' }
  | { kind: 'timeout'; received: number; length?: number; partial?: string };

/** Reads the status line, headers and body (Content-Length, chunked, or until the server closes). */
function* readResponse(ctx: ProgramContext, sock: TcpSocket, isHead: boolean, maxAt: number, _start: number): Generator<Wait, Response, void> {
  let buf = '';
  let head: string | null = null;
  let bodyStart = 0;
  let length: number | undefined;
  let chunked = false;
  for (;;) {
    if (sock.available > 0) buf += fromUtf8(sock.read());
    // what does not start as a status line is HTTP/0.9, which curl refuses
    if (head === null && buf.length > 0 && !'HTTP/'.startsWith(buf.slice(0, 5)) && !buf.startsWith('HTTP/')) return { kind: 'http09' };
    if (head === null) {
      const end = buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        head = buf.slice(0, end + 2);
        bodyStart = end + 4;
        const cl = /\r\ncontent-length:\s*(\d+)/i.exec('\r\n' + head);
        if (cl) length = Number(cl[1]);
        chunked = /\r\ntransfer-encoding:\s*chunked/i.test('\r\n' + head);
        if (isHead) length = 0;
      }
    }
    const closed = sock.eof || sock.state === 'CLOSED';
    if (head !== null) {
      const body = buf.slice(bodyStart);
      const m = /^HTTP\/(\d)\.(\d) (\d{3})/.exec(head);
      const status = m ? Number(m[3]) : 0;
      const http10 = m !== null && m[1] === '1' && m[2] === '0';
      const close = /\r\nconnection:\s*close/i.test('\r\n' + head);
      if (length !== undefined && body.length >= length) {
        return { kind: 'ok', head: head.slice(0, -2), body: body.slice(0, length), status, http10, close };
      }
      if (chunked) {
        const decoded = dechunk(body);
        if (decoded !== null) return { kind: 'ok', head: head.slice(0, -2), body: decoded, status, http10, close };
      }
      if (closed && length === undefined && !chunked) return { kind: 'ok', head: head.slice(0, -2), body, status, http10, close: true };
    }
    if (closed) {
      if (sock.error === 'ECONNRESET') return { kind: 'reset' };
      if (buf.length === 0) return { kind: 'empty' };
      return { kind: 'reset' };
    }
    if (ctx.now() >= maxAt) return { kind: 'timeout', received: head === null ? 0 : buf.length - bodyStart, length, partial: head === null ? '' : buf };
    yield ctx.until(maxAt);
  }
}

/** A complete chunked body decoded, or null while chunks are missing. */
function dechunk(body: string): string | null {
  let out = '';
  let i = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', i);
    if (eol < 0) return null;
    const size = parseInt(body.slice(i, eol), 16);
    if (Number.isNaN(size)) return out;
    if (size === 0) return out;
    if (body.length < eol + 2 + size + 2) return null;
    out += body.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
}
