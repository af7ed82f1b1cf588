/**
 * TCP tracking as the kernel does it (nf_conntrack_proto_tcp.c): header
 * and flag checks, the state machine (tcp_conntracks), window tracking
 * (tcp_in_window: sequence and acknowledgement bounds per direction),
 * pickup of connections already under way (nf_conntrack_tcp_loose), RST
 * handling, the retransmission counter and the per-state timeouts.
 *
 * Sequence numbers are unsigned 32-bit values compared modulo 2^32
 * (before/after), kept with `>>> 0`.
 */
import type { Skb } from '../path/skb.js';
import { get32 } from '../wire/bytes.js';
import { verifyTcpChecksum } from '../wire/checksum.js';
import { seqOffset } from './nat-seqadj.js';
import { CT_INVALID, CT_REPEAT, type ConntrackEnv, type ConntrackHook, ctinfoDir, killAcct, logInvalid, logInvalidCt, refreshAcct } from './env.js';
import { CT, SEC_NS, jiffyFloorNs, readSysctl } from './sysctl.js';
import { killConn } from './table.js';
import { IPS, type Conn } from './types.js';

/** TCP conntrack states (enum tcp_conntrack). */
export const TCP = {
  NONE: 0,
  SYN_SENT: 1,
  SYN_RECV: 2,
  ESTABLISHED: 3,
  FIN_WAIT: 4,
  CLOSE_WAIT: 5,
  LAST_ACK: 6,
  TIME_WAIT: 7,
  CLOSE: 8,
  SYN_SENT2: 9,
  /** Invalid transition (sIV). */
  MAX: 10,
  /** Ignored packet (sIG). */
  IGNORE: 11,
  /** Timeout slot used after too many retransmissions. */
  RETRANS: 12,
  /** Timeout slot used while data is unacknowledged. */
  UNACK: 13,
} as const;

/** State names as conntrack -L prints them, by state number. */
export const TCP_STATE_NAMES: readonly string[] = [
  'NONE',
  'SYN_SENT',
  'SYN_RECV',
  'ESTABLISHED',
  'FIN_WAIT',
  'CLOSE_WAIT',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
  'SYN_SENT2',
];

/** Per-direction flags (IP_CT_TCP_FLAG_*). */
export const TCPF = {
  WINDOW_SCALE: 0x01,
  SACK_PERM: 0x02,
  CLOSE_INIT: 0x04,
  BE_LIBERAL: 0x08,
  DATA_UNACKNOWLEDGED: 0x10,
  MAXACK_SET: 0x20,
  EXP_CHALLENGE_ACK: 0x40,
  SIMULTANEOUS_OPEN: 0x80,
} as const;

/** What one direction has sent (ip_ct_tcp_state). */
export interface TcpDirState {
  /** Highest sequence number sent, plus length (td_end). */
  end: number;
  /** Highest acknowledged-plus-window seen from the peer (td_maxend). */
  maxend: number;
  /** Largest window seen (td_maxwin). */
  maxwin: number;
  /** Highest acknowledgement sent (td_maxack). */
  maxack: number;
  /** Window scale factor (td_scale). */
  scale: number;
  /** TCPF bits. */
  flags: number;
}

/** The TCP part of a connection (ip_ct_tcp). */
export interface TcpState {
  state: number;
  seen: [TcpDirState, TcpDirState];
  lastDir: number;
  lastIndex: number;
  lastSeq: number;
  lastAck: number;
  lastEnd: number;
  lastWin: number;
  lastWscale: number;
  lastFlags: number;
  retrans: number;
}

// tcp_bit_set: which of SYN, SYN/ACK, FIN, ACK, RST (or none) a segment is
const SYN_SET = 0;
const SYNACK_SET = 1;
const FIN_SET = 2;
const ACK_SET = 3;
const RST_SET = 4;
const NONE_SET = 5;

const sNO = TCP.NONE;
const sSS = TCP.SYN_SENT;
const sSR = TCP.SYN_RECV;
const sES = TCP.ESTABLISHED;
const sFW = TCP.FIN_WAIT;
const sCW = TCP.CLOSE_WAIT;
const sLA = TCP.LAST_ACK;
const sTW = TCP.TIME_WAIT;
const sCL = TCP.CLOSE;
const sS2 = TCP.SYN_SENT2;
const sIV = TCP.MAX;
const sIG = TCP.IGNORE;

