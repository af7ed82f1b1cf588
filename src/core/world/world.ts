/**
 * The lab running: every network namespace of every host as a Machine,
 * all on one virtual clock, with the frames they transmit carried to the
 * other end of their veth or wire, and programs (clients and daemons)
 * running as tasks on the same clock.
 *
 * One event queue orders everything: frames in flight (each hop costs
 * HOP_NS), the stacks' timers, the programs' waits; the machines' own
 * timers (ARP retries) run as the clock passes them. Nothing here waits
 * for real time: minutes of timeouts pass in an instant.
 */
import { appendKernelLog, Machine, newMachineState, type MachineState } from '../path/machine.js';
import { parseHosts } from '../xt/namedb.js';
import { moduleParam } from '../conntrack/modules.js';
import { parseIPv4Numeric } from '../addr/ipv4.js';
import type { SocketDemux, SocketLayer, StackEnv, Errno, TcpSocket } from '../stack/api.js';
import type { HostFs, Program, ProgramBody, ProgramContext, TappedFrame, Wait } from '../programs/api.js';
import { EventQueue } from './event-queue.js';
import { allNamespaces, INIT_NETNS, logsAllNamespaces, type NsRef, type NsState, type ProcState, type WorldState } from './state.js';
import { SwitchTable } from './switch.js';

/** What one hop across a veth or a wire costs in virtual time (ns). */
export const HOP_NS = 10_000;

/** How long after its foreground program ends a command lets frames in flight settle (ns). */
const SETTLE_NS = 50_000_000;

/** How long a command lets programs it started in the background run before it returns (ns). */
const BACKGROUND_START_NS = 1_000_000_000;

/** What the world needs from its surroundings (the CLI gives files and output; tests give fakes). */
export interface WorldEnv {
  /** A host's files. */
  fs(host: string): HostFs;
  /** A host's name as `hostname` prints it. */
  hostname(host: string): string;
  /** Output of the programs, foreground and background, in the order it happens. */
  write(fd: 1 | 2, text: string): void;
  /** Wall clock (seconds since the epoch) a machine booted for the first time now boots at. */
  bootWall(): number;
  /** Creates a namespace's sockets. */
  createSockets(env: StackEnv): SocketLayer & SocketDemux;
  /** The program a name runs, if the lab has it. */
  program(name: string): Program | undefined;
  /**
   * What a program does when a signal ends it (prints a summary), if
   * anything; returns its exit status. `ctrlC`: interrupted at the
   * terminal (the lab had nothing more for a foreground program to wait for).
   */
  onStop?(name: string): ((ctx: ProgramContext, opts?: { ctrlC?: boolean }) => number) | undefined;
}

/** A network namespace while the world runs. */
export class NsRuntime {
  /** Frame listeners (captures). */
  readonly taps = new Set<{ iface: string | null; fn: (f: TappedFrame) => void }>();
  /** The namespace's sockets. */
  sockets!: SocketLayer & SocketDemux;

  constructor(
    readonly ref: NsRef,
    readonly state: NsState,
    readonly machine: Machine,
  ) {}
}

/** A program running on the world's clock. */
class Task {
  done = false;
  status = 0;
  /** Kept between commands (a daemon, or started with `&`). */
  background = false;
  proc: ProcState | null = null;
  /** Increments with each wait, so a stale timer does not wake a later wait. */
  waitSeq = 0;
  ready = false;
  body!: ProgramBody;
  ctx!: ProgramContext;

  constructor(
    readonly world: World,
    readonly pid: number,
    readonly ns: NsRuntime,
  ) {}

  wake(): void {
    this.world.makeReady(this);
  }
}

/** The lab's hosts and namespaces running together. */
export class World {
  private readonly runtimes = new Map<string, NsRuntime>();
  private readonly queue = new EventQueue();
  private readonly readyTasks: Task[] = [];
  private readonly tasks = new Map<string, Task>();
  private readonly switches = new Map<string, SwitchTable>();
  private nowNs = 0;

  constructor(
    readonly state: WorldState,
    private readonly env: WorldEnv,
  ) {
    // one clock: the furthest any namespace has been
    for (const { ns } of allNamespaces(state)) if (ns.machine && ns.machine.clockNs > this.nowNs) this.nowNs = ns.machine.clockNs;
    for (const { ref, ns } of allNamespaces(state)) if (ns.machine) this.runtime(ref);
  }

