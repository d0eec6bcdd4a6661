/**
 * The paper's Fig. 3 diagnostic of how straight the denoising trajectory is: for latents x_t along one trajectory
 * and its end point x_0, the cosine similarity of (x_t − x_0) and (x_t' − x_0) for every pair of steps.
 * Reported statistics (§3.5): the mean over all pairs t ≠ t' (the diagonal, always 1, is excluded; the matrix is
 * symmetric so ordered and unordered pairs agree), the mean over adjacent pairs (t, t+1) and their minimum.
 * Across several trajectories the paper averages the means and takes the minimum of the minima
 * (`aggregateTrajectoryStats`).
 */
import { cosineSimilarity } from './clip-metrics.js';

export interface TrajectoryMatrix {
  /** Number of latents n. */
  readonly size: number;
  /** Row-major n×n cosine similarities. */
  readonly values: Float64Array;
}

export interface TrajectoryStats {
  /** Mean over all pairs t ≠ t'. */
  readonly meanAllPairs: number;
  /** Mean over adjacent pairs (t, t+1). */
  readonly meanAdjacent: number;
  /** Minimum over adjacent pairs (t, t+1). */
  readonly minAdjacent: number;
}

/** Cosine similarities of (x_t − x_0) for all pairs. Throws if some x_t equals x_0 (no direction). */
export function trajectoryMatrix(latents: readonly Float32Array[], x0: Float32Array): TrajectoryMatrix {
  const n = latents.length;
  const diffs = latents.map((x, t) => {
    if (x.length !== x0.length) throw new Error(`trajectory: latent ${t} has ${x.length} values, x_0 has ${x0.length}`);
    const d = new Float64Array(x.length);
    let norm = 0;
    for (let i = 0; i < x.length; i++) {
      d[i] = x[i] - x0[i];
      norm += d[i] * d[i];
    }
    if (norm === 0) throw new Error(`trajectory: latent ${t} equals x_0, so x_t − x_0 has no direction`);
    return d;
  });
  const values = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    values[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const c = cosineSimilarity(diffs[i], diffs[j], 0);
      values[i * n + j] = c;
      values[j * n + i] = c;
    }
  }
  return { size: n, values };
}

/** The three summary numbers of one trajectory's matrix (needs at least 2 latents). */
export function trajectoryStats(m: TrajectoryMatrix): TrajectoryStats {
  const n = m.size;
  if (n < 2) throw new Error('trajectory: needs at least 2 latents');
  let all = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) all += m.values[i * n + j];
  let adjacent = 0;
  let minAdjacent = Infinity;
  for (let i = 0; i + 1 < n; i++) {
    const c = m.values[i * n + i + 1];
    adjacent += c;
    minAdjacent = Math.min(minAdjacent, c);
  }
  return { meanAllPairs: all / ((n * (n - 1)) / 2), meanAdjacent: adjacent / (n - 1), minAdjacent };
}

/** Over several trajectories: means averaged, minimum of minima. */
export function aggregateTrajectoryStats(stats: readonly TrajectoryStats[]): TrajectoryStats {
  if (stats.length === 0) throw new Error('trajectory: no statistics to aggregate');
  const avg = (f: (s: TrajectoryStats) => number): number => stats.reduce((s, x) => s + f(x), 0) / stats.length;
  return {
    meanAllPairs: avg((s) => s.meanAllPairs),
    meanAdjacent: avg((s) => s.meanAdjacent),
    minAdjacent: Math.min(...stats.map((s) => s.minAdjacent)),
  };
}

/**
 * CSV of the matrix: a header row "step,<label 0>,…" and one row per latent, first cell its label.
 * Labels default to the indices 0…n−1 (pass sigmas or timesteps to name the steps).
 */
export function trajectoryCsv(m: TrajectoryMatrix, labels?: readonly (string | number)[]): string {
  const n = m.size;
  if (labels && labels.length !== n) throw new Error(`trajectory CSV: ${labels.length} labels for ${n} rows`);
  const name = (i: number): string => csvCell(String(labels ? labels[i] : i));
  const lines = [[labels ? 'sigma' : 'state', ...Array.from({ length: n }, (_, i) => name(i))].join(',')];
  for (let i = 0; i < n; i++) {
    const row = [name(i)];
    for (let j = 0; j < n; j++) row.push(String(m.values[i * n + j]));
    lines.push(row.join(','));
  }
  return lines.join('\n') + '\n';
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
