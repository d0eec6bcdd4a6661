/**
 * Analytic stand-ins for the three SVD networks, with exactly known answers, so that the pipeline and the
 * inversion experiments can be checked without weights.
 *
 * Data model (in the denoiser's latent space, per element (c, y, x) independently):
 *   x0[f] = μ[f] + s·(ρ·u + √(1 − ρ²)·v_f),  u shared by all frames, v_f independent, all N(0, 1),
 * so the F frames of one element have covariance s²((1 − ρ²)I + ρ²·11ᵀ), with eigenvalues
 * λ1 = s²(1 − ρ² + ρ²F) on the across-frame mean and λ2 = s²(1 − ρ²) orthogonal to it. The mean depends
 * on the conditioning:  μ[f] = a·cond~ + b·emb[c mod D] + m·sin(0.7f + 1.3c + 0.9x + 0.5y)  (cond~ = the
 * conditioning latents normalized over the frame, so the reference's normalized-vs-raw conditioning
 * asymmetry gives the same μ; the zero conditioning of the unconditional branch gives μ = motion only).
 * Under x = x0 + σ·n the exact posterior mean (the ideal denoiser) is
 *   D(x; σ) = μ + P_mean·λ1/(λ1 + σ²)·(x − μ) + P_perp·λ2/(λ2 + σ²)·(x − μ).
 */
import { preconditioning, type PredictionType } from '../../src/schedulers/euler.js';
import type { Random } from '../../src/random.js';
import type { Tensor } from '../../src/tensor.js';
import type { Denoiser, DenoiserInput, ImageEmbedder, VideoAutoencoder, VideoshopModels } from '../../src/models/types.js';

export interface VideoLatentShape {
  readonly frames: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

export interface GaussianPriorParams {
  /** Per-element standard deviation s around the mean. */
  readonly s: number;
  /** Weight ρ of the part shared across frames, in [0, 1): frames correlate with coefficient ρ². */
  readonly rho: number;
  /** a: weight of the (normalized) conditioning latents in μ. */
  readonly condWeight: number;
  /** b: weight of the image embedding in μ. */
  readonly embedWeight: number;
  /** m: amplitude of the frame-dependent "motion" pattern in μ. */
  readonly motion: number;
  /** Normalize the conditioning latents over the frame before use (scale/shift invariance). */
  readonly normalizeCond: boolean;
}

export const DEFAULT_PRIOR: GaussianPriorParams = Object.freeze({
  s: 1,
  rho: 0.9,
  condWeight: 0.8,
  embedWeight: 0.3,
  motion: 0.5,
  normalizeCond: true,
});

export class GaussianVideoPrior {
  readonly params: GaussianPriorParams;

  constructor(params: Partial<GaussianPriorParams> = {}) {
    this.params = { ...DEFAULT_PRIOR, ...params };
    const { s, rho } = this.params;
    if (!(s > 0)) throw new RangeError(`prior s must be > 0, got ${s}`);
    if (!(rho >= 0 && rho < 1)) throw new RangeError(`prior rho must be in [0, 1), got ${rho}`);
  }

  /** λ1 (across-frame mean direction) and λ2 (orthogonal directions) of the per-element frame covariance. */
  eigenvalues(frames: number): { mean: number; perp: number } {
    const { s, rho } = this.params;
    return { mean: s * s * (1 - rho * rho + rho * rho * frames), perp: s * s * (1 - rho * rho) };
  }

  /** μ [F·C·h·w] for conditioning latents [C·h·w] (null = zeros) and an embedding (null = zeros). */
  mean(shape: VideoLatentShape, cond: Float32Array | null, embedding: Float32Array | null): Float64Array {
    const { frames, channels, height, width } = shape;
    const plane = height * width;
    const frameSize = channels * plane;
    const { condWeight, embedWeight, motion } = this.params;
    const c0 = cond ? this.conditioningTerm(cond, frameSize) : new Float64Array(frameSize);
    const pattern = this.motionPattern(shape);
    const out = new Float64Array(frames * frameSize);
    for (let f = 0; f < frames; f++) {
      for (let c = 0; c < channels; c++) {
        const e = embedding && embedding.length > 0 ? embedding[c % embedding.length] : 0;
        for (let p = c * plane; p < (c + 1) * plane; p++) {
          const i = f * frameSize + p;
          out[i] = condWeight * c0[p] + embedWeight * e + motion * pattern[i];
        }
      }
    }
    return out;
  }

  private readonly patterns = new Map<string, Float64Array>();

