/**
 * What every `ip` object shares: the output buffers, iproute2's way of
 * ending a command (exit statuses, the standard complaints), its keyword
 * matching, its number and address parsers, and the global options.
 */
import { scanUnsigned } from '../../core/util/cnum.js';
import { STRERROR, type NetError } from '../../core/net/errors.js';
import { nsidAlloc } from '../../core/net/nsid.js';
import { linkByName } from '../../core/net/state.js';
import type { Link, NetState } from '../../core/net/types.js';
import type { IpNamespaces } from './namespaces.js';

/** AF_* values iproute2 uses for -4/-6/-0 and -f. */
export const AF_UNSPEC = 0;
/** IPv4. */
export const AF_INET = 2;
/** IPv6. */
export const AF_INET6 = 10;
/** Link layer (-0, `ip link`). */
export const AF_PACKET = 17;

/** A command to run in another namespace (`ip netns exec NAME CMD...`). */
export interface NetnsExec {
  /** Namespace name ('' for the host's own). */
  netns: string;
  /** The command and its arguments. */
  argv: string[];
}

/** Global options of one `ip` invocation and where its output goes. */
export interface IpContext {
  /** The network the command acts on (that of `ns.current`). */
  net: NetState;
  /** Every namespace the command can reach. */
  ns: IpNamespaces;
  /** `-color` asked for colours (iproute2's light-background palette). */
  color?: boolean;
  /** `-all` was given. */
  all?: boolean;
  /** Set by `ip netns exec`: what the caller runs next. */
  exec?: NetnsExec;
  /** Set by `ip -all netns exec`: one run per namespace, each announced on stdout. */
  execAll?: NetnsExec[];
  out: string[];
  err: string[];
  family: number;
  stats: number;
  details: number;
  oneline: boolean;
  brief: boolean;
}

/**
 * ll_name_to_index(): the link called `name`. iproute2 asks the kernel for
 * it, and the kernel's answer about a veth whose other end is in another
 * namespace gives that namespace an id.
 */
export function devByName(ctx: IpContext, name: string): Link | undefined {
  const link = linkByName(ctx.net, name);
  if (link?.peerNetns !== undefined) nsidAlloc(ctx.net, link.peerNetns);
  return link;
}

/** ll_init_map(): iproute2 reads every link once (with the same effect on ids as devByName). */
export function readAllLinks(ctx: IpContext): void {
  for (const link of ctx.net.links) if (link.peerNetns !== undefined) nsidAlloc(ctx.net, link.peerNetns);
}

/** The colours iproute2 gives the parts of its output (light background). */
export const COLOR = { ifname: 36, mac: 33, inet: 35, inet6: 34, up: 32, down: 31 } as const;

