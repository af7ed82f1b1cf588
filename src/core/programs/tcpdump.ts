/**
 * tcpdump, as Debian 12's tcpdump 4.99.3 (libpcap 1.10.3) behaves in a
 * lab namespace: live captures on an interface (or `-i any`) printed in
 * tcpdump's line format as the frames cross it, `-c N`, `-w FILE`,
 * `-r FILE`, the start-up and summary lines on standard error, and the
 * filter expression of pcap-filter (see tcpdump-filter.ts).
 *
 * A capture started in the background (`tcpdump -i veth0 -n &`) prints its
 * lines while the later commands run; its counts (and, with -w, the packets
 * written so far) are kept in `ctx.saved` between commands, and a resumed
 * run prints no banner again. Stopping it (kill, or Ctrl-C in the
 * foreground) goes through `onStop`, which prints what tcpdump prints when
 * interrupted: an empty line on standard output (unless -w) and the
 * summary on standard error.
 */
import type { HostFs, Program, ProgramBody, ProgramContext, TappedFrame } from './api.js';
import { compileFilter, type FrameFilter } from './tcpdump-filter.js';
import { maskOf, tcpdumpNames } from './tcpdump-names.js';
import { fromHex, get16, toHex } from '../wire/bytes.js';
import { formatMac } from '../wire/mac.js';
import { CaptureError, DEFAULT_SNAPLEN, LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, writePcap, type PacketToWrite } from '../wire/pcap.js';
import { readCapture } from '../wire/pcapng.js';
import { PacketPrinter } from '../wire/print.js';
import type { Link } from '../net/types.js';

const VERSION = 'tcpdump version 4.99.3\nlibpcap version 1.10.3 (with TPACKET_V3)\nOpenSSL 3.0.19 27 Jan 2026\n';

const USAGE =
  'Usage: tcpdump [-AbdDefhHIJKlLnNOpqStuUvxX#] [ -B size ] [ -c count ] [--count]\n' +
  '\t\t[ -C file_size ] [ -E algo:secret ] [ -F file ] [ -G seconds ]\n' +
  '\t\t[ -i interface ] [ --immediate-mode ] [ -j tstamptype ]\n' +
  '\t\t[ -M secret ] [ --number ] [ --print ] [ -Q in|out|inout ]\n' +
  '\t\t[ -r file ] [ -s snaplen ] [ -T type ] [ --version ]\n' +
  '\t\t[ -V file ] [ -w file ] [ -W filecount ] [ -y datalinktype ]\n' +
  '\t\t[ --time-stamp-precision precision ] [ --micro ] [ --nano ]\n' +
  '\t\t[ -z postrotate-command ] [ -Z user ] [ expression ]\n';

const OPTSTRING = 'aAbB:c:C:dDeE:fF:G:hHi:I:j:J:KlLm:M:nNOpqQ:r:s:StT:uUvV:w:W:xXy:Yz:Z:#';

/** Options tcpdump accepts that change nothing in the lab. */
const HARMLESS = new Set(['l', 'U', 'p', 'B', 'O', 'a', 'f', 'Z', 'I', 'j', 'J']);

/** Link-type names as libpcap gives them. */
const LINK_NAMES: Record<number, string> = {
  [LINKTYPE_ETHERNET]: 'EN10MB (Ethernet)',
  [LINKTYPE_LINUX_SLL]: 'LINUX_SLL (Linux cooked v1)',
  [LINKTYPE_LINUX_SLL2]: 'LINUX_SLL2 (Linux cooked v2)',
  101: 'RAW (Raw IP)',
  228: 'IPV4 (Raw IPv4)',
};

/** The options of one tcpdump command line. */
export interface TcpdumpOptions {
  iface?: string;
  numeric: boolean;
  ether: boolean;
  verbose: number;
  hex: number;
  hexAscii: number;
  ascii: number;
  quiet: boolean;
  tsMode: number;
  absoluteSeq: boolean;
  number: boolean;
  /** -c: stop after this many packets; 0 for no limit. */
  count: number;
  countOnly: boolean;
  /** -D: list the capture devices. */
  listDevices: boolean;
  print: boolean;
  write?: string;
  read?: string;
  snaplen: number;
  direction: 'in' | 'out' | 'inout';
  filter: string;
  filterFile?: string;
}

