/**
 * The FTP tutorial's two machines on the FTP test harness: the server
 * 192.168.0.18 (vsftpd, user `test` with password `test123`, files in
 * /home/test) and the client 192.168.0.2, with the tutorial's firewall on
 * the server expressed as which connection attempts reach it.
 */
import { FakeNet, type Attempt, type FakeHost } from './ftp-harness.js';
import { vsftpd } from '../src/core/programs/vsftpd.js';
import { parseIp } from '../src/core/programs/ftp-proto.js';

/** 2026-11-20 10:00 UTC, the files' modification time. */
export const FILE_TIME = Date.UTC(2026, 10, 20, 10, 0) / 1000;

/** The server's firewall, as the tutorial builds it step by step. */
export interface ServerFirewall {
  /** Destination ports the server's INPUT accepts (21 after step 1, 20 after step 2, a passive range ...). */
  ports: (port: number) => boolean;
  /** The helper case: `-m state --state ESTABLISHED,RELATED --dport 1024:65534 -j ACCEPT` with the FTP helper assigned. */
  related?: boolean;
}

/** The tutorial's configuration (CentOS 7's, standalone on IPv4), plus extra lines. */
export function tutorialConf(extra = ''): string {
  return [
    'anonymous_enable=NO',
    'local_enable=YES',
    'write_enable=YES',
    'local_umask=022',
    'dirmessage_enable=YES',
    'xferlog_enable=YES',
    'connect_from_port_20=YES',
    'xferlog_std_format=YES',
    'listen=YES',
    'listen_ipv6=NO',
    'pam_service_name=vsftpd',
    extra,
  ].join('\n');
}

/** Two hosts, vsftpd started on the server; `fw` decides what reaches the server. */
export function tutorialLab(fw: ServerFirewall | null, conf = tutorialConf()): { net: FakeNet; server: FakeHost; client: FakeHost } {
  const net = new FakeNet();
  net.wallBase = Date.UTC(2026, 10, 21, 7, 0) / 1000;
  const server = net.host('192.168.0.18', 'server');
  const client = net.host('192.168.0.2', 'client');
  const srvAddr = parseIp('192.168.0.18')!;
  net.allow = (a: Attempt): boolean => {
    if (!fw) return true;
    if (a.dst.addr !== srvAddr) return true;
    if (fw.ports(a.dst.port)) return true;
    // the tutorial's state rule: RELATED (an expected data connection) or ESTABLISHED (a reply), ports 1024:65534
    return fw.related === true && a.dst.port >= 1024 && a.dst.port <= 65534;
  };
  const fs = server.fs;
  fs.write('/etc/passwd', 'root:x:0:0:root:/root:/bin/bash\nftp:x:14:50:FTP User:/var/ftp:/sbin/nologin\ntest:x:1000:1000::/home/test:/bin/bash\n');
  fs.write('/etc/shadow', 'root:*:19000:0:99999:7:::\ntest:test123:19000:0:99999:7:::\n');
  fs.write('/etc/vsftpd/vsftpd.conf', conf);
  fs.addDir('/home', FILE_TIME);
  fs.addDir('/home/test', FILE_TIME);
  fs.addDir('/home/test/docs', FILE_TIME);
  fs.addFile('/home/test/hello.txt', 'hello\n', FILE_TIME);
  fs.addDir('/root', FILE_TIME);
  client.fs.addDir('/root', FILE_TIME);
  net.start(server, vsftpd, ['vsftpd']);
  net.runUntil(() => false, 1000);
  return { net, server, client };
}

/** The tutorial's firewall after step 1: 21/tcp open, everything else to the server dropped. */
export const PORT21: ServerFirewall = { ports: (p) => p === 21 };
