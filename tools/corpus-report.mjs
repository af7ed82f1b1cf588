#!/usr/bin/env node
// Markdown summary of the two corpus suites, for the README: the .t corpus agreement figures, per-file
// counts and every disagreement; the rulesets, one row each. Runs the same code as the tests
// (dist/test/corpus/*.js, so `npm run build` first).
//
//   node tools/corpus-report.mjs [options]
//     --backend nflab|kernel  what to measure (default nflab; `kernel` = the real iptables of this
//                             machine in fresh network namespaces, root only: checks the runners, and
//                             must give 100% agreement)
//     --only t|rulesets       run one suite only
//     --files a.t,b.t         restrict the .t suite to these files
//     --rule-text             print the corpus line and a reproduction command for each disagreement
//                             (the corpus is GPL/NonCommercial material: keep this out of the README)
//     --diffs                 print the full save diff of each failing ruleset (same caveat)
//     --write-known           rewrite test/corpus/t-known-disagreements.txt from this run (nflab only)
//     --json FILE             also write the raw figures as JSON
//   Environment: NFLAB_SHARED (the shared dir), NFLAB_NETNS_PREFIX (netns name prefix, kernel backend).
import { writeFileSync } from 'node:fs';

const dist = new URL('../dist/test/corpus/', import.meta.url);
const load = (name) => import(new URL(name, dist).href);

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const flag = (name) => args.includes(name);
const backendName = opt('--backend') ?? 'nflab';
const only = opt('--only');
const onlyFiles = opt('--files')?.split(',');

const { nflabBackend, kernelBackend } = await load('backend.js');
const paths = await load('paths.js');
const tc = await load('t-corpus.js');
const { loadTReference } = await load('t-reference.js');
const { loadIpv4TFiles } = await load('tfile.js');
const rs = await load('rulesets.js');

if (!paths.corpusAvailable()) {
  console.error(`shared corpus not found under ${paths.SHARED_DIR} (set NFLAB_SHARED)`);
  process.exit(1);
}
const backend = backendName === 'kernel' ? kernelBackend(process.env.NFLAB_NETNS_PREFIX ?? 'nflabreport') : nflabBackend();
const md = [];
const json = { backend: backendName };
const progress = (s) => process.stderr.write(s);

/** One rule-free line for an outcome (`stderr`: the full error text, when known). */
function brief(pass, why, stderr) {
  if (pass) return 'passes';
  const kind = tc.outcomeKind(pass, why);
  if (why.startsWith('cannot load: ')) {
    const first = stderr?.split('\n')[0];
    return `${kind}: \`${first || why.slice('cannot load: '.length)}\``;
  }
  const g = /; got (\[.*\])$/s.exec(why);
  if (g) return `${kind}: saved as \`${g[1]}\``;
  const d = why.indexOf(' | cannot delete: ');
  if (d >= 0) return `${kind}; delete: \`${why.slice(d + 18).split('\n').pop()}\``;
  return kind;
}

if (only !== 'rulesets') {
  let tfiles = loadIpv4TFiles(paths.T_DIR);
  if (onlyFiles) tfiles = tfiles.filter((t) => onlyFiles.includes(t.name));
  const reference = loadTReference(paths.T_KERNEL_RESULTS);
  if (onlyFiles) for (const k of [...reference.keys()]) if (!onlyFiles.includes(k)) reference.delete(k);
  const rep = await tc.runTCorpus(backend, tfiles, reference, (res, cmp) => {
    const bad = cmp.filter((c) => !c.agree).length;
    progress(`${res.file}: ${cmp.length - bad}/${cmp.length} agree\n`);
  });
  json.t = {
    totalLines: rep.totalLines,
    realPassed: rep.realPassed,
    agree: rep.agree,
    agreeOnRealPassed: rep.agreeOnRealPassed,
    disagreements: rep.disagreements,
    files: rep.files,
  };
  md.push('## Upstream .t corpus (iptables 1.8.9 extension tests, IPv4 files)', '');
  md.push(
    `Measured against what the real iptables 1.8.9 (nf_tables) did with the same lines (Debian 12, kernel 6.18): ` +
      `${backendName} agrees on **${rep.agreeOnRealPassed}/${rep.realPassed} (${tc.percent(rep.agreeOnRealPassed, rep.realPassed)})** ` +
      `of the lines the real iptables passes, and on **${rep.agree}/${rep.totalLines} (${tc.percent(rep.agree, rep.totalLines)})** of all ` +
      `lines (for the ${rep.totalLines - rep.realPassed} lines the real one does not pass, the reference is what it actually did). ` +
      `${tfiles.length} files, ${rep.disagreements.length} disagreement(s).`,
    '',
  );
  md.push('| file | lines | real passes | agrees | disagreements |', '|---|---:|---:|---:|---:|');
  for (const f of rep.files) md.push(`| ${f.file} | ${f.lines} | ${f.realPassed} | ${f.agree} | ${f.lines - f.agree || ''} |`);
  md.push('');
  if (rep.disagreements.length > 0) {
    md.push(`### Disagreements (${rep.disagreements.length})`, '');
    for (const c of rep.comparisons.filter((x) => !x.agree)) {
      md.push(`- \`${tc.lineId(c.file, c.lineno)}\`${c.got.chain ? ` (chain ${c.got.chain})` : ''}: real ${brief(c.realPass, c.realWhy)}; ${backendName} ${brief(c.got.pass, c.got.why, c.got.stderr)}`);
    }
    md.push('');
    if (flag('--rule-text')) {
      md.push('```');
      for (const c of rep.comparisons.filter((x) => !x.agree)) md.push(tc.describeDisagreement(c, true));
      md.push('```', '');
    }
  }
  if (flag('--write-known')) {
    if (backendName !== 'nflab' || onlyFiles) {
      console.error('--write-known needs the nflab backend and every file');
      process.exit(2);
    }
    tc.writeKnownDisagreements(paths.T_KNOWN_DISAGREEMENTS, rep);
    progress(`wrote ${paths.T_KNOWN_DISAGREEMENTS}\n`);
  }
}

