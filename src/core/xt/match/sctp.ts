/**
 * The sctp match: port ranges and chunk types (with per-chunk flags),
 * loaded by -m sctp or implicitly by -p sctp.
 */
import { parsePortRange, printPorts } from './tcp.js';
import { requireProto } from '../protocheck.js';
import { defineMatch, paramError } from '../index-types.js';
import type { PacketContext } from '../packet.js';
import { PROTO_HELP } from '../proto-help.js';

/** One xt_sctp_flag_info entry. */
export interface SctpFlagInfo {
  chunktype: number;
  flag: number;
  flagMask: number;
}

/** xt_sctp_info data. */
export interface SctpInfo {
  dpts: [number, number];
  spts: [number, number];
  /** 256-bit chunk map as eight 32-bit words. */
  chunkmap: number[];
  /** SCTP_CHUNK_MATCH_ANY (1), ALL (2), ONLY (4). */
  chunkMatchType: number;
  flagInfo: SctpFlagInfo[];
  flagCount: number;
  /** XT_SCTP_* bits of the options given. */
  flags: number;
  invflags: number;
}

/** Option bits of xt_sctp_info.flags. */
export const SCTP_FLAGS = { SRC_PORTS: 0x01, DEST_PORTS: 0x02, CHUNK_TYPES: 0x04 } as const;

/** XT_NUM_SCTP_FLAGS. */
const NUM_FLAGS = 4;

/** Chunk names, numbers and the flag letters each allows (bit 7 first). */
const CHUNKS: readonly [string, number, string][] = [
  ['DATA', 0, '----IUBE'],
  ['INIT', 1, '--------'],
  ['INIT_ACK', 2, '--------'],
  ['SACK', 3, '--------'],
  ['HEARTBEAT', 4, '--------'],
  ['HEARTBEAT_ACK', 5, '--------'],
  ['ABORT', 6, '-------T'],
  ['SHUTDOWN', 7, '--------'],
  ['SHUTDOWN_ACK', 8, '--------'],
  ['ERROR', 9, '--------'],
  ['COOKIE_ECHO', 10, '--------'],
  ['COOKIE_ACK', 11, '--------'],
  ['ECN_ECNE', 12, '--------'],
  ['ECN_CWR', 13, '--------'],
  ['SHUTDOWN_COMPLETE', 14, '-------T'],
  ['I_DATA', 64, '----IUBE'],
  ['RE_CONFIG', 130, '--------'],
  ['PAD', 132, '--------'],
  ['ASCONF', 193, '--------'],
  ['ASCONF_ACK', 128, '--------'],
  ['FORWARD_TSN', 192, '--------'],
  ['I_FORWARD_TSN', 194, '--------'],
];

const isSet = (map: number[], n: number) => ((map[n >>> 5]! >>> (n & 31)) & 1) === 1;

/**
 * Records one chunk flag. Like iptables, the entry is keyed by the chunk's
 * index in the name table rather than its type number, which only agree
 * for the first fifteen chunks.
 */
function saveFlag(info: SctpInfo, key: number, bit: number, set: boolean): void {
  let e = info.flagInfo.slice(0, info.flagCount).find((f) => f.chunktype === key);
  if (!e) {
    if (info.flagCount === NUM_FLAGS)
      throw paramError(
        'Number of chunk types with flags exceeds currently allowed limit. Increasing this limit involves changing IPT_NUM_SCTP_FLAGS and recompiling both the kernel space and user space modules',
      );
    e = info.flagInfo[info.flagCount]!;
    e.chunktype = key;
    info.flagCount++;
  }
  e.flagMask |= 1 << bit;
  if (set) e.flag |= 1 << bit;
}

function parseChunks(info: SctpInfo, list: string): void {
  info.chunkmap = new Array(8).fill(0);
  if (list.toUpperCase() === 'ALL') {
    info.chunkmap = new Array(8).fill(0xffffffff);
    return;
  }
  if (list.toUpperCase() === 'NONE') return;
  for (const word of list.split(',').filter((w) => w !== '')) {
    const colon = word.indexOf(':');
    const name = colon < 0 ? word : word.slice(0, colon);
    const idx = CHUNKS.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
    if (idx < 0) throw paramError(`Unknown sctp chunk \`${name}'`);
    const [, type, valid] = CHUNKS[idx]!;
    info.chunkmap[type >>> 5] = (info.chunkmap[type >>> 5]! | (1 << (type & 31))) >>> 0;
    if (colon < 0) continue;
    for (const ch of word.slice(colon + 1)) {
      const pos = valid.indexOf(ch.toUpperCase());
      if (pos < 0) throw paramError(`Invalid flags for chunk type ${idx}`);
      saveFlag(info, idx, 7 - pos, ch !== ch.toLowerCase());
    }
  }
}

