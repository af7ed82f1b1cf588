/**
 * How iptables-nft prepares and commits a command: the order of its checks
 * (jump target, chain, rule number, then the kernel), what -v prints before
 * a failure, fake built-in chains that listing puts into the cache and -Z
 * then creates, the kernel's refusals at commit (one line for iptables, one
 * per refused rule for iptables-restore), the argv[optind-1] quirk of -p,
 * -s, -d, -i, -o and -j, getopt's own messages in iptables-save and
 * iptables-restore, 64-bit counters, merged tcp/udp matches and -vv.
 */
import { kase, restore, singles } from '../diff/shell.js';
import type { Case } from '../diff/types.js';

/** A jump target that names nothing is reported first, then a missing chain or rule, then the kernel's refusal. */
const order = [
  'iptables -C INPUT -j ACCEPT',
  'iptables -D NOPE -j ACCEPT',
  'iptables -D INPUT',
  'iptables -C INPUT',
  'iptables -t nat -C POSTROUTING -j FOO',
  'iptables -C NOPE -j accept',
  'iptables -D NOPE -j accept',
  'iptables -I INPUT 2 -g FOO',
  'iptables -I INPUT -m icmp --icmp-type 8 -j NOSUCHTARGET',
  'iptables -R INPUT 1 -j NOPE',
  'iptables -A NOPE -j NOPE2',
  'iptables -t nat -R PREROUTING 3 -j SNAT --to-source 1.2.3.4',
  'iptables -t nat -I FOO -p udp -m icmp --icmp-type 8',
  'iptables -t nat -A FOO -j MASQUERADE',
  'iptables -v -A NOPE -j ACCEPT',
  'iptables -v -s 1.1.1.1,2.2.2.2 -A NOPE',
  'iptables -v -I INPUT 5 -j ACCEPT',
  'iptables -v -C INPUT -j ACCEPT',
  'iptables -v -t nat -A PREROUTING -j SNAT --to-source 1.2.3.4',
  'iptables -v -A INPUT -j QUEUE',
  'iptables -vv -A INPUT -o lo -j QUEUE',
  'iptables -C INPUT -j QUEUE',
];

/** The same against a table that exists (a user chain in it, no built-in chain yet). */
const orderWithTable = [
  'iptables -D OUTPUT -j ACCEPT',
  'iptables -C FOO -j ACCEPT',
  'iptables -R FOO 1 -j ACCEPT',
  'iptables -R INPUT 1 -j ACCEPT',
  'iptables -D FOO 1',
  'iptables -D FORWARD 1',
  'iptables -I FOO 2 -j ACCEPT',
  'iptables -A FOO -j BAR',
];

/** -Z with and without listing, on missing and present tables and chains. */
const zeroing: Case[] = [
  kase('commit/zero/list-fresh', ['iptables -L -v -Z']),
  kase('commit/zero/list-chain-fresh', ['iptables -t nat -L POSTROUTING -Z']),
  kase('commit/zero/list-rules-fresh', ['iptables -S -Z -v']),
  kase('commit/zero/list-creates-builtins', ['iptables -N FOO', 'iptables -L INPUT -Z', 'iptables -Z FORWARD', 'iptables -L -v -Z', 'iptables -Z FORWARD', 'iptables -Z FORWARD 1']),
  kase('commit/zero/list-then-delete-builtin', ['iptables -N BAR', 'iptables -L -Z', 'iptables -X FORWARD', 'iptables -S', 'iptables -X']),
  kase('commit/zero/missing-chain-rule', [
    'iptables -A OUTPUT -j RETURN',
    'iptables -Z FORWARD 1',
    'iptables -Z NOPE 1',
    'iptables -Z ZZZ 1',
    'iptables -Z OUTPUT 2',
    'iptables -Z OUTPUT 1',
  ]),
  kase('commit/zero/missing-chain-rule-user-table', ['iptables -N FOO', 'iptables -Z OUTPUT 1', 'iptables -Z BAR 1', 'iptables -Z FOO 1']),
  kase('commit/zero/missing-chain-rule-mangle', ['iptables -t mangle -A PREROUTING', 'iptables -t mangle -Z NOPE 1', 'iptables -t mangle -Z ZZZ 1']),
  kase('commit/zero/alone', ['iptables -Z', 'iptables -Z INPUT', 'iptables -t nat -Z -v', 'iptables -N FOO', 'iptables -Z -v', 'iptables-save']),
];

