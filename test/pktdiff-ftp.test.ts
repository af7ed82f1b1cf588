/**
 * The FTP conntrack helper, run on the real kernel and through nflab
 * (test/pktdiff/): a router between an FTP client (10.0.0.2 on eth0) and
 * a server (192.168.0.18 on eth1) whose FORWARD policy is DROP but for the
 * control connection and what conntrack calls ESTABLISHED or RELATED. The
 * helper is given to the control connection with `-j CT --helper ftp`.
 * The frames the router forwards (the PORT and 227 lines it rewrites for
 * NAT, with the sequence numbers of the rest of the connection moved),
 * the counters and `conntrack -L` must be the same on both sides.
 *
 * TFTP's helper likewise (`-j CT --helper tftp`): a read whose data comes
 * from another server port; and IRC's (`-j CT --helper irc`): a DCC offer
 * and the peer's connection to it.
 *
 * Scenarios: active mode (PORT), EPRT and EPSV, the helper on port 2121,
 * a PORT line cut over two segments (not followed), the control
 * connection source-NATed (the PORT line grows) and destination-NATed
 * (the 227 reply shrinks).
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardKernel, inCI } from './diff/suite.js';
import { ascii, ipv4, tcp, toDut, udp } from './pktdiff/build.js';
import { formatObservation } from './pktdiff/compare.js';
import { kernelScenarioUnavailableReason } from './pktdiff/kernel.js';
import { explainPair, mapLimited, runPair, type PairResult } from './pktdiff/gen-suite.js';
import type { DutInterface, Frame, PacketScenario } from './pktdiff/types.js';

const CLIENT = '10.0.0.2';
const ROUTER_IN = '10.0.0.1';
const ROUTER_OUT = '192.168.0.1';
const SERVER = '192.168.0.18';

/** The router: eth0 towards the client, eth1 towards the server, forwarding on. */
const SETUP = [
  'ip link set eth0 up',
  `ip addr add ${ROUTER_IN}/24 dev eth0`,
  `ip neigh add ${CLIENT} lladdr 02:00:00:00:00:02 dev eth0 nud permanent`,
  'ip link set eth1 up',
  `ip addr add ${ROUTER_OUT}/24 dev eth1`,
  `ip neigh add ${SERVER} lladdr 02:00:00:00:01:02 dev eth1 nud permanent`,
  'sysctl -w net.ipv4.ip_forward=1',
];

/** The raw table giving the FTP helper to control connections to `port`. */
function rawHelper(port: number, helper = 'ftp'): string {
  return `*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp --dport ${port} -j CT --helper ${helper}\nCOMMIT\n`;
}

/** FORWARD DROP but for new control connections from the client side and ESTABLISHED/RELATED traffic. */
function filter(port: number): string {
  return (
    '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n' +
    '-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT\n' +
    `-A FORWARD -i eth0 -o eth1 -p tcp --dport ${port} -m state --state NEW -j ACCEPT\n` +
    'COMMIT\n'
  );
}

/** One end of a TCP connection as it sends on its own wire. */
interface End {
  wire: DutInterface;
  self: string;
  peer: string;
  sport: number;
  dport: number;
  /** Next sequence number it sends. */
  next: number;
  ipId: number;
}

/**
 * A TCP connection between a client end and a server end, each frame
 * written as its sender would send it. `cDelta` is how many more bytes
 * the server has received than the client sent (a NAT helper grew a
 * line), `sDelta` likewise for the other way: each end acknowledges what
 * it received in its own numbering.
 */
class Conn {
  private cDelta = 0;
  private sDelta = 0;
  private cStart: number;
  private sStart: number;
  constructor(
    private readonly c: End,
    private readonly s: End,
  ) {
    this.cStart = c.next;
    this.sStart = s.next;
  }

  private frame(e: End, flags: string, ack: number, payload?: Uint8Array, options?: Uint8Array): Frame {
    const seg = tcp({ sport: e.sport, dport: e.dport, seq: e.next, ack, flags, payload, options });
    return toDut(e.wire, ipv4({ src: e.self, dst: e.peer, id: e.ipId++, df: true }, seg));
  }

  /** What the client acknowledges: everything the server sent, as it arrived. */
  private clientAck(): number {
    return (this.s.next + this.sDelta) >>> 0;
  }

