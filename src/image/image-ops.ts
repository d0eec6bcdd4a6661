/**
 * Single-channel image operations for the optical flow: grey conversion, Gaussian blur and bilinear resize with
 * OpenCV's conventions (cv::cvtColor RGB2GRAY weights, cv::GaussianBlur with BORDER_REFLECT_101, cv::resize
 * INTER_LINEAR with half-pixel centres), and a box filter for interleaved multi-channel planes.
 * An image is a Tensor [H,W] (channels interleaved in the last axis when noted).
 */
import type { Tensor } from '../tensor.js';
import { frameSize } from './frame-size.js';

/** ITU-R BT.601 luma weights, as cv::cvtColor(RGB2GRAY). */
const LUMA = [0.299, 0.587, 0.114] as const;

/** A [3,H,W] frame in [-1, 1] (or a [1,H,W] one) → grey [H,W] in [0, 255], the scale OpenCV's flow expects. */
export function toGray255(frame: Tensor): Tensor {
  const { channels, height, width } = frameSize(frame);
  if (channels !== 3 && channels !== 1) throw new Error(`toGray255: expected 1 or 3 channels, got ${channels}`);
  const plane = height * width;
  const out = new Float32Array(plane);
  const d = frame.data;
  if (channels === 1) {
    for (let i = 0; i < plane; i++) out[i] = (d[i] + 1) * 127.5;
  } else {
    for (let i = 0; i < plane; i++) {
      out[i] = (LUMA[0] * d[i] + LUMA[1] * d[plane + i] + LUMA[2] * d[2 * plane + i] + 1) * 127.5;
    }
  }
  return { data: out, dims: [height, width] };
}

/** cv::getGaussianKernel(size, sigma). */
export function gaussianKernel(size: number, sigma: number): Float64Array {
  const k = new Float64Array(size);
  const mid = (size - 1) / 2;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    k[i] = Math.exp(-((i - mid) ** 2) / (2 * sigma * sigma));
    sum += k[i];
  }
  for (let i = 0; i < size; i++) k[i] /= sum;
  return k;
}

/** Index into [0, n) with BORDER_REFLECT_101 (…c b | a b c d | c b…). */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
  return i;
}

/** Separable Gaussian blur of a [H,W] image, border reflect-101 (cv::GaussianBlur). */
export function gaussianBlur(img: Tensor, size: number, sigma: number): Tensor {
  const [height, width] = img.dims;
  const k = gaussianKernel(size, sigma);
  const r = (size - 1) / 2;
  const tmp = new Float32Array(height * width);
  const src = img.data;
  // Column indices with borders resolved once.
  const cols = new Int32Array(width + 2 * r);
  for (let i = 0; i < cols.length; i++) cols[i] = reflect101(i - r, width);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let j = 0; j < size; j++) s += k[j] * src[row + cols[x + j]];
      tmp[row + x] = s;
    }
  }
  const out = new Float32Array(height * width);
  const acc = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    acc.fill(0);
    for (let j = 0; j < size; j++) {
      const row = reflect101(y + j - r, height) * width;
      const kj = k[j];
      for (let x = 0; x < width; x++) acc[x] += kj * tmp[row + x];
    }
    out.set(acc, y * width);
  }
  return { data: out, dims: [height, width] };
}

/** Source index and weight of each output position for INTER_LINEAR (half-pixel centres, clamped at the edges). */
function linearTaps(outN: number, inN: number): { i0: Int32Array; i1: Int32Array; w1: Float64Array } {
  const scale = inN / outN;
  const i0 = new Int32Array(outN);
  const i1 = new Int32Array(outN);
  const w1 = new Float64Array(outN);
  for (let o = 0; o < outN; o++) {
    let s = (o + 0.5) * scale - 0.5;
    if (s < 0) s = 0;
    let f = Math.floor(s);
    let w = s - f;
    if (f >= inN - 1) {
      f = inN - 1;
      w = 0;
    }
    i0[o] = f;
    i1[o] = Math.min(f + 1, inN - 1);
    w1[o] = w;
  }
  return { i0, i1, w1 };
}

/** Bilinear resize of a [H,W] image to [outH,outW] (cv::resize INTER_LINEAR, no antialiasing). */
export function resizeBilinear(img: Tensor, outH: number, outW: number): Tensor {
  const [height, width] = img.dims;
  const xs = linearTaps(outW, width);
  const ys = linearTaps(outH, height);
  const src = img.data;
  const out = new Float32Array(outH * outW);
  for (let y = 0; y < outH; y++) {
    const r0 = ys.i0[y] * width;
    const r1 = ys.i1[y] * width;
    const wy = ys.w1[y];
    for (let x = 0; x < outW; x++) {
      const a = xs.i0[x];
      const b = xs.i1[x];
      const wx = xs.w1[x];
      const top = src[r0 + a] + wx * (src[r0 + b] - src[r0 + a]);
      const bottom = src[r1 + a] + wx * (src[r1 + b] - src[r1 + a]);
      out[y * outW + x] = top + wy * (bottom - top);
    }
  }
  return { data: out, dims: [outH, outW] };
}

/**
 * Mean over a size×size window of every channel of an interleaved [H,W,C] plane, replicating the border
 * (what Farnebäck's box-window flow update averages). Running sums keep it O(1) per pixel.
 */
export function boxBlurInterleaved(src: Float32Array, height: number, width: number, channels: number,
  size: number): Float32Array {
  const r = size >> 1;
  const inv = 1 / (size * size);
  const rowStride = width * channels;
  // Vertical window sums, one running sum per column and channel.
  const vert = new Float32Array(src.length);
  const run = new Float64Array(rowStride);
  for (let j = -r; j <= r; j++) {
    const row = Math.min(Math.max(j, 0), height - 1) * rowStride;
    for (let i = 0; i < rowStride; i++) run[i] += src[row + i];
  }
  for (let y = 0; y < height; y++) {
    vert.set(run, y * rowStride);
    const add = Math.min(y + r + 1, height - 1) * rowStride;
    const drop = Math.max(y - r, 0) * rowStride;
    for (let i = 0; i < rowStride; i++) run[i] += src[add + i] - src[drop + i];
  }
  // Horizontal window sums along each row, one channel at a time with a scalar running sum.
  const out = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    const row = y * rowStride;
    for (let c = 0; c < channels; c++) {
      const base = row + c;
      let acc = 0;
      for (let j = -r; j <= r; j++) acc += vert[base + Math.min(Math.max(j, 0), width - 1) * channels];
      for (let x = 0; x < width; x++) {
        out[base + x * channels] = acc * inv;
        const add = x + r + 1 < width ? x + r + 1 : width - 1;
        const drop = x - r > 0 ? x - r : 0;
        acc += vert[base + add * channels] - vert[base + drop * channels];
      }
    }
  }
  return out;
}
