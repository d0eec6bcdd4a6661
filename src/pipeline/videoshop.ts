/**
 * One Videoshop run on one block of frames: encode & normalize → invert with noise extrapolation →
 * guided denoising conditioned on the edited frame → rescale & decode (paper Fig. 2; reference run.py).
 * Network-agnostic: it only talks to the interfaces of models/types.ts.
 */
import type { Denoiser, VideoshopModels } from '../models/types.js';
import { Random } from '../random.js';
import { ANIMATELCM_CONFIG, makeLcmSchedule } from '../schedulers/animatelcm.js';
import { makeSchedule, type PredictionType, type Schedule } from '../schedulers/euler.js';
import { concat, slice, type Tensor } from '../tensor.js';
import { augment, embedFrame, type Conditioning } from './conditioning.js';
import { oneBranchAtATime } from './batch-split.js';
import { decodeInChunks } from './decode.js';
import { denoiseLatents } from './denoise.js';
import { denoiseInsideEdit, INSIDE_PLANS, insideStartIndex, LATENT_MASK_DILATION, renoise, type InsidePlan } from './inside-edit.js';
import { invertLatents, type InversionBranch, type InversionSettings } from './invert.js';
import { latentMask } from './latent-mask.js';
import { countNonFinite, latentDims, type LatentShape } from './latents.js';
import { normalizeLatents, type NormalizationStats } from './normalize.js';
import { resolveOptions, type VideoshopNoise, type VideoshopOptions } from './options.js';
import { imageChannelStats, rescaleLatents, type ChannelStats } from './rescale.js';

export interface VideoshopInput {
  /** Source frames [F, 3, H, W] in [-1, 1]; H and W multiples of the VAE's downscale. */
  readonly video: Tensor;
  /** The edited first frame [3, H, W] in [-1, 1]. For a later block, e.g. the previous block's last output frame. */
  readonly editedFrame: Tensor;
  /** The frame that conditions the inversion (default: video[0], as in the reference). */
  readonly sourceFrame?: Tensor;
  /** Conditioning computed earlier (e.g. shared by several blocks); skips those encodes. */
  readonly conditioning?: PrecomputedConditioning;
  /**
   * The frames CLIP embeds, at any size (default: sourceFrame and editedFrame). The reference resizes the original
   * frames to CLIP's 224×224, not the frames already resized to the processing size.
   */
  readonly embeddingFrames?: { readonly source?: Tensor; readonly edited?: Tensor };
  /**
   * [F, 1, H, W] in [0, 1] at the processing size: 1 = the edit may change this pixel in this frame. Used only by
   * `options.insideEdit` (src/pipeline/inside-edit.ts); with 'none' it changes nothing.
   */
  readonly editMask?: Tensor;
}

export interface PrecomputedConditioning {
  readonly inversion?: Conditioning;
  readonly edit?: Conditioning;
  /** Per-channel stats of scaling_factor·encode(clean edited frame). */
  readonly rescaleTarget?: ChannelStats | null;
}

export type VideoshopStage = 'encode' | 'invert' | 'denoise' | 'decode';

export interface VideoshopProgress {
  readonly stage: VideoshopStage;
  /** 1 … total within the stage. */
  readonly step: number;
  readonly total: number;
}

export interface VideoshopStats {
  readonly normalization: NormalizationStats;
  /** The inversion conditioning latents' normalization (null when used raw or precomputed). */
  readonly inversionConditioning: NormalizationStats | null;
  /** Branch of each inversion step, lowest noise level first. */
  readonly inversionBranches: InversionBranch[];
  /** σ the inversion reached (= the denoising's start). */
  readonly sigmaStart: number;
  /** First-frame per-channel stats before rescaling and the target's (null without rescaling). */
  readonly rescale: { readonly source: ChannelStats; readonly target: ChannelStats } | null;
  /** NaN/±∞ counts: the no-threshold ablation divides by σ = 0 on its first step. */
  readonly nonFinite: { readonly inverted: number; readonly output: number };
}

export interface VideoshopTimings {
  readonly encodeMs: number;
  readonly invertMs: number;
  readonly denoiseMs: number;
  readonly decodeMs: number;
  readonly totalMs: number;
}

