/**
 * Latents → frames in chunks of frames, as diffusers' StableVideoDiffusionPipeline.decode_latents(decode_chunk_size):
 * each chunk is decoded as a clip of its own, so the temporal decoder (time_conv_out, the temporal resnets) mixes
 * frames only within a chunk. A chunk of the whole block is one call, today's output bit for bit; smaller chunks bound
 * the decoder's full-resolution activations (the largest tensors of an edit) at a small change to the frames near the
 * chunk seams, the reference's own behaviour when it decodes in chunks.
 */
import type { VideoAutoencoder } from '../models/types.js';
import type { Tensor } from '../tensor.js';

/**
 * Decodes [F, C, h, w] latents (already divided by the scaling factor) to [F, 3, H, W] frames, `chunk` frames per
 * VAE call (null or ≥ F: one call). `onChunk(done, total)` after each call.
 */
export async function decodeInChunks(
  vae: VideoAutoencoder,
  latents: Tensor,
  chunk: number | null,
  onChunk?: (done: number, total: number) => void,
): Promise<Tensor> {
  const [frames, C, h, w] = latents.dims;
  if (latents.dims.length !== 4) throw new RangeError(`decode: latents must be [frames, C, h, w], got [${latents.dims.join(', ')}]`);
  if (chunk !== null && (!Number.isInteger(chunk) || chunk < 1)) throw new RangeError(`decode chunk must be a positive integer, got ${chunk}`);
  const size = chunk === null ? frames : Math.min(chunk, frames);
  const total = Math.ceil(frames / size);
  if (total === 1) {
    const out = await vae.decode(latents, frames);
    onChunk?.(1, 1);
    return out;
  }
  const perLatent = C * h * w;
  let data: Float32Array | undefined;
  let dims: number[] = [];
  for (let i = 0; i < total; i++) {
    const start = i * size;
    const n = Math.min(size, frames - start);
    const part = await vae.decode({ data: latents.data.slice(start * perLatent, (start + n) * perLatent), dims: [n, C, h, w] }, n);
    const perFrame = part.data.length / n;
    if (!data) {
      dims = [frames, ...part.dims.slice(1)];
      data = new Float32Array(frames * perFrame);
    }
    data.set(part.data, start * perFrame);
    onChunk?.(i + 1, total);
  }
  return { data: data!, dims };
}
