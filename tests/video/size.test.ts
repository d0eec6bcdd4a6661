import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { resizeImage } from '../../src/image/resize.js';
import { processingSize } from '../../src/video/size.js';
import { oracleDir, oracleSkip } from '../helpers/oracle.js';

describe('processingSize', () => {
  it('keeps the aspect ratio at about 1024×576 pixels in multiples of 64', () => {
    const cases: [number, number, number, number][] = [
      [1920, 1080, 1024, 576],
      [1080, 1920, 576, 1024],
      [1024, 576, 1024, 576],
      [1280, 720, 1024, 576],
      [640, 480, 896, 640], // ideal 886.8×665.1
      [480, 640, 640, 896],
      [512, 512, 768, 768],
      [200, 120, 960, 576], // 5:3 → ideal 991.5×594.9 = 15.49×9.29 multiples
      [99, 57, 1024, 576], // ideal 1012.2×582.8
      [4096, 1024, 1536, 384], // ideal 1536×384 exactly
      [100000, 10, 76800, 64], // at least one multiple
    ];
    for (const [w, h, ew, eh] of cases) assert.deepEqual(processingSize(w, h), { width: ew, height: eh }, `${w}×${h}`);
  });

  it('rounds halves up and honours other areas and multiples', () => {
    // A square of area 96² is 1.5 multiples of 64 a side: rounds up to 2.
    assert.deepEqual(processingSize(1, 1, { area: 96 * 96, multiple: 64 }), { width: 128, height: 128 });
    assert.deepEqual(processingSize(16, 9, { area: 512 * 288, multiple: 8 }), { width: 512, height: 288 });
    assert.throws(() => processingSize(0, 10), RangeError);
    assert.throws(() => processingSize(10, 10, { multiple: 0 }), RangeError);
  });
});

describe('resizeImage', () => {
  it('matches torch interpolate(bilinear, antialias=True) down and up', { skip: oracleSkip('resize_aa') }, () => {
    const dir = oracleDir('resize_aa');
    const meta = JSON.parse(readFileSync(path.join(dir, 'cases.json'), 'utf8')) as { input: number[]; cases: [number, number][] };
    const load = (name: string): Float32Array => {
      const b = readFileSync(path.join(dir, name));
      return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
    };
    const input = { data: load('input.bin'), dims: meta.input };
    for (const [h, w] of meta.cases) {
      const expected = load(`out_${h}x${w}.bin`);
      const got = resizeImage(input, w, h);
      assert.deepEqual(got.dims, [3, h, w]);
      let worst = 0;
      for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - expected[i]));
      assert.ok(worst < 1e-5, `${h}×${w}: max |diff| ${worst}`);
    }
  });
});