export interface VideoshopResult {
  /** Decoded frames [F, 3, H, W], not clamped (clamp to [-1, 1] when converting to pixels). */
  readonly frames: Tensor;
  /** Final latents x_out [1, F, C, h, w] (scaled; decoded after dividing by the scaling factor). */
  readonly latents: Tensor;
  /** Denoised latents x0 before rescaling. */
  readonly denoisedLatents: Tensor;
  /** x̂ at σ_start after inversion. */
  readonly invertedLatents: Tensor;
  /** The conditioning used, reusable through `input.conditioning` for another block. */
  readonly conditioning: { readonly inversion: Conditioning; readonly edit: Conditioning; readonly rescaleTarget: ChannelStats | null };
  readonly stats: VideoshopStats;
  readonly timings: VideoshopTimings;
  /** UNet calls this run made, counted at the network: one per batch element (a guided batch-2 call counts 2). */
  readonly unetCalls: number;
  /** Human-readable problems (non-finite latents, more frames than the network was trained on). */
  readonly warnings: string[];
}

/** Frames per VAE encode call, as the reference's vae_encode: 14 when the block fits, else 10. */
export function encodeChunkSize(frames: number): number {
  return frames <= 14 ? 14 : 10;
}

export async function runVideoshop(
  models: VideoshopModels,
  input: VideoshopInput,
  partialOptions: Partial<VideoshopOptions> = {},
  onProgress?: (p: VideoshopProgress) => void,
): Promise<VideoshopResult> {
  const options = resolveOptions(partialOptions);
  const { vae } = models;
  // Counted at the network as the caller sees it (a guided batch-2 call counts 2, split into two batch-1 calls or not).
  const counter = countingDenoiser(options.oneBranchAtATime ? oneBranchAtATime(models.denoiser) : models.denoiser);
  const denoiser = counter.denoiser;
  const t0 = performance.now();
  const { frames, height: H, width: W } = checkVideo(input, vae.downscale);
  if (denoiser.latentChannels !== vae.latentChannels) {
    throw new RangeError(`denoiser has ${denoiser.latentChannels} latent channels but the VAE ${vae.latentChannels}`);
  }
  const shape: LatentShape = { frames, channels: vae.latentChannels, height: H / vae.downscale, width: W / vae.downscale };
  const sourceFrame = input.sourceFrame ?? reshape3(slice(input.video, 0, 0, 1));
  const noise = drawNoise(options.seed, options.noise, [3, H, W], latentDims(shape));
  const sf = vae.scalingFactor;
  const timeIds: [number, number, number] = [options.fps - 1, options.motionBucket, options.noiseAug];
  const pre = input.conditioning ?? {};
  const warnings: string[] = [];
  if (frames > denoiser.numFrames) warnings.push(`${frames} frames in one block; the denoiser was trained on ${denoiser.numFrames}`);

  // 1. Encode & normalize.
  const chunk = options.encodeChunk ?? encodeChunkSize(frames);
  const chunks = Math.ceil(frames / chunk);
  const encodeTotal = chunks + (pre.inversion ? 0 : 2) + (pre.edit ? 0 : 2) + (options.rescale && !pre.rescaleTarget ? 1 : 0);
  let encodeStep = 0;
  const tick = () => onProgress?.({ stage: 'encode', step: ++encodeStep, total: encodeTotal });
  const parts: Tensor[] = [];
  for (let start = 0; start < frames; start += chunk) {
    const part = slice(input.video, 0, start, Math.min(start + chunk, frames));
    parts.push(checkLatents(await vae.encode(part), part.dims[0], shape));
    tick();
  }
  const encoded = concat(parts, 0);
  const scaled: Tensor = { data: encoded.data.map((v) => v * sf), dims: latentDims(shape) };
  const { latents: x0, stats: normalization } = normalizeLatents(scaled, options.normalization);

  let inversionConditioningStats: NormalizationStats | null = null;
  let inversionCond = pre.inversion;
  if (!inversionCond) {
    const z = checkLatents(await vae.encode(augment(sourceFrame, noise.sourceImage, options.noiseAug)), 1, shape);
    tick();
    let latents: Tensor = { data: z.data, dims: [shape.channels, shape.height, shape.width] };
    if (options.normalizeInversionConditioning && options.normalization !== 'none') {
      // Reference: the single frame normalized like the video latents, then divided by the scaling factor.
      const n = normalizeLatents({ data: z.data, dims: [1, 1, shape.channels, shape.height, shape.width] }, options.normalization);
      inversionConditioningStats = n.stats;
      latents = { data: n.latents.data.map((v) => v / sf), dims: latents.dims };
    }
    inversionCond = { embedding: await embedFrame(models, input.embeddingFrames?.source ?? sourceFrame), latents, addedTimeIds: timeIds };
    tick();
  }
  let editCond = pre.edit;
  if (!editCond) {
    const z = checkLatents(await vae.encode(augment(input.editedFrame, noise.editedImage, options.noiseAug)), 1, shape);
    tick();
    // Reference: raw (unscaled, unnormalized) latents of the noise-augmented edited frame.
    editCond = {
      embedding: await embedFrame(models, input.embeddingFrames?.edited ?? input.editedFrame),
      latents: { data: z.data, dims: [shape.channels, shape.height, shape.width] },
      addedTimeIds: timeIds,
    };
    tick();
  }
  let rescaleTarget: ChannelStats | null = null;
  if (options.rescale) {
    rescaleTarget = pre.rescaleTarget ?? null;
    if (!rescaleTarget) {
      const z = checkLatents(await vae.encode(withBatch(input.editedFrame)), 1, shape);
      rescaleTarget = imageChannelStats({ data: z.data.map((v) => v * sf), dims: [shape.channels, shape.height, shape.width] });
      tick();
    }
  }
  // The UNet and the decoder come next: with releaseEncoders their memory goes back before them (same numbers).
  if (options.releaseEncoders) {
    await models.imageEmbedder.release?.();
    await vae.releaseEncoder?.();
  }
  const t1 = performance.now();

  // 2. Invert with noise extrapolation, no guidance. With an inside-edit plan, record the trajectory (and invert on
  // to the inside's higher σ when it has one: the steps up to σ_start are the same, so σ_start's latents are too).
  const { schedule, prediction } = samplerSchedule(options);
  const settings: InversionSettings = { mode: options.inversion, threshold: options.threshold, thresholdNoise: options.thresholdNoise };
  const plan: InsidePlan | null = input.editMask && options.insideEdit !== 'none' ? INSIDE_PLANS[options.insideEdit] : null;
  const insideStart = plan ? insideStartIndex(schedule, plan) : schedule.startIndex;
  const trajectory = new Map<number, Float32Array>([[schedule.numSteps, x0.data]]);
  const inversion = await invertLatents({
    denoiser,
    schedule: { ...schedule, startIndex: insideStart },
    prediction,
    x0,
    noise: noise.inversion,
    conditioning: inversionCond,
    settings,
    onStep: (step, total, x) => {
      if (plan) trajectory.set(schedule.numSteps - step, x);
      onProgress?.({ stage: 'invert', step, total });
    },
  });
  const inverted = plan
    ? { latents: { data: trajectory.get(schedule.startIndex)!, dims: latentDims(shape) }, branches: inversion.branches }
    : inversion;
  const invertedNonFinite = countNonFinite(inverted.latents.data);
  if (invertedNonFinite > 0) {
    warnings.push(
      `inversion produced ${invertedNonFinite} non-finite values (NaN/±∞) of ${inverted.latents.data.length}` +
        (options.threshold === null && options.inversion === 'extrapolated'
          ? ': without a noise threshold the first step extrapolates from σ = 0 (0/0), as the paper\'s Table 5 "− Threshold" reports'
          : ''),
    );
  }
  const t2 = performance.now();

  // 3. Denoise conditioned on the edited frame, with guidance.
  const denoise = {
    denoiser,
    schedule,
    prediction,
    conditioning: editCond,
    minGuidance: options.minGuidance,
    maxGuidance: options.maxGuidance,
    onStep: (step: number, total: number) => onProgress?.({ stage: 'denoise', step, total }),
  };
  let denoised: Tensor;
  if (plan && input.editMask) {
    const mask = latentMask(checkMask(input.editMask, frames, H, W), vae.downscale, LATENT_MASK_DILATION);
    const base = plan.start === 'inverted' ? trajectory.get(insideStart)! : await invertEditedFrame();
    const inside = renoise(base, plan.freshShare, options.seed, schedule.sigmas[insideStart]);
    denoised = await denoiseInsideEdit({ ...denoise, plan, mask, insideStart, inside, source: trajectory, dims: latentDims(shape) });
  } else {
    denoised = await denoiseLatents({ ...denoise, start: inverted.latents });
  }
  const t3 = performance.now();

  /**
   * Variant (d): the edited first frame repeated over every frame, encoded, normalized like the video and inverted
   * like it (same ε, conditioned on the edited frame as the inversion conditions on the source): latents that carry
   * the new object where the first frame has it, for objects that move little.
   */
  async function invertEditedFrame(): Promise<Float32Array> {
    const z = checkLatents(await vae.encode(withBatch(input.editedFrame)), 1, shape);
    const one = z.data.map((v) => v * sf);
    const repeated = new Float32Array(one.length * frames);
    for (let f = 0; f < frames; f++) repeated.set(one, f * one.length);
    const { latents: x0Edit } = normalizeLatents({ data: repeated, dims: latentDims(shape) }, options.normalization);
    const cond = editCond!;
    const latents = options.normalizeInversionConditioning && options.normalization !== 'none'
      ? normalizeLatents({ data: cond.latents.data, dims: [1, 1, ...cond.latents.dims] }, options.normalization).latents.data.map((v) => v / sf)
      : cond.latents.data;
    const r = await invertLatents({
      denoiser, schedule: { ...schedule, startIndex: insideStart }, prediction, x0: x0Edit, noise: noise.inversion, settings,
      conditioning: { embedding: cond.embedding, latents: { data: latents, dims: cond.latents.dims }, addedTimeIds: timeIds },
    });
    return r.latents.data;
  }

  // 4. Rescale & decode: one call for the whole block by default (the temporal decoder mixes frames), or chunks of
  // options.decodeChunk frames, mixing only within each (diffusers' decode_chunk_size).
  const rescaled = rescaleTarget ? rescaleLatents(denoised, rescaleTarget, options.rescaleFormula) : null;
  const latents = rescaled ? rescaled.latents : denoised;
  const unscaled: Tensor = { data: latents.data.map((v) => v / sf), dims: [frames, shape.channels, shape.height, shape.width] };
  const decoded = await decodeInChunks(vae, unscaled, options.decodeChunk,
    (step, total) => onProgress?.({ stage: 'decode', step, total }));
  if (decoded.dims.length !== 4 || decoded.dims[0] !== frames || decoded.dims[1] !== 3 || decoded.dims[2] !== H || decoded.dims[3] !== W) {
    throw new Error(`VAE decode returned [${decoded.dims.join(', ')}], expected [${frames}, 3, ${H}, ${W}]`);
  }
  const outputNonFinite = countNonFinite(latents.data);
  if (outputNonFinite > 0 && invertedNonFinite === 0) warnings.push(`denoising produced ${outputNonFinite} non-finite latent values`);
  const t4 = performance.now();

  return {
    frames: decoded,
    latents,
    denoisedLatents: denoised,
    invertedLatents: inverted.latents,
    conditioning: { inversion: inversionCond, edit: editCond, rescaleTarget },
    stats: {
      normalization,
      inversionConditioning: inversionConditioningStats,
      inversionBranches: inverted.branches,
      sigmaStart: schedule.sigmas[schedule.startIndex],
      rescale: rescaled && rescaleTarget ? { source: rescaled.source, target: rescaleTarget } : null,
      nonFinite: { inverted: invertedNonFinite, output: outputNonFinite },
    },
    timings: { encodeMs: t1 - t0, invertMs: t2 - t1, denoiseMs: t3 - t2, decodeMs: t4 - t3, totalMs: t4 - t0 },
    unetCalls: counter.calls(),
    warnings,
  };
}

