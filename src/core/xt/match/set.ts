/**
 * The set match (revision 4): whether the packet's addresses/ports are in
 * an ipset, with optional counter conditions. iptables asks the kernel for
 * the set by name while parsing; a lab machine has no ipsets yet, so every
 * --match-set ends with "Set NAME doesn't exist." exactly as on a fresh
 * machine. Old-style extension: parse does all checks itself.
 */
import { defineMatch, paramError } from '../index-types.js';
import { scanU64 } from './conn-util.js';

/** IPSET_COUNTER_* comparison of a counter condition. */
export type CounterOp = 'none' | 'eq' | 'ne' | 'lt' | 'gt';

/** One ip_set_counter_match (value kept as a decimal string: 64 bits). */
export interface CounterMatch {
  op: CounterOp;
  value: string;
}

/** xt_set_info_match_v4, with the set held by name. */
export interface SetInfo {
  name: string;
  /** Number of src/dst flags (IPSET_DIM_*). */
  dim: number;
  /** Direction of each dimension, true for src. */
  src: boolean[];
  invert: boolean;
  returnNomatch: boolean;
  skipCounterUpdate: boolean;
  skipSubcounterUpdate: boolean;
  packets: CounterMatch;
  bytes: CounterMatch;
}

/** IPSET_MAXNAMELEN. */
const MAXNAMELEN = 32;
/** IPSET_DIM_MAX. */
const DIM_MAX = 6;

/** The lab's ipsets, by name. None exist yet. */
function ipsetExists(_name: string): boolean {
  return false;
}

function parseCounter(arg: string): string {
  const v = scanU64(arg);
  if (!v || v.end !== arg.length) throw paramError(`Cannot parse ${arg} as a counter value`);
  return v.value.toString();
}

/** parse_dirs: up to six comma-separated "src"/"dst" (only the first three letters are looked at). */
function parseDirs(arg: string, info: SetInfo): void {
  const parts = arg.split(',');
  let i = 0;
  while (info.dim < DIM_MAX && i < parts.length) {
    const p = parts[i++]!;
    info.dim++;
    if (p.startsWith('src')) info.src.push(true);
    else if (p.startsWith('dst')) info.src.push(false);
    else throw paramError("You must spefify (the comma separated list of) 'src' or 'dst'.");
  }
  if (i < parts.length) throw paramError(`Can't be more src/dst options than ${DIM_MAX}.`);
}

function counterText(c: CounterMatch, name: string, sep: string): string {
  switch (c.op) {
    case 'eq':
      return ` ${sep}${name}-eq ${c.value}`;
    case 'ne':
      return ` ! ${sep}${name}-eq ${c.value}`;
    case 'lt':
      return ` ${sep}${name}-lt ${c.value}`;
    case 'gt':
      return ` ${sep}${name}-gt ${c.value}`;
    default:
      return '';
  }
}

function render(info: SetInfo, opt: string, sep: string): string {
  let s = `${info.invert ? ' !' : ''} ${opt} ${info.name}`;
  info.src.forEach((src, i) => (s += `${i === 0 ? ' ' : ','}${src ? 'src' : 'dst'}`));
  if (info.returnNomatch) s += ` ${sep}return-nomatch`;
  if (info.skipCounterUpdate) s += ` ! ${sep}update-counters`;
  if (info.skipSubcounterUpdate) s += ` ! ${sep}update-subcounters`;
  return s + counterText(info.packets, 'packets', sep) + counterText(info.bytes, 'bytes', sep);
}

const COUNTER_OPTS: Record<number, { which: 'packets' | 'bytes'; op: 'eq' | 'lt' | 'gt'; name: string }> = {
  5: { which: 'packets', op: 'eq', name: 'packets-eq' },
  6: { which: 'packets', op: 'lt', name: 'packets-lt' },
  7: { which: 'packets', op: 'gt', name: 'packets-gt' },
  8: { which: 'bytes', op: 'eq', name: 'bytes-eq' },
  9: { which: 'bytes', op: 'lt', name: 'bytes-lt' },
  10: { which: 'bytes', op: 'gt', name: 'bytes-gt' },
};

