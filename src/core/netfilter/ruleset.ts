/**
 * The kernel's rule state for one network namespace: which tables exist,
 * their chains, rules, policies and counters, and the operations iptables
 * performs on them. Operations report failures as errno names, the way the
 * kernel does; the command layer turns them into iptables' messages.
 */
import type { Rule } from './rule.js';
import { HOOKS, tableInfo, type Hook, type TableName, TABLES } from './tables.js';

/** A chain: built-in chains have a policy, user chains have none. */
export interface Chain {
  name: string;
  /** Policy of a built-in chain; null for user chains. */
  policy: 'ACCEPT' | 'DROP' | null;
  /** Policy counters (built-in chains), 64-bit. */
  pkts: bigint;
  bytes: bigint;
  rules: Rule[];
  /**
   * The chain's nf_tables handle, from its table's counter when the kernel
   * created it (0 for a built-in chain iptables only fakes for listing).
   */
  handle: number;
  /**
   * A built-in chain created without counters (by a rule command creating
   * it on the way: nft_chain_builtin_add sends none), whose policy the
   * kernel does not count until -P, -Z or a restore gives it counters.
   * Absent means counted.
   */
  uncounted?: true;
}

/** One table. Built-in chains are present only once created in the kernel. */
export interface Table {
  name: TableName;
  /** Built-in chains that exist, keyed by hook name. */
  builtins: Partial<Record<Hook, Chain>>;
  /**
   * User chains in the kernel's order: creation order (a rename keeps the
   * place). iptables sorts them by name for listing and saving
   * (`listChains`); a few operations (-X, -Z without -v) walk them in this
   * order, which shows in which chain an error names.
   *
   * An entry with a policy is a built-in chain renamed with -E: it stays a
   * base chain in the kernel, but iptables-nft no longer recognises it
   * (`incompatibleChains`): listing and saving skip it and mention that the
   * table "contains incompatible base-chains".
   */
  user: Chain[];
  /**
   * The last handle the kernel gave out in this table (its handle
   * generator, shared by chains and rules, counting from 1 for a new
   * table). It only grows: deleting a chain or rule frees no number, and
   * an aborted batch keeps what it used up (see `keepHandleCounters`).
   */
  lastHandle: number;
}

/** All tables of one namespace. */
export interface Ruleset {
  tables: Partial<Record<TableName, Table>>;
}

/** A kernel-level failure: the errno the operation returned. */
export class NfError extends Error {
  constructor(
    /** errno name, e.g. ENOENT. */
    readonly errno: string,
    /** Which operation failed, for messages that name it. */
    readonly op: string,
    /** Chain concerned, when any. */
    readonly chain?: string,
  ) {
    super(`${op}: ${errno}`);
  }
}

/** An empty namespace: no tables yet, as with nf_tables. */
export function emptyRuleset(): Ruleset {
  return { tables: {} };
}

/** Deep copy, for transactions. */
export function cloneRuleset(rs: Ruleset): Ruleset {
  return structuredClone(rs);
}

function newChain(name: string, builtin: boolean, handle: number): Chain {
  return { name, policy: builtin ? 'ACCEPT' : null, pkts: 0n, bytes: 0n, rules: [], handle };
}

/** The next handle of the table, as the kernel gives one to each new chain and rule. */
export function nextHandle(t: Table): number {
  return ++t.lastHandle;
}

/** Creates the table if missing (nft_xt_builtin_table_init). */
export function ensureTable(rs: Ruleset, name: TableName): Table {
  let t = rs.tables[name];
  if (!t) {
    t = { name, builtins: {}, user: [], lastHandle: 0 };
    rs.tables[name] = t;
  }
  return t;
}

/**
 * The order iptables-nft creates a table's built-in chains in when it
 * creates them all: hook order, except nat's POSTROUTING before OUTPUT
 * (its table of built-in chains lists them so). The order shows in the
 * chains' handles.
 */
export function builtinCreationOrder(name: TableName): readonly Hook[] {
  return name === 'nat' ? NAT_CREATION_ORDER : tableInfo(name)!.chains;
}

const NAT_CREATION_ORDER: readonly Hook[] = ['PREROUTING', 'INPUT', 'POSTROUTING', 'OUTPUT'];

/**
 * nft_xt_builtin_init: creates the table and the named built-in chain, or
 * all built-in chains when `chain` is undefined (in builtinCreationOrder).
 */
export function initBuiltins(rs: Ruleset, name: TableName, chain?: string): Table {
  const t = ensureTable(rs, name);
  for (const hook of builtinCreationOrder(name)) {
    if (chain !== undefined && hook !== chain) continue;
    if (!t.builtins[hook]) t.builtins[hook] = { ...newChain(hook, true, nextHandle(t)), uncounted: true };
  }
  return t;
}

/** Whether the table exists in the kernel. */
export function tableExists(rs: Ruleset, name: TableName): boolean {
  return rs.tables[name] !== undefined;
}

/**
 * Chains of a table as iptables lists them: built-in chains in hook order
 * (missing ones shown as fresh ACCEPT chains, like iptables-nft's fake
 * built-ins), then user chains sorted by name.
 */
export function listChains(rs: Ruleset, name: TableName): Chain[] {
  const info = tableInfo(name)!;
  const t = rs.tables[name];
  const out: Chain[] = [];
  for (const hook of info.chains) out.push(t?.builtins[hook] ?? newChain(hook, true, 0));
  if (t) out.push(...sortedUserChains(t));
  return out;
}

/** The user chains iptables knows, in kernel order (renamed base chains left out). */
export function userChains(t: Table): Chain[] {
  return t.user.filter((c) => c.policy === null);
}

