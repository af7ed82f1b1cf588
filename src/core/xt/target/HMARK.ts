/**
 * The HMARK target: sets the packet mark to a hash of chosen header fields
 * (addresses under prefix masks, ports or SPI under masks, protocol, or
 * the conntrack tuple), modulo --hmark-mod plus --hmark-offset.
 */
import { prefixMask } from '../../addr/ipv4.js';
import { formatIPv6, ip6MaskToCidr, ip6Ones, ip6Zero, type IPv6 } from '../../addr/ipv6.js';
import { defineTarget, paramError, type OptionCall } from '../index-types.js';
import { RATE_HELP } from '../rate-help.js';
import { jhash3words, reciprocalScale } from '../jhash.js';
import type { PacketContext } from '../packet.js';
import { XT_CONTINUE } from '../verdict.js';

/** xt_hmark_info, ports and SPI in host order. */
export interface HmarkInfo {
  /** Address masks: numbers in iptables rules, four words in ip6tables rules. */
  srcMask: number | IPv6;
  dstMask: number | IPv6;
  portMaskSrc: number;
  portMaskDst: number;
  spiMask: number;
  portSetSrc: number;
  portSetDst: number;
  spiSet: number;
  /** XT_HMARK_FLAG bits. */
  flags: number;
  protoMask: number;
  hashrnd: number;
  hmodulus: number;
  hoffset: number;
}

/** Option ids, equal to the XT_HMARK_* flag numbers they set. */
const O = {
  SADDR_MASK: 0,
  DADDR_MASK: 1,
  SPI: 2,
  SPI_MASK: 3,
  SPORT: 4,
  DPORT: 5,
  SPORT_MASK: 6,
  DPORT_MASK: 7,
  PROTO_MASK: 8,
  RND: 9,
  MODULUS: 10,
  OFFSET: 11,
  CT: 12,
  TYPE: 13,
} as const;

const bit = (n: number) => 1 << n;
/** Options that choose packet fields for the hash. */
const PKT_OPTS =
  bit(O.SADDR_MASK) | bit(O.DADDR_MASK) | bit(O.SPI_MASK) | bit(O.SPORT_MASK) | bit(O.DPORT_MASK) |
  bit(O.PROTO_MASK) | bit(O.SPORT) | bit(O.DPORT) | bit(O.SPI);

/** One --hmark-tuple word (any case-insensitive prefix of a keyword, tried in order). */
function applyTupleWord(cb: OptionCall<HmarkInfo>, word: string): boolean {
  const info = cb.info;
  const is = (kw: string) => word.length > 0 && kw.startsWith(word.toLowerCase());
  let id: number;
  if (is('ct')) id = O.CT;
  else if (is('src')) (info.srcMask = cb.family === 'ipv6' ? ip6Ones() : 0xffffffff), (id = O.SADDR_MASK);
  else if (is('dst')) (info.dstMask = cb.family === 'ipv6' ? ip6Ones() : 0xffffffff), (id = O.DADDR_MASK);
  else if (is('sport')) (info.portMaskSrc = 0xffff), (id = O.SPORT_MASK);
  else if (is('dport')) (info.portMaskDst = 0xffff), (id = O.DPORT_MASK);
  else if (is('proto')) (info.protoMask = 0xffff), (id = O.PROTO_MASK);
  else if (is('spi')) (info.spiMask = 0xffffffff), (id = O.SPI_MASK);
  else return false;
  info.flags |= bit(id);
  cb.xflags |= bit(id);
  return true;
}

/** hmark_parse_type: comma-separated tuple words. */
function parseTuple(cb: OptionCall<HmarkInfo>): void {
  let arg = cb.arg!;
  for (let comma = arg.indexOf(','); comma >= 0; comma = arg.indexOf(',')) {
    if (comma === 0 || !applyTupleWord(cb, arg.slice(0, comma))) throw paramError(`Bad type "${arg}"`);
    arg = arg.slice(comma + 1);
  }
  if (arg === '')
    throw paramError('"--hmark-tuple" requires a list of types with no spaces, e.g. src,dst,sport,dport,proto');
  if (!applyTupleWord(cb, arg)) throw paramError(`Bad type "${arg}"`);
}

