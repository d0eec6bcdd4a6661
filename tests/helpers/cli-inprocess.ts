/** Runs the CLI inside the test process (fast): stdout lines from `print`, stderr (progress, errors) captured. */
import assert from 'node:assert/strict';
import { runCli } from '../../src/main.js';

export interface CliRun {
  code: number;
  out: string[];
  err: string;
}

export async function cliInProcess(...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  let err = '';
  const write = process.stderr.write;
  const error = console.error;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  console.error = (...parts: unknown[]) => {
    err += `${parts.join(' ')}\n`;
  };
  try {
    const code = await runCli(['node', 'videoshop', ...args], (l) => out.push(l));
    return { code, out, err };
  } finally {
    process.stderr.write = write;
    console.error = error;
  }
}

/** A refused run: exit 2, nothing on stdout, exactly one `videoshop: …` line on stderr matching `message`. */
export function assertRefused(r: CliRun, message: RegExp): void {
  assert.equal(r.code, 2, r.err);
  assert.deepEqual(r.out, []);
  const lines = r.err.split('\n').filter((l) => l.trim() !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.err}`);
  assert.match(lines[0], /^videoshop: /);
  assert.match(lines[0], message);
}
