/**
 * The namespaces one `ip` command works on: copies of their networks taken
 * on first use, namespaces added and deleted, all handed back to the
 * directory when the command ends. Keeps the two ends of veths that live in
 * different namespaces in step (each end's carrier follows the other's
 * state).
 */
import { type NamedNet, type NetnsDirectory } from '../../core/net/netns.js';
import { nsidForget } from '../../core/net/nsid.js';
import { runLinkwatch, settleLinks } from '../../core/net/links.js';
import { cloneNetState, linkByIndex } from '../../core/net/state.js';
import type { NetState } from '../../core/net/types.js';

interface Loaded {
  net: NetState;
  /** The state as it was loaded (JSON), to tell whether it changed. */
  before: string;
}

/** The namespaces of one command: see the module comment. */
export class IpNamespaces {
  /** The namespace the command acts on (changed by `-n NAME`). */
  current: string;
  private readonly loaded = new Map<string, Loaded>();
  private readonly order: string[];
  private readonly created = new Set<string>();
  private readonly removed = new Set<string>();
  private readonly moves: [string, number, string, number][] = [];

  /** `net` is the network of the directory's current namespace (of '' without a directory). */
  constructor(
    private readonly dir: NetnsDirectory | undefined,
    net: NetState,
  ) {
    this.current = dir?.current ?? '';
    this.order = dir ? dir.names() : [];
    const copy = cloneNetState(net);
    this.loaded.set(this.current, { net: copy, before: JSON.stringify(net) });
  }

  /** Whether namespaces other than the current one can be reached. */
  get available(): boolean {
    return this.dir !== undefined;
  }

  /** Named namespaces, newest first (the order `ip netns list` reads them in). */
  names(): string[] {
    return [...this.order].reverse();
  }

  /** Whether a namespace exists ('' always does). */
  exists(name: string): boolean {
    return name === '' || this.order.includes(name);
  }

  /** The working copy of a namespace's network; undefined when it does not exist. */
  net(name: string): NetState | undefined {
    const have = this.loaded.get(name);
    if (have) return have.net;
    if (!this.dir || !this.exists(name)) return undefined;
    const net = this.dir.get(name);
    if (!net) return undefined;
    const copy = cloneNetState(net);
    this.loaded.set(name, { net: copy, before: JSON.stringify(net) });
    return copy;
  }

  /** The working copy with its name (the namespace must exist). */
  named(name: string): NamedNet {
    return { name, net: this.net(name)! };
  }

  /** The network the command acts on. */
  get currentNet(): NetState {
    return this.net(this.current)!;
  }

  /** Adds a namespace with a fresh network. */
  create(name: string, net: NetState): void {
    this.order.push(name);
    this.created.add(name);
    this.removed.delete(name);
    this.loaded.set(name, { net, before: '' });
  }

  /** Deletes a namespace; the ids others gave it are forgotten. */
  remove(name: string): void {
    const at = this.order.indexOf(name);
    if (at >= 0) this.order.splice(at, 1);
    this.loaded.delete(name);
    if (this.created.has(name)) this.created.delete(name);
    else this.removed.add(name);
    for (const other of ['', ...this.order]) {
      const net = this.net(other);
      if (net) nsidForget(net, name);
    }
  }

  /** Records that a link changed namespace (handed to the directory on commit). */
  noteMove(from: string, fromIndex: number, to: string, toIndex: number): void {
    this.moves.push([from, fromIndex, to, toIndex]);
  }

  /** The process ids of a namespace's programs. */
  pids(name: string): number[] {
    return this.dir?.pids?.(name) ?? [];
  }

  /** The namespace of a process; pid 1 (init) is in the host's own. */
  netnsOfPid(pid: number): string | undefined {
    const r = this.dir?.netnsOfPid?.(pid);
    if (r !== undefined) return r;
    return pid === 1 ? '' : undefined;
  }

  /**
   * Brings veth ends in other namespaces in step with the state of their
   * peers, loading those namespaces as needed.
   */
  syncPeers(): void {
    for (let round = 0; round < 4; round++) {
      let changed = false;
      for (const [name, { net }] of [...this.loaded]) {
        for (const link of net.links) {
          if (link.peerNetns === undefined || link.peer === undefined) continue;
          const other = this.net(link.peerNetns);
          const peer = other ? linkByIndex(other, link.peer) : undefined;
          if (!other || !peer || peer.peerNetns !== name) continue;
          if (peer.peerUp === link.up) continue;
          peer.peerUp = link.up;
          settleLinks(other);
          changed = true;
        }
      }
      if (!changed) break;
    }
  }

  /**
   * Hands every change to the directory: links that moved, deleted and
   * added namespaces, then the changed networks of the others. Returns the new network of the
   * directory's current namespace when it changed (it is not `set`).
   */
  commit(): NetState | undefined {
    this.syncPeers();
    for (const { net } of this.loaded.values()) runLinkwatch(net);
    const home = this.dir?.current ?? '';
    let result: NetState | undefined;
    if (this.dir) {
      // moves first: a card leaving a deleted namespace is not in it any more when it goes
      if (this.dir.moved) for (const [a, i, b, j] of this.moves) this.dir.moved(a, i, b, j);
      for (const name of this.removed) this.dir.remove(name);
      for (const name of this.order) if (this.created.has(name)) this.dir.create(name, this.loaded.get(name)!.net);
    }
    for (const [name, l] of this.loaded) {
      if (this.created.has(name)) continue;
      if (JSON.stringify(l.net) === l.before) continue;
      if (name === home) result = l.net;
      else this.dir?.set(name, l.net);
    }
    return result;
  }
}
