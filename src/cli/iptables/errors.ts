/**
 * How iptables-nft reports failures: parse errors with the program
 * prefix and the "Try" line, nft_strerror's short messages for command
 * failures, and the kernel's batch errors ("RULE_APPEND failed (...)").
 */
import { XtError } from '../../core/xt/types.js';

/** strerror texts for the errno names the rule engine produces. */
export const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EEXIST: 'File exists',
  EBUSY: 'Device or resource busy',
  EINVAL: 'Invalid argument',
  ENOTEMPTY: 'Directory not empty',
  EOPNOTSUPP: 'Operation not supported',
  ELOOP: 'Too many levels of symbolic links',
  E2BIG: 'Argument list too long',
  ERANGE: 'Numerical result out of range',
  ENOMEM: 'Cannot allocate memory',
  ENOSPC: 'No space left on device',
  EPROTO: 'Protocol error',
  EPERM: 'Operation not permitted',
  EMLINK: 'Too many links',
  ENXIO: 'No such device or address',
};

/** The failing function of nft_strerror's table. */
export type NftFn =
  | 'chain_del'
  | 'chain_user_add'
  | 'chain_user_rename'
  | 'rule_insert'
  | 'rule_check'
  | 'rule_replace'
  | 'rule_delete_num'
  | 'rule_delete'
  | 'chain_set'
  | 'other';

const NFT_MESSAGES: [NftFn | null, string, string][] = [
  ['chain_del', 'ENOTEMPTY', 'Chain is not empty'],
  ['chain_del', 'EBUSY', 'Directory not empty'],
  ['chain_del', 'EMLINK', "Can't delete chain with references left"],
  ['chain_user_add', 'EEXIST', 'Chain already exists'],
  ['chain_user_rename', 'EEXIST', 'File exists'],
  ['rule_insert', 'E2BIG', 'Index of insertion too big'],
  ['rule_check', 'ENOENT', 'Bad rule (does a matching rule exist in that chain?)'],
  ['rule_replace', 'E2BIG', 'Index of replacement too big'],
  ['rule_delete_num', 'E2BIG', 'Index of deletion too big'],
  ['rule_delete', 'ENOENT', 'Bad rule (does a matching rule exist in that chain?)'],
  ['chain_set', 'ENOENT', 'Bad built-in chain name'],
  ['chain_set', 'EINVAL', 'Bad policy name'],
  ['chain_set', 'ENXIO', 'Bad table name'],
  [null, 'ELOOP', 'Loop found in table'],
  [null, 'EPERM', 'Permission denied (you must be root)'],
  // errno 0: a function gave up without setting errno (e.g. -Z CHAIN N on a missing chain)
  [null, '0', 'Incompatible with this kernel'],
  [null, 'ENOPROTOOPT', 'iptables who? (do you need to insmod?)'],
  [null, 'ENOMEM', 'Memory allocation problem'],
  [null, 'ENOENT', 'No chain/target/match by that name'],
];

/** A command that failed the way do_commandx reports (return 0 with errno). */
export class CommandFailure extends Error {
  constructor(
    readonly fn: NftFn,
    readonly errno: string,
  ) {
    super(`${fn}: ${errno}`);
  }
}

/** One element of the commit batch the kernel refused. */
export interface BatchError {
  /** Batch operation, e.g. RULE_APPEND, CHAIN_DEL. */
  op: string;
  errno: string;
  /** What the batch element was about, e.g. "rule in chain INPUT", "chain FOO". */
  what: string;
  /** iptables-restore line the batch element came from. */
  line?: number;
}

/**
 * The kernel refused the commit batch: every refused element, in batch
 * order. iptables shows only the first; iptables-restore, whose elements
 * carry line numbers, shows them all (as far as its 1024-byte buffer goes).
 */
export class CommitFailure extends Error {
  readonly errors: BatchError[];
  constructor(op: string, errno: string, what: string, line?: number) {
    super(`${op} ${errno}`);
    this.errors = [{ op, errno, what, line }];
  }

  /** A failure listing several refused elements (at least one). */
  static of(errors: BatchError[]): CommitFailure {
    const first = errors[0]!;
    const f = new CommitFailure(first.op, first.errno, first.what, first.line);
    f.errors.push(...errors.slice(1));
    return f;
  }

  /** The first refused element. */
  get first(): BatchError {
    return this.errors[0]!;
  }
}

/**
 * The text nft_action builds from the kernel's error reports: one piece per
 * refused element (" OP failed (strerror): what", or "\nline N: ..." when it
 * has a line), only the first one when it has none, within a 1024-byte
 * buffer filled with snprintf (a piece that no longer fits is cut short and
 * overwritten by the next).
 */
export function commitErrorText(errors: readonly BatchError[]): string {
  let out = '';
  let tail = '';
  let room = 1024;
  for (const e of errors) {
    const where = e.line !== undefined && e.line !== 0 ? `\nline ${e.line}:` : '';
    const piece = `${where} ${e.op} failed (${STRERROR[e.errno] ?? e.errno}): ${e.what}`;
    if (piece.length <= room) {
      out += piece.length === room ? piece.slice(0, room - 1) : piece;
      room -= piece.length;
      tail = '';
    } else {
      tail = room > 0 ? piece.slice(0, room - 1) : '';
    }
    if (!where) break;
  }
  return out + tail;
}

/** nft_strerror. */
export function nftStrerror(fn: NftFn, errno: string): string {
  for (const [f, e, msg] of NFT_MESSAGES) if ((f === null || f === fn) && e === errno) return msg;
  return STRERROR[errno] ?? errno;
}

/** Names the program is invoked by, for message prefixes. */
export interface ProgramInfo {
  /** e.g. "iptables", "iptables-restore". */
  name: string;
  /** e.g. "1.8.9 (nf_tables)". */
  version: string;
  /** Restore line number, when reporting from a restore. */
  line?: number;
}

/** Renders an error thrown while running a command, with its exit status. */
export function renderError(err: unknown, prog: ProgramInfo): { stderr: string; status: number } {
  if (err instanceof XtError) {
    const tryLine = () => {
      let s = '';
      if (prog.line !== undefined && prog.line !== -1) s += `Error occurred at line: ${prog.line}\n`;
      return s + `Try \`${prog.name} -h' or '${prog.name} --help' for more information.\n`;
    };
    if (err.bare) {
      return { stderr: err.message + (err.status === 2 ? tryLine() : ''), status: err.status };
    }
    let s = `${prog.name} v${prog.version}: ${err.message}\n`;
    if (err.status === 2) s += tryLine();
    if (err.status === 3) s += `Perhaps ${prog.name} or your kernel needs to be upgraded.\n`;
    return { stderr: s, status: err.status };
  }
  if (err instanceof CommandFailure) {
    const msg = nftStrerror(err.fn, err.errno);
    const dmesg = err.errno === 'EINVAL' ? " Run `dmesg' for more information." : '';
    // iptables or ip6tables: the program's own name
    return { stderr: `${prog.name.startsWith('ip6') ? 'ip6tables' : 'iptables'}: ${msg}.${dmesg}\n`, status: 1 };
  }
  if (err instanceof CommitFailure) {
    return { stderr: `${prog.name} v${prog.version}: ${commitErrorText(err.errors)}\n`, status: 4 };
  }
  throw err;
}