  private serverAck(): number {
    return (this.c.next + this.cDelta) >>> 0;
  }

  /** The three-way handshake, the client opening. */
  open(): Frame[] {
    const syn = this.frame(this.c, 'S', 0);
    this.c.next++;
    const synAck = this.frame(this.s, 'SA', this.serverAck());
    this.s.next++;
    const ack = this.frame(this.c, 'A', this.clientAck());
    return [syn, synAck, ack];
  }

  /** The three-way handshake, the server end opening (active-mode data connections). */
  openFromServer(): Frame[] {
    const syn = this.frame(this.s, 'S', 0);
    this.s.next++;
    const synAck = this.frame(this.c, 'SA', this.clientAck());
    this.c.next++;
    const ack = this.frame(this.s, 'A', this.serverAck());
    return [syn, synAck, ack];
  }

  /** The client sends text; `grow` is how much a NAT helper lengthens it on the way. */
  client(text: string, grow = 0): Frame {
    const f = this.frame(this.c, 'PA', this.clientAck(), ascii(text));
    this.c.next += text.length;
    this.cDelta += grow;
    return f;
  }

  /** The server sends text; `grow` as for client(). */
  server(text: string, grow = 0): Frame {
    const f = this.frame(this.s, 'PA', this.serverAck(), ascii(text));
    this.s.next += text.length;
    this.sDelta += grow;
    return f;
  }

  /** The client's last segment of `text` sent again (same sequence number). */
  clientAgain(text: string): Frame {
    this.c.next -= text.length;
    const f = this.frame(this.c, 'PA', this.clientAck(), ascii(text));
    this.c.next += text.length;
    return f;
  }

  /** A bare acknowledgement from the client. */
  clientAckOnly(): Frame {
    return this.frame(this.c, 'A', this.clientAck());
  }

  /** A bare acknowledgement from the server. */
  serverAckOnly(): Frame {
    return this.frame(this.s, 'A', this.serverAck());
  }

  /** An acknowledgement from the server with one SACK block `from`..`to` bytes past what it acknowledges. */
  serverAckSack(from: number, to: number): Frame {
    const ack = this.serverAck();
    const o = new Uint8Array(12);
    const v = new DataView(o.buffer);
    o.set([1, 1, 5, 10], 0);
    v.setUint32(4, (ack + from) >>> 0);
    v.setUint32(8, (ack + to) >>> 0);
    return this.frame(this.s, 'A', ack, undefined, o);
  }

  /** Bytes each end has sent so far (for checks). */
  sent(): { client: number; server: number } {
    return { client: this.c.next - this.cStart, server: this.s.next - this.sStart };
  }
}

/** The client end as it appears on eth0 talking to `serverAddr`, and the server end on eth1 talking to `clientAddr`. */
function control(opts: { port: number; serverAddr?: string; clientAddr?: string; cport?: number }): Conn {
  const cport = opts.cport ?? 50000;
  return new Conn(
    { wire: 'eth0', self: CLIENT, peer: opts.serverAddr ?? SERVER, sport: cport, dport: opts.port, next: 1000, ipId: 1 },
    { wire: 'eth1', self: SERVER, peer: opts.clientAddr ?? CLIENT, sport: opts.port, dport: cport, next: 5000, ipId: 101 },
  );
}

/** A data connection: the server end on eth1, the client end on eth0. */
function data(c: { addr: string; port: number; seenAs?: string }, s: { port: number; addr?: string; seenAs?: string }, ids: [number, number]): Conn {
  return new Conn(
    { wire: 'eth0', self: c.addr, peer: s.seenAs ?? SERVER, sport: c.port, dport: s.port, next: 7000, ipId: ids[0] },
    { wire: 'eth1', self: s.addr ?? SERVER, peer: c.seenAs ?? c.addr, sport: s.port, dport: c.port, next: 8000, ipId: ids[1] },
  );
}

const BANNER = '220 (vsFTPd 3.0.3)\r\n';
const USER = 'USER ftp\r\n';
const PASS_PROMPT = '331 Please specify the password.\r\n';
const LISTING = '-rw-r--r--    1 0        0               6 Jan 01 00:00 a.txt\r\n';

