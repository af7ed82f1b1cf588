/**
 * The socket layer of a namespace's TCP/IP stack, as programs see it. A
 * socket never blocks: programs look at its state and wait (see
 * programs/api.ts) until the stack wakes their task because something
 * changed (a connection completed or failed, data or an error arrived).
 */

/** errno names, as strerror and the clients' messages know them. */
export type Errno =
  | 'ECONNREFUSED'
  | 'ETIMEDOUT'
  | 'EHOSTUNREACH'
  | 'ENETUNREACH'
  | 'ECONNRESET'
  | 'EADDRINUSE'
  | 'EADDRNOTAVAIL'
  | 'EPIPE'
  | 'EPERM'
  | 'EACCES'
  | 'EINVAL'
  | 'EMSGSIZE'
  | 'EPROTO'
  | 'ENOPROTOOPT'
  | 'EOPNOTSUPP'
  | 'EHOSTDOWN'
  | 'ENONET'
  | 'EAGAIN';

/** The message strerror gives for each errno (glibc). */
export const STRERROR: Readonly<Record<Errno, string>> = {
  ECONNREFUSED: 'Connection refused',
  ETIMEDOUT: 'Connection timed out',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  ECONNRESET: 'Connection reset by peer',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EPIPE: 'Broken pipe',
  EPERM: 'Operation not permitted',
  EACCES: 'Permission denied',
  EINVAL: 'Invalid argument',
  EMSGSIZE: 'Message too long',
  EPROTO: 'Protocol error',
  ENOPROTOOPT: 'Protocol not available',
  EOPNOTSUPP: 'Operation not supported',
  EHOSTDOWN: 'Host is down',
  ENONET: 'Machine is not on the network',
  EAGAIN: 'Resource temporarily unavailable',
};

/** Something the stack wakes when a socket it owns changes (a program's task). */
export interface Waker {
  wake(): void;
}

/** TCP states, as `ss` names them. */
export type TcpState =
  | 'CLOSED'
  | 'LISTEN'
  | 'SYN-SENT'
  | 'SYN-RECV'
  | 'ESTAB'
  | 'FIN-WAIT-1'
  | 'FIN-WAIT-2'
  | 'CLOSE-WAIT'
  | 'CLOSING'
  | 'LAST-ACK'
  | 'TIME-WAIT';

/** An IPv4 address and port (numbers; the address unsigned 32-bit). */
export interface SockAddr {
  addr: number;
  port: number;
}

/** What every socket has. */
export interface SocketBase {
  /** The task woken when this socket changes. */
  owner: Waker | null;
  /** The error pending on the socket (SO_ERROR), or null. Reading does not clear it. */
  readonly error: Errno | null;
  /** Local address and port (0 before bind/connect). */
  readonly local: SockAddr;
  /** Releases the socket (TCP: an orderly close, or a reset when unread data is left, as Linux does). */
  close(): void;
  /** The program that holds it, for `ss -p` (the lab names every program's sockets). */
  process?: { name: string; pid: number; fd?: number };
}

/** A TCP socket (SOCK_STREAM). */
export interface TcpSocket extends SocketBase {
  readonly kind: 'tcp';
  readonly state: TcpState;
  readonly remote: SockAddr;
  /** bind(2); port 0 picks an ephemeral port at listen/connect. */
  bind(addr: number, port: number): Errno | null;
  /** listen(2). */
  listen(backlog?: number): Errno | null;
  /** The next established connection of a listening socket, or null. */
  accept(): TcpSocket | null;
  /** Starts connect(2); the outcome shows in `state` and `error`. An immediate failure is returned. */
  connect(addr: number, port: number): Errno | null;
  /** Queues bytes to send; returns the error that prevents it, or null. */
  send(data: Uint8Array): Errno | null;
  /** Bytes received and not yet read. */
  readonly available: number;
  /** Takes up to `max` received bytes (all when omitted). */
  read(max?: number): Uint8Array;
  /** The peer sent FIN and every byte before it was read. */
  readonly eof: boolean;
  /** shutdown(SHUT_WR): FIN after the queued data. */
  shutdown(): void;
  /** Closes with a reset (SO_LINGER with zero timeout). */
  abort(): void;
  /** TCP_SYNCNT: SYN retransmissions before connect gives up (default net.ipv4.tcp_syn_retries). */
  synRetries?: number;
  /**
   * O_NONBLOCK at connect(): the call returns at once and the program
   * waits in poll (nc, curl, nmap -sT, ssh with ConnectTimeout). It changes
   * what an ICMP error to the first SYN does: a blocking connect still
   * holds the socket when the answer comes back from a local peer, so the
   * error only sticks and the connect fails with the answer to the first
   * retransmission, a second later; a non-blocking one fails at once.
   */
  nonBlocking?: boolean;
}

