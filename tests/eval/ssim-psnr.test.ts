/**
 * SSIM and PSNR: parity with the float64 reference in tests/oracle/metrics.py (skimage's definition re-derived), plus
 * values known in closed form (identical images, constant images, a single window summed by hand here).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { oracleCases, oracleDir, oracleSkip } from '../helpers/oracle.js';
import type { Tensor } from '../../src/tensor.js';
import { gaussianWindow, ssim, videoSsim } from '../../src/eval/ssim.js';
import { meanSquaredError, psnr, videoPsnr } from '../../src/eval/psnr.js';
import { metricsToJson } from '../../src/eval/report.js';

interface SsimCase {
  shape: [number, number, number];
  data_range: number;
  ssim: number;
  ssim_channels: number[];
  psnr: number | null;
  ssim_hand?: number;
}

/** The SSIM/PSNR cases of the oracle's metrics.json. */
const ssimCases = (dir: string): Record<string, SsimCase> =>
  (JSON.parse(readFileSync(path.join(dir, 'metrics.json'), 'utf8')) as { cases: Record<string, SsimCase> }).cases;

function readImage(name: string, shape: readonly number[]): Tensor {
  const buf = readFileSync(path.join(oracleDir('metrics'), name));
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return { data, dims: [...shape] };
}

function constant(value: number | readonly number[], h = 16, w = 16): Tensor {
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) data.fill(typeof value === 'number' ? value : value[c], c * h * w, (c + 1) * h * w);
  return { data, dims: [3, h, w] };
}

function pattern(h: number, w: number): Tensor {
  const data = new Float32Array(3 * h * w);
  for (let i = 0; i < data.length; i++) data[i] = 0.8 * Math.sin(i * 0.37) * Math.cos(i * 0.011);
  return { data, dims: [3, h, w] };
}

/** The oracle's worst SSIM gap is reported by this test; 1e-3 is the criterion, float64 gets ~1e-15. */
const SSIM_TOL = 1e-9;

describe('ssim vs the oracle', () => {
  for (const [name, c] of oracleCases('metrics', 'every case in metrics.json: ssim and psnr', ssimCases)) {
    test(`${name}: ssim within ${SSIM_TOL}, psnr within 1e-9 dB`, () => {
      const x = readImage(`${name}_x.bin`, c.shape);
      const y = readImage(`${name}_y.bin`, c.shape);
      const s = ssim(x, y, { dataRange: c.data_range });
      assert.ok(Math.abs(s - c.ssim) < SSIM_TOL, `ssim ${s} vs oracle ${c.ssim} (diff ${Math.abs(s - c.ssim)})`);
      // Channel by channel too (single-channel frames).
      const plane = c.shape[1] * c.shape[2];
      c.ssim_channels.forEach((expected, ch) => {
        const sub = (t: Tensor): Tensor => ({ data: t.data.subarray(ch * plane, (ch + 1) * plane), dims: [1, c.shape[1], c.shape[2]] });
        const v = ssim(sub(x), sub(y), { dataRange: c.data_range });
        assert.ok(Math.abs(v - expected) < SSIM_TOL, `channel ${ch}: ${v} vs ${expected}`);
      });
      if (c.ssim_hand !== undefined) assert.ok(Math.abs(s - c.ssim_hand) < SSIM_TOL);
      const p = psnr(x, y, c.data_range);
      if (c.psnr === null) assert.equal(p, Infinity);
      else assert.ok(Math.abs(p - c.psnr) < 1e-9, `psnr ${p} vs ${c.psnr}`);
    });
  }

  test('largest gap over all cases', { skip: oracleSkip('metrics') }, (t) => {
    let worst = 0;
    for (const [name, c] of Object.entries(ssimCases(oracleDir('metrics')))) {
      const s = ssim(readImage(`${name}_x.bin`, c.shape), readImage(`${name}_y.bin`, c.shape), { dataRange: c.data_range });
      worst = Math.max(worst, Math.abs(s - c.ssim));
    }
    t.diagnostic(`max |ssim − oracle| = ${worst.toExponential(2)}`);
    assert.ok(worst < 1e-12);
  });
});

