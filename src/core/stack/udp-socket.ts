/**
 * A UDP socket (udp_sendmsg, udp_queue_rcv_skb, __udp4_lib_err). A
 * connected socket numbers its datagrams from its own IP ID counter and
 * takes hard ICMP errors (port unreachable: ECONNREFUSED) reported once
 * by the next send or receive; an unconnected one ignores ICMP errors.
 */
import type { Errno, SockAddr, UdpSocket, Waker } from './api.js';
import { defaultTtl, pmtuDiscovery, ROOT_CRED, writeIpHeader } from './ip-out.js';
import type { Stack } from './layer.js';
import { fillUdpChecksum } from '../wire/checksum.js';

/** Largest UDP payload in one IPv4 datagram. */
const MAX_PAYLOAD = 65507;

/** One UDP socket. */
export class UdpSock implements UdpSocket {
  readonly kind = 'udp' as const;
  owner: Waker | null = null;
  local: SockAddr = { addr: 0, port: 0 };
  remote: SockAddr = { addr: 0, port: 0 };
  error: Errno | null = null;
  /** The program owning the socket, for `ss -p`. */
  process?: { name: string; pid: number };
  /** The credentials its packets carry for -m owner (root when unset). */
  cred?: { uid: number; gid: number; pid: number };
  /** Datagrams received and not read. */
  readonly queue: { data: Uint8Array; from: SockAddr }[] = [];
  /** Bytes queued. */
  queued = 0;
  closed = false;
  private ipId = 0;

  constructor(readonly stack: Stack) {}

  /** Whether connect() fixed a peer. */
  get connected(): boolean {
    return this.remote.port !== 0;
  }

  bind(addr: number, port: number): Errno | null {
    if (this.local.port !== 0) return 'EINVAL';
    addr >>>= 0;
    if (addr !== 0 && !this.stack.env.isLocalAddress(addr)) return 'EADDRNOTAVAIL';
    if (port === 0) {
      const p = this.stack.udpEphemeral(addr);
      if (p === null) return 'EADDRINUSE';
      port = p;
    } else if (this.stack.udpConflict(this, addr, port)) return 'EADDRINUSE';
    this.local = { addr, port };
    this.stack.udpHash(this);
    return null;
  }

  connect(addr: number, port: number): Errno | null {
    addr >>>= 0;
    const r = this.stack.env.route(addr);
    if ('errno' in r) return r.errno;
    if (this.local.port === 0) {
      const p = this.stack.udpEphemeral(0);
      if (p === null) return 'EADDRINUSE';
      this.local = { addr: 0, port: p };
      this.stack.udpHash(this);
    }
    if (this.local.addr === 0) this.local = { addr: r.src, port: this.local.port };
    this.remote = { addr, port };
    this.ipId = this.stack.env.random32() & 0xffff;
    return null;
  }

  send(data: Uint8Array, to?: SockAddr): Errno | null {
    const err = this.takeError();
    if (err) return err;
    const dst = to ?? (this.connected ? this.remote : null);
    if (!dst) return 'EINVAL';
    if (data.length > MAX_PAYLOAD) return 'EMSGSIZE';
    const env = this.stack.env;
    const daddr = dst.addr >>> 0;
    const r = env.route(daddr);
    if ('errno' in r) return r.errno;
    if (this.local.port === 0) {
      const p = this.stack.udpEphemeral(0);
      if (p === null) return 'EINVAL';
      this.local = { addr: 0, port: p };
      this.stack.udpHash(this);
    }
    const src = this.local.addr || r.src;
    const d = new Uint8Array(28 + data.length);
    const df = pmtuDiscovery(env) && d.length <= r.mtu;
    let id: number;
    if (this.connected && to === undefined) {
      id = this.ipId;
      this.ipId = (this.ipId + 1) & 0xffff;
    } else {
      id = this.stack.ipIds.next(daddr, 17);
    }
    writeIpHeader(d, { tos: 0, id, df, ttl: defaultTtl(env), proto: 17, src, dst: daddr });
    d[20] = this.local.port >>> 8;
    d[21] = this.local.port & 0xff;
    d[22] = dst.port >>> 8;
    d[23] = dst.port & 0xff;
    const ulen = 8 + data.length;
    d[24] = ulen >>> 8;
    d[25] = ulen & 0xff;
    d.set(data, 28);
    fillUdpChecksum(d, 20, ulen, src, daddr);
    return env.output(d, this.cred ?? ROOT_CRED);
  }

  recv(): { data: Uint8Array; from: SockAddr } | null {
    const m = this.queue.shift();
    if (!m) return null;
    this.queued -= m.data.length;
    return m;
  }

  takeError(): Errno | null {
    const e = this.error;
    this.error = null;
    return e;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stack.udpUnhash(this);
  }

  /** Queues a datagram received from `from`. */
  deliver(data: Uint8Array, from: SockAddr): void {
    this.queue.push({ data, from });
    this.queued += data.length;
    this.owner?.wake();
  }
}
