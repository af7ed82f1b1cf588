/**
 * The ipcomp match: the CPI of IPComp packets, one value or a range, and
 * the reserved-field test (--compres).
 */
import { requireProto } from '../protocheck.js';
import { defineMatch } from '../index-types.js';
import { saveSpis, spiText, takeSpis, unknownInv, type SpiRangeInfo } from './spi.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_ipcomp data. */
export interface IpcompInfo extends SpiRangeInfo {
  hdrres: number;
}

/** The ipcomp match definition. */
export const ipcomp = defineMatch<IpcompInfo>({
  name: 'ipcomp',
  help: () => PROTO_HELP['ipcomp']!,
  options: [
    { name: 'ipcompspi', id: 0, type: 'uint32rc', invert: true },
    { name: 'compres', id: 1, type: 'none' },
  ],
  init: () => ({ spis: [0, 0], invflags: 0, hdrres: 0 }),
  parse(cb) {
    if (cb.entry.id === 0) takeSpis(cb);
    else {
      cb.parseGeneric();
      cb.info.hdrres = 1;
    }
  },
  check(info, ctx) {
    if (info.invflags & ~0x01) return { errno: 'EINVAL' };
    return requireProto(ctx, 108);
  },
  print(info) {
    let s = ` comp ${spiText(info.spis, (info.invflags & 1) !== 0) ?? ''}`;
    if (info.hdrres) s += ' reserved';
    return s + unknownInv(info.invflags, 1);
  },
  save(info) {
    return saveSpis('ipcompspi', info.spis, (info.invflags & 1) !== 0) + (info.hdrres ? ' --compres' : '');
  },
});
