/**
 * Glue for the packet-level suites (pktdiff-seeds, pktdiff-fuzz): runs a
 * scenario on the real kernel and then through nflab, compares the two
 * observations, and keeps the list of known open differences honest.
 *
 * A known open difference is named, explained, and recognised by a
 * predicate over the comparison's messages; a suite asserts that the
 * scenarios that differ are exactly the ones its list expects, so fixing a
 * bug (or introducing one) changes the test's outcome.
 */
import { comparePacketObservations, formatObservation } from './compare.js';
import { maskFrame } from './mask.js';
import { kernelUptimeSeconds, runKernelScenario } from './kernel.js';
import { runNflabScenario, type NflabRunOptions } from './nflab.js';
import type { PacketObservation, PacketScenario } from './types.js';

/** Both sides' observations of one scenario and their differences. */
export interface PairResult {
  scenario: PacketScenario;
  kernel: PacketObservation;
  nflab: PacketObservation;
  /** comparePacketObservations(kernel, nflab): empty when they agree. */
  diffs: string[];
  /**
   * When nflab agreed only with its clock shifted by this many microseconds
   * (see TIMING_SHIFTS_US); undefined when it agreed as measured, or not at all.
   */
  shiftedUs?: number;
  /**
   * When the sides agreed only once the ports each chose at random for a
   * NAT binding were set aside (see randomNatPorts): kernel port → nflab port.
   */
  randomNatPorts?: [number, number][];
}

/**
 * Shifts of nflab's clock (microseconds) tried when a scenario differs.
 * The kernel's jiffies tick every 4 ms and nflab's tick in step with them
 * (runPair), but when the kernel ran a frame's hooks is only known to the
 * length of a send() call (tens of microseconds): a frame that close to a
 * tick may have been processed on either side of it, and rules that look
 * at jiffies (connlimit collects its list once per jiffy) can then decide
 * either way. A difference that goes away with the clock shifted by so
 * little is that uncertainty, not a bug; a shift never hides a difference
 * that does not depend on the clock.
 */
export const TIMING_SHIFTS_US: readonly number[] = [25, -25, 60, -60];

/**
 * Runs the kernel side, then nflab with the kernel's frame times and
 * listing time, its clock started where the kernel's monotonic clock was at
 * the first frame (so both count the same jiffies), and compares; when they
 * differ, nflab is run again with its clock shifted by TIMING_SHIFTS_US.
 */
export async function runPair(s: PacketScenario, opts: NflabRunOptions = {}): Promise<PairResult> {
  const kernel = await runKernelScenario(s);
  const startS = kernel.startMonotonicNs !== undefined ? kernel.startMonotonicNs / 1e9 : kernelUptimeSeconds();
  const run = (shiftUs: number): Promise<PacketObservation> =>
    runNflabScenario(s, kernel.sentAtMs, { uptimeS: startS + shiftUs / 1e6, listAtMs: kernel.conntrackAtMs, ...opts });
  const nflab = await run(0);
  const diffs = comparePacketObservations(kernel, nflab);
  if (diffs.length === 0) return { scenario: s, kernel, nflab, diffs };
  const ports = randomNatPorts(kernel, nflab, s);
  if (ports.length > 0) return { scenario: s, kernel, nflab, diffs: [], randomNatPorts: ports };
  if (kernel.startMonotonicNs !== undefined) {
    for (const shift of TIMING_SHIFTS_US) {
      const other = await run(shift);
      if (comparePacketObservations(kernel, other).length === 0) return { scenario: s, kernel, nflab: other, diffs: [], shiftedUs: shift };
    }
  }
  return { scenario: s, kernel, nflab, diffs };
}

// ------------------------------------------------------- random NAT ports

/** A conntrack -L line without its timeout column, split into words. */
const ctWords = (line: string): string[] => line.replace(/^(\S+\s+\d+\s+)\d+ /, '$1* ').split(/\s+/);

/**
 * The ports the two sides chose at random for NAT bindings, as pairs
 * (kernel's, nflab's); empty unless setting exactly those aside makes the
 * observations equal.
 *
 * Source NAT keeps a connection's port when the resulting tuple is free;
 * when another connection holds it (e.g. a reply that came first and made
 * its own connection, whose original tuple is now this one's reply) the
 * kernel searches from a random offset (get_random_u16 in
 * nf_nat_l4proto_unique_tuple), even for the implicit binding of a
 * connection without a NAT rule. Generated scenarios cannot always avoid
 * such a clash (a request dropped before its connection was confirmed), so
 * a port both sides moved away from the original, differently (seen in a
 * conntrack entry that differs only in that port of its reply tuple, or,
 * when the entry is gone, in a sent frame that differs only in its source
 * port), is set aside wherever it shows (frames, quoted headers, log,
 * listing) and the rest must be equal.
 */
