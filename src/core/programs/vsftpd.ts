/**
 * vsftpd 3.0.3, the FTP server of the lab's hosts: a background program
 * (systemctl starts it as unit `vsftpd`) that reads /etc/vsftpd/vsftpd.conf
 * (CentOS) or /etc/vsftpd.conf (Debian), or the file named on its command
 * line, listens on listen_port and runs one session program per control
 * connection, with the replies vsftpd sends, word for word.
 *
 * Data connections follow vsftpd: PASV/EPSV listen on a port drawn at
 * random from [pasv_min_port, pasv_max_port] (two random bytes scaled into
 * the range) and wait accept_timeout seconds for the client once a
 * transfer command comes; PORT/EPRT connect to the client from port 20
 * (connect_from_port_20) with connect_timeout seconds to succeed. The 150
 * mark is sent once the data connection is up; "425 Failed to establish
 * connection." when it does not come up, "425 Security: Bad IP
 * connecting." when a passive connection comes from another address.
 *
 * Logins: `anonymous`/`ftp` with any password when anonymous_enable
 * (chrooted to anon_root or the ftp user's home); local users of the
 * host's /etc/passwd when local_enable, with the password written in
 * clear as the second field of their /etc/shadow line (the lab does no
 * crypt), or, for a user with no such field, the password equal to the
 * user name. Users listed in /etc/ftpusers or /etc/vsftpd/ftpusers are
 * refused, as PAM's listfile does on both distributions.
 */
import type { Program, ProgramContext, Wait } from './api.js';
import type { TcpSocket } from '../stack/api.js';
import {
  LineReader,
  openTcp,
  SEC,
  acceptTcp,
  ipString,
  connectTcp,
  hostPortCommas,
  parseHostPortCommas,
  parseIp,
  parsePasswd,
  readAll,
  readLine,
  utf8,
} from './ftp-proto.js';
import { packagedConf, packagedFiles, parseVsftpdConf, pasvPort, pasvRange, type VsftpdConf } from './vsftpd-conf.js';
import { dirAccess, listLine, listedEntries, resolvePath, baseName, type DirFs, type FsEntry } from './vsftpd-ls.js';

/** The version vsftpd greets with (Debian 12's vsftpd, the reference of the differential tests). */
export const VSFTPD_VERSION = '3.0.3';

/** Seconds PAM (pam_unix) waits after a failed password before answering. */
const PAM_FAIL_DELAY = 2;

/** The configuration file vsftpd reads when none is named: CentOS's path first, then Debian's. */
export function defaultConfPath(ctx: ProgramContext): string {
  return ctx.fs.read('/etc/vsftpd/vsftpd.conf') !== undefined ? '/etc/vsftpd/vsftpd.conf' : '/etc/vsftpd.conf';
}

/**
 * vsftpd's fatal error: "500 OOPS: ..." with CRLF, written where its
 * control connection would be (the terminal it was started from), exit
 * status 2.
 */
function oops(ctx: ProgramContext, msg: string): number {
  ctx.err(`500 OOPS: ${msg}\r\n`);
  return 2;
}

/**
 * The daemon: `vsftpd [CONFIG_FILE]`. A missing /etc/vsftpd/vsftpd.conf or
 * /etc/vsftpd.conf is first written as the distribution's package installs
 * it, with the package's user lists (ftpusers, user_list) when missing.
 */
