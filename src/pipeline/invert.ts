/**
 * Inversion of the clean latents x̂0 up to σ_start (paper §3.4–3.5): each step solves Eq. 4 for x̂_{t+1}
 * with the network evaluated at an estimate of x̂_{t+1} — x̂_t itself (naive, Eq. 5), or the noise
 * extrapolation x̄_{t+1} of Eq. 6 (Eq. 7) — or, as a costly lower bound, at the exact fixed point.
 */
import type { Denoiser } from '../models/types.js';
import { inverseEulerStep, predictOriginal, type PredictionType, type Schedule } from '../schedulers/euler.js';
import type { Tensor } from '../tensor.js';
import { predictBranches, type Conditioning } from './conditioning.js';
import { latentShape, meanStd } from './latents.js';
import type { InversionMode, ThresholdNoiseScale } from './options.js';

export interface InversionSettings {
  readonly mode: InversionMode;
  /** Σ of Eq. 6; null = always extrapolate (divides by σ_t = 0 on the first step → NaN). */
  readonly threshold: number | null;
  readonly thresholdNoise: ThresholdNoiseScale;
}

/** Which estimate of x̂_{t+1} the network saw at one step. */
export type InversionBranch = 'naive' | 'extrapolate' | 'noise';

/** The reference's test: extrapolate while the LOWER level σ_t exceeds Σ (`sigma_current > 1`). */
export function inversionBranch(settings: InversionSettings, sigmaLow: number): InversionBranch {
  if (settings.mode === 'naive') return 'naive';
  if (settings.threshold === null || sigmaLow > settings.threshold) return 'extrapolate';
  return 'noise';
}

/** Eq. 6, σ_t > Σ: x̄ = x̂0 + (x̂_t − x̂0)/σ_t·σ_{t+1}. At σ_t = 0 this is 0/0 = NaN, as in Table 5. */
export function extrapolate(x0: Float32Array, xHat: Float32Array, sigmaLow: number, sigmaHigh: number): Float32Array {
  return xHat.map((x, i) => x0[i] + ((x - x0[i]) / sigmaLow) * sigmaHigh);
}

/** Eq. 6, σ_t ≤ Σ, reference form: x̄ = x̂0 + ε·σ_{t+1}·scale (scale = std(x̂0) or 1). */
export function noisyEstimate(x0: Float32Array, noise: Float32Array, sigmaHigh: number, scale: number): Float32Array {
  return x0.map((x, i) => x + noise[i] * sigmaHigh * scale);
}

export interface InversionInput {
  readonly denoiser: Denoiser;
  readonly schedule: Schedule;
  readonly prediction: PredictionType;
  /** x̂0, [1, F, C, h, w]. */
  readonly x0: Tensor;
  /** ε, same shape as x0; drawn once and reused at every step. Unused by naive inversion. */
  readonly noise: Tensor;
  /** No guidance during inversion (the reference runs it at guidance 1: one branch). */
  readonly conditioning: Conditioning;
  readonly settings: InversionSettings;
  /** Called after each step with k = 1 … total and x̂ just reached, at σ = sigmas[numSteps − k] (the inversion's trajectory). */
  readonly onStep?: (k: number, total: number, x: Float32Array) => void;
}

export interface InversionResult {
  /** x̂ at σ_start = sigmas[startIndex], [1, F, C, h, w]. */
  readonly latents: Tensor;
  /** The branch of each step, in the order run (lowest noise level first). */
  readonly branches: InversionBranch[];
}

/**
 * The reference loop: i = steps − 1 down to startIndex, σ_{t+1} = sigmas[i], σ_t = sigmas[i + 1] (0 on the
 * first step), network timestep timesteps[i] with c_in(σ_{t+1}), then the implicit inverse Euler step.
 */
