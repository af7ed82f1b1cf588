/**
 * Running a packet through a table's chain, as nf_tables runs iptables-nft
 * rules: the IP part of each rule, its matches in order, then the counter
 * and the target; user chains by jump (with return) or goto; the policy
 * at the end of a built-in chain. Rule sets are compiled once into a form
 * that needs no lookups per packet; counters accumulate as plain numbers
 * and are written back into the rules by `flushCounters`.
 */
import type { Rule, RuleMatch } from './rule.js';
import type { Chain, Ruleset } from './ruleset.js';
import type { Hook, TableName } from './tables.js';
import { findMatch, findTarget } from '../xt/registry.js';
import type { MatchDef, TargetDef } from '../xt/types.js';
import type { PacketContext } from '../xt/packet.js';
import { NF_ACCEPT, NF_DROP, NF_QUEUE, XT_CONTINUE, XT_RETURN } from '../xt/verdict.js';
import { IPT_INV } from '../xt/types.js';

const T_NONE = 0;
const T_VERDICT = 1;
const T_JUMP = 2;
const T_GOTO = 3;
const T_EXT = 4;

/** A match of a compiled rule. */
interface CompiledMatch {
  def: MatchDef;
  info: any;
  /** The stored match, which keeps the runtime state (`rt`). */
  holder: RuleMatch;
}

/** A rule ready for the packet path. */
export interface CompiledRule {
  /** The stored rule (its counters receive the pending counts). */
  rule: Rule;
  /** Position in its chain, from 1. */
  index: number;
  src: number;
  smsk: number;
  dst: number;
  dmsk: number;
  /** Input interface ('' any); `inPrefix` when it ended in '+'. */
  inIface: string;
  inPrefix: boolean;
  outIface: string;
  outPrefix: boolean;
  proto: number;
  invflags: number;
  fragment: boolean;
  matches: CompiledMatch[];
  tkind: number;
  /** T_VERDICT: the verdict number. */
  verdict: number;
  /** T_JUMP, T_GOTO: the chain. */
  jump: CompiledChain | null;
  /** T_EXT: the target. */
  tdef: TargetDef | null;
  tinfo: any;
  /** The stored target, which keeps the runtime state. */
  tholder: { rt?: any } | null;
  /** Counts not yet written back to the rule. */
  pkts: number;
  bytes: number;
  /** Which parts of the IP match this rule needs (C_* bits). */
  checks: number;
  /**
   * The rule's only match is a tcp or udp match that iptables-nft gives the kernel as plain
   * port comparisons (no inversion, no flags, no option): checked here, without a call.
   */
  ports: boolean;
  sportLo: number;
  sportHi: number;
  dportLo: number;
  dportHi: number;
}

const C_SRC = 1;
const C_DST = 2;
const C_IN = 4;
const C_OUT = 8;
const C_PROTO = 16;
const C_FRAG = 32;

/** A chain ready for the packet path. */
export interface CompiledChain {
  name: string;
  /** The stored chain (policy counters). */
  chain: Chain;
  /** Verdict of the policy (built-in chains), or XT_RETURN for user chains. */
  policy: number;
  rules: CompiledRule[];
  /** Policy counts not yet written back. */
  pkts: number;
  bytes: number;
  /** The kernel counts the policy (the chain has counters). */
  counted: boolean;
}

/** A table ready for the packet path: its base chains by hook. */
export interface CompiledTable {
  name: TableName;
  hooks: Partial<Record<Hook, CompiledChain>>;
  /** Every chain, for writing counters back. */
  chains: CompiledChain[];
}

/** An extension the packet path cannot run faithfully yet; reported, never guessed. */
export class UnsupportedInPath extends Error {
  constructor(
    /** 'match' or 'target'. */
    readonly kind: 'match' | 'target',
    /** The extension's name. */
    readonly extName: string,
  ) {
    super(`the packet path does not implement ${kind === 'match' ? '-m' : '-j'} ${extName} yet`);
  }
}

