import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnalyticDenoiser, ChannelMeanEmbedder, GaussianVideoPrior, LinearVideoAutoencoder } from '../helpers/analytic.js';
import { Random } from '../../src/random.js';
import { preconditioning } from '../../src/schedulers/euler.js';
import { driftingVideo, relativeError } from './fixtures.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);

/** Solves the 3×3 system A·v = b (Cramer's rule). */
function solve3(A: number[][], b: number[]): number[] {
  const det = (m: number[][]) =>
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const d = det(A);
  return [0, 1, 2].map((k) => det(A.map((row, i) => row.map((v, j) => (j === k ? b[i] : v)))) / d);
}

test('the posterior mean equals μ + Σ(Σ + σ²I)⁻¹(x − μ) with Σ = s²((1 − ρ²)I + ρ²11ᵀ), for 3 frames', () => {
  const prior = new GaussianVideoPrior({ s: 0.7, rho: 0.8 });
  const { s, rho } = prior.params;
  const shape = { frames: 3, channels: 1, height: 1, width: 2 };
  const mu = Float64Array.of(0.1, -0.3, 0.5, 0.2, -1, 0.7);
  const x = Float32Array.of(1.2, 0.4, -0.6, 2.0, 0.3, -0.8);
  const sigma = 0.9;
  const D = prior.posteriorMean(x, sigma, mu, 3);
  const cov = [0, 1, 2].map((i) => [0, 1, 2].map((j) => s * s * ((i === j ? 1 - rho * rho : 0) + rho * rho)));
  const A = cov.map((row, i) => row.map((v, j) => v + (i === j ? sigma * sigma : 0)));
  for (let p = 0; p < 2; p++) {
    const idx = [0, 1, 2].map((f) => f * 2 + p);
    const w = solve3(A, idx.map((i) => x[i] - mu[i]));
    idx.forEach((i, f) => close(D[i], mu[i] + cov[f].reduce((acc, v, j) => acc + v * w[j], 0), 1e-12, `element ${i}`));
  }
  const { mean, perp } = prior.eigenvalues(shape.frames);
  close(mean, s * s * (1 - rho * rho + 3 * rho * rho), 1e-15, 'λ1');
  close(perp, s * s * (1 - rho * rho), 1e-15, 'λ2');
});

test('draws have per-element variance s² and frame-to-frame covariance s²ρ²', () => {
  const prior = new GaussianVideoPrior({ s: 2, rho: 0.6, condWeight: 0, embedWeight: 0, motion: 0 });
  const shape = { frames: 2, channels: 4, height: 50, width: 50 };
  const mu = prior.mean(shape, null, null);
  const x = prior.sample(new Random(9), mu, shape);
  const n = 4 * 2500;
  let v0 = 0;
  let c01 = 0;
  for (let i = 0; i < n; i++) {
    v0 += x[i] * x[i];
    c01 += x[i] * x[n + i];
  }
  close(v0 / n, 4, 0.05, 'variance');
  close(c01 / n, 4 * 0.36, 0.06, 'covariance');
});

