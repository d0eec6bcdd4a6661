/**
 * Options of one Videoshop run. Every default equals the reference implementation's (sfanxiang/videoshop
 * run.py); the switches select the paper's variants where paper and reference differ, and the
 * ablations of the paper's Table 5.
 */
import { ANIMATELCM_CONFIG } from '../schedulers/animatelcm.js';
import { parseEulerSchedulerConfig, type EulerSchedulerConfig } from '../schedulers/euler.js';
import type { Tensor } from '../tensor.js';

/**
 * How the encoded latents are brought to unit scale before inversion.
 * - 'per-frame-centered' (reference): per frame over (C, h, w): (x − mean_f)/(std_f + 1e-6).
 * - 'per-channel' (paper Eq. 8): per channel over all frames, x/(std_c + 1e-6), no mean subtraction.
 * - 'none' (Table 5 "− Norm."): the scaled latents as they come out of the VAE.
 */
export type NormalizationMode = 'per-frame-centered' | 'per-channel' | 'none';

/** 'extrapolated' = Eq. 6/7 (noise extrapolation); 'naive' = Eq. 5 (Table 5 "− Extrapolation"). */
export type InversionMode = 'extrapolated' | 'naive';

/**
 * The noise added in Eq. 6's low-noise branch (σ_t ≤ Σ): 'data-std' = ε·σ_{t+1}·std(x̂0) (reference);
 * 'unit' = ε·σ_{t+1}, the paper's N(0, σ_{t+1}).
 */
export type ThresholdNoiseScale = 'data-std' | 'unit';

/**
 * Final rescale (Eq. 8 right): 'reference' = (x0 − μ0)/σ0·σ_img + μ_img (run.py); 'paper' = the paper's
 * formula read literally, σ_img/σ0·(x0 − μ0 + μ_img), which scales μ_img too.
 */
export type RescaleFormula = 'reference' | 'paper';

/**
 * Random tensors the caller fixes instead of drawing them from `new Random(seed)`. The stream has three
 * slots, drawn in this order: sourceImage [3,H,W], inversion [1,F,C,h,w], editedImage [3,H,W]. A tensor
 * given here still consumes its slot, so fixing one leaves the others as the seed draws them.
 */
export interface VideoshopNoise {
  /** Pixel noise n1 added (× noiseAug) to the source frame that conditions the inversion. */
  readonly sourceImage?: Tensor;
  /** ε of Eq. 6, drawn once and reused at every inversion step. */
  readonly inversion?: Tensor;
  /** Pixel noise n2 added (× noiseAug) to the edited frame that conditions the denoising. */
  readonly editedImage?: Tensor;
}

/**
 * How the edit wins inside `VideoshopInput.editMask` (none: the paper's method; see src/pipeline/inside-edit.ts and
 * docs/quality.md "Inside the edit: variants tried" for what each does and scores). On the toy benchmark none met
 * the bar on 8 scenes; the most consistent, 'deeper', gains +0.08 dB inside for ≈ 1.5× the UNet calls. The others
 * are kept so the measurements can be reproduced.
 */
export const INSIDE_EDIT_VARIANTS = [
  'none', 'renoise', 'renoise-half', 'blend', 'renoise-blend', 'deeper', 'deeper-blend', 'edit-inversion', 'edit-inversion-half',
  'renoise-keep',
] as const;
export type InsideEditVariant = (typeof INSIDE_EDIT_VARIANTS)[number];

/**
 * The σ grid and steps the run inverts and denoises on. 'euler': SVD's Euler scheduler (the paper's; `scheduler`
 * below). 'animatelcm': AnimateLCM-SVD's grid (src/schedulers/animatelcm.ts), run with the deterministic step and its
 * inverse (docs/method-notes.md, "AnimateLCM"); for an AnimateLCM UNet, with ANIMATELCM_DEFAULTS.
 */