export const vsftpd: Program = function* (ctx) {
  const path = ctx.argv.slice(1).find((a) => !a.startsWith('-')) ?? defaultConfPath(ctx);
  let text = ctx.fs.read(path);
  if (text === undefined) {
    // the package's file, put in place the first time the daemon needs it
    text = packagedConf(path);
    if (text === undefined) return oops(ctx, `cannot read config file: ${path}`);
    ctx.fs.write(path, text);
    for (const [file, body] of Object.entries(packagedFiles(path))) if (ctx.fs.read(file) === undefined) ctx.fs.write(file, body);
  }
  const parsed = parseVsftpdConf(text);
  if ('error' in parsed) return oops(ctx, parsed.error);
  const conf = parsed.conf;
  // Red Hat's build keeps its user list beside its configuration
  if (path.startsWith('/etc/vsftpd/') && !('userlist_file' in parsed.raw)) conf.userlist_file = '/etc/vsftpd/user_list';
  if (!conf.listen && !conf.listen_ipv6) return oops(ctx, 'vsftpd: not configured for standalone, must be started from inetd');
  if (conf.listen && conf.listen_ipv6) return oops(ctx, 'run two copies of vsftpd for IPv4 and IPv6');
  const listener = openTcp(ctx);
  const bindAddr = conf.listen_address ? parseIp(conf.listen_address) : 0;
  if (bindAddr === null) return oops(ctx, `bad listen_address: ${conf.listen_address}`);
  // listen_ipv6 listens on [::], which takes IPv4 connections too
  const v6 = conf.listen_ipv6;
  if (listener.bind(bindAddr, conf.listen_port) || listener.listen(32)) {
    listener.close();
    return oops(ctx, `could not bind listening ${v6 ? 'IPv6' : 'IPv4'} socket`);
  }
  if (!ctx.resumed) ctx.background();
  const clients: SessionCount = { n: 0 };
  for (;;) {
    const conn = listener.accept();
    if (!conn) {
      yield ctx.until(Infinity);
      continue;
    }
    ctx.spawn((c) => vsftpdSession(c, conn, conf, clients), ['vsftpd']);
  }
};

/** The command list of HELP. */
const HELP_LINES = [
  ' ABOR ACCT ALLO APPE CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD',
  ' MODE NLST NOOP OPTS PASS PASV PORT PWD  QUIT REIN REST RETR RMD  RNFR',
  ' RNTO SITE SIZE SMNT STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD',
  ' XPWD XRMD',
];

/** Commands answered "550 Permission denied." when the configuration turns them off. */
const DENIED = new Set(
  'PASV PORT STOR MKD XMKD RMD XRMD DELE RNFR RNTO SITE APPE EPSV EPRT RETR LIST NLST STOU ALLO REIN ACCT SMNT FEAT OPTS STAT PBSZ PROT'.split(' '),
);

/** Data connection setup of a session: a passive listener or the client's address for PORT. */
type DataSetup = { kind: 'pasv'; listener: TcpSocket } | { kind: 'port'; addr: number; port: number } | null;

/** The sessions a daemon has open (STAT shows the count a session started with). */
export interface SessionCount {
  n: number;
}

/** One control connection, from the greeting to QUIT or a timeout. */
export function* vsftpdSession(ctx: ProgramContext, ctrl: TcpSocket, conf: VsftpdConf, clients: SessionCount = { n: 0 }): Generator<Wait, number> {
  ctrl.owner = { wake: () => ctx.wake() };
  clients.n++;
  const s = new Session(ctx, ctrl, conf, clients.n);
  try {
    yield* s.run();
  } finally {
    s.closeData();
    clients.n--;
  }
  return 0;
}

class Session {
  private readonly r: LineReader;
  private readonly dirs: DirFs;
  private user = '';
  private loggedIn = false;
  private anonymous = false;
  private uid = 0;
  private gid = 0;
  /** The chroot (the real directory '/' is), '' when not chrooted. */
  private root = '';
  /** Current directory as the client sees it. */
  private cwd = '/';
  private data: DataSetup = null;
  private restart = 0;
  private loginFails = 0;
  private done = false;

  /** TYPE A (the default) or I. */
  private ascii = true;
  /** SITE UMASK. */
  private umask: number;

  constructor(
    private readonly ctx: ProgramContext,
    private readonly ctrl: TcpSocket,
    private readonly conf: VsftpdConf,
    private readonly clientCount: number,
  ) {
    this.umask = conf.local_umask;
    this.r = new LineReader(ctrl);
    this.dirs = dirAccess(ctx.fs);
  }

