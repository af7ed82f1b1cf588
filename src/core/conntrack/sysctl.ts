/**
 * The sysctls connection tracking and its defragmentation read, with the
 * kernel's defaults, and the clock units they are expressed in.
 */

/** Kernel timer frequency: jiffies per second. */
export const HZ = 250;
/** One jiffy in nanoseconds. */
export const JIFFY_NS = 1_000_000_000 / HZ;
/** One second in nanoseconds. */
export const SEC_NS = 1_000_000_000;

/** Names of the sysctls read here. */
export const CT = {
  max: 'net.netfilter.nf_conntrack_max',
  buckets: 'net.netfilter.nf_conntrack_buckets',
  checksum: 'net.netfilter.nf_conntrack_checksum',
  acct: 'net.netfilter.nf_conntrack_acct',
  timestamp: 'net.netfilter.nf_conntrack_timestamp',
  logInvalid: 'net.netfilter.nf_conntrack_log_invalid',
  tcpLoose: 'net.netfilter.nf_conntrack_tcp_loose',
  tcpBeLiberal: 'net.netfilter.nf_conntrack_tcp_be_liberal',
  tcpIgnoreInvalidRst: 'net.netfilter.nf_conntrack_tcp_ignore_invalid_rst',
  tcpMaxRetrans: 'net.netfilter.nf_conntrack_tcp_max_retrans',
  tcpSynSent: 'net.netfilter.nf_conntrack_tcp_timeout_syn_sent',
  tcpSynRecv: 'net.netfilter.nf_conntrack_tcp_timeout_syn_recv',
  tcpEstablished: 'net.netfilter.nf_conntrack_tcp_timeout_established',
  tcpFinWait: 'net.netfilter.nf_conntrack_tcp_timeout_fin_wait',
  tcpCloseWait: 'net.netfilter.nf_conntrack_tcp_timeout_close_wait',
  tcpLastAck: 'net.netfilter.nf_conntrack_tcp_timeout_last_ack',
  tcpTimeWait: 'net.netfilter.nf_conntrack_tcp_timeout_time_wait',
  tcpClose: 'net.netfilter.nf_conntrack_tcp_timeout_close',
  tcpMaxRetransTimeout: 'net.netfilter.nf_conntrack_tcp_timeout_max_retrans',
  tcpUnack: 'net.netfilter.nf_conntrack_tcp_timeout_unacknowledged',
  udp: 'net.netfilter.nf_conntrack_udp_timeout',
  udpStream: 'net.netfilter.nf_conntrack_udp_timeout_stream',
  icmp: 'net.netfilter.nf_conntrack_icmp_timeout',
  generic: 'net.netfilter.nf_conntrack_generic_timeout',
  sctpClosed: 'net.netfilter.nf_conntrack_sctp_timeout_closed',
  sctpCookieWait: 'net.netfilter.nf_conntrack_sctp_timeout_cookie_wait',
  sctpCookieEchoed: 'net.netfilter.nf_conntrack_sctp_timeout_cookie_echoed',
  sctpEstablished: 'net.netfilter.nf_conntrack_sctp_timeout_established',
  sctpShutdownSent: 'net.netfilter.nf_conntrack_sctp_timeout_shutdown_sent',
  sctpShutdownRecd: 'net.netfilter.nf_conntrack_sctp_timeout_shutdown_recd',
  sctpShutdownAckSent: 'net.netfilter.nf_conntrack_sctp_timeout_shutdown_ack_sent',
  sctpHeartbeatSent: 'net.netfilter.nf_conntrack_sctp_timeout_heartbeat_sent',
  gre: 'net.netfilter.nf_conntrack_gre_timeout',
  greStream: 'net.netfilter.nf_conntrack_gre_timeout_stream',
  ipfragTime: 'net.ipv4.ipfrag_time',
  ipfragHigh: 'net.ipv4.ipfrag_high_thresh',
} as const;

/** The kernel's default for each sysctl above (timeouts in seconds). */
export const CT_DEFAULTS: Readonly<Record<string, number>> = {
  [CT.max]: 262144,
  [CT.buckets]: 262144,
  [CT.checksum]: 1,
  [CT.acct]: 0,
  [CT.timestamp]: 0,
  [CT.logInvalid]: 0,
  [CT.tcpLoose]: 1,
  [CT.tcpBeLiberal]: 0,
  [CT.tcpIgnoreInvalidRst]: 0,
  [CT.tcpMaxRetrans]: 3,
  [CT.tcpSynSent]: 120,
  [CT.tcpSynRecv]: 60,
  [CT.tcpEstablished]: 432000,
  [CT.tcpFinWait]: 120,
  [CT.tcpCloseWait]: 60,
  [CT.tcpLastAck]: 30,
  [CT.tcpTimeWait]: 120,
  [CT.tcpClose]: 10,
  [CT.tcpMaxRetransTimeout]: 300,
  [CT.tcpUnack]: 300,
  [CT.udp]: 30,
  [CT.udpStream]: 120,
  [CT.icmp]: 30,
  [CT.generic]: 600,
  [CT.sctpClosed]: 10,
  [CT.sctpCookieWait]: 3,
  [CT.sctpCookieEchoed]: 3,
  [CT.sctpEstablished]: 210,
  [CT.sctpShutdownSent]: 3,
  [CT.sctpShutdownRecd]: 3,
  [CT.sctpShutdownAckSent]: 3,
  [CT.sctpHeartbeatSent]: 30,
  [CT.gre]: 30,
  [CT.greStream]: 180,
  [CT.ipfragTime]: 30,
  [CT.ipfragHigh]: 4194304,
};

/** A sysctl reader: the value, or undefined when the machine does not set it. */
export type SysctlReader = (name: string) => number | undefined;

/** Reads a sysctl, falling back to the kernel default. */
export function readSysctl(read: SysctlReader, name: string): number {
  const v = read(name);
  return v === undefined ? (CT_DEFAULTS[name] ?? 0) : v;
}

/** The jiffy count at a virtual time. */
export function jiffiesAt(nowNs: number): number {
  return Math.floor(nowNs / JIFFY_NS);
}

/** A virtual time rounded down to its jiffy, in nanoseconds (nfct_time_stamp). */
export function jiffyFloorNs(nowNs: number): number {
  return Math.floor(nowNs / JIFFY_NS) * JIFFY_NS;
}
