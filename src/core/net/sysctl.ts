/**
 * The net.* sysctls of a namespace: their values (NetState.sysctl), the file
 * modes and write rules captured from the real kernel (sysctl-data.ts), the
 * per-device directories that appear and vanish with links, and the side
 * effects of writes the kernel performs (forwarding switches, "default"
 * values reaching the devices that never had their own value written).
 */
import {
  IPV4_CONF_LO,
  IPV4_NEIGH_DEV,
  IPV6_CONF_LO,
  IPV6_NEIGH_DEV,
  NET_SYSCTLS,
  type SysctlEntry,
} from './sysctl-data.js';
import type { NetState } from './types.js';

/** What is known about one key: its file mode and write rule. */
export interface SysctlSpec {
  mode: number;
  rule: string;
}

const GLOBAL_SPECS = new Map<string, SysctlSpec>();
for (const [key, , mode, rule] of NET_SYSCTLS) GLOBAL_SPECS.set(key, { mode, rule });
// the initial namespace's only (a fresh namespace has no such file): LOG from other namespaces
GLOBAL_SPECS.set('net.netfilter.nf_log_all_netns', { mode: 0o644, rule: '-2147483648:2147483647' });

type DirKind = 'ipv4.conf' | 'ipv4.neigh' | 'ipv6.conf' | 'ipv6.neigh';

const TEMPLATES: Record<DirKind, readonly SysctlEntry[]> = {
  'ipv4.conf': IPV4_CONF_LO,
  'ipv4.neigh': IPV4_NEIGH_DEV,
  'ipv6.conf': IPV6_CONF_LO,
  'ipv6.neigh': IPV6_NEIGH_DEV,
};

const TEMPLATE_SPECS: Record<DirKind, Map<string, SysctlSpec>> = {
  'ipv4.conf': new Map(),
  'ipv4.neigh': new Map(),
  'ipv6.conf': new Map(),
  'ipv6.neigh': new Map(),
};
for (const kind of Object.keys(TEMPLATES) as DirKind[]) {
  for (const [name, , mode, rule] of TEMPLATES[kind]) TEMPLATE_SPECS[kind].set(name, { mode, rule });
}

/** Keys procps hides from `sysctl -a` (deprecated aliases). */
export const DEPRECATED_SYSCTL_NAMES: ReadonlySet<string> = new Set(['base_reachable_time', 'retrans_time']);

const DEVICE_KEY = /^net\.(ipv4|ipv6)\.(conf|neigh)\.([^.]+)\.([^.]+)$/;

/** Splits a per-device key into its directory kind, device and name; undefined for other keys. */
function deviceKey(key: string): { kind: DirKind; dev: string; name: string } | undefined {
  const m = DEVICE_KEY.exec(key);
  if (!m) return undefined;
  const dev = m[3]!;
  if (dev === 'all' || dev === 'default') return undefined;
  return { kind: `${m[1]}.${m[2]}` as DirKind, dev, name: m[4]! };
}

/** The sysctls of a fresh namespace: the global keys and the directories of lo. */
export function initialSysctls(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of NET_SYSCTLS) out[key] = value;
  for (const kind of Object.keys(TEMPLATES) as DirKind[]) {
    for (const [name, value] of TEMPLATES[kind]) out[`net.${kind}.lo.${name}`] = value;
  }
  return out;
}

/**
 * Creates the per-device directories of a new link, as the kernel does when
 * it registers the device: conf values copied from the "default" directory (IPv6 mtu taken
 * from the link), neigh values from the built-in defaults.
 */
export function addDeviceSysctls(net: NetState, dev: string, mtu: number, only?: 'ipv4' | 'ipv6'): void {
  const s = net.sysctl;
  if (only !== 'ipv6') addIpv4Dirs(net, dev);
  if (only === 'ipv4') return;
  for (const [name, value] of IPV6_CONF_LO) {
    s[`net.ipv6.conf.${dev}.${name}`] = name === 'mtu' ? String(mtu) : (s[`net.ipv6.conf.default.${name}`] ?? value);
  }
  for (const [name, value] of IPV6_NEIGH_DEV) s[`net.ipv6.neigh.${dev}.${name}`] = value;
}

