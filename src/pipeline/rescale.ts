/**
 * Rescaling of the denoised latents to the edited frame's statistics (paper §3.6, Eq. 8 right; run.py):
 * per-channel mean/std of the FIRST frame are mapped onto those of scaling_factor·encode(edited frame).
 */
import type { Tensor } from '../tensor.js';
import { latentShape, meanStd } from './latents.js';
import type { RescaleFormula } from './options.js';

export interface ChannelStats {
  /** Per channel, over (h, w). */
  readonly mean: number[];
  /** Per channel, unbiased, over (h, w). */
  readonly std: number[];
}

/** Per-channel stats of one frame [C, h, w] (or [1, C, h, w] / [1, 1, C, h, w]). */
export function imageChannelStats(latents: Tensor): ChannelStats {
  const dims = latents.dims;
  if (dims.length < 3 || dims.slice(0, -3).some((d) => d !== 1)) {
    throw new RangeError(`imageChannelStats: expected one frame [C, h, w], got [${dims.join(', ')}]`);
  }
  const [C, h, w] = dims.slice(-3);
  const stats = Array.from({ length: C }, (_, c) => meanStd(latents.data, c * h * w, h * w));
  return { mean: stats.map((s) => s.mean), std: stats.map((s) => s.std) };
}

/** Per-channel stats of the first frame of latents [1, F, C, h, w]. */
export function firstFrameChannelStats(latents: Tensor): ChannelStats {
  const { channels, height, width } = latentShape(latents);
  return imageChannelStats({ data: latents.data.subarray(0, channels * height * width), dims: [channels, height, width] });
}

/**
 * Applies one per-channel affine map to every frame so that the first frame's per-channel stats become
 * `target`'s: reference (x − μ0)/σ0·σ_img + μ_img, or the paper's literal σ_img/σ0·(x − μ0 + μ_img).
 */
export function rescaleLatents(
  latents: Tensor,
  target: ChannelStats,
  formula: RescaleFormula = 'reference',
): { latents: Tensor; source: ChannelStats } {
  const { frames, channels, height, width } = latentShape(latents);
  if (target.mean.length !== channels) throw new RangeError(`rescale target has ${target.mean.length} channels, latents ${channels}`);
  const source = firstFrameChannelStats(latents);
  const plane = height * width;
  const out = new Float32Array(latents.data.length);
  for (let c = 0; c < channels; c++) {
    const gain = target.std[c] / source.std[c];
    const mu0 = source.mean[c];
    const muImg = target.mean[c];
    for (let f = 0; f < frames; f++) {
      const base = (f * channels + c) * plane;
      for (let i = base; i < base + plane; i++) {
        const x = latents.data[i];
        out[i] = formula === 'reference' ? (x - mu0) * gain + muImg : gain * (x - mu0 + muImg);
      }
    }
  }
  return { latents: { data: out, dims: [...latents.dims] }, source };
}
