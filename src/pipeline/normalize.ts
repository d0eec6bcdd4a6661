/**
 * Latent normalization before inversion (paper §3.6, Eq. 8 left), in the reference's and the paper's forms.
 */
import type { Tensor } from '../tensor.js';
import { latentShape, meanStd } from './latents.js';
import type { NormalizationMode } from './options.js';

/** Added to the std before dividing, as the reference does (`std + 1e-6`). */
export const NORMALIZATION_EPS = 1e-6;

export interface NormalizationStats {
  readonly mode: NormalizationMode;
  /** What the stats are grouped by: one entry per frame, per channel, or none. */
  readonly groups: 'frame' | 'channel' | 'none';
  /** Mean of each group before normalization (subtracted only when `centered`). */
  readonly mean: number[];
  /** Unbiased std of each group before normalization (the divisor is std + 1e-6). */
  readonly std: number[];
  readonly centered: boolean;
}

/** The statistics `normalizeLatents` uses, of latents [1, F, C, h, w]. */
export function normalizationStats(latents: Tensor, mode: NormalizationMode): NormalizationStats {
  const { frames, channels, height, width } = latentShape(latents);
  const plane = height * width;
  const frameSize = channels * plane;
  if (mode === 'per-frame-centered') {
    // The reference's latents.reshape(F, -1): one group per frame over (C, h, w).
    const stats = Array.from({ length: frames }, (_, f) => meanStd(latents.data, f * frameSize, frameSize));
    return { mode, groups: 'frame', mean: stats.map((s) => s.mean), std: stats.map((s) => s.std), centered: true };
  }
  if (mode === 'per-channel') {
    // The paper: per channel, σ_in across all frames.
    const stats = Array.from({ length: channels }, (_, c) => meanStd(latents.data, c * plane, plane, frames, frameSize));
    return { mode, groups: 'channel', mean: stats.map((s) => s.mean), std: stats.map((s) => s.std), centered: false };
  }
  return { mode, groups: 'none', mean: [], std: [], centered: false };
}

/** x̂0 from the scaled VAE latents [1, F, C, h, w]: see NormalizationMode for the three forms. */
export function normalizeLatents(latents: Tensor, mode: NormalizationMode): { latents: Tensor; stats: NormalizationStats } {
  const stats = normalizationStats(latents, mode);
  const { frames, channels, height, width } = latentShape(latents);
  const plane = height * width;
  const out = new Float32Array(latents.data);
  if (mode !== 'none') {
    for (let f = 0; f < frames; f++) {
      for (let c = 0; c < channels; c++) {
        const g = mode === 'per-frame-centered' ? f : c;
        const shift = stats.centered ? stats.mean[g] : 0;
        const scale = stats.std[g] + NORMALIZATION_EPS;
        const base = (f * channels + c) * plane;
        for (let i = base; i < base + plane; i++) out[i] = (latents.data[i] - shift) / scale;
      }
    }
  }
  return { latents: { data: out, dims: [...latents.dims] }, stats };
}