/**
 * The σ grid of the run and how the network's output becomes D. AnimateLCM's scalings with σ_d = 1 are SVD's
 * v-prediction ones, and its deterministic step and inverse (src/schedulers/animatelcm.ts) are then exactly the Euler
 * step and Eq. 4 (tests/schedulers/animatelcm.test.ts): the inversion and denoising loops serve both grids.
 */
export function samplerSchedule(options: VideoshopOptions): { schedule: Schedule; prediction: PredictionType } {
  if (options.sampler === 'animatelcm') {
    if (ANIMATELCM_CONFIG.sigmaData !== 1) throw new Error('internal: the AnimateLCM path assumes σ_data = 1');
    return { schedule: makeLcmSchedule(ANIMATELCM_CONFIG, options.steps, options.strength), prediction: 'v_prediction' };
  }
  return { schedule: makeSchedule(options.scheduler, options.steps, options.strength), prediction: options.scheduler.predictionType };
}

/** The denoiser, counting the batch elements it is called on. */
function countingDenoiser(inner: Denoiser): { denoiser: Denoiser; calls: () => number } {
  let calls = 0;
  const denoiser: Denoiser = {
    latentChannels: inner.latentChannels,
    numFrames: inner.numFrames,
    predict: (input) => {
      calls += input.sample.dims[0];
      return inner.predict(input);
    },
  };
  return { denoiser, calls: () => calls };
}

