/**
 * `ftp`, Debian 12's tnftp (20210827), run non-interactively: commands
 * come from standard input (`ftp -n HOST <<EOF ... EOF`), no prompt is
 * printed, and replies are shown only with -v (as tnftp does when its
 * input is not a terminal), except error replies (5xx), which it always
 * shows.
 *
 * Options: -n (no auto-login), -v (verbose), -V (not verbose), -p
 * (passive, the default), -A (active only), -q SECONDS (give up on a
 * stalled connect, reply or data connection sooner), -P PORT, then
 * HOST [PORT].
 * Without -n it logs in at once: "Name (HOST:root): " on standard output,
 * the name from the next input line, "Password: " on standard error, the
 * password from the line after (as tnftp reads them without a terminal).
 * Commands: open, user, ls, dir, nlist, pwd, cd, cdup, get/recv, put/send,
 * passive [on|off|auto], binary, ascii, verbose, prompt, hash, lcd,
 * close/disconnect, bye/quit/exit.
 *
 * As tnftp: passive mode asks EPSV (then PASV), connects the data
 * connection and waits as long as the kernel's SYN retries take; when
 * that fails it falls back to active mode for the rest of the session
 * (EPRT, then PORT); every reply is awaited 60 seconds at most, after
 * which the control connection is dropped ("421 Service not available,
 * remote server timed out. Connection closed."); in active mode the
 * server's data connection is awaited 60 seconds ("Poll timeout waiting
 * before accept"). Transfer figures ("6 bytes received in 00:00
 * (23.53 KiB/s)") come from the virtual clock.
 */
import type { Program, ProgramContext, Wait } from './api.js';
import { STRERROR, type TcpSocket } from '../stack/api.js';
import {
  LineReader,
  openTcp,
  SEC,
  acceptTcp,
  connectTcp,
  ipString,
  parse227,
  parse229,
  readAll,
  readReply,
  utf8,
  type FtpReply,
} from './ftp-proto.js';
import { resolvePath } from './vsftpd-ls.js';

/** How long tnftp waits for each reply and for the server's active-mode connection, without -q. */
const REPLY_TIMEOUT = 60 * SEC;

/** The directory relative local paths are taken from (root's home). */
const LOCAL_CWD = '/root';

/** The local user, the default login name tnftp offers. */
const LOCAL_USER = 'root';

/** Binary suffixes of tnftp's transfer rate. */
const SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi'];

/** tnftp's summary of a transfer: "N bytes received in MM:SS (R KiB/s)". */
export function transferSummary(bytes: number, direction: 'received' | 'sent', elapsedNs: number): string {
  const elapsed = elapsedNs / SEC;
  let bps = bytes;
  if (bytes > 0 && elapsed > 0) bps = Math.floor(bytes / elapsed);
  let out = `${bytes} byte${bytes === 1 ? '' : 's'} ${direction} in `;
  let remaining = Math.floor(elapsed);
  if (remaining > 86400) {
    const days = Math.floor(remaining / 86400);
    remaining %= 86400;
    out += `${days} day${days === 1 ? '' : 's'} `;
  }
  const hh = Math.floor(remaining / 3600);
  remaining %= 3600;
  if (hh) out += `${String(hh).padStart(2, ' ')}:`;
  out += `${String(Math.floor(remaining / 60)).padStart(2, '0')}:${String(remaining % 60).padStart(2, '0')} `;
  let i = 1;
  for (; bps >= 1024000 && i < SUFFIXES.length; i++) bps = Math.floor(bps / 1024);
  if (i === SUFFIXES.length) i--;
  out += `(${Math.floor(bps / 1024)}.${String(Math.floor(((bps % 1024) * 100) / 1024)).padStart(2, '0')} ${SUFFIXES[i]}B/s)`;
  return out;
}

