/**
 * nf_tables handles of chains and rules against the kernel: command
 * sequences (hand-written ones and seeded random ones) run with the real
 * iptables tools in a fresh namespace, whose handles `nft -a list ruleset`
 * shows, and on a nflab lab, whose handles `handleListing` lists in the
 * same form. What every step printed and the handle of every chain and
 * rule must agree.
 *
 * A second check covers states stored before handles were kept: the
 * kernel's side restores the sequence's iptables-save dump into a fresh
 * namespace; nflab's reads its state with the handles taken out.
 *
 * NFLAB_HANDLES_RUNS (default 30) random sequences from NFLAB_HANDLES_SEED
 * (default 1).
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runNflab } from '../src/cli/main.js';
import { rulesetFromDisk, rulesetToDisk } from '../src/cli/lab/persist.js';
import { loadState } from '../src/cli/lab/store.js';
import { emptyRuleset, fakeBuiltinChain, handleListing, incompatibleChains, type Ruleset } from '../src/core/netfilter/ruleset.js';
import { tableInfo } from '../src/core/netfilter/tables.js';
import { compareResults, formatOutcome } from './diff/compare.js';
import { KernelBackend } from './diff/kernel.js';
import { DIFF_JOBS, mapConcurrent } from './diff/pool.js';
import { cmd, joinWords, restore } from './diff/shell.js';
import { guardKernel } from './diff/suite.js';
import type { Step, StepResult } from './diff/types.js';

/** The step that shows the kernel's handles. */
const NFT_LIST: Step = { argv: ['nft', '-a', 'list', 'ruleset'] };
/** The dumps a fresh namespace is loaded from, for the check of stored states without handles. */
const SAVES: Step[] = [{ argv: ['iptables-save'] }, { argv: ['ip6tables-save'] }];

/**
 * Reads the handles of `nft -a list ruleset` into handleListing's form:
 * tables ordered by family and name, chains and rules in listing order.
 */
export function nftHandles(text: string): string {
  const blocks: { head: string; body: string }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const table = /^table (\S+) (\S+) \{ # handle \d+$/.exec(line);
    if (table) {
      blocks.push({ head: `table ${table[1]} ${table[2]}\n`, body: '' });
      continue;
    }
    const block = blocks[blocks.length - 1];
    const chain = /^chain (\S+) \{ # handle (\d+)$/.exec(line);
    if (chain && block) {
      block.body += `chain ${chain[1]} ${chain[2]}\n`;
      continue;
    }
    const rule = /# handle (\d+)$/.exec(line);
    if (rule && block) block.body += `rule ${rule[1]}\n`;
  }
  blocks.sort((a, b) => (a.head < b.head ? -1 : a.head > b.head ? 1 : 0));
  return blocks.map((b) => b.head + b.body).join('');
}

/** nflab's handles of both rule sets, in nftHandles' form. */
function labHandles(rs: Ruleset, rs6: Ruleset | undefined): string {
  return handleListing(rs, 'ip') + handleListing(rs6 ?? emptyRuleset(), 'ip6');
}

/**
 * A rule set as a state stored before handles were kept would give it, in
 * the shape a restore of its dump has: base chains renamed with -E left out
 * (the dump leaves them out), missing built-in chains added with the
 * numbers the stored state keeps for them (the dump lists every one).
 */
function withoutHandles(rs: Ruleset, v6: boolean): Ruleset {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (k !== 'h') out[k] = strip(x);
      return out;
    }
    return v;
  };
  const old = rulesetFromDisk(strip(JSON.parse(JSON.stringify(rulesetToDisk(rs)))), v6);
  for (const t of Object.values(old.tables)) {
    if (!t) continue;
    const gone = new Set(incompatibleChains(t));
    t.user = t.user.filter((c) => !gone.has(c));
    tableInfo(t.name)!.chains.forEach((hook, i) => {
      t.builtins[hook] ??= { ...fakeBuiltinChain(hook), handle: i + 1 };
    });
  }
  return old;
}

/** What nflab printed for each step, its handles, and those of its state read without handles. */
interface NflabRun {
  results: StepResult[];
  handles: string;
  restored: string;
}

