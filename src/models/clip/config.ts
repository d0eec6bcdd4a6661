/**
 * transformers' CLIPVisionConfig, as read from an image_encoder/config.json (model_type "clip_vision_model").
 * Defaults for missing keys are transformers' (configuration_clip.py).
 */
import path from 'node:path';
import { ConfigError, asObject, bounded, int, num, str, readJsonConfig } from '../../util/config.js';

/** The activations of transformers' ACT2FN that we build: "gelu" is the exact erf GELU, the two tanh names are
 *  torch's tanh approximation, "quick_gelu" is x·σ(1.702x) (OpenAI CLIP). */
export const CLIP_ACTIVATIONS = ['gelu', 'quick_gelu', 'gelu_new', 'gelu_pytorch_tanh'] as const;
export type ClipActivation = (typeof CLIP_ACTIVATIONS)[number];

export interface ClipVisionConfig {
  hiddenSize: number;
  intermediateSize: number;
  projectionDim: number;
  numHiddenLayers: number;
  numAttentionHeads: number;
  numChannels: number;
  /** Side of the square input the position embeddings were trained for. */
  imageSize: number;
  patchSize: number;
  hiddenAct: ClipActivation;
  layerNormEps: number;
}

export function headDim(c: ClipVisionConfig): number {
  return c.hiddenSize / c.numAttentionHeads;
}

/** Patches per side: the patch conv has stride = kernel = patchSize and no padding, so a remainder is dropped. */
export function patchesPerSide(c: ClipVisionConfig): number {
  return Math.floor(c.imageSize / c.patchSize);
}

/** Tokens per image: one class token + the patches. */
export function numPositions(c: ClipVisionConfig): number {
  return patchesPerSide(c) ** 2 + 1;
}

export function parseClipVisionConfig(json: unknown, where = 'image_encoder/config.json'): ClipVisionConfig {
  const o = asObject(json, where);
  if (o.model_type !== undefined && o.model_type !== 'clip_vision_model') {
    throw new ConfigError(`${where}: model_type ${JSON.stringify(o.model_type)} is not supported (expected "clip_vision_model", `
      + 'the config of a CLIPVisionModelWithProjection)');
  }
  for (const key of ['image_size', 'patch_size']) {
    if (Array.isArray(o[key])) throw new ConfigError(`${where}: "${key}" must be a single integer (non-square sizes are not supported)`);
  }
  const c: ClipVisionConfig = {
    hiddenSize: int(o, 'hidden_size', where, 768),
    intermediateSize: int(o, 'intermediate_size', where, 3072),
    projectionDim: int(o, 'projection_dim', where, 512),
    numHiddenLayers: int(o, 'num_hidden_layers', where, 12),
    numAttentionHeads: int(o, 'num_attention_heads', where, 12),
    numChannels: int(o, 'num_channels', where, 3),
    imageSize: int(o, 'image_size', where, 224),
    patchSize: int(o, 'patch_size', where, 32),
    hiddenAct: str(o, 'hidden_act', where, CLIP_ACTIVATIONS, 'quick_gelu'),
    layerNormEps: num(o, 'layer_norm_eps', where, 1e-5),
  };
  const positive: (keyof ClipVisionConfig)[] = ['hiddenSize', 'intermediateSize', 'projectionDim', 'numAttentionHeads',
    'numChannels', 'imageSize', 'patchSize', 'layerNormEps'];
  for (const k of positive) {
    if ((c[k] as number) <= 0) throw new ConfigError(`${where}: ${k} must be positive, got ${c[k]}`);
  }
  if (c.numHiddenLayers < 0) throw new ConfigError(`${where}: num_hidden_layers must be ≥ 0, got ${c.numHiddenLayers}`);
  if (c.hiddenSize % c.numAttentionHeads !== 0) {
    throw new ConfigError(`${where}: hidden_size ${c.hiddenSize} is not a multiple of num_attention_heads ${c.numAttentionHeads}`);
  }
  if (c.patchSize > c.imageSize) throw new ConfigError(`${where}: patch_size ${c.patchSize} exceeds image_size ${c.imageSize}`);
  bounded(where, {
    hidden_size: c.hiddenSize, intermediate_size: c.intermediateSize, projection_dim: c.projectionDim, num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads, num_channels: c.numChannels, image_size: c.imageSize,
  }, {
    hidden_size: 16384, intermediate_size: 65536, projection_dim: 16384, num_hidden_layers: 256, num_attention_heads: 256,
    num_channels: 64, image_size: 4096,
  });
  return c;
}

export function readClipVisionConfig(folder: string): ClipVisionConfig {
  const file = path.join(folder, 'config.json');
  return parseClipVisionConfig(readJsonConfig(file), file);
}
