import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meanStd } from '../../src/pipeline/latents.js';
import { NORMALIZATION_EPS, normalizeLatents } from '../../src/pipeline/normalize.js';
import { Random } from '../../src/random.js';
import type { Tensor } from '../../src/tensor.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** [1, F=3, C=2, 4, 5] with frame- and channel-dependent offsets and scales. */
function latents(): Tensor {
  const rng = new Random(5);
  const F = 3, C = 2, n = 20;
  const data = new Float32Array(F * C * n);
  for (let f = 0; f < F; f++) for (let c = 0; c < C; c++) for (let i = 0; i < n; i++) data[(f * C + c) * n + i] = 0.5 + f - 2 * c + (1 + f + c) * rng.normal();
  return { data, dims: [1, F, C, 4, 5] };
}

test('per-frame-centered (reference): hand example', () => {
  // One frame, two channels of two values: [1, 2 | 3, 4] → mean 2.5, unbiased std √(5/3).
  const { latents: out, stats } = normalizeLatents({ data: Float32Array.of(1, 2, 3, 4), dims: [1, 1, 2, 1, 2] }, 'per-frame-centered');
  const std = Math.sqrt(5 / 3);
  assert.equal(stats.groups, 'frame');
  close(stats.mean[0], 2.5, 1e-12, 'mean');
  close(stats.std[0], std, 1e-12, 'std');
  const want = [1, 2, 3, 4].map((v) => Math.fround((v - 2.5) / (std + NORMALIZATION_EPS)));
  assert.deepEqual(Array.from(out.data), want);
});

test('per-frame-centered gives every frame mean 0 and std 1', () => {
  const x = latents();
  const { latents: out, stats } = normalizeLatents(x, 'per-frame-centered');
  assert.equal(stats.mean.length, 3);
  assert.equal(stats.centered, true);
  for (let f = 0; f < 3; f++) {
    const before = meanStd(x.data, f * 40, 40);
    close(stats.mean[f], before.mean, 1e-12, `stats mean ${f}`);
    close(stats.std[f], before.std, 1e-12, `stats std ${f}`);
    const after = meanStd(out.data, f * 40, 40);
    close(after.mean, 0, 1e-6, `frame ${f} mean`);
    close(after.std, 1, 1e-5, `frame ${f} std`);
  }
  // Channels within a frame are NOT individually standardized.
  const c1 = meanStd(out.data, 20, 20);
  assert.ok(Math.abs(c1.mean) > 0.3, `channel 1 of frame 0 keeps its offset: ${c1.mean}`);
});

test('per-channel (paper): each channel has std 1 over all frames and keeps its mean/std ratio (no centering)', () => {
  const x = latents();
  const { latents: out, stats } = normalizeLatents(x, 'per-channel');
  assert.equal(stats.groups, 'channel');
  assert.equal(stats.centered, false);
  for (let c = 0; c < 2; c++) {
    const before = meanStd(x.data, c * 20, 20, 3, 40);
    const after = meanStd(out.data, c * 20, 20, 3, 40);
    close(stats.std[c], before.std, 1e-12, `stats std ${c}`);
    close(after.std, 1, 1e-5, `channel ${c} std`);
    close(after.mean, before.mean / (before.std + NORMALIZATION_EPS), 1e-5, `channel ${c} mean`);
  }
  for (let i = 0; i < x.data.length; i += 7) {
    const c = Math.floor(i / 20) % 2;
    close(out.data[i], x.data[i] / (stats.std[c] + NORMALIZATION_EPS), 1e-6, `value ${i}`);
  }
});

test('none leaves the latents unchanged and reports no stats', () => {
  const x = latents();
  const { latents: out, stats } = normalizeLatents(x, 'none');
  assert.deepEqual(out.data, x.data);
  assert.notEqual(out.data, x.data, 'a copy, not the same buffer');
  assert.deepEqual(stats, { mode: 'none', groups: 'none', mean: [], std: [], centered: false });
});

test('normalization checks the latent layout', () => {
  assert.throws(() => normalizeLatents({ data: new Float32Array(8), dims: [2, 1, 2, 1, 2] }, 'per-channel'), RangeError);
});
