/**
 * The names tcpdump shows and its filters accept, from a lab host's files:
 * host names from /etc/hosts, networks from /etc/networks, Ethernet names
 * from /etc/ethers, service names from the netbase list, interface names
 * from the namespace's links. The lab has no DNS: an address not in
 * /etc/hosts prints as a number, as on a machine whose resolver fails.
 */
import type { ProgramContext } from './api.js';
import type { FilterNames } from './tcpdump-filter.js';
import type { PrintNames } from '../wire/print.js';
import { DEFAULT_NETWORKS, createNameDb } from '../xt/namedb.js';
import { parseMac } from '../wire/mac.js';

/** /etc/ethers as (address, name) pairs in file order. */
export function parseEthers(text: string): { mac: string; name: string }[] {
  const out: { mac: string; name: string }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [addr, name] = line.split(/\s+/);
    if (!addr || !name) continue;
    const mac = parseMac(addr);
    if (!mac) continue;
    out.push({ mac: Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':'), name });
  }
  return out;
}

/** The printer's and the filter's lookups for a program's host and namespace. */
export function tcpdumpNames(ctx: ProgramContext): { print: PrintNames; filter: FilterNames } {
  const db = createNameDb(ctx.fs.read('/etc/hosts') ?? '', ctx.fs.read('/etc/networks') ?? DEFAULT_NETWORKS);
  let ethers: { mac: string; name: string }[] | undefined;
  const ethersList = () => (ethers ??= parseEthers(ctx.fs.read('/etc/ethers') ?? ''));
  return {
    print: {
      hostName: (a) => db.hostName(a),
      serviceName: (p, proto) => db.serviceName(p, proto),
      etherName: (mac) => ethersList().find((e) => e.mac === mac)?.name,
      ifName: (i) => ctx.machine.net.links.find((l) => l.index === i)?.name,
    },
    filter: {
      hostAddrs: (n) => db.hostAddrs(n),
      servicePort: (n, proto) => db.servicePort(n, proto),
      networkAddr: (n) => db.networkAddr(n),
      etherAddr: (n) => {
        const e = ethersList().find((x) => x.name === n);
        return e ? parseMac(e.mac) : undefined;
      },
    },
  };
}

/** The netmask of a prefix length. */
export function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}
