/**
 * The dccp match: port ranges, packet types and one DCCP option number,
 * loaded by -m dccp or implicitly by -p dccp.
 */
import { printPorts } from './tcp.js';
import { requireProto } from '../protocheck.js';
import { defineMatch, paramError } from '../index-types.js';
import type { PacketContext } from '../packet.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_dccp_info data. */
export interface DccpInfo {
  dpts: [number, number];
  spts: [number, number];
  /** XT_DCCP_* bits of the options given. */
  flags: number;
  invflags: number;
  /** Bit i = packet type i. */
  typemask: number;
  option: number;
}

/** Option bits of xt_dccp_info.flags. */
export const DCCP_FLAGS = { SRC_PORTS: 0x01, DEST_PORTS: 0x02, TYPE: 0x04, OPTION: 0x08 } as const;

/** Packet type names by number (DCCP_PKT_*). */
const TYPES = ['REQUEST', 'RESPONSE', 'DATA', 'ACK', 'DATAACK', 'CLOSEREQ', 'CLOSE', 'RESET', 'SYNC', 'SYNCACK', 'INVALID'];
const INVALID = 10;
/** Types 11-15, folded into INVALID. */
const INVALID_OTHER = 0xf800;

function parseTypes(list: string): number {
  let mask = 0;
  for (const word of list.split(',').filter((w) => w !== '')) {
    const i = TYPES.findIndex((t) => t.toLowerCase() === word.toLowerCase());
    if (i < 0) throw paramError(`Unknown DCCP type \`${word}'`);
    mask |= 1 << i;
  }
  if (mask & (1 << INVALID)) mask |= INVALID_OTHER;
  return mask;
}

function typeList(mask: number, numeric: boolean): string {
  const out: string[] = [];
  for (let i = 0; i < 16; i++) {
    if (!(mask & (1 << i))) continue;
    out.push(numeric ? String(i) : TYPES[i]!);
    if (!numeric && i === INVALID) break;
  }
  return ' ' + out.join(',');
}

function saveRange(opt: string, r: [number, number], inv: boolean): string {
  return `${inv ? ' !' : ''} --${opt} ${r[0] === r[1] ? r[0] : `${r[0]}:${r[1]}`}`;
}

