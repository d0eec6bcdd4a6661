/**
 * The plan of an edit, before it runs: the processing size, the frames edited, the blocks, the UNet calls. One
 * function for the edit itself and for every estimate of it (the server's, the page's), so an estimate plans
 * exactly what the job will run: the preview, the section (start/duration) and the block geometry included.
 */
import { blockCount, planBlocks, type Block } from '../pipeline/blocks.js';
import { usesGuidance } from '../pipeline/denoise.js';
import { msg, option, VideoshopError } from '../util/errors.js';
import { aspectMismatch, processingSize } from '../video/size.js';
import { planKeyframeBlocks } from './keyframes.js';
import { checkEditMemory } from './memory.js';
import { checkOverlap, type CheckedRequest } from './request.js';

/** Share of the default processing area a preview uses (each side about halved). */
export const PREVIEW_AREA = 0.25;
/** Frames shared by consecutive blocks by default (fewer for blocks shorter than 8 frames). */
export const DEFAULT_BLOCK_OVERLAP = 4;
/** Aspect ratios closer than this are stretched silently (rounding of sizes); beyond it the user must choose `fit`. */
export const ASPECT_TOLERANCE = 0.01;
/** The longest video an edit or estimate plans (a day at 120 fps): bounds every plan before any work. */
export const MAX_FRAMES = 10_368_000;

/** What a model contributes to a plan (SvdModel has these; an estimate may know them from a test edit). */
export interface ModelGeometry {
  /** Pixel area the model was trained at (1024·576 for SVD). */
  readonly nativeArea: number;
  /** Processing sides must be multiples of this (64 for SVD). */
  readonly sizeMultiple: number;
  /** Frames per block by default (14 for SVD). */
  readonly numFrames: number;
}

export interface EditPlan {
  readonly size: { readonly width: number; readonly height: number };
  /** Frames edited (the section's, or the first block's for a preview). */
  readonly frames: number;
  readonly blockFrames: number;
  readonly blockOverlap: number;
  readonly blocks: number;
  /** Frames (from the section's first) where a keyframe starts a block of its own (src/edit/keyframes.ts). */
  readonly keyframes: readonly number[];
  /** Scheduler steps that run per block: ⌊steps·strength⌋ inverted, as many denoised. */
  readonly stepsPerBlock: number;
  /** UNet calls of the whole edit; a guided (batch-2) call counts 2. */
  readonly unetCalls: number;
}

/** The default overlap rule: consecutive blocks always advance by at least half a block. */
export function defaultOverlap(blockFrames: number): number {
  return Math.max(1, Math.min(DEFAULT_BLOCK_OVERLAP, Math.floor(blockFrames / 2)));
}

/**
 * Plans the edit of `sectionFrames` frames of a `source.width`×`source.height` video. Throws VideoshopError for a
 * size the model cannot take, an overlap over half a block, a size whose memory cannot exist, a length past MAX_FRAMES.
 */
export function planEdit(
  source: { readonly width: number; readonly height: number },
  sectionFrames: number,
  request: CheckedRequest,
  model: ModelGeometry,
  keyframes: readonly number[] = [],
): EditPlan {
  if (!(Number.isInteger(sectionFrames) && sectionFrames >= 1 && sectionFrames <= MAX_FRAMES)) {
    throw new VideoshopError('too_large', `${sectionFrames} frames: an edit plans at most ${MAX_FRAMES} frames (a day at 120 fps); edit a section`,
      { field: 'duration', params: { frames: sectionFrames, max: MAX_FRAMES } });
  }
  const area = model.nativeArea * (request.preview ? PREVIEW_AREA : 1);
  const size = request.size ?? processingSize(source.width, source.height, { area, multiple: model.sizeMultiple });
  if (size.width % model.sizeMultiple || size.height % model.sizeMultiple) {
    throw new VideoshopError('bad_option',
      msg`${option('size')} ${size.width}x${size.height}: both sides must be positive multiples of ${model.sizeMultiple} for this model`,
      { field: 'size', params: { width: size.width, height: size.height, multiple: model.sizeMultiple } });
  }
  const blockFrames = request.blockFrames ?? model.numFrames;
  checkEditMemory(size, blockFrames);
  if (request.blockOverlap !== undefined) checkOverlap(request.blockOverlap, blockFrames);
  const blockOverlap = request.blockOverlap ?? defaultOverlap(blockFrames);
  const frames = request.preview ? Math.min(sectionFrames, blockFrames) : sectionFrames;
  // Keyframes past a preview's first block are not reached.
  const keys = keyframes.filter((k) => k > 0 && k < frames);
  const blocks = keys.length ? planKeyframeBlocks(frames, blockFrames, blockOverlap, keys).length : blockCount(frames, blockFrames, blockOverlap);
  const m = request.methodOptions;
  const stepsPerBlock = Math.min(Math.floor(m.steps * m.strength), m.steps);
  const perBlock = stepsPerBlock * (1 + (usesGuidance(m.maxGuidance) ? 2 : 1));
  return { size, frames, blockFrames, blockOverlap, blocks, keyframes: keys, stepsPerBlock, unetCalls: blocks * perBlock };
}

/** The blocks themselves (planBlocks with the plan's geometry). */
export function planBlocksOf(plan: EditPlan): Block[] {
  return plan.keyframes.length ? planKeyframeBlocks(plan.frames, plan.blockFrames, plan.blockOverlap, plan.keyframes)
    : planBlocks(plan.frames, plan.blockFrames, plan.blockOverlap);
}

/** Throws VideoshopError('aspect_mismatch') when an edited frame's aspect ratio differs from the video's and no `fit` is chosen. */
export function checkAspect(frame: { width: number; height: number }, video: { width: number; height: number }, fit: string | undefined): void {
  const mismatch = aspectMismatch(frame, video);
  if (mismatch > ASPECT_TOLERANCE && !fit) {
    throw new VideoshopError('aspect_mismatch',
      msg`the edited frame is ${frame.width}×${frame.height} but the video is ${video.width}×${video.height} \
(aspect ratios differ by ${(mismatch * 100).toFixed(1)}%): export the frame at the video's size, or use ${option('fit', 'crop')} or ${option('fit', 'pad')}`,
      { field: 'fit', params: { frame: { width: frame.width, height: frame.height }, video: { width: video.width, height: video.height }, mismatch } });
  }
}
