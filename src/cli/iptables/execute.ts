/**
 * Carries out a parsed iptables command on a ruleset the way iptables-nft
 * 1.8.9 does: which tables and built-in chains come into existence, the
 * kernel's checks at commit, and the text -L, -S and -v print.
 */
import { emptyRule, type Rule, type RuleTarget } from '../../core/netfilter/rule.js';
import {
  addUserChain,
  chainReferences,
  findChain,
  findRealChain,
  initBuiltins,
  listChains,
  sortUserChains,
  type Chain,
  type Ruleset,
  type Table,
} from '../../core/netfilter/ruleset.js';
import { isBuiltinChain, tableInfo, type Hook, type TableName } from '../../core/netfilter/tables.js';
import type { NameDb } from '../../core/xt/namedb.js';
import { CommitParamError, XtError, type ExtensionDef } from '../../core/xt/types.js';
import { findMatch, findTarget } from '../../core/xt/registry.js';
import { CommandFailure, CommitFailure } from './errors.js';
import { listHeader, listRule, saveRuleBody, verboseRule, type ListFormat } from './format.js';
import { CMD, OPT, type ExtInstance, type ParsedCommand } from './parse.js';

/** Output of one command. */
export interface ExecOutput {
  stdout: string;
  /** Whether the ruleset was changed (and must be saved). */
  changed: boolean;
  /** Set when the command added rules: the commit must validate the table. */
  jumpAdded?: JumpAdded;
}

/** Context for running commands. */
export interface ExecEnv {
  names: NameDb;
  /** Restore line number, for batch errors. */
  line?: number;
}

/**
 * Builds the rules a command describes: one per source × destination
 * address, in the form iptables-nft reads back from the kernel. Rules to be
 * stored (`store`) also take the kernel's own changes.
 */
export function buildRules(p: ParsedCommand, table: string, chain: string, rs: Ruleset | undefined, store = true): Rule[] {
  const rules: Rule[] = [];
  const base = emptyRule();
  base.iniface = p.iniface === '+' ? '' : p.iniface;
  base.outiface = p.outiface === '+' ? '' : p.outiface;
  base.proto = p.proto;
  base.invflags = p.invflags;
  base.fragment = p.fragment;
  base.pkts = p.pcnt;
  base.bytes = p.bcnt;
  const hooks = reachableHooks(rs, table, chain);
  const header = { proto: p.proto, invflags: p.invflags, fragment: p.fragment };
  const matches = p.matches.flatMap((m) => {
    runCheck(m, table, chain, hooks, header);
    let info = m.def.kernelForm ? m.def.kernelForm(m.info) : m.info;
    if (info !== null && store && m.def.storeForm) info = m.def.storeForm(info);
    return info === null ? [] : [{ name: m.def.realName ?? m.def.name, info }];
  });
  let target: RuleTarget;
  if (p.target && p.target.def.name === 'standard') {
    target = { kind: 'verdict', verdict: p.jumpto as 'ACCEPT' };
  } else if (p.target) {
    runCheck(p.target, table, chain, hooks, header);
    let info = p.target.def.kernelForm ? p.target.def.kernelForm(p.target.info) : p.target.info;
    if (store && p.target.def.storeForm) info = p.target.def.storeForm(info);
    target = { kind: 'ext', name: p.target.def.realName ?? p.target.def.name, info };
  } else if (p.jumpto !== '') {
    target = { kind: 'jump', chain: p.jumpto, goto: p.goto };
  } else {
    target = { kind: 'none' };
  }
  const single = p.srcs.length === 1 && p.dsts.length === 1;
  for (const s of p.srcs) {
    for (const d of p.dsts) {
      rules.push({
        ...base,
        src: s.addr,
        smsk: s.mask,
        dst: d.addr,
        dmsk: d.mask,
        // several rules from one command must not share extension data
        matches: single ? matches : structuredClone(matches),
        target: single ? target : structuredClone(target),
      });
    }
  }
  return rules;
}

