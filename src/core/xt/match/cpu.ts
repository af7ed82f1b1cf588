/**
 * The cpu match: the CPU handling the packet.
 */
import { defineMatch } from '../index-types.js';
import { PROTO_HELP } from '../proto-help.js';

/** xt_cpu_info data. */
export interface CpuInfo {
  cpu: number;
  invert: number;
}

/** The cpu match definition. */
export const cpu = defineMatch<CpuInfo>({
  name: 'cpu',
  help: () => PROTO_HELP['cpu']!,
  options: [{ name: 'cpu', id: 0, type: 'uint32', invert: true, mandatory: true }],
  init: () => ({ cpu: 0, invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    cb.info.cpu = cb.val.num!;
    if (cb.invert) cb.info.invert = 1;
  },
  print(info) {
    return ` cpu ${info.invert ? '! ' : ''}${info.cpu}`;
  },
  save(info) {
    return `${info.invert ? ' !' : ''} --cpu ${info.cpu}`;
  },
  // the lab machine handles every packet on CPU 0
  match: (info) => (info.cpu === 0) !== (info.invert !== 0),
});
