/**
 * `filezilla`: one FTP session whose output reads like FileZilla 3's
 * message log (English), the log the FTP tutorials quote. No FileZilla
 * runs in the reference: the lines, their order and the timing rules are
 * modelled on FileZilla 3's log and its defaults (20 seconds of
 * inactivity end a connection, 2 reconnect attempts 5 seconds apart, AUTH
 * TLS then AUTH SSL before a plain login, OPTS UTF8 ON after it, PWD, TYPE
 * I, PASV or PORT, LIST). Everything is deterministic.
 *
 *   filezilla [--active|--passive] [--timeout S] [--retries N] [--get FILE | --put FILE] ftp://[USER[:PASS]@]HOST[:PORT][/PATH]
 *
 * Without --get or --put the session lists the directory. --get FILE
 * downloads FILE (a path on the server, or a name in the login directory)
 * into /root; --put FILE uploads a local file (relative to /root) under its
 * own name. The exit status is 0 when the listing or transfer succeeded,
 * 1 otherwise.
 */
import type { Program, ProgramContext, Wait } from './api.js';
import type { TcpSocket } from '../stack/api.js';
import { LineReader, openTcp, SEC, connectTcp, ipString, parse227, readLine, utf8, hostPortCommas, type FtpReply } from './ftp-proto.js';

/** The parts of an ftp:// URL. */
export interface FtpUrl {
  user: string;
  pass: string;
  host: string;
  port: number;
  path: string;
}

/** Parses ftp://[USER[:PASS]@]HOST[:PORT][/PATH] (user and password %-decoded); null when it is not one. */
export function parseFtpUrl(url: string): FtpUrl | null {
  const m = /^(?:ftp:\/\/)?(?:([^:@/]*)(?::([^@/]*))?@)?([^:/]+)(?::(\d+))?(\/.*)?$/.exec(url);
  if (!m) return null;
  const dec = (s: string | undefined): string => {
    try {
      return decodeURIComponent(s ?? '');
    } catch {
      return s ?? '';
    }
  };
  const user = dec(m[1]) || 'anonymous';
  const pass = m[2] !== undefined ? dec(m[2]) : user === 'anonymous' ? 'anonymous@example.com' : '';
  const port = m[4] ? Number(m[4]) : 21;
  if (port < 1 || port > 65535) return null;
  const path = m[5] && m[5] !== '/' ? m[5] : '';
  return { user, pass, host: m[3]!, port, path };
}

class Session {
  private ctrl: TcpSocket | null = null;
  private r: LineReader | null = null;
  /** The virtual time the last byte moved (FileZilla's inactivity timer). */
  private lastActivity = 0;

  constructor(
    private readonly ctx: ProgramContext,
    private readonly url: FtpUrl,
    private readonly active: boolean,
    private readonly timeoutNs: number,
    private readonly timeoutSec: number,
  ) {}

  private log(kind: 'Status' | 'Command' | 'Response' | 'Error', text: string): void {
    this.ctx.out(`${kind}: ${text}\n`);
  }

  private timedOut(): void {
    this.log('Error', `Connection timed out after ${this.timeoutSec} seconds of inactivity`);
  }

  close(): void {
    this.ctrl?.close();
    this.ctrl = null;
    this.r = null;
  }

  /** Connects and waits for the welcome; 'retry' when the connection could not be made. */
  *connect(addr: number): Generator<Wait, 'ok' | 'retry' | 'fail'> {
    this.log('Status', `Connecting to ${ipString(addr)}:${this.url.port}...`);
    const sock = openTcp(this.ctx);
    const r = yield* connectTcp(this.ctx, sock, addr, this.url.port, this.ctx.now() + this.timeoutNs);
    if (r !== null) {
      sock.abort();
      if (r === 'timeout') this.timedOut();
      else this.log('Error', `Connection attempt failed with "${r} - ${CONNECT_ERRORS[r] ?? 'Connection failed'}".`);
      this.log('Error', 'Could not connect to server');
      return 'retry';
    }
    this.ctrl = sock;
    this.r = new LineReader(sock);
    this.lastActivity = this.ctx.now();
    this.log('Status', 'Connection established, waiting for welcome message...');
    const greet = yield* this.reply();
    if (!greet) return 'retry';
    if (greet.code !== 220) {
      this.log('Error', 'Could not connect to server');
      return 'fail';
    }
    return 'ok';
  }

