/**
 * A raw IP socket (raw_sendmsg, raw_v4_input). Without IP_HDRINCL the
 * kernel builds the header: DF when the datagram fits the route's MTU
 * (path MTU discovery "want"), an ID from the hashed generator. With it
 * the program's header is sent as given, the kernel filling in the total
 * length, the checksum, a zero source address and a zero ID (0 under DF).
 */
import type { Errno, RawSocket, SockAddr, Waker } from './api.js';
import { defaultTtl, pmtuDiscovery, ROOT_CRED, writeIpHeader } from './ip-out.js';
import type { Stack } from './layer.js';
import { fillIpv4Checksum } from '../wire/checksum.js';

/** One raw socket. */
export class RawSock implements RawSocket {
  readonly kind = 'raw' as const;
  owner: Waker | null = null;
  error: Errno | null = null;
  local: SockAddr;
  /** The program owning the socket, for `ss -p`. */
  process?: { name: string; pid: number };
  /** The credentials its packets carry for -m owner (root when unset). */
  cred?: { uid: number; gid: number; pid: number };
  /** Datagrams received (copies, IP header first). */
  readonly queue: Uint8Array[] = [];
  closed = false;

  constructor(readonly stack: Stack, readonly protocol: number) {
    this.local = { addr: 0, port: protocol };
  }

  /**
   * Sends `payload` to `to`. `df` true forbids fragmentation (EMSGSIZE
   * when the datagram does not fit the MTU), false never sets DF; left
   * out, DF is set on what fits, as a socket's default does.
   */
  send(payload: Uint8Array, to: number, opts?: { hdrincl?: boolean; ttl?: number; df?: boolean; tos?: number }): Errno | null {
    const env = this.stack.env;
    const dst = to >>> 0;
    const r = env.route(dst);
    if ('errno' in r) return r.errno;
    const cred = this.cred ?? ROOT_CRED;
    if (opts?.hdrincl) {
      if (payload.length < 20) return 'EINVAL';
      if (payload.length > r.mtu) return 'EMSGSIZE';
      const d = payload.slice();
      d[2] = d.length >>> 8;
      d[3] = d.length & 0xff;
      if (d[12] === 0 && d[13] === 0 && d[14] === 0 && d[15] === 0) {
        d[12] = r.src >>> 24;
        d[13] = (r.src >>> 16) & 0xff;
        d[14] = (r.src >>> 8) & 0xff;
        d[15] = r.src & 0xff;
      }
      if (d[4] === 0 && d[5] === 0 && !(d[6]! & 0x40)) {
        const id = this.stack.ipIds.next(dst, d[9]!);
        d[4] = id >>> 8;
        d[5] = id & 0xff;
      }
      fillIpv4Checksum(d, 0);
      return env.output(d, cred);
    }
    const total = 20 + payload.length;
    if (total > 65535) return 'EMSGSIZE';
    if (opts?.df === true && total > r.mtu) return 'EMSGSIZE';
    const df = opts?.df ?? (pmtuDiscovery(env) && total <= r.mtu);
    const d = new Uint8Array(total);
    const id = this.stack.ipIds.next(dst, this.protocol);
    writeIpHeader(d, { tos: opts?.tos ?? 0, id, df, ttl: opts?.ttl ?? defaultTtl(env), proto: this.protocol, src: this.local.addr || r.src, dst });
    d.set(payload, 20);
    return env.output(d, cred);
  }

  recv(): Uint8Array | null {
    return this.queue.shift() ?? null;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stack.rawUnhash(this);
  }

  /** Takes a copy of a delivered datagram. */
  deliver(datagram: Uint8Array): void {
    this.queue.push(datagram.slice());
    this.owner?.wake();
  }
}
