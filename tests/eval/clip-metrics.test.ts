/** CLIP_tgt / CLIP_src / CLIP_TC from embeddings (vs torch's cosine_similarity), masking, and the embedder driver. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { oracleDir, oracleSkip } from '../helpers/oracle.js';
import type { Tensor } from '../../src/tensor.js';
import {
  clipSource, clipTarget, clipTemporal, computeClipMetrics, cosineSimilarity, maskImage,
} from '../../src/eval/clip-metrics.js';
import { maskFromFrame } from '../../src/eval/frames.js';

interface ClipOracle {
  edited: number[][];
  source: number[][];
  target: number[];
  clip_tgt: number;
  clip_src: number;
  clip_tc: number;
}

const f32 = (v: number[]): Float32Array => Float32Array.from(v);

/** A stand-in embedder: 2×2 block means of every channel, plus a constant so no embedding is zero. */
const blockEmbedder = {
  calls: 0,
  async embed(image: Tensor): Promise<Float32Array> {
    this.calls++;
    const [c, h, w] = image.dims;
    const out = new Float32Array(c * 4 + 1);
    for (let ch = 0; ch < c; ch++) {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
        out[ch * 4 + (y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1)] += image.data[ch * h * w + y * w + x] / ((h * w) / 4);
      }
    }
    out[c * 4] = 0.5;
    return out;
  },
};

function frame(fn: (c: number, y: number, x: number) => number, h = 6, w = 8): Tensor {
  const data = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[c * h * w + y * w + x] = fn(c, y, x);
  return { data, dims: [3, h, w] };
}

describe('cosine similarity', () => {
  test('parallel 1, orthogonal 0, opposite −1, zero vector 0 (torch eps convention)', () => {
    assert.ok(Math.abs(cosineSimilarity([1, 2, 3], [2, 4, 6]) - 1) < 1e-15);
    assert.equal(cosineSimilarity([1, 0], [0, 5]), 0);
    assert.ok(Math.abs(cosineSimilarity([1, -1], [-3, 3]) + 1) < 1e-15);
    assert.equal(cosineSimilarity([0, 0], [1, 1]), 0);
    assert.throws(() => cosineSimilarity([1], [1, 2]), /lengths/);
  });

  test('CLIP_tgt / CLIP_src / CLIP_TC match torch on random embeddings', { skip: oracleSkip('metrics') }, () => {
    const o = JSON.parse(readFileSync(path.join(oracleDir('metrics'), 'metrics.json'), 'utf8')).clip as ClipOracle;
    // Embeddings go through float32 here; the oracle used float64.
    assert.ok(Math.abs(clipTarget(o.edited.map(f32), f32(o.target)) - o.clip_tgt) < 1e-6);
    assert.ok(Math.abs(clipSource(o.edited.map(f32), o.source.map(f32)) - o.clip_src) < 1e-6);
    assert.ok(Math.abs(clipTemporal(o.edited.map(f32)) - o.clip_tc) < 1e-6);
  });

  test('hand-made embeddings', () => {
    const e = [f32([1, 0]), f32([0, 1]), f32([1, 1])];
    assert.ok(Math.abs(clipTarget(e, f32([1, 0])) - (1 + 0 + Math.SQRT1_2) / 3) < 1e-7);
    assert.ok(Math.abs(clipSource(e, [f32([2, 0]), f32([1, 0]), f32([-1, -1])]) - (1 + 0 - 1) / 3) < 1e-7);
    assert.ok(Math.abs(clipTemporal(e) - (0 + Math.SQRT1_2) / 2) < 1e-7);
    assert.throws(() => clipTemporal([e[0]]), /at least 2/);
    assert.throws(() => clipSource(e, e.slice(1)), /3 edited vs 2 source/);
  });
});

