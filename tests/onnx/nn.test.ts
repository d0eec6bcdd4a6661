/** Each nn.ts helper against torch (tests/oracle/nn_ops.py), run through ModelSession on the CPU provider. */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Graph, type Value } from '../../src/onnx/graph.js';
import * as nn from '../../src/onnx/nn.js';
import { ModelSession } from '../../src/runtime/session.js';
import { WeightStore } from '../../src/safetensors/read.js';
import { oracleData, oracleSkip } from '../helpers/oracle.js';

const skip = oracleSkip('nn_ops');
const load = oracleData('nn_ops', (dir) => ({
  weights: WeightStore.openFiles([path.join(dir, 'weights.safetensors')]),
  io: WeightStore.openFiles([path.join(dir, 'io.safetensors')]),
}));
const cacheDir = mkdtempSync(path.join(tmpdir(), 'nn-graphs-'));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** Builds a one-op graph over the named oracle inputs, runs it and compares with `<expected>` from the oracle. */
async function check(expected: string, inputs: string[], build: (g: Graph, xs: Value[]) => Value, tol = 1e-5): Promise<number> {
  const { weights, io } = load();
  const g = new Graph({ name: expected.replace('.', '_'), weights });
  const xs = inputs.map((n, i) => g.input(`in${i}`, 'float32', io.info(n).shape));
  g.output(build(g, xs), 'y', 'float32', io.info(expected).shape);
  const session = await ModelSession.create(g, { cacheDir, threads: 1 });
  try {
    const feeds = Object.fromEntries(inputs.map((n, i) => [`in${i}`, { data: io.readFloat32(n), dims: io.info(n).shape }]));
    const { y } = await session.run(feeds);
    assert.deepEqual(y.dims, io.info(expected).shape);
    const err = maxAbsDiff(y.data, io.readFloat32(expected));
    assert.ok(err <= tol, `${expected}: max abs error ${err} > ${tol}`);
    if (process.env.NN_VERBOSE) console.log(`${expected}: max abs error ${err.toExponential(2)}`);
    return err;
  } finally {
    await session.release();
  }
}

test('linear: 3-D and 2-D inputs, with and without bias, fp16-stored weights', { skip }, async () => {
  await check('linear.y', ['linear.x'], (g, [x]) => nn.linear(g, x, 'linear'));
  await check('linear_nobias.y', ['linear.x'], (g, [x]) => nn.linear(g, x, 'linear_nobias'));
  await check('linear16.y', ['linear.x'], (g, [x]) => nn.linear(g, x, 'linear16'));
  await check('linear2d.y', ['linear2d.x'], (g, [x]) => nn.linear(g, x, 'linear'));
});

test('conv2d: 3×3 stride 1 and 2 with padding 1, 1×1 without padding', { skip }, async () => {
  await check('conv.y', ['conv.x'], (g, [x]) => nn.conv2d(g, x, 'conv', { padding: 1 }));
  await check('conv_s2.y', ['conv.x'], (g, [x]) => nn.conv2d(g, x, 'conv_s2', { stride: 2, padding: 1 }));
  await check('conv1x1.y', ['conv.x'], (g, [x]) => nn.conv2d(g, x, 'conv1x1'));
});

test('conv3d: kernel (3, 1, 1), padding (1, 0, 0)', { skip }, async () => {
  await check('conv3d.y', ['conv3d.x'], (g, [x]) => nn.conv3d(g, x, 'conv3d', { padding: [1, 0, 0] }));
});

test('groupNorm: 32 groups on 4-D and 5-D, 2 groups on 3-D', { skip }, async () => {
  await check('gn32.y', ['gn32.x'], (g, [x]) => nn.groupNorm(g, x, 'gn32', 32, 1e-6));
  await check('gn32_5d.y', ['gn32_5d.x'], (g, [x]) => nn.groupNorm(g, x, 'gn32_5d', 32, 1e-6));
  await check('gn2.y', ['gn2.x'], (g, [x]) => nn.groupNorm(g, x, 'gn2', 2, 1e-5));
});

test('layerNorm: affine and plain', { skip }, async () => {
  await check('ln.y', ['ln.x'], (g, [x]) => nn.layerNorm(g, x, 'ln', 1e-5));
  await check('ln_plain.y', ['ln.x'], (g, [x]) => nn.layerNorm(g, x, 'ln_plain', 1e-6));
});

test('activations: SiLU, GELU (exact, tanh), quick-GELU', { skip }, async () => {
  await check('silu.y', ['act.x'], (g, [x]) => nn.silu(g, x));
  await check('gelu.y', ['act.x'], (g, [x]) => nn.gelu(g, x));
  await check('gelu_tanh.y', ['act.x'], (g, [x]) => nn.gelu(g, x, 'tanh'));
  await check('quick_gelu.y', ['act.x'], (g, [x]) => nn.quickGelu(g, x));
});

test('attention: MatMul/Softmax and com.microsoft MultiHeadAttention match torch SDPA', { skip }, async () => {
  const qkv = ['attn.q', 'attn.k', 'attn.v'];
  await check('attn.y', qkv, (g, [q, k, v]) => nn.attention(g, q, k, v, 4, 8));
  await check('attn.y', qkv, (g, [q, k, v]) => nn.attention(g, q, k, v, 4, 8, { impl: 'matmul' }));
});

test('shape helpers: dim, shapeOf and reshape with dynamic pieces', async () => {
  const g = new Graph({ name: 'shapes' });
  const x = g.input('x', 'float32', ['a', 'b', 6]);
  const flat = nn.reshape(g, x, [nn.dim(g, x, 0), -1]); // [a, b·6]
  const back = nn.reshape(g, flat, [0, nn.dim(g, x, 1), nn.dim(g, x, -1)]);
  g.output(flat, 'flat', 'float32', ['a', 'n']);
  g.output(back, 'back', 'float32', ['a', 'b', 6]);
  g.output(nn.shapeOf(g, x), 'shape', 'int64', [3]);
  const s = await ModelSession.create(g, { cacheDir, threads: 1 });
  const data = Float32Array.from({ length: 2 * 3 * 6 }, (_, i) => i);
  const r = await s.run({ x: { data, dims: [2, 3, 6] } });
  assert.deepEqual(r.flat.dims, [2, 18]);
  assert.deepEqual(r.back.dims, [2, 3, 6]);
  assert.deepEqual(r.back.data, data);
  assert.deepEqual([...r.shape.data], [2, 3, 6]);
  await s.release();
});
