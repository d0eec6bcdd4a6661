/**
 * The config of diffusers' UNetSpatioTemporalConditionModel (SVD's denoiser), read from its config.json.
 * Missing keys take diffusers' constructor defaults; per-block fields given as one int are broadcast to every block,
 * as diffusers does. Anything our graph would compute differently from the class is rejected here, field named.
 */
import path from 'node:path';
import { ConfigError, asObject, bounded, int, intOrInts, ints, strings, type Json, readJsonConfig } from '../../util/config.js';

/** GroupNorm groups: hard-coded to 32 in every norm of this class and of its blocks. */
export const UNET_NORM_GROUPS = 32;

export const CROSS_ATTN_DOWN = 'CrossAttnDownBlockSpatioTemporal';
export const PLAIN_DOWN = 'DownBlockSpatioTemporal';
export const CROSS_ATTN_UP = 'CrossAttnUpBlockSpatioTemporal';
export const PLAIN_UP = 'UpBlockSpatioTemporal';
export type DownBlockType = typeof CROSS_ATTN_DOWN | typeof PLAIN_DOWN;
export type UpBlockType = typeof CROSS_ATTN_UP | typeof PLAIN_UP;

export interface UnetConfig {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly downBlockTypes: readonly DownBlockType[];
  readonly upBlockTypes: readonly UpBlockType[];
  readonly blockOutChannels: readonly number[];
  /** Per down block (up block i uses entry n−1−i, plus one extra resnet). */
  readonly layersPerBlock: readonly number[];
  /** Per down block; the mid block uses the last entry, up block i entry n−1−i. */
  readonly transformerLayersPerBlock: readonly number[];
  /** Per down block, same indexing as transformerLayersPerBlock. Head dim = block channels / heads. */
  readonly numAttentionHeads: readonly number[];
  /** Width of encoder_hidden_states (one value: every block attends to the same tensor). */
  readonly crossAttentionDim: number;
  /** Sinusoidal width per added time id. */
  readonly additionTimeEmbedDim: number;
  /** Input width of add_embedding = additionTimeEmbedDim × numTimeIds. */
  readonly projectionClassEmbeddingsInputDim: number;
  /** Number of added time ids per sample (SVD: 3 = fps − 1, motion bucket, noise augmentation). */
  readonly numTimeIds: number;
  readonly numFrames: number;
  /** 4 × blockOutChannels[0]: width of the time embedding fed to every resnet. */
  readonly timeEmbedDim: number;
}

