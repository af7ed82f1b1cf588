/**
 * `nflab trace`: one packet, described on the command line or given as a
 * frame in hex, sent through a copy of the machine; prints its journey the
 * way `xtables-monitor --trace` shows nf_tables' trace (every base chain it
 * enters, every rule that matched, every policy), then what became of it
 * and what the machine sent because of it. The lab is not changed: a trace
 * asks "what if".
 */
import { formatIPv4, parseIPv4Numeric } from '../core/addr/ipv4.js';
import type { Fate, PathEvent } from '../core/path/events.js';
import { Machine } from '../core/path/machine.js';
import type { Ruleset } from '../core/netfilter/ruleset.js';
import { listChains } from '../core/netfilter/ruleset.js';
import type { TableName } from '../core/netfilter/tables.js';
import { UnsupportedInPath } from '../core/netfilter/traverse.js';
import { createNameDb, type NameDb } from '../core/xt/namedb.js';
import { toHex } from '../core/wire/bytes.js';
import { decodeFrame, encodeFrame, encodeIpv4, type FrameDesc, type PacketDesc } from '../core/wire/frame.js';
import { ICMP_NAMES } from '../core/xt/match/icmp-types.js';
import { saveRuleBody } from './iptables/format.js';
import { readLabFile } from './lab/store.js';
import { helpersNamedByRules, missingHelperNote } from '../core/conntrack/modules.js';
import type { Conn } from '../core/conntrack/types.js';
import type { HostState } from '../core/world/state.js';
import { get16, get32 } from '../core/wire/bytes.js';
import { describeFate, machineOf, withLabAt, type MachineCall, type MachineResult } from './machine.js';

const USAGE = `Usage: nflab trace [-i IFACE] [-p PROTO] [-s SRC] [-d DST] [--sport N] [--dport N]
                   [--syn | --flags FLAGS] [--icmp-type TYPE[/CODE]] [--ttl N] [--tos N]
                   [--seq N] [--ack N] [--window N] [--icmp-id N] [--icmp-seq N]
                   [--id N] [--no-df] [--len N]
                   [--mac-source MAC] [--json] [--apply]
       nflab trace [-i IFACE] --hex FRAME [--json] [--apply]
Without -i the packet is sent by the machine itself (it enters at OUTPUT).
The lab does not change unless --apply is given: then the packet really
happens (counters, connections, kernel log).
`;

/** The options of a trace. */
interface TraceArgs {
  iface?: string;
  proto: string;
  src?: string;
  dst?: string;
  sport?: number;
  dport?: number;
  flags?: string;
  icmp?: string;
  ttl: number;
  tos: number;
  id: number;
  df: boolean;
  len: number;
  macSource: string;
  hex?: string;
  json: boolean;
  icmpId: number;
  icmpSeq: number;
  seq: number;
  ack: number;
  window: number;
  apply: boolean;
}

class UsageError extends Error {}

const FLAG_LETTERS: Record<string, string> = { FIN: 'F', SYN: 'S', RST: 'R', PSH: 'P', ACK: 'A', URG: 'U', ECE: 'E', CWR: 'C' };

function parseArgs(argv: string[]): TraceArgs {
  const a: TraceArgs = { proto: 'tcp', ttl: 64, tos: 0, id: 1, df: true, len: 0, macSource: '02:00:00:00:00:fe', json: false, icmpId: 1, icmpSeq: 1, seq: 1000, ack: 0, window: 64240, apply: false };
  const num = (v: string | undefined, what: string, max: number) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) > max) throw new UsageError(`nflab trace: bad ${what} '${v ?? ''}'\n`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const o = argv[i]!;
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new UsageError(`nflab trace: option ${o} needs a value\n${USAGE}`);
      return x;
    };
    switch (o) {
      case '-i':
      case '--in-interface':
        a.iface = v();
        break;
      case '-p':
      case '--protocol':
        a.proto = v();
        break;
      case '-s':
      case '--source':
        a.src = v();
        break;
      case '-d':
      case '--destination':
        a.dst = v();
        break;
      case '--sport':
        a.sport = num(v(), 'port', 65535);
        break;
      case '--dport':
        a.dport = num(v(), 'port', 65535);
        break;
      case '--syn':
        a.flags = 'S';
        break;
      case '--flags': {
        const words = v().toUpperCase().split(',').filter(Boolean);
        let letters = '';
        for (const w of words) {
          if (w === 'NONE') continue;
          if (!FLAG_LETTERS[w]) throw new UsageError(`nflab trace: unknown TCP flag '${w}'\n`);
          letters += FLAG_LETTERS[w];
        }
        a.flags = letters;
        break;
      }
      case '--icmp-type':
        a.icmp = v();
        break;
      case '--ttl':
        a.ttl = num(v(), 'TTL', 255);
        break;
      case '--tos':
        a.tos = num(v(), 'TOS', 255);
        break;
      case '--id':
        a.id = num(v(), 'IP id', 65535);
        break;
      case '--df':
        a.df = true;
        break;
      case '--no-df':
        a.df = false;
        break;
      case '--len':
        a.len = num(v(), 'payload length', 65000);
        break;
      case '--mac-source':
        a.macSource = v();
        break;
      case '--hex':
        a.hex = v();
        break;
      case '--json':
        a.json = true;
        break;
      case '--apply':
        a.apply = true;
        break;
      case '--icmp-id':
        a.icmpId = num(v(), 'ICMP id', 65535);
        break;
      case '--icmp-seq':
        a.icmpSeq = num(v(), 'ICMP sequence', 65535);
        break;
      case '--seq':
        a.seq = num(v(), 'TCP sequence number', 0xffffffff);
        break;
      case '--ack':
        a.ack = num(v(), 'TCP acknowledgment number', 0xffffffff);
        break;
      case '--window':
        a.window = num(v(), 'TCP window', 65535);
        break;
      case '-h':
      case '--help':
        throw new UsageError(USAGE);
      default:
        throw new UsageError(`nflab trace: unknown option '${o}'\n${USAGE}`);
    }
  }
  return a;
}

