/**
 * ip6tables, ip6tables-save and ip6tables-restore: IPv6 address forms and
 * masks, the -L/-S/save renderings of the IPv6 rule set, the IPv6-only
 * options and refusals (-f, -4/-6, extension-header protocols), the IPv6
 * extensions and the family-aware ones, restore files, and the separation
 * of the IPv4 and IPv6 rule sets. Every case ends with `ip6tables-save -c`
 * (the harness adds `iptables-save -c` after it).
 */
import { cmd, kase } from '../diff/shell.js';
import type { Case, Step } from '../diff/types.js';

/** An ip6tables-restore step with the given input and extra options. */
function restore6(stdin: string, options = ''): Step {
  return cmd(`ip6tables-restore ${options}`.trim(), stdin);
}

/** The listings of one IPv6 table. */
function listings6(table: string): string[] {
  const t = table === 'filter' ? '' : ` -t ${table}`;
  return [`ip6tables${t} -S`, `ip6tables${t} -L`, `ip6tables${t} -L -n -v`, `ip6tables${t} -L -n -v -x --line-numbers`];
}

/** A case per command line: the line, then the listings of the table it names and the final dump. */
function shown6(prefix: string, lines: readonly string[]): Case[] {
  return lines.map((line, i) => {
    const m = / -t (\S+)/.exec(line);
    return kase(`${prefix}/${String(i + 1).padStart(3, '0')} ${line}`, [line, ...listings6(m ? m[1]! : 'filter'), 'ip6tables-save -c']);
  });
}

const addressForms = [
  'ip6tables -A INPUT -s 2001:db8::1/64 -d fe80::/10 -j ACCEPT',
  'ip6tables -A INPUT -s ::1 -j ACCEPT',
  'ip6tables -A INPUT ! -s ::1 ! -d ff02::1 -j DROP',
  'ip6tables -A INPUT -s ::/128 -j DROP',
  'ip6tables -A INPUT -s ::/0 -d ::0/0 -j DROP',
  'ip6tables -A INPUT -s x/0',
  'ip6tables -A INPUT -s 2001:db8::/ffff:0:ffff:: -j DROP',
  'ip6tables -A INPUT -s 2001:db8::/ffff:ffff:ff00:: -j DROP',
  'ip6tables -A INPUT -s 1::/0x10 -d 1::/010',
  'ip6tables -A INPUT -s 1::1/127 -d 1::1/1',
  'ip6tables -A INPUT -s ::ffff:1.2.3.4 -d ::1.2.3.4',
  'ip6tables -A INPUT -s 0:0:0:0:0:ffff:102:304',
  'ip6tables -A INPUT -s 1:0:0:4:0:0:0:8 -d 1:2:3:4:5:6:7:8',
  'ip6tables -A INPUT -s 1::1,2::2 -d 3::3,4::4 -j ACCEPT',
  'ip6tables -A INPUT -s 1::1,1::1',
  'ip6tables -A INPUT -s " 1::1, 2::2"',
  'ip6tables -A INPUT -s ABCD:EF01::2345/48',
  'ip6tables -A INPUT -i eth0 -o eth1+ ! -p udp',
  'ip6tables -A FORWARD ! -i eth+ -p 0 -g x',
  'ip6tables -A INPUT -p 43',
  'ip6tables -A INPUT ! -p 43',
  'ip6tables -A INPUT -p AH',
  'ip6tables -A INPUT -p ipv6-frag -j ACCEPT',
  'ip6tables -A INPUT -p ipv6-opts',
  'ip6tables -A INPUT -p icmpv6',
  'ip6tables -A INPUT -p ipv6-icmp',
  'ip6tables -A INPUT -p 58',
  'ip6tables -A INPUT -p mh',
  'ip6tables -A INPUT -p 132 -c 5 1000',
  'ip6tables -I INPUT -s 1::2',
  'ip6tables -t nat -A POSTROUTING -d 2001:db8::/32 -j ACCEPT',
  'ip6tables -t mangle -A PREROUTING -s fe80::1',
  'ip6tables -t raw -A OUTPUT -d ff02::2',
  'ip6tables -t security -A INPUT -s 1::1',
];

