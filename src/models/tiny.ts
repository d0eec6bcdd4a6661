/**
 * `videoshop create-tiny-model`: a complete, tiny, random Stable Video Diffusion in the diffusers folder layout
 * (model_index.json + unet/ vae/ image_encoder/ scheduler/ feature_extractor/), written by our own safetensors
 * writer. Tests and new users run every loading path offline on it, exactly as on the real model.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Random } from '../random.js';
import { SVD_SCHEDULER_CONFIG } from '../schedulers/svd.js';
import { msg, option, VideoshopError } from '../util/errors.js';
import { writeSafetensors, type TensorToWrite } from '../safetensors/write.js';
import { parseClipVisionConfig } from './clip/config.js';
import { clipWeightShapes } from './clip/weights.js';
import { parseUnetConfig } from './unet/config.js';
import { unetWeightShapes } from './unet/weights.js';
import { parseVaeConfig } from './vae/config.js';
import { vaeWeightShapes } from './vae/weights.js';

/** UNet config in diffusers' keys: SVD's block layout, 32/64 channels, 14 frames like the real model. */
export const TINY_UNET_CONFIG = {
  _class_name: 'UNetSpatioTemporalConditionModel',
  addition_time_embed_dim: 8,
  block_out_channels: [32, 64],
  cross_attention_dim: 32,
  down_block_types: ['CrossAttnDownBlockSpatioTemporal', 'DownBlockSpatioTemporal'],
  in_channels: 8,
  layers_per_block: 1,
  num_attention_heads: [2, 4],
  num_frames: 14,
  out_channels: 4,
  projection_class_embeddings_input_dim: 24,
  sample_size: 16,
  transformer_layers_per_block: 1,
  up_block_types: ['UpBlockSpatioTemporal', 'CrossAttnUpBlockSpatioTemporal'],
};

export const TINY_VAE_CONFIG = {
  _class_name: 'AutoencoderKLTemporalDecoder',
  block_out_channels: [32, 32],
  down_block_types: ['DownEncoderBlock2D', 'DownEncoderBlock2D'],
  force_upcast: true,
  in_channels: 3,
  latent_channels: 4,
  layers_per_block: 1,
  out_channels: 3,
  sample_size: 32,
  scaling_factor: 0.18215,
};

export const TINY_CLIP_CONFIG = {
  architectures: ['CLIPVisionModelWithProjection'],
  hidden_act: 'gelu',
  hidden_size: 32,
  image_size: 32,
  intermediate_size: 64,
  layer_norm_eps: 1e-5,
  model_type: 'clip_vision_model',
  num_attention_heads: 4,
  num_channels: 3,
  num_hidden_layers: 2,
  patch_size: 8,
  projection_dim: 32,
};

/** model_index.json of an SVD folder in diffusers layout. */
export const MODEL_INDEX = {
  _class_name: 'StableVideoDiffusionPipeline',
  _diffusers_version: '0.24.0.dev0',
  feature_extractor: ['transformers', 'CLIPImageProcessor'],
  image_encoder: ['transformers', 'CLIPVisionModelWithProjection'],
  scheduler: ['diffusers', 'EulerDiscreteScheduler'],
  unet: ['diffusers', 'UNetSpatioTemporalConditionModel'],
  vae: ['diffusers', 'AutoencoderKLTemporalDecoder'],
};

/** feature_extractor/preprocessor_config.json: transformers' CLIPImageProcessor at `size`. */
export function featureExtractorConfig(size: number) {
  return {
    crop_size: { height: size, width: size },
    do_center_crop: true,
    do_convert_rgb: true,
    do_normalize: true,
    do_rescale: true,
    do_resize: true,
    image_mean: [0.48145466, 0.4578275, 0.40821073],
    image_processor_type: 'CLIPImageProcessor',
    image_std: [0.26862954, 0.26130258, 0.27577711],
    resample: 3,
    rescale_factor: 1 / 255,
    size: { shortest_edge: size },
  };
}

/**
 * Random weights with sensible scales so activations stay O(1): matrices and kernels ~ N(0, 1/fan_in), norm
 * scales ~ 1 + N(0, 0.1²), biases and embeddings ~ N(0, 0.05²).
 */