function icmpTypeCode(text: string): { type: number; code: number } {
  const m = /^(\d+)(?:\/(\d+))?$/.exec(text);
  if (m) return { type: Number(m[1]), code: Number(m[2] ?? 0) };
  const named = ICMP_NAMES.find((n) => n.name === text);
  if (!named) throw new UsageError(`nflab trace: unknown ICMP type '${text}'\n`);
  return { type: named.type, code: named.codeMin };
}

function addr(text: string | undefined, fallback: number, what: string): string {
  if (text === undefined) return formatIPv4(fallback);
  const a = parseIPv4Numeric(text);
  if (a === undefined) throw new UsageError(`nflab trace: bad ${what} address '${text}'\n`);
  return formatIPv4(a);
}

/** The datagram (and its frame, for a received packet) the options describe. */
function buildPacket(a: TraceArgs, iface: { mac: string; addr: number } | null, localSrc: number): { frame?: Uint8Array; datagram: Uint8Array } {
  if (a.hex !== undefined) {
    const hex = a.hex.replace(/[\s:]/g, '');
    if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new UsageError('nflab trace: --hex wants an even number of hex digits\n');
    const bytes = new Uint8Array(hex.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
    return iface ? { frame: bytes, datagram: bytes.subarray(14) } : { datagram: bytes };
  }
  const proto = a.proto.toLowerCase();
  const p: PacketDesc = {
    ipv4: {
      src: addr(a.src, iface ? 0x0a000002 : localSrc, 'source'),
      dst: addr(a.dst, iface ? iface.addr : 0x0a000002, 'destination'),
      ttl: a.ttl,
      tos: a.tos,
      id: a.id,
      df: a.df,
    },
    payload: new Uint8Array(a.len),
  };
  if (proto === 'tcp' || proto === '6') p.tcp = { sport: a.sport ?? 40000, dport: a.dport ?? 22, flags: a.flags ?? 'S', seq: a.seq, ack: a.ack, window: a.window };
  else if (proto === 'udp' || proto === '17') p.udp = { sport: a.sport ?? 40000, dport: a.dport ?? 53 };
  else if (proto === 'icmp' || proto === '1') {
    const tc = icmpTypeCode(a.icmp ?? 'echo-request');
    p.icmp = { type: tc.type, code: tc.code, id: a.icmpId, seq: a.icmpSeq };
  } else if (/^\d+$/.test(proto) && Number(proto) < 256) p.ipv4!.proto = Number(proto);
  else throw new UsageError(`nflab trace: unknown protocol '${a.proto}'\n`);
  if (!iface) return { datagram: encodeIpv4(p) };
  const f: FrameDesc = { ...p, eth: { src: a.macSource, dst: iface.mac } };
  const frame = encodeFrame(f);
  return { frame, datagram: frame.subarray(14) };
}

/** ether_ntoa's form: hex bytes without leading zeros. */
function etherNtoa(mac: Uint8Array, off: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 6; i++) parts.push(mac[off + i]!.toString(16));
  return parts.join(':');
}

