/**
 * The memory plan of an edit on the CPU, made before any download or load: the peak RSS of each stage estimated from
 * the model's parameter counts and channel widths, the processing size and the block, and the settings that bound it
 * (src/pipeline/options.ts) turned on one at a time until the peak fits the memory this process can have:
 *
 *   1. nothing (the reference's behaviour, bit for bit);
 *   2. release the CLIP and VAE encoders once a block's conditioning is computed (same numbers);
 *   3. encode fewer frames per VAE call (the encoder is per frame: same numbers up to rounding);
 *   4. guided steps as two batch-1 UNet calls (same method, equal up to rounding);
 *   5. decode in chunks of fewer frames, from the block down to 1 (frames mix only within a chunk, as diffusers'
 *      decode_chunk_size).
 *
 * When even the last plan does not fit, `planMemory` throws one line naming a processing size that would.
 * The per-element constants are measured peaks (bench/README.md, "Memory per stage"); they scale with the widest
 * channel count of each network, so tiny configs get tiny estimates.
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readClipVisionConfig } from '../models/clip/config.js';
import { clipWeightShapes } from '../models/clip/weights.js';
import { readUnetConfig } from '../models/unet/config.js';
import { unetWeightShapes } from '../models/unet/weights.js';
import { readVaeConfig } from '../models/vae/config.js';
import { vaeWeightShapes } from '../models/vae/weights.js';
import { TOY_MODEL, toyModelFolder } from '../models/toy.js';
import { usesGuidance } from '../pipeline/denoise.js';
import { processingSize } from '../video/size.js';
import { msg, option, VideoshopError } from '../util/errors.js';
import { gigabytes } from './memory.js';
import { PREVIEW_AREA } from './plan.js';

const GIB = 2 ** 30;

/** What the estimate needs to know of a model (parameter counts and the widest channel count of each network). */
export interface MemoryModel {
  readonly unetParams: number;
  /** UNet block_out_channels[0] (320 for SVD): its widest activations, at the latent resolution. */
  readonly unetChannels: number;
  readonly vaeParams: number;
  /** VAE block_out_channels[0] (128 for SVD): its widest activations, at the pixel resolution. */
  readonly vaeChannels: number;
  readonly vaeDownscale: number;
  readonly clipParams: number;
}

/** stabilityai/stable-video-diffusion-img2vid, counted from configs/stable-video-diffusion-img2vid (weight-shapes). */
export const SVD_MEMORY_MODEL: MemoryModel = {
  unetParams: 1_524_623_082, unetChannels: 320, vaeParams: 97_742_847, vaeChannels: 128, vaeDownscale: 8, clipParams: 632_076_800,
};

/**
 * Bytes per unit, measured with bench:models / bench:full on 2 cores, float32 compute (bench/README.md):
 * - weights: a session holds 1.08× the float32 bytes (fp16 files are folded to float32; 6.14 GiB for SVD's UNet);
 * - UNet: (9.9 − 6.1) GiB over a batch-1 forward of 14 × 72×128 latents = 25 floats per latent pixel, frame and
 *   batch element per unit of block_out_channels[0] (320 → 31.6 kB);
 * - VAE encoder: (2.5 − 0.36) GiB over 2 frames of 768² = 3.8 floats per pixel per unit of its width (128);
 * - VAE decoder: per frame of a chunk, DECODER_FLOATS floats per pixel per unit of its width (see bench/README.md);
 * - pipeline: the block's frames as float32 several times (input, output, pending cross-fade, conversions), and the
 *   process itself (Node, ORT, the graphs' protobufs).
 */
const WEIGHT_BYTES_PER_PARAM = 4 * 1.08;
const UNET_FLOATS = 25;
const ENCODER_FLOATS = 3.8;
export const DECODER_FLOATS = 11.2;
const BLOCK_COPIES = 6;
const PROCESS_BYTES = 0.35 * GIB;
/** Left free for the rest of the machine and the estimate's error. */
const HEADROOM = 0.5 * GIB;

export interface MemorySettings {
  readonly releaseEncoders: boolean;
  /** null: the reference's 14 frames per call. */
  readonly encodeChunk: number | null;
  readonly oneBranchAtATime: boolean;
  /** null: the whole block in one call. */
  readonly decodeChunk: number | null;
}

export const DEFAULT_MEMORY_SETTINGS: MemorySettings = { releaseEncoders: false, encodeChunk: null, oneBranchAtATime: false, decodeChunk: null };

export interface MemoryEstimate {
  /** Peak RSS of the whole process per stage, bytes. */
  readonly stages: { readonly encode: number; readonly denoise: number; readonly decode: number };
  readonly peak: number;
}

export interface EditShape {
  readonly width: number;
  readonly height: number;
  readonly blockFrames: number;
  /** false when guidance is off (maxGuidance ≤ 1): every UNet call is batch 1. */
  readonly guided?: boolean;
}

