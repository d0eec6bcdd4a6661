import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blendMasked, dilateMask, latentMask } from '../../src/pipeline/latent-mask.js';
import { tensor } from '../../src/tensor.js';

/** [F, 1, H, W] mask with ones at the given (f, y, x). */
function pixelMask(F: number, H: number, W: number, ones: [number, number, number][], value = 1) {
  const data = new Float32Array(F * H * W);
  for (const [f, y, x] of ones) data[(f * H + y) * W + x] = value;
  return tensor(data, [F, 1, H, W]);
}

test('latentMask max-pools each downscale × downscale cell: one edited pixel marks its whole cell', () => {
  const m = latentMask(pixelMask(2, 8, 8, [[0, 5, 2], [1, 0, 7]]), 4);
  assert.deepEqual([...m], [0, 0, 1, 0, /* frame 1 */ 0, 1, 0, 0]);
});

test('latentMask keeps soft values (the max in the cell) and clips above 1', () => {
  const m = latentMask(pixelMask(1, 4, 4, [[0, 1, 1]], 0.25), 2);
  assert.deepEqual([...m], [0.25, 0, 0, 0]);
  assert.deepEqual([...latentMask(pixelMask(1, 2, 2, [[0, 0, 0]], 3), 2)], [1]);
});

test('dilation grows the latent mask by whole cells, per frame, clipped at the border', () => {
  const m = latentMask(pixelMask(2, 16, 16, [[0, 0, 0]]), 4, 1);
  const frame0 = [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  assert.deepEqual([...m], [...frame0, ...new Array(16).fill(0)]);
  assert.deepEqual([...dilateMask(Float32Array.of(0, 0, 0, 0, 1, 0, 0, 0, 0), 1, 3, 3, 1)], new Array(9).fill(1));
});

test('latentMask refuses wrong shapes', () => {
  assert.throws(() => latentMask(tensor(new Float32Array(16), [1, 2, 2, 4]), 2), /editMask must be \[frames, 1, H, W\]/);
  assert.throws(() => latentMask(pixelMask(1, 6, 6, []), 4), /multiple of 4/);
});

test('blendMasked: inside where m = 1, outside where m = 0 (copied bit for bit), the mix between, per frame over channels', () => {
  // [1, F=2, C=2, 1, 2]: mask per frame [m(x0), m(x1)].
  const inside = Float32Array.of(1, 1, 1, 1, 2, 2, 2, 2);
  const outside = Float32Array.of(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8);
  const mask = Float32Array.of(1, 0, 0, 0.5);
  const out = blendMasked(inside, outside, mask, 2);
  assert.deepEqual([...out].map((v) => Math.round(v * 1000) / 1000), [1, 0.2, 1, 0.4, 0.5, 1.3, 0.7, 1.4]);
  assert.equal(out[1], outside[1]);
  assert.throws(() => blendMasked(inside, outside.subarray(1), mask, 2), /do not match/);
});
