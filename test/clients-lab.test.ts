/**
 * The clients in a lab, end to end through nflab's command line: the
 * LEMON/APPLE walkthrough's ping (with ARP on the first request), ping
 * stopped as at Ctrl-C, arp, a background nc listener fed by a client in
 * the same script and, resumed, by a later command, ssh and nc against the
 * lab's sshd, a dropped SSH connect reaching the kernel's timeout (minutes
 * of virtual time in well under a second), traceroute.
 */
import { test } from 'node:test';
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadRunNflab } from './diff/nflab.js';

test('clients in a two-namespace lab', async () => {
  const runNflab = await loadRunNflab();
  const saved = process.env['NFLAB_EPOCH'];
  process.env['NFLAB_EPOCH'] = '1763700000';
  const lab = mkdtempSync('/tmp/nflab-clients-lab-');
  try {
    mkdirSync(join(lab, 'fs', 'etc'), { recursive: true });
    mkdirSync(join(lab, 'fs', 'root'), { recursive: true });
    writeFileSync(join(lab, 'fs', 'etc', 'hosts'), '127.0.0.1\tlocalhost\n');
    const run = async (line: string, stdin?: string): Promise<{ stdout: string; stderr: string; status: number }> => {
      const argv = line.split(' ');
      const r = await runNflab(argv, stdin === undefined ? { lab } : { lab, stdin });
      return { stdout: r.stdout, stderr: r.stderr, status: r.status };
    };
    for (const line of [
      'ip link add lemon_eth0 type veth peer name apple_eth0',
      'ip netns add LEMON',
      'ip netns add APPLE',
      'ip link set lemon_eth0 netns LEMON',
      'ip link set apple_eth0 netns APPLE',
      'ip netns exec LEMON ip link set lemon_eth0 up',
      'ip netns exec APPLE ip link set apple_eth0 up',
      'ip netns exec LEMON ip addr add 10.10.10.2/24 dev lemon_eth0',
      'ip netns exec APPLE ip addr add 10.10.10.3/24 dev apple_eth0',
    ]) {
      assert.deepEqual(await run(line), { stdout: '', stderr: '', status: 0 }, line);
    }
    assert.deepEqual(await run('ip netns exec LEMON ping -c 3 10.10.10.3'), {
      stdout:
        'PING 10.10.10.3 (10.10.10.3) 56(84) bytes of data.\n' +
        '64 bytes from 10.10.10.3: icmp_seq=1 ttl=64 time=0.040 ms\n' +
        '64 bytes from 10.10.10.3: icmp_seq=2 ttl=64 time=0.020 ms\n' +
        '64 bytes from 10.10.10.3: icmp_seq=3 ttl=64 time=0.020 ms\n' +
        '\n--- 10.10.10.3 ping statistics ---\n' +
        '3 packets transmitted, 3 received, 0% packet loss, time 2000ms\n' +
        'rtt min/avg/max/mdev = 0.020/0.026/0.040/0.009 ms\n',
      stderr: '',
      status: 0,
    });
    const forever = await run('ip netns exec LEMON ping 10.10.10.3');
    assert.equal(
      forever.stdout,
      'PING 10.10.10.3 (10.10.10.3) 56(84) bytes of data.\n' +
        '64 bytes from 10.10.10.3: icmp_seq=1 ttl=64 time=0.020 ms\n' +
        '64 bytes from 10.10.10.3: icmp_seq=2 ttl=64 time=0.020 ms\n' +
        '64 bytes from 10.10.10.3: icmp_seq=3 ttl=64 time=0.020 ms\n' +
        '64 bytes from 10.10.10.3: icmp_seq=4 ttl=64 time=0.020 ms\n' +
        '^C\n--- 10.10.10.3 ping statistics ---\n' +
        '4 packets transmitted, 4 received, 0% packet loss, time 3000ms\n' +
        'rtt min/avg/max/mdev = 0.020/0.020/0.020/0.000 ms\n',
    );
    assert.equal(
      (await run('ip netns exec LEMON arp -n')).stdout,
      'Address                  HWtype  HWaddress           Flags Mask            Iface\n' + '10.10.10.3               ether   02:6e:6c:00:00:01   C                     lemon_eth0\n',
    );

    writeFileSync(join(lab, 'fs', 'root', 'hello'), 'hello\n');
    writeFileSync(join(lab, 'nc.sh'), 'ip netns exec APPLE nc -l 9000 &\nip netns exec LEMON nc -N 10.10.10.3 9000 < /root/hello\nip netns exec APPLE nc -lk 9001 &\n');
    assert.deepEqual(await run(`run ${join(lab, 'nc.sh')}`), { stdout: 'hello\n', stderr: '', status: 0 });
    assert.deepEqual(await run('ip netns exec LEMON nc -N 10.10.10.3 9001', 'later\n'), { stdout: 'later\n', stderr: '', status: 0 });

    await run('ip netns exec APPLE sshd');
    assert.deepEqual(await run('ip netns exec LEMON ssh -o BatchMode=yes 10.10.10.3 true'), { stdout: '', stderr: 'Host key verification failed.\r\n', status: 255 });
    assert.deepEqual(await run('ip netns exec LEMON nc -zv 10.10.10.3 21-22'), {
      stdout: '',
      stderr: 'nc: connect to 10.10.10.3 port 21 (tcp) failed: Connection refused\nConnection to 10.10.10.3 22 port [tcp/ssh] succeeded!\n',
      status: 0,
    });
    await run('ip netns exec APPLE iptables -A INPUT -p tcp --dport 22 -j DROP');
    const started = Date.now();
    assert.deepEqual(await run('ip netns exec LEMON ssh 10.10.10.3'), { stdout: '', stderr: 'ssh: connect to host 10.10.10.3 port 22: Connection timed out\r\n', status: 255 });
    assert.ok(Date.now() - started < 1000, 'two minutes of SYN retries take well under a second');
    assert.deepEqual(await run('ip netns exec LEMON traceroute 10.10.10.3'), {
      stdout: 'traceroute to 10.10.10.3 (10.10.10.3), 30 hops max, 60 byte packets\n 1  10.10.10.3 (10.10.10.3)  0.020 ms  0.020 ms  0.020 ms\n',
      stderr: '',
      status: 0,
    });
  } finally {
    if (saved === undefined) delete process.env['NFLAB_EPOCH'];
    else process.env['NFLAB_EPOCH'] = saved;
    rmSync(lab, { recursive: true, force: true });
  }
});