/** Login up to the password prompt: the first segment each way teaches the helper where lines start. */
function login(ctl: Conn): Frame[] {
  return [...ctl.open(), ctl.server(BANNER), ctl.client(USER), ctl.server(PASS_PROMPT), ctl.clientAckOnly()];
}

/** The client's segment of `text` sent again. */
function retransmit(ctl: Conn, text: string): Frame {
  return ctl.clientAgain(text);
}

/** Active mode: PORT, the server's data connection from port 20 to the announced port. */
function activeSession(): Frame[] {
  const ctl = control({ port: 21 });
  const dc = data({ addr: CLIENT, port: 51210 }, { port: 20 }, [11, 111]);
  return [
    ...login(ctl),
    ctl.client('PORT 10,0,0,2,200,10\r\n'),
    ctl.server('200 PORT command successful. Consider using PASV.\r\n'),
    ctl.client('LIST\r\n'),
    ...dc.openFromServer(),
    ctl.server('150 Here comes the directory listing.\r\n'),
    dc.server(LISTING),
    dc.clientAckOnly(),
  ];
}

/** EPRT for an active transfer, then EPSV for a passive one. */
function extendedSession(): Frame[] {
  const ctl = control({ port: 21 });
  const active = data({ addr: CLIENT, port: 51211 }, { port: 20 }, [11, 111]);
  const passive = data({ addr: CLIENT, port: 50002 }, { port: 10103 }, [21, 121]);
  return [
    ...login(ctl),
    ctl.client('EPRT |1|10.0.0.2|51211|\r\n'),
    ctl.server('200 EPRT command successful. Consider using EPSV.\r\n'),
    ctl.client('LIST\r\n'),
    ...active.openFromServer(),
    active.server(LISTING),
    ctl.client('EPSV\r\n'),
    ctl.server('229 Entering Extended Passive Mode (|||10103|)\r\n'),
    ctl.client('LIST\r\n'),
    ...passive.open(),
    passive.server(LISTING),
    passive.clientAckOnly(),
  ];
}

/** Passive mode on a control connection to `port`. */
function passiveSession(port: number): Frame[] {
  const ctl = control({ port });
  const dc = data({ addr: CLIENT, port: 50001 }, { port: 10102 }, [11, 111]);
  return [
    ...login(ctl),
    ctl.client('PASV\r\n'),
    ctl.server('227 Entering Passive Mode (192,168,0,18,39,118).\r\n'),
    ctl.clientAckOnly(),
    ...dc.open(),
    ctl.client('LIST\r\n'),
    dc.server(LISTING),
    dc.clientAckOnly(),
  ];
}

/**
 * A PORT command cut over two segments: the helper reads the first, finds
 * the line cut short and drops it ("partial matching"); the second does
 * not start a line it knows of, so nothing is expected and the data
 * connection is NEW and dropped.
 */
function splitPortSession(): Frame[] {
  const ctl = control({ port: 21 });
  const dc = data({ addr: CLIENT, port: 51210 }, { port: 20 }, [11, 111]);
  return [
    ...login(ctl),
    ctl.client('PORT 10,0,0'),
    ctl.client(',2,200,10\r\n'),
    ctl.server('200 PORT command successful. Consider using PASV.\r\n'),
    ctl.client('LIST\r\n'),
    ...dc.openFromServer().slice(0, 1),
  ];
}

/**
 * Source NAT of the control connection to the router's address: the PORT
 * line names 192.168.0.1 instead of 10.0.0.2 (3 bytes longer), the
 * client's later sequence numbers and the server's acknowledgements are
 * moved by 3, and the server's data connection to 192.168.0.1 goes to the
 * client.
 */