/** A built-in chain renamed with -E stays a base chain in the kernel that iptables no longer recognises. */
const renamedBuiltin: Case[] = [
  kase('commit/rename-builtin/output', [
    'iptables -P OUTPUT DROP',
    'iptables -A OUTPUT -j ACCEPT',
    'iptables -E OUTPUT web-in',
    'iptables -L OUTPUT',
    'iptables -S',
    'iptables -N web-in',
    'iptables -E INPUT web-in',
    'iptables -N FOO',
    'iptables -E FOO web-in',
    'iptables -A OUTPUT -j ACCEPT',
    'iptables -L -v',
    'iptables-save',
    'iptables -F',
    'iptables -X',
    'iptables -Z -v',
  ]),
];

/** Chains deleted all at once: the kernel's order is creation order (sorted only with -v). */
const deletion: Case[] = [
  kase('commit/delete/creation-order', ['iptables -N FOO', 'iptables -N BAR', 'iptables -A FOO -j BAR', 'iptables -X', 'iptables -v -X']),
  kase('commit/delete/creation-order-2', ['iptables -N B', 'iptables -N A', 'iptables -A B -j ACCEPT', 'iptables -A A -j ACCEPT', 'iptables -X', 'iptables -E A Z', 'iptables -X']),
  kase('commit/delete/builtin-drop-policy', ['iptables -P INPUT DROP', 'iptables -A INPUT -j ACCEPT', 'iptables -X INPUT', 'iptables -P FORWARD ACCEPT', 'iptables -A FORWARD', 'iptables -X FORWARD', 'iptables -X', 'iptables-save']),
];

/** Jumps: loops and depth give EMLINK; a user chain reached from a hook one of its targets refuses. */
const jumps: Case[] = [
  kase('commit/jump/self-loop', ['iptables -N FOO', 'iptables -A FOO -j FOO', 'iptables -A INPUT -j FOO', 'iptables -A FORWARD -g FOO']),
  kase('commit/jump/goto-self', ['iptables -N FOO', 'iptables -A INPUT -j FOO', 'iptables -A FOO -g FOO']),
  kase('commit/jump/hook', ['iptables -t nat -N FOO', 'iptables -t nat -A FOO -j MASQUERADE', 'iptables -t nat -A PREROUTING -j FOO', 'iptables -t nat -A POSTROUTING -j FOO']),
  kase('commit/jump/insert-becomes-append', ['iptables -t nat -A POSTROUTING -j ACCEPT', 'iptables -t nat -I POSTROUTING 2 -j DNAT --to-destination 1.2.3.4', 'iptables -t nat -I POSTROUTING 1 -j DNAT --to-destination 1.2.3.4']),
];

function depthRuleset(n: number): string {
  let s = '*filter\n';
  for (let i = 1; i <= n; i++) s += `:C${i} - [0:0]\n`;
  s += '-A INPUT -j C1\n';
  for (let i = 1; i < n; i++) s += `-A C${i} -j C${i + 1}\n`;
  return s + 'COMMIT\n';
}

/** The kernel's refusals in iptables-restore: every refused rule has its line. */
const restoreRefusals: Case[] = [
  kase('commit/restore/depth-15', [restore(depthRuleset(15)), 'iptables -S']),
  kase('commit/restore/depth-16', [restore(depthRuleset(16))]),
  kase('commit/restore/depth-17', [restore(depthRuleset(17))]),
  kase('commit/restore/hook-reached', [
    restore('*nat\n:FOO - [0:0]\n-A FOO -j MASQUERADE\n-A PREROUTING -j ACCEPT\n-A PREROUTING -j FOO\n-A POSTROUTING -j ACCEPT\n-A OUTPUT -j FOO\n-A FOO -j ACCEPT\nCOMMIT\n'),
  ]),
  kase('commit/restore/hook-reached-later', [
    restore('*nat\n:FOO - [0:0]\n-A PREROUTING -j FOO\n-A FOO -j MASQUERADE\n-A PREROUTING -j ACCEPT\nCOMMIT\n'),
    restore('*nat\n:FOO - [0:0]\n-A OUTPUT -j FOO\n-A FOO -j ACCEPT\n-A FOO -j DNAT --to-destination 1.2.3.4\n-A FOO -j SNAT --to-source 1.2.3.4\n-A POSTROUTING -j ACCEPT\nCOMMIT\n'),
    'iptables -t nat -N BAR',
    'iptables -t nat -A INPUT -j BAR',
    'iptables -t nat -A BAR -j REDIRECT',
    'iptables -t nat -I BAR -j SNAT --to-source 1.2.3.4',
  ]),
  kase('commit/restore/refused-rules', [restore('*filter\n-A INPUT ! -s 1.2.3.4/0\n-A INPUT -j ACCEPT\n-A INPUT -j INPUT\n-A INPUT -j OUTPUT\nCOMMIT\n')]),
  kase('commit/restore/userspace-error-wins', [restore('*filter\n-A INPUT -j INPUT\n-A NOPE -j ACCEPT\nCOMMIT\n')]),
  kase('commit/restore/delete-chain-refused', [restore('*filter\n:FOO - [0:0]\n-A INPUT -j FOO\nCOMMIT\n'), restore('*filter\n-X FOO\nCOMMIT\n', '--noflush')]),
];