/** A PACKET line of xtables-monitor --trace. */
function packetLine(e: Extract<PathEvent, { kind: 'chain' }>, id: string): string {
  let s = `PACKET: 2 ${id} `;
  if (e.in) s += `IN=${e.in} `;
  if (e.out) s += `OUT=${e.out} `;
  if (e.mac && e.mac.length >= 14) {
    s += `MACSRC=${etherNtoa(e.mac, 6)} MACDST=${etherNtoa(e.mac, 0)} MACPROTO=${((e.mac[12]! << 8) | e.mac[13]!).toString(16).padStart(4, '0')} `;
  }
  const d = e.datagram;
  const u16 = (o: number) => (d[o]! << 8) | d[o + 1]!;
  const ip = (o: number) => `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
  s += `SRC=${ip(12)} DST=${ip(16)} LEN=${u16(2)} TOS=0x${d[1]!.toString(16)} TTL=${d[8]} ID=${u16(4)} `;
  const frag = u16(6);
  if (frag & 0x8000) s += 'CE ';
  if (frag & 0x4000) s += 'DF ';
  if (frag & 0x2000) s += 'MF ';
  if (frag & 0x1fff) s += `FRAG:${frag & 0x1fff} `;
  const ihl = (d[0]! & 15) * 4;
  if (ihl > 20) {
    s += 'OPT (';
    for (let i = 20; i < ihl; i++) s += d[i]!.toString(16).toUpperCase().padStart(2, '0');
    s += ') ';
  }
  const proto = d[9]!;
  const th = ihl;
  if ((frag & 0x1fff) === 0) {
    if ((proto === 17 || proto === 33 || proto === 132 || proto === 136) && d.length >= th + 4) s += `SPORT=${u16(th)} DPORT=${u16(th + 2)} `;
    if (proto === 6 && d.length >= th + 20) {
      s += `SPORT=${u16(th)} DPORT=${u16(th + 2)} `;
      const f = d[th + 13]!;
      if (f & 2) s += 'SYN ';
      if (f & 16) s += 'ACK ';
      if (f & 1) s += 'FIN ';
      if (f & 4) s += 'RST ';
      if (f & 8) s += 'PSH ';
      if (f & 32) s += 'URG ';
    }
  }
  if (e.mark) s += `MARK=0x${(e.mark >>> 0).toString(16)} `;
  return s + '\n';
}

/** One event as xtables-monitor prints it. */
function traceLine(e: PathEvent, id: string, rs: Ruleset, names: NameDb): string {
  switch (e.kind) {
    case 'chain':
      return packetLine(e, id);
    case 'rule': {
      const chain = listChains(rs, e.table as TableName).find((c) => c.name === e.chain);
      const rule = chain?.rules[e.index - 1];
      // the rule's nf_tables handle, kept with the rule set as the kernel gave it
      const handle = rule ? rule.handle : 0;
      const text = rule ? `-4 -t ${e.table} -A ${e.chain}${saveRuleBody(rule, false, names)}` : '';
      return ` TRACE: 2 ${id} ${e.table}:${e.chain}:rule:0x${handle.toString(16)}:${e.verdict}  ${text}\n`;
    }
    case 'policy':
      return ` TRACE: 2 ${id} ${e.table}:${e.chain}:policy:${e.verdict} \n`;
    default:
      return '';
  }
}

/** A frame in one line: interface, addresses, protocol summary. */
function frameSummary(iface: string, frame: Uint8Array): string {
  const f = decodeFrame(frame);
  if (f.arp) return `${iface}: ARP ${f.arp.op === 1 ? `who-has ${f.arp.tpa} tell ${f.arp.spa}` : `${f.arp.spa} is-at ${f.arp.sha}`}`;
  if (!f.ipv4) return `${iface}: ethertype 0x${(f.eth?.type ?? 0).toString(16).padStart(4, '0')}`;
  let s = `${iface}: ${f.ipv4.src} > ${f.ipv4.dst}`;
  if (f.tcp) s += ` TCP ${f.tcp.sport} > ${f.tcp.dport} flags ${f.tcp.flags || '.'} seq ${f.tcp.seq} ack ${f.tcp.ack} win ${f.tcp.window}`;
  else if (f.udp) s += ` UDP ${f.udp.sport} > ${f.udp.dport}`;
  else if (f.icmp) s += ` ICMP type ${f.icmp.type} code ${f.icmp.code}`;
  else s += ` proto ${f.ipv4.proto}`;
  return s + ` (${frame.length} bytes)`;
}

/** `nflab trace ...` */
export function runTrace(argv: string[], call: MachineCall): MachineResult {
  let args: TraceArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) return { stdout: e.message === USAGE ? USAGE : '', stderr: e.message === USAGE ? '' : e.message, status: e.message === USAGE ? 0 : 2 };
    throw e;
  }
  let out: MachineResult = { stdout: '', stderr: '', status: 0 };
  let note: string | null = null;
  let events: PathEvent[] = [];
  let ruleset: Ruleset | undefined;
  let machine: Machine | undefined;
  const done = withLabAt(call, (state, machineOpts, host) => {
    // without --apply, a copy: the lab is not changed
    const m = args.apply ? machineOf(state) : structuredClone(machineOf(state));
    ruleset = args.apply ? state.ruleset : structuredClone(state.ruleset);
    let iface: { mac: string; addr: number } | null = null;
    if (args.iface !== undefined) {
      const link = m.net.links.find((l) => l.name === args.iface);
      if (!link) return { result: { stdout: '', stderr: `nflab trace: Cannot find device "${args.iface}"\n`, status: 1 }, changed: false };
      iface = { mac: link.mac, addr: link.inet[0]?.local ?? 0 };
    }
    const localSrc = m.net.links.flatMap((l) => l.inet).find((a) => a.scope === 0)?.local ?? 0x7f000001;
    let packet;
    try {
      packet = buildPacket(args, iface, localSrc);
    } catch (e) {
      const msg = e instanceof UsageError ? e.message : `nflab trace: ${(e as Error).message}\n`;
      return { result: { stdout: '', stderr: msg, status: 2 }, changed: false };
    }
    try {
      machine = new Machine(m, ruleset, { ...machineOpts, listener: (e) => events.push(e), traceAll: true });
    } catch (e) {
      if (e instanceof UnsupportedInPath) return { result: { stdout: '', stderr: `nflab trace: ${e.message}\n`, status: 1 }, changed: false };
      throw e;
    }
    if (packet.frame && args.iface) machine.receive(args.iface, packet.frame);
    else machine.originate(packet.datagram);
    note = helperNote(machine, packet.datagram, host);
    machine.save();
    return { result: out, changed: args.apply };
  });
  if (done !== out) return done;
  if (!machine || !ruleset) return done;
  const names = createNameDb(readLabFile(call.lab, '/etc/hosts') ?? '', readLabFile(call.lab, '/etc/networks'));
  const mach = machine as Machine;
  // each packet gets its own trace id, as the kernel gives each skb one (a keyed hash there)
  const idOf = (p: number) => traceId(p, mach.state.bootWall);
  if (args.json) {
    const list = events.map((e) => jsonEvent(e, idOf));
    return { stdout: JSON.stringify({ events: list }, null, 2) + '\n', stderr: '', status: 0 };
  }
  let text = '';
  // the traced packet is the first one; the others are what it made the machine send
  const traced = events.length ? events[0]!.packet : 0;
  for (const e of events) {
    if (e.kind === 'rx' || e.kind === 'tx') {
      if (e.kind === 'tx') text += `sent ${frameSummary(e.iface, e.frame)}\n`;
      continue;
    }
    if (e.kind === 'fate') {
      text += `${e.packet === traced ? 'verdict' : 'reply'}: ${describeFate(e.fate as Fate)}\n`;
      continue;
    }
    text += traceLine(e, idOf(e.packet), ruleset, names);
  }
  if (note) text += `note: ${note}\n`;
  return { stdout: text, stderr: '', status: 0 };
}

/**
 * Why a connection the traced packet belongs to got no conntrack helper
 * although the host loaded one for its port (helpers are no longer
 * attached by port), or null.
 */
function helperNote(machine: Machine, datagram: Uint8Array, host: HostState | undefined): string | null {
  if (!host || datagram.length < 24) return null;
  const ihl = (datagram[0]! & 15) * 4;
  const src = get32(datagram, 12);
  const dst = get32(datagram, 16);
  const proto = datagram[9]!;
  const sport = get16(datagram, ihl);
  const dport = get16(datagram, ihl + 2);
  let found: Conn | undefined;
  machine.conntrack.forEach((c) => {
    const o = c.orig;
    if (o.proto === proto && o.src === src && o.dst === dst && o.sport === sport && o.dport === dport) found ??= c;
  });
  if (found) return missingHelperNote(host, found);
  // the connection is already gone (a reset killed it): judge by the rules, which attach no helper
  if (helpersNamedByRules(machine.ruleset).length > 0) return null;
  const t = { src, dst, proto, sport, dport };
  return missingHelperNote(host, { helper: '', master: 0, orig: t, reply: t } as unknown as Conn);
}


/** A trace id for packet number `p`: a mix of the number and the machine's boot time. */
function traceId(p: number, key: number): string {
  let x = (Math.imul(p, 0x9e3779b1) ^ Math.imul(key | 0, 0x85ebca6b)) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return (x >>> 0).toString(16).padStart(8, '0');
}

/** An event as plain JSON (bytes as hex). */
function jsonEvent(e: PathEvent, idOf: (p: number) => string): unknown {
  switch (e.kind) {
    case 'rx':
    case 'tx':
      return { kind: e.kind, packet: e.packet, iface: e.iface, frame: toHex(e.frame), decoded: decodeFrame(e.frame), ns: e.ns };
    case 'chain':
      return { kind: e.kind, packet: e.packet, id: idOf(e.packet), table: e.table, hook: e.hook, in: e.in, out: e.out, datagram: toHex(e.datagram), mark: e.mark };
    default:
      return { ...e, id: idOf(e.packet) };
  }
}
