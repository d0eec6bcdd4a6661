/**
 * `--variants`: the same calls under other ONNX Runtime settings than the defaults (graph optimization level,
 * attention kernel, thread spinning), each in its own session, timed in rounds side by side when they fit in RAM,
 * with the output checked against the default's.
 * Measures only; changing a default is the lead's call (see bench/PIPELINE.md).
 */
import path from 'node:path';
import { loadClip } from '../../src/models/clip/index.js';
import { readUnetConfig } from '../../src/models/unet/config.js';
import { buildUnetGraph, UNET_OUTPUT } from '../../src/models/unet/graph.js';
import { loadVae } from '../../src/models/vae/index.js';
import { ModelSession, type Device, type SessionOptions } from '../../src/runtime/session.js';
import { WeightStore } from '../../src/safetensors/read.js';
import type { Tensor } from '../../src/tensor.js';
import type { CallSet } from './calls.js';
import { maxAbsDiff, median, ratio, round } from './stats.js';

export interface VariantOptions {
  readonly threads: number;
  readonly device: Device;
  readonly repeats: number;
  readonly dtype: 'float32' | 'float16';
  readonly cacheDir: string;
}

interface UnetVariant {
  readonly attention: 'mha' | 'matmul';
  readonly optimization: NonNullable<SessionOptions['optimization']>;
  readonly config?: Record<string, string>;
}

/** The first is the reference of speedup_vs_first (loadSvd's choice on cpu may differ: see bench/PIPELINE.md). */
const UNET_VARIANTS: Record<string, UnetVariant> = {
  'mha + all': { attention: 'mha', optimization: 'all' },
  'matmul + all': { attention: 'matmul', optimization: 'all' },
  'mha + extended': { attention: 'mha', optimization: 'extended' },
  'mha + all + no spinning': { attention: 'mha', optimization: 'all', config: { 'session.intra_op.allow_spinning': '0' } },
};

/** Above this many UNet parameters, variant sessions are built and timed one at a time instead of side by side. */
const SIDE_BY_SIDE_MAX_PARAMETERS = 5e8;

type Timed = Record<string, { ms: number; output: Float32Array }>;

/**
 * Warm-ups, then `repeats` rounds in which every function runs once: on a shared machine, load changes by the
 * minute, and rounds spread it over all variants alike.
 */
async function timeRounds(fns: Record<string, () => Promise<Float32Array>>, repeats: number): Promise<Timed> {
  const outputs: Record<string, Float32Array> = {};
  for (const [k, f] of Object.entries(fns)) {
    outputs[k] = await f();
    await f();
  }
  const ms: Record<string, number[]> = Object.fromEntries(Object.keys(fns).map((k) => [k, []]));
  for (let r = 0; r < repeats; r++) {
    for (const [k, f] of Object.entries(fns)) {
      const t = performance.now();
      await f();
      ms[k].push(performance.now() - t);
    }
  }
  return Object.fromEntries(Object.keys(fns).map((k) => [k, { ms: median(ms[k]), output: outputs[k] }]));
}