/** A UDP socket (SOCK_DGRAM). */
export interface UdpSocket extends SocketBase {
  readonly kind: 'udp';
  readonly remote: SockAddr;
  bind(addr: number, port: number): Errno | null;
  /** connect(2): fixes the peer; ICMP errors then show in `error`. */
  connect(addr: number, port: number): Errno | null;
  /** Sends one datagram (to the connected peer when `to` is omitted). */
  send(data: Uint8Array, to?: SockAddr): Errno | null;
  /** The next datagram received, or null. */
  recv(): { data: Uint8Array; from: SockAddr } | null;
  /** Clears and returns the pending error (what recv/send report once). */
  takeError(): Errno | null;
}

/** A raw IP socket (SOCK_RAW): receives a copy of every datagram of its protocol delivered to the host. */
export interface RawSocket extends SocketBase {
  readonly kind: 'raw';
  readonly protocol: number;
  /**
   * Sends `payload` to `to` with a header the stack builds (or, with
   * `hdrincl`, `payload` is the whole datagram). `ttl` overrides the
   * default TTL. `df` left out: Don't Fragment when the datagram fits the
   * path MTU, as the kernel's default does (what ping gets); true: always,
   * with EMSGSIZE when too big; false: never.
   */
  send(payload: Uint8Array, to: number, opts?: { hdrincl?: boolean; ttl?: number; df?: boolean; tos?: number }): Errno | null;
  /** The next datagram received (its IP header first), or null. */
  recv(): Uint8Array | null;
}

/** One line of `ss`: a socket of the namespace. */
export interface SocketInfo {
  proto: 'tcp' | 'udp' | 'raw';
  state: TcpState | 'UNCONN';
  local: SockAddr;
  remote: SockAddr;
  recvQ: number;
  sendQ: number;
  /** The owning program, for `ss -p`: name and pid. */
  process?: { name: string; pid: number };
}

/** A namespace's sockets. */
export interface SocketLayer {
  tcp(): TcpSocket;
  udp(): UdpSocket;
  raw(protocol: number): RawSocket;
  /** Every open socket, for `ss`, in the kernel's listing order. */
  list(): SocketInfo[];
}

/**
 * The sockets' side of local delivery: the machine hands it every packet
 * INPUT accepted for this host, before the host's own handling (resets,
 * port unreachables, echo replies).
 */
export interface SocketDemux {
  /**
   * Offers a delivered datagram (IP header first; `skb.data`) to the
   * sockets: raw sockets take copies, ICMP errors reach the socket whose
   * packet caused them. Returns true when a socket consumed the packet
   * (the host then does nothing more with it).
   */
  deliver(skb: import('../path/skb.js').Skb): boolean;
}

/** What a namespace's stack needs from its machine and the lab's clock. */
export interface StackEnv {
  /** Virtual time, ns since boot. */
  nowNs(): number;
  random32(): number;
  /** Runs `fn` at virtual time `atNs` (ns since boot); returns a handle for clearTimer. */
  setTimer(atNs: number, fn: () => void): number;
  clearTimer(handle: number): void;
  /**
   * Sends a datagram the stack built (header checksum and total length
   * are filled in) through OUTPUT and POSTROUTING, as ip_local_out does.
   * Returns null when it left (or was queued behind ARP), or the error the
   * kernel gives the socket: EPERM when a rule dropped it, ENETUNREACH or
   * EHOSTUNREACH when routing failed.
   */
  output(datagram: Uint8Array, owner?: { uid: number; gid: number; pid: number }): Errno | null;
  /** Output route for a destination: the source address to use, the device and its MTU; or the routing error. */
  route(dst: number): { src: number; dev: string; mtu: number } | { errno: Errno };
  /** Whether `addr` is an address of this namespace (for bind). */
  isLocalAddress(addr: number): boolean;
  /** A sysctl of the namespace (dotted key), or undefined. */
  sysctl(key: string): string | undefined;
}
