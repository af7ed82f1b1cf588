/**
 * The TCPOPTSTRIP target (mangle table): removes the listed TCP options
 * from TCP headers.
 */
import { requireProto, requireTable } from '../protocheck.js';
import { strtoulRange } from '../../util/cnum.js';
import { defineTarget, paramError } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';
import { NF_DROP, XT_CONTINUE } from '../verdict.js';
import { protoCsumReplace2 } from './csum-update.js';

/** xt_tcpoptstrip_target_info data. */
export interface TcpoptstripInfo {
  /** Option numbers to strip, ascending. */
  strip: number[];
}

/** Option names iptables accepts and prints. */
const OPTION_NAMES: readonly [string, number][] = [
  ['wscale', 3],
  ['mss', 2],
  ['sack-permitted', 4],
  ['sack', 5],
  ['timestamp', 8],
  ['md5', 19],
];

function list(info: TcpoptstripInfo, numeric: boolean): string {
  return info.strip
    .map((o) => (numeric ? undefined : OPTION_NAMES.find(([, n]) => n === o)?.[0]) ?? String(o))
    .join(',');
}

/** The TCPOPTSTRIP target definition. */
export const TCPOPTSTRIP = defineTarget<TcpoptstripInfo>({
  name: 'TCPOPTSTRIP',
  help: () => PROTO_HELP['TCPOPTSTRIP']!,
  options: [{ name: 'strip-options', id: 0, type: 'string' }],
  init: () => ({ strip: [] }),
  parse(cb) {
    cb.parseGeneric();
    const set = new Set(cb.info.strip);
    for (const word of cb.arg!.split(',')) {
      let option = OPTION_NAMES.find(([n]) => n === word)?.[1] ?? 0;
      if (option === 0) {
        const n = strtoulRange(word, 0, 255);
        if (n === undefined) throw paramError(`Bad TCP option value "${word}"`);
        option = n;
      }
      if (option < 2) throw paramError('Option value may not be 0 or 1');
      if (set.has(option)) throw paramError(`Option "${word}" already specified`);
      set.add(option);
    }
    cb.info.strip = [...set].sort((a, b) => a - b);
  },
  check(_info, ctx) {
    return requireTable(ctx, 'mangle') ?? requireProto(ctx, 6);
  },
  print(info, { numeric }) {
    return info.strip.length ? ` TCPOPTSTRIP options ${list(info, numeric)}` : '';
  },
  save(info) {
    return info.strip.length ? ` --strip-options ${list(info, true)}` : '';
  },
  target(info, ctx) {
    if (ctx.fragoff !== 0) return XT_CONTINUE;
    const d = ctx.skb.data;
    const th = ctx.thoff;
    if (d.length < th + 20) return NF_DROP;
    const hl = (d[th + 12]! >> 4) * 4;
    if (hl < 20 || d.length < th + hl) return NF_DROP;
    for (let i = 20; i < hl - 1; ) {
      const kind = d[th + i]!;
      const l = kind <= 1 || d[th + i + 1] === 0 ? 1 : d[th + i + 1]!;
      if (i + l > hl) break;
      if (info.strip.includes(kind)) {
        // one checksum update per byte, as the kernel does it
        for (let j = 0; j < l; j++) {
          const even = (i + j) % 2 === 0;
          const o = even ? d[th + i + j]! << 8 : d[th + i + j]!;
          const n = even ? 1 << 8 : 1;
          protoCsumReplace2(d, th + 16, o, n);
        }
        d.fill(1, th + i, th + i + l);
      }
      i += l;
    }
    return XT_CONTINUE;
  },
});
