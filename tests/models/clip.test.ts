/**
 * CLIP image encoder vs transformers (tests/oracle/clip.py): config parsing, weight names, SVD's antialiased resize vs
 * torch's interpolate, the graph on 4 tiny configs (fp32 and fp16 weights), the whole embedder, and negative controls.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { oracleData, oracleSkip } from '../helpers/oracle.js';
import { WeightStore } from '../../src/safetensors/read.js';
import { writeSafetensors } from '../../src/safetensors/write.js';
import { tensor } from '../../src/tensor.js';
import { ConfigError } from '../../src/util/config.js';
import {
  type ClipImageEmbedder, type ClipLoadOptions, clipPreprocess, clipWeightShapes, loadClip, parseClipVisionConfig, readClipVisionConfig,
  resizeBilinearAntialias,
} from '../../src/models/clip/index.js';

const FP32_TOL = 1e-4;
/**
 * fp16 arithmetic inside the graph: fp16 keeps 11 significant bits (relative step 2^-10 ≈ 1e-3), embeddings here are
 * O(1), and rounding just the weights already moves them by up to 1.6e-3 (see the fp16-weights test); fp16 activations
 * through a few layers about double that. 1e-2 leaves headroom yet sits ~70× below what a transposed weight does.
 */
const FP16_COMPUTE_TOL = 1e-2;
const RESIZE_TOL = 1e-5;

interface Cases {
  models: string[];
  resize: Record<string, [number, number, number, number]>;
  embed_case: string;
}

const skip = oracleSkip('clip');
const load = oracleData('clip', (dir) => ({
  dir,
  cases: JSON.parse(readFileSync(path.join(dir, 'cases.json'), 'utf8')) as Cases,
}));
let cacheDir: string;
let scratch: string;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'length mismatch');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Runs one oracle case's batch-2 input through a freshly loaded model; returns the max abs error vs `expected`. */
async function caseError(folder: string, ioFile: string, expectedName: string, opts: ClipLoadOptions = {}): Promise<number> {
  const io = WeightStore.openFiles([ioFile]);
  const model: ClipImageEmbedder = await loadClip(folder, { ...opts, cacheDir, threads: 2 });
  try {
    const pixels = io.readFloat32('pixel_values');
    const out = await model.embedPixels(tensor(pixels, io.info('pixel_values').shape));
    const expected = io.readFloat32(expectedName);
    assert.deepEqual(out.dims, io.info(expectedName).shape);
    return maxAbsDiff(out.data, expected);
  } finally {
    await model.release();
  }
}

before(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'videoshop-clip-'));
  cacheDir = path.join(scratch, 'graphs');
});

after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('CLIP config', () => {
  test('the real SVD image encoder config', () => {
    const c = readClipVisionConfig(path.resolve(import.meta.dirname, '..', '..', 'configs', 'stable-video-diffusion-img2vid', 'image_encoder'));
    assert.deepEqual(c, {
      hiddenSize: 1280, intermediateSize: 5120, projectionDim: 1024, numHiddenLayers: 32, numAttentionHeads: 16,
      numChannels: 3, imageSize: 224, patchSize: 14, hiddenAct: 'gelu', layerNormEps: 1e-5,
    });
    // 257 positions: 16² patches + the class token; 32 layers × 16 params + 8 others.
    const shapes = clipWeightShapes(c);
    assert.equal(shapes.length, 32 * 16 + 8);
    assert.deepEqual(shapes.find((s) => s.name.endsWith('position_embedding.weight'))?.shape, [257, 1280]);
  });

  test('transformers defaults for missing keys', () => {
    const c = parseClipVisionConfig({});
    assert.equal(c.hiddenAct, 'quick_gelu');
    assert.equal(c.patchSize, 32);
    assert.equal(c.hiddenSize, 768);
    assert.equal(c.projectionDim, 512);
    assert.equal(c.layerNormEps, 1e-5);
  });

  test('rejects what it cannot build', () => {
    assert.throws(() => parseClipVisionConfig({ hidden_act: 'relu' }), ConfigError);
    assert.throws(() => parseClipVisionConfig({ hidden_size: 100, num_attention_heads: 12 }), /multiple/);
    assert.throws(() => parseClipVisionConfig({ model_type: 'clip' }), /clip_vision_model/);
    assert.throws(() => parseClipVisionConfig({ image_size: [224, 224] }), /single integer/);
    assert.throws(() => parseClipVisionConfig({ layer_norm_eps: '1e-5' }), ConfigError);
  });
});

describe('CLIP weights', () => {
  test('clipWeightShapes equals what save_pretrained wrote (fp32 and fp16 files)', { skip }, () => {
    const { dir, cases } = load();
    for (const name of cases.models) {
      const folder = path.join(dir, name);
      const expected = clipWeightShapes(readClipVisionConfig(folder)).map((s) => `${s.name} [${s.shape.join(',')}]`).sort();
      for (const variant of [undefined, 'fp16']) {
        const st = WeightStore.openFolder(folder, { variant, baseName: 'model' });
        const saved = st.names().map((n) => `${n} [${st.info(n).shape.join(',')}]`).sort();
        assert.deepEqual(expected, saved, `${name} ${variant ?? 'fp32'}`);
      }
    }
  });
});

