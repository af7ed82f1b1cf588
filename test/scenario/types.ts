/**
 * A scenario of the scenario-level differential suite, as data: the
 * namespaces, the links between them, addresses, routes, sysctls, the
 * rules of each namespace, the services started in them, an optional
 * packet capture, then the client steps. test/scenario/kernel.ts builds it
 * with real namespaces and the Debian tools, test/scenario/nflab.ts in an
 * nflab lab; test/scenario/compare.ts compares what both saw.
 */

/** One end of a veth pair. */
export interface VethEnd {
  /** The namespace's short name. */
  ns: string;
  dev: string;
  /** The MAC address, fixed so that both sides print the same. */
  mac: string;
}

/** A veth pair between two namespaces (or inside one). */
export interface Veth {
  kind: 'veth';
  a: VethEnd;
  b: VethEnd;
}

/** A bridge in a namespace, with ports enslaved to it. */
export interface Bridge {
  kind: 'bridge';
  ns: string;
  dev: string;
  mac: string;
  ports: string[];
}

/** A service started in the background before the steps. */
export type Service =
  /** netcat-openbsd listening on a TCP port, accepting one connection after another. */
  | { kind: 'nc'; ns: string; port: number }
  /**
   * vsftpd with this vsftpd.conf (anonymous logins to the ftp user's empty
   * home, /srv/ftp, on both sides). The real one also gets background=NO.
   */
  | { kind: 'vsftpd'; ns: string; conf: string };

/** A command run in one namespace. */
export interface Step {
  ns: string;
  argv: string[];
  /** What the real tool's stdout and stderr must show: the scenario's story, checked on the kernel side. */
  expect?: RegExp;
  /** Standard input (an FTP client's commands). */
  stdin?: string;
  /** What the outcome is compared by; default 'text' (stdout, stderr, status). */
  check?: 'text' | 'nmap';
}

/** A whole scenario. */
export interface Scenario {
  name: string;
  /** Short namespace names, in creation order. */
  namespaces: string[];
  links: (Veth | Bridge)[];
  /** Addresses: namespace, device, CIDR. */
  addrs: [ns: string, dev: string, cidr: string][];
  /** Routes: namespace, then `ip route add` arguments. */
  routes?: [ns: string, ...args: string[]][];
  /** Sysctls: namespace, key, value. */
  sysctls?: [ns: string, key: string, value: string][];
  /** iptables-restore text per namespace. */
  rules?: Record<string, string>;
  services?: Service[];
  /** A tcpdump running in the background through the steps. */
  capture?: { ns: string; dev: string; filter: string[] };
  steps: Step[];
  /**
   * nflab builds the namespaces as lab hosts (`nflab host add`) and the veth
   * pairs as wires (`nflab wire add`), commands run with `nflab --host`; the
   * kernel side is the same. Only veth links then.
   */
  nflabHosts?: boolean;
  /** The LOG prefixes the rules use (kernel log lines are picked by them). */
  logPrefixes?: string[];
}