export const SAMPLERS = ['euler', 'animatelcm'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export interface VideoshopOptions {
  /** Which scheduler's σ grid (default 'euler', the paper's method bit for bit). */
  readonly sampler: SamplerName;
  /** Scheduler steps of the full schedule (reference 25). */
  readonly steps: number;
  /** Fraction of the schedule inverted and re-denoised: ⌊steps·strength⌋ steps run (reference 0.55 → 13). */
  readonly strength: number;
  /** Classifier-free guidance on the first frame; ramps linearly to maxGuidance on the last (reference 4). */
  readonly minGuidance: number;
  /** Guidance on the last frame (reference 4). ≤ 1 turns guidance off (no unconditional batch). */
  readonly maxGuidance: number;
  /** Pixel noise std added to the conditioning frames, also passed to the network (reference 0.2). */
  readonly noiseAug: number;
  /** Frame rate conditioning; the network sees fps − 1 (reference 7). */
  readonly fps: number;
  /** Motion bucket id conditioning (reference 127). */
  readonly motionBucket: number;
  /** Noise threshold Σ of Eq. 6 (reference 1.0); null = always extrapolate (Table 5 "− Threshold": NaN). */
  readonly threshold: number | null;
  /** Seed of every random draw (reference 42). */
  readonly seed: number;
  readonly inversion: InversionMode;
  readonly normalization: NormalizationMode;
  /**
   * Reference: the inversion's conditioning latents are normalized like the video latents and divided
   * by the VAE scaling factor, while the denoising's are used raw. false = raw in both.
   */
  readonly normalizeInversionConditioning: boolean;
  readonly thresholdNoise: ThresholdNoiseScale;
  /** Rescale the output latents to the edited frame's per-channel stats (Table 5 "− Rescaling" = false). */
  readonly rescale: boolean;
  readonly rescaleFormula: RescaleFormula;
  /** The Euler scheduler (default: SVD's scheduler_config.json); unused by the 'animatelcm' sampler. */
  readonly scheduler: EulerSchedulerConfig;
  readonly noise?: VideoshopNoise;
  /** What happens inside `editMask` (ignored without one); 'none' = the paper's method, bit for bit. */
  readonly insideEdit: InsideEditVariant;
  /**
   * Frames per VAE decode call (diffusers' decode_chunk_size; src/pipeline/decode.ts). null (default): the whole block
   * in one call, as the reference does; smaller chunks bound the decoder's memory, the frames mixing only within a chunk.
   */
  readonly decodeChunk: number | null;
  /**
   * Release the CLIP image encoder's and the VAE encoder's sessions once the block's conditioning is computed (they
   * are rebuilt if a later block needs them): their memory is then free for the UNet and the decoder. Same numbers.
   */
  readonly releaseEncoders: boolean;
  /** Frames per VAE encode call; null (default): the reference's 14 (10 past 14). The encoder is per frame. */
  readonly encodeChunk: number | null;
  /** Guided steps as two batch-1 UNet calls instead of one batch-2 call (src/pipeline/batch-split.ts). */
  readonly oneBranchAtATime: boolean;
}

/** stabilityai/stable-video-diffusion-img2vid scheduler/scheduler_config.json. */
export const SVD_SCHEDULER_CONFIG: EulerSchedulerConfig = parseEulerSchedulerConfig(
  {
    _class_name: 'EulerDiscreteScheduler',
    beta_end: 0.012,
    beta_schedule: 'scaled_linear',
    beta_start: 0.00085,
    interpolation_type: 'linear',
    num_train_timesteps: 1000,
    prediction_type: 'v_prediction',
    sigma_max: 700.0,
    sigma_min: 0.002,
    steps_offset: 1,
    timestep_spacing: 'leading',
    timestep_type: 'continuous',
    trained_betas: null,
    use_karras_sigmas: true,
  },
  'SVD scheduler_config.json',
);

export const DEFAULT_OPTIONS: VideoshopOptions = Object.freeze({
  sampler: 'euler',
  steps: 25,
  strength: 0.55,
  minGuidance: 4,
  maxGuidance: 4,
  noiseAug: 0.2,
  fps: 7,
  motionBucket: 127,
  threshold: 1.0,
  seed: 42,
  inversion: 'extrapolated',
  normalization: 'per-frame-centered',
  normalizeInversionConditioning: true,
  thresholdNoise: 'data-std',
  rescale: true,
  rescaleFormula: 'reference',
  scheduler: SVD_SCHEDULER_CONFIG,
  insideEdit: 'none',
  decodeChunk: null,
  releaseEncoders: false,
  encodeChunk: null,
  oneBranchAtATime: false,
});

/**
 * The defaults that differ on the AnimateLCM sampler (what an option not given takes there). Why these values:
 * docs/method-notes.md, "AnimateLCM: defaults" (npm run experiment:animatelcm). Guidance 1: one UNet call per step.
 */
export const ANIMATELCM_DEFAULTS = Object.freeze({
  steps: 8,
  strength: 0.5,
  minGuidance: 1,
  maxGuidance: 1,
  threshold: 0,
  motionBucket: 127,
}) satisfies Partial<VideoshopOptions>;

/** The defaults of a sampler: DEFAULT_OPTIONS, with ANIMATELCM_DEFAULTS over them for 'animatelcm'. */
export function defaultsFor(sampler: SamplerName): VideoshopOptions {
  return sampler === 'animatelcm' ? { ...DEFAULT_OPTIONS, ...ANIMATELCM_DEFAULTS, sampler } : DEFAULT_OPTIONS;
}

const KEYS = new Set<string>([...Object.keys(DEFAULT_OPTIONS), 'noise']);

/** Fills in the defaults and validates; throws a RangeError that names the offending option. */
export function resolveOptions(partial: Partial<VideoshopOptions> = {}): VideoshopOptions {
  for (const key of Object.keys(partial)) {
    if (!KEYS.has(key)) throw new RangeError(`unknown option "${key}"`);
  }
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const options: VideoshopOptions = { ...defaultsFor(partial.sampler ?? DEFAULT_OPTIONS.sampler), ...defined };
  validateOptions(options);
  return options;
}

export function validateOptions(o: VideoshopOptions): void {
  if (!Number.isInteger(o.steps) || o.steps < 1 || o.steps > 1000) {
    throw new RangeError(`steps must be an integer in [1, 1000], got ${o.steps}`);
  }
  oneOf(o.sampler, 'sampler', SAMPLERS);
  const maxSteps = o.sampler === 'animatelcm' ? ANIMATELCM_CONFIG.numTrainTimesteps : 1000;
  if (o.steps > maxSteps) throw new RangeError(`steps must be at most ${maxSteps} on the ${o.sampler} sampler, got ${o.steps}`);
  if (!(typeof o.strength === 'number' && o.strength > 0 && o.strength <= 1)) {
    throw new RangeError(`strength must be in (0, 1], got ${o.strength}`);
  }
  if (Math.floor(o.steps * o.strength) < 1) {
    throw new RangeError(`strength ${o.strength} of ${o.steps} steps runs no step; raise strength or steps`);
  }
  finite(o.minGuidance, 'minGuidance');
  finite(o.maxGuidance, 'maxGuidance');
  if (!(finite(o.noiseAug, 'noiseAug') >= 0)) throw new RangeError(`noiseAug must be ≥ 0, got ${o.noiseAug}`);
  if (!(finite(o.fps, 'fps') >= 1)) throw new RangeError(`fps must be ≥ 1, got ${o.fps}`);
  if (!Number.isInteger(o.motionBucket) || o.motionBucket < 0) {
    throw new RangeError(`motionBucket must be a non-negative integer, got ${o.motionBucket}`);
  }
  if (o.threshold !== null && !(finite(o.threshold, 'threshold') >= 0)) {
    throw new RangeError(`threshold must be ≥ 0 or null (no threshold), got ${o.threshold}`);
  }
  if (!Number.isSafeInteger(o.seed) || o.seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${o.seed}`);
  oneOf(o.inversion, 'inversion', ['extrapolated', 'naive']);
  oneOf(o.normalization, 'normalization', ['per-frame-centered', 'per-channel', 'none']);
  oneOf(o.thresholdNoise, 'thresholdNoise', ['data-std', 'unit']);
  oneOf(o.rescaleFormula, 'rescaleFormula', ['reference', 'paper']);
  oneOf(o.insideEdit, 'insideEdit', INSIDE_EDIT_VARIANTS);
  if (o.decodeChunk !== null && !(Number.isInteger(o.decodeChunk) && o.decodeChunk >= 1)) {
    throw new RangeError(`decodeChunk must be a positive integer or null (the whole block), got ${o.decodeChunk}`);
  }
  if (o.encodeChunk !== null && !(Number.isInteger(o.encodeChunk) && o.encodeChunk >= 1)) {
    throw new RangeError(`encodeChunk must be a positive integer or null (the reference's), got ${o.encodeChunk}`);
  }
  if (typeof o.oneBranchAtATime !== 'boolean') throw new RangeError(`oneBranchAtATime must be true or false, got ${String(o.oneBranchAtATime)}`);
  if (typeof o.releaseEncoders !== 'boolean') throw new RangeError(`releaseEncoders must be true or false, got ${String(o.releaseEncoders)}`);
  if (typeof o.rescale !== 'boolean') throw new RangeError(`rescale must be true or false, got ${String(o.rescale)}`);
  if (typeof o.normalizeInversionConditioning !== 'boolean') {
    throw new RangeError(`normalizeInversionConditioning must be true or false, got ${String(o.normalizeInversionConditioning)}`);
  }
  if (typeof o.scheduler !== 'object' || o.scheduler === null) throw new RangeError('scheduler must be an EulerSchedulerConfig');
  if (o.noise !== undefined) {
    for (const [key, t] of Object.entries(o.noise)) {
      if (!['sourceImage', 'inversion', 'editedImage'].includes(key)) throw new RangeError(`unknown option "noise.${key}"`);
      if (t !== undefined && !(t && t.data instanceof Float32Array && Array.isArray(t.dims))) {
        throw new RangeError(`noise.${key} must be a Tensor`);
      }
    }
  }
}

function finite(v: number, name: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${name} must be a finite number, got ${v}`);
  return v;
}

function oneOf(v: string, name: string, allowed: readonly string[]): void {
  if (!allowed.includes(v)) throw new RangeError(`${name} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}; got ${JSON.stringify(v)}`);
}
