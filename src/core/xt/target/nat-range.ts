/**
 * What the NAT targets (SNAT, DNAT, MASQUERADE, REDIRECT) share: the
 * address and port range they map to (nf_nat_range2), its parser for
 * "[addr[-addr]][:port[-port[/port]]]" and its -L and save renderings.
 */
import { formatIPv4 } from '../../addr/ipv4.js';
import { scanUnsigned } from '../../util/cnum.js';
import { paramError, type NameDb, type OptionCall } from '../index-types.js';
import { inetPton4 } from './target-util.js';

/** NF_NAT_RANGE_* flag bits. */
export const NAT_FLAG = {
  MAP_IPS: 0x01,
  PROTO_SPECIFIED: 0x02,
  PROTO_RANDOM: 0x04,
  PERSISTENT: 0x08,
  PROTO_RANDOM_FULLY: 0x10,
  PROTO_OFFSET: 0x20,
  NETMAP: 0x40,
} as const;

/**
 * A NAT mapping (nf_nat_range2; revision-0 targets keep it in
 * nf_nat_ipv4_multi_range_compat, which has no room for `basePort`).
 */
export interface NatRange {
  /** Number of ranges (always 1; only the compat layout has the field). */
  rangesize: number;
  /** NF_NAT_RANGE_* bits. */
  flags: number;
  minIp: number;
  maxIp: number;
  minPort: number;
  maxPort: number;
  /** First port of a shifted port map (PROTO_OFFSET). */
  basePort: number;
}

/** An empty mapping. */
export function emptyRange(): NatRange {
  return { rangesize: 0, flags: 0, minIp: 0, maxIp: 0, minPort: 0, maxPort: 0, basePort: 0 };
}

/** Option ids of libxt_NAT. */
export const NAT_OPT = { TO_DEST: 0, TO_SRC: 1, TO_PORTS: 2, RANDOM: 3, RANDOM_FULLY: 4, PERSISTENT: 5 } as const;

/** Layer-4 protocols whose ports can be mapped (tcp, udp, sctp, dccp and icmp ids). */
const PORT_PROTOS = [6, 17, 132, 33, 1];

/**
 * xtables_strtoui with an end pointer: a C number 0..max at the start of
 * `s`. Returns undefined when there is none or it is out of range.
 */
function strtouiAt(s: string, min: number, max: number): { value: number; rest: string } | undefined {
  const r = scanUnsigned(s, 0);
  if (!r.ok || r.negative || r.value < min || r.value > max) return undefined;
  return { value: r.value, rest: s.slice(r.end) };
}

/** xtables_service_to_port(name, NULL): a service of any protocol, or -1. */
function serviceToPort(names: NameDb, name: string): number {
  return names.servicePort(name) ?? -1;
}

/** parse_ports: "port", "port-port" or "port-port/base" into `r`. */
export function parsePorts(arg: string, portOk: boolean, r: NatRange, names: NameDb): void {
  if (!portOk) throw paramError('Need TCP, UDP, SCTP or DCCP with port specification');
  r.flags |= NAT_FLAG.PROTO_SPECIFIED;
  let port: number;
  let rest: string;
  const first = strtouiAt(arg, 0, 0xffff);
  if (first) {
    port = first.value;
    rest = first.rest;
  } else {
    port = serviceToPort(names, arg);
    if (port === -1) throw paramError(`Port \`${arg}' not valid`);
    rest = '';
  }
  if (rest === '') {
    r.minPort = r.maxPort = port;
    return;
  }
  if (rest[0] === ':') throw paramError('Invalid port:port syntax - use dash');
  if (rest[0] !== '-') throw paramError(`Garbage after port value: \`${rest}'`);
  const hiText = rest.slice(1);
  const hi = strtouiAt(hiText, 0, 0xffff);
  if (!hi) throw paramError(`Port \`${hiText}' not valid`);
  if (hi.value < port) throw paramError(`Port range \`${hiText}' funky`);
  r.minPort = port;
  r.maxPort = hi.value;
  if (hi.rest === '') return;
  if (hi.rest[0] !== '/') throw paramError(`Garbage after port range: \`${hi.rest}'`);
  const baseText = hi.rest.slice(1);
  const base = strtouiAt(baseText, 1, 0xffff);
  let basePort = base?.value ?? -1;
  if (!base) {
    basePort = serviceToPort(names, baseText);
    if (basePort === -1) throw paramError(`Port \`${baseText}' not valid`);
  }
  r.flags |= NAT_FLAG.PROTO_OFFSET;
  r.basePort = basePort;
}