  /** Reads and logs a reply; null (after the error line) on inactivity or a closed connection. */
  *reply(): Generator<Wait, FtpReply | null> {
    const lines: string[] = [];
    for (;;) {
      const line = yield* readLine(this.ctx, this.r!, this.lastActivity + this.timeoutNs);
      if (line === 'timeout') {
        this.timedOut();
        this.close();
        return null;
      }
      if (line === 'eof') {
        this.log('Error', 'Connection closed by server');
        this.close();
        return null;
      }
      this.lastActivity = this.ctx.now();
      this.log('Response', line);
      lines.push(line);
      const m = /^(\d{3})([ -])/.exec(lines[0]!);
      if (!m) return { code: 0, lines };
      const last = /^(\d{3}) /.exec(line);
      if (last && last[1] === m[1] && (lines.length > 1 || m[2] === ' ')) return { code: Number(m[1]), lines };
    }
  }

  /** Sends a command (logged, a password masked) and reads its reply. */
  *command(text: string, shown = text): Generator<Wait, FtpReply | null> {
    this.log('Command', shown);
    this.ctrl!.send(utf8(`${text}\r\n`));
    this.lastActivity = this.ctx.now();
    return yield* this.reply();
  }

  *login(): Generator<Wait, boolean> {
    for (const auth of ['AUTH TLS', 'AUTH SSL']) {
      const rep = yield* this.command(auth);
      if (!rep) return false;
    }
    this.log('Status', 'Insecure server, it does not support FTP over TLS.');
    let rep = yield* this.command(`USER ${this.url.user}`);
    if (!rep) return false;
    if (rep.code === 331) {
      rep = yield* this.command(`PASS ${this.url.pass}`, `PASS ${'*'.repeat(this.url.pass.length)}`);
      if (!rep) return false;
    }
    if (rep.code !== 230) {
      this.log('Error', 'Critical error: Could not connect to server');
      this.close();
      return false;
    }
    rep = yield* this.command('OPTS UTF8 ON');
    if (!rep) return false;
    this.log('Status', 'Logged in');
    return true;
  }

