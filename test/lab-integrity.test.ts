/**
 * The lab never loses state: a process killed while writing, failing
 * commands and failing restores leave the previous state whole, and
 * concurrent invocations on one lab are serialised.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const bin = join(root, 'bin', 'nflab');

/** Temporary labs, removed when the file's tests end. */
const labs: string[] = [];
function tempLab(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  labs.push(dir);
  return dir;
}
after(() => {
  for (const dir of labs) rmSync(dir, { recursive: true, force: true });
});

function nflab(lab: string, args: string[], input?: string) {
  const r = spawnSync(bin, ['--lab', lab, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function bigRuleset(n: number, action: string): string {
  const lines = ['*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]'];
  for (let i = 0; i < n; i++) lines.push(`-A INPUT -s 10.${(i >> 8) & 255}.${i & 255}.0/24 -p tcp -m tcp --dport ${(i % 60000) + 1} -j ${action}`);
  lines.push('COMMIT', '');
  return lines.join('\n');
}

test('a restore killed at any moment leaves either the old or the new state', async () => {
  const lab = tempLab('nflab-kill-');
  const file = join(lab, 'big.rules');
  writeFileSync(file, bigRuleset(20000, 'DROP'));
  assert.equal(nflab(lab, ['iptables', '-A', 'INPUT', '-j', 'ACCEPT']).status, 0);
  const before = nflab(lab, ['iptables-save']).stdout.replace(/^#.*\n/gm, '');
  const after = readFileSync(file, 'utf8');
  let sawOld = 0;
  let sawNew = 0;
  for (const delay of [5, 30, 60, 90, 120, 160, 200, 260, 330, 420, 520, 650, 800]) {
    // reset to the old state
    assert.equal(nflab(lab, ['iptables-restore'], '*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nCOMMIT\n').status, 0);
    const child = spawn(bin, ['--lab', lab, 'iptables-restore', file], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    await new Promise((r) => setTimeout(r, delay));
    child.kill('SIGKILL');
    await exited;
    const now = nflab(lab, ['iptables-save']);
    assert.equal(now.status, 0, `state unreadable after kill at ${delay} ms: ${now.stderr}`);
    const body = now.stdout.replace(/^#.*\n/gm, '');
    if (body === before) sawOld++;
    else {
      assert.equal(body.split('\n').length, after.split('\n').length, `partial state after kill at ${delay} ms`);
      sawNew++;
    }
  }
  assert.ok(sawOld + sawNew === 13);
});

test('failing commands and restores leave the state file byte for byte unchanged', () => {
  const lab = tempLab('nflab-fail-');
  assert.equal(nflab(lab, ['iptables', '-N', 'WEB']).status, 0);
  assert.equal(nflab(lab, ['iptables', '-A', 'WEB', '-p', 'tcp', '--dport', '80', '-j', 'ACCEPT']).status, 0);
  assert.equal(nflab(lab, ['iptables', '-A', 'INPUT', '-j', 'WEB']).status, 0);
  const state = () => readFileSync(join(lab, 'state.json'), 'utf8');
  const orig = state();
  const failing: [string[], string?][] = [
    [['iptables', '-A', 'INPUT', '-p', 'tcp', '--dport', '99999', '-j', 'ACCEPT']],
    [['iptables', '-A', 'NOCHAIN', '-j', 'ACCEPT']],
    [['iptables', '-X', 'WEB']],
    [['iptables', '-D', 'INPUT', '7']],
    [['iptables', '-P', 'INPUT', 'BOGUS']],
    [['iptables', '-t', 'nat', '-A', 'POSTROUTING', '-j', 'DROP']],
    [['iptables', '-A', 'INPUT', '-s', '1.2.3.4', '-s', '5.6.7.8', '-j', 'DROP']],
    [['iptables-restore'], '*filter\n-A INPUT -j DROP\n-A INPUT --bogus\nCOMMIT\n'],
    [['iptables-restore'], '*filter\n-F\n-A INPUT -j NOWHERE\nCOMMIT\n'],
    [['iptables-restore'], '*filter\n-A INPUT -j DROP\n'],
    [['iptables-restore', '--noflush'], '*filter\n-A INPUT -j DROP\n-A NOPE -j DROP\nCOMMIT\n'],
  ];
  for (const [args, input] of failing) {
    const r = nflab(lab, args, input);
    assert.notEqual(r.status, 0, `${args.join(' ')} should fail`);
    assert.equal(state(), orig, `${args.join(' ')} changed the state`);
  }
});

test('concurrent invocations on one lab are serialised: no update is lost', async () => {
  const lab = tempLab('nflab-conc-');
  assert.equal(nflab(lab, ['iptables', '-N', 'C']).status, 0);
  const n = 12;
  const runs = Array.from({ length: n }, (_, i) =>
    new Promise<number | null>((res) => {
      const c = spawn(bin, ['--lab', lab, 'iptables', '-w', '-A', 'C', '-s', `10.0.0.${i + 1}`, '-j', 'ACCEPT'], { stdio: 'ignore' });
      c.on('exit', (code) => res(code));
    }),
  );
  const codes = await Promise.all(runs);
  assert.deepEqual(codes, Array(n).fill(0));
  const rules = nflab(lab, ['iptables', '-S', 'C']).stdout.split('\n').filter((l) => l.startsWith('-A C'));
  assert.equal(rules.length, n);
  assert.equal(existsSync(join(lab, '.lock')), false);
});

test('a lock left empty by a process killed before writing its pid is taken over', () => {
  const lab = tempLab('nflab-lock-');
  assert.equal(nflab(lab, ['iptables', '-N', 'L']).status, 0);
  writeFileSync(join(lab, '.lock'), '');
  utimesSync(join(lab, '.lock'), new Date(Date.now() - 5000), new Date(Date.now() - 5000));
  const r = nflab(lab, ['iptables', '-A', 'L', '-j', 'ACCEPT']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(nflab(lab, ['iptables', '-S', 'L']).stdout, '-N L\n-A L -j ACCEPT\n');
  assert.equal(existsSync(join(lab, '.lock')), false);
});

test('a damaged state file is reported, never silently reset', () => {
  const lab = tempLab('nflab-dmg-');
  assert.equal(nflab(lab, ['iptables', '-A', 'INPUT', '-j', 'ACCEPT']).status, 0);
  writeFileSync(join(lab, 'state.json'), '{"version":2,"ruleset":{"filter":');
  const r = nflab(lab, ['iptables', '-L']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^nflab: lab state .*state\.json is damaged/);
  assert.equal(readFileSync(join(lab, 'state.json'), 'utf8'), '{"version":2,"ruleset":{"filter":');
});

test('a lab holding only machine files is created around them', () => {
  const lab = tempLab('nflab-fs-');
  spawnSync('mkdir', ['-p', join(lab, 'fs', 'etc')]);
  writeFileSync(join(lab, 'fs', 'etc', 'hosts'), '127.0.0.1 localhost\n192.0.2.7 webserver\n');
  const r = nflab(lab, ['iptables', '-A', 'INPUT', '-s', 'webserver', '-j', 'ACCEPT']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(nflab(lab, ['iptables', '-S', 'INPUT']).stdout, '-P INPUT ACCEPT\n-A INPUT -s 192.0.2.7/32 -j ACCEPT\n');
  assert.equal(readFileSync(join(lab, 'fs', 'etc', 'hosts'), 'utf8'), '127.0.0.1 localhost\n192.0.2.7 webserver\n');
  assert.equal(nflab(lab, ['iptables', '-L', 'INPUT']).stdout.split('\n')[2], 'ACCEPT     all  --  webserver            anywhere            ');
});
