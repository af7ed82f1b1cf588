/**
 * The shapes of the packet-level differential suite. A scenario describes a
 * machine under test (its setup commands and rulesets) and the Ethernet
 * frames it receives; an observation is everything that can be seen from
 * outside afterwards: the frames it sent, its kernel log, its counters and
 * its connection tracking table. The kernel side (kernel.ts) and the nflab
 * side produce the same shape, and compare.ts compares two of them.
 */

/** The interfaces of the machine under test that frames enter and leave by. */
export type DutInterface = 'eth0' | 'eth1';

/** Every interface of the machine under test, in a fixed order. */
export const DUT_INTERFACES: readonly DutInterface[] = ['eth0', 'eth1'];

/** One frame the machine under test receives. */
export interface Frame {
  /** The interface of the machine under test that receives it. */
  iface: DutInterface;
  /** The whole Ethernet frame: destination MAC first, no FCS, no padding added. */
  bytes: Uint8Array;
  /**
   * Milliseconds between the previous frame's send time and this one's
   * (at least; the previous frame is always fully processed first). Default 0.
   */
  gapMs?: number;
}

/** MAC addresses per interface of the machine under test, "02:00:00:00:00:01" style. */
export type MacTable = Partial<Record<DutInterface, string>>;

/** The default MAC addresses of the machine under test's interfaces. */
export const DEFAULT_DUT_MACS: Readonly<Record<DutInterface, string>> = {
  eth0: '02:00:00:00:00:01',
  eth1: '02:00:00:00:01:01',
};

/** The default MAC addresses of the far ends (the injector's p0 facing eth0, p1 facing eth1). */
export const DEFAULT_PEER_MACS: Readonly<Record<DutInterface, string>> = {
  eth0: '02:00:00:00:00:02',
  eth1: '02:00:00:00:01:02',
};

/** One machine, its firewall and the frames it receives. */
export interface PacketScenario {
  /** Unique, human-readable name. */
  name: string;
  /**
   * Command lines run on the machine under test, in order, before the rules
   * are loaded: `ip ...`, `sysctl -w ...`; `modprobe ...` lines are ignored.
   * Words are split like a shell does (quotes, backslashes), without expansion.
   */
  setup: string[];
  /** iptables-restore input; empty when no IPv4 rules are loaded at all. */
  rules: string;
  /** ip6tables-restore input, when the scenario has IPv6 rules. */
  rules6?: string;
  /** The frames, in the order they are received. */
  frames: Frame[];
  /** MAC addresses of the machine under test's interfaces (default DEFAULT_DUT_MACS). */
  macs?: MacTable;
  /** MAC addresses of the far ends, keyed by the interface they face (default DEFAULT_PEER_MACS). */
  peerMacs?: MacTable;
}

/** One frame the machine under test sent. */
export interface EmittedFrame {
  /** The interface of the machine under test it left by. */
  iface: DutInterface;
  /** The whole Ethernet frame as seen on the wire (no FCS). */
  bytes: Uint8Array;
  /** Index in `PacketScenario.frames` of the last frame received before this one was sent. */
  afterFrame: number;
}

/** What a machine showed while and after receiving a scenario's frames. */
export interface PacketObservation {
  /** `iptables-save -c` output without its two date comment lines. */
  save: string;
  /** `ip6tables-save -c` output likewise, when the scenario has `rules6`. */
  save6?: string;
  /** The lines of `conntrack -L` (stdout only), in the order printed. */
  conntrack: string[];
  /** When `conntrack -L` ran, in milliseconds after the first frame was sent. */
  conntrackAtMs: number;
  /** Kernel log lines written while the frames were processed, message text only. */
  log: string[];
  /** Every frame the machine sent, per interface in the order sent. */
  emitted: EmittedFrame[];
  /** When each frame was sent, in milliseconds after the first one (so `sentAtMs[0]` is 0). */
  sentAtMs: number[];
  /**
   * CLOCK_MONOTONIC of the first frame's sending, in nanoseconds (kernel
   * side only): the kernel's jiffies tick at multiples of 4 ms of this
   * clock, so a side that starts its own clock here ticks in step.
   */
  startMonotonicNs?: number;
  /** Where the time went (informative, never compared). */
  timing?: ScenarioTiming;
}

/** Wall-clock milliseconds spent in each part of a scenario run. */
export interface ScenarioTiming {
  /** Namespaces, links and the injector until it is ready. */
  topologyMs: number;
  /** The scenario's setup commands and the rule loading. */
  setupMs: number;
  /** Sending the frames and collecting the reactions. */
  framesMs: number;
  /** iptables-save and conntrack afterwards. */
  dumpMs: number;
  /** Removing the namespaces. */
  teardownMs: number;
  /** Everything. */
  totalMs: number;
}
