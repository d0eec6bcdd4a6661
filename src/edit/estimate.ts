/**
 * How long an edit will take, before it starts: the edit's own plan (src/edit/plan.ts: size, section, preview,
 * blocks, steps) priced at a measured pace — seconds per UNet step per frame-pixel, per VAE pass per pixel, per frame
 * read and written. The pace comes from the last finished edit on this machine, else from the short test edit a
 * server runs after loading its model (src/edit/calibrate.ts). Pure arithmetic: any video length is O(1).
 */
import { MAX_FRAMES, planEdit, type EditPlan, type ModelGeometry } from './plan.js';
import { checkKeyframeSpacing, placeKeyframes, type PlacedKeyframe } from './keyframes.js';
import { checkEditRequest, type CheckedRequest, type EditRequest } from './request.js';
import { fieldSpec } from './schema.js';
import type { EditResult } from './edit-video.js';
import { msg, option, VideoshopError } from '../util/errors.js';
import { segmentFrames } from '../video/timing.js';

/** A measured edit's numbers (a finished edit's result, or the test edit's). */
export interface Pace {
  readonly frames: number;
  readonly blocks: number;
  readonly processing: { readonly width: number; readonly height: number };
  readonly timings_ms: Omit<EditResult['timings'], 'keep'> & { readonly keep?: number };
  /** The measured edit's steps and strength (UNet steps per block = ⌊steps·strength⌋, inverted and denoised). */
  readonly steps: number;
  readonly strength: number;
  /**
   * UNet calls the measured edit made (a batch-2 call counts 2), when known: the edit is then priced per call, so a
   * pace measured with guidance (batch 2) prices an unguided edit (the AnimateLCM sampler's default) right, and back.
   */
  readonly unet_calls?: number;
}

/** What the estimated video is (an upload's summary will do). */
export interface VideoShape {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  /** Frames per second, to turn a section (start/duration) into frames; default: 1 frame a second is never assumed. */
  readonly fps?: number;
}

export interface EditEstimate {
  /** Seconds, or null when there is no pace yet. */
  readonly seconds: number | null;
  readonly plan: EditPlan;
  /** UNet steps (inversion + denoising, each guided pair counted once): the unit the pace is measured in. */
  readonly unetSteps: number;
  /** Where the pace comes from, in words. */
  readonly basis: string;
  /** What is worth knowing before starting it, in words: a processing size far above the model's, a run of hours. */
  readonly warnings: readonly string[];
}

/** Above this share of the model's native area a size is called out before the edit (time and memory grow faster). */
const LARGE_AREA = 2;
/** An edit longer than this (seconds) is called out before it starts. */
const LONG_EDIT_S = 3600;

/** SVD's geometry: what an estimate assumes before any edit has told it the model's. */
export const SVD_GEOMETRY: ModelGeometry = { nativeArea: 1024 * 576, sizeMultiple: 64, numFrames: 14 };
/** The longest side an estimate takes: the schema's bound on a processing size's sides. */
const MAX_SIDE = fieldSpec('size')!.max!;

/** The frames of a section of a constant-rate video (the edit itself uses every frame's time; this is for estimates). */
export function sectionFrames(frames: number, fps: number | undefined, start?: number, duration?: number): number {
  if (!fps || !(fps > 0) || (start === undefined && duration === undefined)) return frames;
  const eps = 1e-6;
  const first = Math.max(0, Math.ceil((start ?? 0) * fps - eps));
  if (first >= frames) {
    throw new VideoshopError('bad_option', msg`${option('start')} ${start} s is past the last frame (at ${((frames - 1) / fps).toFixed(3)} s)`,
      { field: 'start', params: { value: start } });
  }
  const end = duration === undefined ? frames : Math.min(frames, Math.ceil(((start ?? 0) + duration) * fps - eps));
  return Math.max(1, end - first);
}

/**
 * The keyframes (`keyframe`, their images not read) on a constant-rate video, frame i at i/fps: an estimate knows no
 * frame's own time (the edit places them by each frame's timestamp; for a constant-rate source the two agree).
 * O(frames), only when keyframes are given.
 */