  /** sin(0.7f + 1.3c + 0.9x + 0.5y), cached per shape (the denoiser needs it on every call). */
  private motionPattern(shape: VideoLatentShape): Float64Array {
    const { frames, channels, height, width } = shape;
    const key = `${frames}x${channels}x${height}x${width}`;
    let pattern = this.patterns.get(key);
    if (!pattern) {
      pattern = new Float64Array(frames * channels * height * width);
      let i = 0;
      for (let f = 0; f < frames; f++) {
        for (let c = 0; c < channels; c++) {
          for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) pattern[i++] = Math.sin(0.7 * f + 1.3 * c + 0.9 * x + 0.5 * y);
        }
      }
      this.patterns.set(key, pattern);
    }
    return pattern;
  }

  /** One draw x0 [F·C·h·w] around μ. */
  sample(rng: Random, mu: Float64Array, shape: VideoLatentShape): Float32Array {
    const { frames } = shape;
    const frameSize = mu.length / frames;
    const { s, rho } = this.params;
    const shared = Float64Array.from({ length: frameSize }, () => rng.normal());
    const own = Math.sqrt(1 - rho * rho);
    const out = new Float32Array(mu.length);
    for (let f = 0; f < frames; f++) {
      for (let p = 0; p < frameSize; p++) out[f * frameSize + p] = mu[f * frameSize + p] + s * (rho * shared[p] + own * rng.normal());
    }
    return out;
  }

  /** The exact posterior mean D(x; σ) [F·C·h·w] (float64 arithmetic). */
  posteriorMean(x: Float32Array | Float64Array, sigma: number, mu: Float64Array, frames: number): Float64Array {
    const { mean: l1, perp: l2 } = this.eigenvalues(frames);
    return this.shrink(x, mu, frames, l1 / (l1 + sigma * sigma), l2 / (l2 + sigma * sigma));
  }

  /**
   * The exact consistency function: where the probability-flow ODE dx/dσ = (x − D(x; σ))/σ from x at σ lands at
   * σ = 0. Along each eigen-direction x − μ grows as √(λ + σ²), so f(x; σ) = μ + √(λ/(λ + σ²))·(x − μ): what an ideally
   * distilled consistency model (AnimateLCM) computes in one step.
   */
  consistencyFunction(x: Float32Array | Float64Array, sigma: number, mu: Float64Array, frames: number): Float64Array {
    const { mean: l1, perp: l2 } = this.eigenvalues(frames);
    return this.shrink(x, mu, frames, Math.sqrt(l1 / (l1 + sigma * sigma)), Math.sqrt(l2 / (l2 + sigma * sigma)));
  }

  /** μ + k1·(across-frame mean of x − μ) + k2·(the rest). */
  private shrink(x: Float32Array | Float64Array, mu: Float64Array, frames: number, k1: number, k2: number): Float64Array {
    const frameSize = mu.length / frames;
    const out = new Float64Array(mu.length);
    for (let p = 0; p < frameSize; p++) {
      let m = 0;
      for (let f = 0; f < frames; f++) m += x[f * frameSize + p] - mu[f * frameSize + p];
      m /= frames;
      for (let f = 0; f < frames; f++) {
        const i = f * frameSize + p;
        const d = x[i] - mu[i];
        out[i] = mu[i] + k1 * m + k2 * (d - m);
      }
    }
    return out;
  }

  private conditioningTerm(cond: Float32Array, frameSize: number): Float64Array {
    if (cond.length !== frameSize) throw new RangeError(`conditioning has ${cond.length} values, expected ${frameSize}`);
    if (!this.params.normalizeCond) return Float64Array.from(cond);
    let sum = 0;
    for (const v of cond) sum += v;
    const mean = sum / cond.length;
    let ss = 0;
    for (const v of cond) ss += (v - mean) ** 2;
    const std = cond.length > 1 ? Math.sqrt(ss / (cond.length - 1)) : 0;
    return Float64Array.from(cond, (v) => (v - mean) / (std + 1e-6));
  }
}

/**
 * The ideal denoiser of a GaussianVideoPrior behind SVD's network interface: recovers σ = exp(4·t) from
 * the continuous timestep c_noise = 0.25·ln σ, x = input·√(σ² + 1) from the c_in-scaled input, and returns
 * F = (D − c_skip·x)/c_out, so that c_skip·x + c_out·F is exactly the posterior mean.
 */
export class AnalyticDenoiser implements Denoiser {
  readonly latentChannels: number;
  readonly numFrames: number;
  private readonly prediction: PredictionType;
  /** true: the consistency function (an ideally distilled model) instead of the posterior mean. */
  private readonly consistency: boolean;
  /** Number of predict() calls and of batch entries evaluated, for tests. */
  calls = 0;
  evaluations = 0;

