/**
 * The files people have: SVD-xt 1.1 (stabilityai/stable-video-diffusion-img2vid-xt-1-1) in its Hub layout, served by
 * the loopback mock Hub with tiny random weights. Its layout (the Hub's listing) is SVD-xt's: diffusers folders with
 * float32 and fp16 weights, plus root files the loader never reads (the 4.78 GB single-file svd_xt_1_1.safetensors,
 * svd11.webp, LICENSE). And a UNet-only fine-tune in diffusers keys through `unet`, where the model's own UNet
 * weights are then never downloaded.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadSvd } from '../../src/models/svd.js';
import { createTinyModel } from '../../src/models/tiny.js';
import { WeightStore } from '../../src/safetensors/read.js';
import { writeSafetensors } from '../../src/safetensors/write.js';
import { tensor } from '../../src/tensor.js';
import { fakeBytes, isLfs } from '../hub/fixtures.js';
import { startMockHub, type MockHub } from '../hub/mock-hub.js';

const REPO = 'stabilityai/stable-video-diffusion-img2vid-xt-1-1';
const COMMIT = 'a'.repeat(40);
const WEIGHTS: [folder: string, stem: string][] = [['unet', 'diffusion_pytorch_model'], ['vae', 'diffusion_pytorch_model'], ['image_encoder', 'model']];

let dir: string;
let hub: MockHub;
let tiny: string;
/** A UNet-only fine-tune of the tiny model: the same architecture, other weights, in diffusers keys. */
let fineTune: string;

/** The tiny model's float32 file rewritten as fp16, as the Hub's `.fp16.safetensors` variants are. */
function fp16Of(file: string, out: string): Uint8Array {
  const store = WeightStore.openFiles([file]);
  writeSafetensors(out, store.names().map((name) => ({ name, dtype: 'F16', shape: store.info(name).shape, data: store.readFloat32(name) })));
  return readFileSync(out);
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'videoshop-svd11-'));
  process.env.VIDEOSHOP_CACHE = path.join(dir, 'graphs');
  tiny = path.join(dir, 'tiny');
  createTinyModel(tiny, { seed: 4 });
  createTinyModel(path.join(dir, 'fine-tuned'), { seed: 9 });
  fineTune = path.join(dir, 'fine-tuned', 'unet', 'diffusion_pytorch_model.safetensors');
  const read = (p: string) => readFileSync(path.join(tiny, p));
  const files: Record<string, string | Uint8Array> = {
    '.gitattributes': '*.safetensors filter=lfs diff=lfs merge=lfs -text\n*.webp filter=lfs diff=lfs merge=lfs -text\n',
    LICENSE: 'STABILITY AI COMMUNITY LICENSE\n',
    'README.md': '# Stable Video Diffusion 1.1 Image-to-Video Model Card\n',
    'svd11.webp': fakeBytes(4_000, 11),
    'svd_xt_1_1.safetensors': fakeBytes(30_000, 12),
    'model_index.json': read('model_index.json'),
    'scheduler/scheduler_config.json': read('scheduler/scheduler_config.json'),
    'feature_extractor/preprocessor_config.json': read('feature_extractor/preprocessor_config.json'),
  };
  for (const [folder, stem] of WEIGHTS) {
    files[`${folder}/config.json`] = read(`${folder}/config.json`);
    files[`${folder}/${stem}.safetensors`] = read(`${folder}/${stem}.safetensors`);
    files[`${folder}/${stem}.fp16.safetensors`] = fp16Of(path.join(tiny, folder, `${stem}.safetensors`), path.join(dir, `${folder}.fp16.safetensors`));
  }
  hub = await startMockHub([{ id: REPO, commit: COMMIT, lfs: isLfs, files, claimedSizes: { 'svd_xt_1_1.safetensors': 4_780_000_000 }, gatedToken: 'hf_accepted' }]);
});

after(async () => {
  await hub?.close();
  rmSync(dir, { recursive: true, force: true });
});

function input() {
  let x = 3;
  const rand = (n: number) => Float32Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
  return {
    sample: tensor(rand(2 * 4 * 8 * 8 * 8), [2, 4, 8, 8, 8]),
    timestep: 0.25 * Math.log(5),
    encoderHiddenStates: tensor(rand(2 * 32), [2, 1, 32]),
    addedTimeIds: tensor(Float32Array.of(6, 127, 0.02, 6, 127, 0.02), [2, 3]),
  };
}

const hubOpts = (name: string) => ({ cacheDir: path.join(dir, name), hubUrl: hub.url, token: 'hf_accepted' });

test('SVD-xt 1.1 layout: fp16 weights fetched and loaded, the root single-file checkpoint and the rest never fetched', async () => {
  const from = hub.requests.length;
  const svd = await loadSvd(REPO, { variant: 'fp16', hub: hubOpts('fp16') });
  try {
    const fetched = [...new Set(hub.requests.slice(from).filter((r) => /\/(resolve|cdn)\//.test(r.path) && r.range !== 'bytes=0-0')
      .map((r) => r.path.replace(/^.*?\/resolve\/[^/]+\//, '').replace(/^\/cdn\/[0-9a-f]+\//, '')))].sort();
    assert.deepEqual(fetched.filter((p) => p.endsWith('.safetensors')), WEIGHTS.map(([f, s]) => `${f}/${s}.fp16.safetensors`).sort());
    assert.ok(!fetched.some((p) => ['svd_xt_1_1.safetensors', 'svd11.webp', 'LICENSE', 'README.md'].includes(p)), fetched.join(', '));
    const out = await svd.models.denoiser.predict(input());
    assert.deepEqual(out.dims, [2, 4, 4, 8, 8]);
    assert.ok(out.data.every(Number.isFinite));
  } finally {
    await svd.release();
  }
});

test('a UNet-only fine-tune through unet: the model\'s own UNet weights are not downloaded; its output is the fine-tune\'s', async () => {
  const from = hub.requests.length;
  const svd = await loadSvd(REPO, { unet: fineTune, hub: hubOpts('fine-tune') });
  const reference = await loadSvd(path.join(dir, 'fine-tuned'));
  try {
    const fetched = hub.requests.slice(from).map((r) => r.path);
    assert.ok(!fetched.some((p) => /unet\/diffusion_pytorch_model/.test(p)), 'no UNet weights of the model fetched');
    assert.ok(fetched.some((p) => /vae\/diffusion_pytorch_model\.safetensors$/.test(p)), 'the rest of the model was fetched');
    assert.equal(svd.unet?.file, fineTune);
    const [a, b] = [await svd.models.denoiser.predict(input()), await reference.models.denoiser.predict(input())];
    assert.ok(Buffer.from(a.data.buffer).equals(Buffer.from(b.data.buffer)), 'the fine-tune\'s UNet, bit for bit');
  } finally {
    await svd.release();
    await reference.release();
  }
});