/** What a background capture keeps between commands. */
export interface TcpdumpSaved {
  captured: number;
  received: number;
  /** The previous packet's time (-ttt) or the first's (-ttttt): seconds and microseconds. */
  ref?: [number, number];
  /** Packets written with -w so far: seconds, microseconds, length on the wire, bytes in hex. */
  written?: [number, number, number, string][];
}

/** The parsed command line, or what to print and the status to exit with. */
type Parsed = { ok: true; o: TcpdumpOptions } | { ok: false; out?: string; err?: string; status: number };

/** Parses tcpdump's arguments (argv without argv[0]) as its getopt_long does. */
export function parseTcpdumpArgs(args: readonly string[]): Parsed {
  const o: TcpdumpOptions = {
    numeric: false, ether: false, verbose: 0, hex: 0, hexAscii: 0, ascii: 0, quiet: false, tsMode: 0, absoluteSeq: false,
    number: false, count: 0, countOnly: false, listDevices: false, print: false, snaplen: DEFAULT_SNAPLEN, direction: 'inout', filter: '',
  };
  const operands: string[] = [];
  const takes = new Map<string, boolean>();
  for (let i = 0; i < OPTSTRING.length; i++) {
    const c = OPTSTRING[i]!;
    if (c !== ':') takes.set(c, OPTSTRING[i + 1] === ':');
  }
  const bad = (msg: string): Parsed => ({ ok: false, err: `tcpdump: ${msg}\n`, status: 1 });
  const usageErr = (msg: string): Parsed => ({ ok: false, err: `${msg}\n${VERSION}${USAGE}`, status: 1 });
  const opts: { c: string; arg?: string }[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const [name, val] = a.slice(2).split('=', 2) as [string, string | undefined];
      switch (name) {
        case 'help':
          return { ok: false, out: VERSION + USAGE, status: 0 };
        case 'version':
          return { ok: false, out: VERSION, status: 0 };
        case 'count':
          o.countOnly = true;
          continue;
        case 'number':
          o.number = true;
          continue;
        case 'print':
          o.print = true;
          continue;
        case 'immediate-mode':
        case 'micro':
          continue;
        case 'nano':
        case 'time-stamp-precision':
          if (name === 'time-stamp-precision' && val === undefined) i++;
          continue;
        default:
          return usageErr(`tcpdump: unrecognized option '${a}'`);
      }
    }
    if (a.length < 2 || a[0] !== '-') {
      operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const needs = takes.get(c);
      if (needs === undefined) return usageErr(`tcpdump: invalid option -- '${c}'`);
      if (!needs) {
        opts.push({ c });
        continue;
      }
      if (j + 1 < a.length) opts.push({ c, arg: a.slice(j + 1) });
      else if (i + 1 < args.length) opts.push({ c, arg: args[++i]! });
      else return usageErr(`tcpdump: option requires an argument -- '${c}'`);
      break;
    }
  }
  for (const { c, arg } of opts) {
    switch (c) {
      case 'n':
        o.numeric = true;
        break;
      case 'e':
        o.ether = true;
        break;
      case 'v':
        o.verbose++;
        break;
      case 'x':
        o.hex++;
        break;
      case 'X':
        o.hexAscii++;
        break;
      case 'A':
        o.ascii++;
        break;
      case 'q':
        o.quiet = true;
        break;
      case 't':
        o.tsMode++;
        break;
      case 'S':
        o.absoluteSeq = true;
        break;
      case '#':
        o.number = true;
        break;
      case 'c': {
        const n = /^-?[0-9]+/.exec(arg!)?.[0];
        const v = n === undefined ? 0 : parseInt(n, 10);
        if (v <= 0) return bad(`invalid packet count ${arg}`);
        o.count = v;
        break;
      }
      case 'i':
        o.iface = arg!;
        break;
      case 'r':
        o.read = arg!;
        break;
      case 'w':
        o.write = arg!;
        break;
      case 'F':
        o.filterFile = arg!;
        break;
      case 's': {
        const v = /^[0-9]+$/.test(arg!) ? parseInt(arg!, 10) : -1;
        if (v < 0 || v > DEFAULT_SNAPLEN) return bad(`invalid snaplen ${arg} (must be >= 0 and <= ${DEFAULT_SNAPLEN})`);
        o.snaplen = v === 0 ? DEFAULT_SNAPLEN : v;
        break;
      }
      case 'Q':
        if (arg === 'in' || arg === 'out' || arg === 'inout') o.direction = arg;
        else return bad(`unknown capture direction \`${arg}'`);
        break;
      case 'h':
        return { ok: false, out: VERSION + USAGE, status: 0 };
      case 'D':
        o.listDevices = true;
        break;
      case 'Y':
        // In getopt's list but not built into Debian's tcpdump: the usage alone.
        return { ok: false, err: VERSION + USAGE, status: 1 };
      default:
        if (HARMLESS.has(c)) break;
        return bad(`option -${c} is not available in nflab`);
    }
  }
  if (o.tsMode > 5) o.tsMode = 0;
  o.filter = operands.join(' ');
  return { ok: true, o };
}

