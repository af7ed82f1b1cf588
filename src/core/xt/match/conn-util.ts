/**
 * Helpers shared by the conn group of matches (conntrack, state, mark,
 * connmark, owner, policy, ipvs ...): quoting as iptables-save does it,
 * value/mask printing, host and prefix parsing with getaddrinfo's exact
 * acceptance rules, 64-bit numbers kept as decimal strings, and access to
 * warning sinks that the command layer may provide.
 */
import { formatIPv4, maskToListSuffix, prefixMask, type IPv4, inetAton } from '../../addr/ipv4.js';
import { strtoulPrefix } from '../../util/cnum.js';
import { addrToAnyName, type NameDb } from '../namedb.js';
import { isBuiltinChain } from '../../netfilter/tables.js';
import { requireHooks } from '../protocheck.js';
import { paramError, XtError, type CheckContext, type CheckError } from '../types.js';
import { ipv4FromIPv6Literal } from '../options.js';

/** Characters xtables_save_string leaves unquoted. */
const PLAIN = /^[_\-0-9a-zA-Z]+$/;

/**
 * A string argument in save form (xtables_save_string): a leading space,
 * then the text as is when it is a non-empty run of letters, digits, '_'
 * and '-', otherwise double-quoted with '"', '\' and '\'' backslashed.
 */
export function saveString(value: string): string {
  if (PLAIN.test(value)) return ` ${value}`;
  return ` "${value.replace(/["\\']/g, (c) => `\\${c}`)}"`;
}

/** Lower-case hexadecimal of an unsigned 32-bit value, as printf("%x"). */
export function hex(n: number): string {
  return (n >>> 0).toString(16);
}

/** xtables_print_mark_mask: " 0xV" for a full mask, else " 0xV/0xM". */
export function printMarkMask(value: number, mask: number): string {
  return mask >>> 0 === 0xffffffff ? ` 0x${hex(value)}` : ` 0x${hex(value)}/0x${hex(mask)}`;
}

/**
 * getaddrinfo(name) for IPv4 as xtopt_parse_host uses it on the reference
 * machine (/etc/hosts, then a DNS that cannot be reached): numeric forms,
 * host names, and the two error texts glibc gives.
 */
export function resolveHost(names: NameDb, arg: string): IPv4 {
  const mapped = ipv4FromIPv6Literal(arg);
  if (mapped !== undefined) return mapped;
  const numeric = inetAton(arg);
  if (numeric !== undefined) return numeric;
  const addrs = arg === '' ? [] : names.hostAddrs(arg);
  if (addrs.length > 1) throw paramError(`${arg} resolves to more than one address\n`);
  if (addrs.length === 1) return addrs[0]!;
  // glibc answers "not known" without asking DNS for dotted numbers and for names
  // res_hnok refuses; anything else goes to the (unreachable) resolver.
  const noName = /^[0-9.]*$/.test(arg) || !hostnameOk(arg);
  throw paramError(`getaddrinfo: ${noName ? 'Name or service not known' : 'Temporary failure in name resolution'}\n`);
}

/** res_hnok: labels of letters, digits, '-' and '_', none empty (a final dot aside), no leading '-'. */
function hostnameOk(name: string): boolean {
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  return name[0] !== '-' && labels.every((l) => /^[A-Za-z0-9_-]+$/.test(l));
}

/** Prefix length of a mask as xtables_ipmask_to_cidr gives it: -1 when not contiguous. */
function maskToCidr(mask: number): number {
  let bits = 0;
  let m = mask >>> 0;
  while (m & 0x80000000) {
    bits++;
    m = (m << 1) >>> 0;
  }
  return m === 0 ? bits : -1;
}

/**
 * xtopt_parse_plenmask for IPv4: a prefix length 0-32, or anything
 * getaddrinfo reads as a numeric address taken as a mask. The mask is then
 * rebuilt from the prefix length, so a non-contiguous mask (or "33", read
 * as 0.0.0.33) ends up as /32.
 */
export function parsePlenMask(extName: string, optName: string, arg: string): { hlen: number; mask: number } {
  const v = strtoulPrefix(arg, 0, 32);
  if (v && v.end === arg.length) return { hlen: v.value, mask: prefixMask(v.value) };
  const m = inetAton(arg);
  if (m === undefined)
    throw paramError(
      `${extName}: bad value for option "--${optName}", neither a valid network mask nor valid CIDR (0-32).\n`,
    );
  const hlen = maskToCidr(m);
  return hlen < 0 ? { hlen: 32, mask: 0xffffffff } : { hlen, mask: prefixMask(hlen) };
}

