/**
 * The extension model: one module per match or target, holding both the
 * userspace half (options, parse, final check, the -L and save renderers)
 * and, later, the kernel half (the per-packet function). Everything here is
 * plain data and pure functions so the engine runs in a browser too.
 */
import type { IPv6 } from '../addr/ipv6.js';
import type { NameDb } from './namedb.js';
import type { PacketContext } from './packet.js';

/** Address family a rule belongs to: iptables ('ipv4') or ip6tables ('ipv6'). */
export type Family = 'ipv4' | 'ipv6';

/**
 * Argument types understood by the generic option parser; each mirrors a
 * libxtables XTTYPE_* and produces the same error messages.
 */
export type OptType =
  | 'none'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'uint8rc'
  | 'uint16rc'
  | 'uint32rc'
  | 'uint64rc'
  | 'double'
  | 'string'
  | 'tosmask'
  | 'markmask32'
  | 'sysloglevel'
  | 'host'
  | 'hostmask'
  | 'protocol'
  | 'port'
  | 'portrc'
  | 'plen'
  | 'plenmask'
  | 'ethermac';

/** One option of an extension, the equivalent of a struct xt_option_entry. */
export interface OptionEntry {
  /** Long option name without the leading dashes. */
  name: string;
  /** Identifier, unique within the extension (0..31); used for flags. */
  id: number;
  /** Argument type for the generic parser. */
  type: OptType;
  /** getopt argument kind; derived from `type` when absent ('none' → no argument). */
  hasArg?: 'no' | 'required' | 'optional';
  /** `!` may precede the option (XTOPT_INVERT). */
  invert?: boolean;
  /** The option must be given (XTOPT_MAND). */
  mandatory?: boolean;
  /** The option may be given more than once (XTOPT_MULTI). */
  multi?: boolean;
  /** Ids of options this one cannot be combined with. */
  excl?: number[];
  /** Ids of options this one requires. */
  also?: number[];
  /** Lower bound (numbers) or minimum length (strings); 0 means none. */
  min?: number;
  /** Upper bound (numbers) or maximum length (strings); 0 means the type's own. */
  max?: number;
  /** Capacity in elements for range types, or bytes for strings (with terminator). */
  size?: number;
}

/** Values the generic parser produced for one option, like xt_option_call.val. */
export interface ParsedValue {
  /** Integer value (uint8..uint64, sysloglevel, protocol, port, plen). */
  num?: number;
  /** Range components for *rc and portrc types. */
  range?: number[];
  /** Number of components read for range types. */
  nvals?: number;
  /** Floating point value. */
  dbl?: number;
  /** Value and mask for tosmask/markmask32. */
  value?: number;
  mask?: number;
  /** Address and mask for host/hostmask/plenmask types. */
  addr?: number;
  hmask?: number;
  hlen?: number;
  /** The same for IPv6 (the option was parsed for ip6tables). */
  addr6?: IPv6;
  hmask6?: IPv6;
  /** Six bytes for ethermac. */
  mac?: number[];
  /** String value. */
  str?: string;
}

/** Everything an extension's parse function sees for one option occurrence. */
export interface OptionCall<I> {
  /** The option table entry matched by getopt. */
  entry: OptionEntry;
  /** The option's argument, if any. */
  arg: string | undefined;
  /** Whether `!` preceded the option. */
  invert: boolean;
  /** The extension's name, for messages. */
  extName: string;
  /** The extension instance's data, mutated by parse. */
  info: I;
  /** Bit set of option ids seen so far (bit = 1 << id). */
  xflags: number;
  /** Values from the generic parser, filled by `parseGeneric()`. */
  val: ParsedValue;
  /** Runs the libxtables generic parser on this option (xtables_option_parse). */
  parseGeneric(): void;
  /** Consumes and returns the next command-line word (for options taking several words). */
  nextArg(): string | undefined;
  /** Peeks at the next command-line word without consuming it. */
  peekArg(): string | undefined;
  /** The rule being built (protocol, invflags, addresses), for options that depend on it. */
  rule: RuleHeaderView;
  /** Host, service and protocol names of the machine. */
  names: NameDb;
  /** The table the rule is for. */
  table: string;
  /** Writes a warning to stderr (iptables prints some and goes on). */
  warn(text: string): void;
  /** The program's family (ip6tables: 'ipv6'); absent means 'ipv4'. */
  family?: Family;
}