const addressErrors = [
  'ip6tables -A INPUT -s 1.2.3.4',
  'ip6tables -A INPUT -s localhost',
  'ip6tables -A INPUT -s 1::/129',
  'ip6tables -A INPUT -s 1::/-1',
  'ip6tables -A INPUT -s 1::/64x',
  'ip6tables -A INPUT -s :::',
  'ip6tables -A INPUT -s 1::2::3',
  'ip6tables -A INPUT -s 12345::',
  "ip6tables -A INPUT -s '1::1/8 '",
  'ip6tables -A INPUT -d [::1]',
  'ip6tables -A INPUT -d 1::1,',
  'ip6tables -A INPUT ! -s 1::1,2::2',
  'ip6tables -A INPUT ! -s ::/0',
  'ip6tables -A INPUT -f',
  'ip6tables -A INPUT ! -f',
  'ip6tables -A INPUT -4 -s 1::1',
  'ip6tables -A INPUT -6 -s 1::1',
  'ip6tables -4 -L',
  'ip6tables -6 -S',
  'ip6tables -A INPUT -p icmp --icmp-type 8',
  'ip6tables -A INPUT -m ttl --ttl-eq 1',
  'ip6tables -A INPUT -m icmp --icmp-type 8',
  'ip6tables -A INPUT -j TTL --ttl-set 1',
  'ip6tables -A INPUT -m realm --realm 1',
  'ip6tables -N HL',
  'ip6tables -N REJECT',
];

const extensionForms = [
  'ip6tables -A INPUT -p icmpv6 --icmpv6-type 1/3',
  'ip6tables -A INPUT -p ipv6-icmp --icmpv6-type neighbour-solicitation -m hl --hl-eq 255',
  'ip6tables -A INPUT -p icmpv6 ! --icmpv6-type 255/1',
  'ip6tables -A INPUT -p icmpv6 --icmpv6-type echo-request -j ACCEPT',
  'ip6tables -A INPUT -p icmpv6 --icmpv6-type ping',
  'ip6tables -A INPUT -p 58 -m icmpv6 --icmpv6-type 128',
  'ip6tables -A INPUT -p icmpv6 --icmpv6-type 1:2',
  'ip6tables -A INPUT -p icmpv6 --icmpv6-type neighbo',
  'ip6tables -A INPUT -p icmpv6 --icmpv6-type bogus',
  'ip6tables -A INPUT -m icmp6 --icmpv6-type 1',
  'ip6tables -A INPUT -m hl --hl-lt 5 -m hl ! --hl-eq 3',
  'ip6tables -A INPUT -m hl --hl-gt 300',
  'ip6tables -A INPUT -m rt --rt-type 0 --rt-segsleft 0 -j DROP',
  'ip6tables -A INPUT -m rt ! --rt-type 2 --rt-segsleft 1:5 --rt-len 8',
  'ip6tables -A INPUT -m rt --rt-type 0 --rt-0-res --rt-0-addrs 1::1,2::2 --rt-0-not-strict',
  'ip6tables -A INPUT -m rt --rt-0-res',
  'ip6tables -A INPUT -m rt --rt-type 0 --rt-0-addrs 1::1,x',
  'ip6tables -A INPUT -m frag --fragid 5:10 --fraglen 3 --fragres --fragfirst --fragmore',
  'ip6tables -A INPUT -m frag ! --fragid 7 --fraglast',
  'ip6tables -A INPUT -m hbh --hbh-len 8 --hbh-opts 1:2,3',
  'ip6tables -A INPUT -m dst ! --dst-len 4 --dst-opts 5,6:7',
  'ip6tables -A INPUT -m dst --dst-opts 0:2',
  'ip6tables -A INPUT -m ah --ahspi 5:6 --ahlen 3 --ahres',
  'ip6tables -A INPUT -m ah ! --ahspi 9',
  'ip6tables -A INPUT -p mh --mh-type bu:be',
  'ip6tables -A INPUT -p mobility-header ! --mh-type 3',
  'ip6tables -A INPUT -m mh --mh-type 1',
  'ip6tables -A INPUT -m ipv6header --header ah,dst,frag,route,hop,esp,none,prot --soft',
  'ip6tables -A INPUT -m ipv6header ! --header ipv6-frag',
  'ip6tables -A INPUT -m ipv6header --header tcp',
  'ip6tables -A INPUT -m eui64',
  'ip6tables -A OUTPUT -m eui64',
  'ip6tables -A INPUT -m srh --srh-next-hdr 17 ! --srh-segs-left-gt 1 --srh-tag 5',
  'ip6tables -A INPUT -m srh --srh-psid a::/64 ! --srh-lsid c::',
  'ip6tables -A INPUT -p tcp -m multiport --dports 22,80:90 -m state --state NEW,ESTABLISHED',
  'ip6tables -A INPUT -p udp --sport 53 --dport 1024:65535',
  'ip6tables -A INPUT -p tcp --tcp-flags FIN,SYN,RST,ACK SYN -m limit --limit 10000/sec --limit-burst 100',
  'ip6tables -A INPUT -m conntrack --ctstate RELATED,ESTABLISHED --ctorigsrc 2001:db8::1/64 ! --ctrepldst ::1',
  'ip6tables -A INPUT -m conntrack --ctorigdst 1.2.3.4',
  'ip6tables -A INPUT -m conntrack --ctorigdst ::1/ffff::',
  'ip6tables -A INPUT -m recent --set --name x --mask ffff:: --rdest',
  'ip6tables -A INPUT -m recent --update --seconds 60 --hitcount 41 --name ratessh --rsource',
  'ip6tables -A INPUT -m mac --mac-source 00:11:22:33:44:55',
  'ip6tables -A INPUT -m iprange --src-range 1::1-1::ff ! --dst-range 2::5-2::1',
  'ip6tables -A INPUT -m iprange --src-range 1.2.3.4-1.2.3.5',
  'ip6tables -A INPUT -m hashlimit --hashlimit-upto 5/sec --hashlimit-name hh --hashlimit-srcmask 64',
  'ip6tables -A INPUT -m hashlimit --hashlimit-upto 5/sec --hashlimit-name hh --hashlimit-dstmask 129',
  'ip6tables -A INPUT -m connlimit --connlimit-above 5 --connlimit-mask 64',
  'ip6tables -A INPUT -m connlimit --connlimit-upto 5',
  'ip6tables -A INPUT -m addrtype --src-type BROADCAST',
  'ip6tables -A INPUT -m addrtype --dst-type LOCAL,MULTICAST',
  'ip6tables -A INPUT -m policy --dir in --pol ipsec --mode tunnel --tunnel-src 1::/64 --tunnel-dst 2::2',
  'ip6tables -A INPUT -m comment --comment "v6 rule" -m mark --mark 5',
];

