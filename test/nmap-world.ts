/**
 * A two-host lab for nmap's tests: a scanner and a target joined by a
 * wire, each a real Machine with its own rules (the packet path, REJECT,
 * conntrack and ICMP rate limits are the real ones), run by the lab's
 * World. The sockets are a small stand-in: the scanner's raw socket sends
 * what nmap built, and the target answers a SYN to a listening port with
 * a SYN/ACK and a datagram to an answering UDP port with a reply; every
 * other packet goes to the machine's own handling (resets, port
 * unreachables).
 */
import { addAddress4 } from '../src/core/net/addr4.js';
import { addLink, setLinkMac, setLinkUp } from '../src/core/net/links.js';
import { linkByName } from '../src/core/net/state.js';
import type { NetState } from '../src/core/net/types.js';
import { newMachineState } from '../src/core/path/machine.js';
import type { Skb } from '../src/core/path/skb.js';
import type { HostFs, Program } from '../src/core/programs/api.js';
import type { Errno, RawSocket, SockAddr, SocketDemux, SocketLayer, StackEnv, TcpSocket, UdpSocket } from '../src/core/stack/api.js';
import { fillIpv4Checksum, fillTcpChecksum, fillUdpChecksum } from '../src/core/wire/checksum.js';
import { World } from '../src/core/world/world.js';
import { INIT_NETNS, newWorldState, newHostState, type WorldState } from '../src/core/world/state.js';
import { runIptables } from '../src/cli/iptables/tool.js';
import { createNameDb } from '../src/core/xt/namedb.js';
import { parseIPv4Numeric } from '../src/core/addr/ipv4.js';

/** What the target listens on. */
export interface TargetServices {
  /** TCP ports with a listener (answered with SYN/ACK). */
  tcp?: number[];
  /** UDP ports whose service answers any datagram. */
  udpAnswer?: number[];
  /** UDP ports with a socket that reads datagrams and never answers (nc -u -l). */
  udpSilent?: number[];
}

/** A lab to scan: the rules on the target and what listens there. */
export interface ScanLab {
  /** iptables commands (argument strings) on the target, in order. */
  targetRules?: string[];
  /** sysctls of the target (dotted keys). */
  targetSysctl?: Record<string, string>;
  services?: TargetServices;
}

/** The scanner's and the target's addresses in these labs. */
export const SCANNER = '10.9.0.1';
export const TARGET = '10.9.0.2';

const ip = (s: string): number => parseIPv4Numeric(s)!;

function configure(net: NetState, addr: string, mac: string): number {
  addLink(net, 'eth0', 'ether');
  const eth = linkByName(net, 'eth0')!;
  setLinkMac(net, eth, mac);
  addAddress4(net, eth, { local: ip(addr), address: ip(addr), prefixlen: 24, broadcast: (ip(addr) | 0xff) >>> 0, scope: 0 });
  setLinkUp(net, eth, true);
  const lo = linkByName(net, 'lo');
  if (lo) {
    addAddress4(net, lo, { local: ip('127.0.0.1'), address: ip('127.0.0.1'), prefixlen: 8, broadcast: ip('127.255.255.255'), scope: 254 });
    setLinkUp(net, lo, true);
  }
  return eth.index;
}

const raw16 = (b: Uint8Array, o: number): number => (b[o]! << 8) | b[o + 1]!;
const put16 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = v >>> 8;
  b[o + 1] = v & 255;
};

/** The stand-in socket layer. */
class LabSockets implements SocketLayer, SocketDemux {
  constructor(
    private readonly env: StackEnv,
    private readonly services: TargetServices,
  ) {}

  tcp(): TcpSocket {
    throw new Error('the nmap test lab has no TCP sockets');
  }

  udp(): UdpSocket {
    throw new Error('the nmap test lab has no UDP sockets');
  }

  raw(protocol: number): RawSocket {
    const env = this.env;
    return {
      kind: 'raw',
      protocol,
      owner: null,
      error: null,
      local: { addr: 0, port: 0 } as SockAddr,
      close() {},
      send(payload: Uint8Array, _to: number, opts?: { hdrincl?: boolean }): Errno | null {
        if (!opts?.hdrincl) throw new Error('the nmap test lab sends whole datagrams only');
        return env.output(payload.slice());
      },
      recv: () => null,
    };
  }

  list() {
    return [];
  }

