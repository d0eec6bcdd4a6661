/**
 * The time a job will take, before it starts, from the pace of the last finished job on this server: seconds per
 * UNet step per frame-megapixel of processing, and per output frame for reading/writing. Null until a job has finished.
 */
import { editBlocks } from '../edit/block-frames.js';
import type { VideoshopOptions } from '../pipeline/options.js';
import type { JobRecord } from './store.js';

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

export function estimateSeconds(input: EstimateInput, finished: readonly JobRecord[]): Estimate {
  const blockFrames = input.blockFrames ?? 14;
  const blocks = editBlocks(Math.max(1, Math.round(input.frames)), blockFrames).length;
  const steps = stepsOf(input.method);
  const unet = 2 * steps * blocks;
  const last = finished.find((j) => j.result && (j.result as { timings_ms?: unknown }).timings_ms);
  if (!last) return { eta_s: null, unet_steps: unet, blocks, basis: 'no job has finished on this server yet' };
  const r = last.result as { timings_ms: Record<string, number>; processing: { width: number; height: number }; blocks: number; frames: number };
  const opts = last.options as { steps?: number; strength?: number };
  const lastSteps = stepsOf({ steps: opts.steps ?? input.method.steps, strength: opts.strength ?? input.method.strength });
  const lastArea = r.processing.width * r.processing.height;
  // Without an explicit size the processing area is the model's, as in the last job (same model).
  const area = input.size ? input.size.width * input.size.height : lastArea;
  const perStep = (r.timings_ms.invert + r.timings_ms.denoise) / (2 * lastSteps * r.blocks) / lastArea;
  const perBlock = (r.timings_ms.encode + r.timings_ms.decode) / r.blocks / lastArea;
  const perFrame = (r.timings_ms.read + r.timings_ms.write) / r.frames;
  const ms = unet * perStep * area + blocks * perBlock * area + input.frames * perFrame;
  return { eta_s: Math.max(1, Math.round(ms / 1000)), unet_steps: unet, blocks, basis: `pace of job ${last.id}` };
}
