/**
 * `conntrack -L expect` after an FTP (or IRC) exchange through a router whose
 * control connections get the FTP helper (`-j CT --helper ftp`), on the
 * real kernel and in nflab.
 *
 * Kernel side: three namespaces (client 10.0.0.2, router, server
 * 192.168.0.18), a real TCP exchange between two small Python programs
 * (the client's port fixed at 50000), then the router's listing. nflab
 * side: the same exchange's frames replayed into a lab router, then the
 * same listing. The lines must be the same but for the seconds left,
 * which depend on how long the kernel side took (nflab's are checked
 * exactly: the listing is 0.5 s after the reply, 299 seconds left).
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runNflab } from '../src/cli/main.js';
import { writePcapng } from '../src/core/wire/pcapng.js';
import { guardKernel } from './diff/suite.js';
import { ascii, ipv4, tcp, toDut } from './pktdiff/build.js';
import { mustRun, runCommand } from './pktdiff/process.js';
import type { DutInterface } from './pktdiff/types.js';

const PREFIX = process.env['NFLAB_NETNS_PREFIX'] ?? 'nflabt-';

/** One exchange: who says what, in order ('c' the client, 's' the server). */
interface Exchange {
  name: string;
  /** Where the client connects (the server, or the router for DNAT). */
  connectTo: string;
  /** iptables-restore input for the router. */
  rules: string;
  lines: ['c' | 's', string][];
  /** Addresses as the server sees the client (SNAT). */
  clientSeenAs?: string;
  /** The lines as they arrive at the other end when a NAT helper rewrote them (by index). */
  rewritten?: Record<number, string>;
  /** The server's port (default 21). */
  port?: number;
}

const RAW = '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 21 -j CT --helper ftp\nCOMMIT\n';
const IRC_RAW = '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 6667 -j CT --helper irc\nCOMMIT\n';
/** A DCC SEND offer from 10.0.0.2 (167772162 as one number). */
const DCC_OFFER = 'PRIVMSG bob :\x01DCC SEND notes.txt 167772162 5000 1234\x01\r\n';
const NAT_HEAD = '*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n';

const EXCHANGES: Exchange[] = [
  {
    name: 'IRC DCC offer (the source is not known: mask 0.0.0.0)',
    connectTo: '192.168.0.18',
    port: 6667,
    rules: IRC_RAW,
    lines: [
      ['s', ':irc.example.net 001 alice :Welcome\r\n'],
      ['c', DCC_OFFER],
    ],
  },
  {
    name: 'IRC DCC offer, source NAT',
    connectTo: '192.168.0.18',
    port: 6667,
    rules: IRC_RAW + NAT_HEAD + '-A POSTROUTING -o eth1 -j SNAT --to-source 192.168.0.1\nCOMMIT\n',
    clientSeenAs: '192.168.0.1',
    lines: [
      ['s', ':irc.example.net 001 alice :Welcome\r\n'],
      ['c', DCC_OFFER],
    ],
    rewritten: { 1: DCC_OFFER.replace('167772162', '3232235521') },
  },
  {
    name: 'passive',
    connectTo: '192.168.0.18',
    rules: RAW,
    lines: [
      ['s', '220 (vsFTPd 3.0.3)\r\n'],
      ['c', 'PASV\r\n'],
      ['s', '227 Entering Passive Mode (192,168,0,18,39,118).\r\n'],
    ],
  },
  {
    name: 'passive, destination NAT',
    connectTo: '10.0.0.1',
    rules: RAW + NAT_HEAD + '-A PREROUTING -i eth0 -d 10.0.0.1 -p tcp --dport 21 -j DNAT --to-destination 192.168.0.18\nCOMMIT\n',
    lines: [
      ['s', '220 (vsFTPd 3.0.3)\r\n'],
      ['c', 'PASV\r\n'],
      ['s', '227 Entering Passive Mode (192,168,0,18,39,118).\r\n'],
    ],
    rewritten: { 2: '227 Entering Passive Mode (10,0,0,1,39,118).\r\n' },
  },
  {
    name: 'active, source NAT',
    connectTo: '192.168.0.18',
    rules: RAW + NAT_HEAD + '-A POSTROUTING -o eth1 -j SNAT --to-source 192.168.0.1\nCOMMIT\n',
    clientSeenAs: '192.168.0.1',
    lines: [
      ['s', '220 (vsFTPd 3.0.3)\r\n'],
      ['c', 'USER ftp\r\n'],
      ['s', '331 Please specify the password.\r\n'],
      ['c', 'EPRT |1|10.0.0.2|51211|\r\n'],
    ],
    rewritten: { 3: 'EPRT |1|192.168.0.1|51211|\r\n' },
  },
];

