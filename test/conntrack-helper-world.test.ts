/**
 * The FTP helper in the lab's world: vsftpd in one namespace behind the
 * tutorial's rules (21 open, then only ESTABLISHED,RELATED, policy DROP),
 * the ftp client in another, joined by a veth. With `-j CT --helper ftp`
 * in the server's raw table the passive data connection is RELATED and
 * the listing comes through; without it the client's data connection
 * times out and it falls back to active mode.
 */
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runNflab } from '../src/cli/main.js';

async function nflab(lab: string, line: string, stdin?: string): Promise<{ stdout: string; stderr: string }> {
  const r = await runNflab(['--lab', lab, ...line.split(' ')], { stdin });
  assert.equal(r.status, 0, `${line}: ${r.stderr}`);
  return r;
}

/** A lab with the server namespace (vsftpd running, passive port 10096) and the client namespace. */
async function lab(withHelper: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-ftphelper-'));
  mkdirSync(join(dir, 'fs/etc'), { recursive: true });
  mkdirSync(join(dir, 'fs/srv/ftp'), { recursive: true });
  writeFileSync(
    join(dir, 'fs/etc/vsftpd.conf'),
    'listen=YES\nlisten_ipv6=NO\nanonymous_enable=YES\nlocal_enable=NO\npasv_min_port=10096\npasv_max_port=10096\nanon_root=/srv/ftp\n',
  );
  writeFileSync(join(dir, 'fs/etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\nftp:x:101:101:ftp daemon:/srv/ftp:/usr/sbin/nologin\n');
  for (const line of [
    'ip netns add srv',
    'ip netns add cli',
    'ip link add v-s type veth peer name v-c',
    'ip link set v-s netns srv',
    'ip link set v-c netns cli',
    'ip -n srv addr add 192.168.0.18/24 dev v-s',
    'ip -n cli addr add 192.168.0.2/24 dev v-c',
    'ip -n srv link set v-s up',
    'ip -n cli link set v-c up',
    'ip -n srv link set lo up',
    'ip -n cli link set lo up',
    'ip netns exec srv iptables -A INPUT -p tcp --dport 21 -j ACCEPT',
    'ip netns exec srv iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT',
    'ip netns exec srv iptables -P INPUT DROP',
  ]) {
    await nflab(dir, line);
  }
  if (withHelper) await nflab(dir, 'ip netns exec srv iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp');
  writeFileSync(join(dir, 'start.sh'), 'ip netns exec srv vsftpd &\n');
  await nflab(dir, `run ${join(dir, 'start.sh')}`);
  return dir;
}

const SESSION = 'user anonymous x\nls\nbye\n';

/**
 * A lab where the client (10.0.0.2) reaches the server (192.168.0.18)
 * through a router that masquerades it and gives control connections the
 * FTP helper; its FORWARD policy is DROP but for new control connections
 * and ESTABLISHED,RELATED traffic.
 */
async function routedLab(): Promise<string> {
  const dir = await lab(false);
  for (const line of [
    'ip -n cli link del v-c',
    'ip netns add rtr',
    'ip link add r0 type veth peer name c0',
    'ip link add r1 type veth peer name s0',
    'ip link set r0 netns rtr',
    'ip link set r1 netns rtr',
    'ip link set c0 netns cli',
    'ip link set s0 netns srv',
    'ip -n rtr addr add 10.0.0.1/24 dev r0',
    'ip -n rtr addr add 192.168.0.1/24 dev r1',
    'ip -n cli addr add 10.0.0.2/24 dev c0',
    'ip -n srv addr add 192.168.0.18/24 dev s0',
    'ip -n rtr link set r0 up',
    'ip -n rtr link set r1 up',
    'ip -n cli link set c0 up',
    'ip -n srv link set s0 up',
    'ip -n cli route add default via 10.0.0.1',
    'ip -n srv route add default via 192.168.0.1',
    'ip netns exec rtr sysctl -w net.ipv4.ip_forward=1',
    'ip netns exec rtr iptables -t nat -A POSTROUTING -o r1 -j MASQUERADE',
    'ip netns exec rtr iptables -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp',
    'ip netns exec rtr iptables -P FORWARD DROP',
    'ip netns exec rtr iptables -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT',
    'ip netns exec rtr iptables -A FORWARD -i r0 -p tcp --dport 21 -j ACCEPT',
  ]) {
    await nflab(dir, line);
  }
  return dir;
}

/**
 * conntrack -L lines with the client's random ports replaced by P and the
 * seconds left by N (they depend on the programs' timing, not the helper).
 */
function masked(text: string): string[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => l.replace(/^(tcp +6) \d+ /, '$1 N ').replace(/sport=\d{5} dport=(21|10096) /, 'sport=P dport=$1 ').replace(/sport=(21|10096) dport=\d{5} /, 'sport=$1 dport=P '));
}

