/**
 * Prints a scenario as a shell script, for reproducing it by hand:
 * `node dist/test/scenario/print.js kernel|nflab NAME-SUBSTRING|SEED` (a
 * number is a random scenario's seed). The
 * kernel form names the namespaces nflabt-<NS> and ends by deleting them;
 * the nflab form is a script for `nflab run`.
 */
import { setupCommands, withNames } from './build.js';
import { FTP_WALKTHROUGHS, HOST_WALKTHROUGHS, REPRODUCERS, WALKTHROUGHS } from './scenarios.js';
import { randomScenario } from './random.js';
import type { Scenario } from './types.js';

const quote = (w: string): string => (/^[A-Za-z0-9_./:=%,+@-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

/** iptables-restore text as the iptables commands that build the same rules (nflab scripts have no here-documents). */
function restoreAsCommands(prefix: string, text: string): string[] {
  const out: string[] = [];
  let table = 'filter';
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1);
    const policy = /^:(\S+) (ACCEPT|DROP) /.exec(line);
    if (policy && policy[2] !== 'ACCEPT') out.push(`${prefix} iptables -t ${table} -P ${policy[1]} ${policy[2]}`);
    if (line.startsWith('-A ')) out.push(`${prefix} iptables -t ${table} ${line}`);
  }
  return out;
}

/** The scenario as shell lines; `kernel` prefixes the namespace names with nflabt-. */
export function scenarioScript(s: Scenario, kernel: boolean): string {
  const names = new Map(s.namespaces.map((ns) => [ns, kernel ? `nflabt-${ns}` : ns]));
  const out: string[] = [`# ${s.name}`];
  for (const c of setupCommands(s, names)) {
    if (c.stdin !== undefined) out.push(...restoreAsCommands(c.argv.slice(0, -1).map(quote).join(' '), c.stdin));
    else out.push(c.argv.map(quote).join(' '));
  }
  for (const svc of s.services ?? []) {
    if (svc.kind === 'nc') out.push(`ip netns exec ${names.get(svc.ns)} nc -l -k ${svc.port} &`);
    else out.push(`cat > /tmp/vsftpd.conf <<'EOF'\n${svc.conf}${kernel ? '\nbackground=NO' : ''}\nEOF`, `ip netns exec ${names.get(svc.ns)} vsftpd /tmp/vsftpd.conf &`);
  }
  if (s.capture) out.push(`ip netns exec ${names.get(s.capture.ns)} tcpdump -l -n -i ${s.capture.dev} ${s.capture.filter.map(quote).join(' ')} &`);
  if (kernel) out.push('sleep 0.5');
  for (const st of s.steps) {
    const line = ['ip', 'netns', 'exec', names.get(st.ns)!, ...withNames(st.argv, names)].map(quote).join(' ');
    out.push(st.stdin === undefined ? line : `printf '${st.stdin.replace(/\n/g, '\\n')}' | ${line}`);
  }
  if (kernel) out.push('sleep 0.3; kill %1 %2 %3 2>/dev/null; wait', ...[...names.values()].map((n) => `ip netns del ${n}`));
  return out.join('\n') + '\n';
}

if (process.argv[1]?.endsWith('/scenario/print.js')) {
  const [mode, pattern] = process.argv.slice(2);
  const found = /^\d+$/.test(pattern ?? '') ? [randomScenario(Number(pattern))] : [...WALKTHROUGHS, ...FTP_WALKTHROUGHS, ...HOST_WALKTHROUGHS, ...REPRODUCERS].filter((s) => s.name.includes(pattern ?? ''));
  for (const s of found) process.stdout.write(scenarioScript(s, mode === 'kernel'));
}
