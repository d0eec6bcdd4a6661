/**
 * The edit mask on the latent grid. A latent cell mixes the VAE's downscale × downscale pixels (and their
 * neighbours, through the encoder's receptive field), so a cell counts as edited when any of its pixels is:
 * max-pooling, not averaging, so that the old object's latents never leak in from a half-covered cell.
 */
import type { Tensor } from '../tensor.js';

/**
 * [F, 1, H, W] pixel mask in [0, 1] → latent mask [F·h·w] (frame-major, h = H/downscale), the max over each
 * downscale × downscale cell, then dilated by `dilate` cells (a (2·dilate+1)² max filter, per frame).
 */
export function latentMask(mask: Tensor, downscale: number, dilate = 0): Float32Array {
  const [F, one, H, W] = mask.dims;
  if (mask.dims.length !== 4 || one !== 1) throw new RangeError(`editMask must be [frames, 1, H, W], got [${mask.dims.join(', ')}]`);
  if (!Number.isInteger(downscale) || downscale < 1 || H % downscale !== 0 || W % downscale !== 0) {
    throw new RangeError(`editMask size ${W}×${H} must be a multiple of ${downscale}`);
  }
  if (!Number.isInteger(dilate) || dilate < 0) throw new RangeError(`dilate must be a non-negative integer, got ${dilate}`);
  const h = H / downscale, w = W / downscale;
  const pooled = new Float32Array(F * h * w);
  for (let f = 0; f < F; f++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const v = mask.data[(f * H + y) * W + x];
        const k = (f * h + Math.floor(y / downscale)) * w + Math.floor(x / downscale);
        if (v > pooled[k]) pooled[k] = Math.min(1, v);
      }
    }
  }
  return dilate > 0 ? dilateMask(pooled, F, h, w, dilate) : pooled;
}

/** Per-frame (2r+1)² max filter of a [F·h·w] mask. */
export function dilateMask(mask: Float32Array, frames: number, h: number, w: number, r: number): Float32Array {
  const out = new Float32Array(mask.length);
  for (let f = 0; f < frames; f++) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let m = 0;
        for (let dy = Math.max(0, y - r); dy <= Math.min(h - 1, y + r); dy++) {
          for (let dx = Math.max(0, x - r); dx <= Math.min(w - 1, x + r); dx++) m = Math.max(m, mask[(f * h + dy) * w + dx]);
        }
        out[(f * h + y) * w + x] = m;
      }
    }
  }
  return out;
}

/**
 * m·inside + (1 − m)·outside on latents [1, F, C, h, w], the mask [F·h·w] broadcast over channels (Blended
 * Latent Diffusion's blend, Avrahami et al. 2023). Where m is exactly 0 or 1 the value is copied, not mixed.
 */
export function blendMasked(inside: Float32Array, outside: Float32Array, mask: Float32Array, frames: number): Float32Array {
  const plane = mask.length / frames;
  const channels = inside.length / mask.length;
  if (inside.length !== outside.length || !Number.isInteger(plane) || !Number.isInteger(channels)) {
    throw new RangeError('blendMasked: latents and mask do not match');
  }
  const out = new Float32Array(inside.length);
  for (let k = 0; k < out.length; k++) {
    const m = mask[Math.floor(k / (channels * plane)) * plane + (k % plane)];
    out[k] = m === 0 ? outside[k] : m === 1 ? inside[k] : m * inside[k] + (1 - m) * outside[k];
  }
  return out;
}