/** parse_to: "[addr[-addr]][:ports]" for --to-source and --to-destination. */
export function parseTo(orig: string, portOk: boolean, r: NatRange, names: NameDb): void {
  // A '[' starts an IPv6 address, which an IPv4 rule never takes.
  if (orig.includes('[')) throw paramError('Invalid address format');
  let colon = orig.indexOf(':');
  // Two colons: an IPv6 address rather than a port.
  if (colon >= 0 && orig.indexOf(':', colon + 1) >= 0) colon = -1;
  let addrs = orig;
  if (colon >= 0) {
    parsePorts(orig.slice(colon + 1), portOk, r, names);
    // Nothing before the colon (or the two characters of "[]"): no address.
    if (colon === 0 || colon === 2) return;
    addrs = orig.slice(0, colon);
  }
  r.flags |= NAT_FLAG.MAP_IPS;
  const dash = addrs.indexOf('-');
  const lo = dash >= 0 ? addrs.slice(0, dash) : addrs;
  const min = inetPton4(lo);
  if (min === undefined) throw paramError(`Bad IP address "${lo}"`);
  r.minIp = min;
  if (dash >= 0) {
    const hiText = addrs.slice(dash + 1);
    const max = inetPton4(hiText);
    if (max === undefined) throw paramError(`Bad IP address "${hiText}"`);
    r.maxIp = max;
  } else {
    r.maxIp = min;
  }
}

/** Whether the rule's protocol allows a port specification. */
export function portOk(cb: OptionCall<unknown>): boolean {
  return PORT_PROTOS.includes(cb.rule.proto);
}

/**
 * __NAT_parse for the option being handled, into `r`: --to-*, --to-ports
 * and the flag options.
 */
export function parseNatOption(cb: OptionCall<unknown>, r: NatRange): void {
  cb.parseGeneric();
  switch (cb.entry.id) {
    case NAT_OPT.TO_DEST:
    case NAT_OPT.TO_SRC:
      parseTo(cb.arg!, portOk(cb), r, cb.names);
      break;
    case NAT_OPT.TO_PORTS:
      parsePorts(cb.arg!, portOk(cb), r, cb.names);
      break;
    case NAT_OPT.PERSISTENT:
      r.flags |= NAT_FLAG.PERSISTENT;
      break;
    case NAT_OPT.RANDOM:
      r.flags |= NAT_FLAG.PROTO_RANDOM;
      break;
    case NAT_OPT.RANDOM_FULLY:
      r.flags |= NAT_FLAG.PROTO_RANDOM_FULLY;
      break;
  }
}

/**
 * NAT_parse for the revision-0 targets: the option is parsed into a fresh
 * range whose parts are then copied into the compat layout, which drops the
 * shifted-map base port (its flag stays).
 */
export function parseNatCompat(cb: OptionCall<NatRange>): void {
  const fresh = emptyRange();
  parseNatOption(cb, fresh);
  const info = cb.info;
  const id = cb.entry.id;
  if (id === NAT_OPT.TO_DEST || id === NAT_OPT.TO_SRC) {
    info.minIp = fresh.minIp;
    info.maxIp = fresh.maxIp;
  }
  if (id === NAT_OPT.TO_DEST || id === NAT_OPT.TO_SRC || id === NAT_OPT.TO_PORTS) {
    info.minPort = fresh.minPort;
    info.maxPort = fresh.maxPort;
  }
  info.flags |= fresh.flags;
}

/** sprint_range: the mapping as "addr[-addr][:port[-port][/base]]". */
function rangeText(r: NatRange): string {
  let s = '';
  if (r.flags & NAT_FLAG.MAP_IPS) {
    s += formatIPv4(r.minIp);
    if (r.minIp !== r.maxIp) s += `-${formatIPv4(r.maxIp)}`;
  }
  if (r.flags & NAT_FLAG.PROTO_SPECIFIED) {
    s += `:${r.minPort}`;
    if (r.maxPort !== r.minPort) s += `-${r.maxPort}`;
    if (r.flags & NAT_FLAG.PROTO_OFFSET) s += `/${r.basePort}`;
  }
  return s;
}

/**
 * __NAT_print: the range after `label` (e.g. "to:", "--to-source "), then
 * the flag words prefixed by `flagPrefix` ("" for -L, "--" for save).
 * `skipColon` drops the colon of a ports-only range (MASQUERADE, REDIRECT).
 */
export function natRender(r: NatRange, label: string, flagPrefix: string, skipColon: boolean): string {
  let text = rangeText(r);
  let s = '';
  if (text !== '') {
    if (text[0] === ':' && skipColon) text = text.slice(1);
    s += ` ${label}${text}`;
  }
  if (r.flags & NAT_FLAG.PROTO_RANDOM) s += ` ${flagPrefix}random`;
  if (r.flags & NAT_FLAG.PROTO_RANDOM_FULLY) s += ` ${flagPrefix}random-fully`;
  if (r.flags & NAT_FLAG.PERSISTENT) s += ` ${flagPrefix}persistent`;
  return s;
}
