/** Small helpers on video latents [1, F, C, h, w] (diffusers' BTCHW with a batch of one). */
import type { Tensor } from '../tensor.js';

export interface LatentShape {
  readonly frames: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export function latentShape(t: Tensor, what = 'latents'): LatentShape {
  if (t.dims.length !== 5 || t.dims[0] !== 1) {
    throw new RangeError(`${what}: expected [1, frames, channels, h, w], got [${t.dims.join(', ')}]`);
  }
  const [, frames, channels, height, width] = t.dims;
  return { frames, channels, height, width };
}

export function latentDims(s: LatentShape): number[] {
  return [1, s.frames, s.channels, s.height, s.width];
}

export interface MeanStd {
  readonly mean: number;
  readonly std: number;
}

/**
 * Mean and unbiased (N − 1) standard deviation, torch's default, accumulated in float64 over the values
 * `data[offset + i·stride + j]` for i < count, j < run. A single value has std 0 (torch would give NaN).
 */
export function meanStd(data: Float32Array, offset = 0, run = data.length, count = 1, stride = run): MeanStd {
  const n = run * count;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const base = offset + i * stride;
    for (let j = 0; j < run; j++) sum += data[base + j];
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < count; i++) {
    const base = offset + i * stride;
    for (let j = 0; j < run; j++) ss += (data[base + j] - mean) ** 2;
  }
  return { mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : 0 };
}

/** How many values are NaN or ±∞. */
export function countNonFinite(data: Float32Array): number {
  let n = 0;
  for (const v of data) if (!Number.isFinite(v)) n++;
  return n;
}
