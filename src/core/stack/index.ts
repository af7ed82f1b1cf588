/**
 * The TCP/IP stack of a network namespace: its sockets as programs use
 * them (SocketLayer) and the demultiplexer local delivery hands packets
 * to (SocketDemux).
 *
 * What it reproduces of Linux 6.18, each measured on the kernel (see
 * test/stack-kernel.test.ts and the module comments): the segments of a
 * handshake, data, FIN and reset exchange (options, windows, ACK timing);
 * SYN, SYN-ACK and data retransmission instants, rounded as the timer
 * wheel rounds them; tail loss probes; ETIMEDOUT after tcp_syn_retries
 * (+ tcp_syn_linear_timeouts) or tcp_retries2; the errno of every ICMP
 * error a REJECT sends, hard only from the first SYN retransmission on;
 * soft errors on established connections; connected UDP sockets taking
 * port unreachables; the IP ID rules (per-connection counters, the hashed
 * generator, zero for SYN-ACKs and resets); even ephemeral ports for
 * connect, odd ones for bind(0).
 *
 * Modelled from the kernel's logic but not measured: zero-window probes,
 * delayed-ACK timing beyond the cases above, FIN-WAIT-2 and orphan
 * timeouts. Not modelled: out-of-order reassembly and SACK blocks,
 * keepalives, syncookies, GSO super-segments and receive-window growth
 * (bulk transfers are cut into MSS-sized segments), congestion control
 * beyond slow start and a timeout's reset.
 */
import type { SocketDemux, SocketLayer, StackEnv } from './api.js';
import { Stack } from './layer.js';

/** A namespace's socket layer over what its machine provides. */
export function createSocketLayer(env: StackEnv): SocketLayer & SocketDemux {
  return new Stack(env);
}

export { Stack } from './layer.js';
export { TcpSock } from './tcp-socket.js';
export { UdpSock } from './udp-socket.js';
export { RawSock } from './raw-socket.js';
export { timerFireNs, jiffiesAt, NS_PER_JIFFY } from './timer-wheel.js';
