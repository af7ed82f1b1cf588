/**
 * Compares two observations of one scenario (the kernel's and nflab's) and
 * explains every difference in readable text:
 *
 * - `iptables-save -c` (and `ip6tables-save -c`): exactly.
 * - `conntrack -L`: the same lines, in any order (the kernel lists its hash
 *   table, whose order depends on a secret drawn at boot), exactly except
 *   the timeout column; the moment each entry expires (timeout plus the time
 *   the listing was taken) may differ by at most one second.
 * - the kernel log: the same lines in the same order, after masking (mask.ts).
 * - the emitted frames: per interface, the same frames in the same order,
 *   each sent after the same received frame, byte for byte after masking
 *   (mask.ts); the checksums over masked fields must verify on both sides.
 */
import { unifiedDiff } from '../diff/textdiff.js';
import { decodeFrame, describeFrame, fieldAt, hexLines } from './decode.js';
import { maskFrame, maskLogLine, type MaskedFrame } from './mask.js';
import { DUT_INTERFACES, type EmittedFrame, type PacketObservation, type PacketScenario } from './types.js';

/** How far apart the two sides' expiry moments of one conntrack entry may be, in seconds. */
export const CONNTRACK_TIMEOUT_SLACK_S = 1;

/**
 * Every difference between the kernel's observation and nflab's, one
 * message per difference (a message may span several lines); empty when
 * they are the same.
 */
export function comparePacketObservations(kernel: PacketObservation, nflab: PacketObservation): string[] {
  const out: string[] = [];
  compareText('iptables-save -c', kernel.save, nflab.save, out);
  if (kernel.save6 !== undefined || nflab.save6 !== undefined) {
    compareText('ip6tables-save -c', kernel.save6 ?? '', nflab.save6 ?? '', out);
  }
  compareConntrack(kernel, nflab, out);
  compareLog(kernel.log, nflab.log, out);
  for (const iface of DUT_INTERFACES) {
    compareFrames(
      iface,
      kernel.emitted.filter((e) => e.iface === iface),
      nflab.emitted.filter((e) => e.iface === iface),
      out,
    );
  }
  const unknown = [...kernel.emitted, ...nflab.emitted].filter((e) => !DUT_INTERFACES.includes(e.iface));
  for (const e of unknown) out.push(`a frame was emitted on an unknown interface ${JSON.stringify(e.iface)}: ${describeFrame(e.bytes)}`);
  return out;
}

function compareText(what: string, kernel: string, nflab: string, out: string[]): void {
  if (kernel === nflab) return;
  out.push(`${what} differs (- kernel, + nflab):\n${unifiedDiff(kernel, nflab)}`);
}

// ---------------------------------------------------------------- conntrack

/** A `conntrack -L` line split around its timeout column. */
interface ConntrackLine {
  line: string;
  /** The line with the timeout replaced by "*". */
  key: string;
  /** Seconds left, or undefined for a line without the column. */
  timeout: number | undefined;
}

/** `proto  protonum timeout rest`: the layout of conntrack-tools' default output. */
const CONNTRACK_LINE = /^(\S+\s+\d+ )(\d+)( .*)$/;

function parseConntrack(line: string): ConntrackLine {
  const m = CONNTRACK_LINE.exec(line);
  if (!m) return { line, key: line, timeout: undefined };
  return { line, key: `${m[1]}*${m[3]}`, timeout: Number(m[2]) };
}