export function estimateMemory(model: MemoryModel, shape: EditShape, s: MemorySettings = DEFAULT_MEMORY_SETTINGS): MemoryEstimate {
  const F = shape.blockFrames;
  const pixels = shape.width * shape.height;
  const latentPixels = pixels / model.vaeDownscale ** 2;
  const weights = (params: number) => params * WEIGHT_BYTES_PER_PARAM;
  const unet = weights(model.unetParams);
  const clip = weights(model.clipParams);
  // The encoder and the decoder hold about half the VAE's parameters each.
  const vaeHalf = weights(model.vaeParams) / 2;
  const base = PROCESS_BYTES + BLOCK_COPIES * F * 3 * pixels * 4;
  const encodeFrames = Math.min(F, s.encodeChunk ?? (F <= 14 ? 14 : 10));
  const encode = base + unet + clip + vaeHalf + encodeFrames * pixels * ENCODER_FLOATS * model.vaeChannels * 4;
  const encoders = s.releaseEncoders ? 0 : clip + vaeHalf;
  const batch = shape.guided === false || s.oneBranchAtATime ? 1 : 2;
  const denoise = base + unet + encoders + batch * F * latentPixels * UNET_FLOATS * model.unetChannels * 4;
  const decodeFrames = Math.min(F, s.decodeChunk ?? F);
  const decode = base + unet + encoders + vaeHalf + decodeFrames * pixels * DECODER_FLOATS * model.vaeChannels * 4;
  return { stages: { encode, denoise, decode }, peak: Math.max(encode, denoise, decode) };
}

export interface MemoryPlan {
  readonly settings: MemorySettings;
  readonly estimate: MemoryEstimate;
  /** The memory the plan had to fit (bytes). */
  readonly budget: number;
}

/** The first plan (in the order of the header) whose estimated peak fits `budget`; null when none does. */
export function chooseMemorySettings(model: MemoryModel, shape: EditShape, budget: number): MemoryPlan | null {
  const fits = (s: MemorySettings) => estimateMemory(model, shape, s).peak + HEADROOM <= budget;
  const plan = (s: MemorySettings): MemoryPlan => ({ settings: s, estimate: estimateMemory(model, shape, s), budget });
  let s = DEFAULT_MEMORY_SETTINGS;
  if (fits(s)) return plan(s);
  s = { ...s, releaseEncoders: true };
  if (fits(s)) return plan(s);
  const stageFits = (st: MemorySettings, stage: keyof MemoryEstimate['stages']) =>
    estimateMemory(model, shape, st).stages[stage] + HEADROOM <= budget;
  for (let n = Math.min(shape.blockFrames, 14); n >= 1 && !stageFits(s, 'encode'); n = n > 1 ? Math.ceil(n / 2) : 0) {
    s = { ...s, encodeChunk: n };
  }
  if (!stageFits(s, 'denoise')) s = { ...s, oneBranchAtATime: true };
  for (let n = shape.blockFrames - 1; n >= 1 && !stageFits(s, 'decode'); n--) s = { ...s, decodeChunk: n };
  return fits(s) ? plan(s) : null;
}

/** The smallest plan: every setting at its most frugal. */
export function smallestSettings(): MemorySettings {
  return { releaseEncoders: true, encodeChunk: 1, oneBranchAtATime: true, decodeChunk: 1 };
}

/**
 * Plans the edit's memory or throws VideoshopError('too_large') naming the largest processing size (same aspect,
 * multiples of `multiple`) whose smallest plan fits.
 */
export function planMemory(model: MemoryModel, shape: EditShape, opts: { budget?: number; multiple?: number } = {}): MemoryPlan {
  const budget = opts.budget ?? memoryBudget();
  const chosen = chooseMemorySettings(model, shape, budget);
  if (chosen) return chosen;
  const least = estimateMemory(model, shape, smallestSettings());
  const multiple = opts.multiple ?? 64;
  let fitting: { width: number; height: number } | null = null;
  for (let scale = 0.9; scale > 1e-6; scale *= 0.9) {
    const size = processingSize(shape.width, shape.height, { area: shape.width * shape.height * scale, multiple });
    if (chooseMemorySettings(model, { ...shape, ...size }, budget)) {
      fitting = size;
      break;
    }
    if (size.width === multiple || size.height === multiple) break;
  }
  const fewerFrames = chooseMemorySettings(model, { ...shape, blockFrames: 1 }, budget) !== null;
  const what = fitting
    ? msg`choose ${option('size', `${fitting.width}x${fitting.height}`)}, which fits`
    : fewerFrames ? msg`choose fewer ${option('block-frames')}` : ['use a machine with more memory'];
  throw new VideoshopError('too_large',
    [...msg`processing at ${shape.width}×${shape.height} in blocks of ${shape.blockFrames} frames needs about ${gigabytes(least.peak + HEADROOM)} GB \
of memory even decoding one frame at a time, more than the ${gigabytes(budget)} GB this process can have: `, ...what],
    { field: 'size', params: { width: shape.width, height: shape.height, blockFrames: shape.blockFrames, needBytes: least.peak + HEADROOM,
      availableBytes: budget, fits: fitting } });
}

