/**
 * SSIM as scikit-image's `structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
 * use_sample_covariance=False, data_range=R, channel_axis=0)` computes it on float64 images — which is also the
 * Wang et al. 2004 definition (11×11 Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03, population covariances):
 *
 *   SSIM(p) = (2 μx μy + C1)(2 σxy + C2) / ((μx² + μy² + C1)(σx² + σy² + C2)),  C1 = (K1·R)², C2 = (K2·R)²
 *
 * where μ, σ², σxy are Gaussian-weighted local moments. The window is scipy's truncated Gaussian: radius
 * int(3.5·σ + 0.5) = 5, weights normalized to sum 1. scikit-image averages the SSIM map after cropping
 * (window − 1)/2 = 5 pixels from every side, which are exactly the pixels whose window would leave the image — so
 * the padding mode never matters and only "valid" windows are computed here. Each channel is scored separately and
 * the channel scores are averaged. Arithmetic is float64; inputs are float32 frames.
 */
import type { Tensor } from '../tensor.js';
import { assertPairedVideos, mean, sameFrameSize } from './frames.js';

export interface SsimOptions {
  /** max − min of the value range: 2 for the pipeline's [-1, 1] frames (default), 1 for [0, 1], 255 for bytes. */
  readonly dataRange?: number;
  /** σ of the Gaussian window (default 1.5). */
  readonly sigma?: number;
  readonly k1?: number;
  readonly k2?: number;
}

/** Default data range: frames in [-1, 1]. */
export const SSIM_DATA_RANGE = 2;
/** scipy.ndimage truncates its Gaussian at 3.5 σ in scikit-image's SSIM. */
const TRUNCATE = 3.5;

/** The normalized 1-D Gaussian window scikit-image's SSIM uses (11 taps for σ = 1.5). */
export function gaussianWindow(sigma: number): Float64Array {
  if (!(sigma > 0)) throw new Error(`ssim: sigma must be positive, got ${sigma}`);
  const radius = Math.trunc(TRUNCATE * sigma + 0.5);
  const w = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) {
    w[i + radius] = Math.exp((-0.5 * i * i) / (sigma * sigma));
    sum += w[i + radius];
  }
  for (let i = 0; i < w.length; i++) w[i] /= sum;
  return w;
}

/** Mean SSIM of two frames [C,H,W] (channels averaged). Identical frames give exactly 1. */
export function ssim(a: Tensor, b: Tensor, opts: SsimOptions = {}): number {
  const { channels, height, width } = sameFrameSize(a, b, 'ssim');
  const range = opts.dataRange ?? SSIM_DATA_RANGE;
  if (!(range > 0)) throw new Error(`ssim: dataRange must be positive, got ${range}`);
  const window = gaussianWindow(opts.sigma ?? 1.5);
  if (height < window.length || width < window.length) {
    throw new Error(`ssim: frames of ${height}×${width} are smaller than the ${window.length}×${window.length} window`);
  }
  const c1 = ((opts.k1 ?? 0.01) * range) ** 2;
  const c2 = ((opts.k2 ?? 0.03) * range) ** 2;
  const plane = height * width;
  let total = 0;
  for (let c = 0; c < channels; c++) {
    total += channelSsim(a.data.subarray(c * plane, (c + 1) * plane), b.data.subarray(c * plane, (c + 1) * plane),
      height, width, window, c1, c2);
  }
  return total / channels;
}

/** Mean over frames of the per-frame SSIM (edited frame t vs source frame t). */
export function videoSsim(edited: readonly Tensor[], source: readonly Tensor[], opts: SsimOptions = {}): number {
  assertPairedVideos(edited, source, 'ssim');
  return mean(edited.map((e, t) => ssim(e, source[t], opts)));
}

/** Five Gaussian-filtered moments (x, y, x², y², xy) over valid windows, then the mean of the SSIM map. */
function channelSsim(x: Float32Array, y: Float32Array, height: number, width: number, w: Float64Array,
  c1: number, c2: number): number {
  const taps = w.length;
  const outW = width - taps + 1;
  const outH = height - taps + 1;
  // Horizontal pass: every row, valid columns only; the five moments interleaved.
  const rows = new Float64Array(height * outW * 5);
  for (let r = 0; r < height; r++) {
    const base = r * width;
    for (let col = 0; col < outW; col++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let k = 0; k < taps; k++) {
        const xv = x[base + col + k];
        const yv = y[base + col + k];
        const wk = w[k];
        sx += wk * xv;
        sy += wk * yv;
        sxx += wk * xv * xv;
        syy += wk * yv * yv;
        sxy += wk * xv * yv;
      }
      const o = (r * outW + col) * 5;
      rows[o] = sx; rows[o + 1] = sy; rows[o + 2] = sxx; rows[o + 3] = syy; rows[o + 4] = sxy;
    }
  }
  // Vertical pass on valid rows, folding each pixel's SSIM into the sum.
  let sum = 0;
  const stride = outW * 5;
  for (let r = 0; r < outH; r++) {
    for (let col = 0; col < outW; col++) {
      let mx = 0, my = 0, mxx = 0, myy = 0, mxy = 0;
      let o = r * stride + col * 5;
      for (let k = 0; k < taps; k++, o += stride) {
        const wk = w[k];
        mx += wk * rows[o];
        my += wk * rows[o + 1];
        mxx += wk * rows[o + 2];
        myy += wk * rows[o + 3];
        mxy += wk * rows[o + 4];
      }
      const vx = mxx - mx * mx;
      const vy = myy - my * my;
      const vxy = mxy - mx * my;
      sum += ((2 * mx * my + c1) * (2 * vxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
    }
  }
  return sum / (outH * outW);
}
