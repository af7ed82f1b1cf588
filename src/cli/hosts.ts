/**
 * `nflab host` and `nflab wire`: the lab's separate machines and the
 * cables between them. A host has its own files (<lab>/hosts/NAME/fs), its
 * own kernel (log, modules, namespaces) and its own hostname; commands run
 * on it with `nflab --host NAME ...`. A wire joins interfaces of hosts: two
 * ends make a cable, more make a switched segment (a learning switch).
 */
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_HOST, freshMacBlock, INIT_NETNS, newHostState, type WireEnd, type WorldState } from '../core/world/state.js';
import { addWiredLink } from '../core/world/wires.js';
import { emptyNetState } from '../core/net/state.js';
import { appendKernelLog, newMachineState } from '../core/path/machine.js';
import { runLsmod, runModprobe } from './modprobe.js';
import { withSession, type SessionOutcome } from './lab/session.js';
import { hostDir, initHostFiles, labFile } from './lab/store.js';
import type { MachineResult } from './machine.js';
import { bootTime } from './world-run.js';

const HOST_USAGE = 'Usage: nflab host add NAME... | del NAME... | list\n';
const WIRE_USAGE = 'Usage: nflab wire add NAME HOST:IFACE HOST:IFACE... | del NAME... | list\n';

/** A host name the lab accepts (it becomes a directory and a hostname). */
function validHostName(name: string): boolean {
  return /^[a-zA-Z0-9][a-zA-Z0-9.-]{0,62}$/.test(name) && !name.includes('..');
}

function fail(text: string, status = 1): MachineResult {
  return { stdout: '', stderr: text, status };
}

/** `nflab host add|del|list`. `lab` is the lab's root (or a host's directory). */
export function runHost(argv: string[], lab: string): MachineResult {
  const verb = argv[0] ?? 'list';
  const names = argv.slice(1);
  if (!['add', 'del', 'delete', 'list', 'ls'].includes(verb)) return fail(HOST_USAGE, 2);
  return withSession(lab, (s) => {
    let changed = false;
    const done = (result: MachineResult): SessionOutcome<MachineResult> => ({ result, changed });
    const w = s.world;
    if (verb === 'list' || verb === 'ls') return done({ stdout: Object.keys(w.hosts).map((h) => h + '\n').join(''), stderr: '', status: 0 });
    if (names.length === 0) return done(fail(HOST_USAGE, 2));
    for (const name of names) {
      if (verb === 'add') {
        if (!validHostName(name)) return done(fail(`nflab host: invalid host name '${name}'\n`));
        if (w.hosts[name]) return done(fail(`nflab host: host '${name}' already exists\n`));
      } else {
        if (name === DEFAULT_HOST) return done(fail(`nflab host: the first host '${DEFAULT_HOST}' cannot be deleted\n`));
        if (!w.hosts[name]) return done(fail(`nflab host: no host '${name}'\n`));
      }
    }
    for (const name of names) {
      const dir = hostDir(s.root, name);
      if (verb === 'add') {
        const h = newHostState();
        // the host boots now, at the lab's present time
        const ms = newMachineState(bootTime());
        ms.net = emptyNetState();
        ms.net.macCounter = freshMacBlock(w);
        ms.clockNs = Math.max(0, ...Object.values(w.hosts).map((x) => x.netns[INIT_NETNS]?.machine?.clockNs ?? 0));
        ms.bootWall = w.hosts[DEFAULT_HOST]!.netns[INIT_NETNS]?.machine?.bootWall ?? ms.bootWall;
        h.netns[INIT_NETNS]!.machine = ms;
        w.hosts[name] = h;
        mkdirSync(join(dir, 'fs', 'etc'), { recursive: true });
        writeFileSync(join(dir, '.host'), name + '\n');
        initHostFiles(dir);
        if (!existsSync(labFile(dir, '/etc/hostname'))) writeFileSync(labFile(dir, '/etc/hostname'), name + '\n');
      } else {
        delete w.hosts[name];
        w.wires = w.wires.filter((wire) => !wire.ends.some((e) => e.host === name));
        rmSync(dir, { recursive: true, force: true });
      }
    }
    changed = true;
    return done({ stdout: '', stderr: '', status: 0 });
  });
}