export function randomNatPorts(kernel: PacketObservation, nflab: PacketObservation, s: PacketScenario): [number, number][] {
  const pairs = conntrackPortPairs(kernel, nflab) ?? framePortPairs(kernel, nflab, s);
  if (pairs === undefined || pairs.length === 0) return [];
  const kp = new Set(pairs.map((p) => p[0]));
  const np = new Set(pairs.map((p) => p[1]));
  const masked = comparePacketObservations(withoutPorts(kernel, kp), withoutPorts(nflab, np));
  return masked.length === 0 ? pairs : [];
}

/**
 * Port pairs from conntrack entries that differ only in one port of their
 * reply tuple, moved from the original tuple's on both sides; undefined
 * when the listings differ otherwise or not at all.
 */
function conntrackPortPairs(kernel: PacketObservation, nflab: PacketObservation): [number, number][] | undefined {
  const k = kernel.conntrack.map(ctWords);
  const n = nflab.conntrack.map(ctWords);
  const same = (a: string[], b: string[]): boolean => a.length === b.length && a.every((w, i) => w === b[i]);
  const kOnly = k.filter((a) => !n.some((b) => same(a, b)));
  const nOnly = n.filter((b) => !k.some((a) => same(a, b)));
  if (kOnly.length === 0 || kOnly.length !== nOnly.length) return undefined;
  const pairs: [number, number][] = [];
  for (const a of kOnly) {
    const b = nOnly.find((x) => x.length === a.length && x.filter((w, i) => w !== a[i]).length === 1);
    if (!b) return undefined;
    const i = a.findIndex((w, j) => w !== b[j]);
    const mk = /^(sport|dport)=(\d+)$/.exec(a[i]!);
    const mn = /^(sport|dport)=(\d+)$/.exec(b[i]!);
    // The port must be in the reply tuple (the second src=) and moved from the original's.
    const replyStart = a.findIndex((w, j) => j > a.findIndex((x) => x.startsWith('src=')) && w.startsWith('src='));
    if (!mk || !mn || mk[1] !== mn[1] || replyStart < 0 || i < replyStart) return undefined;
    const origKey = mk[1] === 'dport' ? 'sport' : 'dport';
    const orig = a.slice(0, replyStart).find((w) => w.startsWith(`${origKey}=`));
    if (orig === `${origKey}=${mk[2]}` || orig === `${origKey}=${mn[2]}`) return undefined;
    pairs.push([Number(mk[2]), Number(mn[2])]);
  }
  return pairs;
}

/**
 * Port pairs from sent frames (when the connection is gone from the
 * listings): same place in the same interface's list, following the same
 * frame, differing only in the TCP/UDP source port and checksum, and both
 * sides' source port different from the port of the frame it follows (so
 * both rewrote it).
 */
function framePortPairs(kernel: PacketObservation, nflab: PacketObservation, s: PacketScenario): [number, number][] | undefined {
  const pairs: [number, number][] = [];
  for (const iface of ['eth0', 'eth1'] as const) {
    const k = kernel.emitted.filter((e) => e.iface === iface);
    const n = nflab.emitted.filter((e) => e.iface === iface);
    if (k.length !== n.length) return undefined;
    for (const [i, a] of k.entries()) {
      const b = n[i]!;
      if (sameMasked(a.bytes, b.bytes)) continue;
      const pa = transportPorts(a.bytes);
      const pb = transportPorts(b.bytes);
      const input = s.frames[a.afterFrame];
      const pin = input ? transportPorts(input.bytes) : undefined;
      if (a.afterFrame !== b.afterFrame || !pa || !pb || !pin || a.bytes.length !== b.bytes.length) return undefined;
      const differ = [...a.bytes.keys()].filter((j) => a.bytes[j] !== b.bytes[j]);
      if (differ.some((j) => j < pa.l4 || (j >= pa.l4 + 2 && !(j >= pa.check && j < pa.check + 2)))) return undefined;
      if (pa.sport === pin.sport || pb.sport === pin.sport) return undefined;
      pairs.push([pa.sport, pb.sport]);
    }
  }
  return pairs;
}

/** Whether two frames are equal once the fields the kernel fills at random are masked. */
function sameMasked(a: Uint8Array, b: Uint8Array): boolean {
  const x = maskFrame(a).bytes;
  const y = maskFrame(b).bytes;
  return x.length === y.length && x.every((v, j) => v === y[j]);
}

