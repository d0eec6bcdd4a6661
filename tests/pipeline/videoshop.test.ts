import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyticModels, ChannelMeanEmbedder, LinearVideoAutoencoder } from '../helpers/analytic.js';
import { normalizeLatents } from '../../src/pipeline/normalize.js';
import { imageChannelStats, firstFrameChannelStats } from '../../src/pipeline/rescale.js';
import { runVideoshop, type VideoshopProgress } from '../../src/pipeline/videoshop.js';
import { Random } from '../../src/random.js';
import { driftingVideo, frame, paintRedSquare, RecordingDenoiser, RecordingVae, relativeError, rms } from './fixtures.js';

const F = 8;
const video = driftingVideo(F);
const source = frame(video, 0);
const editedVideo = paintRedSquare(video);
const edited = frame(editedVideo, 0);
const FRAME = 3 * 64 * 64;

test('same seed → bit-identical frames; another seed → different frames', async () => {
  const models = analyticModels();
  const a = await runVideoshop(models, { video, editedFrame: edited });
  const b = await runVideoshop(models, { video, editedFrame: edited });
  assert.deepEqual(a.frames.data, b.frames.data);
  assert.deepEqual(a.invertedLatents.data, b.invertedLatents.data);
  const c = await runVideoshop(models, { video, editedFrame: edited }, { seed: 43 });
  assert.ok(relativeError(c.frames.data, a.frames.data) > 1e-4);
});

test('explicit noise tensors reproduce a seeded run exactly (draw order: source image, inversion, edited image)', async () => {
  const models = analyticModels();
  const seeded = await runVideoshop(models, { video, editedFrame: edited }, { seed: 42 });
  const rng = new Random(42);
  const sourceImage = { data: rng.normals(FRAME), dims: [3, 64, 64] };
  const inversion = { data: rng.normals(F * 4 * 64), dims: [1, F, 4, 8, 8] };
  const editedImage = { data: rng.normals(FRAME), dims: [3, 64, 64] };
  const explicit = await runVideoshop(models, { video, editedFrame: edited }, { seed: 7, noise: { sourceImage, inversion, editedImage } });
  assert.deepEqual(explicit.frames.data, seeded.frames.data);
  // A tensor given alone keeps its slot in the stream: the other two are still the seed's.
  const partial = await runVideoshop(models, { video, editedFrame: edited }, { noise: { inversion } });
  assert.deepEqual(partial.frames.data, seeded.frames.data);
  // …and the given tensor is really used.
  const negated = { data: inversion.data.map((v) => -v), dims: inversion.dims };
  const other = await runVideoshop(models, { video, editedFrame: edited }, { noise: { inversion: negated } });
  assert.ok(relativeError(other.frames.data, seeded.frames.data) > 1e-4);
  await assert.rejects(runVideoshop(models, { video, editedFrame: edited }, { noise: { inversion: sourceImage } }), /noise.inversion must have shape \[1, 8, 4, 8, 8\]/);
});

test('plumbing is exact where the method is: s = 1, ρ = 0 (F independent of x), no noise augmentation, guidance 1', async () => {
  const models = analyticModels({ s: 1, rho: 0 });
  const r = await runVideoshop(models, { video, editedFrame: source }, { noiseAug: 0, minGuidance: 1, maxGuidance: 1 });
  const err = relativeError(r.frames.data, video.data);
  assert.ok(err < 1e-5, `relative error ${err}`); // measured 1.0e-7
});

test('edited frame = source frame: the default analytic model reconstructs the source', async () => {
  const models = analyticModels();
  // A static video of the first frame is the trivial baseline: relative error 0.914.
  const staticVideo = new Float32Array(video.data.length);
  for (let f = 0; f < F; f++) staticVideo.set(source.data, f * FRAME);
  assert.ok(relativeError(staticVideo, video.data) > 0.9);
  // Without guidance only the inversion error remains: measured 0.283 (reference Σ = 1), 0.123 (Σ = 0), 0.244 (naive).
  const g1 = await runVideoshop(models, { video, editedFrame: source }, { minGuidance: 1, maxGuidance: 1 });
  const errG1 = relativeError(g1.frames.data, video.data);
  assert.ok(errG1 < 0.3, `guidance 1: ${errG1}`);
  const always = await runVideoshop(models, { video, editedFrame: source }, { minGuidance: 1, maxGuidance: 1, threshold: 0 });
  assert.ok(relativeError(always.frames.data, video.data) < 0.14);
  // At the reference guidance 4, CFG on this Gaussian model adds (g − 1)(I − K)(μ_cond − μ_uncond) to D at every step: measured 0.641.
  const g4 = await runVideoshop(models, { video, editedFrame: source });
  const errG4 = relativeError(g4.frames.data, video.data);
  assert.ok(errG4 < 0.7, `guidance 4: ${errG4}`);
  // The first frame is pinned by the rescale and the conditioning: measured 0.130 at guidance 4.
  const first = relativeError(g4.frames.data.subarray(0, FRAME), source.data);
  assert.ok(first < 0.15, `first frame ${first}`);
});

