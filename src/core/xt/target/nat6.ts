/**
 * The IPv6 NAT targets (libxt_NAT's NFPROTO_IPV6 modules): SNAT, DNAT
 * (revision 2, shifted port maps), MASQUERADE and REDIRECT over
 * nf_nat_range2 with IPv6 addresses. Addresses with ports go in brackets:
 * "[addr[-addr]]:port[-port[/base]]".
 */
import { formatIPv6, ip6Equal, ip6Zero, parseIPv6, type IPv6 } from '../../addr/ipv6.js';
import { defineTarget, paramError, type OptionCall, type TargetDef } from '../index-types.js';
import { TARGET_HELP } from '../target-help.js';
import { emptyRange, NAT_FLAG, NAT_OPT, parsePorts, portOk } from './nat-range.js';
import { checkPlacement } from './target-util.js';

/** struct nf_nat_range2 with IPv6 addresses. */
export interface NatRange6 {
  /** NF_NAT_RANGE_* bits. */
  flags: number;
  minAddr: IPv6;
  maxAddr: IPv6;
  minPort: number;
  maxPort: number;
  /** First port of a shifted port map (PROTO_OFFSET); revision-1 layouts have no room for it. */
  basePort: number;
}

function emptyRange6(): NatRange6 {
  return { flags: 0, minAddr: ip6Zero(), maxAddr: ip6Zero(), minPort: 0, maxPort: 0, basePort: 0 };
}

/** parse_to for AF_INET6: "[addr[-addr]]:ports", or a bare "addr[-addr]" with no ports. */
function parseTo6(orig: string, portsOk: boolean, r: NatRange6, cb: OptionCall<unknown>): void {
  let start: string;
  let colonRest: string | undefined;
  let colonAt = -1;
  const open = orig.indexOf('[');
  if (open < 0) {
    start = orig;
    const c = orig.indexOf(':');
    if (c >= 0 && orig.indexOf(':', c + 1) < 0) {
      colonAt = c;
      colonRest = orig.slice(c + 1);
      start = orig.slice(0, c);
    }
  } else {
    const close = orig.indexOf(']', open + 1);
    if (close < 0) throw paramError('Invalid address format');
    start = orig.slice(open + 1, close);
    const c = orig.indexOf(':', close + 1);
    if (c >= 0) {
      colonAt = c;
      colonRest = orig.slice(c + 1);
    }
  }
  if (colonRest !== undefined) {
    const ports = emptyRange();
    parsePorts(colonRest, portsOk, ports, cb.names);
    r.flags |= ports.flags;
    r.minPort = ports.minPort;
    r.maxPort = ports.maxPort;
    r.basePort = ports.basePort;
    if (colonAt === 0 || colonAt === 2) return;
  }
  r.flags |= NAT_FLAG.MAP_IPS;
  const dash = start.indexOf('-');
  const lo = dash >= 0 ? start.slice(0, dash) : start;
  const min = parseIPv6(lo);
  if (!min) throw paramError(`Bad IP address "${lo}"`);
  r.minAddr = min;
  if (dash >= 0) {
    const hiText = start.slice(dash + 1);
    const max = parseIPv6(hiText);
    if (!max) throw paramError(`Bad IP address "${hiText}"`);
    r.maxAddr = max;
  } else r.maxAddr = min;
}

