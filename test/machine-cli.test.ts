/**
 * The machine commands through nflab's command line, with exact expected
 * output: replay (summary, -v, --out), sleep, dmesg and /var/log/messages,
 * trace's refusals, and a kernel detail measured in a namespace: a
 * built-in chain created by a rule command counts no policy packets until
 * -P gives it counters.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runNflab } from '../src/cli/main.js';
import { encodeFrame } from '../src/core/wire/frame.js';
import { readCapture, writePcapng } from '../src/core/wire/pcapng.js';
import { writePcap } from '../src/core/wire/pcap.js';

const dir = mkdtempSync(join(tmpdir(), 'nflab-machine-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let labSeq = 0;

/** A fresh lab with eth0 (02:00:00:00:00:01, 10.0.0.1/24) and a permanent neighbour 10.0.0.2. */
async function lab(): Promise<(argv: string[], stdin?: string) => Promise<{ stdout: string; stderr: string; status: number }>> {
  const path = join(dir, `lab${labSeq++}`);
  const run = (argv: string[], stdin?: string) => runNflab(['--lab', path, ...argv], { stdin, cwd: dir });
  for (const c of [
    'ip link add eth0 type veth peer name p0',
    'ip link set p0 up',
    'ip link set eth0 address 02:00:00:00:00:01',
    'ip link set eth0 up',
    'ip addr add 10.0.0.1/24 dev eth0',
    'ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev eth0 nud permanent',
  ]) {
    const r = await run(c.split(' '));
    assert.equal(r.status, 0, r.stderr);
  }
  return run;
}

const eth = { src: '02:00:00:00:00:02', dst: '02:00:00:00:00:01' };
const syn = (sport: number, dport: number) => encodeFrame({ eth, ipv4: { src: '10.0.0.2', dst: '10.0.0.1', id: sport }, tcp: { sport, dport, flags: 'S', seq: 1000 } });
const udpTo = (dport: number) => encodeFrame({ eth, ipv4: { src: '10.0.0.2', dst: '10.0.0.1', id: 5 }, udp: { sport: 5000, dport } });

