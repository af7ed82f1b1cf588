/**
 * SCTP tracking (nf_conntrack_proto_sctp.c): the association's state
 * follows its control chunks (INIT, INIT ACK, COOKIE ECHO/ACK, SHUTDOWN,
 * ABORT, HEARTBEAT...), verification tags are checked as RFC 9260 section
 * 8.5 asks, and every state has its own timeout. Bad CRC32c checksums
 * (PREROUTING, nf_conntrack_checksum) and malformed chunk lists are
 * invalid.
 */
import type { Skb } from '../path/skb.js';
import { get32 } from '../wire/bytes.js';
import { CT_INVALID, type ConntrackEnv, type ConntrackHook, ctinfoDir, logInvalid, logInvalidCt, refreshAcct } from './env.js';
import { CT, readSysctl } from './sysctl.js';
import { IPS, type Conn } from './types.js';

/** SCTP conntrack states. */
export const SCTP_STATE_NAMES: readonly string[] = [
  'NONE',
  'CLOSED',
  'COOKIE_WAIT',
  'COOKIE_ECHOED',
  'ESTABLISHED',
  'SHUTDOWN_SENT',
  'SHUTDOWN_RECD',
  'SHUTDOWN_ACK_SENT',
  'HEARTBEAT_SENT',
];

/** The SCTP part of a connection. */
export interface SctpState {
  state: number;
  /** Verification tags expected per direction (as unsigned 32-bit numbers). */
  vtag: [number, number];
  /** Whether an INIT was seen per direction. */
  init: [number, number];
  /** HEARTBEAT_VTAG_FAILED. */
  flags: number;
  lastDir: number;
}

const NO = 0;
const CL = 1;
const CW = 2;
const CE = 3;
const ES = 4;
const SS = 5;
const SR = 6;
const SA = 7;
const HS = 8;
const IV = 9;

// chunk types
const DATA = 0;
const INIT = 1;
const INIT_ACK = 2;
const HEARTBEAT = 4;
const HEARTBEAT_ACK = 5;
const ABORT = 6;
const SHUTDOWN = 7;
const SHUTDOWN_ACK = 8;
const ERROR = 9;
const COOKIE_ECHO = 10;
const COOKIE_ACK = 11;
const SHUTDOWN_COMPLETE = 14;
const FLAG_T = 0x01;
const HEARTBEAT_VTAG_FAILED = 1;

/** Transitions [direction][chunk row][state] (sctp_conntracks). */
const TRANSITIONS: readonly (readonly (readonly number[])[])[] = [
  [
    /*                  NO  CL  CW  CE  ES  SS  SR  SA  HS */
    /* init         */ [CL, CL, CW, CE, ES, CL, CL, SA, CW],
    /* init_ack     */ [CL, CL, CW, CE, ES, SS, SR, SA, CL],
    /* abort        */ [CL, CL, CL, CL, CL, CL, CL, CL, CL],
    /* shutdown     */ [CL, CL, CW, CE, SS, SS, SR, SA, CL],
    /* shutdown_ack */ [SA, CL, CW, CE, ES, SA, SA, SA, SA],
    /* error        */ [CL, CL, CW, CE, ES, SS, SR, SA, CL],
    /* cookie_echo  */ [CL, CL, CE, CE, ES, SS, SR, SA, CL],
    /* cookie_ack   */ [CL, CL, CW, ES, ES, SS, SR, SA, CL],
    /* shutdown_comp*/ [CL, CL, CW, CE, ES, SS, SR, CL, CL],
    /* heartbeat    */ [HS, CL, CW, CE, ES, SS, SR, SA, HS],
    /* heartbeat_ack*/ [CL, CL, CW, CE, ES, SS, SR, SA, HS],
  ],
  [
    /*                  NO  CL  CW  CE  ES  SS  SR  SA  HS */
    /* init         */ [IV, CL, CW, CE, ES, SS, SR, SA, IV],
    /* init_ack     */ [IV, CW, CW, CE, ES, SS, SR, SA, IV],
    /* abort        */ [IV, CL, CL, CL, CL, CL, CL, CL, IV],
    /* shutdown     */ [IV, CL, CW, CE, SR, SS, SR, SA, IV],
    /* shutdown_ack */ [IV, CL, CW, CE, ES, SA, SA, SA, IV],
    /* error        */ [IV, CL, CW, CL, ES, SS, SR, SA, IV],
    /* cookie_echo  */ [IV, CL, CE, CE, ES, SS, SR, SA, IV],
    /* cookie_ack   */ [IV, CL, CW, ES, ES, SS, SR, SA, IV],
    /* shutdown_comp*/ [IV, CL, CW, CE, ES, SS, SR, CL, IV],
    /* heartbeat    */ [IV, CL, CW, CE, ES, SS, SR, SA, HS],
    /* heartbeat_ack*/ [IV, CL, CW, CE, ES, SS, SR, SA, ES],
  ],
];

