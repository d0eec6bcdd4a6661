/**
 * `evaluateVideos`: the paper's automatic metrics (§4) for an edited video file against its source, those that need
 * no extra network: CLIP_tgt(⁺), CLIP_src(⁺), CLIP_TC with the SVD model's own CLIP image encoder, SSIM, PSNR, and
 * Flow(⁺) with the optical flow of flow.ts. Same definitions as `evaluateEdit`, but the videos are decoded in
 * passes (compare, embed, flow) holding a frame pair at a time, so memory does not grow with the video's length and
 * each pass can report progress.
 */
import { loadClip, type ClipImageEmbedder } from '../models/clip/index.js';
import { openModelRepository } from '../models/repository.js';
import { resolveModel } from '../models/resolve.js';
import { DEFAULT_MODEL } from '../models/svd.js';
import type { ImageEmbedder } from '../models/types.js';
import type { Tensor } from '../tensor.js';
import { fitImage, readImage } from '../video/image.js';
import { probeVideo, type VideoInfo } from '../video/probe.js';
import { readFrames } from '../video/read.js';
import { aspectMismatch } from '../video/size.js';
import { VideoshopError } from '../util/errors.js';
import { clipSource, clipTarget, clipTemporal, maskImage } from './clip-metrics.js';
import { endPointError } from './epe.js';
import type { EditMetrics } from './evaluate.js';
import { FLOW_METHOD, flowFromPyramids, flowPyramid, type FlowPyramid } from '../image/flow.js';
import { MASK_THRESHOLD, maskFromFrame } from './frames.js';
import { toGray255 } from '../image/image-ops.js';
import { meanSquaredError, psnrFromMse } from './psnr.js';
import { ssim } from './ssim.js';


export interface EvalVideosOptions {
  readonly source: string;
  readonly edited: string;
  /** The edited first frame (the paper's target image). */
  readonly target: string;
  /** Black/white image of the edited region in the first frame, used for every frame: enables the ⁺ metrics. */
  readonly mask?: string;
  /** Hub id or diffusers folder whose image_encoder computes the CLIP metrics (default: the paper's SVD). */
  readonly model?: string;
  /** Size the frames are compared at (default: the edited video's). */
  readonly size?: { readonly width: number; readonly height: number };
  /** Compute Flow / Flow⁺ (default true; the slowest part). */
  readonly flow?: boolean;
}

export type EvalStage = 'download' | 'load' | 'compare' | 'embed' | 'flow';

export interface EvalProgress {
  readonly stage: EvalStage;
  readonly step: number;
  readonly total: number;
  readonly unit?: string;
}

export interface EvalHooks {
  onProgress?: (p: EvalProgress) => void;
  onNotice?: (message: string) => void;
  /** An already loaded CLIP image encoder (tests, reuse): then no model is resolved or loaded. */
  embedder?: Pick<ImageEmbedder, 'embed'>;
}

export interface EvalVideosResult {
  readonly metrics: EditMetrics;
  readonly frames: number;
  readonly size: { readonly width: number; readonly height: number };
  /** The model as given (Hub id or folder). */
  readonly model: string;
  /** What the reader of the numbers should know (flow estimator, mask use, skipped metrics, resized inputs). */
  readonly notes: readonly string[];
}

/** SSIM's 11×11 window must fit in a frame. */
const MIN_SIDE = 11;
/** Aspect ratios further apart than this are worth a note: one input was stretched to the other's. */
const ASPECT_NOTE = 0.01;

