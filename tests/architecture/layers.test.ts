/**
 * The layering holds by the imports themselves (docs: the developers' guide, issue "one public face"): the engine's
 * layers only import downwards; the shells (cli/, server/) reach the engine only through src/edit/index.ts (the CLI
 * also uses eval/, the measuring tools) and never import each other; hub/ downloads what it is told and knows
 * nothing of models/; the page imports nothing of Node.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/oracle.js';

/** Lower ranks are lower layers; a file imports its own rank or below. */
const RANK: Record<string, number> = {
  util: 0, 'tensor.ts': 0, 'random.ts': 0,
  onnx: 1, safetensors: 1, schedulers: 1, image: 1, hub: 1,
  runtime: 2, video: 2, scenes: 2,
  models: 3,
  pipeline: 4,
  eval: 5, edit: 5,
  cli: 6, server: 6,
  'index.ts': 7, 'main.ts': 7,
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** Relative imports (static, dynamic and re-exports) of a file, resolved to repo-relative .ts paths. */
function importsOf(file: string): { target: string; typeOnly: boolean }[] {
  const text = readFileSync(file, 'utf8');
  const out: { target: string; typeOnly: boolean }[] = [];
  const re = /(?:^|\n)\s*(import|export)\s+(type\s+)?[^'"`;]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const spec = m[3] ?? m[4];
    const target = path.relative(repoRoot, path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
    out.push({ target, typeOnly: Boolean(m[2]) });
  }
  return out;
}

/** The layer of a src/ file: its top folder under src/, or its name for files at src/'s root. */
function layer(rel: string): string {
  const parts = rel.split(path.sep);
  return parts[1];
}

const src = files(path.join(repoRoot, 'src')).map((f) => path.relative(repoRoot, f));

test('the engine imports only downwards; nothing below the shells imports them', () => {
  const bad: string[] = [];
  for (const file of src) {
    const from = layer(file);
    for (const { target } of importsOf(path.join(repoRoot, file))) {
      if (!target.startsWith(`src${path.sep}`)) continue;
      const to = layer(target);
      if (from === to) continue;
      if (RANK[from] === undefined || RANK[to] === undefined) bad.push(`${file}: unknown layer of ${target}`);
      else if (RANK[to] > RANK[from] || (RANK[to] === RANK[from] && RANK[from] >= 5)) bad.push(`${file} → ${target}`);
    }
  }
  assert.deepEqual(bad, []);
});

test('the shells reach the engine only through src/edit/index.ts, and never each other', () => {
  const face = path.join('src', 'edit', 'index.ts');
  const bad: string[] = [];
  for (const file of src) {
    const from = layer(file);
    if (from !== 'cli' && from !== 'server') continue;
    for (const { target } of importsOf(path.join(repoRoot, file))) {
      const to = layer(target);
      const ok = to === from || target === face || (from === 'cli' && to === 'eval');
      if (!ok) bad.push(`${file} → ${target}`);
    }
  }
  assert.deepEqual(bad, []);
  // Only the composition root brings the two shells together.
  const main = importsOf(path.join(repoRoot, 'src', 'main.ts')).map((i) => i.target).sort();
  assert.deepEqual(main, [path.join('src', 'cli', 'main.ts'), path.join('src', 'server', 'command.ts')]);
});

test('hub/ knows nothing of models/ (it downloads the file plan it is given)', () => {
  const bad = src.filter((f) => layer(f) === 'hub').flatMap((f) => importsOf(path.join(repoRoot, f))
    .filter((i) => !['hub', 'util'].includes(layer(i.target))).map((i) => `${f} → ${i.target}`));
  assert.deepEqual(bad, []);
});

test('the page talks to the API only: it imports its own files, and API types from the server (types only)', () => {
  const web = files(path.join(repoRoot, 'web', 'src')).map((f) => path.relative(repoRoot, f));
  const bad: string[] = [];
  for (const file of web) {
    for (const { target, typeOnly } of importsOf(path.join(repoRoot, file))) {
      if (target.startsWith(path.join('web', 'src'))) continue;
      if (typeOnly && target === path.join('src', 'server', 'api-types.ts')) continue;
      bad.push(`${file} → ${target}${typeOnly ? ' (type)' : ''}`);
    }
  }
  assert.deepEqual(bad, []);
});