function snatSession(): Frame[] {
  const ctl = control({ port: 21, clientAddr: ROUTER_OUT });
  const dc = data({ addr: CLIENT, port: 51210, seenAs: ROUTER_OUT }, { port: 20 }, [11, 111]);
  return [
    ...login(ctl),
    ctl.client('PORT 10,0,0,2,200,10\r\n', 3),
    ctl.serverAckOnly(),
    // the same PORT segment sent again: rewritten again, its sequence number unchanged
    retransmit(ctl, 'PORT 10,0,0,2,200,10\r\n'),
    ctl.server('200 PORT command successful. Consider using PASV.\r\n'),
    ctl.client('LIST\r\n'),
    ctl.serverAckOnly(),
    // SACK blocks are moved back like acknowledgements
    ctl.serverAckSack(10, 20),
    ...dc.openFromServer(),
    ctl.server('150 Here comes the directory listing.\r\n'),
    dc.server(LISTING),
    dc.clientAckOnly(),
    ctl.client('QUIT\r\n'),
    ctl.server('221 Goodbye.\r\n'),
    ctl.clientAckOnly(),
  ];
}

/**
 * Destination NAT of the control connection (the client talks to the
 * router's 10.0.0.1): the 227 reply names 10,0,0,1 instead of
 * 192,168,0,18 (4 bytes shorter), the server's later sequence numbers and
 * the client's acknowledgements are moved, and the client's data
 * connection to 10.0.0.1:10102 goes to the server.
 */
function dnatSession(): Frame[] {
  const ctl = control({ port: 21, serverAddr: ROUTER_IN });
  const dc = data({ addr: CLIENT, port: 50001 }, { port: 10102, seenAs: ROUTER_IN }, [11, 111]);
  return [
    ...login(ctl),
    ctl.client('PASV\r\n'),
    ctl.server('227 Entering Passive Mode (192,168,0,18,39,118).\r\n', -4),
    ctl.clientAckOnly(),
    ...dc.open(),
    ctl.client('LIST\r\n'),
    ctl.server('150 Here comes the directory listing.\r\n'),
    dc.server(LISTING),
    dc.clientAckOnly(),
    ctl.clientAckOnly(),
  ];
}

/** Two PASV replies: the second expectation replaces the first (one at a time per control connection). */
function twoPasvSession(): Frame[] {
  const ctl = control({ port: 21 });
  const first = data({ addr: CLIENT, port: 50001 }, { port: 10102 }, [11, 111]);
  const second = data({ addr: CLIENT, port: 50002 }, { port: 10104 }, [21, 121]);
  return [
    ...login(ctl),
    ctl.client('PASV\r\n'),
    ctl.server('227 Entering Passive Mode (192,168,0,18,39,118).\r\n'),
    ctl.client('PASV\r\n'),
    ctl.server('227 Entering Passive Mode (192,168,0,18,39,120).\r\n'),
    ctl.clientAckOnly(),
    ...first.open().slice(0, 1),
    ...second.open(),
    second.server(LISTING),
  ];
}

/** A 227 reply naming another address than the server's: not followed (loose=0), the data connection is NEW. */
function otherAddressSession(): Frame[] {
  const ctl = control({ port: 21 });
  const dc = data({ addr: CLIENT, port: 50001 }, { port: 10102, seenAs: '192.168.0.99' }, [11, 111]);
  return [
    ...login(ctl),
    ctl.client('PASV\r\n'),
    ctl.server('227 Entering Passive Mode (192,168,0,99,39,118).\r\n'),
    ctl.clientAckOnly(),
    ...dc.open().slice(0, 1),
  ];
}

/**
 * Two control connections of the same client announcing the same data
 * port: the second expectation would clash with the first one's, so the
 * second 227 reply is dropped.
 */
function clashSession(): Frame[] {
  const one = control({ port: 21, cport: 50000 });
  const two = new Conn(
    { wire: 'eth0', self: CLIENT, peer: SERVER, sport: 50010, dport: 21, next: 3000, ipId: 51 },
    { wire: 'eth1', self: SERVER, peer: CLIENT, sport: 21, dport: 50010, next: 9000, ipId: 151 },
  );
  const reply = '227 Entering Passive Mode (192,168,0,18,39,118).\r\n';
  return [...login(one), ...login(two), one.client('PASV\r\n'), one.server(reply), two.client('PASV\r\n'), two.server(reply)];
}

/** The control connection's mark (CONNMARK) is given to the data connection. */
const MANGLE_MARK = '*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 21 -j CONNMARK --set-mark 7\nCOMMIT\n';

