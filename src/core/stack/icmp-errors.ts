/**
 * What an ICMP error means to the socket whose datagram caused it
 * (icmp_err_convert and the protocol error handlers of Linux 6.x): the
 * errno it reports and whether the error is hard ("fatal": it ends a UDP
 * socket's wait, and a TCP connect in any case) or soft (kept on an
 * established TCP connection until it times out).
 */
import type { Errno } from './api.js';

/** An ICMP error as a socket sees it. */
export interface IcmpError {
  errno: Errno;
  fatal: boolean;
}

/**
 * Destination unreachable codes 0..15. Codes 5 (source route failed,
 * EOPNOTSUPP), 7 (destination host unknown, EHOSTDOWN) and 8 (source host
 * isolated, ENONET) have errnos the socket API does not name yet; they
 * report EHOSTUNREACH.
 */
const UNREACH: readonly IcmpError[] = [
  { errno: 'ENETUNREACH', fatal: false },
  { errno: 'EHOSTUNREACH', fatal: false },
  { errno: 'ENOPROTOOPT', fatal: true },
  { errno: 'ECONNREFUSED', fatal: true },
  { errno: 'EMSGSIZE', fatal: false },
  { errno: 'EHOSTUNREACH', fatal: false },
  { errno: 'ENETUNREACH', fatal: true },
  { errno: 'EHOSTUNREACH', fatal: true },
  { errno: 'EHOSTUNREACH', fatal: true },
  { errno: 'ENETUNREACH', fatal: true },
  { errno: 'EHOSTUNREACH', fatal: true },
  { errno: 'ENETUNREACH', fatal: false },
  { errno: 'EHOSTUNREACH', fatal: false },
  { errno: 'EHOSTUNREACH', fatal: true },
  { errno: 'EHOSTUNREACH', fatal: true },
  { errno: 'EHOSTUNREACH', fatal: true },
];

/** ICMP types that report an error about a datagram. */
export const ICMP_DEST_UNREACH = 3;
export const ICMP_SOURCE_QUENCH = 4;
export const ICMP_REDIRECT = 5;
export const ICMP_TIME_EXCEEDED = 11;
export const ICMP_PARAMETERPROB = 12;
/** Destination unreachable code: fragmentation needed and DF set. */
export const ICMP_FRAG_NEEDED = 4;

/** Whether ICMP `type` carries the header of the datagram it is about. */
export function isIcmpError(type: number): boolean {
  return type === ICMP_DEST_UNREACH || type === ICMP_SOURCE_QUENCH || type === ICMP_REDIRECT || type === ICMP_TIME_EXCEEDED || type === ICMP_PARAMETERPROB;
}

/**
 * The error a TCP socket takes from ICMP `type`/`code` (tcp_v4_err), or
 * null when the message is ignored (source quench, redirects, unknown
 * codes, fragmentation needed which only lowers the path MTU).
 */
export function tcpIcmpError(type: number, code: number): Errno | null {
  if (type === ICMP_DEST_UNREACH) {
    if (code > 15 || code === ICMP_FRAG_NEEDED) return null;
    return UNREACH[code]!.errno;
  }
  if (type === ICMP_TIME_EXCEEDED) return 'EHOSTUNREACH';
  if (type === ICMP_PARAMETERPROB) return 'EPROTO';
  return null;
}

/**
 * The error a UDP socket takes (__udp4_lib_err), or null when ignored.
 * Without IP_RECVERR only hard errors reach a connected socket.
 */
export function udpIcmpError(type: number, code: number): IcmpError | null {
  if (type === ICMP_DEST_UNREACH) {
    if (code === ICMP_FRAG_NEEDED) return { errno: 'EMSGSIZE', fatal: true };
    if (code > 15) return { errno: 'EHOSTUNREACH', fatal: false };
    return UNREACH[code]!;
  }
  if (type === ICMP_TIME_EXCEEDED) return { errno: 'EHOSTUNREACH', fatal: false };
  if (type === ICMP_PARAMETERPROB) return { errno: 'EPROTO', fatal: true };
  return null;
}
