/**
 * Carries out a parsed iptables command on a ruleset the way iptables-nft
 * 1.8.9 does. A command is queued and then "prepared" against the cache
 * (nft_prepare: the userspace checks, in iptables' order, and the -v
 * output), which produces a batch for the kernel; the kernel's own checks
 * (checkentry, jumps, chain deletion, the table validation at commit) refuse
 * batch elements, and any refusal aborts the whole batch at commit.
 *
 * Here the batch elements are applied to the working ruleset as they are
 * prepared (the kernel processes them in order too); refused ones are
 * recorded in the transaction (`Txn`) instead, and `Txn.commit` reports
 * them. Userspace failures are thrown at once: they stop the preparation,
 * so later elements never reach the kernel.
 */
import { ip6IsZero, type IPv6 } from '../../core/addr/ipv6.js';
import { emptyRule, type Rule, type RuleMatch, type RuleTarget } from '../../core/netfilter/rule.js';
import {
  addUserChain,
  builtinCreationOrder,
  chainReferences,
  compareBytes,
  fakeBuiltinChain,
  findRealChain,
  incompatibleChains,
  initBuiltins,
  nextHandle,
  releaseHandle,
  sortedUserChains,
  userChains,
  type Chain,
  type Ruleset,
  type Table,
} from '../../core/netfilter/ruleset.js';
import { isBuiltinChain, tableInfo, type Hook, type TableName } from '../../core/netfilter/tables.js';
import type { NameDb } from '../../core/xt/namedb.js';
import { CommitParamError, IPT_INV, XtError, type ExtensionDef, type Family } from '../../core/xt/types.js';
import { findMatch } from '../../core/xt/registry.js';
import { CommandFailure, CommitFailure, type BatchError, type NftFn } from './errors.js';
import { listHeader, listRule, saveRuleBody, verboseRule, type ListFormat } from './format.js';
import { nftChainDebug, nftFlushDebug, nftRuleDebug, nftTableDebug } from './nftdebug.js';
import { sameRule, tableInvalid, type RuleFilter } from '../../core/netfilter/validate.js';
import { CMD, OPT, type ExtInstance, type ParsedCommand } from './parse.js';

/** A rule a command wants in the kernel, with the kernel's insert-time refusal if any. */
export interface BuiltRule {
  rule: Rule;
  /** The matches as sent to the kernel, before iptables-nft's read-back merges them (for -vv). */
  sent: RuleMatch[];
  /** errno the kernel answers the rule's NEWRULE with (checkentry and friends). */
  reject?: string;
}

/** A rule added by the batch, for the commit-time table validation. */
interface AddedRule {
  seq: number;
  table: TableName;
  rule: Rule;
  op: string;
  chain: string;
  line?: number;
}

/** A rule element of the batch (append, insert or replace). */
interface RuleOp {
  seq: number;
  table: TableName;
  chain: string;
  /** The rule, when the element takes a new handle (not for a replacement). */
  rule: Rule | undefined;
}

/**
 * One commit batch: a single iptables command, or one table block of
 * iptables-restore (from `*table` to COMMIT). Holds the working ruleset,
 * the text printed so far (which stays printed when the command fails),
 * the built-in chains listing has faked into the cache, and the kernel's
 * refusals.
 */
export class Txn {
  /** Everything printed on stdout so far. */
  stdout = '';
  /** Whether the batch changes anything (the state must then be saved). */
  changed = false;
  /** Built-in chains put into the cache by listing ("table/chain"), seen by later steps of the same batch. */
  readonly fakes = new Set<string>();
  /** -vv: the debug text of the batch elements (with the element's number, 0 for none), printed when the batch is sent. */
  private debug: { seq: number; text: string }[] = [];
  private seq = 0;
  private refused: { seq: number; e: BatchError }[] = [];
  private added: AddedRule[] = [];
  /** The rule elements of the batch, which a flush of their chain takes out again. */
  private ruleOps: RuleOp[] = [];
  /**
   * Built-in chains in the kernel that the cache has lost: the verbose
   * table flush of iptables-restore drops every chain from the cache but
   * deletes only those with policy ACCEPT.
   */
  readonly uncached = new Set<Chain>();
  /** The cache's user chains of the tables it has sorted, in its order then. */
  private readonly sortedOrder = new Map<TableName, Chain[]>();
  /** Policies of the built-in chains as the cache holds them: as fetched when the batch began. */
  private readonly fetchedPolicy = new Map<Chain, 'ACCEPT' | 'DROP'>();
  /** User chains the batch deletes from the cache whose deletion the kernel refuses: their rules still reference other chains. */
  readonly undeleted: { table: TableName; chain: Chain }[] = [];
  /**
   * User chains the cache knows without their kernel handle: those this
   * batch creates, and those a restore's chain line names again (it unsets
   * the handle). A rename of one of them fails.
   */
  readonly created = new Set<Chain>();
  /** Renames, applied at commit: until then the cache knows the chains by their old names. */
  private readonly renames: { seq: number; table: TableName; chain: Chain; newname: string; line?: number }[] = [];
  /** The tables in the kernel when the batch began, with their handle counters then. */
  private readonly startHandles = new Map<Table, number>();
  /** Whether the batch reached the kernel (a userspace failure stops it before). */
  private sent = false;
  /** Whether the kernel went through the batch twice (a failed validation replays it). */
  private replayed = false;

