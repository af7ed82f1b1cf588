/**
 * SPI range helpers shared by the esp, ah and ipcomp matches.
 */
import type { OptionCall } from '../types.js';
import type { PacketContext } from '../packet.js';

/** Info shape shared by xt_esp, ipt_ah and xt_ipcomp. */
export interface SpiRangeInfo {
  spis: [number, number];
  invflags: number;
}

/** Stores a parsed uint32 range option ("spi" or "lo:hi") with its inversion bit. */
export function takeSpis(cb: OptionCall<SpiRangeInfo>): void {
  cb.parseGeneric();
  const r = cb.val.range!;
  cb.info.spis = [r[0]!, r.length >= 2 ? r[1]! : r[0]!];
  if (cb.invert) cb.info.invflags |= 0x01;
}

/** Whether the range is anything but the full 0..2^32-1. */
export function spisSet(spis: [number, number]): boolean {
  return !(spis[0] === 0 && spis[1] === 0xffffffff);
}

/** "spi:N" / "spis:lo:hi" with `!` after the colon; empty for the full range unless inverted. */
export function spiText(spis: [number, number], invert: boolean): string | undefined {
  if (!spisSet(spis) && !invert) return undefined;
  const inv = invert ? '!' : '';
  return spis[0] === spis[1] ? `spi:${inv}${spis[0]}` : `spis:${inv}${spis[0]}:${spis[1]}`;
}

/** The save form of an SPI option, empty for the full range. */
export function saveSpis(opt: string, spis: [number, number], invert: boolean): string {
  if (!spisSet(spis)) return '';
  return `${invert ? ' !' : ''} --${opt} ${spis[0] === spis[1] ? spis[0] : `${spis[0]}:${spis[1]}`}`;
}

/** " Unknown invflags: 0x.." for bits outside `mask`, else empty. */
export function unknownInv(invflags: number, mask: number): string {
  return invflags & ~mask ? ` Unknown invflags: 0x${(invflags & ~mask).toString(16).toUpperCase()}` : '';
}

/** The SPI range test shared by ah and esp: the header must be there, no later fragment. */
export function spiMatch(info: SpiRangeInfo, ctx: PacketContext, hdrLen: number, spiAt: number): boolean {
  if (ctx.fragoff !== 0) return false;
  const d = ctx.skb.data;
  const t = ctx.thoff;
  if (d.length < t + hdrLen) {
    ctx.hotdrop = true;
    return false;
  }
  const spi = ((d[t + spiAt]! << 24) | (d[t + spiAt + 1]! << 16) | (d[t + spiAt + 2]! << 8) | d[t + spiAt + 3]!) >>> 0;
  return (spi >= info.spis[0] >>> 0 && spi <= info.spis[1] >>> 0) !== ((info.invflags & 0x01) !== 0);
}
