/**
 * arp from net-tools: the namespace's neighbour table as /proc/net/arp
 * shows it (entries of ARP devices; "C" for a known address, "M" for a
 * permanent one, "(incomplete)" otherwise), in the Linux style (default,
 * -e) or the BSD style (-a), names from /etc/hosts unless -n, filtered by
 * -i IFACE or a host argument, with net-tools' "no entry" and "no match"
 * messages.
 */
import type { Program, ProgramContext, ProgramBody } from './api.js';
import type { Neigh } from '../net/types.js';
import { getopt, lookupHost, ntoa, reverseLookup } from './common.js';

/** ATF_* flags as /proc/net/arp reports them. */
const ATF_COM = 0x02;
const ATF_PERM = 0x04;

const VALID = new Set(['permanent', 'noarp', 'reachable', 'probe', 'stale', 'delay']);

/** One /proc/net/arp line. */
interface ArpEntry {
  ip: number;
  flags: number;
  mac: string;
  dev: string;
}

/** The lines of /proc/net/arp: neighbours of ARP devices, NOARP entries left out. */
export function procNetArp(neigh: readonly Neigh[], devName: (index: number) => string | undefined): ArpEntry[] {
  const out: ArpEntry[] = [];
  for (const n of neigh) {
    if (n.state === 'noarp') continue;
    const dev = devName(n.dev);
    if (dev === undefined) continue;
    let flags = 0;
    if (VALID.has(n.state)) flags |= ATF_COM;
    if (n.state === 'permanent') flags |= ATF_PERM;
    out.push({ ip: n.ip >>> 0, flags, mac: n.mac ?? '00:00:00:00:00:00', dev });
  }
  return out;
}

function pad(s: string, width: number): string {
  return s.length >= width ? s.slice(0, width) : s + ' '.repeat(width - s.length);
}

/** arp: show the neighbour (ARP) table. */
export const arp: Program = function* (ctx: ProgramContext): ProgramBody {
  const r = getopt('arp', ctx.argv.slice(1), 'vnuNDAHaedsi:fp:t:');
  if (r.error) {
    ctx.err(r.error + '\n');
    return 255;
  }
  let numeric = false;
  let bsd = false;
  let verbose = false;
  let device = '';
  for (const { opt, arg } of r.opts) {
    if (opt === 'n') numeric = true;
    else if (opt === 'a') bsd = true;
    else if (opt === 'e') bsd = false;
    else if (opt === 'v') verbose = true;
    else if (opt === 'i') device = arg!;
    else if (opt === 'd' || opt === 's' || opt === 'f') {
      ctx.err('arp: changing the table is not available in nflab; use ip neigh\n');
      return 255;
    }
  }
  let hostArg = '';
  let hostAddr: number | null = null;
  if (r.operands.length > 0) {
    hostArg = r.operands[0]!;
    const h = lookupHost(ctx, hostArg);
    if (!h) {
      ctx.err(`${hostArg}: Unknown host\n`);
      return 255;
    }
    hostAddr = h.addr;
  }
  const links = ctx.machine.net.links;
  const entries = procNetArp(ctx.machine.net.neigh, (i) => links.find((l) => l.index === i)?.name);
  let shown = 0;
  let title = false;
  let text = '';
  for (const e of entries) {
    if (hostAddr !== null && e.ip !== hostAddr) continue;
    if (device && e.dev !== device) continue;
    shown++;
    const ip = ntoa(e.ip);
    const name = numeric ? null : reverseLookup(ctx, e.ip);
    if (bsd) {
      let line = `${name ?? '?'} (${ip}) at `;
      line += e.flags & ATF_COM ? `${e.mac} [ether] ` : '<incomplete> ';
      if (e.flags & ATF_PERM) line += 'PERM ';
      text += `${line}on ${e.dev}\n`;
      continue;
    }
    if (!title) {
      text += 'Address                  HWtype  HWaddress           Flags Mask            Iface\n';
      title = true;
    }
    let flags = '';
    if (e.flags & ATF_COM) flags += 'C';
    if (e.flags & ATF_PERM) flags += 'M';
    text += pad(name ?? ip, 23) + '  ';
    text += e.flags & ATF_COM ? pad('ether', 8) + pad(e.mac, 20) : pad('', 8) + pad('(incomplete)', 20);
    text += `${pad(flags, 6)}${pad('', 15)} ${e.dev}\n`;
  }
  if (verbose) text += `Entries: ${entries.length}\tSkipped: ${entries.length - shown}\tFound: ${shown}\n`;
  if (shown === 0) {
    if (hostArg && !bsd) text += `${hostArg} (${ntoa(hostAddr!)}) -- no entry\n`;
    else if (hostArg || device) text += `arp: in ${entries.length} entries no match found.\n`;
  }
  ctx.out(text);
  return 0;
};
