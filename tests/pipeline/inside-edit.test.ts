import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyticModels } from '../helpers/analytic.js';
import { INSIDE_PLANS, insideStartIndex, outsideAt, renoise } from '../../src/pipeline/inside-edit.js';
import { latentMask } from '../../src/pipeline/latent-mask.js';
import { INSIDE_EDIT_VARIANTS, SVD_SCHEDULER_CONFIG } from '../../src/pipeline/options.js';
import { runVideoshop } from '../../src/pipeline/videoshop.js';
import { makeSchedule } from '../../src/schedulers/euler.js';
import { tensor } from '../../src/tensor.js';
import { driftingVideo, frame, paintRedSquare } from './fixtures.js';

const F = 8;
const video = driftingVideo(F);
const edited = frame(paintRedSquare(video), 0);

/** [F, 1, 64, 64]: 1 on the top-left quadrant (where paintRedSquare paints) of every frame. */
function quadrantMask(): ReturnType<typeof tensor> {
  const data = new Float32Array(F * 64 * 64);
  for (let f = 0; f < F; f++) for (let y = 0; y < 32; y++) data.fill(1, (f * 64 + y) * 64, (f * 64 + y) * 64 + 32);
  return tensor(data, [F, 1, 64, 64]);
}

test('every variant but none has a plan', () => {
  assert.deepEqual(Object.keys(INSIDE_PLANS).sort(), INSIDE_EDIT_VARIANTS.filter((v) => v !== 'none').sort());
});

test('insideStartIndex: the schedule\'s own start, or earlier for a larger inside strength (never later)', () => {
  const s = makeSchedule(SVD_SCHEDULER_CONFIG, 25, 0.55);
  assert.equal(insideStartIndex(s, INSIDE_PLANS.renoise), 12);
  assert.equal(insideStartIndex(s, INSIDE_PLANS.deeper), 5);
  assert.equal(insideStartIndex(makeSchedule(SVD_SCHEDULER_CONFIG, 25, 0.9), INSIDE_PLANS.deeper), 3);
});

test('renoise: share 0 is the start itself, share 1 forgets it, the noise is σ-scaled and seeded', () => {
  const start = new Float32Array(4096).fill(3);
  assert.equal(renoise(start, 0, 42, 15), start);
  const full = renoise(start, 1, 42, 15);
  assert.deepEqual(full, renoise(new Float32Array(4096), 1, 42, 15));
  const std = Math.sqrt(full.reduce((s, v) => s + v * v, 0) / full.length);
  assert.ok(Math.abs(std - 15) < 0.6, `std ${std}`);
  assert.notDeepEqual(full, renoise(start, 1, 43, 15));
  const half = renoise(start, 0.5, 42, 15);
  assert.ok(Math.abs(half[0] - (Math.SQRT1_2 * 3 + Math.SQRT1_2 * full[0])) < 1e-4);
});

test('outsideAt: the source trajectory until σ_start, then as the plan says', () => {
  const source = new Map([[5, Float32Array.of(5)], [12, Float32Array.of(12)], [13, Float32Array.of(13)], [25, Float32Array.of(0)]]);
  const videoshop = new Map([[13, Float32Array.of(-13)], [25, Float32Array.of(-25)]]);
  assert.deepEqual(outsideAt(INSIDE_PLANS.deeper, 12, 12, source, null), Float32Array.of(12));
  assert.equal(outsideAt(INSIDE_PLANS.deeper, 13, 12, source, null), null);
  assert.deepEqual(outsideAt(INSIDE_PLANS.blend, 25, 12, source, null), Float32Array.of(0));
  assert.deepEqual(outsideAt(INSIDE_PLANS['renoise-keep'], 13, 12, source, videoshop), Float32Array.of(-13));
  assert.throws(() => outsideAt(INSIDE_PLANS.blend, 20, 12, source, null), /no outside latents/);
});

test('insideEdit none with a mask, and a variant without one, are bit-identical to the plain run', async () => {
  const models = analyticModels();
  const plain = await runVideoshop(models, { video, editedFrame: edited });
  const masked = await runVideoshop(models, { video, editedFrame: edited, editMask: quadrantMask() });
  assert.deepEqual(masked.frames.data, plain.frames.data);
  assert.deepEqual(masked.latents.data, plain.latents.data);
  const unmasked = await runVideoshop(models, { video, editedFrame: edited }, { insideEdit: 'renoise' });
  assert.deepEqual(unmasked.frames.data, plain.frames.data);
});

test('renoise-keep changes the denoised latents only inside the latent mask (outside: plain Videoshop\'s, bit for bit)', async () => {
  const models = analyticModels();
  const mask = quadrantMask();
  const plain = await runVideoshop(models, { video, editedFrame: edited });
  const keep = await runVideoshop(models, { video, editedFrame: edited, editMask: mask }, { insideEdit: 'renoise-keep' });
  const m = latentMask(mask, models.vae.downscale);
  const [, , C, h, w] = plain.denoisedLatents.dims;
  let changedInside = 0;
  for (let k = 0; k < plain.denoisedLatents.data.length; k++) {
    const inside = m[Math.floor(k / (C * h * w)) * h * w + (k % (h * w))] > 0;
    if (inside) changedInside += plain.denoisedLatents.data[k] !== keep.denoisedLatents.data[k] ? 1 : 0;
    else assert.equal(keep.denoisedLatents.data[k], plain.denoisedLatents.data[k], `outside value ${k}`);
  }
  assert.ok(changedInside > 0);
  // The inverted latents at σ_start are the source's either way.
  assert.deepEqual(keep.invertedLatents.data, plain.invertedLatents.data);
});

test('deeper inverts further but starts the outside at σ_start; a mask of the wrong shape is refused', async () => {
  const models = analyticModels();
  const mask = quadrantMask();
  const plain = await runVideoshop(models, { video, editedFrame: edited });
  const deeper = await runVideoshop(models, { video, editedFrame: edited, editMask: mask }, { insideEdit: 'deeper' });
  assert.equal(deeper.stats.inversionBranches.length, 20);
  assert.deepEqual(deeper.invertedLatents.data, plain.invertedLatents.data);
  await assert.rejects(runVideoshop(models, { video, editedFrame: edited, editMask: tensor(new Float32Array(64 * 64), [1, 1, 64, 64]) },
    { insideEdit: 'blend' }), /editMask must be \[8, 1, 64, 64\]/);
});
