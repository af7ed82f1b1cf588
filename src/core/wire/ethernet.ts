/**
 * The Ethernet II header: destination and source addresses and the
 * EtherType, with accessors on a frame held in a byte array at an offset.
 */
import { get16, put16 } from './bytes.js';

/** Length of the Ethernet header. */
export const ETH_HLEN = 14;
/** Length of an Ethernet address. */
export const ETH_ALEN = 6;
/** Shortest frame on the wire without the FCS; shorter ones are padded. */
export const ETH_ZLEN = 60;

/** EtherType of IPv4. */
export const ETH_P_IP = 0x0800;
/** EtherType of ARP. */
export const ETH_P_ARP = 0x0806;
/** EtherType of an 802.1Q VLAN tag. */
export const ETH_P_8021Q = 0x8100;
/** EtherType of IPv6. */
export const ETH_P_IPV6 = 0x86dd;

/** Offset of the destination address within the header. */
export const ETH_DST_OFF = 0;
/** Offset of the source address within the header. */
export const ETH_SRC_OFF = 6;

/** The EtherType field. */
export function ethType(buf: Uint8Array, off: number): number {
  return get16(buf, off + 12);
}

/** Sets the EtherType field. */
export function setEthType(buf: Uint8Array, off: number, v: number): void {
  put16(buf, off + 12, v);
}
