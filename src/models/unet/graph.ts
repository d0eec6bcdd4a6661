/**
 * diffusers' UNetSpatioTemporalConditionModel as an ONNX graph.
 *
 * Inputs (float32 whatever the compute type; batch, frames, height, width and sequence are dynamic):
 *   sample                 [B, F, in_channels, H, W]
 *   timestep               [] one scalar, shared by the batch (SVD: c_noise = 0.25·ln σ)
 *   encoder_hidden_states  [B, S, cross_attention_dim] (SVD: S = 1, the CLIP image embedding)
 *   added_time_ids         [B, numTimeIds] (SVD: fps − 1, motion bucket id, noise augmentation strength)
 * Output: model_output [B, F, out_channels, H, W], float32.
 * H and W need not be divisible by 2^(blocks−1): like diffusers, each upsampler resizes to its skip connection's size.
 */
import { Graph, type Value } from '../../onnx/graph.js';
import { conv2d, dim, groupNorm, reshape, silu, type AttentionOptions } from '../../onnx/nn.js';
import type { WeightStore } from '../../safetensors/read.js';
import { downsample2d, upsample2d } from '../blocks/resnet.js';
import { spatioTemporalResBlock } from '../blocks/spatiotemporal.js';
import { UNET_NORM_GROUPS, type UnetConfig } from './config.js';
import { sinusoidalEmbedding, timestepEmbedding, toCompute } from './embeddings.js';
import { unetPlan, type ResnetPlan } from './layout.js';
import { transformerSpatioTemporal, type TransformerContext } from './transformer.js';

export const UNET_OUTPUT = 'model_output';

export interface UnetGraphOptions {
  computeType?: 'float32' | 'float16';
  /** nn.attention's implementation: 'mha' (com.microsoft fused kernel; nn.ts's default) or 'matmul' (plain ops). */
  attention?: AttentionOptions['impl'];
  name?: string;
}

const OUT_NORM_EPS = 1e-5;

export function buildUnetGraph(config: UnetConfig, weights: WeightStore, opts: UnetGraphOptions = {}): Graph {
  const g = new Graph({ name: opts.name ?? 'unet_spatio_temporal', weights, computeType: opts.computeType });
  const plan = unetPlan(config);
  const ch = config.blockOutChannels;

  const sampleIn = g.input('sample', 'float32', ['batch', 'frames', config.inChannels, 'height', 'width']);
  const timestep = g.input('timestep', 'float32', []);
  const ehsIn = g.input('encoder_hidden_states', 'float32', ['batch', 'sequence', config.crossAttentionDim]);
  const timeIds = g.input('added_time_ids', 'float32', ['batch', config.numTimeIds]);

  const frames = dim(g, sampleIn, 1);
  const height = dim(g, sampleIn, 3);
  const width = dim(g, sampleIn, 4);

  // Time embedding [B, T]: time_embedding(time_proj(t)) broadcast over the batch, + add_embedding of the time ids'
  // sinusoids side by side ([B, ids, dim] → [B, ids·dim], diffusers' flatten/reshape order).
  const tEmb = timestepEmbedding(g, toCompute(g, sinusoidalEmbedding(g, timestep, ch[0], 0)), 'time_embedding'); // [T]
  const idsEmb = sinusoidalEmbedding(g, timeIds, config.additionTimeEmbedDim, 0); // [B, ids, dim]
  const aug = timestepEmbedding(g, toCompute(g, reshape(g, idsEmb, [0, config.projectionClassEmbeddingsInputDim])),
    'add_embedding'); // [B, T]
  const emb = g.op('Add', [aug, tEmb]);
  // repeat_interleave over frames: row b·F + f is sample b's embedding.
  const embPerFrame = reshape(g, g.op('Expand', [
    g.op('Unsqueeze', [emb, g.constant([1], [1], 'int64')]),
    g.op('Concat', [g.constant([1], [1], 'int64'), frames, g.constant([1], [1], 'int64')], { axis: 0 }),
  ]), [-1, config.timeEmbedDim]); // [B·F, T]

  const ctx: TransformerContext = {
    numFrames: frames,
    encoderHiddenStates: toCompute(g, ehsIn),
    attention: opts.attention ? { impl: opts.attention } : undefined,
  };
  const resnet = (x: Value, r: ResnetPlan): Value => spatioTemporalResBlock(g, x, r.prefix, {
    numFrames: frames,
    temb: embPerFrame,
    groups: UNET_NORM_GROUPS,
    eps: r.eps,
    temporalEps: r.eps,
    // image_only_indicator is all zeros in this UNet: "learned_with_images" is sigmoid(mix_factor) everywhere.
    strategy: 'learned',
  });

  let h = reshape(g, toCompute(g, sampleIn), [-1, config.inChannels, height, width]); // [B·F, Cin, H, W]
  h = conv2d(g, h, 'conv_in', { padding: 1 });
  const skips: Value[] = [h];

  for (const block of plan.down) {
    block.resnets.forEach((r, j) => {
      h = resnet(h, r);
      const t = block.transformers[j];
      if (t) h = transformerSpatioTemporal(g, h, t, ctx);
      skips.push(h);
    });
    if (block.downsampler) {
      h = downsample2d(g, h, block.downsampler, { padding: 1 });
      skips.push(h);
    }
  }

  h = resnet(h, plan.mid.resnets[0]);
  plan.mid.transformers.forEach((t, j) => {
    h = transformerSpatioTemporal(g, h, t, ctx);
    h = resnet(h, plan.mid.resnets[j + 1]);
  });

  plan.up.forEach((block, i) => {
    block.resnets.forEach((r, j) => {
      const skip = skips.pop();
      if (!skip) throw new Error(`unet graph: up block ${i} ran out of skip connections`);
      h = resnet(g.op('Concat', [h, skip], { axis: 1 }), r);
      const t = block.transformers[j];
      if (t) h = transformerSpatioTemporal(g, h, t, ctx);
    });
    if (block.upsampler) h = upsample2d(g, h, block.upsampler, { sizeOf: skips[skips.length - 1] });
  });

  h = conv2d(g, silu(g, groupNorm(g, h, 'conv_norm_out', UNET_NORM_GROUPS, OUT_NORM_EPS)), 'conv_out', { padding: 1 });
  let out = reshape(g, h, [-1, frames, config.outChannels, height, width]);
  if (g.computeType !== 'float32') out = g.op('Cast', [out], { to: 1 /* FLOAT */ });
  g.output(out, UNET_OUTPUT, 'float32', ['batch', 'frames', config.outChannels, 'height', 'width']);
  return g;
}
