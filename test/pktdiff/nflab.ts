/**
 * The nflab side of the packet-level differential suite: the same scenario
 * run through nflab's command line in a fresh lab — `ip` for the machine's
 * links (eth0 and eth1 are veths whose far ends p0/p1 stay outside the
 * picture), the scenario's setup lines, `iptables-restore`, then each frame
 * replayed with `nflab replay` (the clock moved on with `nflab sleep` by the
 * gaps the kernel side measured), then `iptables-save -c`, `conntrack -L`
 * and `dmesg`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNflab } from '../../src/cli/main.js';
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

/**
 * Runs a scenario in nflab. `sentAtMs` (from the kernel's run) gives the
 * frames' times; without it the scenario's gaps are used.
 */
export async function runNflabScenario(s: PacketScenario, sentAtMs?: readonly number[]): Promise<PacketObservation> {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-pktdiff-'));
  const lab = join(dir, 'lab');
  try {
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
    const logBefore = (await must(lab, ['dmesg'])).split('\n').filter(Boolean).length;
    const times: number[] = [];
    let t = 0;
    for (const [i, f] of s.frames.entries()) {
      t = sentAtMs ? sentAtMs[i]! : i === 0 ? 0 : t + (f.gapMs ?? 0);
      times.push(t);
    }
    const emitted: EmittedFrame[] = [];
    const input = join(dir, 'in.pcapng');
    const output = join(dir, 'out.pcapng');
    for (const [i, f] of s.frames.entries()) {
      if (i > 0) {
        const gapNs = Math.round((times[i]! - times[i - 1]!) * 1e6);
        if (gapNs > 0) await must(lab, ['sleep', (gapNs / 1e9).toFixed(9)]);
      }
      writeFileSync(input, writePcapng([{ tsSec: 0, tsNsec: 0, data: f.bytes, ifName: f.iface }]));
      await must(lab, ['replay', input, '--out', output]);
      for (const p of readCapture(readFileSync(output)).packets) {
        if (DUT_INTERFACES.includes(p.ifName as DutInterface)) emitted.push({ iface: p.ifName as DutInterface, bytes: new Uint8Array(p.data), afterFrame: i });
      }
    }
    const save = s.rules === '' ? '' : dropSaveDates(await must(lab, ['iptables-save', '-c']));
    const ct = await runNflab(['--lab', lab, 'conntrack', '-L']);
    const conntrack = ct.stdout.split('\n').filter(Boolean);
    const log = (await must(lab, ['dmesg']))
      .split('\n')
      .filter(Boolean)
      .slice(logBefore)
      .map((l) => l.replace(/^\[\s*\d+\.\d{6}\] /, ''));
    return { save, conntrack, conntrackAtMs: times.length ? times[times.length - 1]! : 0, log, emitted, sentAtMs: times };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
