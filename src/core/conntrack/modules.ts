/**
 * Kernel modules as a user of a modular distribution kernel (Debian 12's
 * 6.1 amd64 kernel) sees them: `modprobe nf_conntrack_ftp` loads the
 * helper and what it depends on, `lsmod` lists them, and their
 * parameters appear under /sys/module/NAME/parameters/. Netfilter itself
 * is always there in nflab (as if built in); the module list only
 * records what modprobe loaded, with its parameters (HostState.modules).
 *
 * The sizes are those of plausible module builds; they are not measured
 * on a real kernel here (the reference machine has everything built in).
 */
import type { Ruleset } from '../netfilter/ruleset.js';
import type { HostState, ModuleState } from '../world/state.js';
import type { Conn } from './types.js';

/** The kernel release module paths are under (/lib/modules/RELEASE). */
export const KERNEL_RELEASE = '6.1.0-18-amd64';

/** What nflab knows of a module: where its file is, its size, what it needs, its parameters. */
export interface ModuleInfo {
  /** Path under /lib/modules/RELEASE/. */
  path: string;
  /** Size as lsmod shows it (bytes of its core). */
  size: number;
  /** Modules it needs, loaded first (in modules.dep order). */
  deps: string[];
  /** Parameters and their defaults as /sys/module/NAME/parameters shows them (only readable ones). */
  params: Record<string, ParamInfo>;
}

/** A module parameter. */
export interface ParamInfo {
  kind: 'bool' | 'ushort-array' | 'uint';
  /** Default value as the parameter file shows it. */
  dflt: string;
  /** Most elements of an array parameter. */
  max?: number;
}

const NF = 'kernel/net/netfilter/';

/** The modules nflab models. */
export const MODULES: Record<string, ModuleInfo> = {
  libcrc32c: { path: 'kernel/lib/libcrc32c.ko', size: 16384, deps: [], params: {} },
  nf_defrag_ipv4: { path: 'kernel/net/ipv4/netfilter/nf_defrag_ipv4.ko', size: 16384, deps: [], params: {} },
  nf_defrag_ipv6: { path: 'kernel/net/ipv6/netfilter/nf_defrag_ipv6.ko', size: 24576, deps: [], params: {} },
  nf_conntrack: {
    path: NF + 'nf_conntrack.ko',
    size: 184320,
    deps: ['nf_defrag_ipv6', 'nf_defrag_ipv4', 'libcrc32c'],
    params: {
      acct: { kind: 'bool', dflt: 'N' },
      expect_hashsize: { kind: 'uint', dflt: '1024' },
      hashsize: { kind: 'uint', dflt: '262144' },
      tstamp: { kind: 'bool', dflt: 'N' },
    },
  },
  nf_nat: { path: NF + 'nf_nat.ko', size: 57344, deps: ['nf_conntrack', 'libcrc32c'], params: {} },
  nf_conntrack_ftp: {
    path: NF + 'nf_conntrack_ftp.ko',
    size: 24576,
    deps: ['nf_conntrack'],
    params: { ports: { kind: 'ushort-array', dflt: '21', max: 8 }, loose: { kind: 'bool', dflt: 'N' } },
  },
  nf_nat_ftp: { path: NF + 'nf_nat_ftp.ko', size: 20480, deps: ['nf_nat', 'nf_conntrack_ftp', 'nf_conntrack'], params: {} },
  nf_conntrack_tftp: { path: NF + 'nf_conntrack_tftp.ko', size: 20480, deps: ['nf_conntrack'], params: { ports: { kind: 'ushort-array', dflt: '69', max: 8 } } },
  nf_nat_tftp: { path: NF + 'nf_nat_tftp.ko', size: 16384, deps: ['nf_conntrack_tftp', 'nf_nat', 'nf_conntrack'], params: {} },
  nf_conntrack_irc: {
    path: NF + 'nf_conntrack_irc.ko',
    size: 20480,
    deps: ['nf_conntrack'],
    params: { ports: { kind: 'ushort-array', dflt: '6667', max: 8 }, max_dcc_channels: { kind: 'uint', dflt: '8' }, dcc_timeout: { kind: 'uint', dflt: '300' } },
  },
  nf_nat_irc: { path: NF + 'nf_nat_irc.ko', size: 16384, deps: ['nf_conntrack_irc', 'nf_nat', 'nf_conntrack'], params: {} },
  nf_conntrack_sip: { path: NF + 'nf_conntrack_sip.ko', size: 45056, deps: ['nf_conntrack'], params: { ports: { kind: 'ushort-array', dflt: '5060', max: 8 } } },
  nf_nat_sip: { path: NF + 'nf_nat_sip.ko', size: 20480, deps: ['nf_conntrack_sip', 'nf_nat', 'nf_conntrack'], params: {} },
};

