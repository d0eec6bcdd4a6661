#!/usr/bin/env node
// The test command: refresh the Python oracle's reference outputs, then run every tests/**/*.test.ts with
// node's test runner (through tsx), and close with the line `N passed, N failed` that CI reads, or
// `N passed, N failed, N skipped` when some were skipped (e.g. oracle tests under VIDEOSHOP_SKIP_ORACLE=1).
// The format is parsed by CI: keep it exactly so, on a line of its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const filters = process.argv.slice(2);

function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'oracle') continue;
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (entry.endsWith('.test.ts')) out.push(full);
  }
  return out.sort();
}

if (process.env.VIDEOSHOP_SKIP_ORACLE !== '1') {
  const oracle = spawnSync('bash', [path.join(root, 'tests/oracle/run.sh')], { stdio: 'inherit' });
  if (oracle.status !== 0) {
    console.error('The Python oracle failed; parity tests cannot run. (Set VIDEOSHOP_SKIP_ORACLE=1 to skip it.)');
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
}

const files = findTests(path.join(root, 'tests')).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
const tap = path.join(mkdtempSync(path.join(tmpdir(), 'videoshop-tests-')), 'report.tap');
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files],
  { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_ENV: 'test' } },
);
let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const report = readFileSync(tap, 'utf8');
  passed = Number(/^# pass (\d+)/m.exec(report)?.[1] ?? 0);
  failed = Number(/^# fail (\d+)/m.exec(report)?.[1] ?? 0) + Number(/^# cancelled (\d+)/m.exec(report)?.[1] ?? 0);
  skipped = Number(/^# skipped (\d+)/m.exec(report)?.[1] ?? 0);
} catch {
  failed = Math.max(failed, 1);
}
if (result.status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed === 0 && result.status === 0 ? 0 : 1);
