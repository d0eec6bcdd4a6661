/**
 * Stable Video Diffusion as Videoshop uses it: a diffusers folder (or Hub id) → the three networks on ONNX Runtime,
 * the scheduler config, and the geometry the pipeline needs (native area, size multiple, frames per block).
 */
import { assertDeviceReady } from '../runtime/device.js';
import type { Device } from '../runtime/session.js';
import { parseEulerSchedulerConfig, type EulerSchedulerConfig } from '../schedulers/euler.js';
import { asObject, int, readJsonConfig } from '../util/config.js';
import { loadClip, type ClipImageEmbedder } from './clip/index.js';
import { openModelRepository, type WeightVariant } from './repository.js';
import { resolveModel, type ResolveOptions } from './resolve.js';
import type { VideoshopModels } from './types.js';
import { readUnetConfig } from './unet/config.js';
import { parseUnetSource, resolveUnetFile, type UnetFile } from './unet-file.js';
import { loadUnet, type OnnxDenoiser } from './unet/index.js';
import { loadVae, type OnnxVideoAutoencoder } from './vae/index.js';

/** The paper's model (gated on the Hub: accept its license, then set HF_TOKEN). */
export const DEFAULT_MODEL = 'stabilityai/stable-video-diffusion-img2vid';

export interface SvdLoadOptions {
  device?: Device;
  /** Compute precision; default float32 on cpu, float16 on GPUs. */
  dtype?: 'float32' | 'float16';
  /** Weight files to use; default: 'fp16' for float16 compute, the plain files for float32 (falls back either way). */
  variant?: WeightVariant | null;
  /** Folder for compiled graphs (default ~/.cache/videoshop/graphs or $VIDEOSHOP_CACHE). */
  cacheDir?: string;
  threads?: number;
  /** Hub download settings when `model` is a repo id. */
  hub?: Omit<ResolveOptions, 'variant' | 'weights'>;
  onNotice?: (message: string) => void;
  /**
   * Replace the model's UNet weights with this diffusers-keyed .safetensors file: a local path, or a Hub file as
   * org/name/file.safetensors (src/models/unet-file.ts). It is checked against the model's unet/config.json before any
   * large download, and the model's own UNet weights are then not downloaded at all.
   */
  unet?: string;
}

export interface SvdModel {
  readonly folder: string;
  readonly models: VideoshopModels;
  readonly scheduler: EulerSchedulerConfig;
  /** Frames the UNet was trained on (14, or 25 for -xt): the block length for long videos. */
  readonly numFrames: number;
  /** Pixel area the model was trained at: (unet sample_size · VAE downscale)², 768² = 1024·576 for SVD. */
  readonly nativeArea: number;
  /** Processing sides must be multiples of this: VAE downscale · 2^(UNet down blocks − 1) (64 for SVD). */
  readonly sizeMultiple: number;
  readonly device: Device;
  readonly dtype: 'float32' | 'float16';
  /** The `unet` file that replaced the model's UNet weights (its name picks a scheduler), or null: the model's own. */
  readonly unet: UnetFile | null;
  release(): Promise<void>;
}

export async function loadSvd(model: string, opts: SvdLoadOptions = {}): Promise<SvdModel> {
  const device = opts.device ?? 'cpu';
  const dtype = opts.dtype ?? (device === 'cpu' ? 'float32' : 'float16');
  const variant = opts.variant !== undefined ? opts.variant : dtype === 'float16' ? 'fp16' : null;
  // Before any download: a missing provider or GPU must not cost the user gigabytes first.
  await assertDeviceReady(device, dtype);
  const unetFile = opts.unet === undefined ? null : await checkedUnetFile(model, opts.unet, variant, opts);
  const weights = unetFile ? 'except-unet' : 'all';
  const folder = await resolveModel(model, { ...opts.hub, variant, weights, onNotice: opts.onNotice });
  const repo = await openModelRepository(folder, { variant, weights });
  for (const notice of repo.notices) opts.onNotice?.(notice);

  const scheduler = parseEulerSchedulerConfig(readJsonConfig(repo.scheduler.config), repo.scheduler.config);
  const unetJson = asObject(readJsonConfig(repo.unet.config), repo.unet.config);
  const sampleSize = int(unetJson, 'sample_size', repo.unet.config, 96);
  // The fused attention op keeps memory linear in tokens: the plain ops would hold [B·F, heads, L, L] scores, ~47 GB
  // for SVD's UNet at 576×1024. It is used on WebGPU too (SwiftShader's 4-lane subgroups break its flash kernel from
  // 32 tokens on — see docs/webgpu.md — real GPUs have 8 to 64 lanes).
  const attention = 'mha';
  const common = { device, dtype, cacheDir: opts.cacheDir, threads: opts.threads, attention } as const;
  // On CPU the UNet's conv weights stay memory-mapped at level 'extended': full-size SVD from fp16 files peaks at
  // 6.2 GiB (1.09× its fp32 weights) instead of 8.2 GiB at 'all', for ~5–10% slower convolutions (bench/README.md).
  const unet: OnnxDenoiser = await loadUnet(repo.unet.folder, {
    ...common, variant: repo.unet.weights.variant ?? undefined, optimization: device === 'cpu' ? 'extended' : undefined,
    weightsFile: unetFile?.file,
  });
  const vae: OnnxVideoAutoencoder = await loadVae(repo.vae.folder, { ...common, variant: repo.vae.weights.variant ?? undefined });
  const imageEmbedder: ClipImageEmbedder = await loadClip(repo.image_encoder.folder,
    { ...common, variant: repo.image_encoder.weights.variant ?? undefined });
  const downBlocks = unet.config.downBlockTypes.length;
  return {
    folder,
    models: { denoiser: unet, vae, imageEmbedder },
    scheduler,
    numFrames: unet.numFrames,
    nativeArea: (sampleSize * vae.downscale) ** 2,
    sizeMultiple: vae.downscale * 2 ** (downBlocks - 1),
    device,
    dtype,
    unet: unetFile,
    async release() {
      await Promise.all([unet.release(), vae.release(), imageEmbedder.release()]);
    },
  };
}

/**
 * The `unet` file, checked against the model's UNet config before anything large is fetched: the model's configs
 * first (small files), then the file's header (a Range request for a Hub file), then the file itself.
 */
async function checkedUnetFile(model: string, unet: string, variant: WeightVariant | null, opts: SvdLoadOptions): Promise<UnetFile> {
  const source = parseUnetSource(unet);
  const configs = await resolveModel(model, { ...opts.hub, variant, weights: 'none', onNotice: opts.onNotice });
  const repo = await openModelRepository(configs, { variant, weights: 'none' });
  return resolveUnetFile(source, readUnetConfig(repo.unet.folder), { ...opts.hub, onNotice: opts.onNotice });
}