  /**
   * Tables the cache knows to exist: those in the kernel when the batch
   * began, less those a restore's table flush deleted (a table the batch
   * adds does not count).
   */
  readonly cacheTables: Set<TableName>;

  constructor(
    /** The working state; the caller keeps it only when the commit succeeds. */
    readonly rs: Ruleset,
    readonly names: NameDb,
    /** iptables' -v count (2 and more print the nft debug lines). */
    public verbose = 0,
    /** The family of the rule set: iptables ('ipv4') or ip6tables ('ipv6'). */
    readonly family: Family = 'ipv4',
  ) {
    this.cacheTables = new Set(Object.keys(rs.tables) as TableName[]);
    for (const t of Object.values(rs.tables)) {
      if (!t) continue;
      this.startHandles.set(t, t.lastHandle);
      for (const c of Object.values(t.builtins)) if (c) this.fetchedPolicy.set(c, c.policy!);
    }
  }

  /**
   * The policy the cache has for a built-in chain: the one fetched when the
   * batch began (a policy set by the batch goes in its own element), ACCEPT
   * for a chain the batch put into the cache.
   */
  cachePolicy(c: Chain): 'ACCEPT' | 'DROP' {
    return this.fetchedPolicy.get(c) ?? 'ACCEPT';
  }

  /**
   * The user chains in the cache's order: the kernel's order, with the
   * chains the batch adds at the end; `sort` sorts the list by name
   * (nft_cache_sort_chains), which happens once: chains added after that
   * go to the end again.
   */
  cacheUserChains(table: TableName, sort: boolean): Chain[] {
    const t = this.rs.tables[table];
    if (!t) return [];
    const live = userChains(t);
    let order = this.sortedOrder.get(table);
    if (!order) {
      if (!sort) return live;
      order = sortedUserChains(t);
    } else {
      const here = new Set(live);
      const kept = order.filter((c) => here.has(c));
      const known = new Set(kept);
      order = [...kept, ...live.filter((c) => !known.has(c))];
    }
    this.sortedOrder.set(table, order);
    return order;
  }

  /** Puts a built-in chain the cache lost back (nft_chain_builtin_add): the kernel's chain gets policy ACCEPT. */
  recache(c: Chain): void {
    this.uncached.delete(c);
    this.fetchedPolicy.delete(c);
    c.policy = 'ACCEPT';
  }

  /** Numbers the next batch element. */
  nextSeq(): number {
    this.changed = true;
    return ++this.seq;
  }

  /** Records the kernel's refusal of a batch element. */
  refuse(op: string, errno: string, what: string, line: number | undefined, seq = this.nextSeq()): void {
    this.refused.push({ seq, e: { op, errno, what, line } });
  }

  /** Records a rule the batch adds (it takes part in the table validation at commit). */
  addedRule(table: TableName, chain: string, rule: Rule, op: string, line: number | undefined, seq: number): void {
    this.added.push({ seq, table, rule, op, chain, line });
  }

  /** Queues a chain rename (nft_chain_user_rename): done by the kernel at commit. */
  rename(table: TableName, chain: Chain, newname: string, line: number | undefined): void {
    this.renames.push({ seq: this.nextSeq(), table, chain, newname, line });
  }

  /** Appends nft debug text (-vv) for a batch element (`seq`: a rule element's number); `text` is only called with -vv. */
  debugText(text: () => string, seq = 0): void {
    if (this.verbose > 1) this.debug.push({ seq, text: text() });
  }

  /** Records a rule element of the batch; `rule` when it took a new handle. */
  ruleOp(table: TableName, chain: string, seq: number, rule?: Rule): void {
    this.ruleOps.push({ seq, table, chain, rule });
  }

  /**
   * batch_chain_flush: flushing a chain (every chain of the table when
   * `chain` is undefined) takes the rule elements queued for it out of the
   * batch. They never reach the kernel: no refusal, no -vv text, and the
   * handles they took go to the elements after them.
   */
  dropRuleOps(table: TableName, chain?: string): void {
    const gone = this.ruleOps.filter((o) => o.table === table && (chain === undefined || o.chain === chain));
    if (gone.length === 0) return;
    const seqs = new Set(gone.map((o) => o.seq));
    this.ruleOps = this.ruleOps.filter((o) => !seqs.has(o.seq));
    this.refused = this.refused.filter((r) => !seqs.has(r.seq));
    this.added = this.added.filter((a) => !seqs.has(a.seq));
    this.debug = this.debug.filter((d) => !seqs.has(d.seq));
    const t = this.rs.tables[table];
    if (!t) return;
    const pending = this.ruleOps.flatMap((o) => (o.rule && o.table === table ? [o.rule] : []));
    const freed = gone.flatMap((o) => (o.rule ? [o.rule.handle] : [])).sort((a, b) => b - a);
    for (const h of freed) releaseHandle(t, h, pending);
  }

