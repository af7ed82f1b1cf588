/**
 * The packet benchmark's rule sets: a stateful FORWARD chain of 10, 1,000 or 10,000 rules for
 * the firewall of the benchmark capture, as iptables-restore input.
 *
 * The chain starts with `-m state --state RELATED,ESTABLISHED -j ACCEPT`, so that every packet
 * of an existing connection leaves at rule 1. It ends with the nine rules that let the capture's
 * services through (web and DNS/NTP from the LAN, web, mail, SSH and ping to the DMZ) or drop
 * its probes, and the policy drops the rest. Between the two, the bigger sets hold a realistic
 * mix of filler rules (addresses and networks, -i/-o, tcp/udp ports and ranges, multiport, icmp
 * types, an INVALID drop), each ACCEPT or DROP, none of which matches a packet of the capture,
 * so that every new flow walks the whole chain: the worst case of a linear rule list.
 */
import { Rng } from './gen-ruleset.js';

/** The rules that decide the capture's new flows, in order (after the state rule and the fillers). */
export const SERVICE_RULES = [
  '-s 10.1.0.0/16 -i eth0 -o eth1 -p tcp -m multiport --dports 80,443 -j ACCEPT',
  '-s 10.1.0.0/16 -p udp -m udp --dport 53 -j ACCEPT',
  '-s 10.1.0.0/16 -p udp -m udp --dport 123 -j ACCEPT',
  '-d 10.2.0.0/24 -p tcp -m multiport --dports 80,443 -j ACCEPT',
  '-d 10.2.0.24/30 -p tcp -m tcp --dport 25 -j ACCEPT',
  '-s 198.18.0.0/24 -d 10.2.0.10/32 -p tcp -m tcp --dport 22 -j ACCEPT',
  '-d 10.2.0.0/24 -p icmp -m icmp --icmp-type 8 -j ACCEPT',
  '-p tcp -m multiport --dports 23,445,3389 -j DROP',
  '-p udp -m multiport --dports 161,1900 -j DROP',
] as const;

/** The first rule: packets of known connections go through. */
export const STATE_RULE = '-m state --state RELATED,ESTABLISHED -j ACCEPT';

/** TCP and UDP ports of filler rules: services the capture never uses. */
const TCP_POOL = [21, 110, 143, 389, 465, 587, 636, 873, 993, 995, 1194, 1521, 2049, 2222, 3128, 3306, 5060, 5432, 5672, 5900, 5985, 6379, 8000, 8080, 8443, 9000, 9090, 9200, 11211, 27017];
const UDP_POOL = [67, 69, 137, 138, 500, 514, 1194, 1812, 1813, 4500, 5060, 5353, 51820];
/** TCP port ranges of filler rules (none holds a port the capture uses). */
const TCP_RANGES = ['6000:6063', '8000:8099', '9100:9199', '30000:32767', '49152:49200'];
/** Interfaces other than the capture's eth0 (in) and eth1 (out). */
const OTHER_IFACES = ['eth2', 'eth3', 'vlan+', 'wg0', 'tun+', 'bond0'];

function pickSome(rng: Rng, pool: readonly number[], n: number): number[] {
  const out = new Set<number>();
  while (out.size < n) out.add(rng.pick(pool));
  return [...out];
}

/** One filler rule; none matches a packet of the capture. */
function fillerRule(rng: Rng): string {
  const verdict = rng.chance(0.6) ? 'ACCEPT' : 'DROP';
  const form = rng.int(0, 11);
  const lanNet = `10.1.${rng.int(0, 255)}.0/24`;
  const dmzHost = `10.2.0.${rng.int(1, 254)}/32`;
  const unused = `172.${rng.int(16, 31)}.${rng.int(0, 255)}.0/${rng.pick([24, 25, 26, 27, 28])}`;
  switch (form) {
    case 0:
      // networks nobody in the capture uses
      return `-s ${unused} -d ${rng.chance(0.5) ? dmzHost : `172.${rng.int(16, 31)}.${rng.int(0, 255)}.0/24`} -j ${verdict}`;
    case 1:
      return `-d ${dmzHost} -p tcp -m tcp --dport ${rng.pick(TCP_POOL)} -j ${verdict}`;
    case 2:
      return `-s ${lanNet} -p tcp -m multiport --dports ${pickSome(rng, TCP_POOL, rng.int(2, 6)).join(',')} -j ${verdict}`;
    case 3:
      return `-s ${rng.chance(0.5) ? lanNet : '10.1.0.0/16'} -i ${rng.pick(OTHER_IFACES)} -j ${verdict}`;
    case 4:
      return `-s ${rng.chance(0.5) ? '10.1.0.0/16' : lanNet} -p udp -m udp --dport ${rng.pick(UDP_POOL)} -j ${verdict}`;
    case 5:
      return `-d 198.19.${rng.int(0, 255)}.0/24 -p tcp -m tcp --dport ${rng.pick(TCP_POOL)} -j ${verdict}`;
    case 6:
      return `-s 198.18.${rng.int(64, 127)}.${rng.int(1, 254)}/32 -p tcp -m multiport --dports ${pickSome(rng, TCP_POOL, rng.int(2, 4)).join(',')} -j DROP`;
    case 7:
      return `-d 10.2.0.0/24 -p icmp -m icmp --icmp-type ${rng.pick(['13', '17', '5', '3/4'])} -j DROP`;
    case 8:
      return `-s 203.0.113.${rng.int(1, 254)}/32 -j DROP`;
    case 9:
      return `-i eth0 -o ${rng.pick(OTHER_IFACES)} -d ${rng.chance(0.5) ? '10.2.0.0/24' : lanNet} -j ${verdict}`;
    case 10:
      return `-p tcp -m tcp --sport 1024:65535 --dport ${rng.pick(TCP_RANGES)} -j ${verdict}`;
    default:
      return `-d ${dmzHost} -p udp -m multiport --dports ${pickSome(rng, UDP_POOL, rng.int(2, 4)).join(',')} -j ${verdict}`;
  }
}

/**
 * The rule set of `rules` FORWARD rules (at least 10) as iptables-restore input; the same
 * `rules` and `seed` always give the same text.
 */
export function benchRuleset(rules: number, seed: number): string {
  if (rules < SERVICE_RULES.length + 1) throw new Error(`a rule set needs at least ${SERVICE_RULES.length + 1} rules`);
  const rng = new Rng(seed ^ rules);
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD DROP [0:0]', ':OUTPUT ACCEPT [0:0]', `-A FORWARD ${STATE_RULE}`];
  const fillers = rules - 1 - SERVICE_RULES.length;
  for (let i = 0; i < fillers; i++) {
    // an INVALID drop near the top, as many rule sets have
    lines.push(`-A FORWARD ${i === 0 ? '-m state --state INVALID -j DROP' : fillerRule(rng)}`);
  }
  for (const r of SERVICE_RULES) lines.push(`-A FORWARD ${r}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}
