/**
 * Shared pieces of the conntrack tests: a fake machine for the hook
 * functions (virtual clock, sysctls, kernel log), frame building, and
 * running packets through the hooks the way the kernel orders them for a
 * forwarded or local packet.
 */
import { conntrackConfirm, conntrackIn, type ConntrackEnv } from '../src/core/conntrack/hooks.js';
import { defragIn } from '../src/core/conntrack/defrag.js';
import { ConntrackTable } from '../src/core/conntrack/table.js';
import { newSkb, type Skb } from '../src/core/path/skb.js';
import { encodeIpv4, type PacketDesc } from '../src/core/wire/frame.js';
import { NF_ACCEPT } from '../src/core/xt/verdict.js';

/** A fake machine for conntrack: clock in ns, sysctl overrides, a log. */
export interface FakeMachine {
  env: ConntrackEnv;
  table: ConntrackTable;
  sysctls: Map<string, number>;
  log: string[];
  /** Virtual time, ns. */
  now: number;
  /** Advances the clock by seconds. */
  sleep(sec: number): void;
}

/** A fresh fake machine; ids come from a counter so listings are predictable. */
export function fakeMachine(startSec = 100): FakeMachine {
  const m: FakeMachine = {
    table: new ConntrackTable(() => m.now),
    sysctls: new Map(),
    log: [],
    now: startSec * 1e9,
    sleep(sec: number) {
      m.now += Math.round(sec * 1e9);
    },
    env: undefined as unknown as ConntrackEnv,
  };
  let id = 1000;
  m.env = {
    table: m.table,
    nowNs: () => m.now,
    sysctl: (name) => m.sysctls.get(name),
    printk: (level, text) => m.log.push(`<${level}>${text}`),
    random32: () => ++id,
  };
  return m;
}

/** Addresses of the two sides in the tests: B (original sender) and C (its peer). */
export const B = '10.9.1.2';
export const C = '10.9.2.2';

/** A datagram from a description, with default addresses by direction ('o': B to C, 'r': C to B). */
export function datagram(dir: 'o' | 'r', desc: PacketDesc): Uint8Array {
  const ipv4 = { src: dir === 'o' ? B : C, dst: dir === 'o' ? C : B, ...(desc.ipv4 ?? {}) };
  return encodeIpv4({ ...desc, ipv4 });
}

/** What happened to one packet in the fake forward path. */
export interface PathResult {
  verdict: number;
  skb: Skb | null;
}

/**
 * Runs a received datagram through defrag (-400), conntrack (-200) at
 * PREROUTING and confirmation at POSTROUTING (a forwarded packet), as the
 * kernel does when no rule drops it.
 */
export function forward(m: FakeMachine, data: Uint8Array, indev = 'a1'): PathResult {
  const first = newSkb(data, new Uint8Array(14), indev);
  const skb = defragIn(m.env, first, 'PREROUTING');
  if (skb === null) return { verdict: NF_ACCEPT, skb: null };
  const v = conntrackIn(m.env, skb, 'PREROUTING');
  if (v !== NF_ACCEPT) return { verdict: v, skb };
  return { verdict: conntrackConfirm(m.env, skb), skb };
}
