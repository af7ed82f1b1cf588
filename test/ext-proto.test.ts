/**
 * Unit tests for the proto group of extensions (udp, icmp, multiport, mac,
 * addrtype, iprange, pkttype, length, ttl, tos, dscp, tcpmss, sctp, dccp,
 * esp, ah, ipcomp, ecn, realm, cpu, rpfilter, devgroup, u32 and the TOS,
 * DSCP, TTL, ECN, TCPMSS, TCPOPTSTRIP, CHECKSUM targets). Every expected
 * text below was checked against the real iptables 1.8.9 (nf_tables).
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNflab } from '../src/cli/main.js';

const TRY = "Try `iptables -h' or 'iptables --help' for more information.\n";

/** Runs commands in a fresh lab; returns the lab runner and a cleanup. */
function lab(): { run: (...args: string[]) => Promise<{ stdout: string; stderr: string; status: number }>; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-ext-proto-'));
  return {
    run: (...args) => runNflab(args, { lab: dir }),
    done: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Adds `rule` to `chain` (table `table`) and returns the -S line, the -L match text and the -L -n match text. */
async function roundTrip(rule: string[], chain = 'INPUT', table = 'filter'): Promise<{ save: string; list: string; listN: string }> {
  const l = lab();
  try {
    const add = await l.run('iptables', '-t', table, '-A', chain, ...rule);
    assert.equal(add.stderr, '');
    assert.equal(add.status, 0);
    const s = await l.run('iptables', '-t', table, '-S', chain);
    const save = s.stdout.split('\n').find((x) => x.startsWith('-A '))!;
    // The text after the 20-column destination field: the extensions' own output, leading space included.
    const tail = (out: string) => {
      const line = out.split('\n')[2]!;
      const m = /(?:0\.0\.0\.0\/0|anywhere) +(0\.0\.0\.0\/0|anywhere)/.exec(line)!;
      return line.slice(m.index + m[0].length - m[1]!.length + 20);
    };
    const list = tail((await l.run('iptables', '-t', table, '-L', chain)).stdout);
    const listN = tail((await l.run('iptables', '-t', table, '-L', chain, '-n')).stdout);
    return { save, list, listN };
  } finally {
    l.done();
  }
}

/** Runs one failing command and returns stderr and status. */
async function failure(...args: string[]): Promise<{ stderr: string; status: number }> {
  const l = lab();
  try {
    const r = await l.run('iptables', ...args);
    return { stderr: r.stderr, status: r.status };
  } finally {
    l.done();
  }
}

const paramProblem = (msg: string) => ({ stderr: `iptables v1.8.9 (nf_tables): ${msg}\n${TRY}`, status: 2 });
const kernelRefusal = (chain: string) => ({
  stderr: `iptables v1.8.9 (nf_tables):  RULE_APPEND failed (Invalid argument): rule in chain ${chain}\n`,
  status: 4,
});

describe('udp', () => {
  it('implicit -p udp, service names in -L, numbers in save', async () => {
    const r = await roundTrip(['-p', 'udp', '--sport', 'domain', '--dport', '1024:']);
    assert.equal(r.save, '-A INPUT -p udp -m udp --sport 53 --dport 1024:65535');
    assert.equal(r.list, ' udp spt:domain dpts:1024:65535');
    assert.equal(r.listN, ' udp spt:53 dpts:1024:65535');
  });
  it('native form: an inverted range from 0 comes back as the complement', async () => {
    const r = await roundTrip(['-p', 'udp', '!', '--sport', '0:100']);
    assert.equal(r.save, '-A INPUT -p udp -m udp --sport 101:65535');
  });
  it('native form: a match of the whole range disappears', async () => {
    const r = await roundTrip(['-p', 'udp', '!', '--dport', '0:65535']);
    assert.equal(r.save, '-A INPUT -p udp');
  });
  it('needs -p udp when it has ports', async () => {
    assert.deepEqual(await failure('-A', 'INPUT', '-m', 'udp', '--dport', '53'), paramProblem("UDP match requires '-p udp'"));
  });
  it('an empty -m udp is refused by the kernel without -p udp', async () => {
    assert.deepEqual(await failure('-A', 'INPUT', '-m', 'udp'), kernelRefusal('INPUT'));
  });
});

describe('icmp', () => {
  it('names, numbers and code ranges', async () => {
    let r = await roundTrip(['-p', 'icmp', '--icmp-type', 'echo-request']);
    assert.equal(r.save, '-A INPUT -p icmp -m icmp --icmp-type 8');
    assert.equal(r.list, ' icmp echo-request');
    assert.equal(r.listN, ' icmptype 8');
    r = await roundTrip(['-p', 'icmp', '!', '--icmp-type', '3/3']);
    assert.equal(r.save, '-A INPUT -p icmp -m icmp ! --icmp-type 3/3');
    assert.equal(r.list, ' icmp !port-unreachable');
    assert.equal(r.listN, ' icmp !type 3 code 3');
    r = await roundTrip(['-p', 'icmp', '--icmp-type', '8/0:3']);
    assert.equal(r.save, '-A INPUT -p icmp -m icmp --icmp-type 8/0');
    assert.equal(r.list, ' icmptype 8 codes 0-3');
    r = await roundTrip(['-p', 'icmp', '--icmp-type', 'any']);
    assert.equal(r.save, '-A INPUT -p icmp -m icmp --icmp-type any');
    assert.equal(r.listN, ' icmptype 255');
  });
  it('parse errors', async () => {
    assert.deepEqual(
      await failure('-A', 'INPUT', '-p', 'icmp', '--icmp-type', 'e'),
      paramProblem("Ambiguous ICMP type `e': `echo-reply' or `echo-request'?"),
    );
    assert.deepEqual(await failure('-A', 'INPUT', '-p', 'icmp', '--icmp-type', '8:9'), paramProblem('ICMP type range not supported'));
    assert.deepEqual(await failure('-A', 'INPUT', '-p', 'icmp', '--icmp-type', '8/x'), paramProblem("Unknown ICMP code `8/x'"));
    assert.deepEqual(await failure('-A', 'INPUT', '-p', 'icmp', '--icmp-type', '8x'), paramProblem('unknown character x'));
  });
  it('is bound to protocol 1', async () => {
    assert.deepEqual(await failure('-A', 'INPUT', '-m', 'icmp', '--icmp-type', '8'), kernelRefusal('INPUT'));
  });
});

describe('multiport', () => {
  it('lists, ranges and inversion', async () => {
    const r = await roundTrip(['-p', 'tcp', '-m', 'multiport', '!', '--dports', 'ssh,80:90,443']);
    assert.equal(r.save, '-A INPUT -p tcp -m multiport ! --dports 22,80:90,443');
    assert.equal(r.list, ' multiport dports  !ssh,http:90,https');
    assert.equal(r.listN, ' multiport dports  !22,80:90,443');
  });
  it('errors', async () => {
    assert.deepEqual(
      await failure('-A', 'INPUT', '-m', 'multiport', '--dports', '1'),
      paramProblem("multiport needs `-p tcp', `-p udp', `-p udplite', `-p sctp' or `-p dccp'"),
    );
    assert.deepEqual(
      await failure('-A', 'INPUT', '-p', 'tcp', '-m', 'multiport', '--dports', '1,2,3,4,5,6,7,8,9,10,11,12,13,14,15:16'),
      paramProblem('too many ports specified'),
    );
    assert.deepEqual(await failure('-A', 'INPUT', '-p', 'tcp', '-m', 'multiport', '--dports', '2:1'), paramProblem('invalid portrange specified'));
    assert.deepEqual(await failure('-A', 'INPUT', '-p', 'tcp', '-m', 'multiport'), paramProblem('multiport expection an option'));
  });
});

describe('address and link matches', () => {
  it('mac', async () => {
    const r = await roundTrip(['-m', 'mac', '!', '--mac-source', '0:1:2:AA:bb:c']);
    assert.equal(r.save, '-A INPUT -m mac ! --mac-source 00:01:02:aa:bb:0c');
    assert.equal(r.list, ' MAC ! 00:01:02:aa:bb:0c');
    assert.deepEqual(await failure('-A', 'OUTPUT', '-m', 'mac', '--mac-source', '00:11:22:33:44:55'), kernelRefusal('OUTPUT'));
  });
  it('addrtype', async () => {
    const r = await roundTrip(['-m', 'addrtype', '!', '--dst-type', 'loc,UNI', '--limit-iface-in']);
    assert.equal(r.save, '-A INPUT -m addrtype ! --dst-type UNICAST,LOCAL --limit-iface-in');
    assert.equal(r.list, ' ADDRTYPE match dst-type !UNICAST,LOCAL limit-in');
    assert.deepEqual(await failure('-A', 'INPUT', '-m', 'addrtype', '--src-type', 'FOO,LOCAL'), paramProblem("addrtype: bad type `FOO,LOCAL'"));
    assert.deepEqual(
      await failure('-A', 'INPUT', '-m', 'addrtype', '--src-type', 'LOCAL', '--limit-iface-out'),
      kernelRefusal('INPUT'),
    );
  });
  it('iprange', async () => {
    const r = await roundTrip(['-m', 'iprange', '--src-range', '10.0.0.1-10.0.0.9', '!', '--dst-range', '10.1']);
    assert.equal(r.save, '-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 ! --dst-range 10.1.0.0-10.1.0.0');
    assert.equal(r.list, ' source IP range 10.0.0.1-10.0.0.9 destination IP range ! 10.1.0.0-10.1.0.0');
    assert.deepEqual(
      await failure('-A', 'INPUT', '-m', 'iprange', '--src-range', '1.2.3.4-'),
      paramProblem('iprange: Bad value for "--src-range" option: ""'),
    );
  });
  it('pkttype, length, ttl, cpu, devgroup, realm', async () => {
    assert.equal((await roundTrip(['-m', 'pkttype', '!', '--pkt-type', 'MCAST'])).list, ' PKTTYPE != multicast');
    assert.equal((await roundTrip(['-m', 'length', '--length', ':20'])).save, '-A INPUT -m length --length 0:20');
    const t = await roundTrip(['-m', 'ttl', '!', '--ttl-eq', '5']);
    assert.equal(t.save, '-A INPUT -m ttl ! --ttl-eq 5');
    assert.equal(t.list, ' TTL match TTL != 5');
    assert.equal((await roundTrip(['-m', 'cpu', '!', '--cpu', '3'])).list, ' cpu ! 3');
    const d = await roundTrip(['-m', 'devgroup', '!', '--src-group', '0', '--dst-group', '1/0xf'], 'FORWARD');
    assert.equal(d.save, '-A FORWARD -m devgroup ! --src-group default --dst-group 0x1/0xf');
    assert.equal(d.listN, ' ! src-group 0x0 dst-group 0x1/0xf');
    const rl = await roundTrip(['-m', 'realm', '--realm', '0']);
    assert.equal(rl.save, '-A INPUT -m realm --realm cosmos');
    assert.equal(rl.listN, ' realm 0x0');
  });
});

describe('TOS byte matches', () => {
  it('tos glues the value to "match"', async () => {
    let r = await roundTrip(['-m', 'tos', '!', '--tos', '0x04/0x0f']);
    assert.equal(r.save, '-A INPUT -m tos ! --tos 0x04/0x0f');
    assert.equal(r.list, ' tos match!0x04/0x0f');
    r = await roundTrip(['-m', 'tos', '--tos', 'Minimize-Delay']);
    assert.equal(r.list, ' tos match Minimize-Delay');
  });
  it('dscp and classes', async () => {
    const r = await roundTrip(['-m', 'dscp', '!', '--dscp-class', 'af41']);
    assert.equal(r.save, '-A INPUT -m dscp ! --dscp 0x22');
    assert.equal(r.list, ' DSCP match !0x22');
    assert.deepEqual(await failure('-A', 'INPUT', '-m', 'dscp', '--dscp-class', 'foo'), paramProblem("Invalid DSCP value `foo'"));
  });
  it('ecn', async () => {
    const r = await roundTrip(['-p', 'tcp', '-m', 'ecn', '!', '--ecn-tcp-cwr', '--ecn-tcp-ece', '--ecn-ip-ect', '3']);
    assert.equal(r.save, '-A INPUT -p tcp -m ecn --ecn-tcp-ece ! --ecn-tcp-cwr --ecn-ip-ect 3');
    assert.equal(r.list, ' ECN match ECE !CWR ECT=3');
    assert.deepEqual(await failure('-A', 'INPUT', '-m', 'ecn', '--ecn-tcp-cwr'), kernelRefusal('INPUT'));
  });
});

describe('protocol header matches', () => {
  it('tcpmss', async () => {
    const r = await roundTrip(['-p', 'tcp', '-m', 'tcpmss', '!', '--mss', '1000:1500']);
    assert.equal(r.save, '-A INPUT -p tcp -m tcpmss ! --mss 1000:1500');
    assert.equal(r.list, ' tcpmss match !1000:1500');
    assert.deepEqual(await failure('-A', 'INPUT', '-p', 'tcp', '-m', 'tcpmss', '--mss', '1500:1000'), paramProblem('tcpmss: invalid range given'));
  });
  it('sctp chunk types and flags', async () => {
    const r = await roundTrip(['-p', 'sctp', '!', '--dport', '80:90', '!', '--chunk-types', 'all', 'DATA:IUbe,ABORT:T']);
    assert.equal(r.save, '-A INPUT -p sctp -m sctp ! --dport 80:90 ! --chunk-types all DATA:IUbe,ABORT:T');
    assert.equal(r.listN, ' sctp dpts:!80:90 ! all 0x0000:IUbe,0x0006:T');
    assert.deepEqual(await failure('-A', 'INPUT', '-p', 'sctp', '--chunk-types', 'any'), paramProblem('--chunk-types requires two args'));
  });
  it('dccp', async () => {
    const r = await roundTrip(['-p', 'dccp', '!', '--dccp-types', 'INVALID,DATA', '--dccp-option', '5']);
    assert.equal(r.save, '-A INPUT -p dccp -m dccp ! --dccp-types DATA,INVALID --dccp-option 5');
    assert.equal(r.listN, ' dccp ! 2,10,11,12,13,14,15 option=5');
  });
  it('esp, ah and ipcomp', async () => {
    assert.equal((await roundTrip(['-p', 'esp', '!', '--espspi', '5:10'])).list, ' esp spis:!5:10');
    assert.equal((await roundTrip(['-p', 'ah', '-m', 'ah'])).list, ' ah ');
    const c = await roundTrip(['-p', 'ipcomp', '--compres']);
    assert.equal(c.save, '-A INPUT -p ipcomp -m ipcomp --ipcompspi 0 --compres');
    assert.equal(c.list, ' comp spi:0 reserved');
  });
  it('u32', async () => {
    const r = await roundTrip(['-m', 'u32', '!', '--u32', '6 & 0xFF = 1 && 0>>22&0x3C@ 0 >> 16 = 0x0:0xff,5']);
    assert.equal(r.save, '-A INPUT -m u32 ! --u32 "0x6&0xff=0x1&&0x0>>0x16&0x3c@0x0>>0x10=0x0:0xff,0x5"');
    assert.deepEqual(await failure('-A', 'INPUT', '-m', 'u32', '--u32', '0<1=2'), paramProblem("u32: at char 2: a second '<' was expected"));
    assert.deepEqual(await failure('-A', 'INPUT', '-m', 'u32', '--u32', '0='), paramProblem('u32: test ended with no value specified'));
  });
  it('rpfilter only in raw or mangle PREROUTING', async () => {
    const r = await roundTrip(['-m', 'rpfilter', '--loose', '--invert'], 'PREROUTING', 'raw');
    assert.equal(r.save, '-A PREROUTING -m rpfilter --loose --invert');
    assert.equal(r.list, ' rpfilter loose invert');
    assert.deepEqual(await failure('-A', 'INPUT', '-m', 'rpfilter'), kernelRefusal('INPUT'));
  });
});

describe('header-rewriting targets', () => {
  it('TCPMSS', async () => {
    const r = await roundTrip(['-p', 'tcp', '-j', 'TCPMSS', '--clamp-mss-to-pmtu'], 'FORWARD');
    assert.equal(r.save, '-A FORWARD -p tcp -j TCPMSS --clamp-mss-to-pmtu');
    assert.equal(r.list, ' TCPMSS clamp to PMTU');
    assert.deepEqual(await failure('-A', 'INPUT', '-p', 'tcp', '-j', 'TCPMSS', '--clamp-mss-to-pmtu'), kernelRefusal('INPUT'));
    assert.deepEqual(await failure('-A', 'FORWARD', '-j', 'TCPMSS', '--set-mss', '5'), kernelRefusal('FORWARD'));
  });
  it('TOS', async () => {
    let r = await roundTrip(['-j', 'TOS', '--and-tos', '0x0f'], 'FORWARD', 'mangle');
    assert.equal(r.save, '-A FORWARD -j TOS --set-tos 0x00/0xf0');
    assert.equal(r.list, ' TOS and 0x0f');
    assert.equal(r.listN, ' TOS set 0x00/0xf0');
    r = await roundTrip(['-j', 'TOS', '--set-tos', 'Minimize-Cost'], 'FORWARD', 'mangle');
    assert.equal(r.list, '  TOS setMinimize-Cost');
    assert.deepEqual(await failure('-A', 'FORWARD', '-j', 'TOS', '--set-tos', '1'), kernelRefusal('FORWARD'));
  });
  it('DSCP, TTL, ECN', async () => {
    assert.equal((await roundTrip(['-j', 'DSCP', '--set-dscp-class', 'EF'], 'FORWARD', 'mangle')).list, ' DSCP set 0x2e');
    const t = await roundTrip(['-j', 'TTL', '--ttl-dec', '3'], 'FORWARD', 'mangle');
    assert.equal(t.save, '-A FORWARD -j TTL --ttl-dec 3');
    assert.equal(t.list, ' TTL decrement by 3');
    const e = await roundTrip(['-p', 'tcp', '-j', 'ECN', '--ecn-ip-ect', '2', '--ecn-tcp-remove'], 'FORWARD', 'mangle');
    assert.equal(e.save, '-A FORWARD -p tcp -j ECN --ecn-tcp-remove');
    assert.equal(e.list, ' ECN TCP remove');
  });
  it('TCPOPTSTRIP and CHECKSUM', async () => {
    const r = await roundTrip(['-p', 'tcp', '-j', 'TCPOPTSTRIP', '--strip-options', 'wscale,mss,7,md5'], 'FORWARD', 'mangle');
    assert.equal(r.save, '-A FORWARD -p tcp -j TCPOPTSTRIP --strip-options 2,3,7,19');
    assert.equal(r.list, ' TCPOPTSTRIP options mss,wscale,7,md5');
    assert.deepEqual(
      await failure('-t', 'mangle', '-A', 'FORWARD', '-p', 'tcp', '-j', 'TCPOPTSTRIP', '--strip-options', 'mss,2'),
      paramProblem('Option "2" already specified'),
    );
    const c = await roundTrip(['-p', 'udp', '-j', 'CHECKSUM', '--checksum-fill'], 'POSTROUTING', 'mangle');
    assert.equal(c.list, ' CHECKSUM fill');
  });
});

describe('help sections', () => {
  it('-p icmp -h lists the ICMP type names', async () => {
    const l = lab();
    try {
      const r = await l.run('iptables', '-p', 'icmp', '-h');
      assert.equal(r.status, 0);
      assert.ok(r.stdout.includes('\n\nicmp match options:\n[!] --icmp-type typename\tmatch icmp type\n'));
      assert.ok(r.stdout.endsWith('echo-request (ping)\nrouter-advertisement\nrouter-solicitation\ntime-exceeded (ttl-exceeded)\n   ttl-zero-during-transit\n   ttl-zero-during-reassembly\nparameter-problem\n   ip-header-bad\n   required-option-missing\ntimestamp-request\ntimestamp-reply\naddress-mask-request\naddress-mask-reply\n'));
    } finally {
      l.done();
    }
  });
  it('a target section comes before the match sections', async () => {
    const l = lab();
    try {
      const r = await l.run('iptables', '-m', 'length', '-j', 'CHECKSUM', '-h');
      assert.ok(r.stdout.endsWith('\nCHECKSUM target options\n  --checksum-fill\t\t\tFill in packet checksum.\n\nlength match options:\n[!] --length length[:length]    Match packet length against value or range\n                                of values (inclusive)\n'));
    } finally {
      l.done();
    }
  });
});