  /** Lists the directory; true when the listing arrived. */
  *list(): Generator<Wait, boolean> {
    const p = this.url.path;
    this.log('Status', p ? `Retrieving directory listing of "${p}"...` : 'Retrieving directory listing...');
    if (p) {
      const cwd = yield* this.command(`CWD ${p}`);
      if (!cwd) return this.listFailed(false);
      if (cwd.code >= 300) return this.listFailed(true);
    }
    const pwd = yield* this.command('PWD');
    if (!pwd) return this.listFailed(false);
    const m = /"((?:[^"]|"")*)"/.exec(pwd.lines[0] ?? '');
    const dir = m ? m[1]!.replace(/""/g, '"') : p || '/';
    const type = yield* this.command('TYPE I');
    if (!type) return this.listFailed(false);
    const got = yield* this.dataCommand('LIST', null);
    if (got === null) return this.listFailed(this.ctrl !== null);
    this.log('Status', `Directory listing of "${dir}" successful`);
    return true;
  }

  /** Downloads (`upload` null) or uploads one file; true when the transfer succeeded. */
  *transferFile(kind: 'get' | 'put', path: string, upload: Uint8Array | null): Generator<Wait, boolean> {
    this.log('Status', `Starting ${kind === 'get' ? 'download' : 'upload'} of ${path}`);
    const start = this.ctx.now();
    const type = yield* this.command('TYPE I');
    let got: Uint8Array | null = null;
    if (type) {
      const name = kind === 'get' ? path : path.slice(path.lastIndexOf('/') + 1);
      got = yield* this.dataCommand(`${kind === 'get' ? 'RETR' : 'STOR'} ${name}`, upload);
    }
    if (got === null) {
      this.log('Error', 'File transfer failed');
      return false;
    }
    if (kind === 'get') this.downloaded = got;
    const bytes = kind === 'get' ? got.length : upload!.length;
    const secs = (this.ctx.now() - start) / SEC;
    const when = secs < 1 ? 'less than one second' : `${Math.floor(secs)} second${Math.floor(secs) === 1 ? '' : 's'}`;
    this.log('Status', `File transfer successful, transferred ${groupDigits(bytes)} bytes in ${when}`);
    return true;
  }

  /** What the last download brought. */
  downloaded: Uint8Array = new Uint8Array(0);

  /**
   * PASV or PORT, then the transfer command; the data connection's bytes
   * (or, uploading, the bytes sent), or null (after the log's error
   * lines) when it failed.
   */
  private *dataCommand(cmd: string, upload: Uint8Array | null): Generator<Wait, Uint8Array | null> {
    let data: TcpSocket | null = null;
    let listener: TcpSocket | null = null;
    if (this.active) {
      listener = openTcp(this.ctx);
      const local = this.ctrl!.local.addr;
      if (listener.bind(local, 0) !== null || listener.listen(1) !== null) return null;
      const rep = yield* this.command(`PORT ${hostPortCommas(local, listener.local.port)}`);
      if (!rep || rep.code >= 300) {
        listener.close();
        return null;
      }
    } else {
      const rep = yield* this.command('PASV');
      if (!rep) return null;
      const hp = rep.code === 227 ? parse227(rep.lines[0]!) : null;
      if (!hp) return null;
      data = openTcp(this.ctx);
      const immediate = data.connect(hp.addr, hp.port);
      if (immediate) {
        data.close();
        return null;
      }
    }
    this.log('Command', cmd);
    this.ctrl!.send(utf8(`${cmd}\r\n`));
    this.lastActivity = this.ctx.now();
    return yield* this.runTransfer(data, listener, upload);
  }

  private listFailed(connected: boolean): boolean {
    this.log('Error', 'Failed to retrieve directory listing');
    if (!connected) this.close();
    return false;
  }

  /**
   * Waits for the transfer: the data connection (opened by us in passive
   * mode, by the server in active mode), its bytes until the server
   * closes it, and the control replies (150 then 226), with the
   * inactivity timer over all of them.
   */
  private *runTransfer(data: TcpSocket | null, listener: TcpSocket | null, upload: Uint8Array | null): Generator<Wait, Uint8Array | null> {
    let got226 = false;
    let eof = false;
    let lines: string[] = [];
    const parts: Uint8Array[] = [];
    for (;;) {
      if (listener && !data) {
        const s = listener.accept();
        if (s) {
          s.owner = { wake: () => this.ctx.wake() };
          data = s;
          listener.close();
          listener = null;
          this.lastActivity = this.ctx.now();
        }
      }
      if (data && !eof && upload && data.state === 'ESTAB') {
        // the data connection is up: send the file and close our side
        data.send(upload);
        data.close();
        eof = true;
        this.lastActivity = this.ctx.now();
      }
      if (data && !eof && !upload) {
        if (data.available > 0) {
          parts.push(data.read());
          this.lastActivity = this.ctx.now();
        }
        if (data.eof) {
          eof = true;
          data.close();
        } else if (data.error) {
          data.close();
          data = null;
          this.log('Error', 'Connection closed by server');
          this.close();
          return null;
        }
      }
      for (let line = this.r!.next(); line !== null; line = this.r!.next()) {
        this.lastActivity = this.ctx.now();
        this.log('Response', line);
        lines.push(line);
        const m = /^(\d{3})([ -])/.exec(lines[0]!);
        const last = /^(\d{3}) /.exec(line);
        if (!m || !last || last[1] !== m[1]) continue;
        const code = Number(m[1]);
        lines = [];
        if (code >= 400) {
          data?.close();
          listener?.close();
          return null;
        }
        if (code >= 200) got226 = true;
      }
      if (got226 && eof) return concatBytes(parts);
      if (this.r!.ended) {
        data?.close();
        listener?.close();
        this.log('Error', 'Connection closed by server');
        this.close();
        return null;
      }
      if (this.ctx.now() >= this.lastActivity + this.timeoutNs) {
        data?.abort();
        listener?.close();
        this.timedOut();
        this.close();
        return null;
      }
      yield this.ctx.until(this.lastActivity + this.timeoutNs);
    }
  }
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A count with thousands separators, as FileZilla's English log writes it (3,972,005,888). */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** FileZilla's words for the socket errors of a failed connect. */
const CONNECT_ERRORS: Partial<Record<string, string>> = {
  ECONNREFUSED: 'Connection refused by server',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network unreachable',
  ETIMEDOUT: 'Connection attempt timed out',
  EPERM: 'Operation not permitted',
};

