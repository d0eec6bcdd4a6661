/**
 * Parity of our ONNX UNet (src/models/unet/) with diffusers' UNetSpatioTemporalConditionModel (tests/oracle/unet.py):
 * three tiny configs with perturbed weights, loaded through the normal path (loadUnet on the saved folder), each run
 * on three inputs that differ in timestep, added time ids, frame count, latent size and encoder sequence length.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseUnetConfig, readUnetConfig } from '../../src/models/unet/config.js';
import { loadUnet, type OnnxDenoiser, type UnetLoadOptions } from '../../src/models/unet/index.js';
import { unetWeightShapes, unetWeightTotals } from '../../src/models/unet/weights.js';
import { WeightStore } from '../../src/safetensors/read.js';
import { writeSafetensors } from '../../src/safetensors/write.js';
import type { Tensor } from '../../src/tensor.js';
import { ConfigError } from '../../src/util/config.js';
import { oracleCases, oracleDir, oracleSkip } from '../helpers/oracle.js';

/** fp32 graph vs torch fp32: observed ≈ 2e-6 (torch's own fp32-vs-fp64 gap is ≈ 1.5e-6, see cases.json). */
const TOL = 1e-4;
/**
 * float16 compute vs the fp16-weights fp32 reference. Outputs are ≈ 1–2 in size; float16's unit roundoff is
 * 2^-11 ≈ 4.9e-4, so after ~30 normalised layers a few ulps (≈ 2e-3, observed 1.9e-3) are expected; 1e-2 keeps
 * a 5× margin and stays ~60× below the error of the corrupted models in the negative tests (0.59, 0.93).
 */
const TOL_FP16_COMPUTE = 1e-2;
const RUNS = ['r0', 'r1', 'r2'] as const;

