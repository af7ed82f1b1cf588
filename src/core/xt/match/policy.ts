/**
 * The policy match: the IPsec policy a packet was decapsulated with (--dir
 * in) or will be encapsulated with (--dir out), or none; with --strict, an
 * exact list of up to four policy elements separated by --next.
 */
import { formatIPv4, maskToListSuffix } from '../../addr/ipv4.js';
import { formatIPv6, ip6MaskToNumeric, type IPv6 } from '../../addr/ipv6.js';
import { parseHostMask6 } from '../addr6-opts.js';
import { defineMatch, paramError, type NameDb } from '../index-types.js';
import { createNameDb } from '../namedb.js';
import { hooksOnly, parseHostMask } from './conn-util.js';

/** The save form names protocols too (getprotobynumber); /etc/protocols is the same on every lab host. */
const PROTOCOLS = createNameDb();

/** One xt_policy_elem (IPv4). */
export interface PolicyElem {
  /** Tunnel addresses: numbers in iptables rules, four words in ip6tables rules. */
  saddr: number | IPv6;
  smask: number | IPv6;
  daddr: number | IPv6;
  dmask: number | IPv6;
  spi: number;
  reqid: number;
  proto: number;
  mode: number;
  /** Which fields are matched (reqid, spi, saddr, daddr, proto, mode). */
  match: PolicyFlags;
  /** Which of them are negated. */
  invert: PolicyFlags;
}

/** The per-field bits of xt_policy_spec. */
export interface PolicyFlags {
  saddr: boolean;
  daddr: boolean;
  proto: boolean;
  mode: boolean;
  spi: boolean;
  reqid: boolean;
}

/** xt_policy_info (IPv4). */
export interface PolicyInfo {
  pol: PolicyElem[];
  /** XT_POLICY_MATCH_* bits. */
  flags: number;
  len: number;
}

/** XT_POLICY_MATCH_* bits. */
export const POLICY = { IN: 1, OUT: 2, NONE: 4, STRICT: 8 } as const;
/** XT_POLICY_MODE_*. */
const MODE_TRANSPORT = 0;
const MODE_TUNNEL = 1;
/** XT_POLICY_MAX_ELEM. */
const MAX_ELEM = 4;

const noFlags = (): PolicyFlags => ({ saddr: false, daddr: false, proto: false, mode: false, spi: false, reqid: false });

function emptyElem(): PolicyElem {
  return { saddr: 0, smask: 0, daddr: 0, dmask: 0, spi: 0, reqid: 0, proto: 0, mode: 0, match: noFlags(), invert: noFlags() };
}

function elem(info: PolicyInfo): PolicyElem {
  while (info.pol.length <= info.len) info.pol.push(emptyElem());
  return info.pol[info.len]!;
}

function double(opt: string): Error {
  return paramError(`policy match: double --${opt} option`);
}

/** print_entry: one element's fields in a fixed order. */
function entry(prefix: string, e: PolicyElem, numeric: boolean, names: NameDb | undefined): string {
  const inv = (b: boolean) => (b ? ' !' : '');
  let s = '';
  if (e.match.reqid) s += `${inv(e.invert.reqid)} ${prefix}reqid ${e.reqid}`;
  if (e.match.spi) s += `${inv(e.invert.spi)} ${prefix}spi 0x${(e.spi >>> 0).toString(16)}`;
  if (e.match.proto) {
    const name = !numeric && names ? names.protoName(e.proto) : undefined;
    s += `${inv(e.invert.proto)} ${prefix}proto ${name ?? e.proto}`;
  }
  if (e.match.mode) {
    const mode = e.mode === MODE_TRANSPORT ? 'transport' : e.mode === MODE_TUNNEL ? 'tunnel' : '???';
    s += `${inv(e.invert.mode)} ${prefix}mode ${mode}`;
  }
  if (e.match.daddr) s += `${inv(e.invert.daddr)} ${prefix}tunnel-dst ${addrMaskText(e.daddr, e.dmask)}`;
  if (e.match.saddr) s += `${inv(e.invert.saddr)} ${prefix}tunnel-src ${addrMaskText(e.saddr, e.smask)}`;
  return s;
}

