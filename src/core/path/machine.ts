/**
 * One machine's packet path, as Linux runs it: frames in through an
 * interface (ARP answered, IPv4 checked as ip_rcv does), the PREROUTING
 * hook, the routing decision (local, forward, or drop, with martians and
 * rp_filter), INPUT and local delivery or FORWARD, locally generated
 * packets through OUTPUT, then POSTROUTING and out through the neighbour
 * table. Each hook runs its functions in the kernel's priority order:
 * defrag, raw, conntrack, mangle, nat, filter, security, nat, confirm.
 *
 * The machine keeps its kernel state in a `MachineState` (plain JSON, so
 * the lab persists it) and reports what happens as PathEvents.
 */
import { conntrackActivated, conntrackConfirm, conntrackIn, type ConntrackEnv } from '../conntrack/hooks.js';
import { needsConntrack, needsDefrag } from '../conntrack/users.js';
import { defragIn, reassembledMaxSize } from '../conntrack/defrag.js';
import { ConntrackTable, conntrackFromJson, conntrackToJson, type ConntrackJson } from '../conntrack/table.js';
import { natHook } from '../conntrack/nat.js';
import type { Conn } from '../conntrack/types.js';
import type { Ruleset } from '../netfilter/ruleset.js';
import type { Hook, TableName } from '../netfilter/tables.js';
import { compileRuleset, flushCounters, runChain, type CompiledTable, type TraversalObserver } from '../netfilter/traverse.js';
import type { KernelServices, PacketContext } from '../xt/packet.js';
import { NF_ACCEPT, NF_DROP, NF_QUEUE, NF_STOLEN } from '../xt/verdict.js';
import { fillIpv4Checksum, verifyIpv4Checksum } from '../wire/checksum.js';
import { ETH_HLEN, ETH_P_ARP, ETH_P_IP } from '../wire/ethernet.js';
import { ipDst, ipSrc } from '../wire/ipv4.js';
import { icmpSend } from './icmp-send.js';
import { sendRedirect } from './redirect.js';
import { ipDecreaseTtl, ipForwardOptions, ipForwardSourceRouteCheck, ipOptionsFragment, ipRcvOptions } from './ip-options.js';
import { localDeliver } from './local-deliver.js';
import { CtInfo, newSkb, PacketType, type Skb } from './skb.js';
import type { Fate, PathEvent, PathListener } from './events.js';
import { NetOps } from './net-ops.js';
import { bridgeInput, bridgeXmit, type BridgeHost } from './bridge.js';
import type { SocketDemux } from '../stack/api.js';
import { emptyNetState, type NetState } from '../net/index.js';

/** A line of the machine's kernel log (dmesg). */
export interface KmsgLine {
  /** Virtual time since boot, ns. */
  ns: number;
  /** printk level 0..7. */
  level: number;
  text: string;
}

/** The machine's kernel state, persisted by the lab as JSON. */
export interface MachineState {
  /** Virtual time since boot, in nanoseconds. */
  clockNs: number;
  /** Wall clock at boot, seconds since the epoch (syslog and -m time). */
  bootWall: number;
  /** State of the pseudo-random generator. */
  rng: number;
  /** Links, addresses, routes, neighbours, sysctls. */
  net: NetState;
  /** The conntrack table, as conntrackToJson writes it. */
  conntrack: unknown;
  /** Extensions' shared state (recent lists, hashlimit tables, ICMP rate limits...). */
  shared: Record<string, any>;
  /** The kernel log, oldest first (kept to the last KMSG_KEEP lines). */
  kmsg: KmsgLine[];
  /** Number of the next packet (for events and trace ids). */
  nextPacket: number;
  /** How many kernel log lines were ever written (the log keeps only the last ones). */
  logged: number;
  /** Whether the rules last run had connection tracking on (undefined before any packet). */
  tracking?: boolean;
}

/** A freshly booted machine: lo only (down), no connections, clock at 0, booted at `bootWall`. */
export function newMachineState(bootWall: number): MachineState {
  return { clockNs: 0, bootWall, rng: 0x2545f491, net: emptyNetState(), conntrack: null, shared: {}, kmsg: [], nextPacket: 1, logged: 0 };
}

/** Writes a line to the machine's kernel log at its present time. */
export function appendKernelLog(state: MachineState, level: number, text: string): void {
  const k = state.kmsg;
  k.push({ ns: state.clockNs, level, text });
  state.logged++;
  if (k.length > KMSG_KEEP) k.splice(0, k.length - KMSG_KEEP);
}

