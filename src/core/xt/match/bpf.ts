/**
 * The bpf match (revision 1): runs a classic BPF program, given as
 * "N,code jt jf k,..." (the output of nfbpf_compile), on each packet.
 * Pinned eBPF objects (--object-pinned) need a BPF file system, which the
 * lab machine does not have, so they are always refused.
 */
import { defineMatch, paramError } from '../index-types.js';
import { PacketType } from '../../path/skb.js';
import { runClassicBpf, type BpfPacket } from './cbpf.js';
import { RATE_HELP } from '../rate-help.js';

/** One classic BPF instruction (struct sock_filter). */
export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** xt_bpf_info_v1 in bytecode mode. */
export interface BpfInfo {
  /** XT_BPF_MODE_BYTECODE (0). */
  mode: number;
  program: BpfInsn[];
}

/** XT_BPF_MAX_NUM_INSTR. */
const MAX_INSNS = 64;
const O = { BYTECODE: 0, PINNED: 1 } as const;

/**
 * scanf's reading of one unsigned number (%hu, %hhu, %u): white space,
 * sign, decimal digits, reduced to `bits` bits. Returns the value and the
 * index after it, or undefined when no number is there.
 */
function scanUnsigned(s: string, pos: number, bits: number): { value: number; end: number } | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)/.exec(s.slice(pos));
  if (!m) return undefined;
  let v = BigInt(m[2]!);
  const max = (1n << 64n) - 1n;
  if (v > max) v = max;
  else if (m[1] === '-') v = BigInt.asUintN(64, -v);
  return { value: Number(BigInt.asUintN(bits, v)), end: pos + m[0].length };
}

/** bpf_parse_string: "len,code jt jf k,code jt jf k,...". */
function parseProgram(text: string): BpfInsn[] {
  const head = scanUnsigned(text, 0, 16);
  if (!head || text[head.end] !== ',') throw paramError('bpf: error parsing program length');
  const len = head.value;
  if (len === 0) throw paramError('bpf: illegal zero length program');
  if (len > MAX_INSNS) throw paramError('bpf: number of instructions exceeds maximum');
  const prog: BpfInsn[] = [];
  let token = 0;
  for (;;) {
    const comma = text.indexOf(',', token);
    if (comma < 0 || comma + 1 >= text.length) break;
    token = comma + 1;
    if (prog.length >= len) throw paramError('bpf: real program length exceeds the encoded length parameter');
    const code = scanUnsigned(text, token, 16);
    const jt = code && scanUnsigned(text, code.end, 8);
    const jf = jt && scanUnsigned(text, jt.end, 8);
    const k = jf && scanUnsigned(text, jf.end, 32);
    if (!code || !jt || !jf || !k) throw paramError(`bpf: error at instr ${prog.length}`);
    prog.push({ code: code.value, jt: jt.value, jf: jf.value, k: k.value });
  }
  if (prog.length !== len) throw paramError('bpf: parsed program length is less than the encoded length parameter');
  return prog;
}

// Classic BPF opcode parts.
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, H = 0x08, B = 0x10;
const IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70, NEG = 0x80, MOD = 0x90, XOR = 0xa0;
const JA = 0x00, JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40;
const K = 0x00, X = 0x08, A = 0x10;
const TAX = 0x00, TXA = 0x80;

/** Opcodes the kernel accepts in a classic filter (chk_code_allowed). */
const ALLOWED = new Set<number>([
  ...[ADD, SUB, MUL, DIV, MOD, AND, OR, XOR, LSH, RSH].flatMap((op) => [ALU | op | K, ALU | op | X]),
  ALU | NEG,
  LD | W | ABS, LD | H | ABS, LD | B | ABS, LD | W | LEN, LD | W | IND, LD | H | IND, LD | B | IND, LD | IMM, LD | MEM,
  LDX | W | LEN, LDX | B | MSH, LDX | IMM, LDX | MEM,
  ST, STX,
  MISC | TAX, MISC | TXA,
  RET | K, RET | A,
  JMP | JA,
  ...[JEQ, JGE, JGT, JSET].flatMap((op) => [JMP | op | K, JMP | op | X]),
]);

const CONDITIONAL = new Set<number>([JEQ, JGE, JGT, JSET].flatMap((op) => [JMP | op | K, JMP | op | X]));

/** BPF_MEMWORDS. */
const MEMWORDS = 16;
/** SKF_AD_OFF as an unsigned 32-bit value, and the ancillary loads that exist above it. */
const SKF_AD_OFF = 0xfffff000;
const SKF_AD_MAX = 64;