  /** Virtual time, ns since boot. */
  now(): number {
    return this.nowNs;
  }

  private key(ref: NsRef): string {
    return `${ref.host}\u0000${ref.netns}`;
  }

  /** The running namespace `ref` names (its machine booted on first use). */
  runtime(ref: NsRef): NsRuntime {
    const k = this.key(ref);
    let rt = this.runtimes.get(k);
    if (rt) return rt;
    const host = this.state.hosts[ref.host];
    const ns = host?.netns[ref.netns];
    if (!host || !ns) throw new Error(`no namespace ${ref.netns || '(init)'} on host ${ref.host}`);
    const hostState = this.machineState({ host: ref.host, netns: INIT_NETNS });
    const ms = ref.netns === INIT_NETNS ? hostState : this.machineState(ref, hostState);
    const machine = new Machine(ms, ns.ruleset, {
      recordSent: false,
      moduleParam: (module, param) => moduleParam(host, module, param),
      onTransmit: (iface, frame) => this.transmitted(ref, iface, frame),
      printk: ref.netns === INIT_NETNS ? undefined : (level, text) => appendKernelLog(hostState, level, text),
      logPacket:
        ref.netns === INIT_NETNS
          ? undefined
          : (level, text) => {
              if (logsAllNamespaces(hostState.net)) appendKernelLog(hostState, level, text);
            },
    });
    machine.advanceTo(this.nowNs);
    rt = new NsRuntime(ref, ns, machine);
    rt.sockets = this.env.createSockets(this.stackEnv(rt));
    machine.sockets = rt.sockets;
    this.runtimes.set(k, rt);
    return rt;
  }

  /** The machine state of a namespace, created on first use (a namespace shares its host's boot time). */
  private machineState(ref: NsRef, hostState?: MachineState): MachineState {
    const ns = this.state.hosts[ref.host]!.netns[ref.netns]!;
    if (!ns.machine) {
      ns.machine = newMachineState(hostState ? hostState.bootWall : this.env.bootWall());
      ns.machine.clockNs = this.nowNs;
    }
    return ns.machine;
  }

  private stackEnv(rt: NsRuntime): StackEnv {
    const m = rt.machine;
    return {
      nowNs: () => this.nowNs,
      random32: () => m.random32(),
      setTimer: (at, fn) => this.queue.push(Math.max(at, this.nowNs), fn),
      clearTimer: (h) => this.queue.cancel(h),
      output: (datagram, owner) => m.output(datagram, owner ? { uid: owner.uid, gid: owner.gid } : null) as Errno | null,
      route: (dst) => {
        const r = m.ops.routeOutput(dst);
        if (r.kind === 'drop') return { errno: (r.errno ?? 'ENETUNREACH') as Errno };
        return { src: r.src, dev: r.dev, mtu: m.ops.mtu(r.dev) };
      },
      isLocalAddress: (addr) => m.net.links.some((l) => l.inet.some((a) => a.local === addr >>> 0)),
      sysctl: (key) => m.net.sysctl[key],
    };
  }

  // ---- frames between namespaces ----

  /** A frame `ref` put on `iface`: it reaches the other end of the veth or wire one hop later. */
  private transmitted(ref: NsRef, iface: string, frame: Uint8Array): void {
    const rt = this.runtime(ref);
    const link = rt.machine.ops.link(iface);
    if (!link) return;
    const copy = frame.slice();
    const at = this.nowNs + HOP_NS;
    if (link.kind === 'veth' && link.peer !== undefined) {
      const peerRef = { host: ref.host, netns: link.peerNetns ?? ref.netns };
      const peerIndex = link.peer;
      this.queue.push(at, () => this.deliver(peerRef, peerIndex, copy));
      return;
    }
    for (const w of this.state.wires) {
      const from = w.ends.findIndex((e) => e.host === ref.host && e.netns === ref.netns && e.ifindex === link.index);
      if (from < 0) continue;
      let sw = this.switches.get(w.name);
      if (!sw) this.switches.set(w.name, (sw = new SwitchTable()));
      for (const to of sw.forward(from, copy, w.ends.length)) {
        const end = w.ends[to]!;
        this.queue.push(at, () => this.deliver({ host: end.host, netns: end.netns }, end.ifindex, copy.slice()));
      }
    }
  }