  /**
   * Sends the batch: prints the -vv debug text, validates every table rules
   * were added to, and throws a CommitFailure listing the refused elements
   * in batch order. The tables are validated only when every element went
   * through: a batch with refused elements is aborted unvalidated. A table
   * found invalid makes the kernel replay the batch, validating after every
   * rule, and report the rules refused then.
   */
  commit(): void {
    this.sent = true;
    this.stdout += this.debug.map((d) => d.text).join('');
    this.debug = [];
    const errs = [...this.refused];
    for (const r of this.renames) {
      // the rename names the chain by its kernel handle, which a chain of this batch does not have yet
      const clash = this.rs.tables[r.table]?.user.some((c) => c.name === r.newname);
      const errno = this.created.has(r.chain) ? 'ENOENT' : clash ? 'EEXIST' : undefined;
      if (errno) errs.push({ seq: r.seq, e: { op: 'CHAIN_RENAME', errno, what: `chain ${r.newname}`, line: r.line } });
      else renameChain(this.rs, r.table, r.chain, r.newname);
    }
    if (errs.length === 0) {
      for (const table of new Set(this.added.map((a) => a.table))) errs.push(...validateTable(this.rs, table, this.added));
      this.replayed = errs.length > 0;
    }
    if (errs.length === 0) return;
    errs.sort((a, b) => a.seq - b.seq);
    throw CommitFailure.of(errs.map((x) => x.e));
  }

  /**
   * After a failed commit: the handle counters the kernel keeps. An aborted
   * batch gives back no handle it took from a table that existed before it
   * (a table the batch created goes away whole, one it deleted comes back
   * as it was); a replayed batch took every one of them twice. Only tables
   * whose counter moved are listed; see keepHandleCounters. A batch that
   * never reached the kernel used none.
   */
  abortedHandles(): Map<TableName, number> {
    const out = new Map<TableName, number>();
    if (!this.sent) return out;
    for (const [t, start] of this.startHandles) {
      const used = t.lastHandle - start;
      if (used > 0) out.set(t.name, start + (this.replayed ? 2 * used : used));
    }
    return out;
  }
}

/**
 * Builds the rules a command describes: one per source × destination
 * address, in the form iptables-nft reads back from the kernel, each with
 * the kernel's insert-time verdict. Rules to be stored (`store`) also take
 * the kernel's own changes. Userspace errors of the translation (an XtError
 * from an extension's check) are thrown.
 */
export function buildRules(p: ParsedCommand, table: string, chain: string, rs: Ruleset | undefined, store = true): BuiltRule[] {
  const base = emptyRule();
  // "-i +" matches every interface and gives no comparison; "! -i +" gives one
  // that never matches, read back as "! -i +"
  base.iniface = p.iniface === '+' && !(p.invflags & IPT_INV.VIA_IN) ? '' : p.iniface;
  base.outiface = p.outiface === '+' && !(p.invflags & IPT_INV.VIA_OUT) ? '' : p.outiface;
  base.proto = p.proto;
  base.invflags = p.invflags;
  base.fragment = p.fragment;
  base.pkts = p.pcnt;
  base.bytes = p.bcnt;
  const hooks = insertHooks(table, chain);
  const header = { proto: p.proto, invflags: p.invflags, fragment: p.fragment };
  const family = p.family;
  let reject: string | undefined;
  const note = (errno: string | undefined) => {
    reject ??= errno;
  };
  const translated: RuleMatch[] = [];
  for (const m of p.matches) {
    note(runCheck(m, table, chain, hooks, header, family));
    let info = m.def.kernelForm ? m.def.kernelForm(m.info) : m.info;
    if (info !== null && store && m.def.storeForm) info = m.def.storeForm(info);
    if (info !== null) translated.push({ name: m.def.realName ?? m.def.name, info });
  }
  const matches = mergeNativeMatches(translated, family);
  let target: RuleTarget;
  if (p.target && p.target.def.name === 'standard' && p.jumpto === 'QUEUE') {
    // add_action has no verdict for QUEUE: it goes as an xt target named
    // "standard", which the kernel does not know (ENOENT)
    target = { kind: 'ext', name: 'standard', info: p.target.info };
    note('ENOENT');
  } else if (p.target && p.target.def.name === 'standard') {
    target = { kind: 'verdict', verdict: p.jumpto as 'ACCEPT' };
  } else if (p.target) {
    note(runCheck(p.target, table, chain, hooks, header, family));
    let info = p.target.def.kernelForm ? p.target.def.kernelForm(p.target.info) : p.target.info;
    if (store && p.target.def.storeForm) info = p.target.def.storeForm(info);
    target = { kind: 'ext', name: p.target.def.realName ?? p.target.def.name, info };
  } else if (p.jumpto !== '') {
    target = { kind: 'jump', chain: p.jumpto, goto: p.goto };
  } else {
    target = { kind: 'none' };
  }
  if (family === 'ipv6') {
    // ipv6_post_parse never copies -c into the counters iptables-nft sends: IPv6 rules start at 0
    base.pkts = 0n;
    base.bytes = 0n;
  }
  // one rule per source x destination address, in that order
  const addrs: Partial<Rule>[] = [];
  if (family === 'ipv6') {
    for (const s of p.srcs6) for (const d of p.dsts6) addrs.push({ src6: s.addr, smsk6: s.mask, dst6: d.addr, dmsk6: d.mask });
  } else {
    for (const s of p.srcs) for (const d of p.dsts) addrs.push({ src: s.addr, smsk: s.mask, dst: d.addr, dmsk: d.mask });
  }
  const single = addrs.length === 1;
  return addrs.map((a) => {
    const rule: Rule = {
      ...base,
      ...a,
      // several rules from one command must not share extension data
      matches: single ? matches : structuredClone(matches),
      target: single ? target : structuredClone(target),
    };
    return { rule, sent: translated, reject: reject ?? headerReject(rule) };
  });
}

