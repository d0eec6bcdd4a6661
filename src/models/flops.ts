/**
 * Floating-point operations of one forward of each network, counted from its config the way torch's FlopCounterMode
 * counts (2 per multiply-add of every convolution, linear layer and attention matmul; norms, activations and
 * element-wise ops are not counted). Every weight matrix or kernel is applied at a known number of positions:
 * 2 · (its element count) · positions, read from its name (resolution level, spatial or temporal tokens); attention
 * adds QKᵀ and AV, 4 · rows · L · S · channels. Checked against FlopCounterMode on diffusers' and transformers' classes
 * (tests/models/flops.test.ts, tests/oracle/flops.py), tiny and real configs.
 */
import type { ClipVisionConfig } from './clip/config.js';
import { clipWeightShapes } from './clip/weights.js';
import type { UnetConfig } from './unet/config.js';
import { unetWeightShapes } from './unet/weights.js';
import type { VaeConfig } from './vae/config.js';
import { vaeWeightShapes } from './vae/weights.js';

const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const halve = (x: number, times: number) => {
  for (let i = 0; i < times; i++) x = Math.ceil(x / 2);
  return x;
};

/** One UNet forward: `batch` samples of `frames` frames of h×w latents (a guided step is batch 2). */
export function unetFlops(config: UnetConfig, s: { batch: number; frames: number; height: number; width: number }): number {
  const n = config.blockOutChannels.length;
  const BF = s.batch * s.frames;
  const tokensAt = (level: number) => halve(s.height, level) * halve(s.width, level);
  /** Resolution level of a weight: down block i at i, mid at n−1, up block i at n−1−i; resamplers at their output. */
  const level = (name: string): number => {
    let m = /^down_blocks\.(\d+)\.downsamplers/.exec(name);
    if (m) return Number(m[1]) + 1;
    if ((m = /^down_blocks\.(\d+)\./.exec(name))) return Number(m[1]);
    if ((m = /^up_blocks\.(\d+)\.upsamplers/.exec(name))) return n - 2 - Number(m[1]);
    if ((m = /^up_blocks\.(\d+)\./.exec(name))) return n - 1 - Number(m[1]);
    if (name.startsWith('mid_block.')) return n - 1;
    return 0;
  };
  let total = 0;
  for (const { name, shape } of unetWeightShapes(config)) {
    if (!name.endsWith('.weight') || shape.length < 2) continue;
    const L = tokensAt(level(name));
    const w = numel(shape);
    let rows: number;
    if (shape.length >= 4) rows = BF * L; // Conv2d (per output position) and the temporal Conv3d (3, 1, 1)
    else if (/^(time_embedding|add_embedding)\./.test(name)) rows = s.batch;
    else if (/time_emb_proj|time_pos_embed/.test(name)) rows = BF;
    else if (/^(?:.*\.)?transformer_blocks\.\d+\.attn2\.to_[kv]\./.test(name) && !name.includes('temporal_')) rows = BF;
    else if (/temporal_transformer_blocks\.\d+\.attn2\.to_[kv]\./.test(name)) rows = s.batch * L;
    else rows = BF * L;
    total += 2 * w * rows;
    // Attention matmuls, once per attention (counted at its query projection): channels = heads · head dim.
    const attn = /(temporal_)?transformer_blocks\.\d+\.attn([12])\.to_q\.weight$/.exec(name);
    if (attn) {
      const C = shape[0];
      const temporal = attn[1] !== undefined;
      const cross = attn[2] === '2';
      total += temporal
        ? 4 * s.batch * L * s.frames * (cross ? 1 : s.frames) * C
        : 4 * BF * L * (cross ? 1 : L) * C;
    }
  }
  return total;
}

/** VAE encode of `frames` frames of H×W pixels (the encoder is per frame). */
export function vaeEncodeFlops(config: VaeConfig, s: { frames: number; height: number; width: number }): number {
  const n = config.blockOutChannels.length;
  const at = (lvl: number) => halve(s.height, lvl) * halve(s.width, lvl);
  let total = 0;
  for (const { name, shape } of vaeWeightShapes(config)) {
    if (!(name.startsWith('encoder.') || name.startsWith('quant_conv.')) || !name.endsWith('.weight') || shape.length < 2) continue;
    const m = /^encoder\.down_blocks\.(\d+)\.(downsamplers)?/.exec(name);
    const lvl = m ? Number(m[1]) + (m[2] ? 1 : 0) : name.startsWith('encoder.conv_in') ? 0 : n - 1;
    const L = at(lvl);
    total += 2 * numel(shape) * s.frames * L;
    if (/attentions\.\d+\.to_q\.weight$/.test(name)) total += 4 * s.frames * L * L * shape[0];
  }
  return total;
}

/** VAE decode of `frames` frames of h×w latents (any split into clips: the temporal convs keep the frame count). */
export function vaeDecodeFlops(config: VaeConfig, s: { frames: number; height: number; width: number }): number {
  const n = config.blockOutChannels.length;
  const at = (lvl: number) => s.height * 2 ** lvl * s.width * 2 ** lvl;
  let total = 0;
  for (const { name, shape } of vaeWeightShapes(config)) {
    if (!name.startsWith('decoder.') || !name.endsWith('.weight') || shape.length < 2) continue;
    // MidBlockTemporalDecoder runs resnets 0 and 1 and its attention only (src/models/vae/graph.ts).
    const mid = /^decoder\.mid_block\.(resnets|attentions)\.(\d+)\./.exec(name);
    if (mid && (Number(mid[2]) > (mid[1] === 'resnets' ? 1 : 0) || (config.layersPerBlock <= 1 && (mid[1] === 'attentions' || mid[2] === '1')))) continue;
    const m = /^decoder\.up_blocks\.(\d+)\.(upsamplers)?/.exec(name);
    const lvl = m ? Number(m[1]) + (m[2] ? 1 : 0) : /^decoder\.(conv_out|time_conv_out)/.test(name) ? n - 1 : 0;
    const L = at(lvl);
    total += 2 * numel(shape) * s.frames * L;
    if (/attentions\.\d+\.to_q\.weight$/.test(name)) total += 4 * s.frames * L * L * shape[0];
  }
  return total;
}

/** CLIP image embedding of `images` images (always at the config's image size). */
export function clipFlops(config: ClipVisionConfig, images = 1): number {
  const patches = Math.floor(config.imageSize / config.patchSize) ** 2;
  const L = patches + 1;
  let total = 0;
  for (const { name, shape } of clipWeightShapes(config)) {
    if (!name.endsWith('.weight') || shape.length < 2 || /embedding\.weight$/.test(name) && shape.length === 2) continue;
    const rows = name.includes('patch_embedding') ? patches : name.startsWith('visual_projection') ? 1 : L;
    total += 2 * numel(shape) * images * rows;
    if (/self_attn\.q_proj\.weight$/.test(name)) total += 4 * images * L * L * shape[0];
  }
  return total;
}
