/**
 * The five IPv4 tables, their built-in chains in hook order, and the hook
 * priorities the kernel registers them at.
 */

/** Netfilter hooks of the IPv4 family. */
export type Hook = 'PREROUTING' | 'INPUT' | 'FORWARD' | 'OUTPUT' | 'POSTROUTING';

/** All hooks in kernel order (NF_INET_PRE_ROUTING .. NF_INET_POST_ROUTING). */
export const HOOKS: readonly Hook[] = ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'];

/** Names of the tables iptables knows. */
export type TableName = 'filter' | 'nat' | 'mangle' | 'raw' | 'security';

/** Static description of a table. */
export interface TableInfo {
  name: TableName;
  /** Built-in chains in hook order. */
  chains: readonly Hook[];
  /** Hook priority (NF_IP_PRI_*); nat differs per hook. */
  priority: (hook: Hook) => number;
}

/** Tables in the order iptables-nft walks them for iptables-save and flush. */
export const TABLES: readonly TableInfo[] = [
  {
    name: 'mangle',
    chains: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
    priority: () => -150,
  },
  { name: 'security', chains: ['INPUT', 'FORWARD', 'OUTPUT'], priority: () => 50 },
  { name: 'raw', chains: ['PREROUTING', 'OUTPUT'], priority: () => -300 },
  { name: 'filter', chains: ['INPUT', 'FORWARD', 'OUTPUT'], priority: () => 0 },
  {
    name: 'nat',
    chains: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
    priority: (h) => (h === 'PREROUTING' || h === 'OUTPUT' ? -100 : 100),
  },
];

/** Looks a table up by name. */
export function tableInfo(name: string): TableInfo | undefined {
  return TABLES.find((t) => t.name === name);
}

/** Whether `chain` is a built-in chain of `table`. */
export function isBuiltinChain(table: string, chain: string): boolean {
  return tableInfo(table)?.chains.includes(chain as Hook) ?? false;
}