function addIpv4Dirs(net: NetState, dev: string): void {
  const s = net.sysctl;
  for (const [name, value] of IPV4_CONF_LO) {
    const key = `net.ipv4.conf.${dev}.${name}`;
    s[key] = s[`net.ipv4.conf.default.${name}`] ?? value;
    // the device copies default's "written" marks along with its values
    if (net.sysctlSet[`net.ipv4.conf.default.${name}`]) net.sysctlSet[key] = true;
  }
  for (const [name, value] of IPV4_NEIGH_DEV) s[`net.ipv4.neigh.${dev}.${name}`] = value;
}

/** Removes the per-device keys of `dev` (all, or those of one protocol). */
export function removeDeviceSysctls(net: NetState, dev: string, only?: 'ipv4' | 'ipv6'): void {
  for (const kind of Object.keys(TEMPLATES) as DirKind[]) {
    if (only !== undefined && !kind.startsWith(only)) continue;
    for (const [name] of TEMPLATES[kind]) {
      const key = `net.${kind}.${dev}.${name}`;
      delete net.sysctl[key];
      delete net.sysctlSet[key];
    }
  }
}

/** The value of a sysctl (dotted key), or undefined when it does not exist. */
export function sysctlGet(net: NetState, key: string): string | undefined {
  return net.sysctl[key];
}

/** The first integer of a sysctl's value, or 0 when it is missing or not a number. */
export function sysctlInt(net: NetState, key: string): number {
  const v = net.sysctl[key];
  if (v === undefined) return 0;
  const n = parseInt(v, 10);
  return Number.isNaN(n) ? 0 : n;
}

/** Mode and write rule of an existing key, or undefined. */
export function sysctlSpec(net: NetState, key: string): SysctlSpec | undefined {
  if (!(key in net.sysctl)) return undefined;
  const d = deviceKey(key);
  if (d) return TEMPLATE_SPECS[d.kind].get(d.name);
  return GLOBAL_SPECS.get(key);
}

/** Every existing key in `sysctl -a` order (each path component compared as bytes). */
export function sysctlKeys(net: NetState): string[] {
  return Object.keys(net.sysctl).sort(compareKeys);
}

