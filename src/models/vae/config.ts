/**
 * The config of diffusers' AutoencoderKLTemporalDecoder (SVD's VAE), read from its config.json.
 * Missing keys take diffusers' constructor defaults; anything the class would build differently from what
 * our graphs implement is rejected here, with the field named.
 */
import path from 'node:path';
import { ConfigError, asObject, bool, bounded, int, ints, num, strings, type Json, readJsonConfig } from '../../util/config.js';

/** GroupNorm groups: hard-coded to 32 in every norm of this class (Encoder's norm_num_groups is not passed). */
export const VAE_NORM_GROUPS = 32;

export interface VaeConfig {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly blockOutChannels: readonly number[];
  readonly layersPerBlock: number;
  readonly latentChannels: number;
  readonly scalingFactor: number;
  readonly forceUpcast: boolean;
  /** Pixels per latent along each side: 2^(number of blocks − 1). */
  readonly downscale: number;
}

export function parseVaeConfig(json: unknown, where = 'vae config.json'): VaeConfig {
  const o: Json = asObject(json, where);
  const cls = o._class_name;
  if (cls !== undefined && cls !== 'AutoencoderKLTemporalDecoder') {
    throw new ConfigError(`${where}: "_class_name" is ${JSON.stringify(cls)}; only AutoencoderKLTemporalDecoder is supported`);
  }
  const blockOutChannels = ints(o, 'block_out_channels', where, [64]);
  if (blockOutChannels.length === 0) throw new ConfigError(`${where}: "block_out_channels" is empty`);
  for (const c of blockOutChannels) {
    if (c <= 0 || c % VAE_NORM_GROUPS !== 0) {
      throw new ConfigError(`${where}: every "block_out_channels" entry must be a positive multiple of ${VAE_NORM_GROUPS} (GroupNorm groups), got ${c}`);
    }
  }
  const downTypes = strings(o, 'down_block_types', where, ['DownEncoderBlock2D']);
  if (downTypes.length !== blockOutChannels.length) {
    throw new ConfigError(`${where}: "down_block_types" has ${downTypes.length} entries but "block_out_channels" has ${blockOutChannels.length}`);
  }
  downTypes.forEach((t, i) => {
    if (t !== 'DownEncoderBlock2D') throw new ConfigError(`${where}: down_block_types[${i}] is "${t}"; only DownEncoderBlock2D is supported`);
  });
  const positive = (key: string, fallback: number): number => {
    const v = int(o, key, where, fallback);
    if (v <= 0) throw new ConfigError(`${where}: "${key}" must be positive, got ${v}`);
    return v;
  };
  const scalingFactor = num(o, 'scaling_factor', where, 0.18215);
  if (scalingFactor <= 0) throw new ConfigError(`${where}: "scaling_factor" must be positive, got ${scalingFactor}`);
  // diffusers annotates force_upcast as float but uses it as a flag; accept both.
  const fu = o.force_upcast;
  const forceUpcast = typeof fu === 'number' ? fu !== 0 : bool(o, 'force_upcast', where, true);
  const config = {
    inChannels: positive('in_channels', 3),
    outChannels: positive('out_channels', 3),
    blockOutChannels,
    layersPerBlock: positive('layers_per_block', 1),
    latentChannels: positive('latent_channels', 4),
    scalingFactor,
    forceUpcast,
    downscale: 2 ** (blockOutChannels.length - 1),
  };
  bounded(where, {
    in_channels: config.inChannels, out_channels: config.outChannels, block_out_channels: blockOutChannels,
    blocks: blockOutChannels.length, layers_per_block: config.layersPerBlock, latent_channels: config.latentChannels,
  }, { in_channels: 64, out_channels: 64, block_out_channels: 8192, blocks: 8, layers_per_block: 16, latent_channels: 64 });
  return config;
}

export function readVaeConfig(folder: string): VaeConfig {
  const file = path.join(folder, 'config.json');
  return parseVaeConfig(readJsonConfig(file), file);
}
