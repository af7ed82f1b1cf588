/**
 * The IPv6 halves of libxtables' address option types as ip6tables parses
 * them (xtopt_parse_host, xtopt_parse_plen(mask), xtopt_parse_hostmask with
 * the AF_INET6 family) and the way extensions print IPv6 addresses.
 */
import {
  formatIPv6,
  ip6IsZero,
  ip6MaskToCidr,
  ip6MaskToNumeric,
  ip6Ones,
  ip6PrefixMask,
  parseIPv6,
  type IPv6,
} from '../addr/ipv6.js';
import { strtoulPrefix } from '../util/cnum.js';
import { addr6ToAnyName, type NameDb } from './namedb.js';
import { paramError } from './types.js';

/** inet_aton as getaddrinfo tries it first: 1-4 C numbers, the last filling the rest. */
function looksIPv4(s: string): boolean {
  if (s === '') return false;
  const parts = s.split('.');
  if (parts.length > 4) return false;
  const nums: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]/.test(p)) return false;
    const v = strtoulPrefix(p, 0, 0xffffffff);
    if (!v || v.end !== p.length) return false;
    nums.push(v.value);
  }
  const last = nums.pop()!;
  return !nums.some((n) => n > 255) && last < 2 ** (8 * (4 - nums.length));
}

/** res_hnok: labels of letters, digits, '-' and '_', none empty (a final dot aside), no leading '-'. */
function hostnameOk(name: string): boolean {
  const labels = (name.endsWith('.') ? name.slice(0, -1) : name).split('.');
  return name[0] !== '-' && labels.every((l) => /^[A-Za-z0-9_-]+$/.test(l));
}

/** A numeric IPv6 address with an optional "%scope" (a number or the loopback interface). */
function numericWithScope(arg: string): IPv6 | undefined {
  const pct = arg.indexOf('%');
  if (pct < 0) return parseIPv6(arg);
  const scope = arg.slice(pct + 1);
  if (!/^[0-9]+$/.test(scope) && scope !== 'lo') return undefined;
  return parseIPv6(arg.slice(0, pct));
}

/**
 * getaddrinfo(arg) with AF_INET6, as xtopt_parse_host uses it on the
 * reference machine (/etc/hosts, then a DNS that cannot be reached):
 * exactly one address, else the glibc error texts.
 */
export function resolveHost6(names: NameDb, arg: string): IPv6 {
  const numeric = numericWithScope(arg);
  if (numeric) return numeric;
  if (looksIPv4(arg)) throw paramError('getaddrinfo: Address family for hostname not supported\n');
  const addrs = arg === '' ? [] : (names.hostAddrs6?.(arg) ?? []);
  if (addrs.length > 1) throw paramError(`${arg} resolves to more than one address\n`);
  if (addrs.length === 1) return addrs[0]!;
  const noName = /^[0-9.]*$/.test(arg) || !hostnameOk(arg);
  throw paramError(`getaddrinfo: ${noName ? 'Name or service not known' : 'Temporary failure in name resolution'}\n`);
}

/**
 * xtopt_parse_plenmask for IPv6: a prefix length 0-128, or a numeric
 * address taken as a mask. The mask is rebuilt from the prefix length; a
 * non-contiguous one gives the length 255 (-1 in a uint8_t) and all ones.
 */
export function parsePlenMask6(extName: string, optName: string, arg: string): { hlen: number; mask: IPv6 } {
  const v = strtoulPrefix(arg, 0, 128);
  if (v && v.end === arg.length) return { hlen: v.value, mask: ip6PrefixMask(v.value) };
  const m = numericWithScope(arg);
  if (!m)
    throw paramError(
      `${extName}: bad value for option "--${optName}", neither a valid network mask nor valid CIDR (0-128).\n`,
    );
  const hlen = ip6MaskToCidr(m);
  return hlen < 0 ? { hlen: 255, mask: ip6Ones() } : { hlen, mask: ip6PrefixMask(hlen) };
}

/** XTTYPE_HOSTMASK for IPv6: "host" or "host/plen-or-mask"; the address is not masked. */
export function parseHostMask6(
  names: NameDb,
  extName: string,
  optName: string,
  arg: string,
): { addr: IPv6; mask: IPv6; hlen: number } {
  const slash = arg.indexOf('/');
  if (slash < 0) return { addr: resolveHost6(names, arg), mask: ip6Ones(), hlen: 128 };
  const addr = resolveHost6(names, arg.slice(0, slash));
  const p = parsePlenMask6(extName, optName, arg.slice(slash + 1));
  return { addr, mask: p.mask, hlen: p.hlen };
}

/** An IPv6 address and mask as conntrack and friends print them: "anywhere" for :: unless numeric. */
export function dumpAddr6(names: NameDb, addr: IPv6, mask: IPv6, numeric: boolean): string {
  if (!numeric && ip6IsZero(addr)) return ' anywhere';
  return ` ${numeric ? formatIPv6(addr) : addr6ToAnyName(names, addr)}${ip6MaskToNumeric(mask)}`;
}
