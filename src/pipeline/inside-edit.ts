/**
 * Letting the edit win inside `editMask` (issue 17 item 3). Videoshop starts denoising from the source's inverted
 * latents (paper §3.4–3.5, Eq. 6/7); inside an edited region those latents still describe the OLD object, and the
 * first-frame conditioning only partly overrides them, so the object comes out part way between edit and source.
 * Each variant changes what the denoiser starts from inside the mask, and what holds the latents outside it.
 * docs/quality.md "Inside the edit: variants tried" has the measurements.
 */
import { Random } from '../random.js';
import type { Schedule } from '../schedulers/euler.js';
import type { Tensor } from '../tensor.js';
import { denoiseLatents, type DenoiseInput } from './denoise.js';
import { blendMasked } from './latent-mask.js';
import type { InsideEditVariant } from './options.js';

export interface InsidePlan {
  /**
   * Inside the mask at the first denoising step: the source's inverted latents, or the inversion of the edited first
   * frame repeated over every frame ...
   */
  readonly start: 'inverted' | 'edit-inversion';
  /**
   * ... mixed with fresh Gaussian noise at that σ: √(1 − λ)·start + √λ·σ·ε, λ = freshShare (1: nothing of the old
   * object left; the noise's variance stays σ²).
   */
  readonly freshShare: number;
  /**
   * Fraction of the schedule run inside the mask (null: options.strength, as outside). When larger, the inversion
   * goes on to that σ and the outside is held on the inversion's trajectory until σ_start, where Videoshop starts.
   */
  readonly insideStrength: number | null;
  /**
   * Outside the mask after σ_start: 'free' (the denoiser's own, as plain Videoshop, but now seeing the new inside),
   * 'source' (Blended Latent Diffusion: replaced after every step by the source's inversion trajectory at that σ,
   * down to the clean source latents at σ = 0), or 'videoshop' (replaced by plain Videoshop's own denoising
   * trajectory: outside latents exactly Videoshop's, at twice the denoising cost).
   */
  readonly outside: 'free' | 'source' | 'videoshop';
}

export const INSIDE_PLANS: Readonly<Record<Exclude<InsideEditVariant, 'none'>, InsidePlan>> = Object.freeze({
  'renoise': { start: 'inverted', freshShare: 1, insideStrength: null, outside: 'free' },
  'renoise-half': { start: 'inverted', freshShare: 0.5, insideStrength: null, outside: 'free' },
  'blend': { start: 'inverted', freshShare: 0, insideStrength: null, outside: 'source' },
  'renoise-blend': { start: 'inverted', freshShare: 1, insideStrength: null, outside: 'source' },
  'deeper': { start: 'inverted', freshShare: 0, insideStrength: 0.8, outside: 'free' },
  'deeper-blend': { start: 'inverted', freshShare: 0, insideStrength: 0.8, outside: 'source' },
  'edit-inversion': { start: 'edit-inversion', freshShare: 0, insideStrength: null, outside: 'free' },
  'edit-inversion-half': { start: 'edit-inversion', freshShare: 0.5, insideStrength: null, outside: 'free' },
  'renoise-keep': { start: 'inverted', freshShare: 1, insideStrength: null, outside: 'videoshop' },
});

/** Latent cells of dilation around the max-pooled mask (the VAE's receptive field reaches past its cell). */
export const LATENT_MASK_DILATION = 0;

/** The schedule index the denoising starts from inside the mask (≤ the schedule's own startIndex). */
export function insideStartIndex(schedule: Schedule, plan: InsidePlan): number {
  if (plan.insideStrength === null) return schedule.startIndex;
  const run = Math.floor(schedule.numSteps * plan.insideStrength);
  return Math.min(schedule.startIndex, Math.max(0, schedule.numSteps - run));
}

