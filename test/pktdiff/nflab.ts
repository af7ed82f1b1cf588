/**
 * The nflab side of the packet-level differential suite: the same scenario
 * run through nflab's command line in a fresh lab — `ip` for the machine's
 * links (eth0 and eth1 are veths whose far ends p0/p1 stay outside the
 * picture), the scenario's setup lines, `iptables-restore`, then each frame
 * replayed with `nflab replay` at the times the kernel side measured (all
 * in one capture, or one replay per frame with `nflab sleep` in between),
 * then `iptables-save -c`, `conntrack -L` and `dmesg`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNflab } from '../../src/cli/main.js';
import { loadState } from '../../src/cli/lab/store.js';
import { readCapture, writePcapng } from '../../src/core/wire/pcapng.js';
import { dropSaveDates } from './kernel.js';
import { DEFAULT_DUT_MACS, DUT_INTERFACES, type DutInterface, type EmittedFrame, type PacketObservation, type PacketScenario } from './types.js';

/** Splits a setup line into words like a shell (quotes, backslashes), without expansion. */
function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let any = false;
  let q: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (q) {
      if (c === q) q = null;
      else if (c === '\\' && q === '"' && i + 1 < line.length) cur += line[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      any = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      any = true;
    } else if (c === ' ' || c === '\t') {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else cur += c;
  }
  if (cur || any) out.push(cur);
  return out;
}