/**
 * The built-in chains (hooks) from which `chain` is reached through jumps
 * and gotos in `rs` as it stands: the chain itself when it is built in, none
 * for a user chain nothing jumps to yet (the kernel checks such a chain's
 * rules against hooks only once a jump makes it reachable).
 */
function reachableHooks(rs: Ruleset | undefined, table: string, chain: string): readonly string[] {
  const info = tableInfo(table);
  if (!info) return [];
  if (isBuiltinChain(table, chain)) return [chain];
  const t = rs?.tables[table as TableName];
  if (!t) return [];
  return info.chains.filter((h) => {
    const base = t.builtins[h];
    return base !== undefined && reachableFrom(t, base).has(chain);
  });
}

/** Names of the user chains reachable from `start` through jumps and gotos. */
function reachableFrom(t: Table, start: Chain): Set<string> {
  const user = new Map(t.user.map((c) => [c.name, c]));
  const seen = new Set<string>();
  const todo = [start];
  while (todo.length) {
    const c = todo.pop()!;
    for (const r of c.rules) {
      if (r.target.kind !== 'jump' || seen.has(r.target.chain)) continue;
      const next = user.get(r.target.chain);
      if (!next) continue;
      seen.add(next.name);
      todo.push(next);
    }
  }
  return seen;
}

/**
 * Re-runs the extensions' insert-time checks for every rule of the user
 * chains each hook reaches (nft_chain_validate): a jump can make a chain
 * reachable from a hook one of its targets or matches refuses.
 */
function hookRefusal(t: Table): KernelReject | undefined {
  for (const h of tableInfo(t.name)!.chains) {
    const base = t.builtins[h];
    if (!base) continue;
    for (const name of reachableFrom(t, base)) {
      const c = t.user.find((u) => u.name === name)!;
      for (const r of c.rules) {
        const ctx = { table: t.name, chain: name, hooks: [h], rule: { proto: r.proto, invflags: r.invflags, fragment: r.fragment } };
        for (const m of r.matches) {
          const err = findMatch(m.name)?.check?.(m.info, ctx);
          if (err) return new KernelReject(err.errno, err.message);
        }
        if (r.target.kind === 'ext') {
          const err = findTarget(r.target.name)?.check?.(r.target.info, ctx);
          if (err) return new KernelReject(err.errno, err.message);
        }
      }
    }
  }
  return undefined;
}

function runCheck(
  inst: ExtInstance,
  table: string,
  chain: string,
  hooks: readonly string[],
  rule: { proto: number; invflags: number; fragment: boolean },
): void {
  const def: ExtensionDef = inst.def;
  const err = def.check?.(inst.info, { table, chain, hooks, rule });
  if (err) throw new KernelReject(err.errno, err.message);
}

/** A kernel checkentry refusal, turned into a batch error by the caller. */
export class KernelReject extends Error {
  constructor(
    readonly errno: string,
    readonly detail?: string,
  ) {
    super(errno);
  }
}

/** Rules compare equal when the kernel holds the same data for both (counters aside). */
export function sameRule(a: Rule, b: Rule): boolean {
  return (
    a.src === b.src &&
    a.smsk === b.smsk &&
    a.dst === b.dst &&
    a.dmsk === b.dmsk &&
    a.iniface === b.iniface &&
    a.outiface === b.outiface &&
    a.proto === b.proto &&
    a.invflags === b.invflags &&
    a.fragment === b.fragment &&
    JSON.stringify(a.matches) === JSON.stringify(b.matches) &&
    JSON.stringify(a.target) === JSON.stringify(b.target)
  );
}

function checkJump(rs: Ruleset, table: TableName, rule: Rule, chain: string, op: string, line?: number): void {
  const t = rule.target;
  if (t.kind !== 'jump') return;
  if (isBuiltinChain(table, t.chain)) {
    const exists = rs.tables[table]?.builtins[t.chain as Hook] !== undefined;
    throw new CommitFailure(op, exists ? 'EOPNOTSUPP' : 'ENOENT', `rule in chain ${chain}`, line);
  }
}