function chunkFlags(type: number, flag: number, mask: number): string {
  if (!mask) return '';
  const valid = CHUNKS[type]?.[2] ?? '';
  let s = ':';
  for (let i = 7; i >= 0; i--) {
    if (!(mask & (1 << i))) continue;
    const c = valid[7 - i] ?? '';
    s += flag & (1 << i) ? c : c.toLowerCase();
  }
  return s;
}

function chunkList(info: SctpInfo, numeric: boolean): string {
  let s: string;
  if (info.chunkMatchType === 1) s = ' any';
  else if (info.chunkMatchType === 2) s = ' all';
  else if (info.chunkMatchType === 4) s = ' only';
  else s = 'Never reach here\n';
  if (info.chunkmap.every((w) => w === 0)) return `${s} NONE`;
  if (info.chunkmap.every((w) => w >>> 0 === 0xffffffff)) return `${s} ALL`;
  let first = true;
  for (let i = 0; i < 256; i++) {
    if (!isSet(info.chunkmap, i)) continue;
    s += first ? ' ' : ',';
    first = false;
    s += numeric
      ? `0x${i.toString(16).toUpperCase().padStart(4, '0')}`
      : CHUNKS.filter(([, t]) => t === i)
          .map(([n]) => n)
          .join('');
    for (const f of info.flagInfo.slice(0, info.flagCount)) if (f.chunktype === i) s += chunkFlags(i, f.flag, f.flagMask);
  }
  return s;
}

function saveRange(opt: string, r: [number, number], inv: boolean): string {
  return `${inv ? ' !' : ''} --${opt} ${r[0] === r[1] ? r[0] : `${r[0]}:${r[1]}`}`;
}

