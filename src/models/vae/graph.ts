/**
 * ONNX graphs of diffusers' AutoencoderKLTemporalDecoder, one per direction.
 *
 * Encoder graph: input `frames` float32 [N, inChannels, H, W] in [-1, 1]; outputs `mean` (= the mode of the latent
 * distribution, NOT multiplied by the scaling factor) and `logvar` (clamped to [−30, 20] like diffusers), both
 * float32 [N, latentChannels, ⌈H/downscale⌉, ⌈W/downscale⌉]. Each frame is encoded on its own (the encoder is 2-D).
 *
 * Decoder graph: inputs `latents` float32 [N, latentChannels, h, w] and `num_frames` int64 [1] with N = B·num_frames
 * (clips of consecutive frames); output `frames` float32 [N, outChannels, h·downscale, w·downscale].
 * Like AutoencoderKLTemporalDecoder.decode: no post_quant_conv (the class has none), image_only_indicator all zeros
 * (which the 'learned' mixers ignore), then time_conv_out mixes neighbouring frames of each clip.
 *
 * Inputs and outputs are float32 whatever the compute type; a float16 graph casts at both ends.
 */
import { Graph, type Value } from '../../onnx/graph.js';
import { conv2d, conv3d, dim, groupNorm, reshape, silu, type AttentionOptions } from '../../onnx/nn.js';
import type { WeightStore } from '../../safetensors/read.js';
import { spatialSelfAttention } from '../blocks/attention2d.js';
import { downsample2d, resnetBlock2d, upsample2d } from '../blocks/resnet.js';
import { spatioTemporalResBlock } from '../blocks/spatiotemporal.js';
import { VAE_NORM_GROUPS, type VaeConfig } from './config.js';

/** Epsilons diffusers hard-codes for this class. */
const EPS = 1e-6;
const TEMPORAL_EPS = 1e-5;

export interface VaeGraphOptions {
  computeType?: 'float32' | 'float16';
  /** The mid blocks' single-head attention over H·W/64 positions: the fused 'mha' contrib op (default, via nn.ts) or 'matmul'. */
  attention?: AttentionOptions['impl'];
}

function toCompute(g: Graph, x: Value): Value {
  return g.computeType === 'float32' ? x : g.op('Cast', [x], { to: 10 /* FLOAT16 */ });
}

function toFloat32(g: Graph, x: Value): Value {
  return g.computeType === 'float32' ? x : g.op('Cast', [x], { to: 1 /* FLOAT */ });
}

export function buildVaeEncoderGraph(config: VaeConfig, weights: WeightStore, opts: VaeGraphOptions = {}): Graph {
  const g = new Graph({ name: 'vae_encoder', weights, computeType: opts.computeType });
  const ch = config.blockOutChannels;
  const res = { groups: VAE_NORM_GROUPS, eps: EPS };
  const frames = g.input('frames', 'float32', ['N', config.inChannels, 'H', 'W']);

  let h = conv2d(g, toCompute(g, frames), 'encoder.conv_in', { padding: 1 });
  ch.forEach((_, i) => {
    for (let j = 0; j < config.layersPerBlock; j++) h = resnetBlock2d(g, h, `encoder.down_blocks.${i}.resnets.${j}`, res);
    if (i < ch.length - 1) h = downsample2d(g, h, `encoder.down_blocks.${i}.downsamplers.0`, { padding: 0 });
  });
  h = resnetBlock2d(g, h, 'encoder.mid_block.resnets.0', res);
  h = spatialSelfAttention(g, h, 'encoder.mid_block.attentions.0', { ...res, impl: opts.attention });
  h = resnetBlock2d(g, h, 'encoder.mid_block.resnets.1', res);
  h = silu(g, groupNorm(g, h, 'encoder.conv_norm_out', VAE_NORM_GROUPS, EPS));
  h = conv2d(g, h, 'encoder.conv_out', { padding: 1 });
  const moments = conv2d(g, h, 'quant_conv');

  const L = config.latentChannels;
  const [mean, logvar] = g.opMulti('Split', [moments, g.constant([L, L], [2], 'int64')], 2, { axis: 1 });
  const clamped = g.op('Clip', [logvar, g.constant([-30], []), g.constant([20], [])]);
  const outShape = ['N', L, 'h', 'w'];
  g.output(toFloat32(g, mean), 'mean', 'float32', outShape);
  g.output(toFloat32(g, clamped), 'logvar', 'float32', outShape);
  return g;
}

export function buildVaeDecoderGraph(config: VaeConfig, weights: WeightStore, opts: VaeGraphOptions = {}): Graph {
  const g = new Graph({ name: 'vae_decoder', weights, computeType: opts.computeType });
  const ch = config.blockOutChannels;
  const latents = g.input('latents', 'float32', ['N', config.latentChannels, 'h', 'w']);
  const numFrames = g.input('num_frames', 'int64', [1]);
  const st = {
    numFrames, groups: VAE_NORM_GROUPS, eps: EPS, temporalEps: TEMPORAL_EPS,
    strategy: 'learned' as const, switchSpatialToTemporalMix: true,
  };

  let h = conv2d(g, toCompute(g, latents), 'decoder.conv_in', { padding: 1 });
  // MidBlockTemporalDecoder runs resnets[0], then zips resnets[1:] with its single attention: with more than two
  // layers the later resnets exist in the weights but never run.
  h = spatioTemporalResBlock(g, h, 'decoder.mid_block.resnets.0', st);
  if (config.layersPerBlock > 1) {
    h = spatialSelfAttention(g, h, 'decoder.mid_block.attentions.0', { groups: VAE_NORM_GROUPS, eps: EPS, impl: opts.attention });
    h = spatioTemporalResBlock(g, h, 'decoder.mid_block.resnets.1', st);
  }
  ch.forEach((_, i) => {
    for (let j = 0; j < config.layersPerBlock + 1; j++) h = spatioTemporalResBlock(g, h, `decoder.up_blocks.${i}.resnets.${j}`, st);
    if (i < ch.length - 1) h = upsample2d(g, h, `decoder.up_blocks.${i}.upsamplers.0`);
  });
  h = silu(g, groupNorm(g, h, 'decoder.conv_norm_out', VAE_NORM_GROUPS, EPS));
  h = conv2d(g, h, 'decoder.conv_out', { padding: 1 });

  // time_conv_out: Conv3d (3, 1, 1) over the frames of each clip, [B·F, C, H, W] ↔ [B, C, F, H, W].
  const C = config.outChannels;
  const height = dim(g, h, 2);
  const width = dim(g, h, 3);
  const clip = g.op('Transpose', [reshape(g, h, [-1, numFrames, C, height, width])], { perm: [0, 2, 1, 3, 4] });
  const mixed = conv3d(g, clip, 'decoder.time_conv_out', { padding: [1, 0, 0] });
  const out = reshape(g, g.op('Transpose', [mixed], { perm: [0, 2, 1, 3, 4] }), [-1, C, height, width]);
  g.output(toFloat32(g, out), 'frames', 'float32', ['N', C, 'H', 'W']);
  return g;
}
