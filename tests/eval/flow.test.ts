/**
 * Farnebäck optical flow on synthetic frames with known motion (an analytic texture rendered at exact sub-pixel
 * positions), and the end-point error that turns flows into Flow / Flow⁺.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/tensor.js';
import { opticalFlow, videoFlows } from '../../src/image/flow.js';
import { endPointError, videoFlowError } from '../../src/eval/epe.js';
import { makeTexture, movingVideo, renderFrame } from './synthetic.js';

const H = 96;
const W = 128;
const MARGIN = 16;
const textures = [makeTexture(1), makeTexture(2), makeTexture(3)];
const prev = renderFrame(textures, H, W);

/** Mean and max end-point error against the true flow over the interior (MARGIN px from every side). */
function interiorError(flow: Tensor, truth: (x: number, y: number) => [number, number]): { mean: number; max: number } {
  const [, h, w] = flow.dims;
  const n = h * w;
  let sum = 0, max = 0, count = 0;
  for (let y = MARGIN; y < h - MARGIN; y++) {
    for (let x = MARGIN; x < w - MARGIN; x++) {
      const [u, v] = truth(x, y);
      const e = Math.hypot(flow.data[y * w + x] - u, flow.data[n + y * w + x] - v);
      sum += e;
      max = Math.max(max, e);
      count++;
    }
  }
  return { mean: sum / count, max };
}

function constantFlow(h: number, w: number, u: number, v: number): Tensor {
  const data = new Float32Array(2 * h * w);
  data.fill(u, 0, h * w);
  data.fill(v, h * w);
  return { data, dims: [2, h, w] };
}

describe('Farnebäck flow', () => {
  test('sub-pixel shift (1.5, −2) is recovered to < 0.1 px in the interior', (t) => {
    const next = renderFrame(textures, H, W, (x, y) => [x - 1.5, y + 2]);
    const flow = opticalFlow(prev, next);
    assert.deepEqual(flow.dims, [2, H, W]);
    const err = interiorError(flow, () => [1.5, -2]);
    t.diagnostic(`mean error ${err.mean.toFixed(4)} px, max ${err.max.toFixed(4)} px`);
    assert.ok(err.mean < 0.1, `mean error ${err.mean}`);
    assert.ok(err.max < 0.2, `max error ${err.max}`);
  });

  test('a larger shift (7.3, 4.6) goes through the pyramid', (t) => {
    const next = renderFrame(textures, H, W, (x, y) => [x - 7.3, y - 4.6]);
    const err = interiorError(opticalFlow(prev, next), () => [7.3, 4.6]);
    t.diagnostic(`mean error ${err.mean.toFixed(4)} px`);
    assert.ok(err.mean < 0.1, `mean error ${err.mean}`);
  });

  test('rotation by 2° about the centre: the rotation field and its angle', (t) => {
    const th = (2 * Math.PI) / 180;
    const c = Math.cos(th), s = Math.sin(th), cx = (W - 1) / 2, cy = (H - 1) / 2;
    // next shows prev rotated by θ: next(p) = prev(R⁻¹(p − centre) + centre).
    const next = renderFrame(textures, H, W, (x, y) => [c * (x - cx) + s * (y - cy) + cx, -s * (x - cx) + c * (y - cy) + cy]);
    const flow = opticalFlow(prev, next);
    const err = interiorError(flow, (x, y) => [c * (x - cx) - s * (y - cy) + cx - x, s * (x - cx) + c * (y - cy) + cy - y]);
    // Least-squares angle of the interior field, flow ≈ θ·(−(y − cy), x − cx).
    let num = 0, den = 0;
    const n = H * W;
    for (let y = MARGIN; y < H - MARGIN; y++) {
      for (let x = MARGIN; x < W - MARGIN; x++) {
        num += -(y - cy) * flow.data[y * W + x] + (x - cx) * flow.data[n + y * W + x];
        den += (x - cx) ** 2 + (y - cy) ** 2;
      }
    }
    const degrees = ((num / den) * 180) / Math.PI;
    t.diagnostic(`mean error ${err.mean.toFixed(4)} px, recovered angle ${degrees.toFixed(4)}°`);
    // A translation-only local model sees the texture itself rotate: ~0.04 px of error per degree here.
    assert.ok(err.mean < 0.15, `mean error ${err.mean}`);
    assert.ok(Math.abs(degrees - 2) < 0.05, `angle ${degrees}`);
  });

  test('no motion gives (almost exactly) zero flow', () => {
    const flow = opticalFlow(prev, prev);
    let max = 0;
    for (const v of flow.data) max = Math.max(max, Math.abs(v));
    assert.ok(max < 1e-3, `max |flow| ${max}`);
  });

  test('the same affine recolouring of both frames leaves the flow unchanged', () => {
    const next = renderFrame(textures, H, W, (x, y) => [x - 1.5, y + 2]);
    const recolour = (f: Tensor): Tensor => ({ data: f.data.map((v, i) => (i < H * W ? 0.7 * v - 0.1 : 0.9 * v + 0.05)), dims: f.dims });
    const a = opticalFlow(prev, next);
    const b = opticalFlow(recolour(prev), recolour(next));
    assert.ok(endPointError(a, b) < 0.01, `EPE ${endPointError(a, b)}`);
  });

  test('downscale estimates on a shrunk grid but reports input pixels', (t) => {
    const next = renderFrame([makeTexture(4, 16, 14, 50)], H, W, (x, y) => [x - 3, y + 2]);
    const base = renderFrame([makeTexture(4, 16, 14, 50)], H, W);
    const flow = opticalFlow(base, next, { downscale: 2 });
    assert.deepEqual(flow.dims, [2, H / 2, W / 2]);
    let u = 0, v = 0;
    const n = (H / 2) * (W / 2);
    for (let i = 0; i < n; i++) {
      u += flow.data[i] / n;
      v += flow.data[n + i] / n;
    }
    t.diagnostic(`mean flow (${u.toFixed(3)}, ${v.toFixed(3)})`);
    assert.ok(Math.abs(u - 3) < 0.15 && Math.abs(v + 2) < 0.15, `(${u}, ${v})`);
  });

  test('videoFlows: n frames → n − 1 flows, each the per-frame motion', () => {
    const frames = movingVideo(textures, 4, 64, 80, 1.25, -0.5);
    const flows = videoFlows(frames);
    assert.equal(flows.length, 3);
    for (const f of flows) {
      const [, h, w] = f.dims;
      let u = 0, v = 0, count = 0;
      for (let y = 12; y < h - 12; y++) for (let x = 12; x < w - 12; x++) {
        u += f.data[y * w + x];
        v += f.data[h * w + y * w + x];
        count++;
      }
      assert.ok(Math.abs(u / count - 1.25) < 0.05 && Math.abs(v / count + 0.5) < 0.05, `(${u / count}, ${v / count})`);
    }
    // The pairwise function agrees with the shared-pyramid path.
    const direct = opticalFlow(frames[1], frames[2]);
    assert.deepEqual(direct.data, flows[1].data);
  });
});

