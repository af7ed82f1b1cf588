/**
 * Where the corpus suites find their inputs.
 *
 * The corpora live OUTSIDE the repository (../shared beside the checkout, or $NFLAB_SHARED): several
 * of them carry licences that forbid copying them into the project, so the suites read them at run
 * time. Compiled helpers sit in dist/test/corpus/, hence the `../../../` to reach the repository root.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

/** Absolute path of the repository root (the directory holding package.json). */
export const REPO_ROOT: string = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

/** Absolute path of the shared material directory (`$NFLAB_SHARED`, else `<repo>/../shared`). */
export const SHARED_DIR: string = resolve(process.env['NFLAB_SHARED'] ?? join(REPO_ROOT, '..', 'shared'));

/** Absolute path of shared/corpus. */
export const CORPUS_DIR: string = join(SHARED_DIR, 'corpus');

/** Upstream iptables 1.8.9 extension test files (*.t). */
export const T_DIR: string = join(CORPUS_DIR, 'iptables-t');

/** What the real iptables 1.8.9 (nf_tables) did with every IPv4 .t line. */
export const T_KERNEL_RESULTS: string = join(CORPUS_DIR, 'iptables-t-kernel', 'full189_nft.txt');

/** The checked-in list of .t lines on which nflab and the real iptables disagree. */
export const T_KNOWN_DISAGREEMENTS: string = join(REPO_ROOT, 'test', 'corpus', 't-known-disagreements.txt');

/** Real-world rulesets as found. */
export const RULESETS_DIR: string = join(CORPUS_DIR, 'rulesets');

/** Rulesets mended for anonymisation damage (one mechanical edit each). */
export const RULESETS_FIXED_DIR: string = join(CORPUS_DIR, 'rulesets-fixed');

/** What real iptables-restore / iptables-save did with the rulesets. */
export const RULESETS_KERNEL_DIR: string = join(CORPUS_DIR, 'rulesets-kernel');

/** True when the shared corpus is present (it is on developer machines and in CI). */
export function corpusAvailable(): boolean {
  return existsSync(T_DIR) && existsSync(RULESETS_DIR);
}
