/**
 * Plain SVD image-to-video generation from seeded noise, recording the latents after every step: the denoising
 * trajectory the paper analyses in Fig. 3 (x_t − x_0 stays nearly collinear across t, which is what makes noise
 * extrapolation work). Defaults are diffusers' StableVideoDiffusionPipeline's (guidance 1 → 3, noise aug 0.02).
 */
import type { VideoshopModels } from '../models/types.js';
import { Random } from '../random.js';
import { initNoiseSigma, makeSchedule, type EulerSchedulerConfig } from '../schedulers/euler.js';
import type { Tensor } from '../tensor.js';
import { augment, embedFrame, type Conditioning } from './conditioning.js';
import { denoiseLatents } from './denoise.js';
import { latentDims, type LatentShape } from './latents.js';
import { SVD_SCHEDULER_CONFIG } from './options.js';

export interface GenerateOptions {
  readonly frames: number;
  readonly steps?: number;
  readonly minGuidance?: number;
  readonly maxGuidance?: number;
  readonly noiseAug?: number;
  readonly fps?: number;
  readonly motionBucket?: number;
  readonly seed?: number;
  readonly scheduler?: EulerSchedulerConfig;
  readonly onStep?: (k: number, total: number) => void;
}

export interface Trajectory {
  /** σ of each recorded state, from σ_max down to 0. */
  readonly sigmas: Float32Array;
  /** Latents at each σ (unscaled x_σ, [1, F, C, h, w] flattened): states[0] = x_T, states[last] = x_0. */
  readonly states: Float32Array[];
  readonly shape: LatentShape;
}

/** Generates a clip conditioned on `frame` ([3, H, W] in [-1, 1]) and returns every intermediate latent. */
export async function generateTrajectory(models: VideoshopModels, frame: Tensor, o: GenerateOptions): Promise<Trajectory> {
  const scheduler = o.scheduler ?? SVD_SCHEDULER_CONFIG;
  const schedule = makeSchedule(scheduler, o.steps ?? 25, 1);
  const [, H, W] = frame.dims;
  const { vae } = models;
  const shape: LatentShape = { frames: o.frames, channels: vae.latentChannels, height: H / vae.downscale, width: W / vae.downscale };
  const rng = new Random(o.seed ?? 42);
  const noiseAug = o.noiseAug ?? 0.02;
  const pixelNoise: Tensor = { data: rng.normals(frame.data.length), dims: frame.dims };
  const z = await vae.encode(augment(frame, pixelNoise, noiseAug));
  const conditioning: Conditioning = {
    embedding: await embedFrame(models, frame),
    latents: { data: z.data, dims: [shape.channels, shape.height, shape.width] },
    addedTimeIds: [(o.fps ?? 7) - 1, o.motionBucket ?? 127, noiseAug],
  };
  const dims = latentDims(shape);
  const start = rng.normals(dims.reduce((a, b) => a * b, 1));
  const sigma0 = initNoiseSigma(scheduler, schedule);
  for (let i = 0; i < start.length; i++) start[i] *= sigma0;
  const states: Float32Array[] = [start];
  await denoiseLatents({
    denoiser: models.denoiser,
    schedule,
    prediction: scheduler.predictionType,
    start: { data: start, dims },
    conditioning,
    minGuidance: o.minGuidance ?? 1,
    maxGuidance: o.maxGuidance ?? 3,
    onStep: (k, total, x) => {
      states.push(new Float32Array(x));
      o.onStep?.(k, total);
    },
  });
  return { sigmas: schedule.sigmas, states, shape };
}