/** A host file's bytes when the lab's file access can give them. */
function readBytes(fs: HostFs, path: string): Uint8Array | undefined {
  const f = fs as HostFs & { readBytes?(p: string): Uint8Array | undefined };
  if (f.readBytes) return f.readBytes(path);
  return undefined;
}

/** The state of a capture running in this command (what onStop needs). */
interface Run {
  o: TcpdumpOptions;
  saved: TcpdumpSaved;
  printer: PacketPrinter | null;
  linkType: number;
  stop: (() => void) | null;
  done: boolean;
  dirty: boolean;
}

const runs = new WeakMap<ProgramContext, Run>();

function plural(n: number, what: string): string {
  return `${n} packet${n === 1 ? '' : 's'} ${what}`;
}

function summary(saved: TcpdumpSaved): string {
  return `${plural(saved.captured, 'captured')}\n${plural(saved.received, 'received by filter')}\n0 packets dropped by kernel\n`;
}

/** Writes the -w file with every packet written so far. */
function flush(ctx: ProgramContext, run: Run): void {
  if (!run.o.write || !run.dirty) return;
  run.dirty = false;
  const packets: PacketToWrite[] = (run.saved.written ?? []).map(([sec, usec, len, hex]) => ({
    tsSec: sec,
    tsNsec: usec * 1000,
    data: fromHex(hex),
    origLen: len,
  }));
  ctx.fs.writeBytes(run.o.write, writePcap(packets, { linkType: run.linkType, snapLen: run.o.snaplen }));
}

/** libpcap's ranking of a device: lower is better (running, up, connected, not loopback, not "any"). */
function merit(up: boolean, running: boolean, disconnected: boolean, loopback: boolean, any: boolean): number {
  let m = 0;
  if (!running) m |= 0x80000000;
  if (!up) m |= 0x40000000;
  if (disconnected) m |= 0x20000000;
  if (loopback) m |= 0x10000000;
  if (any) m |= 0x08000000;
  return m >>> 0;
}

/** tcpdump -D: the namespace's devices with libpcap's pseudo-devices, best first, as Debian's libpcap lists them. */
export function deviceList(links: readonly Link[]): string {
  return rankedDevices(links)
    .map((d, i) => `${i + 1}.${d.text}\n`)
    .join('');
}

