/**
 * The lab's state file: the streaming writer produces exactly the JSON of
 * the plain conversion, and reading it back gives the same ruleset.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNflab } from '../src/cli/main.js';
import { rulesetFromDisk, rulesetToDisk, writeRulesetJson } from '../src/cli/lab/persist.js';
import { loadState } from '../src/cli/lab/store.js';

test('streamed state JSON equals the plain conversion and reads back whole', async () => {
  const lab = mkdtempSync(join(tmpdir(), 'nflab-persist-'));
  const rules = ['*filter', ':INPUT DROP [3:180]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':web - [0:0]'];
  for (let i = 0; i < 1203; i++) rules.push(`[${i}:${i * 60}] -A web -s 10.0.${i >> 8}.${i & 255} -p tcp -m tcp --dport ${i + 1} -m comment --comment "r${i}" -j ACCEPT`);
  rules.push('-A INPUT -i lo -j ACCEPT', '-A INPUT -g web', '[18446744073709551615:1] -A INPUT -j DROP', 'COMMIT');
  rules.push('*nat', ':PREROUTING ACCEPT [0:0]', ':INPUT ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':POSTROUTING ACCEPT [0:0]', '-A POSTROUTING -o eth0 -j MASQUERADE', 'COMMIT', '');
  const r = await runNflab(['--lab', lab, 'iptables-restore', '-c'], { stdin: rules.join('\n') });
  assert.equal(r.status, 0, r.stderr);
  const rs = loadState(lab).ruleset;
  let streamed = '';
  writeRulesetJson(rs, (chunk) => (streamed += chunk));
  assert.equal(streamed, JSON.stringify(rulesetToDisk(rs)));
  assert.deepEqual(rulesetFromDisk(JSON.parse(streamed)), rs);
  const save = await runNflab(['--lab', lab, 'iptables-save', '-c']);
  assert.match(save.stdout, /^\[18446744073709551615:1\] -A INPUT -j DROP$/m);
  assert.equal(save.stdout.split('\n').filter((l) => l.includes('-A web')).length, 1203);
  rmSync(lab, { recursive: true, force: true });
});