function compileRule(r: Rule, index: number, chains: Map<string, CompiledChain>): CompiledRule {
  const matches: CompiledMatch[] = r.matches.map((m) => {
    const def = findMatch(m.name, 'ipv4');
    if (!def || !def.match) throw new UnsupportedInPath('match', m.name);
    if (def.runtime && m.rt === undefined) m.rt = def.runtime(m.info);
    return { def, info: m.info, holder: m };
  });
  const c: CompiledRule = {
    rule: r,
    index,
    src: r.src >>> 0,
    smsk: r.smsk >>> 0,
    dst: r.dst >>> 0,
    dmsk: r.dmsk >>> 0,
    inIface: r.iniface.endsWith('+') ? r.iniface.slice(0, -1) : r.iniface,
    inPrefix: r.iniface.endsWith('+'),
    outIface: r.outiface.endsWith('+') ? r.outiface.slice(0, -1) : r.outiface,
    outPrefix: r.outiface.endsWith('+'),
    proto: r.proto,
    invflags: r.invflags,
    fragment: r.fragment,
    matches,
    tkind: T_NONE,
    verdict: NF_ACCEPT,
    jump: null,
    tdef: null,
    tinfo: null,
    tholder: null,
    pkts: 0,
    bytes: 0,
    checks: 0,
    ports: false,
    sportLo: 0,
    sportHi: 0xffff,
    dportLo: 0,
    dportHi: 0xffff,
  };
  if (matches.length === 1 && (r.matches[0]!.name === 'tcp' || r.matches[0]!.name === 'udp')) {
    const info = matches[0]!.info;
    const all = info.spts[0] === 0 && info.spts[1] === 0xffff && info.dpts[0] === 0 && info.dpts[1] === 0xffff;
    if (info.invflags === 0 && !all && (info.option ?? 0) === 0 && (info.flgMask ?? 0) === 0 && (info.flgCmp ?? 0) === 0) {
      c.ports = true;
      c.sportLo = info.spts[0];
      c.sportHi = info.spts[1];
      c.dportLo = info.dpts[0];
      c.dportHi = info.dpts[1];
    }
  }
  c.checks =
    (c.smsk !== 0 || c.invflags & IPT_INV.SRCIP ? C_SRC : 0) |
    (c.dmsk !== 0 || c.invflags & IPT_INV.DSTIP ? C_DST : 0) |
    (c.inIface !== '' || c.inPrefix ? C_IN : 0) |
    (c.outIface !== '' || c.outPrefix ? C_OUT : 0) |
    (c.proto !== 0 ? C_PROTO : 0) |
    (c.fragment ? C_FRAG : 0);
  const t = r.target;
  switch (t.kind) {
    case 'verdict':
      c.tkind = T_VERDICT;
      c.verdict = t.verdict === 'ACCEPT' ? NF_ACCEPT : t.verdict === 'DROP' ? NF_DROP : t.verdict === 'QUEUE' ? NF_QUEUE : XT_RETURN;
      break;
    case 'jump':
      c.tkind = t.goto ? T_GOTO : T_JUMP;
      c.jump = chains.get(t.chain) ?? null;
      break;
    case 'ext': {
      const def = findTarget(t.name, 'ipv4');
      if (!def || !def.target) throw new UnsupportedInPath('target', t.name);
      if (def.runtime && t.rt === undefined) t.rt = def.runtime(t.info);
      c.tkind = T_EXT;
      c.tdef = def;
      c.tinfo = t.info;
      c.tholder = t;
      break;
    }
    case 'none':
      break;
  }
  return c;
}

/**
 * Compiles every table of an IPv4 rule set. Throws UnsupportedInPath when
 * a rule uses an extension whose kernel half does not exist.
 */