/**
 * The kernel's view of the IP part: an inverted address with mask 0 is
 * translated to a payload comparison of length 0, which the kernel refuses.
 */
function headerReject(r: Rule): string | undefined {
  const zero = (m: number, m6: IPv6 | undefined) => (m6 ? ip6IsZero(m6) : m === 0);
  if (r.invflags & IPT_INV.SRCIP && zero(r.smsk, r.smsk6)) return 'EINVAL';
  if (r.invflags & IPT_INV.DSTIP && zero(r.dmsk, r.dmsk6)) return 'EINVAL';
  return undefined;
}

/**
 * iptables-nft reads natively translated tcp and udp matches back into one
 * instance per rule, at the place of the first one (nft_tcp_match): later
 * native instances of the same match merge into it. Matches without the
 * `nativeMerge` hook, and instances kept as xt matches, stay as they are.
 */
function mergeNativeMatches(matches: RuleMatch[], family: Family): RuleMatch[] {
  const out: RuleMatch[] = [];
  const firstNative = new Map<string, RuleMatch>();
  for (const m of matches) {
    const nm = findMatch(m.name, family)?.nativeMerge;
    if (!nm || !nm.native(m.info)) {
      out.push(m);
      continue;
    }
    const first = firstNative.get(m.name);
    if (first) {
      first.info = nm.merge(first.info, m.info);
      continue;
    }
    const copy = { name: m.name, info: m.info };
    firstNative.set(m.name, copy);
    out.push(copy);
  }
  return out;
}

/**
 * The hooks an extension's insert-time check sees (nft_compat's hook mask):
 * the chain's own hook for a built-in chain, none for a user chain. Hooks
 * that reach a user chain through jumps are checked when the batch commits
 * (`validateTable`).
 */
function insertHooks(table: string, chain: string): readonly string[] {
  return isBuiltinChain(table, chain) ? [chain] : [];
}

/** Runs an extension's insert-time check; returns the kernel's errno, if it refuses. */
function runCheck(
  inst: ExtInstance,
  table: string,
  chain: string,
  hooks: readonly string[],
  rule: { proto: number; invflags: number; fragment: boolean },
  family: Family,
): string | undefined {
  const def: ExtensionDef = inst.def;
  return def.check?.(inst.info, { table, chain, hooks, rule, family })?.errno;
}

/**
 * The kernel's validation of a table when the batch commits: when the table
 * ends up invalid, the batch is replayed with validation after every rule,
 * so the rule that made it invalid and every rule the batch adds to the
 * table after it are refused.
 */
export function validateTable(rs: Ruleset, table: TableName, added: readonly AddedRule[]): { seq: number; e: BatchError }[] {
  const t = rs.tables[table];
  if (!t) return [];
  const mine = added.filter((a) => a.table === table);
  if (mine.length === 0 || tableInvalid(t, () => true) === undefined) return [];
  const order = new Map(mine.map((a, i) => [a.rule, i]));
  const upTo = (k: number): RuleFilter => (r) => (order.get(r) ?? -1) <= k;
  // the first element after which the table is invalid (once invalid it stays so)
  let lo = 0;
  let hi = mine.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tableInvalid(t, upTo(mid)) !== undefined) hi = mid;
    else lo = mid + 1;
  }
  const errno = tableInvalid(t, upTo(lo)) ?? 'EINVAL';
  return mine.slice(lo).map((a) => ({ seq: a.seq, e: { op: a.op, errno, what: `rule in chain ${a.chain}`, line: a.line } }));
}

/** Context for running a command. */
export interface ExecEnv {
  /** Restore line number, for batch errors. */
  line?: number;
}

/** The user chains of a table in cache order, built-in chains first (nft_chain_foreach). */
function cacheChains(txn: Txn, table: TableName, sorted: boolean): Chain[] {
  const t = txn.rs.tables[table];
  const out: Chain[] = [];
  for (const h of tableInfo(table)!.chains) {
    const real = t?.builtins[h];
    if (real && !txn.uncached.has(real)) out.push(real);
    else if (txn.fakes.has(`${table}/${h}`)) out.push(fakeBuiltinChain(h));
  }
  out.push(...txn.cacheUserChains(table, sorted));
  return out;
}

/** A chain as the cache knows it: in the kernel, or a built-in chain listing faked. */
function cacheChain(txn: Txn, table: TableName, chain: string): Chain | undefined {
  return knownChain(txn, table, chain) ?? (txn.fakes.has(`${table}/${chain}`) ? fakeBuiltinChain(chain as Hook) : undefined);
}

/** A chain in the kernel that the cache knows (not a built-in chain it has lost, see Txn.uncached). */
function knownChain(txn: Txn, table: TableName, chain: string): Chain | undefined {
  const c = findRealChain(txn.rs, table, chain);
  return c && !txn.uncached.has(c) ? c : undefined;
}

