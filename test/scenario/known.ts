/**
 * Differences between the kernel and nflab that are known and reported,
 * kept here with their reason: each must still be seen in its scenario
 * (when it is fixed, the test says so and the entry goes).
 */
import type { Difference } from './compare.js';
import type { ScenarioOutcome } from './outcome.js';
import type { Scenario } from './types.js';

/** A known difference: in which scenario, where (a pattern over the difference's place), and why. */
export interface KnownDifference {
  scenario: string;
  where: RegExp;
  reason: string;
}

/**
 * Stack (src/core/stack/tcp-socket.ts): an ICMP destination unreachable
 * answering a SYN leaves nflab's socket in SYN-SENT (kept as a soft
 * error): the SYN is sent again after the first retransmission timeout and
 * only then does the connect fail. The kernel's tcp_v4_err ends a SYN-SENT
 * connection at the first such error, whatever its code. Seen as `nc -w 1`
 * timing out instead of "No route to host"/"Connection refused", and with
 * longer waits as one more SYN (and one more ICMP error) in the counters,
 * the captures and the LOG lines.
 */
export const ICMP_ERROR_IN_SYN_SENT = 'the stack keeps an ICMP error answering a SYN as a soft error and retransmits the SYN; the kernel fails the connect at once';

/** Clients (src/core/programs/ssh.ts): OpenSSH's connect() goes out with IP_TOS 0x10 (lowdelay); nflab's ssh sends TOS 0. */
export const SSH_TOS = 'ssh does not set IP_TOS 0x10 on its connection as Debian\'s OpenSSH does';

/**
 * World/bridge (src/core/path/bridge.ts, machine.ts): with
 * net.bridge.bridge-nf-call-iptables=1 (the default, and nflab's sysctl
 * says so) the kernel passes bridged IPv4 frames through the bridge
 * namespace's PREROUTING, FORWARD and POSTROUTING (br_netfilter), with
 * conntrack and NAT: a FORWARD policy DROP cuts two hosts on one bridge
 * apart, counters count their packets, a MASQUERADE rule matching their
 * source rewrites them. nflab bridges them without iptables. The kernel's
 * bridge also sends an IGMP report from its address when it comes up
 * (seen as an "unknown 2" conntrack entry and a POSTROUTING packet).
 */
export const BRIDGE_NETFILTER = 'bridged IPv4 frames do not cross iptables (br_netfilter, bridge-nf-call-iptables=1); the bridge\'s IGMP report is not sent';

/** nmap (src/core/programs/nmap*.ts): -sT as root prints a "MAC Address:" line the real one leaves out, and ends an open port's connection with FIN instead of RST (SO_LINGER 0). */
export const NMAP_CONNECT = 'nmap -sT prints "MAC Address:" and closes open connections with FIN (the real one: no MAC line, RST)';

/** nmap: -sU sends one payload a port where nmap 7.93 sends every payload nmap-payloads has for it (two for 53, 123, 161), and without answers reports "Host is up." where the real one gives the latency its ARP resolution measured. */
export const NMAP_UDP = 'nmap -sU sends one payload a port (the real one every payload listed: 2 for 53/123/161) and prints no latency without answers';

/**
 * FTP (src/core/programs/vsftpd*.ts, ftp.ts): the real vsftpd answers FEAT
 * with one write, so one segment, a line (211-Features:, " EPRT", " EPSV",
 * ... 211 End: nine segments, the client acknowledging every second); nflab's
 * sends the whole reply in one segment. The real tnftp sizes its sockets'
 * buffers (SYN with window 65535 and wscale 2, then windows of 32485 and
 * less); nflab's ftp opens with the stack's defaults (64240, wscale 10).
 * Seen in the server's counters and in captures.
 */
export const FTP_SEGMENTS = "vsftpd's FEAT reply goes out in one segment (the real one: a segment a line); ftp's windows are the stack's defaults (tnftp sizes its socket buffers: 65535, wscale 2)";

const FTP_COUNTS = /^(iptables-save -c of S|capture (lines|stderr))$/;