/**
 * The memory this process can use: what the kernel could hand out now (MemAvailable) plus what it already holds
 * (VmRSS: a loaded model counts), capped by a cgroup (container) limit when there is one, and by
 * $VIDEOSHOP_MEMORY_GIB when set.
 */
export function memoryBudget(): number {
  const read = (file: string): string | null => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  };
  const meminfo = read('/proc/meminfo');
  const available = Number(/^MemAvailable:\s+(\d+) kB/m.exec(meminfo ?? '')?.[1] ?? NaN) * 1024;
  const rss = process.memoryUsage.rss();
  let budget = (Number.isFinite(available) ? available : os.freemem()) + rss;
  for (const [limitFile, usageFile] of [['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory.current'],
    ['/sys/fs/cgroup/memory/memory.limit_in_bytes', '/sys/fs/cgroup/memory/memory.usage_in_bytes']]) {
    const limit = Number(read(limitFile)?.trim());
    const usage = Number(read(usageFile)?.trim());
    // cgroup v1 reports "no limit" as a huge number; v2 as "max" (NaN here).
    if (Number.isFinite(limit) && limit < 2 ** 52 && Number.isFinite(usage)) budget = Math.min(budget, limit - usage + rss);
  }
  // An operator's cap (and bench:full's --memory-gib): plan as if the machine had only this much.
  const cap = Number(process.env.VIDEOSHOP_MEMORY_GIB);
  if (cap > 0) budget = Math.min(budget, cap * GIB);
  return budget;
}

/** A model's memory figures and geometry read from a local diffusers folder's configs (no weights read). */
export function memoryModelOfFolder(folder: string): { memory: MemoryModel; geometry: { nativeArea: number; sizeMultiple: number; numFrames: number } } {
  const unet = readUnetConfig(path.join(folder, 'unet'));
  const vae = readVaeConfig(path.join(folder, 'vae'));
  const clip = readClipVisionConfig(path.join(folder, 'image_encoder'));
  const count = (shapes: readonly { shape: readonly number[] }[]) => shapes.reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
  const unetJson = JSON.parse(readFileSync(path.join(folder, 'unet', 'config.json'), 'utf8')) as { sample_size?: number };
  const sampleSize = typeof unetJson.sample_size === 'number' ? unetJson.sample_size : 96;
  return {
    memory: {
      unetParams: count(unetWeightShapes(unet)), unetChannels: unet.blockOutChannels[0], vaeParams: count(vaeWeightShapes(vae)),
      vaeChannels: vae.blockOutChannels[0], vaeDownscale: vae.downscale, clipParams: count(clipWeightShapes(clip)),
    },
    geometry: {
      nativeArea: (sampleSize * vae.downscale) ** 2, sizeMultiple: vae.downscale * 2 ** (unet.blockOutChannels.length - 1), numFrames: unet.numFrames,
    },
  };
}

/** SVD's geometry, for a Hub model not downloaded yet (SVD and SVD-XT share it but for the frames). */
export const SVD_GEOMETRY = { nativeArea: 1024 * 576, sizeMultiple: 64, numFrames: 14 };

/**
 * The memory plan of an edit request before its model is loaded (undefined on GPUs: their memory is not planned
 * yet). A local folder (or the toy model) is measured from its configs; a Hub id is assumed to be SVD-shaped.
 */
export function planEditMemory(
  request: { model?: string; device?: string; size?: { width: number; height: number }; preview?: boolean; blockFrames?: number; maxGuidance: number },
  video: { width: number; height: number; frames: number },
  budget?: number,
): MemoryPlan | undefined {
  if ((request.device ?? 'cpu') !== 'cpu') return undefined;
  const folder = localModelFolder(request.model);
  const { memory, geometry } = folder ? memoryModelOfFolder(folder) : { memory: SVD_MEMORY_MODEL, geometry: SVD_GEOMETRY };
  const area = geometry.nativeArea * (request.preview ? PREVIEW_AREA : 1);
  const size = request.size ?? processingSize(video.width, video.height, { area, multiple: geometry.sizeMultiple });
  const blockFrames = Math.max(1, Math.min(video.frames, request.blockFrames ?? geometry.numFrames));
  return planMemory(memory, { ...size, blockFrames, guided: usesGuidance(request.maxGuidance) }, { budget, multiple: geometry.sizeMultiple });
}

function localModelFolder(model: string | undefined): string | null {
  if (model === TOY_MODEL) return toyModelFolder();
  if (model && existsSync(path.join(model, 'unet', 'config.json')) && existsSync(path.join(model, 'vae', 'config.json'))
    && existsSync(path.join(model, 'image_encoder', 'config.json'))) return model;
  return null;
}
