/**
 * vsftpd's configuration file (vsftpd.conf(5)): `name=value` lines, `#`
 * comments, booleans YES/NO/TRUE/FALSE/1/0 in any case, and the daemon's
 * refusal of a name it does not know ("500 OOPS: unrecognised variable in
 * config file: NAME"). Every setting vsftpd 3.0.3 accepts is accepted;
 * the ones the lab's vsftpd acts on are typed in `VsftpdConf`.
 */

/** The settings the lab's vsftpd uses, with vsftpd 3.0.3's defaults. */
export interface VsftpdConf {
  listen: boolean;
  listen_ipv6: boolean;
  listen_port: number;
  listen_address: string | null;
  anonymous_enable: boolean;
  local_enable: boolean;
  write_enable: boolean;
  download_enable: boolean;
  dirlist_enable: boolean;
  pasv_enable: boolean;
  port_enable: boolean;
  pasv_min_port: number;
  pasv_max_port: number;
  pasv_address: string | null;
  pasv_promiscuous: boolean;
  port_promiscuous: boolean;
  connect_from_port_20: boolean;
  ftp_data_port: number;
  accept_timeout: number;
  connect_timeout: number;
  data_connection_timeout: number;
  idle_session_timeout: number;
  ftpd_banner: string | null;
  local_umask: number;
  anon_umask: number;
  file_open_mode: number;
  anon_root: string | null;
  local_root: string | null;
  ftp_username: string;
  use_localtime: boolean;
  hide_ids: boolean;
  force_dot_files: boolean;
  no_anon_password: boolean;
  anon_upload_enable: boolean;
  anon_world_readable_only: boolean;
  chroot_local_user: boolean;
  userlist_enable: boolean;
  userlist_deny: boolean;
  userlist_file: string;
  max_login_fails: number;
  delay_failed_login: number;
  ssl_enable: boolean;
  background: boolean;
}

/** vsftpd 3.0.3's compiled-in defaults. */
export function defaultConf(): VsftpdConf {
  return {
    listen: false,
    listen_ipv6: false,
    listen_port: 21,
    listen_address: null,
    anonymous_enable: true,
    local_enable: false,
    write_enable: false,
    download_enable: true,
    dirlist_enable: true,
    pasv_enable: true,
    port_enable: true,
    pasv_min_port: 0,
    pasv_max_port: 0,
    pasv_address: null,
    pasv_promiscuous: false,
    port_promiscuous: false,
    connect_from_port_20: false,
    ftp_data_port: 20,
    accept_timeout: 60,
    connect_timeout: 60,
    data_connection_timeout: 300,
    idle_session_timeout: 300,
    ftpd_banner: null,
    local_umask: 0o77,
    anon_umask: 0o77,
    file_open_mode: 0o666,
    anon_root: null,
    local_root: null,
    ftp_username: 'ftp',
    use_localtime: false,
    hide_ids: false,
    force_dot_files: false,
    no_anon_password: false,
    anon_upload_enable: false,
    anon_world_readable_only: true,
    chroot_local_user: false,
    userlist_enable: false,
    userlist_deny: true,
    userlist_file: '/etc/vsftpd.user_list',
    max_login_fails: 3,
    delay_failed_login: 1,
    ssl_enable: false,
    background: false,
  };
}

const BOOL_NAMES = (
  'anonymous_enable local_enable pasv_enable port_enable chroot_local_user write_enable anon_upload_enable ' +
  'anon_mkdir_write_enable anon_other_write_enable chown_uploads connect_from_port_20 xferlog_enable ' +
  'dirmessage_enable anon_world_readable_only async_abor_enable ascii_upload_enable ascii_download_enable ' +
  'one_process_model xferlog_std_format pasv_promiscuous deny_email_enable chroot_list_enable ' +
  'setproctitle_enable text_userdb_names ls_recurse_enable log_ftp_protocol guest_enable userlist_enable ' +
  'userlist_deny use_localtime check_shell hide_ids listen port_promiscuous passwd_chroot_enable ' +
  'no_anon_password tcp_wrappers use_sendfile force_dot_files listen_ipv6 dual_log_enable syslog_enable ' +
  'background virtual_use_local_privs session_support download_enable dirlist_enable chmod_enable ' +
  'secure_email_list_enable run_as_launching_user no_log_lock ssl_enable allow_anon_ssl ' +
  'force_local_logins_ssl force_local_data_ssl ssl_sslv2 ssl_sslv3 ssl_tlsv1 tilde_user_enable ' +
  'force_anon_logins_ssl force_anon_data_ssl mdtm_write lock_upload_files pasv_addr_resolve debug_ssl ' +
  'require_cert validate_cert strict_ssl_read_eof strict_ssl_write_shutdown ssl_request_cert ' +
  'delete_failed_uploads implicit_ssl ptrace_sandbox require_ssl_reuse isolate isolate_network ftp_enable ' +
  'http_enable seccomp_sandbox allow_writeable_chroot'
).split(' ');

