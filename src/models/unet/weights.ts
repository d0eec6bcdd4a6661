import { ShapeList, type WeightShape } from '../weight-shapes.js';
/**
 * Every parameter of diffusers' UNetSpatioTemporalConditionModel, with its state-dict name and shape, derived from
 * the config alone. Used to write random tiny models and checked in tests against what save_pretrained wrote.
 */
import type { UnetConfig } from './config.js';
import { unetPlan, type ResnetPlan, type TransformerPlan } from './layout.js';

class UnetShapes extends ShapeList {
  timestepEmbedding(prefix: string, cin: number, hidden: number, cout: number): void {
    this.linear(`${prefix}.linear_1`, hidden, cin);
    this.linear(`${prefix}.linear_2`, cout, hidden);
  }
  /** SpatioTemporalResBlock: ResnetBlock2D + TemporalResnetBlock (both with a time-embedding projection) + mixer. */
  resnet(r: ResnetPlan, temb: number): void {
    const s = `${r.prefix}.spatial_res_block`;
    this.norm(`${s}.norm1`, r.inChannels);
    this.conv(`${s}.conv1`, r.outChannels, r.inChannels, [3, 3]);
    this.linear(`${s}.time_emb_proj`, r.outChannels, temb);
    this.norm(`${s}.norm2`, r.outChannels);
    this.conv(`${s}.conv2`, r.outChannels, r.outChannels, [3, 3]);
    if (r.inChannels !== r.outChannels) this.conv(`${s}.conv_shortcut`, r.outChannels, r.inChannels, [1, 1]);
    const t = `${r.prefix}.temporal_res_block`;
    this.norm(`${t}.norm1`, r.outChannels);
    this.conv(`${t}.conv1`, r.outChannels, r.outChannels, [3, 1, 1]);
    this.linear(`${t}.time_emb_proj`, r.outChannels, temb);
    this.norm(`${t}.norm2`, r.outChannels);
    this.conv(`${t}.conv2`, r.outChannels, r.outChannels, [3, 1, 1]);
    this.add(`${r.prefix}.time_mixer.mix_factor`, [1]);
  }
  /** diffusers Attention: bias-free q/k/v, biased output projection. */
  attention(prefix: string, dim: number, kvDim: number): void {
    this.linear(`${prefix}.to_q`, dim, dim, false);
    this.linear(`${prefix}.to_k`, dim, kvDim, false);
    this.linear(`${prefix}.to_v`, dim, kvDim, false);
    this.linear(`${prefix}.to_out.0`, dim, dim);
  }
  /** FeedForward with GEGLU: proj to 2 × 4·dim (value, gate), then 4·dim → dim. */
  feedForward(prefix: string, dim: number): void {
    this.linear(`${prefix}.net.0.proj`, 8 * dim, dim);
    this.linear(`${prefix}.net.2`, dim, 4 * dim);
  }
  transformer(t: TransformerPlan, crossDim: number): void {
    const c = t.channels;
    this.norm(`${t.prefix}.norm`, c);
    this.linear(`${t.prefix}.proj_in`, c, c);
    for (let l = 0; l < t.layers; l++) {
      const b = `${t.prefix}.transformer_blocks.${l}`;
      this.norm(`${b}.norm1`, c);
      this.attention(`${b}.attn1`, c, c);
      this.norm(`${b}.norm2`, c);
      this.attention(`${b}.attn2`, c, crossDim);
      this.norm(`${b}.norm3`, c);
      this.feedForward(`${b}.ff`, c);
    }
    for (let l = 0; l < t.layers; l++) {
      const b = `${t.prefix}.temporal_transformer_blocks.${l}`;
      this.norm(`${b}.norm_in`, c);
      this.feedForward(`${b}.ff_in`, c);
      this.norm(`${b}.norm1`, c);
      this.attention(`${b}.attn1`, c, c);
      this.norm(`${b}.norm2`, c);
      this.attention(`${b}.attn2`, c, crossDim);
      this.norm(`${b}.norm3`, c);
      this.feedForward(`${b}.ff`, c);
    }
    this.timestepEmbedding(`${t.prefix}.time_pos_embed`, c, 4 * c, c);
    this.add(`${t.prefix}.time_mixer.mix_factor`, [1]);
    this.linear(`${t.prefix}.proj_out`, c, c);
  }
}

export type { WeightShape };

export function unetWeightShapes(config: UnetConfig): WeightShape[] {
  const s = new UnetShapes();
  const plan = unetPlan(config);
  const ch = config.blockOutChannels;
  const temb = config.timeEmbedDim;
  const cross = config.crossAttentionDim;

  s.conv('conv_in', ch[0], config.inChannels, [3, 3]);
  s.timestepEmbedding('time_embedding', ch[0], temb, temb);
  s.timestepEmbedding('add_embedding', config.projectionClassEmbeddingsInputDim, temb, temb);
  for (const block of [...plan.down, plan.mid, ...plan.up]) {
    block.resnets.forEach((r) => s.resnet(r, temb));
    block.transformers.forEach((t) => s.transformer(t, cross));
  }
  for (const block of plan.down) if (block.downsampler) s.conv(`${block.downsampler}.conv`, block.channels, block.channels, [3, 3]);
  for (const block of plan.up) if (block.upsampler) s.conv(`${block.upsampler}.conv`, block.channels, block.channels, [3, 3]);
  s.norm('conv_norm_out', ch[0]);
  s.conv('conv_out', config.outChannels, ch[0], [3, 3]);
  return s.items;
}

/** Parameter count and float32 bytes of a config (for reports and download-size sanity checks). */
export function unetWeightTotals(config: UnetConfig): { parameters: number; float32Bytes: number } {
  let parameters = 0;
  for (const w of unetWeightShapes(config)) parameters += w.shape.reduce((a, b) => a * b, 1);
  return { parameters, float32Bytes: 4 * parameters };
}