  private reply(code: number, text: string): void {
    this.ctrl.send(utf8(`${code} ${text}\r\n`));
  }

  private replyLines(code: number, first: string, middle: string[], last: string): void {
    this.ctrl.send(utf8(`${code}-${first}\r\n${middle.map((l) => `${l}\r\n`).join('')}${code} ${last}\r\n`));
  }

  private exit(code: number, text: string): void {
    this.reply(code, text);
    this.done = true;
  }

  *run(): Generator<Wait, void> {
    this.reply(220, this.conf.ftpd_banner ?? `(vsFTPd ${VSFTPD_VERSION})`);
    while (!this.done) {
      const line = yield* readLine(this.ctx, this.r, this.ctx.now() + this.conf.idle_session_timeout * SEC);
      if (line === 'eof') break;
      if (line === 'timeout') {
        this.exit(421, 'Timeout.');
        break;
      }
      const sp = line.indexOf(' ');
      const cmd = (sp < 0 ? line : line.slice(0, sp)).toUpperCase();
      const arg = sp < 0 ? '' : line.slice(sp + 1);
      if (this.loggedIn) yield* this.postLogin(cmd, arg);
      else yield* this.preLogin(cmd, arg);
    }
    this.ctrl.close();
  }

  // ---- before login ----

  private *preLogin(cmd: string, arg: string): Generator<Wait, void> {
    switch (cmd) {
      case 'USER':
        return this.handleUser(arg);
      case 'PASS':
        return yield* this.handlePass(arg);
      case 'QUIT':
        return this.exit(221, 'Goodbye.');
      case 'FEAT':
        return this.handleFeat();
      case 'OPTS':
        return this.handleOpts(arg);
      case '':
        if (arg === '') return;
        break;
    }
    this.reply(530, 'Please login with USER and PASS.');
  }

  private isAnonName(name: string): boolean {
    const u = name.toUpperCase();
    return u === 'FTP' || u === 'ANONYMOUS';
  }

  private handleUser(arg: string): void {
    this.user = arg;
    const anon = this.isAnonName(arg);
    if (!this.conf.local_enable && !anon) {
      this.reply(530, 'This FTP server is anonymous only.');
      this.user = '';
      return;
    }
    if (this.conf.userlist_enable) {
      const list = (this.ctx.fs.read(this.conf.userlist_file) ?? '').split('\n');
      const located = list.includes(arg);
      if (located === this.conf.userlist_deny) {
        this.reply(530, 'Permission denied.');
        this.user = '';
        return;
      }
    }
    this.reply(331, 'Please specify the password.');
  }

  private *handlePass(arg: string): Generator<Wait, void> {
    if (this.user === '') {
      this.reply(503, 'Login with USER first.');
      return;
    }
    const ok = this.login(this.user, arg);
    if (ok === 'oops') return;
    if (ok) {
      this.loggedIn = true;
      this.reply(230, 'Login successful.');
      return;
    }
    // PAM's own delay after a failed authentication (pam_unix: 2 s), then vsftpd's delay_failed_login
    const pause = (this.anonymous || this.isAnonName(this.user) ? 0 : PAM_FAIL_DELAY) + this.conf.delay_failed_login;
    if (pause > 0) yield this.ctx.sleep(pause * SEC);
    this.reply(530, 'Login incorrect.');
    this.user = '';
    this.loginFails++;
    if (this.loginFails >= this.conf.max_login_fails) this.done = true;
  }