/**
 * Creates the table and the named built-in chain, or all of them when
 * `chain` is undefined (nft_xt_builtin_init), with their -vv lines. A
 * built-in chain the kernel has but the cache lost is added again: its
 * NEWCHAIN sets the policy back to ACCEPT.
 */
function builtinInit(txn: Txn, table: TableName, chain: string | undefined): void {
  const t = initBuiltins(txn.rs, table, '');
  // the table is added again by every element while the kernel has not got it yet
  if (!txn.cacheTables.has(table)) txn.debugText(() => nftTableDebug(table, txn.family));
  const hooks = chain === undefined ? builtinCreationOrder(table) : isBuiltinChain(table, chain) ? [chain as Hook] : [];
  for (const h of hooks) {
    const had = t.builtins[h];
    if (had && !txn.uncached.has(had)) continue;
    if (had) txn.recache(had);
    else initBuiltins(txn.rs, table, h);
    const c = t.builtins[h]!;
    txn.fakes.delete(`${table}/${h}`);
    txn.debugText(() => nftChainDebug(table, c, true, 0, txn.family));
  }
}

/** assert_chain_exists: a -j/-g word that names no target must name a chain (built-in names always pass). */
function assertJumpTarget(txn: Txn, table: TableName, p: ParsedCommand): void {
  if (p.target || p.jumpto === '') return;
  if (isBuiltinChain(table, p.jumpto)) return;
  if (!cacheChain(txn, table, p.jumpto)) throw new CommitParamError(`Chain '${p.jumpto}' does not exist`, 2);
}

/** The kernel's verdict on a new rule beyond its extensions: jumps to built-in chains. */
function jumpReject(rs: Ruleset, table: TableName, rule: Rule): string | undefined {
  const t = rule.target;
  if (t.kind !== 'jump' || !isBuiltinChain(table, t.chain)) return undefined;
  return rs.tables[table]?.builtins[t.chain as Hook] !== undefined ? 'EOPNOTSUPP' : 'ENOENT';
}

/**
 * Queues a NEWRULE: the kernel refuses it or it goes into `c` at `apply`.
 * The rule gets the next handle of its table, which the kernel takes before
 * its checks (a refused rule uses one up too), or, replacing a rule,
 * `replaces`' handle.
 */
function newRule(
  txn: Txn,
  table: TableName,
  chain: string,
  b: BuiltRule,
  op: string,
  env: ExecEnv,
  apply: () => void,
  replaces?: Rule,
): void {
  const seq = txn.nextSeq();
  b.rule.handle = replaces ? replaces.handle : nextHandle(txn.rs.tables[table]!);
  txn.ruleOp(table, chain, seq, replaces ? undefined : b.rule);
  txn.debugText(() => nftRuleDebug(table, chain, { ...b.rule, matches: b.sent }, txn.family), seq);
  const errno = b.reject ?? jumpReject(txn.rs, table, b.rule);
  if (errno) {
    txn.refuse(op, errno, `rule in chain ${chain}`, env.line, seq);
    return;
  }
  apply();
  txn.addedRule(table, chain, b.rule, op, env.line, seq);
}

