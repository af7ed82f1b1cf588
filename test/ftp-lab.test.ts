/**
 * The FTP tutorial (seed 003) walked through in nflab itself: a server
 * host 192.168.0.18 running vsftpd and the admin PC 192.168.0.2 on one
 * wire, the tutorial's rules step by step, and the FileZilla log and the
 * ftp client's transcript at each step, exactly but for the ports drawn at
 * random (taken from the output and checked: in the passive range where
 * one is configured). The outcomes are the
 * ones today's kernel gives, which ftp-diff.test.ts checks against the
 * real tools: active mode needs 20/tcp open for the server's SYN-ACK to
 * come back, and loading nf_conntrack_ftp alone does not make the passive
 * data connection RELATED (helpers are no longer assigned automatically);
 * `-j CT --helper ftp` does.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runNflab } from '../src/cli/main.js';

const LAB = `/tmp/nflabt-ftplab-walk-${process.pid}`;
const SERVER = '192.168.0.18';

async function sh(args: string[], stdin?: string): Promise<{ out: string; err: string; status: number }> {
  const r = await runNflab(args, { lab: LAB, stdin });
  return { out: r.stdout, err: r.stderr, status: r.status };
}

async function must(args: string[]): Promise<void> {
  const r = await sh(args);
  assert.equal(r.status, 0, `nflab ${args.join(' ')}: ${r.err}`);
}

const server = (...args: string[]): Promise<void> => must(['--host', 'server', ...args]);
const lines = (...ls: string[]): string => ls.map((l) => `${l}\n`).join('');

/** The address and port of the 227 reply in a log, as printed. */
function pasvOf(out: string): string {
  return /\(192,168,0,18,\d+,\d+\)/.exec(out)?.[0] ?? '(none)';
}

/** The port a 227 reply's numbers give. */
function pasvPortOf(out: string): number {
  const m = /\(192,168,0,18,(\d+),(\d+)\)/.exec(out);
  return m ? Number(m[1]) * 256 + Number(m[2]) : -1;
}

/** The PORT argument in a log. */
function portOf(out: string): string {
  return /PORT (192,168,0,2,\d+,\d+)/.exec(out)?.[1] ?? '(none)';
}

const CONNECT = ['Status: Connecting to 192.168.0.18:21...'];
const TIMEOUT = ['Error: Connection timed out after 20 seconds of inactivity'];
const LOGGED_IN = [
  ...CONNECT,
  'Status: Connection established, waiting for welcome message...',
  'Response: 220 (vsFTPd 3.0.3)',
  'Command: AUTH TLS',
  'Response: 530 Please login with USER and PASS.',
  'Command: AUTH SSL',
  'Response: 530 Please login with USER and PASS.',
  'Status: Insecure server, it does not support FTP over TLS.',
  'Command: USER test',
  'Response: 331 Please specify the password.',
  'Command: PASS **********',
  'Response: 230 Login successful.',
  'Command: OPTS UTF8 ON',
  'Response: 200 Always in UTF8 mode.',
  'Status: Logged in',
  'Status: Retrieving directory listing...',
  'Command: PWD',
  'Response: 257 "/home/test" is the current directory',
  'Command: TYPE I',
  'Response: 200 Switching to Binary mode.',
];
const LISTED = ['Command: LIST', 'Response: 150 Here comes the directory listing.', 'Response: 226 Directory send OK.', 'Status: Directory listing of "/home/test" successful'];
const FAILED = ['Command: LIST', ...TIMEOUT, 'Error: Failed to retrieve directory listing'];
const URL = 'ftp://test:Test123pw0@192.168.0.18/';