  /** Checks the credentials and sets up the session's user, root and directory. */
  private login(user: string, pass: string): boolean | 'oops' {
    const users = parsePasswd(this.ctx.fs.read('/etc/passwd'));
    if (this.isAnonName(user)) {
      if (!this.conf.anonymous_enable) return false;
      const ftp = users.find((u) => u.name === this.conf.ftp_username);
      if (!ftp) {
        this.exit(500, `OOPS: vsftpd: cannot locate user specified in 'ftp_username':${this.conf.ftp_username}`);
        return 'oops';
      }
      this.anonymous = true;
      this.uid = ftp.uid;
      this.gid = ftp.gid;
      this.root = resolvePath('/', this.conf.anon_root ?? ftp.home);
      if (this.root === '/') this.root = '';
      this.cwd = '/';
      return true;
    }
    const u = users.find((x) => x.name === user);
    if (!u || !this.passwordOk(user, pass) || this.denied(user)) return false;
    this.uid = u.uid;
    this.gid = u.gid;
    const start = resolvePath('/', this.conf.local_root ?? u.home);
    if (this.conf.chroot_local_user) {
      this.root = start === '/' ? '' : start;
      this.cwd = '/';
    } else {
      this.cwd = start;
    }
    return true;
  }

  private passwordOk(user: string, pass: string): boolean {
    const shadow = this.ctx.fs.read('/etc/shadow') ?? '';
    for (const line of shadow.split('\n')) {
      const f = line.split(':');
      if (f[0] !== user || f.length < 2) continue;
      const field = f[1]!;
      if (field === '' || field.startsWith('$') || field.startsWith('!') || field === '*' || field === 'x') break;
      return field === pass;
    }
    return pass === user;
  }

  private denied(user: string): boolean {
    for (const file of ['/etc/ftpusers', '/etc/vsftpd/ftpusers']) {
      const text = this.ctx.fs.read(file);
      if (text !== undefined && text.split('\n').some((l) => l.trim() === user)) return true;
    }
    return false;
  }

  private handleFeat(): void {
    this.replyLines(211, 'Features:', [' EPRT', ' EPSV', ' MDTM', ' PASV', ' REST STREAM', ' SIZE', ' TVFS'], 'End');
  }

  private handleOpts(arg: string): void {
    if (arg.toUpperCase() === 'UTF8 ON') this.reply(200, 'Always in UTF8 mode.');
    else this.reply(501, 'Option not understood.');
  }

  // ---- after login ----

  private writable(): boolean {
    return this.conf.write_enable && !this.anonymous;
  }

