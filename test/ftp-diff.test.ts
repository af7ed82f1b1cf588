/**
 * The FTP programs against the real ones: Debian's vsftpd 3.0.3 in one
 * network namespace (with a private passwd/shadow and /home in its own
 * mount namespace), the tutorial's iptables rules there, and the real
 * tnftp in a second namespace joined by a veth. Each session runs twice
 * on the lab side: in nflab itself (two lab hosts joined by a wire, the
 * rules given to nflab's iptables, the ftp conntrack helper, vsftpd and
 * ftp started by the CLI), and on the FTP test harness (whose firewall
 * predicate stands for the rules, and whose files can be listed). Client
 * output (stdout and stderr) must be identical once the randomly drawn
 * ports and the transfer rates are masked, and so must the outcome
 * (listing shown, connection timed out). On the nflab side the listing
 * lines are left out of the comparison: the CLI's host files cannot list a
 * directory yet. curl checks each case's outcome on the real side
 * independently.
 *
 * tnftp runs with -q (its stall timeout) so the timeout cases take
 * seconds, not minutes; the same paths run as with its 60 s default.
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { guardKernel } from './diff/suite.js';
import { tutorialConf, tutorialLab, type ServerFirewall } from './ftp-scenario.js';
import { ftp } from '../src/core/programs/ftp.js';
import { connectTcp, parseIp, readAll } from '../src/core/programs/ftp-proto.js';
import type { Program } from '../src/core/programs/api.js';
import { runNflab } from '../src/cli/main.js';

const PREFIX = process.env['NFLAB_NETNS_PREFIX'] ?? 'nflabt-';
const ENV: NodeJS.ProcessEnv = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', LC_ALL: 'C', HOME: '/root' };
const SERVER = '192.168.0.18';
/** tnftp's -q for every case: seconds before a stalled connect or reply is given up. */
const QUIT = 4;

/** One session of the comparison. */
interface FtpCase {
  name: string;
  /** iptables commands run in the server's namespace (after the base rules). */
  rules: string[][];
  /** The same firewall for the harness. */
  fw: ServerFirewall;
  /** Extra vsftpd.conf lines. */
  conf?: string;
  /** tnftp's options (before the host). */
  opts: string[];
  stdin: string;
  /** tnftp's listing succeeds. */
  lists: boolean;
  /** curl's listing (with the right password) succeeds on the real side; `lists` when absent. */
  curlLists?: boolean;
  /** curl's mode for the outcome check. */
  curl: 'passive' | 'active';
  /** No server running. */
  noServer?: boolean;
  /** Without the tutorial's base rules (nothing filtered). */
  open?: boolean;
  /**
   * What the nflab side runs when it must differ from `stdin`: a lab host's
   * files (the CLI's HostFs) cannot tell a missing directory from an
   * existing one yet, so `cd nowhere` is left out there.
   */
  nflabStdin?: string;
}