/** The known differences. */
export const KNOWN: KnownDifference[] = [
  { scenario: 'FTP passive with only 21 open: the listing stalls (seed 003)', where: FTP_COUNTS, reason: FTP_SEGMENTS },
  { scenario: 'FTP active with only 21 open: the data connection never opens (seed 003)', where: FTP_COUNTS, reason: FTP_SEGMENTS },
  { scenario: 'FTP active with 20 open too (seed 003)', where: FTP_COUNTS, reason: FTP_SEGMENTS },
  { scenario: 'FTP passive fixed with a passive port range (seed 003)', where: FTP_COUNTS, reason: FTP_SEGMENTS },
  { scenario: 'FTP passive fixed with the conntrack helper (-j CT --helper ftp) (seed 003)', where: FTP_COUNTS, reason: FTP_SEGMENTS },
  { scenario: 'CentOS default ruleset: REJECT icmp-host-prohibited (seed 000)', where: /^(step 6 .* stdout|capture (lines|stderr)|iptables-save -c of S)$/, reason: ICMP_ERROR_IN_SYN_SENT },
  { scenario: 'VPC pair: LOG, then DROP, then REJECT with the ICMP logged in OUTPUT (seed 004)', where: /^(step 9 .* stdout|iptables-save -c of S|LOG lines)$/, reason: `${ICMP_ERROR_IN_SYN_SENT}; ${SSH_TOS}` },
  { scenario: 'reproducer: nc -w 1 against REJECT gets the ICMP error at once', where: /^step [12] .* stderr$/, reason: ICMP_ERROR_IN_SYN_SENT },
  { scenario: 'reproducer: ssh marks its SYN with TOS 0x10', where: /^LOG lines$/, reason: SSH_TOS },
  { scenario: 'LEMON and APPLE behind a bridge, MASQUERADE to the Internet (seed 001)', where: /^(step 4 .* stdout|iptables-save -c of R|conntrack -L of R( stderr)?)$/, reason: BRIDGE_NETFILTER },
  { scenario: "reproducer: bridged frames cross the bridge namespace's FORWARD chain", where: /^(step 1 .* (status|stdout)|iptables-save -c of R)$/, reason: BRIDGE_NETFILTER },
  { scenario: 'nmap -sT -Pn -p 20-25,80,443 against the hardened server (seed 002)', where: /^(step 1 .* stdout|iptables-save -c of S|conntrack -L of S( stderr)?)$/, reason: NMAP_CONNECT },
  { scenario: 'nmap -sU -Pn -p 53,123,161 against the hardened server (seed 002)', where: /^(step 1 .* stdout|iptables-save -c of S)$/, reason: NMAP_UDP },
];

/** The places ICMP_ERROR_IN_SYN_SENT shows in: one more SYN and ICMP error a rejected connect. */
const PACKET_COUNTS = /^(iptables-save -c of \S+|capture (lines|stderr)|LOG lines|step \d+ \(\S+: iptables -(L|S|nvL).*\) stdout)$/;

/**
 * Why a difference of a random scenario is a known one, or undefined. A
 * random scenario shows ICMP_ERROR_IN_SYN_SENT in its packet counts,
 * captures and LOG lines when one of its nc connects failed on the kernel
 * side while an ICMP REJECT rule is in its rules: nflab's connect then
 * sends a second SYN before failing the same way.
 */
export function knownInRandom(s: Scenario, kernel: ScenarioOutcome, d: Difference): string | undefined {
  if (!PACKET_COUNTS.test(d.where)) return undefined;
  const icmpReject = Object.values(s.rules ?? {}).some((text) => text.split('\n').some((l) => /-j REJECT\b/.test(l) && !l.includes('tcp-reset')));
  if (!icmpReject) return undefined;
  const failed = s.steps.some((st, i) => st.argv[0] === 'nc' && /failed: (No route to host|Network is unreachable|Connection refused)/.test(kernel.steps[i]?.stderr ?? ''));
  return failed ? ICMP_ERROR_IN_SYN_SENT : undefined;
}
