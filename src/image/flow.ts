/**
 * Dense optical flow: Gunnar Farnebäck's two-frame polynomial-expansion method ("Two-Frame Motion Estimation Based on
 * Polynomial Expansion", SCIA 2003), pyramidal, following OpenCV's calcOpticalFlowFarneback with a box window
 * (flags = 0). The paper measured motion with RAFT; this classical estimator stands in for it, so absolute Flow
 * numbers are not comparable with the paper's tables, only between videos scored here.
 *
 * Per pyramid level (coarse to fine; level k has scale s = pyrScale^k and the low-pass of OpenCV's Gaussian with
 * σ = (1/s − 1)/2, applied here as a cascade from the level below), each frame is expanded into local quadratics
 * f ≈ xᵀAx + bᵀx + c (poly-expansion.ts). A motion d turns b₁ into b₂ = b₁ − 2A·d, so with the current flow d₀,
 * A·d = (b₁(x) − b₂(x + d₀))/2 + A·d₀ with A the mean of both frames' A; the normal equations of that system are
 * averaged over a winSize² box and solved, `iterations` times. Pixels within 5 of the border get OpenCV's reduced
 * weights. Pixels whose displaced position leaves the frame get no weight (OpenCV instead takes the second frame's
 * b as 0 there, which puts spurious flow on the last row and column even between identical frames). The coarser
 * level's flow, upsampled and scaled by 1/pyrScale, seeds the next.
 *
 * Convention: flow[·, y, x] = (dx, dy) in pixels with prev(x, y) ≈ next(x + dx, y + dy); channel 0 is horizontal.
 * Speed: each frame's pyramid expansion is computed once and shared by its two neighbouring pairs; `downscale`
 * (default 1) estimates on frames shrunk by that factor: the flow then lies on the shrunk grid but its vectors are
 * rescaled to the input frames' pixels. Measured on this 2-core machine (shared, loaded): one 14-frame 576×1024 video
 * takes ≈ 5 s at downscale 1 and ≈ 1.5 s at downscale 2 (bench/eval-metrics.ts); Flow needs two videos.
 */
import type { Tensor } from '../tensor.js';
import { boxBlurInterleaved, gaussianBlur, resizeBilinear, toGray255 } from './image-ops.js';
import { POLY_COEFFS as COEFFS, polyExpansion } from './poly-expansion.js';

export interface FlowOptions {
  /** Scale between pyramid levels (OpenCV pyr_scale; default 0.5). */
  readonly pyrScale?: number;
  /** Coarser levels on top of the full-resolution one (default 5), fewer if a side would drop below 32 px. */
  readonly levels?: number;
  /** Side of the averaging window (default 15). */
  readonly winSize?: number;
  /** Flow updates per level (default 3). */
  readonly iterations?: number;
  /** Neighbourhood radius of the polynomial expansion (default 5). */
  readonly polyN?: number;
  /** σ of the expansion's Gaussian weights (default 1.1, OpenCV's advice for polyN = 5). */
  readonly polySigma?: number;
  /** Estimate on frames shrunk by this factor (default 1 = full resolution). */
  readonly downscale?: number;
}

export const FLOW_METHOD = 'Farnebäck polynomial-expansion optical flow (pyramidal, OpenCV-style; the paper used RAFT)';

const DEFAULTS: Required<FlowOptions> = {
  pyrScale: 0.5, levels: 5, winSize: 15, iterations: 3, polyN: 5, polySigma: 1.1, downscale: 1,
};
const MIN_SIZE = 32;
/** Coefficients per pixel, as a module-local constant: an imported binding costs a getter call in hot loops. */
const POLY_COEFFS: number = COEFFS;
const BORDER_WEIGHTS = [0.14, 0.14, 0.4472, 0.4472, 0.4472];

/** One frame's pyramid: the expansion of every level, finest first. */
export interface FlowPyramid {
  readonly levels: readonly { readonly height: number; readonly width: number; readonly poly: Float32Array }[];
}

function resolve(opts: FlowOptions): Required<FlowOptions> {
  const o = { ...DEFAULTS, ...opts };
  if (!(o.pyrScale > 0 && o.pyrScale < 1)) throw new Error(`flow: pyrScale must be in (0, 1), got ${o.pyrScale}`);
  for (const k of ['levels', 'winSize', 'iterations', 'polyN'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < (k === 'levels' ? 0 : 1)) throw new Error(`flow: ${k} must be a positive integer`);
  }
  if (!(o.polySigma > 0)) throw new Error('flow: polySigma must be positive');
  if (!(o.downscale >= 1)) throw new Error('flow: downscale must be ≥ 1');
  return o;
}

