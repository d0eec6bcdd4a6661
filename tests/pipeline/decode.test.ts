/**
 * Chunked VAE decoding (src/pipeline/decode.ts): the whole block as one chunk is today's single call bit for bit;
 * smaller chunks match diffusers' StableVideoDiffusionPipeline.decode_latents(decode_chunk_size) on a tiny
 * AutoencoderKLTemporalDecoder (tests/oracle/vae_chunked.py), and the real pipeline with decodeChunk = block is
 * bit-identical to the default on the toy SVD.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { loadSvd } from '../../src/models/svd.js';
import { toyModelFolder } from '../../src/models/toy.js';
import { loadVae } from '../../src/models/vae/index.js';
import { decodeInChunks } from '../../src/pipeline/decode.js';
import { runVideoshop, type VideoshopProgress } from '../../src/pipeline/videoshop.js';
import { Random } from '../../src/random.js';
import { WeightStore } from '../../src/safetensors/read.js';
import type { Tensor } from '../../src/tensor.js';
import { oracleData, oracleSkip } from '../helpers/oracle.js';

const cacheDir = mkdtempSync(path.join(tmpdir(), 'videoshop-decode-test-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));
const TOL = 1e-4;

const oracle = oracleData('vae_chunked', (dir) => {
  const info = JSON.parse(readFileSync(path.join(dir, 'cases.json'), 'utf8')) as { frames: number; chunks: number[]; scaling_factor: number };
  const store = WeightStore.openFiles([path.join(dir, 'io.safetensors')]);
  const get = (key: string): Tensor => ({ data: store.readFloat32(key), dims: store.info(key).shape });
  return { info, get, model: path.join(dir, 'model') };
});

function maxAbsDiff(a: Tensor, b: Tensor): number {
  assert.deepEqual([...a.dims], [...b.dims]);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

test('chunks of 1, 2, 3 and 5 frames match diffusers\' decode_latents(decode_chunk_size); the whole clip is one call', { skip: oracleSkip('vae_chunked') }, async () => {
  const { info, get, model } = oracle();
  const vae = await loadVae(model, { cacheDir, threads: 2 });
  const scaled = get('latents'); // [1, F, C, h, w], scaled as the pipeline holds them
  const [, F, C, h, w] = scaled.dims;
  const latents: Tensor = { data: scaled.data.map((v) => v / info.scaling_factor), dims: [F, C, h, w] };
  const whole = await vae.decode(latents, F);
  const errors: Record<string, number> = {};
  for (const chunk of info.chunks) {
    const calls: number[] = [];
    const out = await decodeInChunks(vae, latents, chunk, (done, total) => calls.push(done, total));
    errors[chunk] = maxAbsDiff(out, get(`frames.${chunk}`));
    assert.equal(calls.length / 2, Math.ceil(F / chunk), `chunk ${chunk}: one progress event per call`);
    if (chunk >= F) assert.deepEqual(out.data, whole.data, 'a chunk of the whole clip is the single call, bit for bit');
  }
  assert.deepEqual((await decodeInChunks(vae, latents, null)).data, whole.data);
  assert.deepEqual((await decodeInChunks(vae, latents, 99)).data, whole.data);
  console.log('chunked decode max abs error vs diffusers:', errors);
  for (const [k, e] of Object.entries(errors)) assert.ok(e <= TOL, `chunk ${k}: ${e}`);
  // The chunks really change the output (the decoder mixes frames across a seam), so the parity above means something.
  assert.ok(maxAbsDiff(get('frames.1'), get('frames.5')) > 1000 * TOL);
  await assert.rejects(decodeInChunks(vae, latents, 0), /positive integer/);
  await vae.release();
});

test('toy SVD: decodeChunk = block is bit-identical to the default; 2-frame chunks stay close, and releasing the encoders changes nothing', async () => {
  const svd = await loadSvd(toyModelFolder(), { cacheDir, threads: 2 });
  try {
    const F = 3;
    const rng = new Random(5);
    const side = 32;
    const video: Tensor = { data: rng.normals(F * 3 * side * side).map((v) => Math.tanh(0.5 * v)), dims: [F, 3, side, side] };
    const editedFrame: Tensor = { data: video.data.slice(0, 3 * side * side).map((v) => -v), dims: [3, side, side] };
    const options = { steps: 2, strength: 0.5, scheduler: svd.scheduler };
    const base = await runVideoshop(svd.models, { video, editedFrame }, { ...options, releaseEncoders: true });
    const same = await runVideoshop(svd.models, { video, editedFrame }, { ...options, decodeChunk: F, releaseEncoders: false });
    assert.deepEqual(same.frames.data, base.frames.data);
    const events: VideoshopProgress[] = [];
    const released = await runVideoshop(svd.models, { video, editedFrame }, { ...options, decodeChunk: 2 },
      (p) => events.push(p));
    assert.deepEqual(released.latents.data, base.latents.data, 'the encoders, released after the first run and rebuilt, give the same latents');
    assert.deepEqual(events.filter((e) => e.stage === 'decode').map((e) => `${e.step}/${e.total}`), ['1/2', '2/2']);
    const diff = maxAbsDiff(released.frames, base.frames);
    assert.ok(diff > 0 && diff < 0.5, `2-frame chunks vs the whole block: max abs difference ${diff}`);
    // Encoding one frame per call and guided steps as two batch-1 calls: the same method, equal up to rounding.
    const split = await runVideoshop(svd.models, { video, editedFrame }, { ...options, encodeChunk: 1, oneBranchAtATime: true });
    const latentDiff = maxAbsDiff(split.latents, base.latents);
    console.log(`encodeChunk 1 + oneBranchAtATime: latents max abs difference ${latentDiff}`);
    assert.ok(latentDiff < 1e-4, `${latentDiff}`);
  } finally {
    await svd.release();
  }
});