/** iptables-restore's lines outside a table, -v, --test and its own options. */
const restoreForms: Case[] = [
  kase('commit/restore/chain-line-first', [restore(':FOO - [0:0]\n*filter\nCOMMIT\n')]),
  kase('commit/restore/commit-first', [restore('COMMIT\n')]),
  kase('commit/restore/prose-first', [restore('This is my firewall:\n*filter\nCOMMIT\n')]),
  kase('commit/restore/other-table-lines', [restore('*nat\n-A POSTROUTING -j ACCEPT\nCOMMIT\n*filter\n-A INPUT -j ACCEPT\nCOMMIT\n', '-T filter'), 'iptables-save']),
  kase('commit/restore/verbose-failure', ['iptables -N BAR', 'iptables -P INPUT DROP', restore('# c1\n*filter\n:FOO - [0:0]\n# c2\n-A FOO -j ACCEPT\n-A NOPE -j ACCEPT\nCOMMIT\n', '-v'), 'iptables-save']),
  kase('commit/restore/verbose-noflush', ['iptables -N BAR', restore('# c1\n*filter\n:FOO - [0:0]\n-A FOO -j ACCEPT\nCOMMIT\n', '-v -n'), 'iptables-save']),
  kase('commit/restore/verbose-keeps-drop-policy', ['iptables -P FORWARD DROP', 'iptables -A FORWARD -j ACCEPT', restore('*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n', '-v'), 'iptables-save']),
  kase('commit/restore/verbose-parse-error', [restore('# c1\n*filter\n-A INPUT -j ACCEPT\n-A INPUT --bogus\nCOMMIT\n', '-v')]),
  kase('commit/restore/test-skips-prepare', ['iptables -N BAR', restore('*filter\n-A NOPE -j ACCEPT\n-A INPUT -j NOPE2\nCOMMIT\n', '--test'), 'iptables-save']),
  kase('commit/restore/options', [
    restore('', '--ipv4'),
    restore('', '--ipv6'),
    restore('', '-w 5'),
    restore('', '-W'),
    restore('', '--wait=3'),
    restore('', '--bogus=1'),
    restore('', '--verbose=1'),
    restore('', '-T'),
    restore('', '--table'),
    restore('', '-x'),
    restore('', '-h'),
    restore('', '-b'),
    restore('', 'a b'),
    restore('', '--no'),
    restore('', '--t'),
    restore('', '--ver=1'),
    restore('', '--mod'),
  ]),
  kase('commit/restore/commands', [
    'iptables -N OLD',
    'iptables -A INPUT -j ACCEPT',
    restore('*filter\n-A INPUT -p tcp -j DROP\n-I INPUT 1 -p udp -j ACCEPT\n-R INPUT 2 -j RETURN\n-D INPUT -p udp -j ACCEPT\n-N NEW\n-E NEW NEWER\n-L\n-S INPUT\n-Z\n-P FORWARD DROP\n-X OLD\n-F OUTPUT\nCOMMIT\n', '--noflush'),
    'iptables-save',
  ]),
  kase('commit/restore/commands-verbose', [
    'iptables -N OLD',
    restore('*filter\n:INPUT ACCEPT [0:0]\n:NEW - [0:0]\n-A INPUT -j NEW\n-Z\n-S\n-F INPUT\n-X NEW\nCOMMIT\n', '-v'),
    'iptables-save',
  ]),
  kase('commit/restore/kernel-error-second-table', [
    restore('*filter\n-A INPUT -j ACCEPT\nCOMMIT\n*nat\n-A PREROUTING -j MASQUERADE\n-A PREROUTING -j ACCEPT\nCOMMIT\n', '-v'),
    'iptables-save',
  ]),
  kase('commit/restore/jump-missing-verbose', [restore('# x\n*filter\n-A INPUT -j ACCEPT\n-A INPUT -j NOPE\nCOMMIT\n', '-v')]),
  kase('commit/restore/noflush-existing-chain', [
    'iptables -N FOO',
    'iptables -A FOO -j ACCEPT',
    'iptables -A INPUT -j FOO',
    restore('*filter\n:FOO - [0:0]\n-A FOO -j DROP\nCOMMIT\n', '--noflush'),
    'iptables-save',
  ]),
  kase('commit/restore/rename-existing', [
    'iptables -N OLD',
    'iptables -A INPUT -j OLD',
    restore('*filter\n-E OLD NEW\n-A OLD -j ACCEPT\n-L INPUT\nCOMMIT\n', '--noflush'),
    'iptables-save',
    restore('*filter\n-E NEW NEWER\n-A NEWER -j ACCEPT\nCOMMIT\n', '--noflush'),
    restore('*filter\n:FOO - [0:0]\n-E FOO BAR\nCOMMIT\n'),
    'iptables-save',
  ]),
  kase('commit/restore/replace-empty', [
    restore('*filter\n:FOO - [0:0]\n-R FOO 1 -j ACCEPT\nCOMMIT\n'),
    restore('*filter\n-R INPUT 1 -j ACCEPT\nCOMMIT\n'),
    restore('*filter\n:INPUT ACCEPT [0:0]\n-R INPUT 1 -j ACCEPT\nCOMMIT\n'),
    'iptables -N FOO',
    restore('*filter\n-R FOO 1 -j ACCEPT\nCOMMIT\n', '--noflush'),
    'iptables -R FOO 1 -j ACCEPT',
    'iptables -D FOO 1',
    'iptables -D FOO -j ACCEPT',
  ]),
  kase('commit/restore/zero-in-restore', ['iptables -A INPUT -c 5 6', restore('*filter\n-Z INPUT 1\n-Z FORWARD 1\n-Z NOPE 1\nCOMMIT\n', '--noflush'), 'iptables-save -c']),
  kase('commit/restore/family-options', [restore('*filter\n-A INPUT -6 -j ACCEPT\n-6 -A INPUT -j DROP\n-4 -A INPUT -j RETURN\n-F -6\nCOMMIT\n'), 'iptables-save']),
  kase('commit/restore/policy-counters', [restore('*filter\n:INPUT ACCEPT [-1:18446744073709551616]\n:FORWARD DROP [5:6\nCOMMIT\n', '-c'), 'iptables -L -v', 'iptables -L -v -x']),
];