const UINT_NAMES = (
  'accept_timeout connect_timeout local_umask anon_umask ftp_data_port idle_session_timeout ' +
  'data_connection_timeout pasv_min_port pasv_max_port anon_max_rate local_max_rate listen_port max_clients ' +
  'file_open_mode max_per_ip trans_chunk_size delay_failed_login delay_successful_login max_login_fails ' +
  'chown_upload_mode'
).split(' ');

const STR_NAMES = (
  'secure_chroot_dir ftp_username chown_username xferlog_file vsftpd_log_file message_file nopriv_user ' +
  'ftpd_banner banned_email_file chroot_list_file pam_service_name guest_username userlist_file anon_root ' +
  'local_root banner_file pasv_address listen_address user_config_dir listen_address6 cmds_allowed hide_file ' +
  'deny_file user_sub_token email_password_file rsa_cert_file dsa_cert_file ssl_ciphers rsa_private_key_file ' +
  'dsa_private_key_file ca_certs_file cmds_denied'
).split(' ');

const BOOLS = new Set(BOOL_NAMES);
const UINTS = new Set(UINT_NAMES);
const STRS = new Set(STR_NAMES);

/** Settings given as octal in vsftpd.conf when they start with 0. */
const OCTAL = new Set(['local_umask', 'anon_umask', 'file_open_mode', 'chown_upload_mode']);

/** The parsed file, or the line vsftpd prints to stderr when it refuses it (without "500 OOPS: "). */
export type ConfResult = { conf: VsftpdConf; raw: Record<string, string> } | { error: string };

/** Parses a vsftpd.conf text on top of the defaults. */
export function parseVsftpdConf(text: string): ConfResult {
  const conf = defaultConf() as unknown as Record<string, unknown>;
  const raw: Record<string, string> = {};
  for (const line0 of text.split('\n')) {
    if (line0 === '' || line0.startsWith('#') || /^\s*$/.test(line0)) continue;
    const line = line0.replace(/^\s+/, '');
    const eq = line.indexOf('=');
    const name = eq < 0 ? line : line.slice(0, eq);
    const value = eq < 0 ? '' : line.slice(eq + 1);
    if (STRS.has(name)) {
      raw[name] = value;
      if (name in conf) conf[name] = value === '' ? (name === 'ftp_username' || name === 'userlist_file' ? conf[name] : null) : value;
      continue;
    }
    if (value === '') return { error: `missing value in config file for: ${name}` };
    if (BOOLS.has(name)) {
      const v = value.toUpperCase();
      let b: boolean;
      if (v === 'YES' || v === 'TRUE' || v === '1') b = true;
      else if (v === 'NO' || v === 'FALSE' || v === '0') b = false;
      else return { error: `bad bool value in config file for: ${name}` };
      raw[name] = value;
      if (name in conf) conf[name] = b;
      continue;
    }
    if (UINTS.has(name)) {
      raw[name] = value;
      if (name in conf) conf[name] = OCTAL.has(name) && value.startsWith('0') ? parseLeadingInt(value, 8) : parseLeadingInt(value, 10);
      continue;
    }
    return { error: `unrecognised variable in config file: ${name}` };
  }
  return { conf: conf as unknown as VsftpdConf, raw };
}

/** atoi-like: the leading digits, 0 when there are none. */
function parseLeadingInt(text: string, radix: number): number {
  const m = (radix === 8 ? /^[0-7]+/ : /^\d+/).exec(text);
  return m ? parseInt(m[0], radix) : 0;
}