/** The name getaddrinfo's AI_CANONNAME gives for `host`: the first name of its /etc/hosts line, else `host` itself. */
export function canonicalName(hosts: string | undefined, host: string): string {
  for (const line of (hosts ?? '').split('\n')) {
    const f = line.replace(/#.*/, '').trim().split(/\s+/);
    if (f.length >= 2 && f.slice(1).includes(host)) return f[1]!;
  }
  return host;
}

/** The `ftp` program. */
export const ftp: Program = function* (ctx) {
  const c = new FtpClient(ctx);
  return yield* c.main();
};

/** Splits a command line into words (tnftp's makeargv: blanks separate, quotes group). */
export function splitWords(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let inWord = false;
  let quote = '';
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = '';
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += ch;
    inWord = true;
  }
  if (inWord) out.push(cur);
  return out;
}

const COMMANDS = [
  'ascii', 'binary', 'bye', 'cd', 'cdup', 'close', 'dir', 'disconnect', 'exit', 'get', 'hash', 'image', 'lcd', 'ls',
  'nlist', 'open', 'passive', 'prompt', 'put', 'pwd', 'quit', 'recv', 'send', 'user', 'verbose',
];

class FtpClient {
  private verbose: boolean;
  private passive = true;
  private fallback = true;
  private autoLogin = true;
  private ctrl: TcpSocket | null = null;
  private r: LineReader | null = null;
  private host = '';
  private epsvBad = false;
  /** The transfer type files use (tnftp's `type`): binary once the server says UNIX L8. */
  private binary = false;
  /** The type the server is set to (tnftp's `curtype`); ASCII at login. */
  private serverBinary = false;
  /** tnftp's sendport: -1 until a PORT is refused once. */
  private sendport = -1;
  /** `prompt`: asking before each file of mget/mput (nothing asks without a terminal). */
  private prompting = true;
  /** `hash`: the toggle only (transfers here are smaller than one mark). */
  private hashMarks = false;
  /** `lcd`: where local files are read and written. */
  private localDir = LOCAL_CWD;
  /** Standard input's lines not read yet (commands, and answers to the Name/Password prompts). */
  private input: string[] = [];
  /** -q: seconds a stalled connection (connect, reply, data) is given; 0: the defaults. */
  private quitTime = 0;
  /** When the last command left (a transfer's figures count from its command). */
  private sentAt = 0;

  constructor(private readonly ctx: ProgramContext) {
    this.verbose = false;
  }

  private nextLine(): string | null {
    return this.input.length > 0 ? this.input.shift()! : null;
  }

  private replyTimeout(): number {
    return this.quitTime > 0 ? this.quitTime * SEC : REPLY_TIMEOUT;
  }

  /** A connect waits for the kernel, or -q seconds. */
  private connectDeadline(): number {
    return this.quitTime > 0 ? this.ctx.now() + this.quitTime * SEC : Infinity;
  }

  private print(text: string): void {
    this.ctx.out(text);
  }

  private warn(text: string): void {
    this.ctx.err(`ftp: ${text}\n`);
  }

