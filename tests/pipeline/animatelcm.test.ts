/**
 * Videoshop on AnimateLCM's σ grid (docs/method-notes.md, "AnimateLCM"), on the analytic models: the consistency
 * function of the Gaussian prior stands in for an ideally distilled AnimateLCM UNet.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runVideoshop } from '../../src/pipeline/videoshop.js';
import { ANIMATELCM_CONFIG, makeLcmSchedule } from '../../src/schedulers/animatelcm.js';
import { analyticModels } from '../helpers/analytic.js';
import { driftingVideo, frame, RecordingDenoiser, relativeError } from './fixtures.js';

const video = driftingVideo(8);
const source = frame(video, 0);

test('at its defaults: 4 single UNet calls invert to σ 13.68 on the 8-step grid, 4 denoise; 8 calls, counted', async () => {
  const models = analyticModels({}, 14, true);
  const r = await runVideoshop(models, { video, editedFrame: source }, { sampler: 'animatelcm' });
  assert.equal(r.unetCalls, 8);
  assert.equal(models.denoiser.evaluations, 8);
  assert.equal(models.denoiser.calls, 8);
  assert.equal(r.stats.sigmaStart, makeLcmSchedule(ANIMATELCM_CONFIG, 8).sigmas[4]);
  assert.ok(Math.abs(r.stats.sigmaStart - 13.678) < 1e-3);
  // Σ = 0: only the step from σ = 0 takes the noise branch (Eq. 6 would divide by zero there).
  assert.deepEqual(r.stats.inversionBranches, ['noise', 'extrapolate', 'extrapolate', 'extrapolate']);
  // Reconstruction (edited frame = source): measured 0.361 at Σ = 0 vs 0.684 at the reference's Σ = 1 (static video 0.914).
  const err = relativeError(r.frames.data, video.data);
  assert.ok(err < 0.4, `reconstruction error ${err}`);
  const sigma1 = await runVideoshop(analyticModels({}, 14, true), { video, editedFrame: source }, { sampler: 'animatelcm', threshold: 1 });
  assert.ok(relativeError(sigma1.frames.data, video.data) > 0.6);
});

test('the network sees AnimateLCM\'s c_noise = 0.25·ln σ on its grid, inversion rising then denoising falling', async () => {
  const denoiser = new RecordingDenoiser();
  const models = { ...analyticModels(), denoiser };
  const r = await runVideoshop(models, { video, editedFrame: source }, { sampler: 'animatelcm', steps: 4, strength: 1 });
  const s = makeLcmSchedule(ANIMATELCM_CONFIG, 4);
  const t = Array.from(s.timesteps);
  assert.deepEqual(denoiser.calls.map((c) => c.timestep), [t[3], t[2], t[1], t[0], t[0], t[1], t[2], t[3]]);
  assert.ok(denoiser.calls.every((c) => c.sample.dims[0] === 1), 'guidance 1: batch 1');
  assert.equal(r.unetCalls, 8);
});

test('guidance > 1 on the AnimateLCM grid batches [uncond, cond]: a batch-2 call counts 2', async () => {
  const models = analyticModels({}, 14, true);
  const r = await runVideoshop(models, { video, editedFrame: source }, { sampler: 'animatelcm', maxGuidance: 1.2 });
  assert.equal(r.unetCalls, 4 + 2 * 4);
  assert.equal(models.denoiser.calls, 8);
});

test('the Euler path is untouched by the sampler option: explicit euler = default, bit for bit, 39 calls', async () => {
  const a = await runVideoshop(analyticModels(), { video, editedFrame: source });
  const b = await runVideoshop(analyticModels(), { video, editedFrame: source }, { sampler: 'euler' });
  assert.deepEqual(a.frames.data, b.frames.data);
  assert.equal(a.unetCalls, 39);
});