/** XTTYPE_HOSTMASK: "host" or "host/plen-or-mask"; the address is not masked. */
export function parseHostMask(names: NameDb, extName: string, optName: string, arg: string): { addr: number; mask: number } {
  const slash = arg.indexOf('/');
  if (slash < 0) return { addr: resolveHost(names, arg), mask: 0xffffffff };
  const addr = resolveHost(names, arg.slice(0, slash));
  return { addr, mask: parsePlenMask(extName, optName, arg.slice(slash + 1)).mask };
}

/** An address and mask as -L prints them in conntrack/ipvs: "anywhere" for 0 unless numeric. */
export function dumpAddr(names: NameDb, addr: number, mask: number, numeric: boolean): string {
  if (!numeric && addr === 0) return ' anywhere';
  return ` ${numeric ? formatIPv4(addr) : addrToAnyName(names, addr)}${maskToListSuffix(mask)}`;
}

/** The largest 64-bit unsigned value. */
export const U64_MAX = (1n << 64n) - 1n;

/**
 * strtoumax with xtables_strtoul's checks on a prefix of `s`: optional
 * blanks and '+', no '-', base 0. Returns the value and where it stopped,
 * or undefined when no number was read or it does not fit in 64 bits.
 */
export function scanU64(s: string): { value: bigint; end: number } | undefined {
  let i = 0;
  while (i < s.length && ' \t\n\v\f\r'.includes(s[i]!)) i++;
  if (s[i] === '-') return undefined;
  if (s[i] === '+') i++;
  let base = 10;
  if (s[i] === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X') && /[0-9a-fA-F]/.test(s[i + 2] ?? '')) {
    base = 16;
    i += 2;
  } else if (s[i] === '0') {
    base = 8;
  }
  const start = i;
  let v = 0n;
  const digits = '0123456789abcdef'.slice(0, base);
  while (i < s.length && digits.includes(s[i]!.toLowerCase())) {
    v = v * BigInt(base) + BigInt(parseInt(s[i]!, 16));
    i++;
  }
  if (i === start) return undefined;
  if (v > U64_MAX) return undefined;
  return { value: v, end: i };
}

/**
 * XTTYPE_UINT64RC (xtopt_parse_mint) with exact 64-bit values: up to two
 * ':'-separated components, empty ones meaning 0 (first) or the maximum
 * (second). Values are returned as bigints.
 */
export function parseU64Range(extName: string, optName: string, arg: string): bigint[] {
  const out: bigint[] = [];
  let pos = 0;
  for (;;) {
    if (out.length === 2) throw paramError(`${extName}: Too many components for option "--${optName}" (max: 2)\n`);
    const rest = arg.slice(pos);
    let end = pos;
    let value: bigint;
    if (rest === '' || rest[0] === ':') {
      value = out.length === 1 ? U64_MAX : 0n;
    } else {
      const v = scanU64(rest);
      if (!v)
        throw paramError(
          `${extName}: bad value for option "--${optName}" near "${rest}", or out of range (0-${U64_MAX}).\n`,
        );
      end = pos + v.end;
      if (end < arg.length && arg[end] !== ':')
        throw paramError(`${extName}: Argument to "--${optName}" has unexpected characters near "${arg.slice(end)}".\n`);
      value = v.value;
    }
    out.push(value);
    if (end >= arg.length) return out;
    pos = end + 1;
  }
}

/** Something that may carry a warning sink (stderr) for messages iptables prints and goes on. */
interface MaybeWarn {
  warn?: (text: string) => void;
}

/**
 * Prints a warning on stderr when the caller's context offers a sink
 * (OptionCall, PrintContext or SaveContext with a `warn` member).
 */
export function warnVia(ctx: object, text: string): void {
  (ctx as MaybeWarn).warn?.(text);
}

/** A NameDb that knows no name: for save forms, which never look names up. */
export const NO_NAMES: NameDb = {
  hostAddrs: () => [],
  hostName: () => undefined,
  servicePort: () => undefined,
  serviceName: () => undefined,
  protoNumber: () => undefined,
  protoName: () => undefined,
  networkAddr: () => undefined,
  networkName: () => undefined,
};

/** xtables_param_act(XTF_BAD_VALUE, ...). */
export function badValue(ext: string, opt: string, value: string): XtError {
  return paramError(`${ext}: Bad value for "${opt}" option: "${value}"`);
}

/**
 * The kernel's hook restriction (xt_check_match) for a rule in a built-in
 * chain. Rules in user chains pass for now: which hooks reach a user chain
 * is not tracked yet (the kernel checks them when a jump makes them
 * reachable).
 */
export function hooksOnly(ctx: CheckContext, allowed: readonly string[]): CheckError | undefined {
  if (!isBuiltinChain(ctx.table, ctx.chain)) return undefined;
  return requireHooks(ctx, allowed);
}