/** The transition table [direction][segment kind][old state] (tcp_conntracks). */
const TRANSITIONS: readonly (readonly (readonly number[])[])[] = [
  [
    /* original      sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
    /* syn    */ [sSS, sSS, sIG, sIG, sIG, sIG, sIG, sSS, sSS, sS2],
    /* synack */ [sIV, sIV, sSR, sIV, sIV, sIV, sIV, sIV, sIV, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sES, sIV, sES, sES, sCW, sCW, sTW, sTW, sCL, sIV],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
  [
    /* reply         sNO  sSS  sSR  sES  sFW  sCW  sLA  sTW  sCL  sS2 */
    /* syn    */ [sIV, sS2, sIV, sIV, sIV, sIV, sIV, sSS, sIV, sS2],
    /* synack */ [sIV, sSR, sIG, sIG, sIG, sIG, sIG, sIG, sIG, sSR],
    /* fin    */ [sIV, sIV, sFW, sFW, sLA, sLA, sLA, sTW, sCL, sIV],
    /* ack    */ [sIV, sIG, sSR, sES, sCW, sCW, sTW, sTW, sCL, sIG],
    /* rst    */ [sIV, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL, sCL],
    /* none   */ [sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV, sIV],
  ],
];

/** Valid combinations of FIN, SYN, RST, ACK, URG (PSH, ECE, CWR are always allowed). */
const VALID_FLAGS: readonly boolean[] = (() => {
  const v = new Array<boolean>(0x40).fill(false);
  const FIN = 0x01;
  const SYN = 0x02;
  const RST = 0x04;
  const ACK = 0x10;
  const URG = 0x20;
  for (const f of [SYN, SYN | URG, SYN | ACK, RST, RST | ACK, FIN | ACK, FIN | ACK | URG, ACK, ACK | URG]) v[f] = true;
  return v;
})();

const MAXACKWINCONST = 66000;
const TCP_MAX_WSCALE = 14;

/** Sequence comparison modulo 2^32: a comes before b. */
function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** Sequence comparison modulo 2^32: a comes after b. */
function after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

function emptyDir(): TcpDirState {
  return { end: 0, maxend: 0, maxwin: 0, maxack: 0, scale: 0, flags: 0 };
}

/** A zeroed TCP state (memset of ip_ct_tcp). */
export function newTcpState(): TcpState {
  return {
    state: TCP.NONE,
    seen: [emptyDir(), emptyDir()],
    lastDir: 0,
    lastIndex: 0,
    lastSeq: 0,
    lastAck: 0,
    lastEnd: 0,
    lastWin: 0,
    lastWscale: 0,
    lastFlags: 0,
    retrans: 0,
  };
}

/** The timeout in seconds of a state or timeout slot, from the sysctls. */
function timeoutOf(env: ConntrackEnv, slot: number): number {
  const r = env.sysctl;
  switch (slot) {
    case TCP.SYN_SENT:
      return readSysctl(r, CT.tcpSynSent);
    case TCP.SYN_RECV:
      return readSysctl(r, CT.tcpSynRecv);
    case TCP.ESTABLISHED:
      return readSysctl(r, CT.tcpEstablished);
    case TCP.FIN_WAIT:
      return readSysctl(r, CT.tcpFinWait);
    case TCP.CLOSE_WAIT:
      return readSysctl(r, CT.tcpCloseWait);
    case TCP.LAST_ACK:
      return readSysctl(r, CT.tcpLastAck);
    case TCP.TIME_WAIT:
      return readSysctl(r, CT.tcpTimeWait);
    case TCP.CLOSE:
      return readSysctl(r, CT.tcpClose);
    case TCP.SYN_SENT2:
      return 120;
    case TCP.RETRANS:
      return readSysctl(r, CT.tcpMaxRetransTimeout);
    case TCP.UNACK:
      return readSysctl(r, CT.tcpUnack);
    default:
      return readSysctl(r, CT.tcpSynSent);
  }
}

/** The segment kind of a flags byte (get_conntrack_index). */
function conntrackIndex(flags: number): number {
  if (flags & 0x04) return RST_SET;
  if (flags & 0x02) return flags & 0x10 ? SYNACK_SET : SYN_SET;
  if (flags & 0x01) return FIN_SET;
  if (flags & 0x10) return ACK_SET;
  return NONE_SET;
}

/** seq + payload length + SYN + FIN (segment_seq_plus_len). */
function segmentEnd(seq: number, len: number, dataoff: number, doff: number, flags: number): number {
  return (seq + len - dataoff - doff * 4 + (flags & 0x02 ? 1 : 0) + (flags & 0x01 ? 1 : 0)) >>> 0;
}

/** tcp_options: window scale and SACK-permitted from a SYN's options. */
function parseOptions(data: Uint8Array, dataoff: number, doff: number, state: TcpDirState): void {
  let length = doff * 4 - 20;
  if (length <= 0) return;
  let p = dataoff + 20;
  state.scale = 0;
  state.flags &= TCPF.BE_LIBERAL;
  while (length > 0) {
    const opcode = data[p++]!;
    if (opcode === 0) return;
    if (opcode === 1) {
      length--;
      continue;
    }
    if (length < 2) return;
    const opsize = data[p++]!;
    if (opsize < 2) return;
    if (opsize > length) return;
    if (opcode === 4 && opsize === 2) state.flags |= TCPF.SACK_PERM;
    else if (opcode === 3 && opsize === 3) {
      state.scale = Math.min(data[p]!, TCP_MAX_WSCALE);
      state.flags |= TCPF.WINDOW_SCALE;
    }
    p += opsize - 2;
    length -= opsize;
  }
}

/** tcp_sack: the highest right edge of the SACK blocks, if above `sack`. */
function highestSack(data: Uint8Array, dataoff: number, doff: number, sack: number): number {
  let length = doff * 4 - 20;
  if (length <= 0) return sack;
  let p = dataoff + 20;
  // timestamp-only options, aligned: NOP NOP TIMESTAMP(10)
  if (length === 12 && data[p] === 1 && data[p + 1] === 1 && data[p + 2] === 8 && data[p + 3] === 10) return sack;
  while (length > 0) {
    const opcode = data[p++]!;
    if (opcode === 0) return sack;
    if (opcode === 1) {
      length--;
      continue;
    }
    if (length < 2) return sack;
    const opsize = data[p++]!;
    if (opsize < 2) return sack;
    if (opsize > length) return sack;
    if (opcode === 5 && opsize >= 10 && (opsize - 2) % 8 === 0) {
      for (let i = 0; i < opsize - 2; i += 8) {
        const edge = get32(data, p + i + 4);
        if (after(edge, sack)) sack = edge;
      }
      return sack;
    }
    p += opsize - 2;
    length -= opsize;
  }
  return sack;
}

/** tcp_init_sender: a SYN (or SYN/ACK) sets up its sender's window data. */
function initSender(sender: TcpDirState, receiver: TcpDirState, data: Uint8Array, dataoff: number, doff: number, end: number, win: number, dir: number): void {
  sender.end = end;
  sender.maxend = end;
  sender.maxwin = win === 0 ? 1 : win;
  parseOptions(data, dataoff, doff, sender);
  if (dir === 1 && !(sender.flags & TCPF.WINDOW_SCALE && receiver.flags & TCPF.WINDOW_SCALE)) {
    sender.scale = 0;
    receiver.scale = 0;
  }
}

// results of tcp_in_window
const W_IGNORE = 0;
const W_INVALID = 1;
const W_ACCEPT = 2;

/** One packet as the tracker reads it. */
interface Seg {
  env: ConntrackEnv;
  skb: Skb;
  hook: ConntrackHook;
  ct: Conn;
  dataoff: number;
  doff: number;
  flags: number;
  seq: number;
  ackSeq: number;
  window: number;
}

/** The segment being tracked (one at a time: reused, not allocated per packet). */
const seg: Seg = { env: null!, skb: null!, hook: 'PREROUTING', ct: null!, dataoff: 0, doff: 0, flags: 0, seq: 0, ackSeq: 0, window: 0 };

/** nf_tcp_log_invalid: liberal connections accept what would be invalid. */
function windowInvalid(g: Seg, sender: TcpDirState, ret: number, msg: string): number {
  if (sender.flags & TCPF.BE_LIBERAL || readSysctl(g.env.sysctl, CT.tcpBeLiberal) !== 0) return W_ACCEPT;
  logInvalidCt(g.env, g.skb, g.hook, g.ct, msg);
  return ret;
}

/** tcp_in_window: checks the segment against both directions' windows and updates them. */
function inWindow(g: Seg, st: TcpState, dir: number, index: number): number {
  const sender = st.seen[dir]!;
  const receiver = st.seen[1 - dir]!;
  const data = g.skb.data;
  const flags = g.flags;
  let seq = g.seq;
  let ack = g.ackSeq;
  let sack = ack;
  const winRaw = g.window;
  let win = winRaw;
  let end = segmentEnd(seq, data.length, g.dataoff, g.doff, flags);

  if (receiver.flags & TCPF.SACK_PERM) sack = highestSack(data, g.dataoff, g.doff, sack);
  // NAT helpers that resized a payload: acknowledgements count the other side's bytes
  const receiverOffset = seqOffset(g.ct, 1 - dir, (ack - 1) >>> 0);
  if (receiverOffset !== 0) {
    ack = (ack - receiverOffset) >>> 0;
    sack = (sack - receiverOffset) >>> 0;
  }

  if (sender.maxwin === 0) {
    if (flags & 0x02) {
      initSender(sender, receiver, data, g.dataoff, g.doff, end, win, dir);
      if (!(flags & 0x10)) return W_ACCEPT; // simultaneous open
    } else {
      // mid-connection: use what the packet says
      sender.end = end;
      const swin = (win << sender.scale) >>> 0;
      sender.maxwin = swin === 0 ? 1 : swin;
      sender.maxend = (end + sender.maxwin) >>> 0;
      if (receiver.maxwin === 0) {
        receiver.end = sack;
        receiver.maxend = sack;
      } else if (sack === ((receiver.end + 1) >>> 0)) {
        receiver.end = (receiver.end + 1) >>> 0;
      }
    }
  } else if (flags & 0x02 && after(end, sender.end) && (st.state === TCP.SYN_SENT || st.state === TCP.SYN_RECV)) {
    // a reinitialised SYN (RFC 793): set this direction up again
    initSender(sender, receiver, data, g.dataoff, g.doff, end, win, dir);
    if (dir === 1 && !(flags & 0x10)) return W_ACCEPT;
  }

  if (!(flags & 0x10)) {
    ack = sack = receiver.end;
  } else if ((flags & 0x14) === 0x14 && ack === 0) {
    // RST with ACK set and a zero acknowledgement (broken stacks)
    ack = sack = receiver.end;
  }

  if (flags & 0x04 && seq === 0 && st.state === TCP.SYN_SENT) {
    // RST answering a SYN
    seq = end = sender.end;
  }

  const maxAckWin = sender.maxwin > MAXACKWINCONST ? sender.maxwin : MAXACKWINCONST;
  const seqOk = before(seq, (sender.maxend + 1) >>> 0);
  if (!seqOk) {
    const overshot = (end - sender.maxend + 1) >>> 0;
    const ackOk = after(sack, (receiver.end - maxAckWin - 1) >>> 0);
    const inRecvWin = receiver.maxwin !== 0 && after(end, (sender.end - receiver.maxwin - 1) >>> 0);
    if (inRecvWin && ackOk && overshot <= receiver.maxwin && before(sack, (receiver.end + 1) >>> 0)) {
      // more bytes than the receive window allows: remember them so their ACK is accepted
      sender.end = end;
      sender.flags |= TCPF.DATA_UNACKNOWLEDGED;
      return windowInvalid(g, sender, W_IGNORE, `${overshot} bytes more than expected`);
    }
    return windowInvalid(g, sender, W_INVALID, `SEQ is over upper bound ${(sender.maxend + 1) >>> 0} (over the window of the receiver)`);
  }

  if (!before(sack, (receiver.end + 1) >>> 0)) {
    return windowInvalid(g, sender, W_INVALID, `ACK is over upper bound ${(receiver.end + 1) >>> 0} (ACKed data not seen yet)`);
  }

  const inRecvWin = receiver.maxwin === 0 || after(end, (sender.end - receiver.maxwin - 1) >>> 0);
  if (!inRecvWin) {
    return windowInvalid(
      g,
      sender,
      W_IGNORE,
      `SEQ is under lower bound ${(sender.end - receiver.maxwin - 1) >>> 0} (already ACKed data retransmitted)`,
    );
  }
  if (!after(sack, (receiver.end - maxAckWin - 1) >>> 0)) {
    return windowInvalid(g, sender, W_IGNORE, `ignored ACK under lower bound ${(receiver.end - maxAckWin - 1) >>> 0} (possible overly delayed)`);
  }

  if (!(flags & 0x02)) win = (win << sender.scale) >>> 0;

  // the sender's side
  const swin = (win + (sack - ack)) >>> 0;
  if (sender.maxwin < swin) sender.maxwin = swin;
  if (after(end, sender.end)) {
    sender.end = end;
    sender.flags |= TCPF.DATA_UNACKNOWLEDGED;
  }
  if (flags & 0x10) {
    if (!(sender.flags & TCPF.MAXACK_SET)) {
      sender.maxack = ack;
      sender.flags |= TCPF.MAXACK_SET;
    } else if (after(ack, sender.maxack)) {
      sender.maxack = ack;
    }
  }

  // the receiver's side
  if (receiver.maxwin !== 0 && after(end, sender.maxend)) receiver.maxwin = (receiver.maxwin + (end - sender.maxend)) >>> 0;
  if (after((sack + win) >>> 0, (receiver.maxend - 1) >>> 0)) {
    receiver.maxend = (sack + win) >>> 0;
    if (win === 0) receiver.maxend = (receiver.maxend + 1) >>> 0;
  }
  if (ack === receiver.end) receiver.flags &= ~TCPF.DATA_UNACKNOWLEDGED;

  // retransmissions of the same ACK segment
  if (index === ACK_SET) {
    if (st.lastDir === dir && st.lastSeq === seq && st.lastAck === ack && st.lastEnd === end && st.lastWin === winRaw) {
      st.retrans++;
    } else {
      st.lastDir = dir;
      st.lastSeq = seq;
      st.lastAck = ack;
      st.lastEnd = end;
      st.lastWin = winRaw;
      st.retrans = 0;
    }
  }
  return W_ACCEPT;
}

/** nf_tcp_handle_invalid: an assured connection answered by an invalid FIN or RST gets the short timeout. */
function handleInvalid(g: Seg, st: TcpState, dir: number, index: number): void {
  const ct = g.ct;
  if (!(ct.status & IPS.ASSURED) || ct.status & IPS.FIXED_TIMEOUT) return;
  if (index !== RST_SET && index !== FIN_SET) return;
  if (st.lastDir !== dir && (st.lastIndex === FIN_SET || st.lastIndex === RST_SET)) {
    const now = jiffyFloorNs(g.env.nowNs());
    const expires = ct.expires - now;
    if (expires < 120 * SEC_NS) return;
    const timeout = timeoutOf(g.env, TCP.UNACK);
    if (expires > timeout * SEC_NS) {
      logInvalidCt(
        g.env,
        g.skb,
        g.hook,
        ct,
        `packet (index ${index}, dir ${dir}) response for index ${st.lastIndex} lower timeout to ${timeout * 250}`,
      );
      const old = ct.expires;
      ct.expires = now + timeout * SEC_NS;
      if (ct.status & IPS.CONFIRMED) g.env.table.noteExpires(ct, old);
    }
  } else {
    st.lastIndex = index;
    st.lastDir = dir;
  }
}

/** tcp_error: truncated headers, bad checksums (PREROUTING) and impossible flag combinations. */
function tcpError(env: ConntrackEnv, skb: Skb, dataoff: number, hook: ConntrackHook): boolean {
  const data = skb.data;
  const tcplen = data.length - dataoff;
  const doff = data[dataoff + 12]! >>> 4;
  if (doff * 4 < 20 || tcplen < doff * 4) {
    logInvalid(env, skb, hook, 6, 'truncated packet');
    return true;
  }
  if (hook === 'PREROUTING' && readSysctl(env.sysctl, CT.checksum) !== 0) {
    if (!verifyTcpChecksum(data, dataoff, tcplen, get32(data, 12), get32(data, 16))) {
      logInvalid(env, skb, hook, 6, 'bad checksum');
      return true;
    }
  }
  const flags = data[dataoff + 13]! & ~(0x40 | 0x80 | 0x08);
  if (!VALID_FLAGS[flags]) {
    logInvalid(env, skb, hook, 6, 'invalid tcp flag combination');
    return true;
  }
  return false;
}

/** tcp_new: sets up a new connection from its first segment; false when it may not start one. */
function tcpNew(g: Seg): boolean {
  const newState = TRANSITIONS[0]![conntrackIndex(g.flags)]![TCP.NONE]!;
  if (newState >= TCP.MAX) {
    logInvalid(g.env, g.skb, g.hook, 6, 'invalid new');
    return false;
  }
  const data = g.skb.data;
  if (newState === TCP.SYN_SENT) {
    const st = newTcpState();
    const s0 = st.seen[0];
    s0.end = segmentEnd(g.seq, data.length, g.dataoff, g.doff, g.flags);
    s0.maxwin = g.window === 0 ? 1 : g.window;
    s0.maxend = s0.end;
    parseOptions(data, g.dataoff, g.doff, s0);
    st.lastIndex = NONE_SET;
    g.ct.l4 = st;
    return true;
  }
  if (readSysctl(g.env.sysctl, CT.tcpLoose) === 0) return false;
  // picked up in the middle: what we know comes from this packet
  const st = newTcpState();
  const s0 = st.seen[0];
  s0.end = segmentEnd(g.seq, data.length, g.dataoff, g.doff, g.flags);
  s0.maxwin = g.window === 0 ? 1 : g.window;
  s0.maxend = (s0.end + s0.maxwin) >>> 0;
  st.seen[0].flags = TCPF.SACK_PERM | TCPF.BE_LIBERAL;
  st.seen[1].flags = TCPF.SACK_PERM | TCPF.BE_LIBERAL;
  st.lastIndex = NONE_SET;
  g.ct.l4 = st;
  return true;
}

/** nf_conntrack_tcp_established: an assured connection in ESTABLISHED. */
function established(ct: Conn, st: TcpState): boolean {
  return st.state === TCP.ESTABLISHED && (ct.status & IPS.ASSURED) !== 0;
}

/** Whether a closing connection may be dropped early (tcp_can_early_drop). */
function canEarlyDrop(st: TcpState): boolean {
  const s = st.state;
  return s === TCP.FIN_WAIT || s === TCP.LAST_ACK || s === TCP.TIME_WAIT || s === TCP.CLOSE || s === TCP.CLOSE_WAIT;
}

/**
 * nf_conntrack_tcp_packet: the verdict for a TCP segment of `ct` in
 * direction ctinfo: 1 (accept), CT_INVALID, CT_REPEAT (the connection was
 * killed to be opened again: look up again) or 0 (drop).
 */
export function tcpPacket(env: ConntrackEnv, ct: Conn, skb: Skb, dataoff: number, ctinfo: number, hook: ConntrackHook): number {
  const data = skb.data;
  if (dataoff + 20 > data.length) return CT_INVALID;
  if (tcpError(env, skb, dataoff, hook)) return CT_INVALID;
  const g = seg;
  g.env = env;
  g.skb = skb;
  g.hook = hook;
  g.ct = ct;
  g.dataoff = dataoff;
  g.doff = data[dataoff + 12]! >>> 4;
  g.flags = data[dataoff + 13]!;
  g.seq = get32(data, dataoff + 4);
  g.ackSeq = get32(data, dataoff + 8);
  g.window = (data[dataoff + 14]! << 8) | data[dataoff + 15]!;
  if (!(ct.status & IPS.CONFIRMED) && !tcpNew(g)) return CT_INVALID;

  const st = ct.l4 as TcpState;
  let oldState = st.state;
  const dir = ctinfoDir(ctinfo);
  const index = conntrackIndex(g.flags);
  let newState = TRANSITIONS[dir]![index]![oldState]!;

  let skipWindow = false;
  switch (newState) {
    case TCP.SYN_SENT:
    case TCP.IGNORE: {
      if (newState === TCP.SYN_SENT) {
        if (oldState < TCP.TIME_WAIT) break;
        // a SYN reopening a closed or aborted connection: drop the old entry and look up again
        if ((st.seen[dir]!.flags | st.seen[1 - dir]!.flags) & TCPF.CLOSE_INIT || (st.lastDir === dir && st.lastIndex === RST_SET)) {
          if (ct.status & IPS.DYING) return 0;
          killConn(env.table, ct);
          return CT_REPEAT;
        }
      }
      if (index === SYNACK_SET && st.lastIndex === SYN_SET && st.lastDir !== dir && g.ackSeq === st.lastEnd) {
        // this SYN/ACK answers a SYN we ignored: both ends are in sync, get in sync from the annotations
        oldState = TCP.SYN_SENT;
        newState = TCP.SYN_RECV;
        const ld = st.seen[st.lastDir]!;
        ld.end = st.lastEnd;
        ld.maxend = st.lastEnd;
        ld.maxwin = st.lastWin === 0 ? 1 : st.lastWin;
        ld.scale = st.lastWscale;
        st.lastFlags &= ~TCPF.EXP_CHALLENGE_ACK;
        ld.flags = st.lastFlags;
        const d = st.seen[dir]!;
        d.end = 0;
        d.maxend = 0;
        d.maxwin = 0;
        d.maxack = 0;
        d.scale = 0;
        d.flags &= TCPF.BE_LIBERAL;
        break;
      }
      st.lastIndex = index;
      st.lastDir = dir;
      st.lastSeq = g.seq;
      st.lastEnd = segmentEnd(g.seq, data.length, dataoff, g.doff, g.flags);
      st.lastWin = g.window;
      if (index === SYN_SET && dir === 0) {
        // annotate the SYN's options, in case the peer answers it
        const seen = emptyDir();
        st.lastFlags = 0;
        st.lastWscale = 0;
        parseOptions(data, dataoff, g.doff, seen);
        if (seen.flags & TCPF.WINDOW_SCALE) {
          st.lastFlags |= TCPF.WINDOW_SCALE;
          st.lastWscale = seen.scale;
        }
        if (seen.flags & TCPF.SACK_PERM) st.lastFlags |= TCPF.SACK_PERM;
        if (oldState === TCP.LAST_ACK) st.lastFlags |= TCPF.EXP_CHALLENGE_ACK;
      }
      if (oldState === TCP.SYN_SENT && index === ACK_SET && dir === 1) st.lastAck = g.ackSeq;
      logInvalidCt(env, skb, hook, ct, `packet (index ${index}) in dir ${dir} ignored, state ${TCP_STATE_NAMES[oldState]}`);
      return 1;
    }
    case TCP.MAX:
      logInvalidCt(env, skb, hook, ct, `packet (index ${index}) in dir ${dir} invalid, state ${TCP_STATE_NAMES[oldState]}`);
      return CT_INVALID;
    case TCP.TIME_WAIT:
      if (oldState === TCP.LAST_ACK && index === ACK_SET && st.lastDir !== dir && st.lastIndex === SYN_SET && st.lastFlags & TCPF.EXP_CHALLENGE_ACK) {
        // an RFC 5961 challenge ACK, not the ACK of the last FIN
        st.lastFlags &= ~TCPF.EXP_CHALLENGE_ACK;
        logInvalidCt(env, skb, hook, ct, 'challenge-ack ignored');
        return 1;
      }
      break;
    case TCP.SYN_SENT2:
      st.lastFlags |= TCPF.SIMULTANEOUS_OPEN;
      break;
    case TCP.SYN_RECV:
      if (dir === 1 && index === ACK_SET && st.lastFlags & TCPF.SIMULTANEOUS_OPEN) newState = TCP.ESTABLISHED;
      break;
    case TCP.CLOSE: {
      if (index !== RST_SET) break;
      if (canEarlyDrop(st)) {
        skipWindow = true;
        break;
      }
      const other = st.seen[1 - dir]!;
      if (other.flags & TCPF.MAXACK_SET && st.lastIndex !== SYN_SET) {
        const seq = g.seq;
        if (seq === 0 && !established(ct, st)) break;
        if (before(seq, other.maxack) && readSysctl(env.sysctl, CT.tcpIgnoreInvalidRst) === 0) {
          logInvalidCt(env, skb, hook, ct, 'invalid rst');
          return CT_INVALID;
        }
        if (!established(ct, st) || seq === other.maxack) break;
        if (st.lastIndex === ACK_SET && st.lastDir === dir && seq === st.lastEnd) break;
        // an RST whose sequence number is not exactly right: keep the state for a challenge ACK
        newState = oldState;
      }
      if (
        ((ct.status & IPS.SEEN_REPLY && st.lastIndex === SYN_SET) || (!(ct.status & IPS.ASSURED) && st.lastIndex === ACK_SET)) &&
        g.ackSeq === st.lastEnd
      ) {
        // RST to a SYN or ACK let through above: delete the entry without checking windows
        skipWindow = true;
        break;
      }
      if (oldState === TCP.SYN_SENT && st.lastIndex === ACK_SET && st.lastDir === 1 && g.seq === st.lastAck) {
        // RST answering a challenge ACK let through earlier
        skipWindow = true;
      }
      break;
    }
    default:
      break;
  }

  if (!skipWindow) {
    const res = inWindow(g, st, dir, index);
    if (res === W_IGNORE) return 1;
    if (res === W_INVALID) {
      handleInvalid(g, st, dir, index);
      return CT_INVALID;
    }
  }

  // from here the segment is in the window
  st.lastIndex = index;
  st.lastDir = dir;
  st.state = newState;
  if (oldState !== newState && newState === TCP.FIN_WAIT) st.seen[dir]!.flags |= TCPF.CLOSE_INIT;

  // the timeout: shorter after retransmissions, a reset, unacknowledged data or a zero window
  const stateTimeout = timeoutOf(env, newState);
  let timeout = stateTimeout;
  if (st.retrans >= readSysctl(env.sysctl, CT.tcpMaxRetrans) && stateTimeout > timeoutOf(env, TCP.RETRANS)) {
    timeout = timeoutOf(env, TCP.RETRANS);
  } else if (index === RST_SET) {
    timeout = timeoutOf(env, TCP.CLOSE);
  } else if ((st.seen[0].flags | st.seen[1].flags) & TCPF.DATA_UNACKNOWLEDGED && stateTimeout > timeoutOf(env, TCP.UNACK)) {
    timeout = timeoutOf(env, TCP.UNACK);
  } else if (st.lastWin === 0 && stateTimeout > timeoutOf(env, TCP.RETRANS)) {
    timeout = timeoutOf(env, TCP.RETRANS);
  }

  if (!(ct.status & IPS.SEEN_REPLY)) {
    if (g.flags & 0x04) {
      // the only answer was a reset: no connection
      killAcct(env, ct, ctinfo, data.length);
      return 1;
    }
    // a retransmitted SYN does not renew the timeout
    if (index === SYN_SET && oldState === TCP.SYN_SENT) return 1;
    // picked up mid-stream, no reply yet: not the long ESTABLISHED timeout
    if (newState === TCP.ESTABLISHED && timeout > timeoutOf(env, TCP.UNACK)) timeout = timeoutOf(env, TCP.UNACK);
  } else if (!(ct.status & IPS.ASSURED) && (oldState === TCP.SYN_RECV || oldState === TCP.ESTABLISHED) && newState === TCP.ESTABLISHED) {
    ct.status |= IPS.ASSURED;
  }
  refreshAcct(env, ct, ctinfo, data.length, timeout);
  return 1;
}

/** The state name of a TCP connection (for listings). */
export function tcpStateName(ct: Conn): string {
  const st = ct.l4 as TcpState | null;
  return TCP_STATE_NAMES[st ? st.state : 0] ?? 'NONE';
}