  constructor(
    readonly prior: GaussianVideoPrior,
    options: { latentChannels?: number; numFrames?: number; prediction?: PredictionType; consistency?: boolean } = {},
  ) {
    this.consistency = options.consistency ?? false;
    this.latentChannels = options.latentChannels ?? 4;
    this.numFrames = options.numFrames ?? 14;
    this.prediction = options.prediction ?? 'v_prediction';
  }

  async predict(input: DenoiserInput): Promise<Tensor> {
    const [B, frames, C2, height, width] = input.sample.dims;
    const C = this.latentChannels;
    if (input.sample.dims.length !== 5 || C2 !== 2 * C) {
      throw new RangeError(`analytic denoiser: sample must be [B, F, ${2 * C}, h, w], got [${input.sample.dims.join(', ')}]`);
    }
    const embedDim = input.encoderHiddenStates.dims[2];
    if (input.encoderHiddenStates.dims.length !== 3 || input.encoderHiddenStates.dims[0] !== B) {
      throw new RangeError(`analytic denoiser: encoderHiddenStates must be [${B}, 1, D], got [${input.encoderHiddenStates.dims.join(', ')}]`);
    }
    const sigma = Math.exp(4 * input.timestep);
    const { cSkip, cOut } = preconditioning(sigma, this.prediction);
    const scaleBack = Math.sqrt(sigma * sigma + 1);
    const plane = height * width;
    const frameSize = C * plane;
    const shape = { frames, channels: C, height, width };
    const out = new Float32Array(B * frames * frameSize);
    for (let b = 0; b < B; b++) {
      const x = new Float64Array(frames * frameSize);
      for (let f = 0; f < frames; f++) {
        const src = (b * frames + f) * 2 * frameSize;
        for (let i = 0; i < frameSize; i++) x[f * frameSize + i] = input.sample.data[src + i] * scaleBack;
      }
      // The conditioning latents are repeated over frames; frame 0's copy is the one used.
      const condStart = b * frames * 2 * frameSize + frameSize;
      const cond = input.sample.data.slice(condStart, condStart + frameSize);
      const emb = input.encoderHiddenStates.data.slice(b * embedDim, (b + 1) * embedDim);
      const mu = this.prior.mean(shape, cond, emb);
      const D = this.consistency ? this.prior.consistencyFunction(x, sigma, mu, frames) : this.prior.posteriorMean(x, sigma, mu, frames);
      for (let i = 0; i < D.length; i++) out[b * frames * frameSize + i] = (D[i] - cSkip * x[i]) / cOut;
    }
    this.calls++;
    this.evaluations += B;
    return { data: out, dims: [B, frames, C, height, width] };
  }
}

/**
 * A linear "VAE": encode = average-pool each downscale×downscale block and mix RGB to latent channels with a
 * fixed matrix M; decode = M's pseudo-inverse, then nearest upsampling. decode(encode(v)) = v exactly for
 * frames that are constant on each block.
 */
export class LinearVideoAutoencoder implements VideoAutoencoder {
  readonly latentChannels: number;
  readonly scalingFactor = 0.18215;
  /** Rows: latent channels; columns: R, G, B. Scaled so that scaled latents have roughly unit size. */
  readonly mixing: readonly (readonly number[])[];
  private readonly unmixing: number[][];

  constructor(readonly downscale = 8) {
    const m = [
      [1, 0.5, 0.25],
      [-0.5, 1, 0.5],
      [0.25, -0.5, 1],
      [0.6, 0.6, 0.6],
    ];
    this.mixing = m.map((row) => row.map((v) => (2 * v) / this.scalingFactor));
    this.latentChannels = this.mixing.length;
    this.unmixing = pseudoInverse(this.mixing);
  }