async function runOnNflab(steps: readonly Step[]): Promise<NflabRun> {
  const lab = mkdtempSync(join(tmpdir(), 'nflab-handles-'));
  try {
    const results: StepResult[] = [];
    for (const step of steps) {
      const opts: { lab: string; stdin?: string } = { lab };
      if (step.stdin !== undefined) opts.stdin = step.stdin;
      const r = await runNflab([...step.argv], opts);
      results.push({ stdout: r.stdout, stderr: r.stderr, status: r.status });
    }
    const state = loadState(lab);
    const rs6 = state.ruleset6;
    return {
      results,
      handles: labHandles(state.ruleset, rs6),
      restored: labHandles(withoutHandles(state.ruleset, false), rs6 && withoutHandles(rs6, true)),
    };
  } finally {
    rmSync(lab, { recursive: true, force: true });
  }
}

/** A named command sequence. */
interface HandleCase {
  name: string;
  steps: Step[];
}

const hc = (name: string, steps: (string | Step)[]): HandleCase => ({ name, steps: steps.map((s) => (typeof s === 'string' ? cmd(s) : s)) });

const FILTER_FILE = `*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:X - [0:0]
:Y - [0:0]
-A INPUT -j X
-A X -j Y
-A Y -j ACCEPT
-A OUTPUT -j ACCEPT
COMMIT
`;

const RAW_AND_FILTER = `*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -j NOTRACK
-A OUTPUT -j NOTRACK
COMMIT
${FILTER_FILE}`;

/** A second table that the kernel refuses (REJECT's tcp-reset without -p tcp) after a good one. */
const FAILING_SECOND = `*filter
:INPUT ACCEPT [0:0]
-A INPUT -j ACCEPT
COMMIT
*mangle
:POSTROUTING ACCEPT [0:0]
-A POSTROUTING -j ACCEPT
-A POSTROUTING -j REJECT --reject-with tcp-reset
COMMIT
`;

const REFUSED_RULE = `*filter
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -j ACCEPT
-A OUTPUT -j REJECT --reject-with tcp-reset
COMMIT
`;