/** The sctp match definition (-m sctp, -p sctp). */
export const sctp = defineMatch<SctpInfo>({
  name: 'sctp',
  help: () => PROTO_HELP['sctp']!,
  oldStyle: true,
  options: [
    { name: 'source-port', id: 0, type: 'string' },
    { name: 'sport', id: 0, type: 'string' },
    { name: 'destination-port', id: 1, type: 'string' },
    { name: 'dport', id: 1, type: 'string' },
    { name: 'chunk-types', id: 2, type: 'string' },
  ],
  init: () => ({
    dpts: [0, 0],
    spts: [0, 0],
    chunkmap: new Array(8).fill(0),
    chunkMatchType: 0,
    flagInfo: Array.from({ length: NUM_FLAGS }, () => ({ chunktype: 0xff, flag: 0, flagMask: 0 })),
    flagCount: 0,
    flags: 0,
    invflags: 0,
  }),
  parse(cb) {
    const info = cb.info;
    const has = (id: number) => (cb.xflags & (1 << id)) !== 0;
    switch (cb.entry.id) {
      case 0:
        if (has(0)) throw paramError("Only one `--source-port' allowed");
        info.flags |= SCTP_FLAGS.SRC_PORTS;
        info.spts = parsePortRange(cb.names, cb.arg!, 'sctp');
        if (cb.invert) info.invflags |= SCTP_FLAGS.SRC_PORTS;
        break;
      case 1:
        if (has(1)) throw paramError("Only one `--destination-port' allowed");
        info.flags |= SCTP_FLAGS.DEST_PORTS;
        info.dpts = parsePortRange(cb.names, cb.arg!, 'sctp');
        if (cb.invert) info.invflags |= SCTP_FLAGS.DEST_PORTS;
        break;
      case 2: {
        if (has(2)) throw paramError("Only one `--chunk-types' allowed");
        const next = cb.peekArg();
        if (next === undefined || next[0] === '-' || next[0] === '!') throw paramError('--chunk-types requires two args');
        info.flags |= SCTP_FLAGS.CHUNK_TYPES;
        const kind = cb.arg!.toUpperCase();
        if (kind === 'ANY') info.chunkMatchType = 1;
        else if (kind === 'ALL') info.chunkMatchType = 2;
        else if (kind === 'ONLY') info.chunkMatchType = 4;
        else throw paramError('Match type has to be one of "ALL", "ANY" or "ONLY"');
        parseChunks(info, cb.nextArg()!);
        if (cb.invert) info.invflags |= SCTP_FLAGS.CHUNK_TYPES;
        break;
      }
    }
  },
  check(info, ctx) {
    const bad =
      info.flags & ~0x07 ||
      info.invflags & ~0x07 ||
      info.invflags & ~info.flags ||
      (info.flags & SCTP_FLAGS.CHUNK_TYPES && !(info.chunkMatchType & 0x07)) ||
      info.flagCount > NUM_FLAGS;
    if (bad) return { errno: 'EINVAL' };
    return requireProto(ctx, 132);
  },
  print(info, { names, numeric }) {
    let s = ' sctp';
    if (info.flags & SCTP_FLAGS.SRC_PORTS)
      s += printPorts(names, 'spt', info.spts, (info.invflags & SCTP_FLAGS.SRC_PORTS) !== 0, numeric, 'sctp');
    if (info.flags & SCTP_FLAGS.DEST_PORTS)
      s += printPorts(names, 'dpt', info.dpts, (info.invflags & SCTP_FLAGS.DEST_PORTS) !== 0, numeric, 'sctp');
    if (info.flags & SCTP_FLAGS.CHUNK_TYPES) {
      if (info.invflags & SCTP_FLAGS.CHUNK_TYPES) s += ' !';
      s += chunkList(info, numeric);
    }
    return s;
  },
  save(info) {
    let s = '';
    if (info.flags & SCTP_FLAGS.SRC_PORTS) s += saveRange('sport', info.spts, (info.invflags & SCTP_FLAGS.SRC_PORTS) !== 0);
    if (info.flags & SCTP_FLAGS.DEST_PORTS) s += saveRange('dport', info.dpts, (info.invflags & SCTP_FLAGS.DEST_PORTS) !== 0);
    if (info.flags & SCTP_FLAGS.CHUNK_TYPES)
      s += `${info.invflags & SCTP_FLAGS.CHUNK_TYPES ? ' !' : ''} --chunk-types${chunkList(info, false)}`;
    return s;
  },
  match(info, ctx) {
    if (ctx.fragoff !== 0) return false;
    const d = ctx.skb.data;
    const t = ctx.thoff;
    // the 12-byte common header
    if (d.length < t + 12) {
      ctx.hotdrop = true;
      return false;
    }
    const check = (bit: number, cond: () => boolean) => !(info.flags & bit) || ((info.invflags & bit) !== 0) !== cond();
    const sp = (d[t]! << 8) | d[t + 1]!;
    const dp = (d[t + 2]! << 8) | d[t + 3]!;
    return (
      check(SCTP_FLAGS.SRC_PORTS, () => sp >= info.spts[0] && sp <= info.spts[1]) &&
      check(SCTP_FLAGS.DEST_PORTS, () => dp >= info.dpts[0] && dp <= info.dpts[1]) &&
      check(SCTP_FLAGS.CHUNK_TYPES, () => chunksMatch(info, ctx, t + 12))
    );
  },
});

/** match_flags: the flags of a chunk whose type has a flag entry must fit it. */
function flagsMatch(info: SctpInfo, type: number, flags: number): boolean {
  for (let i = 0; i < info.flagCount; i++) {
    const f = info.flagInfo[i]!;
    if (f.chunktype === type) return (flags & f.flagMask) === f.flag;
  }
  return true;
}

/** match_packet: walks the chunks from `off` (a zero length or a missing header drops the packet). */
function chunksMatch(info: SctpInfo, ctx: PacketContext, off: number): boolean {
  const d = ctx.skb.data;
  const kind = info.chunkMatchType;
  const left = kind === 2 ? info.chunkmap.map((w) => w >>> 0) : null;
  do {
    if (d.length < off + 4 || (d[off + 2] === 0 && d[off + 3] === 0)) {
      ctx.hotdrop = true;
      return false;
    }
    const type = d[off]!;
    const flags = d[off + 1]!;
    off += (((d[off + 2]! << 8) | d[off + 3]!) + 3) & ~3;
    if (isSet(info.chunkmap, type)) {
      if (kind === 1) {
        if (flagsMatch(info, type, flags)) return true;
      } else if (kind === 2) {
        if (flagsMatch(info, type, flags)) left![type >>> 5] = (left![type >>> 5]! & ~(1 << (type & 31))) >>> 0;
      } else if (kind === 4) {
        if (!flagsMatch(info, type, flags)) return false;
      }
    } else if (kind === 4) {
      return false;
    }
  } while (off < d.length);
  if (kind === 2) return left!.every((w) => w === 0);
  return kind === 4;
}