function placeAtRate(video: VideoShape, request: CheckedRequest): PlacedKeyframe[] {
  const keyframes = request.keyframe ?? [];
  const needsRate = keyframes.some((k) => k.frame === undefined) || request.start !== undefined || request.duration !== undefined;
  if (!video.fps && needsRate) {
    throw new VideoshopError('bad_input', msg`the video's frame rate is needed to place ${option('keyframe')} by time`, { field: 'keyframe' });
  }
  const clock = { frameCount: video.frames, fps: { num: video.fps ?? 1, den: 1 }, pts: [], timeBase: { num: 1, den: 1 } };
  return placeKeyframes(clock, segmentFrames(clock, request.start, request.duration), keyframes);
}

/**
 * The estimate of editing `video` with `options` (request fields; files are not needed). `pace`: the newest measured
 * edit, with its `basis` in words; null: none yet (the plan is still returned). `model`: the loaded model's geometry.
 * Keyframes (`keyframe`, by time or index) start blocks of their own and are refused as the edit refuses them (past
 * the end, outside the section, two within one block overlap).
 */
export function estimateEdit(
  video: VideoShape,
  options: Partial<EditRequest>,
  pace: { readonly pace: Pace; readonly basis: string } | null,
  model: ModelGeometry = SVD_GEOMETRY,
): EditEstimate {
  const { width, height, frames, fps } = video;
  for (const [name, v, max] of [['width', width, MAX_SIDE], ['height', height, MAX_SIDE], ['frames', frames, MAX_FRAMES]] as const) {
    if (!(Number.isInteger(v) && v >= 1 && v <= max)) {
      throw new VideoshopError('bad_input', `the video's ${name} must be a whole number from 1 to ${max}, got ${v}`, { params: { [name]: v } });
    }
  }
  const request = checkEditRequest({ video: 'v', editedFrame: 'e', output: 'o.mp4', ...options });
  const keyframes = request.keyframe?.length ? placeAtRate(video, request) : [];
  const plan = planEdit(video, sectionFrames(frames, fps, request.start, request.duration), request, model, keyframes.map((k) => k.offset));
  // As the edit checks them: each keyframe the plan reaches starts a block, at least a block overlap from the next.
  checkKeyframeSpacing(keyframes.filter((k) => plan.keyframes.includes(k.offset)), plan.frames, plan.blockOverlap);
  const unetSteps = 2 * plan.stepsPerBlock * plan.blocks;
  const warnings: string[] = [];
  const share = (plan.size.width * plan.size.height) / model.nativeArea;
  if (share > LARGE_AREA) {
    warnings.push(`the processing size ${plan.size.width}×${plan.size.height} is ${share.toFixed(1)}× the model's native area: every step is ` +
      `more than ${share.toFixed(1)}× slower, it needs more memory, and the model was trained at its native size; a smaller size is faster`);
  }
  if (!pace) return { seconds: null, plan, unetSteps, basis: 'no edit has been measured on this machine yet', warnings };
  const p = pace.pace;
  const paceArea = p.processing.width * p.processing.height;
  const area = plan.size.width * plan.size.height;
  const t = p.timings_ms;
  const paceSteps = Math.max(1, Math.floor(p.steps * p.strength));
  const unetMs = p.unet_calls && p.unet_calls > 0
    ? plan.unetCalls * ((t.invert + t.denoise) / p.unet_calls / paceArea) * area
    : unetSteps * ((t.invert + t.denoise) / (2 * paceSteps * p.blocks) / paceArea) * area;
  const perBlock = (t.encode + t.decode) / p.blocks / paceArea;
  const perFrame = (t.read + t.write) / p.frames;
  const ms = unetMs + plan.blocks * perBlock * area + plan.frames * perFrame;
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds > LONG_EDIT_S) {
    warnings.push(`this edit takes about ${(seconds / 3600).toFixed(1)} hours here (${plan.blocks} blocks): a quick preview or a shorter section first shows whether the edit holds`);
  }
  return { seconds, plan, unetSteps, basis: pace.basis, warnings };
}