/** Runs a parsed command against the transaction's ruleset, which it may modify. */
export function executeCommand(p: ParsedCommand, txn: Txn, env: ExecEnv = {}): void {
  const info = tableInfo(p.table);
  if (!info) throw new XtError(`table '${p.table}' does not exist`, 3);
  const table = info.name;
  const rs = txn.rs;
  const names = txn.names;
  const chain = p.chain ?? '';
  const verbose = (p.options & OPT.VERBOSE) !== 0;
  txn.verbose = Math.max(txn.verbose, p.verbose);
  const print = (r: Rule) => {
    if (verbose) txn.stdout += verboseRule(r, names);
  };

  switch (p.command) {
    case CMD.APPEND: {
      for (const b of buildRules(p, table, chain, rs)) {
        assertJumpTarget(txn, table, p);
        builtinInit(txn, table, chain);
        print(b.rule);
        const c = knownChain(txn, table, chain);
        if (!c) throw new CommandFailure('other', 'ENOENT');
        newRule(txn, table, chain, b, 'RULE_APPEND', env, () => c.rules.push(b.rule));
      }
      return;
    }
    case CMD.INSERT: {
      for (const b of buildRules(p, table, chain, rs)) {
        assertJumpTarget(txn, table, p);
        builtinInit(txn, table, chain);
        const c = knownChain(txn, table, chain);
        if (!c) throw new CommandFailure('rule_insert', 'ENOENT');
        const pos = p.rulenum - 1;
        if (pos > 0 && pos >= c.rules.length) {
          // iptables allows inserting at rule_count + 1: that is an append
          if (pos > c.rules.length) throw new CommandFailure('rule_insert', 'E2BIG');
          print(b.rule);
          newRule(txn, table, chain, b, 'RULE_APPEND', env, () => c.rules.push(b.rule));
          continue;
        }
        print(b.rule);
        newRule(txn, table, chain, b, 'RULE_INSERT', env, () => c.rules.splice(pos, 0, b.rule));
      }
      return;
    }
    case CMD.REPLACE: {
      for (const b of buildRules(p, table, chain, rs)) {
        assertJumpTarget(txn, table, p);
        const c = knownChain(txn, table, chain);
        if (!c) throw new CommandFailure('rule_replace', 'ENOENT');
        if (p.rulenum > c.rules.length) throw new CommandFailure('rule_replace', 'E2BIG');
        print(b.rule);
        newRule(txn, table, chain, b, 'RULE_REPLACE', env, () => (c.rules[p.rulenum - 1] = b.rule), c.rules[p.rulenum - 1]);
      }
      return;
    }
    case CMD.DELETE:
    case CMD.CHECK: {
      const fn: NftFn = p.command === CMD.DELETE ? 'rule_delete' : 'rule_check';
      for (const b of buildRules(p, table, chain, rs, false)) {
        assertJumpTarget(txn, table, p);
        const c = knownChain(txn, table, chain);
        if (!c) throw new CommandFailure(fn, 'ENOENT');
        // a rule the kernel would refuse cannot be in the chain
        const idx = b.reject ? -1 : c.rules.findIndex((x) => sameRule(x, b.rule));
        if (idx < 0) throw new CommandFailure(fn, 'ENOENT');
        if (p.command === CMD.DELETE) {
          txn.nextSeq();
          c.rules.splice(idx, 1);
        }
        print(b.rule);
      }
      return;
    }
    case CMD.DELETE_NUM: {
      const c = knownChain(txn, table, chain);
      if (!c) throw new CommandFailure('rule_delete_num', 'ENOENT');
      if (p.rulenum > c.rules.length) throw new CommandFailure('rule_delete_num', 'E2BIG');
      txn.nextSeq();
      c.rules.splice(p.rulenum - 1, 1);
      return;
    }
    case CMD.FLUSH:
      flush(txn, table, p.chain, verbose);
      return;
    case CMD.ZERO:
      zeroChains(txn, table, p.chain, verbose, env);
      return;
    case CMD.ZERO_NUM:
      zeroRule(txn, table, chain, p.rulenum);
      return;
    case CMD.NEW_CHAIN: {
      if (!txn.cacheTables.has(table)) txn.debugText(() => nftTableDebug(table, txn.family));
      const t = rs.tables[table];
      if (isBuiltinChain(table, chain) || (t && knownChain(txn, table, chain))) throw new CommandFailure('chain_user_add', 'EEXIST');
      const seq = txn.nextSeq();
      // a renamed base chain of that name is not in the cache, but in the kernel
      if (incompatibleChains(t).some((c) => c.name === chain)) {
        txn.refuse('CHAIN_USER_ADD', 'EEXIST', `chain ${chain}`, env.line, seq);
        return;
      }
      const c = addUserChain(rs, table, chain);
      txn.created.add(c);
      txn.debugText(() => nftChainDebug(table, c, false, 0, txn.family));
      return;
    }
    case CMD.DELETE_CHAIN:
      deleteChains(txn, table, p.chain, verbose, env);
      return;
    case CMD.RENAME_CHAIN: {
      const newname = p.newname!;
      if (isBuiltinChain(table, newname) || knownChain(txn, table, newname)) throw new CommandFailure('chain_user_rename', 'EEXIST');
      // a built-in chain can be renamed too: it becomes a base chain iptables no longer recognises
      const c = knownChain(txn, table, chain);
      if (!c) throw new CommandFailure('chain_user_rename', 'ENOENT');
      txn.rename(table, c, newname, env.line);
      return;
    }
    case CMD.SET_POLICY: {
      const policy = p.policy!;
      if (policy !== 'ACCEPT' && policy !== 'DROP') throw new CommandFailure('chain_set', 'EINVAL');
      if (!isBuiltinChain(table, chain)) throw new CommandFailure('chain_set', 'ENOENT');
      builtinInit(txn, table, chain);
      txn.nextSeq();
      const c = rs.tables[table]!.builtins[chain as Hook]!;
      // iptables-nft passes no counters with -P: -c is accepted and ignored;
      // a chain created without counters is counted from now on (measured)
      c.policy = policy;
      delete c.uncounted;
      txn.debugText(() => nftChainDebug(table, c, true, 0, txn.family));
      return;
    }
    default:
      break;
  }
  // (the listing functions print a note of their own first)
  let listing = '';
  if (p.command & CMD.LIST) listing = listEntries(p, txn, table);
  else if (p.command & CMD.LIST_RULES) listing = listRules(p, txn, table);
  txn.stdout += listing;
  if (p.command & CMD.ZERO) zeroChains(txn, table, p.chain, verbose, env);
  if (p.command & CMD.ZERO_NUM) zeroRule(txn, table, chain, p.rulenum);
}

/** Renames a chain in the kernel; rules jumping to it follow. A built-in chain leaves its slot. */
function renameChain(rs: Ruleset, table: TableName, c: Chain, newname: string): void {
  const t = rs.tables[table];
  if (!t) return;
  const old = c.name;
  if (c.policy !== null && t.builtins[old as Hook] === c) {
    delete t.builtins[old as Hook];
    t.user.push(c);
  }
  c.name = newname;
  for (const ch of [...Object.values(t.builtins), ...t.user])
    for (const r of ch!.rules) if (r.target.kind === 'jump' && r.target.chain === old) r.target.chain = newname;
}