/** What `iptables -m set -h` adds after the general help. */
const HELP =
  'set match options:\n' +
  ' [!] --match-set name flags [--return-nomatch]\n' +
  '   [! --update-counters] [! --update-subcounters]\n' +
  '   [[!] --packets-eq value | --packets-lt value | --packets-gt value\n' +
  '   [[!] --bytes-eq value | --bytes-lt value | --bytes-gt value\n' +
  '\t\t \'name\' is the set name from to match,\n' +
  '\t\t \'flags\' are the comma separated list of\n' +
  '\t\t \'src\' and \'dst\' specifications.\n';

/** The set match (-m set), revision 4. */
export const set = defineMatch<SetInfo>({
  name: 'set',
  help: () => HELP,
  revision: 4,
  oldStyle: true,
  options: [
    { name: 'match-set', id: 1, type: 'string' },
    { name: 'set', id: 2, type: 'string' },
    { name: 'return-nomatch', id: 3, type: 'none' },
    { name: 'update-counters', id: 4, type: 'none' },
    { name: 'packets-eq', id: 5, type: 'string' },
    { name: 'packets-lt', id: 6, type: 'string' },
    { name: 'packets-gt', id: 7, type: 'string' },
    { name: 'bytes-eq', id: 8, type: 'string' },
    { name: 'bytes-lt', id: 9, type: 'string' },
    { name: 'bytes-gt', id: 10, type: 'string' },
    { name: 'update-subcounters', id: 11, type: 'none' },
  ],
  init: () => ({
    name: '',
    dim: 0,
    src: [],
    invert: false,
    returnNomatch: false,
    skipCounterUpdate: false,
    skipSubcounterUpdate: false,
    packets: { op: 'none', value: '0' },
    bytes: { op: 'none', value: '0' },
  }),
  parse(cb) {
    const info = cb.info;
    const id = cb.entry.id;
    const counter = COUNTER_OPTS[id];
    if (counter) {
      const c = info[counter.which];
      if (c.op !== 'none') throw paramError(`only one of the --${counter.which}-[eq|lt|gt] is allowed`);
      if (cb.invert && counter.op !== 'eq') throw paramError(`--${counter.name} option cannot be inverted`);
      c.op = counter.op === 'eq' && cb.invert ? 'ne' : counter.op;
      c.value = parseCounter(cb.arg ?? '');
      return;
    }
    switch (id) {
      case 11:
        if (cb.invert) info.skipSubcounterUpdate = true;
        return;
      case 4:
        if (cb.invert) info.skipCounterUpdate = true;
        return;
      case 3:
        if (cb.invert) throw paramError('--return-nomatch flag cannot be inverted');
        info.returnNomatch = true;
        return;
      case 1:
      case 2: {
        if (id === 2) cb.warn('--set option deprecated, please use --match-set\n');
        if (info.dim) throw paramError('--match-set can be specified only once');
        if (cb.invert) info.invert = true;
        const next = cb.peekArg();
        if (next === undefined || next[0] === '-' || next[0] === '!') throw paramError('--match-set requires two args.');
        const name = cb.arg ?? '';
        if (new TextEncoder().encode(name).length > MAXNAMELEN - 1)
          throw paramError(`setname \`${name}' too long, max ${MAXNAMELEN - 1} characters.`);
        if (!ipsetExists(name)) throw paramError(`Set ${name} doesn't exist.\n`);
        info.name = name;
        parseDirs(cb.nextArg()!, info);
        // old-style flags: only --match-set counts for the final check
        cb.xflags |= 1;
        return;
      }
    }
  },
  final(cb) {
    if (!(cb.xflags & 1)) throw paramError("You must specify `--match-set' with proper arguments");
  },
  print: (info) => render(info, 'match-set', ''),
  save: (info) => render(info, '--match-set', '--'),
});
