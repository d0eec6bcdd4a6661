/** What the fault-injection tests share: tiny tmpfs mounts (CI runs as root), dead pids, frame generators. */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import type { Tensor } from '../../src/tensor.js';

/** Why a tmpfs cannot be mounted here (not root, no mount), or undefined when it can. */
export function tmpfsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to mount a tmpfs (CI runs as root)';
  const probe = spawnSync('mount', ['--version']);
  if (probe.error) return `no mount command (${probe.error.message})`;
  return undefined;
}

/** Mounts a tmpfs of `size` (e.g. '256k') at `dir`, read-only with `ro`; returns the unmount function. */
export function mountTmpfs(dir: string, size: string, ro = false): () => void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${ro ? ',ro' : ''}`, 'tmpfs', dir]);
  return () => {
    spawnSync('umount', ['-l', dir]);
  };
}

/**
 * A read-only folder at `dir`: a read-only tmpfs where one can be mounted (read-only for root too), else a chmod 555
 * folder (not read-only for root). Returns the clean-up function.
 */
export function readOnlyFolder(dir: string): () => void {
  if (tmpfsUnavailable() === undefined) return mountTmpfs(dir, '64k', true);
  mkdirSync(dir);
  chmodSync(dir, 0o555);
  return () => {};
}

/** The pid of a process that has exited (for stale temp files). */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

export function solid(width: number, height: number, v: number): Tensor {
  return { data: new Float32Array(3 * width * height).fill(v), dims: [3, height, width] };
}

/** Frames of uniform noise: they do not compress, so a few fill a tiny disk. */
export function noise(width: number, height: number, seed: number): Tensor {
  const data = new Float32Array(3 * width * height);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = ((x >>> 0) / 2 ** 32) * 2 - 1;
  }
  return { data, dims: [3, height, width] };
}

export function listing(dir: string): string[] {
  return readdirSync(dir).sort();
}