/** bpf_check_classic: whether the kernel accepts the program. */
export function classicProgramValid(prog: BpfInsn[]): boolean {
  const flen = prog.length;
  if (flen === 0 || flen > 4096) return false;
  for (let pc = 0; pc < flen; pc++) {
    const f = prog[pc]!;
    if (!ALLOWED.has(f.code)) return false;
    switch (f.code) {
      case ALU | DIV | K:
      case ALU | MOD | K:
        if (f.k === 0) return false;
        break;
      case ALU | LSH | K:
      case ALU | RSH | K:
        if (f.k >= 32) return false;
        break;
      case LD | MEM:
      case LDX | MEM:
      case ST:
      case STX:
        if (f.k >= MEMWORDS) return false;
        break;
      case JMP | JA:
        if (f.k >= flen - pc - 1) return false;
        break;
      case LD | W | ABS:
      case LD | H | ABS:
      case LD | B | ABS:
        if (f.k >= SKF_AD_OFF) {
          const anc = f.k - SKF_AD_OFF;
          if (anc % 4 !== 0 || anc >= SKF_AD_MAX) return false;
        }
        break;
      default:
        if (CONDITIONAL.has(f.code) && (pc + f.jt + 1 >= flen || pc + f.jf + 1 >= flen)) return false;
    }
  }
  const last = prog[flen - 1]!.code;
  if (last !== (RET | K) && last !== (RET | A)) return false;
  return memoryUseValid(prog);
}

/** check_load_and_stores: no scratch memory cell is read before every path has written it. */
function memoryUseValid(prog: BpfInsn[]): boolean {
  const masks = new Array<number>(prog.length).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    valid &= masks[pc]!;
    const f = prog[pc]!;
    if (f.code === ST || f.code === STX) valid |= 1 << f.k;
    else if (f.code === (LD | MEM) || f.code === (LDX | MEM)) {
      if (!(valid & (1 << f.k))) return false;
    } else if (f.code === (JMP | JA)) {
      masks[pc + 1 + f.k] = masks[pc + 1 + f.k]! & valid;
      valid = 0xffff;
    } else if (CONDITIONAL.has(f.code)) {
      masks[pc + 1 + f.jt] = masks[pc + 1 + f.jt]! & valid;
      masks[pc + 1 + f.jf] = masks[pc + 1 + f.jf]! & valid;
      valid = 0xffff;
    }
  }
  return true;
}

/** The instructions as "code jt jf k,..." (bpf_print_code without the tail). */
function formatProgram(prog: BpfInsn[]): string {
  return prog.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k}`).join(',');
}

/** The bpf match extension. */
export const bpf = defineMatch<BpfInfo>({
  name: 'bpf',
  help: () => RATE_HELP['bpf']!,
  revision: 1,
  options: [
    { name: 'bytecode', id: O.BYTECODE, type: 'string' },
    { name: 'object-pinned', id: O.PINNED, type: 'string' },
  ],
  init: () => ({ mode: 0, program: [] }),
  parse(cb) {
    cb.parseGeneric();
    if (cb.entry.id === O.BYTECODE) {
      cb.info.program = parseProgram(cb.arg!);
      cb.info.mode = 0;
    } else {
      throw paramError('bpf: failed to get bpf object');
    }
  },
  final(cb) {
    const flags = cb.xflags & ((1 << O.BYTECODE) | (1 << O.PINNED));
    if (flags !== 1 << O.BYTECODE && flags !== 1 << O.PINNED)
      throw paramError('bpf: one of --bytecode or --pinned is required');
  },
  check: (info) => (classicProgramValid(info.program) ? undefined : { errno: 'EINVAL' }),
  // iptables prints this without a leading space and ends it with a NUL byte.
  print: (info) => `match bpf ${formatProgram(info.program)}\0`,
  save: (info) => ` --bytecode "${info.program.length},${formatProgram(info.program)}"`,
  // bytecode mode only: a pinned object never gets past the command line
  match(info, ctx) {
    const skb = ctx.skb;
    // skb->dev: the input device up to FORWARD, the output device from POSTROUTING on, none yet in OUTPUT
    const devName = ctx.hook === 'OUTPUT' ? '' : ctx.hook === 'POSTROUTING' ? ctx.out : ctx.in;
    const dev = devName === '' ? undefined : findLink(ctx.kernel.net, devName);
    const pkt: BpfPacket = {
      data: skb.data,
      mac: skb.mac,
      protocol: 0x0800,
      pktType: skb.pktType === PacketType.OUTGOING ? PacketType.HOST : skb.pktType,
      ifindex: devName === '' ? -1 : dev?.index ?? 0,
      hatype: dev?.kind === 'loopback' ? 772 : 1,
      mark: skb.mark,
      random: () => ctx.kernel.random32(),
    };
    return runClassicBpf(info.program, pkt) !== 0;
  },
});

/** What the match reads of a link of the machine's network state. */
interface LinkView {
  name: string;
  index: number;
  kind: string;
}

/** The lab machine's link called `name`, when the network state has one. */
function findLink(net: unknown, name: string): LinkView | undefined {
  const links = (net as { links?: LinkView[] } | undefined)?.links;
  return links?.find((l) => l.name === name);
}