/** The capture devices in libpcap's order: names and their -D lines. */
function rankedDevices(links: readonly Link[]): { name: string; text: string }[] {
  const devs: { name: string; text: string; merit: number }[] = [];
  for (const l of [...links].sort((a, b) => a.index - b.index)) {
    const loop = l.kind === 'loopback';
    const running = l.up && l.carrier;
    const flags: string[] = [];
    if (l.up) flags.push('Up');
    if (running) flags.push('Running');
    if (loop) flags.push('Loopback');
    let text = `${l.name} [${flags.length ? flags.join(', ') : 'none'}`;
    if (!loop) text += running ? ', Connected' : ', Disconnected';
    devs.push({ name: l.name, text: text + ']', merit: merit(l.up, running, !loop && !l.carrier, loop, false) });
  }
  devs.push({ name: 'any', text: 'any (Pseudo-device that captures on all interfaces) [Up, Running]', merit: merit(true, true, false, false, true) });
  const pseudo: [string, string, string][] = [
    ['bluetooth-monitor', 'Bluetooth Linux Monitor', 'Wireless'],
    ['nflog', 'Linux netfilter log (NFLOG) interface', 'none'],
    ['nfqueue', 'Linux netfilter queue (NFQUEUE) interface', 'none'],
    ['dbus-system', 'D-Bus system bus', 'none'],
    ['dbus-session', 'D-Bus session bus', 'none'],
  ];
  for (const [name, desc, flags] of pseudo) devs.push({ name, text: `${name} (${desc}) [${flags}]`, merit: merit(false, false, false, false, false) });
  return devs
    .map((d, i) => ({ ...d, i }))
    .sort((a, b) => a.merit - b.merit || a.i - b.i)
    .map(({ name, text }) => ({ name, text }));
}

/** The device tcpdump opens without -i: libpcap's best-ranked one (up, running, connected, not loopback), else "any". */
function defaultDevice(links: readonly Link[]): string {
  let best: { name: string; merit: number } = { name: 'any', merit: 0x08000000 };
  for (const l of links) {
    let m = 0;
    if (!(l.up && l.carrier)) m |= 0x80000000;
    if (!l.up) m |= 0x40000000;
    if (l.kind !== 'loopback' && !l.carrier) m |= 0x20000000;
    if (l.kind === 'loopback') m |= 0x10000000;
    m >>>= 0;
    if (m < best.merit) best = { name: l.name, merit: m };
  }
  return best.name;
}

/** Builds the Linux cooked header a capture on "any" puts before the network layer. */
function cookedFrame(f: TappedFrame, ifindex: number, ifMac: string, v2: boolean): Uint8Array {
  const frame = f.frame;
  const payload = frame.subarray(14);
  const type = get16(frame, 12);
  let pkttype: number;
  if (f.dir === 'out') pkttype = 4;
  else if (frame[0]! & 1) pkttype = formatMac(frame, 0) === 'ff:ff:ff:ff:ff:ff' ? 1 : 2;
  else pkttype = formatMac(frame, 0) === ifMac ? 0 : 3;
  const hdr = v2 ? 20 : 16;
  const out = new Uint8Array(hdr + payload.length);
  if (v2) {
    out[0] = type >>> 8;
    out[1] = type & 0xff;
    out[4] = ifindex >>> 24;
    out[5] = (ifindex >>> 16) & 0xff;
    out[6] = (ifindex >>> 8) & 0xff;
    out[7] = ifindex & 0xff;
    out[9] = 1;
    out[10] = pkttype;
    out[11] = 6;
    out.set(frame.subarray(6, 12), 12);
  } else {
    out[1] = pkttype;
    out[3] = 1;
    out[5] = 6;
    out.set(frame.subarray(6, 12), 6);
    out[14] = type >>> 8;
    out[15] = type & 0xff;
  }
  out.set(payload, hdr);
  return out;
}

