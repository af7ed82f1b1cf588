/**
 * When connection tracking and defragmentation run in a network
 * namespace. The kernel registers the conntrack hooks (and IPv4
 * defragmentation with them) only while some rule holds a reference on
 * conntrack: the extensions whose kernel check takes one
 * (nf_ct_netns_get). Measured with iptables 1.8.9 (nf_tables) on Linux
 * 6.x: a rule using one of these, in any table and chain (reachable or
 * not), turns tracking on; deleting the last one turns it off (entries
 * already in the table stay until they expire). A nat table by itself,
 * even with rules, does not: only its SNAT/DNAT/MASQUERADE/REDIRECT/NETMAP
 * rules do. NOTRACK and CT --notrack do not either.
 *
 * Defragmentation also runs without conntrack while a rule uses the socket
 * match or the TPROXY target (they enable nf_defrag_ipv4 themselves).
 */

/** Matches whose rules turn conntrack on. */
export const CONNTRACK_MATCHES: ReadonlySet<string> = new Set(['state', 'conntrack', 'connmark', 'connlimit', 'connbytes', 'connlabel', 'helper', 'cluster']);

/** Targets whose rules turn conntrack on (CT only without --notrack). */
export const CONNTRACK_TARGETS: ReadonlySet<string> = new Set([
  'CONNMARK',
  'CT',
  'SNAT',
  'DNAT',
  'MASQUERADE',
  'REDIRECT',
  'NETMAP',
  'SYNPROXY',
  'CONNSECMARK',
]);

/** The CT target's "don't track" flag (XT_CT_NOTRACK). */
const XT_CT_NOTRACK = 0x01;

/**
 * Whether a rule's match or target makes the kernel track connections.
 * `info` is the extension's stored data (for CT: its flags).
 */
export function needsConntrack(kind: 'match' | 'target', name: string, info?: { flags?: number }): boolean {
  if (kind === 'match') return CONNTRACK_MATCHES.has(name);
  if (name === 'CT') return !((info?.flags ?? 0) & XT_CT_NOTRACK);
  return CONNTRACK_TARGETS.has(name);
}

/** Whether a rule's match or target makes the kernel defragment IPv4 even without conntrack. */
export function needsDefrag(kind: 'match' | 'target', name: string, info?: { flags?: number }): boolean {
  if (kind === 'match' && name === 'socket') return true;
  if (kind === 'target' && name === 'TPROXY') return true;
  return needsConntrack(kind, name, info);
}
