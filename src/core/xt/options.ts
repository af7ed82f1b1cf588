/**
 * The generic option parser and final checks of libxtables
 * (xtables_option_parse, xtables_options_fcheck): typed arguments, once-only
 * and inversion rules, exclusions and requirements, with the same messages.
 */
import { maskToPrefix, parseIPv4Numeric, prefixMask, inetAton } from '../addr/ipv4.js';
import { strtoulPrefix, strtoulRange } from '../util/cnum.js';
import { ip6Bytes, ip6Ones, parseIPv6 } from '../addr/ipv6.js';
import { parseHostMask6, parsePlenMask6, resolveHost6 } from './addr6-opts.js';
import type { NameDb } from './namedb.js';
import { paramError, XtError, type OptionCall, type OptionEntry, type OptType } from './types.js';

const TYPE_MAX: Partial<Record<OptType, number>> = {
  uint8: 0xff,
  uint8rc: 0xff,
  uint16: 0xffff,
  uint16rc: 0xffff,
  uint32: 0xffffffff,
  uint32rc: 0xffffffff,
  uint64: 18446744073709551615,
  uint64rc: 18446744073709551615,
};

/** getopt argument kind of an option entry. */
export function optionHasArg(e: OptionEntry): 'no' | 'required' | 'optional' {
  return e.hasArg ?? (e.type === 'none' ? 'no' : 'required');
}

/** Formats a bound as %ju prints it. */
function ju(n: number): string {
  return n === 18446744073709551615 ? '18446744073709551615' : String(n);
}

const TOS_SYMBOLS: [string, number][] = [
  ['Minimize-Delay', 0x10],
  ['Maximize-Throughput', 0x08],
  ['Maximize-Reliability', 0x04],
  ['Minimize-Cost', 0x02],
  ['Normal-Service', 0x00],
];

const SYSLOG_LEVELS: Record<string, number> = {
  alert: 1,
  crit: 2,
  debug: 7,
  emerg: 0,
  error: 3,
  info: 6,
  notice: 5,
  panic: 0,
  warning: 4,
};

/** Chain protocol names known without /etc/protocols (xtables_chain_protos). */
export const CHAIN_PROTOS: readonly [string, number][] = [
  ['tcp', 6],
  ['sctp', 132],
  ['udp', 17],
  ['udplite', 136],
  ['icmp', 1],
  ['ipv6-icmp', 58],
  ['icmpv6', 58],
  ['esp', 50],
  ['ah', 51],
  ['mobility-header', 135],
  ['ipv6-mh', 135],
  ['mh', 135],
  ['all', 0],
];

/** xtables_parse_protocol: a number, a chain protocol name, or an /etc/protocols name. */
export function parseProtocol(s: string, names: NameDb): number {
  const n = strtoulRange(s, 0, 255);
  if (n !== undefined) return n;
  const known = CHAIN_PROTOS.find(([name]) => name === s);
  if (known) return known[1];
  const p = names.protoNumber(s);
  if (p !== undefined) return p;
  throw paramError(`unknown protocol "${s}" specified`);
}

/** getaddrinfo(NULL, name): a decimal number or a service name of any protocol. */
export function portByName(names: NameDb, name: string): number {
  // glibc reads a numeric service with strtol into an int and keeps the low 16 bits
  const m = /^\s*\+?([0-9]+)$/.exec(name);
  if (m) {
    const n = BigInt.asIntN(32, BigInt(m[1]!));
    if (BigInt(m[1]!) > 0x7fffffffffffffffn || n < 0n) return -1;
    return Number(n & 0xffffn);
  }
  return names.servicePort(name) ?? -1;
}

/**
 * getaddrinfo(AF_INET) on an IPv6 literal: EAI_ADDRFAMILY ("Address family
 * for hostname not supported"), except a v4-mapped one (::ffff:a.b.c.d),
 * which yields its IPv4 address. Returns undefined for anything that is not
 * an IPv6 literal. Every XTTYPE_HOST-like parser should ask this first.
 */