async function must(lab: string, argv: string[], stdin?: string): Promise<string> {
  const r = await runNflab(['--lab', lab, ...argv], { stdin });
  if (r.status !== 0) throw new Error(`nflab ${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** How the frames are fed to nflab. */
export interface NflabRunOptions {
  /**
   * 'once': one `nflab replay` of a capture holding every frame at its time
   * (the default); 'each': one `nflab replay` per frame (its capture starting
   * at the previous frame's time with a frame for another station, so the
   * time in between passes inside the replay and what timers send is
   * captured), so the lab's saved state carries every connection, counter,
   * rate limit and timer from one frame to the next.
   */
  replay?: 'once' | 'each';
  /**
   * Seconds the machine has been up when the first frame arrives (the
   * reference kernel's monotonic clock then). Jiffies-based behaviour depends
   * on it: the kernel's jiffies tick at multiples of 4 ms of that clock, so
   * nflab's tick in step with them (limit, hashlimit and redirect timing
   * agree to the jiffy), and the 32-bit jiffies counter wraps five minutes
   * after boot (the lifetime --ctexpire sees for an unconfirmed connection).
   * The setup runs before, at the same time.
   */
  uptimeS?: number;
  /**
   * When to list the connections, in milliseconds after the first frame
   * (the kernel side's conntrackAtMs): the clock is moved on to it first,
   * so entries about to expire are judged at the same moment. Default: at
   * the last frame.
   */
  listAtMs?: number;
}

/** Frames closer than this in time are spread apart, so each emitted frame can be assigned to the frame it followed. */
const MIN_SPACING_NS = 2000;

/**
 * The frames' times in nanoseconds from the first: the kernel's (or the
 * scenario's gaps), strictly increasing by at least MIN_SPACING_NS.
 */
function frameTimesNs(s: PacketScenario, sentAtMs?: readonly number[]): number[] {
  const out: number[] = [];
  let gapT = 0;
  for (const [i, f] of s.frames.entries()) {
    if (i > 0) gapT += (f.gapMs ?? 0) * 1e6;
    let t = sentAtMs ? Math.round(sentAtMs[i]! * 1e6) : gapT;
    if (i > 0 && t < out[i - 1]! + MIN_SPACING_NS) t = out[i - 1]! + MIN_SPACING_NS;
    out.push(t);
  }
  return out;
}

/** A frame for another station on the link (dropped before any hook): it only moves the clock. */
function otherStationFrame(iface: DutInterface): Uint8Array {
  const b = new Uint8Array(60);
  b.set([0x02, 0, 0, 0, 0, 0x99], 0);
  b.set([0x02, 0, 0, 0, 0, 0x98], 6);
  b[12] = 0x88;
  b[13] = 0xb5; // local experimental EtherType
  b[14] = iface === 'eth0' ? 0 : 1;
  return b;
}

/** The machine's boot time (wall seconds) and clock (ns since boot): `nflab replay` stamps sent frames with their sum. */
function machineClock(lab: string): { bootWall: number; clockNs: number } {
  const m = loadState(lab).machine;
  if (!m) throw new Error('the lab has no machine yet');
  return { bootWall: m.bootWall, clockNs: m.clockNs };
}

/**
 * Runs a scenario in nflab. `sentAtMs` (from the kernel's run) gives the
 * frames' times; without it the scenario's gaps are used.
 */
export async function runNflabScenario(s: PacketScenario, sentAtMs?: readonly number[], opts: NflabRunOptions = {}): Promise<PacketObservation> {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-pktdiff-'));
  const lab = join(dir, 'lab');
  try {
    if (opts.uptimeS) await must(lab, ['sleep', opts.uptimeS.toFixed(3)]);
    const macs = { ...DEFAULT_DUT_MACS, ...s.macs };
    for (const [i, dev] of DUT_INTERFACES.entries()) {
      await must(lab, ['ip', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `p${i}`]);
      await must(lab, ['ip', 'link', 'set', `p${i}`, 'up']);
      await must(lab, ['ip', 'link', 'set', dev, 'address', macs[dev]]);
    }
    for (const line of s.setup) {
      const argv = words(line);
      if (argv[0] === 'modprobe') continue;
      await must(lab, argv);
    }
    if (s.rules !== '') await must(lab, ['iptables-restore'], s.rules);
    if (s.rules6 !== undefined) await must(lab, ['ip6tables-restore'], s.rules6);
    const logBefore = (await must(lab, ['dmesg'])).split('\n').filter(Boolean).length;
    const timesNs = frameTimesNs(s, sentAtMs);
    const emitted: EmittedFrame[] = [];
    const input = join(dir, 'in.pcapng');
    const output = join(dir, 'out.pcapng');
    const collect = (afterFrame: (tsSec: number, tsNsec: number) => number): void => {
      for (const p of readCapture(readFileSync(output)).packets) {
        if (DUT_INTERFACES.includes(p.ifName as DutInterface)) {
          emitted.push({ iface: p.ifName as DutInterface, bytes: new Uint8Array(p.data), afterFrame: afterFrame(p.tsSec, p.tsNsec) });
        }
      }
    };
    if ((opts.replay ?? 'once') === 'each') {
      for (const [i, f] of s.frames.entries()) {
        // The time since the previous frame passes inside the replay, so
        // that what timers send meanwhile (ARP retries) is captured too: the
        // capture starts with a frame for another station, dropped unseen.
        const packets = [{ tsSec: 0, tsNsec: 0, data: f.bytes, ifName: f.iface }];
        const gapNs = i > 0 ? timesNs[i]! - timesNs[i - 1]! : 0;
        if (gapNs > 0) {
          packets.unshift({ tsSec: 0, tsNsec: 0, data: otherStationFrame(f.iface), ifName: f.iface });
          packets[1] = { ...packets[1]!, tsSec: Math.floor(gapNs / 1e9), tsNsec: gapNs % 1e9 };
        }
        writeFileSync(input, writePcapng(packets));
        const start = machineClock(lab);
        await must(lab, ['replay', input, '--out', output]);
        collect((sec, nsec) => ((sec - start.bootWall) * 1e9 + nsec - start.clockNs + MIN_SPACING_NS / 2 >= gapNs ? i : i - 1));
      }
    } else if (s.frames.length > 0) {
      writeFileSync(
        input,
        writePcapng(s.frames.map((f, i) => ({ tsSec: Math.floor(timesNs[i]! / 1e9), tsNsec: timesNs[i]! % 1e9, data: f.bytes, ifName: f.iface }))),
      );
      const start = machineClock(lab);
      await must(lab, ['replay', input, '--out', output]);
      // A sent frame follows the last frame received at or before its time
      // (the stamps lose some nanoseconds to floating point: half the spacing is allowed).
      collect((sec, nsec) => {
        const at = (sec - start.bootWall) * 1e9 + nsec - start.clockNs + MIN_SPACING_NS / 2;
        let i = 0;
        while (i + 1 < timesNs.length && timesNs[i + 1]! <= at) i++;
        return i;
      });
    }
    const save = s.rules === '' ? '' : dropSaveDates(await must(lab, ['iptables-save', '-c']));
    const sentAt = timesNs.map((t) => t / 1e6);
    const lastMs = sentAt.length ? sentAt[sentAt.length - 1]! : 0;
    const listAt = opts.listAtMs !== undefined && opts.listAtMs > lastMs ? opts.listAtMs : lastMs;
    if (listAt > lastMs) await must(lab, ['sleep', ((listAt - lastMs) / 1000).toFixed(9)]);
    const ct = await runNflab(['--lab', lab, 'conntrack', '-L']);
    const conntrack = ct.stdout.split('\n').filter(Boolean);
    const log = (await must(lab, ['dmesg']))
      .split('\n')
      .filter(Boolean)
      .slice(logBefore)
      .map((l) => l.replace(/^\[\s*\d+\.\d{6}\] /, ''));
    const o: PacketObservation = { save, conntrack, conntrackAtMs: listAt, log, emitted, sentAtMs: sentAt };
    if (s.rules6 !== undefined) o.save6 = dropSaveDates(await must(lab, ['ip6tables-save', '-c']));
    return o;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