  private *postLogin(cmd: string, arg: string): Generator<Wait, void> {
    switch (cmd) {
      case 'QUIT':
        return this.exit(221, 'Goodbye.');
      case 'PWD':
      case 'XPWD':
        return this.reply(257, `"${this.cwd.replace(/"/g, '""')}" is the current directory`);
      case 'CWD':
      case 'XCWD':
        return this.changeDir(arg);
      case 'CDUP':
      case 'XCUP':
        return this.changeDir('..');
      case 'PASV':
        if (this.conf.pasv_enable) return this.handlePasv(false, arg);
        break;
      case 'EPSV':
        if (this.conf.pasv_enable) return this.handlePasv(true, arg);
        break;
      case 'PORT':
        if (this.conf.port_enable) return this.handlePort(arg);
        break;
      case 'EPRT':
        if (this.conf.port_enable) return this.handleEprt(arg);
        break;
      case 'RETR':
        if (this.conf.download_enable) return yield* this.handleRetr(arg);
        break;
      case 'STOR':
        if (this.conf.write_enable && (this.conf.anon_upload_enable || !this.anonymous)) return yield* this.handleStor(arg);
        break;
      case 'LIST':
        if (this.conf.dirlist_enable) return yield* this.handleList(arg, true);
        break;
      case 'NLST':
        if (this.conf.dirlist_enable) return yield* this.handleList(arg, false);
        break;
      case 'NOOP':
        return this.reply(200, 'NOOP ok.');
      case 'SYST':
        return this.reply(215, 'UNIX Type: L8');
      case 'TYPE':
        return this.handleType(arg);
      case 'MODE':
        return arg.toUpperCase() === 'S' ? this.reply(200, 'Mode set to S.') : this.reply(504, 'Bad MODE command.');
      case 'STRU':
        return arg.toUpperCase() === 'F' ? this.reply(200, 'Structure set to F.') : this.reply(504, 'Bad STRU command.');
      case 'ALLO':
        return this.reply(202, 'ALLO command ignored.');
      case 'REST':
        this.restart = Math.max(0, parseInt(arg, 10) || 0);
        return this.reply(350, `Restart position accepted (${this.restart}).`);
      case 'SIZE':
        return this.handleSize(arg);
      case 'MDTM':
        return this.handleMdtm(arg);
      case 'FEAT':
        return this.handleFeat();
      case 'OPTS':
        return this.handleOpts(arg);
      case 'ABOR':
        return this.reply(225, 'No transfer to ABOR.');
      case 'HELP':
        return this.replyLines(214, 'The following commands are recognized.', HELP_LINES, 'Help OK.');
      case 'STAT':
        if (arg === '') return this.handleStat();
        if (this.conf.dirlist_enable) return this.handleStatFile(arg);
        break;
      case 'USER':
        if (this.anonymous) return this.reply(530, "Can't change from guest user.");
        if (arg === this.user) return this.reply(331, 'Any password will do.');
        return this.reply(530, "Can't change to another user.");
      case 'PASS':
        return this.reply(230, 'Already logged in.');
      case 'REIN':
      case 'ACCT':
      case 'SMNT':
        return this.reply(502, `${cmd} not implemented.`);
      case 'DELE':
      case 'RMD':
      case 'XRMD':
      case 'MKD':
      case 'XMKD':
      case 'RNFR':
      case 'RNTO':
      case 'APPE':
        if (this.writable()) return this.handleWriteOp(cmd);
        break;
      case 'SITE':
        if (!this.anonymous) return this.handleSite(arg);
        break;
      case '':
        if (arg === '') return;
        break;
      case 'GET':
      case 'POST':
      case 'HEAD':
      case 'OPTIONS':
      case 'CONNECT':
        return this.exit(500, 'HTTP protocol commands not allowed.');
    }
    if (DENIED.has(cmd)) return this.reply(550, 'Permission denied.');
    this.reply(500, 'Unknown command.');
  }

  /** The real path of a path the client gives. */
  private real(clientPath: string): string {
    const p = resolvePath(this.cwd, clientPath);
    return this.root === '' ? p : p === '/' ? this.root : this.root + p;
  }

  private changeDir(arg: string): void {
    const target = resolvePath(this.cwd, arg);
    const e = this.dirs.stat(this.real(arg));
    if (e && e.type === 'dir') {
      this.cwd = target;
      this.reply(250, 'Directory successfully changed.');
    } else {
      this.reply(550, 'Failed to change directory.');
    }
  }

  private handleType(arg: string): void {
    const a = arg.toUpperCase();
    if (a === 'I' || a === 'L8' || a === 'L 8') {
      this.ascii = false;
      this.reply(200, 'Switching to Binary mode.');
    } else if (a === 'A' || a === 'A N') {
      this.ascii = true;
      this.reply(200, 'Switching to ASCII mode.');
    } else {
      this.reply(500, 'Unrecognised TYPE command.');
    }
  }

  private handleStat(): void {
    const ind = '     ';
    this.replyLines(
      211,
      'FTP server status:',
      [
        `${ind}Connected to ${ipString(this.ctrl.remote.addr)}`,
        `${ind}Logged in as ${this.anonymous ? this.conf.ftp_username : this.user}`,
        `${ind}TYPE: ${this.ascii ? 'ASCII' : 'BINARY'}`,
        `${ind}No session bandwidth limit`,
        `${ind}Session timeout in seconds is ${this.conf.idle_session_timeout}`,
        `${ind}Control connection is plain text`,
        `${ind}Data connections will be plain text`,
        `${ind}At session startup, client count was ${this.clientCount}`,
        `${ind}vsFTPd ${VSFTPD_VERSION} - secure, fast, stable`,
      ],
      'End of status',
    );
  }