describe('machine commands', () => {
  let savedEpoch: string | undefined;
  before(() => {
    savedEpoch = process.env['NFLAB_EPOCH'];
    process.env['NFLAB_EPOCH'] = '1504342677';
  });
  after(() => {
    if (savedEpoch === undefined) delete process.env['NFLAB_EPOCH'];
    else process.env['NFLAB_EPOCH'] = savedEpoch;
  });

  it('replays a pcap, moves the clock by its timestamps, and writes what was sent', async () => {
    const run = await lab();
    assert.equal((await run(['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '22', '-j', 'LOG', '--log-prefix', '[IN] '])).status, 0);
    const pcap = join(dir, 'in.pcap');
    writeFileSync(pcap, writePcap([
      { tsSec: 100, tsNsec: 0, data: syn(40000, 22) },
      { tsSec: 102, tsNsec: 500_000_000, data: syn(40001, 23) },
    ]));
    const out = join(dir, 'out.pcapng');
    const r = await run(['replay', pcap, '--in', 'eth0', '--out', out, '-v']);
    assert.deepEqual(r, {
      stdout: 'eth0: delivered (local); sent out of eth0\neth0: delivered (local); sent out of eth0\nreplayed 2 frames; the machine sent 2 frames\n',
      stderr: '',
      status: 0,
    });
    const sent = readCapture(readFileSync(out)).packets;
    assert.deepEqual(sent.map((p) => [p.ifName, p.tsSec - 1504342677, p.tsNsec, p.data.length]), [
      ['eth0', 0, 0, 54],
      ['eth0', 2, 500_000_000, 54],
    ]);
    const dmesg = await run(['dmesg']);
    assert.equal(
      dmesg.stdout,
      '[    0.000000] [IN] IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=10.0.0.2 DST=10.0.0.1 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=40000 PROTO=TCP SPT=40000 DPT=22 WINDOW=8192 RES=0x00 SYN URGP=0 \n',
    );
    assert.equal(
      readFileSync(join(dir, `lab${labSeq - 1}`, 'fs/var/log/messages'), 'utf8'),
      'Sep  2 08:57:57 localhost kernel: [IN] IN=eth0 OUT= MAC=02:00:00:00:00:01:02:00:00:00:00:02:08:00 SRC=10.0.0.2 DST=10.0.0.1 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=40000 PROTO=TCP SPT=40000 DPT=22 WINDOW=8192 RES=0x00 SYN URGP=0 \n',
    );
    // the clock is now 2.5 s after boot: sleep moves it on, the next log line shows it
    assert.deepEqual(await run(['sleep', '1.5']), { stdout: '', stderr: '', status: 0 });
    writeFileSync(pcap, writePcap([{ tsSec: 7, tsNsec: 0, data: syn(40002, 22) }]));
    assert.equal((await run(['replay', pcap, '--in', 'eth0'])).stdout, 'replayed 1 frame; the machine sent 1 frame\n');
    assert.match((await run(['dmesg'])).stdout.split('\n')[1]!, /^\[    4\.000000\] \[IN\] IN=eth0 .* ID=40002 /);
    const before = (await run(['dmesg'])).stdout;
    assert.deepEqual(await run(['dmesg', '-c']), { stdout: before, stderr: '', status: 0 });
    assert.equal((await run(['dmesg'])).stdout, '');
  });

  it('reads pcapng interface names, and refuses what it cannot replay', async () => {
    const run = await lab();
    const ng = join(dir, 'in.pcapng');
    writeFileSync(ng, writePcapng([{ tsSec: 1, tsNsec: 0, data: udpTo(9), ifName: 'eth0' }]));
    assert.equal((await run(['replay', ng])).stdout, 'replayed 1 frame; the machine sent 1 frame\n');
    writeFileSync(ng, writePcapng([{ tsSec: 1, tsNsec: 0, data: udpTo(9), ifName: 'eth9' }]));
    assert.deepEqual(await run(['replay', ng]), { stdout: '', stderr: 'nflab replay: Cannot find device "eth9"\n', status: 1 });
    const pcap = join(dir, 'noname.pcap');
    writeFileSync(pcap, writePcap([{ tsSec: 1, tsNsec: 0, data: udpTo(9) }]));
    assert.deepEqual(await run(['replay', pcap]), { stdout: '', stderr: `nflab replay: ${pcap} does not name the interfaces: give --in IFACE\n`, status: 2 });
    assert.deepEqual(await run(['replay', join(dir, 'missing.pcap'), '--in', 'eth0']), {
      stdout: '',
      stderr: `nflab replay: cannot read ${join(dir, 'missing.pcap')}: No such file or directory\n`,
      status: 1,
    });
    writeFileSync(join(dir, 'junk.pcap'), 'not a capture');
    const junk = await run(['replay', join(dir, 'junk.pcap'), '--in', 'eth0']);
    assert.equal(junk.status, 1);
    assert.match(junk.stderr, /^nflab replay: .*junk\.pcap: /);
    assert.deepEqual(await run(['sleep', 'soon']), { stdout: '', stderr: "sleep: invalid time interval 'soon'\nTry 'sleep --help' for more information.\n", status: 1 });
  });

  it('counts no policy packets on a built-in chain a rule command created, until -P', async () => {
    // measured: iptables -A INPUT ...; packets; iptables-save -c shows :INPUT ACCEPT [0:0];
    // after iptables -P INPUT ACCEPT the policy counts
    const run = await lab();
    await run(['iptables', '-A', 'INPUT', '-p', 'tcp', '-j', 'ACCEPT']);
    await run(['trace', '--apply', '-i', 'eth0', '-p', 'udp', '-s', '10.0.0.2', '--dport', '9']);
    assert.match((await run(['iptables-save', '-c'])).stdout, /\n:INPUT ACCEPT \[0:0\]\n/);
    await run(['iptables', '-P', 'INPUT', 'ACCEPT']);
    await run(['trace', '--apply', '-i', 'eth0', '-p', 'udp', '-s', '10.0.0.2', '--dport', '9']);
    assert.match((await run(['iptables-save', '-c'])).stdout, /\n:INPUT ACCEPT \[1:28\]\n/);
  });

  it('trace changes nothing without --apply and says what it cannot do', async () => {
    const run = await lab();
    await run(['iptables', '-P', 'INPUT', 'DROP']);
    const t = await run(['trace', '-i', 'eth0', '-p', 'tcp', '-s', '10.0.0.2', '--dport', '22', '--syn']);
    assert.equal(t.status, 0);
    assert.match(t.stdout, / TRACE: 2 [0-9a-f]{8} filter:INPUT:policy:DROP \nverdict: dropped: filter INPUT\n$/);
    assert.match((await run(['iptables-save', '-c'])).stdout, /\n:INPUT DROP \[0:0\]\n/);
    assert.deepEqual(await run(['trace', '-i', 'eth7']), { stdout: '', stderr: 'nflab trace: Cannot find device "eth7"\n', status: 1 });
    const bad = await run(['trace', '--bogus']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^nflab trace: unknown option '--bogus'\n/);
  });
});