export async function benchVariants(folder: string, set: CallSet, o: VariantOptions, log: (m: string) => void) {
  const unetFolder = path.join(folder, 'unet');
  const config = readUnetConfig(unetFolder);
  const weights = WeightStore.openFolder(unetFolder);
  const feeds = (b: 1 | 2): Record<string, Tensor> => ({
    sample: set.tensors[`sample${b}`],
    timestep: { data: set.tensors.timestep.data, dims: [] },
    encoder_hidden_states: set.tensors[`ehs${b}`],
    added_time_ids: set.tensors[`ids${b}`],
  });
  const create = async (v: UnetVariant) => {
    const t = performance.now();
    const session = await ModelSession.create(buildUnetGraph(config, weights, { computeType: o.dtype, attention: v.attention }),
      { device: o.device, threads: o.threads, cacheDir: o.cacheDir, optimization: v.optimization, config: v.config });
    return { session, createMs: performance.now() - t };
  };
  const calls = (s: ModelSession) => ({
    b1: async () => (await s.run(feeds(1)))[UNET_OUTPUT].data,
    b2: async () => (await s.run(feeds(2)))[UNET_OUTPUT].data,
  });
  const names = Object.keys(UNET_VARIANTS);
  const sideBySide = weights.names().reduce((n, w) => n + weights.info(w).shape.reduce((a, b) => a * b, 1), 0) <= SIDE_BY_SIDE_MAX_PARAMETERS;
  const created: Record<string, number> = {};
  const timed: Record<string, Timed> = {};
  if (sideBySide) {
    log(`variants: ${names.length} UNet sessions side by side…`);
    const sessions: Record<string, ModelSession> = {};
    for (const n of names) ({ session: sessions[n], createMs: created[n] } = await create(UNET_VARIANTS[n]));
    for (const b of ['b1', 'b2'] as const) {
      const r = await timeRounds(Object.fromEntries(names.map((n) => [n, calls(sessions[n])[b]])), o.repeats);
      for (const n of names) (timed[n] ??= {})[b] = r[n];
    }
    for (const n of names) await sessions[n].release();
  } else {
    for (const n of names) {
      log(`variant unet ${n}…`);
      const { session, createMs } = await create(UNET_VARIANTS[n]);
      created[n] = createMs;
      const c = calls(session);
      timed[n] = { b1: (await timeRounds({ b1: c.b1 }, o.repeats)).b1, b2: (await timeRounds({ b2: c.b2 }, o.repeats)).b2 };
      await session.release();
    }
  }
  const base = timed[names[0]];
  const unet = Object.fromEntries(names.map((n) => [n, {
    session_create_ms: round(created[n]), batch1_ms: round(timed[n].b1.ms), batch2_ms: round(timed[n].b2.ms),
    max_abs_diff_vs_first: Number(Math.max(maxAbsDiff(timed[n].b1.output, base.b1.output), maxAbsDiff(timed[n].b2.output, base.b2.output)).toPrecision(3)),
    speedup_vs_first: { batch1: ratio(base.b1.ms / timed[n].b1.ms), batch2: ratio(base.b2.ms / timed[n].b2.ms) },
  }]));

  // CLIP and the VAE decoder: the attention kernel (cpu defaults: matmul for both), side by side.
  log('variants: CLIP and VAE decoder, matmul vs mha attention…');
  const common = { device: o.device, threads: o.threads, cacheDir: o.cacheDir, dtype: o.dtype };
  const embedders = { matmul: await loadClip(path.join(folder, 'image_encoder'), { ...common, attention: 'matmul' }),
    mha: await loadClip(path.join(folder, 'image_encoder'), { ...common, attention: 'mha' }) };
  const clip = await timeRounds({
    matmul: async () => (await embedders.matmul.embedPixels(set.tensors.pixel_values)).data,
    mha: async () => (await embedders.mha.embedPixels(set.tensors.pixel_values)).data,
  }, o.repeats);
  for (const e of Object.values(embedders)) await e.release();
  const vaes = { matmul: await loadVae(path.join(folder, 'vae'), { ...common, attention: 'matmul' }),
    mha: await loadVae(path.join(folder, 'vae'), { ...common, attention: 'mha' }) };
  const latents = set.tensors.latents;
  const vae = await timeRounds({
    matmul: async () => (await vaes.matmul.decode(latents, latents.dims[0])).data,
    mha: async () => (await vaes.mha.decode(latents, latents.dims[0])).data,
  }, o.repeats);
  for (const v of Object.values(vaes)) await v.release();
  const pair = (t: Timed) => ({
    matmul_ms: round(t.matmul.ms), mha_ms: round(t.mha.ms), mha_speedup: ratio(t.matmul.ms / t.mha.ms),
    max_abs_diff: Number(maxAbsDiff(t.matmul.output, t.mha.output).toPrecision(3)),
  });
  return { unet_side_by_side: sideBySide, unet, clip: pair(clip), vae_decode: pair(vae) };
}