/** iptables-save's options and getopt messages. */
const saveForms: Case[] = [
  kase('commit/save/options', [
    'iptables -A INPUT -j ACCEPT',
    'iptables-save -d -t bogus',
    'iptables-save --table',
    'iptables-save --c',
    'iptables-save --counters=1',
    'iptables-save -b -t filter',
    'iptables-save --binary',
    'iptables-save -c extra1 extra2',
    'iptables-save --ver',
    'iptables-save -t filter -x',
    'iptables-save --c=1',
    'iptables-save --d --t nat',
  ]),
];

/** Words iptables takes from argv[optind-1]: the whole option word when the argument is attached. */
const optindWords = [
  'iptables -X -bad',
  'iptables -A INPUT -pTCP',
  'iptables -A INPUT --protocol=tcp',
  'iptables -A INPUT -s1.2.3.4',
  'iptables -A INPUT --source=1.2.3.4',
  'iptables -A INPUT --dst=1.2.3.4',
  'iptables -A INPUT -ieth0',
  'iptables -A INPUT --in-interface=eth0',
  'iptables -A OUTPUT -oeth0',
  'iptables -A INPUT -gINPUT',
  'iptables -A INPUT -vjACCEPT',
  'iptables -A INPUT -m nosuch',
  'iptables -A INPUT -m conntrack --ctorigsrc ::1',
  'iptables -A INPUT -m conntrack --ctorigsrc ::ffff:1.2.3.4',
  'iptables -A INPUT -m conntrack --ctorigdst fe80::1',
];

/** A negated address with mask 0 becomes a zero-length comparison, which the kernel refuses. */
const zeroMask = [
  'iptables -A INPUT ! -s 10.0.0.1/0',
  'iptables -I INPUT ! -d 0/0 -j ACCEPT',
  'iptables -A INPUT ! -s 0.0.0.0/0.0.0.0 -j ACCEPT',
  'iptables -C INPUT ! -s 1.2.3.4/0',
  'iptables -t nat -A POSTROUTING ! -d 1.2.3.4/0 -j MASQUERADE',
];

