/**
 * PSNR = 10·log10(R² / MSE) with the MSE over every channel and pixel of a frame (scikit-image's
 * `peak_signal_noise_ratio(x, y, data_range=R)`). R defaults to 2 for the pipeline's [-1, 1] frames.
 * Identical frames give +Infinity (MSE = 0); JSON has no Infinity, see `jsonNumber` in report.ts.
 */
import type { Tensor } from '../tensor.js';
import { assertPairedVideos, sameFrameSize } from './frames.js';

/** Default data range: frames in [-1, 1]. */
export const PSNR_DATA_RANGE = 2;

export function meanSquaredError(a: Tensor, b: Tensor): number {
  sameFrameSize(a, b, 'mse');
  let s = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i] - b.data[i];
    s += d * d;
  }
  return s / a.data.length;
}

export function psnrFromMse(mse: number, dataRange = PSNR_DATA_RANGE): number {
  if (!(dataRange > 0)) throw new Error(`psnr: dataRange must be positive, got ${dataRange}`);
  return mse === 0 ? Infinity : 10 * Math.log10((dataRange * dataRange) / mse);
}

/** PSNR of two frames [C,H,W] in dB; +Infinity when they are identical. */
export function psnr(a: Tensor, b: Tensor, dataRange = PSNR_DATA_RANGE): number {
  return psnrFromMse(meanSquaredError(a, b), dataRange);
}

/**
 * PSNR of the whole video as one array (scikit-image's function on the stacked frames): 10·log10(R² / MSE) with the
 * MSE pooled over every frame. Unlike a mean of per-frame PSNRs it stays finite when only some frames are identical
 * (e.g. an unedited first frame); it is +Infinity only when every frame pair is.
 */
export function videoPsnr(edited: readonly Tensor[], source: readonly Tensor[], dataRange = PSNR_DATA_RANGE): number {
  assertPairedVideos(edited, source, 'psnr');
  let sum = 0;
  let count = 0;
  edited.forEach((e, t) => {
    sum += meanSquaredError(e, source[t]) * e.data.length;
    count += e.data.length;
  });
  return psnrFromMse(sum / count, dataRange);
}