/** What the final check sees, like xt_fcheck_call. */
export interface FinalCall<I> {
  extName: string;
  info: I;
  xflags: number;
  rule: RuleHeaderView;
  table: string;
  /** Writes a warning to stderr (some final checks print one and go on). */
  warn(text: string): void;
  /** The program's family; absent means 'ipv4'. */
  family?: Family;
}

/** Read-only view of the IP part of a rule being parsed or printed. */
export interface RuleHeaderView {
  /** Layer-4 protocol number, 0 for any. */
  proto: number;
  /** IPT_INV_* bits. */
  invflags: number;
  /** Whether -f was given. */
  fragment: boolean;
}

/** Options for the -L renderer. */
export interface PrintContext {
  /** -n was given: no name lookups. */
  numeric: boolean;
  /** Name lookups for the machine (hosts, services, protocols). */
  names: NameDb;
  /** The rule's IP part. */
  rule: RuleHeaderView;
  /** The rule's family; absent means 'ipv4'. */
  family?: Family;
}

/** Options for the save renderer (-S and iptables-save). */
export interface SaveContext {
  rule: RuleHeaderView;
  /** The rule's family; absent means 'ipv4'. */
  family?: Family;
}

/** Insert-time validation context (the kernel's checkentry). */
export interface CheckContext {
  /** Table the rule goes into. */
  table: string;
  /** Chain the rule goes into. */
  chain: string;
  /** Hooks from which the chain can be reached (names of built-in chains). */
  hooks: readonly string[];
  rule: RuleHeaderView;
  /** The rule's family; absent means 'ipv4'. */
  family?: Family;
}

/** Common parts of match and target definitions. */
interface ExtensionBase<I> {
  /** The name given to -m or -j. */
  name: string;
  /** Name as stored and printed, when it differs (aliases like `-m dccp`). */
  realName?: string;
  /** Revision printed nowhere but kept for completeness. */
  revision?: number;
  /**
   * The family the extension exists in (libipt_* are 'ipv4', libip6t_*
   * 'ipv6'); absent means both, like libxt_* with NFPROTO_UNSPEC.
   */
  family?: Family;
  /** Tables the extension may be used in; absent means all. */
  tables?: readonly string[];
  /** Built-in chains (hooks) the extension may be reached from; absent means all. */
  hooks?: readonly string[];
  /** Option table. */
  options: readonly OptionEntry[];
  /**
   * The kernel nflab reproduces lacks this extension (no module): iptables
   * warns when it loads it, and the kernel refuses rules that use it.
   */
  kernelMissing?: boolean;
  /** The extension's section of `iptables -h`. */
  help?: () => string;
  /**
   * The extension uses the old libxtables API: its parse does all checks
   * itself and the generic final checks (mandatory, exclusions) do not run.
   */
  oldStyle?: boolean;
  /**
   * Fresh extension data; `family` (absent: 'ipv4') lets extensions whose
   * defaults depend on it (address masks) start from the right ones.
   */
  init(family?: Family): I;
  /** Handles one option occurrence; defaults to the generic parser alone. */
  parse?(cb: OptionCall<I>): void;
  /** Checks the whole set of options once parsing ends (x6_fcheck). */
  final?(cb: FinalCall<I>): void;
  /**
   * Insert-time validation as the kernel does it. Returns an error
   * description (see CheckError) or undefined when the rule is acceptable.
   */
  check?(info: I, ctx: CheckContext): CheckError | undefined;
  /** The -L form, starting with a space where iptables prints one. */
  print(info: I, ctx: PrintContext): string;
  /** The save form (options only, each preceded by a space), without the `-m name`/`-j name`. */
  save(info: I, ctx: SaveContext): string;
  /**
   * What iptables-nft reads back after translating the extension to
   * nf_tables and back; applied to stored rules and to rules built for
   * comparison (-C, -D) alike. Identity when absent.
   */
  kernelForm?: KernelForm<I>;
  /**
   * What the kernel itself changes when it stores the rule (e.g. a limit
   * burst of 0 becomes 5); applied only to stored rules, so -C and -D of
   * the rule as typed do not find it, as with the real kernel.
   */
  storeForm?: (info: I) => I;
  /**
   * The name save (-S, iptables-save) prints after -j when it differs from
   * the stored one (libxtables' `alias`, e.g. NOTRACK stored as CT).
   */
  saveName?(info: I): string;
  /**
   * iptables-nft reads natively translated instances of this match back
   * into a single match per rule, at the place of the first one (tcp, udp):
   * see NativeMerge. Absent for matches whose instances stay separate.
   */
  nativeMerge?: NativeMerge<I>;
  /**
   * Per-rule kernel state (a rate limiter's credit, a quota's remainder,
   * nth's counter), created when the rule is committed and kept with it;
   * must be JSON-serialisable. Absent: the extension keeps none.
   */
  runtime?(info: I): any;
}