/** Grey [H,W] image in [0, 255] of a [3,H,W] frame in [-1, 1], shrunk by `downscale`. */
function flowInput(frame: Tensor, downscale: number): Tensor {
  const gray = toGray255(frame);
  if (downscale === 1) return gray;
  const [h, w] = gray.dims;
  const sigma = (downscale - 1) / 2;
  const blurred = gaussianBlur(gray, Math.max(3, Math.round(sigma * 5) | 1), sigma);
  return resizeBilinear(blurred, Math.max(1, Math.round(h / downscale)), Math.max(1, Math.round(w / downscale)));
}

/** Number of coarser levels that keep both sides ≥ 32 px (as OpenCV). */
function levelCount(height: number, width: number, o: Required<FlowOptions>): number {
  let k = 0;
  let scale = 1;
  while (k < o.levels) {
    scale *= o.pyrScale;
    if (width * scale < MIN_SIZE || height * scale < MIN_SIZE) break;
    k++;
  }
  return k;
}

/** Expand a grey [H,W] image (values in [0, 255]) at every pyramid level. */
export function flowPyramid(gray: Tensor, opts: FlowOptions = {}): FlowPyramid {
  const o = resolve(opts);
  const [height, width] = gray.dims;
  if (height < 8 || width < 8) throw new Error(`flow: frames of ${height}×${width} are too small (8×8 at least)`);
  const levels = [];
  let img = gray;
  let sigmaDone = 0;
  for (let k = 0; k <= levelCount(height, width, o); k++) {
    const scale = o.pyrScale ** k;
    if (k > 0) {
      // OpenCV blurs the full frame with σ = (1/s − 1)/2 before resizing it by s; blurring the previous level by
      // the missing variance (in that level's pixels) is the same low-pass at a fraction of the cost.
      const sigmaFull = (1 / scale - 1) * 0.5;
      const prevScale = o.pyrScale ** (k - 1);
      const sigma = Math.sqrt(sigmaFull ** 2 - sigmaDone ** 2) * prevScale;
      const size = Math.max(3, Math.round(sigma * 5) | 1);
      img = resizeBilinear(gaussianBlur(img, size, sigma), Math.round(height * scale), Math.round(width * scale));
      sigmaDone = sigmaFull;
    }
    levels.push({ height: img.dims[0], width: img.dims[1], poly: polyExpansion(img, o.polyN, o.polySigma) });
  }
  return { levels };
}

/** Flow [2,H,W] from `prev` to `next`, both already expanded with the same options. */
export function flowFromPyramids(prev: FlowPyramid, next: FlowPyramid, opts: FlowOptions = {}): Tensor {
  const o = resolve(opts);
  if (prev.levels.length !== next.levels.length || prev.levels[0].height !== next.levels[0].height ||
    prev.levels[0].width !== next.levels[0].width) {
    throw new Error('flow: the two frames differ in size');
  }
  let flow: Float32Array | undefined;
  let fh = 0, fw = 0;
  for (let k = prev.levels.length - 1; k >= 0; k--) {
    const { height, width, poly: r0 } = prev.levels[k];
    const r1 = next.levels[k].poly;
    // Interleaved (dx, dy) per pixel.
    const cur = new Float32Array(height * width * 2);
    if (flow) upsampleFlow(flow, fh, fw, cur, height, width, 1 / o.pyrScale);
    const m = new Float32Array(height * width * POLY_COEFFS);
    updateMatrices(r0, r1, cur, m, height, width);
    for (let i = 0; i < o.iterations; i++) {
      solveFlow(boxBlurInterleaved(m, height, width, POLY_COEFFS, o.winSize), cur, height, width);
      if (i < o.iterations - 1) updateMatrices(r0, r1, cur, m, height, width);
    }
    flow = cur;
    fh = height;
    fw = width;
  }
  return toPlanar(flow as Float32Array, fh, fw);
}

/** Flow [2,H,W] between two frames [3,H,W] in [-1, 1]. */
export function opticalFlow(prev: Tensor, next: Tensor, opts: FlowOptions = {}): Tensor {
  const o = resolve(opts);
  const flow = flowFromPyramids(flowPyramid(flowInput(prev, o.downscale), o), flowPyramid(flowInput(next, o.downscale), o), o);
  return toInputPixels(flow, prev.dims[2]);
}

/** Flows [2,H,W] between consecutive frames: n frames give n − 1 flows (t → t+1). */
export function videoFlows(frames: readonly Tensor[], opts: FlowOptions = {}): Tensor[] {
  const o = resolve(opts);
  const flows: Tensor[] = [];
  let prev: FlowPyramid | undefined;
  for (const frame of frames) {
    const cur = flowPyramid(flowInput(frame, o.downscale), o);
    if (prev) flows.push(toInputPixels(flowFromPyramids(prev, cur, o), frame.dims[2]));
    prev = cur;
  }
  return flows;
}

/** A flow estimated on shrunk frames, its vectors rescaled to the input's pixels (the grid stays shrunk). */
function toInputPixels(flow: Tensor, inputWidth: number): Tensor {
  const gain = inputWidth / flow.dims[2];
  if (gain === 1) return flow;
  const data = flow.data.map((v) => v * gain);
  return { data, dims: flow.dims };
}

