/**
 * The physdev match: the bridge ports a bridged packet came in on or goes
 * out of (names with '+' wildcards), and whether it arrived on, leaves on
 * or crosses a bridge. The kernel refuses the output tests in OUTPUT unless
 * --physdev-is-bridged (not inverted) is also given.
 */
import { isBuiltinChain } from '../../netfilter/tables.js';
import { defineMatch, paramError } from '../index-types.js';

/** xt_physdev_info (the masks follow from the names and are not kept). */
export interface PhysdevInfo {
  physindev: string;
  physoutdev: string;
  /** XT_PHYSDEV_OP_* bits given. */
  bitmask: number;
  /** XT_PHYSDEV_OP_* bits negated. */
  invert: number;
}

/** XT_PHYSDEV_OP_* bits. */
export const PHYSDEV_OP = { IN: 0x01, OUT: 0x02, BRIDGED: 0x04, ISIN: 0x08, ISOUT: 0x10 } as const;

/** xtables_parse_interface's checks on a bridge port name. */
function parsePortName(arg: string, warn: (text: string) => void): string {
  if (new TextEncoder().encode(arg).length + 1 > 16)
    throw paramError(`interface name \`${arg}' must be shorter than IFNAMSIZ (15)`);
  if (/[/ ]/.test(arg))
    warn(`Warning: weird character in interface \`${arg}' ('/' and ' ' are not allowed by the kernel).\n`);
  return arg;
}

/** The options in the order print and save show them. */
function render(info: PhysdevInfo): string {
  const inv = (bit: number) => (info.invert & bit ? ' !' : '');
  let s = '';
  if (info.bitmask & PHYSDEV_OP.ISIN) s += `${inv(PHYSDEV_OP.ISIN)} --physdev-is-in`;
  if (info.bitmask & PHYSDEV_OP.IN) s += `${inv(PHYSDEV_OP.IN)} --physdev-in ${info.physindev}`;
  if (info.bitmask & PHYSDEV_OP.ISOUT) s += `${inv(PHYSDEV_OP.ISOUT)} --physdev-is-out`;
  if (info.bitmask & PHYSDEV_OP.OUT) s += `${inv(PHYSDEV_OP.OUT)} --physdev-out ${info.physoutdev}`;
  if (info.bitmask & PHYSDEV_OP.BRIDGED) s += `${inv(PHYSDEV_OP.BRIDGED)} --physdev-is-bridged`;
  return s;
}

const BITS = [PHYSDEV_OP.IN, PHYSDEV_OP.OUT, PHYSDEV_OP.ISIN, PHYSDEV_OP.ISOUT, PHYSDEV_OP.BRIDGED];

/** What `iptables -m physdev -h` adds after the general help. */
const HELP =
  'physdev match options:\n' +
  ' [!] --physdev-in inputname[+]\t\tbridge port name ([+] for wildcard)\n' +
  ' [!] --physdev-out outputname[+]\tbridge port name ([+] for wildcard)\n' +
  ' [!] --physdev-is-in\t\t\tarrived on a bridge device\n' +
  ' [!] --physdev-is-out\t\t\twill leave on a bridge device\n' +
  ' [!] --physdev-is-bridged\t\tit\'s a bridged packet\n';

/** The physdev match (-m physdev). */
export const physdev = defineMatch<PhysdevInfo>({
  name: 'physdev',
  help: () => HELP,
  options: [
    { name: 'physdev-in', id: 0, type: 'string', invert: true },
    { name: 'physdev-out', id: 1, type: 'string', invert: true },
    { name: 'physdev-is-in', id: 2, type: 'none', invert: true },
    { name: 'physdev-is-out', id: 3, type: 'none', invert: true },
    { name: 'physdev-is-bridged', id: 4, type: 'none', invert: true },
  ],
  init: () => ({ physindev: '', physoutdev: '', bitmask: 0, invert: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    const bit = BITS[cb.entry.id]!;
    if (cb.entry.id === 0) info.physindev = parsePortName(cb.arg ?? '', cb.warn);
    if (cb.entry.id === 1) info.physoutdev = parsePortName(cb.arg ?? '', cb.warn);
    info.bitmask |= bit;
    if (cb.invert) info.invert |= bit;
  },
  final(cb) {
    if (cb.xflags === 0) throw paramError('PHYSDEV: no physdev option specified');
  },
  check(info, ctx) {
    const outTest = (info.bitmask & (PHYSDEV_OP.OUT | PHYSDEV_OP.ISOUT)) !== 0;
    const bridged = (info.bitmask & PHYSDEV_OP.BRIDGED) !== 0 && !(info.invert & PHYSDEV_OP.BRIDGED);
    // User chains: reachability is not tracked yet, so only built-in chains are checked.
    if (outTest && !bridged && isBuiltinChain(ctx.table, ctx.chain) && ctx.hooks.includes('OUTPUT'))
      return { errno: 'EINVAL' };
    return undefined;
  },
  print: (info) => ` PHYSDEV match${render(info)}`,
  save: (info) => render(info),
  // A lab machine bridges no IP traffic through netfilter: every packet is
  // one that crossed no bridge, which matches only when each option given is
  // negated.
  match: (info) => (info.bitmask & ~info.invert & 0x1f) === 0,
});