/** The tcpdump program. */
export const tcpdump: Program = function* (ctx: ProgramContext): ProgramBody {
  const parsed = parseTcpdumpArgs(ctx.argv.slice(1));
  if (!parsed.ok) {
    if (parsed.out) ctx.out(parsed.out);
    if (parsed.err) ctx.err(parsed.err);
    return parsed.status;
  }
  const o = parsed.o;
  const names = tcpdumpNames(ctx);
  if (o.filterFile !== undefined) {
    const text = ctx.fs.read(o.filterFile);
    if (text === undefined) {
      ctx.err(`tcpdump: can't open ${o.filterFile}: No such file or directory\n`);
      return 1;
    }
    o.filter = text.replace(/#.*$/gm, '').replace(/\s+/g, ' ').trim();
  }
  if (o.listDevices) {
    ctx.out(deviceList(ctx.machine.net.links));
    return 0;
  }
  if (o.read !== undefined) return readFile(ctx, o, names);

  // ---- live capture
  const links = ctx.machine.net.links;
  let device = o.iface ?? defaultDevice(links);
  if (/^[0-9]+$/.test(device) && !links.some((l) => l.name === device)) {
    // A number names the device at that place in the -D list.
    const ranked = rankedDevices(links);
    const n = Number(device);
    if (n < 1 || n > ranked.length) {
      ctx.err('tcpdump: Invalid adapter index\n');
      return 1;
    }
    device = ranked[n - 1]!.name;
  }
  let linkType = LINKTYPE_ETHERNET;
  let link: Link | undefined;
  if (device === 'any') linkType = o.iface === undefined ? LINKTYPE_LINUX_SLL : LINKTYPE_LINUX_SLL2;
  else {
    link = links.find((l) => l.name === device);
    if (!link) {
      ctx.err(`tcpdump: ${device}: No such device exists\n(No such device exists)\n`);
      return 1;
    }
    if (!link.up) {
      ctx.err(`tcpdump: ${device}: That device is not up\n`);
      return 1;
    }
  }
  let netmask = 0;
  if (link && link.inet.length > 0) netmask = maskOf(link.inet[0]!.prefixlen);
  const compiled = compileFilter(o.filter, names.filter, netmask, linkType);
  if (!compiled.ok) {
    ctx.err(`tcpdump: ${compiled.error}\n`);
    return 1;
  }
  const filter: FrameFilter = compiled.filter;
  const saved: TcpdumpSaved = (ctx.saved as TcpdumpSaved | undefined) ?? { captured: 0, received: 0 };
  ctx.saved = saved;
  const printing = !o.write || o.print;
  const printer = printing ? new PacketPrinter(o, names.print) : null;
  if (printer && saved.ref) printer.setReference(saved.ref[0], saved.ref[1]);
  const run: Run = { o, saved, printer, linkType, stop: null, done: false, dirty: false };
  runs.set(ctx, run);

  if (!ctx.resumed) {
    if (linkType === LINKTYPE_LINUX_SLL2) ctx.err('tcpdump: data link type LINUX_SLL2\n');
    if (!o.verbose && !o.write) ctx.err('tcpdump: verbose output suppressed, use -v[v]... for full protocol decode\n');
    else ctx.err('tcpdump: ');
    ctx.err(`listening on ${device}, link-type ${LINK_NAMES[linkType]}, snapshot length ${o.snaplen} bytes\n`);
  }
  if (o.count && saved.captured >= o.count) return finish(ctx, run, false);

  const boot = ctx.machine.state.bootWall;
  const bootSec = Math.floor(boot);
  const bootNs = Math.round((boot - bootSec) * 1e9);
  run.stop = ctx.tap(device === 'any' ? null : device, (f) => {
    if (run.done) return;
    if (o.direction !== 'inout' && f.dir !== o.direction) return;
    let data = f.frame;
    if (linkType !== LINKTYPE_ETHERNET) {
      const l = ctx.machine.net.links.find((x) => x.name === f.iface);
      data = cookedFrame(f, l?.index ?? 0, l?.mac ?? '', linkType === LINKTYPE_LINUX_SLL2);
    }
    const wireLen = data.length;
    const cap = wireLen > o.snaplen ? data.subarray(0, o.snaplen) : data;
    if (!filter(cap, wireLen)) return;
    saved.received++;
    if (o.count && saved.captured >= o.count) return;
    saved.captured++;
    const ns = f.ns + bootNs;
    const sec = bootSec + Math.floor(ns / 1e9);
    const usec = Math.floor((ns % 1e9) / 1000);
    if (printer) {
      ctx.out(printer.format({ tsSec: sec, tsUsec: usec, data: cap, origLen: wireLen }, linkType));
      saved.ref = printer.reference();
    }
    if (o.write) {
      (saved.written ??= []).push([sec, usec, wireLen, toHex(cap)]);
      run.dirty = true;
    }
    if (o.count && saved.captured >= o.count) run.done = true;
    ctx.wake();
  });
  run.dirty = o.write !== undefined && !ctx.resumed;
  flush(ctx, run);
  while (!run.done) {
    yield ctx.until(Infinity);
    flush(ctx, run);
  }
  return finish(ctx, run, false);
};

/** Ends a live capture: stops the tap, writes the file, prints the summary (after an empty line on stdout when interrupted). */
function finish(ctx: ProgramContext, run: Run, interrupted: boolean): number {
  run.done = true;
  run.stop?.();
  run.stop = null;
  run.dirty = run.dirty || (run.o.write !== undefined && run.saved.written === undefined);
  flush(ctx, run);
  if (interrupted && !run.o.write) ctx.out('\n');
  ctx.err(summary(run.saved));
  runs.delete(ctx);
  return 0;
}

/**
 * Stops a running capture as SIGINT or SIGTERM does (kill, pkill, kill %N,
 * Ctrl-C): an empty line on standard output (unless -w), the summary on
 * standard error, the -w file complete. With `ctrlC`, the terminal's "^C"
 * echo comes first. Works from the program's saved state when it has not
 * run in this command yet. Returns tcpdump's exit status (0).
 */
export function onStop(ctx: ProgramContext, opts: { ctrlC?: boolean } = {}): number {
  if (opts.ctrlC) ctx.out('^C');
  const run = runs.get(ctx);
  if (run) return finish(ctx, run, true);
  const parsed = parseTcpdumpArgs(ctx.argv.slice(1));
  const saved = (ctx.saved as TcpdumpSaved | undefined) ?? { captured: 0, received: 0 };
  if (!parsed.ok || parsed.o.read !== undefined) return 0;
  if (!parsed.o.write) ctx.out('\n');
  ctx.err(summary(saved));
  return 0;
}

/** tcpdump -r FILE: prints (or with -w copies) the packets of a capture file that pass the filter. */
function readFile(ctx: ProgramContext, o: TcpdumpOptions, names: ReturnType<typeof tcpdumpNames>): number {
  const path = o.read!;
  const bytes = readBytes(ctx.fs, path);
  if (bytes === undefined) {
    ctx.err(`tcpdump: ${path}: No such file or directory\n`);
    return 1;
  }
  let cap;
  try {
    cap = readCapture(bytes);
  } catch (e) {
    if (!(e instanceof CaptureError)) throw e;
    ctx.err(bytes.length < 4 ? `tcpdump: truncated dump file; tried to read 4 file header bytes, only got ${bytes.length}\n` : 'tcpdump: unknown file format\n');
    return 1;
  }
  const iface = cap.interfaces[0] ?? { linkType: LINKTYPE_ETHERNET, snapLen: DEFAULT_SNAPLEN };
  ctx.err(`reading from file ${path}, link-type ${LINK_NAMES[iface.linkType] ?? String(iface.linkType)}, snapshot length ${iface.snapLen}\n`);
  if (iface.linkType === LINKTYPE_LINUX_SLL2) ctx.err('Warning: interface names might be incorrect\n');
  const compiled = compileFilter(o.filter, names.filter, 0, iface.linkType);
  if (!compiled.ok) {
    ctx.err(`tcpdump: ${compiled.error}\n`);
    return 1;
  }
  const printer = !o.write || o.print ? new PacketPrinter(o, names.print) : null;
  const out: PacketToWrite[] = [];
  let n = 0;
  let text = '';
  for (const p of cap.packets) {
    if (o.count && n >= o.count) break;
    // -s does not cut what a file holds: libpcap reads it with the file's own snapshot length.
    const data = p.data;
    if (!compiled.filter(data, p.origLen)) continue;
    n++;
    if (o.countOnly) continue;
    const usec = Math.floor(p.tsNsec / 1000);
    if (printer) text += printer.format({ tsSec: p.tsSec, tsUsec: usec, data, origLen: p.origLen }, p.linkType);
    if (o.write) out.push({ tsSec: p.tsSec, tsNsec: usec * 1000, data, origLen: p.origLen });
  }
  if (text) ctx.out(text);
  if (o.write) ctx.fs.writeBytes(o.write, writePcap(out, { linkType: iface.linkType, snapLen: iface.snapLen }));
  if (o.countOnly) ctx.out(`${n} packet${n === 1 ? '' : 's'}\n`);
  return 0;
}