  *main(): Generator<Wait, number> {
    const args = this.ctx.argv.slice(1);
    const rest: string[] = [];
    let port = '';
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a.startsWith('-') && a.length > 1 && rest.length === 0) {
        for (let j = 1; j < a.length; j++) {
          const f = a[j]!;
          if (f === 'n') this.autoLogin = false;
          else if (f === 'v') this.verbose = true;
          else if (f === 'V') this.verbose = false;
          else if (f === 'p') this.passive = true;
          else if (f === 'A') {
            this.passive = false;
            this.fallback = false;
          } else if (f === 'q') {
            const v = a.slice(j + 1) || args[++i] || '';
            if (!/^\d+$/.test(v)) {
              this.ctx.err(`ftp: Bad quit value: ${v}\n`);
              return 1;
            }
            this.quitTime = Number(v);
            break;
          } else if (f === 'P') {
            port = a.slice(j + 1) || args[++i] || '';
            break;
          } else if (f === 'd' || f === 'i' || f === 'g' || f === 'e') {
            // debugging, prompting, globbing and editing: nothing to do without a terminal
          } else {
            this.ctx.err(`ftp: invalid option -- '${f}'\n`);
            return 1;
          }
        }
        continue;
      }
      rest.push(a);
    }
    this.input = this.ctx.stdin.split('\n');
    if (this.input.length > 0 && this.input[this.input.length - 1] === '') this.input.pop();
    if (rest.length > 0) yield* this.open(rest[0]!, rest[1] ?? port);
    for (let line = this.nextLine(); line !== null; line = this.nextLine()) {
      const words = splitWords(line);
      if (words.length === 0) continue;
      const done = yield* this.run(words);
      if (done) return 0;
    }
    yield* this.quit();
    return 0;
  }

  private *run(words: string[]): Generator<Wait, boolean> {
    const name = words[0]!;
    const matches = COMMANDS.filter((c) => c.startsWith(name));
    const cmd = COMMANDS.includes(name) ? name : matches.length === 1 ? matches[0]! : null;
    if (!cmd) {
      this.print(matches.length > 1 ? '?Ambiguous command.\n' : '?Invalid command.\n');
      return false;
    }
    const args = words.slice(1);
    switch (cmd) {
      case 'bye':
      case 'quit':
      case 'exit':
        yield* this.quit();
        return true;
      case 'open':
        if (this.ctrl) {
          this.print(`Already connected to ${this.host}, use close first.\n`);
          return false;
        }
        if (args.length === 0) {
          this.print('usage: open host-name [port]\n');
          return false;
        }
        yield* this.open(args[0]!, args[1] ?? '');
        return false;
      case 'passive':
        return this.setPassive(args);
      case 'verbose':
        this.verbose = !this.verbose;
        this.print(`Verbose mode ${this.verbose ? 'on' : 'off'}.\n`);
        return false;
      case 'prompt':
        this.prompting = !this.prompting;
        this.print(`Interactive mode ${this.prompting ? 'on' : 'off'}.\n`);
        return false;
      case 'hash':
        this.hashMarks = !this.hashMarks;
        this.print(this.hashMarks ? 'Hash mark printing on (1024 bytes/hash mark).\n' : 'Hash mark printing off.\n');
        return false;
      case 'lcd':
        this.localDir = resolvePath(this.localDir, args[0] ?? LOCAL_CWD);
        this.print(`Local directory now: ${this.localDir}\n`);
        return false;
    }
    if (!this.ctrl) {
      this.print('Not connected.\n');
      return false;
    }
    switch (cmd) {
      case 'close':
      case 'disconnect':
        yield* this.command('QUIT');
        this.drop();
        return false;
      case 'user':
        yield* this.user(args);
        return false;
      case 'pwd': {
        const rep = yield* this.command('PWD', true);
        if (rep && rep.code === 257) {
          const m = /"((?:[^"]|"")*)"/.exec(rep.lines[0]!);
          if (m) this.print(`Remote directory: ${m[1]!.replace(/""/g, '"')}\n`);
        } else if (rep) {
          this.print('Unable to determine remote directory\n');
        }
        return false;
      }
      case 'cd':
        if (args.length === 0) {
          this.print('usage: cd remote-directory\n');
          return false;
        }
        yield* this.command(`CWD ${args[0]}`);
        return false;
      case 'cdup':
        yield* this.command('CDUP');
        return false;
      case 'ls':
      case 'dir':
        yield* this.list('LIST', args[0], args[1]);
        return false;
      case 'nlist':
        yield* this.list('NLST', args[0], args[1]);
        return false;
      case 'get':
      case 'recv':
        if (args.length === 0) {
          this.print('usage: get remote-file [local-file]\n');
          return false;
        }
        yield* this.get(args[0]!, args[1] ?? args[0]!);
        return false;
      case 'put':
      case 'send':
        if (args.length === 0) {
          this.print('usage: put local-file [remote-file]\n');
          return false;
        }
        yield* this.put(args[0]!, args[1] ?? args[0]!);
        return false;
      case 'binary':
      case 'image':
        yield* this.setType(true, true);
        return false;
      case 'ascii':
        yield* this.setType(false, true);
        return false;
    }
    return false;
  }

  private setPassive(args: string[]): boolean {
    const a = args[0];
    if (a === undefined) {
      this.passive = !this.passive;
      this.fallback = this.passive;
    } else if (a === 'on') {
      this.passive = true;
      this.fallback = false;
    } else if (a === 'off') {
      this.passive = false;
      this.fallback = false;
    } else if (a === 'auto') {
      this.passive = true;
      this.fallback = true;
    } else {
      this.print('usage: passive [ on | off | auto ]\n');
      return false;
    }
    this.print(`Passive mode: ${this.passive ? 'on' : 'off'}; fallback to active mode: ${this.fallback ? 'on' : 'off'}.\n`);
    return false;
  }

  // ---- the control connection ----

  private *open(host: string, portArg: string): Generator<Wait, void> {
    const addr = this.ctx.resolve(host);
    const portName = portArg || 'ftp';
    const port = portArg ? Number(portArg) : 21;
    if (addr === null) {
      this.warn(`Can't lookup \`${host}:${portName}': Name or service not known`);
      return;
    }
    const sock = openTcp(this.ctx);
    const r = yield* connectTcp(this.ctx, sock, addr, port, this.connectDeadline());
    if (r !== null) {
      sock.close();
      const err = r === 'timeout' ? 'ETIMEDOUT' : r;
      this.warn(`Can't connect to \`${ipString(addr)}:${port}': ${STRERROR[err]}`);
      this.warn(`Can't connect to \`${host}:${portName}'`);
      return;
    }
    this.ctrl = sock;
    this.r = new LineReader(sock);
    this.host = canonicalName(this.ctx.fs.read('/etc/hosts'), host);
    this.epsvBad = false;
    this.serverBinary = false;
    this.sendport = -1;
    if (this.verbose) this.print(`Connected to ${this.host}.\n`);
    const greet = yield* this.getReply();
    if (!greet || greet.code >= 300) {
      this.drop();
      return;
    }
    if (this.autoLogin) {
      // tnftp asks for the name on standard output and reads it from standard input
      this.print(`Name (${host}:${LOCAL_USER}): `);
      const name = (this.nextLine() ?? '').trim() || LOCAL_USER;
      yield* this.login(name, undefined);
    }
  }

  private drop(): void {
    if (this.ctrl) this.ctrl.close();
    this.ctrl = null;
    this.r = null;
  }

  /** Reads a reply, printing it as tnftp does; null when the connection was lost (after the 421 line). */
  private *getReply(quiet = false): Generator<Wait, FtpReply | null> {
    const rep = yield* readReply(this.ctx, this.r!, this.replyTimeout());
    if (rep === 'eof' || rep === 'timeout') {
      this.drop();
      if (this.verbose) {
        this.print(
          rep === 'timeout'
            ? '421 Service not available, remote server timed out. Connection closed.\n'
            : '421 Service not available, remote server has closed connection.\n',
        );
      }
      return null;
    }
    if (!quiet) {
      for (const l of rep.lines) {
        if (this.verbose) this.print(`${l}\n`);
        else if (l.charAt(0) === '5') this.print(`${l.slice(4)}\n`);
      }
    }
    if (rep.code === 421) this.drop();
    return rep;
  }

  /** Sends a command and reads its reply (`quiet`: printed only when an error, as tnftp's verbose=-1 does not even do). */
  private *command(text: string, quiet = false): Generator<Wait, FtpReply | null> {
    if (!this.ctrl) return null;
    this.ctrl.send(utf8(`${text}\r\n`));
    this.sentAt = this.ctx.now();
    return yield* this.getReply(quiet);
  }

  private *quit(): Generator<Wait, void> {
    if (!this.ctrl) return;
    this.ctrl.send(utf8('QUIT\r\n'));
    const rep = yield* readReply(this.ctx, this.r!, this.replyTimeout());
    if (rep !== 'eof' && rep !== 'timeout' && this.verbose) for (const l of rep.lines) this.print(`${l}\n`);
    this.drop();
  }

  private *user(args: string[]): Generator<Wait, void> {
    if (args.length === 0) {
      this.print('usage: user username [password [account]]\n');
      return;
    }
    yield* this.login(args[0]!, args[1]);
  }

  /** USER, PASS (asking for it on standard error when not given), then the server's type as tnftp learns it. */
  private *login(name: string, password: string | undefined): Generator<Wait, void> {
    let rep = yield* this.command(`USER ${name}`);
    if (rep && rep.code >= 300 && rep.code < 400) {
      if (password === undefined) {
        this.ctx.err('Password: ');
        password = this.nextLine() ?? '';
      }
      rep = yield* this.command(`PASS ${password}`);
    }
    if (!rep || rep.code >= 300) {
      if (this.ctrl || rep) this.print('Login failed.\n');
      return;
    }
    yield* this.remoteInfo();
  }

  /** After a login: SYST (and binary mode on a UNIX L8 server), then FEAT, as tnftp's getremoteinfo. */
  private *remoteInfo(): Generator<Wait, void> {
    const syst = yield* this.command('SYST', true);
    if (!syst) return;
    if (syst.code === 215) {
      const text = syst.lines[0]!.slice(4);
      const word = text.split(' ')[0]!;
      if (this.verbose) this.print(`Remote system type is ${word}.\n`);
      if (/^UNIX Type: L8/.test(text)) {
        this.binary = true;
        if (this.verbose) this.print('Using binary mode to transfer files.\n');
      }
    }
    yield* this.command('FEAT', true);
  }

  /** The `binary`/`ascii` commands: the type files use from now on, set on the server at once. */
  private *setType(binary: boolean, show: boolean): Generator<Wait, void> {
    const rep = yield* this.command(binary ? 'TYPE I' : 'TYPE A', !show);
    if (rep && rep.code < 300) {
      this.binary = binary;
      this.serverBinary = binary;
    }
  }

  /** Sets the server's type before a transfer when it differs (tnftp's changetype, its reply not shown). */
  private *changeType(binary: boolean): Generator<Wait, void> {
    if (this.serverBinary === binary) return;
    const rep = yield* this.command(binary ? 'TYPE I' : 'TYPE A', true);
    if (rep && rep.code < 300) this.serverBinary = binary;
  }

  // ---- data connections ----

  /** Sets up the data connection before the transfer command (tnftp's initconn); null when it cannot. */
  private *initConn(): Generator<Wait, { kind: 'pasv'; sock: TcpSocket } | { kind: 'port'; listener: TcpSocket } | null> {
    if (this.passive) {
      let port: number | null = null;
      let addr = this.ctrl!.remote.addr;
      let ok = false;
      if (!this.epsvBad) {
        const rep = yield* this.command('EPSV', true);
        if (!this.ctrl) return null;
        if (rep && rep.code === 229) {
          if (this.verbose) this.print(`${rep.lines[0]}\n`);
          port = parse229(rep.lines[0]!);
          ok = port !== null;
          if (!ok) this.print('parse error!\n');
        } else {
          this.epsvBad = true;
        }
      }
      if (!ok && this.epsvBad) {
        const rep = yield* this.command('PASV');
        if (!this.ctrl) return null;
        if (rep && rep.code === 227) {
          const hp = parse227(rep.lines[0]!);
          if (hp) {
            addr = hp.addr;
            port = hp.port;
            ok = true;
          }
        }
      }
      if (!ok || port === null) {
        if (this.fallback) {
          this.passive = false;
          return yield* this.initConn();
        }
        this.print('Passive mode refused.\n');
        return null;
      }
      const sock = openTcp(this.ctx);
      const r = yield* connectTcp(this.ctx, sock, addr, port, this.connectDeadline());
      if (r !== null) {
        sock.close();
        this.warn(`Can't connect to \`${ipString(addr)}:${port}': ${STRERROR[r === 'timeout' ? 'ETIMEDOUT' : r]}`);
        if (this.fallback) {
          this.passive = false;
          return yield* this.initConn();
        }
        return null;
      }
      return { kind: 'pasv', sock };
    }
    const listener = openTcp(this.ctx);
    const local = this.ctrl!.local.addr;
    if (listener.bind(local, 0) !== null || listener.listen(1) !== null) {
      listener.close();
      this.warn("Can't bind for data connection: Address already in use");
      return null;
    }
    const port = listener.local.port;
    let rep: FtpReply | null = null;
    if (!this.epsvBad) {
      rep = yield* this.command(`EPRT |1|${ipString(local)}|${port}|`, true);
      if (!this.ctrl) {
        listener.close();
        return null;
      }
      if (rep && rep.code < 300) {
        if (this.verbose) this.print(`${rep.lines[0]}\n`);
      } else {
        this.epsvBad = true;
        rep = null;
      }
    }
    if (!rep) {
      rep = yield* this.command(`PORT ${ipString(local).replace(/\./g, ',')},${port >> 8},${port & 255}`);
      if (!rep || rep.code >= 300) {
        listener.close();
        if (rep && rep.code >= 500 && this.sendport === -1) {
          // tnftp then tries once more without PORT, on the control connection's own port
          this.sendport = 1;
          this.warn("Can't bind for data connection: Address already in use");
        }
        return null;
      }
    }
    return { kind: 'port', listener };
  }

  /** Sends the transfer command and brings the data connection up (tnftp's command + dataconn). */
  private *transfer(command: string): Generator<Wait, TcpSocket | null> {
    const conn = yield* this.initConn();
    if (!conn) return null;
    const rep = yield* this.command(command);
    if (!rep || rep.code >= 200) {
      if (conn.kind === 'pasv') conn.sock.close();
      else conn.listener.close();
      return null;
    }
    if (conn.kind === 'pasv') return conn.sock;
    const sock = yield* acceptTcp(this.ctx, conn.listener, this.ctx.now() + this.replyTimeout());
    conn.listener.close();
    if (!sock) {
      this.warn('Poll timeout waiting before accept');
      yield* this.abortWait();
      return null;
    }
    return sock;
  }

  /** After a failed data connection with the transfer command pending: waits for the server's reply. */
  private *abortWait(): Generator<Wait, void> {
    if (this.ctrl) yield* this.getReply();
  }

  private *list(cmd: 'LIST' | 'NLST', remote: string | undefined, local: string | undefined): Generator<Wait, void> {
    yield* this.changeType(false);
    if (!this.ctrl) return;
    const sock = yield* this.transfer(remote ? `${cmd} ${remote}` : cmd);
    if (!sock) return;
    const got = yield* readAll(this.ctx, sock, Infinity);
    sock.close();
    const text = new TextDecoder('utf-8').decode(got.data).replace(/\r\n/g, '\n');
    if (local && local !== '-') this.ctx.fs.write(resolvePath(this.localDir, local), text);
    else this.print(text);
    yield* this.getReply();
  }

  private *get(remote: string, local: string): Generator<Wait, void> {
    if (this.verbose) this.print(`local: ${local} remote: ${remote}\n`);
    yield* this.changeType(this.binary);
    if (!this.ctrl) return;
    yield* this.command(`SIZE ${remote}`, true);
    if (!this.ctrl) return;
    const sock = yield* this.transfer(`RETR ${remote}`);
    if (!sock) return;
    const start = this.sentAt;
    const got = yield* readAll(this.ctx, sock, Infinity);
    sock.close();
    const end = this.ctx.now();
    this.ctx.fs.write(resolvePath(this.localDir, local), new TextDecoder('utf-8').decode(got.data));
    yield* this.getReply();
    if (got.data.length > 0 && this.verbose) this.print(`${transferSummary(got.data.length, 'received', end - start)}\n`);
    if (this.ctrl) yield* this.command(`MDTM ${remote}`, true);
  }

  private *put(local: string, remote: string): Generator<Wait, void> {
    if (this.verbose) this.print(`local: ${local} remote: ${remote}\n`);
    const text = this.ctx.fs.read(resolvePath(this.localDir, local));
    if (text === undefined) {
      this.warn(`Can't open \`${local}': No such file or directory`);
      return;
    }
    yield* this.changeType(this.binary);
    if (!this.ctrl) return;
    const sock = yield* this.transfer(`STOR ${remote}`);
    if (!sock) return;
    const start = this.sentAt;
    const bytes = utf8(text);
    sock.send(bytes);
    sock.close();
    const end = this.ctx.now();
    yield* this.getReply();
    if (bytes.length > 0 && this.verbose) this.print(`${transferSummary(bytes.length, 'sent', end - start)}\n`);
  }
}