  /** STAT PATH: the listing over the control connection, as `LIST -a PATH`. */
  private handleStatFile(arg: string): void {
    const now = Math.floor(this.ctx.wallSec());
    const owner = { uid: this.uid, gid: this.gid };
    const path = this.real(arg);
    const st = this.dirs.stat(path);
    const shown: string[] = [];
    if (st && st.type !== 'dir') shown.push(listLine({ ...st, name: arg }, now, owner, this.conf.hide_ids));
    else if (st) {
      const entries = this.dirs.list(path) ?? [];
      const parent = this.dirs.stat(resolvePath(path, '..'));
      const dots: FsEntry[] = [{ ...st, name: '.' }];
      if (parent) dots.push({ ...parent, name: '..' });
      for (const e of listedEntries([...dots, ...entries], true)) shown.push(listLine(e, now, owner, this.conf.hide_ids));
    }
    this.ctrl.send(utf8(`213-Status follows:\r\n${shown.map((l) => `${l}\r\n`).join('')}213 End of status\r\n`));
  }

  private handleSite(arg: string): void {
    const sp = arg.indexOf(' ');
    const sub = (sp < 0 ? arg : arg.slice(0, sp)).toUpperCase();
    const rest = sp < 0 ? '' : arg.slice(sp + 1);
    if (sub === 'HELP') {
      this.reply(214, 'CHMOD UMASK HELP');
    } else if (sub === 'UMASK') {
      if (rest === '') {
        this.reply(200, `Your current UMASK is 0${this.umask.toString(8).padStart(2, '0')}`);
      } else {
        this.umask = parseInt(rest, 8) || 0;
        this.reply(200, `UMASK set to 0${this.umask.toString(8).padStart(2, '0')}`);
      }
    } else if (sub === 'CHMOD' && this.writable()) {
      const f = rest.split(' ');
      const ok = f.length >= 2 && this.dirs.stat(this.real(f.slice(1).join(' '))) !== undefined && this.ctx.fs.read(this.real(f.slice(1).join(' '))) !== undefined;
      if (ok) this.reply(200, 'SITE CHMOD command ok.');
      else this.reply(550, 'SITE CHMOD command failed.');
    } else {
      this.reply(500, 'Unknown SITE command.');
    }
  }

  private handleSize(arg: string): void {
    const e = this.dirs.stat(this.real(arg));
    if (!e || e.type !== 'file') this.reply(550, 'Could not get file size.');
    else this.reply(213, String(e.size));
  }

  private handleMdtm(arg: string): void {
    const e = this.dirs.stat(this.real(arg));
    if (!e || e.type !== 'file') {
      this.reply(550, 'Could not get file modification time.');
      return;
    }
    const d = new Date(e.mtimeSec * 1000);
    const p = (n: number, w = 2): string => String(n).padStart(w, '0');
    this.reply(
      213,
      `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`,
    );
  }

  private handleWriteOp(cmd: string): void {
    switch (cmd) {
      case 'MKD':
      case 'XMKD':
        return this.reply(550, 'Create directory operation failed.');
      case 'RMD':
      case 'XRMD':
        return this.reply(550, 'Remove directory operation failed.');
      case 'DELE':
        return this.reply(550, 'Delete operation failed.');
      case 'RNFR':
        return this.reply(550, 'RNFR command failed.');
      case 'RNTO':
        return this.reply(503, 'RNFR required first.');
      default:
        return this.reply(550, 'Permission denied.');
    }
  }

  // ---- data connections ----

  /** Drops the passive listener and any PORT address. */
  closeData(): void {
    if (this.data?.kind === 'pasv') this.data.listener.close();
    this.data = null;
  }

