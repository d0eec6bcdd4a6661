import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { Graph } from '../../src/onnx/graph.js';
import { ModelSession } from '../../src/runtime/session.js';
import { WeightStore } from '../../src/safetensors/read.js';
import { writeSafetensors } from '../../src/safetensors/write.js';

const root = mkdtempSync(path.join(tmpdir(), 'session-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
const tmp = () => mkdtempSync(path.join(root, 'd-'));

/** A Hugging Face hub cache: snapshots/<rev>/unet/*.safetensors are relative symlinks into blobs/. */
function hubCache(values: number[]): string {
  const repo = path.join(tmp(), 'models--org--model');
  const blobs = path.join(repo, 'blobs');
  const unet = path.join(repo, 'snapshots', 'abc123', 'unet');
  mkdirSync(blobs, { recursive: true });
  mkdirSync(unet, { recursive: true });
  writeSafetensors(path.join(blobs, 'f00d'), [{ name: 'w', dtype: 'F16', shape: [values.length], data: Float32Array.from(values) }]);
  symlinkSync('../../../blobs/f00d', path.join(unet, 'diffusion_pytorch_model.fp16.safetensors'));
  return unet;
}

function scaleGraph(store: WeightStore): Graph {
  const g = new Graph({ name: 'scale', weights: store });
  const x = g.input('x', 'float32', ['n']);
  g.output(g.op('Mul', [x, g.weight('w')]), 'y', 'float32', ['n']);
  return g;
}

test('weights behind Hugging Face cache symlinks load in place; the .onnx is cached by content', async () => {
  const cacheDir = tmp();
  const store = WeightStore.openFolder(hubCache([2, -3]), { variant: 'fp16' });
  const s = await ModelSession.create(scaleGraph(store), { cacheDir });
  assert.equal(path.dirname(path.dirname(s.modelPath)), cacheDir);
  const r = await s.run({ x: { data: Float32Array.from([1.5, 2]), dims: [2] } });
  assert.deepEqual([...r.y.data], [3, -6]);
  assert.deepEqual(readdirSync(path.dirname(s.modelPath)), ['model.onnx'], 'no copies or links of the weights');

  const again = await ModelSession.create(scaleGraph(store), { cacheDir });
  assert.equal(again.modelPath, s.modelPath, 'same graph and weights → same cached file');
  const otherWeights = WeightStore.openFolder(hubCache([1, 1]), { variant: 'fp16' });
  const other = await ModelSession.create(scaleGraph(otherWeights), { cacheDir });
  assert.notEqual(other.modelPath, s.modelPath);
  await Promise.all([s.release(), again.release(), other.release()]);
});

test('run checks input names and sizes; int64 feeds and outputs', async () => {
  const g = new Graph({ name: 'ints' });
  const x = g.input('x', 'int64', [3]);
  g.output(g.op('Add', [x, g.constant([10, 20, 30], [3], 'int64')]), 'y', 'int64', [3]);
  const s = await ModelSession.create(g, { cacheDir: tmp() });
  const r = await s.run({ x: { data: BigInt64Array.from([1n, 2n, -3n]), dims: [3], type: 'int64' } });
  assert.deepEqual([...r.y.data], [11, 22, 27]);
  await assert.rejects(s.run({}), /missing input "x"/);
  await assert.rejects(s.run({ x: { data: BigInt64Array.from([1n]), dims: [3], type: 'int64' }, z: { data: new Float32Array(1), dims: [1] } }),
    /1 values for shape \[3\]|unknown input "z"/);
  await s.release();
});

test('GPU providers that are missing fail with one line that says what to do', async () => {
  const g = new Graph({ name: 'dev' });
  g.output(g.op('Neg', [g.input('x', 'float32', [1])]), 'y', 'float32', [1]);
  const backends = ort.listSupportedBackends().map((b) => b.name);
  assert.ok(backends.includes('cpu'));
  const cudaLib = path.join('node_modules', 'onnxruntime-node', 'bin', 'napi-v6', process.platform, process.arch,
    'libonnxruntime_providers_cuda.so');
  if (!backends.includes('cuda')) {
    await assert.rejects(ModelSession.create(g, { device: 'cuda', cacheDir: tmp() }), /not in this onnxruntime-node build/);
  } else if (!existsSync(cudaLib)) {
    await assert.rejects(ModelSession.create(g, { device: 'cuda', cacheDir: tmp() }),
      /CUDA execution provider is not installed: run `ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`/);
  }
  try {
    const s = await ModelSession.create(g, { device: 'webgpu', cacheDir: tmp() });
    const r = await s.run({ x: { data: Float32Array.from([2]), dims: [1] } });
    assert.deepEqual([...r.y.data], [-2]);
    await s.release();
  } catch (e) {
    const msg = (e as Error).message;
    assert.match(msg, /WebGPU execution provider|not in this onnxruntime-node build/);
    assert.ok(!msg.includes('\n'), 'one line');
  }
});

test('ONNX Runtime reads external data past 4 GiB (sparse file)', async () => {
  const dir = tmp();
  const file = path.join(dir, 'model.safetensors');
  const begin = 4 * 2 ** 30 + 2 ** 20 + 8; // past 2^32, not page-aligned
  const header = Buffer.from(JSON.stringify({
    pad: { dtype: 'U8', shape: [begin], data_offsets: [0, begin] },
    w: { dtype: 'F32', shape: [2], data_offsets: [begin, begin + 8] },
  }));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  const fd = openSync(file, 'w');
  writeSync(fd, len);
  writeSync(fd, header);
  writeSync(fd, new Uint8Array(Float32Array.from([7, -0.5]).buffer), 0, 8, 8 + header.length + begin);
  closeSync(fd);
  const store = WeightStore.openFolder(dir);
  assert.ok(store.info('w').offset > 2 ** 32);
  const s = await ModelSession.create(scaleGraph(store), { cacheDir: tmp() });
  const r = await s.run({ x: { data: Float32Array.from([2, 2]), dims: [2] } });
  assert.deepEqual([...r.y.data], [14, -1]);
  await s.release();
});