export function compileRuleset(rs: Ruleset): Partial<Record<TableName, CompiledTable>> {
  const out: Partial<Record<TableName, CompiledTable>> = {};
  for (const [name, t] of Object.entries(rs.tables) as [TableName, NonNullable<Ruleset['tables'][TableName]>][]) {
    const byName = new Map<string, CompiledChain>();
    const all: CompiledChain[] = [];
    const hooks: Partial<Record<Hook, CompiledChain>> = {};
    for (const [hook, ch] of Object.entries(t.builtins) as [Hook, Chain][]) {
      const cc: CompiledChain = { name: hook, chain: ch, policy: ch.policy === 'DROP' ? NF_DROP : NF_ACCEPT, rules: [], pkts: 0, bytes: 0, counted: !ch.uncounted };
      hooks[hook] = cc;
      byName.set(hook, cc);
      all.push(cc);
    }
    for (const ch of t.user) {
      // a renamed base chain keeps its hook in the kernel but no name iptables can jump to
      const cc: CompiledChain = { name: ch.name, chain: ch, policy: XT_RETURN, rules: [], pkts: 0, bytes: 0, counted: !ch.uncounted };
      if (ch.policy === null) byName.set(ch.name, cc);
      all.push(cc);
    }
    for (const cc of all) cc.rules = cc.chain.rules.map((r, i) => compileRule(r, i + 1, byName));
    out[name] = { name, hooks, chains: all };
  }
  return out;
}

/** Writes the pending counts of a compiled table into its rules and policies. */
export function flushCounters(t: CompiledTable): void {
  for (const cc of t.chains) {
    if (cc.pkts) {
      cc.chain.pkts += BigInt(cc.pkts);
      cc.chain.bytes += BigInt(cc.bytes);
      cc.pkts = cc.bytes = 0;
    }
    for (const r of cc.rules) {
      if (r.pkts) {
        r.rule.pkts += BigInt(r.pkts);
        r.rule.bytes += BigInt(r.bytes);
        r.pkts = r.bytes = 0;
      }
    }
  }
}

/**
 * Receives what the traversal does, for TRACE and `nflab trace`: called
 * only for packets being traced.
 */
export interface TraversalObserver {
  /**
   * A rule matched; `verdict` is what its target gave (XT_CONTINUE for a
   * rule without a terminal target); `jumpTo` names the chain of a jump or
   * (with `isGoto`) a goto.
   */
  rule(table: TableName, chain: string, rule: CompiledRule, verdict: number, jumpTo: string | null, isGoto: boolean): void;
  /** A base chain's policy decided. */
  policy(table: TableName, chain: string, verdict: number): void;
}

function ifaceMatches(name: string, want: string, prefix: boolean): boolean {
  return prefix ? name.startsWith(want) : name === want;
}

/** Whether the IP part of a rule matches (ip_packet_match), on the packet's fields read once per traversal. */
function ipMatch(r: CompiledRule, saddr: number, daddr: number, proto: number, ctx: PacketContext): boolean {
  const c = r.checks;
  if (c === 0) return true;
  const inv = r.invflags;
  if (c & C_SRC && (r.smsk === 0 || (((saddr ^ r.src) & r.smsk) === 0) === ((inv & IPT_INV.SRCIP) !== 0))) return false;
  if (c & C_DST && (r.dmsk === 0 || (((daddr ^ r.dst) & r.dmsk) === 0) === ((inv & IPT_INV.DSTIP) !== 0))) return false;
  if (c & C_PROTO && (proto === r.proto) === ((inv & IPT_INV.PROTO) !== 0)) return false;
  if (c & C_IN && ifaceMatches(ctx.in, r.inIface, r.inPrefix) === ((inv & IPT_INV.VIA_IN) !== 0)) return false;
  if (c & C_OUT && ifaceMatches(ctx.out, r.outIface, r.outPrefix) === ((inv & IPT_INV.VIA_OUT) !== 0)) return false;
  if (c & C_FRAG && (ctx.fragoff !== 0) === ((inv & IPT_INV.FRAG) !== 0)) return false;
  return true;
}

const NO_MATCHES: CompiledMatch[] = [];

/** Maximum nesting of jumps, as nf_tables' jump stack (NFT_JUMP_STACK_SIZE). */
const JUMP_STACK = 16;

