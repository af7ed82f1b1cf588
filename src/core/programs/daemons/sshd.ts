/**
 * sshd as CentOS 7 ships it (OpenSSH 7.4p1): listens where
 * /etc/ssh/sshd_config says (Port, ListenAddress; 22 on every address by
 * default), sends its identification string at once, and answers a client
 * line that is not an SSH identification with "Protocol mismatch." before
 * closing, as OpenSSH 7.4 does. The key exchange is not emulated: after a
 * valid client identification the server waits and closes the connection
 * when LoginGraceTime (120 s) runs out.
 */
import { formatIPv4 } from '../../addr/ipv4.js';
import { STRERROR } from '../../stack/api.js';
import type { Program, ProgramBody, ProgramContext } from '../api.js';
import { sshdListen } from './config.js';
import { configFile, runDaemon, secondsNs, type Conn, type Session } from './serve.js';

/** What the server sends first. */
export const SSHD_BANNER = 'SSH-2.0-OpenSSH_7.4\r\n';

/** LoginGraceTime's default, seconds. */
const LOGIN_GRACE_S = 120;

function* sshSession(conn: Conn): Session {
  conn.send(SSHD_BANNER);
  const deadline = conn.ctx.now() + secondsNs(LOGIN_GRACE_S);
  const line = yield* conn.line(deadline);
  if (line === null) return;
  if (!/^SSH-\d+\.\d+-[^\n]*$/.test(line)) {
    conn.send('Protocol mismatch.\n');
    return;
  }
  yield* conn.drain(deadline);
}

/** The sshd program. */
export const sshd: Program = function* (ctx: ProgramContext): ProgramBody {
  const at = sshdListen(configFile(ctx, '/etc/ssh/sshd_config'));
  return yield* runDaemon(
    ctx,
    {
      tcp: at.map((a) => ({ ...a, backlog: 128, session: sshSession })),
      udp: [],
      bindError: (addr, port, errno) => `Bind to port ${port} on ${formatIPv4(addr)} failed: ${STRERROR[errno]}.\nCannot bind any address.\n`,
      failStatus: 255,
    },
  );
};
