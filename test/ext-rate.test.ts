/**
 * Unit tests for the rate group of extensions: the limit, hashlimit,
 * recent, quota, statistic, time, string, bpf and rateest matches and the
 * RATEEST, IDLETIMER, LED, AUDIT, HMARK, SYNPROXY, TEE, TPROXY, CLUSTERIP,
 * SECMARK and CONNSECMARK targets. Every expected text was taken from the
 * real iptables 1.8.9 (nf_tables) on a 6.18 kernel.
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNflab } from '../src/cli/main.js';

const TRY = "Try `iptables -h' or 'iptables --help' for more information.\n";
const PFX = 'iptables v1.8.9 (nf_tables): ';

type Result = { stdout: string; stderr: string; status: number };

/** A fresh lab for one test; `run` executes an nflab command line in it. */
async function withLab(body: (run: (...args: string[]) => Promise<Result>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-ext-rate-'));
  try {
    await body((...args) => runNflab(args, { lab: dir }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The first rule line of `iptables -L` output. */
const firstRule = (out: string) => out.split('\n')[2]!;

/**
 * Appends `rule` and checks the -S line, and the tails of the -L and -L -n
 * rule lines (the extension output, which follows the destination column).
 */
async function expectRule(
  rule: string[],
  expected: { save: string; list: string; listN?: string; found?: boolean },
  table = 'filter',
  chain = 'INPUT',
): Promise<void> {
  await withLab(async (run) => {
    const add = await run('iptables', '-t', table, '-A', chain, ...rule);
    assert.deepEqual(add, { stdout: '', stderr: '', status: 0 });
    const s = await run('iptables', '-t', table, '-S', chain);
    assert.equal(s.stdout.split('\n').find((l) => l.startsWith('-A ')), expected.save);
    const l = firstRule((await run('iptables', '-t', table, '-L', chain)).stdout);
    assert.ok(l.endsWith(expected.list), `-L line ${JSON.stringify(l)} should end with ${JSON.stringify(expected.list)}`);
    const n = firstRule((await run('iptables', '-t', table, '-L', chain, '-n')).stdout);
    const listN = expected.listN ?? expected.list;
    assert.ok(n.endsWith(listN), `-L -n line ${JSON.stringify(n)} should end with ${JSON.stringify(listN)}`);
    // The rule is found again by -C and removed by -D, unless the kernel changed it when storing it.
    const found = expected.found ?? true;
    assert.equal((await run('iptables', '-t', table, '-C', chain, ...rule)).status, found ? 0 : 1);
    assert.equal((await run('iptables', '-t', table, '-D', chain, ...rule)).status, found ? 0 : 1);
  });
}

/** Runs one command in a fresh lab and checks stderr and status. */
async function expectError(args: string[], stderr: string, status: number): Promise<void> {
  await withLab(async (run) => {
    const r = await run('iptables', ...args);
    assert.equal(r.stderr, stderr);
    assert.equal(r.status, status);
  });
}

/** A parameter problem: the message, the "Try" line, status 2. */
const param = (args: string[], msg: string) => expectError(args, `${PFX}${msg}\n${TRY}`, 2);

/** A kernel refusal of a rule appended to INPUT. */
const kernel = (args: string[], what: string, chain = 'INPUT') =>
  expectError(args, `${PFX} RULE_APPEND failed (${what}): rule in chain ${chain}\n`, 4);

/** The warning iptables prints when it loads an extension this kernel has no module for. */
const missing = (ext: string) => `Warning: Extension ${ext} revision 0 not supported, missing kernel module?\n`;

describe('limit', () => {
  it('reads the rate back from the nft limit expression, burst 0 becoming 5', () =>
    expectRule(['-m', 'limit', '--limit', '999/m', '--limit-burst', '0'], {
      save: '-A INPUT -m limit --limit 1000/min',
      list: ' limit: avg 1000/min burst 5',
      // the kernel stored burst 5, so the rule as typed (burst 0) is not found: "Bad rule"
      found: false,
    }));
  it('keeps a non-default burst and the tcp match before it', () =>
    expectRule(['-p', 'tcp', '--dport', '22', '-m', 'limit', '--limit', '3/min', '--limit-burst', '10', '-j', 'ACCEPT'], {
      save: '-A INPUT -p tcp -m tcp --dport 22 -m limit --limit 3/min --limit-burst 10 -j ACCEPT',
      list: ' tcp dpt:ssh limit: avg 3/min burst 10',
      listN: ' tcp dpt:22 limit: avg 3/min burst 10',
    }));
  it('defaults to 3/hour', () => expectRule(['-m', 'limit'], { save: '-A INPUT -m limit --limit 3/hour', list: ' limit: avg 3/hour burst 5' }));
  it('refuses bad rates', async () => {
    await param(['-A', 'INPUT', '-m', 'limit', '--limit', '10001/s'], 'Rate too fast "10001/s"');
    await param(['-A', 'INPUT', '-m', 'limit', '--limit', '-3/sec'], 'Rate too fast "-3/sec"');
    await param(['-A', 'INPUT', '-m', 'limit', '--limit', '1/x'], `bad rate "1/x"'`);
    await param(['-A', 'INPUT', '-m', 'limit', '--limit', '5/'], `bad rate "5/"'`);
    await param(['-A', 'INPUT', '-m', 'limit', '!', '--limit', '1/m'], 'limit: option "--limit" cannot be inverted.\n');
    await param(['-A', 'INPUT', '-m', 'limit', '--limit-burst', '10001'], 'limit: bad value for option "--limit-burst", or out of range (0-10000).\n');
  });
});

describe('hashlimit', () => {
  it('prints byte rates, modes and masks', () =>
    expectRule(['-m', 'hashlimit', '--hashlimit-above', '512kb/s', '--hashlimit-name', 'h', '--hashlimit-mode', 'srcip,dstport', '--hashlimit-srcmask', '24'], {
      save: '-A INPUT -m hashlimit --hashlimit-above 512kb/s --hashlimit-mode srcip,dstport --hashlimit-name h --hashlimit-srcmask 24',
      list: ' limit: above 512kb/s mode srcip-dstport srcmask 24',
    }));
  it('shows an expiry that differs from the rate unit', () =>
    expectRule(['-m', 'hashlimit', '--hashlimit-upto', '50/min', '--hashlimit-burst', '10', '--hashlimit-mode', 'srcip', '--hashlimit-name', 'ssh', '--hashlimit-htable-expire', '300000'], {
      save: '-A INPUT -m hashlimit --hashlimit-upto 50/min --hashlimit-burst 10 --hashlimit-mode srcip --hashlimit-name ssh --hashlimit-htable-expire 300000',
      list: ' limit: up to 50/min burst 10 mode srcip htable-expire 300000',
    }));
  it('saves a rate-match per second with its interval', () =>
    expectRule(['-m', 'hashlimit', '--hashlimit-upto', '40/min', '--hashlimit-name', 'r', '--hashlimit-rate-match'], {
      save: '-A INPUT -m hashlimit --hashlimit-upto 40/sec --hashlimit-burst 5 --hashlimit-name r --hashlimit-htable-expire 60000 --hashlimit-rate-match --hashlimit-rate-interval 60',
      list: ' limit: up to 40/min burst 5 rate-match rate-interval 60',
    }));
  it('refuses incomplete or bad options', async () => {
    await param(['-A', 'INPUT', '-m', 'hashlimit', '--hashlimit-name', 'a'], 'You have to specify --hashlimit');
    await param(['-A', 'INPUT', '-m', 'hashlimit', '--hashlimit-upto', '1/sec'], 'hashlimit: option "--hashlimit-name" must be specified\n');
    await param(['-A', 'INPUT', '-m', 'hashlimit', '--hashlimit-upto', '1/x', '--hashlimit-name', 'a'], 'hashlimit: Bad value for "--hashlimit-upto" option: "1/x"');
    await param(['-A', 'INPUT', '-m', 'hashlimit', '--hashlimit-upto', '10/s', '--hashlimit-name', 'a', '--hashlimit-burst', '999k'], 'bad value for option "--hashlimit-burst", or out of range (1-1000000).');
    await param(['-A', 'INPUT', '-m', 'hashlimit', '--hashlimit-upto', '1mb/s', '--hashlimit-name', 'a', '--hashlimit-burst', '1kb'], 'burst cannot be smaller than 1048576b');
  });
  it('is refused by the kernel when the credit computation overflows', async () => {
    await kernel(['-A', 'INPUT', '-m', 'hashlimit', '--hashlimit-upto', '1/day', '--hashlimit-burst', '2', '--hashlimit-name', 'a'], 'Numerical result out of range');
    await kernel(['-A', 'INPUT', '-m', 'hashlimit', '--hashlimit-upto', '1/s', '--hashlimit-name', 'a/b'], 'Invalid argument');
  });
});

describe('recent', () => {
  it('prints every option', () =>
    expectRule(['-m', 'recent', '!', '--rcheck', '--seconds', '60', '--reap', '--hitcount', '3', '--rttl', '--name', 'SSH', '--rdest', '--mask', '255.255.0.0'], {
      save: '-A INPUT -m recent ! --rcheck --seconds 60 --reap --hitcount 3 --rttl --name SSH --mask 255.255.0.0 --rdest',
      list: ' ! recent: CHECK seconds: 60 reap hit_count: 3 TTL-Match name: SSH side: dest mask: 255.255.0.0',
    }));
  it('fills in the defaults', () =>
    expectRule(['-m', 'recent', '--set'], {
      save: '-A INPUT -m recent --set --name DEFAULT --mask 255.255.255.255 --rsource',
      list: ' recent: SET name: DEFAULT side: source mask: 255.255.255.255',
    }));
  it('refuses what user space and the kernel refuse', async () => {
    await param(['-A', 'INPUT', '-m', 'recent', '--name', 'x'], "recent: you must specify one of `--set', `--rcheck' `--update' or `--remove'");
    await param(['-A', 'INPUT', '-m', 'recent', '--set', '--rttl'], 'recent: option "--rttl" cannot be used together with "--set".\n');
    await kernel(['-A', 'INPUT', '-m', 'recent', '--set', '--seconds', '5'], 'Invalid argument');
    await kernel(['-A', 'INPUT', '-m', 'recent', '--rcheck', '--hitcount', '65536'], 'Invalid argument');
  });
});

describe('quota', () => {
  it('keeps all 64 bits', () =>
    expectRule(['-m', 'quota', '!', '--quota', '18446744073709551615'], {
      save: '-A INPUT -m quota ! --quota 18446744073709551615',
      list: ' quota: 18446744073709551615 bytes',
    }));
  it('refuses 2^64', () =>
    param(['-A', 'INPUT', '-m', 'quota', '--quota', '18446744073709551616'], 'quota: bad value for option "--quota", or out of range (0-18446744073709551615).\n'));
});

describe('statistic', () => {
  it('rounds the probability half to even', () =>
    expectRule(['-m', 'statistic', '--mode', 'random', '--probability', '0.000244140625'], {
      save: '-A INPUT -m statistic --mode random --probability 0.00024414062',
      list: ' statistic mode random probability 0.00024414062',
    }));
  it('prints nth mode', () =>
    expectRule(['-m', 'statistic', '--mode', 'nth', '!', '--every', '5', '--packet', '2'], {
      save: '-A INPUT -m statistic --mode nth ! --every 5 --packet 2',
      list: ' statistic mode nth ! every 5 packet 2',
    }));
  it('refuses bad combinations', async () => {
    await param(['-A', 'INPUT', '-m', 'statistic', '--mode', 'random', '--probability', '0.5 '], 'statistic: bad value for option "--probability", or out of range (0-1).\n');
    await param(['-A', 'INPUT', '-m', 'statistic', '--mode', 'nth', '--every', '5', '--packet', '5'], 'the --packet p must be 0 <= p <= n-1');
    await param(['-A', 'INPUT', '-m', 'statistic', '--mode', 'nth', '--every', '5'], 'statistic: option "--every" also requires "--packet".\n');
    await param(['-A', 'INPUT', '-m', 'statistic', '--probability', '1'], 'statistic: option "--mode" must be specified\n');
  });
});

describe('time', () => {
  it('normalises days and always saves a stop date', () =>
    expectRule(['-m', 'time', '--timestart', '23:00', '--timestop', '01:00', '--contiguous', '!', '--weekdays', 'Sat,Sun', '--monthdays', '11,12,13', '--datestart', '2001-02-03T04:05:06', '--kerneltz'], {
      save: '-A INPUT -m time --timestart 23:00:00 --timestop 01:00:00 --monthdays 11,12,13 --weekdays Mon,Tue,Wed,Thu,Fri --datestart 2001-02-03T04:05:06 --datestop 2038-01-19T03:14:07 --kerneltz --contiguous',
      list: ' TIME from 23:00:00 to 01:00:00 on Mon,Tue,Wed,Thu,Fri on 11st,12nd,13rd starting from 2001-02-03 04:05:06 contiguous',
    }));
  it('refuses bad dates and times', async () => {
    await param(['-A', 'INPUT', '-m', 'time', '--datestart', '2039'], 'Invalid date "2039" specified. Should be YYYY[-MM[-DD[Thh[:mm[:ss]]]]]');
    await param(['-A', 'INPUT', '-m', 'time', '--timestart', '23:60'], 'invalid time "60" specified, should be hh:mm[:ss] format and within the boundaries');
    await param(['-A', 'INPUT', '-m', 'time', '--weekdays', '0'], 'No, the week does NOT begin with Sunday.');
    await param(['-A', 'INPUT', '-m', 'time', '--monthdays', '32'], '32 is not a valid day for --monthdays');
    await param(['-A', 'INPUT', '-m', 'time', '--contiguous', '--timestart', '01:00', '--timestop', '23:00'], 'time: --contiguous only makes sense when stoptime is smaller than starttime');
  });
});

describe('string', () => {
  it('saves patterns with unprintable bytes in hex', () =>
    expectRule(['-m', 'string', '--algo', 'bm', '!', '--hex-string', '|00 01|ab\\|c', '--from', '10', '--to', '100', '--icase'], {
      save: '-A INPUT -m string ! --hex-string "|000161627c63|" --algo bm --from 10 --to 100 --icase',
      list: ' STRING match ! "|000161627c63|" ALGO name bm FROM 10 TO 100 ICASE',
    }));
  it('escapes quotes in text patterns', () =>
    expectRule(['-m', 'string', '--algo', 'kmp', '--string', 'a"b'], {
      save: '-A INPUT -m string --string "a\\"b" --algo kmp',
      list: ' STRING match  "a\\"b" ALGO name kmp',
    }));
  it('refuses bad patterns and unknown algorithms', async () => {
    await param(['-A', 'INPUT', '-m', 'string', '--algo', 'bm'], "STRING match: You must specify `--string' or `--hex-string'");
    await param(['-A', 'INPUT', '-m', 'string', '--algo', 'bm', '--hex-string', '|4g|'], "Invalid hex char 'g'");
    await param(['-A', 'INPUT', '-m', 'string', '--algo', 'bm', '--hex-string', '|41'], 'Invalid hex block');
    await kernel(['-A', 'INPUT', '-m', 'string', '--algo', 'wrong', '--string', 'x'], 'No such file or directory');
    await kernel(['-A', 'INPUT', '-m', 'string', '--algo', 'kmp', '--string', 'x', '--from', '10', '--to', '5'], 'Invalid argument');
  });
});

describe('bpf', () => {
  it('prints the program without a leading space and with a NUL at the end', () =>
    expectRule(['-m', 'bpf', '--bytecode', '4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0'], {
      save: '-A INPUT -m bpf --bytecode "4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0"',
      list: ' match bpf 48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0\0',
    }));
  it('refuses malformed and invalid programs', async () => {
    await param(['-A', 'INPUT', '-m', 'bpf', '--bytecode', '2,6 0 0 0'], 'bpf: parsed program length is less than the encoded length parameter');
    await param(['-A', 'INPUT', '-m', 'bpf', '--bytecode', '1,6 0 x 0'], 'bpf: error at instr 0');
    await param(['-A', 'INPUT', '-m', 'bpf'], 'bpf: one of --bytecode or --pinned is required');
    await kernel(['-A', 'INPUT', '-m', 'bpf', '--bytecode', '1,7 0 0 0'], 'Invalid argument');
    await kernel(['-A', 'INPUT', '-m', 'bpf', '--bytecode', '2,96 0 0 0,6 0 0 0'], 'Invalid argument');
  });
});

describe('rateest and RATEEST', () => {
  it('encodes the estimator interval and time constant', () =>
    expectRule(['-j', 'RATEEST', '--rateest-name', 'RE1', '--rateest-interval', '1s', '--rateest-ewmalog', '4s'], {
      save: '-A INPUT -j RATEEST --rateest-name RE1 --rateest-interval 1.0s --rateest-ewmalog 4.0s',
      list: ' name RE1 interval 1.0s ewmalog 4.0s',
    }));
  it('prints rates in bit units', () =>
    withLab(async (run) => {
      await run('iptables', '-A', 'INPUT', '-j', 'RATEEST', '--rateest-name', 'RE1', '--rateest-interval', '1s', '--rateest-ewmalog', '4s');
      const add = await run('iptables', '-A', 'INPUT', '-m', 'rateest', '--rateest', 'RE1', '--rateest-lt', '--rateest-bps', '2500000bit', '--rateest-pps', '3');
      assert.equal(add.status, 0);
      const delta = await run('iptables', '-A', 'INPUT', '-m', 'rateest', '--rateest-delta', '--rateest', 'RE1', '--rateest-bps1', '--rateest-gt', '--rateest-bps2', '1Mibit');
      assert.equal(delta.status, 0);
      const s = await run('iptables', '-S', 'INPUT');
      assert.equal(
        s.stdout,
        '-P INPUT ACCEPT\n' +
          '-A INPUT -j RATEEST --rateest-name RE1 --rateest-interval 1.0s --rateest-ewmalog 4.0s\n' +
          '-A INPUT -m rateest --rateest RE1 --rateest-lt --rateest-bps 2500Kbit --rateest-lt --rateest-pps 3\n' +
          '-A INPUT -m rateest --rateest-delta --rateest RE1 --rateest-bps1 0bit --rateest-gt --rateest-bps2 1049Kbit\n',
      );
      const l = (await run('iptables', '-L', 'INPUT')).stdout.split('\n');
      assert.ok(l[3]!.endsWith(' rateest match RE1 bps 2500Kbit lt pps lt 3'));
      assert.ok(l[4]!.endsWith(' rateest match RE1 delta bps 0bit 1049Kbit gt'));
      const n = (await run('iptables', '-L', 'INPUT', '-n')).stdout.split('\n');
      assert.ok(n[3]!.endsWith(' rateest match RE1 bps 312500 lt pps lt 3'));
    }));
  it('refuses impossible estimator parameters and rateest rules without a comparison', async () => {
    await param(['-A', 'INPUT', '-j', 'RATEEST', '--rateest-name', 'RE2'], 'RATEEST: ewmalog value is out of range');
    await param(['-A', 'INPUT', '-j', 'RATEEST', '--rateest-name', 'RE2', '--rateest-interval', '9s', '--rateest-ewmalog', '4s'], 'RATEEST: interval value is too large');
    await param(['-A', 'INPUT', '-m', 'rateest', '--rateest', 'RE1', '--rateest-lt', '--rateest-pps', 'x'], "rateest: could not parse pps `x'");
    await kernel(['-A', 'INPUT', '-m', 'rateest', '--rateest', 'RE1', '--rateest-bps', '8bit'], 'Invalid argument');
  });
});

describe('IDLETIMER, LED, AUDIT', () => {
  it('IDLETIMER with an alarm timer', () =>
    expectRule(['-j', 'IDLETIMER', '--timeout', '42', '--label', 'bar', '--alarm'], {
      save: '-A INPUT -j IDLETIMER --timeout 42 --label bar --alarm',
      list: ' timeout:42 label:bar alarm',
    }));
  it('IDLETIMER refusals', async () => {
    await param(['-A', 'INPUT', '-j', 'IDLETIMER', '--timeout', '42'], 'IDLETIMER: option "--label" must be specified\n');
    await kernel(['-A', 'INPUT', '-j', 'IDLETIMER', '--timeout', '2147483', '--label', 'x'], 'Invalid argument');
    await kernel(['-A', 'INPUT', '-j', 'IDLETIMER', '--timeout', '5', '--label', 'power'], 'Invalid argument');
  });
  it('LED has no kernel module', async () => {
    await expectError(['-A', 'INPUT', '-j', 'LED', '--led-trigger-id', '01234567890123456'], `${missing('LED')}${PFX}Argument must have a maximum length of 16 characters\n\n${TRY}`, 2);
    await expectError(['-A', 'INPUT', '-j', 'LED', '--led-trigger-id', 'foo'], `${missing('LED')}${PFX} RULE_APPEND failed (No such file or directory): rule in chain INPUT\n`, 4);
  });
  it('AUDIT types are case-insensitive', async () => {
    await expectRule(['-j', 'AUDIT', '--type', 'REJECT'], { save: '-A INPUT -j AUDIT --type reject', list: ' AUDIT reject' });
    await param(['-A', 'INPUT', '-j', 'AUDIT', '--type', 'wrong'], 'Bad action type value "wrong"');
  });
});

describe('HMARK', () => {
  it('expands --hmark-tuple into masks', () =>
    expectRule(['-j', 'HMARK', '--hmark-tuple', 'src,dport', '--hmark-mod', '3', '--hmark-rnd', '0xabc', '--hmark-offset', '7'], {
      save: '-A INPUT -j HMARK --hmark-src-prefix 32 --hmark-dport-mask 0xffff --hmark-rnd 0x00000abc --hmark-mod 3 --hmark-offset 7',
      list: ' HMARK mod 3 + 0x7 src-prefix 32 dport-mask 0xffff rnd 0xabc ',
    }));
  it('refuses missing and conflicting options', async () => {
    await param(['-A', 'INPUT', '-j', 'HMARK'], '--hmark-mod is mandatory');
    await param(['-A', 'INPUT', '-j', 'HMARK', '--hmark-tuple', 'x,src', '--hmark-mod', '1', '--hmark-rnd', '1'], 'Bad type "x,src"');
    await param(['-A', 'INPUT', '-j', 'HMARK', '--hmark-tuple', 'src', '--hmark-src-prefix', '3', '--hmark-mod', '1', '--hmark-rnd', '1'], 'HMARK: option "--hmark-src-prefix" can only be used once.\n');
    await param(['-A', 'INPUT', '-j', 'HMARK', '--hmark-tuple', 'spi,sport', '--hmark-mod', '1', '--hmark-rnd', '1'], 'you cannot use --hmark-spi-mask and --hmark-?port-mask,at the same time');
  });
});

describe('SYNPROXY, TEE, TPROXY', () => {
  it('SYNPROXY options', () =>
    expectRule(['-p', 'tcp', '-j', 'SYNPROXY', '--sack-perm', '--timestamp', '--wscale', '7', '--mss', '1460'], {
      save: '-A INPUT -p tcp -j SYNPROXY --sack-perm --timestamp --wscale 7 --mss 1460',
      list: ' SYNPROXY sack-perm timestamp wscale 7 mss 1460 ',
    }));
  it('SYNPROXY needs -p tcp and the INPUT or FORWARD hook', async () => {
    await kernel(['-A', 'INPUT', '-j', 'SYNPROXY'], 'Invalid argument');
    await kernel(['-A', 'OUTPUT', '-p', 'tcp', '-j', 'SYNPROXY'], 'Invalid argument', 'OUTPUT');
  });
  it('TEE names the gateway unless -n', () =>
    expectRule(['-j', 'TEE', '--gateway', '127.0.0.1', '--oif', 'eth0'], {
      save: '-A INPUT -j TEE --gateway 127.0.0.1 --oif eth0',
      list: ' TEE gw:localhost oif=eth0',
      listN: ' TEE gw:127.0.0.1 oif=eth0',
    }));
  it('TEE refusals', async () => {
    await param(['-A', 'INPUT', '-j', 'TEE', '!', '--gateway', '1.1.1.1'], 'TEE: option "--gateway" cannot be inverted.\n');
    await kernel(['-A', 'INPUT', '-j', 'TEE', '--gateway', '0.0.0.0'], 'Invalid argument');
  });
  it('TPROXY in mangle PREROUTING', () =>
    expectRule(['-p', 'udp', '-j', 'TPROXY', '--on-port', '12345', '--on-ip', '10.0.0.1', '--tproxy-mark', '0x23/0xff'], {
      save: '-A PREROUTING -p udp -j TPROXY --on-port 12345 --on-ip 10.0.0.1 --tproxy-mark 0x23/0xff',
      list: ' TPROXY redirect 10.0.0.1:12345 mark 0x23/0xff',
    }, 'mangle', 'PREROUTING'));
  it('TPROXY anywhere else is refused', async () => {
    await kernel(['-A', 'INPUT', '-p', 'tcp', '-j', 'TPROXY', '--on-port', '1'], 'Invalid argument');
    await kernel(['-t', 'mangle', '-A', 'PREROUTING', '-j', 'TPROXY', '--on-port', '1'], 'Invalid argument', 'PREROUTING');
  });
});

describe('CLUSTERIP, SECMARK, CONNSECMARK', () => {
  it('CLUSTERIP checks its options, then the kernel lacks the module', async () => {
    const warn = missing('CLUSTERIP');
    await expectError(['-A', 'INPUT', '-j', 'CLUSTERIP', '--new'], `${warn}${PFX}CLUSTERIP target: Invalid parameter combination\n${TRY}`, 2);
    await expectError(['-A', 'INPUT', '-j', 'CLUSTERIP', '--new', '--hashmode', 'sourceip', '--clustermac', '00:AA:7B:47:F7:D7', '--total-nodes', '2', '--local-node', '1'], `${warn}${PFX}MAC has to be a multicast ethernet address\n${TRY}`, 2);
    await expectError(['-A', 'INPUT', '-d', '10.0.0.1', '-j', 'CLUSTERIP', '--new', '--hashmode', 'sourceip', '--clustermac', '01:AA:7B:47:F7:D7', '--total-nodes', '2', '--local-node', '1', '--hash-init', '1'], `${warn}${PFX} RULE_APPEND failed (No such file or directory): rule in chain INPUT\n`, 4);
  });
  it('SECMARK is refused: EINVAL outside mangle/security, ENOENT inside', async () => {
    await kernel(['-A', 'INPUT', '-j', 'SECMARK', '--selctx', 'foo'], 'Invalid argument');
    await kernel(['-t', 'security', '-A', 'INPUT', '-j', 'SECMARK', '--selctx', 'foo'], 'No such file or directory');
    await param(['-t', 'security', '-A', 'INPUT', '-j', 'SECMARK'], 'SECMARK: option "--selctx" must be specified\n');
  });
  it('CONNSECMARK in mangle', async () => {
    await expectRule(['-j', 'CONNSECMARK', '--save'], { save: '-A PREROUTING -j CONNSECMARK --save', list: ' CONNSECMARK save' }, 'mangle', 'PREROUTING');
    await kernel(['-A', 'INPUT', '-j', 'CONNSECMARK', '--save'], 'Invalid argument');
    await param(['-t', 'mangle', '-A', 'INPUT', '-j', 'CONNSECMARK'], 'CONNSECMARK target: parameter required');
  });
});
