/**
 * The time a job will take, before it starts, from the pace of the last finished job on this server: seconds per
 * UNet step per frame-megapixel of processing, and per output frame for reading/writing. Before any job has finished,
 * the pace of the inference worker's test edit after loading; null until that is done too.
 */
import { editBlocks } from '../edit/block-frames.js';
import type { VideoshopOptions } from '../pipeline/options.js';
import type { JobRecord } from './store.js';
import type { MeasuredPace } from '../edit/calibrate.js';
import { processingSize } from '../video/size.js';

export interface EstimateInput {
  frames: number;
  width: number;
  height: number;
  method: Omit<VideoshopOptions, 'scheduler'>;
  size?: { width: number; height: number };
  blockFrames?: number;
}

export interface Estimate {
  eta_s: number | null;
  /** UNet calls the job makes (inversion + denoising, both guidance batches counted once). */
  unet_steps: number;
  blocks: number;
  basis: string;
}

function stepsOf(method: { steps: number; strength: number }): number {
  return Math.max(1, Math.floor(method.steps * method.strength));
}

/** A finished job's result or the worker's test edit; a job's result holds the same fields (inference-worker.ts). */
type Pace = Omit<MeasuredPace, 'native'>;

/** A finished job's result as a pace (its options may leave steps/strength at the defaults of `method`). */
function paceOfJob(job: JobRecord, method: { steps: number; strength: number }): Pace {
  const r = job.result as unknown as Omit<Pace, 'steps' | 'strength'>;
  const o = job.options as { steps?: number; strength?: number };
  return { ...r, steps: o.steps ?? method.steps, strength: o.strength ?? method.strength };
}

/**
 * `finished`: the server's done jobs, newest first (the newest with timings is used); `calibration`: the worker's
 * test edit after loading (edit/calibrate.ts), used until a job has finished.
 */
export function estimateSeconds(input: EstimateInput, finished: readonly JobRecord[], calibration?: MeasuredPace | null): Estimate {
  const blockFrames = input.blockFrames ?? 14;
  const blocks = editBlocks(Math.max(1, Math.round(input.frames)), blockFrames).length;
  const steps = stepsOf(input.method);
  const unet = 2 * steps * blocks;
  const last = finished.find((j) => j.result && (j.result as { timings_ms?: unknown }).timings_ms);
  const pace = last ? paceOfJob(last, input.method) : calibration ?? null;
  if (!pace) return { eta_s: null, unet_steps: unet, blocks, basis: 'no job has finished on this server yet' };
  const basis = last ? `pace of job ${last.id}`
    : `a ${pace.processing.width}×${pace.processing.height} test edit at startup; refined after the first job`;
  const paceArea = pace.processing.width * pace.processing.height;
  // Without an explicit size: the size the edit will pick for this video (the model's native area, known from the
  // test edit), else the area the pace was measured at (same model).
  const native = calibration?.native;
  const size = input.size ?? (native ? processingSize(input.width, input.height, native) : undefined);
  const area = size ? size.width * size.height : paceArea;
  const t = pace.timings_ms;
  const perStep = (t.invert + t.denoise) / (2 * stepsOf(pace) * pace.blocks) / paceArea;
  const perBlock = (t.encode + t.decode) / pace.blocks / paceArea;
  const perFrame = (t.read + t.write) / pace.frames;
  const ms = unet * perStep * area + blocks * perBlock * area + input.frames * perFrame;
  return { eta_s: Math.max(1, Math.round(ms / 1000)), unet_steps: unet, blocks, basis };
}