describe('end-point error', () => {
  test('constant flows: the length of the difference; identical flows: 0', () => {
    const a = constantFlow(5, 6, 1, 2);
    const b = constantFlow(5, 6, 4, -2);
    assert.equal(endPointError(a, b), 5);
    assert.equal(endPointError(a, a), 0);
  });

  test('a mask restricts the average to pixels with mask < 0.5', () => {
    const a = constantFlow(2, 2, 0, 0);
    const b: Tensor = { data: new Float32Array([3, 0, 0, 0, 4, 0, 1, 0]), dims: [2, 2, 2] };
    // Per-pixel errors: 5, 0, 1, 0.
    assert.equal(endPointError(a, b), 1.5);
    const mask: Tensor = { data: new Float32Array([0.9, 0.5, 0.2, 0]), dims: [2, 2] };
    assert.equal(endPointError(a, b, mask), 0.5);
    const all: Tensor = { data: new Float32Array([1, 1, 1, 1]), dims: [1, 2, 2] };
    assert.ok(Number.isNaN(endPointError(a, b, all)));
    assert.throws(() => endPointError(a, constantFlow(2, 3, 0, 0)), /differ/);
  });

  test('videoFlowError averages pairs; one mask can serve every pair; a mask on a shrunk grid is resized', () => {
    const src = [constantFlow(4, 4, 0, 0), constantFlow(4, 4, 0, 0)];
    const edit = [constantFlow(4, 4, 3, 4), constantFlow(4, 4, 0, 1)];
    assert.equal(videoFlowError(src, edit), 3);
    const mask: Tensor = { data: new Float32Array(64), dims: [8, 8] };
    assert.equal(videoFlowError(src, edit, [mask]), 3);
    assert.throws(() => videoFlowError(src, edit.slice(1)), /2 source flows vs 1 edited/);
  });
});
