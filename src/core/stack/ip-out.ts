/**
 * IPv4 headers for the datagrams sockets send, and the IP ID each gets.
 * Linux 6.x, as measured: a socket with a peer address (a TCP connection,
 * a connected UDP socket) numbers its datagrams from its own counter,
 * which starts at a random value; other datagrams take the hashed
 * per-destination generator (ip_idents_reserve: consecutive for one
 * destination, jumping ahead by a random amount as jiffies pass), except
 * those of the kernel's control sockets and of sockets that forbid
 * fragmentation (IP_PMTUDISC_DO), which carry DF and ID 0.
 */
import { fillIpv4Checksum } from '../wire/checksum.js';
import type { StackEnv } from './api.js';
import { sysctlInt } from './sysctl.js';
import { jiffiesAt } from './timer-wheel.js';

/** The owner of packets of a socket no program named: root (the lab's programs run as root). */
export const ROOT_CRED: Readonly<{ uid: number; gid: number; pid: number }> = Object.freeze({ uid: 0, gid: 0, pid: 0 });

/** Fields of a header to build. */
export interface IpFields {
  tos: number;
  id: number;
  df: boolean;
  ttl: number;
  proto: number;
  src: number;
  dst: number;
}

/** Writes a 20-byte IPv4 header at the start of `d` (whose length is the datagram's) and its checksum. */
export function writeIpHeader(d: Uint8Array, f: IpFields): void {
  d[0] = 0x45;
  d[1] = f.tos;
  d[2] = d.length >>> 8;
  d[3] = d.length & 0xff;
  d[4] = (f.id >>> 8) & 0xff;
  d[5] = f.id & 0xff;
  d[6] = f.df ? 0x40 : 0;
  d[7] = 0;
  d[8] = f.ttl;
  d[9] = f.proto;
  d[10] = 0;
  d[11] = 0;
  d[12] = f.src >>> 24;
  d[13] = (f.src >>> 16) & 0xff;
  d[14] = (f.src >>> 8) & 0xff;
  d[15] = f.src & 0xff;
  d[16] = f.dst >>> 24;
  d[17] = (f.dst >>> 16) & 0xff;
  d[18] = (f.dst >>> 8) & 0xff;
  d[19] = f.dst & 0xff;
  fillIpv4Checksum(d, 0);
}

/** The namespace's default TTL (net.ipv4.ip_default_ttl). */
export function defaultTtl(env: StackEnv): number {
  return sysctlInt(env, 'net.ipv4.ip_default_ttl', 64);
}

/** Whether path MTU discovery is on (net.ipv4.ip_no_pmtu_disc = 0): sockets then set DF on what fits. */
export function pmtuDiscovery(env: StackEnv): boolean {
  return sysctlInt(env, 'net.ipv4.ip_no_pmtu_disc', 0) === 0;
}

/** The hashed IP ID generator of a namespace (__ip_select_ident). */
export class HashedIpIds {
  private readonly buckets = new Map<number, { id: number; stamp: number }>();

  constructor(private readonly env: StackEnv) {}

  /** The next ID for a datagram of `proto` to `dst`. */
  next(dst: number, proto: number): number {
    const key = dst * 256 + proto;
    const now = jiffiesAt(this.env.nowNs());
    let b = this.buckets.get(key);
    if (!b) {
      b = { id: this.env.random32() & 0xffff, stamp: now };
      this.buckets.set(key, b);
    } else if (now !== b.stamp) {
      b.id = (b.id + (this.env.random32() % (now - b.stamp))) & 0xffff;
      b.stamp = now;
    }
    const id = b.id;
    b.id = (b.id + 1) & 0xffff;
    return id;
  }
}
