/**
 * 2-D convolutional blocks shared by the VAE and the UNet (diffusers' resnet.py / downsampling.py / upsampling.py).
 * `prefix` is the diffusers state-dict prefix of the module; tensors are NCHW.
 *
 * Public API (stable; the UNet builds on it):
 *   resnetBlock2d(g, x, prefix, { groups, eps, temb?, outputScaleFactor? })  ResnetBlock2D, time_embedding_norm "default"
 *       x [N, Cin, H, W] → [N, Cout, H, W]. norm1 → SiLU → conv1 (+ time_emb_proj(SiLU(temb)) per channel) → norm2 → SiLU
 *       → conv2, plus the input (through the 1×1 conv_shortcut when the weights have one), divided by outputScaleFactor.
 *       temb: [N, T] (one row per image of x). Both norms use `groups` (diffusers' groups_out defaults to groups).
 *   downsample2d(g, x, prefix, { padding? })  Downsample2D with use_conv: 3×3 conv, stride 2, weights `${prefix}.conv`.
 *       padding 1 (default; the UNet's blocks) pads all sides; padding 0 (the VAE Encoder's downsample_padding=0) pads
 *       only bottom and right by one, like diffusers' F.pad(x, (0, 1, 0, 1)).
 *   upsample2d(g, x, prefix, { sizeOf? })  Upsample2D with use_conv: nearest-neighbour ×2, then 3×3 conv (padding 1),
 *       `${prefix}.conv`. sizeOf [N', C', H', W']: resize to H'×W' instead (diffusers' upsample_size, which the UNet
 *       forwards when the latent size is not divisible by 2^(blocks−1); equal to ×2 otherwise).
 */
import type { Graph, Value } from '../../onnx/graph.js';
import { conv2d, groupNorm, linear, silu } from '../../onnx/nn.js';

export interface ResnetBlock2dOptions {
  groups: number;
  eps: number;
  /** [N, T]: the time embedding, projected by `${prefix}.time_emb_proj` and added after conv1. */
  temb?: Value;
  /** The sum is divided by this (diffusers' output_scale_factor, default 1). */
  outputScaleFactor?: number;
}

export function resnetBlock2d(g: Graph, x: Value, prefix: string, o: ResnetBlock2dOptions): Value {
  let h = groupNorm(g, x, `${prefix}.norm1`, o.groups, o.eps);
  h = conv2d(g, silu(g, h), `${prefix}.conv1`, { padding: 1 });
  if (o.temb !== undefined) {
    const t = linear(g, silu(g, o.temb), `${prefix}.time_emb_proj`); // [N, Cout]
    h = g.op('Add', [h, g.op('Unsqueeze', [t, g.constant([2, 3], [2], 'int64')])]);
  }
  h = groupNorm(g, h, `${prefix}.norm2`, o.groups, o.eps);
  h = conv2d(g, silu(g, h), `${prefix}.conv2`, { padding: 1 });
  const shortcut = g.hasWeight(`${prefix}.conv_shortcut.weight`) ? conv2d(g, x, `${prefix}.conv_shortcut`) : x;
  let out = g.op('Add', [shortcut, h]);
  const scale = o.outputScaleFactor ?? 1;
  if (scale !== 1) out = g.op('Div', [out, g.constant([scale], [1])]);
  return out;
}

export function downsample2d(g: Graph, x: Value, prefix: string, o: { padding?: number } = {}): Value {
  const padding = o.padding ?? 1;
  if (padding !== 0) return conv2d(g, x, `${prefix}.conv`, { stride: 2, padding });
  // Asymmetric padding (top, left, bottom, right) = (0, 0, 1, 1) done by the Conv itself: no padded copy.
  const w = g.weight(`${prefix}.conv.weight`);
  const b = g.hasWeight(`${prefix}.conv.bias`) ? g.weight(`${prefix}.conv.bias`) : undefined;
  const k = g.weightShape(`${prefix}.conv.weight`).slice(2);
  return g.op('Conv', [x, w, b], { kernel_shape: k, strides: [2, 2], pads: [0, 0, 1, 1] });
}

export function upsample2d(g: Graph, x: Value, prefix: string, o: { sizeOf?: Value } = {}): Value {
  // 'asymmetric' + 'floor' is exactly torch's F.interpolate(mode="nearest"): source index = floor(dst · in / out).
  const attrs = { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' };
  const up = o.sizeOf === undefined
    ? g.op('Resize', [x, undefined, g.constant([1, 1, 2, 2], [4], 'float32')], attrs)
    : g.op('Resize', [x, undefined, undefined, g.op('Concat', [
      g.op('Shape', [x], { end: 2 }), g.op('Shape', [o.sizeOf], { start: 2 }),
    ], { axis: 0 })], attrs);
  return conv2d(g, up, `${prefix}.conv`, { padding: 1 });
}
