/**
 * `analyzeTrajectory`: the paper's Fig. 3 diagnostic on one video. SVD generates a clip conditioned on the video's
 * first frame, recording x_T … x_0; the cosine similarity of x_t − x_0 for every pair of recorded states except x_0
 * itself shows how straight the denoising trajectory is, which is what noise extrapolation relies on (§3.5).
 */
import { DEFAULT_MODEL, loadSvd, type SvdModel } from '../models/svd.js';
import { generateTrajectory } from '../pipeline/generate.js';
import type { Device } from '../runtime/session.js';
import type { Tensor } from '../tensor.js';
import { probeVideo } from '../video/probe.js';
import { readFrames } from '../video/read.js';
import { processingSize } from '../video/size.js';
import { msg, option, VideoshopError } from '../util/errors.js';
import { trajectoryMatrix, trajectoryStats, type TrajectoryMatrix, type TrajectoryStats } from './trajectory.js';

/** The paper's numbers (§3.5): SVD, 100 videos, 25 steps. */
export const PAPER_TRAJECTORY_STATS: TrajectoryStats = Object.freeze({ meanAllPairs: 0.9282, meanAdjacent: 0.9919, minAdjacent: 0.9107 });

export const DEFAULT_TRAJECTORY_STEPS = 25;
export const DEFAULT_TRAJECTORY_SEED = 42;

export interface TrajectoryAnalysisOptions {
  readonly video: string;
  /** Hub id or diffusers folder (default: the paper's SVD). */
  readonly model?: string;
  readonly steps?: number;
  readonly seed?: number;
  /** Generation size (default: the video's aspect ratio at the model's native area). */
  readonly size?: { readonly width: number; readonly height: number };
  /** Frames generated (default: the model's, at most the video's frame count). */
  readonly frames?: number;
  readonly device?: Device;
  readonly dtype?: 'float32' | 'float16';
}

export type TrajectoryStage = 'download' | 'load' | 'generate';

export interface TrajectoryProgress {
  readonly stage: TrajectoryStage;
  readonly step: number;
  readonly total: number;
  readonly unit?: string;
}

export interface TrajectoryHooks {
  onProgress?: (p: TrajectoryProgress) => void;
  onNotice?: (message: string) => void;
  /** An already loaded model (tests, reuse); it is not released. */
  model?: SvdModel;
}

export interface TrajectoryAnalysis {
  readonly stats: TrajectoryStats;
  /** Cosine similarities of x_t − x_0 between the recorded states x_T … x_1 (x_0 excluded). */
  readonly matrix: TrajectoryMatrix;
  /** σ of each matrix row, from σ_max down. */
  readonly sigmas: readonly number[];
  readonly frames: number;
  readonly steps: number;
  readonly seed: number;
  readonly size: { readonly width: number; readonly height: number };
  /** The model as given (Hub id or folder). */
  readonly model: string;
}

export async function analyzeTrajectory(opts: TrajectoryAnalysisOptions, hooks: TrajectoryHooks = {}): Promise<TrajectoryAnalysis> {
  const progress = hooks.onProgress ?? (() => {});
  const steps = opts.steps ?? DEFAULT_TRAJECTORY_STEPS;
  const seed = opts.seed ?? DEFAULT_TRAJECTORY_SEED;
  // Two states besides x_0 are the least that make a pair.
  if (!Number.isInteger(steps) || steps < 2) throw new VideoshopError('bad_option', msg`${option('steps')} must be an integer ≥ 2, got ${steps}`, { field: 'steps' });
  if (!Number.isSafeInteger(seed) || seed < 0) throw new VideoshopError('bad_option', msg`${option('seed')} must be a non-negative integer, got ${seed}`, { field: 'seed' });
  if (opts.frames !== undefined && !(Number.isInteger(opts.frames) && opts.frames >= 1)) {
    throw new VideoshopError('bad_option', msg`${option('frames')} must be a positive integer, got ${opts.frames}`, { field: 'frames' });
  }
  const info = await probeVideo(opts.video);
  const model = opts.model ?? DEFAULT_MODEL;
  const svd = hooks.model ?? await loadSvd(model, {
    device: opts.device, dtype: opts.dtype, onNotice: hooks.onNotice,
    hub: { onProgress: (p) => progress({ stage: 'download', step: Math.round(p.bytes / 1e6), total: Math.round(p.totalBytes / 1e6), unit: 'MB' }) },
  });
  try {
    const size = opts.size ?? processingSize(info.width, info.height, { area: svd.nativeArea, multiple: svd.sizeMultiple });
    if (!(size.width > 0 && size.height > 0) || size.width % svd.sizeMultiple || size.height % svd.sizeMultiple) {
      throw new VideoshopError('bad_option', msg`${option('size')} ${size.width}x${size.height}: both sides must be positive multiples of ${svd.sizeMultiple} for this model`, { field: 'size' });
    }
    const frames = opts.frames ?? Math.min(svd.numFrames, info.frameCount);
    let first: Tensor | undefined;
    for await (const f of readFrames(opts.video, { width: size.width, height: size.height, count: 1, info })) first = f;
    if (!first) throw new VideoshopError('bad_input', `no frame could be read from ${opts.video}`);
    progress({ stage: 'generate', step: 0, total: steps });
    const trajectory = await generateTrajectory(svd.models, first, {
      frames, steps, seed, scheduler: svd.scheduler,
      onStep: (k, total) => progress({ stage: 'generate', step: k, total }),
    });
    const x0 = trajectory.states[trajectory.states.length - 1];
    const matrix = trajectoryMatrix(trajectory.states.slice(0, -1), x0);
    return {
      stats: trajectoryStats(matrix),
      matrix,
      sigmas: Array.from(trajectory.sigmas.subarray(0, matrix.size)),
      frames, steps, seed, size: { width: size.width, height: size.height }, model,
    };
  } finally {
    if (!hooks.model) await svd.release();
  }
}
