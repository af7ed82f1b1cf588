/**
 * Unit tests for the targets group (LOG, NFLOG, REJECT, MARK, CONNMARK,
 * SNAT, DNAT, MASQUERADE, REDIRECT, NETMAP, CT, NOTRACK, TRACE, CLASSIFY,
 * NFQUEUE, SET). Every expected text was taken from the real iptables 1.8.9
 * (nf_tables) on Debian 12 with kernel 6.18, in a fresh network namespace.
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNflab } from '../src/cli/main.js';

const TRY = "Try `iptables -h' or 'iptables --help' for more information.\n";
const PFX = 'iptables v1.8.9 (nf_tables): ';

type Out = { stdout: string; stderr: string; status: number };

/** A fresh lab; `run` takes one command line already split into words. */
function lab(): { run: (...args: string[]) => Promise<Out>; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-ext-targets-'));
  return { run: (...args) => runNflab(args, { lab: dir }), done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `steps` (each an iptables argument list) in one fresh lab and returns every result. */
async function session(...steps: string[][]): Promise<Out[]> {
  const l = lab();
  try {
    const out: Out[] = [];
    for (const s of steps) out.push(await l.run('iptables', ...s));
    return out;
  } finally {
    l.done();
  }
}

/** The extension text of the one rule -L shows in `chain`: what follows the destination column. */
function tail(listing: string): string {
  const line = listing.split('\n')[2]!;
  return line.slice(line.search(/(anywhere|0\.0\.0\.0\/0) +(anywhere|0\.0\.0\.0\/0) /) + 42);
}

/** One accepted rule: what -S, -L and -L -n print for it. */
interface RoundTrip {
  table?: string;
  chain: string;
  rule: string[];
  save: string;
  list: string;
  listN: string;
}

async function roundTrip(c: RoundTrip): Promise<void> {
  const t = c.table ?? 'filter';
  const [add, s, l, n] = await session(['-t', t, '-A', c.chain, ...c.rule], ['-t', t, '-S', c.chain], ['-t', t, '-L', c.chain], ['-t', t, '-L', c.chain, '-n']);
  assert.deepEqual(add, { stdout: '', stderr: '', status: 0 }, `adding ${c.rule.join(' ')}`);
  assert.equal(s!.stdout.split('\n')[1], `-A ${c.chain} ${c.save}`);
  assert.equal(tail(l!.stdout), c.list);
  assert.equal(tail(n!.stdout), c.listN);
}

/** A command refused while parsing (status 2). */
async function paramProblem(args: string[], message: string, extraNewline = false): Promise<void> {
  const [r] = await session(args);
  assert.deepEqual(r, { stdout: '', stderr: `${PFX}${message}\n${extraNewline ? '\n' : ''}${TRY}`, status: 2 });
}

/** A rule the kernel refuses at commit (status 4). */
async function kernelRefuses(args: string[], errno: string, chain: string): Promise<void> {
  const [r] = await session(args);
  assert.deepEqual(r, { stdout: '', stderr: `${PFX} RULE_APPEND failed (${errno}): rule in chain ${chain}\n`, status: 4 });
}

const EINVAL = 'Invalid argument';
const ENOENT = 'No such file or directory';

describe('LOG', () => {
  it('every option: save, -L names, -L -n numbers', () =>
    roundTrip({
      chain: 'INPUT',
      rule: ['-j', 'LOG', '--log-prefix', 'test: ', '--log-level', 'alert', '--log-uid', '--log-macdecode', '--log-tcp-sequence', '--log-tcp-options', '--log-ip-options'],
      save: '-j LOG --log-prefix "test: " --log-level 1 --log-tcp-sequence --log-tcp-options --log-ip-options --log-uid --log-macdecode',
      list: 'LOG level alert tcp-sequence tcp-options ip-options uid macdecode prefix "test: "',
      listN: 'LOG flags 47 level 1 prefix "test: "',
    }));
  it('defaults: level 4 is "warn" and is not saved', () =>
    roundTrip({ chain: 'OUTPUT', rule: ['-j', 'LOG'], save: '-j LOG', list: 'LOG level warn', listN: 'LOG flags 0 level 4' }));
  it('level names map to glibc names (error -> err, panic -> emerg)', async () => {
    await roundTrip({ chain: 'INPUT', rule: ['-j', 'LOG', '--log-level', 'error'], save: '-j LOG --log-level 3', list: 'LOG level err', listN: 'LOG flags 0 level 3' });
    await roundTrip({ chain: 'INPUT', rule: ['-j', 'LOG', '--log-level', 'panic'], save: '-j LOG --log-level 0', list: 'LOG level emerg', listN: 'LOG flags 0 level 0' });
  });
  it('prefix is cut to 29 characters and quoted with backslashes in save', async () => {
    await roundTrip({
      chain: 'INPUT',
      rule: ['-j', 'LOG', '--log-prefix', '123456789012345678901234567890123'],
      save: '-j LOG --log-prefix 12345678901234567890123456789',
      list: 'LOG level warn prefix "12345678901234567890123456789"',
      listN: 'LOG flags 0 level 4 prefix "12345678901234567890123456789"',
    });
    await roundTrip({
      chain: 'INPUT',
      rule: ['-j', 'LOG', '--log-level', '5', '--log-prefix', 'a"b c'],
      save: '-j LOG --log-prefix "a\\"b c" --log-level 5',
      list: 'LOG level notice prefix "a"b c"',
      listN: 'LOG flags 0 level 5 prefix "a"b c"',
    });
  });
  it('parse errors', async () => {
    await paramProblem(['-A', 'INPUT', '-j', 'LOG', '--log-prefix', ''], 'Argument must have a minimum length of 1 characters', true);
    await paramProblem(['-A', 'INPUT', '-j', 'LOG', '--log-level', 'bad'], 'log level "bad" unknown', true);
    await paramProblem(['-A', 'INPUT', '-j', 'LOG', '--log-level', 'warn'], 'log level "warn" unknown', true);
    await paramProblem(['-A', 'INPUT', '-j', 'LOG', '--log-level', '8'], 'log level "8" unknown', true);
    await paramProblem(['-A', 'INPUT', '-j', 'LOG', '--log-prefix', 'a\nb'], 'Newlines not allowed in --log-prefix');
    await paramProblem(['-A', 'INPUT', '-j', 'LOG', '--log-uid', '--log-uid'], 'LOG: option "--log-uid" can only be used once.', true);
    await paramProblem(['-A', 'INPUT', '-j', 'LOG', '!', '--log-uid'], 'LOG: option "--log-uid" cannot be inverted.', true);
    await paramProblem(['-A', 'INPUT', '-j', 'LOG', '--log-prefix'], 'option "--log-prefix" requires an argument');
  });
});

describe('NFLOG', () => {
  it('all options', () =>
    roundTrip({
      chain: 'INPUT',
      rule: ['-j', 'NFLOG', '--nflog-group', '3', '--nflog-prefix', 'hi there', '--nflog-size', '100', '--nflog-threshold', '5'],
      save: '-j NFLOG --nflog-prefix "hi there" --nflog-group 3 --nflog-size 100 --nflog-threshold 5',
      list: 'nflog-prefix "hi there" nflog-group 3 nflog-size 100 nflog-threshold 5',
      listN: 'nflog-prefix "hi there" nflog-group 3 nflog-size 100 nflog-threshold 5',
    }));
  it('the nf_tables log expression keeps 127 prefix characters and drops --nflog-range', async () => {
    const long = 'x'.repeat(150);
    await roundTrip({ chain: 'INPUT', rule: ['-j', 'NFLOG', '--nflog-prefix', long], save: `-j NFLOG --nflog-prefix ${'x'.repeat(127)}`, list: `nflog-prefix ${'x'.repeat(127)}`, listN: `nflog-prefix ${'x'.repeat(127)}` });
    const [add, s] = await session(['-A', 'INPUT', '-j', 'NFLOG', '--nflog-range', '5'], ['-S', 'INPUT']);
    assert.equal(add!.status, 0);
    assert.equal(s!.stdout, '-P INPUT ACCEPT\n-A INPUT -j NFLOG\n');
  });
  it('threshold 0 is the default; 1 is shown', async () => {
    const [, , s] = await session(['-A', 'INPUT', '-j', 'NFLOG', '--nflog-threshold', '0'], ['-A', 'INPUT', '-j', 'NFLOG', '--nflog-threshold', '1'], ['-S', 'INPUT']);
    assert.equal(s!.stdout, '-P INPUT ACCEPT\n-A INPUT -j NFLOG\n-A INPUT -j NFLOG --nflog-threshold 1\n');
  });
  it('parse errors', async () => {
    await paramProblem(['-A', 'INPUT', '-j', 'NFLOG', '--nflog-group', '65536'], 'NFLOG: bad value for option "--nflog-group", or out of range (0-65535).', true);
    await paramProblem(['-A', 'INPUT', '-j', 'NFLOG', '--nflog-size', '4294967296'], 'NFLOG: bad value for option "--nflog-size", or out of range (0-4294967295).', true);
  });
});

describe('REJECT', () => {
  it('default type, -L form', () =>
    roundTrip({ chain: 'INPUT', rule: ['-j', 'REJECT'], save: '-j REJECT --reject-with icmp-port-unreachable', list: 'reject-with icmp-port-unreachable', listN: 'reject-with icmp-port-unreachable' }));
  it('aliases and case-insensitive prefixes', async () => {
    const cases: [string, string][] = [
      ['net-unreach', 'icmp-net-unreachable'],
      ['host-unreach', 'icmp-host-unreachable'],
      ['proto-unreach', 'icmp-proto-unreachable'],
      ['port-unreach', 'icmp-port-unreachable'],
      ['net-prohib', 'icmp-net-prohibited'],
      ['host-prohib', 'icmp-host-prohibited'],
      ['admin-prohib', 'icmp-admin-prohibited'],
      ['ICMP-HOST', 'icmp-host-unreachable'],
      ['', 'icmp-net-unreachable'],
      ['icmp-', 'icmp-net-unreachable'],
    ];
    for (const [word, name] of cases)
      await roundTrip({ chain: 'FORWARD', rule: ['-j', 'REJECT', '--reject-with', word], save: `-j REJECT --reject-with ${name}`, list: `reject-with ${name}`, listN: `reject-with ${name}` });
    await roundTrip({ chain: 'OUTPUT', rule: ['-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-rst'], save: '-p tcp -j REJECT --reject-with tcp-reset', list: 'reject-with tcp-reset', listN: 'reject-with tcp-reset' });
  });
  it('unknown types', async () => {
    await paramProblem(['-A', 'INPUT', '-j', 'REJECT', '--reject-with', 'foo'], 'unknown reject type "foo"');
    await paramProblem(['-A', 'INPUT', '-j', 'REJECT', '--reject-with', 'a', '--reject-with', 'b'], 'REJECT: option "--reject-with" can only be used once.', true);
  });
  it('the kernel: tcp-reset needs -p tcp; filter INPUT/FORWARD/OUTPUT only', async () => {
    await kernelRefuses(['-A', 'INPUT', '-j', 'REJECT', '--reject-with', 'tcp-reset'], EINVAL, 'INPUT');
    await kernelRefuses(['-A', 'INPUT', '!', '-p', 'tcp', '-j', 'REJECT', '--reject-with', 'tcp-reset'], EINVAL, 'INPUT');
    await kernelRefuses(['-A', 'INPUT', '-j', 'REJECT', '--reject-with', 'tcp'], EINVAL, 'INPUT');
    await kernelRefuses(['-t', 'mangle', '-A', 'INPUT', '-j', 'REJECT'], EINVAL, 'INPUT');
    await kernelRefuses(['-t', 'raw', '-A', 'OUTPUT', '-j', 'REJECT'], EINVAL, 'OUTPUT');
    await kernelRefuses(['-t', 'nat', '-A', 'PREROUTING', '-j', 'REJECT'], EINVAL, 'PREROUTING');
  });
});

describe('DROP in the nat table', () => {
  it('is refused by iptables itself', async () => {
    const [r] = await session(['-t', 'nat', '-A', 'INPUT', '-j', 'DROP']);
    assert.deepEqual(r, {
      stdout: '',
      stderr: `${PFX}\nThe "nat" table is not intended for filtering, the use of DROP is therefore inhibited.\n\n\n${TRY}`,
      status: 2,
    });
  });
});

describe('MARK', () => {
  const cases: [string[], string, string][] = [
    [['--set-mark', '5'], '0x5/0xffffffff', 'MARK set 0x5'],
    [['--set-mark', '5/0xff'], '0x5/0xff', 'MARK xset 0x5/0xff'],
    [['--and-mark', '0xff'], '0x0/0xffffff00', 'MARK and 0xff'],
    [['--or-mark', '0x10'], '0x10/0x10', 'MARK or 0x10'],
    [['--xor-mark', '3'], '0x3/0x0', 'MARK xor 0x3'],
    [['--set-xmark', '0x1/0x3'], '0x1/0x3', 'MARK xset 0x1/0x3'],
    [['--set-xmark', '0/0'], '0x0/0x0', 'MARK and 0xffffffff'],
    [['--set-xmark', '4294967295'], '0xffffffff/0xffffffff', 'MARK or 0xffffffff'],
    [['--set-xmark', '0x7/0xffffffff'], '0x7/0xffffffff', 'MARK set 0x7'],
  ];
  it('every form saves as --set-xmark', async () => {
    for (const [opts, save, list] of cases)
      await roundTrip({ chain: 'INPUT', rule: ['-j', 'MARK', ...opts], save: `-j MARK --set-xmark ${save}`, list, listN: list });
  });
  it('parse errors', async () => {
    await paramProblem(['-A', 'INPUT', '-j', 'MARK'], 'MARK: One of the --set-xmark, --{and,or,xor,set}-mark options is required');
    await paramProblem(['-A', 'INPUT', '-j', 'MARK', '--set-mark', '1', '--and-mark', '2'], 'MARK: option "--set-mark" cannot be used together with "--and-mark".', true);
    await paramProblem(['-A', 'INPUT', '-j', 'MARK', '--set-xmark', '4294967296'], 'MARK: bad integer value for option "--set-xmark", or out of range.', true);
    await paramProblem(['-A', 'INPUT', '-j', 'MARK', '--set-mark', '1/2/3'], 'MARK: trailing garbage after value for option "--set-mark".', true);
    await paramProblem(['-A', 'INPUT', '-j', 'MARK', '--and-mark', '-1'], 'MARK: bad value for option "--and-mark", or out of range (0-4294967295).', true);
  });
});

describe('CONNMARK', () => {
  const m = (rule: string[], save: string, list: string): RoundTrip => ({ table: 'mangle', chain: 'PREROUTING', rule: ['-j', 'CONNMARK', ...rule], save: `-j CONNMARK ${save}`, list, listN: list });
  it('save, restore and set forms', async () => {
    await roundTrip(m(['--restore-mark'], '--restore-mark --nfmask 0xffffffff --ctmask 0xffffffff', 'CONNMARK restore'));
    await roundTrip(m(['--save-mark', '--mask', '0xff'], '--save-mark --nfmask 0xff --ctmask 0xff', 'CONNMARK save mask 0xff'));
    await roundTrip(m(['--save-mark', '--nfmask', '0xf', '--ctmask', '0xff'], '--save-mark --nfmask 0xf --ctmask 0xff', 'CONNMARK save nfmask 0xf ctmask ~0xff'));
    await roundTrip(m(['--restore-mark', '--nfmask', '0xf'], '--restore-mark --nfmask 0xf --ctmask 0xffffffff', 'CONNMARK restore ctmask 0xffffffff nfmask ~0xf'));
    await roundTrip(m(['--set-mark', '1/0xf0'], '--set-xmark 0x1/0xf1', 'CONNMARK xset 0x1/0xf1'));
    await roundTrip(m(['--and-mark', '1'], '--set-xmark 0x0/0xfffffffe', 'CONNMARK and 0x1'));
    await roundTrip(m(['--save-mark', '--left-shift-mark', '3'], '--save-mark --nfmask 0xffffffff --ctmask 0xffffffff --left-shift-mark 3', 'CONNMARK save left-shift-mark 3'));
    await roundTrip(m(['--set-mark', '1', '--right-shift-mark', '2'], '--set-xmark 0x1/0xffffffff --right-shift-mark 2', 'CONNMARK set 0x1 right-shift-mark 2'));
  });
  it('errors: no operation, exclusions, a 32-bit shift', async () => {
    await paramProblem(['-t', 'mangle', '-A', 'PREROUTING', '-j', 'CONNMARK'], 'CONNMARK target: No operation specified');
    await paramProblem(['-t', 'mangle', '-A', 'PREROUTING', '-j', 'CONNMARK', '--save-mark', '--mask', '1', '--ctmask', '2'], 'CONNMARK: option "--ctmask" cannot be used together with "--mask".', true);
    await paramProblem(['-t', 'mangle', '-A', 'PREROUTING', '-j', 'CONNMARK', '--left-shift-mark', '33'], 'CONNMARK: bad value for option "--left-shift-mark", or out of range (0-32).', true);
    await kernelRefuses(['-t', 'mangle', '-A', 'PREROUTING', '-j', 'CONNMARK', '--restore-mark', '--left-shift-mark', '32'], EINVAL, 'PREROUTING');
  });
});

describe('SNAT, DNAT, MASQUERADE, REDIRECT, NETMAP', () => {
  const nat = (chain: string, rule: string[], save: string, list: string): RoundTrip => ({ table: 'nat', chain, rule, save, list, listN: list });
  it('SNAT ranges and flags', async () => {
    await roundTrip(nat('POSTROUTING', ['-j', 'SNAT', '--to-source', '1.1.1.1-1.1.1.10'], '-j SNAT --to-source 1.1.1.1-1.1.1.10', 'to:1.1.1.1-1.1.1.10'));
    await roundTrip(nat('POSTROUTING', ['-p', 'sctp', '-j', 'SNAT', '--to', '1.1.1.1:5-0x10', '--random-fully', '--persistent', '--random'], '-p sctp -j SNAT --to-source 1.1.1.1:5-16 --random --random-fully --persistent', 'to:1.1.1.1:5-16 random random-fully persistent'));
    // revision 0 has no room for the base port of a shifted map
    await roundTrip(nat('POSTROUTING', ['-p', 'tcp', '-j', 'SNAT', '--to', '1.1.1.1:10-20/30'], '-p tcp -j SNAT --to-source 1.1.1.1:10-20/0', 'to:1.1.1.1:10-20/0'));
    await roundTrip(nat('INPUT', ['-p', 'tcp', '-j', 'SNAT', '--to', ':80'], '-p tcp -j SNAT --to-source :80', 'to::80'));
  });
  it('DNAT revision 2: shifted port maps and service names', async () => {
    await roundTrip(nat('PREROUTING', ['-p', 'tcp', '-j', 'DNAT', '--to-destination', '1.1.1.1:10-20/ftp'], '-p tcp -j DNAT --to-destination 1.1.1.1:10-20/21', 'to:1.1.1.1:10-20/21'));
    await roundTrip(nat('OUTPUT', ['-p', 'tcp', '-j', 'DNAT', '--to-destination', '1.1.1.1:ssh'], '-p tcp -j DNAT --to-destination 1.1.1.1:22', 'to:1.1.1.1:22'));
    await roundTrip(nat('PREROUTING', ['-j', 'DNAT', '--to', '1.2.3.4', '--random', '--persistent'], '-j DNAT --to-destination 1.2.3.4 --random --persistent', 'to:1.2.3.4 random persistent'));
  });
  it('MASQUERADE and REDIRECT ports', async () => {
    await roundTrip(nat('POSTROUTING', ['-p', 'udp', '-j', 'MASQUERADE', '--to-ports', '1024-65535', '--random'], '-p udp -j MASQUERADE --to-ports 1024-65535 --random', 'masq ports: 1024-65535 random'));
    await roundTrip(nat('PREROUTING', ['-p', 'tcp', '-j', 'REDIRECT', '--to-ports', '0-0'], '-p tcp -j REDIRECT --to-ports 0', 'redir ports 0'));
    await roundTrip(nat('OUTPUT', ['-j', 'REDIRECT', '--random'], '-j REDIRECT --random', 'random'));
  });
  it('NETMAP', async () => {
    await roundTrip(nat('PREROUTING', ['-j', 'NETMAP', '--to', '1.2.3.4/255.255.0.0'], '-j NETMAP --to 1.2.0.0/16', 'to:1.2.0.0/16'));
    await roundTrip(nat('POSTROUTING', ['-j', 'NETMAP', '--to', '1.2.3.4/255.0.255.0'], '-j NETMAP --to 1.2.3.4/32', 'to:1.2.3.4/32'));
  });
  it('parse errors', async () => {
    const snat = (...a: string[]) => ['-t', 'nat', '-A', 'POSTROUTING', ...a];
    await paramProblem(snat('-j', 'SNAT'), 'SNAT: option "--to-source" must be specified', true);
    await paramProblem(snat('-j', 'SNAT', '--to', '1.1.1.1:80'), 'Need TCP, UDP, SCTP or DCCP with port specification');
    await paramProblem(snat('-p', 'tcp', '-j', 'SNAT', '--to', '1.1.1.1:1025-65536'), "Port `65536' not valid");
    await paramProblem(snat('-p', 'tcp', '-j', 'SNAT', '--to', '1.1.1.1:10:20'), 'Bad IP address "1.1.1.1:10:20"');
    await paramProblem(snat('-p', 'tcp', '-j', 'SNAT', '--to', '1.1.1.1:10x'), "Garbage after port value: `x'");
    await paramProblem(snat('-p', 'tcp', '-j', 'SNAT', '--to', '1.1.1.1:20-10'), "Port range `10' funky");
    await paramProblem(snat('-p', 'tcp', '-j', 'SNAT', '--to', '1.1.1.1:10-20x'), "Garbage after port range: `x'");
    await paramProblem(snat('-j', 'SNAT', '--to', '1.1.1.01'), 'Bad IP address "1.1.1.01"');
    await paramProblem(snat('-j', 'SNAT', '--to', '[1.1.1.1]:80'), 'Invalid address format');
    await paramProblem(snat('-j', 'SNAT', '--to', '1.1.1.1', '--to', '2.2.2.2'), 'SNAT: option "--to-source" can only be used once.', true);
    await paramProblem(['-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '-j', 'DNAT', '--to', '1.1.1.1:1000-2000/0'], "Port `0' not valid");
    await paramProblem(['-t', 'nat', '-A', 'OUTPUT', '-j', 'DNAT', '--to', '1.2.3.4', '--random-fully'], 'unknown option "--random-fully"');
    await paramProblem(['-t', 'nat', '-A', 'PREROUTING', '-p', 'udp', '-j', 'REDIRECT', '--to-ports', '42-1234/567'], 'Shifted portmap ranges not supported with this kernel');
    await paramProblem(['-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '-j', 'REDIRECT', '--to-ports', '10:20'], 'Invalid port:port syntax - use dash');
    await paramProblem(['-t', 'nat', '-A', 'OUTPUT', '-j', 'NETMAP'], 'NETMAP: option "--to" must be specified', true);
  });
  it('the kernel: nat table and hooks', async () => {
    await kernelRefuses(['-A', 'INPUT', '-j', 'SNAT', '--to', '1.1.1.1'], EINVAL, 'INPUT');
    await kernelRefuses(['-t', 'nat', '-A', 'PREROUTING', '-j', 'SNAT', '--to', '1.1.1.1'], EINVAL, 'PREROUTING');
    await kernelRefuses(['-t', 'nat', '-A', 'INPUT', '-j', 'DNAT', '--to', '1.1.1.1'], EINVAL, 'INPUT');
    await kernelRefuses(['-t', 'nat', '-A', 'OUTPUT', '-j', 'MASQUERADE'], EINVAL, 'OUTPUT');
    await kernelRefuses(['-t', 'nat', '-A', 'POSTROUTING', '-j', 'REDIRECT'], EINVAL, 'POSTROUTING');
    await kernelRefuses(['-t', 'mangle', '-A', 'POSTROUTING', '-j', 'MASQUERADE'], EINVAL, 'POSTROUTING');
    await kernelRefuses(['-A', 'INPUT', '-j', 'NETMAP', '--to', '1.2.3.4'], EINVAL, 'INPUT');
  });
  it('user chains are checked against the hooks that reach them', async () => {
    const r = await session(
      ['-t', 'nat', '-N', 'x'],
      ['-t', 'nat', '-A', 'x', '-j', 'SNAT', '--to', '1.1.1.1'],
      ['-t', 'nat', '-A', 'PREROUTING', '-j', 'x'],
      ['-t', 'nat', '-A', 'INPUT', '-j', 'x'],
      ['-t', 'nat', '-N', 'y'],
      ['-t', 'nat', '-A', 'OUTPUT', '-j', 'y'],
      ['-t', 'nat', '-A', 'y', '-j', 'MASQUERADE'],
    );
    assert.deepEqual(r.map((o) => o.status), [0, 0, 4, 0, 0, 0, 4]);
    assert.equal(r[2]!.stderr, `${PFX} RULE_APPEND failed (${EINVAL}): rule in chain PREROUTING\n`);
    assert.equal(r[6]!.stderr, `${PFX} RULE_APPEND failed (${EINVAL}): rule in chain y\n`);
  });
});

describe('CT and NOTRACK', () => {
  const raw = (rule: string[], save: string, list: string): RoundTrip => ({ table: 'raw', chain: 'PREROUTING', rule: ['-j', 'CT', ...rule], save: `-j CT${save}`, list, listN: list });
  it('options', async () => {
    await roundTrip(raw(['--notrack'], ' --notrack', 'CT notrack'));
    await roundTrip(raw([], '', 'CT'));
    await roundTrip(raw(['--zone', 'MARK', '--zone-orig', '3'], ' --zone-orig mark', 'CT zone-orig mark'));
    await roundTrip(raw(['--zone-reply', '0x10'], ' --zone-reply 16', 'CT zone-reply 16'));
    await roundTrip(raw(['--ctevents', 'new,mark,natseqinfo,secmark', '--expevents', 'new'], ' --ctevents new,mark,natseqinfo,secmark --expevents new', 'CT ctevents new,mark,natseqinfo,secmark expevents new'));
    // helper names are cut to 15 bytes; the kernel lists only 4 bytes of the timeout name
    await roundTrip(raw(['--notrack', '--helper', '123456789012345678', '--timeout', 'abcdefgh'], ' --notrack --helper 123456789012345 --timeout abcd', 'CT notrack helper 123456789012345 timeout abcd'));
    await roundTrip({ table: 'raw', chain: 'OUTPUT', rule: ['-p', 'udp', '-j', 'CT', '--helper', 'tftp'], save: '-p udp -j CT --helper tftp', list: 'CT helper tftp', listN: 'CT helper tftp' });
  });
  it('NOTRACK saves under its own name', async () => {
    const [, s] = await session(['-t', 'raw', '-A', 'OUTPUT', '-j', 'NOTRACK'], ['-t', 'raw', '-S', 'OUTPUT']);
    assert.equal(s!.stdout, '-P OUTPUT ACCEPT\n-A OUTPUT -j NOTRACK\n');
  });
  it('errors', async () => {
    await paramProblem(['-t', 'raw', '-A', 'OUTPUT', '-j', 'CT', '--ctevents', 'foo'], 'Unknown event type "foo"');
    await paramProblem(['-t', 'raw', '-A', 'OUTPUT', '-j', 'CT', '--zone', '65536'], 'Cannot parse 65536 as a zone ID');
    await paramProblem(['-t', 'raw', '-A', 'OUTPUT', '-j', 'NOTRACK', '--notrack'], 'unknown option "--notrack"');
    await kernelRefuses(['-A', 'INPUT', '-j', 'CT', '--notrack'], EINVAL, 'INPUT');
    await kernelRefuses(['-A', 'INPUT', '-j', 'NOTRACK'], EINVAL, 'INPUT');
    await kernelRefuses(['-t', 'raw', '-A', 'OUTPUT', '-j', 'CT', '--helper', 'ftp'], ENOENT, 'OUTPUT');
    await kernelRefuses(['-t', 'raw', '-A', 'OUTPUT', '-p', 'udp', '-j', 'CT', '--helper', 'ftp'], ENOENT, 'OUTPUT');
    await kernelRefuses(['-t', 'raw', '-A', 'OUTPUT', '-j', 'CT', '--timeout', 'x'], EINVAL, 'OUTPUT');
    await kernelRefuses(['-t', 'raw', '-A', 'OUTPUT', '-p', 'tcp', '-j', 'CT', '--timeout', 'x'], ENOENT, 'OUTPUT');
  });
});

describe('TRACE and CLASSIFY', () => {
  it('TRACE prints nothing after its name and is accepted in any table', async () => {
    const [a, b, s] = await session(['-t', 'raw', '-A', 'PREROUTING', '-j', 'TRACE'], ['-A', 'INPUT', '-j', 'TRACE'], ['-t', 'raw', '-S', 'PREROUTING']);
    assert.equal(a!.status + b!.status, 0);
    assert.equal(s!.stdout, '-P PREROUTING ACCEPT\n-A PREROUTING -j TRACE\n');
  });
  it('CLASSIFY: hexadecimal major:minor as sscanf reads it', async () => {
    const c = (cls: string, save: string, list: string): RoundTrip => ({ table: 'mangle', chain: 'POSTROUTING', rule: ['-j', 'CLASSIFY', '--set-class', cls], save: `-j CLASSIFY --set-class ${save}`, list: `CLASSIFY set ${list}`, listN: `CLASSIFY set ${list}` });
    await roundTrip(c('1:2', '0001:0002', '1:2'));
    await roundTrip(c('0000:ffffffff', '0000:ffff', '0:ffff'));
    await roundTrip(c('1:-1', '0001:ffff', '1:ffff'));
    await roundTrip(c('0x10:0X20x', '0010:0020', '10:20'));
    await roundTrip(c(' 1: 2', '0001:0002', '1:2'));
    await roundTrip(c('12345:1', '2345:0001', '2345:1'));
    await paramProblem(['-t', 'mangle', '-A', 'POSTROUTING', '-j', 'CLASSIFY', '--set-class', '1'], 'Bad class value "1"');
    await paramProblem(['-t', 'mangle', '-A', 'POSTROUTING', '-j', 'CLASSIFY'], 'CLASSIFY: option "--set-class" must be specified', true);
    await kernelRefuses(['-t', 'mangle', '-A', 'PREROUTING', '-j', 'CLASSIFY', '--set-class', '1:1'], EINVAL, 'PREROUTING');
    await roundTrip({ chain: 'OUTPUT', rule: ['-j', 'CLASSIFY', '--set-class', '1:1'], save: '-j CLASSIFY --set-class 0001:0001', list: 'CLASSIFY set 1:1', listN: 'CLASSIFY set 1:1' });
  });
});

describe('NFQUEUE', () => {
  const q = (rule: string[], save: string, list: string): RoundTrip => ({ chain: 'INPUT', rule: ['-j', 'NFQUEUE', ...rule], save: `-j NFQUEUE ${save}`, list: `NFQUEUE ${list}`, listN: `NFQUEUE ${list}` });
  it('forms', async () => {
    await roundTrip(q([], '--queue-num 0', 'num 0'));
    await roundTrip(q(['--queue-num', '5', '--queue-bypass'], '--queue-num 5 --queue-bypass', 'num 5 bypass'));
    await roundTrip(q(['--queue-balance', '5:'], '--queue-balance 5:65535', 'balance 5:65535'));
    await roundTrip(q(['--queue-bypass', '--queue-balance', '0:6', '--queue-cpu-fanout'], '--queue-balance 0:6 --queue-bypass --queue-cpu-fanout', 'balance 0:6 bypass cpu-fanout'));
  });
  it('errors', async () => {
    const a = (...o: string[]) => ['-A', 'INPUT', '-j', 'NFQUEUE', ...o];
    await paramProblem(a('--queue-balance', '5'), 'Bad range "5"');
    await paramProblem(a('--queue-balance', '5:3'), '5 should be less than 3');
    await paramProblem(a('--queue-cpu-fanout'), 'NFQUEUE: option "--queue-cpu-fanout" also requires "--queue-balance".', true);
    await paramProblem(a('--queue-num', '1', '--queue-balance', '1:2'), 'NFQUEUE: option "--queue-num" cannot be used together with "--queue-balance".', true);
    await paramProblem(a('--fail-open'), 'unknown option "--fail-open"');
    // 65536 queues wrap to 0 in the 16-bit count
    await kernelRefuses(a('--queue-balance', '0:65535'), EINVAL, 'INPUT');
  });
});

describe('SET', () => {
  it('sets never exist on a fresh machine', async () => {
    await paramProblem(['-A', 'INPUT', '-j', 'SET', '--add-set', 'foo', 'src,dst'], "Set foo doesn't exist.", true);
    await paramProblem(['-A', 'INPUT', '-j', 'SET', '--add-set', 'foo'], '--add-set requires two args.');
    await paramProblem(['-A', 'INPUT', '-j', 'SET'], "You must specify either `--add-set' or `--del-set' or `--map-set'");
    await paramProblem(['-A', 'INPUT', '-j', 'SET', '--del-set', 'x'.repeat(32), 'src'], `setname \`${'x'.repeat(32)}' too long, max 31 characters.`);
    await paramProblem(['-A', 'INPUT', '-j', 'SET', '--timeout', 'x'], 'Invalid value for option --timeout or out of range 0-4294967294');
  });
});