/** `nflab wire add NAME HOST:IFACE...|del NAME...|list`. */
export function runWire(argv: string[], lab: string): MachineResult {
  const verb = argv[0] ?? 'list';
  if (!['add', 'del', 'delete', 'list', 'ls'].includes(verb)) return fail(WIRE_USAGE, 2);
  return withSession(lab, (s) => {
    let changed = false;
    const done = (result: MachineResult): SessionOutcome<MachineResult> => ({ result, changed });
    const w = s.world;
    if (verb === 'list' || verb === 'ls') {
      const out = w.wires.map((wire) => `${wire.name}: ${wire.ends.map((e) => endName(w, e)).join(' ')}\n`).join('');
      return done({ stdout: out, stderr: '', status: 0 });
    }
    if (verb === 'del' || verb === 'delete') {
      const names = argv.slice(1);
      if (names.length === 0) return done(fail(WIRE_USAGE, 2));
      for (const n of names) if (!w.wires.some((x) => x.name === n)) return done(fail(`nflab wire: no wire '${n}'\n`));
      w.wires = w.wires.filter((x) => !names.includes(x.name));
      changed = true;
      return done({ stdout: '', stderr: '', status: 0 });
    }
    const [name, ...specs] = argv.slice(1);
    if (!name || specs.length < 2) return done(fail(WIRE_USAGE, 2));
    if (w.wires.some((x) => x.name === name)) return done(fail(`nflab wire: wire '${name}' already exists\n`));
    const ends: WireEnd[] = [];
    const seen = new Set<string>();
    for (const spec of specs) {
      const m = /^([^:]+):(.+)$/.exec(spec);
      if (!m) return done(fail(`nflab wire: '${spec}' is not HOST:IFACE\n`, 2));
      const [, host, iface] = m as unknown as [string, string, string];
      if (!w.hosts[host]) return done(fail(`nflab wire: no host '${host}'\n`));
      if (seen.has(spec)) return done(fail(`nflab wire: ${spec} named twice\n`));
      seen.add(spec);
      const ns = w.hosts[host]!.netns[INIT_NETNS]!;
      ns.machine ??= newMachineState(bootTime());
      const e = addWiredLink(ns.machine.net, iface, w, host);
      if (typeof e === 'string') return done(fail(`nflab wire: ${host}:${iface}: ${e}\n`));
      ends.push({ host, netns: INIT_NETNS, ifindex: e });
    }
    w.wires.push({ name, ends });
    changed = true;
    return done({ stdout: '', stderr: '', status: 0 });
  });
}

function endName(w: WorldState, e: WireEnd): string {
  const link = w.hosts[e.host]?.netns[e.netns]?.machine?.net.links.find((l) => l.index === e.ifindex);
  return `${e.host}${e.netns ? `/${e.netns}` : ''}:${link ? link.name : `if${e.ifindex}`}`;
}

/**
 * `modprobe`, `rmmod` (as `modprobe -r`) and `lsmod` on the host of `dir`:
 * modules belong to the host's kernel, whatever namespace runs them.
 */
export function runModuleCommand(tool: string, argv: string[], dir: string): MachineResult {
  return withSession(dir, (s) => {
    let changed = false;
    const done = (result: MachineResult): SessionOutcome<MachineResult> => ({ result, changed });
    const host = s.world.hosts[s.host]!;
    if (tool === 'insmod') return done(fail(`insmod: ERROR: could not load module ${argv[0] ?? ''}: No such file or directory\n`));
    const r = tool === 'lsmod' ? runLsmod(argv, host) : runModprobe(tool === 'rmmod' ? ['-r', ...argv] : argv, host);
    if (r.kmsg.length) {
      const ns = host.netns[INIT_NETNS]!;
      ns.machine ??= newMachineState(bootTime());
      for (const line of r.kmsg) appendKernelLog(ns.machine, 4, line);
    }
    changed = r.changed || r.kmsg.length > 0;
    return done({ stdout: r.stdout, stderr: r.stderr, status: r.status });
  });
}
