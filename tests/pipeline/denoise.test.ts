import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DenoiserInput } from '../../src/models/types.js';
import type { Conditioning } from '../../src/pipeline/conditioning.js';
import { combineGuidance, denoiseLatents, guidanceRamp, usesGuidance } from '../../src/pipeline/denoise.js';
import { SVD_SCHEDULER_CONFIG } from '../../src/pipeline/options.js';
import { Random } from '../../src/random.js';
import { eulerStep, makeSchedule } from '../../src/schedulers/euler.js';
import { RecordingDenoiser } from './fixtures.js';

const schedule = makeSchedule(SVD_SCHEDULER_CONFIG, 25, 0.55);

test('guidance ramp: linspace(min, max, F) per frame', () => {
  assert.deepEqual(Array.from(guidanceRamp(1, 3, 5)), [1, 1.5, 2, 2.5, 3]);
  assert.deepEqual(Array.from(guidanceRamp(4, 4, 14)), Array(14).fill(4));
  assert.deepEqual(Array.from(guidanceRamp(2, 5, 1)), [2]);
  assert.deepEqual(Array.from(guidanceRamp(3, 1, 3)), [3, 2, 1]);
});

test('CFG combination u + g_f·(c − u) uses each frame\'s scale', () => {
  const u = Float32Array.of(0, 1, 2, 3);
  const c = Float32Array.of(1, 1, 0, 5);
  assert.deepEqual(Array.from(combineGuidance(u, c, Float32Array.of(2, 0.5), 2)), [2, 1, 1, 4]);
  assert.throws(() => combineGuidance(u, c, Float32Array.of(2), 2), RangeError);
});

test('guidance is on exactly when max guidance > 1 (reference do_classifier_free_guidance)', () => {
  assert.equal(usesGuidance(4), true);
  assert.equal(usesGuidance(1.0001), true);
  assert.equal(usesGuidance(1), false);
  assert.equal(usesGuidance(0.5), false);
});

/** F = 0.2·x_scaled + 0.05·mean(conditioning latents) + 0.01·embedding[0], per branch. */
function respond(input: DenoiserInput): Float32Array {
  const [B, F, C2, h, w] = input.sample.dims;
  const frame = (C2 / 2) * h * w;
  const D = input.encoderHiddenStates.dims[2];
  const out = new Float32Array(B * F * frame);
  for (let b = 0; b < B; b++) {
    let condMean = 0;
    for (let i = 0; i < frame; i++) condMean += input.sample.data[(b * F) * 2 * frame + frame + i] / frame;
    const e = input.encoderHiddenStates.data[b * D];
    for (let f = 0; f < F; f++) {
      for (let i = 0; i < frame; i++) out[(b * F + f) * frame + i] = 0.2 * input.sample.data[(b * F + f) * 2 * frame + i] + 0.05 * condMean + 0.01 * e;
    }
  }
  return out;
}

function setup(seed: number) {
  const rng = new Random(seed);
  const cond: Conditioning = {
    embedding: rng.normals(3).map((v) => v + 2),
    latents: { data: rng.normals(4 * 9).map((v) => v + 1), dims: [4, 3, 3] },
    addedTimeIds: [6, 127, 0.2],
  };
  const start = { data: rng.normals(5 * 4 * 9).map((v) => 15 * v), dims: [1, 5, 4, 3, 3] };
  return { cond, start };
}

test('guided denoising: batch [uncond (zero embedding, zero latents), cond], per-frame ramp, Euler steps from σ_start', async () => {
  const { cond, start } = setup(1);
  const denoiser = new RecordingDenoiser(4, 14, respond);
  const out = await denoiseLatents({ denoiser, schedule, prediction: 'v_prediction', start, conditioning: cond, minGuidance: 1, maxGuidance: 3 });
  assert.equal(denoiser.calls.length, 13);
  const scales = [1, 1.5, 2, 2.5, 3];
  let x: Float32Array = new Float32Array(start.data);
  const frame = 36;
  for (let k = 0; k < 13; k++) {
    const i = 12 + k;
    const call = denoiser.calls[k];
    assert.equal(call.timestep, schedule.timesteps[i]);
    assert.deepEqual(call.sample.dims, [2, 5, 8, 3, 3]);
    assert.deepEqual(call.encoderHiddenStates.dims, [2, 1, 3]);
    assert.deepEqual(Array.from(call.encoderHiddenStates.data.subarray(0, 3)), [0, 0, 0]);
    assert.deepEqual(call.encoderHiddenStates.data.subarray(3), cond.embedding);
    assert.deepEqual(Array.from(call.addedTimeIds.data), [6, 127, Math.fround(0.2), 6, 127, Math.fround(0.2)]);
    const cIn = 1 / Math.sqrt(schedule.sigmas[i] ** 2 + 1);
    for (let f = 0; f < 5; f++) {
      const uncondFrame = call.sample.data.subarray(f * 2 * frame, (f + 1) * 2 * frame);
      const condFrame = call.sample.data.subarray((5 + f) * 2 * frame, (6 + f) * 2 * frame);
      assert.ok(uncondFrame.subarray(frame).every((v) => v === 0), 'uncond conditioning latents are zero');
      assert.deepEqual(condFrame.subarray(frame), cond.latents.data);
      assert.deepEqual(uncondFrame.subarray(0, frame), condFrame.subarray(0, frame), 'both branches see the same noisy latents');
      assert.equal(condFrame[0], Math.fround(x[f * frame] * cIn));
    }
    const [u, c] = [0, 1].map((b) => respond(call).subarray(b * 5 * frame, (b + 1) * 5 * frame));
    const guided = Float32Array.from(c, (cv, j) => u[j] + scales[Math.floor(j / frame)] * (cv - u[j]));
    x = eulerStep(guided, x, schedule.sigmas[i], schedule.sigmas[i + 1], 'v_prediction');
  }
  assert.deepEqual(out.data, x);
});

test('max guidance ≤ 1 runs the conditional branch alone and uses its output unscaled', async () => {
  const { cond, start } = setup(2);
  for (const [min, max] of [[1, 1], [0.2, 0.5]]) {
    const denoiser = new RecordingDenoiser(4, 14, respond);
    const out = await denoiseLatents({ denoiser, schedule, prediction: 'v_prediction', start, conditioning: cond, minGuidance: min, maxGuidance: max });
    assert.ok(denoiser.calls.every((c) => c.sample.dims[0] === 1));
    assert.deepEqual(denoiser.calls[0].encoderHiddenStates.data, cond.embedding);
    let x: Float32Array = new Float32Array(start.data);
    for (let i = 12; i < 25; i++) x = eulerStep(respond(denoiser.calls[i - 12]), x, schedule.sigmas[i], schedule.sigmas[i + 1], 'v_prediction');
    assert.deepEqual(out.data, x);
  }
});
