/** Runs the CLI inside the test process (fast): stdout lines from `print`, stderr (progress, errors) captured. */
import { runCli } from '../../src/cli/main.js';

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