/** -F: nft_rule_flush. */
function flush(txn: Txn, table: TableName, chain: string | undefined, verbose: boolean): void {
  const rs = txn.rs;
  if (chain !== undefined || verbose) builtinInit(txn, table, chain);
  // the whole-table flush is skipped when the cache knows no such table
  else if (!txn.cacheTables.has(table) || !rs.tables[table]) return;
  if (chain !== undefined) {
    const c = knownChain(txn, table, chain);
    if (!c) throw new CommandFailure('other', 'ENOENT');
    if (verbose) txn.stdout += `Flushing chain \`${chain}'\n`;
    txn.dropRuleOps(table, chain);
    txn.nextSeq();
    txn.debugText(() => nftFlushDebug(table, chain));
    c.rules = [];
    return;
  }
  if (!verbose) txn.dropRuleOps(table);
  for (const c of cacheChains(txn, table, verbose)) {
    if (verbose) txn.stdout += `Flushing chain \`${c.name}'\n`;
    if (verbose) txn.dropRuleOps(table, c.name);
    txn.nextSeq();
    txn.debugText(() => nftFlushDebug(table, c.name));
    c.rules = [];
  }
  // the table-wide flush of -F (no -v) reaches the chains iptables does not recognise too
  if (!verbose) for (const c of incompatibleChains(rs.tables[table])) c.rules = [];
}

/**
 * -Z [CHAIN]: nft_chain_zero_counters. A built-in chain gets a CHAIN_ZERO
 * element (a NEWCHAIN that may create it): one listing faked is created in
 * the kernel when its table exists, and refused (ENOENT) when it does not.
 */
function zeroChains(txn: Txn, table: TableName, chain: string | undefined, verbose: boolean, env: ExecEnv): void {
  let chains: Chain[];
  if (chain !== undefined) {
    const c = cacheChain(txn, table, chain);
    if (!c) throw new CommandFailure('other', 'ENOENT');
    chains = [c];
  } else {
    chains = cacheChains(txn, table, verbose);
  }
  txn.changed = true;
  for (const c of chains) {
    if (verbose) txn.stdout += `Zeroing chain \`${c.name}'\n`;
    if (c.policy !== null) {
      const seq = txn.nextSeq();
      const t = txn.rs.tables[table];
      if (!t) {
        txn.refuse('CHAIN_ZERO', 'ENOENT', `chain ${c.name}`, env.line, seq);
        continue;
      }
      let real = t.builtins[c.name as Hook];
      if (!real) {
        // a chain listing faked: the NEWCHAIN creates it
        real = t.builtins[c.name as Hook] = c;
        c.handle = nextHandle(t);
      }
      txn.fakes.delete(`${table}/${c.name}`);
      // the element is the cache's chain: its policy goes to the kernel too
      real.policy = txn.cachePolicy(real);
      real.pkts = 0n;
      real.bytes = 0n;
      delete real.uncounted;
    }
    for (const r of c.rules) zeroRuleCounters(r);
  }
}

/**
 * Zeroes a rule's counters. iptables-nft does it by replacing the rule, so
 * the new rule starts with fresh kernel state too (a limit's credit, a
 * quota's remainder, nth's counter); named tables (recent, hashlimit) stay.
 */
function zeroRuleCounters(r: Rule): void {
  r.pkts = 0n;
  r.bytes = 0n;
  for (const m of r.matches) delete m.rt;
  if (r.target.kind === 'ext') delete r.target.rt;
}

/**
 * -Z CHAIN N: nft_rule_zero_counters. A missing chain fails without setting
 * errno, so the message depends on what the cache fetch left: ENOENT ("Bad
 * rule"), except -- as observed with the real tools, not derived from their
 * code -- when the table's built-in chain whose name sorts last exists and
 * the missing chain's name sorts before it, which leaves errno 0
 * ("Incompatible with this kernel"). A missing rule is no error at all.
 */
function zeroRule(txn: Txn, table: TableName, chain: string, rulenum: number): void {
  const c = cacheChain(txn, table, chain);
  if (!c) {
    const last = [...tableInfo(table)!.chains].sort(compareBytes).pop()!;
    const clean = txn.cacheTables.has(table) && txn.rs.tables[table]?.builtins[last] !== undefined && compareBytes(chain, last) < 0;
    throw new CommandFailure('rule_delete', clean ? '0' : 'ENOENT');
  }
  const r = c.rules[rulenum - 1];
  if (!r) return;
  txn.nextSeq();
  zeroRuleCounters(r);
}

/**
 * -X [CHAIN]: nft_chain_del. Built-in chains are deleted only when empty
 * with policy ACCEPT (skipped otherwise, an error when named); the kernel
 * refuses to delete a user chain that has rules or is jumped to.
 */
