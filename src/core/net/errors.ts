/**
 * How a kernel operation on the network state fails: an errno and, when the
 * kernel gives one, its extended-ack message (what iproute2 prints as
 * "Error: MESSAGE.").
 */

/** The errno names the network operations return. */
export type Errno =
  | 'EPERM'
  | 'ENOENT'
  | 'ESRCH'
  | 'EACCES'
  | 'EBUSY'
  | 'EEXIST'
  | 'ENODEV'
  | 'EINVAL'
  | 'ERANGE'
  | 'EOPNOTSUPP'
  | 'EADDRNOTAVAIL'
  | 'ENETDOWN'
  | 'ENETUNREACH'
  | 'EHOSTUNREACH'
  | 'ELOOP'
  | 'ENOBUFS';

/** A failed operation. */
export interface NetError {
  errno: Errno;
  /** The kernel's extended-ack message, without the final period. */
  msg?: string;
}

/** Builds a NetError. */
export function netError(errno: Errno, msg?: string): NetError {
  return msg === undefined ? { errno } : { errno, msg };
}

/** strerror() texts of the errnos above (glibc, C locale). */
export const STRERROR: Readonly<Record<Errno, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  EINVAL: 'Invalid argument',
  ERANGE: 'Numerical result out of range',
  EOPNOTSUPP: 'Operation not supported',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENETDOWN: 'Network is down',
  ENETUNREACH: 'Network is unreachable',
  EHOSTUNREACH: 'No route to host',
  ELOOP: 'Too many levels of symbolic links',
  ENOBUFS: 'No buffer space available',
};