function compareConntrack(kernel: PacketObservation, nflab: PacketObservation, out: string[]): void {
  const k = kernel.conntrack.map(parseConntrack);
  const n = nflab.conntrack.map(parseConntrack);
  const unmatched = [...n];
  const missing: ConntrackLine[] = [];
  for (const kl of k) {
    const i = unmatched.findIndex((nl) => nl.key === kl.key);
    if (i < 0) {
      missing.push(kl);
      continue;
    }
    const nl = unmatched.splice(i, 1)[0]!;
    if (kl.timeout === undefined || nl.timeout === undefined) continue;
    // When each side says the entry expires, counted from its first frame.
    const kernelExpiry = kl.timeout + kernel.conntrackAtMs / 1000;
    const nflabExpiry = nl.timeout + nflab.conntrackAtMs / 1000;
    if (Math.abs(kernelExpiry - nflabExpiry) > CONNTRACK_TIMEOUT_SLACK_S) {
      out.push(
        `conntrack timeout differs: the kernel's entry expires ${kernelExpiry.toFixed(3)} s after the first frame ` +
          `(timeout ${kl.timeout} listed at ${(kernel.conntrackAtMs / 1000).toFixed(3)} s), nflab's ${nflabExpiry.toFixed(3)} s ` +
          `(timeout ${nl.timeout} listed at ${(nflab.conntrackAtMs / 1000).toFixed(3)} s):\n  ${kl.line}\n  ${nl.line}`,
      );
    }
  }
  if (missing.length > 0 || unmatched.length > 0) {
    const lines = [
      ...missing.map((l) => `- ${l.line}`),
      ...unmatched.map((l) => `+ ${l.line}`),
    ];
    out.push(`conntrack -L differs (- only the kernel's, + only nflab's; timeouts ignored):\n${lines.join('\n')}`);
  }
}

// --------------------------------------------------------------------- log

function compareLog(kernel: readonly string[], nflab: readonly string[], out: string[]): void {
  const k = kernel.map(maskLogLine);
  const n = nflab.map(maskLogLine);
  if (k.length === n.length && k.every((l, i) => l === n[i])) return;
  out.push(`kernel log differs (- kernel, + nflab):\n${unifiedDiff(k.join('\n') + '\n', n.join('\n') + '\n')}`);
}

// ------------------------------------------------------------------ frames

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** Pairs of indexes of equal items, in order (longest common subsequence). */
function matchInOrder<T>(a: readonly T[], b: readonly T[], equal: (x: T, y: T) => boolean): [number, number][] {
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = equal(a[i]!, b[j]!) ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const pairs: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (equal(a[i]!, b[j]!)) {
      pairs.push([i, j]);
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) i++;
    else j++;
  }
  return pairs;
}

interface Masked extends EmittedFrame {
  index: number;
  m: MaskedFrame;
}

function compareFrames(iface: string, kernel: EmittedFrame[], nflab: EmittedFrame[], out: string[]): void {
  const k: Masked[] = kernel.map((e, index) => ({ ...e, index, m: maskFrame(e.bytes) }));
  const n: Masked[] = nflab.map((e, index) => ({ ...e, index, m: maskFrame(e.bytes) }));
  for (const [side, list] of [['kernel', k], ['nflab', n]] as const) {
    for (const e of list) {
      if (e.m.badChecksums.length > 0) {
        out.push(`${iface} ${side} frame #${e.index + 1}: ${e.m.badChecksums.join(', ')}\n  ${describeFrame(e.bytes)}`);
      }
    }
  }
  const pairs = matchInOrder(k, n, (x, y) => sameBytes(x.m.bytes, y.m.bytes));
  if (k.length !== n.length) {
    out.push(`${iface}: the kernel emitted ${k.length} frame(s), nflab ${n.length}`);
  }
  let ki = 0;
  let ni = 0;
  for (const [pk, pn] of [...pairs, [k.length, n.length] as [number, number]]) {
    // The unmatched frames before this pair: compare them side by side, then report the rest.
    const ks = k.slice(ki, pk);
    const ns = n.slice(ni, pn);
    for (let i = 0; i < Math.max(ks.length, ns.length); i++) {
      const a = ks[i];
      const b = ns[i];
      if (a && b) out.push(frameDifference(iface, a, b));
      else if (a) out.push(`${iface}: only the kernel emitted frame #${a.index + 1} (after frame ${a.afterFrame}):\n  ${describeFrame(a.bytes)}\n${indent(hexLines(a.bytes))}`);
      else if (b) out.push(`${iface}: only nflab emitted frame #${b.index + 1} (after frame ${b.afterFrame}):\n  ${describeFrame(b.bytes)}\n${indent(hexLines(b.bytes))}`);
    }
    if (pk < k.length && pn < n.length) {
      const a = k[pk]!;
      const b = n[pn]!;
      if (a.afterFrame !== b.afterFrame) {
        out.push(
          `${iface}: frame #${a.index + 1} was emitted after frame ${a.afterFrame} by the kernel, after frame ${b.afterFrame} by nflab:\n  ${describeFrame(a.bytes)}`,
        );
      }
    }
    ki = pk + 1;
    ni = pn + 1;
  }
}