const targetForms = [
  'ip6tables -A INPUT -j REJECT',
  'ip6tables -A INPUT -j REJECT --reject-with icmp6-no-route',
  'ip6tables -A INPUT -j REJECT --reject-with adm',
  'ip6tables -A INPUT -j REJECT --reject-with addr-unreach',
  'ip6tables -A INPUT -j REJECT --reject-with policy-fail',
  'ip6tables -A INPUT -j REJECT --reject-with reject-route',
  'ip6tables -A INPUT -p tcp -j REJECT --reject-with tcp-reset',
  'ip6tables -A INPUT -j REJECT --reject-with tcp-reset',
  'ip6tables -A INPUT -j REJECT --reject-with icmp-port-unreachable',
  'ip6tables -t nat -A INPUT -j REJECT',
  'ip6tables -A INPUT -j LOG --log-prefix "v6: " --log-level info --log-uid --log-tcp-options',
  'ip6tables -t mangle -A PREROUTING -j HL --hl-inc 2',
  'ip6tables -t mangle -A OUTPUT -j HL --hl-set 7',
  'ip6tables -t mangle -A OUTPUT -j HL --hl-dec 0',
  'ip6tables -A INPUT -j HL --hl-dec 1',
  'ip6tables -t mangle -A PREROUTING -j DNPT --src-pfx 1::/64 --dst-pfx 2::/48',
  'ip6tables -t mangle -A POSTROUTING -j SNPT --src-pfx 1::/64 --dst-pfx 2::1/48',
  'ip6tables -t mangle -A POSTROUTING -j SNPT --src-pfx 1::/64',
  'ip6tables -t nat -A PREROUTING -p tcp -j DNAT --to-destination [2001:db8::1]:80-90/85',
  'ip6tables -t nat -A PREROUTING -j DNAT --to-destination 2001:db8::1-2001:db8::5 --random --persistent',
  'ip6tables -t nat -A PREROUTING -j DNAT --to-destination 1.2.3.4',
  'ip6tables -t nat -A PREROUTING -j DNAT --to-destination [1::1]:80',
  'ip6tables -t nat -A PREROUTING -p udp -j DNAT --to-destination [1::1',
  'ip6tables -t nat -A POSTROUTING -j SNAT --to-source 2001:db8::1-2001:db8::9 --random',
  'ip6tables -t nat -A POSTROUTING -p tcp -j SNAT --to-source [::1]:1-2',
  'ip6tables -t nat -A POSTROUTING -p udp -j MASQUERADE --to-ports 1000-2000 --random-fully',
  'ip6tables -t nat -A OUTPUT -p tcp -j REDIRECT --to-ports 8080',
  'ip6tables -t nat -A PREROUTING -j NETMAP --to 1::/ffff:ffff::',
  'ip6tables -t nat -A POSTROUTING -j NETMAP --to 1::5/64',
  'ip6tables -t mangle -A PREROUTING -p tcp -j TPROXY --on-port 80 --on-ip ::1',
  'ip6tables -t mangle -A PREROUTING -j TEE --gateway 1::2 --oif eth0',
  'ip6tables -t mangle -A PREROUTING -j MARK --set-mark 7',
  'ip6tables -t raw -A PREROUTING -j CT --notrack',
];