function flagsText(prefix: string, info: PolicyInfo): string {
  let s = info.flags & POLICY.IN ? ` ${prefix}dir in` : ` ${prefix}dir out`;
  s += info.flags & POLICY.NONE ? ` ${prefix}pol none` : ` ${prefix}pol ipsec`;
  if (info.flags & POLICY.STRICT) s += ` ${prefix}strict`;
  return s;
}

/** What `iptables -m policy -h` adds after the general help. */
const HELP =
  'policy match options:\n' +
  '  --dir in|out\t\t\tmatch policy applied during decapsulation/\n' +
  '\t\t\t\tpolicy to be applied during encapsulation\n' +
  '  --pol none|ipsec\t\tmatch policy\n' +
  '  --strict \t\t\tmatch entire policy instead of single element\n' +
  '\t\t\t\tat any position\n' +
  'These options may be used repeatedly, to describe policy elements:\n' +
  '[!] --reqid reqid\t\tmatch reqid\n' +
  '[!] --spi spi\t\t\tmatch SPI\n' +
  '[!] --proto proto\t\tmatch protocol (ah/esp/ipcomp)\n' +
  '[!] --mode mode \t\tmatch mode (transport/tunnel)\n' +
  '[!] --tunnel-src addr/mask\tmatch tunnel source\n' +
  '[!] --tunnel-dst addr/mask\tmatch tunnel destination\n' +
  '  --next \t\t\tbegin next element in policy\n';