export async function invertLatents(p: InversionInput): Promise<InversionResult> {
  const shape = latentShape(p.x0, 'x̂0');
  if (p.noise.data.length !== p.x0.data.length) throw new RangeError('inversion noise must have the shape of the latents');
  const x0 = p.x0.data;
  const scale = p.settings.thresholdNoise === 'data-std' ? meanStd(x0).std : 1;
  const { sigmas, timesteps, startIndex, numSteps } = p.schedule;
  const total = numSteps - startIndex;
  const branches: InversionBranch[] = [];
  let x: Float32Array = new Float32Array(x0);
  for (let i = numSteps - 1; i >= startIndex; i--) {
    const sigmaHigh = sigmas[i];
    const sigmaLow = sigmas[i + 1];
    const branch = inversionBranch(p.settings, sigmaLow);
    branches.push(branch);
    const estimate =
      branch === 'naive' ? x : branch === 'extrapolate' ? extrapolate(x0, x, sigmaLow, sigmaHigh) : noisyEstimate(x0, p.noise.data, sigmaHigh, scale);
    const [out] = await predictBranches(p.denoiser, estimate, shape, sigmaHigh, timesteps[i], [p.conditioning]);
    x = inverseEulerStep(out, x, sigmaLow, sigmaHigh, p.prediction);
    p.onStep?.(branches.length, total, x);
  }
  return { latents: { data: x, dims: [...p.x0.dims] }, branches };
}

export interface FixedPointOptions {
  /** Most network calls per step (default 50). */
  readonly maxIterations?: number;
  /** Stop when the update changes x̂_{t+1} by less than this, relative (default 1e-6). */
  readonly tolerance?: number;
}

/**
 * The exact implicit inverse of the Euler sampler: at each step, solve Euler(x̂_{t+1}) = x̂_t for x̂_{t+1},
 * i.e. x̂_{t+1} = x̂_t − r·(x̂_{t+1} − D(x̂_{t+1}; σ_{t+1})) with r = (σ_t − σ_{t+1})/σ_{t+1} ∈ [−1, 0), by
 * fixed-point iteration. Its fixed point is Eq. 4 with F evaluated at x̂_{t+1} itself. The map contracts
 * when |r|·‖I − ∂D/∂x‖ < 1, which holds for Gaussian data (0 ≤ ∂D/∂x ≤ I); iterating Eq. 4 directly
 * does not (it diverges on large steps). Costs up to maxIterations network calls per step, so it is a
 * lower bound for experiments, not a pipeline mode. Returns the iterations used per step.
 */
export async function invertFixedPoint(
  p: Omit<InversionInput, 'settings' | 'noise'> & FixedPointOptions,
): Promise<{ latents: Tensor; iterations: number[] }> {
  const shape = latentShape(p.x0, 'x̂0');
  const maxIterations = p.maxIterations ?? 50;
  const tolerance = p.tolerance ?? 1e-6;
  const { sigmas, timesteps, startIndex, numSteps } = p.schedule;
  const iterations: number[] = [];
  let x: Float32Array = new Float32Array(p.x0.data);
  for (let i = numSteps - 1; i >= startIndex; i--) {
    const sigmaHigh = sigmas[i];
    const sigmaLow = sigmas[i + 1];
    const r = (sigmaLow - sigmaHigh) / sigmaHigh;
    let guess: Float32Array = x;
    let n = 0;
    while (n < maxIterations) {
      const [out] = await predictBranches(p.denoiser, guess, shape, sigmaHigh, timesteps[i], [p.conditioning]);
      const denoised = predictOriginal(out, guess, sigmaHigh, p.prediction);
      const next = x.map((lo, j) => lo - r * (guess[j] - denoised[j]));
      n++;
      const change = relativeDistance(next, guess);
      guess = next;
      if (change < tolerance) break;
    }
    iterations.push(n);
    x = guess;
    p.onStep?.(iterations.length, numSteps - startIndex, x);
  }
  return { latents: { data: x, dims: [...p.x0.dims] }, iterations };
}

function relativeDistance(a: Float32Array, b: Float32Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] * b[i];
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