/** Row of the transition table for a chunk type, or -1 for chunks that keep the state. */
function chunkRow(type: number): number {
  switch (type) {
    case INIT:
      return 0;
    case INIT_ACK:
      return 1;
    case ABORT:
      return 2;
    case SHUTDOWN:
      return 3;
    case SHUTDOWN_ACK:
      return 4;
    case ERROR:
      return 5;
    case COOKIE_ECHO:
      return 6;
    case COOKIE_ACK:
      return 7;
    case SHUTDOWN_COMPLETE:
      return 8;
    case HEARTBEAT:
      return 9;
    case HEARTBEAT_ACK:
      return 10;
    default:
      return -1;
  }
}

function newState(dir: number, cur: number, type: number): number {
  const row = chunkRow(type);
  return row < 0 ? cur : TRANSITIONS[dir]![row]![cur]!;
}

function timeoutOf(env: ConntrackEnv, state: number): number {
  const r = env.sysctl;
  switch (state) {
    case CW:
      return readSysctl(r, CT.sctpCookieWait);
    case CE:
      return readSysctl(r, CT.sctpCookieEchoed);
    case ES:
      return readSysctl(r, CT.sctpEstablished);
    case SS:
      return readSysctl(r, CT.sctpShutdownSent);
    case SR:
      return readSysctl(r, CT.sctpShutdownRecd);
    case SA:
      return readSysctl(r, CT.sctpShutdownAckSent);
    case HS:
      return readSysctl(r, CT.sctpHeartbeatSent);
    default:
      return readSysctl(r, CT.sctpClosed);
  }
}

let crcTable: Uint32Array | null = null;

/** CRC32c (Castagnoli, reflected) of the SCTP packet with its checksum field taken as zero, as stored on the wire. */
export function sctpChecksum(data: Uint8Array, off: number, end: number): number {
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = off; i < end; i++) {
    const b = i >= off + 8 && i < off + 12 ? 0 : data[i]!;
    crc = crcTable[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  }
  crc = ~crc >>> 0;
  // the CRC goes on the wire least significant byte first
  return (((crc & 0xff) << 24) | ((crc & 0xff00) << 8) | ((crc >>> 8) & 0xff00) | (crc >>> 24)) >>> 0;
}

/** The chunks of the packet: [offset, type, flags] triples; null when a chunk has length zero or a COOKIE/INIT chunk is misplaced (do_basic_checks). */
function chunks(data: Uint8Array, dataoff: number, out: number[]): boolean {
  out.length = 0;
  let count = 0;
  let flag = false;
  for (let off = dataoff + 12; off < data.length && off + 4 <= data.length; count++) {
    const type = data[off]!;
    const len = (data[off + 2]! << 8) | data[off + 3]!;
    if (type === INIT || type === INIT_ACK || type === SHUTDOWN_COMPLETE) flag = true;
    if (((type === COOKIE_ACK || type === COOKIE_ECHO || flag) && count !== 0) || len === 0) return false;
    out.push(off, type, data[off + 1]!);
    off += (len + 3) & ~3;
  }
  return count !== 0;
}

const found: number[] = [];