  private handlePasv(epsv: boolean, arg: string): void {
    if (epsv && arg !== '') {
      if (arg.toUpperCase() === 'ALL') {
        this.reply(200, 'EPSV ALL ok.');
        return;
      }
      if (parseInt(arg, 10) !== 1) {
        this.reply(522, 'Bad network protocol.');
        return;
      }
    }
    this.closeData();
    const range = pasvRange(this.conf);
    const local = this.ctrl.local.addr;
    let listener: TcpSocket | null = null;
    let port = 0;
    for (let tries = 0; tries < 10 && !listener; tries++) {
      port = pasvPort(range, this.ctx.random32() & 0xffff);
      const s = openTcp(this.ctx);
      if (s.bind(local, port) === null && s.listen(1) === null) listener = s;
      else s.close();
    }
    if (!listener) {
      this.exit(500, 'OOPS: vsf_sysutil_bind');
      return;
    }
    this.data = { kind: 'pasv', listener };
    if (epsv) {
      this.reply(229, `Entering Extended Passive Mode (|||${port}|)`);
      return;
    }
    const shown = this.conf.pasv_address ? parseIp(this.conf.pasv_address) : local;
    if (shown === null) {
      this.exit(500, 'OOPS: invalid pasv_address');
      return;
    }
    this.reply(227, `Entering Passive Mode (${hostPortCommas(shown, port)}).`);
  }

  private portAllowed(addr: number, port: number): boolean {
    if (port < 1024) return false;
    return this.conf.port_promiscuous || addr === this.ctrl.remote.addr;
  }

  private handlePort(arg: string): void {
    this.closeData();
    const hp = parseHostPortCommas(arg);
    if (!hp || !this.portAllowed(hp.addr, hp.port)) {
      this.reply(500, 'Illegal PORT command.');
      return;
    }
    this.data = { kind: 'port', addr: hp.addr, port: hp.port };
    this.reply(200, 'PORT command successful. Consider using PASV.');
  }

  private handleEprt(arg: string): void {
    this.closeData();
    const delim = arg.charAt(0);
    const f = delim === '' ? [] : arg.split(delim);
    if (f.length < 5 || f[1] !== '1') {
      this.reply(500, 'Bad EPRT protocol.');
      return;
    }
    const addr = parseIp(f[2]!);
    const port = Number(f[3]);
    if (addr === null || !/^\d+$/.test(f[3]!) || port > 65535) {
      this.reply(500, 'Bad EPRT command.');
      return;
    }
    if (!this.portAllowed(addr, port)) {
      this.reply(500, 'Illegal EPRT command.');
      return;
    }
    this.data = { kind: 'port', addr, port };
    this.reply(200, 'EPRT command successful. Consider using EPSV.');
  }

  /** Brings the data connection up and sends the 150 mark; null (after a 425) when it does not come up. */
  private *openData(mark: string): Generator<Wait, TcpSocket | null> {
    const setup = this.data;
    if (!setup) {
      this.reply(425, 'Use PORT or PASV first.');
      return null;
    }
    let sock: TcpSocket | null;
    if (setup.kind === 'pasv') {
      sock = yield* acceptTcp(this.ctx, setup.listener, this.ctx.now() + this.conf.accept_timeout * SEC);
      if (!sock) {
        this.reply(425, 'Failed to establish connection.');
        return null;
      }
      if (!this.conf.pasv_promiscuous && sock.remote.addr !== this.ctrl.remote.addr) {
        sock.close();
        this.reply(425, 'Security: Bad IP connecting.');
        return null;
      }
    } else {
      sock = openTcp(this.ctx);
      const local = this.ctrl.local.addr;
      if (!this.conf.connect_from_port_20 || sock.bind(local, this.conf.ftp_data_port) !== null) sock.bind(local, 0);
      const r = yield* connectTcp(this.ctx, sock, setup.addr, setup.port, this.ctx.now() + this.conf.connect_timeout * SEC);
      if (r !== null) {
        sock.abort();
        this.reply(425, 'Failed to establish connection.');
        return null;
      }
    }
    this.reply(150, mark);
    return sock;
  }