/** Where downloads go and relative uploads come from (root's home). */
const LOCAL_DIR = '/root';

/** The `filezilla` program. */
export const filezilla: Program = function* (ctx) {
  let active = false;
  let timeoutSec = 20;
  let retries = 2;
  let urlArg: string | undefined;
  let get: string | undefined;
  let put: string | undefined;
  const args = ctx.argv.slice(1);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--get' || a === '--put') {
      const v = args[++i];
      if (v === undefined) {
        ctx.err(`filezilla: ${a} needs a file\n`);
        return 2;
      }
      if (a === '--get') get = v;
      else put = v;
    } else if (a === '--active') active = true;
    else if (a === '--passive') active = false;
    else if (a === '--timeout' || a === '--retries') {
      const v = Number(args[++i]);
      if (!Number.isInteger(v) || v < 0) {
        ctx.err(`filezilla: bad value for ${a}\n`);
        return 2;
      }
      if (a === '--timeout') timeoutSec = v;
      else retries = v;
    } else if (!a.startsWith('--') && urlArg === undefined) urlArg = a;
    else {
      ctx.err(`filezilla: unknown option ${a}\n`);
      return 2;
    }
  }
  const url = urlArg === undefined ? null : parseFtpUrl(urlArg);
  if (!url) {
    ctx.err('usage: filezilla [--active|--passive] [--timeout S] [--retries N] [--get FILE | --put FILE] ftp://[USER[:PASS]@]HOST[:PORT][/PATH]\n');
    return 2;
  }
  const addr = ctx.resolve(url.host);
  if (addr === null) {
    ctx.out(`Status: Resolving address of ${url.host}\n`);
    ctx.out('Error: Could not connect to server\n');
    return 1;
  }
  const timeoutNs = (timeoutSec > 0 ? timeoutSec : 20) * SEC;
  const s = new Session(ctx, url, active, timeoutNs, timeoutSec > 0 ? timeoutSec : 20);
  for (let attempt = 0; ; attempt++) {
    const c = yield* s.connect(addr);
    if (c === 'ok') {
      if (!(yield* s.login())) return 1;
      let ok: boolean;
      if (get !== undefined) {
        ok = yield* s.transferFile('get', get, null);
        if (ok) ctx.fs.write(`${LOCAL_DIR}/${get.slice(get.lastIndexOf('/') + 1)}`, new TextDecoder('utf-8').decode(s.downloaded));
      } else if (put !== undefined) {
        const local = put.startsWith('/') ? put : `${LOCAL_DIR}/${put}`;
        const text = ctx.fs.read(local);
        if (text === undefined) {
          ctx.out(`Error: File ${local} could not be opened\n`);
          ok = false;
        } else {
          ok = yield* s.transferFile('put', local, new TextEncoder().encode(text));
        }
      } else {
        ok = yield* s.list();
      }
      s.close();
      return ok ? 0 : 1;
    }
    if (c === 'fail' || attempt >= retries) return 1;
    ctx.out('Status: Waiting to retry...\n');
    yield ctx.sleep(5 * SEC);
  }
};
