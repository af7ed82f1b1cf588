/**
 * The text `iptables -h` prints: the general usage, then the help of each
 * loaded match and of the standard target.
 */
import type { ExtInstance } from './parse.js';

/**
 * Help for `iptables -h`: the usage, then a section for the loaded target
 * and for each loaded match (xtables_printhelp).
 */
export function iptablesHelp(matches: ExtInstance[], target?: ExtInstance): string {
  return withSections(USAGE, matches, target);
}

/**
 * The general part of `ip6tables -h`: iptables' with the program's name,
 * -4 and -6 the other way round, and no -f.
 */
function usage6(): string {
  return USAGE.replace(/(^|Usage: |\n {7})iptables /g, '$1ip6tables ')
    .replace('Nothing (line is ignored by ip6tables-restore)', 'Error (line is ignored by ip6tables-restore)')
    .replace('Error (line is ignored by iptables-restore)', 'Nothing (line is ignored by iptables-restore)')
    .replace('[!] --fragment\t-f\t\tmatch second or further fragments only\n', '');
}

/** Help for `ip6tables -h`. */
export function ip6tablesHelp(matches: ExtInstance[], target?: ExtInstance): string {
  return withSections(usage6(), matches, target);
}

function withSections(usage: string, matches: ExtInstance[], target?: ExtInstance): string {
  let s = usage;
  const section = (i: ExtInstance) => '\n' + (i.def.help ? i.def.help() : `${i.def.name} does not take any options\n`);
  if (target) s += section(target);
  for (const m of matches) s += section(m);
  return s;
}

const USAGE = "iptables v1.8.9 (nf_tables)\n\nUsage: iptables -[ACD] chain rule-specification [options]\n       iptables -I chain [rulenum] rule-specification [options]\n       iptables -R chain rulenum rule-specification [options]\n       iptables -D chain rulenum [options]\n       iptables -[LS] [chain [rulenum]] [options]\n       iptables -[FZ] [chain] [options]\n       iptables -[NX] chain\n       iptables -E old-chain-name new-chain-name\n       iptables -P chain target [options]\n       iptables -h (print this help information)\n\nCommands:\nEither long or short options are allowed.\n  --append  -A chain\t\tAppend to chain\n  --check   -C chain\t\tCheck for the existence of a rule\n  --delete  -D chain\t\tDelete matching rule from chain\n  --delete  -D chain rulenum\n\t\t\t\tDelete rule rulenum (1 = first) from chain\n  --insert  -I chain [rulenum]\n\t\t\t\tInsert in chain as rulenum (default 1=first)\n  --replace -R chain rulenum\n\t\t\t\tReplace rule rulenum (1 = first) in chain\n  --list    -L [chain [rulenum]]\n\t\t\t\tList the rules in a chain or all chains\n  --list-rules -S [chain [rulenum]]\n\t\t\t\tPrint the rules in a chain or all chains\n  --flush   -F [chain]\t\tDelete all rules in  chain or all chains\n  --zero    -Z [chain [rulenum]]\n\t\t\t\tZero counters in chain or all chains\n  --new     -N chain\t\tCreate a new user-defined chain\n  --delete-chain\n            -X [chain]\t\tDelete a user-defined chain\n  --policy  -P chain target\n\t\t\t\tChange policy on chain to target\n  --rename-chain\n            -E old-chain new-chain\n\t\t\t\tChange chain name, (moving any references)\n\nOptions:\n    --ipv4\t-4\t\tNothing (line is ignored by ip6tables-restore)\n    --ipv6\t-6\t\tError (line is ignored by iptables-restore)\n[!] --protocol\t-p proto\tprotocol: by number or name, eg. `tcp'\n[!] --source\t-s address[/mask][...]\n\t\t\t\tsource specification\n[!] --destination -d address[/mask][...]\n\t\t\t\tdestination specification\n[!] --in-interface -i input name[+]\n\t\t\t\tnetwork interface name ([+] for wildcard)\n --jump\t-j target\n\t\t\t\ttarget for rule (may load target extension)\n  --goto      -g chain\n\t\t\t       jump to chain with no return\n  --match\t-m match\n\t\t\t\textended match (may load extension)\n  --numeric\t-n\t\tnumeric output of addresses and ports\n[!] --out-interface -o output name[+]\n\t\t\t\tnetwork interface name ([+] for wildcard)\n  --table\t-t table\ttable to manipulate (default: `filter')\n  --verbose\t-v\t\tverbose mode\n  --wait\t-w [seconds]\tmaximum wait to acquire xtables lock before give up\n  --line-numbers\t\tprint line numbers when listing\n  --exact\t-x\t\texpand numbers (display exact values)\n[!] --fragment\t-f\t\tmatch second or further fragments only\n  --modprobe=<command>\t\ttry to insert modules using this command\n  --set-counters -c PKTS BYTES\tset the counter during insert/append\n[!] --version\t-V\t\tprint package version.\n";