function upsampleFlow(src: Float32Array, sh: number, sw: number, dst: Float32Array, h: number, w: number,
  gain: number): void {
  for (let c = 0; c < 2; c++) {
    const plane = new Float32Array(sh * sw);
    for (let i = 0; i < plane.length; i++) plane[i] = src[2 * i + c];
    const up = resizeBilinear({ data: plane, dims: [sh, sw] }, h, w).data;
    for (let i = 0; i < up.length; i++) dst[2 * i + c] = up[i] * gain;
  }
}

function toPlanar(flow: Float32Array, h: number, w: number): Tensor {
  const n = h * w;
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[i] = flow[2 * i];
    out[n + i] = flow[2 * i + 1];
  }
  return { data: out, dims: [2, h, w] };
}

/** Per pixel, the normal equations (AᵀA, AᵀΔb) of A·d = Δb at the current flow, packed as (g11, g12, g22, h1, h2). */
function updateMatrices(r0: Float32Array, r1: Float32Array, flow: Float32Array, m: Float32Array,
  height: number, width: number): void {
  const stride = width * POLY_COEFFS;
  const border = BORDER_WEIGHTS.length;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      const dx = flow[2 * p];
      const dy = flow[2 * p + 1];
      const q = p * POLY_COEFFS;
      const fx = x + dx;
      const fy = y + dy;
      if (!(fx >= 0 && fy >= 0 && fx <= width - 1 && fy <= height - 1)) {
        // The displaced point left the second frame: no evidence here (OpenCV would pretend its b is 0, which
        // biases the flow at the right and bottom edges even for identical frames).
        m.fill(0, q, q + POLY_COEFFS);
        continue;
      }
      const x1 = Math.min(Math.floor(fx), width - 2);
      const y1 = Math.min(Math.floor(fy), height - 2);
      const wx = fx - x1;
      const wy = fy - y1;
      const a00 = (1 - wx) * (1 - wy), a01 = wx * (1 - wy), a10 = (1 - wx) * wy, a11 = wx * wy;
      const s0 = y1 * stride + x1 * POLY_COEFFS;
      const s1 = s0 + POLY_COEFFS;
      const t0 = s0 + stride;
      const t1 = t0 + POLY_COEFFS;
      const bx = a00 * r1[s0] + a01 * r1[s1] + a10 * r1[t0] + a11 * r1[t1];
      const by = a00 * r1[s0 + 1] + a01 * r1[s1 + 1] + a10 * r1[t0 + 1] + a11 * r1[t1 + 1];
      let axx = (r0[q + 2] + a00 * r1[s0 + 2] + a01 * r1[s1 + 2] + a10 * r1[t0 + 2] + a11 * r1[t1 + 2]) * 0.5;
      let ayy = (r0[q + 3] + a00 * r1[s0 + 3] + a01 * r1[s1 + 3] + a10 * r1[t0 + 3] + a11 * r1[t1 + 3]) * 0.5;
      let axy = (r0[q + 4] + a00 * r1[s0 + 4] + a01 * r1[s1 + 4] + a10 * r1[t0 + 4] + a11 * r1[t1 + 4]) * 0.25;
      let db1 = (r0[q] - bx) * 0.5 + axx * dx + axy * dy;
      let db2 = (r0[q + 1] - by) * 0.5 + axy * dx + ayy * dy;
      if (x < border || y < border || x >= width - border || y >= height - border) {
        const w = (x < border ? BORDER_WEIGHTS[x] : 1) * (x >= width - border ? BORDER_WEIGHTS[width - x - 1] : 1) *
          (y < border ? BORDER_WEIGHTS[y] : 1) * (y >= height - border ? BORDER_WEIGHTS[height - y - 1] : 1);
        db1 *= w;
        db2 *= w;
        axx *= w;
        ayy *= w;
        axy *= w;
      }
      m[q] = axx * axx + axy * axy;
      m[q + 1] = (axx + ayy) * axy;
      m[q + 2] = ayy * ayy + axy * axy;
      m[q + 3] = axx * db1 + axy * db2;
      m[q + 4] = axy * db1 + ayy * db2;
    }
  }
}

/** Solve the window-averaged 2×2 systems for the new flow (OpenCV's 1e-3 keeps flat regions finite). */
function solveFlow(avg: Float32Array, flow: Float32Array, height: number, width: number): void {
  const n = height * width;
  for (let p = 0; p < n; p++) {
    const q = p * POLY_COEFFS;
    const g11 = avg[q], g12 = avg[q + 1], g22 = avg[q + 2], h1 = avg[q + 3], h2 = avg[q + 4];
    const idet = 1 / (g11 * g22 - g12 * g12 + 1e-3);
    flow[2 * p] = (g22 * h1 - g12 * h2) * idet;
    flow[2 * p + 1] = (g11 * h2 - g12 * h1) * idet;
  }
}