/**
 * Runs the packet through a base chain and returns the final verdict
 * (NF_ACCEPT, NF_DROP, NF_STOLEN, NF_QUEUE). `obs` receives the steps when
 * the packet is traced.
 */
export function runChain(base: CompiledChain, ctx: PacketContext, obs: TraversalObserver | null): number {
  const stackChain: CompiledChain[] = [];
  const stackPos: number[] = [];
  let chain = base;
  let pos = 0;
  let d = ctx.skb.data;
  let saddr = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
  let daddr = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
  let proto = d[9]!;
  // ports, read when a rule first needs them (-1: the header is too short, nothing matches)
  let portsLoaded = false;
  let sport = -1;
  let dport = -1;
  for (;;) {
    const rules = chain.rules;
    let verdict = XT_CONTINUE;
    let next: CompiledChain | null = null;
    let isGoto = false;
    while (pos < rules.length) {
      const r = rules[pos++]!;
      if (!ipMatch(r, saddr, daddr, proto, ctx)) continue;
      let ok = true;
      if (r.ports) {
        if (!portsLoaded) {
          portsLoaded = true;
          const t = ctx.thoff;
          if (d.length >= t + 4) {
            sport = (d[t]! << 8) | d[t + 1]!;
            dport = (d[t + 2]! << 8) | d[t + 3]!;
          }
        }
        if (sport < r.sportLo || sport > r.sportHi || dport < r.dportLo || dport > r.dportHi) continue;
      }
      const ms = r.ports ? NO_MATCHES : r.matches;
      for (let i = 0; i < ms.length; i++) {
        const m = ms[i]!;
        if (!m.def.match!(m.info, ctx, m.holder.rt)) {
          ok = false;
          break;
        }
      }
      if (ctx.hotdrop) {
        if (obs && ctx.skb.trace) obs.rule(ctx.table, chain.name, r, NF_DROP, null, false);
        return NF_DROP;
      }
      if (!ok) continue;
      // the length now: a target earlier in the chain may have grown the packet (TCPMSS)
      r.pkts++;
      r.bytes += ctx.skb.data.length;
      switch (r.tkind) {
        case T_NONE:
          if (obs && ctx.skb.trace) obs.rule(ctx.table, chain.name, r, XT_CONTINUE, null, false);
          continue;
        case T_VERDICT:
          verdict = r.verdict;
          break;
        case T_JUMP:
        case T_GOTO:
          next = r.jump;
          isGoto = r.tkind === T_GOTO;
          break;
        case T_EXT:
          verdict = r.tdef!.target!(r.tinfo, ctx, r.tholder!.rt);
          // a target that lets the packet go on may have rewritten it
          d = ctx.skb.data;
          saddr = ((d[12]! << 24) | (d[13]! << 16) | (d[14]! << 8) | d[15]!) >>> 0;
          daddr = ((d[16]! << 24) | (d[17]! << 16) | (d[18]! << 8) | d[19]!) >>> 0;
          proto = d[9]!;
          portsLoaded = false;
          sport = dport = -1;
          break;
      }
      if (obs && ctx.skb.trace) obs.rule(ctx.table, chain.name, r, next ? XT_CONTINUE : verdict, next ? next.name : null, isGoto);
      if (next || verdict !== XT_CONTINUE) break;
    }
    if (next) {
      if (!isGoto) {
        if (stackChain.length >= JUMP_STACK) return NF_DROP;
        stackChain.push(chain);
        stackPos.push(pos);
      }
      chain = next;
      pos = 0;
      continue;
    }
    if (verdict === XT_CONTINUE || verdict === XT_RETURN) {
      // end of the chain or RETURN: back to the caller, or the policy of a base chain
      if (stackChain.length) {
        chain = stackChain.pop()!;
        pos = stackPos.pop()!;
        continue;
      }
      if (base.counted) {
        base.pkts++;
        base.bytes += ctx.skb.data.length;
      }
      if (obs && ctx.skb.trace) obs.policy(ctx.table, base.name, base.policy);
      return base.policy;
    }
    return verdict;
  }
}