describe('the FTP tutorial in nflab', () => {
  before(async () => {
    rmSync(LAB, { recursive: true, force: true });
    await must(['host', 'add', 'server']);
    await must(['wire', 'add', 'lan', 'main:eth1', 'server:eth0']);
    for (const [host, dev, addr] of [['main', 'eth1', '192.168.0.2/24'], ['server', 'eth0', `${SERVER}/24`]] as const) {
      await must(['--host', host, 'ip', 'addr', 'add', addr, 'dev', dev]);
      await must(['--host', host, 'ip', 'link', 'set', dev, 'up']);
    }
    const fs = `${LAB}/hosts/server/fs`;
    mkdirSync(`${fs}/etc/vsftpd`, { recursive: true });
    mkdirSync(`${fs}/home/test`, { recursive: true });
    writeFileSync(`${fs}/etc/passwd`, 'root:x:0:0:root:/root:/bin/bash\ntest:x:1000:1000::/home/test:/bin/bash\n');
    writeFileSync(`${fs}/etc/shadow`, 'test:Test123pw0:19000:0:99999:7:::\n');
    writeFileSync(
      `${fs}/etc/vsftpd/vsftpd.conf`,
      'anonymous_enable=NO\nlocal_enable=YES\nwrite_enable=YES\nlocal_umask=022\nconnect_from_port_20=YES\nlisten=NO\nlisten_ipv6=YES\npam_service_name=vsftpd\n',
    );
    await sh(['--host', 'server', 'vsftpd']);
    // step 0: management traffic only
    await server('iptables', '-A', 'INPUT', '-s', '192.168.0.2', '-d', SERVER, '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT');
    await server('iptables', '-A', 'INPUT', '-s', '192.168.0.1', '-d', SERVER, '-j', 'ACCEPT');
    await server('iptables', '-A', 'INPUT', '-s', '8.8.8.8', '-d', SERVER, '-j', 'ACCEPT');
    await server('iptables', '-A', 'INPUT', '-s', '0.0.0.0/0', '-d', SERVER, '-j', 'DROP');
  });
  after(() => rmSync(LAB, { recursive: true, force: true }));

  it('0. without 21/tcp the connection itself times out, three times', async () => {
    const r = await sh(['filezilla', URL]);
    const attempt = [...CONNECT, ...TIMEOUT, 'Error: Could not connect to server'];
    assert.equal(r.out, lines(...attempt, 'Status: Waiting to retry...', ...attempt, 'Status: Waiting to retry...', ...attempt));
    assert.equal(r.status, 1);
  });

  it('1. with 21/tcp the login works; the passive listing times out, and so does the active one', async () => {
    await server('iptables', '-I', 'INPUT', '-s', '0.0.0.0/0', '-d', SERVER, '-p', 'tcp', '--dport', '21', '-j', 'ACCEPT');
    const passive = await sh(['filezilla', URL]);
    assert.equal(passive.out, lines(...LOGGED_IN, 'Command: PASV', `Response: 227 Entering Passive Mode ${pasvOf(passive.out)}.`, ...FAILED));
    const active = await sh(['filezilla', '--active', URL]);
    assert.equal(active.out, lines(...LOGGED_IN, `Command: PORT ${portOf(active.out)}`, 'Response: 200 PORT command successful. Consider using PASV.', ...FAILED));
  });

  it('2. with 20/tcp the active listing works', async () => {
    await server('iptables', '-I', 'INPUT', '-s', '0.0.0.0/0', '-d', SERVER, '-p', 'tcp', '--dport', '20', '-j', 'ACCEPT');
    const active = await sh(['filezilla', '--active', URL]);
    assert.equal(active.out, lines(...LOGGED_IN, `Command: PORT ${portOf(active.out)}`, 'Response: 200 PORT command successful. Consider using PASV.', ...LISTED));
    const ftp = await sh(['ftp', '-nA', SERVER], 'user test Test123pw0\nls\nbye\n');
    assert.equal(ftp.out, '');
    assert.equal(ftp.err, '');
  });

  it('3. a passive port range in vsftpd.conf, opened in the firewall', async () => {
    writeFileSync(`${LAB}/hosts/server/fs/etc/vsftpd/vsftpd.conf`, 'local_enable=YES\nconnect_from_port_20=YES\nlisten=YES\npasv_enable=Yes\npasv_min_port=10090\npasv_max_port=10100\n');
    await server('pkill', 'vsftpd');
    await sh(['--host', 'server', 'vsftpd']);
    await server('iptables', '-I', 'INPUT', '-s', '0.0.0.0/0', '-d', SERVER, '-p', 'tcp', '--dport', '10090:10100', '-j', 'ACCEPT');
    const passive = await sh(['filezilla', URL]);
    assert.equal(passive.out, lines(...LOGGED_IN, 'Command: PASV', `Response: 227 Entering Passive Mode ${pasvOf(passive.out)}.`, ...LISTED));
    assert.ok(pasvPortOf(passive.out) >= 10090 && pasvPortOf(passive.out) <= 10100, pasvOf(passive.out));
    const ftp = await sh(['ftp', '-nv', SERVER], 'user test Test123pw0\nls\nbye\n');
    const epsv = Number(/\|\|\|(\d+)\|/.exec(ftp.out)?.[1]);
    assert.ok(epsv >= 10090 && epsv <= 10100, String(epsv));
    assert.equal(
      ftp.out,
      lines(
        'Connected to 192.168.0.18.',
        '220 (vsFTPd 3.0.3)',
        '331 Please specify the password.',
        '230 Login successful.',
        'Remote system type is UNIX.',
        'Using binary mode to transfer files.',
        `229 Entering Extended Passive Mode (|||${epsv}|)`,
        '150 Here comes the directory listing.',
        '226 Directory send OK.',
        '221 Goodbye.',
      ),
    );
  });

  it('4. the conntrack way: nf_conntrack_ftp alone is not enough today; CT --helper ftp is', async () => {
    writeFileSync(`${LAB}/hosts/server/fs/etc/vsftpd/vsftpd.conf`, 'local_enable=YES\nconnect_from_port_20=YES\nlisten=YES\n');
    await server('pkill', 'vsftpd');
    await sh(['--host', 'server', 'vsftpd']);
    await server('iptables', '-D', 'INPUT', '-s', '0.0.0.0/0', '-d', SERVER, '-p', 'tcp', '--dport', '10090:10100', '-j', 'ACCEPT');
    await server('modprobe', 'nf_conntrack_ftp');
    await server('modprobe', 'nf_conntrack_ftp', 'ports=21');
    await server('iptables', '-I', 'INPUT', '-m', 'state', '-s', '0.0.0.0/0', '-d', SERVER, '-p', 'tcp', '--dport', '1024:65534', '--state', 'ESTABLISHED,RELATED', '-j', 'ACCEPT');
    const before = await sh(['filezilla', URL]);
    assert.equal(before.out, lines(...LOGGED_IN, 'Command: PASV', `Response: 227 Entering Passive Mode ${pasvOf(before.out)}.`, ...FAILED));
    await server('iptables', '-t', 'raw', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '21', '-j', 'CT', '--helper', 'ftp');
    const withHelper = await sh(['filezilla', URL]);
    assert.equal(withHelper.out, lines(...LOGGED_IN, 'Command: PASV', `Response: 227 Entering Passive Mode ${pasvOf(withHelper.out)}.`, ...LISTED));
  });
});