/** The prefix length of a mask as xtables_ipmask_to_cidr (or ip6mask_to_cidr) gives it (-1 if not a prefix). */
function cidr(mask: number | IPv6): number {
  if (typeof mask !== 'number') return ip6MaskToCidr(mask);
  for (let i = 32; i >= 0; i--) if ((i === 0 ? 0 : (0xffffffff << (32 - i)) >>> 0) === mask) return i;
  return -1;
}

/**
 * A prefix as the -L form prints it: the IPv4 length as %u; for IPv6
 * xtables_ip6mask_to_numeric past its '/' (nothing for /128).
 */
function prefixText(mask: number | IPv6): string {
  if (typeof mask === 'number') return String(cidr(mask) >>> 0);
  const l = ip6MaskToCidr(mask);
  return l === 128 ? '' : l === -1 ? formatIPv6(mask) : String(l);
}

const hex = (n: number, width: number) => `0x${n.toString(16).padStart(width, '0')}`;

/** The HMARK target extension. */
export const HMARK = defineTarget<HmarkInfo>({
  name: 'HMARK',
  help: () => RATE_HELP['HMARK']!,
  options: [
    { name: 'hmark-tuple', id: O.TYPE, type: 'string' },
    { name: 'hmark-src-prefix', id: O.SADDR_MASK, type: 'plenmask' },
    { name: 'hmark-dst-prefix', id: O.DADDR_MASK, type: 'plenmask' },
    { name: 'hmark-sport-mask', id: O.SPORT_MASK, type: 'uint16' },
    { name: 'hmark-dport-mask', id: O.DPORT_MASK, type: 'uint16' },
    { name: 'hmark-spi-mask', id: O.SPI_MASK, type: 'uint32' },
    { name: 'hmark-sport', id: O.SPORT, type: 'uint16' },
    { name: 'hmark-dport', id: O.DPORT, type: 'uint16' },
    { name: 'hmark-spi', id: O.SPI, type: 'uint32' },
    { name: 'hmark-proto-mask', id: O.PROTO_MASK, type: 'uint16' },
    { name: 'hmark-rnd', id: O.RND, type: 'uint32' },
    { name: 'hmark-mod', id: O.MODULUS, type: 'uint32', min: 1, mandatory: true },
    { name: 'hmark-offset', id: O.OFFSET, type: 'uint32' },
  ],
  init: (family) => ({
    srcMask: family === 'ipv6' ? ip6Zero() : 0,
    dstMask: family === 'ipv6' ? ip6Zero() : 0,
    portMaskSrc: 0,
    portMaskDst: 0,
    spiMask: 0,
    portSetSrc: 0,
    portSetDst: 0,
    spiSet: 0,
    flags: 0,
    protoMask: 0,
    hashrnd: 0,
    hmodulus: 0,
    hoffset: 0,
  }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const id = cb.entry.id;
    const num = cb.val.num ?? 0;
    // A prefix that is not a valid length (a non-contiguous mask) leaves the mask all ones.
    const plenMask = () => {
      const h = cb.val.hlen ?? -1;
      return h >= 0 && h <= 32 ? prefixMask(h) : 0xffffffff;
    };
    switch (id) {
      case O.TYPE:
        parseTuple(cb);
        break;
      case O.SADDR_MASK:
        info.srcMask = cb.family === 'ipv6' ? cb.val.hmask6! : plenMask();
        break;
      case O.DADDR_MASK:
        info.dstMask = cb.family === 'ipv6' ? cb.val.hmask6! : plenMask();
        break;
      case O.SPI:
        info.spiSet = num;
        break;
      case O.SPORT:
        info.portSetSrc = num;
        break;
      case O.DPORT:
        info.portSetDst = num;
        break;
      case O.SPORT_MASK:
        info.portMaskSrc = num;
        break;
      case O.DPORT_MASK:
        info.portMaskDst = num;
        break;
      case O.SPI_MASK:
        info.spiMask = num;
        break;
      case O.PROTO_MASK:
        info.protoMask = num;
        break;
      case O.RND:
        info.hashrnd = num;
        break;
      case O.MODULUS:
        info.hmodulus = num;
        break;
      case O.OFFSET:
        info.hoffset = num;
        break;
    }
    if (id !== O.TYPE) info.flags |= bit(id);
    cb.xflags |= bit(id);
  },
  final(cb) {
    const x = cb.xflags;
    if (!(x & bit(O.MODULUS))) throw paramError('--hmark-mod is mandatory');
    if (!(x & bit(O.RND))) throw paramError('--hmark-rnd is mandatory');
    if (x & bit(O.SPI_MASK) && x & (bit(O.SPORT_MASK) | bit(O.DPORT_MASK)))
      throw paramError('you cannot use --hmark-spi-mask and --hmark-?port-mask,at the same time');
    if (!(x & PKT_OPTS || x & bit(O.CT))) throw paramError('you have to specify --hmark-tuple at least');
  },
  check(info) {
    if (info.hmodulus === 0) return { errno: 'EINVAL' };
    const f = info.flags;
    if (f & bit(O.SPI_MASK) && f & (bit(O.SPORT_MASK) | bit(O.DPORT_MASK))) return { errno: 'EINVAL' };
    if (f & bit(O.SPI) && f & (bit(O.SPORT) | bit(O.DPORT))) return { errno: 'EINVAL' };
    return undefined;
  },
  print(info) {
    const f = info.flags;
    let s = ' HMARK ';
    if (f & bit(O.MODULUS)) s += `mod ${info.hmodulus} `;
    if (f & bit(O.OFFSET)) s += `+ 0x${info.hoffset.toString(16)} `;
    if (f & bit(O.CT)) s += 'ct, ';
    if (f & bit(O.SADDR_MASK)) s += `src-prefix ${prefixText(info.srcMask)} `;
    if (f & bit(O.DADDR_MASK)) s += `dst-prefix ${prefixText(info.dstMask)} `;
    if (f & bit(O.SPORT_MASK)) s += `sport-mask 0x${info.portMaskSrc.toString(16)} `;
    if (f & bit(O.DPORT_MASK)) s += `dport-mask 0x${info.portMaskDst.toString(16)} `;
    if (f & bit(O.SPI_MASK)) s += `spi-mask 0x${info.spiMask.toString(16)} `;
    if (f & bit(O.SPORT)) s += `sport 0x${info.portSetSrc.toString(16)} `;
    if (f & bit(O.DPORT)) s += `dport 0x${info.portSetDst.toString(16)} `;
    if (f & bit(O.SPI)) s += `spi 0x${info.spiSet.toString(16)} `;
    if (f & bit(O.PROTO_MASK)) s += `proto-mask 0x${info.protoMask.toString(16)} `;
    if (f & bit(O.RND)) s += `rnd 0x${info.hashrnd.toString(16)} `;
    return s;
  },
  save(info) {
    const f = info.flags;
    let s = '';
    if (f & bit(O.SADDR_MASK)) s += ` --hmark-src-prefix ${cidr(info.srcMask)}`;
    if (f & bit(O.DADDR_MASK)) s += ` --hmark-dst-prefix ${cidr(info.dstMask)}`;
    if (f & bit(O.SPORT_MASK)) s += ` --hmark-sport-mask ${hex(info.portMaskSrc, 4)}`;
    if (f & bit(O.DPORT_MASK)) s += ` --hmark-dport-mask ${hex(info.portMaskDst, 4)}`;
    if (f & bit(O.SPI_MASK)) s += ` --hmark-spi-mask ${hex(info.spiMask, 8)}`;
    if (f & bit(O.SPORT)) s += ` --hmark-sport ${hex(info.portSetSrc, 4)}`;
    if (f & bit(O.DPORT)) s += ` --hmark-dport ${hex(info.portSetDst, 4)}`;
    if (f & bit(O.SPI)) s += ` --hmark-spi ${hex(info.spiSet, 8)}`;
    if (f & bit(O.PROTO_MASK)) s += ` --hmark-proto-mask ${hex(info.protoMask, 2)}`;
    if (f & bit(O.RND)) s += ` --hmark-rnd ${hex(info.hashrnd, 8)}`;
    if (f & bit(O.MODULUS)) s += ` --hmark-mod ${info.hmodulus}`;
    if (f & bit(O.OFFSET)) s += ` --hmark-offset ${info.hoffset}`;
    if (f & bit(O.CT)) s += ' --hmark-tuple ct';
    return s;
  },
  target(info, ctx) {
    const t = info.flags & bit(O.CT) ? ctTuple(info, ctx) : packetTuple(info, ctx.skb.data);
    if (t !== null) ctx.skb.mark = hmarkHash(t, info);
    return XT_CONTINUE;
  },
});

