/** Where the Python oracle (tests/oracle/*.py, run by tests/oracle/run.sh) left its reference outputs. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export function oracleDir(name: string): string {
  const dir = path.join(repoRoot, 'tests', 'oracle', 'out', name);
  if (!existsSync(path.join(dir, 'DONE'))) {
    throw new Error(`oracle output "${name}" is missing: run \`bash tests/oracle/run.sh\` (npm test does it for you)`);
  }
  return dir;
}
