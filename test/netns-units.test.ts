/**
 * How runIp works with a namespace directory (what the CLI and the world
 * rely on), nsenter's parser and the parts the kernel comparison cannot
 * reach (a network card going back to the host's namespace).
 */
import * as assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runIp } from '../src/cli/ip/index.js';
import { parseNsenter } from '../src/cli/netns.js';
import type { NetnsDirectory } from '../src/core/net/netns.js';
import { emptyNetState, linkByName } from '../src/core/net/state.js';
import type { Link, NetState } from '../src/core/net/types.js';

/** An in-memory host that records what runIp hands back. */
class Host {
  order: string[] = [];
  nets = new Map<string, NetState>([['', emptyNetState()]]);
  calls: string[] = [];

  dir(current: string): NetnsDirectory {
    return {
      current,
      names: () => [...this.order],
      get: (name) => this.nets.get(name),
      set: (name, net) => {
        this.calls.push(`set ${name}`);
        this.nets.set(name, net);
      },
      create: (name, net) => {
        this.calls.push(`create ${name}`);
        this.order.push(name);
        this.nets.set(name, net);
      },
      remove: (name) => {
        this.calls.push(`remove ${name}`);
        this.order = this.order.filter((n) => n !== name);
        this.nets.delete(name);
      },
      netnsOfPid: (pid) => (pid === 1 ? '' : pid === 42 ? 'X' : undefined),
      pids: (name) => (name === 'X' ? [42, 57] : []),
      moved: (from, fromIndex, to, toIndex) => void this.calls.push(`moved ${from}:${fromIndex} ${to}:${toIndex}`),
    };
  }

  ip(line: string, current = ''): ReturnType<typeof runIp> {
    const r = runIp(line.split(' '), this.nets.get(current)!, this.dir(current));
    if (r.net) this.nets.set(current, r.net);
    return r;
  }

  link(ns: string, name: string): Link {
    return linkByName(this.nets.get(ns)!, name)!;
  }
}