/** The iptables service's default rules (iptables-services). */
const SERVICE_RULES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -i lo -j ACCEPT
-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT
-A INPUT -j REJECT --reject-with icmp-host-prohibited
-A FORWARD -j REJECT --reject-with icmp-host-prohibited
COMMIT
`;

/** What `service iptables stop` runs for the filter table: policies back to ACCEPT, then -F, -X, -Z. */
const SERVICE_STOP = ['iptables -t filter -P INPUT ACCEPT', 'iptables -t filter -P FORWARD ACCEPT', 'iptables -t filter -P OUTPUT ACCEPT', 'iptables -t filter -F', 'iptables -t filter -X', 'iptables -t filter -Z'];

const HAND_WRITTEN: HandleCase[] = [
  hc('built-in chains are created when first used', ['iptables -A INPUT -j ACCEPT', 'iptables -P FORWARD DROP', 'iptables -A OUTPUT -j DROP', 'iptables -A INPUT -j DROP']),
  hc('tables count separately', ['iptables -t nat -A POSTROUTING -j MASQUERADE', 'iptables -t raw -A PREROUTING -j NOTRACK', 'iptables -A FORWARD -j ACCEPT', 'iptables -t raw -A OUTPUT -j NOTRACK']),
  hc('user chains and jumps', ['iptables -N X', 'iptables -A INPUT -j X', 'iptables -A X -j ACCEPT', 'iptables -N A', 'iptables -A X -j A']),
  hc('insert, replace, delete', [
    'iptables -A INPUT -j ACCEPT',
    'iptables -I INPUT -j DROP',
    'iptables -R INPUT 2 -j RETURN',
    'iptables -I INPUT 2 -s 10.0.0.1 -j ACCEPT',
    'iptables -D INPUT 1',
    'iptables -D INPUT -j RETURN',
    'iptables -A INPUT -j ACCEPT',
  ]),
  hc('one command, several rules', ['iptables -A INPUT -s 1.1.1.1,2.2.2.2 -d 3.3.3.3,4.4.4.4 -j DROP', 'iptables -I INPUT 2 -j ACCEPT']),
  hc('zeroing keeps handles, listing then zeroing creates chains', [
    'iptables -A INPUT -j ACCEPT',
    'iptables -A INPUT -j DROP',
    'iptables -Z',
    'iptables -Z INPUT 1',
    'iptables -L -n -Z',
    'iptables -A INPUT -j DROP',
    'iptables -t nat -A INPUT -j ACCEPT',
    'iptables -t nat -Z -L -n',
    'iptables -t nat -A OUTPUT -j ACCEPT',
  ]),
  hc('flush and delete chains, then use them again', ['iptables -A INPUT -j ACCEPT', 'iptables -N X', 'iptables -F', 'iptables -X', 'iptables -A INPUT -j ACCEPT', 'iptables -N X']),
  hc('-v -F creates every built-in chain', ['iptables -A INPUT -j DROP', 'iptables -v -F', 'iptables -A OUTPUT -j DROP']),
  hc('renames keep handles; a renamed built-in chain is made again', [
    'iptables -N X',
    'iptables -E X Y',
    'iptables -A Y -j ACCEPT',
    'iptables -X Y',
    'iptables -N Z',
    'iptables -A INPUT -j DROP',
    'iptables -E INPUT FOO',
    'iptables -A INPUT -j DROP',
  ]),
  hc('refused commands use no handle', ['iptables -A INPUT -j DROP', 'iptables -N X', 'iptables -N X', 'iptables -A INPUT -j NOPE', 'iptables -X INPUT', 'iptables -A INPUT -j DROP']),
  hc('restore into a fresh namespace, twice', [restore(RAW_AND_FILTER), restore(RAW_AND_FILTER), 'iptables -A INPUT -j DROP']),
  hc('restore --noflush adds to the counters', [restore(RAW_AND_FILTER), restore(RAW_AND_FILTER, '--noflush')]),
  hc('restore -v flushes chain by chain', ['iptables -A INPUT -j DROP', 'iptables -N X', restore(RAW_AND_FILTER, '-v')]),
  hc('a table without chain lines', [restore('*raw\n-A PREROUTING -j NOTRACK\n-A OUTPUT -j NOTRACK\nCOMMIT\n'), 'iptables -t raw -A PREROUTING -j ACCEPT']),
  hc('a refused table after a committed one', [restore(FAILING_SECOND), 'iptables -t mangle -A POSTROUTING -j ACCEPT', 'iptables -A INPUT -j ACCEPT']),
  hc('a refused restore over an existing table uses no handle', ['iptables -A INPUT -j DROP', 'iptables -A INPUT -j DROP', restore(REFUSED_RULE), 'iptables -A INPUT -j DROP']),
  hc('a refused restore --noflush keeps the handles it used', ['iptables -A INPUT -j DROP', 'iptables -A INPUT -j DROP', restore(REFUSED_RULE, '--noflush'), 'iptables -A INPUT -j DROP']),
  hc('a refused restore -v keeps the handles it used', ['iptables -A INPUT -j DROP', 'iptables -N X', restore(REFUSED_RULE, '-v'), 'iptables -A INPUT -j DROP']),
  hc('a loop makes the kernel go through the batch twice', [
    'iptables -N A',
    'iptables -N B',
    'iptables -A INPUT -j A',
    'iptables -A A -j B',
    restore('*filter\n-A B -j A\n-A INPUT -j DROP\nCOMMIT\n', '--noflush'),
    'iptables -A INPUT -j ACCEPT',
  ]),
  hc('a loop in a batch with a refused rule is not validated', [
    'iptables -N A',
    'iptables -N B',
    'iptables -A INPUT -j A',
    'iptables -A A -j B',
    restore('*filter\n-A B -j A\n-A INPUT -j REJECT --reject-with tcp-reset\nCOMMIT\n', '--noflush'),
    'iptables -A INPUT -j ACCEPT',
  ]),
  hc('a target refused at validation in a user chain', [
    'iptables -t nat -N A',
    'iptables -t nat -A POSTROUTING -j ACCEPT',
    restore('*nat\n-A A -j MASQUERADE\n-A PREROUTING -j A\n-A PREROUTING -j ACCEPT\nCOMMIT\n', '--noflush'),
    'iptables -t nat -A PREROUTING -j ACCEPT',
  ]),
  hc('a flush takes the rules queued for its chain out of the batch', [
    'iptables -A INPUT -j ACCEPT',
    restore('*filter\n-A INPUT -j ACCEPT\n-A INPUT -j REJECT --reject-with tcp-reset\n-F INPUT\n-A INPUT -j DROP\n-N X\nCOMMIT\n', '--noflush'),
    restore('*filter\n-A INPUT -j ACCEPT\n-A OUTPUT -j REJECT --reject-with tcp-reset\n-F\n-A INPUT -j DROP\n-N Y\nCOMMIT\n', '--noflush'),
    restore('*filter\n:X - [0:0]\n-A X -j ACCEPT\n-A OUTPUT -j REJECT --reject-with tcp-reset\n-F\n-A INPUT -j DROP\n-N Y\nCOMMIT\n', '-v'),
    'iptables -A INPUT -j ACCEPT',
  ]),
  hc('-X in a restore goes by the policies the cache holds', [
    'iptables -P INPUT DROP',
    restore('*filter\n:INPUT ACCEPT [0:0]\n-X\nCOMMIT\n', '--noflush'),
    'iptables -S',
    restore('*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n-X\nCOMMIT\n', '--noflush'),
    'iptables -S',
    'iptables -A INPUT -j ACCEPT',
  ]),
  hc('restore -v: a chain with policy DROP stays, the cache forgets it', [
    'iptables -P INPUT DROP',
    'iptables -P OUTPUT DROP',
    'iptables -A OUTPUT -j ACCEPT',
    restore('*filter\n:FORWARD ACCEPT [0:0]\n-Z\n-A INPUT -j ACCEPT\nCOMMIT\n', '-v'),
    'iptables -S',
    restore('*filter\n:INPUT - [0:0]\n-X\nCOMMIT\n', '-v'),
    'iptables -S',
    'iptables -A OUTPUT -j ACCEPT',
  ]),
  hc('the iptables service: start, stop, restart', [
    restore(SERVICE_RULES),
    ...SERVICE_STOP,
    restore(SERVICE_RULES),
    'iptables -I INPUT 5 -p tcp --dport 80 -j ACCEPT',
    ...SERVICE_STOP,
    restore(SERVICE_RULES),
  ]),
  hc('ip6tables counts on its own', ['iptables -A INPUT -j ACCEPT', 'ip6tables -A INPUT -j ACCEPT', 'ip6tables -N X', 'ip6tables -A X -j DROP', 'iptables -A INPUT -j DROP']),
];

/** A small seeded generator (mulberry32). */
class Rng {
  constructor(private s: number) {}
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const BUILTINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};
const TABLES = Object.keys(BUILTINS);
/** User chains; jumps only go from a chain to one after it, so no loop is ever made by a single command. */
const USER = ['A', 'B', 'C'];
/** Names user chains are renamed to; rules added there never jump. */
const RENAMED = ['R1', 'R2'];
const MATCHES = ['', '-s 10.0.0.1 ', '-p tcp --dport 22 ', '-s 10.0.0.1,10.0.0.2 ', '-d 192.168.0.0/16 -i eth0 ', '-m comment --comment x '];

/** A rule the kernel accepts in `chain` of `table`, whatever else the table holds. */
function ruleBody(g: Rng, table: string, chain: string): string {
  const verdicts = table === 'nat' ? ['ACCEPT', 'RETURN'] : ['ACCEPT', 'DROP', 'RETURN'];
  const later = BUILTINS[table]!.includes(chain) ? USER : USER.filter((u) => USER.includes(chain) && u > chain);
  const r = g.int(10);
  let target: string;
  if (r < 5) target = `-j ${g.pick(verdicts)}`;
  else if (r < 6) target = '-j LOG';
  else if (r < 8 && later.length) target = `-j ${g.pick(later)}`;
  else if (r < 9 && later.length) target = `-g ${g.pick(later)}`;
  else target = '';
  return `${g.pick(MATCHES)}${target}`.trim();
}

/** One iptables command line for a random table. */
function randomCommand(g: Rng): string {
  const table = g.pick(TABLES);
  const t = `iptables -t ${table}`;
  const builtins = BUILTINS[table]!;
  const anyChain = () => (g.chance(0.6) ? g.pick(builtins) : g.pick([...USER, ...RENAMED]));
  const n = () => 1 + g.int(3);
  const r = g.int(100);
  if (r < 30) {
    const c = anyChain();
    return `${t} -A ${c} ${ruleBody(g, table, c)}`;
  }
  if (r < 38) {
    const c = anyChain();
    return `${t} -I ${c} ${g.chance(0.5) ? `${n()} ` : ''}${ruleBody(g, table, c)}`;
  }
  if (r < 43) {
    const c = anyChain();
    return `${t} -R ${c} ${n()} ${ruleBody(g, table, c)}`;
  }
  if (r < 48) return `${t} -D ${anyChain()} ${n()}`;
  if (r < 51) {
    const c = anyChain();
    return `${t} -D ${c} ${ruleBody(g, table, c)}`;
  }
  if (r < 60) return `${t} -N ${g.pick(USER)}`;
  if (r < 64) return `${t} -X${g.chance(0.5) ? ` ${g.pick([...USER, ...RENAMED])}` : ''}`;
  if (r < 67) return `${t} -E ${g.pick(USER)} ${g.pick(RENAMED)}`;
  if (r < 68) return `${t} -E ${g.pick(builtins)} ${g.pick(RENAMED)}`;
  if (r < 72) return `${t} -F${g.chance(0.5) ? ` ${anyChain()}` : ''}`;
  if (r < 74) return `${t} -v -F`;
  if (r < 78) return `${t} -Z${g.chance(0.5) ? ` ${anyChain()}` : ''}`;
  if (r < 80) return `${t} -Z ${anyChain()} ${n()}`;
  if (r < 83) return `${t} -L -n${g.chance(0.5) ? ' -Z' : ''}`;
  if (r < 85) return `${t} -S`;
  if (r < 90 && table !== 'nat') return `${t} -P ${g.pick(builtins)} ${g.pick(['ACCEPT', 'DROP'])}`;
  if (r < 94) return g.pick(['ip6tables -A INPUT -j ACCEPT', 'ip6tables -N A', 'ip6tables -A A -j DROP', 'ip6tables -A INPUT -j A', 'ip6tables -F', 'ip6tables -X']);
  return `${t} -A ${g.pick(builtins)} -j ACCEPT`;
}

/**
 * One iptables-restore step over one or two tables. With `refuse` the block
 * of the first table ends with a rule the kernel refuses, and may then hold
 * jumps back to earlier chains (loops), which never get committed.
 */
function randomRestore(g: Rng): Step {
  const options = g.pick(['', '', '--noflush', '-v']);
  const inline = ['-N A', '-N C', '-X', '-X B', '-F', '-Z', '-E A R1'];
  const tables = g.chance(0.3) ? [g.pick(TABLES), g.pick(TABLES)].filter((x, i, a) => a.indexOf(x) === i) : [g.pick(TABLES)];
  let text = '';
  tables.forEach((table, i) => {
    const refuse = i === 0 && table === 'filter' && g.chance(0.4);
    const builtins = BUILTINS[table]!;
    text += `*${table}\n`;
    for (const c of builtins) if (g.chance(0.6)) text += `:${c} ${table === 'nat' ? 'ACCEPT' : g.pick(['ACCEPT', 'DROP', '-'])} [0:0]\n`;
    const users = USER.filter(() => g.chance(0.5));
    for (const u of users) text += `:${u} - [0:0]\n`;
    const chains = [...builtins, ...users];
    for (let k = g.int(6); k > 0; k--) {
      const c = g.pick(chains);
      const r = g.int(10);
      if (r < 6) text += `-A ${c} ${ruleBody(g, table, c)}\n`;
      else if (r < 7) text += `-I ${c} 1 ${ruleBody(g, table, c)}\n`;
      else if (r < 8) text += `-D ${c} 1\n`;
      else text += `${g.pick(inline)}\n`;
    }
    if (refuse) {
      if (g.chance(0.5)) text += `-A ${g.pick(USER)} -j ${g.pick(USER)}\n`;
      text += `-A ${g.pick(builtins)} -j REJECT --reject-with tcp-reset\n`;
    }
    text += 'COMMIT\n';
  });
  return restore(text, options);
}

/** A random sequence of commands and restores. */
function randomCase(g: Rng, index: number): HandleCase {
  const steps: Step[] = [];
  for (let k = 8 + g.int(10); k > 0; k--) steps.push(g.chance(0.15) ? randomRestore(g) : cmd(randomCommand(g)));
  return { name: `random ${index}`, steps };
}

const RUNS = Number(process.env['NFLAB_HANDLES_RUNS'] ?? 30);
const SEED = Number(process.env['NFLAB_HANDLES_SEED'] ?? 1);

function allCases(): HandleCase[] {
  const g = new Rng(SEED);
  const random: HandleCase[] = [];
  for (let i = 0; i < RUNS; i++) random.push(randomCase(g, i));
  return [...HAND_WRITTEN, ...random];
}

/** The steps of a case as shell lines, for failure messages. */
function describeCase(c: HandleCase): string {
  return c.steps.map((s, i) => `  ${i + 1}. ${joinWords(s.argv)}${s.stdin !== undefined ? ` <<EOF\n${s.stdin}EOF` : ''}`).join('\n');
}

describe('nf_tables handles against the kernel', () => {
  const skip = guardKernel('handles');
  const kernel = new KernelBackend();
  const cases = allCases();
  const jobs = Math.min(DIFF_JOBS, 3);
  /** Kernel side: the steps, the listing, the dumps. */
  let runs: Promise<StepResult[]>[] | undefined;
  /** Kernel side of the stored-state check: the dumps restored into a fresh namespace. */
  const restored = new Map<number, Promise<StepResult[]>>();
  const kernelRestored = (index: number, dumps: StepResult[]): Promise<StepResult[]> => {
    let p = restored.get(index);
    if (!p) {
      p = kernel.run([restore(dumps[0]!.stdout), { argv: ['ip6tables-restore'], stdin: dumps[1]!.stdout }, NFT_LIST]);
      restored.set(index, p);
    }
    return p;
  };

  cases.forEach((c, index) => {
    it(c.name, skip === undefined ? {} : { skip }, async () => {
      runs ??= mapConcurrent(cases, jobs, (k) => kernel.run([...k.steps, NFT_LIST, ...SAVES]));
      const expected = await runs[index]!;
      const mine = await runOnNflab(c.steps);
      const outcome = compareResults(c.name, c.steps, expected.slice(0, c.steps.length), mine.results);
      if (outcome.mismatches.length > 0) assert.fail(`${formatOutcome(outcome)}\nthe steps in full:\n${describeCase(c)}`);
      const listing = expected[c.steps.length]!;
      assert.equal(listing.status, 0, listing.stderr);
      assert.equal(mine.handles, nftHandles(listing.stdout), `handles differ after:\n${describeCase(c)}`);
      const fresh = await kernelRestored(index, expected.slice(c.steps.length + 1));
      assert.equal(mine.restored, nftHandles(fresh[2]!.stdout), `handles of the state read without handles differ after:\n${describeCase(c)}`);
    });
  });
});

describe('handles in the lab state', () => {
  it('a state stored without handles gets those of a fresh restore', () => {
    const rs: Ruleset = rulesetFromDisk({
      filter: {
        b: { INPUT: { n: 'INPUT', p: 'DROP', c: [0, 0], r: [{ t: { kind: 'jump', chain: 'b', goto: false } }, {}] } },
        u: [
          { n: 'b', p: null, c: [0, 0], r: [{}] },
          { n: 'a', p: null, c: [0, 0], r: [] },
        ],
      },
    });
    assert.equal(handleListing(rs), 'table ip filter\nchain INPUT 1\nrule 6\nrule 7\nchain a 4\nchain b 5\nrule 8\n');
    assert.equal(rs.tables.filter!.lastHandle, 8);
  });

  it('handles survive a save and load, and never show in rule identity', async () => {
    const lab = mkdtempSync(join(tmpdir(), 'nflab-handles-'));
    try {
      const run = (line: string) => runNflab(['--lab', lab, ...cmd(line).argv]);
      await run('iptables -A INPUT -j ACCEPT');
      await run('iptables -A INPUT -j DROP');
      await run('iptables -D INPUT 1');
      const check = await run('iptables -C INPUT -j DROP');
      assert.equal(check.status, 0, check.stderr);
      await run('iptables -A INPUT -j ACCEPT');
      const save = await run('iptables -S');
      assert.equal(save.stdout, '-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n-A INPUT -j DROP\n-A INPUT -j ACCEPT\n');
      const del = await run('iptables -D INPUT -j ACCEPT');
      assert.equal(del.status, 0, del.stderr);
      const state = loadState(lab);
      assert.equal(handleListing(state.ruleset), 'table ip filter\nchain INPUT 1\nrule 3\n');
      assert.equal(state.ruleset.tables.filter!.lastHandle, 4);
    } finally {
      rmSync(lab, { recursive: true, force: true });
    }
  });

  it('nflab trace names a rule by the handle the kernel gave it', async () => {
    const lab = mkdtempSync(join(tmpdir(), 'nflab-handles-'));
    try {
      const run = (line: string) => runNflab(['--lab', lab, ...cmd(line).argv]);
      await run('iptables -A OUTPUT -p udp -j DROP');
      await run('iptables -I OUTPUT -p tcp -j ACCEPT');
      await run('ip link set lo up');
      const r = await run('trace -p tcp -s 127.0.0.1 -d 127.0.0.1 --dport 22 --syn');
      assert.equal(r.status, 0, r.stderr);
      const traced = r.stdout.split('\n').filter((l) => l.startsWith(' TRACE:'));
      assert.equal(traced.length, 2, r.stdout);
      for (const l of traced) assert.match(l, /^ TRACE: 2 [0-9a-f]{8} filter:OUTPUT:rule:0x3:ACCEPT {2}-4 -t filter -A OUTPUT -p tcp -j ACCEPT$/);
    } finally {
      rmSync(lab, { recursive: true, force: true });
    }
  });
});