function indent(lines: readonly string[], by = '    '): string {
  return lines.map((l) => by + l).join('\n');
}

/** The field-by-field differences of two frames that should have been the same. */
function frameDifference(iface: string, a: Masked, b: Masked): string {
  const da = decodeFrame(a.m.bytes);
  const db = decodeFrame(b.m.bytes);
  const lines: string[] = [];
  lines.push(
    `${iface}: frame #${a.index + 1} (kernel, after frame ${a.afterFrame}) and #${b.index + 1} (nflab, after frame ${b.afterFrame}) differ:`,
  );
  lines.push(`  kernel: ${describeFrame(a.bytes)}`);
  lines.push(`  nflab:  ${describeFrame(b.bytes)}`);
  const masked = [...new Set([...a.m.masked, ...b.m.masked])];
  if (masked.length > 0) lines.push(`  (masked on both sides: ${masked.join(', ')})`);
  if (a.bytes.length !== b.bytes.length) lines.push(`  length: kernel ${a.bytes.length}, nflab ${b.bytes.length}`);
  const seen = new Set<string>();
  const common = Math.min(a.m.bytes.length, b.m.bytes.length);
  for (let i = 0; i < common; i++) {
    if (a.m.bytes[i] === b.m.bytes[i]) continue;
    const field = fieldAt(da.fields, i);
    const name = field?.name ?? `byte ${i}`;
    if (seen.has(name)) continue;
    seen.add(name);
    const other = db.fields.find((f) => f.name === name);
    lines.push(`  ${name}: kernel ${field?.text ?? a.m.bytes[i]}, nflab ${other?.text ?? b.m.bytes[i]}`);
  }
  lines.push('  kernel bytes:', indent(hexLines(a.bytes)), '  nflab bytes:', indent(hexLines(b.bytes)));
  return lines.join('\n');
}

// ------------------------------------------------------------------ report

/**
 * An observation as text for people: each received frame (when the
 * scenario is given) followed by what the machine emitted after it, then
 * the kernel log, the conntrack table and the rule dumps.
 */
export function formatObservation(o: PacketObservation, s?: PacketScenario): string {
  const lines: string[] = [];
  const emittedAfter = (i: number): void => {
    for (const e of o.emitted.filter((x) => x.afterFrame === i)) lines.push(`  -> ${e.iface}: ${describeFrame(e.bytes)}`);
  };
  emittedAfter(-1);
  const count = Math.max(o.sentAtMs.length, s?.frames.length ?? 0);
  for (let i = 0; i < count; i++) {
    const at = o.sentAtMs[i];
    const f = s?.frames[i];
    lines.push(`frame ${i}${at === undefined ? '' : ` at ${at.toFixed(3)} ms`}${f ? ` on ${f.iface}: ${describeFrame(f.bytes)}` : ''}`);
    emittedAfter(i);
  }
  lines.push(`kernel log (${o.log.length} lines)${o.log.length ? ':' : ''}`, ...o.log.map((l) => `  ${l}`));
  lines.push(`conntrack -L at ${o.conntrackAtMs.toFixed(3)} ms (${o.conntrack.length} entries)${o.conntrack.length ? ':' : ''}`);
  lines.push(...o.conntrack.map((l) => `  ${l}`));
  lines.push('iptables-save -c:', ...o.save.split('\n').filter((l) => l !== '').map((l) => `  ${l}`));
  if (o.save6 !== undefined) lines.push('ip6tables-save -c:', ...o.save6.split('\n').filter((l) => l !== '').map((l) => `  ${l}`));
  return lines.join('\n');
}
