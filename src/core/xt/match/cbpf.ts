/**
 * A classic BPF interpreter with the semantics the kernel gives a classic
 * program run on a packet (bpf_convert_filter + the skb load helpers): A
 * and X start at 0, a load outside the packet or a division by a zero X
 * ends the program with 0, offsets at SKF_NET_OFF and SKF_LL_OFF reach the
 * network and link-layer headers, and the ancillary loads (SKF_AD_*) read
 * the packet's metadata. The packet data starts at the IP header, as it
 * does in the netfilter hooks.
 */
import type { BpfInsn } from './bpf.js';

/** What the ancillary loads read besides the packet bytes. */
export interface BpfPacket {
  /** The datagram, from the network header. */
  data: Uint8Array;
  /** The link-layer header in front of it, or null when none was set. */
  mac: Uint8Array | null;
  /** skb->protocol in host order (0x0800 for IPv4). */
  protocol: number;
  /** skb->pkt_type. */
  pktType: number;
  /** skb->dev's interface index; -1 when the packet has no device yet (OUTPUT). */
  ifindex: number;
  /** skb->dev's hardware type (ARPHRD_*). */
  hatype: number;
  /** skb->mark. */
  mark: number;
  /** A random 32-bit number, drawn only when the program asks for one. */
  random(): number;
}

const SKF_AD_OFF = -0x1000;
const SKF_NET_OFF = -0x100000;
const SKF_LL_OFF = -0x200000;

/** Ancillary data offsets (SKF_AD_*), relative to SKF_AD_OFF. */
const AD = {
  PROTOCOL: 0,
  PKTTYPE: 4,
  IFINDEX: 8,
  NLATTR: 12,
  NLATTR_NEST: 16,
  MARK: 20,
  QUEUE: 24,
  HATYPE: 28,
  RXHASH: 32,
  CPU: 36,
  ALU_XOR_X: 40,
  VLAN_TAG: 44,
  VLAN_TAG_PRESENT: 48,
  PAY_OFFSET: 52,
  RANDOM: 56,
  VLAN_TPID: 60,
} as const;

