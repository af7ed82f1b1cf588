/**
 * Renaming a link (dev_change_name; allowed while up on Linux 6.x); the
 * per-device sysctl directories and the address labels follow the new name
 * as the kernel moves them (inetdev_changename).
 */
import { netError, type NetError } from './errors.js';
import { linkByName } from './state.js';
import type { Link, NetState } from './types.js';
import { validIfname } from './links.js';

/** Gives `link` the name `name`. */
export function renameLink(net: NetState, link: Link, name: string): NetError | undefined {
  if (!validIfname(name)) return netError('EINVAL');
  if (linkByName(net, name)) return netError('EEXIST');
  const old = link.name;
  link.name = name;
  for (const dir of ['net.ipv4.conf', 'net.ipv4.neigh', 'net.ipv6.conf', 'net.ipv6.neigh']) {
    const from = `${dir}.${old}.`;
    for (const key of Object.keys(net.sysctl)) {
      if (!key.startsWith(from)) continue;
      const to = `${dir}.${name}.${key.slice(from.length)}`;
      net.sysctl[to] = net.sysctl[key]!;
      delete net.sysctl[key];
      if (net.sysctlSet[key]) {
        net.sysctlSet[to] = true;
        delete net.sysctlSet[key];
      }
    }
  }
  let named = 0;
  for (const ifa of link.inet) {
    const prev = ifa.label;
    ifa.label = name;
    if (named++ === 0) continue;
    const colon = prev.indexOf(':');
    const suffix = colon >= 0 ? prev.slice(colon) : `:${named}`;
    ifa.label = suffix.length + name.length < 16 ? name + suffix : name.slice(0, 15 - suffix.length) + suffix;
  }
  return undefined;
}