export function randomWeights(shapes: { name: string; shape: number[] }[], rng: Random): TensorToWrite[] {
  return shapes.map(({ name, shape }) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = rng.normals(n);
    const isNorm = /norm/.test(name) && name.endsWith('.weight') && shape.length === 1;
    const scale = shape.length >= 2 ? 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1)) : isNorm ? 0.1 : 0.05;
    for (let i = 0; i < n; i++) data[i] = (isNorm ? 1 : 0) + scale * data[i];
    return { name, dtype: 'F32', shape, data };
  });
}

export interface TinyModelOptions {
  seed?: number;
  /** Replace an existing folder, but only one holding a tiny model this function wrote (nothing else is deleted). */
  force?: boolean;
}

/** Written into every tiny model: `force` replaces only folders that hold it (and nothing but the model's files). */
export const TINY_MARKER = '.videoshop-tiny-model';
const TINY_FILES = new Set([TINY_MARKER, 'model_index.json', 'scheduler/scheduler_config.json', 'feature_extractor/preprocessor_config.json',
  'unet/config.json', 'vae/config.json', 'image_encoder/config.json', 'unet/diffusion_pytorch_model.safetensors',
  'vae/diffusion_pytorch_model.safetensors', 'image_encoder/model.safetensors']);


/** Files under `dir` (relative, forward slashes) that a tiny model does not consist of. */
function foreignFiles(dir: string): string[] {
  const entries = readdirSync(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .filter((f) => !TINY_FILES.has(f));
}

/** Whether `force` may delete `target`: empty, or exactly a tiny model with its marker. */
function checkReplaceable(target: string, dir: string, force: boolean): void {
  const st = statSync(target, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory()) throw new VideoshopError('not_a_folder', `${dir} exists and is not a folder: choose another path`);
  if (readdirSync(target).length === 0) return;
  if (!force) throw new VideoshopError('not_empty', msg`${dir} exists and is not empty: choose another folder, or pass ${option('force', true)} to replace a tiny model there`);
  const foreign = foreignFiles(target);
  let marked: boolean;
  try {
    marked = (JSON.parse(readFileSync(path.join(target, TINY_MARKER), 'utf8')) as { created_by?: unknown }).created_by === 'videoshop create-tiny-model';
  } catch {
    marked = false;
  }
  if (!marked || foreign.length > 0) {
    const what = foreign.length ? `files it did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''})` : 'no tiny model written by Videoshop';
    throw new VideoshopError('not_ours', `${dir} holds ${what}: nothing was replaced; choose another folder or empty it yourself`);
  }
}

/** Writes the tiny model into `dir` atomically (a temp folder beside it, renamed at the end). */
export function createTinyModel(dir: string, opts: TinyModelOptions = {}): void {
  const target = path.resolve(dir);
  checkReplaceable(target, dir, opts.force ?? false);
  const rng = new Random(opts.seed ?? 0);
  const tmp = `${target}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    const json = (rel: string, value: unknown) => {
      mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
      writeFileSync(path.join(tmp, rel), `${JSON.stringify(value, null, 2)}\n`);
    };
    json(TINY_MARKER, { created_by: 'videoshop create-tiny-model', seed: opts.seed ?? 0 });
    json('model_index.json', MODEL_INDEX);
    json('scheduler/scheduler_config.json', SVD_SCHEDULER_CONFIG);
    json('feature_extractor/preprocessor_config.json', featureExtractorConfig(TINY_CLIP_CONFIG.image_size));
    json('unet/config.json', TINY_UNET_CONFIG);
    json('vae/config.json', TINY_VAE_CONFIG);
    json('image_encoder/config.json', TINY_CLIP_CONFIG);
    const meta = { format: 'pt', created_by: 'videoshop create-tiny-model', seed: String(opts.seed ?? 0) };
    writeSafetensors(path.join(tmp, 'unet/diffusion_pytorch_model.safetensors'),
      randomWeights(unetWeightShapes(parseUnetConfig(TINY_UNET_CONFIG)), rng), meta);
    writeSafetensors(path.join(tmp, 'vae/diffusion_pytorch_model.safetensors'),
      randomWeights(vaeWeightShapes(parseVaeConfig(TINY_VAE_CONFIG)), rng), meta);
    writeSafetensors(path.join(tmp, 'image_encoder/model.safetensors'),
      randomWeights(clipWeightShapes(parseClipVisionConfig(TINY_CLIP_CONFIG)), rng), meta);
    rmSync(target, { recursive: true, force: true });
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