export async function evaluateVideos(opts: EvalVideosOptions, hooks: EvalHooks = {}): Promise<EvalVideosResult> {
  const progress = hooks.onProgress ?? (() => {});
  const notes: string[] = [];
  const source = await probeVideo(opts.source);
  const edited = await probeVideo(opts.edited);
  if (source.frameCount !== edited.frameCount) {
    throw new VideoshopError('bad_input', `the source has ${source.frameCount} frames but the edited video has ${edited.frameCount}: ` +
      'both videos must have the same frame count');
  }
  const n = edited.frameCount;
  const size = opts.size ?? { width: edited.width, height: edited.height };
  if (!Number.isInteger(size.width) || !Number.isInteger(size.height) || size.width < MIN_SIDE || size.height < MIN_SIDE) {
    throw new VideoshopError('bad_input', `frames must be compared at ${MIN_SIDE}×${MIN_SIDE} or more (SSIM's window), got ${size.width}×${size.height}`);
  }
  if (aspectMismatch(source, edited) > ASPECT_NOTE) {
    notes.push(`the source is ${source.width}×${source.height} and the edited video ${edited.width}×${edited.height}: ` +
      `both were resized (stretched) to ${size.width}×${size.height}`);
  }
  const target = await readStretched(opts.target, size, 'target image', notes);
  const mask = opts.mask ? maskFromFrame(await readStretched(opts.mask, size, 'mask', notes)) : undefined;
  if (mask) notes.push(maskNote(mask));

  const model = opts.model ?? DEFAULT_MODEL;
  const loaded = hooks.embedder ? undefined : await loadImageEncoder(model, progress, hooks.onNotice);
  const embedder = hooks.embedder ?? (loaded as ClipImageEmbedder);
  const caveat = loaded && clipCaveat(loaded.config);
  if (caveat) notes.push(caveat);
  try {
    const metrics = await compare(source, edited, size, progress);
    Object.assign(metrics, await clipScores(source, edited, size, target, mask, embedder, progress));
    if (n < 2) notes.push('CLIP_TC and Flow need at least 2 frames: left out');
    if (opts.flow !== false && n >= 2) {
      Object.assign(metrics, await flowErrors(source, edited, size, mask, progress));
      notes.push(`Flow${mask ? ' and Flow⁺' : ''}: ${FLOW_METHOD}; compare them between runs of this tool, not with the paper's tables`);
    }
    return { metrics, frames: n, size: { width: size.width, height: size.height }, model, notes };
  } finally {
    await loaded?.release();
  }
}

/** An image read and resized to the comparison size, with a note when that changes its aspect ratio. */
async function readStretched(file: string, size: { width: number; height: number }, what: string, notes: string[]): Promise<Tensor> {
  const image = await readImage(file);
  if (aspectMismatch(image, size) > ASPECT_NOTE) {
    notes.push(`the ${what} is ${image.width}×${image.height}: stretched to ${size.width}×${size.height}`);
  }
  return fitImage(image, size.width, size.height);
}

function maskNote(mask: Tensor): string {
  let inside = 0;
  for (const v of mask.data) if (v >= MASK_THRESHOLD) inside++;
  const share = (100 * inside) / mask.data.length;
  return `⁺ metrics: the mask (${share.toFixed(1)}% of the frame edited) is applied to every frame ` +
    '(the paper tracked the edited region with CoTracker)';
}

async function loadImageEncoder(model: string, progress: (p: EvalProgress) => void,
  onNotice?: (m: string) => void): Promise<ClipImageEmbedder> {
  const folder = await resolveModel(model, {
    onNotice,
    onProgress: (p) => progress({ stage: 'download', step: Math.round(p.bytes / 1e6), total: Math.round(p.totalBytes / 1e6), unit: 'MB' }),
  });
  const repo = await openModelRepository(folder);
  for (const notice of repo.notices) onNotice?.(notice);
  progress({ stage: 'load', step: 0, total: 1 });
  // Only the CLIP image encoder: the UNet and VAE are never loaded.
  const clip = await loadClip(repo.image_encoder.folder, { variant: repo.image_encoder.weights.variant ?? undefined });
  progress({ stage: 'load', step: 1, total: 1 });
  return clip;
}

/** Both videos decoded in step at the comparison size: one frame pair at a time. */
async function* framePairs(source: VideoInfo, edited: VideoInfo, size: { width: number; height: number }): AsyncGenerator<[Tensor, Tensor]> {
  const s = readFrames(source.path, { width: size.width, height: size.height, info: source });
  const e = readFrames(edited.path, { width: size.width, height: size.height, info: edited });
  try {
    for (;;) {
      const [a, b] = await Promise.all([s.next(), e.next()]);
      if (a.done || b.done) return;
      yield [a.value, b.value];
    }
  } finally {
    await Promise.all([s.return(undefined), e.return(undefined)]);
  }
}