/** The tutorial's rules before any FTP rule: ssh from .2, all from .1 and 8.8.8.8, the rest to the server dropped. */
const BASE: string[][] = [
  ['iptables', '-A', 'INPUT', '-s', '192.168.0.2', '-d', SERVER, '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT'],
  ['iptables', '-A', 'INPUT', '-s', '192.168.0.1', '-d', SERVER, '-j', 'ACCEPT'],
  ['iptables', '-A', 'INPUT', '-s', '8.8.8.8', '-d', SERVER, '-j', 'ACCEPT'],
  ['iptables', '-A', 'INPUT', '-d', SERVER, '-j', 'DROP'],
];
const OPEN21 = ['iptables', '-I', 'INPUT', '-s', '0.0.0.0/0', '-d', SERVER, '-p', 'tcp', '--dport', '21', '-j', 'ACCEPT'];
const OPEN20 = ['iptables', '-I', 'INPUT', '-s', '0.0.0.0/0', '-d', SERVER, '-p', 'tcp', '--dport', '20', '-j', 'ACCEPT'];
const RANGE = ['iptables', '-I', 'INPUT', '-s', '0.0.0.0/0', '-d', SERVER, '-p', 'tcp', '--dport', '10090:10100', '-j', 'ACCEPT'];
const HELPER = ['iptables', '-t', 'raw', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '21', '-j', 'CT', '--helper', 'ftp'];
const STATE = ['iptables', '-I', 'INPUT', '-m', 'state', '-s', '0.0.0.0/0', '-d', SERVER, '-p', 'tcp', '--dport', '1024:65534', '--state', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'];
const RANGE_CONF = 'pasv_enable=Yes\npasv_min_port=10090\npasv_max_port=10100';
const LS = 'user test test123\nls\nbye\n';

const CASES: FtpCase[] = [
  { name: 'passive, only 21 open', rules: [OPEN21], fw: { ports: (p) => p === 21 }, opts: ['-nv'], stdin: LS, lists: false, curl: 'passive' },
  { name: 'active, only 21 open', rules: [OPEN21], fw: { ports: (p) => p === 21 }, opts: ['-nvA'], stdin: LS, lists: false, curl: 'active' },
  { name: 'active, 20 and 21 open', rules: [OPEN21, OPEN20], fw: { ports: (p) => p === 21 || p === 20 }, opts: ['-nvA'], stdin: LS, lists: true, curl: 'active' },
  {
    name: 'passive, port range configured and opened',
    rules: [OPEN21, RANGE],
    fw: { ports: (p) => p === 21 || (p >= 10090 && p <= 10100) },
    conf: RANGE_CONF,
    opts: ['-nv'],
    stdin: LS,
    lists: true,
    curl: 'passive',
  },
  {
    name: 'passive, port range configured but not opened',
    rules: [OPEN21],
    fw: { ports: (p) => p === 21 },
    conf: RANGE_CONF,
    opts: ['-nv'],
    stdin: LS,
    lists: false,
    curl: 'passive',
  },
  {
    name: 'passive, ftp helper and a RELATED rule',
    rules: [OPEN21, HELPER, STATE],
    fw: { ports: (p) => p === 21, related: true },
    opts: ['-nv'],
    stdin: LS,
    lists: true,
    curl: 'passive',
  },
  {
    name: 'passive, a RELATED rule without CT --helper (no helper is assigned by itself today)',
    rules: [OPEN21, STATE],
    fw: { ports: (p) => p === 21 },
    opts: ['-nv'],
    stdin: LS,
    lists: false,
    curl: 'passive',
  },
  {
    name: 'active, ftp helper and a RELATED rule (20 is outside 1024:65534)',
    rules: [OPEN21, HELPER, STATE],
    fw: { ports: (p) => p === 21, related: true },
    opts: ['-nvA'],
    stdin: LS,
    lists: false,
    curl: 'active',
  },
  {
    name: 'commands with everything open',
    rules: [],
    open: true,
    fw: { ports: () => true },
    opts: ['-nv'],
    stdin: 'user test test123\npwd\nget hello.txt\nput up1.txt\nls\nnlist\ncd docs\npwd\ncd nowhere\nbye\n',
    nflabStdin: 'user test test123\npwd\nget hello.txt\nput up1.txt\nls\nnlist\ncd docs\npwd\nbye\n',
    lists: true,
    curl: 'passive',
  },
  { name: 'quiet session', rules: [], open: true, fw: { ports: () => true }, opts: ['-n'], stdin: 'user test test123\nls\nget hello.txt\nbye\n', lists: true, curl: 'passive' },
  { name: 'auto-login from standard input', rules: [], open: true, fw: { ports: () => true }, opts: ['-v'], stdin: 'test\ntest123\nls\nbye\n', lists: true, curl: 'passive' },
  { name: 'auto-login, quiet', rules: [], open: true, fw: { ports: () => true }, opts: [], stdin: 'test\ntest123\nls\nbye\n', lists: true, curl: 'passive' },
  {
    name: 'toggles, lcd, binary and ascii, close and open again',
    rules: [],
    open: true,
    fw: { ports: () => true },
    opts: ['-nv'],
    stdin: 'prompt\nprompt\nhash\nhash\nlcd /tmp\nlcd\nverbose\nverbose\nuser test test123\nbinary\nascii\nclose\nclose\nopen 192.168.0.18\nbye\n',
    lists: false,
    curlLists: true,
    curl: 'passive',
  },
  {
    name: 'anonymous login, chrooted, no uploads',
    rules: [],
    open: true,
    fw: { ports: () => true },
    conf: 'anonymous_enable=YES',
    opts: ['-nv'],
    stdin: 'user anonymous guest@\npwd\nls\nput up1.txt\nbye\n',
    lists: true,
    curl: 'passive',
  },
  { name: 'wrong password', rules: [], open: true, fw: { ports: () => true }, opts: ['-n'], stdin: 'user test wrong\nls\nbye\n', lists: false, curlLists: true, curl: 'passive' },
  { name: 'no server', rules: [], open: true, fw: { ports: () => true }, opts: ['-nv'], stdin: 'ls\nuser test x\nbye\n', lists: false, curl: 'passive', noServer: true },
];

/** Masks what differs from run to run: drawn ports, transfer rates. */
export function maskFtp(text: string): string {
  return text
    .replace(/\(\|\|\|\d+\|\)/g, '(|||PORT|)')
    .replace(/192\.168\.0\.18:\d+'/g, (m) => (m === "192.168.0.18:21'" ? m : "192.168.0.18:PORT'"))
    .replace(/\(\d+,\d+,\d+,\d+,\d+,\d+\)/g, '(H,P)')
    .replace(/in (\d\d:\d\d) \(\d+\.\d\d [KMG]iB\/s\)/g, 'in $1 (RATE)');
}

interface Outcome {
  out: string;
  err: string;
  status: number;
  curlOk?: boolean;
  /** Wall clock when the session started (seconds). */
  startSec?: number;
}

function run(argv: string[], stdin = '', cwd?: string, timeoutMs = 30_000): Promise<{ out: string; err: string; status: number }> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: ENV, cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
    child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ out, err, status: code ?? -1 });
    });
    child.stdin.end(stdin);
  });
}

