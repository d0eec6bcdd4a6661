/**
 * Parity of our ONNX VAE (src/models/vae/) with diffusers' AutoencoderKLTemporalDecoder (tests/oracle/vae.py):
 * four tiny configs with perturbed weights, loaded through the normal path (loadVae on the saved folder).
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError } from '../../src/util/config.js';
import { parseVaeConfig, readVaeConfig } from '../../src/models/vae/config.js';
import { OnnxVideoAutoencoder, loadVae, type VaeLoadOptions } from '../../src/models/vae/index.js';
import { vaeWeightShapes } from '../../src/models/vae/weights.js';
import { WeightStore } from '../../src/safetensors/read.js';
import { writeSafetensors } from '../../src/safetensors/write.js';
import type { Tensor } from '../../src/tensor.js';
import { oracleCases, oracleDir, oracleSkip } from '../helpers/oracle.js';

const TOL = 1e-4;
const skip = oracleSkip('vae');
const root = () => oracleDir('vae');
const cacheDir = mkdtempSync(path.join(tmpdir(), 'videoshop-vae-test-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

interface CaseInfo {
  config: Record<string, unknown>;
  decodes: Record<string, { latents: string; num_frames: number }>;
}
function io(name: string): { get(key: string, dims?: number[]): Tensor } {
  const store = WeightStore.openFiles([path.join(root(), name, 'io.safetensors')]);
  return { get: (key) => ({ data: store.readFloat32(key), dims: store.info(key).shape }) };
}

function maxAbsDiff(a: Tensor, b: Tensor, what: string): number {
  assert.deepEqual([...a.dims], [...b.dims], `${what}: shape`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  return m;
}

const open = (folder: string, opts: VaeLoadOptions = {}) => loadVae(folder, { cacheDir, threads: 2, ...opts });
const modelDir = (name: string) => path.join(root(), name, 'model');

test('the real SVD config parses, and its parameter list equals diffusers\' state dict', { skip }, () => {
  const config = parseVaeConfig(JSON.parse(readFileSync(path.join(root(), 'svd_vae_config.json'), 'utf8')));
  assert.equal(config.downscale, 8);
  assert.equal(config.latentChannels, 4);
  assert.equal(config.scalingFactor, 0.18215);
  assert.equal(config.forceUpcast, true);
  const expected = JSON.parse(readFileSync(path.join(root(), 'svd_vae_shapes.json'), 'utf8')) as Record<string, number[]>;
  const ours = Object.fromEntries(vaeWeightShapes(config).map((w) => [w.name, w.shape]));
  assert.equal(vaeWeightShapes(config).length, Object.keys(ours).length, 'no duplicate names');
  assert.deepEqual(ours, expected);
});

test('unsupported configs are rejected with the field named', () => {
  const ok = { _class_name: 'AutoencoderKLTemporalDecoder', block_out_channels: [32, 64], down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D'] };
  assert.equal(parseVaeConfig(ok).downscale, 2);
  assert.equal(parseVaeConfig({}).blockOutChannels[0], 64, 'diffusers defaults');
  assert.throws(() => parseVaeConfig({ ...ok, _class_name: 'AutoencoderKL' }), /AutoencoderKLTemporalDecoder/);
  assert.throws(() => parseVaeConfig({ ...ok, block_out_channels: [32, 48] }), /multiple of 32/);
  assert.throws(() => parseVaeConfig({ ...ok, down_block_types: ['DownEncoderBlock2D'] }), /down_block_types/);
  assert.throws(() => parseVaeConfig({ ...ok, down_block_types: ['DownEncoderBlock2D', 'AttnDownEncoderBlock2D'] }), /only DownEncoderBlock2D/);
  assert.throws(() => parseVaeConfig({ ...ok, layers_per_block: 0 }), ConfigError);
  assert.throws(() => parseVaeConfig({ ...ok, scaling_factor: 'x' }), /scaling_factor/);
});

const cases = oracleCases('vae', 'every case in cases.json: parameter list, fp32 and fp16-weight parity',
  (dir) => JSON.parse(readFileSync(path.join(dir, 'cases.json'), 'utf8')) as Record<string, CaseInfo>);
for (const [name, info] of cases) {
  describe(`case ${name}: ${JSON.stringify(info.config.block_out_channels)}, layers ${info.config.layers_per_block}`, () => {
    const ref = io(name);

    test('parameter list equals the saved state dict (fp32 and fp16 files)', () => {
      const config = readVaeConfig(modelDir(name));
      assert.equal(config.scalingFactor, info.config.scaling_factor);
      const ours = vaeWeightShapes(config).map((w) => `${w.name} ${w.shape.join('x')}`).sort();
      for (const variant of [undefined, 'fp16']) {
        const store = WeightStore.openFolder(modelDir(name), { variant });
        const saved = store.names().map((n) => `${n} ${store.info(n).shape.join('x')}`).sort();
        assert.deepEqual(ours, saved);
        assert.equal(store.info(store.names()[0]).dtype, variant ? 'F16' : 'F32');
      }
    });

    test('fp32: encoder and decoder match diffusers', async () => {
      const vae = await open(modelDir(name));
      assert.equal(vae.computeType, 'float32');
      const errors: Record<string, number> = {};
      for (const frames of ['frames', 'frames_odd']) {
        const d = await vae.encodeDistribution(ref.get(frames));
        errors[`${frames}.mean`] = maxAbsDiff(d.mean, ref.get(`${frames}.mean`), `${frames}.mean`);
        errors[`${frames}.logvar`] = maxAbsDiff(d.logvar, ref.get(`${frames}.logvar`), `${frames}.logvar`);
        assert.deepEqual(await vae.encode(ref.get(frames)), d.mean);
      }
      for (const [key, { latents, num_frames }] of Object.entries(info.decodes)) {
        errors[key] = maxAbsDiff(await vae.decode(ref.get(latents), num_frames), ref.get(key), key);
      }
      // Clips of one frame each: the same 5 latents decoded one at a time.
      const single = await vae.decode(ref.get('latents5'), 1);
      errors.dec5_single = maxAbsDiff(single, ref.get('dec5_single'), 'dec5_single');
      console.log(`vae case ${name} fp32 max abs error:`, errors);
      for (const [k, e] of Object.entries(errors)) assert.ok(e <= TOL, `${k}: max abs error ${e} > ${TOL}`);
      // The decoder mixes frames: decoding 5 frames jointly is not decoding them one by one.
      const joint = ref.get('dec5');
      const mixing = maxAbsDiff(joint, single, 'joint vs single');
      assert.ok(mixing > 1000 * TOL, `joint and per-frame decoding differ by only ${mixing}`);
      await vae.release();
    });

    test('fp16 weights, fp32 compute: matches diffusers run on the same fp16 weights up-cast', async () => {
      // Same arithmetic as the reference (fp16-rounded weights, fp32 everywhere else): the fp32 tolerance applies.
      const vae = await open(modelDir(name), { variant: 'fp16' });
      const d = await vae.encodeDistribution(ref.get('frames'));
      const errors = {
        mean: maxAbsDiff(d.mean, ref.get('fp16.frames.mean'), 'mean'),
        logvar: maxAbsDiff(d.logvar, ref.get('fp16.frames.logvar'), 'logvar'),
        dec5: maxAbsDiff(await vae.decode(ref.get('latents5'), 5), ref.get('fp16.dec5'), 'dec5'),
      };
      console.log(`vae case ${name} fp16-weights max abs error:`, errors);
      for (const [k, e] of Object.entries(errors)) assert.ok(e <= TOL, `${k}: max abs error ${e} > ${TOL}`);
      await vae.release();
    });
  });
}

test('decode and encode validate their inputs', { skip }, async () => {
  const vae = await open(modelDir('a'));
  const z = io('a').get('latents5');
  await assert.rejects(vae.decode(z, 2), /do not split into clips of 2/);
  await assert.rejects(vae.decode({ data: z.data, dims: [5, 2, 6, 5] }, 5), /expected latents/);
  await assert.rejects(vae.encode({ data: new Float32Array(12), dims: [1, 4, 1, 3] }), /expected frames/);
  await vae.release();
});

test('the plain MatMul/Softmax attention (the default is the fused mha) matches diffusers too', { skip }, async () => {
  const ref = io('b'); // layers 2: attention runs in both the encoder and the decoder mid block
  const vae = await open(modelDir('b'), { attention: 'matmul' });
  const mean = maxAbsDiff(await vae.encode(ref.get('frames')), ref.get('frames.mean'), 'mean');
  const dec = maxAbsDiff(await vae.decode(ref.get('latents5'), 5), ref.get('dec5'), 'dec5');
  console.log('vae case b attention=matmul max abs error:', { mean, dec });
  assert.ok(mean <= TOL && dec <= TOL, `${mean} / ${dec}`);
  await vae.release();
});

test('float16 compute runs when force_upcast is off, and stays close to fp32', { skip }, async () => {
  const folder = modelDir('b');
  const config = { ...readVaeConfig(folder), forceUpcast: false };
  const ref = io('b');
  const forced = await open(folder, { dtype: 'float16' });
  assert.equal(forced.computeType, 'float32', 'force_upcast: true keeps float32 compute, like diffusers');
  assert.equal((await open(folder, { dtype: 'float16', upcast: false })).computeType, 'float16');
  const vae = new OnnxVideoAutoencoder(config, WeightStore.openFolder(folder, { variant: 'fp16' }), { dtype: 'float16', cacheDir, threads: 2 });
  assert.equal(vae.computeType, 'float16');
  const mean = maxAbsDiff(await vae.encode(ref.get('frames')), ref.get('fp16.frames.mean'), 'mean');
  const dec = maxAbsDiff(await vae.decode(ref.get('latents5'), 5), ref.get('fp16.dec5'), 'dec5');
  console.log('vae case b float16 compute max abs error:', { mean, dec });
  // Outputs are O(1); float16 keeps ~3 decimal digits through ~40 layers of convs and norms.
  assert.ok(mean < 2e-2 && dec < 2e-2, `float16 compute error ${mean} / ${dec}`);
  await vae.release();
});

/** Copies case `name`'s folder with its fp32 weights rewritten by `edit`, and returns the copy. */
function editedCopy(name: string, edit: (weights: Map<string, { shape: number[]; data: Float32Array }>) => void): string {
  const dir = mkdtempSync(path.join(cacheDir, `edited-${name}-`));
  copyFileSync(path.join(modelDir(name), 'config.json'), path.join(dir, 'config.json'));
  const store = WeightStore.openFolder(modelDir(name));
  const weights = new Map(store.names().map((n) => [n, { shape: store.info(n).shape, data: store.readFloat32(n) }]));
  edit(weights);
  mkdirSync(dir, { recursive: true });
  writeSafetensors(path.join(dir, 'diffusion_pytorch_model.safetensors'),
    [...weights].map(([n, w]) => ({ name: n, dtype: 'F32' as const, shape: w.shape, data: w.data })));
  return dir;
}