describe('runIp with a namespace directory', () => {
  it('adds a namespace through create', () => {
    const h = new Host();
    const r = h.ip('netns add X');
    assert.deepEqual([r.stdout, r.stderr, r.status, r.net], ['', '', 0, undefined]);
    assert.deepEqual(h.calls, ['create X']);
    assert.equal(h.nets.get('X')!.macCounter, 0);
    assert.deepEqual(h.nets.get('X')!.links.map((l) => l.name), ['lo']);
  });

  it('moves a veth end: the other namespace through set, the current one as net', () => {
    const h = new Host();
    h.ip('netns add X');
    h.ip('link add v0 type veth peer name v1');
    h.calls = [];
    const r = h.ip('link set v1 netns X');
    assert.equal(r.status, 0);
    assert.ok(r.net);
    assert.deepEqual(h.calls, ['moved :2 X:2', 'set X']);
    const v0 = h.link('', 'v0');
    const v1 = h.link('X', 'v1');
    assert.deepEqual([v0.index, v0.peer, v0.peerNetns, v0.peerUp], [3, 2, 'X', false]);
    assert.deepEqual([v1.index, v1.peer, v1.peerNetns, v1.peerUp], [2, 3, '', false]);
    assert.equal(linkByName(h.nets.get('')!, 'v1'), undefined);
    assert.deepEqual(h.nets.get('')!.nsids, { X: 0 });
    assert.deepEqual(h.nets.get('X')!.nsids, { '': 0 });
  });

  it('keeps the carriers of the two ends in step', () => {
    const h = new Host();
    h.ip('netns add X');
    h.ip('link add v0 type veth peer name v1 netns X');
    h.ip('link set v0 up');
    assert.equal(h.link('', 'v0').carrier, false);
    h.ip('link set v1 up', 'X');
    assert.deepEqual([h.link('', 'v0').carrier, h.link('', 'v0').peerUp], [true, true]);
    assert.equal(h.link('X', 'v1').carrier, true);
    h.ip('-n X link set v1 down');
    assert.deepEqual([h.link('', 'v0').carrier, h.link('', 'v0').peerUp], [false, false]);
  });

  it('hands `ip netns exec` and `ip -all netns exec` back as requests', () => {
    const h = new Host();
    h.ip('netns add X');
    h.ip('netns add Y');
    const one = h.ip('netns exec X ip -br a');
    assert.deepEqual([one.stdout, one.stderr, one.status, one.exec, one.execAll], ['', '', 0, { netns: 'X', argv: ['ip', '-br', 'a'] }, undefined]);
    const all = h.ip('-all netns exec ip r');
    assert.deepEqual(all.execAll, [
      { netns: 'Y', argv: ['ip', 'r'] },
      { netns: 'X', argv: ['ip', 'r'] },
    ]);
    const bad = h.ip('netns exec Z ip a');
    assert.deepEqual([bad.stderr, bad.status, bad.exec], ['Cannot open network namespace "Z": No such file or directory\n', 255, undefined]);
  });

  it('lists pids and identifies namespaces through the directory', () => {
    const h = new Host();
    h.ip('netns add X');
    assert.equal(h.ip('netns pids X').stdout, '42\n57\n');
    assert.equal(h.ip('netns identify 42').stdout, 'X\n');
    assert.equal(h.ip('netns identify').stdout, '\n');
    assert.equal(h.ip('netns identify', 'X').stdout, 'X\n');
    assert.deepEqual([h.ip('netns identify 7').stderr, h.ip('netns identify 7').status], ['Cannot open network namespace: No such file or directory\n', 1]);
  });

  it('moves a link to the namespace of a process', () => {
    const h = new Host();
    h.ip('netns add X');
    h.ip('link add v0 type veth peer name v1');
    assert.equal(h.ip('link set v1 netns 42').status, 0);
    assert.equal(h.link('X', 'v1').peerNetns, '');
    assert.deepEqual([h.ip('link set v0 netns 43').stderr, h.ip('link set v0 netns 43').status], ['RTNETLINK answers: No such process\n', 2]);
  });

  it('deleting a namespace takes its veths and their other ends, and gives cards back', () => {
    const h = new Host();
    h.ip('netns add X');
    h.ip('link add v0 type veth peer name v1 netns X');
    // a network card (a kind that does not die with its namespace) with the name of one in the host's namespace
    const card: Link = { ...h.link('', 'v0'), name: 'eth1', kind: 'ether' as Link['kind'], index: 7 };
    delete card.peer;
    delete card.peerNetns;
    delete card.peerUp;
    h.nets.get('X')!.links.push(card);
    h.nets.get('')!.links.push({ ...card, index: 9 });
    h.calls = [];
    const r = h.ip('netns del X');
    assert.equal(r.status, 0);
    assert.deepEqual(h.calls, ['moved X:7 :7', 'remove X']);
    assert.deepEqual(r.net!.links.map((l) => `${l.index}:${l.name}`), ['1:lo', '9:eth1', '7:dev0']);
    assert.equal(r.net!.nsids, undefined);
  });

  it('without a directory, netns commands are not available', () => {
    const r = runIp(['netns', 'list'], emptyNetState());
    assert.deepEqual([r.stdout, r.stderr, r.status], ['', 'ip: "netns" is not available in this lab\n', 1]);
    const n = runIp(['-n', 'X', 'link'], emptyNetState());
    assert.deepEqual([n.stderr, n.status], ['ip: -netns is not available in this lab\n', 255]);
  });
});

describe('nsenter', () => {
  const env = { current: '', exists: (n: string) => n === 'LEMON', netnsOfPid: (p: number) => (p === 1 ? '' : p === 42 ? 'LEMON' : undefined) };

  it('enters a namespace by file or by process', () => {
    assert.deepEqual(parseNsenter(['--net=/var/run/netns/LEMON', 'ping', '10.0.0.1'], env), { kind: 'run', netns: 'LEMON', argv: ['ping', '10.0.0.1'] });
    assert.deepEqual(parseNsenter(['--net=/var/run/netns/LEMON'], env), { kind: 'run', netns: 'LEMON', argv: [] });
    assert.deepEqual(parseNsenter(['-t', '42', '-n', 'iptables', '-t', 'filter', '-S'], env), { kind: 'run', netns: 'LEMON', argv: ['iptables', '-t', 'filter', '-S'] });
    assert.deepEqual(parseNsenter(['-t', '1', '-m', 'sh'], env), { kind: 'run', netns: '', argv: ['sh'] });
  });

  it('complains as util-linux does', () => {
    assert.deepEqual(parseNsenter(['--net=/var/run/netns/NOPE', 'true'], env), { kind: 'done', stdout: '', stderr: 'nsenter: cannot open /var/run/netns/NOPE: No such file or directory\n', status: 1 });
    assert.deepEqual(parseNsenter(['-n', 'true'], env), { kind: 'done', stdout: '', stderr: 'nsenter: neither filename nor target pid supplied for ns/net\n', status: 1 });
    assert.deepEqual(parseNsenter(['-q'], env), { kind: 'done', stdout: '', stderr: "nsenter: invalid option -- 'q'\nTry 'nsenter --help' for more information.\n", status: 1 });
  });
});
