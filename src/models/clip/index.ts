/** CLIP image embedder on ONNX Runtime: SVD's preprocessing in TypeScript, the network as a graph we build. */
import path from 'node:path';
import { type Tensor, tensor } from '../../tensor.js';
import { DEFAULT_ATTENTION, type ModelLoadOptions } from '../load-options.js';
import type { ImageEmbedder } from '../types.js';
import { WeightStore } from '../../safetensors/read.js';
import { checkWeights } from '../check-weights.js';
import { clipWeightShapes } from './weights.js';
import { ModelSession } from '../../runtime/session.js';
import { type ClipVisionConfig, readClipVisionConfig } from './config.js';
import { CLIP_INPUT, CLIP_OUTPUT, buildClipGraph } from './graph.js';
import { clipPreprocess } from './preprocess.js';

export { type ClipVisionConfig, parseClipVisionConfig, readClipVisionConfig } from './config.js';
export { buildClipGraph } from './graph.js';
export { clipWeightShapes } from './weights.js';
export { CLIP_MEAN, CLIP_STD, clipPreprocess, resizeBilinearAntialias } from './preprocess.js';

/** ModelLoadOptions; `variant` names model.<variant>.safetensors, e.g. 'fp16' → model.fp16.safetensors. */
export type ClipLoadOptions = ModelLoadOptions;

export class ClipImageEmbedder implements ImageEmbedder {
  readonly embedDim: number;
  private session?: Promise<ModelSession>;

  /** `reopen` rebuilds the session after `release()` (from the graph cache), so a released embedder still embeds. */
  constructor(readonly config: ClipVisionConfig, session: ModelSession, private readonly reopen?: () => Promise<ModelSession>) {
    this.embedDim = config.projectionDim;
    this.session = Promise.resolve(session);
  }

  /** Side of the square the network sees; images are resized to it. */
  get imageSize(): number {
    return this.config.imageSize;
  }

  async embed(image: Tensor): Promise<Float32Array> {
    return (await this.embedMany([image]))[0];
  }

  /** Several images [3, H, W] in [-1, 1] (sizes may differ), embedded in one run. */
  async embedMany(images: readonly Tensor[]): Promise<Float32Array[]> {
    if (images.length === 0) return [];
    const s = this.config.imageSize;
    const plane = this.config.numChannels * s * s;
    const batch = new Float32Array(images.length * plane);
    images.forEach((img, i) => batch.set(clipPreprocess(img, s).data, i * plane));
    const out = await this.embedPixels(tensor(batch, [images.length, this.config.numChannels, s, s]));
    const d = this.embedDim;
    return images.map((_, i) => out.data.slice(i * d, (i + 1) * d));
  }

  /** The bare network: preprocessed pixel_values [B, C, S, S] → image_embeds [B, embedDim]. */
  async embedPixels(pixelValues: Tensor): Promise<Tensor> {
    const { numChannels: c, imageSize: s } = this.config;
    const [b] = pixelValues.dims;
    if (pixelValues.dims.length !== 4 || pixelValues.dims[1] !== c || pixelValues.dims[2] !== s || pixelValues.dims[3] !== s) {
      throw new Error(`CLIP: pixel_values must be [batch, ${c}, ${s}, ${s}], got [${pixelValues.dims.join(', ')}]`);
    }
    if (!this.session) {
      if (!this.reopen) throw new Error('CLIP: the session was released');
      this.session = this.reopen();
    }
    const out = await (await this.session).run({ [CLIP_INPUT]: pixelValues });
    return tensor(out[CLIP_OUTPUT].data, [b, this.embedDim]);
  }

  /** Frees the session (its weights: 2.4 GiB for SVD's ViT-H); the next embed rebuilds it when `reopen` was given. */
  async release(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await (await session).release();
  }
}

/** Loads transformers' CLIPVisionModelWithProjection from a folder (config.json + model[.variant].safetensors). */
export async function loadClip(folder: string, opts: ClipLoadOptions = {}): Promise<ClipImageEmbedder> {
  const config = readClipVisionConfig(folder);
  const weights = WeightStore.openFolder(folder, { variant: opts.variant, baseName: 'model' });
  checkWeights(weights, clipWeightShapes(config), path.join(folder, 'config.json'));
  const graph = buildClipGraph(config, weights, {
    computeType: opts.dtype ?? 'float32',
    attention: opts.attention ?? DEFAULT_ATTENTION,
  });
  const open = () => ModelSession.create(graph, { device: opts.device, cacheDir: opts.cacheDir, threads: opts.threads });
  return new ClipImageEmbedder(config, await open(), open);
}
