/**
 * The ah match (libipt_ah): the SPI of IPsec AH packets, one value or a range.
 */
import { requireProto } from '../protocheck.js';
import { defineMatch } from '../index-types.js';
import { saveSpis, spiMatch, spiText, takeSpis, unknownInv, type SpiRangeInfo } from './spi.js';
import { PROTO_HELP } from '../proto-help.js';

/** ipt_ah data. */
export type AhInfo = SpiRangeInfo;

/** The ah match definition (IPv4). */
export const ah = defineMatch<AhInfo>({
  name: 'ah',
  family: 'ipv4',
  help: () => PROTO_HELP['ah']!,
  options: [{ name: 'ahspi', id: 0, type: 'uint32rc', invert: true }],
  init: () => ({ spis: [0, 0xffffffff], invflags: 0 }),
  parse: takeSpis,
  check(info, ctx) {
    if (info.invflags & ~0x01) return { errno: 'EINVAL' };
    return requireProto(ctx, 51);
  },
  print(info) {
    return ` ah ${spiText(info.spis, (info.invflags & 1) !== 0) ?? ''}${unknownInv(info.invflags, 1)}`;
  },
  save(info) {
    return saveSpis('ahspi', info.spis, (info.invflags & 1) !== 0);
  },
  // struct ip_auth_hdr: 12 bytes, the SPI at offset 4
  match: (info, ctx) => spiMatch(info, ctx, 12, 4),
});