export function ipv4FromIPv6Literal(arg: string): number | undefined {
  const scoped = arg.includes('%');
  const v6 = parseIPv6(arg.replace(/%[^%]*$/, ''));
  if (v6 === undefined) return undefined;
  const b = ip6Bytes(v6);
  const mapped = b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  if (!mapped || scoped) throw paramError('getaddrinfo: Address family for hostname not supported\n');
  return ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0;
}

/** Resolves a host for XTTYPE_HOST: numeric or from /etc/hosts, exactly one address. */
function parseHost(cb: OptionCall<unknown>, arg: string): number {
  const mapped = ipv4FromIPv6Literal(arg);
  if (mapped !== undefined) return mapped;
  const numeric = parseIPv4Numeric(arg);
  if (numeric !== undefined && /^[0-9.]+$/.test(arg) && arg.split('.').length === 4) return numeric;
  const addrs = cb.names.hostAddrs(arg);
  if (addrs.length === 0) {
    if (numeric !== undefined && /^[0-9.xXa-fA-F]+$/.test(arg)) return numeric;
    throw paramError('getaddrinfo: Name or service not known\n');
  }
  if (addrs.length > 1) throw paramError(`${arg} resolves to more than one address\n`);
  return addrs[0]!;
}


/**
 * Parses a prefix length or a mask for XTTYPE_PLEN/PLENMASK (xtopt_parse_plen
 * and xtopt_parse_plenmask): a number 0-32, else any numeric address taken
 * as a mask. A mask with holes gives the prefix length -1, which the
 * uint8_t holding it turns into 255, and xtopt_parse_plenmask then leaves
 * the mask all ones.
 */
function parsePlen(cb: OptionCall<unknown>, arg: string): { hlen: number; mask: number } {
  const n = strtoulRange(arg, 0, 32);
  if (n !== undefined) return { hlen: n, mask: prefixMask(n) };
  const m = inetAton(arg);
  if (m !== undefined) {
    const bits = maskToPrefix(m);
    return bits < 0 ? { hlen: 255, mask: 0xffffffff } : { hlen: bits, mask: prefixMask(bits) };
  }
  throw paramError(
    `${cb.extName}: bad value for option "--${cb.entry.name}", neither a valid network mask nor valid CIDR (0-32).\n`,
  );
}

/** xtables_parse_val_mask without a name map. */
export function parseValMask(cb: OptionCall<unknown>, arg: string): { value: number; mask: number } {
  const garbage = () =>
    paramError(`${cb.extName}: trailing garbage after value for option "--${cb.entry.name}".\n`);
  const bad = () => paramError(`${cb.extName}: bad integer value for option "--${cb.entry.name}", or out of range.\n`);
  const v = strtoulPrefix(arg, 0, 0xffffffff);
  if (!v) throw bad();
  if (v.end === arg.length) return { value: v.value, mask: 0xffffffff };
  if (arg[v.end] !== '/') throw garbage();
  const rest = arg.slice(v.end + 1);
  const m = strtoulPrefix(rest, 0, 0xffffffff);
  if (!m) throw bad();
  if (m.end !== rest.length) throw garbage();
  return { value: v.value, mask: m.value };
}

