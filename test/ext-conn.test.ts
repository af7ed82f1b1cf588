/**
 * Unit tests for the conn group of extensions (state, conntrack, comment,
 * mark, connmark, owner, helper, connlimit, physdev, set, policy,
 * connbytes, connlabel, socket, cgroup, ipvs, nfacct, cluster, osf).
 * Every expected text below is what the real iptables 1.8.9 (nf_tables)
 * printed for the same command in a fresh network namespace.
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNflab } from '../src/cli/main.js';

const TRY = "Try `iptables -h' or 'iptables --help' for more information.\n";

/** A parameter problem as iptables reports it (`body` as the extension words it). */
function param(body: string): string {
  return `iptables v1.8.9 (nf_tables): ${body}\n${TRY}`;
}

/** A rule, its save line and the extension text of -L (and of -L -n when it differs). */
interface RoundTrip {
  table: string;
  chain: string;
  rule: string[];
  save: string;
  list: string;
  listN?: string;
}

/** A rule iptables refuses, with its exit status and stderr. */
interface Refusal {
  table: string;
  chain: string;
  rule: string[];
  status: number;
  stderr: string;
}

type Run = (...args: string[]) => Promise<{ stdout: string; stderr: string; status: number }>;

/** Runs `body` against a fresh lab. */
async function withLab<T>(body: (run: Run, stdin: (input: string, ...args: string[]) => ReturnType<Run>) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-ext-conn-'));
  try {
    return await body(
      (...args) => runNflab(args, { lab: dir }),
      (input, ...args) => runNflab(args, { lab: dir, stdin: input }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The part of a -L rule line after the destination column: the extensions' own text. */
function listTail(out: string): string {
  const line = out.split('\n')[2]!;
  const m = /(?:0\.0\.0\.0\/0|anywhere) +(0\.0\.0\.0\/0|anywhere)/.exec(line)!;
  return line.slice(m.index + m[0].length - m[1]!.length + 20);
}

const ROUND_TRIPS: RoundTrip[] = [
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "state", "--state", "ESTABLISHED,RELATED,new"],
    save: "-A INPUT -m state --state NEW,RELATED,ESTABLISHED",
    list: " state NEW,RELATED,ESTABLISHED",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "state", "!", "--state", "est,UNTRACKED,inv"],
    save: "-A INPUT -m state ! --state INVALID,ESTABLISHED,UNTRACKED",
    list: " ! state INVALID,ESTABLISHED,UNTRACKED",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "conntrack", "!", "--ctstate", "SNAT,DNAT,NEW", "--ctproto", "tcp", "--ctorigsrc", "1.2.3.4/24", "!", "--ctorigdst", "10.0.0.0/255.0.255.0", "--ctreplsrc", "localhost", "--ctrepldst", "0.0.0.0/8", "--ctorigsrcport", "22", "!", "--ctorigdstport", "1000:2000", "--ctreplsrcport", "ssh:http", "--ctrepldstport", ":80", "--ctstatus", "EXPECTED,CONFIRMED", "--ctexpire", "10:20", "--ctdir", "REPLY"],
    save: "-A INPUT -m conntrack ! --ctstate NEW,SNAT,DNAT --ctproto 6 --ctorigsrc 1.2.3.4/24 ! --ctorigdst 10.0.0.0 --ctreplsrc 127.0.0.1 --ctrepldst 0.0.0.0/8 --ctorigsrcport 22 ! --ctorigdstport 1000:2000 --ctreplsrcport 22:80 --ctrepldstport 0:80 --ctstatus EXPECTED,CONFIRMED --ctexpire 10:20 --ctdir REPLY",
    list: " ! ctstate NEW,SNAT,DNAT ctproto 6 ctorigsrc 1.2.3.4/24 ! ctorigdst 10.0.0.0 ctreplsrc localhost ctrepldst anywhere ctorigsrcport 22 ! ctorigdstport 1000:2000 ctreplsrcport 22:80 ctrepldstport 0:80 ctstatus EXPECTED,CONFIRMED ctexpire 10:20 ctdir REPLY",
    listN: " ! ctstate NEW,SNAT,DNAT ctproto 6 ctorigsrc 1.2.3.4/24 ! ctorigdst 10.0.0.0 ctreplsrc 127.0.0.1 ctrepldst 0.0.0.0/8 ctorigsrcport 22 ! ctorigdstport 1000:2000 ctreplsrcport 22:80 ctrepldstport 0:80 ctstatus EXPECTED,CONFIRMED ctexpire 10:20 ctdir REPLY",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "conntrack", "--ctstatus", "none", "--ctexpire", "7", "--ctdir", "original", "--ctorigsrcport", "5:0"],
    save: "-A INPUT -m conntrack --ctorigsrcport 5 --ctstatus NONE --ctexpire 7 --ctdir ORIGINAL",
    list: " ctorigsrcport 5 ctstatus NONE ctexpire 7 ctdir ORIGINAL",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "mark", "--mark", "0xff/0x0f"],
    save: "-A INPUT -m mark --mark 0xff/0xf",
    list: " mark match 0xff/0xf",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "mark", "!", "--mark", "4294967295"],
    save: "-A INPUT -m mark ! --mark 0xffffffff",
    list: " mark match ! 0xffffffff",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "connmark", "--mark", "7"],
    save: "-A INPUT -m connmark --mark 0x7",
    list: " connmark match  0x7",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "connmark", "!", "--mark", "1/0"],
    save: "-A INPUT -m connmark ! --mark 0x1/0x0",
    list: " connmark match ! 0x1/0x0",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-p", "tcp", "-m", "comment", "--comment", "it's \"x\" \\ y", "-m", "tcp", "--dport", "22"],
    save: "-A INPUT -p tcp -m comment --comment \"it\\'s \\\"x\\\" \\\\ y\" -m tcp --dport 22",
    list: " /* it's \"x\" \\ y */ tcp dpt:ssh",
    listN: " /* it's \"x\" \\ y */ tcp dpt:22",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "comment", "--comment", "A_b-9"],
    save: "-A INPUT -m comment --comment A_b-9",
    list: " /* A_b-9 */",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "helper", "!", "--helper", "a b", "-m", "helper", "--helper", "ftp"],
    save: "-A INPUT -m helper ! --helper \"a b\" -m helper --helper ftp",
    list: " helper match ! \"a b\" helper match \"ftp\"",
  },
  {
    table: "mangle",
    chain: "OUTPUT",
    rule: ["-m", "owner", "--uid-owner", "1-0x10", "--gid-owner", "5:7", "!", "--socket-exists", "--suppl-groups"],
    save: "-A OUTPUT -m owner ! --socket-exists --uid-owner 1-16 --gid-owner 5-7 --suppl-groups",
    list: " ! owner socket exists owner UID match 1-16 owner GID match 5-7 incl. suppl. groups",
  },
  {
    table: "mangle",
    chain: "OUTPUT",
    rule: ["-m", "owner", "!", "--uid-owner", "daemon", "--gid-owner", "mail"],
    save: "-A OUTPUT -m owner ! --uid-owner 1 --gid-owner 8",
    list: " ! owner UID match daemon owner GID match mail",
    listN: " ! owner UID match 1 owner GID match 8",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "connlimit", "!", "--connlimit-upto", "5", "--connlimit-mask", "255.255.0.0", "--connlimit-daddr"],
    save: "-A INPUT -m connlimit --connlimit-above 5 --connlimit-mask 16 --connlimit-daddr",
    list: " #conn dst/16 > 5",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "connlimit", "--connlimit-upto", "5", "--connlimit-mask", "33"],
    save: "-A INPUT -m connlimit --connlimit-upto 5 --connlimit-mask 32 --connlimit-saddr",
    list: " #conn src/32 <= 5",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "physdev", "--physdev-in", "eth+", "!", "--physdev-is-in", "!", "--physdev-is-bridged"],
    save: "-A INPUT -m physdev ! --physdev-is-in --physdev-in eth+ ! --physdev-is-bridged",
    list: " PHYSDEV match ! --physdev-is-in --physdev-in eth+ ! --physdev-is-bridged",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "policy", "--dir", "in", "--pol", "ipsec", "--strict", "--reqid", "1", "--spi", "0x10", "--proto", "esp", "--mode", "tunnel", "--tunnel-dst", "10.0.0.0/8", "--tunnel-src", "10.1.2.3", "--next", "!", "--reqid", "2"],
    save: "-A INPUT -m policy --dir in --pol ipsec --strict --reqid 1 --spi 0x10 --proto esp --mode tunnel --tunnel-dst 10.0.0.0/8 --tunnel-src 10.1.2.3 --next ! --reqid 2",
    list: " policy match dir in pol ipsec strict [0] reqid 1 spi 0x10 proto esp mode tunnel tunnel-dst 10.0.0.0/8 tunnel-src 10.1.2.3 [1] ! reqid 2",
    listN: " policy match dir in pol ipsec strict [0] reqid 1 spi 0x10 proto 50 mode tunnel tunnel-dst 10.0.0.0/8 tunnel-src 10.1.2.3 [1] ! reqid 2",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "policy", "--dir", "in", "--pol", "none"],
    save: "-A INPUT -m policy --dir in --pol none",
    list: " policy match dir in pol none",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "connbytes", "!", "--connbytes", "7:18446744073709551614", "--connbytes-mode", "avgpkt", "--connbytes-dir", "reply"],
    save: "-A INPUT -m connbytes ! --connbytes 7:18446744073709551614 --connbytes-mode avgpkt --connbytes-dir reply",
    list: " ! connbytes 7:18446744073709551614 connbytes mode avgpkt connbytes direction reply",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "connbytes", "--connbytes", "10:", "--connbytes-mode", "bytes", "--connbytes-dir", "original"],
    save: "-A INPUT -m connbytes --connbytes 10 --connbytes-mode bytes --connbytes-dir original",
    list: " connbytes 10 connbytes mode bytes connbytes direction original",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-m", "connlabel", "!", "--label", "0x29", "--set"],
    save: "-A INPUT -m connlabel ! --label \"41\" --set",
    list: " connlabel ! 41 set",
  },
  {
    table: "mangle",
    chain: "PREROUTING",
    rule: ["-m", "socket", "--transparent", "--restore-skmark"],
    save: "-A PREROUTING -m socket --transparent --restore-skmark",
    list: " socket --transparent --restore-skmark",
  },
  {
    table: "filter",
    chain: "OUTPUT",
    rule: ["-m", "cgroup", "!", "--path", "//"],
    save: "-A OUTPUT -m cgroup ! --path \"//\"",
    list: " cgroup ! //",
  },
  {
    table: "filter",
    chain: "OUTPUT",
    rule: ["-m", "cgroup", "--cgroup", "0x10"],
    save: "-A OUTPUT -m cgroup --cgroup 16",
    list: " cgroup 16",
  },
  {
    table: "mangle",
    chain: "PREROUTING",
    rule: ["-m", "cluster", "--cluster-total-nodes", "32", "!", "--cluster-local-node", "32", "--cluster-hash-seed", "0xfeedcafe"],
    save: "-A PREROUTING -m cluster ! --cluster-local-nodemask 0x80000000 --cluster-total-nodes 32 --cluster-hash-seed 0xfeedcafe",
    list: " cluster !node_mask=0x80000000 total_nodes=32 hash_seed=0xfeedcafe",
  },
  {
    table: "filter",
    chain: "INPUT",
    rule: ["-p", "tcp", "-m", "osf", "!", "--genre", "lin ux", "--ttl", "2", "--log", "1"],
    save: "-A INPUT -p tcp -m osf ! --genre lin ux --ttl 2 --log 1",
    list: " OS fingerprint match ! lin ux",
  },
];

