import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meanStd } from '../../src/pipeline/latents.js';
import { firstFrameChannelStats, imageChannelStats, rescaleLatents } from '../../src/pipeline/rescale.js';
import { Random } from '../../src/random.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

function latents(seed: number) {
  const rng = new Random(seed);
  return { data: rng.normals(3 * 4 * 30).map((v, i) => 0.7 * v + (i % 7) * 0.1 - 0.4), dims: [1, 3, 4, 5, 6] };
}

const target = { mean: [0.5, -1.25, 3, 0], std: [0.8, 2, 0.05, 1.5] };

test('imageChannelStats: per channel over (h, w), unbiased', () => {
  const s = imageChannelStats({ data: Float32Array.of(1, 2, 3, 10, 10, 13), dims: [2, 1, 3] });
  assert.deepEqual(s.mean, [2, 11]);
  assert.deepEqual(s.std, [1, Math.sqrt(3)]);
});

test('reference rescale makes the first frame\'s per-channel stats equal the target\'s', () => {
  const x = latents(1);
  const { latents: out, source } = rescaleLatents(x, target);
  assert.deepEqual(source, firstFrameChannelStats(x));
  const after = firstFrameChannelStats(out);
  for (let c = 0; c < 4; c++) {
    close(after.mean[c], target.mean[c], 1e-6, `mean ${c}`);
    close(after.std[c], target.std[c], 1e-6, `std ${c}`);
  }
});

test('every frame gets the same per-channel affine map (x − μ0)/σ0·σ_img + μ_img', () => {
  const x = latents(2);
  const { latents: out, source } = rescaleLatents(x, target);
  for (const i of [0, 31, 200, 359]) {
    const c = Math.floor(i / 30) % 4;
    const want = ((x.data[i] - source.mean[c]) / source.std[c]) * target.std[c] + target.mean[c];
    assert.equal(out.data[i], Math.fround(want), `value ${i}`);
  }
  // Frame 2 keeps its offset relative to frame 0, scaled by σ_img/σ0.
  const c = 1;
  const f0 = meanStd(x.data, c * 30, 30).mean;
  const f2 = meanStd(x.data, (8 + c) * 30, 30).mean;
  const o2 = meanStd(out.data, (8 + c) * 30, 30).mean;
  close(o2, target.mean[c] + ((f2 - f0) * target.std[c]) / source.std[c], 1e-5, 'frame 2 mean');
});

test('the paper\'s literal formula σ_img/σ0·(x − μ0 + μ_img) scales μ_img too', () => {
  const x = latents(3);
  const { latents: out, source } = rescaleLatents(x, target, 'paper');
  const after = firstFrameChannelStats(out);
  for (let c = 0; c < 4; c++) {
    close(after.std[c], target.std[c], 1e-6, `std ${c}`);
    close(after.mean[c], (target.std[c] / source.std[c]) * target.mean[c], 1e-5, `mean ${c}`);
  }
});

test('a target with the wrong channel count is refused', () => {
  assert.throws(() => rescaleLatents(latents(4), { mean: [0], std: [1] }), RangeError);
});