function jumpTargetExists(rs: Ruleset, table: TableName, p: ParsedCommand): void {
  if (p.target || p.jumpto === '') return;
  if (isBuiltinChain(table, p.jumpto)) return;
  if (!rs.tables[table]?.user.some((c) => c.name === p.jumpto))
    throw new CommitParamError(`Chain '${p.jumpto}' does not exist`, 2);
}

/** The command that last added a rule, to blame if the commit finds the table invalid. */
export interface JumpAdded {
  op: string;
  chain: string;
  line?: number;
}

/**
 * The kernel's commit-time validation of a table: a jump loop reachable
 * from a base chain is refused with ELOOP, blamed on the rule that added
 * the last jump.
 */
export function validateTable(rs: Ruleset, table: TableName, blame: JumpAdded | undefined): void {
  const t = rs.tables[table];
  if (!t || !blame) return;
  if (findLoop(t) !== undefined) throw new CommitFailure(blame.op, 'ELOOP', `rule in chain ${blame.chain}`, blame.line);
  const refused = hookRefusal(t);
  if (refused) throw new CommitFailure(blame.op, refused.errno, `rule in chain ${blame.chain}`, blame.line);
  // Extensions limited to some hooks must not be reachable from others through jumps.
  for (const [chain, hooks] of hooksReaching(t)) {
    const c = t.user.find((x) => x.name === chain)!;
    for (const r of c.rules) {
      const defs: (ExtensionDef | undefined)[] = r.matches.map((m) => findMatch(m.name));
      if (r.target.kind === 'ext') defs.push(findTarget(r.target.name));
      for (const d of defs) {
        if (d?.hooks && [...hooks].some((h) => !d.hooks!.includes(h)))
          throw new CommitFailure(blame.op, 'EINVAL', `rule in chain ${blame.chain}`, blame.line);
      }
    }
  }
}

/** For each user chain reached by jumps, the built-in chains (hooks) it is reached from. */
function hooksReaching(t: Table): Map<string, Set<string>> {
  const reach = new Map<string, Set<string>>();
  const user = new Map(t.user.map((c) => [c.name, c]));
  for (const [hook, base] of Object.entries(t.builtins)) {
    const stack = [base!];
    const seen = new Set<string>();
    while (stack.length) {
      const c = stack.pop()!;
      for (const r of c.rules) {
        if (r.target.kind !== 'jump' || seen.has(r.target.chain)) continue;
        const next = user.get(r.target.chain);
        if (!next) continue;
        seen.add(next.name);
        let set = reach.get(next.name);
        if (!set) reach.set(next.name, (set = new Set()));
        set.add(hook);
        stack.push(next);
      }
    }
  }
  return reach;
}

/** Detects a jump loop reachable from a base chain (the kernel's ELOOP). */
function findLoop(t: Table): string | undefined {
  const user = new Map(t.user.map((c) => [c.name, c]));
  const state = new Map<string, number>();
  let bad: string | undefined;
  const visit = (c: Chain): boolean => {
    const s = state.get(c.name);
    if (s === 1) return true;
    if (s === 2) return false;
    state.set(c.name, 1);
    for (const r of c.rules) {
      if (r.target.kind !== 'jump') continue;
      const next = user.get(r.target.chain);
      if (next && visit(next)) {
        bad ??= c.name;
        return true;
      }
    }
    state.set(c.name, 2);
    return false;
  };
  for (const c of Object.values(t.builtins)) if (c && visit(c)) return bad;
  return undefined;
}

function kernelRejectToCommit(e: unknown, op: string, chain: string, line?: number): never {
  if (e instanceof KernelReject) throw new CommitFailure(op, e.errno, `rule in chain ${chain}`, line);
  throw e;
}