describe('the FTP helper in the lab', () => {
  it('with CT --helper ftp, the passive data connection is RELATED and gets through', async () => {
    const dir = await lab(true);
    try {
      const r = await nflab(dir, 'ip netns exec cli ftp -n -v -q 20 192.168.0.18', SESSION);
      assert.ok(r.stdout.includes('229 Entering Extended Passive Mode (|||10096|)\n150 Here comes the directory listing.\n'), r.stdout);
      assert.ok(r.stdout.includes('226 Directory send OK.\n'), r.stdout);
      assert.equal(r.stderr, '');
      const ct = await nflab(dir, 'ip netns exec srv conntrack -L');
      assert.deepEqual(masked(ct.stdout), [
        'tcp      6 N TIME_WAIT src=192.168.0.2 dst=192.168.0.18 sport=P dport=21 src=192.168.0.18 dst=192.168.0.2 sport=21 dport=P [ASSURED] mark=0 helper=ftp use=2',
        'tcp      6 N TIME_WAIT src=192.168.0.2 dst=192.168.0.18 sport=P dport=10096 src=192.168.0.18 dst=192.168.0.2 sport=10096 dport=P [ASSURED] mark=0 use=1',
      ]);
      const counters = await nflab(dir, 'ip netns exec srv iptables -nvL INPUT');
      assert.match(counters.stdout, /\n +[1-9]\d* +\d+ ACCEPT +0 +-- +\* +\* +0\.0\.0\.0\/0 +0\.0\.0\.0\/0 +state RELATED,ESTABLISHED\n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without it, the data connection times out and the client falls back to active mode', async () => {
    const dir = await lab(false);
    try {
      const r = await nflab(dir, 'ip netns exec cli ftp -n -v -q 20 192.168.0.18', SESSION);
      assert.ok(r.stderr.includes("ftp: Can't connect to `192.168.0.18:10096': Connection timed out\n"), r.stderr);
      assert.ok(r.stdout.includes('229 Entering Extended Passive Mode (|||10096|)\n200 EPRT command successful. Consider using EPSV.\n'), r.stdout);
      const ct = await nflab(dir, 'ip netns exec srv conntrack -L');
      assert.ok(!ct.stdout.includes('dport=10096'), ct.stdout);
      assert.ok(!ct.stdout.includes('helper=ftp'), ct.stdout);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('on the client: CT --helper ftp in raw OUTPUT makes the server\'s active-mode data connection RELATED', async () => {
    const dir = await lab(false);
    try {
      for (const line of [
        'ip netns exec srv iptables -F INPUT',
        'ip netns exec srv iptables -P INPUT ACCEPT',
        'ip netns exec cli iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT',
        'ip netns exec cli iptables -P INPUT DROP',
        'ip netns exec cli iptables -t raw -A OUTPUT -p tcp --dport 21 -j CT --helper ftp',
      ]) {
        await nflab(dir, line);
      }
      const r = await nflab(dir, 'ip netns exec cli ftp -n -v -q 20 192.168.0.18', 'passive off\n' + SESSION);
      assert.ok(r.stdout.includes('200 EPRT command successful. Consider using EPSV.\n150 Here comes the directory listing.\n226 Directory send OK.\n'), r.stdout);
      assert.equal(r.stderr, '');
      const ct = await nflab(dir, 'ip netns exec cli conntrack -L');
      const lines = ct.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace(/^(tcp +6) \d+ /, '$1 N ').replace(/(sport|dport)=\d{5}/g, '$1=P'));
      assert.deepEqual(lines.sort(), [
        'tcp      6 N TIME_WAIT src=192.168.0.18 dst=192.168.0.2 sport=P dport=P src=192.168.0.2 dst=192.168.0.18 sport=P dport=P [ASSURED] mark=0 use=1',
        'tcp      6 N TIME_WAIT src=192.168.0.2 dst=192.168.0.18 sport=P dport=21 src=192.168.0.18 dst=192.168.0.2 sport=21 dport=P [ASSURED] mark=0 helper=ftp use=2',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('through a masquerading router, active mode: each EPRT rewritten 3 bytes longer, the session goes on', async () => {
    const dir = await routedLab();
    try {
      const r = await nflab(dir, 'ip netns exec cli ftp -n -v -q 20 192.168.0.18', 'passive off\n' + 'user anonymous x\nls\nls\nbye\n');
      const listing = '200 EPRT command successful. Consider using EPSV.\n150 Here comes the directory listing.\n226 Directory send OK.\n';
      assert.ok(r.stdout.includes(listing + listing + '221 Goodbye.\n'), r.stdout);
      assert.equal(r.stderr, '');
      const ct = await nflab(dir, 'ip netns exec rtr conntrack -L');
      const lines = ct.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace(/^(tcp +6) \d+ /, '$1 N ').replace(/(sport|dport)=\d{5}/g, '$1=P'));
      assert.deepEqual(lines, [
        'tcp      6 N TIME_WAIT src=10.0.0.2 dst=192.168.0.18 sport=P dport=21 src=192.168.0.18 dst=192.168.0.1 sport=21 dport=P [ASSURED] mark=0 helper=ftp use=3',
        'tcp      6 N TIME_WAIT src=192.168.0.18 dst=192.168.0.1 sport=P dport=P src=10.0.0.2 dst=192.168.0.18 sport=P dport=P [ASSURED] mark=0 use=1',
        'tcp      6 N TIME_WAIT src=192.168.0.18 dst=192.168.0.1 sport=P dport=P src=10.0.0.2 dst=192.168.0.18 sport=P dport=P [ASSURED] mark=0 use=1',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
