/**
 * Where the Python oracle (tests/oracle/*.py, run by tests/oracle/run.sh) left its reference outputs, and which tests
 * run without them.
 *
 * A test that reads oracle output declares it, `test('…', { skip: oracleSkip('unet') }, …)`, and reads the files in
 * its body (oracleDir, oracleData), never at import: a file's other tests then run whether or not the oracle did. A
 * missing output skips such a test only when VIDEOSHOP_SKIP_ORACLE=1 asks for it; otherwise the test runs and fails
 * in oracleDir, so plain `npm test` (what CI runs) can never go green by silently skipping parity.
 *
 * Skips are per test, not per describe: node 20 leaves a skipped suite out of the report's `# skipped` count, which
 * scripts/run-tests.mjs prints. Data is loaded lazily (oracleData) rather than in `before` hooks: hooks run even when
 * every test under them is skipped, and a failing hook would fail its oracle-free neighbours too.
 */
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const outDir = (name: string): string => path.join(repoRoot, 'tests', 'oracle', 'out', name);
/** run.sh writes DONE last, so a half-written output counts as missing. */
const present = (name: string): boolean => existsSync(path.join(outDir(name), 'DONE'));

/** For node:test's `skip` option: the reason when output `name` is missing and VIDEOSHOP_SKIP_ORACLE=1, else false. */
export function oracleSkip(name: string): string | false {
  if (present(name) || process.env.VIDEOSHOP_SKIP_ORACLE !== '1') return false;
  return `oracle output "${name}" missing: VIDEOSHOP_SKIP_ORACLE=1 skips the tests that read it (\`bash tests/oracle/run.sh\` makes it)`;
}

/** The folder of oracle output `name`; throws when it is missing, failing the test that asked. */
export function oracleDir(name: string): string {
  if (!present(name)) {
    throw new Error(`oracle output "${name}" is missing: run \`bash tests/oracle/run.sh\` (npm test does it for you), `
      + 'or set VIDEOSHOP_SKIP_ORACLE=1 to skip the tests that need it');
  }
  return outDir(name);
}

/** `load(folder of output name)`, run on the first call and kept: a file's shared oracle data, read inside its tests. */
export function oracleData<T>(name: string, load: (dir: string) => T): () => T {
  let data: { value: T } | undefined;
  return () => (data ??= { value: load(oracleDir(name)) }).value;
}

/**
 * For one test (or describe) per oracle case. Their names come from the output, so `list` reads it at import, and only
 * when it is there. Without it, one test named `what` stands in for all of them: skipped with the reason under
 * VIDEOSHOP_SKIP_ORACLE=1, failing otherwise. Returns the cases as [name, case] pairs, none when missing.
 */
export function oracleCases<T>(name: string, what: string, list: (dir: string) => Record<string, T>): [string, T][] {
  if (present(name)) return Object.entries(list(oracleDir(name)));
  test(what, { skip: oracleSkip(name) }, () => {
    oracleDir(name);
  });
  return [];
}