/** XT_HMARK_METHOD_L3: hash the addresses only (iptables never sets it). */
const METHOD_L3 = 13;

/** struct hmark_tuple: masked addresses, the ports word (already ordered) and the protocol. */
interface HmarkTuple {
  src: number;
  dst: number;
  ports: number;
  proto: number;
}

/** The port (or SPI) mask and set as the 32 big-endian bits of the kernel's union. */
function portBits(info: HmarkInfo): { mask: number; set: number } {
  const f = info.flags;
  const mask = f & bit(O.SPI_MASK) ? info.spiMask >>> 0 : ((info.portMaskSrc << 16) | info.portMaskDst) >>> 0;
  const set = f & bit(O.SPI) ? info.spiSet >>> 0 : ((info.portSetSrc << 16) | info.portSetDst) >>> 0;
  return { mask, set };
}

/** hmark_swap_ports: mask and set the two 16-bit halves, larger one high. */
function orderPorts(raw: number, info: HmarkInfo): number {
  const { mask, set } = portBits(info);
  const hp = ((raw & mask) | set) >>> 0;
  const src = hp >>> 16;
  const dst = hp & 0xffff;
  return (dst > src ? (dst << 16) | src : (src << 16) | dst) >>> 0;
}

/** hmark_hash: the ordered addresses and ports hashed with the seed, the protocol mixed in, scaled and offset. */
function hmarkHash(t: HmarkTuple, info: HmarkInfo): number {
  let src = t.src;
  let dst = t.dst;
  if (dst < src) [src, dst] = [dst, src];
  let hash = jhash3words(src, dst, t.ports, info.hashrnd >>> 0);
  hash = (hash ^ (t.proto & info.protoMask)) >>> 0;
  return (reciprocalScale(hash, info.hmodulus) + info.hoffset) >>> 0;
}