/** nf_conntrack_sctp_packet: the verdict for an SCTP packet of `ct` (CT_INVALID when invalid). */
export function sctpPacket(env: ConntrackEnv, ct: Conn, skb: Skb, dataoff: number, ctinfo: number, hook: ConntrackHook): number {
  const data = skb.data;
  if (data.length < dataoff + 12) {
    logInvalid(env, skb, hook, 132, 'nf_ct_sctp: short packet ');
    return CT_INVALID;
  }
  if (hook === 'PREROUTING' && readSysctl(env.sysctl, CT.checksum) !== 0 && get32(data, dataoff + 8) !== sctpChecksum(data, dataoff, data.length)) {
    logInvalid(env, skb, hook, 132, 'nf_ct_sctp: bad CRC ');
    return CT_INVALID;
  }
  if (!chunks(data, dataoff, found)) return CT_INVALID;
  const has = (t: number): boolean => {
    for (let i = 1; i < found.length; i += 3) if (found[i] === t) return true;
    return false;
  };
  const vtag = get32(data, dataoff + 4);
  const dir = ctinfoDir(ctinfo);

  if (!(ct.status & IPS.CONFIRMED)) {
    // an out-of-the-blue packet with these chunks starts nothing (section 8.4)
    if (has(ABORT) || has(SHUTDOWN_COMPLETE) || has(COOKIE_ACK)) return CT_INVALID;
    const st: SctpState = { state: NO, vtag: [0, 0], init: [0, 0], flags: 0, lastDir: 0 };
    for (let i = 0; i < found.length; i += 3) {
      const type = found[i + 1]!;
      const ns = newState(0, NO, type);
      if (ns === NO || ns === IV) return CT_INVALID;
      if (type === INIT) {
        if (vtag !== 0) return CT_INVALID;
        if (found[i]! + 4 + 16 > data.length) return CT_INVALID;
        st.vtag[1] = get32(data, found[i]! + 4);
      } else if (type === HEARTBEAT) {
        st.vtag[0] = vtag;
      } else if (type === SHUTDOWN_ACK) {
        st.vtag[1] = vtag;
      }
    }
    ct.l4 = st;
  }
  const st = ct.l4 as SctpState;

  // verification tag (section 8.5)
  if (
    !has(INIT) &&
    !has(SHUTDOWN_COMPLETE) &&
    !has(COOKIE_ECHO) &&
    !has(ABORT) &&
    !has(SHUTDOWN_ACK) &&
    !has(HEARTBEAT) &&
    !has(HEARTBEAT_ACK) &&
    vtag !== st.vtag[dir]
  ) {
    logInvalidCt(env, skb, hook, ct, `verification tag check failed ${hex(vtag)} vs ${hex(st.vtag[dir]!)} for dir ${dir}`);
    return CT_INVALID;
  }

  let ignore = false;
  let ns = NO;
  for (let i = 0; i < found.length; i += 3) {
    const off = found[i]!;
    const type = found[i + 1]!;
    const flags = found[i + 2]!;
    if (type === INIT) {
      if (vtag !== 0) return CT_INVALID;
    } else if (type === ABORT || type === SHUTDOWN_COMPLETE) {
      if ((!(flags & FLAG_T) && vtag !== st.vtag[dir]) || (flags & FLAG_T && vtag !== st.vtag[1 - dir])) return CT_INVALID;
    } else if (type === COOKIE_ECHO) {
      if (vtag !== st.vtag[dir]) return CT_INVALID;
    } else if (type === COOKIE_ACK) {
      st.init[0] = 0;
      st.init[1] = 0;
    } else if (type === HEARTBEAT) {
      if (st.vtag[dir] === 0) {
        st.vtag[dir] = vtag;
      } else if (vtag !== st.vtag[dir]) {
        if (has(DATA) || ignore) return CT_INVALID;
        st.flags |= HEARTBEAT_VTAG_FAILED;
        st.lastDir = dir;
        ignore = true;
        continue;
      } else if (st.flags & HEARTBEAT_VTAG_FAILED) {
        st.flags &= ~HEARTBEAT_VTAG_FAILED;
      }
    } else if (type === HEARTBEAT_ACK) {
      if (st.vtag[dir] === 0) {
        st.vtag[dir] = vtag;
      } else if (vtag !== st.vtag[dir]) {
        if (has(DATA) || ignore) return CT_INVALID;
        if (!(st.flags & HEARTBEAT_VTAG_FAILED) || st.lastDir === dir) return CT_INVALID;
        st.flags &= ~HEARTBEAT_VTAG_FAILED;
        st.vtag[dir] = vtag;
        st.vtag[1 - dir] = 0;
      } else if (st.flags & HEARTBEAT_VTAG_FAILED) {
        st.flags &= ~HEARTBEAT_VTAG_FAILED;
      }
    }

    const old = st.state;
    ns = newState(dir, old, type);
    if (ns === IV) {
      logInvalidCt(env, skb, hook, ct, `Invalid, old_state ${old}, dir ${dir}, type ${type}`);
      return CT_INVALID;
    }
    if (type === INIT) {
      if (off + 4 + 16 > data.length) return CT_INVALID;
      if (st.init[dir] && st.init[1 - dir]) st.init[1 - dir] = 0;
      st.init[dir] = 1;
      st.vtag[1 - dir] = get32(data, off + 4);
      // a retransmitted INIT does not renew the timeout
      if (ns === CL && old === CL && ct.status & IPS.CONFIRMED) ignore = true;
    } else if (type === INIT_ACK) {
      if (off + 4 + 16 > data.length) return CT_INVALID;
      const tag = get32(data, off + 4);
      const v = st.vtag[1 - dir]!;
      if (!st.init[1 - dir] && v && v !== tag) return CT_INVALID;
      if (st.init[dir] && st.init[1 - dir] && v !== tag) return CT_INVALID;
      st.vtag[1 - dir] = tag;
    }
    st.state = ns;
    if (old !== ns && ns === ES) ct.status |= IPS.ASSURED;
  }
  if (ignore) return 1;
  refreshAcct(env, ct, ctinfo, data.length, timeoutOf(env, ns));
  return 1;
}

function hex(v: number): string {
  // the kernel prints the tag as it is in memory (network order) with %x
  const swapped = (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
  return swapped.toString(16);
}

/** The state name of an SCTP connection (for listings). */
export function sctpStateName(ct: Conn): string {
  const st = ct.l4 as SctpState | null;
  return SCTP_STATE_NAMES[st ? st.state : 0] ?? 'NONE';
}