describe('SVD preprocessing', () => {
  test('antialiased bilinear resize matches torch interpolate', { skip }, () => {
    const { dir, cases } = load();
    const st = WeightStore.openFiles([path.join(dir, 'resize.safetensors')]);
    for (const [name, [h, w, oh, ow]] of Object.entries(cases.resize)) {
      const src = Float32Array.from(st.readRaw(`${name}.in`), (v) => v / 255);
      const got = resizeBilinearAntialias(src, 3, h, w, oh, ow);
      const err = maxAbsDiff(got, st.readFloat32(`${name}.out`));
      console.log(`resize ${name} (${h}×${w} → ${oh}×${ow}): max abs err ${err.toExponential(2)}`);
      assert.ok(err <= RESIZE_TOL, `${name}: ${err}`);
    }
  });

  test('plain (non-antialiased) bilinear would fail the resize check when shrinking', { skip }, () => {
    const { dir, cases } = load();
    // Teeth for the test above: bilinear sampling without the widened filter, on the 576×1024 frame.
    const st = WeightStore.openFiles([path.join(dir, 'resize.safetensors')]);
    const [h, w, oh, ow] = cases.resize.down_576x1024;
    const src = Float32Array.from(st.readRaw('down_576x1024.in'), (v) => v / 255);
    const naive = new Float32Array(3 * oh * ow);
    const at = (c: number, y: number, x: number): number => src[(c * h + Math.min(Math.max(y, 0), h - 1)) * w + Math.min(Math.max(x, 0), w - 1)];
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          const y = (i + 0.5) * (h / oh) - 0.5;
          const x = (j + 0.5) * (w / ow) - 0.5;
          const y0 = Math.floor(y);
          const x0 = Math.floor(x);
          const fy = y - y0;
          const fx = x - x0;
          naive[(c * oh + i) * ow + j] = (1 - fy) * ((1 - fx) * at(c, y0, x0) + fx * at(c, y0, x0 + 1))
            + fy * ((1 - fx) * at(c, y0 + 1, x0) + fx * at(c, y0 + 1, x0 + 1));
        }
      }
    }
    assert.ok(maxAbsDiff(naive, st.readFloat32('down_576x1024.out')) > 100 * RESIZE_TOL);
  });

  test('clipPreprocess of a [-1, 1] image equals the reference pixel_values', { skip }, () => {
    const { dir, cases } = load();
    const st = WeightStore.openFiles([path.join(dir, 'embed.safetensors')]);
    const shape = st.info('image').shape;
    const image = tensor(Float32Array.from(st.readRaw('image'), (v) => v / 127.5 - 1), shape);
    const size = readClipVisionConfig(path.join(dir, cases.embed_case)).imageSize;
    const got = clipPreprocess(image, size);
    assert.deepEqual(got.dims, [3, size, size]);
    const err = maxAbsDiff(got.data, st.readFloat32('pixel_values'));
    console.log(`clipPreprocess ${shape.join('×')} → ${size}²: max abs err ${err.toExponential(2)}`);
    assert.ok(err <= RESIZE_TOL, `${err}`);
  });
});

