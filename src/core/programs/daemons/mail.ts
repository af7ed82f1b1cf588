/**
 * The mail servers of the lab, as CentOS 7 ships them.
 *
 * postfix 2.10: the `master` process listens on 25 where main.cf's
 * inet_interfaces says (`localhost` in CentOS's file and when the host has
 * none; `all`, or addresses), greets with "220 MYHOSTNAME ESMTP Postfix"
 * (myhostname, else the host name, with ".localdomain" when it has no
 * dot) and speaks enough SMTP for a session by hand: HELO, EHLO, MAIL,
 * RCPT, DATA, RSET, NOOP, QUIT. Mail is accepted and dropped.
 *
 * dovecot 2.2: POP3 on 110 and 995, IMAP on 143 and 993 on every address.
 * The plain ports greet at once; as in CentOS's configuration
 * (disable_plaintext_auth), IMAP offers AUTH=PLAIN to local clients only
 * and says LOGINDISABLED to others. Logins are not emulated. The TLS ports
 * accept connections and wait for a TLS hello that is never answered.
 */
import type { Program, ProgramBody, ProgramContext } from '../api.js';
import { keyValue } from './config.js';
import { configFile, runDaemon, secondsNs, type Conn, type Session, type TcpService } from './serve.js';
import { parseIPv4Numeric } from '../../addr/ipv4.js';
import { formatIPv4 } from '../../addr/ipv4.js';
import { STRERROR } from '../../stack/api.js';

/** The name postfix greets with. */
export function postfixHostname(ctx: ProgramContext, mainCf: string | undefined): string {
  const set = keyValue(mainCf, 'myhostname');
  if (set !== undefined) return set;
  return ctx.hostname.includes('.') ? ctx.hostname : `${ctx.hostname}.localdomain`;
}

/** The addresses of inet_interfaces. */
function inetInterfaces(mainCf: string | undefined): number[] {
  const v = (keyValue(mainCf, 'inet_interfaces') ?? 'localhost').split(/[\s,]+/).filter((s) => s !== '');
  if (v.includes('all')) return [0];
  const out: number[] = [];
  for (const x of v) {
    if (x === 'localhost' || x === 'loopback-only') out.push(0x7f000001);
    else {
      const a = parseIPv4Numeric(x);
      if (a !== undefined) out.push(a >>> 0);
    }
  }
  return out;
}

function* smtpSession(conn: Conn, host: string): Session {
  conn.send(`220 ${host} ESMTP Postfix\r\n`);
  let helo = false;
  let from = false;
  let rcpt = false;
  let queueId = 0x1a2b3c4d;
  for (;;) {
    const deadline = conn.ctx.now() + secondsNs(300);
    const line = yield* conn.line(deadline);
    if (line === null) {
      if (!conn.ended) conn.send(`421 4.4.2 ${host} Error: timeout exceeded\r\n`);
      return;
    }
    const verb = line.split(' ')[0]!.toUpperCase();
    switch (verb) {
      case 'HELO':
      case 'EHLO':
        if (line.trim().split(/\s+/).length < 2) {
          conn.send(`501 Syntax: ${verb} hostname\r\n`);
          break;
        }
        helo = true;
        conn.send(
          verb === 'HELO'
            ? `250 ${host}\r\n`
            : `250-${host}\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 DSN\r\n`,
        );
        break;
      case 'MAIL':
        if (!helo) conn.send('503 5.5.1 Error: send HELO/EHLO first\r\n');
        else {
          from = true;
          conn.send('250 2.1.0 Ok\r\n');
        }
        break;
      case 'RCPT':
        if (!from) conn.send('503 5.5.1 Error: need MAIL command\r\n');
        else {
          rcpt = true;
          conn.send('250 2.1.5 Ok\r\n');
        }
        break;
      case 'DATA': {
        if (!rcpt) {
          conn.send('503 5.5.1 Error: need RCPT command\r\n');
          break;
        }
        conn.send('354 End data with <CR><LF>.<CR><LF>\r\n');
        for (;;) {
          const l = yield* conn.line(conn.ctx.now() + secondsNs(300));
          if (l === null) return;
          if (l === '.') break;
        }
        conn.send(`250 2.0.0 Ok: queued as ${(queueId++).toString(16).toUpperCase()}\r\n`);
        from = rcpt = false;
        break;
      }
      case 'RSET':
        from = rcpt = false;
        conn.send('250 2.0.0 Ok\r\n');
        break;
      case 'NOOP':
        conn.send('250 2.0.0 Ok\r\n');
        break;
      case 'QUIT':
        conn.send('221 2.0.0 Bye\r\n');
        return;
      default:
        conn.send('502 5.5.2 Error: command not recognized\r\n');
    }
  }
}