export function parseUnetConfig(json: unknown, where = 'unet config.json'): UnetConfig {
  const o: Json = asObject(json, where);
  const cls = o._class_name;
  if (cls !== undefined && cls !== 'UNetSpatioTemporalConditionModel') {
    throw new ConfigError(`${where}: "_class_name" is ${JSON.stringify(cls)}; only UNetSpatioTemporalConditionModel is supported`);
  }
  const positive = (key: string, fallback: number): number => {
    const v = int(o, key, where, fallback);
    if (v <= 0) throw new ConfigError(`${where}: "${key}" must be positive, got ${v}`);
    return v;
  };
  const blockOutChannels = ints(o, 'block_out_channels', where, [320, 640, 1280, 1280]);
  const n = blockOutChannels.length;
  if (n === 0) throw new ConfigError(`${where}: "block_out_channels" is empty`);
  blockOutChannels.forEach((c, i) => {
    if (c <= 0 || c % UNET_NORM_GROUPS !== 0) {
      throw new ConfigError(`${where}: block_out_channels[${i}] must be a positive multiple of ${UNET_NORM_GROUPS} (GroupNorm groups), got ${c}`);
    }
  });
  const downBlockTypes = strings(o, 'down_block_types', where, [CROSS_ATTN_DOWN, CROSS_ATTN_DOWN, CROSS_ATTN_DOWN, PLAIN_DOWN]);
  const upBlockTypes = strings(o, 'up_block_types', where, [PLAIN_UP, CROSS_ATTN_UP, CROSS_ATTN_UP, CROSS_ATTN_UP]);
  for (const [key, list] of [['down_block_types', downBlockTypes], ['up_block_types', upBlockTypes]] as const) {
    if (list.length !== n) throw new ConfigError(`${where}: "${key}" has ${list.length} entries but "block_out_channels" has ${n}`);
  }
  downBlockTypes.forEach((t, i) => {
    if (t !== CROSS_ATTN_DOWN && t !== PLAIN_DOWN) {
      throw new ConfigError(`${where}: down_block_types[${i}] is "${t}"; only ${CROSS_ATTN_DOWN} and ${PLAIN_DOWN} are supported`);
    }
  });
  upBlockTypes.forEach((t, i) => {
    if (t !== CROSS_ATTN_UP && t !== PLAIN_UP) {
      throw new ConfigError(`${where}: up_block_types[${i}] is "${t}"; only ${CROSS_ATTN_UP} and ${PLAIN_UP} are supported`);
    }
  });

  const perBlock = (key: string, fallback: number | number[]): number[] => {
    const v = o[key];
    if (Array.isArray(v) && v.some((x) => Array.isArray(x))) {
      throw new ConfigError(`${where}: "${key}" as a list of per-layer lists is not supported (give one int per block)`);
    }
    const list = intOrInts(o, key, where, n, fallback);
    list.forEach((x, i) => {
      if (x <= 0) throw new ConfigError(`${where}: ${key}[${i}] must be positive, got ${x}`);
    });
    return list;
  };
  const layersPerBlock = perBlock('layers_per_block', 2);
  const transformerLayersPerBlock = perBlock('transformer_layers_per_block', 1);
  const numAttentionHeads = perBlock('num_attention_heads', [5, 10, 20, 20]);
  const crossDims = perBlock('cross_attention_dim', 1024);
  if (crossDims.some((d) => d !== crossDims[0])) {
    // diffusers builds such a model, but every block receives the same encoder_hidden_states, so it cannot run.
    throw new ConfigError(`${where}: "cross_attention_dim" entries differ (${crossDims.join(', ')}); all blocks attend to one encoder_hidden_states`);
  }

  // Which (channels, heads) pairs build a transformer: cross-attention down/up blocks and the mid block.
  const checkHeads = (channels: number, heads: number, what: string): void => {
    if (channels % heads !== 0) {
      throw new ConfigError(`${where}: ${what} has ${channels} channels, not divisible by its ${heads} attention heads`);
    }
  };
  downBlockTypes.forEach((t, i) => {
    if (t === CROSS_ATTN_DOWN) checkHeads(blockOutChannels[i], numAttentionHeads[i], `down block ${i}`);
  });
  checkHeads(blockOutChannels[n - 1], numAttentionHeads[n - 1], 'the mid block');
  upBlockTypes.forEach((t, i) => {
    if (t === CROSS_ATTN_UP) checkHeads(blockOutChannels[n - 1 - i], numAttentionHeads[n - 1 - i], `up block ${i}`);
  });

  const additionTimeEmbedDim = positive('addition_time_embed_dim', 256);
  const projectionClassEmbeddingsInputDim = positive('projection_class_embeddings_input_dim', 768);
  if (projectionClassEmbeddingsInputDim % additionTimeEmbedDim !== 0) {
    throw new ConfigError(
      `${where}: "projection_class_embeddings_input_dim" (${projectionClassEmbeddingsInputDim}) must be a multiple of ` +
        `"addition_time_embed_dim" (${additionTimeEmbedDim}): one sinusoidal embedding per added time id`,
    );
  }
  const config = {
    inChannels: positive('in_channels', 8),
    outChannels: positive('out_channels', 4),
    downBlockTypes: downBlockTypes as DownBlockType[],
    upBlockTypes: upBlockTypes as UpBlockType[],
    blockOutChannels,
    layersPerBlock,
    transformerLayersPerBlock,
    numAttentionHeads,
    crossAttentionDim: crossDims[0],
    additionTimeEmbedDim,
    projectionClassEmbeddingsInputDim,
    numTimeIds: projectionClassEmbeddingsInputDim / additionTimeEmbedDim,
    numFrames: positive('num_frames', 25),
    timeEmbedDim: 4 * blockOutChannels[0],
  };
  bounded(where, {
    in_channels: config.inChannels, out_channels: config.outChannels, block_out_channels: blockOutChannels, blocks: n,
    layers_per_block: layersPerBlock, transformer_layers_per_block: transformerLayersPerBlock, num_attention_heads: numAttentionHeads,
    cross_attention_dim: config.crossAttentionDim, addition_time_embed_dim: additionTimeEmbedDim,
    projection_class_embeddings_input_dim: projectionClassEmbeddingsInputDim, num_frames: config.numFrames,
  }, {
    in_channels: 64, out_channels: 64, block_out_channels: 8192, blocks: 8, layers_per_block: 16, transformer_layers_per_block: 16,
    num_attention_heads: 256, cross_attention_dim: 8192, addition_time_embed_dim: 4096, projection_class_embeddings_input_dim: 65536,
    num_frames: 1024,
  });
  return config;
}

export function readUnetConfig(folder: string): UnetConfig {
  const file = path.join(folder, 'config.json');
  return parseUnetConfig(readJsonConfig(file), file);
}