/** The three random tensors, positional in one seeded stream (see VideoshopNoise). */
export function drawNoise(
  seed: number,
  given: VideoshopNoise | undefined,
  imageDims: readonly number[],
  latentDimsList: readonly number[],
): { sourceImage: Tensor; inversion: Tensor; editedImage: Tensor } {
  const rng = new Random(seed);
  const slot = (name: keyof VideoshopNoise, dims: readonly number[]): Tensor => {
    const n = dims.reduce((a, b) => a * b, 1);
    const fixed = given?.[name];
    if (!fixed) return { data: rng.normals(n), dims: [...dims] };
    if (fixed.data.length !== n) {
      throw new RangeError(`noise.${name} must have shape [${dims.join(', ')}], got [${fixed.dims.join(', ')}]`);
    }
    for (let i = 0; i < n; i++) rng.normal();
    return { data: fixed.data, dims: [...dims] };
  };
  const sourceImage = slot('sourceImage', imageDims);
  const inversion = slot('inversion', latentDimsList);
  const editedImage = slot('editedImage', imageDims);
  return { sourceImage, inversion, editedImage };
}

function checkVideo(input: VideoshopInput, downscale: number): { frames: number; height: number; width: number } {
  const d = input.video.dims;
  if (d.length !== 4 || d[1] !== 3 || d[0] < 1) throw new RangeError(`video must be [frames, 3, H, W], got [${d.join(', ')}]`);
  const [frames, , height, width] = d;
  if (height % downscale !== 0 || width % downscale !== 0) {
    throw new RangeError(`video size ${width}×${height} must be a multiple of ${downscale} on both sides`);
  }
  for (const [name, t] of [['editedFrame', input.editedFrame], ['sourceFrame', input.sourceFrame]] as const) {
    if (t && (t.dims.length !== 3 || t.dims[0] !== 3 || t.dims[1] !== height || t.dims[2] !== width)) {
      throw new RangeError(`${name} must be [3, ${height}, ${width}] like the video's frames, got [${t.dims.join(', ')}]`);
    }
  }
  return { frames, height, width };
}

function checkMask(mask: Tensor, frames: number, height: number, width: number): Tensor {
  const d = mask.dims;
  if (d.length !== 4 || d[0] !== frames || d[1] !== 1 || d[2] !== height || d[3] !== width) {
    throw new RangeError(`editMask must be [${frames}, 1, ${height}, ${width}] like the video, got [${d.join(', ')}]`);
  }
  return mask;
}

function checkLatents(z: Tensor, n: number, s: LatentShape): Tensor {
  const want = [n, s.channels, s.height, s.width];
  if (z.dims.length !== 4 || z.dims.some((d, i) => d !== want[i])) {
    throw new Error(`VAE encode returned [${z.dims.join(', ')}], expected [${want.join(', ')}]`);
  }
  return z;
}

function reshape3(frame: Tensor): Tensor {
  return { data: frame.data, dims: frame.dims.slice(1) };
}

function withBatch(image: Tensor): Tensor {
  return { data: image.data, dims: [1, ...image.dims] };
}
