/**
 * Name lookups as the machine's C library would answer them, from data
 * only: the lab's /etc/hosts, and the embedded netbase service and protocol
 * lists. Never touches the network, so listings never hang.
 */
import { formatIPv4, parseIPv4Numeric, type IPv4 } from '../addr/ipv4.js';
import { formatIPv6, ip6Equal, parseHosts6, type IPv6 } from '../addr/ipv6.js';
import { PROTOCOLS_TEXT, SERVICES_TEXT } from './netdb-data.js';

/** Host, service and protocol lookups for one machine. */
export interface NameDb {
  /** Addresses for a host name (getaddrinfo over /etc/hosts), in file order, duplicates removed. */
  hostAddrs(name: string): IPv4[];
  /** Canonical name for an address (gethostbyaddr over /etc/hosts). */
  hostName(addr: IPv4): string | undefined;
  /** Port for a service name and protocol (getservbyname); any protocol when `proto` is undefined. */
  servicePort(name: string, proto?: string): number | undefined;
  /** Service name for a port and protocol (getservbyport). */
  serviceName(port: number, proto: string): string | undefined;
  /** Protocol number for a name or alias (getprotobyname). */
  protoNumber(name: string): number | undefined;
  /** Official protocol name for a number (getprotobynumber). */
  protoName(num: number): string | undefined;
  /** Network address for a name in /etc/networks (getnetbyname). */
  networkAddr(name: string): IPv4 | undefined;
  /** Network name for an address in /etc/networks (getnetbyaddr). */
  networkName(addr: IPv4): string | undefined;
  /** IPv6 addresses for a host name (getaddrinfo with AF_INET6 over /etc/hosts); absent means none. */
  hostAddrs6?(name: string): IPv6[];
  /** Canonical name for an IPv6 address (getnameinfo over /etc/hosts); absent means none. */
  hostName6?(addr: IPv6): string | undefined;
}

/** Debian's default /etc/networks. */
export const DEFAULT_NETWORKS = 'default\t\t0.0.0.0\nloopback\t127.0.0.0\nlink-local\t169.254.0.0\n';

/** Debian's default /etc/hosts for a fresh machine. */
export const DEFAULT_HOSTS = '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n';

interface ServiceEntry {
  names: string[];
  port: number;
  proto: string;
}

let servicesCache: ServiceEntry[] | undefined;
function services(): ServiceEntry[] {
  if (!servicesCache) {
    servicesCache = SERVICES_TEXT.split('\n').map((line) => {
      const [name, pp, ...aliases] = line.split(' ');
      const [port, proto] = pp!.split('/');
      return { names: [name!, ...aliases], port: Number(port), proto: proto! };
    });
  }
  return servicesCache;
}

let protocolsCache: { names: string[]; num: number }[] | undefined;
function protocols(): { names: string[]; num: number }[] {
  if (!protocolsCache) {
    protocolsCache = PROTOCOLS_TEXT.split('\n').map((line) => {
      const [name, num, ...aliases] = line.split(' ');
      return { names: [name!, ...aliases], num: Number(num) };
    });
  }
  return protocolsCache;
}

/** Parsed /etc/hosts: IPv4 lines only, in order. */
interface HostLine {
  addr: IPv4;
  names: string[];
}

/** Parses an /etc/hosts text into IPv4 entries (glibc's files backend rules). */
export function parseHosts(text: string): HostLine[] {
  const out: HostLine[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [addrText, ...names] = line.split(/\s+/);
    if (!addrText || names.length === 0) continue;
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(addrText)) continue;
    const addr = parseIPv4Numeric(addrText);
    if (addr === undefined) continue;
    out.push({ addr, names });
  }
  return out;
}

/** Parses /etc/networks: "name number [aliases]" with short numbers filled from the right. */
export function parseNetworks(text: string): { names: string[]; addr: IPv4 }[] {
  const out: { names: string[]; addr: IPv4 }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [name, num, ...aliases] = line.split(/\s+/);
    if (!name || !num) continue;
    const parts = num.split('.').map(Number);
    if (parts.length > 4 || parts.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) continue;
    let v = 0;
    for (const n of parts) v = v * 256 + n;
    out.push({ names: [name, ...aliases], addr: v >>> 0 });
  }
  return out;
}

/** Builds a NameDb over the given /etc/hosts and /etc/networks texts. */
export function createNameDb(hostsText = '', networksText = DEFAULT_NETWORKS): NameDb {
  const hosts = parseHosts(hostsText);
  let hosts6: ReturnType<typeof parseHosts6> | undefined;
  const v6 = () => (hosts6 ??= parseHosts6(hostsText));
  const networks = parseNetworks(networksText);
  return {
    networkAddr(name) {
      return networks.find((n) => n.names.includes(name))?.addr;
    },
    networkName(addr) {
      return networks.find((n) => n.addr === addr)?.names[0];
    },
    hostAddrs(name) {
      const lower = name.toLowerCase();
      const seen = new Set<number>();
      const out: IPv4[] = [];
      for (const h of hosts) {
        if (h.names.some((n) => n.toLowerCase() === lower) && !seen.has(h.addr)) {
          seen.add(h.addr);
          out.push(h.addr);
        }
      }
      return out;
    },
    hostName(addr) {
      return hosts.find((h) => h.addr === addr)?.names[0];
    },
    hostAddrs6(name) {
      const lower = name.toLowerCase();
      const out: IPv6[] = [];
      for (const h of v6()) {
        if (h.names.some((n) => n.toLowerCase() === lower) && !out.some((a) => ip6Equal(a, h.addr))) out.push(h.addr);
      }
      return out;
    },
    hostName6(addr) {
      return v6().find((h) => ip6Equal(h.addr, addr))?.names[0];
    },
    servicePort(name, proto) {
      for (const s of services()) {
        if ((proto === undefined || s.proto === proto) && s.names.includes(name)) return s.port;
      }
      return undefined;
    },
    serviceName(port, proto) {
      return services().find((s) => s.port === port && s.proto === proto)?.names[0];
    },
    protoNumber(name) {
      return protocols().find((p) => p.names.includes(name))?.num;
    },
    protoName(num) {
      return protocols().find((p) => p.num === num)?.names[0];
    },
  };
}

/** Formats an IPv6 address for -L without -n (xtables_ip6addr_to_anyname): the host name if known, else numeric. */
export function addr6ToAnyName(names: NameDb, addr: IPv6): string {
  return names.hostName6?.(addr) ?? formatIPv6(addr);
}

/** Formats an address for -L without -n: the host name if known, else numeric. */
export function addrToAnyName(names: NameDb, addr: IPv4): string {
  return names.hostName(addr) ?? names.networkName(addr) ?? formatIPv4(addr);
}