/** /etc/hosts with IPv6 names (and a name with both families), for name lookups and -L's reverse names. */
const HOSTS6 = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n2001:db8::5\tweb web6\n2001:db8::6\tweb\n192.0.2.1\tv4only\n';

const V6_RULESET =
  '*filter\n:INPUT DROP [1:2]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [3:4]\n:ndp - [0:0]\n' +
  '-A INPUT -i lo -j ACCEPT\n-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n' +
  '-A INPUT -m rt --rt-type 0 --rt-segsleft 0 -j DROP\n-A INPUT -p ipv6-icmp -j ndp\n' +
  '-A INPUT -s 2001:db8::/32 -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT\n' +
  '-A INPUT -j REJECT --reject-with icmp6-port-unreachable\n' +
  '-A ndp -p ipv6-icmp -m icmp6 --icmpv6-type 135 -m hl --hl-eq 255 -j ACCEPT\n' +
  '[5:300] -A ndp -p ipv6-icmp -m icmp6 --icmpv6-type 136 -m hl --hl-eq 255 -j ACCEPT\n' +
  'COMMIT\n*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j HL --hl-set 64\nCOMMIT\n';

/** The case with `ip6tables-save -c` as its last step (the final state of the IPv6 rule set). */
function withFinalDump6(c: Case): Case {
  const last = c.steps[c.steps.length - 1];
  if (last && last.argv.join(' ') === 'ip6tables-save -c') return c;
  return { ...c, steps: [...c.steps, cmd('ip6tables-save -c')] };
}

