/**
 * A Linux bridge inside a namespace (br_handle_frame, br_dev_xmit) without
 * STP and without br_netfilter: a frame received on a port teaches the
 * bridge where its source address lives, then goes up the bridge device
 * when it is addressed to the bridge (or to everyone), and on to the port
 * that knows its destination, or to every other port when none does.
 * Frames the host sends on the bridge device leave the same way. Bridged
 * frames cross no iptables hook (that takes br_netfilter, not loaded).
 *
 * The forwarding database lives in the machine's shared state, so it
 * persists like the kernel's (entries age out after 300 s).
 */
import type { Link } from '../net/types.js';
import { linkByIndex } from '../net/state.js';

/** Ageing time of learned entries (the bridge default, 300 s). */
const AGEING_NS = 300e9;

/** A learned entry: the port's interface index and when the address was last seen. */
export interface FdbEntry {
  port: number;
  seenNs: number;
}

/** What the bridge needs from its machine. */
export interface BridgeHost {
  /** Links of the namespace. */
  readonly net: { links: Link[] };
  /** Shared machine state (the FDB is kept under 'bridgeFdb'). */
  readonly shared: Record<string, any>;
  /** Virtual time, ns since boot. */
  nowNs(): number;
  /** Puts a frame out of a port. */
  transmit(iface: string, frame: Uint8Array): void;
  /** Hands a frame to the bridge device's own stack (as received on it). */
  receiveUp(bridge: string, frame: Uint8Array): void;
}

function fdbOf(host: BridgeHost, bridge: number): Record<string, FdbEntry> {
  const all = (host.shared['bridgeFdb'] ??= {}) as Record<string, Record<string, FdbEntry>>;
  return (all[bridge] ??= {});
}

function macAt(f: Uint8Array, off: number): string {
  const h: string[] = [];
  for (let i = off; i < off + 6; i++) h.push(f[i]!.toString(16).padStart(2, '0'));
  return h.join(':');
}

/** The bridge's ports that forward now (up, with carrier). */
function forwardingPorts(host: BridgeHost, bridge: Link): Link[] {
  return host.net.links.filter((l) => l.master === bridge.index && l.up);
}

/** Whether `mac` is the bridge's own or one of its ports' (the kernel's local FDB entries). */
function isLocal(host: BridgeHost, bridge: Link, mac: string): boolean {
  if (bridge.mac === mac) return true;
  return host.net.links.some((l) => l.master === bridge.index && l.mac === mac);
}

/** Sends `frame` out of the ports that should carry it to `dst` (all but `except` when unknown). */
function forward(host: BridgeHost, bridge: Link, frame: Uint8Array, except: number): void {
  const dst = macAt(frame, 0);
  const ports = forwardingPorts(host, bridge);
  if ((frame[0]! & 1) === 0) {
    const e = fdbOf(host, bridge.index)[dst];
    if (e && host.nowNs() - e.seenNs < AGEING_NS) {
      if (e.port === except) return;
      const p = ports.find((l) => l.index === e.port);
      if (p) host.transmit(p.name, frame);
      return;
    }
  }
  const out = ports.filter((l) => l.index !== except);
  out.forEach((p, i) => host.transmit(p.name, i === out.length - 1 ? frame : frame.slice()));
}

/** A frame received on `port`, a bridge port: learned, delivered up and/or forwarded. */
export function bridgeInput(host: BridgeHost, port: Link, frame: Uint8Array): void {
  const bridge = port.master === undefined ? undefined : linkByIndex(host.net as never, port.master);
  if (!bridge || !bridge.up || frame.length < 14) return;
  if ((frame[6]! & 1) === 0) fdbOf(host, bridge.index)[macAt(frame, 6)] = { port: port.index, seenNs: host.nowNs() };
  const dst = macAt(frame, 0);
  if ((frame[0]! & 1) === 1) {
    forward(host, bridge, frame.slice(), port.index);
    host.receiveUp(bridge.name, frame);
    return;
  }
  if (isLocal(host, bridge, dst)) {
    host.receiveUp(bridge.name, frame);
    return;
  }
  forward(host, bridge, frame, port.index);
}

/** A frame the host sends on the bridge device: out of the port that knows the destination, else all. */
export function bridgeXmit(host: BridgeHost, bridge: Link, frame: Uint8Array): void {
  forward(host, bridge, frame, -1);
}