/** Swaps axes 0 and 1 of a weight whose first two dims are equal (out ↔ in channels). */
function transposeOutIn(w: { shape: number[]; data: Float32Array }): void {
  const [o, i] = w.shape;
  assert.equal(o, i);
  const inner = w.data.length / (o * i);
  const src = w.data.slice();
  for (let a = 0; a < o; a++) {
    for (let b = 0; b < i; b++) {
      w.data.set(src.subarray((b * i + a) * inner, (b * i + a + 1) * inner), (a * i + b) * inner);
    }
  }
}

describe('negative: the parity test notices small weight mistakes', () => {
  const errorsOf = async (dir: string) => {
    const ref = io('b');
    const vae = await open(dir);
    const enc = maxAbsDiff(await vae.encode(ref.get('frames')), ref.get('frames.mean'), 'mean');
    const dec = maxAbsDiff(await vae.decode(ref.get('latents5'), 5), ref.get('dec5'), 'dec5');
    await vae.release();
    return { enc, dec };
  };

  test('one square weight transposed in each half', { skip }, async () => {
    const e = await errorsOf(editedCopy('b', (w) => {
      transposeOutIn(w.get('encoder.mid_block.attentions.0.to_v.weight')!);
      transposeOutIn(w.get('decoder.up_blocks.1.resnets.1.temporal_res_block.conv1.weight')!);
    }));
    console.log('vae negative (transposed):', e);
    assert.ok(e.enc > 100 * TOL && e.dec > 100 * TOL, JSON.stringify(e));
  });

  test('one spatio-temporal block zeroed to an identity', { skip }, async () => {
    const e = await errorsOf(editedCopy('b', (w) => {
      for (const part of ['spatial_res_block', 'temporal_res_block']) {
        w.get(`decoder.up_blocks.2.resnets.1.${part}.conv2.weight`)!.data.fill(0);
        w.get(`decoder.up_blocks.2.resnets.1.${part}.conv2.bias`)!.data.fill(0);
      }
    }));
    console.log('vae negative (block skipped):', e);
    assert.ok(e.dec > 100 * TOL, JSON.stringify(e));
  });

  test('time_conv_out run backwards in time', { skip }, async () => {
    const e = await errorsOf(editedCopy('b', (w) => {
      const k = w.get('decoder.time_conv_out.weight')!; // [C, C, 3, 1, 1]
      for (let i = 0; i < k.data.length; i += 3) [k.data[i], k.data[i + 2]] = [k.data[i + 2], k.data[i]];
    }));
    console.log('vae negative (time reversed):', e);
    assert.ok(e.dec > 100 * TOL, JSON.stringify(e));
  });
});
