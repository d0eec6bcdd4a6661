/**
 * A short test edit that measures this machine's pace with a loaded model, so that the time of an edit can be
 * estimated before any real edit has run (the web app's "estimated time before starting").
 *
 * It is a real edit through `editVideo`, every stage included: a synthetic clip (src/scenes, seeded) one block long,
 * at a sixteenth of the model's native area (192×192 for SVD's 1024×576, never below 64×64), with 4 steps at strength
 * 0.5, so 2 inversion and 2 denoising UNet calls, at the default guidance. What it returns has the shape of a finished
 * edit's timings, so an estimate treats it like a finished job. Extrapolating its per-pixel pace to the full area is
 * linear, which attention's quadratic cost makes optimistic at large sizes; the first real job replaces it.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { SvdModel } from '../models/svd.js';
import { reshape } from '../tensor.js';
import { renderScene, sampleEdit, sampleScene } from '../scenes/index.js';
import { clipToTensor } from '../scenes/tensors.js';
import { writeVideo } from '../video/write.js';
import { editVideo } from './edit-video.js';
import type { Pace } from './estimate.js';
import type { ModelGeometry } from './plan.js';

/** The test edit's pace (the fields a finished edit reports) and the model's geometry, for estimates. */
export interface MeasuredPace extends Pace {
  /** The model's native area, size multiple and frames per block, to plan an edit of any video. */
  readonly model: ModelGeometry;
}

export const CALIBRATION_METHOD = { steps: 4, strength: 0.5, seed: 0 } as const;
const MIN_SIDE = 64;

/** The calibration clip's side: √(native area / 16) rounded to the model's size multiple, at least 64. */
export function calibrationSide(model: Pick<SvdModel, 'nativeArea' | 'sizeMultiple'>): number {
  const m = model.sizeMultiple;
  return Math.max(Math.ceil(MIN_SIDE / m), Math.round(Math.sqrt(model.nativeArea / 16) / m)) * m;
}

/**
 * Writes a seeded synthetic clip (`width`×`height`, `frames` frames, lossless FFV1) and its first frame with an object
 * recoloured (PNG) into `dir`: an edit's two inputs, for the test edit here and for bench/estimate.ts.
 */
export async function writeSceneEdit(
  dir: string,
  name: string,
  o: { width: number; height: number; frames: number; seed: number; signal?: AbortSignal },
): Promise<{ video: string; editedFrame: string }> {
  const { width, height, frames } = o;
  const scene = sampleScene(o.seed, { width, height, frames });
  const source = renderScene(scene);
  const edited = renderScene(scene, sampleEdit(scene, 'recolor', o.seed));
  const video = path.join(dir, `${name}.mkv`);
  await writeVideo(video, Array.from({ length: frames }, (_, f) => reshape(clipToTensor(source, f, f + 1), [3, height, width])),
    { width, height, fps: { num: 7, den: 1 }, codec: 'ffv1', audio: 'none', signal: o.signal });
  const editedFrame = path.join(dir, `${name}-edited.png`);
  await sharp(edited.rgb.subarray(0, width * height * 3), { raw: { width, height, channels: 3 } }).png().toFile(editedFrame);
  return { video, editedFrame };
}

/** `dir`: where the clip is written (default the system's temp folder); removed on every way out, the abort included. */
export async function measurePace(model: SvdModel, opts: { signal?: AbortSignal; dir?: string } = {}): Promise<MeasuredPace> {
  const side = calibrationSide(model);
  const frames = model.numFrames;
  const dir = await mkdtemp(path.join(opts.dir ?? tmpdir(), 'videoshop-pace-'));
  try {
    const { video, editedFrame } = await writeSceneEdit(dir, 'source', { width: side, height: side, frames, seed: 1, signal: opts.signal });
    const result = await editVideo({
      video, editedFrame, output: path.join(dir, 'out.mkv'), size: { width: side, height: side },
      blockFrames: frames, ...CALIBRATION_METHOD, audio: 'none',
    }, { model, signal: opts.signal });
    return { frames: result.frames, blocks: result.blocks.length, processing: result.processing, timings_ms: result.timings,
      steps: CALIBRATION_METHOD.steps, strength: CALIBRATION_METHOD.strength, unet_calls: result.unetCalls,
      model: { nativeArea: model.nativeArea, sizeMultiple: model.sizeMultiple, numFrames: model.numFrames } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
