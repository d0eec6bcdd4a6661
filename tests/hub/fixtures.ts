/** Small SVD-shaped repos (real config files, fake weight bytes) for the repository and download tests. */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

const SVD = path.resolve(import.meta.dirname, '..', '..', 'configs', 'stable-video-diffusion-img2vid');

const PREPROCESSOR = JSON.stringify({
  crop_size: { height: 224, width: 224 },
  do_normalize: true,
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_processor_type: 'CLIPImageProcessor',
  image_std: [0.26862954, 0.26130258, 0.27577711],
  size: { shortest_edge: 224 },
});

/** Deterministic, distinct bytes: `n` bytes whose pattern depends on `seed`. */
export function fakeBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** model_index.json and the four real config files, plus a CLIPImageProcessor config. */
export function svdConfigs(): Record<string, string> {
  const read = (p: string): string => readFileSync(path.join(SVD, p), 'utf8');
  return {
    'model_index.json': read('model_index.json'),
    'unet/config.json': read('unet/config.json'),
    'vae/config.json': read('vae/config.json'),
    'image_encoder/config.json': read('image_encoder/config.json'),
    'scheduler/scheduler_config.json': read('scheduler/scheduler_config.json'),
    'feature_extractor/preprocessor_config.json': PREPROCESSOR,
  };
}

export function shardIndex(shards: Record<string, string[]>): string {
  const weight_map: Record<string, string> = {};
  for (const [file, tensors] of Object.entries(shards)) for (const t of tensors) weight_map[t] = file;
  return JSON.stringify({ metadata: { total_size: 1234 }, weight_map }, null, 2);
}

const VAE_FP16_INDEX = 'vae/diffusion_pytorch_model.safetensors.index.fp16.json';
const VAE_SHARD_1 = 'vae/diffusion_pytorch_model.fp16-00001-of-00002.safetensors';
const VAE_SHARD_2 = 'vae/diffusion_pytorch_model.fp16-00002-of-00002.safetensors';

/**
 * Like the real SVD repos: root single-file checkpoints and .bin weights we must not fetch; unet with float32 and fp16
 * files; vae with a float32 file and sharded fp16 weights; image_encoder with float32 only (fp16 falls back).
 */
export function tinySvdRepo(unetFp16Bytes = 20_000): Record<string, string | Uint8Array> {
  return {
    ...svdConfigs(),
    'README.md': '# tiny svd\n',
    '.gitattributes': '*.safetensors filter=lfs diff=lfs merge=lfs -text\n',
    'svd.safetensors': fakeBytes(50_000, 1),
    'svd_image_decoder.safetensors': fakeBytes(30_000, 2),
    'unet/diffusion_pytorch_model.safetensors': fakeBytes(40_000, 3),
    'unet/diffusion_pytorch_model.fp16.safetensors': fakeBytes(unetFp16Bytes, 4),
    'unet/diffusion_pytorch_model.bin': fakeBytes(10_000, 5),
    'vae/diffusion_pytorch_model.safetensors': fakeBytes(16_000, 6),
    [VAE_FP16_INDEX]: shardIndex({
      'diffusion_pytorch_model.fp16-00001-of-00002.safetensors': ['encoder.conv_in.weight', 'encoder.conv_in.bias'],
      'diffusion_pytorch_model.fp16-00002-of-00002.safetensors': ['decoder.conv_out.weight'],
    }),
    [VAE_SHARD_1]: fakeBytes(5_000, 7),
    [VAE_SHARD_2]: fakeBytes(3_000, 8),
    'image_encoder/model.safetensors': fakeBytes(12_000, 9),
  };
}

/** What a fp16 download of tinySvdRepo must fetch, and nothing else. */
export const TINY_FP16_FILES = [
  'model_index.json',
  'unet/config.json',
  'unet/diffusion_pytorch_model.fp16.safetensors',
  'vae/config.json',
  VAE_FP16_INDEX,
  VAE_SHARD_1,
  VAE_SHARD_2,
  'image_encoder/config.json',
  'image_encoder/model.safetensors',
  'scheduler/scheduler_config.json',
  'feature_extractor/preprocessor_config.json',
].sort();

export const isLfs = (p: string): boolean => p.endsWith('.safetensors') || p.endsWith('.bin');

export async function writeRepo(folder: string, files: Record<string, string | Uint8Array>): Promise<void> {
  for (const [p, content] of Object.entries(files)) {
    const file = path.join(folder, ...p.split('/'));
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}
