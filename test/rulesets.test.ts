/**
 * The real-world rulesets (shared/corpus/rulesets and rulesets-fixed): `iptables-restore < FILE` then
 * `iptables-save` through nflab in-process, compared with what the real iptables 1.8.9 (nf_tables)
 * did. Accepted files: the save output must be identical apart from the dated comment lines. Refused
 * files: same exit status and stderr, and the same tables / rule count left behind. One test per file;
 * IPv6 files (*.v6) are reported as SKIPPED "not supported" while nflab has no ip6tables.
 */
import { describe, it } from 'node:test';
import { strict as assert } from 'node:assert';
import { nflabBackend } from './corpus/backend.js';
import { corpusAvailable } from './corpus/paths.js';
import { checkRuleset, loadRulesetCases, runRuleset, unsupportedReason } from './corpus/rulesets.js';

describe('real-world rulesets: nflab vs real iptables 1.8.9 (nf_tables)', { skip: corpusAvailable() ? false : 'shared corpus not found (../shared or $NFLAB_SHARED)' }, () => {
  if (!corpusAvailable()) return;
  const cases = loadRulesetCases();
  const backend = nflabBackend();
  const probes = new Map<string, Promise<string | undefined>>();
  const probe = (save: string): Promise<string | undefined> => {
    if (!probes.has(save)) probes.set(save, unsupportedReason(backend, save));
    return probes.get(save)!;
  };
  const unsupported: string[] = [];

  for (const c of cases) {
    it(`${c.group}/${c.name}`, async (t) => {
      const reason = await probe(c.save);
      if (reason !== undefined) {
        unsupported.push(`${c.group}/${c.name}`);
        t.skip(`NOT SUPPORTED: ${c.family} ruleset needs ${c.restore}/${c.save}, which nflab lacks (${reason})`);
        return;
      }
      const problems = checkRuleset(c, await runRuleset(backend, c));
      if (problems !== '') assert.fail(problems);
    });
  }

  it('lists the rulesets nflab cannot run', (t) => {
    const msg =
      unsupported.length === 0
        ? 'every ruleset ran'
        : `${unsupported.length} ruleset(s) NOT SUPPORTED (no ip6tables in nflab): ${unsupported.join(', ')}`;
    t.diagnostic(msg);
    console.log(`[rulesets] ${msg}`);
  });
});