test('a different edited frame moves the output toward the edit, frame by frame', async () => {
  const models = analyticModels();
  const plain = await runVideoshop(models, { video, editedFrame: source });
  const r = await runVideoshop(models, { video, editedFrame: edited });
  // Whole video: rms distance to the edited video 0.211 vs 0.347 to the source (measured).
  assert.ok(rms(r.frames.data, editedVideo.data) < 0.7 * rms(r.frames.data, video.data));
  for (let f = 0; f < F; f++) {
    const out = r.frames.data.subarray(f * FRAME, (f + 1) * FRAME);
    const ratio = rms(out, editedVideo.data.subarray(f * FRAME, (f + 1) * FRAME)) / rms(out, video.data.subarray(f * FRAME, (f + 1) * FRAME));
    assert.ok(ratio < (f === 0 ? 0.25 : 0.85), `frame ${f}: distance ratio edited/source ${ratio}`); // measured 0.19 … 0.79
    // The painted square got redder than in the unedited run, in every frame (measured +0.59).
    let red = 0;
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) red += r.frames.data[f * FRAME + y * 64 + x] - plain.frames.data[f * FRAME + y * 64 + x];
    assert.ok(red / 1024 > 0.1, `frame ${f}: red rises by ${red / 1024}`);
  }
});

test('progress: encode 6, invert 13, denoise 13, decode 1 at the defaults, each counted k = 1 … N in stage order', async () => {
  const seen: VideoshopProgress[] = [];
  await runVideoshop(analyticModels(), { video, editedFrame: edited }, {}, (p) => seen.push(p));
  const expected: VideoshopProgress[] = [];
  for (const [stage, total] of [['encode', 6], ['invert', 13], ['denoise', 13], ['decode', 1]] as const) {
    for (let step = 1; step <= total; step++) expected.push({ stage, step, total });
  }
  assert.deepEqual(seen, expected);
});

test('network calls: 13 unguided inversion calls, then 13 guided calls of batch 2', async () => {
  const models = analyticModels();
  await runVideoshop(models, { video, editedFrame: edited });
  assert.equal(models.denoiser.calls, 26);
  assert.equal(models.denoiser.evaluations, 13 + 26);
});

test('conditioning: inversion latents normalized then ÷ scaling factor, edit latents raw, rescale target from the clean edit', async () => {
  const models = analyticModels();
  const vae = models.vae;
  const r = await runVideoshop(models, { video, editedFrame: edited });
  const rng = new Random(42);
  const n1 = rng.normals(FRAME);
  rng.normals(F * 256);
  const n2 = rng.normals(FRAME);
  const z1 = await vae.encode({ data: source.data.map((v, i) => v + 0.2 * n1[i]), dims: [1, 3, 64, 64] });
  const norm = normalizeLatents({ data: z1.data, dims: [1, 1, 4, 8, 8] }, 'per-frame-centered');
  const want1 = norm.latents.data.map((v) => v / vae.scalingFactor);
  assert.deepEqual(r.conditioning.inversion.latents.data, want1);
  assert.deepEqual(r.stats.inversionConditioning, norm.stats);
  assert.deepEqual(r.conditioning.inversion.embedding, await new ChannelMeanEmbedder().embed(source));
  assert.deepEqual(Array.from(r.conditioning.inversion.addedTimeIds), [6, 127, 0.2]);
  const z2 = await vae.encode({ data: edited.data.map((v, i) => v + 0.2 * n2[i]), dims: [1, 3, 64, 64] });
  assert.deepEqual(r.conditioning.edit.latents.data, z2.data);
  const clean = await vae.encode({ data: edited.data, dims: [1, 3, 64, 64] });
  const target = imageChannelStats({ data: clean.data.map((v) => v * vae.scalingFactor), dims: [4, 8, 8] });
  assert.deepEqual(r.conditioning.rescaleTarget, target);
  // Rescale: the output's first frame has the edited frame's per-channel latent stats.
  const out = firstFrameChannelStats(r.latents);
  for (let c = 0; c < 4; c++) {
    assert.ok(Math.abs(out.mean[c] - target.mean[c]) < 1e-5 * Math.max(1, Math.abs(target.mean[c])));
    assert.ok(Math.abs(out.std[c] - target.std[c]) < 1e-5 * target.std[c]);
  }
  // Switch off: the inversion conditioning is raw like the edit's.
  const raw = await runVideoshop(models, { video, editedFrame: edited }, { normalizeInversionConditioning: false });
  assert.deepEqual(raw.conditioning.inversion.latents.data, z1.data);
  assert.equal(raw.stats.inversionConditioning, null);
});