function compareKeys(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** True when `prefix` names a directory (some key lies below it). */
export function sysctlIsDirectory(net: NetState, prefix: string): boolean {
  const p = `${prefix}.`;
  for (const k in net.sysctl) if (k.startsWith(p)) return true;
  return false;
}

/** Result of a write: undefined on success, else the errno name the kernel returns. */
export type SysctlWriteError = 'EINVAL' | 'EPERM' | 'ENOENT' | 'EACCES';

const INT_MIN = -2147483648;
const INT_MAX = 2147483647;

/**
 * Parses one integer as the kernel's proc handlers do: optional '-', then a C
 * number (0x hex, leading-0 octal, decimal); returns the value and the rest.
 */
function parseProcInt(text: string): { value: number; rest: string } | undefined {
  const m = /^(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (!m) return undefined;
  const body = m[2]!;
  let v: number;
  if (/^0[xX]/.test(body)) v = parseInt(body.slice(2), 16);
  else if (body.length > 1 && body[0] === '0') v = parseInt(body, 8);
  else v = parseInt(body, 10);
  const rest = text.slice(m[0].length);
  if (rest !== '' && !/^\s/.test(rest)) return undefined;
  return { value: m[1] === '-' ? -v : v, rest };
}

function normalise(v: number, kind: string): number {
  if (kind === 'b') return v !== 0 ? 1 : 0;
  if (kind === 'm') return Math.ceil(v / 4) * 4;
  if (kind === 'u') return Math.trunc(Math.floor((v * 250) / 100) * 100 / 250);
  return v;
}

/**
 * Writes `text` (as `sysctl -w` writes it, a newline appended) to an
 * existing, writable key, with the kernel's parsing and side effects.
 */
export function sysctlWrite(net: NetState, key: string, text: string): SysctlWriteError | undefined {
  const spec = sysctlSpec(net, key);
  if (!spec) return 'ENOENT';
  // devinet_conf_proc marks an IPv4 conf value as written even when the
  // write itself fails.
  if (/^net\.ipv4\.conf\.[^.]+\.(?!forwarding$)[^.]+$/.test(key) && !key.startsWith('net.ipv4.conf.all.')) {
    net.sysctlSet[key] = true;
  }
  const old = net.sysctl[key]!;
  const input = text.replace(/\n$/, '');
  let stored: string;
  if (key === 'net.ipv4.route.flush' || key === 'net.ipv6.route.flush') return undefined;
  if (spec.rule !== '' && spec.rule !== 'ro') {
    const parts = spec.rule.split(':');
    // The probe wrote single values; a port range is checked as a pair below.
    const pair = key === 'net.ipv4.ip_local_port_range';
    const min = pair ? 0 : Number(parts[0]);
    const max = pair ? 65535 : Number(parts[1]);
    const kind = parts[2] ?? '';
    const oldValues = old.split('\t');
    const values: number[] = [];
    let rest = input.replace(/^\s+/, '');
    while (rest !== '' && values.length < oldValues.length) {
      const p = parseProcInt(rest);
      if (!p) {
        if (values.length === 0) return 'EINVAL';
        break;
      }
      if (p.value < INT_MIN || p.value > INT_MAX || p.value < min || p.value > max) return 'EINVAL';
      values.push(normalise(p.value, kind));
      rest = p.rest.replace(/^\s+/, '');
    }
    if (values.length === 0) return 'EINVAL';
    const specialError = checkSpecial(net, key, values);
    if (specialError) return specialError;
    const merged = oldValues.map((o, i) => (i < values.length ? String(values[i]) : o));
    stored = merged.join('\t');
  } else {
    const specialError = checkString(key, input);
    if (specialError) return specialError;
    stored = input.trim();
  }
  net.sysctl[key] = stored;
  applySideEffects(net, key, stored);
  return undefined;
}

function checkSpecial(net: NetState, key: string, values: number[]): SysctlWriteError | undefined {
  if (key === 'net.ipv4.ip_local_port_range') {
    const old = net.sysctl[key]!.split('\t').map(Number);
    const lo = values[0]!;
    const hi = values[1] ?? old[1]!;
    if (hi < lo || lo < sysctlInt(net, 'net.ipv4.ip_unprivileged_port_start')) return 'EINVAL';
  }
  return undefined;
}

function checkString(key: string, value: string): SysctlWriteError | undefined {
  if (key === 'net.ipv4.tcp_congestion_control') {
    const v = value.trim();
    if (v === 'reno' || v === 'bbr') return undefined;
    if (v === 'cubic') return 'EPERM';
    return 'ENOENT';
  }
  return undefined;
}

function applySideEffects(net: NetState, key: string, value: string): void {
  const s = net.sysctl;
  const d = deviceKey(key);
  if (d) {
    net.sysctlSet[key] = true;
    return;
  }
  if (key === 'net.ipv4.ip_forward' || key === 'net.ipv4.conf.all.forwarding') {
    s['net.ipv4.ip_forward'] = value;
    s['net.ipv4.conf.all.forwarding'] = value;
    s['net.ipv4.conf.all.accept_redirects'] = value !== '0' ? '0' : '1';
    s['net.ipv4.conf.default.forwarding'] = value;
    for (const link of net.links) {
      const k = `net.ipv4.conf.${link.name}.forwarding`;
      if (k in s) s[k] = value;
    }
    return;
  }
  if (key === 'net.ipv6.conf.all.forwarding') {
    s['net.ipv6.conf.default.forwarding'] = value;
    for (const link of net.links) {
      const k = `net.ipv6.conf.${link.name}.forwarding`;
      if (k in s) s[k] = value;
    }
    return;
  }
  const m = /^net\.ipv4\.conf\.default\.([^.]+)$/.exec(key);
  if (m) net.sysctlSet[key] = true;
  if (m && m[1] !== 'forwarding') {
    // devinet_copy_dflt_conf: every device that never had its own value written follows.
    for (const link of net.links) {
      const k = `net.ipv4.conf.${link.name}.${m[1]}`;
      if (k in s && !net.sysctlSet[k]) s[k] = value;
    }
  }
}