/** Runs the typed part of xtables_option_parse for `cb`, filling `cb.val`. */
function parseTyped(cb: OptionCall<unknown>): void {
  const e = cb.entry;
  const arg = cb.arg ?? '';
  const val = cb.val;
  if (cb.family === 'ipv6') {
    switch (e.type) {
      case 'host':
        val.addr6 = resolveHost6(cb.names, arg);
        val.hmask6 = ip6Ones();
        val.hlen = 128;
        return;
      case 'hostmask': {
        const r = parseHostMask6(cb.names, cb.extName, e.name, arg);
        val.addr6 = r.addr;
        val.hmask6 = r.mask;
        val.hlen = r.hlen;
        return;
      }
      case 'plen':
      case 'plenmask': {
        const p = parsePlenMask6(cb.extName, e.name, arg);
        val.hlen = p.hlen;
        val.hmask6 = p.mask;
        return;
      }
      default:
        break;
    }
  }
  switch (e.type) {
    case 'none':
      return;
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'uint64': {
      const lmin = e.min || 0;
      const lmax = e.max || TYPE_MAX[e.type]!;
      const v = strtoulPrefix(arg, lmin, lmax);
      if (!v || v.end !== arg.length)
        throw paramError(
          `${cb.extName}: bad value for option "--${e.name}", or out of range (${ju(lmin)}-${ju(lmax)}).\n`,
        );
      val.num = v.value;
      return;
    }
    case 'uint8rc':
    case 'uint16rc':
    case 'uint32rc':
    case 'uint64rc': {
      const lmax = TYPE_MAX[e.type]!;
      const maxiter = e.size ?? 2;
      const range: number[] = [];
      let pos = 0;
      for (;;) {
        if (range.length === maxiter)
          throw paramError(`${cb.extName}: Too many components for option "--${e.name}" (max: ${maxiter})\n`);
        const rest = arg.slice(pos);
        let end = pos;
        let value: number;
        if (rest === '' || rest[0] === ':') {
          value = range.length === 1 ? lmax : 0;
        } else {
          const v = strtoulPrefix(rest, 0, lmax);
          if (!v)
            throw paramError(
              `${cb.extName}: bad value for option "--${e.name}" near "${rest}", or out of range (0-${ju(lmax)}).\n`,
            );
          end = pos + v.end;
          if (end < arg.length && arg[end] !== ':')
            throw paramError(`${cb.extName}: Argument to "--${e.name}" has unexpected characters near "${arg.slice(end)}".\n`);
          value = v.value;
        }
        range.push(value);
        if (end >= arg.length) break;
        pos = end + 1;
      }
      val.range = range;
      val.nvals = range.length;
      return;
    }
    case 'double': {
      const v = arg.trim() === '' ? NaN : Number(arg);
      const min = e.min ?? 0;
      const max = e.max ?? 0;
      if (Number.isNaN(v) || (min !== max && (v < min || v > max)))
        throw paramError(`${cb.extName}: bad value for option "--${e.name}", or out of range (${min}-${max}).\n`);
      val.dbl = v;
      return;
    }
    case 'string': {
      const z = arg.length;
      if (e.min && z < e.min) throw paramError(`Argument must have a minimum length of ${e.min} characters\n`);
      if (e.max && z > e.max) throw paramError(`Argument must have a maximum length of ${e.max} characters\n`);
      val.str = e.size ? arg.slice(0, e.size - 1) : arg;
      return;
    }
    case 'tosmask': {
      const first = strtoulPrefix(arg, 0, 255);
      if (first) {
        val.value = first.value;
        val.mask = 0xff;
        let end = first.end;
        if (arg[end] === '/') {
          const rest = arg.slice(end + 1);
          const m = strtoulPrefix(rest, 0, 255);
          if (!m) throw new XtError(`Illegal value: "${arg}"`, 2);
          val.mask = m.value;
          end = end + 1 + m.end;
        }
        if (end !== arg.length) throw new XtError(`Illegal value: "${arg}"`, 2);
        return;
      }
      val.mask = e.max ?? 0x3f;
      const sym = TOS_SYMBOLS.find(([n]) => n.toLowerCase() === arg.toLowerCase());
      if (!sym) throw new XtError(`Symbolic name "${arg}" is unknown`, 2);
      val.value = sym[1];
      return;
    }
    case 'markmask32': {
      const r = parseValMask(cb, arg);
      val.value = r.value;
      val.mask = r.mask;
      return;
    }
    case 'sysloglevel': {
      const n = strtoulRange(arg, 0, 7);
      if (n !== undefined) {
        val.num = n;
        return;
      }
      const lvl = SYSLOG_LEVELS[arg];
      if (lvl === undefined) throw paramError(`log level "${arg}" unknown\n`);
      val.num = lvl;
      return;
    }
    case 'host':
      val.addr = parseHost(cb, arg);
      val.hmask = 0xffffffff;
      val.hlen = 32;
      return;
    case 'hostmask': {
      const slash = arg.indexOf('/');
      if (slash < 0) {
        val.addr = parseHost(cb, arg);
        val.hmask = 0xffffffff;
        val.hlen = 32;
        return;
      }
      val.addr = parseHost(cb, arg.slice(0, slash));
      const p = parsePlen(cb, arg.slice(slash + 1));
      val.hlen = p.hlen;
      val.hmask = p.mask;
      return;
    }
    case 'protocol':
      val.num = parseProtocol(arg, cb.names);
      return;
    case 'port': {
      const p = portByName(cb.names, arg);
      if (p < 0) throw paramError(`Port "${arg}" does not resolve to anything.\n`);
      val.num = p;
      return;
    }
    case 'portrc': {
      const maxiter = e.size ?? 2;
      const range = [0, 0xffff];
      let n = 0;
      for (const part of arg.split(':')) {
        if (n === maxiter)
          throw paramError(`${cb.extName}: Too many components for option "--${e.name}" (max: ${maxiter})\n`);
        if (part === '') {
          n++;
          continue;
        }
        const p = portByName(cb.names, part);
        if (p < 0) throw paramError(`Port "${part}" does not resolve to anything.\n`);
        if (n < 2) range[n] = p;
        n++;
      }
      if (n === 1) {
        range[1] = range[0]!;
        n = 2;
      }
      val.range = range;
      val.nvals = n;
      return;
    }
    case 'plen':
    case 'plenmask': {
      const p = parsePlen(cb, arg);
      val.hlen = p.hlen;
      val.hmask = p.mask;
      return;
    }
    case 'ethermac': {
      const mac = parseEtherMac(arg);
      if (!mac) throw paramError('Invalid MAC address specified.');
      val.mac = mac;
      return;
    }
  }
}