/** Old names modprobe still resolves (module aliases). */
export const MODULE_ALIASES: Record<string, string> = {
  ip_conntrack_ftp: 'nf_conntrack_ftp',
  ip_nat_ftp: 'nf_nat_ftp',
  'nfct-helper-ftp': 'nf_conntrack_ftp',
  'nfct-helper-tftp': 'nf_conntrack_tftp',
  'nfct-helper-irc': 'nf_conntrack_irc',
  'nfct-helper-sip': 'nf_conntrack_sip',
  ip_conntrack: 'nf_conntrack',
};

/** The module a name given to modprobe means (dashes are underscores; aliases resolved), or undefined. */
export function resolveModule(name: string): string | undefined {
  const n = name.replace(/-/g, '_');
  if (MODULES[n]) return n;
  return MODULE_ALIASES[name] ?? MODULE_ALIASES[n];
}

/** The loaded modules, most recently loaded first (the order of /proc/modules and lsmod). */
export function loadedModules(host: HostState): ModuleState[] {
  return [...(host.modules ?? [])].reverse();
}

/** The loaded modules that depend on `name`, most recently loaded first. */
export function moduleHolders(host: HostState, name: string): string[] {
  return loadedModules(host)
    .filter((m) => MODULES[m.name]?.deps.includes(name))
    .map((m) => m.name);
}

/** A loaded module's parameter as its file shows it (without the newline). */
export function moduleParam(host: HostState, module: string, param: string): string | undefined {
  const m = host.modules?.find((x) => x.name === module);
  const info = MODULES[module]?.params[param];
  if (!m || !info) return undefined;
  const given = m.params[param];
  if (given === undefined) return info.dflt;
  if (info.kind === 'bool') return /^(1|y|Y|on)$/.test(given) || given === '' ? 'Y' : 'N';
  if (info.kind === 'ushort-array') return given.split(',').map((p) => String(Number(p) & 0xffff)).join(',');
  return String(Number(given) >>> 0);
}

/**
 * The helper names a loaded helper module registers: "ftp" for its
 * default port, "ftp-PORT" for each other port of `ports=`.
 */
export function helperNames(host: HostState): string[] {
  const out: string[] = [];
  const helpers: [string, string, number][] = [
    ['nf_conntrack_ftp', 'ftp', 21],
    ['nf_conntrack_tftp', 'tftp', 69],
    ['nf_conntrack_irc', 'irc', 6667],
    ['nf_conntrack_sip', 'sip', 5060],
  ];
  for (const [module, base, dflt] of helpers) {
    const ports = moduleParam(host, module, 'ports');
    if (ports === undefined) continue;
    for (const p of ports.split(',')) out.push(Number(p) === dflt ? base : `${base}-${p}`);
  }
  return out;
}

/**
 * The /sys and /proc files of the loaded modules, by path, with their
 * contents: /sys/module/NAME/parameters/PARAM for each parameter,
 * /sys/module/NAME/refcnt, and /proc/modules.
 */
export function moduleFiles(host: HostState): Record<string, string> {
  const files: Record<string, string> = {};
  let procModules = '';
  for (const m of loadedModules(host)) {
    const info = MODULES[m.name];
    if (!info) continue;
    for (const p of Object.keys(info.params)) files[`/sys/module/${m.name}/parameters/${p}`] = `${moduleParam(host, m.name, p)}\n`;
    const holders = moduleHolders(host, m.name);
    files[`/sys/module/${m.name}/refcnt`] = `${holders.length}\n`;
    files[`/sys/module/${m.name}/initstate`] = 'live\n';
    const deps = holders.length ? holders.map((h) => h + ',').join('') : '-';
    procModules += `${m.name} ${info.size} ${holders.length} ${deps} Live 0x0000000000000000\n`;
  }
  files['/proc/modules'] = procModules;
  return files;
}

/** `lsmod`'s output for the host. */
export function lsmodText(host: HostState): string {
  let s = 'Module                  Size  Used by\n';
  for (const m of loadedModules(host)) {
    const info = MODULES[m.name];
    if (!info) continue;
    const holders = moduleHolders(host, m.name);
    s += `${m.name.padEnd(19)} ${String(info.size).padStart(8)}  ${holders.length}`;
    if (holders.length) s += ' ' + holders.join(',');
    s += '\n';
  }
  return s;
}