/** Passive mode with a reply written some other way, then the data connection to `port`. */
function replyVariant(reply: string, port: number, command = 'PASV\r\n'): Frame[] {
  const ctl = control({ port: 21 });
  const dc = data({ addr: CLIENT, port: 50001 }, { port }, [11, 111]);
  return [...login(ctl), ctl.client(command), ctl.server(reply), ctl.clientAckOnly(), ...dc.open()];
}

/** Active mode with the command written some other way, then the server's data connection to `port`. */
function commandVariant(command: string, port: number): Frame[] {
  const ctl = control({ port: 21 });
  const dc = data({ addr: CLIENT, port }, { port: 20 }, [11, 111]);
  return [...login(ctl), ctl.client(command), ctl.server('200 PORT command successful.\r\n'), ...dc.openFromServer()];
}

/**
 * Passive mode behind MASQUERADE: the 227 reply is rewritten to the same
 * text (the server's address is not translated), and the client's data
 * connection is masqueraded like its control connection.
 */
function masqueradePasvSession(): Frame[] {
  const ctl = control({ port: 21, clientAddr: ROUTER_OUT });
  const dc = data({ addr: CLIENT, port: 50001, seenAs: ROUTER_OUT }, { port: 10102 }, [11, 111]);
  return [
    ...login(ctl),
    ctl.client('PASV\r\n'),
    ctl.server('227 Entering Passive Mode (192,168,0,18,39,118).\r\n'),
    ctl.clientAckOnly(),
    ...dc.open(),
    dc.server(LISTING),
    dc.clientAckOnly(),
  ];
}

/** FORWARD DROP but for control connections and data connections the FTP helper expected (-m helper), with counters of the data connection's status. */
const HELPER_MATCH_FILTER =
  '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n' +
  '-A FORWARD -m conntrack --ctstatus EXPECTED\n' +
  '-A FORWARD -m conntrack --ctstate RELATED\n' +
  '-A FORWARD -m helper --helper ftp\n' +
  '-A FORWARD -m conntrack --ctstate RELATED -m helper --helper ftp -j ACCEPT\n' +
  '-A FORWARD -m conntrack --ctstate ESTABLISHED -j ACCEPT\n' +
  '-A FORWARD -i eth0 -o eth1 -p tcp --dport 21 -m conntrack --ctstate NEW -j ACCEPT\n' +
  'COMMIT\n';

/**
 * The data connection's first SYN is dropped after it used the
 * expectation: the expectation is gone with it, and the SYN sent again is
 * NEW (and dropped by the policy).
 */
function droppedDataSynSession(): Frame[] {
  const ctl = control({ port: 21 });
  const dc = data({ addr: CLIENT, port: 50001 }, { port: 10102 }, [11, 111]);
  const syn = dc.open()[0]!;
  return [
    ...login(ctl),
    ctl.client('PASV\r\n'),
    ctl.server('227 Entering Passive Mode (192,168,0,18,39,118).\r\n'),
    ctl.clientAckOnly(),
    syn,
    { ...syn, gapMs: 5 },
  ];
}

/** filter(21) with the first RELATED packet of every two dropped. */
const DROP_FIRST_RELATED = filter(21).replace(
  '-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT\n',
  '-A FORWARD -m state --state RELATED -m statistic --mode nth --every 2 --packet 0 -j DROP\n-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT\n',
);

/** FORWARD DROP but for TFTP requests from the client side and ESTABLISHED/RELATED traffic. */
const TFTP_FILTER =
  '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n' +
  '-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT\n' +
  '-A FORWARD -i eth0 -o eth1 -p udp --dport 69 -m state --state NEW -j ACCEPT\n' +
  'COMMIT\n';
const TFTP_RAW = '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p udp --dport 69 -j CT --helper tftp\nCOMMIT\n';

/**
 * A TFTP read: the request to port 69, the server's first block from
 * another port (RELATED, expected by the helper), the client's
 * acknowledgement. `seenAs` is the client's address as the server sees it.
 */