/** Parses "xx:xx:xx:xx:xx:xx" as xtopt_parse_ethermac does (hex parts of one or two digits). */
export function parseEtherMac(arg: string): number[] | undefined {
  const parts = arg.split(':');
  if (parts.length !== 6) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    const v = strtoulPrefix(p, 0, 0xffffffff, 16);
    if (!v || v.end !== p.length || p.length > 2) return undefined;
    out.push(v.value & 0xff);
  }
  return out;
}

/** xtables_option_parse: once-only and inversion checks, then the typed parse. */
export function genericParse(cb: OptionCall<unknown>): void {
  const e = cb.entry;
  const eflag = 1 << e.id;
  if ((!e.multi || (e.excl ?? []).includes(e.id)) && cb.xflags & eflag)
    throw paramError(`${cb.extName}: option "--${e.name}" can only be used once.\n`);
  if (cb.invert && !e.invert) throw paramError(`${cb.extName}: option "--${e.name}" cannot be inverted.\n`);
  if (e.type !== 'none' && cb.arg === undefined)
    throw paramError(`${cb.extName}: option "--${e.name}" requires an argument.\n`);
  cb.val.nvals = 1;
  parseTyped(cb);
}

/** xtables_options_fcheck: mandatory options, requirements and exclusions. */
export function finalOptionCheck(extName: string, xflags: number, table: readonly OptionEntry[]): void {
  for (const e of table) {
    if (e.mandatory && !(xflags & (1 << e.id)))
      throw paramError(`${extName}: option "--${e.name}" must be specified\n`);
    if (!(xflags & (1 << e.id))) continue;
    if (!e.also?.length && !e.excl?.length) continue;
    for (let i = 0; i < 32; i++) {
      if (i === e.id) continue;
      const other = table.find((o) => o.id === i);
      if (!other) continue;
      const of = 1 << other.id;
      if ((e.also ?? []).includes(other.id) && !(xflags & of))
        throw paramError(`${extName}: option "--${e.name}" also requires "--${other.name}".\n`);
      if (!(e.excl ?? []).includes(other.id)) continue;
      if ((xflags & ((1 << e.id) | of)) !== ((1 << e.id) | of)) continue;
      throw paramError(`${extName}: option "--${e.name}" cannot be used together with "--${other.name}".\n`);
    }
  }
}