/** Runs a parsed command against `rs`, which it may modify. */
export function executeCommand(p: ParsedCommand, rs: Ruleset, env: ExecEnv): ExecOutput {
  const info = tableInfo(p.table);
  if (!info) throw new XtError(`table '${p.table}' does not exist`, 3);
  const table = info.name;
  const names = env.names;
  const chain = p.chain ?? '';
  let out = '';
  const verbose = (p.options & OPT.VERBOSE) !== 0;
  let jumpAdded: JumpAdded | undefined;

  const commitRules = (op: string, rules: Rule[], apply: (c: Chain, r: Rule) => void) => {
    jumpTargetExists(rs, table, p);
    for (const r of rules) {
      if (verbose) out += verboseRule(r, names);
      checkJump(rs, table, r, chain, op, env.line);
      const c = findRealChain(rs, table, chain);
      if (!c) throw new CommandFailure(op === 'RULE_INSERT' ? 'rule_insert' : 'other', 'ENOENT');
      apply(c, r);
      jumpAdded = { op, chain, line: env.line };
    }
  };

  switch (p.command) {
    case CMD.APPEND: {
      let rules: Rule[];
      try {
        rules = buildRules(p, table, chain, rs);
      } catch (e) {
        kernelRejectToCommit(e, 'RULE_APPEND', chain, env.line);
      }
      initBuiltins(rs, table, isBuiltinChain(table, chain) ? chain : undefined);
      if (!isBuiltinChain(table, chain) && !findRealChain(rs, table, chain)) {
        jumpTargetExists(rs, table, p);
        throw new CommandFailure('other', 'ENOENT');
      }
      commitRules('RULE_APPEND', rules, (c, r) => c.rules.push(r));
      return { stdout: out, changed: true, jumpAdded };
    }
    case CMD.INSERT: {
      let rules: Rule[];
      try {
        rules = buildRules(p, table, chain, rs);
      } catch (e) {
        kernelRejectToCommit(e, 'RULE_INSERT', chain, env.line);
      }
      initBuiltins(rs, table, isBuiltinChain(table, chain) ? chain : undefined);
      const c = findRealChain(rs, table, chain);
      if (!c) {
        jumpTargetExists(rs, table, p);
        throw new CommandFailure('other', 'ENOENT');
      }
      const pos = p.rulenum - 1;
      if (pos > c.rules.length) throw new CommandFailure('rule_insert', 'E2BIG');
      // Every address pair is inserted at the same position, so they end up in reverse order.
      commitRules('RULE_INSERT', rules, (ch, r) => ch.rules.splice(pos, 0, r));
      return { stdout: out, changed: true, jumpAdded };
    }
    case CMD.REPLACE: {
      let rules: Rule[];
      try {
        rules = buildRules(p, table, chain, rs);
      } catch (e) {
        kernelRejectToCommit(e, 'RULE_REPLACE', chain, env.line);
      }
      const c = findRealChain(rs, table, chain);
      if (!c) {
        jumpTargetExists(rs, table, p);
        throw new CommandFailure('other', 'ENOENT');
      }
      if (p.rulenum > c.rules.length) throw new CommandFailure('rule_replace', 'E2BIG');
      commitRules('RULE_REPLACE', rules, (ch, r) => (ch.rules[p.rulenum - 1] = r));
      return { stdout: out, changed: true, jumpAdded };
    }
    case CMD.DELETE:
    case CMD.CHECK: {
      const fn = p.command === CMD.DELETE ? 'rule_delete' : 'rule_check';
      let rules: Rule[];
      try {
        rules = buildRules(p, table, chain, rs, false);
      } catch (e) {
        if (e instanceof KernelReject) throw new CommandFailure(fn, 'ENOENT');
        throw e;
      }
      const c = findRealChain(rs, table, chain);
      if (!c) throw new CommandFailure('other', 'ENOENT');
      for (const r of rules) {
        if (verbose) out += verboseRule(r, names);
        const idx = c.rules.findIndex((x) => sameRule(x, r));
        if (idx < 0) throw new CommandFailure(fn, 'ENOENT');
        if (p.command === CMD.DELETE) c.rules.splice(idx, 1);
      }
      return { stdout: out, changed: p.command === CMD.DELETE };
    }
    case CMD.DELETE_NUM: {
      const c = findRealChain(rs, table, chain);
      if (!c) throw new CommandFailure('other', 'ENOENT');
      if (p.rulenum > c.rules.length) throw new CommandFailure('rule_delete_num', 'E2BIG');
      c.rules.splice(p.rulenum - 1, 1);
      return { stdout: out, changed: true };
    }
    case CMD.FLUSH: {
      if (p.chain !== undefined || verbose) initBuiltins(rs, table, p.chain);
      else if (!rs.tables[table]) return { stdout: '', changed: false };
      if (p.chain !== undefined) {
        const c = findRealChain(rs, table, chain);
        if (!c) throw new CommandFailure('other', 'ENOENT');
        c.rules = [];
        return { stdout: out, changed: true };
      }
      for (const c of realChains(rs.tables[table]!)) {
        if (verbose) out += `Flushing chain \`${c.name}'\n`;
        c.rules = [];
      }
      return { stdout: out, changed: true };
    }
    case CMD.ZERO:
    case CMD.ZERO_NUM:
      return { stdout: zero(p, rs, table, verbose), changed: true };
    case CMD.NEW_CHAIN: {
      if (isBuiltinChain(table, chain) || rs.tables[table]?.user.some((c) => c.name === chain))
        throw new CommandFailure('chain_user_add', 'EEXIST');
      addUserChain(rs, table, chain);
      return { stdout: '', changed: true };
    }
    case CMD.DELETE_CHAIN:
      return { stdout: deleteChains(p, rs, table, verbose), changed: true };
    case CMD.RENAME_CHAIN: {
      const newname = p.newname!;
      if (isBuiltinChain(table, newname) || rs.tables[table]?.user.some((c) => c.name === newname))
        throw new CommandFailure('chain_user_rename', 'EEXIST');
      const t = rs.tables[table];
      const c = t?.user.find((x) => x.name === chain);
      if (!t || !c) throw new CommandFailure('chain_user_rename', 'ENOENT');
      c.name = newname;
      sortUserChains(t);
      for (const ch of realChains(t))
        for (const r of ch.rules) if (r.target.kind === 'jump' && r.target.chain === chain) r.target.chain = newname;
      return { stdout: '', changed: true };
    }
    case CMD.SET_POLICY: {
      const policy = p.policy!;
      if (policy !== 'ACCEPT' && policy !== 'DROP') throw new CommandFailure('chain_set', 'EINVAL');
      if (!isBuiltinChain(table, chain)) throw new CommandFailure('chain_set', 'ENOENT');
      const t = initBuiltins(rs, table, chain);
      const c = t.builtins[chain as Hook]!;
      c.policy = policy;
      if (p.options & OPT.COUNTERS) {
        c.pkts = p.pcnt;
        c.bytes = p.bcnt;
      }
      return { stdout: '', changed: true };
    }
    default:
      break;
  }
  if (p.command & CMD.LIST) {
    out += listEntries(p, rs, table, names);
  } else if (p.command & CMD.LIST_RULES) {
    out += listRules(p, rs, table, names);
  }
  if (p.command & (CMD.ZERO | CMD.ZERO_NUM)) {
    out += zero(p, rs, table, verbose);
    return { stdout: out, changed: true };
  }
  return { stdout: out, changed: false };
}

