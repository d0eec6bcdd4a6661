/**
 * AnimateLCM-SVD's scheduler (a consistency-model multistep sampler, Song et al. 2023, Algorithm 1, on Karras et
 * al.'s σ grid), as pure math on typed arrays, plus the deterministic step that Videoshop inverts.
 *
 * Published settings (wangfuyun/AnimateLCM-SVD-xt, the authors' app and pipeline): 40 training timesteps on a
 * Karras grid σ(r) = (σ_max^{1/ρ} + r·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ, r = k/39, σ_min 0.002, σ_max 700, ρ 7,
 * σ_data 1, s_noise 1, no clipping of the denoised estimate; c_noise = 0.25·ln σ; an N-step run takes every
 * ⌊40/N⌋-th training level from the top, then 0. Each step predicts the clean sample
 *   D = c_skip·x + c_out·F(c_in·x; c_noise),  c_skip = σ_d²/(σ² + σ_d²), c_out = −σ·σ_d/√(σ² + σ_d²), c_in = 1/√(σ² + σ_d²),
 * and re-noises it with FRESH noise to the next level: x_next = D + s_noise·σ_next·z. With σ_d = 1 these are SVD's
 * v-prediction EDM scalings, so the same UNet output means the same D under both schedulers.
 */
import { startIndexFor, type Schedule } from './euler.js';

export interface AnimateLcmConfig {
  readonly numTrainTimesteps: number;
  readonly sigmaMin: number;
  readonly sigmaMax: number;
  readonly sigmaData: number;
  readonly rho: number;
  readonly sNoise: number;
}

/** The settings AnimateLCM-SVD-xt (and -1.1) was distilled and published with. */
export const ANIMATELCM_CONFIG: AnimateLcmConfig = Object.freeze({
  numTrainTimesteps: 40,
  sigmaMin: 0.002,
  sigmaMax: 700,
  sigmaData: 1,
  rho: 7,
  sNoise: 1,
});

const f32 = Math.fround;

/** Karras et al.'s σ at ramp position r ∈ [0, 1] (0 → σ_max, 1 → σ_min), in float64. */
export function karrasSigma(config: AnimateLcmConfig, r: number): number {
  const hi = config.sigmaMax ** (1 / config.rho);
  const lo = config.sigmaMin ** (1 / config.rho);
  return (hi + r * (lo - hi)) ** config.rho;
}

/** The training levels used by an N-step run: k·⌊T/N⌋ for k = 0 … N−1 (ramp positions ×(T−1)), highest σ first. */
export function lcmTrainIndices(config: AnimateLcmConfig, numSteps: number): number[] {
  const ratio = Math.floor(config.numTrainTimesteps / numSteps);
  return Array.from({ length: numSteps }, (_, k) => k * ratio);
}

/**
 * The schedule for `numSteps` steps (1 … T) and the strength's start index (the last ⌊steps·strength⌋ steps run, as
 * for Euler). σ values are float32 (as the published scheduler stores them), the last one 0; c_noise = 0.25·ln σ is
 * taken from the float64 σ, then stored as float32 (what a float32 UNet input sees).
 */
export function makeLcmSchedule(config: AnimateLcmConfig, numSteps: number, strength = 1): Schedule {
  const T = config.numTrainTimesteps;
  if (!Number.isInteger(numSteps) || numSteps < 1 || numSteps > T) {
    throw new RangeError(`AnimateLCM takes 1 to ${T} steps (it was distilled on ${T} noise levels), got ${numSteps}`);
  }
  const startIndex = startIndexFor(numSteps, strength);
  const sigmas = new Float32Array(numSteps + 1);
  const timesteps = new Float32Array(numSteps);
  lcmTrainIndices(config, numSteps).forEach((k, i) => {
    const sigma = karrasSigma(config, k / (T - 1));
    sigmas[i] = sigma;
    timesteps[i] = 0.25 * Math.log(sigma);
  });
  sigmas[numSteps] = 0;
  return { numSteps, sigmas, timesteps, startIndex };
}

/** Standard deviation of pure-noise initial latents: √(σ_max² + 1), as the published scheduler declares it. */
export function lcmInitNoiseSigma(config: AnimateLcmConfig): number {
  return f32(Math.sqrt(config.sigmaMax * config.sigmaMax + 1));
}

