/**
 * Runs the real `videoshop` CLI in a child process (through tsx, straight from src/: no dependence on dist/), the way
 * a user runs it: arguments, environment, exit code, stdout and stderr, signals.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = path.join(REPO_ROOT, 'tests', 'helpers', 'run-cli.ts');
// Resolved here, so the child finds tsx whatever its working folder.
const TSX = import.meta.resolve('tsx');

export interface CliResult {
  /** Exit code; null when the process died of a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Variables set (a string) or removed (undefined) on top of this process's environment. */
  env?: Record<string, string | undefined>;
  /** Replace the environment entirely instead (PATH included). */
  cleanEnv?: boolean;
  cwd?: string;
  /** Kill the child (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number;
}

export interface CliProcess {
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr matches `pattern` (rejects if the process ends first). */
  waitForStderr(pattern: RegExp): Promise<void>;
  readonly done: Promise<CliResult>;
}

function childEnv(opts: CliOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = opts.cleanEnv ? {} : { ...process.env };
  delete env.NODE_TEST_CONTEXT; // node:test sets it for its own children; the CLI is not a test
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts `videoshop <args>`; see `runVideoshop` to simply wait for it. */
export function spawnVideoshop(args: readonly string[], opts: CliOptions = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', TSX, ENTRY, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: childEnv(opts),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const watchers: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    for (const w of watchers.splice(0)) {
      if (w.pattern.test(err)) w.resolve();
      else watchers.push(w);
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForStderr: (pattern) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(err)) return resolve();
        watchers.push({ pattern, resolve });
        void done.then((r) => reject(new Error(`videoshop exited (code ${r.code}) before stderr matched ${pattern}:\n${r.stderr}`)));
      }),
    done,
  };
}

/** Runs `videoshop <args>` to completion. */
export function runVideoshop(args: readonly string[], opts: CliOptions = {}): Promise<CliResult> {
  return spawnVideoshop(args, opts).done;
}
