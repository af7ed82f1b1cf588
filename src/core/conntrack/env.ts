/**
 * What connection tracking needs from the machine (ConntrackEnv), and the
 * helpers every protocol tracker shares: packet direction, timeout refresh
 * with accounting, killing, and the optional log of invalid packets.
 */
import type { Skb } from '../path/skb.js';
import { CT, type SysctlReader, SEC_NS, jiffyFloorNs, readSysctl } from './sysctl.js';
import { type ConntrackTable, killConn } from './table.js';
import { IPS, type Conn } from './types.js';

/** The machine as conntrack sees it. */
export interface ConntrackEnv {
  /** The connection table. */
  table: ConntrackTable;
  /** Virtual time since boot, in nanoseconds. */
  nowNs(): number;
  /**
   * Reads a sysctl by its dotted name ("net.netfilter.nf_conntrack_max");
   * undefined means the kernel default (see sysctl.ts).
   */
  sysctl: SysctlReader;
  /** Writes a kernel log line at a printk level (0..7). */
  printk(level: number, text: string): void;
  /** A pseudo-random unsigned 32-bit number (connection ids). */
  random32(): number;
  /**
   * Logs a packet the way nf_log_packet does, with this prefix, for
   * nf_conntrack_log_invalid. The packet's devices are skb.indev and
   * skb.outdev. Optional: without it invalid packets are not logged.
   */
  logInvalid?(skb: Skb, hook: ConntrackHook, prefix: string): void;
  /**
   * A kernel module's parameter as loaded (`modprobe nf_conntrack_ftp
   * loose=1`), undefined for the default. Optional: without it helpers
   * run with their defaults.
   */
  moduleParam?(module: string, name: string): string | undefined;
  /**
   * Logs a packet a conntrack helper drops, the way nf_log_packet does,
   * with this prefix ("nf_ct_ftp: dropping packet: ... "). Optional.
   */
  logHelper?(skb: Skb, prefix: string): void;
}

/** The hooks conntrack runs at: PREROUTING for received packets, OUTPUT for local ones. */
export type ConntrackHook = 'PREROUTING' | 'OUTPUT';

/** Verdict a tracker returns for an invalid packet (-NF_ACCEPT): the packet goes on without a connection. */
export const CT_INVALID = -1;
/** Verdict a tracker returns to have the lookup done again (-NF_REPEAT), after killing a closed connection. */
export const CT_REPEAT = -4;

/** IPPROTO_RAW: nf_conntrack_log_invalid value that logs every protocol. */
const IPPROTO_RAW = 255;

/** The direction of a packet from its ctinfo (CTINFO2DIR). */
export function ctinfoDir(ctinfo: number): 0 | 1 {
  return ctinfo >= 3 ? 1 : 0;
}

/**
 * Refreshes a connection's timeout and counts the packet
 * (nf_ct_refresh_acct): the timeout runs from the current jiffy unless
 * the connection has a fixed timeout.
 */
export function refreshAcct(env: ConntrackEnv, ct: Conn, ctinfo: number, len: number, timeoutSec: number): void {
  if (!(ct.status & IPS.FIXED_TIMEOUT)) {
    const expires = jiffyFloorNs(env.nowNs()) + timeoutSec * SEC_NS;
    const old = ct.expires;
    if (expires !== old) {
      ct.expires = expires;
      if (ct.status & IPS.CONFIRMED) env.table.noteExpires(ct, old);
    }
  }
  const dir = ctinfoDir(ctinfo);
  ct.pkts[dir]++;
  ct.bytes[dir] += len;
}

/** Counts the packet and kills the connection (nf_ct_kill_acct). */
export function killAcct(env: ConntrackEnv, ct: Conn, ctinfo: number, len: number): void {
  const dir = ctinfoDir(ctinfo);
  ct.pkts[dir]++;
  ct.bytes[dir] += len;
  killConn(env.table, ct);
}

/**
 * Logs an invalid packet of protocol `proto` when nf_conntrack_log_invalid
 * asks for it (nf_l4proto_log_invalid): prefix "nf_ct_proto_N: MSG ".
 */
export function logInvalid(env: ConntrackEnv, skb: Skb, hook: ConntrackHook, proto: number, msg: string): void {
  if (!env.logInvalid) return;
  const want = readSysctl(env.sysctl, CT.logInvalid);
  if (want !== proto && want !== IPPROTO_RAW) return;
  env.logInvalid(skb, hook, `nf_ct_proto_${proto}: ${msg} `);
}

/** logInvalid for a packet with a connection (nf_ct_l4proto_log_invalid): nothing when the sysctl is 0. */
export function logInvalidCt(env: ConntrackEnv, skb: Skb, hook: ConntrackHook, ct: Conn, msg: string): void {
  if (!env.logInvalid || readSysctl(env.sysctl, CT.logInvalid) === 0) return;
  logInvalid(env, skb, hook, ct.orig.proto, msg);
}
