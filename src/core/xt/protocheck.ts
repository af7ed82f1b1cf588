/**
 * Insert-time checks the kernel's x_tables core makes for every extension
 * before its own checkentry (xt_check_match / xt_check_target): the
 * protocol an extension is bound to, the table it belongs to and the hooks
 * it may run at. Each returns a CheckError the command layer turns into
 * "RULE_APPEND failed (Invalid argument)", or undefined when all is well.
 *
 * Through nf_tables (nft_compat) the hook mask an extension's checkentry
 * sees is the base chain's hook, and 0 for a user-defined chain; the
 * extension's own hook list is checked later against every base chain the
 * rule can be reached from (chain validation). Until reachability is
 * tracked, the hook helpers below only judge rules in base chains.
 */
import { IPT_INV, type CheckContext, type CheckError } from './types.js';

/** The rule must name protocol `proto` without `!` (xt_check_match's proto test). */
export function requireProto(ctx: CheckContext, proto: number): CheckError | undefined {
  if (ctx.rule.proto !== proto || (ctx.rule.invflags & IPT_INV.PROTO) !== 0) return { errno: 'EINVAL' };
  return undefined;
}

/** The rule must be in table `table` (xt_check_*'s table test). */
export function requireTable(ctx: CheckContext, table: string): CheckError | undefined {
  return ctx.table === table ? undefined : { errno: 'EINVAL' };
}

/** The hook of the rule's chain when it is a built-in chain, else undefined (hook mask 0). */
export function baseHook(ctx: CheckContext): string | undefined {
  return ctx.hooks.length === 1 && ctx.hooks[0] === ctx.chain ? ctx.chain : undefined;
}

/** An extension with a hook list: a rule in a base chain must be at one of `allowed`. */
export function requireHooks(ctx: CheckContext, allowed: readonly string[]): CheckError | undefined {
  const h = baseHook(ctx);
  return h === undefined || allowed.includes(h) ? undefined : { errno: 'EINVAL' };
}