/** `text` in a colour when colours are on (color_fprintf). */
export function paint(ctx: IpContext, code: number, text: string): string {
  return ctx.color ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/** The colour of an operational state (UP green, DOWN red, others none). */
export function stateColor(state: string): number | undefined {
  return state === 'UP' ? COLOR.up : state === 'DOWN' ? COLOR.down : undefined;
}

/** An operational state with its following text, coloured as iproute2 does. */
export function paintState(ctx: IpContext, state: string, text: string): string {
  const c = stateColor(state);
  return c === undefined ? text : paint(ctx, c, text);
}

/** matches_color(): `-c[olor][=always|auto|never]`; undefined when `opt` is something else. */
export function colorOption(opt: string): 'always' | 'auto' | 'never' | undefined {
  const eq = opt.indexOf('=');
  const name = eq >= 0 ? opt.slice(0, eq) : opt;
  const value = eq >= 0 ? opt.slice(eq + 1) : '';
  if (name === '' || !'-color'.startsWith(name)) return undefined;
  if (value === '' || value === 'always') return 'always';
  if (value === 'auto' || value === 'never') return value;
  return undefined;
}

/** Thrown to end the command with an exit status (iproute2's exit()). */
export class IpExit extends Error {
  constructor(readonly status: number) {
    super(`exit ${status}`);
  }
}

/** Appends to standard output. */
export function print(ctx: IpContext, s: string): void {
  ctx.out.push(s);
}

/** Appends to standard error. */
export function eprint(ctx: IpContext, s: string): void {
  ctx.err.push(s);
}

/** iproute2's matches(): true when `word` is a prefix of `keyword` (an empty word matches). */
export function matches(word: string, keyword: string): boolean {
  return keyword.startsWith(word);
}

/** A cursor over the remaining arguments. */
export class Args {
  private i = 0;
  constructor(private readonly argv: readonly string[]) {}
  /** Arguments left, counting the current one. */
  get left(): number {
    return this.argv.length - this.i;
  }
  /** The current argument. */
  get cur(): string {
    return this.argv[this.i]!;
  }
  /** Moves past the current argument. */
  skip(): void {
    this.i++;
  }
  /** The arguments from the current one on. */
  rest(): string[] {
    return this.argv.slice(this.i);
  }
  /** NEXT_ARG(): moves to the next argument, complaining when there is none. */
  next(ctx: IpContext): string {
    this.i++;
    if (this.i >= this.argv.length) incompleteCommand(ctx);
    return this.argv[this.i]!;
  }
}

/** "Command line is not complete" and exit 255. */
export function incompleteCommand(ctx: IpContext): never {
  eprint(ctx, 'Command line is not complete. Try option "help"\n');
  throw new IpExit(255);
}

/** invarg(): "Error: argument ... is wrong" and exit 255. */
export function invarg(ctx: IpContext, msg: string, arg: string): never {
  eprint(ctx, `Error: argument "${arg}" is wrong: ${msg}\n`);
  throw new IpExit(255);
}

/** duparg(): a keyword given twice. */
export function duparg(ctx: IpContext, key: string, arg: string): never {
  eprint(ctx, `Error: duplicate "${key}": "${arg}" is the second value.\n`);
  throw new IpExit(255);
}

/** duparg2(): a keyword given twice or an unknown word. */
export function duparg2(ctx: IpContext, key: string, arg: string): never {
  eprint(ctx, `Error: either "${key}" is duplicate, or "${arg}" is a garbage.\n`);
  throw new IpExit(255);
}

/** nodev(): unknown device; the command returns -1 (exit 1). */
export function nodev(ctx: IpContext, dev: string): number {
  eprint(ctx, `Cannot find device "${dev}"\n`);
  return -1;
}

/**
 * Reports a kernel error as rtnl_talk does: the extended ack as
 * "Error: MSG." when there is one, else "RTNETLINK answers: STRERROR".
 */
export function reportNetError(ctx: IpContext, e: NetError): void {
  if (e.msg !== undefined) eprint(ctx, `Error: ${e.msg}${e.msg.endsWith('.') ? '' : '.'}\n`);
  else eprint(ctx, `RTNETLINK answers: ${STRERROR[e.errno]}\n`);
}

/** strtoul as C does it, returning undefined unless the whole string is a number <= max. */
export function cUnsigned(s: string, max: number): number | undefined {
  if (s === '') return undefined;
  const r = scanUnsigned(s, 0);
  if (!r.ok || r.end !== s.length) return undefined;
  const v = r.negative ? (r.value === 0 ? 0 : Infinity) : r.value;
  return v > max ? undefined : v;
}

/** get_integer(): a C int (strtol base 0), whole string. */
export function getInteger(s: string): number | undefined {
  if (s === '') return undefined;
  const r = scanUnsigned(s, 0);
  if (!r.ok || r.end !== s.length) return undefined;
  const v = r.negative ? -r.value : r.value;
  if (v < -2147483648 || v > 2147483647) return undefined;
  return v;
}

/** get_addr_ipv4(): one to four dotted parts, each a C number up to 255; missing parts are 0. */
export function parseIpv4(s: string): number | undefined {
  let cp = s;
  const bytes = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    const r = scanUnsigned(cp, 0);
    if (!r.ok) return undefined;
    const n = r.negative ? (r.value === 0 ? 0 : Infinity) : r.value;
    if (n > 255) return undefined;
    bytes[i] = n;
    const rest = cp.slice(r.end);
    if (rest === '') break;
    if (i === 3 || rest[0] !== '.') return undefined;
    cp = rest.slice(1);
  }
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

/** An address or prefix as iproute2's inet_prefix holds it. */
export interface Prefix {
  family: number;
  /** IPv4 address (host bits kept as given). */
  addr: number;
  /** IPv6 text when family is AF_INET6. */
  addr6?: string;
  /** Prefix length; 32 (or 128) for a plain address. */
  bitlen: number;
  /** "default", "any" or "all" was given. */
  isDefault: boolean;
  /** A "/len" was written (or "default"). */
  lenSpecified: boolean;
}

function familyVerbose(family: number): string {
  if (family === AF_UNSPEC) return 'any valid';
  if (family === AF_INET) return 'inet';
  if (family === AF_INET6) return 'inet6';
  if (family === AF_PACKET) return 'link';
  return '???';
}

/** get_addr_1(): undefined when the text is not an address of the family. */
export function getAddr1(s: string, family: number): Prefix | undefined {
  if (s === 'default') return { family, addr: 0, bitlen: -2, isDefault: true, lenSpecified: true };
  if (s === 'all' || s === 'any') return { family, addr: 0, bitlen: -2, isDefault: true, lenSpecified: false };
  if (s.includes(':')) {
    if (family !== AF_UNSPEC && family !== AF_INET6) return undefined;
    if (!/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
    return { family: AF_INET6, addr: 0, addr6: s, bitlen: -1, isDefault: false, lenSpecified: false };
  }
  if (family !== AF_UNSPEC && family !== AF_INET) return undefined;
  const a = parseIpv4(s);
  if (a === undefined) return undefined;
  return { family: AF_INET, addr: a, bitlen: -1, isDefault: false, lenSpecified: false };
}

function maskToBits(mask: number): number {
  const host = ~mask >>> 0;
  if ((host & (host + 1)) !== 0) return -1;
  let bits = 0;
  for (let m = mask >>> 0; m !== 0; m = (m << 1) >>> 0) bits++;
  return bits;
}

/** get_prefix_1(): address with an optional "/len" (a number or a dotted mask). */
export function getPrefix1(s: string, family: number): Prefix | undefined {
  const slash = s.indexOf('/');
  const a = getAddr1(slash >= 0 ? s.slice(0, slash) : s, family);
  if (!a) return undefined;
  const full = a.family === AF_INET6 ? 128 : 32;
  if (slash >= 0) {
    if (a.bitlen === -2) return undefined;
    const text = s.slice(slash + 1);
    let plen = cUnsigned(text, 0xffffffff);
    if (plen === undefined) {
      const m = getAddr1(text, AF_INET);
      if (m && m.family === AF_INET && !m.isDefault) {
        const b = maskToBits(m.addr);
        if (b >= 0) plen = b;
      }
    }
    if (plen === undefined || plen > full) return undefined;
    return { ...a, bitlen: plen, lenSpecified: true };
  }
  return { ...a, bitlen: a.bitlen === -2 ? 0 : full };
}

/** get_prefix(): like getPrefix1 but exits 1 with iproute2's message. */
export function getPrefix(ctx: IpContext, s: string, family: number): Prefix {
  if (family === AF_PACKET) {
    eprint(ctx, `Error: "${s}" may be inet prefix, but it is not allowed in this context.\n`);
    throw new IpExit(1);
  }
  const p = getPrefix1(s, family);
  if (!p) {
    eprint(ctx, `Error: ${familyVerbose(family)} prefix is expected rather than "${s}".\n`);
    throw new IpExit(1);
  }
  return p;
}

/** get_addr(): an address or exit 1 with iproute2's message. */
export function getAddr(ctx: IpContext, s: string, family: number): Prefix {
  const p = getAddr1(s, family);
  if (!p) {
    eprint(ctx, `Error: ${familyVerbose(family)} address is expected rather than "${s}".\n`);
    throw new IpExit(1);
  }
  return p;
}

/**
 * ll_addr_a2n(): colon-separated hex bytes (sscanf "%x" per part) or a dotted
 * IPv4 address; returns the bytes or undefined after printing the complaint.
 */
export function llAddrA2n(ctx: IpContext, arg: string): number[] | undefined {
  if (arg.includes('.')) {
    const a = getAddr1(arg, AF_INET);
    if (!a || a.isDefault) {
      eprint(ctx, `"${arg}" is invalid lladdr.\n`);
      return undefined;
    }
    return [a.addr >>> 24, (a.addr >>> 16) & 255, (a.addr >>> 8) & 255, a.addr & 255];
  }
  const bytes: number[] = [];
  let rest = arg;
  for (let i = 0; i < 32; i++) {
    const colon = rest.indexOf(':');
    const part = colon >= 0 ? rest.slice(0, colon) : rest;
    const m = /^\s*([+-]?)(?:0[xX])?([0-9a-fA-F]+)/.exec(part);
    if (!m) {
      eprint(ctx, `"${part}" is invalid lladdr.\n`);
      return undefined;
    }
    let v = parseInt(m[2]!, 16);
    if (m[1] === '-') v = v === 0 ? 0 : -1;
    if (v < 0 || v > 255) {
      eprint(ctx, `"${part}" is invalid lladdr.\n`);
      return undefined;
    }
    bytes.push(v);
    if (colon < 0) break;
    rest = rest.slice(colon + 1);
  }
  return bytes;
}

/** Formats link-layer bytes as "xx:xx:...". */
export function macText(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** Dotted quad of an IPv4 number. */
export function ipText(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

/** Names of route scopes (/etc/iproute2/rt_scopes). */
const SCOPE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'global'],
  [255, 'nowhere'],
  [254, 'host'],
  [253, 'link'],
  [200, 'site'],
]);

/** rtnl_rtscope_n2a(). */
export function scopeName(scope: number): string {
  return SCOPE_NAMES.get(scope) ?? String(scope);
}

/** rtnl_rtscope_a2n(): a scope name or number up to 255. */
export function scopeFromName(s: string): number | undefined {
  for (const [n, name] of SCOPE_NAMES) if (name === s) return n;
  return cUnsigned(s, 255);
}

/** Names of route protocols (/etc/iproute2/rt_protos). */
const PROTO_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'unspec'],
  [1, 'redirect'],
  [2, 'kernel'],
  [3, 'boot'],
  [4, 'static'],
  [8, 'gated'],
  [9, 'ra'],
  [10, 'mrt'],
  [11, 'zebra'],
  [12, 'bird'],
  [13, 'dnrouted'],
  [14, 'xorp'],
  [15, 'ntk'],
  [16, 'dhcp'],
  [18, 'keepalived'],
  [42, 'babel'],
  [99, 'openr'],
  [186, 'bgp'],
  [187, 'isis'],
  [188, 'ospf'],
  [189, 'rip'],
  [192, 'eigrp'],
]);

/** rtnl_rtprot_n2a(). */
export function protoName(p: number): string {
  return PROTO_NAMES.get(p) ?? String(p);
}

/** rtnl_rtprot_a2n(). */
export function protoFromName(s: string): number | undefined {
  for (const [n, name] of PROTO_NAMES) if (name === s) return n;
  return cUnsigned(s, 255);
}

/** rtnl_rttable_n2a(). */
export function tableName(t: number): string {
  if (t === 255) return 'local';
  if (t === 254) return 'main';
  if (t === 253) return 'default';
  if (t === 0) return 'unspec';
  return String(t);
}

/** rtnl_rttable_a2n(). */
export function tableFromName(s: string): number | undefined {
  if (s === 'local') return 255;
  if (s === 'main') return 254;
  if (s === 'default') return 253;
  if (s === 'unspec') return 0;
  return cUnsigned(s, 0xffffffff);
}