/** The dccp match definition (-m dccp, -p dccp). */
export const dccp = defineMatch<DccpInfo>({
  name: 'dccp',
  help: () => PROTO_HELP['dccp']!,
  options: [
    { name: 'source-port', id: 0, type: 'portrc', invert: true },
    { name: 'sport', id: 0, type: 'portrc', invert: true },
    { name: 'destination-port', id: 1, type: 'portrc', invert: true },
    { name: 'dport', id: 1, type: 'portrc', invert: true },
    { name: 'dccp-types', id: 2, type: 'string', invert: true },
    { name: 'dccp-option', id: 3, type: 'uint8', min: 1, max: 255, invert: true },
  ],
  init: () => ({ dpts: [0, 0], spts: [0, 0], flags: 0, invflags: 0, typemask: 0, option: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const bit = [DCCP_FLAGS.SRC_PORTS, DCCP_FLAGS.DEST_PORTS, DCCP_FLAGS.TYPE, DCCP_FLAGS.OPTION][cb.entry.id]!;
    switch (cb.entry.id) {
      case 0:
        info.spts = [cb.val.range![0]!, cb.val.range![1]!];
        break;
      case 1:
        info.dpts = [cb.val.range![0]!, cb.val.range![1]!];
        break;
      case 2:
        info.typemask = parseTypes(cb.arg!);
        break;
      case 3:
        info.option = cb.val.num!;
        break;
    }
    info.flags |= bit;
    if (cb.invert) info.invflags |= bit;
  },
  check(info, ctx) {
    if (info.flags & ~0x0f || info.invflags & ~0x0f || info.invflags & ~info.flags) return { errno: 'EINVAL' };
    return requireProto(ctx, 33);
  },
  print(info, { names, numeric }) {
    let s = ' dccp';
    if (info.flags & DCCP_FLAGS.SRC_PORTS)
      s += printPorts(names, 'spt', info.spts, (info.invflags & DCCP_FLAGS.SRC_PORTS) !== 0, numeric, 'dccp');
    if (info.flags & DCCP_FLAGS.DEST_PORTS)
      s += printPorts(names, 'dpt', info.dpts, (info.invflags & DCCP_FLAGS.DEST_PORTS) !== 0, numeric, 'dccp');
    if (info.flags & DCCP_FLAGS.TYPE) s += (info.invflags & DCCP_FLAGS.TYPE ? ' !' : '') + typeList(info.typemask, numeric);
    if (info.flags & DCCP_FLAGS.OPTION) {
      const inv = (info.invflags & DCCP_FLAGS.OPTION) !== 0;
      if (info.option || inv) s += ` option=${inv ? '!' : ''}${info.option}`;
    }
    return s;
  },
  save(info) {
    let s = '';
    if (info.flags & DCCP_FLAGS.SRC_PORTS) s += saveRange('sport', info.spts, (info.invflags & DCCP_FLAGS.SRC_PORTS) !== 0);
    if (info.flags & DCCP_FLAGS.DEST_PORTS) s += saveRange('dport', info.dpts, (info.invflags & DCCP_FLAGS.DEST_PORTS) !== 0);
    if (info.flags & DCCP_FLAGS.TYPE)
      s += `${info.invflags & DCCP_FLAGS.TYPE ? ' !' : ''} --dccp-types${typeList(info.typemask, false)}`;
    if (info.flags & DCCP_FLAGS.OPTION)
      s += `${info.invflags & DCCP_FLAGS.OPTION ? ' !' : ''} --dccp-option ${info.option}`;
    return s;
  },
  match(info, ctx) {
    if (ctx.fragoff !== 0) return false;
    const d = ctx.skb.data;
    const t = ctx.thoff;
    // struct dccp_hdr: 12 bytes
    if (d.length < t + 12) {
      ctx.hotdrop = true;
      return false;
    }
    const check = (bit: number, cond: () => boolean) => !(info.flags & bit) || ((info.invflags & bit) !== 0) !== cond();
    const sp = (d[t]! << 8) | d[t + 1]!;
    const dp = (d[t + 2]! << 8) | d[t + 3]!;
    const type = (d[t + 8]! >> 1) & 0x0f;
    return (
      check(DCCP_FLAGS.SRC_PORTS, () => sp >= info.spts[0] && sp <= info.spts[1]) &&
      check(DCCP_FLAGS.DEST_PORTS, () => dp >= info.dpts[0] && dp <= info.dpts[1]) &&
      check(DCCP_FLAGS.TYPE, () => (info.typemask & (1 << type)) !== 0) &&
      check(DCCP_FLAGS.OPTION, () => findOption(info.option, ctx, type))
    );
  },
});

/** __dccp_hdr_len: generic header (12, or 16 with extended sequence numbers) plus the type's own part. */
function dccpHeaderLen(d: Uint8Array, t: number, type: number): number {
  const base = d[t + 8]! & 0x01 ? 16 : 12;
  if (type === 2) return base; // DATA
  if (type === 3 || type === 4 || type === 5 || type === 6 || type === 8 || type === 9) return base + 8;
  if (type === 0) return base + 4; // REQUEST
  return base + 12; // RESPONSE, RESET and the rest
}

/** dccp_find_option: whether option `kind` is among the options (a short header drops the packet). */
function findOption(kind: number, ctx: PacketContext, type: number): boolean {
  const d = ctx.skb.data;
  const t = ctx.thoff;
  const hlen = dccpHeaderLen(d, t, type);
  const doff = d[t + 4]! * 4;
  if (doff < hlen) {
    ctx.hotdrop = true;
    return false;
  }
  const optlen = doff - hlen;
  if (optlen === 0) return false;
  const o = t + hlen;
  if (d.length < o + optlen) {
    ctx.hotdrop = true;
    return false;
  }
  for (let i = 0; i < optlen; ) {
    const b = d[o + i]!;
    if (b === kind) return true;
    if (b < 2) {
      i++;
      continue;
    }
    if (i + 1 >= optlen) break;
    i += d[o + i + 1]! || 1;
  }
  return false;
}
