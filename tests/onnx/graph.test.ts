import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Graph } from '../../src/onnx/graph.js';
import { encodeVarint } from '../../src/onnx/proto.js';
import { ModelSession } from '../../src/runtime/session.js';
import { WeightStore } from '../../src/safetensors/read.js';
import { writeSafetensors } from '../../src/safetensors/write.js';

const root = mkdtempSync(path.join(tmpdir(), 'graph-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
const tmp = () => mkdtempSync(path.join(root, 'd-'));
const cacheDir = tmp();

function weightsFolder(): WeightStore {
  const dir = tmp();
  writeSafetensors(path.join(dir, 'model.safetensors'), [
    { name: 'w32', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    { name: 'w16', dtype: 'F16', shape: [3], data: Float32Array.from([0.5, -1.5, 2.25]) },
  ]);
  return WeightStore.openFolder(dir);
}

test('varints: protobuf encoding of small, multi-byte and negative int64', () => {
  assert.deepEqual([...encodeVarint(0)], [0]);
  assert.deepEqual([...encodeVarint(300)], [0xac, 0x02]);
  assert.deepEqual([...encodeVarint(2 ** 40)], [0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
  assert.deepEqual([...encodeVarint(-1)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  assert.deepEqual([...encodeVarint(-2)], [0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
});

test('every attribute kind, multi-output ops and int64 constants survive serialization', async () => {
  const g = new Graph({ name: 'attrs' });
  const x = g.input('x', 'float32', [2, 3]);
  const t = g.op('Transpose', [x], { perm: [1, 0] }); // INTS → [3, 2]
  const leaky = g.op('LeakyRelu', [t], { alpha: { float: 2 } }); // integral FLOAT
  const scaled = g.op('LeakyRelu', [leaky], { alpha: 0.5 }); // FLOAT
  const [a, b] = g.opMulti('Split', [scaled, g.constant([1, 2], [2], 'int64')], 2, { axis: 0 }); // INT
  const floats = g.op('Constant', [], { value_floats: { floats: [10, 20] } }); // FLOATS
  const sum = g.op('Add', [a, floats]);
  const z = g.input('z', 'float32', [1, 4, 1, 1]);
  const d2s = g.op('DepthToSpace', [z], { blocksize: 2, mode: 'CRD' }); // STRING
  g.output(sum, 'sum', 'float32', [1, 2]);
  g.output(b, 'b', 'float32', [2, 2]);
  g.output(x, 'same_as_input', 'float32', [2, 3]);
  g.output(d2s, 'd2s', 'float32', [1, 1, 2, 2]);
  assert.throws(() => g.input('x', 'float32', [1]), /value "x" defined twice/);
  const s = await ModelSession.create(g, { cacheDir });
  assert.deepEqual([...s.inputNames], ['x', 'z']);
  assert.deepEqual([...s.outputNames], ['sum', 'b', 'same_as_input', 'd2s']);
  // x = [[1, -2, 3], [-4, 5, -6]] → xᵀ rows [1, -4], [-2, 5], [3, -6]; negatives ×2 then ×0.5 back.
  const x0 = Float32Array.from([1, -2, 3, -4, 5, -6]);
  const r = await s.run({ x: { data: x0, dims: [2, 3] }, z: { data: Float32Array.from([1, -2, 3, -4]), dims: [1, 4, 1, 1] } });
  assert.deepEqual([...r.sum.data], [11, 16]);
  assert.deepEqual([...r.b.data], [-2, 5, 3, -6]);
  assert.deepEqual(r.same_as_input.data, x0);
  assert.deepEqual([...r.d2s.data], [1, -2, 3, -4]);
  await s.release();
});

test('weights: external data, fp16 cast to the compute type, shared values, shape checks', async () => {
  const store = weightsFolder();
  const g = new Graph({ name: 'weights', weights: store });
  const x = g.input('x', 'float32', ['n', 2]);
  const w = g.weight('w32', [2, 3]);
  assert.equal(g.weight('w32'), w);
  const before = g.nodeCount;
  const b = g.weight('w16');
  assert.equal(g.nodeCount, before + 1, 'an fp16 weight gets a Cast in a float32 graph');
  assert.deepEqual(g.weightShape('w16'), [3]);
  assert.equal(g.hasWeight('nope'), false);
  assert.throws(() => g.weight('w32', [3, 2]), /weight "w32" has shape \[2, 3\], expected \[3, 2\]/);
  assert.throws(() => g.weight('nope'), /weight "nope" not found in /);
  g.output(g.op('Add', [g.op('MatMul', [x, w]), b]), 'y', 'float32', ['n', 3]);
  assert.deepEqual(g.weightFiles(), [store.info('w32').file]);

  const other = new Graph({ name: 'other' });
  assert.throws(() => other.op('Relu', [x]), /uses "x", which is not a value of this graph/);

  const s = await ModelSession.create(g, { cacheDir });
  const r = await s.run({ x: { data: Float32Array.from([1, 0, 0, 1, 1, 1]), dims: [3, 2] } });
  assert.deepEqual(r.y.dims, [3, 3]);
  assert.deepEqual([...r.y.data], [1.5, 0.5, 5.25, 4.5, 3.5, 8.25, 5.5, 5.5, 11.25]);
  await s.release();
});

test('float16 compute: float32-stored weights are cast down, float16 outputs come back as float32', async () => {
  const g = new Graph({ name: 'half', weights: weightsFolder(), computeType: 'float16' });
  const x = g.input('x', 'float16', [3]);
  const y = g.op('Mul', [g.op('Add', [x, g.weight('w16')]), g.constant([2], [])]); // constant follows computeType
  g.output(y, 'y', 'float16', [3]);
  g.output(g.op('ReduceSum', [g.weight('w32')], { keepdims: 0 }), 'total', 'float16', []);
  const s = await ModelSession.create(g, { cacheDir });
  const r = await s.run({ x: { data: Uint16Array.from([0x3c00, 0x4000, 0x0000]), dims: [3], type: 'float16' } }); // 1, 2, 0
  assert.deepEqual([...r.y.data], [3, 1, 4.5]);
  assert.deepEqual([...r.total.data], [21]);
  await s.release();
});

test('serialize writes external-data locations relative to the model folder', () => {
  const store = weightsFolder();
  const g = new Graph({ name: 'loc', weights: store });
  g.output(g.weight('w32'), 'w', 'float32', [2, 3]);
  const modelDir = path.join(path.dirname(store.info('w32').file), 'sub');
  const text = Buffer.from(g.serialize(modelDir)).toString('latin1');
  assert.ok(text.includes('../model.safetensors'), 'relative location');
  const { offset, byteLength } = store.info('w32');
  assert.ok(text.includes(`offset\x12${String.fromCharCode(String(offset).length)}${offset}`), 'offset entry');
  assert.ok(text.includes(`length\x12${String.fromCharCode(String(byteLength).length)}${byteLength}`), 'length entry');
  const custom = Buffer.from(g.serialize(modelDir, { locate: () => 'elsewhere/w.bin' })).toString('latin1');
  assert.ok(custom.includes('elsewhere/w.bin'));
});
