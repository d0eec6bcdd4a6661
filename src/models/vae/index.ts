/**
 * SVD's VAE (diffusers' AutoencoderKLTemporalDecoder) on ONNX Runtime, as the pipeline's VideoAutoencoder.
 *
 *   const vae = await loadVae('<model>/vae', { device: 'cuda', variant: 'fp16' });
 *   const z = await vae.encode(frames);          // [n, 3, H, W] in [-1, 1] → mean latents [n, 4, H/8, W/8]
 *   const x = await vae.decode(z, z.dims[0]);    // one clip of consecutive frames → [n, 3, H, W]
 *
 * Sessions are built on first use (a pipeline that only decodes never builds the encoder). The encoder works per
 * frame, so callers chunk `encode` as they like; `decode` mixes the frames of a clip, so its chunks are clips.
 */
import path from 'node:path';
import { ModelSession } from '../../runtime/session.js';
import { WeightStore } from '../../safetensors/read.js';
import { checkWeights } from '../check-weights.js';
import { vaeWeightShapes } from './weights.js';
import { type Tensor, tensor } from '../../tensor.js';
import { DEFAULT_ATTENTION, type ModelLoadOptions } from '../load-options.js';
import type { VideoAutoencoder } from '../types.js';
import { readVaeConfig, type VaeConfig } from './config.js';
import { buildVaeDecoderGraph, buildVaeEncoderGraph, type VaeGraphOptions } from './graph.js';

export interface VaeLoadOptions extends ModelLoadOptions {
  /**
   * With dtype 'float16', a VAE whose config.json says force_upcast: true (SVD's) still computes in float32, as
   * diffusers' SVD pipeline does. Default: config.force_upcast; false lets dtype 'float16' compute in float16 (what
   * the Videoshop reference's direct vae.encode/vae.decode calls do).
   */
  upcast?: boolean;
}

export interface LatentDistribution {
  /** [n, latentChannels, h, w]: the mean, which is also the mode. */
  mean: Tensor;
  /** Same shape: the log-variance clamped to [−30, 20]; sample as mean + exp(logvar / 2)·ε with your own ε. */
  logvar: Tensor;
}

export class OnnxVideoAutoencoder implements VideoAutoencoder {
  readonly latentChannels: number;
  readonly downscale: number;
  readonly scalingFactor: number;
  readonly computeType: 'float32' | 'float16';
  private encoder?: Promise<ModelSession>;
  private decoder?: Promise<ModelSession>;

  constructor(
    readonly config: VaeConfig,
    private readonly weights: WeightStore,
    private readonly opts: VaeLoadOptions = {},
  ) {
    this.latentChannels = config.latentChannels;
    this.downscale = config.downscale;
    this.scalingFactor = config.scalingFactor;
    this.computeType = opts.dtype === 'float16' && !(opts.upcast ?? config.forceUpcast) ? 'float16' : 'float32';
  }

  private sessionOptions() {
    return { device: this.opts.device, cacheDir: this.opts.cacheDir, threads: this.opts.threads };
  }

  private graphOptions(): VaeGraphOptions {
    return { computeType: this.computeType, attention: this.opts.attention ?? DEFAULT_ATTENTION };
  }

  private encoderSession(): Promise<ModelSession> {
    this.encoder ??= ModelSession.create(buildVaeEncoderGraph(this.config, this.weights, this.graphOptions()), this.sessionOptions());
    return this.encoder;
  }

  private decoderSession(): Promise<ModelSession> {
    this.decoder ??= ModelSession.create(buildVaeDecoderGraph(this.config, this.weights, this.graphOptions()), this.sessionOptions());
    return this.decoder;
  }

  /** The latent distribution of each frame [n, inChannels, H, W]. */
  async encodeDistribution(frames: Tensor): Promise<LatentDistribution> {
    if (frames.dims.length !== 4 || frames.dims[1] !== this.config.inChannels) {
      throw new Error(`vae.encode: expected frames [n, ${this.config.inChannels}, H, W], got [${frames.dims.join(', ')}]`);
    }
    const out = await (await this.encoderSession()).run({ frames: tensor(frames.data, frames.dims) });
    return { mean: out.mean, logvar: out.logvar };
  }

  async encode(frames: Tensor): Promise<Tensor> {
    return (await this.encodeDistribution(frames)).mean;
  }

  /** latents [B·numFrames, latentChannels, h, w]: B clips of numFrames consecutive frames each. */
  async decode(latents: Tensor, numFrames: number): Promise<Tensor> {
    const [n, c] = latents.dims;
    if (latents.dims.length !== 4 || c !== this.latentChannels) {
      throw new Error(`vae.decode: expected latents [n, ${this.latentChannels}, h, w], got [${latents.dims.join(', ')}]`);
    }
    if (!Number.isInteger(numFrames) || numFrames < 1 || n % numFrames !== 0) {
      throw new Error(`vae.decode: ${n} latent frames do not split into clips of ${numFrames}`);
    }
    const out = await (await this.decoderSession()).run({
      latents: tensor(latents.data, latents.dims),
      num_frames: { data: BigInt64Array.of(BigInt(numFrames)), dims: [1], type: 'int64' },
    });
    return out.frames;
  }

  /** Frees the encoder's session (rebuilt on the next encode): a pipeline done encoding keeps only the decoder. */
  async releaseEncoder(): Promise<void> {
    const s = this.encoder;
    this.encoder = undefined;
    if (s) await (await s).release();
  }

  async release(): Promise<void> {
    const sessions = [this.encoder, this.decoder];
    this.encoder = undefined;
    this.decoder = undefined;
    for (const s of sessions) if (s) await (await s).release();
  }
}

/** Opens a diffusers `vae` folder (config.json + diffusion_pytorch_model[.variant].safetensors). */
export function loadVae(folder: string, opts: VaeLoadOptions = {}): Promise<OnnxVideoAutoencoder> {
  const config = readVaeConfig(folder);
  const weights = WeightStore.openFolder(folder, { variant: opts.variant });
  checkWeights(weights, vaeWeightShapes(config), path.join(folder, 'config.json'));
  return Promise.resolve(new OnnxVideoAutoencoder(config, weights, opts));
}