const REFUSALS: Refusal[] = [
  { table: "filter", chain: "INPUT", rule: ["-m", "state"], status: 2, stderr: param("state: option \"--state\" must be specified\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "state", "--state", "NEW,"], status: 2, stderr: param("\"--state\" requires a list of states with no spaces, e.g. ESTABLISHED,RELATED") },
  { table: "filter", chain: "INPUT", rule: ["-m", "state", "--state", ",NEW"], status: 2, stderr: param("Bad state \",NEW\"") },
  { table: "filter", chain: "INPUT", rule: ["-m", "state", "--state", "SNAT"], status: 2, stderr: param("Bad state \"SNAT\"") },
  { table: "filter", chain: "INPUT", rule: ["-m", "conntrack"], status: 2, stderr: param("conntrack: At least one option is required") },
  { table: "filter", chain: "INPUT", rule: ["-m", "conntrack", "--ctstate", "NEW,"], status: 2, stderr: param("Bad ctstate \"\"") },
  { table: "filter", chain: "INPUT", rule: ["-m", "conntrack", "--ctstatus", "bogus"], status: 2, stderr: param("Bad ctstatus \"bogus\"") },
  { table: "filter", chain: "INPUT", rule: ["-m", "conntrack", "!", "--ctstatus", "NONE", "!", "--ctproto", "0"], status: 2, stderr: param("conntrack: rule would never match protocol") },
  { table: "filter", chain: "INPUT", rule: ["-m", "conntrack", "--ctdir", "foo"], status: 2, stderr: param("conntrack: Bad value for \"--ctdir\" option: \"foo\"") },
  { table: "filter", chain: "INPUT", rule: ["-m", "conntrack", "!", "--ctdir", "REPLY"], status: 2, stderr: param("conntrack: option \"--ctdir\" cannot be inverted.\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "conntrack", "--ctorigsrc", "1.2.3.4/08"], status: 2, stderr: param("conntrack: bad value for option \"--ctorigsrc\", neither a valid network mask nor valid CIDR (0-32).\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "conntrack", "--ctorigsrc", "nosuchhost"], status: 2, stderr: param("getaddrinfo: Temporary failure in name resolution\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "conntrack", "--ctorigsrc", "300.1.1.1"], status: 2, stderr: param("getaddrinfo: Name or service not known\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "conntrack", "--ctexpire", "4294967296"], status: 2, stderr: param("conntrack: bad value for option \"--ctexpire\" near \"4294967296\", or out of range (0-4294967295).\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "conntrack", "--ctorigsrcport", "1:2:3"], status: 2, stderr: param("conntrack: Too many components for option \"--ctorigsrcport\" (max: 2)\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "mark"], status: 2, stderr: param("mark: option \"--mark\" must be specified\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "mark", "--mark", "1/2/3"], status: 2, stderr: param("mark: trailing garbage after value for option \"--mark\".\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "mark", "--mark", "0x100000000"], status: 2, stderr: param("mark: bad integer value for option \"--mark\", or out of range.\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "connmark", "--mark", "1", "--mark", "2"], status: 2, stderr: param("connmark: option \"--mark\" can only be used once.\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "comment"], status: 2, stderr: param("comment: option \"--comment\" must be specified\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "comment", "!", "--comment", "x"], status: 2, stderr: param("comment: option \"--comment\" cannot be inverted.\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "helper"], status: 2, stderr: param("helper: option \"--helper\" must be specified\n") },
  { table: "mangle", chain: "OUTPUT", rule: ["-m", "owner"], status: 2, stderr: param("owner: At least one of --uid-owner, --gid-owner or --socket-exists is required") },
  { table: "mangle", chain: "OUTPUT", rule: ["-m", "owner", "--uid-owner", "4294967295"], status: 2, stderr: param("owner: Bad value for \"--uid-owner\" option: \"4294967295\"") },
  { table: "mangle", chain: "OUTPUT", rule: ["-m", "owner", "--uid-owner", "nosuch"], status: 2, stderr: param("owner: Bad value for \"--uid-owner\" option: \"nosuch\"") },
  { table: "mangle", chain: "OUTPUT", rule: ["-m", "owner", "--suppl-groups", "--gid-owner", "1"], status: 2, stderr: param("owner: Bad value for \"--suppl-groups\" option: \"you need to use --gid-owner first\"") },
  { table: "mangle", chain: "OUTPUT", rule: ["-m", "owner", "--gid-owner", "1", "!", "--suppl-groups"], status: 2, stderr: param("owner: option \"--suppl-groups\" cannot be inverted.\n") },
  { table: "mangle", chain: "OUTPUT", rule: ["-m", "owner", "--uid-owner", "5-3"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n" },
  { table: "filter", chain: "INPUT", rule: ["-m", "owner", "--uid-owner", "0"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT\n" },
  { table: "filter", chain: "INPUT", rule: ["-m", "connlimit", "--connlimit-mask", "24"], status: 2, stderr: param("You must specify \"--connlimit-above\" or \"--connlimit-upto\".") },
  { table: "filter", chain: "INPUT", rule: ["-m", "connlimit", "--connlimit-upto", "1", "--connlimit-above", "1"], status: 2, stderr: param("connlimit: option \"--connlimit-upto\" cannot be used together with \"--connlimit-above\".\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "connlimit", "--connlimit-above", "5", "--connlimit-mask", "x"], status: 2, stderr: param("connlimit: bad value for option \"--connlimit-mask\", neither a valid network mask nor valid CIDR (0-32).\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "connlimit", "--connlimit-above", "1", "--connlimit-saddr", "--connlimit-daddr"], status: 2, stderr: param("connlimit: option \"--connlimit-saddr\" cannot be used together with \"--connlimit-daddr\".\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "physdev"], status: 2, stderr: param("PHYSDEV: no physdev option specified") },
  { table: "filter", chain: "INPUT", rule: ["-m", "physdev", "--physdev-in", "aaaaaaaaaaaaaaaa"], status: 2, stderr: param("interface name `aaaaaaaaaaaaaaaa' must be shorter than IFNAMSIZ (15)") },
  { table: "filter", chain: "OUTPUT", rule: ["-m", "physdev", "--physdev-is-out"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n" },
  { table: "filter", chain: "INPUT", rule: ["-m", "set"], status: 2, stderr: param("You must specify `--match-set' with proper arguments") },
  { table: "filter", chain: "INPUT", rule: ["-m", "set", "--match-set", "foo"], status: 2, stderr: param("--match-set requires two args.") },
  { table: "filter", chain: "INPUT", rule: ["-m", "set", "--match-set", "foo", "src"], status: 2, stderr: param("Set foo doesn't exist.\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "set", "--match-set", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "src"], status: 2, stderr: param("setname `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' too long, max 31 characters.") },
  { table: "filter", chain: "INPUT", rule: ["-m", "set", "!", "--return-nomatch"], status: 2, stderr: param("--return-nomatch flag cannot be inverted") },
  { table: "filter", chain: "INPUT", rule: ["-m", "set", "--packets-gt", "x"], status: 2, stderr: param("Cannot parse x as a counter value") },
  { table: "filter", chain: "INPUT", rule: ["-m", "set", "--bytes-lt", "1", "--bytes-eq", "2"], status: 2, stderr: param("only one of the --bytes-[eq|lt|gt] is allowed") },
  { table: "filter", chain: "INPUT", rule: ["-m", "policy", "--pol", "ipsec"], status: 2, stderr: param("policy match: neither --dir in nor --dir out specified") },
  { table: "filter", chain: "INPUT", rule: ["-m", "policy", "--dir", "up"], status: 2, stderr: param("policy_match: invalid dir \"up\"") },
  { table: "filter", chain: "INPUT", rule: ["-m", "policy", "--dir", "in", "--pol", "ipsec", "--strict"], status: 2, stderr: param("policy match: empty policy element 0. --strict is in effect, but at least one of reqid, spi, tunnel-src, tunnel-dst, proto or mode is required.") },
  { table: "filter", chain: "INPUT", rule: ["-m", "policy", "--dir", "in", "--pol", "ipsec", "--next", "--reqid", "2"], status: 2, stderr: param("policy: option \"--next\" also requires \"--strict\".\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "policy", "--dir", "in", "--proto", "tcp"], status: 2, stderr: param("policy match: protocol must be ah/esp/ipcomp") },
  { table: "filter", chain: "INPUT", rule: ["-m", "policy", "--dir", "in", "--pol", "none", "--strict"], status: 2, stderr: param("policy match: policy none but --strict given") },
  { table: "filter", chain: "INPUT", rule: ["-m", "policy", "--dir", "in", "--mode", "transport", "--tunnel-src", "1.2.3.4"], status: 2, stderr: param("policy match: --tunnel-src/--tunnel-dst is only valid in tunnel mode") },
  { table: "filter", chain: "INPUT", rule: ["-m", "policy", "--dir", "out"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT\n" },
  { table: "filter", chain: "INPUT", rule: ["-m", "connbytes", "--connbytes", "20:10", "--connbytes-mode", "bytes", "--connbytes-dir", "both"], status: 2, stderr: param("20 should be less than 10") },
  { table: "filter", chain: "INPUT", rule: ["-m", "connbytes", "--connbytes", "0:18446744073709551616", "--connbytes-mode", "bytes", "--connbytes-dir", "both"], status: 2, stderr: param("connbytes: bad value for option \"--connbytes\" near \"18446744073709551616\", or out of range (0-18446744073709551615).\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "connbytes", "--connbytes", "1", "--connbytes-mode", "Bytes", "--connbytes-dir", "both"], status: 2, stderr: param("Unknown --connbytes-mode `Bytes'") },
  { table: "filter", chain: "INPUT", rule: ["-m", "connbytes", "--connbytes", "1", "--connbytes-mode", "bytes"], status: 2, stderr: param("connbytes: option \"--connbytes-dir\" must be specified\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "connlabel", "--label", "128"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Numerical result out of range): rule in chain INPUT\n" },
  { table: "filter", chain: "INPUT", rule: ["-m", "connlabel", "--label", ""], status: 2, stderr: param("Argument must have a minimum length of 1 characters\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "connlabel", "--set"], status: 2, stderr: param("connlabel: option \"--label\" must be specified\n") },
  { table: "filter", chain: "OUTPUT", rule: ["-m", "socket"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n" },
  { table: "filter", chain: "INPUT", rule: ["-m", "socket", "!", "--transparent"], status: 2, stderr: param("socket: option \"--transparent\" cannot be inverted.\n") },
  { table: "filter", chain: "INPUT", rule: ["-m", "cgroup"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT\n" },
  { table: "filter", chain: "INPUT", rule: ["-m", "cgroup", "--path", "/no/such"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT\n" },
  { table: "filter", chain: "INPUT", rule: ["-m", "cgroup", "--cgroup", "1", "--path", "/"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT\n" },
  { table: "filter", chain: "INPUT", rule: ["-m", "nfacct", "--nfacct-name", "x"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (No such file or directory): rule in chain INPUT\n" },
  { table: "mangle", chain: "PREROUTING", rule: ["-m", "cluster", "--cluster-total-nodes", "2", "--cluster-local-nodemask", "4", "--cluster-hash-seed", "1"], status: 2, stderr: param("cluster match: `--cluster-local-nodemask' too big for `--cluster-total-nodes'") },
  { table: "mangle", chain: "PREROUTING", rule: ["-m", "cluster", "--cluster-total-nodes", "2", "--cluster-local-node", "3", "--cluster-hash-seed", "1"], status: 2, stderr: param("cluster match: `--cluster-local-node' must be <= `--cluster-total-nodes'") },
  { table: "mangle", chain: "PREROUTING", rule: ["-m", "cluster", "--cluster-total-nodes", "2", "--cluster-hash-seed", "1"], status: 2, stderr: param("cluster match: `--cluster-local-node' or`--cluster-local-nodemask' is missing") },
  { table: "filter", chain: "INPUT", rule: ["-m", "osf", "--genre", "linux"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain INPUT\n" },
  { table: "filter", chain: "OUTPUT", rule: ["-p", "tcp", "-m", "osf", "--genre", "linux"], status: 4, stderr: "iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain OUTPUT\n" },
  { table: "filter", chain: "INPUT", rule: ["-p", "tcp", "-m", "osf", "--genre", "linux", "--ttl", "3"], status: 2, stderr: param("osf: bad value for option \"--ttl\", or out of range (0-2).\n") },
];

describe('conn group: rule → save and list forms', () => {
  for (const t of ROUND_TRIPS) {
    it(`${t.table} ${t.chain} ${t.rule.join(' ')}`, () =>
      withLab(async (run) => {
        const add = await run('iptables', '-t', t.table, '-A', t.chain, ...t.rule);
        assert.deepEqual([add.status, add.stderr], [0, '']);
        const s = await run('iptables', '-t', t.table, '-S', t.chain);
        assert.equal(s.stdout.split('\n').find((x) => x.startsWith('-A ')), t.save);
        assert.equal(listTail((await run('iptables', '-t', t.table, '-L', t.chain)).stdout), t.list);
        assert.equal(listTail((await run('iptables', '-t', t.table, '-L', t.chain, '-n')).stdout), t.listN ?? t.list);
        // the rule as given identifies the stored rule
        const del = await run('iptables', '-t', t.table, '-D', t.chain, ...t.rule);
        assert.deepEqual([del.status, del.stderr], [0, '']);
      }),
    );
  }
});

describe('conn group: refused rules', () => {
  for (const r of REFUSALS) {
    it(`${r.table} ${r.chain} ${r.rule.join(' ')}`, () =>
      withLab(async (run) => {
        const res = await run('iptables', '-t', r.table, '-A', r.chain, ...r.rule);
        assert.equal(res.stderr, r.stderr);
        assert.equal(res.status, r.status);
        assert.equal(res.stdout, '');
      }),
    );
  }
});

describe('conn group: behaviours', () => {
  it('state is stored as a conntrack alias that -C tells apart from --ctstate', () =>
    withLab(async (run) => {
      await run('iptables', '-A', 'INPUT', '-m', 'state', '--state', 'NEW');
      const other = await run('iptables', '-C', 'INPUT', '-m', 'conntrack', '--ctstate', 'NEW');
      assert.deepEqual([other.status, other.stderr], [1, 'iptables: Bad rule (does a matching rule exist in that chain?).\n']);
      const same = await run('iptables', '-C', 'INPUT', '-m', 'state', '--state', 'new');
      assert.deepEqual([same.status, same.stderr], [0, '']);
    }));

  it('-C compares what the kernel holds: a port range 5:0 is not the port 5 it prints as', () =>
    withLab(async (run) => {
      await run('iptables', '-A', 'INPUT', '-m', 'conntrack', '--ctorigsrcport', '5:0');
      const s = await run('iptables', '-S', 'INPUT');
      assert.equal(s.stdout, '-P INPUT ACCEPT\n-A INPUT -m conntrack --ctorigsrcport 5\n');
      const other = await run('iptables', '-C', 'INPUT', '-m', 'conntrack', '--ctorigsrcport', '5');
      assert.deepEqual([other.status, other.stderr], [1, 'iptables: Bad rule (does a matching rule exist in that chain?).\n']);
      const same = await run('iptables', '-C', 'INPUT', '-m', 'conntrack', '--ctorigsrcport', '5:0');
      assert.deepEqual([same.status, same.stderr], [0, '']);
    }));

  it('owner in a user chain is accepted until a jump makes it reachable', () =>
    withLab(async (run) => {
      await run('iptables', '-N', 'Y');
      const add = await run('iptables', '-A', 'Y', '-m', 'owner', '--uid-owner', '0');
      assert.deepEqual([add.status, add.stderr], [0, '']);
    }));

  it('--set warns that it is deprecated before looking the set up', () =>
    withLab(async (run) => {
      const res = await run('iptables', '-A', 'INPUT', '-m', 'set', '--set', 'foo', 'src');
      assert.equal(res.stderr, `--set option deprecated, please use --match-set\n${param("Set foo doesn't exist.\n")}`);
      assert.equal(res.status, 2);
    }));

  it('a label name needs the missing connlabel.conf: warning, then the error', () =>
    withLab(async (run) => {
      const res = await run('iptables', '-A', 'INPUT', '-m', 'connlabel', '--label', 'foo');
      assert.equal(
        res.stderr,
        "Warning: cannot open /etc/xtables/connlabel.conf: No such file or directory\n" +
          param("label 'foo' not found or invalid value"),
      );
    }));

  it('physdev warns about characters the kernel does not allow and goes on', () =>
    withLab(async (run) => {
      const res = await run('iptables', '-A', 'INPUT', '-m', 'physdev', '--physdev-in', 'a/b');
      assert.deepEqual(
        [res.status, res.stderr],
        [0, "Warning: weird character in interface `a/b' ('/' and ' ' are not allowed by the kernel).\n"],
      );
      const s = await run('iptables', '-S', 'INPUT');
      assert.equal(s.stdout, '-P INPUT ACCEPT\n-A INPUT -m physdev --physdev-in a/b\n');
    }));

  it('iptables-restore then iptables-save keeps quoting, masks and order', () =>
    withLab(async (run, stdin) => {
      const input =
        '*filter\n' +
        '-A INPUT -m comment --comment "a \\"b\\" c" -m helper --helper x -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n' +
        '-A INPUT -m mark --mark 0x10/0xf0 -m connmark ! --mark 3 -j DROP\n' +
        'COMMIT\n';
      const r = await stdin(input, 'iptables-restore');
      assert.deepEqual([r.status, r.stderr], [0, '']);
      const save = (await run('iptables-save')).stdout.split('\n').filter((l) => !l.startsWith('#'));
      assert.deepEqual(save, [
        '*filter',
        ':INPUT ACCEPT [0:0]',
        ':FORWARD ACCEPT [0:0]',
        ':OUTPUT ACCEPT [0:0]',
        '-A INPUT -m comment --comment "a \\"b\\" c" -m helper --helper x -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        '-A INPUT -m mark --mark 0x10/0xf0 -m connmark ! --mark 0x3 -j DROP',
        'COMMIT',
        '',
      ]);
    }));

  it('a restore line the state match refuses names its line', () =>
    withLab(async (_run, stdin) => {
      const r = await stdin('*filter\n-A INPUT -m state --state NEW -j ACCEPT\n-A INPUT -m state --state BOGUS -j ACCEPT\nCOMMIT\n', 'iptables-restore');
      assert.equal(
        r.stderr,
        'iptables-restore v1.8.9 (nf_tables): Bad state "BOGUS"\nError occurred at line: 3\n' +
          "Try `iptables-restore -h' or 'iptables-restore --help' for more information.\n",
      );
      assert.equal(r.status, 2);
    }));
});