function realChains(t: Table): Chain[] {
  const info = tableInfo(t.name)!;
  const out: Chain[] = [];
  for (const h of info.chains) if (t.builtins[h]) out.push(t.builtins[h]!);
  return out.concat(t.user);
}

function zero(p: ParsedCommand, rs: Ruleset, table: TableName, verbose: boolean): string {
  const t = rs.tables[table];
  if (p.command & CMD.ZERO_NUM) {
    const c = t && findRealChain(rs, table, p.chain!);
    if (!c) throw new CommandFailure('rule_delete', 'ENOENT');
    const r = c.rules[p.rulenum - 1];
    if (r) {
      r.pkts = 0;
      r.bytes = 0;
    }
    return '';
  }
  let out = '';
  const chains = p.chain !== undefined ? [t && findRealChain(rs, table, p.chain)] : t ? realChains(t) : [];
  if (p.chain !== undefined && !chains[0]) throw new CommandFailure('other', 'ENOENT');
  for (const c of chains) {
    if (!c) continue;
    if (verbose) out += `Zeroing chain \`${c.name}'\n`;
    c.pkts = 0;
    c.bytes = 0;
    for (const r of c.rules) {
      r.pkts = 0;
      r.bytes = 0;
    }
  }
  return out;
}

function deleteChains(p: ParsedCommand, rs: Ruleset, table: TableName, verbose: boolean): string {
  const t = rs.tables[table];
  let out = '';
  const del = (c: Chain, explicit: boolean) => {
    const builtin = c.policy !== null;
    if (verbose && !builtin) out += `Deleting chain \`${c.name}'\n`;
    if (builtin) {
      const mayDelete = c.policy === 'ACCEPT' && c.rules.length === 0;
      if (!mayDelete) {
        if (explicit) throw new CommandFailure('chain_del', 'EBUSY');
        return;
      }
      delete t!.builtins[c.name as Hook];
      return;
    }
    if (c.rules.length > 0 || chainReferences(rs, table, c.name) > 0)
      throw new CommitFailure('CHAIN_DEL', 'EBUSY', `chain ${c.name}`);
    t!.user = t!.user.filter((x) => x !== c);
  };
  if (p.chain !== undefined) {
    const c = t && findRealChain(rs, table, p.chain);
    if (!c) throw new CommandFailure('chain_del', 'ENOENT');
    if (c.policy !== null && c.rules.length > 0) throw new CommitFailure('CHAIN_DEL', 'EBUSY', `chain ${c.name}`);
    del(c, true);
    return out;
  }
  if (!t) return out;
  for (const c of realChains(t)) del(c, false);
  return out;
}

