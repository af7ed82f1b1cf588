/**
 * The connlabel match: whether a connection carries a label bit (0-127),
 * named through /etc/xtables/connlabel.conf. A lab machine has no such
 * file, so only numbers work; like iptables, every attempt to read the
 * file warns on stderr (also when listing).
 */
import { defineMatch, paramError } from '../index-types.js';
import { warnVia } from './conn-util.js';
import type { PacketContext } from '../packet.js';
import { isTemplate } from '../target/ct-template.js';

/** xt_connlabel_mtinfo. */
export interface ConnlabelInfo {
  bit: number;
  /** XT_CONNLABEL_OP_INVERT (1), XT_CONNLABEL_OP_SET (2). */
  options: number;
}

const OP_INVERT = 1;
const OP_SET = 2;
/** XT_CONNLABEL_MAXBIT. */
const MAXBIT = 127;
const LABEL_FILE = '/etc/xtables/connlabel.conf';

/** Opening the label map fails on a lab machine: warn as libnetfilter_conntrack's caller does. */
function labelName(ctx: object, _bit: number): string | undefined {
  warnVia(ctx, `Warning: cannot open ${LABEL_FILE}: No such file or directory\n`);
  return undefined;
}

/** connlabel_value_parse: strtoul base 0 over the whole text, as a C int. */
function parseValue(arg: string): number {
  if (arg === '') return -1;
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(arg);
  if (!m) return -1;
  let v = BigInt(m[2]!.startsWith('0') && !/^0[xX]/.test(m[2]!) ? `0o${m[2]!.slice(1) || '0'}` : m[2]!);
  if (v > (1n << 64n) - 1n) v = (1n << 64n) - 1n; // strtoul saturates
  else if (m[1] === '-' && v !== 0n) v = (1n << 64n) - v;
  // the unsigned long goes into an int: keep the low 32 bits, signed
  const low = Number(v & 0xffffffffn);
  return low > 0x7fffffff ? low - 2 ** 32 : low;
}

/** What `iptables -m connlabel -h` adds after the general help. */
const HELP =
  'connlabel match options:\n' +
  '[!] --label name     Match if label has been set on connection\n' +
  '    --set            Set label on connection\n';

/** The connlabel match (-m connlabel). */
export const connlabel = defineMatch<ConnlabelInfo>({
  name: 'connlabel',
  help: () => HELP,
  options: [
    { name: 'label', id: 0, type: 'string', invert: true, mandatory: true, min: 1 },
    { name: 'set', id: 1, type: 'none' },
  ],
  init: () => ({ bit: 0, options: 0 }),
  parse(cb) {
    cb.parseGeneric();
    const info = cb.info;
    if (cb.entry.id === 1) {
      info.options |= OP_SET;
      return;
    }
    const arg = cb.arg ?? '';
    const bit = parseValue(arg);
    if (bit < 0) {
      cb.warn(`Warning: cannot open ${LABEL_FILE}: No such file or directory\n`);
      throw paramError(`label '${arg}' not found or invalid value`);
    }
    info.bit = bit;
    if (cb.invert) info.options |= OP_INVERT;
  },
  check: (info) => (info.bit > MAXBIT ? { errno: 'ERANGE' } : undefined),
  print(info, ctx) {
    const name = labelName(ctx, info.bit);
    let s = ` connlabel${info.options & OP_INVERT ? ' !' : ''}`;
    s += ctx.numeric || name === undefined ? ` ${info.bit}` : ` '${name}'`;
    return s + (info.options & OP_SET ? ' set' : '');
  },
  save(info, ctx) {
    const name = labelName(ctx, info.bit);
    return `${info.options & OP_INVERT ? ' !' : ''} --label "${name ?? info.bit}"${info.options & OP_SET ? ' --set' : ''}`;
  },
  match: connlabelMatch,
});

/**
 * The kernel half: whether the connection carries the label bit; with
 * --set the bit is set and the packet matches. Without a connection (or
 * with a CT template, which has no labels) the result is the inversion
 * flag alone.
 */
function connlabelMatch(info: ConnlabelInfo, ctx: PacketContext): boolean {
  const invert = (info.options & OP_INVERT) !== 0;
  const ct = ctx.skb.ct;
  if (ct === null || isTemplate(ct)) return invert;
  const word = info.bit >>> 5;
  const bit = 1 << (info.bit & 31);
  const labels = ct.labels;
  if ((labels[word] ?? 0) & bit) return !invert;
  if (info.options & OP_SET) {
    while (labels.length <= word) labels.push(0);
    labels[word] = (labels[word]! | bit) >>> 0;
    return !invert;
  }
  return invert;
}
