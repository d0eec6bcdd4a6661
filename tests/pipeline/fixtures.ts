/** Shared inputs and probes for the pipeline tests. */
import type { Denoiser, DenoiserInput, VideoAutoencoder } from '../../src/models/types.js';
import type { Tensor } from '../../src/tensor.js';
export { relativeError } from '../../src/tensor.js';

/**
 * A smooth video [F, 3, H, W] constant on 8×8 blocks (so the linear VAE round-trips it exactly) whose
 * pattern drifts a quarter block per frame. Each row holds whole periods, so every frame has the same
 * mean and std (the per-frame normalization then loses nothing).
 */
export function driftingVideo(frames: number, height = 64, width = 64): Tensor {
  const data = new Float32Array(frames * 3 * height * width);
  const blocks = width / 8;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const by = Math.floor(y / 8);
          const bx = Math.floor(x / 8);
          data[((f * 3 + c) * height + y) * width + x] =
            0.5 * Math.sin((2 * Math.PI * (bx - 0.25 * f)) / blocks + 0.7 * by + 2.1 * c) +
            0.25 * Math.cos((2 * Math.PI * (2 * bx - 0.5 * f)) / blocks + 0.5 * by + c);
        }
      }
    }
  }
  return { data, dims: [frames, 3, height, width] };
}

/** The video with a red square painted over its top-left quadrant in every frame. */
export function paintRedSquare(video: Tensor): Tensor {
  const [frames, , height, width] = video.dims;
  const data = new Float32Array(video.data);
  const colour = [0.8, -0.5, -0.5];
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < height / 2; y++) data.fill(colour[c], ((f * 3 + c) * height + y) * width, ((f * 3 + c) * height + y) * width + width / 2);
    }
  }
  return { data, dims: [...video.dims] };
}

export function frame(video: Tensor, f: number): Tensor {
  const [, c, h, w] = video.dims;
  const n = c * h * w;
  return { data: video.data.slice(f * n, (f + 1) * n), dims: [c, h, w] };
}

/** Root-mean-square distance. */
export function rms(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / a.length);
}

/** A denoiser that records every call and answers with `respond` (default: zeros). */
export class RecordingDenoiser implements Denoiser {
  readonly calls: DenoiserInput[] = [];
  constructor(
    readonly latentChannels = 4,
    readonly numFrames = 14,
    private readonly respond?: (input: DenoiserInput) => Float32Array,
  ) {}

  async predict(input: DenoiserInput): Promise<Tensor> {
    this.calls.push({
      sample: { data: new Float32Array(input.sample.data), dims: [...input.sample.dims] },
      timestep: input.timestep,
      encoderHiddenStates: { data: new Float32Array(input.encoderHiddenStates.data), dims: [...input.encoderHiddenStates.dims] },
      addedTimeIds: { data: new Float32Array(input.addedTimeIds.data), dims: [...input.addedTimeIds.dims] },
    });
    const [B, F, , h, w] = input.sample.dims;
    const dims = [B, F, this.latentChannels, h, w];
    const data = this.respond ? this.respond(input) : new Float32Array(B * F * this.latentChannels * h * w);
    return { data, dims };
  }
}

/** Wraps a VAE and records the frame counts of its calls. */
export class RecordingVae implements VideoAutoencoder {
  readonly encodes: number[] = [];
  readonly decodes: { frames: number; numFrames: number }[] = [];
  constructor(private readonly inner: VideoAutoencoder) {}
  get latentChannels(): number {
    return this.inner.latentChannels;
  }
  get downscale(): number {
    return this.inner.downscale;
  }
  get scalingFactor(): number {
    return this.inner.scalingFactor;
  }
  async encode(frames: Tensor): Promise<Tensor> {
    this.encodes.push(frames.dims[0]);
    return this.inner.encode(frames);
  }
  async decode(latents: Tensor, numFrames: number): Promise<Tensor> {
    this.decodes.push({ frames: latents.dims[0], numFrames });
    return this.inner.decode(latents, numFrames);
  }
}