function listEntries(p: ParsedCommand, rs: Ruleset, table: TableName, names: NameDb): string {
  const f: ListFormat = {
    numeric: (p.options & OPT.NUMERIC) !== 0,
    verbose: (p.options & OPT.VERBOSE) !== 0,
    expanded: (p.options & OPT.EXPANDED) !== 0,
    lineNumbers: (p.options & OPT.LINENUMBERS) !== 0,
  };
    const render = (c: Chain, withHeader: boolean) => {
    let s = withHeader ? listHeader(c, chainReferences(rs, table, c.name), f) : '';
    c.rules.forEach((r, i) => {
      if (p.rulenum && p.rulenum !== i + 1) return;
      s += listRule(r, i + 1, f, names);
    });
    return s;
  };
  if (p.chain !== undefined) {
    const c = findChain(rs, table, p.chain);
    if (!c) throw new XtError(`chain \`${p.chain}' in table \`${table}' is incompatible, use 'nft' tool.`, 1);
    return render(c, !p.rulenum);
  }
  return listChains(rs, table)
    .map((c) => render(c, true))
    .join('\n');
}

function listRules(p: ParsedCommand, rs: Ruleset, table: TableName, names: NameDb): string {
  const counters = (p.options & OPT.VERBOSE) !== 0;
  const head = (c: Chain) =>
    c.policy !== null ? `-P ${c.name} ${c.policy}${counters ? ` -c ${c.pkts} ${c.bytes}` : ''}\n` : `-N ${c.name}\n`;
  const rulesOf = (c: Chain) => {
    let s = '';
    c.rules.forEach((r, i) => {
      if (p.rulenum && p.rulenum !== i + 1) return;
      s += `-A ${c.name}${saveRuleBody(r, counters, names)}\n`;
    });
    return s;
  };
  if (p.chain !== undefined) {
    const c = findChain(rs, table, p.chain);
    if (!c) throw new XtError(`chain \`${p.chain}' in table \`${table}' is incompatible, use 'nft' tool.`, 1);
    return (p.rulenum ? '' : head(c)) + rulesOf(c);
  }
  const chains = listChains(rs, table);
  return chains.map(head).join('') + chains.map(rulesOf).join('');
}

