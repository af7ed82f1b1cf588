/**
 * The engine (src/core) must run in a browser: no module of it may import
 * Node's built-ins or anything outside src/core.
 */
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const core = resolve(fileURLToPath(import.meta.url), '../../../src/core');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

test('src/core imports only src/core', () => {
  const files = sources(core);
  assert.ok(files.length > 50);
  const bad: string[] = [];
  for (const f of files) {
    for (const m of readFileSync(f, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*from\s+['"]([^'"]+)['"]/g)) {
      const spec = m[1]!;
      const target = spec.startsWith('.') ? resolve(f, '..', spec) : spec;
      if (!target.startsWith(core)) bad.push(`${f.slice(core.length + 1)}: ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});