/** The consistency parameterization's scalings at σ (AnimateLCM uses the EDM ones, without the ε = σ_min shift). */
export function lcmScalings(sigma: number, sigmaData: number): { cSkip: number; cOut: number; cIn: number } {
  const v = sigma * sigma + sigmaData * sigmaData;
  return { cSkip: (sigmaData * sigmaData) / v, cOut: (-sigma * sigmaData) / Math.sqrt(v), cIn: 1 / Math.sqrt(v) };
}

/** The network input c_in(σ)·x. */
export function lcmScaleModelInput(sample: Float32Array, sigma: number, config: AnimateLcmConfig): Float32Array {
  const { cIn } = lcmScalings(sigma, config.sigmaData);
  return sample.map((x) => x * cIn);
}

/** The consistency function's estimate of the clean sample, D(x; σ) = c_skip·x + c_out·F. */
export function lcmDenoised(modelOutput: Float32Array, sample: Float32Array, sigma: number, config: AnimateLcmConfig): Float32Array {
  const { cSkip, cOut } = lcmScalings(sigma, config.sigmaData);
  checkSameLength(modelOutput, sample);
  return sample.map((x, i) => cSkip * x + cOut * modelOutput[i]);
}

/**
 * The published sampler's step: x_next = D + s_noise·σ_next·z with fresh noise z (the caller's, from a seeded
 * generator). At σ_next = 0 (the last step) it returns D.
 */
export function lcmStochasticStep(
  modelOutput: Float32Array,
  sample: Float32Array,
  sigma: number,
  sigmaNext: number,
  noise: Float32Array,
  config: AnimateLcmConfig,
): Float32Array {
  const d = lcmDenoised(modelOutput, sample, sigma, config);
  checkSameLength(noise, sample);
  const scale = config.sNoise * Math.min(Math.max(sigmaNext, 0), config.sigmaMax);
  return d.map((v, i) => v + scale * noise[i]);
}

/**
 * The deterministic step Videoshop samples and inverts with (docs/method-notes.md, "AnimateLCM"): the noise that
 * goes back in is the one the model sees in x, not a fresh draw — x_next = D + (σ_next/σ)·(x − D) (DDIM's step in
 * σ-space; the γ = 0 end of TCD's family). It is the Euler step of the probability-flow ODE with D as denoiser.
 */
export function lcmDeterministicStep(
  modelOutput: Float32Array,
  sample: Float32Array,
  sigma: number,
  sigmaNext: number,
  config: AnimateLcmConfig,
): Float32Array {
  const { cSkip, cOut } = lcmScalings(sigma, config.sigmaData);
  checkSameLength(modelOutput, sample);
  const ratio = sigmaNext / sigma;
  return sample.map((x, i) => {
    const d = cSkip * x + cOut * modelOutput[i];
    return d + ratio * (x - d);
  });
}

/**
 * The implicit inverse of `lcmDeterministicStep` for a given network output F at the higher level (paper Eq. 4 with
 * AnimateLCM's scalings): solves D(x_hi) + (σ_lo/σ_hi)·(x_hi − D(x_hi)) = x_lo for x_hi, D linear in x_hi for fixed F:
 *   x_hi = (σ_hi·x_lo − (σ_hi − σ_lo)·c_out·F) / (σ_hi·c_skip + σ_lo·(1 − c_skip)),  c_skip, c_out at σ_hi.
 * Which input F saw (x_lo, the extrapolation of Eq. 6, …) is the caller's choice, as for Euler.
 */
export function lcmInverseStep(
  modelOutput: Float32Array,
  sample: Float32Array,
  sigmaLow: number,
  sigmaHigh: number,
  config: AnimateLcmConfig,
): Float32Array {
  if (!(sigmaHigh > 0)) throw new RangeError(`inverse step needs σ_{t+1} > 0, got ${sigmaHigh}`);
  const { cSkip, cOut } = lcmScalings(sigmaHigh, config.sigmaData);
  checkSameLength(modelOutput, sample);
  const den = sigmaHigh * cSkip + sigmaLow * (1 - cSkip);
  return sample.map((x, i) => (sigmaHigh * x - (sigmaHigh - sigmaLow) * cOut * modelOutput[i]) / den);
}

function checkSameLength(a: Float32Array, b: Float32Array): void {
  if (a.length !== b.length) throw new RangeError(`arrays differ in length: ${a.length} vs ${b.length}`);
}
