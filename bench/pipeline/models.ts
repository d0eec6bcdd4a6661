/**
 * The models the pipeline bench edits with, all with random weights:
 * - tiny: `videoshop create-tiny-model` (32/64-channel UNet, 14 frames), 14 frames at its native 32×32;
 * - mid:  SVD's configs with every width × 0.4 (--mid-width; 1 = the real 1.5 G-parameter UNet, VAE and ViT-H/14 CLIP),
 *         4 frames at 128×128;
 * - full: the same networks at SVD's native 14 frames × 576×1024 (for a GPU machine: `--full`).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseClipVisionConfig } from '../../src/models/clip/config.js';
import { createTinyModel, TINY_CLIP_CONFIG, TINY_UNET_CONFIG, TINY_VAE_CONFIG } from '../../src/models/tiny.js';
import { parseUnetConfig } from '../../src/models/unet/config.js';
import { parseVaeConfig } from '../../src/models/vae/config.js';
import { parameterCounts, writeBenchModel, type BenchConfigs } from './weights.js';

export type BenchModelName = 'tiny' | 'mid' | 'full';
export const BENCH_MODELS: readonly BenchModelName[] = ['tiny', 'mid', 'full'];

/** Width factor of the default mid model: a full edit plus PyTorch's calls in a few minutes on 2 shared cores. */
export const DEFAULT_MID_WIDTH = 0.4;

export const SVD_CONFIGS_DIR = path.resolve(import.meta.dirname, '..', '..', 'configs', 'stable-video-diffusion-img2vid');

export interface BenchModelSpec {
  readonly name: BenchModelName;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly configs: BenchConfigs;
  readonly description: string;
}

function realConfigs(): BenchConfigs {
  const read = (component: string) => {
    const file = path.join(SVD_CONFIGS_DIR, component, 'config.json');
    if (!existsSync(file)) throw new Error(`${file} is missing: the mid and full benches build SVD's real configs from there`);
    return readFileSync(file, 'utf8');
  };
  const text = { unet: read('unet'), vae: read('vae'), clip: read('image_encoder') };
  const parse = (t: string) => JSON.parse(t) as Record<string, unknown>;
  return { unet: parse(text.unet), vae: parse(text.vae), clip: parse(text.clip), text };
}

/**
 * SVD's configs with every width scaled by `f` (f = 1: the real files, verbatim). Depth, block types, head size and
 * conditioning sizes stay SVD's: UNet channels in multiples of 64 (64-wide heads, as SVD), VAE channels in multiples
 * of 32 (GroupNorm's 32 groups), CLIP width in multiples of 80 (80-wide heads, as ViT-H/14) with a 4× MLP.
 */
export function scaledConfigs(f: number): BenchConfigs {
  const real = realConfigs();
  if (f === 1) return real;
  const round = (x: number, m: number) => Math.max(m, Math.round((x * f) / m) * m);
  const unetChannels = (real.unet.block_out_channels as number[]).map((c) => round(c, 64));
  const clipHidden = round(Number(real.clip.hidden_size), 80);
  // Drop the float fields that JSON would write as integers (1.0 → 1), which transformers' strict config refuses;
  // their defaults are the same values.
  const { initializer_factor: _if, dropout: _d, attention_dropout: _ad, ...clip } = real.clip;
  return {
    unet: { ...real.unet, block_out_channels: unetChannels, num_attention_heads: unetChannels.map((c) => c / 64) },
    vae: { ...real.vae, block_out_channels: (real.vae.block_out_channels as number[]).map((c) => round(c, 32)) },
    clip: { ...clip, hidden_size: clipHidden, num_attention_heads: clipHidden / 80, intermediate_size: 4 * clipHidden },
  };
}

export function benchModelSpec(name: BenchModelName, midWidth = DEFAULT_MID_WIDTH): BenchModelSpec {
  switch (name) {
    case 'tiny':
      return {
        name, frames: TINY_UNET_CONFIG.num_frames, width: 32, height: 32,
        configs: { unet: TINY_UNET_CONFIG, vae: TINY_VAE_CONFIG, clip: TINY_CLIP_CONFIG },
        description: 'create-tiny-model SVD (random weights, seed 0): UNet 32/64 channels, 2 blocks; VAE 32/32; CLIP 2 layers × 32; ' +
          'its native 14 frames at 32×32',
      };
    case 'mid':
      return {
        name, frames: 4, width: 128, height: 128, configs: scaledConfigs(midWidth),
        description: midWidth === 1
          ? 'stable-video-diffusion-img2vid config.json files unchanged (full-width UNet, VAE and CLIP ViT-H/14), random weights; ' +
            'only the clip is small: 4 frames at 128×128 (latents 16×16) instead of 14 at 576×1024'
          : `SVD's block structure, depth, head size and conditioning sizes with every width scaled by ${midWidth} (--mid-width; ` +
            '1 = the real configs), random weights; 4 frames at 128×128 (latents 16×16)',
      };
    case 'full':
      return {
        name, frames: 14, width: 1024, height: 576, configs: realConfigs(),
        description: 'stable-video-diffusion-img2vid config.json files, random weights, native 14 frames at 1024×576',
      };
  }
}

/** The model's diffusers folder under `workDir`, written on first use and reused after. */
export function prepareModel(spec: BenchModelSpec, workDir: string): { folder: string; reused: boolean } {
  if (spec.name === 'tiny') {
    const folder = path.join(workDir, 'model-tiny');
    if (existsSync(path.join(folder, 'model_index.json'))) return { folder, reused: true };
    createTinyModel(folder, { seed: 0, force: true });
    return { folder, reused: false };
  }
  // Real configs (full, or mid at width 1) share one folder: same configs, same weights.
  const real = spec.configs.text !== undefined;
  const folder = path.join(workDir, real ? 'model-svd-random' : `model-svd-random-${spec.name}`);
  return { folder, reused: writeBenchModel(folder, spec.configs, 1).reused };
}

export function describeModel(spec: BenchModelSpec) {
  const unet = parseUnetConfig(spec.configs.unet);
  const vae = parseVaeConfig(spec.configs.vae);
  const clip = parseClipVisionConfig(spec.configs.clip);
  return {
    description: spec.description,
    frames: spec.frames,
    width: spec.width,
    height: spec.height,
    latents: [spec.frames, vae.latentChannels, spec.height / vae.downscale, spec.width / vae.downscale],
    unetBlockOutChannels: unet.blockOutChannels,
    vaeBlockOutChannels: vae.blockOutChannels,
    clip: { layers: clip.numHiddenLayers, hidden: clip.hiddenSize, imageSize: clip.imageSize },
    parameters: parameterCounts(spec.configs),
  };
}