function sync(argv: string[]): void {
  const r = spawnSync(argv[0]!, argv.slice(1), { env: ENV, encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
}

/** The file time both sides give the files: yesterday at 10:00 UTC. */
function fileTime(): number {
  const d = new Date(Date.now() - 86_400_000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 10, 0) / 1000;
}

const made: string[] = [];

/** Runs a case with the real tools in two fresh namespaces. */
async function realSide(c: FtpCase, n: number, mtime: number): Promise<Outcome> {
  const tag = `${process.pid % 100000}x${n}`;
  const sns = `${PREFIX}fs${tag}`;
  const cns = `${PREFIX}fc${tag}`;
  const dir = `/tmp/${PREFIX}ftp-${tag}`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(`${dir}/client`, { recursive: true });
  const hash = spawnSync('openssl', ['passwd', '-6', '-salt', 'nflabsalt', 'test123'], { encoding: 'utf8' }).stdout.trim();
  const base = (f: string): string => spawnSync('cat', [f], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l && !l.startsWith('test:')).join('\n');
  writeFileSync(`${dir}/passwd`, `${base('/etc/passwd')}\ntest:x:1000:1000::/home/test:/bin/bash\n`);
  writeFileSync(`${dir}/shadow`, `${base('/etc/shadow')}\ntest:${hash}:19000:0:99999:7:::\n`, { mode: 0o640 });
  writeFileSync(`${dir}/group`, `${base('/etc/group')}\ntest:x:1000:\n`);
  writeFileSync(`${dir}/vsftpd.conf`, `${tutorialConf(c.conf ?? '')}\nbackground=NO\nsecure_chroot_dir=/var/run/vsftpd/empty\n`);
  writeFileSync(`${dir}/client/up1.txt`, 'from-client\n');
  made.push(sns, cns);
  const veth = `nfv${tag}`.slice(0, 13);
  sync(['ip', 'netns', 'add', sns]);
  sync(['ip', 'netns', 'add', cns]);
  sync(['ip', 'link', 'add', `${veth}a`, 'netns', sns, 'type', 'veth', 'peer', 'name', `${veth}b`, 'netns', cns]);
  sync(['ip', '-n', sns, 'addr', 'add', `${SERVER}/24`, 'dev', `${veth}a`]);
  sync(['ip', '-n', cns, 'addr', 'add', '192.168.0.2/24', 'dev', `${veth}b`]);
  for (const [ns, dev] of [[sns, `${veth}a`], [cns, `${veth}b`]] as const) {
    sync(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    sync(['ip', '-n', ns, 'link', 'set', dev, 'up']);
  }
  for (const r of [...(c.open ? [] : BASE), ...c.rules]) {
    // BASE appends, the FTP rules insert before it, as the tutorial does
    sync(['ip', 'netns', 'exec', sns, ...r]);
  }
  const stamp = new Date(mtime * 1000).toISOString();
  const script = [
    `mount --bind ${dir}/passwd /etc/passwd`,
    `mount --bind ${dir}/shadow /etc/shadow`,
    `mount --bind ${dir}/group /etc/group`,
    'mount -t tmpfs none /home',
    'mkdir -p /home/test/docs',
    'printf "hello\\n" > /home/test/hello.txt',
    'chown -R 1000:1000 /home/test',
    `touch -d ${stamp} /home/test/hello.txt /home/test/docs`,
    `exec vsftpd ${dir}/vsftpd.conf`,
  ].join('; ');
  const server = c.noServer ? null : spawn('ip', ['netns', 'exec', sns, 'unshare', '-m', 'bash', '-c', script], { env: ENV, stdio: 'ignore' });
  try {
    if (server) {
      for (let i = 0; i < 50; i++) {
        const ss = spawnSync('ip', ['netns', 'exec', sns, 'ss', '-Hltn', 'sport = :21'], { encoding: 'utf8' });
        if (ss.stdout.includes(':21')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const startSec = Date.now() / 1000;
    const raw = (c as FtpCase & { rawInput?: string }).rawInput;
    if (raw !== undefined) return { ...(await run(['ip', 'netns', 'exec', cns, 'nc', SERVER, '21'], raw)), startSec };
    const r = await run(['ip', 'netns', 'exec', cns, 'ftp', ...c.opts, '-q', String(QUIT), SERVER], c.stdin, `${dir}/client`);
    const curl = await run([
      'ip', 'netns', 'exec', cns, 'curl', '-s', '--max-time', String(QUIT + 2), '--connect-timeout', String(QUIT),
      ...(c.curl === 'active' ? ['--ftp-port', '-'] : []), `ftp://test:test123@${SERVER}/`,
    ]);
    return { ...r, startSec, curlOk: curl.status === 0 && curl.out.includes('hello.txt') };
  } finally {
    if (server?.pid) {
      // ip netns exec runs vsftpd as its child: end the whole namespace's processes we started
      const pids = spawnSync('ip', ['netns', 'pids', sns], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
      for (const p of pids) spawnSync('kill', [p]);
    }
    for (const ns of [sns, cns]) spawnSync('ip', ['netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same case with the lab's programs on the harness. */
function labSide(c: FtpCase, mtime: number, startSec: number): Outcome {
  const { net, server, client } = tutorialLab(c.noServer ? null : c.fw, tutorialConf(c.conf ?? ''));
  net.wallBase = startSec;
  for (const d of ['/home/test', '/home/test/docs', '/var/ftp']) server.fs.addDir(d, mtime, 40);
  server.fs.addFile('/home/test/hello.txt', 'hello\n', mtime);
  if (c.noServer) {
    // no vsftpd: nothing listens on 21
    for (const l of server.listeners.values()) l.close();
  }
  client.fs.write('/root/up1.txt', 'from-client\n');
  const r = net.runProgram(client, ftp, ['ftp', ...c.opts, '-q', String(QUIT), SERVER], c.stdin);
  return { out: r.out, err: r.err, status: r.status };
}

/**
 * Takes out what a lab host's files cannot show yet: the listing lines
 * (the CLI's HostFs has no directory listing, so a listing there is
 * empty) and NLST's names.
 */
export function dropListing(text: string): string {
  return text
    .replace(/(Name \([^)]*\): )/g, '$1\n')
    .split('\n')
    .filter((l) => !/^[-dl][rwx-]{9} /.test(l) && !['docs', 'hello.txt', 'up1.txt'].includes(l))
    .join('\n');
}

/** Whether a LIST went through: its 150 and 226 replies when verbose, else the listed file. */
function listingCame(c: FtpCase, out: string): boolean {
  if (c.opts.some((o) => o.includes('v'))) return /150 Here comes the directory listing\.\n(.*\n)*226 Directory send OK\./.test(out);
  return out.includes('hello.txt');
}

/** The same case in nflab itself: two lab hosts joined by a wire, the rules with nflab's iptables, vsftpd and ftp run by the CLI. */
async function nflabSide(c: FtpCase, n: number): Promise<Outcome> {
  const lab = `/tmp/${PREFIX}ftplab-${process.pid % 100000}x${n}`;
  rmSync(lab, { recursive: true, force: true });
  const sh = async (args: string[], stdin?: string): Promise<{ stdout: string; stderr: string; status: number }> => {
    const r = await runNflab(args, { lab, stdin });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };
  const must = async (args: string[]): Promise<void> => {
    const r = await sh(args);
    if (r.status !== 0) throw new Error(`nflab ${args.join(' ')}: ${r.stderr}`);
  };
  try {
    await must(['host', 'add', 'server']);
    await must(['wire', 'add', 'w1', 'main:eth1', 'server:eth0']);
    for (const [host, dev, addr] of [['main', 'eth1', '192.168.0.2/24'], ['server', 'eth0', `${SERVER}/24`]] as const) {
      await must(['--host', host, 'ip', 'addr', 'add', addr, 'dev', dev]);
      await must(['--host', host, 'ip', 'link', 'set', dev, 'up']);
      await must(['--host', host, 'ip', 'link', 'set', 'lo', 'up']);
    }
    const fs = `${lab}/hosts/server/fs`;
    mkdirSync(`${fs}/etc/vsftpd`, { recursive: true });
    mkdirSync(`${fs}/home/test/docs`, { recursive: true });
    writeFileSync(`${fs}/etc/passwd`, 'root:x:0:0:root:/root:/bin/bash\nftp:x:103:106:ftp daemon,,,:/srv/ftp:/usr/sbin/nologin\ntest:x:1000:1000::/home/test:/bin/bash\n');
    writeFileSync(`${fs}/etc/shadow`, 'test:test123:19000:0:99999:7:::\n');
    writeFileSync(`${fs}/etc/vsftpd/vsftpd.conf`, tutorialConf(c.conf ?? ''));
    writeFileSync(`${fs}/home/test/hello.txt`, 'hello\n');
    mkdirSync(`${lab}/fs/root`, { recursive: true });
    writeFileSync(`${lab}/fs/root/up1.txt`, 'from-client\n');
    for (const r of [...(c.open ? [] : BASE), ...c.rules]) await must(['--host', 'server', ...r]);
    // vsftpd goes to the background at once (the command's status says nothing yet: see the report)
    if (!c.noServer) await sh(['--host', 'server', 'vsftpd']);
    const r = await sh(['ftp', ...c.opts, '-q', String(QUIT), SERVER], c.nflabStdin ?? c.stdin);
    return { out: r.stdout, err: r.stderr, status: r.status };
  } finally {
    rmSync(lab, { recursive: true, force: true });
  }
}

/** Raw control sessions: every command sent at once (as `nc` sends its input), every reply byte compared. */
const RAW_SESSIONS: string[] = [
  [
    'FEAT', 'SYST', 'HELP', 'USER anonymous', 'PASS x', 'USER test', 'PASS test123', 'PWD', 'TYPE I', 'TYPE A', 'TYPE L 8', 'TYPE X',
    'XYZ', 'PASS y', 'USER other', 'USER test', 'SIZE hello.txt', 'SIZE docs', 'MDTM hello.txt', 'CWD docs', 'PWD', 'CDUP', 'XPWD',
    'NOOP', 'MODE S', 'MODE B', 'STRU F', 'STRU R', 'ALLO 10', 'REIN', 'ACCT x', 'EPSV 2', 'PORT 1,2,3,4,5,6', 'PORT 192,168,0,2,0,80',
    'EPRT |2|::1|5000|', 'EPRT |1|192.168.0.2|80|', 'EPRT |1|192.168.0.3|5000|', 'EPRT |1|192.168.0.2|5000|', 'REST 10', 'ABOR',
    'STAT', 'SITE HELP', 'SITE CHMOD 644 hello.txt', 'SITE CHMOD 644 nothing', 'SITE UMASK', 'SITE UMASK 077', 'SITE UMASK',
    'SITE FOO', 'HELP', 'STAT hello.txt', 'STAT nothing', 'OPTS UTF8 ON', 'OPTS X', 'RETR nothing', 'LIST', 'DELE nothing',
    'RNFR nothing', 'RNTO x', 'QUIT',
  ].join('\n') + '\n',
  'USER ftp\nPASS x\nUSER test\nPASS test123\nGET / HTTP/1.0\n',
];

async function realRaw(input: string, n: number, mtime: number): Promise<string> {
  const c: FtpCase = { name: 'raw', rules: [], open: true, fw: { ports: () => true }, opts: [], stdin: '', lists: false, curl: 'passive' };
  const k = await realSide({ ...c, rawInput: input } as FtpCase & { rawInput: string }, n, mtime);
  return k.out;
}

/** The lab's vsftpd given the same bytes at once; everything it says until it closes. */
function labRaw(input: string, mtime: number): string {
  const { net, server, client } = tutorialLab(null, tutorialConf());
  for (const d of ['/home/test', '/home/test/docs']) server.fs.addDir(d, mtime, 40);
  server.fs.addFile('/home/test/hello.txt', 'hello\n', mtime);
  const sender: Program = function* (ctx) {
    const s = ctx.sockets.tcp();
    s.owner = { wake: () => ctx.wake() };
    if ((yield* connectTcp(ctx, s, parseIp(SERVER)!, 21, Infinity)) !== null) return 1;
    s.send(new TextEncoder().encode(input));
    const got = yield* readAll(ctx, s, 600 * 1_000_000_000);
    ctx.out(new TextDecoder().decode(got.data));
    s.close();
    return 0;
  };
  return net.runProgram(client, sender, ['nc']).out;
}

describe('ftp and vsftpd against the real tnftp and vsftpd', () => {
  const skip = guardKernel('ftp-diff');
  const tools = ['vsftpd', 'ftp', 'curl', 'openssl', 'unshare'].filter((t) => !existsSync(`/usr/sbin/${t}`) && !existsSync(`/usr/bin/${t}`));
  const reason = skip ?? (tools.length ? `missing ${tools.join(', ')}` : undefined);
  if (reason && !skip && process.env['CI']) {
    it('reference tools installed (required under CI)', () => assert.fail(reason));
  }
  after(() => {
    for (const ns of made) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  });
  const mtime = fileTime();
  let realRuns: Promise<Outcome[]> | undefined;
  const real = (i: number): Promise<Outcome> => {
    realRuns ??= Promise.all(CASES.map((c, n) => realSide(c, n, mtime)));
    return realRuns.then((all) => all[i]!);
  };
  let rawRuns: Promise<string[]> | undefined;
  RAW_SESSIONS.forEach((input, i) => {
    it(`vsftpd's replies, raw session ${i + 1}`, { skip: reason }, async () => {
      rawRuns ??= Promise.all(RAW_SESSIONS.map((r, n) => realRaw(r, 100 + n, mtime)));
      const k = (await rawRuns)[i]!;
      assert.equal(labRaw(input, mtime), k);
    });
  });
  CASES.forEach((c, i) => {
    it(c.name, { skip: reason }, async () => {
      const k = await real(i);
      const lab = labSide(c, mtime, k.startSec ?? Date.now() / 1000);
      const curlLists = c.curlLists ?? c.lists;
      assert.equal(k.curlOk, curlLists, `curl's outcome on the real side: ${curlLists ? 'expected the listing' : 'expected a failure'}`);
      assert.equal(maskFtp(lab.out), maskFtp(k.out), 'stdout');
      assert.equal(maskFtp(lab.err), maskFtp(k.err), 'stderr');
      assert.equal(lab.status, k.status, 'exit status');
      assert.equal(listingCame(c, lab.out), c.lists, 'listing came');
    });
    it(`${c.name}, in nflab`, { skip: reason }, async () => {
      const k = await real(i);
      const lab = await nflabSide(c, i);
      const expected = c.nflabStdin ? k.out.replace('550 Failed to change directory.\n', '') : k.out;
      assert.equal(dropListing(maskFtp(lab.out)), dropListing(maskFtp(expected)), 'stdout');
      assert.equal(maskFtp(lab.err), maskFtp(k.err), 'stderr');
      assert.equal(lab.status, k.status, 'exit status');
      if (c.opts.some((o) => o.includes('v'))) assert.equal(listingCame(c, lab.out), c.lists, 'listing came');
    });
  });
});