describe('CLIP graph vs transformers', () => {
  test('fp32 weights, batch 2, every config', { skip }, async () => {
    const { dir, cases } = load();
    for (const name of cases.models) {
      const folder = path.join(dir, name);
      const err = await caseError(folder, path.join(folder, 'io.safetensors'), 'image_embeds');
      console.log(`clip ${name} fp32: max abs err ${err.toExponential(2)}`);
      assert.ok(err <= FP32_TOL, `${name}: ${err}`);
    }
  });

  test('fp16 weights (variant), fp32 compute, every config', { skip }, async () => {
    const { dir, cases } = load();
    for (const name of cases.models) {
      const folder = path.join(dir, name);
      const io = WeightStore.openFiles([path.join(folder, 'io.safetensors')]);
      // How far fp16 rounding of the weights moves the output: the tolerance must sit well below it to mean anything.
      const rounding = maxAbsDiff(io.readFloat32('image_embeds'), io.readFloat32('image_embeds_fp16w'));
      const err = await caseError(folder, path.join(folder, 'io.safetensors'), 'image_embeds_fp16w', { variant: 'fp16' });
      console.log(`clip ${name} fp16 weights: max abs err ${err.toExponential(2)} (fp16 rounding moves it by ${rounding.toExponential(2)})`);
      // Same arithmetic as the reference (weights up-cast exactly, computed in fp32), so the fp32 tolerance applies.
      assert.ok(err <= FP32_TOL, `${name}: ${err}`);
      assert.ok(rounding > 3 * FP32_TOL && err < rounding / 100, `${name}: fp16 rounding (${rounding}) not resolved by the test`);
    }
  });

  test('plain MatMul/Softmax attention (the default is the fused mha kernel) gives the same answers', { skip }, async () => {
    const { dir, cases } = load();
    for (const name of cases.models) {
      const folder = path.join(dir, name);
      const err = await caseError(folder, path.join(folder, 'io.safetensors'), 'image_embeds', { attention: 'matmul' });
      console.log(`clip ${name} fp32 matmul: max abs err ${err.toExponential(2)}`);
      assert.ok(err <= FP32_TOL, `${name}: ${err}`);
    }
  });

  test('fp16 compute with fp16 weights', { skip }, async () => {
    const { dir, cases } = load();
    for (const name of cases.models) {
      const folder = path.join(dir, name);
      const err = await caseError(folder, path.join(folder, 'io.safetensors'), 'image_embeds_fp16w',
        { variant: 'fp16', dtype: 'float16' });
      console.log(`clip ${name} fp16 compute: max abs err ${err.toExponential(2)}`);
      assert.ok(err <= FP16_COMPUTE_TOL, `${name}: ${err}`);
    }
  });

  test('the whole embedder: [-1, 1] image of another size → embedding', { skip }, async () => {
    const { dir, cases } = load();
    const st = WeightStore.openFiles([path.join(dir, 'embed.safetensors')]);
    const image = tensor(Float32Array.from(st.readRaw('image'), (v) => v / 127.5 - 1), st.info('image').shape);
    const model = await loadClip(path.join(dir, cases.embed_case), { cacheDir, threads: 2 });
    try {
      assert.equal(model.embedDim, st.info('image_embeds').shape[0]);
      const got = await model.embed(image);
      const expected = st.readFloat32('image_embeds');
      const err = maxAbsDiff(got, expected);
      console.log(`embed(): max abs err ${err.toExponential(2)} (|embedding| max ${maxAbs(expected).toFixed(3)})`);
      assert.ok(err <= FP32_TOL, `${err}`);
      // A batch of different images in one run gives each its own embedding.
      const flipped = tensor(image.data.map((v) => -v), image.dims);
      const [a, b] = await model.embedMany([image, flipped]);
      assert.ok(maxAbsDiff(a, got) <= 1e-5);
      assert.ok(maxAbsDiff(b, await model.embed(flipped)) <= 1e-5);
      assert.ok(maxAbsDiff(a, b) > 0.1);
    } finally {
      await model.release();
    }
  });
});

describe('CLIP parity test has teeth', () => {
  /** Copies an oracle case into scratch, rewriting model.safetensors through `edit`. */
  function corrupted(name: string, label: string, edit: (tensors: Map<string, { shape: number[]; data: Float32Array }>) => void): string {
    const src = path.join(load().dir, name);
    const dst = path.join(scratch, `${name}-${label}`);
    cpSync(src, dst, { recursive: true });
    const st = WeightStore.openFolder(src, { baseName: 'model' });
    const tensors = new Map(st.names().map((n) => [n, { shape: st.info(n).shape, data: st.readFloat32(n) }]));
    edit(tensors);
    writeSafetensors(path.join(dst, 'model.safetensors'),
      [...tensors].map(([n, t]) => ({ name: n, dtype: 'F32' as const, shape: t.shape, data: t.data })));
    return dst;
  }

  test('one square weight transposed', { skip }, async () => {
    const folder = corrupted('gelu', 'transposed', (t) => {
      const w = t.get('vision_model.encoder.layers.0.self_attn.q_proj.weight');
      assert.ok(w && w.shape[0] === w.shape[1]);
      const n = w.shape[0];
      const tr = new Float32Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) tr[j * n + i] = w.data[i * n + j];
      w.data = tr;
    });
    const err = await caseError(folder, path.join(folder, 'io.safetensors'), 'image_embeds');
    console.log(`transposed q_proj: max abs err ${err.toExponential(2)}`);
    assert.ok(err > 100 * FP32_TOL, `${err}`);
  });

  test('the wrong activation (quick_gelu read as gelu)', { skip }, async () => {
    const folder = corrupted('quick_gelu', 'activation', () => undefined);
    const configFile = path.join(folder, 'config.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...config, hidden_act: 'gelu' }));
    const err = await caseError(folder, path.join(folder, 'io.safetensors'), 'image_embeds');
    console.log(`gelu instead of quick_gelu: max abs err ${err.toExponential(2)}`);
    assert.ok(err > 10 * FP32_TOL, `${err}`);
  });

  test('one layer skipped (its output projections zeroed)', { skip }, async () => {
    const folder = corrupted('quick_gelu', 'skipped', (t) => {
      for (const [n, v] of t) {
        if (/layers\.1\.(self_attn\.out_proj|mlp\.fc2)\./.test(n)) v.data = new Float32Array(v.data.length);
      }
    });
    const err = await caseError(folder, path.join(folder, 'io.safetensors'), 'image_embeds');
    console.log(`layer 1 skipped: max abs err ${err.toExponential(2)}`);
    assert.ok(err > 100 * FP32_TOL, `${err}`);
  });
});
