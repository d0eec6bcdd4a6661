import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WeightStore, readHeader } from '../../src/safetensors/read.js';
import { writeSafetensors } from '../../src/safetensors/write.js';
import { float32ToHalfBits, halfToFloat32 } from '../../src/safetensors/half.js';

const root = mkdtempSync(path.join(tmpdir(), 'st-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
const tmp = () => mkdtempSync(path.join(root, 'd-'));

/** Writes a safetensors file by hand (for dtypes and layouts our writer does not produce). */
function rawFile(file: string, header: object, data: Uint8Array, dataPosition?: number): void {
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(file, 'w');
  writeSync(fd, len);
  writeSync(fd, json);
  writeSync(fd, data, 0, data.length, dataPosition ?? 8 + json.length);
  closeSync(fd);
}

test('F32 round trip keeps values bit-exact, header is 8-byte aligned, metadata kept', () => {
  const dir = tmp();
  const file = path.join(dir, 'model.safetensors');
  const a = Float32Array.from({ length: 12 }, (_, i) => Math.sin(i) * 1e3);
  const b = Float32Array.from([1.5, -2, 3e-30]);
  writeSafetensors(file, [
    { name: 'a.weight', dtype: 'F32', shape: [3, 4], data: a },
    { name: 'b', dtype: 'F32', shape: [3], data: b },
  ], { format: 'pt' });
  const { tensors, metadata } = readHeader(file);
  assert.deepEqual(metadata, { format: 'pt' });
  for (const t of tensors) assert.equal(t.offset % 8, 0, `${t.name} offset ${t.offset}`);
  const store = WeightStore.openFiles([file]);
  assert.deepEqual(store.names().sort(), ['a.weight', 'b']);
  assert.deepEqual(store.readFloat32('a.weight'), a);
  assert.deepEqual(store.readFloat32('b'), b);
  const info = store.info('b');
  assert.equal(info.dtype, 'F32');
  assert.deepEqual(info.shape, [3]);
  assert.equal(info.byteLength, 12);
  assert.equal(info.file, file);
  assert.equal(info.offset, statSync(file).size - 12);
});

test('F16 round trip rounds to nearest even, like torch .half()', () => {
  const file = path.join(tmp(), 'h.safetensors');
  // 1 + 2^-11 is a tie between 1 and 1 + 2^-10 → even (1); 1 + 3·2^-11 → 1 + 2^-9; 65520 overflows; 2^-25 ties to 0;
  // 3·2^-26 rounds up to the smallest subnormal 2^-24.
  const input = Float32Array.from([0, -0, 1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65520, -1e6, 2 ** -25, 3 * 2 ** -26, 6.1e-5, 0.1, NaN]);
  const expected = [0, -0, 1, 1, 1 + 2 ** -9, 65504, Infinity, -Infinity, 0, 2 ** -24, 1023 * 2 ** -24, 0.0999755859375, NaN];
  writeSafetensors(file, [{ name: 'x', dtype: 'F16', shape: [input.length], data: input }]);
  const store = WeightStore.openFiles([file]);
  assert.equal(store.info('x').dtype, 'F16');
  assert.equal(store.info('x').byteLength, input.length * 2);
  assert.deepEqual([...store.readFloat32('x')], expected);
});

test('every finite float16 survives half → float32 → half', () => {
  const all = Uint16Array.from({ length: 65536 }, (_, i) => i);
  const f = halfToFloat32(all);
  for (let h = 0; h < 65536; h++) {
    if (Number.isNaN(f[h])) continue;
    assert.equal(float32ToHalfBits(f[h]), h, `pattern ${h.toString(16)}`);
  }
});

test('BF16, F64 and I64 tensors read as float32', () => {
  const file = path.join(tmp(), 'bf.safetensors');
  const bf = new Uint16Array([0x3f80, 0xc040, 0x4049, 0x0000]); // 1, -3, 3.140625, 0
  const f64 = new Float64Array([0.25, -7]);
  const i64 = new BigInt64Array([5n, -9n]);
  const data = new Uint8Array(8 + 16 + 16);
  data.set(new Uint8Array(bf.buffer), 0);
  data.set(new Uint8Array(f64.buffer), 8);
  data.set(new Uint8Array(i64.buffer), 24);
  rawFile(file, {
    bf: { dtype: 'BF16', shape: [2, 2], data_offsets: [0, 8] },
    d: { dtype: 'F64', shape: [2], data_offsets: [8, 24] },
    i: { dtype: 'I64', shape: [2], data_offsets: [24, 40] },
  }, data);
  const store = WeightStore.openFiles([file]);
  assert.deepEqual([...store.readFloat32('bf')], [1, -3, 3.140625, 0]);
  assert.deepEqual([...store.readFloat32('d')], [0.25, -7]);
  assert.deepEqual([...store.readFloat32('i')], [5, -9]);
});

test('openFolder picks the variant, the default base names, and sharded indexes', () => {
  const dir = tmp();
  const one = Float32Array.from([1]);
  writeSafetensors(path.join(dir, 'diffusion_pytorch_model.safetensors'), [{ name: 'w', dtype: 'F32', shape: [1], data: one }]);
  writeSafetensors(path.join(dir, 'diffusion_pytorch_model.fp16.safetensors'), [{ name: 'w', dtype: 'F16', shape: [1], data: one }]);
  assert.equal(WeightStore.openFolder(dir).info('w').dtype, 'F32');
  assert.equal(WeightStore.openFolder(dir, { variant: 'fp16' }).info('w').dtype, 'F16');
  assert.throws(() => WeightStore.openFolder(dir, { variant: 'bf16' }), /no weights in .*diffusion_pytorch_model\.bf16\.safetensors.*the folder has/);

  // transformers' name, sharded with an index.
  const sh = tmp();
  writeSafetensors(path.join(sh, 'model-00001-of-00002.safetensors'), [{ name: 'a', dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) }]);
  writeSafetensors(path.join(sh, 'model-00002-of-00002.safetensors'), [{ name: 'b', dtype: 'F16', shape: [1], data: Float32Array.from([3]) }]);
  writeFileSync(path.join(sh, 'model.safetensors.index.json'), JSON.stringify({
    metadata: { total_size: 10 },
    weight_map: { a: 'model-00001-of-00002.safetensors', b: 'model-00002-of-00002.safetensors' },
  }));
  const store = WeightStore.openFolder(sh);
  assert.deepEqual(store.names().sort(), ['a', 'b']);
  assert.deepEqual([...store.readFloat32('b')], [3]);
  assert.equal(path.basename(store.info('b').file), 'model-00002-of-00002.safetensors');
  assert.throws(() => store.info('c'), /weight "c" not found in .*st-test-/);

  writeFileSync(path.join(sh, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { a: 'model-00002-of-00002.safetensors' } }));
  assert.throws(() => WeightStore.openFolder(sh), /weight "a" is not in its shard model-00002-of-00002.safetensors/);
  assert.throws(() => WeightStore.openFolder(tmp()), /no weights in .*no \.safetensors files/);

  // diffusers' name for a sharded variant: <name>.safetensors.index.<variant>.json.
  const v = tmp();
  writeSafetensors(path.join(v, 'diffusion_pytorch_model-00001-of-00001.fp16.safetensors'), [{ name: 'w', dtype: 'F16', shape: [1], data: one }]);
  writeFileSync(path.join(v, 'diffusion_pytorch_model.safetensors.index.fp16.json'),
    JSON.stringify({ weight_map: { w: 'diffusion_pytorch_model-00001-of-00001.fp16.safetensors' } }));
  assert.equal(WeightStore.openFolder(v, { variant: 'fp16' }).info('w').dtype, 'F16');
  assert.throws(() => WeightStore.openFolder(v), /the folder has .*index\.fp16\.json \(pass a variant/);
});

test('offsets beyond 4 GiB are exact (sparse file)', () => {
  const file = path.join(tmp(), 'big.safetensors');
  const begin = 5 * 2 ** 30 + 8; // past 2^32
  const payload = new Float32Array([42, -1.25]);
  const header = { filler: { dtype: 'U8', shape: [begin], data_offsets: [0, begin] }, x: { dtype: 'F32', shape: [2], data_offsets: [begin, begin + 8] } };
  const headerLen = Buffer.byteLength(JSON.stringify(header));
  rawFile(file, header, new Uint8Array(payload.buffer), 8 + headerLen + begin);
  const store = WeightStore.openFiles([file]);
  assert.equal(store.info('x').offset, 8 + headerLen + begin);
  assert.deepEqual([...store.readFloat32('x')], [42, -1.25]);
});

test('truncated and corrupt files give clear errors', () => {
  const dir = tmp();
  const file = path.join(dir, 't.safetensors');
  writeSafetensors(file, [{ name: 'x', dtype: 'F32', shape: [4], data: new Float32Array(4) }]);
  truncateSync(file, statSync(file).size - 4);
  assert.throws(() => WeightStore.openFiles([file]), /tensor "x" ends at byte 16 of a 12-byte data section \(truncated\?\)/);
  truncateSync(file, 20);
  assert.throws(() => WeightStore.openFiles([file]), /header of \d+ bytes runs past the end/);
  truncateSync(file, 3);
  assert.throws(() => WeightStore.openFiles([file]), /only 3 bytes/);
  writeFileSync(file, Buffer.from('\xff\xff\xff\xff\xff\xff\xff\xffjunk', 'latin1'));
  assert.throws(() => WeightStore.openFiles([file]), /header length \d+ is implausible/);
  rawFile(file, { x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8));
  assert.throws(() => WeightStore.openFiles([file]), /spans 8 bytes but F32\[3\] needs 12/);
  rawFile(file, { x: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8));
  assert.throws(() => WeightStore.openFiles([file]), /unsupported dtype "C64"/);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(4n);
  writeFileSync(file, Buffer.concat([len, Buffer.from('{x: ')]));
  assert.throws(() => WeightStore.openFiles([file]), /header is not JSON/);
  assert.throws(() => WeightStore.openFiles([path.join(dir, 'missing.safetensors')]), /cannot open safetensors file/);
});

test('identity follows the file behind a symlink and changes when it changes', () => {
  const dir = tmp();
  const blob = path.join(dir, 'blob');
  writeSafetensors(blob, [{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
  const link = path.join(dir, 'model.safetensors');
  symlinkSync(blob, link);
  const store = WeightStore.openFolder(dir);
  const id = store.identity();
  assert.equal(store.identity(), id);
  utimesSync(blob, new Date(), new Date(Date.now() + 5000));
  assert.notEqual(store.identity(), id);
});