/** Base chains renamed with -E, which iptables-nft no longer recognises (see Table.user). */
export function incompatibleChains(t: Table | undefined): Chain[] {
  return t ? t.user.filter((c) => c.policy !== null) : [];
}

/** User chains sorted by name in byte order (nft_cache_sort_chains). */
export function sortedUserChains(t: Table): Chain[] {
  return userChains(t).sort((a, b) => compareBytes(a.name, b.name));
}

/** A fresh built-in chain as iptables-nft fakes it for listing (policy ACCEPT, zero counters). */
export function fakeBuiltinChain(hook: Hook): Chain {
  return newChain(hook, true, 0);
}

/** Finds a chain, built-in (real or fake) or user. */
export function findChain(rs: Ruleset, name: TableName, chain: string): Chain | undefined {
  if (tableInfo(name)!.chains.includes(chain as Hook)) return rs.tables[name]?.builtins[chain as Hook] ?? newChain(chain, true, 0);
  return rs.tables[name]?.user.find((c) => c.name === chain && c.policy === null);
}

/** Finds a chain that exists in the kernel (fake built-ins excluded). */
export function findRealChain(rs: Ruleset, name: TableName, chain: string): Chain | undefined {
  const t = rs.tables[name];
  if (!t) return undefined;
  return t.builtins[chain as Hook] ?? t.user.find((c) => c.name === chain && c.policy === null);
}

/** Number of rules in the table that jump or go to `chain`. */
export function chainReferences(rs: Ruleset, name: TableName, chain: string): number {
  const t = rs.tables[name];
  if (!t) return 0;
  let n = 0;
  for (const c of [...Object.values(t.builtins), ...t.user]) {
    for (const r of c!.rules) if (r.target.kind === 'jump' && r.target.chain === chain) n++;
  }
  return n;
}

/** Adds a user chain at the end of the kernel's chain list. */
export function addUserChain(rs: Ruleset, name: TableName, chain: string): Chain {
  const t = ensureTable(rs, name);
  const c = newChain(chain, false, nextHandle(t));
  t.user.push(c);
  return c;
}

/**
 * Gives handle `h` back to the table, as when the element that took it is
 * taken out of the batch before it reaches the kernel: the chains and rules
 * numbered after it (in the table, and `pending`: rules not in it) move
 * down by one.
 */
export function releaseHandle(t: Table, h: number, pending: Iterable<Rule> = []): void {
  const seen = new Set<Rule>();
  const shift = (r: Rule) => {
    if (seen.has(r)) return;
    seen.add(r);
    if (r.handle > h) r.handle--;
  };
  for (const c of [...Object.values(t.builtins), ...t.user]) {
    if (c!.handle > h) c!.handle--;
    c!.rules.forEach(shift);
  }
  for (const r of pending) shift(r);
  t.lastHandle--;
}

/**
 * After an aborted batch: `rs` (the state before the batch) with the
 * handle counters the kernel keeps, per table (see Txn.abortedHandles).
 * The tables concerned are copied, not changed.
 */
export function keepHandleCounters(rs: Ruleset, counters: ReadonlyMap<TableName, number>): Ruleset {
  const out: Ruleset = { tables: { ...rs.tables } };
  for (const [name, n] of counters) {
    const t = rs.tables[name];
    if (t && n > t.lastHandle) out.tables[name] = { ...t, lastHandle: n };
  }
  return out;
}

/**
 * Gives a table the handles it would have if iptables-save's dump of it
 * were loaded by iptables-restore into a fresh namespace: the chains in
 * the dump's order (every built-in chain of the table in hook order, a
 * missing one keeping its number, then user chains by name), then their
 * rules chain by chain in the same order. Base chains renamed with -E,
 * which the dump leaves out, come last. For states stored before handles
 * were kept.
 */
export function numberAsRestored(t: Table): void {
  const chains: Chain[] = [];
  let h = 0;
  for (const hook of tableInfo(t.name)!.chains) {
    h++;
    const c = t.builtins[hook];
    if (!c) continue;
    c.handle = h;
    chains.push(c);
  }
  for (const c of sortedUserChains(t)) {
    c.handle = ++h;
    chains.push(c);
  }
  for (const c of chains) for (const r of c.rules) r.handle = ++h;
  for (const c of incompatibleChains(t)) {
    c.handle = ++h;
    for (const r of c.rules) r.handle = ++h;
  }
  t.lastHandle = h;
}

/**
 * The handles of every chain and rule, one line each, in the form the
 * differential tests read from `nft -a list ruleset`: tables by name, each
 * table's chains in the kernel's order (creation order, which is handle
 * order), each chain's rules in chain order:
 * `table ip filter` / `chain INPUT 1` / `rule 2`. `family` is the
 * nf_tables family of the rule set ("ip" for iptables, "ip6").
 */
export function handleListing(rs: Ruleset, family = 'ip'): string {
  let s = '';
  const names = Object.keys(rs.tables).sort(compareBytes) as TableName[];
  for (const name of names) {
    const t = rs.tables[name]!;
    s += `table ${family} ${name}\n`;
    const chains = [...Object.values(t.builtins), ...t.user].sort((a, b) => a!.handle - b!.handle);
    for (const c of chains) {
      s += `chain ${c!.name} ${c!.handle}\n`;
      for (const r of c!.rules) s += `rule ${r.handle}\n`;
    }
  }
  return s;
}

/** strcmp order. */
export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Tables that exist, in iptables-nft's table order. */
export function existingTables(rs: Ruleset): Table[] {
  return TABLES.map((t) => rs.tables[t.name]).filter((t): t is Table => t !== undefined);
}

/** All hooks, re-exported for convenience. */
export { HOOKS };