const skip = oracleSkip('unet');
const root = () => oracleDir('unet');
const cacheDir = mkdtempSync(path.join(tmpdir(), 'videoshop-unet-test-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

interface RunInfo { frames: number; height: number; width: number; timestep: number; seq: number; fp64_gap: number }
interface CaseInfo { config: Record<string, unknown>; runs: Record<string, RunInfo>; fp16_vs_fp32: number }

const modelDir = (name: string) => path.join(root(), name, 'model');
const open = (folder: string, opts: UnetLoadOptions = {}) => loadUnet(folder, { cacheDir, threads: 2, ...opts });

function io(name: string) {
  const store = WeightStore.openFiles([path.join(root(), name, 'io.safetensors')]);
  const get = (key: string): Tensor => ({ data: store.readFloat32(key), dims: store.info(key).shape });
  return {
    get,
    input: (run: string) => ({
      sample: get(`${run}.sample`),
      timestep: store.readFloat32(`${run}.timestep`)[0],
      encoderHiddenStates: get(`${run}.ehs`),
      addedTimeIds: get(`${run}.ids`),
    }),
  };
}

function maxAbsDiff(a: Tensor, b: Tensor, what: string): number {
  assert.deepEqual([...a.dims], [...b.dims], `${what}: shape`);
  let m = 0;
  for (let i = 0; i < a.data.length; i++) m = Math.max(m, Math.abs(a.data[i] - b.data[i]));
  assert.ok(Number.isFinite(m), `${what}: non-finite output`);
  return m;
}

async function errorOn(unet: OnnxDenoiser, name: string, run: string, refKey = `${run}.out`): Promise<number> {
  const ref = io(name);
  return maxAbsDiff(await unet.predict(ref.input(run)), ref.get(refKey), `${name}/${run}`);
}

test('the real SVD config parses, and its parameter list equals diffusers\' state dict', { skip }, () => {
  const config = parseUnetConfig(JSON.parse(readFileSync(path.join(root(), 'svd_unet_config.json'), 'utf8')));
  assert.deepEqual(config.numAttentionHeads, [5, 10, 20, 20]);
  assert.deepEqual(config.layersPerBlock, [2, 2, 2, 2]);
  assert.deepEqual(config.transformerLayersPerBlock, [1, 1, 1, 1]);
  assert.equal(config.crossAttentionDim, 1024);
  assert.equal(config.numTimeIds, 3);
  assert.equal(config.timeEmbedDim, 1280);
  assert.equal(config.numFrames, 14);
  const expected = JSON.parse(readFileSync(path.join(root(), 'svd_unet_shapes.json'), 'utf8')) as Record<string, number[]>;
  const list = unetWeightShapes(config);
  const ours = Object.fromEntries(list.map((w) => [w.name, w.shape]));
  assert.equal(list.length, Object.keys(ours).length, 'no duplicate names');
  assert.deepEqual(ours, expected);
  assert.equal(unetWeightTotals(config).parameters, 1_524_623_082);
});

test('unsupported configs are rejected with the field named', () => {
  const CA = 'CrossAttnDownBlockSpatioTemporal';
  const UA = 'CrossAttnUpBlockSpatioTemporal';
  const ok = {
    _class_name: 'UNetSpatioTemporalConditionModel', block_out_channels: [32, 64],
    down_block_types: [CA, 'DownBlockSpatioTemporal'], up_block_types: ['UpBlockSpatioTemporal', UA],
    num_attention_heads: [2, 4], cross_attention_dim: 32, addition_time_embed_dim: 8, projection_class_embeddings_input_dim: 24,
  };
  const parsed = parseUnetConfig(ok);
  assert.deepEqual(parsed.layersPerBlock, [2, 2], 'diffusers default layers_per_block, broadcast');
  assert.equal(parsed.numFrames, 25, 'diffusers default num_frames');
  assert.equal(parseUnetConfig({}).blockOutChannels.length, 4, 'diffusers defaults');
  assert.equal(parseUnetConfig({ ...ok, cross_attention_dim: [32, 32] }).crossAttentionDim, 32);
  assert.throws(() => parseUnetConfig({ ...ok, _class_name: 'UNet2DConditionModel' }), /UNetSpatioTemporalConditionModel/);
  assert.throws(() => parseUnetConfig({ ...ok, block_out_channels: [32, 48] }), /multiple of 32/);
  assert.throws(() => parseUnetConfig({ ...ok, down_block_types: [CA] }), /down_block_types/);
  assert.throws(() => parseUnetConfig({ ...ok, up_block_types: ['UpBlock3D', UA] }), /up_block_types\[0\]/);
  assert.throws(() => parseUnetConfig({ ...ok, num_attention_heads: [3, 4] }), /down block 0 has 32 channels/);
  assert.throws(() => parseUnetConfig({ ...ok, num_attention_heads: [2, 5] }), /mid block/);
  assert.throws(() => parseUnetConfig({ ...ok, num_attention_heads: [2] }), /num_attention_heads/);
  assert.throws(() => parseUnetConfig({ ...ok, transformer_layers_per_block: [[1], [1]] }), /per-layer lists/);
  assert.throws(() => parseUnetConfig({ ...ok, cross_attention_dim: [32, 16] }), /entries differ/);
  assert.throws(() => parseUnetConfig({ ...ok, projection_class_embeddings_input_dim: 20 }), /multiple of/);
  assert.throws(() => parseUnetConfig({ ...ok, layers_per_block: 0 }), ConfigError);
});

const cases = oracleCases('unet', 'every case in cases.json: parameter list, fp32 and fp16-weight parity',
  (dir) => JSON.parse(readFileSync(path.join(dir, 'cases.json'), 'utf8')) as Record<string, CaseInfo>);
for (const [name, info] of cases) {
  const c = info.config;
  describe(`case ${name}: ${JSON.stringify(c.block_out_channels)}, layers ${JSON.stringify(c.layers_per_block)}, heads ${JSON.stringify(c.num_attention_heads)}`, () => {
    test('parameter list equals the saved state dict (fp32 and fp16 files)', () => {
      const config = readUnetConfig(modelDir(name));
      assert.equal(config.numFrames, c.num_frames);
      const ours = unetWeightShapes(config).map((w) => `${w.name} ${w.shape.join('x')}`).sort();
      for (const variant of [undefined, 'fp16']) {
        const store = WeightStore.openFolder(modelDir(name), { variant });
        const saved = store.names().map((n) => `${n} ${store.info(n).shape.join('x')}`).sort();
        assert.deepEqual(ours, saved);
      }
    });

    test(`fp32 (default attention kernel): max abs error ≤ ${TOL} on every run`, async (t) => {
      const unet = await open(modelDir(name));
      assert.equal(unet.latentChannels, c.out_channels);
      assert.equal(unet.numFrames, c.num_frames);
      try {
        for (const run of RUNS) {
          const err = await errorOn(unet, name, run);
          const r = info.runs[run];
          t.diagnostic(`${name}/${run} (F=${r.frames}, ${r.height}×${r.width}, seq ${r.seq}): max abs error ${err.toExponential(2)}` +
            ` (torch fp32 vs fp64: ${r.fp64_gap.toExponential(2)})`);
          assert.ok(err <= TOL, `${name}/${run}: max abs error ${err} > ${TOL}`);
        }
      } finally {
        await unet.release();
      }
    });

    test(`fp16 weights, fp32 compute: max abs error ≤ ${TOL} against the up-cast reference`, async (t) => {
      const unet = await open(modelDir(name), { variant: 'fp16' });
      try {
        const err = await errorOn(unet, name, 'r0', 'fp16.out');
        t.diagnostic(`${name} fp16 weights: ${err.toExponential(2)} (fp16 rounding itself moves the output by ${info.fp16_vs_fp32.toExponential(2)})`);
        assert.ok(err <= TOL, `${name}: ${err} > ${TOL}`);
      } finally {
        await unet.release();
      }
    });
  });
}

test(`plain MatMul/Softmax attention (case c; the default is mha): max abs error ≤ ${TOL} on every run`, { skip }, async (t) => {
  const unet = await open(modelDir('c'), { attention: 'matmul' });
  try {
    for (const run of RUNS) {
      const err = await errorOn(unet, 'c', run);
      t.diagnostic(`c/${run} matmul attention: ${err.toExponential(2)}`);
      assert.ok(err <= TOL, `c/${run}: ${err} > ${TOL}`);
    }
  } finally {
    await unet.release();
  }
});

test(`float16 compute (case a): max abs error ≤ ${TOL_FP16_COMPUTE}`, { skip }, async (t) => {
  const unet = await open(modelDir('a'), { variant: 'fp16', dtype: 'float16' });
  try {
    const err = await errorOn(unet, 'a', 'r0', 'fp16.out');
    t.diagnostic(`a float16 compute: ${err.toExponential(2)}`);
    assert.ok(err <= TOL_FP16_COMPUTE, `${err} > ${TOL_FP16_COMPUTE}`);
  } finally {
    await unet.release();
  }
});

test('predict checks its inputs', { skip }, async () => {
  const unet = await open(modelDir('a'));
  const { input } = io('a');
  const good = input('r0');
  await assert.rejects(unet.predict({ ...good, sample: { data: good.sample.data, dims: [2, 3, 7, 8, 12] } }), /sample must be/);
  await assert.rejects(unet.predict({ ...good, encoderHiddenStates: { data: new Float32Array(2 * 16), dims: [2, 1, 16] } }), /encoderHiddenStates/);
  await assert.rejects(unet.predict({ ...good, addedTimeIds: { data: new Float32Array(2), dims: [1, 2] } }), /addedTimeIds/);
  await assert.rejects(unet.predict({ ...good, timestep: Number.NaN }), /timestep/);
  await unet.release();
});

describe('negative: the parity test notices a corrupted model', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'videoshop-unet-neg-'));
  after(() => rmSync(work, { recursive: true, force: true }));

  /** Copies case a's fp32 model to a temp folder with `edit` applied to its tensors (written by our own writer). */
  function corrupted(label: string, edit: (name: string, shape: number[], data: Float32Array) => Float32Array): string {
    const dir = path.join(work, label);
    mkdirSync(dir, { recursive: true });
    copyFileSync(path.join(modelDir('a'), 'config.json'), path.join(dir, 'config.json'));
    const store = WeightStore.openFolder(modelDir('a'));
    writeSafetensors(path.join(dir, 'diffusion_pytorch_model.safetensors'), store.names().map((n) => {
      const shape = store.info(n).shape;
      return { name: n, dtype: 'F32' as const, shape, data: edit(n, shape, store.readFloat32(n)) };
    }));
    return dir;
  }

  test('one square weight transposed', { skip }, async (t) => {
    const target = 'down_blocks.0.attentions.0.proj_in.weight';
    const dir = corrupted('transposed', (n, shape, data) => {
      if (n !== target) return data;
      const [rows, cols] = shape;
      assert.equal(rows, cols);
      return Float32Array.from({ length: data.length }, (_, i) => data[(i % cols) * cols + Math.floor(i / cols)]);
    });
    const unet = await open(dir);
    const err = await errorOn(unet, 'a', 'r0');
    await unet.release();
    t.diagnostic(`${target} transposed: max abs error ${err.toExponential(2)}`);
    assert.ok(err > 100 * TOL, `error ${err} should exceed the tolerance by far`);
  });

  test('the mid block transformer zeroed out (so it is skipped)', { skip }, async (t) => {
    const dir = corrupted('skipped', (n, _shape, data) =>
      n.startsWith('mid_block.attentions.0.proj_out.') ? new Float32Array(data.length) : data);
    const unet = await open(dir);
    const err = await errorOn(unet, 'a', 'r0');
    await unet.release();
    t.diagnostic(`mid-block transformer skipped: max abs error ${err.toExponential(2)}`);
    assert.ok(err > 100 * TOL, `error ${err} should exceed the tolerance by far`);
  });
});