function tftpSession(seenAs = CLIENT): Frame[] {
  const request = ascii('\x00\x01a.txt\x00octet\x00');
  const block = ascii('\x00\x03\x00\x01hello\n');
  const ack = ascii('\x00\x04\x00\x01');
  return [
    toDut('eth0', ipv4({ src: CLIENT, dst: SERVER, id: 1 }, udp({ sport: 40000, dport: 69, payload: request }))),
    toDut('eth1', ipv4({ src: SERVER, dst: seenAs, id: 101 }, udp({ sport: 50123, dport: 40000, payload: block }))),
    toDut('eth0', ipv4({ src: CLIENT, dst: SERVER, id: 2 }, udp({ sport: 40000, dport: 50123, payload: ack }))),
  ];
}

/** The IRC helper on port 6667, and a peer (192.168.0.50) beside the server. */
const IRC_RAW = '*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -p tcp --dport 6667 -j CT --helper irc\nCOMMIT\n';
const IRC_SETUP = [...SETUP, 'ip neigh add 192.168.0.50 lladdr 02:00:00:00:01:02 dev eth1 nud permanent'];
const PEER = '192.168.0.50';

/**
 * A DCC SEND offer through the IRC server: the peer's connection to the
 * announced port is RELATED. `seenAs` is the client's address as the
 * outside sees it; `grow` how much longer the offer gets when rewritten.
 */
function ircSession(seenAs: string, grow: number): Frame[] {
  const ctl = new Conn(
    { wire: 'eth0', self: CLIENT, peer: SERVER, sport: 50000, dport: 6667, next: 1000, ipId: 1 },
    { wire: 'eth1', self: SERVER, peer: seenAs, sport: 6667, dport: 50000, next: 5000, ipId: 101 },
  );
  // 10.0.0.2 as one number
  const offer = 'PRIVMSG bob :\x01DCC SEND notes.txt 167772162 5000 1234\x01\r\n';
  // the peer connects to the address in the offer; NAT makes it come from the IRC server's address
  const dc = new Conn(
    { wire: 'eth0', self: CLIENT, peer: seenAs === CLIENT ? PEER : SERVER, sport: 5000, dport: 41000, next: 7000, ipId: 11 },
    { wire: 'eth1', self: PEER, peer: seenAs, sport: 41000, dport: 5000, next: 8000, ipId: 111 },
  );
  return [
    ...ctl.open(),
    ctl.server(':irc.example.net 001 alice :Welcome\r\n'),
    ctl.client(offer, grow),
    ctl.serverAckOnly(),
    ...dc.openFromServer(),
    dc.server('hello\n'),
    ctl.client('PING :irc.example.net\r\n'),
    ctl.serverAckOnly(),
  ];
}

const IRC_FILTER =
  '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT ACCEPT [0:0]\n' +
  '-A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT\n' +
  '-A FORWARD -i eth0 -o eth1 -p tcp --dport 6667 -m state --state NEW -j ACCEPT\n' +
  'COMMIT\n';

const NAT_SNAT = `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth1 -j SNAT --to-source ${ROUTER_OUT}\nCOMMIT\n`;
const NAT_MASQ = `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth1 -j MASQUERADE\nCOMMIT\n`;
const NAT_DNAT = `*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A PREROUTING -i eth0 -d ${ROUTER_IN} -p tcp --dport 21 -j DNAT --to-destination ${SERVER}\nCOMMIT\n`;