/** The policy match (-m policy). */
export const policy = defineMatch<PolicyInfo>({
  name: 'policy',
  help: () => HELP,
  options: [
    { name: 'dir', id: 0, type: 'string' },
    { name: 'pol', id: 1, type: 'string' },
    { name: 'strict', id: 2, type: 'none' },
    { name: 'reqid', id: 3, type: 'uint32', multi: true, invert: true },
    { name: 'spi', id: 4, type: 'uint32', multi: true, invert: true },
    { name: 'tunnel-src', id: 7, type: 'string', multi: true, invert: true },
    { name: 'tunnel-dst', id: 8, type: 'string', multi: true, invert: true },
    { name: 'proto', id: 5, type: 'protocol', multi: true, invert: true },
    { name: 'mode', id: 6, type: 'string', multi: true, invert: true },
    { name: 'next', id: 9, type: 'none', multi: true, also: [2] },
  ],
  init: () => ({ pol: [], flags: 0, len: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const arg = cb.arg ?? '';
    switch (cb.entry.id) {
      case 0:
        if (arg === 'in') info.flags |= POLICY.IN;
        else if (arg === 'out') info.flags |= POLICY.OUT;
        else throw paramError(`policy_match: invalid dir "${arg}"`);
        break;
      case 1:
        if (arg === 'none') info.flags |= POLICY.NONE;
        else if (arg !== 'ipsec') throw paramError(`policy match: invalid policy "${arg}"`);
        break;
      case 2:
        info.flags |= POLICY.STRICT;
        break;
      case 3: {
        const e = elem(info);
        if (e.match.reqid) throw double('reqid');
        e.match.reqid = true;
        e.invert.reqid = cb.invert;
        e.reqid = cb.val.num!;
        break;
      }
      case 4: {
        const e = elem(info);
        if (e.match.spi) throw double('spi');
        e.match.spi = true;
        e.invert.spi = cb.invert;
        e.spi = cb.val.num!;
        break;
      }
      case 7:
      case 8: {
        const src = cb.entry.id === 7;
        const e = elem(info);
        if (src ? e.match.saddr : e.match.daddr) throw double(cb.entry.name);
        const hm =
          cb.family === 'ipv6'
            ? parseHostMask6(cb.names, cb.extName, cb.entry.name, arg)
            : parseHostMask(cb.names, cb.extName, cb.entry.name, arg);
        if (src) {
          e.match.saddr = true;
          e.invert.saddr = cb.invert;
          e.saddr = hm.addr;
          e.smask = hm.mask;
        } else {
          e.match.daddr = true;
          e.invert.daddr = cb.invert;
          e.daddr = hm.addr;
          e.dmask = hm.mask;
        }
        break;
      }
      case 5: {
        const e = elem(info);
        if (e.match.proto) throw double('proto');
        e.proto = cb.val.num!;
        if (e.proto !== 51 && e.proto !== 50 && e.proto !== 108)
          throw paramError('policy match: protocol must be ah/esp/ipcomp');
        e.match.proto = true;
        e.invert.proto = cb.invert;
        break;
      }
      case 6: {
        const e = elem(info);
        if (e.match.mode) throw double('mode');
        e.match.mode = true;
        e.invert.mode = cb.invert;
        if (arg === 'transport') e.mode = MODE_TRANSPORT;
        else if (arg === 'tunnel') e.mode = MODE_TUNNEL;
        else throw paramError(`policy match: invalid mode "${arg}"`);
        break;
      }
      case 9:
        elem(info);
        if (++info.len === MAX_ELEM) throw paramError('policy match: maximum policy depth reached');
        break;
    }
  },
  final(cb) {
    const info = cb.info;
    if (!(info.flags & (POLICY.IN | POLICY.OUT)))
      throw paramError('policy match: neither --dir in nor --dir out specified');
    if (info.flags & POLICY.NONE) {
      if (info.flags & POLICY.STRICT) throw paramError('policy match: policy none but --strict given');
      if (info.len !== 0) throw paramError('policy match: policy none but policy given');
    } else {
      info.len++;
    }
    for (let i = 0; i < info.len; i++) {
      const e = info.pol[i] ?? emptyElem();
      info.pol[i] = e;
      const m = e.match;
      if (info.flags & POLICY.STRICT && !(m.reqid || m.spi || m.saddr || m.daddr || m.proto || m.mode))
        throw paramError(
          `policy match: empty policy element ${i}. --strict is in effect, but at least one of ` +
            'reqid, spi, tunnel-src, tunnel-dst, proto or mode is required.',
        );
      if ((m.saddr || m.daddr) && ((e.mode === MODE_TUNNEL && e.invert.mode) || (e.mode === MODE_TRANSPORT && !e.invert.mode)))
        throw paramError('policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode');
    }
    info.pol.length = info.len;
  },
  check(info, ctx) {
    if (info.flags & POLICY.OUT) {
      const bad = hooksOnly(ctx, ['FORWARD', 'OUTPUT', 'POSTROUTING']);
      if (bad) return bad;
    }
    if (info.flags & POLICY.IN) return hooksOnly(ctx, ['PREROUTING', 'INPUT', 'FORWARD']);
    return undefined;
  },
  print(info, ctx) {
    let s = ` policy match${flagsText('', info)}`;
    info.pol.slice(0, info.len).forEach((e, i) => {
      if (info.len > 1) s += ` [${i}]`;
      s += entry('', e, ctx.numeric, ctx.names);
    });
    return s;
  },
  save(info) {
    let s = flagsText('--', info);
    info.pol.slice(0, info.len).forEach((e, i) => {
      s += entry('--', e, false, PROTOCOLS);
      if (i + 1 < info.len) s += ' --next';
    });
    return s;
  },
  // The lab machine has no IPsec states or policies: no packet was
  // decapsulated or will be encapsulated, which only "--pol none" matches,
  // whatever the elements say.
  match: (info) => (info.flags & POLICY.NONE) !== 0,
});

/** A tunnel address with its mask suffix, in the rule's family. */
function addrMaskText(addr: number | IPv6, mask: number | IPv6): string {
  if (typeof addr === 'number') return `${formatIPv4(addr)}${maskToListSuffix(mask as number)}`;
  return `${formatIPv6(addr)}${ip6MaskToNumeric(mask as IPv6)}`;
}
