/**
 * The service units of the lab's daemons as CentOS 7 packages them
 * (systemd unit files) and as CentOS 6 packages them (init scripts run by
 * `service`): names, aliases, descriptions, the daemon's command line and
 * the words its init script prints.
 */

/** One daemon's service. */
export interface DaemonUnit {
  /** The systemd unit (`sshd.service`). */
  unit: string;
  /** Other names `systemctl` accepts for it. */
  aliases: string[];
  /** Description= of the unit file. */
  description: string;
  /** Documentation= entries. */
  docs: string[];
  vendorPreset: 'enabled' | 'disabled';
  /**
   * Type= of the unit: with `forking` the ExecStart process exits after
   * starting the daemon, and `systemctl status` lists it.
   */
  type: 'notify' | 'forking' | 'simple';
  /** ExecStart= as `systemctl status` shows it (forking units). */
  execStart: string;
  /** The unit has ExecReload= (`systemctl reload` applies). */
  reload: boolean;
  /** What a Type=notify daemon tells systemd (the Status: line), if anything. */
  notifyStatus?: string;
  /** The program the lab runs (registry name; also the process name `ss -p` shows). */
  program: string;
  /** The daemon's command line (argv[0]'s name is the program's). */
  argv: string[];
  /** The command line `systemctl status` shows under CGroup, when the daemon renames itself. */
  title?: string;
  /** The init script's name under /etc/init.d (CentOS 6). */
  initScript: string;
  /** The name in the init script's "Starting NAME: " line. */
  startLabel: string;
  /** The init script's stop line ("Stopping sshd: ", "Shutting down postfix: "). */
  stopText: string;
  /** The name `status` reports ("openssh-daemon (pid  1234) is running..."). */
  statusName: string;
}