const SCENARIOS: PacketScenario[] = [
  { name: 'ftp-active-port', setup: SETUP, rules: rawHelper(21) + filter(21), frames: activeSession() },
  { name: 'ftp-eprt-epsv', setup: SETUP, rules: rawHelper(21) + filter(21), frames: extendedSession() },
  { name: 'ftp-passive-port-2121', setup: SETUP, rules: rawHelper(2121) + filter(2121), frames: passiveSession(2121) },
  { name: 'ftp-no-helper-on-2121', setup: SETUP, rules: rawHelper(21) + filter(2121), frames: passiveSession(2121) },
  { name: 'ftp-port-split', setup: SETUP, rules: rawHelper(21) + filter(21), frames: splitPortSession() },
  { name: 'ftp-snat-port', setup: SETUP, rules: rawHelper(21) + NAT_SNAT + filter(21), frames: snatSession() },
  { name: 'ftp-two-pasv', setup: SETUP, rules: rawHelper(21) + filter(21), frames: twoPasvSession() },
  { name: 'ftp-pasv-other-address', setup: SETUP, rules: rawHelper(21) + filter(21), frames: otherAddressSession() },
  { name: 'ftp-expectation-clash', setup: SETUP, rules: rawHelper(21) + filter(21), frames: clashSession() },
  { name: 'ftp-mark-inherited', setup: SETUP, rules: rawHelper(21) + MANGLE_MARK + filter(21), frames: passiveSession(21) },
  // how the helper reads lines: case, missing parentheses, other delimiters, out-of-range numbers, nothing to read
  { name: 'ftp-lowercase-port', setup: SETUP, rules: rawHelper(21) + filter(21), frames: commandVariant('port 10,0,0,2,200,10\r\n', 51210) },
  { name: 'ftp-227-bare', setup: SETUP, rules: rawHelper(21) + filter(21), frames: replyVariant('227 Entering Passive Mode 192,168,0,18,39,118\r\n', 10102) },
  { name: 'ftp-229-other-delimiter', setup: SETUP, rules: rawHelper(21) + filter(21), frames: replyVariant('229 Entering Extended Passive Mode (!!!10103!)\r\n', 10103, 'EPSV\r\n') },
  { name: 'ftp-227-port-overflow', setup: SETUP, rules: rawHelper(21) + filter(21), frames: replyVariant('227 =192,168,0,18,300,5\r\n', 11269) },
  { name: 'ftp-227-no-numbers', setup: SETUP, rules: rawHelper(21) + filter(21), frames: replyVariant('227 Entering Passive Mode\r\n', 10102) },
  { name: 'ftp-eprt-ipv6', setup: SETUP, rules: rawHelper(21) + filter(21), frames: commandVariant('EPRT |2|::1|51210|\r\n', 51210) },
  { name: 'ftp-masquerade-pasv', setup: SETUP, rules: rawHelper(21) + NAT_MASQ + filter(21), frames: masqueradePasvSession() },
  { name: 'ftp-helper-match', setup: SETUP, rules: rawHelper(21) + HELPER_MATCH_FILTER, frames: passiveSession(21) },
  { name: 'ftp-data-syn-dropped', setup: SETUP, rules: rawHelper(21) + DROP_FIRST_RELATED, frames: droppedDataSynSession() },
  { name: 'tftp-read', setup: SETUP, rules: TFTP_RAW + TFTP_FILTER, frames: tftpSession() },
  { name: 'tftp-read-snat', setup: SETUP, rules: TFTP_RAW + NAT_SNAT + TFTP_FILTER, frames: tftpSession(ROUTER_OUT) },
  { name: 'tftp-no-helper', setup: SETUP, rules: TFTP_FILTER, frames: tftpSession() },
  { name: 'irc-dcc-send', setup: IRC_SETUP, rules: IRC_RAW + IRC_FILTER, frames: ircSession(CLIENT, 0) },
  { name: 'irc-dcc-send-snat', setup: IRC_SETUP, rules: IRC_RAW + NAT_SNAT + IRC_FILTER, frames: ircSession(ROUTER_OUT, 1) },
  { name: 'ftp-dnat-pasv', setup: SETUP, rules: rawHelper(21) + NAT_DNAT + filter(21), frames: dnatSession() },
];

/** The payload of a frame the router sent, as text (from its TCP header on). */
function payloadText(bytes: Uint8Array): string {
  const ip = 14;
  const thoff = ip + ((bytes[ip]! & 0x0f) << 2);
  const doff = (bytes[thoff + 12]! >>> 4) << 2;
  return String.fromCharCode(...bytes.subarray(thoff + doff));
}

