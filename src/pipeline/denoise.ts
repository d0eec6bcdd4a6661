/**
 * Guided denoising from the inverted latents back to σ = 0, conditioned on the edited frame (paper §3.5
 * end; reference `controlled_generation`), with SVD's per-frame linear guidance ramp.
 */
import type { Denoiser } from '../models/types.js';
import { eulerStep, type PredictionType, type Schedule } from '../schedulers/euler.js';
import type { Tensor } from '../tensor.js';
import { predictBranches, unconditional, type Conditioning } from './conditioning.js';
import { latentShape } from './latents.js';

/** Guidance scale of each frame: torch.linspace(min, max, frames) (frame 0 gets min, the last max). */
export function guidanceRamp(min: number, max: number, frames: number): Float32Array {
  if (frames === 1) return Float32Array.of(min);
  return Float32Array.from({ length: frames }, (_, f) => (f === frames - 1 ? max : min + ((max - min) * f) / (frames - 1)));
}

/** Classifier-free guidance per frame: u + g_f·(c − u), frames of `frameSize` values. */
export function combineGuidance(uncond: Float32Array, cond: Float32Array, scales: Float32Array, frameSize: number): Float32Array {
  if (uncond.length !== cond.length || cond.length !== scales.length * frameSize) {
    throw new RangeError('combineGuidance: outputs and per-frame scales do not match');
  }
  return cond.map((c, i) => {
    const u = uncond[i];
    return u + scales[Math.floor(i / frameSize)] * (c - u);
  });
}

/** True when the reference runs a guided batch [uncond, cond]: `max_guidance_scale > 1`. */
export function usesGuidance(maxGuidance: number): boolean {
  return maxGuidance > 1;
}

export interface DenoiseInput {
  readonly denoiser: Denoiser;
  readonly schedule: Schedule;
  readonly prediction: PredictionType;
  /** The inverted latents at σ_start = sigmas[startIndex], [1, F, C, h, w] (used as is). */
  readonly start: Tensor;
  readonly conditioning: Conditioning;
  readonly minGuidance: number;
  readonly maxGuidance: number;
  /** Called after each step with k = 1 … total and the latents x_{σ_{i+1}} just reached (for trajectory analysis). */
  readonly onStep?: (k: number, total: number, x: Float32Array) => void;
  /**
   * Replaces the latents after step i (at σ_{i+1}) before the next step: the mask blend of src/pipeline/inside-edit.ts.
   * Absent in the paper's method.
   */
  readonly afterStep?: (i: number, x: Float32Array) => Float32Array;
}

/** Euler steps i = startIndex … steps − 1 from σ_i to σ_{i+1}; returns x0, [1, F, C, h, w]. */
export async function denoiseLatents(p: DenoiseInput): Promise<Tensor> {
  const shape = latentShape(p.start, 'start latents');
  const guided = usesGuidance(p.maxGuidance);
  const branches = guided ? [unconditional(p.conditioning), p.conditioning] : [p.conditioning];
  const scales = guidanceRamp(p.minGuidance, p.maxGuidance, shape.frames);
  const frameSize = shape.channels * shape.height * shape.width;
  const { sigmas, timesteps, startIndex, numSteps } = p.schedule;
  let x: Float32Array = new Float32Array(p.start.data);
  for (let i = startIndex; i < numSteps; i++) {
    const outs = await predictBranches(p.denoiser, x, shape, sigmas[i], timesteps[i], branches);
    const out = guided ? combineGuidance(outs[0], outs[1], scales, frameSize) : outs[0];
    x = eulerStep(out, x, sigmas[i], sigmas[i + 1], p.prediction);
    if (p.afterStep) x = p.afterStep(i, x);
    p.onStep?.(i - startIndex + 1, numSteps - startIndex, x);
  }
  return { data: x, dims: [...p.start.dims] };
}