/** Native tcp/udp matches read back as one, protocol names, -vv. */
const forms: Case[] = [
  kase('commit/merge/tcp', [
    'iptables -A INPUT -p tcp --dport 22 -m comment --comment x -m tcp --sport 1:2 -j ACCEPT',
    'iptables -A INPUT -p tcp -m tcp --tcp-option 5 -m tcp --dport 22 -m tcp --syn',
    'iptables -A INPUT -p tcp -m tcp --dport 22 -m tcp ! --dport 80',
    'iptables -S',
    'iptables -L -n',
    'iptables -C INPUT -p tcp --dport 22 -m comment --comment x -m tcp --sport 1:2 -j ACCEPT',
    'iptables -C INPUT -p tcp --sport 1:2 --dport 22 -m comment --comment x -j ACCEPT',
  ]),
  kase('commit/merge/udp', ['iptables -A INPUT -p udp --dport 53 -m udp --sport 1:2 -m udp ! --dport 54', 'iptables -A INPUT -p udp -m udp -m udp --sport 7', 'iptables -S']),
  kase('commit/proto/names', ['iptables -A INPUT -p 135', 'iptables -A INPUT -p mh', 'iptables -A INPUT -p ipv6-mh', 'iptables -A INPUT -p mobility-header', 'iptables -A INPUT -p icmpv6', 'iptables -L', 'iptables -L -n', 'iptables -S', 'iptables -v -D INPUT -p 58']),
  kase('commit/counters/policy', ['iptables -P INPUT ACCEPT -c 18446744073709551615 99999999999', 'iptables -L INPUT -v', 'iptables -L INPUT -v -x', 'iptables -S INPUT -v']),
  kase('commit/vv/fresh', ['iptables -vv -A INPUT -j ACCEPT', 'iptables -vv -N FOO', 'iptables -vv -P INPUT DROP', 'iptables -vv -F FOO', 'iptables -vv -X FOO']),
  kase('commit/vv/tables', [
    'iptables -t mangle -vv -A OUTPUT -j ACCEPT',
    'iptables -t nat -vv -I POSTROUTING -j MASQUERADE',
    'iptables -t raw -vv -N FOO',
    'iptables -vv -A INPUT -s 1.2.3.4,5.6.7.8 -d 9.9.9.9/8',
    'iptables -vv -I INPUT -p tcp -m tcp --dport 22 -m tcp --sport 7 -j REJECT --reject-with tcp-reset',
  ]),
  kase('commit/vv/shapes', [
    'iptables -N FOO',
    'iptables -A INPUT',
    'iptables -vv -A INPUT -i eth0 -p udp --sport 53',
    'iptables -vv -A INPUT -i eth+ ! -s 10.0.0.0/255.0.255.0 -f -p tcp --sport 1:1000 ! --dport 22 --syn -j RETURN',
    'iptables -vv -A INPUT ! -i + -m mark --mark 1/3 -m limit --limit 5/min -j LOG --log-prefix x',
    'iptables -vv -A FOO -p tcp --dport 1:2 --sport 5 -m comment --comment hi -j FOO',
    'iptables -vv -A FOO ! -p udp -m udp --dport :1023 -g FOO',
    'iptables -vv -A FOO -p tcp -m tcp --sport 22 --dport 80 -j DROP',
    'iptables -vv -A FOO -p icmp --icmp-type 8 -j NFLOG --nflog-group 3',
    'iptables -vv -A FOO -p tcp --dport 1024: ! --tcp-flags SYN,ACK SYN -m multiport --dports 1,2 -j REJECT',
    'iptables -vv -A FOO -m mark ! --mark 0x10 -j MARK --set-mark 1',
    'iptables -vv -A FOO -d 1.2.3.0/24 -o eth1 -m limit --limit 3/hour --limit-burst 7',
  ]),
];

/** Every case of this file. */
export const commitCases: Case[] = [
  ...singles('commit/order', order),
  ...singles('commit/order-table', orderWithTable, ['iptables -N FOO']),
  ...zeroing,
  ...deletion,
  ...renamedBuiltin,
  ...jumps,
  ...restoreRefusals,
  ...restoreForms,
  ...saveForms,
  ...singles('commit/optind', optindWords),
  ...singles('commit/zero-mask', zeroMask, ['iptables -A INPUT -j ACCEPT']),
  ...forms,
];
