/**
 * ssh, the OpenSSH 9.2 client of Debian 12, as far as the connection goes:
 * name lookup ("ssh: Could not resolve hostname ..."), the TCP connect and
 * its outcome ("ssh: connect to host H port 22: Connection refused", "...
 * No route to host", "... Connection timed out" after ConnectTimeout or the
 * kernel's SYN retries), then the protocol version exchange: the server's
 * "SSH-2.0-..." line is read and the client's own sent.
 *
 * What follows in real life is a key exchange, which the lab does not
 * model. A client that has never seen the server (no known_hosts entry,
 * as in every fresh lab) and cannot ask at a terminal stops right after
 * it with "Host key verification failed." and status 255; that is what
 * the real client prints for `ssh -o BatchMode=yes host true`, and what
 * nflab prints for every successful connection. A server that closes
 * before its version line gives kex_exchange_identification's messages.
 * OpenSSH ends its messages with "\r\n" (it may have a terminal in raw
 * mode); so does nflab.
 */
import type { Program, ProgramContext, ProgramBody } from './api.js';
import { STRERROR, type Errno } from '../stack/api.js';
import { EAI_AGAIN_TEXT, fromUtf8, lookupHost, ntoa, own, utf8, waitConnect } from './common.js';

/** The version line the client sends. */
export const SSH_CLIENT_VERSION = 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3';

/** How long the client waits for the server's version line (nflab's stand-in for the login grace period), ns. */
const BANNER_WAIT_NS = 120e9;

const OPTS_WITH_ARG = new Set('bcDEeFIiJLlmOoPpQRSWw'.split(''));
const FLAGS = new Set('46AaCfGgKkMNnqsTtVvXxYy'.split(''));

const USAGE =
  'usage: ssh [-46AaCfGgKkMNnqsTtVvXxYy] [-B bind_interface] [-b bind_address]\n' +
  '           [-c cipher_spec] [-D [bind_address:]port] [-E log_file]\n' +
  '           [-e escape_char] [-F configfile] [-I pkcs11] [-i identity_file]\n' +
  '           [-J destination] [-L address] [-l login_name] [-m mac_spec]\n' +
  '           [-O ctl_cmd] [-o option] [-P tag] [-p port] [-Q query_option]\n' +
  '           [-R address] [-S ctl_path] [-W host:port] [-w local_tun[:remote_tun]]\n' +
  '           destination [command [argument ...]]\n';

/** What the command line asks for. */
interface SshOptions {
  host: string;
  user?: string;
  port: number;
  connectTimeout?: number;
  command: string[];
  forceTty: number;
  noTty: boolean;
}

function parse(args: string[]): SshOptions | string {
  const o: SshOptions = { host: '', port: 22, command: [], forceTty: 0, noTty: false };
  let i = 0;
  const option = (text: string): string | null => {
    const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(text);
    if (!m) return `no argument after keyword "${text.toLowerCase()}"`;
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (key === 'connecttimeout') o.connectTimeout = Number(value);
    else if (key === 'port') o.port = Number(value);
    else if (key === 'user') o.user = value;
    return null;
  };
  while (i < args.length) {
    const a = args[i]!;
    // options may follow the destination too, until the command starts
    if (a.length > 1 && a[0] === '-') {
      if (a === '--') {
        i++;
        continue;
      }
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        if (OPTS_WITH_ARG.has(c) || c === 'B') {
          const value = j + 1 < a.length ? a.slice(j + 1) : args[++i];
          if (value === undefined) return `ssh: option requires an argument -- ${c}\n` + USAGE;
          if (c === 'p') o.port = Number(value);
          else if (c === 'l') o.user = value;
          else if (c === 'o') {
            const e = option(value);
            if (e) return `command-line: line 0: ${e}\n`;
          }
          break;
        }
        if (!FLAGS.has(c)) return `ssh: illegal option -- ${c}\n` + USAGE;
        if (c === 't') o.forceTty++;
        if (c === 'T') o.noTty = true;
      }
      i++;
      continue;
    }
    if (!o.host) {
      const at = a.lastIndexOf('@');
      if (at >= 0) {
        o.user = a.slice(0, at);
        o.host = a.slice(at + 1);
      } else {
        o.host = a;
      }
      i++;
      continue;
    }
    o.command = args.slice(i);
    break;
  }
  if (!o.host) return USAGE;
  return o;
}

/** ssh: the connection part of the OpenSSH client. */
export const ssh: Program = function* (ctx: ProgramContext): ProgramBody {
  const o = parse(ctx.argv.slice(1));
  if (typeof o === 'string') {
    ctx.err(o);
    return 255;
  }
  const fail = (text: string): number => {
    ctx.err(text + '\r\n');
    return 255;
  };
  // a login shell wants a terminal; given standard input, the lab's one is not one
  if (o.command.length === 0 && !o.noTty && o.forceTty === 0 && ctx.stdin.length > 0) {
    ctx.err('Pseudo-terminal will not be allocated because stdin is not a terminal.\r\n');
  }
  const host = lookupHost(ctx, o.host);
  if (!host) return fail(`ssh: Could not resolve hostname ${o.host}: ${EAI_AGAIN_TEXT}`);

  const sock = own(ctx, ctx.sockets.tcp());
  // with ConnectTimeout the connect does not block (ssh polls); without, it does
  if (o.connectTimeout !== undefined && o.connectTimeout > 0) sock.nonBlocking = true;
  const immediate = sock.connect(host.addr, o.port);
  const deadline = o.connectTimeout !== undefined && o.connectTimeout > 0 ? ctx.now() + o.connectTimeout * 1e9 : Infinity;
  const outcome = immediate ?? (yield* waitConnect(ctx, sock, deadline));
  if (outcome !== 'connected') {
    sock.abort();
    const errno: Errno = outcome === 'timeout' ? 'ETIMEDOUT' : outcome;
    return fail(`ssh: connect to host ${o.host} port ${o.port}: ${STRERROR[errno]}`);
  }

  sock.send(utf8(SSH_CLIENT_VERSION + '\r\n'));
  const peer = ntoa(host.addr);
  let got = '';
  const until = ctx.now() + BANNER_WAIT_NS;
  for (;;) {
    if (sock.available > 0) got += fromUtf8(sock.read());
    const line = got.split('\n').find((l) => l.startsWith('SSH-'));
    if (line !== undefined) break;
    if (sock.eof || sock.state === 'CLOSED') {
      const reset = sock.error === 'ECONNRESET';
      sock.close();
      if (reset) {
        ctx.err('kex_exchange_identification: read: Connection reset by peer\r\n');
        return fail(`Connection reset by ${peer} port ${o.port}`);
      }
      ctx.err('kex_exchange_identification: Connection closed by remote host\r\n');
      return fail(`Connection closed by ${peer} port ${o.port}`);
    }
    if (ctx.now() >= until) {
      sock.abort();
      return fail(`Connection timed out during banner exchange\r\nConnection to ${peer} port ${o.port} timed out`);
    }
    yield ctx.until(until);
  }
  sock.close();
  return fail('Host key verification failed.');
};

