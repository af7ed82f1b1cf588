/**
 * mysqld as CentOS 7's MariaDB 5.5.68 runs it: listens on 3306 (or
 * /etc/my.cnf's [mysqld] port and bind-address) and greets a client with
 * the protocol 10 handshake packet. A client from another host gets
 * error 1130 instead (the default grants only know localhost), and the
 * connection closes. Authentication is not emulated: after the greeting
 * the server waits connect_timeout (10 s) and closes.
 */
import { formatIPv4 } from '../../addr/ipv4.js';
import { STRERROR, type Errno } from '../../stack/api.js';
import type { Program, ProgramBody, ProgramContext } from '../api.js';
import { mysqldListen } from './config.js';
import { configFile, bytesOf, runDaemon, secondsNs, type Conn, type Session } from './serve.js';

/** errno numbers of the bind errors mysqld prints. */
const ERRNO_NUM: Partial<Record<Errno, number>> = { EADDRINUSE: 98, EADDRNOTAVAIL: 99, EACCES: 13 };

/** The version string in the greeting. */
export const MYSQLD_VERSION = '5.5.68-MariaDB';

/** A MySQL packet: 3-byte length, sequence number, payload. */
function packet(seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  out[0] = payload.length & 0xff;
  out[1] = (payload.length >> 8) & 0xff;
  out[2] = (payload.length >> 16) & 0xff;
  out[3] = seq;
  out.set(payload, 4);
  return out;
}

/** The handshake packet for connection `id` with a 20-byte scramble. */
export function greeting(id: number, scramble: Uint8Array): Uint8Array {
  const parts: number[] = [10, ...bytesOf(MYSQLD_VERSION), 0];
  parts.push(id & 0xff, (id >> 8) & 0xff, (id >> 16) & 0xff, (id >>> 24) & 0xff);
  parts.push(...scramble.subarray(0, 8), 0);
  parts.push(0xff, 0xf7); // capabilities, low half
  parts.push(8); // latin1_swedish_ci
  parts.push(2, 0); // SERVER_STATUS_AUTOCOMMIT
  // capabilities, high half: multi statements and results, plugin auth; MariaDB's progress reports and remember-options
  parts.push(0x0f, 0xa0);
  parts.push(21);
  parts.push(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  parts.push(...scramble.subarray(8, 20), 0);
  parts.push(...bytesOf('mysql_native_password'), 0);
  return packet(0, Uint8Array.from(parts));
}

/** The error packet refusing a host. */
export function hostRefused(addr: number): Uint8Array {
  const msg = `Host '${formatIPv4(addr)}' is not allowed to connect to this MariaDB server`;
  return packet(0, Uint8Array.from([0xff, 1130 & 0xff, 1130 >> 8, ...bytesOf(msg)]));
}

/** The mysqld program. */
export const mysqld: Program = function* (ctx: ProgramContext): ProgramBody {
  const at = mysqldListen(configFile(ctx, '/etc/my.cnf'));
  let nextId = 1;
  function* session(conn: Conn): Session {
    const id = nextId++;
    const peer = conn.peer.addr;
    if ((peer >>> 24) !== 127 && peer !== conn.local.addr) {
      conn.send(hostRefused(peer));
      return;
    }
    const scramble = new Uint8Array(20);
    for (let i = 0; i < 20; i++) scramble[i] = 0x21 + (ctx.random32() % 94);
    conn.send(greeting(id, scramble));
    yield* conn.drain(conn.ctx.now() + secondsNs(10));
  }
  return yield* runDaemon(ctx, {
    tcp: [{ ...at, backlog: 50, session }],
    udp: [],
    bindError: (_addr, port, errno) =>
      `[ERROR] Can't start server: Bind on TCP/IP port. Got error: ${ERRNO_NUM[errno] ?? 0}: ${STRERROR[errno]}\n[ERROR] Do you already have another mysqld server running on port: ${port} ?\n[ERROR] Aborting\n`,
    failStatus: 1,
  });
};