/**
 * How natively translated instances of a match combine when iptables-nft
 * reads a rule back. Both functions see kernel forms (after kernelForm).
 */
export interface NativeMerge<I> {
  /** Whether the instance was translated into native expressions (else it stays an xt match). */
  native(info: I): boolean;
  /** The first native instance with what a later native instance's expressions write into it. */
  merge(first: I, later: I): I;
}

/** A kernel refusal at insert time, rendered by the command layer. */
export interface CheckError {
  /** errno name returned by the kernel, e.g. 'EINVAL', 'ENOENT', 'ERANGE'. */
  errno: string;
  /** Optional full message replacing the generic errno text. */
  message?: string;
}

/** A match extension (-m NAME, or loaded implicitly by -p). */
export interface MatchDef<I = any> extends ExtensionBase<I> {
  kind: 'match';
  /**
   * The kernel half: whether the packet matches. `rt` is the rule's
   * runtime state (see runtime). Set `ctx.hotdrop` to drop the packet.
   * Absent: the match is not implemented in the packet path yet.
   */
  match?(info: I, ctx: PacketContext, rt: any): boolean;
}

/** A target extension (-j NAME). */
export interface TargetDef<I = any> extends ExtensionBase<I> {
  kind: 'target';
  /**
   * The kernel half: what the target does to the packet and its verdict
   * (see verdict.ts: NF_DROP, NF_ACCEPT, NF_STOLEN, XT_CONTINUE ...).
   * Absent: the target is not implemented in the packet path yet.
   */
  target?(info: I, ctx: PacketContext, rt: any): number;
}

/** Either kind of extension. */
export type ExtensionDef = MatchDef | TargetDef;

/** Declares a match; only adds the kind tag so modules read naturally. */
export function defineMatch<I>(def: Omit<MatchDef<I>, 'kind'>): MatchDef<I> {
  return { ...def, kind: 'match' };
}

/** Declares a target; only adds the kind tag so modules read naturally. */
export function defineTarget<I>(def: Omit<TargetDef<I>, 'kind'>): TargetDef<I> {
  return { ...def, kind: 'target' };
}

/**
 * A user error raised while parsing, with the exit status iptables uses:
 * 1 OTHER_PROBLEM, 2 PARAMETER_PROBLEM, 3 VERSION_PROBLEM, 4 RESOURCE_PROBLEM.
 */
export class XtError extends Error {
  constructor(
    message: string,
    /** Exit status class. */
    readonly status: 1 | 2 | 3 | 4 = 2,
    /** When set, the message is printed as-is with no program prefix. */
    readonly bare = false,
  ) {
    super(message);
  }
}

/**
 * A parameter problem iptables-nft only finds when it commits (a jump to
 * a chain that does not exist): iptables-restore reports it at the COMMIT
 * line rather than at the rule's line.
 */
export class CommitParamError extends XtError {}

/** Shorthand for a PARAMETER_PROBLEM error. */
export function paramError(message: string): XtError {
  return new XtError(message, 2);
}

/** Invert bits of the IP part of a rule, as in linux/netfilter_ipv4/ip_tables.h. */
export const IPT_INV = {
  VIA_IN: 0x01,
  VIA_OUT: 0x02,
  TOS: 0x04,
  SRCIP: 0x08,
  DSTIP: 0x10,
  FRAG: 0x20,
  PROTO: 0x40,
} as const;

/**
 * Optional hook on an extension: the form the kernel keeps once the rule is
 * committed through nf_tables and read back. iptables-nft turns some
 * extensions into native expressions (tcp, udp, mark, limit ...) and
 * rebuilds them when listing, which can drop or normalise parts; return
 * null when nothing of the extension survives.
 */
export type KernelForm<I> = (info: I) => I | null;
