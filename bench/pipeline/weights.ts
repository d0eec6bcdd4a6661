/**
 * Benchmark models with random weights in the diffusers folder layout, written fast enough for billion-parameter
 * configs: Random (src/random.ts) fills a pool of normals once and each tensor reads it cyclically from a random
 * offset (drawing 1.5 G fresh normals would take minutes). Scales follow models/tiny.ts randomWeights: matrices and
 * kernels ~ N(0, 1/fan_in), norm scales 1 + N(0, 0.1²), other vectors N(0, 0.05²), so activations stay O(1).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { parseClipVisionConfig } from '../../src/models/clip/config.js';
import { clipWeightShapes } from '../../src/models/clip/weights.js';
import { parseUnetConfig } from '../../src/models/unet/config.js';
import { unetWeightShapes } from '../../src/models/unet/weights.js';
import { parseVaeConfig } from '../../src/models/vae/config.js';
import { vaeWeightShapes } from '../../src/models/vae/weights.js';
import { Random } from '../../src/random.js';
import { SVD_SCHEDULER_CONFIG } from '../../src/schedulers/svd.js';
import { featureExtractorConfig, MODEL_INDEX } from '../../src/models/tiny.js';

const POOL = 1 << 20;

export interface BenchConfigs {
  readonly unet: Record<string, unknown>;
  readonly vae: Record<string, unknown>;
  readonly clip: Record<string, unknown>;
  /**
   * The config.json texts to write verbatim, when they come from files: re-serializing turns 1.0 into 1, which
   * transformers' strict config classes refuse (CLIPVisionConfig.initializer_factor must be a float).
   */
  readonly text?: { readonly unet: string; readonly vae: string; readonly clip: string };
}

interface Shape {
  readonly name: string;
  readonly shape: number[];
}

/** Parameter counts of the three networks of `configs`. */
export function parameterCounts(configs: BenchConfigs): { unet: number; vae: number; clip: number } {
  const count = (shapes: Shape[]) => shapes.reduce((s, w) => s + w.shape.reduce((a, b) => a * b, 1), 0);
  return {
    unet: count(unetWeightShapes(parseUnetConfig(configs.unet))),
    vae: count(vaeWeightShapes(parseVaeConfig(configs.vae))),
    clip: count(clipWeightShapes(parseClipVisionConfig(configs.clip))),
  };
}

/** Streams one float32 safetensors file tensor by tensor (never holds more than the largest tensor). */
function writePooledSafetensors(file: string, shapes: Shape[], pool: Float32Array, rng: Random): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', created_by: 'videoshop bench/pipeline' } };
  let offset = 0;
  for (const { name, shape } of shapes) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const head = Buffer.from(json);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(head.length));
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, len);
    writeSync(fd, head);
    for (const { name, shape } of shapes) {
      const n = shape.reduce((a, b) => a * b, 1);
      const isNorm = /norm/.test(name) && name.endsWith('.weight') && shape.length === 1;
      const scale = shape.length >= 2 ? 1 / Math.sqrt(shape.slice(1).reduce((a, b) => a * b, 1)) : isNorm ? 0.1 : 0.05;
      const base = isNorm ? 1 : 0;
      const data = new Float32Array(n);
      let k = rng.next32() % POOL;
      for (let i = 0; i < n; i++) {
        data[i] = base + scale * pool[k];
        if (++k === POOL) k = 0;
      }
      const buf = new Uint8Array(data.buffer);
      for (let done = 0; done < buf.length;) done += writeSync(fd, buf, done, buf.length - done);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/**
 * Writes a complete SVD folder for `configs` into `dir`; the weights are kept when a previous run left them for the
 * same configs and seed (model_index.json is written last, so its presence means the folder is complete).
 */
export function writeBenchModel(dir: string, configs: BenchConfigs, seed: number): { reused: boolean } {
  const stamp = path.join(dir, 'bench-configs.json');
  // The weights depend on the parsed configs and the seed only.
  const want = JSON.stringify({ configs: { unet: configs.unet, vae: configs.vae, clip: configs.clip }, seed });
  const reused = existsSync(path.join(dir, 'model_index.json')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want;
  if (!reused) rmSync(dir, { recursive: true, force: true });
  const json = (rel: string, value: unknown) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), `${JSON.stringify(value, null, 2)}\n`);
  };
  const config = (rel: string, value: Record<string, unknown>, text: string | undefined) => {
    if (text === undefined) return json(rel, value);
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), text);
  };
  json('scheduler/scheduler_config.json', SVD_SCHEDULER_CONFIG);
  json('feature_extractor/preprocessor_config.json', featureExtractorConfig(Number(configs.clip.image_size)));
  config('unet/config.json', configs.unet, configs.text?.unet);
  config('vae/config.json', configs.vae, configs.text?.vae);
  config('image_encoder/config.json', configs.clip, configs.text?.clip);
  if (reused) return { reused };
  const rng = new Random(seed);
  const pool = rng.normals(POOL);
  writePooledSafetensors(path.join(dir, 'unet/diffusion_pytorch_model.safetensors'), unetWeightShapes(parseUnetConfig(configs.unet)), pool, rng);
  writePooledSafetensors(path.join(dir, 'vae/diffusion_pytorch_model.safetensors'), vaeWeightShapes(parseVaeConfig(configs.vae)), pool, rng);
  writePooledSafetensors(path.join(dir, 'image_encoder/model.safetensors'), clipWeightShapes(parseClipVisionConfig(configs.clip)), pool, rng);
  writeFileSync(stamp, want);
  json('model_index.json', MODEL_INDEX);
  return { reused };
}