/**
 * Why loading a helper module alone does nothing on this kernel, for a
 * user who asks (for `nflab explain` or a trace note): helpers are
 * attached to connections only by a rule in the raw table.
 */
export function helperAssignmentNote(helper = 'ftp', port = 21): string {
  const proto = helper === 'tftp' ? 'udp' : 'tcp';
  return (
    `Conntrack helpers are no longer attached to connections by port: Linux 4.7 turned that off by default and ` +
    `current kernels removed it (the nf_conntrack_helper sysctl and module parameter are gone), so loading ` +
    `nf_conntrack_${helper} only makes the "${helper}" helper available. ` +
    `Attach it with a rule in the raw table, e.g. ` +
    `iptables -t raw -A PREROUTING -p ${proto} --dport ${port} -j CT --helper ${helper} ` +
    `(and -A OUTPUT for connections this host opens); then the data connections it announces are RELATED.`
  );
}

/**
 * Writes a module parameter file (`echo Y > /sys/module/nf_conntrack_ftp/parameters/loose`):
 * only parameters the kernel lets root change at run time (loose). Returns
 * null when written, or the errno name the write fails with.
 */
export function writeModuleFile(host: HostState, path: string, content: string): 'ENOENT' | 'EINVAL' | 'EACCES' | null {
  const m = /^\/sys\/module\/([a-z0-9_]+)\/parameters\/([a-z0-9_]+)$/.exec(path);
  if (!m) return 'ENOENT';
  const [, module, param] = m;
  const loaded = host.modules?.find((x) => x.name === module);
  const info = MODULES[module!]?.params[param!];
  if (!loaded || !info) return 'ENOENT';
  if (!(module === 'nf_conntrack_ftp' && param === 'loose')) return 'EACCES';
  const v = content.trim();
  if (!/^(y|Y|n|N|1|0|on|off)$/.test(v)) return 'EINVAL';
  loaded.params[param!] = /^(y|Y|1|on)$/.test(v) ? 'Y' : 'N';
  return null;
}

/**
 * The note to show a user whose connection to a helper's port got no
 * helper although the helper module is loaded (the tutorials' advice of
 * `modprobe nf_conntrack_ftp` alone): helperAssignmentNote for that
 * helper and port, or null when it does not apply.
 */
export function missingHelperNote(host: HostState, conn: Conn): string | null {
  if (conn.helper !== '' || conn.master !== 0) return null;
  const helpers: [string, string, number][] = [
    ['nf_conntrack_ftp', 'ftp', 6],
    ['nf_conntrack_tftp', 'tftp', 17],
  ];
  for (const [module, helper, proto] of helpers) {
    if (conn.orig.proto !== proto) continue;
    const ports = moduleParam(host, module, 'ports');
    if (ports === undefined) continue;
    if (ports.split(',').map(Number).includes(conn.orig.dport)) return helperAssignmentNote(helper, conn.orig.dport);
  }
  return null;
}

/** The helpers the raw table's CT rules attach (`-j CT --helper NAME`), in rule order. */
export function helpersNamedByRules(rs: Ruleset): string[] {
  const raw = rs.tables.raw;
  if (!raw) return [];
  const out: string[] = [];
  for (const c of [...Object.values(raw.builtins), ...raw.user]) {
    for (const r of c!.rules) {
      const helper = r.target.kind === 'ext' && r.target.name === 'CT' ? (r.target.info as { helper?: string }).helper : undefined;
      if (helper) out.push(helper);
    }
  }
  return out;
}

/**
 * What the kernel's request_module("nfct-helper-NAME") does when a CT rule
 * names a helper whose module is not loaded: loads it (and what it needs)
 * with default parameters. Returns whether the host's modules changed.
 */
export function autoloadHelperModule(host: HostState, helper: string): boolean {
  const dash = helper.lastIndexOf('-');
  const base = dash > 0 && /^[0-9]+$/.test(helper.slice(dash + 1)) ? helper.slice(0, dash) : helper;
  const module = MODULE_ALIASES[`nfct-helper-${base}`];
  if (!module || host.modules?.some((m) => m.name === module)) return false;
  const order: string[] = [];
  const walk = (n: string): void => {
    for (const d of [...MODULES[n]!.deps].reverse()) walk(d);
    if (!order.includes(n)) order.push(n);
  };
  walk(module);
  const list = (host.modules ??= []);
  for (const n of order) if (!list.some((m) => m.name === n)) list.push({ name: n, params: {} });
  return true;
}