/**
 * √(1 − λ)·start + √λ·σ·ε. Fresh noise stands in for x_σ = x0 + σ·ε with x0 unknown: at Videoshop's σ_start ≈ 15.6 on
 * unit-scale latents x0 is under 0.5 % of the variance, so it is dropped rather than taken from the source (which
 * would bring the old object back). ε has its own stream, derived from the seed, so the three seeded slots of
 * drawNoise stay as they were.
 */
export function renoise(start: Float32Array, freshShare: number, seed: number, sigma: number): Float32Array {
  if (freshShare === 0) return start;
  const eps = new Random((seed + 0x2545f491) % Number.MAX_SAFE_INTEGER).normals(start.length);
  const a = Math.sqrt(1 - freshShare), b = Math.sqrt(freshShare) * sigma;
  return start.map((x, i) => a * x + b * eps[i]);
}

/**
 * The latents outside the mask after step i (at σ_{i+1}), or null where the denoiser's own are kept.
 * `source[j]` is the source's inversion trajectory at sigmas[j] (source[numSteps] = the clean x̂0);
 * `videoshop[j]` plain Videoshop's denoising trajectory (only for outside 'videoshop').
 */
export function outsideAt(
  plan: InsidePlan,
  j: number,
  startIndex: number,
  source: ReadonlyMap<number, Float32Array>,
  videoshop: ReadonlyMap<number, Float32Array> | null,
): Float32Array | null {
  if (j <= startIndex || plan.outside === 'source') return must(source.get(j), j);
  if (plan.outside === 'videoshop') return must(videoshop?.get(j), j);
  return null;
}

/** The latents at the inside start index: `inside` where the mask is, the source's inverted latents elsewhere. */
export function startLatents(inside: Float32Array, sourceInverted: Float32Array, mask: Float32Array, frames: number): Float32Array {
  return blendMasked(inside, sourceInverted, mask, frames);
}

function must(x: Float32Array | undefined, j: number): Float32Array {
  if (!x) throw new Error(`inside-edit: no outside latents at schedule index ${j}`);
  return x;
}

export interface InsideDenoiseInput extends Omit<DenoiseInput, 'start' | 'afterStep'> {
  readonly plan: InsidePlan;
  /** Latent mask [F·h·w] in [0, 1] (latentMask). */
  readonly mask: Float32Array;
  /** Where the denoising starts inside the mask (insideStartIndex); the outside starts at schedule.startIndex. */
  readonly insideStart: number;
  /** The inside's latents at sigmas[insideStart] (the plan's start). */
  readonly inside: Float32Array;
  /** The source's inversion trajectory: index j → x̂ at sigmas[j], for insideStart ≤ j ≤ numSteps (x̂0 there). */
  readonly source: ReadonlyMap<number, Float32Array>;
  /** [1, F, C, h, w]. */
  readonly dims: readonly number[];
}

/**
 * Guided denoising (denoiseLatents, unchanged) from `inside` blended into the source's inverted latents, with the
 * outside replaced after each step as the plan says. For outside 'videoshop' plain Videoshop's denoising runs first
 * and its trajectory is recorded.
 */
export async function denoiseInsideEdit(p: InsideDenoiseInput): Promise<Tensor> {
  const { plan, mask, source, dims } = p;
  const frames = dims[1];
  const startIndex = p.schedule.startIndex;
  let videoshop: Map<number, Float32Array> | null = null;
  if (plan.outside === 'videoshop') {
    const recorded = new Map<number, Float32Array>();
    const start = { data: must(source.get(startIndex), startIndex), dims: [...dims] };
    await denoiseLatents({ ...p, onStep: (k, _total, x) => recorded.set(startIndex + k, x), start });
    videoshop = recorded;
  }
  const start = startLatents(p.inside, must(source.get(p.insideStart), p.insideStart), mask, frames);
  return denoiseLatents({
    ...p,
    schedule: { ...p.schedule, startIndex: p.insideStart },
    start: { data: start, dims: [...dims] },
    afterStep: (i, x) => {
      const outside = outsideAt(plan, i + 1, startIndex, source, videoshop);
      return outside ? blendMasked(x, outside, mask, frames) : x;
    },
  });
}
