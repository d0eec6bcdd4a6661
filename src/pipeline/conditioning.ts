/**
 * What conditions one branch of the denoiser (image embedding, conditioning-frame latents, added time
 * ids) and the one place that turns noisy latents plus branches into a network call.
 */
import type { Denoiser, VideoshopModels } from '../models/types.js';
import { numel, type Tensor } from '../tensor.js';
import type { LatentShape } from './latents.js';

export interface Conditioning {
  /** Image embedding of the conditioning frame, [embedDim]. */
  readonly embedding: Float32Array;
  /** Conditioning-frame latents exactly as the network sees them, [C, h, w] (repeated over frames). */
  readonly latents: Tensor;
  /** [fps − 1, motion bucket id, noise-augmentation strength]. */
  readonly addedTimeIds: readonly [number, number, number];
}

/** The unconditional branch of classifier-free guidance: zero embedding and zero conditioning latents. */
export function unconditional(c: Conditioning): Conditioning {
  return {
    embedding: new Float32Array(c.embedding.length),
    latents: { data: new Float32Array(c.latents.data.length), dims: [...c.latents.dims] },
    addedTimeIds: c.addedTimeIds,
  };
}

/**
 * Runs F_θ once on the noisy latents `x` (unscaled, [F·C·h·w]) at noise level σ for each branch (batched:
 * [uncond, cond] for guidance) and returns one raw network output per branch.
 */
export async function predictBranches(
  denoiser: Denoiser,
  x: Float32Array,
  shape: LatentShape,
  sigma: number,
  timestep: number,
  branches: readonly Conditioning[],
): Promise<Float32Array[]> {
  const { frames, channels: C, height, width } = shape;
  const plane = height * width;
  const frameIn = 2 * C * plane;
  const frameOut = C * plane;
  const B = branches.length;
  if (x.length !== frames * frameOut) throw new RangeError(`denoiser call: ${x.length} latent values for shape [${frames}, ${C}, ${height}, ${width}]`);
  const embedDim = branches[0].embedding.length;
  const sample = new Float32Array(B * frames * frameIn);
  const hidden = new Float32Array(B * embedDim);
  const timeIds = new Float32Array(B * 3);
  const cIn = 1 / Math.sqrt(sigma * sigma + 1);
  branches.forEach((branch, b) => {
    if (numel(branch.latents.dims) !== frameOut) {
      throw new RangeError(`conditioning latents [${branch.latents.dims.join(', ')}] do not match [${C}, ${height}, ${width}]`);
    }
    if (branch.embedding.length !== embedDim) throw new RangeError('conditioning branches have different embedding sizes');
    for (let f = 0; f < frames; f++) {
      const dst = (b * frames + f) * frameIn;
      for (let i = 0; i < frameOut; i++) sample[dst + i] = x[f * frameOut + i] * cIn;
      sample.set(branch.latents.data, dst + frameOut);
    }
    hidden.set(branch.embedding, b * embedDim);
    timeIds.set(branch.addedTimeIds, b * 3);
  });
  const out = await denoiser.predict({
    sample: { data: sample, dims: [B, frames, 2 * C, height, width] },
    timestep,
    encoderHiddenStates: { data: hidden, dims: [B, 1, embedDim] },
    addedTimeIds: { data: timeIds, dims: [B, 3] },
  });
  const expected = [B, frames, C, height, width];
  if (out.dims.length !== 5 || out.dims.some((d, i) => d !== expected[i])) {
    throw new Error(`denoiser returned [${out.dims.join(', ')}], expected [${expected.join(', ')}]`);
  }
  return branches.map((_, b) => out.data.slice(b * frames * frameOut, (b + 1) * frames * frameOut));
}

/** frame + strength·noise, as a batch of one [1, 3, H, W] (SVD's noise augmentation of the conditioning frame). */
export function augment(image: Tensor, noise: Tensor, strength: number): Tensor {
  return { data: image.data.map((v, i) => v + strength * noise.data[i]), dims: [1, ...image.dims] };
}

/** The image embedding of one frame [3, H, W], checked against the embedder's declared size. */
export async function embedFrame(models: VideoshopModels, image: Tensor): Promise<Float32Array> {
  const e = await models.imageEmbedder.embed(image);
  if (e.length !== models.imageEmbedder.embedDim) {
    throw new Error(`image embedder returned ${e.length} values, expected ${models.imageEmbedder.embedDim}`);
  }
  return e;
}