/** Hand-written cases of ip6tables. */
export const ip6Cases: Case[] = [
  ...shown6('ip6/addr', addressForms),
  ...shown6('ip6/err', addressErrors),
  ...shown6('ip6/ext', extensionForms),
  ...shown6('ip6/target', targetForms),
  kase(
    'ip6/names',
    [
      'ip6tables -A INPUT -s web -d localhost -j ACCEPT',
      'ip6tables -A INPUT -s web6/64',
      'ip6tables -A INPUT -s v4only',
      'ip6tables -A INPUT -s ip6-localhost,web6',
      'ip6tables -A INPUT -m conntrack --ctorigsrc web6',
      'ip6tables -A INPUT -m conntrack --ctorigsrc web',
      'ip6tables -L',
      'ip6tables -L -n',
      'ip6tables -S',
      'ip6tables-save -c',
    ],
    { hosts: HOSTS6 },
  ),
  kase('ip6/commands', [
    'ip6tables -A INPUT -s 1::1 -p tcp --dport 22 -j ACCEPT',
    'ip6tables -C INPUT -s 1::1 -p tcp --dport 22 -j ACCEPT',
    'ip6tables -C INPUT -s 1::1/64 -p tcp --dport 22 -j ACCEPT',
    'ip6tables -D INPUT -s 1::1/64 -p tcp --dport 22 -j ACCEPT',
    'ip6tables -I INPUT -d 2::/16 -j DROP',
    'ip6tables -R INPUT 1 -d 3::3 -j ACCEPT',
    'ip6tables -R INPUT 1 -d 3::3,4::4 -j ACCEPT',
    'ip6tables -v -A INPUT -s 5::5,6::6 ! -d 7::/ffff:0:ffff:: -j LOG',
    'ip6tables -v -D INPUT -s 5::5 ! -d 7::/ffff:0:ffff:: -j LOG',
    'ip6tables -N chain6',
    'ip6tables -A chain6 -j RETURN',
    'ip6tables -A INPUT -j chain6',
    'ip6tables -L -v --line-numbers',
    'ip6tables -S INPUT 2',
    'ip6tables -L INPUT 1 -n',
    'ip6tables -Z INPUT',
    'ip6tables -F chain6',
    'ip6tables -X chain6',
    'ip6tables -D INPUT 3',
    'ip6tables -X chain6',
    'ip6tables -E nochain x',
    'ip6tables -P FORWARD DROP',
    'ip6tables -t nat -P PREROUTING DROP',
    'ip6tables -S',
    'ip6tables-save -c',
  ]),
  kase('ip6/vv', ['ip6tables -vv -A INPUT -s 1::/60 -d 2::1 ! -p tcp -j ACCEPT', 'ip6tables -vv -N foo', 'ip6tables -vv -t nat -A INPUT -s 1::/ffff::ff']),
  kase('ip6/help-version', [
    'ip6tables -h',
    'ip6tables -p icmpv6 -h',
    'ip6tables -m hl -j REJECT -h',
    'ip6tables -V',
    'ip6tables-nft -V',
    'ip6tables-save -V',
    'ip6tables-restore -V',
    'ip6tables-restore -h',
    'ip6tables-save --bogus',
  ]),
  kase('ip6/separate-rulesets', [
    'iptables -A INPUT -s 1.2.3.4 -j ACCEPT',
    'ip6tables -A INPUT -s 1::4 -j ACCEPT',
    'iptables -S',
    'ip6tables -S',
    'iptables -F',
    'ip6tables -S',
    'ip6tables -N x',
    'iptables -L',
    'ip6tables -X',
    'iptables -A INPUT -s 1::1',
    'iptables -A INPUT -p icmpv6 --icmpv6-type 1',
    'iptables -A INPUT -m hl --hl-eq 1',
    'iptables -A INPUT -m icmpv6',
    'iptables -A INPUT -j HL --hl-set 1',
    'iptables -6 -A INPUT',
    'iptables-save',
    'ip6tables-save',
  ]),
  kase('ip6/restore/ruleset', [restore6(V6_RULESET), 'ip6tables -L -n -v', 'ip6tables-save', 'iptables-save']),
  kase('ip6/restore/counters', [restore6(V6_RULESET, '-c'), 'ip6tables-save -c']),
  kase('ip6/restore/family-lines', [
    restore6('*filter\n:foo - [0:0]\n-A INPUT -s 1::1 -j foo\n-A foo -6 -j ACCEPT\n-A foo -4 -j DROP\n-A foo -4 -s 1.1.1.1\nCOMMIT\n'),
    cmd('iptables-restore', '*filter\n-A INPUT -6 -s 1::1\n-A INPUT -4 -s 1.1.1.1\nCOMMIT\n'),
    'ip6tables-save',
    'iptables-save',
  ]),
  kase('ip6/restore/errors', [
    restore6('*filter\n-A INPUT -f\nCOMMIT\n'),
    restore6('*filter\n-A INPUT -s 1.2.3.4\nCOMMIT\n'),
    restore6('*filter\n-A INPUT -p tcp --dport 99 -j REJECT --reject-with foo\nCOMMIT\n'),
    restore6('*nat\n-A INPUT -j DROP\nCOMMIT\n'),
    restore6('*filter\n-A INPUT -j REJECT --reject-with tcp-reset\nCOMMIT\n'),
    restore6('*filter\n-A INPUT -j nochain\nCOMMIT\n'),
    restore6('*filter\n:HL - [0:0]\n:LOG - [0:0]\nCOMMIT\n'),
    restore6('*filter\n:ACCEPT - [0:0]\nCOMMIT\n'),
    cmd('iptables-restore', '*filter\n:REJECT - [0:0]\nCOMMIT\n'),
    'iptables -N REJECT',
    'ip6tables -N TTL',
    restore6('*filter\n-A INPUT -p 44\nCOMMIT\n'),
    restore6('x\n'),
    'ip6tables-save',
  ]),
  kase('ip6/restore/noflush-and-table', [
    restore6('*filter\n-A INPUT -s 1::1\nCOMMIT\n*mangle\n-A INPUT -j HL --hl-set 3\nCOMMIT\n'),
    restore6('*filter\n-A INPUT -s 2::2\nCOMMIT\n', '--noflush'),
    restore6('*filter\n-A INPUT -s 3::3\nCOMMIT\n*mangle\n-A INPUT -j HL --hl-set 4\nCOMMIT\n', '-T mangle'),
    restore6('*filter\n-A INPUT -s 4::4\nCOMMIT\n', '--test'),
    'ip6tables-save',
    'ip6tables-save -t mangle',
    'ip6tables-save -t nat',
    'ip6tables-save -t bogus',
  ]),
].map(withFinalDump6);