/** The Python end of the kernel side: speaks its lines in turn, reads the other end's. */
const PEER_PY = `
import socket, sys, json, time
role, host, port, lines = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
if role == 's':
    l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('0.0.0.0', port)); l.listen(1)
    print('ready', flush=True)
    c, _ = l.accept()
else:
    c = socket.socket(); c.bind(('0.0.0.0', 50000)); c.connect((host, port))
for who, text in lines:
    if who == role:
        c.sendall(text.encode())
    else:
        want = len(text)
        got = b''
        c.settimeout(3)
        while len(got) < want - 8:
            b = c.recv(4096)
            if not b: break
            got += b
        time.sleep(0.05)
print('done', flush=True)
if role == 's':
    time.sleep(4)
`;

/** Runs an exchange on the kernel; returns the router's `conntrack -L expect` lines, plain and in XML. */
async function kernelListing(x: Exchange, n: number): Promise<{ lines: string[]; xml: string[] }> {
  const id = `${process.pid}-${n}`;
  const [c, r, s] = [`${PREFIX}xc-${id}`, `${PREFIX}xr-${id}`, `${PREFIX}xs-${id}`];
  const dir = mkdtempSync(join(tmpdir(), 'nflab-expect-'));
  const py = join(dir, 'peer.py');
  writeFileSync(py, PEER_PY);
  try {
    for (const ns of [c, r, s]) await mustRun(['ip', 'netns', 'add', ns]);
    const batch = [
      `link add eth0 type veth peer name c0 netns ${c}`,
      `link add eth1 type veth peer name s0 netns ${s}`,
      'addr add 10.0.0.1/24 dev eth0',
      'addr add 192.168.0.1/24 dev eth1',
      'link set eth0 up',
      'link set eth1 up',
    ];
    await mustRun(['ip', '-n', r, '-batch', '-'], batch.join('\n') + '\n');
    await mustRun(['ip', '-n', c, '-batch', '-'], 'addr add 10.0.0.2/24 dev c0\nlink set c0 up\nlink set lo up\nroute add default via 10.0.0.1\n');
    await mustRun(['ip', '-n', s, '-batch', '-'], 'addr add 192.168.0.18/24 dev s0\nlink set s0 up\nlink set lo up\nroute add default via 192.168.0.1\n');
    await mustRun(['ip', 'netns', 'exec', r, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    await mustRun(['ip', 'netns', 'exec', r, 'iptables-restore'], x.rules);
    const lines = JSON.stringify(x.lines);
    const port = String(x.port ?? 21);
    const server = runCommand(['ip', 'netns', 'exec', s, 'timeout', '8', '/usr/bin/python3', py, 's', '', port, lines], '', 15_000);
    // the server listens within a moment; the client retries its connection until it does
    await new Promise((res) => setTimeout(res, 300));
    let client = await runCommand(['ip', 'netns', 'exec', c, 'timeout', '6', '/usr/bin/python3', py, 'c', x.connectTo, port, lines], '', 15_000);
    for (let i = 0; i < 20 && !client.stdout.includes('done'); i++) {
      await new Promise((res) => setTimeout(res, 100));
      client = await runCommand(['ip', 'netns', 'exec', c, 'timeout', '6', '/usr/bin/python3', py, 'c', x.connectTo, port, lines], '', 15_000);
    }
    const listing = await mustRun(['ip', 'netns', 'exec', r, 'conntrack', '-L', 'expect']);
    const xml = await mustRun(['ip', 'netns', 'exec', r, 'conntrack', '-L', 'expect', '-o', 'xml']);
    await server;
    return { lines: listing.stdout.split('\n').filter(Boolean), xml: xml.stdout.split('\n').filter(Boolean) };
  } finally {
    for (const ns of [c, r, s]) await runCommand(['ip', 'netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The frames of an exchange as the router receives them (client on eth0 from port 50000, server on eth1). */
function frames(x: Exchange): { iface: DutInterface; bytes: Uint8Array }[] {
  const client = '10.0.0.2';
  const server = '192.168.0.18';
  const seenAs = x.clientSeenAs ?? client;
  let cseq = 1000;
  let sseq = 5000;
  // bytes each end received, in its own numbering
  let cgot = 0;
  let sgot = 0;
  const ids = [1, 101];
  const c = (flags: string, payload?: string): { iface: DutInterface; bytes: Uint8Array } =>
    toDut('eth0', ipv4({ src: client, dst: x.connectTo, id: ids[0]!++, df: true }, tcp({ sport: 50000, dport: x.port ?? 21, seq: cseq, ack: flags === 'S' ? 0 : (5001 + cgot) >>> 0, flags, payload: payload ? ascii(payload) : undefined })));
  const s = (flags: string, payload?: string): { iface: DutInterface; bytes: Uint8Array } =>
    toDut('eth1', ipv4({ src: server, dst: seenAs, id: ids[1]!++, df: true }, tcp({ sport: x.port ?? 21, dport: 50000, seq: sseq, ack: (1001 + sgot) >>> 0, flags, payload: payload ? ascii(payload) : undefined })));
  const out = [c('S')];
  cseq++;
  out.push(s('SA'));
  sseq++;
  out.push(c('A'));
  for (const [i, [who, text]] of x.lines.entries()) {
    const arrives = x.rewritten?.[i] ?? text;
    if (who === 'c') {
      out.push(c('PA', text));
      cseq += text.length;
      sgot += arrives.length;
      out.push(s('A'));
    } else {
      out.push(s('PA', text));
      sseq += text.length;
      cgot += arrives.length;
      out.push(c('A'));
    }
  }
  return out;
}

async function nflab(lab: string, argv: string[], stdin?: string): Promise<string> {
  const r = await runNflab(['--lab', lab, ...argv], { stdin });
  if (r.status !== 0) throw new Error(`nflab ${argv.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Runs an exchange's frames through an nflab router; returns its `conntrack -L expect` lines and what it printed on stderr. */
async function nflabListing(x: Exchange): Promise<{ lines: string[]; stderr: string; xml: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'nflab-expect-'));
  const lab = join(dir, 'lab');
  try {
    for (const [i, dev] of ['eth0', 'eth1'].entries()) {
      await nflab(lab, ['ip', 'link', 'add', dev, 'type', 'veth', 'peer', 'name', `p${i}`]);
      await nflab(lab, ['ip', 'link', 'set', `p${i}`, 'up']);
      await nflab(lab, ['ip', 'link', 'set', dev, 'address', i === 0 ? '02:00:00:00:00:01' : '02:00:00:00:01:01']);
      await nflab(lab, ['ip', 'link', 'set', dev, 'up']);
    }
    await nflab(lab, ['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth0']);
    await nflab(lab, ['ip', 'addr', 'add', '192.168.0.1/24', 'dev', 'eth1']);
    await nflab(lab, ['ip', 'neigh', 'add', '10.0.0.2', 'lladdr', '02:00:00:00:00:02', 'dev', 'eth0', 'nud', 'permanent']);
    await nflab(lab, ['ip', 'neigh', 'add', '192.168.0.18', 'lladdr', '02:00:00:00:01:02', 'dev', 'eth1', 'nud', 'permanent']);
    await nflab(lab, ['sysctl', '-w', 'net.ipv4.ip_forward=1']);
    await nflab(lab, ['iptables-restore'], x.rules);
    const pcap = join(dir, 'in.pcapng');
    writeFileSync(pcap, writePcapng(frames(x).map((f, i) => ({ tsSec: 0, tsNsec: i * 100_000, data: f.bytes, ifName: f.iface }))));
    await nflab(lab, ['replay', pcap]);
    await nflab(lab, ['sleep', '0.5']);
    const r = await runNflab(['--lab', lab, 'conntrack', '-L', 'expect']);
    const xml = await runNflab(['--lab', lab, 'conntrack', '-L', 'expect', '-o', 'xml']);
    return { lines: r.stdout.split('\n').filter(Boolean), stderr: r.stderr, xml: xml.stdout.split('\n').filter(Boolean) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A listing line without its leading seconds. */
function sansTimeout(line: string): string {
  return line.replace(/^\d+ /, '');
}

describe('conntrack -L expect after FTP and IRC exchanges, kernel and nflab', () => {
  const skip = guardKernel('conntrack -L expect');
  const opts = skip === undefined ? {} : { skip };
  for (const [n, x] of EXCHANGES.entries()) {
    it(x.name, opts, async () => {
      const [kernel, m] = await Promise.all([kernelListing(x, n), nflabListing(x)]);
      const k = kernel.lines;
      assert.equal(k.length, 1, `the kernel lists one expectation:\n${k.join('\n')}`);
      assert.deepEqual(m.lines.map(sansTimeout), k.map(sansTimeout));
      assert.match(k[0]!, /^29[89] /);
      const xmlTimeout = (l: string): string => l.replace(/<timeout>\d+<\/timeout>/, '<timeout>*</timeout>');
      assert.deepEqual(m.xml.map(xmlTimeout), kernel.xml.map(xmlTimeout));
      assert.match(m.lines[0]!, /^299 /);
      assert.equal(m.stderr, 'conntrack v1.4.7 (conntrack-tools): 1 expectations have been shown.\n');
    });
  }
});
