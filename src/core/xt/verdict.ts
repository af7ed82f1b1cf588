/**
 * Verdicts of the packet path, with the kernel's numbering: what a hook
 * function, a chain or a target returns.
 */

/** The packet is dropped (NF_DROP). */
export const NF_DROP = 0;
/** The packet goes on to the next hook function (NF_ACCEPT). */
export const NF_ACCEPT = 1;
/** A target took the packet over (NF_STOLEN): it is neither dropped nor passed on. */
export const NF_STOLEN = 2;
/** The packet is queued to userspace (NF_QUEUE); with no listener it is dropped. */
export const NF_QUEUE = 3;
/** The hook runs again (NF_REPEAT). */
export const NF_REPEAT = 4;
/** A target lets the traversal go on with the next rule (XT_CONTINUE). */
export const XT_CONTINUE = -1;
/** Back to the calling chain (XT_RETURN). */
export const XT_RETURN = -2;

/** A verdict number as above. */
export type Verdict = number;