/** What each scenario must show on the kernel's side (so the test also documents the kernel). */
function checkKernelFacts(r: PairResult): void {
  const k = r.kernel;
  const texts = k.emitted.map((e) => `${e.iface} ${payloadText(e.bytes)}`);
  switch (r.scenario.name) {
    case 'ftp-snat-port':
      assert.ok(texts.includes('eth1 PORT 192,168,0,1,200,10\r\n'), texts.join('|'));
      break;
    case 'ftp-dnat-pasv':
      assert.ok(texts.includes('eth0 227 Entering Passive Mode (10,0,0,1,39,118).\r\n'), texts.join('|'));
      break;
    case 'ftp-eprt-epsv':
      // two data connections, each RELATED to the control connection
      assert.ok(k.conntrack.some((l) => l.includes('helper=ftp use=3')), k.conntrack.join('\n'));
      break;
    case 'ftp-port-split':
      // the first half of the PORT line is not forwarded
      assert.ok(!texts.includes('eth1 PORT 10,0,0'), texts.join('|'));
      assert.ok(!k.conntrack.some((l) => / dport=20 /.test(l)), k.conntrack.join('\n'));
      break;
    case 'ftp-two-pasv':
      // the first announced port is no longer expected
      assert.ok(!k.conntrack.some((l) => / dport=10102 /.test(l)), k.conntrack.join('\n'));
      assert.ok(k.conntrack.some((l) => / dport=10104 /.test(l)), k.conntrack.join('\n'));
      break;
    case 'ftp-expectation-clash':
      assert.equal(texts.filter((t) => t.startsWith('eth0 227 ')).length, 1, texts.join('|'));
      break;
    case 'ftp-mark-inherited':
      assert.ok(k.conntrack.some((l) => / dport=10102 .* mark=7 use=1$/.test(l)), k.conntrack.join('\n'));
      break;
    case 'tftp-read':
    case 'tftp-read-snat':
      assert.ok(k.conntrack.some((l) => l.startsWith('udp ') && / sport=50123 /.test(l)), k.conntrack.join('\n'));
      break;
    case 'tftp-no-helper':
      assert.ok(!k.conntrack.some((l) => / sport=50123 /.test(l)), k.conntrack.join('\n'));
      break;
    case 'irc-dcc-send':
    case 'irc-dcc-send-snat':
      assert.ok(k.conntrack.some((l) => / dport=5000 /.test(l)), k.conntrack.join('\n'));
      if (r.scenario.name.endsWith('snat')) assert.ok(texts.some((t) => t.includes('DCC SEND notes.txt 3232235521 5000 1234')), texts.join('|'));
      break;
    case 'ftp-227-no-numbers':
      // "partial matching": the reply is dropped
      assert.ok(!texts.some((t) => t.startsWith('eth0 227 ')), texts.join('|'));
      break;
    case 'ftp-data-syn-dropped':
      assert.ok(!k.conntrack.some((l) => / dport=10102 /.test(l)), k.conntrack.join('\n'));
      assert.ok(k.save.includes('[1:40] -A FORWARD -m state --state RELATED -m statistic'), k.save);
      assert.ok(k.save.includes(':FORWARD DROP [1:40]'), k.save);
      break;
    case 'ftp-eprt-ipv6':
    case 'ftp-pasv-other-address':
    case 'ftp-no-helper-on-2121':
      // the helper is given to port 21 only: the data connection's SYN is not forwarded
      assert.ok(!k.conntrack.some((l) => / dport=10102 /.test(l)), k.conntrack.join('\n'));
      break;
    default:
      // the data connection went through, RELATED, and holds its master (use=2)
      assert.ok(k.conntrack.some((l) => l.includes('helper=ftp use=2')), k.conntrack.join('\n'));
  }
}

const unavailable = await kernelScenarioUnavailableReason();
const JOBS = Math.max(1, Number(process.env['NFLAB_PKTDIFF_JOBS'] ?? 2) || 2);

describe('pktdiff: the FTP, TFTP and IRC helpers, kernel and nflab', () => {
  let skip = guardKernel('pktdiff FTP scenarios');
  if (skip === undefined && unavailable !== undefined) {
    skip = unavailable;
    if (inCI()) it('packet scenarios can run (required under CI)', () => assert.fail(unavailable));
  }
  const opts = skip === undefined ? {} : { skip };
  let runs: Promise<PairResult>[] | undefined;
  const start = (): Promise<PairResult>[] => (runs ??= mapLimited(SCENARIOS, JOBS, (s) => runPair(s, { replay: 'each' })));
  for (const [i, s] of SCENARIOS.entries()) {
    it(s.name, opts, async () => {
      const r = await start()[i]!;
      if (process.env['NFLAB_PKTDIFF_SHOW']) console.log(`# ${s.name} on the kernel:\n${formatObservation(r.kernel, s)}`);
      assert.deepEqual(r.diffs, [], explainPair(r));
      checkKernelFacts(r);
    });
  }
});