/** The daemons' units, by unit name. */
export const DAEMON_UNITS: readonly DaemonUnit[] = [
  {
    unit: 'sshd.service',
    aliases: ['ssh.service'],
    description: 'OpenSSH server daemon',
    docs: ['man:sshd(8)', 'man:sshd_config(5)'],
    vendorPreset: 'enabled',
    type: 'notify',
    execStart: '/usr/sbin/sshd -D $OPTIONS',
    reload: true,
    program: 'sshd',
    argv: ['/usr/sbin/sshd', '-D'],
    initScript: 'sshd',
    startLabel: 'Starting sshd: ',
    stopText: 'Stopping sshd: ',
    statusName: 'openssh-daemon',
  },
  {
    unit: 'httpd.service',
    aliases: [],
    description: 'The Apache HTTP Server',
    docs: ['man:httpd(8)', 'man:apachectl(8)'],
    vendorPreset: 'disabled',
    type: 'notify',
    execStart: '/usr/sbin/httpd $OPTIONS -DFOREGROUND',
    reload: true,
    notifyStatus: 'Total requests: 0; Current requests/sec: 0; Current traffic:   0 B/sec',
    program: 'httpd',
    argv: ['/usr/sbin/httpd', '-DFOREGROUND'],
    initScript: 'httpd',
    startLabel: 'Starting httpd: ',
    stopText: 'Stopping httpd: ',
    statusName: 'httpd',
  },
  {
    unit: 'nginx.service',
    aliases: [],
    description: 'The nginx HTTP and reverse proxy server',
    docs: [],
    vendorPreset: 'disabled',
    type: 'forking',
    execStart: '/usr/sbin/nginx',
    reload: true,
    program: 'nginx',
    argv: ['/usr/sbin/nginx'],
    title: 'nginx: master process /usr/sbin/nginx',
    initScript: 'nginx',
    startLabel: 'Starting nginx: ',
    stopText: 'Stopping nginx: ',
    statusName: 'nginx',
  },
  {
    unit: 'vsftpd.service',
    aliases: [],
    description: 'Vsftpd ftp daemon',
    docs: [],
    vendorPreset: 'disabled',
    type: 'forking',
    execStart: '/usr/sbin/vsftpd /etc/vsftpd/vsftpd.conf',
    reload: false,
    program: 'vsftpd',
    argv: ['/usr/sbin/vsftpd', '/etc/vsftpd/vsftpd.conf'],
    initScript: 'vsftpd',
    startLabel: 'Starting vsftpd for vsftpd: ',
    stopText: 'Shutting down vsftpd: ',
    statusName: 'vsftpd',
  },
  {
    unit: 'mariadb.service',
    aliases: ['mysqld.service', 'mysql.service'],
    description: 'MariaDB database server',
    docs: [],
    vendorPreset: 'disabled',
    type: 'simple',
    execStart: '/usr/bin/mysqld_safe --basedir=/usr',
    reload: false,
    program: 'mysqld',
    argv: ['/usr/libexec/mysqld', '--basedir=/usr', '--datadir=/var/lib/mysql', '--plugin-dir=/usr/lib64/mysql/plugin', '--log-error=/var/log/mariadb/mariadb.log', '--pid-file=/var/run/mariadb/mariadb.pid', '--socket=/var/lib/mysql/mysql.sock'],
    initScript: 'mysqld',
    startLabel: 'Starting mysqld:  ',
    stopText: 'Stopping mysqld:  ',
    statusName: 'mysqld',
  },
  {
    unit: 'named.service',
    aliases: [],
    description: 'Berkeley Internet Name Domain (DNS)',
    docs: [],
    vendorPreset: 'disabled',
    type: 'forking',
    execStart: '/usr/sbin/named -u named -c ${NAMEDCONF} $OPTIONS',
    reload: true,
    program: 'named',
    argv: ['/usr/sbin/named', '-u', 'named', '-c', '/etc/named.conf'],
    initScript: 'named',
    startLabel: 'Starting named: ',
    stopText: 'Stopping named: ',
    statusName: 'named',
  },
  {
    unit: 'postfix.service',
    aliases: [],
    description: 'Postfix Mail Transport Agent',
    docs: [],
    vendorPreset: 'disabled',
    type: 'forking',
    execStart: '/usr/sbin/postfix start',
    reload: true,
    program: 'master',
    argv: ['/usr/libexec/postfix/master', '-w'],
    initScript: 'postfix',
    startLabel: 'Starting postfix: ',
    stopText: 'Shutting down postfix: ',
    statusName: 'master',
  },
  {
    unit: 'dovecot.service',
    aliases: [],
    description: 'Dovecot IMAP/POP3 email server',
    docs: ['man:dovecot(1)', 'http://wiki2.dovecot.org/'],
    vendorPreset: 'disabled',
    type: 'forking',
    execStart: '/usr/sbin/dovecot',
    reload: true,
    program: 'dovecot',
    argv: ['/usr/sbin/dovecot'],
    initScript: 'dovecot',
    startLabel: 'Starting Dovecot Imap: ',
    stopText: 'Stopping Dovecot Imap: ',
    statusName: 'dovecot',
  },
  {
    unit: 'ntpd.service',
    aliases: [],
    description: 'Network Time Service',
    docs: [],
    vendorPreset: 'disabled',
    type: 'forking',
    execStart: '/usr/sbin/ntpd -u ntp:ntp $OPTIONS',
    reload: false,
    program: 'ntpd',
    argv: ['/usr/sbin/ntpd', '-u', 'ntp:ntp', '-g'],
    initScript: 'ntpd',
    startLabel: 'Starting ntpd: ',
    stopText: 'Shutting down ntpd: ',
    statusName: 'ntpd',
  },
  {
    unit: 'squid.service',
    aliases: [],
    description: 'Squid caching proxy',
    docs: [],
    vendorPreset: 'disabled',
    type: 'forking',
    execStart: '/usr/sbin/squid $SQUID_OPTS -f $SQUID_CONF',
    reload: true,
    program: 'squid',
    argv: ['/usr/sbin/squid', '-f', '/etc/squid/squid.conf'],
    initScript: 'squid',
    startLabel: 'Starting squid: ',
    stopText: 'Stopping squid: ',
    statusName: 'squid',
  },
];

/** The unit a systemctl name (with or without `.service`) or an alias names. */
export function daemonUnit(name: string): DaemonUnit | undefined {
  const full = name.endsWith('.service') ? name : `${name}.service`;
  return DAEMON_UNITS.find((u) => u.unit === full || u.aliases.includes(full));
}

/** The unit whose init script (CentOS 6 /etc/init.d/NAME) is `name`. */
export function initScriptUnit(name: string): DaemonUnit | undefined {
  return DAEMON_UNITS.find((u) => u.initScript === name);
}