  /** A frame arrives on the interface with index `ifindex` of `ref` (dropped when it is gone or down). */
  private deliver(ref: NsRef, ifindex: number, frame: Uint8Array): void {
    if (!this.state.hosts[ref.host]?.netns[ref.netns]) return;
    const rt = this.runtime(ref);
    const link = rt.machine.net.links.find((l) => l.index === ifindex);
    if (!link || !link.up) return;
    rt.machine.receive(link.name, frame);
  }

  private tapFrame(rt: NsRuntime, iface: string, dir: 'in' | 'out', frame: Uint8Array): void {
    const f: TappedFrame = { iface, dir, frame: frame.slice(), ns: this.nowNs };
    for (const t of rt.taps) if (t.iface === null || t.iface === iface) t.fn(f);
  }

  // ---- the clock ----

  /** Moves every machine's clock to `at`, running their timers on the way. */
  private setTime(at: number): void {
    if (at < this.nowNs) return;
    this.nowNs = at;
    for (const rt of this.runtimes.values()) rt.machine.advanceTo(at);
  }

  /** The next moment something is due: a queued event or a machine's timer. */
  private nextDue(): number {
    let next = this.queue.nextAt();
    for (const rt of this.runtimes.values()) {
      const t = rt.machine.ops.nextTimer();
      if (t < next) next = t;
    }
    return next;
  }

  /**
   * Runs the world: ready programs, then the next due events, until `stop`
   * says so or nothing is due before `limitNs` (the clock then stays at
   * the last event; with `advance`, it moves on to `limitNs`).
   */
  run(stop: () => boolean, limitNs = Infinity, advance = false): void {
    for (;;) {
      this.runReady();
      if (stop()) return;
      const next = this.nextDue();
      if (next > limitNs || next === Infinity) {
        if (advance && limitNs !== Infinity) {
          this.setTime(limitNs);
          this.runReady();
        }
        return;
      }
      this.setTime(Math.max(next, this.nowNs));
      for (;;) {
        const fn = this.queue.popDue(this.nowNs);
        if (!fn) break;
        fn();
        this.runReady();
      }
    }
  }

  /** Advances the clock by `ns`, with everything due on the way (`sleep`). */
  sleep(ns: number): void {
    this.run(() => false, this.nowNs + ns, true);
  }

  // ---- programs ----

  /** Marks a task to run at the next chance. */
  makeReady(t: Task): void {
    if (t.done || t.ready) return;
    t.ready = true;
    this.readyTasks.push(t);
  }

  private runReady(): void {
    while (this.readyTasks.length) {
      const t = this.readyTasks.shift()!;
      t.ready = false;
      if (t.done) continue;
      this.step(t);
    }
  }

  private step(t: Task): void {
    let r: IteratorResult<Wait, number>;
    try {
      r = t.body.next();
    } catch (e) {
      this.finish(t, 1);
      t.ctx.err(`${t.ctx.argv[0]}: internal error: ${(e as Error).message}\n`);
      throw e;
    }
    if (r.done) return this.finish(t, r.value);
    const seq = ++t.waitSeq;
    const until = r.value.until;
    if (until <= this.nowNs) this.makeReady(t);
    else if (until !== Infinity) this.queue.push(until, () => t.waitSeq === seq && this.makeReady(t));
  }

  private finish(t: Task, status: number): void {
    t.done = true;
    t.status = status;
    this.tasks.delete(String(t.pid) + '@' + t.ns.ref.host);
    for (const stop of taskTaps.get(t) ?? []) stop();
    taskTaps.delete(t);
    if (t.proc) this.dropProc(t.ns.state, t.proc.pid);
  }

  private dropProc(ns: NsState, pid: number): void {
    if (!ns.procs) return;
    ns.procs = ns.procs.filter((p) => p.pid !== pid);
    if (ns.procs.length === 0) delete ns.procs;
  }

  private nextPid(host: string): number {
    const h = this.state.hosts[host]!;
    const pid = h.nextPid ?? 1000;
    h.nextPid = pid + 1;
    return pid;
  }