  private *handleList(arg: string, long: boolean): Generator<Wait, void> {
    let options = '';
    let filter = arg;
    if (arg.startsWith('-')) {
      const sp = arg.indexOf(' ');
      options = sp < 0 ? arg.slice(1) : arg.slice(1, sp);
      filter = sp < 0 ? '' : arg.slice(sp + 1);
    }
    if (!this.data) {
      this.reply(425, 'Use PORT or PASV first.');
      return;
    }
    let dirName = '.';
    let entries: FsEntry[] | undefined;
    let onlyName: string | null = null;
    if (filter !== '') {
      const asDir = this.dirs.list(this.real(filter));
      const st = this.dirs.stat(this.real(filter));
      if (st && st.type === 'dir' && asDir) {
        dirName = filter;
        entries = asDir;
      } else if (st && st.type !== 'dir') {
        const slash = filter.lastIndexOf('/');
        dirName = slash < 0 ? '.' : filter.slice(0, slash) || '/';
        onlyName = baseName(filter);
        entries = this.dirs.list(this.real(dirName));
      } else {
        entries = undefined;
      }
    } else {
      entries = this.dirs.list(this.real('.'));
    }
    const sock = yield* this.openData('Here comes the directory listing.');
    this.closeData();
    if (!sock) return;
    const all = options.includes('a') || this.conf.force_dot_files || (filter.startsWith('.') && onlyName !== null);
    const verbose = long || options.includes('l');
    let text = '';
    if (entries) {
      const now = Math.floor(this.ctx.wallSec());
      const shown = listedEntries(entries, all).filter((e) => onlyName === null || e.name === onlyName);
      const prefix = dirName === '.' ? '' : dirName.endsWith('/') ? dirName : `${dirName}/`;
      for (const e of shown) {
        text += verbose ? `${listLine(e, now, { uid: this.uid, gid: this.gid }, this.conf.hide_ids)}\r\n` : `${prefix}${e.name}\r\n`;
      }
    }
    sock.send(utf8(text));
    sock.close();
    if (entries) this.reply(226, 'Directory send OK.');
    else this.reply(226, 'Transfer done (but failed to open directory).');
  }

  private *handleRetr(arg: string): Generator<Wait, void> {
    const offset = this.restart;
    this.restart = 0;
    if (!this.data) {
      this.reply(425, 'Use PORT or PASV first.');
      return;
    }
    const path = this.real(arg);
    const st = this.dirs.stat(path);
    const text = this.ctx.fs.read(path);
    if (!st || st.type !== 'file' || text === undefined) {
      this.reply(550, 'Failed to open file.');
      return;
    }
    const bytes = utf8(text);
    const sock = yield* this.openData(`Opening BINARY mode data connection for ${arg} (${bytes.length} bytes).`);
    this.closeData();
    if (!sock) return;
    sock.send(bytes.subarray(Math.min(offset, bytes.length)));
    sock.close();
    this.reply(226, 'Transfer complete.');
  }

  private *handleStor(arg: string): Generator<Wait, void> {
    const offset = this.restart;
    this.restart = 0;
    if (!this.data) {
      this.reply(425, 'Use PORT or PASV first.');
      return;
    }
    const path = this.real(arg);
    const st = this.dirs.stat(path);
    if (st && st.type === 'dir' && this.dirs.exact !== false) {
      this.reply(553, 'Could not create file.');
      return;
    }
    const sock = yield* this.openData('Ok to send data.');
    this.closeData();
    if (!sock) return;
    const got = yield* readAll(this.ctx, sock, this.conf.data_connection_timeout * SEC);
    sock.close();
    const body = new TextDecoder('utf-8').decode(got.data);
    const old = offset > 0 ? (this.ctx.fs.read(path) ?? '').slice(0, offset) : '';
    this.ctx.fs.write(path, old + body);
    if (!got.complete && !sock.error) {
      this.exit(421, 'Data timeout. Reconnect. Sorry.');
      return;
    }
    if (!got.complete) {
      this.reply(426, 'Failure reading network stream.');
      return;
    }
    this.reply(226, 'Transfer complete.');
  }
}