test('precomputed conditioning skips its encodes and reproduces the run', async () => {
  const models = analyticModels();
  const first = await runVideoshop(models, { video, editedFrame: edited });
  const vae = new RecordingVae(models.vae);
  const again = await runVideoshop({ ...models, vae }, { video, editedFrame: edited, conditioning: first.conditioning });
  assert.deepEqual(vae.encodes, [F]);
  assert.deepEqual(again.frames.data, first.frames.data);
});

test('encode in chunks (14 when the block fits, else 10, as the reference), decode the block in one call', async () => {
  const long = driftingVideo(20, 16, 16);
  const vae = new RecordingVae(new LinearVideoAutoencoder());
  const denoiser = new RecordingDenoiser(4, 25);
  const r = await runVideoshop({ denoiser, vae, imageEmbedder: new ChannelMeanEmbedder() }, { video: long, editedFrame: frame(long, 0) }, { rescale: false });
  assert.deepEqual(vae.encodes, [10, 10, 1, 1]);
  assert.deepEqual(vae.decodes, [{ frames: 20, numFrames: 20 }]);
  assert.deepEqual(r.frames.dims, [20, 3, 16, 16]);
  assert.equal(r.stats.rescale, null);
  const vae14 = new RecordingVae(new LinearVideoAutoencoder());
  await runVideoshop({ denoiser, vae: vae14, imageEmbedder: new ChannelMeanEmbedder() }, { video: driftingVideo(14, 16, 16), editedFrame: frame(long, 0) });
  assert.deepEqual(vae14.encodes, [14, 1, 1, 1]);
});

test('no threshold: NaN latents are reported, not thrown', async () => {
  const r = await runVideoshop(analyticModels(), { video, editedFrame: edited }, { threshold: null });
  assert.equal(r.stats.nonFinite.inverted, F * 256);
  assert.equal(r.stats.nonFinite.output, F * 256);
  assert.ok(r.frames.data.every(Number.isNaN));
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /inversion produced 2048 non-finite values .*without a noise threshold/);
  const fine = await runVideoshop(analyticModels(), { video, editedFrame: edited });
  assert.deepEqual(fine.warnings, []);
  assert.deepEqual(fine.stats.nonFinite, { inverted: 0, output: 0 });
});

test('stats: per-frame normalization stats, inversion branches, σ_start', async () => {
  const r = await runVideoshop(analyticModels(), { video, editedFrame: edited });
  assert.equal(r.stats.normalization.groups, 'frame');
  assert.equal(r.stats.normalization.std.length, F);
  assert.deepEqual(r.stats.inversionBranches, [...Array(8).fill('noise'), ...Array(5).fill('extrapolate')]);
  assert.ok(Math.abs(r.stats.sigmaStart - 15.59) < 0.01);
  assert.ok(r.timings.totalMs >= r.timings.invertMs + r.timings.denoiseMs);
  const pc = await runVideoshop(analyticModels(), { video, editedFrame: edited }, { normalization: 'per-channel' });
  assert.equal(pc.stats.normalization.groups, 'channel');
  assert.equal(pc.stats.normalization.std.length, 4);
});

test('bad inputs are refused with clear errors', async () => {
  const models = analyticModels();
  await assert.rejects(runVideoshop(models, { video: source, editedFrame: edited }), /video must be \[frames, 3, H, W\]/);
  await assert.rejects(runVideoshop(models, { video: driftingVideo(2, 60, 64), editedFrame: edited }), /multiple of 8/);
  await assert.rejects(runVideoshop(models, { video, editedFrame: frame(driftingVideo(1, 32, 32), 0) }), /editedFrame must be \[3, 64, 64\]/);
  await assert.rejects(runVideoshop(models, { video, editedFrame: edited }, { steps: 0 }), RangeError);
});