/** proto_ports_offset: where the ports (or the SPI) are for protocols that have them. */
function portsOffset(proto: number): number {
  switch (proto) {
    case 6:
    case 17:
    case 33:
    case 50:
    case 132:
    case 136:
      return 0;
    case 51:
      return 4;
  }
  return -1;
}

/** hmark_pkt_set_htuple_ipv4: from the packet, or from the datagram an ICMP error quotes. */
function packetTuple(info: HmarkInfo, d: Uint8Array): HmarkTuple | null {
  let ip = 0;
  if (d[9] === 1) {
    const ihl = (d[0]! & 0x0f) * 4;
    // an ICMP error (its 8-byte header there, type known): use the quoted header
    if (d.length >= ihl + 8 && d[ihl]! <= 18 && [3, 4, 5, 11, 12].includes(d[ihl]!)) {
      ip = ihl + 8;
      if (d.length < ip + 20) return null;
    }
  }
  const word = (o: number) => ((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) >>> 0;
  const t: HmarkTuple = {
    src: (word(ip + 12) & (info.srcMask as number)) >>> 0,
    dst: (word(ip + 16) & (info.dstMask as number)) >>> 0,
    ports: 0,
    proto: 0,
  };
  if (info.flags & bit(METHOD_L3)) return t;
  t.proto = d[ip + 9]!;
  if (t.proto === 1) return t;
  // fragments carry no ports (the first one is skipped too)
  if (((d[ip + 6]! << 8) | d[ip + 7]!) & 0x3fff) return t;
  const off = portsOffset(t.proto);
  if (off < 0) return t;
  const at = ip + (d[ip]! & 0x0f) * 4 + off;
  if (d.length < at + 4) return t;
  t.ports = orderPorts(word(at), info);
  return t;
}

/** hmark_ct_set_htuple: from the connection's original and reply tuples; null without a connection. */
function ctTuple(info: HmarkInfo, ctx: PacketContext): HmarkTuple | null {
  const ct = ctx.skb.untracked ? null : ctx.skb.ct;
  if (ct === null) return null;
  const t: HmarkTuple = {
    src: (ct.orig.src & (info.srcMask as number)) >>> 0,
    dst: (ct.reply.src & (info.dstMask as number)) >>> 0,
    ports: 0,
    proto: 0,
  };
  if (info.flags & bit(METHOD_L3)) return t;
  t.proto = ct.orig.proto;
  if (t.proto !== 1) t.ports = orderPorts(((ct.orig.sport << 16) | ct.reply.sport) >>> 0, info);
  return t;
}