/** The passive port range vsftpd draws from: [min, max] after its clamping of pasv_min_port and pasv_max_port. */
export function pasvRange(conf: VsftpdConf): { min: number; max: number } {
  let min = 1024;
  let max = 65535;
  if (conf.pasv_min_port > min && conf.pasv_min_port <= max) min = conf.pasv_min_port;
  if (conf.pasv_max_port >= min && conf.pasv_max_port < max) max = conf.pasv_max_port;
  return { min, max };
}

/** A port of the range from 16 random bits, scaled as vsftpd scales them. */
export function pasvPort(range: { min: number; max: number }, random16: number): number {
  return Math.floor(range.min + (random16 / 65536) * (range.max - range.min + 1));
}

/**
 * The configuration file the distribution's package installs, for the
 * two places vsftpd looks: CentOS 7's /etc/vsftpd/vsftpd.conf and
 * Debian 12's /etc/vsftpd.conf (their settings; the comments are the
 * lab's). Undefined for any other path.
 */
export function packagedConf(path: string): string | undefined {
  if (path === '/etc/vsftpd/vsftpd.conf') {
    return [
      '# vsftpd configuration as CentOS 7 installs it (see vsftpd.conf(5)).',
      '# Anonymous logins, local users with write access, standalone on IPv6',
      '# (which takes IPv4 connections too).',
      'anonymous_enable=YES',
      'local_enable=YES',
      'write_enable=YES',
      'local_umask=022',
      'dirmessage_enable=YES',
      'xferlog_enable=YES',
      'connect_from_port_20=YES',
      'xferlog_std_format=YES',
      'listen=NO',
      'listen_ipv6=YES',
      '',
      'pam_service_name=vsftpd',
      'userlist_enable=YES',
      'tcp_wrappers=YES',
      '',
    ].join('\n');
  }
  if (path === '/etc/vsftpd.conf') {
    return [
      '# vsftpd configuration as Debian 12 installs it (see vsftpd.conf(5)).',
      '# Local users only, read-only, standalone on IPv6 (which takes IPv4',
      '# connections too).',
      'listen=NO',
      'listen_ipv6=YES',
      'anonymous_enable=NO',
      'local_enable=YES',
      'dirmessage_enable=YES',
      'use_localtime=YES',
      'xferlog_enable=YES',
      'connect_from_port_20=YES',
      'secure_chroot_dir=/var/run/vsftpd/empty',
      'pam_service_name=vsftpd',
      'rsa_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem',
      'rsa_private_key_file=/etc/ssl/private/ssl-cert-snakeoil.key',
      'ssl_enable=NO',
      '',
    ].join('\n');
  }
  return undefined;
}

/** System accounts both distributions keep out of FTP (CentOS 7's list; Debian's differs only in order and a few names). */
const SYSTEM_USERS_CENTOS = ['root', 'bin', 'daemon', 'adm', 'lp', 'sync', 'shutdown', 'halt', 'mail', 'news', 'uucp', 'operator', 'games', 'nobody'];
const SYSTEM_USERS_DEBIAN = ['root', 'daemon', 'bin', 'sys', 'sync', 'games', 'man', 'lp', 'mail', 'news', 'uucp', 'nobody'];

/**
 * The other files the package installs beside its configuration: the
 * user lists of PAM's listfile (ftpusers) and, on CentOS, of vsftpd's
 * userlist_enable (user_list). Path to text.
 */
export function packagedFiles(confPath: string): Record<string, string> {
  const list = (header: string, users: string[]): string => `${header}\n${users.join('\n')}\n`;
  if (confPath === '/etc/vsftpd/vsftpd.conf') {
    return {
      '/etc/vsftpd/ftpusers': list('# Users PAM refuses FTP logins to (one per line).', SYSTEM_USERS_CENTOS),
      '/etc/vsftpd/user_list': list('# Users vsftpd refuses before the password (userlist_enable=YES, userlist_deny=YES).', SYSTEM_USERS_CENTOS),
    };
  }
  if (confPath === '/etc/vsftpd.conf') return { '/etc/ftpusers': list('# Users PAM refuses FTP logins to (one per line).', SYSTEM_USERS_DEBIAN) };
  return {};
}