/** SSIM (mean of per-frame scores) and PSNR (MSE pooled over the whole video), as videoSsim / videoPsnr. */
async function compare(source: VideoInfo, edited: VideoInfo, size: { width: number; height: number },
  progress: (p: EvalProgress) => void): Promise<EditMetrics> {
  const n = edited.frameCount;
  let ssimSum = 0;
  let squaredError = 0;
  let values = 0;
  let t = 0;
  for await (const [s, e] of framePairs(source, edited, size)) {
    ssimSum += ssim(e, s);
    squaredError += meanSquaredError(e, s) * e.data.length;
    values += e.data.length;
    progress({ stage: 'compare', step: ++t, total: n });
  }
  return { ssim: ssimSum / t, psnr: psnrFromMse(squaredError / values) };
}

/** The CLIP metrics of computeClipMetrics, one embedding at a time (mask: the same one for every frame). */
async function clipScores(source: VideoInfo, edited: VideoInfo, size: { width: number; height: number }, target: Tensor,
  mask: Tensor | undefined, embedder: Pick<ImageEmbedder, 'embed'>, progress: (p: EvalProgress) => void): Promise<Partial<EditMetrics>> {
  const n = edited.frameCount;
  const total = mask ? 5 * n + 2 : 2 * n + 1;
  let done = 0;
  const embed = async (image: Tensor): Promise<Float32Array> => {
    const e = await embedder.embed(image);
    progress({ stage: 'embed', step: ++done, total });
    return e;
  };
  const e: Float32Array[] = [], s: Float32Array[] = [], eIn: Float32Array[] = [], eOut: Float32Array[] = [], sOut: Float32Array[] = [];
  for await (const [src, edt] of framePairs(source, edited, size)) {
    e.push(await embed(edt));
    s.push(await embed(src));
    if (mask) {
      eIn.push(await embed(maskImage(edt, mask, 'inside')));
      eOut.push(await embed(maskImage(edt, mask, 'outside')));
      sOut.push(await embed(maskImage(src, mask, 'outside')));
    }
  }
  const tgt = await embed(target);
  const scores: Partial<EditMetrics> = { clipTgt: clipTarget(e, tgt), clipSrc: clipSource(e, s) };
  if (e.length >= 2) scores.clipTC = clipTemporal(e);
  if (mask) {
    scores.clipTgtPlus = clipTarget(eIn, await embed(maskImage(target, mask, 'inside')));
    scores.clipSrcPlus = clipSource(eOut, sOut);
  }
  return scores;
}

/**
 * Flow / Flow⁺ as videoFlows + videoFlowError with the default flow options: each frame's pyramid is built once and
 * used for its two neighbouring pairs; pairs with no unedited pixel are left out of Flow⁺ (NaN if all are).
 */
async function flowErrors(source: VideoInfo, edited: VideoInfo, size: { width: number; height: number },
  mask: Tensor | undefined, progress: (p: EvalProgress) => void): Promise<Partial<EditMetrics>> {
  const pairs = edited.frameCount - 1;
  let prev: [FlowPyramid, FlowPyramid] | undefined;
  const errors: number[] = [];
  const masked: number[] = [];
  for await (const [s, e] of framePairs(source, edited, size)) {
    const cur: [FlowPyramid, FlowPyramid] = [flowPyramid(toGray255(s)), flowPyramid(toGray255(e))];
    if (prev) {
      const sourceFlow = flowFromPyramids(prev[0], cur[0]);
      const editedFlow = flowFromPyramids(prev[1], cur[1]);
      errors.push(endPointError(sourceFlow, editedFlow));
      if (mask) masked.push(endPointError(sourceFlow, editedFlow, mask));
      progress({ stage: 'flow', step: errors.length, total: pairs });
    }
    prev = cur;
  }
  const mean = (xs: number[]): number => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
  const out: Partial<EditMetrics> = { flow: mean(errors) };
  if (mask) out.flowPlus = mean(masked.filter((x) => !Number.isNaN(x)));
  return out;
}

/**
 * A CLIP far smaller than SVD's ViT-H/14 (1280 wide, 32 layers) is a tiny random or toy encoder: its similarities are
 * high for anything (0.88 between colour noise and a photo was seen), so they must not be read as quality.
 */
export function clipCaveat(c: { hiddenSize: number; numHiddenLayers: number }): string | undefined {
  if (c.hiddenSize >= 768 && c.numHiddenLayers >= 12) return undefined;
  return `this image encoder is tiny (width ${c.hiddenSize}, ${c.numHiddenLayers} layers; SVD's is 1280 and 32): ` +
    'its CLIP scores are not a measure of quality and are not comparable with the paper\'s';
}
