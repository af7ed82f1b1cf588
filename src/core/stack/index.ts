/**
 * The TCP/IP stack of a network namespace: its sockets as programs use
 * them (SocketLayer) and the demultiplexer local delivery hands packets
 * to (SocketDemux).
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