  deliver(skb: Skb): boolean {
    const d = skb.data;
    const ihl = (d[0]! & 15) * 4;
    const proto = d[9];
    const src = d.subarray(12, 16);
    const dst = d.subarray(16, 20);
    if (proto === 6) {
      const dport = raw16(d, ihl + 2);
      if (!(this.services.tcp ?? []).includes(dport)) return false;
      const flags = d[ihl + 13]!;
      if (flags & 0x04) return true; // the scanner's reset after our SYN/ACK: the half-open connection goes
      if (flags & 0x10) return false; // an ACK to a listener: the host resets
      if (!(flags & 0x02)) return true; // a listener drops segments with none of SYN, ACK, RST (NULL, FIN, XMAS probes)
      const r = new Uint8Array(44);
      r[0] = 0x45;
      r[8] = 64;
      r[9] = 6;
      r.set(dst, 12);
      r.set(src, 16);
      put16(r, 20, dport);
      put16(r, 22, raw16(d, ihl));
      const seq = ((d[ihl + 4]! << 24) | (d[ihl + 5]! << 16) | (d[ihl + 6]! << 8) | d[ihl + 7]!) >>> 0;
      const ack = (seq + 1) >>> 0;
      r[28] = ack >>> 24;
      r[29] = (ack >>> 16) & 255;
      r[30] = (ack >>> 8) & 255;
      r[31] = ack & 255;
      r[24] = 0x11;
      r[32] = 0x60;
      r[33] = 0x12;
      put16(r, 34, 64240);
      r[40] = 2;
      r[41] = 4;
      put16(r, 42, 1460);
      put16(r, 2, 44);
      fillTcpChecksum(r, 20, 24, raw16(r, 12) * 65536 + raw16(r, 14), raw16(r, 16) * 65536 + raw16(r, 18));
      fillIpv4Checksum(r, 0);
      this.env.output(r);
      return true;
    }
    if (proto === 17) {
      const dport = raw16(d, ihl + 2);
      if ((this.services.udpSilent ?? []).includes(dport)) return true;
      if (!(this.services.udpAnswer ?? []).includes(dport)) return false;
      const r = new Uint8Array(32);
      r[0] = 0x45;
      r[8] = 64;
      r[9] = 17;
      r.set(dst, 12);
      r.set(src, 16);
      put16(r, 20, dport);
      put16(r, 22, raw16(d, ihl));
      put16(r, 24, 12);
      r.set([0x6f, 0x6b, 0x0a, 0x00], 28);
      put16(r, 2, 32);
      fillUdpChecksum(r, 20, 12, raw16(r, 12) * 65536 + raw16(r, 14), raw16(r, 16) * 65536 + raw16(r, 18));
      fillIpv4Checksum(r, 0);
      this.env.output(r);
      return true;
    }
    return false;
  }
}

/** In-memory files of a host. */
function memFs(): HostFs {
  const files = new Map<string, string>();
  return {
    read: (p) => files.get(p),
    write: (p, t) => void files.set(p, t),
    append: (p, t) => void files.set(p, (files.get(p) ?? '') + t),
    writeBytes: () => {},
  };
}

/** What a run of a program in the lab printed. */
export interface LabRun {
  stdout: string;
  stderr: string;
  status: number;
  /** Virtual time the run took (ns). */
  elapsedNs: number;
}

/** Builds the lab and runs `program argv` on the scanner. */
export function runInLab(lab: ScanLab, program: Program, argv: string[]): LabRun {
  const state: WorldState = newWorldState();
  state.hosts['srv'] = newHostState();
  const boot = 1_763_700_000;
  const scanNs = (state.hosts['main']!.netns[INIT_NETNS]!.machine = newMachineState(boot));
  const targetNs = (state.hosts['srv']!.netns[INIT_NETNS]!.machine = newMachineState(boot));
  const a = configure(scanNs.net, SCANNER, '02:00:00:00:00:01');
  const b = configure(targetNs.net, TARGET, '02:00:00:00:00:02');
  for (const [k, v] of Object.entries(lab.targetSysctl ?? {})) targetNs.net.sysctl[k] = v;
  state.wires.push({ name: 'w0', ends: [{ host: 'main', netns: INIT_NETNS, ifindex: a }, { host: 'srv', netns: INIT_NETNS, ifindex: b }] });
  const names = createNameDb();
  let rs = state.hosts['srv']!.netns[INIT_NETNS]!.ruleset;
  for (const rule of lab.targetRules ?? []) {
    const r = runIptables(rule.split(' '), rs, names);
    if (r.status !== 0) throw new Error(`iptables ${rule}: ${r.stderr}`);
    if (r.ruleset) rs = r.ruleset;
  }
  state.hosts['srv']!.netns[INIT_NETNS]!.ruleset = rs;
  let stdout = '';
  let stderr = '';
  const fss = new Map<string, HostFs>();
  const world = new World(state, {
    fs: (h) => {
      let f = fss.get(h);
      if (!f) fss.set(h, (f = memFs()));
      return f;
    },
    hostname: (h) => h,
    write: (fd, text) => {
      if (fd === 1) stdout += text;
      else stderr += text;
    },
    bootWall: () => boot,
    createSockets: (env) => new LabSockets(env, lab.services ?? {}),
    program: () => undefined,
  });
  const before = world.now();
  const status = world.runForeground({ host: 'main', netns: INIT_NETNS }, program, argv);
  return { stdout, stderr, status, elapsedNs: world.now() - before };
}
