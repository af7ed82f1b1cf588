/**
 * What the lab's client programs share: GNU getopt-style option parsing,
 * host names through the host's /etc/hosts (forward and reverse, as glibc's
 * "files" source answers them; the lab has no DNS server reachable, so a
 * name not found there fails as getaddrinfo's "Temporary failure in name
 * resolution"), service names from netbase, and waiting on sockets.
 */
import type { ProgramContext, Wait } from './api.js';
import type { Errno, SocketBase, TcpSocket } from '../stack/api.js';
import { formatIPv4, inetAton } from '../addr/ipv4.js';
import { parseHosts } from '../xt/namedb.js';
import { SERVICES_TEXT } from '../xt/netdb-data.js';

/** One option getopt found: its letter and argument. */
export interface ParsedOpt {
  opt: string;
  arg?: string;
}

/** What getopt returns: options in order, the operands, or the message of the first error. */
export interface GetoptResult {
  opts: ParsedOpt[];
  operands: string[];
  /** glibc's diagnostic without the trailing newline ("ping: invalid option -- 'x'"). */
  error?: string;
  /** The option letter the error is about. */
  errorOpt?: string;
}

/**
 * Parses `args` (the arguments after argv[0]) as glibc's getopt does with
 * `spec` ("c:i:n..."): options may follow operands (GNU permutation) unless
 * `spec` starts with '+'; "--" ends the options; a letter followed by ':'
 * takes an argument, joined ("-c3") or in the next word.
 */
export function getopt(prog: string, args: readonly string[], spec: string): GetoptResult {
  const posix = spec.startsWith('+');
  if (posix) spec = spec.slice(1);
  const takes = new Map<string, boolean>();
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i]!;
    if (c === ':') continue;
    takes.set(c, spec[i + 1] === ':');
  }
  const opts: ParsedOpt[] = [];
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (a.length < 2 || a[0] !== '-') {
      if (posix) {
        operands.push(...args.slice(i));
        break;
      }
      operands.push(a);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const needs = takes.get(c);
      if (needs === undefined) return { opts, operands, error: `${prog}: invalid option -- '${c}'`, errorOpt: c };
      if (!needs) {
        opts.push({ opt: c });
        continue;
      }
      if (j + 1 < a.length) {
        opts.push({ opt: c, arg: a.slice(j + 1) });
      } else if (i + 1 < args.length) {
        opts.push({ opt: c, arg: args[++i]! });
      } else {
        return { opts, operands, error: `${prog}: option requires an argument -- '${c}'`, errorOpt: c };
      }
      break;
    }
  }
  return { opts, operands };
}

/** An address in dotted-quad form. */
export function ntoa(addr: number): string {
  return formatIPv4(addr >>> 0);
}

/** A host name resolved: its address and the name getaddrinfo reports as canonical. */
export interface ResolvedHost {
  addr: number;
  /** The official name of the /etc/hosts line, or the text given when it was numeric. */
  canonical: string;
  /** True when the text was an address, not a name. */
  numeric: boolean;
}

/** The host's /etc/hosts lines (IPv4 only). */
function hostsLines(ctx: ProgramContext): ReturnType<typeof parseHosts> {
  return parseHosts(ctx.fs.read('/etc/hosts') ?? '');
}

/**
 * Resolves a host name as getaddrinfo does for these clients: an address
 * in inet_aton's forms, else the first /etc/hosts line naming it (any
 * name of the line, case-insensitively); null when neither knows it.
 */
export function lookupHost(ctx: ProgramContext, name: string): ResolvedHost | null {
  const numeric = inetAton(name);
  if (numeric !== undefined) return { addr: numeric, canonical: name, numeric: true };
  const lower = name.toLowerCase();
  for (const h of hostsLines(ctx)) {
    if (h.names.some((n) => n.toLowerCase() === lower)) return { addr: h.addr, canonical: h.names[0]!, numeric: false };
  }
  const viaLab = ctx.resolve(name);
  if (viaLab !== null) return { addr: viaLab >>> 0, canonical: name, numeric: false };
  return null;
}

/** The official name /etc/hosts gives an address (gethostbyaddr through "files"), or null. */
export function reverseLookup(ctx: ProgramContext, addr: number): string | null {
  addr >>>= 0;
  for (const h of hostsLines(ctx)) if (h.addr === addr) return h.names[0]!;
  return null;
}

/** getaddrinfo's message when a name cannot be resolved in the lab (no DNS server answers). */
export const EAI_AGAIN_TEXT = 'Temporary failure in name resolution';

interface ServiceLine {
  name: string;
  aliases: string[];
  port: number;
  proto: string;
}

let serviceLines: ServiceLine[] | undefined;
function servicesTable(): ServiceLine[] {
  if (!serviceLines) {
    serviceLines = SERVICES_TEXT.split('\n').map((line) => {
      const [name, pp, ...aliases] = line.split(' ');
      const [port, proto] = pp!.split('/');
      return { name: name!, aliases, port: Number(port), proto: proto! };
    });
  }
  return serviceLines;
}

/** getservbyport: the service name of a port, or null. */
export function serviceName(port: number, proto: 'tcp' | 'udp'): string | null {
  for (const s of servicesTable()) if (s.port === port && s.proto === proto) return s.name;
  return null;
}

/** getservbyname: the port of a service name or alias, or null. */
export function servicePort(name: string, proto: 'tcp' | 'udp'): number | null {
  for (const s of servicesTable()) if (s.proto === proto && (s.name === name || s.aliases.includes(name))) return s.port;
  return null;
}

/** Makes the stack wake this program when the socket changes. */
export function own<T extends SocketBase>(ctx: ProgramContext, sock: T): T {
  sock.owner = { wake: () => ctx.wake() };
  return sock;
}

/** How a TCP connect ended: established, failed with an errno, or still pending at the deadline. */
export type ConnectOutcome = 'connected' | 'timeout' | Errno;

/**
 * Waits for a connect started on `sock` to finish, until the virtual time
 * `deadlineNs` (Infinity: the kernel's own SYN retries decide).
 */
export function* waitConnect(ctx: ProgramContext, sock: TcpSocket, deadlineNs: number): Generator<Wait, ConnectOutcome, void> {
  for (;;) {
    if (sock.state === 'ESTAB' || sock.state === 'CLOSE-WAIT') return 'connected';
    if (sock.state !== 'SYN-SENT') return sock.error ?? 'ECONNREFUSED';
    if (ctx.now() >= deadlineNs) return 'timeout';
    yield ctx.until(deadlineNs);
  }
}

/** Text bytes (UTF-8). */
export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

/** Bytes as text (UTF-8, invalid sequences replaced). */
export function fromUtf8(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

/** Parses a decimal number of seconds with a fraction ("0.2", "5"); NaN when malformed. */
export function parseSeconds(text: string): number {
  if (!/^\s*[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text)) return NaN;
  return Number(text);
}