/** Reads `size` bytes big-endian at the signed offset `k`; -1 when out of bounds. */
function load(p: BpfPacket, k: number, size: number): number {
  let buf: Uint8Array;
  let off: number;
  if (k >= 0) {
    buf = p.data;
    off = k;
  } else if (k >= SKF_NET_OFF) {
    buf = p.data;
    off = k - SKF_NET_OFF;
  } else if (k >= SKF_LL_OFF) {
    if (!p.mac) return -1;
    // the link-layer header sits right in front of the network header
    off = k - SKF_LL_OFF;
    const ml = p.mac.length;
    if (off + size > ml + p.data.length) return -1;
    let v = 0;
    for (let i = 0; i < size; i++) v = v * 256 + (off + i < ml ? p.mac[off + i]! : p.data[off + i - ml]!);
    return v;
  } else {
    return -1;
  }
  if (off + size > buf.length) return -1;
  if (size === 1) return buf[off]!;
  if (size === 2) return (buf[off]! << 8) | buf[off + 1]!;
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

/** nla_find over data[start, start+len): offset of the first attribute of `type`, or 0. */
function nlaFind(data: Uint8Array, start: number, len: number, type: number): number {
  let pos = start;
  let rem = len;
  while (rem >= 4) {
    // netlink attribute headers are in host (little-endian) order
    const nlaLen = data[pos]! | (data[pos + 1]! << 8);
    const nlaType = (data[pos + 2]! | (data[pos + 3]! << 8)) & 0x3fff;
    if (nlaLen < 4 || nlaLen > rem) break;
    if (nlaType === type) return pos;
    const total = (nlaLen + 3) & ~3;
    rem -= total;
    pos += total;
  }
  return 0;
}

/** bpf_skb_get_nlattr / _nest. */
function nlattr(p: BpfPacket, a: number, x: number, nested: boolean): number {
  const d = p.data;
  if (d.length < 4 || a > d.length - 4) return 0;
  if (!nested) return nlaFind(d, a, d.length - a, x);
  const len = d[a]! | (d[a + 1]! << 8);
  if (len < 4 || len > d.length - a) return 0;
  return nlaFind(d, a + 4, len - 4, x);
}

/** skb_get_poff: where the payload starts after the transport header (0 when the headers cannot be read). */
function payloadOffset(p: BpfPacket): number {
  const d = p.data;
  if (d.length < 20 || d[0]! >> 4 !== 4) return 0;
  const ihl = (d[0]! & 0x0f) * 4;
  if (ihl < 20 || d.length < ihl) return 0;
  let poff = ihl;
  const frag = ((d[6]! << 8) | d[7]!) & 0x1fff;
  if (frag !== 0) return poff;
  switch (d[9]) {
    case 6:
      if (d.length < poff + 13) return poff;
      return poff + Math.max(20, (d[poff + 12]! & 0xf0) >> 2);
    case 17:
    case 136:
    case 1:
    case 2:
      return poff + 8;
    case 33:
      return poff + 12;
    case 132:
      return poff + 12;
  }
  return poff;
}

/** The value an ancillary load gives; undefined for offsets that are not ancillary data. */
function ancillary(p: BpfPacket, anc: number, a: number, x: number): number | undefined {
  switch (anc) {
    case AD.PROTOCOL:
      return p.protocol;
    case AD.PKTTYPE:
      return p.pktType & 7;
    case AD.IFINDEX:
      return p.ifindex;
    case AD.NLATTR:
      return nlattr(p, a, x, false);
    case AD.NLATTR_NEST:
      return nlattr(p, a, x, true);
    case AD.MARK:
      return p.mark >>> 0;
    case AD.HATYPE:
      return p.hatype;
    case AD.ALU_XOR_X:
      return (a ^ x) >>> 0;
    case AD.PAY_OFFSET:
      return payloadOffset(p);
    case AD.RANDOM:
      return p.random() >>> 0;
    // queue, rx hash, cpu and VLAN data are all 0 on a lab machine
    case AD.QUEUE:
    case AD.RXHASH:
    case AD.CPU:
    case AD.VLAN_TAG:
    case AD.VLAN_TAG_PRESENT:
    case AD.VLAN_TPID:
      return 0;
  }
  return undefined;
}

/** Scratch memory; the kernel's check guarantees no cell is read before it is written. */
const mem = new Uint32Array(16);

/** Runs a program the kernel accepted (see classicProgramValid); returns its 32-bit result. */
export function runClassicBpf(prog: readonly BpfInsn[], p: BpfPacket): number {
  let a = 0;
  let x = 0;
  let pc = 0;
  for (;;) {
    const f = prog[pc++];
    if (!f) return 0;
    const k = f.k >>> 0;
    switch (f.code) {
      // loads
      case 0x20: // ld w abs
      case 0x28: // ld h abs
      case 0x30: // ld b abs
      case 0x40: // ld w ind
      case 0x48: // ld h ind
      case 0x50: {
        // ld b ind
        const size = (f.code & 0x18) === 0x00 ? 4 : (f.code & 0x18) === 0x08 ? 2 : 1;
        const abs = (f.code & 0xe0) === 0x20;
        if (abs && (k | 0) >= SKF_AD_OFF && (k | 0) < 0) {
          const anc = (k | 0) - SKF_AD_OFF;
          // device data of a packet without a device: the program ends with A as it is
          if ((anc === AD.IFINDEX || anc === AD.HATYPE) && p.ifindex < 0) return a;
          const v = ancillary(p, anc, a, x);
          if (v !== undefined) {
            a = v;
            break;
          }
        }
        const off = abs ? k | 0 : (x + k) | 0;
        const v = load(p, off, size);
        if (v < 0) return 0;
        a = v;
        break;
      }
      case 0x80: // ld w len
        a = p.data.length;
        break;
      case 0x00: // ld imm
        a = k;
        break;
      case 0x60: // ld mem
        a = mem[k]!;
        break;
      case 0x81: // ldx w len
        x = p.data.length;
        break;
      case 0x01: // ldx imm
        x = k;
        break;
      case 0x61: // ldx mem
        x = mem[k]!;
        break;
      case 0xb1: {
        // ldx b msh: X = 4 * (P[k] & 0xf)
        const v = load(p, k | 0, 1);
        if (v < 0) return 0;
        x = (v & 0xf) << 2;
        break;
      }
      case 0x02: // st
        mem[k] = a;
        break;
      case 0x03: // stx
        mem[k] = x;
        break;
      // ALU
      case 0x04:
        a = (a + k) >>> 0;
        break;
      case 0x0c:
        a = (a + x) >>> 0;
        break;
      case 0x14:
        a = (a - k) >>> 0;
        break;
      case 0x1c:
        a = (a - x) >>> 0;
        break;
      case 0x24:
        a = Math.imul(a, k) >>> 0;
        break;
      case 0x2c:
        a = Math.imul(a, x) >>> 0;
        break;
      case 0x34:
        a = Math.floor(a / k) >>> 0;
        break;
      case 0x3c:
        if (x === 0) return 0;
        a = Math.floor(a / x) >>> 0;
        break;
      case 0x94:
        a = a % k >>> 0;
        break;
      case 0x9c:
        if (x === 0) return 0;
        a = a % x >>> 0;
        break;
      case 0x44:
        a = (a | k) >>> 0;
        break;
      case 0x4c:
        a = (a | x) >>> 0;
        break;
      case 0x54:
        a = (a & k) >>> 0;
        break;
      case 0x5c:
        a = (a & x) >>> 0;
        break;
      case 0xa4:
        a = (a ^ k) >>> 0;
        break;
      case 0xac:
        a = (a ^ x) >>> 0;
        break;
      case 0x64:
        a = (a << k) >>> 0;
        break;
      case 0x6c:
        a = (a << (x & 31)) >>> 0;
        break;
      case 0x74:
        a = a >>> k;
        break;
      case 0x7c:
        a = a >>> (x & 31);
        break;
      case 0x84:
        a = -a >>> 0;
        break;
      // jumps
      case 0x05:
        pc += k;
        break;
      case 0x15:
        pc += a === k ? f.jt : f.jf;
        break;
      case 0x1d:
        pc += a === x ? f.jt : f.jf;
        break;
      case 0x25:
        pc += a > k ? f.jt : f.jf;
        break;
      case 0x2d:
        pc += a > x ? f.jt : f.jf;
        break;
      case 0x35:
        pc += a >= k ? f.jt : f.jf;
        break;
      case 0x3d:
        pc += a >= x ? f.jt : f.jf;
        break;
      case 0x45:
        pc += (a & k) !== 0 ? f.jt : f.jf;
        break;
      case 0x4d:
        pc += (a & x) !== 0 ? f.jt : f.jf;
        break;
      // returns and moves
      case 0x06:
        return k;
      case 0x16:
        return a;
      case 0x07: // tax
        x = a;
        break;
      case 0x87: // txa
        a = x;
        break;
      default:
        return 0;
    }
  }
}