if (only !== 't') {
  const cases = rs.loadRulesetCases();
  const rows = [];
  const details = [];
  const unsupportedBy = new Map();
  let same = 0;
  let unsupported = 0;
  for (const c of cases) {
    if (!unsupportedBy.has(c.save)) unsupportedBy.set(c.save, await rs.unsupportedReason(backend, c.save));
    const reason = unsupportedBy.get(c.save);
    const real = c.expect.kind === 'accepted' ? `accepted, ${c.expect.rules} rules` : `refused (status ${c.expect.status})`;
    if (reason !== undefined) {
      unsupported++;
      rows.push({ name: `${c.group}/${c.name}`, family: c.family, real, got: `NOT SUPPORTED (${c.restore})` });
      progress(`${c.group}/${c.name}: not supported\n`);
      continue;
    }
    const t0 = Date.now();
    const run = await rs.runRuleset(backend, c);
    const ms = Date.now() - t0;
    const problems = rs.checkRuleset(c, run);
    if (problems === '') same++;
    else details.push(problems);
    // Headline: our own problem sentences only, never diff lines (rulesets may be NonCommercial).
    const restoreErr = run.restore.status !== 0 ? JSON.stringify(run.restore.stderr.split('\n')[0]).slice(1, -1) : undefined;
    const headline =
      problems === ''
        ? 'same'
        : problems
            .split('\n')
            .slice(1)
            .filter((l) => /^(ip6?tables-(restore|save) |state after)/.test(l))
            .map((l) => l.replace(/:$/, '').replace(/ \(the real one did\)$/, ''))
            .join('; ') + (restoreErr ? `; nflab: \`${restoreErr.replace(/[`|]/g, '')}\`` : '');
    rows.push({ name: `${c.group}/${c.name}`, family: c.family, real, got: problems === '' ? 'same' : `DIFFERS: ${headline}`, ms });
    progress(`${c.group}/${c.name}: ${problems === '' ? 'same' : 'DIFFERS'} (${ms} ms)\n`);
  }
  json.rulesets = { total: cases.length, same, unsupported, rows };
  md.push('## Real-world rulesets (iptables-restore, then iptables-save)', '');
  md.push(
    `${same}/${cases.length - unsupported} runnable rulesets give exactly what the real iptables 1.8.9 (nf_tables) gave ` +
      `(same save output apart from the dated comments; or, for refused files, same status, stderr and leftover state).` +
      (unsupported > 0 ? ` ${unsupported} IPv6 ruleset(s) are NOT SUPPORTED: nflab has no ip6tables-restore/ip6tables-save yet.` : ''),
    '',
  );
  md.push(`| ruleset | family | real iptables | ${backendName} | ms |`, '|---|---|---|---|---:|');
  for (const r of rows) md.push(`| ${r.name} | ${r.family} | ${r.real} | ${r.got} | ${r.ms ?? ''} |`);
  md.push('');
  if (flag('--diffs') && details.length > 0) md.push('```', ...details, '```', '');
}

console.log(md.join('\n'));
const jf = opt('--json');
if (jf) writeFileSync(jf, JSON.stringify(json, null, 2) + '\n');