describe('masking', () => {
  const img = frame((c, y, x) => 0.1 * c + 0.05 * y - 0.02 * x + 0.3, 4, 4);
  const mask: Tensor = { data: Float32Array.from({ length: 16 }, (_, i) => (i % 4 < 2 ? 1 : i % 4 === 2 ? 0.5 : 0.49)), dims: [4, 4] };

  test('inside keeps mask ≥ 0.5 and greys the rest (0); outside is the complement', () => {
    const inside = maskImage(img, mask, 'inside');
    const outside = maskImage(img, mask, 'outside');
    for (let c = 0; c < 3; c++) {
      for (let i = 0; i < 16; i++) {
        const v = img.data[c * 16 + i];
        const edited = i % 4 < 3;
        assert.equal(inside.data[c * 16 + i], edited ? v : 0);
        assert.equal(outside.data[c * 16 + i], edited ? 0 : v);
      }
    }
    assert.deepEqual(maskImage(img, { data: mask.data, dims: [1, 4, 4] }, 'inside').data, inside.data);
    assert.equal(maskImage(img, mask, 'inside', -1).data[3], -1);
    assert.throws(() => maskImage(img, { data: new Float32Array(12), dims: [3, 4] }, 'inside'), /expected \[4, 4\]/);
  });

  test('maskFromFrame maps a white-on-black mask image to 1/0', () => {
    const m = maskFromFrame(frame((_c, _y, x) => (x < 2 ? 1 : -1), 2, 4));
    assert.deepEqual(Array.from(m.data), [1, 1, 0, 0, 1, 1, 0, 0]);
    assert.deepEqual(m.dims, [2, 4]);
  });
});

describe('computeClipMetrics', () => {
  const source = [0, 1, 2].map((t) => frame((c, y, x) => Math.sin(0.7 * x + 0.4 * y + t + c) * 0.8));
  const masks = [0, 1, 2].map((t): Tensor => {
    const data = new Float32Array(48);
    for (let y = 0; y < 6; y++) for (let x = 0; x < 8; x++) data[y * 8 + x] = x >= 2 + t && x < 5 + t && y < 3 ? 1 : 0;
    return { data, dims: [6, 8] };
  });

  test('an unedited video scores 1 everywhere (target = its first frame)', async () => {
    blockEmbedder.calls = 0;
    const s = await computeClipMetrics(blockEmbedder, { edited: source, source, target: source[0], masks });
    assert.ok(Math.abs(s.clipSrc - 1) < 1e-6);
    assert.ok(Math.abs((s.clipSrcPlus ?? NaN) - 1) < 1e-6);
    assert.ok(s.clipTgt < 1 && s.clipTC < 1);
    // Each image embedded once: 3 edited + 3 source + target, then 3 + 1 inside and 3 + 3 outside.
    assert.equal(blockEmbedder.calls, 17);
    const still = await computeClipMetrics(blockEmbedder, { edited: [source[0], source[0]], source: [source[0], source[0]], target: source[0] });
    assert.deepEqual([still.clipTgt, still.clipSrc, still.clipTC].map((v) => Math.abs(v - 1) < 1e-6), [true, true, true]);
    assert.equal(still.clipTgtPlus, undefined);
  });

  test('an edit inside a fixed mask lowers CLIP_src but not CLIP_src⁺; CLIP_tgt⁺ sees only the edit', async () => {
    const mask = [masks[1]];
    const edited = source.map((f) => maskImage(f, mask[0], 'outside', 0.9));
    const s = await computeClipMetrics(blockEmbedder, { edited, source, target: edited[0], masks: mask });
    assert.ok(s.clipSrc < 0.999, `CLIP_src ${s.clipSrc}`);
    assert.ok(Math.abs((s.clipSrcPlus ?? NaN) - 1) < 1e-6);
    // Inside the mask every edited frame is the same flat 0.9 patch, like the target's.
    assert.ok(Math.abs((s.clipTgtPlus ?? NaN) - 1) < 1e-6);
    assert.ok(s.clipTgt < 0.999);
  });
});
