/**
 * The multiport match (revision 1, the one iptables 1.8.9 uses): up to 15
 * source, destination or either-side ports, where a range takes two slots,
 * with an optional `!` on the whole list.
 */
import { parsePort, portName } from '../ports.js';
import { IPT_INV, defineMatch, paramError, type NameDb } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_multiport_v1 data. */
export interface MultiportInfo {
  /** XT_MULTIPORT_SOURCE (0), DESTINATION (1) or EITHER (2). */
  flags: number;
  /** Number of used slots in ports. */
  count: number;
  ports: number[];
  /** pflags[i] = 1: ports[i] and ports[i+1] form a range. */
  pflags: number[];
  invert: number;
}

/** XT_MULTI_PORTS: slots in the kernel structure. */
export const MULTI_PORTS = 15;

const KIND: Record<number, string> = { 0: 'sports', 1: 'dports', 2: 'ports' };

/** Protocols multiport works with, by number. */
const PROTO_NAMES: Record<number, string> = { 6: 'tcp', 17: 'udp', 136: 'udplite', 132: 'sctp', 33: 'dccp' };

function protoName(proto: number, invflags: number): string {
  if (invflags & IPT_INV.PROTO) throw paramError('multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP');
  const name = PROTO_NAMES[proto];
  if (name) return name;
  if (proto === 0)
    throw paramError("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'");
  throw paramError('multiport only works with TCP, UDP, UDPLITE, SCTP and DCCP');
}

/** Parses a comma list of ports and lo:hi ranges into slots. */
function parseList(names: NameDb, text: string, proto: string, info: MultiportInfo): void {
  const ports: number[] = [];
  const pflags: number[] = [];
  const items = text.split(',');
  let k = 0;
  for (; k < items.length && ports.length < MULTI_PORTS; k++) {
    const item = items[k]!;
    const colon = item.indexOf(':');
    if (colon < 0) {
      ports.push(parsePort(names, item, proto));
      pflags.push(0);
      continue;
    }
    if (ports.length === MULTI_PORTS - 1) throw paramError('too many ports specified');
    const lo = parsePort(names, item.slice(0, colon), proto);
    ports.push(lo);
    pflags.push(1);
    const hi = parsePort(names, item.slice(colon + 1), proto);
    ports.push(hi);
    pflags.push(0);
    if (lo >= hi) throw paramError('invalid portrange specified');
  }
  if (k < items.length) throw paramError('too many ports specified');
  info.ports = ports;
  info.pflags = pflags;
  info.count = ports.length;
}

function portList(info: MultiportInfo, fmt: (p: number) => string): string {
  let s = '';
  for (let i = 0; i < info.count; i++) {
    s += (i ? ',' : '') + fmt(info.ports[i]!);
    if (info.pflags[i]) s += ':' + fmt(info.ports[++i]!);
  }
  return s;
}

/** The multiport match definition, revision 1. */
export const multiport = defineMatch<MultiportInfo>({
  name: 'multiport',
  help: () => PROTO_HELP['multiport']!,
  revision: 1,
  options: [
    { name: 'source-ports', id: 0, type: 'string', invert: true, excl: [0, 1, 2] },
    { name: 'sports', id: 0, type: 'string', invert: true, excl: [0, 1, 2] },
    { name: 'destination-ports', id: 1, type: 'string', invert: true, excl: [0, 1, 2] },
    { name: 'dports', id: 1, type: 'string', invert: true, excl: [0, 1, 2] },
    { name: 'ports', id: 2, type: 'string', invert: true, excl: [0, 1, 2] },
  ],
  init: () => ({ flags: 0, count: 0, ports: [], pflags: [], invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const proto = protoName(cb.rule.proto, cb.rule.invflags);
    parseList(cb.names, cb.arg!, proto, cb.info);
    cb.info.flags = cb.entry.id;
    if (cb.invert) cb.info.invert = 1;
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError('multiport expection an option');
  },
  check(info, ctx) {
    const p = ctx.rule.proto;
    const ok =
      PROTO_NAMES[p] !== undefined && !(ctx.rule.invflags & IPT_INV.PROTO) && KIND[info.flags] !== undefined && info.count <= MULTI_PORTS;
    return ok ? undefined : { errno: 'EINVAL' };
  },
  print(info, { names, numeric, rule }) {
    const proto = PROTO_NAMES[rule.proto];
    const fmt = (p: number) => (proto ? portName(names, p, proto, numeric) : String(p));
    return ` multiport ${KIND[info.flags] ?? 'ERROR'} ${info.invert ? ' !' : ''}${portList(info, fmt)}`;
  },
  save(info) {
    const kind = KIND[info.flags];
    return `${info.invert ? ' !' : ''}${kind ? ` --${kind} ` : ''}${portList(info, String)}`;
  },
  match(info, ctx) {
    if (ctx.fragoff !== 0) return false;
    const d = ctx.skb.data;
    const t = ctx.thoff;
    if (d.length < t + 4) {
      ctx.hotdrop = true;
      return false;
    }
    return portsMatch(info, (d[t]! << 8) | d[t + 1]!, (d[t + 2]! << 8) | d[t + 3]!);
  },
});

/** ports_match_v1: the first slot (port or range) that matches decides. */
function portsMatch(info: MultiportInfo, src: number, dst: number): boolean {
  const inv = info.invert !== 0;
  for (let i = 0; i < info.count; i++) {
    const s = info.ports[i]!;
    const e = info.pflags[i] ? info.ports[++i]! : s;
    const hitS = src >= s && src <= e;
    const hitD = dst >= s && dst <= e;
    if (info.flags === 0 ? hitS : info.flags === 1 ? hitD : info.flags === 2 ? hitS || hitD : false) return !inv;
  }
  return inv;
}
