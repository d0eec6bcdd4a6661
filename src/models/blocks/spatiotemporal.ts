/**
 * Video blocks shared by the VAE's TemporalDecoder and the UNet (diffusers' resnet.py: TemporalResnetBlock,
 * SpatioTemporalResBlock, AlphaBlender). Frames of a clip are consecutive along the batch axis: [B·F, C, H, W].
 *
 * Public API (stable; the UNet builds on it):
 *   temporalResnetBlock(g, x, prefix, { groups, eps, temb? })
 *       x [B, C, F, H, W] → same. Like ResnetBlock2D but with Conv3d kernels (3, 1, 1), padding (1, 0, 0): it mixes
 *       neighbouring frames only. temb: [B, F, T]; time_emb_proj(SiLU(temb)) is added per frame and channel.
 *   alphaBlend(g, spatial, temporal, prefix, { strategy, imageOnlyIndicator?, switchSpatialToTemporalMix, layout? })
 *       AlphaBlender: alpha = sigmoid(`${prefix}.mix_factor`) ('learned'), or 1 where imageOnlyIndicator [B, F] is
 *       nonzero and that elsewhere ('learned_with_images'); with switchSpatialToTemporalMix alpha becomes 1 − alpha.
 *       Returns alpha·spatial + (1 − alpha)·temporal. layout 'bcfhw' (default): inputs [B, C, F, H, W];
 *       'tokens': inputs [B·F, L, C] (the UNet's transformer blocks).
 *   spatioTemporalResBlock(g, x, prefix, { numFrames, temb?, groups, eps, temporalEps, strategy, imageOnlyIndicator?,
 *       switchSpatialToTemporalMix? })
 *       x [B·F, Cin, H, W] → [B·F, Cout, H, W]: spatial_res_block (ResnetBlock2D with temb [B·F, T]), then
 *       temporal_res_block on the [B, C, F, H, W] view (temporalEps), blended by time_mixer (spatial = the 2-D result).
 *       numFrames: int64 [1], F, known only at run time. The UNet: temb, eps 1e-5, 'learned_with_images';
 *       the VAE decoder: no temb, eps 1e-6, temporalEps 1e-5, 'learned', switchSpatialToTemporalMix true.
 */
import type { Graph, Value } from '../../onnx/graph.js';
import { conv3d, dim, groupNorm, linear, reshape, silu } from '../../onnx/nn.js';
import { resnetBlock2d } from './resnet.js';

export type MergeStrategy = 'learned' | 'learned_with_images';

export interface TemporalResnetOptions {
  groups: number;
  eps: number;
  /** [B, F, T]. */
  temb?: Value;
}

export function temporalResnetBlock(g: Graph, x: Value, prefix: string, o: TemporalResnetOptions): Value {
  const pad = { padding: [1, 0, 0] as [number, number, number] };
  let h = groupNorm(g, x, `${prefix}.norm1`, o.groups, o.eps);
  h = conv3d(g, silu(g, h), `${prefix}.conv1`, pad);
  if (o.temb !== undefined) {
    const t = linear(g, silu(g, o.temb), `${prefix}.time_emb_proj`); // [B, F, C]
    const tc = g.op('Transpose', [t], { perm: [0, 2, 1] }); // [B, C, F]
    h = g.op('Add', [h, g.op('Unsqueeze', [tc, g.constant([3, 4], [2], 'int64')])]);
  }
  h = groupNorm(g, h, `${prefix}.norm2`, o.groups, o.eps);
  h = conv3d(g, silu(g, h), `${prefix}.conv2`, pad);
  const shortcut = g.hasWeight(`${prefix}.conv_shortcut.weight`)
    ? conv3d(g, x, `${prefix}.conv_shortcut`, { padding: [0, 0, 0] })
    : x;
  return g.op('Add', [shortcut, h]);
}

export interface AlphaBlendOptions {
  strategy: MergeStrategy;
  /** [B, F], nonzero for image-only samples; required by 'learned_with_images'. Float (compute type) or bool. */
  imageOnlyIndicator?: Value;
  switchSpatialToTemporalMix: boolean;
  /** 'bcfhw' (default): [B, C, F, H, W]; 'tokens': [B·F, L, C]. */
  layout?: 'bcfhw' | 'tokens';
}

export function alphaBlend(g: Graph, spatial: Value, temporal: Value, prefix: string, o: AlphaBlendOptions): Value {
  let alpha = g.op('Sigmoid', [g.weight(`${prefix}.mix_factor`, [1])]); // [1]
  if (o.strategy === 'learned_with_images') {
    if (o.imageOnlyIndicator === undefined) throw new Error(`${prefix}: 'learned_with_images' needs imageOnlyIndicator`);
    const isImage = g.op('Cast', [o.imageOnlyIndicator], { to: 9 /* BOOL */ });
    alpha = g.op('Where', [isImage, g.constant([1], [1]), alpha]); // [B, F]
    alpha = (o.layout ?? 'bcfhw') === 'bcfhw'
      ? g.op('Unsqueeze', [alpha, g.constant([1, 3, 4], [3], 'int64')]) // [B, 1, F, 1, 1]
      : reshape(g, alpha, [-1, 1, 1]); // [B·F, 1, 1]
  }
  const one = g.constant([1], [1]);
  if (o.switchSpatialToTemporalMix) alpha = g.op('Sub', [one, alpha]);
  return g.op('Add', [g.op('Mul', [alpha, spatial]), g.op('Mul', [g.op('Sub', [one, alpha]), temporal])]);
}

export interface SpatioTemporalResBlockOptions {
  /** int64 [1]: frames per clip (F). */
  numFrames: Value;
  /** [B·F, T]. */
  temb?: Value;
  groups: number;
  eps: number;
  temporalEps: number;
  strategy: MergeStrategy;
  imageOnlyIndicator?: Value;
  /** Default false (the UNet); the VAE decoder sets it. */
  switchSpatialToTemporalMix?: boolean;
}

export function spatioTemporalResBlock(g: Graph, x: Value, prefix: string, o: SpatioTemporalResBlockOptions): Value {
  const s = resnetBlock2d(g, x, `${prefix}.spatial_res_block`, { groups: o.groups, eps: o.eps, temb: o.temb });
  const channels = g.weightShape(`${prefix}.spatial_res_block.conv2.weight`)[0];
  const height = dim(g, s, 2);
  const width = dim(g, s, 3);
  // [B·F, C, H, W] → [B, F, C, H, W] → [B, C, F, H, W]
  const s5 = g.op('Transpose', [reshape(g, s, [-1, o.numFrames, channels, height, width])], { perm: [0, 2, 1, 3, 4] });
  let temb: Value | undefined;
  if (o.temb !== undefined) {
    const tembDim = g.weightShape(`${prefix}.temporal_res_block.time_emb_proj.weight`)[1];
    temb = reshape(g, o.temb, [-1, o.numFrames, tembDim]);
  }
  const t5 = temporalResnetBlock(g, s5, `${prefix}.temporal_res_block`, { groups: o.groups, eps: o.temporalEps, temb });
  const mixed = alphaBlend(g, s5, t5, `${prefix}.time_mixer`, {
    strategy: o.strategy,
    imageOnlyIndicator: o.imageOnlyIndicator,
    switchSpatialToTemporalMix: o.switchSpatialToTemporalMix ?? false,
  });
  return reshape(g, g.op('Transpose', [mixed], { perm: [0, 2, 1, 3, 4] }), [-1, channels, height, width]);
}