/** The TCP/UDP ports of an Ethernet frame carrying an unfragmented IPv4 datagram, with the offsets of its header and checksum. */
function transportPorts(b: Uint8Array): { sport: number; dport: number; l4: number; check: number } | undefined {
  if (b.length < 34 || b[12] !== 0x08 || b[13] !== 0x00) return undefined;
  if ((((b[20]! << 8) | b[21]!) & 0x1fff) !== 0) return undefined;
  const l4 = 14 + (b[14]! & 15) * 4;
  const proto = b[23]!;
  if ((proto !== 6 && proto !== 17) || b.length < l4 + 8) return undefined;
  return { sport: (b[l4]! << 8) | b[l4 + 1]!, dport: (b[l4 + 2]! << 8) | b[l4 + 3]!, l4, check: proto === 17 ? l4 + 6 : l4 + 16 };
}

/** An observation with the given ports set to 0 (and the checksums over them) wherever they show. */
function withoutPorts(o: PacketObservation, ports: ReadonlySet<number>): PacketObservation {
  const word = (key: string) => (m: string, v: string): string => (ports.has(Number(v)) ? `${key}=*` : m);
  return {
    ...o,
    conntrack: o.conntrack.map((l) => l.replace(/\bsport=(\d+)/g, word('sport')).replace(/\bdport=(\d+)/g, word('dport'))),
    log: o.log.map((l) => l.replace(/\bSPT=(\d+)/g, word('SPT')).replace(/\bDPT=(\d+)/g, word('DPT'))),
    emitted: o.emitted.map((e) => ({ ...e, bytes: maskPorts(e.bytes, ports) })),
  };
}

/** Zeroes the listed ports of a frame's TCP/UDP header (or of the header an ICMP error quotes), and the checksums over them. */
function maskPorts(frame: Uint8Array, ports: ReadonlySet<number>): Uint8Array {
  const b = new Uint8Array(frame);
  if (b.length < 34 || b[12] !== 0x08 || b[13] !== 0x00) return b;
  const ihl = (b[14]! & 15) * 4;
  if ((((b[20]! << 8) | b[21]!) & 0x1fff) !== 0) return b;
  const l4 = 14 + ihl;
  const proto = b[23]!;
  const transport = (off: number, p: number): boolean => {
    let hit = false;
    for (const at of [off, off + 2]) {
      if (at + 2 <= b.length && ports.has((b[at]! << 8) | b[at + 1]!)) {
        b[at] = 0;
        b[at + 1] = 0;
        hit = true;
      }
    }
    const check = p === 17 ? off + 6 : off + 16;
    if (hit && check + 2 <= b.length) b.fill(0, check, check + 2);
    return hit;
  };
  if (proto === 6 || proto === 17) transport(l4, proto);
  else if (proto === 1 && b.length >= l4 + 28 && [3, 4, 5, 11, 12].includes(b[l4]!)) {
    const inner = l4 + 8;
    const innerProto = b[inner + 9]!;
    if ((innerProto === 6 || innerProto === 17) && transport(inner + (b[inner]! & 15) * 4, innerProto)) b.fill(0, l4 + 2, l4 + 4);
  }
  return b;
}

/** A full account of a differing pair, for a failure message. */
export function explainPair(p: PairResult): string {
  return [
    `scenario ${p.scenario.name}: ${p.diffs.length} difference(s)`,
    ...p.diffs,
    '--- setup:',
    ...p.scenario.setup.map((l) => `  ${l}`),
    '--- rules:',
    ...p.scenario.rules.split('\n').filter(Boolean).map((l) => `  ${l}`),
    '--- kernel:',
    formatObservation(p.kernel, p.scenario),
    '--- nflab:',
    formatObservation(p.nflab, p.scenario),
  ].join('\n');
}

/** A difference between the kernel and nflab that is known and not yet fixed. */
export interface KnownDifference {
  /** Short stable name. */
  name: string;
  /** What differs, which side is right (checked on the kernel) and why. */
  diagnosis: string;
  /** Whether one scenario's list of differences is (entirely) this known difference. */
  explains: (diffs: readonly string[], s: PacketScenario) => boolean;
}

/**
 * The name of the known difference that explains a differing scenario,
 * or undefined when none does (a new failure).
 */
export function classify(known: readonly KnownDifference[], diffs: readonly string[], s: PacketScenario): string | undefined {
  if (diffs.length === 0) return undefined;
  return known.find((k) => k.explains(diffs, s))?.name;
}

/**
 * Starts `fn` on every item with at most `limit` in flight; one promise
 * per item, in order.
 */
export function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R>[] {
  const slots: { resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  const out = items.map(() => new Promise<R>((resolve, reject) => slots.push({ resolve, reject })));
  for (const p of out) p.catch(() => undefined);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        slots[i]!.resolve(await fn(items[i]!, i));
      } catch (e) {
        slots[i]!.reject(e);
      }
    }
  };
  for (let w = 0; w < Math.min(limit, items.length); w++) void worker();
  return out;
}