/** postfix's master process (/etc/postfix/main.cf: inet_interfaces, myhostname). */
export const postfix: Program = function* (ctx: ProgramContext): ProgramBody {
  const cf = configFile(ctx, '/etc/postfix/main.cf');
  const host = postfixHostname(ctx, cf);
  return yield* runDaemon(ctx, {
    tcp: inetInterfaces(cf).map((addr) => ({ addr, port: 25, backlog: 100, session: (c: Conn) => smtpSession(c, host) })),
    udp: [],
    bindError: (addr, port, errno) => `postfix/master: fatal: bind ${formatIPv4(addr)} port ${port}: ${STRERROR[errno]}\n`,
    failStatus: 1,
  });
};

function isLocalPeer(conn: Conn): boolean {
  return conn.peer.addr >>> 24 === 127 || conn.peer.addr === conn.local.addr;
}

function* pop3Session(conn: Conn): Session {
  conn.send('+OK Dovecot ready.\r\n');
  for (;;) {
    const line = yield* conn.line(conn.ctx.now() + secondsNs(180));
    if (line === null) return;
    const verb = line.split(' ')[0]!.toUpperCase();
    if (verb === 'QUIT') {
      conn.send('+OK Logging out\r\n');
      return;
    }
    if (verb === 'CAPA') conn.send('+OK\r\nCAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\nSASL PLAIN\r\n.\r\n');
    else conn.send('-ERR Unknown command.\r\n');
  }
}

function* imapSession(conn: Conn): Session {
  const auth = isLocalPeer(conn) ? 'AUTH=PLAIN' : 'LOGINDISABLED';
  conn.send(`* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE STARTTLS ${auth}] Dovecot ready.\r\n`);
  for (;;) {
    const line = yield* conn.line(conn.ctx.now() + secondsNs(180));
    if (line === null) return;
    const [tag, cmd] = line.split(' ');
    if (cmd?.toUpperCase() === 'LOGOUT') {
      conn.send(`* BYE Logging out\r\n${tag} OK Logout completed.\r\n`);
      return;
    }
    conn.send(cmd === undefined ? `${tag} BAD Error in IMAP command received by server.\r\n` : `${tag} BAD Error in IMAP command ${cmd.toUpperCase()}: Unknown command.\r\n`);
  }
}

function* tlsWait(conn: Conn): Session {
  yield* conn.drain(conn.ctx.now() + secondsNs(180));
}

/** dovecot (POP3 110/995, IMAP 143/993). */
export const dovecot: Program = function* (ctx: ProgramContext): ProgramBody {
  const svc = (port: number, session: (c: Conn) => Session): TcpService => ({ addr: 0, port, backlog: 100, session });
  return yield* runDaemon(ctx, {
    tcp: [svc(143, imapSession), svc(993, tlsWait), svc(110, pop3Session), svc(995, tlsWait)],
    udp: [],
    bindError: (addr, port, errno) =>
      `Error: service(${port === 110 || port === 995 ? 'pop3' : 'imap'}-login): listen(${formatIPv4(addr)}, ${port}) failed: ${STRERROR[errno]}\nFatal: Failed to start listeners\n`,
    failStatus: 89,
  });
};
