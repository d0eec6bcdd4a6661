/**
 * The time an edit will take, before it starts (src/edit/estimate.ts): the edit's own plan (size, section, preview,
 * blocks) priced at the pace of the worker's test edit until a job has finished, then the newest finished job's; any
 * length in O(1), bounded inputs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calibrationSide, estimateEdit, MAX_FRAMES, SVD_GEOMETRY, VideoshopError, type MeasuredPace, type Pace } from '../../src/edit/index.js';

// A pace of 1 ms per UNet call per 1,000 px, 10 ms per VAE pass per 1,000 px, 5 ms per frame read + written.
const side = 192;
const area = side * side;
const pace: MeasuredPace = {
  frames: 14, blocks: 1, processing: { width: side, height: side }, steps: 4, strength: 0.5,
  model: SVD_GEOMETRY,
  timings_ms: { load: 0, read: 14 * 2, write: 14 * 3, encode: 5 * area / 1000, decode: 5 * area / 1000,
    invert: 2 * area / 1000, denoise: 2 * area / 1000, total: 0 },
};
const calibration = { pace, basis: 'a 192×192 test edit at startup; refined after the first job' };
const hd = { frames: 14, width: 1920, height: 1080, fps: 24 };

test('from the test edit: the size the edit will pick for this video, every UNet call, VAE pass and frame', () => {
  const e = estimateEdit(hd, {}, calibration, pace.model);
  // 1920×1080 → 1024×576; ⌊25·0.55⌋ = 13 steps, inverted and denoised: 26 steps in one block, 39 UNet calls (guided: 2).
  assert.equal(e.unetSteps, 26);
  assert.equal(e.plan.unetCalls, 39);
  assert.equal(e.plan.blocks, 1);
  assert.deepEqual(e.plan.size, { width: 1024, height: 576 });
  const ms = 26 * 1024 * 576 / 1000 + 10 * 1024 * 576 / 1000 + 14 * 5;
  assert.equal(e.seconds, Math.round(ms / 1000));
  assert.match(e.basis, /^a 192×192 test edit at startup/);
  // An explicit size wins; more frames make more blocks.
  const small = estimateEdit({ ...hd, frames: 30 }, { size: { width: 512, height: 256 } }, calibration, pace.model);
  assert.equal(small.plan.blocks, 3);
  assert.equal(small.seconds, Math.round((3 * 26 * 512 * 256 / 1000 + 3 * 10 * 512 * 256 / 1000 + 30 * 5) / 1000));
});

test('the plan is the job\'s: a preview, a section, block geometry and guidance change it', () => {
  const long = { frames: 240, width: 1920, height: 1080, fps: 24 };
  const full = estimateEdit(long, {}, null);
  assert.equal(full.plan.frames, 240);
  assert.equal(full.seconds, null);
  // A preview: a quarter of the area, 13 steps (⌊13·0.55⌋ = 7 run), the first block only.
  const preview = estimateEdit(long, { preview: true }, null);
  assert.deepEqual([preview.plan.frames, preview.plan.blocks, preview.plan.stepsPerBlock], [14, 1, 7]);
  assert.deepEqual(preview.plan.size, { width: 512, height: 320 });
  // A section of 2 s from 3 s: 48 frames.
  assert.equal(estimateEdit(long, { start: 3, duration: 2 }, null).plan.frames, 48);
  // Guidance off: one call per denoising step.
  assert.equal(estimateEdit({ ...long, frames: 14 }, { guidance: 1 }, null).plan.unetCalls, 26);
  assert.equal(estimateEdit(long, { blockFrames: 8, blockOverlap: 2 }, null).plan.blocks, Math.ceil((240 - 2) / 6));
});

test('a finished job replaces the test edit; with neither there is no time', () => {
  const job: Pace = { frames: 14, blocks: 1, processing: { width: 1024, height: 576 }, steps: 10, strength: 0.5,
    timings_ms: { load: 0, read: 0, write: 0, encode: 0, decode: 0, invert: 10_000, denoise: 10_000, total: 0 } };
  const e = estimateEdit(hd, {}, { pace: job, basis: 'pace of job j1' });
  assert.equal(e.basis, 'pace of job j1');
  assert.equal(e.seconds, Math.round(26 * 2)); // 2 s per step measured over 10 steps
  assert.equal(estimateEdit(hd, {}, null).seconds, null);
});

test('a pace that counted its UNet calls prices per call: a guided Euler pace prices an unguided AnimateLCM edit right', () => {
  // 5 steps inverted (batch 1) + 5 guided (batch 2) = 15 calls in 15 s: 1 s a call.
  const job: Pace = { frames: 14, blocks: 1, processing: { width: 1024, height: 576 }, steps: 10, strength: 0.5, unet_calls: 15,
    timings_ms: { load: 0, read: 0, write: 0, encode: 0, decode: 0, invert: 5_000, denoise: 10_000, total: 0 } };
  const basis = { pace: job, basis: 'pace of job j1' };
  assert.equal(estimateEdit(hd, {}, basis).seconds, 39); // the default edit: 13 + 2·13 calls, as per step (26 × 1.5 s)
  const lcm = estimateEdit(hd, { scheduler: 'animatelcm' }, basis);
  assert.equal(lcm.plan.unetCalls, 8);
  assert.equal(lcm.seconds, 8);
});

test('warnings knowable before Render: a processing size far above the model\'s, an edit of hours', () => {
  assert.deepEqual(estimateEdit(hd, {}, calibration, pace.model).warnings, []);
  const big = estimateEdit(hd, { size: { width: 1920, height: 1088 } }, calibration, pace.model);
  assert.match(big.warnings[0], /^the processing size 1920×1088 is 3\.5× the model's native area/);
  // 2 h of source at 24 fps: about 1,100 blocks, hours at this pace; the same without a pace says nothing of time.
  const film = { frames: 2 * 3600 * 24, width: 1920, height: 1080, fps: 24 };
  assert.match(estimateEdit(film, {}, calibration, pace.model).warnings.join('\n'), /this edit takes about \d+\.\d hours here \(\d+ blocks\): a quick preview/);
  assert.deepEqual(estimateEdit(film, {}, null).warnings, []);
});

test('any length is planned in O(1); what cannot be an edit is refused before any planning', () => {
  const t0 = performance.now();
  const huge = estimateEdit({ frames: MAX_FRAMES, width: 1920, height: 1080 }, {}, calibration);
  assert.ok(huge.plan.blocks > 1e6);
  assert.ok(performance.now() - t0 < 50, 'no per-block work');
  for (const video of [{ frames: 1e9, width: 64, height: 64 }, { frames: 1e308, width: 64, height: 64 }, { frames: 10, width: 0, height: 64 },
    { frames: 1.5, width: 64, height: 64 }, { frames: 10, width: 1e6, height: 64 }]) {
    assert.throws(() => estimateEdit(video, {}, calibration), VideoshopError, JSON.stringify(video));
  }
  assert.throws(() => estimateEdit(hd, { size: { width: 200_000, height: 200_000 } }, calibration), /size must be/);
  assert.throws(() => estimateEdit(hd, { size: { width: 131_008, height: 131_008 } }, calibration), (e: VideoshopError) => e.code === 'too_large');
  assert.throws(() => estimateEdit(hd, { start: 10 }, calibration), /start 10 s is past the last frame/);
});

test('the test edit runs at a sixteenth of the native area, on the model\'s size grid, at least 64×64', () => {
  assert.equal(calibrationSide({ nativeArea: 768 * 768, sizeMultiple: 64 }), 192);
  assert.equal(calibrationSide({ nativeArea: 64 * 64, sizeMultiple: 8 }), 64);
  assert.equal(calibrationSide({ nativeArea: 512 * 512, sizeMultiple: 64 }), 128);
});
