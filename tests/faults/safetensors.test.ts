/**
 * Every way a .safetensors header can be damaged, each refused by readHeader with one SafetensorsError line that
 * names the file and what is wrong, before any tensor byte is read.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { readHeader, SafetensorsError } from '../../src/safetensors/read.js';

const dir = mkdtempSync(path.join(tmpdir(), 'videoshop-faults-st-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A file: 8-byte length, the header text (as given), then `data` bytes. */
function file(name: string, header: unknown, dataBytes: number, declaredLength?: bigint): string {
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(declaredLength ?? BigInt(text.length));
  const f = path.join(dir, name);
  writeFileSync(f, Buffer.concat([len, text, Buffer.alloc(dataBytes)]));
  return f;
}

const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };

const cases: [string, () => string, RegExp][] = [
  ['short file', () => { const f = path.join(dir, 'short'); writeFileSync(f, Buffer.alloc(5)); return f; }, /only 5 bytes \(truncated\?\)/],
  ['implausible header length', () => file('huge-len', ok, 8, 1n << 40n), /header length 1099511627776 is implausible/],
  ['header past the end', () => file('past-end', ok, 0, 10_000n), /header of 10000 bytes runs past the end/],
  ['not JSON', () => file('bad-json', '{"a": [', 8), /header is not JSON/],
  ['not an object', () => file('array', '[1, 2]', 8), /header is not a JSON object/],
  ['unknown dtype', () => file('dtype', { a: { dtype: 'F8_E9', shape: [2], data_offsets: [0, 8] } }, 8), /tensor "a" has unsupported dtype "F8_E9"/],
  ['bad shape', () => file('shape', { a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8), /tensor "a" has invalid shape \[-2\]/],
  ['bad offsets', () => file('offs', { a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, 8), /tensor "a" has invalid data_offsets \[0\]/],
  ['size mismatch', () => file('span', { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /tensor "a" spans 8 bytes but F32\[3\] needs 12/],
  ['offsets out of range', () => file('range', { a: { dtype: 'F32', shape: [2], data_offsets: [8, 16] } }, 8), /tensor "a" ends at byte 16 of a 8-byte data section/],
  ['overlapping tensors', () => file('overlap', { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12),
    /tensors "a" and "b" overlap in data_offsets/],
  ['bad metadata', () => file('meta', { __metadata__: { seed: 3 }, ...ok }, 8), /"__metadata__" is not an object of strings/],
];

for (const [what, make, message] of cases) {
  test(`refused: ${what}`, () => {
    const f = make();
    assert.throws(() => readHeader(f), (err: unknown) => {
      assert.ok(err instanceof SafetensorsError, String(err));
      assert.equal(err.code, 'bad_weights');
      assert.ok(err.message.startsWith(`${f} is not a valid safetensors file: `), err.message);
      assert.match(err.message, message);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  });
}

test('a valid file still reads', () => {
  assert.deepEqual(readHeader(file('ok', ok, 8)).tensors.map((t) => t.name), ['a']);
});
