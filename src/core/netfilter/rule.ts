/**
 * A rule as the kernel holds it: the IP header part, the list of matches
 * with their data, one target, and counters.
 */
import type { IPv4 } from '../addr/ipv4.js';
import type { IPv6 } from '../addr/ipv6.js';

/** A match within a rule: the extension's name and its data. */
export interface RuleMatch {
  /** Extension name (as stored: real name for aliases). */
  name: string;
  /** Extension data, plain JSON. */
  info: any;
  /** Kernel state of this instance (see the extension's runtime), created on first use. */
  rt?: any;
}

/** What a rule does when it matches. */
export type RuleTarget =
  /** ACCEPT, DROP, RETURN or QUEUE. */
  | { kind: 'verdict'; verdict: 'ACCEPT' | 'DROP' | 'RETURN' | 'QUEUE' }
  /** -j CHAIN or -g CHAIN to a user chain. */
  | { kind: 'jump'; chain: string; goto: boolean }
  /** A target extension. */
  | { kind: 'ext'; name: string; info: any; rt?: any }
  /** No -j at all: the rule only counts. */
  | { kind: 'none' };

/** One rule. */
export interface Rule {
  /** Source address and mask (mask 0: any). */
  src: IPv4;
  smsk: IPv4;
  /** Destination address and mask. */
  dst: IPv4;
  dmsk: IPv4;
  /**
   * Source and destination of an ip6tables rule (present exactly in IPv6
   * rules, which leave the IPv4 fields at 0).
   */
  src6?: IPv6;
  smsk6?: IPv6;
  dst6?: IPv6;
  dmsk6?: IPv6;
  /** Input interface as given, '' for any; a trailing '+' is a wildcard. */
  iniface: string;
  /** Output interface as given, '' for any. */
  outiface: string;
  /** Layer-4 protocol number, 0 for all. */
  proto: number;
  /** IPT_INV_* bits. */
  invflags: number;
  /** -f: only second and later fragments. */
  fragment: boolean;
  /** Matches in command-line order. */
  matches: RuleMatch[];
  /** The target. */
  target: RuleTarget;
  /** Packet counter (64-bit, as the kernel keeps it). */
  pkts: bigint;
  /** Byte counter (64-bit). */
  bytes: bigint;
  /**
   * The rule's nf_tables handle, given by the kernel from its table's
   * counter when the rule is added (0 for a rule not in the kernel). Not
   * part of the rule's identity.
   */
  handle: number;
}

/** A fresh rule that matches everything and does nothing. */
export function emptyRule(): Rule {
  return {
    src: 0,
    smsk: 0,
    dst: 0,
    dmsk: 0,
    iniface: '',
    outiface: '',
    proto: 0,
    invflags: 0,
    fragment: false,
    matches: [],
    target: { kind: 'none' },
    pkts: 0n,
    bytes: 0n,
    handle: 0,
  };
}

/** Name shown in the target column of -L, or the word after -j. */
export function targetName(t: RuleTarget): string {
  switch (t.kind) {
    case 'verdict':
      return t.verdict;
    case 'jump':
      return t.chain;
    case 'ext':
      return t.name;
    case 'none':
      return '';
  }
}

/** The family a rule belongs to: IPv6 rules carry IPv6 addresses. */
export function ruleFamily(r: Rule): 'ipv4' | 'ipv6' {
  return r.src6 !== undefined ? 'ipv6' : 'ipv4';
}