  /** Starts a program in `ref`; it runs as the world runs. */
  private spawnTask(ref: NsRef, program: Program, argv: string[], opts: { stdin?: string; resumed?: ProcState; pid?: number }): Task {
    const rt = this.runtime(ref);
    const pid = opts.resumed?.pid ?? opts.pid ?? this.nextPid(ref.host);
    const t = new Task(this, pid, rt);
    const world = this;
    const fs = this.env.fs(ref.host);
    const ctx: ProgramContext = {
      argv,
      pid,
      where: ref,
      hostname: this.env.hostname(ref.host),
      sockets: ownedSockets(rt.sockets, programName(argv[0]!), pid),
      machine: rt.machine,
      fs,
      stdin: opts.stdin ?? '',
      resumed: opts.resumed !== undefined,
      saved: opts.resumed?.saved,
      out: (text) => world.output(t, 1, text),
      err: (text) => world.output(t, 2, text),
      now: () => world.nowNs,
      wallSec: () => rt.machine.wallSec(),
      sleep: (ns) => ({ until: world.nowNs + ns }),
      until: (ns) => ({ until: ns }),
      background: (o) => world.keep(t, argv, o?.unit, o?.job),
      tap: (iface, fn) => {
        const entry = { iface, fn: (f: TappedFrame) => (fn(f), t.wake()) };
        rt.taps.add(entry);
        rt.machine.tap = (i, d, f) => world.tapFrame(rt, i, d, f);
        const stop = () => {
          rt.taps.delete(entry);
          if (rt.taps.size === 0) rt.machine.tap = null;
        };
        let list = taskTaps.get(t);
        if (!list) taskTaps.set(t, (list = []));
        list.push(stop);
        return stop;
      },
      random32: () => rt.machine.random32(),
      resolve: (name) => resolveName(fs, name),
      spawn: (p, args) => world.spawnTask(ref, p, args, {}).pid,
      wake: () => t.wake(),
    };
    t.ctx = ctx;
    t.body = program(ctx);
    if (opts.resumed) {
      t.background = true;
      t.proc = opts.resumed;
    }
    this.tasks.set(String(pid) + '@' + ref.host, t);
    this.makeReady(t);
    return t;
  }

  /** A program's output: into the file its background run was redirected to, else to the command's output. */
  private output(t: Task, fd: 1 | 2, text: string): void {
    const target = fd === 1 ? t.proc?.stdout : t.proc?.stderr;
    if (target === undefined) return this.env.write(fd, text);
    if (target !== '/dev/null') this.env.fs(t.ns.ref.host).append(target, text);
  }

  /** Records a task as a background program of its namespace. */
  private keep(t: Task, argv: string[], unit?: string, job?: number): void {
    if (t.background) return;
    t.background = true;
    const proc: ProcState = { pid: t.pid, program: programName(argv[0]!), argv, startedNs: this.nowNs };
    if (unit !== undefined) proc.unit = unit;
    if (job !== undefined) proc.job = job;
    t.proc = proc;
    (t.ns.state.procs ??= []).push(proc);
  }

  /** Restarts the background programs every namespace had (they go on where the last command left them). */
  resumeBackground(): void {
    for (const { ref, ns } of allNamespaces(this.state)) {
      for (const proc of [...(ns.procs ?? [])]) {
        const program = this.env.program(proc.program);
        if (!program) {
          this.dropProc(ns, proc.pid);
          continue;
        }
        this.spawnTask(ref, program, proc.argv, { resumed: proc });
      }
    }
    this.runReady();
  }

  /**
   * Runs a program in the foreground: the world runs until it exits, then
   * until what is in flight has settled. Its exit status is returned.
   */
  runForeground(ref: NsRef, program: Program, argv: string[], stdin = ''): number {
    const t = this.spawnTask(ref, program, argv, { stdin });
    // a daemon started by hand goes to the background and its command returns 0
    this.run(() => t.done || t.background);
    if (!t.done && !t.background) {
      // nothing more will ever come (a capture without -c): the user presses Ctrl-C
      const stop = this.env.onStop?.(programName(argv[0]!));
      const status = stop ? stop(t.ctx, { ctrlC: true }) : 130;
      t.body.return(status);
      this.finish(t, status);
    }
    this.run(() => false, this.nowNs + SETTLE_NS);
    return t.done ? t.status : 0;
  }