/** How many kernel log lines a machine keeps. */
export const KMSG_KEEP = 10000;

/** A frame the machine transmitted. */
export interface TxFrame {
  iface: string;
  frame: Uint8Array;
  ns: number;
}

/** Options of a machine run. */
export interface MachineOptions {
  /** Receives every event. */
  listener?: PathListener;
  /** Trace every packet (as if -j TRACE matched it in raw PREROUTING/OUTPUT). */
  traceAll?: boolean;
  /** Receives every frame put on a wire other than loopback (the lab delivers it to the other end). */
  onTransmit?: (iface: string, frame: Uint8Array) => void;
  /** Keep every frame sent in `sent` (default true; the lab's world turns it off). */
  recordSent?: boolean;
  /** Where kernel log lines go (default: this machine's own log); a namespace writes to its host's. */
  printk?: (level: number, text: string) => void;
  /** Where LOG lines go (default: printk); a namespace other than the host's drops them unless nf_log_all_netns. */
  logPacket?: (level: number, text: string) => void;
  /** A parameter of a kernel module the host loaded (conntrack helpers' ports=, loose=). */
  moduleParam?: (module: string, param: string) => string | undefined;
}

/** Hook priorities of the functions besides the tables (NF_IP_PRI_*). */
const PRI_DEFRAG = -400;
const PRI_CONNTRACK = -200;
const PRI_CONFIRM = 0x7fffffff;

type HookFn = (skb: Skb, hook: Hook, m: Machine) => number;

/** One entry of a hook's function list. */
interface HookEntry {
  priority: number;
  name: string;
  fn: HookFn;
}

/** What the rule set turns on in this namespace: connection tracking, and defragmentation. */
export interface TrackingNeeds {
  conntrack: boolean;
  defrag: boolean;
}

/**
 * Whether the rule set makes the kernel track connections (and reassemble
 * fragments) in this namespace: each rule using a conntrack match or
 * target takes a reference on nf_conntrack's hooks (nf_ct_netns_get);
 * the socket match and TPROXY need defragmentation only. A nat table alone
 * turns nothing on.
 */
export function rulesetNeeds(rs: Ruleset): TrackingNeeds {
  const needs = { conntrack: false, defrag: false };
  for (const t of Object.values(rs.tables)) {
    if (!t) continue;
    for (const c of [...Object.values(t.builtins), ...t.user]) {
      for (const r of c!.rules) {
        for (const m of r.matches) {
          if (needsConntrack('match', m.name, m.info)) needs.conntrack = true;
          if (needsDefrag('match', m.name, m.info)) needs.defrag = true;
        }
        if (r.target.kind === 'ext') {
          if (needsConntrack('target', r.target.name, r.target.info)) needs.conntrack = true;
          if (needsDefrag('target', r.target.name, r.target.info)) needs.defrag = true;
        }
      }
    }
  }
  if (needs.conntrack) needs.defrag = true;
  return needs;
}

