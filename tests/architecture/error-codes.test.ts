/**
 * One table of error codes (docs/api.md "Error codes") for every surface: each code the source can produce is in it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/oracle.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

test('every error code the source can produce is in the one table of docs/api.md', () => {
  const doc = readFileSync(path.join(repoRoot, 'docs', 'api.md'), 'utf8');
  const table = doc.slice(doc.indexOf('## Error codes'));
  const documented = new Set([...table.matchAll(/`([a-z][a-z0-9_]*)`/g)].map((m) => m[1]));
  const used = new Set<string>();
  for (const file of files(path.join(repoRoot, 'src'))) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:VideoshopError|StorageError)\(\s*'([a-z_]+)'/g)) used.add(m[1]);
    for (const m of text.matchAll(/\bcode: '([a-z_]+)'/g)) used.add(m[1]);
    for (const m of text.matchAll(/HttpError\(\d+, [^;]*?, '([a-z_]+)'\)/g)) used.add(m[1]);
    for (const m of text.matchAll(/new HubError\('([a-z-]+)'/g)) used.add(`hub_${m[1].replace(/-/g, '_')}`);
  }
  for (const kind of readFileSync(path.join(repoRoot, 'src', 'hub', 'errors.ts'), 'utf8').matchAll(/\| '([a-z-]+)'/g)) used.add(`hub_${kind[1].replace(/-/g, '_')}`);
  for (const m of readFileSync(path.join(repoRoot, 'src', 'server', 'http.ts'), 'utf8').matchAll(/\d{3}: '([a-z_]+)'/g)) used.add(m[1]);
  const missing = [...used].filter((c) => !documented.has(c)).sort();
  assert.deepEqual(missing, [], 'codes missing from the table');
  assert.ok(used.size > 50, `${used.size} codes found`);
});