  async encode(frames: Tensor): Promise<Tensor> {
    const [n, three, H, W] = frames.dims;
    const k = this.downscale;
    if (frames.dims.length !== 4 || three !== 3 || H % k !== 0 || W % k !== 0) {
      throw new RangeError(`linear VAE: encode needs [n, 3, H, W] with H, W multiples of ${k}, got [${frames.dims.join(', ')}]`);
    }
    const h = H / k;
    const w = W / k;
    const C = this.latentChannels;
    const out = new Float32Array(n * C * h * w);
    const pooled = new Float64Array(3);
    for (let i = 0; i < n; i++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let ch = 0; ch < 3; ch++) {
            let sum = 0;
            const base = (i * 3 + ch) * H * W;
            for (let dy = 0; dy < k; dy++) for (let dx = 0; dx < k; dx++) sum += frames.data[base + (y * k + dy) * W + x * k + dx];
            pooled[ch] = sum / (k * k);
          }
          for (let c = 0; c < C; c++) {
            const row = this.mixing[c];
            out[((i * C + c) * h + y) * w + x] = row[0] * pooled[0] + row[1] * pooled[1] + row[2] * pooled[2];
          }
        }
      }
    }
    return { data: out, dims: [n, C, h, w] };
  }

  async decode(latents: Tensor, numFrames: number): Promise<Tensor> {
    const [n, C, h, w] = latents.dims;
    if (latents.dims.length !== 4 || C !== this.latentChannels) {
      throw new RangeError(`linear VAE: decode needs [n, ${this.latentChannels}, h, w], got [${latents.dims.join(', ')}]`);
    }
    if (numFrames !== n) throw new RangeError(`linear VAE: decode got ${n} latents for a clip of ${numFrames} frames`);
    const k = this.downscale;
    const H = h * k;
    const W = w * k;
    const out = new Float32Array(n * 3 * H * W);
    for (let i = 0; i < n; i++) {
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          for (let ch = 0; ch < 3; ch++) {
            let v = 0;
            for (let c = 0; c < C; c++) v += this.unmixing[ch][c] * latents.data[((i * C + c) * h + y) * w + x];
            const base = (i * 3 + ch) * H * W;
            for (let dy = 0; dy < k; dy++) out.fill(v, base + (y * k + dy) * W + x * k, base + (y * k + dy) * W + (x + 1) * k);
          }
        }
      }
    }
    return { data: out, dims: [n, 3, H, W] };
  }
}

/** Embeds an image as its three channel means. */
export class ChannelMeanEmbedder implements ImageEmbedder {
  readonly embedDim = 3;

  async embed(image: Tensor): Promise<Float32Array> {
    const [three, H, W] = image.dims;
    if (image.dims.length !== 3 || three !== 3) throw new RangeError(`embedder: expected [3, H, W], got [${image.dims.join(', ')}]`);
    const out = new Float32Array(3);
    for (let ch = 0; ch < 3; ch++) {
      let sum = 0;
      for (let i = ch * H * W; i < (ch + 1) * H * W; i++) sum += image.data[i];
      out[ch] = sum / (H * W);
    }
    return out;
  }
}

export interface AnalyticModels extends VideoshopModels {
  readonly denoiser: AnalyticDenoiser;
  readonly vae: LinearVideoAutoencoder;
  readonly imageEmbedder: ChannelMeanEmbedder;
  readonly prior: GaussianVideoPrior;
}

/** `consistency`: the denoiser is the prior's consistency function (an ideal AnimateLCM), not its posterior mean. */
export function analyticModels(prior: Partial<GaussianPriorParams> = {}, numFrames = 14, consistency = false): AnalyticModels {
  const p = new GaussianVideoPrior(prior);
  const denoiser = new AnalyticDenoiser(p, { numFrames, consistency });
  return { denoiser, vae: new LinearVideoAutoencoder(), imageEmbedder: new ChannelMeanEmbedder(), prior: p };
}

/** (MᵀM)⁻¹Mᵀ for a full-column-rank m×3 matrix. */
function pseudoInverse(m: readonly (readonly number[])[]): number[][] {
  const g = [0, 1, 2].map((i) => [0, 1, 2].map((j) => m.reduce((s, row) => s + row[i] * row[j], 0)));
  const inv = invert3(g);
  return [0, 1, 2].map((i) => m.map((_, r) => [0, 1, 2].reduce((s, j) => s + inv[i][j] * m[r][j], 0)));
}

function invert3(a: number[][]): number[][] {
  const [[a0, a1, a2], [b0, b1, b2], [c0, c1, c2]] = a;
  const det = a0 * (b1 * c2 - b2 * c1) - a1 * (b0 * c2 - b2 * c0) + a2 * (b0 * c1 - b1 * c0);
  if (Math.abs(det) < 1e-12) throw new Error('linear VAE: mixing matrix is singular');
  return [
    [(b1 * c2 - b2 * c1) / det, (a2 * c1 - a1 * c2) / det, (a1 * b2 - a2 * b1) / det],
    [(b2 * c0 - b0 * c2) / det, (a0 * c2 - a2 * c0) / det, (a2 * b0 - a0 * b2) / det],
    [(b0 * c1 - b1 * c0) / det, (a1 * c0 - a0 * c1) / det, (a0 * b1 - a1 * b0) / det],
  ];
}
