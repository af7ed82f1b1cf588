/**
 * The esp match: the SPI of IPsec ESP packets, one value or a range.
 */
import { requireProto } from '../protocheck.js';
import { defineMatch } from '../index-types.js';
import { saveSpis, spiMatch, spiText, takeSpis, unknownInv, type SpiRangeInfo } from './spi.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_esp data. */
export type EspInfo = SpiRangeInfo;

/** The esp match definition. */
export const esp = defineMatch<EspInfo>({
  name: 'esp',
  help: () => PROTO_HELP['esp']!,
  options: [{ name: 'espspi', id: 0, type: 'uint32rc', invert: true }],
  init: () => ({ spis: [0, 0xffffffff], invflags: 0 }),
  parse: takeSpis,
  check(info, ctx) {
    if (info.invflags & ~0x01) return { errno: 'EINVAL' };
    return requireProto(ctx, 50);
  },
  print(info) {
    const t = spiText(info.spis, (info.invflags & 1) !== 0);
    return ` esp${t === undefined ? '' : ` ${t}`}${unknownInv(info.invflags, 1)}`;
  },
  save(info) {
    return saveSpis('espspi', info.spis, (info.invflags & 1) !== 0);
  },
  // struct ip_esp_hdr: SPI and sequence number, 8 bytes
  match: (info, ctx) => spiMatch(info, ctx, 8, 0),
});