/** __NAT_parse with AF_INET6 into `r`. */
function parseNat6(cb: OptionCall<NatRange6>, r: NatRange6): void {
  cb.parseGeneric();
  switch (cb.entry.id) {
    case NAT_OPT.TO_DEST:
    case NAT_OPT.TO_SRC:
      parseTo6(cb.arg!, portOk(cb), r, cb);
      break;
    case NAT_OPT.TO_PORTS: {
      const ports = emptyRange();
      parsePorts(cb.arg!, portOk(cb), ports, cb.names);
      r.flags |= ports.flags;
      r.minPort = ports.minPort;
      r.maxPort = ports.maxPort;
      r.basePort = ports.basePort;
      break;
    }
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

/** NAT_parse6: revision-1 targets keep an nf_nat_range, which has no base port. */
function parseNat6v1(cb: OptionCall<NatRange6>): void {
  parseNat6(cb, cb.info);
  cb.info.basePort = 0;
}

/** sprint_range for AF_INET6: brackets around the addresses when ports follow. */
function rangeText6(r: NatRange6): string {
  const brackets = (r.flags & NAT_FLAG.PROTO_SPECIFIED) !== 0;
  let s = '';
  if (r.flags & NAT_FLAG.MAP_IPS) {
    s += brackets ? '[' : '';
    s += formatIPv6(r.minAddr);
    if (!ip6Equal(r.minAddr, r.maxAddr)) s += `-${formatIPv6(r.maxAddr)}`;
    s += brackets ? ']' : '';
  }
  if (r.flags & NAT_FLAG.PROTO_SPECIFIED) {
    s += `:${r.minPort}`;
    if (r.maxPort !== r.minPort) s += `-${r.maxPort}`;
    if (r.flags & NAT_FLAG.PROTO_OFFSET) s += `/${r.basePort}`;
  }
  return s;
}

/** __NAT_print for AF_INET6. */
function render6(r: NatRange6, label: string, flagPrefix: string, skipColon: boolean): string {
  let text = rangeText6(r);
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

/** DNAT_fcheck6: no shifted port maps in revision-1 layouts. */
function noShift(cb: { info: NatRange6 }): void {
  if (cb.info.flags & NAT_FLAG.PROTO_OFFSET) throw paramError('Shifted portmap ranges not supported with this kernel');
}

/** The IPv6 SNAT target (revision 1). */
export const SNAT6: TargetDef<NatRange6> = defineTarget<NatRange6>({
  name: 'SNAT',
  family: 'ipv6',
  revision: 1,
  help: () => TARGET_HELP['SNAT']!,
  tables: ['nat'],
  hooks: ['POSTROUTING', 'INPUT'],
  options: [
    { name: 'to-source', id: NAT_OPT.TO_SRC, type: 'string', mandatory: true },
    { name: 'random', id: NAT_OPT.RANDOM, type: 'none' },
    { name: 'random-fully', id: NAT_OPT.RANDOM_FULLY, type: 'none' },
    { name: 'persistent', id: NAT_OPT.PERSISTENT, type: 'none' },
  ],
  init: emptyRange6,
  parse: parseNat6v1,
  check: (_info, ctx) => checkPlacement(ctx, { table: 'nat', hooks: ['POSTROUTING', 'INPUT'] }),
  print: (info) => render6(info, 'to:', '', false),
  save: (info) => render6(info, '--to-source ', '--', false),
});

/** The IPv6 DNAT target (revision 2). */
export const DNAT6: TargetDef<NatRange6> = defineTarget<NatRange6>({
  name: 'DNAT',
  family: 'ipv6',
  revision: 2,
  help: () => TARGET_HELP['DNAT']!,
  tables: ['nat'],
  hooks: ['PREROUTING', 'OUTPUT'],
  options: [
    { name: 'to-destination', id: NAT_OPT.TO_DEST, type: 'string', mandatory: true },
    { name: 'random', id: NAT_OPT.RANDOM, type: 'none' },
    { name: 'persistent', id: NAT_OPT.PERSISTENT, type: 'none' },
  ],
  init: emptyRange6,
  parse: (cb) => parseNat6(cb, cb.info),
  check: (_info, ctx) => checkPlacement(ctx, { table: 'nat', hooks: ['PREROUTING', 'OUTPUT'] }),
  print: (info) => render6(info, 'to:', '', false),
  save: (info) => render6(info, '--to-destination ', '--', false),
});

/** The IPv6 MASQUERADE target. */
export const MASQUERADE6: TargetDef<NatRange6> = defineTarget<NatRange6>({
  name: 'MASQUERADE',
  family: 'ipv6',
  help: () => TARGET_HELP['MASQUERADE']!,
  tables: ['nat'],
  hooks: ['POSTROUTING'],
  options: [
    { name: 'to-ports', id: NAT_OPT.TO_PORTS, type: 'string' },
    { name: 'random', id: NAT_OPT.RANDOM, type: 'none' },
    { name: 'random-fully', id: NAT_OPT.RANDOM_FULLY, type: 'none' },
  ],
  init: emptyRange6,
  parse: parseNat6v1,
  check(info, ctx) {
    const where = checkPlacement(ctx, { table: 'nat', hooks: ['POSTROUTING'] });
    if (where) return where;
    return info.flags & NAT_FLAG.MAP_IPS ? { errno: 'EINVAL' } : undefined;
  },
  print: (info) => render6(info, 'masq ports: ', '', true),
  save: (info) => render6(info, '--to-ports ', '--', true),
});

/** The IPv6 REDIRECT target. */
export const REDIRECT6: TargetDef<NatRange6> = defineTarget<NatRange6>({
  name: 'REDIRECT',
  family: 'ipv6',
  help: () => TARGET_HELP['REDIRECT']!,
  tables: ['nat'],
  hooks: ['PREROUTING', 'OUTPUT'],
  options: [
    { name: 'to-ports', id: NAT_OPT.TO_PORTS, type: 'string' },
    { name: 'random', id: NAT_OPT.RANDOM, type: 'none' },
  ],
  init: emptyRange6,
  parse: parseNat6v1,
  final: noShift,
  check(info, ctx) {
    const where = checkPlacement(ctx, { table: 'nat', hooks: ['PREROUTING', 'OUTPUT'] });
    if (where) return where;
    return info.flags & NAT_FLAG.MAP_IPS ? { errno: 'EINVAL' } : undefined;
  },
  print: (info) => render6(info, 'redir ports ', '', true),
  save: (info) => render6(info, '--to-ports ', '--', true),
});