test('the denoiser returns F with c_skip·x + c_out·F = D(x; σ), σ read back from c_noise = 0.25 ln σ', async () => {
  const prior = new GaussianVideoPrior();
  const denoiser = new AnalyticDenoiser(prior);
  const rng = new Random(3);
  const shape = { frames: 5, channels: 4, height: 2, width: 3 };
  const frame = 24;
  const x = rng.normals(5 * frame).map((v) => 3 * v);
  const cond = rng.normals(frame);
  const emb = Float32Array.of(0.5, -0.2, 0.1);
  for (const sigma of [0.01, 0.8, 15.59, 700]) {
    const cIn = 1 / Math.sqrt(sigma * sigma + 1);
    const sample = new Float32Array(2 * 5 * 2 * frame);
    for (let b = 0; b < 2; b++) {
      for (let f = 0; f < 5; f++) {
        const base = (b * 5 + f) * 2 * frame;
        for (let i = 0; i < frame; i++) sample[base + i] = x[f * frame + i] * cIn;
        if (b === 1) sample.set(cond, base + frame);
      }
    }
    const embeds = new Float32Array(6);
    embeds.set(emb, 3);
    const out = await denoiser.predict({
      sample: { data: sample, dims: [2, 5, 8, 2, 3] },
      timestep: 0.25 * Math.log(sigma),
      encoderHiddenStates: { data: embeds, dims: [2, 1, 3] },
      addedTimeIds: { data: new Float32Array(6), dims: [2, 3] },
    });
    assert.deepEqual(out.dims, [2, 5, 4, 2, 3]);
    const { cSkip, cOut } = preconditioning(sigma, 'v_prediction');
    const xs = Float32Array.from(x, (v) => Math.fround(v * cIn) / cIn);
    const Dc = prior.posteriorMean(xs, sigma, prior.mean(shape, cond, emb), 5);
    const Du = prior.posteriorMean(xs, sigma, prior.mean(shape, null, null), 5);
    for (let i = 0; i < 5 * frame; i += 7) {
      close(cSkip * xs[i] + cOut * out.data[5 * frame + i], Dc[i], 1e-4, `σ=${sigma} cond ${i}`);
      close(cSkip * xs[i] + cOut * out.data[i], Du[i], 1e-4, `σ=${sigma} uncond ${i}`);
    }
    assert.ok(relativeError(out.data.subarray(0, 5 * frame), out.data.subarray(5 * frame)) > 1e-3, 'zero conditioning gives a different answer');
  }
});

test('the conditioning enters through its normalized form: a·cond + b gives the same μ', () => {
  const prior = new GaussianVideoPrior();
  const shape = { frames: 2, channels: 4, height: 2, width: 2 };
  const cond = new Random(4).normals(16);
  const a = prior.mean(shape, cond, null);
  const b = prior.mean(shape, cond.map((v) => 5.49 * v - 2), null);
  for (let i = 0; i < a.length; i++) close(a[i], b[i], 1e-6, `μ ${i}`);
  const raw = new GaussianVideoPrior({ normalizeCond: false }).mean(shape, cond.map((v) => 5.49 * v - 2), null);
  assert.ok(Math.abs(raw[0] - a[0]) > 1e-3);
});

test('linear VAE: block average + fixed mixing; decode(encode(v)) = v for block-constant frames', async () => {
  const vae = new LinearVideoAutoencoder();
  const video = driftingVideo(3, 32, 48);
  const z = await vae.encode(video);
  assert.deepEqual(z.dims, [3, 4, 4, 6]);
  // Latent (frame 1, channel 2, y 3, x 5) = M[2]·(pixel block colour).
  const pix = (c: number) => video.data[((1 * 3 + c) * 32 + 3 * 8) * 48 + 5 * 8];
  const want = vae.mixing[2].reduce((s, m, c) => s + m * pix(c), 0);
  close(z.data[((1 * 4 + 2) * 4 + 3) * 6 + 5], want, 1e-5, 'latent');
  const back = await vae.decode(z, 3);
  assert.deepEqual(back.dims, video.dims);
  assert.ok(relativeError(back.data, video.data) < 1e-6);
  await assert.rejects(vae.decode(z, 2), RangeError);
  await assert.rejects(vae.encode({ data: new Float32Array(3 * 10 * 16), dims: [1, 3, 10, 16] }), RangeError);
});

test('the embedder returns the three channel means', async () => {
  const e = new ChannelMeanEmbedder();
  const img = { data: Float32Array.of(1, 2, 3, 4, -1, -1, -1, -1, 0, 0.5, 0, 0.5), dims: [3, 2, 2] };
  assert.deepEqual(Array.from(await e.embed(img)), [2.5, -1, 0.25]);
});
