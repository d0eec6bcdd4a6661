/**
 * SVD's denoiser (diffusers' UNetSpatioTemporalConditionModel) on ONNX Runtime, as the pipeline's Denoiser.
 *
 *   const unet = await loadUnet('<model>/unet', { device: 'cuda', variant: 'fp16', dtype: 'float16' });
 *   const v = await unet.predict({ sample, timestep, encoderHiddenStates, addedTimeIds });  // [B, F, 4, h, w]
 *
 * The session is built on first use. Batch, frames and latent size may change from call to call.
 */
import path from 'node:path';
import { ModelSession, type SessionOptions } from '../../runtime/session.js';
import { WeightStore } from '../../safetensors/read.js';
import { checkWeights } from '../check-weights.js';
import { unetWeightShapes } from './weights.js';
import { type Tensor, tensor } from '../../tensor.js';
import { DEFAULT_ATTENTION, type ModelLoadOptions } from '../load-options.js';
import type { Denoiser, DenoiserInput } from '../types.js';
import { readUnetConfig, type UnetConfig } from './config.js';
import { buildUnetGraph, UNET_OUTPUT } from './graph.js';

export interface UnetLoadOptions extends ModelLoadOptions {
  /** ORT graph optimization level (see SessionOptions: memory vs speed); default 'all'. */
  optimization?: SessionOptions['optimization'];
  /** One .safetensors file holding every UNet weight, instead of the folder's (`--unet`); `variant` is then unused. */
  weightsFile?: string;
}

export class OnnxDenoiser implements Denoiser {
  readonly latentChannels: number;
  readonly numFrames: number;
  private session?: Promise<ModelSession>;

  constructor(
    readonly config: UnetConfig,
    private readonly weights: WeightStore,
    private readonly opts: UnetLoadOptions = {},
  ) {
    this.latentChannels = config.outChannels;
    this.numFrames = config.numFrames;
  }

  private getSession(): Promise<ModelSession> {
    const attention = this.opts.attention ?? DEFAULT_ATTENTION;
    this.session ??= ModelSession.create(
      buildUnetGraph(this.config, this.weights, { computeType: this.opts.dtype ?? 'float32', attention }),
      { device: this.opts.device, cacheDir: this.opts.cacheDir, threads: this.opts.threads, optimization: this.opts.optimization },
    );
    return this.session;
  }

  async predict(input: DenoiserInput): Promise<Tensor> {
    const c = this.config;
    const s = input.sample.dims;
    if (s.length !== 5 || s[1] < 1 || s[2] !== c.inChannels) {
      throw new Error(`unet.predict: sample must be [batch, frames, ${c.inChannels}, h, w], got [${s.join(', ')}]`);
    }
    const batch = s[0];
    const e = input.encoderHiddenStates.dims;
    if (e.length !== 3 || e[0] !== batch || e[2] !== c.crossAttentionDim) {
      throw new Error(`unet.predict: encoderHiddenStates must be [${batch}, seq, ${c.crossAttentionDim}], got [${e.join(', ')}]`);
    }
    const a = input.addedTimeIds.dims;
    if (a.length !== 2 || a[0] !== batch || a[1] !== c.numTimeIds) {
      throw new Error(`unet.predict: addedTimeIds must be [${batch}, ${c.numTimeIds}], got [${a.join(', ')}]`);
    }
    if (!Number.isFinite(input.timestep)) throw new Error(`unet.predict: timestep ${input.timestep} is not finite`);
    const session = await this.getSession();
    const out = await session.run({
      sample: tensor(input.sample.data, s),
      timestep: tensor(Float32Array.of(input.timestep), []),
      encoder_hidden_states: tensor(input.encoderHiddenStates.data, e),
      added_time_ids: tensor(input.addedTimeIds.data, a),
    });
    return out[UNET_OUTPUT];
  }

  async release(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await (await session).release();
  }
}

/**
 * Opens a diffusers `unet` folder (config.json + weights, or config.json + `weightsFile`); nothing is compiled until the
 * first predict.
 */
export async function loadUnet(folder: string, opts: UnetLoadOptions = {}): Promise<OnnxDenoiser> {
  const config = readUnetConfig(folder);
  const weights = opts.weightsFile ? WeightStore.openFiles([opts.weightsFile]) : WeightStore.openFolder(folder, { variant: opts.variant });
  checkWeights(weights, unetWeightShapes(config), path.join(folder, 'config.json'));
  return new OnnxDenoiser(config, weights, opts);
}
