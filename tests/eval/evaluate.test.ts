/**
 * The metric suite on small synthetic videos whose relations are known: an unchanged copy, copies with other motion,
 * a spatially shifted copy, a recoloured copy and an inserted static object.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/tensor.js';
import { evaluateEdit } from '../../src/eval/evaluate.js';
import { metricsToJson } from '../../src/eval/report.js';
import { makeTexture, movingVideo, renderFrame } from './synthetic.js';

const H = 64;
const W = 96;
const FRAMES = 5;
const textures = [makeTexture(11), makeTexture(12), makeTexture(13)];
const source = movingVideo(textures, FRAMES, H, W, 1, -0.5);

/** Block-mean embedder (4×4 blocks per channel, plus a constant): a deterministic stand-in for CLIP. */
const embedder = {
  async embed(image: Tensor): Promise<Float32Array> {
    const [c, h, w] = image.dims;
    const out = new Float32Array(c * 16 + 1);
    for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      out[ch * 16 + Math.floor((4 * y) / h) * 4 + Math.floor((4 * x) / w)] += image.data[ch * h * w + y * w + x];
    }
    out[c * 16] = 1;
    return out;
  },
};

function patchMask(x0: number, y0: number, size: number): Tensor {
  const data = new Float32Array(H * W);
  for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) data[y * W + x] = 1;
  return { data, dims: [H, W] };
}

describe('evaluateEdit', () => {
  test('an unchanged video: SSIM 1, PSNR ∞ (null in JSON), Flow 0, CLIP_src 1', async () => {
    const m = await evaluateEdit({ source, edited: source, target: source[0], embedder, masks: [patchMask(30, 20, 16)] });
    assert.equal(m.ssim, 1);
    assert.equal(m.psnr, Infinity);
    assert.equal(m.flow, 0);
    assert.equal(m.flowPlus, 0);
    assert.ok(Math.abs((m.clipSrc ?? NaN) - 1) < 1e-6 && Math.abs((m.clipSrcPlus ?? NaN) - 1) < 1e-6);
    const json = metricsToJson({ ...m });
    assert.equal(json.metrics.psnr, null);
    assert.equal(json.notes.length, 1);
  });

  test('an unchanged still video: every CLIP similarity is 1', async () => {
    const still = Array.from({ length: 3 }, () => source[0]);
    const m = await evaluateEdit({ source: still, edited: still, target: still[0], embedder, masks: [patchMask(30, 20, 16)] });
    for (const v of [m.clipTgt, m.clipTgtPlus, m.clipSrc, m.clipSrcPlus, m.clipTC]) assert.ok(Math.abs((v ?? NaN) - 1) < 1e-6, `${v}`);
    assert.equal(m.flow, 0);
  });

  test('other motion (a copy shifted further each frame) raises Flow and lowers SSIM', async (t) => {
    const faster = movingVideo(textures, FRAMES, H, W, 2, -0.5);
    const m = await evaluateEdit({ source, edited: faster });
    t.diagnostic(`Flow ${m.flow?.toFixed(3)} px (expected ≈ 1), SSIM ${m.ssim.toFixed(3)}, PSNR ${m.psnr.toFixed(2)} dB`);
    assert.ok(Math.abs((m.flow ?? NaN) - 1) < 0.15, `Flow ${m.flow}`);
    assert.ok(m.ssim < 0.9);
  });

  test('a copy shifted by a constant 3 px: SSIM drops, Flow stays ≈ 0 (same motion)', async (t) => {
    // Frame t of the source shows the texture at (x − t, y + 0.5t); the copy adds 3 px to the right.
    const copy = source.map((_, i) => renderFrame(textures, H, W, (x, y) => [x - i - 3, y + 0.5 * i]));
    const m = await evaluateEdit({ source, edited: copy });
    t.diagnostic(`Flow ${m.flow?.toFixed(4)} px, SSIM ${m.ssim.toFixed(3)}`);
    assert.ok(m.ssim < 0.8);
    assert.ok((m.flow ?? NaN) < 0.1, `Flow ${m.flow}`);
  });

  test('a recoloured copy: SSIM and PSNR drop, Flow stays ≈ 0', async (t) => {
    const gains = [0.6, 0.9, 1.1];
    const offsets = [0.2, -0.1, 0];
    const plane = H * W;
    const recoloured = source.map((f): Tensor => ({
      data: f.data.map((v, i) => gains[Math.floor(i / plane)] * v + offsets[Math.floor(i / plane)]),
      dims: f.dims,
    }));
    const m = await evaluateEdit({ source, edited: recoloured });
    t.diagnostic(`Flow ${m.flow?.toFixed(4)} px, SSIM ${m.ssim.toFixed(3)}, PSNR ${m.psnr.toFixed(2)} dB`);
    assert.ok(m.ssim < 0.95 && m.psnr < 30);
    assert.ok((m.flow ?? NaN) < 0.02, `Flow ${m.flow}`);
  });

  test('a static object pasted inside the mask: Flow⁺ (outside) stays small, Flow counts the object', async (t) => {
    const mask = patchMask(32, 16, 24);
    const plane = H * W;
    const edited = source.map((f): Tensor => ({
      data: f.data.map((v, i) => (mask.data[i % plane] >= 0.5 ? 0.6 * Math.sin((i % plane) * 0.05) : v)),
      dims: f.dims,
    }));
    const m = await evaluateEdit({ source, edited, masks: [mask] });
    t.diagnostic(`Flow ${m.flow?.toFixed(3)} px, Flow⁺ ${m.flowPlus?.toFixed(3)} px`);
    assert.ok((m.flowPlus ?? NaN) < 0.5 * (m.flow ?? NaN), `Flow⁺ ${m.flowPlus} vs Flow ${m.flow}`);
  });

  test('inputs are checked', async () => {
    await assert.rejects(evaluateEdit({ source, edited: source.slice(1) }), /5 frames vs 4 frames|4 frames vs 5 frames/);
    await assert.rejects(evaluateEdit({ source, edited: source, embedder }), /need the target image/);
    await assert.rejects(evaluateEdit({ source, edited: source, masks: [patchMask(0, 0, 2), patchMask(0, 0, 2)] }), /2 masks for 5 frames/);
  });
});