/** xorshift32: the machine's deterministic random numbers. */
function xorshift(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

/** A machine running packets; build one per command, then `save()` its state. */
export class Machine implements KernelServices {
  readonly state: MachineState;
  readonly net: NetState;
  readonly ops: NetOps;
  readonly shared: Record<string, any>;
  readonly conntrack: ConntrackTable;
  readonly ctEnv: ConntrackEnv;
  /** Frames sent, in order. */
  readonly sent: TxFrame[] = [];
  private readonly tables: Partial<Record<TableName, CompiledTable>>;
  private readonly hooks: Record<Hook, HookEntry[]>;
  private readonly listener: PathListener | null;
  private readonly traceAll: boolean;
  private readonly queue: (() => void)[] = [];
  private draining = false;
  private current = 0;
  private readonly tracer: TraversalObserver | null;
  private readonly onTransmit: ((iface: string, frame: Uint8Array) => void) | null;
  private readonly recordSent: boolean;
  private readonly printkTo: ((level: number, text: string) => void) | null;
  private readonly moduleParam: ((module: string, param: string) => string | undefined) | null;
  /** Sees every frame received ('in') or sent ('out') on any interface (captures); set by the lab's world. */
  tap: ((iface: string, dir: 'in' | 'out', frame: Uint8Array) => void) | null = null;
  /** The namespace's sockets, offered every packet delivered locally (set by the lab's world). */
  sockets: SocketDemux | null = null;
  /** Where LOG lines go; undefined: printk. */
  readonly logPacket?: (level: number, text: string) => void;

  constructor(
    state: MachineState,
    readonly ruleset: Ruleset,
    opts: MachineOptions = {},
  ) {
    this.state = state;
    this.net = state.net;
    this.ops = new NetOps(state.net, (state.shared['arpResolving'] ??= []));
    this.shared = state.shared;
    this.listener = opts.listener ?? null;
    this.traceAll = opts.traceAll ?? false;
    this.onTransmit = opts.onTransmit ?? null;
    this.recordSent = opts.recordSent ?? true;
    this.printkTo = opts.printk ?? null;
    this.moduleParam = opts.moduleParam ?? null;
    if (opts.logPacket) this.logPacket = opts.logPacket;
    this.tables = compileRuleset(ruleset);
    this.conntrack = conntrackFromJson(state.conntrack as ConntrackJson | undefined, () => this.state.clockNs);
    this.ctEnv = this.makeConntrackEnv();
    this.ops.connById = (id) => {
      let found: Conn | undefined;
      this.conntrack.forEach((c) => {
        if (c.id === id) found = c;
      });
      return found;
    };
    const needs = rulesetNeeds(ruleset);
    // tracking switched on again: established connections relearn their TCP windows
    if (needs.conntrack && state.tracking === false) conntrackActivated(this.ctEnv);
    state.tracking = needs.conntrack;
    this.hooks = this.buildHooks(needs);
    this.tracer = this.listener ? this.makeTracer() : null;
    this.bridgeHost = {
      net: state.net,
      shared: state.shared,
      nowNs: () => this.state.clockNs,
      transmit: (iface, frame) => this.transmit(iface, frame),
      receiveUp: (bridge, frame) => this.rx(bridge, frame),
    };
  }

  // ---- KernelServices ----

  nowNs(): number {
    return this.state.clockNs;
  }

  jiffies(): number {
    // Linux starts jiffies 5 minutes before wrapping (INITIAL_JIFFIES); HZ=250
    return (Math.floor(this.state.clockNs / 4e6) - 300 * 250) >>> 0;
  }

  wallSec(): number {
    return this.state.bootWall + this.state.clockNs / 1e9;
  }

  random32(): number {
    this.state.rng = xorshift(this.state.rng || 0x9e3779b9);
    return this.state.rng;
  }

  printk(level: number, text: string): void {
    if (this.printkTo) this.printkTo(level, text);
    else appendKernelLog(this.state, level, text);
  }

  sendLocal(datagram: Uint8Array, parent: Skb, attachCt = false): void {
    const skb = newSkb(datagram, null, '');
    if (attachCt && parent.ct) {
      skb.ct = parent.ct;
      const dirOrig = parent.ctinfo < CtInfo.ESTABLISHED_REPLY;
      skb.ctinfo = dirOrig ? CtInfo.RELATED_REPLY : CtInfo.RELATED;
    }
    // the reply is a packet of its own (its own trace id, its own fate)
    const parentPacket = this.current;
    this.newPacket();
    try {
      this.localOut(skb);
    } finally {
      this.current = parentPacket;
    }
  }

  /** A datagram this machine's own stack sends now (enters at OUTPUT). */
  originate(datagram: Uint8Array): void {
    this.queue.push(() => {
      this.newPacket();
      this.localOut(newSkb(datagram, null, ''));
    });
    this.drain();
  }

  /**
   * A datagram a socket sends (ip_local_out): routed, through OUTPUT and
   * POSTROUTING, then out. Returns what the kernel tells the socket: null
   * when it left (or waits for its neighbour), 'EPERM' when a hook dropped
   * it, the routing errno when there is no route. While the machine is
   * busy with another packet, the datagram is queued behind it (and null
   * returned), as a reply sent from softirq context would be.
   */
  output(datagram: Uint8Array, owner: { uid: number; gid: number } | null = null): string | null {
    const skb = newSkb(datagram, null, '');
    // the socket's owner, for -m owner
    skb.owner = owner;
    if (this.draining) {
      this.queue.push(() => {
        this.newPacket();
        this.localOut(skb);
      });
      return null;
    }
    this.draining = true;
    try {
      this.newPacket();
      const r = this.localOut(skb);
      this.drainQueue();
      return r;
    } finally {
      this.draining = false;
    }
  }

  // ---- time ----

  /** Moves the virtual clock forward, running the timers that fall due on the way. */
  advance(ns: number): void {
    if (ns > 0) this.advanceTo(this.state.clockNs + ns);
  }

  /** Moves the virtual clock to `at` (never back), running due timers at their times. */
  advanceTo(at: number): void {
    for (;;) {
      const next = this.ops.nextTimer();
      if (next > at) break;
      if (next > this.state.clockNs) this.state.clockNs = next;
      this.newPacket();
      this.ops.runTimers(
        this.state.clockNs,
        (dev, f) => this.transmit(dev, f),
        (datagram) => icmpSend(this, this.failedSkb(datagram), 3, 1),
      );
      this.drain();
    }
    if (at > this.state.clockNs) this.state.clockNs = at;
  }

  /** A datagram dropped for want of a neighbour, as the packet icmp_send reports about. */
  private failedSkb(datagram: Uint8Array): Skb {
    const skb = newSkb(datagram, null, '');
    skb.pktType = PacketType.HOST;
    skb.route = 'unicast';
    return skb;
  }

  // ---- frames in ----

  /**
   * A frame arrives on `iface` now; everything it causes runs before this
   * returns. The machine works on the frame's bytes in place (NAT and
   * mangling rewrite them): pass a copy to keep the original.
   */
  receive(iface: string, frame: Uint8Array): void {
    if (this.draining) {
      this.queue.push(() => this.rx(iface, frame));
      return;
    }
    this.draining = true;
    try {
      this.rx(iface, frame);
      this.drainQueue();
    } finally {
      this.draining = false;
    }
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      this.drainQueue();
    } finally {
      this.draining = false;
    }
  }

  /** Runs what packets caused meanwhile (loopback deliveries), in order. */
  private drainQueue(): void {
    for (let i = 0; i < this.queue.length; i++) this.queue[i]!();
    this.queue.length = 0;
  }

  private newPacket(): number {
    this.current = this.state.nextPacket++;
    return this.current;
  }

  private emit(e: PathEvent): void {
    this.listener?.(e);
  }

  private fate(fate: Fate): void {
    if (this.listener) this.emit({ kind: 'fate', packet: this.current, fate });
  }

  private rx(iface: string, frame: Uint8Array): void {
    const packet = this.newPacket();
    // a copy for listeners: the path rewrites the frame in place (NAT, TTL)
    if (this.listener) this.emit({ kind: 'rx', iface, frame: frame.slice(), ns: this.state.clockNs, packet });
    if (!this.ops.isUp(iface)) return this.fate({ what: 'dropped', by: `${iface} is down` });
    this.ops.countRx(iface, frame.length);
    if (this.tap) this.tap(iface, 'in', frame);
    const link = this.ops.link(iface);
    if (link && link.master !== undefined) {
      bridgeInput(this.bridgeHost, link, frame);
      return this.fate({ what: 'delivered', to: 'bridge' });
    }
    if (frame.length < ETH_HLEN) return this.fate({ what: 'dropped', by: 'runt frame' });
    const type = (frame[12]! << 8) | frame[13]!;
    const pktType = this.ops.classify(iface, frame);
    if (type === ETH_P_ARP) {
      this.ops.arpReceive(iface, frame, (out) => this.transmit(iface, out));
      return this.fate({ what: 'delivered', to: 'arp' });
    }
    if (type !== ETH_P_IP) return this.fate({ what: 'dropped', by: `ethertype 0x${type.toString(16).padStart(4, '0')} not handled` });
    this.ipRcv(iface, frame.subarray(0, ETH_HLEN), frame.subarray(ETH_HLEN), pktType);
  }

  /** ip_rcv_core's checks, then PREROUTING. */
  /** `looped`: a copy of a packet this machine sent, keeping its connection and mark. */
  private ipRcv(iface: string, mac: Uint8Array, data: Uint8Array, pktType: PacketType, looped?: Skb): void {
    if (pktType === PacketType.OTHERHOST) return this.fate({ what: 'dropped', by: 'not addressed to this host (PACKET_OTHERHOST)' });
    if (data.length < 20) return this.fate({ what: 'dropped', by: 'truncated IP header' });
    const ihl = (data[0]! & 15) * 4;
    if (data[0]! >> 4 !== 4 || ihl < 20 || data.length < ihl) return this.fate({ what: 'dropped', by: 'bad IP header' });
    if (!verifyIpv4Checksum(data, 0)) return this.fate({ what: 'dropped', by: 'bad IP header checksum' });
    const tot = (data[2]! << 8) | data[3]!;
    if (tot > data.length || tot < ihl) return this.fate({ what: 'dropped', by: 'bad IP total length' });
    // padding after the total length is not part of the datagram
    const skb = newSkb(tot === data.length ? data : data.subarray(0, tot), mac, iface);
    skb.pktType = pktType;
    if (looped) {
      skb.ct = looped.ct;
      skb.ctinfo = looped.ctinfo;
      skb.untracked = looped.untracked;
      skb.mark = looped.mark;
    }
    const s = this.runHook(skb, 'PREROUTING');
    if (s) this.routeInput(s);
  }

  // ---- hooks ----

  private buildHooks(needs: TrackingNeeds): Record<Hook, HookEntry[]> {
    const h: Record<Hook, HookEntry[]> = { PREROUTING: [], INPUT: [], FORWARD: [], OUTPUT: [], POSTROUTING: [] };
    for (const t of Object.values(this.tables)) {
      if (!t) continue;
      if (t.name === 'nat') continue;
      const prio = t.name === 'raw' ? -300 : t.name === 'mangle' ? -150 : t.name === 'filter' ? 0 : 50;
      for (const hook of Object.keys(t.hooks) as Hook[]) {
        const chain = t.hooks[hook]!;
        h[hook].push({ priority: prio, name: t.name, fn: (skb, hk) => this.runTable(t, chain, skb, hk) });
      }
    }
    if (needs.defrag) {
      for (const hook of ['PREROUTING', 'OUTPUT'] as Hook[]) {
        h[hook].push({ priority: PRI_DEFRAG, name: 'defrag', fn: (skb, hk) => this.defrag(skb, hk) });
      }
    }
    if (needs.conntrack) {
      for (const hook of ['PREROUTING', 'OUTPUT'] as Hook[]) {
        h[hook].push({ priority: PRI_CONNTRACK, name: 'conntrack', fn: (skb, hk) => conntrackIn(this.ctEnv, skb, hk as 'PREROUTING' | 'OUTPUT') });
      }
      for (const hook of ['INPUT', 'POSTROUTING'] as Hook[]) {
        h[hook].push({ priority: PRI_CONFIRM, name: 'confirm', fn: (skb) => conntrackConfirm(this.ctEnv, skb) });
      }
    }
    const nat = this.tables.nat;
    if (nat) {
      for (const hook of ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'] as Hook[]) {
        const prio = hook === 'PREROUTING' || hook === 'OUTPUT' ? -100 : 100;
        const chain = nat.hooks[hook];
        h[hook].push({
          priority: prio,
          name: 'nat',
          fn: (skb, hk) => natHook(this, skb, hk, () => (chain ? this.runTable(nat, chain, skb, hk) : NF_ACCEPT)),
        });
      }
    }
    for (const list of Object.values(h)) list.sort((a, b) => a.priority - b.priority);
    return h;
  }

  /** Defrag at -400: the reassembled datagram replaces the fragments. */
  private defrag(skb: Skb, hook: Hook): number {
    const whole = defragIn(this.ctEnv, skb, hook as 'PREROUTING' | 'OUTPUT');
    if (!whole) return NF_STOLEN;
    if (whole !== skb) this.swapped = whole;
    return NF_ACCEPT;
  }

  /** The verdict of the hook function that last stopped a packet. */
  private lastVerdict = NF_ACCEPT;

  /** A packet a hook function replaced the current one with (defragmentation). */
  private swapped: Skb | null = null;

  /** Runs a hook's functions; calls `okfn` with the packet when it comes through. */
  /**
   * Runs a hook's functions in priority order: the packet (perhaps a
   * replacement, after reassembly) when it comes through, null when a
   * function dropped or took it.
   */
  private runHook(skb: Skb, hook: Hook): Skb | null {
    if (this.traceAll && (hook === 'PREROUTING' || hook === 'OUTPUT')) skb.trace = true;
    const list = this.hooks[hook];
    for (let i = 0; i < list.length; i++) {
      const e = list[i]!;
      const v = e.fn(skb, hook, this);
      if (this.swapped) {
        skb = this.swapped;
        this.swapped = null;
      }
      if (v === NF_ACCEPT) continue;
      this.lastVerdict = v;
      if (this.listener) {
        if (v === NF_STOLEN) this.fate({ what: 'stolen', by: `${e.name} ${hook}` });
        else if (v === NF_QUEUE) this.fate({ what: 'dropped', by: `${e.name} ${hook}: queued with no listener` });
        else this.fate({ what: 'dropped', by: `${e.name} ${hook}` });
      }
      return null;
    }
    return skb;
  }

  /** Packet contexts by nesting depth (a target may send a packet that runs chains of its own). */
  private readonly ctxPool: PacketContext[] = [];
  private depth = 0;

  private runTable(t: CompiledTable, chain: CompiledTable['hooks'][Hook] & object, skb: Skb, hook: Hook): number {
    const d = skb.data;
    let ctx = this.ctxPool[this.depth];
    if (!ctx) {
      ctx = { skb, thoff: 0, fragoff: 0, family: 'ipv4', hook, table: t.name, in: '', out: '', hotdrop: false, kernel: this };
      this.ctxPool[this.depth] = ctx;
    }
    ctx.skb = skb;
    ctx.thoff = (d[0]! & 15) * 4;
    ctx.fragoff = (((d[6]! << 8) | d[7]!) & 0x1fff) * 8;
    ctx.hook = hook;
    ctx.table = t.name;
    // ip_output hands POSTROUTING the device a forwarded packet came in by
    ctx.in = hook === 'OUTPUT' ? '' : skb.indev;
    ctx.out = hook === 'PREROUTING' || hook === 'INPUT' ? '' : skb.outdev;
    ctx.hotdrop = false;
    // nf_tables dumps the packet with the first trace event of a chain, as it is then
    const outer = this.tracing;
    this.tracing = this.listener && skb.trace ? { ...ctx } : null;
    this.depth++;
    try {
      return runChain(chain, ctx, this.tracer);
    } finally {
      this.depth--;
      this.tracing = outer;
    }
  }

  /** The traced packet's context whose packet line is still to be reported. */
  private tracing: PacketContext | null = null;

  private dumpPacket(): void {
    const ctx = this.tracing;
    if (!ctx) return;
    this.tracing = null;
    const skb = ctx.skb;
    this.emit({ kind: 'chain', packet: this.current, table: ctx.table, hook: ctx.hook, datagram: skb.data.slice(), in: ctx.in, out: ctx.out, mac: skb.mac ? skb.mac.slice() : null, mark: skb.mark });
  }

  private makeTracer(): TraversalObserver {
    return {
      rule: (table, chain, rule, verdict, jumpTo, isGoto) => {
        this.dumpPacket();
        const v = jumpTo ? `${isGoto ? 'GOTO' : 'JUMP'}:${jumpTo}` : verdictName(verdict);
        this.emit({ kind: 'rule', packet: this.current, table, chain, index: rule.index, verdict: v, ruleText: '' });
      },
      policy: (table, chain, verdict) => {
        this.dumpPacket();
        this.emit({ kind: 'policy', packet: this.current, table, chain, verdict: verdictName(verdict) });
      },
    };
  }

  // ---- routing ----

  /** ip_route_input: local, broadcast, forward, or a drop. */
  private routeInput(skb: Skb): void {
    const d = skb.data;
    const src = ipSrc(d, 0);
    const dst = ipDst(d, 0);
    const verdict = this.ops.routeInput(skb.indev, src, dst);
    if (verdict.kind === 'drop') {
      if (verdict.icmpCode !== undefined) this.ipError(skb, verdict.icmpCode);
      return this.fate({ what: 'dropped', by: verdict.why });
    }
    skb.route = verdict.type;
    if (verdict.kind === 'forward') {
      skb.outdev = verdict.dev;
      skb.nexthop = verdict.gateway;
    }
    // ip_rcv_options: checked (and Record Route / Timestamp filled) after the routing decision
    if ((d[0]! & 15) > 5) {
      const o = ipRcvOptions(this, skb);
      if (o === 'drop') return this.fate({ what: 'dropped', by: 'IP options' });
      if (o === 'forward') return this.forward(skb);
    }
    if (verdict.kind === 'local') return this.localIn(skb);
    this.forward(skb, verdict.redirect);
  }

  /**
   * ip_error: a forwarding host without a usable route answers with a
   * destination unreachable, at most one a second per source after a burst
   * of five (ip_rt_error_cost and ip_rt_error_burst, on the source's inet_peer).
   */
  private ipError(skb: Skb, code: number): void {
    const src = ipSrc(skb.data, 0);
    const peers = (this.shared['ipErrorPeers'] ??= {}) as Record<string, { tokens: number; last: number }>;
    const now = this.jiffies();
    const HZ = 250;
    const p = (peers[src] ??= { tokens: 5 * HZ, last: now });
    p.tokens = Math.min(5 * HZ, p.tokens + ((now - p.last) >>> 0));
    p.last = now;
    if (p.tokens < HZ) return;
    p.tokens -= HZ;
    skb.route = 'unicast';
    icmpSend(this, skb, 3, code);
  }

  private localIn(skb: Skb): void {
    const d = skb.data;
    const frag = ((d[6]! << 8) | d[7]!) & 0x3fff;
    if (frag !== 0) {
      // ip_local_deliver reassembles before INPUT
      const whole = defragIn(this.ctEnv, skb, 'PREROUTING');
      if (!whole) return this.fate({ what: 'queued', why: 'fragment waiting for reassembly' });
      // the datagram goes on with the routing decision the last fragment got
      whole.route = skb.route;
      whole.pktType = skb.pktType;
      whole.indev = skb.indev;
      skb = whole;
    }
    const s = this.runHook(skb, 'INPUT');
    if (!s) return;
    this.fate({ what: 'delivered', to: 'local' });
    localDeliver(this, s);
  }

  private forward(skb: Skb, redirect = false): void {
    const d = skb.data;
    if (skb.pktType !== PacketType.HOST) return this.fate({ what: 'dropped', by: 'forwarding a non-unicast frame' });
    if (d[8]! <= 1) {
      icmpSend(this, skb, 11, 0);
      return this.fate({ what: 'dropped', by: 'TTL exceeded' });
    }
    if (ipForwardSourceRouteCheck(this, skb) === 'drop') return this.fate({ what: 'dropped', by: 'strict source route' });
    const mtu = this.ops.mtu(skb.outdev);
    const df = (d[6]! & 0x40) !== 0;
    // ip_exceeds_mtu: a reassembled datagram is judged by its largest fragment
    const size = reassembledMaxSize(skb) || d.length;
    if (size > mtu && df) {
      icmpSend(this, skb, 3, 4, mtu);
      return this.fate({ what: 'dropped', by: `needs fragmentation (mtu ${mtu})` });
    }
    // ip_decrease_ttl: TTL - 1, the checksum adjusted incrementally (a stale one stays stale)
    ipDecreaseTtl(d);
    if (redirect) sendRedirect(this, skb, skb.nexthop || ipDst(d, 0));
    const s = this.runHook(skb, 'FORWARD');
    if (!s) return;
    ipForwardOptions(this, s);
    this.postRouting(s, 'forwarded');
  }

  /**
   * ip_local_out: the total length and header checksum set, then OUTPUT
   * and POSTROUTING. Returns the errno a sending socket gets (null: sent).
   */
  private localOut(skb: Skb): string | null {
    const d = skb.data;
    d[2] = d.length >>> 8;
    d[3] = d.length & 255;
    fillIpv4Checksum(d, 0);
    const dst = ipDst(d, 0);
    const r = this.ops.routeOutput(dst);
    if (r.kind === 'drop') {
      this.fate({ what: 'dropped', by: r.why });
      return r.errno ?? 'ENETUNREACH';
    }
    skb.outdev = r.dev;
    skb.nexthop = r.gateway;
    skb.route = r.type;
    const s = this.runHook(skb, 'OUTPUT');
    if (!s) return this.lastVerdict === NF_STOLEN ? null : 'EPERM';
    // a destination changed in OUTPUT (DNAT, mark routing) is routed again
    const od = s.data;
    const nd = ipDst(od, 0);
    if (nd !== dst) {
      const rr = this.ops.routeOutput(nd);
      if (rr.kind === 'drop') {
        this.fate({ what: 'dropped', by: rr.why });
        return rr.errno ?? 'ENETUNREACH';
      }
      s.outdev = rr.dev;
      s.nexthop = rr.gateway;
      s.route = rr.type;
    }
    if (s.route === 'broadcast') this.loopBroadcast(s);
    return this.postRouting(s, 'sent');
  }

  /**
   * ip_mc_output for a broadcast the machine sends: a copy goes through
   * POSTROUTING too and comes back in through the same device
   * (dev_loopback_xmit: no link header, PACKET_LOOPBACK), after the
   * original has left.
   */
  private loopBroadcast(skb: Skb): void {
    const copy = newSkb(skb.data.slice(), null, '');
    copy.outdev = skb.outdev;
    copy.route = skb.route;
    copy.mark = skb.mark;
    copy.ct = skb.ct;
    copy.ctinfo = skb.ctinfo;
    copy.untracked = skb.untracked;
    const s = this.runHook(copy, 'POSTROUTING');
    if (!s) return;
    this.queue.push(() => {
      this.newPacket();
      this.ipRcv(s.outdev, new Uint8Array(0), s.data, PacketType.LOOPBACK, s);
    });
  }

  private postRouting(skb: Skb, what: 'forwarded' | 'sent'): string | null {
    const s = this.runHook(skb, 'POSTROUTING');
    if (!s) return this.lastVerdict === NF_STOLEN ? null : 'EPERM';
    if (this.listener) this.fate(what === 'forwarded' ? { what: 'forwarded', out: s.outdev } : { what: 'sent', out: s.outdev });
    this.finishOutput(s);
    return null;
  }

  /** ip_finish_output: fragmentation (to the original fragment size for reassembled packets), then the neighbour. */
  private finishOutput(skb: Skb): void {
    const maxFrag = reassembledMaxSize(skb);
    const mtu = maxFrag ? Math.min(maxFrag, this.ops.mtu(skb.outdev)) : this.ops.mtu(skb.outdev);
    const frames = skb.data.length > mtu || maxFrag ? this.ops.fragment(skb.data, mtu) : [skb.data];
    const mac = skb.mac;
    for (const datagram of frames) {
      // a received datagram's own link header sits right before it: the new one goes there
      const inPlace = mac !== null && datagram === skb.data && mac.buffer === datagram.buffer && mac.byteOffset + 14 === datagram.byteOffset;
      const frame = this.ops.resolveAndFrame(skb.outdev, skb.nexthop, datagram, (f) => this.transmit(skb.outdev, f), this.state.clockNs, skb.ct, inPlace);
      if (frame) this.transmit(skb.outdev, frame);
    }
  }

  /** Puts a frame on the wire of `iface` (loopback frames come back in). */
  transmit(iface: string, frame: Uint8Array): void {
    this.ops.countTx(iface, frame.length);
    if (this.tap) this.tap(iface, 'out', frame);
    const link = this.ops.link(iface);
    if (link && link.kind === 'bridge') {
      if (this.listener) this.emit({ kind: 'tx', iface, frame, ns: this.state.clockNs, packet: this.current });
      bridgeXmit(this.bridgeHost, link, frame);
      return;
    }
    if (this.recordSent) this.sent.push({ iface, frame, ns: this.state.clockNs });
    if (this.listener) this.emit({ kind: 'tx', iface, frame, ns: this.state.clockNs, packet: this.current });
    if (this.ops.isLoopback(iface)) this.queue.push(() => this.rx(iface, frame));
    else if (this.onTransmit) this.onTransmit(iface, frame);
  }

  /** The bridge code's view of this machine. */
  private readonly bridgeHost: BridgeHost;

  // ---- state ----

  private makeConntrackEnv(): ConntrackEnv {
    return {
      table: this.conntrack,
      nowNs: () => this.state.clockNs,
      sysctl: (key: string) => this.ops.sysctl(key),
      printk: (level: number, text: string) => this.printk(level, text),
      random32: () => this.random32(),
      moduleParam: (module: string, param: string) => this.moduleParam?.(module, param),
      // a helper's "dropping packet" line (nf_ct_helper_log) is not written: measured in a
      // namespace, the kernel logged none
    };
  }

  /** Writes counters back into the rule set and the conntrack table into the state. */
  save(): MachineState {
    for (const t of Object.values(this.tables)) if (t) flushCounters(t);
    this.state.conntrack = conntrackToJson(this.conntrack);
    return this.state;
  }
}

/** The verdict's name as nft's trace prints it. */
export function verdictName(v: number): string {
  switch (v) {
    case NF_ACCEPT:
      return 'ACCEPT';
    case NF_DROP:
      return 'DROP';
    case NF_QUEUE:
      return 'QUEUE';
    case NF_STOLEN:
      return 'STOLEN';
    case -1:
      return 'CONTINUE';
    case -2:
      return 'RETURN';
    default:
      return String(v);
  }
}
