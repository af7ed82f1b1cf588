/**
 * Unit tests of the ip6 group and of ip6tables itself: IPv6 address
 * parsing and printing (inet_pton/inet_ntop, masks, comma lists), every
 * IPv6 extension's save and -L forms, the family-aware extensions in
 * ip6tables rules, the IPv6-only refusals and warnings, and
 * ip6tables-save/-restore with their separate rule set. Every expected
 * text below is what the real ip6tables 1.8.9 (nf_tables) printed.
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatIPv6, ip6MaskToCidr, ip6ParseMultiple, ip6PrefixMask, parseIPv6, ip6SaveForm } from '../src/core/addr/ipv6.js';
import { runNflab } from '../src/cli/main.js';

const TRY = "Try `ip6tables -h' or 'ip6tables --help' for more information.\n";
const TRY_RESTORE = "Try `ip6tables-restore -h' or 'ip6tables-restore --help' for more information.\n";

type Run = (args: string[], stdin?: string) => Promise<{ stdout: string; stderr: string; status: number }>;

/** A fresh lab whose /etc/hosts has no IPv6 names (like the reference machine's). */
function lab(): { dir: string; run: Run; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-ext-ip6-'));
  mkdirSync(join(dir, 'fs', 'etc'), { recursive: true });
  writeFileSync(join(dir, 'fs', 'etc', 'hosts'), '127.0.0.1\tlocalhost\n');
  return {
    dir,
    run: (args, stdin) => runNflab(args, stdin === undefined ? { lab: dir } : { lab: dir, stdin }),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs commands in a fresh lab and returns what the last one did. */
async function last(...cmds: (string[] | [string[], string])[]): Promise<{ stdout: string; stderr: string; status: number }> {
  const l = lab();
  try {
    let r = { stdout: '', stderr: '', status: 0 };
    for (const c of cmds) r = typeof c[1] === 'string' && Array.isArray(c[0]) ? await l.run(c[0], c[1]) : await l.run(c as string[]);
    return r;
  } finally {
    l.done();
  }
}

describe('IPv6 addresses (src/core/addr/ipv6.ts)', () => {
  it('parses as inet_pton does', () => {
    assert.deepEqual(parseIPv6('::'), [0, 0, 0, 0]);
    assert.deepEqual(parseIPv6('::1'), [0, 0, 0, 1]);
    assert.deepEqual(parseIPv6('2001:DB8::8:800:200c:417a'), [0x20010db8, 0, 0x00080800, 0x200c417a]);
    assert.deepEqual(parseIPv6('::ffff:1.2.3.4'), [0, 0, 0xffff, 0x01020304]);
    assert.deepEqual(parseIPv6('1:2:3:4:5:6:7::'), [0x10002, 0x30004, 0x50006, 0x70000]);
    for (const bad of ['', ':', ':::', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', '::01.2.3.4', '1.2.3.4', '[::1]', ' ::1', '::1%lo', '1::2:', '::1.2.3'])
      assert.equal(parseIPv6(bad), undefined, bad);
  });

  it('prints as inet_ntop does', () => {
    const t = (s: string) => formatIPv6(parseIPv6(s)!);
    assert.equal(t('0:0:0:0:0:0:0:0'), '::');
    assert.equal(t('0:0:0:0:0:0:0:1'), '::1');
    assert.equal(t('1:0:0:4:0:0:0:8'), '1:0:0:4::8');
    assert.equal(t('1:0:0:4:5:0:0:8'), '1::4:5:0:0:8');
    assert.equal(t('1:0:2:0:3:0:4:0'), '1:0:2:0:3:0:4:0');
    assert.equal(t('::ffff:102:304'), '::ffff:1.2.3.4');
    assert.equal(t('::102:304'), '::1.2.3.4');
    assert.equal(t('::ffff:0:102:304'), '::ffff:0:102:304');
    assert.equal(t('ABCD:EF01::'), 'abcd:ef01::');
  });

  it('knows prefix lengths and save forms of masks', () => {
    assert.equal(ip6MaskToCidr(ip6PrefixMask(60)), 60);
    assert.equal(ip6MaskToCidr(parseIPv6('ffff:0:ffff::')!), -1);
    assert.equal(ip6SaveForm(parseIPv6('2001::')!, parseIPv6('ffff:0:ffff::')!), '2001::/ffff:0:ffff::');
    assert.equal(ip6SaveForm(parseIPv6('::')!, ip6PrefixMask(128)), '::/128');
  });

  it('reads comma lists as xtables_ip6parse_multiple does', () => {
    const none = () => [];
    assert.deepEqual(
      ip6ParseMultiple(' 1::1/64, 2::2/ffff::', none).map((a) => ip6SaveForm(a.addr, a.mask)),
      ['1::/64', '2::/16'],
    );
    assert.deepEqual(ip6ParseMultiple('x/0', none).map((a) => ip6SaveForm(a.addr, a.mask)), ['::/0']);
    assert.throws(() => ip6ParseMultiple('1::/129', none), /invalid mask `129' specified/);
    assert.throws(() => ip6ParseMultiple('1.2.3.4', none), /host\/network `1.2.3.4' not found/);
  });
});

/** [table, chain, rule, the -S line, the -L line, the -L -n line] as the real ip6tables printed them. */
const ROUND_TRIPS: [string, string, string, string, string, string][] = [
  ["filter", "INPUT", "-p icmpv6 --icmpv6-type echo-request -j ACCEPT", "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT", "ACCEPT     ipv6-icmp --  anywhere             anywhere             ipv6-icmp echo-request", "ACCEPT     58   --  ::/0                 ::/0                 ipv6-icmptype 128"],
  ["filter", "INPUT", "-p ipv6-icmp ! --icmpv6-type 1/3", "-A INPUT -p ipv6-icmp -m icmp6 ! --icmpv6-type 1/3", "           ipv6-icmp --  anywhere             anywhere             ipv6-icmp !address-unreachable", "           58   --  ::/0                 ::/0                 ipv6-icmp !type 1 code 3"],
  ["filter", "INPUT", "-p icmpv6 --icmpv6-type 255/1", "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 255/1", "           ipv6-icmp --  anywhere             anywhere             ipv6-icmptype 255 code 1", "           58   --  ::/0                 ::/0                 ipv6-icmptype 255 code 1"],
  ["filter", "INPUT", "-m hl ! --hl-eq 255", "-A INPUT -m hl ! --hl-eq 255", "           all  --  anywhere             anywhere             HL match HL != 255", "           0    --  ::/0                 ::/0                 HL match HL != 255"],
  ["filter", "INPUT", "-m hl --hl-lt 2", "-A INPUT -m hl --hl-lt 2", "           all  --  anywhere             anywhere             HL match HL < 2", "           0    --  ::/0                 ::/0                 HL match HL < 2"],
  ["filter", "INPUT", "-m rt --rt-type 0 --rt-segsleft 0", "-A INPUT -m rt --rt-type 0 --rt-segsleft 0", "           all  --  anywhere             anywhere             rt type:0 segsleft:0", "           0    --  ::/0                 ::/0                 rt type:0 segsleft:0"],
  ["filter", "INPUT", "-m rt --rt-type 0 ! --rt-segsleft 1:23 ! --rt-len 42 --rt-0-res --rt-0-addrs 1::1,2::2 --rt-0-not-strict", "-A INPUT -m rt --rt-type 0 ! --rt-segsleft 1:23 ! --rt-len 42 --rt-0-res --rt-0-addrs 1::1,2::2 --rt-0-not-strict", "           all  --  anywhere             anywhere             rt type:0 segslefts:!1:23 length:!42 reserved 0-addrs 1::1,2::2 0-not-strict", "           0    --  ::/0                 ::/0                 rt type:0 segslefts:!1:23 length:!42 reserved 0-addrs 1::1,2::2 0-not-strict"],
  ["filter", "INPUT", "-m frag ! --fragid 1:42 --fraglen 8 --fragres --fragfirst --fraglast", "-A INPUT -m frag ! --fragid 1:42 --fraglen 8 --fragres --fragfirst --fraglast", "           all  --  anywhere             anywhere             frag ids:!1:42 length:8 reserved first last", "           0    --  ::/0                 ::/0                 frag ids:!1:42 length:8 reserved first last"],
  ["filter", "INPUT", "-m hbh ! --hbh-len 8 --hbh-opts 1:2,3", "-A INPUT -m hbh ! --hbh-len 8 --hbh-opts 1:2,3", "           all  --  anywhere             anywhere             hbh length:!8 opts 1:2,3", "           0    --  ::/0                 ::/0                 hbh length:!8 opts 1:2,3"],
  ["filter", "INPUT", "-m dst --dst-opts 149:92,12", "-A INPUT -m dst --dst-opts 149:92,12", "           all  --  anywhere             anywhere             dst opts 149:92,12", "           0    --  ::/0                 ::/0                 dst opts 149:92,12"],
  ["filter", "INPUT", "-m ah ! --ahspi 5:6 --ahlen 3 --ahres", "-A INPUT -m ah ! --ahspi 5:6 --ahlen 3 --ahres", "           all  --  anywhere             anywhere             ah spis:!5:6length:3 reserved", "           0    --  ::/0                 ::/0                 ah spis:!5:6length:3 reserved"],
  ["filter", "INPUT", "-p mh --mh-type bu:be", "-A INPUT -p mobility-header -m mh --mh-type 5:7", "           mobility-header --  anywhere             anywhere             mh binding-update:binding-error", "           135  --  ::/0                 ::/0                 mh 5:7"],
  ["filter", "INPUT", "-m ipv6header ! --header frag,hop --soft", "-A INPUT -m ipv6header ! --header hop-by-hop,ipv6-frag --soft", "           all  --  anywhere             anywhere             ipv6header flags:!hop-by-hop,ipv6-frag soft", "           0    --  ::/0                 ::/0                 ipv6header flags:!0x90 soft"],
  ["filter", "INPUT", "-m srh ! --srh-next-hdr 17 --srh-psid a::/64 ! --srh-lsid c::/0", "-A INPUT -m srh ! --srh-next-hdr 17 --srh-psid a::/64 ! --srh-lsid c::/0", "           all  --  anywhere             anywhere             srh next-hdr:!17 psid  a::/64 lsid ! c::/0", "           0    --  ::/0                 ::/0                 srh next-hdr:!17 psid  a::/64 lsid ! c::/0"],
  ["filter", "INPUT", "-m eui64", "-A INPUT -m eui64", "           all  --  anywhere             anywhere            ", "           0    --  ::/0                 ::/0                "],
  ["filter", "INPUT", "-m conntrack --ctstate NEW --ctorigsrc 2001:db8::1/64 ! --ctrepldst ::1/ffff::", "-A INPUT -m conntrack --ctstate NEW --ctorigsrc 2001:db8::1/64 ! --ctrepldst ::1/16", "           all  --  anywhere             anywhere             ctstate NEW ctorigsrc 2001:db8::1/64 ! ctrepldst ::1/16", "           0    --  ::/0                 ::/0                 ctstate NEW ctorigsrc 2001:db8::1/64 ! ctrepldst ::1/16"],
  ["filter", "INPUT", "-m recent --update --seconds 60 --name DEFAULT --rsource", "-A INPUT -m recent --update --seconds 60 --name DEFAULT --mask ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff --rsource", "           all  --  anywhere             anywhere             recent: UPDATE seconds: 60 name: DEFAULT side: source mask: ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "           0    --  ::/0                 ::/0                 recent: UPDATE seconds: 60 name: DEFAULT side: source mask: ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
  ["filter", "INPUT", "-m iprange --src-range 1::1-1::ff", "-A INPUT -m iprange --src-range 1::1-1::ff", "           all  --  anywhere             anywhere             source IP range 1::1-1::ff", "           0    --  ::/0                 ::/0                 source IP range 1::1-1::ff"],
  ["filter", "INPUT", "-p tcp -j REJECT --reject-with tcp-reset", "-A INPUT -p tcp -j REJECT --reject-with tcp-reset", "REJECT     tcp  --  anywhere             anywhere             reject-with tcp-reset", "REJECT     6    --  ::/0                 ::/0                 reject-with tcp-reset"],
  ["filter", "INPUT", "-j REJECT --reject-with adm", "-A INPUT -j REJECT --reject-with icmp6-adm-prohibited", "REJECT     all  --  anywhere             anywhere             reject-with icmp6-adm-prohibited", "REJECT     0    --  ::/0                 ::/0                 reject-with icmp6-adm-prohibited"],
  ["filter", "INPUT", "-m connlimit --connlimit-above 5 --connlimit-mask 64", "-A INPUT -m connlimit --connlimit-above 5 --connlimit-mask 64 --connlimit-saddr", "           all  --  anywhere             anywhere             #conn src/64 > 5", "           0    --  ::/0                 ::/0                 #conn src/64 > 5"],
  ["mangle", "PREROUTING", "-j HL --hl-dec 3", "-A PREROUTING -j HL --hl-dec 3", "HL         all  --  anywhere             anywhere             HL decrement by 3", "HL         0    --  ::/0                 ::/0                 HL decrement by 3"],
  ["mangle", "PREROUTING", "-j DNPT --src-pfx 1::/64 --dst-pfx 2::/48", "-A PREROUTING -j DNPT --src-pfx 1::/64 --dst-pfx 2::/48", "DNPT       all  --  anywhere             anywhere             DNPT src-pfx 1::/64 dst-pfx 2::/48", "DNPT       0    --  ::/0                 ::/0                 DNPT src-pfx 1::/64 dst-pfx 2::/48"],
  ["nat", "PREROUTING", "-p tcp -j DNAT --to-destination [2001:db8::1-2001:db8::2]:80-90/85", "-A PREROUTING -p tcp -j DNAT --to-destination [2001:db8::1-2001:db8::2]:80-90/85", "DNAT       tcp  --  anywhere             anywhere             to:[2001:db8::1-2001:db8::2]:80-90/85", "DNAT       6    --  ::/0                 ::/0                 to:[2001:db8::1-2001:db8::2]:80-90/85"],
  ["nat", "POSTROUTING", "-j SNAT --to-source 2001:db8::1 --persistent", "-A POSTROUTING -j SNAT --to-source 2001:db8::1 --persistent", "SNAT       all  --  anywhere             anywhere             to:2001:db8::1 persistent", "SNAT       0    --  ::/0                 ::/0                 to:2001:db8::1 persistent"],
  ["nat", "POSTROUTING", "-p udp -j MASQUERADE --to-ports 1000-2000", "-A POSTROUTING -p udp -j MASQUERADE --to-ports 1000-2000", "MASQUERADE  udp  --  anywhere             anywhere             masq ports: 1000-2000", "MASQUERADE  17   --  ::/0                 ::/0                 masq ports: 1000-2000"],
  ["nat", "PREROUTING", "-j NETMAP --to 1::5/ffff:ffff::", "-A PREROUTING -j NETMAP --to 1::/32", "NETMAP     all  --  anywhere             anywhere             to:1::/32", "NETMAP     0    --  ::/0                 ::/0                 to:1::/32"],
];

/** Splits a rule written as one string into words (no quotes are used in ROUND_TRIPS). */
const words = (s: string) => s.split(' ');

describe('ip6tables: save and -L forms of the IPv6 and family-aware extensions', () => {
  for (const [table, chain, rule, save, list, listN] of ROUND_TRIPS) {
    it(`-t ${table} -A ${chain} ${rule}`, async () => {
      const l = lab();
      try {
        const add = await l.run(['ip6tables', '-t', table, '-A', chain, ...words(rule)]);
        assert.deepEqual(add, { stdout: '', stderr: '', status: 0 });
        assert.equal((await l.run(['ip6tables', '-t', table, '-S', chain])).stdout.split('\n')[1], save);
        assert.equal((await l.run(['ip6tables', '-t', table, '-L', chain])).stdout.split('\n')[2], list);
        assert.equal((await l.run(['ip6tables', '-t', table, '-L', chain, '-n'])).stdout.split('\n')[2], listN);
      } finally {
        l.done();
      }
    });
  }
});

describe('ip6tables: addresses and listings', () => {
  it('lists IPv6 addresses, masks and "anywhere"', async () => {
    const r = await last(
      ['ip6tables', '-A', 'INPUT', '-s', '2001:db8::1/64', '-d', 'fe80::/10', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT'],
      ['ip6tables', '-A', 'INPUT', '-s', '::/128', '!', '-d', '2001:db8::/ffff:0:ffff::'],
      ['ip6tables', '-A', 'INPUT', '-s', '1::1,2::2', '-i', 'eth0'],
      ['ip6tables', '-L', 'INPUT', '-v', '-n'],
    );
    assert.equal(
      r.stdout,
      'Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n' +
        ' pkts bytes target     prot opt in     out     source               destination         \n' +
        '    0     0 ACCEPT     6    --  *      *       2001:db8::/64        fe80::/10            tcp dpt:22\n' +
        '    0     0            0    --  *      *       ::                  !2001::/ffff:0:ffff:: \n' +
        '    0     0            0    --  eth0   *       1::1                 ::/0                \n' +
        '    0     0            0    --  eth0   *       2::2                 ::/0                \n',
    );
    const s = await last(['ip6tables', '-A', 'INPUT', '-s', '::/128', '-d', '::ffff:1.2.3.4'], ['ip6tables', '-S', 'INPUT']);
    assert.equal(s.stdout, '-P INPUT ACCEPT\n-A INPUT -s ::/128 -d ::ffff:1.2.3.4/128\n');
  });

  it('refuses what ip6tables refuses, with its messages', async () => {
    const fail = async (args: string[], msg: string) =>
      assert.deepEqual(await last(['ip6tables', ...args]), { stdout: '', stderr: `ip6tables v1.8.9 (nf_tables): ${msg}\n${TRY}`, status: 2 });
    await fail(['-A', 'INPUT', '-s', '1.2.3.4'], "host/network `1.2.3.4' not found");
    await fail(['-A', 'INPUT', '-s', '1::/129'], "invalid mask `129' specified");
    await fail(['-A', 'INPUT', '-f'], "`-f' is not supported in IPv6, use -m frag instead");
    await fail(['-A', 'INPUT', '!', '-s', '1::1,2::2'], '! not allowed with multiple source or destination IP addresses');
    await fail(['-A', 'INPUT', '-m', 'hl'], "HL match: You must specify one of `--hl-eq', `--hl-lt', `--hl-gt'");
    await fail(['-A', 'INPUT', '-m', 'rt', '--rt-0-res'], "`--rt-type 0' required before `--rt-0-res'");
    await fail(['-A', 'INPUT', '-m', 'dst', '--dst-opts', '0:2'], "PAD0 hasn't got length");
    await fail(['-A', 'INPUT', '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'], 'unknown reject type "icmp-port-unreachable"');
    await fail(['-A', 'INPUT', '-m', 'conntrack', '--ctorigdst', '1.2.3.4'], 'getaddrinfo: Address family for hostname not supported\n');
    await fail(['-A', 'INPUT', '-m', 'ttl', '--ttl-eq', '1'], "Couldn't load match `ttl':No such file or directory\n");
    assert.deepEqual(await last(['ip6tables', '-A', 'INPUT', '-4']), { stdout: '', stderr: TRY, status: 2 });
    assert.deepEqual(await last(['ip6tables', '-A', 'INPUT', '-j', 'REJECT', '--reject-with', 'tcp-reset']), {
      stdout: '',
      stderr: 'ip6tables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT\n',
      status: 4,
    });
    assert.deepEqual(await last(['ip6tables', '-D', 'INPUT', '-s', '1::1']), {
      stdout: '',
      stderr: 'ip6tables: Bad rule (does a matching rule exist in that chain?).\n',
      status: 1,
    });
  });

  it('warns about extension headers given as the protocol, ignores -c and -6', async () => {
    assert.deepEqual(await last(['ip6tables', '-A', 'INPUT', '-p', 'AH']), {
      stdout: '',
      stderr: 'Warning: never matched protocol: ah. use extension match instead.\n',
      status: 0,
    });
    const r = await last(['ip6tables', '-6', '-A', 'INPUT', '!', '-p', '44', '-c', '5', '1000'], ['ip6tables', '-S', 'INPUT', '-v']);
    assert.equal(r.stdout, '-P INPUT ACCEPT -c 0 0\n-A INPUT ! -p ipv6-frag -c 0 0\n');
  });
});

describe('ip6tables-save and ip6tables-restore', () => {
  const ruleset =
    '*filter\n:INPUT DROP [1:2]\n:foo - [0:0]\n:HL - [0:0]\n-A INPUT -s 1::1 -j foo\n-A foo -6 -p ipv6-icmp -m icmp6 --icmpv6-type 133 -m hl --hl-eq 255 -j ACCEPT\n' +
    '-A foo -4 -j DROP\n[7:8] -A foo -j REJECT\nCOMMIT\n';
  const saved =
    '*filter\n:INPUT DROP [1:2]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:HL - [0:0]\n:foo - [0:0]\n[0:0] -A INPUT -s 1::1/128 -j foo\n' +
    '[0:0] -A foo -p ipv6-icmp -m icmp6 --icmpv6-type 133 -m hl --hl-eq 255 -j ACCEPT\n[0:0] -A foo -j REJECT --reject-with icmp6-port-unreachable\nCOMMIT\n';
  const undated = (s: string) => s.replace(/^# .*\n/gm, '');

  it('restores an IPv6 file and saves it back under its own name', async () => {
    const l = lab();
    try {
      assert.deepEqual(await l.run(['ip6tables-restore', '-c'], ruleset), { stdout: '', stderr: '', status: 0 });
      const s = await l.run(['ip6tables-save', '-c']);
      assert.match(s.stdout, /^# Generated by ip6tables-save v1\.8\.9 \(nf_tables\) on /);
      assert.equal(undated(s.stdout), saved);
      // the IPv4 rule set is another one
      assert.equal((await l.run(['iptables-save'])).stdout, '');
      assert.equal((await l.run(['iptables', '-S'])).stdout, '-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n');
      // both are kept in the state file, which still loads
      const state = JSON.parse(readFileSync(join(l.dir, 'state.json'), 'utf8'));
      const ns = state.hosts.main.netns[''];
      assert.ok(ns.ruleset6 && ns.ruleset);
      assert.equal(
        (await l.run(['ip6tables', '-S', 'foo'])).stdout,
        '-N foo\n-A foo -p ipv6-icmp -m icmp6 --icmpv6-type 133 -m hl --hl-eq 255 -j ACCEPT\n-A foo -j REJECT --reject-with icmp6-port-unreachable\n',
      );
    } finally {
      l.done();
    }
  });

  it('reports errors with its own name', async () => {
    assert.deepEqual(await last([['ip6tables-restore'], '*filter\n-A INPUT -f\nCOMMIT\n']), {
      stdout: '',
      stderr: "ip6tables-restore v1.8.9 (nf_tables): `-f' is not supported in IPv6, use -m frag instead\nError occurred at line: 2\n" + TRY_RESTORE,
      status: 2,
    });
    assert.deepEqual(await last([['ip6tables-restore'], 'x\n']), { stdout: '', stderr: 'ip6tables-restore: line 1 failed\n', status: 1 });
    assert.deepEqual(await last(['ip6tables-nft-save', '-V']), { stdout: 'ip6tables-nft-save v1.8.9 (nf_tables)\n', stderr: '', status: 0 });
  });

  it('iptables-restore skips lines marked -6', async () => {
    const r = await last([['iptables-restore'], '*filter\n-A INPUT -6 -s 1::1\n-A INPUT -4 -s 1.1.1.1\nCOMMIT\n'], ['iptables', '-S', 'INPUT']);
    assert.equal(r.stdout, '-P INPUT ACCEPT\n-A INPUT -s 1.1.1.1/32\n');
  });
});