function deleteChains(txn: Txn, table: TableName, chain: string | undefined, verbose: boolean, env: ExecEnv): void {
  const rs = txn.rs;
  const t = rs.tables[table];
  const del = (c: Chain, explicit: boolean) => {
    const builtin = c.policy !== null;
    if (verbose && !builtin) txn.stdout += `Deleting chain \`${c.name}'\n`;
    if (builtin) {
      // nft_may_delete_chain: policy ACCEPT and no rules, as far as the cache shows
      // them (-X CHAIN fetches no rules: the kernel then refuses a chain with rules)
      // whatever becomes of it in the kernel, the cache forgets the chain
      if (txn.cachePolicy(c) !== 'ACCEPT' || (!explicit && c.rules.length > 0)) {
        if (explicit) throw new CommandFailure('chain_del', 'EBUSY');
        txn.uncached.add(c);
        return;
      }
      const seq = txn.nextSeq();
      if (c.rules.length > 0) {
        txn.refuse('CHAIN_DEL', 'EBUSY', `chain ${c.name}`, env.line, seq);
        txn.uncached.add(c);
        return;
      }
      delete t!.builtins[c.name as Hook];
      return;
    }
    const seq = txn.nextSeq();
    txn.debugText(() => nftChainDebug(table, c, false, chainReferences(rs, table, c.name), txn.family));
    // the kernel refuses a chain with rules or references (its rules still
    // count for the chains after it); the cache forgets it at once, so later
    // commands of the batch do not see it
    const kept = txn.undeleted.filter((x) => x.table === table).flatMap((x) => x.chain.rules);
    const refs = chainReferences(rs, table, c.name) + kept.filter((r) => r.target.kind === 'jump' && r.target.chain === c.name).length;
    if (c.rules.length > 0 || refs > 0) {
      txn.refuse('CHAIN_DEL', 'EBUSY', `chain ${c.name}`, env.line, seq);
      txn.undeleted.push({ table, chain: c });
    }
    t!.user = t!.user.filter((x) => x !== c);
  };
  if (chain !== undefined) {
    const c = t && knownChain(txn, table, chain);
    if (!c) throw new CommandFailure('chain_del', 'ENOENT');
    del(c, true);
    return;
  }
  if (!t) return;
  for (const c of cacheChains(txn, table, verbose)) if (c.policy === null || t.builtins[c.name as Hook] === c) del(c, false);
}

/**
 * Prepares a listing: fake built-in chains go into the cache
 * (nft_xt_fake_builtin_chains), and listing a whole table that holds base
 * chains iptables does not recognise starts with a note about them
 * (nft_assert_table_compatible).
 */
function fakeBuiltins(txn: Txn, table: TableName, chain: string | undefined): void {
  const t = txn.rs.tables[table];
  for (const h of tableInfo(table)!.chains) {
    if (chain !== undefined && chain !== h) continue;
    if (!t?.builtins[h]) txn.fakes.add(`${table}/${h}`);
  }
  if (chain === undefined && incompatibleChains(t).length) txn.stdout += incompatibleNote(table);
}

/** The note iptables-nft prints before listing or saving a table with base chains it does not recognise. */
export function incompatibleNote(table: TableName): string {
  return `# Table \`${table}' contains incompatible base-chains, use 'nft' tool to list them.\n`;
}

function listEntries(p: ParsedCommand, txn: Txn, table: TableName): string {
  const f: ListFormat = {
    numeric: (p.options & OPT.NUMERIC) !== 0,
    verbose: (p.options & OPT.VERBOSE) !== 0,
    expanded: (p.options & OPT.EXPANDED) !== 0,
    lineNumbers: (p.options & OPT.LINENUMBERS) !== 0,
  };
  const rs = txn.rs;
  fakeBuiltins(txn, table, p.chain);
  const render = (c: Chain, withHeader: boolean) => {
    let s = withHeader ? listHeader(c, chainReferences(rs, table, c.name), f) : '';
    c.rules.forEach((r, i) => {
      if (p.rulenum && p.rulenum !== i + 1) return;
      s += listRule(r, i + 1, f, txn.names);
    });
    return s;
  };
  if (p.chain !== undefined) {
    const c = cacheChain(txn, table, p.chain);
    if (!c) throw new XtError(`chain \`${p.chain}' in table \`${table}' is incompatible, use 'nft' tool.`, 1);
    return render(c, !p.rulenum);
  }
  return cacheChains(txn, table, true)
    .map((c) => render(c, true))
    .join('\n');
}

function listRules(p: ParsedCommand, txn: Txn, table: TableName): string {
  const counters = (p.options & OPT.VERBOSE) !== 0;
  fakeBuiltins(txn, table, p.chain);
  const head = (c: Chain) =>
    c.policy !== null ? `-P ${c.name} ${c.policy}${counters ? ` -c ${c.pkts} ${c.bytes}` : ''}\n` : `-N ${c.name}\n`;
  const rulesOf = (c: Chain) => {
    let s = '';
    c.rules.forEach((r, i) => {
      if (p.rulenum && p.rulenum !== i + 1) return;
      s += `-A ${c.name}${saveRuleBody(r, counters, txn.names)}\n`;
    });
    return s;
  };
  if (p.chain !== undefined) {
    const c = cacheChain(txn, table, p.chain);
    if (!c) throw new XtError(`chain \`${p.chain}' in table \`${table}' is incompatible, use 'nft' tool.`, 1);
    return (p.rulenum ? '' : head(c)) + rulesOf(c);
  }
  const chains = cacheChains(txn, table, true);
  return chains.map(head).join('') + chains.map(rulesOf).join('');
}