describe('ssim known values', () => {
  test('the window is scipy\'s: 11 taps, σ = 1.5, sum 1, symmetric', () => {
    const w = gaussianWindow(1.5);
    assert.equal(w.length, 11);
    assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-15);
    assert.ok(Math.abs(w[5] / w[4] - Math.exp(1 / (2 * 2.25))) < 1e-12);
    assert.equal(w[0], w[10]);
  });

  test('identical frames score exactly 1', () => {
    const x = pattern(24, 31);
    assert.equal(ssim(x, x), 1);
    assert.equal(videoSsim([x, x], [x, x]), 1);
  });

  test('constant frames: (2ab + C1) / (a² + b² + C1)', () => {
    const c1 = (0.01 * 2) ** 2;
    for (const [a, b] of [[0.2, 0.5], [-0.7, 0.1], [0, 0.3]]) {
      const expected = (2 * a * b + c1) / (a * a + b * b + c1);
      const got = ssim(constant(a), constant(b));
      assert.ok(Math.abs(got - expected) < 1e-6, `${a}, ${b}: ${got} vs ${expected}`);
    }
    // Per-channel values average.
    const got = ssim(constant([0.2, 0.2, 0]), constant([0.5, 0.2, 0]));
    const first = (2 * 0.2 * 0.5 + c1) / (0.04 + 0.25 + c1);
    assert.ok(Math.abs(got - (first + 2) / 3) < 1e-6);
  });

  test('a constant offset keeps structure and contrast: only the luminance term drops', () => {
    const x = pattern(11, 11);
    const y: Tensor = { data: x.data.map((v) => v + 0.25), dims: x.dims };
    // One window: SSIM = mean over channels of (2 μx μy + C1)/(μx² + μy² + C1) with Gaussian-weighted means.
    const w = gaussianWindow(1.5);
    const c1 = (0.01 * 2) ** 2;
    let expected = 0;
    for (let c = 0; c < 3; c++) {
      let mx = 0, my = 0;
      for (let i = 0; i < 11; i++) for (let j = 0; j < 11; j++) {
        mx += w[i] * w[j] * x.data[c * 121 + i * 11 + j];
        my += w[i] * w[j] * y.data[c * 121 + i * 11 + j];
      }
      expected += (2 * mx * my + c1) / (mx * mx + my * my + c1) / 3;
    }
    const got = ssim(x, y);
    assert.ok(Math.abs(got - expected) < 1e-6, `${got} vs ${expected}`);
    assert.ok(got < 1);
  });

  test('hand-computed single window with structure (11×11, full formula)', () => {
    const x = pattern(11, 11);
    const y: Tensor = { data: x.data.map((v, i) => 0.6 * v + 0.1 * Math.cos(i)), dims: x.dims };
    const w = gaussianWindow(1.5);
    const c1 = (0.01 * 2) ** 2;
    const c2 = (0.03 * 2) ** 2;
    let expected = 0;
    for (let c = 0; c < 3; c++) {
      const at = (t: Tensor, i: number, j: number): number => t.data[c * 121 + i * 11 + j];
      let mx = 0, my = 0;
      for (let i = 0; i < 11; i++) for (let j = 0; j < 11; j++) {
        mx += w[i] * w[j] * at(x, i, j);
        my += w[i] * w[j] * at(y, i, j);
      }
      let vx = 0, vy = 0, vxy = 0;
      for (let i = 0; i < 11; i++) for (let j = 0; j < 11; j++) {
        const dx = at(x, i, j) - mx, dy = at(y, i, j) - my;
        vx += w[i] * w[j] * dx * dx;
        vy += w[i] * w[j] * dy * dy;
        vxy += w[i] * w[j] * dx * dy;
      }
      expected += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2)) / 3;
    }
    assert.ok(Math.abs(ssim(x, y) - expected) < 1e-12, `${ssim(x, y)} vs ${expected}`);
  });

  test('frames smaller than the window, or of different shapes, are refused', () => {
    assert.throws(() => ssim(pattern(10, 20), pattern(10, 20)), /smaller than the 11×11 window/);
    assert.throws(() => ssim(pattern(12, 20), pattern(12, 21)), /differ/);
  });
});

describe('psnr', () => {
  test('identical frames: +Infinity, written as null with a note', () => {
    const x = pattern(8, 8);
    assert.equal(psnr(x, x), Infinity);
    assert.equal(videoPsnr([x], [x]), Infinity);
    const json = metricsToJson({ psnr: videoPsnr([x], [x]), ssim: 1 });
    assert.deepEqual(json.metrics, { psnr: null, ssim: 1 });
    assert.equal(json.notes.length, 1);
    assert.match(json.notes[0], /psnr is \+Infinity/);
    assert.equal(JSON.parse(JSON.stringify(json)).metrics.psnr, null);
  });

  test('known value: a uniform error e in [-1, 1] space gives 10·log10(4 / e²)', () => {
    const x = constant(0.1, 9, 7);
    const y = constant(0.1 + 0.05, 9, 7);
    assert.ok(Math.abs(meanSquaredError(x, y) - 0.0025) < 1e-9);
    assert.ok(Math.abs(psnr(x, y) - 10 * Math.log10(4 / 0.0025)) < 1e-5);
    // Data range 1 ([0, 1] frames) is 20·log10(2) ≈ 6.02 dB lower for the same error.
    assert.ok(Math.abs(psnr(x, y) - psnr(x, y, 1) - 20 * Math.log10(2)) < 1e-9);
  });

  test('video PSNR pools the MSE over all frames, so one identical frame does not make it infinite', () => {
    const x = constant(0, 4, 4);
    const a = constant(0.1, 4, 4);
    const b = constant(0.2, 4, 4);
    assert.ok(Math.abs(videoPsnr([a, b], [x, x]) - 10 * Math.log10(4 / ((0.01 + 0.04) / 2))) < 1e-4);
    assert.ok(Math.abs(videoPsnr([x, b], [x, x]) - 10 * Math.log10(4 / 0.02)) < 1e-4);
    assert.throws(() => videoPsnr([a], [x, x]), /1 frames vs 2 frames/);
  });
});