  /**
   * Starts a program in the background (`CMD &`, a daemon): it runs until
   * it waits for something that is not due, and is kept for later commands.
   */
  startBackground(ref: NsRef, program: Program, argv: string[], opts: { unit?: string; job?: number; stdin?: string; stdout?: string; stderr?: string } = {}): number {
    const t = this.spawnTask(ref, program, argv, { stdin: opts.stdin });
    this.keep(t, argv, opts.unit, opts.job);
    // what it prints while this command still runs is redirected by the command itself
    const proc = t.proc!;
    if (opts.stdout !== undefined) proc.stdout = opts.stdout;
    if (opts.stderr !== undefined) proc.stderr = opts.stderr;
    const later = { stdout: proc.stdout, stderr: proc.stderr };
    delete proc.stdout;
    delete proc.stderr;
    try {
      this.run(() => t.done || this.idle(), this.nowNs + BACKGROUND_START_NS);
    } finally {
      if (later.stdout !== undefined) proc.stdout = later.stdout;
      if (later.stderr !== undefined) proc.stderr = later.stderr;
    }
    return t.pid;
  }

  /** Nothing is due at the present instant. */
  private idle(): boolean {
    return this.readyTasks.length === 0 && this.nextDue() > this.nowNs;
  }

  /**
   * Ends a running program as a signal would: the program's stop hook
   * runs (what its signal handler prints), then its generator is closed.
   * Returns false when no such process runs on the host.
   */
  kill(host: string, pid: number): boolean {
    const t = this.tasks.get(String(pid) + '@' + host);
    if (!t || t.done) return false;
    const stop = this.env.onStop?.(programName(t.ctx.argv[0]!));
    try {
      if (stop) stop(t.ctx);
      t.body.return(143);
    } finally {
      this.finish(t, 143);
    }
    this.runReady();
    return true;
  }

  /** The job number a new background program of the shell gets: one past the highest still running (as bash numbers them). */
  nextJob(): number {
    let top = 0;
    for (const { ns } of allNamespaces(this.state)) for (const p of ns.procs ?? []) if (p.job !== undefined && p.job > top) top = p.job;
    return top + 1;
  }

  /** The background programs of a host, with the namespace each runs in. */
  processes(host: string): { ref: NsRef; proc: ProcState }[] {
    const out: { ref: NsRef; proc: ProcState }[] = [];
    for (const [netns, ns] of Object.entries(this.state.hosts[host]?.netns ?? {})) {
      for (const proc of ns.procs ?? []) out.push({ ref: { host, netns }, proc });
    }
    return out;
  }

  /** Writes the machines' counters and connection tables, and the background programs' saved state, into the world state. */
  save(): WorldState {
    for (const rt of this.runtimes.values()) {
      if (this.state.hosts[rt.ref.host]?.netns[rt.ref.netns] !== rt.state) continue;
      rt.machine.save();
    }
    for (const t of this.tasks.values()) if (t.proc && !t.done) t.proc.saved = t.ctx.saved;
    return this.state;
  }
}

/** A namespace's sockets as one program sees them: each socket it opens names it (for `ss -p`), counting descriptors from 3. */
function ownedSockets(layer: SocketLayer, name: string, pid: number): SocketLayer {
  let fd = 3;
  const own = <T extends object>(s: T): T => {
    const tagged = s as T & { process?: { name: string; pid: number; fd?: number } };
    tagged.process ??= { name, pid, fd: fd++ };
    return s;
  };
  // connections a listener accepts belong to the program that accepts them
  const ownTcp = (s: TcpSocket): TcpSocket => {
    own(s);
    const accept = s.accept.bind(s);
    s.accept = () => {
      const c = accept();
      return c ? ownTcp(c) : c;
    };
    return s;
  };
  return {
    tcp: () => ownTcp(layer.tcp()),
    udp: () => own(layer.udp()),
    raw: (protocol) => own(layer.raw(protocol)),
    list: () => layer.list(),
  };
}

/** The captures each task opened (closed when it ends). */
const taskTaps = new WeakMap<Task, (() => void)[]>();

/** A program's name without its directory. */
function programName(argv0: string): string {
  const i = argv0.lastIndexOf('/');
  return i < 0 ? argv0 : argv0.slice(i + 1);
}

/** A dotted quad, or a name from the host's /etc/hosts (the first IPv4 line naming it). */
export function resolveName(fs: HostFs, name: string): number | null {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) {
    const a = parseIPv4Numeric(name);
    return a === undefined ? null : a >>> 0;
  }
  const lower = name.toLowerCase();
  for (const line of parseHosts(fs.read('/etc/hosts') ?? '')) {
    if (line.names.some((n) => n.toLowerCase() === lower)) return line.addr >>> 0;
  }
  return null;
}
