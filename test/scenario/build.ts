/**
 * A scenario's setup as the commands a user would type, the same on both
 * sides: only the namespace names differ (real namespaces get a unique
 * prefix). `{NS}` in a step's argument is replaced by the real name of
 * namespace NS as well.
 */
import type { Scenario } from './types.js';

/** A command of the setup: argv, with the iptables-restore text for stdin. */
export interface SetupCommand {
  argv: string[];
  stdin?: string;
}

/** Replaces `{NS}` markers by the namespace's real name. */
export function withNames(argv: readonly string[], names: ReadonlyMap<string, string>): string[] {
  return argv.map((w) => w.replace(/\{([A-Za-z0-9_]+)\}/g, (m, k: string) => names.get(k) ?? m));
}

/** The commands that build the scenario's network, in order. */
export function setupCommands(s: Scenario, names: ReadonlyMap<string, string>): SetupCommand[] {
  const n = (ns: string): string => {
    const real = names.get(ns);
    if (real === undefined) throw new Error(`${s.name}: unknown namespace ${ns}`);
    return real;
  };
  const out: SetupCommand[] = [];
  const cmd = (...argv: string[]): void => void out.push({ argv });
  for (const ns of s.namespaces) cmd('ip', 'netns', 'add', n(ns));
  for (const ns of s.namespaces) {
    // no IPv6 chatter (router solicitations, MLD reports) on the captures
    cmd('ip', 'netns', 'exec', n(ns), 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1');
    cmd('ip', 'netns', 'exec', n(ns), 'sysctl', '-qw', 'net.ipv6.conf.default.disable_ipv6=1');
    cmd('ip', '-n', n(ns), 'link', 'set', 'lo', 'up');
  }
  const up: [string, string][] = [];
  for (const l of s.links) {
    if (l.kind === 'veth') {
      cmd('ip', '-n', n(l.a.ns), 'link', 'add', l.a.dev, 'address', l.a.mac, 'type', 'veth', 'peer', 'name', l.b.dev, 'address', l.b.mac, 'netns', n(l.b.ns));
      up.push([l.a.ns, l.a.dev], [l.b.ns, l.b.dev]);
    } else {
      cmd('ip', '-n', n(l.ns), 'link', 'add', l.dev, 'address', l.mac, 'type', 'bridge');
      for (const p of l.ports) cmd('ip', '-n', n(l.ns), 'link', 'set', p, 'master', l.dev);
      up.push([l.ns, l.dev]);
    }
  }
  for (const [ns, dev, cidr] of s.addrs) cmd('ip', '-n', n(ns), 'addr', 'add', cidr, 'dev', dev);
  for (const [ns, dev] of up) cmd('ip', '-n', n(ns), 'link', 'set', dev, 'up');
  for (const [ns, ...args] of s.routes ?? []) cmd('ip', '-n', n(ns), 'route', 'add', ...args);
  for (const [ns, key, value] of s.sysctls ?? []) cmd('ip', 'netns', 'exec', n(ns), 'sysctl', '-qw', `${key}=${value}`);
  for (const [ns, text] of Object.entries(s.rules ?? {})) out.push({ argv: ['ip', 'netns', 'exec', n(ns), 'iptables-restore'], stdin: text });
  return out;
}

/** The LOG prefixes used in the scenario's rules (from `--log-prefix "..."`). */
export function logPrefixesOf(s: Scenario): string[] {
  const out = new Set<string>(s.logPrefixes ?? []);
  for (const text of Object.values(s.rules ?? {})) {
    for (const m of text.matchAll(/--log-prefix (?:"([^"]*)"|(\S+))/g)) out.add(m[1] ?? m[2]!);
  }
  return [...out];
}
